// SPDX-License-Identifier: GPL-2.0

//! The connection budget: charges up to the limit, never past it, and a
//! cache that forgets its inode gives everything back.

use crate::abi::{IomapIo, MappingType};
use crate::budget::{Budget, PRIVILEGED_BYTES, UNPRIVILEGED_BYTES};
use crate::cache::{CacheLimit, Fork, Forks, Seq};
use kernel::error::code::ENOSPC;
use kernel::prelude::GFP_KERNEL;
use kernel::sync::Arc;

#[test]
fn an_unprivileged_opener_gets_the_small_budget() {
    assert_eq!(Budget::for_opener(false).limit(), UNPRIVILEGED_BYTES);
    assert_eq!(Budget::for_opener(true).limit(), PRIVILEGED_BYTES);
    assert!(UNPRIVILEGED_BYTES < PRIVILEGED_BYTES);
}

#[test]
fn charges_stop_at_the_limit() {
    let b = Budget::new(100);
    assert_eq!(b.charge(60), Ok(()));
    assert_eq!(b.charge(41), Err(ENOSPC));
    assert_eq!(b.used(), 60);
    assert_eq!(b.charge(40), Ok(()));
    assert_eq!(b.charge(1), Err(ENOSPC));
    b.uncharge(100);
    assert_eq!(b.used(), 0);
    assert_eq!(b.charge(usize::MAX), Err(ENOSPC));
}

fn mapped(block: u64) -> IomapIo {
    IomapIo {
        offset: block * 4096,
        length: 4096,
        // Not contiguous with the next block's: nothing merges.
        addr: block * 8192,
        r#type: MappingType::Mapped as u16,
        ..Default::default()
    }
}

/// Many inodes of one connection share one budget: upserts past it fail
/// with ENOSPC, none of them pins more, and dropping the caches gives every
/// byte back.
#[test]
fn the_caches_of_a_connection_share_its_budget() {
    let budget = Arc::new(Budget::new(64 << 10), GFP_KERNEL).unwrap();
    let seq = Seq::new();
    let mut inodes: Vec<Forks> = (0..8)
        .map(|_| Forks::new(CacheLimit::from_config(2 << 20), budget.clone()))
        .collect();
    let mut refused = 0;
    for block in 0..4096 {
        for forks in inodes.iter_mut() {
            match forks.upsert(&seq, Fork::Read, &mapped(block)) {
                Ok(()) => {}
                Err(e) => {
                    assert_eq!(e, ENOSPC);
                    refused += 1;
                }
            }
            assert!(budget.used() <= budget.limit());
        }
    }
    assert!(refused > 0);
    let charged: usize = inodes.iter().map(Forks::charged_bytes).sum();
    assert_eq!(budget.used(), charged);
    drop(inodes);
    assert_eq!(budget.used(), 0);
}
