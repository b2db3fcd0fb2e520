// SPDX-License-Identifier: GPL-2.0

//! `--rw`: what the server writes, all through libext2fs.
//!
//! The kernel writes file data itself, with its own bios, where
//! `IOMAP_BEGIN` says: an allocated block is overwritten in place; a hole
//! that a write reaches gets unwritten blocks first (see [`Fs::fill_run`]),
//! as `fallocate` gets them, and the end
//! of the write (`IOMAP_IOEND`) converts the unwritten blocks it covered
//! with `ext2fs_extent_set_bmap`, which splits and merges extents as
//! ext4 does, and grows the size. A smaller size frees the blocks wholly
//! past it (`ext2fs_punch`). The bitmaps, the group descriptors and the
//! superblock are written at `FSYNC` and when the server ends; inodes and
//! extent blocks as they change.
//!
//! Files with a block map (ext2, ext3) have no unwritten blocks: their
//! allocated blocks are overwritten, and a write into one of their holes
//! is `EOPNOTSUPP`. Nothing is journalled: a server that dies leaves a
//! file system that `e2fsck` must check (the superblock says so while the
//! server writes).

use super::extents::Handle;
use super::inode::{Inode, LARGE};
use super::{errno, message, sys, Fs};
use crate::diskfs::inode::Time;
use crate::diskfs::map::{lookup, span};
use crate::diskfs::{MapKind, Mapping, SetAttr, Stat, BLOCK};
use nix::errno::Errno;

/// The largest file: ext4's logical blocks are 32 bits.
pub const MAX_BYTES: u64 = ((1 << 32) - 1) * BLOCK;

/// The most blocks one run allocates: an unwritten extent's most
/// (`EXT_UNINIT_MAX_LEN`).
const MAX_RUN: u64 = (1 << 15) - 1;

/// An ext4 time, as [`super::inode`] reads it: the low 32 bits of the
/// seconds, and the extra field (epoch bits, nanoseconds).
fn ext4_time(t: Time) -> (u32, u32) {
    let epoch = ((t.sec >> 32) & 3) as u32;
    (t.sec as u32, epoch | t.nsec << 2)
}

impl Fs {
    fn writable(&self) -> Result<(), Errno> {
        if self.options.rw {
            Ok(())
        } else {
            Err(Errno::EROFS)
        }
    }

    /// Writes `inode` back, whole.
    fn write_inode(&self, inode: &mut Inode) -> Result<(), Errno> {
        // SAFETY: `raw` is a large inode, whose size the call is given.
        let code = unsafe {
            sys::ext2fs_write_inode_full(
                self.raw(),
                inode.ino,
                (&mut inode.raw as *mut sys::ext2_inode_large).cast(),
                LARGE,
            )
        };
        self.checked(code, inode.ino, "writing it")
    }

    /// `Ok` for libext2fs's 0; otherwise notes what failed.
    fn checked(&self, code: sys::errcode_t, ino: u32, what: &str) -> Result<(), Errno> {
        if code == 0 {
            return Ok(());
        }
        let e = errno(code);
        if e == Errno::EIO {
            self.note(format!("inode {ino}: {what}: {}", message(code)));
        }
        Err(e)
    }

    /// Sets the size of `inode` (`ext2fs_inode_size_set`, which also sets
    /// the large-file feature a size past 2 GiB needs).
    fn set_size(&mut self, inode: &mut Inode, size: u64) -> Result<(), Errno> {
        let size = i64::try_from(size).map_err(|_| Errno::EFBIG)?;
        // SAFETY: `raw` is a large inode, which starts with the small one
        // the call writes.
        let code = unsafe {
            sys::ext2fs_inode_size_set(
                self.raw(),
                (&mut inode.raw as *mut sys::ext2_inode_large).cast(),
                size,
            )
        };
        self.checked(code, inode.ino, "setting its size")?;
        // The superblock may have gained the large-file feature.
        self.mark_dirty();
        Ok(())
    }

    /// Unwritten blocks for every hole of file blocks `[first, end)` of
    /// `inode` (which has an extent tree).
    fn fill(&mut self, inode: &Inode, first: u64, end: u64) -> Result<(), Errno> {
        let map = &self.file_map(inode)?.extents;
        let mut holes = Vec::new();
        let mut at = first;
        while at < end {
            at = match map.find(at) {
                Some((s, e)) => s + e.len,
                None => {
                    let hole_end = map.next_start(at).map_or(end, |n| n.min(end));
                    holes.push((at, hole_end));
                    hole_end
                }
            };
        }
        self.maps.remove(&inode.ino);
        for (start, hole_end) in holes {
            let mut at = start;
            while at < hole_end {
                at += self.fill_run(inode.ino, at, hole_end - at)?;
            }
        }
        Ok(())
    }

