// SPDX-License-Identifier: GPL-2.0

//! The server end to end, without a kernel: requests framed as the kernel
//! frames them, through a datagram socket pair (which keeps message
//! boundaries as the device does), answered from a file playing the disk;
//! and what the BPF program is given.

use super::log::Log;
use super::publish::{entry, Files, Publisher};
use super::serve::Server;
use bytemuck::{bytes_of, Pod};
use fuse_iomap_server::bpf::{DiskFsExtent, DISKFS_MAX_EXTENTS};
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::extents::{Extent, ExtentMap};
use fuse_iomap_server::diskfs::store::Store;
use fuse_iomap_server::diskfs::{BLOCK, ROOT};
use fuse_iomap_server::uapi::*;
use std::collections::HashMap;
use std::fs::File;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

const BYTES: u64 = 8 << 20;
const DEV: u32 = 3;

/// A scratch file, unlinked, of `bytes`.
pub(super) fn scratch(what: &str, bytes: u64) -> File {
    let path = std::env::temp_dir().join(format!("mount-test-{what}-{}", std::process::id()));
    let file = File::options()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    std::fs::remove_file(&path).unwrap();
    file.set_len(bytes).unwrap();
    file
}

/// The kernel's end.
pub(super) struct Kernel {
    sock: UnixDatagram,
    unique: u64,
}

/// A reply: its error, its payload, and the notifications sent before it.
pub(super) struct Reply {
    pub(super) error: i32,
    pub(super) payload: Vec<u8>,
    pub(super) notes: Vec<i32>,
}

impl Reply {
    pub(super) fn get<T: Pod>(&self) -> T {
        assert_eq!(self.error, 0);
        bytemuck::pod_read_unaligned(&self.payload[..std::mem::size_of::<T>()])
    }
}

impl Kernel {
    pub(super) fn send(&mut self, opcode: u32, nodeid: u64, args: &[u8]) -> u64 {
        self.unique += 2;
        let header = fuse_in_header {
            len: (std::mem::size_of::<fuse_in_header>() + args.len()) as u32,
            opcode,
            unique: self.unique,
            nodeid,
            ..Default::default()
        };
        let mut msg = bytes_of(&header).to_vec();
        msg.extend_from_slice(args);
        self.sock.send(&msg).unwrap();
        self.unique
    }

    pub(super) fn call(&mut self, opcode: u32, nodeid: u64, args: &[u8]) -> Reply {
        let unique = self.send(opcode, nodeid, args);
        let mut notes = Vec::new();
        loop {
            // A reply's largest: a READ's data and its header.
            let mut buf = vec![0; 128 * 1024 + 16];
            let n = self.sock.recv(&mut buf).unwrap();
            let h: fuse_out_header = bytemuck::pod_read_unaligned(&buf[..16]);
            assert_eq!(h.len as usize, n);
            if h.unique == 0 {
                notes.push(h.error);
                continue;
            }
            assert_eq!(h.unique, unique);
            return Reply {
                error: h.error,
                payload: buf[16..n].to_vec(),
                notes,
            };
        }
    }
}

pub(super) fn with_name<T: Pod>(arg: &T, names: &[&str]) -> Vec<u8> {
    let mut v = bytes_of(arg).to_vec();
    for n in names {
        v.extend_from_slice(n.as_bytes());
        v.push(0);
    }
    v
}

impl Kernel {
    /// `CREATE` of `name` in `parent`, mode 0666 less umask 022: its entry.
    pub(super) fn create(&mut self, parent: u64, name: &str) -> fuse_entry_out {
        let create = fuse_create_in {
            mode: 0o100666,
            umask: 0o022,
            ..Default::default()
        };
        let r = self.call(
            fuse_opcode_FUSE_CREATE,
            parent,
            &with_name(&create, &[name]),
        );
        // `fuse_entry_out` and `fuse_open_out`.
        assert_eq!(r.payload.len(), 128 + 16);
        r.get()
    }

    /// `MKDIR` of `name` in `parent`, mode 0755: its nodeid.
    pub(super) fn mkdir(&mut self, parent: u64, name: &str) -> u64 {
        let mkdir = fuse_mkdir_in {
            mode: 0o755,
            umask: 0,
        };
        let r = self.call(fuse_opcode_FUSE_MKDIR, parent, &with_name(&mkdir, &[name]));
        r.get::<fuse_entry_out>().nodeid
    }

