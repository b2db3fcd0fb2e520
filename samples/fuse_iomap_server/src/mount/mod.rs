// SPDX-License-Identifier: GPL-2.0

//! `mount disk`: a file system of directories and regular files on a block
//! device, mounted as a `fuse_iomap` file system and served in the
//! background.
//!
//! The server opens `/dev/fuse-iomap` and the device (or attaches an image
//! file to a loop device), loads or formats the file system, registers the
//! device with `FUSE_IOMAP_IOC_BACKING_OPEN`, and mounts. Then it forks: the
//! child leaves the session, logs to the log file, makes the handshake and
//! serves; the parent exits 0 once the handshake is done. `umount` ends the
//! server (`DESTROY`), as does an aborted connection.
//!
//! With `--bpf` the child attaches the BPF program of `publish.rs` to the
//! connection after the handshake, and detaches it when it ends.

mod log;
mod publish;
mod reply;
mod serve;
mod signal;
#[cfg(test)]
mod tests;

use clap::{ArgGroup, Subcommand};
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::diskfs::store::Store;
use fuse_iomap_server::diskfs::{MAX_BYTES, ROOT};
use fuse_iomap_server::{bpf, loopdev, uapi};
use log::Log;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, dup2, fork, getgid, getuid, pipe, read, setsid, write, ForkResult};
use publish::Publisher;
use std::ffi::CStr;
use std::fs::File;
use std::io::{self, Seek, SeekFrom};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::PathBuf;

/// What `mount` mounts.
#[derive(Debug, Subcommand)]
pub enum MountMode {
    /// Directories and regular files on a block device; the kernel reads
    /// and writes file data where the server's mappings say.
    #[command(group(ArgGroup::new("source").required(true).args(["device", "image"])))]
    Disk {
        /// The block device.
        #[arg(long)]
        device: Option<PathBuf>,
        /// An image file, attached to a free loop device (detached when
        /// the server ends).
        #[arg(long)]
        image: Option<PathBuf>,
        /// Write a fresh, empty file system first.
        #[arg(long)]
        format: bool,
        /// Attach the BPF program that answers iomap_begin of the open
        /// files' written extents in the kernel.
        #[arg(long)]
        bpf: bool,
        /// The log, appended to.
        #[arg(long, default_value = "/tmp/fuse-iomap-server.log")]
        log: PathBuf,
        /// Where to mount.
        dir: PathBuf,
    },
}

/// Mounts; returns the exit status (0: mounted, served in the background).
pub fn run(mode: &MountMode) -> i32 {
    let MountMode::Disk {
        device,
        image,
        format,
        bpf,
        log,
        dir,
    } = mode;
    let log = match Log::open(log) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fuse-iomap-server: {}: {e}", log.display());
            return 2;
        }
    };
    match setup(device.as_ref(), image.as_ref(), *format, dir, &log) {
        Ok(mounted) => mounted.background(log, dir, *bpf),
        Err(e) => {
            log.line(&e);
            1
        }
    }
}

/// A mounted file system, not served yet.
struct Mounted {
    channel: Channel,
    store: Store,
    fs: fuse_iomap_server::diskfs::Fs,
    dev: u32,
}

