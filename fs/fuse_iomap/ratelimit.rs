// SPDX-License-Identifier: GPL-2.0

//! Rate limiting of the warnings that a hostile server can provoke at will
//! (rejected mappings, fmaps, answers), so that it cannot flood the log.
//! The 6.12 kernel crate has no `pr_warn_ratelimited`; the state lives in C.

extern "C" {
    fn fuse_iomap_warn_ratelimit() -> bool;
}

/// Whether a rate-limited warning may be printed now.
pub(crate) fn allowed() -> bool {
    // SAFETY: No requirements; the rate limit state is static.
    unsafe { fuse_iomap_warn_ratelimit() }
}

/// `pr_warn!`, unless too many warnings were printed lately.
macro_rules! pr_warn_ratelimited {
    ($($arg:tt)*) => {
        if $crate::ratelimit::allowed() {
            ::kernel::pr_warn!($($arg)*);
        }
    };
}
pub(crate) use pr_warn_ratelimited;
