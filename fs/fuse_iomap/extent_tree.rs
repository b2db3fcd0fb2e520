// SPDX-License-Identifier: GPL-2.0

//! The extent tree: a B+tree of mapping records keyed by file offset.
//!
//! Layout, in the spirit of `fs/xfs/libxfs/xfs_iext_tree.c`:
//!
//! - Every node is at most [`NODE_BYTES`] = 256 bytes, and both node kinds
//!   take their capacity from that one number: a leaf holds what room its
//!   bookkeeping leaves for records, an inner node what pairs of key and
//!   child fit. The tree is generic over the two capacities so that the
//!   benchmark can compare layouts; the module uses the 256-byte one.
//! - A record is a [`IomapIo`] (32 bytes). The tree keeps records sorted by
//!   `offset`; that they do not overlap is the caller's invariant (the
//!   mapping cache punches a range before it inserts into it).
//! - A leaf holds up to [`LEAF_RECS`] = 7 records (224 bytes), its record
//!   count, a reference count per record ([`crate::refbits`]), and the
//!   indices of its previous and next leaves: the leaves form a doubly
//!   linked list in offset order, so that walking to a neighbour never goes
//!   back up the tree.
//! - An inner node holds up to [`INNER_KEYS`] = 21 (key, child) pairs, where
//!   the key is the offset of the first record below that child. Keys are
//!   kept exact: every change to a subtree's first record is written back
//!   into the keys above it.
//! - Nodes live in two arenas, one `KVVec` of leaves and one of inner
//!   nodes, and refer to each other by index; whether an index names a leaf
//!   or an inner node follows from its level, so no node is ever of the
//!   wrong kind. Freed nodes go on a free list per arena (an empty node,
//!   linked through `next` or `children[0]`) and are reused. The arenas
//!   grow, and so can fail, only in [`ExtentTree::reserve`]: every other
//!   operation works on nodes that are already there, so that a caller can
//!   reserve once, then make several changes that cannot fail half-way.
//!   Growth doubles an arena's capacity, and is charged to the connection's
//!   [`Budget`] before it is allocated (so that a refused charge allocates
//!   nothing); [`ExtentTree::shrink`] gives memory back when the tree holds
//!   far fewer nodes than its arenas.
//! - Slots past a node's length hold [`PAD`], larger than any offset, so
//!   that searches run over whole nodes, of a length the compiler knows. A
//!   leaf counts its records at or before the offset (seven independent
//!   loads, no branch on the data); an inner node searches its 21 keys
//!   binarily, where xfs scans linearly. Measured on these machines, that
//!   pair beat binary searches over the slots in use, and counts in both
//!   kinds of node (`Documentation/fuse_iomap/cache.rst`).
//! - A leaf that overflows splits in half, except when the record goes past
//!   the end of the last leaf: then the new leaf takes only that record, so
//!   that a file mapped in order fills its leaves completely. A node that
//!   falls below half full merges with a neighbour when both fit in one node.
//!   A root with a single child is replaced by the child.
//! - A change that stays inside one leaf need not walk the tree once per
//!   step, the way xfs keeps a cursor across insert, remove and update:
//!   [`ExtentTree::edit`] copies the leaf out once, with its neighbours'
//!   edge records; the caller edits the copy ([`LeafEdit`]) through the
//!   same [`Records`] operations as the tree; [`ExtentTree::commit`] writes
//!   it back when no key above the leaf moves and the leaf neither
//!   overflows nor falls below half full. Otherwise the caller discards the
//!   copy and makes the change on the tree.

use crate::abi::IomapIo;
use crate::budget::Budget;
use crate::refbits::{LeafRefs, Refs};
use core::cell::Cell;
use kernel::prelude::*;

/// The bytes of one node, leaf or inner: xfs's `NODE_SIZE`.
pub(crate) const NODE_BYTES: usize = 256;

/// A leaf's bookkeeping beside its records: count, reference counts,
/// links, rounded up to the records' alignment.
const LEAF_HEADER: usize = 24;
/// An inner node's bookkeeping beside its pairs: the count.
const INNER_HEADER: usize = 1;

/// The records a leaf of `node` bytes holds.
pub(crate) const fn leaf_recs(node: usize) -> usize {
    (node - LEAF_HEADER) / core::mem::size_of::<IomapIo>()
}

/// The (key, child) pairs an inner node of `node` bytes holds.
pub(crate) const fn inner_keys(node: usize) -> usize {
    (node - INNER_HEADER) / (core::mem::size_of::<u64>() + core::mem::size_of::<NodeId>())
}

/// Records per leaf: 7 × 32 bytes.
pub(crate) const LEAF_RECS: usize = leaf_recs(NODE_BYTES);
/// (key, child) pairs per inner node: 21 × (8 + 4) bytes.
pub(crate) const INNER_KEYS: usize = inner_keys(NODE_BYTES);

/// The most records a leaf of any layout holds: what a [`LeafEdit`] makes
/// room for (plus the two an edit may add before it removes any).
pub(crate) const MAX_LEAF_RECS: usize = 16;

/// Index of a node in the arena.
type NodeId = u32;
/// No node: the end of a leaf list or of the free list.
const NIL: NodeId = u32::MAX;

#[derive(Clone)]
struct Leaf<const R: usize> {
    recs: [IomapIo; R],
    /// The CLOCK counts of the records, raised by lookups.
    refs: LeafRefs,
    len: u8,
    prev: NodeId,
    /// The next leaf in offset order, or the next free leaf.
    next: NodeId,
}

#[derive(Clone)]
struct Inner<const K: usize> {
    keys: [u64; K],
    /// Leaves below level 2, inner nodes above; `children[0]` links a free
    /// node to the next.
    children: [NodeId; K],
    len: u8,
}

