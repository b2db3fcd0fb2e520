// SPDX-License-Identifier: GPL-2.0

//! A famfs file is fenced by its first bad resolution.

use crate::famfs::{DaxExtent, FamfsFile};
use crate::fmap::Fmap;
use crate::fmap_build::{Ext, FmapSpec, Layout};
use kernel::error::code::{EIO, ENOSPC};

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

/// A file of `size` bytes in one 4 MiB extent at device offset 2 MiB.
fn file_of(size: u64) -> FamfsFile {
    let mut spec = FmapSpec::new(Layout::Simple(vec![Ext {
        dev: 0,
        offset: 2 << 20,
        len: 4 << 20,
    }]));
    spec.file_size = size;
    FamfsFile::new(Fmap::parse(&spec.build()).unwrap())
}

#[test]
fn map_past_the_end_is_a_hole_to_read_and_enospc_to_write() {
    let file = file_of(3 << 20);
    let Ok(DaxExtent::Mapped(r)) = file.map(4096, 1 << 30, false) else {
        panic!("not mapped");
    };
    assert_eq!(
        (r.dev_index, r.dev_offset, r.length),
        (0, (2 << 20) + 4096, (3 << 20) - 4096)
    );
    assert_eq!(file.map(3 << 20, 4096, false), Ok(DaxExtent::Hole(4096)));
    assert_eq!(file.map(u64::MAX, 1, false), Ok(DaxExtent::Hole(1)));
    assert_eq!(file.map(3 << 20, 4096, true).unwrap_err().error, ENOSPC);
    // Neither fences the file: only a disagreement inside it does.
    assert!(!file.fenced());
    assert!(matches!(file.map(0, 4096, true), Ok(DaxExtent::Mapped(_))));
}
