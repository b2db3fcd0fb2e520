// SPDX-License-Identifier: GPL-2.0
/*
 * The BTF-visible half of the BPF hooks: the fuse_iomap_bpf_ops struct_ops
 * type, its verifier rules, and the kfuncs. Rust objects carry no BTF, so
 * what the verifier and BPF programs must see is declared here, in the
 * manner of the kernel's bpf_testmod; every operation forwards to bpf.rs.
 *
 * A server attaches a table to its connection by the file descriptor of its
 * /dev/fuse-iomap file (fuse_fd). The programs get an opaque struct
 * fuse_bpf_inode (read it with the kfuncs) and may write only the answer
 * they are handed: a struct fuse_iomap_begin_out or fuse_iomap_ioend_out.
 */
#include <linux/bpf.h>
#include <linux/bpf_verifier.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/string.h>
#include <uapi/linux/fuse_iomap.h>

#include "glue.h"

/* What a program answers: handled, or fall back to the next source. */
enum fuse_iomap_bpf_answer {
	FIB_FALLBACK = 0,
	FIB_HANDLED = 1,
};

/*
 * The mapping types a program sets, as enumerators so that BTF (and so a
 * vmlinux.h made from it) carries them; the values are the uapi's.
 */
enum fuse_iomap_bpf_type {
	FUSE_IOMAP_BPF_HOLE = FUSE_IOMAP_TYPE_HOLE,
	FUSE_IOMAP_BPF_MAPPED = FUSE_IOMAP_TYPE_MAPPED,
	FUSE_IOMAP_BPF_UNWRITTEN = FUSE_IOMAP_TYPE_UNWRITTEN,
	FUSE_IOMAP_BPF_NOCACHE = FUSE_IOMAP_TYPE_NOCACHE,
	FUSE_IOMAP_BPF_RETRY_CACHE = FUSE_IOMAP_TYPE_RETRY_CACHE,
	FUSE_IOMAP_BPF_PURE_OVERWRITE = FUSE_IOMAP_TYPE_PURE_OVERWRITE,
};

/*
 * The inode a program is called for. Only these fields are visible to BPF;
 * bpf.rs wraps it with what the kfuncs need.
 */
struct fuse_bpf_inode {
	u64 nodeid;
	u64 orig_ino;
};

struct fuse_iomap_bpf_ops {
	int (*iomap_begin)(struct fuse_bpf_inode *fbi, u64 pos, u64 count,
			   u32 opflags, struct fuse_iomap_begin_out *out);
	int (*iomap_end)(struct fuse_bpf_inode *fbi, u64 pos, u64 count,
			 s64 written, u32 opflags);
	/*
	 * The RFC passes the ioend's fields one by one, eight arguments in all;
	 * 6.12's x86 trampoline reads the arguments beyond the sixth at the
	 * wrong place for struct_ops (it expects an fentry's frame), so the
	 * request is passed whole, read-only.
	 */
	int (*iomap_ioend)(struct fuse_bpf_inode *fbi,
			   const struct fuse_iomap_ioend_in *in,
			   struct fuse_iomap_ioend_out *out);
	int fuse_fd;
	unsigned int zeropad;
	char name[16];
};

/* The calls into a table; an operation a table leaves out falls back. */
int fuse_iomap_bpf_begin(const void *ops, void *fbi, u64 pos, u64 count,
			 u32 opflags, struct fuse_iomap_begin_out *out)
{
	const struct fuse_iomap_bpf_ops *o = ops;

	return o->iomap_begin ? o->iomap_begin(fbi, pos, count, opflags, out) : FIB_FALLBACK;
}

int fuse_iomap_bpf_end(const void *ops, void *fbi, u64 pos, u64 count,
		       s64 written, u32 opflags)
{
	const struct fuse_iomap_bpf_ops *o = ops;

	return o->iomap_end ? o->iomap_end(fbi, pos, count, written, opflags) : FIB_FALLBACK;
}

int fuse_iomap_bpf_ioend(const void *ops, void *fbi,
			 const struct fuse_iomap_ioend_in *in,
			 struct fuse_iomap_ioend_out *out)
{
	const struct fuse_iomap_bpf_ops *o = ops;

	return o->iomap_ioend ? o->iomap_ioend(fbi, in, out) : FIB_FALLBACK;
}

__bpf_kfunc_start_defs();

__bpf_kfunc int fuse_bpf_iomap_upsert_mappings(struct fuse_bpf_inode *fbi,
					       const struct fuse_iomap_io *read__nullable,
					       const struct fuse_iomap_io *write__nullable)
{
	return fuse_iomap_rs_bpf_upsert(fbi, read__nullable, write__nullable);
}

__bpf_kfunc int fuse_bpf_iomap_inval_mappings(struct fuse_bpf_inode *fbi,
					      const struct fuse_range *read__nullable,
					      const struct fuse_range *write__nullable)
{
	return fuse_iomap_rs_bpf_inval(fbi, read__nullable, write__nullable);
}

__bpf_kfunc u64 fuse_bpf_inode_nodeid(struct fuse_bpf_inode *fbi)
{
	return fbi->nodeid;
}

__bpf_kfunc u64 fuse_bpf_inode_orig_ino(struct fuse_bpf_inode *fbi)
{
	return fbi->orig_ino;
}

__bpf_kfunc_end_defs();

BTF_KFUNCS_START(fuse_iomap_kfunc_ids)
BTF_ID_FLAGS(func, fuse_bpf_iomap_upsert_mappings, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, fuse_bpf_iomap_inval_mappings, KF_SLEEPABLE | KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, fuse_bpf_inode_nodeid, KF_TRUSTED_ARGS)
BTF_ID_FLAGS(func, fuse_bpf_inode_orig_ino, KF_TRUSTED_ARGS)
BTF_KFUNCS_END(fuse_iomap_kfunc_ids)

