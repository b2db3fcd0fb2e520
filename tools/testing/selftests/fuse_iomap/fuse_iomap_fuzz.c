// SPDX-License-Identifier: GPL-2.0
/*
 * A fuzzer of the device: several threads share a few connections (server
 * files of /dev/fuse-iomap) and client handles, and for a bounded time issue
 * random ioctls (every one of the ABI, with plausible, mutated or garbage
 * arguments, and random numbers), reads, writes, polls, opens and closes,
 * and play the server: they read requests and answer them validly, with
 * truncated, oversized or mutated payloads, wrong uniques, errors in and out
 * of range, twice, late or never, and send notifications. Closing a file
 * while other threads use its connection is the point.
 *
 * It passes when it runs to the end: the harness then checks that dmesg and
 * kmemleak are clean. Everything is seeded: the seed (FUSE_IOMAP_FUZZ_SEED
 * or the first argument) is printed, and each thread's generator derives
 * from it, so a run replays as far as the threads' interleaving allows. The
 * duration is FUSE_IOMAP_FUZZ_SECONDS (default 45). Nothing can hang: client
 * calls that wait for an answer are interrupted by a supervisor thread
 * (SIGUSR1, without SA_RESTART) once their random deadline passes, and an
 * alarm fails the run past the duration and a margin.
 *
 * Threads never use a file descriptor number that another one may close:
 * the pool's slots are locked, and a user takes its own dup() of the slot's
 * file. A close of the slot then races the uses of the same file, never an
 * unrelated file that reused the number.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/fuse_iomap.h>
#include <sys/syscall.h>

#include "kselftest.h"

#define DEV_PATH	"/dev/" FUSE_IOMAP_DEV_NAME
#define DEFAULT_SEED	20261201ULL
#define DEFAULT_SECONDS	45
/* The alarm fails the run this long after the duration. */
#define MARGIN_SECONDS	30
#define NTHREADS	5
#define NSRV		3
#define NCLI		6
#define BS		4096ULL
#define MiB		(1ULL << 20)
#define DEV_SIZE	(1ULL << 30)
#define NDEVS		3
#define STASH		8
#define PAGE		4096
/* Per-thread buffers end at a PROT_NONE page: overruns fault, in the kernel. */
#define BUF_SIZE	(64 * 1024)
#define READ_SIZE	(8192 + 4096)

/* ---- random numbers: splitmix64 seeds one xorshift64* per thread ---- */

static __u64 splitmix64(__u64 *x)
{
	__u64 z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

struct rng {
	__u64 s;
};

static __u64 next(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545f4914f6cdd1dULL;
}

/* Uniform in [0, n). */
static __u64 below(struct rng *r, __u64 n)
{
	return n ? next(r) % n : 0;
}

/* True with probability pct percent. */
static int chance(struct rng *r, unsigned int pct)
{
	return below(r, 100) < pct;
}

static __u64 interesting64(struct rng *r)
{
	static const __u64 v[] = {
		0, 1, 2, 511, 512, 4095, 4096, 4097, 2 * MiB, 2 * MiB - 1,
		1ULL << 30, 1ULL << 31, 1ULL << 32, (1ULL << 32) - 1,
		(1ULL << 63) - 1, 1ULL << 63, ~0ULL, ~0ULL - 4095, ~0ULL - 1,
		(1ULL << 63) - 4096, 0x8000000000001000ULL,
	};

	return v[below(r, sizeof(v) / sizeof(v[0]))];
}

/* ---- what happened: op counts and an errno histogram ---- */

enum op {
	OP_OPEN, OP_CLOSE, OP_CLIENT, OP_CLOSE_CLIENT, OP_IOCTL_SRV, OP_IOCTL_CLI,
	OP_IOCTL_RANDOM, OP_SERVE, OP_LATE, OP_NOTIFY, OP_WRITE, OP_READ, OP_POLL,
	OP_FCNTL, OP_BURST, NR_OPS
};

static const char *const op_names[NR_OPS] = {
	"open", "close", "client", "close-client", "ioctl-server", "ioctl-client",
	"ioctl-random", "serve", "late-reply", "notify", "write", "read", "poll",
	"fcntl", "burst",
};

#define NR_ERRNO	160

struct stats {
	unsigned long ops[NR_OPS];
	unsigned long calls;
	unsigned long err[NR_ERRNO + 1];	/* [0]: success, [NR_ERRNO]: other */
	unsigned long replies, requests;
};

/* A request read and not answered yet, to be answered late (or never). */
struct stashed {
	int slot;
	__u64 unique;
	__u32 opcode;
	__u64 nodeid;
};

struct worker {
	int id;
	pthread_t thread;
	struct rng rng;
	struct stats st;
	/* CLOCK_MONOTONIC ns after which the supervisor interrupts; 0: none. */
	_Atomic long long deadline;
	struct stashed stash[STASH];
	int nstash;
	unsigned char *buf;	/* BUF_SIZE bytes before a PROT_NONE page */
	unsigned char *rbuf;	/* READ_SIZE bytes for requests */
	int epfd;		/* an epoll set that outlives the files in it */
	/* Set when its loop ends: a worker that died in the kernel never sets it. */
	atomic_bool finished;
};

/* ---- the pool of files ---- */

struct slot {
	pthread_mutex_t lock;
	int fd;
	__u32 blocksize;	/* servers: the geometry set, to answer aligned */
};

static struct slot srv[NSRV], cli[NCLI];
static atomic_int stop;
static __u64 seed;
static int seconds;
/* A page without access, and a user pointer in the kernel's half. */
static unsigned char *bad_page;
#define KERNEL_PTR	((void *)0xffff888000000000UL)

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void record(struct worker *w, long ret)
{
	w->st.calls++;
	if (ret >= 0)
		w->st.err[0]++;
	else if (errno > 0 && errno < NR_ERRNO)
		w->st.err[errno]++;
	else
		w->st.err[NR_ERRNO]++;
}

/* A file of the slot, duplicated for the caller, who closes it; or -1. */
static int slot_get(struct slot *s)
{
	int fd = -1;

	pthread_mutex_lock(&s->lock);
	if (s->fd >= 0)
		fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&s->lock);
	return fd;
}

/* What the closed connections did, from their counters. */
static struct fuse_iomap_counters kernel_sum;
static pthread_mutex_t kernel_sum_lock = PTHREAD_MUTEX_INITIALIZER;

static void add_counters(int fd)
{
	struct fuse_iomap_counters c;
	__u64 *from = (__u64 *)&c, *to = (__u64 *)&kernel_sum;
	size_t i;

	if (ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &c))
		return;
	pthread_mutex_lock(&kernel_sum_lock);
	for (i = 0; i < sizeof(c) / sizeof(__u64); i++)
		to[i] += from[i];
	pthread_mutex_unlock(&kernel_sum_lock);
}

/* Puts fd (or -1) in the slot and closes what was there. */
static void slot_set(struct slot *s, int fd, __u32 blocksize)
{
	int old;

	pthread_mutex_lock(&s->lock);
	old = s->fd;
	s->fd = fd;
	s->blocksize = blocksize;
	pthread_mutex_unlock(&s->lock);
	if (old < 0)
		return;
	if (s >= srv && s < srv + NSRV)
		add_counters(old);
	close(old);
}

static __u32 slot_blocksize(struct slot *s)
{
	__u32 bs;

	pthread_mutex_lock(&s->lock);
	bs = s->blocksize ?: BS;
	pthread_mutex_unlock(&s->lock);
	return bs;
}

/* ---- arguments: mostly plausible, sometimes garbage ---- */

