// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the mount's famfs files: `famfs_glue.c`'s `iomap_ops`
//! for the DAX library, the fmap at open, and the devices writeback and
//! `MAP_SYNC` need, forwarded here with the mount's connection.
//!
//! A famfs file's `iomap_begin` never asks the server: it resolves through
//! the file's fmap (`famfs.rs`) and takes the device from the lock-free
//! daxdev table (`daxdevs.rs`); on a `famfs_resolve=iomap` mount it asks
//! the BPF program or the server instead (`famfs_iomap.rs`). The mapping
//! carries a reference on that
//! device from `iomap_begin` to `iomap_end`, so that a server closing its
//! file (which empties the table) cannot release the claim under a read,
//! a write or a fault. Each function returns 0 or a negative errno.

use crate::abi::{MappingType, NULL_ADDR};
use crate::connection::{borrow, Connection};
use crate::dax::Dax;
use crate::famfs::DaxMapping;
use crate::iomap;
use core::ffi::c_void;
use core::ptr;
use kernel::{ffi::c_int, prelude::*, sync::Arc};

/// The fields of a `struct iomap` for the DAX library (`struct
/// fuse_iomap_famfs_map` in `glue.h`), and the device reference that
/// `iomap->private` carries to `iomap_end`.
#[repr(C)]
pub(crate) struct FamfsMap {
    addr: u64,
    offset: u64,
    length: u64,
    /// `IOMAP_HOLE` or `IOMAP_MAPPED`.
    r#type: u16,
    dax_dev: *mut c_void,
    /// An `Arc<Dax>` turned into a pointer, or null for a hole; given back
    /// with [`fuse_iomap_rs_famfs_put`].
    dax: *const c_void,
}

/// The mapping of the `len` bytes at `pos` of famfs file `nodeid`, for
/// an operation with `opflags`.
fn begin(conn: &Connection, nodeid: u64, pos: u64, len: u64, opflags: u32) -> Result<FamfsMap> {
    Ok(match conn.famfs_map(nodeid, pos, len, opflags)? {
        DaxMapping::Hole(length) => FamfsMap {
            addr: NULL_ADDR,
            offset: pos,
            length,
            r#type: MappingType::Hole as u16,
            dax_dev: ptr::null_mut(),
            dax: ptr::null(),
        },
        DaxMapping::Mapped(r, dax) => FamfsMap {
            addr: dax.start_off() + r.dev_offset,
            offset: pos,
            length: r.length,
            r#type: MappingType::Mapped as u16,
            dax_dev: dax.dax_device(),
            dax: Arc::into_raw(dax).cast(),
        },
    })
}

/// Whether the mount's regular files are famfs (DAX) files.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_famfs(conn: *const c_void) -> bool {
    // SAFETY: By the safety requirements.
    unsafe { borrow(conn) }.is_famfs()
}

/// The fmap of famfs file `nodeid`, asked with `GET_FMAP` (at open, and
/// after the server changed the file's allocation), and its devices.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_famfs_open(
    conn: *const c_void,
    nodeid: u64,
) -> c_int {
    // SAFETY: By the safety requirements.
    match unsafe { borrow(conn) }.open(nodeid) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `iomap_ops.iomap_begin` of a famfs file, with the library's `IOMAP_*`
/// `flags`.
///
/// # Safety
///
/// As for [`borrow`]; `map` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_famfs_begin(
    conn: *const c_void,
    nodeid: u64,
    pos: u64,
    len: u64,
    flags: u32,
    map: *mut FamfsMap,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    match begin(&conn, nodeid, pos, len, iomap::opflags(flags)) {
        Ok(m) => {
            // SAFETY: By the safety requirements.
            unsafe { map.write(m) };
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Gives back the device reference of a mapping or of
/// [`fuse_iomap_rs_famfs_devices`]; null is none.
///
/// # Safety
///
/// `dax` is null or a reference that `fuse_iomap_rs_famfs_begin` or
/// `fuse_iomap_rs_famfs_devices` gave and that was not given back yet.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_famfs_put(dax: *const c_void) {
    if !dax.is_null() {
        // SAFETY: By the safety requirements, `dax` came from
        // `Arc::into_raw` and is given back once.
        drop(unsafe { Arc::<Dax>::from_raw(dax.cast()) });
    }
}

/// The first device of famfs file `nodeid`, for writeback, which flushes
/// the CPU cache over the file's dirty pages whatever device they are on:
/// its `struct dax_device` in `dax_dev`, and a reference to give back with
/// [`fuse_iomap_rs_famfs_put`] (null on error, with `err` set). With
/// `sync`, the error is `EOPNOTSUPP` unless every device of the file is
/// synchronous, as `MAP_SYNC` needs.
///
/// # Safety
///
/// As for [`borrow`]; `dax_dev` and `err` are valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_famfs_devices(
    conn: *const c_void,
    nodeid: u64,
    sync: bool,
    dax_dev: *mut *mut c_void,
    err: *mut c_int,
) -> *const c_void {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    let first = conn.famfs_devices(nodeid).and_then(|devices| {
        if sync && !devices.iter().all(|d| d.synchronous()) {
            return Err(crate::errno::eopnotsupp());
        }
        devices.first().cloned().ok_or(EIO)
    });
    match first {
        Ok(dax) => {
            // SAFETY: By the safety requirements.
            unsafe { *dax_dev = dax.dax_device() };
            Arc::into_raw(dax).cast()
        }
        Err(e) => {
            // SAFETY: By the safety requirements.
            unsafe { *err = e.to_errno() };
            ptr::null()
        }
    }
}
