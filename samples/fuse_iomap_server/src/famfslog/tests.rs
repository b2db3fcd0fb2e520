// SPDX-License-Identifier: GPL-2.0

//! The log on a scratch file playing the pmem device: what a replay gives
//! back, what it refuses, and where the bytes of files are, checked
//! against the kernel's own fmap parser (`fuse_iomap::fmap_tool`).

use super::alloc::{Bump, Stripe};
use super::format::{Entry, NewNode, Superblock, ALIGN, DATA_START, LOG_MAX, LOG_OFFSET};
use super::layout::{Piece, MAX_PIECES};
use super::replay::replay;
use super::{Error, Fs, FILE_LOG_BYTES};
use crate::diskfs::inode::{Time, S_IFDIR, S_IFREG};
use crate::diskfs::tests::device;
use crate::diskfs::{SetAttr, ROOT};
use fuse_iomap::fmap_build::Ext;
use fuse_iomap::fmap_tool;
use nix::errno::Errno;
use std::fs::File;
use std::os::unix::fs::FileExt;

const MIB: u64 = 1 << 20;
const BYTES: u64 = 128 * MIB;

/// Every byte of `file`, of `bytes`, `fill`.
fn fill(file: &File, bytes: u64, fill: u8) {
    let block = vec![fill; MIB as usize];
    for at in (0..bytes).step_by(MIB as usize) {
        file.write_all_at(&block, at).unwrap();
    }
}

fn format(stripe: Option<Stripe>, log_len: u64) -> (Fs, File) {
    let file = device(BYTES);
    let fs = Fs::format(file.try_clone().unwrap(), BYTES, stripe, log_len).unwrap();
    (fs, file)
}

fn reopen(file: &File) -> Result<Fs, Error> {
    Fs::load(file.try_clone().unwrap(), BYTES)
}

fn file(fs: &mut Fs, parent: u64, name: &str) -> u64 {
    fs.create(parent, name.as_bytes(), 0o644, 1000, 100, false)
        .unwrap()
        .nodeid
}

/// A tree with a directory, files in it and in the root, grown, shrunk
/// and changed.
fn populate(fs: &mut Fs) -> (u64, u64, u64) {
    let d = fs.create(ROOT, b"d", 0o755, 0, 0, true).unwrap().nodeid;
    let f = file(fs, d, "f");
    let g = file(fs, ROOT, "g");
    fs.allocate(f, 0, 5 * MIB, false).unwrap();
    fs.allocate(g, 3 * MIB, MIB, true).unwrap();
    let shrink = SetAttr {
        size: Some(3 * MIB),
        mode: Some(0o600),
        ..SetAttr::default()
    };
    fs.setattr(f, shrink).unwrap();
    let grow = SetAttr {
        size: Some(MIB + 5),
        uid: Some(7),
        ..SetAttr::default()
    };
    fs.setattr(g, grow).unwrap();
    (d, f, g)
}

#[test]
fn a_replay_gives_the_same_tree() {
    for stripe in [
        None,
        Some(Stripe {
            strips: 3,
            chunk: 4 * MIB,
        }),
    ] {
        let (mut fs, dev) = format(stripe, LOG_MAX);
        let (d, f, g) = populate(&mut fs);
        assert_eq!((d, f, g), (2, 3, 4), "nodeids in log order");
        let again = reopen(&dev).unwrap();
        assert_eq!(again.namespace(), fs.namespace());
        assert_eq!(again.log_used(), fs.log_used());
        assert_eq!(again.superblock(), fs.superblock());
        // Through the requests' own answers too.
        assert_eq!(again.lookup(ROOT, b"d").unwrap().nodeid, d);
        let fstat = again.lookup(d, b"f").unwrap();
        assert_eq!((fstat.nodeid, fstat.attr.size), (f, 3 * MIB));
        assert_eq!(fstat.attr.mode, S_IFREG | 0o600);
        let gstat = again.stat(g).unwrap();
        assert_eq!((gstat.attr.size, gstat.attr.uid), (MIB + 5, 7));
        assert_eq!(again.stat(d).unwrap().attr.mode, S_IFDIR | 0o755);
        for n in [f, g] {
            assert_eq!(again.fmap(n).unwrap(), fs.fmap(n).unwrap());
        }
        let names: Vec<_> = again
            .readdir(ROOT, 0)
            .unwrap()
            .map(|e| (e.name.to_vec(), e.nodeid))
            .collect();
        assert_eq!(
            names,
            [
                (b".".to_vec(), ROOT),
                (b"..".to_vec(), ROOT),
                (b"d".to_vec(), d),
                (b"g".to_vec(), g)
            ]
        );
    }
}

