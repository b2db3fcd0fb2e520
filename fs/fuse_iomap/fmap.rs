// SPDX-License-Identifier: GPL-2.0

//! famfs file maps: a `FUSE_GET_FMAP` reply, validated into an [`Fmap`], and
//! the resolution of file offsets to daxdev offsets.
//!
//! A reply is a `fuse_famfs_fmap_header`, then the extents:
//!
//! - SIMPLE: `nextents` × `fuse_famfs_simple_ext`, in file order; the file's
//!   bytes run through each extent in turn.
//! - INTERLEAVE: `nextents` groups, each a `fuse_famfs_iext` followed by its
//!   `ie_nstrips` strips (`fuse_famfs_simple_ext`). A group holds
//!   `min(ie_nbytes, file_size)` file bytes, cut into `ie_chunk_size` chunks
//!   dealt round-robin to the strips: chunk `c` lives in strip
//!   `c % nstrips`, at `(c / nstrips) × chunk` into it.
//!
//! Everything the server sends is hostile until checked. Besides the rules
//! of the C series (V10), a reply is refused when: its version is not 1, its
//! file type or extent type is unknown, a reserved field is not 0, bytes
//! follow the last extent, a chunk size is 0 (V10 divides by it), a device
//! index is 24 or more, or an extent's end overflows the device's address
//! space. All indices below 24 are supported (V10 accepts only 0). The
//! device bitmap is built only from checked indices. A resolution never
//! crosses a chunk or a strip's end; an offset past the end of the file, or
//! in a strip too short for it, is `EIO`. Nor does it cross the end of a
//! group, which need not fall on a chunk boundary.

use crate::abi::{FamfsFmapHeader, FamfsIext, FamfsSimpleExt};
use core::mem::{offset_of, size_of};
use kernel::prelude::*;

/// `FAMFS_FMAP_VERSION`.
pub(crate) const FMAP_VERSION: u16 = 1;
/// `FUSE_FAMFS_MAX_EXTENTS`: extents or groups per file.
pub(crate) const MAX_EXTENTS: u32 = 32;
/// `FUSE_FAMFS_MAX_STRIPS`: strips per group.
pub(crate) const MAX_STRIPS: u32 = 32;
/// `FUSE_FAMFS_MAX_DAXDEVS`: device indices are below this.
pub(crate) const MAX_DAXDEVS: u32 = 24;
/// `FUSE_FAMFS_ALIGNMENT`: of offsets, lengths and chunk sizes.
pub(crate) const ALIGNMENT: u64 = 2 << 20;
/// `FUSE_FAMFS_FILE_LOG`, the highest file type.
const FILE_TYPE_MAX: u8 = 2;
/// `FUSE_FAMFS_EXT_SIMPLE`.
pub(crate) const EXT_SIMPLE: u32 = 0;
/// `FUSE_FAMFS_EXT_INTERLEAVE`.
pub(crate) const EXT_INTERLEAVE: u32 = 1;

/// Why a reply or a resolution was refused: the error code and a reason
/// for the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejected {
    pub(crate) error: Error,
    pub(crate) reason: &'static str,
}

fn einval(reason: &'static str) -> Rejected {
    Rejected {
        error: EINVAL,
        reason,
    }
}

fn eio(reason: &'static str) -> Rejected {
    Rejected { error: EIO, reason }
}

/// An extent, or a strip of a group: bytes on a daxdev.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Extent {
    pub(crate) dev_index: u32,
    pub(crate) offset: u64,
    pub(crate) len: u64,
}

/// An interleaved group.
pub(crate) struct Group {
    chunk: u64,
    nbytes: u64,
    strips: KVec<Extent>,
}

enum Extents {
    Simple(KVec<Extent>),
    Interleave(KVec<Group>),
}

/// Where file bytes live: `length` bytes at `dev_offset` of daxdev
/// `dev_index`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) dev_index: u32,
    pub(crate) dev_offset: u64,
    pub(crate) length: u64,
}

/// A validated file map.
pub(crate) struct Fmap {
    file_type: u8,
    file_size: u64,
    extents: Extents,
    devices: u32,
}

