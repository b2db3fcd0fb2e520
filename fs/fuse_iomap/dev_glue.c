// SPDX-License-Identifier: GPL-2.0
/*
 * The device node /dev/fuse-iomap, its client handles, and kernel APIs the
 * 6.12 kernel crate does not wrap.
 *
 * The 6.12 kernel crate has no miscdevice, anonymous inode or poll
 * abstraction, so the misc device, the client handles' anonymous files and
 * their file_operations are declared here. Each operation only forwards to
 * its Rust counterpart in dev.rs, which owns the connection reference stored
 * in file->private_data. fuse_iomap_init_rwsem() and
 * fuse_iomap_init_waitqueue() give rwsem.rs and waitqueue.rs objects with
 * their own lockdep class, which the init macros declare at their call site;
 * fuse_iomap_warn_ratelimit() holds the rate limit state of ratelimit.rs.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/poll.h>
#include <linux/ratelimit.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/wait.h>
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

static ssize_t fuse_iomap_dev_read(struct file *file, char __user *buf,
				   size_t count, loff_t *ppos)
{
	return fuse_iomap_rs_read(file->private_data, (unsigned long)buf, count,
				  file->f_flags & O_NONBLOCK);
}

static ssize_t fuse_iomap_dev_write(struct file *file, const char __user *buf,
				    size_t count, loff_t *ppos)
{
	return fuse_iomap_rs_write(file->private_data, (unsigned long)buf, count);
}

static __poll_t fuse_iomap_dev_poll(struct file *file, poll_table *wait)
{
	int state;
	wait_queue_head_t *wq = fuse_iomap_rs_poll(file->private_data, &state);
	__poll_t mask = EPOLLOUT | EPOLLWRNORM;

	poll_wait(file, wq, wait);
	if (state & 1)
		mask |= EPOLLIN | EPOLLRDNORM;
	if (state & 2)
		mask |= EPOLLERR;
	return mask;
}

static const struct file_operations fuse_iomap_dev_fops = {
	.owner		= THIS_MODULE,
	.open		= fuse_iomap_dev_open,
	.release	= fuse_iomap_dev_release,
	.read		= fuse_iomap_dev_read,
	.write		= fuse_iomap_dev_write,
	.poll		= fuse_iomap_dev_poll,
	.unlocked_ioctl	= fuse_iomap_dev_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

static int fuse_iomap_client_release(struct inode *inode, struct file *file)
{
	fuse_iomap_rs_client_release(file->private_data);
	return 0;
}

static long fuse_iomap_client_ioctl(struct file *file, unsigned int cmd,
				    unsigned long arg)
{
	return fuse_iomap_rs_client_ioctl(file->private_data, cmd, arg);
}

static const struct file_operations fuse_iomap_client_fops = {
	.owner		= THIS_MODULE,
	.release	= fuse_iomap_client_release,
	.unlocked_ioctl	= fuse_iomap_client_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.llseek		= noop_llseek,
};

/* A client handle's file, holding the connection reference conn. */
int fuse_iomap_glue_client_fd(void *conn)
{
	return anon_inode_getfd("[fuse-iomap-client]", &fuse_iomap_client_fops,
				conn, O_RDWR | O_CLOEXEC);
}

bool fuse_iomap_capable_rawio(void)
{
	return capable(CAP_SYS_RAWIO);
}

/* The caller's ids, for a request's fuse_in_header, as fuse fills them. */
void fuse_iomap_current_creds(u32 *uid, u32 *gid, u32 *pid)
{
	*uid = from_kuid_munged(current_user_ns(), current_fsuid());
	*gid = from_kgid_munged(current_user_ns(), current_fsgid());
	*pid = task_pid_vnr(current);
}

void fuse_iomap_init_waitqueue(struct wait_queue_head *wq)
{
	init_waitqueue_head(wq);
}

void fuse_iomap_wake_poll(struct wait_queue_head *wq)
{
	wake_up_interruptible_poll(wq, EPOLLIN | EPOLLRDNORM);
}

static struct miscdevice fuse_iomap_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= FUSE_IOMAP_DEV_NAME,
	.fops	= &fuse_iomap_dev_fops,
	.mode	= 0666,
};

bool fuse_iomap_glue_is_server(const struct file *file)
{
	return file->f_op == &fuse_iomap_dev_fops;
}

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

/*
 * A semaphore of class class (enum Class of rwsem.rs): one init_rwsem()
 * call site, and so one lockdep class, for each.
 */
void fuse_iomap_init_rwsem(struct rw_semaphore *sem, int class)
{
	switch (class) {
	case 0:
		init_rwsem(sem);
		break;
	case 1:
		init_rwsem(sem);
		break;
	default:
		init_rwsem(sem);
		break;
	}
}

/* One rate limit for the warnings that a hostile server can provoke. */
bool fuse_iomap_warn_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}
