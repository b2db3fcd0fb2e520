// SPDX-License-Identifier: GPL-2.0

//! A dax device claimed for a famfs connection, and reads from it.
//!
//! The device is named by number: a `GET_DAXDEV` answer gives one, or a
//! path that [`resolve_path`] turns into one in the answering server's task
//! (see `daxdev_name.rs`). Its block device is opened exclusively by number,
//! with the claim's holder, and its `dax_device` taken with the same
//! holder, so that no other user can claim it meanwhile. Reads go through
//! `dax_direct_access`, which maps device pages into the kernel, under the
//! DAX read lock, and the DAX library's machine-check-safe copy
//! (`_copy_mc_to_iter`) straight to the caller's buffer; there is no page
//! cache, and device memory is never seen as a Rust slice (it may change
//! under the reader, or fail).
//!
//! The claim registers holder operations: a memory failure on the device
//! (`memory_failure()` of one of its pages) calls back here, and marks the
//! device poisoned. From then on every read through it fails with
//! `EHWPOISON`, as famfs marks its daxdev slot: the server must learn of the
//! failure and give the file a new fmap, or the device must be released. A
//! copy that meets a poisoned line before the callback fails the same way.
//! The callback touches only the [`Holder`], boxed apart and complete
//! before the claim is made, so that nothing it reads is written after.

use crate::errno::{ehwpoison, eopnotsupp};
use crate::ratelimit::pr_warn_ratelimited;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::ffi::{c_char, c_int, c_long};
use kernel::{prelude::*, str::CStr};

/// The page size of the architectures the module builds for (x86).
pub(crate) const PAGE_SIZE: u64 = 4096;

extern "C" {
    fn fuse_iomap_bdev_open(dev: u32, holder: *mut c_void) -> *mut c_void;
    fn fuse_iomap_bdev_close(bdev_file: *mut c_void);
    fn fuse_iomap_bdev_size(bdev_file: *mut c_void) -> u64;
    fn fuse_iomap_dax_get(
        bdev_file: *mut c_void,
        start_off: *mut u64,
        holder: *mut c_void,
    ) -> *mut c_void;
    fn fuse_iomap_dax_put(dax_dev: *mut c_void, holder: *mut c_void);
    fn fuse_iomap_dax_read_lock() -> c_int;
    fn fuse_iomap_dax_read_unlock(id: c_int);
    fn fuse_iomap_dax_direct_access(
        dax_dev: *mut c_void,
        pgoff: u64,
        nr_pages: c_long,
        kaddr: *mut *mut c_void,
    ) -> c_long;
    fn fuse_iomap_mc_copy_to_user(kaddr: *const c_void, len: usize, ubuf: usize) -> usize;
    fn fuse_iomap_mc_poisoned(kaddr: *const c_void) -> bool;
    fn fuse_iomap_resolve_blkdev(path: *const c_char, dev: *mut u32) -> c_int;
    fn fuse_iomap_dax_synchronous(dax_dev: *mut c_void) -> bool;
}

/// The number of the block device at `path`, looked up by the current task
/// (the server answering `GET_DAXDEV`, in its mount namespace) with its
/// credentials: the kernel later opens that number with its own rights, so
/// a server must not name a device it could not read itself. `ENOTBLK` for
/// no block device, `EACCES` and the like otherwise.
pub(crate) fn resolve_path(path: &CStr) -> Result<u32> {
    let mut dev = 0;
    // SAFETY: `path` is NUL-terminated; `dev` is valid for a write.
    kernel::error::to_result(unsafe { fuse_iomap_resolve_blkdev(path.as_char_ptr(), &mut dev) })?;
    Ok(dev)
}

/// The part of a claim that a memory failure changes, at a stable address
/// that is the claim's holder.
struct Holder {
    /// Set by a memory failure on the device.
    poisoned: AtomicBool,
}

/// A claimed dax device.
///
/// # Invariants
///
/// `bdev_file` is an open block device file and `dax_dev` its dax device,
/// both claimed with the address of `holder` as holder, until drop.
pub(crate) struct Dax {
    holder: KBox<Holder>,
    bdev_file: *mut c_void,
    dax_dev: *mut c_void,
    start_off: u64,
    size: u64,
}

// SAFETY: The block device file and the dax device are reference-counted
// kernel objects usable from any thread; `Dax` only reads them.
unsafe impl Send for Dax {}
// SAFETY: See above; reads through `dax_direct_access` may run in parallel.
unsafe impl Sync for Dax {}

impl Dax {
    /// Opens and claims the dax device behind block device `dev`. `ENXIO`
    /// and the like if there is no such block device, `EOPNOTSUPP` if it
    /// has no dax device, `EBUSY` if another holder has it.
    pub(crate) fn open(dev: u32) -> Result<Self> {
        let holder = KBox::new(
            Holder {
                poisoned: AtomicBool::new(false),
            },
            GFP_KERNEL_ACCOUNT,
        )?;
        let holder_ptr = (&*holder as *const Holder).cast_mut().cast::<c_void>();
        // SAFETY: `holder_ptr` is the stable address of the box, which
        // outlives the claim (released in `Drop` before the box is freed).
        let file = unsafe { fuse_iomap_bdev_open(dev, holder_ptr) };
        let file = kernel::error::from_err_ptr(file)?;
        let mut start_off = 0;
        // SAFETY: `file` is an open block device file; `start_off` is valid
        // for writes. From here on a memory failure may call back with
        // `holder_ptr`, which only ever reads the complete `Holder`.
        let dax_dev = unsafe { fuse_iomap_dax_get(file, &mut start_off, holder_ptr) };
        if dax_dev.is_null() {
            // SAFETY: Opened just above, and not kept.
            unsafe { fuse_iomap_bdev_close(file) };
            return Err(eopnotsupp());
        }
        // SAFETY: `file` is an open block device file.
        let size = unsafe { fuse_iomap_bdev_size(file) };
        // INVARIANT: Both are claimed with `holder`'s address as holder.
        Ok(Self {
            holder,
            bdev_file: file,
            dax_dev,
            start_off,
            size,
        })
    }

