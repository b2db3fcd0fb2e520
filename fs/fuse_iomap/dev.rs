// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the device node: registration, and the file operations
//! that `dev_glue.c` forwards here.
//!
//! Each open of the device node makes a [`Connection`]; that file is the
//! server's, and holds a reference to the connection in
//! `file->private_data`. A client handle (an anonymous file made by
//! `FUSE_IOMAP_IOC_CLIENT`) holds another. The server's `release` aborts
//! the connection; the last reference frees it. Every ioctl argument is
//! copied in whole before it is looked at, and answers are copied out after
//! every lock is dropped.

use crate::abi::{
    self, IocBegin, IocDump, IocEnd, IocFamfsInfo, IocFmap, IocIoend, IocLookup, IocRead,
    IocResolve, IocSetsize, IocValid, IomapIo, MappingType,
};
use crate::bpf;
use crate::budget::Budget;
use crate::cache::{Fork, Lookup};
use crate::connection::{borrow, Connection};
use crate::errno::eopnotsupp;
use crate::ioctl::Ioctl;
use crate::iomap_begin::Source;
use crate::iov::{IovReader, IovWriter};
use crate::namespaces::Namespaces;
use core::ffi::c_void;
use kernel::{
    bindings,
    ffi::{c_int, c_long, c_uint, c_ulong},
    ioctl::_IOC_SIZE,
    prelude::*,
    sync::{Arc, ArcBorrow},
    uaccess::UserSlice,
};

extern "C" {
    fn fuse_iomap_glue_register() -> c_int;
    fn fuse_iomap_glue_unregister();
    fn fuse_iomap_glue_minor() -> c_int;
    fn fuse_iomap_glue_client_fd(conn: *const c_void) -> c_int;
    fn fuse_iomap_capable_rawio() -> bool;
    fn fuse_iomap_capable_admin() -> bool;
    fn fuse_iomap_glue_server_of_fd(fd: c_int, filep: *mut *mut c_void) -> *const c_void;
    fn fuse_iomap_glue_fput(file: *mut c_void);
}

/// The largest `GET_FMAP` reply: a page.
const MAX_FMAP_REPLY: usize = 4096;

/// The registered misc device; dropping it removes the device node.
///
/// # Invariants
///
/// The misc device of `dev_glue.c` is registered while this object exists.
pub(crate) struct Registration(());

impl Registration {
    /// Registers `/dev/fuse-iomap`.
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: Called once, from module init; the misc device is static.
        kernel::error::to_result(unsafe { fuse_iomap_glue_register() })?;
        // INVARIANT: misc_register() succeeded just above.
        Ok(Self(()))
    }

    /// The dynamically allocated misc minor number.
    pub(crate) fn minor(&self) -> c_int {
        // SAFETY: Reads a field of the static misc device, registered by the
        // type invariant.
        unsafe { fuse_iomap_glue_minor() }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        // SAFETY: Registered by the type invariant; this is the only place
        // that deregisters it.
        unsafe { fuse_iomap_glue_unregister() };
    }
}

/// Which file an operation came through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    /// The server's: the device node's open file.
    Server,
    /// A client handle.
    Client,
}

/// `open` of the device node: creates a connection, whose reference the
/// server's file keeps. Returns it as an opaque pointer, or an `ERR_PTR`
/// when it cannot be allocated.
#[no_mangle]
pub(crate) extern "C" fn fuse_iomap_rs_open() -> *const c_void {
    // SAFETY: A pure query of the opener's capabilities.
    let famfs_allowed = unsafe { fuse_iomap_capable_rawio() };
    // SAFETY: A pure query of the opener's capabilities.
    let privileged = unsafe { fuse_iomap_capable_admin() };
    let budget = match Arc::new(Budget::for_opener(privileged), GFP_KERNEL_ACCOUNT) {
        Ok(budget) => budget,
        Err(e) => return Error::from(e).to_ptr(),
    };
    let bpf = match Arc::pin_init(bpf::Slot::new(), GFP_KERNEL_ACCOUNT) {
        Ok(bpf) => bpf,
        Err(e) => return e.to_ptr(),
    };
    let namespaces = Namespaces::current();
    match Arc::pin_init(
        Connection::new(famfs_allowed, namespaces, budget, bpf),
        GFP_KERNEL_ACCOUNT,
    ) {
        Ok(conn) => Arc::into_raw(conn).cast(),
        Err(e) => e.to_ptr(),
    }
}

/// `release` of the server's file: aborts the connection (every request
/// fails, every inode and claim goes) and drops the file's reference.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and is not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_release(conn: *const c_void) {
    // SAFETY: By the safety requirements, this is the file's reference,
    // given back exactly once.
    let conn = unsafe { Arc::from_raw(conn.cast::<Connection>()) };
    conn.abort();
}

/// `release` of a client handle: drops its reference.
///
/// # Safety
///
/// `conn` is a client handle's reference, not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_client_release(conn: *const c_void) {
    // SAFETY: By the safety requirements, the handle's reference, given back
    // exactly once.
    drop(unsafe { Arc::from_raw(conn.cast::<Connection>()) });
}

