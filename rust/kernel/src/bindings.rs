// SPDX-License-Identifier: GPL-2.0

//! Host stand-in for the kernel's generated `bindings`: the errno constants
//! that the logic files read from it, with the values of
//! `include/uapi/asm-generic/errno.h` (those of x86 and arm64, the hosts
//! these tests run on).

/// `EPROTO`
pub const EPROTO: u32 = 71;
/// `EOVERFLOW`
pub const EOVERFLOW: u32 = 75;
/// `EOPNOTSUPP`
pub const EOPNOTSUPP: u32 = 95;
/// `ENOTCONN`
pub const ENOTCONN: u32 = 107;
/// `EUCLEAN`
pub const EUCLEAN: u32 = 117;
/// `EHWPOISON`
pub const EHWPOISON: u32 = 133;

/// `struct lock_class_key`; the host has no lockdep.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct lock_class_key(());

/// `struct rw_semaphore`: on the host, a raw reader/writer lock.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct rw_semaphore(parking_lot::RawRwLock);

/// `__init_rwsem()`: initialises `sem`, unlocked.
///
/// # Safety
///
/// `sem` is valid for writes.
pub unsafe fn __init_rwsem(
    sem: *mut rw_semaphore,
    _name: *const core::ffi::c_char,
    _key: *mut lock_class_key,
) {
    use parking_lot::lock_api::RawRwLock;
    // SAFETY: By the safety requirements.
    unsafe { sem.write(rw_semaphore(parking_lot::RawRwLock::INIT)) };
}

/// `down_read()`.
///
/// # Safety
///
/// `sem` was initialised by `__init_rwsem` and is alive.
pub unsafe fn down_read(sem: *mut rw_semaphore) {
    use parking_lot::lock_api::RawRwLock;
    // SAFETY: By the safety requirements.
    unsafe { (*sem).0.lock_shared() }
}

/// `up_read()`.
///
/// # Safety
///
/// The caller holds `sem` for reading.
pub unsafe fn up_read(sem: *mut rw_semaphore) {
    use parking_lot::lock_api::RawRwLock;
    // SAFETY: By the safety requirements, a shared lock is held.
    unsafe { (*sem).0.unlock_shared() }
}

/// `down_write()`.
///
/// # Safety
///
/// As for [`down_read`].
pub unsafe fn down_write(sem: *mut rw_semaphore) {
    use parking_lot::lock_api::RawRwLock;
    // SAFETY: By the safety requirements.
    unsafe { (*sem).0.lock_exclusive() }
}

/// `up_write()`.
///
/// # Safety
///
/// The caller holds `sem` for writing.
pub unsafe fn up_write(sem: *mut rw_semaphore) {
    use parking_lot::lock_api::RawRwLock;
    // SAFETY: By the safety requirements, the exclusive lock is held.
    unsafe { (*sem).0.unlock_exclusive() }
}

/// `struct wait_queue_head`: on the host, a count of wake-ups, which tests
/// read.
#[allow(non_camel_case_types)]
#[repr(C)]
pub struct wait_queue_head {
    /// How many times the queue was woken.
    pub wakeups: core::sync::atomic::AtomicUsize,
}

/// `__init_waitqueue_head()`.
///
/// # Safety
///
/// `wq` is valid for writes.
pub unsafe fn __init_waitqueue_head(
    wq: *mut wait_queue_head,
    _name: *const core::ffi::c_char,
    _key: *mut lock_class_key,
) {
    // SAFETY: By the safety requirements.
    unsafe {
        wq.write(wait_queue_head {
            wakeups: core::sync::atomic::AtomicUsize::new(0),
        })
    };
}
