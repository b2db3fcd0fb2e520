// SPDX-License-Identifier: GPL-2.0

//! Host stand-in for the kernel's generated `bindings`: the errno constants
//! that the logic files read from it, with the values of
//! `include/uapi/asm-generic/errno.h` (those of x86 and arm64, the hosts
//! these tests run on).

/// `EPROTO`
pub const EPROTO: u32 = 71;
/// `EOVERFLOW`
pub const EOVERFLOW: u32 = 75;
/// `EOPNOTSUPP`
pub const EOPNOTSUPP: u32 = 95;
/// `ENOTCONN`
pub const ENOTCONN: u32 = 107;
/// `EUCLEAN`
pub const EUCLEAN: u32 = 117;
/// `EHWPOISON`
pub const EHWPOISON: u32 = 133;
