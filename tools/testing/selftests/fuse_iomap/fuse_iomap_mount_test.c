// SPDX-License-Identifier: GPL-2.0
/*
 * The fuse_iomap mount, through system calls only: mount options, the
 * namespace from the server's fuse.h replies, file data through the
 * kernel's iomap library on a block device (buffered, direct, mmap,
 * truncate, fiemap, SEEK_DATA), hostile replies, and a server that dies.
 *
 * A small server runs in a child process: a fixed namespace in memory
 * whose files each own a preallocated 4 MiB region of the disk (file
 * nodeid N at N * 4 MiB), answered as MAPPED extents. The disk is
 * FUSE_IOMAP_DISK, by default /dev/vda, the image tools/vm/run.sh attaches.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fiemap.h>
#include <linux/fs.h>
#include <linux/fuse.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sched.h>
#include <dirent.h>
#include <pthread.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#include "kselftest_harness.h"
#include "fuse_iomap_wire.h"
#include "fuse_iomap_stall.h"

#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT 300

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define BS		4096ULL
#define REGION		(4ULL << 20)
#define MAXBYTES	(1ULL << 30)
#define MAX_INODES	16

/* The ways the server can lie, one per fixture variant. */
enum hostile {
	HONEST,
	ROOT_NODEID,	/* LOOKUP "bad" names the root */
	TYPE_CHANGE,	/* GETATTR of "file" says it is a directory */
	PAST_MAXBYTES,	/* LOOKUP "bad" is larger than maxbytes */
	BAD_DIRENT,	/* READDIR gives "a/b" */
	SHORT_ENTRY,	/* LOOKUP "bad" reply 8 bytes short, then an error */
	NODEID_ZERO,	/* MKDIR answers nodeid 0 */
	UPSERTING,	/* honest, and IOMAP_BEGIN answered through the cache */
};

struct node {
	char name[64];
	__u64 parent;
	__u32 mode;
	__u64 size;
	__u64 generation;
	bool used;
};

struct req {
	struct fuse_in_header h;
	char args[8192 - sizeof(struct fuse_in_header)];
};

static const char *disk_path(void)
{
	const char *d = getenv("FUSE_IOMAP_DISK");

	return d ? d : "/dev/vda";
}

static void attr_of(struct node *nodes, __u64 id, struct fuse_attr *a)
{
	memset(a, 0, sizeof(*a));
	a->ino = id;
	a->mode = nodes[id].mode;
	a->size = nodes[id].size;
	a->nlink = S_ISDIR(nodes[id].mode) ? 2 : 1;
	a->blksize = BS;
}

static void entry_of(struct node *nodes, __u64 id, struct fuse_entry_out *e)
{
	memset(e, 0, sizeof(*e));
	e->nodeid = id;
	e->generation = nodes[id].generation;
	e->entry_valid = 1;
	e->attr_valid = 1;
	attr_of(nodes, id, &e->attr);
}

/* What the server saw of FORGET and BATCH_FORGET, shared with the test. */
struct forgets {
	unsigned int singles;		/* FORGET messages */
	unsigned int batches;		/* BATCH_FORGET messages */
	unsigned int batched;		/* the inodes they carried */
	unsigned long long lookups;	/* the lookups forgotten, in both */
};

static struct forgets *forgets;

static void count_forgets(struct req *r, ssize_t len)
{
	struct fuse_batch_forget_in *batch = (void *)r->args;
	struct fuse_forget_one *one = (void *)(batch + 1);
	size_t room = (len - sizeof(r->h) - sizeof(*batch)) / sizeof(*one);

	if (r->h.opcode == FUSE_FORGET) {
		forgets->singles++;
		forgets->lookups += ((struct fuse_forget_in *)r->args)->nlookup;
		return;
	}
	forgets->batches++;
	for (__u32 i = 0; i < batch->count && i < room; i++) {
		forgets->batched++;
		forgets->lookups += one[i].nlookup;
	}
}

/* How many GETATTRs the server answered, for TYPE_CHANGE's second one. */
static int getattrs;

static void lie_on_attributes(struct fuse_entry_out *e)
{
	/* The kernel must ask GETATTR for every stat. */
	e->attr_valid = 0;
}

static __u64 find(struct node *nodes, __u64 parent, const char *name)
{
	for (__u64 i = 2; i < MAX_INODES; i++)
		if (nodes[i].used && nodes[i].parent == parent &&
		    !strcmp(nodes[i].name, name))
			return i;
	return 0;
}

static __u64 add(struct node *nodes, __u64 parent, const char *name, __u32 mode)
{
	for (__u64 i = 2; i < MAX_INODES; i++) {
		if (nodes[i].used)
			continue;
		nodes[i] = (struct node){ .parent = parent, .mode = mode,
					  .generation = i, .used = true };
		snprintf(nodes[i].name, sizeof(nodes[i].name), "%.63s", name);
		return i;
	}
	return 0;
}

