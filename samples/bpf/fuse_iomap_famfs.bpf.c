// SPDX-License-Identifier: GPL-2.0
/*
 * famfs interleave resolution in BPF: iomap_begin of a striped famfs file
 * is answered from the file's layout, which the server puts in
 * famfs_layouts when the file is opened (GET_FMAP), so that a read of the
 * file needs no FUSE_IOMAP_BEGIN upcall. The resolution is
 * fuse_iomap_famfs_resolve.h's, which the host tests compare with the
 * module's. A file the map does not hold, and a byte that has no mapping
 * (past the file, or past a strip shorter than its chunks), fall back to
 * the server.
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
	struct famfs_chunk_map m;

	if (!l || famfs_resolve(l, pos, &m))
		return FIB_FALLBACK;
	out->read.offset = m.offset;
	out->read.length = m.length;
	out->read.addr = m.addr;
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
