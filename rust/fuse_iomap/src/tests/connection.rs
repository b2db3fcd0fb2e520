// SPDX-License-Identifier: GPL-2.0

//! A connection's own work: configuration, the inode table and its bound,
//! `iomap_begin` through the cache or the server, the end of I/O, size
//! changes, and the teardown when the server closes its file.

use super::harness::{
    self, bytes, device, io, nocache, read, reply, serve, upcalls, upsert, BS, BUDGET,
};
use crate::abi::{
    IocBackingMap, IocConfig, IocDevice, IomapBeginIn, IomapBeginOut, IomapEndIn, IomapIo,
    IomapIoendIn, IomapIoendOut, MappingType, FUSE_IOMAP, FUSE_IOMAP_BEGIN, FUSE_IOMAP_END,
    FUSE_IOMAP_IOEND, F_WANT_IOMAP_END, IOEND_UNWRITTEN, OP_WRITE,
};
use crate::cache::{Fork, Lookup};
use crate::connection::MAX_INODES;
use crate::errno::{enotconn, eopnotsupp};
use crate::famfs_iomap::FamfsResolve;
use crate::glue::{self, Task};
use crate::iomap_begin::Source;
use kernel::error::code::{EBADF, EBUSY, EINVAL, ENOENT, ENOSPC, EPERM};

fn ready() -> kernel::sync::Arc<crate::connection::Connection> {
    harness::with_device(FUSE_IOMAP)
}

#[test]
fn configuration_is_checked_and_frozen_by_the_first_inode() {
    let conn = harness::connection(true);
    let config = |blocksize| IocConfig {
        blocksize,
        cache_maxbytes: 0,
        maxbytes: 1 << 40,
    };
    assert_eq!(conn.config(&config(1000)), Err(EINVAL));
    conn.config(&config(8192)).unwrap();
    assert_eq!(
        conn.add_device(&IocDevice {
            reserved: 1,
            ..device()
        }),
        Err(EINVAL)
    );
    conn.add_device(&device()).unwrap();
    conn.upsert(&upsert(5, io(MappingType::Mapped, 0, 2)))
        .unwrap();
    assert_eq!(conn.config(&config(4096)), Err(EBUSY));
}

#[test]
fn the_inode_table_is_bounded() {
    let conn = ready();
    for nodeid in 0..MAX_INODES as u64 {
        conn.upsert(&upsert(nodeid + 2, io(MappingType::Hole, 0, 1)))
            .unwrap();
    }
    assert_eq!(
        conn.upsert(&upsert(1 << 20, io(MappingType::Hole, 0, 1))),
        Err(ENOSPC)
    );
    conn.forget(2).unwrap();
    assert_eq!(conn.forget(2), Err(ENOENT));
    conn.upsert(&upsert(1 << 20, io(MappingType::Hole, 0, 1)))
        .unwrap();
}

