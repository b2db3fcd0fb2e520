// SPDX-License-Identifier: GPL-2.0

//! Where a file's data is: its extent tree (ext4), or its block map (ext2
//! and ext3), read whole into an [`ExtentMap`] the first time the file is
//! asked about, and kept ([`FileMap`]).
//!
//! The extent tree is walked leaf by leaf with `ext2fs_extent_get`
//! (`EXT2_EXTENT_ROOT`, then `EXT2_EXTENT_NEXT_LEAF`); a block map with
//! `ext2fs_block_iterate3`, its runs of contiguous blocks made extents.
//! The walk trusts nothing it reads to end or to stay on the device:
//!
//! - every extent must start at or after the end of the one before, so a
//!   tree whose index entries lead to a leaf twice (a loop) or overlap
//!   fails rather than repeats;
//! - there may be no more extents than the inode has blocks (each extent
//!   holds one at least), nor than the device has;
//! - every extent must lie inside the device, past the superblock's first
//!   data block.
//!
//! Anything else fails the request with `EIO`, and leaves a note.
//!
//! Upserting ahead: the walk records which file blocks each leaf of the
//! tree covers. When a small file is opened (at most [`WHOLE_FILE`]
//! extents) all its mapped extents go to the kernel's cache at once; on
//! an `IOMAP_BEGIN` of a larger one, those of the leaf that holds the
//! position, from it onward, at most [`WHOLE_FILE`] of them.

use super::inode::Inode;
use super::{errno, message, sys, Fs};
use crate::diskfs::extents::{Extent, ExtentMap};
use crate::diskfs::map::{lookup, span};
use crate::diskfs::{MapKind, Mapping, BLOCK};
use nix::errno::Errno;
use std::ffi::{c_int, c_void};

/// The most extents of a file whose map goes to the cache at open, and the
/// most that go with one `IOMAP_BEGIN`.
pub const WHOLE_FILE: usize = 64;

/// A file's map, as walked.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FileMap {
    /// The extents, merged where they continue each other.
    pub extents: ExtentMap,
    /// The file blocks `[first, end)` of each leaf of the tree, in order
    /// (a block map is one leaf).
    pub leaves: Vec<(u64, u64)>,
    /// How many extents the tree holds (before merging).
    pub records: usize,
}

/// The most file blocks an extent may reach: ext4's logical blocks are 32
/// bits.
const MAX_FILE_BLOCKS: u64 = 1 << 32;

/// One extent of a walk, checked.
struct Walk<'a> {
    fs: &'a Fs,
    ino: u32,
    map: FileMap,
    /// The end of the last extent.
    end: u64,
    /// How many extents there may be.
    limit: usize,
}

impl Walk<'_> {
    fn new<'a>(fs: &'a Fs, inode: &Inode) -> Walk<'a> {
        let limit = inode.blocks(fs).min(fs.blocks);
        Walk {
            fs,
            ino: inode.ino,
            map: FileMap::default(),
            end: 0,
            limit: usize::try_from(limit).unwrap_or(usize::MAX),
        }
    }

    fn fail(&self, why: &str) -> Errno {
        self.fs.note(format!("inode {}: {why}", self.ino));
        Errno::EIO
    }

    /// Adds the extent of `len` blocks from file block `start` at device
    /// block `dev`; `new_leaf` if it is the first of its leaf.
    fn add(
        &mut self,
        start: u64,
        dev: u64,
        len: u64,
        unwritten: bool,
        new_leaf: bool,
    ) -> Result<(), Errno> {
        if self.map.records >= self.limit {
            return Err(self.fail("more extents than blocks"));
        }
        let end = start
            .checked_add(len)
            .filter(|&e| len > 0 && e <= MAX_FILE_BLOCKS);
        let Some(end) = end else {
            return Err(self.fail("an extent of no blocks, or past the largest file"));
        };
        if start < self.end {
            return Err(self.fail("extents out of order or overlapping (a loop in the tree?)"));
        }
        let inside = dev >= self.fs.first_data_block
            && dev.checked_add(len).is_some_and(|e| e <= self.fs.blocks);
        if !inside {
            return Err(self.fail(&format!("extent at file block {start} past the device")));
        }
        self.map.extents.insert(
            start,
            Extent {
                dev,
                len,
                unwritten,
            },
        );
        match self.map.leaves.last_mut() {
            Some(leaf) if !new_leaf => leaf.1 = end,
            _ => self.map.leaves.push((start, end)),
        }
        self.map.records += 1;
        self.end = end;
        Ok(())
    }
}

