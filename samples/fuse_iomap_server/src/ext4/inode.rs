// SPDX-License-Identifier: GPL-2.0

//! Inodes: read with `ext2fs_read_inode_full` (the large inode, for the
//! nanoseconds of the times), checked, and shown as `GETATTR` shows them.

use super::{errno, ino, message, nodeid, sys, Fs, ROOT_INO};
use crate::diskfs::inode::{Attr, Time, S_IFDIR, S_IFMT, S_IFREG};
use crate::diskfs::{Stat, BLOCK};
use nix::errno::Errno;

/// An inode, as libext2fs reads it.
#[derive(Clone, Copy)]
pub struct Inode {
    pub ino: u32,
    pub raw: sys::ext2_inode_large,
}

/// The size of the inode libext2fs fills, for `ext2fs_*_inode_full`.
pub(super) const LARGE: i32 = std::mem::size_of::<sys::ext2_inode_large>() as i32;

/// An ext4 time: 32 bits of seconds, signed, and in the extra field two
/// bits of epoch and 30 of nanoseconds (if the inode has room for it).
/// Times before 1970 are shown as 1970.
fn time(sec: u32, extra: Option<u32>) -> Time {
    let extra = extra.unwrap_or(0);
    let sec = i64::from(sec as i32) + (i64::from(extra & 3) << 32);
    Time {
        sec: u64::try_from(sec).unwrap_or(0),
        nsec: (extra >> 2).min(999_999_999),
    }
}

impl Inode {
    pub fn mode(&self) -> u32 {
        u32::from(self.raw.i_mode)
    }

    pub fn is_dir(&self) -> bool {
        self.mode() & S_IFMT == S_IFDIR
    }

    pub fn is_reg(&self) -> bool {
        self.mode() & S_IFMT == S_IFREG
    }

    pub fn flags(&self) -> u32 {
        self.raw.i_flags
    }

    /// `EXT2_I_SIZE`.
    pub fn size(&self) -> u64 {
        u64::from(self.raw.i_size) | u64::from(self.raw.i_size_high) << 32
    }

    /// Whether the large inode's extra field holds the field that ends
    /// `end` bytes into the inode.
    fn has_extra(&self, end: usize) -> bool {
        128 + usize::from(self.raw.i_extra_isize) >= end
    }

    /// The extra time field that starts `at` bytes into the inode.
    fn extra(&self, at: usize, value: u32) -> Option<u32> {
        self.has_extra(at + 4).then_some(value)
    }

    fn ids(&self) -> (u32, u32) {
        // SAFETY: Both members of the union are plain integers: any bits
        // are a valid `linux2`.
        let (uid_high, gid_high) = unsafe {
            (
                self.raw.osd2.linux2.l_i_uid_high,
                self.raw.osd2.linux2.l_i_gid_high,
            )
        };
        (
            u32::from(self.raw.i_uid) | u32::from(uid_high) << 16,
            u32::from(self.raw.i_gid) | u32::from(gid_high) << 16,
        )
    }

    /// Blocks of `BLOCK` bytes allocated to it, metadata included, as
    /// `stat` counts them.
    pub fn blocks(&self, fs: &Fs) -> u64 {
        let mut raw = self.raw;
        // SAFETY: `raw` is a copy of an inode, which the call reads only;
        // the large inode starts with the small one.
        let sectors = unsafe {
            sys::ext2fs_get_stat_i_blocks(fs.raw(), (&mut raw as *mut sys::ext2_inode_large).cast())
        };
        sectors.div_ceil(BLOCK / 512)
    }

    /// What `GETATTR` tells of it.
    pub fn stat(&self, fs: &Fs) -> Stat {
        let r = &self.raw;
        let (uid, gid) = self.ids();
        // The offsets of the extra times in the large inode.
        let (ctime_at, mtime_at, atime_at) = (132, 136, 140);
        Stat {
            nodeid: nodeid(self.ino),
            attr: Attr {
                generation: u64::from(r.i_generation),
                mode: self.mode(),
                uid,
                gid,
                nlink: u32::from(r.i_links_count),
                size: self.size(),
                atime: time(r.i_atime, self.extra(atime_at, r.i_atime_extra)),
                mtime: time(r.i_mtime, self.extra(mtime_at, r.i_mtime_extra)),
                ctime: time(r.i_ctime, self.extra(ctime_at, r.i_ctime_extra)),
            },
            blocks: self.blocks(fs),
        }
    }
}

impl Fs {
    /// Inode `ino`, read as it is: `EIO` for a number that no inode has
    /// or one libext2fs cannot read (a checksum that fails).
    pub(super) fn inode(&self, ino: u32) -> Result<Inode, Errno> {
        if ino == 0 || ino > self.inodes {
            self.note(format!("inode {ino}: past the inode table"));
            return Err(Errno::EIO);
        }
        let mut raw = sys::ext2_inode_large::default();
        // SAFETY: `raw` is a large inode, whose size the call is given.
        let code = unsafe {
            sys::ext2fs_read_inode_full(
                self.raw(),
                ino,
                (&mut raw as *mut sys::ext2_inode_large).cast(),
                LARGE,
            )
        };
        if code != 0 {
            self.note(format!("inode {ino}: {}", message(code)));
            return Err(errno(code));
        }
        Ok(Inode { ino, raw })
    }

    /// Inode `ino`, which a directory entry names: a file's (or the
    /// root), and in use; `EIO` otherwise.
    pub(super) fn named(&self, ino: u32) -> Result<Inode, Errno> {
        if ino != ROOT_INO && ino < self.first_ino {
            self.note(format!("a directory entry names reserved inode {ino}"));
            return Err(Errno::EIO);
        }
        let inode = self.inode(ino)?;
        if inode.raw.i_links_count == 0 {
            self.note(format!("a directory entry names free inode {ino}"));
            return Err(Errno::EIO);
        }
        Ok(inode)
    }

    /// The inode of nodeid `nodeid`.
    pub(super) fn node(&self, nodeid: u64) -> Result<Inode, Errno> {
        self.named(ino(nodeid)?)
    }

    /// `GETATTR`.
    pub fn stat(&self, nodeid: u64) -> Result<Stat, Errno> {
        Ok(self.node(nodeid)?.stat(self))
    }

    /// `OPEN` (`dir` false) or `OPENDIR` of `nodeid`.
    pub fn open(&self, nodeid: u64, dir: bool) -> Result<(), Errno> {
        let inode = self.node(nodeid)?;
        match (inode.is_dir(), dir) {
            (true, false) => Err(Errno::EISDIR),
            (false, true) => Err(Errno::ENOTDIR),
            _ => Ok(()),
        }
    }
}