static __u64 rnd_nodeid(struct rng *r)
{
	if (chance(r, 75))
		return 1 + below(r, 8);
	if (chance(r, 60))
		return below(r, 64);
	return chance(r, 50) ? interesting64(r) : next(r);
}

static __u64 rnd_off(struct rng *r, __u64 bs)
{
	if (chance(r, 75))
		return below(r, 256) * bs;
	if (chance(r, 50))
		return below(r, 1 << 20);
	return chance(r, 50) ? interesting64(r) : next(r);
}

static __u64 rnd_len(struct rng *r, __u64 bs)
{
	if (chance(r, 70))
		return (1 + below(r, 16)) * bs;
	if (chance(r, 30))
		return 0;
	if (chance(r, 30))
		return FUSE_IOMAP_INVAL_TO_EOF;
	return chance(r, 50) ? interesting64(r) : next(r);
}

static __u32 rnd_dev(struct rng *r)
{
	if (chance(r, 85))
		return 1 + below(r, NDEVS);
	return chance(r, 50) ? 0 : (__u32)next(r);
}

static __u16 rnd_type(struct rng *r)
{
	static const __u16 t[] = {
		FUSE_IOMAP_TYPE_MAPPED, FUSE_IOMAP_TYPE_MAPPED, FUSE_IOMAP_TYPE_MAPPED,
		FUSE_IOMAP_TYPE_HOLE, FUSE_IOMAP_TYPE_DELALLOC, FUSE_IOMAP_TYPE_UNWRITTEN,
		FUSE_IOMAP_TYPE_INLINE, FUSE_IOMAP_TYPE_NOCACHE, FUSE_IOMAP_TYPE_RETRY_CACHE,
		FUSE_IOMAP_TYPE_PURE_OVERWRITE,
	};

	if (chance(r, 3))
		return next(r);
	return t[below(r, sizeof(t) / sizeof(t[0]))];
}

/* A mapping around pos, valid more often than not. */
static struct fuse_iomap_io rnd_io(struct rng *r, __u64 pos, __u64 bs, int slot_write)
{
	struct fuse_iomap_io m = { 0 };
	__u16 type = rnd_type(r);

	if (slot_write && chance(r, 50))
		type = FUSE_IOMAP_TYPE_NOCACHE;
	if (!slot_write && type == FUSE_IOMAP_TYPE_PURE_OVERWRITE && chance(r, 90))
		type = FUSE_IOMAP_TYPE_MAPPED;
	m.type = type;
	m.offset = (pos & ~(bs - 1)) - (chance(r, 50) ? 0 : below(r, 4) * bs);
	if (m.offset > pos)
		m.offset = pos & ~(bs - 1);
	m.length = (1 + below(r, 16)) * bs;
	if (type == FUSE_IOMAP_TYPE_MAPPED || type == FUSE_IOMAP_TYPE_UNWRITTEN) {
		m.dev = rnd_dev(r);
		m.addr = (64 * MiB + below(r, 1024) * bs) & ~(bs - 1);
	} else {
		m.dev = FUSE_IOMAP_DEV_NULL;
		m.addr = FUSE_IOMAP_NULL_ADDR;
	}
	if (chance(r, 15))
		m.flags = below(r, 256);
	if (chance(r, 8)) {
		switch (below(r, 6)) {
		case 0: m.offset = rnd_off(r, bs); break;
		case 1: m.length = rnd_len(r, bs); break;
		case 2: m.addr = interesting64(r); break;
		case 3: m.flags = next(r); break;
		case 4: m.dev = next(r); break;
		default: m.offset = pos + 1; break;
		}
	}
	return m;
}

/* Flips a few bytes of buf, now and then. */
static void mutate(struct rng *r, void *buf, size_t len, unsigned int pct)
{
	unsigned char *b = buf;
	int i, n;

	if (!len || !chance(r, pct))
		return;
	n = 1 + below(r, 4);
	for (i = 0; i < n; i++) {
		size_t at = below(r, len);

		switch (below(r, 4)) {
		case 0: b[at] ^= 1 << below(r, 8); break;
		case 1: b[at] = 0; break;
		case 2: b[at] = 0xff; break;
		default: b[at] = next(r); break;
		}
	}
}

/*
 * A user pointer for an argument of size bytes at good: mostly good,
 * sometimes NULL, unmapped, in the kernel's half, or straddling the end of
 * the thread's buffer into the PROT_NONE page.
 */
static void *arg_ptr(struct worker *w, void *good, size_t size)
{
	struct rng *r = &w->rng;

	if (chance(r, 96))
		return good;
	switch (below(r, 4)) {
	case 0: return NULL;
	case 1: return bad_page + below(r, PAGE);
	case 2: return KERNEL_PTR;
	default: {
		unsigned char *end = w->buf + BUF_SIZE;
		size_t in = size > 1 ? 1 + below(r, size - 1) : 0;

		if (in)
			memmove(end - in, good, in);
		return end - in;
	}
	}
}

/* A GET_FMAP reply in buf: plausible, then maybe mutated; its size. */
static size_t rnd_fmap(struct rng *r, void *buf, size_t room)
{
	struct fuse_famfs_fmap_header *h = buf;
	unsigned char *p = (unsigned char *)(h + 1);
	__u32 i, j, n = chance(r, 90) ? 1 + below(r, 4) : below(r, 40);
	__u64 total = 0;
	size_t size;

	memset(buf, 0, room);
	h->file_type = chance(r, 90) ? FUSE_FAMFS_FILE_REG : below(r, 4);
	h->fmap_version = chance(r, 95) ? FAMFS_FMAP_VERSION : below(r, 3);
	h->ext_type = chance(r, 50) ? FUSE_FAMFS_EXT_SIMPLE :
		      chance(r, 95) ? FUSE_FAMFS_EXT_INTERLEAVE : below(r, 4);
	h->nextents = n;
	for (i = 0; i < n && i < 32; i++) {
		if (h->ext_type == FUSE_FAMFS_EXT_INTERLEAVE) {
			struct fuse_famfs_iext *g = (void *)p;
			__u32 k = chance(r, 95) ? 1 + below(r, 4) : below(r, 34);

			if ((size_t)(p - (unsigned char *)buf) + sizeof(*g) +
			    k * sizeof(struct fuse_famfs_simple_ext) > room)
				break;
			g->ie_nstrips = k;
			g->ie_chunk_size = chance(r, 95) ? (1 + below(r, 2)) * 2 * MiB : next(r);
			g->ie_nbytes = chance(r, 90) ? (1 + below(r, 4 * k)) * 2 * MiB : next(r);
			total += g->ie_nbytes;
			p += sizeof(*g);
			for (j = 0; j < k; j++) {
				struct fuse_famfs_simple_ext *e = (void *)p;

				e->se_devindex = chance(r, 90) ? below(r, 2) : below(r, 30);
				e->se_offset = below(r, 120) * 2 * MiB;
				e->se_len = (1 + below(r, 8)) * 2 * MiB;
				p += sizeof(*e);
			}
		} else {
			struct fuse_famfs_simple_ext *e = (void *)p;

			if ((size_t)(p - (unsigned char *)buf) + sizeof(*e) > room)
				break;
			e->se_devindex = chance(r, 90) ? below(r, 2) : below(r, 30);
			e->se_offset = chance(r, 95) ? below(r, 120) * 2 * MiB : interesting64(r);
			e->se_len = chance(r, 95) ? (1 + below(r, 8)) * 2 * MiB : interesting64(r);
			total += e->se_len;
			p += sizeof(*e);
		}
	}
	i = below(r, 2 * MiB);
	h->file_size = chance(r, 90) ? total - (i < total ? i : total) : next(r);
	size = p - (unsigned char *)buf;
	mutate(r, buf, size, 10);
	if (chance(r, 5))
		size = below(r, size + 64);
	return size < room ? size : room;
}

