/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The mount's VFS objects, shared by vfs_glue.c (namespace) and
 * iomap_glue.c (file data). They hold what the VFS needs to find the
 * connection and name an inode to the server; everything else about them
 * is decided in Rust (vfs.rs, vfs_iomap.rs).
 */
#ifndef _FUSE_IOMAP_VFS_H
#define _FUSE_IOMAP_VFS_H

#include <linux/fs.h>
#include <linux/iomap.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>

/* The superblock's: the mount's reference to its connection. */
struct fuse_iomap_sb {
	void *conn;
	kuid_t user_id;
	kgid_t group_id;
};

/* An inode of the mount. */
struct fuse_iomap_inode {
	struct inode vfs_inode;
	u64 nodeid;
	u64 generation;
	/* Entry replies that named it: sent back with FORGET. */
	u64 nlookup;
	/* jiffies until which its attributes need no GETATTR. */
	unsigned long attr_expires;
	/* Writeback ioends waiting for FUSE_IOMAP_IOEND, in process context. */
	spinlock_t ioend_lock;
	struct list_head ioends;
	struct work_struct ioend_work;
};

static inline struct fuse_iomap_inode *FI(struct inode *inode)
{
	return container_of(inode, struct fuse_iomap_inode, vfs_inode);
}

static inline struct fuse_iomap_sb *FSB(struct super_block *sb)
{
	return sb->s_fs_info;
}

static inline void *fi_conn(struct inode *inode)
{
	return FSB(inode->i_sb)->conn;
}

struct fuse_setattr_in;
struct fuse_attr_out;

/* iomap_glue.c */
extern const struct address_space_operations fuse_iomap_aops;
extern const struct file_operations fuse_iomap_file_ops;
extern const struct iomap_ops fuse_iomap_iomap_ops;
void fuse_iomap_inode_io_init(struct fuse_iomap_inode *fi);
int fuse_iomap_setattr_size(struct inode *inode,
			    const struct fuse_setattr_in *in,
			    struct fuse_attr_out *out);
int fuse_iomap_fiemap(struct inode *inode, struct fiemap_extent_info *fieinfo,
		      u64 start, u64 len);
int fuse_iomap_io_init(void);
void fuse_iomap_io_exit(void);
/* The file operations that famfs files share. */
ssize_t fuse_iomap_write(struct kiocb *iocb, struct iov_iter *from,
			 ssize_t (*io)(struct kiocb *, struct iov_iter *));
loff_t fuse_iomap_llseek(struct file *file, loff_t offset, int whence);
int fuse_iomap_fsync(struct file *file, loff_t start, loff_t end, int datasync);
long fuse_iomap_fallocate(struct file *file, int mode, loff_t offset,
			  loff_t length);
long fuse_iomap_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* famfs_glue.c */
extern const struct address_space_operations fuse_iomap_famfs_aops;
extern const struct file_operations fuse_iomap_famfs_file_ops;
extern const struct iomap_ops fuse_iomap_famfs_iomap_ops;
int fuse_iomap_famfs_setattr_size(struct inode *inode,
				  const struct fuse_setattr_in *in,
				  struct fuse_attr_out *out);

/* classic_glue.c */
extern const struct address_space_operations fuse_iomap_classic_aops;
extern const struct file_operations fuse_iomap_classic_file_ops;
int fuse_iomap_classic_setattr_size(struct inode *inode,
				    const struct fuse_setattr_in *in,
				    struct fuse_attr_out *out);

/* Whether a regular file's data goes through FUSE_READ and FUSE_WRITE. */
static inline bool fuse_iomap_is_classic(struct inode *inode)
{
	return inode->i_mapping->a_ops == &fuse_iomap_classic_aops;
}

/* A famfs file's mappings are the DAX library's, any other file's iomap's. */
static inline const struct iomap_ops *fuse_iomap_ops(struct inode *inode)
{
	return IS_DAX(inode) ? &fuse_iomap_famfs_iomap_ops : &fuse_iomap_iomap_ops;
}

/* vfs_glue.c, for the file operations of iomap_glue.c */
int fuse_iomap_file_open(struct inode *inode, struct file *file);
int fuse_iomap_file_release(struct inode *inode, struct file *file);
u64 fuse_iomap_file_fh(struct file *file);

#endif /* _FUSE_IOMAP_VFS_H */
