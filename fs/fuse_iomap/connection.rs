// SPDX-License-Identifier: GPL-2.0

//! A connection: the state behind one open file of `/dev/fuse-iomap`, the
//! server's, shared with the client handles made from it.
//!
//! It holds what a server configured (geometry, cache limit, devices), the
//! connection's inodes by nodeid, its channel and its counters. Its mutex
//! is held only to find or create an inode and to copy the configuration;
//! an inode's cache is then worked on under the inode's own lock, so that
//! inodes do not contend. The channel's lock may be held while this mutex
//! is taken (to apply `FUSE_IOMAP_CONFIG`), never the other way round.
//!
//! For famfs it also holds the daxdevs ([`Daxdevs`], which owns their
//! publication protocol). A daxdev is discovered lazily, when an fmap first
//! names its index: the kernel takes the server's answer given ahead
//! (`FUSE_IOMAP_IOC_FAMFS_DAXDEV`) or asks with `GET_DAXDEV`. Every famfs
//! path first checks that the connection may have famfs at all
//! ([`Connection::famfs_permitted`]).
//!
//! Its operations are grouped by who drives them: the famfs files
//! (`connection/famfs.rs`), `iomap_begin` and the end of I/O
//! (`connection/iomap.rs`), and the server's writes, parsed beside the
//! channel that they answer (`connection/server_write.rs`). This file holds
//! the state, the inode table, the cache notifications and the teardown.

use crate::abi::{
    Counters as CounterSnapshot, IocBackingMap, IocConfig, IocDevice, IomapInvalMappingsOut,
    IomapIo, IomapUpsertMappingsOut,
};
use crate::backing::BackingFile;
use crate::bpf;
use crate::budget::Budget;
use crate::cache::{CacheLimit, Fork, Lookup};
use crate::channel::{Channel, Payload};
use crate::counters::Counters;
use crate::daxdevs::Daxdevs;
use crate::devices::DeviceTable;
use crate::errno::{enotconn, eopnotsupp};
use crate::famfs_iomap::FamfsResolve;
use crate::handshake::Features;
use crate::inode::Inode;
use crate::mapping::Geometry;
use crate::msgbuf::MsgWriter;
use crate::namespaces::Namespaces;
use core::ffi::c_void;
use kernel::{
    bindings, new_mutex,
    prelude::*,
    rbtree::RBTree,
    sync::{Arc, ArcBorrow, Mutex},
};

mod classic;
mod famfs;
mod iomap;
mod namespace;
mod server_write;

/// The most inodes one connection may hold.
pub(crate) const MAX_INODES: usize = 4096;

struct State {
    geo: Geometry,
    limit: CacheLimit,
    devices: DeviceTable,
    /// The block devices behind the `devices` registered with one.
    backing: KVec<BackingFile>,
    inodes: RBTree<u64, Arc<Inode>>,
    ninodes: usize,
    /// The server closed its file: no inode may be created any more.
    aborted: bool,
    /// A file system is mounted on the connection.
    mounted: bool,
    /// The mount's option: where its famfs files get their DAX mappings.
    famfs_resolve: FamfsResolve,
}

/// The state of one connection, created by the server's `open`, aborted by
/// its `release` and dropped with the last handle.
#[pin_data]
pub(crate) struct Connection {
    #[pin]
    state: Mutex<State>,
    #[pin]
    channel: Channel,
    counters: Counters,
    /// What the caches of all its inodes may pin.
    budget: Arc<Budget>,
    #[pin]
    daxdevs: Daxdevs,
    /// The BPF table a server attached; shared with the BPF registry.
    bpf: Arc<bpf::Slot>,
}

/// The connection that `conn` stands for, as the C glue hands it back: a
/// server file's or client handle's `private_data`, or a mounted
/// superblock's `s_fs_info`.
///
/// # Safety
///
/// `conn` came from [`Arc::into_raw`] of a [`Connection`], and the reference
/// it stands for is held (the file open, the superblock mounted) for as long
/// as the returned borrow lives.
pub(crate) unsafe fn borrow<'a>(conn: *const c_void) -> ArcBorrow<'a, Connection> {
    // SAFETY: By the safety requirements, `conn` is the pointer of a live
    // reference to a `Connection`, held for the whole borrow.
    unsafe { ArcBorrow::from_raw(conn.cast::<Connection>()) }
}

