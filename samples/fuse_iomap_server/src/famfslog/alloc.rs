// SPDX-License-Identifier: GPL-2.0

//! Where new file data goes: a bump allocator over the data area of
//! daxdev 0, from 2 MiB to the end of the file system.
//!
//! famfs never frees (its log is append-only), so a pointer that only
//! grows is the whole allocator, and a replay rebuilds it by taking every
//! logged allocation in turn. [`Bump::plan`] is the one place that lays a
//! piece out; replay checks each logged piece by planning it again
//! ([`Bump::take`]), so a log can only hold pieces this server would have
//! made: at the pointer, 2 MiB-aligned, never overlapping.

use super::format::ALIGN;
use super::layout::Piece;
use fuse_iomap::fmap_build::Ext;
use nix::errno::Errno;

/// `FUSE_FAMFS_MAX_STRIPS`.
pub const MAX_STRIPS: u32 = 32;

/// Interleaving: chunk `n` of a group lives in strip `n % strips`, at
/// `(n / strips) * chunk` into it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stripe {
    pub strips: u32,
    pub chunk: u64,
}

impl Stripe {
    /// Whether the kernel would take groups of this stripe: 1 to 32
    /// strips, chunks of 2 MiB multiples that fit its `u32`.
    pub fn check(&self) -> Result<(), &'static str> {
        if self.strips == 0 || self.strips > MAX_STRIPS {
            return Err("the stripe needs 1 to 32 strips");
        }
        if self.chunk == 0 || !self.chunk.is_multiple_of(ALIGN) || self.chunk > u64::from(u32::MAX)
        {
            return Err("the chunk must be a multiple of 2 MiB, below 4 GiB");
        }
        Ok(())
    }

    /// The bytes of one stripe: a chunk in every strip.
    pub fn width(&self) -> u64 {
        u64::from(self.strips) * self.chunk
    }
}

/// The data area's allocator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bump {
    next: u64,
    end: u64,
}

impl Bump {
    /// An allocator of `[start, end)` of daxdev 0.
    pub fn new(start: u64, end: u64) -> Self {
        Self { next: start, end }
    }

    /// The bytes not allocated yet.
    pub fn free(&self) -> u64 {
        self.end - self.next
    }

    /// The piece, laid out as `stripe` says, that holds at least `need`
    /// more bytes of a file, at the pointer (not taken yet): one extent
    /// rounded up to 2 MiB, or a group of `stripe.strips` strips of whole
    /// chunks, side by side. `ENOSPC` if it does not fit; `EFBIG` if no
    /// device could hold it.
    pub fn plan(&self, stripe: Option<Stripe>, need: u64) -> Result<Piece, Errno> {
        let need = need.max(1);
        let (strips, strip_len) = match stripe {
            None => (1, need.checked_next_multiple_of(ALIGN)),
            Some(s) => (
                u64::from(s.strips),
                need.div_ceil(s.width()).checked_mul(s.chunk),
            ),
        };
        let strip_len = strip_len.ok_or(Errno::EFBIG)?;
        if strip_len.checked_mul(strips).ok_or(Errno::EFBIG)? > self.free() {
            return Err(Errno::ENOSPC);
        }
        let strip = |i| Ext {
            dev: 0,
            offset: self.next + i * strip_len,
            len: strip_len,
        };
        Ok(match stripe {
            None => Piece::Extent(strip(0)),
            Some(s) => Piece::Group {
                chunk: s.chunk,
                strips: (0..strips).map(strip).collect(),
            },
        })
    }

    /// Takes `piece`, a logged one: it must be the piece [`Bump::plan`]
    /// makes for its size.
    pub fn take(&mut self, stripe: Option<Stripe>, piece: &Piece) -> Result<(), &'static str> {
        let bytes = piece.bytes().ok_or("a piece longer than any device")?;
        match self.plan(stripe, bytes) {
            Ok(planned) if planned == *piece => {
                self.next += bytes;
                Ok(())
            }
            Ok(_) => Err("a piece that is not the allocator's next one"),
            Err(_) => Err("a piece past the end of the device"),
        }
    }
}
