// SPDX-License-Identifier: GPL-2.0

//! Serving `mount ext4`: the requests of the kernel that
//! [`super::dispatch`] leaves to it, mapped to the file system.
//!
//! On a connection without iomap (`--no-iomap`), `FUSE_READ` and
//! `FUSE_WRITE` move the data here, on the device, through the same maps:
//! a read copies mapped blocks and zeroes the rest; a write asks for its
//! blocks as the kernel's `IOMAP_BEGIN` would (allocating unwritten ones
//! in a hole), stores the data, whole blocks for unwritten ones so that no
//! stale bytes surface, and ends as `IOMAP_IOEND` does (converting them,
//! growing the size).
//!
//! Mapped extents go to the kernel's cache ahead of need (see
//! `ext4/extents.rs`): the whole map of a small file when it is opened, and
//! on an `IOMAP_BEGIN` the extents of the tree's leaf from the one asked
//! about. Unwritten extents and holes never do, as in `mount disk`.

use super::dispatch::{self, empty, handler_parts, pod, Answer, BeginOp, Handler};
use super::log::Log;
use super::notify::{self, TO_EOF};
use super::reply::{self, begin_out, split};
use fuse_iomap_server::channel::{Channel, Request};
use fuse_iomap_server::diskfs::{MapKind, Mapping, BLOCK};
use fuse_iomap_server::ext4::Fs;
use fuse_iomap_server::uapi::*;
use nix::errno::Errno;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// The server of a mounted ext4 file system.
pub struct Server<'a> {
    pub channel: &'a Channel,
    pub fs: Fs,
    /// The device cookie of `BACKING_OPEN`.
    pub dev: u32,
    /// Without iomap, the device, read and written here.
    pub classic: Option<File>,
    pub log: Log,
}

impl Handler for Server<'_> {
    handler_parts!(Fs);

    /// A small file's whole map goes to the cache (with iomap).
    fn opened(&mut self, nodeid: u64) {
        if self.classic.is_some() {
            return;
        }
        if let Ok(ahead) = self.fs.ahead(nodeid, None) {
            self.upsert(nodeid, &ahead);
        }
    }

    // The opcodes are bindgen's constants of C's enum, named as C names
    // them.
    #[allow(non_upper_case_globals)]
    fn handle(&mut self, req: &Request) -> Result<Answer, Errno> {
        let nodeid = req.header.nodeid;
        let args = &req.args[..];
        match req.header.opcode {
            // Nothing to drop: inodes live on the device. Never answered.
            fuse_opcode_FUSE_FORGET | fuse_opcode_FUSE_BATCH_FORGET => Ok(Answer::None),
            fuse_opcode_FUSE_SETATTR => self.setattr(nodeid, args),
            fuse_opcode_FUSE_UNLINK
            | fuse_opcode_FUSE_RMDIR
            | fuse_opcode_FUSE_RENAME
            | fuse_opcode_FUSE_RENAME2
            | fuse_opcode_FUSE_LINK
            | fuse_opcode_FUSE_SYMLINK
            | fuse_opcode_FUSE_MKNOD => Err(Errno::EROFS),
            fuse_opcode_FUSE_FSYNC | fuse_opcode_FUSE_FSYNCDIR => {
                self.fs.flush()?;
                empty()
            }
            fuse_opcode_FUSE_FALLOCATE => self.fallocate(nodeid, args),
            FUSE_IOMAP_BEGIN => self.iomap_begin(nodeid, args),
            FUSE_IOMAP_END => empty(),
            FUSE_IOMAP_IOEND => self.iomap_ioend(nodeid, args),
            fuse_opcode_FUSE_READ => self.read(nodeid, args),
            fuse_opcode_FUSE_WRITE => self.write(nodeid, args),
            _ => Err(Errno::ENOSYS),
        }
    }

    /// Logs what the image got wrong.
    fn answered(&mut self) {
        for note in self.fs.take_notes() {
            self.log.line(&note);
        }
    }

    /// With `--rw`, writes what libext2fs holds, the superblock clean.
    fn finish(&mut self) -> i32 {
        let status = match self.fs.unmount() {
            Ok(()) => 0,
            Err(e) => {
                self.log.line(&format!("writing the file system: {e}"));
                1
            }
        };
        self.answered();
        status
    }
}

