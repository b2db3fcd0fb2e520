// SPDX-License-Identifier: GPL-2.0

//! The replies' structures, from the model's answers.

use bytemuck::{bytes_of, Pod};
use fuse_iomap_server::diskfs::inode::Time;
use fuse_iomap_server::diskfs::{Dirent, SetAttr, Stat, Statfs, BLOCK, NAME_MAX};
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;

/// `FALLOC_FL_KEEP_SIZE`: allocate, and leave the size.
pub const FALLOC_FL_KEEP_SIZE: u32 = 0x01;

/// How long the kernel may keep entries and attributes, seconds.
const VALID: u64 = 1;

/// A request's fixed arguments, and the bytes after them.
pub fn split<T: Pod>(args: &[u8]) -> Result<(T, &[u8]), Errno> {
    let n = std::mem::size_of::<T>();
    if args.len() < n {
        return Err(Errno::EINVAL);
    }
    Ok((bytemuck::pod_read_unaligned(&args[..n]), &args[n..]))
}

/// A NUL-terminated name at the start of `args`, and the bytes after it.
pub fn name(args: &[u8]) -> Result<(&[u8], &[u8]), Errno> {
    let nul = args.iter().position(|&c| c == 0).ok_or(Errno::EINVAL)?;
    Ok((&args[..nul], &args[nul + 1..]))
}

pub fn attr(stat: &Stat) -> fuse_attr {
    let a = &stat.attr;
    fuse_attr {
        ino: stat.nodeid,
        size: a.size,
        blocks: stat.blocks * (BLOCK / 512),
        atime: a.atime.sec,
        mtime: a.mtime.sec,
        ctime: a.ctime.sec,
        atimensec: a.atime.nsec,
        mtimensec: a.mtime.nsec,
        ctimensec: a.ctime.nsec,
        mode: a.mode,
        nlink: a.nlink,
        uid: a.uid,
        gid: a.gid,
        rdev: 0,
        blksize: BLOCK as u32,
        flags: 0,
    }
}

pub fn attr_out(stat: &Stat) -> fuse_attr_out {
    fuse_attr_out {
        attr_valid: VALID,
        attr: attr(stat),
        ..Default::default()
    }
}

pub fn entry(stat: &Stat) -> fuse_entry_out {
    fuse_entry_out {
        nodeid: stat.nodeid,
        generation: stat.attr.generation,
        entry_valid: VALID,
        attr_valid: VALID,
        attr: attr(stat),
        ..Default::default()
    }
}

/// A `SETATTR` time: now, or the one given.
fn time(now: bool, sec: u64, nsec: u32) -> Time {
    if now {
        Time::now()
    } else {
        Time { sec, nsec }
    }
}

/// What the arguments of `SETATTR` change.
pub fn set_attr(args: &[u8]) -> Result<SetAttr, Errno> {
    let (s, _) = split::<fuse_setattr_in>(args)?;
    let has = |bit: u32| s.valid & bit != 0;
    Ok(SetAttr {
        mode: has(FATTR_MODE).then_some(s.mode),
        uid: has(FATTR_UID).then_some(s.uid),
        gid: has(FATTR_GID).then_some(s.gid),
        size: has(FATTR_SIZE).then_some(s.size),
        atime: (has(FATTR_ATIME) || has(FATTR_ATIME_NOW))
            .then(|| time(has(FATTR_ATIME_NOW), s.atime, s.atimensec)),
        mtime: (has(FATTR_MTIME) || has(FATTR_MTIME_NOW))
            .then(|| time(has(FATTR_MTIME_NOW), s.mtime, s.mtimensec)),
        ctime: has(FATTR_CTIME).then_some(time(false, s.ctime, s.ctimensec)),
    })
}

/// `STATFS`'s answer.
pub fn statfs(s: &Statfs) -> fuse_statfs_out {
    fuse_statfs_out {
        st: fuse_kstatfs {
            blocks: s.blocks,
            bfree: s.bfree,
            bavail: s.bfree,
            files: s.files + s.ffree,
            ffree: s.ffree,
            bsize: BLOCK as u32,
            namelen: NAME_MAX as u32,
            frsize: BLOCK as u32,
            ..Default::default()
        },
    }
}

