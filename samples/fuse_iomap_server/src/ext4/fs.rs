// SPDX-License-Identifier: GPL-2.0

//! The opened file system: `ext2fs_open2` and `ext2fs_close_free` around
//! the handle, what the superblock says, `STATFS`, and the notes of what
//! the image got wrong.

use super::dir::Listing;
use super::extents::FileMap;
use super::{errno, message, sys};
use crate::diskfs::{Statfs, BLOCK};
use nix::errno::Errno;
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::ptr::NonNull;

/// How the file system is opened.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Read and write (`--rw`): see [`super::write`].
    pub rw: bool,
}

/// The most files whose maps are kept; past it, all are dropped.
const KEPT_MAPS: usize = 1024;

/// An ext2/3/4 file system, opened by libext2fs.
///
/// # Invariants
///
/// `raw` is a file system that `ext2fs_open2` opened and nothing else
/// closes: only `Drop` does.
pub struct Fs {
    raw: NonNull<sys::struct_ext2_filsys>,
    pub(super) options: Options,
    /// The superblock said the file system was clean at mount: with
    /// `--rw`, it says so again when the server ends (and not before).
    was_clean: bool,
    /// The device's blocks (`ext2fs_blocks_count`).
    pub(super) blocks: u64,
    pub(super) first_data_block: u64,
    pub(super) inodes: u32,
    /// The first inode a file may have (`s_first_ino`).
    pub(super) first_ino: u32,
    /// The maps of the files asked about, by inode.
    pub(super) maps: HashMap<u32, FileMap>,
    /// The directory listed last.
    pub(super) listing: Option<Listing>,
    notes: RefCell<Vec<String>>,
}

// SAFETY: libext2fs keeps the state of a file system in its handle, and no
// state of a thread: the handle may move to another thread, which then is
// the only one to use it (`Fs` is not `Sync`).
unsafe impl Send for Fs {}

impl Fs {
    /// Opens the file system on `path` (an image or a block device); the
    /// reason, if it cannot be served.
    pub fn load(path: &Path, options: Options) -> Result<Self, String> {
        let name = CString::new(path.as_os_str().as_bytes()).map_err(|e| e.to_string())?;
        if options.rw {
            refuse_mounted(&name)?;
        }
        let mut flags = sys::EXT2_FLAG_64BITS as i32;
        if options.rw {
            flags |= sys::EXT2_FLAG_RW as i32;
        }
        let mut raw: sys::ext2_filsys = std::ptr::null_mut();
        // SAFETY: `name` is NUL-terminated; `unix_io_manager` is the
        // library's own, never written; `raw` receives the handle.
        let code = unsafe {
            sys::ext2fs_open2(
                name.as_ptr(),
                std::ptr::null(),
                flags,
                0,
                0,
                sys::unix_io_manager,
                &mut raw,
            )
        };
        if code != 0 {
            return Err(format!("not an ext2/3/4 file system: {}", message(code)));
        }
        let raw = NonNull::new(raw).ok_or("ext2fs_open2 returned no file system")?;
        // INVARIANT: `raw` was just opened, and is closed by `Drop` only.
        let mut fs = Self {
            raw,
            options,
            was_clean: false,
            blocks: 0,
            first_data_block: 0,
            inodes: 0,
            first_ino: 0,
            maps: HashMap::new(),
            listing: None,
            notes: RefCell::new(Vec::new()),
        };
        fs.check(device_bytes(path)?)?;
        if options.rw {
            fs.mark_mounted()?;
        }
        Ok(fs)
    }

    /// The handle, for libext2fs.
    pub(super) fn raw(&self) -> sys::ext2_filsys {
        self.raw.as_ptr()
    }

    /// The superblock, as libext2fs read it (and keeps it).
    pub(super) fn sb(&self) -> &sys::ext2_super_block {
        // SAFETY: By the invariant, `raw` is an open file system, whose
        // `super` libext2fs allocated at open and frees at close.
        unsafe { &*self.raw.as_ref().super_ }
    }

    fn sb_mut(&mut self) -> &mut sys::ext2_super_block {
        // SAFETY: As in `sb`; `&mut self` holds the only reference.
        unsafe { &mut *self.raw.as_ref().super_ }
    }

    /// Marks the superblock (and with it the group descriptors) to be
    /// written, as `ext2fs_mark_super_dirty` does.
    pub(super) fn mark_dirty(&mut self) {
        // SAFETY: By the invariant; `&mut self` holds the only reference.
        unsafe {
            self.raw.as_mut().flags |= (sys::EXT2_FLAG_DIRTY | sys::EXT2_FLAG_CHANGED) as i32
        };
    }

