// SPDX-License-Identifier: GPL-2.0

//! Cost of one famfs resolution: simple files of 1, 8 and 32 extents, and
//! interleaved files of 1 group of 4 strips, 8 groups of 8, 32 groups of
//! 32, at random offsets, in one run. `make bench`; the table is in
//! Documentation/fuse_iomap/famfs.rst.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use fuse_iomap::bench::Fmap;
use fuse_iomap::fmap_build::{Ext, FmapSpec, Group, Layout};
use std::hint::black_box;

mod common;

const M: u64 = 1 << 20;

fn simple(n: u64) -> FmapSpec {
    FmapSpec::new(Layout::Simple(
        (0..n)
            .map(|i| Ext {
                dev: (i % 24) as u32,
                offset: i * 4 * M,
                len: 4 * M,
            })
            .collect(),
    ))
}

fn interleave(groups: u64, strips: u64) -> FmapSpec {
    FmapSpec::new(Layout::Interleave(
        (0..groups)
            .map(|g| Group {
                chunk: 2 << 20,
                nbytes: strips * 8 * M,
                strips: (0..strips)
                    .map(|s| Ext {
                        dev: ((g + s) % 24) as u32,
                        offset: (g * strips + s) * 8 * M,
                        len: 8 * M,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

fn resolve(c: &mut Criterion) {
    let mut g = c.benchmark_group("resolve");
    let files = [
        ("simple", 1, simple(1)),
        ("simple", 8, simple(8)),
        ("simple", 32, simple(32)),
        ("interleave", 1, interleave(1, 4)),
        ("interleave", 8, interleave(8, 8)),
        ("interleave", 32, interleave(32, 32)),
    ];
    for (kind, n, spec) in files {
        let fmap = Fmap::parse(&spec.build()).unwrap();
        let offs: Vec<u64> = common::below(spec.file_size).take(4096).collect();
        g.bench_with_input(BenchmarkId::new(kind, n), &n, |b, _| {
            let mut i = 0;
            b.iter(|| {
                i = (i + 1) % offs.len();
                black_box(fmap.resolve(offs[i], 64 << 10))
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = common::config();
    targets = resolve
}
criterion_main!(benches);
