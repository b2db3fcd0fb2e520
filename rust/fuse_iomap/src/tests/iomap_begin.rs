// SPDX-License-Identifier: GPL-2.0

//! The `iomap_begin` decision logic, with a scripted BPF program and server.

use super::harness::{io, nocache, BS};
use crate::abi::{
    IomapBeginIn, IomapBeginOut, IomapIo, MappingType, OP_ATOMIC, OP_DIRECT, OP_NOWAIT,
    OP_SWAPFILE, OP_UNSHARE, OP_WRITE, OP_WRITEBACK, OP_ZERO,
};
use crate::cache::{CacheLimit, Fork, Forks, Seq};
use crate::errno::efscorrupted;
use crate::iomap_begin::{iomap_begin, lookup, Answer, Resolver, Source};
use crate::mapping::{Devices, Geometry};
use kernel::error::code::{EAGAIN, EINTR, EINVAL, EIO};
use kernel::prelude::*;
use std::cell::Cell;
use std::collections::VecDeque;

struct OneDevice;

impl Devices for OneDevice {
    fn size(&self, dev: u32) -> Option<u64> {
        (dev == 1).then_some(1 << 30)
    }
}

fn answer(read: IomapIo, write: IomapIo) -> IomapBeginOut {
    IomapBeginOut { read, write }
}

fn retry() -> IomapBeginOut {
    answer(
        IomapIo {
            r#type: MappingType::RetryCache as u16,
            ..Default::default()
        },
        nocache(),
    )
}

/// A resolver whose BPF program and server answer from scripts; an upcall
/// may upsert into the cache first, as a server does before RETRY_CACHE.
struct Script {
    forks: Forks,
    seq: Seq,
    has_cache: bool,
    bpf: VecDeque<Option<IomapBeginOut>>,
    server: VecDeque<(Option<IomapIo>, Result<IomapBeginOut>)>,
    signal_after: Option<usize>,
    upcalls: Cell<usize>,
    bpf_calls: usize,
}

impl Script {
    fn new() -> Self {
        Self {
            forks: Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget()),
            seq: Seq::new(),
            has_cache: true,
            bpf: VecDeque::new(),
            server: VecDeque::new(),
            signal_after: None,
            upcalls: Cell::new(0),
            bpf_calls: 0,
        }
    }

    fn cache(mut self, fork: Fork, m: IomapIo) -> Self {
        self.forks.upsert(&self.seq, fork, &m).unwrap();
        self
    }
}

impl Resolver for Script {
    fn cached(&self, opflags: u32, pos: u64) -> Option<Answer> {
        lookup(&self.forks, &self.seq, opflags, pos)
    }
    fn has_cache(&self) -> bool {
        self.has_cache
    }
    fn bpf(&mut self, _req: &IomapBeginIn) -> Result<Option<IomapBeginOut>> {
        self.bpf_calls += 1;
        Ok(self.bpf.pop_front().flatten())
    }
    fn upcall(&mut self, _req: &IomapBeginIn) -> Result<IomapBeginOut> {
        self.upcalls.set(self.upcalls.get() + 1);
        let (upsert, reply) = self.server.pop_front().expect("unexpected upcall");
        if let Some(m) = upsert {
            self.forks.upsert(&self.seq, Fork::Read, &m).unwrap();
        }
        reply
    }
    fn signal_pending(&self) -> bool {
        self.signal_after.is_some_and(|n| self.upcalls.get() >= n)
    }
}

fn begin(s: &mut Script, opflags: u32, pos: u64) -> Result<Answer> {
    let req = IomapBeginIn {
        opflags,
        pos,
        count: BS,
        ..Default::default()
    };
    iomap_begin(&req, s, &Geometry::DEFAULT, &OneDevice)
}

#[test]
fn cache_hit_makes_no_upcall() {
    let m = io(MappingType::Mapped, 0, 4);
    let mut s = Script::new().cache(Fork::Read, m);
    let a = begin(&mut s, 0, 2 * BS).unwrap();
    assert_eq!(
        (a.read, a.write, a.source, a.cookie),
        (m, None, Source::Cache, 2)
    );
    assert_eq!((s.upcalls.get(), s.bpf_calls), (0, 0));
}

