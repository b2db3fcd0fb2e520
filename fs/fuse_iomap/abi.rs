// SPDX-License-Identifier: GPL-2.0

//! The userspace ABI: the Rust mirror of `include/uapi/linux/fuse_iomap.h`.
//!
//! Each item names its C counterpart so that a reader can grep both worlds.
//! The host tests and the selftests check that both agree.

use kernel::ioctl::{_IO, _IOR, _IOW, _IOWR};

/// Name of the device node under `/dev` (`FUSE_IOMAP_DEV_NAME`).
pub(crate) const DEV_NAME: &str = "fuse-iomap";

/// Version of the ABI (`FUSE_IOMAP_ABI_VERSION`).
pub(crate) const ABI_VERSION: u32 = 3;

/// The ioctl type, fuse's own (`FUSE_IOMAP_IOC_MAGIC`).
const IOC_MAGIC: u32 = 229;

/// Read the ABI version as a `u32` (`FUSE_IOMAP_IOC_VERSION`).
pub(crate) const IOC_VERSION: u32 = _IOR::<u32>(IOC_MAGIC, 0x80);

// The fuse iomap wire ABI, as the additions to `include/uapi/linux/fuse.h`;
// only what the module uses so far is mirrored here, the header has it all.

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
/// `FUSE_IOMAP_OP_WRITE`.
pub(crate) const OP_WRITE: u32 = 1 << 0;
/// `FUSE_IOMAP_OP_ZERO`.
pub(crate) const OP_ZERO: u32 = 1 << 1;
/// `FUSE_IOMAP_OP_DIRECT`.
pub(crate) const OP_DIRECT: u32 = 1 << 4;
/// `FUSE_IOMAP_OP_NOWAIT`.
pub(crate) const OP_NOWAIT: u32 = 1 << 5;
/// `FUSE_IOMAP_OP_UNSHARE`.
pub(crate) const OP_UNSHARE: u32 = 1 << 7;
/// `FUSE_IOMAP_OP_ATOMIC`.
pub(crate) const OP_ATOMIC: u32 = 1 << 9;
/// `FUSE_IOMAP_OP_SWAPFILE`.
pub(crate) const OP_SWAPFILE: u32 = 1 << 30;
/// `FUSE_IOMAP_OP_WRITEBACK`.
pub(crate) const OP_WRITEBACK: u32 = 1 << 31;

/// Every `FUSE_IOMAP_OP_*` bit.
pub(crate) const OP_ALL: u32 = 0x7ff | OP_SWAPFILE | OP_WRITEBACK;

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

// The sizes of the header, for x86-64; the host tests also compare every
// field offset with what a C compiler makes of the header.
const _: () = assert!(core::mem::size_of::<IomapIo>() == 32);
const _: () = assert!(core::mem::size_of::<IomapBeginIn>() == 32);
const _: () = assert!(core::mem::size_of::<IomapBeginOut>() == 64);
const _: () = assert!(core::mem::size_of::<Range>() == 16);
const _: () = assert!(core::mem::size_of::<IomapInvalMappingsOut>() == 48);
const _: () = assert!(core::mem::size_of::<IomapUpsertMappingsOut>() == 80);

/// `FUSE_IOMAP_FORK_READ`.
pub(crate) const FORK_READ: u32 = 0;
/// `FUSE_IOMAP_FORK_WRITE`.
pub(crate) const FORK_WRITE: u32 = 1;
/// `FUSE_IOMAP_LOOKUP_HIT`.
pub(crate) const LOOKUP_HIT: u32 = 0;
/// `FUSE_IOMAP_LOOKUP_MISS`.
pub(crate) const LOOKUP_MISS: u32 = 1;
/// `FUSE_IOMAP_LOOKUP_NOFORK`.
pub(crate) const LOOKUP_NOFORK: u32 = 2;
/// `FUSE_IOMAP_SOURCE_CACHE`.
pub(crate) const SOURCE_CACHE: u32 = 0;
/// `FUSE_IOMAP_SOURCE_BPF`.
pub(crate) const SOURCE_BPF: u32 = 1;
/// `FUSE_IOMAP_SOURCE_UPCALL`.
pub(crate) const SOURCE_UPCALL: u32 = 2;

/// `struct fuse_iomap_ioc_config`: what `FUSE_IOMAP_CONFIG` would set.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocConfig {
    pub(crate) blocksize: u32,
    pub(crate) cache_maxbytes: u32,
    pub(crate) maxbytes: i64,
}

