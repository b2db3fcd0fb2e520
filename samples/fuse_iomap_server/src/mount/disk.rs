// SPDX-License-Identifier: GPL-2.0

//! `mount disk`: a file system of directories and regular files on a block
//! device, served in the background.
//!
//! The server opens the device (or attaches an image file to a loop
//! device), loads or formats the file system, registers the device with
//! `FUSE_IOMAP_IOC_BACKING_OPEN`, and mounts (see `mod.rs`). The child
//! makes the handshake with `FUSE_IOMAP`, and with `--bpf` attaches the
//! BPF program of `publish.rs` to the connection after it, and detaches it
//! when it ends.

use super::log::Log;
use super::publish::Publisher;
use super::Source;
use super::{
    iomap_handshake, mount_on, open_fuse, register, serve, with, Mounted, Place, Ready, Serve,
};
use clap::Args;
use fuse_iomap_server::bpf;
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::store::Store;
use fuse_iomap_server::diskfs::{Fs, MAX_BYTES, ROOT};
use nix::mount::MsFlags;
use std::io::{Seek, SeekFrom};
use std::os::fd::AsRawFd;
use std::path::Path;

/// `mount disk`'s arguments.
#[derive(Debug, Args)]
pub struct DiskArgs {
    #[command(flatten)]
    source: Source,
    /// Write a fresh, empty file system first.
    #[arg(long)]
    format: bool,
    /// Attach the BPF program that answers iomap_begin of the open
    /// files' written extents in the kernel.
    #[arg(long)]
    bpf: bool,
    #[command(flatten)]
    pub at: Place,
}

/// The disk file system, mounted, not served yet.
pub struct Disk {
    store: Store,
    fs: Fs,
    /// The device cookie of `BACKING_OPEN`.
    dev: u32,
    bpf: bool,
}

/// Opens the device, loads or formats the file system, and mounts it on
/// `dir`.
pub fn setup(args: &DiskArgs, dir: &Path, log: &Log) -> Result<Mounted<Disk>, String> {
    let fuse = open_fuse(dir)?;
    let (path, mut disk) = args.source.open()?;
    let bytes = disk.seek(SeekFrom::End(0)).map_err(with(path.display()))?;
    let for_store = disk.try_clone().map_err(with(path.display()))?;
    let (store, fs) = if args.format {
        Store::format(for_store, bytes)
    } else {
        Store::load(for_store, bytes)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;

    let dev = register(&fuse, &disk, &path)?;
    let root = fs.stat(ROOT).map_err(|e| format!("the root: {e}"))?;
    let channel = mount_on(fuse, &path, dir, root.attr.mode, MsFlags::empty(), "")?;
    log.line(&format!(
        "mounted {} ({bytes} bytes{}) on {}",
        path.display(),
        if args.format { ", formatted" } else { "" },
        dir.display()
    ));
    let server = Disk {
        store,
        fs,
        dev,
        bpf: args.bpf,
    };
    Ok(Mounted { channel, server })
}

impl Serve for Disk {
    /// The handshake, the BPF program with `--bpf`, then serving until
    /// `DESTROY`.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32 {
        if !iomap_handshake(channel, MAX_BYTES, &log) {
            return 1;
        }
        // The connection has iomap now, which attaching needs.
        let bpf = if self.bpf {
            match attach(channel) {
                Ok(program) => Some(Publisher::new(Box::new(program), self.dev)),
                Err(e) => {
                    log.line(&format!("the BPF program: {e}"));
                    return 1;
                }
            }
        } else {
            None
        };
        ready.tell(&log);
        serve::Server {
            channel,
            fs: self.fs,
            store: self.store,
            dev: self.dev,
            log,
            bpf,
        }
        .run()
    }
}

/// Loads the mount's BPF program and attaches it to `channel`'s connection.
fn attach(channel: &Channel) -> Result<bpf::DiskFs, String> {
    let mut program =
        bpf::DiskFs::load(channel.fd().as_raw_fd()).map_err(|e| format!("loading: {e}"))?;
    program.attach().map_err(|e| format!("attaching: {e}"))?;
    Ok(program)
}