    /// What the server cannot serve: another block size than the mount's,
    /// more blocks than the device's `bytes` hold, a journal that needs
    /// recovery, a root that is no directory; and with `--rw`, a file
    /// system with errors or with bigalloc.
    fn check(&mut self, bytes: u64) -> Result<(), String> {
        // SAFETY: By the invariant, `raw` is an open file system.
        let blocksize = unsafe { self.raw.as_ref().blocksize };
        if u64::from(blocksize) != BLOCK {
            return Err(format!(
                "block size {blocksize}: the mount's blocks are {BLOCK} bytes (mkfs.ext4 -b {BLOCK})"
            ));
        }
        let sb = self.sb();
        if sb.s_feature_incompat & sys::EXT3_FEATURE_INCOMPAT_RECOVER != 0 {
            return Err("the journal needs recovery: run e2fsck first".into());
        }
        let state = u32::from(sb.s_state);
        if self.options.rw && state & sys::EXT2_ERROR_FS != 0 {
            return Err("the file system has errors: run e2fsck first".into());
        }
        if self.options.rw && sb.s_feature_ro_compat & sys::EXT4_FEATURE_RO_COMPAT_BIGALLOC != 0 {
            return Err("bigalloc is served read-only only".into());
        }
        // `EXT2_FIRST_INO`: revision 0 has no `s_first_ino`, and 11.
        let first_ino = if sb.s_rev_level == 0 {
            11
        } else {
            sb.s_first_ino
        };
        let (inodes, first_data_block) = (sb.s_inodes_count, sb.s_first_data_block);
        self.was_clean = state & sys::EXT2_VALID_FS != 0;
        // SAFETY: `super_` is the open file system's superblock.
        self.blocks = unsafe { sys::ext2fs_blocks_count(self.raw.as_ref().super_) };
        self.first_data_block = u64::from(first_data_block);
        self.inodes = inodes;
        self.first_ino = first_ino;
        if self.blocks > bytes / BLOCK {
            return Err(format!(
                "{} blocks, on a device of {} (a corrupt superblock?)",
                self.blocks,
                bytes / BLOCK
            ));
        }
        let root = self
            .inode(super::ROOT_INO)
            .map_err(|e| format!("the root inode: {e}"))?;
        if !root.is_dir() {
            return Err("the root inode is not a directory".into());
        }
        if self.options.rw {
            // SAFETY: By the invariant, `raw` is an open file system.
            let code = unsafe { sys::ext2fs_read_bitmaps(self.raw()) };
            if code != 0 {
                return Err(format!("reading the bitmaps: {}", message(code)));
            }
        }
        Ok(())
    }

    /// With `--rw`: the superblock says "not clean" while the server
    /// writes, so that a server that dies leaves a file system e2fsck
    /// checks.
    fn mark_mounted(&mut self) -> Result<(), String> {
        self.sb_mut().s_state &= !(sys::EXT2_VALID_FS as u16);
        self.mark_dirty();
        self.flush()
            .map_err(|e| format!("marking the file system in use: {e}"))
    }

    /// Writes what libext2fs holds: bitmaps, superblock and group
    /// descriptors (inodes and extent blocks are written as they change).
    pub fn flush(&mut self) -> Result<(), Errno> {
        if !self.options.rw {
            return Ok(());
        }
        // SAFETY: By the invariant, `raw` is an open file system, whose
        // bitmaps `check` read.
        let code = unsafe { sys::ext2fs_write_bitmaps(self.raw()) };
        if code != 0 {
            self.note(format!("writing the bitmaps: {}", message(code)));
            return Err(errno(code));
        }
        // SAFETY: As above.
        let code = unsafe { sys::ext2fs_flush(self.raw()) };
        if code != 0 {
            self.note(format!("writing the superblock: {}", message(code)));
            return Err(errno(code));
        }
        Ok(())
    }

    /// The server ends: with `--rw`, the superblock says clean again (if
    /// it did at mount), and everything is written.
    pub fn unmount(&mut self) -> Result<(), Errno> {
        if !self.options.rw {
            return Ok(());
        }
        if self.was_clean {
            self.sb_mut().s_state |= sys::EXT2_VALID_FS as u16;
        }
        self.mark_dirty();
        self.flush()
    }

    /// `STATFS`.
    pub fn statfs(&self) -> Statfs {
        let sb = self.sb();
        // SAFETY: `super_` is the open file system's superblock.
        let bfree = unsafe { sys::ext2fs_free_blocks_count(self.raw.as_ref().super_) };
        let ffree = u64::from(sb.s_free_inodes_count);
        Statfs {
            blocks: self.blocks - self.first_data_block,
            bfree,
            files: u64::from(sb.s_inodes_count).saturating_sub(ffree),
            ffree,
        }
    }

    /// Notes what the image got wrong, for the log.
    pub(super) fn note(&self, what: String) {
        self.notes.borrow_mut().push(what);
    }

    /// The notes since the last call.
    pub fn take_notes(&mut self) -> Vec<String> {
        std::mem::take(self.notes.get_mut())
    }

    /// Keeps `map`, the map of inode `ino`.
    pub(super) fn keep(&mut self, ino: u32, map: FileMap) {
        if self.maps.len() >= KEPT_MAPS {
            self.maps.clear();
        }
        self.maps.insert(ino, map);
    }
}

/// The size of the device or image at `path`.
fn device_bytes(path: &Path) -> Result<u64, String> {
    let mut file = File::open(path).map_err(|e| e.to_string())?;
    file.seek(SeekFrom::End(0)).map_err(|e| e.to_string())
}

/// Refuses a device or image that is mounted (as `--rw` would write under
/// the kernel's ext4).
fn refuse_mounted(name: &CString) -> Result<(), String> {
    let mut flags = 0;
    // SAFETY: `name` is NUL-terminated; `flags` receives the answer.
    let code = unsafe { sys::ext2fs_check_if_mounted(name.as_ptr(), &mut flags) };
    if code != 0 {
        return Err(format!("is it mounted? {}", message(code)));
    }
    if flags as u32 & sys::EXT2_MF_MOUNTED != 0 {
        return Err("mounted: unmount it first".into());
    }
    Ok(())
}

impl Drop for Fs {
    fn drop(&mut self) {
        let mut raw = self.raw.as_ptr();
        // SAFETY: By the invariant, `raw` is open and this is its only
        // close; nothing uses it after. A failure to write is reported by
        // `flush`, which `unmount` called before.
        unsafe { sys::ext2fs_close_free(&mut raw) };
    }
}
