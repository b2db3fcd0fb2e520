// SPDX-License-Identifier: GPL-2.0
/*
 * The mapping cache inside the module, driven through the connection's
 * ioctls: the traces of traces/ give the outputs the host's `cache replay`
 * gives (same code, compiled into the module), iomap_begin and iomap_valid
 * follow the cache, hostile arguments get precise errors, and readers run
 * against a writer without tearing.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <libgen.h>
#include <pthread.h>
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
#define BS		4096ULL
#define NODEID		1

static const char *const type_names[] = {
	[FUSE_IOMAP_TYPE_HOLE] = "hole",
	[FUSE_IOMAP_TYPE_DELALLOC] = "delalloc",
	[FUSE_IOMAP_TYPE_MAPPED] = "mapped",
	[FUSE_IOMAP_TYPE_UNWRITTEN] = "unwritten",
	[FUSE_IOMAP_TYPE_INLINE] = "inline",
	[FUSE_IOMAP_TYPE_NOCACHE] = "nocache",
	[FUSE_IOMAP_TYPE_RETRY_CACHE] = "retry_cache",
	[FUSE_IOMAP_TYPE_PURE_OVERWRITE] = "pure_overwrite",
};

static int open_conn(void)
{
	return open(DEV_PATH, O_RDWR | O_CLOEXEC);
}

static struct fuse_iomap_io io(__u16 type, __u64 off, __u64 len, __u64 addr, __u32 dev)
{
	struct fuse_iomap_io m = {
		.offset = off, .length = len, .addr = addr, .type = type, .dev = dev,
	};
	return m;
}

static struct fuse_iomap_io nocache(void)
{
	return io(FUSE_IOMAP_TYPE_NOCACHE, 0, 0, 0, 0);
}

static int upsert(int fd, __u64 nodeid, struct fuse_iomap_io read, struct fuse_iomap_io write)
{
	struct fuse_iomap_upsert_mappings_out msg = {
		.nodeid = nodeid, .read = read, .write = write,
	};
	return ioctl(fd, FUSE_IOMAP_IOC_UPSERT, &msg);
}

static int lookup(int fd, __u64 nodeid, __u32 fork, __u64 off, struct fuse_iomap_ioc_lookup *l)
{
	memset(l, 0, sizeof(*l));
	l->nodeid = nodeid;
	l->fork = fork;
	l->offset = off;
	return ioctl(fd, FUSE_IOMAP_IOC_LOOKUP, l);
}

static int begin(int fd, __u64 nodeid, __u32 opflags, __u64 pos, struct fuse_iomap_ioc_begin *b)
{
	memset(b, 0, sizeof(*b));
	b->nodeid = nodeid;
	b->in.opflags = opflags;
	b->in.pos = pos;
	b->in.count = BS;
	return ioctl(fd, FUSE_IOMAP_IOC_BEGIN, b);
}

static int valid(int fd, __u64 nodeid, __u64 cookie)
{
	struct fuse_iomap_ioc_valid v = { .nodeid = nodeid, .cookie = cookie };

	return ioctl(fd, FUSE_IOMAP_IOC_VALID, &v);
}

/* Trace replay, the C twin of rust/fuse_iomap/src/replay.rs's output. */

static void print_record(FILE *out, const struct fuse_iomap_io *r)
{
	fprintf(out, "%llu %llu %s ", (unsigned long long)r->offset,
		(unsigned long long)r->length, type_names[r->type]);
	if (r->addr == FUSE_IOMAP_NULL_ADDR)
		fputs("-", out);
	else
		fprintf(out, "%llu", (unsigned long long)r->addr);
	fprintf(out, " %u %u", r->dev, r->flags);
}

static __u64 num(const char *s)
{
	return strtoull(s, NULL, 0);
}

static __u16 type_of(const char *name)
{
	unsigned int i;

	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (type_names[i] && !strcmp(type_names[i], name))
			return i;
	return 0xffff;
}