/// `struct fuse_iomap_ioc_device`: a device cookie and its size.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocDevice {
    pub(crate) dev: u32,
    pub(crate) reserved: u32,
    pub(crate) size: u64,
}

/// `struct fuse_iomap_ioc_lookup`: a cache lookup and its answer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocLookup {
    pub(crate) nodeid: u64,
    pub(crate) offset: u64,
    pub(crate) fork: u32,
    pub(crate) result: u32,
    pub(crate) cookie: u64,
    pub(crate) map: IomapIo,
}

/// `struct fuse_iomap_ioc_dump`: where to copy a fork's records.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocDump {
    pub(crate) nodeid: u64,
    pub(crate) fork: u32,
    pub(crate) count: u32,
    pub(crate) records: u64,
}

/// `struct fuse_iomap_ioc_begin`: an `iomap_begin` and its answer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocBegin {
    pub(crate) nodeid: u64,
    pub(crate) r#in: IomapBeginIn,
    pub(crate) out: IomapBeginOut,
    pub(crate) cookie: u64,
    pub(crate) source: u32,
    pub(crate) retries: u32,
}

/// `struct fuse_iomap_ioc_valid`: an `iomap_valid` question.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocValid {
    pub(crate) nodeid: u64,
    pub(crate) cookie: u64,
}

const _: () = assert!(core::mem::size_of::<IocConfig>() == 16);
const _: () = assert!(core::mem::size_of::<IocBegin>() == 120);
const _: () = assert!(core::mem::size_of::<IocValid>() == 16);
const _: () = assert!(core::mem::size_of::<IocDevice>() == 16);
const _: () = assert!(core::mem::size_of::<IocLookup>() == 64);
const _: () = assert!(core::mem::size_of::<IocDump>() == 24);

/// `FUSE_IOMAP_IOC_CONFIG`.
pub(crate) const IOC_CONFIG: u32 = _IOW::<IocConfig>(IOC_MAGIC, 0x81);
/// `FUSE_IOMAP_IOC_ADD_DEVICE`.
pub(crate) const IOC_ADD_DEVICE: u32 = _IOW::<IocDevice>(IOC_MAGIC, 0x82);
/// `FUSE_IOMAP_IOC_UPSERT`.
pub(crate) const IOC_UPSERT: u32 = _IOW::<IomapUpsertMappingsOut>(IOC_MAGIC, 0x83);
/// `FUSE_IOMAP_IOC_INVAL`.
pub(crate) const IOC_INVAL: u32 = _IOW::<IomapInvalMappingsOut>(IOC_MAGIC, 0x84);
/// `FUSE_IOMAP_IOC_LOOKUP`.
pub(crate) const IOC_LOOKUP: u32 = _IOWR::<IocLookup>(IOC_MAGIC, 0x85);
/// `FUSE_IOMAP_IOC_DUMP`.
pub(crate) const IOC_DUMP: u32 = _IOWR::<IocDump>(IOC_MAGIC, 0x86);
/// `FUSE_IOMAP_IOC_FORGET`.
pub(crate) const IOC_FORGET: u32 = _IOW::<u64>(IOC_MAGIC, 0x87);
/// `FUSE_IOMAP_IOC_BEGIN`.
pub(crate) const IOC_BEGIN: u32 = _IOWR::<IocBegin>(IOC_MAGIC, 0x88);
/// `FUSE_IOMAP_IOC_VALID`.
pub(crate) const IOC_VALID: u32 = _IOW::<IocValid>(IOC_MAGIC, 0x89);

/// `struct fuse_famfs_fmap_header`: the head of a `FUSE_GET_FMAP` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FamfsFmapHeader {
    pub(crate) file_type: u8,
    pub(crate) reserved: u8,
    pub(crate) fmap_version: u16,
    pub(crate) ext_type: u32,
    pub(crate) nextents: u32,
    pub(crate) reserved0: u32,
    pub(crate) file_size: u64,
    pub(crate) reserved1: u64,
}

/// `struct fuse_famfs_simple_ext`: an extent, or a strip of a group.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FamfsSimpleExt {
    pub(crate) se_devindex: u32,
    pub(crate) reserved: u32,
    pub(crate) se_offset: u64,
    pub(crate) se_len: u64,
}

/// `struct fuse_famfs_iext`: an interleaved group.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FamfsIext {
    pub(crate) ie_nstrips: u32,
    pub(crate) ie_chunk_size: u32,
    pub(crate) ie_nbytes: u64,
    pub(crate) reserved: u64,
}

