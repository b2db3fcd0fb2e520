// SPDX-License-Identifier: GPL-2.0
/*
 * The device channel, end to end: the test plays the server on the device's
 * file descriptor (read requests, write replies and notifications, framed as
 * on /dev/fuse) and the VFS on a client handle. The handshake; the cache
 * path (miss, upcall, upsert, hit; RETRY_CACHE; NOWAIT; invalidation on
 * setsize and ioend); iomap_end only when asked; famfs (open, GET_FMAP,
 * GET_DAXDEV, read); threads resolving while the server upserts and
 * invalidates; and every way a server can misbehave, each leaving the
 * kernel healthy.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"
#include "fuse_iomap_wire.h"

/* Under TCG, with KASAN, a test may need more than the harness's 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define PMEM		"/dev/pmem0"
#define BS		4096ULL
#define MiB		(1ULL << 20)
#define NODEID		5
#define DEV		1
#define DEV_SIZE	(1ULL << 30)
#define EFSCORRUPTED	EUCLEAN

/* A request as read from the channel. */
struct req {
	struct fuse_in_header h;
	union {
		struct fuse_init_in init;
		struct fuse_iomap_config_in config;
		struct fuse_iomap_begin_in begin;
		struct fuse_iomap_end_in end;
		struct fuse_iomap_ioend_in ioend;
		char raw[8192 - sizeof(struct fuse_in_header)];
	};
};

/* Reads one request; waits up to a second for it. */
static int read_req(int fd, struct req *r)
{
	return wire_read(fd, r, sizeof(*r), 1000);
}

static int reply(int fd, __u64 unique, const void *payload, size_t size)
{
	return send_msg(fd, unique, 0, payload, size);
}

static int notify(int fd, int code, const void *payload, size_t size)
{
	return send_msg(fd, 0, code, payload, size);
}

static struct fuse_iomap_io mapped(__u64 off, __u64 len)
{
	struct fuse_iomap_io m = {
		.offset = off, .length = len, .addr = off + 64 * MiB,
		.type = FUSE_IOMAP_TYPE_MAPPED, .dev = DEV,
	};
	return m;
}

static struct fuse_iomap_io special(__u16 type)
{
	struct fuse_iomap_io m = { .type = type, .addr = FUSE_IOMAP_NULL_ADDR };
	return m;
}

static int upsert(int fd, __u64 nodeid, struct fuse_iomap_io read)
{
	struct fuse_iomap_upsert_mappings_out msg = {
		.nodeid = nodeid, .read = read,
		.write = special(FUSE_IOMAP_TYPE_NOCACHE),
	};
	return notify(fd, FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, &msg, sizeof(msg));
}

static int begin(int cli, __u32 opflags, __u64 pos, struct fuse_iomap_ioc_begin *b)
{
	memset(b, 0, sizeof(*b));
	b->nodeid = NODEID;
	b->in.opflags = opflags;
	b->in.pos = pos;
	b->in.count = BS;
	return ioctl(cli, FUSE_IOMAP_IOC_BEGIN, b) ? -errno : 0;
}

static struct fuse_iomap_counters counters(int fd)
{
	struct fuse_iomap_counters c;

	memset(&c, 0xff, sizeof(c));
	ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &c);
	return c;
}

/*
 * The handshake, from the server's side: INIT (keeping flags of the offer),
 * then IOMAP_CONFIG for an iomap connection.
 */
static int handshake(int fd, __u64 keep)
{
	struct fuse_init_out init = { .major = 7, .minor = 41 };
	struct fuse_iomap_config_out config = {
		.flags = FUSE_IOMAP_CONFIG_BLOCKSIZE, .blocksize = BS,
	};
	struct req r;
	int ret;

	ret = read_req(fd, &r);
	if (ret || r.h.opcode != FUSE_INIT)
		return ret ?: -EPROTO;
	keep |= FUSE_INIT_EXT;
	init.flags = keep;
	init.flags2 = keep >> 32;
	ret = reply(fd, r.h.unique, &init, sizeof(init));
	if (ret || !(keep & FUSE_IOMAP))
		return ret;
	ret = read_req(fd, &r);
	if (ret || r.h.opcode != FUSE_IOMAP_CONFIG)
		return ret ?: -EPROTO;
	return reply(fd, r.h.unique, &config, sizeof(config));
}

/* How the server thread answers IOMAP_BEGIN. */
enum mode {
	ANSWER,		/* the mapping */
	UPSERT_ANSWER,	/* upsert it, then the mapping */
	UPSERT_RETRY,	/* upsert it, then RETRY_CACHE */
};

struct server {
	int fd;
	enum mode mode;
	volatile int stop;
	pthread_t thread;
};