/// An extent handle, freed when dropped.
///
/// # Invariants
///
/// `0` is a handle that `ext2fs_extent_open2` opened, freed only by `Drop`.
pub(super) struct Handle(sys::ext2_extent_handle_t);

impl Handle {
    /// Opens the extent tree of inode `ino`, as `inode` holds its root.
    pub(super) fn open(
        fs: &Fs,
        ino: u32,
        inode: &mut sys::ext2_inode_large,
    ) -> Result<Self, sys::errcode_t> {
        let mut handle = std::ptr::null_mut();
        // SAFETY: `inode` is a large inode, which starts with the small one
        // that the call reads (and, for changes, writes back); `handle`
        // receives the handle.
        let code = unsafe {
            sys::ext2fs_extent_open2(
                fs.raw(),
                ino,
                (inode as *mut sys::ext2_inode_large).cast(),
                &mut handle,
            )
        };
        if code != 0 {
            return Err(code);
        }
        // INVARIANT: Just opened.
        Ok(Self(handle))
    }

    /// `ext2fs_extent_get` with `op`.
    fn get(&mut self, op: u32) -> Result<sys::ext2fs_extent, sys::errcode_t> {
        let mut e = sys::ext2fs_extent::default();
        // SAFETY: By the invariant, the handle is open; `e` receives the
        // extent.
        match unsafe { sys::ext2fs_extent_get(self.0, op as c_int, &mut e) } {
            0 => Ok(e),
            code => Err(code),
        }
    }

    /// Whether the current extent is the first of its node.
    fn first_of_node(&mut self) -> Result<bool, sys::errcode_t> {
        let mut info = sys::ext2_extent_info::default();
        // SAFETY: By the invariant, the handle is open; `info` receives
        // the answer.
        match unsafe { sys::ext2fs_extent_get_info(self.0, &mut info) } {
            0 => Ok(info.curr_entry == 1),
            code => Err(code),
        }
    }

    /// `ext2fs_extent_set_bmap`: maps file block `lblk` to device block
    /// `pblk`, initialized (`flags` 0) or not.
    pub(super) fn set_bmap(
        &mut self,
        lblk: u64,
        pblk: u64,
        flags: u32,
    ) -> Result<(), sys::errcode_t> {
        // SAFETY: By the invariant, the handle is open.
        match unsafe { sys::ext2fs_extent_set_bmap(self.0, lblk, pblk, flags as c_int) } {
            0 => Ok(()),
            code => Err(code),
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: By the invariant, the handle is open, and this is its
        // only free.
        unsafe { sys::ext2fs_extent_free(self.0) };
    }
}

/// The extent tree of `inode`, walked.
fn walk_tree(fs: &Fs, inode: &Inode) -> Result<FileMap, Errno> {
    let mut walk = Walk::new(fs, inode);
    let mut raw = inode.raw;
    let failed = |what: &str, code| {
        fs.note(format!("inode {}: {what}: {}", inode.ino, message(code)));
        errno(code)
    };
    let mut handle =
        Handle::open(fs, inode.ino, &mut raw).map_err(|c| failed("its extent tree", c))?;
    let mut op = sys::EXT2_EXTENT_ROOT;
    loop {
        let e = match handle.get(op) {
            Ok(e) => e,
            Err(code) if code == sys::EXT2_ET_EXTENT_NO_NEXT as sys::errcode_t => break,
            // An empty tree has no root entry to go to.
            Err(code)
                if op == sys::EXT2_EXTENT_ROOT
                    && code == sys::EXT2_ET_NO_CURRENT_NODE as sys::errcode_t =>
            {
                break
            }
            Err(code) => return Err(failed("its extent tree", code)),
        };
        op = sys::EXT2_EXTENT_NEXT_LEAF;
        if e.e_flags & sys::EXT2_EXTENT_FLAGS_LEAF == 0 {
            continue;
        }
        let new_leaf = handle
            .first_of_node()
            .map_err(|c| failed("its extent tree", c))?;
        let unwritten = e.e_flags & sys::EXT2_EXTENT_FLAGS_UNINIT != 0;
        walk.add(e.e_lblk, e.e_pblk, u64::from(e.e_len), unwritten, new_leaf)?;
    }
    Ok(walk.map)
}

/// What `ext2fs_block_iterate3`'s callback collects.
struct Blocks<'a> {
    walk: Walk<'a>,
    /// The run being collected: file block, device block, length.
    run: Option<(u64, u64, u64)>,
    failed: Option<Errno>,
}

