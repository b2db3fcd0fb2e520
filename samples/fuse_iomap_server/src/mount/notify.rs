// SPDX-License-Identifier: GPL-2.0

//! The kernel's mapping cache, as the disk-backed mounts (`mount disk`,
//! `mount ext4`) keep it: a model's [`Mapping`] in its wire form,
//! upserted ahead of need, and invalidated where the mappings changed.

use super::log::Log;
use bytemuck::Pod;
use fuse_iomap_server::channel::Channel;
use fuse_iomap_server::disk;
use fuse_iomap_server::diskfs::{MapKind, Mapping, BLOCK};
use fuse_iomap_server::uapi::*;

/// `FUSE_IOMAP_INVAL_TO_EOF`, `~0ULL`, which bindgen types as an int.
pub const TO_EOF: u64 = FUSE_IOMAP_INVAL_TO_EOF as u64;

/// Mapping `m`, on the device of cookie `dev`, as `IOMAP_BEGIN` answers it.
pub fn io(m: &Mapping, dev: u32) -> fuse_iomap_io {
    let (type_, addr, dev) = match m.kind {
        MapKind::Hole => (FUSE_IOMAP_TYPE_HOLE, FUSE_IOMAP_NULL_ADDR as u64, 0),
        MapKind::Mapped => (FUSE_IOMAP_TYPE_MAPPED, m.addr, dev),
        MapKind::Unwritten => (FUSE_IOMAP_TYPE_UNWRITTEN, m.addr, dev),
    };
    fuse_iomap_io {
        offset: m.offset,
        length: m.length,
        addr,
        type_: type_ as u16,
        flags: if m.new { FUSE_IOMAP_F_NEW as u16 } else { 0 },
        dev,
    }
}

/// Sends a notification; a refused one is logged, not fatal.
pub fn notify<T: Pod>(channel: &Channel, log: &Log, code: u32, payload: &T) {
    if let Err(e) = channel.notify(code, payload) {
        log.line(&format!("notification {code}: {e}"));
    }
}

/// Puts `read` of file `nodeid` in the cache (its write fork `NOCACHE`).
pub fn upsert(channel: &Channel, log: &Log, nodeid: u64, read: fuse_iomap_io) {
    let out = disk::upsert(nodeid, read);
    notify(channel, log, FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, &out);
}

/// Drops the cached mappings of `nodeid` from byte `offset` for `length`
/// bytes ([`TO_EOF`]: to the end), both forks.
pub fn inval(channel: &Channel, log: &Log, nodeid: u64, offset: u64, length: u64) {
    let start = offset / BLOCK * BLOCK;
    let length = if length == TO_EOF {
        length
    } else {
        (offset + length).div_ceil(BLOCK) * BLOCK - start
    };
    let range = fuse_range {
        offset: start,
        length,
    };
    let out = fuse_iomap_inval_mappings_out {
        nodeid,
        attr_ino: nodeid,
        read: range,
        write: range,
    };
    notify(channel, log, FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS, &out);
}
