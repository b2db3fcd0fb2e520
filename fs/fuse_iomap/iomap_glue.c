// SPDX-License-Identifier: GPL-2.0
/*
 * The file data of the mount, through the kernel's iomap library: the
 * iomap_ops, the address space (buffered reads, writes and writeback),
 * direct I/O, mmap, truncation, fiemap, SEEK_DATA/SEEK_HOLE and bmap.
 *
 * The calls into fs/iomap and the tables it calls back are here, as the
 * 6.12 kernel crate has no iomap abstraction; ext2's and xfs's iomap paths
 * are the models. Every mapping comes from vfs_iomap.rs (the mapping cache,
 * the server's BPF program, or a FUSE_IOMAP_BEGIN upcall), already turned
 * into the fields of a struct iomap; this file copies them. The end of a
 * write's I/O goes back to vfs_iomap.rs as FUSE_IOMAP_IOEND, from process
 * context: a writeback bio ends in interrupt context, so its ioend waits
 * on the inode's list for a worker, as xfs does.
 */
#include <linux/blkdev.h>
#include <linux/falloc.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/uio.h>
#include <linux/writeback.h>
#include <uapi/linux/fuse.h>

#include "glue.h"
#include "vfs.h"

static struct workqueue_struct *fuse_iomap_ioend_wq;

static void fuse_iomap_copy_map(struct iomap *iomap,
				const struct fuse_iomap_map *map)
{
	iomap->addr = map->addr;
	iomap->offset = map->offset;
	iomap->length = map->length;
	iomap->type = map->type;
	iomap->flags = map->flags;
	iomap->bdev = map->bdev;
	iomap->validity_cookie = map->validity_cookie;
	/* The device cookie, for FUSE_IOMAP_END's mapping. */
	iomap->private = (void *)(uintptr_t)map->dev;
}

static void fuse_iomap_read_map(struct fuse_iomap_map *map,
				const struct iomap *iomap)
{
	map->addr = iomap->addr;
	map->offset = iomap->offset;
	map->length = iomap->length;
	map->type = iomap->type;
	map->flags = iomap->flags;
	map->bdev = iomap->bdev;
	map->validity_cookie = iomap->validity_cookie;
	map->dev = (uintptr_t)iomap->private;
}

/* The cookie check of buffered writes: a stale mapping is looked up again. */
static bool fuse_iomap_valid(struct inode *inode, const struct iomap *iomap)
{
	return fuse_iomap_rs_iomap_valid(fi_conn(inode), FI(inode)->nodeid,
					 iomap->validity_cookie);
}

static const struct iomap_folio_ops fuse_iomap_folio_ops = {
	.iomap_valid	= fuse_iomap_valid,
};

static int fuse_iomap_begin(struct inode *inode, loff_t pos, loff_t length,
			    unsigned int flags, struct iomap *iomap,
			    struct iomap *srcmap)
{
	struct fuse_iomap_map map, src;
	bool has_src = false;
	int err;

	err = fuse_iomap_rs_iomap_begin(fi_conn(inode), FI(inode)->nodeid, pos,
					length, flags, &map, &src, &has_src);
	if (err)
		return err;
	fuse_iomap_copy_map(iomap, &map);
	iomap->folio_ops = &fuse_iomap_folio_ops;
	if (has_src)
		fuse_iomap_copy_map(srcmap, &src);
	return 0;
}

static int fuse_iomap_end(struct inode *inode, loff_t pos, loff_t length,
			  ssize_t written, unsigned int flags,
			  struct iomap *iomap)
{
	struct fuse_iomap_map map;

	fuse_iomap_read_map(&map, iomap);
	return fuse_iomap_rs_iomap_end(fi_conn(inode), FI(inode)->nodeid, pos,
				       length, written, flags, &map);
}

const struct iomap_ops fuse_iomap_iomap_ops = {
	.iomap_begin	= fuse_iomap_begin,
	.iomap_end	= fuse_iomap_end,
};

