// SPDX-License-Identifier: GPL-2.0

//! `ioctl()` numbers, with the asm-generic encoding of
//! `include/uapi/asm-generic/ioctl.h` that x86 uses.

#![allow(non_snake_case)]

const NRSHIFT: u32 = 0;
const TYPESHIFT: u32 = 8;
const SIZESHIFT: u32 = 16;
const DIRSHIFT: u32 = 30;
const NONE: u32 = 0;
const WRITE: u32 = 1;
const READ: u32 = 2;

const fn _IOC(dir: u32, ty: u32, nr: u32, size: usize) -> u32 {
    assert!(ty <= 0xff && nr <= 0xff && size < (1 << 14));
    (dir << DIRSHIFT) | (ty << TYPESHIFT) | (nr << NRSHIFT) | ((size as u32) << SIZESHIFT)
}

/// Builds the number of an ioctl without argument.
pub const fn _IO(ty: u32, nr: u32) -> u32 {
    _IOC(NONE, ty, nr, 0)
}

/// Builds the number of an ioctl that copies a `T` out to userspace.
pub const fn _IOR<T>(ty: u32, nr: u32) -> u32 {
    _IOC(READ, ty, nr, core::mem::size_of::<T>())
}

/// Builds the number of an ioctl that copies a `T` in from userspace.
pub const fn _IOW<T>(ty: u32, nr: u32) -> u32 {
    _IOC(WRITE, ty, nr, core::mem::size_of::<T>())
}

/// Builds the number of an ioctl that copies a `T` in and back out.
pub const fn _IOWR<T>(ty: u32, nr: u32) -> u32 {
    _IOC(READ | WRITE, ty, nr, core::mem::size_of::<T>())
}