#[test]
fn a_flipped_byte_stops_the_replay() {
    let (mut fs, dev) = format(None, 16 << 10);
    populate(&mut fs);
    let used = fs.log_used();
    drop(fs);
    // Every byte of the superblock, of every entry, and some of the zeroes
    // that end the log.
    let places = (0..76).chain(LOG_OFFSET..LOG_OFFSET + used + 64);
    for at in places {
        let mut b = [0];
        dev.read_exact_at(&mut b, at).unwrap();
        dev.write_all_at(&[b[0] ^ 0xff], at).unwrap();
        match reopen(&dev) {
            Err(Error::Super(_)) if at < LOG_OFFSET => {}
            Err(Error::Corrupt { offset, .. }) if at >= LOG_OFFSET => {
                assert!(offset <= at, "the entry that holds {at}, or one before")
            }
            Err(e) => panic!("byte {at}: {e}"),
            Ok(_) => panic!("byte {at} flipped, and the log replayed"),
        }
        dev.write_all_at(&b, at).unwrap();
    }
    assert!(reopen(&dev).is_ok());
}

#[test]
fn a_foreign_or_empty_device_is_refused() {
    let dev = device(BYTES);
    let e = reopen(&dev).err().unwrap();
    assert!(e.to_string().contains("bad magic"), "{e}");
    // No data area; or one smaller than the first file's stripe.
    let wide = Stripe {
        strips: 2,
        chunk: 2 * MIB,
    };
    for (bytes, stripe) in [(3 * MIB, None), (4 * MIB + 5, Some(wide))] {
        assert!(matches!(
            Fs::format(dev.try_clone().unwrap(), bytes, stripe, LOG_MAX),
            Err(Error::Invalid(_))
        ));
    }
    let bad = Stripe {
        strips: 2,
        chunk: 3 * MIB,
    };
    assert!(matches!(
        Fs::format(dev.try_clone().unwrap(), BYTES, Some(bad), LOG_MAX),
        Err(Error::Invalid(_))
    ));
}

#[test]
fn a_replay_refuses_what_the_server_never_logs() {
    let (fs, _dev) = format(None, LOG_MAX);
    let sb = *fs.superblock();
    let daxdev = Entry::Daxdev {
        uuid: [1; 16],
        size: sb.device_size,
    };
    let create = |parent, name: &[u8]| {
        Entry::Create(NewNode {
            parent,
            name: name.to_vec(),
            mode: S_IFREG | 0o644,
            uid: 0,
            gid: 0,
            time: Time::default(),
        })
    };
    let alloc = |offset| Entry::Alloc {
        nodeid: 2,
        size: 0,
        piece: Piece::Extent(Ext {
            dev: 0,
            offset,
            len: ALIGN,
        }),
    };
    let log = |entries: &[Entry]| {
        let mut b: Vec<u8> = entries.iter().flat_map(Entry::encode).collect();
        b.resize(LOG_MAX as usize, 0);
        b
    };
    let why = |entries: &[Entry]| match replay(&sb, &log(entries)) {
        Err(Error::Corrupt { index, why, .. }) => (index, why),
        Err(e) => panic!("{e}"),
        Ok(_) => panic!("replayed {entries:?}"),
    };
    assert!(replay(
        &sb,
        &log(&[daxdev.clone(), create(ROOT, b"f"), alloc(DATA_START)])
    )
    .is_ok());
    assert_eq!(why(&[]).1, "no daxdev 0: the log is empty");
    let (index, w) = why(&[
        daxdev.clone(),
        create(ROOT, b"f"),
        alloc(DATA_START + ALIGN),
    ]);
    assert_eq!(
        (index, w),
        (2, "a piece that is not the allocator's next one")
    );
    let (index, w) = why(&[daxdev.clone(), create(ROOT, b"f"), create(ROOT, b"f")]);
    assert_eq!((index, w), (2, "a name that exists"));
    assert_eq!(
        why(&[daxdev.clone(), create(7, b"f")]).1,
        "a parent that does not exist"
    );
    assert_eq!(
        why(&[daxdev.clone(), create(ROOT, b"..")]).1,
        "a name that no directory may hold"
    );
    assert_eq!(
        why(&[create(ROOT, b"f"), alloc(DATA_START)]).1,
        "an allocation before daxdev 0"
    );
    let big = Entry::Setattr {
        nodeid: 2,
        set: SetAttr {
            size: Some(ALIGN + 1),
            ..SetAttr::default()
        },
    };
    let (index, w) = why(&[daxdev, create(ROOT, b"f"), alloc(DATA_START), big]);
    assert_eq!((index, w), (3, "a size past the allocation"));
}

