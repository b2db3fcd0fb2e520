// SPDX-License-Identifier: GPL-2.0

//! The Rust mirror of the uapi header agrees with the header itself: every
//! constant, and every structure's size and field offsets, as a C compiler
//! sees them (`uapi.c`).

use crate::abi::{self, MappingType};
use crate::counters::{self, Reject};
use crate::fmap;
use core::ffi::{c_char, CStr};
use core::mem::{offset_of, size_of};
use std::collections::HashMap;

#[repr(C)]
pub(super) struct UapiValue {
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
pub(super) unsafe fn table(first: &'static UapiValue, len: usize) -> HashMap<String, u64> {
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
        ("DIRECT", abi::OP_DIRECT),
        ("NOWAIT", abi::OP_NOWAIT),
        ("UNSHARE", abi::OP_UNSHARE),
        ("ATOMIC", abi::OP_ATOMIC),
        ("SWAPFILE", abi::OP_SWAPFILE),
        ("WRITEBACK", abi::OP_WRITEBACK),
    ];
    rust.extend(
        ops.iter()
            .map(|(n, v)| (format!("FUSE_IOMAP_OP_{n}"), u64::from(*v))),
    );
    let all_ops = "FUSE_IOMAP_OP_WRITE | FUSE_IOMAP_OP_ZERO | FUSE_IOMAP_OP_REPORT | \
        FUSE_IOMAP_OP_FAULT | FUSE_IOMAP_OP_DIRECT | FUSE_IOMAP_OP_NOWAIT | \
        FUSE_IOMAP_OP_OVERWRITE_ONLY | FUSE_IOMAP_OP_UNSHARE | FUSE_IOMAP_OP_DAX | \
        FUSE_IOMAP_OP_ATOMIC | FUSE_IOMAP_OP_DONTCACHE | FUSE_IOMAP_OP_SWAPFILE | \
        FUSE_IOMAP_OP_WRITEBACK";
    let server_flags = "FUSE_IOMAP_F_NEW | FUSE_IOMAP_F_DIRTY | FUSE_IOMAP_F_SHARED | \
        FUSE_IOMAP_F_MERGED | FUSE_IOMAP_F_BOUNDARY | FUSE_IOMAP_F_ANON_WRITE | \
        FUSE_IOMAP_F_ATOMIC_BIO | FUSE_IOMAP_F_WANT_IOMAP_END";
    let ioend_flags = "FUSE_IOMAP_IOEND_SHARED | FUSE_IOMAP_IOEND_UNWRITTEN | \
        FUSE_IOMAP_IOEND_BOUNDARY | FUSE_IOMAP_IOEND_DIRECT | FUSE_IOMAP_IOEND_APPEND | \
        FUSE_IOMAP_IOEND_WRITEBACK | FUSE_IOMAP_IOEND_SWAPOFF";
    for (name, value) in [
        ("FUSE_IOMAP_ABI_VERSION", u64::from(abi::ABI_VERSION)),
        ("FUSE_IOMAP_IOC_VERSION", u64::from(abi::IOC_VERSION)),
        ("FUSE_IOMAP_DEV_NULL", u64::from(abi::DEV_NULL)),
        ("FUSE_IOMAP_NULL_ADDR", abi::NULL_ADDR),
        (server_flags, u64::from(abi::MAPPING_FLAGS_FROM_SERVER)),
        ("FUSE_IOMAP_INVAL_TO_EOF", abi::INVAL_TO_EOF),
        ("FUSE_IOMAP_FORK_READ", u64::from(abi::FORK_READ)),
        ("FUSE_IOMAP_FORK_WRITE", u64::from(abi::FORK_WRITE)),
        ("FUSE_IOMAP_LOOKUP_HIT", u64::from(abi::LOOKUP_HIT)),
        ("FUSE_IOMAP_LOOKUP_MISS", u64::from(abi::LOOKUP_MISS)),
        ("FUSE_IOMAP_LOOKUP_NOFORK", u64::from(abi::LOOKUP_NOFORK)),
        ("FUSE_IOMAP_IOC_CONFIG", u64::from(abi::IOC_CONFIG)),
        ("FUSE_IOMAP_IOC_ADD_DEVICE", u64::from(abi::IOC_ADD_DEVICE)),
        ("FUSE_IOMAP_IOC_UPSERT", u64::from(abi::IOC_UPSERT)),
        ("FUSE_IOMAP_IOC_INVAL", u64::from(abi::IOC_INVAL)),
        ("FUSE_IOMAP_IOC_LOOKUP", u64::from(abi::IOC_LOOKUP)),
        ("FUSE_IOMAP_IOC_DUMP", u64::from(abi::IOC_DUMP)),
        ("FUSE_IOMAP_IOC_FORGET", u64::from(abi::IOC_FORGET)),
        ("FUSE_IOMAP_IOC_BEGIN", u64::from(abi::IOC_BEGIN)),
        ("FUSE_IOMAP_IOC_VALID", u64::from(abi::IOC_VALID)),
        ("FUSE_IOMAP_SOURCE_CACHE", u64::from(abi::SOURCE_CACHE)),
        ("FUSE_IOMAP_SOURCE_BPF", u64::from(abi::SOURCE_BPF)),
        ("FUSE_IOMAP_SOURCE_UPCALL", u64::from(abi::SOURCE_UPCALL)),
        (all_ops, u64::from(abi::OP_ALL)),
        (
            "FUSE_IOMAP_IOC_FAMFS_SET_FMAP",
            u64::from(abi::IOC_FAMFS_SET_FMAP),
        ),
        (
            "FUSE_IOMAP_IOC_FAMFS_RESOLVE",
            u64::from(abi::IOC_FAMFS_RESOLVE),
        ),
        ("FUSE_IOMAP_IOC_FAMFS_INFO", u64::from(abi::IOC_FAMFS_INFO)),
        (
            "FUSE_IOMAP_IOC_FAMFS_DAXDEV",
            u64::from(abi::IOC_FAMFS_DAXDEV),
        ),
        ("FUSE_IOMAP_IOC_FAMFS_READ", u64::from(abi::IOC_FAMFS_READ)),
        ("FAMFS_FMAP_VERSION", u64::from(fmap::FMAP_VERSION)),
        ("FUSE_FAMFS_MAX_EXTENTS", u64::from(fmap::MAX_EXTENTS)),
        ("FUSE_FAMFS_MAX_STRIPS", u64::from(fmap::MAX_STRIPS)),
        ("FUSE_FAMFS_MAX_DAXDEVS", u64::from(fmap::MAX_DAXDEVS)),
        ("FUSE_FAMFS_ALIGNMENT", fmap::ALIGNMENT),
        ("FUSE_FAMFS_EXT_SIMPLE", u64::from(fmap::EXT_SIMPLE)),
        ("FUSE_FAMFS_EXT_INTERLEAVE", u64::from(fmap::EXT_INTERLEAVE)),
        ("FUSE_INIT", u64::from(abi::FUSE_INIT)),
        ("FUSE_GET_FMAP", u64::from(abi::FUSE_GET_FMAP)),
        ("FUSE_GET_DAXDEV", u64::from(abi::FUSE_GET_DAXDEV)),
        ("FUSE_IOMAP_CONFIG", u64::from(abi::FUSE_IOMAP_CONFIG)),
        ("FUSE_IOMAP_IOEND", u64::from(abi::FUSE_IOMAP_IOEND)),
        ("FUSE_IOMAP_BEGIN", u64::from(abi::FUSE_IOMAP_BEGIN)),
        ("FUSE_IOMAP_END", u64::from(abi::FUSE_IOMAP_END)),
        (
            "FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS",
            abi::NOTIFY_UPSERT_MAPPINGS as u64,
        ),
        (
            "FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS",
            abi::NOTIFY_INVAL_MAPPINGS as u64,
        ),
        ("FUSE_KERNEL_VERSION", u64::from(abi::FUSE_KERNEL_VERSION)),
        ("FUSE_INIT_EXT", abi::FUSE_INIT_EXT),
        ("FUSE_DAX_FMAP", abi::FUSE_DAX_FMAP),
        ("FUSE_IOMAP", abi::FUSE_IOMAP),
        ("FUSE_MIN_READ_BUFFER", abi::FUSE_MIN_READ_BUFFER as u64),
        ("FUSE_IOMAP_CONFIG_BLOCKSIZE", abi::CONFIG_BLOCKSIZE),
        ("FUSE_IOMAP_CONFIG_MAXBYTES", abi::CONFIG_MAXBYTES),
        (
            "FUSE_IOMAP_CONFIG_CACHE_MAXBYTES",
            abi::CONFIG_CACHE_MAXBYTES,
        ),
        (
            "FUSE_IOMAP_F_WANT_IOMAP_END",
            u64::from(abi::F_WANT_IOMAP_END),
        ),
        ("FUSE_IOMAP_IOEND_SHARED", u64::from(abi::IOEND_SHARED)),
        (
            "FUSE_IOMAP_IOEND_UNWRITTEN",
            u64::from(abi::IOEND_UNWRITTEN),
        ),
        (ioend_flags, u64::from(abi::IOEND_ALL)),
        ("FUSE_IOMAP_NR_UPCALLS", abi::NR_UPCALLS as u64),
        ("FUSE_IOMAP_NR_REJECTS", abi::NR_REJECTS as u64),
        ("FUSE_IOMAP_IOC_CLIENT", u64::from(abi::IOC_CLIENT)),
        ("FUSE_IOMAP_IOC_OPEN", u64::from(abi::IOC_OPEN)),
        ("FUSE_IOMAP_IOC_END", u64::from(abi::IOC_END)),
        ("FUSE_IOMAP_IOC_IOEND", u64::from(abi::IOC_IOEND)),
        ("FUSE_IOMAP_IOC_SETSIZE", u64::from(abi::IOC_SETSIZE)),
        ("FUSE_IOMAP_IOC_COUNTERS", u64::from(abi::IOC_COUNTERS)),
        (
            "FUSE_IOMAP_IOC_BACKING_OPEN",
            u64::from(abi::IOC_BACKING_OPEN),
        ),
        ("FUSE_IOMAP_IOEND_DIRECT", u64::from(abi::IOEND_DIRECT)),
        ("FUSE_IOMAP_IOEND_APPEND", u64::from(abi::IOEND_APPEND)),
        (
            "FUSE_IOMAP_IOEND_WRITEBACK",
            u64::from(abi::IOEND_WRITEBACK),
        ),
    ] {
        rust.push((name.to_owned(), value));
    }
    let upcalls = [
        ("INIT", abi::FUSE_INIT),
        ("CONFIG", abi::FUSE_IOMAP_CONFIG),
        ("BEGIN", abi::FUSE_IOMAP_BEGIN),
        ("END", abi::FUSE_IOMAP_END),
        ("IOEND", abi::FUSE_IOMAP_IOEND),
        ("GET_FMAP", abi::FUSE_GET_FMAP),
        ("GET_DAXDEV", abi::FUSE_GET_DAXDEV),
    ];
    rust.extend(upcalls.iter().map(|(n, op)| {
        let index = counters::upcall_index(*op).unwrap();
        (format!("FUSE_IOMAP_UPCALL_{n}"), index as u64)
    }));
    let rejects = [
        ("HEADER", Reject::Header),
        ("UNIQUE", Reject::Unique),
        ("SIZE", Reject::Size),
        ("NOTIFY", Reject::Notify),
        ("MAPPING", Reject::Mapping),
        ("FMAP", Reject::Fmap),
        ("DAXDEV", Reject::Daxdev),
        ("INIT", Reject::Init),
    ];
    rust.extend(
        rejects
            .iter()
            .map(|(n, r)| (format!("FUSE_IOMAP_REJECT_{n}"), *r as u64)),
    );
    for (name, value) in &rust {
        assert_eq!(c.get(name), Some(value), "{name}");
    }
    assert_eq!(
        rust.len(),
        c.len(),
        "a constant of uapi.c has no Rust check"
    );
    for (raw, t) in types.iter().map(|(_, t)| (*t as u16, *t)) {
        assert_eq!(MappingType::from_raw(raw), Some(t));
    }
    assert!((5..253).all(|raw| MappingType::from_raw(raw).is_none()));
}

