// SPDX-License-Identifier: GPL-2.0

//! The file system on its device: format, load, and save with `pwrite`
//! and `fdatasync`, the metadata first, then the superblock that points
//! at it.

use super::codec;
use super::layout::{BadSuper, Layout, Superblock};
use super::{Fs, BLOCK};
use crate::bytes::checksum;
use nix::errno::Errno;
use std::fmt;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Why a device could not be loaded or formatted.
#[derive(Debug)]
pub enum Error {
    Io(io::Error),
    Super(BadSuper),
    /// The metadata is corrupt (`EUCLEAN`), or the device too small
    /// (`ENOSPC`).
    Fs(Errno),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io(e) => write!(f, "{e}"),
            Self::Super(e) => write!(f, "{e}"),
            Self::Fs(Errno::EUCLEAN) => write!(f, "the metadata is corrupt"),
            Self::Fs(Errno::ENOSPC) => write!(f, "the device is too small"),
            Self::Fs(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for Error {
    fn from(e: io::Error) -> Self {
        Self::Io(e)
    }
}

/// The device and where its metadata is.
pub struct Store {
    file: File,
    slot: u32,
    sequence: u64,
}

impl Store {
    /// Writes an empty file system on `file`, of `bytes`.
    pub fn format(file: File, bytes: u64) -> Result<(Self, Fs), Error> {
        let layout = Layout::for_device(bytes).map_err(Error::Fs)?;
        let mut store = Self {
            file,
            slot: 1,
            sequence: 0,
        };
        let mut fs = Fs::new(layout);
        store.save(&mut fs).map_err(|e| match e.raw_os_error() {
            Some(errno) => Error::Fs(Errno::from_raw(errno)),
            None => Error::Io(e),
        })?;
        Ok((store, fs))
    }

    /// Loads the file system on `file`, of `bytes`.
    pub fn load(file: File, bytes: u64) -> Result<(Self, Fs), Error> {
        let mut sb = vec![0; BLOCK as usize];
        file.read_exact_at(&mut sb, 0)?;
        let sb = Superblock::decode(&sb, bytes).map_err(Error::Super)?;
        let mut meta = vec![0; sb.meta_len as usize];
        file.read_exact_at(&mut meta, sb.layout.slot_addr(sb.slot))?;
        if checksum(&meta) != sb.meta_sum {
            return Err(Error::Fs(Errno::EUCLEAN));
        }
        let fs = codec::decode(sb.layout, &meta).map_err(Error::Fs)?;
        let store = Self {
            file,
            slot: sb.slot,
            sequence: sb.sequence,
        };
        Ok((store, fs))
    }

    /// Stores `fs` if it changed: its metadata in the other slot, then the
    /// superblock; flushes the device either way, for the file data the
    /// kernel wrote. `ENOSPC` if the metadata outgrew its slot.
    pub fn save(&mut self, fs: &mut Fs) -> io::Result<()> {
        if !fs.is_dirty() {
            return self.file.sync_data();
        }
        let layout = fs.layout();
        let meta = codec::encode(fs);
        if meta.len() as u64 > layout.slot_bytes() {
            return Err(Errno::ENOSPC.into());
        }
        let slot = 1 - self.slot;
        self.file.write_all_at(&meta, layout.slot_addr(slot))?;
        self.file.sync_data()?;
        let sb = Superblock {
            layout,
            slot,
            sequence: self.sequence + 1,
            meta_len: meta.len() as u64,
            meta_sum: checksum(&meta),
        };
        self.file.write_all_at(&sb.encode(), 0)?;
        self.file.sync_data()?;
        self.slot = slot;
        self.sequence += 1;
        fs.set_clean();
        Ok(())
    }

    /// Writes zeroes over `len` bytes at device address `addr`, and flushes
    /// them now, around the page cache (see [`crate::uncached`]).
    pub fn zero(&self, addr: u64, len: u64) -> io::Result<()> {
        crate::uncached::zero(&self.file, addr, len)
    }
}
