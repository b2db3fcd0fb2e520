// SPDX-License-Identifier: GPL-2.0

//! The extent tree against `BTreeMap`: random inserts and removals, every
//! query after every step, and the tree's structural invariants.

use crate::abi::IomapIo;
use crate::budget::Budget;
use crate::extent_tree::{ExtentTree, LeafEdit, Records, LEAF_RECS};
use proptest::prelude::*;
use std::collections::BTreeMap;

/// A budget that never refuses.
static UNBOUNDED: Budget = Budget::new(usize::MAX);

/// A record of one block at block `block`; records never overlap.
fn rec(block: u64) -> IomapIo {
    IomapIo {
        offset: block * 4096,
        length: 4096,
        addr: block * 8192,
        ..Default::default()
    }
}

fn same(tree: &ExtentTree, model: &BTreeMap<u64, IomapIo>) {
    tree.check().unwrap();
    assert_eq!(tree.len(), model.len());
    assert!(tree.iter().eq(model.values()));
}

fn queries(tree: &ExtentTree, model: &BTreeMap<u64, IomapIo>, off: u64) {
    assert_eq!(
        tree.lt(off),
        model.range(..off).next_back().map(|(_, r)| *r)
    );
    assert_eq!(tree.ge(off), model.range(off..).next().map(|(_, r)| *r));
    let containing = model
        .range(..=off)
        .next_back()
        .map(|(_, r)| r)
        .filter(|r| off < r.offset + r.length);
    assert_eq!(tree.lookup(off), containing);
}

#[derive(Debug, Clone)]
enum Op {
    Insert(u64),
    Remove(u64),
}

fn ops(blocks: u64) -> impl Strategy<Value = Vec<Op>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..blocks).prop_map(Op::Insert),
            2 => (0..blocks).prop_map(Op::Remove),
        ],
        0..600,
    )
}

fn run(ops: &[Op]) {
    let mut tree: ExtentTree = ExtentTree::new();
    let mut model = BTreeMap::new();
    for op in ops {
        match *op {
            Op::Insert(b) if !model.contains_key(&(b * 4096)) => {
                tree.insert(rec(b), &UNBOUNDED).unwrap();
                model.insert(b * 4096, rec(b));
            }
            Op::Insert(_) => {}
            Op::Remove(b) => {
                assert_eq!(tree.remove(b * 4096), model.remove(&(b * 4096)));
            }
        }
        same(&tree, &model);
        for off in [0, 4095, 4096, 100_000, u64::MAX] {
            queries(&tree, &model, off);
        }
    }
    for off in (0..300 * 4096).step_by(1024) {
        queries(&tree, &model, off);
    }
}

#[derive(Debug, Clone)]
enum RefOp {
    /// Inserted through the tree, or through a copy of its leaf.
    Insert(u64, bool),
    Remove(u64, bool),
    Lookup(u64),
    Clear,
}

fn ref_ops() -> impl Strategy<Value = Vec<RefOp>> {
    prop::collection::vec(
        prop_oneof![
            3 => (0..100u64, any::<bool>()).prop_map(|(b, e)| RefOp::Insert(b, e)),
            2 => (0..100u64, any::<bool>()).prop_map(|(b, e)| RefOp::Remove(b, e)),
            3 => (0..100u64).prop_map(RefOp::Lookup),
            1 => Just(RefOp::Clear),
        ],
        0..400,
    )
}

