// SPDX-License-Identifier: GPL-2.0

//! The metadata's byte format: little-endian integers, counted lists.
//!
//! In the integers of [`crate::bytes`]. Decoding checks everything a
//! corrupt device could get wrong, and fails with `EUCLEAN`.
//!
//! ```text
//! next_nodeid u64, next_generation u64, count u64, then per inode:
//!   nodeid u64, generation u64, mode u32, uid u32, gid u32, nlink u32,
//!   size u64, atime, mtime, ctime (sec u64, nsec u32), then
//!   a directory: parent u64, next_cookie u64, count u64,
//!                (cookie u64, nodeid u64, name_len u16, name)*
//!   a file:      count u64, (file_block u64, dev_block u64, len u64,
//!                unwritten u8)*
//! ```

use super::alloc::Allocator;
use super::extents::{Extent, ExtentMap};
use super::inode::{Attr, Body, Dir, Inode, S_IFDIR, S_IFMT, S_IFREG};
use super::layout::Layout;
use super::{check_name, Fs, ROOT};
use crate::bytes::{Reader, Writer};
use nix::errno::Errno;
use std::collections::BTreeMap;

/// The metadata of `fs`; orphans (unlinked, still open) are left out, so
/// that loading never sees them.
pub fn encode(fs: &Fs) -> Vec<u8> {
    let mut w = Writer::default();
    w.u64(fs.next_nodeid);
    w.u64(fs.next_generation);
    let live = fs.inodes.iter().filter(|(_, i)| i.attr.nlink > 0);
    w.u64(live.clone().count() as u64);
    for (&nodeid, inode) in live {
        let a = &inode.attr;
        w.u64(nodeid);
        w.u64(a.generation);
        w.u32(a.mode);
        w.u32(a.uid);
        w.u32(a.gid);
        w.u32(a.nlink);
        w.u64(a.size);
        w.time(a.atime);
        w.time(a.mtime);
        w.time(a.ctime);
        match &inode.body {
            Body::Dir(d) => {
                w.u64(d.parent);
                w.u64(d.next_cookie);
                w.u64(d.entries.len() as u64);
                for (&cookie, (name, child)) in &d.entries {
                    w.u64(cookie);
                    w.u64(*child);
                    w.u16(name.len() as u16);
                    w.0.extend_from_slice(name);
                }
            }
            Body::File(f) => {
                w.u64(f.iter().count() as u64);
                for (start, e) in f.iter() {
                    w.u64(start);
                    w.u64(e.dev);
                    w.u64(e.len);
                    w.u8(u8::from(e.unwritten));
                }
            }
        }
    }
    w.0
}

fn decode_inode(r: &mut Reader, layout: Layout, alloc: &mut Allocator) -> Result<Inode, Errno> {
    let generation = r.u64()?;
    let mode = r.u32()?;
    let (uid, gid, nlink, size) = (r.u32()?, r.u32()?, r.u32()?, r.u64()?);
    let (atime, mtime, ctime) = (r.time()?, r.time()?, r.time()?);
    let body = match mode & S_IFMT {
        S_IFDIR => {
            let mut d = Dir::new(r.u64()?);
            d.next_cookie = r.u64()?;
            for _ in 0..r.count(18)? {
                let (cookie, child) = (r.u64()?, r.u64()?);
                let len = usize::from(r.u16()?);
                let name = r.bytes(len)?;
                check_name(name).map_err(|_| Errno::EUCLEAN)?;
                if cookie >= d.next_cookie || d.names.contains_key(name) {
                    return Err(Errno::EUCLEAN);
                }
                d.names.insert(name.to_vec(), cookie);
                d.entries.insert(cookie, (name.to_vec(), child));
            }
            Body::Dir(d)
        }
        S_IFREG => {
            let mut f = ExtentMap::default();
            let mut end = 0;
            for _ in 0..r.count(25)? {
                let (start, dev, len) = (r.u64()?, r.u64()?, r.u64()?);
                let unwritten = match r.u8()? {
                    0 => false,
                    1 => true,
                    _ => return Err(Errno::EUCLEAN),
                };
                // In order, not overlapping, on the data area, once.
                if start < end || dev < layout.meta_blocks {
                    return Err(Errno::EUCLEAN);
                }
                alloc.reserve(dev, len)?;
                end = start.checked_add(len).ok_or(Errno::EUCLEAN)?;
                f.insert(
                    start,
                    Extent {
                        dev,
                        len,
                        unwritten,
                    },
                );
            }
            Body::File(f)
        }
        _ => return Err(Errno::EUCLEAN),
    };
    Ok(Inode {
        attr: Attr {
            generation,
            mode,
            uid,
            gid,
            nlink,
            size,
            atime,
            mtime,
            ctime,
        },
        body,
        lookups: 0,
    })
}

/// Loads the metadata `bytes` of a device laid out as `layout`.
pub fn decode(layout: Layout, bytes: &[u8]) -> Result<Fs, Errno> {
    let mut r = Reader(bytes);
    let next_nodeid = r.u64()?;
    let next_generation = r.u64()?;
    let mut alloc = Allocator::new(layout.meta_blocks, layout.device_blocks);
    let mut inodes = BTreeMap::new();
    for _ in 0..r.count(64)? {
        let nodeid = r.u64()?;
        let inode = decode_inode(&mut r, layout, &mut alloc)?;
        if nodeid == 0 || nodeid >= next_nodeid || inodes.insert(nodeid, inode).is_some() {
            return Err(Errno::EUCLEAN);
        }
    }
    // Every entry names a live inode, and a directory's `..` is the one
    // directory that holds it.
    for (&nodeid, inode) in &inodes {
        if let Body::Dir(d) = &inode.body {
            for (_, child) in d.entries.values() {
                match inodes.get(child).map(|i| &i.body) {
                    Some(Body::Dir(c)) if c.parent == nodeid => {}
                    Some(Body::File(_)) => {}
                    _ => return Err(Errno::EUCLEAN),
                }
            }
        }
    }
    if !inodes.get(&ROOT).is_some_and(Inode::is_dir) || !r.0.is_empty() {
        return Err(Errno::EUCLEAN);
    }
    Ok(Fs {
        layout,
        inodes,
        next_nodeid,
        next_generation,
        alloc,
        dirty: false,
    })
}
