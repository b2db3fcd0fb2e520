// SPDX-License-Identifier: GPL-2.0
/*
 * What an unprivileged user or a hostile server must not be able to do to
 * the kernel through /dev/fuse-iomap (mode 0666): claim a device without
 * famfs privilege, swap the device a path names after the kernel checked
 * it, hold a lock while a user copy stalls, pin more memory than its
 * budget, or have its requests name callers in the wrong namespace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"
#include "fuse_iomap_wire.h"
#include "fuse_iomap_stall.h"

/* Under TCG, with KASAN, a test may need more than the harness's 30 s. */
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define PMEM		"/dev/pmem0"
#define LINK		"/tmp/fuse_iomap_hardening_dax"
#define BS		4096ULL
#define MiB		(1ULL << 20)
#define DEV		1
#define NOBODY		65534
/* How long a liveness check waits for something that must not block. */
#define PATIENCE_MS	5000

/* A request as read from the channel. */
struct req {
	struct fuse_in_header h;
	union {
		struct fuse_iomap_begin_in begin;
		char raw[8192 - sizeof(struct fuse_in_header)];
	};
};

/* Reads one request; waits up to 5 s for it. */
static int read_req(int fd, struct req *r)
{
	return wire_read(fd, r, sizeof(*r), 5000);
}

/* The server's side of the handshake: iomap, and famfs if offered. */
static int handshake(int fd)
{
	__u64 want = FUSE_INIT_EXT | FUSE_IOMAP | FUSE_DAX_FMAP;
	struct fuse_init_out init = {
		.major = 7, .minor = 41, .flags = (__u32)want, .flags2 = want >> 32,
	};
	struct fuse_iomap_config_out config = {
		.flags = FUSE_IOMAP_CONFIG_BLOCKSIZE, .blocksize = BS,
	};
	struct req r;
	int ret = read_req(fd, &r);

	if (ret || r.h.opcode != FUSE_INIT)
		return ret ?: -EPROTO;
	ret = send_msg(fd, r.h.unique, 0, &init, sizeof(init));
	if (ret)
		return ret;
	ret = read_req(fd, &r);
	if (ret || r.h.opcode != FUSE_IOMAP_CONFIG)
		return ret ?: -EPROTO;
	return send_msg(fd, r.h.unique, 0, &config, sizeof(config));
}

static struct fuse_iomap_io nocache(void)
{
	struct fuse_iomap_io m = {
		.type = FUSE_IOMAP_TYPE_NOCACHE, .addr = FUSE_IOMAP_NULL_ADDR,
	};
	return m;
}

static int begin(int cli, __u64 nodeid, __u64 pos)
{
	struct fuse_iomap_ioc_begin b = {
		.nodeid = nodeid, .in = { .pos = pos, .count = BS },
	};

	return ioctl(cli, FUSE_IOMAP_IOC_BEGIN, &b) ? -errno : 0;
}

/* The answer to an IOMAP_BEGIN request: one mapped block. */
static int answer_begin(int srv, const struct req *r)
{
	struct fuse_iomap_begin_out out = {
		.read = {
			.offset = r->begin.pos & ~(BS - 1), .length = BS,
			.addr = 64 * MiB, .type = FUSE_IOMAP_TYPE_MAPPED, .dev = DEV,
		},
		.write = nocache(),
	};

	return send_msg(srv, r->h.unique, 0, &out, sizeof(out));
}

static int add_device(int srv)
{
	struct fuse_iomap_ioc_device dev = { .dev = DEV, .size = 1ULL << 30 };

	return ioctl(srv, FUSE_IOMAP_IOC_ADD_DEVICE, &dev);
}

/* A GET_FMAP reply: one simple extent of len bytes at 0 of daxdev index. */
struct fmap {
	struct fuse_famfs_fmap_header h;
	struct fuse_famfs_simple_ext e;
};

static int set_fmap(int fd, __u64 nodeid, __u32 index, __u64 len)
{
	struct fmap f = {
		.h = {
			.fmap_version = FAMFS_FMAP_VERSION,
			.ext_type = FUSE_FAMFS_EXT_SIMPLE, .nextents = 1, .file_size = len,
		},
		.e = { .se_devindex = index, .se_len = len },
	};
	struct fuse_iomap_ioc_fmap ioc = {
		.nodeid = nodeid, .fmap = (__u64)(unsigned long)&f, .size = sizeof(f),
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &ioc);
}

