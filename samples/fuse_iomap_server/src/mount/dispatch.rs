// SPDX-License-Identifier: GPL-2.0

//! Serving a mount, for the three file systems: the loop that reads a request,
//! answers it and replies ([`run`]), and the requests that both answer
//! alike from their models (`LOOKUP`, `GETATTR`, `OPEN`, `OPENDIR`,
//! `READDIR`, `RELEASE`, `RELEASEDIR`, `CREATE`, `MKDIR`, `STATFS`,
//! `DESTROY`). Each answers the others itself ([`Handler::handle`]).

use super::log::Log;
use super::reply::{self, name, split};
use super::signal;
use bytemuck::{bytes_of, Pod};
use fuse_iomap_server::channel::{Channel, Request};
use fuse_iomap_server::diskfs::{Dirent, Stat, Statfs};
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;

/// A request's answer.
pub enum Answer {
    Bytes(Vec<u8>),
    /// `FORGET` and `BATCH_FORGET` get none.
    None,
    /// `DESTROY`: answered, and the server ends.
    Destroy,
}

pub fn pod<T: Pod>(v: &T) -> Result<Answer, Errno> {
    Ok(Answer::Bytes(bytes_of(v).to_vec()))
}

pub fn empty() -> Result<Answer, Errno> {
    Ok(Answer::Bytes(Vec::new()))
}

