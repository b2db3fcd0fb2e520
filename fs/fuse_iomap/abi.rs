// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI: the Rust mirror of `include/uapi/linux/fuse_iomap.h`.
//!
//! Each item names its C counterpart so that a reader can grep both worlds.
//! The host tests and the selftests check that both agree.

use kernel::ioctl::_IOR;

/// Name of the device node under `/dev` (`FUSE_IOMAP_DEV_NAME`).
pub(crate) const DEV_NAME: &str = "fuse-iomap";

/// Version of the ABI (`FUSE_IOMAP_ABI_VERSION`).
pub(crate) const ABI_VERSION: u32 = 1;

/// The ioctl type, fuse's own (`FUSE_IOMAP_IOC_MAGIC`).
const IOC_MAGIC: u32 = 229;

/// Read the ABI version as a `u32` (`FUSE_IOMAP_IOC_VERSION`).
pub(crate) const IOC_VERSION: u32 = _IOR::<u32>(IOC_MAGIC, 0x80);

// The fuse iomap wire ABI, as the additions to `include/uapi/linux/fuse.h`.

/// `FUSE_IOMAP_CONFIG`.
pub(crate) const FUSE_IOMAP_CONFIG: u32 = 4092;
/// `FUSE_IOMAP_IOEND`.
pub(crate) const FUSE_IOMAP_IOEND: u32 = 4093;
/// `FUSE_IOMAP_BEGIN`.
pub(crate) const FUSE_IOMAP_BEGIN: u32 = 4094;
/// `FUSE_IOMAP_END`.
pub(crate) const FUSE_IOMAP_END: u32 = 4095;

/// `FUSE_IOMAP`: the `FUSE_INIT` flag of a connection that uses iomap.
pub(crate) const FUSE_IOMAP_INIT_FLAG: u64 = 1 << 43;

/// `FUSE_NOTIFY_IOMAP_DEV_INVAL`.
pub(crate) const NOTIFY_IOMAP_DEV_INVAL: i32 = 99;
/// `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS`.
pub(crate) const NOTIFY_IOMAP_UPSERT_MAPPINGS: i32 = 100;
/// `FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS`.
pub(crate) const NOTIFY_IOMAP_INVAL_MAPPINGS: i32 = 101;

/// The type of a mapping (`FUSE_IOMAP_TYPE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u16)]
pub(crate) enum MappingType {
    /// `FUSE_IOMAP_TYPE_HOLE`: no storage.
    Hole = 0,
    /// `FUSE_IOMAP_TYPE_DELALLOC`: storage reserved, not yet allocated.
    Delalloc = 1,
    /// `FUSE_IOMAP_TYPE_MAPPED`: storage at `addr` on `dev`.
    Mapped = 2,
    /// `FUSE_IOMAP_TYPE_UNWRITTEN`: storage allocated, reads as zeroes.
    Unwritten = 3,
    /// `FUSE_IOMAP_TYPE_INLINE`: data kept in the inode.
    Inline = 4,
    /// `FUSE_IOMAP_TYPE_NOCACHE`: skip this fork.
    NoCache = 253,
    /// `FUSE_IOMAP_TYPE_RETRY_CACHE`: "I upserted, look in the cache again".
    RetryCache = 254,
    /// `FUSE_IOMAP_TYPE_PURE_OVERWRITE`: writes use the read mapping.
    PureOverwrite = 255,
}

impl MappingType {
    /// The type of a raw `fuse_iomap_io.type`, if it is one.
    pub(crate) fn from_raw(raw: u16) -> Option<Self> {
        Some(match raw {
            0 => Self::Hole,
            1 => Self::Delalloc,
            2 => Self::Mapped,
            3 => Self::Unwritten,
            4 => Self::Inline,
            253 => Self::NoCache,
            254 => Self::RetryCache,
            255 => Self::PureOverwrite,
            _ => return None,
        })
    }

    /// Whether a mapping of this type points at storage: such a mapping
    /// needs a device and an address, and its address advances with its
    /// offset when it is trimmed on the left.
    pub(crate) fn has_storage(self) -> bool {
        matches!(self, Self::Mapped | Self::Unwritten)
    }
}

/// `FUSE_IOMAP_DEV_NULL`: no device.
pub(crate) const DEV_NULL: u32 = 0;
/// `FUSE_IOMAP_NULL_ADDR`: no address.
pub(crate) const NULL_ADDR: u64 = !0;

/// `FUSE_IOMAP_F_*` bits a server may set: `NEW` through `WANT_IOMAP_END`.
pub(crate) const MAPPING_FLAGS_FROM_SERVER: u16 = 0xff;
/// `FUSE_IOMAP_F_SIZE_CHANGED`: kernel to server only.
pub(crate) const MAPPING_F_SIZE_CHANGED: u16 = 1 << 8;
/// `FUSE_IOMAP_F_STALE`: kernel to server only.
pub(crate) const MAPPING_F_STALE: u16 = 1 << 9;

