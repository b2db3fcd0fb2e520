// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the mount's classic files (`classic_glue.c`): their
//! data through `FUSE_READ` and `FUSE_WRITE` (`connection/classic.rs`),
//! between the server and the glue's bounce buffers. Each function returns
//! a byte count or a negative errno.

use crate::connection::borrow;
use core::ffi::c_void;
use kernel::prelude::*;

/// Whether the mount's regular files are classic files: its server
/// negotiated neither iomap nor famfs.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_classic(conn: *const c_void) -> bool {
    // SAFETY: By the safety requirements.
    unsafe { borrow(conn) }.is_classic()
}

/// The most bytes one read asks for and one write sends.
///
/// # Safety
///
/// As for [`borrow`]; `max_read` and `max_write` are valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_io_sizes(
    conn: *const c_void,
    max_read: *mut usize,
    max_write: *mut usize,
) {
    // SAFETY: By the safety requirements.
    let (read, write) = unsafe { borrow(conn) }.io_sizes();
    // SAFETY: By the safety requirements.
    unsafe {
        max_read.write(read);
        max_write.write(write);
    }
}

/// `FUSE_READ` of the `len` bytes at `pos` of file `nodeid`, open as `fh`,
/// into `buf`: the bytes read, fewer at the end of the file.
///
/// # Safety
///
/// As for [`borrow`]; `buf` is valid for writes of `len` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_file_read(
    conn: *const c_void,
    nodeid: u64,
    fh: u64,
    pos: u64,
    buf: *mut u8,
    len: usize,
) -> isize {
    // SAFETY: By the safety requirements.
    match unsafe { borrow(conn) }.read(nodeid, fh, pos, len) {
        Ok(data) => {
            // SAFETY: `read` returns at most `len` bytes, which `buf` holds
            // by the safety requirements; the two do not overlap.
            unsafe { core::ptr::copy_nonoverlapping(data.as_ptr(), buf, data.len()) };
            // At most MAX_IO.
            data.len() as isize
        }
        Err(e) => e.to_errno() as isize,
    }
}

/// `FUSE_WRITE` of the `len` bytes at `buf` at `pos` of file `nodeid`,
/// open as `fh`: the bytes the server stored.
///
/// # Safety
///
/// As for [`borrow`]; `buf` is valid for reads of `len` bytes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_file_write(
    conn: *const c_void,
    nodeid: u64,
    fh: u64,
    pos: u64,
    buf: *const u8,
    len: usize,
) -> isize {
    // SAFETY: By the safety requirements.
    let bytes = unsafe { core::slice::from_raw_parts(buf, len) };
    let mut data = KVec::new();
    if let Err(e) = data.extend_from_slice(bytes, GFP_KERNEL_ACCOUNT) {
        return Error::from(e).to_errno() as isize;
    }
    // SAFETY: By the safety requirements.
    match unsafe { borrow(conn) }.write(nodeid, fh, pos, data) {
        // At most MAX_IO.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}
