// SPDX-License-Identifier: GPL-2.0

//! The log's bytes on the device, little-endian (in the integers of
//! [`crate::bytes`]):
//!
//! ```text
//! 0       the superblock: magic "FIOMAPFM", version u32, 0 u32,
//!         device_size u64, log_offset u64, log_len u64,
//!         strips u32 (0: simple extents), 0 u32, chunk u64,
//!         created (sec u64, nsec u32), checksum u64 of the bytes before it
//! 4 KiB   the log, log_len bytes: entries back to back, then zeroes
//! 2 MiB   file data, to device_size
//! ```
//!
//! An entry is `len u32` (the whole entry's), `kind u8`, its payload, and
//! a checksum u64 of the bytes before it; a `len` of 0 ends the log. The
//! payloads:
//!
//! ```text
//! 1 Daxdev   uuid [16], size u64
//! 2 Mkdir,   parent u64, mode u32, uid u32, gid u32, time,
//! 3 Create   name_len u16, name
//! 4 Alloc    nodeid u64, size u64, then 0 and one extent, or 1, chunk
//!            u64, nstrips u16 and the strips; an extent or a strip is
//!            dev u32, offset u64, len u64
//! 5 Setattr  nodeid u64, which u8 (mode 1, uid 2, gid 4, size 8,
//!            atime 16, mtime 32, ctime 64), mode u32, uid u32, gid u32,
//!            size u64, atime, mtime, ctime (what `which` leaves out is 0)
//! ```
//!
//! Decoding checks the bytes only (lengths, checksum, kinds, what follows
//! the end); whether an entry makes sense where it stands is
//! [`super::namespace::Namespace::apply`]'s to say.

use super::alloc::Stripe;
use super::layout::Piece;
use crate::bytes::{checksum, Reader, Writer};
use crate::diskfs::inode::Time;
use crate::diskfs::SetAttr;
use fuse_iomap::fmap_build::Ext;

/// "fuse_iomap famfs", version 1.
pub const MAGIC: [u8; 8] = *b"FIOMAPFM";
pub const VERSION: u32 = 1;
/// famfs's alignment of extents, strips and chunks: 2 MiB.
pub const ALIGN: u64 = 2 << 20;
/// The superblock's block; the log follows it.
pub const SB_BYTES: u64 = 4096;
/// File data starts here: the superblock and the log share the first
/// 2 MiB.
pub const DATA_START: u64 = ALIGN;
/// The log's offset, and its length unless told otherwise.
pub const LOG_OFFSET: u64 = SB_BYTES;
pub const LOG_MAX: u64 = DATA_START - LOG_OFFSET;
/// The bytes of the superblock that are used.
const SB_LEN: usize = 76;
/// An entry's bytes besides its payload: `len`, `kind`, checksum.
const ENTRY_OVERHEAD: usize = 4 + 1 + 8;

/// The superblock: the device and the log, and how files are laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    /// The bytes of the device the file system has: a multiple of 2 MiB.
    pub device_size: u64,
    pub log_offset: u64,
    pub log_len: u64,
    /// `None`: every allocation is one simple extent.
    pub stripe: Option<Stripe>,
    /// The root directory's times.
    pub created: Time,
}

/// The error of a device that holds no log this server can replay, for
/// the message that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSuper {
    Magic,
    Version(u32),
    Corrupt(&'static str),
}

impl std::fmt::Display for BadSuper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Magic => write!(f, "no fuse_iomap famfs log (bad magic); use --format"),
            Self::Version(v) => write!(f, "famfs log version {v}, this server knows {VERSION}"),
            Self::Corrupt(why) => write!(f, "the superblock is corrupt: {why}"),
        }
    }
}

