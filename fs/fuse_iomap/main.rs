// SPDX-License-Identifier: GPL-2.0

//! fuse_iomap: a Rust reference of the kernel half of fuse iomap and famfs.
//!
//! Supported features:
//!
//! - the device node `/dev/fuse-iomap`, one connection per open file, which
//!   is the server's channel, framed like `/dev/fuse` (requests, replies,
//!   notifications, the `FUSE_INIT` and `FUSE_IOMAP_CONFIG` handshake);
//! - client handles of a connection, on which tests play the VFS, and the
//!   connection's counters;
//! - `FUSE_IOMAP_IOC_VERSION`, the ABI version of `include/uapi/linux/fuse_iomap.h`;
//! - per-inode iomap mapping caches (read and write forks of extent B+trees,
//!   validity cookies, a size limit), filled by the server's upsert and
//!   invalidate notifications, and `iomap_begin` from the cache or a
//!   `FUSE_IOMAP_BEGIN` upcall;
//! - the file system type `fuse_iomap`, mounted on a server's open device
//!   file: its namespace from `include/uapi/linux/fuse.h` requests, its
//!   file data through the kernel's iomap library (buffered and direct
//!   I/O, writeback, mmap, fiemap, `SEEK_DATA`/`SEEK_HOLE`) on the block
//!   devices the server registered, where `iomap_begin` says;
//! - famfs: `GET_FMAP` replies validated and resolved (simple and
//!   interleaved extents), a file fenced by a bad resolution, the daxdev
//!   table (24 slots published with Release/Acquire, filled lazily from the
//!   server's `GET_DAXDEV` answers), and reads through the fmap and
//!   `dax_direct_access` on a real pmem device;
//! - famfs files on the mount: with `FUSE_DAX_FMAP` negotiated, regular
//!   files are DAX files, opened with `GET_FMAP`, whose reads, writes and
//!   mmap faults (PTE and PMD, `MAP_SYNC`) go through the kernel's DAX
//!   library to where the fmap says, with no upcall.
//!
//! The module file holds the module and its registration only; each concept
//! lives in a file named after it. The files that hold logic (see
//! `rust/fuse_iomap/src/lib.rs`) are also compiled, unchanged, by the host
//! crate for tests and benchmarks.

use kernel::prelude::*;

mod abi;
mod backing;
mod bpf;
mod budget;
mod cache;
mod channel;
mod connection;
mod counters;
mod dax;
mod daxdev;
mod daxdev_name;
mod daxdevs;
mod dev;
mod devices;
mod errno;
mod extent_tree;
mod famfs;
mod famfs_iomap;
mod fmap;
mod fuse_abi;
mod handshake;
mod inode;
mod ioctl;
mod iomap;
mod iomap_begin;
mod iov;
mod mapping;
mod msgbuf;
mod namespace;
mod namespaces;
mod notify;
mod plain;
mod ratelimit;
mod refbits;
mod request;
mod rwsem;
mod sched;
mod sync;
mod vfs;
mod vfs_classic;
mod vfs_famfs;
mod vfs_iomap;
mod waitqueue;

module! {
    type: FuseIomapModule,
    name: "fuse_iomap",
    author: "fuse-iomap-ref developers",
    description: "Reference kernel half of fuse iomap and famfs",
    license: "GPL",
}

/// The loaded module: holds the file system type's, the device node's and
/// BPF's registrations, dropped in that order.
struct FuseIomapModule {
    _vfs: vfs::Registration,
    _dev: dev::Registration,
    _bpf: bpf::Registration,
}

impl kernel::Module for FuseIomapModule {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let bpf = bpf::Registration::new()?;
        let dev = dev::Registration::new()?;
        let vfs = vfs::Registration::new()?;
        pr_info!(
            "registered /dev/{} (misc minor {}), ABI version {}\n",
            abi::DEV_NAME,
            dev.minor(),
            abi::ABI_VERSION
        );
        Ok(Self {
            _vfs: vfs,
            _dev: dev,
            _bpf: bpf,
        })
    }
}

impl Drop for FuseIomapModule {
    fn drop(&mut self) {
        pr_info!("unloading\n");
    }
}