/// `unlocked_ioctl` of the server's file.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_ioctl(
    conn: *const c_void,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    to_ret(ioctl(conn, Side::Server, cmd, arg))
}

/// `unlocked_ioctl` of a client handle.
///
/// # Safety
///
/// `conn` is a client handle's reference, not yet released.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_client_ioctl(
    conn: *const c_void,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    to_ret(ioctl(conn, Side::Client, cmd, arg))
}

/// `read_iter` of the server's file: the next request, into the one or
/// more buffers of `to`.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released; `to`
/// is the file operation's iterator, valid for the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_read(
    conn: *const c_void,
    to: *mut bindings::iov_iter,
    nonblock: bool,
) -> isize {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    // SAFETY: By the safety requirements, used only here.
    let mut out = unsafe { IovWriter::new(to) };
    match conn.server_read(&mut out, nonblock) {
        // A request is at most `request::MAX_IO` bytes and some headers.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `write_iter` of the server's file: a reply or a notification, whole in
/// `from`, which may gather it from several buffers (libfuse's `writev`).
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released;
/// `from` is the file operation's iterator, valid for the call.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_write(
    conn: *const c_void,
    from: *mut bindings::iov_iter,
) -> isize {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    // SAFETY: By the safety requirements, used only here.
    let reader = unsafe { IovReader::new(from) };
    match conn.server_write(reader) {
        // A write is accepted whole, and is at most a header and
        // `request::MAX_IO` bytes.
        Ok(n) => n as isize,
        Err(e) => e.to_errno() as isize,
    }
}

/// `poll` of the server's file: the wait queue to register, and in
/// `state` bit 0 if a request is queued, bit 1 if the connection is dead.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released;
/// `state` is valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_poll(
    conn: *const c_void,
    state: *mut c_int,
) -> *mut bindings::wait_queue_head {
    // SAFETY: By the safety requirements.
    let conn = unsafe { borrow(conn) };
    let (readable, dead, queue) = conn.poll();
    // SAFETY: By the safety requirements.
    unsafe { *state = c_int::from(readable) | c_int::from(dead) << 1 };
    queue
}

/// The connection whose server's file is `fd`; `EBADF` if there is none.
fn connection_of_fd(fd: c_int) -> Result<Arc<Connection>> {
    let mut file = core::ptr::null_mut();
    // SAFETY: `file` is valid for writes.
    let conn = unsafe { fuse_iomap_glue_server_of_fd(fd, &mut file) };
    if conn.is_null() {
        return Err(EBADF);
    }
    // SAFETY: The server's file, held by `file`, holds the reference that
    // `conn` stands for; the borrow is turned into a reference of our own
    // before the file is put.
    let conn = Arc::from(unsafe { borrow(conn) });
    // SAFETY: Got above.
    unsafe { fuse_iomap_glue_fput(file) };
    Ok(conn)
}

