// SPDX-License-Identifier: GPL-2.0
/*
 * famfs fmaps inside the module: GET_FMAP replies given to inodes through
 * the connection's ioctls are validated (every rule, with its error code,
 * leaving the inode as it was), resolved for simple and interleaved files,
 * and a bad resolution fences the file; resolvers race an fmap being
 * replaced. On the emulated pmem of the VM, files read through the kernel's
 * DAX path give back exactly the bytes the "server" wrote to the device.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"

/* Under TCG, with KASAN, a test may need more than the harness's 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define MiB		(1ULL << 20)

/* A reply under construction. */
struct reply {
	unsigned char buf[8192];
	size_t len;
	struct fuse_famfs_fmap_header *h;
};

static void *put(struct reply *r, size_t size)
{
	void *p = r->buf + r->len;

	r->len += size;
	return p;
}

static void start(struct reply *r, __u32 ext_type, __u32 nextents, __u64 file_size)
{
	memset(r, 0, sizeof(*r));
	r->h = put(r, sizeof(*r->h));
	r->h->fmap_version = FAMFS_FMAP_VERSION;
	r->h->ext_type = ext_type;
	r->h->nextents = nextents;
	r->h->file_size = file_size;
}

static struct fuse_famfs_simple_ext *ext(struct reply *r, __u32 dev, __u64 off, __u64 len)
{
	struct fuse_famfs_simple_ext *e = put(r, sizeof(*e));

	e->se_devindex = dev;
	e->se_offset = off;
	e->se_len = len;
	return e;
}

static struct fuse_famfs_iext *group(struct reply *r, __u32 nstrips, __u32 chunk, __u64 nbytes)
{
	struct fuse_famfs_iext *g = put(r, sizeof(*g));

	g->ie_nstrips = nstrips;
	g->ie_chunk_size = chunk;
	g->ie_nbytes = nbytes;
	return g;
}

/* The worked example of famfs.rst: 4 strips, 2 MiB chunks, 24 MiB. */
static void striped(struct reply *r)
{
	int i;

	start(r, FUSE_FAMFS_EXT_INTERLEAVE, 1, 24 * MiB);
	group(r, 4, 2 * MiB, 24 * MiB);
	for (i = 0; i < 4; i++)
		ext(r, i, 100 * MiB * i, 6 * MiB);
}

static int answer_daxdev(int fd, __u16 index, const char *name)
{
	struct fuse_daxdev_out a = { .index = index };

	strncpy(a.name, name, sizeof(a.name) - 1);
	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a);
}

static int set_fmap(int fd, __u64 nodeid, const struct reply *r)
{
	struct fuse_iomap_ioc_fmap f = {
		.nodeid = nodeid, .fmap = (__u64)(unsigned long)r->buf, .size = r->len,
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &f);
}

static int resolve(int fd, __u64 nodeid, __u64 off, __u64 len, struct fuse_iomap_ioc_resolve *res)
{
	memset(res, 0, sizeof(*res));
	res->nodeid = nodeid;
	res->offset = off;
	res->length = len;
	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_RESOLVE, res);
}

static int info(int fd, __u64 nodeid, struct fuse_iomap_ioc_famfs_info *i)
{
	memset(i, 0, sizeof(*i));
	i->nodeid = nodeid;
	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_INFO, i);
}

FIXTURE(famfs)
{
	int fd;
	struct reply r;
};

FIXTURE_SETUP(famfs)
{
	int i;

	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV_PATH, strerror(errno));
	/*
	 * These tests resolve, and read nothing: every index is answered with
	 * the one pmem device, claimed by the first index discovered; the
	 * others are published as failed.
	 */
	if (access("/dev/pmem0", F_OK))
		SKIP(return, "/dev/pmem0: %s (memmap= on the kernel command line)", strerror(errno));
	for (i = 0; i < FUSE_FAMFS_MAX_DAXDEVS; i++)
		ASSERT_EQ(0, answer_daxdev(self->fd, i, "/dev/pmem0"));
}

FIXTURE_TEARDOWN(famfs)
{
	close(self->fd);
}

