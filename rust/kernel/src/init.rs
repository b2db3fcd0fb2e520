// SPDX-License-Identifier: GPL-2.0

//! Initialisers: `PinInit` and the `pin_init!` macro.
//!
//! The kernel initialises a pinned structure in place, because its locks
//! and wait queues must not move once initialised. The host stand-ins of
//! those (`sync`, `types::Opaque`) may move, so here an initialiser simply
//! makes the value, which `Arc::pin_init` and `KBox::pin_init` then move
//! into place. The module's code that builds initialisers is the same on
//! both sides.

use core::convert::Infallible;

/// An initialiser of a `T` that may fail with `E`.
pub trait PinInit<T, E = Infallible>: Sized {
    /// Makes the value.
    fn __init(self) -> Result<T, E>;
}

/// An initialiser that needs no pinning: on the host, every one.
pub trait Init<T, E = Infallible>: PinInit<T, E> {}

impl<T, E, I: PinInit<T, E>> Init<T, E> for I {}

/// The initialiser that returns `f()`.
struct FromClosure<F>(F);

impl<T, E, F: FnOnce() -> Result<T, E>> PinInit<T, E> for FromClosure<F> {
    fn __init(self) -> Result<T, E> {
        (self.0)()
    }
}

/// An initialiser from a closure that makes the value.
pub fn pin_init_from_closure<T, E>(f: impl FnOnce() -> Result<T, E>) -> impl PinInit<T, E> {
    FromClosure(f)
}

/// Runs `init`; for the `pin_init!` macro.
#[doc(hidden)]
pub fn __run<T, E>(init: impl PinInit<T, E>) -> Result<T, E> {
    init.__init()
}

/// An initialiser of a structure, field by field: `field <- init` runs an
/// initialiser, `field: value` and `field` move a value in, as in the
/// kernel's macro of the same name.
#[macro_export]
macro_rules! pin_init {
    ($t:ident { $($fields:tt)* }) => {
        $crate::init::pin_init_from_closure(
            move || -> ::core::result::Result<_, ::core::convert::Infallible> {
                $crate::__pin_init_fields!($t {} $($fields)*)
            },
        )
    };
}

/// The fields of [`pin_init!`], one at a time.
#[doc(hidden)]
#[macro_export]
macro_rules! __pin_init_fields {
    ($t:ident { $($done:tt)* }) => {
        ::core::result::Result::Ok($t { $($done)* })
    };
    ($t:ident { $($done:tt)* } $f:ident <- $e:expr $(, $($rest:tt)*)?) => {
        $crate::__pin_init_fields!(
            $t { $($done)* $f: $crate::init::__run($e)?, } $($($rest)*)?
        )
    };
    ($t:ident { $($done:tt)* } $f:ident : $e:expr $(, $($rest:tt)*)?) => {
        $crate::__pin_init_fields!($t { $($done)* $f: $e, } $($($rest)*)?)
    };
    ($t:ident { $($done:tt)* } $f:ident $(, $($rest:tt)*)?) => {
        $crate::__pin_init_fields!($t { $($done)* $f, } $($($rest)*)?)
    };
}
