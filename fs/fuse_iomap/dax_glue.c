// SPDX-License-Identifier: GPL-2.0
/*
 * DAX, block-device and path calls for dax.rs: the 6.12 kernel crate wraps
 * none of them, and file_bdev() and the DAX_ACCESS mode are not reachable
 * from Rust. Each function forwards to one kernel call, but for
 * fuse_iomap_may_read_blkdev(), which holds a path reference across its
 * two checks.
 */
#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/namei.h>
#include <linux/sched.h>

#include "glue.h"

struct file *fuse_iomap_bdev_open(const char *path, void *holder)
{
	return bdev_file_open_by_path(path, BLK_OPEN_READ, holder, NULL);
}

void fuse_iomap_bdev_close(struct file *bdev_file)
{
	fput(bdev_file);
}

u64 fuse_iomap_bdev_size(struct file *bdev_file)
{
	return bdev_nr_bytes(file_bdev(bdev_file));
}

struct dax_device *fuse_iomap_dax_get(struct file *bdev_file, u64 *start_off, void *holder)
{
	return fs_dax_get_by_bdev(file_bdev(bdev_file), start_off, holder, NULL);
}

void fuse_iomap_dax_put(struct dax_device *dax_dev, void *holder)
{
	fs_put_dax(dax_dev, holder);
}

void fuse_iomap_cond_resched(void)
{
	cond_resched();
}

int fuse_iomap_dax_read_lock(void)
{
	return dax_read_lock();
}

void fuse_iomap_dax_read_unlock(int id)
{
	dax_read_unlock(id);
}

long fuse_iomap_dax_direct_access(struct dax_device *dax_dev, u64 pgoff, long nr_pages, void **kaddr)
{
	return dax_direct_access(dax_dev, pgoff, nr_pages, DAX_ACCESS, kaddr, NULL);
}

/*
 * Whether the current task may read the block device at path: -ENOTBLK if
 * it is no block device, the error of inode_permission() otherwise.
 */
int fuse_iomap_may_read_blkdev(const char *path)
{
	struct path p;
	int err = kern_path(path, LOOKUP_FOLLOW, &p);

	if (err)
		return err;
	if (!S_ISBLK(d_inode(p.dentry)->i_mode))
		err = -ENOTBLK;
	else
		err = inode_permission(mnt_idmap(p.mnt), d_inode(p.dentry), MAY_READ);
	path_put(&p);
	return err;
}
