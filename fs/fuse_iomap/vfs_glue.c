// SPDX-License-Identifier: GPL-2.0
/*
 * The file system type fuse_iomap: fs_context, superblock, inodes,
 * dentries, directories, and the namespace half of files.
 *
 * The 6.12 kernel crate has no file system abstractions, so the VFS tables
 * live here, modelled on fs/fuse/{inode,dir}.c. Each operation does the
 * VFS's bookkeeping (inode hash, dentries, attributes copied into the
 * inode) and asks vfs.rs for everything else: which request to send and
 * whether its reply may be believed. The file data half (address space,
 * read/write, mmap, fiemap) is in iomap_glue.c.
 */
#include <linux/fs_context.h>
#include <linux/fs_parser.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/namei.h>
#include <linux/slab.h>
#include <linux/statfs.h>
#include <linux/uidgid.h>
#include <linux/user_namespace.h>
#include <uapi/linux/fuse.h>
#include <uapi/linux/fuse_iomap.h>

#include "glue.h"
#include "vfs.h"

/* "FIOM": what statfs(2) reports as the file system's type. */
#define FUSE_IOMAP_SUPER_MAGIC	0x46494f4d

static struct kmem_cache *fuse_iomap_inode_cachep;

static const struct inode_operations fuse_iomap_dir_iops;
static const struct inode_operations fuse_iomap_file_iops;
static const struct inode_operations fuse_iomap_classic_file_iops;
static const struct file_operations fuse_iomap_dir_ops;
static const struct dentry_operations fuse_iomap_dentry_ops;

static unsigned long fuse_iomap_expiry(u64 sec, u32 nsec)
{
	return jiffies + msecs_to_jiffies(fuse_iomap_rs_timeout_ms(sec, nsec));
}

/* Copies checked attributes into inode; its size only when it is new. */
static void fuse_iomap_fill_attr(struct inode *inode,
				 const struct fuse_attr *attr,
				 unsigned long expires, bool new)
{
	struct super_block *sb = inode->i_sb;

	inode->i_mode = (inode->i_mode & S_IFMT) | (attr->mode & 07777);
	set_nlink(inode, attr->nlink);
	inode->i_uid = make_kuid(sb->s_user_ns, attr->uid);
	inode->i_gid = make_kgid(sb->s_user_ns, attr->gid);
	inode->i_blocks = attr->blocks;
	/*
	 * While the kernel holds a regular file, its size and times are the
	 * kernel's, as with fuse's writeback cache: writes past the end grow
	 * it, and writes and faults stamp it, before the server hears of them
	 * (the times through write_inode).
	 */
	if (new || !S_ISREG(inode->i_mode)) {
		inode_set_atime(inode, attr->atime, attr->atimensec);
		inode_set_mtime(inode, attr->mtime, attr->mtimensec);
		inode_set_ctime(inode, attr->ctime, attr->ctimensec);
		i_size_write(inode, attr->size);
	}
	FI(inode)->attr_expires = expires;
}

static int fuse_iomap_inode_test(struct inode *inode, void *data)
{
	return FI(inode)->nodeid == *(u64 *)data;
}

static int fuse_iomap_inode_set(struct inode *inode, void *data)
{
	FI(inode)->nodeid = *(u64 *)data;
	return 0;
}

/*
 * The inode that a checked entry reply names, with one more lookup to
 * forget: a new one filled from the reply, or the one the kernel knows,
 * which must be the same file (vfs.rs decides).
 */
