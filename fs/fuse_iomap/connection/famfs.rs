// SPDX-License-Identifier: GPL-2.0

//! The famfs files of a connection: their fmaps (`GET_FMAP` at open, or
//! given ahead), the daxdevs they name (`GET_DAXDEV`, or given ahead,
//! resolved in the server's task to a device number), and reads. Every path
//! in checks [`Connection::famfs_permitted`] first.

use super::Connection;
use crate::abi::{DaxdevOut, FUSE_GET_DAXDEV, FUSE_GET_FMAP, OP_WRITE};
use crate::channel::Payload;
use crate::counters::Reject;
use crate::dax::{self, Dax};
use crate::daxdev_name::{self, DaxdevName};
use crate::errno::{ehwpoison, enotconn, eopnotsupp};
use crate::famfs::{DaxExtent, DaxMapping, FamfsFile};
use crate::famfs_iomap::FamfsResolve;
use crate::fmap::{Fmap, Resolved, MAX_DAXDEVS};
use crate::handshake::Features;
use crate::ratelimit::pr_warn_ratelimited;
use kernel::{prelude::*, str::CStr, sync::Arc};

/// The most bytes one famfs read copies, as `MAX_RW_COUNT` for read(2).
const MAX_READ: u64 = 1 << 30;

impl Connection {
    /// Makes inode `nodeid` a famfs file with the fmap of the `GET_FMAP`
    /// reply `reply`; a reply the fmap rules refuse gets their error code
    /// and leaves the inode as it was.
    pub(crate) fn set_fmap(&self, nodeid: u64, reply: &[u8]) -> Result {
        self.famfs_permitted()?;
        let fmap = Fmap::parse(reply).map_err(|r| {
            self.counters.reject(Reject::Fmap);
            pr_warn_ratelimited!(
                "famfs: GET_FMAP reply for nodeid {} refused: {}\n",
                nodeid,
                r.reason
            );
            r.error
        })?;
        self.discover_daxdevs(fmap.devices())?;
        let (inode, _, _) = self.inode_or_create(nodeid)?;
        inode.set_famfs(FamfsFile::new(fmap))
    }

    /// Whether the connection may have famfs: `EPERM` unless its server
    /// had `CAP_SYS_RAWIO` when it opened the device and, once the
    /// handshake is done, negotiated `FUSE_DAX_FMAP`; `ENOTCONN` once the
    /// channel failed.
    pub(crate) fn famfs_permitted(&self) -> Result {
        self.channel.famfs_permitted()
    }

    /// Records the server's `GET_DAXDEV` answer for an index, given ahead:
    /// a device number, or a path resolved to one here, in the server's
    /// task.
    pub(crate) fn daxdev_answer(&self, answer: &DaxdevOut) -> Result {
        self.famfs_permitted()?;
        let dev = daxdev_dev(answer)?;
        self.daxdevs.answer(u32::from(answer.index), dev)
    }

    /// `GET_DAXDEV`: the server's device number for daxdev `index`, given
    /// ahead or asked for; `ENOTCONN` when no famfs server can answer (no
    /// handshake yet, or one that left famfs out).
    fn get_daxdev(&self, index: u32) -> Result<u32> {
        if let Some(dev) = self.daxdevs.answered(index) {
            return Ok(dev);
        }
        match self.channel.features() {
            Some(Features { famfs: true, .. }) => {
                match self.call(FUSE_GET_DAXDEV, u64::from(index), &[])? {
                    Payload::Daxdev(dev) => Ok(dev),
                    _ => Err(EIO),
                }
            }
            _ => Err(enotconn()),
        }
    }

    /// Makes sure every daxdev in the bitmap `devices` is published: asks
    /// the server for each missing one, then claims and publishes it.
    fn discover_daxdevs(&self, devices: u32) -> Result {
        for index in (0..MAX_DAXDEVS).filter(|i| devices & (1 << i) != 0) {
            if self.daxdevs.is_published(index) {
                continue;
            }
            let dev = self.get_daxdev(index)?;
            self.daxdevs.publish(index, dev)?;
        }
        Ok(())
    }

    /// Reads famfs file `nodeid` from `offset` into the user buffer `buf`
    /// of `len` bytes, extent by extent, chunk by chunk, through the DAX
    /// path. Returns the bytes read: fewer at the end of the file, 0 past
    /// it.
    pub(crate) fn famfs_read(&self, nodeid: u64, offset: u64, len: u64, buf: usize) -> Result<u64> {
        let file = self.famfs(nodeid)?;
        let size = file.fmap().file_size();
        if offset >= size {
            return Ok(0);
        }
        let len = len.min(size - offset).min(MAX_READ);
        let mut done = 0;
        while done < len {
            let r = file
                .resolve(offset + done, len - done)
                .map_err(|r| r.error)?;
            // No lock is held across the copy: see `daxdevs.rs`.
            let dax = self.daxdevs.get(r.dev_index)?;
            // `done` is below `len`, at most `MAX_READ`, which fits.
            dax.read(r.dev_offset, r.length as usize, buf + done as usize)?;
            done += r.length;
        }
        Ok(done)
    }

