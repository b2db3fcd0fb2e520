// SPDX-License-Identifier: GPL-2.0

//! BPF: the `fuse_iomap_bpf_ops` table a server attaches to its connection,
//! the calls into it, and the work of its kfuncs.
//!
//! `bpf_glue.c` declares what the verifier sees and forwards here. A table
//! is registered for the connection whose server's file descriptor it
//! names (`dev.rs` finds it): `EBADF` if the descriptor is no such file,
//! `EOPNOTSUPP` if the connection's handshake did not give it iomap,
//! `EBUSY` if it has a table already. The connection keeps the table in a
//! [`Slot`], which counts the calls in flight: a call takes the table and
//! counts itself under the slot's mutex, then runs the program without it;
//! unregistration empties the slot and waits until the count drops to 0.
//! No lock is held while a program runs: a sleepable program may fault on
//! user memory (the mmap lock), and the mount calls `iomap_begin` under the
//! invalidate lock, which the page-fault path takes under the mmap lock; a
//! lock held across the program would close that circle.
//!
//! Unregistration is told only the table, so the module keeps a registry
//! of the registered tables and their slots. A slot is all it keeps: a
//! table that outlives its server holds no connection, only the slot the
//! connection left behind. The kfuncs reach the caches through
//! [`Mappings`], which the connection implements, so this file does not
//! depend on it.

use crate::abi::{
    IomapBeginIn, IomapBeginOut, IomapEndIn, IomapInvalMappingsOut, IomapIo, IomapIoendIn,
    IomapIoendOut, IomapUpsertMappingsOut, MappingType, Range,
};
use crate::mapping::Origin;
use core::ffi::c_void;
use core::sync::atomic::{AtomicPtr, Ordering};
use kernel::{
    ffi::c_int,
    new_condvar, new_mutex,
    prelude::*,
    sync::{Arc, CondVar, Mutex},
};

extern "C" {
    fn fuse_iomap_bpf_register() -> c_int;
    fn fuse_iomap_bpf_begin(
        ops: *const c_void,
        fbi: *mut c_void,
        pos: u64,
        count: u64,
        opflags: u32,
        out: *mut IomapBeginOut,
    ) -> c_int;
    fn fuse_iomap_bpf_end(
        ops: *const c_void,
        fbi: *mut c_void,
        pos: u64,
        count: u64,
        written: i64,
        opflags: u32,
    ) -> c_int;
    fn fuse_iomap_bpf_ioend(
        ops: *const c_void,
        fbi: *mut c_void,
        req: *const IomapIoendIn,
        out: *mut IomapIoendOut,
    ) -> c_int;
}

/// What the kfuncs do to a connection's caches: what its notifications do.
pub(crate) trait Mappings: Sync {
    /// `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS`.
    fn upsert(&self, msg: &IomapUpsertMappingsOut) -> Result;
    /// `FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS`.
    fn inval(&self, msg: &IomapInvalMappingsOut) -> Result;
}

/// `FIB_FALLBACK`: the program leaves the answer to the next source.
const FIB_FALLBACK: c_int = 0;
/// `FIB_HANDLED`: the program answered.
const FIB_HANDLED: c_int = 1;

/// A registered table: the kernel's copy of a `struct fuse_iomap_bpf_ops`.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Ops(*const c_void);

// SAFETY: The table is the struct_ops map's kernel data, which lives and
// does not change while it is registered; its operations may be called from
// any thread.
unsafe impl Send for Ops {}
// SAFETY: As above.
unsafe impl Sync for Ops {}

/// `struct fuse_bpf_inode` as the programs see it, and the caches its
/// kfuncs work on.
#[repr(C)]
struct BpfInode<'a> {
    nodeid: u64,
    orig_ino: u64,
    caches: &'a dyn Mappings,
}

impl<'a> BpfInode<'a> {
    fn new(caches: &'a dyn Mappings, nodeid: u64, orig_ino: u64) -> Self {
        Self {
            nodeid,
            orig_ino,
            caches,
        }
    }

    /// The pointer a program gets as its `struct fuse_bpf_inode *`.
    fn as_ptr(&mut self) -> *mut c_void {
        (self as *mut Self).cast()
    }
}

/// What a program answered.
pub(crate) enum Answer<T> {
    /// `FIB_FALLBACK`, or no program for this operation.
    Fallback,
    /// `FIB_HANDLED`, with the program's output.
    Handled(T),
}

/// A slot's table and the calls into it that are in flight.
struct Table {
    ops: Option<Ops>,
    calls: usize,
}

/// A connection's BPF table, if a server attached one.
#[pin_data]
pub(crate) struct Slot {
    #[pin]
    table: Mutex<Table>,
    /// Where unregistration waits for the calls in flight.
    #[pin]
    idle: CondVar,
}

