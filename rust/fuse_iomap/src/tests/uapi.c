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
	V(FUSE_IOMAP_CONFIG),
	V(FUSE_IOMAP_IOEND),
	V(FUSE_IOMAP_BEGIN),
	V(FUSE_IOMAP_END),
	V(FUSE_IOMAP),
	V(FUSE_NOTIFY_IOMAP_DEV_INVAL),
	V(FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS),
	V(FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS),
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
	V(FUSE_IOMAP_F_SIZE_CHANGED),
	V(FUSE_IOMAP_F_STALE),
	V(FUSE_IOMAP_OP_WRITE),
	V(FUSE_IOMAP_OP_ZERO),
	V(FUSE_IOMAP_OP_REPORT),
	V(FUSE_IOMAP_OP_FAULT),
	V(FUSE_IOMAP_OP_DIRECT),
	V(FUSE_IOMAP_OP_NOWAIT),
	V(FUSE_IOMAP_OP_OVERWRITE_ONLY),
	V(FUSE_IOMAP_OP_UNSHARE),
	V(FUSE_IOMAP_OP_DAX),
	V(FUSE_IOMAP_OP_ATOMIC),
	V(FUSE_IOMAP_OP_DONTCACHE),
	V(FUSE_IOMAP_OP_SWAPFILE),
	V(FUSE_IOMAP_OP_WRITEBACK),
	V(FUSE_IOMAP_CONFIG_BLOCKSIZE),
	V(FUSE_IOMAP_CONFIG_MAXBYTES),
	V(FUSE_IOMAP_CONFIG_CACHE_MAXBYTES),
	V(FUSE_IOMAP_INVAL_TO_EOF),
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
	SIZE(fuse_iomap_end_in),
	OFF(fuse_iomap_end_in, opflags), OFF(fuse_iomap_end_in, reserved),
	OFF(fuse_iomap_end_in, attr_ino), OFF(fuse_iomap_end_in, pos),
	OFF(fuse_iomap_end_in, count), OFF(fuse_iomap_end_in, written),
	OFF(fuse_iomap_end_in, map),
	SIZE(fuse_iomap_ioend_in),
	OFF(fuse_iomap_ioend_in, flags), OFF(fuse_iomap_ioend_in, error),
	OFF(fuse_iomap_ioend_in, attr_ino), OFF(fuse_iomap_ioend_in, pos),
	OFF(fuse_iomap_ioend_in, new_addr), OFF(fuse_iomap_ioend_in, written),
	OFF(fuse_iomap_ioend_in, dev), OFF(fuse_iomap_ioend_in, pad),
	SIZE(fuse_iomap_ioend_out),
	OFF(fuse_iomap_ioend_out, newsize),
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
	SIZE(fuse_iomap_config_in),
	OFF(fuse_iomap_config_in, flags), OFF(fuse_iomap_config_in, maxbytes),
	OFF(fuse_iomap_config_in, cache_maxbytes),
	OFF(fuse_iomap_config_in, zero), OFF(fuse_iomap_config_in, padding),
};
const unsigned long uapi_layout_len = sizeof(uapi_layout) / sizeof(uapi_layout[0]);
