// SPDX-License-Identifier: GPL-2.0
/*
 * The values of include/uapi/linux/fuse_iomap.h as a C compiler sees them,
 * for the host tests to compare with fs/fuse_iomap/abi.rs: every constant,
 * and the size and field offsets of every structure.
 */
#include <stddef.h>
#include <linux/fuse_iomap.h>

struct uapi_value {
	const char *name;
	unsigned long long value;
};

const char uapi_dev_name[] = FUSE_IOMAP_DEV_NAME;

#define V(x)		{ #x, (unsigned long long)(x) }
#define SIZE(s)		{ "sizeof " #s, sizeof(struct s) }
#define OFF(s, f)	{ #s "." #f, offsetof(struct s, f) }

const struct uapi_value uapi_values[] = {
	V(FUSE_IOMAP_ABI_VERSION),
	V(FUSE_IOMAP_IOC_VERSION),
	V(FUSE_IOMAP_TYPE_HOLE),
	V(FUSE_IOMAP_TYPE_DELALLOC),
	V(FUSE_IOMAP_TYPE_MAPPED),
	V(FUSE_IOMAP_TYPE_UNWRITTEN),
	V(FUSE_IOMAP_TYPE_INLINE),
	V(FUSE_IOMAP_TYPE_NOCACHE),
	V(FUSE_IOMAP_TYPE_RETRY_CACHE),
	V(FUSE_IOMAP_TYPE_PURE_OVERWRITE),
	V(FUSE_IOMAP_DEV_NULL),
	V(FUSE_IOMAP_NULL_ADDR),
	V(FUSE_IOMAP_F_NEW | FUSE_IOMAP_F_DIRTY | FUSE_IOMAP_F_SHARED |
	  FUSE_IOMAP_F_MERGED | FUSE_IOMAP_F_BOUNDARY | FUSE_IOMAP_F_ANON_WRITE |
	  FUSE_IOMAP_F_ATOMIC_BIO | FUSE_IOMAP_F_WANT_IOMAP_END),
	V(FUSE_IOMAP_OP_WRITE),
	V(FUSE_IOMAP_OP_ZERO),
	V(FUSE_IOMAP_OP_DIRECT),
	V(FUSE_IOMAP_OP_NOWAIT),
	V(FUSE_IOMAP_OP_UNSHARE),
	V(FUSE_IOMAP_OP_ATOMIC),
	V(FUSE_IOMAP_OP_SWAPFILE),
	V(FUSE_IOMAP_OP_WRITEBACK),
	V(FUSE_IOMAP_OP_WRITE | FUSE_IOMAP_OP_ZERO | FUSE_IOMAP_OP_REPORT |
	  FUSE_IOMAP_OP_FAULT | FUSE_IOMAP_OP_DIRECT | FUSE_IOMAP_OP_NOWAIT |
	  FUSE_IOMAP_OP_OVERWRITE_ONLY | FUSE_IOMAP_OP_UNSHARE | FUSE_IOMAP_OP_DAX |
	  FUSE_IOMAP_OP_ATOMIC | FUSE_IOMAP_OP_DONTCACHE | FUSE_IOMAP_OP_SWAPFILE |
	  FUSE_IOMAP_OP_WRITEBACK),
	V(FUSE_IOMAP_INVAL_TO_EOF),
	V(FUSE_IOMAP_FORK_READ),
	V(FUSE_IOMAP_FORK_WRITE),
	V(FUSE_IOMAP_LOOKUP_HIT),
	V(FUSE_IOMAP_LOOKUP_MISS),
	V(FUSE_IOMAP_LOOKUP_NOFORK),
	V(FUSE_IOMAP_IOC_CONFIG),
	V(FUSE_IOMAP_IOC_ADD_DEVICE),
	V(FUSE_IOMAP_IOC_UPSERT),
	V(FUSE_IOMAP_IOC_INVAL),
	V(FUSE_IOMAP_IOC_LOOKUP),
	V(FUSE_IOMAP_IOC_DUMP),
	V(FUSE_IOMAP_IOC_FORGET),
	V(FUSE_IOMAP_IOC_BEGIN),
	V(FUSE_IOMAP_IOC_VALID),
	V(FUSE_IOMAP_SOURCE_CACHE),
	V(FUSE_IOMAP_SOURCE_BPF),
	V(FUSE_IOMAP_SOURCE_UPCALL),
	V(FUSE_IOMAP_IOC_FAMFS_SET_FMAP),
	V(FUSE_IOMAP_IOC_FAMFS_RESOLVE),
	V(FUSE_IOMAP_IOC_FAMFS_INFO),
	V(FUSE_IOMAP_IOC_FAMFS_DAXDEV),
	V(FUSE_IOMAP_IOC_FAMFS_READ),
	V(FAMFS_FMAP_VERSION),
	V(FUSE_FAMFS_MAX_EXTENTS),
	V(FUSE_FAMFS_MAX_STRIPS),
	V(FUSE_FAMFS_MAX_DAXDEVS),
	V(FUSE_FAMFS_ALIGNMENT),
	V(FUSE_FAMFS_EXT_SIMPLE),
	V(FUSE_FAMFS_EXT_INTERLEAVE),
};
const unsigned long uapi_values_len = sizeof(uapi_values) / sizeof(uapi_values[0]);

