// SPDX-License-Identifier: GPL-2.0

//! Host tests of the module's logic.

mod abi;
mod bpf;
mod budget;
mod cache;
mod channel;
mod classic;
mod connection;
mod counters;
mod daxdev;
#[cfg(loom)]
mod daxdev_loom;
mod daxdev_name;
mod daxdevs;
mod devices;
mod errno;
mod extent_tree;
mod famfs;
mod famfs_bpf;
mod famfs_iomap;
mod fmap;
mod fuse_abi;
mod handshake;
mod harness;
mod ioctl;
mod iomap;
mod iomap_begin;
mod mapping;
mod namespace;
mod namespace_requests;
mod notify;
mod replay;
mod request;
mod server_write;
