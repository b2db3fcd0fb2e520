// SPDX-License-Identifier: GPL-2.0
/*
 * Classic files: on a connection whose server negotiated neither iomap nor
 * famfs, a regular file's data goes through the server as fuse moves it.
 * FUSE_READ fills the page cache (read_folio, and readahead in requests of
 * up to 128 KiB) or an O_DIRECT reader's buffer; every write is FUSE_WRITE,
 * written through, after which the page cache over the range is dropped,
 * as fuse does without writeback caching. Nothing is ever dirty in the
 * page cache, so shared writable mappings are refused: no writeback would
 * carry their stores. The framing and the checks of the replies are in
 * connection/classic.rs; this file only moves bytes between the VFS and
 * the bounce buffers those calls fill.
 */

#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/slab.h>
#include <linux/uio.h>
#include <linux/writeback.h>
#include <uapi/linux/fuse.h>

#include "glue.h"
#include "vfs.h"

static u64 fh_of(struct file *file)
{
	return file ? fuse_iomap_file_fh(file) : 0;
}

/* The first got bytes of folio from buf, the rest zeroes: up to date. */
static void fill_folio(struct folio *folio, const u8 *buf, size_t got)
{
	size_t n = min(got, folio_size(folio));

	memcpy_to_folio(folio, 0, buf, n);
	folio_zero_range(folio, n, folio_size(folio) - n);
	folio_mark_uptodate(folio);
}

static int fuse_iomap_classic_read_folio(struct file *file, struct folio *folio)
{
	struct inode *inode = folio->mapping->host;
	size_t len = folio_size(folio);
	ssize_t got = -ENOMEM;
	void *buf;

	buf = kvmalloc(len, GFP_KERNEL);
	if (buf) {
		got = fuse_iomap_rs_file_read(fi_conn(inode), FI(inode)->nodeid,
					 fh_of(file), folio_pos(folio), buf, len);
		if (got >= 0)
			fill_folio(folio, buf, got);
		kvfree(buf);
	}
	folio_unlock(folio);
	return got < 0 ? got : 0;
}

/*
 * One FUSE_READ fills as many of the window's folios as max_read holds. A
 * folio left behind by a failed read stays not up to date: read_folio
 * tries it again, and reports the error.
 */
static void fuse_iomap_classic_readahead(struct readahead_control *rac)
{
	struct inode *inode = rac->mapping->host;
	size_t max_read, max_write, asked = 0;
	ssize_t got = -EIO;
	struct folio *folio;
	loff_t start = 0;
	bool failed;
	u8 *buf;

	fuse_iomap_rs_io_sizes(fi_conn(inode), &max_read, &max_write);
	buf = kvmalloc(max_read, GFP_KERNEL);
	failed = !buf;
	while ((folio = readahead_folio(rac))) {
		loff_t pos = folio_pos(folio);
		size_t size = folio_size(folio);

		if (!failed && (!asked || pos + size > start + asked)) {
			/* readahead_folio() took this folio off the window. */
			asked = min(max_read, size + readahead_length(rac));
			start = pos;
			got = fuse_iomap_rs_file_read(fi_conn(inode), FI(inode)->nodeid,
						 fh_of(rac->file), pos, buf, asked);
			failed = got < 0;
		}
		if (!failed)
			fill_folio(folio, buf + (pos - start),
				   got > pos - start ? got - (pos - start) : 0);
		folio_unlock(folio);
	}
	kvfree(buf);
}

const struct address_space_operations fuse_iomap_classic_aops = {
	.read_folio		= fuse_iomap_classic_read_folio,
	.readahead		= fuse_iomap_classic_readahead,
	.dirty_folio		= filemap_dirty_folio,
};