impl Blocks<'_> {
    /// Ends the run being collected.
    fn flush(&mut self) -> Result<(), Errno> {
        match self.run.take() {
            Some((start, dev, len)) => self.walk.add(start, dev, len, false, false),
            None => Ok(()),
        }
    }

    fn block(&mut self, lblk: u64, pblk: u64) -> Result<(), Errno> {
        match &mut self.run {
            Some((start, dev, len)) if *start + *len == lblk && *dev + *len == pblk => {
                *len += 1;
                Ok(())
            }
            _ => {
                self.flush()?;
                self.run = Some((lblk, pblk, 1));
                Ok(())
            }
        }
    }
}

/// The callback of `ext2fs_block_iterate3`.
///
/// # Safety
///
/// `blocknr` points to a block number, and `data` is a `Blocks` that
/// nothing else uses during the walk.
unsafe extern "C" fn block(
    _fs: sys::ext2_filsys,
    blocknr: *mut sys::blk64_t,
    blockcnt: sys::e2_blkcnt_t,
    _ref_blk: sys::blk64_t,
    _ref_offset: c_int,
    data: *mut c_void,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (pblk, b) = unsafe { (*blocknr, &mut *data.cast::<Blocks>()) };
    // `BLOCK_FLAG_DATA_ONLY`: only file blocks, never negative.
    let Ok(lblk) = u64::try_from(blockcnt) else {
        return 0;
    };
    match b.block(lblk, pblk) {
        Ok(()) => 0,
        Err(e) => {
            b.failed = Some(e);
            sys::BLOCK_ABORT as c_int
        }
    }
}

/// The block map of `inode` (ext2, ext3), walked.
fn walk_blocks(fs: &Fs, inode: &Inode) -> Result<FileMap, Errno> {
    let mut b = Blocks {
        walk: Walk::new(fs, inode),
        run: None,
        failed: None,
    };
    b.walk.map.leaves.push((0, 0));
    let flags = sys::BLOCK_FLAG_DATA_ONLY | sys::BLOCK_FLAG_READ_ONLY;
    // SAFETY: `block` is called with block numbers libext2fs holds and
    // with `b`, which nothing else uses until the call returns.
    let code = unsafe {
        sys::ext2fs_block_iterate3(
            fs.raw(),
            inode.ino,
            flags as c_int,
            std::ptr::null_mut(),
            Some(block),
            (&mut b as *mut Blocks).cast(),
        )
    };
    if let Some(e) = b.failed {
        return Err(e);
    }
    if code != 0 {
        fs.note(format!(
            "inode {}: its block map: {}",
            inode.ino,
            message(code)
        ));
        return Err(errno(code));
    }
    b.flush()?;
    Ok(b.walk.map)
}

