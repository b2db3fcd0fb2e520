// SPDX-License-Identifier: GPL-2.0

//! The request table and the framing of the server's writes: FIFO order,
//! replies only to sent requests, cancellation, abort, the `/dev/fuse`
//! header rules, and a property test against a plain model.

use crate::abi::{
    InHeader, OutHeader, FUSE_GET_DAXDEV, FUSE_GET_FMAP, FUSE_INIT, FUSE_IOMAP_BEGIN,
    FUSE_IOMAP_CONFIG, FUSE_IOMAP_END, FUSE_IOMAP_IOEND,
};
use crate::fuse_abi::{
    BatchForgetIn, ForgetOne, FUSE_BATCH_FORGET, FUSE_CREATE, FUSE_DESTROY, FUSE_FORGET,
    FUSE_GETATTR, FUSE_LOOKUP, FUSE_MKDIR, FUSE_OPEN, FUSE_OPENDIR, FUSE_READDIR, FUSE_RENAME,
    FUSE_SETATTR, FUSE_STATFS, FUSE_UNLINK,
};
use crate::request::{
    parse_header, reply_size_ok, Args, Caller, Creds, Message, Requests, MAX_ARGS,
    MAX_BATCH_FORGET, MAX_IO,
};
use core::mem::size_of;
use kernel::error::code::{EINVAL, ENOENT};
use kernel::prelude::KVec;
use proptest::prelude::*;
use std::collections::BTreeMap;

const ENOTCONN: i32 = -107;

/// The next request the server reads, without its data.
fn next(r: &mut Requests<u32>, batch_forget: bool) -> Option<(InHeader, Args)> {
    r.send_next(batch_forget).map(|s| (s.header, s.args))
}

fn submit(r: &mut Requests<u32>, opcode: u32) -> crate::request::Ticket {
    r.submit(
        opcode,
        7,
        &[1, 2, 3],
        KVec::new(),
        Creds::default(),
        Caller::Waiting,
    )
    .unwrap()
}

#[test]
fn requests_are_read_in_order_with_even_uniques() {
    let mut r = Requests::<u32>::new();
    submit(&mut r, FUSE_IOMAP_BEGIN);
    submit(&mut r, FUSE_GET_FMAP);
    let (h1, a1) = next(&mut r, false).unwrap();
    let (h2, _) = next(&mut r, false).unwrap();
    assert!(next(&mut r, false).is_none());
    assert_eq!(
        (h1.opcode, h1.unique, h1.nodeid, h1.len),
        (FUSE_IOMAP_BEGIN, 2, 7, 43)
    );
    assert_eq!(a1.as_bytes(), &[1, 2, 3]);
    assert_eq!((h2.opcode, h2.unique), (FUSE_GET_FMAP, 4));
}

#[test]
fn only_a_sent_request_takes_a_reply_and_only_once() {
    let mut r = Requests::<u32>::new();
    let t = submit(&mut r, FUSE_IOMAP_BEGIN);
    assert_eq!(r.target(2), Err(ENOENT), "queued, not yet read");
    assert_eq!(r.answer(2, Ok(1)), Err(ENOENT));
    next(&mut r, false).unwrap();
    assert_eq!(r.target(2).unwrap().opcode, FUSE_IOMAP_BEGIN);
    assert_eq!(r.take(t), None);
    r.answer(2, Ok(9)).unwrap();
    assert_eq!(r.answer(2, Ok(10)), Err(ENOENT), "second reply");
    assert_eq!(r.take(t), Some(Ok(9)));
    assert_eq!(r.take(t), None);
    assert_eq!(r.len(), 0);
    assert_eq!(r.target(4), Err(ENOENT), "never submitted");
}

#[test]
fn a_cancelled_request_is_forgotten_in_any_state() {
    let mut r = Requests::<u32>::new();
    let queued = submit(&mut r, FUSE_IOMAP_BEGIN);
    r.cancel(queued);
    assert!(!r.has_queued());
    assert!(next(&mut r, false).is_none());
    let sent = submit(&mut r, FUSE_IOMAP_BEGIN);
    let (h, _) = next(&mut r, false).unwrap();
    r.cancel(sent);
    assert_eq!(r.answer(h.unique, Ok(1)), Err(ENOENT));
    assert_eq!(r.len(), 0);
}

#[test]
fn a_slot_reused_does_not_answer_an_old_ticket() {
    let mut r = Requests::<u32>::new();
    let old = submit(&mut r, FUSE_IOMAP_BEGIN);
    r.cancel(old);
    let new = submit(&mut r, FUSE_IOMAP_BEGIN);
    let (h, _) = next(&mut r, false).unwrap();
    r.answer(h.unique, Ok(5)).unwrap();
    assert_eq!(r.take(old), None);
    assert_eq!(r.take(new), Some(Ok(5)));
}

