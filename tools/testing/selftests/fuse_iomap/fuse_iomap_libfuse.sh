#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Servers nobody here wrote, unchanged, on a fuse_iomap mount: Debian's
# libfuse 3 servers take /dev/fd/N as their mount point for a /dev/fuse-iomap
# descriptor their caller mounted. squashfuse serves a squashfs image, whose
# every file then reads back through read(), O_DIRECT and mmap; its
# requests come read() or splice()d, its replies writev()n. fuse-overlayfs
# (which wants FUSE_DONT_MASK, and splices requests) takes fio --verify
# writes, mkdir, rename and appends, which land in its upper directory with
# the modes the umask makes. Neither server negotiates iomap, so no
# IOMAP_BEGIN is ever sent; each stops by itself at unmount, as over
# /dev/fuse. Needs squashfs-tools, squashfuse and fuse-overlayfs
# (tools/bootstrap.sh installs them), fio and xfs_io.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
# shellcheck source=/dev/null
. "$here/fuse_iomap_mount_lib.sh"
dev=/dev/fuse-iomap
MiB=$((1 << 20))

ktap_print_header
if [ ! -c "$dev" ]; then
	ktap_skip_all "no $dev: the module is not loaded"
	exit "$KSFT_SKIP"
fi
for tool in mksquashfs squashfuse fuse-overlayfs fio xfs_io; do
	if ! command -v "$tool" >/dev/null; then
		ktap_skip_all "no $tool (tools/bootstrap.sh installs it)"
		exit "$KSFT_SKIP"
	fi
done
work=$(mktemp -d /tmp/fuse_iomap_libfuse.XXXXXX)
mnt=$work/mnt
src=$work/src
log=$work/server.log
pidfile=$work/server.pid
mkdir "$mnt" "$src"
trap 'umount -l "$mnt" 2>/dev/null; [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null; rm -rf "$work"' EXIT

# serve NAME SERVER ARGS...: mounts the module on a fresh descriptor of
# $dev at $mnt and starts SERVER ARGS... /dev/fd/3 (in the foreground, to
# the background, its output in $log and its pid in $pidfile); the
# descriptor is then the server's alone. The tests run in subshells, which
# cannot wait for it: stops_at_unmount watches the pid.
serve() {
	local name=$1
	shift
	exec 3<>"$dev" || return 1
	if ! mount -t fuse_iomap -o fd=3,rootmode=40000,user_id=0,group_id=0 "$name" "$mnt"; then
		exec 3>&-
		return 1
	fi
	"$@" /dev/fd/3 >>"$log" 2>&1 &
	echo $! >"$pidfile"
	exec 3>&-
	# The root answers once the server has made the handshake.
	timeout 60 stat "$mnt/." >/dev/null
}

# stops_at_unmount: the unmount ends the connection, and the server with it.
stops_at_unmount() {
	local i pid
	pid=$(cat "$pidfile") && umount "$mnt" || return 1
	for i in $(seq 1 100); do
		if ! kill -0 "$pid" 2>/dev/null; then
			: >"$pidfile"
			return
		fi
		sleep 0.1
	done
	echo "the server still runs 10 s after the unmount"
	return 1
}

make_tree() {
	local i
	fio --name=tree --filename="$src/fio" --size=8M --bs=64k --rw=write \
		--verify=crc32c --do_verify=0 --output-format=terse --minimal >/dev/null || return 1
	head -c $((3 * MiB + 100)) /dev/urandom >"$src/big" || return 1
	mkdir "$src/small" || return 1
	for i in $(seq 1 50); do
		echo "file $i" >"$src/small/$i" || return 1
	done
	mksquashfs "$src" "$work/image.sqfs" -quiet -noappend -no-progress
}

squashfuse_reads_back() {
	serve squashfuse squashfuse -f "$work/image.sqfs" || return 1
	diff -r "$src" "$mnt" || return 1
	fio --name=dio --filename="$mnt/fio" --size=8M --bs=64k --rw=read --direct=1 \
		--verify=crc32c --verify_only --output-format=terse --minimal >/dev/null &&
		fio --name=mmap --filename="$mnt/fio" --size=8M --bs=64k --rw=randread \
			--ioengine=mmap --verify=crc32c --verify_only --output-format=terse \
			--minimal >/dev/null &&
		cmp <(xfs_io -d -r -c "pread -q -b 1m -v 0 $((3 * MiB))" "$mnt/big") \
		    <(xfs_io -r -c "pread -q -b 1m -v 0 $((3 * MiB))" "$src/big")
}

# No IOMAP_BEGIN: the server's INIT reply did not take FUSE_IOMAP.
no_iomap_upcalls() {
	local begins
	begins=$(counter upcalls_iomap_begin big)
	echo "IOMAP_BEGIN upcalls: $begins"
	[ "$begins" = 0 ]
}

overlay_takes_writes() {
	local upper=$work/upper
	mkdir "$upper" "$work/ovl-work" || return 1
	serve fuse-overlayfs fuse-overlayfs -f \
		-o "lowerdir=$src,upperdir=$upper,workdir=$work/ovl-work" || return 1
	diff -r "$src" "$mnt" || return 1
	(cd "$work" && fio --name=write --filename="$mnt/written" --size=8M --bs=64k \
		--rw=randwrite --verify=crc32c --output-format=terse --minimal >/dev/null) ||
		return 1
	echo more >>"$mnt/small/1" && mkdir "$mnt/dir" && mv "$mnt/big" "$mnt/dir/big" || return 1
	(umask 027 && echo private >"$mnt/private") || return 1
	cmp "$mnt/written" "$upper/written" && cmp "$src/big" "$upper/dir/big" &&
		[ "$(cat "$upper/small/1")" = "$(printf 'file 1\nmore')" ] &&
		[ ! -e "$mnt/big" ] || return 1
	echo "mode of a file made under umask 027: $(stat -c %a "$upper/private")"
	[ "$(stat -c %a "$upper/private")" = 640 ]
}

ktap_set_plan 6
check "mksquashfs makes the image" make_tree
check "squashfuse on /dev/fd/N: every file reads back, O_DIRECT and mapped too" \
	squashfuse_reads_back
check "a libfuse server gets no IOMAP_BEGIN" no_iomap_upcalls
check "squashfuse stops by itself at unmount" stops_at_unmount
check "fuse-overlayfs on /dev/fd/N takes writes, renames and the umask" overlay_takes_writes
check "fuse-overlayfs stops by itself at unmount" stops_at_unmount
awk '{ print "# server log: " $0 }' "$log"
ktap_finished
