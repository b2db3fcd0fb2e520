// SPDX-License-Identifier: GPL-2.0

//! A connection: the state behind one open file of `/dev/fuse-iomap`.
//!
//! It holds what a server configured (geometry, cache limit, devices) and
//! the connection's inodes by nodeid. Its mutex is held only to find or
//! create an inode and to copy the configuration; an inode's cache is then
//! worked on under the inode's own lock, so that inodes do not contend.

use crate::abi::{IocConfig, IocDevice, IomapBeginIn, IomapBeginOut, IomapInvalMappingsOut, IomapIo, IomapUpsertMappingsOut, OP_ALL};
use crate::cache::{CacheLimit, Fork, Lookup};
use crate::devices::DeviceTable;
use crate::errno::enotconn;
use crate::famfs::FamfsFile;
use crate::fmap::{Fmap, Resolved};
use crate::inode::Inode;
use crate::iomap_begin::{self, Answer, Resolver};
use crate::mapping::Geometry;
use kernel::{
    current, new_mutex,
    prelude::*,
    rbtree::RBTree,
    sync::{Arc, Mutex},
};

/// The most inodes one connection may hold.
pub(crate) const MAX_INODES: usize = 4096;

struct State {
    geo: Geometry,
    limit: CacheLimit,
    devices: DeviceTable,
    inodes: RBTree<u64, Arc<Inode>>,
    ninodes: usize,
}

/// The state of one connection, created by `open` and dropped by `release`.
#[pin_data]
pub(crate) struct Connection {
    #[pin]
    state: Mutex<State>,
}

