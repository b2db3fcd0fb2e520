// SPDX-License-Identifier: GPL-2.0

//! famfs on a connection, with the host's persistent memory: daxdevs given
//! ahead or discovered with `GET_DAXDEV`, by number or by path, claims that
//! fail, reads through the fmap, memory failures, faulting buffers and the
//! teardown.

use super::harness::{self, bytes, daxdev_out, read, reply, serve, upcalls, user_dev};
use crate::abi::{FUSE_DAX_FMAP, FUSE_GET_DAXDEV, FUSE_GET_FMAP, FUSE_IOMAP, OP_WRITE};
use crate::errno::{ehwpoison, enotconn};
use crate::famfs::DaxMapping;
use crate::fmap::ALIGNMENT;
use crate::fmap_build::{Ext, FmapSpec, Group, Layout};
use crate::glue::pmem::Pmem;
use kernel::error::code::{EFAULT, EINVAL, EIO, ENOENT, ENOSPC, EPERM};

const A: usize = ALIGNMENT as usize;

/// Device bytes that differ from page to page and from device to device.
fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i / 4096) as u8 ^ i as u8 ^ seed)
        .collect()
}

fn simple(dev: u32, offset: u64, len: u64) -> Vec<u8> {
    FmapSpec::new(Layout::Simple(vec![Ext { dev, offset, len }])).build()
}

/// Reads `len` bytes at `offset` of famfs file `nodeid`.
fn read_file(
    conn: &crate::connection::Connection,
    nodeid: u64,
    offset: u64,
    len: usize,
) -> kernel::error::Result<Vec<u8>> {
    let mut buf = vec![0u8; len];
    let n = conn.famfs_read(nodeid, offset, len as u64, buf.as_mut_ptr() as usize)?;
    buf.truncate(n as usize);
    Ok(buf)
}

#[test]
fn a_daxdev_given_ahead_by_number_is_claimed_and_read() {
    let data = pattern(2 * A, 1);
    let pmem = Pmem::add(&data, true);
    let conn = harness::connection(true);
    conn.daxdev_answer(&daxdev_out(0, user_dev(pmem.dev()), ""))
        .unwrap();
    assert!(!pmem.claimed(), "claimed lazily, when an fmap names it");
    conn.set_fmap(5, &simple(0, ALIGNMENT, ALIGNMENT)).unwrap();
    assert!(pmem.claimed());
    assert_eq!(read_file(&conn, 5, 0, A).unwrap(), &data[A..]);
    assert_eq!(
        read_file(&conn, 5, 100, 5000).unwrap(),
        &data[A + 100..A + 5100]
    );
    assert_eq!(
        read_file(&conn, 5, ALIGNMENT - 10, 100).unwrap().len(),
        10,
        "at EOF"
    );
    assert!(read_file(&conn, 5, ALIGNMENT, 100).unwrap().is_empty());
    let r = conn.resolve(5, 4096, 100).unwrap();
    assert_eq!((r.dev_index, r.dev_offset), (0, ALIGNMENT + 4096));
    conn.abort();
    assert!(!pmem.claimed(), "the teardown releases the claim");
    assert_eq!(
        read_file(&conn, 5, 0, 10).err(),
        Some(ENOENT),
        "the file went too"
    );
    assert_eq!(
        conn.daxdev_answer(&daxdev_out(0, user_dev(pmem.dev()), "")),
        Err(enotconn())
    );
    assert_eq!(conn.set_fmap(6, &simple(0, 0, ALIGNMENT)), Err(enotconn()));
    pmem.remove();
}

#[test]
fn an_interleaved_file_reads_across_its_strips() {
    let (d0, d1) = (pattern(A, 2), pattern(A, 3));
    let (p0, p1) = (Pmem::add(&d0, true), Pmem::add(&d1, true));
    let conn = harness::connection(true);
    conn.daxdev_answer(&daxdev_out(0, user_dev(p0.dev()), ""))
        .unwrap();
    conn.daxdev_answer(&daxdev_out(1, user_dev(p1.dev()), ""))
        .unwrap();
    let fmap = FmapSpec::new(Layout::Interleave(vec![Group {
        chunk: ALIGNMENT as u32,
        nbytes: 2 * ALIGNMENT,
        strips: vec![
            Ext {
                dev: 0,
                offset: 0,
                len: ALIGNMENT,
            },
            Ext {
                dev: 1,
                offset: 0,
                len: ALIGNMENT,
            },
        ],
    }]))
    .build();
    conn.set_fmap(6, &fmap).unwrap();
    let all = read_file(&conn, 6, 0, 2 * A).unwrap();
    assert_eq!(&all[..A], &d0[..]);
    assert_eq!(&all[A..], &d1[..]);
    drop(conn);
    for p in [p0, p1] {
        assert!(!p.claimed(), "dropping the connection releases the claim");
        p.remove();
    }
}