TEST_F(famfs, simple_file_resolves_extent_by_extent)
{
	struct fuse_iomap_ioc_famfs_info i;
	struct fuse_iomap_ioc_resolve res;

	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 2, 5 * MiB);
	ext(&self->r, 5, 64 * MiB, 2 * MiB);
	ext(&self->r, 23, 0, 4 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	ASSERT_EQ(0, info(self->fd, 7, &i));
	EXPECT_EQ(5 * MiB, i.file_size);
	EXPECT_EQ((1U << 5) | (1U << 23), i.devices);
	EXPECT_EQ(2, i.nextents);
	EXPECT_EQ(FUSE_FAMFS_EXT_SIMPLE, i.ext_type);
	EXPECT_EQ(0, i.fenced);
	ASSERT_EQ(0, resolve(self->fd, 7, MiB, 8 * MiB, &res));
	EXPECT_EQ(5, res.dev_index);
	EXPECT_EQ(65 * MiB, res.dev_offset);
	EXPECT_EQ(MiB, res.length);
	/* Clamped to the file size, not the extent's end. */
	ASSERT_EQ(0, resolve(self->fd, 7, 4 * MiB, 8 * MiB, &res));
	EXPECT_EQ(23, res.dev_index);
	EXPECT_EQ(2 * MiB, res.dev_offset);
	EXPECT_EQ(MiB, res.length);
}

TEST_F(famfs, striped_file_resolves_the_spec_example)
{
	struct fuse_iomap_ioc_resolve res;

	striped(&self->r);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	ASSERT_EQ(0, resolve(self->fd, 7, 15 * MiB, 4 * MiB, &res));
	EXPECT_EQ(3, res.dev_index);
	EXPECT_EQ(300 * MiB + 3 * MiB, res.dev_offset);
	EXPECT_EQ(MiB, res.length);
}

TEST_F(famfs, bad_resolution_fences_the_file)
{
	struct fuse_iomap_ioc_famfs_info i;
	struct fuse_iomap_ioc_resolve res;

	striped(&self->r);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	ASSERT_EQ(-1, resolve(self->fd, 7, 24 * MiB, 1, &res));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(-1, resolve(self->fd, 7, 0, 1, &res));
	EXPECT_EQ(EIO, errno);
	ASSERT_EQ(0, info(self->fd, 7, &i));
	EXPECT_EQ(1, i.fenced);
	/* A new fmap is a new file, not fenced. */
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	EXPECT_EQ(0, resolve(self->fd, 7, 0, 1, &res));
}

