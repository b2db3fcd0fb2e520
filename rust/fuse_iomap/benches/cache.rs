// SPDX-License-Identifier: GPL-2.0

//! Lookup and upsert cost of the mapping cache at 1 to 64 Ki records, in
//! the module's layout (256-byte nodes) and in one of 512-byte nodes,
//! against a `BTreeMap` keyed by offset and a linear scan of a sorted
//! `Vec`, in the same run; and the cost of replaying the policy workloads
//! under each policy. Run with `make bench` (or `cargo bench --bench cache`
//! in rust/); the tables are in Documentation/fuse_iomap/cache.rst.
//!
//! The records are one block each, with addresses that never continue
//! their neighbour's, so nothing merges and a fork of N upserts holds N
//! records. A lookup hits a random record; an upsert replaces a random
//! record with one of the same range and a new address (a punch of one
//! record and an insert, for each structure).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fuse_iomap::bench::{Cache, Cache512};
use fuse_iomap::replay::{self, CachePolicy};
use fuse_iomap::workload::{self, Params};
use std::collections::BTreeMap;
use std::hint::black_box;

mod common;

const BS: u64 = 4096;
const SIZES: [u64; 5] = [1, 32, 1024, 8192, 65536];

/// A record of the competitors: the cache's, less what they ignore.
#[derive(Clone, Copy)]
struct Record {
    offset: u64,
    length: u64,
    addr: u64,
}

fn rec(block: u64, salt: u64) -> Record {
    Record {
        offset: block * BS,
        length: BS,
        addr: (block * 2 + salt % 2) * 2 * BS,
    }
}

fn cache_upsert<const R: usize, const K: usize>(cache: &mut Cache<R, K>, r: &Record) {
    cache.upsert(r.offset, r.length, r.addr);
}

fn btree_lookup(map: &BTreeMap<u64, Record>, off: u64) -> Option<Record> {
    map.range(..=off)
        .next_back()
        .map(|(_, r)| *r)
        .filter(|r| off < r.offset + r.length)
}

fn btree_upsert(map: &mut BTreeMap<u64, Record>, r: Record) {
    let hit: Vec<u64> = map
        .range(r.offset..r.offset + r.length)
        .map(|(k, _)| *k)
        .collect();
    for k in hit {
        map.remove(&k);
    }
    map.insert(r.offset, r);
}

fn linear_lookup(v: &[Record], off: u64) -> Option<Record> {
    v.iter()
        .find(|r| r.offset <= off && off < r.offset + r.length)
        .copied()
}

fn linear_upsert(v: &mut Vec<Record>, r: Record) {
    v.retain(|x| x.offset + x.length <= r.offset || x.offset >= r.offset + r.length);
    let pos = v
        .iter()
        .position(|x| x.offset > r.offset)
        .unwrap_or(v.len());
    v.insert(pos, r);
}

/// The four structures, each holding records of blocks 0 to `n - 1`.
fn filled(n: u64) -> (Cache, Cache512, BTreeMap<u64, Record>, Vec<Record>) {
    let mut cache = Cache::default();
    let mut cache512 = Cache512::default();
    let mut map = BTreeMap::new();
    let mut vec = Vec::new();
    for b in 0..n {
        cache_upsert(&mut cache, &rec(b, 0));
        cache_upsert(&mut cache512, &rec(b, 0));
        map.insert(b * BS, rec(b, 0));
        vec.push(rec(b, 0));
    }
    assert_eq!(cache.len() as u64, n);
    assert_eq!(cache512.len() as u64, n);
    (cache, cache512, map, vec)
}

fn lookup(c: &mut Criterion) {
    let mut g = c.benchmark_group("lookup");
    for n in SIZES {
        let (cache, cache512, map, vec) = filled(n);
        let offs: Vec<u64> = common::below(n).take(4096).map(|b| b * BS + 7).collect();
        g.bench_with_input(BenchmarkId::new("extent_tree", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % offs.len();
                black_box(cache.lookup(offs[i]))
            })
        });
        g.bench_with_input(BenchmarkId::new("extent_tree_512", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % offs.len();
                black_box(cache512.lookup(offs[i]))
            })
        });
        g.bench_with_input(BenchmarkId::new("btreemap", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % offs.len();
                black_box(btree_lookup(&map, offs[i]))
            })
        });
        g.bench_with_input(BenchmarkId::new("linear", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % offs.len();
                black_box(linear_lookup(&vec, offs[i]))
            })
        });
    }
    g.finish();
}

fn upsert(c: &mut Criterion) {
    let mut g = c.benchmark_group("upsert");
    for n in SIZES {
        let (mut cache, mut cache512, mut map, mut vec) = filled(n);
        let recs: Vec<Record> = common::below(n)
            .take(4096)
            .enumerate()
            .map(|(i, b)| rec(b, i as u64))
            .collect();
        g.bench_with_input(BenchmarkId::new("extent_tree", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % recs.len();
                cache_upsert(&mut cache, black_box(&recs[i]))
            })
        });
        assert_eq!(cache.len() as u64, n);
        g.bench_with_input(BenchmarkId::new("extent_tree_512", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % recs.len();
                cache_upsert(&mut cache512, black_box(&recs[i]))
            })
        });
        assert_eq!(cache512.len() as u64, n);
        g.bench_with_input(BenchmarkId::new("btreemap", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % recs.len();
                btree_upsert(&mut map, black_box(recs[i]))
            })
        });
        g.bench_with_input(BenchmarkId::new("linear", n), &n, |bch, _| {
            let mut i = 0;
            bch.iter(|| {
                i = (i + 1) % recs.len();
                linear_upsert(&mut vec, black_box(recs[i]))
            })
        });
    }
    g.finish();
}

/// A whole workload replayed under each policy: what eviction costs, per
/// trace of 20000 accesses over 16 Ki extents against a fork of 2048
/// records.
fn policies(c: &mut Criterion) {
    let mut g = c.benchmark_group("workload");
    let p = Params {
        extents: 16384,
        accesses: 20_000,
        seed: 1,
        cache_maxbytes: 64 << 10,
    };
    for name in ["zipf", "hotset"] {
        let mut trace = Vec::new();
        workload::write(name, &p, &mut trace).unwrap().unwrap();
        let trace = String::from_utf8(trace).unwrap();
        for (policy, label) in [
            (CachePolicy::Clock, "clock"),
            (CachePolicy::DropFork, "drop"),
        ] {
            g.bench_with_input(BenchmarkId::new(label, name), &trace, |bch, t| {
                bch.iter(|| replay::run_with(t, policy, &mut std::io::sink()).unwrap())
            });
        }
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = lookup, upsert, policies
}
criterion_main!(benches);
