// SPDX-License-Identifier: GPL-2.0

//! The `pr_*` macros. On the host they write to standard error, and only
//! when `FUSE_IOMAP_HOST_LOG` is set in the environment, so that tools and
//! tests that feed hostile input on purpose stay quiet.

#[doc(hidden)]
pub fn log(args: core::fmt::Arguments<'_>) {
    if std::env::var_os("FUSE_IOMAP_HOST_LOG").is_some() {
        eprint!("fuse_iomap: {args}");
    }
}

/// Logs an error.
#[macro_export]
macro_rules! pr_err {
    ($($arg:tt)*) => { $crate::print::log(format_args!($($arg)*)) };
}

/// Logs a warning.
#[macro_export]
macro_rules! pr_warn {
    ($($arg:tt)*) => { $crate::print::log(format_args!($($arg)*)) };
}

/// Logs an informational message.
#[macro_export]
macro_rules! pr_info {
    ($($arg:tt)*) => { $crate::print::log(format_args!($($arg)*)) };
}
