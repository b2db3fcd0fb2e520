// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the mount's namespace: mount options, the mount itself,
//! and the requests that `vfs_glue.c`'s inode, directory and file
//! operations forward here.
//!
//! The C glue owns the VFS objects (superblock, inodes, dentries) and only
//! copies fields; what to send and whether a reply may be believed is
//! decided here and in `namespace.rs`. A mount holds one reference to its
//! connection, taken by [`fuse_iomap_rs_mount`] and given back by
//! [`fuse_iomap_rs_unmount`]; every other function borrows it for the
//! duration of a VFS operation on that mount. Each returns 0 or a negative
//! errno.

use crate::connection::{borrow, Connection};
use crate::famfs_iomap::FamfsResolve;
use crate::fuse_abi::{AttrOut, EntryOut, Kstatfs, SetattrIn};
use crate::namespace::{self, Dirents, Entry};
use core::ffi::c_void;
use kernel::{
    c_str,
    ffi::{c_char, c_int, c_long},
    prelude::*,
    sync::Arc,
    uaccess::UserSlice,
};

extern "C" {
    fn fuse_iomap_vfs_register() -> c_int;
    fn fuse_iomap_vfs_unregister();
}

/// The registered file system type; dropping it unregisters it.
///
/// # Invariants
///
/// `fuse_iomap_vfs_register()` succeeded and is undone only by the drop.
pub(crate) struct Registration(());

impl Registration {
    /// Registers the file system type `fuse_iomap`.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Called once, from module init.
        kernel::error::to_result(unsafe { fuse_iomap_vfs_register() })?;
        // INVARIANT: Registered just above.
        Ok(Self(()))
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; unregistered only here.
        // No mount is left: each holds a reference to the module.
        unsafe { fuse_iomap_vfs_unregister() };
    }
}

/// Mount options (the `OPT_*` of `vfs_glue.c`): `fd`, `rootmode`,
/// `user_id` and `group_id` are required; `famfs_resolve` (`fmap` or
/// `iomap`, see [`FamfsResolve`]) is not. The flags `default_permissions`
/// and `allow_other` never get here.
const OPT_FD: u32 = 0;
const OPT_ROOTMODE: u32 = 1;
const OPT_USER_ID: u32 = 2;
const OPT_GROUP_ID: u32 = 3;
const OPT_FAMFS_RESOLVE: u32 = 6;
const OPTS_REQUIRED: u32 = 0xf;
const OPTS_KNOWN: u32 = OPTS_REQUIRED | 1 << OPT_FAMFS_RESOLVE;

/// The options of one mount as they are parsed (`struct fuse_iomap_opts`).
#[repr(C)]
pub(crate) struct Opts {
    pub(crate) fd: u32,
    pub(crate) rootmode: u32,
    /// The value of `famfs_resolve`'s constant table: 0 `fmap`, 1 `iomap`.
    pub(crate) famfs_resolve: u32,
    /// Bit `OPT_*` is set once that option was given.
    pub(crate) present: u32,
}

/// Writes `why` for the log, through a pointer the C glue gave.
///
/// # Safety
///
/// `out` is valid for a write.
unsafe fn explain(out: *mut *const c_char, why: &'static CStr) {
    // SAFETY: By the safety requirements; `why` is static.
    unsafe { *out = why.as_char_ptr() };
}

/// Takes option `opt` with `value` into `opts`: `EINVAL`, and `why`, for an
/// option given twice or a root mode that is not a directory's.
///
/// # Safety
///
/// `opts` and `why` are valid for reads and writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_mount_opt(
    opts: *mut Opts,
    opt: u32,
    value: u32,
    why: *mut *const c_char,
) -> c_int {
    // SAFETY: By the safety requirements.
    let opts = unsafe { &mut *opts };
    let bit = 1u32.checked_shl(opt).unwrap_or(0);
    let refusal = if bit & OPTS_KNOWN == 0 {
        Some(c_str!("unknown option"))
    } else if opts.present & bit != 0 {
        Some(c_str!("option given twice"))
    } else if opt == OPT_ROOTMODE && !namespace::is_dir(value) {
        Some(c_str!("rootmode is not a directory's"))
    } else if opt == OPT_FAMFS_RESOLVE && FamfsResolve::from_opt(value).is_none() {
        Some(c_str!("famfs_resolve is fmap or iomap"))
    } else {
        None
    };
    if let Some(reason) = refusal {
        // SAFETY: By the safety requirements.
        unsafe { explain(why, reason) };
        return EINVAL.to_errno();
    }
    opts.present |= bit;
    match opt {
        OPT_FD => opts.fd = value,
        OPT_ROOTMODE => opts.rootmode = value,
        OPT_FAMFS_RESOLVE => opts.famfs_resolve = value,
        _ => {}
    }
    0
}

