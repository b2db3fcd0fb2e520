// SPDX-License-Identifier: GPL-2.0

//! An inode of a connection: the mapping cache that hangs off it, and, for
//! a famfs file, its fmap.
//!
//! The cache's forks sit behind the inode's reader/writer semaphore; its
//! sequence number sits beside, so that `iomap_valid` can read it without
//! the lock. A famfs file is set whole and shared by reference, so that
//! resolutions take the inode's mutex only to find it. The inode, and with
//! it all this, is freed when the last reference goes: when the connection
//! forgets it or closes.

use crate::abi::{IomapInvalMappingsOut, IomapIo, IomapUpsertMappingsOut};
use crate::budget::Budget;
use crate::cache::{CacheLimit, Fork, Forks, Lookup, Seq};
use crate::devices::DeviceTable;
use crate::famfs::FamfsFile;
use crate::iomap_begin::{self, Answer};
use crate::mapping::Geometry;
use crate::notify;
use crate::rwsem::RwSem;
use kernel::{
    new_mutex,
    prelude::*,
    sync::{Arc, Mutex},
};

/// An inode and its mapping cache.
#[pin_data]
pub(crate) struct Inode {
    #[pin]
    cache: RwSem<Forks>,
    seq: Seq,
    #[pin]
    famfs: Mutex<Option<Arc<FamfsFile>>>,
}

impl Inode {
    /// An inode with empty forks bounded by `limit`, charging `budget`.
    pub(crate) fn new(limit: CacheLimit, budget: Arc<Budget>) -> impl PinInit<Self> {
        pin_init!(Self {
            cache <- crate::new_rwsem!(Forks::new(limit, budget), "fuse_iomap:inode_cache"),
            seq: Seq::new(),
            famfs <- new_mutex!(None),
        })
    }

    /// Applies an upsert notification.
    pub(crate) fn upsert(
        &self,
        msg: &IomapUpsertMappingsOut,
        geo: &Geometry,
        devices: &DeviceTable,
    ) -> Result {
        notify::upsert_mappings(&mut self.cache.write(), &self.seq, msg, geo, devices)
    }

    /// Applies an invalidation notification.
    pub(crate) fn inval(&self, msg: &IomapInvalMappingsOut, geo: &Geometry) -> Result {
        notify::inval_mappings(&mut self.cache.write(), &self.seq, msg, geo)
    }

    /// Drops the cached mappings of `[offset, offset + length)` from both
    /// forks, as the kernel does itself when a write's I/O ends or the file
    /// is truncated; a length of `INVAL_TO_EOF` reaches the end of the file.
    pub(crate) fn drop_range(&self, geo: &Geometry, offset: u64, length: u64) -> Result {
        let mut forks = self.cache.write();
        forks.invalidate(&self.seq, Fork::Read, geo, offset, length)?;
        forks.invalidate(&self.seq, Fork::Write, geo, offset, length)
    }

    /// Looks `off` up in `fork`.
    pub(crate) fn lookup(&self, fork: Fork, off: u64) -> Lookup {
        self.cache.read().lookup(&self.seq, fork, off)
    }

    /// The cached mappings for an operation with `opflags` at `pos`.
    pub(crate) fn lookup_for_op(&self, opflags: u32, pos: u64) -> Option<Answer> {
        iomap_begin::lookup(&self.cache.read(), &self.seq, opflags, pos)
    }

    /// `iomap_valid`: whether `cookie` still describes the cache.
    pub(crate) fn valid(&self, cookie: u64) -> bool {
        self.seq.valid(cookie)
    }

    /// Makes the inode the famfs file `file`, replacing any earlier fmap.
    pub(crate) fn set_famfs(&self, file: FamfsFile) -> Result {
        let file = Arc::new(file, GFP_KERNEL_ACCOUNT)?;
        *self.famfs.lock() = Some(file);
        Ok(())
    }

    /// The inode's famfs file, if it has one.
    pub(crate) fn famfs(&self) -> Option<Arc<FamfsFile>> {
        self.famfs.lock().clone()
    }

    /// Copies up to `max` records of `fork` into a new vector, and returns
    /// it with the number of records in the fork. The copy is taken under
    /// the lock and handed to userspace after it is released.
    pub(crate) fn dump(&self, fork: Fork, max: usize) -> Result<(KVVec<IomapIo>, usize)> {
        let forks = self.cache.read();
        let total = forks.len(fork);
        let mut records = KVVec::with_capacity(total.min(max), GFP_KERNEL_ACCOUNT)?;
        for rec in forks.records(fork).take(max) {
            records.push(*rec, GFP_KERNEL_ACCOUNT)?;
        }
        Ok((records, total))
    }
}
