// SPDX-License-Identifier: GPL-2.0

//! Error codes that the 6.12 kernel crate does not declare in `code`.

use kernel::prelude::*;

/// `EFSCORRUPTED`, the kernel's alias of `EUCLEAN` (117): a server's reply
/// makes no sense.
pub(crate) fn efscorrupted() -> Error {
    Error::from_errno(-117)
}

/// `ENOTCONN` (107): no server is connected to answer.
pub(crate) fn enotconn() -> Error {
    Error::from_errno(-107)
}

/// `EOPNOTSUPP` (95): the device has no DAX support.
pub(crate) fn eopnotsupp() -> Error {
    Error::from_errno(-95)
}

/// `EPROTO` (71): the server speaks another protocol version.
pub(crate) fn eproto() -> Error {
    Error::from_errno(-71)
}

/// `EHWPOISON` (133): the memory behind the data failed.
pub(crate) fn ehwpoison() -> Error {
    Error::from_errno(-133)
}
