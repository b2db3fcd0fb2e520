// SPDX-License-Identifier: GPL-2.0

//! The channel of a connection, driven as a server drives its file: the
//! handshake, reads and the buffers they need, callers that wait, signals,
//! the server's close, and `FORGET` batches.

use super::harness::{self, begin, bytes, handshake, read, reply, serve, try_read, upcalls, write};
use crate::abi::{
    IomapBeginOut, FUSE_DAX_FMAP, FUSE_INIT, FUSE_IOMAP, FUSE_IOMAP_BEGIN, FUSE_IOMAP_CONFIG,
    FUSE_MIN_READ_BUFFER,
};
use crate::counters::Reject;
use crate::errno::{enotconn, eoverflow};
use crate::fuse_abi::{BatchForgetIn, ForgetIn, ForgetOne, FUSE_BATCH_FORGET, FUSE_FORGET};
use crate::glue::{self, Task};
use crate::request::Creds;
use kernel::error::code::{EAGAIN, EFAULT, EINTR, EINVAL, ENODEV, ENOENT, ERESTARTSYS};
use kernel::uaccess::UserSliceWriter;
use std::sync::mpsc;

/// Makes this thread uid 1000, gid 100, pid 42 in the server's namespaces.
fn be_caller_1000() {
    glue::set_task(Task {
        creds: Some(Creds {
            uid: 1000,
            gid: 100,
            pid: 42,
        }),
        rawio: true,
    });
}

#[test]
fn the_handshake_negotiates_and_configures() {
    let conn = harness::connection(true);
    assert_eq!(conn.wait_ready(), Err(enotconn()), "before any client");
    be_caller_1000();
    handshake(&conn, FUSE_IOMAP | FUSE_DAX_FMAP);
    assert!(conn.has_iomap());
    assert_eq!(conn.famfs_permitted(), Ok(()));
    assert_eq!(conn.geometry().blocksize, 4096);
    let counters = conn.counters();
    assert_eq!(upcalls(&counters, FUSE_INIT), 1);
    assert_eq!(upcalls(&counters, FUSE_IOMAP_CONFIG), 1);
    // A second client handle starts nothing.
    conn.start_client().unwrap();
    assert_eq!(try_read(&conn).err(), Some(EAGAIN));
}

#[test]
fn requests_name_the_caller_in_the_servers_namespaces() {
    let conn = harness::connection(true);
    be_caller_1000();
    conn.start_client().unwrap();
    let init = read(&conn);
    assert_eq!(
        (init.header.uid, init.header.gid, init.header.pid),
        (1000, 100, 42)
    );
}

#[test]
fn a_caller_without_ids_in_the_servers_namespace_sends_nothing() {
    let conn = harness::connection(true);
    glue::set_task(Task {
        creds: None,
        rawio: true,
    });
    assert_eq!(conn.start_client(), Err(eoverflow()));
    assert_eq!(try_read(&conn).err(), Some(EAGAIN));
}

#[test]
fn a_refused_init_fails_the_connection() {
    let conn = harness::connection(true);
    conn.start_client().unwrap();
    let init = read(&conn);
    let mut out = harness::init_out(FUSE_IOMAP);
    out.major = 8;
    assert!(reply(&conn, init.header.unique, bytes(&out)).is_err());
    assert_eq!(conn.wait_ready(), Err(enotconn()));
    assert_eq!(conn.counters().rejected[Reject::Init as usize], 1);
    assert_eq!(conn.famfs_permitted(), Err(enotconn()));
}

#[test]
fn famfs_needs_rawio_and_then_the_negotiated_flag() {
    let without = harness::connection(false);
    assert_eq!(without.famfs_permitted(), Err(kernel::error::code::EPERM));
    let with = harness::connection(true);
    assert_eq!(with.famfs_permitted(), Ok(()), "before the handshake");
    handshake(&with, FUSE_IOMAP);
    assert_eq!(
        with.famfs_permitted(),
        Err(kernel::error::code::EPERM),
        "the server left famfs out"
    );
}

#[test]
fn reads_need_a_big_enough_buffer_and_may_not_wait() {
    let conn = harness::connection(true);
    let mut small = UserSliceWriter::new(FUSE_MIN_READ_BUFFER - 1);
    assert_eq!(conn.server_read(&mut small, true), Err(EINVAL));
    assert_eq!(try_read(&conn).err(), Some(EAGAIN));
}

#[test]
fn a_read_that_faults_puts_the_request_back() {
    let conn = harness::connection(true);
    conn.start_client().unwrap();
    let mut faulting = UserSliceWriter::faulting(FUSE_MIN_READ_BUFFER, 10);
    assert_eq!(conn.server_read(&mut faulting, true), Err(EFAULT));
    let init = try_read(&conn).expect("the request again");
    assert_eq!(init.header.opcode, FUSE_INIT);
}

