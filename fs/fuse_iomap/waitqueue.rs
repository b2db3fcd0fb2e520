// SPDX-License-Identifier: GPL-2.0

//! A wait queue for `poll(2)` on the server's file.
//!
//! The kernel crate's `CondVar` keeps its wait queue to itself, and 6.12 has
//! no poll abstraction, so the channel keeps this one beside its condition
//! variables and wakes it whenever the file becomes readable or dead. The
//! C glue initialises it (its lockdep class is declared at that call site),
//! registers it with `poll_wait()` and wakes it.

use kernel::{bindings, prelude::*, types::Opaque};

extern "C" {
    fn fuse_iomap_init_waitqueue(wq: *mut bindings::wait_queue_head);
    fn fuse_iomap_wake_poll(wq: *mut bindings::wait_queue_head);
}

/// A `struct wait_queue_head` that pollers sleep on.
#[pin_data]
pub(crate) struct PollQueue {
    #[pin]
    wq: Opaque<bindings::wait_queue_head>,
}

// SAFETY: A wait queue head is made to be used from any thread; its own
// spinlock serialises every access.
unsafe impl Send for PollQueue {}
// SAFETY: As above.
unsafe impl Sync for PollQueue {}

impl PollQueue {
    /// An empty wait queue.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; init_waitqueue_head() fully
            // initialises it, and it stays pinned.
            wq <- Opaque::ffi_init(|slot| unsafe { fuse_iomap_init_waitqueue(slot) }),
        })
    }

    /// The wait queue, for `poll_wait()`.
    pub(crate) fn as_ptr(&self) -> *mut bindings::wait_queue_head {
        self.wq.get()
    }

    /// Wakes the pollers.
    pub(crate) fn wake(&self) {
        // SAFETY: The wait queue was initialised by `new` and is pinned.
        unsafe { fuse_iomap_wake_poll(self.wq.get()) };
    }
}