/* A READDIR reply: every child of dir, from cookie off on. */
static size_t dirents(struct node *nodes, __u64 dir, __u64 off, char *buf,
		      enum hostile hostile)
{
	size_t len = 0;

	for (__u64 i = off + 2; i < MAX_INODES; i++) {
		struct fuse_dirent *d = (struct fuse_dirent *)(buf + len);
		const char *name = nodes[i].name;

		if (!nodes[i].used || nodes[i].parent != dir)
			continue;
		if (hostile == BAD_DIRENT)
			name = "a/b";
		d->ino = i;
		d->off = i - 1;
		d->namelen = strlen(name);
		d->type = S_ISDIR(nodes[i].mode) ? DT_DIR : DT_REG;
		memcpy(d->name, name, d->namelen);
		len += FUSE_DIRENT_SIZE(d);
	}
	return len;
}

/* Answers one request of len bytes; returns false on FUSE_DESTROY. */
static bool serve_one(int fd, struct node *nodes, int cookie, struct req *r,
		      ssize_t len_in, enum hostile hostile)
{
	__u64 id = r->h.nodeid, unique = r->h.unique;
	char out[4096];
	int err = 0;
	size_t len = 0;

	memset(out, 0, sizeof(out));
	switch (r->h.opcode) {
	case FUSE_INIT: {
		struct fuse_init_out *o = (void *)out;
		__u64 flags = FUSE_INIT_EXT | FUSE_IOMAP;

		o->major = 7;
		o->minor = 41;
		o->flags = flags;
		o->flags2 = flags >> 32;
		len = sizeof(*o);
		break;
	}
	case FUSE_IOMAP_CONFIG: {
		struct fuse_iomap_config_out *o = (void *)out;

		o->flags = FUSE_IOMAP_CONFIG_BLOCKSIZE | FUSE_IOMAP_CONFIG_MAXBYTES;
		o->blocksize = BS;
		o->maxbytes = MAXBYTES;
		len = sizeof(*o);
		break;
	}
	case FUSE_LOOKUP: {
		__u64 child = find(nodes, id, r->args);

		if (!strcmp(r->args, "bad") && hostile != HONEST) {
			entry_of(nodes, 2, (void *)out);
			if (hostile == ROOT_NODEID)
				((struct fuse_entry_out *)out)->nodeid = FUSE_ROOT_ID;
			if (hostile == PAST_MAXBYTES)
				((struct fuse_entry_out *)out)->attr.size = MAXBYTES + BS;
			len = sizeof(struct fuse_entry_out);
			if (hostile == SHORT_ENTRY) {
				/* Refused by the kernel; then a proper error. */
				if (send_msg(fd, unique, 0, out, len - 8) != -EINVAL)
					return false;
				len = 0;
				err = -ENOENT;
			}
			break;
		}
		if (!child) {
			err = -ENOENT;
			break;
		}
		entry_of(nodes, child, (void *)out);
		if (hostile == TYPE_CHANGE)
			lie_on_attributes((void *)out);
		len = sizeof(struct fuse_entry_out);
		break;
	}
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
		count_forgets(r, len_in);
		return true;
	case FUSE_GETATTR:
	case FUSE_SETATTR: {
		struct fuse_attr_out *o = (void *)out;

		if (r->h.opcode == FUSE_SETATTR) {
			struct fuse_setattr_in *in = (void *)r->args;

			if (in->valid & FATTR_SIZE)
				nodes[id].size = in->size;
			if (in->valid & FATTR_MODE)
				nodes[id].mode = (nodes[id].mode & S_IFMT) |
						 (in->mode & 07777);
		}
		attr_of(nodes, id, &o->attr);
		if (hostile == TYPE_CHANGE && id == 2 && getattrs++)
			o->attr.mode = S_IFDIR | 0755;
		o->attr_valid = 0;
		len = sizeof(*o);
		break;
	}
	case FUSE_OPEN:
	case FUSE_OPENDIR:
		((struct fuse_open_out *)out)->fh = id + 100;
		len = sizeof(struct fuse_open_out);
		break;
	case FUSE_READDIR: {
		struct fuse_read_in *in = (void *)r->args;

		len = dirents(nodes, id, in->offset, out, hostile);
		break;
	}
	case FUSE_CREATE:
	case FUSE_MKDIR: {
		bool dir = r->h.opcode == FUSE_MKDIR;
		size_t skip = dir ? sizeof(struct fuse_mkdir_in) :
				    sizeof(struct fuse_create_in);
		const char *name = r->args + skip;
		__u32 mode = dir ? ((struct fuse_mkdir_in *)r->args)->mode :
				   ((struct fuse_create_in *)r->args)->mode;
		__u64 child = find(nodes, id, name);

		if (child) {
			err = -EEXIST;
			break;
		}
		child = add(nodes, id, name, (dir ? S_IFDIR : S_IFREG) | (mode & 07777));
		if (!child) {
			err = -ENOSPC;
			break;
		}
		entry_of(nodes, child, (void *)out);
		if (dir && hostile == NODEID_ZERO)
			((struct fuse_entry_out *)out)->nodeid = 0;
		len = sizeof(struct fuse_entry_out);
		if (!dir) {
			((struct fuse_open_out *)(out + len))->fh = child + 100;
			len += sizeof(struct fuse_open_out);
		}
		break;
	}
	case FUSE_UNLINK:
	case FUSE_RMDIR: {
		__u64 child = find(nodes, id, r->args);

		if (!child)
			err = -ENOENT;
		else
			nodes[child].used = false;
		break;
	}
	case FUSE_RENAME: {
		struct fuse_rename_in *in = (void *)r->args;
		const char *old = r->args + sizeof(*in);
		const char *new = old + strlen(old) + 1;
		__u64 child = find(nodes, id, old), target = find(nodes, in->newdir, new);

		if (!child) {
			err = -ENOENT;
			break;
		}
		if (target)
			nodes[target].used = false;
		nodes[child].parent = in->newdir;
		snprintf(nodes[child].name, sizeof(nodes[child].name), "%.63s", new);
		break;
	}
	case FUSE_STATFS: {
		struct fuse_statfs_out *o = (void *)out;

		o->st.bsize = BS;
		o->st.blocks = MAX_INODES * REGION / BS;
		o->st.namelen = 255;
		len = sizeof(*o);
		break;
	}
	case FUSE_IOMAP_BEGIN: {
		struct fuse_iomap_begin_in *in = (void *)r->args;
		struct fuse_iomap_begin_out *o = (void *)out;

		/* Every file's region is preallocated and mapped whole. */
		o->read = (struct fuse_iomap_io){
			.offset = 0, .length = REGION, .addr = id * REGION,
			.type = FUSE_IOMAP_TYPE_MAPPED, .dev = cookie,
		};
		/* Past it, a hole up to the largest file size. */
		if (in->pos >= REGION)
			o->read = (struct fuse_iomap_io){
				.offset = in->pos & ~(BS - 1),
				.length = MAXBYTES - (in->pos & ~(BS - 1)),
				.addr = FUSE_IOMAP_NULL_ADDR,
				.type = FUSE_IOMAP_TYPE_HOLE,
			};
		o->write.type = FUSE_IOMAP_TYPE_NOCACHE;
		len = sizeof(*o);
		if (hostile == UPSERTING) {
			/* Into the cache, and "look again": a mapping with a cookie. */
			struct fuse_iomap_upsert_mappings_out up = {
				.nodeid = id, .attr_ino = id,
				.read = o->read, .write = o->write,
			};

			send_msg(fd, 0, FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, &up, sizeof(up));
			o->read.type = FUSE_IOMAP_TYPE_RETRY_CACHE;
		}
		break;
	}
	case FUSE_IOMAP_IOEND: {
		struct fuse_iomap_ioend_in *in = (void *)r->args;

		if (!in->error && in->pos + in->written > nodes[id].size)
			nodes[id].size = in->pos + in->written;
		((struct fuse_iomap_ioend_out *)out)->newsize = nodes[id].size;
		len = sizeof(struct fuse_iomap_ioend_out);
		break;
	}
	case FUSE_DESTROY:
		send_msg(fd, unique, 0, NULL, 0);
		return false;
	case FUSE_RELEASE:
	case FUSE_RELEASEDIR:
	case FUSE_FSYNC:
	case FUSE_FALLOCATE:
		break;
	default:
		err = -ENOSYS;
	}
	/* FUSE_IOMAP_TEST_TRACE=1: what the server saw and answered. */
	if (getenv("FUSE_IOMAP_TEST_TRACE"))
		fprintf(stderr, "# server: opcode %u nodeid %llu args \"%.32s\": %d\n",
			r->h.opcode, (unsigned long long)id, r->args, err);
	send_msg(fd, unique, err, out, err ? 0 : len);
	return true;
}

