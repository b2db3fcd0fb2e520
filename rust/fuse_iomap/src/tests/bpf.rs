// SPDX-License-Identifier: GPL-2.0

//! A connection's BPF table, with programs written as Rust functions: the
//! order cache → program → server, the kfuncs that fill the cache, a
//! second table, a program's bad answer, and detaching.

use super::harness::{
    self, begin, io, nocache, read, reply, serve, upcalls, upsert, with_device, BS,
};
use crate::abi::{
    IomapBeginOut, IomapEndIn, IomapIo, IomapIoendIn, IomapIoendOut, MappingType, Range,
    FUSE_IOMAP, FUSE_IOMAP_BEGIN, FUSE_IOMAP_END, FUSE_IOMAP_IOEND, F_WANT_IOMAP_END,
};
use crate::bpf::{
    self, fuse_iomap_rs_bpf_inval, fuse_iomap_rs_bpf_unreg, fuse_iomap_rs_bpf_upsert,
};
use crate::cache::{Fork, Lookup};
use crate::glue::bpf::Program;
use crate::iomap_begin::Source;
use core::ffi::{c_int, c_void};
use kernel::error::code::{EBUSY, EINVAL};
use std::sync::OnceLock;

const HANDLED: c_int = 1;

/// The module's registration, once for all tests, as at module load.
pub(super) fn registration() {
    static REGISTRATION: OnceLock<bpf::Registration> = OnceLock::new();
    REGISTRATION.get_or_init(|| bpf::Registration::new().unwrap());
}

fn mapped(block: u64, blocks: u64) -> IomapIo {
    io(MappingType::Mapped, block, blocks)
}

fn ready() -> kernel::sync::Arc<crate::connection::Connection> {
    registration();
    with_device(FUSE_IOMAP)
}

/// Caches 16 blocks around the position with the kfunc, and answers
/// `RETRY_CACHE`.
fn upsert_and_retry(fbi: *mut c_void, pos: u64, _: u64, _: u32, out: &mut IomapBeginOut) -> c_int {
    let extent = mapped(pos / BS / 16 * 16, 16);
    // SAFETY: `fbi` is the program's; the mapping is readable, the write
    // fork's pointer NULL.
    let err = unsafe { fuse_iomap_rs_bpf_upsert(fbi, &extent, core::ptr::null()) };
    assert_eq!(err, 0);
    out.read.r#type = MappingType::RetryCache as u16;
    out.write.r#type = MappingType::NoCache as u16;
    HANDLED
}

/// Drops the first block from the cache with the kfunc, and falls back.
fn inval_and_fall_back(fbi: *mut c_void, _: u64, _: u64, _: u32, _: &mut IomapBeginOut) -> c_int {
    let first = Range {
        offset: 0,
        length: BS,
    };
    // SAFETY: As in `upsert_and_retry`.
    assert_eq!(
        unsafe { fuse_iomap_rs_bpf_inval(fbi, &first, core::ptr::null()) },
        0
    );
    0
}

fn answer_two(_: *mut c_void, _: u64, _: u64, _: u32, _: &mut IomapBeginOut) -> c_int {
    2
}

fn end_handled(_: *mut c_void, _: u64, _: u64, _: i64, _: u32) -> c_int {
    HANDLED
}

fn ioend_handled(_: *mut c_void, req: &IomapIoendIn, out: &mut IomapIoendOut) -> c_int {
    out.newsize = req.pos + req.written;
    HANDLED
}

#[test]
fn a_program_fills_the_cache_and_the_server_is_not_asked() {
    let conn = ready();
    let program = Program {
        begin: Some(upsert_and_retry),
        end: Some(end_handled),
        ioend: Some(ioend_handled),
    };
    bpf::register(program.as_kdata(), conn.bpf()).unwrap();
    let answer = conn.iomap_begin(7, &begin(20 * BS)).unwrap();
    assert_eq!(
        (answer.source, answer.read),
        (Source::Cache, mapped(16, 16))
    );
    let end = IomapEndIn {
        count: BS,
        map: IomapIo {
            flags: F_WANT_IOMAP_END,
            ..mapped(16, 16)
        },
        ..IomapEndIn::default()
    };
    conn.iomap_end(7, &end).unwrap();
    let ioend = IomapIoendIn {
        pos: BS,
        written: BS,
        ..IomapIoendIn::default()
    };
    assert_eq!(conn.ioend(7, &ioend), Ok(2 * BS));
    let counters = conn.counters();
    for op in [FUSE_IOMAP_BEGIN, FUSE_IOMAP_END, FUSE_IOMAP_IOEND] {
        assert_eq!(upcalls(&counters, op), 0, "opcode {op}");
    }
    fuse_iomap_rs_bpf_unreg(program.as_kdata());
}

#[test]
fn a_fallback_goes_to_the_server_and_the_kfunc_can_invalidate() {
    let conn = ready();
    conn.upsert(&upsert(7, mapped(0, 4))).unwrap();
    let program = Program {
        begin: Some(inval_and_fall_back),
        ..Program::default()
    };
    bpf::register(program.as_kdata(), conn.bpf()).unwrap();
    // A hit never runs the program.
    assert_eq!(
        conn.iomap_begin(7, &begin(0)).unwrap().source,
        Source::Cache
    );
    let answer = serve(
        || conn.iomap_begin(7, &begin(8 * BS)).unwrap(),
        || {
            let r = read(&conn);
            let out = IomapBeginOut {
                read: mapped(8, 1),
                write: nocache(),
            };
            reply(&conn, r.header.unique, harness::bytes(&out)).unwrap();
        },
    );
    assert_eq!(answer.source, Source::Upcall);
    assert!(matches!(conn.lookup(7, Fork::Read, 0), Lookup::Miss));
    assert!(matches!(conn.lookup(7, Fork::Read, BS), Lookup::Hit(..)));
    fuse_iomap_rs_bpf_unreg(program.as_kdata());
}

#[test]
fn one_table_per_connection_and_a_bad_answer_is_einval() {
    let conn = ready();
    let program = Program {
        begin: Some(answer_two),
        ..Program::default()
    };
    let second = Program::default();
    bpf::register(program.as_kdata(), conn.bpf()).unwrap();
    assert_eq!(bpf::register(second.as_kdata(), conn.bpf()), Err(EBUSY));
    assert_eq!(conn.iomap_begin(7, &begin(0)).err(), Some(EINVAL));
    // Detached, the server answers again; a second detach finds nothing.
    fuse_iomap_rs_bpf_unreg(program.as_kdata());
    fuse_iomap_rs_bpf_unreg(program.as_kdata());
    let answer = serve(
        || conn.iomap_begin(7, &begin(0)),
        || {
            let r = read(&conn);
            reply(&conn, r.header.unique, &[0; 1]).unwrap_err();
            conn.abort();
        },
    );
    assert!(answer.is_err());
    bpf::register(second.as_kdata(), conn.bpf()).unwrap();
    fuse_iomap_rs_bpf_unreg(second.as_kdata());
}
