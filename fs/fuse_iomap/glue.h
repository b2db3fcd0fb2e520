/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Declarations shared by the C glue and the Rust crate. The fuse_iomap_rs_*
 * functions are defined in Rust (dev.rs); the others are defined in C and
 * called from Rust.
 */
#ifndef _FUSE_IOMAP_GLUE_H
#define _FUSE_IOMAP_GLUE_H

#include <linux/types.h>

/* dev.rs: one connection per open file of the device node. */
struct wait_queue_head;
void *fuse_iomap_rs_open(void);
void fuse_iomap_rs_release(void *conn);
long fuse_iomap_rs_ioctl(void *conn, unsigned int cmd, unsigned long arg);
struct iov_iter;
ssize_t fuse_iomap_rs_read(void *conn, struct iov_iter *to, bool nonblock);
ssize_t fuse_iomap_rs_write(void *conn, struct iov_iter *from);
struct wait_queue_head *fuse_iomap_rs_poll(void *conn, int *state);

/* dev.rs: client handles. */
void fuse_iomap_rs_client_release(void *conn);
long fuse_iomap_rs_client_ioctl(void *conn, unsigned int cmd, unsigned long arg);

/* dev_glue.c: the misc device and the client handles' files. */
struct file;
bool fuse_iomap_glue_is_server(const struct file *file);
int fuse_iomap_glue_register(void);
void fuse_iomap_glue_unregister(void);
int fuse_iomap_glue_minor(void);
int fuse_iomap_glue_client_fd(void *conn);

/* dev_glue.c: kernel APIs the 6.12 kernel crate does not wrap. */
struct rw_semaphore;
struct lock_class_key;
void fuse_iomap_init_rwsem(struct rw_semaphore *sem, const char *name,
			   struct lock_class_key *key);
void fuse_iomap_init_waitqueue(struct wait_queue_head *wq);
void fuse_iomap_wake_poll(struct wait_queue_head *wq);
bool fuse_iomap_warn_ratelimit(void);
size_t fuse_iomap_copy_from_iter(void *addr, size_t bytes, struct iov_iter *i);
size_t fuse_iomap_copy_to_iter(const void *addr, size_t bytes,
			       struct iov_iter *i);
size_t fuse_iomap_iov_iter_count(const struct iov_iter *i);
bool fuse_iomap_capable_rawio(void);
bool fuse_iomap_capable_admin(void);
struct user_namespace;
struct pid_namespace;
void fuse_iomap_get_namespaces(struct user_namespace **user_ns,
			       struct pid_namespace **pid_ns);
void fuse_iomap_put_namespaces(struct user_namespace *user_ns,
			       struct pid_namespace *pid_ns);
bool fuse_iomap_current_creds(struct user_namespace *user_ns,
			      struct pid_namespace *pid_ns,
			      u32 *uid, u32 *gid, u32 *pid);

/* bpf.rs: struct_ops registration and the kfuncs' work. */
struct fuse_iomap_io;
struct fuse_range;
int fuse_iomap_rs_bpf_reg(void *kdata, int fd);
void fuse_iomap_rs_bpf_unreg(void *kdata);
int fuse_iomap_rs_bpf_upsert(void *fbi, const struct fuse_iomap_io *read,
			     const struct fuse_iomap_io *write);
int fuse_iomap_rs_bpf_inval(void *fbi, const struct fuse_range *read,
			    const struct fuse_range *write);

/* bpf_glue.c: the struct_ops type, its calls, and the kfuncs. */
struct fuse_iomap_begin_out;
struct fuse_iomap_ioend_in;
struct fuse_iomap_ioend_out;
int fuse_iomap_bpf_register(void);
int fuse_iomap_bpf_begin(const void *ops, void *fbi, u64 pos, u64 count,
			 u32 opflags, struct fuse_iomap_begin_out *out);
int fuse_iomap_bpf_end(const void *ops, void *fbi, u64 pos, u64 count,
		       s64 written, u32 opflags);
