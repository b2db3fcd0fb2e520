// SPDX-License-Identifier: GPL-2.0

//! The iomap mapping cache of one inode.
//!
//! Every `iomap_begin` answered by an upcall costs two context switches, so
//! the kernel caches the mappings a server hands it and upcalls only on a
//! miss. Per inode there are two forks, each an [`ExtentTree`]:
//!
//! - the read fork: where reads come from, and writes' old data;
//! - the write fork: where writes go. It starts "never used": until its
//!   first upsert a lookup answers [`Lookup::NoFork`], meaning every write is
//!   a pure overwrite of the read mapping. Once used, it stays used; dropping
//!   its records makes lookups miss, so that the server is asked again.
//!
//! A sequence number ([`Seq`]) is bumped, skipping 0, by every change of
//! either fork: each insert, remove and update of a record, and each drop of
//! a whole fork (which the C series forgets, leaving a cookie taken before
//! the drop "valid"). A hit returns the number as a validity cookie;
//! `iomap_valid` compares the cookie with the current number.
//!
//! Each fork holds at most `cache_maxbytes` of records (32 bytes each); an
//! upsert that would exceed it drops the whole fork first, as the C series
//! does, then inserts. Beyond that, the trees of all the inodes of a
//! connection share its [`Budget`]: their arenas are charged to it, and an
//! upsert it refuses fails with `ENOSPC`. Memory goes back to it when a fork
//! is dropped or shrinks to a quarter of its arenas (`ExtentTree::shrink`).
//!
//! The caller serialises changes (the inode's lock, held exclusively) and
//! validates mappings first ([`crate::mapping::validate`]); the cache checks
//! nothing but its own invariants.

use crate::abi::{IomapIo, MappingType, NULL_ADDR};
use crate::budget::Budget;
use crate::extent_tree::ExtentTree;
use crate::mapping::Geometry;
use core::sync::atomic::{AtomicU64, Ordering};
use kernel::{prelude::*, sync::Arc};

/// Bytes of one cached record.
pub(crate) const RECORD_BYTES: u32 = core::mem::size_of::<IomapIo>() as u32;

/// A merged record may not exceed 2^63 bytes.
const MAX_MERGED_LENGTH: u64 = 1 << 63;

/// The bound on the records of one fork, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CacheLimit(u32);

impl CacheLimit {
    /// 256 KiB (8192 records) per fork unless the server asks otherwise.
    pub(crate) const DEFAULT: Self = Self(256 << 10);
    const MIN: u32 = 256;
    const MAX: u32 = 2 << 20;

    /// The limit a server asked for in `fuse_iomap_config_out.cache_maxbytes`:
    /// 0 means the default; anything else is clamped to 256 B .. 2 MiB.
    pub(crate) fn from_config(cache_maxbytes: u32) -> Self {
        match cache_maxbytes {
            0 => Self::DEFAULT,
            n => Self(n.clamp(Self::MIN, Self::MAX)),
        }
    }

    /// The limit in bytes.
    pub(crate) fn bytes(self) -> u32 {
        self.0
    }

    /// The most records a fork may hold.
    pub(crate) fn records(self) -> usize {
        (self.0 / RECORD_BYTES) as usize
    }
}

/// One of an inode's two forks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fork {
    /// The read fork.
    Read,
    /// The write fork.
    Write,
}

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The cached record that contains the offset, and the validity cookie.
    Hit(IomapIo, u64),
    /// Nothing cached there.
    Miss,
    /// The write fork was never used: writes overwrite the read mapping.
    NoFork,
}

/// The per-inode sequence number behind validity cookies.
///
/// Read without the inode's lock by `iomap_valid`, hence atomic; written
/// only under the lock, hence a plain load and store suffice to bump it.
pub(crate) struct Seq(AtomicU64);

impl Seq {
    /// A fresh sequence number: 1.
    pub(crate) const fn new() -> Self {
        Self(AtomicU64::new(1))
    }

    /// The current number.
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Whether `cookie` is still valid: 0 (a mapping straight from the
    /// server or BPF, never stale) or the current number.
    pub(crate) fn valid(&self, cookie: u64) -> bool {
        cookie == 0 || cookie == self.get()
    }

    fn bump(&self) {
        let next = match self.0.load(Ordering::Relaxed).wrapping_add(1) {
            0 => 1,
            n => n,
        };
        self.0.store(next, Ordering::Release);
    }
}

/// The two forks of an inode's mapping cache.
pub(crate) struct Forks {
    read: ExtentTree,
    write: ExtentTree,
    write_used: bool,
    limit: CacheLimit,
    /// The connection's budget, charged with both trees' arenas.
    budget: Arc<Budget>,
}

impl Drop for Forks {
    fn drop(&mut self) {
        self.budget.uncharge(self.charged_bytes());
    }
}

impl Forks {
    /// Empty forks, the write fork never used, whose trees charge `budget`;
    /// allocates nothing.
    pub(crate) fn new(limit: CacheLimit, budget: Arc<Budget>) -> Self {
        Self {
            read: ExtentTree::new(),
            write: ExtentTree::new(),
            write_used: false,
            limit,
            budget,
        }
    }

