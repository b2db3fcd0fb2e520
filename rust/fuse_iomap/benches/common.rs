// SPDX-License-Identifier: GPL-2.0

//! What the benchmarks share: criterion's settings and a deterministic
//! stream of pseudo-random numbers.

use criterion::Criterion;
use std::time::Duration;

/// Short runs: the machines are small and the comparisons are in-run.
pub fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_millis(300))
        .measurement_time(Duration::from_secs(1))
        .sample_size(30)
}

/// Pseudo-random numbers below `n` (xorshift), the same at every run.
pub fn below(n: u64) -> impl Iterator<Item = u64> {
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    std::iter::repeat_with(move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    })
}