/// `struct fuse_iomap_ioc_fmap`: a `FUSE_GET_FMAP` reply for an inode.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocFmap {
    pub(crate) nodeid: u64,
    pub(crate) fmap: u64,
    pub(crate) size: u32,
    pub(crate) reserved: u32,
}

/// `struct fuse_iomap_ioc_resolve`: a famfs resolution and its answer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocResolve {
    pub(crate) nodeid: u64,
    pub(crate) offset: u64,
    pub(crate) length: u64,
    pub(crate) dev_offset: u64,
    pub(crate) dev_index: u32,
    pub(crate) reserved: u32,
}

/// `struct fuse_iomap_ioc_famfs_info`: what the kernel made of an fmap.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocFamfsInfo {
    pub(crate) nodeid: u64,
    pub(crate) file_size: u64,
    pub(crate) devices: u32,
    pub(crate) nextents: u32,
    pub(crate) ext_type: u32,
    pub(crate) file_type: u8,
    pub(crate) fenced: u8,
    pub(crate) reserved: u16,
}

/// `struct fuse_daxdev_out`: a `FUSE_GET_DAXDEV` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DaxdevOut {
    pub(crate) index: u16,
    pub(crate) reserved: u16,
    pub(crate) reserved2: u32,
    pub(crate) dev: u64,
    pub(crate) reserved4: u64,
    pub(crate) name: [u8; 256],
}

/// `struct fuse_iomap_ioc_read`: a famfs read.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocRead {
    pub(crate) nodeid: u64,
    pub(crate) offset: u64,
    pub(crate) length: u64,
    pub(crate) buf: u64,
}

const _: () = assert!(core::mem::size_of::<FamfsFmapHeader>() == 32);
const _: () = assert!(core::mem::size_of::<DaxdevOut>() == 280);
const _: () = assert!(core::mem::size_of::<IocRead>() == 32);
const _: () = assert!(core::mem::size_of::<IocFamfsInfo>() == 32);
const _: () = assert!(core::mem::size_of::<FamfsSimpleExt>() == 24);
const _: () = assert!(core::mem::size_of::<FamfsIext>() == 24);
const _: () = assert!(core::mem::size_of::<IocFmap>() == 24);
const _: () = assert!(core::mem::size_of::<IocResolve>() == 40);

/// `FUSE_IOMAP_IOC_FAMFS_SET_FMAP`.
pub(crate) const IOC_FAMFS_SET_FMAP: u32 = _IOW::<IocFmap>(IOC_MAGIC, 0x8a);
/// `FUSE_IOMAP_IOC_FAMFS_RESOLVE`.
pub(crate) const IOC_FAMFS_RESOLVE: u32 = _IOWR::<IocResolve>(IOC_MAGIC, 0x8b);
/// `FUSE_IOMAP_IOC_FAMFS_INFO`.
pub(crate) const IOC_FAMFS_INFO: u32 = _IOWR::<IocFamfsInfo>(IOC_MAGIC, 0x8c);
/// `FUSE_IOMAP_IOC_FAMFS_DAXDEV`.
pub(crate) const IOC_FAMFS_DAXDEV: u32 = _IOW::<DaxdevOut>(IOC_MAGIC, 0x8d);
/// `FUSE_IOMAP_IOC_FAMFS_READ`.
pub(crate) const IOC_FAMFS_READ: u32 = _IOW::<IocRead>(IOC_MAGIC, 0x8e);

// The channel: fuse's own framing (`include/uapi/linux/fuse.h`), and the
// iomap and famfs requests and replies that travel on it.

/// `FUSE_INIT`.
pub(crate) const FUSE_INIT: u32 = 26;
/// `FUSE_GET_FMAP`: the fmap of a famfs file.
pub(crate) const FUSE_GET_FMAP: u32 = 54;
/// `FUSE_GET_DAXDEV`: a daxdev by index (the header's nodeid).
pub(crate) const FUSE_GET_DAXDEV: u32 = 55;
/// `FUSE_IOMAP_CONFIG`.
pub(crate) const FUSE_IOMAP_CONFIG: u32 = 4092;
/// `FUSE_IOMAP_IOEND`.
pub(crate) const FUSE_IOMAP_IOEND: u32 = 4093;
/// `FUSE_IOMAP_BEGIN`.
pub(crate) const FUSE_IOMAP_BEGIN: u32 = 4094;
/// `FUSE_IOMAP_END`.
pub(crate) const FUSE_IOMAP_END: u32 = 4095;

