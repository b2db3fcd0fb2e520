#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Follow the README on a fresh Debian 12 machine: build a minimal bookworm
# root with mmdebstrap, clone the repository's committed HEAD into it, and
# run there, as root in a chroot, the commands of the README's first sh
# block, in order (the prerequisite, then `make run` and `make check`).
#
#   tools/fresh-check.sh          (as root; about 30-45 minutes on 2 cores)
#
# Why: the machines that run `make check` every day have accumulated tools
# that tools/bootstrap.sh never installed (rsync went unnoticed that way),
# and CI runs on such a machine. In the fresh root, whatever the README and
# the bootstrap do not install is missing, so the run fails where a new user
# would. Run it whenever the bootstrap, the README or the test tooling
# (Makefile, tools/vm/, the selftests, the sample server's build) changes.
#
# The root is a Debian 12 minbase (Essential packages and apt) with the
# default sources (bookworm, bookworm-updates, bookworm-security). Its
# kernel cache is its own /var/cache/fuse-iomap-ref: the kernel tree is
# built from scratch. The host's /proc, /sys and /dev (with /dev/pts) are
# bind-mounted into it and /tmp is a tmpfs; everything is unmounted on exit,
# failed or not. virtme-ng shares `/` with the guest as its root, which in
# the chroot is the fresh root: the guest runs on it.
#
# The host's own CA certificates (/usr/local/share/ca-certificates) are
# copied into the root, where they take effect only once the bootstrap has
# installed ca-certificates: a TLS-intercepting proxy that the host trusts
# is then trusted in the root too. So is the pinned fstests tarball, beside
# the clone as beside the repository (../shared/fstests/). Nothing else of
# the host leaks in, not even its environment (but VM_TIMEOUT).
#
# Environment:
#   FRESH_ROOT   the root's directory (default /var/tmp/fuse-iomap-fresh),
#                outside the repository; replaced if a previous run left it
#   FRESH_KEEP   1: keep the root at the end (to look into a failure:
#                chroot into it after mounting what this script mounts)
#   FRESH_CA     0: do not copy the host's local CA certificates
#   VM_TIMEOUT   passed on to tools/vm/run.sh in the root
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
root=${FRESH_ROOT:-/var/tmp/fuse-iomap-fresh}
keep=${FRESH_KEEP:-0}
copy_ca=${FRESH_CA:-1}
marker=.fuse-iomap-fresh
# Where the clone is, in the root: root's home, as a new user would clone.
clone=/root/fuse-iomap-ref
sources=(
	"deb http://deb.debian.org/debian bookworm main"
	"deb http://deb.debian.org/debian bookworm-updates main"
	"deb http://deb.debian.org/debian-security bookworm-security main"
)

step() { printf '==> fresh-check: %s\n' "$*"; }
die() { printf 'fresh-check: error: %s\n' "$*" >&2; exit 2; }

[ "$(id -u)" -eq 0 ] || die "run as root (mmdebstrap, mounts, chroot)"
root=$(realpath -m "$root")
case "$root" in
/ | /bin* | /boot* | /dev* | /etc* | /lib* | /proc* | /run* | /sbin* | /sys* | /usr* | /root)
	die "FRESH_ROOT=$root is not a place for a scratch root" ;;
