// SPDX-License-Identifier: GPL-2.0

//! The checks of the mount's namespace replies.

use crate::fuse_abi::{Attr, DirentHead, EntryOut, Kstatfs, ROOT_ID};
use crate::mapping::Geometry;
use crate::namespace::*;

const DIR: u32 = 0o040755;
const REG: u32 = 0o100644;

fn geo() -> Geometry {
    Geometry::new(4096, 1 << 40).unwrap()
}

fn entry(nodeid: u64, mode: u32) -> EntryOut {
    EntryOut {
        nodeid,
        generation: 7,
        entry_valid: 1,
        attr_valid: 1,
        attr: Attr {
            ino: nodeid,
            mode,
            nlink: 1,
            size: 4096,
            ..Attr::default()
        },
        ..EntryOut::default()
    }
}

#[test]
fn a_refused_reply_is_eio() {
    assert_eq!(
        refuse(1, 5, crate::mapping::Invalid("why")),
        kernel::error::code::EIO
    );
}

#[test]
fn a_good_entry_passes() {
    assert_eq!(
        check_entry(&entry(5, REG), &geo(), false),
        Ok(Entry::Inode(entry(5, REG)))
    );
}

#[test]
fn nodeid_zero_is_negative_only_for_lookup() {
    let mut e = entry(0, REG);
    e.entry_valid = 2;
    assert_eq!(
        check_entry(&e, &geo(), true),
        Ok(Entry::Negative { timeout_ms: 2000 })
    );
    assert!(check_entry(&e, &geo(), false).is_err());
}

#[test]
fn the_roots_nodeid_is_refused() {
    assert!(check_entry(&entry(ROOT_ID, DIR), &geo(), true).is_err());
}

#[test]
fn file_types_other_than_dir_and_reg_are_refused() {
    for mode in [0o120777, 0o020644, 0o060644, 0o010644, 0o140644, 0] {
        assert!(
            check_entry(&entry(5, mode), &geo(), true).is_err(),
            "{mode:o}"
        );
    }
}

#[test]
fn sizes_past_maxbytes_are_refused() {
    let mut e = entry(5, REG);
    e.attr.size = (1 << 40) + 1;
    assert!(check_entry(&e, &geo(), true).is_err());
    e.attr.size = 1 << 40;
    assert!(check_entry(&e, &geo(), true).is_ok());
}

#[test]
fn bad_nanoseconds_are_refused_and_a_removed_directory_is_not() {
    let mut e = entry(5, DIR);
    e.attr.nlink = 0;
    assert!(check_attr(&e.attr, &geo()).is_ok());
    let mut e = entry(5, REG);
    e.attr.mtimensec = 1_000_000_000;
    assert!(check_attr(&e.attr, &geo()).is_err());
}

#[test]
fn same_file_needs_the_generation_and_the_type() {
    let e = entry(5, REG);
    assert!(same_file(7, REG, &e));
    assert!(same_file(7, 0o100600, &e));
    assert!(!same_file(8, REG, &e));
    assert!(!same_file(7, DIR, &e));
}

#[test]
fn timeouts_are_cut_to_a_day() {
    assert_eq!(timeout_ms(1, 500_000_000), 1500);
    assert_eq!(timeout_ms(u64::MAX, u32::MAX), MAX_TIMEOUT_MS);
    assert_eq!(timeout_ms(0, 0), 0);
}

#[test]
fn names_are_checked() {
    assert!(name_ok(b"a"));
    assert!(name_ok(&[b'x'; 255]));
    assert!(!name_ok(&[b'x'; 256]));
    assert!(!name_ok(b""));
    assert!(!name_ok(b"a/b"));
    assert!(!name_ok(b"a\0b"));
}

#[test]
fn statfs_with_block_size_zero_is_refused() {
    assert!(check_statfs(&Kstatfs::default()).is_err());
    let st = Kstatfs {
        bsize: 4096,
        ..Kstatfs::default()
    };
    assert!(check_statfs(&st).is_ok());
}

/// A READDIR record, padded to 8 bytes unless `pad` is false.
fn record(buf: &mut Vec<u8>, ino: u64, off: u64, ty: u32, name: &[u8], pad: bool) {
    let head = DirentHead {
        ino,
        off,
        namelen: name.len() as u32,
        r#type: ty,
    };
    buf.extend_from_slice(&head.ino.to_ne_bytes());
    buf.extend_from_slice(&head.off.to_ne_bytes());
    buf.extend_from_slice(&head.namelen.to_ne_bytes());
    buf.extend_from_slice(&head.r#type.to_ne_bytes());
    buf.extend_from_slice(name);
    if pad {
        buf.resize(buf.len().next_multiple_of(8), 0);
    }
}

fn all(buf: &[u8]) -> Result<Vec<(Vec<u8>, u64, u32, u64)>, &'static str> {
    let mut d = Dirents::new(buf);
    let mut out = Vec::new();
    loop {
        match d.next_entry() {
            Ok(Some(e)) => out.push((e.name.to_vec(), e.ino, e.r#type, e.off)),
            Ok(None) => return Ok(out),
            Err(why) => return Err(why.0),
        }
    }
}

#[test]
fn dirents_are_read_in_order_with_their_cookies() {
    let mut buf = Vec::new();
    record(&mut buf, 1, 1, 4, b".", true);
    record(&mut buf, 1, 2, 4, b"..", true);
    record(&mut buf, 9, 3, 8, b"file-one", true);
    record(&mut buf, 10, 4, 4, b"sub", false);
    assert_eq!(
        all(&buf).unwrap(),
        vec![
            (b".".to_vec(), 1, 4, 1),
            (b"..".to_vec(), 1, 4, 2),
            (b"file-one".to_vec(), 9, 8, 3),
            (b"sub".to_vec(), 10, 4, 4),
        ]
    );
}

#[test]
fn hostile_dirents_are_refused() {
    let mut slash = Vec::new();
    record(&mut slash, 9, 1, 8, b"a/b", true);
    assert!(all(&slash).is_err());
    let mut nul = Vec::new();
    record(&mut nul, 9, 1, 8, b"a\0b", true);
    assert!(all(&nul).is_err());
    let mut symlink = Vec::new();
    record(&mut symlink, 9, 1, 10, b"link", true);
    assert!(all(&symlink).is_err());
    let mut dot_file = Vec::new();
    record(&mut dot_file, 9, 1, 8, b".", true);
    assert!(all(&dot_file).is_err());
    let mut past = Vec::new();
    record(&mut past, 9, 1, 8, b"name", true);
    past[16..20].copy_from_slice(&200u32.to_ne_bytes());
    assert!(all(&past).is_err());
    let mut long = Vec::new();
    record(&mut long, 9, 1, 8, &[b'x'; 300], true);
    assert!(all(&long).is_err());
    assert!(all(&[0u8; 10]).is_err());
    assert_eq!(all(&[]).unwrap(), vec![]);
}
