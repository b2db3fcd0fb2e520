/* SPDX-License-Identifier: GPL-2.0 */
/*
 * famfs interleave resolution for the famfs BPF program: where a byte of a
 * striped file is on its device. It is a second implementation of the
 * module's (fs/fuse_iomap/fmap.rs, Group::resolve), for files of one
 * interleaved group whose strips are all on one device; the host tests
 * (rust/fuse_iomap/src/tests/famfs_bpf.rs) compile this very header and
 * compare the two, on every chunk boundary and on hostile layouts.
 *
 * Chunk n of the file is in strip n % nstrips, (n / nstrips) chunks into
 * it. As in fmap.rs, a mapping ends where its chunk or its strip ends, and
 * a byte past its strip's end, or past the file's, has no mapping: a strip
 * shorter than the chunks it should hold must not be read past, into
 * whatever the device holds after it.
 *
 * The caller provides __u32 and __u64 (vmlinux.h in BPF, linux/types.h on
 * the host).
 */
#ifndef FUSE_IOMAP_FAMFS_RESOLVE_H
#define FUSE_IOMAP_FAMFS_RESOLVE_H

#define FAMFS_BPF_MAX_STRIPS	32

/*
 * A striped famfs file: size bytes in chunks of chunk, over nstrips strips
 * of device dev, strip i at strip_off[i] for strip_len[i] bytes.
 */
struct famfs_layout {
	__u64 size;
	__u64 chunk;
	__u32 nstrips;
	__u32 dev;
	__u64 strip_off[FAMFS_BPF_MAX_STRIPS];
	__u64 strip_len[FAMFS_BPF_MAX_STRIPS];
};

/*
 * The mapping of the chunk that holds a byte: its file offset, the device
 * address there, and its length, cut where the strip ends. Chunks and
 * strips are multiples of 2 MiB, so it is block-aligned, as a mapping must
 * be; the file's end within it is the iomap library's to respect.
 */
struct famfs_chunk_map {
	__u64 offset;
	__u64 addr;
	__u64 length;
};

/*
 * Maps the chunk of pos in layout l into *out: 0, or -1 for a byte with no
 * mapping (past the file or its strip) or a layout that holds none.
 */
static __always_inline int famfs_resolve(const struct famfs_layout *l, __u64 pos,
					 struct famfs_chunk_map *out)
{
	__u64 chunk_num, within, strip_pos, len, slen;
	__u32 strip;

	if (!l->chunk || !l->nstrips || pos >= l->size)
		return -1;
	chunk_num = pos / l->chunk;
	within = pos % l->chunk;
	strip = chunk_num % l->nstrips;
	if (strip >= FAMFS_BPF_MAX_STRIPS)
		return -1;
	/*
	 * The masks repeat the bound where the verifier sees it; a bound on
	 * nstrips instead would let the compiler drop them.
	 */
	slen = l->strip_len[strip & (FAMFS_BPF_MAX_STRIPS - 1)];
	/* Where the chunk starts in its strip: at most pos, no overflow. */
	strip_pos = chunk_num / l->nstrips * l->chunk;
	if (strip_pos + within >= slen)
		return -1;
	len = slen - strip_pos;
	out->offset = pos - within;
	out->addr = l->strip_off[strip & (FAMFS_BPF_MAX_STRIPS - 1)] + strip_pos;
	out->length = len < l->chunk ? len : l->chunk;
	return 0;
}

#endif