/* A disk file: block b of the file is at 64 MiB + b on device DEV. */
static void *serve(void *arg)
{
	struct server *s = arg;
	struct req r;

	while (!s->stop) {
		struct fuse_iomap_begin_out out = {
			.write = special(FUSE_IOMAP_TYPE_NOCACHE),
		};
		struct fuse_iomap_ioend_out ioend = { .newsize = 1 << 20 };

		if (read_req(s->fd, &r))
			continue;
		switch (r.h.opcode) {
		case FUSE_IOMAP_BEGIN:
			out.read = mapped(r.begin.pos & ~(BS - 1), BS);
			if (s->mode != ANSWER)
				upsert(s->fd, r.h.nodeid, out.read);
			if (s->mode == UPSERT_RETRY)
				out.read = special(FUSE_IOMAP_TYPE_RETRY_CACHE);
			reply(s->fd, r.h.unique, &out, sizeof(out));
			break;
		case FUSE_IOMAP_END:
			reply(s->fd, r.h.unique, NULL, 0);
			break;
		case FUSE_IOMAP_IOEND:
			reply(s->fd, r.h.unique, &ioend, sizeof(ioend));
			break;
		default:
			send_msg(s->fd, r.h.unique, -ENOSYS, NULL, 0);
		}
	}
	return NULL;
}

FIXTURE(channel) {
	int srv;
	int cli;
	struct server server;
};

FIXTURE_SETUP(channel)
{
	struct fuse_iomap_ioc_device dev = { .dev = DEV, .size = DEV_SIZE };

	self->server.thread = 0;
	self->srv = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->srv) TH_LOG("%s: %s", DEV_PATH, strerror(errno));
	ASSERT_EQ(0, ioctl(self->srv, FUSE_IOMAP_IOC_ADD_DEVICE, &dev));
	self->cli = ioctl(self->srv, FUSE_IOMAP_IOC_CLIENT);
	ASSERT_LE(0, self->cli) TH_LOG("FUSE_IOMAP_IOC_CLIENT: %s", strerror(errno));
	self->server.fd = self->srv;
}

FIXTURE_TEARDOWN(channel)
{
	if (self->server.thread) {
		self->server.stop = 1;
		pthread_join(self->server.thread, NULL);
	}
	close(self->cli);
	close(self->srv);
}

static void start(struct server *s, enum mode mode)
{
	s->mode = mode;
	s->stop = 0;
	pthread_create(&s->thread, NULL, serve, s);
}

TEST_F(channel, handshake_offers_iomap_and_famfs_and_configures)
{
	struct fuse_init_out init = {
		.major = 7, .minor = 41,
		.flags = FUSE_INIT_EXT, .flags2 = FUSE_IOMAP >> 32,
	};
	struct fuse_iomap_config_out config = {
		.flags = FUSE_IOMAP_CONFIG_BLOCKSIZE | FUSE_IOMAP_CONFIG_CACHE_MAXBYTES,
		.blocksize = 1024, .cache_maxbytes = 512,
	};
	struct fuse_iomap_ioc_begin b;
	struct fuse_iomap_counters c;
	struct req r;
	__u64 offer;
	int cli2;

	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(FUSE_INIT, r.h.opcode);
	ASSERT_EQ(sizeof(r.h) + sizeof(r.init), r.h.len);
	ASSERT_NE(0, r.h.unique);
	ASSERT_EQ(7, r.init.major);
	offer = r.init.flags | (__u64)r.init.flags2 << 32;
	ASSERT_TRUE(offer & FUSE_INIT_EXT);
	ASSERT_TRUE(offer & FUSE_IOMAP);
	/* The tests run as root: CAP_SYS_RAWIO. */
	ASSERT_TRUE(offer & FUSE_DAX_FMAP);

	ASSERT_EQ(0, reply(self->srv, r.h.unique, &init, sizeof(init)));
	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(FUSE_IOMAP_CONFIG, r.h.opcode);
	ASSERT_EQ(FUSE_IOMAP_CONFIG_BLOCKSIZE | FUSE_IOMAP_CONFIG_MAXBYTES |
		  FUSE_IOMAP_CONFIG_CACHE_MAXBYTES, r.config.flags);
	ASSERT_EQ(0, reply(self->srv, r.h.unique, &config, sizeof(config)));

	/* A 1 KiB block: a 1 KiB upsert is aligned, and then hits. */
	ASSERT_EQ(0, upsert(self->srv, NODEID, mapped(0, 1024)));
	ASSERT_EQ(0, begin(self->cli, 0, 512, &b));
	ASSERT_EQ(FUSE_IOMAP_SOURCE_CACHE, b.source);
	c = counters(self->cli);
	ASSERT_EQ(1, c.upcalls[FUSE_IOMAP_UPCALL_INIT]);
	ASSERT_EQ(1, c.upcalls[FUSE_IOMAP_UPCALL_CONFIG]);

	/* One client made the handshake; a second one does not repeat it. */
	cli2 = ioctl(self->srv, FUSE_IOMAP_IOC_CLIENT);
	ASSERT_LE(0, cli2);
	ASSERT_EQ(0, begin(cli2, 0, 512, &b));
	ASSERT_EQ(-ETIMEDOUT, read_req(self->srv, &r));
	close(cli2);
}