fn with(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

fn open_rw(path: &std::path::Path) -> io::Result<File> {
    File::options().read(true).write(true).open(path)
}

fn setup(
    device: Option<&PathBuf>,
    image: Option<&PathBuf>,
    format: bool,
    dir: &std::path::Path,
    log: &Log,
) -> Result<Mounted, String> {
    // Before anything is formatted.
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    let server = open_rw("/dev/fuse-iomap".as_ref()).map_err(with("/dev/fuse-iomap"))?;
    let (path, mut disk) = match (device, image) {
        (Some(d), _) => (d.clone(), open_rw(d).map_err(with(d.display()))?),
        (None, Some(i)) => {
            loopdev::attach(i).map_err(with(format!("attaching {}", i.display())))?
        }
        (None, None) => return Err("--device or --image is needed".into()),
    };
    let bytes = disk.seek(SeekFrom::End(0)).map_err(with(path.display()))?;
    let for_store = disk.try_clone().map_err(with(path.display()))?;
    let (store, fs) = if format {
        Store::format(for_store, bytes)
    } else {
        Store::load(for_store, bytes)
    }
    .map_err(|e| format!("{}: {e}", path.display()))?;

    let map = uapi::fuse_iomap_backing_map {
        fd: disk.as_raw_fd(),
        ..Default::default()
    };
    // SAFETY: `map` is a valid argument for the ioctl.
    let dev = unsafe { uapi::backing_open(server.as_raw_fd(), &map) }
        .map_err(|e| format!("FUSE_IOMAP_IOC_BACKING_OPEN of {}: {e}", path.display()))?;
    let root = fs.stat(ROOT).map_err(|e| format!("the root: {e}"))?;
    let data = format!(
        "fd={},rootmode={:o},user_id={},group_id={}",
        server.as_raw_fd(),
        root.attr.mode,
        getuid(),
        getgid()
    );
    mount(
        Some(path.as_path()),
        dir,
        CStr::from_bytes_with_nul(uapi::FUSE_IOMAP_FS_TYPE).ok(),
        MsFlags::empty(),
        Some(data.as_str()),
    )
    .map_err(|e| format!("mounting {} on {}: {e}", path.display(), dir.display()))?;
    log.line(&format!(
        "mounted {} ({bytes} bytes{}) on {}",
        path.display(),
        if format { ", formatted" } else { "" },
        dir.display()
    ));
    Ok(Mounted {
        channel: Channel::new(OwnedFd::from(server)),
        store,
        fs,
        dev: dev as u32,
    })
}

impl Mounted {
    /// Forks the server into the background; returns the parent's exit
    /// status once the child has made the handshake.
    fn background(self, mut log: Log, dir: &std::path::Path, bpf: bool) -> i32 {
        let (ready_rx, ready_tx) = match pipe() {
            Ok(p) => p,
            Err(e) => return self.abandon(&log, dir, &format!("pipe: {e}")),
        };
        // SAFETY: No other thread runs: the child may do anything.
        match unsafe { fork() } {
            Ok(ForkResult::Child) => {
                drop(ready_rx);
                daemonize(&mut log);
                self.serve(log, ready_tx, bpf)
            }
            Ok(ForkResult::Parent { .. }) => {
                drop(ready_tx);
                let mut byte = [0];
                if read(ready_rx.as_raw_fd(), &mut byte).unwrap_or(0) == 1 {
                    0
                } else {
                    // The child logged why.
                    let _ = umount2(dir, MntFlags::MNT_DETACH);
                    1
                }
            }
            Err(e) => self.abandon(&log, dir, &format!("fork: {e}")),
        }
    }

    fn abandon(self, log: &Log, dir: &std::path::Path, why: &str) -> i32 {
        log.line(why);
        drop(self.channel);
        let _ = umount2(dir, MntFlags::MNT_DETACH);
        1
    }

    /// The handshake, the BPF program with `bpf`, then serving until
    /// `DESTROY`.
    fn serve(self, log: Log, ready: OwnedFd, bpf: bool) -> i32 {
        match self.channel.handshake(uapi::FUSE_IOMAP, Some(MAX_BYTES)) {
            Ok(kept) if kept & uapi::FUSE_IOMAP != 0 => {}
            Ok(_) => {
                log.line("the kernel offered no FUSE_IOMAP");
                return 1;
            }
            Err(e) => {
                log.line(&format!("the handshake: {e}"));
                return 1;
            }
        }
        // The connection has iomap now, which attaching needs.
        let bpf = if bpf {
            match attach(&self.channel) {
                Ok(program) => Some(Publisher::new(Box::new(program), self.dev)),
                Err(e) => {
                    log.line(&format!("the BPF program: {e}"));
                    return 1;
                }
            }
        } else {
            None
        };
        if let Err(e) = signal::catch_termination() {
            log.line(&format!("catching SIGTERM: {e}"));
        }
        if write(&ready, &[1]).is_err() {
            log.line("the mounting process is gone");
        }
        drop(ready);
        serve::Server {
            channel: &self.channel,
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

/// Leaves the mounter's session and terminal: stdin from `/dev/null`,
/// stdout and stderr (a panic's message) to the log.
fn daemonize(log: &mut Log) {
    let _ = setsid();
    let _ = chdir("/");
    if let Ok(null) = File::open("/dev/null") {
        let _ = dup2(null.as_raw_fd(), 0);
    }
    let _ = dup2(log.file().as_raw_fd(), 1);
    let _ = dup2(log.file().as_raw_fd(), 2);
    log.quiet();
}
