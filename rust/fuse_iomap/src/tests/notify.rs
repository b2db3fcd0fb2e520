// SPDX-License-Identifier: GPL-2.0

//! Upsert and invalidation notifications: all-or-nothing validation, the
//! NOCACHE half, and the range checks of an invalidation.

use crate::abi::{
    IomapInvalMappingsOut, IomapIo, IomapUpsertMappingsOut, MappingType, Range, INVAL_TO_EOF,
    NULL_ADDR,
};
use crate::cache::{CacheLimit, Fork, Forks, Seq};
use crate::devices::DeviceTable;
use crate::mapping::Geometry;
use crate::notify::{inval_mappings, upsert_mappings};
use kernel::error::code::EINVAL;

fn hole(block: u64) -> IomapIo {
    IomapIo {
        offset: block * 4096,
        length: 4096,
        addr: NULL_ADDR,
        ..Default::default()
    }
}

fn nocache() -> IomapIo {
    IomapIo {
        r#type: MappingType::NoCache as u16,
        ..Default::default()
    }
}

fn setup() -> (Forks, Seq, Geometry, DeviceTable) {
    (
        Forks::new(CacheLimit::DEFAULT, crate::unbounded_budget()),
        Seq::new(),
        Geometry::new(4096, 1 << 30).unwrap(),
        DeviceTable::new(),
    )
}

#[test]
fn upsert_fills_both_forks_or_neither() {
    let (mut forks, seq, geo, devs) = setup();
    let both = IomapUpsertMappingsOut {
        read: hole(0),
        write: hole(1),
        ..Default::default()
    };
    upsert_mappings(&mut forks, &seq, &both, &geo, &devs).unwrap();
    assert_eq!((forks.len(Fork::Read), forks.len(Fork::Write)), (1, 1));
    // A bad write half rejects the good read half too.
    let bad = IomapUpsertMappingsOut {
        read: hole(5),
        write: IomapIo {
            length: 1,
            ..hole(6)
        },
        ..Default::default()
    };
    assert_eq!(
        upsert_mappings(&mut forks, &seq, &bad, &geo, &devs),
        Err(EINVAL)
    );
    assert_eq!((forks.len(Fork::Read), forks.len(Fork::Write)), (1, 1));
}

#[test]
fn nocache_half_leaves_its_fork_alone() {
    let (mut forks, seq, geo, devs) = setup();
    let msg = IomapUpsertMappingsOut {
        read: hole(0),
        write: nocache(),
        ..Default::default()
    };
    upsert_mappings(&mut forks, &seq, &msg, &geo, &devs).unwrap();
    assert!(!forks.has_fork(Fork::Write));
}

#[test]
fn inval_ranges_are_checked_and_zero_length_ignores_a_fork() {
    let (mut forks, seq, geo, devs) = setup();
    let msg = IomapUpsertMappingsOut {
        read: hole(0),
        write: hole(0),
        ..Default::default()
    };
    upsert_mappings(&mut forks, &seq, &msg, &geo, &devs).unwrap();
    let read_only = IomapInvalMappingsOut {
        read: Range {
            offset: 0,
            length: 4096,
        },
        ..Default::default()
    };
    inval_mappings(&mut forks, &seq, &read_only, &geo).unwrap();
    assert_eq!((forks.len(Fork::Read), forks.len(Fork::Write)), (0, 1));
    for bad in [
        Range {
            offset: 1 << 30,
            length: 1,
        },
        Range {
            offset: 4096,
            length: u64::MAX - 1,
        },
    ] {
        let msg = IomapInvalMappingsOut {
            write: bad,
            ..Default::default()
        };
        assert_eq!(inval_mappings(&mut forks, &seq, &msg, &geo), Err(EINVAL));
        assert_eq!(forks.len(Fork::Write), 1);
    }
    let to_eof = IomapInvalMappingsOut {
        write: Range {
            offset: 4096,
            length: INVAL_TO_EOF,
        },
        ..Default::default()
    };
    inval_mappings(&mut forks, &seq, &to_eof, &geo).unwrap();
    assert_eq!(forks.len(Fork::Write), 1);
    let all = IomapInvalMappingsOut {
        write: Range {
            offset: 0,
            length: INVAL_TO_EOF,
        },
        ..Default::default()
    };
    inval_mappings(&mut forks, &seq, &all, &geo).unwrap();
    assert_eq!(forks.len(Fork::Write), 0);
}
