// SPDX-License-Identifier: GPL-2.0

//! Zeroing device bytes that the kernel reads and writes around the
//! device's page cache: with its own bios (`mount disk`) or through DAX
//! (`mount famfs`).
//!
//! A page of the device cached here by an earlier write may be stale, and
//! a partial write would write its stale rest back over newer data (fsx
//! found this). So the pages are dropped before the write reads them in
//! again, and after it, so that none stays; and the zeroes are flushed at
//! once, so that no late writeback of ours overwrites what the kernel
//! writes next.

use crate::BLOCK_SIZE;
use nix::errno::Errno;
use nix::fcntl::{posix_fadvise, PosixFadviseAdvice};
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::FileExt;

/// The most zeroes written by one `pwrite`: a large range is not one
/// buffer of its size.
const BATCH: u64 = 4 << 20;

/// Writes zeroes over `len` bytes at device address `addr` of `file`, and
/// flushes them.
pub fn zero(file: &File, addr: u64, len: u64) -> io::Result<()> {
    let end = addr.checked_add(len).ok_or(Errno::EFBIG)?;
    let first = addr / BLOCK_SIZE * BLOCK_SIZE;
    let last = end.div_ceil(BLOCK_SIZE) * BLOCK_SIZE;
    drop_cache(file, first, last - first)?;
    let zeroes = vec![0; len.min(BATCH) as usize];
    let mut at = addr;
    while at < end {
        let n = (end - at).min(BATCH);
        file.write_all_at(&zeroes[..n as usize], at)?;
        at += n;
    }
    file.sync_data()?;
    drop_cache(file, first, last - first)
}

/// Drops the clean cached pages of `[addr, addr + len)` of the device.
fn drop_cache(file: &File, addr: u64, len: u64) -> io::Result<()> {
    let off = i64::try_from(addr).map_err(|_| io::Error::from(Errno::EFBIG))?;
    let len = i64::try_from(len).map_err(|_| io::Error::from(Errno::EFBIG))?;
    posix_fadvise(
        file.as_raw_fd(),
        off,
        len,
        PosixFadviseAdvice::POSIX_FADV_DONTNEED,
    )?;
    Ok(())
}