// The module's nodes stay within NODE_BYTES.
const _: () = assert!(core::mem::size_of::<Leaf<LEAF_RECS>>() <= NODE_BYTES);
const _: () = assert!(core::mem::size_of::<Inner<INNER_KEYS>>() <= NODE_BYTES);

/// The offset and key of the slots past a node's length: larger than any
/// record's offset (a record ends by 2^64 - 1), so that a binary search
/// over the whole node, of a length the compiler knows, finds the same
/// place as one over the slots in use.
const PAD: u64 = u64::MAX;

/// A leaf's slot past its length.
const PAD_REC: IomapIo = IomapIo {
    offset: PAD,
    length: 0,
    addr: 0,
    r#type: 0,
    flags: 0,
    dev: 0,
};

impl<const R: usize> Leaf<R> {
    /// Counts follow at most [`LeafRefs::RECORDS`], an edit holds at most
    /// [`MAX_LEAF_RECS`], and a leaf must split into two non-empty halves.
    const FITS: () = assert!(R >= 3 && R <= LeafRefs::RECORDS && R <= MAX_LEAF_RECS);

    fn empty() -> Self {
        Self {
            recs: [PAD_REC; R],
            refs: LeafRefs::new(),
            len: 0,
            prev: NIL,
            next: NIL,
        }
    }

    fn recs(&self) -> &[IomapIo] {
        &self.recs[..usize::from(self.len)]
    }

    /// Index of the last record whose offset is at most `off`: the count of
    /// such records, padding included only when `off` is [`PAD`].
    fn find_le(&self, off: u64) -> Option<usize> {
        let n: usize = self.recs.iter().map(|r| usize::from(r.offset <= off)).sum();
        n.min(usize::from(self.len)).checked_sub(1)
    }

    fn insert_at(&mut self, pos: usize, rec: IomapIo) {
        let len = usize::from(self.len);
        self.recs.copy_within(pos..len, pos + 1);
        self.recs[pos] = rec;
        self.len += 1;
        let mut refs = self.refs.get();
        refs.insert(pos);
        self.refs.set(refs);
    }

    fn remove_at(&mut self, pos: usize) -> IomapIo {
        let len = usize::from(self.len);
        let rec = self.recs[pos];
        self.recs.copy_within(pos + 1..len, pos);
        self.recs[len - 1] = PAD_REC;
        self.len -= 1;
        let mut refs = self.refs.get();
        refs.remove(pos);
        self.refs.set(refs);
        rec
    }
}

impl<const K: usize> Inner<K> {
    /// Lengths are a `u8`, and a node must split into two non-empty halves.
    const FITS: () = assert!(K >= 4 && K <= 255);

    fn empty() -> Self {
        Self {
            keys: [PAD; K],
            children: [NIL; K],
            len: 0,
        }
    }

    /// Index of the child whose subtree holds `off`: the last key at most
    /// `off`, or the first child when `off` is below every key.
    fn find_child(&self, off: u64) -> usize {
        let n = self.keys.partition_point(|&k| k <= off);
        n.min(usize::from(self.len)).saturating_sub(1)
    }

    fn insert_at(&mut self, pos: usize, key: u64, child: NodeId) {
        let len = usize::from(self.len);
        self.keys.copy_within(pos..len, pos + 1);
        self.children.copy_within(pos..len, pos + 1);
        self.keys[pos] = key;
        self.children[pos] = child;
        self.len += 1;
    }

    fn remove_at(&mut self, pos: usize) {
        let len = usize::from(self.len);
        self.keys.copy_within(pos + 1..len, pos);
        self.children.copy_within(pos + 1..len, pos);
        self.keys[len - 1] = PAD;
        self.len -= 1;
    }
}

/// Where a record is: a leaf and an index in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Cursor {
    leaf: NodeId,
    pos: usize,
}

/// The operations on sorted, non-overlapping records that the mapping
/// cache builds its punch, insert and merge from, so that one copy of
/// those steps runs on the whole tree and on a [`LeafEdit`] alike.
pub(crate) trait Records {
    /// The number of records.
    fn len(&self) -> usize;
    /// The last record that starts before `off`.
    fn lt(&self, off: u64) -> Option<IomapIo>;
    /// The first record that starts at or after `off`.
    fn ge(&self, off: u64) -> Option<IomapIo>;
    /// Replaces the record that starts at `rec.offset`; whether there was
    /// one.
    fn replace(&mut self, rec: IomapIo) -> bool;
    /// Removes the record that starts at `off` and returns it.
    fn remove(&mut self, off: u64) -> Option<IomapIo>;
    /// Inserts `rec`, which overlaps no record, into reserved room;
    /// `ENOMEM`, changing nothing, without it.
    fn insert_reserved(&mut self, rec: IomapIo) -> Result;
    /// Inserts `rec`, which overlaps no record, growing if need be (charged
    /// to `budget`); changes nothing on failure.
    fn insert(&mut self, rec: IomapIo, budget: &Budget) -> Result;
}

/// A B+tree of non-overlapping mapping records, keyed by file offset, of
/// leaves of `R` records and inner nodes of `K` keys.
///
/// # Invariants
///
/// - `height` is 0 and `root` is `NIL` when the tree is empty; otherwise
///   `root` is a leaf when `height` is 1 and an inner node above that, and
///   every path from the root to a leaf has `height` nodes.
/// - No node in the tree is empty; inner keys are the offsets of the first
///   record of their subtree; records are sorted by offset across the leaf
///   list, which links every leaf in order.
/// - `count` is the number of records; `free_leaves` and `free_inners` head
///   lists of `nfree_leaves` and `nfree_inners` empty nodes not in the tree.
/// - `leaf_cap` and `inner_cap` are at least the arenas' lengths, and the
///   room the arenas were grown to: what [`Self::charged_bytes`] counts.
/// - A leaf's `refs` count nothing at or past its `len`.
pub(crate) struct ExtentTree<const R: usize = LEAF_RECS, const K: usize = INNER_KEYS> {
    leaves: KVVec<Leaf<R>>,
    inners: KVVec<Inner<K>>,
    leaf_cap: usize,
    inner_cap: usize,
    root: NodeId,
    height: u32,
    count: usize,
    free_leaves: NodeId,
    nfree_leaves: usize,
    free_inners: NodeId,
    nfree_inners: usize,
    /// The CLOCK hand: where [`Self::evict`] looks first.
    hand: u64,
}

