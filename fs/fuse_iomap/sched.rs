// SPDX-License-Identifier: GPL-2.0

//! Scheduling: long loops let others run, as the kernel's `cond_resched()`,
//! which the 6.12 kernel crate does not wrap. Without preemption, a loop
//! over thousands of inodes or a gigabyte of copying would otherwise hold
//! its CPU until the soft-lockup detector fires.

extern "C" {
    fn fuse_iomap_cond_resched();
}

/// Lets other tasks run if one is waiting. Only from process context, with
/// no spinlock held.
pub(crate) fn cond_resched() {
    // SAFETY: Process context, by the function's contract.
    unsafe { fuse_iomap_cond_resched() }
}
