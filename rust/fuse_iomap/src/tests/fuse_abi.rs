// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of what the mount uses of `<linux/fuse.h>` agrees with
//! the header as a C compiler sees it (`uapi.c`).

use super::abi::{table, UapiValue};
use crate::abi::IocBackingMap;
use crate::fuse_abi::*;
use crate::layout;
use core::ffi::CStr;
use core::mem::{offset_of, size_of};

extern "C" {
    static fuse_fs_type: [u8; 11];
    static fuse_values: UapiValue;
    static fuse_values_len: usize;
    static fuse_layout: UapiValue;
    static fuse_layout_len: usize;
}

#[test]
fn file_system_type_is_the_headers() {
    // SAFETY: A NUL-terminated array defined in uapi.c.
    let name = CStr::from_bytes_with_nul(unsafe { &fuse_fs_type }).unwrap();
    assert_eq!(name.to_str().unwrap(), "fuse_iomap");
}

#[test]
fn opcodes_match_the_header() {
    // SAFETY: uapi.c defines the array and its length.
    let c = unsafe { table(&fuse_values, fuse_values_len) };
    let rust = [
        ("FUSE_ROOT_ID", ROOT_ID),
        ("FUSE_LOOKUP", FUSE_LOOKUP.into()),
        ("FUSE_FORGET", FUSE_FORGET.into()),
        ("FUSE_GETATTR", FUSE_GETATTR.into()),
        ("FUSE_SETATTR", FUSE_SETATTR.into()),
        ("FUSE_MKDIR", FUSE_MKDIR.into()),
        ("FUSE_UNLINK", FUSE_UNLINK.into()),
        ("FUSE_RMDIR", FUSE_RMDIR.into()),
        ("FUSE_RENAME", FUSE_RENAME.into()),
        ("FUSE_OPEN", FUSE_OPEN.into()),
        ("FUSE_READ", FUSE_READ.into()),
        ("FUSE_WRITE", FUSE_WRITE.into()),
        ("FUSE_STATFS", FUSE_STATFS.into()),
        ("FUSE_RELEASE", FUSE_RELEASE.into()),
        ("FUSE_FSYNC", FUSE_FSYNC.into()),
        ("FUSE_OPENDIR", FUSE_OPENDIR.into()),
        ("FUSE_READDIR", FUSE_READDIR.into()),
        ("FUSE_RELEASEDIR", FUSE_RELEASEDIR.into()),
        ("FUSE_CREATE", FUSE_CREATE.into()),
        ("FUSE_DESTROY", FUSE_DESTROY.into()),
        ("FUSE_BATCH_FORGET", FUSE_BATCH_FORGET.into()),
        ("FUSE_FALLOCATE", FUSE_FALLOCATE.into()),
        ("FATTR_SIZE", FATTR_SIZE.into()),
    ];
    for (name, value) in rust {
        assert_eq!(c.get(name), Some(&value), "{name}");
    }
    assert_eq!(
        rust.len(),
        c.len(),
        "a constant of uapi.c has no Rust check"
    );
}

#[test]
fn structure_layouts_match_the_header() {
    // SAFETY: uapi.c defines the array and its length.
    let c = unsafe { table(&fuse_layout, fuse_layout_len) };
    let rust = [
        layout!(
            Attr,
            "fuse_attr",
            [
                ino, size, blocks, atime, mtime, ctime, atimensec, mtimensec, ctimensec, mode,
                nlink, uid, gid, rdev, blksize, flags
            ]
        ),
        layout!(
            EntryOut,
            "fuse_entry_out",
            [
                nodeid,
                generation,
                entry_valid,
                attr_valid,
                entry_valid_nsec,
                attr_valid_nsec,
                attr
            ]
        ),
        layout!(
            AttrOut,
            "fuse_attr_out",
            [attr_valid, attr_valid_nsec, dummy, attr]
        ),
        layout!(GetattrIn, "fuse_getattr_in", [getattr_flags, dummy, fh]),
        layout!(
            SetattrIn,
            "fuse_setattr_in",
            [
                valid, fh, size, lock_owner, atime, mtime, ctime, atimensec, mtimensec, ctimensec,
                mode, uid, gid
            ]
        ),
        layout!(OpenIn, "fuse_open_in", [flags, open_flags]),
        layout!(OpenOut, "fuse_open_out", [fh, open_flags]),
        layout!(
            ReleaseIn,
            "fuse_release_in",
            [fh, flags, release_flags, lock_owner]
        ),
        layout!(CreateIn, "fuse_create_in", [flags, mode, umask, open_flags]),
        layout!(MkdirIn, "fuse_mkdir_in", [mode, umask]),
        layout!(RenameIn, "fuse_rename_in", [newdir]),
        layout!(
            Kstatfs,
            "fuse_kstatfs",
            [blocks, bfree, bavail, files, ffree, bsize, namelen, frsize]
        ),
        layout!(FsyncIn, "fuse_fsync_in", [fh, fsync_flags]),
        layout!(FallocateIn, "fuse_fallocate_in", [fh, offset, length, mode]),
        layout!(ForgetIn, "fuse_forget_in", [nlookup]),
        layout!(BatchForgetIn, "fuse_batch_forget_in", [count, dummy]),
        layout!(ForgetOne, "fuse_forget_one", [nodeid, nlookup]),
        layout!(
            ReadIn,
            "fuse_read_in",
            [fh, offset, size, read_flags, lock_owner, flags]
        ),
        layout!(
            WriteIn,
            "fuse_write_in",
            [fh, offset, size, write_flags, lock_owner, flags]
        ),
        layout!(WriteOut, "fuse_write_out", [size]),
        layout!(
            DirentHead,
            "fuse_dirent",
            [ino, off, namelen, r#type = "type"]
        ),
        layout!(
            IocBackingMap,
            "fuse_iomap_backing_map",
            [fd, flags, padding]
        ),
    ];
    let rust: Vec<_> = rust.into_iter().flatten().collect();
    for (name, value) in &rust {
        assert_eq!(c.get(name), Some(value), "{name}");
    }
    assert_eq!(rust.len(), c.len(), "a layout of uapi.c has no Rust check");
}