static const struct btf_kfunc_id_set fuse_iomap_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &fuse_iomap_kfunc_ids,
};

/* The only structures a program may write: the answers it is handed. */
BTF_ID_LIST(fuse_iomap_writable_ids)
BTF_ID(struct, fuse_iomap_begin_out)
BTF_ID(struct, fuse_iomap_ioend_out)

static int fuse_iomap_bpf_struct_access(struct bpf_verifier_log *log,
					const struct bpf_reg_state *reg,
					int off, int size)
{
	size_t end;

	if (reg->btf_id == fuse_iomap_writable_ids[0])
		end = sizeof(struct fuse_iomap_begin_out);
	else if (reg->btf_id == fuse_iomap_writable_ids[1])
		end = sizeof(struct fuse_iomap_ioend_out);
	else
		end = 0;
	if (off < 0 || off + size > end) {
		bpf_log(log, "Cannot write to memory from a fuse-iomap program\n");
		return -EACCES;
	}
	return 0;
}

static bool fuse_iomap_bpf_valid_access(int off, int size, enum bpf_access_type type,
					const struct bpf_prog *prog,
					struct bpf_insn_access_aux *info)
{
	return bpf_tracing_btf_ctx_access(off, size, type, prog, info);
}

static const struct bpf_verifier_ops fuse_iomap_verifier_ops = {
	.get_func_proto = bpf_base_func_proto,
	.is_valid_access = fuse_iomap_bpf_valid_access,
	.btf_struct_access = fuse_iomap_bpf_struct_access,
};

static int fuse_iomap_bpf_init(struct btf *btf)
{
	return 0;
}

/* Copies the data members; a nonzero zeropad or an empty name is EINVAL. */
static int fuse_iomap_bpf_init_member(const struct btf_type *t,
				      const struct btf_member *member,
				      void *kdata, const void *udata)
{
	const struct fuse_iomap_bpf_ops *uops = udata;
	struct fuse_iomap_bpf_ops *ops = kdata;

	switch (__btf_member_bit_offset(t, member) / 8) {
	case offsetof(struct fuse_iomap_bpf_ops, fuse_fd):
		ops->fuse_fd = uops->fuse_fd;
		return 1;
	case offsetof(struct fuse_iomap_bpf_ops, zeropad):
		return uops->zeropad ? -EINVAL : 1;
	case offsetof(struct fuse_iomap_bpf_ops, name):
		if (!uops->name[0] || !memchr(uops->name, 0, sizeof(uops->name)))
			return -EINVAL;
		memcpy(ops->name, uops->name, sizeof(ops->name));
		return 1;
	}
	return 0;
}

static int fuse_iomap_bpf_reg(void *kdata, struct bpf_link *link)
{
	const struct fuse_iomap_bpf_ops *ops = kdata;

	return fuse_iomap_rs_bpf_reg(kdata, ops->fuse_fd);
}

static void fuse_iomap_bpf_unreg(void *kdata, struct bpf_link *link)
{
	fuse_iomap_rs_bpf_unreg(kdata);
}

static int fuse_iomap_begin_stub(struct fuse_bpf_inode *fbi, u64 pos, u64 count,
				 u32 opflags, struct fuse_iomap_begin_out *out)
{
	return FIB_FALLBACK;
}

static int fuse_iomap_end_stub(struct fuse_bpf_inode *fbi, u64 pos, u64 count,
			       s64 written, u32 opflags)
{
	return FIB_FALLBACK;
}

static int fuse_iomap_ioend_stub(struct fuse_bpf_inode *fbi,
				 const struct fuse_iomap_ioend_in *in,
				 struct fuse_iomap_ioend_out *out)
{
	return FIB_FALLBACK;
}

static struct fuse_iomap_bpf_ops fuse_iomap_cfi_stubs = {
	.iomap_begin = fuse_iomap_begin_stub,
	.iomap_end = fuse_iomap_end_stub,
	.iomap_ioend = fuse_iomap_ioend_stub,
};

static struct bpf_struct_ops fuse_iomap_bpf_struct_ops = {
	.verifier_ops = &fuse_iomap_verifier_ops,
	.init = fuse_iomap_bpf_init,
	.init_member = fuse_iomap_bpf_init_member,
	.reg = fuse_iomap_bpf_reg,
	.unreg = fuse_iomap_bpf_unreg,
	.cfi_stubs = &fuse_iomap_cfi_stubs,
	.name = "fuse_iomap_bpf_ops",
	.owner = THIS_MODULE,
};

/* Registers the kfuncs and the struct_ops type, at module load. */
int fuse_iomap_bpf_register(void)
{
	int ret;

	BTF_TYPE_EMIT_ENUM(FIB_FALLBACK);
	BTF_TYPE_EMIT_ENUM(FUSE_IOMAP_BPF_HOLE);
	ret = register_btf_kfunc_id_set(BPF_PROG_TYPE_STRUCT_OPS, &fuse_iomap_kfunc_set);
	return ret ?: register_bpf_struct_ops(&fuse_iomap_bpf_struct_ops, fuse_iomap_bpf_ops);
}

/*
 * The connection of file descriptor fd, if it is a server's file of
 * /dev/fuse-iomap: its private_data, with a reference to the file in
 * *filep (fput() it after use); NULL otherwise.
 */
void *fuse_iomap_glue_server_of_fd(int fd, struct file **filep)
{
	struct file *file = fget(fd);

	if (!file)
		return NULL;
	if (!fuse_iomap_glue_is_server(file)) {
		fput(file);
		return NULL;
	}
	*filep = file;
	return file->private_data;
}

void fuse_iomap_glue_fput(struct file *file)
{
	fput(file);
}
