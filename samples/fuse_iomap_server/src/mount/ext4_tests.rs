// SPDX-License-Identifier: GPL-2.0

//! `mount ext4`'s server end to end, without a kernel (as `tests.rs` serves
//! `mount disk`): an image made by `mke2fs -d`, requests framed as the
//! kernel frames them, the notifications that come before the replies,
//! and, with `--rw`, an image that `e2fsck -fn` finds clean afterwards.

use super::ext4_serve::Server;
use super::tests::{serving, with_name, Kernel};
use bytemuck::bytes_of;
use fuse_iomap_server::diskfs::{BLOCK, ROOT};
use fuse_iomap_server::ext4::{Fs, Options};
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;

const DEV: u32 = 5;
const UPSERT: i32 = FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS as i32;
const INVAL: i32 = FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS as i32;

fn tool(name: &str, args: &[&str]) -> String {
    let out = Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name} (e2fsprogs): {e}"));
    assert!(out.status.success(), "{name} {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// An image of a file `a` (3 blocks), a directory `d`, a symlink, and a
/// file `p` of 64 KiB, preallocated (unwritten); its directory.
fn image(what: &str) -> (PathBuf, PathBuf) {
    let dir = std::env::temp_dir().join(format!("ext4-mount-{what}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("d")).unwrap();
    std::fs::write(src.join("a"), vec![7; 3 * BLOCK as usize]).unwrap();
    std::fs::File::create(src.join("p"))
        .unwrap()
        .set_len(16 * BLOCK)
        .unwrap();
    std::os::unix::fs::symlink("a", src.join("l")).unwrap();
    let img = dir.join("img");
    let (s, i) = (src.to_str().unwrap(), img.to_str().unwrap());
    tool(
        "mke2fs",
        &["-q", "-F", "-t", "ext4", "-b", "4096", "-d", s, i, "16M"],
    );
    tool("debugfs", &["-w", "-R", "fallocate /p 0 15", i]);
    (dir, img)
}

fn start(img: &Path, rw: bool, what: &str) -> (Kernel, JoinHandle<i32>, PathBuf) {
    serve(img, rw, false, what)
}

/// Serves the image, with its file as the device of `FUSE_READ` and
/// `FUSE_WRITE` if `classic`.
fn serve(img: &Path, rw: bool, classic: bool, what: &str) -> (Kernel, JoinHandle<i32>, PathBuf) {
    let fs = Fs::load(img, Options { rw }).unwrap();
    let device = classic.then(|| {
        std::fs::File::options()
            .read(true)
            .write(rw)
            .open(img)
            .unwrap()
    });
    serving(what, move |channel, log| {
        Server {
            channel,
            fs,
            dev: DEV,
            classic: device,
            log,
        }
        .run()
    })
}

fn begin(opflags: u32, pos: u64, count: u64) -> Vec<u8> {
    bytes_of(&fuse_iomap_begin_in {
        opflags,
        pos,
        count,
        ..Default::default()
    })
    .to_vec()
}

fn err(e: Errno) -> i32 {
    -(e as i32)
}

#[test]
fn ext4_requests_end_to_end() {
    let (dir, img) = image("ro");
    let (mut k, thread, log_path) = start(&img, false, "ext4-ro");
    let a = k
        .call(fuse_opcode_FUSE_LOOKUP, ROOT, b"a\0")
        .get::<fuse_entry_out>();
    assert_eq!((a.attr.size, a.attr.mode & 0o170000), (3 * BLOCK, 0o100000));
    assert_eq!(
        k.call(fuse_opcode_FUSE_GETATTR, a.nodeid, &[0; 16]).error,
        0
    );

    // The open of a small file puts its whole map in the cache first.
    let r = k.call(fuse_opcode_FUSE_OPEN, a.nodeid, &[0; 8]);
    assert_eq!((r.error, r.notes), (0, vec![UPSERT]));
    // A read: the extent, on the registered device, upserted again.
    let r = k.call(FUSE_IOMAP_BEGIN, a.nodeid, &begin(0, 4096, 10));
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_MAPPED);
    assert_eq!((out.read.offset, out.read.length), (0, 3 * BLOCK));
    assert_eq!(out.read.dev, DEV);
    assert_eq!(u32::from(out.write.type_), FUSE_IOMAP_TYPE_NOCACHE);
    assert_eq!(r.notes, [UPSERT]);

    // Unwritten extents, and a hole past the end, are never upserted.
    let p = k
        .call(fuse_opcode_FUSE_LOOKUP, ROOT, b"p\0")
        .get::<fuse_entry_out>();
    let r = k.call(fuse_opcode_FUSE_OPEN, p.nodeid, &[0; 8]);
    assert!(r.notes.is_empty());
    let r = k.call(FUSE_IOMAP_BEGIN, p.nodeid, &begin(0, 0, 1));
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_UNWRITTEN);
    assert!(r.notes.is_empty());
    let r = k.call(FUSE_IOMAP_BEGIN, a.nodeid, &begin(0, 5 * BLOCK, 1));
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_HOLE);

    // ".", "..", "a", "d", "lost+found", "p": the symlink is left out.
    let listing = k.readdir(ROOT);
    let mut names = Vec::new();
    let mut at = 0;
    while at + 24 <= listing.len() {
        let len = u32::from_ne_bytes(listing[at + 16..at + 20].try_into().unwrap()) as usize;
        names.push(String::from_utf8_lossy(&listing[at + 24..at + 24 + len]).into_owned());
        at += (24 + len).next_multiple_of(8);
    }
    names.sort();
    assert_eq!(names, [".", "..", "a", "d", "lost+found", "p"]);
    assert_eq!(
        k.call(fuse_opcode_FUSE_LOOKUP, ROOT, b"l\0").error,
        err(Errno::EOPNOTSUPP)
    );
    assert_eq!(k.call(fuse_opcode_FUSE_STATFS, ROOT, &[]).error, 0);

    // Read-only: writes, and namespace changes, are EROFS.
    let r = k.call(
        FUSE_IOMAP_BEGIN,
        a.nodeid,
        &begin(FUSE_IOMAP_OP_WRITE, 0, 1),
    );
    assert_eq!(r.error, err(Errno::EROFS));
    assert_eq!(
        k.call(fuse_opcode_FUSE_UNLINK, ROOT, b"a\0").error,
        err(Errno::EROFS)
    );
    let mkdir = fuse_mkdir_in {
        mode: 0o755,
        umask: 0,
    };
    let r = k.call(fuse_opcode_FUSE_MKDIR, ROOT, &with_name(&mkdir, &["n"]));
    assert_eq!(r.error, err(Errno::EROFS));
    assert_eq!(
        k.call(fuse_opcode_FUSE_LINK, ROOT, &[0; 8]).error,
        err(Errno::EROFS)
    );
    assert_eq!(
        k.call(fuse_opcode_FUSE_GETXATTR, ROOT, &[0; 8]).error,
        err(Errno::ENOSYS)
    );
    // FORGET gets no reply: the next reply is the next request's.
    k.send(
        fuse_opcode_FUSE_FORGET,
        a.nodeid,
        bytes_of(&fuse_forget_in { nlookup: 1 }),
    );
    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(thread.join().unwrap(), 0);
    std::fs::remove_file(&log_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ext4_without_iomap_reads_and_writes_through_the_server() {
    let (dir, img) = image("classic");
    let (mut k, thread, log_path) = serve(&img, true, true, "ext4-classic");
    let lookup = |k: &mut Kernel, name: &[u8]| {
        k.call(fuse_opcode_FUSE_LOOKUP, ROOT, name)
            .get::<fuse_entry_out>()
            .nodeid
    };
    let (a, p) = (lookup(&mut k, b"a\0"), lookup(&mut k, b"p\0"));
    let read = |k: &mut Kernel, nodeid, offset, size| {
        let r = fuse_read_in {
            offset,
            size,
            ..Default::default()
        };
        k.call(fuse_opcode_FUSE_READ, nodeid, bytes_of(&r)).payload
    };
    // No map goes to the cache at open: there is none.
    let r = k.call(fuse_opcode_FUSE_OPEN, a, &[0; 8]);
    assert!(r.notes.is_empty());
    assert_eq!(read(&mut k, a, 100, 8192), vec![7; 8192]);
    assert_eq!(
        read(&mut k, a, 2 * BLOCK, 8192).len(),
        BLOCK as usize,
        "at EOF"
    );
    assert_eq!(read(&mut k, p, 0, 4096), vec![0; 4096], "unwritten");
    // A write into the unwritten extent, another past the end.
    let write = |k: &mut Kernel, nodeid, offset, data: &[u8]| {
        let w = fuse_write_in {
            offset,
            size: data.len() as u32,
            ..Default::default()
        };
        let mut args = bytes_of(&w).to_vec();
        args.extend_from_slice(data);
        k.call(fuse_opcode_FUSE_WRITE, nodeid, &args)
            .get::<fuse_write_out>()
            .size
    };
    assert_eq!(write(&mut k, p, BLOCK + 10, &[0x5a; 100]), 100);
    assert_eq!(write(&mut k, p, 20 * BLOCK, &[0x6b; 5000]), 5000);
    let mut want = vec![0u8; 2 * BLOCK as usize];
    want[BLOCK as usize + 10..BLOCK as usize + 110].fill(0x5a);
    assert_eq!(read(&mut k, p, 0, 2 * BLOCK as u32), want);
    assert_eq!(read(&mut k, p, 20 * BLOCK, 8192), vec![0x6b; 5000]);
    let attr = k
        .call(fuse_opcode_FUSE_GETATTR, p, &[0; 16])
        .get::<fuse_attr_out>();
    assert_eq!(attr.attr.size, 20 * BLOCK + 5000);
    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(thread.join().unwrap(), 0);
    tool("e2fsck", &["-fn", img.to_str().unwrap()]);
    std::fs::remove_file(&log_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ext4_rw_writes_leave_fsck_clean() {
    let (dir, img) = image("rw");
    let (mut k, thread, log_path) = start(&img, true, "ext4-rw");
    let p = k
        .call(fuse_opcode_FUSE_LOOKUP, ROOT, b"p\0")
        .get::<fuse_entry_out>()
        .nodeid;
    // A write into the preallocated extent: unwritten, not upserted.
    let r = k.call(
        FUSE_IOMAP_BEGIN,
        p,
        &begin(FUSE_IOMAP_OP_WRITE, BLOCK, 2 * BLOCK),
    );
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_UNWRITTEN);
    assert!(r.notes.is_empty());
    // The kernel writes there, then its end converts the blocks.
    let data = vec![0x5a; 2 * BLOCK as usize];
    let file = std::fs::File::options().write(true).open(&img).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&file, &data, out.read.addr + BLOCK).unwrap();
    let ioend = fuse_iomap_ioend_in {
        flags: FUSE_IOMAP_IOEND_UNWRITTEN,
        pos: BLOCK,
        written: 2 * BLOCK,
        ..Default::default()
    };
    let r = k.call(FUSE_IOMAP_IOEND, p, bytes_of(&ioend));
    assert_eq!(r.get::<fuse_iomap_ioend_out>().newsize, 16 * BLOCK);
    assert_eq!(r.notes, [INVAL]);
    let r = k.call(FUSE_IOMAP_BEGIN, p, &begin(0, BLOCK, 1));
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_MAPPED);
    assert_eq!(r.notes, [UPSERT]);

    // A write past the end: new blocks, then a larger size.
    let r = k.call(
        FUSE_IOMAP_BEGIN,
        p,
        &begin(FUSE_IOMAP_OP_WRITE, 20 * BLOCK, 100),
    );
    let out: fuse_iomap_begin_out = r.get();
    assert_eq!(u32::from(out.read.flags), FUSE_IOMAP_F_NEW);
    let ioend = fuse_iomap_ioend_in {
        flags: FUSE_IOMAP_IOEND_UNWRITTEN,
        pos: 20 * BLOCK,
        written: 100,
        ..Default::default()
    };
    let r = k.call(FUSE_IOMAP_IOEND, p, bytes_of(&ioend));
    assert_eq!(r.get::<fuse_iomap_ioend_out>().newsize, 20 * BLOCK + 100);

    // A truncation invalidates the cache past the new size.
    let setattr = fuse_setattr_in {
        valid: FATTR_SIZE,
        size: 2 * BLOCK,
        ..Default::default()
    };
    let r = k.call(fuse_opcode_FUSE_SETATTR, p, bytes_of(&setattr));
    assert_eq!(r.get::<fuse_attr_out>().attr.size, 2 * BLOCK);
    assert_eq!(r.notes, [INVAL]);
    assert_eq!(k.call(fuse_opcode_FUSE_FSYNC, p, &[0; 16]).error, 0);
    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(thread.join().unwrap(), 0);

    let i = img.to_str().unwrap();
    tool("e2fsck", &["-fn", i]);
    let cat = Command::new("debugfs")
        .args(["-R", "cat /p", i])
        .output()
        .unwrap();
    let mut want = vec![0; BLOCK as usize];
    want.extend(&data[..BLOCK as usize]);
    assert!(cat.stdout == want);
    std::fs::remove_file(&log_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn ext4_corruption_is_eio_and_logged() {
    let (dir, img) = image("bad");
    let i = img.to_str().unwrap();
    // `a`'s first extent (in the inode) is moved past the device.
    tool("debugfs", &["-w", "-R", "sif /a block[5] 0x7fff0000", i]);
    let (mut k, thread, log_path) = start(&img, false, "ext4-bad");
    let a = k
        .call(fuse_opcode_FUSE_LOOKUP, ROOT, b"a\0")
        .get::<fuse_entry_out>();
    let r = k.call(fuse_opcode_FUSE_OPEN, a.nodeid, &[0; 8]);
    assert_eq!((r.error, r.notes.len()), (0, 0));
    let r = k.call(FUSE_IOMAP_BEGIN, a.nodeid, &begin(0, 0, 1));
    assert_eq!(r.error, err(Errno::EIO));
    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(thread.join().unwrap(), 0);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("past the device"), "{log}");
    std::fs::remove_file(&log_path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}
