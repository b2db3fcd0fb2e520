// SPDX-License-Identifier: GPL-2.0

//! A reader/writer semaphore around data: for the mapping cache (lookups
//! share it, changes hold it alone), the lifetime of the daxdev table, and
//! a connection's BPF table.
//!
//! The 6.12 kernel crate's locks have one kind of guard, so this wraps
//! `struct rw_semaphore` directly; its initialisation goes through C
//! (`fuse_iomap_init_rwsem`), which gives each [`Class`] its own lockdep
//! class: a BPF program holds the BPF table's semaphore while its kfunc
//! takes an inode's.

use core::cell::UnsafeCell;
use core::ops::{Deref, DerefMut};
use kernel::{bindings, ffi::c_int, prelude::*, types::Opaque};

extern "C" {
    fn fuse_iomap_init_rwsem(sem: *mut bindings::rw_semaphore, class: c_int);
}

/// What a semaphore guards, for lockdep (`enum fuse_iomap_rwsem_class`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Class {
    /// An inode's mapping cache.
    Cache = 0,
    /// A connection's daxdev table.
    Daxdevs = 1,
    /// A connection's BPF table.
    Bpf = 2,
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
    /// A semaphore, unlocked, around `data`.
    pub(crate) fn new(data: T, class: Class) -> impl PinInit<Self> {
        pin_init!(Self {
            data: UnsafeCell::new(data),
            // SAFETY: `slot` is valid for writes, and pinned for as long as
            // the semaphore lives.
            sem <- Opaque::ffi_init(|slot| unsafe { fuse_iomap_init_rwsem(slot, class as c_int) }),
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
