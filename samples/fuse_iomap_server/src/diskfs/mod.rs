// SPDX-License-Identifier: GPL-2.0

//! The disk file system of `mount disk`: a tree of directories and regular
//! files whose data lives in extents of one block device. This module is
//! the model only: it answers in `Errno`s and byte ranges, and knows
//! nothing of the channel; [`store`] keeps it on the device.

mod alloc;
mod codec;
pub mod extents;
pub mod inode;
pub mod layout;
pub mod map;
pub mod store;
#[cfg(test)]
pub(crate) mod tests;

use alloc::Allocator;
use extents::ExtentMap;
use inode::{Attr, Body, Dir, Inode, Time, S_IFDIR, S_IFMT};
use layout::Layout;
use nix::errno::Errno;
use std::collections::BTreeMap;

pub use map::{MapKind, Mapping};

/// The file system's block size, the one the server configures.
pub const BLOCK: u64 = crate::BLOCK_SIZE;
/// The root directory's nodeid (`FUSE_ROOT_ID`).
pub const ROOT: u64 = 1;
/// The longest name.
pub const NAME_MAX: usize = 255;
/// The largest file size: the kernel's default `maxbytes`, in whole blocks.
pub const MAX_BYTES: u64 = (i64::MAX as u64) / BLOCK * BLOCK;

/// What `GETATTR` tells of an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stat {
    pub nodeid: u64,
    pub attr: Attr,
    /// Blocks of `BLOCK` bytes allocated to it.
    pub blocks: u64,
}

/// What `SETATTR` changes; `None` leaves it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SetAttr {
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    pub size: Option<u64>,
    pub atime: Option<Time>,
    pub mtime: Option<Time>,
    pub ctime: Option<Time>,
}

/// How many entries a listing starts with: `.` and `..`.
pub const DOT_ENTRIES: u64 = 2;

/// A directory entry, as `READDIR` lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dirent<'a> {
    /// Where the next listing resumes to come after this entry.
    pub cookie: u64,
    pub nodeid: u64,
    pub name: &'a [u8],
    pub dir: bool,
}

/// What `STATFS` tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Statfs {
    pub blocks: u64,
    pub bfree: u64,
    pub files: u64,
    /// How many more files fit.
    pub ffree: u64,
}

/// The file system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fs {
    layout: Layout,
    inodes: BTreeMap<u64, Inode>,
    next_nodeid: u64,
    next_generation: u64,
    alloc: Allocator,
    /// Changed since it was last stored.
    dirty: bool,
}

