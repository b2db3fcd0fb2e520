// SPDX-License-Identifier: GPL-2.0

//! The extent tree against `BTreeMap`: random inserts and removals, every
//! query after every step, and the tree's structural invariants.

use crate::abi::IomapIo;
use crate::budget::Budget;
use crate::extent_tree::{ExtentTree, LEAF_RECS};
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

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

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