static __u32 fork_of(const char *name)
{
	return strcmp(name, "write") ? FUSE_IOMAP_FORK_READ : FUSE_IOMAP_FORK_WRITE;
}

static void print_result(FILE *out, int ret)
{
	if (ret < 0)
		fprintf(out, "ERR %s\n", strerrorname_np(errno));
}

/* Replays one trace line on connection fd; the traces are well formed. */
static int replay_line(int fd, char *line, FILE *out)
{
	char *w[9] = { 0 };
	int n = 0;
	char *save, *tok;

	*strchrnul(line, '#') = '\0';
	for (tok = strtok_r(line, " \t\n", &save); tok && n < 9;
	     tok = strtok_r(NULL, " \t\n", &save))
		w[n++] = tok;
	if (!n)
		return 0;

	if (!strcmp(w[0], "config")) {
		struct fuse_iomap_ioc_config c = { .blocksize = 4096, .maxbytes = LLONG_MAX };
		int i;

		for (i = 1; i < n; i++) {
			char *v = strchr(w[i], '=') + 1;

			if (!strncmp(w[i], "blocksize=", 10))
				c.blocksize = num(v);
			else if (!strncmp(w[i], "maxbytes=", 9))
				c.maxbytes = num(v);
			else if (!strncmp(w[i], "cache_maxbytes=", 15))
				c.cache_maxbytes = num(v);
		}
		return ioctl(fd, FUSE_IOMAP_IOC_CONFIG, &c);
	}
	if (!strcmp(w[0], "device")) {
		struct fuse_iomap_ioc_device d = { .dev = num(w[1]), .size = num(w[2]) };

		return ioctl(fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d);
	}
	if (!strcmp(w[0], "upsert")) {
		struct fuse_iomap_io m = io(type_of(w[4]), num(w[2]), num(w[3]),
					    strcmp(w[5], "-") ? num(w[5]) : FUSE_IOMAP_NULL_ADDR,
					    num(w[6]));

		m.flags = num(w[7]);
		if (fork_of(w[1]) == FUSE_IOMAP_FORK_READ)
			print_result(out, upsert(fd, NODEID, m, nocache()));
		else
			print_result(out, upsert(fd, NODEID, nocache(), m));
		return 0;
	}
	if (!strcmp(w[0], "inval")) {
		struct fuse_iomap_inval_mappings_out msg = { .nodeid = NODEID };
		struct fuse_range r = {
			.offset = num(w[2]),
			.length = strcmp(w[3], "eof") ? num(w[3]) : FUSE_IOMAP_INVAL_TO_EOF,
		};

		if (strcmp(w[1], "write"))
			msg.read = r;
		if (strcmp(w[1], "read"))
			msg.write = r;
		print_result(out, ioctl(fd, FUSE_IOMAP_IOC_INVAL, &msg));
		return 0;
	}
	if (!strcmp(w[0], "lookup")) {
		struct fuse_iomap_ioc_lookup l;

		if (lookup(fd, NODEID, fork_of(w[1]), num(w[2]), &l))
			return -1;
		if (l.result == FUSE_IOMAP_LOOKUP_HIT) {
			fputs("HIT ", out);
			print_record(out, &l.map);
			fprintf(out, " cookie=%llu\n", (unsigned long long)l.cookie);
		} else {
			fputs(l.result == FUSE_IOMAP_LOOKUP_MISS ? "MISS\n" : "NOFORK\n", out);
		}
		return 0;
	}
	if (!strcmp(w[0], "dump")) {
		static struct fuse_iomap_io recs[65536];
		struct fuse_iomap_ioc_dump d = {
			.nodeid = NODEID, .fork = fork_of(w[1]), .count = 65536,
			.records = (__u64)(unsigned long)recs,
		};
		unsigned int i;

		if (ioctl(fd, FUSE_IOMAP_IOC_DUMP, &d))
			return -1;
		for (i = 0; i < d.count; i++) {
			print_record(out, &recs[i]);
			fputc('\n', out);
		}
		fprintf(out, "end %u\n", d.count);
		return 0;
	}
	errno = EINVAL;
	return -1;
}