/* Writeback: the mapping of dirty data, reused while it covers offset. */
static int fuse_iomap_map_blocks(struct iomap_writepage_ctx *wpc,
				 struct inode *inode, loff_t offset,
				 unsigned int len)
{
	struct fuse_iomap_map map;
	int err;

	if (offset >= wpc->iomap.offset &&
	    offset < wpc->iomap.offset + wpc->iomap.length &&
	    fuse_iomap_valid(inode, &wpc->iomap))
		return 0;
	err = fuse_iomap_rs_map_blocks(fi_conn(inode), FI(inode)->nodeid,
				       offset, len, &map);
	if (err)
		return err;
	fuse_iomap_copy_map(&wpc->iomap, &map);
	return 0;
}

/* Each ioend of the inode, told to the server, then finished. */
static void fuse_iomap_ioend_work(struct work_struct *work)
{
	struct fuse_iomap_inode *fi =
		container_of(work, struct fuse_iomap_inode, ioend_work);
	struct inode *inode = &fi->vfs_inode;
	struct iomap_ioend *ioend;
	struct list_head tmp;
	unsigned long flags;
	int err;

	spin_lock_irqsave(&fi->ioend_lock, flags);
	list_replace_init(&fi->ioends, &tmp);
	spin_unlock_irqrestore(&fi->ioend_lock, flags);

	iomap_sort_ioends(&tmp);
	while ((ioend = list_first_entry_or_null(&tmp, struct iomap_ioend,
						 io_list))) {
		list_del_init(&ioend->io_list);
		iomap_ioend_try_merge(ioend, &tmp);
		err = blk_status_to_errno(ioend->io_bio.bi_status);
		err = fuse_iomap_rs_ioend(fi_conn(inode), fi->nodeid, false,
					  ioend->io_type == IOMAP_UNWRITTEN,
					  ioend->io_flags & IOMAP_F_SHARED,
					  false, err, ioend->io_offset,
					  ioend->io_size, i_size_read(inode)) ?: err;
		if (err)
			mapping_set_error(inode->i_mapping, err);
		iomap_finish_ioends(ioend, err);
		cond_resched();
	}
}

static void fuse_iomap_end_bio(struct bio *bio)
{
	struct iomap_ioend *ioend = iomap_ioend_from_bio(bio);
	struct fuse_iomap_inode *fi = FI(ioend->io_inode);
	unsigned long flags;

	spin_lock_irqsave(&fi->ioend_lock, flags);
	if (list_empty(&fi->ioends))
		queue_work(fuse_iomap_ioend_wq, &fi->ioend_work);
	list_add_tail(&ioend->io_list, &fi->ioends);
	spin_unlock_irqrestore(&fi->ioend_lock, flags);
}

static int fuse_iomap_prepare_ioend(struct iomap_ioend *ioend, int status)
{
	ioend->io_bio.bi_end_io = fuse_iomap_end_bio;
	return status;
}

static const struct iomap_writeback_ops fuse_iomap_writeback_ops = {
	.map_blocks	= fuse_iomap_map_blocks,
	.prepare_ioend	= fuse_iomap_prepare_ioend,
};

void fuse_iomap_inode_io_init(struct fuse_iomap_inode *fi)
{
	spin_lock_init(&fi->ioend_lock);
	INIT_LIST_HEAD(&fi->ioends);
	INIT_WORK(&fi->ioend_work, fuse_iomap_ioend_work);
}

static int fuse_iomap_read_folio(struct file *file, struct folio *folio)
{
	return iomap_read_folio(folio, &fuse_iomap_iomap_ops);
}

static void fuse_iomap_readahead(struct readahead_control *rac)
{
	iomap_readahead(rac, &fuse_iomap_iomap_ops);
}

static int fuse_iomap_writepages(struct address_space *mapping,
				 struct writeback_control *wbc)
{
	struct iomap_writepage_ctx wpc = { };

	return iomap_writepages(mapping, wbc, &wpc, &fuse_iomap_writeback_ops);
}

static sector_t fuse_iomap_bmap(struct address_space *mapping, sector_t block)
{
	filemap_write_and_wait(mapping);
	return iomap_bmap(mapping, block, &fuse_iomap_iomap_ops);
}

