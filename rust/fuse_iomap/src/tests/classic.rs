// SPDX-License-Identifier: GPL-2.0

//! File data through the server on a connection without iomap: `READ` and
//! `WRITE` as fuse frames them, their hostile replies, and a server whose
//! read buffer cannot hold a request.

use super::harness::{self, bytes, read, read_into, reply, serve};
use crate::abi::{InitOut, FUSE_DAX_FMAP, FUSE_INIT_EXT, FUSE_IOMAP};
use crate::fuse_abi::{ReadIn, WriteIn, WriteOut, FUSE_READ, FUSE_WRITE};
use crate::request::MAX_IO;
use kernel::error::code::{E2BIG, EINVAL, EIO};
use kernel::prelude::*;

fn data(len: usize) -> KVec<u8> {
    let mut v = KVec::new();
    for i in 0..len {
        v.push(i as u8 ^ (i >> 8) as u8, GFP_KERNEL).unwrap();
    }
    v
}

#[test]
fn only_a_connection_without_iomap_or_famfs_is_classic() {
    assert!(harness::ready(0).is_classic());
    assert!(!harness::ready(FUSE_IOMAP).is_classic());
    assert!(!harness::ready(FUSE_DAX_FMAP).is_classic());
    assert!(!harness::connection(true).is_classic(), "no handshake yet");
}

#[test]
fn read_sends_read_in_and_takes_up_to_the_size_asked() {
    let conn = harness::ready(0);
    let mut seen = None;
    let got = serve(
        || conn.read(5, 77, 8192, 65536),
        || {
            let req = read(&conn);
            seen = Some((req.header.opcode, req.header.nodeid, req.arg::<ReadIn>()));
            reply(&conn, req.header.unique, &data(1000)).unwrap();
        },
    );
    let (opcode, nodeid, args) = seen.unwrap();
    assert_eq!((opcode, nodeid), (FUSE_READ, 5));
    assert_eq!((args.fh, args.offset, args.size), (77, 8192, 65536));
    assert_eq!(&got.unwrap()[..], &data(1000)[..], "a short read");
    let got = serve(
        || conn.read(5, 77, 0, 100),
        || {
            let req = read(&conn);
            reply(&conn, req.header.unique, &data(101)).unwrap();
        },
    );
    assert_eq!(got.err(), Some(EIO), "more than asked");
    assert_eq!(conn.read(5, 77, 0, MAX_IO + 1).err(), Some(EINVAL));
}

#[test]
fn a_read_reply_is_at_most_max_io() {
    let conn = harness::ready(0);
    let got = serve(
        || conn.read(5, 1, 0, MAX_IO),
        || {
            let req = read(&conn);
            assert_eq!(
                harness::write(&conn, req.header.unique, 0, &data(MAX_IO + 1)).err(),
                Some(EINVAL)
            );
            reply(&conn, req.header.unique, &data(MAX_IO)).unwrap();
        },
    );
    assert_eq!(got.unwrap().len(), MAX_IO);
}

#[test]
fn write_sends_the_data_after_write_in() {
    let conn = harness::ready(0);
    let (_, max_write) = conn.io_sizes();
    assert_eq!(max_write, 4096, "the harness's server asks for no more");
    let mut seen = None;
    let got = serve(
        || conn.write(5, 9, 4096, data(4096)),
        || {
            let req = read(&conn);
            seen = Some(req.args.clone());
            assert_eq!(req.header.opcode, FUSE_WRITE);
            let out = WriteOut {
                size: 4000,
                padding: 0,
            };
            reply(&conn, req.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(got, Ok(4000), "a short write");
    let args = seen.unwrap();
    let head: WriteIn = crate::channel::read_struct(&args[..40]).unwrap();
    assert_eq!((head.fh, head.offset, head.size), (9, 4096, 4096));
    assert_eq!(&args[40..], &data(4096)[..]);
    let got = serve(
        || conn.write(5, 9, 0, data(10)),
        || {
            let req = read(&conn);
            let out = WriteOut {
                size: 11,
                padding: 0,
            };
            reply(&conn, req.header.unique, bytes(&out)).unwrap();
        },
    );
    assert_eq!(got, Err(EIO), "more stored than sent");
    assert_eq!(
        conn.write(5, 9, 0, data(4097)),
        Err(EINVAL),
        "past max_write"
    );
}

#[test]
fn a_request_larger_than_the_servers_buffer_is_e2big() {
    let conn = harness::connection(true);
    conn.start_client().unwrap();
    let init = read(&conn);
    let out = InitOut {
        max_write: 65536,
        ..harness::init_out(FUSE_INIT_EXT)
    };
    reply(&conn, init.header.unique, bytes(&out)).unwrap();
    assert_eq!(conn.io_sizes().1, 65536);
    let got = serve(
        || conn.write(5, 9, 0, data(65536)),
        || {
            assert_eq!(read_into(&conn, 8192).err(), Some(EINVAL));
        },
    );
    assert_eq!(got, Err(E2BIG));
}