#[test]
fn a_waiting_reader_restarts_on_a_signal() {
    let conn = harness::connection(true);
    let (tx, rx) = mpsc::channel();
    let got = std::thread::scope(|s| {
        let reader = s.spawn(|| {
            tx.send(std::thread::current().id()).unwrap();
            let mut out = UserSliceWriter::new(FUSE_MIN_READ_BUFFER);
            let got = conn.server_read(&mut out, false);
            kernel::task::clear_signal();
            got
        });
        kernel::task::signal(rx.recv().unwrap());
        reader.join().unwrap()
    });
    assert_eq!(got, Err(ERESTARTSYS));
}

#[test]
fn a_signal_abandons_a_call_and_its_late_reply_finds_nobody() {
    let conn = harness::ready(FUSE_IOMAP);
    let (tx, rx) = mpsc::channel();
    let got = serve(
        || {
            tx.send(std::thread::current().id()).unwrap();
            let got = conn.iomap_begin(7, &begin(0));
            kernel::task::clear_signal();
            got
        },
        || {
            let caller = rx.recv().unwrap();
            let req = read(&conn);
            assert_eq!(req.header.opcode, FUSE_IOMAP_BEGIN);
            kernel::task::signal(caller);
            // The caller gives up; then the reply comes.
            while conn.counters().interrupted == 0 {
                std::thread::yield_now();
            }
            let out = IomapBeginOut::default();
            assert_eq!(reply(&conn, req.header.unique, bytes(&out)), Err(ENOENT));
        },
    );
    assert_eq!(got.err(), Some(EINTR));
    assert_eq!(conn.counters().rejected[Reject::Unique as usize], 1);
}

#[test]
fn the_servers_close_fails_callers_and_readers() {
    let conn = harness::ready(FUSE_IOMAP);
    let got = serve(
        || conn.iomap_begin(7, &begin(0)),
        || {
            read(&conn);
            conn.abort();
        },
    );
    assert_eq!(got.err(), Some(enotconn()));
    assert_eq!(try_read(&conn).err(), Some(ENODEV));
    let (readable, dead, _) = conn.poll();
    assert!(!readable && dead);
    assert_eq!(conn.iomap_begin(7, &begin(0)).err(), Some(enotconn()));
}

#[test]
fn pollers_are_woken_by_each_request() {
    let conn = harness::connection(true);
    let (readable, dead, wq) = conn.poll();
    assert!(!readable && !dead);
    // SAFETY: The queue lives as long as `conn`; the count is atomic.
    let wakeups = || unsafe { (*wq).wakeups.load(core::sync::atomic::Ordering::Relaxed) };
    let before = wakeups();
    conn.start_client().unwrap();
    assert_eq!(wakeups(), before + 1);
    assert!(conn.poll().0);
}

#[test]
fn queued_forgets_go_as_one_batch_to_a_server_that_knows_it() {
    let conn = harness::ready(FUSE_IOMAP);
    for nodeid in 10..13 {
        conn.vfs_forget(nodeid, nodeid * 2);
    }
    let batch = read(&conn);
    assert_eq!(batch.header.opcode, FUSE_BATCH_FORGET);
    let head: BatchForgetIn = batch.arg();
    assert_eq!(head.count, 3);
    let size = core::mem::size_of::<ForgetOne>();
    for (i, nodeid) in (10..13).enumerate() {
        let at = core::mem::size_of::<BatchForgetIn>() + i * size;
        let one: ForgetOne = crate::channel::read_struct(&batch.args[at..at + size]).unwrap();
        assert_eq!((one.nodeid, one.nlookup), (nodeid, nodeid * 2));
    }
    assert_eq!(try_read(&conn).err(), Some(EAGAIN));
    // A FORGET gets no reply.
    assert_eq!(write(&conn, batch.header.unique, 0, &[]), Err(ENOENT));
}

#[test]
fn an_old_server_gets_single_forgets() {
    let conn = harness::connection(true);
    conn.start_client().unwrap();
    let init = read(&conn);
    let mut out = harness::init_out(crate::abi::FUSE_INIT_EXT);
    out.minor = 15;
    reply(&conn, init.header.unique, bytes(&out)).unwrap();
    conn.wait_ready().unwrap();
    conn.vfs_forget(10, 1);
    conn.vfs_forget(11, 1);
    for nodeid in [10, 11] {
        let forget = read(&conn);
        assert_eq!(
            (forget.header.opcode, forget.header.nodeid),
            (FUSE_FORGET, nodeid)
        );
        assert_eq!(forget.arg::<ForgetIn>().nlookup, 1);
    }
}
