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
//! For famfs it also holds the daxdev table, read without locks, and the
//! lock its writers take. A daxdev is discovered lazily, when an fmap first
//! names its index: the kernel takes the server's answer given ahead
//! (`FUSE_IOMAP_IOC_FAMFS_DAXDEV`) or asks with `GET_DAXDEV`, without the
//! table lock, then takes the lock, re-checks the slot, opens and claims
//! the device and publishes it. The table's lifetime is guarded apart: famfs
//! reads and discovery hold `famfs_live` for reading, and the teardown that
//! follows the server's close takes it for writing before it releases the
//! devices.

use crate::abi::{
    Counters as CounterSnapshot, DaxdevOut, IocConfig, IocDevice, IomapBeginIn, IomapBeginOut,
    IomapEndIn, IomapInvalMappingsOut, IomapIo, IomapIoendIn, IomapUpsertMappingsOut, OutHeader,
    FUSE_GET_DAXDEV, FUSE_GET_FMAP, FUSE_INIT, FUSE_IOMAP_BEGIN, FUSE_IOMAP_CONFIG, FUSE_IOMAP_END,
    FUSE_IOMAP_IOEND, F_WANT_IOMAP_END, INVAL_TO_EOF, IOEND_ALL, IOEND_SHARED, IOEND_UNWRITTEN,
    NOTIFY_INVAL_MAPPINGS, NOTIFY_UPSERT_MAPPINGS, OP_ALL,
};
use crate::bpf::{self, Answer as BpfAnswer};
use crate::cache::{CacheLimit, Fork, Lookup};
use crate::channel::{bytes_of, Channel, Payload};
use crate::counters::{Counters, Reject};
use crate::dax::Dax;
use crate::daxdev::DaxdevTable;
use crate::devices::DeviceTable;
use crate::errno::{efscorrupted, enotconn, eopnotsupp};
use crate::famfs::FamfsFile;
use crate::fmap::{Fmap, Resolved, MAX_DAXDEVS};
use crate::handshake::{self, Features};
use crate::inode::Inode;
use crate::iomap_begin::{self, Answer, Resolver};
use crate::mapping::Geometry;
use crate::ratelimit::pr_warn_ratelimited;
use crate::request::{parse_header, reply_size_ok, Caller, Message, Target};
use crate::rwsem::{Class, RwSem};
use core::mem::size_of;
use kernel::{
    bindings, current, new_mutex,
    prelude::*,
    rbtree::RBTree,
    str::CStr,
    sync::{Arc, Mutex},
    uaccess::{UserSlice, UserSliceReader, UserSliceWriter},
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
    /// The server's `GET_DAXDEV` answers given ahead: NUL-terminated
    /// paths, by index.
    daxdev_names: [Option<KVec<u8>>; MAX_DAXDEVS as usize],
    /// The server closed its file: no inode may be created any more.
    aborted: bool,
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
    daxdevs: DaxdevTable<KBox<Dax>>,
    #[pin]
    daxdev_writer: Mutex<()>,
    /// Whether the daxdev table may be used: false once torn down.
    #[pin]
    famfs_live: RwSem<bool>,
    /// The BPF table a server attached.
    #[pin]
    bpf: bpf::Slot,
}