/// `FUSE_IOMAP_OP_WRITE`.
pub(crate) const OP_WRITE: u32 = 1 << 0;
/// `FUSE_IOMAP_OP_ZERO`.
pub(crate) const OP_ZERO: u32 = 1 << 1;
/// `FUSE_IOMAP_OP_REPORT`.
pub(crate) const OP_REPORT: u32 = 1 << 2;
/// `FUSE_IOMAP_OP_FAULT`.
pub(crate) const OP_FAULT: u32 = 1 << 3;
/// `FUSE_IOMAP_OP_DIRECT`.
pub(crate) const OP_DIRECT: u32 = 1 << 4;
/// `FUSE_IOMAP_OP_NOWAIT`.
pub(crate) const OP_NOWAIT: u32 = 1 << 5;
/// `FUSE_IOMAP_OP_OVERWRITE_ONLY`.
pub(crate) const OP_OVERWRITE_ONLY: u32 = 1 << 6;
/// `FUSE_IOMAP_OP_UNSHARE`.
pub(crate) const OP_UNSHARE: u32 = 1 << 7;
/// `FUSE_IOMAP_OP_DAX`.
pub(crate) const OP_DAX: u32 = 1 << 8;
/// `FUSE_IOMAP_OP_ATOMIC`.
pub(crate) const OP_ATOMIC: u32 = 1 << 9;
/// `FUSE_IOMAP_OP_DONTCACHE`.
pub(crate) const OP_DONTCACHE: u32 = 1 << 10;
/// `FUSE_IOMAP_OP_SWAPFILE`.
pub(crate) const OP_SWAPFILE: u32 = 1 << 30;
/// `FUSE_IOMAP_OP_WRITEBACK`.
pub(crate) const OP_WRITEBACK: u32 = 1 << 31;

/// `FUSE_IOMAP_CONFIG_BLOCKSIZE`.
pub(crate) const CONFIG_BLOCKSIZE: u64 = 1 << 2;
/// `FUSE_IOMAP_CONFIG_MAXBYTES`.
pub(crate) const CONFIG_MAXBYTES: u64 = 1 << 5;
/// `FUSE_IOMAP_CONFIG_CACHE_MAXBYTES`.
pub(crate) const CONFIG_CACHE_MAXBYTES: u64 = 1 << 6;

/// `FUSE_IOMAP_INVAL_TO_EOF`: an invalidation length reaching end of file.
pub(crate) const INVAL_TO_EOF: u64 = !0;

/// One mapping (`struct fuse_iomap_io`); also the mapping cache's record.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapIo {
    /// File offset, bytes.
    pub(crate) offset: u64,
    /// Length, bytes.
    pub(crate) length: u64,
    /// Device address, bytes, or [`NULL_ADDR`].
    pub(crate) addr: u64,
    /// A [`MappingType`], raw.
    pub(crate) r#type: u16,
    /// `FUSE_IOMAP_F_*`.
    pub(crate) flags: u16,
    /// Device cookie, or [`DEV_NULL`].
    pub(crate) dev: u32,
}

/// `struct fuse_iomap_begin_in`: the `FUSE_IOMAP_BEGIN` request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapBeginIn {
    pub(crate) opflags: u32,
    pub(crate) reserved: u32,
    pub(crate) attr_ino: u64,
    pub(crate) pos: u64,
    pub(crate) count: u64,
}

/// `struct fuse_iomap_begin_out`: the `FUSE_IOMAP_BEGIN` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapBeginOut {
    pub(crate) read: IomapIo,
    pub(crate) write: IomapIo,
}

/// `struct fuse_iomap_end_in`: the `FUSE_IOMAP_END` request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapEndIn {
    pub(crate) opflags: u32,
    pub(crate) reserved: u32,
    pub(crate) attr_ino: u64,
    pub(crate) pos: u64,
    pub(crate) count: u64,
    pub(crate) written: i64,
    pub(crate) map: IomapIo,
}

/// `struct fuse_iomap_ioend_in`: the `FUSE_IOMAP_IOEND` request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapIoendIn {
    pub(crate) flags: u32,
    pub(crate) error: i32,
    pub(crate) attr_ino: u64,
    pub(crate) pos: u64,
    pub(crate) new_addr: u64,
    pub(crate) written: u64,
    pub(crate) dev: u32,
    pub(crate) pad: u32,
}

/// `struct fuse_iomap_ioend_out`: the `FUSE_IOMAP_IOEND` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapIoendOut {
    pub(crate) newsize: u64,
}

/// `struct fuse_range`: a byte range of a file.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Range {
    pub(crate) offset: u64,
    pub(crate) length: u64,
}

/// `struct fuse_iomap_inval_mappings_out`: `FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapInvalMappingsOut {
    pub(crate) nodeid: u64,
    pub(crate) attr_ino: u64,
    pub(crate) read: Range,
    pub(crate) write: Range,
}

/// `struct fuse_iomap_upsert_mappings_out`: `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapUpsertMappingsOut {
    pub(crate) nodeid: u64,
    pub(crate) attr_ino: u64,
    pub(crate) read: IomapIo,
    pub(crate) write: IomapIo,
}

/// `struct fuse_iomap_config_in`: the `FUSE_IOMAP_CONFIG` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapConfigIn {
    pub(crate) flags: u64,
    pub(crate) maxbytes: i64,
    pub(crate) cache_maxbytes: u32,
    pub(crate) zero: u32,
    pub(crate) padding: [u64; 5],
}

// The sizes of the header, for x86-64; the host tests also compare every
// field offset with what a C compiler makes of the header.
const _: () = assert!(core::mem::size_of::<IomapIo>() == 32);
const _: () = assert!(core::mem::size_of::<IomapBeginIn>() == 32);
const _: () = assert!(core::mem::size_of::<IomapBeginOut>() == 64);
const _: () = assert!(core::mem::size_of::<IomapEndIn>() == 72);
const _: () = assert!(core::mem::size_of::<IomapIoendIn>() == 48);
const _: () = assert!(core::mem::size_of::<IomapIoendOut>() == 8);
const _: () = assert!(core::mem::size_of::<Range>() == 16);
const _: () = assert!(core::mem::size_of::<IomapInvalMappingsOut>() == 48);
const _: () = assert!(core::mem::size_of::<IomapUpsertMappingsOut>() == 80);
const _: () = assert!(core::mem::size_of::<IomapConfigIn>() == 64);
