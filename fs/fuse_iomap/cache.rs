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
//! Each fork holds at most `cache_maxbytes` of records (32 bytes each). An
//! upsert that would exceed it makes room the way the fork's [`Policy`]
//! says: by default it evicts, one per missing slot, the records the CLOCK
//! hand finds not looked up lately ([`ExtentTree::evict`], with the counts
//! of [`crate::refbits`]), so that hot mappings stay; the C series' way,
//! dropping the whole fork, is kept for comparison
//! (`Documentation/fuse_iomap/cache.rst` has both on the same workloads).
//! Beyond that, the trees of all the inodes of a connection share its
//! [`Budget`]: their arenas are charged to it, and an upsert it refuses
//! fails with `ENOSPC`. Memory goes back to it when a fork is dropped or
//! shrinks to a quarter of its arenas (`ExtentTree::shrink`).
//!
//! An upsert that stays inside one leaf of the tree runs on a copy of that
//! leaf ([`ExtentTree::edit`]), with the same steps as on the tree, and so
//! walks the tree once instead of once per step.
//!
//! The caller serialises changes (the inode's lock, held exclusively) and
//! validates mappings first ([`crate::mapping::validate`]); the cache checks
//! nothing but its own invariants.

use crate::abi::{IomapIo, MappingType, NULL_ADDR};
use crate::budget::Budget;
use crate::extent_tree::{ExtentTree, LeafEdit, Records, INNER_KEYS, LEAF_RECS};
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

/// What an upsert into a full fork gives up to make room.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Policy {
    /// The records the CLOCK hand finds at count 0, one per missing slot.
    Clock,
    /// The whole fork, as the C series does. Chosen only on the host, for
    /// the comparisons of `cache replay --policy drop` and `cache compare`.
    #[allow(dead_code)]
    DropFork,
}

impl Policy {
    /// The module's policy.
    pub(crate) const DEFAULT: Self = Self::Clock;
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
    // Inline: the benchmarks, another crate, would call it (the module,
    // one crate, inlines it anyway).
    #[inline]
    pub(crate) fn get(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }

    /// Whether `cookie` is still valid: 0 (a mapping straight from the
    /// server or BPF, never stale) or the current number.
    pub(crate) fn valid(&self, cookie: u64) -> bool {
        cookie == 0 || cookie == self.get()
    }

    /// Moves the number on by `changes` bumps, each skipping 0: the values
    /// 1 to 2^64 - 1 go round in a circle.
    fn advance(&self, changes: Bumps) {
        if changes.0 == 0 {
            return;
        }
        let cur = self.0.load(Ordering::Relaxed);
        let next = match cur.checked_add(changes.0) {
            Some(next) => next,
            // Past 2^64 - 1: on from 1, with the steps that are left.
            None => {
                let left = u128::from(cur) + u128::from(changes.0) - u128::from(u64::MAX);
                ((left - 1) % u128::from(u64::MAX) + 1) as u64
            }
        };
        self.0.store(next, Ordering::Release);
    }

    /// A sequence number at `n`, for tests of the wrap.
    #[cfg(test)]
    pub(crate) fn at(n: u64) -> Self {
        Self(AtomicU64::new(n))
    }

    /// [`Self::advance`] by `changes`, for tests of the wrap.
    #[cfg(test)]
    pub(crate) fn advance_by(&self, changes: u64) {
        self.advance(Bumps(changes));
    }
}

/// The changes an operation made, each a bump of the [`Seq`], applied at
/// once when the operation ends: the lock is held exclusively throughout,
/// so no cookie can be taken in between.
#[derive(Debug, Default, Clone, Copy)]
struct Bumps(u64);

impl Bumps {
    fn one(&mut self) {
        self.0 += 1;
    }
}

/// The two forks of an inode's mapping cache, in trees of leaves of `R`
/// records and inner nodes of `K` keys.
pub(crate) struct Forks<const R: usize = LEAF_RECS, const K: usize = INNER_KEYS> {
    read: ExtentTree<R, K>,
    write: ExtentTree<R, K>,
    write_used: bool,
    limit: CacheLimit,
    policy: Policy,
    /// The connection's budget, charged with both trees' arenas.
    budget: Arc<Budget>,
}

