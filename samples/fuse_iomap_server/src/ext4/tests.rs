// SPDX-License-Identifier: GPL-2.0

//! The model against e2fsprogs: images made by `mkfs.ext4 -d` from a tree
//! of small, large, sparse, fragmented and preallocated files; names,
//! sizes and extents compared with what `debugfs` reads from the same
//! image, and file data read where the maps say; hostile images (a bad
//! magic, an extent past the device, a loop in the extent tree, a bad
//! header, a free inode named, fuzzed metadata) refused or `EIO`, never a
//! panic or a hang; and `--rw` writes that leave `e2fsck -fn` clean.
//!
//! The tools come with e2fsprogs (`tools/bootstrap.sh` installs it): a
//! test fails, saying so, where they are missing.

use super::extents::FileMap;
use super::{Fs, Options};
use crate::diskfs::extents::{Extent, ExtentMap};
use crate::diskfs::{MapKind, SetAttr, BLOCK, ROOT};
use nix::errno::Errno;
use std::collections::BTreeSet;
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::Command;

/// Runs an e2fsprogs tool; its stdout, and whether it succeeded.
fn run(tool: &str, args: &[&str]) -> (String, bool) {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} (e2fsprogs, tools/bootstrap.sh installs it): {e}"));
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    (text, out.status.success())
}

/// A scratch directory with an image of a tree of files.
pub(crate) struct Image {
    dir: PathBuf,
    pub(crate) img: PathBuf,
}

/// The 400 blocks of `frag`, every other block: 400 extents, in two
/// leaves.
const FRAG: u64 = 400;

