// SPDX-License-Identifier: GPL-2.0

//! `mount famfs`: directories and files on a pmem device, described by a
//! famfs metadata log on it (`famfslog`), served in the background.
//!
//! The server opens the device, formats it or replays its log, and mounts
//! (see `mod.rs`); no `BACKING_OPEN`: the kernel reaches the device
//! through DAX, by the number `GET_DAXDEV` gives. The child makes the
//! handshake with `FUSE_DAX_FMAP`, which the kernel offers only to a
//! server with `CAP_SYS_RAWIO`, and serves (`famfs_serve.rs`).
//!
//! `--resolve` says where the kernel finds a file's bytes on a fault or a
//! copy: in the fmap (famfs's way, the default), or, on a mount with
//! `famfs_resolve=iomap` and a handshake with `FUSE_IOMAP` too, from the
//! famfs BPF program (`bpf`) or a `FUSE_IOMAP_BEGIN` to this server every
//! time (`upcall`): the three ways that the fault-latency benchmark
//! compares.

use super::log::Log;
use super::{
    famfs_serve, handshake, mount_on, open_fuse, open_rw, with, Mounted, Place, Ready, Serve,
};
use clap::{Args, ValueEnum};
use fuse_iomap::fmap_tool::{self, Failure};
use fuse_iomap_server::bpf;
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
use std::os::fd::AsRawFd;
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
    /// Where the kernel resolves a file's bytes (see the module's doc).
    #[arg(long, value_enum, default_value_t = Resolve::Fmap)]
    resolve: Resolve,
    #[command(flatten)]
    pub at: Place,
}

/// Where the kernel resolves a famfs file's bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Resolve {
    /// In the file's fmap.
    Fmap,
    /// With the famfs BPF program, falling back to an upcall.
    Bpf,
    /// With a `FUSE_IOMAP_BEGIN` upcall each time.
    Upcall,
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
    resolve: Resolve,
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
    let extra = match args.resolve {
        Resolve::Fmap => "",
        Resolve::Bpf | Resolve::Upcall => ",famfs_resolve=iomap",
    };
    let channel = mount_on(fuse, path, dir, root.attr.mode, MsFlags::empty(), extra)?;
    log.line(&format!(
        "mounted famfs {} ({bytes} bytes{}, {}, {} nodes, {} log bytes, resolved by {:?}) on {}",
        path.display(),
        if args.format { ", formatted" } else { "" },
        describe(fs.stripe()),
        fs.namespace().nodes(),
        fs.log_used(),
        args.resolve,
        dir.display()
    ));
    Ok(Mounted {
        channel,
        server: Famfs {
            fs,
            rdev,
            hostile_fmaps: args.hostile_fmaps,
            resolve: args.resolve,
        },
    })
}

impl Serve for Famfs {
    /// The handshake with famfs (and iomap, unless the fmap resolves),
    /// the famfs BPF program for `--resolve bpf`, then serving until
    /// `DESTROY`.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32 {
        let (want, what) = match self.resolve {
            Resolve::Fmap => (
                uapi::FUSE_DAX_FMAP,
                "FUSE_DAX_FMAP (famfs needs CAP_SYS_RAWIO)",
            ),
            Resolve::Bpf | Resolve::Upcall => (
                uapi::FUSE_DAX_FMAP | uapi::FUSE_IOMAP,
                "FUSE_DAX_FMAP and FUSE_IOMAP (famfs needs CAP_SYS_RAWIO)",
            ),
        };
        if !handshake(channel, want, None, what, &log) {
            return 1;
        }
        // The connection has iomap now, which attaching needs.
        let bpf = match self.resolve {
            Resolve::Bpf => match attach(channel) {
                Ok(program) => Some(program),
                Err(e) => {
                    log.line(&format!("the BPF program: {e}"));
                    return 1;
                }
            },
            Resolve::Fmap | Resolve::Upcall => None,
        };
        ready.tell(&log);
        famfs_serve::Server {
            channel,
            fs: self.fs,
            rdev: self.rdev,
            hostile_fmaps: self.hostile_fmaps,
            bpf,
            log,
        }
        .run()
    }
}

/// Loads the famfs BPF program and attaches it to `channel`'s connection.
fn attach(channel: &Channel) -> Result<bpf::Famfs, String> {
    let mut program =
        bpf::Famfs::load(channel.fd().as_raw_fd()).map_err(|e| format!("loading: {e}"))?;
    program.attach().map_err(|e| format!("attaching: {e}"))?;
    Ok(program)
}
