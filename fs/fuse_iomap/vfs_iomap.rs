// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the mount's file I/O: `iomap_glue.c`'s `iomap_ops`,
//! writeback's `map_blocks`, `iomap_valid`, and the end of a write's I/O,
//! forwarded here with the mount's connection.
//!
//! `iomap_begin` is the connection's (cache, then BPF, then
//! `FUSE_IOMAP_BEGIN`); its answer becomes the fields of a `struct iomap`
//! in `iomap.rs`. Each function returns 0 or a negative errno.

use crate::abi::{
    IomapBeginIn, IomapEndIn, IomapIoendIn, IOEND_APPEND, IOEND_DIRECT, IOEND_WRITEBACK, OP_WRITE,
    OP_WRITEBACK,
};
use crate::connection::{borrow, Connection};
use crate::iomap::{self, VfsMap};
use crate::namespace::refuse;
use core::ffi::c_void;
use kernel::{ffi::c_int, prelude::*};

/// `iomap_begin` for `opflags` (`FUSE_IOMAP_OP_*`): the destination in
/// `map`, and the source in `srcmap` when it differs (then `has_src`).
fn begin(
    conn: &Connection,
    nodeid: u64,
    pos: u64,
    len: u64,
    opflags: u32,
) -> Result<(VfsMap, Option<VfsMap>)> {
    let req = IomapBeginIn {
        opflags,
        reserved: 0,
        attr_ino: nodeid,
        pos,
        count: len,
    };
    let (answer, devices) = conn.iomap_begin_on(nodeid, &req)?;
    iomap::place(&answer, opflags, &devices)
        .map_err(|why| refuse(crate::abi::FUSE_IOMAP_BEGIN, nodeid, why))
}

/// `iomap_ops.iomap_begin` with the library's `IOMAP_*` `flags`.
///
/// # Safety
///
/// As for [`borrow`]; `map`, `srcmap` and `has_src` are valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_iomap_begin(
    conn: *const c_void,
    nodeid: u64,
    pos: u64,
    len: u64,
    flags: u32,
    map: *mut VfsMap,
    srcmap: *mut VfsMap,
    has_src: *mut bool,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    match begin(&conn, nodeid, pos, len, iomap::opflags(flags)) {
        Ok((m, src)) => {
            // SAFETY: By the safety requirements.
            unsafe {
                *map = m;
                *has_src = src.is_some();
                if let Some(src) = src {
                    *srcmap = src;
                }
            }
            0
        }
        Err(e) => e.to_errno(),
    }
}

/// Writeback's `map_blocks`: the mapping of dirty data at `pos`, which
/// must be storage.
///
/// # Safety
///
/// As for [`borrow`]; `map` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_map_blocks(
    conn: *const c_void,
    nodeid: u64,
    pos: u64,
    len: u64,
    map: *mut VfsMap,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    match begin(&conn, nodeid, pos, len, OP_WRITE | OP_WRITEBACK) {
        // SAFETY: By the safety requirements.
        Ok((m, _)) => unsafe {
            *map = m;
            0
        },
        Err(e) => e.to_errno(),
    }
}

/// `iomap_ops.iomap_end`: `FUSE_IOMAP_END` for a mapping that asks for it.
///
/// # Safety
///
/// As for [`borrow`]; `map` is valid for reads.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_iomap_end(
    conn: *const c_void,
    nodeid: u64,
    pos: u64,
    len: u64,
    written: i64,
    flags: u32,
    map: *const VfsMap,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (conn, map) = unsafe { (borrow(conn), &*map) };
    if map.flags & iomap::IOMAP_F_WANT_END == 0 {
        return 0;
    }
    let req = IomapEndIn {
        opflags: iomap::opflags(flags),
        reserved: 0,
        attr_ino: nodeid,
        pos,
        count: len,
        written,
        map: iomap::from_vfs(map),
    };
    match conn.iomap_end(nodeid, &req) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `iomap_folio_ops.iomap_valid`: whether a mapping's cookie still
/// describes the inode's cache.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_iomap_valid(
    conn: *const c_void,
    nodeid: u64,
    cookie: u64,
) -> bool {
    // SAFETY: By the safety requirements.
    unsafe { borrow(conn) }.valid(nodeid, cookie)
}

/// The end of a write's I/O of `len` bytes at `pos` (direct, or a writeback
/// ioend) on a file now of `size` bytes, that ended with `error`:
/// `FUSE_IOMAP_IOEND` for the part inside the file. `appended` when the
/// I/O grew the file.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_ioend(
    conn: *const c_void,
    nodeid: u64,
    direct: bool,
    unwritten: bool,
    shared: bool,
    appended: bool,
    error: c_int,
    pos: u64,
    len: u64,
    size: u64,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    let kind = if direct {
        IOEND_DIRECT
    } else {
        IOEND_WRITEBACK
    };
    let req = IomapIoendIn {
        flags: iomap::ioend_flags(kind, unwritten, shared)
            | if appended { IOEND_APPEND } else { 0 },
        error: error.clamp(-4095, 0),
        attr_ino: nodeid,
        pos,
        new_addr: crate::abi::NULL_ADDR,
        written: iomap::written_in_file(pos, len, size),
        dev: 0,
        pad: 0,
    };
    match conn.ioend(nodeid, &req) {
        Ok(_) => 0,
        Err(e) => e.to_errno(),
    }
}
