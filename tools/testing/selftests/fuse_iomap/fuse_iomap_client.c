// SPDX-License-Identifier: GPL-2.0
/*
 * The client side of samples/fuse_iomap_server: run by the server with a
 * client handle in FUSE_IOMAP_CLIENT_FD, it plays the VFS and checks what
 * the kernel answers. One line per check, "ok" or "FAIL"; the exit status
 * is 0 only if every check passed.
 *
 *   fuse_iomap_client famfs FILES          open and read nodeids 1..FILES,
 *                                          compare with the server's data
 *   fuse_iomap_client disk BLOCKS EXTENTS  map every block twice: EXTENTS
 *                                          upcalls, then none
 *   fuse_iomap_client famfs-map FILES BEGINS
 *                                          open nodeids 1..FILES, map them
 *                                          with iomap_begin and read the
 *                                          mappings from /dev/pmem0: BEGINS
 *                                          IOMAP_BEGIN upcalls in all
 *   fuse_iomap_client open ERRNO           open nodeid 1: fails with ERRNO
 *   fuse_iomap_client begin ERRNO          map block 0: fails with ERRNO
 *                                          (EINTR: after a 1 s alarm)
 *   fuse_iomap_client bench BLOCKS         time iomap_begin: by upcall and
 *                                          by cache hit (nodeid 2), by the
 *                                          BPF program (nodeid 1)
 *   fuse_iomap_client counters             print the counters
 *
 * Every mode but counters prints the counters at the end.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#define BS	4096ULL

static int cli;
static int failures;

static void check(int ok, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("%s ", ok ? "ok" : "FAIL");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	failures += !ok;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct fuse_iomap_counters counters(void)
{
	struct fuse_iomap_counters c = { 0 };

	if (ioctl(cli, FUSE_IOMAP_IOC_COUNTERS, &c))
		check(0, "FUSE_IOMAP_IOC_COUNTERS: %s", strerror(errno));
	return c;
}

static void print_counters(void)
{
	static const char *const upcalls[] = {
		"INIT", "IOMAP_CONFIG", "IOMAP_BEGIN", "IOMAP_END", "IOMAP_IOEND",
		"GET_FMAP", "GET_DAXDEV",
	};
	static const char *const rejects[] = {
		"header", "unique", "size", "notify", "mapping", "fmap", "daxdev", "init",
	};
	struct fuse_iomap_counters c = counters();
	unsigned int i;

	printf("counters: cache hits %llu, misses %llu, BPF answers %llu, retries %llu, interrupted %llu\n",
	       c.cache_hits, c.cache_misses, c.bpf_answers, c.retries, c.interrupted);
	printf("counters: upcalls");
	for (i = 0; i < sizeof(upcalls) / sizeof(upcalls[0]); i++)
		printf(" %s %llu", upcalls[i], c.upcalls[i]);
	printf("\ncounters: rejected");
	for (i = 0; i < sizeof(rejects) / sizeof(rejects[0]); i++)
		printf(" %s %llu", rejects[i], c.rejected[i]);
	printf("\n");
}

/* The server's data: see word() in samples/fuse_iomap_server/src/famfs.rs. */
static unsigned long long word(unsigned long long nodeid, unsigned long long off)
{
	unsigned long long z = (nodeid << 48 ^ off) + 0x9e3779b97f4a7c15ULL;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int begin_node(__u64 nodeid, __u64 pos, struct fuse_iomap_ioc_begin *b)
{
	memset(b, 0, sizeof(*b));
	b->nodeid = nodeid;
	b->in.pos = pos;
	b->in.count = BS;
	return ioctl(cli, FUSE_IOMAP_IOC_BEGIN, b) ? errno : 0;
}

static int begin(__u64 pos, struct fuse_iomap_ioc_begin *b)
{
	return begin_node(1, pos, b);
}

static void famfs(int files)
{
	unsigned long long total = 0;
	double elapsed = 0;
	int f;

	for (f = 1; f <= files; f++) {
		struct fuse_iomap_ioc_famfs_info info = { .nodeid = f };
		struct fuse_iomap_ioc_read rd = { .nodeid = f };
		unsigned long long *data, i, bad = 0;
		__u64 nodeid = f;
		double t;

		if (ioctl(cli, FUSE_IOMAP_IOC_OPEN, &nodeid) ||
		    ioctl(cli, FUSE_IOMAP_IOC_FAMFS_INFO, &info)) {
			check(0, "open nodeid %d: %s", f, strerror(errno));
			continue;
		}
		data = malloc(info.file_size);
		rd.length = info.file_size;
		rd.buf = (unsigned long)data;
		t = now();
		if (!data || ioctl(cli, FUSE_IOMAP_IOC_FAMFS_READ, &rd) != (long)info.file_size) {
			check(0, "read nodeid %d: %s", f, strerror(errno));
			free(data);
			continue;
		}
		elapsed += now() - t;
		total += info.file_size;
		for (i = 0; i < info.file_size / 8; i++)
			bad += data[i] != word(f, i * 8);
		check(!bad, "nodeid %d: %llu MiB, %s, %u extent(s) on daxdevs %#x: %llu bad words",
		      f, info.file_size >> 20,
		      info.ext_type == FUSE_FAMFS_EXT_INTERLEAVE ? "interleaved" : "simple",
		      info.nextents, info.devices, bad);
		free(data);
	}
	if (elapsed > 0)
		printf("read %llu MiB through the kernel in %.3f s: %.0f MiB/s\n",
		       total >> 20, elapsed, (total >> 20) / elapsed);
}

static void disk(unsigned long long blocks, unsigned long long extents)
{
	struct fuse_iomap_counters before, after;
	struct fuse_iomap_ioc_begin b;
	unsigned long long i, errors, cached, hits, misses, upcalls;
	int pass;

	for (pass = 1; pass <= 2; pass++) {
		errors = cached = 0;
		before = counters();
		for (i = 0; i < blocks; i++) {
			errors += begin(i * BS, &b) ||
				  b.out.read.offset > i * BS ||
				  b.out.read.offset + b.out.read.length <= i * BS;
			cached += b.source == FUSE_IOMAP_SOURCE_CACHE && !b.retries;
		}
		after = counters();
		hits = after.cache_hits - before.cache_hits;
		misses = after.cache_misses - before.cache_misses;
		upcalls = after.upcalls[FUSE_IOMAP_UPCALL_BEGIN] - before.upcalls[FUSE_IOMAP_UPCALL_BEGIN];
		check(!errors, "pass %d: %llu blocks mapped, %llu errors", pass, blocks, errors);
		check(upcalls == (pass == 1 ? extents : 0),
		      "pass %d: %llu IOMAP_BEGIN upcalls, %llu expected", pass, upcalls,
		      pass == 1 ? extents : 0);
		/* Every iomap_begin is counted once, as a hit or a miss. */
		check(hits + misses == blocks, "pass %d: %llu cache hits and %llu misses, %llu in all expected",
		      pass, hits, misses, blocks);
		check(hits == cached, "pass %d: %llu cache hits counted, %llu answers from the cache",
		      pass, hits, cached);
		/* The first pass cached every extent: the second only hits. */
		if (pass == 2)
			check(cached == blocks && misses == 0,
			      "pass 2: %llu of %llu blocks answered by the cache, %llu misses",
			      cached, blocks, misses);
	}
}

/* Reads files 1..files as a DAX read would: mapping by mapping. */
static void famfs_map(int files, unsigned long long begins)
{
	struct fuse_iomap_counters before = counters(), after;
	static unsigned long long buf[(2 << 20) / 8];
	int f, pmem = open("/dev/pmem0", O_RDONLY | O_CLOEXEC);

	if (pmem < 0) {
		check(0, "/dev/pmem0: %s", strerror(errno));
		return;
	}
	for (f = 1; f <= files; f++) {
		struct fuse_iomap_ioc_famfs_info info = { .nodeid = f };
		unsigned long long pos = 0, bad = 0, maps = 0, i;
		struct fuse_iomap_ioc_begin b;
		__u64 nodeid = f;

		if (ioctl(cli, FUSE_IOMAP_IOC_OPEN, &nodeid) ||
		    ioctl(cli, FUSE_IOMAP_IOC_FAMFS_INFO, &info)) {
			check(0, "open nodeid %d: %s", f, strerror(errno));
			continue;
		}
		while (pos < info.file_size) {
			struct fuse_iomap_io *m = &b.out.read;
			unsigned long long n;

			if (begin_node(f, pos, &b) || m->offset > pos || m->offset + m->length <= pos) {
				bad++;
				break;
			}
			n = m->offset + m->length - pos;
			if (n > info.file_size - pos)
				n = info.file_size - pos;
			if (n > sizeof(buf))
				n = sizeof(buf);
			if (pread(pmem, buf, n, m->addr + pos - m->offset) != (ssize_t)n) {
				bad++;
				break;
			}
			for (i = 0; i < n / 8; i++)
				bad += buf[i] != word(f, pos + i * 8);
			pos += n;
			maps++;
		}
		check(!bad, "nodeid %d: %llu MiB read through %llu mappings: %llu bad words",
		      f, info.file_size >> 20, maps, bad);
	}
	close(pmem);
	after = counters();
	check(after.upcalls[FUSE_IOMAP_UPCALL_BEGIN] - before.upcalls[FUSE_IOMAP_UPCALL_BEGIN] == begins,
	      "%llu IOMAP_BEGIN upcalls, %llu expected",
	      after.upcalls[FUSE_IOMAP_UPCALL_BEGIN] - before.upcalls[FUSE_IOMAP_UPCALL_BEGIN], begins);
}

static void on_alarm(int sig)
{
}

static int errno_of(const char *name)
{
	static const struct { const char *name; int errno_; } names[] = {
		{ "0", 0 }, { "EINTR", EINTR }, { "EINVAL", EINVAL }, { "ENOTCONN", ENOTCONN },
		{ "EFSCORRUPTED", EUCLEAN }, { "ENOENT", ENOENT }, { "EIO", EIO },
	};
	unsigned int i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(names[i].name, name))
			return names[i].errno_;
	fprintf(stderr, "unknown errno %s\n", name);
	exit(2);
}

