// SPDX-License-Identifier: GPL-2.0

//! Where things are on the device:
//!
//! ```text
//! block 0                  the superblock
//! blocks 1 ..              two metadata slots, each half of the rest of
//!                          the metadata region (1/64 of the device, at
//!                          least 1 MiB)
//! blocks meta_blocks ..    file data
//! ```
//!
//! Metadata is written to the slot not in use, then the superblock is
//! pointed at it: a crash leaves the old or the new metadata, whole.

use super::BLOCK;
use crate::bytes::checksum;
use nix::errno::Errno;

/// "fuse_iomap disk", version 1.
pub const MAGIC: [u8; 8] = *b"FIOMAPDK";
pub const VERSION: u32 = 1;
/// The smallest metadata region.
const MIN_META: u64 = 1 << 20;
/// The bytes of the superblock that are used.
const SB_LEN: usize = 72;

/// The device's geometry, in blocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub device_blocks: u64,
    /// The superblock and both slots: data starts here.
    pub meta_blocks: u64,
}

impl Layout {
    /// The layout of a fresh file system on `bytes` of device; `ENOSPC` if
    /// the device has no room for data past the metadata.
    pub fn for_device(bytes: u64) -> Result<Self, Errno> {
        let device_blocks = bytes / BLOCK;
        let meta_blocks = (bytes / 64).max(MIN_META).div_ceil(BLOCK) | 1;
        if device_blocks <= meta_blocks {
            return Err(Errno::ENOSPC);
        }
        Ok(Self {
            device_blocks,
            meta_blocks,
        })
    }

    /// The bytes one metadata slot holds.
    pub fn slot_bytes(&self) -> u64 {
        (self.meta_blocks - 1) / 2 * BLOCK
    }

    /// The device byte address of slot `slot` (0 or 1).
    pub fn slot_addr(&self, slot: u32) -> u64 {
        BLOCK + u64::from(slot) * self.slot_bytes()
    }
}

/// The superblock: the layout and which slot holds the metadata.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Superblock {
    pub layout: Layout,
    pub slot: u32,
    /// Bumped by every write of the metadata.
    pub sequence: u64,
    pub meta_len: u64,
    pub meta_sum: u64,
}

/// The error of a device that does not hold this file system, for the
/// message that says so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadSuper {
    Magic,
    Version(u32),
    Corrupt,
}

impl std::fmt::Display for BadSuper {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Magic => write!(
                f,
                "no fuse_iomap disk file system (bad magic); use --format"
            ),
            Self::Version(v) => write!(f, "file system version {v}, this server knows {VERSION}"),
            Self::Corrupt => write!(f, "the superblock is corrupt"),
        }
    }
}

impl Superblock {
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(BLOCK as usize);
        b.extend_from_slice(&MAGIC);
        b.extend_from_slice(&VERSION.to_le_bytes());
        b.extend_from_slice(&(BLOCK as u32).to_le_bytes());
        b.extend_from_slice(&self.layout.device_blocks.to_le_bytes());
        b.extend_from_slice(&self.layout.meta_blocks.to_le_bytes());
        b.extend_from_slice(&self.slot.to_le_bytes());
        b.extend_from_slice(&0u32.to_le_bytes());
        b.extend_from_slice(&self.sequence.to_le_bytes());
        b.extend_from_slice(&self.meta_len.to_le_bytes());
        b.extend_from_slice(&self.meta_sum.to_le_bytes());
        let sum = checksum(&b);
        b.extend_from_slice(&sum.to_le_bytes());
        b.resize(BLOCK as usize, 0);
        b
    }

    /// Reads a superblock of a device of `device_bytes`.
    pub fn decode(b: &[u8], device_bytes: u64) -> Result<Self, BadSuper> {
        if b.len() < SB_LEN || b[..8] != MAGIC {
            return Err(BadSuper::Magic);
        }
        let u32_at = |o: usize| u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(u32_at(o)) | u64::from(u32_at(o + 4)) << 32;
        if u32_at(8) != VERSION {
            return Err(BadSuper::Version(u32_at(8)));
        }
        let sb = Self {
            layout: Layout {
                device_blocks: u64_at(16),
                meta_blocks: u64_at(24),
            },
            slot: u32_at(32),
            sequence: u64_at(40),
            meta_len: u64_at(48),
            meta_sum: u64_at(56),
        };
        let sane = checksum(&b[..64]) == u64_at(64)
            && u64::from(u32_at(12)) == BLOCK
            && sb.slot < 2
            && sb.layout.meta_blocks >= 3
            && sb.layout.meta_blocks < sb.layout.device_blocks
            && sb.layout.device_blocks <= device_bytes / BLOCK
            && sb.meta_len <= sb.layout.slot_bytes();
        if !sane {
            return Err(BadSuper::Corrupt);
        }
        Ok(sb)
    }
}