#[test]
fn a_full_log_is_enospc_and_changes_nothing() {
    let (mut fs, dev) = format(None, 1024);
    let mut files = 0;
    let (err, free) = loop {
        let free = fs.statfs().ffree;
        match fs.create(ROOT, format!("f{files}").as_bytes(), 0o644, 0, 0, false) {
            Ok(_) => files += 1,
            Err(e) => break (e, free),
        }
    };
    assert_eq!(err, Errno::ENOSPC);
    assert!(files > 3, "{files} files in 1 KiB of log");
    assert!(free <= 1, "STATFS said {free} more files would fit");
    // A directory takes less of the log than a file: fill the rest.
    let mut dirs = 0;
    while fs
        .create(ROOT, format!("d{dirs}").as_bytes(), 0o755, 0, 0, true)
        .is_ok()
    {
        dirs += 1;
    }
    let before = fs.namespace().clone();
    let last = ROOT + files;
    assert_eq!(fs.allocate(last, 0, 8 * MIB, false), Err(Errno::ENOSPC));
    assert_eq!(
        fs.create(ROOT, b"d", 0o755, 0, 0, true).err(),
        Some(Errno::ENOSPC)
    );
    let chmod = SetAttr {
        mode: Some(0o600),
        ..SetAttr::default()
    };
    assert_eq!(fs.setattr(last, chmod).err(), Some(Errno::ENOSPC));
    assert_eq!(fs.namespace(), &before);
    assert_eq!(reopen(&dev).unwrap().namespace(), &before);
}

#[test]
fn a_full_device_is_enospc_and_32_pieces_are_the_most() {
    let (mut fs, _dev) = format(None, LOG_MAX);
    let f = file(&mut fs, ROOT, "f");
    for i in 1..MAX_PIECES as u64 {
        fs.allocate(f, i * ALIGN, 1, true).unwrap();
    }
    assert_eq!(fs.allocate(f, 40 * ALIGN, 1, true), Err(Errno::EFBIG));
    // The device's last bytes: what is left, then nothing.
    let g = file(&mut fs, ROOT, "g");
    let left = fs.namespace().alloc().free();
    assert_eq!(fs.allocate(g, ALIGN, left + 1, true), Err(Errno::ENOSPC));
    fs.allocate(g, ALIGN, left, true).unwrap();
    assert_eq!(fs.statfs().bfree, 0);
    assert_eq!(
        fs.create(ROOT, b"h", 0o644, 0, 0, false).err(),
        Some(Errno::ENOSPC)
    );
}

