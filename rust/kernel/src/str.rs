// SPDX-License-Identifier: GPL-2.0

//! NUL-terminated strings: `CStr` and `c_str!`.

use crate::ffi::c_char;

/// A NUL-terminated string without interior NUL, as the kernel's `CStr`.
#[repr(transparent)]
pub struct CStr(core::ffi::CStr);

/// A byte slice that is no NUL-terminated string.
#[derive(Debug)]
pub struct CStrConvertError;

impl CStr {
    /// The string `bytes` holds: `bytes` must end with its only NUL.
    pub fn from_bytes_with_nul(bytes: &[u8]) -> Result<&Self, CStrConvertError> {
        let s = core::ffi::CStr::from_bytes_with_nul(bytes).map_err(|_| CStrConvertError)?;
        // SAFETY: `CStr` is a transparent wrapper of `core::ffi::CStr`.
        Ok(unsafe { &*(s as *const core::ffi::CStr as *const Self) })
    }

    /// A pointer to the string, for C.
    pub fn as_char_ptr(&self) -> *const c_char {
        self.0.as_ptr()
    }

    /// The string's bytes, without the NUL.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.to_bytes()
    }
}

/// A `&'static CStr` of a string literal.
#[macro_export]
macro_rules! c_str {
    ($s:literal) => {
        match $crate::str::CStr::from_bytes_with_nul(concat!($s, "\0").as_bytes()) {
            Ok(s) => s,
            Err(_) => panic!("c_str! of a literal with a NUL"),
        }
    };
}
