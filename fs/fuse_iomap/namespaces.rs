// SPDX-License-Identifier: GPL-2.0

//! The namespaces a connection's requests speak: its opener's.
//!
//! A request header carries the caller's uid, gid and pid. fuse writes them
//! as its server sees them: in the user namespace and pid namespace of the
//! task that mounted (`fc->user_ns`, `fc->pid_ns`), not the caller's own. A
//! connection here takes both from the task that opened the device, its
//! server, and holds a reference on each until it is freed. A caller whose
//! uid or gid has no mapping in that user namespace cannot send a request
//! (`EOVERFLOW`, as fuse); a caller outside the pid namespace is pid 0.

use crate::errno::eoverflow;
use crate::request::Creds;
use core::ffi::c_void;
use kernel::prelude::*;

extern "C" {
    fn fuse_iomap_get_namespaces(user_ns: *mut *mut c_void, pid_ns: *mut *mut c_void);
    fn fuse_iomap_put_namespaces(user_ns: *mut c_void, pid_ns: *mut c_void);
    fn fuse_iomap_current_creds(
        user_ns: *mut c_void,
        pid_ns: *mut c_void,
        uid: *mut u32,
        gid: *mut u32,
        pid: *mut u32,
    ) -> bool;
}

/// A reference on a user namespace and a pid namespace.
///
/// # Invariants
///
/// `user_ns` and `pid_ns` are namespaces this object holds a reference on.
pub(crate) struct Namespaces {
    user_ns: *mut c_void,
    pid_ns: *mut c_void,
}

// SAFETY: Namespaces are reference-counted kernel objects that any thread
// may use and release.
unsafe impl Send for Namespaces {}
// SAFETY: They are only read, by the C functions that translate ids.
unsafe impl Sync for Namespaces {}

impl Namespaces {
    /// The current task's user and pid namespaces.
    pub(crate) fn current() -> Self {
        let (mut user_ns, mut pid_ns) = (core::ptr::null_mut(), core::ptr::null_mut());
        // SAFETY: Both pointers are valid for writes.
        unsafe { fuse_iomap_get_namespaces(&mut user_ns, &mut pid_ns) };
        // INVARIANT: `fuse_iomap_get_namespaces` took a reference on each.
        Self { user_ns, pid_ns }
    }

    /// The current task's ids, for a request's header, as seen in these
    /// namespaces; `EOVERFLOW` if its uid or gid has no mapping.
    pub(crate) fn creds(&self) -> Result<Creds> {
        let mut creds = Creds::default();
        // SAFETY: The namespaces are alive by the type invariant; the three
        // id pointers are valid for writes.
        let mapped = unsafe {
            fuse_iomap_current_creds(
                self.user_ns,
                self.pid_ns,
                &mut creds.uid,
                &mut creds.gid,
                &mut creds.pid,
            )
        };
        if mapped {
            Ok(creds)
        } else {
            Err(eoverflow())
        }
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        // SAFETY: The references taken in `current`, given back once.
        unsafe { fuse_iomap_put_namespaces(self.user_ns, self.pid_ns) };
    }
}