/// What the file systems' models answer, by the same names.
pub trait Namespace {
    /// The entry `name` of `parent`.
    fn lookup(&mut self, parent: u64, name: &[u8]) -> Result<Stat, Errno>;
    fn stat(&self, nodeid: u64) -> Result<Stat, Errno>;
    /// `OPEN` (`dir` false) or `OPENDIR` of `nodeid`.
    fn open(&self, nodeid: u64, dir: bool) -> Result<(), Errno>;
    /// The entries of `dir` after cookie `after`, `.` and `..` first.
    /// (`&mut`: a model may keep the listing it answers from.)
    fn readdir(
        &mut self,
        dir: u64,
        after: u64,
    ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno>;
    /// `CREATE` (a regular file) or `MKDIR` (`dir`).
    fn create(
        &mut self,
        parent: u64,
        name: &[u8],
        mode: u32,
        uid: u32,
        gid: u32,
        dir: bool,
    ) -> Result<Stat, Errno>;
    fn statfs(&self) -> Statfs;
}

/// [`Namespace`] for a model, by its own methods of the same names.
macro_rules! namespace_of {
    ($model:ty) => {
        impl Namespace for $model {
            fn lookup(&mut self, parent: u64, name: &[u8]) -> Result<Stat, Errno> {
                <$model>::lookup(self, parent, name)
            }
            fn stat(&self, nodeid: u64) -> Result<Stat, Errno> {
                <$model>::stat(self, nodeid)
            }
            fn open(&self, nodeid: u64, dir: bool) -> Result<(), Errno> {
                <$model>::open(self, nodeid, dir)
            }
            fn readdir(
                &mut self,
                dir: u64,
                after: u64,
            ) -> Result<impl Iterator<Item = Dirent<'_>> + '_, Errno> {
                <$model>::readdir(self, dir, after)
            }
            fn create(
                &mut self,
                parent: u64,
                name: &[u8],
                mode: u32,
                uid: u32,
                gid: u32,
                dir: bool,
            ) -> Result<Stat, Errno> {
                <$model>::create(self, parent, name, mode, uid, gid, dir)
            }
            fn statfs(&self) -> Statfs {
                <$model>::statfs(self)
            }
        }
    };
}

namespace_of!(fuse_iomap_server::diskfs::Fs);
namespace_of!(fuse_iomap_server::famfslog::Fs);
namespace_of!(fuse_iomap_server::ext4::Fs);

/// A file system's server.
pub trait Handler {
    type Fs: Namespace;
    fn fs(&mut self) -> &mut Self::Fs;
    fn channel(&self) -> &Channel;
    fn log(&self) -> &Log;
    /// Regular file `nodeid` was opened or created.
    fn opened(&mut self, _nodeid: u64) {}
    /// The requests that the shared ones are not: `ENOSYS` for what the
    /// file system does not answer.
    fn handle(&mut self, req: &Request) -> Result<Answer, Errno>;
    /// A request was answered (before the reply goes): the place to log
    /// what the model noticed.
    fn answered(&mut self) {}
    /// The server ends: stores what is not stored yet. The exit status.
    fn finish(&mut self) -> i32;
}

/// [`Handler`]'s `Fs`, `fs`, `channel` and `log`, for a server whose
/// fields `fs`, `channel` (a reference) and `log` hold them.
macro_rules! handler_parts {
    ($fs:ty) => {
        type Fs = $fs;

        fn fs(&mut self) -> &mut $fs {
            &mut self.fs
        }

        fn channel(&self) -> &Channel {
            self.channel
        }

        fn log(&self) -> &Log {
            &self.log
        }
    };
}
pub(super) use handler_parts;

/// What an `IOMAP_BEGIN`'s `opflags` ask of a disk-backed mount.
pub struct BeginOp {
    /// A write (`OP_WRITE` or `OP_WRITEBACK`).
    pub writes: bool,
    /// A write that may allocate: not zeroing a hole (`OP_ZERO`),
    /// reporting (`OP_REPORT`), or a write that may only overwrite
    /// (`OP_OVERWRITE_ONLY`).
    pub allocate: bool,
    /// `OP_OVERWRITE_ONLY`: anything but `MAPPED` is `EAGAIN`.
    pub overwrite_only: bool,
}

impl BeginOp {
    pub fn of(opflags: u32) -> Self {
        let op = |bit: u32| opflags & bit != 0;
        let writes = op(FUSE_IOMAP_OP_WRITE) || op(FUSE_IOMAP_OP_WRITEBACK);
        let overwrite_only = op(FUSE_IOMAP_OP_OVERWRITE_ONLY);
        Self {
            writes,
            allocate: writes
                && !op(FUSE_IOMAP_OP_ZERO)
                && !op(FUSE_IOMAP_OP_REPORT)
                && !overwrite_only,
            overwrite_only,
        }
    }
}

/// Serves until `DESTROY`, the connection's end, or SIGTERM; finishes
/// either way. Returns the exit status.
pub fn run(mut h: impl Handler) -> i32 {
    loop {
        if signal::terminated() {
            h.log().line("terminated by a signal");
            return h.finish();
        }
        let req = match h.channel().read() {
            Ok(req) => req,
            Err(Errno::EINTR | Errno::EAGAIN) => continue,
            Err(Errno::ENODEV) => {
                h.log().line("the connection was aborted");
                return h.finish();
            }
            Err(e) => {
                h.log().line(&format!("reading a request: {e}"));
                h.finish();
                return 2;
            }
        };
        let unique = req.header.unique;
        let answer = answer(&mut h, &req);
        h.answered();
        let sent = match answer {
            Ok(Answer::Bytes(b)) => h.channel().reply_bytes(unique, &b),
            Ok(Answer::None) => Ok(()),
            Ok(Answer::Destroy) => {
                let status = h.finish();
                let _ = h.channel().reply_bytes(unique, &[]);
                h.log().line("destroyed: unmounted");
                return status;
            }
            Err(errno) => h.channel().reply_error(unique, errno),
        };
        match sent {
            Ok(()) => {}
            Err(Errno::ENODEV) => {
                h.log().line("the connection was aborted");
                return h.finish();
            }
            // An interrupted request is gone: nothing to do.
            Err(e) => h
                .log()
                .line(&format!("replying to opcode {}: {e}", req.header.opcode)),
        }
    }
}

// The opcodes are bindgen's constants of C's enum, named as C names them.
#[allow(non_upper_case_globals)]
fn answer(h: &mut impl Handler, req: &Request) -> Result<Answer, Errno> {
    let nodeid = req.header.nodeid;
    let args = &req.args[..];
    let (uid, gid) = (req.header.uid, req.header.gid);
    match req.header.opcode {
        fuse_opcode_FUSE_LOOKUP => pod(&reply::entry(&h.fs().lookup(nodeid, name(args)?.0)?)),
        fuse_opcode_FUSE_GETATTR => pod(&reply::attr_out(&h.fs().stat(nodeid)?)),
        fuse_opcode_FUSE_OPEN | fuse_opcode_FUSE_OPENDIR => {
            let dir = req.header.opcode == fuse_opcode_FUSE_OPENDIR;
            h.fs().open(nodeid, dir)?;
            if !dir {
                h.opened(nodeid);
            }
            pod(&fuse_open_out::default())
        }
        fuse_opcode_FUSE_READDIR => {
            let (read, _) = split::<fuse_read_in>(args)?;
            let entries = h.fs().readdir(nodeid, read.offset)?;
            Ok(Answer::Bytes(reply::dirents(entries, read.size as usize)))
        }
        fuse_opcode_FUSE_RELEASE | fuse_opcode_FUSE_RELEASEDIR => empty(),
        fuse_opcode_FUSE_CREATE => {
            let (create, rest) = split::<fuse_create_in>(args)?;
            let mode = create.mode & !create.umask;
            let stat = h
                .fs()
                .create(nodeid, name(rest)?.0, mode, uid, gid, false)?;
            h.opened(stat.nodeid);
            Ok(Answer::Bytes(reply::created(&stat)))
        }
        fuse_opcode_FUSE_MKDIR => {
            let (mkdir, rest) = split::<fuse_mkdir_in>(args)?;
            let mode = mkdir.mode & !mkdir.umask;
            let stat = h.fs().create(nodeid, name(rest)?.0, mode, uid, gid, true)?;
            pod(&reply::entry(&stat))
        }
        fuse_opcode_FUSE_STATFS => pod(&reply::statfs(&h.fs().statfs())),
        fuse_opcode_FUSE_DESTROY => Ok(Answer::Destroy),
        _ => h.handle(req),
    }
}