impl<const R: usize, const K: usize> ExtentTree<R, K> {
    /// An empty tree; allocates nothing.
    pub(crate) const fn new() -> Self {
        let () = Leaf::<R>::FITS;
        let () = Inner::<K>::FITS;
        Self {
            leaves: KVVec::new(),
            inners: KVVec::new(),
            leaf_cap: 0,
            inner_cap: 0,
            root: NIL,
            height: 0,
            count: 0,
            free_leaves: NIL,
            nfree_leaves: 0,
            free_inners: NIL,
            nfree_inners: 0,
            hand: 0,
        }
    }

    /// The number of records.
    pub(crate) fn len(&self) -> usize {
        self.count
    }

    /// The bytes of nodes in use, leaves and inner nodes; the arenas also
    /// keep freed nodes for reuse.
    pub(crate) fn node_bytes(&self) -> usize {
        (self.leaves.len() - self.nfree_leaves) * core::mem::size_of::<Leaf<R>>()
            + (self.inners.len() - self.nfree_inners) * core::mem::size_of::<Inner<K>>()
    }

    /// The bytes of the arenas' room, in use or not: what is charged to the
    /// budget.
    pub(crate) fn charged_bytes(&self) -> usize {
        self.leaf_cap * core::mem::size_of::<Leaf<R>>()
            + self.inner_cap * core::mem::size_of::<Inner<K>>()
    }

    /// Makes sure that the next `inserts` calls to [`Self::insert`] cannot
    /// fail, charging any growth to `budget`. Changes nothing on failure:
    /// `ENOSPC` when the budget refuses, `ENOMEM` when memory does.
    pub(crate) fn reserve(&mut self, inserts: usize, budget: &Budget) -> Result {
        // An insert splits at most one leaf, and one inner node per level
        // above it, and may add a root; each insert may also grow the height
        // by one for the next.
        let height = self.height as usize;
        let inners = (0..inserts).map(|i| height + i).sum::<usize>();
        reserve_nodes(
            &mut self.leaves,
            &mut self.leaf_cap,
            self.nfree_leaves,
            inserts,
            budget,
        )?;
        reserve_nodes(
            &mut self.inners,
            &mut self.inner_cap,
            self.nfree_inners,
            inners,
            budget,
        )
    }

    /// Drops every record, frees every node and gives their bytes back to
    /// `budget`.
    pub(crate) fn clear(&mut self, budget: &Budget) {
        budget.uncharge(self.charged_bytes());
        *self = Self::new();
    }

    /// Gives memory back to `budget` when the arenas are more than four
    /// times the nodes in use (and more than a few nodes): rebuilds the
    /// tree, record by record in order, into new arenas. An empty tree
    /// frees everything. Changes no record, but sets every reference bit; a
    /// rebuild that cannot allocate leaves the tree as it was.
    pub(crate) fn shrink(&mut self, budget: &Budget) {
        if self.count == 0 {
            self.clear(budget);
            return;
        }
        let charged = self.charged_bytes();
        if charged <= SHRINK_FLOOR || charged <= 4 * self.node_bytes() {
            return;
        }
        // The rebuild is charged past the limit: the old arenas, larger, go
        // right after it.
        let unbounded = Budget::new(usize::MAX);
        let mut fresh = Self::new();
        if self
            .iter()
            .try_for_each(|rec| fresh.insert(*rec, &unbounded))
            .is_err()
        {
            return;
        }
        budget.charge_over(fresh.charged_bytes());
        budget.uncharge(charged);
        fresh.hand = self.hand;
        *self = fresh;
    }

    fn alloc_leaf(&mut self, leaf: Leaf<R>) -> NodeId {
        let id = self.free_leaves;
        if id != NIL {
            self.free_leaves = self.leaves[id as usize].next;
            self.nfree_leaves -= 1;
            self.leaves[id as usize] = leaf;
            return id;
        }
        push_reserved(&mut self.leaves, leaf)
    }

    fn alloc_inner(&mut self, inner: Inner<K>) -> NodeId {
        let id = self.free_inners;
        if id != NIL {
            self.free_inners = self.inners[id as usize].children[0];
            self.nfree_inners -= 1;
            self.inners[id as usize] = inner;
            return id;
        }
        push_reserved(&mut self.inners, inner)
    }

    fn release_leaf(&mut self, id: NodeId) {
        let free = self.free_leaves;
        let leaf = &mut self.leaves[id as usize];
        leaf.len = 0;
        leaf.refs.set(Refs::default());
        leaf.next = free;
        self.free_leaves = id;
        self.nfree_leaves += 1;
    }

    fn release_inner(&mut self, id: NodeId) {
        let inner = &mut self.inners[id as usize];
        inner.len = 0;
        inner.children[0] = self.free_inners;
        self.free_inners = id;
        self.nfree_inners += 1;
    }

    fn leaf(&self, id: NodeId) -> &Leaf<R> {
        &self.leaves[id as usize]
    }

    fn leaf_mut(&mut self, id: NodeId) -> &mut Leaf<R> {
        &mut self.leaves[id as usize]
    }

    fn inner(&self, id: NodeId) -> &Inner<K> {
        &self.inners[id as usize]
    }

    fn inner_mut(&mut self, id: NodeId) -> &mut Inner<K> {
        &mut self.inners[id as usize]
    }