/* Runs one request that should fail with want (0: succeed). */
static void expect(const char *what, int want)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct fuse_iomap_ioc_begin b;
	__u64 nodeid = 1;
	int got;

	sigaction(SIGALRM, &sa, NULL);
	if (want == EINTR)
		alarm(1);
	if (!strcmp(what, "open"))
		got = ioctl(cli, FUSE_IOMAP_IOC_OPEN, &nodeid) ? errno : 0;
	else
		got = begin(0, &b);
	alarm(0);
	check(got == want, "%s: %s, %s expected", what, strerror(got), strerror(want));
}

/*
 * Seconds per iomap_begin over blocks blocks of nodeid, each answered from
 * source; < 0 on an error or an answer from elsewhere.
 */
static double time_begins(__u64 nodeid, unsigned long long blocks, __u32 source)
{
	static const char *const sources[] = {
		[FUSE_IOMAP_SOURCE_CACHE] = "the cache",
		[FUSE_IOMAP_SOURCE_BPF] = "BPF",
		[FUSE_IOMAP_SOURCE_UPCALL] = "an upcall",
	};
	struct fuse_iomap_ioc_begin b;
	unsigned long long i, elsewhere = 0;
	double start = now(), elapsed;

	for (i = 0; i < blocks; i++) {
		if (begin_node(nodeid, i * BS, &b)) {
			check(0, "bench: nodeid %llu, block %llu: %s", (unsigned long long)nodeid,
			      i, strerror(errno));
			return -1;
		}
		elsewhere += b.source != source || b.retries;
	}
	elapsed = now() - start;
	check(!elsewhere, "bench: nodeid %llu, %llu blocks: %llu not answered by %s",
	      (unsigned long long)nodeid, blocks, elsewhere, sources[source]);
	return elsewhere ? -1 : elapsed / blocks;
}

