// SPDX-License-Identifier: GPL-2.0

//! A file's extent map, in blocks: file block → device block, length, and
//! whether the blocks are still unwritten (allocated, reading as zeroes).

use std::collections::BTreeMap;

/// One extent; its file block is its key in the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Extent {
    pub dev: u64,
    pub len: u64,
    pub unwritten: bool,
}

/// The extents of a file, never overlapping, merged where they touch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtentMap {
    map: BTreeMap<u64, Extent>,
}

impl ExtentMap {
    /// The extent that holds file block `block`, with its first block.
    pub fn find(&self, block: u64) -> Option<(u64, Extent)> {
        self.map
            .range(..=block)
            .next_back()
            .filter(|(&s, e)| block < s + e.len)
            .map(|(&s, &e)| (s, e))
    }

    /// The last extent that starts before `block`.
    pub fn before(&self, block: u64) -> Option<(u64, Extent)> {
        self.map.range(..block).next_back().map(|(&s, &e)| (s, e))
    }

    /// The first block of the first extent at or after `block`.
    pub fn next_start(&self, block: u64) -> Option<u64> {
        self.map.range(block..).next().map(|(&s, _)| s)
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, Extent)> + '_ {
        self.map.iter().map(|(&s, &e)| (s, e))
    }

    /// Blocks allocated.
    pub fn blocks(&self) -> u64 {
        self.map.values().map(|e| e.len).sum()
    }

    /// Adds an extent over a hole (the caller knows it is one).
    pub fn insert(&mut self, start: u64, extent: Extent) {
        self.map.insert(start, extent);
        self.merge(start, start + extent.len);
    }

    /// Splits the extent that holds `block` so that one starts there.
    fn split_at(&mut self, block: u64) {
        if let Some((s, e)) = self.find(block) {
            if s < block {
                let head = block - s;
                self.map.insert(s, Extent { len: head, ..e });
                self.map.insert(
                    block,
                    Extent {
                        dev: e.dev + head,
                        len: e.len - head,
                        unwritten: e.unwritten,
                    },
                );
            }
        }
    }

    /// The keys of the extents inside `[start, end)`, once split at both.
    fn isolate(&mut self, start: u64, end: u64) -> Vec<u64> {
        self.split_at(start);
        self.split_at(end);
        self.map.range(start..end).map(|(&s, _)| s).collect()
    }

    /// Removes `[start, end)`; returns the device extents it held.
    pub fn remove(&mut self, start: u64, end: u64) -> Vec<(u64, u64)> {
        self.isolate(start, end)
            .into_iter()
            .filter_map(|s| self.map.remove(&s))
            .map(|e| (e.dev, e.len))
            .collect()
    }

    /// Marks `[start, end)` written; returns whether anything changed.
    pub fn set_written(&mut self, start: u64, end: u64) -> bool {
        let mut changed = false;
        for s in self.isolate(start, end) {
            if let Some(e) = self.map.get_mut(&s) {
                changed |= e.unwritten;
                e.unwritten = false;
            }
        }
        self.merge(start, end);
        changed
    }

    /// Merges the extents around `[start, end)` that continue each other
    /// on the device and in state.
    fn merge(&mut self, start: u64, end: u64) {
        let first = self
            .map
            .range(..start)
            .next_back()
            .map_or(start, |(&s, _)| s);
        let keys: Vec<u64> = self.map.range(first..=end).map(|(&s, _)| s).collect();
        let mut prev: Option<(u64, Extent)> = None;
        for s in keys {
            let Some(&e) = self.map.get(&s) else { continue };
            match prev {
                Some((ps, mut pe))
                    if ps + pe.len == s
                        && pe.dev + pe.len == e.dev
                        && pe.unwritten == e.unwritten =>
                {
                    self.map.remove(&s);
                    pe.len += e.len;
                    self.map.insert(ps, pe);
                    prev = Some((ps, pe));
                }
                _ => prev = Some((s, e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(dev: u64, len: u64, unwritten: bool) -> Extent {
        Extent {
            dev,
            len,
            unwritten,
        }
    }

    #[test]
    fn written_middle_splits_then_merges_back() {
        let mut m = ExtentMap::default();
        m.insert(0, ext(100, 8, true));
        assert!(m.set_written(2, 4));
        let v: Vec<_> = m.iter().collect();
        assert_eq!(
            v,
            [
                (0, ext(100, 2, true)),
                (2, ext(102, 2, false)),
                (4, ext(104, 4, true))
            ]
        );
        m.set_written(0, 2);
        m.set_written(4, 8);
        assert_eq!(m.iter().collect::<Vec<_>>(), [(0, ext(100, 8, false))]);
        assert!(!m.set_written(0, 8));
    }

    #[test]
    fn remove_cuts_extents() {
        let mut m = ExtentMap::default();
        m.insert(0, ext(100, 4, false));
        m.insert(4, ext(200, 4, false));
        assert_eq!(m.remove(2, 6), [(102, 2), (200, 2)]);
        assert_eq!(m.blocks(), 4);
        assert_eq!(m.find(1), Some((0, ext(100, 2, false))));
        assert_eq!(m.find(2), None);
        assert_eq!(m.next_start(2), Some(6));
    }
}