    /// Offset of the first record below node `id` at `level` (1 = leaf).
    fn first_key(&self, id: NodeId, level: u32) -> u64 {
        if level == 1 {
            self.leaf(id).recs[0].offset
        } else {
            self.inner(id).keys[0]
        }
    }

    /// The leaf that would hold `off`.
    fn find_leaf(&self, off: u64) -> NodeId {
        let mut id = self.root;
        for _ in 1..self.height {
            let inner = self.inner(id);
            id = inner.children[inner.find_child(off)];
        }
        id
    }

    /// The last record whose offset is at most `off`.
    fn cursor_le(&self, off: u64) -> Option<Cursor> {
        if self.height == 0 {
            return None;
        }
        let leaf = self.find_leaf(off);
        // Keys are exact, so only the first leaf can lack such a record,
        // and then no leaf has one.
        self.leaf(leaf).find_le(off).map(|pos| Cursor { leaf, pos })
    }

    /// The first record whose offset is at least `off`.
    fn cursor_ge(&self, off: u64) -> Option<Cursor> {
        match self.cursor_le(off) {
            Some(c) if self.at(c).offset == off => Some(c),
            Some(c) => self.next_cursor(c),
            None => self.first_cursor(),
        }
    }

    fn first_cursor(&self) -> Option<Cursor> {
        (self.height != 0).then(|| Cursor {
            leaf: self.find_leaf(0),
            pos: 0,
        })
    }

    fn next_cursor(&self, c: Cursor) -> Option<Cursor> {
        let leaf = self.leaf(c.leaf);
        if c.pos + 1 < usize::from(leaf.len) {
            Some(Cursor {
                leaf: c.leaf,
                pos: c.pos + 1,
            })
        } else if leaf.next != NIL {
            Some(Cursor {
                leaf: leaf.next,
                pos: 0,
            })
        } else {
            None
        }
    }

    fn prev_cursor(&self, c: Cursor) -> Option<Cursor> {
        if c.pos > 0 {
            return Some(Cursor {
                leaf: c.leaf,
                pos: c.pos - 1,
            });
        }
        let prev = self.leaf(c.leaf).prev;
        (prev != NIL).then(|| Cursor {
            leaf: prev,
            pos: usize::from(self.leaf(prev).len) - 1,
        })
    }

    fn at(&self, c: Cursor) -> &IomapIo {
        &self.leaf(c.leaf).recs[c.pos]
    }

    /// The record that contains byte `off`; a hit raises its count.
    pub(crate) fn lookup(&self, off: u64) -> Option<&IomapIo> {
        // `cursor_le`'s steps, holding on to the leaf: through a shared
        // helper, a lookup took 63 instructions at 1 record instead of 44.
        if self.height == 0 {
            return None;
        }
        let leaf = self.leaf(self.find_leaf(off));
        let pos = leaf.find_le(off)?;
        let rec = leaf.recs.get(pos)?;
        if off - rec.offset >= rec.length {
            return None;
        }
        leaf.refs.touch(pos);
        Some(rec)
    }

    /// The last record that starts before `off`.
    pub(crate) fn lt(&self, off: u64) -> Option<IomapIo> {
        let c = self.cursor_le(off)?;
        let c = if self.at(c).offset < off {
            c
        } else {
            self.prev_cursor(c)?
        };
        Some(*self.at(c))
    }

    /// The first record that starts at or after `off`.
    pub(crate) fn ge(&self, off: u64) -> Option<IomapIo> {
        self.cursor_ge(off).map(|c| *self.at(c))
    }

    /// Replaces the record that starts at `rec.offset` with `rec`; as the
    /// offset stays, no key moves, and the count stays.
    /// Returns whether there was such a record.
    pub(crate) fn replace(&mut self, rec: IomapIo) -> bool {
        match self.cursor_le(rec.offset) {
            Some(c) if self.at(c).offset == rec.offset => {
                self.leaf_mut(c.leaf).recs[c.pos] = rec;
                true
            }
            _ => false,
        }
    }