TEST(an_unprivileged_server_is_not_offered_famfs)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct req r;
		int srv;

		if (setgroups(0, NULL) || setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		srv = open(DEV_PATH, O_RDWR);
		if (srv < 0 || ioctl(srv, FUSE_IOMAP_IOC_CLIENT) < 0 || read_req(srv, &r))
			_exit(11);
		if (!(r.init.flags2 & (FUSE_IOMAP >> 32)))
			_exit(12);
		_exit(r.init.flags2 & (FUSE_DAX_FMAP >> 32) ? 13 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) TH_LOG("child exit %d (13: famfs offered)",
						 WEXITSTATUS(status));
}

TEST_F(channel, reads_follow_dev_fuse)
{
	char small[4096];
	struct pollfd p = { .fd = self->srv, .events = POLLIN };
	struct fuse_iomap_upsert_mappings_out msg = { .nodeid = NODEID };
	int flags = fcntl(self->srv, F_GETFL);
	struct req r;

	ASSERT_EQ(-1, read(self->srv, small, sizeof(small)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(1, poll(&p, 1, 0));
	ASSERT_TRUE(p.revents & POLLIN);
	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	ASSERT_EQ(0, poll(&p, 1, 0));
	ASSERT_EQ(0, fcntl(self->srv, F_SETFL, flags | O_NONBLOCK));
	ASSERT_EQ(-1, read(self->srv, &r, sizeof(r)));
	ASSERT_EQ(EAGAIN, errno);
	/* A client handle is not a channel, and cannot play the server. */
	ASSERT_EQ(-1, read(self->cli, &r, sizeof(r)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_UPSERT, &msg));
	ASSERT_EQ(ENOTTY, errno);
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_CLIENT));
	ASSERT_EQ(ENOTTY, errno);
}

/*
 * libfuse reads with read() but replies with writev(): a header segment and
 * a payload segment. A message may come in any number of segments, split
 * anywhere, and counts as one write; requests can be read with readv().
 */
TEST_F(channel, vectored_reads_and_writes_carry_whole_messages)
{
	struct fuse_init_out init = {
		.major = 7, .minor = 41,
		.flags = FUSE_INIT_EXT, .flags2 = FUSE_IOMAP >> 32,
	};
	struct fuse_iomap_config_out config = {
		.flags = FUSE_IOMAP_CONFIG_BLOCKSIZE, .blocksize = BS,
	};
	static char rest[8192];
	struct fuse_iomap_upsert_mappings_out ups = {
		.nodeid = NODEID, .read = mapped(0, BS),
		.write = special(FUSE_IOMAP_TYPE_NOCACHE),
	};
	struct fuse_in_header ih;
	struct fuse_out_header oh;
	struct fuse_iomap_ioc_begin b;
	struct iovec in[2] = {
		{ .iov_base = &ih, .iov_len = sizeof(ih) },
		{ .iov_base = rest, .iov_len = sizeof(rest) },
	};
	struct iovec out[3];
	struct fuse_init_in *init_in = (void *)rest;
	void *unmapped;

	/* A readv() whose second buffer faults fails, and loses nothing. */
	unmapped = mmap(NULL, 8192, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unmapped);
	in[1].iov_base = unmapped;
	ASSERT_EQ(-1, readv(self->srv, in, 2));
	ASSERT_EQ(EFAULT, errno);
	munmap(unmapped, 8192);

	in[1].iov_base = rest;
	ASSERT_EQ(sizeof(ih) + sizeof(*init_in), readv(self->srv, in, 2));
	ASSERT_EQ(FUSE_INIT, ih.opcode);
	ASSERT_EQ(7, init_in->major);

	/* The INIT reply as libfuse sends it: header, then payload. */
	oh = (struct fuse_out_header){
		.len = sizeof(oh) + sizeof(init), .unique = ih.unique,
	};
	out[0] = (struct iovec){ .iov_base = &oh, .iov_len = sizeof(oh) };
	out[1] = (struct iovec){ .iov_base = &init, .iov_len = sizeof(init) };
	ASSERT_EQ(oh.len, writev(self->srv, out, 2));

	/* The CONFIG reply split inside the header and inside the payload. */
	ASSERT_EQ(sizeof(ih) + sizeof(struct fuse_iomap_config_in),
		  readv(self->srv, in, 2));
	ASSERT_EQ(FUSE_IOMAP_CONFIG, ih.opcode);
	oh = (struct fuse_out_header){
		.len = sizeof(oh) + sizeof(config), .unique = ih.unique,
	};
	memcpy(rest, &oh, sizeof(oh));
	memcpy(rest + sizeof(oh), &config, sizeof(config));
	out[0] = (struct iovec){ .iov_base = rest, .iov_len = 6 };
	out[1] = (struct iovec){ .iov_base = rest + 6, .iov_len = 20 };
	out[2] = (struct iovec){ .iov_base = rest + 26, .iov_len = oh.len - 26 };
	/* A last segment that makes it longer than its header says: refused. */
	out[2].iov_len++;
	ASSERT_EQ(-1, writev(self->srv, out, 3));
	ASSERT_EQ(EINVAL, errno);
	out[2].iov_len--;
	ASSERT_EQ(oh.len, writev(self->srv, out, 3));

	/* The handshake is done: a gathered upsert is one notification. */
	oh = (struct fuse_out_header){
		.len = sizeof(oh) + sizeof(ups),
		.error = FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS,
	};
	out[0] = (struct iovec){ .iov_base = &oh, .iov_len = sizeof(oh) };
	out[1] = (struct iovec){ .iov_base = &ups, .iov_len = sizeof(ups) };
	ASSERT_EQ(oh.len, writev(self->srv, out, 2));
	ASSERT_EQ(0, begin(self->cli, 0, 0, &b));
	ASSERT_EQ(FUSE_IOMAP_SOURCE_CACHE, b.source);
	ASSERT_EQ(64 * MiB, b.out.read.addr);
}

