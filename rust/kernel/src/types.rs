// SPDX-License-Identifier: GPL-2.0

//! Types shared with C: `Opaque`, and the marker traits of plain data that
//! may be copied from and to user memory.

use crate::init::{pin_init_from_closure, PinInit};
use core::cell::UnsafeCell;
use core::convert::Infallible;
use core::mem::MaybeUninit;

/// A value that C initialises and works on, as the kernel's `Opaque<T>`.
#[repr(transparent)]
pub struct Opaque<T>(UnsafeCell<MaybeUninit<T>>);

impl<T> Opaque<T> {
    /// An initialiser that lets `init_func` initialise the value through a
    /// raw pointer to it.
    ///
    /// On the host the value is initialised and then moved into place: the
    /// host's C stand-ins keep nothing that points into it.
    pub fn ffi_init(init_func: impl FnOnce(*mut T)) -> impl PinInit<Self> {
        pin_init_from_closure(move || -> Result<Self, Infallible> {
            let slot = Self(UnsafeCell::new(MaybeUninit::uninit()));
            init_func(slot.get());
            Ok(slot)
        })
    }

    /// A raw pointer to the value.
    pub const fn get(&self) -> *mut T {
        UnsafeCell::raw_get(&self.0).cast::<T>()
    }
}

/// Types for which any bit pattern is a valid value.
///
/// # Safety
///
/// All bit patterns must be valid for this type.
pub unsafe trait FromBytes {}

/// Types whose every byte is initialised (no padding).
///
/// # Safety
///
/// Values of this type may not contain uninitialised bytes.
pub unsafe trait AsBytes {}

macro_rules! impl_plain {
    ($($t:ty),*) => {
        $(
            // SAFETY: Integers have no padding and any bit pattern is valid.
            unsafe impl FromBytes for $t {}
            // SAFETY: As above.
            unsafe impl AsBytes for $t {}
        )*
    };
}

impl_plain!(u8, u16, u32, u64, usize, i8, i16, i32, i64, isize);

// SAFETY: An array of plain data is plain data.
unsafe impl<T: FromBytes, const N: usize> FromBytes for [T; N] {}
// SAFETY: As above.
unsafe impl<T: AsBytes, const N: usize> AsBytes for [T; N] {}
