// SPDX-License-Identifier: GPL-2.0

//! Host tests of the module's logic.

mod abi;
mod budget;
mod cache;
mod counters;
mod daxdev;
#[cfg(loom)]
mod daxdev_loom;
mod daxdev_name;
mod devices;
mod errno;
mod extent_tree;
mod famfs;
mod fmap;
mod fuse_abi;
mod handshake;
mod ioctl;
mod iomap;
mod iomap_begin;
mod mapping;
mod namespace;
mod notify;
mod replay;
mod request;
