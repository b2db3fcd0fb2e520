// SPDX-License-Identifier: GPL-2.0

//! What a connection has done: `iomap_begin` answers by source, requests
//! sent by opcode, and the server's writes refused, by reason.
//!
//! Each counter is a relaxed atomic: they are statistics, read as a
//! snapshot by `FUSE_IOMAP_IOC_COUNTERS`, and order nothing.

use crate::abi::{
    Counters as Snapshot, FUSE_GET_DAXDEV, FUSE_GET_FMAP, FUSE_INIT, FUSE_IOMAP_BEGIN,
    FUSE_IOMAP_CONFIG, FUSE_IOMAP_END, FUSE_IOMAP_IOEND, NR_REJECTS, NR_UPCALLS,
};
use crate::iomap_begin::{Answer, Source};
use core::sync::atomic::{AtomicU64, Ordering};

/// Why a write from the server was refused (`FUSE_IOMAP_REJECT_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reject {
    /// A malformed `fuse_out_header`.
    Header = 0,
    /// A reply to no sent request.
    Unique = 1,
    /// A reply of the wrong size for its request.
    Size = 2,
    /// A notification refused.
    Notify = 3,
    /// An `IOMAP_BEGIN` reply with an invalid mapping.
    Mapping = 4,
    /// A `GET_FMAP` reply refused.
    Fmap = 5,
    /// A `GET_DAXDEV` reply refused.
    Daxdev = 6,
    /// An `INIT` or `IOMAP_CONFIG` reply refused.
    Init = 7,
}

/// The counters of one connection.
pub(crate) struct Counters {
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
    bpf_answers: AtomicU64,
    retries: AtomicU64,
    interrupted: AtomicU64,
    upcalls: [AtomicU64; NR_UPCALLS],
    rejected: [AtomicU64; NR_REJECTS],
}

/// The index of `opcode` in `fuse_iomap_counters.upcalls[]`.
pub(crate) fn upcall_index(opcode: u32) -> Option<usize> {
    Some(match opcode {
        FUSE_INIT => 0,
        FUSE_IOMAP_CONFIG => 1,
        FUSE_IOMAP_BEGIN => 2,
        FUSE_IOMAP_END => 3,
        FUSE_IOMAP_IOEND => 4,
        FUSE_GET_FMAP => 5,
        FUSE_GET_DAXDEV => 6,
        _ => return None,
    })
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

impl Counters {
    /// All zero.
    pub(crate) fn new() -> Self {
        Self {
            cache_hits: AtomicU64::new(0),
            cache_misses: AtomicU64::new(0),
            bpf_answers: AtomicU64::new(0),
            retries: AtomicU64::new(0),
            interrupted: AtomicU64::new(0),
            upcalls: core::array::from_fn(|_| AtomicU64::new(0)),
            rejected: core::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Counts an `iomap_begin` answer: a hit, or a miss answered by BPF or
    /// the server after `retries` `RETRY_CACHE` answers.
    pub(crate) fn answered(&self, answer: &Answer) {
        match answer.source {
            Source::Cache if answer.retries == 0 => bump(&self.cache_hits),
            Source::Bpf => {
                bump(&self.cache_misses);
                bump(&self.bpf_answers);
            }
            Source::Cache | Source::Upcall => bump(&self.cache_misses),
        }
        self.retries
            .fetch_add(u64::from(answer.retries), Ordering::Relaxed);
    }

    /// Counts an `iomap_begin` that missed the cache and then failed.
    pub(crate) fn missed(&self) {
        bump(&self.cache_misses);
    }

    /// Counts a request sent to the server.
    pub(crate) fn upcall(&self, opcode: u32) {
        if let Some(i) = upcall_index(opcode) {
            bump(&self.upcalls[i]);
        }
    }

    /// Counts a request abandoned to a signal.
    pub(crate) fn interrupted(&self) {
        bump(&self.interrupted);
    }

    /// Counts a write from the server refused for `why`.
    pub(crate) fn reject(&self, why: Reject) {
        bump(&self.rejected[why as usize]);
    }

    /// A snapshot, as `struct fuse_iomap_counters`.
    pub(crate) fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            cache_hits: get(&self.cache_hits),
            cache_misses: get(&self.cache_misses),
            bpf_answers: get(&self.bpf_answers),
            retries: get(&self.retries),
            interrupted: get(&self.interrupted),
            upcalls: core::array::from_fn(|i| get(&self.upcalls[i])),
            rejected: core::array::from_fn(|i| get(&self.rejected[i])),
            cache_bytes: 0,
            cache_budget: 0,
        }
    }
}
