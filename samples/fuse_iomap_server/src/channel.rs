// SPDX-License-Identifier: GPL-2.0

//! The server's end of the device: requests read, replies and
//! notifications written, framed as on `/dev/fuse`.

use crate::uapi::*;
use bytemuck::{bytes_of, Pod};
use nix::errno::Errno;
use nix::unistd::{read, write};
use std::os::fd::{AsRawFd, OwnedFd};

/// A request: its header and its arguments.
pub struct Request {
    pub header: fuse_in_header,
    pub args: Vec<u8>,
}

impl Request {
    /// The arguments as a `T`; `EINVAL` if they are not one.
    pub fn args<T: Pod>(&self) -> nix::Result<T> {
        bytemuck::try_pod_read_unaligned(&self.args).map_err(|_| Errno::EINVAL)
    }
}

/// The server's file descriptor of a connection.
pub struct Channel {
    fd: OwnedFd,
}

/// The most file data one `WRITE` carries, which the handshake tells the
/// kernel (`max_write`); the kernel sends no more than 128 KiB anyway.
pub const MAX_WRITE: u32 = 128 * 1024;

/// What a `read(2)` of a request needs: the largest `WRITE`, its header and
/// arguments, as libfuse sizes its buffer.
const READ_BUFFER: usize = MAX_WRITE as usize + FUSE_MIN_READ_BUFFER as usize;

impl Channel {
    pub fn new(fd: OwnedFd) -> Self {
        Self { fd }
    }

    pub fn fd(&self) -> &OwnedFd {
        &self.fd
    }

    /// Waits for the next request.
    pub fn read(&self) -> nix::Result<Request> {
        let mut buf = vec![0u8; READ_BUFFER];
        let n = read(self.fd.as_raw_fd(), &mut buf)?;
        let size = std::mem::size_of::<fuse_in_header>();
        if n < size {
            return Err(Errno::EPROTO);
        }
        let header: fuse_in_header = bytemuck::pod_read_unaligned(&buf[..size]);
        Ok(Request {
            header,
            args: buf[size..n].to_vec(),
        })
    }

    fn send(&self, unique: u64, error: i32, payload: &[u8]) -> nix::Result<()> {
        let header = fuse_out_header {
            len: (std::mem::size_of::<fuse_out_header>() + payload.len()) as u32,
            error,
            unique,
        };
        let mut msg = bytes_of(&header).to_vec();
        msg.extend_from_slice(payload);
        write(&self.fd, &msg).map(|_| ())
    }

    /// Replies to request `unique` with `payload`'s bytes.
    pub fn reply_bytes(&self, unique: u64, payload: &[u8]) -> nix::Result<()> {
        self.send(unique, 0, payload)
    }

    /// Replies to request `unique` with `payload`.
    pub fn reply<T: Pod>(&self, unique: u64, payload: &T) -> nix::Result<()> {
        self.send(unique, 0, bytes_of(payload))
    }

    /// Fails request `unique` with `errno`.
    pub fn reply_error(&self, unique: u64, errno: Errno) -> nix::Result<()> {
        self.send(unique, -(errno as i32), &[])
    }

    /// Sends notification `code`.
    pub fn notify<T: Pod>(&self, code: u32, payload: &T) -> nix::Result<()> {
        self.send(0, code as i32, bytes_of(payload))
    }

    /// The server's half of the handshake: keeps `want` of the kernel's
    /// offer, and configures 4 KiB blocks on an iomap connection, and with
    /// `maxbytes` the largest file size (the kernel's `s_maxbytes`, so that
    /// the VFS refuses a larger size before the file system sees it).
    /// Returns what the connection has.
    pub fn handshake(&self, want: u64, maxbytes: Option<u64>) -> nix::Result<u64> {
        let init = self.read()?;
        if init.header.opcode != fuse_opcode_FUSE_INIT {
            return Err(Errno::EPROTO);
        }
        let offer: fuse_init_in = init.args()?;
        let offered = u64::from(offer.flags) | u64::from(offer.flags2) << 32;
        let kept = offered & (want | u64::from(FUSE_INIT_EXT));
        let out = fuse_init_out {
            major: FUSE_KERNEL_VERSION,
            minor: offer.minor,
            flags: kept as u32,
            flags2: (kept >> 32) as u32,
            max_write: MAX_WRITE,
            ..Default::default()
        };
        self.reply(init.header.unique, &out)?;
        if kept & FUSE_IOMAP != 0 {
            let config = self.read()?;
            if config.header.opcode != FUSE_IOMAP_CONFIG {
                return Err(Errno::EPROTO);
            }
            let mut out = fuse_iomap_config_out {
                flags: u64::from(FUSE_IOMAP_CONFIG_BLOCKSIZE),
                blocksize: crate::BLOCK_SIZE as u32,
                ..Default::default()
            };
            if let Some(maxbytes) = maxbytes {
                out.flags |= u64::from(FUSE_IOMAP_CONFIG_MAXBYTES);
                out.maxbytes = i64::try_from(maxbytes).map_err(|_| Errno::EINVAL)?;
            }
            self.reply(config.header.unique, &out)?;
        }
        Ok(kept)
    }
}
