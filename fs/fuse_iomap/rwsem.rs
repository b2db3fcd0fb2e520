// SPDX-License-Identifier: GPL-2.0

//! A reader/writer semaphore around data: for the mapping cache (lookups
//! share it, changes hold it alone), the lifetime of the daxdev table, and
//! a connection's BPF table.
//!
//! The 6.12 kernel crate's locks have one kind of guard, so this wraps
//! `struct rw_semaphore` directly. Each use site gets its own lockdep class
//! the kernel's way: [`new_rwsem!`](crate::new_rwsem) declares a static
//! `lock_class_key` where it is expanded, as `init_rwsem()` does in C, so
//! that lockdep tells a BPF table's semaphore (held while a program's kfunc
//! runs) from the inode semaphore that the kfunc takes.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use kernel::{
    bindings,
    ffi::{c_char, c_void},
    prelude::*,
    str::CStr,
    sync::LockClassKey,
    types::Opaque,
};

extern "C" {
    /// `key` is a `struct lock_class_key *`, declared `void *` here: without
    /// lockdep the struct is empty, which Rust refuses across FFI.
    fn fuse_iomap_init_rwsem(
        sem: *mut bindings::rw_semaphore,
        name: *const c_char,
        key: *mut c_void,
    );
}

/// A [`RwSem`] around `data`, named `name` for lockdep, with a lock class of
/// its own for this use site.
#[macro_export]
macro_rules! new_rwsem {
    ($data:expr, $name:literal) => {
        $crate::rwsem::RwSem::new(
            $data,
            ::kernel::c_str!($name),
            ::kernel::static_lock_class!(),
        )
    };
}

/// Data of type `T` behind a `struct rw_semaphore`.
///
/// # Invariants
///
/// `sem` is initialised; `data` is read only under `sem` held for reading
/// or writing, and written only under `sem` held for writing.
#[pin_data]
pub(crate) struct RwSem<T> {
    #[pin]
    sem: Opaque<bindings::rw_semaphore>,
    data: UnsafeCell<T>,
}

// SAFETY: Moving the semaphore to another thread moves `data` with it.
unsafe impl<T: Send> Send for RwSem<T> {}
// SAFETY: Readers share `&T` across threads and writers get `&mut T` one at
// a time, so `T` must be `Send` and `Sync`.
unsafe impl<T: Send + Sync> Sync for RwSem<T> {}

impl<T> RwSem<T> {
    /// A semaphore, unlocked, around `data`, of lock class `key`; see
    /// [`new_rwsem!`](crate::new_rwsem).
    pub(crate) fn new(
        data: T,
        name: &'static CStr,
        key: &'static LockClassKey,
    ) -> impl PinInit<Self> {
        // `LockClassKey` is a `#[repr(transparent)]` wrapper of an
        // `Opaque<lock_class_key>`, whose own pointer accessor is private to
        // the kernel crate.
        let key = (key as *const LockClassKey).cast_mut().cast::<c_void>();
        pin_init!(Self {
            data: UnsafeCell::new(data),
            // SAFETY: `slot` is valid for writes, and pinned for as long as
            // the semaphore lives; `name` and `key` are static.
            sem <- Opaque::ffi_init(|slot| unsafe {
                fuse_iomap_init_rwsem(slot, name.as_char_ptr(), key)
            }),
        })
    }

    /// Takes the semaphore shared; may sleep.
    pub(crate) fn read(&self) -> ReadGuard<'_, T> {
        // SAFETY: `sem` is initialised by the type invariant.
        unsafe { bindings::down_read(self.sem.get()) };
        ReadGuard(self)
    }

    /// Takes the semaphore exclusively; may sleep.
    pub(crate) fn write(&self) -> WriteGuard<'_, T> {
        // SAFETY: `sem` is initialised by the type invariant.
        unsafe { bindings::down_write(self.sem.get()) };
        WriteGuard(self)
    }
}

/// Shared access to the data of a [`RwSem`], released on drop.
#[must_use = "the semaphore is released when the guard is dropped"]
pub(crate) struct ReadGuard<'a, T>(&'a RwSem<T>);

impl<T> Deref for ReadGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The semaphore is held for reading while the guard lives.
        unsafe { &*self.0.data.get() }
    }
}

impl<T> Drop for ReadGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Taken for reading by `RwSem::read`.
        unsafe { bindings::up_read(self.0.sem.get()) };
    }
}

/// Exclusive access to the data of a [`RwSem`], released on drop.
#[must_use = "the semaphore is released when the guard is dropped"]
pub(crate) struct WriteGuard<'a, T>(&'a RwSem<T>);

impl<T> Deref for WriteGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: The semaphore is held for writing while the guard lives.
        unsafe { &*self.0.data.get() }
    }
}

impl<T> DerefMut for WriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: The semaphore is held for writing, by this guard alone.
        unsafe { &mut *self.0.data.get() }
    }
}

impl<T> Drop for WriteGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: Taken for writing by `RwSem::write`.
        unsafe { bindings::up_write(self.0.sem.get()) };
    }
}
