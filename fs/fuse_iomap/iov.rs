// SPDX-License-Identifier: GPL-2.0

//! The server's buffers in the module: the `struct iov_iter` of the device
//! file's `read_iter`/`write_iter`, which covers `read(2)`, `readv(2)` and
//! their write counterparts alike, as on `/dev/fuse`.

use crate::msgbuf::{MsgReader, MsgWriter};
use core::ffi::c_void;
use core::mem::{size_of, MaybeUninit};
use kernel::{
    bindings,
    prelude::*,
    types::{AsBytes, FromBytes},
};

extern "C" {
    fn fuse_iomap_copy_from_iter(
        addr: *mut c_void,
        bytes: usize,
        iter: *mut bindings::iov_iter,
    ) -> usize;
    fn fuse_iomap_copy_to_iter(
        addr: *const c_void,
        bytes: usize,
        iter: *mut bindings::iov_iter,
    ) -> usize;
    fn fuse_iomap_iov_iter_count(iter: *const bindings::iov_iter) -> usize;
}

/// A message the server wrote, in the `iov_iter` of its `write_iter`.
///
/// # Invariants
///
/// `iter` is valid and used by nothing else for as long as this object
/// lives.
pub(crate) struct IovReader(*mut bindings::iov_iter);

impl IovReader {
    /// A reader of `iter`.
    ///
    /// # Safety
    ///
    /// `iter` is valid, and used by nothing else, for the object's life.
    pub(crate) unsafe fn new(iter: *mut bindings::iov_iter) -> Self {
        // INVARIANT: By the safety requirements.
        Self(iter)
    }
}

impl MsgReader for IovReader {
    fn len(&self) -> usize {
        // SAFETY: By the type invariant.
        unsafe { fuse_iomap_iov_iter_count(self.0) }
    }

    fn read_slice(&mut self, out: &mut [u8]) -> Result {
        // SAFETY: `out` is writable for its length; `self.0` by the type
        // invariant.
        let copied =
            unsafe { fuse_iomap_copy_from_iter(out.as_mut_ptr().cast(), out.len(), self.0) };
        if copied != out.len() {
            return Err(EFAULT);
        }
        Ok(())
    }

    fn read<T: FromBytes>(&mut self) -> Result<T> {
        let mut value = MaybeUninit::<T>::uninit();
        // SAFETY: `value` is writable for `size_of::<T>()` bytes; `self.0`
        // by the type invariant.
        let copied =
            unsafe { fuse_iomap_copy_from_iter(value.as_mut_ptr().cast(), size_of::<T>(), self.0) };
        if copied != size_of::<T>() {
            return Err(EFAULT);
        }
        // SAFETY: Every byte of `value` was written above, and `T:
        // FromBytes` makes any bytes a valid `T`.
        Ok(unsafe { value.assume_init() })
    }
}

/// The buffer the server reads a request into: the `iov_iter` of its
/// `read_iter`.
///
/// # Invariants
///
/// `iter` is valid and used by nothing else for as long as this object
/// lives.
pub(crate) struct IovWriter(*mut bindings::iov_iter);

impl IovWriter {
    /// A writer of `iter`.
    ///
    /// # Safety
    ///
    /// `iter` is valid, and used by nothing else, for the object's life.
    pub(crate) unsafe fn new(iter: *mut bindings::iov_iter) -> Self {
        // INVARIANT: By the safety requirements.
        Self(iter)
    }
}

impl MsgWriter for IovWriter {
    fn len(&self) -> usize {
        // SAFETY: By the type invariant.
        unsafe { fuse_iomap_iov_iter_count(self.0) }
    }

    fn write_slice(&mut self, data: &[u8]) -> Result {
        // SAFETY: `data` is readable for its length; `self.0` by the type
        // invariant.
        let copied = unsafe { fuse_iomap_copy_to_iter(data.as_ptr().cast(), data.len(), self.0) };
        if copied != data.len() {
            return Err(EFAULT);
        }
        Ok(())
    }

    fn write<T: AsBytes>(&mut self, value: &T) -> Result {
        // SAFETY: `T: AsBytes` initialises every byte of its
        // `size_of::<T>()`, readable for as long as `value` is borrowed.
        let bytes = unsafe {
            core::slice::from_raw_parts((value as *const T).cast::<u8>(), size_of::<T>())
        };
        self.write_slice(bytes)
    }
}
