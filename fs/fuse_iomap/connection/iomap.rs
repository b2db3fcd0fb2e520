// SPDX-License-Identifier: GPL-2.0

//! `iomap_begin`, `iomap_end`, the end of a write's I/O and size changes,
//! for the VFS side of a connection: the cache, then the server's BPF
//! program, then an upcall.

use super::Connection;
use crate::abi::{
    IomapBeginIn, IomapBeginOut, IomapEndIn, IomapIoendIn, FUSE_IOMAP_BEGIN, FUSE_IOMAP_END,
    FUSE_IOMAP_IOEND, F_WANT_IOMAP_END, INVAL_TO_EOF, IOEND_ALL, IOEND_SHARED, IOEND_UNWRITTEN,
    OP_ALL, OP_WRITE,
};
use crate::bpf::Answer as BpfAnswer;
use crate::channel::{bytes_of, Payload};
use crate::counters::Reject;
use crate::devices::DeviceTable;
use crate::errno::efscorrupted;
use crate::famfs::DaxExtent;
use crate::famfs_iomap;
use crate::inode::Inode;
use crate::iomap_begin::{self, Answer, Resolver};
use crate::mapping::{Devices, Geometry};
use crate::ratelimit::pr_warn_ratelimited;
use kernel::{current, prelude::*, sync::Arc};

impl Connection {
    /// `iomap_begin` for inode `nodeid`: `EINVAL` for unknown op flags.
    pub(crate) fn iomap_begin(&self, nodeid: u64, req: &IomapBeginIn) -> Result<Answer> {
        self.iomap_begin_on(nodeid, req).map(|(answer, _)| answer)
    }

    /// [`Self::iomap_begin`], with the device table the answer was checked
    /// against, taken under the same lock as the geometry and the inode:
    /// the VFS places the answer on those very devices.
    pub(crate) fn iomap_begin_on(
        &self,
        nodeid: u64,
        req: &IomapBeginIn,
    ) -> Result<(Answer, DeviceTable)> {
        let (geo, devices, inode) = {
            let state = self.state.lock();
            let inode = state.inodes.get(&nodeid).cloned();
            (state.geo, state.devices.clone(), inode)
        };
        let resolver = ConnectionResolver {
            conn: self,
            nodeid,
            inode,
            cache: true,
        };
        let answer = self.answer(req, resolver, &geo, &devices)?;
        Ok((answer, devices))
    }

    /// `iomap_begin` of famfs file `nodeid` on a `famfs_resolve=iomap`
    /// mount, for the DAX library's `len` bytes at `pos`: the BPF program,
    /// then `FUSE_IOMAP_BEGIN`, with no cache and the daxdevs as devices
    /// (see `famfs_iomap.rs`).
    pub(crate) fn famfs_iomap(
        &self,
        nodeid: u64,
        pos: u64,
        len: u64,
        opflags: u32,
    ) -> Result<DaxExtent> {
        let req = IomapBeginIn {
            opflags,
            reserved: 0,
            attr_ino: nodeid,
            pos,
            count: len,
        };
        let geo = self.state.lock().geo;
        let resolver = ConnectionResolver {
            conn: self,
            nodeid,
            inode: None,
            cache: false,
        };
        let answer = self.answer(&req, resolver, &geo, &self.daxdevs)?;
        famfs_iomap::dax_extent(&answer, pos, opflags & OP_WRITE != 0).map_err(|r| {
            if r.error == EIO {
                self.counters.reject(Reject::Mapping);
                pr_warn_ratelimited!(
                    "famfs: {:?} mapping at pos {} of nodeid {} refused: {}\n",
                    answer.source,
                    pos,
                    nodeid,
                    r.reason
                );
            }
            r.error
        })
    }

    /// Runs `iomap_begin` for `req` through `resolver`, checking answers
    /// against `geo` and `devices`, and counts the outcome: `EINVAL` for
    /// unknown op flags.
    fn answer(
        &self,
        req: &IomapBeginIn,
        mut resolver: ConnectionResolver<'_>,
        geo: &Geometry,
        devices: &impl Devices,
    ) -> Result<Answer> {
        if req.opflags & !OP_ALL != 0 {
            return Err(EINVAL);
        }
        let answer = iomap_begin::iomap_begin(req, &mut resolver, geo, devices);
        match &answer {
            Ok(answer) => self.counters.answered(answer),
            Err(e) => {
                self.counters.missed();
                if *e == efscorrupted() {
                    self.counters.reject(Reject::Mapping);
                }
            }
        }
        answer
    }