    /// Unwritten blocks for file blocks from `lblk`, a hole of `len`
    /// blocks of file `ino`: as many as one free run of the device gives,
    /// which it returns. The run is taken from the bitmaps
    /// (`ext2fs_new_range`, near where the file's blocks before are:
    /// `ext2fs_find_inode_goal`), counted (`ext2fs_block_alloc_stats_range`,
    /// `ext2fs_iblk_add_blocks`) and mapped unwritten block by block
    /// (`ext2fs_extent_set_bmap`, which extends the extent before).
    ///
    /// Never written: unwritten blocks read as zeroes without it, and a
    /// write of libext2fs (`ext2fs_alloc_block` zeroes what it allocates)
    /// would go through its cache and the device's page cache, and could
    /// land after the kernel's own write of the data (not
    /// `ext2fs_fallocate` either, which also fills a hole before the
    /// first extent whole, whatever it is asked, in the e2fsprogs of
    /// Debian 12).
    fn fill_run(&mut self, ino: u32, lblk: u64, len: u64) -> Result<u64, Errno> {
        let mut inode = self.inode(ino)?;
        // SAFETY: `raw` is a large inode, which starts with the small one
        // the call reads.
        let goal = unsafe {
            sys::ext2fs_find_inode_goal(
                self.raw(),
                ino,
                (&mut inode.raw as *mut sys::ext2_inode_large).cast(),
                lblk,
            )
        };
        let (mut pblk, mut plen) = (0, 0);
        // SAFETY: No bitmap given: the file system's, which `check` read;
        // `pblk` and `plen` receive the run.
        let code = unsafe {
            sys::ext2fs_new_range(
                self.raw(),
                0,
                goal,
                len.min(MAX_RUN),
                std::ptr::null_mut(),
                &mut pblk,
                &mut plen,
            )
        };
        self.checked(code, ino, "allocating")?;
        if plen == 0 || plen > len {
            self.note(format!(
                "inode {ino}: ext2fs_new_range gave {plen} blocks of {len}"
            ));
            return Err(Errno::EIO);
        }
        // SAFETY: The run is free in the bitmaps, and is now taken.
        unsafe { sys::ext2fs_block_alloc_stats_range(self.raw(), pblk, plen as u32, 1) };
        {
            let mut handle = Handle::open(self, ino, &mut inode.raw)
                .map_err(|code| self.checked(code, ino, "its extent tree").unwrap_err())?;
            for i in 0..plen {
                handle
                    .set_bmap(lblk + i, pblk + i, sys::EXT2_EXTENT_SET_BMAP_UNINIT)
                    .map_err(|code| self.checked(code, ino, "mapping").unwrap_err())?;
            }
        }
        // Mapping may have written the inode (its root, a new leaf's
        // block): count the run in what it wrote.
        let mut inode = self.inode(ino)?;
        // SAFETY: As above; the call changes the block count only.
        let code = unsafe {
            sys::ext2fs_iblk_add_blocks(
                self.raw(),
                (&mut inode.raw as *mut sys::ext2_inode_large).cast(),
                plen,
            )
        };
        self.checked(code, ino, "counting its blocks")?;
        self.write_inode(&mut inode)?;
        Ok(plen)
    }

    /// Checks that `inode` may get unwritten blocks.
    fn may_fill(&self, inode: &Inode) -> Result<(), Errno> {
        if inode.flags() & sys::EXT4_EXTENTS_FL == 0 {
            self.note(format!(
                "inode {}: a block map (ext2/3): allocated blocks are overwritten, holes stay",
                inode.ino
            ));
            return Err(Errno::EOPNOTSUPP);
        }
        Ok(())
    }

    /// `IOMAP_BEGIN` of a write: the mapping that holds byte `pos`, as
    /// [`Fs::map`] finds it but not cut at the size. With `allocate`, a
    /// hole gets unwritten blocks for what of `[pos, pos + count)` it
    /// holds, and the answer is marked new.
    pub fn map_write(
        &mut self,
        nodeid: u64,
        pos: u64,
        count: u64,
        allocate: bool,
    ) -> Result<Mapping, Errno> {
        self.writable()?;
        let (first, end) = span(pos, count)?;
        let end = end.min(MAX_BYTES / BLOCK);
        if first >= end {
            return Err(Errno::EFBIG);
        }
        let inode = self.file(nodeid)?;
        let size = inode.size();
        let found = lookup(&self.file_map(&inode)?.extents, first, end, size);
        if !allocate || found.kind != MapKind::Hole {
            return Ok(found);
        }
        self.may_fill(&inode)?;
        self.fill(&inode, first, found.end_block().min(end))?;
        // Allocating wrote the inode (its extent root): read it again.
        let inode = self.file(nodeid)?;
        let filled = lookup(&self.file_map(&inode)?.extents, first, end, size);
        if filled.kind != MapKind::Unwritten {
            self.note(format!(
                "inode {}: allocated blocks are not unwritten",
                inode.ino
            ));
            return Err(Errno::EIO);
        }
        Ok(Mapping {
            new: true,
            ..filled
        })
    }