    /// The `struct dax_device`, for a `struct iomap` of the DAX library;
    /// it stays claimed as long as `self`.
    pub(crate) fn dax_device(&self) -> *mut c_void {
        self.dax_dev
    }

    /// Where device offset 0 is on the dax device (a partition's start):
    /// a `struct iomap`'s address is the device offset moved by this.
    pub(crate) fn start_off(&self) -> u64 {
        self.start_off
    }

    /// The device's size in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// Whether the device's writes are durable once the CPU cache is
    /// flushed, which `MAP_SYNC` needs (`dax_synchronous()`).
    pub(crate) fn synchronous(&self) -> bool {
        // SAFETY: `dax_dev` is claimed by the type invariant.
        unsafe { fuse_iomap_dax_synchronous(self.dax_dev) }
    }

    /// Whether a memory failure hit the device.
    pub(crate) fn poisoned(&self) -> bool {
        self.holder.poisoned.load(Ordering::Acquire)
    }

    /// Copies the `len` device bytes at `offset` to the user buffer at
    /// `ubuf`. `EIO` for bytes past the end of the device, `EHWPOISON` once
    /// a memory failure hit it or when the copy meets a poisoned line,
    /// `EFAULT` when the user buffer faults.
    pub(crate) fn read(&self, offset: u64, len: usize, ubuf: usize) -> Result {
        if self.poisoned() {
            return Err(ehwpoison());
        }
        let end = offset.checked_add(len as u64).ok_or(EIO)?;
        if end > self.size {
            return Err(EIO);
        }
        let mut pos = offset + self.start_off;
        let mut done = 0;
        while done < len {
            let left = len - done;
            let in_page = (pos % PAGE_SIZE) as usize;
            let pages = (in_page + left).div_ceil(PAGE_SIZE as usize) as c_long;
            // SAFETY: No requirements.
            let id = unsafe { fuse_iomap_dax_read_lock() };
            let mut kaddr = core::ptr::null_mut();
            // SAFETY: `dax_dev` is claimed by the type invariant; `kaddr` is
            // valid for writes.
            let avail = unsafe {
                fuse_iomap_dax_direct_access(self.dax_dev, pos / PAGE_SIZE, pages, &mut kaddr)
            };
            let copied = if avail <= 0 || kaddr.is_null() {
                Err(if avail < 0 {
                    Error::from_errno(avail as c_int)
                } else {
                    EIO
                })
            } else {
                let n = (avail as usize * PAGE_SIZE as usize - in_page).min(left);
                // SAFETY: `dax_direct_access` mapped `avail` pages from
                // `kaddr` for as long as the DAX read lock is held; the `n`
                // bytes from `in_page` are within them. The user range is
                // checked by the copy.
                let src = unsafe { kaddr.cast::<u8>().add(in_page) };
                // SAFETY: As above; `ubuf + done` is a user address.
                let got = unsafe { fuse_iomap_mc_copy_to_user(src.cast(), n, ubuf + done) };
                if got >= n {
                    Ok(n)
                } else {
                    // SAFETY: `got < n`, so the byte at `src + got` is
                    // mapped (see above).
                    let poisoned = unsafe { fuse_iomap_mc_poisoned(src.add(got).cast()) };
                    Err(if poisoned { ehwpoison() } else { EFAULT })
                }
            };
            // SAFETY: Taken above.
            unsafe { fuse_iomap_dax_read_unlock(id) };
            let n = copied?;
            pos += n as u64;
            done += n;
            // A read may copy up to 1 GiB: let others run between pieces.
            crate::sched::cond_resched();
        }
        Ok(())
    }
}

impl Drop for Dax {
    fn drop(&mut self) {
        let holder = (&*self.holder as *const Holder).cast_mut().cast::<c_void>();
        // SAFETY: Both were claimed with this holder by the type invariant,
        // and are released once, here, before the holder is freed.
        unsafe {
            fuse_iomap_dax_put(self.dax_dev, holder);
            fuse_iomap_bdev_close(self.bdev_file);
        }
    }
}

/// The holder's `notify_failure`: `len` bytes at `offset` of the dax device
/// claimed by `holder` failed.
///
/// # Safety
///
/// `holder` is the holder of a claim that is still registered, and the
/// caller holds the glue's holder mutex, under which claims are released:
/// the `Holder` it points to is alive for the whole call.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_dax_failure(
    holder: *mut c_void,
    offset: u64,
    len: u64,
) {
    // SAFETY: By the safety requirements, `holder` is a live `Holder`,
    // which is only ever accessed through shared references.
    let holder = unsafe { &*holder.cast::<Holder>() };
    holder.poisoned.store(true, Ordering::Release);
    pr_warn_ratelimited!(
        "famfs: memory failure at offset {} (+{}) of a daxdev: its reads now fail with EHWPOISON\n",
        offset,
        len
    );
}
