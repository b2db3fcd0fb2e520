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
//! Nothing is ever removed: the log is append-only, and famfs cannot
//! remove files either. `UNLINK`, `RMDIR`, `RENAME` and `RENAME2` are
//! `EPERM`, and `FORGET` has nothing to drop. Every change is in the log
//! before its reply, so `FSYNC` and `DESTROY` have nothing to store.

use super::dispatch::{self, empty, handler_parts, pod, Answer, Handler};
use super::log::Log;
use super::reply::{self, split, FALLOC_FL_KEEP_SIZE};
use fuse_iomap::fmap_build::Layout;
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
    pub log: Log,
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
        Ok(Answer::Bytes(spec.build()))
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
