// SPDX-License-Identifier: GPL-2.0

//! The namespace requests of the mount: each builds its arguments with the
//! structures of `include/uapi/linux/fuse.h`, waits for the handshake and
//! the reply, and returns the reply checked (`namespace.rs`), or `EIO`.

use super::Connection;
use crate::channel::{bytes_of, read_struct, Payload};
use crate::errno::enotconn;
use crate::famfs_iomap::FamfsResolve;
use crate::fuse_abi::{
    AttrOut, CreateIn, EntryOut, FallocateIn, FsyncIn, GetattrIn, Kstatfs, MkdirIn, OpenIn,
    OpenOut, ReadIn, ReleaseIn, RenameIn, SetattrIn, FUSE_CREATE, FUSE_DESTROY, FUSE_FALLOCATE,
    FUSE_FORGET, FUSE_FSYNC, FUSE_GETATTR, FUSE_LOOKUP, FUSE_MKDIR, FUSE_OPEN, FUSE_OPENDIR,
    FUSE_READDIR, FUSE_RELEASE, FUSE_RELEASEDIR, FUSE_RENAME, FUSE_RMDIR, FUSE_SETATTR,
    FUSE_STATFS, FUSE_UNLINK,
};
use crate::fuse_abi::{ForgetIn, FATTR_SIZE};
use crate::handshake::Features;
use crate::mapping::{Geometry, Invalid};
use crate::namespace::{self, check_attr, check_entry, check_statfs, name_ok, refuse, Entry};
use crate::request::Args;
use kernel::prelude::*;

/// `FUSE_FSYNC_FDATASYNC`.
const FSYNC_FDATASYNC: u32 = 1;

/// The size of a `READDIR` reply the kernel asks for: a page.
const READDIR_SIZE: u32 = 4096;

/// `name`, checked, and its NUL.
fn name_args<'a>(name: &'a [u8]) -> Result<[&'a [u8]; 2]> {
    if !name_ok(name) {
        return Err(EINVAL);
    }
    Ok([name, b"\0"])
}

impl Connection {
    /// Takes the connection for a mount whose famfs files get their DAX
    /// mappings as `famfs_resolve` says: `EBUSY` if it is mounted already,
    /// `ENOTCONN` once its server is gone. Starts the handshake, without
    /// waiting for it: a server may answer `FUSE_INIT` only after its
    /// `mount(2)` returns.
    pub(crate) fn mount(&self, famfs_resolve: FamfsResolve) -> Result {
        {
            let mut state = self.state.lock();
            if state.aborted {
                return Err(enotconn());
            }
            if state.mounted {
                return Err(EBUSY);
            }
            state.mounted = true;
            state.famfs_resolve = famfs_resolve;
        }
        self.channel.start(&self.counters)
    }

    /// The end of the mount: `FUSE_DESTROY`, answered or not, then the end
    /// of the channel, as `fuse_conn_destroy()` does. A connection serves
    /// one mount, and a server that does not stop at `FUSE_DESTROY`
    /// (libfuse's loop reads on) learns from `ENODEV` that it is done.
    pub(crate) fn unmount(&self) {
        if self.channel.features().is_some() {
            // The server may be gone; the mount ends regardless.
            let _ = self.call(FUSE_DESTROY, 0, &[]);
        }
        self.channel.abort();
    }

    /// Where the mount's famfs files get their DAX mappings.
    pub(crate) fn famfs_resolve(&self) -> FamfsResolve {
        self.state.lock().famfs_resolve
    }

    /// The geometry the handshake configured.
    pub(crate) fn geometry(&self) -> Geometry {
        self.state.lock().geo
    }

    /// Sends a namespace request once the handshake is done, and returns
    /// its reply's bytes, of the size its opcode has.
    pub(super) fn ns_call(&self, opcode: u32, nodeid: u64, args: &[&[u8]]) -> Result<KVec<u8>> {
        self.channel.wait_ready()?;
        let args = Args::concat(args)?;
        match self.call(opcode, nodeid, args.as_bytes())? {
            Payload::Data(data) => Ok(data),
            _ => Err(EIO),
        }
    }

