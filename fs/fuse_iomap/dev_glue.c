// SPDX-License-Identifier: GPL-2.0
/*
 * The device node /dev/fuse-iomap, its client handles, and kernel APIs the
 * 6.12 kernel crate does not wrap.
 *
 * The 6.12 kernel crate has no miscdevice, anonymous inode or poll
 * abstraction, so the misc device, the client handles' anonymous files and
 * their file_operations are declared here. Each operation only forwards to
 * its Rust counterpart in dev.rs, which owns the connection reference stored
 * in file->private_data. fuse_iomap_init_rwsem() takes the lockdep class
 * that rwsem.rs declares per use site; fuse_iomap_init_waitqueue() gives
 * waitqueue.rs's queue the class that init_waitqueue_head() declares here;
 * fuse_iomap_warn_ratelimit() holds the rate limit state of ratelimit.rs.
 */
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cred.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/pid_namespace.h>
#include <linux/poll.h>
#include <linux/ratelimit.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/uio.h>
#include <linux/user_namespace.h>
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

/*
 * The server's reads and writes go through iov_iters, as on /dev/fuse:
 * libfuse writes a reply's header and payload with one writev(), and the
 * reply must arrive whole. A libfuse server with a write_buf method (such
 * as fuse-overlayfs) reads requests with splice() into a pipe, and may
 * write replies with splice() from one; the generic splice helpers hand
 * read_iter and write_iter a bvec iterator over the pipe's pages, one
 * message per call. Messages are copied with copy_{to,from}_iter(), which
 * serve any kind of iterator, so unlike fuse_dev_read() these need not
 * insist on user memory.
 */
static ssize_t fuse_iomap_dev_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct file *file = iocb->ki_filp;

	return fuse_iomap_rs_read(file->private_data, to,
				  file->f_flags & O_NONBLOCK);
}

static ssize_t fuse_iomap_dev_write_iter(struct kiocb *iocb,
					 struct iov_iter *from)
{
	return fuse_iomap_rs_write(iocb->ki_filp->private_data, from);
}

size_t fuse_iomap_copy_from_iter(void *addr, size_t bytes, struct iov_iter *i)
{
	return copy_from_iter(addr, bytes, i);
}

size_t fuse_iomap_copy_to_iter(const void *addr, size_t bytes,
			       struct iov_iter *i)
{
	return copy_to_iter(addr, bytes, i);
}

size_t fuse_iomap_iov_iter_count(const struct iov_iter *i)
{
	return iov_iter_count(i);
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
	.read_iter	= fuse_iomap_dev_read_iter,
	.write_iter	= fuse_iomap_dev_write_iter,
	.splice_read	= copy_splice_read,
	.splice_write	= iter_file_splice_write,
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

bool fuse_iomap_capable_admin(void)
{
	return capable(CAP_SYS_ADMIN);
}

/* The current task's namespaces, referenced, for namespaces.rs. */
void fuse_iomap_get_namespaces(struct user_namespace **user_ns,
			       struct pid_namespace **pid_ns)
{
	*user_ns = get_user_ns(current_user_ns());
	*pid_ns = get_pid_ns(task_active_pid_ns(current));
}

void fuse_iomap_put_namespaces(struct user_namespace *user_ns,
			       struct pid_namespace *pid_ns)
{
	put_pid_ns(pid_ns);
	put_user_ns(user_ns);
}

/*
 * The caller's ids as the connection's namespaces see them, for a request's
 * fuse_in_header, as fuse_get_req() fills them: false if the uid or gid has
 * no mapping there.
 */
bool fuse_iomap_current_creds(struct user_namespace *user_ns,
			      struct pid_namespace *pid_ns,
			      u32 *uid, u32 *gid, u32 *pid)
{
	*uid = from_kuid(user_ns, current_fsuid());
	*gid = from_kgid(user_ns, current_fsgid());
	*pid = pid_nr_ns(task_pid(current), pid_ns);
	return *uid != (uid_t)-1 && *gid != (gid_t)-1;
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
 * A semaphore named name of lock class key: rwsem.rs's new_rwsem!() declares
 * one static key per use site, as init_rwsem() does in C.
 */
void fuse_iomap_init_rwsem(struct rw_semaphore *sem, const char *name,
			   struct lock_class_key *key)
{
	__init_rwsem(sem, name, key);
}

/* One rate limit for the warnings that a hostile server can provoke. */
bool fuse_iomap_warn_ratelimit(void)
{
	static DEFINE_RATELIMIT_STATE(rs, DEFAULT_RATELIMIT_INTERVAL, DEFAULT_RATELIMIT_BURST);

	return __ratelimit(&rs);
}
