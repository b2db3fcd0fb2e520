// SPDX-License-Identifier: GPL-2.0

//! Error codes that the 6.12 kernel crate does not declare in `code`, from
//! the kernel's own definitions (`bindings`), whatever the architecture.

use kernel::{bindings, prelude::*};

/// The error of a positive errno constant from `bindings`.
fn from_constant(errno: u32) -> Error {
    // Errno constants are below 4096.
    Error::from_errno(-(errno as i32))
}

/// `EFSCORRUPTED`, the kernel's alias of `EUCLEAN`: a server's reply makes
/// no sense.
pub(crate) fn efscorrupted() -> Error {
    from_constant(bindings::EUCLEAN)
}

/// `ENOTCONN`: no server is connected to answer.
pub(crate) fn enotconn() -> Error {
    from_constant(bindings::ENOTCONN)
}

/// `EOPNOTSUPP`: the device has no DAX support.
pub(crate) fn eopnotsupp() -> Error {
    from_constant(bindings::EOPNOTSUPP)
}

/// `EPROTO`: the server speaks another protocol version.
pub(crate) fn eproto() -> Error {
    from_constant(bindings::EPROTO)
}

/// `EHWPOISON`: the memory behind the data failed.
pub(crate) fn ehwpoison() -> Error {
    from_constant(bindings::EHWPOISON)
}

/// `EOVERFLOW`: the caller's ids cannot be expressed in the server's user
/// namespace.
pub(crate) fn eoverflow() -> Error {
    from_constant(bindings::EOVERFLOW)
}