static struct inode *fuse_iomap_iget(struct super_block *sb,
				     const struct fuse_entry_out *entry)
{
	u64 nodeid = entry->nodeid;
	unsigned long expires = fuse_iomap_expiry(entry->attr_valid,
						  entry->attr_valid_nsec);
	struct inode *inode;
	u32 blkbits;
	u64 maxbytes;

	inode = iget5_locked(sb, nodeid, fuse_iomap_inode_test,
			     fuse_iomap_inode_set, &nodeid);
	if (!inode)
		return ERR_PTR(-ENOMEM);
	if (!(inode->i_state & I_NEW)) {
		if (!fuse_iomap_rs_same_file(FI(inode)->generation,
					     inode->i_mode, entry)) {
			/* The kernel still forgets the lookup it got. */
			FI(inode)->nlookup++;
			iput(inode);
			return ERR_PTR(-EIO);
		}
		FI(inode)->nlookup++;
		fuse_iomap_fill_attr(inode, &entry->attr, expires, false);
		return inode;
	}

	FI(inode)->generation = entry->generation;
	FI(inode)->nlookup = 1;
	inode->i_ino = entry->attr.ino ? entry->attr.ino : nodeid;
	inode->i_mode = entry->attr.mode & S_IFMT;
	fuse_iomap_rs_geometry(FSB(sb)->conn, &blkbits, &maxbytes);
	inode->i_blkbits = blkbits;
	/*
	 * The handshake is done once an entry names an inode: the file size
	 * limit it configured is the VFS's too (writes past it are EFBIG,
	 * fiemap stops there). The root, made before, has no data.
	 */
	if (nodeid != FUSE_ROOT_ID)
		WRITE_ONCE(sb->s_maxbytes, min_t(u64, maxbytes, MAX_LFS_FILESIZE));
	if (S_ISDIR(inode->i_mode)) {
		inode->i_op = &fuse_iomap_dir_iops;
		inode->i_fop = &fuse_iomap_dir_ops;
	} else if (S_ISREG(inode->i_mode) && fuse_iomap_rs_famfs(FSB(sb)->conn)) {
		/* famfs: a DAX file, its data where GET_FMAP says. */
		inode->i_flags |= S_DAX;
		inode->i_op = &fuse_iomap_file_iops;
		inode->i_fop = &fuse_iomap_famfs_file_ops;
		inode->i_mapping->a_ops = &fuse_iomap_famfs_aops;
	} else if (S_ISREG(inode->i_mode) && fuse_iomap_rs_classic(FSB(sb)->conn)) {
		/* No iomap: data through FUSE_READ and FUSE_WRITE, no extents. */
		inode->i_op = &fuse_iomap_classic_file_iops;
		inode->i_fop = &fuse_iomap_classic_file_ops;
		inode->i_mapping->a_ops = &fuse_iomap_classic_aops;
	} else {
		inode->i_op = &fuse_iomap_file_iops;
		inode->i_fop = &fuse_iomap_file_ops;
		inode->i_mapping->a_ops = &fuse_iomap_aops;
	}
	fuse_iomap_fill_attr(inode, &entry->attr, expires, true);
	unlock_new_inode(inode);
	return inode;
}

/* Makes dentry the name of the inode that entry names, or negative. */
static struct dentry *fuse_iomap_splice(struct inode *dir,
					struct dentry *dentry,
					const struct fuse_entry_out *entry)
{
	struct inode *inode = NULL;

	if (entry->nodeid) {
		inode = fuse_iomap_iget(dir->i_sb, entry);
		if (IS_ERR(inode))
			return ERR_CAST(inode);
	}
	dentry->d_time = fuse_iomap_expiry(entry->entry_valid,
					   entry->entry_valid_nsec);
	return d_splice_alias(inode, dentry);
}

static struct dentry *fuse_iomap_lookup(struct inode *dir,
					struct dentry *dentry,
					unsigned int flags)
{
	struct fuse_entry_out entry;
	int err;

	err = fuse_iomap_rs_lookup(fi_conn(dir), FI(dir)->nodeid,
				   dentry->d_name.name, dentry->d_name.len,
				   &entry);
	if (err == -ENOENT) {
		/* A negative entry that is looked up again next time. */
		memset(&entry, 0, sizeof(entry));
		err = 0;
	}
	if (err)
		return ERR_PTR(err);
	return fuse_iomap_splice(dir, dentry, &entry);
}

/* An entry's timeout is over: look the name up again. */
static int fuse_iomap_d_revalidate(struct dentry *dentry, unsigned int flags)
{
	struct inode *inode = d_inode_rcu(dentry);
	struct fuse_entry_out entry;
	struct dentry *parent;
	int err;

	if (time_before(jiffies, dentry->d_time))
		return 1;
	if (!inode || (flags & LOOKUP_RCU))
		return inode ? -ECHILD : 0;
	parent = dget_parent(dentry);
	err = fuse_iomap_rs_lookup(fi_conn(inode), FI(d_inode(parent))->nodeid,
				   dentry->d_name.name, dentry->d_name.len,
				   &entry);
	dput(parent);
	if (err || entry.nodeid != FI(inode)->nodeid ||
	    !fuse_iomap_rs_same_file(FI(inode)->generation, inode->i_mode,
				     &entry))
		return err == -ENOENT || !err ? 0 : err;
	FI(inode)->nlookup++;
	fuse_iomap_fill_attr(inode, &entry.attr,
			     fuse_iomap_expiry(entry.attr_valid,
					       entry.attr_valid_nsec), false);
	dentry->d_time = fuse_iomap_expiry(entry.entry_valid,
					   entry.entry_valid_nsec);
	return 1;
}

