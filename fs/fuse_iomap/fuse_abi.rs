// SPDX-License-Identifier: GPL-2.0

//! The namespace requests of the mount: the Rust mirror of what the module
//! uses of the kernel's own `include/uapi/linux/fuse.h` (protocol 7.31 and
//! later), so that a libfuse-style server reads them as it reads fuse's.
//!
//! Each item names its C counterpart; the host tests compare sizes and
//! offsets with what a C compiler makes of the header.

/// `FUSE_ROOT_ID`: the root directory's nodeid.
pub(crate) const ROOT_ID: u64 = 1;

/// `FUSE_LOOKUP`.
pub(crate) const FUSE_LOOKUP: u32 = 1;
/// `FUSE_FORGET`: no reply.
pub(crate) const FUSE_FORGET: u32 = 2;
/// `FUSE_GETATTR`.
pub(crate) const FUSE_GETATTR: u32 = 3;
/// `FUSE_SETATTR`.
pub(crate) const FUSE_SETATTR: u32 = 4;
/// `FUSE_MKDIR`.
pub(crate) const FUSE_MKDIR: u32 = 9;
/// `FUSE_UNLINK`.
pub(crate) const FUSE_UNLINK: u32 = 10;
/// `FUSE_RMDIR`.
pub(crate) const FUSE_RMDIR: u32 = 11;
/// `FUSE_RENAME`.
pub(crate) const FUSE_RENAME: u32 = 12;
/// `FUSE_OPEN`.
pub(crate) const FUSE_OPEN: u32 = 14;
/// `FUSE_READ`: file data, on a connection without iomap.
pub(crate) const FUSE_READ: u32 = 15;
/// `FUSE_WRITE`: file data, on a connection without iomap.
pub(crate) const FUSE_WRITE: u32 = 16;
/// `FUSE_STATFS`.
pub(crate) const FUSE_STATFS: u32 = 17;
/// `FUSE_RELEASE`.
pub(crate) const FUSE_RELEASE: u32 = 18;
/// `FUSE_FSYNC`.
pub(crate) const FUSE_FSYNC: u32 = 20;
/// `FUSE_OPENDIR`.
pub(crate) const FUSE_OPENDIR: u32 = 27;
/// `FUSE_READDIR`.
pub(crate) const FUSE_READDIR: u32 = 28;
/// `FUSE_RELEASEDIR`.
pub(crate) const FUSE_RELEASEDIR: u32 = 29;
/// `FUSE_CREATE`.
pub(crate) const FUSE_CREATE: u32 = 35;
/// `FUSE_DESTROY`.
pub(crate) const FUSE_DESTROY: u32 = 38;
/// `FUSE_BATCH_FORGET`: several `FORGET`s in one message, no reply.
pub(crate) const FUSE_BATCH_FORGET: u32 = 42;
/// `FUSE_FALLOCATE`.
pub(crate) const FUSE_FALLOCATE: u32 = 43;

/// `FATTR_SIZE`: `fuse_setattr_in.size` is set.
pub(crate) const FATTR_SIZE: u32 = 1 << 3;

/// `struct fuse_attr`: a file's attributes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Attr {
    pub(crate) ino: u64,
    pub(crate) size: u64,
    pub(crate) blocks: u64,
    pub(crate) atime: u64,
    pub(crate) mtime: u64,
    pub(crate) ctime: u64,
    pub(crate) atimensec: u32,
    pub(crate) mtimensec: u32,
    pub(crate) ctimensec: u32,
    pub(crate) mode: u32,
    pub(crate) nlink: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) rdev: u32,
    pub(crate) blksize: u32,
    pub(crate) flags: u32,
}

/// `struct fuse_entry_out`: the reply of `LOOKUP`, `MKDIR`, and the first
/// half of `CREATE`'s.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct EntryOut {
    pub(crate) nodeid: u64,
    pub(crate) generation: u64,
    pub(crate) entry_valid: u64,
    pub(crate) attr_valid: u64,
    pub(crate) entry_valid_nsec: u32,
    pub(crate) attr_valid_nsec: u32,
    pub(crate) attr: Attr,
}

/// `struct fuse_attr_out`: the reply of `GETATTR` and `SETATTR`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct AttrOut {
    pub(crate) attr_valid: u64,
    pub(crate) attr_valid_nsec: u32,
    pub(crate) dummy: u32,
    pub(crate) attr: Attr,
}

/// `struct fuse_getattr_in`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct GetattrIn {
    pub(crate) getattr_flags: u32,
    pub(crate) dummy: u32,
    pub(crate) fh: u64,
}

/// `struct fuse_setattr_in`: `valid` says which fields are set (`FATTR_*`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SetattrIn {
    pub(crate) valid: u32,
    pub(crate) padding: u32,
    pub(crate) fh: u64,
    pub(crate) size: u64,
    pub(crate) lock_owner: u64,
    pub(crate) atime: u64,
    pub(crate) mtime: u64,
    pub(crate) ctime: u64,
    pub(crate) atimensec: u32,
    pub(crate) mtimensec: u32,
    pub(crate) ctimensec: u32,
    pub(crate) mode: u32,
    pub(crate) unused4: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) unused5: u32,
}

/// `struct fuse_open_in`: `OPEN` and `OPENDIR`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OpenIn {
    pub(crate) flags: u32,
    pub(crate) open_flags: u32,
}

/// `struct fuse_open_out`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct OpenOut {
    pub(crate) fh: u64,
    pub(crate) open_flags: u32,
    pub(crate) backing_id: i32,
}

