// SPDX-License-Identifier: GPL-2.0

//! A block device that a server opened and registered for the mount's I/O
//! (`FUSE_IOMAP_IOC_BACKING_OPEN`): the connection holds the server's open
//! file of it for as long as the connection lives, so that the
//! `struct block_device` that mappings point the iomap library at stays
//! valid under every I/O of the mount.

use crate::devices::Bdev;
use core::ffi::c_void;
use kernel::{ffi::c_int, prelude::*};

extern "C" {
    fn fuse_iomap_backing_get(fd: c_int, bdev: *mut *mut c_void, size: *mut u64) -> *mut c_void;
    fn fuse_iomap_glue_fput(file: *mut c_void);
    fn fuse_iomap_capable_rawio() -> bool;
}

/// Whether the current task has `CAP_SYS_RAWIO`.
pub(crate) fn capable_rawio() -> bool {
    // SAFETY: A pure query of the current task's capabilities.
    unsafe { fuse_iomap_capable_rawio() }
}

/// A reference to the open file of a block device.
///
/// # Invariants
///
/// `file` is a `struct file *` of a block device, referenced by this object.
pub(crate) struct BackingFile {
    file: *mut c_void,
}

// SAFETY: A file reference may be dropped from any thread.
unsafe impl Send for BackingFile {}
// SAFETY: The object offers nothing but its drop.
unsafe impl Sync for BackingFile {}

impl BackingFile {
    /// The block device open at the current task's `fd`, read and write:
    /// `EBADF` for no such file or one not open for both, `ENOTBLK` for a
    /// file that is no block device. Returns it with its `struct
    /// block_device` and its size in bytes.
    pub(crate) fn from_fd(fd: i32) -> Result<(Self, Bdev, u64)> {
        let mut bdev = core::ptr::null_mut();
        let mut size = 0;
        // SAFETY: `bdev` and `size` are valid for writes.
        let file = unsafe { fuse_iomap_backing_get(fd, &mut bdev, &mut size) };
        let file = kernel::error::from_err_ptr(file)?;
        // INVARIANT: fuse_iomap_backing_get() returned a referenced file of
        // a block device.
        Ok((Self { file }, Bdev(bdev), size))
    }
}

impl Drop for BackingFile {
    fn drop(&mut self) {
        // SAFETY: By the type invariant, this object holds the reference.
        unsafe { fuse_iomap_glue_fput(self.file) };
    }
}
