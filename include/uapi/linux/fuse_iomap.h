/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fuse_iomap: the userspace ABI of the reference kernel half of fuse iomap
 * and famfs.
 *
 * The module registers one character device, /dev/fuse-iomap. Every open of
 * it is one connection, and its file descriptor is the server's: a channel
 * framed like /dev/fuse (read requests, write replies and notifications) on
 * which the server's ioctls are also issued. FUSE_IOMAP_IOC_CLIENT makes a
 * client handle of the connection, on which tests play the VFS.
 *
 * The Rust mirror of this header is fs/fuse_iomap/abi.rs; the host tests and
 * the selftests check that both agree.
 */
#ifndef _UAPI_LINUX_FUSE_IOMAP_H
#define _UAPI_LINUX_FUSE_IOMAP_H

#include <linux/fuse.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Name of the device node under /dev. */
#define FUSE_IOMAP_DEV_NAME		"fuse-iomap"

/*
 * Version of this ABI, as returned by FUSE_IOMAP_IOC_VERSION. It is bumped by
 * every change that an existing server or test could notice.
 */
#define FUSE_IOMAP_ABI_VERSION		3

/*
 * The ioctl type is fuse's own (FUSE_DEV_IOC_MAGIC, 229); the numbers start
 * at 0x80 so that they never collide with /dev/fuse's ioctls.
 */
#define FUSE_IOMAP_IOC_MAGIC		229

/* Read the ABI version (a __u32) of the loaded module. */
#define FUSE_IOMAP_IOC_VERSION		_IOR(FUSE_IOMAP_IOC_MAGIC, 0x80, __u32)


/*
 * The fuse iomap wire ABI: the additions to include/uapi/linux/fuse.h of the
 * "fuse: allow servers to use iomap" and "fuse: cache iomap mappings" series,
 * with the same names and values. Sizes are given for x86-64; no structure
 * has implicit padding.
 */

/* Opcodes of the upcalls. */
#define FUSE_IOMAP_CONFIG		4092
#define FUSE_IOMAP_IOEND		4093
#define FUSE_IOMAP_BEGIN		4094
#define FUSE_IOMAP_END			4095

/*
 * FUSE_INIT flag: the connection uses iomap. The iomap series (v5) and the
 * famfs series (V10) both claim bit 43; famfs keeps it (FUSE_DAX_FMAP) and
 * iomap takes the next free bit.
 */
#define FUSE_IOMAP			(1ULL << 44)

/* Codes of the notifications (server to kernel, unique == 0). */
#define FUSE_NOTIFY_IOMAP_DEV_INVAL		99
#define FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS	100
#define FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS	101

/* Mapping types (fuse_iomap_io.type). */
#define FUSE_IOMAP_TYPE_HOLE		0
#define FUSE_IOMAP_TYPE_DELALLOC	1
#define FUSE_IOMAP_TYPE_MAPPED		2
#define FUSE_IOMAP_TYPE_UNWRITTEN	3
#define FUSE_IOMAP_TYPE_INLINE		4
/* Special types: never stored as such except PURE_OVERWRITE. */
#define FUSE_IOMAP_TYPE_NOCACHE		253	/* skip this fork */
#define FUSE_IOMAP_TYPE_RETRY_CACHE	254	/* I upserted, look again */
#define FUSE_IOMAP_TYPE_PURE_OVERWRITE	255	/* writes use the read mapping */

#define FUSE_IOMAP_DEV_NULL		0U
#define FUSE_IOMAP_NULL_ADDR		(~0ULL)

/* Mapping flags (fuse_iomap_io.flags). Bits 0-7 are accepted from a server. */
#define FUSE_IOMAP_F_NEW		(1U << 0)
#define FUSE_IOMAP_F_DIRTY		(1U << 1)
#define FUSE_IOMAP_F_SHARED		(1U << 2)
#define FUSE_IOMAP_F_MERGED		(1U << 3)
#define FUSE_IOMAP_F_BOUNDARY		(1U << 4)
#define FUSE_IOMAP_F_ANON_WRITE		(1U << 5)
#define FUSE_IOMAP_F_ATOMIC_BIO		(1U << 6)
#define FUSE_IOMAP_F_WANT_IOMAP_END	(1U << 7)
/* Kernel to server only. */
#define FUSE_IOMAP_F_SIZE_CHANGED	(1U << 8)
#define FUSE_IOMAP_F_STALE		(1U << 9)

