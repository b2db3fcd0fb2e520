// SPDX-License-Identifier: GPL-2.0

//! The tree a log describes, and [`Namespace::apply`], which adds one
//! entry to it. Replay applies the log's entries in order; a request
//! applies the entries it is about to log, through the same function, so
//! that the server's tree is always the one a replay of its log gives.
//!
//! `apply` checks an entry against the tree before it changes anything,
//! and refuses what this server never logs: a name no directory may hold,
//! a parent that is no directory, a name that exists, a mode of the wrong
//! type, a piece that is not the allocator's next one, a size past a
//! file's allocation, more than 32 pieces or 24 daxdevs.
//!
//! Nodeids are given in log order from 2 (the root, implied, is 1), so
//! every replay of a log gives the same nodeids; each is also its node's
//! generation, as nodeids are never reused.

use super::alloc::{Bump, Stripe};
use super::format::{Entry, NewNode, Superblock, DATA_START};
use super::layout::{FileLayout, Piece};
use crate::diskfs::inode::{Attr, Dir, S_IFDIR, S_IFMT, S_IFREG};
use crate::diskfs::{check_name, Dirent, SetAttr, Stat, BLOCK, ROOT};
use nix::errno::Errno;
use std::collections::BTreeMap;

/// `FUSE_FAMFS_MAX_DAXDEVS`: daxdev indices are below it.
pub const MAX_DAXDEVS: usize = 24;

/// A directory's entries, or a regular file's pieces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Dir(Dir),
    File(FileLayout),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub attr: Attr,
    pub body: Body,
}

/// A daxdev of the log: its index is its place among them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Daxdev {
    pub uuid: [u8; 16],
    pub size: u64,
}

/// The tree, the daxdevs and the allocator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    stripe: Option<Stripe>,
    device_size: u64,
    nodes: BTreeMap<u64, Node>,
    next_nodeid: u64,
    daxdevs: Vec<Daxdev>,
    alloc: Bump,
}

impl Namespace {
    /// The tree of an empty log: the root directory, mode 0755, owned by
    /// root, made when the superblock was.
    pub fn new(sb: &Superblock) -> Self {
        let root = Node {
            attr: Attr {
                generation: ROOT,
                mode: S_IFDIR | 0o755,
                nlink: 2,
                atime: sb.created,
                mtime: sb.created,
                ctime: sb.created,
                ..Attr::default()
            },
            body: Body::Dir(Dir::new(ROOT)),
        };
        Self {
            stripe: sb.stripe,
            device_size: sb.device_size,
            nodes: BTreeMap::from([(ROOT, root)]),
            next_nodeid: ROOT + 1,
            daxdevs: Vec::new(),
            alloc: Bump::new(DATA_START, sb.device_size),
        }
    }

    pub fn stripe(&self) -> Option<Stripe> {
        self.stripe
    }

    pub fn alloc(&self) -> &Bump {
        &self.alloc
    }

    /// The nodeid the next `Mkdir` or `Create` gets.
    pub fn next_nodeid(&self) -> u64 {
        self.next_nodeid
    }

    pub fn daxdevs(&self) -> &[Daxdev] {
        &self.daxdevs
    }

    /// How many directories and files there are.
    pub fn nodes(&self) -> u64 {
        self.nodes.len() as u64
    }

    pub fn node(&self, nodeid: u64) -> Result<&Node, Errno> {
        self.nodes.get(&nodeid).ok_or(Errno::ENOENT)
    }

    pub fn dir(&self, nodeid: u64) -> Result<&Dir, Errno> {
        match &self.node(nodeid)?.body {
            Body::Dir(d) => Ok(d),
            Body::File(_) => Err(Errno::ENOTDIR),
        }
    }

    /// A regular file's attributes and pieces; `EISDIR` for a directory.
    pub fn file(&self, nodeid: u64) -> Result<(&Attr, &FileLayout), Errno> {
        let node = self.node(nodeid)?;
        match &node.body {
            Body::File(f) => Ok((&node.attr, f)),
            Body::Dir(_) => Err(Errno::EISDIR),
        }
    }

    /// What `GETATTR` tells: a file's blocks are its allocation.
    pub fn stat(&self, nodeid: u64) -> Result<Stat, Errno> {
        let node = self.node(nodeid)?;
        let blocks = match &node.body {
            Body::File(f) => f.capacity() / BLOCK,
            Body::Dir(_) => 0,
        };
        Ok(Stat {
            nodeid,
            attr: node.attr,
            blocks,
        })
    }

    pub fn lookup(&self, parent: u64, name: &[u8]) -> Result<Stat, Errno> {
        check_name(name)?;
        self.stat(self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?)
    }

