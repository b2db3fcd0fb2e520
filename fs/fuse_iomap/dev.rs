// SPDX-License-Identifier: GPL-2.0

//! The Rust side of the device node: registration, and the file operations
//! that `dev_glue.c` forwards here.
//!
//! Each open file owns one pinned, boxed [`Connection`]; the glue keeps the
//! raw pointer in `file->private_data` between `open` and `release`. Every
//! ioctl argument is copied in whole before it is looked at, and answers are
//! copied out after every lock is dropped.

use crate::abi::{
    self, DaxdevOut, IocBegin, IocConfig, IocDevice, IocDump, IocFamfsInfo, IocFmap, IocLookup,
    IocRead, IocResolve, IocValid, IomapBeginIn, IomapBeginOut, IomapInvalMappingsOut, IomapIo,
    IomapUpsertMappingsOut, MappingType, Range,
};
use crate::cache::{Fork, Lookup};
use crate::connection::Connection;
use crate::ioctl::Ioctl;
use crate::iomap_begin::Source;
use core::ffi::c_void;
use kernel::{
    ffi::{c_int, c_long, c_uint, c_ulong},
    ioctl::_IOC_SIZE,
    prelude::*,
    types::{AsBytes, FromBytes},
    uaccess::UserSlice,
};

extern "C" {
    fn fuse_iomap_glue_register() -> c_int;
    fn fuse_iomap_glue_unregister();
    fn fuse_iomap_glue_minor() -> c_int;
}

// SAFETY (for each `FromBytes` and `AsBytes` below): the types are
// `#[repr(C)]` structures of integers, arrays of integers and other such
// structures, without padding (abi.rs checks their sizes); any bit pattern is
// a valid value, and every byte is initialised.
macro_rules! plain_data {
    ($($t:ty),*) => {
        $(
            // SAFETY: See above.
            unsafe impl FromBytes for $t {}
            // SAFETY: See above.
            unsafe impl AsBytes for $t {}
        )*
    };
}

plain_data!(
    IomapIo,
    IomapBeginIn,
    IomapBeginOut,
    Range,
    IomapUpsertMappingsOut,
    IomapInvalMappingsOut,
    IocConfig,
    IocDevice,
    IocLookup,
    IocDump,
    IocBegin,
    IocValid,
    IocFmap,
    IocResolve,
    IocFamfsInfo,
    DaxdevOut,
    IocRead
);

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

/// `open`: creates the connection. Returns it as an opaque pointer, or an
/// `ERR_PTR` when it cannot be allocated.
#[no_mangle]
pub(crate) extern "C" fn fuse_iomap_rs_open() -> *mut c_void {
    match KBox::pin_init(Connection::new(), GFP_KERNEL) {
        // SAFETY: The connection is never moved out of its box: the raw
        // pointer is only turned back into a pinned box, in release.
        Ok(conn) => KBox::into_raw(unsafe { Pin::into_inner_unchecked(conn) }).cast(),
        Err(e) => e.to_ptr(),
    }
}

/// `release`: drops the connection, and with it every inode and cache.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and is not used afterwards.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_release(conn: *mut c_void) {
    // SAFETY: By the safety requirements, `conn` came from `KBox::into_raw`
    // of a pinned box in `fuse_iomap_rs_open`, and ownership returns here
    // exactly once; it is dropped in place, still pinned.
    drop(unsafe { Pin::new_unchecked(KBox::from_raw(conn.cast::<Connection>())) });
}

/// `unlocked_ioctl`: decodes `cmd` and runs it with the user memory at
/// `arg`.
///
/// # Safety
///
/// `conn` was returned by [`fuse_iomap_rs_open`] and not yet released.
#[no_mangle]
pub(crate) unsafe extern "C" fn fuse_iomap_rs_ioctl(
    conn: *mut c_void,
    cmd: c_uint,
    arg: c_ulong,
) -> c_long {
    // SAFETY: By the safety requirements, `conn` points to a live
    // `Connection`; the VFS keeps the file, and so the connection, alive for
    // the whole call.
    let conn = unsafe { &*conn.cast::<Connection>() };
    match ioctl(conn, cmd, arg) {
        Ok(ret) => ret,
        Err(e) => e.to_errno() as c_long,
    }
}

fn fork(raw: u32) -> Result<Fork> {
    match raw {
        abi::FORK_READ => Ok(Fork::Read),
        abi::FORK_WRITE => Ok(Fork::Write),
        _ => Err(EINVAL),
    }
}

fn ioctl(conn: &Connection, cmd: u32, arg: usize) -> Result<c_long> {
    let ioctl = Ioctl::decode(cmd)?;
    let (mut reader, mut writer) = UserSlice::new(arg, _IOC_SIZE(cmd)).reader_writer();
    match ioctl {
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
            let mut reply = KVec::with_capacity(size, GFP_KERNEL)?;
            UserSlice::new(req.fmap as usize, size).read_all(&mut reply, GFP_KERNEL)?;
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
