// SPDX-License-Identifier: GPL-2.0
/*
 * The famfs files of the mount, through the kernel's DAX library. With
 * FUSE_DAX_FMAP negotiated, every regular file is a DAX file: OPEN is
 * followed by GET_FMAP, and reads, writes and mmap faults go straight to
 * device memory where the fmap says, with no page cache and no upcall.
 *
 * The calls into fs/dax and the tables it calls back are here, as the
 * 6.12 kernel crate has no DAX abstraction; ext4's DAX path
 * (fs/ext4/file.c) is the model for the locks: i_rwsem around
 * dax_iomap_rw(), the invalidate lock (shared) around faults, against
 * truncation and fallocate, which take it exclusively. Every mapping comes
 * from vfs_famfs.rs, resolved through the file's fmap and the daxdev
 * table; iomap->private carries the device reference that iomap_end gives
 * back.
 *
 * The data copies are the DAX library's (dax_copy_to_iter() and
 * dax_copy_from_iter()), which survive a machine check on a poisoned line;
 * a device that a memory failure hit fails every later mapping with
 * EHWPOISON: reads fail with it, faults raise SIGBUS.
 */
#include <linux/dax.h>
#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/mm.h>
#include <linux/pagemap.h>
#include <linux/pfn_t.h>
#include <linux/uio.h>
#include <uapi/linux/fuse.h>

#include "glue.h"
#include "vfs.h"

static int fuse_iomap_famfs_begin(struct inode *inode, loff_t pos,
				  loff_t length, unsigned int flags,
				  struct iomap *iomap, struct iomap *srcmap)
{
	struct fuse_iomap_famfs_map map;
	int err;

	err = fuse_iomap_rs_famfs_begin(fi_conn(inode), FI(inode)->nodeid, pos,
					length, flags, &map);
	if (err)
		return err;
	iomap->addr = map.addr;
	iomap->offset = map.offset;
	iomap->length = map.length;
	iomap->type = map.type;
	iomap->flags = 0;
	iomap->dax_dev = map.dax_dev;
	iomap->private = (void *)map.dax;
	return 0;
}

static int fuse_iomap_famfs_end(struct inode *inode, loff_t pos,
				loff_t length, ssize_t written,
				unsigned int flags, struct iomap *iomap)
{
	fuse_iomap_rs_famfs_put(iomap->private);
	return 0;
}

const struct iomap_ops fuse_iomap_famfs_iomap_ops = {
	.iomap_begin	= fuse_iomap_famfs_begin,
	.iomap_end	= fuse_iomap_famfs_end,
};

/* Dirty DAX entries: the CPU cache over them is written back (fsync). */
static int fuse_iomap_famfs_writepages(struct address_space *mapping,
				       struct writeback_control *wbc)
{
	struct inode *inode = mapping->host;
	struct dax_device *dax_dev;
	const void *dax;
	int err = 0;

	dax = fuse_iomap_rs_famfs_devices(fi_conn(inode), FI(inode)->nodeid,
					  false, &dax_dev, &err);
	if (!dax)
		return err;
	err = dax_writeback_mapping_range(mapping, dax_dev, wbc);
	fuse_iomap_rs_famfs_put(dax);
	return err;
}

const struct address_space_operations fuse_iomap_famfs_aops = {
	.writepages	= fuse_iomap_famfs_writepages,
	.direct_IO	= noop_direct_IO,
	.dirty_folio	= noop_dirty_folio,
};

static ssize_t fuse_iomap_famfs_read_iter(struct kiocb *iocb,
					  struct iov_iter *to)
{
	struct inode *inode = file_inode(iocb->ki_filp);
	ssize_t ret;

	if (!iov_iter_count(to))
		return 0;
	inode_lock_shared(inode);
	ret = dax_iomap_rw(iocb, to, &fuse_iomap_famfs_iomap_ops);
	inode_unlock_shared(inode);
	file_accessed(iocb->ki_filp);
	return ret;
}

static ssize_t fuse_iomap_famfs_write_io(struct kiocb *iocb,
					 struct iov_iter *from)
{
	return dax_iomap_rw(iocb, from, &fuse_iomap_famfs_iomap_ops);
}

/*
 * famfs cannot allocate on write: a write ends where the file does
 * (iomap_begin refuses the bytes past it with ENOSPC), and the size only
 * changes through ftruncate or fallocate, which the server allocates for.
 */
static ssize_t fuse_iomap_famfs_write_iter(struct kiocb *iocb,
					   struct iov_iter *from)
{
	return fuse_iomap_write(iocb, from, fuse_iomap_famfs_write_io);
}

