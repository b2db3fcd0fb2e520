// SPDX-License-Identifier: GPL-2.0

//! The reference counts of the mapping cache's CLOCK policy: per record, a
//! count from 0 to 2 kept in two bit planes per leaf, `once` and `twice`.
//!
//! A record comes in at 0, and a lookup hit raises its count (`once`, then
//! `twice`); the hand of [`crate::extent_tree::ExtentTree::evict`] lowers
//! the count of each record it passes and evicts the first at 0. A record
//! looked up again and again thus survives two passes without a lookup, one
//! looked up once only one, and one never looked up (a server's prefetch
//! nobody used) none: the second level tells the hot extents of a skewed
//! workload from those touched in passing, which one bit cannot. An upsert
//! is not a use: the miss that caused it is followed by the lookup that
//! `RETRY_CACHE` makes, which counts. (The measurements behind each choice
//! are in `Documentation/fuse_iomap/cache.rst`.)
//!
//! Two planes rather than a two-bit field per record, because a lookup
//! holds the inode's lock shared: raising a count must be one atomic OR of
//! one bit, with no read-modify-write that two readers could interleave
//! (two that race may raise it once between them, which a heuristic can
//! afford).
//! Bit `i` of a plane belongs to record `i` of the leaf; the planes move
//! with the records as they are inserted, removed, split off and merged.

use core::sync::atomic::{AtomicU64, Ordering};

/// The bits below bit `n` (`n` at most 64).
pub(crate) const fn low(n: usize) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1 << n) - 1
    }
}

/// The counts of up to 64 records, as plain bit planes: those of a leaf
/// being edited, or loaded from [`LeafRefs`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Refs {
    once: u64,
    twice: u64,
}

impl Refs {
    /// Makes room for a new record at `pos`, at count 0: the counts from
    /// `pos` on move up one.
    pub(crate) fn insert(&mut self, pos: usize) {
        let open = |b: u64| (b & low(pos)) | ((b & !low(pos)) << 1);
        self.once = open(self.once);
        self.twice = open(self.twice);
    }

    /// Drops the count at `pos`: the counts after it move down one.
    pub(crate) fn remove(&mut self, pos: usize) {
        let close = |b: u64| (b & low(pos)) | ((b >> 1) & !low(pos));
        self.once = close(self.once);
        self.twice = close(self.twice);
    }

    /// Splits off the counts from `at` on, moved down to 0, and returns
    /// them.
    pub(crate) fn split_off(&mut self, at: usize) -> Self {
        let tail = Self {
            once: self.once >> at,
            twice: self.twice >> at,
        };
        self.truncate(at);
        tail
    }

    /// Appends `other`'s counts after the first `at`.
    pub(crate) fn append(&mut self, at: usize, other: Self) {
        self.once |= other.once << at;
        self.twice |= other.twice << at;
    }

    /// Keeps the first `len` counts.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.once &= low(len);
        self.twice &= low(len);
    }

    /// The count at `pos`; for tests.
    #[cfg(test)]
    pub(crate) fn count(&self, pos: usize) -> u8 {
        ((self.once >> pos) & 1) as u8 + ((self.twice >> pos) & 1) as u8
    }

    /// The hand's pass over records `from` to `len`: lowers their counts up
    /// to the first at 0 and returns its index, or lowers them all and
    /// returns `None`.
    pub(crate) fn sweep(&mut self, from: usize, len: usize) -> Option<usize> {
        let range = low(len) & !low(from);
        let zero = !self.once & range;
        let passed = match zero {
            0 => range,
            z => low(z.trailing_zeros() as usize) & range,
        };
        // 2 -> 1 keeps `once`; 1 -> 0 clears it.
        self.once &= !passed | self.twice;
        self.twice &= !passed;
        (zero != 0).then(|| zero.trailing_zeros() as usize)
    }
}

/// A leaf's counts, raised by lookups under the shared lock: `once` in the
/// low half, `twice` in the high half of one word, so that a lookup reads
/// both with one load.
pub(crate) struct LeafRefs(AtomicU64);

impl LeafRefs {
    /// The most records a leaf's counts can follow.
    pub(crate) const RECORDS: usize = 32;

    /// All counts 0.
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(0))
    }

    /// Raises the count of record `pos` by one, up to 2. Writes only when
    /// the count changes, so that lookups of a hot record do not bounce its
    /// cache line between CPUs. (Inline for the benchmarks, another crate:
    /// see `Seq::get`.)
    #[inline]
    pub(crate) fn touch(&self, pos: usize) {
        let once = 1 << pos;
        let twice = once << Self::RECORDS;
        let refs = self.0.load(Ordering::Relaxed);
        if refs & twice == 0 {
            let bit = if refs & once == 0 { once } else { twice };
            self.0.fetch_or(bit, Ordering::Relaxed);
        }
    }

    /// The counts, to be changed under the lock held exclusively.
    pub(crate) fn get(&self) -> Refs {
        let refs = self.0.load(Ordering::Relaxed);
        Refs {
            once: refs & low(Self::RECORDS),
            twice: refs >> Self::RECORDS,
        }
    }

    /// Stores `refs`, under the lock held exclusively; counts past
    /// [`Self::RECORDS`] are dropped.
    pub(crate) fn set(&mut self, refs: Refs) {
        let half = low(Self::RECORDS);
        *self.0.get_mut() = (refs.once & half) | ((refs.twice & half) << Self::RECORDS);
    }
}

impl Clone for LeafRefs {
    fn clone(&self) -> Self {
        let mut refs = Self::new();
        refs.set(self.get());
        refs
    }
}
