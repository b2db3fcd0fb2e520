// SPDX-License-Identifier: GPL-2.0

//! Fallible allocation: `KBox`, `KVec`, `KVVec` and the GFP flags, with the
//! 6.12 API (a `Vec` has `push`, `reserve`, `extend_from_slice`, but no
//! `insert`, `remove` or `pop`).
//!
//! For tests, [`fail_after`] makes an allocation fail on purpose, so that
//! the `ENOMEM` paths of the module's logic can be exercised.

use core::cell::Cell;
use core::ops::{Deref, DerefMut};

/// Indicates an allocation error.
#[derive(Copy, Clone, PartialEq, Eq, Debug)]
pub struct AllocError;

/// Allocation flags; the host ignores them.
#[derive(Clone, Copy, PartialEq)]
pub struct Flags(u32);

/// The GFP flags the module uses.
pub mod flags {
    use super::Flags;

    /// `GFP_KERNEL`.
    pub const GFP_KERNEL: Flags = Flags(0);
    /// `GFP_NOWAIT`.
    pub const GFP_NOWAIT: Flags = Flags(1);
    /// `GFP_KERNEL_ACCOUNT`: charged to the caller's memory cgroup.
    pub const GFP_KERNEL_ACCOUNT: Flags = Flags(2);
}

thread_local! {
    static FAIL_AFTER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// Makes the allocation after `n` more successful ones fail, once, on this
/// thread; `None` turns the injection off.
pub fn fail_after(n: Option<usize>) {
    FAIL_AFTER.with(|f| f.set(n));
}

pub(crate) fn may_allocate() -> Result<(), AllocError> {
    FAIL_AFTER.with(|f| match f.get() {
        Some(0) => {
            f.set(None);
            Err(AllocError)
        }
        Some(n) => {
            f.set(Some(n - 1));
            Ok(())
        }
        None => Ok(()),
    })
}

/// A box allocated with `kmalloc`.
#[derive(Debug)]
pub struct KBox<T>(Box<T>);

impl<T> KBox<T> {
    /// Allocates `x` in a new box.
    pub fn new(x: T, _flags: Flags) -> Result<Self, AllocError> {
        may_allocate()?;
        Ok(Self(Box::new(x)))
    }
}

impl<T> KBox<T> {
    /// Allocates the value that `init` makes in a new, pinned box.
    pub fn pin_init<E>(
        init: impl crate::init::PinInit<T, E>,
        flags: Flags,
    ) -> Result<core::pin::Pin<Self>, crate::error::Error>
    where
        crate::error::Error: From<E>,
    {
        let b = Self::new(init.__init()?, flags)?;
        // SAFETY: The value lives on the heap and the box never moves it
        // out while pinned: `KBox` gives no way to, but `DerefMut`, which
        // `Pin` guards.
        Ok(unsafe { core::pin::Pin::new_unchecked(b) })
    }
}

impl<T> Deref for KBox<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for KBox<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

/// A vector whose growth can fail, as the kernel's `Vec<T, A>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Vec<T>(std::vec::Vec<T>);

/// A vector allocated with `kmalloc`.
pub type KVec<T> = Vec<T>;
/// A vector allocated with `kvmalloc`.
pub type KVVec<T> = Vec<T>;

impl<T> Vec<T> {
    /// An empty vector; allocates nothing.
    pub const fn new() -> Self {
        Self(std::vec::Vec::new())
    }

    /// An empty vector with room for `capacity` elements.
    pub fn with_capacity(capacity: usize, flags: Flags) -> Result<Self, AllocError> {
        let mut v = Self::new();
        v.reserve(capacity, flags)?;
        Ok(v)
    }

    /// The number of elements the vector holds without growing.
    pub fn capacity(&self) -> usize {
        self.0.capacity()
    }

    /// Makes room for `additional` more elements.
    pub fn reserve(&mut self, additional: usize, _flags: Flags) -> Result<(), AllocError> {
        if self.0.capacity() - self.0.len() >= additional {
            return Ok(());
        }
        may_allocate()?;
        self.0.try_reserve(additional).map_err(|_| AllocError)
    }

    /// Appends `v`, growing the vector if needed.
    pub fn push(&mut self, v: T, flags: Flags) -> Result<(), AllocError> {
        self.reserve(1, flags)?;
        self.0.push(v);
        Ok(())
    }
}

impl<T> Vec<T> {
    /// Sets the length to `new_len`.
    ///
    /// # Safety
    ///
    /// `new_len` is at most the capacity, and the elements up to it are
    /// initialised; those past it are not dropped.
    pub unsafe fn set_len(&mut self, new_len: usize) {
        // SAFETY: By the safety requirements.
        unsafe { self.0.set_len(new_len) }
    }
}

impl<T: Clone> Vec<T> {
    /// A vector of `n` copies of `value`.
    pub fn from_elem(value: T, n: usize, flags: Flags) -> Result<Self, AllocError> {
        let mut v = Self::with_capacity(n, flags)?;
        v.0.resize(n, value);
        Ok(v)
    }

    /// Appends a copy of every element of `other`.
    pub fn extend_from_slice(&mut self, other: &[T], flags: Flags) -> Result<(), AllocError> {
        self.reserve(other.len(), flags)?;
        self.0.extend_from_slice(other);
        Ok(())
    }
}

impl<T> Default for Vec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Deref for Vec<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.0
    }
}

impl<T> DerefMut for Vec<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.0
    }
}