int fuse_iomap_bpf_ioend(const void *ops, void *fbi,
			 const struct fuse_iomap_ioend_in *in,
			 struct fuse_iomap_ioend_out *out);
void *fuse_iomap_glue_server_of_fd(int fd, struct file **filep);
void fuse_iomap_glue_fput(struct file *file);

/* dax.rs: a memory failure on a claimed dax device. */
void fuse_iomap_rs_dax_failure(void *holder, u64 offset, u64 len);

/* dax_glue.c: DAX and block devices, for dax.rs. */
struct dax_device;
struct file *fuse_iomap_bdev_open(u32 dev, void *holder);
void fuse_iomap_bdev_close(struct file *bdev_file);
u64 fuse_iomap_bdev_size(struct file *bdev_file);
struct dax_device *fuse_iomap_dax_get(struct file *bdev_file, u64 *start_off, void *holder);
void fuse_iomap_dax_put(struct dax_device *dax_dev, void *holder);
bool fuse_iomap_dax_synchronous(struct dax_device *dax_dev);
void fuse_iomap_cond_resched(void);
int fuse_iomap_dax_read_lock(void);
void fuse_iomap_dax_read_unlock(int id);
size_t fuse_iomap_mc_copy_to_user(const void *kaddr, size_t len, unsigned long ubuf);
bool fuse_iomap_mc_poisoned(const void *kaddr);
long fuse_iomap_dax_direct_access(struct dax_device *dax_dev, u64 pgoff, long nr_pages, void **kaddr);
int fuse_iomap_resolve_blkdev(const char *path, u32 *dev);

/* vfs.rs: the mount's namespace; each returns 0 or a negative errno. */
struct fuse_entry_out;
struct fuse_attr_out;
struct fuse_setattr_in;
struct fuse_kstatfs;
#define FUSE_IOMAP_OPT_FD	0
#define FUSE_IOMAP_OPT_ROOTMODE	1
#define FUSE_IOMAP_OPT_USER_ID	2
#define FUSE_IOMAP_OPT_GROUP_ID	3
struct fuse_iomap_opts {
	u32 fd;
	u32 rootmode;
	u32 famfs_resolve;
	u32 present;
};
int fuse_iomap_rs_mount_opt(struct fuse_iomap_opts *opts, u32 opt, u32 value,
			    const char **why);
int fuse_iomap_rs_mount_opts_done(const struct fuse_iomap_opts *opts,
				  const char **why);
void *fuse_iomap_rs_mount(void *server, const struct fuse_iomap_opts *opts);
void fuse_iomap_rs_unmount(void *conn);
void fuse_iomap_rs_geometry(void *conn, u32 *blkbits, u64 *maxbytes);
int fuse_iomap_rs_lookup(void *conn, u64 parent, const char *name, u32 len,
			 struct fuse_entry_out *out);
bool fuse_iomap_rs_same_file(u64 generation, u32 mode,
			     const struct fuse_entry_out *entry);
u64 fuse_iomap_rs_timeout_ms(u64 sec, u32 nsec);
int fuse_iomap_rs_getattr(void *conn, u64 nodeid, struct fuse_attr_out *out);
int fuse_iomap_rs_setattr(void *conn, u64 nodeid,
			  const struct fuse_setattr_in *in,
			  struct fuse_attr_out *out);
int fuse_iomap_rs_open_file(void *conn, u64 nodeid, bool dir, u32 flags,
			    u64 *fh);
void fuse_iomap_rs_release_file(void *conn, u64 nodeid, bool dir, u64 fh,
				u32 flags);
int fuse_iomap_rs_create(void *conn, u64 parent, const char *name, u32 len,
			 u32 mode, u32 umask, u32 flags,
			 struct fuse_entry_out *entry, u64 *fh);
int fuse_iomap_rs_mkdir(void *conn, u64 parent, const char *name, u32 len,
			u32 mode, u32 umask, struct fuse_entry_out *entry);
int fuse_iomap_rs_remove(void *conn, u64 parent, const char *name, u32 len,
			 bool dir);