/// Whether `opts` is complete: `EINVAL`, and `why`, for a missing option.
///
/// # Safety
///
/// `opts` is valid for reads and `why` for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_mount_opts_done(
    opts: *const Opts,
    why: *mut *const c_char,
) -> c_int {
    // SAFETY: By the safety requirements.
    let present = unsafe { (*opts).present };
    let missing = [
        (OPT_FD, c_str!("fd= is missing")),
        (OPT_ROOTMODE, c_str!("rootmode= is missing")),
        (OPT_USER_ID, c_str!("user_id= is missing")),
        (OPT_GROUP_ID, c_str!("group_id= is missing")),
    ]
    .into_iter()
    .find(|(opt, _)| present & (1 << opt) == 0);
    match missing {
        Some((_, reason)) => {
            // SAFETY: By the safety requirements.
            unsafe { explain(why, reason) };
            EINVAL.to_errno()
        }
        None => 0,
    }
}

fn ret(result: Result) -> c_int {
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// 0 with the answer written to `out`, or the error.
///
/// # Safety
///
/// `out` is valid for a write.
unsafe fn put<T>(result: Result<T>, out: *mut T) -> c_int {
    // SAFETY: By the safety requirements.
    ret(result.map(|value| unsafe { out.write(value) }))
}

/// Mounts the connection whose server's file holds `server`, its
/// `private_data`, with the complete options `opts`: returns the mount's
/// reference, or an `ERR_PTR` (`EBUSY` if it is mounted already,
/// `ENOTCONN` if its server is gone).
///
/// # Safety
///
/// `server` is the `private_data` of a server's file of the device node,
/// held open by the caller; `opts` is valid for reads.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_mount(
    server: *const c_void,
    opts: *const Opts,
) -> *const c_void {
    // SAFETY: By the safety requirements.
    let resolve = FamfsResolve::from_opt(unsafe { (*opts).famfs_resolve }).unwrap_or_default();
    // SAFETY: The server's file, held open by the caller, holds the
    // reference that `server` stands for; it is turned into one of our own.
    let conn = Arc::from(unsafe { borrow(server) });
    match conn.mount(resolve) {
        Ok(()) => Arc::into_raw(conn).cast(),
        Err(e) => e.to_ptr(),
    }
}

/// Unmounts: sends `FUSE_DESTROY` and gives the mount's reference back.
///
/// # Safety
///
/// `conn` came from [`fuse_iomap_rs_mount`] and is not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_unmount(conn: *const c_void) {
    // SAFETY: By the safety requirements, the mount's reference, given back
    // exactly once.
    let conn = unsafe { Arc::from_raw(conn.cast::<Connection>()) };
    conn.unmount();
}

/// The block size, as a shift, and the largest file size that new inodes
/// get: the handshake's geometry, or its defaults before the handshake. The
/// size is whole blocks, so that no mapping is asked for a partial block
/// past the largest offset (fiemap walks up to it).
///
/// # Safety
///
/// As for [`borrow`]; `blkbits` and `maxbytes` are valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_geometry(
    conn: *const c_void,
    blkbits: *mut u32,
    maxbytes: *mut u64,
) {
    // SAFETY: By the safety requirements.
    let geo = unsafe { borrow(conn) }.geometry();
    // SAFETY: By the safety requirements.
    unsafe {
        *blkbits = geo.blocksize.trailing_zeros();
        *maxbytes = geo.round_down(geo.maxbytes);
    }
}

/// A name the VFS hands in.
///
/// # Safety
///
/// `name` points at `len` readable bytes for the duration of the call.
unsafe fn name<'a>(name: *const c_char, len: u32) -> &'a [u8] {
    // SAFETY: By the safety requirements.
    unsafe { core::slice::from_raw_parts(name.cast::<u8>(), len as usize) }
}

