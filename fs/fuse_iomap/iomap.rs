// SPDX-License-Identifier: GPL-2.0

//! A mapping as the kernel's iomap library wants it: the conversion of
//! `iomap_begin`'s answer (`fuse_iomap_io`, from the cache, BPF or the
//! server) into the fields of a `struct iomap`, and back for `iomap_end`.
//!
//! `iomap_glue.c` only copies a [`VfsMap`] into `struct iomap` and calls the
//! library; every decision is here. Mappings were validated where they came
//! from (`mapping.rs`: alignment, device bounds); what is checked here is
//! what the iomap library of 6.12 would otherwise trip over, with a
//! `WARN_ON_ONCE` or silently:
//!
//! - `INLINE` mappings: the kernel has no inline data to point at;
//! - a direct write, or writeback, to anything but `MAPPED` or `UNWRITTEN`
//!   storage (a hole there warns, or loses the data);
//! - storage on a device registered without a block device, or at an
//!   address that is not sector-aligned.
//!
//! Each fails the operation with `EIO`.

use crate::abi::{
    IomapIo, MappingType, F_WANT_IOMAP_END, IOEND_SHARED, IOEND_UNWRITTEN, OP_DIRECT, OP_WRITE,
    OP_WRITEBACK,
};
use crate::devices::{Bdev, DeviceTable};
use crate::iomap_begin::Answer;
use crate::mapping::Invalid;

/// `IOMAP_*` operation flags of 6.12's `include/linux/iomap.h`, `WRITE`
/// through `ATOMIC`: the same bits as `FUSE_IOMAP_OP_*`.
pub(crate) const IOMAP_OPS: u32 = (1 << 10) - 1;

/// `IOMAP_F_NEW`, `_DIRTY`, `_SHARED`, `_MERGED`: the same bits as their
/// `FUSE_IOMAP_F_*`.
const IOMAP_F_SAME: u16 = 0xf;
/// `IOMAP_F_PRIVATE`: the server wants `FUSE_IOMAP_END` for this mapping.
pub(crate) const IOMAP_F_WANT_END: u16 = 1 << 12;

/// The bytes of a sector, the unit of a block device address.
const SECTOR_SIZE: u64 = 512;

/// The fields of a `struct iomap` (`struct fuse_iomap_map` in `glue.h`),
/// and the device cookie that `iomap->private` carries back to
/// `iomap_end`.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct VfsMap {
    pub(crate) addr: u64,
    pub(crate) offset: u64,
    pub(crate) length: u64,
    /// `IOMAP_HOLE` .. `IOMAP_UNWRITTEN`: the same numbers as the
    /// `FUSE_IOMAP_TYPE_*`.
    pub(crate) r#type: u16,
    /// `IOMAP_F_*`.
    pub(crate) flags: u16,
    pub(crate) dev: u32,
    pub(crate) bdev: Bdev,
    pub(crate) validity_cookie: u64,
}

/// The `FUSE_IOMAP_OP_*` of an `iomap_begin` with 6.12's `IOMAP_*` `flags`:
/// the same bits; any other is not the library's and is dropped.
pub(crate) fn opflags(flags: u32) -> u32 {
    flags & IOMAP_OPS
}

/// What an operation may be given.
fn needs_storage(opflags: u32) -> bool {
    opflags & OP_WRITEBACK != 0 || opflags & (OP_WRITE | OP_DIRECT) == OP_WRITE | OP_DIRECT
}

/// `m` as a `struct iomap` for an operation with `opflags`, whose
/// validity cookie is `cookie`.
pub(crate) fn to_vfs(
    m: &IomapIo,
    opflags: u32,
    devices: &DeviceTable,
    cookie: u64,
) -> core::result::Result<VfsMap, Invalid> {
    let ty = MappingType::from_raw(m.r#type).ok_or(Invalid("unknown mapping type"))?;
    match ty {
        MappingType::Hole | MappingType::Delalloc if needs_storage(opflags) => {
            return Err(Invalid("direct write or writeback without storage"))
        }
        MappingType::Hole
        | MappingType::Delalloc
        | MappingType::Mapped
        | MappingType::Unwritten => {}
        _ => return Err(Invalid("inline or special mapping for I/O")),
    }
    let bdev = if ty.has_storage() {
        if m.addr % SECTOR_SIZE != 0 {
            return Err(Invalid("device address not sector-aligned"));
        }
        devices
            .bdev(m.dev)
            .ok_or(Invalid("device has no block device"))?
    } else {
        Bdev::NONE
    };
    let mut flags = m.flags & IOMAP_F_SAME;
    if m.flags & F_WANT_IOMAP_END != 0 {
        flags |= IOMAP_F_WANT_END;
    }
    Ok(VfsMap {
        addr: m.addr,
        offset: m.offset,
        length: m.length,
        r#type: m.r#type,
        flags,
        dev: m.dev,
        bdev,
        validity_cookie: cookie,
    })
}

/// The `struct iomap` and, for a write whose source differs from its
/// destination, the `srcmap` of `answer`.
pub(crate) fn place(
    answer: &Answer,
    opflags: u32,
    devices: &DeviceTable,
) -> core::result::Result<(VfsMap, Option<VfsMap>), Invalid> {
    match &answer.write {
        Some(write) => Ok((
            to_vfs(write, opflags, devices, answer.cookie)?,
            Some(to_vfs(
                &answer.read,
                opflags & !OP_WRITEBACK,
                devices,
                answer.cookie,
            )?),
        )),
        None => Ok((to_vfs(&answer.read, opflags, devices, answer.cookie)?, None)),
    }
}

/// The mapping that `FUSE_IOMAP_END` names, back from its `struct iomap`.
pub(crate) fn from_vfs(m: &VfsMap) -> IomapIo {
    let mut flags = m.flags & IOMAP_F_SAME;
    if m.flags & IOMAP_F_WANT_END != 0 {
        flags |= F_WANT_IOMAP_END;
    }
    IomapIo {
        offset: m.offset,
        length: m.length,
        addr: m.addr,
        r#type: m.r#type,
        flags,
        dev: m.dev,
    }
}

/// The `FUSE_IOMAP_IOEND_*` of an I/O that wrote to unwritten storage
/// (`unwritten`), to shared storage (`shared`), beside `kind`
/// (`FUSE_IOMAP_IOEND_DIRECT` or `_WRITEBACK`).
pub(crate) fn ioend_flags(kind: u32, unwritten: bool, shared: bool) -> u32 {
    kind | if unwritten { IOEND_UNWRITTEN } else { 0 } | if shared { IOEND_SHARED } else { 0 }
}

/// The bytes of a write's I/O of `len` bytes at `pos` that lie inside a
/// file of `size` bytes: the range `FUSE_IOMAP_IOEND` reports.
pub(crate) fn written_in_file(pos: u64, len: u64, size: u64) -> u64 {
    len.min(size.saturating_sub(pos))
}
