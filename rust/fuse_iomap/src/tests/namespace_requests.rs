// SPDX-License-Identifier: GPL-2.0

//! The mount's namespace requests on a connection: what each sends, how
//! its reply is checked, and a hostile reply for each kind.

use super::harness::{self, bytes, read, reply, serve, Request};
use crate::abi::{FUSE_IOMAP, FUSE_MIN_READ_BUFFER};
use crate::connection::Connection;
use crate::errno::enotconn;
use crate::famfs_iomap::FamfsResolve;
use crate::fuse_abi::*;
use crate::namespace::Entry;
use kernel::error::code::{EBUSY, EINVAL, EIO, ENODEV};
use kernel::sync::Arc;
use kernel::uaccess::UserSliceWriter;

const DIR: u32 = 0o040755;
const REG: u32 = 0o100644;

fn attr(nodeid: u64, mode: u32) -> Attr {
    Attr {
        ino: nodeid,
        mode,
        nlink: 1,
        size: 4096,
        ..Attr::default()
    }
}

fn entry(nodeid: u64, mode: u32) -> EntryOut {
    EntryOut {
        nodeid,
        generation: 1,
        entry_valid: 1,
        attr_valid: 1,
        attr: attr(nodeid, mode),
        ..EntryOut::default()
    }
}

fn mounted() -> Arc<Connection> {
    let conn = harness::connection(true);
    conn.mount(FamfsResolve::Fmap).unwrap();
    assert_eq!(conn.mount(FamfsResolve::Fmap), Err(EBUSY));
    harness::handshake(&conn, FUSE_IOMAP);
    conn
}

/// Runs `op` while the server answers its one request with `answer`;
/// returns the request and what `op` got.
fn call<R: Send>(conn: &Connection, op: impl FnOnce() -> R + Send, answer: &[u8]) -> (Request, R) {
    let mut seen = None;
    let got = serve(op, || {
        let req = read(conn);
        reply(conn, req.header.unique, answer).unwrap();
        seen = Some(req);
    });
    (seen.unwrap(), got)
}

#[test]
fn lookup_sends_the_name_and_checks_the_entry() {
    let conn = mounted();
    let (req, got) = call(
        &conn,
        || conn.lookup_name(1, b"file"),
        bytes(&entry(5, REG)),
    );
    assert_eq!((req.header.opcode, req.header.nodeid), (FUSE_LOOKUP, 1));
    assert_eq!(req.args, b"file\0");
    assert_eq!(got, Ok(Entry::Inode(entry(5, REG))));
    let (_, got) = call(
        &conn,
        || conn.lookup_name(1, b"x"),
        bytes(&entry(5, 0o120777)),
    );
    assert_eq!(got.err(), Some(EIO), "a symlink");
    assert_eq!(conn.lookup_name(1, b"a/b"), Err(EINVAL), "no request");
}

#[test]
fn attributes_are_read_and_checked() {
    let conn = mounted();
    let out = AttrOut {
        attr_valid: 1,
        attr: attr(5, REG),
        ..AttrOut::default()
    };
    let (req, got) = call(&conn, || conn.getattr(5), bytes(&out));
    assert_eq!(req.header.opcode, FUSE_GETATTR);
    assert_eq!(got.unwrap().attr, out.attr);
    let args = SetattrIn {
        valid: FATTR_SIZE,
        size: 100,
        ..SetattrIn::default()
    };
    let bad = AttrOut {
        attr: attr(5, 0),
        ..out
    };
    let (req, got) = call(&conn, || conn.setattr(5, &args), bytes(&bad));
    assert_eq!(req.arg::<SetattrIn>(), args);
    assert_eq!(got.err(), Some(EIO));
}

#[test]
fn open_create_and_release() {
    let conn = mounted();
    let open = OpenOut {
        fh: 77,
        ..OpenOut::default()
    };
    let (req, got) = call(&conn, || conn.open_file(5, false, 2), bytes(&open));
    assert_eq!(
        (req.header.opcode, req.arg::<OpenIn>().flags),
        (FUSE_OPEN, 2)
    );
    assert_eq!(got.unwrap().fh, 77);
    let (req, _) = call(&conn, || conn.open_file(1, true, 0), bytes(&open));
    assert_eq!(req.header.opcode, FUSE_OPENDIR);
    let (req, got) = call(&conn, || conn.release(5, false, 77, 2), &[]);
    assert_eq!(
        (req.header.opcode, req.arg::<ReleaseIn>().fh),
        (FUSE_RELEASE, 77)
    );
    assert_eq!(got, Ok(()));
    let (req, _) = call(&conn, || conn.release(1, true, 77, 0), &[]);
    assert_eq!(req.header.opcode, FUSE_RELEASEDIR);

    let mut created = bytes(&entry(6, REG)).to_vec();
    created.extend_from_slice(bytes(&open));
    let (req, got) = call(&conn, || conn.create(1, b"new", 0o644, 0o22, 2), &created);
    assert_eq!(req.header.opcode, FUSE_CREATE);
    assert_eq!(&req.args[core::mem::size_of::<CreateIn>()..], b"new\0");
    assert_eq!(got.unwrap().1.fh, 77);
    let mut dir = bytes(&entry(6, DIR)).to_vec();
    dir.extend_from_slice(bytes(&open));
    let (_, got) = call(&conn, || conn.create(1, b"new", 0o644, 0o22, 2), &dir);
    assert_eq!(got.err(), Some(EIO), "CREATE made a directory");
}