/* Operation flags (fuse_iomap_begin_in.opflags). */
#define FUSE_IOMAP_OP_WRITE		(1U << 0)
#define FUSE_IOMAP_OP_ZERO		(1U << 1)
#define FUSE_IOMAP_OP_REPORT		(1U << 2)
#define FUSE_IOMAP_OP_FAULT		(1U << 3)
#define FUSE_IOMAP_OP_DIRECT		(1U << 4)
#define FUSE_IOMAP_OP_NOWAIT		(1U << 5)
#define FUSE_IOMAP_OP_OVERWRITE_ONLY	(1U << 6)
#define FUSE_IOMAP_OP_UNSHARE		(1U << 7)
#define FUSE_IOMAP_OP_DAX		(1U << 8)
#define FUSE_IOMAP_OP_ATOMIC		(1U << 9)
#define FUSE_IOMAP_OP_DONTCACHE		(1U << 10)
#define FUSE_IOMAP_OP_SWAPFILE		(1U << 30)
#define FUSE_IOMAP_OP_WRITEBACK		(1U << 31)

/* Ioend flags (fuse_iomap_ioend_in.flags). */
#define FUSE_IOMAP_IOEND_SHARED		(1U << 0)
#define FUSE_IOMAP_IOEND_UNWRITTEN	(1U << 1)
#define FUSE_IOMAP_IOEND_BOUNDARY	(1U << 2)
#define FUSE_IOMAP_IOEND_DIRECT		(1U << 3)
#define FUSE_IOMAP_IOEND_APPEND		(1U << 4)
#define FUSE_IOMAP_IOEND_WRITEBACK	(1U << 5)
#define FUSE_IOMAP_IOEND_SWAPOFF	(1U << 6)

/* IOMAP_CONFIG flags (fuse_iomap_config_in.flags). */
#define FUSE_IOMAP_CONFIG_SID		(1ULL << 0)
#define FUSE_IOMAP_CONFIG_UUID		(1ULL << 1)
#define FUSE_IOMAP_CONFIG_BLOCKSIZE	(1ULL << 2)
#define FUSE_IOMAP_CONFIG_MAX_LINKS	(1ULL << 3)
#define FUSE_IOMAP_CONFIG_TIME		(1ULL << 4)
#define FUSE_IOMAP_CONFIG_MAXBYTES	(1ULL << 5)
#define FUSE_IOMAP_CONFIG_CACHE_MAXBYTES (1ULL << 6)

/* Invalidation length that means "to the end of the file". */
#define FUSE_IOMAP_INVAL_TO_EOF		(~0ULL)

/* One mapping (32 bytes); also the mapping cache's record. */
struct fuse_iomap_io {
	__u64 offset;	/* file offset, bytes */
	__u64 length;	/* bytes */
	__u64 addr;	/* device address, bytes, or FUSE_IOMAP_NULL_ADDR */
	__u16 type;	/* FUSE_IOMAP_TYPE_* */
	__u16 flags;	/* FUSE_IOMAP_F_* */
	__u32 dev;	/* device cookie, or FUSE_IOMAP_DEV_NULL */
};

/* FUSE_IOMAP_BEGIN request (32 bytes). */
struct fuse_iomap_begin_in {
	__u32 opflags;	/* FUSE_IOMAP_OP_* */
	__u32 reserved;
	__u64 attr_ino;
	__u64 pos;
	__u64 count;
};

/* FUSE_IOMAP_BEGIN reply (64 bytes). */
struct fuse_iomap_begin_out {
	struct fuse_iomap_io read;
	struct fuse_iomap_io write;
};

/* FUSE_IOMAP_END request (72 bytes). */
struct fuse_iomap_end_in {
	__u32 opflags;
	__u32 reserved;
	__u64 attr_ino;
	__u64 pos;
	__u64 count;
	__s64 written;
	struct fuse_iomap_io map;
};

/* FUSE_IOMAP_IOEND request (48 bytes). */
struct fuse_iomap_ioend_in {
	__u32 flags;	/* FUSE_IOMAP_IOEND_* */
	__s32 error;
	__u64 attr_ino;
	__u64 pos;
	__u64 new_addr;
	__u64 written;
	__u32 dev;
	__u32 pad;
};

/* FUSE_IOMAP_IOEND reply (8 bytes). */
struct fuse_iomap_ioend_out {
	__u64 newsize;
};

