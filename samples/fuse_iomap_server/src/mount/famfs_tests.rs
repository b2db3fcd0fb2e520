// SPDX-License-Identifier: GPL-2.0

//! `mount famfs`'s server end to end, without a kernel: requests framed as
//! the kernel frames them (see `tests.rs`), answered from a log on a file
//! playing the pmem device, and the fmaps it answers read back with the
//! kernel's own parser.

use super::famfs_serve::Server;
use super::tests::{scratch, serving, with_name};
use bytemuck::bytes_of;
use fuse_iomap::fmap_tool;
use fuse_iomap_server::diskfs::ROOT;
use fuse_iomap_server::famfslog::alloc::Stripe;
use fuse_iomap_server::famfslog::format::LOG_MAX;
use fuse_iomap_server::famfslog::Fs;
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;

const MIB: u64 = 1 << 20;
const BYTES: u64 = 64 * MIB;
const RDEV: u64 = 0x0103;

fn err(e: Errno) -> i32 {
    -(e as i32)
}

#[test]
fn famfs_requests_end_to_end() {
    let dev = scratch("famfs", BYTES);
    let stripe = Stripe {
        strips: 2,
        chunk: 2 * MIB,
    };
    let fs = Fs::format(dev.try_clone().unwrap(), BYTES, Some(stripe), LOG_MAX).unwrap();
    let (mut k, thread, log_path) = serving("famfs", move |channel, log| {
        Server {
            channel,
            fs,
            rdev: RDEV,
            hostile_fmaps: false,
            bpf: None,
            log,
        }
        .run()
    });

    // CREATE: a file with its first group, whose fmap the kernel asks
    // for next.
    let entry = k.create(ROOT, "f");
    let f = entry.nodeid;
    assert_eq!((f, entry.attr.mode, entry.attr.size), (2, 0o100644, 0));
    assert_eq!(entry.attr.blocks, 4 * MIB / 512);
    let r = k.call(FUSE_GET_FMAP, f, &[]);
    let summary = fmap_tool::check(&r.payload).unwrap();
    assert!(summary.contains("\"ext_type\":\"interleave\""), "{summary}");
    assert!(summary.contains("\"file_size\":0,"), "{summary}");

    // GET_DAXDEV: daxdev 0 by its number; no other.
    let out: fuse_daxdev_out = k.call(FUSE_GET_DAXDEV, 0, &[]).get();
    assert_eq!((out.index, out.dev), (0, RDEV));
    assert_eq!(k.call(FUSE_GET_DAXDEV, 1, &[]).error, err(Errno::ENODEV));

    // FALLOCATE grows it by a group; its fmap follows.
    let falloc = |mode, length| fuse_fallocate_in {
        offset: 0,
        length,
        mode,
        ..Default::default()
    };
    let r = k.call(
        fuse_opcode_FUSE_FALLOCATE,
        f,
        bytes_of(&falloc(0, 10 * MIB)),
    );
    assert_eq!(r.error, 0);
    let attr: fuse_attr_out = k.call(fuse_opcode_FUSE_GETATTR, f, &[0; 16]).get();
    assert_eq!(attr.attr.size, 10 * MIB);
    let fmap = k.call(FUSE_GET_FMAP, f, &[]).payload;
    let summary = fmap_tool::check(&fmap).unwrap();
    assert!(summary.contains("\"nextents\":2,"), "{summary}");
    let at = fmap_tool::resolve(&fmap, 6 * MIB, MIB).unwrap();
    // 2 MiB into the second group: its second chunk, in its second strip.
    assert!(
        at.contains(&format!("\"dev_offset\":{},", 10 * MIB)),
        "{at}"
    );
    // FUSE_IOMAP_BEGIN (a `famfs_resolve=iomap` mount) answers the same
    // place, page-aligned, to the end of its chunk, on daxdev 0's cookie;
    // past the end of the file, a hole.
    let begin = |pos, count| fuse_iomap_begin_in {
        pos,
        count,
        ..Default::default()
    };
    let out: fuse_iomap_begin_out = k
        .call(FUSE_IOMAP_BEGIN, f, bytes_of(&begin(6 * MIB + 4100, 1)))
        .get();
    let m = out.read;
    assert_eq!(
        (m.type_, m.offset, m.addr, m.length, m.dev),
        (
            FUSE_IOMAP_TYPE_MAPPED as u16,
            6 * MIB + 4096,
            10 * MIB + 4096,
            2 * MIB - 4096,
            1
        )
    );
    assert_eq!(out.write.type_, FUSE_IOMAP_TYPE_NOCACHE as u16);
    let out: fuse_iomap_begin_out = k
        .call(FUSE_IOMAP_BEGIN, f, bytes_of(&begin(10 * MIB, 100)))
        .get();
    assert_eq!(
        (out.read.type_, out.read.offset, out.read.length),
        (FUSE_IOMAP_TYPE_HOLE as u16, 10 * MIB, 4096)
    );
    let punch = falloc(0x03, MIB);
    let r = k.call(fuse_opcode_FUSE_FALLOCATE, f, bytes_of(&punch));
    assert_eq!(r.error, err(Errno::EOPNOTSUPP));

    // SETATTR shrinks it, keeping its allocation.
    let setattr = fuse_setattr_in {
        valid: FATTR_SIZE,
        size: MIB,
        ..Default::default()
    };
    let attr: fuse_attr_out = k
        .call(fuse_opcode_FUSE_SETATTR, f, bytes_of(&setattr))
        .get();
    assert_eq!((attr.attr.size, attr.attr.blocks), (MIB, 12 * MIB / 512));

    let d = k.mkdir(ROOT, "d");
    assert_eq!(d, 3);
    // Another server replaying the log now sees what was answered.
    let other = Fs::load(dev.try_clone().unwrap(), BYTES).unwrap();
    assert_eq!(other.lookup(ROOT, b"d").unwrap().nodeid, d);
    assert_eq!(other.stat(f).unwrap().attr.size, MIB);

    let listing = k.readdir(ROOT);
    // ".", "..", "f" and "d", 32 bytes each.
    assert_eq!(listing.len(), 128);
    assert_eq!(&listing[88..89], b"f");
    assert_eq!(&listing[120..121], b"d");

    // Nothing is removed or renamed; the rest is unknown.
    let eperm = err(Errno::EPERM);
    assert_eq!(k.call(fuse_opcode_FUSE_UNLINK, ROOT, b"f\0").error, eperm);
    assert_eq!(k.call(fuse_opcode_FUSE_RMDIR, ROOT, b"d\0").error, eperm);
    let rename = fuse_rename_in { newdir: d };
    let names = with_name(&rename, &["f", "g"]);
    assert_eq!(k.call(fuse_opcode_FUSE_RENAME, ROOT, &names).error, eperm);
    assert_eq!(
        k.call(fuse_opcode_FUSE_LINK, ROOT, &[0; 8]).error,
        err(Errno::ENOSYS)
    );
    assert_eq!(k.call(FUSE_GET_FMAP, d, &[]).error, err(Errno::EISDIR));

    // FORGET gets no reply: the next reply is the next request's.
    k.send(
        fuse_opcode_FUSE_FORGET,
        f,
        bytes_of(&fuse_forget_in { nlookup: 1 }),
    );
    assert_eq!(k.call(fuse_opcode_FUSE_FSYNC, f, &[0; 16]).error, 0);
    let st: fuse_statfs_out = k.call(fuse_opcode_FUSE_STATFS, ROOT, &[]).get();
    assert_eq!(st.st.blocks, (BYTES - 2 * MIB) / 4096);
    assert_eq!(st.st.bfree, (BYTES - 2 * MIB - 12 * MIB) / 4096);

    let r = k.call(fuse_opcode_FUSE_DESTROY, 0, &[]);
    assert_eq!((r.error, r.payload.len()), (0, 0));
    assert_eq!(thread.join().unwrap(), 0);

    // A remount replays the same tree.
    let fs = Fs::load(dev, BYTES).unwrap();
    assert_eq!(fs.lookup(ROOT, b"f").unwrap().attr.size, MIB);
    assert_eq!(fs.stripe(), Some(stripe));
    let log = std::fs::read_to_string(&log_path).unwrap();
    std::fs::remove_file(&log_path).unwrap();
    assert!(log.contains("destroyed"), "{log}");
}

