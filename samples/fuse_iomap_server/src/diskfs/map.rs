// SPDX-License-Identifier: GPL-2.0

//! File data: where it is (`IOMAP_BEGIN`), allocation on write, the end of
//! a write (`IOMAP_IOEND`), `fallocate` and hole punching.

use super::extents::{Extent, ExtentMap};
use super::inode::{Body, Time};
use super::{Fs, BLOCK, MAX_BYTES};
use nix::errno::Errno;

/// The kind of a mapping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapKind {
    Hole,
    Mapped,
    /// Allocated, not written yet: reads as zeroes.
    Unwritten,
}

/// A mapping of file bytes, in whole blocks; `addr` is the device byte
/// address (meaningless for a hole).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mapping {
    pub offset: u64,
    pub length: u64,
    pub addr: u64,
    pub kind: MapKind,
    /// Blocks allocated just now.
    pub new: bool,
}

impl Mapping {
    /// Extent `e`, which starts at file block `start`.
    pub fn of(start: u64, e: Extent) -> Self {
        Self {
            offset: start * BLOCK,
            length: e.len * BLOCK,
            addr: e.dev * BLOCK,
            kind: if e.unwritten {
                MapKind::Unwritten
            } else {
                MapKind::Mapped
            },
            new: false,
        }
    }
}

impl Mapping {
    /// The block after the mapping.
    pub fn end_block(&self) -> u64 {
        (self.offset + self.length) / BLOCK
    }
}

/// The blocks `[first, end)` that an `IOMAP_BEGIN` of `count` bytes at
/// `pos` asks about: at least one, and a report (fiemap), which may ask up
/// to the largest offset, cut there.
pub fn span(pos: u64, count: u64) -> Result<(u64, u64), Errno> {
    blocks(pos, count.clamp(1, MAX_BYTES.saturating_sub(pos).max(1)))
}

/// What a read of blocks `[first, end)` of a file of `size` bytes with
/// `extents` finds at `first`: the extent that holds it, or a hole that
/// runs to the next extent, or past `end` and the size.
pub fn lookup(extents: &ExtentMap, first: u64, end: u64, size: u64) -> Mapping {
    if let Some((s, e)) = extents.find(first) {
        return Mapping::of(s, e);
    }
    let hole_end = extents
        .next_start(first)
        .unwrap_or_else(|| end.max(size.div_ceil(BLOCK)));
    Mapping {
        offset: first * BLOCK,
        length: (hole_end - first) * BLOCK,
        addr: 0,
        kind: MapKind::Hole,
        new: false,
    }
}

/// The byte range `[pos, pos + len)` as blocks `[first, end)`, rounded out;
/// `EFBIG` past the largest file.
fn blocks(pos: u64, len: u64) -> Result<(u64, u64), Errno> {
    let end = pos.checked_add(len).ok_or(Errno::EFBIG)?;
    if end > MAX_BYTES {
        return Err(Errno::EFBIG);
    }
    Ok((pos / BLOCK, end.div_ceil(BLOCK)))
}

impl Fs {
    fn extents_mut(&mut self, nodeid: u64) -> Result<&mut ExtentMap, Errno> {
        match &mut self.inode_mut(nodeid)?.body {
            Body::File(f) => Ok(f),
            Body::Dir(_) => Err(Errno::EISDIR),
        }
    }

    /// Where the device block after file block `block`'s predecessor would
    /// be: the goal that keeps a file contiguous.
    fn goal(extents: &ExtentMap, block: u64) -> u64 {
        extents
            .before(block)
            .map_or(0, |(s, e)| e.dev + (block - s))
    }

    /// Allocates unwritten blocks for `[first, end)`, a hole of `nodeid`,
    /// as one extent of at most that length; returns it.
    fn fill(&mut self, nodeid: u64, first: u64, end: u64) -> Result<(u64, Extent), Errno> {
        let goal = Self::goal(self.file(nodeid)?, first);
        let (dev, len) = self.alloc.alloc(goal, end - first).ok_or(Errno::ENOSPC)?;
        let extent = Extent {
            dev,
            len,
            unwritten: true,
        };
        self.extents_mut(nodeid)?.insert(first, extent);
        self.dirty = true;
        Ok((first, extent))
    }

