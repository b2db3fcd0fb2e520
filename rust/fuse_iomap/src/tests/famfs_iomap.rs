// SPDX-License-Identifier: GPL-2.0

//! famfs files on a `famfs_resolve=iomap` mount: the DAX library's
//! mappings come from the BPF program or `FUSE_IOMAP_BEGIN`, checked
//! against the daxdev table, never from the fmap or the cache; and the
//! rules that turn an answer into a DAX extent.

use super::bpf::registration;
use super::harness::{self, bytes, daxdev_out, read, reply, serve, upcalls, user_dev};
use crate::abi::{
    IomapBeginIn, IomapBeginOut, IomapIo, MappingType, DEV_NULL, FUSE_DAX_FMAP, FUSE_GET_FMAP,
    FUSE_IOMAP, FUSE_IOMAP_BEGIN, NULL_ADDR, OP_WRITE,
};
use crate::bpf::{self, fuse_iomap_rs_bpf_unreg};
use crate::connection::Connection;
use crate::errno::{efscorrupted, eopnotsupp};
use crate::famfs::{DaxExtent, DaxMapping};
use crate::famfs_iomap::{dax_extent, FamfsResolve};
use crate::fmap::{Resolved, ALIGNMENT};
use crate::fmap_build::{Ext, FmapSpec, Layout};
use crate::glue::bpf::Program;
use crate::glue::pmem::Pmem;
use crate::iomap_begin::{Answer, Source};
use core::ffi::{c_int, c_void};
use kernel::error::code::{EIO, ENOSPC};
use kernel::sync::Arc;

const MIB: u64 = 1 << 20;

fn io(ty: MappingType, offset: u64, length: u64, addr: u64, dev: u32) -> IomapIo {
    IomapIo {
        offset,
        length,
        addr,
        r#type: ty as u16,
        flags: 0,
        dev,
    }
}

/// The `dev` of a mapping onto daxdev `index`, as the protocol has it.
fn daxdev_cookie(index: u32) -> u32 {
    index + 1
}

/// Storage at `addr` of daxdev 0.
fn mapped(offset: u64, length: u64, addr: u64) -> IomapIo {
    io(MappingType::Mapped, offset, length, addr, daxdev_cookie(0))
}

fn hole(offset: u64, length: u64) -> IomapIo {
    io(MappingType::Hole, offset, length, NULL_ADDR, DEV_NULL)
}

fn answer(read: IomapIo, write: Option<IomapIo>) -> Answer {
    Answer {
        read,
        write,
        cookie: 0,
        source: Source::Upcall,
        retries: 0,
    }
}

#[test]
fn the_option_has_two_values() {
    assert_eq!(FamfsResolve::from_opt(0), Some(FamfsResolve::Fmap));
    assert_eq!(FamfsResolve::from_opt(1), Some(FamfsResolve::Iomap));
    assert_eq!(FamfsResolve::from_opt(2), None);
    assert_eq!(FamfsResolve::default(), FamfsResolve::Fmap);
}

#[test]
fn an_answer_becomes_the_extent_from_pos_on() {
    let a = answer(mapped(2 * MIB, 2 * MIB, 6 * MIB), None);
    assert_eq!(
        dax_extent(&a, 3 * MIB, false),
        Ok(DaxExtent::Mapped(Resolved {
            dev_index: 0,
            dev_offset: 7 * MIB,
            length: MIB,
        }))
    );
    assert_eq!(
        dax_extent(&a, 2 * MIB, true),
        Ok(DaxExtent::Mapped(Resolved {
            dev_index: 0,
            dev_offset: 6 * MIB,
            length: 2 * MIB,
        }))
    );
    let h = answer(hole(0, 4 * MIB), None);
    assert_eq!(dax_extent(&h, MIB, false), Ok(DaxExtent::Hole(3 * MIB)));
    assert_eq!(dax_extent(&h, MIB, true).unwrap_err().error, ENOSPC);
}

#[test]
fn answers_a_dax_file_cannot_use_are_eio() {
    let unwritten = io(MappingType::Unwritten, 0, MIB, 0, 0);
    let delalloc = io(MappingType::Delalloc, 0, MIB, NULL_ADDR, DEV_NULL);
    let cases = [
        ("unwritten", answer(unwritten, None)),
        ("delalloc", answer(delalloc, None)),
        (
            "write destination",
            answer(mapped(0, MIB, 0), Some(mapped(0, MIB, MIB))),
        ),
        ("address off a page", answer(mapped(0, MIB, 512), None)),
        ("offset off a page", answer(mapped(512, MIB, 0), None)),
    ];
    for (what, a) in cases {
        assert_eq!(
            dax_extent(&a, 4096, false).unwrap_err().error,
            EIO,
            "{what}"
        );
    }
}

/// A 16 MiB daxdev of index 0, and file 5 of 4 MiB on it at 2 MiB, opened
/// on a connection mounted `famfs_resolve=iomap` whose server negotiated
/// famfs and iomap.
fn iomap_mount() -> (Arc<Connection>, std::sync::Arc<Pmem>) {
    registration();
    let pmem = Pmem::add(&vec![0u8; 16 << 20], true);
    let conn = harness::connection(true);
    conn.mount(FamfsResolve::Iomap).unwrap();
    harness::handshake(&conn, FUSE_DAX_FMAP | FUSE_IOMAP);
    conn.daxdev_answer(&daxdev_out(0, user_dev(pmem.dev()), ""))
        .unwrap();
    let fmap = FmapSpec::new(Layout::Simple(vec![Ext {
        dev: 0,
        offset: ALIGNMENT,
        len: 4 * MIB,
    }]))
    .build();
    conn.set_fmap(5, &fmap).unwrap();
    (conn, pmem)
}

