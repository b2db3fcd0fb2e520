// SPDX-License-Identifier: GPL-2.0

//! Serving `mount famfs`: the requests of the kernel that
//! [`super::dispatch`] leaves to it, mapped to the log.
//!
//! Every regular file is a famfs file: the kernel asks for its fmap
//! (`GET_FMAP`) when it opens or creates it, and again after a
//! `FALLOCATE` or a size change, and then reads, writes and maps its
//! bytes on the device itself, never through the server. `GET_DAXDEV`
//! names daxdev 0, the pmem device, by its number.
//!
//! With `--resolve bpf` or `upcall`, the kernel asks for a file's
//! mappings instead (`famfs_resolve=iomap`): the famfs BPF program answers
//! from the layout that `GET_FMAP` gives it, and `FUSE_IOMAP_BEGIN` here
//! answers the rest, both from the file's fmap, resolved by the module's
//! own code (`fmap_tool::locate`), so that all three ways agree.
//!
//! Nothing is ever removed: the log is append-only, and famfs cannot
//! remove files either. `UNLINK`, `RMDIR`, `RENAME` and `RENAME2` are
//! `EPERM`, and `FORGET` has nothing to drop. Every change is in the log
//! before its reply, so `FSYNC` and `DESTROY` have nothing to store.

use super::dispatch::{self, empty, handler_parts, pod, Answer, Handler};
use super::log::Log;
use super::reply::{self, split, FALLOC_FL_KEEP_SIZE};
use fuse_iomap::fmap_build::{FmapSpec, Layout};
use fuse_iomap::fmap_tool;
use fuse_iomap_server::bpf;
use fuse_iomap_server::channel::{Channel, Request};
use fuse_iomap_server::famfslog::Fs;
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;

/// The server of a mounted famfs log.
pub struct Server<'a> {
    pub channel: &'a Channel,
    pub fs: Fs,
    /// The pmem device's number: daxdev 0, as `GET_DAXDEV` names it.
    pub rdev: u64,
    /// `--hostile-fmaps`: see [`Server::fmap`].
    pub hostile_fmaps: bool,
    /// The famfs BPF program, with `--resolve bpf`.
    pub bpf: Option<bpf::Famfs>,
    pub log: Log,
}

/// The page size: the unit of the mappings the kernel's DAX library asks
/// for.
const PAGE: u64 = 4096;

/// The `dev` of a mapping onto daxdev `index`: 0 means no device.
fn daxdev_cookie(index: u32) -> u32 {
    index + 1
}

/// `S_ISVTX` and `S_ISUID`: the mode bits that `--hostile-fmaps` reads.
const STICKY: u32 = 0o1000;
const SETUID: u32 = 0o4000;