/* A GET_DAXDEV answer for index: only the VM's pmem, or no block device. */
static void rnd_daxdev(struct rng *r, struct fuse_daxdev_out *d, __u64 index)
{
	static const char *const names[] = {
		"/dev/pmem0", "/dev/pmem0", "/dev/pmem0", "/dev/pmem1", "/dev/null",
		"/dev/zero", "/dev/" FUSE_IOMAP_DEV_NAME, "/nonexistent", "", "/",
		"/dev", "/proc/self/fd/0",
	};

	memset(d, 0, sizeof(*d));
	d->index = chance(r, 90) ? index : below(r, 30);
	strcpy(d->name, names[below(r, sizeof(names) / sizeof(names[0]))]);
	if (chance(r, 3))
		memset(d->name, 'a', sizeof(d->name));	/* no NUL */
	mutate(r, d, 24, 5);
}

/* ---- server side: replies ---- */

/* Writes size bytes at buf; records the result. */
static long do_write(struct worker *w, int fd, const void *buf, size_t size)
{
	long ret = write(fd, buf, size);

	record(w, ret);
	return ret;
}

/* Writes a header and a payload of size bytes. */
static long send_msg(struct worker *w, int fd, __u64 unique, int error,
		     const void *payload, size_t size)
{
	unsigned char *msg = w->buf + BUF_SIZE - sizeof(struct fuse_out_header) - size;
	struct fuse_out_header oh = {
		.len = sizeof(oh) + size, .error = error, .unique = unique,
	};

	memcpy(msg, &oh, sizeof(oh));
	if (size)
		memmove(msg + sizeof(oh), payload, size);
	return do_write(w, fd, msg, sizeof(oh) + size);
}

/* The valid reply payload to a request, in out; its size. */
static size_t valid_reply(struct worker *w, int fd, const struct fuse_in_header *h,
			  const void *args, int s, void *out, size_t room)
{
	struct rng *r = &w->rng;
	__u64 bs = slot_blocksize(&srv[s]);

	memset(out, 0, room);
	switch (h->opcode) {
	case FUSE_INIT: {
		const struct fuse_init_in *in = args;
		struct fuse_init_out *o = out;
		__u64 offer = in->flags | (__u64)in->flags2 << 32, keep = offer;

		if (chance(r, 5))
			keep &= ~FUSE_IOMAP;
		if (chance(r, 15))
			keep &= ~FUSE_DAX_FMAP;
		if (chance(r, 3))
			keep = next(r);
		o->major = chance(r, 97) ? 7 : below(r, 9);
		o->minor = 41;
		o->flags = keep;
		o->flags2 = keep >> 32;
		o->max_write = 1 << 20;
		return sizeof(*o);
	}
	case FUSE_IOMAP_CONFIG: {
		struct fuse_iomap_config_out *o = out;

		o->flags = below(r, 8);
		o->blocksize = chance(r, 80) ? BS : 512U << below(r, 13);
		o->cache_maxbytes = chance(r, 50) ? 0 : below(r, 4 * MiB);
		o->maxbytes = chance(r, 95) ? (1LL << 40) : (long long)next(r);
		if (chance(r, 3))
			o->padding[below(r, 5)] = 1;
		if (o->flags & FUSE_IOMAP_CONFIG_BLOCKSIZE) {
			/* A hint: the slot may hold another connection by now. */
			pthread_mutex_lock(&srv[s].lock);
			srv[s].blocksize = o->blocksize;
			pthread_mutex_unlock(&srv[s].lock);
		}
		return sizeof(*o);
	}
	case FUSE_IOMAP_BEGIN: {
		const struct fuse_iomap_begin_in *in = args;
		struct fuse_iomap_begin_out *o = out;

		o->read = rnd_io(r, in->pos, bs, 0);
		o->write = rnd_io(r, in->pos, bs, 1);
		if (chance(r, 30)) {
			/* Upsert it first, as a caching server does. */
			struct fuse_iomap_upsert_mappings_out u = {
				.nodeid = h->nodeid, .read = o->read, .write = o->write,
			};
			send_msg(w, fd, 0, FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS, &u, sizeof(u));
			if (chance(r, 50))
				o->read.type = FUSE_IOMAP_TYPE_RETRY_CACHE;
		}
		return sizeof(*o);
	}
	case FUSE_IOMAP_END:
		return 0;
	case FUSE_IOMAP_IOEND: {
		struct fuse_iomap_ioend_out *o = out;

		o->newsize = chance(r, 80) ? below(r, 1 << 30) : next(r);
		return sizeof(*o);
	}
	case FUSE_GET_FMAP:
		return rnd_fmap(r, out, room < 4096 ? room : 4096);
	case FUSE_GET_DAXDEV:
		rnd_daxdev(r, out, h->nodeid);
		return sizeof(struct fuse_daxdev_out);
	}
	return below(r, 128);
}

/* Answers request (h, args) on server slot s, one way or another. */
static void answer(struct worker *w, int fd, int s, const struct fuse_in_header *h,
		   const void *args)
{
	struct rng *r = &w->rng;
	unsigned char payload[4096 + 256];
	size_t size = valid_reply(w, fd, h, args, s, payload, 4096);
	__u64 unique = h->unique;
	unsigned int how = below(r, 100);

	/* A handshake mostly succeeds, so that the clients get further. */
	if ((h->opcode == FUSE_INIT || h->opcode == FUSE_IOMAP_CONFIG) && chance(r, 75))
		how = 0;
	w->st.replies++;
	if (how < 55) {				/* valid */
		send_msg(w, fd, unique, 0, payload, size);
	} else if (how < 62) {			/* later, or never */
		if (w->nstash < STASH) {
			struct stashed *st = &w->stash[w->nstash++];

			st->slot = s;
			st->unique = unique;
			st->opcode = h->opcode;
			st->nodeid = h->nodeid;
		}
	} else if (how < 70) {			/* an error */
		send_msg(w, fd, unique, -(int)(1 + below(r, 133)), NULL, 0);
	} else if (how < 74) {			/* an error out of range, or with a payload */
		static const int bad[] = { 1, 0x7fffffff, -512, -513, -4095, INT_MIN, -1000 };

		if (chance(r, 30))
			send_msg(w, fd, unique, -EIO, payload, size);
		else
			send_msg(w, fd, unique, bad[below(r, sizeof(bad) / sizeof(bad[0]))], NULL, 0);
		send_msg(w, fd, unique, 0, payload, size);
	} else if (how < 79) {			/* truncated, then maybe right */
		send_msg(w, fd, unique, 0, payload, size ? below(r, size) : 0);
		if (chance(r, 50))
			send_msg(w, fd, unique, 0, payload, size);
	} else if (how < 84) {			/* oversized */
		size_t more = chance(r, 80) ? 1 + below(r, 64) : below(r, 4300);

		send_msg(w, fd, unique, 0, payload, size + more > sizeof(payload) ?
			 sizeof(payload) : size + more);
	} else if (how < 92) {			/* mutated */
		mutate(r, payload, size, 100);
		send_msg(w, fd, unique, 0, payload, size);
	} else if (how < 96) {			/* a wrong unique or a lying header */
		unsigned char *msg = w->buf + BUF_SIZE - sizeof(struct fuse_out_header) - size;

		switch (below(r, 4)) {
		case 0:
			send_msg(w, fd, unique + 2 * (1 + below(r, 4)), 0, payload, size);
			break;
		case 1:
			send_msg(w, fd, unique - 2, 0, payload, size);
			break;
		case 2:
			send_msg(w, fd, unique | 1, 0, payload, size);
			break;
		default: {
			struct fuse_out_header lie = {
				.len = sizeof(lie) + size + (chance(r, 50) ? 1 : -1),
				.unique = unique,
			};

			memcpy(msg, &lie, sizeof(lie));
			memcpy(msg + sizeof(lie), payload, size);
			do_write(w, fd, msg, sizeof(lie) + size);
		}
		}
	} else {				/* twice */
		send_msg(w, fd, unique, 0, payload, size);
		send_msg(w, fd, unique, 0, payload, size);
	}
}