    /// Checks an entry reply of `opcode` for directory `parent`.
    fn entry(&self, opcode: u32, parent: u64, out: &EntryOut) -> Result<Entry> {
        check_entry(out, &self.geometry(), opcode == FUSE_LOOKUP)
            .map_err(|why| refuse(opcode, parent, why))
    }

    /// `LOOKUP` of `name` in directory `parent`.
    pub(crate) fn lookup_name(&self, parent: u64, name: &[u8]) -> Result<Entry> {
        let reply = self.ns_call(FUSE_LOOKUP, parent, &name_args(name)?)?;
        self.entry(FUSE_LOOKUP, parent, &read_struct(&reply)?)
    }

    /// Checks an attribute reply of `opcode` for `nodeid`.
    fn attr(&self, opcode: u32, nodeid: u64, reply: &[u8]) -> Result<AttrOut> {
        let out: AttrOut = read_struct(reply)?;
        check_attr(&out.attr, &self.geometry()).map_err(|why| refuse(opcode, nodeid, why))?;
        Ok(out)
    }

    /// `GETATTR` of `nodeid`.
    pub(crate) fn getattr(&self, nodeid: u64) -> Result<AttrOut> {
        let args = GetattrIn::default();
        let reply = self.ns_call(FUSE_GETATTR, nodeid, &[bytes_of(&args)])?;
        self.attr(FUSE_GETATTR, nodeid, &reply)
    }

    /// `SETATTR` of `nodeid`. A new size drops the cached mappings past it.
    pub(crate) fn setattr(&self, nodeid: u64, args: &SetattrIn) -> Result<AttrOut> {
        if args.valid & FATTR_SIZE != 0 {
            self.setsize(nodeid, args.size)?;
        }
        let reply = self.ns_call(FUSE_SETATTR, nodeid, &[bytes_of(args)])?;
        self.attr(FUSE_SETATTR, nodeid, &reply)
    }

    /// `OPEN`, or `OPENDIR` for a directory, with the open `flags`.
    pub(crate) fn open_file(&self, nodeid: u64, dir: bool, flags: u32) -> Result<OpenOut> {
        let opcode = if dir { FUSE_OPENDIR } else { FUSE_OPEN };
        let args = OpenIn {
            flags,
            open_flags: 0,
        };
        read_struct(&self.ns_call(opcode, nodeid, &[bytes_of(&args)])?)
    }

    /// `RELEASE`, or `RELEASEDIR`, of file handle `fh`.
    pub(crate) fn release(&self, nodeid: u64, dir: bool, fh: u64, flags: u32) -> Result {
        let opcode = if dir { FUSE_RELEASEDIR } else { FUSE_RELEASE };
        let args = ReleaseIn {
            fh,
            flags,
            ..ReleaseIn::default()
        };
        self.ns_call(opcode, nodeid, &[bytes_of(&args)]).map(|_| ())
    }

    /// `CREATE` of regular file `name` in `parent`, opened with `flags`.
    pub(crate) fn create(
        &self,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
        flags: u32,
    ) -> Result<(EntryOut, OpenOut)> {
        let args = CreateIn {
            flags,
            mode: Features::create_mode(self.channel.features(), mode, umask),
            umask,
            open_flags: 0,
        };
        let [name, nul] = name_args(name)?;
        let reply = self.ns_call(FUSE_CREATE, parent, &[bytes_of(&args), name, nul])?;
        let (entry, open) = reply.split_at(core::mem::size_of::<EntryOut>().min(reply.len()));
        match self.entry(FUSE_CREATE, parent, &read_struct(entry)?)? {
            Entry::Inode(entry) if !namespace::is_dir(entry.attr.mode) => {
                Ok((entry, read_struct(open)?))
            }
            _ => Err(refuse(FUSE_CREATE, parent, Invalid("not a regular file"))),
        }
    }

