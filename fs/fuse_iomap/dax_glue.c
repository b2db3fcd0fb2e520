// SPDX-License-Identifier: GPL-2.0
/*
 * DAX, block-device and path calls for dax.rs: the 6.12 kernel crate wraps
 * none of them, and file_bdev() and the DAX_ACCESS mode are not reachable
 * from Rust. Each function forwards to one kernel call, but for
 * fuse_iomap_may_read_blkdev(), which holds a path reference across its
 * two checks, and the holder's memory-failure callback.
 *
 * A claimed dax device's holder is its struct Dax (dax.rs). 6.12 calls
 * notify_failure under the DAX SRCU lock but does not wait for it in
 * fs_put_dax(), so a callback could find a holder that is being freed. Both
 * sides therefore take fuse_iomap_holders: the callback looks the holder up
 * and uses it under the mutex, and the release drops the claim under it,
 * before the holder is freed.
 */
#include <linux/blkdev.h>
#include <linux/dax.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/sched.h>

#include "glue.h"

static DEFINE_MUTEX(fuse_iomap_holders);

static int fuse_iomap_notify_failure(struct dax_device *dax_dev, u64 offset,
				     u64 len, int mf_flags)
{
	void *holder;

	mutex_lock(&fuse_iomap_holders);
	holder = dax_holder(dax_dev);
	if (holder)
		fuse_iomap_rs_dax_failure(holder, offset, len);
	mutex_unlock(&fuse_iomap_holders);
	return holder ? 0 : -ENXIO;
}

static const struct dax_holder_operations fuse_iomap_holder_ops = {
	.notify_failure = fuse_iomap_notify_failure,
};

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
	return fs_dax_get_by_bdev(file_bdev(bdev_file), start_off, holder,
				  &fuse_iomap_holder_ops);
}

void fuse_iomap_dax_put(struct dax_device *dax_dev, void *holder)
{
	mutex_lock(&fuse_iomap_holders);
	fs_put_dax(dax_dev, holder);
	mutex_unlock(&fuse_iomap_holders);
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