impl<const R: usize, const K: usize> Drop for Forks<R, K> {
    fn drop(&mut self) {
        self.budget.uncharge(self.charged_bytes());
    }
}

impl Forks {
    /// Empty forks, the write fork never used, whose trees charge `budget`,
    /// under the module's policy; allocates nothing.
    pub(crate) fn new(limit: CacheLimit, budget: Arc<Budget>) -> Self {
        Self::with_policy(limit, Policy::DEFAULT, budget)
    }

    /// Empty forks, the write fork never used, whose trees charge `budget`,
    /// making room under `policy`; allocates nothing.
    pub(crate) fn with_policy(limit: CacheLimit, policy: Policy, budget: Arc<Budget>) -> Self {
        Self::in_layout(limit, policy, budget)
    }
}

impl<const R: usize, const K: usize> Forks<R, K> {
    /// [`Forks::with_policy`] in trees of another layout: leaves of `R`
    /// records and inner nodes of `K` keys.
    pub(crate) fn in_layout(limit: CacheLimit, policy: Policy, budget: Arc<Budget>) -> Self {
        Self {
            read: ExtentTree::new(),
            write: ExtentTree::new(),
            write_used: false,
            limit,
            policy,
            budget,
        }
    }

    /// The bytes both trees charge to the budget.
    pub(crate) fn charged_bytes(&self) -> usize {
        self.read.charged_bytes() + self.write.charged_bytes()
    }

    fn tree(&self, fork: Fork) -> &ExtentTree<R, K> {
        match fork {
            Fork::Read => &self.read,
            Fork::Write => &self.write,
        }
    }

    /// The tree of `fork`, and the budget it charges.
    fn tree_mut(&mut self, fork: Fork) -> (&mut ExtentTree<R, K>, &Budget) {
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
    /// tree cannot grow; except when the whole fork is dropped at the limit,
    /// where a failure of the insert that follows leaves it empty.
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
        let (limit, policy) = (self.limit.records(), self.policy);
        let (tree, budget) = self.tree_mut(fork);
        // A punch re-inserts at most one trimmed piece; then the new record.
        tree.reserve(2, budget)?;
        let mut bumps = Bumps::default();
        let result = match upsert_in_leaf(tree, &mut bumps, map, end, limit) {
            true => Ok(()),
            false => upsert_in_tree(tree, budget, &mut bumps, map, end, limit, policy),
        };
        seq.advance(bumps);
        result?;
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
        let mut bumps = Bumps::default();
        if start == 0 && end >= geo.maxbytes {
            if tree.len() > 0 {
                tree.clear(budget);
                bumps.one();
            }
            seq.advance(bumps);
            return Ok(());
        }
        // Splitting a record adds one; in a full fork, the part past the
        // range goes too, so that the fork stays within its limit. Dropping
        // more than asked is always safe for a cache.
        let split_fits = tree.len() < limit;
        tree.reserve(1, budget)?;
        punch(tree, &mut bumps, start, end, split_fits);
        seq.advance(bumps);
        tree.shrink(budget);
        Ok(())
    }
}

/// The upsert of `map` (ending at `end`) on a copy of the one leaf it
/// touches, written back if it fits there; `false`, with nothing changed
/// and nothing counted, when it does not (the limit would be reached, or
/// the leaf would split, merge or get a new first key).
fn upsert_in_leaf<const R: usize, const K: usize>(
    tree: &mut ExtentTree<R, K>,
    bumps: &mut Bumps,
    map: &IomapIo,
    end: u64,
    limit: usize,
) -> bool {
    let mut edit = LeafEdit::new();
    if !tree.edit(map.offset, &mut edit) {
        return false;
    }
    let mut counted = Bumps::default();
    let (left, right) = punch(&mut edit, &mut counted, map.offset, end, true);
    if tree.len() - edit.old_len() + edit.len() + 1 > limit
        || insert_and_merge(&mut edit, &Budget::new(0), &mut counted, *map, left, right).is_err()
        || !tree.commit(&edit)
    {
        return false;
    }
    bumps.0 += counted.0;
    true
}

