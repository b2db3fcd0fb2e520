// SPDX-License-Identifier: GPL-2.0

//! Synchronisation: the kernel crate's reference-counted `Arc`, whose
//! allocation can fail, its `ArcBorrow`, and `Mutex` and `CondVar` with
//! their constructor macros.
//!
//! The locks are std's. An interruptible wait wakes every few milliseconds
//! to look for a signal sent by a test (`task::signal`); like the kernel's,
//! any wait may return without a notification, so callers wait in a loop.

use crate::alloc::{may_allocate, AllocError, Flags};
use crate::error::Error;
use crate::init::{pin_init_from_closure, PinInit};
use crate::str::CStr;
use core::convert::Infallible;
use core::ops::{Deref, DerefMut};
use std::time::Duration;

/// A reference-counted pointer, as the kernel's `Arc<T>`.
pub struct Arc<T>(std::sync::Arc<T>);

impl<T> Arc<T> {
    /// Allocates `x` behind a new reference count.
    pub fn new(x: T, _flags: Flags) -> Result<Self, AllocError> {
        may_allocate()?;
        Ok(Self(std::sync::Arc::new(x)))
    }

    /// Allocates the value that `init` makes behind a new reference count.
    pub fn pin_init<E>(init: impl PinInit<T, E>, flags: Flags) -> Result<Self, Error>
    where
        Error: From<E>,
    {
        let x = init.__init()?;
        Ok(Self::new(x, flags)?)
    }

    /// Gives the reference up as a raw pointer, for C.
    pub fn into_raw(this: Self) -> *const T {
        std::sync::Arc::into_raw(this.0)
    }

    /// Takes back a reference given up by [`Arc::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Arc::into_raw`], and its reference is given back
    /// once.
    pub unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: By the safety requirements.
        Self(unsafe { std::sync::Arc::from_raw(ptr) })
    }

    /// Whether both point to the same allocation.
    pub fn ptr_eq(this: &Self, other: &Self) -> bool {
        std::sync::Arc::ptr_eq(&this.0, &other.0)
    }
}

impl<T> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// A borrowed reference of an [`Arc`], as the kernel's `ArcBorrow`.
pub struct ArcBorrow<'a, T>(&'a T);

impl<T> Clone for ArcBorrow<'_, T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for ArcBorrow<'_, T> {}

impl<T> ArcBorrow<'_, T> {
    /// The borrow of the reference that `ptr` stands for.
    ///
    /// # Safety
    ///
    /// `ptr` came from [`Arc::into_raw`] and its reference is held for the
    /// whole borrow.
    pub unsafe fn from_raw(ptr: *const T) -> Self {
        // SAFETY: By the safety requirements, `ptr` points to a live value.
        Self(unsafe { &*ptr })
    }
}

impl<T> Deref for ArcBorrow<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.0
    }
}

/// A lockdep class; the host has no lockdep.
pub struct LockClassKey(());

impl LockClassKey {
    /// A class.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Self(())
    }
}

/// A lock class of its own for the place where it is expanded.
#[macro_export]
macro_rules! static_lock_class {
    () => {{
        static CLASS: $crate::sync::LockClassKey = $crate::sync::LockClassKey::new();
        &CLASS
    }};
}

/// The name of a lock: the one given, or none.
#[doc(hidden)]
#[macro_export]
macro_rules! optional_name {
    () => {
        $crate::c_str!("")
    };
    ($name:literal) => {
        $crate::c_str!($name)
    };
}

/// A mutual exclusion lock around data, as the kernel's `Mutex<T>`.
pub struct Mutex<T>(std::sync::Mutex<T>);

/// A held [`Mutex`]: access to its data until dropped.
pub struct Guard<'a, T> {
    /// Taken out only while a condition variable waits.
    guard: Option<std::sync::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    /// An initialiser of a mutex around `t`; see [`new_mutex!`].
    pub fn new(t: T, _name: &'static CStr, _key: &'static LockClassKey) -> impl PinInit<Self> {
        pin_init_from_closure(move || -> Result<Self, Infallible> {
            Ok(Self(std::sync::Mutex::new(t)))
        })
    }

    /// Takes the lock; may sleep.
    pub fn lock(&self) -> Guard<'_, T> {
        Guard {
            guard: Some(self.0.lock().unwrap_or_else(|e| e.into_inner())),
        }
    }
}

impl<T> Deref for Guard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.guard.as_ref().expect("a held lock")
    }
}

impl<T> DerefMut for Guard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.guard.as_mut().expect("a held lock")
    }
}

/// A mutex around a value, with the lock class of its use site.
#[macro_export]
macro_rules! new_mutex {
    ($inner:expr $(, $name:literal)? $(,)?) => {
        $crate::sync::Mutex::new(
            $inner,
            $crate::optional_name!($($name)?),
            $crate::static_lock_class!(),
        )
    };
}

/// How often an interruptible wait looks for a signal.
const SIGNAL_POLL: Duration = Duration::from_millis(2);

/// A condition variable, as the kernel's `CondVar`.
pub struct CondVar(std::sync::Condvar);

impl CondVar {
    /// An initialiser of a condition variable; see [`new_condvar!`].
    pub fn new(_name: &'static CStr, _key: &'static LockClassKey) -> impl PinInit<Self> {
        pin_init_from_closure(|| -> Result<Self, Infallible> {
            Ok(Self(std::sync::Condvar::new()))
        })
    }

    fn wait_for<T>(&self, guard: &mut Guard<'_, T>, timeout: Option<Duration>) {
        let held = guard.guard.take().expect("a held lock");
        guard.guard = Some(match timeout {
            Some(t) => {
                self.0
                    .wait_timeout(held, t)
                    .unwrap_or_else(|e| e.into_inner())
                    .0
            }
            None => self.0.wait(held).unwrap_or_else(|e| e.into_inner()),
        });
    }

    /// Releases the lock and sleeps until notified, then takes it again.
    pub fn wait<T>(&self, guard: &mut Guard<'_, T>) {
        self.wait_for(guard, None);
    }

    /// As [`CondVar::wait`], but a signal ends the wait too; returns whether
    /// a signal is pending.
    pub fn wait_interruptible<T>(&self, guard: &mut Guard<'_, T>) -> bool {
        if !crate::current!().signal_pending() {
            self.wait_for(guard, Some(SIGNAL_POLL));
        }
        crate::current!().signal_pending()
    }

    /// Wakes every waiter.
    pub fn notify_all(&self) {
        self.0.notify_all();
    }

    /// Wakes one waiter.
    pub fn notify_one(&self) {
        self.0.notify_one();
    }
}

/// A condition variable with the lock class of its use site.
#[macro_export]
macro_rules! new_condvar {
    ($($name:literal)?) => {
        $crate::sync::CondVar::new($crate::optional_name!($($name)?), $crate::static_lock_class!())
    };
}
