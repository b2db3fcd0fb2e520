// SPDX-License-Identifier: GPL-2.0

//! The logic files of `fs/fuse_iomap/`, compiled unchanged on the host.
//!
//! Every file is listed here but the crate root (`main.rs`) and the entry
//! points that C calls for the device node (`dev.rs`) and the file system
//! (`vfs.rs`, `vfs_iomap.rs`). They talk to the kernel through `rust/kernel`,
//! a stand-in for the kernel crate's subset that they use, and to the C glue
//! through [`glue`], stand-ins for the glue's functions. The tests live
//! beside, in `src/tests/`.
//!
//! Host-only: [`replay`], [`workload`] and [`fmap_tool`] (the logic of the
//! tools in `tools/fuse_iomap/`), [`fmap_build`] (writes GET_FMAP replies)
//! and [`bench`] (the benchmarks' access to the cache).
//!
//! Items that only the kernel-only files use look dead to a plain build of
//! this crate, so dead-code warnings are kept for the test build alone: there
//! they flag what neither the module's tests nor the module would miss.

#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/abi.rs"]
pub(crate) mod abi;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/counters.rs"]
pub(crate) mod counters;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/daxdev.rs"]
pub(crate) mod daxdev;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/daxdev_name.rs"]
pub(crate) mod daxdev_name;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/devices.rs"]
pub(crate) mod devices;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/ioctl.rs"]
pub(crate) mod ioctl;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/notify.rs"]
pub(crate) mod notify;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/ratelimit.rs"]
pub(crate) mod ratelimit;

#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/budget.rs"]
pub(crate) mod budget;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/cache.rs"]
pub(crate) mod cache;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/errno.rs"]
pub(crate) mod errno;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/extent_tree.rs"]
pub(crate) mod extent_tree;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/famfs.rs"]
pub(crate) mod famfs;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/famfs_iomap.rs"]
pub(crate) mod famfs_iomap;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/fmap.rs"]
pub(crate) mod fmap;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/fuse_abi.rs"]
pub(crate) mod fuse_abi;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/handshake.rs"]
pub(crate) mod handshake;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/iomap.rs"]
pub(crate) mod iomap;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/iomap_begin.rs"]
pub(crate) mod iomap_begin;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/mapping.rs"]
pub(crate) mod mapping;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/msgbuf.rs"]
pub(crate) mod msgbuf;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/namespace.rs"]
pub(crate) mod namespace;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/refbits.rs"]
pub(crate) mod refbits;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/request.rs"]
pub(crate) mod request;

#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/backing.rs"]
pub(crate) mod backing;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/bpf.rs"]
pub(crate) mod bpf;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/channel.rs"]
pub(crate) mod channel;
// `connection.rs` has modules of its own, in `connection/`. Loaded by
// name from a module whose directory is `fs/fuse_iomap/`, rather than by a
// path of its own, it finds them there, as in the kernel's build.
#[path = "../../../fs/fuse_iomap"]
mod module_dir {
    #[cfg_attr(not(test), allow(dead_code))]
    pub(crate) mod connection;
}
#[cfg_attr(not(test), allow(unused_imports))]
pub(crate) use module_dir::connection;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/dax.rs"]
pub(crate) mod dax;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/daxdevs.rs"]
pub(crate) mod daxdevs;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/inode.rs"]
pub(crate) mod inode;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/namespaces.rs"]
pub(crate) mod namespaces;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/plain.rs"]
pub(crate) mod plain;
// The host's `struct rw_semaphore` is a parking_lot lock that no C ever
// sees, so its layout need not be C's.
#[allow(improper_ctypes)]
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/rwsem.rs"]
pub(crate) mod rwsem;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/sched.rs"]
pub(crate) mod sched;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/waitqueue.rs"]
pub(crate) mod waitqueue;

// The daxdev table's primitives: the module's own, or loom's when the host
// tests model-check it (`--cfg loom`).
#[cfg(not(loom))]
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/sync.rs"]
pub(crate) mod sync;
#[cfg(loom)]
pub(crate) mod sync {
    pub(crate) use loom::cell::UnsafeCell;
    pub(crate) use loom::sync::atomic::{AtomicBool, Ordering};
}

/// A budget without a limit, for host code that models inodes without a
/// connection. Host-only: it panics if allocation failure is being
/// injected at that moment.
pub(crate) fn unbounded_budget() -> kernel::sync::Arc<budget::Budget> {
    kernel::sync::Arc::new(budget::Budget::new(usize::MAX), kernel::prelude::GFP_KERNEL)
        .expect("a host allocation")
}

#[cfg_attr(not(test), allow(dead_code))]
mod glue;

pub mod bench;
pub mod fmap_build;
pub mod fmap_tool;
pub mod replay;
pub mod workload;

#[cfg(test)]
mod tests;