    /// `READDIR` of `dir` from its start, 4 KiB at most: the records.
    pub(super) fn readdir(&mut self, dir: u64) -> Vec<u8> {
        let read = fuse_read_in {
            size: 4096,
            ..Default::default()
        };
        let r = self.call(fuse_opcode_FUSE_READDIR, dir, bytes_of(&read));
        assert_eq!(r.error, 0);
        r.payload
    }
}

fn begin(opflags: u32, pos: u64, count: u64) -> fuse_iomap_begin_in {
    fuse_iomap_begin_in {
        opflags,
        pos,
        count,
        ..Default::default()
    }
}

/// The BPF program's map, as the server fills it.
#[derive(Default)]
struct FakeFiles {
    entries: HashMap<u64, Vec<DiskFsExtent>>,
    detached: bool,
}

struct Fake(Arc<Mutex<FakeFiles>>);

impl Files for Fake {
    fn set(&mut self, nodeid: u64, dev: u32, extents: &[DiskFsExtent]) -> Result<(), String> {
        assert_eq!(dev, DEV);
        let mut f = self.0.lock().unwrap();
        f.entries.insert(nodeid, extents.to_vec());
        Ok(())
    }

    fn remove(&mut self, nodeid: u64) -> Result<(), String> {
        let mut f = self.0.lock().unwrap();
        match f.entries.remove(&nodeid) {
            Some(_) => Ok(()),
            None => Err("no entry".into()),
        }
    }

    fn detach(&mut self) {
        self.0.lock().unwrap().detached = true;
    }
}

/// Runs `serve` on a thread, as the server of a connection whose other
/// end it returns, logging to a fresh log: the kernel's end, the server's
/// thread, the log.
pub(super) fn serving(
    what: &str,
    serve: impl FnOnce(&Channel, Log) -> i32 + Send + 'static,
) -> (Kernel, JoinHandle<i32>, PathBuf) {
    let (ours, theirs) = UnixDatagram::pair().unwrap();
    let log_path =
        std::env::temp_dir().join(format!("mount-test-log-{what}-{}", std::process::id()));
    let mut log = Log::open(&log_path).unwrap();
    log.quiet();
    // Not a scoped thread: a failed assertion must end the test, not wait
    // for a server that waits for the next request.
    let thread = std::thread::spawn(move || serve(&Channel::new(OwnedFd::from(ours)), log));
    let k = Kernel {
        sock: theirs,
        unique: 0,
    };
    (k, thread, log_path)
}

/// A server of a fresh file system on a scratch disk, publishing to `bpf`
/// if given: the kernel's end, the server's thread, the disk, the log.
fn start(
    what: &str,
    bpf: Option<Arc<Mutex<FakeFiles>>>,
) -> (Kernel, JoinHandle<i32>, File, PathBuf) {
    let disk = scratch(what, BYTES);
    let (store, fs) = Store::format(disk.try_clone().unwrap(), BYTES).unwrap();
    let (k, thread, log_path) = serving(what, move |channel, log| {
        Server {
            channel,
            fs,
            store,
            dev: DEV,
            log,
            bpf: bpf.map(|f| Publisher::new(Box::new(Fake(f)), DEV)),
        }
        .run()
    });
    (k, thread, disk, log_path)
}

