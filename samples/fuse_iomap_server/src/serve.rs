// SPDX-License-Identifier: GPL-2.0

//! The serving loop: the handshake, then one request at a time.

use crate::{DiskBpf, Misbehave, Mode};
use bytemuck::bytes_of;
use fuse_iomap_server::bpf::{self, DiskAnswer};
use fuse_iomap_server::channel::{Channel, Request};
use fuse_iomap_server::disk::{self, Disk, DEV};
use fuse_iomap_server::famfs::{device_size, Namespace};
use fuse_iomap_server::uapi::*;
use fuse_iomap_server::BLOCK_SIZE;
use nix::errno::Errno;
use nix::unistd::write;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// What the server serves.
enum Kind {
    Famfs {
        namespace: Namespace,
        index: u32,
        iomap: bool,
        bpf: bool,
    },
    Disk {
        disk: Disk,
        preload: bool,
        bpf: Option<DiskBpf>,
    },
}

/// A server, set up and ready to serve.
pub struct Server {
    kind: Kind,
    misbehave: Option<Misbehave>,
}

/// The BPF programs a server attached; each is detached when dropped.
#[derive(Default)]
struct Programs {
    famfs: Option<bpf::Famfs>,
    _disk: Option<bpf::Disk>,
}

/// Registers `size` bytes of device cookie `DEV` for iomap mappings.
fn register_device(channel: &Channel, size: u64) -> io::Result<()> {
    let dev = fuse_iomap_ioc_device {
        dev: DEV,
        reserved: 0,
        size,
    };
    // SAFETY: `dev` is a valid argument for the ioctl.
    unsafe { add_device(channel.fd().as_raw_fd(), &dev) }?;
    Ok(())
}

fn bpf_error(what: &str, e: libbpf_rs::Error) -> Errno {
    eprintln!("fuse-iomap-server: {what}: {e}");
    Errno::EIO
}

impl Server {
    /// Sets up `mode`: writes the famfs files' data, or registers the
    /// disk file's device.
    pub fn new(mode: &Mode, misbehave: Option<Misbehave>, channel: &Channel) -> io::Result<Self> {
        let kind = match *mode {
            Mode::Famfs {
                ref device,
                index,
                files,
                size,
                strips,
                chunk,
                iomap,
                bpf,
                ..
            } => {
                let namespace = Namespace::new(device, files, size, strips, chunk);
                namespace.write()?;
                let iomap = iomap || bpf;
                if iomap {
                    register_device(channel, device_size(device)?)?;
                }
                Kind::Famfs {
                    namespace,
                    index,
                    iomap,
                    bpf,
                }
            }
            Mode::Disk {
                blocks,
                extent_blocks,
                preload,
                bpf,
                ..
            } => {
                register_device(channel, disk::dev_size(blocks))?;
                Kind::Disk {
                    disk: Disk {
                        nodeid: 1,
                        blocks,
                        extent_blocks: extent_blocks.max(1),
                    },
                    preload,
                    bpf,
                }
            }
        };
        Ok(Self { kind, misbehave })
    }