static char *trace_path(const char *name, const char *ext)
{
	char exe[PATH_MAX], *path;
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0)
		return NULL;
	exe[n] = '\0';
	if (asprintf(&path, "%s/traces/%s.%s", dirname(exe), name, ext) < 0)
		return NULL;
	return path;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t len = 0;

	if (!f)
		return NULL;
	if (getdelim(&buf, &len, '\0', f) < 0) {
		free(buf);
		buf = strdup("");
	}
	fclose(f);
	return buf;
}

FIXTURE(trace)
{
	int fd;
};

FIXTURE_VARIANT(trace)
{
	const char *name;
};

FIXTURE_VARIANT_ADD(trace, merge_split) { .name = "merge_split" };
FIXTURE_VARIANT_ADD(trace, write_fork) { .name = "write_fork" };
FIXTURE_VARIANT_ADD(trace, limit) { .name = "limit" };
FIXTURE_VARIANT_ADD(trace, hostile) { .name = "hostile" };
FIXTURE_VARIANT_ADD(trace, random) { .name = "random" };

FIXTURE_SETUP(trace)
{
	self->fd = open_conn();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV_PATH, strerror(errno));
}

FIXTURE_TEARDOWN(trace)
{
	close(self->fd);
}

TEST_F(trace, module_answers_like_cache_replay)
{
	char *trace_file = trace_path(variant->name, "trace");
	char *expected_file = trace_path(variant->name, "out");
	char *expected = read_file(expected_file);
	FILE *in = fopen(trace_file, "r");
	char *line = NULL, *got = NULL;
	size_t cap = 0, got_len = 0;
	FILE *out = open_memstream(&got, &got_len);
	int lineno = 0;

	ASSERT_NE(NULL, in) TH_LOG("%s: %s", trace_file, strerror(errno));
	ASSERT_NE(NULL, expected) TH_LOG("%s: %s", expected_file, strerror(errno));
	while (getline(&line, &cap, in) > 0) {
		lineno++;
		ASSERT_EQ(0, replay_line(self->fd, line, out))
			TH_LOG("%s line %d: %s", variant->name, lineno, strerror(errno));
	}
	fclose(out);
	if (strcmp(expected, got)) {
		char *e = expected, *g = got;
		int n = 1;

		while (*e && *e == *g) {
			n += *e == '\n';
			e++;
			g++;
		}
		TH_LOG("%s: output line %d differs from the host's", variant->name, n);
	}
	ASSERT_STREQ(expected, got);
	fclose(in);
	free(line);
	free(got);
	free(expected);
	free(trace_file);
	free(expected_file);
}

FIXTURE(conn)
{
	int fd;
};

FIXTURE_SETUP(conn)
{
	struct fuse_iomap_ioc_device d = { .dev = 1, .size = 1ULL << 30 };

	self->fd = open_conn();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", DEV_PATH, strerror(errno));
	ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d));
}

FIXTURE_TEARDOWN(conn)
{
	close(self->fd);
}

TEST_F(conn, begin_hit_comes_from_the_cache_with_a_valid_cookie)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, 0, 4 * BS, 0, 1), nocache()));
	ASSERT_EQ(0, begin(self->fd, 5, 0, 2 * BS, &b));
	EXPECT_EQ(FUSE_IOMAP_SOURCE_CACHE, b.source);
	EXPECT_EQ(FUSE_IOMAP_TYPE_MAPPED, b.out.read.type);
	EXPECT_EQ(4 * BS, b.out.read.length);
	EXPECT_EQ(FUSE_IOMAP_TYPE_NOCACHE, b.out.write.type);
	EXPECT_NE(0, b.cookie);
	EXPECT_EQ(1, valid(self->fd, 5, b.cookie));
	/* Any change to the cache makes the cookie stale. */
	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_HOLE, 8 * BS, BS, FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	EXPECT_EQ(0, valid(self->fd, 5, b.cookie));
	EXPECT_EQ(1, valid(self->fd, 5, 0));
}