/// Reads a reply front to back.
struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Rejected> {
        if self.buf.len() < n {
            return Err(einval(what));
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_ne_bytes([b[at], b[at + 1]])
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let lo = u64::from(u32_at(b, at));
    let hi = u64::from(u32_at(b, at + 4));
    if cfg!(target_endian = "little") {
        lo | hi << 32
    } else {
        hi | lo << 32
    }
}

fn aligned(x: u64) -> bool {
    x % ALIGNMENT == 0
}

/// Reads and checks one `fuse_famfs_simple_ext`.
fn extent(r: &mut Reader<'_>, devices: &mut u32) -> Result<Extent, Rejected> {
    let b = r.take(
        size_of::<FamfsSimpleExt>(),
        "extent past the end of the reply",
    )?;
    let e = Extent {
        dev_index: u32_at(b, offset_of!(FamfsSimpleExt, se_devindex)),
        offset: u64_at(b, offset_of!(FamfsSimpleExt, se_offset)),
        len: u64_at(b, offset_of!(FamfsSimpleExt, se_len)),
    };
    if u32_at(b, offset_of!(FamfsSimpleExt, reserved)) != 0 {
        return Err(einval("reserved field of an extent is not 0"));
    }
    if e.dev_index >= MAX_DAXDEVS {
        return Err(einval("device index 24 or more"));
    }
    if !aligned(e.offset) || !aligned(e.len) {
        return Err(einval("extent offset or length not 2 MiB-aligned"));
    }
    if e.offset.checked_add(e.len).is_none() {
        return Err(einval("extent end overflows"));
    }
    // The index is below 24, checked above: the shift cannot overflow.
    *devices |= 1 << e.dev_index;
    Ok(e)
}

/// Appends to a vector, turning an allocation failure into a rejection.
fn push<T>(v: &mut KVec<T>, x: T) -> Result<(), Rejected> {
    v.push(x, GFP_KERNEL_ACCOUNT).map_err(|_| Rejected {
        error: ENOMEM,
        reason: "out of memory",
    })
}

impl Fmap {
    /// Parses and validates a `FUSE_GET_FMAP` reply.
    pub(crate) fn parse(buf: &[u8]) -> Result<Self, Rejected> {
        let mut r = Reader { buf };
        let h = r.take(
            size_of::<FamfsFmapHeader>(),
            "reply shorter than its header",
        )?;
        let file_type = h[offset_of!(FamfsFmapHeader, file_type)];
        let version = u16_at(h, offset_of!(FamfsFmapHeader, fmap_version));
        let ext_type = u32_at(h, offset_of!(FamfsFmapHeader, ext_type));
        let nextents = u32_at(h, offset_of!(FamfsFmapHeader, nextents));
        let file_size = u64_at(h, offset_of!(FamfsFmapHeader, file_size));
        if h[offset_of!(FamfsFmapHeader, reserved)] != 0
            || u32_at(h, offset_of!(FamfsFmapHeader, reserved0)) != 0
            || u64_at(h, offset_of!(FamfsFmapHeader, reserved1)) != 0
        {
            return Err(einval("reserved field of the header is not 0"));
        }
        if version != FMAP_VERSION {
            return Err(einval("unknown fmap version"));
        }
        if file_type > FILE_TYPE_MAX {
            return Err(einval("unknown file type"));
        }
        if nextents == 0 || nextents > MAX_EXTENTS {
            return Err(Rejected {
                error: ERANGE,
                reason: "no extents, or more than 32",
            });
        }
        let mut devices = 0;
        let (extents, total) = match ext_type {
            EXT_SIMPLE => {
                let mut v = KVec::new();
                let mut total = 0u64;
                for _ in 0..nextents {
                    let e = extent(&mut r, &mut devices)?;
                    total = total
                        .checked_add(e.len)
                        .ok_or(einval("extent lengths overflow"))?;
                    push(&mut v, e)?;
                }
                (Extents::Simple(v), total)
            }
            EXT_INTERLEAVE => {
                let mut v = KVec::new();
                let mut total = 0u64;
                for _ in 0..nextents {
                    let g = Self::group(&mut r, &mut devices)?;
                    total = total
                        .checked_add(g.nbytes)
                        .ok_or(einval("group sizes overflow"))?;
                    push(&mut v, g)?;
                }
                (Extents::Interleave(v), total)
            }
            _ => return Err(einval("unknown extent type")),
        };
        if !r.buf.is_empty() {
            return Err(einval("bytes after the last extent"));
        }
        if total < file_size {
            return Err(einval("extents hold less than the file size"));
        }
        Ok(Self {
            file_type,
            file_size,
            extents,
            devices,
        })
    }

    fn group(r: &mut Reader<'_>, devices: &mut u32) -> Result<Group, Rejected> {
        let b = r.take(size_of::<FamfsIext>(), "group past the end of the reply")?;
        let nstrips = u32_at(b, offset_of!(FamfsIext, ie_nstrips));
        let chunk = u64::from(u32_at(b, offset_of!(FamfsIext, ie_chunk_size)));
        let nbytes = u64_at(b, offset_of!(FamfsIext, ie_nbytes));
        if u64_at(b, offset_of!(FamfsIext, reserved)) != 0 {
            return Err(einval("reserved field of a group is not 0"));
        }
        if chunk == 0 || !aligned(chunk) {
            return Err(einval("chunk size 0 or not 2 MiB-aligned"));
        }
        if nbytes == 0 {
            return Err(einval("group of 0 bytes"));
        }
        if nstrips == 0 || nstrips > MAX_STRIPS {
            return Err(einval("no strips, or more than 32"));
        }
        let mut strips = KVec::new();
        for _ in 0..nstrips {
            push(&mut strips, extent(r, devices)?)?;
        }
        Ok(Group {
            chunk,
            nbytes,
            strips,
        })
    }

    /// The file type (`FUSE_FAMFS_FILE_*`).
    pub(crate) fn file_type(&self) -> u8 {
        self.file_type
    }

    /// The file size.
    pub(crate) fn file_size(&self) -> u64 {
        self.file_size
    }

    /// The extent type (`FUSE_FAMFS_EXT_*`).
    pub(crate) fn ext_type(&self) -> u32 {
        match self.extents {
            Extents::Simple(_) => EXT_SIMPLE,
            Extents::Interleave(_) => EXT_INTERLEAVE,
        }
    }

    /// The number of extents, or of groups.
    pub(crate) fn nextents(&self) -> usize {
        match &self.extents {
            Extents::Simple(v) => v.len(),
            Extents::Interleave(v) => v.len(),
        }
    }

    /// The daxdev indices the file uses, as a bitmap (bit `i` for index `i`).
    pub(crate) fn devices(&self) -> u32 {
        self.devices
    }

    /// Where the `len` file bytes at `offset` live, or as many of them as
    /// one extent, chunk or strip holds. `EIO` past the end of the file or
    /// of a strip.
    pub(crate) fn resolve(&self, offset: u64, len: u64) -> Result<Resolved, Rejected> {
        if offset >= self.file_size {
            return Err(eio("offset at or past the end of the file"));
        }
        let len = len.min(self.file_size - offset);
        let mut local = offset;
        match &self.extents {
            Extents::Simple(extents) => {
                for e in extents.iter() {
                    if local < e.len {
                        return Ok(Resolved {
                            dev_index: e.dev_index,
                            dev_offset: e.offset + local,
                            length: len.min(e.len - local),
                        });
                    }
                    local -= e.len;
                }
            }
            Extents::Interleave(groups) => {
                for g in groups.iter() {
                    let size = g.nbytes.min(self.file_size);
                    if local < size {
                        // Past the group's bytes, the file goes on in the
                        // next group, wherever its strips are.
                        return g.resolve(local, len.min(size - local));
                    }
                    local -= size;
                }
            }
        }
        Err(eio("offset past the last extent"))
    }
}

impl Group {
    /// Resolves offset `local` into this group's bytes.
    fn resolve(&self, local: u64, len: u64) -> Result<Resolved, Rejected> {
        let chunk_num = local / self.chunk;
        let chunk_off = local % self.chunk;
        let nstrips = self.strips.len() as u64;
        let stripe = chunk_num / nstrips;
        let strip = &self.strips[(chunk_num % nstrips) as usize];
        let strip_off = stripe
            .checked_mul(self.chunk)
            .and_then(|o| o.checked_add(chunk_off))
            .filter(|&o| o < strip.len)
            .ok_or(eio("offset past the end of its strip"))?;
        Ok(Resolved {
            dev_index: strip.dev_index,
            dev_offset: strip.offset + strip_off,
            length: len.min(self.chunk - chunk_off).min(strip.len - strip_off),
        })
    }
}
