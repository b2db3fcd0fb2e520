// SPDX-License-Identifier: GPL-2.0
/*
 * Sequential read bandwidth of a striped famfs file on a fuse_iomap mount,
 * through mmap and through read(), against a mapping of the raw pmem
 * device (whose pages, once in its page cache, are plain RAM: the physical
 * limit of a copy on this machine), and the cost of DAX faults through the
 * fmap, PTE and PMD, against the first touch of the raw device's cached
 * pages (which a fault maps 16 at a time); in
 * one run, as medians of several rounds. Not a test: `make run` runs it
 * in the VM (under TCG the absolute numbers are an emulator's; the ratios
 * are the point).
 *
 *   fuse_iomap_famfs_mount_bench FILE DEVICE MiB
 *   fuse_iomap_famfs_mount_bench --faults FILE
 *
 * FILE is a famfs file of at least MiB MiB (it is overwritten), DEVICE the
 * pmem device of at least as many; each round copies MiB MiB out, 2 MiB
 * at a time, into one buffer. With --faults, it only measures the latency
 * of a DAX fault on FILE, PTE and PMD, and prints "pte US pmd US": the
 * demo runs it on mounts whose iomap_begin is answered by the fmap, the
 * BPF program or the server, and compares them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MiB	(1UL << 20)
#define CHUNK	(2 * MiB)
#define ROUNDS	7

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "fuse_iomap_famfs_mount_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_double);
	return v[ROUNDS / 2];
}

static unsigned char buf[CHUNK] __attribute__((aligned(4096)));

/* Copies size bytes from p, 2 MiB at a time: seconds. */
static double copy_from(const unsigned char *p, size_t size)
{
	double t = now();
	size_t off;

	for (off = 0; off < size; off += CHUNK) {
		memcpy(buf, p + off, CHUNK);
		__asm__ volatile("" : : "r"(buf) : "memory");
	}
	return now() - t;
}

static unsigned char *map(int fd, size_t size)
{
	unsigned char *p = mmap(NULL, size, PROT_READ, MAP_SHARED | MAP_POPULATE, fd, 0);

	if (p == MAP_FAILED)
		die("mmap");
	return p;
}

/* Maps size bytes of fd, copies them, unmaps: seconds, faults included. */
static double mapped_copy(int fd, size_t size)
{
	double t = now();
	unsigned char *p;

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	copy_from(p, size);
	munmap(p, size);
	return now() - t;
}

static double read_copy(int fd, size_t size)
{
	double t = now();
	size_t off;

	for (off = 0; off < size; off += CHUNK)
		if (pread(fd, buf, CHUNK, off) != CHUNK)
			die("pread");
	return now() - t;
}

/*
 * Maps size bytes of fd and touches one byte of every page, with huge
 * pages allowed or not: seconds per page.
 */
static double touch_cost(int fd, size_t size, int huge)
{
	volatile unsigned char *p;
	double t;
	size_t off;

	p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	if (madvise((void *)p, size, huge ? MADV_HUGEPAGE : MADV_NOHUGEPAGE))
		die("madvise");
	t = now();
	for (off = 0; off < size; off += 4096)
		(void)p[off];
	t = now() - t;
	munmap((void *)p, size);
	return t / (size / 4096);
}

/*
 * Maps the whole of fd, size bytes, and touches one byte of every page,
 * with huge pages or not, reps times: seconds per fault (one a page, or
 * one per 2 MiB).
 */
static double fault_cost(int fd, size_t size, int huge, int reps)
{
	double t = 0;
	int r;

	for (r = 0; r < reps; r++)
		t += touch_cost(fd, size, huge) * (size / 4096);
	return t / reps / (size / (huge ? CHUNK : 4096));
}