/* A byte range of a file (16 bytes). */
struct fuse_range {
	__u64 offset;
	__u64 length;
};

/*
 * FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS (48 bytes). A length of 0 leaves that
 * fork alone; FUSE_IOMAP_INVAL_TO_EOF reaches the end of the file.
 */
struct fuse_iomap_inval_mappings_out {
	__u64 nodeid;
	__u64 attr_ino;
	struct fuse_range read;
	struct fuse_range write;
};

/* FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS (80 bytes). */
struct fuse_iomap_upsert_mappings_out {
	__u64 nodeid;
	__u64 attr_ino;
	struct fuse_iomap_io read;
	struct fuse_iomap_io write;
};

/*
 * FUSE_IOMAP_CONFIG request (64 bytes), sent once after FUSE_INIT: flags are
 * the FUSE_IOMAP_CONFIG_* the kernel understands, maxbytes the largest file
 * size it allows, cache_maxbytes its default limit of a cache fork.
 */
struct fuse_iomap_config_in {
	__u64 flags;		/* FUSE_IOMAP_CONFIG_* */
	__s64 maxbytes;
	__u32 cache_maxbytes;	/* per fork */
	__u32 zero;
	__u64 padding[5];
};

/*
 * FUSE_IOMAP_CONFIG reply (64 bytes): flags say which fields are set, among
 * those the request offered; the others keep their defaults (a block size of
 * 4096, maxbytes 2^63 - 1, a 256 KiB fork limit).
 */
struct fuse_iomap_config_out {
	__u64 flags;		/* FUSE_IOMAP_CONFIG_{BLOCKSIZE,MAXBYTES,CACHE_MAXBYTES} */
	__u32 blocksize;	/* a power of two, 512 .. 2^30 */
	__u32 cache_maxbytes;	/* per fork; 0 = default */
	__s64 maxbytes;		/* > 0 */
	__u64 padding[5];	/* 0 */
};

/*
 * famfs: the additions to include/uapi/linux/fuse.h of "famfs: port into
 * fuse" (V10), with the same names and values.
 */

/* Opcodes: the fmap of a file after OPEN; a daxdev by index (nodeid). */
#define FUSE_GET_FMAP			54
#define FUSE_GET_DAXDEV			55

/*
 * FUSE_INIT flag, offered only to a server with CAP_SYS_RAWIO. The famfs
 * and iomap series both claim bit 43; this header keeps each series' value.
 */
#define FUSE_DAX_FMAP			(1ULL << 43)

#define FAMFS_FMAP_VERSION		1
#define FUSE_FAMFS_MAX_EXTENTS		32
#define FUSE_FAMFS_MAX_STRIPS		32
#define FUSE_FAMFS_MAX_DAXDEVS		24
/* Every extent and strip offset and length, and every chunk size. */
#define FUSE_FAMFS_ALIGNMENT		(2ULL << 20)

/* fuse_famfs_fmap_header.file_type */
#define FUSE_FAMFS_FILE_REG		0
#define FUSE_FAMFS_FILE_SUPERBLOCK	1
#define FUSE_FAMFS_FILE_LOG		2

/* fuse_famfs_fmap_header.ext_type */
#define FUSE_FAMFS_EXT_SIMPLE		0
#define FUSE_FAMFS_EXT_INTERLEAVE	1

/*
 * A GET_FMAP reply: this header, then for SIMPLE nextents simple extents,
 * for INTERLEAVE nextents groups of one fuse_famfs_iext followed by its
 * ie_nstrips simple extents (the strips). Nothing may follow.
 */
struct fuse_famfs_fmap_header {
	__u8 file_type;		/* FUSE_FAMFS_FILE_* */
	__u8 reserved;		/* 0 */
	__u16 fmap_version;	/* FAMFS_FMAP_VERSION */
	__u32 ext_type;		/* FUSE_FAMFS_EXT_* */
	__u32 nextents;		/* 1 .. FUSE_FAMFS_MAX_EXTENTS */
	__u32 reserved0;	/* 0 */
	__u64 file_size;
	__u64 reserved1;	/* 0 */
};

/* An extent, or a strip of an interleaved group (24 bytes). */
struct fuse_famfs_simple_ext {
	__u32 se_devindex;	/* < FUSE_FAMFS_MAX_DAXDEVS */
	__u32 reserved;		/* 0 */
	__u64 se_offset;	/* on the daxdev, 2 MiB-aligned */
	__u64 se_len;		/* 2 MiB-aligned */
};