#[test]
fn a_daxdev_is_discovered_with_get_daxdev_by_path() {
    let data = pattern(A, 4);
    let pmem = Pmem::add(&data, true);
    pmem.link("/dev/test-pmem-by-path");
    let conn = harness::ready(FUSE_IOMAP | FUSE_DAX_FMAP);
    let fmap = simple(2, 0, ALIGNMENT);
    serve(
        || conn.open(8).unwrap(),
        || {
            let req = read(&conn);
            assert_eq!((req.header.opcode, req.header.nodeid), (FUSE_GET_FMAP, 8));
            reply(&conn, req.header.unique, &fmap).unwrap();
            let req = read(&conn);
            assert_eq!((req.header.opcode, req.header.nodeid), (FUSE_GET_DAXDEV, 2));
            let out = daxdev_out(2, 0, "/dev/test-pmem-by-path");
            reply(&conn, req.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(read_file(&conn, 8, 0, 4096).unwrap(), &data[..4096]);
    // A second file on the same daxdev asks for the fmap only.
    serve(
        || conn.open(9).unwrap(),
        || {
            let req = read(&conn);
            reply(&conn, req.header.unique, &fmap).unwrap();
        },
    );
    let counters = conn.counters();
    assert_eq!(upcalls(&counters, FUSE_GET_FMAP), 2);
    assert_eq!(upcalls(&counters, FUSE_GET_DAXDEV), 1);
    drop(conn);
    pmem.remove();
}

#[test]
fn hostile_daxdev_answers_are_refused() {
    let conn = harness::connection(true);
    assert_eq!(conn.daxdev_answer(&daxdev_out(24, 0x0103, "")), Err(EINVAL));
    assert_eq!(conn.daxdev_answer(&daxdev_out(0, 0, "")), Err(EINVAL));
    assert_eq!(
        conn.daxdev_answer(&daxdev_out(0, 0, "/no/such/device")),
        Err(ENOENT),
        "resolved in the server's task, at once"
    );
    let without = harness::connection(false);
    assert_eq!(
        without.daxdev_answer(&daxdev_out(0, 0x0103, "")),
        Err(EPERM)
    );
    assert_eq!(without.set_fmap(5, &simple(0, 0, ALIGNMENT)), Err(EPERM));
}

#[test]
fn a_daxdev_that_cannot_be_claimed_fails_its_reads_with_eio() {
    let data = pattern(A, 5);
    let taken = Pmem::add(&data, true);
    let no_dax = Pmem::add(&data, false);
    let first = harness::connection(true);
    first
        .daxdev_answer(&daxdev_out(0, user_dev(taken.dev()), ""))
        .unwrap();
    first.set_fmap(5, &simple(0, 0, ALIGNMENT)).unwrap();
    let conn = harness::connection(true);
    conn.daxdev_answer(&daxdev_out(0, user_dev(taken.dev()), ""))
        .unwrap();
    conn.daxdev_answer(&daxdev_out(1, user_dev(no_dax.dev()), ""))
        .unwrap();
    conn.set_fmap(5, &simple(0, 0, ALIGNMENT)).unwrap();
    conn.set_fmap(6, &simple(1, 0, ALIGNMENT)).unwrap();
    assert_eq!(
        read_file(&conn, 5, 0, 10).err(),
        Some(EIO),
        "held by another"
    );
    assert_eq!(read_file(&conn, 6, 0, 10).err(), Some(EIO), "no DAX device");
    assert_eq!(read_file(&first, 5, 0, 10).unwrap(), &data[..10]);
    drop((first, conn));
    taken.remove();
    no_dax.remove();
}

#[test]
fn a_memory_failure_makes_reads_fail_with_ehwpoison() {
    let data = pattern(A, 6);
    let pmem = Pmem::add(&data, true);
    // Poisoned before the claim: only the copy finds out.
    pmem.poison(8192, 1);
    let conn = harness::connection(true);
    conn.daxdev_answer(&daxdev_out(0, user_dev(pmem.dev()), ""))
        .unwrap();
    conn.set_fmap(5, &simple(0, 0, ALIGNMENT)).unwrap();
    assert_eq!(read_file(&conn, 5, 0, 4096).unwrap(), &data[..4096]);
    assert_eq!(read_file(&conn, 5, 4096, 8192).err(), Some(ehwpoison()));
    // Poisoned under the claim: the holder hears of it, every read fails.
    pmem.poison(100_000, 1);
    assert_eq!(read_file(&conn, 5, 0, 10).err(), Some(ehwpoison()));
    drop(conn);
    pmem.remove();
}

#[test]
fn a_faulting_user_buffer_is_efault() {
    let data = pattern(A, 7);
    let pmem = Pmem::add(&data, true);
    let conn = harness::connection(true);
    conn.daxdev_answer(&daxdev_out(0, user_dev(pmem.dev()), ""))
        .unwrap();
    conn.set_fmap(5, &simple(0, 0, ALIGNMENT)).unwrap();
    assert_eq!(conn.famfs_read(5, 0, 10, 0), Err(EFAULT));
    assert_eq!(conn.famfs_read(6, 0, 10, 0x10000), Err(ENOENT), "no fmap");
    drop(conn);
    pmem.remove();
}

/// [`Connection::famfs_map`] for a read, or with `write` a write: `None`
/// for a hole.
fn famfs_map(
    conn: &crate::connection::Connection,
    nodeid: u64,
    pos: u64,
    len: u64,
    write: bool,
) -> kernel::error::Result<Option<(crate::fmap::Resolved, kernel::sync::Arc<crate::dax::Dax>)>> {
    let opflags = if write { OP_WRITE } else { 0 };
    Ok(match conn.famfs_map(nodeid, pos, len, opflags)? {
        DaxMapping::Hole(length) => {
            assert_eq!(length, len, "a hole past the fmap's end is the whole range");
            None
        }
        DaxMapping::Mapped(r, dax) => Some((r, dax)),
    })
}

/// Two daxdevs, each `A` bytes of its own pattern, and file 5 interleaved
/// over them in chunks of `A`, on a connection that negotiated famfs.
fn striped_over_two() -> (
    kernel::sync::Arc<crate::connection::Connection>,
    [std::sync::Arc<Pmem>; 2],
) {
    let pmems = [
        Pmem::add(&pattern(A, 8), true),
        Pmem::add(&pattern(A, 9), true),
    ];
    let conn = harness::ready(FUSE_DAX_FMAP);
    for (index, p) in pmems.iter().enumerate() {
        conn.daxdev_answer(&daxdev_out(index as u16, user_dev(p.dev()), ""))
            .unwrap();
    }
    let fmap = FmapSpec::new(Layout::Interleave(vec![Group {
        chunk: ALIGNMENT as u32,
        nbytes: 2 * ALIGNMENT,
        strips: (0..2)
            .map(|dev| Ext {
                dev,
                offset: 0,
                len: ALIGNMENT,
            })
            .collect(),
    }]))
    .build();
    conn.set_fmap(5, &fmap).unwrap();
    (conn, pmems)
}

#[test]
fn the_dax_library_maps_through_the_fmap_without_an_upcall() {
    let (conn, pmems) = striped_over_two();
    assert!(conn.is_famfs());
    let sent = |conn: &crate::connection::Connection| {
        let counters = conn.counters();
        [FUSE_GET_FMAP, FUSE_GET_DAXDEV].map(|op| upcalls(&counters, op))
    };
    let before = sent(&conn);
    let (r, dax) = famfs_map(&conn, 5, 4096, 4 * ALIGNMENT, false)
        .unwrap()
        .unwrap();
    assert_eq!(
        (r.dev_index, r.dev_offset, r.length),
        (0, 4096, ALIGNMENT - 4096)
    );
    assert!(!dax.dax_device().is_null());
    assert_eq!(dax.start_off(), 0);
    let (r, _) = famfs_map(&conn, 5, ALIGNMENT, 1, true).unwrap().unwrap();
    assert_eq!((r.dev_index, r.dev_offset, r.length), (1, 0, 1));
    assert!(famfs_map(&conn, 5, 2 * ALIGNMENT, 4096, false)
        .unwrap()
        .is_none());
    assert_eq!(
        famfs_map(&conn, 5, 2 * ALIGNMENT, 4096, true).err(),
        Some(ENOSPC)
    );
    assert_eq!(
        famfs_map(&conn, 6, 0, 4096, false).err(),
        Some(EIO),
        "no fmap"
    );
    let devices = conn.famfs_devices(5).unwrap();
    assert_eq!(devices.len(), 2);
    assert!(devices.iter().all(|d| d.synchronous()));
    assert_eq!(sent(&conn), before, "no request for any of it");
    drop(devices);
    // The mapping's reference keeps the claim past the server's close,
    // until its iomap_end gives it back.
    conn.abort();
    assert!(pmems[0].claimed() && !pmems[1].claimed());
    drop(dax);
    assert!(!pmems[0].claimed());
    for p in pmems {
        p.remove();
    }
}

#[test]
fn a_memory_failure_fails_every_later_mapping_with_ehwpoison() {
    let (conn, pmems) = striped_over_two();
    pmems[1].poison(4096, 1);
    assert!(famfs_map(&conn, 5, 0, 4096, false).unwrap().is_some());
    assert_eq!(
        famfs_map(&conn, 5, ALIGNMENT, 4096, false).err(),
        Some(ehwpoison())
    );
    drop(conn);
    for p in pmems {
        p.remove();
    }
}
