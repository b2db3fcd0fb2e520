// SPDX-License-Identifier: GPL-2.0

//! Ioctl decoding of a connection.

use crate::abi;
use crate::connection::{Connection, Ioctl};
use kernel::prelude::*;

#[test]
fn version_ioctl_answers_the_abi_version() {
    let conn = Connection::new();
    assert_eq!(Ioctl::decode(abi::IOC_VERSION), Ok(Ioctl::Version));
    assert_eq!(conn.ioctl(Ioctl::Version), abi::ABI_VERSION);
}

#[test]
fn unknown_ioctls_are_enotty() {
    // Another nr, another type, another size, another direction of the
    // version ioctl, and /dev/fuse's FUSE_DEV_IOC_CLONE.
    for cmd in [
        kernel::ioctl::_IOR::<u32>(229, 0x81),
        kernel::ioctl::_IOR::<u32>(230, 0x80),
        kernel::ioctl::_IOR::<u64>(229, 0x80),
        kernel::ioctl::_IOW::<u32>(229, 0x80),
        kernel::ioctl::_IOR::<u32>(229, 0),
        0,
        u32::MAX,
    ] {
        assert_eq!(Ioctl::decode(cmd), Err(ENOTTY), "cmd {cmd:#x}");
    }
}