    /// The records in offset order.
    pub(crate) fn iter(&self) -> Iter<'_, R, K> {
        Iter {
            tree: self,
            cursor: self.first_cursor(),
        }
    }

    /// Removes one record the CLOCK way, and returns it: the first record,
    /// from the hand on in offset order and around, whose count is 0. The
    /// counts the hand passes on the way are lowered by one ([`Refs::sweep`]),
    /// so a record looked up since the last pass survives one more, and one
    /// looked up twice two more; the hand stops past the victim. `None` when
    /// the tree is empty.
    ///
    /// A record's place in the circle is its offset, not the time it came,
    /// so a new record may land just ahead of the hand; the lookup that
    /// follows the upsert of a miss (`RETRY_CACHE`) gives it a pass.
    pub(crate) fn evict(&mut self) -> Option<IomapIo> {
        let mut c = self.cursor_ge(self.hand).or_else(|| self.first_cursor())?;
        // A pass lowers every count, so the hand stops within three.
        loop {
            let leaf = self.leaf_mut(c.leaf);
            let mut refs = leaf.refs.get();
            let victim = refs.sweep(c.pos, usize::from(leaf.len));
            leaf.refs.set(refs);
            if let Some(pos) = victim {
                c.pos = pos;
                break;
            }
            let next = leaf.next;
            c = if next != NIL {
                Cursor { leaf: next, pos: 0 }
            } else {
                self.first_cursor()?
            };
        }
        let victim = *self.at(c);
        self.hand = victim.offset + victim.length;
        self.remove(victim.offset)
    }

    /// Copies out the leaf that would hold `start`, with the records on
    /// either side of it, for an edit by [`Records`] operations. Those give
    /// on the copy what they would on the tree, or poison it: a query that
    /// reaches past the neighbours, a change to the next leaf's first record
    /// (which its parent keys), the removal of the previous leaf's last.
    /// `None` for an empty tree.
    ///
    /// The copy goes into `e`, the caller's: an edit is larger than a leaf,
    /// and returning it would copy it once more.
    pub(crate) fn edit(&self, start: u64, e: &mut LeafEdit<R>) -> bool {
        if self.height == 0 {
            return false;
        }
        let id = self.find_leaf(start);
        let leaf = self.leaf(id);
        let len = usize::from(leaf.len);
        let before = (leaf.prev != NIL).then(|| {
            let prev = self.leaf(leaf.prev);
            let pos = usize::from(prev.len) - 1;
            (
                Cursor {
                    leaf: leaf.prev,
                    pos,
                },
                prev.recs[pos],
            )
        });
        let after = (leaf.next != NIL).then(|| self.leaf(leaf.next).recs[0]);
        e.leaf = id;
        copy(&mut e.recs[..len], leaf.recs());
        e.refs = leaf.refs.get();
        e.len = len;
        e.old_len = len;
        e.first = leaf.recs[0].offset;
        e.root = self.height == 1;
        e.before = before;
        e.before_changed = false;
        e.after = after;
        e.poisoned.set(false);
        true
    }

    /// Writes `edit` back into its leaf (and the previous leaf's last
    /// record, if the edit replaced it), unless the edit was poisoned or
    /// would need a key above the leaf to move (a new first record) or the
    /// leaf to split or merge: then returns `false` and changes nothing. The
    /// tree must not have changed since [`Self::edit`].
    pub(crate) fn commit(&mut self, edit: &LeafEdit<R>) -> bool {
        let len = edit.len;
        let recs = &edit.recs;
        let fits = len > 0 && len <= R && (edit.root || recs[0].offset == edit.first);
        if edit.poisoned.get() || !fits || (!edit.root && len < R.div_ceil(2) && len < edit.old_len)
        {
            return false;
        }
        let leaf = self.leaf_mut(edit.leaf);
        copy(&mut leaf.recs[..len], &recs[..len]);
        leaf.recs[len..].fill(PAD_REC);
        leaf.len = len as u8;
        let mut refs = edit.refs;
        refs.truncate(len);
        leaf.refs.set(refs);
        if let (Some((c, rec)), true) = (edit.before, edit.before_changed) {
            self.leaf_mut(c.leaf).recs[c.pos] = rec;
        }
        self.count = self.count - edit.old_len + len;
        true
    }

    /// Inserts `rec`, which must not overlap any record. Fails only when no
    /// room was reserved and `budget` or memory refuses more (see
    /// [`Self::reserve`]); then the tree is unchanged.
    pub(crate) fn insert(&mut self, rec: IomapIo, budget: &Budget) -> Result {
        self.reserve(1, budget)?;
        self.insert_reserved(rec)
    }

    /// Inserts `rec`, which must not overlap any record, into room that
    /// [`Self::reserve`] made. `ENOMEM`, with the tree unchanged, if there
    /// is not room for one insert: checked here, before anything changes,
    /// so that the node allocations below always find a free or reserved
    /// node.
    pub(crate) fn insert_reserved(&mut self, rec: IomapIo) -> Result {
        let leaf_room = self.nfree_leaves + (self.leaf_cap - self.leaves.len());
        let inner_room = self.nfree_inners + (self.inner_cap - self.inners.len());
        if leaf_room < 1 || inner_room < self.height as usize {
            return Err(ENOMEM);
        }
        if self.height == 0 {
            let mut leaf = Leaf::empty();
            leaf.insert_at(0, rec);
            self.root = self.alloc_leaf(leaf);
            self.height = 1;
        } else if let Some((key, right)) = self.insert_below(self.root, self.height, rec) {
            // The root split: grow the tree by one level.
            let left = self.root;
            let mut root = Inner::empty();
            root.insert_at(0, self.first_key(left, self.height), left);
            root.insert_at(1, key, right);
            self.root = self.alloc_inner(root);
            self.height += 1;
        }
        self.count += 1;
        Ok(())
    }

    /// Inserts `rec` below node `id` at `level`; returns the first key and
    /// the id of the new right sibling if `id` split.
    fn insert_below(&mut self, id: NodeId, level: u32, rec: IomapIo) -> Option<(u64, NodeId)> {
        if level == 1 {
            return self.insert_into_leaf(id, rec);
        }
        let slot = self.inner(id).find_child(rec.offset);
        let child = self.inner(id).children[slot];
        let split = self.insert_below(child, level - 1, rec);
        let key = self.first_key(child, level - 1);
        self.inner_mut(id).keys[slot] = key;
        let (key, right) = split?;
        let inner = self.inner_mut(id);
        if usize::from(inner.len) < K {
            inner.insert_at(slot + 1, key, right);
            return None;
        }
        // Split in half, then insert into the half that covers the key.
        let mut sibling = Inner::empty();
        let half = K / 2;
        let moved = K - half;
        copy(&mut sibling.keys[..moved], &inner.keys[half..]);
        copy(&mut sibling.children[..moved], &inner.children[half..]);
        sibling.len = moved as u8;
        inner.keys[half..].fill(PAD);
        inner.len = half as u8;
        if slot < half {
            inner.insert_at(slot + 1, key, right);
        } else {
            sibling.insert_at(slot + 1 - half, key, right);
        }
        let first = sibling.keys[0];
        Some((first, self.alloc_inner(sibling)))
    }

    fn insert_into_leaf(&mut self, id: NodeId, rec: IomapIo) -> Option<(u64, NodeId)> {
        let leaf = self.leaf_mut(id);
        let pos = leaf.find_le(rec.offset).map_or(0, |p| p + 1);
        if usize::from(leaf.len) < R {
            leaf.insert_at(pos, rec);
            return None;
        }
        let mut sibling = Leaf::empty();
        if pos == R && leaf.next == NIL {
            // Appending past the last record: leave this leaf full.
            sibling.insert_at(0, rec);
        } else {
            let half = R.div_ceil(2);
            let moved = R - half;
            copy(&mut sibling.recs[..moved], &leaf.recs[half..]);
            sibling.len = moved as u8;
            leaf.recs[half..].fill(PAD_REC);
            let mut refs = leaf.refs.get();
            sibling.refs.set(refs.split_off(half));
            leaf.refs.set(refs);
            leaf.len = half as u8;
            if pos <= half {
                leaf.insert_at(pos, rec);
            } else {
                sibling.insert_at(pos - half, rec);
            }
        }
        sibling.prev = id;
        sibling.next = leaf.next;
        let first = sibling.recs[0].offset;
        let next = sibling.next;
        let new = self.alloc_leaf(sibling);
        self.leaf_mut(id).next = new;
        if next != NIL {
            self.leaf_mut(next).prev = new;
        }
        Some((first, new))
    }

    /// Removes the record that starts at `off` and returns it.
    pub(crate) fn remove(&mut self, off: u64) -> Option<IomapIo> {
        if self.height == 0 {
            return None;
        }
        let rec = self.remove_below(self.root, self.height, off)?;
        self.count -= 1;
        if self.height == 1 && self.leaf(self.root).len == 0 {
            self.release_leaf(self.root);
            self.root = NIL;
            self.height = 0;
        }
        while self.height > 1 && self.inner(self.root).len == 1 {
            let old = self.root;
            self.root = self.inner(old).children[0];
            self.release_inner(old);
            self.height -= 1;
        }
        Some(rec)
    }

    fn remove_below(&mut self, id: NodeId, level: u32, off: u64) -> Option<IomapIo> {
        if level == 1 {
            let leaf = self.leaf_mut(id);
            let pos = leaf.find_le(off).filter(|&p| leaf.recs[p].offset == off)?;
            return Some(leaf.remove_at(pos));
        }
        let slot = self.inner(id).find_child(off);
        let child = self.inner(id).children[slot];
        let rec = self.remove_below(child, level - 1, off)?;
        if self.node_len(child, level - 1) != 0 {
            let key = self.first_key(child, level - 1);
            self.inner_mut(id).keys[slot] = key;
        }
        self.rebalance(id, slot, level - 1);
        Some(rec)
    }

    fn node_len(&self, id: NodeId, level: u32) -> usize {
        if level == 1 {
            usize::from(self.leaf(id).len)
        } else {
            usize::from(self.inner(id).len)
        }
    }

    /// After a removal below child `slot` of inner node `id`, merges that
    /// child with a neighbour if it fell below half full and both fit in one
    /// node.
    fn rebalance(&mut self, id: NodeId, slot: usize, child_level: u32) {
        let cap = if child_level == 1 { R } else { K };
        let children = self.inner(id).children;
        let child = children[slot];
        let len = self.node_len(child, child_level);
        if len >= cap.div_ceil(2) {
            return;
        }
        if len == 0 {
            // Possible without a merge when the only sibling is full: drop
            // the child; an emptied parent is dropped one level up in turn.
            if child_level == 1 {
                self.unlink_leaf(child);
                self.release_leaf(child);
            } else {
                self.release_inner(child);
            }
            self.inner_mut(id).remove_at(slot);
            return;
        }
        let nchildren = usize::from(self.inner(id).len);
        // Merge the right one of a pair into the left one.
        let left_slot = if slot > 0 && self.node_len(children[slot - 1], child_level) + len <= cap {
            slot - 1
        } else if slot + 1 < nchildren
            && self.node_len(children[slot + 1], child_level) + len <= cap
        {
            slot
        } else {
            return;
        };
        let (left, right) = (children[left_slot], children[left_slot + 1]);
        if child_level == 1 {
            self.merge_leaves(left, right);
            self.release_leaf(right);
        } else {
            self.merge_inners(left, right);
            self.release_inner(right);
        }
        let inner = self.inner_mut(id);
        inner.remove_at(left_slot + 1);
        if self.node_len(left, child_level) != 0 {
            let key = self.first_key(left, child_level);
            self.inner_mut(id).keys[left_slot] = key;
        }
    }

    /// Takes leaf `id` out of the leaf list.
    fn unlink_leaf(&mut self, id: NodeId) {
        let (prev, next) = (self.leaf(id).prev, self.leaf(id).next);
        if prev != NIL {
            self.leaf_mut(prev).next = next;
        }
        if next != NIL {
            self.leaf_mut(next).prev = prev;
        }
    }

    fn merge_leaves(&mut self, left: NodeId, right: NodeId) {
        let r = self.leaf(right).clone();
        let l = self.leaf_mut(left);
        let at = usize::from(l.len);
        copy(&mut l.recs[at..at + usize::from(r.len)], r.recs());
        l.len += r.len;
        let mut refs = l.refs.get();
        refs.append(at, r.refs.get());
        l.refs.set(refs);
        l.next = r.next;
        if r.next != NIL {
            self.leaf_mut(r.next).prev = left;
        }
    }

    fn merge_inners(&mut self, left: NodeId, right: NodeId) {
        let r = self.inner(right).clone();
        let n = usize::from(r.len);
        let l = self.inner_mut(left);
        let at = usize::from(l.len);
        copy(&mut l.keys[at..at + n], &r.keys[..n]);
        copy(&mut l.children[at..at + n], &r.children[..n]);
        l.len += r.len;
    }

    /// Each record's offset and count, in order; for tests.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> Vec<(u64, u8)> {
        let mut out = Vec::new();
        let mut c = self.first_cursor();
        while let Some(at) = c {
            out.push((
                self.at(at).offset,
                self.leaf(at.leaf).refs.get().count(at.pos),
            ));
            c = self.next_cursor(at);
        }
        out
    }

    /// Sets every count to 0; for tests.
    #[cfg(test)]
    pub(crate) fn clear_counts(&mut self) {
        for leaf in self.leaves.iter_mut() {
            leaf.refs.set(Refs::default());
        }
    }

    /// Checks every invariant of the type; for tests.
    #[cfg(test)]
    pub(crate) fn check(&self) -> core::result::Result<(), &'static str> {
        if self.height == 0 {
            return match (self.root, self.count) {
                (NIL, 0) => Ok(()),
                _ => Err("empty tree with a root or records"),
            };
        }
        let mut leaves = 0;
        let mut count = 0;
        self.check_node(self.root, self.height, None, &mut leaves, &mut count)?;
        if count != self.count {
            return Err("record count is wrong");
        }
        // The leaf list visits the same records, sorted.
        let mut prev = NIL;
        let mut id = self.find_leaf(0);
        let mut last: Option<u64> = None;
        let mut listed = 0;
        while id != NIL {
            let leaf = self.leaf(id);
            if leaf.prev != prev {
                return Err("broken prev link");
            }
            for r in leaf.recs() {
                if last.is_some_and(|l| l >= r.offset) {
                    return Err("records out of order");
                }
                last = Some(r.offset);
            }
            listed += 1;
            prev = id;
            id = leaf.next;
        }
        if listed != leaves {
            return Err("leaf list misses leaves");
        }
        let mut free = 0;
        let mut id = self.free_leaves;
        while id != NIL {
            if self.leaf(id).len != 0 {
                return Err("free leaf list holds a live leaf");
            }
            id = self.leaf(id).next;
            free += 1;
        }
        if free != self.nfree_leaves || leaves + free != self.leaves.len() {
            return Err("leaf arena count is wrong");
        }
        let mut free = 0;
        let mut id = self.free_inners;
        while id != NIL {
            if self.inner(id).len != 0 {
                return Err("free inner list holds a live node");
            }
            id = self.inner(id).children[0];
            free += 1;
        }
        if free != self.nfree_inners {
            return Err("inner free count is wrong");
        }
        Ok(())
    }

    #[cfg(test)]
    fn check_node(
        &self,
        id: NodeId,
        level: u32,
        key: Option<u64>,
        leaves: &mut usize,
        count: &mut usize,
    ) -> core::result::Result<(), &'static str> {
        if self.node_len(id, level) == 0 {
            return Err("empty node");
        }
        if key.is_some_and(|k| k != self.first_key(id, level)) {
            return Err("inner key is not the subtree's first offset");
        }
        if level == 1 {
            let leaf = self.leaf(id);
            if leaf.recs[usize::from(leaf.len)..]
                .iter()
                .any(|r| r.offset != PAD)
            {
                return Err("leaf slot past the records is not padding");
            }
            let mut refs = leaf.refs.get();
            refs.truncate(usize::from(leaf.len));
            if refs != leaf.refs.get() {
                return Err("reference count past the records");
            }
            *leaves += 1;
            *count += usize::from(leaf.len);
            return Ok(());
        }
        let inner = self.inner(id);
        if inner.keys[usize::from(inner.len)..]
            .iter()
            .any(|&k| k != PAD)
        {
            return Err("inner slot past the keys is not padding");
        }
        for i in 0..usize::from(inner.len) {
            if i > 0 && inner.keys[i - 1] >= inner.keys[i] {
                return Err("inner keys out of order");
            }
            self.check_node(
                inner.children[i],
                level - 1,
                Some(inner.keys[i]),
                leaves,
                count,
            )?;
        }
        Ok(())
    }
}

