// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of the uapi header agrees with the header itself: every
//! constant, and every structure's size and field offsets, as a C compiler
//! sees them (`uapi.c`).

use crate::abi::{self, MappingType};
use core::ffi::{c_char, CStr};
use core::mem::{offset_of, size_of};
use std::collections::HashMap;

#[repr(C)]
struct UapiValue {
    name: *const c_char,
    value: u64,
}

extern "C" {
    static uapi_dev_name: [u8; 11];
    static uapi_values: UapiValue;
    static uapi_values_len: usize;
    static uapi_layout: UapiValue;
    static uapi_layout_len: usize;
}

/// A table of uapi.c, given by its first entry and its length, as a map.
///
/// # Safety
///
/// `first` starts an array of `len` entries.
unsafe fn table(first: &'static UapiValue, len: usize) -> HashMap<String, u64> {
    // SAFETY: By the safety requirements.
    let values = unsafe { core::slice::from_raw_parts(first, len) };
    values
        .iter()
        .map(|v| {
            // SAFETY: Every name is a string literal of uapi.c.
            let name = unsafe { CStr::from_ptr(v.name) };
            (name.to_str().unwrap().to_owned(), v.value)
        })
        .collect()
}

#[test]
fn device_name_matches_the_header() {
    // SAFETY: A NUL-terminated array defined in uapi.c.
    let name = CStr::from_bytes_with_nul(unsafe { &uapi_dev_name }).unwrap();
    assert_eq!(name.to_str().unwrap(), abi::DEV_NAME);
}

#[test]
fn constants_match_the_header() {
    // SAFETY: uapi.c defines the array and its length.
    let c = unsafe { table(&uapi_values, uapi_values_len) };
    let types = [
        ("HOLE", MappingType::Hole),
        ("DELALLOC", MappingType::Delalloc),
        ("MAPPED", MappingType::Mapped),
        ("UNWRITTEN", MappingType::Unwritten),
        ("INLINE", MappingType::Inline),
        ("NOCACHE", MappingType::NoCache),
        ("RETRY_CACHE", MappingType::RetryCache),
        ("PURE_OVERWRITE", MappingType::PureOverwrite),
    ];
    let mut rust: Vec<(String, u64)> = types
        .iter()
        .map(|(n, t)| (format!("FUSE_IOMAP_TYPE_{n}"), *t as u64))
        .collect();
    let ops = [
        ("WRITE", abi::OP_WRITE),
        ("ZERO", abi::OP_ZERO),
        ("REPORT", abi::OP_REPORT),
        ("FAULT", abi::OP_FAULT),
        ("DIRECT", abi::OP_DIRECT),
        ("NOWAIT", abi::OP_NOWAIT),
        ("OVERWRITE_ONLY", abi::OP_OVERWRITE_ONLY),
        ("UNSHARE", abi::OP_UNSHARE),
        ("DAX", abi::OP_DAX),
        ("ATOMIC", abi::OP_ATOMIC),
        ("DONTCACHE", abi::OP_DONTCACHE),
        ("SWAPFILE", abi::OP_SWAPFILE),
        ("WRITEBACK", abi::OP_WRITEBACK),
    ];
    rust.extend(ops.iter().map(|(n, v)| (format!("FUSE_IOMAP_OP_{n}"), u64::from(*v))));
    let server_flags = "FUSE_IOMAP_F_NEW | FUSE_IOMAP_F_DIRTY | FUSE_IOMAP_F_SHARED | \
        FUSE_IOMAP_F_MERGED | FUSE_IOMAP_F_BOUNDARY | FUSE_IOMAP_F_ANON_WRITE | \
        FUSE_IOMAP_F_ATOMIC_BIO | FUSE_IOMAP_F_WANT_IOMAP_END";
    for (name, value) in [
        ("FUSE_IOMAP_ABI_VERSION", u64::from(abi::ABI_VERSION)),
        ("FUSE_IOMAP_IOC_VERSION", u64::from(abi::IOC_VERSION)),
        ("FUSE_IOMAP_CONFIG", u64::from(abi::FUSE_IOMAP_CONFIG)),
        ("FUSE_IOMAP_IOEND", u64::from(abi::FUSE_IOMAP_IOEND)),
        ("FUSE_IOMAP_BEGIN", u64::from(abi::FUSE_IOMAP_BEGIN)),
        ("FUSE_IOMAP_END", u64::from(abi::FUSE_IOMAP_END)),
        ("FUSE_IOMAP", abi::FUSE_IOMAP_INIT_FLAG),
        ("FUSE_NOTIFY_IOMAP_DEV_INVAL", abi::NOTIFY_IOMAP_DEV_INVAL as u64),
        ("FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS", abi::NOTIFY_IOMAP_UPSERT_MAPPINGS as u64),
        ("FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS", abi::NOTIFY_IOMAP_INVAL_MAPPINGS as u64),
        ("FUSE_IOMAP_DEV_NULL", u64::from(abi::DEV_NULL)),
        ("FUSE_IOMAP_NULL_ADDR", abi::NULL_ADDR),
        (server_flags, u64::from(abi::MAPPING_FLAGS_FROM_SERVER)),
        ("FUSE_IOMAP_F_SIZE_CHANGED", u64::from(abi::MAPPING_F_SIZE_CHANGED)),
        ("FUSE_IOMAP_F_STALE", u64::from(abi::MAPPING_F_STALE)),
        ("FUSE_IOMAP_CONFIG_BLOCKSIZE", abi::CONFIG_BLOCKSIZE),
        ("FUSE_IOMAP_CONFIG_MAXBYTES", abi::CONFIG_MAXBYTES),
        ("FUSE_IOMAP_CONFIG_CACHE_MAXBYTES", abi::CONFIG_CACHE_MAXBYTES),
        ("FUSE_IOMAP_INVAL_TO_EOF", abi::INVAL_TO_EOF),
    ] {
        rust.push((name.to_owned(), value));
    }
    for (name, value) in &rust {
        assert_eq!(c.get(name), Some(value), "{name}");
    }
    assert_eq!(rust.len(), c.len(), "a constant of uapi.c has no Rust check");
    for (raw, t) in types.iter().map(|(_, t)| (*t as u16, *t)) {
        assert_eq!(MappingType::from_raw(raw), Some(t));
    }
    assert!((5..253).all(|raw| MappingType::from_raw(raw).is_none()));
}

