/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the sample programs share: the kfuncs of fuse_iomap.ko, the
 * operation flags they test, and the layouts the server writes into their
 * maps (the server's Rust side gets them from the skeletons). Everything
 * else, the struct_ops type, the answers (FIB_*) and the mapping types
 * (FUSE_IOMAP_BPF_*), comes from the module's BTF through vmlinux.h.
 */
#ifndef FUSE_IOMAP_BPF_H
#define FUSE_IOMAP_BPF_H

extern __u64 fuse_bpf_inode_nodeid(struct fuse_bpf_inode *fbi) __ksym;
extern __u64 fuse_bpf_inode_orig_ino(struct fuse_bpf_inode *fbi) __ksym;
extern int fuse_bpf_iomap_upsert_mappings(struct fuse_bpf_inode *fbi,
					  const struct fuse_iomap_io *read,
					  const struct fuse_iomap_io *write) __ksym;
extern int fuse_bpf_iomap_inval_mappings(struct fuse_bpf_inode *fbi,
					 const struct fuse_range *read,
					 const struct fuse_range *write) __ksym;

/*
 * The FUSE_IOMAP_OP_* flags the programs test, as in
 * include/uapi/linux/fuse_iomap.h: they are macros, which BTF (and so
 * vmlinux.h) does not carry.
 */
#define FUSE_IOMAP_OP_ATOMIC		(1U << 9)
#define FUSE_IOMAP_OP_SWAPFILE		(1U << 30)
#define FUSE_IOMAP_OP_WRITEBACK		(1U << 31)

/* struct famfs_layout, and its resolution. */
#include "fuse_iomap_famfs_resolve.h"

/*
 * Disk file nodeid: blocks blocks in extents of extent_blocks, on dev;
 * upsert: push the extent and answer RETRY_CACHE, else answer it.
 */
struct disk_layout {
	__u64 nodeid;
	__u64 blocks;
	__u64 extent_blocks;
	__u32 dev;
	__u32 blocksize;
	__u32 upsert;
	__u32 pad;
};

#define DISKFS_BPF_MAX_EXTENTS	32

/* A MAPPED extent of a file of the mounted disk file system, in bytes. */
struct diskfs_extent {
	__u64 offset;
	__u64 length;
	__u64 addr;
};

/*
 * A file of the mounted disk file system: nextents of its MAPPED extents
 * on device dev, sorted by offset, not overlapping (the first
 * DISKFS_BPF_MAX_EXTENTS of them, if it has more). The server rewrites an
 * entry in place, under lock (BPF_F_LOCK); the program reads it under lock.
 */
struct diskfs_file {
	struct bpf_spin_lock lock;
	__u32 nextents;
	__u32 dev;
	__u32 pad;
	struct diskfs_extent extents[DISKFS_BPF_MAX_EXTENTS];
};

#endif