static const struct dentry_operations fuse_iomap_dentry_ops = {
	.d_revalidate	= fuse_iomap_d_revalidate,
};

/* Instantiates dentry with the inode of a new entry. */
static int fuse_iomap_instantiate(struct inode *dir, struct dentry *dentry,
				  const struct fuse_entry_out *entry)
{
	struct inode *inode = fuse_iomap_iget(dir->i_sb, entry);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	dentry->d_time = fuse_iomap_expiry(entry->entry_valid,
					   entry->entry_valid_nsec);
	d_instantiate(dentry, inode);
	return 0;
}

static void fuse_iomap_dir_changed(struct inode *dir)
{
	/* The server changed it: its attributes are to be asked again. */
	FI(dir)->attr_expires = jiffies;
}

static int fuse_iomap_create(struct mnt_idmap *idmap, struct inode *dir,
			     struct dentry *dentry, umode_t mode, bool excl)
{
	struct fuse_entry_out entry;
	u64 fh;
	int err;

	err = fuse_iomap_rs_create(fi_conn(dir), FI(dir)->nodeid,
				   dentry->d_name.name, dentry->d_name.len,
				   mode, current_umask(), O_WRONLY, &entry, &fh);
	if (err)
		return err;
	/* mknod(2) and friends: nobody holds the file open. */
	fuse_iomap_rs_release_file(fi_conn(dir), entry.nodeid, false, fh, O_WRONLY);
	fuse_iomap_dir_changed(dir);
	return fuse_iomap_instantiate(dir, dentry, &entry);
}

/*
 * The open of a file CREATE made and opened: O_DIRECT may follow; a famfs
 * file needs its fmap.
 */
static int fuse_iomap_created_open(struct inode *inode, struct file *file)
{
	int err;

	file->f_mode |= FMODE_CAN_ODIRECT;
	err = generic_file_open(inode, file);
	if (!err && IS_DAX(inode))
		err = fuse_iomap_rs_famfs_open(fi_conn(inode), FI(inode)->nodeid);
	return err;
}

/* open(O_CREAT): CREATE opens the file it makes, as on fuse. */
static int fuse_iomap_atomic_open(struct inode *dir, struct dentry *entry_dentry,
				  struct file *file, unsigned int flags,
				  umode_t mode)
{
	struct dentry *dentry = entry_dentry, *res = NULL;
	struct fuse_entry_out entry;
	u64 fh;
	int err;

	if (d_in_lookup(dentry)) {
		res = fuse_iomap_lookup(dir, dentry, 0);
		if (IS_ERR(res))
			return PTR_ERR(res);
		if (res)
			dentry = res;
	}
	if (!(flags & O_CREAT) || d_really_is_positive(dentry))
		return finish_no_open(file, res);

	err = fuse_iomap_rs_create(fi_conn(dir), FI(dir)->nodeid,
				   dentry->d_name.name, dentry->d_name.len,
				   mode, current_umask(), flags & ~O_CREAT,
				   &entry, &fh);
	if (err)
		goto out;
	fuse_iomap_dir_changed(dir);
	err = fuse_iomap_instantiate(dir, dentry, &entry);
	if (err) {
		fuse_iomap_rs_release_file(fi_conn(dir), entry.nodeid, false, fh,
				      flags);
		goto out;
	}
	file->f_mode |= FMODE_CREATED;
	err = finish_open(file, dentry, fuse_iomap_created_open);
	if (err)
		fuse_iomap_rs_release_file(fi_conn(dir), entry.nodeid, false, fh,
					   flags);
	else
		file->private_data = (void *)(uintptr_t)fh;
out:
	dput(res);
	return err;
}

static int fuse_iomap_mkdir(struct mnt_idmap *idmap, struct inode *dir,
			    struct dentry *dentry, umode_t mode)
{
	struct fuse_entry_out entry;
	int err;

	err = fuse_iomap_rs_mkdir(fi_conn(dir), FI(dir)->nodeid,
				  dentry->d_name.name, dentry->d_name.len,
				  mode, current_umask(), &entry);
	if (err)
		return err;
	fuse_iomap_dir_changed(dir);
	return fuse_iomap_instantiate(dir, dentry, &entry);
}

/*
 * One name of inode went (unlink, rmdir, a rename over it): a directory has
 * no links left, a file one less. The server's count may already be 0,
 * where drop_nlink() would WARN.
 */
