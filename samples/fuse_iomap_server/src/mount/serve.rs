// SPDX-License-Identifier: GPL-2.0

//! Serving `mount disk`: the requests of the kernel that
//! [`super::dispatch`] leaves to it, mapped to the model.

use super::dispatch::{self, empty, handler_parts, pod, Answer, BeginOp, Handler};
use super::log::Log;
use super::notify::{self, TO_EOF};
use super::publish::Publisher;
use super::reply::{self, begin_out, name, split, FALLOC_FL_KEEP_SIZE};
use fuse_iomap_server::channel::{Channel, Request};
use fuse_iomap_server::diskfs::store::Store;
use fuse_iomap_server::diskfs::{Fs, MapKind};
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;

const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;

/// The server of a mounted disk file system.
pub struct Server<'a> {
    pub channel: &'a Channel,
    pub fs: Fs,
    pub store: Store,
    /// The device cookie of `BACKING_OPEN`.
    pub dev: u32,
    pub log: Log,
    /// With `--bpf`: what the BPF program answers from.
    pub bpf: Option<Publisher>,
}

impl Handler for Server<'_> {
    handler_parts!(Fs);

    fn opened(&mut self, nodeid: u64) {
        self.bpf_opened(nodeid);
    }

    // The opcodes are bindgen's constants of C's enum, named as C names
    // them.
    #[allow(non_upper_case_globals)]
    fn handle(&mut self, req: &Request) -> Result<Answer, Errno> {
        let nodeid = req.header.nodeid;
        let args = &req.args[..];
        match req.header.opcode {
            // Never answered, not even with an error.
            fuse_opcode_FUSE_FORGET | fuse_opcode_FUSE_BATCH_FORGET => {
                if let Err(e) = self.forget(req.header.opcode, nodeid, args) {
                    self.log.line(&format!("a malformed FORGET: {e}"));
                }
                self.bpf_reaped();
                Ok(Answer::None)
            }
            fuse_opcode_FUSE_SETATTR => self.setattr(nodeid, args),
            fuse_opcode_FUSE_UNLINK | fuse_opcode_FUSE_RMDIR => {
                let dir = req.header.opcode == fuse_opcode_FUSE_RMDIR;
                self.fs.remove(nodeid, name(args)?.0, dir)?;
                self.bpf_reaped();
                empty()
            }
            fuse_opcode_FUSE_RENAME => {
                let (rename, rest) = split::<fuse_rename_in>(args)?;
                self.rename(nodeid, rename.newdir, rest)
            }
            fuse_opcode_FUSE_RENAME2 => {
                let (rename, rest) = split::<fuse_rename2_in>(args)?;
                if rename.flags != 0 {
                    return Err(Errno::EINVAL);
                }
                self.rename(nodeid, rename.newdir, rest)
            }
            fuse_opcode_FUSE_FSYNC | fuse_opcode_FUSE_FSYNCDIR => {
                self.sync()?;
                empty()
            }
            fuse_opcode_FUSE_FALLOCATE => self.fallocate(nodeid, args),
            FUSE_IOMAP_BEGIN => self.iomap_begin(nodeid, args),
            FUSE_IOMAP_END => empty(),
            FUSE_IOMAP_IOEND => self.iomap_ioend(nodeid, args),
            _ => Err(Errno::ENOSYS),
        }
    }

    /// Stores the metadata.
    fn finish(&mut self) -> i32 {
        match self.store.save(&mut self.fs) {
            Ok(()) => 0,
            Err(e) => {
                self.log.line(&format!("storing the metadata: {e}"));
                1
            }
        }
    }
}

