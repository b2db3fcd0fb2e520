// SPDX-License-Identifier: GPL-2.0
/*
 * famfs interleave resolution in BPF: iomap_begin of a striped famfs file
 * is answered from the file's layout, which the server puts in
 * famfs_layouts when the file is opened (GET_FMAP), so that a read of the
 * file needs no FUSE_IOMAP_BEGIN upcall. Chunk n of the file is in strip
 * n % nstrips, at (n / nstrips) * chunk within it. A file the map does not
 * hold falls back to the server.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_iomap_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/* Unused: it gives the skeleton the layout type, for the server to fill. */
struct famfs_layout famfs_layout_type;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct famfs_layout);
} famfs_layouts SEC(".maps");

SEC("struct_ops/iomap_begin")
int BPF_PROG(famfs_iomap_begin, struct fuse_bpf_inode *fbi, __u64 pos, __u64 count,
	     __u32 opflags, struct fuse_iomap_begin_out *out)
{
	__u64 nodeid = fuse_bpf_inode_nodeid(fbi);
	struct famfs_layout *l = bpf_map_lookup_elem(&famfs_layouts, &nodeid);
	__u64 chunk, within;
	__u32 strip;

	if (!l || !l->chunk || !l->nstrips || pos >= l->size)
		return FIB_FALLBACK;
	chunk = pos / l->chunk;
	within = pos % l->chunk;
	strip = chunk % l->nstrips;
	if (strip >= FAMFS_BPF_MAX_STRIPS)
		return FIB_FALLBACK;
	out->read.offset = pos - within;
	out->read.length = l->chunk;
	/* The mask repeats the bound above where the verifier sees it. */
	out->read.addr = l->strip_off[strip & (FAMFS_BPF_MAX_STRIPS - 1)] +
			 chunk / l->nstrips * l->chunk;
	out->read.type = FUSE_IOMAP_BPF_MAPPED;
	out->read.dev = l->dev;
	out->write.type = FUSE_IOMAP_BPF_NOCACHE;
	return FIB_HANDLED;
}

SEC(".struct_ops.link")
struct fuse_iomap_bpf_ops famfs_ops = {
	.iomap_begin = (void *)famfs_iomap_begin,
	.name = "famfs",
};