/// A field of `fmap resolve`'s one-line JSON.
fn field(json: &str, name: &str) -> u64 {
    let at = json.find(&format!("\"{name}\":")).unwrap() + name.len() + 3;
    let digits: String = json[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().unwrap()
}

#[test]
fn striped_chunks_land_in_strip_n_mod_strips() {
    const STRIPS: u64 = 3;
    const CHUNK: u64 = 4 * MIB;
    let stripe = Stripe {
        strips: STRIPS as u32,
        chunk: CHUNK,
    };
    let (mut fs, _dev) = format(Some(stripe), LOG_MAX);
    let f = file(&mut fs, ROOT, "f");
    // A group of one chunk a strip, then one of three for 28 more MiB.
    fs.allocate(f, 0, 40 * MIB, false).unwrap();
    let size = fs.stat(f).unwrap().attr.size;
    assert_eq!(size, 40 * MIB);
    let capacity = fs.namespace().file(f).unwrap().1.capacity();
    assert_eq!(capacity, 12 * MIB + 36 * MIB);
    fs.allocate(f, 0, capacity, false).unwrap();
    // Where the allocator put the groups, in the order it put them:
    // (first file byte, first strip's device offset, strip length).
    let groups = [
        (0, DATA_START, CHUNK),
        (12 * MIB, DATA_START + 12 * MIB, 3 * CHUNK),
    ];
    let fmap = fs.fmap(f).unwrap();
    let layout = fs.namespace().file(f).unwrap().1;
    for n in 0..capacity / CHUNK {
        let &(start, base, strip_len) = groups.iter().rev().find(|g| g.0 <= n * CHUNK).unwrap();
        let local = n - start / CHUNK;
        let expect = base + (local % STRIPS) * strip_len + (local / STRIPS) * CHUNK;
        for off in [n * CHUNK, n * CHUNK + CHUNK / 2] {
            let want = expect + off - n * CHUNK;
            let kernel = fmap_tool::resolve(&fmap, off, CHUNK).unwrap();
            assert_eq!(field(&kernel, "dev_offset"), want, "chunk {n}: {kernel}");
            assert_eq!(field(&kernel, "length"), CHUNK - (off - n * CHUNK));
            let ours = layout.resolve(off).unwrap();
            assert_eq!((ours.dev, ours.offset), (0, want), "chunk {n}");
        }
    }
}

#[test]
fn fmaps_parse_as_the_kernel_parses_them() {
    for (stripe, ext) in [
        (None, "simple"),
        (
            Some(Stripe {
                strips: 2,
                chunk: 2 * MIB,
            }),
            "interleave",
        ),
    ] {
        let (mut fs, _dev) = format(stripe, LOG_MAX);
        let f = file(&mut fs, ROOT, "f");
        let summary = fmap_tool::check(&fs.fmap(f).unwrap()).unwrap();
        assert!(
            summary.contains(&format!("\"ext_type\":\"{ext}\"")),
            "{summary}"
        );
        assert_eq!(
            (field(&summary, "file_size"), field(&summary, "nextents")),
            (0, 1)
        );
        fs.allocate(f, 0, 9 * MIB + 1, false).unwrap();
        let summary = fmap_tool::check(&fs.fmap(f).unwrap()).unwrap();
        assert_eq!(
            (field(&summary, "file_size"), field(&summary, "nextents")),
            (9 * MIB + 1, 2)
        );
        assert!(summary.contains("\"devices\":[0]"), "{summary}");
    }
    let (fs, _dev) = format(None, LOG_MAX);
    assert_eq!(fs.fmap(ROOT), Err(Errno::EISDIR));
    assert_eq!(fs.fmap(9), Err(Errno::ENOENT));
}

#[test]
fn new_and_shown_bytes_read_as_zeroes() {
    let file = device(BYTES);
    fill(&file, BYTES, 0xaa);
    let mut fs = Fs::format(file.try_clone().unwrap(), BYTES, None, LOG_MAX).unwrap();
    let f = fs.create(ROOT, b"f", 0o644, 0, 0, false).unwrap().nodeid;
    fs.allocate(f, 0, 3 * MIB, false).unwrap();
    let read = |fs: &Fs, from: u64, to: u64| {
        let layout = fs.namespace().file(f).unwrap().1;
        let mut out = Vec::new();
        for r in layout.device_ranges(from, to) {
            let mut b = vec![0; r.len as usize];
            file.read_exact_at(&mut b, r.offset).unwrap();
            out.extend(b);
        }
        out
    };
    assert!(read(&fs, 0, 4 * MIB).iter().all(|&b| b == 0));
    // What the kernel wrote past a new, smaller size is not seen again.
    let at = fs
        .namespace()
        .file(f)
        .unwrap()
        .1
        .resolve(MIB)
        .unwrap()
        .offset;
    file.write_all_at(&[0x55; 4096], at).unwrap();
    let size = |s| SetAttr {
        size: Some(s),
        ..SetAttr::default()
    };
    fs.setattr(f, size(MIB + 100)).unwrap();
    assert_eq!(read(&fs, MIB, MIB + 100), [0x55; 100]);
    fs.setattr(f, size(3 * MIB)).unwrap();
    assert_eq!(read(&fs, MIB, MIB + 100), [0x55; 100]);
    assert!(read(&fs, MIB + 100, 3 * MIB).iter().all(|&b| b == 0));
}

#[test]
fn the_allocator_plans_what_it_takes() {
    let stripe = Some(Stripe {
        strips: 2,
        chunk: 4 * MIB,
    });
    let mut bump = Bump::new(DATA_START, 64 * MIB);
    let piece = bump.plan(stripe, 9 * MIB).unwrap();
    // 9 MiB over 2 strips of 4 MiB chunks: 2 chunks a strip.
    assert_eq!(piece.bytes(), Some(16 * MIB));
    bump.take(stripe, &piece).unwrap();
    assert_eq!(bump.free(), 64 * MIB - DATA_START - 16 * MIB);
    assert!(bump.take(stripe, &piece).is_err(), "taken twice");
    assert_eq!(bump.plan(None, 47 * MIB).err(), Some(Errno::ENOSPC));
    assert_eq!(bump.plan(None, u64::MAX).err(), Some(Errno::EFBIG));
}

#[test]
fn statfs_counts_files_by_what_they_log() {
    let one = |e: Entry| e.encode().len() as u64;
    let node = NewNode {
        parent: ROOT,
        name: b"f".to_vec(),
        mode: S_IFREG,
        uid: 0,
        gid: 0,
        time: Time::default(),
    };
    let piece = Piece::Extent(Ext {
        dev: 0,
        offset: 0,
        len: 0,
    });
    let alloc = Entry::Alloc {
        nodeid: 2,
        size: 0,
        piece,
    };
    assert_eq!(one(Entry::Create(node)) + one(alloc), FILE_LOG_BYTES);
    let sb = Superblock {
        device_size: BYTES,
        log_offset: LOG_OFFSET,
        log_len: LOG_MAX,
        stripe: None,
        created: Time::default(),
    };
    assert_eq!(Superblock::decode(&sb.encode(), BYTES), Ok(sb));
}