impl Slot {
    /// No table.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            table <- new_mutex!(Table { ops: None, calls: 0 }, "fuse_iomap:bpf_table"),
            idle <- new_condvar!("fuse_iomap:bpf_idle"),
        })
    }

    /// Calls `f` with the table, counted as in flight, without the slot's
    /// lock; `Fallback` without a table.
    fn with<T>(&self, f: impl FnOnce(Ops) -> Result<Answer<T>>) -> Result<Answer<T>> {
        let ops = {
            let mut table = self.table.lock();
            let Some(ops) = table.ops else {
                return Ok(Answer::Fallback);
            };
            table.calls += 1;
            ops
        };
        let answer = f(ops);
        let mut table = self.table.lock();
        table.calls -= 1;
        if table.calls == 0 {
            self.idle.notify_all();
        }
        answer
    }

    /// Installs `ops`: `EBUSY` if the slot has a table.
    fn install(&self, ops: Ops) -> Result {
        let mut table = self.table.lock();
        if table.ops.is_some() {
            return Err(EBUSY);
        }
        table.ops = Some(ops);
        Ok(())
    }

    /// Empties the slot, once the calls into its table are done.
    fn empty(&self) {
        let mut table = self.table.lock();
        table.ops = None;
        while table.calls != 0 {
            self.idle.wait(&mut table);
        }
    }

    /// The program's `iomap_begin` for `req` on inode `nodeid` of the
    /// connection whose caches are `caches`.
    pub(crate) fn begin(
        &self,
        caches: &dyn Mappings,
        nodeid: u64,
        req: &IomapBeginIn,
    ) -> Result<Answer<IomapBeginOut>> {
        self.with(|ops| {
            let mut fbi = BpfInode::new(caches, nodeid, req.attr_ino);
            let mut out = IomapBeginOut::default();
            // SAFETY: `ops` is registered while the read lock is held; `fbi`
            // and `out` are valid for the call.
            let ret = unsafe {
                fuse_iomap_bpf_begin(
                    ops.0,
                    fbi.as_ptr(),
                    req.pos,
                    req.count,
                    req.opflags,
                    &mut out,
                )
            };
            answer(ret, out)
        })
    }

    /// The program's `iomap_end` for `req` on inode `nodeid`.
    pub(crate) fn end(
        &self,
        caches: &dyn Mappings,
        nodeid: u64,
        req: &IomapEndIn,
    ) -> Result<Answer<()>> {
        self.with(|ops| {
            let mut fbi = BpfInode::new(caches, nodeid, req.attr_ino);
            // SAFETY: As in `begin`.
            let ret = unsafe {
                fuse_iomap_bpf_end(
                    ops.0,
                    fbi.as_ptr(),
                    req.pos,
                    req.count,
                    req.written,
                    req.opflags,
                )
            };
            answer(ret, ())
        })
    }

    /// The program's `iomap_ioend` for `req` on inode `nodeid`.
    pub(crate) fn ioend(
        &self,
        caches: &dyn Mappings,
        nodeid: u64,
        req: &IomapIoendIn,
    ) -> Result<Answer<IomapIoendOut>> {
        self.with(|ops| {
            let mut fbi = BpfInode::new(caches, nodeid, req.attr_ino);
            let mut out = IomapIoendOut::default();
            // SAFETY: As in `begin`; `req` is valid for the call.
            let ret = unsafe { fuse_iomap_bpf_ioend(ops.0, fbi.as_ptr(), req, &mut out) };
            answer(ret, out)
        })
    }
}

/// A program's return value: `EINVAL`, as for any bad answer from BPF, when
/// it is neither `FIB_FALLBACK` nor `FIB_HANDLED`.
fn answer<T>(ret: c_int, out: T) -> Result<Answer<T>> {
    match ret {
        FIB_FALLBACK => Ok(Answer::Fallback),
        FIB_HANDLED => Ok(Answer::Handled(out)),
        _ => {
            crate::ratelimit::pr_warn_ratelimited!(
                "bpf: a program returned {}, neither FIB_FALLBACK nor FIB_HANDLED\n",
                ret
            );
            Err(Origin::Bpf.error())
        }
    }
}

/// The registered tables and their slots.
struct Entry {
    ops: Ops,
    slot: Arc<Slot>,
}

/// The registry of the loaded module, for the C callbacks.
static REGISTRY: AtomicPtr<Mutex<KVec<Entry>>> = AtomicPtr::new(core::ptr::null_mut());

/// The module's BPF registration: the struct_ops type, the kfuncs, and the
/// registry of tables.
///
/// # Invariants
///
/// `REGISTRY` points to `registry` from `new` until drop.
pub(crate) struct Registration {
    registry: Pin<KBox<Mutex<KVec<Entry>>>>,
}