const struct address_space_operations fuse_iomap_aops = {
	.read_folio		= fuse_iomap_read_folio,
	.readahead		= fuse_iomap_readahead,
	.writepages		= fuse_iomap_writepages,
	.dirty_folio		= iomap_dirty_folio,
	.release_folio		= iomap_release_folio,
	.invalidate_folio	= iomap_invalidate_folio,
	.bmap			= fuse_iomap_bmap,
	.direct_IO		= noop_direct_IO,
	.migrate_folio		= filemap_migrate_folio,
	.is_partially_uptodate	= iomap_is_partially_uptodate,
	.error_remove_folio	= generic_error_remove_folio,
};

static ssize_t fuse_iomap_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (!iov_iter_count(to))
		return 0;
	if (!(iocb->ki_flags & IOCB_DIRECT))
		return generic_file_read_iter(iocb, to);
	inode_lock_shared(inode);
	ret = iomap_dio_rw(iocb, to, &fuse_iomap_iomap_ops, NULL, 0, NULL, 0);
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return ret;
}

/* A direct write ended: the file grows, and the server hears of it. */
static int fuse_iomap_dio_end_io(struct kiocb *iocb, ssize_t size, int error,
				 unsigned int flags)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	loff_t end = iocb->ki_pos + size;
	bool appended = false;
	int err;

	/* Extending writes are synchronous, under the inode lock. */
	if (!error && end > i_size_read(inode)) {
		i_size_write(inode, end);
		appended = true;
	}
	err = fuse_iomap_rs_ioend(fi_conn(inode), FI(inode)->nodeid, true,
				  flags & IOMAP_DIO_UNWRITTEN,
				  flags & IOMAP_DIO_COW, appended, error,
				  iocb->ki_pos, size, i_size_read(inode));
	return error ?: err;
}

static const struct iomap_dio_ops fuse_iomap_dio_ops = {
	.end_io		= fuse_iomap_dio_end_io,
};

static ssize_t fuse_iomap_dio_write(struct kiocb *iocb, struct iov_iter *from)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	unsigned int flags = 0;
	ssize_t ret, done;
	loff_t pos;

	if (iocb->ki_pos + iov_iter_count(from) > i_size_read(inode) ||
	    !IS_ALIGNED(iocb->ki_pos | iov_iter_alignment(from),
			i_blocksize(inode)))
		flags |= IOMAP_DIO_FORCE_WAIT;
	ret = iomap_dio_rw(iocb, from, &fuse_iomap_iomap_ops,
			   &fuse_iomap_dio_ops, flags, NULL, 0);
	/* ENOTBLK: the page cache could not be invalidated; go buffered. */
	if (ret == -ENOTBLK)
		ret = 0;
	if (ret < 0 || !iov_iter_count(from))
		return ret;
	iocb->ki_flags &= ~IOCB_DIRECT;
	pos = iocb->ki_pos;
	done = iomap_file_buffered_write(iocb, from, &fuse_iomap_iomap_ops,
					 NULL);
	if (done <= 0)
		return ret ?: done;
	ret += done;
	done = filemap_write_and_wait_range(inode->i_mapping, pos,
					    pos + done - 1);
	if (done)
		return done;
	invalidate_mapping_pages(inode->i_mapping, pos >> PAGE_SHIFT,
				 (iocb->ki_pos - 1) >> PAGE_SHIFT);
	return ret;
}

/*
 * A write of any file of the mount: under the inode lock, after the VFS's
 * checks and the time stamps, io writes; then the write is synced as
 * O_SYNC and O_DSYNC ask.
 */
ssize_t fuse_iomap_write(struct kiocb *iocb, struct iov_iter *from,
			 ssize_t (*io)(struct kiocb *, struct iov_iter *))
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	inode_lock(inode);
	ret = generic_write_checks(iocb, from);
	if (ret <= 0)
		goto out;
	ret = kiocb_modified(iocb);
	if (ret)
		goto out;
	ret = io(iocb, from);
out:
	inode_unlock(inode);
	if (ret > 0)
		ret = generic_write_sync(iocb, ret);
	return ret;
}

static ssize_t fuse_iomap_write_io(struct kiocb *iocb, struct iov_iter *from)
{
	if (iocb->ki_flags & IOCB_DIRECT)
		return fuse_iomap_dio_write(iocb, from);
	return iomap_file_buffered_write(iocb, from, &fuse_iomap_iomap_ops, NULL);
}