TEST_F(channel, miss_upcall_upsert_then_hits_without_upcalls)
{
	struct fuse_iomap_ioc_begin b;
	struct fuse_iomap_counters c;
	int i;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	start(&self->server, UPSERT_ANSWER);
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, begin(self->cli, 0, i * BS, &b));
		ASSERT_EQ(FUSE_IOMAP_SOURCE_UPCALL, b.source);
		ASSERT_EQ(0, b.cookie);
		ASSERT_EQ(i * BS + 64 * MiB, b.out.read.addr);
	}
	c = counters(self->cli);
	ASSERT_EQ(16, c.upcalls[FUSE_IOMAP_UPCALL_BEGIN]);
	ASSERT_EQ(16, c.cache_misses);
	/* A re-read of the cached range: every block hits, nothing is sent. */
	for (i = 0; i < 16; i++) {
		ASSERT_EQ(0, begin(self->cli, 0, i * BS + 100, &b));
		ASSERT_EQ(FUSE_IOMAP_SOURCE_CACHE, b.source);
		ASSERT_NE(0, b.cookie);
	}
	c = counters(self->cli);
	ASSERT_EQ(16, c.upcalls[FUSE_IOMAP_UPCALL_BEGIN]);
	ASSERT_EQ(16, c.cache_hits);
}

TEST_F(channel, retry_cache_finds_the_upsert)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	start(&self->server, UPSERT_RETRY);
	ASSERT_EQ(0, begin(self->cli, 0, 3 * BS, &b));
	ASSERT_EQ(FUSE_IOMAP_SOURCE_CACHE, b.source);
	ASSERT_EQ(1, b.retries);
	ASSERT_EQ(1, counters(self->cli).retries);
}

TEST_F(channel, nowait_miss_is_eagain_without_upcall)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	ASSERT_EQ(-EAGAIN, begin(self->cli, FUSE_IOMAP_OP_NOWAIT, 0, &b));
	ASSERT_EQ(0, counters(self->cli).upcalls[FUSE_IOMAP_UPCALL_BEGIN]);
}

TEST_F(channel, setsize_and_ioend_invalidate)
{
	struct fuse_iomap_ioc_setsize sz = { .nodeid = NODEID, .size = 2 * BS + 1 };
	struct fuse_iomap_ioc_ioend io = {
		.nodeid = NODEID,
		.in = { .flags = FUSE_IOMAP_IOEND_UNWRITTEN, .pos = 0, .written = BS },
	};
	struct fuse_iomap_ioc_lookup l = { .nodeid = NODEID };
	int i;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, upsert(self->srv, NODEID, mapped(i * BS, BS)));
	}
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_SETSIZE, &sz));
	l.offset = 2 * BS;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_LOOKUP, &l));
	ASSERT_EQ(FUSE_IOMAP_LOOKUP_MISS, l.result);
	l.offset = BS;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_LOOKUP, &l));
	ASSERT_EQ(FUSE_IOMAP_LOOKUP_HIT, l.result);

	start(&self->server, ANSWER);
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_IOEND, &io));
	ASSERT_EQ(1 << 20, io.newsize);
	l.offset = 0;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_LOOKUP, &l));
	ASSERT_EQ(FUSE_IOMAP_LOOKUP_MISS, l.result);
	l.offset = BS;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_LOOKUP, &l));
	ASSERT_EQ(FUSE_IOMAP_LOOKUP_HIT, l.result);
	ASSERT_EQ(1, counters(self->cli).upcalls[FUSE_IOMAP_UPCALL_IOEND]);
	/* A plain ioend leaves the cache alone. */
	io.in.flags = 0;
	io.in.pos = BS;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_IOEND, &io));
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_LOOKUP, &l));
	ASSERT_EQ(FUSE_IOMAP_LOOKUP_HIT, l.result);
	io.in.flags = 1 << 7;
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_IOEND, &io));
	ASSERT_EQ(EINVAL, errno);
}

