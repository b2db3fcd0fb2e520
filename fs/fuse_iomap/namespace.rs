// SPDX-License-Identifier: GPL-2.0

//! The namespace replies of the mount, checked: entries, attributes,
//! directory records, file system statistics.
//!
//! Every reply is hostile until checked (`Documentation/fuse_iomap/mount.rst`
//! lists the rules). A reply that breaks one fails its call with `EIO`, and
//! the reason goes to the log, rate-limited: it never reaches an inode. The
//! checks know nothing of the VFS; `vfs.rs` hands them the reply and the
//! connection's geometry, and hands the VFS glue only what passed.

use crate::fuse_abi::{Attr, DirentHead, EntryOut, Kstatfs, ROOT_ID};
use crate::mapping::{Geometry, Invalid};
use crate::ratelimit::pr_warn_ratelimited;
use kernel::prelude::*;

/// The longest name, as `NAME_MAX`.
pub(crate) const NAME_MAX: usize = 255;

/// The longest time a reply may ask the kernel to trust an entry or
/// attributes: a day. A longer one is cut to it.
pub(crate) const MAX_TIMEOUT_MS: u64 = 24 * 60 * 60 * 1000;

/// `S_IFMT` and the two file types the mount has.
const S_IFMT: u32 = 0o170000;
const S_IFDIR: u32 = 0o040000;
const S_IFREG: u32 = 0o100000;

/// `DT_DIR` and `DT_REG`, as `READDIR` records give a file's type.
const DT_DIR: u32 = 4;
const DT_REG: u32 = 8;

/// Why a request of `opcode` failed its checks: logged, and `EIO`.
pub(crate) fn refuse(opcode: u32, nodeid: u64, why: Invalid) -> Error {
    pr_warn_ratelimited!(
        "reply to opcode {} for nodeid {} refused: {}\n",
        opcode,
        nodeid,
        why.0
    );
    EIO
}

/// Whether `name` is a name a directory may hold: 1 to [`NAME_MAX`] bytes,
/// without `/` or NUL.
pub(crate) fn name_ok(name: &[u8]) -> bool {
    (1..=NAME_MAX).contains(&name.len()) && !name.iter().any(|&b| b == b'/' || b == 0)
}

/// Whether `mode` is a directory's.
pub(crate) fn is_dir(mode: u32) -> bool {
    mode & S_IFMT == S_IFDIR
}

/// Whether `mode` is a file type the mount has: a directory or a regular
/// file.
pub(crate) fn type_ok(mode: u32) -> bool {
    matches!(mode & S_IFMT, S_IFDIR | S_IFREG)
}

/// `sec` seconds and `nsec` nanoseconds in milliseconds, cut to
/// [`MAX_TIMEOUT_MS`].
pub(crate) fn timeout_ms(sec: u64, nsec: u32) -> u64 {
    sec.saturating_mul(1000)
        .saturating_add(u64::from(nsec / 1_000_000))
        .min(MAX_TIMEOUT_MS)
}

/// Checks attributes from the server: a type the mount has, a size within
/// `geo.maxbytes`, times with valid nanoseconds. Any link count goes, as in
/// fuse: a directory removed while open has none (fstests' generic/035).
pub(crate) fn check_attr(attr: &Attr, geo: &Geometry) -> core::result::Result<(), Invalid> {
    if !type_ok(attr.mode) {
        return Err(Invalid(
            "file type is neither a directory nor a regular file",
        ));
    }
    if attr.size > geo.maxbytes {
        return Err(Invalid("size past maxbytes"));
    }
    if [attr.atimensec, attr.mtimensec, attr.ctimensec]
        .iter()
        .any(|&ns| ns >= 1_000_000_000)
    {
        return Err(Invalid("nanoseconds past a second"));
    }
    Ok(())
}

/// What an entry reply names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Entry {
    /// An inode: the reply, checked.
    Inode(EntryOut),
    /// No such name (`LOOKUP` with nodeid 0), for `timeout_ms`.
    Negative { timeout_ms: u64 },
}