#[test]
fn a_miss_asks_the_server_and_a_retry_reads_what_it_cached() {
    let conn = ready();
    let req = IomapBeginIn {
        pos: 3 * BS,
        count: BS,
        ..IomapBeginIn::default()
    };
    let answer = serve(
        || conn.iomap_begin(7, &req).unwrap(),
        || {
            let r = read(&conn);
            assert_eq!(r.header.opcode, FUSE_IOMAP_BEGIN);
            // The server caches the extent and says "look again".
            conn.upsert(&upsert(7, io(MappingType::Mapped, 0, 8)))
                .unwrap();
            let out = IomapBeginOut {
                read: IomapIo {
                    r#type: MappingType::RetryCache as u16,
                    ..IomapIo::default()
                },
                write: nocache(),
            };
            reply(&conn, r.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(answer.source, Source::Cache);
    assert_eq!(answer.retries, 1);
    assert_eq!(answer.read, io(MappingType::Mapped, 0, 8));
    assert!(conn.valid(7, answer.cookie));
    let counters = conn.counters();
    assert_eq!(upcalls(&counters, FUSE_IOMAP_BEGIN), 1);
    assert_eq!(counters.retries, 1);
    assert!(counters.cache_bytes > 0 && counters.cache_budget == BUDGET as u64);
    // A hit makes no upcall.
    assert_eq!(conn.iomap_begin(7, &req).unwrap().source, Source::Cache);
    assert_eq!(upcalls(&conn.counters(), FUSE_IOMAP_BEGIN), 1);
    // Unknown op flags are refused before anything is asked.
    let bad = IomapBeginIn {
        opflags: 1 << 20,
        ..req
    };
    assert_eq!(conn.iomap_begin(7, &bad).err(), Some(EINVAL));
}

#[test]
fn a_mapping_past_the_device_is_refused_and_counted() {
    let conn = ready();
    let req = IomapBeginIn {
        pos: 0,
        count: BS,
        ..IomapBeginIn::default()
    };
    let got = serve(
        || conn.iomap_begin(7, &req),
        || {
            let r = read(&conn);
            let mut bad = io(MappingType::Mapped, 0, 1);
            bad.addr = 1 << 40;
            let out = IomapBeginOut {
                read: bad,
                write: nocache(),
            };
            reply(&conn, r.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(got.err(), Some(crate::errno::efscorrupted()));
    assert_eq!(
        conn.counters().rejected[crate::counters::Reject::Mapping as usize],
        1
    );
}

#[test]
fn iomap_end_is_sent_only_when_the_mapping_asks() {
    let conn = ready();
    let mut req = IomapEndIn {
        opflags: OP_WRITE,
        pos: 0,
        count: BS,
        written: BS as i64,
        map: io(MappingType::Mapped, 0, 1),
        ..IomapEndIn::default()
    };
    conn.iomap_end(7, &req).unwrap();
    assert_eq!(upcalls(&conn.counters(), FUSE_IOMAP_END), 0);
    req.map.flags = F_WANT_IOMAP_END;
    serve(
        || conn.iomap_end(7, &req).unwrap(),
        || {
            let r = read(&conn);
            assert_eq!(r.header.opcode, FUSE_IOMAP_END);
            assert_eq!(r.arg::<IomapEndIn>(), req);
            reply(&conn, r.header.unique, &[]).unwrap();
        },
    );
    req.reserved = 1;
    assert_eq!(conn.iomap_end(7, &req), Err(EINVAL));
}

#[test]
fn an_unwritten_ioend_drops_the_range_and_returns_the_new_size() {
    let conn = ready();
    conn.upsert(&upsert(7, io(MappingType::Unwritten, 0, 4)))
        .unwrap();
    let req = IomapIoendIn {
        flags: IOEND_UNWRITTEN,
        pos: BS,
        written: BS,
        ..IomapIoendIn::default()
    };
    let newsize = serve(
        || conn.ioend(7, &req).unwrap(),
        || {
            let r = read(&conn);
            assert_eq!(r.header.opcode, FUSE_IOMAP_IOEND);
            let out = IomapIoendOut { newsize: 2 * BS };
            reply(&conn, r.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(newsize, 2 * BS);
    assert!(matches!(conn.lookup(7, Fork::Read, BS), Lookup::Miss));
    assert!(matches!(conn.lookup(7, Fork::Read, 0), Lookup::Hit(..)));
    let bad = IomapIoendIn { error: 1, ..req };
    assert_eq!(conn.ioend(7, &bad), Err(EINVAL));
}

#[test]
fn a_truncate_drops_the_mappings_past_the_size() {
    let conn = ready();
    conn.upsert(&upsert(7, io(MappingType::Mapped, 0, 4)))
        .unwrap();
    // From the block that holds the new size on.
    conn.setsize(7, 2 * BS + 1).unwrap();
    assert!(matches!(conn.lookup(7, Fork::Read, BS), Lookup::Hit(..)));
    assert!(matches!(conn.lookup(7, Fork::Read, 2 * BS), Lookup::Miss));
    conn.setsize(99, 0).unwrap();
    assert!(conn.valid(99, 0) && !conn.valid(99, 1));
}

#[test]
fn iomap_requests_need_iomap() {
    let plain = harness::ready(0);
    let req = IomapIoendIn {
        written: BS,
        ..IomapIoendIn::default()
    };
    assert_eq!(plain.ioend(7, &req), Err(eopnotsupp()));
    let early = harness::connection(true);
    assert_eq!(early.ioend(7, &req), Err(enotconn()));
}

#[test]
fn a_backing_device_needs_rawio_and_a_clean_argument() {
    let conn = harness::connection(true);
    let map = IocBackingMap {
        fd: 3,
        flags: 0,
        padding: 0,
    };
    assert_eq!(
        conn.backing_open(&IocBackingMap { flags: 1, ..map }),
        Err(EINVAL)
    );
    glue::set_task(Task {
        creds: Some(Default::default()),
        rawio: false,
    });
    assert_eq!(conn.backing_open(&map), Err(EPERM));
    glue::set_task(Task {
        creds: Some(Default::default()),
        rawio: true,
    });
    // The host's stand-in has no open files.
    assert_eq!(conn.backing_open(&map), Err(EBADF));
}

#[test]
fn the_servers_close_frees_every_inode_and_refuses_new_ones() {
    let conn = ready();
    for nodeid in 2..100 {
        conn.upsert(&upsert(nodeid, io(MappingType::Mapped, 0, 4)))
            .unwrap();
    }
    let (records, total) = conn.dump(50, Fork::Read, 10).unwrap();
    assert_eq!((records.len(), total), (1, 1));
    assert!(conn.counters().cache_bytes > 0);
    conn.abort();
    assert_eq!(conn.counters().cache_bytes, 0, "every cache is freed");
    assert!(matches!(conn.lookup(50, Fork::Read, 0), Lookup::Miss));
    assert_eq!(
        conn.upsert(&upsert(5, io(MappingType::Mapped, 0, 4))),
        Err(enotconn())
    );
    assert_eq!(conn.mount(FamfsResolve::Fmap), Err(enotconn()));
}
