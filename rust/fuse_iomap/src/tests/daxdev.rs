// SPDX-License-Identifier: GPL-2.0

//! The daxdev table, one thread at a time; `daxdev_loom.rs` checks the
//! publication across threads.

use crate::daxdev::DaxdevTable;
use kernel::error::code::{EINVAL, EIO};

#[test]
fn published_devices_are_read_and_others_are_eio() {
    let t = DaxdevTable::new();
    assert!(!t.is_valid(3));
    assert_eq!(t.with_dev(3, |d: &u64| *d), Err(EIO));
    // SAFETY: One thread: no other publish runs.
    unsafe { t.publish(3, Some(42u64)) }.unwrap();
    assert!(t.is_valid(3));
    assert_eq!(t.with_dev(3, |d| *d), Ok(42));
    assert_eq!(t.with_dev(4, |d| *d), Err(EIO));
    assert_eq!(t.with_dev(23, |d| *d), Err(EIO));
}

#[test]
fn indices_of_24_and_more_are_einval() {
    let t = DaxdevTable::<u64>::new();
    assert!(!t.is_valid(24));
    assert_eq!(t.with_dev(24, |d| *d), Err(EINVAL));
    // SAFETY: One thread.
    assert_eq!(unsafe { t.publish(24, Some(1)) }, Err(EINVAL));
    assert_eq!(unsafe { t.publish(u32::MAX, Some(1)) }, Err(EINVAL));
}

#[test]
fn the_first_publication_wins() {
    let t = DaxdevTable::new();
    // SAFETY: One thread.
    unsafe { t.publish(0, Some(1u64)) }.unwrap();
    unsafe { t.publish(0, Some(2)) }.unwrap();
    unsafe { t.publish(0, None) }.unwrap();
    assert_eq!(t.with_dev(0, |d| *d), Ok(1));
}

#[test]
fn failed_claims_are_published_as_eio() {
    let t = DaxdevTable::new();
    // SAFETY: One thread.
    unsafe { t.publish(1, None::<u64>) }.unwrap();
    assert!(t.is_valid(1));
    assert_eq!(t.with_dev(1, |d| *d), Err(EIO));
}

#[test]
fn clear_releases_every_device_and_unpublishes() {
    use std::rc::Rc;
    let device = Rc::new(());
    let t = DaxdevTable::new();
    // SAFETY: One thread.
    unsafe { t.publish(1, Some(device.clone())) }.unwrap();
    unsafe { t.publish(2, None) }.unwrap();
    assert_eq!(Rc::strong_count(&device), 2);
    // SAFETY: One thread: no reader, no publish.
    unsafe { t.clear() };
    assert_eq!(Rc::strong_count(&device), 1, "the claim is released");
    assert!(!t.is_valid(1) && !t.is_valid(2));
    assert_eq!(t.with_dev(1, |_| ()), Err(EIO));
    // SAFETY: One thread.
    unsafe { t.publish(1, Some(device.clone())) }.unwrap();
    assert!(t.is_valid(1), "a slot can be published again");
}
