// SPDX-License-Identifier: GPL-2.0
/*
 * The device node /dev/fuse-iomap, and kernel APIs the 6.12 kernel crate
 * does not wrap.
 *
 * The 6.12 kernel crate has no miscdevice abstraction, so the misc device and
 * its file_operations are declared here. Each operation only forwards to its
 * Rust counterpart in dev.rs, which owns the connection stored in
 * file->private_data. fuse_iomap_init_rwsem() gives rwsem.rs a semaphore with
 * its own lockdep class, which init_rwsem() declares at its call site;
 * fuse_iomap_warn_ratelimit() holds the rate limit state of ratelimit.rs.
 */
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/ratelimit.h>
#include <linux/rwsem.h>
#include <uapi/linux/fuse_iomap.h>

#include "glue.h"

static int fuse_iomap_dev_open(struct inode *inode, struct file *file)
{
	void *conn = fuse_iomap_rs_open();

	if (IS_ERR(conn))
		return PTR_ERR(conn);
	/* misc_open() left the miscdevice here; the connection replaces it. */
	file->private_data = conn;
	return 0;
}

static int fuse_iomap_dev_release(struct inode *inode, struct file *file)
{
	fuse_iomap_rs_release(file->private_data);
	return 0;
}

static long fuse_iomap_dev_ioctl(struct file *file, unsigned int cmd,
				 unsigned long arg)
{
	return fuse_iomap_rs_ioctl(file->private_data, cmd, arg);
}

static const struct file_operations fuse_iomap_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= fuse_iomap_dev_open,
	.release	= fuse_iomap_dev_release,
	.unlocked_ioctl	= fuse_iomap_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static struct miscdevice fuse_iomap_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= FUSE_IOMAP_DEV_NAME,
	.fops	= &fuse_iomap_dev_fops,
	.mode	= 0666,
};

int fuse_iomap_glue_register(void)
{
	return misc_register(&fuse_iomap_miscdev);
}

void fuse_iomap_glue_unregister(void)
{
	misc_deregister(&fuse_iomap_miscdev);
}

int fuse_iomap_glue_minor(void)
{
	return fuse_iomap_miscdev.minor;
}

void fuse_iomap_init_rwsem(struct rw_semaphore *sem)
{
	init_rwsem(sem);
}

/* One rate limit for the warnings that a hostile server can provoke. */
bool fuse_iomap_warn_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}
