// SPDX-License-Identifier: GPL-2.0

//! Kernel errors: a negative errno, as in `include/uapi/asm-generic/errno*.h`.

use core::fmt;
use core::num::NonZeroI32;

/// A kernel error code.
///
/// # Invariants
///
/// The value is a negative errno in `-4095..0`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Error(NonZeroI32);

/// `Result` with [`Error`] as its error, as in the kernel crate.
pub type Result<T = (), E = Error> = core::result::Result<T, E>;

macro_rules! declare_errors {
    ($($name:ident = $errno:literal,)*) => {
        /// The error codes the 6.12 kernel crate declares (a subset), named
        /// as in C.
        pub mod code {
            $(
                #[doc = concat!("`", stringify!($name), "`")]
                pub const $name: super::Error = super::Error::from_const($errno);
            )*
        }
    };
}

declare_errors! {
    EPERM = 1,
    ENOENT = 2,
    EINTR = 4,
    EIO = 5,
    ENXIO = 6,
    E2BIG = 7,
    EBADF = 9,
    EAGAIN = 11,
    ENOMEM = 12,
    EACCES = 13,
    EFAULT = 14,
    ENOTBLK = 15,
    EBUSY = 16,
    EEXIST = 17,
    ENODEV = 19,
    EINVAL = 22,
    ENOTTY = 25,
    ENOSPC = 28,
    ERANGE = 34,
    ERESTARTSYS = 512,
}

/// Names of the errnos the module returns, for `errname()`.
const NAMES: [(i32, &str); 26] = [
    (1, "EPERM"),
    (2, "ENOENT"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (9, "EBADF"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (19, "ENODEV"),
    (22, "EINVAL"),
    (25, "ENOTTY"),
    (28, "ENOSPC"),
    (34, "ERANGE"),
    (71, "EPROTO"),
    (75, "EOVERFLOW"),
    (95, "EOPNOTSUPP"),
    (107, "ENOTCONN"),
    (117, "EUCLEAN"),
    (133, "EHWPOISON"),
    (512, "ERESTARTSYS"),
];

impl Error {
    /// The C name of the error (`"EINVAL"`), as the kernel's `errname()`.
    pub fn name(&self) -> Option<&'static str> {
        let errno = -self.0.get();
        NAMES.iter().find(|(e, _)| *e == errno).map(|(_, n)| *n)
    }
}

impl Error {
    const fn from_const(errno: i32) -> Self {
        match NonZeroI32::new(-errno) {
            // INVARIANT: every errno of `code` is in 1..4096.
            Some(e) => Self(e),
            None => panic!("errno 0"),
        }
    }

    /// Creates an error from a negative errno; an out-of-range value is
    /// `EINVAL`, as in the kernel.
    pub fn from_errno(errno: i32) -> Self {
        match NonZeroI32::new(errno) {
            // INVARIANT: checked to be in range.
            Some(e) if errno >= -4095 => Self(e),
            _ => code::EINVAL,
        }
    }

    /// The negative errno.
    pub fn to_errno(self) -> i32 {
        self.0.get()
    }
}

impl From<core::convert::Infallible> for Error {
    fn from(e: core::convert::Infallible) -> Self {
        match e {}
    }
}

/// The result of a C function that returns 0 or a negative errno.
pub fn to_result(err: crate::ffi::c_int) -> Result {
    if err < 0 {
        Err(Error::from_errno(err))
    } else {
        Ok(())
    }
}

/// The pointer a C function returned, or the errno it encodes (`ERR_PTR`).
pub fn from_err_ptr<T>(ptr: *mut T) -> Result<*mut T> {
    let value = ptr as isize;
    if (-4095..0).contains(&value) {
        // The range checked just above fits an `i32`.
        Err(Error::from_errno(value as i32))
    } else {
        Ok(ptr)
    }
}

/// The `ERR_PTR` of `err`, as a C function returns it; for the host's
/// stand-ins of the C glue.
pub fn to_err_ptr<T>(err: Error) -> *mut T {
    err.to_errno() as isize as *mut T
}

impl From<crate::alloc::AllocError> for Error {
    fn from(_: crate::alloc::AllocError) -> Self {
        code::ENOMEM
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "Error({})", self.0.get()),
        }
    }
}
