// SPDX-License-Identifier: GPL-2.0

//! The commands that work on an unmounted device, as `mkfs.fuse_iomap` and
//! `fsck.fuse_iomap` (`tools/fstests/`) call them for fstests:
//!
//! - `mkfs DEV`: writes a fresh, empty disk file system;
//! - `fsck [-n|-y] DEV`: loads it as `mount disk` would, which checks the
//!   superblock, the metadata's checksum, and every extent (in order, not
//!   overlapping, on the data area, owned once). There is nothing to
//!   repair: metadata is written whole to the other slot and switched to by
//!   the superblock, so a crash leaves the old or the new version, and a
//!   corrupt one has no older copy to fall back to.
//!
//! Exit codes are fsck(8)'s and mkfs(8)'s: 0 clean or made, 4 errors left
//! uncorrected (fsck), 8 operational error.

use clap::Args;
use fuse_iomap_server::diskfs::store::Store;
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// `mkfs DEV`.
#[derive(Debug, Args)]
pub struct Mkfs {
    /// The block device or image file.
    device: PathBuf,
}

/// `fsck DEV`.
#[derive(Debug, Args)]
pub struct Fsck {
    /// Change nothing (what fsck does anyway).
    #[arg(short = 'n')]
    no: bool,
    /// Repair without asking (there is nothing it could repair).
    #[arg(short = 'y')]
    yes: bool,
    /// The block device or image file.
    device: PathBuf,
}

/// fsck(8): usage error.
const USAGE: i32 = 16;
/// fsck(8): no errors.
const CLEAN: i32 = 0;
/// fsck(8): errors left uncorrected.
const UNCORRECTED: i32 = 4;
/// fsck(8) and mkfs(8): an operational error.
const OPERATIONAL: i32 = 8;

/// Opens `path` and returns it with its size.
fn open(path: &Path, write: bool) -> Result<(File, u64), String> {
    let mut file = File::options()
        .read(true)
        .write(write)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let bytes = file
        .seek(SeekFrom::End(0))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((file, bytes))
}

impl Mkfs {
    /// Formats; returns the exit status.
    pub fn run(&self) -> i32 {
        let made = open(&self.device, true).and_then(|(file, bytes)| {
            Store::format(file, bytes).map_err(|e| format!("{}: {e}", self.device.display()))
        });
        match made {
            Ok(_) => CLEAN,
            Err(e) => {
                eprintln!("mkfs.fuse_iomap: {e}");
                OPERATIONAL
            }
        }
    }
}

impl Fsck {
    /// Checks; returns the exit status.
    pub fn run(&self) -> i32 {
        if self.no && self.yes {
            eprintln!("fsck.fuse_iomap: -n and -y exclude each other");
            return USAGE;
        }
        let (file, bytes) = match open(&self.device, false) {
            Ok(f) => f,
            Err(e) => {
                eprintln!("fsck.fuse_iomap: {e}");
                return OPERATIONAL;
            }
        };
        match Store::load(file, bytes) {
            Ok(_) => CLEAN,
            Err(e) => {
                eprintln!("fsck.fuse_iomap: {}: {e}", self.device.display());
                UNCORRECTED
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::FileExt;

    fn image(what: &str, bytes: u64) -> PathBuf {
        let path = std::env::temp_dir().join(format!("offline-test-{what}-{}", std::process::id()));
        File::create(&path).unwrap().set_len(bytes).unwrap();
        path
    }

    fn fsck(device: &Path) -> i32 {
        Fsck {
            no: true,
            yes: false,
            device: device.to_path_buf(),
        }
        .run()
    }

    #[test]
    fn a_fresh_file_system_is_clean_and_a_blank_device_is_not() {
        let path = image("fresh", 64 << 20);
        assert_eq!(fsck(&path), UNCORRECTED, "no superblock");
        assert_eq!(
            Mkfs {
                device: path.clone()
            }
            .run(),
            CLEAN
        );
        assert_eq!(fsck(&path), CLEAN);
        let both = Fsck {
            no: true,
            yes: true,
            device: path.clone(),
        };
        assert_eq!(both.run(), USAGE);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn corrupt_metadata_is_uncorrected() {
        let path = image("corrupt", 64 << 20);
        assert_eq!(
            Mkfs {
                device: path.clone()
            }
            .run(),
            CLEAN
        );
        // The first byte of each metadata slot: the one in use is damaged.
        let file = File::options().write(true).open(&path).unwrap();
        let layout = fuse_iomap_server::diskfs::layout::Layout::for_device(64 << 20).unwrap();
        for slot in 0..2 {
            file.write_all_at(&[0xff], layout.slot_addr(slot)).unwrap();
        }
        assert_eq!(fsck(&path), UNCORRECTED);
        std::fs::remove_file(path).unwrap();
    }

    #[test]
    fn a_missing_or_tiny_device_is_an_operational_error() {
        let missing = std::env::temp_dir().join("offline-test-no-such-device");
        assert_eq!(fsck(&missing), OPERATIONAL);
        let tiny = image("tiny", 4096);
        assert_eq!(
            Mkfs {
                device: tiny.clone()
            }
            .run(),
            OPERATIONAL
        );
        std::fs::remove_file(tiny).unwrap();
    }
}
