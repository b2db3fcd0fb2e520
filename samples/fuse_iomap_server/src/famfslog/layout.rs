// SPDX-License-Identifier: GPL-2.0

//! A file's layout: the pieces allocated to it, in file order, each one
//! simple extent or one interleaved group. Their bytes follow each other
//! in the file; what lies past the file's size is allocated but unseen.
//!
//! The same layout answers `GET_FMAP` ([`FileLayout::fmap`], which the
//! kernel resolves) and tells the server which device bytes hold a file
//! range ([`FileLayout::resolve`], to zero them): one piece of arithmetic
//! each, checked against each other and against the kernel's parser by the
//! tests.

use fuse_iomap::fmap_build::{Ext, FmapSpec, Group, Layout};
use nix::errno::Errno;

/// `FUSE_FAMFS_MAX_EXTENTS`: extents, or groups, of a file.
pub const MAX_PIECES: usize = 32;

/// One allocation of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Bytes in order on one daxdev.
    Extent(Ext),
    /// Strips of one length, dealt `chunk` bytes at a time: chunk `n` of
    /// the group lives in strip `n % strips`, at `(n / strips) * chunk`.
    /// A group has a strip at least, and a chunk of 2 MiB at least: the
    /// allocator makes no other, and a replay takes no other.
    Group { chunk: u64, strips: Vec<Ext> },
}

/// Where a file byte lives: `run` bytes from `offset` of daxdev `dev`,
/// never across a chunk or a piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub dev: u32,
    pub offset: u64,
    pub run: u64,
}

impl Piece {
    /// The file bytes it holds; `None` if they overflow.
    pub fn bytes(&self) -> Option<u64> {
        match self {
            Self::Extent(e) => Some(e.len),
            Self::Group { strips, .. } => strips.iter().try_fold(0u64, |n, s| n.checked_add(s.len)),
        }
    }

    /// Where byte `local` of the piece lives (`local` below its bytes).
    fn place(&self, local: u64) -> Place {
        match self {
            Self::Extent(e) => Place {
                dev: e.dev,
                offset: e.offset + local,
                run: e.len - local,
            },
            Self::Group { chunk, strips } => {
                let n = local / chunk;
                let nstrips = strips.len() as u64;
                let strip = &strips[(n % nstrips) as usize];
                let within = local % chunk;
                Place {
                    dev: strip.dev,
                    offset: strip.offset + (n / nstrips) * chunk + within,
                    run: chunk - within,
                }
            }
        }
    }

    /// The extent, if it is one.
    fn extent(&self) -> Option<Ext> {
        match self {
            Self::Extent(e) => Some(*e),
            Self::Group { .. } => None,
        }
    }

    /// The fmap's group, if it is one.
    fn group(&self) -> Option<Group> {
        match self {
            Self::Extent(_) => None,
            Self::Group { chunk, strips } => Some(Group {
                chunk: u32::try_from(*chunk).ok()?,
                nbytes: self.bytes()?,
                strips: strips.clone(),
            }),
        }
    }

    /// Its device ranges: the extent, or every strip.
    pub fn ranges(&self) -> Vec<Ext> {
        match self {
            Self::Extent(e) => vec![*e],
            Self::Group { strips, .. } => strips.clone(),
        }
    }
}

/// The pieces of a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileLayout {
    pieces: Vec<Piece>,
    /// What they hold, summed.
    capacity: u64,
}

impl FileLayout {
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The file bytes allocated.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Adds `piece` at the end of the file's bytes, if one more fits.
    pub fn push(&mut self, piece: Piece) -> Result<(), &'static str> {
        if self.pieces.len() >= MAX_PIECES {
            return Err("more than 32 extents or groups");
        }
        self.capacity = piece
            .bytes()
            .and_then(|b| b.checked_add(self.capacity))
            .ok_or("a file larger than any device")?;
        self.pieces.push(piece);
        Ok(())
    }

    /// Where file byte `off` lives; `None` past the allocated bytes.
    pub fn resolve(&self, off: u64) -> Option<Place> {
        let mut start = 0;
        for piece in &self.pieces {
            let bytes = piece.bytes()?;
            if off - start < bytes {
                return Some(piece.place(off - start));
            }
            start += bytes;
        }
        None
    }

    /// The device ranges of file bytes `[start, end)`, within the
    /// allocated bytes, in file order.
    pub fn device_ranges(&self, start: u64, end: u64) -> Vec<Ext> {
        let mut out = Vec::new();
        let mut off = start;
        while off < end {
            let Some(p) = self.resolve(off) else { break };
            let len = p.run.min(end - off);
            out.push(Ext {
                dev: p.dev,
                offset: p.offset,
                len,
            });
            off += len;
        }
        out
    }

    /// Every piece as `kind` sees it; `EIO` if one is of another kind (the
    /// log's replay allows none).
    fn all<T>(&self, kind: fn(&Piece) -> Option<T>) -> Result<Vec<T>, Errno> {
        self.pieces
            .iter()
            .map(kind)
            .collect::<Option<_>>()
            .ok_or(Errno::EIO)
    }

    /// The `GET_FMAP` reply for a file of `size` bytes. `EIO` for a file
    /// without pieces, which the kernel would refuse (the server gives
    /// every file one as it creates it).
    pub fn fmap(&self, size: u64) -> Result<Vec<u8>, Errno> {
        self.fmap_spec(size).map(|spec| spec.build())
    }

    /// What [`FileLayout::fmap`] builds, before it does.
    pub fn fmap_spec(&self, size: u64) -> Result<FmapSpec, Errno> {
        let layout = match self.pieces.first() {
            None => return Err(Errno::EIO),
            Some(Piece::Extent(_)) => Layout::Simple(self.all(Piece::extent)?),
            Some(Piece::Group { .. }) => Layout::Interleave(self.all(Piece::group)?),
        };
        let mut spec = FmapSpec::new(layout);
        spec.file_size = size;
        Ok(spec)
    }
}