    /// The famfs file `nodeid`; `ENOENT` if it has no fmap.
    pub(crate) fn famfs(&self, nodeid: u64) -> Result<Arc<FamfsFile>> {
        self.inode(nodeid).and_then(|i| i.famfs()).ok_or(ENOENT)
    }

    /// Where the `len` bytes at `offset` of famfs file `nodeid` live:
    /// `ENOENT` if it has no fmap, `EIO` if it cannot be resolved (which
    /// fences the file).
    pub(crate) fn resolve(&self, nodeid: u64, offset: u64, len: u64) -> Result<Resolved> {
        self.famfs(nodeid)?
            .resolve(offset, len)
            .map_err(|r| r.error)
    }

    /// Whether the connection's regular files are famfs files: its
    /// handshake kept `FUSE_DAX_FMAP`.
    pub(crate) fn is_famfs(&self) -> bool {
        matches!(self.channel.features(), Some(Features { famfs: true, .. }))
    }

    /// What the DAX library's `len` bytes at `pos` of famfs file `nodeid`
    /// are for an operation with `opflags`, from the file's fmap or, on a
    /// `famfs_resolve=iomap` mount, from `iomap_begin`: a hole (past the end
    /// of the fmap, see [`FamfsFile::map`]), or device bytes with a
    /// reference on their device that lasts until its `iomap_end`. `EIO`
    /// for a file without fmap or fenced, `EHWPOISON` once a memory failure
    /// hit the device, `ENOSPC` for a write past the allocation.
    pub(crate) fn famfs_map(
        &self,
        nodeid: u64,
        pos: u64,
        len: u64,
        opflags: u32,
    ) -> Result<DaxMapping> {
        // One look at the state for both: this runs on every fault.
        let (inode, resolve) = {
            let state = self.state.lock();
            (state.inodes.get(&nodeid).cloned(), state.famfs_resolve)
        };
        let file = inode.and_then(|i| i.famfs()).ok_or(EIO)?;
        let extent = match resolve {
            FamfsResolve::Fmap => file
                .map(pos, len, opflags & OP_WRITE != 0)
                .map_err(|r| r.error)?,
            FamfsResolve::Iomap => self.famfs_iomap(nodeid, pos, len, opflags)?,
        };
        let r = match extent {
            DaxExtent::Hole(length) => return Ok(DaxMapping::Hole(length)),
            DaxExtent::Mapped(r) => r,
        };
        let dax = self.daxdevs.get(r.dev_index)?;
        if dax.poisoned() {
            return Err(ehwpoison());
        }
        Ok(DaxMapping::Mapped(r, dax))
    }

    /// The devices of famfs file `nodeid`, each with a reference, in index
    /// order: what writeback flushes through and `MAP_SYNC` asks about.
    pub(crate) fn famfs_devices(&self, nodeid: u64) -> Result<KVec<Arc<Dax>>> {
        let devices = self.famfs(nodeid).map_err(|_| EIO)?.fmap().devices();
        let mut out = KVec::new();
        for index in (0..MAX_DAXDEVS).filter(|i| devices & (1 << i) != 0) {
            out.push(self.daxdevs.get(index)?, GFP_KERNEL)?;
        }
        Ok(out)
    }

    /// Opens inode `nodeid` for a client: a famfs file gets its fmap with
    /// `GET_FMAP` (and its devices with `GET_DAXDEV`). On a
    /// `famfs_resolve=iomap` mount whose server left iomap out, there is
    /// nothing to resolve with: `EOPNOTSUPP`.
    pub(crate) fn open(&self, nodeid: u64) -> Result {
        let features = self.channel.wait_ready()?;
        if !features.famfs {
            return self.inode_or_create(nodeid).map(|_| ());
        }
        if self.famfs_resolve() == FamfsResolve::Iomap && !features.iomap {
            pr_warn_ratelimited!(
                "famfs: famfs_resolve=iomap, but the server's handshake has no FUSE_IOMAP\n"
            );
            return Err(eopnotsupp());
        }
        match self.call(FUSE_GET_FMAP, nodeid, &[])? {
            Payload::Fmap(reply) => self.set_fmap(nodeid, &reply),
            _ => Err(EIO),
        }
    }
}

/// The device number of a `GET_DAXDEV` answer: its number, or its path
/// resolved in the current task, the answering server's. `EINVAL` for an
/// answer that `daxdev_name` refuses; `ENOTBLK` or `EACCES` (and the like)
/// for a path that is no block device the server may read.
pub(super) fn daxdev_dev(answer: &DaxdevOut) -> Result<u32> {
    match daxdev_name::parse(answer)? {
        DaxdevName::Dev(dev) => Ok(dev),
        DaxdevName::Path(path) => {
            dax::resolve_path(CStr::from_bytes_with_nul(path).map_err(|_| EINVAL)?)
        }
    }
}