    /// `MKDIR` of `name` in `parent`.
    pub(crate) fn mkdir(
        &self,
        parent: u64,
        name: &[u8],
        mode: u32,
        umask: u32,
    ) -> Result<EntryOut> {
        let args = MkdirIn {
            mode: Features::create_mode(self.channel.features(), mode, umask),
            umask,
        };
        let [name, nul] = name_args(name)?;
        let reply = self.ns_call(FUSE_MKDIR, parent, &[bytes_of(&args), name, nul])?;
        match self.entry(FUSE_MKDIR, parent, &read_struct(&reply)?)? {
            Entry::Inode(entry) if namespace::is_dir(entry.attr.mode) => Ok(entry),
            _ => Err(refuse(FUSE_MKDIR, parent, Invalid("not a directory"))),
        }
    }

    /// `UNLINK`, or `RMDIR`, of `name` in `parent`.
    pub(crate) fn remove(&self, parent: u64, name: &[u8], dir: bool) -> Result {
        let opcode = if dir { FUSE_RMDIR } else { FUSE_UNLINK };
        self.ns_call(opcode, parent, &name_args(name)?).map(|_| ())
    }

    /// `RENAME` of `old` in `olddir` to `new` in `newdir`.
    pub(crate) fn rename(&self, olddir: u64, old: &[u8], newdir: u64, new: &[u8]) -> Result {
        let args = RenameIn { newdir };
        let [old, nul] = name_args(old)?;
        let [new, _] = name_args(new)?;
        self.ns_call(FUSE_RENAME, olddir, &[bytes_of(&args), old, nul, new, nul])
            .map(|_| ())
    }

    /// `STATFS`.
    pub(crate) fn statfs(&self, nodeid: u64) -> Result<Kstatfs> {
        let st: Kstatfs = read_struct(&self.ns_call(FUSE_STATFS, nodeid, &[])?)?;
        check_statfs(&st).map_err(|why| refuse(FUSE_STATFS, nodeid, why))?;
        Ok(st)
    }

    /// `FSYNC` of file handle `fh`, after the kernel wrote its data back.
    pub(crate) fn fsync(&self, nodeid: u64, fh: u64, datasync: bool) -> Result {
        let args = FsyncIn {
            fh,
            fsync_flags: if datasync { FSYNC_FDATASYNC } else { 0 },
            padding: 0,
        };
        self.ns_call(FUSE_FSYNC, nodeid, &[bytes_of(&args)])
            .map(|_| ())
    }

    /// `FALLOCATE`: the server changes the mappings of the range, so the
    /// cached ones go first.
    pub(crate) fn fallocate(
        &self,
        nodeid: u64,
        fh: u64,
        offset: u64,
        length: u64,
        mode: u32,
    ) -> Result {
        if let Some(inode) = self.inode(nodeid) {
            inode.drop_range(&self.geometry(), offset, length)?;
        }
        let args = FallocateIn {
            fh,
            offset,
            length,
            mode,
            padding: 0,
        };
        self.ns_call(FUSE_FALLOCATE, nodeid, &[bytes_of(&args)])
            .map(|_| ())
    }

    /// `READDIR` of directory handle `fh` from cookie `offset`: the reply,
    /// whose records [`namespace::Dirents`] checks one by one.
    pub(crate) fn readdir(&self, nodeid: u64, fh: u64, offset: u64) -> Result<KVec<u8>> {
        let args = ReadIn {
            fh,
            offset,
            size: READDIR_SIZE,
            ..ReadIn::default()
        };
        self.ns_call(FUSE_READDIR, nodeid, &[bytes_of(&args)])
    }

    /// The kernel dropped inode `nodeid`, looked up `nlookup` times: sends
    /// `FORGET` and frees its mapping cache.
    pub(crate) fn vfs_forget(&self, nodeid: u64, nlookup: u64) {
        let args = ForgetIn { nlookup };
        // Without a server there is nobody to tell.
        let _ = self
            .channel
            .send(FUSE_FORGET, nodeid, bytes_of(&args), &self.counters);
        let _ = self.forget(nodeid);
    }
}
