// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the device node: registration, and the file operations
//! that `dev_glue.c` forwards here.
//!
//! Each open file owns one [`Connection`], boxed; the glue keeps the raw
//! pointer in `file->private_data` between `open` and `release`.

use crate::connection::{Connection, Ioctl};
use core::ffi::c_void;
use kernel::{
    ffi::{c_int, c_long, c_uint, c_ulong},
    prelude::*,
    uaccess::UserSlice,
};

extern "C" {
    fn fuse_iomap_glue_register() -> c_int;
    fn fuse_iomap_glue_unregister();
    fn fuse_iomap_glue_minor() -> c_int;
}

/// The registered misc device; dropping it removes the device node.
///
/// # Invariants
///
/// The misc device of `dev_glue.c` is registered while this object exists.
pub(crate) struct Registration(());

impl Registration {
    /// Registers `/dev/fuse-iomap`.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Called once, from module init; the misc device is static.
        kernel::error::to_result(unsafe { fuse_iomap_glue_register() })?;
        // INVARIANT: misc_register() succeeded just above.
        Ok(Self(()))
    }

    /// The dynamically allocated misc minor number.
    pub(crate) fn minor(&self) -> c_int {
        // SAFETY: Reads a field of the static misc device, registered by the
        // type invariant.
        unsafe { fuse_iomap_glue_minor() }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; this is the only place
        // that deregisters it.
        unsafe { fuse_iomap_glue_unregister() };
    }
}

/// `open`: creates the connection. Returns it as an opaque pointer, or an
/// `ERR_PTR` when it cannot be allocated.
#[no_mangle]
pub extern "C" fn fuse_iomap_rs_open() -> *mut c_void {
    match KBox::new(Connection::new(), GFP_KERNEL) {
        Ok(conn) => KBox::into_raw(conn).cast(),
        Err(_) => ENOMEM.to_ptr(),
    }
}

/// `release`: drops the connection.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and is not used afterwards.
#[no_mangle]
pub unsafe extern "C" fn fuse_iomap_rs_release(conn: *mut c_void) {
    // SAFETY: By the safety requirements, `conn` came from `KBox::into_raw`
    // in `fuse_iomap_rs_open` and ownership returns here exactly once.
    drop(unsafe { KBox::from_raw(conn.cast::<Connection>()) });
}

/// `unlocked_ioctl`: decodes `cmd` and copies the answer to the user pointer
/// `arg`.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released.
#[no_mangle]
pub unsafe extern "C" fn fuse_iomap_rs_ioctl(conn: *mut c_void, cmd: c_uint, arg: c_ulong) -> c_long {
    // SAFETY: By the safety requirements, `conn` points to a live
    // `Connection`; the VFS keeps the file, and so the connection, alive for
    // the whole call.
    let conn = unsafe { &*conn.cast::<Connection>() };
    let result = Ioctl::decode(cmd).and_then(|cmd| {
        let value = conn.ioctl(cmd);
        UserSlice::new(arg as usize, core::mem::size_of_val(&value))
            .writer()
            .write(&value)
    });
    match result {
        Ok(()) => 0,
        Err(e) => e.to_errno() as c_long,
    }
}
