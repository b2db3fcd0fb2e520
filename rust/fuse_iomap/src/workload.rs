// SPDX-License-Identifier: GPL-2.0

//! `cache workload`: traces of access patterns over a fragmented file much
//! larger than a fork's limit, to judge cache policies by the upcalls they
//! cause (`cache replay --policy`, `cache compare`, and the benchmark).
//!
//! The file is `extents` mapped extents of 1 to 16 blocks of 4 KiB, at
//! device addresses that never continue their neighbour's, so that nothing
//! merges and each extent is one record. The trace first tells the server
//! its answers (`server` lines), then makes the accesses, one
//! `iomap_begin` each, at a random byte of the extent the pattern picks:
//!
//! - `sequential`: the extents in order, over and over, as a stream reads.
//! - `zipf`: extents by a Zipf law of exponent 1 over their popularity
//!   ranks, the ranks shuffled over the file, as hot rows of a table lie.
//! - `hotset`: nine accesses in ten fall uniformly in a window of extents
//!   as large as half the limit, which moves on by one extent every eight
//!   accesses; the tenth falls anywhere.
//! - `mixed`: `zipf`, where three accesses in ten are writes through the
//!   write fork (copy-on-write destinations), each followed by its
//!   completion: the server remaps the extent to where it was written,
//!   chooses a new destination and invalidates both forks' records of it.

use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Zipf};
use rand_xorshift::XorShiftRng;
use std::io::{self, Write};

/// The workloads, by name.
pub const NAMES: [&str; 4] = ["sequential", "zipf", "hotset", "mixed"];

const BLOCK: u64 = 4096;

/// The size of a workload.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    /// Extents in the file.
    pub extents: u64,
    /// Accesses made.
    pub accesses: u64,
    /// The seed of the pseudo-random choices.
    pub seed: u64,
    /// The limit of each fork, as a server configures it.
    pub cache_maxbytes: u32,
}

impl Default for Params {
    /// 65536 extents against the default limit of 8192 records.
    fn default() -> Self {
        Self {
            extents: 65536,
            accesses: 400_000,
            seed: 1,
            cache_maxbytes: 256 << 10,
        }
    }
}

/// The file's extents: offset and length of each.
fn layout(rng: &mut XorShiftRng, extents: u64) -> Vec<(u64, u64)> {
    let mut off = 0;
    (0..extents)
        .map(|_| {
            let len = rng.random_range(1..=16) * BLOCK;
            off += len;
            (off - len, len)
        })
        .collect()
}

/// One of two device addresses of the extent at `off` in a file of
/// `size` bytes: region 0 or 1. Twice the offset leaves a gap after every
/// extent, so no two extents' addresses are contiguous.
fn addr(off: u64, region: u64, size: u64) -> u64 {
    2 * off + region * 2 * size
}

fn server(out: &mut impl Write, fork: &str, (off, len): (u64, u64), addr: u64) -> io::Result<()> {
    writeln!(out, "server {fork} {off} {len} mapped {addr} 1 0")
}

fn access(
    out: &mut impl Write,
    rng: &mut XorShiftRng,
    fork: &str,
    (off, len): (u64, u64),
) -> io::Result<()> {
    writeln!(out, "access {fork} {}", off + rng.random_range(0..len))
}

/// Writes the trace of workload `name`; `None` for an unknown name.
pub fn write(name: &str, p: &Params, out: &mut impl Write) -> Option<io::Result<()>> {
    if !NAMES.contains(&name) {
        return None;
    }
    Some(write_known(name, p, out))
}

fn write_known(name: &str, p: &Params, out: &mut impl Write) -> io::Result<()> {
    let mut rng = XorShiftRng::seed_from_u64(p.seed);
    let extents = layout(&mut rng, p.extents.max(1));
    let n = extents.len();
    let size = extents.last().map_or(0, |(o, l)| o + l);
    writeln!(
        out,
        "# workload {name}: {n} extents ({size} bytes), {} accesses, seed {}",
        p.accesses, p.seed
    )?;
    writeln!(
        out,
        "config blocksize={BLOCK} cache_maxbytes={}",
        p.cache_maxbytes
    )?;
    writeln!(out, "device 1 {}", 4 * size)?;
    for &e in &extents {
        server(out, "read", e, addr(e.0, 0, size))?;
    }
    let zipf = Zipf::new(n as f64, 1.0).map_err(io::Error::other)?;
    let mut ranked: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        ranked.swap(i, rng.random_range(0..=i));
    }
    let zipf_pick = |rng: &mut XorShiftRng| ranked[zipf.sample(rng) as usize - 1];
    match name {
        "sequential" => {
            for i in 0..p.accesses {
                access(out, &mut rng, "read", extents[i as usize % n])?;
            }
        }
        "zipf" => {
            for _ in 0..p.accesses {
                let e = extents[zipf_pick(&mut rng)];
                access(out, &mut rng, "read", e)?;
            }
        }
        "hotset" => {
            let window = (p.cache_maxbytes as usize / 32 / 2).clamp(1, n);
            for i in 0..p.accesses as usize {
                let e = if rng.random_range(0..10) < 9 {
                    (i / 8 + rng.random_range(0..window)) % n
                } else {
                    rng.random_range(0..n)
                };
                access(out, &mut rng, "read", extents[e])?;
            }
        }
        _ => {
            // Where each extent's data is now: region 0 or 1; writes go to
            // the other.
            let mut region = vec![0u64; n];
            for &e in &extents {
                server(out, "write", e, addr(e.0, 1, size))?;
            }
            for _ in 0..p.accesses {
                let i = zipf_pick(&mut rng);
                let e = extents[i];
                if rng.random_range(0..10) >= 3 {
                    access(out, &mut rng, "read", e)?;
                    continue;
                }
                access(out, &mut rng, "write", e)?;
                region[i] ^= 1;
                server(out, "read", e, addr(e.0, region[i], size))?;
                server(out, "write", e, addr(e.0, region[i] ^ 1, size))?;
                writeln!(out, "inval both {} {}", e.0, e.1)?;
            }
        }
    }
    writeln!(out, "stats")
}
