// SPDX-License-Identifier: GPL-2.0

//! The primitives of the lock-free daxdev table, with the API of `loom`'s,
//! so that the host tests can model-check the table with `loom` in their
//! place (`rust/fuse_iomap`, `--cfg loom`).

pub(crate) use core::sync::atomic::{AtomicBool, Ordering};

/// A cell whose accesses go through closures, as `loom::cell::UnsafeCell`.
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

impl<T> UnsafeCell<T> {
    /// A cell holding `value`.
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` on a pointer to the value, for reading.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` on a pointer to the value, for writing.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
