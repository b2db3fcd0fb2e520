// SPDX-License-Identifier: GPL-2.0

//! The `pr_*` macros; on the host they write to standard error.

/// Prints an error message.
#[macro_export]
macro_rules! pr_err {
    ($($arg:tt)*) => { eprint!("fuse_iomap: {}", format_args!($($arg)*)) };
}

/// Prints a warning.
#[macro_export]
macro_rules! pr_warn {
    ($($arg:tt)*) => { eprint!("fuse_iomap: {}", format_args!($($arg)*)) };
}

/// Prints an informational message.
#[macro_export]
macro_rules! pr_info {
    ($($arg:tt)*) => { eprint!("fuse_iomap: {}", format_args!($($arg)*)) };
}