TEST_F(famfs, strip_too_short_for_its_share_is_eio)
{
	struct fuse_iomap_ioc_resolve res;

	/* Three chunks over two strips of one chunk each. */
	start(&self->r, FUSE_FAMFS_EXT_INTERLEAVE, 1, 6 * MiB);
	group(&self->r, 2, 2 * MiB, 6 * MiB);
	ext(&self->r, 0, 0, 2 * MiB);
	ext(&self->r, 1, 0, 2 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	ASSERT_EQ(0, resolve(self->fd, 7, 2 * MiB, 1, &res));
	ASSERT_EQ(-1, resolve(self->fd, 7, 4 * MiB, 1, &res));
	EXPECT_EQ(EIO, errno);
}

/* One hostile reply: how to break a good one, and the error it must get. */
struct hostile {
	const char *what;
	int err;
	void (*make)(struct reply *r);
};

static void good_simple(struct reply *r)
{
	start(r, FUSE_FAMFS_EXT_SIMPLE, 1, 2 * MiB);
	ext(r, 0, 0, 2 * MiB);
}

static void short_reply(struct reply *r) { good_simple(r); r->len = sizeof(*r->h) - 1; }
static void bad_version(struct reply *r) { good_simple(r); r->h->fmap_version = 2; }
static void bad_file_type(struct reply *r) { good_simple(r); r->h->file_type = 3; }
static void bad_ext_type(struct reply *r) { good_simple(r); r->h->ext_type = 2; }
static void reserved_header(struct reply *r) { good_simple(r); r->h->reserved1 = 1; }
static void no_extents(struct reply *r) { good_simple(r); r->h->nextents = 0; }
static void too_many_extents(struct reply *r) { good_simple(r); r->h->nextents = 33; }
static void missing_extent(struct reply *r) { good_simple(r); r->h->nextents = 2; }
static void trailing_bytes(struct reply *r) { good_simple(r); put(r, 1); }
static void index_24(struct reply *r) { good_simple(r); ext(r, 24, 0, 2 * MiB); r->h->nextents = 2; }
static void index_huge(struct reply *r) { good_simple(r); ext(r, 0xffffffff, 0, 2 * MiB); r->h->nextents = 2; }
static void unaligned_offset(struct reply *r) { good_simple(r); ext(r, 0, MiB, 2 * MiB); r->h->nextents = 2; }
static void unaligned_length(struct reply *r) { good_simple(r); ext(r, 0, 0, 3 * MiB); r->h->nextents = 2; }
static void reserved_extent(struct reply *r) { good_simple(r); ext(r, 0, 0, 2 * MiB)->reserved = 1; r->h->nextents = 2; }
static void too_small(struct reply *r) { good_simple(r); r->h->file_size = 2 * MiB + 1; }

static void one_group(struct reply *r, __u32 nstrips, __u32 chunk, __u64 nbytes)
{
	__u32 i;

	start(r, FUSE_FAMFS_EXT_INTERLEAVE, 1, nbytes);
	group(r, nstrips, chunk, nbytes);
	for (i = 0; i < nstrips; i++)
		ext(r, i % 24, 0, 4 * MiB);
}

static void chunk_zero(struct reply *r) { one_group(r, 2, 0, 8 * MiB); }
static void chunk_unaligned(struct reply *r) { one_group(r, 2, MiB, 8 * MiB); }
static void group_empty(struct reply *r) { one_group(r, 2, 2 * MiB, 0); }
static void no_strips(struct reply *r) { one_group(r, 0, 2 * MiB, 8 * MiB); }
static void too_many_strips(struct reply *r) { one_group(r, 33, 2 * MiB, 8 * MiB); }
static void group_reserved(struct reply *r)
{
	one_group(r, 2, 2 * MiB, 8 * MiB);
	((struct fuse_famfs_iext *)(r->buf + sizeof(*r->h)))->reserved = 1;
}

static const struct hostile hostile[] = {
	{ "short reply", EINVAL, short_reply },
	{ "version 2", EINVAL, bad_version },
	{ "file type 3", EINVAL, bad_file_type },
	{ "extent type 2", EINVAL, bad_ext_type },
	{ "reserved header field", EINVAL, reserved_header },
	{ "no extents", ERANGE, no_extents },
	{ "33 extents", ERANGE, too_many_extents },
	{ "extent past the reply", EINVAL, missing_extent },
	{ "trailing bytes", EINVAL, trailing_bytes },
	{ "device index 24", EINVAL, index_24 },
	{ "device index 2^32-1", EINVAL, index_huge },
	{ "unaligned offset", EINVAL, unaligned_offset },
	{ "unaligned length", EINVAL, unaligned_length },
	{ "reserved extent field", EINVAL, reserved_extent },
	{ "extents shorter than the file", EINVAL, too_small },
	{ "chunk size 0", EINVAL, chunk_zero },
	{ "unaligned chunk size", EINVAL, chunk_unaligned },
	{ "group of 0 bytes", EINVAL, group_empty },
	{ "no strips", EINVAL, no_strips },
	{ "33 strips", EINVAL, too_many_strips },
	{ "reserved group field", EINVAL, group_reserved },
};

TEST_F(famfs, hostile_fmaps_are_refused_and_change_nothing)
{
	struct fuse_iomap_ioc_famfs_info i;
	struct reply good;
	size_t n;

	striped(&good);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &good));
	for (n = 0; n < sizeof(hostile) / sizeof(hostile[0]); n++) {
		hostile[n].make(&self->r);
		errno = 0;
		EXPECT_EQ(-1, set_fmap(self->fd, 7, &self->r)) TH_LOG("%s: accepted", hostile[n].what);
		EXPECT_EQ(hostile[n].err, errno) TH_LOG("%s: %s", hostile[n].what, strerror(errno));
		/* A refused reply leaves no fmap on a new inode... */
		EXPECT_EQ(-1, set_fmap(self->fd, 100 + n, &self->r));
		EXPECT_EQ(-1, info(self->fd, 100 + n, &i));
		EXPECT_EQ(ENOENT, errno);
	}
	/* ... and the old one on an inode that had one. */
	ASSERT_EQ(0, info(self->fd, 7, &i));
	EXPECT_EQ(24 * MiB, i.file_size);
	EXPECT_EQ(0xfU, i.devices);
}

