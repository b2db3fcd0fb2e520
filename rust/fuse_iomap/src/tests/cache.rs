// SPDX-License-Identifier: GPL-2.0

//! The mapping cache against a deliberately naive model: each fork a sorted
//! `Vec` of byte ranges, rebuilt from scratch by every change. Random
//! sequences of upserts, invalidations and lookups on both forks must give
//! the same lookups and dumps, keep the cache's invariants after every step,
//! and change the validity cookie on every change and on nothing else.
//!
//! The model drops a full fork whole. Under the CLOCK policy, which keeps
//! what it chooses, a fork that reaches its limit is held to what any
//! policy owes: it never answers what the (unlimited) model does not, holds
//! what was just upserted, and stays within the limit.

use crate::abi::{IomapIo, MappingType, INVAL_TO_EOF, NULL_ADDR};
use crate::cache::{CacheLimit, Fork, Forks, Lookup, Policy, Seq};
use crate::mapping::Geometry;
use proptest::prelude::*;

const BS: u64 = 4096;

/// The model of one inode: forks as sorted vectors; `None` = never used.
struct Model {
    read: Vec<IomapIo>,
    write: Option<Vec<IomapIo>>,
    limit: usize,
}

fn end(r: &IomapIo) -> u64 {
    r.offset + r.length
}

