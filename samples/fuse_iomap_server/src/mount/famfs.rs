// SPDX-License-Identifier: GPL-2.0

//! `mount famfs`: directories and files on a pmem device, described by a
//! famfs metadata log on it (`famfslog`), served in the background.
//!
//! The server opens the device, formats it or replays its log, and mounts
//! (see `mod.rs`); no `BACKING_OPEN`: the kernel reaches the device
//! through DAX, by the number `GET_DAXDEV` gives. The child makes the
//! handshake with `FUSE_DAX_FMAP`, which the kernel offers only to a
//! server with `CAP_SYS_RAWIO`, and serves (`famfs_serve.rs`).

use super::log::Log;
use super::{
    famfs_serve, handshake, mount_on, open_fuse, open_rw, with, Mounted, Place, Ready, Serve,
};
use clap::Args;
use fuse_iomap::fmap_tool::{self, Failure};
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::ROOT;
use fuse_iomap_server::famfslog::alloc::Stripe;
use fuse_iomap_server::famfslog::format::LOG_MAX;
use fuse_iomap_server::famfslog::Fs;
use fuse_iomap_server::uapi;
use nix::mount::MsFlags;
use nix::sys::stat::{major, minor};
use std::fs::File;
use std::io::{Seek, SeekFrom};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// `mount famfs`'s arguments.
#[derive(Debug, Args)]
pub struct FamfsArgs {
    /// The pmem device: a block device with DAX.
    #[arg(long)]
    pmem: PathBuf,
    /// Write a fresh superblock and an empty log first.
    #[arg(long)]
    format: bool,
    /// Stripe every file over N strips (1 to 32), in chunks of --chunk.
    /// Recorded by --format; later mounts take it from the superblock.
    #[arg(long, value_name = "N", requires = "chunk",
          value_parser = clap::value_parser!(u32).range(1..=32))]
    stripe: Option<u32>,
    /// The chunk size of striped files: a multiple of 2M (2M, 4M, ...).
    #[arg(long, value_name = "SIZE", requires = "stripe", value_parser = chunk)]
    chunk: Option<u64>,
    /// For tests of the kernel: answer GET_FMAP of a file with the sticky
    /// bit with its extents on daxdev 7, which this server does not have,
    /// and of a set-user-ID file with each strip cut to one chunk.
    #[arg(long)]
    hostile_fmaps: bool,
    #[command(flatten)]
    pub at: Place,
}

/// A chunk size: a number with an optional K, M or G, whole 2 MiB units.
fn chunk(word: &str) -> Result<u64, String> {
    let n = fmap_tool::number(word).map_err(|f| match f {
        Failure::Usage(why) | Failure::Rejected(why) => why,
    })?;
    Stripe {
        strips: 1,
        chunk: n,
    }
    .check()
    .map(|()| n)
    .map_err(str::to_owned)
}

/// How files are laid out, for the log line and the error.
fn describe(stripe: Option<Stripe>) -> String {
    match stripe {
        Some(s) => format!("{} strips of {} MiB chunks", s.strips, s.chunk >> 20),
        None => "simple extents".into(),
    }
}

/// The famfs log, mounted, not served yet.
pub struct Famfs {
    fs: Fs,
    /// The device's number, for `GET_DAXDEV`.
    rdev: u64,
    hostile_fmaps: bool,
}

/// The number of `pmem`, a block device with DAX: the kernel finds the
/// device by it. A device that says it has no DAX is refused here, rather
/// than at the first open of a file.
fn dax_device(pmem: &File) -> Result<u64, String> {
    let meta = pmem.metadata().map_err(|e| e.to_string())?;
    if !meta.file_type().is_block_device() {
        return Err("not a block device (famfs needs pmem with DAX)".into());
    }
    let rdev = meta.rdev();
    let dax = format!("/sys/dev/block/{}:{}/queue/dax", major(rdev), minor(rdev));
    match std::fs::read_to_string(dax) {
        Ok(s) if s.trim() == "0" => Err("the device has no DAX".into()),
        _ => Ok(rdev),
    }
}

/// Opens the pmem device, formats it or replays its log, and mounts it on
/// `dir`.
pub fn setup(args: &FamfsArgs, dir: &Path, log: &Log) -> Result<Mounted<Famfs>, String> {
    let fuse = open_fuse(dir)?;
    let path = &args.pmem;
    let mut pmem = open_rw(path).map_err(with(path.display()))?;
    let named = |e: String| format!("{}: {e}", path.display());
    let rdev = dax_device(&pmem).map_err(named)?;
    let bytes = pmem.seek(SeekFrom::End(0)).map_err(with(path.display()))?;
    let stripe = args
        .stripe
        .zip(args.chunk)
        .map(|(strips, chunk)| Stripe { strips, chunk });
    let fs = if args.format {
        Fs::format(pmem, bytes, stripe, LOG_MAX)
    } else {
        Fs::load(pmem, bytes)
    }
    .map_err(|e| named(e.to_string()))?;
    if stripe.is_some() && stripe != fs.stripe() {
        return Err(named(format!(
            "formatted with {}: --stripe and --chunk must say so, or be left out",
            describe(fs.stripe())
        )));
    }
    let root = fs.stat(ROOT).map_err(|e| format!("the root: {e}"))?;
    let channel = mount_on(fuse, path, dir, root.attr.mode, MsFlags::empty())?;
    log.line(&format!(
        "mounted famfs {} ({bytes} bytes{}, {}, {} nodes, {} log bytes) on {}",
        path.display(),
        if args.format { ", formatted" } else { "" },
        describe(fs.stripe()),
        fs.namespace().nodes(),
        fs.log_used(),
        dir.display()
    ));
    Ok(Mounted {
        channel,
        server: Famfs {
            fs,
            rdev,
            hostile_fmaps: args.hostile_fmaps,
        },
    })
}

impl Serve for Famfs {
    /// The handshake with famfs, then serving until `DESTROY`.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32 {
        let what = "FUSE_DAX_FMAP (famfs needs CAP_SYS_RAWIO)";
        if !handshake(channel, uapi::FUSE_DAX_FMAP, None, what, &log) {
            return 1;
        }
        ready.tell(&log);
        famfs_serve::Server {
            channel,
            fs: self.fs,
            rdev: self.rdev,
            hostile_fmaps: self.hostile_fmaps,
            log,
        }
        .run()
    }
}
