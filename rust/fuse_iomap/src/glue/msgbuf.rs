// SPDX-License-Identifier: GPL-2.0

//! The server's buffers in host tests: the kernel crate's user slices,
//! whose host versions can fault part way, stand in for the module's
//! `struct iov_iter` (`fs/fuse_iomap/iov.rs`).

use crate::msgbuf::{MsgReader, MsgWriter};
use kernel::{
    prelude::*,
    types::{AsBytes, FromBytes},
    uaccess::{UserSliceReader, UserSliceWriter},
};

impl MsgReader for UserSliceReader {
    fn len(&self) -> usize {
        UserSliceReader::len(self)
    }

    fn read_slice(&mut self, out: &mut [u8]) -> Result {
        UserSliceReader::read_slice(self, out)
    }

    fn read<T: FromBytes>(&mut self) -> Result<T> {
        UserSliceReader::read(self)
    }
}

impl MsgWriter for UserSliceWriter {
    fn len(&self) -> usize {
        UserSliceWriter::len(self)
    }

    fn write_slice(&mut self, data: &[u8]) -> Result {
        UserSliceWriter::write_slice(self, data)
    }

    fn write<T: AsBytes>(&mut self, value: &T) -> Result {
        UserSliceWriter::write(self, value)
    }
}