impl Server<'_> {
    /// Serves until `DESTROY`, the connection's end, or SIGTERM. Returns
    /// the exit status.
    pub fn run(self) -> i32 {
        dispatch::run(self)
    }

    /// Puts the mapped extents `ahead` of file `nodeid` in the cache.
    fn upsert(&self, nodeid: u64, ahead: &[Mapping]) {
        for m in ahead {
            notify::upsert(self.channel, &self.log, nodeid, notify::io(m, self.dev));
        }
    }

    fn iomap_begin(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (b, _) = split::<fuse_iomap_begin_in>(args)?;
        let op = BeginOp::of(b.opflags);
        let m = if op.writes {
            self.fs.map_write(nodeid, b.pos, b.count, op.allocate)?
        } else {
            self.fs.map(nodeid, b.pos, b.count)?
        };
        if op.overwrite_only && m.kind != MapKind::Mapped {
            return Err(Errno::EAGAIN);
        }
        if m.kind == MapKind::Mapped {
            // The answer first, then the rest of its leaf.
            let mut ahead = self
                .fs
                .ahead(nodeid, Some(b.pos / BLOCK))
                .unwrap_or_default();
            ahead.retain(|a| *a != m);
            ahead.insert(0, m);
            self.upsert(nodeid, &ahead);
        }
        pod(&begin_out(notify::io(&m, self.dev)))
    }

    /// `IOMAP_IOEND` of a write: converts what was unwritten, grows the
    /// size; the cache forgets the converted range.
    fn iomap_ioend(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (e, _) = split::<fuse_iomap_ioend_in>(args)?;
        if e.error != 0 {
            return pod(&fuse_iomap_ioend_out {
                newsize: self.fs.stat(nodeid)?.attr.size,
            });
        }
        let unwritten = e.flags & FUSE_IOMAP_IOEND_UNWRITTEN != 0;
        let newsize = self.fs.ioend(nodeid, e.pos, e.written, unwritten)?;
        if unwritten {
            notify::inval(self.channel, &self.log, nodeid, e.pos, e.written);
        }
        pod(&fuse_iomap_ioend_out { newsize })
    }

    /// The device, on a connection without iomap: `EOPNOTSUPP` with one.
    fn device(&self) -> Result<&File, Errno> {
        self.classic.as_ref().ok_or(Errno::EOPNOTSUPP)
    }

    /// `FUSE_READ`: the file's bytes up to its size, zeroes where nothing
    /// is written.
    fn read(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (r, _) = split::<fuse_read_in>(args)?;
        let size = self.fs.stat(nodeid)?.attr.size;
        let end = size.min(r.offset.saturating_add(u64::from(r.size)));
        let mut data = vec![0u8; end.saturating_sub(r.offset) as usize];
        let mut pos = r.offset;
        while pos < end {
            let m = self.fs.map(nodeid, pos, end - pos)?;
            let to = (m.offset + m.length).min(end);
            if to <= pos {
                return Err(Errno::EIO);
            }
            if m.kind == MapKind::Mapped {
                let at = (pos - r.offset) as usize;
                self.device()?
                    .read_exact_at(
                        &mut data[at..at + (to - pos) as usize],
                        m.addr + pos - m.offset,
                    )
                    .map_err(|_| Errno::EIO)?;
            }
            pos = to;
        }
        Ok(Answer::Bytes(data))
    }

    /// `FUSE_WRITE`: stores the data where `IOMAP_BEGIN` of a write would
    /// put it, then ends it as `IOMAP_IOEND` would.
    fn write(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (w, data) = split::<fuse_write_in>(args)?;
        let data = data.get(..w.size as usize).ok_or(Errno::EINVAL)?;
        let end = w
            .offset
            .checked_add(data.len() as u64)
            .ok_or(Errno::EFBIG)?;
        let mut pos = w.offset;
        while pos < end {
            let m = self.fs.map_write(nodeid, pos, end - pos, true)?;
            let to = (m.offset + m.length).min(end);
            if to <= pos || !matches!(m.kind, MapKind::Mapped | MapKind::Unwritten) {
                return Err(Errno::EIO);
            }
            let unwritten = m.kind == MapKind::Unwritten;
            let piece = &data[(pos - w.offset) as usize..(to - w.offset) as usize];
            // Unwritten blocks are converted whole: zeroes around the data.
            let (start, bytes) = if unwritten {
                let start = pos / BLOCK * BLOCK;
                let mut whole = vec![0u8; (to.div_ceil(BLOCK) * BLOCK - start) as usize];
                let at = (pos - start) as usize;
                whole[at..at + piece.len()].copy_from_slice(piece);
                (start, whole)
            } else {
                (pos, piece.to_vec())
            };
            self.device()?
                .write_all_at(&bytes, m.addr + start - m.offset)
                .map_err(|_| Errno::EIO)?;
            self.fs.ioend(nodeid, pos, to - pos, unwritten)?;
            pos = to;
        }
        pod(&fuse_write_out {
            size: w.size,
            ..Default::default()
        })
    }

    fn setattr(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let set = reply::set_attr(args)?;
        let old = self.fs.stat(nodeid)?.attr.size;
        let stat = self.fs.setattr(nodeid, set)?;
        if stat.attr.size < old {
            notify::inval(self.channel, &self.log, nodeid, stat.attr.size, TO_EOF);
        }
        pod(&reply::attr_out(&stat))
    }

    fn fallocate(&mut self, nodeid: u64, args: &[u8]) -> Result<Answer, Errno> {
        let (f, _) = split::<fuse_fallocate_in>(args)?;
        if f.mode & !reply::FALLOC_FL_KEEP_SIZE != 0 {
            return Err(Errno::EOPNOTSUPP);
        }
        let keep = f.mode & reply::FALLOC_FL_KEEP_SIZE != 0;
        self.fs.allocate(nodeid, f.offset, f.length, keep)?;
        notify::inval(self.channel, &self.log, nodeid, f.offset, f.length);
        empty()
    }
}
