// SPDX-License-Identifier: GPL-2.0

//! `mount`: a file system mounted as a `fuse_iomap` file system on a
//! directory, and served in the background. Three of them:
//!
//! - `mount disk` (`disk.rs`, `serve.rs`): directories and regular files
//!   on a block device, whose data the kernel reads and writes through
//!   iomap where the server's mappings say;
//! - `mount ext4` (`ext4.rs`, `ext4_serve.rs`): the same for an ext2/3/4
//!   file system on a block device or an image, read through libext2fs,
//!   its file data where the extent trees say;
//! - `mount famfs` (`famfs.rs`, `famfs_serve.rs`): directories and files
//!   on a pmem device, described by a famfs metadata log on it, whose data
//!   the kernel reaches through DAX where their fmaps say.
//!
//! All go the same way, here: the server opens `/dev/fuse-iomap`, sets
//! its device up, and mounts (type `fuse_iomap`,
//! `fd=N,rootmode=M,user_id=U,group_id=G`). Then it forks: the child
//! leaves the session, logs to the log file, makes the handshake and
//! serves (`dispatch.rs`); the parent exits 0 once the handshake is done.
//! `umount` ends the server (`DESTROY`), as does an aborted connection.

mod disk;
mod dispatch;
mod ext4;
mod ext4_serve;
#[cfg(test)]
mod ext4_tests;
mod famfs;
mod famfs_serve;
#[cfg(test)]
mod famfs_tests;
mod log;
mod notify;
mod publish;
mod reply;
mod serve;
mod signal;
#[cfg(test)]
mod tests;

use clap::{ArgGroup, Args, Subcommand};
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::loopdev;
use fuse_iomap_server::uapi;
use log::Log;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::unistd::{chdir, dup2, fork, getgid, getuid, pipe, read, setsid, write, ForkResult};
use std::ffi::CStr;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// What `mount` mounts.
#[derive(Debug, Subcommand)]
pub enum MountMode {
    /// Directories and regular files on a block device; the kernel reads
    /// and writes file data where the server's mappings say.
    Disk(disk::DiskArgs),
    /// An ext2/3/4 file system on a block device, read (and with --rw,
    /// partly written) through libext2fs; the kernel reads and writes file
    /// data where its extent trees say.
    Ext4(ext4::Ext4Args),
    /// famfs: directories and files on a pmem device, described by a
    /// metadata log on it; the kernel reaches file data through DAX where
    /// their fmaps say.
    Famfs(famfs::FamfsArgs),
}

/// Where the modes mount, and log.
#[derive(Debug, Args)]
pub struct Place {
    /// The log, appended to.
    #[arg(long, default_value = "/tmp/fuse-iomap-server.log")]
    log: PathBuf,
    /// Where to mount.
    dir: PathBuf,
}

/// The block device of the disk-backed modes (`mount disk`, `mount
/// ext4`).
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["device", "image"])))]
pub struct Source {
    /// The block device.
    #[arg(long)]
    device: Option<PathBuf>,
    /// An image file, attached to a free loop device (detached when
    /// the server ends).
    #[arg(long)]
    image: Option<PathBuf>,
}

impl Source {
    /// Opens the device, or attaches the image to a loop device: the
    /// device's path, and an open file of it.
    pub fn open(&self) -> Result<(PathBuf, File), String> {
        match (&self.device, &self.image) {
            (Some(d), _) => Ok((d.clone(), open_rw(d).map_err(with(d.display()))?)),
            (None, Some(i)) => {
                loopdev::attach(i).map_err(with(format!("attaching {}", i.display())))
            }
            (None, None) => Err("--device or --image is needed".into()),
        }
    }
}

/// Registers block device `disk`, at `path`, with the connection of
/// `fuse` (`FUSE_IOMAP_IOC_BACKING_OPEN`): the device cookie of its
/// mappings.
pub fn register(fuse: &File, disk: &File, path: &Path) -> Result<u32, String> {
    let map = uapi::fuse_iomap_backing_map {
        fd: disk.as_raw_fd(),
        ..Default::default()
    };
    // SAFETY: `map` is a valid argument for the ioctl.
    let dev = unsafe { uapi::backing_open(fuse.as_raw_fd(), &map) }
        .map_err(|e| format!("FUSE_IOMAP_IOC_BACKING_OPEN of {}: {e}", path.display()))?;
    Ok(dev as u32)
}

/// Mounts; returns the exit status (0: mounted, served in the background).
pub fn run(mode: &MountMode) -> i32 {
    let at = match mode {
        MountMode::Disk(args) => &args.at,
        MountMode::Ext4(args) => &args.at,
        MountMode::Famfs(args) => &args.at,
    };
    let log = match Log::open(&at.log) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("fuse-iomap-server: {}: {e}", at.log.display());
            return 2;
        }
    };
    let dir = &at.dir;
    match mode {
        MountMode::Disk(args) => background(disk::setup(args, dir, &log), log, dir),
        MountMode::Ext4(args) => background(ext4::setup(args, dir, &log), log, dir),
        MountMode::Famfs(args) => background(famfs::setup(args, dir, &log), log, dir),
    }
}