static ssize_t famfs_read(int fd, __u64 nodeid, __u64 off, void *buf, __u64 len)
{
	struct fuse_iomap_ioc_read r = {
		.nodeid = nodeid, .offset = off, .length = len,
		.buf = (__u64)(unsigned long)buf,
	};

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_READ, &r);
}

static int answer_path(int fd, __u16 index, const char *path)
{
	struct fuse_daxdev_out a = { .index = index };

	strncpy(a.name, path, sizeof(a.name) - 1);
	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a);
}

static int answer_dev(int fd, __u16 index, dev_t dev)
{
	struct fuse_daxdev_out a = { .index = index, .dev = dev };

	return ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &a);
}

/* The first bytes of the pmem device, read directly. */
static int pmem_bytes(void *buf, size_t len)
{
	int fd = open(PMEM, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

static void become_nobody(void)
{
	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		_exit(100);
}

/* Runs fn in a child and returns its exit status, or -1. */
static int in_child(int (*fn)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * As nobody, with pmem0 readable and writable to everyone (the issue's
 * reproduction): every famfs path is EPERM, by path or by number.
 */
static int famfs_as_nobody(void)
{
	struct stat st;
	int fd;

	if (stat(PMEM, &st))
		return 101;
	become_nobody();
	fd = open(DEV_PATH, O_RDWR);
	if (fd < 0)
		return 102;
	if (answer_path(fd, 0, PMEM) != -1 || errno != EPERM)
		return 1;
	if (answer_dev(fd, 0, st.st_rdev) != -1 || errno != EPERM)
		return 2;
	if (set_fmap(fd, 7, 0, 2 * MiB) != -1 || errno != EPERM)
		return 3;
	return 0;
}

TEST(famfs_paths_are_eperm_without_cap_sys_rawio)
{
	struct stat st;
	int status;

	if (stat(PMEM, &st))
		SKIP(return, "no %s", PMEM);
	ASSERT_EQ(0, chmod(PMEM, 0666));
	status = in_child(famfs_as_nobody);
	chmod(PMEM, st.st_mode & 07777);
	EXPECT_EQ(0, status) TH_LOG("child exit %d (1-3: a famfs path was not EPERM)", status);
}

TEST(a_device_number_names_the_daxdev)
{
	char want[4096], got[4096];
	struct fuse_daxdev_out both = { .index = 1 };
	struct stat st;
	int fd;

	if (stat(PMEM, &st))
		SKIP(return, "no %s", PMEM);
	ASSERT_EQ(0, pmem_bytes(want, sizeof(want)));
	fd = open(DEV_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, answer_dev(fd, 0, st.st_rdev));
	ASSERT_EQ(0, set_fmap(fd, 7, 0, 2 * MiB));
	ASSERT_EQ(sizeof(got), famfs_read(fd, 7, 0, got, sizeof(got)));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	/* A number and a name: which one? */
	both.dev = st.st_rdev;
	strcpy(both.name, PMEM);
	EXPECT_EQ(-1, ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &both));
	EXPECT_EQ(EINVAL, errno);
	/* A number the kernel cannot hold. */
	EXPECT_EQ(-1, answer_dev(fd, 1, makedev(4096, 0)));
	EXPECT_EQ(EINVAL, errno);
	/* A number of no device: taken, but its claim fails, and so do reads. */
	ASSERT_EQ(0, answer_dev(fd, 2, makedev(major(st.st_rdev), 1000)));
	ASSERT_EQ(0, set_fmap(fd, 8, 2, 2 * MiB));
	EXPECT_EQ(-1, famfs_read(fd, 8, 0, got, sizeof(got)));
	EXPECT_EQ(EIO, errno);
	close(fd);
}

TEST(a_path_is_resolved_once_when_answered)
{
	char want[4096], got[4096];
	int fd;

	if (access(PMEM, F_OK))
		SKIP(return, "no %s", PMEM);
	ASSERT_EQ(0, pmem_bytes(want, sizeof(want)));
	unlink(LINK);
	ASSERT_EQ(0, symlink(PMEM, LINK));
	fd = open(DEV_PATH, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, answer_path(fd, 0, LINK));
	/* The link now names something else; the kernel must not look again. */
	ASSERT_EQ(0, unlink(LINK));
	ASSERT_EQ(0, symlink("/dev/null", LINK));
	ASSERT_EQ(0, set_fmap(fd, 7, 0, 2 * MiB));
	EXPECT_EQ(sizeof(got), famfs_read(fd, 7, 0, got, sizeof(got)))
		TH_LOG("read: %s", strerror(errno));
	EXPECT_EQ(0, memcmp(want, got, sizeof(got)));
	close(fd);
	unlink(LINK);
}

struct call {
	int fd;
	__u64 nodeid;
	void *buf;
	long ret;
	volatile int done;
};

static void *do_begin(void *arg)
{
	struct call *c = arg;

	c->ret = begin(c->fd, c->nodeid, 0);
	c->done = 1;
	return NULL;
}

static void *do_server_read(void *arg)
{
	struct call *c = arg;

	c->ret = read(c->fd, c->buf, 8192);
	c->done = 1;
	return NULL;
}

static void *do_poll(void *arg)
{
	struct call *c = arg;
	struct pollfd p = { .fd = c->fd, .events = POLLIN };

	c->ret = poll(&p, 1, 0);
	c->done = 1;
	return NULL;
}

static void *do_famfs_read(void *arg)
{
	struct call *c = arg;

	c->ret = famfs_read(c->fd, c->nodeid, 0, c->buf, 4096);
	c->done = 1;
	return NULL;
}

static void *do_close(void *arg)
{
	struct call *c = arg;

	c->ret = close(c->fd);
	c->done = 1;
	return NULL;
}

/* Whether c finishes within PATIENCE_MS. */
static int finishes(struct call *c)
{
	int ms;

	for (ms = 0; ms < PATIENCE_MS && !c->done; ms += 10)
		usleep(10000);
	return c->done;
}

/*
 * A server whose read buffer faults and stalls (userfaultfd) while the
 * kernel copies a request to it: the channel stays usable (poll), as on
 * /dev/fuse, which drops its lock before copying.
 */
TEST(a_stalled_server_read_blocks_nobody)
{
	struct call caller = { .nodeid = 5 }, reader = {}, poller = {};
	pthread_t tc, tr, tp;
	struct stall s;
	struct req r;
	int srv, cli, ret;

	ret = stall_setup(&s);
	if (ret == -ENOSYS)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD)");
	ASSERT_EQ(0, ret);
	srv = open(DEV_PATH, O_RDWR);
	ASSERT_LE(0, srv);
	ASSERT_EQ(0, add_device(srv));
	cli = ioctl(srv, FUSE_IOMAP_IOC_CLIENT);
	ASSERT_LE(0, cli);
	ASSERT_EQ(0, handshake(srv));
	/* A client waits for an answer; the server reads into stalled pages. */
	caller.fd = cli;
	ASSERT_EQ(0, pthread_create(&tc, NULL, do_begin, &caller));
	reader.fd = srv;
	reader.buf = s.buf;
	ASSERT_EQ(0, pthread_create(&tr, NULL, do_server_read, &reader));
	ASSERT_EQ(0, stall_wait_fault(&s));
	/* While the copy is stalled, the channel answers a poll. */
	poller.fd = srv;
	ASSERT_EQ(0, pthread_create(&tp, NULL, do_poll, &poller));
	EXPECT_TRUE(finishes(&poller)) TH_LOG("poll blocked behind a stalled copy");
	stall_release(&s);
	pthread_join(tp, NULL);
	pthread_join(tr, NULL);
	ASSERT_LT(0, reader.ret) TH_LOG("server read: %s", strerror(errno));
	memcpy(&r, s.buf, sizeof(r.h) + sizeof(r.begin));
	ASSERT_EQ(FUSE_IOMAP_BEGIN, r.h.opcode);
	ASSERT_EQ(0, answer_begin(srv, &r));
	pthread_join(tc, NULL);
	EXPECT_EQ(0, caller.ret);
	close(cli);
	close(srv);
	stall_teardown(&s);
}

/*
 * A famfs read whose user buffer stalls does not hold up the server's close,
 * which tears the daxdev table down.
 */
TEST(a_stalled_famfs_read_does_not_hold_up_close)
{
	struct call reader = { .nodeid = 7 }, closer = {};
	pthread_t tr, tc;
	struct stall s;
	int srv, ret;

	if (access(PMEM, F_OK))
		SKIP(return, "no %s", PMEM);
	ret = stall_setup(&s);
	if (ret == -ENOSYS)
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD)");
	ASSERT_EQ(0, ret);
	srv = open(DEV_PATH, O_RDWR);
	ASSERT_LE(0, srv);
	/* The configuration comes before any inode. */
	reader.fd = ioctl(srv, FUSE_IOMAP_IOC_CLIENT);
	ASSERT_LE(0, reader.fd);
	ASSERT_EQ(0, handshake(srv));
	ASSERT_EQ(0, answer_path(srv, 0, PMEM));
	ASSERT_EQ(0, set_fmap(srv, 7, 0, 2 * MiB));
	reader.buf = s.buf;
	ASSERT_EQ(0, pthread_create(&tr, NULL, do_famfs_read, &reader));
	ASSERT_EQ(0, stall_wait_fault(&s));
	closer.fd = srv;
	ASSERT_EQ(0, pthread_create(&tc, NULL, do_close, &closer));
	EXPECT_TRUE(finishes(&closer)) TH_LOG("close blocked behind a stalled famfs read");
	stall_release(&s);
	pthread_join(tc, NULL);
	pthread_join(tr, NULL);
	/* The read that was under way completes from its own claim. */
	EXPECT_EQ(4096, reader.ret);
	close(reader.fd);
	stall_teardown(&s);
}