#[test]
fn handshake_requests_are_freed_when_answered() {
    let mut r = Requests::<u32>::new();
    r.submit(
        FUSE_INIT,
        0,
        &[0; 64],
        KVec::new(),
        Creds::default(),
        Caller::Handshake,
    )
    .unwrap();
    let (h, _) = next(&mut r, false).unwrap();
    assert_eq!(r.target(h.unique).unwrap().caller, Caller::Handshake);
    r.answer(h.unique, Ok(0)).unwrap();
    assert_eq!(r.len(), 0);
}

#[test]
fn abort_answers_every_waiting_caller_and_refuses_more() {
    let mut r = Requests::<u32>::new();
    let queued = submit(&mut r, FUSE_IOMAP_BEGIN);
    let sent = submit(&mut r, FUSE_IOMAP_END);
    r.submit(
        FUSE_INIT,
        0,
        &[],
        KVec::new(),
        Creds::default(),
        Caller::Handshake,
    )
    .unwrap();
    next(&mut r, false).unwrap();
    next(&mut r, false).unwrap();
    r.abort();
    assert!(r.is_aborted() && !r.has_queued());
    assert_eq!(r.take(queued).unwrap().unwrap_err().to_errno(), ENOTCONN);
    assert_eq!(r.take(sent).unwrap().unwrap_err().to_errno(), ENOTCONN);
    assert_eq!(r.len(), 0);
    let again = r.submit(
        FUSE_IOMAP_BEGIN,
        1,
        &[],
        KVec::new(),
        Creds::default(),
        Caller::Waiting,
    );
    assert_eq!(again.unwrap_err().to_errno(), ENOTCONN);
}

#[test]
fn a_read_that_fails_puts_the_request_back() {
    let mut r = Requests::<u32>::new();
    submit(&mut r, FUSE_IOMAP_BEGIN);
    let (h, _) = next(&mut r, false).unwrap();
    r.unsend(h.unique, KVec::new());
    assert!(r.has_queued());
    assert_eq!(next(&mut r, false).unwrap().0.unique, h.unique);
}

#[test]
fn arguments_longer_than_any_request_are_refused() {
    assert!(Args::new(&[0; MAX_ARGS]).is_ok());
    assert_eq!(Args::new(&[0; MAX_ARGS + 1]).err(), Some(EINVAL));
    // RENAME's: its structure and two names of 255 bytes, NUL-terminated.
    let name = [b'x'; 255];
    let rename = Args::concat(&[&[0; 8], &name, b"\0", &name, b"\0"]).unwrap();
    assert_eq!(rename.as_bytes().len(), MAX_ARGS);
    assert_eq!(&rename.as_bytes()[8..10], b"xx");
    assert_eq!(rename.as_bytes()[263], 0);
    assert_eq!(
        Args::concat(&[&[0; 9], &name, b"\0", &name, b"\0"]).err(),
        Some(EINVAL)
    );
}

#[test]
fn a_request_without_reply_is_freed_once_read() {
    let mut r = Requests::<u32>::new();
    r.submit(
        FUSE_FORGET,
        5,
        &[1; 8],
        KVec::new(),
        Creds::default(),
        Caller::NoReply,
    )
    .unwrap();
    assert!(r.has_queued());
    let (h, _) = next(&mut r, false).unwrap();
    assert_eq!((h.opcode, h.nodeid), (FUSE_FORGET, 5));
    assert!(!r.has_queued());
    assert_eq!(r.len(), 0);
    assert_eq!(r.target(h.unique), Err(ENOENT));
}

fn forget(r: &mut Requests<u32>, nodeid: u64, nlookup: u64) {
    let creds = Creds {
        uid: 1,
        gid: 2,
        pid: 3,
    };
    r.submit(
        FUSE_FORGET,
        nodeid,
        &nlookup.to_ne_bytes(),
        KVec::new(),
        creds,
        Caller::NoReply,
    )
    .unwrap();
}

/// The `(nodeid, nlookup)` pairs of a `BATCH_FORGET`'s arguments, after
/// checking its head.
fn batch(args: &Args) -> Vec<(u64, u64)> {
    let bytes = args.as_bytes();
    let head = size_of::<BatchForgetIn>();
    let count = u32::from_ne_bytes(bytes[..4].try_into().unwrap()) as usize;
    assert_eq!(&bytes[4..8], &[0; 4], "dummy");
    assert_eq!(bytes.len(), head + count * size_of::<ForgetOne>());
    bytes[head..]
        .chunks(16)
        .map(|c| {
            (
                u64::from_ne_bytes(c[..8].try_into().unwrap()),
                u64::from_ne_bytes(c[8..].try_into().unwrap()),
            )
        })
        .collect()
}