/// Applies `change` to a copy of the leaf that holds block `b`, and
/// writes it back; or to the tree, when the copy may not be written back.
fn through_leaf(tree: &mut ExtentTree, b: u64, change: impl Fn(&mut dyn Records)) {
    let mut edit = LeafEdit::new();
    if tree.edit(b * 4096, &mut edit) {
        change(&mut edit);
        if tree.commit(&edit) {
            return;
        }
    }
    change(tree);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// CLOCK counts follow their records through inserts, removals, splits
    /// and merges, in the tree and in a copied leaf: 0 after an insert,
    /// raised by a lookup hit up to 2, lowered by nothing else here.
    #[test]
    fn reference_counts_follow_their_records(ops in ref_ops()) {
        let mut tree: ExtentTree = ExtentTree::new();
        let mut model: BTreeMap<u64, u8> = BTreeMap::new();
        for op in ops {
            match op {
                RefOp::Insert(b, _) if model.contains_key(&(b * 4096)) => {}
                RefOp::Insert(b, false) => {
                    tree.insert(rec(b), &UNBOUNDED).unwrap();
                    model.insert(b * 4096, 0);
                }
                RefOp::Insert(b, true) => {
                    tree.reserve(1, &UNBOUNDED).unwrap();
                    through_leaf(&mut tree, b, |r| r.insert_reserved(rec(b)).unwrap());
                    model.insert(b * 4096, 0);
                }
                RefOp::Remove(b, false) => {
                    tree.remove(b * 4096);
                    model.remove(&(b * 4096));
                }
                RefOp::Remove(b, true) => {
                    through_leaf(&mut tree, b, |r| {
                        r.remove(b * 4096);
                    });
                    model.remove(&(b * 4096));
                }
                RefOp::Lookup(b) => {
                    if tree.lookup(b * 4096 + 1).is_some() {
                        model.entry(b * 4096).and_modify(|c| *c = (*c + 1).min(2));
                    }
                }
                RefOp::Clear => {
                    tree.clear_counts();
                    model.values_mut().for_each(|c| *c = 0);
                }
            }
            tree.check().unwrap();
            let want: Vec<(u64, u8)> = model.iter().map(|(o, c)| (*o, *c)).collect();
            prop_assert_eq!(tree.counts(), want);
        }
    }

    #[test]
    fn dense_keys_agree_with_btreemap(ops in ops(64)) {
        run(&ops);
    }

    #[test]
    fn sparse_keys_agree_with_btreemap(ops in ops(300)) {
        run(&ops);
    }
}

#[test]
fn ascending_inserts_fill_leaves() {
    let mut tree: ExtentTree = ExtentTree::new();
    let n = 70_000;
    for b in 0..n {
        tree.insert(rec(b), &UNBOUNDED).unwrap();
    }
    tree.check().unwrap();
    // Appending leaves every leaf full but the last.
    let leaves = (n as usize).div_ceil(LEAF_RECS);
    assert!(tree.node_bytes() < leaves * 256 * 12 / 10);
    for b in (0..n).step_by(997) {
        assert_eq!(tree.lookup(b * 4096 + 1), Some(&rec(b)));
    }
}

#[test]
fn descending_and_interleaved_removals_shrink_the_tree() {
    let mut tree: ExtentTree = ExtentTree::new();
    for b in (0..5000).rev() {
        tree.insert(rec(b), &UNBOUNDED).unwrap();
    }
    tree.check().unwrap();
    let full = tree.node_bytes();
    for b in (0..5000).step_by(2) {
        assert_eq!(tree.remove(b * 4096), Some(rec(b)));
    }
    tree.check().unwrap();
    // Nodes merge: half the records need well under the nodes of all.
    assert!(
        tree.node_bytes() < full * 3 / 4,
        "{} of {}",
        tree.node_bytes(),
        full
    );
    for b in (1..5000).step_by(2) {
        assert_eq!(tree.remove(b * 4096), Some(rec(b)));
        tree.check().unwrap();
    }
    assert_eq!(tree.len(), 0);
    assert_eq!(tree.node_bytes(), 0);
    assert_eq!(tree.iter().count(), 0);
}

#[test]
fn remove_of_a_missing_offset_changes_nothing() {
    let mut tree: ExtentTree = ExtentTree::new();
    assert_eq!(tree.remove(0), None);
    tree.insert(rec(1), &UNBOUNDED).unwrap();
    assert_eq!(tree.remove(4097), None);
    assert_eq!(tree.remove(0), None);
    tree.check().unwrap();
    assert_eq!(tree.len(), 1);
}

#[test]
fn failed_insert_leaves_the_tree_unchanged() {
    let mut tree: ExtentTree = ExtentTree::new();
    let mut model = BTreeMap::new();
    let mut failures = 0;
    for b in 0..2000u64 {
        let r = rec(b * 7919 % 2000);
        // Fail the first allocation of every tenth insert.
        kernel::alloc::fail_after((b % 10 == 0).then_some(0));
        match tree.insert(r, &UNBOUNDED) {
            Ok(()) => {
                model.insert(r.offset, r);
            }
            Err(e) => {
                assert_eq!(e, kernel::error::code::ENOMEM);
                failures += 1;
            }
        }
        kernel::alloc::fail_after(None);
        same(&tree, &model);
    }
    assert!(failures > 0);
}