/// Copies `src` into `dst`, of the same length. (`copy_from_slice` would
/// do, but its length-mismatch panic is a function that objtool in 6.12
/// does not know to be noreturn, and it warns about every instance.)
fn copy<T: Copy>(dst: &mut [T], src: &[T]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d = *s;
    }
}

/// Below this many bytes of arenas, [`ExtentTree::shrink`] does not bother.
const SHRINK_FLOOR: usize = 16 << 10;

/// Makes room in `arena`, of room `cap`, for `n` more nodes, counting its
/// `nfree` free ones: doubles the room (at least), charging `budget` first.
fn reserve_nodes<T>(
    arena: &mut KVVec<T>,
    cap: &mut usize,
    nfree: usize,
    n: usize,
    budget: &Budget,
) -> Result {
    if n <= nfree {
        return Ok(());
    }
    let needed = arena.len() + (n - nfree);
    if needed <= *cap {
        return Ok(());
    }
    // Keep every index addressable by a `NodeId`.
    if needed >= NIL as usize {
        return Err(ENOMEM);
    }
    // The vector grows to exactly this room: it doubles at most, and is
    // asked for at least double.
    let new_cap = needed.max(*cap * 2).min(NIL as usize - 1);
    let bytes = (new_cap - *cap) * core::mem::size_of::<T>();
    budget.charge(bytes)?;
    if let Err(e) = arena.reserve(new_cap - arena.len(), GFP_KERNEL_ACCOUNT) {
        budget.uncharge(bytes);
        return Err(e.into());
    }
    *cap = new_cap;
    Ok(())
}