#[test]
fn requests_end_to_end() {
    let (mut k, serving, disk, log_path) = start("disk", None);
    {
        let entry = k.create(ROOT, "f");
        let f = entry.nodeid;
        assert_eq!((f, entry.attr.mode), (2, 0o100644));

        // A write into the hole: new unwritten blocks.
        let r = k.call(FUSE_IOMAP_BEGIN, f, bytes_of(&begin(1, 100, 8000)));
        let out: fuse_iomap_begin_out = r.get();
        assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_UNWRITTEN);
        assert_eq!(u32::from(out.read.flags), FUSE_IOMAP_F_NEW);
        assert_eq!(
            (out.read.offset, out.read.length, out.read.dev),
            (0, 8192, DEV)
        );
        assert_eq!(u32::from(out.write.type_), FUSE_IOMAP_TYPE_NOCACHE);
        assert!(r.notes.is_empty(), "unwritten is never upserted");

        // Its end converts it, invalidating the range, and sets the size.
        let ioend = fuse_iomap_ioend_in {
            flags: FUSE_IOMAP_IOEND_UNWRITTEN,
            pos: 0,
            written: 8100,
            ..Default::default()
        };
        let r = k.call(FUSE_IOMAP_IOEND, f, bytes_of(&ioend));
        assert_eq!(r.get::<fuse_iomap_ioend_out>().newsize, 8100);
        assert_eq!(r.notes, [FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS as i32]);

        // A read now gets it mapped, and the cache gets it first.
        let r = k.call(FUSE_IOMAP_BEGIN, f, bytes_of(&begin(0, 4096, 1)));
        let out: fuse_iomap_begin_out = r.get();
        assert_eq!(u32::from(out.read.type_), FUSE_IOMAP_TYPE_MAPPED);
        assert_eq!(r.notes, [FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS as i32]);

        let d = k.mkdir(ROOT, "d");
        let rename = fuse_rename_in { newdir: d };
        let r = k.call(
            fuse_opcode_FUSE_RENAME,
            ROOT,
            &with_name(&rename, &["f", "g"]),
        );
        assert_eq!(r.error, 0);

        let listing = k.readdir(d);
        // ".", ".." and "g", 32 bytes each.
        assert_eq!(listing.len(), 96);
        assert_eq!(&listing[24..25], b".");
        assert_eq!(&listing[56..58], b"..");
        assert_eq!(&listing[88..89], b"g");

        // Errors: no such name, no NUL, no such node, short args, unknown.
        let enoent = -(nix::errno::Errno::ENOENT as i32);
        let einval = -(nix::errno::Errno::EINVAL as i32);
        assert_eq!(k.call(fuse_opcode_FUSE_LOOKUP, ROOT, b"f\0").error, enoent);
        assert_eq!(k.call(fuse_opcode_FUSE_LOOKUP, d, b"g").error, einval);
        assert_eq!(k.call(fuse_opcode_FUSE_GETATTR, 99, &[0; 16]).error, enoent);
        assert_eq!(k.call(fuse_opcode_FUSE_MKDIR, ROOT, &[0; 4]).error, einval);
        let enosys = -(nix::errno::Errno::ENOSYS as i32);
        assert_eq!(k.call(fuse_opcode_FUSE_LINK, ROOT, &[0; 8]).error, enosys);
        let notempty = -(nix::errno::Errno::ENOTEMPTY as i32);
        assert_eq!(k.call(fuse_opcode_FUSE_RMDIR, ROOT, b"d\0").error, notempty);

        // FORGET gets no reply, even malformed: the next reply is the
        // next request's.
        k.send(fuse_opcode_FUSE_BATCH_FORGET, 0, &[0; 4]);
        k.send(
            fuse_opcode_FUSE_FORGET,
            f,
            bytes_of(&fuse_forget_in { nlookup: 1 }),
        );
        let r = k.call(fuse_opcode_FUSE_LOOKUP, d, b"g\0");
        assert_eq!(r.get::<fuse_entry_out>().attr.size, 8100);

        let r = k.call(fuse_opcode_FUSE_DESTROY, 0, &[]);
        assert_eq!((r.error, r.payload.len()), (0, 0));
    }
    assert_eq!(serving.join().unwrap(), 0);

    // DESTROY stored the tree.
    let (_, mut fs) = Store::load(disk, BYTES).unwrap();
    let d = fs.lookup(ROOT, b"d").unwrap().nodeid;
    assert_eq!(fs.lookup(d, b"g").unwrap().attr.size, 8100);
    let log = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).unwrap();
    assert!(log.contains("a malformed FORGET"), "{log}");
    assert!(log.contains("destroyed"), "{log}");
}

fn ext(dev: u64, len: u64, unwritten: bool) -> Extent {
    Extent {
        dev,
        len,
        unwritten,
    }
}