TEST_F(famfs, hostile_ioctl_arguments_get_precise_errors)
{
	struct fuse_iomap_ioc_fmap f = { .nodeid = 7, .size = 4097 };
	struct fuse_iomap_ioc_resolve res;
	struct fuse_iomap_ioc_famfs_info i;

	f.fmap = (__u64)(unsigned long)self->r.buf;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &f));
	EXPECT_EQ(EINVAL, errno);
	f.size = 100;
	f.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &f));
	EXPECT_EQ(EINVAL, errno);
	f.reserved = 0;
	f.fmap = 8;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &f));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, resolve(self->fd, 7, 0, 1, &res));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, info(self->fd, 7, &i));
	EXPECT_EQ(ENOENT, errno);
	res.reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_RESOLVE, &res));
	EXPECT_EQ(EINVAL, errno);
}

struct race {
	int fd;
	volatile int stop;
	int wrong;
	long resolved;
};

static void *resolver(void *arg)
{
	struct race *r = arg;
	struct fuse_iomap_ioc_resolve res;
	__u64 off = 0;

	while (!r->stop) {
		off = (off + 3 * MiB + 4096) % (24 * MiB);
		if (resolve(r->fd, 7, off, 4 * MiB, &res)) {
			r->wrong++;
			continue;
		}
		r->resolved++;
		/* Both fmaps of the writer map offset o to a strip at o's chunk. */
		if (res.length == 0 || res.length > 2 * MiB || res.dev_index > 3)
			r->wrong++;
	}
	return NULL;
}

TEST_F(famfs, resolvers_race_an_fmap_being_replaced)
{
	struct race r = { .fd = self->fd };
	struct reply simple;
	pthread_t threads[3];
	int i;

	striped(&self->r);
	start(&simple, FUSE_FAMFS_EXT_SIMPLE, 12, 24 * MiB);
	for (i = 0; i < 12; i++)
		ext(&simple, i % 4, 2 * MiB * i, 2 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&threads[i], NULL, resolver, &r));
	for (i = 0; i < 5000; i++)
		ASSERT_EQ(0, set_fmap(self->fd, 7, i % 2 ? &simple : &self->r));
	r.stop = 1;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(threads[i], NULL));
	EXPECT_EQ(0, r.wrong);
	EXPECT_LT(0, r.resolved);
}

#define PMEM		"/dev/pmem0"
#define DAXDEV		5

static ssize_t famfs_read(int fd, __u64 nodeid, __u64 off, void *buf, __u64 len)
{
	struct fuse_iomap_ioc_read r = {
		.nodeid = nodeid, .offset = off, .length = len,
		.buf = (__u64)(unsigned long)buf,
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_READ, &r);
}

FIXTURE(dax)
{
	int fd;
	int pmem;
	struct reply r;
};

FIXTURE_SETUP(dax)
{
	self->pmem = open(PMEM, O_RDWR | O_CLOEXEC);
	if (self->pmem < 0)
		SKIP(return, "%s: %s (memmap= on the kernel command line)", PMEM, strerror(errno));
	self->fd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, answer_daxdev(self->fd, DAXDEV, PMEM));
}

FIXTURE_TEARDOWN(dax)
{
	if (self->pmem >= 0) {
		close(self->fd);
		close(self->pmem);
	}
}

/*
 * The server's part: random bytes at [off, off + len) of the device. A
 * server restarted with FUSE_IOMAP_FAMFS_SERVER_RESTART set (by
 * fuse_iomap_famfs_reload.sh) knows its files' bytes but writes nothing:
 * they must still be on the device.
 */
