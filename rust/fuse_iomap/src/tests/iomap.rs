// SPDX-License-Identifier: GPL-2.0

//! The conversion of `iomap_begin`'s answers into `struct iomap` fields.

use crate::abi::{
    IomapIo, MappingType, F_WANT_IOMAP_END, IOEND_DIRECT, IOEND_SHARED, IOEND_UNWRITTEN, NULL_ADDR,
    OP_DIRECT, OP_WRITE, OP_WRITEBACK,
};
use crate::devices::{Bdev, DeviceTable};
use crate::iomap::*;
use crate::iomap_begin::{Answer, Source};

const BDEV: Bdev = Bdev(0x1000 as *mut core::ffi::c_void);

fn devices() -> DeviceTable {
    let mut t = DeviceTable::new();
    // Cookie 1 has no block device; cookie 2 has one.
    t.add(1, 1 << 30).unwrap();
    assert_eq!(t.add_bdev(1 << 30, BDEV), Ok(2));
    t
}

fn map(ty: MappingType, dev: u32, addr: u64, flags: u16) -> IomapIo {
    IomapIo {
        offset: 8192,
        length: 4096,
        addr,
        r#type: ty as u16,
        flags,
        dev,
    }
}

fn hole() -> IomapIo {
    map(MappingType::Hole, 0, NULL_ADDR, 0)
}

#[test]
fn library_op_flags_are_fuses_up_to_atomic() {
    assert_eq!(opflags(OP_WRITE | OP_DIRECT), OP_WRITE | OP_DIRECT);
    assert_eq!(opflags(1 << 9), 1 << 9);
    assert_eq!(opflags(1 << 10 | 1 << 31), 0);
}

#[test]
fn a_mapped_extent_gets_its_block_device_and_cookie() {
    let m = to_vfs(&map(MappingType::Mapped, 2, 1 << 20, 1), 0, &devices(), 42).unwrap();
    assert_eq!(
        m,
        VfsMap {
            addr: 1 << 20,
            offset: 8192,
            length: 4096,
            r#type: MappingType::Mapped as u16,
            flags: 1,
            dev: 2,
            bdev: BDEV,
            validity_cookie: 42,
        }
    );
    assert_eq!(from_vfs(&m), map(MappingType::Mapped, 2, 1 << 20, 1));
}

#[test]
fn want_iomap_end_travels_as_a_private_flag_and_back() {
    let io = map(MappingType::Mapped, 2, 0, F_WANT_IOMAP_END | 4);
    let m = to_vfs(&io, 0, &devices(), 0).unwrap();
    assert_eq!(m.flags, IOMAP_F_WANT_END | 4);
    assert_eq!(from_vfs(&m), io);
}

#[test]
fn flags_without_a_6_12_meaning_are_dropped() {
    // BOUNDARY, ANON_WRITE, ATOMIC_BIO.
    let m = to_vfs(&map(MappingType::Mapped, 2, 0, 0x70), 0, &devices(), 0).unwrap();
    assert_eq!(m.flags, 0);
}

#[test]
fn storage_needs_a_block_device_and_a_sector_aligned_address() {
    assert!(to_vfs(&map(MappingType::Mapped, 1, 0, 0), 0, &devices(), 0).is_err());
    assert!(to_vfs(&map(MappingType::Unwritten, 3, 0, 0), 0, &devices(), 0).is_err());
    assert!(to_vfs(&map(MappingType::Mapped, 2, 100, 0), 0, &devices(), 0).is_err());
    assert!(to_vfs(&map(MappingType::Mapped, 2, 512, 0), 0, &devices(), 0).is_ok());
}

#[test]
fn inline_mappings_are_refused() {
    let inline = map(MappingType::Inline, 0, NULL_ADDR, 0);
    assert!(to_vfs(&inline, 0, &devices(), 0).is_err());
}

#[test]
fn direct_writes_and_writeback_need_storage() {
    let delalloc = map(MappingType::Delalloc, 0, NULL_ADDR, 0);
    for ops in [OP_WRITE | OP_DIRECT, OP_WRITE | OP_WRITEBACK] {
        assert!(to_vfs(&hole(), ops, &devices(), 0).is_err(), "{ops:x}");
        assert!(to_vfs(&delalloc, ops, &devices(), 0).is_err(), "{ops:x}");
    }
    // A direct read of a hole, or a buffered write over one, is fine.
    assert!(to_vfs(&hole(), OP_DIRECT, &devices(), 0).is_ok());
    assert!(to_vfs(&hole(), OP_WRITE, &devices(), 0).is_ok());
}

#[test]
fn a_separate_write_mapping_is_the_destination_and_the_read_one_the_source() {
    let read = map(MappingType::Mapped, 2, 4096, 0);
    let write = map(MappingType::Unwritten, 2, 1 << 20, 0);
    let answer = Answer {
        read,
        write: Some(write),
        cookie: 3,
        source: Source::Cache,
        retries: 0,
    };
    let (dest, src) = place(&answer, OP_WRITE | OP_WRITEBACK, &devices()).unwrap();
    assert_eq!(dest.addr, 1 << 20);
    assert_eq!(src.unwrap().addr, 4096);
    let answer = Answer {
        write: None,
        ..answer
    };
    let (dest, src) = place(&answer, OP_WRITE, &devices()).unwrap();
    assert_eq!(dest.addr, 4096);
    assert_eq!(src, None);
}

#[test]
fn ioend_flags_and_the_range_inside_the_file() {
    assert_eq!(ioend_flags(IOEND_DIRECT, false, false), IOEND_DIRECT);
    assert_eq!(
        ioend_flags(IOEND_DIRECT, true, true),
        IOEND_DIRECT | IOEND_UNWRITTEN | IOEND_SHARED
    );
    assert_eq!(written_in_file(0, 8192, 5000), 5000);
    assert_eq!(written_in_file(4096, 4096, 1 << 20), 4096);
    assert_eq!(written_in_file(8192, 4096, 4096), 0);
}