impl Server<'_> {
    /// Serves until `DESTROY`, the connection's end, or SIGTERM; stores the
    /// metadata either way. Returns the exit status.
    pub fn run(self) -> i32 {
        dispatch::run(self)
    }

    /// Regular file `nodeid` was opened or created: the BPF program may
    /// answer for it.
    fn bpf_opened(&mut self, nodeid: u64) {
        if let Some(p) = &mut self.bpf {
            p.opened(&self.fs, nodeid, &self.log);
        }
    }

    /// File `nodeid`'s extents may have changed: before the cache is
    /// invalidated, the BPF program's entry is rewritten (see
    /// `publish.rs`).
    fn bpf_changed(&mut self, nodeid: u64) {
        if let Some(p) = &mut self.bpf {
            p.changed(&self.fs, nodeid, &self.log);
        }
    }

    /// Inodes may have been reaped: their entries go.
    fn bpf_reaped(&mut self) {
        if let Some(p) = &mut self.bpf {
            p.reaped(&self.fs, &self.log);
        }
    }

    /// Drops the kernel's cached mappings of `nodeid` (see
    /// [`notify::inval`]).
    fn inval(&self, nodeid: u64, offset: u64, length: u64) {
        notify::inval(self.channel, &self.log, nodeid, offset, length);
    }

    /// `FORGET` of `nodeid`, or `BATCH_FORGET`.
    fn forget(&mut self, opcode: u32, nodeid: u64, args: &[u8]) -> Result<(), Errno> {
        if opcode == fuse_opcode_FUSE_FORGET {
            let (forget, _) = split::<fuse_forget_in>(args)?;
            self.fs.forget(nodeid, forget.nlookup);
            return Ok(());
        }
        let (batch, mut rest) = split::<fuse_batch_forget_in>(args)?;
        for _ in 0..batch.count {
            let (one, more) = split::<fuse_forget_one>(rest)?;
            self.fs.forget(one.nodeid, one.nlookup);
            rest = more;
        }
        Ok(())
    }

    /// Stores the metadata and flushes the device (the kernel's writes of
    /// file data with it).
    fn sync(&mut self) -> Result<(), Errno> {
        self.store.save(&mut self.fs).map_err(|e| {
            self.log.line(&format!("storing the metadata: {e}"));
            e.raw_os_error().map_or(Errno::EIO, Errno::from_raw)
        })
    }

    fn setattr(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let set = reply::set_attr(args)?;
        let old = self.fs.stat(nodeid)?.attr.size;
        let stat = self.fs.setattr(nodeid, set)?;
        self.bpf_changed(nodeid);
        if stat.attr.size < old {
            self.inval(nodeid, stat.attr.size, TO_EOF);
        }
        pod(&reply::attr_out(&stat))
    }

    fn rename(&mut self, parent: u64, newdir: u64, names: &[u8]) -> Result<Answer, Errno> {
        let (old, rest) = name(names)?;
        let (new, _) = name(rest)?;
        self.fs.rename(parent, old, newdir, new)?;
        self.bpf_reaped();
        empty()
    }

    fn fallocate(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (f, _) = split::<fuse_fallocate_in>(args)?;
        match f.mode {
            0 | FALLOC_FL_KEEP_SIZE => {
                let keep = f.mode == FALLOC_FL_KEEP_SIZE;
                self.fs.allocate(nodeid, f.offset, f.length, keep)?;
            }
            m if m == FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE => {
                let zero = self.fs.punch(nodeid, f.offset, f.length)?;
                // The blocks are gone from the model: the entry and the
                // cache follow even if zeroing fails.
                self.bpf_changed(nodeid);
                self.inval(nodeid, f.offset, f.length);
                for (addr, len) in zero {
                    self.store.zero(addr, len).map_err(|e| {
                        self.log.line(&format!("zeroing a punched block: {e}"));
                        Errno::EIO
                    })?;
                }
                return empty();
            }
            _ => return Err(Errno::EOPNOTSUPP),
        }
        self.inval(nodeid, f.offset, f.length);
        empty()
    }

    fn iomap_begin(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (b, _) = split::<fuse_iomap_begin_in>(args)?;
        let op = BeginOp::of(b.opflags);
        let m = self.fs.map(nodeid, b.pos, b.count, op.allocate)?;
        if op.overwrite_only && m.kind != MapKind::Mapped {
            return Err(Errno::EAGAIN);
        }
        let read = notify::io(&m, self.dev);
        if m.kind == MapKind::Mapped {
            notify::upsert(self.channel, &self.log, nodeid, read);
        }
        pod(&begin_out(read))
    }

    fn iomap_ioend(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (e, _) = split::<fuse_iomap_ioend_in>(args)?;
        let newsize = if e.error == 0 {
            let unwritten = e.flags & FUSE_IOMAP_IOEND_UNWRITTEN != 0;
            let size = self.fs.ioend(nodeid, e.pos, e.written, unwritten)?;
            self.bpf_changed(nodeid);
            if unwritten {
                self.inval(nodeid, e.pos, e.written);
            }
            size
        } else {
            self.fs.stat(nodeid)?.attr.size
        };
        pod(&fuse_iomap_ioend_out { newsize })
    }
}