/* Reads one request from a server, if one comes soon, and answers it. */
static void op_serve(struct worker *w)
{
	struct rng *r = &w->rng;
	int s = below(r, NSRV), fd = slot_get(&srv[s]);
	struct pollfd p;
	long n;

	if (fd < 0)
		return;
	p.fd = fd;
	p.events = POLLIN;
	record(w, poll(&p, 1, below(r, 20)));
	n = read(fd, w->rbuf, chance(r, 97) ? READ_SIZE : 8192);
	record(w, n);
	if (n >= (long)sizeof(struct fuse_in_header)) {
		struct fuse_in_header *h = (void *)w->rbuf;

		w->st.requests++;
		answer(w, fd, s, h, h + 1);
	}
	close(fd);
}

/* Answers a stashed request, late, perhaps on a newer connection. */
static void op_late(struct worker *w)
{
	struct rng *r = &w->rng;
	struct stashed st;
	struct fuse_in_header h = { 0 };
	union {
		struct fuse_iomap_begin_in begin;
		struct fuse_init_in init;
		unsigned char raw[128];
	} args;
	int fd, i;

	if (!w->nstash)
		return;
	i = below(r, w->nstash);
	st = w->stash[i];
	w->stash[i] = w->stash[--w->nstash];
	if (chance(r, 15))
		return;				/* never */
	fd = slot_get(&srv[st.slot]);
	if (fd < 0)
		return;
	h.opcode = st.opcode;
	h.unique = st.unique;
	h.nodeid = st.nodeid;
	memset(&args, 0, sizeof(args));
	if (st.opcode == FUSE_INIT) {
		args.init.major = 7;
		args.init.flags = FUSE_INIT_EXT;
		args.init.flags2 = (FUSE_IOMAP | FUSE_DAX_FMAP) >> 32;
	} else {
		args.begin.pos = below(r, 256) * BS;
	}
	answer(w, fd, st.slot, &h, &args);
	close(fd);
}

/* Notifications, mostly of the right size. */
static void op_notify(struct worker *w)
{
	struct rng *r = &w->rng;
	int s = below(r, NSRV), fd = slot_get(&srv[s]);
	__u64 bs = slot_blocksize(&srv[s]);
	union {
		struct fuse_iomap_upsert_mappings_out u;
		struct fuse_iomap_inval_mappings_out i;
		unsigned char raw[256];
	} m;
	size_t size;
	int code;

	if (fd < 0)
		return;
	memset(&m, 0, sizeof(m));
	if (chance(r, 55)) {
		__u64 pos = rnd_off(r, bs);

		code = FUSE_NOTIFY_IOMAP_UPSERT_MAPPINGS;
		m.u.nodeid = rnd_nodeid(r);
		m.u.read = rnd_io(r, pos, bs, 0);
		m.u.write = rnd_io(r, pos, bs, 1);
		size = sizeof(m.u);
	} else {
		code = FUSE_NOTIFY_IOMAP_INVAL_MAPPINGS;
		m.i.nodeid = rnd_nodeid(r);
		m.i.read.offset = rnd_off(r, bs);
		m.i.read.length = rnd_len(r, bs);
		if (chance(r, 50)) {
			m.i.write.offset = rnd_off(r, bs);
			m.i.write.length = rnd_len(r, bs);
		}
		size = sizeof(m.i);
	}
	mutate(r, &m, size, 10);
	if (chance(r, 5))
		size = below(r, sizeof(m));
	if (chance(r, 4))
		code = chance(r, 50) ? FUSE_NOTIFY_IOMAP_DEV_INVAL : (int)below(r, 200) - 50;
	send_msg(w, fd, 0, code, &m, size);
	close(fd);
}

/* Writes that the framing must refuse, and bad buffers. */
static void op_write(struct worker *w)
{
	struct rng *r = &w->rng;
	int s = below(r, NSRV), fd = chance(r, 90) ? slot_get(&srv[s]) :
					       slot_get(&cli[below(r, NCLI)]);
	unsigned char *end = w->buf + BUF_SIZE;
	struct fuse_out_header oh = {
		.len = sizeof(oh) + 64, .unique = 2 * below(r, 64),
	};
	size_t n;

	if (fd < 0)
		return;
	switch (below(r, 6)) {
	case 0:					/* garbage */
		n = below(r, 200);
		for (size_t i = 0; i < n; i++)
			end[-(long)n + i] = next(r);
		do_write(w, fd, end - n, n);
		break;
	case 1:					/* shorter than a header */
		do_write(w, fd, &oh, below(r, sizeof(oh)));
		break;
	case 2:					/* a bad pointer */
		record(w, write(fd, chance(r, 50) ? NULL : bad_page, 16 + below(r, 100)));
		break;
	case 3:					/* the header readable, the payload not */
		memcpy(end - sizeof(oh), &oh, sizeof(oh));
		do_write(w, fd, end - sizeof(oh), sizeof(oh) + 64);
		break;
	case 4:					/* longer than a page of payload */
		oh.len = sizeof(oh) + 4096 + 1 + below(r, 2);
		memset(w->buf, 0, oh.len);
		memcpy(w->buf, &oh, sizeof(oh));
		do_write(w, fd, w->buf, oh.len);
		break;
	default:				/* a reply to a random unique */
		memset(w->buf, 0, 64);
		send_msg(w, fd, 2 * (1 + below(r, 32)), 0, w->buf, chance(r, 50) ? 64 : below(r, 300));
	}
	close(fd);
}

/* Reads of the wrong kind: small buffers, bad buffers, client handles. */
static void op_read(struct worker *w)
{
	struct rng *r = &w->rng;
	int fd = chance(r, 85) ? slot_get(&srv[below(r, NSRV)]) : slot_get(&cli[below(r, NCLI)]);
	unsigned char *end = w->buf + BUF_SIZE;
	long n = 0;

	if (fd < 0)
		return;
	switch (below(r, 5)) {
	case 0:
		n = read(fd, w->buf, below(r, 8192));
		break;
	case 1:
		n = read(fd, chance(r, 50) ? NULL : (void *)bad_page, 8192);
		break;
	case 2:
		n = read(fd, KERNEL_PTR, 8192);
		break;
	default:
		/* The header fits, the arguments (or part of it) do not. */
		n = read(fd, end - below(r, 120), 8192);
		break;
	}
	record(w, n);
	if (n > 0)
		w->st.requests++;	/* read and lost: its caller waits */
	close(fd);
}

/*
 * An epoll set of the thread: its entries stay on a connection's wait queue
 * after the fd that added them is closed, until the file is released.
 */
static void op_epoll(struct worker *w)
{
	struct rng *r = &w->rng;
	struct epoll_event ev[8];
	int fd;

	if (w->epfd < 0 || chance(r, 5)) {
		if (w->epfd >= 0)
			close(w->epfd);
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		record(w, w->epfd);
		if (w->epfd < 0)
			return;
	}
	fd = chance(r, 80) ? slot_get(&srv[below(r, NSRV)]) : slot_get(&cli[below(r, NCLI)]);
	if (fd >= 0) {
		struct epoll_event e = {
			.events = EPOLLIN | (chance(r, 30) ? EPOLLET : 0) |
				  (chance(r, 20) ? EPOLLONESHOT : 0),
		};

		record(w, epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &e));
		close(fd);
	}
	record(w, epoll_wait(w->epfd, ev, 8, below(r, 5)));
}

