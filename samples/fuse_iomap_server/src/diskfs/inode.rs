// SPDX-License-Identifier: GPL-2.0

//! Inodes: attributes, and a directory's entries or a file's extents.

use super::extents::ExtentMap;
use super::{Dirent, DOT_ENTRIES};
use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

pub const S_IFMT: u32 = 0o170000;
pub const S_IFDIR: u32 = 0o040000;
pub const S_IFREG: u32 = 0o100000;

/// A timestamp: seconds and nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Time {
    pub sec: u64,
    pub nsec: u32,
}

impl Time {
    pub fn now() -> Self {
        let d = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            sec: d.as_secs(),
            nsec: d.subsec_nanos(),
        }
    }
}

/// What `stat` shows of an inode, but its nodeid and block count.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attr {
    pub generation: u64,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub nlink: u32,
    pub size: u64,
    pub atime: Time,
    pub mtime: Time,
    pub ctime: Time,
}

impl Attr {
    /// The attributes of a new directory (`dir`) or regular file in a
    /// directory of `parent`'s attributes: `mode`'s permission bits, owned
    /// by `uid`, and `gid` unless the parent is set-group-ID (whose bit a
    /// directory inherits), created `now`.
    pub fn child(parent: &Attr, mode: u32, uid: u32, gid: u32, dir: bool, now: Time) -> Self {
        let sgid = parent.mode & 0o2000 != 0;
        let mut perm = mode & 0o7777;
        if dir && sgid {
            perm |= 0o2000;
        }
        Self {
            generation: 0,
            mode: perm | if dir { S_IFDIR } else { S_IFREG },
            uid,
            gid: if sgid { parent.gid } else { gid },
            nlink: if dir { 2 } else { 1 },
            size: 0,
            atime: now,
            mtime: now,
            ctime: now,
        }
    }
}

/// A directory. Every entry has a cookie, given in increasing order and
/// never reused in that directory, so that a `READDIR` resumes after the
/// last entry it returned even when entries came and went in between.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dir {
    /// The nodeid of `..`.
    pub parent: u64,
    pub next_cookie: u64,
    pub names: BTreeMap<Vec<u8>, u64>,
    /// cookie → (name, nodeid)
    pub entries: BTreeMap<u64, (Vec<u8>, u64)>,
}

impl Dir {
    pub fn new(parent: u64) -> Self {
        Self {
            parent,
            next_cookie: 1,
            ..Self::default()
        }
    }

    pub fn get(&self, name: &[u8]) -> Option<u64> {
        let cookie = self.names.get(name)?;
        self.entries.get(cookie).map(|&(_, nodeid)| nodeid)
    }

    pub fn add(&mut self, name: &[u8], nodeid: u64) {
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.names.insert(name.to_vec(), cookie);
        self.entries.insert(cookie, (name.to_vec(), nodeid));
    }

    pub fn remove(&mut self, name: &[u8]) {
        if let Some(cookie) = self.names.remove(name) {
            self.entries.remove(&cookie);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// `READDIR` of this directory, nodeid `nodeid`: the entries after
    /// cookie `after` (0: from the start), in cookie order. The listing
    /// starts with `.` and `..`, as readdir(3) callers expect: the kernel
    /// does not make them up for a FUSE file system. They take cookies 1
    /// and 2, and a named entry's cookie is its directory cookie plus
    /// [`DOT_ENTRIES`]. `is_dir` tells which nodeids are directories.
    pub fn listing<'a>(
        &'a self,
        nodeid: u64,
        after: u64,
        is_dir: impl Fn(u64) -> bool + 'a,
    ) -> impl Iterator<Item = Dirent<'a>> + 'a {
        let dots = [(b".".as_slice(), nodeid), (b"..".as_slice(), self.parent)]
            .into_iter()
            .zip(1..)
            .skip(after.min(DOT_ENTRIES) as usize)
            .map(|((name, nodeid), cookie)| Dirent {
                cookie,
                nodeid,
                name,
                dir: true,
            });
        let named = self
            .entries
            .range(after.saturating_sub(DOT_ENTRIES).saturating_add(1)..)
            .map(move |(&cookie, (name, nodeid))| Dirent {
                cookie: cookie + DOT_ENTRIES,
                nodeid: *nodeid,
                name,
                dir: is_dir(*nodeid),
            });
        dots.chain(named)
    }
}

/// A directory's entries or a regular file's extents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Dir(Dir),
    File(ExtentMap),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inode {
    pub attr: Attr,
    pub body: Body,
    /// The kernel's lookup count (not stored): an unlinked inode lives on
    /// until the kernel forgets it, for the files still open.
    pub lookups: u64,
}

impl Inode {
    pub fn is_dir(&self) -> bool {
        matches!(self.body, Body::Dir(_))
    }
}
