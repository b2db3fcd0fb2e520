// SPDX-License-Identifier: GPL-2.0

//! The block allocator: the free extents of the data area, first fit.
//!
//! It is never stored: loading rebuilds it from the files' extents, which
//! also proves that no two files claim the same block.

use nix::errno::Errno;
use std::collections::BTreeMap;

/// Free device blocks, as extents: start block → length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Allocator {
    free: BTreeMap<u64, u64>,
    free_blocks: u64,
}

impl Allocator {
    /// Every block of `[first, end)` free.
    pub fn new(first: u64, end: u64) -> Self {
        let mut free = BTreeMap::new();
        if end > first {
            free.insert(first, end - first);
        }
        Self {
            free,
            free_blocks: end.saturating_sub(first),
        }
    }

    pub fn free_blocks(&self) -> u64 {
        self.free_blocks
    }

    /// Up to `want` blocks, contiguous: from `goal` if it is free (so that a
    /// file written in order stays one extent), else the first free extent
    /// that holds them all, else the first free extent. `None` when the
    /// device is full.
    pub fn alloc(&mut self, goal: u64, want: u64) -> Option<(u64, u64)> {
        if want == 0 {
            return None;
        }
        let at_goal = self
            .free
            .range(..=goal)
            .next_back()
            .filter(|&(&s, &l)| goal < s + l)
            .map(|(&s, &l)| (s, l));
        let (start, len, from) = match at_goal {
            Some((s, l)) => (s, l, goal),
            None => {
                let (&s, &l) = self
                    .free
                    .iter()
                    .find(|&(_, &l)| l >= want)
                    .or_else(|| self.free.iter().next())?;
                (s, l, s)
            }
        };
        let got = want.min(start + len - from);
        self.take(start, len, from, got);
        Some((from, got))
    }

    /// Takes `[from, from + got)` out of the free extent `(start, len)`.
    fn take(&mut self, start: u64, len: u64, from: u64, got: u64) {
        self.free.remove(&start);
        if from > start {
            self.free.insert(start, from - start);
        }
        if from + got < start + len {
            self.free.insert(from + got, start + len - from - got);
        }
        self.free_blocks -= got;
    }

    /// Marks `[start, start + len)` used, as loading does for every extent;
    /// `EUCLEAN` unless it was all free (two owners, or outside the area).
    pub fn reserve(&mut self, start: u64, len: u64) -> Result<(), Errno> {
        let (s, l) = self
            .free
            .range(..=start)
            .next_back()
            .map(|(&s, &l)| (s, l))
            .ok_or(Errno::EUCLEAN)?;
        let end = start.checked_add(len).ok_or(Errno::EUCLEAN)?;
        if len == 0 || end > s + l {
            return Err(Errno::EUCLEAN);
        }
        self.take(s, l, start, len);
        Ok(())
    }

    /// Gives `[start, start + len)` back, merging it with its neighbours.
    pub fn free(&mut self, start: u64, len: u64) {
        if len == 0 {
            return;
        }
        self.free_blocks += len;
        let (mut start, mut len) = (start, len);
        if let Some((&s, &l)) = self.free.range(..start).next_back() {
            if s + l == start {
                self.free.remove(&s);
                start = s;
                len += l;
            }
        }
        if let Some(&l) = self.free.get(&(start + len)) {
            self.free.remove(&(start + len));
            len += l;
        }
        self.free.insert(start, len);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_fit_then_goal_then_partial() {
        let mut a = Allocator::new(10, 20);
        assert_eq!(a.alloc(0, 4), Some((10, 4)));
        assert_eq!(a.alloc(14, 2), Some((14, 2)));
        a.free(10, 2);
        // 10..12 and 16..20 free: the first that holds 3, then the first.
        assert_eq!(a.alloc(0, 3), Some((16, 3)));
        assert_eq!(a.alloc(0, 5), Some((10, 2)));
        assert_eq!(a.free_blocks(), 1);
        assert_eq!(a.alloc(0, 9), Some((19, 1)));
        assert_eq!(a.alloc(0, 1), None);
    }

    #[test]
    fn free_merges_and_reserve_refuses_overlap() {
        let mut a = Allocator::new(0, 8);
        a.reserve(2, 2).unwrap();
        assert_eq!(a.reserve(3, 1), Err(Errno::EUCLEAN));
        assert_eq!(a.reserve(7, 2), Err(Errno::EUCLEAN));
        a.free(2, 2);
        assert_eq!(a, Allocator::new(0, 8));
    }
}