static void fuse_iomap_drop_link(struct inode *inode)
{
	if (S_ISDIR(inode->i_mode) || inode->i_nlink <= 1)
		clear_nlink(inode);
	else
		drop_nlink(inode);
}

static int fuse_iomap_remove(struct inode *dir, struct dentry *dentry,
			     bool is_dir)
{
	struct inode *inode = d_inode(dentry);
	int err;

	err = fuse_iomap_rs_remove(fi_conn(dir), FI(dir)->nodeid,
				   dentry->d_name.name, dentry->d_name.len,
				   is_dir);
	if (err)
		return err;
	fuse_iomap_drop_link(inode);
	inode_set_ctime_current(inode);
	FI(inode)->attr_expires = jiffies;
	fuse_iomap_dir_changed(dir);
	return 0;
}

static int fuse_iomap_unlink(struct inode *dir, struct dentry *dentry)
{
	return fuse_iomap_remove(dir, dentry, false);
}

static int fuse_iomap_rmdir(struct inode *dir, struct dentry *dentry)
{
	return fuse_iomap_remove(dir, dentry, true);
}

static int fuse_iomap_rename(struct mnt_idmap *idmap, struct inode *olddir,
			     struct dentry *old, struct inode *newdir,
			     struct dentry *new, unsigned int flags)
{
	struct inode *target = d_inode(new);
	int err;

	err = fuse_iomap_rs_rename(fi_conn(olddir), FI(olddir)->nodeid,
				   old->d_name.name, old->d_name.len,
				   FI(newdir)->nodeid, new->d_name.name,
				   new->d_name.len, flags);
	if (err)
		return err;
	if (target) {
		fuse_iomap_drop_link(target);
		FI(target)->attr_expires = jiffies;
	}
	FI(d_inode(old))->attr_expires = jiffies;
	/* The server stamped the moved file too; a file's ctime is ours. */
	if (S_ISREG(d_inode(old)->i_mode)) {
		inode_set_ctime_current(d_inode(old));
		mark_inode_dirty_sync(d_inode(old));
	}
	fuse_iomap_dir_changed(olddir);
	if (newdir != olddir)
		fuse_iomap_dir_changed(newdir);
	return 0;
}

/* The attributes of inode, asked again once their timeout is over. */
static int fuse_iomap_refresh(struct inode *inode)
{
	struct fuse_attr_out out;
	int err;

	if (time_before(jiffies, FI(inode)->attr_expires))
		return 0;
	err = fuse_iomap_rs_getattr(fi_conn(inode), FI(inode)->nodeid, &out);
	if (err)
		return err;
	if ((out.attr.mode ^ inode->i_mode) & S_IFMT)
		return -EIO;
	fuse_iomap_fill_attr(inode, &out.attr,
			     fuse_iomap_expiry(out.attr_valid,
					       out.attr_valid_nsec), false);
	return 0;
}

static int fuse_iomap_getattr(struct mnt_idmap *idmap,
			      const struct path *path, struct kstat *stat,
			      u32 request_mask, unsigned int flags)
{
	struct inode *inode = d_inode(path->dentry);
	int err = 0;

	if (!(flags & AT_STATX_DONT_SYNC))
		err = fuse_iomap_refresh(inode);
	if (err)
		return err;
	generic_fillattr(idmap, request_mask, inode, stat);
	stat->blksize = i_blocksize(inode);
	return 0;
}

/* SETATTR's arguments from what the VFS asks. */
static void fuse_iomap_setattr_in(struct inode *inode, const struct iattr *attr,
				  struct fuse_setattr_in *in)
{
	struct user_namespace *ns = inode->i_sb->s_user_ns;
	unsigned int ivalid = attr->ia_valid;

	memset(in, 0, sizeof(*in));
	if (ivalid & ATTR_MODE) {
		in->valid |= FATTR_MODE;
		in->mode = attr->ia_mode;
	}
	if (ivalid & ATTR_UID) {
		in->valid |= FATTR_UID;
		in->uid = from_kuid(ns, attr->ia_uid);
	}
	if (ivalid & ATTR_GID) {
		in->valid |= FATTR_GID;
		in->gid = from_kgid(ns, attr->ia_gid);
	}
	if (ivalid & ATTR_SIZE) {
		in->valid |= FATTR_SIZE;
		in->size = attr->ia_size;
	}
	if (ivalid & ATTR_ATIME) {
		in->valid |= FATTR_ATIME;
		in->atime = attr->ia_atime.tv_sec;
		in->atimensec = attr->ia_atime.tv_nsec;
		if (!(ivalid & ATTR_ATIME_SET))
			in->valid |= FATTR_ATIME_NOW;
	}
	if (ivalid & ATTR_MTIME) {
		in->valid |= FATTR_MTIME;
		in->mtime = attr->ia_mtime.tv_sec;
		in->mtimensec = attr->ia_mtime.tv_nsec;
		if (!(ivalid & ATTR_MTIME_SET))
			in->valid |= FATTR_MTIME_NOW;
	}
	if (ivalid & ATTR_CTIME) {
		in->valid |= FATTR_CTIME;
		in->ctime = attr->ia_ctime.tv_sec;
		in->ctimensec = attr->ia_ctime.tv_nsec;
	}
}

