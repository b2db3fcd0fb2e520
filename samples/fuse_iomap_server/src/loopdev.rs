// SPDX-License-Identifier: GPL-2.0

//! Attaching an image file to a free loop device, as `losetup -f` does:
//! `LOOP_CTL_GET_FREE`, then `LOOP_CONFIGURE` with autoclear, so that the
//! device detaches itself when its last user (the server, and the kernel's
//! hold on its backing device) closes it.

// Generated from <linux/loop.h>: C's names.
#[allow(non_camel_case_types, non_upper_case_globals, dead_code)]
mod sys {
    include!(concat!(env!("OUT_DIR"), "/loop.rs"));
}

use nix::errno::Errno;
use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

// Their numbers carry no direction or size: the "bad" ioctls.
nix::ioctl_none_bad!(loop_ctl_get_free, 0x4C82);
nix::ioctl_write_ptr_bad!(loop_configure, 0x4C0A, sys::loop_config);

/// How often a device that another task took first is skipped.
const TRIES: usize = 8;

fn open_rw(path: &Path) -> io::Result<File> {
    File::options().read(true).write(true).open(path)
}

/// Attaches `image` to a free loop device; returns the device's path and
/// an open file of it.
pub fn attach(image: &Path) -> io::Result<(PathBuf, File)> {
    let backing = open_rw(image)?;
    let control = open_rw(Path::new("/dev/loop-control"))?;
    let mut config = sys::loop_config {
        fd: backing.as_raw_fd() as u32,
        ..Default::default()
    };
    config.info.lo_flags = sys::LO_FLAGS_AUTOCLEAR;
    let name = image.as_os_str().as_encoded_bytes();
    let n = name.len().min(config.info.lo_file_name.len() - 1);
    config.info.lo_file_name[..n].copy_from_slice(&name[..n]);
    for _ in 0..TRIES {
        // SAFETY: The ioctl takes no argument.
        let index = unsafe { loop_ctl_get_free(control.as_raw_fd()) }?;
        let path = PathBuf::from(format!("/dev/loop{index}"));
        let device = open_rw(&path)?;
        // SAFETY: `config` is a valid `struct loop_config`.
        match unsafe { loop_configure(device.as_raw_fd(), &config) } {
            Ok(_) => return Ok((path, device)),
            Err(Errno::EBUSY) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Errno::EBUSY.into())
}