TEST_F(conn, whole_fork_drop_makes_cookies_stale)
{
	struct fuse_iomap_inval_mappings_out all = {
		.nodeid = 5, .read = { 0, FUSE_IOMAP_INVAL_TO_EOF },
	};
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_HOLE, 0, BS, FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	ASSERT_EQ(0, begin(self->fd, 5, 0, 0, &b));
	ASSERT_EQ(1, valid(self->fd, 5, b.cookie));
	ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_INVAL, &all));
	EXPECT_EQ(0, valid(self->fd, 5, b.cookie));
}

TEST_F(conn, begin_miss_without_a_server_is_enotconn)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(-1, begin(self->fd, 5, 0, 0, &b));
	EXPECT_EQ(ENOTCONN, errno);
}

TEST_F(conn, begin_nowait_miss_is_eagain)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(-1, begin(self->fd, 5, FUSE_IOMAP_OP_NOWAIT, 0, &b));
	EXPECT_EQ(EAGAIN, errno);
}

TEST_F(conn, begin_write_uses_the_write_fork_and_pure_overwrite)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, 0, 4 * BS, 0, 1),
			    io(FUSE_IOMAP_TYPE_MAPPED, 0, 2 * BS, 64 * BS, 1)));
	ASSERT_EQ(0, begin(self->fd, 5, FUSE_IOMAP_OP_WRITE, 0, &b));
	EXPECT_EQ(64 * BS, b.out.write.addr);
	EXPECT_EQ(0, b.out.read.addr);
	/* Past the write fork's record: a miss, and no server. */
	ASSERT_EQ(-1, begin(self->fd, 5, FUSE_IOMAP_OP_WRITE, 3 * BS, &b));
	EXPECT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, upsert(self->fd, 5, nocache(),
			    io(FUSE_IOMAP_TYPE_PURE_OVERWRITE, 2 * BS, 2 * BS, FUSE_IOMAP_NULL_ADDR, 0)));
	ASSERT_EQ(0, begin(self->fd, 5, FUSE_IOMAP_OP_WRITE, 3 * BS, &b));
	EXPECT_EQ(FUSE_IOMAP_TYPE_NOCACHE, b.out.write.type);
}

TEST_F(conn, begin_bypasses_the_cache_for_atomic_writes)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, 0, BS, 0, 1), nocache()));
	ASSERT_EQ(-1, begin(self->fd, 5, FUSE_IOMAP_OP_WRITE | FUSE_IOMAP_OP_ATOMIC, 0, &b));
	EXPECT_EQ(ENOTCONN, errno);
}

TEST_F(conn, hostile_arguments_get_precise_errors)
{
	struct fuse_iomap_ioc_device d = { .dev = 2, .reserved = 1, .size = BS };
	struct fuse_iomap_ioc_config c = { .blocksize = 4096, .maxbytes = 1 << 20 };
	struct fuse_iomap_ioc_lookup l;
	struct fuse_iomap_ioc_begin b;
	__u64 nodeid = 12345;

	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);
	d.reserved = 0;
	d.dev = 1;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d));
	EXPECT_EQ(EEXIST, errno);
	d.dev = FUSE_IOMAP_DEV_NULL;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, lookup(self->fd, 5, 2, 0, &l));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, begin(self->fd, 5, 1U << 20, 0, &b));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_FORGET, &nodeid));
	EXPECT_EQ(ENOENT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_UPSERT, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	c.blocksize = 3000;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_CONFIG, &c));
	EXPECT_EQ(EINVAL, errno);
	/* A bad mapping is refused and creates nothing to configure around. */
	EXPECT_EQ(-1, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, 0, BS, 0, 9), nocache()));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, 0, BS, 0, 1), nocache()));
	c.blocksize = 4096;
	EXPECT_EQ(-1, ioctl(self->fd, FUSE_IOMAP_IOC_CONFIG, &c));
	EXPECT_EQ(EBUSY, errno);
	/* Other inodes, and other connections, are untouched by all this. */
	ASSERT_EQ(0, lookup(self->fd, 5, FUSE_IOMAP_FORK_READ, 0, &l));
	EXPECT_EQ(FUSE_IOMAP_LOOKUP_HIT, l.result);
	ASSERT_EQ(0, lookup(self->fd, 6, FUSE_IOMAP_FORK_READ, 0, &l));
	EXPECT_EQ(FUSE_IOMAP_LOOKUP_MISS, l.result);
}