/// `struct fuse_release_in`: `RELEASE` and `RELEASEDIR`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReleaseIn {
    pub(crate) fh: u64,
    pub(crate) flags: u32,
    pub(crate) release_flags: u32,
    pub(crate) lock_owner: u64,
}

/// `struct fuse_create_in`, followed by the name.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct CreateIn {
    pub(crate) flags: u32,
    pub(crate) mode: u32,
    pub(crate) umask: u32,
    pub(crate) open_flags: u32,
}

/// `struct fuse_mkdir_in`, followed by the name.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct MkdirIn {
    pub(crate) mode: u32,
    pub(crate) umask: u32,
}

/// `struct fuse_rename_in`, followed by the old and the new name.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct RenameIn {
    pub(crate) newdir: u64,
}

/// `struct fuse_kstatfs`, the whole of `struct fuse_statfs_out`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Kstatfs {
    pub(crate) blocks: u64,
    pub(crate) bfree: u64,
    pub(crate) bavail: u64,
    pub(crate) files: u64,
    pub(crate) ffree: u64,
    pub(crate) bsize: u32,
    pub(crate) namelen: u32,
    pub(crate) frsize: u32,
    pub(crate) padding: u32,
    pub(crate) spare: [u32; 6],
}

/// `struct fuse_fsync_in`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FsyncIn {
    pub(crate) fh: u64,
    pub(crate) fsync_flags: u32,
    pub(crate) padding: u32,
}

/// `struct fuse_fallocate_in`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct FallocateIn {
    pub(crate) fh: u64,
    pub(crate) offset: u64,
    pub(crate) length: u64,
    pub(crate) mode: u32,
    pub(crate) padding: u32,
}

/// `struct fuse_forget_in`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ForgetIn {
    pub(crate) nlookup: u64,
}

/// `struct fuse_batch_forget_in`: `BATCH_FORGET`'s head, followed by
/// `count` [`ForgetOne`].
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct BatchForgetIn {
    pub(crate) count: u32,
    pub(crate) dummy: u32,
}

impl BatchForgetIn {
    /// Its bytes, as the server reads them.
    pub(crate) fn to_ne_bytes(self) -> [u8; 8] {
        let mut b = [0; 8];
        b[..4].copy_from_slice(&self.count.to_ne_bytes());
        b[4..].copy_from_slice(&self.dummy.to_ne_bytes());
        b
    }
}

/// `struct fuse_forget_one`: one inode of a `BATCH_FORGET`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ForgetOne {
    pub(crate) nodeid: u64,
    pub(crate) nlookup: u64,
}

impl ForgetOne {
    /// Its bytes, as the server reads them.
    pub(crate) fn to_ne_bytes(self) -> [u8; 16] {
        let mut b = [0; 16];
        b[..8].copy_from_slice(&self.nodeid.to_ne_bytes());
        b[8..].copy_from_slice(&self.nlookup.to_ne_bytes());
        b
    }
}

/// `struct fuse_write_in`: `WRITE`'s arguments; the data follows.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriteIn {
    pub(crate) fh: u64,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) write_flags: u32,
    pub(crate) lock_owner: u64,
    pub(crate) flags: u32,
    pub(crate) padding: u32,
}

/// `struct fuse_write_out`: the bytes a `WRITE` stored.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct WriteOut {
    pub(crate) size: u32,
    pub(crate) padding: u32,
}

/// `struct fuse_read_in`: `READ`'s and `READDIR`'s arguments.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ReadIn {
    pub(crate) fh: u64,
    pub(crate) offset: u64,
    pub(crate) size: u32,
    pub(crate) read_flags: u32,
    pub(crate) lock_owner: u64,
    pub(crate) flags: u32,
    pub(crate) padding: u32,
}

/// `struct fuse_dirent` without its name: a `READDIR` record's head. The
/// name follows, and the record is padded to 8 bytes.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct DirentHead {
    pub(crate) ino: u64,
    pub(crate) off: u64,
    pub(crate) namelen: u32,
    pub(crate) r#type: u32,
}

const _: () = assert!(core::mem::size_of::<Attr>() == 88);
const _: () = assert!(core::mem::size_of::<EntryOut>() == 128);
const _: () = assert!(core::mem::size_of::<AttrOut>() == 104);
const _: () = assert!(core::mem::size_of::<GetattrIn>() == 16);
const _: () = assert!(core::mem::size_of::<SetattrIn>() == 88);
const _: () = assert!(core::mem::size_of::<OpenIn>() == 8);
const _: () = assert!(core::mem::size_of::<OpenOut>() == 16);
const _: () = assert!(core::mem::size_of::<ReleaseIn>() == 24);
const _: () = assert!(core::mem::size_of::<CreateIn>() == 16);
const _: () = assert!(core::mem::size_of::<MkdirIn>() == 8);
const _: () = assert!(core::mem::size_of::<RenameIn>() == 8);
const _: () = assert!(core::mem::size_of::<Kstatfs>() == 80);
const _: () = assert!(core::mem::size_of::<FsyncIn>() == 16);
const _: () = assert!(core::mem::size_of::<FallocateIn>() == 32);
const _: () = assert!(core::mem::size_of::<ForgetIn>() == 8);
const _: () = assert!(core::mem::size_of::<BatchForgetIn>() == 8);
const _: () = assert!(core::mem::size_of::<ForgetOne>() == 16);
const _: () = assert!(core::mem::size_of::<ReadIn>() == 40);
const _: () = assert!(core::mem::size_of::<WriteIn>() == 40);
const _: () = assert!(core::mem::size_of::<WriteOut>() == 8);
const _: () = assert!(core::mem::size_of::<DirentHead>() == 24);