/// `LOOKUP`: fills `out`, whose nodeid is 0 for a negative entry, to be
/// trusted for `out.entry_valid` seconds.
///
/// # Safety
///
/// As for [`borrow`] and [`name`]; `out` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_lookup(
    conn: *const c_void,
    parent: u64,
    name_ptr: *const c_char,
    len: u32,
    out: *mut EntryOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (conn, name) = unsafe { (borrow(conn), name(name_ptr, len)) };
    ret(conn.lookup_name(parent, name).map(|entry| {
        let entry = match entry {
            Entry::Inode(entry) => entry,
            Entry::Negative { timeout_ms } => EntryOut {
                entry_valid: timeout_ms / 1000,
                entry_valid_nsec: (timeout_ms % 1000 * 1_000_000) as u32,
                ..EntryOut::default()
            },
        };
        // SAFETY: By the safety requirements.
        unsafe { *out = entry };
    }))
}

/// Whether an entry for an inode known as `generation` of type `mode`
/// names the same file (see [`namespace::same_file`]).
///
/// # Safety
///
/// `entry` is valid for reads.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_same_file(
    generation: u64,
    mode: u32,
    entry: *const EntryOut,
) -> bool {
    // SAFETY: By the safety requirements.
    let same = namespace::same_file(generation, mode, unsafe { &*entry });
    if !same {
        crate::ratelimit::pr_warn_ratelimited!(
            "entry for a known nodeid with another generation or file type refused\n"
        );
    }
    same
}

/// A reply's timeout in milliseconds, cut to a day.
#[no_mangle]
pub(crate) extern "C" fn fuse_iomap_rs_timeout_ms(sec: u64, nsec: u32) -> u64 {
    namespace::timeout_ms(sec, nsec)
}

/// `GETATTR`.
///
/// # Safety
///
/// As for [`borrow`]; `out` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_getattr(
    conn: *const c_void,
    nodeid: u64,
    out: *mut AttrOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { put(borrow(conn).getattr(nodeid), out) }
}

/// `SETATTR`.
///
/// # Safety
///
/// As for [`borrow`]; `args` is valid for reads and `out` for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_setattr(
    conn: *const c_void,
    nodeid: u64,
    args: *const SetattrIn,
    out: *mut AttrOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { put(borrow(conn).setattr(nodeid, &*args), out) }
}

/// `OPEN` or `OPENDIR`: the server's file handle in `fh`.
///
/// # Safety
///
/// As for [`borrow`]; `fh` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_open_file(
    conn: *const c_void,
    nodeid: u64,
    dir: bool,
    flags: u32,
    fh: *mut u64,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    // SAFETY: By the safety requirements.
    ret(conn
        .open_file(nodeid, dir, flags)
        .map(|out| unsafe { *fh = out.fh }))
}

/// `RELEASE` or `RELEASEDIR`; the VFS cannot fail a release, so neither
/// does this.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_release_file(
    conn: *const c_void,
    nodeid: u64,
    dir: bool,
    fh: u64,
    flags: u32,
) {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    let _ = conn.release(nodeid, dir, fh, flags);
}

/// `CREATE`: the new file's entry in `entry`, its file handle in `fh`.
///
/// # Safety
///
/// As for [`borrow`] and [`name`]; `entry` and `fh` are valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_create(
    conn: *const c_void,
    parent: u64,
    name_ptr: *const c_char,
    len: u32,
    mode: u32,
    umask: u32,
    flags: u32,
    entry: *mut EntryOut,
    fh: *mut u64,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (conn, name) = unsafe { (borrow(conn), name(name_ptr, len)) };
    ret(conn
        .create(parent, name, mode, umask, flags)
        .map(|(e, open)| {
            // SAFETY: By the safety requirements.
            unsafe {
                *entry = e;
                *fh = open.fh;
            }
        }))
}

/// `MKDIR`: the new directory's entry in `entry`.
///
/// # Safety
///
/// As for [`borrow`] and [`name`]; `entry` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_mkdir(
    conn: *const c_void,
    parent: u64,
    name_ptr: *const c_char,
    len: u32,
    mode: u32,
    umask: u32,
    entry: *mut EntryOut,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (conn, name) = unsafe { (borrow(conn), name(name_ptr, len)) };
    // SAFETY: By the safety requirements.
    ret(conn
        .mkdir(parent, name, mode, umask)
        .map(|e| unsafe { *entry = e }))
}

/// `UNLINK`, or `RMDIR` for a directory.
///
/// # Safety
///
/// As for [`borrow`] and [`name`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_remove(
    conn: *const c_void,
    parent: u64,
    name_ptr: *const c_char,
    len: u32,
    dir: bool,
) -> c_int {
    // SAFETY: By the safety requirements.
    let (conn, name) = unsafe { (borrow(conn), name(name_ptr, len)) };
    ret(conn.remove(parent, name, dir))
}