/// `EINVAL` for a name that no directory may hold, `ENAMETOOLONG` for a
/// long one.
pub fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.len() > NAME_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    if name.is_empty() || name == b"." || name == b".." || name.iter().any(|&c| c == b'/' || c == 0)
    {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

impl Fs {
    /// An empty file system: the root directory, owned by root, mode 0755.
    pub fn new(layout: Layout) -> Self {
        let now = Time::now();
        let root = Inode {
            attr: Attr {
                generation: 1,
                mode: S_IFDIR | 0o755,
                nlink: 2,
                atime: now,
                mtime: now,
                ctime: now,
                ..Attr::default()
            },
            body: Body::Dir(Dir::new(ROOT)),
            lookups: 0,
        };
        Self {
            alloc: Allocator::new(layout.meta_blocks, layout.device_blocks),
            layout,
            inodes: BTreeMap::from([(ROOT, root)]),
            next_nodeid: ROOT + 1,
            next_generation: 2,
            dirty: true,
        }
    }

    pub fn layout(&self) -> Layout {
        self.layout
    }

    pub fn is_dirty(&self) -> bool {
        self.dirty
    }

    pub fn set_clean(&mut self) {
        self.dirty = false;
    }

    fn inode(&self, nodeid: u64) -> Result<&Inode, Errno> {
        self.inodes.get(&nodeid).ok_or(Errno::ENOENT)
    }

    fn inode_mut(&mut self, nodeid: u64) -> Result<&mut Inode, Errno> {
        self.inodes.get_mut(&nodeid).ok_or(Errno::ENOENT)
    }

    fn dir(&self, nodeid: u64) -> Result<&Dir, Errno> {
        match &self.inode(nodeid)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, nodeid: u64) -> Result<&mut Dir, Errno> {
        match &mut self.inode_mut(nodeid)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    /// The extents of regular file `nodeid`; `EISDIR` for a directory.
    pub fn file(&self, nodeid: u64) -> Result<&ExtentMap, Errno> {
        match &self.inode(nodeid)?.body {
            Body::File(f) => Ok(f),
            Body::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub fn stat(&self, nodeid: u64) -> Result<Stat, Errno> {
        let inode = self.inode(nodeid)?;
        let blocks = match &inode.body {
            Body::File(f) => f.blocks(),
            Body::Dir(_) => 0,
        };
        Ok(Stat {
            nodeid,
            attr: inode.attr,
            blocks,
        })
    }

    /// `OPEN` (`dir` false) or `OPENDIR` (`dir` true) of `nodeid`.
    pub fn open(&self, nodeid: u64, dir: bool) -> Result<(), Errno> {
        match (self.inode(nodeid)?.is_dir(), dir) {
            (true, false) => Err(Errno::EISDIR),
            (false, true) => Err(Errno::ENOTDIR),
            _ => Ok(()),
        }
    }

    /// The kernel has one more reference to `nodeid` (an entry reply).
    fn remember(&mut self, nodeid: u64) -> Result<Stat, Errno> {
        self.inode_mut(nodeid)?.lookups += 1;
        self.stat(nodeid)
    }

    /// `LOOKUP`: the entry `name` of `parent`, counted as a lookup.
    pub fn lookup(&mut self, parent: u64, name: &[u8]) -> Result<Stat, Errno> {
        check_name(name)?;
        let nodeid = self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?;
        self.remember(nodeid)
    }

    /// `FORGET`: the kernel dropped `n` lookups of `nodeid`; an unlinked
    /// inode goes when the last one does.
    pub fn forget(&mut self, nodeid: u64, n: u64) {
        if let Some(inode) = self.inodes.get_mut(&nodeid) {
            inode.lookups = inode.lookups.saturating_sub(n);
        }
        self.reap(nodeid);
    }

    /// Frees `nodeid` and its blocks if nothing holds it any more.
    fn reap(&mut self, nodeid: u64) {
        let gone = self
            .inodes
            .get(&nodeid)
            .is_some_and(|i| i.attr.nlink == 0 && i.lookups == 0 && nodeid != ROOT);
        if !gone {
            return;
        }
        if let Some(Inode {
            body: Body::File(extents),
            ..
        }) = self.inodes.remove(&nodeid)
        {
            for (_, e) in extents.iter() {
                self.alloc.free(e.dev, e.len);
            }
        }
        self.dirty = true;
    }

    /// The times of a directory whose entries changed.
    fn touch(&mut self, nodeid: u64, now: Time) {
        if let Some(inode) = self.inodes.get_mut(&nodeid) {
            inode.attr.mtime = now;
            inode.attr.ctime = now;
        }
    }

    /// `CREATE` (a regular file) or `MKDIR` (`dir`) of `name` in `parent`,
    /// with `mode`'s permission bits, owned by `uid`, and `gid` unless the
    /// parent is set-group-ID. Counted as a lookup.
    pub fn create(
        &mut self,
        parent: u64,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
        dir: bool,
    ) -> Result<Stat, Errno> {
        check_name(name)?;
        let pattr = self.inode(parent)?.attr;
        if self.dir(parent)?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let now = Time::now();
        let nodeid = self.next_nodeid;
        let attr = Attr {
            generation: self.next_generation,
            ..Attr::child(&pattr, mode, uid, gid, dir, now)
        };
        let body = if dir {
            Body::Dir(Dir::new(parent))
        } else {
            Body::File(ExtentMap::default())
        };
        self.dir_mut(parent)?.add(name, nodeid);
        if dir {
            self.inode_mut(parent)?.attr.nlink += 1;
        }
        self.touch(parent, now);
        self.inodes.insert(
            nodeid,
            Inode {
                attr,
                body,
                lookups: 0,
            },
        );
        self.next_nodeid += 1;
        self.next_generation += 1;
        self.dirty = true;
        self.remember(nodeid)
    }

    /// Drops entry `name` of `parent`, whose inode is `nodeid`.
    fn unlink_entry(&mut self, parent: u64, name: &[u8], nodeid: u64, now: Time) {
        let dir = self.inodes.get(&nodeid).is_some_and(Inode::is_dir);
        if let Ok(d) = self.dir_mut(parent) {
            d.remove(name);
        }
        if let Some(p) = self.inodes.get_mut(&parent) {
            if dir {
                p.attr.nlink -= 1;
            }
            p.attr.mtime = now;
            p.attr.ctime = now;
        }
        if let Some(i) = self.inodes.get_mut(&nodeid) {
            i.attr.nlink = if dir { 0 } else { i.attr.nlink - 1 };
            i.attr.ctime = now;
        }
        self.dirty = true;
        self.reap(nodeid);
    }

    /// Checks that `nodeid` may be removed or replaced as a directory
    /// (`dir`) or a file.
    fn removable(&self, nodeid: u64, dir: bool) -> Result<(), Errno> {
        match (&self.inode(nodeid)?.body, dir) {
            (Body::Dir(d), true) if d.is_empty() => Ok(()),
            (Body::Dir(_), true) => Err(Errno::ENOTEMPTY),
            (Body::Dir(_), false) => Err(Errno::EISDIR),
            (Body::File(_), true) => Err(Errno::ENOTDIR),
            (Body::File(_), false) => Ok(()),
        }
    }

    /// `UNLINK` (`dir` false) or `RMDIR` of `name` in `parent`.
    pub fn remove(&mut self, parent: u64, name: &[u8], dir: bool) -> Result<(), Errno> {
        check_name(name)?;
        let nodeid = self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?;
        self.removable(nodeid, dir)?;
        self.unlink_entry(parent, name, nodeid, Time::now());
        Ok(())
    }

    /// `RENAME`: moves `old` of `parent` to `new` of `newparent`, replacing
    /// what is there as rename(2) does.
    pub fn rename(
        &mut self,
        parent: u64,
        old: &[u8],
        newparent: u64,
        new: &[u8],
    ) -> Result<(), Errno> {
        check_name(old)?;
        check_name(new)?;
        self.dir(newparent)?;
        let nodeid = self.dir(parent)?.get(old).ok_or(Errno::ENOENT)?;
        let dir = self.inode(nodeid)?.is_dir();
        if dir {
            // Not into itself: walk up from the new parent.
            let mut at = newparent;
            loop {
                if at == nodeid {
                    return Err(Errno::EINVAL);
                }
                if at == ROOT {
                    break;
                }
                at = self.dir(at)?.parent;
            }
        }
        let now = Time::now();
        match self.dir(newparent)?.get(new) {
            Some(target) if target == nodeid => return Ok(()),
            Some(target) => {
                self.removable(target, dir)?;
                self.unlink_entry(newparent, new, target, now);
            }
            None => {}
        }
        self.dir_mut(parent)?.remove(old);
        self.dir_mut(newparent)?.add(new, nodeid);
        if dir && parent != newparent {
            self.dir_mut(nodeid)?.parent = newparent;
            self.inode_mut(parent)?.attr.nlink -= 1;
            self.inode_mut(newparent)?.attr.nlink += 1;
        }
        self.touch(parent, now);
        self.touch(newparent, now);
        self.inode_mut(nodeid)?.attr.ctime = now;
        self.dirty = true;
        Ok(())
    }

    /// `READDIR`: the entries of `dir` after cookie `after` (see
    /// [`Dir::listing`]).
    pub fn readdir(
        &self,
        dir: u64,
        after: u64,
    ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno> {
        let is_dir = |nodeid| self.inodes.get(&nodeid).is_some_and(Inode::is_dir);
        Ok(self.dir(dir)?.listing(dir, after, is_dir))
    }

    /// `SETATTR`: returns the new attributes.
    pub fn setattr(&mut self, nodeid: u64, set: SetAttr) -> Result<Stat, Errno> {
        if let Some(size) = set.size {
            self.truncate(nodeid, size)?;
        }
        let inode = self.inode_mut(nodeid)?;
        let a = &mut inode.attr;
        if let Some(mode) = set.mode {
            a.mode = a.mode & S_IFMT | mode & 0o7777;
        }
        a.uid = set.uid.unwrap_or(a.uid);
        a.gid = set.gid.unwrap_or(a.gid);
        a.atime = set.atime.unwrap_or(a.atime);
        a.mtime = set.mtime.unwrap_or(a.mtime);
        a.ctime = set.ctime.unwrap_or_else(Time::now);
        self.dirty = true;
        self.stat(nodeid)
    }

    /// Sets the size of file `nodeid`, freeing the blocks wholly past it.
    fn truncate(&mut self, nodeid: u64, size: u64) -> Result<(), Errno> {
        self.file(nodeid)?;
        if size > MAX_BYTES {
            return Err(Errno::EFBIG);
        }
        let keep = size.div_ceil(BLOCK);
        let Some(inode) = self.inodes.get_mut(&nodeid) else {
            return Err(Errno::ENOENT);
        };
        if let Body::File(extents) = &mut inode.body {
            for (dev, len) in extents.remove(keep, u64::MAX) {
                self.alloc.free(dev, len);
            }
        }
        let now = Time::now();
        inode.attr.size = size;
        inode.attr.mtime = now;
        inode.attr.ctime = now;
        self.dirty = true;
        Ok(())
    }

    /// `STATFS`.
    pub fn statfs(&self) -> Statfs {
        Statfs {
            blocks: self.layout.device_blocks - self.layout.meta_blocks,
            bfree: self.alloc.free_blocks(),
            files: self.inodes.len() as u64,
            // A file needs no block of its own.
            ffree: self.alloc.free_blocks(),
        }
    }
}