    /// The bytes both trees charge to the budget.
    pub(crate) fn charged_bytes(&self) -> usize {
        self.read.charged_bytes() + self.write.charged_bytes()
    }

    fn tree(&self, fork: Fork) -> &ExtentTree {
        match fork {
            Fork::Read => &self.read,
            Fork::Write => &self.write,
        }
    }

    /// The tree of `fork`, and the budget it charges.
    fn tree_mut(&mut self, fork: Fork) -> (&mut ExtentTree, &Budget) {
        match fork {
            Fork::Read => (&mut self.read, &self.budget),
            Fork::Write => (&mut self.write, &self.budget),
        }
    }

    /// Whether a lookup in `fork` can find anything.
    pub(crate) fn has_fork(&self, fork: Fork) -> bool {
        fork == Fork::Read || self.write_used
    }

    /// The records of `fork` in offset order.
    pub(crate) fn records(&self, fork: Fork) -> impl Iterator<Item = &IomapIo> {
        self.tree(fork).iter()
    }

    /// The number of records in `fork`.
    pub(crate) fn len(&self, fork: Fork) -> usize {
        self.tree(fork).len()
    }

    /// The record of `fork` that contains `off`.
    pub(crate) fn lookup(&self, seq: &Seq, fork: Fork, off: u64) -> Lookup {
        if !self.has_fork(fork) {
            return Lookup::NoFork;
        }
        match self.tree(fork).lookup(off) {
            Some(rec) => Lookup::Hit(*rec, seq.get()),
            None => Lookup::Miss,
        }
    }

    /// Caches `map` in `fork`, replacing whatever the fork held in its range
    /// and merging it with its neighbours. `map` was validated; a `NOCACHE`
    /// mapping leaves the fork alone.
    ///
    /// Fails with `EINVAL` for a mapping that validation would have refused
    /// (empty, overflowing, `RETRY_CACHE`), and with `ENOSPC` (the
    /// connection's budget) or `ENOMEM` before changing anything when the
    /// tree cannot grow; except at the limit, where the fork is dropped
    /// first and a failure of the insert that follows leaves it empty.
    pub(crate) fn upsert(&mut self, seq: &Seq, fork: Fork, map: &IomapIo) -> Result {
        match MappingType::from_raw(map.r#type) {
            Some(MappingType::NoCache) => return Ok(()),
            Some(MappingType::RetryCache) | None => return Err(EINVAL),
            Some(_) => {}
        }
        let end = match map.offset.checked_add(map.length) {
            Some(end) if map.length > 0 => end,
            _ => return Err(EINVAL),
        };
        let limit = self.limit.records();
        let (tree, budget) = self.tree_mut(fork);
        // A punch re-inserts at most one trimmed piece; then the new record.
        tree.reserve(2, budget)?;
        // A split beyond the limit is undone by the drop just below.
        let (mut left, mut right) = punch(tree, seq, map.offset, end, true);
        if tree.len() + 1 > limit {
            tree.clear(budget);
            seq.bump();
            (left, right) = (None, None);
        }
        insert_and_merge(tree, budget, seq, *map, left, right)?;
        if fork == Fork::Write {
            self.write_used = true;
        }
        Ok(())
    }