#[test]
fn directories_names_and_the_file_system() {
    let conn = mounted();
    let (req, got) = call(
        &conn,
        || conn.mkdir(1, b"d", 0o755, 0),
        bytes(&entry(7, DIR)),
    );
    assert_eq!(req.header.opcode, FUSE_MKDIR);
    assert_eq!(got.unwrap().nodeid, 7);
    let (_, got) = call(
        &conn,
        || conn.mkdir(1, b"d", 0o755, 0),
        bytes(&entry(7, REG)),
    );
    assert_eq!(got.err(), Some(EIO), "MKDIR made a file");
    for (dir, opcode) in [(false, FUSE_UNLINK), (true, FUSE_RMDIR)] {
        let (req, got) = call(&conn, || conn.remove(1, b"d", dir), &[]);
        assert_eq!(
            (req.header.opcode, req.args.as_slice()),
            (opcode, &b"d\0"[..])
        );
        assert_eq!(got, Ok(()));
    }
    let (req, got) = call(&conn, || conn.rename(1, b"a", 7, b"b"), &[]);
    assert_eq!(req.header.opcode, FUSE_RENAME);
    assert_eq!(req.arg::<RenameIn>().newdir, 7);
    assert_eq!(&req.args[8..], b"a\0b\0");
    assert_eq!(got, Ok(()));
    let st = Kstatfs {
        blocks: 100,
        bsize: 4096,
        ..Kstatfs::default()
    };
    let (_, got) = call(&conn, || conn.statfs(1), bytes(&st));
    assert_eq!(got.unwrap().blocks, 100);
    let (_, got) = call(&conn, || conn.statfs(1), bytes(&Kstatfs::default()));
    assert_eq!(got.err(), Some(EIO), "block size 0");
    let (req, got) = call(&conn, || conn.readdir(1, 77, 3), &[1, 2, 3]);
    assert_eq!(req.arg::<ReadIn>().offset, 3);
    assert_eq!(got.unwrap().as_ref(), &[1, 2, 3]);
}

#[test]
fn fsync_fallocate_and_the_end_of_the_mount() {
    let conn = mounted();
    let (req, got) = call(&conn, || conn.fsync(5, 77, true), &[]);
    assert_eq!(
        (req.header.opcode, req.arg::<FsyncIn>().fsync_flags),
        (FUSE_FSYNC, 1)
    );
    assert_eq!(got, Ok(()));
    let (req, got) = call(&conn, || conn.fallocate(5, 77, 0, 4096, 0), &[]);
    assert_eq!(
        (req.header.opcode, req.arg::<FallocateIn>().length),
        (FUSE_FALLOCATE, 4096)
    );
    assert_eq!(got, Ok(()));
    let (req, ()) = call(&conn, || conn.unmount(), &[]);
    assert_eq!(req.header.opcode, FUSE_DESTROY);
    // A server that reads on after `DESTROY`, as libfuse's loop does,
    // learns that the connection is over; the file system's last
    // requests fail without waiting for it.
    assert_eq!(
        conn.server_read(&mut UserSliceWriter::new(FUSE_MIN_READ_BUFFER), true),
        Err(ENODEV)
    );
    assert_eq!(conn.getattr(5).err(), Some(enotconn()));
    conn.abort();
    conn.unmount();
}

#[test]
fn a_mount_borrows_the_connection_its_pointer_stands_for() {
    let conn = mounted();
    let raw = Arc::into_raw(conn.clone());
    // SAFETY: `raw` is a reference held until `from_raw` below.
    let borrowed = unsafe { crate::connection::borrow(raw.cast()) };
    assert_eq!(borrowed.geometry().blocksize, 4096);
    // SAFETY: The reference given up just above, taken back once.
    drop(unsafe { Arc::from_raw(raw) });
}