/// Mapping `m` of a file of `size` bytes, a mapped extent cut at the block
/// that holds the end of the file if it runs past it (the kernel's cache
/// holds nothing past the size; a write there asks again).
fn within_size(m: Mapping, size: u64) -> Mapping {
    let eof = size.div_ceil(BLOCK);
    let first = m.offset / BLOCK;
    if m.kind != MapKind::Mapped || first >= eof || m.end_block() <= eof {
        return m;
    }
    Mapping {
        length: (eof - first) * BLOCK,
        ..m
    }
}

impl Fs {
    /// The map of `inode`, a regular file, walked if it is not kept.
    pub(super) fn file_map(&mut self, inode: &Inode) -> Result<&FileMap, Errno> {
        if !self.maps.contains_key(&inode.ino) {
            let map = self.walk(inode)?;
            self.keep(inode.ino, map);
        }
        self.maps.get(&inode.ino).ok_or(Errno::EIO)
    }

    fn walk(&self, inode: &Inode) -> Result<FileMap, Errno> {
        let flags = inode.flags();
        if flags & sys::EXT4_INLINE_DATA_FL != 0 {
            self.note(format!(
                "inode {}: inline data, which iomap cannot map",
                inode.ino
            ));
            return Err(Errno::EIO);
        }
        if flags & sys::EXT4_ENCRYPT_FL != 0 {
            self.note(format!("inode {}: encrypted", inode.ino));
            return Err(Errno::EIO);
        }
        if flags & sys::EXT4_EXTENTS_FL != 0 {
            walk_tree(self, inode)
        } else {
            walk_blocks(self, inode)
        }
    }

    /// Regular file `nodeid`'s inode; `EISDIR` for a directory, `EINVAL`
    /// for another type (which no nodeid the kernel has is).
    pub(super) fn file(&self, nodeid: u64) -> Result<Inode, Errno> {
        let inode = self.node(nodeid)?;
        match (inode.is_reg(), inode.is_dir()) {
            (true, _) => Ok(inode),
            (_, true) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    /// The map of regular file `nodeid` (for the tests, and for whoever
    /// wants to see it).
    pub fn extents(&mut self, nodeid: u64) -> Result<FileMap, Errno> {
        let inode = self.file(nodeid)?;
        self.file_map(&inode).cloned()
    }

    /// `IOMAP_BEGIN` of a read: the mapping of file `nodeid` that holds
    /// byte `pos` (see [`lookup`]), a mapped extent cut at the size.
    pub fn map(&mut self, nodeid: u64, pos: u64, count: u64) -> Result<Mapping, Errno> {
        let (first, end) = span(pos, count)?;
        let inode = self.file(nodeid)?;
        let size = inode.size();
        let map = self.file_map(&inode)?;
        Ok(within_size(lookup(&map.extents, first, end, size), size))
    }

    /// The mapped extents of file `nodeid` to put in the kernel's cache
    /// ahead of need: at open (`at` `None`), all of a file of at most
    /// [`WHOLE_FILE`] extents; on a miss at file block `at`, those of the
    /// leaf that holds it, from it onward, at most [`WHOLE_FILE`]. Each
    /// cut at the size, as [`Fs::map`] answers.
    pub fn ahead(&mut self, nodeid: u64, at: Option<u64>) -> Result<Vec<Mapping>, Errno> {
        let inode = self.file(nodeid)?;
        let size = inode.size();
        let map = self.file_map(&inode)?;
        let (from, to) = match at {
            None if map.records <= WHOLE_FILE => (0, u64::MAX),
            None => return Ok(Vec::new()),
            Some(b) => {
                let leaf = map
                    .leaves
                    .iter()
                    .find(|&&(first, end)| first <= b && b < end);
                let Some(&(_, end)) = leaf else {
                    return Ok(Vec::new());
                };
                (map.extents.find(b).map_or(b, |(s, _)| s), end)
            }
        };
        let eof = size.div_ceil(BLOCK);
        Ok(map
            .extents
            .iter()
            .filter(|&(s, e)| s >= from && s < to && s < eof && !e.unwritten)
            .take(WHOLE_FILE)
            .map(|(s, e)| within_size(Mapping::of(s, e), size))
            .collect())
    }
}