TEST_F(conn, dump_reports_the_total_when_room_is_short)
{
	struct fuse_iomap_io recs[2];
	struct fuse_iomap_ioc_dump d = {
		.nodeid = 5, .fork = FUSE_IOMAP_FORK_READ, .count = 2,
		.records = (__u64)(unsigned long)recs,
	};
	int i;

	for (i = 0; i < 5; i++)
		ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_HOLE, 2 * i * BS, BS,
						    FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_DUMP, &d));
	EXPECT_EQ(5, d.count);
	EXPECT_EQ(2 * BS, recs[1].offset);
}

TEST_F(conn, inodes_are_bounded_and_forgotten)
{
	__u64 nodeid;

	for (nodeid = 1; nodeid <= 4096; nodeid++)
		ASSERT_EQ(0, upsert(self->fd, nodeid, io(FUSE_IOMAP_TYPE_HOLE, 0, BS,
							 FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	ASSERT_EQ(-1, upsert(self->fd, nodeid, io(FUSE_IOMAP_TYPE_HOLE, 0, BS,
						  FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	EXPECT_EQ(ENOSPC, errno);
	for (nodeid = 1; nodeid <= 2048; nodeid++)
		ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_FORGET, &nodeid));
	ASSERT_EQ(0, upsert(self->fd, 99999, io(FUSE_IOMAP_TYPE_HOLE, 0, BS,
						FUSE_IOMAP_NULL_ADDR, 0), nocache()));
	/* The other 2049 inodes go with the connection, at teardown. */
}

struct race {
	int fd;
	volatile int stop;
	int torn;
	long hits;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	unsigned int seed = (unsigned long)pthread_self();
	struct fuse_iomap_ioc_lookup l;

	while (!r->stop) {
		__u64 off = (rand_r(&seed) % 1024) * BS + 7;

		if (lookup(r->fd, 5, FUSE_IOMAP_FORK_READ, off, &l)) {
			r->torn++;
			continue;
		}
		if (l.result != FUSE_IOMAP_LOOKUP_HIT)
			continue;
		r->hits++;
		/* A hit contains the offset and is one of the writer's shapes. */
		if (l.map.offset > off || off - l.map.offset >= l.map.length ||
		    (l.map.type == FUSE_IOMAP_TYPE_MAPPED && l.map.addr != l.map.offset))
			r->torn++;
	}
	return NULL;
}

TEST_F(conn, readers_never_see_a_torn_cache_while_a_writer_changes_it)
{
	struct race r = { .fd = self->fd };
	pthread_t readers[3];
	unsigned int seed = 1;
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_create(&readers[i], NULL, race_reader, &r));
	for (i = 0; i < 20000; i++) {
		__u64 b = rand_r(&seed) % 1024, n = 1 + rand_r(&seed) % 8;

		if (i % 5 == 4) {
			struct fuse_iomap_inval_mappings_out msg = {
				.nodeid = 5, .read = { b * BS, n * BS },
			};

			ASSERT_EQ(0, ioctl(self->fd, FUSE_IOMAP_IOC_INVAL, &msg));
		} else if (i % 2) {
			ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_MAPPED, b * BS, n * BS, b * BS, 1),
					    nocache()));
		} else {
			ASSERT_EQ(0, upsert(self->fd, 5, io(FUSE_IOMAP_TYPE_HOLE, b * BS, n * BS,
							    FUSE_IOMAP_NULL_ADDR, 0), nocache()));
		}
	}
	r.stop = 1;
	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, pthread_join(readers[i], NULL));
	EXPECT_EQ(0, r.torn);
	EXPECT_LT(0, r.hits);
}

