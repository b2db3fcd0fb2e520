// SPDX-License-Identifier: GPL-2.0

//! fuse-iomap-server: a sample server for the fuse_iomap module.
//!
//! It opens `/dev/fuse-iomap`, sets up its namespace, makes a client
//! handle and runs the client command with it (its number in
//! `FUSE_IOMAP_CLIENT_FD`), as a mount would hand a file system to its
//! users. It serves from a child process, so that `--misbehave die` is a
//! real death in the middle of a request, and exits with the client's
//! status once the client is done.
//!
//! - `famfs`: files with simple or interleaved fmaps on a pmem device; the
//!   server writes their data through its own mapping of the device, and
//!   answers `GET_FMAP` and `GET_DAXDEV`.
//!   With `--iomap` it also answers `IOMAP_BEGIN` for them; with `--bpf`
//!   the famfs BPF program answers instead, from layouts the server gives
//!   it at open.
//! - `disk`: an extent-mapped file (every nodeid has the same layout); the
//!   server answers `IOMAP_BEGIN` from its extent map, upserting what it
//!   answers, and with `--preload` pushes every extent into the cache before
//!   the client starts; with `--bpf` the disk BPF program answers for
//!   nodeid 1.
//!
//! `mount disk`, `mount ext4` and `mount famfs` are another kind of
//! server: a file system mounted on a directory and served in the
//! background, without a client command (see `mount/mod.rs`); `mkfs` and `fsck` format and check
//! the disk file system's device offline (`offline.rs`).

mod mount;
mod offline;
mod serve;

use clap::{Args as ClapArgs, Parser, Subcommand, ValueEnum};
use fuse_iomap_server::{channel::Channel, uapi};
use nix::sys::signal::{kill, Signal};
use nix::sys::wait::waitpid;
use nix::unistd::{fork, pipe, read, ForkResult};
use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{exit, Command};

/// How the server misbehaves on the first request after the handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Misbehave {
    /// Replies 8 bytes short (refused with EINVAL), then properly.
    WrongSize,
    /// Replies with an invalid mapping or fmap.
    Invalid,
    /// Never replies.
    NeverReply,
    /// Replies twice (the second is refused with ENOENT).
    ReplyTwice,
    /// Dies without replying.
    Die,
}

/// The client command, run with the client handle.
#[derive(Debug, ClapArgs)]
pub struct Client {
    #[arg(last = true, required = true)]
    command: Vec<String>,
}

/// How the disk BPF program answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DiskBpf {
    /// With the mapping.
    Handled,
    /// By upserting it and answering RETRY_CACHE.
    Upsert,
}

#[derive(Debug, Subcommand)]
pub enum Mode {
    /// famfs files on a pmem device.
    Famfs {
        /// The pmem device.
        #[arg(long, default_value = "/dev/pmem0")]
        device: String,
        /// The daxdev index the fmaps name.
        #[arg(long, default_value_t = 0)]
        index: u32,
        /// How many files (nodeids 1 to N).
        #[arg(long, default_value_t = 3)]
        files: u64,
        /// Each file's size, bytes.
        #[arg(long, default_value_t = 16 << 20)]
        size: u64,
        /// Strips of each file; 0 for one simple extent.
        #[arg(long, default_value_t = 4)]
        strips: u64,
        /// Chunk size of interleaved files, bytes.
        #[arg(long, default_value_t = 2 << 20)]
        chunk: u64,
        /// Also serve the files through iomap: register the device and
        /// answer IOMAP_BEGIN (upserting what it answers).
        #[arg(long)]
        iomap: bool,
        /// Attach the famfs BPF program (implies --iomap): iomap_begin of an
        /// opened striped file is answered in the kernel.
        #[arg(long)]
        bpf: bool,
        #[command(flatten)]
        client: Client,
    },
    /// An extent-mapped disk file, nodeid 1.
    Disk {
        /// Its size, in blocks.
        #[arg(long, default_value_t = 1024)]
        blocks: u64,
        /// Blocks per extent.
        #[arg(long, default_value_t = 16)]
        extent_blocks: u64,
        /// Push every extent into the cache before the client starts.
        #[arg(long)]
        preload: bool,
        /// Attach the disk BPF program for nodeid 1: it answers iomap_begin
        /// itself, or upserts and answers RETRY_CACHE.
        #[arg(long, value_enum)]
        bpf: Option<DiskBpf>,
        #[command(flatten)]
        client: Client,
    },
}

