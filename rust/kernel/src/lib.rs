// SPDX-License-Identifier: GPL-2.0

//! Host stand-in for the subset of the Linux 6.12 `kernel` crate that the
//! logic files of `fs/fuse_iomap/` use.
//!
//! Each item has the path, name and signature of its kernel counterpart, so
//! that those files compile unchanged here. Only what they use is provided;
//! the semantics follow the kernel's (errors are negative errnos, ioctl
//! numbers use the asm-generic encoding).

pub mod alloc;
pub mod bindings;
pub mod error;
pub mod ioctl;
pub mod prelude;
pub mod print;
pub mod sync;
