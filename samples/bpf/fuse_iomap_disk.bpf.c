// SPDX-License-Identifier: GPL-2.0
/*
 * A disk file's extent map in BPF. iomap_begin of the file named in
 * disk_layout computes the extent that holds pos: block b is in the extent
 * of extent_blocks blocks that holds it, at twice its file offset on the
 * device. With upsert set, the program pushes the extent into the cache
 * with the kfunc and answers RETRY_CACHE, so that the kernel (and every
 * later iomap_begin in the extent) finds it there; without, it answers the
 * mapping itself, which the kernel does not cache. Another file falls back
 * to the server. It also takes iomap_end (nothing to do) and ioend (the
 * file's size does not change) of the file, so that neither is sent.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_iomap_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Unused: it gives the skeleton the layout type, for the server to fill. */
struct disk_layout disk_layout_type;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct disk_layout);
} disk_layout SEC(".maps");

/* The layout, if it is nodeid's. */
static struct disk_layout *layout_of(struct fuse_bpf_inode *fbi)
{
	__u32 zero = 0;
	struct disk_layout *d = bpf_map_lookup_elem(&disk_layout, &zero);

	return d && d->nodeid == fuse_bpf_inode_nodeid(fbi) ? d : NULL;
}

SEC("struct_ops.s/iomap_begin")
int BPF_PROG(disk_iomap_begin, struct fuse_bpf_inode *fbi, __u64 pos, __u64 count,
	     __u32 opflags, struct fuse_iomap_begin_out *out)
{
	struct disk_layout *d = layout_of(fbi);
	struct fuse_iomap_io map = {};
	__u64 block, first, n;

	if (!d || !d->extent_blocks || !d->blocksize)
		return FIB_FALLBACK;
	block = pos / d->blocksize;
	if (block >= d->blocks)
		return FIB_FALLBACK;
	first = block / d->extent_blocks * d->extent_blocks;
	n = d->blocks - first < d->extent_blocks ? d->blocks - first : d->extent_blocks;
	map.offset = first * d->blocksize;
	map.length = n * d->blocksize;
	map.addr = 2 * first * d->blocksize;
	map.type = FUSE_IOMAP_BPF_MAPPED;
	map.dev = d->dev;
	if (!d->upsert) {
		out->read = map;
		out->write.type = FUSE_IOMAP_BPF_NOCACHE;
		return FIB_HANDLED;
	}
	if (fuse_bpf_iomap_upsert_mappings(fbi, &map, NULL))
		return FIB_FALLBACK;
	out->read.type = FUSE_IOMAP_BPF_RETRY_CACHE;
	return FIB_HANDLED;
}

SEC("struct_ops/iomap_end")
int BPF_PROG(disk_iomap_end, struct fuse_bpf_inode *fbi, __u64 pos, __u64 count,
	     __s64 written, __u32 opflags)
{
	return layout_of(fbi) ? FIB_HANDLED : FIB_FALLBACK;
}

SEC("struct_ops/iomap_ioend")
int BPF_PROG(disk_iomap_ioend, struct fuse_bpf_inode *fbi,
	     const struct fuse_iomap_ioend_in *in, struct fuse_iomap_ioend_out *out)
{
	struct disk_layout *d = layout_of(fbi);

	if (!d)
		return FIB_FALLBACK;
	out->newsize = d->blocks * d->blocksize;
	return FIB_HANDLED;
}

SEC(".struct_ops.link")
struct fuse_iomap_bpf_ops disk_ops = {
	.iomap_begin = (void *)disk_iomap_begin,
	.iomap_end = (void *)disk_iomap_end,
	.iomap_ioend = (void *)disk_iomap_ioend,
	.name = "disk",
};
