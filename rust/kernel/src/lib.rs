// SPDX-License-Identifier: GPL-2.0

//! Host stand-in for the subset of the Linux 6.12 `kernel` crate that the
//! logic files of `fs/fuse_iomap/` use.
//!
//! Each item has the path, name and signature of its kernel counterpart, so
//! that those files compile unchanged here. Only what they use is provided;
//! the semantics follow the kernel's (errors are negative errnos, ioctl
//! numbers use the asm-generic encoding).
//!
//! Where the host cannot be the kernel, each module says what it does
//! instead: locks and condition variables are std's, structures are
//! initialised by value and moved into place (`init`), a task is a thread
//! that a test can signal (`task`), and user memory is a test's buffer that
//! can be made to fault (`uaccess`).

pub mod alloc;
pub mod bindings;
pub mod error;
pub mod ffi;
pub mod init;
pub mod ioctl;
pub mod prelude;
pub mod print;
pub mod rbtree;
pub mod str;
pub mod sync;
pub mod task;
pub mod types;
pub mod uaccess;
