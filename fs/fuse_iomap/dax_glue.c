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
#include <linux/mount.h>
#include <linux/mutex.h>
#include <linux/namei.h>
#include <linux/sched.h>
#include <linux/uaccess.h>
#include <linux/uio.h>

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

struct file *fuse_iomap_bdev_open(u32 dev, void *holder)
{
	return bdev_file_open_by_dev(dev, BLK_OPEN_READ, holder, NULL);
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

bool fuse_iomap_dax_synchronous(struct dax_device *dax_dev)
{
	return dax_synchronous(dax_dev);
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

/*
 * Copies len bytes of device memory at kaddr (mapped by dax_direct_access())
 * to the user buffer ubuf with the copy the DAX library uses, which survives
 * a machine check on a poisoned line (dax_copy_to_iter() is not exported);
 * returns the bytes copied. A short copy is a fault on either side:
 * fuse_iomap_mc_poisoned() tells which.
 */
size_t fuse_iomap_mc_copy_to_user(const void *kaddr, size_t len, unsigned long ubuf)
{
	struct iov_iter iter;

	if (import_ubuf(ITER_DEST, (void __user *)ubuf, len, &iter))
		return 0;
	return _copy_mc_to_iter(kaddr, len, &iter);
}

/* Whether the device byte at kaddr is poisoned: its machine-check-safe read fails. */
bool fuse_iomap_mc_poisoned(const void *kaddr)
{
	u8 byte;

	return copy_mc_to_kernel(&byte, kaddr, 1) != 0;
}

long fuse_iomap_dax_direct_access(struct dax_device *dax_dev, u64 pgoff, long nr_pages, void **kaddr)
{
	return dax_direct_access(dax_dev, pgoff, nr_pages, DAX_ACCESS, kaddr, NULL);
}

/*
 * The number of the block device at path, looked up by the current task (the
 * server answering GET_DAXDEV) in its mount namespace and with its
 * credentials: -ENOTBLK if it is no block device, -EACCES if its mount
 * forbids device nodes (as may_open_dev(), which is not exported), the error
 * of inode_permission() if the task may not read it.
 */
int fuse_iomap_resolve_blkdev(const char *path, u32 *dev)
{
	struct path p;
	struct inode *inode;
	int err = kern_path(path, LOOKUP_FOLLOW, &p);

	if (err)
		return err;
	inode = d_inode(p.dentry);
	if (!S_ISBLK(inode->i_mode))
		err = -ENOTBLK;
	else if ((p.mnt->mnt_flags & MNT_NODEV) || (p.mnt->mnt_sb->s_iflags & SB_I_NODEV))
		err = -EACCES;
	else
		err = inode_permission(mnt_idmap(p.mnt), inode, MAY_READ);
	if (!err)
		*dev = inode->i_rdev;
	path_put(&p);
	return err;
}
