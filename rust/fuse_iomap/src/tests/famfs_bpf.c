// SPDX-License-Identifier: GPL-2.0
/*
 * The famfs BPF program's resolution (samples/bpf/fuse_iomap_famfs_resolve.h),
 * compiled for the host, for famfs_bpf.rs to compare with fmap.rs.
 */
/* __u64 and __always_inline, as vmlinux.h and bpf_helpers.h give them in BPF. */
#include <linux/types.h>

#include "fuse_iomap_famfs_resolve.h"

int famfs_bpf_resolve(const struct famfs_layout *l, __u64 pos, struct famfs_chunk_map *out)
{
	return famfs_resolve(l, pos, out);
}
