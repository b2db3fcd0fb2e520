// SPDX-License-Identifier: GPL-2.0

//! The memory budget of a connection's mapping caches.
//!
//! A server fills the caches of its connection at will, with upserts, so
//! what they may pin is bounded per connection, apart from each fork's own
//! record limit: the bytes of every extent tree's node arenas (capacity, not
//! just nodes in use) are charged here before they are allocated, and
//! uncharged when an arena is freed or shrunk. A charge past the limit fails
//! with `ENOSPC` and allocates nothing. The allocations themselves are
//! charged to the opener's memory cgroup (`GFP_KERNEL_ACCOUNT`), so the
//! budget bounds one connection and the cgroup bounds a user's many.

use core::sync::atomic::{AtomicUsize, Ordering};
use kernel::prelude::*;

/// Bytes an opener without `CAP_SYS_ADMIN` may pin in one connection's
/// caches.
pub(crate) const UNPRIVILEGED_BYTES: usize = 16 << 20;
/// Bytes an opener with `CAP_SYS_ADMIN` may pin in one connection's caches.
pub(crate) const PRIVILEGED_BYTES: usize = 1 << 30;

/// A byte budget shared by the caches of one connection.
pub(crate) struct Budget {
    used: AtomicUsize,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` bytes, none used.
    pub(crate) const fn new(limit: usize) -> Self {
        Self {
            used: AtomicUsize::new(0),
            limit,
        }
    }

    /// The budget of a connection whose opener is `privileged`
    /// (`CAP_SYS_ADMIN`) or not.
    pub(crate) const fn for_opener(privileged: bool) -> Self {
        Self::new(if privileged {
            PRIVILEGED_BYTES
        } else {
            UNPRIVILEGED_BYTES
        })
    }

    /// Charges `bytes`: `ENOSPC`, charging nothing, if they would take the
    /// budget past its limit.
    pub(crate) fn charge(&self, bytes: usize) -> Result {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&u| u <= self.limit)
            })
            .map(|_| ())
            .map_err(|_| ENOSPC)
    }

    /// Charges `bytes` whatever the limit, for a rebuild that frees more
    /// than it takes.
    pub(crate) fn charge_over(&self, bytes: usize) {
        self.used.fetch_add(bytes, Ordering::Relaxed);
    }

    /// Gives back `bytes` charged earlier.
    pub(crate) fn uncharge(&self, bytes: usize) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
    }

    /// The bytes charged now.
    pub(crate) fn used(&self) -> usize {
        self.used.load(Ordering::Relaxed)
    }

    /// The limit in bytes.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }
}