    /// Marks the unwritten blocks of `[first, end)` of `inode` written.
    fn convert(&mut self, inode: &Inode, first: u64, end: u64) -> Result<(), Errno> {
        let blocks: Vec<(u64, u64)> = self
            .file_map(inode)?
            .extents
            .iter()
            .filter(|&(s, e)| e.unwritten && s < end && s + e.len > first)
            .flat_map(|(s, e)| {
                (s.max(first)..(s + e.len).min(end)).map(move |b| (b, e.dev + b - s))
            })
            .collect();
        if blocks.is_empty() {
            return Ok(());
        }
        self.maps.remove(&inode.ino);
        let mut raw = inode.raw;
        let mut handle = Handle::open(self, inode.ino, &mut raw).map_err(|code| {
            self.checked(code, inode.ino, "its extent tree")
                .unwrap_err()
        })?;
        for (lblk, pblk) in blocks {
            handle
                .set_bmap(lblk, pblk, 0)
                .map_err(|code| self.checked(code, inode.ino, "converting").unwrap_err())?;
        }
        Ok(())
    }

    /// `IOMAP_IOEND` (that succeeded) of `written` bytes at `pos`: the
    /// size afterwards, which covers them. With `unwritten`, their blocks
    /// are marked written in the extent tree first.
    pub fn ioend(
        &mut self,
        nodeid: u64,
        pos: u64,
        written: u64,
        unwritten: bool,
    ) -> Result<u64, Errno> {
        self.writable()?;
        let inode = self.file(nodeid)?;
        if written == 0 {
            return Ok(inode.size());
        }
        let (first, end) = span(pos, written)?;
        if unwritten {
            self.convert(&inode, first, end)?;
        }
        // Converting may have written the inode (its extent root, its
        // block count): read it again.
        let mut inode = self.file(nodeid)?;
        let grown = pos + written;
        if grown > inode.size() {
            self.set_size(&mut inode, grown)?;
            self.write_inode(&mut inode)?;
        }
        Ok(inode.size())
    }

    /// `FALLOCATE` mode 0 or `KEEP_SIZE`: unwritten blocks in every hole of
    /// `[offset, offset + len)`, the size grown to cover it unless
    /// `keep_size`.
    pub fn allocate(
        &mut self,
        nodeid: u64,
        offset: u64,
        len: u64,
        keep_size: bool,
    ) -> Result<(), Errno> {
        self.writable()?;
        let end = offset
            .checked_add(len)
            .filter(|&e| e <= MAX_BYTES)
            .ok_or(Errno::EFBIG)?;
        let inode = self.file(nodeid)?;
        self.may_fill(&inode)?;
        let (first, last) = (offset / BLOCK, end.div_ceil(BLOCK));
        self.fill(&inode, first, last)?;
        let mut inode = self.file(nodeid)?;
        if !keep_size && end > inode.size() {
            self.set_size(&mut inode, end)?;
        }
        let (sec, extra) = ext4_time(Time::now());
        inode.raw.i_ctime = sec;
        inode.raw.i_ctime_extra = extra;
        self.write_inode(&mut inode)
    }

    /// Frees the blocks of file `ino` from file block `first` on.
    fn punch(&mut self, ino: u32, first: u64) -> Result<(), Errno> {
        self.maps.remove(&ino);
        // SAFETY: With no inode and no buffer given, the call reads the
        // inode, and writes it back, itself.
        let code = unsafe {
            sys::ext2fs_punch(
                self.raw(),
                ino,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                first,
                !0,
            )
        };
        self.checked(code, ino, "freeing its blocks")
    }

    /// `SETATTR`: returns the new attributes. A smaller size frees the
    /// blocks wholly past it; a larger one leaves a hole.
    pub fn setattr(&mut self, nodeid: u64, set: SetAttr) -> Result<Stat, Errno> {
        self.writable()?;
        let now = Time::now();
        if let Some(size) = set.size {
            let inode = self.file(nodeid)?;
            if size > MAX_BYTES {
                return Err(Errno::EFBIG);
            }
            if size < inode.size() {
                self.punch(inode.ino, size.div_ceil(BLOCK))?;
            }
        }
        let mut inode = self.node(nodeid)?;
        if let Some(size) = set.size {
            self.set_size(&mut inode, size)?;
        }
        let r = &mut inode.raw;
        if let Some(mode) = set.mode {
            r.i_mode = (u32::from(r.i_mode) & 0o170000 | mode & 0o7777) as u16;
        }
        if let Some(uid) = set.uid {
            r.i_uid = uid as u16;
            // Writing a union's member is safe; the kernel's ext4 reads
            // this one.
            r.osd2.linux2.l_i_uid_high = (uid >> 16) as u16;
        }
        if let Some(gid) = set.gid {
            r.i_gid = gid as u16;
            r.osd2.linux2.l_i_gid_high = (gid >> 16) as u16;
        }
        let times = [
            (set.atime, &mut r.i_atime, &mut r.i_atime_extra),
            (
                set.mtime.or(set.size.map(|_| now)),
                &mut r.i_mtime,
                &mut r.i_mtime_extra,
            ),
            (
                Some(set.ctime.unwrap_or(now)),
                &mut r.i_ctime,
                &mut r.i_ctime_extra,
            ),
        ];
        for (t, sec, extra) in times {
            if let Some(t) = t {
                (*sec, *extra) = ext4_time(t);
            }
        }
        self.write_inode(&mut inode)?;
        Ok(inode.stat(self))
    }
}
