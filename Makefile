# SPDX-License-Identifier: GPL-2.0
#
# fuse-iomap-ref: build the out-of-tree module, run the tests, boot the demo.
#
#   make            build fs/fuse_iomap/fuse_iomap.ko (bootstraps the tree)
#   make run        boot the guest, load the module, run the demo
#   make shell      an interactive shell in the guest, the module loaded
#   make fstests    fstests against the mount (FSTESTS_LIST), on the fast kernel
#   make bench-vm   one ext4 image read by ext4, fuse2fs and the module, on the
#                   fast kernel: Documentation/fuse_iomap/bench_ext4.rst
#   make famfs-shared  two guests, one shared pmem: B reads A's famfs file
#   make check      host tests, module build and clippy, VM selftests, and
#                   fstests' short list on the fast kernel
#   make tools      host tools (cache replay) in rust/target/release
#   make samples    the sample server, samples/fuse_iomap_server
#   make bench      host benchmarks (criterion)
#   make fuzz       fuzz the trace format for FUZZ_SECONDS (default 60)
#   make fresh-check  the README's commands on a fresh Debian 12 root (as root)
#   make KDIR=...   build against another Rust-enabled, built kernel tree
#
# See Documentation/fuse_iomap/build.rst and testing.rst.

REPO := $(CURDIR)
SHELL := /bin/bash

# Without KDIR on the command line, the tree is the cached one that
# tools/bootstrap.sh builds (and installs the toolchain for) on first use.
# KDIR is expanded when a recipe runs, after the bootstrap prerequisite: on a
# fresh machine the kernel version that keys the cache is not known before.
ifeq ($(origin KDIR),command line)
BOOTSTRAP :=
else
KDIR = $(shell $(REPO)/tools/bootstrap.sh --kdir)
BOOTSTRAP := bootstrap
endif

# The Debian toolchain the tree was built with; a tree built with clang needs
# LLVM=1 for its modules too.
RUSTC ?= /usr/bin/rustc
CLIPPY_DRIVER ?= /usr/bin/clippy-driver
# kmake,TREE,MODULE_DIR: kbuild of the tree for the module's sources there.
kmake = $(MAKE) -C $(1) M=$(2) RUSTC=$(RUSTC) CLIPPY_DRIVER=$(CLIPPY_DRIVER) \
	$(if $(shell grep -sx CONFIG_CC_IS_CLANG=y $(1)/.config),LLVM=1)
KMAKE = $(call kmake,$(KDIR),$(REPO))

SELFTESTS := tools/testing/selftests/fuse_iomap

# Runs kbuild with targets $(1), for tree $(2) and the module's sources in
# $(3) (by default KDIR and the repository). objtool's warnings are not
# errors in 6.12; here, as every other warning, they are. (tee appends:
# stderr may be the log file that the output so far went to.)
kbuild = set -o pipefail; $(call kmake,$(or $(2),$(KDIR)),$(or $(3),$(REPO))) $(1) 2>&1 | \
	tee -a /dev/stderr | (! grep 'warning: objtool:' >/dev/null)

.PHONY: all modules bootstrap clippy fmtcheck rust-analyzer host-test selftests \
	samples tools bench fuzz check run shell fast-modules fstests bench-vm famfs-shared \
	fresh-check \
	clean

all: modules

bootstrap:
	@$(REPO)/tools/bootstrap.sh >/dev/null

modules: $(BOOTSTRAP)
	@test -f $(KDIR)/vmlinux || { echo "KDIR=$(KDIR) is not a built kernel tree" >&2; exit 1; }
	@grep -qx CONFIG_RUST=y $(KDIR)/.config || { echo "KDIR=$(KDIR) is not built with CONFIG_RUST=y" >&2; exit 1; }
	$(call kbuild,modules)

# The kernel's own clippy run (CLIPPY=1) over the Rust objects; kbuild
# rebuilds them because the command line changes.
clippy: modules
	$(call kbuild,CLIPPY=1 modules)

# rustfmt defaults (the kernel's .rustfmt.toml sets nothing else), with the
# toolchain the module builds with. The file list comes first: without git
# (or outside a clone), rustfmt would be given no file and check nothing.
RUSTFMT ?= /usr/bin/rustfmt
fmtcheck:
	files=$$(git ls-files '*.rs') && [ -n "$$files" ] && $(RUSTFMT) --edition 2021 --check $$files

rust-analyzer: $(BOOTSTRAP)
	$(KMAKE) rust-analyzer

# Warnings are errors here too; the test build also reports dead code. The
# loom model checks of the daxdev table build with --cfg loom, apart.
host-test:
	cd rust && RUSTFLAGS="-D warnings" cargo test
	cd rust && RUSTFLAGS="-D warnings --cfg loom" CARGO_TARGET_DIR=target/loom \
		cargo test --release -p fuse_iomap --lib daxdev_loom

tools:
	cd rust && cargo build --release --bins

# The sample server and the BPF selftests, for the VM tier and the demo;
# clippy-clean, as the host crates are. Their BPF programs are built against
# the BTF of the tree and of the module.
SERVER := samples/fuse_iomap_server
samples: modules
	cd $(SERVER) && FUSE_IOMAP_KDIR=$(KDIR) RUSTFLAGS="-D warnings" cargo build --release
	cd $(SERVER) && FUSE_IOMAP_KDIR=$(KDIR) RUSTFLAGS="-D warnings" \
		cargo clippy --release --all-targets -- -D warnings
	cd $(SERVER) && FUSE_IOMAP_KDIR=$(KDIR) RUSTFLAGS="-D warnings" cargo test --release