#[test]
fn forgets_queued_together_are_read_as_one_batch_forget() {
    let mut r = Requests::<u32>::new();
    forget(&mut r, 10, 1);
    submit(&mut r, FUSE_GETATTR);
    forget(&mut r, 11, 3);
    forget(&mut r, 12, 1);
    let (h, args) = next(&mut r, true).unwrap();
    assert_eq!((h.opcode, h.nodeid, h.unique), (FUSE_BATCH_FORGET, 0, 2));
    assert_eq!((h.uid, h.gid, h.pid), (0, 0, 0), "nobody's request");
    assert_eq!(h.len as usize, 40 + args.as_bytes().len());
    assert_eq!(batch(&args), [(10, 1), (11, 3), (12, 1)]);
    // The GETATTR is next, and the forgets are gone.
    assert_eq!(next(&mut r, true).unwrap().0.opcode, FUSE_GETATTR);
    assert!(next(&mut r, true).is_none());
    assert_eq!(r.len(), 1);
}

#[test]
fn a_batch_holds_at_most_what_fits_in_the_arguments() {
    assert_eq!(MAX_BATCH_FORGET, 32);
    let mut r = Requests::<u32>::new();
    for nodeid in 0..(MAX_BATCH_FORGET as u64 + 2) {
        forget(&mut r, 100 + nodeid, nodeid);
    }
    let (h, args) = next(&mut r, true).unwrap();
    assert_eq!(h.opcode, FUSE_BATCH_FORGET);
    let first = batch(&args);
    assert_eq!(first.len(), MAX_BATCH_FORGET);
    assert_eq!(first[31], (131, 31));
    let (h, args) = next(&mut r, true).unwrap();
    assert_eq!(h.opcode, FUSE_BATCH_FORGET);
    assert_eq!(batch(&args), [(132, 32), (133, 33)]);
    assert!(!r.has_queued());
    assert_eq!(r.len(), 0);
}

#[test]
fn a_lone_forget_or_an_old_server_gets_plain_forgets() {
    let mut r = Requests::<u32>::new();
    forget(&mut r, 10, 1);
    let (h, args) = next(&mut r, true).unwrap();
    assert_eq!((h.opcode, h.nodeid, h.uid), (FUSE_FORGET, 10, 1));
    assert_eq!(args.as_bytes(), 1u64.to_ne_bytes());
    // Before 7.16, no batches.
    let mut old = Requests::<u32>::new();
    forget(&mut old, 10, 1);
    forget(&mut old, 11, 1);
    assert_eq!(next(&mut old, false).unwrap().0.opcode, FUSE_FORGET);
    assert_eq!(next(&mut old, false).unwrap().0.nodeid, 11);
}

fn oh(len: u32, error: i32, unique: u64) -> OutHeader {
    OutHeader { len, error, unique }
}

#[test]
fn headers_follow_dev_fuse() {
    assert_eq!(parse_header(&oh(16, 0, 0), 15), Err(EINVAL), "short");
    assert_eq!(parse_header(&oh(20, 0, 2), 24), Err(EINVAL), "len mismatch");
    assert_eq!(
        parse_header(&oh(16, 1, 2), 16),
        Err(EINVAL),
        "positive error"
    );
    assert_eq!(
        parse_header(&oh(16, -512, 2), 16),
        Err(EINVAL),
        "error too negative"
    );
    assert_eq!(
        parse_header(&oh(24, -5, 2), 24),
        Err(EINVAL),
        "error with payload"
    );
    let too_long = 16 + MAX_IO as u32 + 1;
    assert_eq!(
        parse_header(&oh(too_long, 0, 2), too_long as usize),
        Err(EINVAL),
        "longer than a READ's largest reply"
    );
    assert_eq!(
        parse_header(&oh(16, -511, 2), 16),
        Ok(Message::Reply {
            unique: 2,
            error: Some(-511),
            size: 0
        })
    );
    assert_eq!(
        parse_header(&oh(80, 0, 2), 80),
        Ok(Message::Reply {
            unique: 2,
            error: None,
            size: 64
        })
    );
    assert_eq!(
        parse_header(&oh(96, 100, 0), 96),
        Ok(Message::Notify {
            code: 100,
            size: 80
        })
    );
}