/* An interleaved group (24 bytes). */
struct fuse_famfs_iext {
	__u32 ie_nstrips;	/* 1 .. FUSE_FAMFS_MAX_STRIPS */
	__u32 ie_chunk_size;	/* > 0, 2 MiB-aligned */
	__u64 ie_nbytes;	/* > 0: the file bytes the group holds */
	__u64 reserved;		/* 0 */
};

/*
 * A GET_DAXDEV reply (280 bytes). The device is named either by its number
 * (dev, as stat(2)'s st_rdev, with an empty name), which the kernel prefers,
 * or by a path (dev 0): the path is resolved once, in the answering server's
 * task, to a block device the server may read and write. Either way the
 * kernel then opens the device by number, never by path again.
 */
struct fuse_daxdev_out {
	__u16 index;
	__u16 reserved;
	__u32 reserved2;
	__u64 dev;		/* the block device's number, or 0 */
	__u64 reserved4;
	char name[256];		/* NUL-terminated path, or "" with dev */
};

/*
 * The mapping cache of a connection's inodes, driven directly on the
 * server's file descriptor: CONFIG, UPSERT and INVAL do what FUSE_IOMAP_CONFIG
 * and the notifications do, with the same structures and the same checks, so
 * that the cache can be exercised without a channel. ADD_DEVICE registers a
 * backing device, as FUSE_DEV_IOC_BACKING_OPEN does on /dev/fuse. An inode is
 * named by its nodeid and gets its cache on its first upsert; all inodes are
 * freed when the server's file is closed, or one by one with
 * FUSE_IOMAP_IOC_FORGET.
 */

/* FUSE_IOMAP_IOC_CONFIG: what FUSE_IOMAP_CONFIG would set. */
struct fuse_iomap_ioc_config {
	__u32 blocksize;	/* a power of two, 512 .. 2^30 */
	__u32 cache_maxbytes;	/* per fork; 0 = default (256 KiB) */
	__s64 maxbytes;		/* > 0 */
};

/* FUSE_IOMAP_IOC_ADD_DEVICE: register a device cookie and its size. */
struct fuse_iomap_ioc_device {
	__u32 dev;		/* != FUSE_IOMAP_DEV_NULL */
	__u32 reserved;		/* 0 */
	__u64 size;		/* bytes */
};

/* Forks and lookup results of FUSE_IOMAP_IOC_LOOKUP and _DUMP. */
#define FUSE_IOMAP_FORK_READ		0
#define FUSE_IOMAP_FORK_WRITE		1
#define FUSE_IOMAP_LOOKUP_HIT		0
#define FUSE_IOMAP_LOOKUP_MISS		1
#define FUSE_IOMAP_LOOKUP_NOFORK	2

/* FUSE_IOMAP_IOC_LOOKUP: the cached record that contains offset. */
struct fuse_iomap_ioc_lookup {
	__u64 nodeid;		/* in */
	__u64 offset;		/* in */
	__u32 fork;		/* in: FUSE_IOMAP_FORK_* */
	__u32 result;		/* out: FUSE_IOMAP_LOOKUP_* */
	__u64 cookie;		/* out: validity cookie of a hit */
	struct fuse_iomap_io map; /* out: the record of a hit */
};

/* FUSE_IOMAP_IOC_DUMP: the records of a fork, in offset order. */
struct fuse_iomap_ioc_dump {
	__u64 nodeid;		/* in */
	__u32 fork;		/* in: FUSE_IOMAP_FORK_* */
	__u32 count;		/* in: room at records; out: records in the fork */
	__u64 records;		/* in: user pointer to struct fuse_iomap_io[count] */
};

/* Where a FUSE_IOMAP_IOC_BEGIN answer came from. */
#define FUSE_IOMAP_SOURCE_CACHE		0
#define FUSE_IOMAP_SOURCE_BPF		1
#define FUSE_IOMAP_SOURCE_UPCALL	2

/*
 * FUSE_IOMAP_IOC_BEGIN: what iomap_begin would get for an operation: from
 * the cache, else the BPF program, else a FUSE_IOMAP_BEGIN upcall (until a
 * server is connected, the upcall fails with ENOTCONN).
 */