static ssize_t fuse_iomap_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	return fuse_iomap_write(iocb, from, fuse_iomap_write_io);
}

static vm_fault_t fuse_iomap_page_mkwrite(struct vm_fault *vmf)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	vm_fault_t ret;

	sb_start_pagefault(inode->i_sb);
	file_update_time(vmf->vma->vm_file);
	filemap_invalidate_lock_shared(inode->i_mapping);
	ret = iomap_page_mkwrite(vmf, &fuse_iomap_iomap_ops);
	filemap_invalidate_unlock_shared(inode->i_mapping);
	sb_end_pagefault(inode->i_sb);
	return ret;
}

static const struct vm_operations_struct fuse_iomap_vm_ops = {
	/* It takes the invalidate lock itself, to read a folio in. */
	.fault		= filemap_fault,
	.map_pages	= filemap_map_pages,
	.page_mkwrite	= fuse_iomap_page_mkwrite,
};

static int fuse_iomap_mmap(struct file *file, struct vm_area_struct *vma)
{
	file_accessed(file);
	vma->vm_ops = &fuse_iomap_vm_ops;
	return 0;
}

loff_t fuse_iomap_llseek(struct file *file, loff_t offset, int whence)
{
	struct inode *inode = file_inode(file);

	switch (whence) {
	case SEEK_DATA:
		inode_lock_shared(inode);
		offset = iomap_seek_data(inode, offset, fuse_iomap_ops(inode));
		inode_unlock_shared(inode);
		break;
	case SEEK_HOLE:
		inode_lock_shared(inode);
		offset = iomap_seek_hole(inode, offset, fuse_iomap_ops(inode));
		inode_unlock_shared(inode);
		break;
	default:
		return generic_file_llseek(file, offset, whence);
	}
	if (offset < 0)
		return offset;
	return vfs_setpos(file, offset, inode->i_sb->s_maxbytes);
}

int fuse_iomap_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		      u64 start, u64 len)
{
	int err;

	inode_lock_shared(inode);
	err = iomap_fiemap(inode, fieinfo, start, len, fuse_iomap_ops(inode));
	inode_unlock_shared(inode);
	return err;
}

int fuse_iomap_fsync(struct file *file, loff_t start, loff_t end, int datasync)
{
	struct inode *inode = file_inode(file);
	int err;

	err = file_write_and_wait_range(file, start, end);
	if (err)
		return err;
	/* The times the kernel keeps go first, then the server stores all. */
	err = sync_inode_metadata(inode, 1);
	if (err)
		return err;
	return fuse_iomap_rs_fsync(fi_conn(inode), FI(inode)->nodeid,
				   fuse_iomap_file_fh(file), datasync);
}

/*
 * FALLOCATE goes to the server, which changes the range's mappings, under
 * the locks that keep writes and faults out. The page cache of a range
 * whose data changes (a punched or zeroed range) is written back first, so
 * that no write lands in blocks the server frees, and dropped after.
 */
long fuse_iomap_fallocate(struct file *file, int mode, loff_t offset,
			  loff_t length)
{
	struct inode *inode = file_inode(file);
	bool changes_data = mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE);
	loff_t end = offset + length;
	int err;

	inode_lock(inode);
	filemap_invalidate_lock(inode->i_mapping);
	inode_dio_wait(inode);
	err = file_modified(file);
	if (err)
		goto out;
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode)) {
		err = inode_newsize_ok(inode, end);
		if (err)
			goto out;
	}
	if (changes_data) {
		err = filemap_write_and_wait_range(inode->i_mapping, offset,
						   end - 1);
		if (err)
			goto out;
	}
	err = fuse_iomap_rs_fallocate(fi_conn(inode), FI(inode)->nodeid,
				      fuse_iomap_file_fh(file), offset, length,
				      mode);
	if (err)
		goto out;
	/* A famfs file's allocation changed: its new fmap, before its size. */
	if (IS_DAX(inode)) {
		err = fuse_iomap_rs_famfs_open(fi_conn(inode), FI(inode)->nodeid);
		if (err)
			goto out;
	}
	/*
	 * Only now, and only for a mode that changed the data, as fuse does:
	 * truncate_pagecache_range() zeroes the partial pages at the ends, which
	 * would destroy data that a plain allocation keeps, or that a server
	 * refusing the mode never touched.
	 */
	if (changes_data)
		truncate_pagecache_range(inode, offset, end - 1);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > i_size_read(inode))
		i_size_write(inode, end);
