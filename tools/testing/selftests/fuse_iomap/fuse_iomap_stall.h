/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Two pages of memory whose first touch blocks (userfaultfd) until the test
 * lets it go: a user copy that stalls in the middle of a system call, for
 * the selftests that check what the kernel holds meanwhile.
 */
#ifndef _FUSE_IOMAP_STALL_H
#define _FUSE_IOMAP_STALL_H

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

/* How long a stall waits for the task it stops. */
#define STALL_PATIENCE_MS	5000

/* Two pages whose first touch blocks until the test resolves it. */
struct stall {
	int uffd;
	char *buf;
	size_t len;
};

static inline int stall_setup(struct stall *s)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { .mode = UFFDIO_REGISTER_MODE_MISSING };

	s->len = 2 * getpagesize();
	s->buf = MAP_FAILED;
	s->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (s->uffd < 0)
		return -errno;
	if (ioctl(s->uffd, UFFDIO_API, &api))
		return -errno;
	s->buf = mmap(NULL, s->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->buf == MAP_FAILED)
		return -errno;
	reg.range.start = (unsigned long)s->buf;
	reg.range.len = s->len;
	return ioctl(s->uffd, UFFDIO_REGISTER, &reg) ? -errno : 0;
}

/* Waits until a task is blocked on a fault in the stalled pages. */
static inline int stall_wait_fault(struct stall *s)
{
	struct pollfd p = { .fd = s->uffd, .events = POLLIN };
	struct uffd_msg msg;

	if (poll(&p, 1, STALL_PATIENCE_MS) != 1)
		return -ETIMEDOUT;
	if (read(s->uffd, &msg, sizeof(msg)) != sizeof(msg))
		return -errno;
	return msg.event == UFFD_EVENT_PAGEFAULT ? 0 : -EPROTO;
}

/* Lets the stalled task go: zero pages where it faulted. */
static inline void stall_release(struct stall *s)
{
	struct uffdio_zeropage z = {
		.range = { .start = (unsigned long)s->buf, .len = s->len },
	};

	ioctl(s->uffd, UFFDIO_ZEROPAGE, &z);
}

static inline void stall_teardown(struct stall *s)
{
	munmap(s->buf, s->len);
	close(s->uffd);
}

#endif /* _FUSE_IOMAP_STALL_H */
