// SPDX-License-Identifier: GPL-2.0

//! The ext4 file system of `mount ext4`: an ext2, ext3 or ext4 image read
//! (and with `--rw`, partly written) through libext2fs, the library of
//! e2fsprogs that fuse2fs and fuse4fs use. This module is the model only:
//! it answers in `Errno`s and byte ranges, and knows nothing of the
//! channel.
//!
//! - Nodeids are inode numbers, but for the root: the kernel's nodeid 1
//!   is ext4's inode 2 (`EXT2_ROOT_INO`), and nodeid 2 names nothing, so
//!   that no inode has two nodeids. The generation is `i_generation`.
//! - Directories and regular files only, as the `fuse_iomap` mount has
//!   only those: `READDIR` leaves the other types out, and `LOOKUP` of
//!   one is `EOPNOTSUPP`.
//! - A file's data is where its extent tree (or, on ext2 and ext3, its
//!   block map) says; `map` answers from the whole tree, walked once per
//!   file and kept ([`extents`]). Files with inline data, and encrypted
//!   ones, are refused with `EIO`.
//! - Blocks of 4 KiB only: the mount's block size.
//! - Read-only, or with `--rw` ([`write`]): overwrites of allocated blocks,
//!   writes into preallocated (unwritten) extents, which the end of the
//!   write converts through libext2fs, writes into holes (allocated
//!   unwritten, as `fallocate` would), and size changes. No namespace
//!   changes (`EROFS`).
//!
//! What the image gets wrong is never trusted to terminate or stay in
//! bounds: an extent outside the device or out of order, a directory
//! entry naming a reserved or free inode, a count past what the inode
//! can hold fail the request with `EIO`, and leave a note
//! ([`Fs::take_notes`]) saying what was wrong.

mod dir;
pub mod extents;
mod fs;
mod inode;
mod sys;
#[cfg(test)]
mod tests;
mod write;

pub use fs::{Fs, Options};
pub use write::MAX_BYTES;

use nix::errno::Errno;
use sys::errcode_t;

/// The kernel's root nodeid (`FUSE_ROOT_ID`).
const ROOT_NODEID: u64 = crate::diskfs::ROOT;

/// ext4's root inode (`EXT2_ROOT_INO`).
const ROOT_INO: u32 = sys::EXT2_ROOT_INO;

/// The nodeid of inode `ino`.
fn nodeid(ino: u32) -> u64 {
    if ino == ROOT_INO {
        ROOT_NODEID
    } else {
        u64::from(ino)
    }
}

/// The inode of nodeid `nodeid`; `ENOENT` for one that no inode has.
fn ino(nodeid: u64) -> Result<u32, Errno> {
    match nodeid {
        ROOT_NODEID => Ok(ROOT_INO),
        n if n == u64::from(ROOT_INO) => Err(Errno::ENOENT),
        n => u32::try_from(n).map_err(|_| Errno::ENOENT),
    }
}

/// The errno of a libext2fs error: the system's own errors (a failed
/// `pread` is its errno) as they are, the few that name a condition a
/// caller knows, and `EIO` for the rest, which say the image is corrupt.
fn errno(code: errcode_t) -> Errno {
    let Ok(code) = u32::try_from(code) else {
        return Errno::EIO;
    };
    match code {
        1..=4095 => Errno::from_raw(code as i32),
        sys::EXT2_ET_FILE_NOT_FOUND => Errno::ENOENT,
        sys::EXT2_ET_NO_MEMORY => Errno::ENOMEM,
        sys::EXT2_ET_RO_FILSYS => Errno::EROFS,
        sys::EXT2_ET_NO_DIRECTORY => Errno::ENOTDIR,
        sys::EXT2_ET_FILE_TOO_BIG => Errno::EFBIG,
        sys::EXT2_ET_BLOCK_ALLOC_FAIL => Errno::ENOSPC,
        _ => Errno::EIO,
    }
}

/// The message of a libext2fs error, as e2fsprogs prints it.
fn message(code: errcode_t) -> String {
    static TABLE: std::sync::Once = std::sync::Once::new();
    // SAFETY: Adds libext2fs's static table to com_err's list, once.
    TABLE.call_once(|| unsafe { sys::initialize_ext2_error_table() });
    // SAFETY: `error_message` returns a NUL-terminated string, static or in
    // a static buffer that the next call for an unknown code rewrites: it
    // is copied before then (the server has one thread).
    let text = unsafe { std::ffi::CStr::from_ptr(sys::error_message(code)) };
    text.to_string_lossy().into_owned()
}
