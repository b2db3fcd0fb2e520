// SPDX-License-Identifier: GPL-2.0

//! A connection: the state behind one open file of `/dev/fuse-iomap`.
//!
//! It holds what a server configured (geometry, cache limit, devices) and
//! the connection's inodes by nodeid. Its mutex is held only to find or
//! create an inode and to copy the configuration; an inode's cache is then
//! worked on under the inode's own lock, so that inodes do not contend.
//!
//! For famfs it also holds the daxdev table, read without locks, and the
//! lock its writers take. A daxdev is discovered lazily, when an fmap first
//! names its index: the kernel asks the server for it (`GET_DAXDEV`, here
//! the answers given ahead by `FUSE_IOMAP_IOC_FAMFS_DAXDEV`) without the
//! table lock, then takes the lock, re-checks the slot, opens and claims
//! the device and publishes it.

use crate::abi::{
    DaxdevOut, IocConfig, IocDevice, IomapBeginIn, IomapBeginOut, IomapInvalMappingsOut, IomapIo,
    IomapUpsertMappingsOut, OP_ALL,
};
use crate::cache::{CacheLimit, Fork, Lookup};
use crate::dax::Dax;
use crate::daxdev::DaxdevTable;
use crate::devices::DeviceTable;
use crate::errno::enotconn;
use crate::famfs::FamfsFile;
use crate::fmap::{Fmap, Resolved, MAX_DAXDEVS};
use crate::inode::Inode;
use crate::iomap_begin::{self, Answer, Resolver};
use crate::mapping::Geometry;
use crate::ratelimit::pr_warn_ratelimited;
use kernel::{
    current, new_mutex,
    prelude::*,
    rbtree::RBTree,
    str::CStr,
    sync::{Arc, Mutex},
    uaccess::UserSlice,
};

/// The most bytes one famfs read copies, as `MAX_RW_COUNT` for read(2).
const MAX_READ: u64 = 1 << 30;

/// The most inodes one connection may hold.
pub(crate) const MAX_INODES: usize = 4096;

struct State {
    geo: Geometry,
    limit: CacheLimit,
    devices: DeviceTable,
    inodes: RBTree<u64, Arc<Inode>>,
    ninodes: usize,
    /// The server's `GET_DAXDEV` answers: NUL-terminated paths, by index.
    daxdev_names: [Option<KVec<u8>>; MAX_DAXDEVS as usize],
}

/// The state of one connection, created by `open` and dropped by `release`.
#[pin_data]
pub(crate) struct Connection {
    #[pin]
    state: Mutex<State>,
    daxdevs: DaxdevTable<KBox<Dax>>,
    #[pin]
    daxdev_writer: Mutex<()>,
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
                daxdev_names: core::array::from_fn(|_| None),
            }),
            daxdevs: DaxdevTable::new(),
            daxdev_writer <- new_mutex!(()),
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
                state
                    .inodes
                    .try_create_and_insert(nodeid, inode.clone(), GFP_KERNEL)?;
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

    /// Records the server's `GET_DAXDEV` answer for an index: `EINVAL` for
    /// an index of 24 or more, nonzero reserved fields or a name without
    /// its NUL; `ENOTBLK` or `EACCES` (and the like) for a path that is no
    /// block device the calling server may read.
    pub(crate) fn daxdev_answer(&self, answer: &DaxdevOut) -> Result {
        let index = usize::from(answer.index);
        let len = answer.name.iter().position(|&b| b == 0).ok_or(EINVAL)?;
        if index >= MAX_DAXDEVS as usize
            || answer.reserved != 0
            || answer.reserved2 != 0
            || answer.reserved3 != 0
            || answer.reserved4 != 0
            || len == 0
        {
            return Err(EINVAL);
        }
        let path = CStr::from_bytes_with_nul(&answer.name[..=len]).map_err(|_| EINVAL)?;
        crate::dax::server_may_read(path)?;
        let mut name = KVec::with_capacity(len + 1, GFP_KERNEL)?;
        name.extend_from_slice(&answer.name[..=len], GFP_KERNEL)?;
        self.state.lock().daxdev_names[index] = Some(name);
        Ok(())
    }

    /// `GET_DAXDEV`: the server's path for daxdev `index`; `ENOTCONN` when
    /// no server answers for it.
    fn get_daxdev(&self, index: u32) -> Result<KVec<u8>> {
        let state = self.state.lock();
        let name = state.daxdev_names[index as usize]
            .as_ref()
            .ok_or_else(enotconn)?;
        let mut copy = KVec::with_capacity(name.len(), GFP_KERNEL)?;
        copy.extend_from_slice(name, GFP_KERNEL)?;
        Ok(copy)
    }

    /// Makes sure every daxdev in the bitmap `devices` is published: asks
    /// the server for each missing one, then claims and publishes it. A
    /// device that cannot be claimed is published as failed: reads through
    /// it get `EIO`.
    fn discover_daxdevs(&self, devices: u32) -> Result {
        for index in (0..MAX_DAXDEVS).filter(|i| devices & (1 << i) != 0) {
            if self.daxdevs.is_valid(index) {
                continue;
            }
            let name = self.get_daxdev(index)?;
            let _writer = self.daxdev_writer.lock();
            if self.daxdevs.is_valid(index) {
                continue;
            }
            let path = CStr::from_bytes_with_nul(&name).map_err(|_| EINVAL)?;
            let dev = Dax::open(path)
                .inspect_err(|e| {
                    pr_warn_ratelimited!(
                        "famfs: daxdev {}: {} cannot be claimed: {:?}\n",
                        index,
                        path,
                        e
                    )
                })
                .ok();
            // SAFETY: The writer lock is held.
            unsafe { self.daxdevs.publish(index, dev) }?;
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
        let mut out = UserSlice::new(buf, len as usize).writer();
        let mut done = 0;
        while done < len {
            let r = file
                .resolve(offset + done, len - done)
                .map_err(|r| r.error)?;
            self.daxdevs.with_dev(r.dev_index, |dax| {
                dax.read(r.dev_offset, r.length as usize, &mut out)
            })??;
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
    pub(crate) fn dump(
        &self,
        nodeid: u64,
        fork: Fork,
        max: usize,
    ) -> Result<(KVVec<IomapIo>, usize)> {
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
