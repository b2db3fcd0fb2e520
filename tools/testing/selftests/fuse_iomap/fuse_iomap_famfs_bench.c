// SPDX-License-Identifier: GPL-2.0
/*
 * Read bandwidth of a striped famfs file through the module's fmap and DAX
 * path, against an O_DIRECT read of the same pmem bytes through the block
 * device and a plain memcpy of as many bytes in RAM, in one run. Not a
 * test: `make run` runs it in the VM (under TCG the absolute numbers are
 * an emulator's; the ratios are the point).
 *
 *   fuse_iomap_famfs_bench [MiB]        (default 64, a multiple of 8)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

#define MiB	(1ULL << 20)
#define ROUNDS	8
#define STRIPS	4

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "fuse_iomap_famfs_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned long long size = (argc > 1 ? strtoull(argv[1], NULL, 0) : 64) * MiB;
	unsigned long long strip = size / STRIPS, c;
	struct {
		struct fuse_famfs_fmap_header h;
		struct fuse_famfs_iext g;
		struct fuse_famfs_simple_ext s[STRIPS];
	} fmap = {
		.h = { .fmap_version = FAMFS_FMAP_VERSION, .ext_type = FUSE_FAMFS_EXT_INTERLEAVE,
		       .nextents = 1, .file_size = size },
		.g = { .ie_nstrips = STRIPS, .ie_chunk_size = 2 * MiB, .ie_nbytes = size },
	};
	struct fuse_iomap_ioc_fmap set = { .nodeid = 1, .fmap = (unsigned long)&fmap, .size = sizeof(fmap) };
	struct fuse_iomap_ioc_read rd = { .nodeid = 1, .length = size };
	struct fuse_daxdev_out dax = { .index = 0, .name = "/dev/pmem0" };
	unsigned char *dev, *buf, *expect;
	double t, famfs, direct, ram;
	int fd, pmem, pmem_direct, i;

	if (size == 0 || size % (8 * MiB))
		return fprintf(stderr, "usage: fuse_iomap_famfs_bench [MiB, a multiple of 8]\n"), 2;
	for (i = 0; i < STRIPS; i++)
		fmap.s[i] = (struct fuse_famfs_simple_ext){ .se_devindex = 0, .se_offset = i * strip,
							    .se_len = strip };
	if (posix_memalign((void **)&dev, 4096, size) || posix_memalign((void **)&buf, 4096, size) ||
	    !(expect = malloc(size)))
		die("memory");

	/* The server writes the file's strips to the device. */
	pmem = open("/dev/pmem0", O_RDWR);
	if (pmem < 0)
		die("/dev/pmem0");
	srandom(1);
	for (c = 0; c < size; c++)
		dev[c] = random();
	if (pwrite(pmem, dev, size, 0) != (ssize_t)size || fsync(pmem))
		die("writing /dev/pmem0");
	for (c = 0; c < size / (2 * MiB); c++)
		memcpy(expect + c * 2 * MiB, dev + (c % STRIPS) * strip + (c / STRIPS) * 2 * MiB, 2 * MiB);

	fd = open("/dev/" FUSE_IOMAP_DEV_NAME, O_RDWR);
	if (fd < 0 || ioctl(fd, FUSE_IOMAP_IOC_FAMFS_DAXDEV, &dax) ||
	    ioctl(fd, FUSE_IOMAP_IOC_FAMFS_SET_FMAP, &set))
		die("setting up the famfs file");
	rd.buf = (unsigned long)buf;

	t = now();
	for (i = 0; i < ROUNDS; i++)
		if (ioctl(fd, FUSE_IOMAP_IOC_FAMFS_READ, &rd) != (long)size)
			die("famfs read");
	famfs = ROUNDS * size / (now() - t) / MiB;
	if (memcmp(buf, expect, size))
		return fprintf(stderr, "fuse_iomap_famfs_bench: the file read back wrong\n"), 1;

	pmem_direct = open("/dev/pmem0", O_RDONLY | O_DIRECT);
	if (pmem_direct < 0)
		die("/dev/pmem0 O_DIRECT");
	t = now();
	for (i = 0; i < ROUNDS; i++)
		if (pread(pmem_direct, buf, size, 0) != (ssize_t)size)
			die("O_DIRECT read");
	direct = ROUNDS * size / (now() - t) / MiB;

	t = now();
	for (i = 0; i < ROUNDS; i++) {
		memcpy(buf, dev, size);
		__asm__ volatile("" : : "r"(buf) : "memory");
	}
	ram = ROUNDS * size / (now() - t) / MiB;

	printf("famfs read bandwidth, %llu MiB striped file (%d strips, 2 MiB chunks), %d rounds:\n",
	       size / MiB, STRIPS, ROUNDS);
	printf("  %-44s %9.0f MiB/s  1.00\n", "fmap + dax_direct_access (FAMFS_READ)", famfs);
	printf("  %-44s %9.0f MiB/s  %.2f\n", "O_DIRECT pread of /dev/pmem0, same bytes", direct, direct / famfs);
	printf("  %-44s %9.0f MiB/s  %.2f\n", "memcpy in RAM, same size", ram, ram / famfs);
	close(pmem_direct);
	close(fd);
	close(pmem);
	return 0;
}