/// A mounted file system, not served yet: the connection, and what will
/// serve it.
pub struct Mounted<S> {
    pub channel: Channel,
    pub server: S,
}

/// A mode's server, in the background.
pub trait Serve {
    /// Makes the handshake and whatever must come before the mount is
    /// used, tells `ready`, and serves until the end; the exit status.
    fn serve(self, channel: &Channel, log: Log, ready: Ready) -> i32;
}

pub fn with(what: impl std::fmt::Display) -> impl FnOnce(io::Error) -> String {
    move |e| format!("{what}: {e}")
}

pub fn open_rw(path: &Path) -> io::Result<File> {
    File::options().read(true).write(true).open(path)
}

/// Opens `/dev/fuse-iomap`, once `dir` is known to be a directory: before
/// anything is formatted.
pub fn open_fuse(dir: &Path) -> Result<File, String> {
    if !dir.is_dir() {
        return Err(format!("{}: not a directory", dir.display()));
    }
    open_rw("/dev/fuse-iomap".as_ref()).map_err(with("/dev/fuse-iomap"))
}

/// Mounts the connection of `fuse` on `dir`, with `source` as the mount's
/// source, a root directory of mode `rootmode`, `flags` (`MS_RDONLY`, or
/// none), and the options `extra` (`,name=value...`) besides those every
/// mount has.
pub fn mount_on(
    fuse: File,
    source: &Path,
    dir: &Path,
    rootmode: u32,
    flags: MsFlags,
    extra: &str,
) -> Result<Channel, String> {
    let data = format!(
        "fd={},rootmode={rootmode:o},user_id={},group_id={}{extra}",
        fuse.as_raw_fd(),
        getuid(),
        getgid()
    );
    mount(
        Some(source),
        dir,
        CStr::from_bytes_with_nul(uapi::FUSE_IOMAP_FS_TYPE).ok(),
        flags,
        Some(data.as_str()),
    )
    .map_err(|e| format!("mounting {} on {}: {e}", source.display(), dir.display()))?;
    Ok(Channel::new(OwnedFd::from(fuse)))
}

/// Forks the server of `mounted` into the background; returns the
/// parent's exit status once the child has made the handshake.
fn background<S: Serve>(mounted: Result<Mounted<S>, String>, mut log: Log, dir: &Path) -> i32 {
    let mounted = match mounted {
        Ok(m) => m,
        Err(e) => {
            log.line(&e);
            return 1;
        }
    };
    let (ready_rx, ready_tx) = match pipe() {
        Ok(p) => p,
        Err(e) => return abandon(mounted.channel, &log, dir, &format!("pipe: {e}")),
    };
    // SAFETY: No other thread runs: the child may do anything.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop(ready_rx);
            daemonize(&mut log);
            let Mounted { channel, server } = mounted;
            server.serve(&channel, log, Ready(ready_tx))
        }
        Ok(ForkResult::Parent { .. }) => {
            // The child serves the file system: the parent leaves its copy
            // as it is (its files close when it exits), so that nothing of
            // it is written twice (libext2fs writes at close).
            std::mem::forget(mounted);
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
        Err(e) => abandon(mounted.channel, &log, dir, &format!("fork: {e}")),
    }
}

/// Unmounts, for `why`, what could not be served.
fn abandon(channel: Channel, log: &Log, dir: &Path, why: &str) -> i32 {
    log.line(why);
    drop(channel);
    let _ = umount2(dir, MntFlags::MNT_DETACH);
    1
}

/// The handshake, keeping `want` (and with `maxbytes`, see
/// [`Channel::handshake`]); false, logged, if it failed or the kernel
/// offered no `want`, which `what` names.
pub fn handshake(
    channel: &Channel,
    want: u64,
    maxbytes: Option<u64>,
    what: &str,
    log: &Log,
) -> bool {
    match channel.handshake(want, maxbytes) {
        Ok(kept) if kept & want == want => true,
        Ok(_) => {
            log.line(&format!("the kernel offered no {what}"));
            false
        }
        Err(e) => {
            log.line(&format!("the handshake: {e}"));
            false
        }
    }
}

/// The handshake of a disk-backed mount: `FUSE_IOMAP`, with files of at
/// most `maxbytes`.
pub fn iomap_handshake(channel: &Channel, maxbytes: u64, log: &Log) -> bool {
    handshake(channel, uapi::FUSE_IOMAP, Some(maxbytes), "FUSE_IOMAP", log)
}

/// The mounting process's end: told once the mount may be used.
pub struct Ready(OwnedFd);

impl Ready {
    /// Catches SIGTERM and SIGINT (see `signal.rs`), then tells the
    /// mounting process that the mount is served.
    pub fn tell(self, log: &Log) {
        if let Err(e) = signal::catch_termination() {
            log.line(&format!("catching SIGTERM: {e}"));
        }
        if write(&self.0, &[1]).is_err() {
            log.line("the mounting process is gone");
        }
    }
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
