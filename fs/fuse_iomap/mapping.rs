// SPDX-License-Identifier: GPL-2.0

//! Validation of a mapping handed in by a server reply, a notification or a
//! BPF program, before the kernel uses or caches it.
//!
//! Every mapping is hostile until checked: a bad one is rejected with the
//! error code of its origin (`EFSCORRUPTED` for a reply, whose server is then
//! known to be confused; `EINVAL` for a notification or BPF) and a reason for
//! the log, and it never reaches the cache or the I/O path.

use crate::abi::{IomapIo, MappingType, DEV_NULL, MAPPING_FLAGS_FROM_SERVER, NULL_ADDR};
use crate::errno::efscorrupted;
use kernel::prelude::*;

/// Where a mapping came from; decides the error code of a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// A `FUSE_IOMAP_BEGIN` reply.
    Reply,
    /// A `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS` notification.
    Notification,
    /// A BPF program's answer or kfunc call.
    Bpf,
}

impl Origin {
    /// The error code of a mapping rejected from this origin.
    pub(crate) fn error(self) -> Error {
        match self {
            Self::Reply => efscorrupted(),
            Self::Notification | Self::Bpf => EINVAL,
        }
    }
}

/// Which half of a `fuse_iomap_begin_out` or upsert a mapping sits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    /// The read mapping: the source of reads, and of writes' old data.
    Read,
    /// The write mapping: the destination of writes.
    Write,
}

/// The file system geometry a connection configured with `FUSE_IOMAP_CONFIG`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Geometry {
    /// Block size in bytes, a power of two.
    pub(crate) blocksize: u64,
    /// The largest file size; no mapping starts at or past it.
    pub(crate) maxbytes: u64,
}

impl Geometry {
    /// Until `FUSE_IOMAP_CONFIG` says otherwise: 4 KiB blocks, files up to
    /// the largest `loff_t`.
    pub(crate) const DEFAULT: Self = Self {
        blocksize: 4096,
        maxbytes: i64::MAX as u64,
    };

    /// A geometry from a `FUSE_IOMAP_CONFIG` reply's values; `EINVAL` unless
    /// the block size is a power of two from 512 bytes to 1 GiB and maxbytes
    /// is positive.
    pub(crate) fn new(blocksize: u64, maxbytes: i64) -> Result<Self> {
        if !blocksize.is_power_of_two() || !(512..=1 << 30).contains(&blocksize) || maxbytes <= 0 {
            return Err(EINVAL);
        }
        Ok(Self {
            blocksize,
            maxbytes: maxbytes as u64,
        })
    }

    /// Whether `x` is a multiple of the block size.
    pub(crate) fn aligned(&self, x: u64) -> bool {
        x & (self.blocksize - 1) == 0
    }

    /// `x` rounded down to a block boundary.
    pub(crate) fn round_down(&self, x: u64) -> u64 {
        x & !(self.blocksize - 1)
    }

    /// `x` rounded up to a block boundary, saturating at the last block
    /// boundary below 2^64.
    pub(crate) fn round_up(&self, x: u64) -> u64 {
        x.checked_add(self.blocksize - 1)
            .map_or(self.round_down(u64::MAX), |x| self.round_down(x))
    }
}

/// The devices a connection registered, by cookie.
pub(crate) trait Devices {
    /// The size in bytes of device `dev`, if it is registered.
    fn size(&self, dev: u32) -> Option<u64>;
}

/// Why a mapping was rejected; the text goes to the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid(pub(crate) &'static str);

/// Checks `map`, found in `slot` of a message from `origin`, against the
/// geometry and the registered devices. Returns its type.
///
/// A `NOCACHE` mapping ("skip this fork") carries nothing else to check. A
/// `RETRY_CACHE` mapping is an answer, never something to store, so it is
/// rejected from a notification.
pub(crate) fn validate(
    map: &IomapIo,
    slot: Slot,
    origin: Origin,
    geo: &Geometry,
    devices: &impl Devices,
) -> core::result::Result<MappingType, Invalid> {
    let ty = MappingType::from_raw(map.r#type).ok_or(Invalid("unknown mapping type"))?;
    if map.flags & !MAPPING_FLAGS_FROM_SERVER != 0 {
        return Err(Invalid("unknown or kernel-only mapping flags"));
    }
    match ty {
        MappingType::NoCache => return Ok(ty),
        MappingType::RetryCache if origin == Origin::Notification => {
            return Err(Invalid("RETRY_CACHE cannot be stored"));
        }
        MappingType::RetryCache => return Ok(ty),
        MappingType::PureOverwrite if slot == Slot::Read => {
            return Err(Invalid("PURE_OVERWRITE in the read slot"));
        }
        MappingType::PureOverwrite if map.flags != 0 => {
            return Err(Invalid("PURE_OVERWRITE with flags"));
        }
        _ => {}
    }
    if map.length == 0 {
        return Err(Invalid("zero length"));
    }
    if !geo.aligned(map.offset) || !geo.aligned(map.length) {
        return Err(Invalid("offset or length not block-aligned"));
    }
    if map.offset.checked_add(map.length).is_none() {
        return Err(Invalid("offset + length overflows"));
    }
    if map.offset >= geo.maxbytes {
        return Err(Invalid("offset at or past maxbytes"));
    }
    if ty.has_storage() {
        let size = match map.dev {
            DEV_NULL => None,
            dev => devices.size(dev),
        }
        .ok_or(Invalid("device not registered"))?;
        if map.addr == NULL_ADDR {
            return Err(Invalid("mapped extent without an address"));
        }
        match map.addr.checked_add(map.length) {
            Some(end) if end <= size => {}
            _ => return Err(Invalid("extent past the end of its device")),
        }
    } else if map.dev != DEV_NULL || map.addr != NULL_ADDR {
        return Err(Invalid("extent without storage has a device or address"));
    }
    Ok(ty)
}