struct fuse_iomap_ioc_begin {
	__u64 nodeid;			/* in */
	struct fuse_iomap_begin_in in;	/* in: opflags, pos, count */
	struct fuse_iomap_begin_out out;/* out; write.type NOCACHE: writes use read */
	__u64 cookie;			/* out: for FUSE_IOMAP_IOC_VALID */
	__u32 source;			/* out: FUSE_IOMAP_SOURCE_* */
	__u32 retries;			/* out: RETRY_CACHE answers it took */
};

/* FUSE_IOMAP_IOC_VALID: iomap_valid(); returns 1 if the cookie is valid. */
struct fuse_iomap_ioc_valid {
	__u64 nodeid;
	__u64 cookie;
};

#define FUSE_IOMAP_IOC_CONFIG		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x81, struct fuse_iomap_ioc_config)
#define FUSE_IOMAP_IOC_ADD_DEVICE	_IOW(FUSE_IOMAP_IOC_MAGIC, 0x82, struct fuse_iomap_ioc_device)
/* As FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS and _INVAL_MAPPINGS. */
#define FUSE_IOMAP_IOC_UPSERT		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x83, struct fuse_iomap_upsert_mappings_out)
#define FUSE_IOMAP_IOC_INVAL		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x84, struct fuse_iomap_inval_mappings_out)
#define FUSE_IOMAP_IOC_LOOKUP		_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x85, struct fuse_iomap_ioc_lookup)
#define FUSE_IOMAP_IOC_DUMP		_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x86, struct fuse_iomap_ioc_dump)
/* Free the inode (a __u64 nodeid) and its cache. */
#define FUSE_IOMAP_IOC_FORGET		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x87, __u64)
#define FUSE_IOMAP_IOC_BEGIN		_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x88, struct fuse_iomap_ioc_begin)
#define FUSE_IOMAP_IOC_VALID		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x89, struct fuse_iomap_ioc_valid)

/*
 * famfs files of a connection. SET_FMAP and FAMFS_DAXDEV, on the server's
 * file descriptor, hand in a GET_FMAP reply and GET_DAXDEV answers directly;
 * through the channel, FUSE_IOMAP_IOC_OPEN asks for them. RESOLVE, INFO and
 * READ are the VFS side. Every famfs path needs famfs on the connection:
 * before the handshake, a server that had CAP_SYS_RAWIO when it opened the
 * device; after it, FUSE_DAX_FMAP negotiated. Otherwise it is EPERM.
 */

/* FUSE_IOMAP_IOC_FAMFS_SET_FMAP: a GET_FMAP reply for inode nodeid. */
struct fuse_iomap_ioc_fmap {
	__u64 nodeid;
	__u64 fmap;		/* user pointer to the reply */
	__u32 size;		/* its size, at most 4096 */
	__u32 reserved;		/* 0 */
};

/* FUSE_IOMAP_IOC_FAMFS_RESOLVE: where the file bytes at offset live. */
struct fuse_iomap_ioc_resolve {
	__u64 nodeid;		/* in */
	__u64 offset;		/* in */
	__u64 length;		/* in: bytes wanted; out: bytes mapped */
	__u64 dev_offset;	/* out */
	__u32 dev_index;	/* out */
	__u32 reserved;		/* 0 */
};

/* FUSE_IOMAP_IOC_FAMFS_INFO: what the kernel made of a famfs file's fmap. */
struct fuse_iomap_ioc_famfs_info {
	__u64 nodeid;		/* in */
	__u64 file_size;	/* out */
	__u32 devices;		/* out: bit i set if daxdev index i is used */
	__u32 nextents;		/* out: extents, or interleaved groups */
	__u32 ext_type;		/* out: FUSE_FAMFS_EXT_* */
	__u8 file_type;		/* out: FUSE_FAMFS_FILE_* */
	__u8 fenced;		/* out: 1 once a bad resolution fenced it */
	__u16 reserved;		/* 0 */
};

#define FUSE_IOMAP_IOC_FAMFS_SET_FMAP	_IOW(FUSE_IOMAP_IOC_MAGIC, 0x8a, struct fuse_iomap_ioc_fmap)
#define FUSE_IOMAP_IOC_FAMFS_RESOLVE	_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x8b, struct fuse_iomap_ioc_resolve)
/* FUSE_IOMAP_IOC_FAMFS_READ: read a famfs file through its fmap and DAX. */
struct fuse_iomap_ioc_read {
	__u64 nodeid;
	__u64 offset;
	__u64 length;
	__u64 buf;		/* user pointer to length bytes */
};