static void op_poll(struct worker *w)
{
	struct rng *r = &w->rng;
	struct pollfd p[4];
	int i, n = 1 + below(r, 4);

	if (chance(r, 40)) {
		op_epoll(w);
		return;
	}

	for (i = 0; i < n; i++) {
		p[i].fd = chance(r, 70) ? slot_get(&srv[below(r, NSRV)]) :
					  slot_get(&cli[below(r, NCLI)]);
		p[i].events = chance(r, 80) ? POLLIN : POLLIN | POLLOUT | POLLERR | POLLPRI;
	}
	record(w, poll(p, n, below(r, 10)));
	for (i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
}

static void op_fcntl(struct worker *w)
{
	struct rng *r = &w->rng;
	int fd = slot_get(&srv[below(r, NSRV)]);
	int fl;

	if (fd < 0)
		return;
	fl = fcntl(fd, F_GETFL);
	/* Blocking reads are interrupted by the supervisor. */
	if (fl >= 0)
		record(w, fcntl(fd, F_SETFL, chance(r, 70) ? fl | O_NONBLOCK : fl & ~O_NONBLOCK));
	close(fd);
}

/* ---- ioctls ---- */

static const unsigned int ioctls[] = {
	FUSE_IOMAP_IOC_VERSION, FUSE_IOMAP_IOC_CONFIG, FUSE_IOMAP_IOC_ADD_DEVICE,
	FUSE_IOMAP_IOC_UPSERT, FUSE_IOMAP_IOC_INVAL, FUSE_IOMAP_IOC_LOOKUP,
	FUSE_IOMAP_IOC_DUMP, FUSE_IOMAP_IOC_FORGET, FUSE_IOMAP_IOC_BEGIN,
	FUSE_IOMAP_IOC_VALID, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, FUSE_IOMAP_IOC_FAMFS_RESOLVE,
	FUSE_IOMAP_IOC_FAMFS_INFO, FUSE_IOMAP_IOC_FAMFS_DAXDEV, FUSE_IOMAP_IOC_FAMFS_READ,
	FUSE_IOMAP_IOC_CLIENT, FUSE_IOMAP_IOC_OPEN, FUSE_IOMAP_IOC_END,
	FUSE_IOMAP_IOC_IOEND, FUSE_IOMAP_IOC_SETSIZE, FUSE_IOMAP_IOC_COUNTERS,
};
#define NR_IOCTLS	(sizeof(ioctls) / sizeof(ioctls[0]))

/* Keeps a client handle that an ioctl returned, in a random slot. */
static void keep_client(struct worker *w, int fd)
{
	if (chance(&w->rng, 10))
		close(fd);
	else
		slot_set(&cli[below(&w->rng, NCLI)], fd, 0);
}

/* Builds the argument of ioctl cmd in arg; its size. */
static size_t ioctl_arg(struct worker *w, unsigned int cmd, void *arg, __u64 bs)
{
	struct rng *r = &w->rng;
	unsigned char *end = w->buf + BUF_SIZE;
	size_t size = _IOC_SIZE(cmd);

	memset(arg, 0, 512);
	switch (cmd) {
	case FUSE_IOMAP_IOC_CONFIG: {
		struct fuse_iomap_ioc_config *c = arg;

		c->blocksize = chance(r, 70) ? BS : chance(r, 90) ? 512U << below(r, 13) : next(r);
		c->cache_maxbytes = chance(r, 50) ? 0 : chance(r, 80) ? below(r, 1 << 16) : next(r);
		c->maxbytes = chance(r, 80) ? (1LL << 40) : (long long)interesting64(r);
		break;
	}
	case FUSE_IOMAP_IOC_ADD_DEVICE: {
		struct fuse_iomap_ioc_device *d = arg;

		d->dev = chance(r, 80) ? 1 + below(r, NDEVS) : (chance(r, 50) ? 0 : next(r));
		d->size = chance(r, 80) ? DEV_SIZE : interesting64(r);
		d->reserved = chance(r, 5);
		break;
	}
	case FUSE_IOMAP_IOC_UPSERT: {
		struct fuse_iomap_upsert_mappings_out *u = arg;
		__u64 pos = rnd_off(r, bs);

		u->nodeid = rnd_nodeid(r);
		u->read = rnd_io(r, pos, bs, 0);
		u->write = rnd_io(r, pos, bs, 1);
		break;
	}
	case FUSE_IOMAP_IOC_INVAL: {
		struct fuse_iomap_inval_mappings_out *i = arg;

		i->nodeid = rnd_nodeid(r);
		i->read.offset = rnd_off(r, bs);
		i->read.length = rnd_len(r, bs);
		i->write.offset = rnd_off(r, bs);
		i->write.length = chance(r, 50) ? 0 : rnd_len(r, bs);
		break;
	}
	case FUSE_IOMAP_IOC_LOOKUP: {
		struct fuse_iomap_ioc_lookup *l = arg;

		l->nodeid = rnd_nodeid(r);
		l->offset = rnd_off(r, bs);
		l->fork = chance(r, 95) ? below(r, 2) : next(r);
		break;
	}
	case FUSE_IOMAP_IOC_DUMP: {
		struct fuse_iomap_ioc_dump *d = arg;
		__u32 room = chance(r, 90) ? below(r, 64) : next(r);

		d->nodeid = rnd_nodeid(r);
		d->fork = chance(r, 95) ? below(r, 2) : next(r);
		d->count = room;
		/* Room for 64 records before the PROT_NONE page. */
		d->records = (unsigned long)(chance(r, 95) ?
			end - 64 * sizeof(struct fuse_iomap_io) : arg_ptr(w, NULL, 0));
		break;
	}
	case FUSE_IOMAP_IOC_FORGET:
	case FUSE_IOMAP_IOC_OPEN:
		*(__u64 *)arg = rnd_nodeid(r);
		break;
	case FUSE_IOMAP_IOC_BEGIN: {
		struct fuse_iomap_ioc_begin *b = arg;

		b->nodeid = rnd_nodeid(r);
		b->in.opflags = chance(r, 50) ? 0 : chance(r, 90) ?
				(1U << below(r, 11)) | (chance(r, 30) ? FUSE_IOMAP_OP_WRITE : 0) :
				(__u32)next(r);
		if (chance(r, 5))
			b->in.opflags |= chance(r, 50) ? FUSE_IOMAP_OP_SWAPFILE : FUSE_IOMAP_OP_WRITEBACK;
		b->in.pos = rnd_off(r, bs);
		b->in.count = rnd_len(r, bs);
		b->in.reserved = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_VALID: {
		struct fuse_iomap_ioc_valid *v = arg;

		v->nodeid = rnd_nodeid(r);
		v->cookie = chance(r, 30) ? 0 : chance(r, 70) ? below(r, 64) : next(r);
		break;
	}
	case FUSE_IOMAP_IOC_FAMFS_SET_FMAP: {
		struct fuse_iomap_ioc_fmap *f = arg;
		unsigned char *fmap = end - 4096;

		f->nodeid = rnd_nodeid(r);
		f->size = rnd_fmap(r, fmap, 4096);
		f->fmap = (unsigned long)arg_ptr(w, fmap, f->size);
		if (chance(r, 3))
			f->size = chance(r, 50) ? 4097 : next(r);
		f->reserved = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_FAMFS_RESOLVE: {
		struct fuse_iomap_ioc_resolve *x = arg;

		x->nodeid = rnd_nodeid(r);
		x->offset = chance(r, 80) ? below(r, 64 * MiB) : interesting64(r);
		x->length = chance(r, 80) ? 1 + below(r, 8 * MiB) : interesting64(r);
		x->reserved = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_FAMFS_INFO: {
		struct fuse_iomap_ioc_famfs_info *i = arg;

		i->nodeid = rnd_nodeid(r);
		i->reserved = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_FAMFS_DAXDEV:
		rnd_daxdev(r, arg, below(r, 3));
		break;
	case FUSE_IOMAP_IOC_FAMFS_READ: {
		struct fuse_iomap_ioc_read *x = arg;
		/* Any length: past the buffer is the PROT_NONE page. */
		__u64 room = 1 + below(r, BUF_SIZE / 2);

		x->nodeid = rnd_nodeid(r);
		x->offset = chance(r, 85) ? below(r, 16 * MiB) : interesting64(r);
		x->length = chance(r, 90) ? below(r, room + 1) : interesting64(r);
		x->buf = (unsigned long)(chance(r, 95) ? end - room : arg_ptr(w, NULL, 0));
		break;
	}
	case FUSE_IOMAP_IOC_END: {
		struct fuse_iomap_ioc_end *e = arg;

		e->nodeid = rnd_nodeid(r);
		e->in.opflags = chance(r, 80) ? below(r, 4) : next(r);
		e->in.pos = rnd_off(r, bs);
		e->in.count = rnd_len(r, bs);
		e->in.written = chance(r, 80) ? (long long)e->in.count : (long long)next(r);
		e->in.map = rnd_io(r, e->in.pos, bs, 0);
		if (chance(r, 60))
			e->in.map.flags |= FUSE_IOMAP_F_WANT_IOMAP_END;
		e->in.reserved = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_IOEND: {
		struct fuse_iomap_ioc_ioend *i = arg;

		i->nodeid = rnd_nodeid(r);
		i->in.flags = chance(r, 90) ? below(r, 128) : next(r);
		i->in.error = chance(r, 70) ? 0 : chance(r, 80) ? -(int)below(r, 200) : (int)next(r);
		i->in.pos = rnd_off(r, bs);
		i->in.written = rnd_len(r, bs);
		i->in.new_addr = next(r);
		i->in.dev = rnd_dev(r);
		i->in.pad = chance(r, 3);
		break;
	}
	case FUSE_IOMAP_IOC_SETSIZE: {
		struct fuse_iomap_ioc_setsize *z = arg;

		z->nodeid = rnd_nodeid(r);
		z->size = chance(r, 80) ? below(r, 256 * BS) : interesting64(r);
		break;
	}
	}
	mutate(r, arg, size, 4);
	return size;
}

/* One ioctl of the ABI on fd; the request it makes may wait for a server. */
static void do_ioctl(struct worker *w, int fd, unsigned int cmd, __u64 bs)
{
	unsigned char arg[512];
	void *p;
	long ret;

	ioctl_arg(w, cmd, arg, bs);
	p = arg_ptr(w, arg, _IOC_SIZE(cmd));
	if (cmd == FUSE_IOMAP_IOC_CLIENT || _IOC_SIZE(cmd) == 0)
		p = (void *)(unsigned long)next(&w->rng);
	ret = ioctl(fd, cmd, p);
	record(w, ret);
	if (cmd == FUSE_IOMAP_IOC_CLIENT && ret >= 0)
		keep_client(w, ret);
}

static void op_ioctl(struct worker *w, int server)
{
	struct rng *r = &w->rng;
	int s = below(r, server ? NSRV : NCLI);
	int fd = slot_get(server ? &srv[s] : &cli[s]);
	__u64 bs = server ? slot_blocksize(&srv[s]) : BS;

	if (fd < 0)
		return;
	/* Clients favour the calls that reach the server. */
	if (!server && chance(r, 40)) {
		static const unsigned int upcalls[] = {
			FUSE_IOMAP_IOC_BEGIN, FUSE_IOMAP_IOC_BEGIN, FUSE_IOMAP_IOC_OPEN,
			FUSE_IOMAP_IOC_OPEN, FUSE_IOMAP_IOC_END, FUSE_IOMAP_IOC_IOEND,
			FUSE_IOMAP_IOC_FAMFS_READ,
		};

		do_ioctl(w, fd, upcalls[below(r, sizeof(upcalls) / sizeof(upcalls[0]))], bs);
	} else {
		do_ioctl(w, fd, ioctls[below(r, NR_IOCTLS)], bs);
	}
	close(fd);
}

/* An ioctl number of no meaning, or a known one of another size. */
static void op_ioctl_random(struct worker *w)
{
	struct rng *r = &w->rng;
	int fd = chance(r, 50) ? slot_get(&srv[below(r, NSRV)]) : slot_get(&cli[below(r, NCLI)]);
	unsigned char *arg = w->buf;
	unsigned int cmd;
	long ret;

	if (fd < 0)
		return;
	switch (below(r, 3)) {
	case 0:
		cmd = _IOC(below(r, 4), FUSE_IOMAP_IOC_MAGIC, 0x70 + below(r, 0x30),
			   below(r, 300));
		break;
	case 1:
		cmd = ioctls[below(r, NR_IOCTLS)] ^ (1U << (16 + below(r, 14)));
		break;
	default:
		cmd = next(r);
	}
	for (size_t i = 0; i < 512; i++)
		arg[i] = next(r);
	ret = ioctl(fd, cmd, chance(r, 80) ? (void *)arg : arg_ptr(w, arg, 8));
	record(w, ret);
	if (cmd == FUSE_IOMAP_IOC_CLIENT && ret >= 0)
		keep_client(w, ret);
	close(fd);
}

/* ---- opening and closing ---- */

static void op_open(struct worker *w)
{
	struct rng *r = &w->rng;
	int s = below(r, NSRV), fd, i;
	__u32 bs = BS;

	struct __user_cap_header_struct ch = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct cd[2];
	int rawio = chance(r, 80) || syscall(SYS_capget, &ch, cd);

	/* Without CAP_SYS_RAWIO (this thread's only), famfs is not offered. */
	if (!rawio) {
		cd[0].effective &= ~(1U << CAP_SYS_RAWIO);
		rawio = syscall(SYS_capset, &ch, cd);
	}
	fd = open(DEV_PATH, O_RDWR | O_CLOEXEC | (chance(r, 90) ? O_NONBLOCK : 0));
	record(w, fd);
	if (!rawio) {
		cd[0].effective |= 1U << CAP_SYS_RAWIO;
		syscall(SYS_capset, &ch, cd);
	}
	if (fd < 0)
		return;
	if (chance(r, 50)) {
		struct fuse_iomap_ioc_config c = {
			.blocksize = chance(r, 80) ? BS : 512U << below(r, 6),
			.cache_maxbytes = chance(r, 50) ? 0 : 256 << below(r, 12),
			.maxbytes = 1LL << 40,
		};

		if (!ioctl(fd, FUSE_IOMAP_IOC_CONFIG, &c))
			bs = c.blocksize;
	}
	for (i = 1; i <= NDEVS; i++) {
		struct fuse_iomap_ioc_device d = { .dev = i, .size = DEV_SIZE };

		if (chance(r, 85))
			record(w, ioctl(fd, FUSE_IOMAP_IOC_ADD_DEVICE, &d));
	}
	if (chance(r, 30)) {
		struct fuse_daxdev_out d;

		rnd_daxdev(r, &d, below(r, 2));
		record(w, ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &d));
	}
	/* Most connections get a client at once, and so their handshake. */
	if (chance(r, 70)) {
		int c = ioctl(fd, FUSE_IOMAP_IOC_CLIENT);

		record(w, c);
		if (c >= 0)
			slot_set(&cli[below(r, NCLI)], c, 0);
	}
	slot_set(&srv[s], fd, bs);
}

/* Many inodes or records on one connection: its bounds. */
static void op_burst(struct worker *w)
{
	struct rng *r = &w->rng;
	int fd = slot_get(&srv[below(r, NSRV)]);
	int i, n = 1000 + below(r, 4000), many_inodes = chance(r, 50);
	__u64 base = next(r) >> 16;

	if (fd < 0)
		return;
	for (i = 0; i < n && !stop; i++) {
		struct fuse_iomap_upsert_mappings_out u = {
			.nodeid = many_inodes ? base + i : 1 + below(r, 2),
			.read = {
				.offset = (many_inodes ? 0 : 2 * i) * BS, .length = BS,
				.addr = 64 * MiB + 2 * i * BS, .type = FUSE_IOMAP_TYPE_MAPPED,
				.dev = 1,
			},
			.write = { .type = FUSE_IOMAP_TYPE_NOCACHE },
		};

		record(w, ioctl(fd, FUSE_IOMAP_IOC_UPSERT, &u));
	}
	close(fd);
}

/* ---- the threads ---- */

static void one_op(struct worker *w)
{
	/* Thread 0 is mostly the server; the others do everything. */
	static const unsigned char weights[2][NR_OPS] = {
		/* open close client close-cli ioctl-s ioctl-c ioctl-r serve late notify write read poll fcntl burst */
		{ 2, 1, 2, 1, 8, 4, 1, 70, 6, 6, 2, 1, 2, 1, 0 },
		{ 3, 2, 4, 2, 20, 30, 3, 12, 2, 8, 4, 3, 4, 1, 1 },
	};
	const unsigned char *wt = weights[w->id != 0];
	struct rng *r = &w->rng;
	unsigned int total = 0, pick, i;
	enum op op = OP_IOCTL_CLI;

	for (i = 0; i < NR_OPS; i++)
		total += wt[i];
	pick = below(r, total);
	for (i = 0; i < NR_OPS; i++) {
		if (pick < wt[i]) {
			op = i;
			break;
		}
		pick -= wt[i];
	}
	if (op == OP_BURST && !chance(r, 5))
		op = OP_IOCTL_SRV;
	w->st.ops[op]++;
	/* Any call may wait for a server: interrupted at a random deadline. */
	atomic_store(&w->deadline, now_ns() + (20 + below(r, 500)) * 1000000LL);
	switch (op) {
	case OP_OPEN: op_open(w); break;
	case OP_CLOSE: slot_set(&srv[below(r, NSRV)], -1, 0); break;
	case OP_CLIENT: {
		int fd = slot_get(&srv[below(r, NSRV)]);

		if (fd >= 0) {
			do_ioctl(w, fd, FUSE_IOMAP_IOC_CLIENT, BS);
			close(fd);
		}
		break;
	}
	case OP_CLOSE_CLIENT: slot_set(&cli[below(r, NCLI)], -1, 0); break;
	case OP_IOCTL_SRV: op_ioctl(w, 1); break;
	case OP_IOCTL_CLI: op_ioctl(w, 0); break;
	case OP_IOCTL_RANDOM: op_ioctl_random(w); break;
	case OP_SERVE: op_serve(w); break;
	case OP_LATE: op_late(w); break;
	case OP_NOTIFY: op_notify(w); break;
	case OP_WRITE: op_write(w); break;
	case OP_READ: op_read(w); break;
	case OP_POLL: op_poll(w); break;
	case OP_FCNTL: op_fcntl(w); break;
	case OP_BURST: op_burst(w); break;
	default: break;
	}
	atomic_store(&w->deadline, 0);
}

/* The kernel's taint flags that a WARN, an Oops or a bad page set. */
#define TAINT_BAD_PAGE	(1UL << 5)
#define TAINT_DIE	(1UL << 7)
#define TAINT_WARN	(1UL << 9)

static unsigned long kernel_taint(void)
{
	unsigned long taint = 0;
	FILE *f = fopen("/proc/sys/kernel/tainted", "r");

	if (f) {
		if (fscanf(f, "%lu", &taint) != 1)
			taint = 0;
		fclose(f);
	}
	return taint;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	while (!atomic_load(&stop))
		one_op(w);
	atomic_store(&w->finished, true);
	return NULL;
}

static struct worker workers[NTHREADS];
static atomic_int supervising = 1;
static atomic_ulong interrupts;

/* Interrupts every thread whose call outlived its deadline, until it returns. */
static void *supervisor_main(void *arg)
{
	while (atomic_load(&supervising)) {
		long long t = now_ns();
		int i;

		for (i = 0; i < NTHREADS; i++) {
			long long d = atomic_load(&workers[i].deadline);

			if (d && t > d) {
				pthread_kill(workers[i].thread, SIGUSR1);
				atomic_fetch_add(&interrupts, 1);
			}
		}
		usleep(5000);
	}
	return NULL;
}

static void on_usr1(int sig)
{
}

static char watchdog_msg[256];

static void on_alarm(int sig)
{
	ssize_t n = write(STDOUT_FILENO, watchdog_msg, strlen(watchdog_msg));

	(void)n;
	_exit(KSFT_FAIL);
}

/* After the storm: a fresh connection still does its handshake and a call. */
static int still_works(void)
{
	struct fuse_init_out init = {
		.major = 7, .minor = 41, .flags = FUSE_INIT_EXT, .flags2 = FUSE_IOMAP >> 32,
	};
	struct fuse_iomap_config_out config = { 0 };
	struct fuse_iomap_upsert_mappings_out u = {
		.nodeid = 1,
		.read = { .offset = 0, .length = BS, .addr = 0, .type = FUSE_IOMAP_TYPE_MAPPED, .dev = 1 },
		.write = { .type = FUSE_IOMAP_TYPE_NOCACHE },
	};
	struct fuse_iomap_ioc_device d = { .dev = 1, .size = DEV_SIZE };
	struct fuse_iomap_ioc_begin b = { .nodeid = 1, .in = { .pos = 100, .count = BS } };
	struct {
		struct fuse_out_header h;
		union {
			struct fuse_init_out init;
			struct fuse_iomap_config_out config;
		};
	} msg;
	unsigned char buf[8192];
	struct fuse_in_header *h = (void *)buf;
	struct pollfd p;
	__u32 version = 0;
	int srvfd, clifd, ret = -1, i;

	srvfd = open(DEV_PATH, O_RDWR | O_CLOEXEC);
	if (srvfd < 0)
		return -1;
	if (ioctl(srvfd, FUSE_IOMAP_IOC_VERSION, &version) || version != FUSE_IOMAP_ABI_VERSION ||
	    ioctl(srvfd, FUSE_IOMAP_IOC_ADD_DEVICE, &d))
		goto out;
	clifd = ioctl(srvfd, FUSE_IOMAP_IOC_CLIENT);
	if (clifd < 0)
		goto out;
	for (i = 0; i < 2; i++) {
		p.fd = srvfd;
		p.events = POLLIN;
		if (poll(&p, 1, 5000) != 1 || read(srvfd, buf, sizeof(buf)) < (long)sizeof(*h))
			goto out_cli;
		memset(&msg, 0, sizeof(msg));
		msg.h.unique = h->unique;
		if (h->opcode == FUSE_INIT)
			msg.init = init;
		else if (h->opcode == FUSE_IOMAP_CONFIG)
			msg.config = config;
		else
			goto out_cli;
		msg.h.len = sizeof(msg);
		if (write(srvfd, &msg, sizeof(msg)) != sizeof(msg))
			goto out_cli;
	}
	if (ioctl(srvfd, FUSE_IOMAP_IOC_UPSERT, &u) || ioctl(clifd, FUSE_IOMAP_IOC_BEGIN, &b) ||
	    b.source != FUSE_IOMAP_SOURCE_CACHE)
		goto out_cli;
	ret = 0;
out_cli:
	close(clifd);
out:
	close(srvfd);
	return ret;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_usr1 };	/* no SA_RESTART */
	struct sigaction al = { .sa_handler = on_alarm };
	struct stats sum = { 0 };
	pthread_t supervisor;
	const char *env;
	char line[1024];
	size_t len;
	int i, e, dead = 0;
	unsigned long taint;

	seed = DEFAULT_SEED;
	env = getenv("FUSE_IOMAP_FUZZ_SEED");
	if (argc > 1)
		seed = strtoull(argv[1], NULL, 0);
	else if (env && *env)
		seed = strtoull(env, NULL, 0);
	env = getenv("FUSE_IOMAP_FUZZ_SECONDS");
	seconds = env && *env ? atoi(env) : DEFAULT_SECONDS;
	if (seconds <= 0)
		seconds = DEFAULT_SECONDS;

	ksft_print_header();
	ksft_set_plan(1);
	ksft_print_msg("seed %llu, %d s, %d threads, %d connections, %d client handles\n",
		       (unsigned long long)seed, seconds, NTHREADS, NSRV, NCLI);
	ksft_print_msg("replay: FUSE_IOMAP_FUZZ_SEED=%llu FUSE_IOMAP_FUZZ_SECONDS=%d %s\n",
		       (unsigned long long)seed, seconds, argv[0]);
	if (access(DEV_PATH, R_OK | W_OK))
		ksft_exit_skip("%s: %s (is the module loaded?)\n", DEV_PATH, strerror(errno));

	snprintf(watchdog_msg, sizeof(watchdog_msg),
		 "# watchdog: still running %d s past the end, seed %llu\n"
		 "not ok 1 fuse_iomap_fuzz seed %llu: hung\n",
		 MARGIN_SECONDS, (unsigned long long)seed, (unsigned long long)seed);
	sigaction(SIGALRM, &al, NULL);
	alarm(seconds + MARGIN_SECONDS);
	sigaction(SIGUSR1, &sa, NULL);
	/* A write to a dead client handle must not kill us. */
	signal(SIGPIPE, SIG_IGN);

	bad_page = mmap(NULL, PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (bad_page == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
	for (i = 0; i < NSRV; i++) {
		pthread_mutex_init(&srv[i].lock, NULL);
		srv[i].fd = -1;
	}
	for (i = 0; i < NCLI; i++) {
		pthread_mutex_init(&cli[i].lock, NULL);
		cli[i].fd = -1;
	}
	for (i = 0; i < NTHREADS; i++) {
		struct worker *w = &workers[i];
		__u64 x = seed + i;
		unsigned char *m = mmap(NULL, BUF_SIZE + PAGE + READ_SIZE, PROT_READ | PROT_WRITE,
					MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (m == MAP_FAILED || mprotect(m + BUF_SIZE, PAGE, PROT_NONE))
			ksft_exit_fail_msg("mmap: %s\n", strerror(errno));
		w->id = i;
		w->buf = m;
		w->rbuf = m + BUF_SIZE + PAGE;
		w->rng.s = splitmix64(&x) | 1;
		w->epfd = -1;
		atomic_init(&w->deadline, 0);
		atomic_init(&w->finished, false);
	}
	for (i = 0; i < NTHREADS; i++)
		if (pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]))
			ksft_exit_fail_msg("pthread_create failed\n");
	pthread_create(&supervisor, NULL, supervisor_main, NULL);

	taint = kernel_taint();
	sleep(seconds);
	atomic_store(&stop, 1);
	for (i = 0; i < NTHREADS; i++)
		pthread_join(workers[i].thread, NULL);
	/*
	 * An Oops kills the thread in the system call, not the process; a WARN
	 * or an Oops also taints the kernel. Either fails the run here, and not
	 * only in the harness's dmesg check.
	 */
	for (i = 0; i < NTHREADS; i++)
		if (!atomic_load(&workers[i].finished))
			dead++;
	taint = kernel_taint() & ~taint & (TAINT_DIE | TAINT_WARN | TAINT_BAD_PAGE);
	atomic_store(&supervising, 0);
	pthread_join(supervisor, NULL);
	for (i = 0; i < NTHREADS; i++)
		if (workers[i].epfd >= 0)
			close(workers[i].epfd);
	for (i = 0; i < NCLI; i++)
		slot_set(&cli[i], -1, 0);
	for (i = 0; i < NSRV; i++)
		slot_set(&srv[i], -1, 0);

	for (i = 0; i < NTHREADS; i++) {
		struct stats *st = &workers[i].st;
		int k;

		for (k = 0; k < NR_OPS; k++)
			sum.ops[k] += st->ops[k];
		for (k = 0; k <= NR_ERRNO; k++)
			sum.err[k] += st->err[k];
		sum.calls += st->calls;
		sum.replies += st->replies;
		sum.requests += st->requests;
	}
	len = 0;
	for (i = 0; i < NR_OPS; i++)
		len += snprintf(line + len, sizeof(line) - len, " %s %lu", op_names[i], sum.ops[i]);
	ksft_print_msg("ops:%s\n", line);
	len = 0;
	for (e = 0; e <= NR_ERRNO; e++) {
		if (!sum.err[e])
			continue;
		len += snprintf(line + len, sizeof(line) - len, " %s %lu",
				e == 0 ? "ok" : e == NR_ERRNO ? "other" : strerrorname_np(e) ?: "?",
				sum.err[e]);
		if (len >= sizeof(line))
			break;
	}
	ksft_print_msg("results of %lu calls:%s\n", sum.calls, line);
	ksft_print_msg("%lu requests read, %lu answered (some badly), %lu interrupts sent\n",
		       sum.requests, sum.replies, atomic_load(&interrupts));
	{
		const struct fuse_iomap_counters *k = &kernel_sum;

		ksft_print_msg("kernel: upcalls init %llu config %llu begin %llu end %llu ioend %llu "
			       "get_fmap %llu get_daxdev %llu; interrupted %llu; cache hits %llu "
			       "misses %llu retries %llu\n",
			       k->upcalls[0], k->upcalls[1], k->upcalls[2], k->upcalls[3],
			       k->upcalls[4], k->upcalls[5], k->upcalls[6], k->interrupted,
			       k->cache_hits, k->cache_misses, k->retries);
		ksft_print_msg("kernel: rejected header %llu unique %llu size %llu notify %llu "
			       "mapping %llu fmap %llu daxdev %llu init %llu\n",
			       k->rejected[0], k->rejected[1], k->rejected[2], k->rejected[3],
			       k->rejected[4], k->rejected[5], k->rejected[6], k->rejected[7]);
	}

	if (dead || taint) {
		ksft_test_result_fail("fuse_iomap_fuzz seed %llu: %d worker(s) died in the kernel, "
				      "new taint 0x%lx (see dmesg)\n",
				      (unsigned long long)seed, dead, taint);
		ksft_exit_fail();
	}
	if (still_works()) {
		ksft_test_result_fail("fuse_iomap_fuzz seed %llu: a fresh connection fails after the run\n",
				      (unsigned long long)seed);
		ksft_exit_fail();
	}
	alarm(0);
	ksft_test_result_pass("fuse_iomap_fuzz seed %llu: %lu ops in %d s\n",
			      (unsigned long long)seed, sum.calls, seconds);
	ksft_exit_pass();
}
