// SPDX-License-Identifier: GPL-2.0

//! Persistent memory for the host: block devices with a DAX device, made of
//! the test's memory, that `dax.rs` claims, maps and copies from through the
//! stand-ins of `dax_glue.c`.
//!
//! A device has a number, unique in the process, and may have a path that
//! `GET_DAXDEV` answers can name. A claim is exclusive (`EBUSY` for a
//! second holder, as `bdev_file_open_by_dev` with a holder). A test can
//! poison a range: a machine-check-safe copy stops before it, and the
//! holder of the claim hears of it as from `memory_failure()`.

use core::ffi::{c_char, c_int, c_long, c_void};
use core::sync::atomic::{AtomicU32, Ordering};
use kernel::error::{code::*, to_err_ptr, Error};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

const PAGE_SIZE: usize = 4096;

/// A device of the host's persistent memory.
pub(crate) struct Pmem {
    dev: u32,
    /// The memory, as the device's DAX mapping.
    mem: Box<[core::cell::UnsafeCell<u8>]>,
    dax: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// The address of the claim's holder.
    holder: Option<usize>,
    /// Poisoned byte ranges, as offsets.
    poison: Vec<(usize, usize)>,
}

// SAFETY: The memory is written only by the test before any claim and by
// nobody after; readers copy from it through raw pointers, as device memory
// is read in the kernel.
unsafe impl Sync for Pmem {}
// SAFETY: As above.
unsafe impl Send for Pmem {}

static NEXT_DEV: AtomicU32 = AtomicU32::new(0x10_0000);

type Registry = HashMap<u32, Arc<Pmem>>;

fn registry() -> MutexGuard<'static, Option<Registry>> {
    static REGISTRY: Mutex<Option<Registry>> = Mutex::new(None);
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

fn paths() -> MutexGuard<'static, Option<HashMap<String, u32>>> {
    static PATHS: Mutex<Option<HashMap<String, u32>>> = Mutex::new(None);
    PATHS.lock().unwrap_or_else(|e| e.into_inner())
}

impl Pmem {
    /// A new device holding `data`, with a DAX device if `dax`; found by
    /// its number until [`Pmem::remove`].
    pub(crate) fn add(data: &[u8], dax: bool) -> Arc<Pmem> {
        let pmem = Arc::new(Pmem {
            dev: NEXT_DEV.fetch_add(1, Ordering::Relaxed),
            mem: data
                .iter()
                .map(|b| core::cell::UnsafeCell::new(*b))
                .collect(),
            dax,
            state: Mutex::new(State::default()),
        });
        registry()
            .get_or_insert_with(HashMap::new)
            .insert(pmem.dev, pmem.clone());
        pmem
    }

    /// Makes `path` name the device, for `GET_DAXDEV` answers by path.
    pub(crate) fn link(&self, path: &str) {
        paths()
            .get_or_insert_with(HashMap::new)
            .insert(path.into(), self.dev);
    }

    /// Forgets the device: later opens by its number fail.
    pub(crate) fn remove(&self) {
        if let Some(r) = registry().as_mut() {
            r.remove(&self.dev);
        }
    }

    /// The device's number.
    pub(crate) fn dev(&self) -> u32 {
        self.dev
    }

    /// Whether the device is claimed.
    pub(crate) fn claimed(&self) -> bool {
        self.lock().holder.is_some()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn base(&self) -> usize {
        self.mem.as_ptr() as usize
    }

    /// Poisons `len` bytes at `offset`, as a memory failure does, and tells
    /// the claim's holder.
    pub(crate) fn poison(&self, offset: usize, len: usize) {
        let mut state = self.lock();
        state.poison.push((offset, offset + len));
        if let Some(holder) = state.holder {
            // SAFETY: The holder is that of a live claim: the claim is
            // released (`fuse_iomap_bdev_close`) under this lock, held here,
            // before `dax.rs` frees its holder; as the glue's holder mutex
            // in the kernel.
            unsafe {
                crate::dax::fuse_iomap_rs_dax_failure(
                    holder as *mut c_void,
                    offset as u64,
                    len as u64,
                )
            };
        }
    }

    /// Whether the device byte at host address `addr` is poisoned.
    fn poisoned_at(&self, addr: usize) -> bool {
        let off = addr - self.base();
        self.lock()
            .poison
            .iter()
            .any(|&(s, e)| (s..e).contains(&off))
    }
}

/// The device whose memory holds host address `addr`.
fn device_at(addr: usize) -> Option<Arc<Pmem>> {
    registry()
        .as_ref()?
        .values()
        .find(|p| (p.base()..p.base() + p.mem.len()).contains(&addr))
        .cloned()
}

/// `bdev_file_open_by_dev` with a holder: the device as its own "file".
#[no_mangle]
extern "C" fn fuse_iomap_bdev_open(dev: u32, holder: *mut c_void) -> *mut c_void {
    let Some(pmem) = registry().as_ref().and_then(|r| r.get(&dev).cloned()) else {
        return to_err_ptr(ENXIO);
    };
    {
        let mut state = pmem.lock();
        if state.holder.is_some() {
            return to_err_ptr(EBUSY);
        }
        state.holder = Some(holder as usize);
    }
    Arc::into_raw(pmem).cast_mut().cast()
}

/// # Safety
///
/// `file` came from [`fuse_iomap_bdev_open`] and is closed once.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_bdev_close(file: *mut c_void) {
    // SAFETY: By the safety requirements, the reference of the open.
    let pmem = unsafe { Arc::from_raw(file.cast_const().cast::<Pmem>()) };
    pmem.lock().holder = None;
}