/// The upsert of `map` (ending at `end`) step by step on the tree, making
/// room under `policy` at the limit. Room for the punch and the insert was
/// reserved; only an insert into a dropped fork can fail.
fn upsert_in_tree<const R: usize, const K: usize>(
    tree: &mut ExtentTree<R, K>,
    budget: &Budget,
    bumps: &mut Bumps,
    map: &IomapIo,
    end: u64,
    limit: usize,
    policy: Policy,
) -> Result {
    let (mut left, mut right) = punch(tree, bumps, map.offset, end, true);
    if tree.len() + 1 > limit {
        match policy {
            Policy::DropFork => {
                // A split beyond the limit is undone too.
                tree.clear(budget);
                bumps.one();
                (left, right) = (None, None);
            }
            Policy::Clock => {
                while tree.len() + 1 > limit && tree.evict().is_some() {
                    bumps.one();
                }
                // A victim may have been a neighbour.
                (left, right) = (tree.lt(map.offset), tree.ge(end));
            }
        }
    }
    insert_and_merge(tree, budget, bumps, *map, left, right)
}

/// Removes `[start, end)` from `tree`: records inside go, records across
/// an edge are trimmed (a left trim advances the address of a mapping with
/// storage), a record across both edges is split, or only trimmed to the
/// part before `start` unless `split_fits`. Counts a bump per change.
///
/// Returns the neighbours of the range afterwards, for merging: the record
/// before `start` and the first one at or after `end`.
///
/// Needs one reserved insert, for a split or a left trim; without it, the
/// piece that would be re-inserted is dropped too, which a cache may always
/// do.
fn punch(
    tree: &mut impl Records,
    bumps: &mut Bumps,
    start: u64,
    end: u64,
    split_fits: bool,
) -> (Option<IomapIo>, Option<IomapIo>) {
    let mut left = None;
    // The record that starts before `start`, maybe reaching past it.
    if let Some(rec) = tree.lt(start) {
        let rec_end = rec.offset + rec.length;
        if rec_end <= start {
            left = Some(rec);
        } else {
            let head = IomapIo {
                length: start - rec.offset,
                ..rec
            };
            tree.replace(head);
            bumps.one();
            left = Some(head);
            if rec_end > end {
                // It also covers `end`: the part past `end` is a new record.
                if !split_fits {
                    return (left, tree.ge(end));
                }
                let tail = trim_left(&rec, end);
                if tree.insert_reserved(tail).is_err() {
                    return (left, tree.ge(end));
                }
                bumps.one();
                return (left, Some(tail));
            }
        }
    }
    // Records that start inside the range.
    let right = loop {
        let rec = match tree.ge(start) {
            Some(rec) if rec.offset < end => rec,
            next => break next,
        };
        tree.remove(rec.offset);
        if rec.offset + rec.length > end {
            // A left trim: a remove and an insert in the tree, one update of
            // the mapping. Without room the rest of the record goes too.
            let _ = tree.insert_reserved(trim_left(&rec, end));
        }
        bumps.one();
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
    tree: &mut impl Records,
    budget: &Budget,
    bumps: &mut Bumps,
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
            bumps.0 += 3;
            merged
        }
        None => {
            // The fork may have been dropped by the caller; inserting then
            // needs new nodes, and failing leaves an empty fork.
            tree.insert(rec, budget)?;
            bumps.one();
            rec
        }
    };
    if let Some(right) = right.filter(|r| mergeable(&rec, r)) {
        tree.remove(right.offset);
        bumps.one();
        tree.replace(IomapIo {
            length: rec.length + right.length,
            ..rec
        });
        bumps.one();
    }
    Ok(())
}
