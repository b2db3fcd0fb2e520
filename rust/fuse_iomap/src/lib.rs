// SPDX-License-Identifier: GPL-2.0

//! The logic files of `fs/fuse_iomap/`, compiled unchanged on the host.
//!
//! Only files that talk to the kernel through the `kernel` crate subset of
//! `rust/kernel` are listed here; the crate root (`main.rs`), the objects
//! that hold kernel locks (`connection.rs`, `channel.rs`, `inode.rs`,
//! `rwsem.rs`) and the glue to C (`dev.rs`) are kernel-only. The tests live beside, in `src/tests/`.
//!
//! Host-only: [`replay`] and [`fmap_tool`] (the logic of the tools in
//! `tools/fuse_iomap/`), [`fmap_build`] (writes GET_FMAP replies) and
//! [`bench`] (the benchmarks' access to the cache).
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

/// Host stand-in for the C glue's rate limit (`dev_glue.c`): no limit, so
/// that `ratelimit.rs` compiles unchanged and tests see every warning.
#[no_mangle]
extern "C" fn fuse_iomap_warn_ratelimit() -> bool {
    true
}
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
#[path = "../../../fs/fuse_iomap/namespace.rs"]
pub(crate) mod namespace;
#[cfg_attr(not(test), allow(dead_code))]
#[path = "../../../fs/fuse_iomap/request.rs"]
pub(crate) mod request;

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

pub mod bench;
pub mod fmap_build;
pub mod fmap_tool;
pub mod replay;

#[cfg(test)]
mod tests;