fn storage(r: &IomapIo) -> bool {
    MappingType::from_raw(r.r#type).is_some_and(MappingType::has_storage)
}

/// The model's punch: keep what lies outside `[s, e)` of every range, but
/// only the left part of a range split in two unless `split_fits`.
fn model_punch(v: &[IomapIo], s: u64, e: u64, split_fits: bool) -> Vec<IomapIo> {
    let mut out = Vec::new();
    for r in v {
        if end(r) <= s || r.offset >= e {
            out.push(*r);
            continue;
        }
        if r.offset < s {
            out.push(IomapIo {
                length: s - r.offset,
                ..*r
            });
        }
        if end(r) > e && (split_fits || r.offset >= s) {
            let cut = e - r.offset;
            out.push(IomapIo {
                offset: e,
                length: end(r) - e,
                addr: if storage(r) { r.addr + cut } else { r.addr },
                ..*r
            });
        }
    }
    out
}

fn model_mergeable(a: &IomapIo, b: &IomapIo) -> bool {
    let addr = if a.addr == NULL_ADDR {
        b.addr == NULL_ADDR
    } else {
        a.addr + a.length == b.addr
    };
    a.dev == b.dev
        && a.r#type == b.r#type
        && a.flags == b.flags
        && end(a) == b.offset
        && addr
        && a.length + b.length <= 1 << 63
}

impl Model {
    fn new(limit: usize) -> Self {
        Self {
            read: Vec::new(),
            write: None,
            limit,
        }
    }

    fn fork(&mut self, f: Fork) -> &mut Vec<IomapIo> {
        match f {
            Fork::Read => &mut self.read,
            Fork::Write => self.write.get_or_insert_with(Vec::new),
        }
    }

    fn upsert(&mut self, f: Fork, m: IomapIo) {
        let limit = self.limit;
        let v = self.fork(f);
        let mut w = model_punch(v, m.offset, end(&m), true);
        if w.len() + 1 > limit {
            w.clear();
        }
        w.push(m);
        w.sort_by_key(|r| r.offset);
        let i = w.iter().position(|r| r.offset == m.offset).unwrap();
        let mut i = i;
        if i > 0 && model_mergeable(&w[i - 1], &w[i]) {
            w[i - 1].length += w[i].length;
            w.remove(i);
            i -= 1;
        }
        if i + 1 < w.len() && model_mergeable(&w[i], &w[i + 1]) {
            w[i].length += w[i + 1].length;
            w.remove(i + 1);
        }
        *v = w;
    }

    fn invalidate(&mut self, f: Fork, geo: &Geometry, off: u64, len: u64) {
        if len == 0 || (f == Fork::Write && self.write.is_none()) {
            return;
        }
        let s = off / BS * BS;
        let e = off
            .checked_add(len)
            .and_then(|e| e.checked_next_multiple_of(BS))
            .unwrap_or(u64::MAX / BS * BS);
        let limit = self.limit;
        let v = self.fork(f);
        let split_fits = v.len() < limit;
        *v = if s == 0 && e >= geo.maxbytes {
            Vec::new()
        } else {
            model_punch(v, s, e, split_fits)
        };
    }

    fn lookup(&self, f: Fork, off: u64) -> Option<Option<IomapIo>> {
        let v = match f {
            Fork::Read => &self.read,
            Fork::Write => self.write.as_ref()?,
        };
        Some(v.iter().find(|r| r.offset <= off && off < end(r)).copied())
    }

    fn dump(&self, f: Fork) -> Vec<IomapIo> {
        match f {
            Fork::Read => self.read.clone(),
            Fork::Write => self.write.clone().unwrap_or_default(),
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Upsert(Fork, IomapIo),
    Inval(Fork, u64, u64),
    Lookup(Fork, u64),
}

fn fork() -> impl Strategy<Value = Fork> {
    prop_oneof![Just(Fork::Read), Just(Fork::Write)]
}

/// Small, block-aligned mappings over 64 blocks, with types, devices,
/// flags and addresses chosen so that neighbours often merge.
fn mapping(f: Fork) -> impl Strategy<Value = IomapIo> {
    let types = if f == Fork::Write {
        vec![0u16, 1, 2, 3, 255]
    } else {
        vec![0u16, 1, 2, 3]
    };
    (
        0..64u64,
        1..9u64,
        prop::sample::select(types),
        1..3u32,
        0..2u16,
        0..3u64,
    )
        .prop_map(|(block, blocks, ty, dev, flags, skew)| {
            let storage = ty == 2 || ty == 3;
            IomapIo {
                offset: block * BS,
                length: blocks * BS,
                addr: if storage {
                    (block + skew * 1000) * BS
                } else {
                    NULL_ADDR
                },
                r#type: ty,
                flags: if ty == 255 { 0 } else { flags },
                dev: if storage { dev } else { 0 },
            }
        })
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => fork().prop_flat_map(|f| mapping(f).prop_map(move |m| Op::Upsert(f, m))),
        2 => (fork(), 0..70 * BS, prop_oneof![0..20 * BS, Just(INVAL_TO_EOF), Just(u64::MAX - 5)])
            .prop_map(|(f, o, l)| Op::Inval(f, o, l)),
        1 => (fork(), 0..70 * BS).prop_map(|(f, o)| Op::Lookup(f, o)),
    ]
}

fn check_invariants(forks: &Forks, f: Fork) {
    let recs: Vec<IomapIo> = forks.records(f).copied().collect();
    for pair in recs.windows(2) {
        assert!(
            end(&pair[0]) <= pair[1].offset,
            "overlap or disorder: {pair:?}"
        );
        assert!(
            !model_mergeable(&pair[0], &pair[1]),
            "mergeable neighbours: {pair:?}"
        );
    }
    assert!(recs.iter().all(|r| r.length > 0));
}

fn dumps(forks: &Forks) -> [Vec<IomapIo>; 2] {
    [Fork::Read, Fork::Write].map(|f| forks.records(f).copied().collect())
}

/// Runs `ops` through forks of `limit` under `policy`, against the model
/// (which drops a full fork) until the first step that finds a fork full
/// under CLOCK, and against [`never_lies`] from there on.
fn run(ops: &[Op], limit: u32, policy: Policy) {
    let geo = Geometry::DEFAULT;
    let limit = CacheLimit::from_config(limit);
    let mut forks = Forks::with_policy(limit, policy, crate::unbounded_budget());
    let seq = Seq::new();
    let mut model = Model::new(limit.records());
    // What the server said, for the steps after the first CLOCK eviction.
    let mut told = Model::new(usize::MAX);
    let mut exact = true;
    for op in ops {
        let before = seq.get();
        let cached = dumps(&forks);
        if policy == Policy::Clock
            && [Fork::Read, Fork::Write]
                .iter()
                .any(|&f| forks.len(f) + 1 >= limit.records())
        {
            exact = false;
        }
        let mutated = match *op {
            Op::Upsert(f, m) => {
                forks.upsert(&seq, f, &m).unwrap();
                model.upsert(f, m);
                told.upsert(f, m);
                // What was just upserted is there, whole.
                if m.r#type != MappingType::NoCache as u16 {
                    assert!(forks
                        .records(f)
                        .any(|r| r.offset <= m.offset && end(&m) <= end(r)));
                }
                true
            }
            Op::Inval(f, o, l) => {
                forks.invalidate(&seq, f, &geo, o, l).unwrap();
                model.invalidate(f, &geo, o, l);
                told.invalidate(f, &geo, o, l);
                dumps(&forks) != cached
            }
            Op::Lookup(f, o) => {
                let got = match forks.lookup(&seq, f, o) {
                    Lookup::Hit(r, cookie) => {
                        assert_eq!(cookie, seq.get());
                        Some(Some(r))
                    }
                    Lookup::Miss => Some(None),
                    Lookup::NoFork => None,
                };
                if exact {
                    assert_eq!(got, model.lookup(f, o), "{op:?}");
                } else if let Some(Some(r)) = got {
                    never_lies(&told, f, &r);
                }
                false
            }
        };
        assert_eq!(seq.get() != before, mutated, "cookie after {op:?}");
        assert_ne!(seq.get(), 0);
        for f in [Fork::Read, Fork::Write] {
            if exact {
                assert!(
                    forks.records(f).copied().eq(model.dump(f)),
                    "{f:?} after {op:?}"
                );
            } else {
                forks.records(f).for_each(|r| never_lies(&told, f, r));
            }
            assert_eq!(forks.has_fork(f), model.lookup(f, 0).is_some());
            assert!(forks.len(f) <= limit.records());
            check_invariants(&forks, f);
        }
    }
}

/// Every byte of the cached record `r` is mapped by the server's records
/// the way `r` says.
fn never_lies(told: &Model, f: Fork, r: &IomapIo) {
    let mut at = r.offset;
    for m in told
        .dump(f)
        .iter()
        .filter(|m| end(m) > r.offset && m.offset < end(r))
    {
        assert_eq!(m.offset.max(r.offset), at, "{r:?} covers what {f:?} lacks");
        assert_eq!((m.r#type, m.dev, m.flags), (r.r#type, r.dev, r.flags));
        if storage(r) {
            assert_eq!(m.addr + (at - m.offset), r.addr + (at - r.offset));
        }
        at = end(m).min(end(r));
    }
    assert_eq!(at, end(r), "{r:?} reaches past what {f:?} holds");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn agrees_with_the_model(ops in prop::collection::vec(op(), 0..300)) {
        run(&ops, 0, Policy::Clock);
    }

    #[test]
    fn whole_fork_drop_agrees_with_the_model_at_the_smallest_limit(
        ops in prop::collection::vec(op(), 0..300)
    ) {
        run(&ops, 256, Policy::DropFork);
    }

    #[test]
    fn clock_never_lies_and_keeps_the_bound_at_the_smallest_limit(
        ops in prop::collection::vec(op(), 0..300)
    ) {
        run(&ops, 256, Policy::Clock);
    }
}

/// A hole of one block at block `block`.
fn hole_block(block: u64) -> IomapIo {
    IomapIo {
        offset: block * BS,
        length: BS,
        addr: NULL_ADDR,
        ..Default::default()
    }
}

#[test]
fn write_fork_is_never_used_until_its_first_upsert() {
    let mut forks = Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget());
    let seq = Seq::new();
    let geo = Geometry::DEFAULT;
    assert_eq!(forks.lookup(&seq, Fork::Write, 0), Lookup::NoFork);
    // Invalidating a never used fork leaves it never used.
    forks
        .invalidate(&seq, Fork::Write, &geo, 0, INVAL_TO_EOF)
        .unwrap();
    assert_eq!(forks.lookup(&seq, Fork::Write, 0), Lookup::NoFork);
    let nocache = IomapIo {
        r#type: MappingType::NoCache as u16,
        ..Default::default()
    };
    forks.upsert(&seq, Fork::Write, &nocache).unwrap();
    assert_eq!(forks.lookup(&seq, Fork::Write, 0), Lookup::NoFork);
    assert_eq!(seq.get(), 1);
    let hole = hole_block(0);
    forks.upsert(&seq, Fork::Write, &hole).unwrap();
    assert_eq!(forks.lookup(&seq, Fork::Write, 0), Lookup::Hit(hole, 2));
    // A whole-fork drop empties it but keeps it in use, and bumps the cookie.
    forks
        .invalidate(&seq, Fork::Write, &geo, 0, INVAL_TO_EOF)
        .unwrap();
    assert_eq!(forks.lookup(&seq, Fork::Write, 0), Lookup::Miss);
    assert_eq!(seq.get(), 3);
}

#[test]
fn a_cookie_taken_before_a_whole_fork_drop_is_stale() {
    let mut forks = Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget());
    let seq = Seq::new();
    let hole = hole_block(0);
    forks.upsert(&seq, Fork::Read, &hole).unwrap();
    let Lookup::Hit(_, cookie) = forks.lookup(&seq, Fork::Read, 0) else {
        panic!()
    };
    assert!(seq.valid(cookie));
    assert!(seq.valid(0));
    forks
        .invalidate(&seq, Fork::Read, &Geometry::DEFAULT, 0, INVAL_TO_EOF)
        .unwrap();
    assert!(!seq.valid(cookie));
    assert!(seq.valid(0));
}

/// Eight records that do not merge, in a fork of eight, under `policy`.
fn full_fork(policy: Policy) -> (Forks, Seq) {
    let limit = CacheLimit::from_config(256);
    assert_eq!(limit.records(), 8);
    let mut forks = Forks::with_policy(limit, policy, crate::unbounded_budget());
    let seq = Seq::new();
    for b in 0..8u64 {
        // Alternate types so that nothing merges.
        let m = IomapIo {
            offset: b * BS,
            length: BS,
            addr: NULL_ADDR,
            r#type: (b % 2) as u16,
            ..Default::default()
        };
        forks.upsert(&seq, Fork::Read, &m).unwrap();
    }
    assert_eq!(forks.len(Fork::Read), 8);
    (forks, seq)
}

#[test]
fn clock_evicts_unreferenced_records_and_keeps_the_looked_up_ones() {
    let (mut forks, seq) = full_fork(Policy::Clock);
    let blocks =
        |forks: &Forks| -> Vec<u64> { forks.records(Fork::Read).map(|r| r.offset / BS).collect() };
    // Nothing was looked up: the hand takes the first record.
    let before = seq.get();
    forks.upsert(&seq, Fork::Read, &hole_block(100)).unwrap();
    assert_eq!(blocks(&forks), [1, 2, 3, 4, 5, 6, 7, 100]);
    // One bump for the eviction, one for the insert.
    assert_eq!(seq.get(), before + 2);
    for b in [2, 4] {
        assert!(matches!(
            forks.lookup(&seq, Fork::Read, b * BS),
            Lookup::Hit(..)
        ));
    }
    // From block 1 on, the hand takes 1, spares 2, takes 3, spares 4,
    // takes 5. (Holes two blocks apart do not merge.)
    for b in [102, 104, 106] {
        forks.upsert(&seq, Fork::Read, &hole_block(b)).unwrap();
    }
    assert_eq!(blocks(&forks), [2, 4, 6, 7, 100, 102, 104, 106]);
}

#[test]
fn overflow_drops_the_fork_and_keeps_the_bound() {
    let (mut forks, seq) = full_fork(Policy::DropFork);
    let before = seq.get();
    let ninth = IomapIo {
        offset: 100 * BS,
        length: BS,
        addr: NULL_ADDR,
        ..Default::default()
    };
    forks.upsert(&seq, Fork::Read, &ninth).unwrap();
    assert_eq!(
        forks.records(Fork::Read).copied().collect::<Vec<_>>(),
        [ninth]
    );
    // One bump for the drop, one for the insert.
    assert_eq!(seq.get(), before + 2);
}

#[test]
fn limits_are_clamped() {
    assert_eq!(CacheLimit::from_config(0), CacheLimit::DEFAULT);
    assert_eq!(CacheLimit::DEFAULT.records(), 8192);
    assert_eq!(CacheLimit::from_config(1).records(), 8);
    assert_eq!(CacheLimit::from_config(u32::MAX).records(), 65536);
    assert_eq!(CacheLimit::from_config(1000).records(), 31);
}

#[test]
fn allocation_failure_is_enomem_and_keeps_the_cache_consistent() {
    let seq = Seq::new();
    let mut forks = Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget());
    let mut failures = 0;
    for i in 0..3000u64 {
        let b = i * 7919 % 4000;
        let m = IomapIo {
            offset: b * BS,
            length: BS,
            addr: NULL_ADDR,
            r#type: (b % 2) as u16,
            ..Default::default()
        };
        let before: Vec<IomapIo> = forks.records(Fork::Read).copied().collect();
        let cookie = seq.get();
        kernel::alloc::fail_after((i % 7 == 0).then_some(0));
        let result = forks.upsert(&seq, Fork::Read, &m);
        kernel::alloc::fail_after(None);
        match result {
            Ok(()) => assert_eq!(
                forks.lookup(&seq, Fork::Read, m.offset),
                Lookup::Hit(m, seq.get())
            ),
            Err(e) => {
                assert_eq!(e, kernel::error::code::ENOMEM);
                // Reservation failed before any change.
                assert!(forks.records(Fork::Read).copied().eq(before));
                assert_eq!(seq.get(), cookie);
                failures += 1;
            }
        }
        check_invariants(&forks, Fork::Read);
    }
    assert!(failures > 0);
}