#[macro_export]
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
        layout!(
            abi::IomapIo,
            "fuse_iomap_io",
            [offset, length, addr, r#type = "type", flags, dev]
        ),
        layout!(
            abi::IomapBeginIn,
            "fuse_iomap_begin_in",
            [opflags, reserved, attr_ino, pos, count]
        ),
        layout!(abi::IomapBeginOut, "fuse_iomap_begin_out", [read, write]),
        layout!(abi::Range, "fuse_range", [offset, length]),
        layout!(
            abi::IomapInvalMappingsOut,
            "fuse_iomap_inval_mappings_out",
            [nodeid, attr_ino, read, write]
        ),
        layout!(
            abi::IomapUpsertMappingsOut,
            "fuse_iomap_upsert_mappings_out",
            [nodeid, attr_ino, read, write]
        ),
        layout!(
            abi::IocConfig,
            "fuse_iomap_ioc_config",
            [blocksize, cache_maxbytes, maxbytes]
        ),
        layout!(
            abi::IocDevice,
            "fuse_iomap_ioc_device",
            [dev, reserved, size]
        ),
        layout!(
            abi::IocLookup,
            "fuse_iomap_ioc_lookup",
            [nodeid, offset, fork, result, cookie, map]
        ),
        layout!(
            abi::IocDump,
            "fuse_iomap_ioc_dump",
            [nodeid, fork, count, records]
        ),
        layout!(
            abi::IocBegin,
            "fuse_iomap_ioc_begin",
            [nodeid, r#in = "in", out, cookie, source, retries]
        ),
        layout!(abi::IocValid, "fuse_iomap_ioc_valid", [nodeid, cookie]),
        layout!(
            abi::FamfsFmapHeader,
            "fuse_famfs_fmap_header",
            [
                file_type,
                reserved,
                fmap_version,
                ext_type,
                nextents,
                reserved0,
                file_size,
                reserved1
            ]
        ),
        layout!(
            abi::FamfsSimpleExt,
            "fuse_famfs_simple_ext",
            [se_devindex, reserved, se_offset, se_len]
        ),
        layout!(
            abi::FamfsIext,
            "fuse_famfs_iext",
            [ie_nstrips, ie_chunk_size, ie_nbytes, reserved]
        ),
        layout!(
            abi::IocFmap,
            "fuse_iomap_ioc_fmap",
            [nodeid, fmap, size, reserved]
        ),
        layout!(
            abi::IocResolve,
            "fuse_iomap_ioc_resolve",
            [nodeid, offset, length, dev_offset, dev_index, reserved]
        ),
        layout!(
            abi::IocFamfsInfo,
            "fuse_iomap_ioc_famfs_info",
            [nodeid, file_size, devices, nextents, ext_type, file_type, fenced, reserved]
        ),
        layout!(
            abi::DaxdevOut,
            "fuse_daxdev_out",
            [index, reserved, reserved2, dev, reserved4, name]
        ),
        layout!(
            abi::IocRead,
            "fuse_iomap_ioc_read",
            [nodeid, offset, length, buf]
        ),
        layout!(
            abi::InHeader,
            "fuse_in_header",
            [
                len,
                opcode,
                unique,
                nodeid,
                uid,
                gid,
                pid,
                total_extlen,
                padding
            ]
        ),
        layout!(abi::OutHeader, "fuse_out_header", [len, error, unique]),
        layout!(
            abi::InitIn,
            "fuse_init_in",
            [major, minor, max_readahead, flags, flags2, unused]
        ),
        layout!(
            abi::InitOut,
            "fuse_init_out",
            [
                major,
                minor,
                max_readahead,
                flags,
                max_background,
                congestion_threshold,
                max_write,
                time_gran,
                max_pages,
                map_alignment,
                flags2,
                unused
            ]
        ),
        layout!(
            abi::IomapConfigIn,
            "fuse_iomap_config_in",
            [flags, maxbytes, cache_maxbytes, zero, padding]
        ),
        layout!(
            abi::IomapConfigOut,
            "fuse_iomap_config_out",
            [flags, blocksize, cache_maxbytes, maxbytes, padding]
        ),
        layout!(
            abi::IomapEndIn,
            "fuse_iomap_end_in",
            [opflags, reserved, attr_ino, pos, count, written, map]
        ),
        layout!(
            abi::IomapIoendIn,
            "fuse_iomap_ioend_in",
            [flags, error, attr_ino, pos, new_addr, written, dev, pad]
        ),
        layout!(abi::IomapIoendOut, "fuse_iomap_ioend_out", [newsize]),
        layout!(abi::IocEnd, "fuse_iomap_ioc_end", [nodeid, r#in = "in"]),
        layout!(
            abi::IocIoend,
            "fuse_iomap_ioc_ioend",
            [nodeid, r#in = "in", newsize]
        ),
        layout!(abi::IocSetsize, "fuse_iomap_ioc_setsize", [nodeid, size]),
        layout!(
            abi::Counters,
            "fuse_iomap_counters",
            [
                cache_hits,
                cache_misses,
                bpf_answers,
                retries,
                interrupted,
                upcalls,
                rejected,
                cache_bytes,
                cache_budget
            ]
        ),
    ]
    .concat();
    for (name, value) in &rust {
        assert_eq!(c.get(name), Some(value), "{name}");
    }
    assert_eq!(
        rust.len(),
        c.len(),
        "a layout entry of uapi.c has no Rust check"
    );
}