/// Appends `node` to `arena`, where [`ExtentTree::reserve`] made room for
/// it and [`ExtentTree::insert_reserved`] checked that it is there: with
/// room, a push does not allocate and cannot fail.
fn push_reserved<T>(arena: &mut KVVec<T>, node: T) -> NodeId {
    let id = arena.len() as NodeId;
    if arena.push(node, GFP_NOWAIT).is_err() {
        pr_err!("extent tree: node pushed without a reservation\n");
    }
    id
}

/// Iterator over the records of an [`ExtentTree`] in offset order.
pub(crate) struct Iter<'a, const R: usize, const K: usize> {
    tree: &'a ExtentTree<R, K>,
    cursor: Option<Cursor>,
}

impl<'a, const R: usize, const K: usize> Iterator for Iter<'a, R, K> {
    type Item = &'a IomapIo;

    fn next(&mut self) -> Option<&'a IomapIo> {
        let c = self.cursor?;
        self.cursor = self.tree.next_cursor(c);
        Some(self.tree.at(c))
    }
}

impl<const R: usize, const K: usize> Records for ExtentTree<R, K> {
    fn len(&self) -> usize {
        self.count
    }

    fn lt(&self, off: u64) -> Option<IomapIo> {
        Self::lt(self, off)
    }

    fn ge(&self, off: u64) -> Option<IomapIo> {
        Self::ge(self, off)
    }