static struct fuse_iomap_counters counters(int fd)
{
	struct fuse_iomap_counters c;

	memset(&c, 0xff, sizeof(c));
	ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &c);
	return c;
}

/*
 * As nobody: one-block upserts that never merge, over many inodes, until
 * the connection's budget refuses them with ENOSPC; what the caches pin
 * never exceeds it. Fails without a budget (nothing refuses) after far more
 * upserts than the budget holds.
 */
static int fill_as_nobody(void)
{
	struct fuse_iomap_upsert_mappings_out msg = { .write = nocache() };
	struct fuse_iomap_ioc_config config = { .blocksize = BS, .maxbytes = 1ULL << 40,
						.cache_maxbytes = 2 << 20 };
	struct fuse_iomap_counters c;
	__u64 block, nodeid;
	int fd;

	become_nobody();
	fd = open(DEV_PATH, O_RDWR);
	if (fd < 0)
		return 101;
	if (ioctl(fd, FUSE_IOMAP_IOC_CONFIG, &config) || add_device(fd))
		return 102;
	c = counters(fd);
	if (c.cache_budget != 16 * MiB)
		return 1;
	for (nodeid = 1; nodeid <= 64; nodeid++) {
		msg.nodeid = nodeid;
		for (block = 0; block < 65536; block++) {
			msg.read = (struct fuse_iomap_io){
				.offset = block * BS, .length = BS, .addr = 2 * block * BS,
				.type = FUSE_IOMAP_TYPE_MAPPED, .dev = DEV,
			};
			if (!ioctl(fd, FUSE_IOMAP_IOC_UPSERT, &msg))
				continue;
			if (errno != ENOSPC)
				return 2;
			c = counters(fd);
			if (c.cache_bytes > c.cache_budget)
				return 3;
			return c.cache_bytes > c.cache_budget / 2 ? 0 : 4;
		}
	}
	return 5;
}

