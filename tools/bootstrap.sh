#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Bootstrap everything the module, the host tests and the VM need, and build
# the guest kernel tree into a cache outside the repository.
#
#   tools/bootstrap.sh            install what is missing, build the tree,
#                                 print its path (KDIR) on the last line
#   tools/bootstrap.sh --kdir     print the cached tree's path, build nothing
#   tools/bootstrap.sh --fstests  print the built fstests tree's path, or
#                                 nothing when there is none, build nothing
#
# Idempotent: installed packages are skipped, and a tree whose build finished
# is reused. The tree is keyed by the kernel version and the hash of its
# config fragments (tools/vm/vm.config, tools/testing/selftests/fuse_iomap/
# config, and for the fast kernel tools/vm/fast.config), so changing one
# builds a new tree beside the old one.
#
# Environment:
#   FUSE_IOMAP_KERNEL  which guest kernel: "check" (default), with KASAN,
#                      lockdep and kmemleak, for make check and make run; or
#                      "fast", without them, for make fstests and benchmarks
#   FUSE_IOMAP_CACHE   cache directory (default /var/cache/fuse-iomap-ref)
#   JOBS               parallel make jobs (default: number of CPUs)
#   FSTESTS            an fstests checkout to build and use in place, instead
#                      of the pinned tarball
#   FSTESTS_TARBALL    the pinned tarball (default: ../shared/fstests/ beside
#                      the repository, where the project keeps it)
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${FUSE_IOMAP_CACHE:-/var/cache/fuse-iomap-ref}
jobs=${JOBS:-$(nproc)}
kernel_tarball=/usr/src/linux-source-6.12.tar.xz
bindgen_version=0.70.1
virtme_version=1.42
fragments=("$repo/tools/vm/vm.config" "$repo/tools/testing/selftests/fuse_iomap/config")
case "${FUSE_IOMAP_KERNEL:-check}" in
check) ;;
fast) fragments+=("$repo/tools/vm/fast.config") ;;
*) printf 'bootstrap: error: FUSE_IOMAP_KERNEL is check or fast, not %s\n' "$FUSE_IOMAP_KERNEL" >&2; exit 1 ;;
esac
# fstests is not packaged by Debian: the project pins an upstream commit as a
# tarball (../shared/fstests/README.md) and builds it into the cache.
fstests_commit=63a29724a85f
fstests_tarball=${FSTESTS_TARBALL:-$repo/../shared/fstests/fstests-$fstests_commit.tar.gz}

# Debian packages: the Rust toolchain the kernel accepts, the kernel source
# and what building it needs, QEMU for the guest, clang/llvm/lld for the
# LLVM=1 build and for BPF programs, udev so that virtme-ng can report the
# guest's exit status, python3-venv for virtme-ng. Not everything is there
# on a fresh Debian 12 (make fresh-check): git for fmtcheck's file list,
# ca-certificates for cargo and pip, pkg-config for libbpf-sys's vendored
# libbpf build (the sample server). The guest runs the host's programs: fio
# and xfs_io (xfsprogs) are the outside clients of the mount's tests, and
# pgrep (procps) finds the server that one of them kills. libext2fs-dev is the
# library (and header, for bindgen) of the server's `mount ext4`; e2fsprogs's
# mke2fs, debugfs and e2fsck make and check its images, and fuse2fs serves
# them over classic FUSE, the baseline to compare with. squashfuse (with
# squashfs-tools for its images) and fuse-overlayfs are libfuse 3 servers
# that the mount must serve unchanged. python3-matplotlib draws the chart
# of make bench-vm.
packages=(
	rustc-web rust-web-src rust-web-clippy rustfmt-web linux-source-6.12
	gcc make bc flex bison cpio kmod xz-utils libelf-dev libssl-dev dwarves
	clang llvm lld libclang-dev
	qemu-system-x86 udev python3 python3-venv python3-matplotlib bpftool rsync
	git ca-certificates pkg-config fio xfsprogs procps
	libext2fs-dev e2fsprogs fuse2fs squashfs-tools squashfuse fuse-overlayfs
	autoconf automake libtool xfslibs-dev uuid-dev libattr1-dev libacl1-dev libaio-dev
)

