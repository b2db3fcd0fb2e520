// SPDX-License-Identifier: GPL-2.0

//! The ioctls of a connection, decoded from their numbers.

use crate::abi;
use kernel::prelude::*;

/// An ioctl of `include/uapi/linux/fuse_iomap.h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ioctl {
    /// `FUSE_IOMAP_IOC_VERSION`: copy the ABI version out.
    Version,
    /// `FUSE_IOMAP_IOC_CONFIG`: set the geometry and the cache limit.
    Config,
    /// `FUSE_IOMAP_IOC_ADD_DEVICE`: register a device cookie.
    AddDevice,
    /// `FUSE_IOMAP_IOC_UPSERT`: an upsert notification.
    Upsert,
    /// `FUSE_IOMAP_IOC_INVAL`: an invalidation notification.
    Inval,
    /// `FUSE_IOMAP_IOC_LOOKUP`: look an offset up in a fork.
    Lookup,
    /// `FUSE_IOMAP_IOC_DUMP`: copy a fork's records out.
    Dump,
    /// `FUSE_IOMAP_IOC_FORGET`: free an inode.
    Forget,
    /// `FUSE_IOMAP_IOC_BEGIN`: run `iomap_begin`.
    Begin,
    /// `FUSE_IOMAP_IOC_VALID`: run `iomap_valid`.
    Valid,
    /// `FUSE_IOMAP_IOC_FAMFS_SET_FMAP`: give an inode its fmap.
    FamfsSetFmap,
    /// `FUSE_IOMAP_IOC_FAMFS_RESOLVE`: resolve a famfs file offset.
    FamfsResolve,
    /// `FUSE_IOMAP_IOC_FAMFS_INFO`: describe a famfs file.
    FamfsInfo,
    /// `FUSE_IOMAP_IOC_FAMFS_DAXDEV`: the server's `GET_DAXDEV` answer.
    FamfsDaxdev,
    /// `FUSE_IOMAP_IOC_FAMFS_READ`: read a famfs file.
    FamfsRead,
    /// `FUSE_IOMAP_IOC_CLIENT`: make a client handle.
    Client,
    /// `FUSE_IOMAP_IOC_OPEN`: open an inode.
    Open,
    /// `FUSE_IOMAP_IOC_END`: run `iomap_end`.
    End,
    /// `FUSE_IOMAP_IOC_IOEND`: end a write's I/O.
    Ioend,
    /// `FUSE_IOMAP_IOC_SETSIZE`: a file's size changed.
    Setsize,
    /// `FUSE_IOMAP_IOC_COUNTERS`: copy the counters out.
    Counters,
    /// `FUSE_IOMAP_IOC_BACKING_OPEN`: register a block device.
    BackingOpen,
}

impl Ioctl {
    /// Decodes an ioctl number. The number encodes the argument's size, so
    /// an ioctl built against another layout does not decode; a number this
    /// module does not know is `ENOTTY`, as for every character device.
    pub(crate) fn decode(cmd: u32) -> Result<Self> {
        Ok(match cmd {
            abi::IOC_VERSION => Self::Version,
            abi::IOC_CONFIG => Self::Config,
            abi::IOC_ADD_DEVICE => Self::AddDevice,
            abi::IOC_UPSERT => Self::Upsert,
            abi::IOC_INVAL => Self::Inval,
            abi::IOC_LOOKUP => Self::Lookup,
            abi::IOC_DUMP => Self::Dump,
            abi::IOC_FORGET => Self::Forget,
            abi::IOC_BEGIN => Self::Begin,
            abi::IOC_VALID => Self::Valid,
            abi::IOC_FAMFS_SET_FMAP => Self::FamfsSetFmap,
            abi::IOC_FAMFS_RESOLVE => Self::FamfsResolve,
            abi::IOC_FAMFS_INFO => Self::FamfsInfo,
            abi::IOC_FAMFS_DAXDEV => Self::FamfsDaxdev,
            abi::IOC_FAMFS_READ => Self::FamfsRead,
            abi::IOC_CLIENT => Self::Client,
            abi::IOC_OPEN => Self::Open,
            abi::IOC_END => Self::End,
            abi::IOC_IOEND => Self::Ioend,
            abi::IOC_SETSIZE => Self::Setsize,
            abi::IOC_COUNTERS => Self::Counters,
            abi::IOC_BACKING_OPEN => Self::BackingOpen,
            _ => return Err(ENOTTY),
        })
    }

    /// Whether a client handle may issue it: the VFS side, not the server's.
    pub(crate) fn for_client(self) -> bool {
        !matches!(
            self,
            Self::Config
                | Self::AddDevice
                | Self::BackingOpen
                | Self::Upsert
                | Self::Inval
                | Self::FamfsSetFmap
                | Self::FamfsDaxdev
                | Self::Client
        )
    }
}