TEST_F(channel, iomap_end_is_sent_only_when_asked)
{
	struct fuse_iomap_ioc_end e = {
		.nodeid = NODEID,
		.in = { .pos = 0, .count = BS, .written = BS, .map = mapped(0, BS) },
	};

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	start(&self->server, ANSWER);
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_END, &e));
	ASSERT_EQ(0, counters(self->cli).upcalls[FUSE_IOMAP_UPCALL_END]);
	e.in.map.flags = FUSE_IOMAP_F_WANT_IOMAP_END;
	ASSERT_EQ(0, ioctl(self->cli, FUSE_IOMAP_IOC_END, &e));
	ASSERT_EQ(1, counters(self->cli).upcalls[FUSE_IOMAP_UPCALL_END]);
}

/* A client call made in a thread, so that the test can play the server. */
struct call {
	int cli;
	__u64 pos;
	int ret;
	struct fuse_iomap_ioc_begin b;
	pthread_t thread;
};

static void *call_begin(void *arg)
{
	struct call *c = arg;

	c->ret = begin(c->cli, 0, c->pos, &c->b);
	return NULL;
}

static void call_start(struct call *c, int cli, __u64 pos)
{
	c->cli = cli;
	c->pos = pos;
	pthread_create(&c->thread, NULL, call_begin, c);
}

static void on_usr1(int sig)
{
}

TEST_F(channel, malformed_writes_change_nothing)
{
	struct fuse_iomap_begin_out out = {
		.read = mapped(0, BS), .write = special(FUSE_IOMAP_TYPE_NOCACHE),
	};
	struct fuse_out_header oh = { .len = 20, .unique = 0 };
	char longer[sizeof(out) + 8] = { 0 };
	struct fuse_iomap_counters c;
	struct call call;
	struct req r;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	call_start(&call, self->cli, 0);
	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(FUSE_IOMAP_BEGIN, r.h.opcode);
	ASSERT_EQ(NODEID, r.h.nodeid);
	ASSERT_EQ(0, r.h.uid);

	/* Wrong size, unknown unique, bad headers: refused, request pending. */
	ASSERT_EQ(-EINVAL, reply(self->srv, r.h.unique, &out, sizeof(out) - 8));
	ASSERT_EQ(-EINVAL, reply(self->srv, r.h.unique, longer, sizeof(longer)));
	ASSERT_EQ(-ENOENT, reply(self->srv, r.h.unique + 2, &out, sizeof(out)));
	ASSERT_EQ(-EINVAL, send_msg(self->srv, r.h.unique, 1, NULL, 0));
	ASSERT_EQ(-EINVAL, send_msg(self->srv, r.h.unique, -512, NULL, 0));
	ASSERT_EQ(-EINVAL, send_msg(self->srv, r.h.unique, -EIO, &out, sizeof(out)));
	ASSERT_EQ(-1, write(self->srv, &oh, sizeof(oh)));
	ASSERT_EQ(EINVAL, errno);
	ASSERT_EQ(-1, write(self->srv, &oh, 8));
	ASSERT_EQ(EINVAL, errno);
	/* Notifications of the wrong size, or of no known code. */
	ASSERT_EQ(-EINVAL, notify(self->srv, FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, &out, sizeof(out)));
	ASSERT_EQ(-EINVAL, notify(self->srv, 42, &out, sizeof(out)));

	/* The request still waits for its reply, and takes it once. */
	ASSERT_EQ(0, reply(self->srv, r.h.unique, &out, sizeof(out)));
	ASSERT_EQ(-ENOENT, reply(self->srv, r.h.unique, &out, sizeof(out)));
	pthread_join(call.thread, NULL);
	ASSERT_EQ(0, call.ret);
	ASSERT_EQ(64 * MiB, call.b.out.read.addr);

	c = counters(self->cli);
	ASSERT_EQ(5, c.rejected[FUSE_IOMAP_REJECT_HEADER]);
	ASSERT_EQ(2, c.rejected[FUSE_IOMAP_REJECT_UNIQUE]);
	ASSERT_EQ(2, c.rejected[FUSE_IOMAP_REJECT_SIZE]);
	ASSERT_EQ(2, c.rejected[FUSE_IOMAP_REJECT_NOTIFY]);
}

