// SPDX-License-Identifier: GPL-2.0

//! BPF for the host: a "struct_ops table" is a [`Program`] of Rust
//! functions, which the stand-ins of `bpf_glue.c` call as the kernel calls a
//! registered table's programs. A program reaches the caches through the
//! module's own kfunc functions (`bpf.rs`), as a BPF program does through
//! the kfuncs.

use crate::abi::{IomapBeginOut, IomapIoendIn, IomapIoendOut};
use core::ffi::{c_int, c_void};

/// `iomap_begin`: the program's `fbi`, position, count and op flags.
pub(crate) type Begin = fn(*mut c_void, u64, u64, u32, &mut IomapBeginOut) -> c_int;
/// `iomap_end`: position, count, bytes written, op flags.
pub(crate) type End = fn(*mut c_void, u64, u64, i64, u32) -> c_int;
/// `iomap_ioend`.
pub(crate) type Ioend = fn(*mut c_void, &IomapIoendIn, &mut IomapIoendOut) -> c_int;

/// A table of programs; an operation without one falls back.
#[derive(Default)]
pub(crate) struct Program {
    pub(crate) begin: Option<Begin>,
    pub(crate) end: Option<End>,
    pub(crate) ioend: Option<Ioend>,
}

impl Program {
    /// The table as the module's registration sees it.
    pub(crate) fn as_kdata(&self) -> *const c_void {
        (self as *const Self).cast()
    }
}

/// `FIB_FALLBACK`: what a missing program answers.
const FALLBACK: c_int = 0;

/// Registration of the struct_ops type and the kfuncs: nothing to do.
#[no_mangle]
extern "C" fn fuse_iomap_bpf_register() -> c_int {
    0
}

/// # Safety
///
/// `ops` is a live [`Program`]; `out` is valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_bpf_begin(
    ops: *const c_void,
    fbi: *mut c_void,
    pos: u64,
    count: u64,
    opflags: u32,
    out: *mut IomapBeginOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (ops, out) = unsafe { (&*ops.cast::<Program>(), &mut *out) };
    ops.begin
        .map_or(FALLBACK, |f| f(fbi, pos, count, opflags, out))
}

/// # Safety
///
/// `ops` is a live [`Program`].
#[no_mangle]
unsafe extern "C" fn fuse_iomap_bpf_end(
    ops: *const c_void,
    fbi: *mut c_void,
    pos: u64,
    count: u64,
    written: i64,
    opflags: u32,
) -> c_int {
    // SAFETY: By the safety requirements.
    let ops = unsafe { &*ops.cast::<Program>() };
    ops.end
        .map_or(FALLBACK, |f| f(fbi, pos, count, written, opflags))
}

/// # Safety
///
/// `ops` is a live [`Program`]; `req` is readable and `out` writable.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_bpf_ioend(
    ops: *const c_void,
    fbi: *mut c_void,
    req: *const IomapIoendIn,
    out: *mut IomapIoendOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (ops, req, out) = unsafe { (&*ops.cast::<Program>(), &*req, &mut *out) };
    ops.ioend.map_or(FALLBACK, |f| f(fbi, req, out))
}
