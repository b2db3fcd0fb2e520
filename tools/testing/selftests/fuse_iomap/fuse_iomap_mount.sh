#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample server's disk file system, mounted, against outside clients:
# fio --verify (direct, buffered, mmap), xfs_io fiemap and seek against the
# extents the server allocated, truncation, the mapping cache on a second
# pass, a remount that reads everything back, and a server killed under
# I/O, and fstests' fsx exercising one file with random reads, writes, mapped
# reads and writes, truncates and fallocates, buffered and O_DIRECT, and the
# server's BPF program answering reads on a --bpf mount. Needs
# the server's binary in $FUSE_IOMAP_SERVER and a block device to format in
# $FUSE_IOMAP_DISK (tools/vm/run.sh attaches /dev/vda); the fsx tests need
# fstests in $FUSE_IOMAP_FSTESTS (tools/bootstrap.sh builds it).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
# shellcheck source=/dev/null
. "$here/fuse_iomap_mount_lib.sh"
server=${FUSE_IOMAP_SERVER:-}
disk=${FUSE_IOMAP_DISK:-}
log=/tmp/fuse-iomap-server.log

mount_setup fuse_iomap_mount "$disk" "FUSE_IOMAP_DISK does not name a block device"

fio_verify() {
	local name=$1
	shift
	fio --name="$name" --directory="$mnt" --size=16M --bs=4k --verify=crc32c \
		--do_verify=1 --thread --output-format=terse --minimal "$@" >/dev/null
}

namespace() {
	mkdir "$mnt/d" "$mnt/d/e" || return 1
	echo one >"$mnt/d/one" && echo two >"$mnt/two" || return 1
	mv "$mnt/two" "$mnt/d/e/two" && mv "$mnt/d/one" "$mnt/one" || return 1
	[ "$(cat "$mnt/d/e/two")" = two ] && [ ! -e "$mnt/two" ] || return 1
	[ "$(ls "$mnt/d")" = e ] || return 1
	[ "$(ls -a "$mnt/d" | tr '\n' ' ')" = ". .. e " ] || return 1
	! rmdir "$mnt/d" 2>/dev/null || return 1
	rm "$mnt/d/e/two" && rmdir "$mnt/d/e" "$mnt/d" || return 1
	[ "$(ls "$mnt")" = one ]
}

# A file with data at 0 and at 1 MiB and a hole between: fiemap shows two
# extents where the server put them, seek finds the hole and the data.
fiemap_and_seek() {
	local f=$mnt/sparse out
	xfs_io -f -c 'pwrite -q 0 64k' -c 'pwrite -q 1m 64k' -c fsync "$f" || return 1
	out=$(xfs_io -c 'fiemap -v' "$f") || return 1
	echo "$out"
	[ "$(grep -c '^ *[0-9]*: \[[0-9]*\.\.[0-9]*\]: *[0-9]' <<<"$out")" -eq 2 ] || return 1
	grep -q 'hole' <<<"$out" || return 1
	[ "$(xfs_io -c 'seek -h 0' "$f" | awk '/^HOLE/ { print $2 }')" = 65536 ] &&
		[ "$(xfs_io -c 'seek -d 65536' "$f" | awk '/^DATA/ { print $2 }')" = 1048576 ]
}

truncate_zeroes() {
	local f=$mnt/trunc
	xfs_io -f -c 'pwrite -q -S 0x61 0 8k' -c 'truncate 100' -c 'truncate 8k' -c fsync "$f" &&
		[ "$(stat -c %s "$f")" = 8192 ] &&
		[ "$(head -c 100 "$f" | tr -d a | wc -c)" = 0 ] &&
		[ "$(tail -c +101 "$f" | tr -d '\0' | wc -c)" = 0 ]
}

# A second O_DIRECT pass over a file whose mappings the server upserted on
# the first asks the server nothing.
second_pass_cached() {
	local f=$mnt/cached before after
	xfs_io -f -c 'pwrite -q -b 1m 0 8m' -c fsync "$f" || return 1
	xfs_io -d -c 'pread -q -b 64k 0 8m' "$f" || return 1
	before=$(counter upcalls_iomap_begin cached)
	xfs_io -d -c 'pread -q -b 64k 0 8m' "$f" || return 1
	after=$(counter upcalls_iomap_begin cached)
	"$counters" "$f"
	echo "IOMAP_BEGIN upcalls on the second pass: $((after - before))"
	[ "$after" = "$before" ]
}

