// SPDX-License-Identifier: GPL-2.0

//! The byte formats of what the server keeps on its devices (the disk file
//! system's metadata, the famfs log): little-endian integers written by
//! [`Writer`], read back by [`Reader`], which fails with `EUCLEAN` on
//! anything short or out of range, and a [`checksum`] over them.
//!
//! Hand formats rather than serde and a binary codec: a few dozen lines,
//! bytes fixed by the server's source (not by a crate's version), and no
//! crate beyond those the server has.

use crate::diskfs::inode::Time;
use nix::errno::Errno;

/// Appends little-endian integers to its bytes.
#[derive(Default)]
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u8(&mut self, v: u8) {
        self.0.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn time(&mut self, t: Time) {
        self.u64(t.sec);
        self.u32(t.nsec);
    }
}

/// Reads little-endian integers from the front of its bytes.
pub struct Reader<'a>(pub &'a [u8]);

impl Reader<'_> {
    pub fn take<const N: usize>(&mut self) -> Result<[u8; N], Errno> {
        let (head, rest) = self.0.split_first_chunk::<N>().ok_or(Errno::EUCLEAN)?;
        self.0 = rest;
        Ok(*head)
    }
    pub fn u8(&mut self) -> Result<u8, Errno> {
        Ok(self.take::<1>()?[0])
    }
    pub fn u16(&mut self) -> Result<u16, Errno> {
        self.take().map(u16::from_le_bytes)
    }
    pub fn u32(&mut self) -> Result<u32, Errno> {
        self.take().map(u32::from_le_bytes)
    }
    pub fn u64(&mut self) -> Result<u64, Errno> {
        self.take().map(u64::from_le_bytes)
    }
    pub fn time(&mut self) -> Result<Time, Errno> {
        let sec = self.u64()?;
        let nsec = self.u32()?;
        if nsec >= 1_000_000_000 {
            return Err(Errno::EUCLEAN);
        }
        Ok(Time { sec, nsec })
    }
    pub fn bytes(&mut self, n: usize) -> Result<&[u8], Errno> {
        if n > self.0.len() {
            return Err(Errno::EUCLEAN);
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    /// A count of records of at least `min` bytes each, checked against
    /// what is left, so that a corrupt count cannot make us allocate.
    pub fn count(&mut self, min: usize) -> Result<u64, Errno> {
        let n = self.u64()?;
        if n > (self.0.len() / min) as u64 {
            return Err(Errno::EUCLEAN);
        }
        Ok(n)
    }
}

/// FNV-1a: enough to catch a torn or stray write, no dependency. A change
/// of any one byte always changes it: each step is a bijection of the hash
/// for a given byte, and of the byte for a given hash.
pub fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
