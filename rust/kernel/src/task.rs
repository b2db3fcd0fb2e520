// SPDX-License-Identifier: GPL-2.0

//! The current task, as far as the module asks about it: whether a signal
//! is pending.
//!
//! On the host a task is a thread. A test sends a "signal" to a thread with
//! [`signal`]; it stays pending until [`clear_signal`], as a signal stays
//! pending in the kernel until the task returns to user space. Interruptible
//! waits (`sync::CondVar`) notice it within a few milliseconds.

use std::collections::HashSet;
use std::sync::Mutex;
use std::thread::ThreadId;

static PENDING: Mutex<Option<HashSet<ThreadId>>> = Mutex::new(None);

/// A task: on the host, the current thread.
pub struct Task(());

static CURRENT: Task = Task(());

impl Task {
    /// The current task.
    pub fn current() -> &'static Task {
        &CURRENT
    }

    /// Whether a signal is pending for the current task.
    pub fn signal_pending(&self) -> bool {
        let id = std::thread::current().id();
        lock().as_ref().is_some_and(|p| p.contains(&id))
    }
}

fn lock() -> std::sync::MutexGuard<'static, Option<HashSet<ThreadId>>> {
    PENDING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Makes a signal pending for thread `id`.
pub fn signal(id: ThreadId) {
    lock().get_or_insert_with(HashSet::new).insert(id);
}

/// Clears the current thread's pending signal.
pub fn clear_signal() {
    let id = std::thread::current().id();
    if let Some(p) = lock().as_mut() {
        p.remove(&id);
    }
}

/// The current task, as the kernel's `current!()`.
#[macro_export]
macro_rules! current {
    () => {
        $crate::task::Task::current()
    };
}