    /// `IOMAP_BEGIN`: the mapping of file `nodeid` that holds byte `pos`.
    /// A hole runs to the next extent, or past `pos + count` (cut at
    /// `MAX_BYTES`) and the size.
    /// With `allocate` (a write), a hole gets unwritten blocks for what of
    /// `[pos, pos + count)` it holds, and the answer is marked new.
    pub fn map(
        &mut self,
        nodeid: u64,
        pos: u64,
        count: u64,
        allocate: bool,
    ) -> Result<Mapping, Errno> {
        let (first, end) = span(pos, count)?;
        let size = self.inode(nodeid)?.attr.size;
        let found = lookup(self.file(nodeid)?, first, end, size);
        if !allocate || found.kind != MapKind::Hole {
            return Ok(found);
        }
        // The hole runs to the next extent or past `end`: fill what of it
        // the write asks for.
        let (s, e) = self.fill(nodeid, first, found.end_block().min(end))?;
        Ok(Mapping {
            new: true,
            ..Mapping::of(s, e)
        })
    }

    /// `IOMAP_IOEND` of a write of `written` bytes at `pos` that succeeded:
    /// converts what was unwritten there (`unwritten`), grows the size to
    /// cover it; returns the size. The times stay: the kernel stamps a file
    /// it writes and sends its times with `SETATTR` when it writes the inode
    /// back, which may come before this.
    pub fn ioend(
        &mut self,
        nodeid: u64,
        pos: u64,
        written: u64,
        unwritten: bool,
    ) -> Result<u64, Errno> {
        let (first, end) = blocks(pos, written)?;
        let extents = self.extents_mut(nodeid)?;
        if unwritten && extents.set_written(first, end) {
            self.dirty = true;
        }
        let inode = self.inode_mut(nodeid)?;
        if written > 0 {
            inode.attr.size = inode.attr.size.max(pos + written);
        }
        let size = inode.attr.size;
        self.dirty |= written > 0;
        Ok(size)
    }

    /// `FALLOCATE` mode 0: unwritten blocks in every hole of
    /// `[offset, offset + len)`, and the size grown to cover it unless
    /// `keep_size`. `ENOSPC`, changing nothing, if they do not fit.
    pub fn allocate(
        &mut self,
        nodeid: u64,
        offset: u64,
        len: u64,
        keep_size: bool,
    ) -> Result<(), Errno> {
        let (first, end) = blocks(offset, len)?;
        let extents = self.file(nodeid)?;
        let mapped: u64 = extents
            .iter()
            .map(|(s, e)| (s + e.len).min(end).saturating_sub(s.max(first)))
            .sum();
        if end - first - mapped > self.alloc.free_blocks() {
            return Err(Errno::ENOSPC);
        }
        let mut at = first;
        while at < end {
            let extents = self.file(nodeid)?;
            at = match extents.find(at) {
                Some((s, e)) => s + e.len,
                None => {
                    let hole_end = extents.next_start(at).map_or(end, |n| n.min(end));
                    let (s, e) = self.fill(nodeid, at, hole_end)?;
                    s + e.len
                }
            };
        }
        let inode = self.inode_mut(nodeid)?;
        if !keep_size && offset + len > inode.attr.size {
            inode.attr.size = offset + len;
        }
        inode.attr.ctime = Time::now();
        self.dirty = true;
        Ok(())
    }

    /// `FALLOCATE` with `PUNCH_HOLE`: frees the blocks wholly inside
    /// `[offset, offset + len)`; returns the device byte ranges of the
    /// partial blocks at its ends that hold written data, to be zeroed.
    pub fn punch(&mut self, nodeid: u64, offset: u64, len: u64) -> Result<Vec<(u64, u64)>, Errno> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        blocks(offset, len)?;
        let (full_first, full_end) = (offset.div_ceil(BLOCK), end / BLOCK);
        let extents = self.extents_mut(nodeid)?;
        let mut freed = Vec::new();
        if full_first < full_end {
            freed = extents.remove(full_first, full_end);
        }
        let mut partial = vec![offset / BLOCK, end / BLOCK];
        partial.dedup();
        let zero = partial
            .into_iter()
            .filter_map(|b| {
                let (from, to) = (offset.max(b * BLOCK), end.min((b + 1) * BLOCK));
                let whole = from == b * BLOCK && to == (b + 1) * BLOCK;
                let (s, e) = extents.find(b)?;
                (from < to && !whole && !e.unwritten)
                    .then(|| ((e.dev + b - s) * BLOCK + from % BLOCK, to - from))
            })
            .collect();
        for (dev, len) in freed {
            self.alloc.free(dev, len);
        }
        self.inode_mut(nodeid)?.attr.ctime = Time::now();
        self.dirty = true;
        Ok(zero)
    }
}