static unsigned char *server_write(int pmem, __u64 off, __u64 len, unsigned int seed)
{
	unsigned char *data = malloc(len);
	__u64 i;

	for (i = 0; i < len; i++)
		data[i] = rand_r(&seed);
	if (getenv("FUSE_IOMAP_FAMFS_SERVER_RESTART"))
		return data;
	if (pwrite(pmem, data, len, off) != (ssize_t)len || fsync(pmem))
		return NULL;
	return data;
}

TEST_F(dax, striped_files_read_back_what_the_server_wrote)
{
	/* Three files of 4 strips of 8 MiB each, 2 MiB chunks, sizes not
	 * multiples of a chunk, on one pmem region each.
	 */
	const __u64 size = 23 * MiB + 12345, strip = 8 * MiB;
	unsigned char *dev[3], *file = malloc(size), *got = malloc(size);
	int f, s;

	for (f = 0; f < 3; f++) {
		dev[f] = server_write(self->pmem, 64 * MiB * f, 4 * strip, f + 1);
		ASSERT_NE(NULL, dev[f]);
		start(&self->r, FUSE_FAMFS_EXT_INTERLEAVE, 1, size);
		group(&self->r, 4, 2 * MiB, 24 * MiB);
		for (s = 0; s < 4; s++)
			ext(&self->r, DAXDEV, 64 * MiB * f + strip * s, strip);
		ASSERT_EQ(0, set_fmap(self->fd, 10 + f, &self->r));
	}
	for (f = 0; f < 3; f++) {
		__u64 off, c;
		ssize_t n;

		/* Chunk c of the file is in strip c % 4, at (c / 4) chunks. */
		for (c = 0; c * 2 * MiB < size; c++) {
			__u64 len = size - c * 2 * MiB < 2 * MiB ? size - c * 2 * MiB : 2 * MiB;

			memcpy(file + c * 2 * MiB, dev[f] + (c % 4) * strip + (c / 4) * 2 * MiB, len);
		}
		/* Read in pieces that straddle chunks. */
		for (off = 0; off < size; off += n) {
			n = famfs_read(self->fd, 10 + f, off, got + off, MiB + 4097);
			ASSERT_LT(0, n) TH_LOG("file %d at %llu: %s", f, (unsigned long long)off, strerror(errno));
		}
		ASSERT_EQ(size, off);
		ASSERT_EQ(0, memcmp(file, got, size)) TH_LOG("file %d differs", f);
		/* At the end of the file: short, then nothing. */
		EXPECT_EQ(12345, famfs_read(self->fd, 10 + f, 23 * MiB, got, 4 * MiB));
		EXPECT_EQ(0, famfs_read(self->fd, 10 + f, size, got, 4 * MiB));
		free(dev[f]);
	}
	free(file);
	free(got);
}

TEST_F(dax, simple_file_reads_back_across_extents)
{
	unsigned char *dev = server_write(self->pmem, 200 * MiB, 8 * MiB, 77);
	unsigned char *got = malloc(6 * MiB);

	ASSERT_NE(NULL, dev);
	/* The second extent comes first on the device. */
	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 2, 6 * MiB);
	ext(&self->r, DAXDEV, 204 * MiB, 4 * MiB);
	ext(&self->r, DAXDEV, 200 * MiB, 2 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	ASSERT_EQ(6 * MiB, famfs_read(self->fd, 7, 0, got, 6 * MiB));
	EXPECT_EQ(0, memcmp(got, dev + 4 * MiB, 4 * MiB));
	EXPECT_EQ(0, memcmp(got + 4 * MiB, dev, 2 * MiB));
	free(dev);
	free(got);
}

TEST_F(dax, extent_past_the_device_end_is_eio)
{
	char buf[64];

	/* pmem0 is 256 MiB. */
	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 1, 4 * MiB);
	ext(&self->r, DAXDEV, 254 * MiB, 4 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	EXPECT_EQ(sizeof(buf), famfs_read(self->fd, 7, 0, buf, sizeof(buf)));
	EXPECT_EQ(-1, famfs_read(self->fd, 7, 3 * MiB, buf, sizeof(buf)));
	EXPECT_EQ(EIO, errno);
}

