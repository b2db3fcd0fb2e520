// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of the uapi header agrees with the header itself.

use crate::abi;
use core::ffi::CStr;

extern "C" {
    static uapi_dev_name: [u8; 11];
    static uapi_abi_version: u32;
    static uapi_ioc_version: u32;
}

#[test]
fn device_name_matches_the_header() {
    // SAFETY: A NUL-terminated array defined in uapi.c.
    let name = CStr::from_bytes_with_nul(unsafe { &uapi_dev_name }).unwrap();
    assert_eq!(name.to_str().unwrap(), abi::DEV_NAME);
}

#[test]
fn abi_version_matches_the_header() {
    // SAFETY: A constant defined in uapi.c.
    assert_eq!(unsafe { uapi_abi_version }, abi::ABI_VERSION);
}

#[test]
fn ioctl_numbers_match_the_header() {
    // SAFETY: A constant defined in uapi.c.
    assert_eq!(unsafe { uapi_ioc_version }, abi::IOC_VERSION);
}
