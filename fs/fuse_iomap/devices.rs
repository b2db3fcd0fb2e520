// SPDX-License-Identifier: GPL-2.0

//! The devices a connection registered, by cookie: what a mapped extent may
//! point into.
//!
//! The table is a small fixed array, so that a connection can hand a copy
//! of it to each upsert without holding its own lock while the inode's
//! cache is changed.
//!
//! A device registered with `FUSE_IOMAP_IOC_BACKING_OPEN` also has a block
//! device, which the mount's I/O goes to; one registered with
//! `FUSE_IOMAP_IOC_ADD_DEVICE` has only a cookie and a size, for the
//! cache's tests, and I/O through it fails.

use crate::abi::DEV_NULL;
use crate::mapping::Devices;
use kernel::prelude::*;

/// The most devices one connection may register.
pub(crate) const MAX_DEVICES: usize = 64;

/// A block device (`struct block_device *`) that the connection holds
/// open, for as long as the connection lives; null for none.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bdev(pub(crate) *mut core::ffi::c_void);

// SAFETY: `Bdev` is an address that only the C glue dereferences, while the
// connection that holds the device open lives; it carries no thread-bound
// state.
unsafe impl Send for Bdev {}
// SAFETY: As above: sharing the address shares nothing else.
unsafe impl Sync for Bdev {}

impl Bdev {
    /// No block device.
    pub(crate) const NONE: Self = Self(core::ptr::null_mut());
}

/// A registered device.
#[derive(Clone, Copy)]
struct Device {
    cookie: u32,
    size: u64,
    bdev: Bdev,
}

/// A connection's devices, in registration order.
#[derive(Clone)]
pub(crate) struct DeviceTable {
    devices: [Device; MAX_DEVICES],
    len: usize,
}

impl DeviceTable {
    /// An empty table.
    pub(crate) const fn new() -> Self {
        Self {
            devices: [Device {
                cookie: DEV_NULL,
                size: 0,
                bdev: Bdev::NONE,
            }; MAX_DEVICES],
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
        self.push(Device {
            cookie: dev,
            size,
            bdev: Bdev::NONE,
        })
    }

    /// Registers block device `bdev` of `size` bytes under the smallest
    /// cookie not yet taken, and returns it; `ENOSPC` past [`MAX_DEVICES`].
    pub(crate) fn add_bdev(&mut self, size: u64, bdev: Bdev) -> Result<u32> {
        let cookie = (1..=u32::MAX)
            .find(|&c| self.size(c).is_none())
            .ok_or(ENOSPC)?;
        self.push(Device { cookie, size, bdev })?;
        Ok(cookie)
    }

    fn push(&mut self, device: Device) -> Result {
        let slot = self.devices.get_mut(self.len).ok_or(ENOSPC)?;
        *slot = device;
        self.len += 1;
        Ok(())
    }

    fn find(&self, dev: u32) -> Option<&Device> {
        self.devices[..self.len].iter().find(|d| d.cookie == dev)
    }

    /// The block device of cookie `dev`, if it has one.
    pub(crate) fn bdev(&self, dev: u32) -> Option<Bdev> {
        self.find(dev).map(|d| d.bdev).filter(|b| *b != Bdev::NONE)
    }
}

impl Devices for DeviceTable {
    fn size(&self, dev: u32) -> Option<u64> {
        self.find(dev).map(|d| d.size)
    }
}