/// Checks an entry reply: a nodeid that is neither the root's nor 0 (0 only
/// from `LOOKUP`, a negative entry, as in fuse), and its attributes.
pub(crate) fn check_entry(
    out: &EntryOut,
    geo: &Geometry,
    lookup: bool,
) -> core::result::Result<Entry, Invalid> {
    match out.nodeid {
        0 if lookup => {
            return Ok(Entry::Negative {
                timeout_ms: timeout_ms(out.entry_valid, out.entry_valid_nsec),
            })
        }
        0 => return Err(Invalid("nodeid 0")),
        ROOT_ID => return Err(Invalid("the root's nodeid")),
        _ => {}
    }
    check_attr(&out.attr, geo)?;
    Ok(Entry::Inode(*out))
}

/// Whether an entry for an inode the kernel knows as `generation` of type
/// `mode` names the same file: a nodeid reused for another generation, or
/// a file whose type changed, is the server's confusion.
pub(crate) fn same_file(generation: u64, mode: u32, entry: &EntryOut) -> bool {
    entry.generation == generation && (entry.attr.mode ^ mode) & S_IFMT == 0
}

/// Checks a `STATFS` reply.
pub(crate) fn check_statfs(st: &Kstatfs) -> core::result::Result<(), Invalid> {
    if st.bsize == 0 {
        return Err(Invalid("block size 0"));
    }
    Ok(())
}

/// A directory record of a `READDIR` reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dirent<'a> {
    pub(crate) name: &'a [u8],
    pub(crate) ino: u64,
    /// `DT_*`.
    pub(crate) r#type: u32,
    /// The cookie of the next `READDIR`.
    pub(crate) off: u64,
}

/// The records of a `READDIR` reply, checked one by one: each lies inside
/// the reply, its name is a name ([`name_ok`]) or `.` or `..` (which, as in
/// fuse, the server gives if it wants them listed), and its type one the
/// mount has.
pub(crate) struct Dirents<'a> {
    buf: &'a [u8],
}

impl<'a> Dirents<'a> {
    /// The records of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn head(&self) -> core::result::Result<DirentHead, Invalid> {
        let b = self
            .buf
            .get(..core::mem::size_of::<DirentHead>())
            .ok_or(Invalid("record header past the reply"))?;
        let u64_at = |i: usize| {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[i..i + 8]);
            u64::from_ne_bytes(a)
        };
        let u32_at = |i: usize| {
            let mut a = [0u8; 4];
            a.copy_from_slice(&b[i..i + 4]);
            u32::from_ne_bytes(a)
        };
        Ok(DirentHead {
            ino: u64_at(0),
            off: u64_at(8),
            namelen: u32_at(16),
            r#type: u32_at(20),
        })
    }

    /// The next record, `None` at the end, or why the reply is bad.
    pub(crate) fn next_entry(&mut self) -> core::result::Result<Option<Dirent<'a>>, Invalid> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let head = self.head()?;
        let hlen = core::mem::size_of::<DirentHead>();
        let namelen = head.namelen as usize;
        if namelen > NAME_MAX {
            return Err(Invalid("name longer than NAME_MAX"));
        }
        let name = self
            .buf
            .get(hlen..hlen + namelen)
            .ok_or(Invalid("name past the reply"))?;
        // The last record may go without its padding.
        self.buf = self.buf.get((hlen + namelen + 7) & !7..).unwrap_or(&[]);
        let dots = name == b"." || name == b"..";
        if !dots && !name_ok(name) {
            return Err(Invalid("bad name in a directory record"));
        }
        if !matches!(head.r#type, DT_DIR | DT_REG) || dots && head.r#type != DT_DIR {
            return Err(Invalid(
                "file type is neither a directory nor a regular file",
            ));
        }
        Ok(Some(Dirent {
            name,
            ino: head.ino,
            r#type: head.r#type,
            off: head.off,
        }))
    }
}
