// SPDX-License-Identifier: GPL-2.0

//! The C integer types, as the kernel crate's `ffi` re-exports them.

pub use core::ffi::{c_char, c_int, c_long, c_uint, c_ulong, c_void};
