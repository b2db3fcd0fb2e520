// SPDX-License-Identifier: GPL-2.0

//! A famfs file is fenced by its first bad resolution.

use crate::famfs::FamfsFile;
use crate::fmap::Fmap;
use crate::fmap_build::{Ext, FmapSpec, Layout};
use kernel::error::code::EIO;

#[test]
fn bad_resolution_fences_the_file_for_good() {
    let spec = FmapSpec::new(Layout::Simple(vec![Ext {
        dev: 0,
        offset: 0,
        len: 2 << 20,
    }]));
    let file = FamfsFile::new(Fmap::parse(&spec.build()).unwrap());
    assert_eq!(file.fmap().file_size(), 2 << 20);
    assert!(file.resolve(0, 4096).is_ok());
    assert!(!file.fenced());
    assert_eq!(file.resolve(2 << 20, 1).unwrap_err().error, EIO);
    assert!(file.fenced());
    let after = file.resolve(0, 4096).unwrap_err();
    assert_eq!(
        (after.error, after.reason),
        (EIO, "file fenced by an earlier bad resolution")
    );
}
