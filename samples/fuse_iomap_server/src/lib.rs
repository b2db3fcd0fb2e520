// SPDX-License-Identifier: GPL-2.0

//! The sample server's parts, shared by its two programs: the server
//! (`fuse-iomap-server`) and the BPF selftest (`fuse-iomap-bpf-test`).

pub mod bpf;
pub mod bytes;
pub mod channel;
pub mod disk;
pub mod diskfs;
pub mod ext4;
pub mod famfs;
pub mod famfslog;
pub mod loopdev;
pub mod uapi;
pub mod uncached;

/// The block size the server configures.
pub const BLOCK_SIZE: u64 = 4096;
