// SPDX-License-Identifier: GPL-2.0

//! The device table.

use crate::devices::{Bdev, DeviceTable, MAX_DEVICES};
use crate::mapping::Devices;
use kernel::error::code::{EEXIST, EINVAL, ENOSPC};

#[test]
fn registers_and_finds_devices() {
    let mut t = DeviceTable::new();
    t.add(1, 4096).unwrap();
    t.add(u32::MAX, 1 << 40).unwrap();
    assert_eq!(t.size(1), Some(4096));
    assert_eq!(t.size(u32::MAX), Some(1 << 40));
    assert_eq!(t.size(2), None);
    assert_eq!(t.size(0), None);
}

#[test]
fn rejects_null_duplicate_and_too_many() {
    let mut t = DeviceTable::new();
    assert_eq!(t.add(0, 4096), Err(EINVAL));
    t.add(7, 4096).unwrap();
    assert_eq!(t.add(7, 8192), Err(EEXIST));
    assert_eq!(t.size(7), Some(4096));
    for dev in 100..100 + MAX_DEVICES as u32 - 1 {
        t.add(dev, 1).unwrap();
    }
    assert_eq!(t.add(1000, 1), Err(ENOSPC));
}

#[test]
fn block_devices_get_the_first_free_cookie() {
    let mut t = DeviceTable::new();
    t.add(1, 4096).unwrap();
    t.add(3, 4096).unwrap();
    let bdev = Bdev(8 as *mut core::ffi::c_void);
    assert_eq!(t.add_bdev(1 << 20, bdev), Ok(2));
    assert_eq!(t.add_bdev(1 << 20, bdev), Ok(4));
    assert_eq!(t.size(2), Some(1 << 20));
    assert_eq!(t.bdev(2), Some(bdev));
    // A cookie registered without a block device has none to do I/O on.
    assert_eq!(t.bdev(1), None);
    assert_eq!(t.bdev(5), None);
}
