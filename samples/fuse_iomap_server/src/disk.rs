// SPDX-License-Identifier: GPL-2.0

//! An extent-mapped "disk file": `blocks` blocks in extents of
//! `extent_blocks`, each mapped on device `DEV` with a gap after it, so
//! that no two extents merge in the kernel's cache and every extent is one
//! record and, on a miss, one upcall.

use crate::uapi::*;
use crate::BLOCK_SIZE;

/// The device cookie the server registers.
pub const DEV: u32 = 1;

/// The device's size: room for every extent and its gap.
pub fn dev_size(blocks: u64) -> u64 {
    2 * blocks * BLOCK_SIZE
}

/// The disk file.
pub struct Disk {
    pub nodeid: u64,
    pub blocks: u64,
    pub extent_blocks: u64,
}

impl Disk {
    /// The mapping of the extent that holds file offset `pos`; a hole past
    /// the end of the file.
    pub fn mapping(&self, pos: u64) -> fuse_iomap_io {
        let block = pos / BLOCK_SIZE;
        if block >= self.blocks {
            return hole(pos);
        }
        let first = block / self.extent_blocks * self.extent_blocks;
        let len = self.extent_blocks.min(self.blocks - first) * BLOCK_SIZE;
        fuse_iomap_io {
            offset: first * BLOCK_SIZE,
            length: len,
            addr: 2 * first * BLOCK_SIZE,
            type_: FUSE_IOMAP_TYPE_MAPPED as u16,
            flags: 0,
            dev: DEV,
        }
    }

    /// Every extent, in file order.
    pub fn extents(&self) -> impl Iterator<Item = fuse_iomap_io> + '_ {
        (0..self.blocks)
            .step_by(self.extent_blocks as usize)
            .map(|b| self.mapping(b * BLOCK_SIZE))
    }
}

/// A hole of one block, the one that holds `pos`.
pub fn hole(pos: u64) -> fuse_iomap_io {
    fuse_iomap_io {
        offset: pos / BLOCK_SIZE * BLOCK_SIZE,
        length: BLOCK_SIZE,
        // `~0ULL`, which bindgen types as an int.
        addr: FUSE_IOMAP_NULL_ADDR as u64,
        type_: FUSE_IOMAP_TYPE_HOLE as u16,
        ..Default::default()
    }
}

/// The upsert notification of `read`, for file `nodeid`.
pub fn upsert(nodeid: u64, read: fuse_iomap_io) -> fuse_iomap_upsert_mappings_out {
    fuse_iomap_upsert_mappings_out {
        nodeid,
        attr_ino: nodeid,
        read,
        write: fuse_iomap_io {
            type_: FUSE_IOMAP_TYPE_NOCACHE as u16,
            ..Default::default()
        },
    }
}