TEST_F(channel, bad_answers_reach_the_caller)
{
	struct fuse_iomap_begin_out out = {
		.read = mapped(0, BS), .write = special(FUSE_IOMAP_TYPE_NOCACHE),
	};
	struct call call;
	struct req r;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	/* A mapping on an unregistered device. */
	out.read.dev = 9;
	call_start(&call, self->cli, 0);
	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(0, reply(self->srv, r.h.unique, &out, sizeof(out)));
	pthread_join(call.thread, NULL);
	ASSERT_EQ(-EFSCORRUPTED, call.ret);
	ASSERT_EQ(1, counters(self->cli).rejected[FUSE_IOMAP_REJECT_MAPPING]);
	/* A mapping that does not contain pos. */
	out.read = mapped(BS, BS);
	call_start(&call, self->cli, 0);
	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(0, reply(self->srv, r.h.unique, &out, sizeof(out)));
	pthread_join(call.thread, NULL);
	ASSERT_EQ(-EFSCORRUPTED, call.ret);
	/* An error reply. */
	call_start(&call, self->cli, 0);
	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(0, send_msg(self->srv, r.h.unique, -EIO, NULL, 0));
	pthread_join(call.thread, NULL);
	ASSERT_EQ(-EIO, call.ret);
}

TEST_F(channel, a_server_that_never_replies_is_interrupted)
{
	struct fuse_iomap_begin_out out = { .read = mapped(0, BS) };
	struct sigaction sa = { .sa_handler = on_usr1 };
	struct call call;
	struct req r;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	call_start(&call, self->cli, 0);
	ASSERT_EQ(0, read_req(self->srv, &r));
	usleep(50000);
	pthread_kill(call.thread, SIGUSR1);
	pthread_join(call.thread, NULL);
	ASSERT_EQ(-EINTR, call.ret);
	ASSERT_EQ(1, counters(self->cli).interrupted);
	/* The late reply finds nobody. */
	ASSERT_EQ(-ENOENT, reply(self->srv, r.h.unique, &out, sizeof(out)));
}

TEST_F(channel, a_server_that_dies_fails_every_request)
{
	struct fuse_iomap_ioc_begin b;
	struct call call;
	int status;
	pid_t pid;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	ASSERT_EQ(0, upsert(self->srv, NODEID, mapped(0, BS)));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct req r;

		/* Reads the request, then dies without a reply. */
		_exit(read_req(self->srv, &r) ? 1 : 0);
	}
	close(self->srv);
	self->srv = -1;
	call_start(&call, self->cli, BS);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_EQ(0, WEXITSTATUS(status));
	pthread_join(call.thread, NULL);
	ASSERT_EQ(-ENOTCONN, call.ret);
	/* Its inodes are gone with it, and nothing more gets through. */
	ASSERT_EQ(-ENOTCONN, begin(self->cli, 0, 0, &b));
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_OPEN, &(__u64){ NODEID }));
	ASSERT_EQ(ENOTCONN, errno);
}

TEST_F(channel, a_refused_handshake_fails_the_clients)
{
	struct fuse_init_out init = { .major = 6, .flags = FUSE_INIT_EXT };
	struct fuse_iomap_ioc_begin b;
	struct req r;

	ASSERT_EQ(0, read_req(self->srv, &r));
	ASSERT_EQ(-EPROTO, reply(self->srv, r.h.unique, &init, sizeof(init)));
	ASSERT_EQ(-ENOTCONN, begin(self->cli, 0, 0, &b));
	ASSERT_EQ(1, counters(self->cli).rejected[FUSE_IOMAP_REJECT_INIT]);
}

TEST_F(channel, a_connection_without_iomap_refuses_iomap)
{
	struct fuse_iomap_ioc_begin b;

	ASSERT_EQ(0, handshake(self->srv, 0));
	ASSERT_EQ(-EOPNOTSUPP, begin(self->cli, 0, 0, &b));
	ASSERT_EQ(-EOPNOTSUPP, upsert(self->srv, NODEID, mapped(0, BS)));
}

/* Resolvers against a server that upserts and invalidates underneath. */
struct resolver {
	int cli;
	int errors;
	pthread_t thread;
};

