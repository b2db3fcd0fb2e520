// SPDX-License-Identifier: GPL-2.0

//! Formatting a device, and mounting one: its superblock read and its log
//! replayed, entry by entry, into the tree.
//!
//! A replay stops at the first entry that is torn or corrupt (its length,
//! its checksum, its bytes) or that the tree refuses, with an error that
//! names it: a log is never half believed. Every entry was flushed before
//! its request was answered, so a torn one at the end was never answered
//! either; it is still refused, and the device must be looked at (or
//! formatted again), rather than a corruption taken for a torn end.

use super::alloc::Stripe;
use super::format::{Entry, Superblock, ALIGN, DATA_START, LOG_OFFSET, SB_BYTES};
use super::namespace::Namespace;
use super::{Error, Fs};
use crate::diskfs::inode::Time;
use std::fs::File;
use std::io::Read;
use std::os::unix::fs::FileExt;

/// A daxdev's identity, as famfs's log names one: random, 16 bytes.
fn uuid() -> std::io::Result<[u8; 16]> {
    let mut uuid = [0; 16];
    File::open("/dev/urandom")?.read_exact(&mut uuid)?;
    Ok(uuid)
}

impl Fs {
    /// Writes a fresh superblock and an empty log of `log_len` bytes on
    /// `file` of `bytes`, for files laid out as `stripe` says, and logs
    /// daxdev 0, the device itself.
    pub fn format(
        file: File,
        bytes: u64,
        stripe: Option<Stripe>,
        log_len: u64,
    ) -> Result<Self, Error> {
        let device_size = bytes / ALIGN * ALIGN;
        if device_size < DATA_START + stripe.map_or(ALIGN, |s| s.width()) {
            return Err(Error::Invalid(
                "the device is too small: the log takes its first 2 MiB, and a file needs room past them",
            ));
        }
        let sb = Superblock {
            device_size,
            log_offset: LOG_OFFSET,
            log_len,
            stripe,
            created: Time::now(),
        };
        sb.check(bytes).map_err(Error::Invalid)?;
        // The log ends at the first entry of length 0: an old log's
        // entries must not outlive the format, nor a new superblock meet
        // them.
        file.write_all_at(&vec![0; log_len as usize], sb.log_offset)?;
        file.sync_data()?;
        file.write_all_at(&sb.encode(), 0)?;
        file.sync_data()?;
        let mut fs = Self::new(file, sb, Namespace::new(&sb), 0);
        let daxdev = Entry::Daxdev {
            uuid: uuid()?,
            size: device_size,
        };
        if let Err(e) = fs.commit(&[daxdev], &[]) {
            let why = fs.take_fault().unwrap_or_default();
            return Err(Error::Io(std::io::Error::other(format!(
                "logging daxdev 0: {e} {why}"
            ))));
        }
        Ok(fs)
    }

    /// Loads the log on `file` of `bytes`: reads the superblock, and
    /// replays the log.
    pub fn load(file: File, bytes: u64) -> Result<Self, Error> {
        let mut sb = vec![0; SB_BYTES.min(bytes) as usize];
        file.read_exact_at(&mut sb, 0)?;
        let sb = Superblock::decode(&sb, bytes).map_err(Error::Super)?;
        let mut log = vec![0; sb.log_len as usize];
        file.read_exact_at(&mut log, sb.log_offset)?;
        let (ns, head) = replay(&sb, &log)?;
        Ok(Self::new(file, sb, ns, head))
    }
}

/// The tree that `log`, of a device of superblock `sb`, describes, and
/// the log's bytes in use.
pub fn replay(sb: &Superblock, log: &[u8]) -> Result<(Namespace, u64), Error> {
    let mut ns = Namespace::new(sb);
    let (mut head, mut index) = (0, 0);
    let corrupt = |index, head: usize, why| Error::Corrupt {
        index,
        offset: sb.log_offset + head as u64,
        why,
    };
    while let Some((entry, len)) =
        Entry::decode(&log[head..]).map_err(|why| corrupt(index, head, why))?
    {
        ns.apply(&entry).map_err(|why| corrupt(index, head, why))?;
        head += len;
        index += 1;
    }
    if ns.daxdevs().is_empty() {
        return Err(corrupt(0, 0, "no daxdev 0: the log is empty"));
    }
    Ok((ns, head as u64))
}
