// SPDX-License-Identifier: GPL-2.0

//! The serving loop: the handshake, then one request at a time.

use crate::channel::{Channel, Request};
use crate::disk::{self, Disk, DEV};
use crate::famfs::Namespace;
use crate::uapi::*;
use crate::{Misbehave, Mode, BLOCK_SIZE};
use bytemuck::bytes_of;
use nix::errno::Errno;
use nix::unistd::write;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// What the server serves.
enum Kind {
    Famfs { namespace: Namespace, index: u32 },
    Disk { disk: Disk, preload: bool },
}

/// A server, set up and ready to serve.
pub struct Server {
    kind: Kind,
    misbehave: Option<Misbehave>,
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
                ..
            } => {
                let namespace = Namespace::new(device, files, size, strips, chunk);
                namespace.write()?;
                Kind::Famfs { namespace, index }
            }
            Mode::Disk {
                blocks,
                extent_blocks,
                preload,
                ..
            } => {
                let dev = fuse_iomap_ioc_device {
                    dev: DEV,
                    reserved: 0,
                    size: disk::dev_size(blocks),
                };
                // SAFETY: `dev` is a valid argument for the ioctl.
                unsafe { add_device(channel.fd().as_raw_fd(), &dev) }?;
                Kind::Disk {
                    disk: Disk {
                        nodeid: 1,
                        blocks,
                        extent_blocks: extent_blocks.max(1),
                    },
                    preload,
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
            Kind::Famfs { .. } => FUSE_DAX_FMAP,
            Kind::Disk { .. } => FUSE_IOMAP,
        };
        channel.handshake(want)?;
        if let Kind::Disk {
            ref disk,
            preload: true,
        } = self.kind
        {
            for extent in disk.extents() {
                channel.notify(
                    FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS,
                    &disk::upsert(disk.nodeid, extent),
                )?;
            }
        }
        write(&ready, &[1])?;
        drop(ready);
        loop {
            let request = channel.read()?;
            self.handle(channel, &request)?;
        }
    }

    fn handle(&mut self, channel: &Channel, req: &Request) -> nix::Result<()> {
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
            (FUSE_GET_FMAP, Kind::Famfs { namespace, index }) => {
                let Some(file) = namespace.file(nodeid) else {
                    return channel.reply_error(unique, Errno::ENOENT);
                };
                let good = file.fmap(*index);
                let mut bad = good.clone();
                bad.extend_from_slice(&[0; 8]);
                let misbehave = self.misbehave.take();
                answer(channel, unique, &good, &bad, misbehave)
            }
            (FUSE_GET_DAXDEV, Kind::Famfs { namespace, index }) if nodeid == u64::from(*index) => {
                let mut out = fuse_daxdev_out {
                    index: *index as u16,
                    ..Default::default()
                };
                for (d, s) in out.name.iter_mut().zip(namespace.device.bytes()) {
                    *d = s as _;
                }
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