impl Connection {
    /// A connection with the default geometry and cache limit, no devices
    /// and no inodes; `famfs_allowed` if its server had `CAP_SYS_RAWIO`.
    pub(crate) fn new(famfs_allowed: bool) -> impl PinInit<Self> {
        pin_init!(Self {
            state <- new_mutex!(State {
                geo: Geometry::DEFAULT,
                limit: CacheLimit::DEFAULT,
                devices: DeviceTable::new(),
                inodes: RBTree::new(),
                ninodes: 0,
                daxdev_names: core::array::from_fn(|_| None),
                aborted: false,
            }),
            channel <- Channel::new(famfs_allowed),
            counters: Counters::new(),
            daxdevs: DaxdevTable::new(),
            daxdev_writer <- new_mutex!(()),
            famfs_live <- RwSem::new(true, Class::Daxdevs),
            bpf <- bpf::Slot::new(),
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

    /// Records the server's `GET_DAXDEV` answer for an index, given ahead.
    pub(crate) fn daxdev_answer(&self, answer: &DaxdevOut) -> Result {
        let name = daxdev_path(answer)?;
        self.state.lock().daxdev_names[usize::from(answer.index)] = Some(name);
        Ok(())
    }

    /// `GET_DAXDEV`: the server's path for daxdev `index`, given ahead or
    /// asked for; `ENOTCONN` when no famfs server can answer.
    fn get_daxdev(&self, index: u32) -> Result<KVec<u8>> {
        if let Some(name) = &self.state.lock().daxdev_names[index as usize] {
            let mut copy = KVec::with_capacity(name.len(), GFP_KERNEL)?;
            copy.extend_from_slice(name, GFP_KERNEL)?;
            return Ok(copy);
        }
        match self.channel.features() {
            Some(Features { famfs: true, .. }) => {
                match self.call(FUSE_GET_DAXDEV, u64::from(index), &[])? {
                    Payload::Daxdev(name) => Ok(name),
                    _ => Err(EIO),
                }
            }
            _ => Err(enotconn()),
        }
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
            let live = self.famfs_live.read();
            if !*live {
                return Err(enotconn());
            }
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
        let live = self.famfs_live.read();
        if !*live {
            return Err(enotconn());
        }
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
            conn: self,
            nodeid,
            inode: self.inode(nodeid),
        };
        let answer = iomap_begin::iomap_begin(req, &mut resolver, &geo, &devices);
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

    /// Opens inode `nodeid` for a client: a famfs file gets its fmap with
    /// `GET_FMAP` (and its devices with `GET_DAXDEV`).
    pub(crate) fn open(&self, nodeid: u64) -> Result {
        if !self.channel.wait_ready()?.famfs {
            return self.inode_or_create(nodeid).map(|_| ());
        }
        match self.call(FUSE_GET_FMAP, nodeid, &[])? {
            Payload::Fmap(reply) => self.set_fmap(nodeid, &reply),
            _ => Err(EIO),
        }
    }

    /// Sends a request and waits for its answer.
    fn call(&self, opcode: u32, nodeid: u64, args: &[u8]) -> Result<Payload> {
        self.channel.call(opcode, nodeid, args, &self.counters)
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

    /// Whether the handshake gave the connection iomap.
    pub(crate) fn has_iomap(&self) -> bool {
        self.channel.features().is_some_and(|f| f.iomap)
    }

    /// The BPF table a server attached.
    pub(crate) fn bpf(&self) -> &bpf::Slot {
        &self.bpf
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

    /// The counters.
    pub(crate) fn counters(&self) -> CounterSnapshot {
        self.counters.snapshot()
    }

    /// The server's `read(2)` of a request.
    pub(crate) fn server_read(&self, out: &mut UserSliceWriter, nonblock: bool) -> Result<usize> {
        self.channel.read(out, nonblock)
    }

    /// What `poll(2)` on the server's file sees, and where it waits.
    pub(crate) fn poll(&self) -> (bool, bool, *mut bindings::wait_queue_head) {
        let (readable, dead) = self.channel.poll_state();
        (readable, dead, self.channel.poll_queue())
    }

    /// The server's `write(2)` of a reply or a notification, framed as on
    /// `/dev/fuse`. A write the framing refuses changes nothing: the
    /// request it meant to answer keeps waiting.
    pub(crate) fn server_write(&self, mut reader: UserSliceReader) -> Result<usize> {
        let len = reader.len();
        if len < size_of::<OutHeader>() {
            self.counters.reject(Reject::Header);
            return Err(EINVAL);
        }
        let header: OutHeader = reader.read()?;
        let message =
            parse_header(&header, len).inspect_err(|_| self.counters.reject(Reject::Header))?;
        match message {
            Message::Notify { code, size } => self
                .notify(code, size, &mut reader)
                .inspect_err(|_| self.counters.reject(Reject::Notify))?,
            Message::Reply {
                unique,
                error,
                size,
            } => self.reply(unique, error, size, &mut reader)?,
        }
        Ok(len)
    }

    /// A notification: `EINVAL` for an unknown code or a size that is not
    /// its structure's, `EOPNOTSUPP` on a connection without iomap.
    fn notify(&self, code: i32, size: usize, reader: &mut UserSliceReader) -> Result {
        if self.channel.features().is_some_and(|f| !f.iomap) {
            return Err(eopnotsupp());
        }
        match code {
            NOTIFY_UPSERT_MAPPINGS if size == size_of::<IomapUpsertMappingsOut>() => {
                self.upsert(&reader.read()?)
            }
            NOTIFY_INVAL_MAPPINGS if size == size_of::<IomapInvalMappingsOut>() => {
                self.inval(&reader.read()?)
            }
            _ => {
                pr_warn_ratelimited!("notification {} of {} bytes refused\n", code, size);
                Err(EINVAL)
            }
        }
    }

    /// A reply to request `unique`: `ENOENT` if no such request was sent,
    /// `EINVAL` for a size that is not its reply's.
    fn reply(
        &self,
        unique: u64,
        error: Option<i32>,
        size: usize,
        reader: &mut UserSliceReader,
    ) -> Result {
        let target = self
            .channel
            .target(unique)
            .inspect_err(|_| self.counters.reject(Reject::Unique))?;
        let answer = match error {
            Some(errno) => Err(Error::from_errno(errno)),
            None if !reply_size_ok(target.opcode, size) => {
                self.counters.reject(Reject::Size);
                pr_warn_ratelimited!(
                    "reply of {} bytes to opcode {} refused\n",
                    size,
                    target.opcode
                );
                return Err(EINVAL);
            }
            None => self.read_reply(&target, size, reader)?,
        };
        match target.caller {
            Caller::Waiting => self.channel.answer(unique, answer),
            Caller::Handshake => self.channel.handshake_reply(
                unique,
                answer,
                |out| {
                    let (geo, limit) = handshake::config_reply(out)?;
                    self.configure(geo, limit)
                },
                &self.counters,
            ),
        }
    }

    /// Reads the reply to `target`, of a size already checked. The outer
    /// error is the writer's (the reply could not be read); the inner one
    /// is the caller's answer: a `GET_DAXDEV` path the server may not use.
    fn read_reply(
        &self,
        target: &Target,
        size: usize,
        reader: &mut UserSliceReader,
    ) -> Result<Result<Payload>> {
        Ok(Ok(match target.opcode {
            FUSE_INIT => Payload::Init(reader.read()?),
            FUSE_IOMAP_CONFIG => Payload::Config(reader.read()?),
            FUSE_IOMAP_BEGIN => Payload::Begin(reader.read()?),
            FUSE_IOMAP_IOEND => Payload::Ioend(reader.read()?),
            FUSE_GET_FMAP => {
                let mut fmap = KVec::from_elem(0u8, size, GFP_KERNEL)?;
                reader.read_slice(&mut fmap)?;
                Payload::Fmap(fmap)
            }
            FUSE_GET_DAXDEV => {
                let out: DaxdevOut = reader.read()?;
                let path = if u64::from(out.index) == target.nodeid {
                    daxdev_path(&out)
                } else {
                    Err(EINVAL)
                };
                return Ok(path.map(Payload::Daxdev).inspect_err(|e| {
                    self.counters.reject(Reject::Daxdev);
                    pr_warn_ratelimited!(
                        "famfs: GET_DAXDEV reply for index {} refused: {:?}\n",
                        target.nodeid,
                        e
                    );
                }));
            }
            _ => Payload::Empty,
        }))
    }

    /// Tears the connection down after the server closed its file: fails
    /// every request, frees every inode and cache, and releases every
    /// device claim once the famfs readers are out.
    pub(crate) fn abort(&self) {
        self.channel.abort();
        let inodes = {
            let mut state = self.state.lock();
            state.aborted = true;
            state.ninodes = 0;
            state.daxdev_names = core::array::from_fn(|_| None);
            core::mem::take(&mut state.inodes)
        };
        drop(inodes);
        let mut live = self.famfs_live.write();
        *live = false;
        let _writer = self.daxdev_writer.lock();
        // SAFETY: Readers and discovery hold `famfs_live` for reading, and
        // `publish` is also under the writer lock: both are held here.
        unsafe { self.daxdevs.clear() };
    }
}

/// The NUL-terminated path of a `GET_DAXDEV` answer, checked: `EINVAL` for
/// an index of 24 or more, nonzero reserved fields or a name without its
/// NUL; `ENOTBLK` or `EACCES` (and the like) for a path that is no block
/// device the calling server may read.
fn daxdev_path(answer: &DaxdevOut) -> Result<KVec<u8>> {
    let len = answer.name.iter().position(|&b| b == 0).ok_or(EINVAL)?;
    if u32::from(answer.index) >= MAX_DAXDEVS
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
    Ok(name)
}

/// What `iomap_begin` consults beyond an inode's cache: the server's BPF
/// program, and the server through the channel.
struct ConnectionResolver<'a> {
    conn: &'a Connection,
    nodeid: u64,
    inode: Option<Arc<Inode>>,
}

impl ConnectionResolver<'_> {
    /// The server, or its program, may have made the inode's cache while it
    /// answered.
    fn refresh_inode(&mut self) {
        if self.inode.is_none() {
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