/*
 * A PTE (order 0) or PMD fault. A write fault on a MAP_SYNC mapping whose
 * metadata is not durable yet comes back with VM_FAULT_NEEDDSYNC: the file
 * is synced, then the entry inserted. (The server logs an allocation
 * before it answers, so famfs mappings never ask for it today.)
 */
static vm_fault_t fuse_iomap_famfs_huge_fault(struct vm_fault *vmf,
					      unsigned int order)
{
	struct inode *inode = file_inode(vmf->vma->vm_file);
	bool write = (vmf->flags & FAULT_FLAG_WRITE) &&
		     (vmf->vma->vm_flags & VM_SHARED);
	vm_fault_t ret;
	pfn_t pfn;

	if (write) {
		sb_start_pagefault(inode->i_sb);
		file_update_time(vmf->vma->vm_file);
	}
	filemap_invalidate_lock_shared(inode->i_mapping);
	ret = dax_iomap_fault(vmf, order, &pfn, NULL,
			      &fuse_iomap_famfs_iomap_ops);
	if (ret & VM_FAULT_NEEDDSYNC)
		ret = dax_finish_sync_fault(vmf, order, pfn);
	filemap_invalidate_unlock_shared(inode->i_mapping);
	if (write)
		sb_end_pagefault(inode->i_sb);
	return ret;
}

static vm_fault_t fuse_iomap_famfs_fault(struct vm_fault *vmf)
{
	return fuse_iomap_famfs_huge_fault(vmf, 0);
}

static const struct vm_operations_struct fuse_iomap_famfs_vm_ops = {
	.fault		= fuse_iomap_famfs_fault,
	.huge_fault	= fuse_iomap_famfs_huge_fault,
	.page_mkwrite	= fuse_iomap_famfs_fault,
	.pfn_mkwrite	= fuse_iomap_famfs_fault,
};

/* MAP_SYNC only when every device of the file is synchronous. */
static int fuse_iomap_famfs_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct inode *inode = file_inode(file);
	struct dax_device *dax_dev;
	const void *dax;
	int err = 0;

	if (vma->vm_flags & VM_SYNC) {
		dax = fuse_iomap_rs_famfs_devices(fi_conn(inode),
						  FI(inode)->nodeid, true,
						  &dax_dev, &err);
		if (!dax)
			return err;
		fuse_iomap_rs_famfs_put(dax);
	}
	file_accessed(file);
	vma->vm_ops = &fuse_iomap_famfs_vm_ops;
	vm_flags_set(vma, VM_HUGEPAGE);
	return 0;
}

/* OPEN, then GET_FMAP: a file without its fmap cannot be opened. */
static int fuse_iomap_famfs_open(struct inode *inode, struct file *file)
{
	int err;

	err = fuse_iomap_file_open(inode, file);
	if (err)
		return err;
	err = fuse_iomap_rs_famfs_open(fi_conn(inode), FI(inode)->nodeid);
	if (err)
		fuse_iomap_file_release(inode, file);
	return err;
}

const struct file_operations fuse_iomap_famfs_file_ops = {
	.unlocked_ioctl	= fuse_iomap_ioctl,
	.open		= fuse_iomap_famfs_open,
	.release	= fuse_iomap_file_release,
	.llseek		= fuse_iomap_llseek,
	.read_iter	= fuse_iomap_famfs_read_iter,
	.write_iter	= fuse_iomap_famfs_write_iter,
	.mmap		= fuse_iomap_famfs_mmap,
	/* 2 MiB-aligned addresses, so that PMD faults can map whole chunks. */
	.get_unmapped_area = thp_get_unmapped_area,
	.fsync		= fuse_iomap_fsync,
	.fallocate	= fuse_iomap_fallocate,
	.fop_flags	= FOP_MMAP_SYNC,
};

/*
 * ftruncate of a famfs file, under the inode and invalidate locks: the
 * server changes the size (allocating for a larger one) first, then the
 * file's new fmap is asked for, and only then does the kernel's size
 * follow, dropping the DAX entries past a smaller one. In between, no
 * read, write or fault can see a size that the fmap does not cover.
 */
int fuse_iomap_famfs_setattr_size(struct inode *inode,
				  const struct fuse_setattr_in *in,
				  struct fuse_attr_out *out)
{
	int err;

	err = fuse_iomap_rs_setattr(fi_conn(inode), FI(inode)->nodeid, in, out);
	if (!err)
		err = fuse_iomap_rs_famfs_open(fi_conn(inode),
					       FI(inode)->nodeid);
	if (err)
		return err;
	truncate_setsize(inode, in->size);
	return 0;
}