static void serve(int fd, int cookie, enum hostile hostile)
{
	static struct node nodes[MAX_INODES];
	static struct req r;

	nodes[1] = (struct node){ .mode = S_IFDIR | 0755, .used = true };
	nodes[2] = (struct node){ .name = "file", .parent = 1, .mode = S_IFREG | 0644,
				  .size = REGION, .generation = 1, .used = true };
	nodes[3] = (struct node){ .name = "dir", .parent = 1, .mode = S_IFDIR | 0755,
				  .generation = 1, .used = true };
	for (;;) {
		ssize_t len = read(fd, &r, sizeof(r));

		if (len < (ssize_t)sizeof(r.h))
			_exit(0);
		if (!serve_one(fd, nodes, cookie, &r, len, hostile))
			_exit(0);
	}
}

static int mount_fd(const char *dir, int fd, const char *extra)
{
	char opts[256];

	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40755,user_id=0,group_id=0%s",
		 fd, extra);
	return mount("fuse_iomap", dir, FUSE_IOMAP_FS_TYPE, 0, opts) ? -errno : 0;
}

/* A mount of the test server, for the fixtures. */
struct mounted {
	char dir[64];
	int disk;
	int dev;
	pid_t server;
};

/*
 * Mounts the test server, lying as how, on a fresh directory; keeps the
 * server's file open in m->dev if keep_dev (else it is the child's alone,
 * and dies with it), and makes a client handle for the counters if client
 * is given. Returns 0, 1 when the disk or the module is missing, or -1.
 */
