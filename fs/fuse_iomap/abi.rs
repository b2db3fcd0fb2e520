// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI: the Rust mirror of `include/uapi/linux/fuse_iomap.h`.
//!
//! Each item names its C counterpart so that a reader can grep both worlds.
//! The host tests and the selftests check that both agree.

use kernel::ioctl::_IOR;

/// Name of the device node under `/dev` (`FUSE_IOMAP_DEV_NAME`).
pub(crate) const DEV_NAME: &str = "fuse-iomap";

/// Version of the ABI (`FUSE_IOMAP_ABI_VERSION`).
pub(crate) const ABI_VERSION: u32 = 1;

/// The ioctl type, fuse's own (`FUSE_IOMAP_IOC_MAGIC`).
const IOC_MAGIC: u32 = 229;

/// Read the ABI version as a `u32` (`FUSE_IOMAP_IOC_VERSION`).
pub(crate) const IOC_VERSION: u32 = _IOR::<u32>(IOC_MAGIC, 0x80);