/// `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS`.
pub(crate) const NOTIFY_UPSERT_MAPPINGS: i32 = 100;
/// `FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS`.
pub(crate) const NOTIFY_INVAL_MAPPINGS: i32 = 101;

/// `FUSE_KERNEL_VERSION`: the protocol's major version.
pub(crate) const FUSE_KERNEL_VERSION: u32 = 7;
/// `FUSE_KERNEL_MINOR_VERSION` of the 6.12 tree.
pub(crate) const FUSE_KERNEL_MINOR_VERSION: u32 = 41;
/// `FUSE_DONT_MASK`: the server applies the umask of a new file itself.
pub(crate) const FUSE_DONT_MASK: u64 = 1 << 6;

/// `FUSE_INIT_EXT`: the flags go on in `flags2`.
pub(crate) const FUSE_INIT_EXT: u64 = 1 << 30;
/// `FUSE_DAX_FMAP`: famfs; offered only to a server with `CAP_SYS_RAWIO`.
pub(crate) const FUSE_DAX_FMAP: u64 = 1 << 43;
/// `FUSE_IOMAP`: the connection uses iomap.
pub(crate) const FUSE_IOMAP: u64 = 1 << 44;
/// `FUSE_MIN_READ_BUFFER`: the smallest buffer a server may read with.
pub(crate) const FUSE_MIN_READ_BUFFER: usize = 8192;

/// `FUSE_IOMAP_CONFIG_BLOCKSIZE`.
pub(crate) const CONFIG_BLOCKSIZE: u64 = 1 << 2;
/// `FUSE_IOMAP_CONFIG_MAXBYTES`.
pub(crate) const CONFIG_MAXBYTES: u64 = 1 << 5;
/// `FUSE_IOMAP_CONFIG_CACHE_MAXBYTES`.
pub(crate) const CONFIG_CACHE_MAXBYTES: u64 = 1 << 6;

/// `FUSE_IOMAP_F_WANT_IOMAP_END`: the server wants `FUSE_IOMAP_END`.
pub(crate) const F_WANT_IOMAP_END: u16 = 1 << 7;
/// `FUSE_IOMAP_IOEND_SHARED`.
pub(crate) const IOEND_SHARED: u32 = 1 << 0;
/// `FUSE_IOMAP_IOEND_UNWRITTEN`.
pub(crate) const IOEND_UNWRITTEN: u32 = 1 << 1;
/// `FUSE_IOMAP_IOEND_DIRECT`.
pub(crate) const IOEND_DIRECT: u32 = 1 << 3;
/// `FUSE_IOMAP_IOEND_APPEND`.
pub(crate) const IOEND_APPEND: u32 = 1 << 4;
/// `FUSE_IOMAP_IOEND_WRITEBACK`.
pub(crate) const IOEND_WRITEBACK: u32 = 1 << 5;
/// Every `FUSE_IOMAP_IOEND_*` flag.
pub(crate) const IOEND_ALL: u32 = 0x7f;

/// `struct fuse_in_header`: the head of every request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct InHeader {
    pub(crate) len: u32,
    pub(crate) opcode: u32,
    pub(crate) unique: u64,
    pub(crate) nodeid: u64,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) pid: u32,
    pub(crate) total_extlen: u16,
    pub(crate) padding: u16,
}

/// `struct fuse_out_header`: the head of every reply and notification.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OutHeader {
    pub(crate) len: u32,
    pub(crate) error: i32,
    pub(crate) unique: u64,
}

/// `struct fuse_init_in`: the `FUSE_INIT` request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct InitIn {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) max_readahead: u32,
    pub(crate) flags: u32,
    pub(crate) flags2: u32,
    pub(crate) unused: [u32; 11],
}

/// `struct fuse_init_out`: the `FUSE_INIT` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct InitOut {
    pub(crate) major: u32,
    pub(crate) minor: u32,
    pub(crate) max_readahead: u32,
    pub(crate) flags: u32,
    pub(crate) max_background: u16,
    pub(crate) congestion_threshold: u16,
    pub(crate) max_write: u32,
    pub(crate) time_gran: u32,
    pub(crate) max_pages: u16,
    pub(crate) map_alignment: u16,
    pub(crate) flags2: u32,
    pub(crate) unused: [u32; 7],
}

/// `struct fuse_iomap_config_in`: the `FUSE_IOMAP_CONFIG` request.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapConfigIn {
    pub(crate) flags: u64,
    pub(crate) maxbytes: i64,
    pub(crate) cache_maxbytes: u32,
    pub(crate) zero: u32,
    pub(crate) padding: [u64; 5],
}

