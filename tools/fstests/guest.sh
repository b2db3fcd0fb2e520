#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fstests against fuse_iomap, in the VM (tools/vm/guest.sh runs it):
#
#   tools/fstests/guest.sh LIST OUT
#
# FSTYP=fuse_iomap, a type of its own rather than FSTYP=fuse: fstests checks
# that `df -T` shows the mounted type as exactly $FSTYP, and this file system
# is `fuse_iomap`, not `fuse`. TEST_DEV and SCRATCH_DEV are the VM's second
# and third disks; mkfs(8) and fsck(8) find mkfs.fuse_iomap and
# fsck.fuse_iomap on $PATH, and fstests mounts through $MOUNT_PROG
# (mount.fuse_iomap), which starts the sample server.
#
# Runs the tests of LIST (see fuse_iomap.list for its format) with the
# fstests that tools/vm/run.sh staged as OUT/fstests.tar, unpacked in a
# tmpfs (fstests' check stats thousands of files, slow over 9p),
# and leaves in OUT/fstests-results fstests' results (its RESULT_BASE:
# check.log, and for each test that did not pass its .full, .out.bad,
# .dmesg or .notrun, on the host as they are written), the server's log,
# check's output, and summary.txt: a line per test, `TEST STATUS [reason]`.
# Both devices are unmounted at the end.
set -uo pipefail

list=$1
out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
fstests=/tmp/fstests/tree
results=$out/fstests-results
export FUSE_IOMAP_SERVER=${FUSE_IOMAP_SERVER:?the sample server}
export FUSE_IOMAP_SERVER_LOG=$results/server.log
export PATH=$here:$PATH

# Unmounts the test and scratch devices, if mounted.
unmount_all() {
	local mnt
	for mnt in /tmp/fstests/test /tmp/fstests/scratch; do
		! mountpoint -q "$mnt" || umount "$mnt" || echo "fstests: cannot unmount $mnt" >&2
	done
}

unmount_all
rm -rf "$results"
mkdir -p "$results" /tmp/fstests
mountpoint -q /tmp/fstests || mount -t tmpfs -o size=1g fstests /tmp/fstests || exit 1
mkdir -p "$fstests" /tmp/fstests/test /tmp/fstests/scratch
tar -C "$fstests" -xf "$out/fstests.tar" || exit 1
echo "fstests: unpacked in $(findmnt -no FSTYPE -T "$fstests") at $fstests"
for dev in /dev/vdb /dev/vdc; do
	[ -b "$dev" ] || { echo "fstests: no $dev (tools/vm/run.sh attaches it)" >&2; exit 1; }
done
cat >"$fstests/local.config" <<CONFIG
export FSTYP=fuse_iomap
export TEST_DEV=/dev/vdb
export TEST_DIR=/tmp/fstests/test
export SCRATCH_DEV=/dev/vdc
export SCRATCH_MNT=/tmp/fstests/scratch
export MOUNT_PROG=$here/mount.fuse_iomap
export RESULT_BASE=$results
CONFIG
mkfs.fuse_iomap /dev/vdb || exit 1

grep -E '^generic/[0-9]+' "$list" | awk '{ print $1 }' >"$results/tests"
grep -E '^!generic/[0-9]+' "$list" | sed 's/^!//' >"$results/exclude"
# check exits 1 when a test failed; its closing lines say which ("Failures:",
# "Not run:"), and results/TEST.notrun why a test did not run.
(cd "$fstests" && ./check $(cat "$results/tests")) 2>&1 | tee "$results/check.out"
rc=${PIPESTATUS[0]}
unmount_all
listed() { sed -n "s/^$1: //p" "$results/check.out" | tr ' ' '\n'; }
{
	while read -r t; do
		if listed Failures | grep -qx "$t"; then
			echo "$t failed"
		elif listed 'Not run' | grep -qx "$t"; then
			echo "$t not-run $(cat "$results/$t.notrun" 2>/dev/null)"
		elif listed Ran | grep -qx "$t"; then
			echo "$t passed"
		else
			echo "$t missing"
		fi
	done <"$results/tests"
	sed -E 's/^([^ #]+)[[:space:]]*#[[:space:]]*(.*)$/\1 excluded \2/' "$results/exclude"
} >"$results/summary.txt"
echo "fstests summary:"
cat "$results/summary.txt"
exit "$rc"