#[test]
fn hostile_fmaps_name_an_unknown_daxdev_or_cut_strips() {
    let dev = scratch("famfs-hostile", BYTES);
    let stripe = Stripe {
        strips: 2,
        chunk: 2 * MIB,
    };
    let fs = Fs::format(dev, BYTES, Some(stripe), LOG_MAX).unwrap();
    let (mut k, thread, log_path) = serving("famfs-hostile", move |channel, log| {
        Server {
            channel,
            fs,
            rdev: RDEV,
            hostile_fmaps: true,
            bpf: None,
            log,
        }
        .run()
    });
    let chmod = |k: &mut super::tests::Kernel, f: u64, mode: u32| {
        let setattr = fuse_setattr_in {
            valid: FATTR_MODE,
            mode,
            ..Default::default()
        };
        assert_eq!(
            k.call(fuse_opcode_FUSE_SETATTR, f, bytes_of(&setattr))
                .error,
            0
        );
    };
    let size = fuse_setattr_in {
        valid: FATTR_SIZE,
        size: 16 * MIB,
        ..Default::default()
    };
    let (plain, sticky, setuid) = (
        k.create(ROOT, "plain").nodeid,
        k.create(ROOT, "sticky").nodeid,
        k.create(ROOT, "setuid").nodeid,
    );
    for f in [plain, sticky, setuid] {
        assert_eq!(
            k.call(fuse_opcode_FUSE_SETATTR, f, bytes_of(&size)).error,
            0
        );
    }
    chmod(&mut k, sticky, 0o1644);
    chmod(&mut k, setuid, 0o4644);
    let fmap = |k: &mut super::tests::Kernel, f: u64| k.call(FUSE_GET_FMAP, f, &[]).payload;
    let summary = fmap_tool::check(&fmap(&mut k, plain)).unwrap();
    assert!(summary.contains("\"devices\":[0]"), "{summary}");
    // Two groups over two strips of 2 MiB chunks: 4 MiB from CREATE, one
    // chunk a strip, then 12 MiB, three chunks a strip, whose second stripe
    // starts at 8 MiB.
    assert!(fmap_tool::resolve(&fmap(&mut k, plain), 8 * MIB, 1).is_ok());
    let summary = fmap_tool::check(&fmap(&mut k, sticky)).unwrap();
    assert!(summary.contains("\"devices\":[7]"), "{summary}");
    let cut = fmap(&mut k, setuid);
    assert!(fmap_tool::check(&cut).is_ok(), "a valid reply");
    assert!(fmap_tool::resolve(&cut, 6 * MIB, 1).is_ok());
    assert!(
        fmap_tool::resolve(&cut, 8 * MIB, 1).is_err(),
        "past the cut strip"
    );

    assert_eq!(k.call(fuse_opcode_FUSE_DESTROY, 0, &[]).error, 0);
    assert_eq!(thread.join().unwrap(), 0);
    std::fs::remove_file(&log_path).unwrap();
}