static int mount_server(struct mounted *m, enum hostile how, bool keep_dev, int *client)
{
	struct fuse_iomap_backing_map map = { 0 };
	int cookie;

	m->server = -1;
	m->dev = -1;
	m->disk = open(disk_path(), O_RDWR | O_DIRECT);
	if (m->disk < 0)
		return 1;
	m->dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (m->dev < 0)
		return 1;
	if (!forgets) {
		forgets = mmap(NULL, sizeof(*forgets), PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
		if (forgets == MAP_FAILED)
			return -1;
	}
	map.fd = m->disk;
	cookie = ioctl(m->dev, FUSE_IOMAP_IOC_BACKING_OPEN, &map);
	if (cookie <= 0)
		return -1;
	m->server = fork();
	if (m->server < 0)
		return -1;
	if (!m->server)
		serve(m->dev, cookie, how);
	strcpy(m->dir, "/tmp/fuse_iomap_mnt.XXXXXX");
	if (!mkdtemp(m->dir) || mount_fd(m->dir, m->dev, ""))
		return -1;
	if (client) {
		*client = ioctl(m->dev, FUSE_IOMAP_IOC_CLIENT);
		if (*client < 0)
			return -1;
	}
	if (!keep_dev) {
		close(m->dev);
		m->dev = -1;
	}
	return 0;
}

static void unmount_server(struct mounted *m)
{
	if (m->server > 0) {
		umount2(m->dir, MNT_DETACH);
		kill(m->server, SIGKILL);
		waitpid(m->server, NULL, 0);
		rmdir(m->dir);
	}
	if (m->dev >= 0)
		close(m->dev);
	if (m->disk >= 0)
		close(m->disk);
}

#define NO_MOUNT "no disk %s or no " DEV_PATH " (set FUSE_IOMAP_DISK, load the module)"

FIXTURE(mnt) {
	struct mounted m;
	char path[128];
	int client;
};

FIXTURE_VARIANT(mnt) {
	enum hostile hostile;
};

FIXTURE_VARIANT_ADD(mnt, honest) { .hostile = HONEST };

FIXTURE_SETUP(mnt)
{
	int ret;

	self->client = -1;
	ret = mount_server(&self->m, variant->hostile, false, &self->client);
	if (ret > 0)
		SKIP(return, NO_MOUNT, disk_path());
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(mnt)
{
	if (self->client >= 0)
		close(self->client);
	unmount_server(&self->m);
}

static const char *at(FIXTURE_DATA(mnt) *self, const char *name)
{
	snprintf(self->path, sizeof(self->path), "%s/%s", self->m.dir, name);
	return self->path;
}

/* Reads len bytes of the disk at addr, as the device has them. */
static int disk_read(int disk, void *buf, size_t len, off_t addr)
{
	return pread(disk, buf, len, addr) == (ssize_t)len ? 0 : -1;
}

static void pattern(char *buf, size_t len, unsigned int seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)(seed + i * 7 + i / 4096);
}

TEST_F(mnt, names_attributes_and_directories_come_from_the_server)
{
	struct statfs sfs;
	struct stat st;
	struct dirent *d;
	char to[160];
	int seen = 0, fd;
	DIR *dir;

	ASSERT_EQ(0, stat(at(self, "file"), &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(REGION, st.st_size);
	ASSERT_EQ(2, st.st_ino);
	ASSERT_EQ(0, stat(at(self, "dir"), &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	ASSERT_EQ(-1, stat(at(self, "none"), &st));
	ASSERT_EQ(ENOENT, errno);

	dir = opendir(self->m.dir);
	ASSERT_NE(NULL, dir);
	while ((d = readdir(dir)))
		seen |= (!strcmp(d->d_name, "file")) | (!strcmp(d->d_name, "dir")) << 1;
	closedir(dir);
	ASSERT_EQ(3, seen);

	ASSERT_EQ(0, mkdir(at(self, "made"), 0700));
	ASSERT_EQ(0, stat(at(self, "made"), &st));
	ASSERT_TRUE(S_ISDIR(st.st_mode));
	fd = open(at(self, "made/new"), O_CREAT | O_EXCL | O_RDWR, 0600);
	ASSERT_LE(0, fd);
	close(fd);
	ASSERT_EQ(-1, open(at(self, "made/new"), O_CREAT | O_EXCL | O_RDWR, 0600));
	ASSERT_EQ(EEXIST, errno);
	snprintf(to, sizeof(to), "%s/renamed", self->m.dir);
	ASSERT_EQ(0, rename(at(self, "made/new"), to));
	ASSERT_EQ(-1, stat(at(self, "made/new"), &st));
	ASSERT_EQ(0, stat(at(self, "renamed"), &st));
	ASSERT_TRUE(S_ISREG(st.st_mode));
	ASSERT_EQ(0, chmod(at(self, "renamed"), 0640));
	ASSERT_EQ(0, stat(at(self, "renamed"), &st));
	ASSERT_EQ(0640, st.st_mode & 07777);
	ASSERT_EQ(0, unlink(at(self, "renamed")));
	ASSERT_EQ(0, rmdir(at(self, "made")));
	ASSERT_EQ(-1, stat(at(self, "made"), &st));
	ASSERT_EQ(0, statfs(self->m.dir, &sfs));
	ASSERT_EQ(BS, sfs.f_bsize);
	ASSERT_EQ(255, sfs.f_namelen);
}

TEST_F(mnt, buffered_and_direct_io_land_where_the_server_mapped_them)
{
	size_t len = 256 << 10;
	char *buf, *back;
	int fd;

	ASSERT_EQ(0, posix_memalign((void **)&buf, BS, len));
	ASSERT_EQ(0, posix_memalign((void **)&back, BS, len));

	/* Buffered: written back by fsync, to nodeid 2's region. */
	pattern(buf, len, 1);
	fd = open(at(self, "file"), O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(len, pwrite(fd, buf, len, 8192));
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, disk_read(self->m.disk, back, len, 2 * REGION + 8192));
	ASSERT_EQ(0, memcmp(buf, back, len));
	close(fd);

	/* Direct: straight to the disk, and read back the same way. */
	pattern(buf, len, 2);
	fd = open(at(self, "file"), O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(len, pwrite(fd, buf, len, 1 << 20));
	ASSERT_EQ(0, disk_read(self->m.disk, back, len, 2 * REGION + (1 << 20)));
	ASSERT_EQ(0, memcmp(buf, back, len));
	memset(back, 0, len);
	ASSERT_EQ(len, pread(fd, back, len, 1 << 20));
	ASSERT_EQ(0, memcmp(buf, back, len));
	close(fd);

	/* Buffered reads see what was written directly. */
	fd = open(at(self, "file"), O_RDONLY);
	ASSERT_LE(0, fd);
	memset(back, 0, len);
	ASSERT_EQ(len, pread(fd, back, len, 1 << 20));
	ASSERT_EQ(0, memcmp(buf, back, len));
	close(fd);
	free(buf);
	free(back);
}

TEST_F(mnt, mmap_reads_and_writes_go_through_the_page_cache_to_the_disk)
{
	char buf[BS], back[BS] __attribute__((aligned(4096)));
	char *p;
	int fd;

	fd = open(at(self, "file"), O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, 4 * BS, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	pattern(buf, BS, 3);
	memcpy(p + BS, buf, BS);
	ASSERT_EQ(0, msync(p, 4 * BS, MS_SYNC));
	ASSERT_EQ(0, disk_read(self->m.disk, back, BS, 2 * REGION + BS));
	ASSERT_EQ(0, memcmp(buf, back, BS));
	ASSERT_EQ(0, munmap(p, 4 * BS));
	close(fd);
}

TEST_F(mnt, fiemap_and_seek_report_the_servers_extents)
{
	char fbuf[sizeof(struct fiemap) + 4 * sizeof(struct fiemap_extent)];
	struct fiemap *fm = (void *)fbuf;
	int fd, block;

	fd = open(at(self, "file"), O_RDONLY);
	ASSERT_LE(0, fd);
	memset(fbuf, 0, sizeof(fbuf));
	fm->fm_length = FIEMAP_MAX_OFFSET;
	fm->fm_extent_count = 4;
	ASSERT_EQ(0, ioctl(fd, FS_IOC_FIEMAP, fm));
	ASSERT_EQ(1, fm->fm_mapped_extents);
	ASSERT_EQ(0, fm->fm_extents[0].fe_logical);
	ASSERT_EQ(2 * REGION, fm->fm_extents[0].fe_physical);
	ASSERT_EQ(REGION, fm->fm_extents[0].fe_length);
	ASSERT_EQ(0, lseek(fd, 0, SEEK_DATA));
	ASSERT_EQ(REGION, lseek(fd, 0, SEEK_HOLE));
	/* FIBMAP: the disk block of the file's second block. */
	block = 1;
	ASSERT_EQ(0, ioctl(fd, FIBMAP, &block));
	ASSERT_EQ(2 * REGION / BS + 1, block);
	close(fd);
}

TEST_F(mnt, truncate_zeroes_the_tail_and_reaches_the_server)
{
	char buf[BS];
	struct stat st;
	int fd;

	fd = open(at(self, "file"), O_RDWR);
	ASSERT_LE(0, fd);
	memset(buf, 'x', BS);
	ASSERT_EQ(BS, pwrite(fd, buf, BS, 0));
	ASSERT_EQ(0, ftruncate(fd, 100));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(100, st.st_size);
	ASSERT_EQ(0, ftruncate(fd, BS));
	ASSERT_EQ(BS, pread(fd, buf, BS, 0));
	ASSERT_EQ('x', buf[99]);
	ASSERT_EQ(0, buf[100]);
	ASSERT_EQ(0, buf[BS - 1]);
	/* fallocate goes to the server; growing the file is the kernel's. */
	ASSERT_EQ(0, fallocate(fd, 0, BS, BS));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(2 * BS, st.st_size);
	ASSERT_EQ(0, fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, BS));
	ASSERT_EQ(0, fstat(fd, &st));
	ASSERT_EQ(2 * BS, st.st_size);
	close(fd);
}

TEST_F(mnt, direct_reads_ask_the_server_for_their_mapping)
{
	struct fuse_iomap_counters before, after;
	char *buf;
	int fd;

	/* This server does not upsert: every miss is an upcall. */
	fd = open(at(self, "file"), O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ioctl(self->client, FUSE_IOMAP_IOC_COUNTERS, &before));
	ASSERT_EQ(0, posix_memalign((void **)&buf, BS, BS));
	ASSERT_EQ(BS, pread(fd, buf, BS, 0));
	ASSERT_EQ(0, ioctl(self->client, FUSE_IOMAP_IOC_COUNTERS, &after));
	ASSERT_LT(before.upcalls[FUSE_IOMAP_UPCALL_BEGIN],
		  after.upcalls[FUSE_IOMAP_UPCALL_BEGIN]);
	free(buf);
	close(fd);
}

/*
 * Inodes dropped while the server is stopped queue their FORGETs; the
 * server's next read takes them all as one BATCH_FORGET, as on /dev/fuse.
 */
TEST_F(mnt, forgets_queued_together_reach_the_server_as_one_batch_forget)
{
	struct forgets before;
	char name[16];
	int fd, status;

	for (int i = 0; i < 8; i++) {
		snprintf(name, sizeof(name), "f%d", i);
		fd = open(at(self, name), O_CREAT | O_RDWR, 0644);
		ASSERT_LE(0, fd);
		close(fd);
	}
	ASSERT_EQ(0, kill(self->m.server, SIGSTOP));
	ASSERT_EQ(self->m.server, waitpid(self->m.server, &status, WUNTRACED));
	ASSERT_TRUE(WIFSTOPPED(status));
	before = *forgets;
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "2", 1));
	close(fd);
	ASSERT_EQ(0, kill(self->m.server, SIGCONT));
	for (int i = 0; i < 100 && forgets->batched - before.batched < 8; i++)
		usleep(100000);
	EXPECT_EQ(0, forgets->singles - before.singles);
	EXPECT_EQ(1, forgets->batches - before.batches);
	EXPECT_EQ(8, forgets->batched - before.batched);
	/* Each was looked up once, by its CREATE. */
	EXPECT_EQ(8, forgets->lookups - before.lookups);
}

TEST_F(mnt, a_dead_server_leaves_enotconn_and_an_unmountable_mount)
{
	struct stat st;

	ASSERT_EQ(0, stat(at(self, "file"), &st));
	kill(self->m.server, SIGKILL);
	waitpid(self->m.server, NULL, 0);
	self->m.server = 0;
	ASSERT_EQ(-1, stat(at(self, "other"), &st));
	ASSERT_EQ(ENOTCONN, errno);
	ASSERT_EQ(0, umount(self->m.dir));
	rmdir(self->m.dir);
}

/*
 * A buffered write whose mapping came from the cache, stalled on its user
 * buffer (userfaultfd) between iomap_begin and the copy into the page
 * cache: the server invalidates the range meanwhile (or not, the control).
 * iomap_valid sees the cookie go stale and the write maps again, from the
 * server; without the check it would write through the old mapping.
 */
FIXTURE(cookie) {
	struct mounted m;
	struct stall stall;
};

FIXTURE_SETUP(cookie)
{
	int ret;

	self->m.server = -1;
	self->m.dev = -1;
	self->m.disk = -1;
	if (stall_setup(&self->stall))
		SKIP(return, "no userfaultfd (CONFIG_USERFAULTFD)");
	ret = mount_server(&self->m, UPSERTING, true, NULL);
	if (ret > 0)
		SKIP(return, NO_MOUNT, disk_path());
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(cookie)
{
	unmount_server(&self->m);
	stall_teardown(&self->stall);
}

struct write_call {
	int fd;
	void *buf;
	size_t len;
	ssize_t ret;
};

static void *do_write(void *arg)
{
	struct write_call *w = arg;

	w->ret = pwrite(w->fd, w->buf, w->len, 0);
	return NULL;
}

/* IOMAP_BEGIN upcalls of the write stalled at fd, with or without inval. */
static int stalled_write(FIXTURE_DATA(cookie) *self, int fd, bool inval,
			 __u64 *upcalls)
{
	struct fuse_iomap_inval_mappings_out msg = {
		.nodeid = 2, .attr_ino = 2,
		.read = { .offset = 0, .length = FUSE_IOMAP_INVAL_TO_EOF },
	};
	struct write_call w = { .fd = fd, .buf = self->stall.buf, .len = self->stall.len };
	struct fuse_iomap_counters before, after;
	pthread_t t;
	int err;

	if (pthread_create(&t, NULL, do_write, &w))
		return -1;
	err = stall_wait_fault(&self->stall);
	if (!err)
		err = ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &before);
	if (!err && inval)
		err = send_msg(self->m.dev, 0, FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS, &msg, sizeof(msg));
	stall_release(&self->stall);
	pthread_join(t, NULL);
	if (err || w.ret != (ssize_t)w.len || ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &after))
		return -1;
	*upcalls = after.upcalls[FUSE_IOMAP_UPCALL_BEGIN] - before.upcalls[FUSE_IOMAP_UPCALL_BEGIN];
	return 0;
}

TEST_F(cookie, a_buffered_write_racing_an_invalidation_maps_again)
{
	char path[160], back[8192] __attribute__((aligned(4096)));
	__u64 upcalls;
	int fd;

	snprintf(path, sizeof(path), "%s/file", self->m.dir);
	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	/* Control: nothing changes while the write stalls, nothing is asked. */
	ASSERT_EQ(0, stalled_write(self, fd, false, &upcalls));
	ASSERT_EQ(0, upcalls);
	/* Its pages are resolved now: stall the next write on fresh ones. */
	stall_teardown(&self->stall);
	ASSERT_EQ(0, stall_setup(&self->stall));
	ASSERT_EQ(0, stalled_write(self, fd, true, &upcalls));
	ASSERT_EQ(1, upcalls);
	/* What the write copied (the stall resolves to zeroes) is on disk. */
	ASSERT_EQ(0, fsync(fd));
	ASSERT_EQ(0, disk_read(self->m.disk, back, sizeof(back), 2 * REGION));
	for (size_t i = 0; i < sizeof(back); i++)
		ASSERT_EQ(0, back[i]);
	close(fd);
}

FIXTURE(hostile) {
	struct mounted m;
};

FIXTURE_VARIANT(hostile) {
	enum hostile hostile;
};

FIXTURE_VARIANT_ADD(hostile, root_nodeid) { .hostile = ROOT_NODEID };
FIXTURE_VARIANT_ADD(hostile, type_change) { .hostile = TYPE_CHANGE };
FIXTURE_VARIANT_ADD(hostile, past_maxbytes) { .hostile = PAST_MAXBYTES };
FIXTURE_VARIANT_ADD(hostile, bad_dirent) { .hostile = BAD_DIRENT };
FIXTURE_VARIANT_ADD(hostile, short_entry) { .hostile = SHORT_ENTRY };
FIXTURE_VARIANT_ADD(hostile, nodeid_zero) { .hostile = NODEID_ZERO };

FIXTURE_SETUP(hostile)
{
	int ret = mount_server(&self->m, variant->hostile, false, NULL);

	if (ret > 0)
		SKIP(return, NO_MOUNT, disk_path());
	ASSERT_EQ(0, ret);
}

FIXTURE_TEARDOWN(hostile)
{
	unmount_server(&self->m);
}

TEST_F(hostile, a_lying_reply_fails_its_call_with_eio_and_nothing_else)
{
	char path[160];
	struct stat st;
	DIR *dir;
	int ret;

	/* An honest call first: the file the lies would touch. */
	snprintf(path, sizeof(path), "%s/file", self->m.dir);
	ASSERT_EQ(0, stat(path, &st));
	ASSERT_EQ(REGION, st.st_size);

	switch (variant->hostile) {
	case BAD_DIRENT:
		dir = opendir(self->m.dir);
		ASSERT_NE(NULL, dir);
		errno = 0;
		ASSERT_EQ(NULL, readdir(dir));
		ASSERT_EQ(EIO, errno);
		closedir(dir);
		break;
	case TYPE_CHANGE:
		/* Attributes time out at once: stat asks GETATTR again. */
		ASSERT_EQ(-1, stat(path, &st));
		ASSERT_EQ(EIO, errno);
		break;
	case NODEID_ZERO:
		snprintf(path, sizeof(path), "%s/newdir", self->m.dir);
		ASSERT_EQ(-1, mkdir(path, 0755));
		ASSERT_EQ(EIO, errno);
		break;
	default:
		snprintf(path, sizeof(path), "%s/bad", self->m.dir);
		ret = stat(path, &st);
		ASSERT_EQ(-1, ret);
		ASSERT_EQ(variant->hostile == SHORT_ENTRY ? ENOENT : EIO, errno);
	}
	/* The file the lie named is untouched. */
	if (variant->hostile != TYPE_CHANGE) {
		snprintf(path, sizeof(path), "%s/file", self->m.dir);
		ASSERT_EQ(0, stat(path, &st));
		ASSERT_TRUE(S_ISREG(st.st_mode));
		ASSERT_EQ(REGION, st.st_size);
	}
}

TEST(mount_options_and_fds_are_checked)
{
	char dir[] = "/tmp/fuse_iomap_opts.XXXXXX";
	int dev, other, notdev;

	dev = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (dev < 0)
		SKIP(return, "no %s (module not loaded)", DEV_PATH);
	ASSERT_NE(NULL, mkdtemp(dir));
	notdev = open("/proc/self/status", O_RDONLY);
	ASSERT_LE(0, notdev);

	ASSERT_EQ(-EINVAL, mount("x", dir, FUSE_IOMAP_FS_TYPE, 0,
				 "rootmode=40755,user_id=0,group_id=0") ? -errno : 0);
	ASSERT_EQ(-EINVAL, mount_fd(dir, dev, ",rootmode=100644"));
	ASSERT_EQ(-EINVAL, mount_fd(dir, dev, ",fd=3"));
	ASSERT_EQ(-EINVAL, mount_fd(dir, dev, ",bogus=1"));
	ASSERT_EQ(-EINVAL, mount_fd(dir, dev, ",famfs_resolve=bpf"));
	ASSERT_EQ(-EINVAL, mount_fd(dir, dev, ",famfs_resolve=fmap,famfs_resolve=iomap"));
	ASSERT_EQ(-EINVAL, mount_fd(dir, notdev, ""));
	ASSERT_EQ(-EBADF, mount_fd(dir, 1000, ""));

	/* A connection is mounted once. */
	ASSERT_EQ(0, mount_fd(dir, dev, ""));
	other = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, other);
	ASSERT_EQ(-EBUSY, mount_fd("/mnt", dev, ""));
	/* Without a handshake there is nothing to destroy: unmount at once. */
	ASSERT_EQ(0, umount(dir));
	close(dev);
	/* Another connection mounts there again, with the other resolution. */
	ASSERT_EQ(0, mount_fd(dir, other, ",famfs_resolve=iomap"));
	ASSERT_EQ(0, umount(dir));
	close(other);
	close(notdev);

	/* A server file opened in another user namespace is refused. */
	if (!access("/proc/self/ns/user", F_OK)) {
		int ready[2], pidfd, fd;
		pid_t pid;
		char c;

		ASSERT_EQ(0, pipe(ready));
		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid) {
			if (unshare(CLONE_NEWUSER) || dup2(open(DEV_PATH, O_RDWR), 100) != 100)
				_exit(1);
			if (write(ready[1], "r", 1) != 1)
				_exit(1);
			pause();
			_exit(0);
		}
		ASSERT_EQ(1, read(ready[0], &c, 1));
		pidfd = syscall(SYS_pidfd_open, pid, 0);
		ASSERT_LE(0, pidfd);
		fd = syscall(SYS_pidfd_getfd, pidfd, 100, 0);
		ASSERT_LE(0, fd);
		ASSERT_EQ(-EINVAL, mount_fd(dir, fd, ""));
		close(fd);
		close(pidfd);
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	rmdir(dir);
}

TEST_HARNESS_MAIN
