// SPDX-License-Identifier: GPL-2.0

//! `iomap_begin`: where the mapping of a file range comes from.
//!
//! In order: (1) the inode's mapping cache, (2) the connection's BPF
//! program, (3) a `FUSE_IOMAP_BEGIN` upcall to the server. A BPF program or
//! the server may answer `RETRY_CACHE` ("I upserted, look again"): the cache
//! is consulted again, and on a second miss the server is asked (never the
//! BPF program again, so that a program cannot keep the kernel in a loop);
//! a server that keeps answering `RETRY_CACHE` without upserting keeps its
//! caller waiting only until a signal arrives (`EINTR`).
//!
//! Rules of the cache path:
//!
//! - `NOWAIT` and a miss: `EAGAIN`, as nothing else may block;
//! - `ATOMIC` and `SWAPFILE` bypass the cache and may not retry it: they need
//!   the server's current answer;
//! - a write finds its destination in the write fork; a `PURE_OVERWRITE`
//!   record there, or a never used write fork, means the read mapping is
//!   both source and destination; a write-fork hit also needs the read fork
//!   to hit, for the source;
//! - a cached hole serves a write only for `ZERO` or `UNSHARE` (nothing to
//!   zero or unshare), and a cached delalloc extent never serves `DIRECT` or
//!   `WRITEBACK` I/O, which need real blocks: both are misses.
//!
//! An answer from BPF or the server is validated like any mapping from its
//! origin, must contain `pos`, and is not cached: a server caches with
//! `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS` (or a BPF kfunc), then may answer
//! `RETRY_CACHE`. Its cookie is 0: it comes straight from the source and
//! cannot be stale.

use crate::abi::{
    IomapBeginIn, IomapBeginOut, IomapIo, MappingType, OP_ATOMIC, OP_DIRECT, OP_NOWAIT,
    OP_SWAPFILE, OP_UNSHARE, OP_WRITE, OP_WRITEBACK, OP_ZERO,
};
use crate::cache::{Fork, Forks, Lookup, Seq};
use crate::mapping::{validate, Devices, Geometry, Origin, Slot};
use crate::ratelimit::pr_warn_ratelimited;
use kernel::prelude::*;

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// The mapping cache.
    Cache,
    /// The BPF program.
    Bpf,
    /// A `FUSE_IOMAP_BEGIN` upcall.
    Upcall,
}

/// The mappings for one `iomap_begin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Answer {
    /// The source mapping: where reads, and writes' old data, come from.
    pub(crate) read: IomapIo,
    /// The destination of a write, when it differs from `read`.
    pub(crate) write: Option<IomapIo>,
    /// Validity cookie for `iomap_valid`: the cache's sequence number at
    /// lookup time, or 0 for an answer straight from BPF or the server.
    pub(crate) cookie: u64,
    /// Where the answer came from.
    pub(crate) source: Source,
    /// How many `RETRY_CACHE` answers it took.
    pub(crate) retries: u32,
}

/// What [`iomap_begin`] consults besides the cache: the BPF program, the
/// server, and the calling task.
pub(crate) trait Resolver {
    /// Looks `pos` up in the inode's cache for an operation with `opflags`,
    /// under the inode's lock (see [`lookup`]). `None` is a miss.
    fn cached(&self, opflags: u32, pos: u64) -> Option<Answer>;
    /// Whether the inode has a mapping cache at all.
    fn has_cache(&self) -> bool;
    /// Runs the BPF program's `iomap_begin`; `None` when there is no program
    /// or it answered `FIB_FALLBACK`.
    fn bpf(&mut self, req: &IomapBeginIn) -> Result<Option<IomapBeginOut>>;
    /// Sends `FUSE_IOMAP_BEGIN` and waits for the reply.
    fn upcall(&mut self, req: &IomapBeginIn) -> Result<IomapBeginOut>;
    /// Whether the calling task has a signal pending.
    fn signal_pending(&self) -> bool;
}

