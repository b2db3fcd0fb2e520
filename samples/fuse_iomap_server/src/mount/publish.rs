// SPDX-License-Identifier: GPL-2.0

//! What `mount disk --bpf` publishes to its BPF program
//! (`samples/bpf/fuse_iomap_diskfs.bpf.c`): the MAPPED extents of each open
//! file, from which the program answers `iomap_begin` in the kernel.
//!
//! An entry holds the file's first [`DISKFS_MAX_EXTENTS`] MAPPED extents,
//! in file order. Holes and unwritten extents are left out, and so are the
//! MAPPED extents past the bound: the program falls back to the server for
//! any position that no entry's extent holds, so any subset of the file's
//! MAPPED extents is a correct entry.
//!
//! The order that keeps the program from caching a stale extent: a request
//! that changes a file's MAPPED extents (a truncation, `FALLOCATE`, the
//! conversion at `IOMAP_IOEND`) changes the model, rewrites the file's
//! entry ([`Publisher::changed`]), then invalidates the kernel's cache,
//! then replies. The kernel holds the inode's `i_rwsem` and invalidate
//! lock across the requests that free blocks, and the program answers only
//! I/O that holds one of them (no writeback), so no program run overlaps
//! them; a run after the request reads the new entry. Freed blocks go to
//! another file only in a later request. An entry whose rewrite fails may
//! be stale: the program is detached (once its calls in flight are done)
//! and the server answers everything from then on. The entry of a reaped
//! inode is dropped after the request that reaped it: the kernel has no
//! inode for it, and nodeids are never reused.

use super::log::Log;
use fuse_iomap_server::bpf::{DiskFs, DiskFsExtent, DISKFS_MAX_EXTENTS};
use fuse_iomap_server::diskfs::extents::ExtentMap;
use fuse_iomap_server::diskfs::{Fs, BLOCK};
use std::collections::HashMap;

/// The program's map of files.
pub trait Files {
    /// Rewrites file `nodeid`'s entry in place, or adds it.
    fn set(&mut self, nodeid: u64, dev: u32, extents: &[DiskFsExtent]) -> Result<(), String>;
    /// Drops file `nodeid`'s entry.
    fn remove(&mut self, nodeid: u64) -> Result<(), String>;
    /// Detaches the program, once its calls in flight are done.
    fn detach(&mut self);
}

impl Files for DiskFs {
    fn set(&mut self, nodeid: u64, dev: u32, extents: &[DiskFsExtent]) -> Result<(), String> {
        self.set_file(nodeid, dev, extents)
            .map_err(|e| e.to_string())
    }

    fn remove(&mut self, nodeid: u64) -> Result<(), String> {
        self.remove_file(nodeid).map_err(|e| e.to_string())
    }

    fn detach(&mut self) {
        DiskFs::detach(self);
    }
}

/// The entry of a file with `extents`: its first [`DISKFS_MAX_EXTENTS`]
/// MAPPED extents, in file order, in bytes.
pub fn entry(extents: &ExtentMap) -> Vec<DiskFsExtent> {
    extents
        .iter()
        .filter(|(_, e)| !e.unwritten)
        .take(DISKFS_MAX_EXTENTS)
        .map(|(start, e)| DiskFsExtent {
            offset: start * BLOCK,
            length: e.len * BLOCK,
            addr: e.dev * BLOCK,
        })
        .collect()
}

/// The files published to the program, and their entries.
pub struct Publisher {
    files: Box<dyn Files>,
    /// The device cookie of every extent.
    dev: u32,
    published: HashMap<u64, Vec<DiskFsExtent>>,
    /// Whether the program is attached; cleared when it is detached for a
    /// failed rewrite.
    attached: bool,
}

impl Publisher {
    /// A publisher to the attached program `files`, for device `dev`.
    pub fn new(files: Box<dyn Files>, dev: u32) -> Self {
        Self {
            files,
            dev,
            published: HashMap::new(),
            attached: true,
        }
    }

    /// Regular file `nodeid` was opened or created: publishes it, if it is
    /// not yet. A full map leaves it out, and the program falls back for it.
    pub fn opened(&mut self, fs: &Fs, nodeid: u64, log: &Log) {
        if !self.attached || self.published.contains_key(&nodeid) {
            return;
        }
        let Ok(extents) = fs.file(nodeid) else {
            return;
        };
        let entry = entry(extents);
        match self.files.set(nodeid, self.dev, &entry) {
            Ok(()) => {
                self.published.insert(nodeid, entry);
            }
            Err(e) => log.line(&format!("BPF: file {nodeid} not published: {e}")),
        }
    }

    /// File `nodeid`'s extents may have changed: rewrites its entry if it
    /// is published and differs. Called before the cache is invalidated
    /// and the request answered.
    pub fn changed(&mut self, fs: &Fs, nodeid: u64, log: &Log) {
        if !self.attached {
            return;
        }
        let (Some(old), Ok(extents)) = (self.published.get(&nodeid), fs.file(nodeid)) else {
            return;
        };
        let entry = entry(extents);
        if entry == *old {
            return;
        }
        match self.files.set(nodeid, self.dev, &entry) {
            Ok(()) => {
                self.published.insert(nodeid, entry);
            }
            Err(e) => {
                log.line(&format!(
                    "BPF: file {nodeid} not rewritten: {e}; detaching the program"
                ));
                self.files.detach();
                self.attached = false;
                self.published.clear();
            }
        }
    }

    /// Drops the entries of the files that are gone.
    pub fn reaped(&mut self, fs: &Fs, log: &Log) {
        let gone: Vec<u64> = self
            .published
            .keys()
            .copied()
            .filter(|&nodeid| fs.stat(nodeid).is_err())
            .collect();
        for nodeid in gone {
            self.published.remove(&nodeid);
            if let Err(e) = self.files.remove(nodeid) {
                log.line(&format!("BPF: file {nodeid} not dropped: {e}"));
            }
        }
    }
}
