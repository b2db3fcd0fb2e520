// SPDX-License-Identifier: GPL-2.0

//! The ABI, generated from `include/uapi/linux/fuse_iomap.h` by `build.rs`,
//! and the ioctls the server issues.

// Generated code: its names are C's, and bindgen's helpers carry no safety docs.
#![allow(non_camel_case_types, non_upper_case_globals, dead_code)]
#![allow(clippy::missing_safety_doc)]

include!(concat!(env!("OUT_DIR"), "/uapi.rs"));

/// `FUSE_IOMAP_IOC_MAGIC`, as the ioctl macros want it.
const MAGIC: u8 = FUSE_IOMAP_IOC_MAGIC as u8;

nix::ioctl_write_ptr!(add_device, MAGIC, 0x82, fuse_iomap_ioc_device);
nix::ioctl_none!(new_client, MAGIC, 0x8f);
nix::ioctl_readwrite!(iomap_begin, MAGIC, 0x88, fuse_iomap_ioc_begin);
nix::ioctl_read!(counters, MAGIC, 0x94, fuse_iomap_counters);
nix::ioctl_write_ptr!(iomap_end, MAGIC, 0x91, fuse_iomap_ioc_end);
nix::ioctl_readwrite!(iomap_ioend, MAGIC, 0x92, fuse_iomap_ioc_ioend);
nix::ioctl_write_ptr!(backing_open, MAGIC, 0x95, fuse_iomap_backing_map);