/// `reg` of the struct_ops type: attaches table `kdata` to the connection
/// of the server's file `fd`; `EOPNOTSUPP` if it has no iomap.
#[no_mangle]
pub(crate) extern "C" fn fuse_iomap_rs_bpf_reg(kdata: *const c_void, fd: c_int) -> c_int {
    let registered = connection_of_fd(fd).and_then(|conn| {
        if !conn.has_iomap() {
            return Err(eopnotsupp());
        }
        bpf::register(kdata, conn.bpf())
    });
    match registered {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn to_ret(ret: Result<c_long>) -> c_long {
    match ret {
        Ok(ret) => ret,
        Err(e) => e.to_errno() as c_long,
    }
}

/// A new client handle of `conn`: its file descriptor.
fn new_client(conn: ArcBorrow<'_, Connection>) -> Result<c_long> {
    conn.start_client()?;
    let raw = Arc::into_raw(Arc::from(conn));
    // SAFETY: `raw` is a reference the new file takes over; its release
    // gives it back through `fuse_iomap_rs_client_release`.
    let fd = unsafe { fuse_iomap_glue_client_fd(raw.cast()) };
    if fd < 0 {
        // SAFETY: No file was made: the reference is still ours.
        drop(unsafe { Arc::from_raw(raw) });
        return Err(Error::from_errno(fd));
    }
    // A file descriptor, non-negative.
    Ok(fd as c_long)
}

fn fork(raw: u32) -> Result<Fork> {
    match raw {
        abi::FORK_READ => Ok(Fork::Read),
        abi::FORK_WRITE => Ok(Fork::Write),
        _ => Err(EINVAL),
    }
}

fn ioctl(conn: ArcBorrow<'_, Connection>, side: Side, cmd: u32, arg: usize) -> Result<c_long> {
    let ioctl = Ioctl::decode(cmd)?;
    if side == Side::Client {
        if !ioctl.for_client() {
            return Err(ENOTTY);
        }
        if !matches!(ioctl, Ioctl::Version | Ioctl::Counters) {
            conn.wait_ready()?;
        }
    }
    let (mut reader, mut writer) = UserSlice::new(arg, _IOC_SIZE(cmd)).reader_writer();
    match ioctl {
        Ioctl::Client => return new_client(conn),
        Ioctl::Open => conn.open(reader.read()?),
        Ioctl::End => {
            let req: IocEnd = reader.read()?;
            conn.iomap_end(req.nodeid, &req.r#in)
        }
        Ioctl::Ioend => {
            let mut req: IocIoend = reader.read()?;
            req.newsize = conn.ioend(req.nodeid, &req.r#in)?;
            writer.write(&req)
        }
        Ioctl::Setsize => {
            let req: IocSetsize = reader.read()?;
            conn.setsize(req.nodeid, req.size)
        }
        Ioctl::Counters => writer.write(&conn.counters()),
        Ioctl::Valid => {
            let req: IocValid = reader.read()?;
            return Ok(c_long::from(conn.valid(req.nodeid, req.cookie)));
        }
        Ioctl::FamfsRead => {
            let req: IocRead = reader.read()?;
            let n = conn.famfs_read(req.nodeid, req.offset, req.length, req.buf as usize)?;
            // At most MAX_READ (1 GiB) bytes.
            return Ok(n as c_long);
        }
        Ioctl::FamfsDaxdev => conn.daxdev_answer(&reader.read()?),
        Ioctl::Version => writer.write(&abi::ABI_VERSION),
        Ioctl::Config => conn.config(&reader.read()?),
        Ioctl::AddDevice => conn.add_device(&reader.read()?),
        Ioctl::BackingOpen => {
            let cookie = conn.backing_open(&reader.read()?)?;
            return c_long::try_from(cookie).map_err(|_| crate::errno::eoverflow());
        }
        Ioctl::Upsert => conn.upsert(&reader.read()?),
        Ioctl::Inval => conn.inval(&reader.read()?),
        Ioctl::Forget => conn.forget(reader.read()?),
        Ioctl::Lookup => {
            let mut req: IocLookup = reader.read()?;
            (req.result, req.cookie, req.map) =
                match conn.lookup(req.nodeid, fork(req.fork)?, req.offset) {
                    Lookup::Hit(map, cookie) => (abi::LOOKUP_HIT, cookie, map),
                    Lookup::Miss => (abi::LOOKUP_MISS, 0, IomapIo::default()),
                    Lookup::NoFork => (abi::LOOKUP_NOFORK, 0, IomapIo::default()),
                };
            writer.write(&req)
        }
        Ioctl::Dump => {
            let mut req: IocDump = reader.read()?;
            let room = req.count as usize;
            let (records, total) = conn.dump(req.nodeid, fork(req.fork)?, room)?;
            let size = room
                .checked_mul(core::mem::size_of::<IomapIo>())
                .ok_or(EINVAL)?;
            let mut out = UserSlice::new(req.records as usize, size).writer();
            for rec in records.iter() {
                out.write(rec)?;
            }
            // A fork holds at most 65536 records.
            req.count = u32::try_from(total).unwrap_or(u32::MAX);
            writer.write(&req)
        }
        Ioctl::FamfsSetFmap => {
            let req: IocFmap = reader.read()?;
            let size = req.size as usize;
            if req.reserved != 0 || size > MAX_FMAP_REPLY {
                return Err(EINVAL);
            }
            let mut reply = KVec::with_capacity(size, GFP_KERNEL_ACCOUNT)?;
            UserSlice::new(req.fmap as usize, size).read_all(&mut reply, GFP_KERNEL_ACCOUNT)?;
            conn.set_fmap(req.nodeid, &reply)
        }
        Ioctl::FamfsResolve => {
            let mut req: IocResolve = reader.read()?;
            if req.reserved != 0 {
                return Err(EINVAL);
            }
            let r = conn.resolve(req.nodeid, req.offset, req.length)?;
            (req.dev_index, req.dev_offset, req.length) = (r.dev_index, r.dev_offset, r.length);
            writer.write(&req)
        }
        Ioctl::FamfsInfo => {
            let mut req: IocFamfsInfo = reader.read()?;
            if req.reserved != 0 {
                return Err(EINVAL);
            }
            let file = conn.famfs(req.nodeid)?;
            let fmap = file.fmap();
            req.file_size = fmap.file_size();
            req.devices = fmap.devices();
            req.nextents = u32::try_from(fmap.nextents()).unwrap_or(u32::MAX);
            req.ext_type = fmap.ext_type();
            req.file_type = fmap.file_type();
            req.fenced = u8::from(file.fenced());
            writer.write(&req)
        }
        Ioctl::Begin => {
            let mut req: IocBegin = reader.read()?;
            let answer = conn.iomap_begin(req.nodeid, &req.r#in)?;
            let nocache = IomapIo {
                r#type: MappingType::NoCache as u16,
                ..IomapIo::default()
            };
            req.out.read = answer.read;
            req.out.write = answer.write.unwrap_or(nocache);
            req.cookie = answer.cookie;
            req.retries = answer.retries;
            req.source = match answer.source {
                Source::Cache => abi::SOURCE_CACHE,
                Source::Bpf => abi::SOURCE_BPF,
                Source::Upcall => abi::SOURCE_UPCALL,
            };
            writer.write(&req)
        }
    }?;
    Ok(0)
}
