// SPDX-License-Identifier: GPL-2.0

//! Directories: `LOOKUP` through `ext2fs_lookup`, `READDIR` from a listing
//! made with `ext2fs_dir_iterate2` and kept for the directory listed last.
//!
//! A listing is the directory's entries in their order on disk (`.` and
//! `..` first, as ext4 keeps them), less those of a type the mount does not
//! have; an entry's cookie is its place in the listing, counted from 1.
//! The listing is made again when a `READDIR` starts from 0, or is of
//! another directory, so cookies stay valid across the `READDIR`s of one
//! pass (the server changes no directory).

use super::{errno, message, nodeid, sys, Fs};
use crate::diskfs::{check_name, Dirent, Stat};
use nix::errno::Errno;
use std::ffi::{c_char, c_int, c_void};

/// The most entries a listing holds: a directory with more is refused.
const MAX_ENTRIES: usize = 1 << 20;

/// An entry of a listing.
pub(super) struct Entry {
    name: Vec<u8>,
    ino: u32,
    dir: bool,
}

/// The listing of directory `ino`.
pub(super) struct Listing {
    ino: u32,
    entries: Vec<Entry>,
}

/// What `ext2fs_dir_iterate2`'s callback collects: the names, inodes and
/// types (`EXT2_FT_*`, 0 if the file system does not record them) of the
/// entries in use.
#[derive(Default)]
struct Collected {
    entries: Vec<(Vec<u8>, u32, u32)>,
    /// More than [`MAX_ENTRIES`].
    full: bool,
}

/// The callback of `ext2fs_dir_iterate2`.
///
/// # Safety
///
/// `dirent` is an entry that libext2fs checked (its name fits its record),
/// and `data` is a `Collected` that nothing else uses during the walk.
unsafe extern "C" fn collect(
    _dir: u32,
    _entry: c_int,
    dirent: *mut sys::ext2_dir_entry,
    _offset: c_int,
    _blocksize: c_int,
    _buf: *mut c_char,
    data: *mut c_void,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (d, c) = unsafe { (&*dirent, &mut *data.cast::<Collected>()) };
    if c.entries.len() >= MAX_ENTRIES {
        c.full = true;
        return sys::DIRENT_ABORT as c_int;
    }
    // `ext2fs_dirent_name_len` and `ext2fs_dirent_file_type`: the low and
    // high bytes of `name_len`.
    let len = usize::from(d.name_len & 0xff);
    let file_type = u32::from(d.name_len >> 8);
    // SAFETY: libext2fs checked that the name's `len` bytes are in the
    // record, inside the directory block it holds during the call.
    let name = unsafe { std::slice::from_raw_parts(d.name.as_ptr().cast::<u8>(), len) };
    c.entries.push((name.to_vec(), d.inode, file_type));
    0
}

impl Fs {
    /// The directory inode of nodeid `nodeid`; `ENOTDIR` for a file.
    fn dir_ino(&self, nodeid: u64) -> Result<u32, Errno> {
        let inode = self.node(nodeid)?;
        if !inode.is_dir() {
            return Err(Errno::ENOTDIR);
        }
        Ok(inode.ino)
    }

    /// `LOOKUP`: entry `name` of `parent`. `EOPNOTSUPP` for a file of a
    /// type that the mount does not have.
    pub fn lookup(&mut self, parent: u64, name: &[u8]) -> Result<Stat, Errno> {
        check_name(name)?;
        let dir = self.dir_ino(parent)?;
        let mut ino = 0;
        // SAFETY: `name` is `name.len()` bytes (no NUL needed); no buffer
        // is given, so libext2fs allocates its own; `ino` receives the
        // answer.
        let code = unsafe {
            sys::ext2fs_lookup(
                self.raw(),
                dir,
                name.as_ptr().cast(),
                name.len() as c_int,
                std::ptr::null_mut(),
                &mut ino,
            )
        };
        if code != 0 {
            if errno(code) == Errno::EIO {
                self.note(format!("directory {dir}: {}", message(code)));
            }
            return Err(errno(code));
        }
        let inode = self.named(ino)?;
        if !inode.is_dir() && !inode.is_reg() {
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(inode.stat(self))
    }

    /// Lists directory `dir`.
    fn list(&self, dir: u32) -> Result<Listing, Errno> {
        let mut c = Collected::default();
        // SAFETY: `collect` is called with entries libext2fs checked and
        // with `c`, which nothing else uses until the call returns.
        let code = unsafe {
            sys::ext2fs_dir_iterate2(
                self.raw(),
                dir,
                0,
                std::ptr::null_mut(),
                Some(collect),
                (&mut c as *mut Collected).cast(),
            )
        };
        if code != 0 {
            self.note(format!("directory {dir}: {}", message(code)));
            return Err(errno(code));
        }
        if c.full {
            self.note(format!("directory {dir}: more than {MAX_ENTRIES} entries"));
            return Err(Errno::EIO);
        }
        let mut entries = Vec::new();
        for (name, ino, file_type) in c.entries {
            let at = dir;
            let dots = name == b"." || name == b"..";
            if !dots && check_name(&name).is_err() {
                self.note(format!("directory {at}: an entry's name holds '/' or NUL"));
                return Err(Errno::EIO);
            }
            let dir = match file_type {
                _ if dots => true,
                sys::EXT2_FT_DIR => true,
                sys::EXT2_FT_REG_FILE => false,
                // Not recorded (ext2 without filetype): the inode says.
                sys::EXT2_FT_UNKNOWN => match self.named(ino) {
                    Ok(i) if i.is_dir() || i.is_reg() => i.is_dir(),
                    Ok(_) => continue,
                    Err(e) => return Err(e),
                },
                _ => continue,
            };
            entries.push(Entry { name, ino, dir });
        }
        Ok(Listing { ino: dir, entries })
    }

    /// `CREATE` and `MKDIR`: the server changes no directory.
    pub fn create(
        &mut self,
        _parent: u64,
        _name: &[u8],
        _mode: u32,
        _uid: u32,
        _gid: u32,
        _dir: bool,
    ) -> Result<Stat, Errno> {
        Err(Errno::EROFS)
    }

    /// `READDIR`: the entries of `dir` after cookie `after`.
    pub fn readdir(
        &mut self,
        dir: u64,
        after: u64,
    ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno> {
        let ino = self.dir_ino(dir)?;
        let fresh = after > 0 && self.listing.as_ref().is_some_and(|l| l.ino == ino);
        if !fresh {
            self.listing = Some(self.list(ino)?);
        }
        let entries = self.listing.as_ref().map_or(&[][..], |l| &l.entries[..]);
        Ok(entries
            .iter()
            .zip(1..)
            .skip(usize::try_from(after).unwrap_or(usize::MAX))
            .map(|(e, cookie)| Dirent {
                cookie,
                nodeid: nodeid(e.ino),
                name: &e.name,
                dir: e.dir,
            }))
    }
}
