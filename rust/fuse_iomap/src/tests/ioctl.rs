// SPDX-License-Identifier: GPL-2.0

//! Ioctl decoding.

use crate::abi;
use crate::ioctl::Ioctl;
use kernel::ioctl::{_IOR, _IOW, _IOWR};
use kernel::prelude::*;

#[test]
fn every_ioctl_decodes() {
    for (cmd, ioctl) in [
        (abi::IOC_VERSION, Ioctl::Version),
        (abi::IOC_CONFIG, Ioctl::Config),
        (abi::IOC_ADD_DEVICE, Ioctl::AddDevice),
        (abi::IOC_UPSERT, Ioctl::Upsert),
        (abi::IOC_INVAL, Ioctl::Inval),
        (abi::IOC_LOOKUP, Ioctl::Lookup),
        (abi::IOC_DUMP, Ioctl::Dump),
        (abi::IOC_FORGET, Ioctl::Forget),
        (abi::IOC_BEGIN, Ioctl::Begin),
        (abi::IOC_VALID, Ioctl::Valid),
        (abi::IOC_FAMFS_SET_FMAP, Ioctl::FamfsSetFmap),
        (abi::IOC_FAMFS_RESOLVE, Ioctl::FamfsResolve),
        (abi::IOC_FAMFS_INFO, Ioctl::FamfsInfo),
        (abi::IOC_FAMFS_DAXDEV, Ioctl::FamfsDaxdev),
        (abi::IOC_FAMFS_READ, Ioctl::FamfsRead),
        (abi::IOC_CLIENT, Ioctl::Client),
        (abi::IOC_OPEN, Ioctl::Open),
        (abi::IOC_END, Ioctl::End),
        (abi::IOC_IOEND, Ioctl::Ioend),
        (abi::IOC_SETSIZE, Ioctl::Setsize),
        (abi::IOC_COUNTERS, Ioctl::Counters),
    ] {
        assert_eq!(Ioctl::decode(cmd), Ok(ioctl));
    }
}

#[test]
fn a_client_handle_cannot_play_the_server() {
    let server_only = [
        Ioctl::Config,
        Ioctl::AddDevice,
        Ioctl::Upsert,
        Ioctl::Inval,
        Ioctl::FamfsSetFmap,
        Ioctl::FamfsDaxdev,
        Ioctl::Client,
    ];
    for ioctl in server_only {
        assert!(!ioctl.for_client(), "{ioctl:?}");
    }
    for ioctl in [
        Ioctl::Version,
        Ioctl::Lookup,
        Ioctl::Dump,
        Ioctl::Forget,
        Ioctl::Begin,
        Ioctl::Valid,
        Ioctl::FamfsResolve,
        Ioctl::FamfsInfo,
        Ioctl::FamfsRead,
        Ioctl::Open,
        Ioctl::End,
        Ioctl::Ioend,
        Ioctl::Setsize,
        Ioctl::Counters,
    ] {
        assert!(ioctl.for_client(), "{ioctl:?}");
    }
}

#[test]
fn unknown_ioctls_are_enotty() {
    // Another nr, another type, another size, another direction of a known
    // ioctl, and /dev/fuse's FUSE_DEV_IOC_CLONE.
    for cmd in [
        _IOR::<u32>(229, 0x8f),
        _IOR::<u32>(230, 0x80),
        _IOR::<u64>(229, 0x80),
        _IOW::<u32>(229, 0x80),
        _IOWR::<abi::IocLookup>(229, 0x86),
        _IOW::<u32>(229, 0x87),
        _IOR::<u32>(229, 0),
        0,
        u32::MAX,
    ] {
        assert_eq!(Ioctl::decode(cmd), Err(ENOTTY), "cmd {cmd:#x}");
    }
}