TEST(an_unprivileged_connection_pins_at_most_its_budget)
{
	int status = in_child(fill_as_nobody);

	EXPECT_EQ(0, status) TH_LOG("child exit %d (1: budget, 2: errno, 3: over budget, "
				    "4: refused early, 5: never refused)", status);
}

/*
 * Request headers name the caller in the server's namespaces: a server (uid
 * 1000) in a user namespace that maps its uid 0 to 1000 sees a caller of
 * fsuid 1000 as uid 0, and a caller without a mapping there (uid 0) cannot
 * send (EOVERFLOW).
 */
static int send_fds(int sock, int a, int b)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))] = {};
	char byte = 0;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	int fds[2] = { a, b };

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	return sendmsg(sock, &m, 0) == 1 ? 0 : -errno;
}

static int recv_fds(int sock, int *a, int *b)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	char byte;
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr m = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *c;
	int fds[2];

	if (recvmsg(sock, &m, 0) != 1)
		return -errno;
	c = CMSG_FIRSTHDR(&m);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(fds, CMSG_DATA(c), sizeof(fds));
	*a = fds[0];
	*b = fds[1];
	return 0;
}

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -EIO;
}

/* The server in its user namespace: checks the ids in each request. */
static int userns_server(int sock)
{
	struct req r;
	char go;
	int srv, cli;

	/* Uid and gid 1000, which the parent maps to 0 in the new namespace. */
	if (setgroups(0, NULL) || setresgid(1000, 1000, 1000) || setresuid(1000, 1000, 1000))
		return 100;
	if (unshare(CLONE_NEWUSER))
		return 101;
	if (write(sock, "u", 1) != 1 || read(sock, &go, 1) != 1)
		return 102;
	srv = open(DEV_PATH, O_RDWR);
	if (srv < 0 || add_device(srv))
		return 103;
	cli = ioctl(srv, FUSE_IOMAP_IOC_CLIENT);
	if (cli < 0)
		return 104;
	if (handshake(srv) || send_fds(sock, srv, cli))
		return 105;
	/* The parent's call, made with fsuid and fsgid 1000. */
	if (read_req(srv, &r) || r.h.opcode != FUSE_IOMAP_BEGIN)
		return 106;
	if (r.h.uid != 0 || r.h.gid != 0)
		return 1;
	if (answer_begin(srv, &r))
		return 107;
	/* Stay until the parent is done. */
	return read(sock, &go, 1) == 1 ? 0 : 108;
}

