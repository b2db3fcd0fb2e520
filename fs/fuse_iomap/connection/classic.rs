// SPDX-License-Identifier: GPL-2.0

//! File data through the server, as fuse moves it: `READ` and `WRITE`, on
//! a connection whose server negotiated neither iomap nor famfs. This is
//! the fallback of Darrick's series for files without iomap, and what a
//! server written for `/dev/fuse` (libfuse's) answers; the mount's
//! benchmark measures iomap against it.

use super::Connection;
use crate::channel::{bytes_of, read_struct, Payload};
use crate::counters::Reject;
use crate::fuse_abi::{ReadIn, WriteIn, WriteOut, FUSE_READ, FUSE_WRITE};
use crate::handshake::Features;
use crate::ratelimit::pr_warn_ratelimited;
use crate::request::{Args, MAX_IO};
use kernel::prelude::*;

impl Connection {
    /// Whether the connection's regular files move their data with `READ`
    /// and `WRITE`: its handshake kept neither iomap nor famfs.
    pub(crate) fn is_classic(&self) -> bool {
        matches!(
            self.channel.features(),
            Some(Features {
                iomap: false,
                famfs: false,
                ..
            })
        )
    }

    /// The most bytes one [`Self::read`] asks for, and one
    /// [`Self::write`] sends.
    pub(crate) fn io_sizes(&self) -> (usize, usize) {
        let max_write = self
            .channel
            .features()
            .map_or(MAX_IO, |f| f.max_write as usize);
        (MAX_IO, max_write)
    }

    /// `READ` of the `len` bytes at `pos` of file `nodeid`, open as `fh`:
    /// what the server returned, fewer at the end of the file. `EINVAL`
    /// for more than [`MAX_IO`] bytes, `EIO` for a reply longer than asked.
    pub(crate) fn read(&self, nodeid: u64, fh: u64, pos: u64, len: usize) -> Result<KVec<u8>> {
        if len > MAX_IO {
            return Err(EINVAL);
        }
        let args = ReadIn {
            fh,
            offset: pos,
            // At most MAX_IO.
            size: len as u32,
            ..ReadIn::default()
        };
        let data = self.ns_call(FUSE_READ, nodeid, &[bytes_of(&args)])?;
        if data.len() > len {
            return Err(self.refuse_io(FUSE_READ, nodeid, "more bytes than asked for"));
        }
        Ok(data)
    }

    /// `WRITE` of `data` at `pos` of file `nodeid`, open as `fh`: the
    /// bytes the server stored. `EINVAL` for more than the server's
    /// `max_write`, `EIO` for a reply that stored more than it was sent.
    pub(crate) fn write(&self, nodeid: u64, fh: u64, pos: u64, data: KVec<u8>) -> Result<usize> {
        let len = data.len();
        if len > self.io_sizes().1 {
            return Err(EINVAL);
        }
        let args = WriteIn {
            fh,
            offset: pos,
            // At most MAX_IO.
            size: len as u32,
            ..WriteIn::default()
        };
        self.channel.wait_ready()?;
        let args = Args::new(bytes_of(&args))?;
        let reply =
            match self
                .channel
                .call(FUSE_WRITE, nodeid, args.as_bytes(), data, &self.counters)?
            {
                Payload::Data(reply) => reply,
                _ => return Err(EIO),
            };
        let out: WriteOut = read_struct(&reply)?;
        let stored = out.size as usize;
        if stored > len {
            return Err(self.refuse_io(FUSE_WRITE, nodeid, "more bytes stored than sent"));
        }
        Ok(stored)
    }

    /// Counts and logs a `READ` or `WRITE` reply refused for `why`: `EIO`.
    fn refuse_io(&self, opcode: u32, nodeid: u64, why: &str) -> Error {
        self.counters.reject(Reject::Size);
        pr_warn_ratelimited!(
            "reply to opcode {} for nodeid {} refused: {}\n",
            opcode,
            nodeid,
            why
        );
        EIO
    }
}