    /// `iomap_end` for inode `nodeid`: sends `FUSE_IOMAP_END` if the
    /// mapping asks for it. `EINVAL` for unknown op flags.
    pub(crate) fn iomap_end(&self, nodeid: u64, req: &IomapEndIn) -> Result {
        if req.opflags & !OP_ALL != 0 || req.reserved != 0 {
            return Err(EINVAL);
        }
        if req.map.flags & F_WANT_IOMAP_END == 0 {
            return Ok(());
        }
        match self.bpf.end(self, nodeid, req)? {
            BpfAnswer::Handled(()) => Ok(()),
            BpfAnswer::Fallback => self
                .iomap_call(FUSE_IOMAP_END, nodeid, bytes_of(req))
                .map(|_| ()),
        }
    }

    /// The end of a write's I/O on inode `nodeid`: drops the written range
    /// from the cache when the server will remap it, then sends
    /// `FUSE_IOMAP_IOEND` and returns the server's new file size.
    pub(crate) fn ioend(&self, nodeid: u64, req: &IomapIoendIn) -> Result<u64> {
        if req.flags & !IOEND_ALL != 0 || req.pad != 0 || !(-4095..=0).contains(&req.error) {
            return Err(EINVAL);
        }
        let remapped = req.error != 0 || req.flags & (IOEND_UNWRITTEN | IOEND_SHARED) != 0;
        if remapped && req.written != 0 {
            if let Some(inode) = self.inode(nodeid) {
                let geo = self.state.lock().geo;
                inode.drop_range(&geo, req.pos, req.written)?;
            }
        }
        if let BpfAnswer::Handled(out) = self.bpf.ioend(self, nodeid, req)? {
            return Ok(out.newsize);
        }
        match self.iomap_call(FUSE_IOMAP_IOEND, nodeid, bytes_of(req))? {
            Payload::Ioend(out) => Ok(out.newsize),
            _ => Err(EIO),
        }
    }

    /// Inode `nodeid` was truncated to `size`: its cached mappings from the
    /// block that holds `size` on are dropped.
    pub(crate) fn setsize(&self, nodeid: u64, size: u64) -> Result {
        match self.inode(nodeid) {
            Some(inode) => {
                let geo = self.state.lock().geo;
                inode.drop_range(&geo, size, INVAL_TO_EOF)
            }
            None => Ok(()),
        }
    }

    /// `iomap_valid` for inode `nodeid`: a cookie of an inode that is gone
    /// is valid only if it is 0.
    pub(crate) fn valid(&self, nodeid: u64, cookie: u64) -> bool {
        match self.inode(nodeid) {
            Some(inode) => inode.valid(cookie),
            None => cookie == 0,
        }
    }
}

/// What `iomap_begin` consults beyond an inode's cache: the server's BPF
/// program, and the server through the channel.
struct ConnectionResolver<'a> {
    conn: &'a Connection,
    nodeid: u64,
    inode: Option<Arc<Inode>>,
    /// Whether the inode's cache may answer.
    cache: bool,
}

impl ConnectionResolver<'_> {
    /// The server, or its program, may have made the inode's cache while it
    /// answered.
    fn refresh_inode(&mut self) {
        if self.cache && self.inode.is_none() {
            self.inode = self.conn.inode(self.nodeid);
        }
    }
}

impl Resolver for ConnectionResolver<'_> {
    fn cached(&self, opflags: u32, pos: u64) -> Option<Answer> {
        self.inode.as_ref()?.lookup_for_op(opflags, pos)
    }

    fn has_cache(&self) -> bool {
        self.inode.is_some()
    }

    fn bpf(&mut self, req: &IomapBeginIn) -> Result<Option<IomapBeginOut>> {
        match self.conn.bpf.begin(self.conn, self.nodeid, req)? {
            BpfAnswer::Handled(out) => {
                self.refresh_inode();
                Ok(Some(out))
            }
            BpfAnswer::Fallback => Ok(None),
        }
    }

    fn upcall(&mut self, req: &IomapBeginIn) -> Result<IomapBeginOut> {
        let out = match self
            .conn
            .iomap_call(FUSE_IOMAP_BEGIN, self.nodeid, bytes_of(req))?
        {
            Payload::Begin(out) => out,
            _ => return Err(EIO),
        };
        self.refresh_inode();
        Ok(out)
    }

    fn signal_pending(&self) -> bool {
        current!().signal_pending()
    }
}