/// `struct fuse_iomap_config_out`: the `FUSE_IOMAP_CONFIG` reply.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IomapConfigOut {
    pub(crate) flags: u64,
    pub(crate) blocksize: u32,
    pub(crate) cache_maxbytes: u32,
    pub(crate) maxbytes: i64,
    pub(crate) padding: [u64; 5],
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

const _: () = assert!(core::mem::size_of::<InHeader>() == 40);
const _: () = assert!(core::mem::size_of::<OutHeader>() == 16);
const _: () = assert!(core::mem::size_of::<InitIn>() == 64);
const _: () = assert!(core::mem::size_of::<InitOut>() == 64);
const _: () = assert!(core::mem::size_of::<IomapConfigIn>() == 64);
const _: () = assert!(core::mem::size_of::<IomapConfigOut>() == 64);
const _: () = assert!(core::mem::size_of::<IomapEndIn>() == 72);
const _: () = assert!(core::mem::size_of::<IomapIoendIn>() == 48);
const _: () = assert!(core::mem::size_of::<IomapIoendOut>() == 8);

// The client side of a connection.

/// `struct fuse_iomap_ioc_end`: an `iomap_end`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocEnd {
    pub(crate) nodeid: u64,
    pub(crate) r#in: IomapEndIn,
}

/// `struct fuse_iomap_ioc_ioend`: the end of a write's I/O.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocIoend {
    pub(crate) nodeid: u64,
    pub(crate) r#in: IomapIoendIn,
    pub(crate) newsize: u64,
}

/// `struct fuse_iomap_ioc_setsize`: a file's new size.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocSetsize {
    pub(crate) nodeid: u64,
    pub(crate) size: u64,
}

/// `FUSE_IOMAP_NR_UPCALLS`.
pub(crate) const NR_UPCALLS: usize = 8;
/// `FUSE_IOMAP_NR_REJECTS`.
pub(crate) const NR_REJECTS: usize = 8;

/// `struct fuse_iomap_counters`: what a connection has done so far.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counters {
    pub(crate) cache_hits: u64,
    pub(crate) cache_misses: u64,
    pub(crate) bpf_answers: u64,
    pub(crate) retries: u64,
    pub(crate) interrupted: u64,
    pub(crate) upcalls: [u64; NR_UPCALLS],
    pub(crate) rejected: [u64; NR_REJECTS],
    pub(crate) cache_bytes: u64,
    pub(crate) cache_budget: u64,
}

const _: () = assert!(core::mem::size_of::<IocEnd>() == 80);
const _: () = assert!(core::mem::size_of::<IocIoend>() == 64);
const _: () = assert!(core::mem::size_of::<IocSetsize>() == 16);
const _: () = assert!(core::mem::size_of::<Counters>() == 184);

/// `FUSE_IOMAP_IOC_CLIENT`.
pub(crate) const IOC_CLIENT: u32 = _IO(IOC_MAGIC, 0x8f);
/// `FUSE_IOMAP_IOC_OPEN`.
pub(crate) const IOC_OPEN: u32 = _IOW::<u64>(IOC_MAGIC, 0x90);
/// `FUSE_IOMAP_IOC_END`.
pub(crate) const IOC_END: u32 = _IOW::<IocEnd>(IOC_MAGIC, 0x91);
/// `FUSE_IOMAP_IOC_IOEND`.
pub(crate) const IOC_IOEND: u32 = _IOWR::<IocIoend>(IOC_MAGIC, 0x92);
/// `FUSE_IOMAP_IOC_SETSIZE`.
pub(crate) const IOC_SETSIZE: u32 = _IOW::<IocSetsize>(IOC_MAGIC, 0x93);
/// `struct fuse_iomap_backing_map`: `FUSE_IOMAP_IOC_BACKING_OPEN`'s argument.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct IocBackingMap {
    pub(crate) fd: i32,
    pub(crate) flags: u32,
    pub(crate) padding: u64,
}

const _: () = assert!(core::mem::size_of::<IocBackingMap>() == 16);

/// `FUSE_IOMAP_IOC_BACKING_OPEN`.
pub(crate) const IOC_BACKING_OPEN: u32 = _IOW::<IocBackingMap>(IOC_MAGIC, 0x95);

/// `FUSE_IOMAP_IOC_COUNTERS`.
pub(crate) const IOC_COUNTERS: u32 = _IOR::<Counters>(IOC_MAGIC, 0x94);
