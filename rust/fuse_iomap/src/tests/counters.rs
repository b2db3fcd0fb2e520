// SPDX-License-Identifier: GPL-2.0

//! The counters: how answers are counted, and the snapshot's indices.

use crate::abi::{IomapIo, FUSE_GET_DAXDEV, FUSE_INIT, FUSE_IOMAP_BEGIN};
use crate::counters::{Counters, Reject};
use crate::iomap_begin::{Answer, Source};

fn answer(source: Source, retries: u32) -> Answer {
    Answer {
        read: IomapIo::default(),
        write: None,
        cookie: 0,
        source,
        retries,
    }
}

#[test]
fn a_hit_after_a_retry_was_a_miss() {
    let c = Counters::new();
    c.answered(&answer(Source::Cache, 0));
    c.answered(&answer(Source::Cache, 1));
    c.answered(&answer(Source::Upcall, 2));
    c.answered(&answer(Source::Bpf, 0));
    c.missed();
    let s = c.snapshot();
    assert_eq!(
        (s.cache_hits, s.cache_misses, s.bpf_answers, s.retries),
        (1, 4, 1, 3)
    );
}

#[test]
fn upcalls_and_rejects_land_at_their_uapi_index() {
    let c = Counters::new();
    c.upcall(FUSE_INIT);
    c.upcall(FUSE_IOMAP_BEGIN);
    c.upcall(FUSE_IOMAP_BEGIN);
    c.upcall(FUSE_GET_DAXDEV);
    c.upcall(1);
    c.reject(Reject::Unique);
    c.reject(Reject::Init);
    c.interrupted();
    let s = c.snapshot();
    assert_eq!(s.upcalls, [1, 0, 2, 0, 0, 0, 1, 0]);
    assert_eq!(s.rejected, [0, 1, 0, 0, 0, 0, 0, 1]);
    assert_eq!(s.interrupted, 1);
}