static void on_alarm(int sig)
{
}

TEST(request_ids_are_seen_in_the_servers_namespaces)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	char path[64], ready;
	int sv[2], srv = -1, cli = -1, status, ret;
	pid_t pid;

	if (access("/proc/self/ns/user", F_OK))
		SKIP(return, "no user namespaces (CONFIG_USER_NS)");
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM, 0, sv));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(sv[0]);
		_exit(userns_server(sv[1]));
	}
	close(sv[1]);
	ASSERT_EQ(1, read(sv[0], &ready, 1));
	snprintf(path, sizeof(path), "/proc/%d/uid_map", pid);
	ASSERT_EQ(0, write_file(path, "0 1000 1"));
	snprintf(path, sizeof(path), "/proc/%d/gid_map", pid);
	ASSERT_EQ(0, write_file(path, "0 1000 1"));
	ASSERT_EQ(1, write(sv[0], "g", 1));
	ASSERT_EQ(0, recv_fds(sv[0], &srv, &cli));
	/* A bounded wait: a request nobody answers must not hang the test. */
	sigaction(SIGALRM, &sa, NULL);
	alarm(10);
	syscall(SYS_setfsgid, 1000);
	syscall(SYS_setfsuid, 1000);
	ret = begin(cli, 5, 0);
	syscall(SYS_setfsuid, 0);
	syscall(SYS_setfsgid, 0);
	EXPECT_EQ(0, ret) TH_LOG("a mapped caller: %s", strerror(-ret));
	/* Uid 0 of this namespace has no mapping in the server's. */
	ret = begin(cli, 6, 0);
	alarm(0);
	EXPECT_EQ(-EOVERFLOW, ret) TH_LOG("an unmapped caller: %s", strerror(-ret));
	ASSERT_EQ(1, write(sv[0], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("server exit %d (1: ids not translated)", WEXITSTATUS(status));
	close(cli);
	close(srv);
	close(sv[0]);
}

TEST_HARNESS_MAIN