out:
	filemap_invalidate_unlock(inode->i_mapping);
	inode_unlock(inode);
	return err;
}

/*
 * A new size: the tail of the last block is zeroed, the page cache past
 * the size dropped. The cached mappings past it go with SETATTR (vfs.rs).
 */
static int fuse_iomap_setsize(struct inode *inode, loff_t newsize)
{
	loff_t oldsize = i_size_read(inode);
	bool did_zero = false;
	int err;

	inode_dio_wait(inode);
	if (newsize > oldsize)
		err = iomap_zero_range(inode, oldsize, newsize - oldsize,
				       &did_zero, &fuse_iomap_iomap_ops);
	else
		err = iomap_truncate_page(inode, newsize, &did_zero,
					  &fuse_iomap_iomap_ops);
	if (err)
		return err;
	err = filemap_write_and_wait_range(inode->i_mapping,
					   min(oldsize, newsize), LLONG_MAX);
	if (err)
		return err;
	truncate_setsize(inode, newsize);
	return 0;
}

/*
 * SETATTR with a new size, from setattr under the inode and invalidate
 * locks: the kernel's size first, then the server's; a famfs file's the
 * other way round (famfs_glue.c).
 */
int fuse_iomap_setattr_size(struct inode *inode,
			    const struct fuse_setattr_in *in,
			    struct fuse_attr_out *out)
{
	int err;

	if (IS_DAX(inode))
		return fuse_iomap_famfs_setattr_size(inode, in, out);
	if (fuse_iomap_is_classic(inode))
		return fuse_iomap_classic_setattr_size(inode, in, out);
	err = fuse_iomap_setsize(inode, in->size);
	if (err)
		return err;
	return fuse_iomap_rs_setattr(fi_conn(inode), FI(inode)->nodeid, in, out);
}

long fuse_iomap_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	return fuse_iomap_rs_file_ioctl(fi_conn(file_inode(file)), cmd, arg);
}

const struct file_operations fuse_iomap_file_ops = {
	.unlocked_ioctl	= fuse_iomap_ioctl,
	.open		= fuse_iomap_file_open,
	.release	= fuse_iomap_file_release,
	.llseek		= fuse_iomap_llseek,
	.read_iter	= fuse_iomap_read_iter,
	.write_iter	= fuse_iomap_write_iter,
	.mmap		= fuse_iomap_mmap,
	.fsync		= fuse_iomap_fsync,
	.fallocate	= fuse_iomap_fallocate,
	.splice_read	= filemap_splice_read,
	.splice_write	= iter_file_splice_write,
};

/*
 * FUSE_IOMAP_IOC_BACKING_OPEN: the block device open at the server's fd,
 * referenced, with its struct block_device and size.
 */
struct file *fuse_iomap_backing_get(int fd, struct block_device **bdev,
				    u64 *size)
{
	struct file *file = fget(fd);

	if (!file)
		return ERR_PTR(-EBADF);
	if (!S_ISBLK(file_inode(file)->i_mode)) {
		fput(file);
		return ERR_PTR(-ENOTBLK);
	}
	if ((file->f_mode & (FMODE_READ | FMODE_WRITE)) !=
	    (FMODE_READ | FMODE_WRITE)) {
		fput(file);
		return ERR_PTR(-EBADF);
	}
	*bdev = file_bdev(file);
	*size = bdev_nr_bytes(*bdev);
	return file;
}

int fuse_iomap_io_init(void)
{
	fuse_iomap_ioend_wq = alloc_workqueue("fuse_iomap_ioend",
					      WQ_MEM_RECLAIM | WQ_FREEZABLE, 0);
	return fuse_iomap_ioend_wq ? 0 : -ENOMEM;
}

void fuse_iomap_io_exit(void)
{
	destroy_workqueue(fuse_iomap_ioend_wq);
}
