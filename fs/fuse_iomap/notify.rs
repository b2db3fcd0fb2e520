// SPDX-License-Identifier: GPL-2.0

//! The mapping notifications of a server: `FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS`
//! and `FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS`, applied to one inode's cache.
//!
//! Both are all-or-nothing as far as validation goes: a message with one bad
//! half changes neither fork.

use crate::abi::{IomapInvalMappingsOut, IomapUpsertMappingsOut, Range, INVAL_TO_EOF};
use crate::cache::{Fork, Forks, Seq};
use crate::mapping::{validate, Devices, Geometry, Origin, Slot};
use crate::ratelimit::pr_warn_ratelimited;
use kernel::prelude::*;

/// Caches the read and write mappings of `msg` (either may be `NOCACHE`,
/// leaving its fork alone). `EINVAL` if either fails validation.
pub(crate) fn upsert_mappings(
    forks: &mut Forks,
    seq: &Seq,
    msg: &IomapUpsertMappingsOut,
    geo: &Geometry,
    devices: &impl Devices,
) -> Result {
    for (map, slot) in [(&msg.read, Slot::Read), (&msg.write, Slot::Write)] {
        if let Err(why) = validate(map, slot, Origin::Notification, geo, devices) {
            pr_warn_ratelimited!(
                "upsert for nodeid {}: {:?} mapping rejected: {}\n",
                msg.nodeid,
                slot,
                why.0
            );
            return Err(Origin::Notification.error());
        }
    }
    forks.upsert(seq, Fork::Read, &msg.read)?;
    forks.upsert(seq, Fork::Write, &msg.write)
}

/// Whether a notification may name `range`: a length of 0 ignores the fork;
/// otherwise it must start below maxbytes and not overflow, unless it runs
/// to EOF.
fn range_ok(range: &Range, geo: &Geometry) -> bool {
    range.length == 0
        || (range.offset < geo.maxbytes
            && (range.length == INVAL_TO_EOF || range.offset.checked_add(range.length).is_some()))
}

/// Drops the cached mappings of the ranges of `msg`. `EINVAL` for a range
/// that starts at or past maxbytes or whose end overflows.
pub(crate) fn inval_mappings(
    forks: &mut Forks,
    seq: &Seq,
    msg: &IomapInvalMappingsOut,
    geo: &Geometry,
) -> Result {
    if !range_ok(&msg.read, geo) || !range_ok(&msg.write, geo) {
        pr_warn_ratelimited!(
            "invalidation for nodeid {}: range out of the file\n",
            msg.nodeid
        );
        return Err(EINVAL);
    }
    forks.invalidate(seq, Fork::Read, geo, msg.read.offset, msg.read.length)?;
    forks.invalidate(seq, Fork::Write, geo, msg.write.offset, msg.write.length)
}