/// `famfs_map` of the DAX library's 4 KiB at `pos` of file 5, while the
/// server answers its `FUSE_IOMAP_BEGIN` with `out`.
fn map_asking(
    conn: &Connection,
    pos: u64,
    opflags: u32,
    out: IomapBeginOut,
) -> (IomapBeginIn, kernel::error::Result<DaxMapping>) {
    let mut seen = None;
    let got = serve(
        || conn.famfs_map(5, pos, 4096, opflags),
        || {
            let req = read(conn);
            assert_eq!(
                (req.header.opcode, req.header.nodeid),
                (FUSE_IOMAP_BEGIN, 5)
            );
            seen = Some(req.arg::<IomapBeginIn>());
            reply(conn, req.header.unique, bytes(&out)).unwrap();
        },
    );
    (seen.unwrap(), got)
}

fn out(read: IomapIo) -> IomapBeginOut {
    IomapBeginOut {
        read,
        write: IomapIo {
            r#type: MappingType::NoCache as u16,
            ..IomapIo::default()
        },
    }
}

#[test]
fn every_mapping_is_an_upcall_checked_against_the_daxdevs() {
    let (conn, pmem) = iomap_mount();
    let before = conn.counters();
    let (req, got) = map_asking(&conn, MIB, OP_WRITE, out(mapped(0, 4 * MIB, 2 * MIB)));
    assert_eq!((req.pos, req.count, req.opflags), (MIB, 4096, OP_WRITE));
    let Ok(DaxMapping::Mapped(r, dax)) = got else {
        panic!("not mapped: {:?}", got.err());
    };
    assert_eq!((r.dev_index, r.dev_offset, r.length), (0, 3 * MIB, 3 * MIB));
    assert_eq!(dax.size(), 16 << 20);
    drop(dax);
    let (_, got) = map_asking(&conn, MIB, 0, out(mapped(0, 4 * MIB, 2 * MIB)));
    assert!(matches!(got, Ok(DaxMapping::Mapped(..))), "asked again");
    let (_, got) = map_asking(&conn, 0, 0, out(hole(0, MIB)));
    assert!(matches!(got, Ok(DaxMapping::Hole(l)) if l == MIB));
    let after = conn.counters();
    assert_eq!(
        upcalls(&after, FUSE_IOMAP_BEGIN) - upcalls(&before, FUSE_IOMAP_BEGIN),
        3
    );
    assert_eq!(
        upcalls(&after, FUSE_GET_FMAP),
        upcalls(&before, FUSE_GET_FMAP)
    );
    let bad = [
        (
            "unpublished daxdev",
            io(MappingType::Mapped, 0, MIB, 0, daxdev_cookie(1)),
        ),
        ("no device", io(MappingType::Mapped, 0, MIB, 0, DEV_NULL)),
        ("past the daxdev", mapped(0, MIB, 16 * MIB)),
        (
            "RETRY_CACHE with no cache",
            io(MappingType::RetryCache, 0, 0, 0, 0),
        ),
    ];
    for (what, m) in bad {
        let (_, got) = map_asking(&conn, 0, 0, out(m));
        assert_eq!(got.err(), Some(efscorrupted()), "{what}");
    }
    let (_, got) = map_asking(&conn, 0, 0, out(mapped(0, MIB, 4096 + 512)));
    assert_eq!(got.err(), Some(EIO), "not page-aligned");
    drop(conn);
    pmem.remove();
}

/// The famfs program's part: file 5's 2 MiB at the position's chunk, at
/// the same device offset plus 2 MiB.
fn chunk_answer(_: *mut c_void, pos: u64, _: u64, _: u32, out: &mut IomapBeginOut) -> c_int {
    let chunk = pos / (2 * MIB) * (2 * MIB);
    out.read = mapped(chunk, 2 * MIB, chunk + 2 * MIB);
    out.write.r#type = MappingType::NoCache as u16;
    1
}

#[test]
fn a_program_answers_every_mapping_without_an_upcall() {
    let (conn, pmem) = iomap_mount();
    let program = Program {
        begin: Some(chunk_answer),
        ..Program::default()
    };
    bpf::register(program.as_kdata(), conn.bpf()).unwrap();
    let before = conn.counters();
    for pos in (0..4 * MIB).step_by(4096 * 61) {
        let Ok(DaxMapping::Mapped(r, _)) = conn.famfs_map(5, pos, 4096, 0) else {
            panic!("not mapped at {pos}");
        };
        assert_eq!(r.dev_offset, pos + 2 * MIB);
        assert_eq!(r.dev_offset + r.length, (pos / (2 * MIB) + 2) * 2 * MIB);
    }
    let after = conn.counters();
    assert_eq!(
        upcalls(&after, FUSE_IOMAP_BEGIN),
        upcalls(&before, FUSE_IOMAP_BEGIN)
    );
    assert!(after.bpf_answers > before.bpf_answers);
    fuse_iomap_rs_bpf_unreg(program.as_kdata());
    drop(conn);
    pmem.remove();
}

#[test]
fn an_iomap_mount_needs_a_server_with_iomap() {
    let conn = harness::connection(true);
    conn.mount(FamfsResolve::Iomap).unwrap();
    harness::handshake(&conn, FUSE_DAX_FMAP);
    assert_eq!(conn.open(5), Err(eopnotsupp()));
}
