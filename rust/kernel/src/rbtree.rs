// SPDX-License-Identifier: GPL-2.0

//! A sorted map, as the kernel's red-black tree `RBTree`, with the subset of
//! its API the module uses; on the host a `BTreeMap`.

use crate::alloc::{may_allocate, AllocError, Flags};
use std::collections::BTreeMap;
use std::ops::Bound;

/// A map from `K` to `V`, sorted by key.
pub struct RBTree<K, V>(BTreeMap<K, V>);

/// A node taken out of, or to go into, an [`RBTree`].
pub struct RBTreeNode<K, V> {
    key: K,
    value: V,
}

impl<K, V> RBTreeNode<K, V> {
    /// The node's key and value.
    pub fn to_key_value(self) -> (K, V) {
        (self.key, self.value)
    }
}

impl<K: Ord, V> RBTree<K, V> {
    /// An empty tree.
    pub fn new() -> Self {
        Self(BTreeMap::new())
    }

    /// The value of `key`, if any.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.0.get(key)
    }

    /// Inserts `value` under `key`, allocating its node; returns the node it
    /// replaced, if any.
    pub fn try_create_and_insert(
        &mut self,
        key: K,
        value: V,
        _flags: Flags,
    ) -> Result<Option<RBTreeNode<K, V>>, AllocError>
    where
        K: Clone,
    {
        may_allocate()?;
        Ok(self
            .0
            .insert(key.clone(), value)
            .map(|value| RBTreeNode { key, value }))
    }

    /// Removes `key`; returns its value, if any.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.0.remove(key)
    }

    /// A cursor at the smallest key, if the tree is not empty.
    pub fn cursor_front(&mut self) -> Option<Cursor<'_, K, V>>
    where
        K: Clone,
    {
        let key = self.0.keys().next()?.clone();
        Some(Cursor { tree: self, key })
    }

    /// The entries, by key.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &V)> {
        self.0.iter()
    }
}

impl<K: Ord, V> Default for RBTree<K, V> {
    fn default() -> Self {
        Self::new()
    }
}

/// A position in an [`RBTree`].
pub struct Cursor<'a, K, V> {
    tree: &'a mut RBTree<K, V>,
    key: K,
}

impl<'a, K: Ord + Clone, V> Cursor<'a, K, V> {
    /// The entry at the cursor.
    pub fn current(&self) -> (&K, &V) {
        self.tree
            .0
            .get_key_value(&self.key)
            .expect("a cursor's entry")
    }

    /// Removes the entry at the cursor; returns a cursor at the next entry,
    /// else the previous one, else none, and the removed node.
    pub fn remove_current(self) -> (Option<Self>, RBTreeNode<K, V>) {
        let map = &mut self.tree.0;
        let (key, value) = map.remove_entry(&self.key).expect("a cursor's entry");
        let next = map
            .range((Bound::Excluded(&key), Bound::Unbounded))
            .next()
            .or_else(|| map.range(..&key).next_back())
            .map(|(k, _)| k.clone());
        let cursor = next.map(|key| Cursor {
            tree: self.tree,
            key,
        });
        (cursor, RBTreeNode { key, value })
    }
}
