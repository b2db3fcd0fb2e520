/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * fuse_iomap: the userspace ABI of the reference kernel half of fuse iomap
 * and famfs.
 *
 * The module registers one character device, /dev/fuse-iomap. Every open of
 * it is one connection. The ioctls below are issued on that file descriptor.
 *
 * The Rust mirror of this header is fs/fuse_iomap/abi.rs; the host tests and
 * the selftests check that both agree.
 */
#ifndef _UAPI_LINUX_FUSE_IOMAP_H
#define _UAPI_LINUX_FUSE_IOMAP_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Name of the device node under /dev. */
#define FUSE_IOMAP_DEV_NAME		"fuse-iomap"

/*
 * Version of this ABI, as returned by FUSE_IOMAP_IOC_VERSION. It is bumped by
 * every change that an existing server or test could notice.
 */
#define FUSE_IOMAP_ABI_VERSION		1

/*
 * The ioctl type is fuse's own (FUSE_DEV_IOC_MAGIC, 229); the numbers start
 * at 0x80 so that they never collide with /dev/fuse's ioctls.
 */
#define FUSE_IOMAP_IOC_MAGIC		229

/* Read the ABI version (a __u32) of the loaded module. */
#define FUSE_IOMAP_IOC_VERSION		_IOR(FUSE_IOMAP_IOC_MAGIC, 0x80, __u32)

#endif /* _UAPI_LINUX_FUSE_IOMAP_H */