/// What the server does: serve a client command, or mount.
#[derive(Debug, Subcommand)]
enum Action {
    #[command(flatten)]
    Client(Mode),
    /// Mount a file system on a directory and serve it in the background,
    /// until it is unmounted.
    #[command(subcommand)]
    Mount(mount::MountMode),
    /// Write a fresh, empty disk file system on a device (for
    /// `mkfs.fuse_iomap`).
    Mkfs(offline::Mkfs),
    /// Check the disk file system on an unmounted device (for
    /// `fsck.fuse_iomap`).
    Fsck(offline::Fsck),
}

/// A sample fuse-iomap server.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Misbehave on the first request after the handshake (not with
    /// `mount`).
    #[arg(long, value_enum)]
    misbehave: Option<Misbehave>,
    #[command(subcommand)]
    action: Action,
}

impl Mode {
    fn client(&self) -> &[String] {
        match self {
            Mode::Famfs { client, .. } | Mode::Disk { client, .. } => &client.command,
        }
    }
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("fuse-iomap-server: {what}: {e}");
    exit(2)
}

fn main() {
    let args = Args::parse();
    let mode = match args.action {
        Action::Client(mode) => mode,
        Action::Mount(_) if args.misbehave.is_some() => {
            fail("mount", "--misbehave is for the client modes")
        }
        Action::Mount(mount) => exit(mount::run(&mount)),
        Action::Mkfs(_) | Action::Fsck(_) if args.misbehave.is_some() => {
            fail("mkfs and fsck", "--misbehave is for the client modes")
        }
        Action::Mkfs(mkfs) => exit(mkfs.run()),
        Action::Fsck(fsck) => exit(fsck.run()),
    };
    let device = File::options()
        .read(true)
        .write(true)
        .open("/dev/fuse-iomap")
        .unwrap_or_else(|e| fail("/dev/fuse-iomap", e));
    let channel = Channel::new(OwnedFd::from(device));
    let server = serve::Server::new(&mode, args.misbehave, &channel)
        .unwrap_or_else(|e| fail("setting up", e));

    // SAFETY: The ioctl takes no argument and returns a new descriptor.
    let client = unsafe { uapi::new_client(channel.fd().as_raw_fd()) }
        .unwrap_or_else(|e| fail("FUSE_IOMAP_IOC_CLIENT", e));
    // SAFETY: A descriptor the ioctl just made, owned by nobody else.
    let client = unsafe { OwnedFd::from_raw_fd(client) };

    let (ready_rx, ready_tx) = pipe().unwrap_or_else(|e| fail("pipe", e));
    // SAFETY: No other thread runs: the child may do anything.
    let serving = match unsafe { fork() } {
        Ok(ForkResult::Child) => {
            drop((client, ready_rx));
            exit(server.run(&channel, ready_tx))
        }
        Ok(ForkResult::Parent { child }) => child,
        Err(e) => fail("fork", e),
    };
    drop((channel, ready_tx));
    // The handshake, and a preload, are done before the client starts.
    if read(ready_rx.as_raw_fd(), &mut [0]).unwrap_or(0) != 1 {
        fail("serving", "the server did not come up");
    }

    let fd = client.as_raw_fd();
    let argv = mode.client();
    let mut command = Command::new(&argv[0]);
    command
        .args(&argv[1..])
        .env("FUSE_IOMAP_CLIENT_FD", fd.to_string());
    // SAFETY: Between fork and exec: only clears the close-on-exec flag.
    unsafe {
        command.pre_exec(move || {
            nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
            )
            .map(|_| ())
            .map_err(std::io::Error::from)
        });
    }
    let status = command.status().unwrap_or_else(|e| fail(&argv[0], e));
    drop(client);
    let _ = kill(serving, Signal::SIGTERM);
    let _ = waitpid(serving, None);
    exit(status.code().unwrap_or(1))
}