    /// `READDIR` (see [`Dir::listing`]).
    pub fn readdir(
        &self,
        dir: u64,
        after: u64,
    ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno> {
        let is_dir = |nodeid| {
            self.nodes
                .get(&nodeid)
                .is_some_and(|n| matches!(n.body, Body::Dir(_)))
        };
        Ok(self.dir(dir)?.listing(dir, after, is_dir))
    }

    /// Adds entry `e` to the tree, or refuses it, changing nothing.
    pub fn apply(&mut self, e: &Entry) -> Result<(), &'static str> {
        match e {
            Entry::Daxdev { uuid, size } => self.add_daxdev(*uuid, *size),
            Entry::Mkdir(n) => self.add_node(n, true),
            Entry::Create(n) => self.add_node(n, false),
            Entry::Alloc {
                nodeid,
                size,
                piece,
            } => self.add_piece(*nodeid, *size, piece),
            Entry::Setattr { nodeid, set } => self.set(*nodeid, set),
        }
    }

    fn add_daxdev(&mut self, uuid: [u8; 16], size: u64) -> Result<(), &'static str> {
        if self.daxdevs.len() >= MAX_DAXDEVS {
            return Err("more daxdevs than famfs has indices");
        }
        if self.daxdevs.is_empty() && size != self.device_size {
            return Err("daxdev 0 is not the device of the superblock");
        }
        self.daxdevs.push(Daxdev { uuid, size });
        Ok(())
    }

    fn add_node(&mut self, n: &NewNode, dir: bool) -> Result<(), &'static str> {
        check_name(&n.name).map_err(|_| "a name that no directory may hold")?;
        let kind = if dir { S_IFDIR } else { S_IFREG };
        if n.mode & !0o7777 != kind {
            return Err("a mode of the wrong type");
        }
        let nodeid = self.next_nodeid;
        let parent = self
            .nodes
            .get_mut(&n.parent)
            .ok_or("a parent that does not exist")?;
        let Body::Dir(d) = &mut parent.body else {
            return Err("a parent that is not a directory");
        };
        if d.get(&n.name).is_some() {
            return Err("a name that exists");
        }
        let nlink = (parent.attr.nlink)
            .checked_add(u32::from(dir))
            .ok_or("too many links")?;
        d.add(&n.name, nodeid);
        let p = &mut parent.attr;
        (p.nlink, p.mtime, p.ctime) = (nlink, n.time, n.time);
        let attr = Attr {
            generation: nodeid,
            mode: n.mode,
            uid: n.uid,
            gid: n.gid,
            nlink: if dir { 2 } else { 1 },
            size: 0,
            atime: n.time,
            mtime: n.time,
            ctime: n.time,
        };
        let body = if dir {
            Body::Dir(Dir::new(n.parent))
        } else {
            Body::File(FileLayout::default())
        };
        self.nodes.insert(nodeid, Node { attr, body });
        self.next_nodeid += 1;
        Ok(())
    }

    fn add_piece(&mut self, nodeid: u64, size: u64, piece: &Piece) -> Result<(), &'static str> {
        if self.daxdevs.is_empty() {
            return Err("an allocation before daxdev 0");
        }
        let node = self
            .nodes
            .get_mut(&nodeid)
            .ok_or("an allocation of no file")?;
        let Body::File(layout) = &mut node.body else {
            return Err("an allocation of a directory");
        };
        let mut grown = layout.clone();
        grown.push(piece.clone())?;
        if size > grown.capacity() {
            return Err("a size past the allocation");
        }
        self.alloc.take(self.stripe, piece)?;
        *layout = grown;
        node.attr.size = size;
        Ok(())
    }

    fn set(&mut self, nodeid: u64, set: &SetAttr) -> Result<(), &'static str> {
        let node = self.nodes.get_mut(&nodeid).ok_or("attributes of no node")?;
        if let Some(size) = set.size {
            match &node.body {
                Body::File(f) if size <= f.capacity() => {}
                Body::File(_) => return Err("a size past the allocation"),
                Body::Dir(_) => return Err("a size of a directory"),
            }
        }
        if set.mode.is_some_and(|m| m & !0o7777 != 0) {
            return Err("a mode with a file type");
        }
        let a = &mut node.attr;
        if let Some(mode) = set.mode {
            a.mode = a.mode & S_IFMT | mode;
        }
        a.uid = set.uid.unwrap_or(a.uid);
        a.gid = set.gid.unwrap_or(a.gid);
        a.size = set.size.unwrap_or(a.size);
        a.atime = set.atime.unwrap_or(a.atime);
        a.mtime = set.mtime.unwrap_or(a.mtime);
        a.ctime = set.ctime.unwrap_or(a.ctime);
        Ok(())
    }
}