remount_reads_back() {
	local sums
	sums=$(cd "$mnt" && md5sum one sparse trunc cached direct.0.0 buffered.0.0) || return 1
	umount "$mnt" || return 1
	"$server" mount disk --device "$disk" "$mnt" || return 1
	[ "$(cd "$mnt" && md5sum one sparse trunc cached direct.0.0 buffered.0.0)" = "$sums" ]
}

# Dirty pages that nobody synced, from write(2) and from a shared mapping,
# reach the disk at umount: unmount writes back before it evicts inodes.
unsynced_survives_umount() {
	local want
	want=$(head -c 1M /dev/zero | tr '\0' Z | md5sum)
	xfs_io -f -c 'pwrite -q -S 0x5a 0 1m' "$mnt/unsynced" || return 1
	xfs_io -f -c 'truncate 1m' -c 'mmap -w 0 1m' -c 'mwrite -S 0x5a 0 1m' \
		"$mnt/unsynced_mmap" || return 1
	umount "$mnt" || return 1
	"$server" mount disk --device "$disk" "$mnt" || return 1
	[ "$(md5sum <"$mnt/unsynced")" = "$want" ] &&
		[ "$(md5sum <"$mnt/unsynced_mmap")" = "$want" ]
}

# A write and a write through a shared mapping stamp the file's mtime and
# ctime at once, before any writeback, an attribute refresh keeps them, and
# a file's times (these, and ones
# set with touch -d) are the same after a remount.
times_kept() {
	local before after
	xfs_io -f -c 'pwrite -q 0 8k' "$mnt/stamped" || return 1
	touch -d '2001-02-03 04:05:06.789' "$mnt/touched" || return 1
	before=$(stat -c '%Y %Z' "$mnt/stamped") || return 1
	sleep 1.1
	xfs_io -c 'pwrite -q 0 4k' "$mnt/stamped" || return 1
	# Past the attribute timeout (1 s): stat asks the server again.
	sleep 1.1
	after=$(stat -c '%Y %Z' "$mnt/stamped")
	[ "$after" != "$before" ] || { echo "write left the times at $after"; return 1; }
	sleep 1.1
	xfs_io -c 'mmap -w 0 8k' -c 'mwrite 4k 4k' "$mnt/stamped" || return 1
	before=$after
	sleep 1.1
	after=$(stat -c '%Y %Z' "$mnt/stamped")
	[ "$after" != "$before" ] || { echo "mmap write left the times at $after"; return 1; }
	before=$(stat -c '%y %z' "$mnt/stamped" "$mnt/touched")
	umount "$mnt" || return 1
	"$server" mount disk --device "$disk" "$mnt" || return 1
	after=$(stat -c '%y %z' "$mnt/stamped" "$mnt/touched")
	[ "$after" = "$before" ] || { printf 'before: %s\nafter: %s\n' "$before" "$after"; return 1; }
}

# fsx OPTIONS...: fstests' file exerciser against one file of the mount,
# checking every read against its own model of the file; its log is kept
# only when it failed.
fsx_run() {
	local dir status
	dir=$(mktemp -d /tmp/fuse_iomap_fsx.XXXXXX)
	"$FUSE_IOMAP_FSTESTS/ltp/fsx" -q -S 1 -P "$dir" "$@" "$mnt/fsx"
	status=$?
	[ $status -eq 0 ] || tail -n 40 "$dir/fsx.fsxlog"
	rm -rf "$dir"
	return $status
}

check_fsx() {
	if [ -z "${FUSE_IOMAP_FSTESTS:-}" ]; then
		ktap_test_skip "$1 (no fstests: tools/bootstrap.sh builds it from the pinned tarball)"
		return
	fi
	check "$@"
}

# fio_files OPTIONS...: four 4 MiB files of crc32c-headed 1 MiB blocks,
# written (or, with --verify_only=1, read back and checked) with O_DIRECT.
fio_files() {
	fio --name=bpf --directory="$mnt" --nrfiles=4 --size=16M --bs=1m \
		--rw=write --direct=1 --verify=crc32c --do_verify=1 \
		--verify_state_save=0 --output-format=terse --minimal "$@" >/dev/null
}