#define FUSE_IOMAP_IOC_FAMFS_INFO	_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x8c, struct fuse_iomap_ioc_famfs_info)
/*
 * The server's GET_DAXDEV answer for an index, given ahead. When an fmap
 * first names an index, the kernel takes such an answer, or else asks the
 * server with GET_DAXDEV (without the table lock), then opens and claims
 * the device and publishes it; without an answer and a channel, the fmap
 * fails with ENOTCONN.
 */
#define FUSE_IOMAP_IOC_FAMFS_DAXDEV	_IOW(FUSE_IOMAP_IOC_MAGIC, 0x8d, struct fuse_daxdev_out)
/* Returns the bytes read: fewer at the end of the file, 0 past it. */
#define FUSE_IOMAP_IOC_FAMFS_READ	_IOW(FUSE_IOMAP_IOC_MAGIC, 0x8e, struct fuse_iomap_ioc_read)

/*
 * The client side of a connection: what a kernel's VFS would drive, played
 * by tests on a client handle. FUSE_IOMAP_IOC_CLIENT, issued on the server's
 * file descriptor, returns a new file descriptor (close-on-exec) for a client
 * handle of that connection, as FUSE_DEV_IOC_CLONE shares a connection; the
 * first one sends FUSE_INIT (and then FUSE_IOMAP_CONFIG) as a mount would.
 * Client requests that need the server wait until that handshake is done.
 *
 * A client handle takes the ioctls below and the VFS-side ones above
 * (LOOKUP, DUMP, FORGET, BEGIN, VALID, FAMFS_RESOLVE, FAMFS_INFO,
 * FAMFS_READ); the others are ENOTTY on it. Once the server's file is closed,
 * every request fails with ENOTCONN, and the connection's inodes, caches and
 * device claims are gone.
 */
#define FUSE_IOMAP_IOC_CLIENT		_IO(FUSE_IOMAP_IOC_MAGIC, 0x8f)

/*
 * FUSE_IOMAP_IOC_OPEN: open inode nodeid (a __u64). On a famfs connection
 * (FUSE_DAX_FMAP negotiated) this sends GET_FMAP, then GET_DAXDEV for every
 * device the fmap names that the kernel does not know yet; any failure fails
 * the open, and the inode keeps the fmap it had.
 */
#define FUSE_IOMAP_IOC_OPEN		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x90, __u64)

/*
 * FUSE_IOMAP_IOC_END: iomap_end for a mapping that FUSE_IOMAP_IOC_BEGIN
 * returned. FUSE_IOMAP_END is sent only for a mapping that asks for it
 * (FUSE_IOMAP_F_WANT_IOMAP_END); otherwise nothing is sent.
 */
struct fuse_iomap_ioc_end {
	__u64 nodeid;
	struct fuse_iomap_end_in in;
};

/*
 * FUSE_IOMAP_IOC_IOEND: the end of a write's I/O. The written range is first
 * dropped from both cache forks when the server will change its mappings
 * (an error, or FUSE_IOMAP_IOEND_UNWRITTEN or _SHARED); then FUSE_IOMAP_IOEND
 * is sent, and the server's new file size comes back.
 */
struct fuse_iomap_ioc_ioend {
	__u64 nodeid;			/* in */
	struct fuse_iomap_ioend_in in;	/* in */
	__u64 newsize;			/* out */
};

/*
 * FUSE_IOMAP_IOC_SETSIZE: the file's size changed (truncate): the cached
 * mappings from the block that holds size to the end of the file are
 * dropped from both forks.
 */
struct fuse_iomap_ioc_setsize {
	__u64 nodeid;
	__u64 size;
};

/* Indices of fuse_iomap_counters.upcalls[]. */
#define FUSE_IOMAP_UPCALL_INIT		0
#define FUSE_IOMAP_UPCALL_CONFIG	1
#define FUSE_IOMAP_UPCALL_BEGIN		2
#define FUSE_IOMAP_UPCALL_END		3
#define FUSE_IOMAP_UPCALL_IOEND		4
#define FUSE_IOMAP_UPCALL_GET_FMAP	5
#define FUSE_IOMAP_UPCALL_GET_DAXDEV	6
#define FUSE_IOMAP_NR_UPCALLS		8

