// SPDX-License-Identifier: GPL-2.0

//! The file system of `mount famfs`: directories and files on a pmem
//! device, described by a famfs-style metadata log on the device itself.
//!
//! famfs keeps no metadata but a log: a superblock at the start of the
//! device, then an append-only log whose entries make directories and
//! files and allocate their data; mounting replays it. The kernel never
//! sends file data through the server: it reads, writes and maps the
//! device through DAX where a file's fmap says, and the server answers
//! `GET_FMAP` from the logged allocations. So the server keeps only the
//! namespace and the allocation, and every change is an append to the
//! log, flushed before the request is answered: another server process,
//! or a remount, replaying the log sees it.
//!
//! The log is append-only, as famfs's is: nothing is ever freed. Files
//! cannot be removed or renamed (famfs cannot remove files either), and
//! shrinking a file keeps its allocation.
//!
//! - [`format`]: the superblock's and the entries' bytes;
//! - [`namespace`]: the tree, and how an entry changes it;
//! - [`alloc`]: the bump allocator, and striping;
//! - [`layout`]: a file's pieces, where its bytes are, its fmap;
//! - [`replay`]: formatting a device, and replaying its log.

pub mod alloc;
pub mod format;
pub mod layout;
pub mod namespace;
pub mod replay;
#[cfg(test)]
mod tests;

use crate::diskfs::inode::{Attr, Time};
use crate::diskfs::{check_name, Dirent, SetAttr, Stat, Statfs, BLOCK, MAX_BYTES};
use alloc::Stripe;
use format::{BadSuper, Entry, NewNode, Superblock, ALIGN, DATA_START};
use fuse_iomap::fmap_build::{Ext, FmapSpec};
use namespace::{Body, Namespace};
use nix::errno::Errno;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// About what a file with a short name takes of the log: its `Create` and
/// its first `Alloc` (a simple extent); `STATFS`'s free files are the
/// log's free bytes over it.
const FILE_LOG_BYTES: u64 = 98;