static int fuse_iomap_setattr(struct mnt_idmap *idmap, struct dentry *dentry,
			      struct iattr *attr)
{
	struct inode *inode = d_inode(dentry);
	struct fuse_setattr_in in;
	struct fuse_attr_out out;
	int err;

	err = setattr_prepare(idmap, dentry, attr);
	if (err)
		return err;
	if (attr->ia_valid & ATTR_SIZE) {
		if (!S_ISREG(inode->i_mode))
			return -EISDIR;
		err = inode_newsize_ok(inode, attr->ia_size);
		if (err)
			return err;
	}
	fuse_iomap_setattr_in(inode, attr, &in);
	if (attr->ia_valid & ATTR_SIZE) {
		filemap_invalidate_lock(inode->i_mapping);
		err = fuse_iomap_setattr_size(inode, &in, &out);
		filemap_invalidate_unlock(inode->i_mapping);
	} else {
		err = fuse_iomap_rs_setattr(fi_conn(inode), FI(inode)->nodeid,
					    &in, &out);
	}
	if (err)
		return err;
	if ((out.attr.mode ^ inode->i_mode) & S_IFMT)
		return -EIO;
	setattr_copy(idmap, inode, attr);
	fuse_iomap_fill_attr(inode, &out.attr,
			     fuse_iomap_expiry(out.attr_valid,
					       out.attr_valid_nsec), false);
	return 0;
}

static const struct inode_operations fuse_iomap_dir_iops = {
	.lookup		= fuse_iomap_lookup,
	.create		= fuse_iomap_create,
	.atomic_open	= fuse_iomap_atomic_open,
	.mkdir		= fuse_iomap_mkdir,
	.unlink		= fuse_iomap_unlink,
	.rmdir		= fuse_iomap_rmdir,
	.rename		= fuse_iomap_rename,
	.getattr	= fuse_iomap_getattr,
	.setattr	= fuse_iomap_setattr,
};

static const struct inode_operations fuse_iomap_file_iops = {
	.getattr	= fuse_iomap_getattr,
	.setattr	= fuse_iomap_setattr,
	.fiemap		= fuse_iomap_fiemap,
};

static const struct inode_operations fuse_iomap_classic_file_iops = {
	.getattr	= fuse_iomap_getattr,
	.setattr	= fuse_iomap_setattr,
};

/* A file handle is a u64; so is a pointer on the 64-bit machines built for. */
static_assert(sizeof(void *) == sizeof(u64));

u64 fuse_iomap_file_fh(struct file *file)
{
	return (uintptr_t)file->private_data;
}

/* OPEN, or OPENDIR: the server's file handle goes in private_data. */
int fuse_iomap_file_open(struct inode *inode, struct file *file)
{
	u64 fh;
	int err;

	err = generic_file_open(inode, file);
	if (err)
		return err;
	err = fuse_iomap_rs_open_file(fi_conn(inode), FI(inode)->nodeid,
				 S_ISDIR(inode->i_mode),
				 file->f_flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC),
				 &fh);
	if (err)
		return err;
	file->private_data = (void *)(uintptr_t)fh;
	file->f_mode |= FMODE_CAN_ODIRECT;
	return 0;
}

int fuse_iomap_file_release(struct inode *inode, struct file *file)
{
	fuse_iomap_rs_release_file(fi_conn(inode), FI(inode)->nodeid,
			      S_ISDIR(inode->i_mode), fuse_iomap_file_fh(file),
			      file->f_flags);
	return 0;
}

static bool fuse_iomap_emit(void *ctx, const char *name, u32 len, u64 ino,
			    u32 type, u64 next)
{
	struct dir_context *dctx = ctx;

	if (!dir_emit(dctx, name, len, ino, type))
		return false;
	dctx->pos = next;
	return true;
}

