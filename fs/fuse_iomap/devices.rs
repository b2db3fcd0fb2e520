// SPDX-License-Identifier: GPL-2.0

//! The devices a connection registered, by cookie: what a mapped extent may
//! point into.
//!
//! The table is a small fixed array, so that a connection can hand a copy
//! of it to each upsert without holding its own lock while the inode's
//! cache is changed.

use crate::abi::DEV_NULL;
use crate::mapping::Devices;
use kernel::prelude::*;

/// The most devices one connection may register.
pub(crate) const MAX_DEVICES: usize = 64;

/// A connection's devices: cookie and size in bytes, in registration order.
#[derive(Clone)]
pub(crate) struct DeviceTable {
    devices: [(u32, u64); MAX_DEVICES],
    len: usize,
}

impl DeviceTable {
    /// An empty table.
    pub(crate) const fn new() -> Self {
        Self {
            devices: [(DEV_NULL, 0); MAX_DEVICES],
            len: 0,
        }
    }

    /// Registers device `dev` of `size` bytes: `EINVAL` for the null
    /// cookie, `EEXIST` for a cookie already registered, `ENOSPC` past
    /// [`MAX_DEVICES`].
    pub(crate) fn add(&mut self, dev: u32, size: u64) -> Result {
        if dev == DEV_NULL {
            return Err(EINVAL);
        }
        if self.size(dev).is_some() {
            return Err(EEXIST);
        }
        let slot = self.devices.get_mut(self.len).ok_or(ENOSPC)?;
        *slot = (dev, size);
        self.len += 1;
        Ok(())
    }
}

impl Devices for DeviceTable {
    fn size(&self, dev: u32) -> Option<u64> {
        self.devices[..self.len]
            .iter()
            .find(|(d, _)| *d == dev)
            .map(|&(_, size)| size)
    }
}