fn bytes(offset: u64, length: u64, addr: u64) -> DiskFsExtent {
    DiskFsExtent {
        offset: offset * BLOCK,
        length: length * BLOCK,
        addr: addr * BLOCK,
    }
}

#[test]
fn entry_holds_the_mapped_extents_in_order() {
    let mut m = ExtentMap::default();
    m.insert(10, ext(300, 3, false));
    m.insert(4, ext(200, 2, true));
    m.insert(0, ext(100, 4, false));
    assert_eq!(entry(&m), [bytes(0, 4, 100), bytes(10, 3, 300)]);
    assert!(entry(&ExtentMap::default()).is_empty());
}

#[test]
fn entry_stops_at_the_bound() {
    // 40 one-block extents that cannot merge: the first 32 are published,
    // and iomap_begin past them falls back to the server.
    let mut m = ExtentMap::default();
    for i in 0..40 {
        m.insert(2 * i, ext(1000 + 3 * i, 1, false));
    }
    let e = entry(&m);
    assert_eq!(e.len(), DISKFS_MAX_EXTENTS);
    assert_eq!(e[0], bytes(0, 1, 1000));
    assert_eq!(e[DISKFS_MAX_EXTENTS - 1], bytes(62, 1, 1000 + 3 * 31));
    let sorted = e
        .windows(2)
        .all(|w| w[0].offset + w[0].length <= w[1].offset);
    assert!(sorted);
}

#[test]
fn bpf_entries_follow_the_extents() {
    let files = Arc::new(Mutex::new(FakeFiles::default()));
    let (mut k, serving, _disk, log_path) = start("bpf", Some(files.clone()));
    let published = |nodeid: u64| files.lock().unwrap().entries.get(&nodeid).cloned();
    let f = k.create(ROOT, "f").nodeid;
    assert_eq!(published(f), Some(vec![]), "created: published, empty");

    // Unwritten blocks are not published.
    let r = k.call(FUSE_IOMAP_BEGIN, f, bytes_of(&begin(1, 0, 4 * BLOCK)));
    let out: fuse_iomap_begin_out = r.get();
    let addr = out.read.addr / BLOCK;
    assert_eq!(published(f), Some(vec![]));

    // Their ioend publishes them, before the reply and its invalidation.
    let ioend = fuse_iomap_ioend_in {
        flags: FUSE_IOMAP_IOEND_UNWRITTEN,
        pos: 0,
        written: 4 * BLOCK,
        ..Default::default()
    };
    let r = k.call(FUSE_IOMAP_IOEND, f, bytes_of(&ioend));
    assert_eq!(r.notes, [FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS as i32]);
    assert_eq!(published(f), Some(vec![bytes(0, 4, addr)]));

    // A truncation and a punched hole shrink the entry.
    let setattr = fuse_setattr_in {
        valid: FATTR_SIZE,
        size: 3 * BLOCK,
        ..Default::default()
    };
    let r = k.call(fuse_opcode_FUSE_SETATTR, f, bytes_of(&setattr));
    assert_eq!(r.error, 0);
    assert_eq!(published(f), Some(vec![bytes(0, 3, addr)]));
    let punch = fuse_fallocate_in {
        offset: BLOCK,
        length: BLOCK,
        mode: 0x03,
        ..Default::default()
    };
    let r = k.call(fuse_opcode_FUSE_FALLOCATE, f, bytes_of(&punch));
    assert_eq!(r.notes, [FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS as i32]);
    assert_eq!(
        published(f),
        Some(vec![bytes(0, 1, addr), bytes(2, 1, addr + 2)])
    );

    // Unlinked, the entry stays while the kernel holds the inode, and
    // goes with it.
    assert_eq!(k.call(fuse_opcode_FUSE_UNLINK, ROOT, b"f\0").error, 0);
    assert!(published(f).is_some());
    k.send(
        fuse_opcode_FUSE_FORGET,
        f,
        bytes_of(&fuse_forget_in { nlookup: 1 }),
    );
    assert_eq!(k.call(fuse_opcode_FUSE_STATFS, ROOT, &[]).error, 0);
    assert_eq!(published(f), None);

    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(serving.join().unwrap(), 0);
    assert!(!files.lock().unwrap().detached);
    std::fs::remove_file(&log_path).unwrap();
}