/// # Safety
///
/// `file` is open (see [`fuse_iomap_bdev_open`]).
#[no_mangle]
unsafe extern "C" fn fuse_iomap_bdev_size(file: *mut c_void) -> u64 {
    // SAFETY: By the safety requirements, `file` is a live `Pmem`.
    unsafe { &*file.cast::<Pmem>() }.mem.len() as u64
}

/// # Safety
///
/// `file` is open; `start_off` is valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_dax_get(
    file: *mut c_void,
    start_off: *mut u64,
    _holder: *mut c_void,
) -> *mut c_void {
    // SAFETY: By the safety requirements, `file` is a live `Pmem`.
    if !unsafe { &*file.cast::<Pmem>() }.dax {
        return core::ptr::null_mut();
    }
    // SAFETY: By the safety requirements.
    unsafe { start_off.write(0) };
    file
}

#[no_mangle]
extern "C" fn fuse_iomap_dax_put(_dax_dev: *mut c_void, _holder: *mut c_void) {}

/// The test's memory is as durable as the CPU cache makes it.
#[no_mangle]
extern "C" fn fuse_iomap_dax_synchronous(_dax_dev: *mut c_void) -> bool {
    true
}

#[no_mangle]
extern "C" fn fuse_iomap_dax_read_lock() -> c_int {
    0
}

#[no_mangle]
extern "C" fn fuse_iomap_dax_read_unlock(_id: c_int) {}

/// # Safety
///
/// `dax_dev` came from [`fuse_iomap_dax_get`] of an open device; `kaddr` is
/// valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_dax_direct_access(
    dax_dev: *mut c_void,
    pgoff: u64,
    nr_pages: c_long,
    kaddr: *mut *mut c_void,
) -> c_long {
    // SAFETY: By the safety requirements, `dax_dev` is a live `Pmem`.
    let pmem = unsafe { &*dax_dev.cast::<Pmem>() };
    let pages = (pmem.mem.len() / PAGE_SIZE) as u64;
    if pgoff >= pages {
        return ERANGE.to_errno().into();
    }
    let start = pgoff as usize * PAGE_SIZE;
    // SAFETY: By the safety requirements; `start` is within the memory.
    unsafe { kaddr.write(pmem.mem[start].get().cast()) };
    nr_pages.min((pages - pgoff) as c_long)
}

/// The lowest address a "user" buffer may have: below it, a copy faults.
const USER_MIN: usize = 4096;

/// A machine-check-safe copy: stops at a poisoned byte, or at once for a
/// user buffer below [`USER_MIN`].
///
/// # Safety
///
/// `kaddr` and the `len` bytes after it are device memory mapped by
/// [`fuse_iomap_dax_direct_access`]; `ubuf`, unless below [`USER_MIN`], is
/// the address of `len` writable bytes of the test's.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_mc_copy_to_user(
    kaddr: *const c_void,
    len: usize,
    ubuf: usize,
) -> usize {
    if ubuf < USER_MIN {
        return 0;
    }
    let pmem = device_at(kaddr as usize).expect("device memory");
    let src = kaddr.cast::<u8>();
    let dst = ubuf as *mut u8;
    for i in 0..len {
        // SAFETY: `src + i` is within the mapped range, by the safety
        // requirements.
        let at = unsafe { src.add(i) };
        if pmem.poisoned_at(at as usize) {
            return i;
        }
        // SAFETY: Both in range by the safety requirements.
        unsafe { dst.add(i).write(at.read()) };
    }
    len
}

/// Whether the device byte at `kaddr` is poisoned.
#[no_mangle]
extern "C" fn fuse_iomap_mc_poisoned(kaddr: *const c_void) -> bool {
    device_at(kaddr as usize).is_some_and(|p| p.poisoned_at(kaddr as usize))
}

/// `kern_path` and `S_ISBLK`: a path that [`Pmem::link`] made names its
/// device; any other is `ENOENT`.
///
/// # Safety
///
/// `path` is NUL-terminated; `dev` is valid for writes.
#[no_mangle]
unsafe extern "C" fn fuse_iomap_resolve_blkdev(path: *const c_char, dev: *mut u32) -> c_int {
    // SAFETY: By the safety requirements.
    let path = unsafe { core::ffi::CStr::from_ptr(path) }.to_string_lossy();
    match paths().as_ref().and_then(|p| p.get(&*path).copied()) {
        Some(d) => {
            // SAFETY: By the safety requirements.
            unsafe { dev.write(d) };
            0
        }
        None => Error::to_errno(ENOENT),
    }
}