impl Image {
    /// The tree, as `mkfs -t fs` makes an image of it with `extra` options.
    pub(crate) fn new(what: &str, fs: &str, extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!("ext4-test-{what}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let src = dir.join("src");
        std::fs::create_dir_all(src.join("d/e")).unwrap();
        std::fs::write(src.join("small.txt"), b"hello\n").unwrap();
        std::fs::write(src.join("big"), pattern(5 << 20, 1)).unwrap();
        let sparse = File::create(src.join("sparse")).unwrap();
        sparse.set_len(8 << 20).unwrap();
        sparse
            .write_all_at(&pattern(BLOCK, 2), 256 * BLOCK)
            .unwrap();
        sparse
            .write_all_at(&pattern(3 * BLOCK, 3), 1000 * BLOCK)
            .unwrap();
        let frag = File::create(src.join("frag")).unwrap();
        for i in 0..FRAG {
            frag.write_all_at(&[(i % 251 + 1) as u8; BLOCK as usize], 2 * i * BLOCK)
                .unwrap();
        }
        // Preallocated below: no blocks yet.
        File::create(src.join("prealloc"))
            .unwrap()
            .set_len(1 << 20)
            .unwrap();
        std::fs::write(src.join("d/e/f"), b"nested\n").unwrap();
        std::os::unix::fs::symlink("small.txt", src.join("link")).unwrap();
        let img = dir.join("img");
        let mut args = vec!["-q", "-F", "-t", fs, "-d"];
        let (src_s, img_s) = (src.to_str().unwrap(), img.to_str().unwrap());
        args.extend([src_s, "-b", "4096"]);
        args.extend(extra);
        args.extend([img_s, "64M"]);
        let (_, ok) = run("mke2fs", &args);
        assert!(ok, "mke2fs {args:?}");
        let image = Self { dir, img };
        if fs == "ext4" {
            // Unwritten blocks for the whole of `prealloc`.
            image.debugfs_w("fallocate /prealloc 0 255");
        }
        image.assert_clean();
        image
    }

    pub(crate) fn src(&self, name: &str) -> Vec<u8> {
        std::fs::read(self.dir.join("src").join(name)).unwrap()
    }

    pub(crate) fn debugfs(&self, request: &str) -> String {
        run("debugfs", &["-R", request, self.img.to_str().unwrap()]).0
    }

    pub(crate) fn debugfs_w(&self, request: &str) -> String {
        run(
            "debugfs",
            &["-w", "-R", request, self.img.to_str().unwrap()],
        )
        .0
    }

    /// Asserts `e2fsck -fn` finds nothing wrong.
    pub(crate) fn assert_clean(&self) {
        let (out, ok) = run("e2fsck", &["-fn", self.img.to_str().unwrap()]);
        assert!(ok, "e2fsck -fn:\n{out}");
    }

    pub(crate) fn open(&self, rw: bool) -> Fs {
        Fs::load(&self.img, Options { rw }).unwrap()
    }

    /// The bytes of the image at `addr`.
    fn read(&self, addr: u64, len: u64) -> Vec<u8> {
        let mut buf = vec![0; len as usize];
        File::open(&self.img)
            .unwrap()
            .read_exact_at(&mut buf, addr)
            .unwrap();
        buf
    }

    /// Writes `bytes` into the image at `addr`, as the kernel writes.
    fn write(&self, addr: u64, bytes: &[u8]) {
        File::options()
            .write(true)
            .open(&self.img)
            .unwrap()
            .write_all_at(bytes, addr)
            .unwrap();
    }

    /// Patches the 32-bit word `word` of the inode of `path`'s `i_block`.
    fn set_block_word(&self, path: &str, word: usize, value: u64) {
        let out = self.debugfs_w(&format!("sif {path} block[{word}] {value}"));
        assert!(!out.contains("rror"), "{out}");
    }

    /// The 32-bit word `word` of the inode of `path`'s `i_block`, as
    /// debugfs prints it.
    fn block_word(&self, path: &str, word: usize) -> u64 {
        let stat = self.debugfs(&format!("inode_dump -b {path}"));
        // `0000  0af3 0200 0400 0000 ...`: 16 bytes a line, little-endian
        // pairs.
        let bytes: Vec<u8> = stat
            .lines()
            .filter_map(|l| l.split_once("  "))
            .flat_map(|(_, hex)| hex.split_whitespace().take(8).collect::<Vec<_>>())
            .filter_map(|w| u16::from_str_radix(w, 16).ok())
            .flat_map(|w| w.to_be_bytes())
            .collect();
        u64::from(u32::from_le_bytes(
            bytes[word * 4..word * 4 + 4].try_into().unwrap(),
        ))
    }
}

impl Drop for Image {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// `len` bytes that differ from block to block and file to file.
fn pattern(len: u64, seed: u64) -> Vec<u8> {
    (0..len)
        .map(|i| ((i / BLOCK * 7 + i % 13 + seed * 31) % 251) as u8)
        .collect()
}

/// The leaf extents `debugfs -R 'ex PATH'` lists, merged as the model
/// merges them.
fn debugfs_extents(image: &Image, path: &str) -> ExtentMap {
    let mut map = ExtentMap::default();
    for line in image.debugfs(&format!("ex {path}")).lines().skip(1) {
        // `level/depth  entry/entries  lstart - lend  pstart - pend  len [Uninit]`
        let words: Vec<&str> = line
            .split(|c: char| c.is_whitespace() || c == '/' || c == '-')
            .filter(|w| !w.is_empty())
            .collect();
        if words.len() < 8 || words[0] != words[1] {
            continue;
        }
        let n = |i: usize| words[i].parse::<u64>().unwrap();
        let unwritten = words.get(9) == Some(&"Uninit");
        map.insert(
            n(4),
            Extent {
                dev: n(6),
                len: n(8),
                unwritten,
            },
        );
    }
    map
}

/// The names of the listing of `dir`, from its start.
fn names(fs: &mut Fs, dir: u64) -> BTreeSet<String> {
    fs.readdir(dir, 0)
        .unwrap()
        .map(|d| String::from_utf8_lossy(d.name).into_owned())
        .collect()
}

#[test]
fn lookup_and_readdir_give_the_tree() {
    let image = Image::new("names", "ext4", &[]);
    let mut fs = image.open(false);
    let root = fs.stat(ROOT).unwrap();
    assert_eq!(root.attr.mode & 0o170000, 0o040000);
    let expect = [
        ".",
        "..",
        "big",
        "d",
        "frag",
        "lost+found",
        "prealloc",
        "small.txt",
        "sparse",
    ];
    assert_eq!(names(&mut fs, ROOT), expect.map(String::from).into());
    // `..` of the root is the root; the symlink is left out.
    let dots: Vec<_> = fs.readdir(ROOT, 0).unwrap().take(2).collect();
    assert_eq!((dots[0].nodeid, dots[1].nodeid), (ROOT, ROOT));
    assert!(dots.iter().all(|d| d.dir));

    // Resuming after a cookie gives the rest, in order.
    let all: Vec<_> = fs.readdir(ROOT, 0).unwrap().map(|d| d.cookie).collect();
    let rest: Vec<_> = fs.readdir(ROOT, 3).unwrap().map(|d| d.cookie).collect();
    assert_eq!(rest, all[3..]);

    for (name, len) in [("small.txt", 6), ("big", 5 << 20), ("sparse", 8 << 20)] {
        let stat = fs.lookup(ROOT, name.as_bytes()).unwrap();
        assert_eq!(stat.attr.size, len, "{name}");
        assert_eq!(stat.attr.mode & 0o170000, 0o100000);
        assert_eq!(fs.stat(stat.nodeid).unwrap(), stat);
        assert_eq!(fs.open(stat.nodeid, false), Ok(()));
        assert_eq!(fs.open(stat.nodeid, true), Err(Errno::ENOTDIR));
        assert_eq!(fs.lookup(stat.nodeid, b"x"), Err(Errno::ENOTDIR));
    }
    // `stat` counts the allocated blocks: a sparse file has few.
    let sparse = fs.lookup(ROOT, b"sparse").unwrap();
    assert_eq!(sparse.blocks, 4);

    let d = fs.lookup(ROOT, b"d").unwrap().nodeid;
    let e = fs.lookup(d, b"e").unwrap().nodeid;
    assert_eq!(fs.open(e, true), Ok(()));
    assert_eq!(fs.open(e, false), Err(Errno::EISDIR));
    let f = fs.lookup(e, b"f").unwrap();
    assert_eq!(f.attr.size, 7);
    let dotdot = fs.readdir(e, 1).unwrap().next().unwrap();
    assert_eq!((dotdot.name, dotdot.nodeid), (&b".."[..], d));

    assert_eq!(fs.lookup(ROOT, b"link"), Err(Errno::EOPNOTSUPP));
    assert_eq!(fs.lookup(ROOT, b"nothing"), Err(Errno::ENOENT));
    assert_eq!(fs.lookup(ROOT, b"a/b"), Err(Errno::EINVAL));
    // Nodeid 2 is the root's inode, which has nodeid 1 only.
    assert_eq!(fs.stat(2), Err(Errno::ENOENT));
    let s = fs.statfs();
    assert_eq!(s.blocks, 16384);
    assert!(s.bfree > 0 && s.bfree < s.blocks);
    assert_eq!(fs.create(ROOT, b"n", 0o644, 0, 0, false), Err(Errno::EROFS));
    assert!(fs.take_notes().is_empty());
}

/// The map of `name`, a file in the root.
fn map_of(fs: &mut Fs, name: &str) -> (u64, FileMap) {
    let nodeid = fs.lookup(ROOT, name.as_bytes()).unwrap().nodeid;
    (nodeid, fs.extents(nodeid).unwrap())
}

#[test]
fn extents_are_debugfs_extents() {
    let image = Image::new("extents", "ext4", &[]);
    let mut fs = image.open(false);
    for name in ["small.txt", "big", "sparse", "frag", "prealloc"] {
        let (_, map) = map_of(&mut fs, name);
        assert_eq!(map.extents, debugfs_extents(&image, name), "{name}");
    }
    let (_, frag) = map_of(&mut fs, "frag");
    assert_eq!(frag.records as u64, FRAG);
    // Two leaves, 339 extents in the first (a 4 KiB block's worth).
    assert_eq!(frag.leaves, [(0, 2 * 338 + 1), (2 * 339, 2 * FRAG - 1)]);
    let (_, prealloc) = map_of(&mut fs, "prealloc");
    assert!(prealloc.extents.iter().all(|(_, e)| e.unwritten));
    assert_eq!(prealloc.extents.blocks(), 256);
}

#[test]
fn file_data_is_where_the_map_says() {
    let image = Image::new("data", "ext4", &[]);
    let mut fs = image.open(false);
    for name in ["small.txt", "big", "sparse", "frag"] {
        let want = image.src(name);
        let nodeid = fs.lookup(ROOT, name.as_bytes()).unwrap().nodeid;
        let mut got = Vec::new();
        while (got.len() as u64) < want.len() as u64 {
            let pos = got.len() as u64;
            let m = fs.map(nodeid, pos, u64::MAX).unwrap();
            assert_eq!(m.offset, pos, "{name}: mappings follow each other");
            let len = m.length.min(want.len() as u64 - pos);
            match m.kind {
                MapKind::Mapped => got.extend(image.read(m.addr, len)),
                MapKind::Hole => got.resize(got.len() + len as usize, 0),
                MapKind::Unwritten => panic!("{name}: unwritten"),
            }
        }
        assert!(got == want, "{name}: the data differs");
    }
    let prealloc = fs.lookup(ROOT, b"prealloc").unwrap().nodeid;
    let m = fs.map(prealloc, 4096, 1).unwrap();
    assert_eq!(
        (m.kind, m.offset, m.length),
        (MapKind::Unwritten, 0, 1 << 20)
    );
    // A hole past the last extent runs to the size, at least.
    let sparse = fs.lookup(ROOT, b"sparse").unwrap().nodeid;
    let m = fs.map(sparse, 1003 * BLOCK, 1).unwrap();
    assert_eq!((m.kind, m.offset + m.length), (MapKind::Hole, 8 << 20));
}

#[test]
fn mapped_extents_are_cut_at_the_size() {
    let image = Image::new("cut", "ext4", &[]);
    // 5 MiB of blocks, and a size of 10000 bytes: three blocks.
    image.debugfs_w("sif /big size 10000");
    let mut fs = image.open(false);
    let big = fs.lookup(ROOT, b"big").unwrap().nodeid;
    let m = fs.map(big, 0, 1).unwrap();
    assert_eq!((m.kind, m.length), (MapKind::Mapped, 3 * BLOCK));
    let ahead = fs.ahead(big, None).unwrap();
    assert_eq!(ahead, [m]);
}

#[test]
fn small_files_go_ahead_whole_large_ones_by_leaf() {
    let image = Image::new("ahead", "ext4", &[]);
    let mut fs = image.open(false);
    let (sparse, map) = map_of(&mut fs, "sparse");
    let ahead = fs.ahead(sparse, None).unwrap();
    assert_eq!(ahead.len(), map.extents.iter().count());
    assert!(ahead.iter().all(|m| m.kind == MapKind::Mapped));
    // Unwritten extents never go.
    let (prealloc, _) = map_of(&mut fs, "prealloc");
    assert!(fs.ahead(prealloc, None).unwrap().is_empty());

    let (frag, _) = map_of(&mut fs, "frag");
    assert!(fs.ahead(frag, None).unwrap().is_empty(), "too many extents");
    let first = fs.ahead(frag, Some(10)).unwrap();
    assert_eq!(first.len(), 64);
    assert_eq!(first[0].offset, 10 * BLOCK);
    // The second leaf: from block 700 to the file's end, 50 extents.
    let second = fs.ahead(frag, Some(700)).unwrap();
    assert_eq!(second.len(), 50);
    assert_eq!(second[0].offset, 700 * BLOCK);
    assert_eq!(second[49].offset, (2 * FRAG - 2) * BLOCK);
    // In a hole between extents of a leaf, from the next extent.
    let from_hole = fs.ahead(frag, Some(11)).unwrap();
    assert_eq!(from_hole[0].offset, 12 * BLOCK);
}

#[test]
fn ext2_and_ext3_block_maps_are_read() {
    for fs_type in ["ext2", "ext3"] {
        let image = Image::new(fs_type, fs_type, &[]);
        let mut fs = image.open(false);
        for name in ["big", "sparse", "frag"] {
            let (nodeid, map) = map_of(&mut fs, name);
            assert_eq!(map.leaves.len(), 1);
            // `debugfs -R 'bmap PATH BLOCK'` for every data block.
            for (start, e) in map.extents.iter().step_by(7) {
                let b = start + e.len / 2;
                let out = image.debugfs(&format!("bmap /{name} {b}"));
                assert_eq!(out.trim(), (e.dev + e.len / 2).to_string(), "{name} {b}");
            }
            let want = image.src(name);
            let m = fs.map(nodeid, 256 * BLOCK, 1).unwrap();
            if m.kind == MapKind::Mapped {
                let got = image.read(m.addr + 256 * BLOCK - m.offset, BLOCK);
                assert!(got[..] == want[256 * BLOCK as usize..257 * BLOCK as usize]);
            }
        }
    }
}

#[test]
fn a_bad_magic_or_block_size_or_device_size_is_refused() {
    let image = Image::new("magic", "ext4", &[]);
    // `s_magic`, 56 bytes into the superblock at 1024.
    image.write(1024 + 56, &[0, 0]);
    let err = Fs::load(&image.img, Options::default()).err().unwrap();
    assert!(err.contains("magic"), "{err}");

    let image = Image::new("1k", "ext4", &[]);
    let one_k = image.dir.join("1k");
    let (_, ok) = run(
        "mke2fs",
        &[
            "-q",
            "-F",
            "-t",
            "ext4",
            "-b",
            "1024",
            one_k.to_str().unwrap(),
            "8M",
        ],
    );
    assert!(ok);
    let err = Fs::load(&one_k, Options::default()).err().unwrap();
    assert!(err.contains("block size 1024"), "{err}");

    // An image cut short: its superblock claims more than it holds.
    let img = File::options().write(true).open(&image.img).unwrap();
    img.set_len(32 << 20).unwrap();
    let err = Fs::load(&image.img, Options::default()).err().unwrap();
    assert!(err.contains("16384 blocks, on a device of 8192"), "{err}");
}

/// Opens `image` and maps `name` whole: the errno, and the notes.
fn map_fails(image: &Image, name: &str) -> (Errno, Vec<String>) {
    let mut fs = image.open(false);
    let nodeid = fs.lookup(ROOT, name.as_bytes()).unwrap().nodeid;
    let e = fs.map(nodeid, 0, 1).err().unwrap();
    assert_eq!(fs.ahead(nodeid, None).err(), Some(e));
    (e, fs.take_notes())
}

#[test]
fn an_extent_past_the_device_is_eio() {
    let image = Image::new("past", "ext4", &[]);
    // `sparse` has its extents in the inode, after the 12-byte header:
    // i_block[5] is the first one's device block (low 32 bits).
    let first = debugfs_extents(&image, "/sparse").iter().next().unwrap().1;
    assert_eq!(image.block_word("/sparse", 5), first.dev);
    image.set_block_word("/sparse", 5, 0x7fff_0000);
    let (e, notes) = map_fails(&image, "sparse");
    assert_eq!(e, Errno::EIO);
    assert!(
        notes.iter().any(|n| n.contains("past the device")),
        "{notes:?}"
    );
}

#[test]
fn a_loop_in_the_extent_tree_is_eio() {
    let image = Image::new("loop", "ext4", &[]);
    // `frag`'s root is an index of two entries (i_block[3..6] and
    // [6..9]): the second is made to lead to the first leaf again.
    let first_leaf = image.block_word("/frag", 4);
    image.set_block_word("/frag", 7, first_leaf);
    let (e, notes) = map_fails(&image, "frag");
    assert_eq!(e, Errno::EIO);
    assert!(!notes.is_empty());
}

#[test]
fn a_bad_extent_header_is_eio() {
    let image = Image::new("header", "ext4", &[]);
    // The header's magic 0xf30a and entries 1 become garbage.
    image.set_block_word("/sparse", 0, 0x1234_5678);
    let (e, notes) = map_fails(&image, "sparse");
    assert_eq!(e, Errno::EIO);
    assert!(!notes.is_empty());
}

#[test]
fn an_entry_naming_a_free_inode_is_eio() {
    let image = Image::new("free", "ext4", &[]);
    image.debugfs_w("sif /d/e/f links_count 0");
    let mut fs = image.open(false);
    let d = fs.lookup(ROOT, b"d").unwrap().nodeid;
    let e = fs.lookup(d, b"e").unwrap().nodeid;
    assert_eq!(fs.lookup(e, b"f"), Err(Errno::EIO));
    let notes = fs.take_notes();
    assert!(notes.iter().any(|n| n.contains("free inode")), "{notes:?}");
}

/// Everything a mount could ask of `fs`, everywhere, errors allowed: the
/// nodes visited.
fn walk_everything(fs: &mut Fs, dir: u64, depth: usize, seen: &mut usize) {
    let Ok(entries) = fs.readdir(dir, 0) else {
        return;
    };
    let entries: Vec<(Vec<u8>, bool)> = entries
        .filter(|d| d.name != b"." && d.name != b"..")
        .map(|d| (d.name.to_vec(), d.dir))
        .collect();
    for (name, _) in entries {
        *seen += 1;
        let Ok(stat) = fs.lookup(dir, &name) else {
            continue;
        };
        if stat.attr.mode & 0o170000 == 0o040000 {
            if depth < 8 {
                walk_everything(fs, stat.nodeid, depth + 1, seen);
            }
        } else {
            let _ = fs.ahead(stat.nodeid, None);
            let mut pos = 0;
            while pos < stat.attr.size {
                let Ok(m) = fs.map(stat.nodeid, pos, u64::MAX) else {
                    break;
                };
                assert!(m.offset <= pos && m.offset + m.length > pos);
                pos = m.offset + m.length;
            }
        }
    }
}

#[test]
fn fuzzed_metadata_is_refused_or_eio() {
    let image = Image::new("fuzz", "ext4", &[]);
    let pristine = std::fs::read(&image.img).unwrap();
    // The inode table, directory and extent blocks (the first 4 MiB hold
    // them all), with checksums and without.
    let mut seed = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for round in 0..60 {
        let mut bytes = pristine.clone();
        let limit = if round % 2 == 0 { 4 << 20 } else { 64 << 10 };
        for _ in 0..200 {
            let at = (next() % limit) as usize;
            bytes[at] ^= 1 << (next() % 8);
        }
        std::fs::write(&image.img, &bytes).unwrap();
        if round % 3 == 0 {
            // Without checksums to catch it, the rest must.
            image.debugfs_w("feature -metadata_csum");
        }
        let Ok(mut fs) = Fs::load(&image.img, Options::default()) else {
            continue;
        };
        let mut seen = 0;
        walk_everything(&mut fs, ROOT, 0, &mut seen);
    }
}

#[test]
fn writes_are_erofs_read_only() {
    let image = Image::new("ro", "ext4", &[]);
    let mut fs = image.open(false);
    let (big, _) = map_of(&mut fs, "big");
    assert_eq!(fs.map_write(big, 0, 1, true), Err(Errno::EROFS));
    assert_eq!(fs.ioend(big, 0, 1, true), Err(Errno::EROFS));
    assert_eq!(fs.setattr(big, SetAttr::default()), Err(Errno::EROFS));
    assert_eq!(fs.allocate(big, 0, 1, false), Err(Errno::EROFS));
}

/// Writes `bytes` at `pos` of file `nodeid` as the kernel does:
/// `IOMAP_BEGIN` of a write, the bytes where it says, `IOMAP_IOEND`.
pub(crate) fn write_file(image: &Image, fs: &mut Fs, nodeid: u64, pos: u64, bytes: &[u8]) {
    let mut done = 0;
    while done < bytes.len() as u64 {
        let at = pos + done;
        let m = fs
            .map_write(nodeid, at, bytes.len() as u64 - done, true)
            .unwrap_or_else(|e| panic!("{e}: {:?}", fs.take_notes()));
        assert_ne!(m.kind, MapKind::Hole);
        let n = (m.offset + m.length - at).min(bytes.len() as u64 - done);
        image.write(
            m.addr + at - m.offset,
            &bytes[done as usize..(done + n) as usize],
        );
        let unwritten = m.kind == MapKind::Unwritten;
        fs.ioend(nodeid, at, n, unwritten)
            .unwrap_or_else(|e| panic!("{e}: {:?}", fs.take_notes()));
        done += n;
    }
}

#[test]
fn rw_writes_leave_fsck_clean() {
    let image = Image::new("rw", "ext4", &[]);
    let mut fs = image.open(true);
    let (prealloc, _) = map_of(&mut fs, "prealloc");
    let (sparse, _) = map_of(&mut fs, "sparse");
    let (small, _) = map_of(&mut fs, "small.txt");
    let (big, _) = map_of(&mut fs, "big");

    // Into the middle of the preallocated extent: three extents now.
    let data = pattern(5 * BLOCK + 100, 9);
    write_file(&image, &mut fs, prealloc, 10 * BLOCK + 50, &data);
    let m = fs.map(prealloc, 12 * BLOCK, 1).unwrap();
    assert_eq!(m.kind, MapKind::Mapped);
    assert_eq!(fs.map(prealloc, 0, 1).unwrap().kind, MapKind::Unwritten);
    assert_eq!(
        fs.map(prealloc, 20 * BLOCK, 1).unwrap().kind,
        MapKind::Unwritten
    );

    // Into a hole of a sparse file, and past its end.
    write_file(&image, &mut fs, sparse, 100 * BLOCK, &data);
    write_file(&image, &mut fs, sparse, (8 << 20) + 10, &data);
    assert_eq!(
        fs.stat(sparse).unwrap().attr.size,
        (8 << 20) + 10 + data.len() as u64
    );
    // Overwriting, and appending to, a small file.
    write_file(&image, &mut fs, small, 3, &data);
    // A truncation, and a preallocation past the size.
    let set = SetAttr {
        size: Some(5000),
        ..SetAttr::default()
    };
    assert_eq!(fs.setattr(big, set).unwrap().attr.size, 5000);
    fs.allocate(big, 1 << 20, 1 << 20, true).unwrap();
    assert_eq!(fs.stat(big).unwrap().attr.size, 5000);
    fs.unmount().unwrap();
    drop(fs);
    image.assert_clean();

    // What debugfs reads is what was written.
    let mut want = vec![0; 1 << 20];
    want[10 * BLOCK as usize + 50..][..data.len()].copy_from_slice(&data);
    let cat = |path: &str| {
        let out = Command::new("debugfs")
            .args(["-R", &format!("cat {path}"), image.img.to_str().unwrap()])
            .output()
            .unwrap();
        out.stdout
    };
    assert!(cat("/prealloc") == want);
    let mut want = b"hel".to_vec();
    want.extend(&data);
    let got = cat("/small.txt");
    let diff = got.iter().zip(&want).position(|(a, b)| a != b);
    assert!(got == want, "{} {} {diff:?}", got.len(), want.len());
    let sparse_now = cat("/sparse");
    assert!(sparse_now[100 * BLOCK as usize..][..data.len()] == data[..]);
    assert!(sparse_now[(8 << 20) + 10..] == data[..]);
    assert_eq!(cat("/big")[..], image.src("big")[..5000]);
    let ex = debugfs_extents(&image, "/prealloc");
    assert_eq!(ex.iter().filter(|(_, e)| !e.unwritten).count(), 1);
}
