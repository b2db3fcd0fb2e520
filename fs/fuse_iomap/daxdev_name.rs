// SPDX-License-Identifier: GPL-2.0

//! A `GET_DAXDEV` answer, checked: which block device the server names.
//!
//! The famfs series names a daxdev by path, which the kernel resolves with
//! `kern_path()`; John Groves' reply on the list (seed `004_…`) proposes a
//! device number in the reserved space of `fuse_daxdev_out` instead. Both
//! are taken here. A number needs no path walk in the kernel, cannot mean
//! another device in another mount namespace, and leaves no window between
//! a check and an open: the kernel prefers it. A path is kept for servers
//! that speak the series' protocol; it is resolved once, in the answering
//! server's task, to a number (see `dax::resolve_path`). From then on the
//! kernel knows the device only by number.

use crate::abi::DaxdevOut;
use crate::fmap::MAX_DAXDEVS;
use kernel::prelude::*;

/// The device a `GET_DAXDEV` answer names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DaxdevName<'a> {
    /// A kernel `dev_t` (`MKDEV(major, minor)`).
    Dev(u32),
    /// A path, with its terminating NUL, to resolve in the server's task.
    Path(&'a [u8]),
}

/// Bits of a kernel `dev_t`'s minor number (`MINORBITS`).
const MINOR_BITS: u32 = 20;

/// The kernel `dev_t` of a device number as userspace writes it
/// (`st_rdev`, glibc's `makedev()`: the minor's low 8 bits, then 12 bits
/// of major, then the rest of the minor, then the rest of the major), or
/// `None` for a number the kernel cannot represent (a major of 4096 or
/// more, a minor of 2^20 or more).
pub(crate) fn kernel_dev(dev: u64) -> Option<u32> {
    let major = ((dev >> 32) & 0xffff_f000) | ((dev >> 8) & 0xfff);
    let minor = ((dev >> 12) & 0xffff_ff00) | (dev & 0xff);
    if major >= 1 << (32 - MINOR_BITS) || minor >= 1 << MINOR_BITS {
        return None;
    }
    // Both fit in their fields, checked just above.
    Some(((major as u32) << MINOR_BITS) | minor as u32)
}

/// The major and minor numbers of a kernel `dev_t`, for messages.
pub(crate) fn major_minor(dev: u32) -> (u32, u32) {
    (dev >> MINOR_BITS, dev & ((1 << MINOR_BITS) - 1))
}

/// Checks a `GET_DAXDEV` answer: `EINVAL` for an index of 24 or more,
/// nonzero reserved fields, a number the kernel cannot represent, a number
/// together with a name, or no number and no NUL-terminated, non-empty
/// name.
pub(crate) fn parse(answer: &DaxdevOut) -> Result<DaxdevName<'_>> {
    if u32::from(answer.index) >= MAX_DAXDEVS
        || answer.reserved != 0
        || answer.reserved2 != 0
        || answer.reserved4 != 0
    {
        return Err(EINVAL);
    }
    if answer.dev != 0 {
        return match (answer.name[0], kernel_dev(answer.dev)) {
            (0, Some(dev)) if dev != 0 => Ok(DaxdevName::Dev(dev)),
            _ => Err(EINVAL),
        };
    }
    match answer.name.iter().position(|&b| b == 0) {
        Some(len) if len > 0 => Ok(DaxdevName::Path(&answer.name[..=len])),
        _ => Err(EINVAL),
    }
}
