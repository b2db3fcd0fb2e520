// SPDX-License-Identifier: GPL-2.0

//! The server's writes as bytes: framing, replies dispatched to their
//! callers, and notifications dispatched to the caches. A write that is
//! refused changes nothing: its request keeps waiting.

use super::harness::{
    self, begin, bytes, io, nocache, notify, read, reply, serve, upsert, with_device, write, BS,
};
use crate::abi::{
    DaxdevOut, IomapBeginIn, IomapBeginOut, IomapInvalMappingsOut, IomapIo, MappingType, OutHeader,
    Range, FUSE_DAX_FMAP, FUSE_IOMAP, FUSE_IOMAP_BEGIN, NOTIFY_INVAL_MAPPINGS,
    NOTIFY_UPSERT_MAPPINGS,
};
use crate::cache::{Fork, Lookup};
use crate::counters::Reject;
use crate::errno::eopnotsupp;
use crate::iomap_begin::Source;
use kernel::error::code::{EFAULT, EINVAL, ENOENT, ENOSPC};
use kernel::uaccess::UserSliceReader;

fn mapped(block: u64, blocks: u64) -> IomapIo {
    io(MappingType::Mapped, block, blocks)
}

#[test]
fn writes_shorter_than_a_header_or_of_another_length_are_refused() {
    let conn = harness::ready(FUSE_IOMAP);
    assert_eq!(
        conn.server_write(UserSliceReader::from_bytes(&[0; 15])),
        Err(EINVAL)
    );
    let lying = OutHeader {
        len: 100,
        error: 0,
        unique: 1,
    };
    assert_eq!(
        conn.server_write(UserSliceReader::from_bytes(bytes(&lying))),
        Err(EINVAL)
    );
    assert_eq!(conn.counters().rejected[Reject::Header as usize], 2);
}

#[test]
fn a_reply_to_no_request_is_enoent() {
    let conn = harness::ready(FUSE_IOMAP);
    assert_eq!(reply(&conn, 12345, &[]), Err(ENOENT));
    assert_eq!(conn.counters().rejected[Reject::Unique as usize], 1);
}

#[test]
fn a_refused_reply_leaves_its_request_waiting() {
    let conn = with_device(FUSE_IOMAP);
    let got = serve(
        || conn.iomap_begin(7, &begin(0)),
        || {
            let req = read(&conn);
            assert_eq!(req.header.opcode, FUSE_IOMAP_BEGIN);
            assert_eq!(req.header.nodeid, 7);
            assert_eq!(req.arg::<IomapBeginIn>(), begin(0));
            let out = IomapBeginOut {
                read: mapped(0, 1),
                write: nocache(),
            };
            // One byte short, then a reply that faults half way.
            assert_eq!(
                reply(&conn, req.header.unique, &bytes(&out)[1..]),
                Err(EINVAL)
            );
            let header = OutHeader {
                len: (16 + core::mem::size_of::<IomapBeginOut>()) as u32,
                error: 0,
                unique: req.header.unique,
            };
            let mut msg = bytes(&header).to_vec();
            msg.extend_from_slice(bytes(&out));
            assert_eq!(
                conn.server_write(UserSliceReader::faulting(&msg, 40)),
                Err(EFAULT)
            );
            assert_eq!(reply(&conn, req.header.unique, bytes(&out)), Ok(msg.len()));
        },
    );
    let answer = got.unwrap();
    assert_eq!(answer.read, mapped(0, 1));
    assert_eq!(answer.source, Source::Upcall);
    assert_eq!(conn.counters().rejected[Reject::Size as usize], 1);
}

#[test]
fn an_error_reply_is_the_callers_answer() {
    let conn = harness::ready(FUSE_IOMAP);
    let got = serve(
        || conn.iomap_begin(7, &begin(0)),
        || {
            let req = read(&conn);
            write(&conn, req.header.unique, ENOSPC.to_errno(), &[]).unwrap();
        },
    );
    assert_eq!(got.err(), Some(ENOSPC));
}

#[test]
fn notifications_fill_and_empty_the_cache() {
    let conn = with_device(FUSE_IOMAP);
    let upsert = upsert(9, mapped(0, 4));
    notify(&conn, NOTIFY_UPSERT_MAPPINGS, bytes(&upsert)).unwrap();
    assert!(matches!(
        conn.lookup(9, Fork::Read, 2 * BS),
        Lookup::Hit(..)
    ));
    let answer = conn.iomap_begin(9, &begin(BS)).unwrap();
    assert_eq!(answer.source, Source::Cache);
    let inval = IomapInvalMappingsOut {
        nodeid: 9,
        attr_ino: 9,
        read: Range {
            offset: 0,
            length: 4 * BS,
        },
        write: Range::default(),
    };
    notify(&conn, NOTIFY_INVAL_MAPPINGS, bytes(&inval)).unwrap();
    assert!(matches!(conn.lookup(9, Fork::Read, 2 * BS), Lookup::Miss));
}

#[test]
fn bad_notifications_are_refused() {
    let conn = with_device(FUSE_IOMAP);
    let upsert = upsert(9, mapped(0, 4));
    assert_eq!(
        notify(&conn, NOTIFY_UPSERT_MAPPINGS, &bytes(&upsert)[8..]),
        Err(EINVAL),
        "short"
    );
    assert_eq!(notify(&conn, 77, bytes(&upsert)), Err(EINVAL), "unknown");
    let mut bad = upsert;
    bad.read.dev = 2;
    assert!(
        notify(&conn, NOTIFY_UPSERT_MAPPINGS, bytes(&bad)).is_err(),
        "no such device"
    );
    assert_eq!(conn.counters().rejected[Reject::Notify as usize], 3);
    assert!(matches!(conn.lookup(9, Fork::Read, 0), Lookup::Miss));

    let plain = harness::ready(0);
    assert_eq!(
        notify(&plain, NOTIFY_UPSERT_MAPPINGS, bytes(&upsert)),
        Err(eopnotsupp()),
        "a connection without iomap"
    );
}

#[test]
fn a_daxdev_reply_for_another_index_is_the_callers_einval() {
    let conn = harness::ready(FUSE_IOMAP | FUSE_DAX_FMAP);
    let fmap = crate::fmap_build::FmapSpec::new(crate::fmap_build::Layout::Simple(vec![
        crate::fmap_build::Ext {
            dev: 3,
            offset: 0,
            len: crate::fmap::ALIGNMENT,
        },
    ]))
    .build();
    let got = serve(
        || conn.open(5),
        || {
            let req = read(&conn);
            reply(&conn, req.header.unique, &fmap).unwrap();
            let req = read(&conn);
            assert_eq!(req.header.nodeid, 3, "GET_DAXDEV names the index");
            let out = super::harness::daxdev_out(4, 0x0103, "");
            assert_eq!(
                reply(&conn, req.header.unique, bytes(&out)),
                Ok(16 + core::mem::size_of::<DaxdevOut>())
            );
        },
    );
    assert_eq!(got, Err(EINVAL));
    assert_eq!(conn.counters().rejected[Reject::Daxdev as usize], 1);
    assert_eq!(conn.famfs(5).err(), Some(ENOENT));
}