int fuse_iomap_rs_rename(void *conn, u64 olddir, const char *old, u32 oldlen,
			 u64 newdir, const char *new, u32 newlen, u32 flags);
int fuse_iomap_rs_statfs(void *conn, u64 nodeid, struct fuse_kstatfs *out);
int fuse_iomap_rs_fsync(void *conn, u64 nodeid, u64 fh, bool datasync);
int fuse_iomap_rs_fallocate(void *conn, u64 nodeid, u64 fh, u64 offset,
			    u64 length, u32 mode);
void fuse_iomap_rs_forget(void *conn, u64 nodeid, u64 nlookup);
long fuse_iomap_rs_file_ioctl(void *conn, unsigned int cmd, unsigned long arg);
typedef bool (*fuse_iomap_emit_t)(void *ctx, const char *name, u32 len,
				  u64 ino, u32 type, u64 next);
int fuse_iomap_rs_readdir(void *conn, u64 nodeid, u64 fh, u64 pos, void *ctx,
			  fuse_iomap_emit_t emit);

/* vfs_iomap.rs: the mount's file I/O. A struct iomap's fields, and the
 * device cookie that iomap->private carries to iomap_end. */
struct block_device;
struct fuse_iomap_map {
	u64 addr;
	u64 offset;
	u64 length;
	u16 type;
	u16 flags;
	u32 dev;
	struct block_device *bdev;
	u64 validity_cookie;
};
int fuse_iomap_rs_iomap_begin(void *conn, u64 nodeid, u64 pos, u64 len,
			      u32 flags, struct fuse_iomap_map *map,
			      struct fuse_iomap_map *srcmap, bool *has_src);
int fuse_iomap_rs_map_blocks(void *conn, u64 nodeid, u64 pos, u64 len,
			     struct fuse_iomap_map *map);
int fuse_iomap_rs_iomap_end(void *conn, u64 nodeid, u64 pos, u64 len,
			    s64 written, u32 flags,
			    const struct fuse_iomap_map *map);
bool fuse_iomap_rs_iomap_valid(void *conn, u64 nodeid, u64 cookie);
int fuse_iomap_rs_ioend(void *conn, u64 nodeid, bool direct, bool unwritten,
			bool shared, bool appended, int error, u64 pos, u64 len,
			u64 size);

/* vfs_famfs.rs: the mount's famfs (DAX) files. A struct iomap's fields,
 * and the device reference that iomap->private carries to iomap_end. */
struct fuse_iomap_famfs_map {
	u64 addr;
	u64 offset;
	u64 length;
	u16 type;
	struct dax_device *dax_dev;
	const void *dax;
};
bool fuse_iomap_rs_famfs(void *conn);
int fuse_iomap_rs_famfs_open(void *conn, u64 nodeid);
int fuse_iomap_rs_famfs_begin(void *conn, u64 nodeid, u64 pos, u64 len,
			      u32 flags, struct fuse_iomap_famfs_map *map);
void fuse_iomap_rs_famfs_put(const void *dax);
const void *fuse_iomap_rs_famfs_devices(void *conn, u64 nodeid, bool sync,
					struct dax_device **dax_dev, int *err);

/* vfs_classic.rs: file data through FUSE_READ and FUSE_WRITE. */
bool fuse_iomap_rs_classic(void *conn);
void fuse_iomap_rs_io_sizes(void *conn, size_t *max_read, size_t *max_write);
ssize_t fuse_iomap_rs_file_read(void *conn, u64 nodeid, u64 fh, u64 pos, void *buf,
			   size_t len);
ssize_t fuse_iomap_rs_file_write(void *conn, u64 nodeid, u64 fh, u64 pos,
			    const void *buf, size_t len);

/* vfs_glue.c: the file system type. */
int fuse_iomap_vfs_register(void);
void fuse_iomap_vfs_unregister(void);

/* iomap_glue.c: block devices for the mount's I/O. */
struct file *fuse_iomap_backing_get(int fd, struct block_device **bdev,
				    u64 *size);

#endif /* _FUSE_IOMAP_GLUE_H */