    /// Makes the handshake and, for a preloaded disk file, pushes its
    /// extents; tells `ready` so; then serves until the process is killed.
    /// Returns an exit status if serving fails.
    pub fn run(self, channel: &Channel, ready: OwnedFd) -> i32 {
        match self.serve(channel, ready) {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("fuse-iomap-server: serving: {e}");
                2
            }
        }
    }

    fn serve(mut self, channel: &Channel, ready: OwnedFd) -> nix::Result<()> {
        let want = match self.kind {
            Kind::Famfs { iomap, .. } => FUSE_DAX_FMAP | if iomap { FUSE_IOMAP } else { 0 },
            Kind::Disk { .. } => FUSE_IOMAP,
        };
        channel.handshake(want, None)?;
        if let Kind::Disk {
            ref disk,
            preload: true,
            ..
        } = self.kind
        {
            for extent in disk.extents() {
                channel.notify(
                    FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS,
                    &disk::upsert(disk.nodeid, extent),
                )?;
            }
        }
        let programs = self.attach(channel)?;
        write(&ready, &[1])?;
        drop(ready);
        loop {
            let request = channel.read()?;
            self.handle(channel, &request, programs.famfs.as_ref())?;
        }
    }

    /// Loads and attaches the BPF program the server was asked for.
    fn attach(&self, channel: &Channel) -> nix::Result<Programs> {
        let fd = channel.fd().as_raw_fd();
        match self.kind {
            Kind::Famfs { bpf: true, .. } => {
                let mut famfs = bpf::Famfs::load(fd).map_err(|e| bpf_error("loading", e))?;
                famfs.attach().map_err(|e| bpf_error("attaching", e))?;
                Ok(Programs {
                    famfs: Some(famfs),
                    ..Programs::default()
                })
            }
            Kind::Disk {
                ref disk,
                bpf: Some(how),
                ..
            } => {
                let mut program =
                    bpf::Disk::load(fd, "disk").map_err(|e| bpf_error("loading", e))?;
                let answer = match how {
                    DiskBpf::Handled => DiskAnswer::Handled,
                    DiskBpf::Upsert => DiskAnswer::Upsert,
                };
                program
                    .set_layout(
                        disk.nodeid,
                        disk.blocks,
                        disk.extent_blocks,
                        DEV,
                        BLOCK_SIZE as u32,
                        answer,
                    )
                    .map_err(|e| bpf_error("filling the layout", e))?;
                program.attach().map_err(|e| bpf_error("attaching", e))?;
                Ok(Programs {
                    _disk: Some(program),
                    ..Programs::default()
                })
            }
            _ => Ok(Programs::default()),
        }
    }

    fn handle(
        &mut self,
        channel: &Channel,
        req: &Request,
        famfs_program: Option<&bpf::Famfs>,
    ) -> nix::Result<()> {
        let unique = req.header.unique;
        let nodeid = req.header.nodeid;
        match (req.header.opcode, &self.kind) {
            (FUSE_IOMAP_BEGIN, Kind::Disk { disk, .. }) => {
                let args: fuse_iomap_begin_in = req.args()?;
                let read = disk.mapping(args.pos);
                channel.notify(
                    FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS,
                    &disk::upsert(nodeid, read),
                )?;
                // Writes overwrite in place: the read mapping is theirs too.
                let write = fuse_iomap_io {
                    type_: FUSE_IOMAP_TYPE_PURE_OVERWRITE as u16,
                    flags: 0,
                    addr: FUSE_IOMAP_NULL_ADDR as u64,
                    dev: 0,
                    ..read
                };
                let good = fuse_iomap_begin_out { read, write };
                let bad = fuse_iomap_begin_out {
                    read: fuse_iomap_io {
                        dev: DEV + 8,
                        ..read
                    },
                    write,
                };
                let misbehave = self.misbehave.take();
                answer(channel, unique, bytes_of(&good), bytes_of(&bad), misbehave)
            }
            (FUSE_IOMAP_END, _) => channel.reply_bytes(unique, &[]),
            (FUSE_IOMAP_IOEND, Kind::Disk { disk, .. }) => channel.reply(
                unique,
                &fuse_iomap_ioend_out {
                    newsize: disk.blocks * BLOCK_SIZE,
                },
            ),
            (FUSE_IOMAP_BEGIN, Kind::Famfs { namespace, .. }) => {
                let Some(file) = namespace.file(nodeid) else {
                    return channel.reply_error(unique, Errno::ENOENT);
                };
                let args: fuse_iomap_begin_in = req.args()?;
                let read = if args.pos < file.size {
                    let (offset, length, addr) = file.piece(args.pos);
                    fuse_iomap_io {
                        offset,
                        length,
                        addr,
                        type_: FUSE_IOMAP_TYPE_MAPPED as u16,
                        flags: 0,
                        dev: DEV,
                    }
                } else {
                    disk::hole(args.pos)
                };
                channel.notify(
                    FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS,
                    &disk::upsert(nodeid, read),
                )?;
                let out = fuse_iomap_begin_out {
                    read,
                    write: fuse_iomap_io {
                        type_: FUSE_IOMAP_TYPE_NOCACHE as u16,
                        ..Default::default()
                    },
                };
                channel.reply(unique, &out)
            }
            (
                FUSE_GET_FMAP,
                Kind::Famfs {
                    namespace, index, ..
                },
            ) => {
                let Some(file) = namespace.file(nodeid) else {
                    return channel.reply_error(unique, Errno::ENOENT);
                };
                if let (Some(famfs), Some((chunk, strip_len, strips))) =
                    (famfs_program, file.strips())
                {
                    let strips: Vec<_> = strips.iter().map(|&o| (o, strip_len)).collect();
                    famfs
                        .set_layout(nodeid, file.size, chunk, DEV, &strips)
                        .map_err(|e| bpf_error("filling the layout", e))?;
                }
                let good = file.fmap(*index);
                let mut bad = good.clone();
                bad.extend_from_slice(&[0; 8]);
                let misbehave = self.misbehave.take();
                answer(channel, unique, &good, &bad, misbehave)
            }
            (
                FUSE_GET_DAXDEV,
                Kind::Famfs {
                    namespace, index, ..
                },
            ) if nodeid == u64::from(*index) => {
                // The device by number, as the kernel prefers: no path for
                // it to look up again.
                let out = fuse_daxdev_out {
                    index: *index as u16,
                    dev: nix::sys::stat::stat(namespace.device.as_str())?.st_rdev,
                    ..Default::default()
                };
                channel.reply(unique, &out)
            }
            _ => channel.reply_error(unique, Errno::ENOSYS),
        }
    }
}

/// Answers request `unique` with `good`, unless told to misbehave.
fn answer(
    channel: &Channel,
    unique: u64,
    good: &[u8],
    invalid: &[u8],
    misbehave: Option<Misbehave>,
) -> nix::Result<()> {
    match misbehave {
        None => channel.reply_bytes(unique, good),
        Some(Misbehave::WrongSize) => {
            let refused = channel.reply_bytes(unique, &good[..16]);
            eprintln!("fuse-iomap-server: a 16-byte reply: {refused:?}");
            channel.reply_bytes(unique, good)
        }
        Some(Misbehave::Invalid) => channel.reply_bytes(unique, invalid),
        Some(Misbehave::NeverReply) => Ok(()),
        Some(Misbehave::ReplyTwice) => {
            channel.reply_bytes(unique, good)?;
            let refused = channel.reply_bytes(unique, good);
            eprintln!("fuse-iomap-server: the second reply: {refused:?}");
            Ok(())
        }
        Some(Misbehave::Die) => std::process::exit(1),
    }
}