static int fuse_iomap_readdir(struct file *file, struct dir_context *ctx)
{
	struct inode *inode = file_inode(file);

	return fuse_iomap_rs_readdir(fi_conn(inode), FI(inode)->nodeid,
				     fuse_iomap_file_fh(file), ctx->pos, ctx,
				     fuse_iomap_emit);
}

static const struct file_operations fuse_iomap_dir_ops = {
	.open		= fuse_iomap_file_open,
	.release	= fuse_iomap_file_release,
	.iterate_shared	= fuse_iomap_readdir,
	.read		= generic_read_dir,
	.llseek		= generic_file_llseek,
};

static struct inode *fuse_iomap_alloc_inode(struct super_block *sb)
{
	struct fuse_iomap_inode *fi;

	fi = alloc_inode_sb(sb, fuse_iomap_inode_cachep, GFP_KERNEL);
	if (!fi)
		return NULL;
	fi->nodeid = 0;
	fi->generation = 0;
	fi->nlookup = 0;
	fi->attr_expires = jiffies;
	fuse_iomap_inode_io_init(fi);
	return &fi->vfs_inode;
}

static void fuse_iomap_free_inode(struct inode *inode)
{
	kmem_cache_free(fuse_iomap_inode_cachep, FI(inode));
}

/*
 * A regular file's times, which the kernel keeps (fuse_iomap_fill_attr), go
 * to the server with a SETATTR when writeback, sync or fsync writes the
 * dirty inode, as fuse_write_inode does for the writeback cache.
 */
static int fuse_iomap_write_inode(struct inode *inode,
				  struct writeback_control *wbc)
{
	struct fuse_setattr_in in = {
		.valid = FATTR_ATIME | FATTR_MTIME | FATTR_CTIME,
		.atime = inode_get_atime_sec(inode),
		.atimensec = inode_get_atime_nsec(inode),
		.mtime = inode_get_mtime_sec(inode),
		.mtimensec = inode_get_mtime_nsec(inode),
		.ctime = inode_get_ctime_sec(inode),
		.ctimensec = inode_get_ctime_nsec(inode),
	};
	struct fuse_attr_out out;

	if (!S_ISREG(inode->i_mode))
		return 0;
	return fuse_iomap_rs_setattr(fi_conn(inode), FI(inode)->nodeid, &in,
				     &out);
}

/* The kernel drops an inode: the server may forget it as often as it named it. */
static void fuse_iomap_evict_inode(struct inode *inode)
{
	truncate_inode_pages_final(&inode->i_data);
	clear_inode(inode);
	flush_work(&FI(inode)->ioend_work);
	if (FI(inode)->nlookup && FI(inode)->nodeid != FUSE_ROOT_ID)
		fuse_iomap_rs_forget(fi_conn(inode), FI(inode)->nodeid,
				     FI(inode)->nlookup);
}

static int fuse_iomap_statfs(struct dentry *dentry, struct kstatfs *buf)
{
	struct inode *inode = d_inode(dentry);
	struct fuse_kstatfs st;
	int err;

	err = fuse_iomap_rs_statfs(fi_conn(inode), FI(inode)->nodeid, &st);
	if (err)
		return err;
	buf->f_type = FUSE_IOMAP_SUPER_MAGIC;
	buf->f_bsize = st.bsize;
	buf->f_frsize = st.frsize ? st.frsize : st.bsize;
	buf->f_blocks = st.blocks;
	buf->f_bfree = st.bfree;
	buf->f_bavail = st.bavail;
	buf->f_files = st.files;
	buf->f_ffree = st.ffree;
	buf->f_namelen = st.namelen;
	return 0;
}

static const struct super_operations fuse_iomap_super_ops = {
	.alloc_inode	= fuse_iomap_alloc_inode,
	.free_inode	= fuse_iomap_free_inode,
	/*
	 * The default drop: an unused inode stays cached, with its dirty
	 * pages, until writeback or unmount writes them (generic_delete_inode
	 * would evict it, and drop them, when the dcache lets go of it).
	 */
	.write_inode	= fuse_iomap_write_inode,
	.evict_inode	= fuse_iomap_evict_inode,
	.statfs		= fuse_iomap_statfs,
};

/* The context of one mount: its options, and the connection once found. */
struct fuse_iomap_fs_context {
	struct fuse_iomap_opts opts;
	kuid_t user_id;
	kgid_t group_id;
};