/* O_DIRECT: FUSE_READ straight into the reader's buffer, no page cache. */
static ssize_t fuse_iomap_classic_direct_read(struct kiocb *iocb,
					      struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	size_t max_read, max_write;
	ssize_t done = 0, got = 0;
	void *buf;

	fuse_iomap_rs_io_sizes(fi_conn(inode), &max_read, &max_write);
	buf = kvmalloc(max_read, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (iov_iter_count(to)) {
		size_t len = min(iov_iter_count(to), max_read);

		got = fuse_iomap_rs_file_read(fi_conn(inode), FI(inode)->nodeid,
					 fh_of(iocb->ki_filp), iocb->ki_pos, buf, len);
		if (got <= 0)
			break;
		if (copy_to_iter(buf, got, to) != got) {
			got = -EFAULT;
			break;
		}
		iocb->ki_pos += got;
		done += got;
		if (got < len)
			break;
	}
	kvfree(buf);
	return done ? done : got;
}

static ssize_t fuse_iomap_classic_read_iter(struct kiocb *iocb,
					    struct iov_iter *to)
{
	if (iocb->ki_flags & IOCB_DIRECT)
		return fuse_iomap_classic_direct_read(iocb, to);
	return generic_file_read_iter(iocb, to);
}

/*
 * Under the inode lock (fuse_iomap_write()): FUSE_WRITE of max_write bytes
 * at a time, until the data or the server's storing ends; the size follows
 * the written end, and the page cache over what was written is dropped.
 */
static ssize_t fuse_iomap_classic_write_through(struct kiocb *iocb,
						struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	loff_t start = iocb->ki_pos;
	size_t max_read, max_write;
	ssize_t done = 0, stored = 0;
	void *buf;

	fuse_iomap_rs_io_sizes(fi_conn(inode), &max_read, &max_write);
	buf = kvmalloc(max_write, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	while (iov_iter_count(from)) {
		size_t len = min(iov_iter_count(from), max_write);
		size_t copied = copy_from_iter(buf, len, from);

		if (!copied) {
			stored = -EFAULT;
			break;
		}
		stored = fuse_iomap_rs_file_write(fi_conn(inode), FI(inode)->nodeid,
					     fh_of(iocb->ki_filp), iocb->ki_pos,
					     buf, copied);
		if (stored < 0) {
			iov_iter_revert(from, copied);
			break;
		}
		iov_iter_revert(from, copied - stored);
		iocb->ki_pos += stored;
		done += stored;
		if (stored < copied)
			break;
	}
	kvfree(buf);
	if (done) {
		if (iocb->ki_pos > i_size_read(inode))
			i_size_write(inode, iocb->ki_pos);
		invalidate_inode_pages2_range(inode->i_mapping, start >> PAGE_SHIFT,
					      (iocb->ki_pos - 1) >> PAGE_SHIFT);
	}
	return done ? done : stored;
}

static ssize_t fuse_iomap_classic_write_iter(struct kiocb *iocb,
					     struct iov_iter *from)
{
	return fuse_iomap_write(iocb, from, fuse_iomap_classic_write_through);
}

const struct file_operations fuse_iomap_classic_file_ops = {
	.unlocked_ioctl	= fuse_iomap_ioctl,
	.open		= fuse_iomap_file_open,
	.release	= fuse_iomap_file_release,
	.llseek		= generic_file_llseek,
	.read_iter	= fuse_iomap_classic_read_iter,
	.write_iter	= fuse_iomap_classic_write_iter,
	.mmap		= generic_file_readonly_mmap,
	.fsync		= fuse_iomap_fsync,
	.splice_read	= filemap_splice_read,
	.splice_write	= iter_file_splice_write,
};

/*
 * ftruncate of a classic file, under the inode and invalidate locks: the
 * server first, then the kernel's size and page cache follow it.
 */
int fuse_iomap_classic_setattr_size(struct inode *inode,
				    const struct fuse_setattr_in *in,
				    struct fuse_attr_out *out)
{
	int err;

	err = fuse_iomap_rs_setattr(fi_conn(inode), FI(inode)->nodeid, in, out);
	if (err)
		return err;
	truncate_setsize(inode, in->size);
	return 0;
}
