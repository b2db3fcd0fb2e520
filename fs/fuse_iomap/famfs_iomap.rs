// SPDX-License-Identifier: GPL-2.0

//! famfs files whose DAX mappings come from `iomap_begin` instead of the
//! fmap: the mount option `famfs_resolve=iomap`.
//!
//! famfs resolves every fault in the kernel, from the file's fmap
//! (`fmap.rs`). The fuse-iomap series offers another way to keep the server
//! off the fault path: a BPF program that answers `iomap_begin`. So that
//! the two can be measured against each other, and against a server asked
//! on every fault, a mount may send its famfs files' `iomap_begin` down the
//! channel's path: the BPF program, then `FUSE_IOMAP_BEGIN`. The file is
//! still opened with `GET_FMAP`, which names its devices (claimed as for
//! any famfs file), but its mappings are the answers, with these rules:
//!
//! - an answer's `dev` names a daxdev by its index plus one (0 is
//!   `FUSE_IOMAP_DEV_NULL`, no device, in every mapping), and is validated
//!   against the daxdev table like any mapping against its devices
//!   (`Devices for Daxdevs`);
//! - no mapping cache: a cache holds mappings onto registered block
//!   devices, whose cookies are not daxdev indices, so a `RETRY_CACHE`
//!   answer is refused, as for any operation that may not use the cache;
//! - only `MAPPED` storage and holes: a hole cannot be written (`ENOSPC`,
//!   as past the end of an fmap: famfs does not allocate on write), and
//!   `UNWRITTEN`, `DELALLOC` or a write destination apart from the source
//!   need an allocation or a copy that DAX files do not have (`EIO`);
//! - the mapping's offset and address are page-aligned: the DAX library
//!   turns them into page offsets;
//! - `FUSE_IOMAP_END` is never sent: a DAX copy or fault leaves nothing for
//!   the server to finish.

use crate::abi::MappingType;
use crate::dax::PAGE_SIZE;
use crate::famfs::DaxExtent;
use crate::fmap::{Rejected, Resolved};
use crate::iomap_begin::Answer;
use kernel::prelude::*;

/// Where a mount's famfs files get their DAX mappings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) enum FamfsResolve {
    /// From the file's fmap, in the kernel, as famfs does.
    #[default]
    Fmap,
    /// From `iomap_begin`: the server's BPF program, or `FUSE_IOMAP_BEGIN`.
    Iomap,
}

impl FamfsResolve {
    /// The value `v` of the option's constant table in `vfs_glue.c`.
    pub(crate) fn from_opt(v: u32) -> Option<Self> {
        match v {
            0 => Some(Self::Fmap),
            1 => Some(Self::Iomap),
            _ => None,
        }
    }
}

/// The daxdev index of a mapping's `dev` (the index plus one); `None` for
/// `DEV_NULL`.
pub(crate) fn daxdev_index(dev: u32) -> Option<u32> {
    dev.checked_sub(1)
}

fn rejected(error: Error, reason: &'static str) -> Rejected {
    Rejected { error, reason }
}

/// The extent at `pos` of `answer`, an `iomap_begin` answer for a read or,
/// with `write`, a write at `pos`, by the rules of this file. The answer
/// was validated where it came from, and contains `pos`.
pub(crate) fn dax_extent(answer: &Answer, pos: u64, write: bool) -> Result<DaxExtent, Rejected> {
    if answer.write.is_some() {
        return Err(rejected(EIO, "a write destination apart from its source"));
    }
    let m = &answer.read;
    // Validated: `m` contains `pos` and does not overflow.
    let length = m.offset + m.length - pos;
    match MappingType::from_raw(m.r#type) {
        Some(MappingType::Hole) if write => Err(rejected(ENOSPC, "a write into a hole")),
        Some(MappingType::Hole) => Ok(DaxExtent::Hole(length)),
        Some(MappingType::Mapped) if m.offset % PAGE_SIZE != 0 || m.addr % PAGE_SIZE != 0 => {
            Err(rejected(EIO, "offset or address not page-aligned"))
        }
        Some(MappingType::Mapped) => Ok(DaxExtent::Mapped(Resolved {
            dev_index: daxdev_index(m.dev).ok_or(rejected(EIO, "storage without a device"))?,
            dev_offset: m.addr + (pos - m.offset),
            length,
        })),
        _ => Err(rejected(EIO, "a mapping type DAX files do not have")),
    }
}