enum { OPT_FD, OPT_ROOTMODE, OPT_USER_ID, OPT_GROUP_ID, OPT_DEFAULT_PERMISSIONS,
       OPT_ALLOW_OTHER, OPT_FAMFS_RESOLVE };

/* Where a famfs file's DAX mappings come from (vfs.rs, FamfsResolve). */
static const struct constant_table fuse_iomap_famfs_resolve[] = {
	{ "fmap",	0 },
	{ "iomap",	1 },
	{}
};

static const struct fs_parameter_spec fuse_iomap_fs_parameters[] = {
	fsparam_u32	("fd",			OPT_FD),
	fsparam_u32oct	("rootmode",		OPT_ROOTMODE),
	fsparam_uid	("user_id",		OPT_USER_ID),
	fsparam_gid	("group_id",		OPT_GROUP_ID),
	fsparam_flag	("default_permissions",	OPT_DEFAULT_PERMISSIONS),
	fsparam_flag	("allow_other",		OPT_ALLOW_OTHER),
	fsparam_enum	("famfs_resolve",	OPT_FAMFS_RESOLVE,
			 fuse_iomap_famfs_resolve),
	{}
};

static int fuse_iomap_parse_param(struct fs_context *fsc,
				  struct fs_parameter *param)
{
	struct fuse_iomap_fs_context *ctx = fsc->fs_private;
	struct fs_parse_result result;
	const char *why = NULL;
	u32 value = 0;
	int opt, err;

	if (fsc->purpose == FS_CONTEXT_FOR_RECONFIGURE)
		return invalfc(fsc, "No changes allowed in reconfigure");
	opt = fs_parse(fsc, fuse_iomap_fs_parameters, param, &result);
	if (opt < 0)
		return opt;
	switch (opt) {
	case OPT_FD:
	case OPT_ROOTMODE:
	case OPT_FAMFS_RESOLVE:
		value = result.uint_32;
		break;
	case OPT_USER_ID:
		if (!kuid_has_mapping(fsc->user_ns, result.uid))
			return invalfc(fsc, "Invalid user_id");
		ctx->user_id = result.uid;
		break;
	case OPT_GROUP_ID:
		if (!kgid_has_mapping(fsc->user_ns, result.gid))
			return invalfc(fsc, "Invalid group_id");
		ctx->group_id = result.gid;
		break;
	default:
		/* default_permissions and allow_other: always so. */
		return 0;
	}
	err = fuse_iomap_rs_mount_opt(&ctx->opts, opt, value, &why);
	if (err)
		return invalfc(fsc, "%s: %s", param->key, why);
	return 0;
}

static int fuse_iomap_make_root(struct super_block *sb, u32 rootmode)
{
	struct fuse_entry_out root = {
		.nodeid = FUSE_ROOT_ID,
		.attr = {
			.ino = FUSE_ROOT_ID,
			.mode = rootmode,
			.nlink = 2,
			.uid = from_kuid(sb->s_user_ns, FSB(sb)->user_id),
			.gid = from_kgid(sb->s_user_ns, FSB(sb)->group_id),
		},
	};
	struct inode *inode = fuse_iomap_iget(sb, &root);

	if (IS_ERR(inode))
		return PTR_ERR(inode);
	sb->s_root = d_make_root(inode);
	return sb->s_root ? 0 : -ENOMEM;
}