#[test]
fn miss_asks_bpf_then_the_server() {
    let m = io(MappingType::Mapped, 0, 1);
    let mut s = Script::new();
    s.server.push_back((None, Ok(answer(m, nocache()))));
    let a = begin(&mut s, 0, 0).unwrap();
    assert_eq!((a.read, a.source, a.cookie), (m, Source::Upcall, 0));
    assert_eq!((s.bpf_calls, s.upcalls.get()), (1, 1));
    // Not cached by the kernel: the server upserts if it wants caching.
    assert_eq!(s.forks.len(Fork::Read), 0);
}

#[test]
fn bpf_answer_needs_no_upcall() {
    let m = io(MappingType::Unwritten, 3, 1);
    let mut s = Script::new();
    s.bpf.push_back(Some(answer(m, nocache())));
    let a = begin(&mut s, 0, 3 * BS).unwrap();
    assert_eq!((a.read, a.source), (m, Source::Bpf));
    assert_eq!(s.upcalls.get(), 0);
}

#[test]
fn retry_cache_looks_again_after_the_server_upserted() {
    let m = io(MappingType::Mapped, 0, 8);
    let mut s = Script::new();
    s.server.push_back((Some(m), Ok(retry())));
    let a = begin(&mut s, 0, BS).unwrap();
    assert_eq!((a.read, a.source, a.retries), (m, Source::Cache, 1));
    assert_ne!(a.cookie, 0);
}

#[test]
fn retry_cache_from_bpf_then_miss_upcalls_and_never_reruns_bpf() {
    let m = io(MappingType::Mapped, 0, 1);
    let mut s = Script::new();
    s.bpf.push_back(Some(retry()));
    s.bpf.push_back(Some(retry()));
    s.server.push_back((None, Ok(answer(m, nocache()))));
    let a = begin(&mut s, 0, 0).unwrap();
    assert_eq!(
        (a.source, a.retries, s.bpf_calls, s.upcalls.get()),
        (Source::Upcall, 1, 1, 1)
    );
}

#[test]
fn endless_retry_cache_stops_at_a_signal() {
    let mut s = Script::new();
    for _ in 0..5 {
        s.server.push_back((None, Ok(retry())));
    }
    s.signal_after = Some(3);
    assert_eq!(begin(&mut s, 0, 0), Err(EINTR));
    assert_eq!(s.upcalls.get(), 3);
}

#[test]
fn retry_cache_without_a_cache_is_corruption() {
    let mut s = Script::new();
    s.has_cache = false;
    s.server.push_back((None, Ok(retry())));
    assert_eq!(begin(&mut s, 0, 0), Err(efscorrupted()));
    let mut s = Script::new();
    s.has_cache = false;
    s.bpf.push_back(Some(retry()));
    assert_eq!(begin(&mut s, 0, 0), Err(EINVAL));
}

#[test]
fn nowait_miss_is_eagain_without_upcall() {
    let mut s = Script::new();
    assert_eq!(begin(&mut s, OP_NOWAIT, 0), Err(EAGAIN));
    assert_eq!((s.bpf_calls, s.upcalls.get()), (0, 0));
    let mut s = Script::new().cache(Fork::Read, io(MappingType::Mapped, 0, 1));
    assert_eq!(begin(&mut s, OP_NOWAIT, 0).unwrap().source, Source::Cache);
}

#[test]
fn atomic_and_swapfile_bypass_the_cache_and_may_not_retry_it() {
    for op in [OP_ATOMIC | OP_WRITE, OP_SWAPFILE] {
        let m = io(MappingType::Mapped, 0, 1);
        let mut s = Script::new().cache(Fork::Read, m);
        s.server.push_back((None, Ok(answer(m, nocache()))));
        assert_eq!(begin(&mut s, op, 0).unwrap().source, Source::Upcall);
        s.server.push_back((None, Ok(retry())));
        assert_eq!(begin(&mut s, op, 0), Err(efscorrupted()));
    }
}