impl Registration {
    /// Registers the kfuncs and the struct_ops type. They go with the
    /// module's BTF when it unloads; a registered table holds a module
    /// reference, so none is left by then.
    pub(crate) fn new() -> Result<Self> {
        let registry = KBox::pin_init(new_mutex!(KVec::new()), GFP_KERNEL)?;
        // INVARIANT: Set before anything can call back, cleared in drop.
        REGISTRY.store(
            (&*registry as *const Mutex<KVec<Entry>>).cast_mut(),
            Ordering::Release,
        );
        // SAFETY: Called once, from module init.
        if let Err(e) = kernel::error::to_result(unsafe { fuse_iomap_bpf_register() }) {
            REGISTRY.store(core::ptr::null_mut(), Ordering::Release);
            return Err(e);
        }
        Ok(Self { registry })
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        REGISTRY.store(core::ptr::null_mut(), Ordering::Release);
        if !self.registry.lock().is_empty() {
            pr_err!("bpf: unloading with tables still registered\n");
        }
    }
}

/// The registry, while the module is loaded.
fn registry() -> Result<&'static Mutex<KVec<Entry>>> {
    let registry = REGISTRY.load(Ordering::Acquire);
    // SAFETY: By the type invariant of `Registration`, a non-null pointer is
    // the module's registry, which outlives every callback: the callbacks
    // come from struct_ops maps, which hold a reference to the module.
    unsafe { registry.as_ref() }.ok_or(ENODEV)
}

/// Attaches table `kdata` to `slot`, a connection's: `EBUSY` if it has one.
pub(crate) fn register(kdata: *const c_void, slot: Arc<Slot>) -> Result {
    let ops = Ops(kdata);
    let mut entries = registry()?.lock();
    // Room first: once the slot has the table, the registry must take it.
    entries.reserve(1, GFP_KERNEL)?;
    slot.install(ops)?;
    Ok(entries.push(Entry { ops, slot }, GFP_KERNEL)?)
}

/// `unreg` of the struct_ops type: detaches table `kdata`, once the calls
/// into it are done.
#[no_mangle]
pub(crate) extern "C" fn fuse_iomap_rs_bpf_unreg(kdata: *const c_void) {
    let Ok(registry) = registry() else {
        return;
    };
    let slot = {
        let mut entries = registry.lock();
        let Some(i) = entries.iter().position(|e| e.ops.0 == kdata) else {
            return;
        };
        // Remove entry `i`: swap it with the last, then shorten.
        let last = entries.len() - 1;
        entries.swap(i, last);
        let slot = entries[last].slot.clone();
        // SAFETY: Entry `last` is moved out just below and not used again.
        let entry = unsafe { core::ptr::read(&entries[last]) };
        // SAFETY: The last entry was read out above: the length drops it
        // from the vector without a second drop.
        unsafe { entries.set_len(last) };
        drop(entry);
        slot
    };
    slot.empty();
}

/// The connection and nodeid of a kfunc's `struct fuse_bpf_inode`.
///
/// # Safety
///
/// `fbi` is the `fuse_bpf_inode` a program was called with: the verifier
/// only lets programs pass the trusted pointer of their arguments, which
/// [`Slot`] made from a `BpfInode` alive for the whole call.
unsafe fn bpf_inode<'a>(fbi: *mut c_void) -> &'a BpfInode<'a> {
    // SAFETY: By the safety requirements.
    unsafe { &*fbi.cast::<BpfInode<'a>>() }
}

/// `fuse_bpf_iomap_upsert_mappings`: caches `read` and `write` (either may
/// be NULL: that fork is left alone), validated as a notification's.
///
/// # Safety
///
/// Called by the kfunc, with the program's `fbi` and pointers the verifier
/// checked: NULL or readable for a whole structure.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_bpf_upsert(
    fbi: *mut c_void,
    read: *const IomapIo,
    write: *const IomapIo,
) -> c_int {
    // SAFETY: Called by the kfunc with the program's `fbi`.
    let fbi = unsafe { bpf_inode(fbi) };
    let nocache = IomapIo {
        r#type: MappingType::NoCache as u16,
        ..IomapIo::default()
    };
    // SAFETY: The verifier checked that a non-NULL pointer is readable for
    // a whole `struct fuse_iomap_io`.
    let [read, write] = [read, write].map(|p| unsafe { p.as_ref() }.copied().unwrap_or(nocache));
    let msg = IomapUpsertMappingsOut {
        nodeid: fbi.nodeid,
        attr_ino: fbi.orig_ino,
        read,
        write,
    };
    match fbi.caches.upsert(&msg) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// `fuse_bpf_iomap_inval_mappings`: drops the cached mappings of `read` and
/// `write` (either may be NULL), checked as a notification's.
///
/// # Safety
///
/// As for [`fuse_iomap_rs_bpf_upsert`].
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_bpf_inval(
    fbi: *mut c_void,
    read: *const Range,
    write: *const Range,
) -> c_int {
    // SAFETY: Called by the kfunc with the program's `fbi`.
    let fbi = unsafe { bpf_inode(fbi) };
    // SAFETY: The verifier checked that a non-NULL pointer is readable for
    // a whole `struct fuse_range`.
    let [read, write] = [read, write].map(|p| unsafe { p.as_ref() }.copied().unwrap_or_default());
    let msg = IomapInvalMappingsOut {
        nodeid: fbi.nodeid,
        attr_ino: fbi.orig_ino,
        read,
        write,
    };
    match fbi.caches.inval(&msg) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}