"$repo" | "$repo"/*)
	die "FRESH_ROOT=$root is inside the repository" ;;
esac

# The mount points under the root, deepest first.
mounts_under() {
	awk -v r="$root/" 'substr($5, 1, length(r)) == r { print $5 }' /proc/self/mountinfo | sort -r
}

# Processes left running in the root (after an interrupt: QEMU, cargo):
# this script started them, end them by pid.
kill_root_processes() {
	local p pids=()
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/root" 2>/dev/null)" = "$root" ] && pids+=("${p#/proc/}")
	done
	[ ${#pids[@]} -gt 0 ] || return 0
	kill -TERM "${pids[@]}" 2>/dev/null || true
	sleep 2
	kill -KILL "${pids[@]}" 2>/dev/null || true
	sleep 1
}

unmount_all() {
	local m
	for m in $(mounts_under); do
		umount "$m" 2>/dev/null || umount -l "$m" || true
	done
}

remove_root() {
	[ -d "$root" ] || return 0
	if [ -n "$(mounts_under)" ]; then
		printf 'fresh-check: something is still mounted under %s; not removing it\n' "$root" >&2
		return 1
	fi
	rm -rf --one-file-system "$root"
}

result=FAIL
start=$SECONDS
# The commit checked, once known: the HEAD cloned, whatever HEAD is when the
# run ends.
head=unknown
# In a trap handler, a bare `return` returns the status before the trap:
# the functions called here return 0 explicitly, and errexit is off.
cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	kill_root_processes
	unmount_all
	if [ "$keep" = 1 ]; then
		step "kept the root $root"
	elif [ -f "$root/$marker" ]; then
		remove_root || true
	fi
	[ $rc -eq 0 ] || result=FAIL
	printf 'fresh-check: %s (%d min, HEAD %s)\n' "$result" $(((SECONDS - start) / 60)) \
		"$head"
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What this script itself needs on the host.
if ! command -v mmdebstrap >/dev/null; then
	step "installing mmdebstrap on the host"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends mmdebstrap >/dev/null
fi
command -v git >/dev/null || die "no git on the host to clone the repository with"
head=$(git -C "$repo" rev-parse --short HEAD)

# The commands: the README's first sh block, comments dropped.
mapfile -t commands < <(awk '/^```sh$/ { on = 1; next } on && /^```/ { exit } on' "$repo/README.md" |
	sed 's/[[:space:]]*#.*$//' | grep -v '^[[:space:]]*$')
[ ${#commands[@]} -gt 0 ] || die "no commands in README.md's sh block"

if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then
	step "note: uncommitted changes are not checked, only HEAD"
fi

if [ -e "$root" ]; then
	[ -f "$root/$marker" ] || die "$root exists and is not a root this script made; remove it or set FRESH_ROOT"
	step "removing the previous root $root"
	kill_root_processes
	unmount_all
	remove_root || exit 2
fi

step "building a minimal Debian 12 root in $root (mmdebstrap, minbase)"
# The marker first, so that a root whose build failed is replaced too.
mkdir -p "$root"
touch "$root/$marker"
mmdebstrap --quiet --variant=minbase --mode=root --skip=check/empty bookworm "$root" "${sources[@]}"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
if [ "$copy_ca" = 1 ] && compgen -G '/usr/local/share/ca-certificates/*.crt' >/dev/null; then
	mkdir -p "$root/usr/local/share/ca-certificates"
	cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
fi

step "cloning $head into $clone"
git clone --quiet "$repo" "$root$clone"
# The project's shared files sit beside a clone: the pinned fstests tarball
# that the bootstrap builds (tools/bootstrap.sh), if this machine has it.
if compgen -G "$repo/../shared/fstests/*.tar.gz" >/dev/null; then
	mkdir -p "$root$clone/../shared/fstests"
	cp "$repo"/../shared/fstests/*.tar.gz "$root$clone/../shared/fstests/"
fi
[ "$(git -C "$root$clone" rev-parse HEAD)" = "$(git -C "$repo" rev-parse HEAD)" ] ||
	die "the clone's HEAD is not the repository's"

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"
mountpoint -q "$root/dev/pts" || mount --bind /dev/pts "$root/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"

# A login shell of root with nothing of this environment but TERM, and
# VM_TIMEOUT if set (a TCG guest on a loaded machine can need more than the
# default 900 s).
in_root() {
	chroot "$root" /usr/bin/env -i HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 \
		TERM="${TERM:-dumb}" PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		${VM_TIMEOUT:+VM_TIMEOUT="$VM_TIMEOUT"} \
		/bin/bash -l -c "cd $clone && $1"
}

for cmd in "${commands[@]}"; do
	step "running \`$cmd\` (from README.md)"
	t=$SECONDS
	if ! in_root "$cmd" </dev/null; then
		step "\`$cmd\` failed after $(((SECONDS - t) / 60)) min"
		exit 1
	fi
	step "\`$cmd\` passed in $(((SECONDS - t) / 60)) min"
done
result=PASS