#[test]
fn write_uses_the_write_fork_as_destination_and_read_fork_as_source() {
    let r = io(MappingType::Mapped, 0, 4);
    let w = IomapIo {
        addr: 100 * BS,
        ..io(MappingType::Mapped, 0, 2)
    };
    let mut s = Script::new().cache(Fork::Read, r).cache(Fork::Write, w);
    let a = begin(&mut s, OP_WRITE, BS).unwrap();
    assert_eq!((a.read, a.write), (r, Some(w)));
    // Past the write fork's record: a miss, asked of the server.
    s.server.push_back((None, Ok(answer(r, nocache()))));
    assert_eq!(
        begin(&mut s, OP_WRITE, 3 * BS).unwrap().source,
        Source::Upcall
    );
    // Reads ignore the write fork.
    assert_eq!(begin(&mut s, 0, 3 * BS).unwrap().source, Source::Cache);
}

#[test]
fn pure_overwrite_or_no_write_fork_means_the_read_mapping() {
    let r = io(MappingType::Mapped, 0, 4);
    let mut s = Script::new().cache(Fork::Read, r);
    let a = begin(&mut s, OP_WRITE, 0).unwrap();
    assert_eq!((a.read, a.write, a.source), (r, None, Source::Cache));
    let mut s = s.cache(Fork::Write, io(MappingType::PureOverwrite, 0, 4));
    let a = begin(&mut s, OP_WRITE, 0).unwrap();
    assert_eq!((a.read, a.write, a.source), (r, None, Source::Cache));
}

#[test]
fn write_fork_hit_needs_a_read_fork_hit() {
    let mut s = Script::new().cache(Fork::Write, io(MappingType::Mapped, 0, 4));
    s.server
        .push_back((None, Ok(answer(io(MappingType::Hole, 0, 4), nocache()))));
    assert_eq!(begin(&mut s, OP_WRITE, 0).unwrap().source, Source::Upcall);
}

#[test]
fn cached_hole_serves_only_zero_and_unshare_writes() {
    let hole = io(MappingType::Hole, 0, 4);
    let mut s = Script::new().cache(Fork::Read, hole);
    assert_eq!(begin(&mut s, 0, 0).unwrap().source, Source::Cache);
    assert_eq!(
        begin(&mut s, OP_WRITE | OP_ZERO, 0).unwrap().source,
        Source::Cache
    );
    assert_eq!(
        begin(&mut s, OP_WRITE | OP_UNSHARE, 0).unwrap().source,
        Source::Cache
    );
    s.server
        .push_back((None, Ok(answer(io(MappingType::Mapped, 0, 1), nocache()))));
    assert_eq!(begin(&mut s, OP_WRITE, 0).unwrap().source, Source::Upcall);
}

#[test]
fn cached_delalloc_is_a_miss_for_direct_and_writeback() {
    let d = io(MappingType::Delalloc, 0, 4);
    let mut s = Script::new().cache(Fork::Read, d);
    assert_eq!(begin(&mut s, OP_WRITE, 0).unwrap().source, Source::Cache);
    for op in [OP_DIRECT, OP_WRITE | OP_WRITEBACK] {
        s.server
            .push_back((None, Ok(answer(io(MappingType::Mapped, 0, 1), nocache()))));
        assert_eq!(begin(&mut s, op, 0).unwrap().source, Source::Upcall);
    }
}

#[test]
fn hostile_answers_are_rejected_with_the_origin_code() {
    let good = io(MappingType::Mapped, 0, 1);
    let bad = [
        answer(IomapIo { length: 0, ..good }, nocache()),
        answer(IomapIo { dev: 7, ..good }, nocache()),
        answer(nocache(), nocache()),
        answer(io(MappingType::Mapped, 5, 1), nocache()),
        answer(good, io(MappingType::Mapped, 5, 1)),
        answer(good, retry().read),
        answer(io(MappingType::PureOverwrite, 0, 1), nocache()),
    ];
    for out in bad {
        let mut s = Script::new();
        s.server.push_back((None, Ok(out)));
        assert_eq!(begin(&mut s, OP_WRITE, 0), Err(efscorrupted()), "{out:?}");
        let mut s = Script::new();
        s.bpf.push_back(Some(out));
        assert_eq!(begin(&mut s, OP_WRITE, 0), Err(EINVAL), "{out:?}");
    }
}

#[test]
fn upcall_errors_pass_through() {
    let mut s = Script::new();
    s.server.push_back((None, Err(EIO)));
    assert_eq!(begin(&mut s, 0, 0), Err(EIO));
}
