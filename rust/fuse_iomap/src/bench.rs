// SPDX-License-Identifier: GPL-2.0

//! A public face of the mapping cache for the benchmarks in `benches/`,
//! which, being another crate, cannot reach the module's `pub(crate)` items.

use crate::abi::{IomapIo, MappingType};
use crate::cache::{CacheLimit, Fork, Forks, Lookup, Policy, Seq};
use crate::extent_tree::{inner_keys, leaf_recs, INNER_KEYS, LEAF_RECS};

/// One inode's read fork, at the largest limit (65536 records), in trees of
/// leaves of `R` records and inner nodes of `K` keys: by default the
/// module's layout, of 256-byte nodes.
pub struct Cache<const R: usize = LEAF_RECS, const K: usize = INNER_KEYS> {
    forks: Forks<R, K>,
    seq: Seq,
}

/// The cache in a layout of 512-byte nodes: 15 records per leaf, 42 keys
/// per inner node.
pub type Cache512 = Cache<{ leaf_recs(512) }, { inner_keys(512) }>;

impl<const R: usize, const K: usize> Default for Cache<R, K> {
    fn default() -> Self {
        Self {
            forks: Forks::in_layout(
                CacheLimit::from_config(u32::MAX),
                Policy::DEFAULT,
                crate::unbounded_budget(),
            ),
            seq: Seq::new(),
        }
    }
}

impl<const R: usize, const K: usize> Cache<R, K> {
    /// Upserts a mapped extent of device 1 into the read fork.
    pub fn upsert(&mut self, offset: u64, length: u64, addr: u64) {
        let rec = IomapIo {
            offset,
            length,
            addr,
            r#type: MappingType::Mapped as u16,
            flags: 0,
            dev: 1,
        };
        // The benchmark's records are valid and fit: nothing to report.
        let _ = self.forks.upsert(&self.seq, Fork::Read, &rec);
    }

    /// The offset, length and address of the read-fork record that contains
    /// `off`.
    pub fn lookup(&self, off: u64) -> Option<(u64, u64, u64)> {
        match self.forks.lookup(&self.seq, Fork::Read, off) {
            Lookup::Hit(rec, _) => Some((rec.offset, rec.length, rec.addr)),
            _ => None,
        }
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.forks.len(Fork::Read)
    }

    /// Whether the fork is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A parsed famfs fmap, for the resolution benchmark.
pub struct Fmap(crate::fmap::Fmap);

impl Fmap {
    /// Parses a `GET_FMAP` reply; `None` if the module would refuse it.
    pub fn parse(reply: &[u8]) -> Option<Self> {
        crate::fmap::Fmap::parse(reply).ok().map(Self)
    }

    /// Resolves `len` bytes at `offset`: daxdev index, offset on it, length.
    pub fn resolve(&self, offset: u64, len: u64) -> Option<(u32, u64, u64)> {
        let r = self.0.resolve(offset, len).ok()?;
        Some((r.dev_index, r.dev_offset, r.length))
    }
}