static int fuse_iomap_fill_super(struct super_block *sb, struct fs_context *fsc)
{
	struct fuse_iomap_fs_context *ctx = fsc->fs_private;
	struct fuse_iomap_sb *fsb;
	const char *why = NULL;
	struct file *file;
	void *conn;
	int err;

	err = fuse_iomap_rs_mount_opts_done(&ctx->opts, &why);
	if (err)
		return invalfc(fsc, "%s", why);
	file = fget(ctx->opts.fd);
	if (!file) {
		errorfc(fsc, "fd %u is not open", ctx->opts.fd);
		return -EBADF;
	}
	err = -EINVAL;
	if (!fuse_iomap_glue_is_server(file)) {
		errorfc(fsc, "fd %u is not a server's /dev/" FUSE_IOMAP_DEV_NAME " file",
			ctx->opts.fd);
		goto out_fput;
	}
	if (file->f_cred->user_ns != fsc->user_ns) {
		errorfc(fsc, "fd %u was opened in another user namespace", ctx->opts.fd);
		goto out_fput;
	}
	fsb = kzalloc(sizeof(*fsb), GFP_KERNEL);
	err = -ENOMEM;
	if (!fsb)
		goto out_fput;
	conn = fuse_iomap_rs_mount(file->private_data, &ctx->opts);
	if (IS_ERR(conn)) {
		err = PTR_ERR(conn);
		errorfc(fsc, "fd %u: %s", ctx->opts.fd,
			err == -EBUSY ? "its connection is mounted already" :
					"its server is gone");
		kfree(fsb);
		goto out_fput;
	}
	fsb->conn = conn;
	fsb->user_id = ctx->user_id;
	fsb->group_id = ctx->group_id;
	sb->s_fs_info = fsb;
	sb->s_magic = FUSE_IOMAP_SUPER_MAGIC;
	sb->s_op = &fuse_iomap_super_ops;
	sb->s_d_op = &fuse_iomap_dentry_ops;
	sb->s_maxbytes = MAX_LFS_FILESIZE;
	sb->s_blocksize = PAGE_SIZE;
	sb->s_blocksize_bits = PAGE_SHIFT;
	/*
	 * No SB_I_NOEXEC, as in fuse: only a mounter with CAP_SYS_ADMIN mounts
	 * this type, and it says noexec when it means it. (fstests maps files
	 * PROT_EXEC through xfs_io's mmap.)
	 */
	sb->s_time_gran = 1;
	/*
	 * As in fuse, the VFS leaves the umask to the file system, which
	 * applies it unless the server said FUSE_DONT_MASK (see
	 * Features::create_mode). No ACL is ever read: no get_inode_acl.
	 */
	sb->s_flags |= SB_POSIXACL;
	/* A backing device info of its own: writeback runs for this sb. */
	err = super_setup_bdi(sb);
	if (!err)
		err = fuse_iomap_make_root(sb, ctx->opts.rootmode);
out_fput:
	fput(file);
	return err;
}

static int fuse_iomap_get_tree(struct fs_context *fsc)
{
	return get_tree_nodev(fsc, fuse_iomap_fill_super);
}

static void fuse_iomap_free_fsc(struct fs_context *fsc)
{
	kfree(fsc->fs_private);
}

static const struct fs_context_operations fuse_iomap_context_ops = {
	.free		= fuse_iomap_free_fsc,
	.parse_param	= fuse_iomap_parse_param,
	.get_tree	= fuse_iomap_get_tree,
};

static int fuse_iomap_init_fs_context(struct fs_context *fsc)
{
	struct fuse_iomap_fs_context *ctx;

	ctx = kzalloc(sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	fsc->fs_private = ctx;
	fsc->ops = &fuse_iomap_context_ops;
	return 0;
}

/* Unmount: the VFS is done with every inode; then FUSE_DESTROY. */
static void fuse_iomap_kill_sb(struct super_block *sb)
{
	struct fuse_iomap_sb *fsb = FSB(sb);

	kill_anon_super(sb);
	if (fsb) {
		fuse_iomap_rs_unmount(fsb->conn);
		kfree(fsb);
	}
}

static struct file_system_type fuse_iomap_fs_type = {
	.owner			= THIS_MODULE,
	.name			= FUSE_IOMAP_FS_TYPE,
	.init_fs_context	= fuse_iomap_init_fs_context,
	.parameters		= fuse_iomap_fs_parameters,
	.kill_sb		= fuse_iomap_kill_sb,
};
MODULE_ALIAS_FS(FUSE_IOMAP_FS_TYPE);

static void fuse_iomap_inode_once(void *p)
{
	struct fuse_iomap_inode *fi = p;

	inode_init_once(&fi->vfs_inode);
}

int fuse_iomap_vfs_register(void)
{
	int err;

	fuse_iomap_inode_cachep = kmem_cache_create("fuse_iomap_inode",
						    sizeof(struct fuse_iomap_inode),
						    0, SLAB_ACCOUNT,
						    fuse_iomap_inode_once);
	if (!fuse_iomap_inode_cachep)
		return -ENOMEM;
	err = fuse_iomap_io_init();
	if (err)
		goto out_cache;
	err = register_filesystem(&fuse_iomap_fs_type);
	if (err)
		goto out_io;
	return 0;
out_io:
	fuse_iomap_io_exit();
out_cache:
	kmem_cache_destroy(fuse_iomap_inode_cachep);
	return err;
}

void fuse_iomap_vfs_unregister(void)
{
	unregister_filesystem(&fuse_iomap_fs_type);
	fuse_iomap_io_exit();
	/* Inodes are freed after an RCU grace period. */
	rcu_barrier();
	kmem_cache_destroy(fuse_iomap_inode_cachep);
}
