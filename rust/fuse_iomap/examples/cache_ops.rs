// SPDX-License-Identifier: GPL-2.0

//! `cache_ops OP N`: 200000 operations OP on a read fork of N one-block
//! records, for callgrind, whose instruction counts the noise of a shared
//! machine does not move (Documentation/fuse_iomap/cache.rst):
//!
//! ```text
//! cargo build --release --example cache_ops
//! valgrind --tool=callgrind target/release/examples/cache_ops upsert 8192
//! ```
//!
//! OP is `lookup` or `upsert` on the cache, `btree-lookup` or
//! `btree-upsert` on the benchmark's `BTreeMap` stand-in, or `none` (the
//! set-up and the loop alone, to subtract).

use fuse_iomap::bench::Cache;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::ExitCode;

const BS: u64 = 4096;
const OPS: u64 = 200_000;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (op, n) = match args.as_slice() {
        [op, n] => match n.parse::<u64>() {
            Ok(n) if n > 0 => (op.as_str(), n),
            _ => return usage(),
        },
        _ => return usage(),
    };
    let mut cache: Cache = Cache::default();
    let mut map = BTreeMap::new();
    for b in 0..n {
        cache.upsert(b * BS, BS, b * 4 * BS);
        map.insert(b * BS, (BS, b * 4 * BS));
    }
    // The benchmark's xorshift: the same blocks in the same order.
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..OPS {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = x % n;
        let addr = (b * 2 + i % 2) * 2 * BS;
        match op {
            "lookup" => {
                black_box(cache.lookup(b * BS + 7));
            }
            "upsert" => cache.upsert(b * BS, BS, addr),
            "btree-lookup" => {
                black_box(map.range(..=b * BS + 7).next_back());
            }
            "btree-upsert" => {
                let hit: Vec<u64> = map.range(b * BS..b * BS + BS).map(|(k, _)| *k).collect();
                for k in hit {
                    map.remove(&k);
                }
                map.insert(b * BS, (BS, addr));
            }
            "none" => {
                black_box(addr);
            }
            _ => return usage(),
        }
    }
    ExitCode::SUCCESS
}

fn usage() -> ExitCode {
    eprintln!("usage: cache_ops lookup|upsert|btree-lookup|btree-upsert|none N");
    ExitCode::from(2)
}