#[test]
fn bad_mappings_are_rejected_by_the_cache_too() {
    let seq = Seq::new();
    let mut forks = Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget());
    let retry = IomapIo {
        length: BS,
        r#type: MappingType::RetryCache as u16,
        ..Default::default()
    };
    let empty = IomapIo {
        length: 0,
        ..Default::default()
    };
    let overflow = IomapIo {
        offset: u64::MAX - BS + 1,
        length: BS,
        ..Default::default()
    };
    let unknown = IomapIo {
        length: BS,
        r#type: 77,
        ..Default::default()
    };
    for m in [retry, empty, overflow, unknown] {
        assert_eq!(
            forks.upsert(&seq, Fork::Read, &m),
            Err(kernel::error::code::EINVAL)
        );
    }
    assert_eq!(seq.get(), 1);
    assert_eq!(forks.len(Fork::Read), 0);
}

#[test]
fn the_sequence_number_wraps_past_zero() {
    let seq = Seq::at(u64::MAX - 1);
    seq.advance_by(1);
    assert_eq!(seq.get(), u64::MAX);
    seq.advance_by(1);
    assert_eq!(seq.get(), 1);
    let seq = Seq::at(u64::MAX - 1);
    seq.advance_by(3);
    assert_eq!(seq.get(), 2);
    let seq = Seq::at(5);
    seq.advance_by(0);
    assert_eq!(seq.get(), 5);
    // The circle has 2^64 - 1 values: that many steps come back.
    seq.advance_by(u64::MAX);
    assert_eq!(seq.get(), 5);
    seq.advance_by(u64::MAX - 1);
    assert_eq!(seq.get(), 4);
}
