// SPDX-License-Identifier: GPL-2.0

//! A dax device claimed for a famfs connection, and reads from it.
//!
//! The device is named by a path (a `GET_DAXDEV` reply), which the server
//! must be allowed to read ([`server_may_read`]): its block device is
//! opened exclusively, with the claim's box as holder, and its
//! `dax_device` taken with the same holder, so that no other user can claim
//! it meanwhile. Reads go through `dax_direct_access`, which maps device
//! pages into the kernel, under the DAX read lock, straight to the caller's
//! buffer; there is no page cache.
//!
//! The claim registers holder operations: a memory failure on the device
//! (`memory_failure()` of one of its pages) calls back here, and marks the
//! device poisoned. From then on every read through it fails with
//! `EHWPOISON`, as famfs marks its daxdev slot: the server must learn of the
//! failure and give the file a new fmap, or the device must be released.

use crate::errno::{ehwpoison, eopnotsupp};
use crate::ratelimit::pr_warn_ratelimited;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};
use kernel::ffi::{c_char, c_int, c_long};
use kernel::{prelude::*, str::CStr, uaccess::UserSliceWriter};

const PAGE_SIZE: u64 = 4096;

extern "C" {
    fn fuse_iomap_bdev_open(path: *const c_char, holder: *mut c_void) -> *mut c_void;
    fn fuse_iomap_bdev_close(bdev_file: *mut c_void);
    fn fuse_iomap_bdev_size(bdev_file: *mut c_void) -> u64;
    fn fuse_iomap_dax_get(
        bdev_file: *mut c_void,
        start_off: *mut u64,
        holder: *mut c_void,
    ) -> *mut c_void;
    fn fuse_iomap_dax_put(dax_dev: *mut c_void, holder: *mut c_void);
    fn fuse_iomap_cond_resched();
    fn fuse_iomap_dax_read_lock() -> c_int;
    fn fuse_iomap_dax_read_unlock(id: c_int);
    fn fuse_iomap_dax_direct_access(
        dax_dev: *mut c_void,
        pgoff: u64,
        nr_pages: c_long,
        kaddr: *mut *mut c_void,
    ) -> c_long;
    fn fuse_iomap_may_read_blkdev(path: *const c_char) -> c_int;
}

/// Checks that the current task, the server answering `GET_DAXDEV`, may
/// read the block device at `path`: the kernel later opens it with its own
/// rights, so a server must not name a device it could not open itself.
/// `ENOTBLK` for no block device, `EACCES` and the like otherwise.
pub(crate) fn server_may_read(path: &CStr) -> Result {
    // SAFETY: `path` is NUL-terminated.
    kernel::error::to_result(unsafe { fuse_iomap_may_read_blkdev(path.as_char_ptr()) })
}

/// A claimed dax device.
///
/// # Invariants
///
/// Once [`Dax::open`] returns it, `bdev_file` is an open block device file
/// and `dax_dev` its dax device, both claimed with the address of this
/// (boxed, never moved) object as holder, until drop.
pub(crate) struct Dax {
    bdev_file: *mut c_void,
    dax_dev: *mut c_void,
    start_off: u64,
    size: u64,
    /// Set by a memory failure on the device.
    poisoned: AtomicBool,
}

// SAFETY: The block device file and the dax device are reference-counted
// kernel objects usable from any thread; `Dax` only reads them.
unsafe impl Send for Dax {}
// SAFETY: See above; reads through `dax_direct_access` may run in parallel.
unsafe impl Sync for Dax {}

impl Dax {
    /// Opens and claims the dax device behind the block device at `path`.
    /// `ENOTBLK` and the like if the path is no block device, `EOPNOTSUPP`
    /// if it has no dax device, `EBUSY` if another holder has it.
    pub(crate) fn open(path: &CStr) -> Result<KBox<Self>> {
        let mut dax = KBox::new(
            Self {
                bdev_file: core::ptr::null_mut(),
                dax_dev: core::ptr::null_mut(),
                start_off: 0,
                size: 0,
                poisoned: AtomicBool::new(false),
            },
            GFP_KERNEL,
        )?;
        let holder = (&mut *dax as *mut Self).cast::<c_void>();
        // SAFETY: `path` is NUL-terminated; `holder` is the stable address
        // of the box, which outlives the claim (dropped in `Drop`).
        let file = unsafe { fuse_iomap_bdev_open(path.as_char_ptr(), holder) };
        let file = kernel::error::from_err_ptr(file)?;
        let mut start_off = 0;
        // SAFETY: `file` is an open block device file; `start_off` is valid
        // for writes.
        let dax_dev = unsafe { fuse_iomap_dax_get(file, &mut start_off, holder) };
        if dax_dev.is_null() {
            // SAFETY: Opened just above, and not kept.
            unsafe { fuse_iomap_bdev_close(file) };
            return Err(eopnotsupp());
        }
        // SAFETY: `file` is an open block device file.
        let size = unsafe { fuse_iomap_bdev_size(file) };
        // INVARIANT: Both are claimed with the box's address as holder.
        *dax = Self {
            bdev_file: file,
            dax_dev,
            start_off,
            size,
            poisoned: AtomicBool::new(false),
        };
        Ok(dax)
    }

    /// Whether a memory failure hit the device.
    pub(crate) fn poisoned(&self) -> bool {
        self.poisoned.load(Ordering::Acquire)
    }

    /// Copies the `len` device bytes at `offset` to `out`. `EIO` for bytes
    /// past the end of the device, `EHWPOISON` once a memory failure hit it.
    pub(crate) fn read(&self, offset: u64, len: usize, out: &mut UserSliceWriter) -> Result {
        if self.poisoned() {
            return Err(ehwpoison());
        }
        let end = offset.checked_add(len as u64).ok_or(EIO)?;
        if end > self.size {
            return Err(EIO);
        }
        let mut pos = offset + self.start_off;
        let mut left = len;
        while left > 0 {
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
                // bytes from `in_page` are within them.
                let bytes =
                    unsafe { core::slice::from_raw_parts(kaddr.cast::<u8>().add(in_page), n) };
                out.write_slice(bytes).map(|()| n)
            };
            // SAFETY: Taken above.
            unsafe { fuse_iomap_dax_read_unlock(id) };
            let n = copied?;
            pos += n as u64;
            left -= n;
            // A read may copy up to 1 GiB: let others run between pieces.
            // SAFETY: Process context, no lock held.
            unsafe { fuse_iomap_cond_resched() };
        }
        Ok(())
    }
}

impl Drop for Dax {
    fn drop(&mut self) {
        if self.bdev_file.is_null() {
            return;
        }
        let holder = (self as *mut Self).cast::<c_void>();
        // SAFETY: Both were claimed with this holder by the type invariant,
        // and are released once, here.
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
/// the `Dax` it points to is alive for the whole call.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_dax_failure(
    holder: *mut c_void,
    offset: u64,
    len: u64,
) {
    // SAFETY: By the safety requirements, `holder` is a live `Dax`, which is
    // only read through shared references.
    let dax = unsafe { &*holder.cast::<Dax>() };
    dax.poisoned.store(true, Ordering::Release);
    pr_warn_ratelimited!(
        "famfs: memory failure at offset {} (+{}) of a daxdev: its reads now fail with EHWPOISON\n",
        offset,
        len
    );
}
