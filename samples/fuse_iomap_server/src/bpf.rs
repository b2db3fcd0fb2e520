// SPDX-License-Identifier: GPL-2.0

//! The sample BPF programs of `samples/bpf/`, through their libbpf-rs
//! skeletons: loaded for the connection of a server's file descriptor,
//! attached and detached, and fed the layouts they answer from.

use libbpf_rs::skel::{OpenSkel, SkelBuilder};
use libbpf_rs::{Link, MapCore, MapFlags, MapMut, OpenObject};
use std::io;
use std::mem::MaybeUninit;
use std::os::fd::RawFd;

mod famfs_skel {
    include!(concat!(env!("OUT_DIR"), "/fuse_iomap_famfs.skel.rs"));
}
mod disk_skel {
    include!(concat!(env!("OUT_DIR"), "/fuse_iomap_disk.skel.rs"));
}
mod diskfs_skel {
    include!(concat!(env!("OUT_DIR"), "/fuse_iomap_diskfs.skel.rs"));
}
mod forbidden_skel {
    include!(concat!(env!("OUT_DIR"), "/fuse_iomap_forbidden.skel.rs"));
}

use disk_skel::{FuseIomapDiskSkel, FuseIomapDiskSkelBuilder};
use diskfs_skel::{FuseIomapDiskfsSkel, FuseIomapDiskfsSkelBuilder};
use famfs_skel::{FuseIomapFamfsSkel, FuseIomapFamfsSkelBuilder};
use forbidden_skel::FuseIomapForbiddenSkelBuilder;

/// `FAMFS_BPF_MAX_STRIPS`.
pub const MAX_STRIPS: usize = 32;

/// The storage a skeleton borrows. A program lives as long as its server
/// (or test) does, so the storage is never given back.
fn object() -> &'static mut MaybeUninit<OpenObject> {
    Box::leak(Box::new(MaybeUninit::uninit()))
}

/// The errno of a failed libbpf call, which libbpf leaves in `errno`.
pub fn last_errno() -> i32 {
    io::Error::last_os_error().raw_os_error().unwrap_or(0)
}

/// A table's name as the struct_ops field holds it.
fn name16(name: &str) -> [i8; 16] {
    let mut out = [0i8; 16];
    for (d, s) in out.iter_mut().zip(name.bytes().take(15)) {
        *d = s as i8;
    }
    out
}

/// A program's struct_ops table: its link while it is attached.
#[derive(Default)]
struct Table(Option<Link>);

impl Table {
    /// Attaches `map`, the table, to the connection its `fuse_fd` names.
    fn attach(&mut self, map: &mut MapMut<'_>) -> libbpf_rs::Result<()> {
        self.0 = Some(map.attach_struct_ops()?);
        Ok(())
    }

    /// Detaches it, once the calls in flight are done.
    fn detach(&mut self) {
        self.0 = None;
    }
}

/// The famfs interleave program (`fuse_iomap_famfs.bpf.c`).
pub struct Famfs {
    skel: FuseIomapFamfsSkel<'static>,
    table: Table,
}

impl Famfs {
    /// Loads the program for the connection of `fuse_fd`.
    pub fn load(fuse_fd: RawFd) -> libbpf_rs::Result<Self> {
        let mut open = FuseIomapFamfsSkelBuilder::default().open(object())?;
        open.struct_ops.famfs_ops_mut().fuse_fd = fuse_fd;
        Ok(Self {
            skel: open.load()?,
            table: Table::default(),
        })
    }

    /// Attaches the table to the connection.
    pub fn attach(&mut self) -> libbpf_rs::Result<()> {
        self.table.attach(&mut self.skel.maps.famfs_ops)
    }

    /// Detaches it, once the calls in flight are done.
    pub fn detach(&mut self) {
        self.table.detach();
    }

    /// Gives the program the layout of striped file `nodeid`: `size` bytes
    /// in chunks of `chunk` over the strips of device `dev`, each at an
    /// offset and of a length in `strips`.
    pub fn set_layout(
        &self,
        nodeid: u64,
        size: u64,
        chunk: u64,
        dev: u32,
        strips: &[(u64, u64)],
    ) -> libbpf_rs::Result<()> {
        if strips.is_empty() || strips.len() > MAX_STRIPS {
            return Err(libbpf_rs::Error::from_raw_os_error(libc_einval()));
        }
        // struct famfs_layout, field by field.
        let mut value = Vec::with_capacity(24 + 16 * MAX_STRIPS);
        value.extend(size.to_ne_bytes());
        value.extend(chunk.to_ne_bytes());
        value.extend((strips.len() as u32).to_ne_bytes());
        value.extend(dev.to_ne_bytes());
        for i in 0..MAX_STRIPS {
            value.extend(strips.get(i).map_or(0, |s| s.0).to_ne_bytes());
        }
        for i in 0..MAX_STRIPS {
            value.extend(strips.get(i).map_or(0, |s| s.1).to_ne_bytes());
        }
        self.skel
            .maps
            .famfs_layouts
            .update(&nodeid.to_ne_bytes(), &value, MapFlags::ANY)
    }
}

fn libc_einval() -> i32 {
    nix::errno::Errno::EINVAL as i32
}

/// How the disk program answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiskAnswer {
    /// With the mapping, which the kernel does not cache.
    Handled,
    /// By upserting the mapping and answering `RETRY_CACHE`.
    Upsert,
}