/*
 * Nodeid 2 twice, by upcall (the server upserts each block's extent) then
 * by the cache; nodeid 1 by the BPF program if one answers for it (the
 * server's first answer to an upcall for it, else).
 */
static void bench(unsigned long long blocks)
{
	struct fuse_iomap_ioc_begin b;
	double upcall, hit, bpf;

	if (begin_node(1, 0, &b)) {
		check(0, "bench: nodeid 1: %s", strerror(errno));
		return;
	}
	upcall = time_begins(2, blocks, FUSE_IOMAP_SOURCE_UPCALL);
	hit = time_begins(2, blocks, FUSE_IOMAP_SOURCE_CACHE);
	if (upcall < 0 || hit < 0)
		return;
	printf("iomap_begin answered by an upcall: %.2f us, by a cache hit: %.2f us; upcall/hit = %.1f\n",
	       upcall * 1e6, hit * 1e6, upcall / hit);
	if (b.source != FUSE_IOMAP_SOURCE_BPF)
		return;
	bpf = time_begins(1, blocks, FUSE_IOMAP_SOURCE_BPF);
	if (bpf >= 0)
		printf("iomap_begin answered by the BPF program: %.2f us; BPF/hit = %.2f, upcall/BPF = %.1f\n",
		       bpf * 1e6, bpf / hit, upcall / bpf);
}

int main(int argc, char **argv)
{
	const char *fd = getenv("FUSE_IOMAP_CLIENT_FD");

	if (!fd || argc < 2) {
		fprintf(stderr, "usage: run by fuse-iomap-server, with a mode (see the source)\n");
		return 2;
	}
	cli = atoi(fd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "famfs") && argc == 3)
		famfs(atoi(argv[2]));
	else if (!strcmp(argv[1], "disk") && argc == 4)
		disk(strtoull(argv[2], NULL, 0), strtoull(argv[3], NULL, 0));
	else if ((!strcmp(argv[1], "open") || !strcmp(argv[1], "begin")) && argc == 3)
		expect(argv[1], errno_of(argv[2]));
	else if (!strcmp(argv[1], "famfs-map") && argc == 4)
		famfs_map(atoi(argv[2]), strtoull(argv[3], NULL, 0));
	else if (!strcmp(argv[1], "bench") && argc == 3)
		bench(strtoull(argv[2], NULL, 0));
	else if (strcmp(argv[1], "counters")) {
		fprintf(stderr, "unknown mode %s\n", argv[1]);
		return 2;
	}
	print_counters();
	return failures ? 1 : 0;
}