    fn replace(&mut self, rec: IomapIo) -> bool {
        Self::replace(self, rec)
    }

    fn remove(&mut self, off: u64) -> Option<IomapIo> {
        Self::remove(self, off)
    }

    fn insert_reserved(&mut self, rec: IomapIo) -> Result {
        Self::insert_reserved(self, rec)
    }

    fn insert(&mut self, rec: IomapIo, budget: &Budget) -> Result {
        Self::insert(self, rec, budget)
    }
}

/// The records of one leaf, copied out by [`ExtentTree::edit`] to be
/// changed step by step without walking the tree, then written back by
/// [`ExtentTree::commit`]. Room for two more records than a leaf: an edit
/// may insert two before it removes any (a split, then the new record).
pub(crate) struct LeafEdit<const R: usize> {
    leaf: NodeId,
    recs: [IomapIo; MAX_LEAF_RECS + 2],
    /// The counts, moving with their records.
    refs: Refs,
    len: usize,
    old_len: usize,
    /// The leaf's first offset, which its parent keys.
    first: u64,
    /// Whether the leaf is the root, with no key above it and no least
    /// size.
    root: bool,
    /// The previous leaf's last record, and where it is: it may be replaced
    /// (trimmed, or grown by a merge), which moves no key.
    before: Option<(Cursor, IomapIo)>,
    before_changed: bool,
    /// The next leaf's first record, for queries only.
    after: Option<IomapIo>,
    /// Whether an operation left what the copy can answer for; queries
    /// set it too, hence a cell.
    poisoned: Cell<bool>,
}

impl<const R: usize> LeafEdit<R> {
    /// Room for a copy of a leaf, for [`ExtentTree::edit`].
    pub(crate) fn new() -> Self {
        Self {
            leaf: NIL,
            recs: [IomapIo::default(); MAX_LEAF_RECS + 2],
            refs: Refs::default(),
            len: 0,
            old_len: 0,
            first: 0,
            root: false,
            before: None,
            before_changed: false,
            after: None,
            poisoned: Cell::new(false),
        }
    }

    /// The number of records the leaf held when copied out.
    pub(crate) fn old_len(&self) -> usize {
        self.old_len
    }

    /// Answers a query the copy cannot answer for: nothing, the edit to be
    /// discarded. Every query answers nothing from then on, so that the
    /// caller's loops end.
    fn poison(&self) -> Option<IomapIo> {
        self.poisoned.set(true);
        None
    }

    fn recs(&self) -> &[IomapIo] {
        &self.recs[..self.len]
    }

    /// Index of the first record at or after `off`.
    fn find_ge(&self, off: u64) -> usize {
        self.recs().partition_point(|r| r.offset < off)
    }
}

impl<const R: usize> Records for LeafEdit<R> {
    fn len(&self) -> usize {
        self.len
    }

    fn lt(&self, off: u64) -> Option<IomapIo> {
        if self.poisoned.get() {
            return None;
        }
        match self.find_ge(off).checked_sub(1) {
            Some(i) => Some(self.recs()[i]),
            None => match self.before {
                // Something earlier in the previous leaf would be the answer.
                Some((_, b)) if b.offset >= off => self.poison(),
                before => before.map(|(_, b)| b),
            },
        }
    }

    fn ge(&self, off: u64) -> Option<IomapIo> {
        if self.poisoned.get() {
            return None;
        }
        match self.recs().get(self.find_ge(off)) {
            Some(r) => Some(*r),
            None => match self.after {
                // Something later in the next leaf would be the answer.
                Some(a) if a.offset < off => self.poison(),
                after => after,
            },
        }
    }

    fn replace(&mut self, rec: IomapIo) -> bool {
        let i = self.find_ge(rec.offset);
        let len = self.len;
        match self.recs[..len].get_mut(i) {
            Some(r) if r.offset == rec.offset => {
                *r = rec;
                return true;
            }
            _ => {}
        }
        match (&mut self.before, self.after) {
            (Some((_, b)), _) if b.offset == rec.offset => {
                *b = rec;
                self.before_changed = true;
                true
            }
            (_, Some(a)) if a.offset == rec.offset => {
                self.poisoned.set(true);
                true
            }
            _ => false,
        }
    }

    fn remove(&mut self, off: u64) -> Option<IomapIo> {
        let i = self.find_ge(off);
        let Some(&rec) = self.recs().get(i).filter(|r| r.offset == off) else {
            // A neighbour's: the copy cannot answer for that.
            let outside = [self.before.map(|(_, b)| b), self.after];
            let rec = outside.into_iter().flatten().find(|r| r.offset == off)?;
            self.poisoned.set(true);
            return Some(rec);
        };
        let len = self.len;
        self.recs.copy_within(i + 1..len, i);
        self.len -= 1;
        self.refs.remove(i);
        Some(rec)
    }

    fn insert_reserved(&mut self, rec: IomapIo) -> Result {
        if self.len == self.recs.len() {
            return Err(ENOMEM);
        }
        let i = self.find_ge(rec.offset);
        let len = self.len;
        self.recs.copy_within(i..len, i + 1);
        self.recs[i] = rec;
        self.len += 1;
        self.refs.insert(i);
        Ok(())
    }

    fn insert(&mut self, rec: IomapIo, _budget: &Budget) -> Result {
        self.insert_reserved(rec)
    }
}
