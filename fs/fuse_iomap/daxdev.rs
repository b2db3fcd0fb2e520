// SPDX-License-Identifier: GPL-2.0

//! The daxdev table: the dax devices a famfs connection uses, by index.
//!
//! The index is dense, owned by the server and the same on every host of a
//! cluster (famfs's log assigns it), so the table is a fixed array of
//! [`MAX_DAXDEVS`] slots indexed directly. A slot is filled once, lazily,
//! when an fmap first names its index, and emptied only when the table is
//! dropped with its connection.
//!
//! The race this closes: resolutions read slots on every fault and read,
//! without a lock, while another thread may be filling a slot. A writer
//! (under the connection's table lock, so one at a time) fills the device
//! handle, then stores `valid` with `Release`; a reader loads `valid` with
//! `Acquire` and only then reads the handle. A reader that sees `valid` so
//! sees every byte written before it. (famfs's C code orders the writer
//! with `wmb()` and leaves the reader's load plain.) The host tests check
//! exactly this with `loom`.
//!
//! A slot whose device could not be claimed is published too, with
//! `dax_err`, so that readers fail (`EIO`) instead of waiting on it.

use crate::fmap::MAX_DAXDEVS;
use crate::sync::{AtomicBool, Ordering, UnsafeCell};
use kernel::prelude::*;

struct Slot<D> {
    valid: AtomicBool,
    dax_err: AtomicBool,
    dev: UnsafeCell<Option<D>>,
}

/// The daxdev table, over device handles of type `D`.
///
/// # Invariants
///
/// A slot's `dev` is written only while its `valid` is false, by one writer
/// at a time; once `valid` is true, `dev` is only read, until the table is
/// dropped.
pub(crate) struct DaxdevTable<D> {
    slots: [Slot<D>; MAX_DAXDEVS as usize],
}

// SAFETY: Handles are written by one thread and read by others only after
// the `valid` publication; the table moves handles between threads (`Send`)
// and shares them (`Sync`).
unsafe impl<D: Send + Sync> Sync for DaxdevTable<D> {}
// SAFETY: Moving the table moves the handles.
unsafe impl<D: Send> Send for DaxdevTable<D> {}

impl<D> DaxdevTable<D> {
    /// An empty table.
    pub(crate) fn new() -> Self {
        Self {
            slots: core::array::from_fn(|_| Slot {
                valid: AtomicBool::new(false),
                dax_err: AtomicBool::new(false),
                dev: UnsafeCell::new(None),
            }),
        }
    }

    fn slot(&self, index: u32) -> Result<&Slot<D>> {
        self.slots.get(index as usize).ok_or(EINVAL)
    }

    /// Whether slot `index` was published (filled or failed); the lazy
    /// discovery's check before it asks the server.
    pub(crate) fn is_valid(&self, index: u32) -> bool {
        self.slot(index)
            .is_ok_and(|s| s.valid.load(Ordering::Acquire))
    }

    /// Empties every slot, dropping (and so releasing) its device.
    ///
    /// # Safety
    ///
    /// Nothing else uses the table meanwhile: no reader, no `publish`.
    pub(crate) unsafe fn clear(&self) {
        for slot in &self.slots {
            slot.valid.store(false, Ordering::Relaxed);
            slot.dax_err.store(false, Ordering::Relaxed);
            // SAFETY: By the safety requirements, nothing else accesses the
            // slot's device.
            slot.dev.with_mut(|p| unsafe { *p = None });
        }
    }

    /// Publishes slot `index`: its device handle, or `None` when the device
    /// could not be claimed. Does nothing, and drops `dev`, if the slot was
    /// published meanwhile (the re-check after taking the lock).
    ///
    /// # Safety
    ///
    /// The caller holds the table's writer lock: no other `publish` runs at
    /// the same time.
    pub(crate) unsafe fn publish(&self, index: u32, dev: Option<D>) -> Result {
        let slot = self.slot(index)?;
        if slot.valid.load(Ordering::Acquire) {
            return Ok(());
        }
        let failed = dev.is_none();
        // SAFETY: `valid` is false and the caller holds the writer lock, so
        // nobody else writes `dev`, and readers do not read it before
        // `valid` is true.
        slot.dev.with_mut(|p| unsafe { *p = dev });
        slot.dax_err.store(failed, Ordering::Relaxed);
        // INVARIANT: `dev` is not written again while `valid` is true.
        slot.valid.store(true, Ordering::Release);
        Ok(())
    }

    /// Runs `f` on the device of slot `index`: `EINVAL` for an index of 24
    /// or more, `EIO` for a slot not published or whose claim failed.
    pub(crate) fn with_dev<R>(&self, index: u32, f: impl FnOnce(&D) -> R) -> Result<R> {
        let slot = self.slot(index)?;
        if !slot.valid.load(Ordering::Acquire) || slot.dax_err.load(Ordering::Relaxed) {
            return Err(EIO);
        }
        // SAFETY: `valid` was seen true with `Acquire`, after the writer's
        // `Release`: `dev` is fully written and, by the type invariant, no
        // longer written.
        slot.dev.with(|p| match unsafe { &*p } {
            Some(dev) => Ok(f(dev)),
            None => Err(EIO),
        })
    }
}