/// The disk file program (`fuse_iomap_disk.bpf.c`).
pub struct Disk {
    skel: FuseIomapDiskSkel<'static>,
    table: Table,
}

impl Disk {
    /// Loads the program for the connection of `fuse_fd`, its table named
    /// `name`.
    pub fn load(fuse_fd: RawFd, name: &str) -> libbpf_rs::Result<Self> {
        let mut open = FuseIomapDiskSkelBuilder::default().open(object())?;
        let ops = open.struct_ops.disk_ops_mut();
        ops.fuse_fd = fuse_fd;
        ops.name = name16(name);
        Ok(Self {
            skel: open.load()?,
            table: Table::default(),
        })
    }

    /// Attaches the table to the connection.
    pub fn attach(&mut self) -> libbpf_rs::Result<()> {
        self.table.attach(&mut self.skel.maps.disk_ops)
    }

    /// Detaches it, once the calls in flight are done.
    pub fn detach(&mut self) {
        self.table.detach();
    }

    /// Gives the program disk file `nodeid`: `blocks` blocks of
    /// `blocksize` in extents of `extent_blocks`, on device `dev`.
    pub fn set_layout(
        &self,
        nodeid: u64,
        blocks: u64,
        extent_blocks: u64,
        dev: u32,
        blocksize: u32,
        answer: DiskAnswer,
    ) -> libbpf_rs::Result<()> {
        // struct disk_layout, field by field.
        let mut value = Vec::with_capacity(40);
        value.extend(nodeid.to_ne_bytes());
        value.extend(blocks.to_ne_bytes());
        value.extend(extent_blocks.to_ne_bytes());
        value.extend(dev.to_ne_bytes());
        value.extend(blocksize.to_ne_bytes());
        value.extend(u32::from(answer == DiskAnswer::Upsert).to_ne_bytes());
        value.extend(0u32.to_ne_bytes());
        self.skel
            .maps
            .disk_layout
            .update(&0u32.to_ne_bytes(), &value, MapFlags::ANY)
    }
}

/// `DISKFS_BPF_MAX_EXTENTS`.
pub const DISKFS_MAX_EXTENTS: usize = 32;

/// A MAPPED extent of a file of the mounted disk file system, in bytes
/// (`struct diskfs_extent`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DiskFsExtent {
    pub offset: u64,
    pub length: u64,
    pub addr: u64,
}

/// The mounted disk file system's program (`fuse_iomap_diskfs.bpf.c`).
pub struct DiskFs {
    skel: FuseIomapDiskfsSkel<'static>,
    table: Table,
}

impl DiskFs {
    /// Loads the program for the connection of `fuse_fd`.
    pub fn load(fuse_fd: RawFd) -> libbpf_rs::Result<Self> {
        let mut open = FuseIomapDiskfsSkelBuilder::default().open(object())?;
        open.struct_ops.diskfs_ops_mut().fuse_fd = fuse_fd;
        Ok(Self {
            skel: open.load()?,
            table: Table::default(),
        })
    }

    /// Attaches the table to the connection.
    pub fn attach(&mut self) -> libbpf_rs::Result<()> {
        self.table.attach(&mut self.skel.maps.diskfs_ops)
    }

    /// Detaches it, once the calls in flight are done.
    pub fn detach(&mut self) {
        self.table.detach();
    }

    /// Gives the program file `nodeid`'s MAPPED `extents` (sorted, at most
    /// [`DISKFS_MAX_EXTENTS`]) on device `dev`: rewrites its entry in place
    /// under the entry's lock (`BPF_F_LOCK`), or adds it.
    pub fn set_file(
        &self,
        nodeid: u64,
        dev: u32,
        extents: &[DiskFsExtent],
    ) -> libbpf_rs::Result<()> {
        if extents.len() > DISKFS_MAX_EXTENTS {
            return Err(libbpf_rs::Error::from_raw_os_error(libc_einval()));
        }
        // struct diskfs_file, field by field; the lock's word is skipped.
        let mut value = Vec::with_capacity(16 + 24 * DISKFS_MAX_EXTENTS);
        value.extend(0u32.to_ne_bytes());
        value.extend((extents.len() as u32).to_ne_bytes());
        value.extend(dev.to_ne_bytes());
        value.extend(0u32.to_ne_bytes());
        for i in 0..DISKFS_MAX_EXTENTS {
            let e = extents.get(i).copied().unwrap_or_default();
            value.extend(e.offset.to_ne_bytes());
            value.extend(e.length.to_ne_bytes());
            value.extend(e.addr.to_ne_bytes());
        }
        self.skel
            .maps
            .diskfs_files
            .update(&nodeid.to_ne_bytes(), &value, MapFlags::LOCK)
    }

    /// Drops file `nodeid`'s entry.
    pub fn remove_file(&self, nodeid: u64) -> libbpf_rs::Result<()> {
        self.skel.maps.diskfs_files.delete(&nodeid.to_ne_bytes())
    }
}

/// Loads the program that writes where it may not: fails, with the
/// verifier's log, for the connection of `fuse_fd`.
pub fn load_forbidden(fuse_fd: RawFd) -> libbpf_rs::Result<()> {
    let mut open = FuseIomapForbiddenSkelBuilder::default().open(object())?;
    open.struct_ops.forbidden_ops_mut().fuse_fd = fuse_fd;
    open.load().map(|_| ())
}