const struct uapi_value uapi_layout[] = {
	SIZE(fuse_iomap_io),
	OFF(fuse_iomap_io, offset), OFF(fuse_iomap_io, length),
	OFF(fuse_iomap_io, addr), OFF(fuse_iomap_io, type),
	OFF(fuse_iomap_io, flags), OFF(fuse_iomap_io, dev),
	SIZE(fuse_iomap_begin_in),
	OFF(fuse_iomap_begin_in, opflags), OFF(fuse_iomap_begin_in, reserved),
	OFF(fuse_iomap_begin_in, attr_ino), OFF(fuse_iomap_begin_in, pos),
	OFF(fuse_iomap_begin_in, count),
	SIZE(fuse_iomap_begin_out),
	OFF(fuse_iomap_begin_out, read), OFF(fuse_iomap_begin_out, write),
	SIZE(fuse_range),
	OFF(fuse_range, offset), OFF(fuse_range, length),
	SIZE(fuse_iomap_inval_mappings_out),
	OFF(fuse_iomap_inval_mappings_out, nodeid),
	OFF(fuse_iomap_inval_mappings_out, attr_ino),
	OFF(fuse_iomap_inval_mappings_out, read),
	OFF(fuse_iomap_inval_mappings_out, write),
	SIZE(fuse_iomap_upsert_mappings_out),
	OFF(fuse_iomap_upsert_mappings_out, nodeid),
	OFF(fuse_iomap_upsert_mappings_out, attr_ino),
	OFF(fuse_iomap_upsert_mappings_out, read),
	OFF(fuse_iomap_upsert_mappings_out, write),
	SIZE(fuse_iomap_ioc_config),
	OFF(fuse_iomap_ioc_config, blocksize),
	OFF(fuse_iomap_ioc_config, cache_maxbytes),
	OFF(fuse_iomap_ioc_config, maxbytes),
	SIZE(fuse_iomap_ioc_device),
	OFF(fuse_iomap_ioc_device, dev), OFF(fuse_iomap_ioc_device, reserved),
	OFF(fuse_iomap_ioc_device, size),
	SIZE(fuse_iomap_ioc_lookup),
	OFF(fuse_iomap_ioc_lookup, nodeid), OFF(fuse_iomap_ioc_lookup, offset),
	OFF(fuse_iomap_ioc_lookup, fork), OFF(fuse_iomap_ioc_lookup, result),
	OFF(fuse_iomap_ioc_lookup, cookie), OFF(fuse_iomap_ioc_lookup, map),
	SIZE(fuse_iomap_ioc_dump),
	OFF(fuse_iomap_ioc_dump, nodeid), OFF(fuse_iomap_ioc_dump, fork),
	OFF(fuse_iomap_ioc_dump, count), OFF(fuse_iomap_ioc_dump, records),
	SIZE(fuse_iomap_ioc_begin),
	OFF(fuse_iomap_ioc_begin, nodeid), OFF(fuse_iomap_ioc_begin, in),
	OFF(fuse_iomap_ioc_begin, out), OFF(fuse_iomap_ioc_begin, cookie),
	OFF(fuse_iomap_ioc_begin, source), OFF(fuse_iomap_ioc_begin, retries),
	SIZE(fuse_iomap_ioc_valid),
	OFF(fuse_iomap_ioc_valid, nodeid), OFF(fuse_iomap_ioc_valid, cookie),
	SIZE(fuse_famfs_fmap_header),
	OFF(fuse_famfs_fmap_header, file_type), OFF(fuse_famfs_fmap_header, reserved),
	OFF(fuse_famfs_fmap_header, fmap_version), OFF(fuse_famfs_fmap_header, ext_type),
	OFF(fuse_famfs_fmap_header, nextents), OFF(fuse_famfs_fmap_header, reserved0),
	OFF(fuse_famfs_fmap_header, file_size), OFF(fuse_famfs_fmap_header, reserved1),
	SIZE(fuse_famfs_simple_ext),
	OFF(fuse_famfs_simple_ext, se_devindex), OFF(fuse_famfs_simple_ext, reserved),
	OFF(fuse_famfs_simple_ext, se_offset), OFF(fuse_famfs_simple_ext, se_len),
	SIZE(fuse_famfs_iext),
	OFF(fuse_famfs_iext, ie_nstrips), OFF(fuse_famfs_iext, ie_chunk_size),
	OFF(fuse_famfs_iext, ie_nbytes), OFF(fuse_famfs_iext, reserved),
	SIZE(fuse_iomap_ioc_fmap),
	OFF(fuse_iomap_ioc_fmap, nodeid), OFF(fuse_iomap_ioc_fmap, fmap),
	OFF(fuse_iomap_ioc_fmap, size), OFF(fuse_iomap_ioc_fmap, reserved),
	SIZE(fuse_iomap_ioc_resolve),
	OFF(fuse_iomap_ioc_resolve, nodeid), OFF(fuse_iomap_ioc_resolve, offset),
	OFF(fuse_iomap_ioc_resolve, length), OFF(fuse_iomap_ioc_resolve, dev_offset),
	OFF(fuse_iomap_ioc_resolve, dev_index), OFF(fuse_iomap_ioc_resolve, reserved),
	SIZE(fuse_iomap_ioc_famfs_info),
	OFF(fuse_iomap_ioc_famfs_info, nodeid), OFF(fuse_iomap_ioc_famfs_info, file_size),
	OFF(fuse_iomap_ioc_famfs_info, devices), OFF(fuse_iomap_ioc_famfs_info, nextents),
	OFF(fuse_iomap_ioc_famfs_info, ext_type), OFF(fuse_iomap_ioc_famfs_info, file_type),
	OFF(fuse_iomap_ioc_famfs_info, fenced), OFF(fuse_iomap_ioc_famfs_info, reserved),
	SIZE(fuse_daxdev_out),
	OFF(fuse_daxdev_out, index), OFF(fuse_daxdev_out, reserved),
	OFF(fuse_daxdev_out, reserved2), OFF(fuse_daxdev_out, reserved3),
	OFF(fuse_daxdev_out, reserved4), OFF(fuse_daxdev_out, name),
	SIZE(fuse_iomap_ioc_read),
	OFF(fuse_iomap_ioc_read, nodeid), OFF(fuse_iomap_ioc_read, offset),
	OFF(fuse_iomap_ioc_read, length), OFF(fuse_iomap_ioc_read, buf),
};
const unsigned long uapi_layout_len = sizeof(uapi_layout) / sizeof(uapi_layout[0]);