    /// Drops `fork`'s cached mappings of `[offset, offset + length)`,
    /// widened to whole blocks; a length of [`crate::abi::INVAL_TO_EOF`]
    /// reaches the end of the file, and a range from 0 that covers
    /// `maxbytes` drops the whole fork. A length of 0 does nothing.
    ///
    /// Fails with `ENOMEM`, changing nothing, when room for one insert (a
    /// record split in two) can be neither found nor allocated; the room is
    /// reserved before the punch, whether or not the range splits a record.
    pub(crate) fn invalidate(
        &mut self,
        seq: &Seq,
        fork: Fork,
        geo: &Geometry,
        offset: u64,
        length: u64,
    ) -> Result {
        if length == 0 {
            return Ok(());
        }
        let start = geo.round_down(offset);
        let end = offset
            .checked_add(length)
            .map_or(u64::MAX, |e| geo.round_up(e));
        let limit = self.limit.records();
        let (tree, budget) = self.tree_mut(fork);
        if start == 0 && end >= geo.maxbytes {
            if tree.len() > 0 {
                tree.clear(budget);
                seq.bump();
            }
            return Ok(());
        }
        // Splitting a record adds one; in a full fork, the part past the
        // range goes too, so that the fork stays within its limit. Dropping
        // more than asked is always safe for a cache.
        let split_fits = tree.len() < limit;
        tree.reserve(1, budget)?;
        punch(tree, seq, start, end, split_fits);
        tree.shrink(budget);
        Ok(())
    }
}

/// Removes `[start, end)` from `tree`: records inside go, records across
/// an edge are trimmed (a left trim advances the address of a mapping with
/// storage), a record across both edges is split, or only trimmed to the
/// part before `start` unless `split_fits`. Bumps `seq` per change.
///
/// Returns the neighbours of the range afterwards, for merging: the record
/// before `start` and the first one at or after `end`.
///
/// Needs one reserved insert, for a split or a left trim; without it, the
/// piece that would be re-inserted is dropped too, which a cache may always
/// do.
fn punch(
    tree: &mut ExtentTree,
    seq: &Seq,
    start: u64,
    end: u64,
    split_fits: bool,
) -> (Option<IomapIo>, Option<IomapIo>) {
    let mut left = None;
    // The record that starts before `start`, maybe reaching past it.
    if let Some(&rec) = tree.lt(start) {
        let rec_end = rec.offset + rec.length;
        if rec_end <= start {
            left = Some(rec);
        } else {
            let head = IomapIo {
                length: start - rec.offset,
                ..rec
            };
            tree.replace(head);
            seq.bump();
            left = Some(head);
            if rec_end > end {
                // It also covers `end`: the part past `end` is a new record.
                if !split_fits {
                    return (left, tree.ge(end).copied());
                }
                let tail = trim_left(&rec, end);
                if tree.insert_reserved(tail).is_err() {
                    return (left, tree.ge(end).copied());
                }
                seq.bump();
                return (left, Some(tail));
            }
        }
    }
    // Records that start inside the range.
    let right = loop {
        let rec = match tree.ge(start) {
            Some(&rec) if rec.offset < end => rec,
            next => break next.copied(),
        };
        tree.remove(rec.offset);
        if rec.offset + rec.length > end {
            // A left trim: a remove and an insert in the tree, one update of
            // the mapping. Without room the rest of the record goes too.
            let _ = tree.insert_reserved(trim_left(&rec, end));
        }
        seq.bump();
    };
    (left, right)
}

/// The part of `rec` from `at` on.
fn trim_left(rec: &IomapIo, at: u64) -> IomapIo {
    let cut = at - rec.offset;
    let storage = MappingType::from_raw(rec.r#type).is_some_and(MappingType::has_storage);
    IomapIo {
        offset: at,
        length: rec.length - cut,
        addr: if storage { rec.addr + cut } else { rec.addr },
        ..*rec
    }
}

/// Whether `right` continues `left` in file and device and can join it.
fn mergeable(left: &IomapIo, right: &IomapIo) -> bool {
    let addr_contiguous = if left.addr == NULL_ADDR {
        right.addr == NULL_ADDR
    } else {
        left.addr.checked_add(left.length) == Some(right.addr)
    };
    left.dev == right.dev
        && left.r#type == right.r#type
        && left.flags == right.flags
        && left.offset + left.length == right.offset
        && addr_contiguous
        && left
            .length
            .checked_add(right.length)
            .is_some_and(|l| l <= MAX_MERGED_LENGTH)
}

/// Inserts `rec` into the hole a punch left between `left` and `right`,
/// and merges it with them where they continue it.
///
/// The cookie moves as if `rec` were inserted and then merged record by
/// record (a merge updates the survivor and removes the other), but a merge
/// to the left extends that record in place instead of inserting `rec` and
/// removing it again.
fn insert_and_merge(
    tree: &mut ExtentTree,
    budget: &Budget,
    seq: &Seq,
    rec: IomapIo,
    left: Option<IomapIo>,
    right: Option<IomapIo>,
) -> Result {
    let rec = match left.filter(|l| mergeable(l, &rec)) {
        Some(left) => {
            let merged = IomapIo {
                length: left.length + rec.length,
                ..left
            };
            tree.replace(merged);
            // Insert, remove, update.
            seq.bump();
            seq.bump();
            seq.bump();
            merged
        }
        None => {
            // The fork may have been dropped by the caller; inserting then
            // needs new nodes, and failing leaves an empty fork.
            tree.insert(rec, budget)?;
            seq.bump();
            rec
        }
    };
    if let Some(right) = right.filter(|r| mergeable(&rec, r)) {
        tree.remove(right.offset);
        seq.bump();
        tree.replace(IomapIo {
            length: rec.length + right.length,
            ..rec
        });
        seq.bump();
    }
    Ok(())
}
