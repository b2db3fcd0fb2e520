// SPDX-License-Identifier: GPL-2.0

//! Host stand-ins for the module's C glue (`fs/fuse_iomap/*_glue.c`), so
//! that the Rust files that call into it compile unchanged and run in host
//! tests: the channel, the connection, reply dispatch, daxdev discovery,
//! famfs reads and the BPF slot.
//!
//! Each function has the name and signature of its C counterpart and does
//! what a test needs of it, no more: the scheduler and the rate limit do
//! nothing, wait queues count their wake-ups, the current task's ids and
//! capability are per thread and set by the test ([`Task`]), and block,
//! DAX and backing devices are the test's memory ([`pmem`]). BPF programs
//! are Rust functions ([`bpf`]).

use crate::request::Creds;
use core::ffi::{c_char, c_int, c_void};
use core::ptr::NonNull;
use core::sync::atomic::Ordering;
use kernel::bindings;
use std::cell::Cell;

pub(crate) mod bpf;
pub(crate) mod msgbuf;
pub(crate) mod pmem;

/// The current thread's task as the glue sees it: its ids in the
/// connection's namespaces (`None`: they have no mapping there) and whether
/// it has `CAP_SYS_RAWIO`.
#[derive(Clone, Copy)]
pub(crate) struct Task {
    pub(crate) creds: Option<Creds>,
    pub(crate) rawio: bool,
}

thread_local! {
    static TASK: Cell<Task> = const {
        Cell::new(Task {
            creds: Some(Creds { uid: 0, gid: 0, pid: 1 }),
            rawio: true,
        })
    };
}

/// Makes the current thread the task `task`.
pub(crate) fn set_task(task: Task) {
    TASK.with(|t| t.set(task));
}

#[no_mangle]
extern "C" fn fuse_iomap_warn_ratelimit() -> bool {
    true
}

#[no_mangle]
extern "C" fn fuse_iomap_cond_resched() {
    std::thread::yield_now();
}

/// # Safety
///
/// `wq` is valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_init_waitqueue(wq: *mut bindings::wait_queue_head) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::__init_waitqueue_head(wq, core::ptr::null(), core::ptr::null_mut()) };
}

/// # Safety
///
/// `wq` was initialised by [`fuse_iomap_init_waitqueue`] and is alive.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_wake_poll(wq: *mut bindings::wait_queue_head) {
    // SAFETY: By the safety requirements.
    unsafe { (*wq).wakeups.fetch_add(1, Ordering::Relaxed) };
}

/// # Safety
///
/// `sem` is valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_init_rwsem(
    sem: *mut bindings::rw_semaphore,
    name: *const c_char,
    key: *mut bindings::lock_class_key,
) {
    // SAFETY: By the safety requirements.
    unsafe { bindings::__init_rwsem(sem, name, key) };
}

/// # Safety
///
/// Both pointers are valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_get_namespaces(
    user_ns: *mut *mut c_void,
    pid_ns: *mut *mut c_void,
) {
    // SAFETY: By the safety requirements. The host's namespaces are tokens
    // that nothing dereferences.
    unsafe {
        user_ns.write(NonNull::dangling().as_ptr());
        pid_ns.write(NonNull::dangling().as_ptr());
    }
}

#[no_mangle]
extern "C" fn fuse_iomap_put_namespaces(_user_ns: *mut c_void, _pid_ns: *mut c_void) {}

/// # Safety
///
/// The id pointers are valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_current_creds(
    _user_ns: *mut c_void,
    _pid_ns: *mut c_void,
    uid: *mut u32,
    gid: *mut u32,
    pid: *mut u32,
) -> bool {
    let Some(creds) = TASK.with(|t| t.get()).creds else {
        return false;
    };
    // SAFETY: By the safety requirements.
    unsafe {
        uid.write(creds.uid);
        gid.write(creds.gid);
        pid.write(creds.pid);
    }
    true
}

#[no_mangle]
extern "C" fn fuse_iomap_capable_rawio() -> bool {
    TASK.with(|t| t.get()).rawio
}

/// The host has no file descriptors to open a backing device by: every
/// `FUSE_IOMAP_IOC_BACKING_OPEN` fails with `EBADF`, as for a closed fd.
#[no_mangle]
extern "C" fn fuse_iomap_backing_get(
    _fd: c_int,
    _bdev: *mut *mut c_void,
    _size: *mut u64,
) -> *mut c_void {
    kernel::error::to_err_ptr(kernel::error::code::EBADF)
}

/// Nothing to put: [`fuse_iomap_backing_get`] opens no file.
#[no_mangle]
extern "C" fn fuse_iomap_glue_fput(_file: *mut c_void) {}