impl Superblock {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.0.extend_from_slice(&MAGIC);
        w.u32(VERSION);
        w.u32(0);
        w.u64(self.device_size);
        w.u64(self.log_offset);
        w.u64(self.log_len);
        w.u32(self.stripe.map_or(0, |s| s.strips));
        w.u32(0);
        w.u64(self.stripe.map_or(0, |s| s.chunk));
        w.time(self.created);
        let sum = checksum(&w.0);
        w.u64(sum);
        debug_assert_eq!(w.0.len(), SB_LEN);
        w.0.resize(SB_BYTES as usize, 0);
        w.0
    }

    /// Reads the superblock of a device of `device_bytes`.
    pub fn decode(b: &[u8], device_bytes: u64) -> Result<Self, BadSuper> {
        if b.len() < SB_LEN || b[..8] != MAGIC {
            return Err(BadSuper::Magic);
        }
        let mut r = Reader(&b[8..SB_LEN]);
        let version = r.u32().map_err(|_| BadSuper::Magic)?;
        if version != VERSION {
            return Err(BadSuper::Version(version));
        }
        let (body, sum) = b[..SB_LEN].split_at(SB_LEN - 8);
        if sum != checksum(body).to_le_bytes() {
            return Err(BadSuper::Corrupt("its checksum is wrong"));
        }
        let sb = Self::fields(&mut r).map_err(|_| BadSuper::Corrupt("a time out of range"))?;
        sb.check(device_bytes).map_err(BadSuper::Corrupt)?;
        Ok(sb)
    }

    /// The fields after the version.
    fn fields(r: &mut Reader) -> Result<Self, nix::errno::Errno> {
        r.u32()?;
        let (device_size, log_offset, log_len) = (r.u64()?, r.u64()?, r.u64()?);
        let strips = r.u32()?;
        r.u32()?;
        let chunk = r.u64()?;
        Ok(Self {
            device_size,
            log_offset,
            log_len,
            stripe: (strips != 0 || chunk != 0).then_some(Stripe { strips, chunk }),
            created: r.time()?,
        })
    }

    /// Whether the superblock makes sense on a device of `device_bytes`:
    /// checked before one is written, and when one is read.
    pub fn check(&self, device_bytes: u64) -> Result<(), &'static str> {
        if self.log_offset < SB_BYTES
            || self.log_len < ENTRY_OVERHEAD as u64
            || self.log_offset.saturating_add(self.log_len) > DATA_START
        {
            return Err("the log is not between the superblock and the data");
        }
        if !self.device_size.is_multiple_of(ALIGN) || self.device_size <= DATA_START {
            return Err("no data area, or one not in 2 MiB units");
        }
        if self.device_size > device_bytes {
            return Err("the device is smaller than the file system");
        }
        match self.stripe {
            Some(s) => s.check(),
            None => Ok(()),
        }
    }
}

/// A new directory or file: its final attributes, as the request made
/// them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNode {
    pub parent: u64,
    pub name: Vec<u8>,
    /// With the file type bits.
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
    pub time: Time,
}

/// A log entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// The next daxdev index: the first is the device that holds the log.
    Daxdev {
        uuid: [u8; 16],
        size: u64,
    },
    Mkdir(NewNode),
    Create(NewNode),
    /// `piece` added to file `nodeid`, whose size is now `size`.
    Alloc {
        nodeid: u64,
        size: u64,
        piece: Piece,
    },
    Setattr {
        nodeid: u64,
        set: SetAttr,
    },
}

const DAXDEV: u8 = 1;
const MKDIR: u8 = 2;
const CREATE: u8 = 3;
const ALLOC: u8 = 4;
const SETATTR: u8 = 5;

const PIECE_EXTENT: u8 = 0;
const PIECE_GROUP: u8 = 1;

fn put_ext(w: &mut Writer, e: &Ext) {
    w.u32(e.dev);
    w.u64(e.offset);
    w.u64(e.len);
}

fn get_ext(r: &mut Reader) -> Result<Ext, nix::errno::Errno> {
    Ok(Ext {
        dev: r.u32()?,
        offset: r.u64()?,
        len: r.u64()?,
    })
}

fn put_node(w: &mut Writer, n: &NewNode) {
    w.u64(n.parent);
    w.u32(n.mode);
    w.u32(n.uid);
    w.u32(n.gid);
    w.time(n.time);
    w.u16(n.name.len() as u16);
    w.0.extend_from_slice(&n.name);
}

fn get_node(r: &mut Reader) -> Result<NewNode, nix::errno::Errno> {
    let (parent, mode, uid, gid, time) = (r.u64()?, r.u32()?, r.u32()?, r.u32()?, r.time()?);
    let len = usize::from(r.u16()?);
    Ok(NewNode {
        parent,
        name: r.bytes(len)?.to_vec(),
        mode,
        uid,
        gid,
        time,
    })
}

fn put_setattr(w: &mut Writer, s: &SetAttr) {
    let which = [
        s.mode.is_some(),
        s.uid.is_some(),
        s.gid.is_some(),
        s.size.is_some(),
        s.atime.is_some(),
        s.mtime.is_some(),
        s.ctime.is_some(),
    ];
    w.u8(which.iter().rev().fold(0, |m, &b| m << 1 | u8::from(b)));
    w.u32(s.mode.unwrap_or(0));
    w.u32(s.uid.unwrap_or(0));
    w.u32(s.gid.unwrap_or(0));
    w.u64(s.size.unwrap_or(0));
    for t in [s.atime, s.mtime, s.ctime] {
        w.time(t.unwrap_or_default());
    }
}