/// `RENAME`; `EINVAL` for any rename flag.
///
/// # Safety
///
/// As for [`borrow`], and [`name`] for both names.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_rename(
    conn: *const c_void,
    olddir: u64,
    old_ptr: *const c_char,
    oldlen: u32,
    newdir: u64,
    new_ptr: *const c_char,
    newlen: u32,
    flags: u32,
) -> c_int {
    if flags != 0 {
        return EINVAL.to_errno();
    }
    // SAFETY: By the safety requirements.
    let (conn, old, new) = unsafe { (borrow(conn), name(old_ptr, oldlen), name(new_ptr, newlen)) };
    ret(conn.rename(olddir, old, newdir, new))
}

/// `STATFS`.
///
/// # Safety
///
/// As for [`borrow`]; `out` is valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_statfs(
    conn: *const c_void,
    nodeid: u64,
    out: *mut Kstatfs,
) -> c_int {
    // SAFETY: By the safety requirements.
    unsafe { put(borrow(conn).statfs(nodeid), out) }
}

/// `FSYNC`, once the kernel wrote the file's data back.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_fsync(
    conn: *const c_void,
    nodeid: u64,
    fh: u64,
    datasync: bool,
) -> c_int {
    // SAFETY: By the safety requirements.
    ret(unsafe { borrow(conn) }.fsync(nodeid, fh, datasync))
}

/// `FALLOCATE`, with the range's cached mappings dropped first.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_fallocate(
    conn: *const c_void,
    nodeid: u64,
    fh: u64,
    offset: u64,
    length: u64,
    mode: u32,
) -> c_int {
    // SAFETY: By the safety requirements.
    ret(unsafe { borrow(conn) }.fallocate(nodeid, fh, offset, length, mode))
}

/// The VFS dropped inode `nodeid`: `FORGET`.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_forget(
    conn: *const c_void,
    nodeid: u64,
    nlookup: u64,
) {
    // SAFETY: By the safety requirements.
    unsafe { borrow(conn) }.vfs_forget(nodeid, nlookup);
}

/// `ioctl(2)` on a file of the mount: `FUSE_IOMAP_IOC_COUNTERS` copies out
/// the connection's counters (what its I/O cost in upcalls, what the cache
/// answered); any other is `ENOTTY`.
///
/// # Safety
///
/// As for [`borrow`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_file_ioctl(
    conn: *const c_void,
    cmd: u32,
    arg: usize,
) -> c_long {
    if cmd != crate::abi::IOC_COUNTERS {
        return ENOTTY.to_errno() as c_long;
    }
    // SAFETY: By the safety requirements.
    let counters = unsafe { borrow(conn) }.counters();
    let size = core::mem::size_of_val(&counters);
    match UserSlice::new(arg, size).writer().write(&counters) {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}

/// What `fuse_iomap_rs_readdir` hands each record to: false when the
/// caller's buffer is full.
type Emit = unsafe extern "C" fn(
    ctx: *mut c_void,
    name: *const c_char,
    len: u32,
    ino: u64,
    r#type: u32,
    next: u64,
) -> bool;

/// `READDIR` from cookie `pos` on: hands each checked record of one reply
/// to `emit`, as fuse does, until the reply ends or `emit` is full. An
/// empty reply is the end of the directory.
///
/// # Safety
///
/// As for [`borrow`]; `emit` may be called with `ctx`.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_readdir(
    conn: *const c_void,
    nodeid: u64,
    fh: u64,
    pos: u64,
    ctx: *mut c_void,
    emit: Emit,
) -> c_int {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    let reply = match conn.readdir(nodeid, fh, pos) {
        Ok(reply) => reply,
        Err(e) => return e.to_errno(),
    };
    let mut records = Dirents::new(&reply);
    loop {
        let d = match records.next_entry() {
            Ok(Some(d)) => d,
            Ok(None) => return 0,
            Err(why) => {
                return namespace::refuse(crate::fuse_abi::FUSE_READDIR, nodeid, why).to_errno()
            }
        };
        // SAFETY: By the safety requirements; the name lives in `reply` for
        // the call, and is at most 255 bytes.
        let more = unsafe {
            emit(
                ctx,
                d.name.as_ptr().cast(),
                d.name.len() as u32,
                d.ino,
                d.r#type,
                d.off,
            )
        };
        if !more {
            return 0;
        }
    }
}