TEST_F(dax, index_nobody_answered_fails_the_fmap)
{
	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 1, 2 * MiB);
	ext(&self->r, 9, 0, 2 * MiB);
	EXPECT_EQ(-1, set_fmap(self->fd, 7, &self->r));
	EXPECT_EQ(ENOTCONN, errno);
}

TEST_F(dax, devices_that_cannot_be_claimed_read_as_eio)
{
	int other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	char buf[64];

	ASSERT_LE(0, other);
	/* This connection claims pmem0 first... */
	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 1, 2 * MiB);
	ext(&self->r, DAXDEV, 0, 2 * MiB);
	ASSERT_EQ(0, set_fmap(self->fd, 7, &self->r));
	/* ... so another cannot. */
	ASSERT_EQ(0, answer_daxdev(other, DAXDEV, PMEM));
	ASSERT_EQ(0, set_fmap(other, 7, &self->r));
	EXPECT_EQ(-1, famfs_read(other, 7, 0, buf, sizeof(buf)));
	EXPECT_EQ(EIO, errno);
	/* A path that is no block device is refused with the answer. */
	EXPECT_EQ(-1, answer_daxdev(other, 6, "/dev/null"));
	EXPECT_EQ(ENOTBLK, errno);
	EXPECT_EQ(-1, answer_daxdev(other, 6, "/no/such/device"));
	EXPECT_EQ(ENOENT, errno);
	/* The first connection still reads. */
	EXPECT_EQ(sizeof(buf), famfs_read(self->fd, 7, 0, buf, sizeof(buf)));
	close(other);
}

/*
 * Keeps only CAP_SYS_RAWIO across a switch to an unprivileged uid: famfs
 * privilege, but none to read a device that is not its own.
 */
static int become_nobody_with_rawio(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[2] = {};

	if (prctl(PR_SET_KEEPCAPS, 1) || setgroups(0, NULL) ||
	    setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
		return -1;
	d[0].effective = d[0].permitted = 1U << CAP_SYS_RAWIO;
	return syscall(SYS_capset, &h, d);
}

TEST_F(dax, a_server_may_name_only_devices_it_may_read)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* A famfs server without the right to read pmem0 (root's, 0660). */
		int fd;

		if (become_nobody_with_rawio())
			_exit(10);
		fd = open(DEV_PATH, O_RDWR);
		if (fd < 0)
			_exit(11);
		if (answer_daxdev(fd, DAXDEV, PMEM) != -1)
			_exit(12);
		_exit(errno == EACCES ? 0 : 13);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child exit %d (13: not EACCES)", WEXITSTATUS(status));
}

TEST_F(dax, hostile_daxdev_answers_are_einval)
{
	struct fuse_daxdev_out a = { .index = 24 };

	strcpy(a.name, PMEM);
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a));
	EXPECT_EQ(EINVAL, errno);
	a.index = 1;
	a.reserved4 = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a));
	EXPECT_EQ(EINVAL, errno);
	a.reserved4 = 0;
	memset(a.name, 'x', sizeof(a.name));
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a));
	EXPECT_EQ(EINVAL, errno);
	memset(a.name, 0, sizeof(a.name));
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a));
	EXPECT_EQ(EINVAL, errno);
}

struct discovery {
	int fd;
	struct reply *r;
	int failed;
};

static void *discover(void *arg)
{
	struct discovery *d = arg;
	char buf[4096];
	int i;

	for (i = 0; i < 50; i++)
		if (set_fmap(d->fd, 20 + i % 4, d->r) ||
		    famfs_read(d->fd, 20 + i % 4, 0, buf, sizeof(buf)) != sizeof(buf))
			d->failed++;
	return NULL;
}

TEST_F(dax, concurrent_readers_during_daxdev_discovery)
{
	struct discovery d = { .fd = self->fd, .r = &self->r };
	pthread_t t[4];
	int i;

	start(&self->r, FUSE_FAMFS_EXT_SIMPLE, 1, 2 * MiB);
	ext(&self->r, DAXDEV, 100 * MiB, 2 * MiB);
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_create(&t[i], NULL, discover, &d));
	for (i = 0; i < 4; i++)
		ASSERT_EQ(0, pthread_join(t[i], NULL));
	EXPECT_EQ(0, d.failed);
}

TEST_HARNESS_MAIN
