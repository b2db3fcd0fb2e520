// SPDX-License-Identifier: GPL-2.0

//! The model's behaviour, request by request, and its round trip through a
//! device (a file).

use super::inode::Time;
use super::layout::Layout;
use super::store::{Error, Store};
use super::*;
use std::fs::File;

const MIB: u64 = 1 << 20;

/// A file system of `mib` MiB, in memory.
fn fs(mib: u64) -> Fs {
    Fs::new(Layout::for_device(mib * MIB).unwrap())
}

/// A fresh, unlinked scratch file of `bytes`, to play the device.
/// A scratch file of `bytes`, unlinked (also the famfs log's tests').
pub(crate) fn device(bytes: u64) -> File {
    let path = std::env::temp_dir().join(format!(
        "diskfs-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
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

fn create(fs: &mut Fs, parent: u64, name: &str) -> u64 {
    fs.create(parent, name.as_bytes(), 0o644, 0, 0, false)
        .unwrap()
        .nodeid
}

#[test]
fn write_into_hole_allocates_unwritten() {
    let mut fs = fs(4);
    let f = create(&mut fs, ROOT, "f");
    let free = fs.statfs().bfree;
    // A read of the hole allocates nothing.
    let hole = fs.map(f, 5000, 100, false).unwrap();
    assert_eq!((hole.kind, hole.offset), (MapKind::Hole, 4096));
    assert_eq!(fs.statfs().bfree, free);
    // A write of bytes 5000..13000 gets blocks 1..4, new and unwritten.
    let m = fs.map(f, 5000, 8000, true).unwrap();
    assert_eq!((m.kind, m.new), (MapKind::Unwritten, true));
    assert_eq!((m.offset, m.length), (4096, 3 * 4096));
    assert!(m.addr >= fs.layout().meta_blocks * BLOCK);
    assert_eq!(fs.statfs().bfree, free - 3);
    // Asked again, it is there and no longer new.
    let again = fs.map(f, 9000, 1, true).unwrap();
    assert_eq!((again.offset, again.new, again.addr), (4096, false, m.addr));
    // The hole before it runs up to it, however far a report asks.
    let before = fs.map(f, 0, u64::MAX, false).unwrap();
    assert_eq!((before.kind, before.length), (MapKind::Hole, 4096));
    let after = fs.map(f, 4 * 4096, u64::MAX, false).unwrap();
    assert_eq!(after.offset + after.length, MAX_BYTES);
    assert_eq!(fs.map(f, MAX_BYTES, 1, false), Err(Errno::EFBIG));
}

#[test]
fn ioend_converts_unwritten_and_grows_size() {
    let mut fs = fs(4);
    let f = create(&mut fs, ROOT, "f");
    fs.map(f, 0, 4 * 4096, true).unwrap();
    assert_eq!(fs.ioend(f, 4096, 4096, true).unwrap(), 8192);
    let kinds: Vec<_> = (0..4)
        .map(|b| fs.map(f, b * 4096, 1, false).unwrap().kind)
        .collect();
    use MapKind::*;
    assert_eq!(kinds, [Unwritten, Mapped, Unwritten, Unwritten]);
    // A failed or shorter write never shrinks the size.
    assert_eq!(fs.ioend(f, 0, 100, true).unwrap(), 8192);
    assert_eq!(fs.map(f, 0, 1, false).unwrap().kind, Mapped);
    // Written next to each other, the extents merge again.
    fs.ioend(f, 8192, 8192, true).unwrap();
    let all = fs.map(f, 0, 1, false).unwrap();
    assert_eq!((all.kind, all.length), (Mapped, 4 * 4096));
}

#[test]
fn truncate_frees_blocks() {
    let mut fs = fs(4);
    let f = create(&mut fs, ROOT, "f");
    let free = fs.statfs().bfree;
    fs.map(f, 0, 8 * 4096, true).unwrap();
    fs.ioend(f, 0, 8 * 4096, true).unwrap();
    let size = |s| SetAttr {
        size: Some(s),
        ..SetAttr::default()
    };
    // 5000 bytes keep 2 blocks.
    let st = fs.setattr(f, size(5000)).unwrap();
    assert_eq!((st.attr.size, st.blocks), (5000, 2));
    assert_eq!(fs.statfs().bfree, free - 2);
    assert_eq!(fs.map(f, 8192, 1, false).unwrap().kind, MapKind::Hole);
    // Growing makes a hole.
    assert_eq!(fs.setattr(f, size(1 << 20)).unwrap().blocks, 2);
    assert_eq!(fs.setattr(f, size(0)).unwrap().blocks, 0);
    assert_eq!(fs.statfs().bfree, free);
    let dir = fs.create(ROOT, b"d", 0o755, 0, 0, true).unwrap().nodeid;
    assert_eq!(fs.setattr(dir, size(0)), Err(Errno::EISDIR));
}

#[test]
fn rename_over_existing_file() {
    let mut fs = fs(4);
    let a = create(&mut fs, ROOT, "a");
    let b = create(&mut fs, ROOT, "b");
    fs.map(b, 0, 4096, true).unwrap();
    let free = fs.statfs().bfree;
    fs.forget(b, 1);
    fs.rename(ROOT, b"a", ROOT, b"b").unwrap();
    assert_eq!(fs.lookup(ROOT, b"b").unwrap().nodeid, a);
    assert_eq!(fs.lookup(ROOT, b"a"), Err(Errno::ENOENT));
    // The replaced file, forgotten, is gone with its block.
    assert_eq!(fs.stat(b), Err(Errno::ENOENT));
    assert_eq!(fs.statfs().bfree, free + 1);
    // A directory replaces only an empty directory; never into itself.
    let d = fs.create(ROOT, b"d", 0o755, 0, 0, true).unwrap().nodeid;
    let e = fs.create(ROOT, b"e", 0o755, 0, 0, true).unwrap().nodeid;
    create(&mut fs, e, "x");
    assert_eq!(fs.rename(ROOT, b"d", ROOT, b"b"), Err(Errno::ENOTDIR));
    assert_eq!(fs.rename(ROOT, b"b", ROOT, b"d"), Err(Errno::EISDIR));
    assert_eq!(fs.rename(ROOT, b"d", ROOT, b"e"), Err(Errno::ENOTEMPTY));
    assert_eq!(fs.rename(ROOT, b"e", e, b"y"), Err(Errno::EINVAL));
    fs.rename(ROOT, b"e", d, b"e").unwrap();
    assert_eq!(fs.stat(ROOT).unwrap().attr.nlink, 3);
    assert_eq!(fs.stat(d).unwrap().attr.nlink, 3);
    assert_eq!(fs.remove(ROOT, b"d", true), Err(Errno::ENOTEMPTY));
}

#[test]
fn unlinked_open_file_lives_until_forgotten() {
    let mut fs = fs(4);
    let f = create(&mut fs, ROOT, "f");
    fs.map(f, 0, 4096, true).unwrap();
    let free = fs.statfs().bfree;
    fs.remove(ROOT, b"f", false).unwrap();
    assert_eq!(fs.map(f, 0, 1, false).unwrap().kind, MapKind::Unwritten);
    assert_eq!(fs.statfs().bfree, free);
    fs.forget(f, 1);
    assert_eq!(fs.stat(f), Err(Errno::ENOENT));
    assert_eq!(fs.statfs().bfree, free + 1);
}

#[test]
fn readdir_resumes_after_cookie() {
    let mut fs = fs(4);
    for name in ["a", "b", "c", "d"] {
        create(&mut fs, ROOT, name);
    }
    let names = |fs: &Fs, after| -> Vec<(u64, String)> {
        fs.readdir(ROOT, after)
            .unwrap()
            .map(|e| (e.cookie, String::from_utf8_lossy(e.name).into()))
            .collect()
    };
    let all = names(&fs, 0);
    let all_names: Vec<&str> = all.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(all_names, [".", "..", "a", "b", "c", "d"]);
    // Resume after "..", and after "b" though "a" went and "e" came meanwhile.
    let after_dots: Vec<String> = names(&fs, all[1].0).into_iter().map(|(_, n)| n).collect();
    assert_eq!(after_dots, ["a", "b", "c", "d"]);
    let after_b = all[3].0;
    fs.remove(ROOT, b"a", false).unwrap();
    create(&mut fs, ROOT, "e");
    let rest: Vec<String> = names(&fs, after_b).into_iter().map(|(_, n)| n).collect();
    assert_eq!(rest, ["c", "d", "e"]);
    assert_eq!(fs.readdir(ROOT + 1, 0).err(), Some(Errno::ENOTDIR));
}

#[test]
fn names_are_checked() {
    let mut fs = fs(4);
    create(&mut fs, ROOT, "a");
    let long = vec![b'x'; 256];
    for (name, errno) in [
        (&b""[..], Errno::EINVAL),
        (b"..", Errno::EINVAL),
        (b"a/b", Errno::EINVAL),
        (&long, Errno::ENAMETOOLONG),
        (b"a", Errno::EEXIST),
    ] {
        assert_eq!(fs.create(ROOT, name, 0o644, 0, 0, false), Err(errno));
    }
    assert_eq!(fs.lookup(42, b"a"), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(ROOT + 1, b"a"), Err(Errno::ENOTDIR));
    assert_eq!(fs.remove(ROOT, b"a", true), Err(Errno::ENOTDIR));
    assert_eq!(fs.open(ROOT, false), Err(Errno::EISDIR));
}

#[test]
fn enospc_when_full() {
    let mut fs = fs(2);
    let f = create(&mut fs, ROOT, "f");
    let total = fs.statfs().bfree;
    // fallocate of more than there is changes nothing.
    assert_eq!(
        fs.allocate(f, 0, (total + 1) * BLOCK, false),
        Err(Errno::ENOSPC)
    );
    assert_eq!(
        (fs.statfs().bfree, fs.stat(f).unwrap().attr.size),
        (total, 0)
    );
    fs.allocate(f, 0, total * BLOCK, false).unwrap();
    assert_eq!(fs.stat(f).unwrap().attr.size, total * BLOCK);
    assert_eq!(fs.map(f, total * BLOCK, 1, true), Err(Errno::ENOSPC));
    // A punched hole makes room again.
    let zero = fs.punch(f, 100, 3 * BLOCK).unwrap();
    assert_eq!(fs.statfs().bfree, 2);
    // The partial blocks at both ends are unwritten: nothing to zero.
    assert!(zero.is_empty());
    assert!(fs.map(f, total * BLOCK, 1, true).is_ok());
}

#[test]
fn punch_zeroes_written_partial_blocks() {
    let mut fs = fs(4);
    let f = create(&mut fs, ROOT, "f");
    let m = fs.map(f, 0, 4 * BLOCK, true).unwrap();
    fs.ioend(f, 0, 4 * BLOCK, true).unwrap();
    let zero = fs.punch(f, BLOCK + 10, 2 * BLOCK).unwrap();
    assert_eq!(
        zero,
        [(m.addr + BLOCK + 10, BLOCK - 10), (m.addr + 3 * BLOCK, 10)]
    );
    assert_eq!(fs.map(f, 2 * BLOCK, 1, false).unwrap().kind, MapKind::Hole);
    assert_eq!(fs.stat(f).unwrap().blocks, 3);
}

#[test]
fn persistence_round_trip() {
    let dev = device(8 * MIB);
    let (mut store, mut fs) = Store::format(dev.try_clone().unwrap(), 8 * MIB).unwrap();
    let d = fs.create(ROOT, b"dir", 0o750, 7, 8, true).unwrap().nodeid;
    let f = create(&mut fs, d, "file");
    fs.map(f, 0, 3 * BLOCK, true).unwrap();
    fs.ioend(f, 0, BLOCK, true).unwrap();
    let t = Time { sec: 12, nsec: 34 };
    fs.setattr(
        f,
        SetAttr {
            mtime: Some(t),
            ..SetAttr::default()
        },
    )
    .unwrap();
    create(&mut fs, ROOT, "gone");
    fs.remove(ROOT, b"gone", false).unwrap();
    store.save(&mut fs).unwrap();
    assert!(!fs.is_dirty());
    // Saved twice, so that the second slot is used too.
    create(&mut fs, ROOT, "late");
    store.save(&mut fs).unwrap();
    drop(store);
    let (_, loaded) = Store::load(dev, 8 * MIB).unwrap();
    // The same tree; "gone", unlinked but not forgotten, was an orphan
    // and is not stored.
    let mut expected = fs.clone();
    expected.inodes.retain(|_, i| i.attr.nlink > 0);
    for inode in expected.inodes.values_mut() {
        inode.lookups = 0;
    }
    assert_eq!(loaded, expected);
    assert_eq!(loaded.stat(f).unwrap().attr.mtime, t);
}

#[test]
fn load_refuses_what_is_not_ours() {
    let dev = device(8 * MIB);
    match Store::load(dev.try_clone().unwrap(), 8 * MIB) {
        Err(Error::Super(layout::BadSuper::Magic)) => {}
        other => panic!("{:?}", other.map(|_| ())),
    }
    Store::format(dev.try_clone().unwrap(), 8 * MIB).unwrap();
    // A flipped metadata byte is caught.
    use std::os::unix::fs::FileExt;
    let mut b = [0];
    dev.read_exact_at(&mut b, BLOCK).unwrap();
    dev.write_all_at(&[b[0] ^ 1], BLOCK).unwrap();
    assert!(matches!(
        Store::load(dev, 8 * MIB),
        Err(Error::Fs(Errno::EUCLEAN))
    ));
    assert_eq!(Layout::for_device(MIB).err(), Some(Errno::ENOSPC));
}

#[test]
fn metadata_outgrowing_its_slot_is_enospc() {
    let dev = device(2 * MIB);
    let (mut store, mut fs) = Store::format(dev, 2 * MIB).unwrap();
    // A slot holds 512 KiB: 3000 names of 200 bytes are more.
    for i in 0..3000 {
        let name = format!("{i:0200}");
        create(&mut fs, ROOT, &name);
    }
    let err = store.save(&mut fs).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(Errno::ENOSPC as i32));
}
