// SPDX-License-Identifier: GPL-2.0

//! SIGTERM and SIGINT: the server stores its metadata before it goes.
//!
//! The handler only sets a flag, which the serving loop checks before each
//! read of a request; installed without `SA_RESTART`, the signal also
//! interrupts a read that waits (`EINTR`), so the loop sees it at once.

use nix::sys::signal::{sigaction, SaFlags, SigAction, SigHandler, SigSet, Signal};
use std::sync::atomic::{AtomicBool, Ordering};

static TERMINATED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    TERMINATED.store(true, Ordering::SeqCst);
}

/// Whether SIGTERM or SIGINT came.
pub fn terminated() -> bool {
    TERMINATED.load(Ordering::SeqCst)
}

pub fn catch_termination() -> nix::Result<()> {
    let action = SigAction::new(
        SigHandler::Handler(on_signal),
        SaFlags::empty(),
        SigSet::empty(),
    );
    for signal in [Signal::SIGTERM, Signal::SIGINT] {
        // SAFETY: The handler only stores to an atomic.
        unsafe { sigaction(signal, &action) }?;
    }
    Ok(())
}
