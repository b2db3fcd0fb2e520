// SPDX-License-Identifier: GPL-2.0

//! User memory: readers and writers of a user slice, as the kernel's
//! `UserSliceReader` and `UserSliceWriter`.
//!
//! On the host the "user memory" is a buffer the test owns, and a test can
//! make it fault after a number of bytes, as a buffer that runs into an
//! unmapped page does: the copy that crosses that point fails with
//! `EFAULT`, as does one past the slice's end.

use crate::error::{code::EFAULT, Result};
use crate::types::{AsBytes, FromBytes};
use core::mem::size_of;

/// Reads from a user slice, front to back.
pub struct UserSliceReader {
    data: Vec<u8>,
    pos: usize,
    fault_at: usize,
}

impl UserSliceReader {
    /// A reader of a copy of `data`.
    pub fn from_bytes(data: &[u8]) -> Self {
        Self::faulting(data, data.len())
    }

    /// A reader of a copy of `data` whose bytes from `fault_at` on fault.
    pub fn faulting(data: &[u8], fault_at: usize) -> Self {
        Self {
            data: data.to_vec(),
            pos: 0,
            fault_at,
        }
    }

    /// The bytes left to read.
    pub fn len(&self) -> usize {
        self.data.len() - self.pos
    }

    /// Whether no byte is left to read.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Reads `out.len()` bytes; `EFAULT` past the end or at a fault.
    pub fn read_slice(&mut self, out: &mut [u8]) -> Result {
        let end = self.pos.checked_add(out.len()).ok_or(EFAULT)?;
        if end > self.data.len() || end > self.fault_at {
            return Err(EFAULT);
        }
        out.copy_from_slice(&self.data[self.pos..end]);
        self.pos = end;
        Ok(())
    }

    /// Reads a `T`; `EFAULT` as [`Self::read_slice`].
    pub fn read<T: FromBytes>(&mut self) -> Result<T> {
        let mut bytes = vec![0u8; size_of::<T>()];
        self.read_slice(&mut bytes)?;
        // SAFETY: `bytes` holds `size_of::<T>()` bytes, read without
        // alignment; `T: FromBytes` makes any bytes a valid `T`.
        Ok(unsafe { core::ptr::read_unaligned(bytes.as_ptr().cast::<T>()) })
    }
}

/// Writes to a user slice, front to back.
pub struct UserSliceWriter {
    data: Vec<u8>,
    len: usize,
    fault_at: usize,
}

impl UserSliceWriter {
    /// A writer of a buffer of `len` bytes.
    pub fn new(len: usize) -> Self {
        Self::faulting(len, len)
    }

    /// A writer of a buffer of `len` bytes whose bytes from `fault_at` on
    /// fault.
    pub fn faulting(len: usize, fault_at: usize) -> Self {
        Self {
            data: Vec::new(),
            len,
            fault_at,
        }
    }

    /// What was written so far.
    pub fn written(&self) -> &[u8] {
        &self.data
    }

    /// The room left.
    pub fn len(&self) -> usize {
        self.len - self.data.len()
    }

    /// Whether no room is left.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `data`; `EFAULT` past the end or at a fault.
    pub fn write_slice(&mut self, data: &[u8]) -> Result {
        let end = self.data.len().checked_add(data.len()).ok_or(EFAULT)?;
        if end > self.len || end > self.fault_at {
            return Err(EFAULT);
        }
        self.data.extend_from_slice(data);
        Ok(())
    }

    /// Writes `value`; `EFAULT` as [`Self::write_slice`].
    pub fn write<T: AsBytes>(&mut self, value: &T) -> Result {
        // SAFETY: `T: AsBytes` initialises every byte of its
        // `size_of::<T>()`, readable for as long as `value` is borrowed.
        let bytes = unsafe {
            core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>())
        };
        self.write_slice(bytes)
    }
}