impl Connection {
    /// A connection with the default geometry and cache limit, no devices
    /// and no inodes.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(State {
                geo: Geometry::DEFAULT,
                limit: CacheLimit::DEFAULT,
                devices: DeviceTable::new(),
                inodes: RBTree::new(),
                ninodes: 0,
            }),
        })
    }

    /// Sets the geometry and cache limit, as `FUSE_IOMAP_CONFIG` would:
    /// `EINVAL` for a bad geometry, `EBUSY` once an inode exists.
    pub(crate) fn config(&self, config: &IocConfig) -> Result {
        let geo = Geometry::new(u64::from(config.blocksize), config.maxbytes)?;
        let mut state = self.state.lock();
        if state.ninodes != 0 {
            return Err(EBUSY);
        }
        state.geo = geo;
        state.limit = CacheLimit::from_config(config.cache_maxbytes);
        Ok(())
    }

    /// Registers a device cookie.
    pub(crate) fn add_device(&self, dev: &IocDevice) -> Result {
        if dev.reserved != 0 {
            return Err(EINVAL);
        }
        self.state.lock().devices.add(dev.dev, dev.size)
    }

    /// The inode `nodeid`, if it exists.
    fn inode(&self, nodeid: u64) -> Option<Arc<Inode>> {
        self.state.lock().inodes.get(&nodeid).cloned()
    }

    /// The inode `nodeid`, created on first use; `ENOSPC` past
    /// [`MAX_INODES`]. Also returns the configuration an inode works with.
    fn inode_or_create(&self, nodeid: u64) -> Result<(Arc<Inode>, Geometry, DeviceTable)> {
        let mut state = self.state.lock();
        let inode = match state.inodes.get(&nodeid) {
            Some(inode) => inode.clone(),
            None if state.ninodes >= MAX_INODES => return Err(ENOSPC),
            None => {
                let inode = Arc::pin_init(Inode::new(state.limit), GFP_KERNEL)?;
                state.inodes.try_create_and_insert(nodeid, inode.clone(), GFP_KERNEL)?;
                state.ninodes += 1;
                inode
            }
        };
        Ok((inode, state.geo, state.devices.clone()))
    }

    /// Applies an upsert notification, creating its inode on first use.
    pub(crate) fn upsert(&self, msg: &IomapUpsertMappingsOut) -> Result {
        let (inode, geo, devices) = self.inode_or_create(msg.nodeid)?;
        inode.upsert(msg, &geo, &devices)
    }

    /// Makes inode `nodeid` a famfs file with the fmap of the `GET_FMAP`
    /// reply `reply`; a reply the fmap rules refuse gets their error code
    /// and leaves the inode as it was.
    pub(crate) fn set_fmap(&self, nodeid: u64, reply: &[u8]) -> Result {
        let fmap = Fmap::parse(reply).map_err(|r| {
            pr_warn!("famfs: GET_FMAP reply for nodeid {} refused: {}\n", nodeid, r.reason);
            r.error
        })?;
        let (inode, _, _) = self.inode_or_create(nodeid)?;
        inode.set_famfs(FamfsFile::new(fmap))
    }

    /// The famfs file `nodeid`; `ENOENT` if it has no fmap.
    pub(crate) fn famfs(&self, nodeid: u64) -> Result<Arc<FamfsFile>> {
        self.inode(nodeid).and_then(|i| i.famfs()).ok_or(ENOENT)
    }

    /// Where the `len` bytes at `offset` of famfs file `nodeid` live:
    /// `ENOENT` if it has no fmap, `EIO` if it cannot be resolved (which
    /// fences the file).
    pub(crate) fn resolve(&self, nodeid: u64, offset: u64, len: u64) -> Result<Resolved> {
        self.famfs(nodeid)?.resolve(offset, len).map_err(|r| r.error)
    }

    /// Applies an invalidation notification; nothing to do for an inode
    /// that does not exist.
    pub(crate) fn inval(&self, msg: &IomapInvalMappingsOut) -> Result {
        let geo = self.state.lock().geo;
        match self.inode(msg.nodeid) {
            Some(inode) => inode.inval(msg, &geo),
            None => Ok(()),
        }
    }

    /// Looks `off` up in `fork` of inode `nodeid`; an inode that does not
    /// exist has empty forks, the write fork never used.
    pub(crate) fn lookup(&self, nodeid: u64, fork: Fork, off: u64) -> Lookup {
        match (self.inode(nodeid), fork) {
            (Some(inode), _) => inode.lookup(fork, off),
            (None, Fork::Read) => Lookup::Miss,
            (None, Fork::Write) => Lookup::NoFork,
        }
    }

    /// Up to `max` records of `fork` of inode `nodeid`, and how many the
    /// fork holds.
    pub(crate) fn dump(&self, nodeid: u64, fork: Fork, max: usize) -> Result<(KVVec<IomapIo>, usize)> {
        match self.inode(nodeid) {
            Some(inode) => inode.dump(fork, max),
            None => Ok((KVVec::new(), 0)),
        }
    }

    /// `iomap_begin` for inode `nodeid`: `EINVAL` for unknown op flags.
    pub(crate) fn iomap_begin(&self, nodeid: u64, req: &IomapBeginIn) -> Result<Answer> {
        if req.opflags & !OP_ALL != 0 {
            return Err(EINVAL);
        }
        let (geo, devices) = {
            let state = self.state.lock();
            (state.geo, state.devices.clone())
        };
        let mut resolver = ConnectionResolver {
            inode: self.inode(nodeid),
        };
        iomap_begin::iomap_begin(req, &mut resolver, &geo, &devices)
    }

    /// `iomap_valid` for inode `nodeid`: a cookie of an inode that is gone
    /// is valid only if it is 0.
    pub(crate) fn valid(&self, nodeid: u64, cookie: u64) -> bool {
        match self.inode(nodeid) {
            Some(inode) => inode.valid(cookie),
            None => cookie == 0,
        }
    }

    /// Forgets inode `nodeid`; its cache is freed with the last reference.
    /// `ENOENT` if there is no such inode.
    pub(crate) fn forget(&self, nodeid: u64) -> Result {
        let mut state = self.state.lock();
        state.inodes.remove(&nodeid).ok_or(ENOENT)?;
        state.ninodes -= 1;
        Ok(())
    }
}

/// What `iomap_begin` consults beyond an inode's cache. Until the device
/// channel carries upcalls and BPF programs attach, there is no program
/// (every answer falls back) and no server (an upcall fails).
struct ConnectionResolver {
    inode: Option<Arc<Inode>>,
}

impl Resolver for ConnectionResolver {
    fn cached(&self, opflags: u32, pos: u64) -> Option<Answer> {
        self.inode.as_ref()?.lookup_for_op(opflags, pos)
    }

    fn has_cache(&self) -> bool {
        self.inode.is_some()
    }

    fn bpf(&mut self, _req: &IomapBeginIn) -> Result<Option<IomapBeginOut>> {
        Ok(None)
    }

    fn upcall(&mut self, _req: &IomapBeginIn) -> Result<IomapBeginOut> {
        Err(enotconn())
    }

    fn signal_pending(&self) -> bool {
        current!().signal_pending()
    }
}