fn get_setattr(r: &mut Reader) -> Result<SetAttr, nix::errno::Errno> {
    let which = r.u8()?;
    if which >= 1 << 7 {
        return Err(nix::errno::Errno::EUCLEAN);
    }
    let has = |bit: u8| which & 1 << bit != 0;
    let (mode, uid, gid, size) = (r.u32()?, r.u32()?, r.u32()?, r.u64()?);
    let (atime, mtime, ctime) = (r.time()?, r.time()?, r.time()?);
    Ok(SetAttr {
        mode: has(0).then_some(mode),
        uid: has(1).then_some(uid),
        gid: has(2).then_some(gid),
        size: has(3).then_some(size),
        atime: has(4).then_some(atime),
        mtime: has(5).then_some(mtime),
        ctime: has(6).then_some(ctime),
    })
}

impl Entry {
    /// The entry's bytes, checksum included.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::default();
        w.u32(0);
        match self {
            Self::Daxdev { uuid, size } => {
                w.u8(DAXDEV);
                w.0.extend_from_slice(uuid);
                w.u64(*size);
            }
            Self::Mkdir(n) | Self::Create(n) => {
                w.u8(if matches!(self, Self::Mkdir(_)) {
                    MKDIR
                } else {
                    CREATE
                });
                put_node(&mut w, n);
            }
            Self::Alloc {
                nodeid,
                size,
                piece,
            } => {
                w.u8(ALLOC);
                w.u64(*nodeid);
                w.u64(*size);
                match piece {
                    Piece::Extent(e) => {
                        w.u8(PIECE_EXTENT);
                        put_ext(&mut w, e);
                    }
                    Piece::Group { chunk, strips } => {
                        w.u8(PIECE_GROUP);
                        w.u64(*chunk);
                        w.u16(strips.len() as u16);
                        strips.iter().for_each(|e| put_ext(&mut w, e));
                    }
                }
            }
            Self::Setattr { nodeid, set } => {
                w.u8(SETATTR);
                w.u64(*nodeid);
                put_setattr(&mut w, set);
            }
        }
        let len = (w.0.len() + 8) as u32;
        w.0[..4].copy_from_slice(&len.to_le_bytes());
        let sum = checksum(&w.0);
        w.u64(sum);
        w.0
    }

    /// The entry at the start of `log`, and its length; `None` at the end
    /// of the log. The end is a `len` of 0 with nothing but zeroes after
    /// it: a `len` zeroed by a stray write would otherwise cut the log
    /// short without a word.
    pub fn decode(log: &[u8]) -> Result<Option<(Self, usize)>, &'static str> {
        let len = log
            .first_chunk::<4>()
            .map_or(0, |b| u32::from_le_bytes(*b) as usize);
        if len == 0 {
            return if log.iter().all(|&b| b == 0) {
                Ok(None)
            } else {
                Err("bytes after the end of the log")
            };
        }
        if len < ENTRY_OVERHEAD || len > log.len() {
            return Err("an entry's length runs past the log");
        }
        let (body, sum) = log[..len].split_at(len - 8);
        if checksum(body) != u64::from_le_bytes(sum.try_into().map_err(|_| "short")?) {
            return Err("an entry's checksum is wrong (torn or corrupt)");
        }
        let mut r = Reader(&body[5..]);
        let entry = Self::payload(body[4], &mut r).map_err(|_| "a malformed entry")?;
        if !r.0.is_empty() {
            return Err("bytes after an entry's payload");
        }
        Ok(Some((entry, len)))
    }

    fn payload(kind: u8, r: &mut Reader) -> Result<Self, nix::errno::Errno> {
        Ok(match kind {
            DAXDEV => Self::Daxdev {
                uuid: r.take()?,
                size: r.u64()?,
            },
            MKDIR => Self::Mkdir(get_node(r)?),
            CREATE => Self::Create(get_node(r)?),
            ALLOC => {
                let (nodeid, size) = (r.u64()?, r.u64()?);
                let piece = match r.u8()? {
                    PIECE_EXTENT => Piece::Extent(get_ext(r)?),
                    PIECE_GROUP => {
                        let chunk = r.u64()?;
                        let n = r.u16()?;
                        let strips = (0..n).map(|_| get_ext(r)).collect::<Result<_, _>>()?;
                        Piece::Group { chunk, strips }
                    }
                    _ => return Err(nix::errno::Errno::EUCLEAN),
                };
                Self::Alloc {
                    nodeid,
                    size,
                    piece,
                }
            }
            SETATTR => Self::Setattr {
                nodeid: r.u64()?,
                set: get_setattr(r)?,
            },
            _ => return Err(nix::errno::Errno::EUCLEAN),
        })
    }
}
