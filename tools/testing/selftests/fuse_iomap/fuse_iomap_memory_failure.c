// SPDX-License-Identifier: GPL-2.0
/*
 * Run by fuse_iomap_memory_failure.sh with /dev/pmem1 an fsdax namespace
 * whose data starts at physical address FUSE_IOMAP_PMEM_PHYS: two famfs
 * files on it read back; a memory failure in the first one's bytes makes
 * every read through the device fail with EHWPOISON, the other file's too,
 * as famfs marks the whole daxdev.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"

/* Under TCG, with KASAN, a test may need more than the harness's 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define PMEM		"/dev/pmem1"
#define MiB		(1ULL << 20)
#define INDEX		5
#define HARD_OFFLINE	"/sys/devices/system/memory/hard_offline_page"

struct simple_fmap {
	struct fuse_famfs_fmap_header h;
	struct fuse_famfs_simple_ext e;
};

/* File nodeid: 2 MiB at off of daxdev INDEX. */
static int set_fmap(int fd, __u64 nodeid, __u64 off)
{
	struct simple_fmap f = {
		.h = { .fmap_version = FAMFS_FMAP_VERSION, .ext_type = FUSE_FAMFS_EXT_SIMPLE,
		       .nextents = 1, .file_size = 2 * MiB },
		.e = { .se_devindex = INDEX, .se_offset = off, .se_len = 2 * MiB },
	};
	struct fuse_iomap_ioc_fmap set = {
		.nodeid = nodeid, .fmap = (unsigned long)&f, .size = sizeof(f),
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &set);
}

static long famfs_read(int fd, __u64 nodeid, void *buf, __u64 len)
{
	struct fuse_iomap_ioc_read rd = {
		.nodeid = nodeid, .length = len, .buf = (unsigned long)buf,
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_READ, &rd);
}

FIXTURE(failure) {
	int fd;
	unsigned long long phys;
};

FIXTURE_SETUP(failure)
{
	struct fuse_daxdev_out dd = { .index = INDEX };
	const char *phys = getenv("FUSE_IOMAP_PMEM_PHYS");
	static unsigned char data[4 * MiB];
	int pmem;

	self->fd = -1;
	if (!phys)
		SKIP(return, "FUSE_IOMAP_PMEM_PHYS unset: run fuse_iomap_memory_failure.sh");
	self->phys = strtoull(phys, NULL, 0);
	pmem = open(PMEM, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, pmem) TH_LOG("%s: %s", PMEM, strerror(errno));
	memset(data, 0x5a, sizeof(data));
	ASSERT_EQ(sizeof(data), pwrite(pmem, data, sizeof(data), 0));
	ASSERT_EQ(0, fsync(pmem));
	close(pmem);

	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	strcpy(dd.name, PMEM);
	ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &dd));
	ASSERT_EQ(0, set_fmap(self->fd, 1, 0));
	ASSERT_EQ(0, set_fmap(self->fd, 2, 2 * MiB));
}

FIXTURE_TEARDOWN(failure)
{
	close(self->fd);
}

TEST_F(failure, a_poisoned_daxdev_reads_ehwpoison)
{
	static unsigned char buf[2 * MiB];
	char addr[32];
	int fd, len;

	ASSERT_EQ(sizeof(buf), famfs_read(self->fd, 1, buf, sizeof(buf)));
	ASSERT_EQ(0x5a, buf[sizeof(buf) - 1]);
	ASSERT_EQ(sizeof(buf), famfs_read(self->fd, 2, buf, sizeof(buf)));

	fd = open(HARD_OFFLINE, O_WRONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	len = snprintf(addr, sizeof(addr), "%#llx", self->phys + MiB);
	ASSERT_EQ(len, write(fd, addr, len)) TH_LOG("%s: %s", HARD_OFFLINE, strerror(errno));
	close(fd);

	ASSERT_EQ(-1, famfs_read(self->fd, 1, buf, sizeof(buf)));
	ASSERT_EQ(EHWPOISON, errno);
	ASSERT_EQ(-1, famfs_read(self->fd, 2, buf, sizeof(buf)));
	ASSERT_EQ(EHWPOISON, errno);
}

TEST_HARNESS_MAIN