/// Looks up the mappings for an operation with `opflags` at `pos` in
/// `forks`, following the write-fork rules of this file.
pub(crate) fn lookup(forks: &Forks, seq: &Seq, opflags: u32, pos: u64) -> Option<Answer> {
    let Lookup::Hit(read, cookie) = forks.lookup(seq, Fork::Read, pos) else {
        return None;
    };
    let write = if opflags & OP_WRITE == 0 {
        None
    } else {
        match forks.lookup(seq, Fork::Write, pos) {
            Lookup::Hit(w, _) if w.r#type == MappingType::PureOverwrite as u16 => None,
            Lookup::Hit(w, _) => Some(w),
            Lookup::NoFork => None,
            Lookup::Miss => return None,
        }
    };
    let dest = write.as_ref().unwrap_or(&read);
    let is = |m: &IomapIo, t: MappingType| m.r#type == t as u16;
    if opflags & OP_WRITE != 0
        && is(dest, MappingType::Hole)
        && opflags & (OP_ZERO | OP_UNSHARE) == 0
    {
        return None;
    }
    if opflags & (OP_DIRECT | OP_WRITEBACK) != 0
        && (is(&read, MappingType::Delalloc)
            || write.is_some_and(|w| is(&w, MappingType::Delalloc)))
    {
        return None;
    }
    Some(Answer {
        read,
        write,
        cookie,
        source: Source::Cache,
        retries: 0,
    })
}

/// What an answer from BPF or the server says.
enum Reply {
    Mapping(IomapIo, Option<IomapIo>),
    RetryCache,
}

/// Validates `out`, an answer from `origin` to `req`.
fn check_reply(
    out: &IomapBeginOut,
    origin: Origin,
    req: &IomapBeginIn,
    geo: &Geometry,
    devices: &impl Devices,
) -> Result<Reply> {
    let reject = |why: &str| {
        pr_warn_ratelimited!(
            "iomap_begin: {:?} answer rejected at pos {}: {}\n",
            origin,
            req.pos,
            why
        );
        origin.error()
    };
    let read = validate(&out.read, Slot::Read, origin, geo, devices).map_err(|e| reject(e.0))?;
    match read {
        MappingType::RetryCache => return Ok(Reply::RetryCache),
        MappingType::NoCache => return Err(reject("no read mapping")),
        _ => {}
    }
    let contains = |m: &IomapIo| m.offset <= req.pos && req.pos - m.offset < m.length;
    if !contains(&out.read) {
        return Err(reject("read mapping does not contain pos"));
    }
    let write = validate(&out.write, Slot::Write, origin, geo, devices).map_err(|e| reject(e.0))?;
    let write = match write {
        MappingType::NoCache | MappingType::PureOverwrite => None,
        MappingType::RetryCache => return Err(reject("RETRY_CACHE in the write slot only")),
        _ if !contains(&out.write) => return Err(reject("write mapping does not contain pos")),
        _ => Some(out.write),
    };
    Ok(Reply::Mapping(out.read, write))
}

/// Finds the mappings for `req`: from the cache, BPF or the server.
pub(crate) fn iomap_begin(
    req: &IomapBeginIn,
    resolver: &mut impl Resolver,
    geo: &Geometry,
    devices: &impl Devices,
) -> Result<Answer> {
    let bypass = req.opflags & (OP_ATOMIC | OP_SWAPFILE) != 0;
    if !bypass {
        if let Some(answer) = resolver.cached(req.opflags, req.pos) {
            return Ok(answer);
        }
    }
    if req.opflags & OP_NOWAIT != 0 {
        return Err(EAGAIN);
    }
    let mut retries = 0;
    let mut bpf_may_answer = true;
    loop {
        let bpf = if bpf_may_answer {
            resolver.bpf(req)?
        } else {
            None
        };
        let (out, origin, source) = match bpf {
            Some(out) => (out, Origin::Bpf, Source::Bpf),
            None => (resolver.upcall(req)?, Origin::Reply, Source::Upcall),
        };
        match check_reply(&out, origin, req, geo, devices)? {
            Reply::Mapping(read, write) => {
                return Ok(Answer {
                    read,
                    write,
                    cookie: 0,
                    source,
                    retries,
                })
            }
            Reply::RetryCache if bypass || !resolver.has_cache() => {
                pr_warn_ratelimited!(
                    "iomap_begin: RETRY_CACHE from {:?} without a usable cache\n",
                    origin
                );
                return Err(origin.error());
            }
            Reply::RetryCache => {
                retries = retries.saturating_add(1);
                if let Some(answer) = resolver.cached(req.opflags, req.pos) {
                    return Ok(Answer { retries, ..answer });
                }
                if resolver.signal_pending() {
                    return Err(EINTR);
                }
                bpf_may_answer = false;
            }
        }
    }
}
