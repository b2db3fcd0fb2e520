// SPDX-License-Identifier: GPL-2.0

//! Synchronisation: the kernel crate's reference-counted `Arc`, whose
//! allocation can fail.

use crate::alloc::{may_allocate, AllocError, Flags};
use core::ops::Deref;

/// A reference-counted pointer, as the kernel's `Arc<T>`.
pub struct Arc<T>(std::sync::Arc<T>);

impl<T> Arc<T> {
    /// Allocates `x` behind a new reference count.
    pub fn new(x: T, _flags: Flags) -> Result<Self, AllocError> {
        may_allocate()?;
        Ok(Self(std::sync::Arc::new(x)))
    }
}

impl<T> Clone for Arc<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> Deref for Arc<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}
