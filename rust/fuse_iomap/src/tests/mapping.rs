// SPDX-License-Identifier: GPL-2.0

//! Mapping validation: one test per rule, with the error code per origin.

use crate::abi::{IomapIo, MappingType, NULL_ADDR};
use crate::errno::efscorrupted;
use crate::mapping::{validate, Devices, Geometry, Invalid, Origin, Slot};
use kernel::error::code::EINVAL;

/// Device 1 is 1 MiB; nothing else is registered.
struct OneDevice;

impl Devices for OneDevice {
    fn size(&self, dev: u32) -> Option<u64> {
        (dev == 1).then_some(1 << 20)
    }
}

fn mapped() -> IomapIo {
    IomapIo {
        offset: 4096,
        length: 8192,
        addr: 65536,
        r#type: MappingType::Mapped as u16,
        flags: 0,
        dev: 1,
    }
}

fn hole() -> IomapIo {
    IomapIo {
        offset: 0,
        length: 4096,
        addr: NULL_ADDR,
        r#type: MappingType::Hole as u16,
        flags: 0,
        dev: 0,
    }
}

fn check(map: IomapIo, slot: Slot) -> Result<MappingType, Invalid> {
    validate(
        &map,
        slot,
        Origin::Notification,
        &Geometry::DEFAULT,
        &OneDevice,
    )
}

fn rejected(map: IomapIo, slot: Slot, reason: &'static str) {
    assert_eq!(check(map, slot), Err(Invalid(reason)), "{map:?}");
}

#[test]
fn good_mappings_pass() {
    assert_eq!(check(mapped(), Slot::Read), Ok(MappingType::Mapped));
    assert_eq!(
        check(
            IomapIo {
                r#type: 3,
                ..mapped()
            },
            Slot::Write
        ),
        Ok(MappingType::Unwritten)
    );
    assert_eq!(check(hole(), Slot::Read), Ok(MappingType::Hole));
    for ty in [1, 4] {
        assert!(check(
            IomapIo {
                r#type: ty,
                ..hole()
            },
            Slot::Read
        )
        .is_ok());
    }
    let po = IomapIo {
        r#type: 255,
        ..hole()
    };
    assert_eq!(check(po, Slot::Write), Ok(MappingType::PureOverwrite));
    // An extent that ends exactly at the end of its device.
    assert!(check(
        IomapIo {
            addr: (1 << 20) - 8192,
            ..mapped()
        },
        Slot::Read
    )
    .is_ok());
    // All server flags.
    assert!(check(
        IomapIo {
            flags: 0xff,
            ..mapped()
        },
        Slot::Read
    )
    .is_ok());
}

#[test]
fn unknown_type_is_rejected() {
    rejected(
        IomapIo {
            r#type: 5,
            ..hole()
        },
        Slot::Read,
        "unknown mapping type",
    );
    rejected(
        IomapIo {
            r#type: 252,
            ..hole()
        },
        Slot::Read,
        "unknown mapping type",
    );
}

#[test]
fn unknown_and_kernel_only_flags_are_rejected() {
    for flags in [1 << 8, 1 << 9, 1 << 15] {
        rejected(
            IomapIo { flags, ..mapped() },
            Slot::Read,
            "unknown or kernel-only mapping flags",
        );
    }
}

#[test]
fn zero_length_is_rejected() {
    rejected(
        IomapIo {
            length: 0,
            ..mapped()
        },
        Slot::Read,
        "zero length",
    );
}

#[test]
fn unaligned_offset_or_length_is_rejected() {
    rejected(
        IomapIo {
            offset: 512,
            ..mapped()
        },
        Slot::Read,
        "offset or length not block-aligned",
    );
    rejected(
        IomapIo {
            length: 4097,
            ..mapped()
        },
        Slot::Read,
        "offset or length not block-aligned",
    );
}

#[test]
fn overflowing_range_is_rejected() {
    let m = IomapIo {
        offset: u64::MAX - 4095,
        length: 8192,
        ..hole()
    };
    rejected(m, Slot::Read, "offset + length overflows");
}

