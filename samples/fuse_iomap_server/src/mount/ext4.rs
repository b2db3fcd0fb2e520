// SPDX-License-Identifier: GPL-2.0

//! `mount ext4`: an ext2/3/4 file system on a block device or an image,
//! read (and with `--rw`, partly written) through libext2fs, served in the
//! background, as fuse4fs serves ext4 over iomap.
//!
//! The server opens the device (or attaches the image to a loop device),
//! opens the file system on it with libext2fs (`ext4/`), registers the
//! device with `FUSE_IOMAP_IOC_BACKING_OPEN`, and mounts (see `mod.rs`),
//! read-only (`MS_RDONLY`) without `--rw`. The child makes the handshake
//! with `FUSE_IOMAP`, as `mount disk`'s does, and serves
//! (`ext4_serve.rs`). With `--no-iomap` it leaves iomap out of the
//! handshake: the kernel then moves file data with `FUSE_READ` and
//! `FUSE_WRITE`, which the server answers on the device itself, as a
//! classic fuse server (fuse2fs) does; the benchmark's baseline.

use super::log::Log;
use super::Source;
use super::{
    ext4_serve, handshake, iomap_handshake, mount_on, open_fuse, register, Mounted, Place, Ready,
    Serve,
};
use clap::Args;
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::ROOT;
use fuse_iomap_server::ext4::extents::WHOLE_FILE;
use fuse_iomap_server::ext4::{Fs, Options, MAX_BYTES};
use nix::mount::MsFlags;
use std::fs::File;
use std::path::Path;

/// `mount ext4`'s arguments.
#[derive(Debug, Args)]
pub struct Ext4Args {
    #[command(flatten)]
    source: Source,
    /// Read and write: overwrites, writes into preallocated extents and
    /// holes, and size changes (no namespace changes).
    #[arg(long)]
    rw: bool,
    /// Classic fuse: no iomap; file data through FUSE_READ and FUSE_WRITE.
    #[arg(long)]
    no_iomap: bool,
    #[command(flatten)]
    pub at: Place,
}

/// The ext4 file system, mounted, not served yet.
pub struct Ext4 {
    fs: Fs,
    /// The device cookie of `BACKING_OPEN`.
    dev: u32,
    /// With `--no-iomap`, the device, which the server reads and writes.
    classic: Option<File>,
}

/// Opens the device and the file system on it, and mounts it on `dir`.
pub fn setup(args: &Ext4Args, dir: &Path, log: &Log) -> Result<Mounted<Ext4>, String> {
    let fuse = open_fuse(dir)?;
    let (path, disk) = args.source.open()?;
    let options = Options { rw: args.rw };
    let fs = Fs::load(&path, options).map_err(|e| format!("{}: {e}", path.display()))?;
    let dev = register(&fuse, &disk, &path)?;
    let classic = args.no_iomap.then_some(disk);
    let root = fs.stat(ROOT).map_err(|e| format!("the root: {e}"))?;
    let flags = if args.rw {
        MsFlags::empty()
    } else {
        MsFlags::MS_RDONLY
    };
    let channel = mount_on(fuse, &path, dir, root.attr.mode, flags, "")?;
    let s = fs.statfs();
    log.line(&format!(
        "mounted ext4 {} ({} blocks, {} free, {}) on {}; {}",
        path.display(),
        s.blocks,
        s.bfree,
        if args.rw { "read-write" } else { "read-only" },
        dir.display(),
        if args.no_iomap {
            "no iomap: file data through FUSE_READ and FUSE_WRITE".to_owned()
        } else {
            format!(
                "upserting ahead: whole files of at most {WHOLE_FILE} extents at open, \
                 else the extent tree's leaf at each miss"
            )
        }
    ));
    Ok(Mounted {
        channel,
        server: Ext4 { fs, dev, classic },
    })
}

impl Serve for Ext4 {
    /// The handshake (without iomap for `--no-iomap`), then serving until
    /// `DESTROY`.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32 {
        let shaken = if self.classic.is_some() {
            handshake(channel, 0, None, "a handshake", &log)
        } else {
            iomap_handshake(channel, MAX_BYTES, &log)
        };
        if !shaken {
            return 1;
        }
        ready.tell(&log);
        ext4_serve::Server {
            channel,
            fs: self.fs,
            dev: self.dev,
            classic: self.classic,
            log,
        }
        .run()
    }
}
