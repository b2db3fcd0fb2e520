// SPDX-License-Identifier: GPL-2.0

//! A famfs file: its validated fmap, and the fence that a bad resolution
//! raises.
//!
//! A resolution that fails (an offset past the end of the file, or in a
//! strip too short for it) means the server's map and the file disagree:
//! the file is fenced, and every later access gets `EIO`, as famfs does
//! with `meta.error`, rather than reading bytes that may belong to another
//! file.

use crate::dax::Dax;
use crate::fmap::{Fmap, Rejected, Resolved};
use crate::ratelimit::pr_warn_ratelimited;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{prelude::*, sync::Arc};

/// What the DAX library gets for the bytes at a position of a famfs file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DaxExtent {
    /// A hole of this many bytes: reads see zeroes.
    Hole(u64),
    /// Device bytes.
    Mapped(Resolved),
}

/// A [`DaxExtent`] with, for device bytes, a reference on their device.
pub(crate) enum DaxMapping {
    /// A hole of this many bytes.
    Hole(u64),
    /// Device bytes, and a reference on their device.
    Mapped(Resolved, Arc<Dax>),
}

/// A famfs file.
pub(crate) struct FamfsFile {
    fmap: Fmap,
    fenced: AtomicBool,
}

impl FamfsFile {
    /// A file with this fmap, not fenced.
    pub(crate) fn new(fmap: Fmap) -> Self {
        Self {
            fmap,
            fenced: AtomicBool::new(false),
        }
    }

    /// The file's map.
    pub(crate) fn fmap(&self) -> &Fmap {
        &self.fmap
    }

    /// Whether a failed resolution fenced the file.
    pub(crate) fn fenced(&self) -> bool {
        self.fenced.load(Ordering::Relaxed)
    }

    /// Where the `len` file bytes at `offset` live for the DAX library's
    /// `iomap_begin`: a hole of `len` bytes past the end of the file, which
    /// a `write` may not reach (`ENOSPC`); otherwise as
    /// [`FamfsFile::resolve`].
    pub(crate) fn map(&self, offset: u64, len: u64, write: bool) -> Result<DaxExtent, Rejected> {
        if offset < self.fmap.file_size() {
            return self.resolve(offset, len).map(DaxExtent::Mapped);
        }
        if write {
            return Err(Rejected {
                error: ENOSPC,
                reason: "write past the file's allocation",
            });
        }
        Ok(DaxExtent::Hole(len))
    }

    /// Where the `len` file bytes at `offset` live (see [`Fmap::resolve`]).
    /// `EIO` once the file is fenced; a failure fences it.
    pub(crate) fn resolve(&self, offset: u64, len: u64) -> Result<Resolved, Rejected> {
        if self.fenced() {
            return Err(Rejected {
                error: EIO,
                reason: "file fenced by an earlier bad resolution",
            });
        }
        self.fmap.resolve(offset, len).inspect_err(|r| {
            if !self.fenced.swap(true, Ordering::Relaxed) {
                pr_warn_ratelimited!(
                    "famfs: fencing file after a bad resolution at {}: {}\n",
                    offset,
                    r.reason
                );
            }
        })
    }
}
