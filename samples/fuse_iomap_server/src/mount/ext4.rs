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
//! (`ext4_serve.rs`).

use super::log::Log;
use super::Source;
use super::{
    ext4_serve, iomap_handshake, mount_on, open_fuse, register, Mounted, Place, Ready, Serve,
};
use clap::Args;
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::ROOT;
use fuse_iomap_server::ext4::extents::WHOLE_FILE;
use fuse_iomap_server::ext4::{Fs, Options, MAX_BYTES};
use nix::mount::MsFlags;
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
    #[command(flatten)]
    pub at: Place,
}

/// The ext4 file system, mounted, not served yet.
pub struct Ext4 {
    fs: Fs,
    /// The device cookie of `BACKING_OPEN`.
    dev: u32,
}

/// Opens the device and the file system on it, and mounts it on `dir`.
pub fn setup(args: &Ext4Args, dir: &Path, log: &Log) -> Result<Mounted<Ext4>, String> {
    let fuse = open_fuse(dir)?;
    let (path, disk) = args.source.open()?;
    let options = Options { rw: args.rw };
    let fs = Fs::load(&path, options).map_err(|e| format!("{}: {e}", path.display()))?;
    let dev = register(&fuse, &disk, &path)?;
    let root = fs.stat(ROOT).map_err(|e| format!("the root: {e}"))?;
    let flags = if args.rw {
        MsFlags::empty()
    } else {
        MsFlags::MS_RDONLY
    };
    let channel = mount_on(fuse, &path, dir, root.attr.mode, flags, "")?;
    let s = fs.statfs();
    log.line(&format!(
        "mounted ext4 {} ({} blocks, {} free, {}) on {}; upserting ahead: \
         whole files of at most {WHOLE_FILE} extents at open, else the extent \
         tree's leaf at each miss",
        path.display(),
        s.blocks,
        s.bfree,
        if args.rw { "read-write" } else { "read-only" },
        dir.display()
    ));
    Ok(Mounted {
        channel,
        server: Ext4 { fs, dev },
    })
}

impl Serve for Ext4 {
    /// The handshake, then serving until `DESTROY`.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32 {
        if !iomap_handshake(channel, MAX_BYTES, &log) {
            return 1;
        }
        ready.tell(&log);
        ext4_serve::Server {
            channel,
            fs: self.fs,
            dev: self.dev,
            log,
        }
        .run()
    }
}