/// Why a device could not be formatted or mounted.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Super(BadSuper),
    /// Entry `index` of the log, at device offset `offset`, cannot be
    /// replayed.
    Corrupt {
        index: u64,
        offset: u64,
        why: &'static str,
    },
    /// What was asked cannot be formatted.
    Invalid(&'static str),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Super(e) => write!(f, "{e}"),
            Self::Corrupt { index, offset, why } => write!(
                f,
                "the log is corrupt at entry {index} (device offset {offset}): {why}"
            ),
            Self::Invalid(why) => write!(f, "{why}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// A mounted log: the device, and the tree its log describes.
pub struct Fs {
    file: File,
    sb: Superblock,
    /// The log's bytes in use: the next entry goes there.
    head: u64,
    ns: Namespace,
    /// Why the last change failed, until told.
    fault: Option<String>,
    /// The tree may be ahead of the log (an append failed): no more
    /// changes are taken, and a remount replays what the log holds.
    broken: bool,
}

impl Fs {
    fn new(file: File, sb: Superblock, ns: Namespace, head: u64) -> Self {
        Self {
            file,
            sb,
            head,
            ns,
            fault: None,
            broken: false,
        }
    }

    pub fn superblock(&self) -> &Superblock {
        &self.sb
    }

    pub fn namespace(&self) -> &Namespace {
        &self.ns
    }

    /// How the file system lays files out.
    pub fn stripe(&self) -> Option<Stripe> {
        self.sb.stripe
    }

    /// The log's bytes in use.
    pub fn log_used(&self) -> u64 {
        self.head
    }

    /// Why the last change failed with `EIO`, once.
    pub fn take_fault(&mut self) -> Option<String> {
        self.fault.take()
    }

    pub fn stat(&self, nodeid: u64) -> Result<Stat, Errno> {
        self.ns.stat(nodeid)
    }

    pub fn lookup(&self, parent: u64, name: &[u8]) -> Result<Stat, Errno> {
        self.ns.lookup(parent, name)
    }

    /// `OPEN` (`dir` false) or `OPENDIR` (`dir` true) of `nodeid`.
    pub fn open(&self, nodeid: u64, dir: bool) -> Result<(), Errno> {
        match (&self.ns.node(nodeid)?.body, dir) {
            (Body::Dir(_), false) => Err(Errno::EISDIR),
            (Body::File(_), true) => Err(Errno::ENOTDIR),
            _ => Ok(()),
        }
    }

    pub fn readdir(
        &self,
        dir: u64,
        after: u64,
    ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno> {
        self.ns.readdir(dir, after)
    }

    /// `STATFS`: the data area's blocks, and the files the log has room
    /// for.
    pub fn statfs(&self) -> Statfs {
        Statfs {
            blocks: (self.sb.device_size - DATA_START) / BLOCK,
            bfree: self.ns.alloc().free() / BLOCK,
            files: self.ns.nodes(),
            ffree: (self.sb.log_len - self.head) / FILE_LOG_BYTES,
        }
    }

    /// The `GET_FMAP` reply of file `nodeid`.
    pub fn fmap(&self, nodeid: u64) -> Result<Vec<u8>, Errno> {
        let (attr, layout) = self.ns.file(nodeid)?;
        layout.fmap(attr.size)
    }

    /// File `nodeid`'s mode, and what its `GET_FMAP` reply is built from:
    /// for a server that edits the reply (`mount famfs --hostile-fmaps`).
    pub fn fmap_spec(&self, nodeid: u64) -> Result<(u32, FmapSpec), Errno> {
        let (attr, layout) = self.ns.file(nodeid)?;
        Ok((attr.mode, layout.fmap_spec(attr.size)?))
    }

    /// `MKDIR` (`dir`) or `CREATE` of `name` in `parent`, with `mode`'s
    /// permission bits, owned by `uid` and `gid` (as [`Attr::child`]
    /// says). A file gets its first piece with it: the kernel asks for
    /// its fmap at once, and takes none without an extent.
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
        let pattr = self.ns.node(parent)?.attr;
        if self.ns.dir(parent)?.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let attr = Attr::child(&pattr, mode, uid, gid, dir, Time::now());
        let node = NewNode {
            parent,
            name: name.to_vec(),
            mode: attr.mode,
            uid: attr.uid,
            gid: attr.gid,
            time: attr.ctime,
        };
        let nodeid = self.ns.next_nodeid();
        if dir {
            self.commit(&[Entry::Mkdir(node)], &[])?;
        } else {
            let first = self.ns.stripe().map_or(ALIGN, |s| s.width());
            let piece = self.ns.alloc().plan(self.ns.stripe(), first)?;
            let zero = piece.ranges();
            let alloc = Entry::Alloc {
                nodeid,
                size: 0,
                piece,
            };
            self.commit(&[Entry::Create(node), alloc], &zero)?;
        }
        self.ns.stat(nodeid)
    }

    /// `SETATTR`: a larger size allocates as [`Fs::allocate`] does, a
    /// smaller one keeps the allocation. The change time is now, and the
    /// modification time too when the size is set, unless given.
    pub fn setattr(&mut self, nodeid: u64, mut set: SetAttr) -> Result<Stat, Errno> {
        let now = Time::now();
        let (mut entries, mut zero) = (Vec::new(), Vec::new());
        if let Some(size) = set.size {
            (entries, zero) = self.grow(nodeid, size, size)?;
            set.mtime = set.mtime.or(Some(now));
        }
        set.mode = set.mode.map(|m| m & 0o7777);
        set.ctime = set.ctime.or(Some(now));
        entries.push(Entry::Setattr { nodeid, set });
        self.commit(&entries, &zero)?;
        self.ns.stat(nodeid)
    }

    /// `FALLOCATE` of mode 0 (`keep` false) or `KEEP_SIZE`: allocates
    /// what `[offset, offset + len)` lacks, and grows the size to its end
    /// unless `keep`.
    pub fn allocate(
        &mut self,
        nodeid: u64,
        offset: u64,
        len: u64,
        keep: bool,
    ) -> Result<(), Errno> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let old = self.ns.file(nodeid)?.0.size;
        let size = if keep { old } else { old.max(end) };
        let (mut entries, zero) = self.grow(nodeid, end, size)?;
        if size != old {
            let now = Time::now();
            let set = SetAttr {
                size: Some(size),
                mtime: Some(now),
                ctime: Some(now),
                ..SetAttr::default()
            };
            entries.push(Entry::Setattr { nodeid, set });
        }
        if entries.is_empty() {
            return Ok(());
        }
        self.commit(&entries, &zero)
    }

    /// What file `nodeid` needs to hold `end` bytes and have size `size`:
    /// the `Alloc` of a new piece if its allocation is shorter, and the
    /// device ranges to zero first: the new piece, and the allocated bytes
    /// that a larger size shows (a shrunk file keeps the bytes it had past
    /// its new size, which must read as zeroes when it grows again).
    fn grow(&self, nodeid: u64, end: u64, size: u64) -> Result<(Vec<Entry>, Vec<Ext>), Errno> {
        let (attr, layout) = self.ns.file(nodeid)?;
        if end > MAX_BYTES || size > MAX_BYTES {
            return Err(Errno::EFBIG);
        }
        let mut zero = Vec::new();
        if size > attr.size {
            zero = layout.device_ranges(attr.size, size);
        }
        let mut entries = Vec::new();
        if end > layout.capacity() {
            if layout.pieces().len() >= layout::MAX_PIECES {
                return Err(Errno::EFBIG);
            }
            let need = end - layout.capacity();
            let piece = self.ns.alloc().plan(self.ns.stripe(), need)?;
            zero.extend(piece.ranges());
            entries.push(Entry::Alloc {
                nodeid,
                size,
                piece,
            });
        }
        Ok((entries, zero))
    }

    /// Makes `entries` the log's next ones: zeroes the device ranges
    /// `zero`, applies the entries to the tree (which checks them as a
    /// replay will, so that the log never holds one that a replay
    /// refuses), then appends them with one write and flushes the device.
    /// `ENOSPC` if the log has no room for them, changing nothing.
    fn commit(&mut self, entries: &[Entry], zero: &[Ext]) -> Result<(), Errno> {
        if self.broken {
            return Err(Errno::EIO);
        }
        let bytes: Vec<u8> = entries.iter().flat_map(Entry::encode).collect();
        if bytes.len() as u64 > self.sb.log_len - self.head {
            return Err(Errno::ENOSPC);
        }
        for r in zero {
            // Only daxdev 0 has pieces: it is the one the allocator has.
            if r.dev != 0 {
                return Err(self.failed(format!("zeroing daxdev {}", r.dev), false));
            }
            if let Err(e) = crate::uncached::zero(&self.file, r.offset, r.len) {
                return Err(self.failed(format!("zeroing new file bytes: {e}"), false));
            }
        }
        for (i, e) in entries.iter().enumerate() {
            if let Err(why) = self.ns.apply(e) {
                // A request that makes an entry the tree refuses is a bug.
                return Err(self.failed(format!("{e:?} refused: {why}"), i > 0));
            }
        }
        let at = self.sb.log_offset + self.head;
        let appended = self
            .file
            .write_all_at(&bytes, at)
            .and_then(|()| self.file.sync_data());
        if let Err(e) = appended {
            return Err(self.failed(format!("appending to the log: {e}"), true));
        }
        self.head += bytes.len() as u64;
        Ok(())
    }

    /// A change failed for `why`; with `broken`, the tree is ahead of the
    /// log.
    fn failed(&mut self, why: String, broken: bool) -> Errno {
        self.fault = Some(why);
        self.broken |= broken;
        Errno::EIO
    }
}