# Mounted with --bpf: files written, then read back with O_DIRECT on a fresh
# mount (empty caches) twice, fio verifying the data each time. The program
# answers the first pass (each file has a few extents, all published): its
# RETRY_CACHE answers count as cache misses served by the cache after a
# retry, not as bpf_answers, and no miss is an IOMAP_BEGIN upcall. The
# second pass is all cache hits.
bpf_answers_reads() {
	local m0 u0 m1 u1 h1 m2 u2 h2
	umount "$mnt" || return 1
	"$server" mount disk --device "$disk" --format --bpf --log "$log" "$mnt" || return 1
	fio_files || return 1
	umount "$mnt" || return 1
	"$server" mount disk --device "$disk" --bpf --log "$log" "$mnt" || return 1
	m0=$(counter cache_misses bpf.0.0)
	u0=$(counter upcalls_iomap_begin bpf.0.0)
	fio_files --verify_only=1 || return 1
	m1=$(counter cache_misses bpf.0.0)
	u1=$(counter upcalls_iomap_begin bpf.0.0)
	h1=$(counter cache_hits bpf.0.0)
	fio_files --verify_only=1 || return 1
	m2=$(counter cache_misses bpf.0.0)
	u2=$(counter upcalls_iomap_begin bpf.0.0)
	h2=$(counter cache_hits bpf.0.0)
	"$counters" "$mnt/bpf.0.0"
	echo "first pass: $((m1 - m0)) misses, $((u1 - u0)) IOMAP_BEGIN upcalls"
	echo "second pass: $((m2 - m1)) misses, $((u2 - u1)) IOMAP_BEGIN upcalls, $((h2 - h1)) hits"
	[ $((m1 - m0)) -gt 0 ] && [ "$u1" = "$u0" ] &&
		[ "$m2" = "$m1" ] && [ "$u2" = "$u1" ] && [ "$h2" -gt "$h1" ] &&
		! grep -q 'BPF' "$log"
}

# The server dies while a writer runs: the writer fails, the mount says
# ENOTCONN, and umount still works.
server_killed() {
	local pid writer
	pid=$(pgrep -n -f "fuse-iomap-server mount disk") || return 1
	dd if=/dev/zero of="$mnt/victim" bs=4k count=100000 oflag=direct 2>/dev/null &
	writer=$!
	sleep 1
	kill -9 "$pid"
	wait "$writer" && return 1
	stat "$mnt/nothing" 2>&1 | grep -q 'Transport endpoint is not connected' || return 1
	umount "$mnt"
}

ktap_set_plan 15
check "mount disk --format mounts and returns" \
	"$server" mount disk --device "$disk" --format --log "$log" "$mnt"
check "mkdir, create, rename, rmdir, readdir" namespace
check "fio --verify, O_DIRECT" fio_verify direct --rw=randwrite --direct=1
check "fio --verify, buffered" fio_verify buffered --rw=randwrite --fsync_on_close=1
check "fio --verify, mmap" fio_verify mapped --rw=randwrite --ioengine=mmap
check "xfs_io fiemap and seek see the server's extents and holes" fiemap_and_seek
check "truncate zeroes the tail of the last block" truncate_zeroes
check "a second pass over a file makes no IOMAP_BEGIN upcall" second_pass_cached
check "a remount reads every file back" remount_reads_back
check "data written without sync survives umount" unsynced_survives_umount
check "writes and mmap writes stamp mtime and ctime; a remount keeps them" times_kept
check_fsx "fsx, buffered and mmap: 10000 random operations match" fsx_run -N 10000
check_fsx "fsx, O_DIRECT: 3000 random block-aligned operations match" \
	fsx_run -N 3000 -Z -R -W -r 4096 -w 4096 -t 4096
check "--bpf: the program answers the first O_DIRECT pass, the cache the second" \
	bpf_answers_reads
check "a killed server fails I/O with ENOTCONN, and umount works" server_killed
sed 's/^/# server log: /' "$log"
ktap_finished