macro_rules! layout {
    ($rust:ty, $c:literal, [$($field:ident $(= $cfield:literal)?),*]) => {{
        let mut v = vec![(concat!("sizeof ", $c).to_owned(), size_of::<$rust>() as u64)];
        $(
            let cfield = layout!(@name $field $($cfield)?);
            v.push((format!("{}.{}", $c, cfield), offset_of!($rust, $field) as u64));
        )*
        v
    }};
    (@name $field:ident $cfield:literal) => { $cfield };
    (@name $field:ident) => { stringify!($field) };
}

#[test]
fn structure_layouts_match_the_header() {
    // SAFETY: uapi.c defines the array and its length.
    let c = unsafe { table(&uapi_layout, uapi_layout_len) };
    let rust = [
        layout!(abi::IomapIo, "fuse_iomap_io", [offset, length, addr, r#type = "type", flags, dev]),
        layout!(abi::IomapBeginIn, "fuse_iomap_begin_in", [opflags, reserved, attr_ino, pos, count]),
        layout!(abi::IomapBeginOut, "fuse_iomap_begin_out", [read, write]),
        layout!(abi::IomapEndIn, "fuse_iomap_end_in", [opflags, reserved, attr_ino, pos, count, written, map]),
        layout!(
            abi::IomapIoendIn,
            "fuse_iomap_ioend_in",
            [flags, error, attr_ino, pos, new_addr, written, dev, pad]
        ),
        layout!(abi::IomapIoendOut, "fuse_iomap_ioend_out", [newsize]),
        layout!(abi::Range, "fuse_range", [offset, length]),
        layout!(abi::IomapInvalMappingsOut, "fuse_iomap_inval_mappings_out", [nodeid, attr_ino, read, write]),
        layout!(abi::IomapUpsertMappingsOut, "fuse_iomap_upsert_mappings_out", [nodeid, attr_ino, read, write]),
        layout!(abi::IomapConfigIn, "fuse_iomap_config_in", [flags, maxbytes, cache_maxbytes, zero, padding]),
    ]
    .concat();
    for (name, value) in &rust {
        assert_eq!(c.get(name), Some(value), "{name}");
    }
    assert_eq!(rust.len(), c.len(), "a layout entry of uapi.c has no Rust check");
}