#[test]
fn reserved_inserts_do_not_allocate() {
    let mut tree: ExtentTree = ExtentTree::new();
    for b in 0..1000 {
        tree.insert(rec(b * 2), &UNBOUNDED).unwrap();
    }
    tree.reserve(4, &UNBOUNDED).unwrap();
    kernel::alloc::fail_after(Some(0));
    for b in 0..4 {
        tree.insert(rec(b * 2 + 1), &UNBOUNDED).unwrap();
    }
    kernel::alloc::fail_after(None);
    tree.check().unwrap();
}

#[test]
fn growth_past_the_budget_is_enospc_and_allocates_nothing() {
    let budget = Budget::new(4096);
    let mut tree: ExtentTree = ExtentTree::new();
    let mut model = BTreeMap::new();
    let mut refused = 0;
    for b in 0..200 {
        match tree.insert(rec(b), &budget) {
            Ok(()) => {
                model.insert(rec(b).offset, rec(b));
            }
            Err(e) => {
                assert_eq!(e, kernel::error::code::ENOSPC);
                refused += 1;
            }
        }
        assert!(budget.used() <= budget.limit());
        assert_eq!(budget.used(), tree.charged_bytes());
        same(&tree, &model);
    }
    assert!(refused > 0);
    tree.clear(&budget);
    assert_eq!(budget.used(), 0);
}

#[test]
fn shrink_gives_memory_back_and_keeps_every_record() {
    let budget = Budget::new(usize::MAX);
    let mut tree: ExtentTree = ExtentTree::new();
    for b in 0..20_000 {
        tree.insert(rec(b), &budget).unwrap();
    }
    let full = budget.used();
    for b in 0..20_000 {
        if b % 100 != 0 {
            tree.remove(rec(b).offset);
        }
    }
    // Removals alone keep the arenas.
    assert_eq!(budget.used(), full);
    tree.shrink(&budget);
    tree.check().unwrap();
    assert_eq!(budget.used(), tree.charged_bytes());
    assert!(budget.used() < full / 10, "{} of {}", budget.used(), full);
    let kept: Vec<_> = tree.iter().copied().collect();
    let want: Vec<_> = (0..20_000).step_by(100).map(rec).collect();
    assert_eq!(kept, want);
    // An emptied tree frees everything.
    for r in want {
        tree.remove(r.offset);
    }
    tree.shrink(&budget);
    assert_eq!(budget.used(), 0);
}

#[test]
fn a_leaf_copy_refuses_what_only_the_tree_can_answer() {
    let mut tree: ExtentTree = ExtentTree::new();
    for b in 0..3 * LEAF_RECS as u64 {
        tree.insert(rec(b), &UNBOUNDED).unwrap();
    }
    let mid = LEAF_RECS as u64 + 1;
    // The neighbours' edge records answer for the tree.
    let mut edit = LeafEdit::new();
    assert!(tree.edit(mid * 4096, &mut edit));
    assert_eq!(
        edit.lt(LEAF_RECS as u64 * 4096),
        Some(rec(LEAF_RECS as u64 - 1))
    );
    assert_eq!(
        edit.ge(2 * LEAF_RECS as u64 * 4096),
        Some(rec(2 * LEAF_RECS as u64))
    );
    assert!(tree.commit(&edit));
    // Past them, the copy answers nothing and cannot be written back.
    for query in [0, 1] {
        let mut edit = LeafEdit::new();
        assert!(tree.edit(mid * 4096, &mut edit));
        let answer = match query {
            0 => edit.lt(4096),
            _ => edit.ge((2 * LEAF_RECS as u64 + 1) * 4096),
        };
        assert_eq!(answer, None);
        assert_eq!(edit.ge(0), None);
        assert!(!tree.commit(&edit));
    }
    // So can a change to the next leaf's first record.
    assert!(tree.edit(mid * 4096, &mut edit));
    assert!(edit.remove(2 * LEAF_RECS as u64 * 4096).is_some());
    assert!(!tree.commit(&edit));
    tree.check().unwrap();
    assert_eq!(tree.len(), 3 * LEAF_RECS);
}