step() { printf '==> %s\n' "$*" >&2; }
die() { printf 'bootstrap: error: %s\n' "$*" >&2; exit 1; }

kernel_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null) ||
		die "linux-source-6.12 is not installed (run tools/bootstrap.sh as root)"
	# 6.12.117-1 -> 6.12.117
	printf '%s\n' "${v%%-*}"
}

tree_dir() {
	local hash
	hash=$(cat "${fragments[@]}" | sha256sum | cut -c1-12)
	printf '%s/linux-%s-%s\n' "$cache" "$(kernel_version)" "$hash"
}

install_packages() {
	local missing=() p
	for p in "${packages[@]}"; do
		[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return
	[ "$(id -u)" -eq 0 ] || die "missing Debian packages (${missing[*]}); run as root or install them"
	command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: this script expects Debian 12"
	step "installing Debian packages: ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# The kernel's Rust build runs bindgen; 6.12 wants a version Debian 12 does
# not package, so it comes from crates.io.
install_bindgen() {
	local bin=${CARGO_HOME:-$HOME/.cargo}/bin/bindgen
	if [ -x "$bin" ] && [ "$("$bin" --version)" = "bindgen $bindgen_version" ]; then
		return
	fi
	command -v cargo >/dev/null || {
		step "installing cargo-web (no cargo on PATH)"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cargo-web >/dev/null
	}
	command -v cargo >/dev/null || die "no cargo on PATH: install a Rust toolchain (rustup) or Debian's cargo-web"
	step "installing bindgen-cli $bindgen_version from crates.io (a few minutes)"
	cargo install --quiet --locked "bindgen-cli@$bindgen_version"
}

install_virtme() {
	local venv=$cache/venv
	# Read the version into a variable: "pip show | grep -q" fails under
	# pipefail when grep exits before pip has written everything.
	local have=
	[ -x "$venv/bin/vng" ] && have=$("$venv/bin/pip" show virtme-ng 2>/dev/null) || true
	if [[ $have == *$'\nVersion: '"$virtme_version"$'\n'* ]]; then
		return
	fi
	step "installing virtme-ng $virtme_version from PyPI into $venv"
	python3 -m venv "$venv"
	"$venv/bin/pip" install --quiet --disable-pip-version-check "virtme-ng==$virtme_version"
}

# Every option the fragments ask for must be in the final .config: an option
# that Kconfig silently dropped (an unmet dependency) would otherwise surface
# much later as a module that does not build or a test that cannot run. A
# later fragment overrides an earlier one, as in merge_config.sh.
check_config() {
	local dir=$1 line opt want bad=0
	local -A asks from
	for f in "${fragments[@]}"; do
		while IFS= read -r line; do
			case "$line" in CONFIG_*=*) ;; *) continue ;; esac
			asks[${line%%=*}]=${line#*=}
			from[${line%%=*}]=${f#"$repo"/}
		done <"$f"
	done
	for opt in "${!asks[@]}"; do
		want=${asks[$opt]}
		if [ "$want" = n ]; then
			grep -q "^$opt=" "$dir/.config" || continue
		else
			grep -qx "$opt=$want" "$dir/.config" && continue
		fi
		printf 'bootstrap: %s asks for %s=%s, .config has: %s\n' "${from[$opt]}" "$opt" "$want" \
			"$(grep -m1 "^$opt=\|^# $opt is not set" "$dir/.config" || echo unset)" >&2
		bad=1
	done
	[ $bad -eq 0 ] || die "the kernel config does not satisfy the fragments (unmet dependencies?)"
}

build_kernel() {
	local dir=$1
	local kmake=(make -C "$dir" -j"$jobs" LLVM=1 RUSTC=/usr/bin/rustc
		BINDGEN="${CARGO_HOME:-$HOME/.cargo}/bin/bindgen")
	if [ -f "$dir/.fuse-iomap-built" ] && [ -f "$dir/vmlinux" ]; then
		step "reusing the kernel tree $dir"
		return
	fi
	mkdir -p "$cache"
	if [ ! -f "$dir/Makefile" ]; then
		step "extracting $kernel_tarball into $dir"
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		tar -xf "$kernel_tarball" -C "$dir.tmp" --strip-components=1
		mv "$dir.tmp" "$dir"
	fi
	step "configuring: tinyconfig + ${fragments[*]#"$repo"/}"
	"${kmake[@]}" -s tinyconfig >/dev/null
	(cd "$dir" && scripts/kconfig/merge_config.sh -m .config "${fragments[@]}" >/dev/null)
	"${kmake[@]}" -s olddefconfig >/dev/null
	"${kmake[@]}" -s rustavailable >/dev/null ||
		die "the kernel does not accept this Rust toolchain (see: make -C $dir LLVM=1 rustavailable)"
	check_config "$dir"
	step "building the kernel in $dir with $jobs jobs (about 10 minutes on 2 cores)"
	"${kmake[@]}" -s all
	touch "$dir/.fuse-iomap-built"
	step "kernel tree ready"
}

# The fstests tree: $FSTESTS itself, or the pinned tarball built in the cache.
fstests_dir() {
	if [ -n "${FSTESTS:-}" ]; then
		(cd "$FSTESTS" && pwd)
	else
		printf '%s/fstests-%s\n' "$cache" "$fstests_commit"
	fi
}

# fstests builds in its own tree (its Makefile runs configure); a cached
# tree is reused once its build finished, a user's checkout is rebuilt by its
# own make. Without the tarball (a clone away from the project's shared
# files) there is no fstests, and the tests that need it skip, saying why.
build_fstests() {
	local dir
	dir=$(fstests_dir)
	if [ -z "${FSTESTS:-}" ]; then
		if [ -f "$dir/.fuse-iomap-built" ]; then
			step "reusing fstests in $dir"
			return
		fi
		if [ ! -f "$fstests_tarball" ]; then
			step "no fstests tarball at $fstests_tarball: the tests that run fsx, fsstress or fstests will skip"
			return
		fi
		step "extracting $fstests_tarball into $dir"
		rm -rf "$dir.tmp" "$dir"
		mkdir -p "$dir.tmp"
		tar -xzf "$fstests_tarball" -C "$dir.tmp" --strip-components=1
		mv "$dir.tmp" "$dir"
	fi
	step "building fstests in $dir (a minute or two)"
	make -C "$dir" -s -j"$jobs" >/dev/null || die "building fstests in $dir failed"
	[ -n "${FSTESTS:-}" ] || touch "$dir/.fuse-iomap-built"
}

main() {
	case "${1:-}" in
	--kdir)
		tree_dir
		return
		;;
	--fstests)
		local f
		f=$(fstests_dir)
		if [ -n "${FSTESTS:-}" ]; then
			[ ! -x "$f/ltp/fsx" ] || printf '%s\n' "$f"
		else
			[ ! -f "$f/.fuse-iomap-built" ] || printf '%s\n' "$f"
		fi
		return
		;;
	esac
	[ $# -eq 0 ] || die "usage: tools/bootstrap.sh [--kdir | --fstests]"
	# One bootstrap at a time: two would extract and build into the same
	# directories. (A make target started meanwhile waits here.)
	mkdir -p "$cache"
	exec 9>"$cache/.bootstrap.lock"
	flock 9
	install_packages
	[ -f "$kernel_tarball" ] || die "$kernel_tarball is missing (package linux-source-6.12)"
	install_bindgen
	install_virtme
	local dir
	dir=$(tree_dir)
	build_kernel "$dir"
	build_fstests
	printf '%s\n' "$dir"
}

main "$@"