#[test]
fn offset_at_or_past_maxbytes_is_rejected() {
    let geo = Geometry::new(4096, 1 << 20).unwrap();
    let m = IomapIo {
        offset: 1 << 20,
        ..hole()
    };
    assert_eq!(
        validate(&m, Slot::Read, Origin::Notification, &geo, &OneDevice),
        Err(Invalid("offset at or past maxbytes"))
    );
    let m = IomapIo {
        offset: (1 << 20) - 4096,
        ..hole()
    };
    assert!(validate(&m, Slot::Read, Origin::Notification, &geo, &OneDevice).is_ok());
}

#[test]
fn mapped_extent_needs_a_registered_device() {
    rejected(
        IomapIo { dev: 0, ..mapped() },
        Slot::Read,
        "device not registered",
    );
    rejected(
        IomapIo { dev: 2, ..mapped() },
        Slot::Read,
        "device not registered",
    );
}

#[test]
fn mapped_extent_needs_an_address_inside_its_device() {
    rejected(
        IomapIo {
            addr: NULL_ADDR,
            ..mapped()
        },
        Slot::Read,
        "mapped extent without an address",
    );
    rejected(
        IomapIo {
            addr: (1 << 20) - 4096,
            ..mapped()
        },
        Slot::Read,
        "extent past the end of its device",
    );
    rejected(
        IomapIo {
            addr: u64::MAX - 4096,
            ..mapped()
        },
        Slot::Read,
        "extent past the end of its device",
    );
}

#[test]
fn extent_without_storage_carries_no_device_or_address() {
    let reason = "extent without storage has a device or address";
    rejected(IomapIo { dev: 1, ..hole() }, Slot::Read, reason);
    rejected(IomapIo { addr: 0, ..hole() }, Slot::Read, reason);
}

#[test]
fn pure_overwrite_only_in_the_write_slot_without_flags() {
    let po = IomapIo {
        r#type: 255,
        ..hole()
    };
    rejected(po, Slot::Read, "PURE_OVERWRITE in the read slot");
    rejected(
        IomapIo { flags: 1, ..po },
        Slot::Write,
        "PURE_OVERWRITE with flags",
    );
}

#[test]
fn retry_cache_is_an_answer_never_stored() {
    let retry = IomapIo {
        r#type: 254,
        ..hole()
    };
    rejected(retry, Slot::Read, "RETRY_CACHE cannot be stored");
    for origin in [Origin::Reply, Origin::Bpf] {
        assert_eq!(
            validate(&retry, Slot::Read, origin, &Geometry::DEFAULT, &OneDevice),
            Ok(MappingType::RetryCache)
        );
    }
}

#[test]
fn nocache_skips_the_fork_whatever_else_it_says() {
    let m = IomapIo {
        r#type: 253,
        length: 0,
        offset: 1,
        dev: 9,
        addr: 3,
        flags: 0,
    };
    assert_eq!(check(m, Slot::Read), Ok(MappingType::NoCache));
}

#[test]
fn error_code_depends_on_the_origin() {
    assert_eq!(Origin::Reply.error(), efscorrupted());
    assert_eq!(efscorrupted().to_errno(), -117);
    assert_eq!(Origin::Notification.error(), EINVAL);
    assert_eq!(Origin::Bpf.error(), EINVAL);
}

#[test]
fn geometry_rejects_bad_block_sizes_and_maxbytes() {
    for bs in [0, 511, 4095, 3 << 12, 1 << 31] {
        assert!(Geometry::new(bs, 1 << 40).is_err(), "{bs}");
    }
    assert!(Geometry::new(4096, 0).is_err());
    assert!(Geometry::new(4096, -1).is_err());
    let geo = Geometry::new(512, 1).unwrap();
    assert_eq!(geo.round_up(u64::MAX), u64::MAX - 511);
    assert_eq!(geo.round_down(1023), 512);
}