static void *resolve_loop(void *arg)
{
	struct resolver *r = arg;
	struct fuse_iomap_ioc_begin b;
	int i;

	for (i = 0; i < 2000; i++) {
		__u64 pos = (i * 7 % 64) * BS;

		if (begin(r->cli, 0, pos, &b) ||
		    b.out.read.offset > pos || b.out.read.offset + b.out.read.length <= pos ||
		    b.out.read.addr != b.out.read.offset + 64 * MiB)
			r->errors++;
	}
	return NULL;
}

TEST_F(channel, resolvers_race_upserts_and_invalidations)
{
	struct resolver r[4];
	int i;

	ASSERT_EQ(0, handshake(self->srv, FUSE_IOMAP));
	start(&self->server, UPSERT_ANSWER);
	for (i = 0; i < 4; i++) {
		r[i].cli = self->cli;
		r[i].errors = 0;
		pthread_create(&r[i].thread, NULL, resolve_loop, &r[i]);
	}
	for (i = 0; i < 200; i++) {
		struct fuse_iomap_inval_mappings_out inval = {
			.nodeid = NODEID,
			.read = { .offset = (i % 64) * BS, .length = 8 * BS },
		};

		ASSERT_EQ(0, notify(self->srv, FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS,
				    &inval, sizeof(inval)));
		usleep(100);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(r[i].thread, NULL);
		EXPECT_EQ(0, r[i].errors);
	}
}

/* famfs over the channel: GET_FMAP at open, GET_DAXDEV on first use. */
FIXTURE(famfs) {
	int srv;
	int cli;
	int pmem;
};

FIXTURE_SETUP(famfs)
{
	self->srv = -1;
	self->cli = -1;
	self->pmem = open(PMEM, O_RDWR | O_CLOEXEC);
	if (self->pmem < 0)
		SKIP(return, "%s: %s (memmap= on the kernel command line)", PMEM, strerror(errno));
	self->srv = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, self->srv);
	self->cli = ioctl(self->srv, FUSE_IOMAP_IOC_CLIENT);
	ASSERT_LE(0, self->cli);
	ASSERT_EQ(0, handshake(self->srv, FUSE_DAX_FMAP));
}

FIXTURE_TEARDOWN(famfs)
{
	close(self->cli);
	close(self->srv);
	close(self->pmem);
}

/* A simple fmap: size bytes at off on daxdev 3. */
struct simple_fmap {
	struct fuse_famfs_fmap_header h;
	struct fuse_famfs_simple_ext e;
};

static struct simple_fmap simple(__u64 off, __u64 size)
{
	struct simple_fmap f = {
		.h = { .fmap_version = FAMFS_FMAP_VERSION, .ext_type = FUSE_FAMFS_EXT_SIMPLE,
		       .nextents = 1, .file_size = size },
		.e = { .se_devindex = 3, .se_offset = off, .se_len = 2 * MiB },
	};
	return f;
}

struct famfs_open {
	int cli;
	int ret;
	pthread_t thread;
};

static void *open_file(void *arg)
{
	struct famfs_open *o = arg;

	o->ret = ioctl(o->cli, FUSE_IOMAP_IOC_OPEN, &(__u64){ NODEID }) ? -errno : 0;
	return NULL;
}

/* Opens NODEID in a thread and answers its GET_FMAP (and GET_DAXDEV). */
static int serve_open(int srv, int cli, const void *fmap, size_t size, const char *daxdev)
{
	struct famfs_open o = { .cli = cli };
	struct fuse_daxdev_out dd = { .index = 3 };
	struct req r;
	int ret;

	pthread_create(&o.thread, NULL, open_file, &o);
	ret = read_req(srv, &r);
	if (!ret && r.h.opcode == FUSE_GET_FMAP && r.h.nodeid == NODEID)
		ret = reply(srv, r.h.unique, fmap, size);
	if (!ret && daxdev) {
		ret = read_req(srv, &r);
		if (!ret && (r.h.opcode != FUSE_GET_DAXDEV || r.h.nodeid != 3))
			ret = -EPROTO;
		strcpy(dd.name, daxdev);
		if (!ret)
			ret = reply(srv, r.h.unique, &dd, sizeof(dd));
	}
	pthread_join(o.thread, NULL);
	return ret ?: o.ret;
}