const DT_DIR: u32 = 4;
const DT_REG: u32 = 8;

/// The `fuse_dirent` records of `entries` that fit in `size` bytes, each
/// 8-byte aligned, each `off` the cookie to resume after it.
pub fn dirents<'a>(entries: impl Iterator<Item = Dirent<'a>>, size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for e in entries {
        let len = (24 + e.name.len()).next_multiple_of(8);
        if out.len() + len > size {
            break;
        }
        out.extend_from_slice(&e.nodeid.to_ne_bytes());
        out.extend_from_slice(&e.cookie.to_ne_bytes());
        out.extend_from_slice(&(e.name.len() as u32).to_ne_bytes());
        out.extend_from_slice(&(if e.dir { DT_DIR } else { DT_REG }).to_ne_bytes());
        out.extend_from_slice(e.name);
        out.resize(out.len().next_multiple_of(8), 0);
    }
    out
}

/// `IOMAP_BEGIN`'s answer: `read`, and a write fork that is `NOCACHE`
/// (writes go where the read mapping says).
pub fn begin_out(read: fuse_iomap_io) -> fuse_iomap_begin_out {
    let write = fuse_iomap_io {
        type_: FUSE_IOMAP_TYPE_NOCACHE as u16,
        ..Default::default()
    };
    fuse_iomap_begin_out { read, write }
}

/// `fuse_entry_out` then `fuse_open_out`, as `CREATE` answers.
pub fn created(stat: &Stat) -> Vec<u8> {
    let mut out = bytes_of(&entry(stat)).to_vec();
    out.extend_from_slice(bytes_of(&fuse_open_out::default()));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use fuse_iomap_server::diskfs::inode::{S_IFDIR, S_IFMT, S_IFREG};

    /// The dirent type of a mode, as the kernel's `IFTODT`.
    fn dtype(mode: u32) -> u32 {
        (mode & S_IFMT) >> 12
    }

    fn dirent(cookie: u64, name: &str, dir: bool) -> Dirent<'_> {
        Dirent {
            cookie,
            nodeid: cookie + 100,
            name: name.as_bytes(),
            dir,
        }
    }

    #[test]
    fn dirent_records_are_aligned_and_cut_at_size() {
        let entries = [dirent(1, "a", false), dirent(5, "abcdefghi", true)];
        let out = dirents(entries.into_iter(), 4096);
        // 24 + 1 -> 32, 24 + 9 -> 40.
        assert_eq!(out.len(), 72);
        let u64_at = |o: usize| u64::from_ne_bytes(out[o..o + 8].try_into().unwrap());
        let u32_at = |o: usize| u32::from_ne_bytes(out[o..o + 4].try_into().unwrap());
        assert_eq!((u64_at(0), u64_at(8), u32_at(16)), (101, 1, 1));
        assert_eq!(u32_at(20), dtype(S_IFREG));
        assert_eq!(&out[24..26], b"a\0");
        assert_eq!((u64_at(32), u64_at(40), u32_at(48)), (105, 5, 9));
        assert_eq!(u32_at(52), dtype(S_IFDIR));
        assert_eq!(&out[56..65], b"abcdefghi");
        // 71 bytes hold only the first record; 31 none.
        assert_eq!(dirents(entries.into_iter(), 71).len(), 32);
        assert!(dirents(entries.into_iter(), 31).is_empty());
    }

    #[test]
    fn names_and_args_are_checked() {
        assert_eq!(name(b"old\0new\0").unwrap(), (&b"old"[..], &b"new\0"[..]));
        assert_eq!(name(b"old"), Err(Errno::EINVAL));
        assert_eq!(split::<fuse_mkdir_in>(&[0; 7]).err(), Some(Errno::EINVAL));
        let (m, rest) = split::<fuse_mkdir_in>(&[0; 10]).unwrap();
        assert_eq!((m.mode, rest.len()), (0, 2));
    }
}
