// SPDX-License-Identifier: GPL-2.0
/*
 * fuse_iomap_counters PATH: what the connection behind the fuse_iomap mount
 * that holds PATH has done (FUSE_IOMAP_IOC_COUNTERS on a file of the mount),
 * one "name value" line each, for the shell tests and `make run`.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/fuse_iomap.h>

int main(int argc, char **argv)
{
	struct fuse_iomap_counters c;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: %s PATH\n", argv[0]);
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || ioctl(fd, FUSE_IOMAP_IOC_COUNTERS, &c)) {
		perror(argv[1]);
		return 1;
	}
	printf("cache_hits %llu\n", (unsigned long long)c.cache_hits);
	printf("cache_misses %llu\n", (unsigned long long)c.cache_misses);
	printf("bpf_answers %llu\n", (unsigned long long)c.bpf_answers);
	printf("upcalls_iomap_begin %llu\n",
	       (unsigned long long)c.upcalls[FUSE_IOMAP_UPCALL_BEGIN]);
	printf("upcalls_iomap_ioend %llu\n",
	       (unsigned long long)c.upcalls[FUSE_IOMAP_UPCALL_IOEND]);
	printf("upcalls_get_fmap %llu\n",
	       (unsigned long long)c.upcalls[FUSE_IOMAP_UPCALL_GET_FMAP]);
	printf("upcalls_get_daxdev %llu\n",
	       (unsigned long long)c.upcalls[FUSE_IOMAP_UPCALL_GET_DAXDEV]);
	printf("cache_bytes %llu\n", (unsigned long long)c.cache_bytes);
	close(fd);
	return 0;
}