TEST_F(famfs, open_fetches_the_fmap_and_the_daxdev_then_reads)
{
	struct simple_fmap f = simple(100 * MiB, MiB + 123);
	static unsigned char data[2 * MiB], back[2 * MiB];
	struct fuse_iomap_ioc_read rd = {
		.nodeid = NODEID, .length = sizeof(back), .buf = (unsigned long)back,
	};
	struct fuse_iomap_counters c;
	size_t i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = i * 31 + 7;
	ASSERT_EQ(sizeof(data), pwrite(self->pmem, data, sizeof(data), 100 * MiB));
	ASSERT_EQ(0, fsync(self->pmem));

	ASSERT_EQ(0, serve_open(self->srv, self->cli, &f, sizeof(f), PMEM));
	ASSERT_EQ(MiB + 123, ioctl(self->cli, FUSE_IOMAP_IOC_FAMFS_READ, &rd));
	ASSERT_EQ(0, memcmp(data, back, MiB + 123));
	/* A second open asks for the fmap again, but the device is known. */
	ASSERT_EQ(0, serve_open(self->srv, self->cli, &f, sizeof(f), NULL));
	c = counters(self->cli);
	ASSERT_EQ(2, c.upcalls[FUSE_IOMAP_UPCALL_GET_FMAP]);
	ASSERT_EQ(1, c.upcalls[FUSE_IOMAP_UPCALL_GET_DAXDEV]);
}

TEST_F(famfs, closing_the_server_releases_its_claim)
{
	struct simple_fmap f = simple(0, MiB);
	struct fuse_iomap_ioc_fmap set = {
		.nodeid = NODEID, .fmap = (unsigned long)&f, .size = sizeof(f),
	};
	struct fuse_daxdev_out dd = { .index = 3 };
	char buf[4096];
	struct fuse_iomap_ioc_read rd = {
		.nodeid = NODEID, .length = sizeof(buf), .buf = (unsigned long)buf,
	};
	int other;

	ASSERT_EQ(0, serve_open(self->srv, self->cli, &f, sizeof(f), PMEM));
	ASSERT_EQ(sizeof(buf), ioctl(self->cli, FUSE_IOMAP_IOC_FAMFS_READ, &rd));
	/* pmem0 is claimed: another connection's claim fails, reads are EIO. */
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	strcpy(dd.name, PMEM);
	ASSERT_EQ(0, ioctl(other, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &dd));
	ASSERT_EQ(0, ioctl(other, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &set));
	ASSERT_EQ(-1, ioctl(other, FUSE_IOMAP_IOC_FAMFS_READ, &rd));
	ASSERT_EQ(EIO, errno);
	close(other);
	/* The server goes: its client reads ENOTCONN, and pmem0 is free. */
	close(self->srv);
	self->srv = -1;
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_FAMFS_READ, &rd));
	ASSERT_EQ(ENOTCONN, errno);
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, ioctl(other, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &dd));
	ASSERT_EQ(0, ioctl(other, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &set));
	ASSERT_EQ(sizeof(buf), ioctl(other, FUSE_IOMAP_IOC_FAMFS_READ, &rd));
	close(other);
}

/* Opens NODEID with a good fmap, but a GET_DAXDEV answer for index 4. */
static int serve_open_wrong_index(int srv, int cli, const struct simple_fmap *f)
{
	struct famfs_open o = { .cli = cli };
	struct fuse_daxdev_out dd = { .index = 4 };
	struct req r;
	int ret;

	strcpy(dd.name, PMEM);
	pthread_create(&o.thread, NULL, open_file, &o);
	ret = read_req(srv, &r);
	if (!ret)
		ret = reply(srv, r.h.unique, f, sizeof(*f));
	if (!ret)
		ret = read_req(srv, &r);
	if (!ret && r.h.opcode != FUSE_GET_DAXDEV)
		ret = -EPROTO;
	if (!ret)
		ret = reply(srv, r.h.unique, &dd, sizeof(dd));
	pthread_join(o.thread, NULL);
	return ret ?: o.ret;
}

TEST_F(famfs, bad_fmaps_and_daxdevs_fail_the_open)
{
	struct simple_fmap f = simple(0, MiB);
	struct fuse_famfs_fmap_header h = f.h;
	struct fuse_iomap_ioc_famfs_info info = { .nodeid = NODEID };
	struct fuse_iomap_counters c;

	/* An fmap whose extent is missing: EINVAL, no GET_DAXDEV. */
	ASSERT_EQ(-EINVAL, serve_open(self->srv, self->cli, &h, sizeof(h), NULL));
	/* A daxdev path that is not a block device. */
	ASSERT_EQ(-ENOTBLK, serve_open(self->srv, self->cli, &f, sizeof(f), "/dev/null"));
	/* A daxdev answer for another index. */
	ASSERT_EQ(-EINVAL, serve_open_wrong_index(self->srv, self->cli, &f));
	c = counters(self->cli);
	ASSERT_EQ(1, c.rejected[FUSE_IOMAP_REJECT_FMAP]);
	ASSERT_EQ(2, c.rejected[FUSE_IOMAP_REJECT_DAXDEV]);
	ASSERT_EQ(-1, ioctl(self->cli, FUSE_IOMAP_IOC_FAMFS_INFO, &info));
	ASSERT_EQ(ENOENT, errno);
}

TEST_HARNESS_MAIN