#[test]
fn reply_sizes_by_opcode() {
    for (op, size) in [
        (FUSE_INIT, 64),
        (FUSE_IOMAP_CONFIG, 64),
        (FUSE_IOMAP_BEGIN, 64),
        (FUSE_IOMAP_END, 0),
        (FUSE_IOMAP_IOEND, 8),
        (FUSE_GET_DAXDEV, 280),
        (FUSE_LOOKUP, 128),
        (FUSE_MKDIR, 128),
        (FUSE_GETATTR, 104),
        (FUSE_SETATTR, 104),
        (FUSE_OPEN, 16),
        (FUSE_OPENDIR, 16),
        (FUSE_CREATE, 144),
        (FUSE_STATFS, 80),
        (FUSE_UNLINK, 0),
        (FUSE_RENAME, 0),
        (FUSE_DESTROY, 0),
    ] {
        assert!(reply_size_ok(op, size));
        assert!(!reply_size_ok(op, size + 8));
        assert!(size == 0 || !reply_size_ok(op, size - 1));
    }
    assert!(!reply_size_ok(FUSE_GET_FMAP, 31));
    assert!(reply_size_ok(FUSE_GET_FMAP, 32) && reply_size_ok(FUSE_GET_FMAP, 4096));
    assert!(!reply_size_ok(FUSE_GET_FMAP, 4097));
    assert!(reply_size_ok(FUSE_READDIR, 0) && reply_size_ok(FUSE_READDIR, 4096));
    assert!(!reply_size_ok(FUSE_READDIR, 4097));
    assert!(!reply_size_ok(FUSE_FORGET, 0), "FORGET has no reply");
    assert!(!reply_size_ok(16, 0), "an opcode the kernel never sends");
}

#[derive(Debug, Clone)]
enum Op {
    Submit,
    Read,
    Reply(usize, u32),
    Cancel(usize),
    Take(usize),
    Abort,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => Just(Op::Submit),
        3 => Just(Op::Read),
        3 => (0..12usize, any::<u32>()).prop_map(|(i, v)| Op::Reply(i, v)),
        1 => (0..12usize).prop_map(Op::Cancel),
        3 => (0..12usize).prop_map(Op::Take),
        1 => Just(Op::Abort),
    ]
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum ModelState {
    Queued,
    Sent,
    Answered(Option<u32>),
}

proptest! {
    /// The table against a map from unique to state: the queue is FIFO, a
    /// reply lands only on a sent request, a caller gets exactly its
    /// answer, and an abort answers everyone with ENOTCONN.
    #[test]
    fn matches_a_model(ops in proptest::collection::vec(op(), 1..200)) {
        let mut r = Requests::<u32>::new();
        let mut model: BTreeMap<u64, ModelState> = BTreeMap::new();
        let mut tickets = Vec::new();
        let mut aborted = false;
        for op in ops {
            match op {
                Op::Submit => {
                    let t = r.submit(FUSE_IOMAP_BEGIN, 1, &[], KVec::new(), Creds::default(), Caller::Waiting);
                    prop_assert_eq!(t.is_err(), aborted);
                    if let Ok(t) = t {
                        let unique = 2 * (tickets.len() as u64 + 1);
                        model.insert(unique, ModelState::Queued);
                        tickets.push((t, unique));
                    }
                }
                Op::Read => {
                    let oldest = model.iter().find(|(_, s)| **s == ModelState::Queued).map(|(u, _)| *u);
                    let got = next(&mut r, false).map(|(h, _)| h.unique);
                    prop_assert_eq!(got, oldest);
                    if let Some(u) = oldest {
                        model.insert(u, ModelState::Sent);
                    }
                }
                Op::Reply(i, v) => {
                    let Some(&(_, unique)) = tickets.get(i) else { continue };
                    let expect = model.get(&unique) == Some(&ModelState::Sent);
                    prop_assert_eq!(r.answer(unique, Ok(v)).is_ok(), expect);
                    if expect {
                        model.insert(unique, ModelState::Answered(Some(v)));
                    }
                }
                Op::Cancel(i) => {
                    let Some(&(t, unique)) = tickets.get(i) else { continue };
                    r.cancel(t);
                    model.remove(&unique);
                }
                Op::Take(i) => {
                    let Some(&(t, unique)) = tickets.get(i) else { continue };
                    let got = r.take(t).map(|a| a.ok());
                    match model.get(&unique) {
                        Some(ModelState::Answered(v)) => {
                            prop_assert_eq!(got, Some(*v));
                            model.remove(&unique);
                        }
                        _ => prop_assert_eq!(got, None),
                    }
                }
                Op::Abort => {
                    r.abort();
                    aborted = true;
                    for s in model.values_mut() {
                        if !matches!(s, ModelState::Answered(_)) {
                            *s = ModelState::Answered(None);
                        }
                    }
                }
            }
            prop_assert_eq!(r.len(), model.len());
            prop_assert_eq!(r.has_queued(), model.values().any(|s| *s == ModelState::Queued));
        }
    }
}
