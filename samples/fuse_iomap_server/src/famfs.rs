// SPDX-License-Identifier: GPL-2.0

//! A famfs-like namespace on one pmem device: files laid out by the
//! server, their data written through the server's own mapping of the
//! device, and their fmaps handed to the kernel at open.
//!
//! The server places a file's bytes itself, with its own arithmetic, so
//! that the kernel's resolution of the fmap is checked against an
//! independent placement: chunk `n` of an interleaved file lives in strip
//! `n % strips`, at `(n / strips) * chunk` within that strip.

use fuse_iomap::fmap_build::{Ext, FmapSpec, Group, Layout};
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

/// Every extent and chunk is a multiple of 2 MiB.
const ALIGN: u64 = 2 << 20;

fn round_up(x: u64, to: u64) -> u64 {
    x.div_ceil(to) * to
}

/// Where a file's bytes are.
enum Placement {
    /// One extent at `offset`.
    Simple { offset: u64, len: u64 },
    /// `offsets.len()` strips of `strip_len` bytes, in chunks of `chunk`.
    Interleaved {
        chunk: u64,
        strip_len: u64,
        offsets: Vec<u64>,
    },
}

/// A file of the namespace.
pub struct FamfsFile {
    pub nodeid: u64,
    pub size: u64,
    placement: Placement,
}

/// The 8-byte word at file offset `offset` (a multiple of 8) of file
/// `nodeid`: what the server writes and the tests expect back
/// (splitmix64 of both).
pub fn word(nodeid: u64, offset: u64) -> u64 {
    let mut z = (nodeid << 48 ^ offset).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl FamfsFile {
    /// The piece of the file that holds file offset `off`, contiguous on
    /// the device: its file offset, length and device offset.
    pub fn piece(&self, off: u64) -> (u64, u64, u64) {
        match &self.placement {
            Placement::Simple { offset, len } => (0, *len, *offset),
            Placement::Interleaved { chunk, offsets, .. } => {
                let n = off / chunk;
                let strips = offsets.len() as u64;
                (
                    n * chunk,
                    *chunk,
                    offsets[(n % strips) as usize] + (n / strips) * chunk,
                )
            }
        }
    }

    /// The device offset of file offset `off`, and the bytes from there
    /// that stay contiguous on the device.
    fn place(&self, off: u64) -> (u64, u64) {
        let (start, len, dev) = self.piece(off);
        (dev + off - start, start + len - off)
    }

    /// The chunk size, strip length and strip offsets of an interleaved
    /// file.
    pub fn strips(&self) -> Option<(u64, u64, &[u64])> {
        match &self.placement {
            Placement::Simple { .. } => None,
            Placement::Interleaved {
                chunk,
                strip_len,
                offsets,
            } => Some((*chunk, *strip_len, offsets)),
        }
    }

    /// The `GET_FMAP` reply for the file, on daxdev `index`.
    pub fn fmap(&self, index: u32) -> Vec<u8> {
        let layout = match &self.placement {
            Placement::Simple { offset, len } => Layout::Simple(vec![Ext {
                dev: index,
                offset: *offset,
                len: *len,
            }]),
            Placement::Interleaved {
                chunk,
                strip_len,
                offsets,
            } => Layout::Interleave(vec![Group {
                chunk: *chunk as u32,
                nbytes: strip_len * offsets.len() as u64,
                strips: offsets
                    .iter()
                    .map(|&offset| Ext {
                        dev: index,
                        offset,
                        len: *strip_len,
                    })
                    .collect(),
            }]),
        };
        let mut spec = FmapSpec::new(layout);
        spec.file_size = self.size;
        spec.build()
    }

    /// Writes the file's data to the device through `pmem`.
    fn write(&self, pmem: &File) -> io::Result<()> {
        let mut buf = Vec::new();
        let mut off = 0;
        while off < self.size {
            let (dev, run) = self.place(off);
            let len = run.min(self.size - off).min(4 << 20);
            buf.clear();
            buf.extend(
                (0..len)
                    .step_by(8)
                    .flat_map(|i| word(self.nodeid, off + i).to_le_bytes()),
            );
            buf.truncate(len as usize);
            pmem.write_all_at(&buf, dev)?;
            off += len;
        }
        Ok(())
    }
}

/// The namespace: files from nodeid 1 on, one device.
pub struct Namespace {
    pub files: Vec<FamfsFile>,
    pub device: String,
}

/// The size of the device at `path`, bytes.
pub fn device_size(path: &str) -> io::Result<u64> {
    use std::io::{Seek, SeekFrom};
    File::open(path)?.seek(SeekFrom::End(0))
}

impl Namespace {
    /// `nfiles` files of `size` bytes, striped over `strips` strips of
    /// `chunk` bytes (0 strips: one simple extent), laid out one after the
    /// other from the start of `device`.
    pub fn new(device: &str, nfiles: u64, size: u64, strips: u64, chunk: u64) -> Self {
        let mut next = 0;
        let files = (1..=nfiles)
            .map(|nodeid| {
                let placement = if strips == 0 {
                    let len = round_up(size.max(1), ALIGN);
                    Placement::Simple { offset: next, len }
                } else {
                    let chunks = size.div_ceil(chunk).max(1);
                    let strip_len = round_up(chunks.div_ceil(strips) * chunk, ALIGN);
                    Placement::Interleaved {
                        chunk,
                        strip_len,
                        offsets: (0..strips).map(|s| next + s * strip_len).collect(),
                    }
                };
                next += match &placement {
                    Placement::Simple { len, .. } => *len,
                    Placement::Interleaved {
                        strip_len, offsets, ..
                    } => strip_len * offsets.len() as u64,
                };
                FamfsFile {
                    nodeid,
                    size,
                    placement,
                }
            })
            .collect();
        Self {
            files,
            device: device.to_owned(),
        }
    }

    /// Writes every file's data to the device.
    pub fn write(&self) -> io::Result<()> {
        let pmem = File::options().read(true).write(true).open(&self.device)?;
        for file in &self.files {
            file.write(&pmem)?;
        }
        pmem.sync_all()
    }

    /// The file `nodeid`.
    pub fn file(&self, nodeid: u64) -> Option<&FamfsFile> {
        self.files.iter().find(|f| f.nodeid == nodeid)
    }
}