/* --faults: the median latency of PTE and PMD faults on path. */
static int faults(const char *path)
{
	double pte[ROUNDS], pmd[ROUNDS];
	size_t size;
	int fd, i;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path);
	size = lseek(fd, 0, SEEK_END) / CHUNK * CHUNK;
	if (!size)
		return fprintf(stderr, "fuse_iomap_famfs_mount_bench: %s: under 2 MiB\n", path), 2;
	/*
	 * PMD faults first: they leave PMD entries in the file's mapping,
	 * which later PTE faults map a page at a time. PTE faults first would
	 * leave PTE entries, and every later PMD fault would fall back.
	 */
	fault_cost(fd, size, 1, 1);
	for (i = 0; i < ROUNDS; i++) {
		pmd[i] = fault_cost(fd, size, 1, 64);
		pte[i] = fault_cost(fd, size, 0, 1);
	}
	printf("pte %.3f pmd %.3f\n", median(pte) * 1e6, median(pmd) * 1e6);
	close(fd);
	return 0;
}

static void bandwidth(const char *what, double *rounds, size_t size, double limit)
{
	double v = size / median(rounds) / MiB;

	printf("  %-54s %7.0f MiB/s  %.2f\n", what, v, limit ? v / limit : 1.0);
}

static void cost(const char *what, double *rounds, double base)
{
	double v = median(rounds);

	printf("  %-54s %7.3f us     %.2f\n", what, v * 1e6, base ? v / base : 1.0);
}

int main(int argc, char **argv)
{
	double raw[ROUNDS], warm[ROUNDS], fresh[ROUNDS], rd[ROUNDS];
	double raw_pte[ROUNDS], pte[ROUNDS], pmd[ROUNDS];
	unsigned char *raw_map, *file_map;
	size_t size, off;
	int file, dev, i;

	if (argc == 3 && !strcmp(argv[1], "--faults"))
		return faults(argv[2]);
	if (argc != 4 || !(size = strtoul(argv[3], NULL, 0) * MiB) || size % CHUNK)
		return fprintf(stderr, "usage: fuse_iomap_famfs_mount_bench FILE DEVICE MiB (even)\n"
				       "       fuse_iomap_famfs_mount_bench --faults FILE\n"), 2;
	file = open(argv[1], O_RDWR);
	if (file < 0)
		die(argv[1]);
	dev = open(argv[2], O_RDONLY);
	if (dev < 0)
		die(argv[2]);
	srandom(1);
	for (off = 0; off < CHUNK; off++)
		buf[off] = random();
	for (off = 0; off < size; off += CHUNK)
		if (pwrite(file, buf, CHUNK, off) != CHUNK)
			die("writing the file");
	if (fsync(file))
		die("fsync");
	/* Mapped once, every page in place: what is left is the copy. */
	raw_map = map(dev, size);
	file_map = map(file, size);
	copy_from(raw_map, size);
	copy_from(file_map, size);

	for (i = 0; i < ROUNDS; i++) {
		raw[i] = copy_from(raw_map, size);
		warm[i] = copy_from(file_map, size);
		fresh[i] = mapped_copy(file, size);
		rd[i] = read_copy(file, size);
		raw_pte[i] = touch_cost(dev, size, 0);
		pte[i] = touch_cost(file, size, 0);
		pmd[i] = touch_cost(file, size, 1);
	}
	printf("famfs on the mount, %zu MiB striped file, median of %d rounds;\n", size / MiB, ROUNDS);
	printf("sequential copy out, 2 MiB at a time, and its ratio to the first:\n");
	bandwidth("raw device, mapped once (its page cache: RAM)", raw, size, 0);
	bandwidth("famfs file, mapped once (DAX, mapped by PMDs)", warm, size,
		  size / median(raw) / MiB);
	bandwidth("famfs file, mapped afresh (DAX faults included)", fresh, size,
		  size / median(raw) / MiB);
	bandwidth("famfs file, read() (dax_iomap_rw, machine-check safe)", rd, size,
		  size / median(raw) / MiB);
	printf("first touch of each 4 KiB page of a fresh mapping, and its ratio to the first:\n");
	cost("raw device, page cache (faults map 16 pages)", raw_pte, 0);
	cost("famfs file, no huge pages (a DAX PTE fault a page)", pte, median(raw_pte));
	cost("famfs file, huge pages (a DAX PMD fault per 2 MiB)", pmd, median(raw_pte));
	munmap(file_map, size);
	munmap(raw_map, size);
	close(dev);
	close(file);
	return 0;
}
