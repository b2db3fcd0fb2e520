/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The server's side of the channel, for the selftests that play it: reading
 * a request with a bounded wait, and writing a reply or a notification,
 * framed as on /dev/fuse.
 */
#ifndef _FUSE_IOMAP_WIRE_H
#define _FUSE_IOMAP_WIRE_H

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

/* Reads one request of at most size bytes; waits up to timeout_ms for it. */
static inline int wire_read(int fd, void *r, size_t size, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (poll(&p, 1, timeout_ms) != 1)
		return -ETIMEDOUT;
	if (read(fd, r, size) < 0)
		return -errno;
	return 0;
}

/* Writes a header and size bytes of payload; returns 0 or -errno. */
static inline int send_msg(int fd, __u64 unique, int error, const void *payload, size_t size)
{
	char buf[sizeof(struct fuse_out_header) + 4096];
	struct fuse_out_header oh = {
		.len = sizeof(oh) + size, .error = error, .unique = unique,
	};

	memcpy(buf, &oh, sizeof(oh));
	memcpy(buf + sizeof(oh), payload, size);
	if (write(fd, buf, sizeof(oh) + size) != (ssize_t)(sizeof(oh) + size))
		return -errno;
	return 0;
}

#endif /* _FUSE_IOMAP_WIRE_H */
