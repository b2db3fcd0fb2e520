// SPDX-License-Identifier: GPL-2.0
/*
 * A program that writes where it may not, into the inode it is handed: the
 * verifier refuses it ("Cannot write to memory from a fuse-iomap
 * program"). For the selftests.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "fuse_iomap_bpf.h"

char LICENSE[] SEC("license") = "GPL";

SEC("struct_ops/iomap_begin")
int BPF_PROG(forbidden_iomap_begin, struct fuse_bpf_inode *fbi, __u64 pos, __u64 count,
	     __u32 opflags, struct fuse_iomap_begin_out *out)
{
	fbi->nodeid = 0;
	return FIB_FALLBACK;
}

SEC(".struct_ops.link")
struct fuse_iomap_bpf_ops forbidden_ops = {
	.iomap_begin = (void *)forbidden_iomap_begin,
	.name = "forbidden",
};
