// SPDX-License-Identifier: GPL-2.0
/*
 * The mounted disk file system (fuse-iomap-server mount disk --bpf) in BPF.
 * The server puts each open file's MAPPED extents into diskfs_files, keyed
 * by nodeid (struct diskfs_file). iomap_begin at pos inside one of them
 * upserts that extent into the inode's mapping cache with the kfunc and
 * answers RETRY_CACHE, as the server's own answer upserts it: the kernel
 * then finds it in the cache, and so does every later iomap_begin in the
 * extent, without BPF. Everything else falls back to the server's upcall:
 * a file not in the map, a hole, an unwritten extent, a write that needs
 * blocks, an extent past the first DISKFS_BPF_MAX_EXTENTS, writeback, and
 * atomic and swapfile mappings (which may not retry the cache). iomap_end
 * and ioend are not answered: the server converts unwritten extents and
 * grows the size at ioend.
 *
 * Never a stale mapping. The program reads an entry and upserts later: an
 * entry the server rewrites, and a cache it invalidates, in between would
 * leave the old extent in the cache. So:
 *
 * - the program answers only I/O under the inode's i_rwsem or its
 *   invalidate lock (reads, writes, direct I/O, faults, fiemap), which
 *   truncation and fallocate hold exclusively across their SETATTR and
 *   FALLOCATE requests: no program run overlaps a request that frees
 *   blocks. Writeback holds neither, so it falls back;
 * - the server rewrites a file's entry after changing its extents and
 *   before it invalidates the cache and replies (truncation, hole
 *   punching, unwritten-to-written conversion at ioend): the next run
 *   after the request finds the new entry;
 * - ioend conversion only adds MAPPED extents: a run that read the old
 *   entry found the range absent and fell back;
 * - an entry is deleted when its inode is reaped, when the kernel has no
 *   inode for it any more; nodeids are never reused;
 * - entries are rewritten in place, under the entry's lock, never replaced
 *   (a hash map reuses a replaced element at once), so a run never reads
 *   one half rewritten.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_iomap_bpf.h"

char LICENSE[] SEC("license") = "GPL";

/*
 * No global of the entry type gives it to the skeleton, as the other
 * programs do with theirs: a global lives in .bss, a map that libbpf maps
 * into the process, and the kernel refuses to map a bpf_spin_lock. The
 * server writes struct diskfs_file field by field.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct diskfs_file);
} diskfs_files SEC(".maps");

/* I/O that the server must answer, or that may not retry the cache. */
#define DISKFS_FALLBACK_OPS \
	(FUSE_IOMAP_OP_WRITEBACK | FUSE_IOMAP_OP_ATOMIC | FUSE_IOMAP_OP_SWAPFILE)

SEC("struct_ops.s/iomap_begin")
int BPF_PROG(diskfs_iomap_begin, struct fuse_bpf_inode *fbi, __u64 pos, __u64 count,
	     __u32 opflags, struct fuse_iomap_begin_out *out)
{
	__u64 nodeid = fuse_bpf_inode_nodeid(fbi);
	struct fuse_iomap_io map = {};
	struct diskfs_file *f;
	bool found = false;
	__u32 i;

	if (opflags & DISKFS_FALLBACK_OPS)
		return FIB_FALLBACK;
	f = bpf_map_lookup_elem(&diskfs_files, &nodeid);
	if (!f)
		return FIB_FALLBACK;
	bpf_spin_lock(&f->lock);
	for (i = 0; i < DISKFS_BPF_MAX_EXTENTS && i < f->nextents; i++) {
		struct diskfs_extent *e = &f->extents[i];

		/* Sorted: pos is in no later extent either. */
		if (pos < e->offset)
			break;
		if (pos - e->offset < e->length) {
			map.offset = e->offset;
			map.length = e->length;
			map.addr = e->addr;
			map.dev = f->dev;
			found = true;
			break;
		}
	}
	bpf_spin_unlock(&f->lock);
	if (!found)
		return FIB_FALLBACK;
	map.type = FUSE_IOMAP_BPF_MAPPED;
	if (fuse_bpf_iomap_upsert_mappings(fbi, &map, NULL))
		return FIB_FALLBACK;
	out->read.type = FUSE_IOMAP_BPF_RETRY_CACHE;
	return FIB_HANDLED;
}

SEC(".struct_ops.link")
struct fuse_iomap_bpf_ops diskfs_ops = {
	.iomap_begin = (void *)diskfs_iomap_begin,
	.name = "diskfs",
};