# The criterion benchmarks, then the tables of Documentation/fuse_iomap/
# cache.rst: lookup and upsert against BTreeMap, and the upcalls of each
# cache policy on the workloads.
bench:
	cd rust && cargo bench --bench cache --bench fmap
	$(REPO)/tools/fuse_iomap/cache-bench-table
	cd rust && cargo run --quiet --release --bin cache -- compare --rst

# cargo-fuzz needs nightly features; RUSTC_BOOTSTRAP lets the stable
# toolchain of this machine provide them.
FUZZ_SECONDS ?= 60
fuzz:
	@command -v cargo-fuzz >/dev/null || cargo install --locked cargo-fuzz@0.13.2
	cd rust/fuzz && corpus=$$(mktemp -d) && RUSTC_BOOTSTRAP=1 cargo fuzz run replay \
		$$corpus $(REPO)/$(SELFTESTS)/traces -- -max_total_time=$(FUZZ_SECONDS); \
		rc=$$?; rm -rf $$corpus; exit $$rc

# Built out of the sources, in build/selftests/fuse_iomap (see its Makefile).
selftests: $(BOOTSTRAP)
	$(MAKE) -C $(SELFTESTS) KDIR=$(KDIR)

check: $(BOOTSTRAP) fmtcheck host-test clippy selftests samples fast-modules
	$(REPO)/tools/vm/run.sh $(KDIR) check
	FUSE_IOMAP_KO=$(FAST_KO) FSTESTS_RESULTS=$(REPO)/results/fstests-quick \
		$(REPO)/tools/vm/run.sh $(FAST_KDIR) fstests $(FSTESTS_QUICK)
	@echo "make check: all tiers passed"

run: modules samples
	$(REPO)/tools/vm/run.sh $(KDIR) demo

# An interactive shell in the guest, with the module loaded and the sample
# server built (tools/vm/run.sh's shell mode).
shell: modules samples
	$(REPO)/tools/vm/run.sh $(KDIR) shell

# The fast kernel (tools/vm/fast.config: no KASAN, lockdep or kmemleak,
# whose cost under TCG would not fit fstests in CI's time), and the module
# built for it from a copy of its sources in build/fast, so that the module
# built in place stays KDIR's and neither build undoes the other.
FAST_KDIR = $(shell FUSE_IOMAP_KERNEL=fast $(REPO)/tools/bootstrap.sh --kdir)
FAST_MOD := $(REPO)/build/fast
FAST_KO := $(FAST_MOD)/fs/fuse_iomap/fuse_iomap.ko
fast-modules:
	@FUSE_IOMAP_KERNEL=fast $(REPO)/tools/bootstrap.sh >/dev/null
	mkdir -p $(FAST_MOD)
	rsync -a --delete --exclude-from=$(REPO)/.gitignore $(REPO)/Kbuild $(REPO)/fs \
		$(REPO)/include $(FAST_MOD)/
	$(call kbuild,modules,$(FAST_KDIR),$(FAST_MOD))

# fstests against the mount (tools/fstests/, Documentation/fuse_iomap/
# fstests.rst): the tests of FSTESTS_LIST on the fast kernel, results in
# results/fstests. make check runs the short list FSTESTS_QUICK.
FSTESTS_LIST ?= $(REPO)/tools/fstests/fuse_iomap.list
FSTESTS_QUICK := $(REPO)/tools/fstests/quick.list
fstests: fast-modules samples
	FUSE_IOMAP_KO=$(FAST_KO) \
		$(REPO)/tools/vm/run.sh $(FAST_KDIR) fstests $(FSTESTS_LIST)

# The ext4 read benchmark (tools/vm/bench_ext4.sh) on the fast kernel: one
# image read by the kernel's ext4, fuse2fs and the module with the sample
# server, on the guest's virtio-blk disk, or with BENCH_DEVICE=memory on a
# loop device in the guest's memory. The results stay in BENCH_RESULTS;
# their table and chart are Documentation/fuse_iomap/bench_ext4.rst and
# bench_ext4.png (bench_ext4_memory.* for memory).
BENCH_DEVICE ?= virtio
ifeq ($(BENCH_DEVICE),virtio)
BENCH_RESULTS ?= $(REPO)/results/bench-ext4
else
BENCH_RESULTS ?= $(REPO)/results/bench-ext4-$(BENCH_DEVICE)
endif
bench-vm: fast-modules samples
	FUSE_IOMAP_KO=$(FAST_KO) BENCH_RESULTS=$(BENCH_RESULTS) BENCH_DEVICE=$(BENCH_DEVICE) \
		$(REPO)/tools/vm/run.sh $(FAST_KDIR) bench
	$(REPO)/tools/fuse_iomap/bench-ext4-report $(BENCH_RESULTS)

# Two guests booted together on one shared pmem file: guest B reads the
# famfs file that guest A wrote (tools/vm/famfs_shared.sh), on the fast
# kernel.
famfs-shared: fast-modules samples
	FUSE_IOMAP_KO=$(FAST_KO) $(REPO)/tools/vm/famfs_shared.sh $(FAST_KDIR)

# tools/fresh-check.sh: a minimal Debian 12 root, a clean clone of HEAD in
# it, and the README's commands run there in a chroot. Run it whenever the
# bootstrap, the README or the test tooling changes.
fresh-check:
	$(REPO)/tools/fresh-check.sh

clean:
	-$(KMAKE) clean
	-$(MAKE) -C $(SELFTESTS) KDIR=$(KDIR) clean
	cd rust && cargo clean
	cd $(SERVER) && cargo clean
