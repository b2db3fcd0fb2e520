// SPDX-License-Identifier: GPL-2.0

//! `GET_DAXDEV` answers: device numbers and paths, and every refusal.

use super::harness::daxdev_out as answer;
use crate::daxdev_name::{kernel_dev, major_minor, parse, DaxdevName};
use kernel::error::code::EINVAL;

// Vectors: `st_rdev` as glibc's makedev() writes it, and the kernel's
// MKDEV(major, minor) = major << 20 | minor.
#[test]
fn userspace_device_numbers_become_kernel_dev_t() {
    // /dev/pmem0, 259:0.
    assert_eq!(kernel_dev(0x1_0300), Some(259 << 20));
    // 8:300: the minor's high bits sit above the major's low 12.
    assert_eq!(kernel_dev(0x10_082c), Some((8 << 20) | 300));
    // The largest the kernel holds: 4095:(2^20 - 1).
    assert_eq!(kernel_dev(0xffff_ffff), Some(u32::MAX));
    // And back, for messages.
    assert_eq!(major_minor((8 << 20) | 300), (8, 300));
    assert_eq!(major_minor(u32::MAX), (4095, (1 << 20) - 1));
}

#[test]
fn numbers_the_kernel_cannot_hold_are_refused() {
    // Major 4096: its bit 12 lands in bit 44.
    assert_eq!(kernel_dev(1 << 44), None);
    // Minor 2^20: its bit 20 lands in bit 32.
    assert_eq!(kernel_dev(1 << 32), None);
    assert_eq!(kernel_dev(u64::MAX), None);
}

#[test]
fn a_number_without_a_name_names_the_device() {
    assert_eq!(
        parse(&answer(3, 0x1_0300, "")),
        Ok(DaxdevName::Dev(259 << 20))
    );
}

#[test]
fn a_path_is_kept_with_its_nul() {
    let a = answer(0, 0, "/dev/pmem0");
    assert_eq!(parse(&a), Ok(DaxdevName::Path(b"/dev/pmem0\0")));
}

#[test]
fn hostile_answers_are_einval() {
    // An index past the table.
    assert_eq!(parse(&answer(24, 0, "/dev/pmem0")), Err(EINVAL));
    // A number and a name: which one?
    assert_eq!(parse(&answer(0, 0x1_0300, "/dev/pmem0")), Err(EINVAL));
    // A number the kernel cannot hold, and one that is 0:0 once decoded
    // is impossible (0 means "no number"), so only the former.
    assert_eq!(parse(&answer(0, 1 << 44, "")), Err(EINVAL));
    // Neither a number nor a name.
    assert_eq!(parse(&answer(0, 0, "")), Err(EINVAL));
    // A name without its NUL.
    let mut a = answer(0, 0, "");
    a.name = [b'x'; 256];
    assert_eq!(parse(&a), Err(EINVAL));
    // Reserved fields.
    for field in 0..3 {
        let mut a = answer(0, 0, "/dev/pmem0");
        match field {
            0 => a.reserved = 1,
            1 => a.reserved2 = 1,
            _ => a.reserved4 = 1,
        }
        assert_eq!(parse(&a), Err(EINVAL));
    }
}
