// SPDX-License-Identifier: GPL-2.0

//! The server's message buffers: where `read(2)` copies a request to and
//! where `write(2)` finds a reply, framed as on `/dev/fuse`.
//!
//! A server hands either one buffer or, with `readv(2)`/`writev(2)`, several:
//! libfuse writes a reply's header and its payload as two segments of one
//! `writev`. The channel parses a message front to back through these
//! traits, so it need not know which. In the module the buffers are the
//! file operation's `struct iov_iter` (`iov.rs`); the host tests hand in
//! user slices that can fault part way.

use kernel::{
    prelude::*,
    types::{AsBytes, FromBytes},
};

/// A message the server wrote, read front to back.
pub(crate) trait MsgReader {
    /// The bytes left to read.
    fn len(&self) -> usize;

    /// Reads `out.len()` bytes; `EFAULT` if the server's memory faults or
    /// the message is shorter.
    fn read_slice(&mut self, out: &mut [u8]) -> Result;

    /// Reads a `T`, as [`Self::read_slice`].
    fn read<T: FromBytes>(&mut self) -> Result<T>;
}

/// The buffer the server reads a request into, written front to back.
pub(crate) trait MsgWriter {
    /// The room left.
    fn len(&self) -> usize;

    /// Writes `data`; `EFAULT` if the server's memory faults or the room
    /// runs out.
    fn write_slice(&mut self, data: &[u8]) -> Result;

    /// Writes `value`, as [`Self::write_slice`].
    fn write<T: AsBytes>(&mut self, value: &T) -> Result;
}
