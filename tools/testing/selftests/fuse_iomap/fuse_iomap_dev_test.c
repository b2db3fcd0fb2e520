// SPDX-License-Identifier: GPL-2.0
/*
 * The module is loaded and its device node works: every open is a connection
 * that answers FUSE_IOMAP_IOC_VERSION, and bad ioctls get the error codes of
 * any character device. Without the module, every test skips.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"

/* Under TCG, with KASAN, a test may need more than the harness's 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH "/dev/" FUSE_IOMAP_DEV_NAME
#define MODULE_PATH "/sys/module/fuse_iomap"

/* Whether fuse_iomap.ko is loaded: what a test without it skips for. */
static bool module_loaded(void)
{
	return access(MODULE_PATH, F_OK) == 0;
}

#define SKIP_WITHOUT_MODULE() do { \
	if (!module_loaded()) \
		SKIP(return, "fuse_iomap.ko is not loaded (insmod fs/fuse_iomap/fuse_iomap.ko)"); \
} while (0)

TEST(module_is_loaded)
{
	struct stat st;

	SKIP_WITHOUT_MODULE();
	ASSERT_EQ(0, stat(MODULE_PATH, &st))
		TH_LOG("%s: %s", MODULE_PATH, strerror(errno));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
}

TEST(device_node_is_a_misc_char_device)
{
	struct stat st;

	SKIP_WITHOUT_MODULE();
	ASSERT_EQ(0, stat(DEV_PATH, &st))
		TH_LOG("%s: %s", DEV_PATH, strerror(errno));
	ASSERT_TRUE(S_ISCHR(st.st_mode));
	/* MISC_MAJOR */
	ASSERT_EQ(10, major(st.st_rdev));
	ASSERT_EQ(0666, st.st_mode & 0777);
}

FIXTURE(conn)
{
	int fd;
};

FIXTURE_SETUP(conn)
{
	self->fd = -1;
	SKIP_WITHOUT_MODULE();
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd)
		TH_LOG("open %s: %s", DEV_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(conn)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(conn, version_ioctl_returns_the_abi_version)
{
	__u32 version = 0;

	ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_VERSION, &version));
	ASSERT_EQ(FUSE_IOMAP_ABI_VERSION, version);
}

TEST_F(conn, version_ioctl_to_a_bad_pointer_is_efault)
{
	ASSERT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_VERSION, (void *)8));
	ASSERT_EQ(EFAULT, errno);
}

TEST_F(conn, unknown_ioctl_is_enotty)
{
	__u32 value = 0;

	ASSERT_EQ(-1, ioctl(self->fd, _IOR(FUSE_IOMAP_IOC_MAGIC, 0xff, __u32), &value));
	ASSERT_EQ(ENOTTY, errno);
	/* /dev/fuse's own FUSE_DEV_IOC_CLONE number is not ours either. */
	ASSERT_EQ(-1, ioctl(self->fd, _IOR(FUSE_IOMAP_IOC_MAGIC, 0, __u32), &value));
	ASSERT_EQ(ENOTTY, errno);
}

TEST(many_connections_are_independent)
{
	enum { NCONN = 64 };
	int fds[NCONN];
	__u32 version;
	int i;

	SKIP_WITHOUT_MODULE();
	for (i = 0; i < NCONN; i++) {
		fds[i] = open(DEV_PATH, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fds[i]);
	}
	/* Close every other one; the rest must keep working. */
	for (i = 0; i < NCONN; i += 2)
		ASSERT_EQ(0, close(fds[i]));
	for (i = 1; i < NCONN; i += 2) {
		version = 0;
		ASSERT_EQ(0, ioctl(fds[i], FUSE_IOMAP_IOC_VERSION, &version));
		ASSERT_EQ(FUSE_IOMAP_ABI_VERSION, version);
		ASSERT_EQ(0, close(fds[i]));
	}
}

TEST_HARNESS_MAIN
