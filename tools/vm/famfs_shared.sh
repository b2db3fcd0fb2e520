#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Two guests, one memory: famfs's cluster-invariant index, running.
#
#   tools/vm/famfs_shared.sh KDIR       (make famfs-shared, on the fast kernel)
#
# Both guests boot together, each with /dev/pmem0 backed by the same 256 MiB
# host file (tools/vm/run.sh, FUSE_IOMAP_SHARED_PMEM), each with a server of
# its own. Guest A formats a famfs log there, creates a file striped over 4
# strips in 2 MiB chunks, and writes every chunk through mmap. Guest B, once
# A is done, mounts the same device: its server replays A's log, and B maps
# the same file and reads A's bytes, at the same daxdev index 0 and the same
# offsets, without any message between the two servers. The guests meet in a
# shared directory: A writes its file's checksum there and waits for B.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -eq 1 ] || { echo "usage: tools/vm/famfs_shared.sh KDIR" >&2; exit 2; }
kdir=$1
work=$(mktemp -d /tmp/fuse-iomap-shared.XXXXXX)
trap 'rm -rf "$work"' EXIT
# The memory both guests map: in RAM, like the device it stands for.
pmem=$(mktemp /dev/shm/fuse-iomap-shared.XXXXXX)
trap 'rm -rf "$work" "$pmem"' EXIT
truncate -s 256M "$pmem"
mkdir "$work/meet"

# What the guests run: bash, with $FUSE_IOMAP_SERVER; $meet is shared.
common='
meet='"$work/meet"'
MiB=$((1 << 20))
wait_for() {
	local i
	for i in $(seq 900); do [ -e "$meet/$1" ] && return 0; sleep 1; done
	echo "no $1 after 900 s" >&2
	return 1
}
mnt=$(mktemp -d /tmp/famfs.XXXXXX)
'
guest_a=$common'
"$FUSE_IOMAP_SERVER" mount famfs --pmem /dev/pmem0 --format --stripe 4 --chunk 2M "$mnt"
truncate -s $((16 * MiB)) "$mnt/shared"
args=(-c "mmap -w 0 $((16 * MiB))")
for k in $(seq 0 7); do
	args+=(-c "mwrite -S $((0x41 + k)) $((k * 2 * MiB)) $((2 * MiB))")
done
xfs_io "${args[@]}" -c "msync -s 0 $((16 * MiB))" "$mnt/shared"
echo "guest A: wrote 8 chunks of $mnt/shared through mmap; its map:"
xfs_io -r -c fiemap "$mnt/shared"
md5sum <"$mnt/shared" | cut -d" " -f1 >"$meet/a.sum"
wait_for b.done
umount "$mnt"
'
guest_b=$common'
wait_for a.sum
"$FUSE_IOMAP_SERVER" mount famfs --pmem /dev/pmem0 "$mnt"
echo "guest B: replayed the log; its map of the same file:"
xfs_io -r -c fiemap "$mnt/shared"
status=0
for k in $(seq 0 7); do
	xfs_io -r -c "mmap -r 0 $((16 * MiB))" -c "mread -v $((k * 2 * MiB)) 16" "$mnt/shared" |
		grep -q "$(printf "%x %x" $((0x41 + k)) $((0x41 + k)))" || status=1
done
[ $status -eq 0 ] && echo "guest B: each of the 8 chunks holds the byte guest A wrote"
sum=$(md5sum <"$mnt/shared" | cut -d" " -f1)
echo "guest B: checksum $sum, guest A wrote $(cat "$meet/a.sum")"
[ "$sum" = "$(cat "$meet/a.sum")" ] || status=1
touch "$meet/b.done"
umount "$mnt"
exit $status
'

run() {
	FUSE_IOMAP_SHARED_PMEM=$pmem FUSE_IOMAP_SHARED_DIR=$work/meet \
		"$repo/tools/vm/run.sh" "$kdir" exec "$2" >"$work/$1.log" 2>&1
}
run a "$guest_a" &
a=$!
run b "$guest_b" &
b=$!
rc=0
wait "$a" || rc=1
wait "$b" || rc=1
for g in a b; do
	echo "==> guest $(tr a-b A-B <<<"$g"):"
	grep -E $'^(guest [AB]:|\t[0-9]+:|fuse-iomap-server:|VM)' "$work/$g.log" ||
		tail -n 5 "$work/$g.log"
done
if [ $rc -eq 0 ]; then
	echo "famfs-shared: guest B read guest A's file through the same memory"
else
	echo "famfs-shared: FAILED"
fi
exit $rc