/*
 * What the connection allocated is freed when its file closes: kmemleak,
 * scanned once the objects are old enough to be reported, finds nothing
 * that this process allocated unreferenced. (One scan: under TCG a scan
 * takes tens of seconds; a leak hidden from it by a stale pointer is still
 * caught by the two scans of tools/vm/guest.sh.)
 */
#define KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define KMEMLEAK_MIN_AGE 5	/* seconds: kmemleak's jiffies_min_age */

FIXTURE(kmemleak)
{
	int fd;
};

FIXTURE_SETUP(kmemleak)
{
	self->fd = open(KMEMLEAK, O_RDWR | O_CLOEXEC);
	if (self->fd < 0)
		SKIP(return, "%s: %s (CONFIG_DEBUG_KMEMLEAK, debugfs mounted)", KMEMLEAK,
		     strerror(errno));
}

FIXTURE_TEARDOWN(kmemleak)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * Scans, then returns the number of the report's objects that task pid allocated (the
 * report's "comm" lines name the allocating task), or -1 with errno.
 */
static int kmemleak_objects_of(int fd, pid_t pid, char **report)
{
	static char buf[1 << 20];
	char tag[32], *line, *next;
	ssize_t n, len = 0;
	int count = 0;

	/*
	 * kmemleak reports an object only once its contents stayed the same
	 * across two scans (it skips what looks in flux): scan twice.
	 */
	if (write(fd, "scan", 4) != 4 || write(fd, "scan", 4) != 4)
		return -1;
	/* The report, read afresh: the file takes no pread. */
	fd = open(KMEMLEAK, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += n;
	close(fd);
	if (n < 0)
		return -1;
	buf[len] = 0;
	snprintf(tag, sizeof(tag), ", pid %d,", pid);
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		count += strstr(line, "comm \"") && strstr(line, tag);
		if (next)
			next[-1] = '\n';
	}
	*report = buf;
	return count;
}

TEST_F_TIMEOUT(kmemleak, closing_with_live_caches_frees_them, 180)
{
	struct fuse_iomap_ioc_lookup l;
	int fd = open_conn(), leaked;
	__u64 nodeid;
	char *report;

	ASSERT_LE(0, fd);
	for (nodeid = 1; nodeid <= 64; nodeid++) {
		ASSERT_EQ(0, upsert(fd, nodeid, io(FUSE_IOMAP_TYPE_HOLE, 0, BS, FUSE_IOMAP_NULL_ADDR, 0),
				    io(FUSE_IOMAP_TYPE_HOLE, BS, BS, FUSE_IOMAP_NULL_ADDR, 0)));
		ASSERT_EQ(0, lookup(fd, nodeid, FUSE_IOMAP_FORK_WRITE, BS, &l));
		ASSERT_EQ(FUSE_IOMAP_LOOKUP_HIT, l.result);
	}
	ASSERT_EQ(0, close(fd));
	/* Anything the connection leaked is now unreferenced, and old enough. */
	sleep(KMEMLEAK_MIN_AGE + 1);
	leaked = kmemleak_objects_of(self->fd, getpid(), &report);
	ASSERT_LE(0, leaked) TH_LOG("%s: %s", KMEMLEAK, strerror(errno));
	EXPECT_EQ(0, leaked) TH_LOG("objects of pid %d left unreferenced:\n%s", getpid(), report);
}

TEST_HARNESS_MAIN