/* Indices of fuse_iomap_counters.rejected[]: why a write was refused. */
#define FUSE_IOMAP_REJECT_HEADER	0	/* malformed fuse_out_header: EINVAL */
#define FUSE_IOMAP_REJECT_UNIQUE	1	/* no request with that unique: ENOENT */
#define FUSE_IOMAP_REJECT_SIZE		2	/* wrong reply size for the opcode: EINVAL */
#define FUSE_IOMAP_REJECT_NOTIFY	3	/* notification refused */
#define FUSE_IOMAP_REJECT_MAPPING	4	/* invalid IOMAP_BEGIN reply: EFSCORRUPTED */
#define FUSE_IOMAP_REJECT_FMAP		5	/* GET_FMAP reply refused */
#define FUSE_IOMAP_REJECT_DAXDEV	6	/* GET_DAXDEV reply refused */
#define FUSE_IOMAP_REJECT_INIT		7	/* INIT or IOMAP_CONFIG reply refused */
#define FUSE_IOMAP_NR_REJECTS		8

/* FUSE_IOMAP_IOC_COUNTERS: what a connection has done so far. */
struct fuse_iomap_counters {
	__u64 cache_hits;	/* iomap_begin answered by the cache */
	__u64 cache_misses;	/* iomap_begin that had to look further */
	__u64 bpf_answers;	/* iomap_begin answered by the BPF program */
	__u64 retries;		/* RETRY_CACHE answers */
	__u64 interrupted;	/* requests abandoned to a signal (EINTR) */
	__u64 upcalls[FUSE_IOMAP_NR_UPCALLS];	/* requests sent, by opcode */
	__u64 rejected[FUSE_IOMAP_NR_REJECTS];	/* by reason */
	__u64 cache_bytes;	/* what the caches pin, charged to the budget */
	__u64 cache_budget;	/* the connection's budget for its caches */
};

#define FUSE_IOMAP_IOC_END		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x91, struct fuse_iomap_ioc_end)
#define FUSE_IOMAP_IOC_IOEND		_IOWR(FUSE_IOMAP_IOC_MAGIC, 0x92, struct fuse_iomap_ioc_ioend)
#define FUSE_IOMAP_IOC_SETSIZE		_IOW(FUSE_IOMAP_IOC_MAGIC, 0x93, struct fuse_iomap_ioc_setsize)
#define FUSE_IOMAP_IOC_COUNTERS		_IOR(FUSE_IOMAP_IOC_MAGIC, 0x94, struct fuse_iomap_counters)

/*
 * The file system: mount -t fuse_iomap -o fd=N,rootmode=M,user_id=U,group_id=G
 * SOURCE DIR, with N a server's open /dev/fuse-iomap file descriptor, as fuse
 * is mounted on /dev/fuse. The kernel then sends FUSE_INIT (and
 * FUSE_IOMAP_CONFIG) and the namespace requests of include/uapi/linux/fuse.h
 * (LOOKUP, FORGET, GETATTR, SETATTR, OPENDIR, READDIR, RELEASEDIR, OPEN,
 * RELEASE, CREATE, MKDIR, UNLINK, RMDIR, RENAME, STATFS, FSYNC, FALLOCATE,
 * DESTROY); file data never passes through the channel: it is read and
 * written by the kernel's iomap library on the block devices the server
 * opened with FUSE_IOMAP_IOC_BACKING_OPEN, where FUSE_IOMAP_BEGIN says.
 */
#define FUSE_IOMAP_FS_TYPE		"fuse_iomap"

/*
 * FUSE_IOMAP_IOC_BACKING_OPEN: register the block device open at fd (read
 * and write) as a device of the connection's mappings, as
 * FUSE_DEV_IOC_BACKING_OPEN does on /dev/fuse (same layout as struct
 * fuse_backing_map). Returns the device cookie, > 0, that mappings name in
 * fuse_iomap_io.dev. Needs CAP_SYS_RAWIO: the server then points the
 * kernel's I/O at any block of the device. The device is held until the
 * connection ends.
 */
struct fuse_iomap_backing_map {
	__s32 fd;
	__u32 flags;		/* 0 */
	__u64 padding;		/* 0 */
};

#define FUSE_IOMAP_IOC_BACKING_OPEN	_IOW(FUSE_IOMAP_IOC_MAGIC, 0x95, struct fuse_iomap_backing_map)

#endif /* _UAPI_LINUX_FUSE_IOMAP_H */
