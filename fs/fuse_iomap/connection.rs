// SPDX-License-Identifier: GPL-2.0

//! A connection: the state behind one open file of `/dev/fuse-iomap`, and the
//! decoding of the ioctls issued on it.

use crate::abi;
use kernel::prelude::*;

/// An ioctl of `include/uapi/linux/fuse_iomap.h`, decoded from its number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ioctl {
    /// `FUSE_IOMAP_IOC_VERSION`: copy [`abi::ABI_VERSION`] out as a `u32`.
    Version,
}

impl Ioctl {
    /// Decodes an ioctl number; one this module does not know is `ENOTTY`,
    /// as for every character device.
    pub(crate) fn decode(cmd: u32) -> Result<Self> {
        match cmd {
            abi::IOC_VERSION => Ok(Self::Version),
            _ => Err(ENOTTY),
        }
    }
}

/// The state of one connection, created by `open` and dropped by `release`.
pub(crate) struct Connection;

impl Connection {
    /// Creates the state of a newly opened connection.
    pub(crate) fn new() -> Self {
        Self
    }

    /// The value an ioctl copies out to userspace.
    pub(crate) fn ioctl(&self, cmd: Ioctl) -> u32 {
        match cmd {
            Ioctl::Version => abi::ABI_VERSION,
        }
    }
}