impl Server<'_> {
    /// Serves until `DESTROY`, the connection's end, or SIGTERM. Returns
    /// the exit status.
    pub fn run(self) -> i32 {
        dispatch::run(self)
    }

    fn fallocate(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (f, _) = split::<fuse_fallocate_in>(args)?;
        match f.mode {
            0 | FALLOC_FL_KEEP_SIZE => {
                let keep = f.mode == FALLOC_FL_KEEP_SIZE;
                self.fs.allocate(nodeid, f.offset, f.length, keep)?;
                empty()
            }
            _ => Err(Errno::EOPNOTSUPP),
        }
    }

    /// `GET_FMAP` of file `nodeid`. With `--hostile-fmaps`, for the
    /// kernel's tests: a file with the sticky bit gets its extents on
    /// daxdev 7, which `GET_DAXDEV` does not know, and a set-user-ID file
    /// its strips cut to their first chunk, in groups that still claim
    /// their bytes: a valid reply that cannot resolve past that chunk.
    fn fmap(&self, nodeid: u64) -> Result<Answer, Errno> {
        let (mode, mut spec) = self.fs.fmap_spec(nodeid)?;
        if self.hostile_fmaps {
            match &mut spec.layout {
                Layout::Simple(extents) if mode & STICKY != 0 => {
                    extents.iter_mut().for_each(|e| e.dev = 7)
                }
                Layout::Interleave(groups) if mode & STICKY != 0 => groups
                    .iter_mut()
                    .flat_map(|g| g.strips.iter_mut())
                    .for_each(|e| e.dev = 7),
                Layout::Interleave(groups) if mode & SETUID != 0 => {
                    for g in groups.iter_mut() {
                        let chunk = u64::from(g.chunk);
                        g.strips.iter_mut().for_each(|e| e.len = e.len.min(chunk));
                    }
                }
                _ => {}
            }
        }
        if let Some(program) = &self.bpf {
            self.give_layout(program, nodeid, &spec)?;
        }
        Ok(Answer::Bytes(spec.build()))
    }

    /// Gives the BPF program the layout of file `nodeid`, if it is one
    /// interleaved group on one device, which is all the program resolves;
    /// for any other file, it falls back to `FUSE_IOMAP_BEGIN`.
    fn give_layout(&self, program: &bpf::Famfs, nodeid: u64, spec: &FmapSpec) -> Result<(), Errno> {
        let Layout::Interleave(groups) = &spec.layout else {
            return Ok(());
        };
        let [g] = &groups[..] else {
            return Ok(());
        };
        let dev = g.strips[0].dev;
        if g.strips.iter().any(|e| e.dev != dev) {
            return Ok(());
        }
        let strips: Vec<(u64, u64)> = g.strips.iter().map(|e| (e.offset, e.len)).collect();
        program
            .set_layout(
                nodeid,
                spec.file_size,
                u64::from(g.chunk),
                daxdev_cookie(dev),
                &strips,
            )
            .map_err(|e| {
                self.log
                    .line(&format!("the BPF layout of nodeid {nodeid}: {e}"));
                Errno::EIO
            })
    }

    /// `FUSE_IOMAP_BEGIN` of famfs file `nodeid`: the page at the position
    /// and on to the end of its extent or chunk, from the file's fmap; a
    /// hole past the end of the file.
    fn iomap_begin(&self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (b, _) = split::<fuse_iomap_begin_in>(args)?;
        let (_, spec) = self.fs.fmap_spec(nodeid)?;
        let pos = b.pos / PAGE * PAGE;
        let read = if pos >= spec.file_size {
            fuse_iomap_io {
                offset: pos,
                length: b.count.max(1).div_ceil(PAGE) * PAGE,
                addr: FUSE_IOMAP_NULL_ADDR as u64,
                type_: FUSE_IOMAP_TYPE_HOLE as u16,
                ..Default::default()
            }
        } else {
            let (index, addr, length) = fmap_tool::locate(&spec.build(), pos, spec.file_size - pos)
                .map_err(|f| {
                    self.log
                        .line(&format!("FUSE_IOMAP_BEGIN of nodeid {nodeid}: {f:?}"));
                    Errno::EIO
                })?;
            fuse_iomap_io {
                offset: pos,
                length: length.div_ceil(PAGE) * PAGE,
                addr,
                type_: FUSE_IOMAP_TYPE_MAPPED as u16,
                dev: daxdev_cookie(index),
                ..Default::default()
            }
        };
        let write = fuse_iomap_io {
            type_: FUSE_IOMAP_TYPE_NOCACHE as u16,
            ..Default::default()
        };
        pod(&fuse_iomap_begin_out { read, write })
    }

    /// `GET_DAXDEV` of daxdev `index`: only daxdev 0, the device this
    /// server has, resolves here (the log may name others, which another
    /// host would resolve by their uuid).
    fn daxdev(&self, index: u64) -> Result<Answer, Errno> {
        if index != 0 {
            return Err(Errno::ENODEV);
        }
        pod(&fuse_daxdev_out {
            index: 0,
            dev: self.rdev,
            ..Default::default()
        })
    }
}

impl Handler for Server<'_> {
    handler_parts!(Fs);

    // The opcodes are bindgen's constants of C's enum, named as C names
    // them.
    #[allow(non_upper_case_globals)]
    fn handle(&mut self, req: &Request) -> Result<Answer, Errno> {
        let nodeid = req.header.nodeid;
        let args = &req.args[..];
        match req.header.opcode {
            // Never answered, not even with an error.
            fuse_opcode_FUSE_FORGET | fuse_opcode_FUSE_BATCH_FORGET => Ok(Answer::None),
            fuse_opcode_FUSE_SETATTR => {
                let stat = self.fs.setattr(nodeid, reply::set_attr(args)?)?;
                pod(&reply::attr_out(&stat))
            }
            fuse_opcode_FUSE_UNLINK
            | fuse_opcode_FUSE_RMDIR
            | fuse_opcode_FUSE_RENAME
            | fuse_opcode_FUSE_RENAME2 => Err(Errno::EPERM),
            fuse_opcode_FUSE_FSYNC | fuse_opcode_FUSE_FSYNCDIR => empty(),
            fuse_opcode_FUSE_FALLOCATE => self.fallocate(nodeid, args),
            FUSE_GET_FMAP => self.fmap(nodeid),
            FUSE_GET_DAXDEV => self.daxdev(nodeid),
            FUSE_IOMAP_BEGIN => self.iomap_begin(nodeid, args),
            _ => Err(Errno::ENOSYS),
        }
    }

    /// A change that failed with `EIO` says why in the log.
    fn answered(&mut self) {
        if let Some(why) = self.fs.take_fault() {
            self.log.line(&why);
        }
    }

    /// The log holds every change already.
    fn finish(&mut self) -> i32 {
        0
    }
}