impl Connection {
    /// A connection with the default geometry and cache limit, no devices
    /// and no inodes; `famfs_allowed` if its server had `CAP_SYS_RAWIO`;
    /// its requests name callers in `namespaces`, the server's; its caches
    /// share `budget`; `bpf` is the slot for its BPF table.
    pub(crate) fn new(
        famfs_allowed: bool,
        namespaces: Namespaces,
        budget: Arc<Budget>,
        bpf: Arc<bpf::Slot>,
    ) -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(State {
                geo: Geometry::DEFAULT,
                limit: CacheLimit::DEFAULT,
                devices: DeviceTable::new(),
                backing: KVec::new(),
                inodes: RBTree::new(),
                ninodes: 0,
                aborted: false,
                mounted: false,
                famfs_resolve: FamfsResolve::Fmap,
            }),
            channel <- Channel::new(famfs_allowed, namespaces),
            counters: Counters::new(),
            budget,
            daxdevs <- Daxdevs::new(),
            bpf,
        })
    }

    /// Sets the geometry and cache limit, as `FUSE_IOMAP_CONFIG` does:
    /// `EINVAL` for a bad geometry, `EBUSY` once an inode exists.
    pub(crate) fn config(&self, config: &IocConfig) -> Result {
        let geo = Geometry::new(u64::from(config.blocksize), config.maxbytes)?;
        self.configure(geo, CacheLimit::from_config(config.cache_maxbytes))
    }

    fn configure(&self, geo: Geometry, limit: CacheLimit) -> Result {
        let mut state = self.state.lock();
        if state.ninodes != 0 {
            return Err(EBUSY);
        }
        state.geo = geo;
        state.limit = limit;
        Ok(())
    }

    /// Registers a device cookie.
    pub(crate) fn add_device(&self, dev: &IocDevice) -> Result {
        if dev.reserved != 0 {
            return Err(EINVAL);
        }
        self.state.lock().devices.add(dev.dev, dev.size)
    }

    /// Registers the block device open at the server's `fd` for the
    /// mount's I/O, as `FUSE_IOMAP_IOC_BACKING_OPEN` does, and returns its
    /// cookie. `EPERM` without `CAP_SYS_RAWIO`: the server then points the
    /// kernel's I/O at any block of the device.
    pub(crate) fn backing_open(&self, map: &IocBackingMap) -> Result<u32> {
        if map.flags != 0 || map.padding != 0 {
            return Err(EINVAL);
        }
        if !crate::backing::capable_rawio() {
            return Err(EPERM);
        }
        let (file, bdev, size) = BackingFile::from_fd(map.fd)?;
        let mut state = self.state.lock();
        state.backing.reserve(1, GFP_KERNEL_ACCOUNT)?;
        let cookie = state.devices.add_bdev(size, bdev)?;
        state.backing.push(file, GFP_KERNEL_ACCOUNT)?;
        Ok(cookie)
    }

    /// The inode `nodeid`, if it exists.
    fn inode(&self, nodeid: u64) -> Option<Arc<Inode>> {
        self.state.lock().inodes.get(&nodeid).cloned()
    }

    /// The inode `nodeid`, created on first use; `ENOSPC` past
    /// [`MAX_INODES`], `ENOTCONN` once the server is gone. Also returns the
    /// configuration an inode works with.
    fn inode_or_create(&self, nodeid: u64) -> Result<(Arc<Inode>, Geometry, DeviceTable)> {
        let mut state = self.state.lock();
        if state.aborted {
            return Err(enotconn());
        }
        let inode = match state.inodes.get(&nodeid) {
            Some(inode) => inode.clone(),
            None if state.ninodes >= MAX_INODES => return Err(ENOSPC),
            None => {
                let inode = Arc::pin_init(
                    Inode::new(state.limit, self.budget.clone()),
                    GFP_KERNEL_ACCOUNT,
                )?;
                state
                    .inodes
                    .try_create_and_insert(nodeid, inode.clone(), GFP_KERNEL_ACCOUNT)?;
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

    /// Sends a request and waits for its answer.
    fn call(&self, opcode: u32, nodeid: u64, args: &[u8]) -> Result<Payload> {
        self.channel
            .call(opcode, nodeid, args, KVec::new(), &self.counters)
    }

    /// Sends an iomap request: `ENOTCONN` before the handshake is done,
    /// `EOPNOTSUPP` on a connection without iomap.
    fn iomap_call(&self, opcode: u32, nodeid: u64, args: &[u8]) -> Result<Payload> {
        match self.channel.features() {
            Some(Features { iomap: true, .. }) => self.call(opcode, nodeid, args),
            Some(_) => Err(eopnotsupp()),
            None => Err(enotconn()),
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

    /// Whether the handshake gave the connection iomap.
    pub(crate) fn has_iomap(&self) -> bool {
        self.channel.features().is_some_and(|f| f.iomap)
    }

    /// The slot of the BPF table a server attaches.
    pub(crate) fn bpf(&self) -> Arc<bpf::Slot> {
        self.bpf.clone()
    }

    /// Makes the connection ready for a client handle: starts the
    /// handshake, once.
    pub(crate) fn start_client(&self) -> Result {
        self.channel.start(&self.counters)
    }

    /// Waits until the handshake is done, as client requests do.
    pub(crate) fn wait_ready(&self) -> Result {
        self.channel.wait_ready().map(|_| ())
    }

    /// The counters, and what the caches pin against their budget.
    pub(crate) fn counters(&self) -> CounterSnapshot {
        CounterSnapshot {
            cache_bytes: self.budget.used() as u64,
            cache_budget: self.budget.limit() as u64,
            ..self.counters.snapshot()
        }
    }

    /// The server's `read(2)` of a request.
    pub(crate) fn server_read(&self, out: &mut impl MsgWriter, nonblock: bool) -> Result<usize> {
        self.channel.read(out, nonblock)
    }

    /// What `poll(2)` on the server's file sees, and where it waits.
    pub(crate) fn poll(&self) -> (bool, bool, *mut bindings::wait_queue_head) {
        let (readable, dead) = self.channel.poll_state();
        (readable, dead, self.channel.poll_queue())
    }

    /// Tears the connection down after the server closed its file: fails
    /// every request, frees every inode and cache, and releases every
    /// device claim once the famfs readers are out.
    pub(crate) fn abort(&self) {
        self.channel.abort();
        let mut inodes = {
            let mut state = self.state.lock();
            state.aborted = true;
            state.ninodes = 0;
            core::mem::take(&mut state.inodes)
        };
        // Up to `MAX_INODES` inodes and their caches go: one at a time,
        // letting others run between them.
        while let Some(first) = inodes.cursor_front() {
            drop(first.remove_current().1);
            crate::sched::cond_resched();
        }
        self.daxdevs.teardown();
    }
}

impl bpf::Mappings for Connection {
    fn upsert(&self, msg: &IomapUpsertMappingsOut) -> Result {
        Connection::upsert(self, msg)
    }

    fn inval(&self, msg: &IomapInvalMappingsOut) -> Result {
        Connection::inval(self, msg)
    }
}
