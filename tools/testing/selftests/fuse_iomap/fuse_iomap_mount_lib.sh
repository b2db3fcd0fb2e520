#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# What the tests of a mounted sample server share, sourced after
# ktap_helpers.sh: mount_setup checks the prerequisites, prints the TAP
# header and makes the mount point $mnt (removed, and unmounted, at exit);
# check runs one test; counter reads the mount's counters.

counters=$(dirname "${BASH_SOURCE[0]}")/fuse_iomap_counters

# mount_setup NAME BLOCKDEV WHY: skips the whole test without the server's
# binary, without BLOCKDEV (WHY says where it comes from), or without fio
# and xfs_io; else makes /tmp/NAME.XXXXXX the mount point $mnt.
mount_setup() {
	local tool
	ktap_print_header
	if [ ! -x "$server" ]; then
		ktap_skip_all "FUSE_IOMAP_SERVER does not name the sample server's binary"
		exit "$KSFT_SKIP"
	fi
	if [ ! -b "$2" ]; then
		ktap_skip_all "$3"
		exit "$KSFT_SKIP"
	fi
	for tool in fio xfs_io; do
		if ! command -v "$tool" >/dev/null; then
			ktap_skip_all "no $tool (tools/bootstrap.sh installs it)"
			exit "$KSFT_SKIP"
		fi
	done
	mnt=$(mktemp -d "/tmp/$1.XXXXXX")
	trap 'umount -l "$mnt" 2>/dev/null; rmdir "$mnt"' EXIT
}

# check NAME COMMAND...: COMMAND succeeds; its output goes to the TAP log.
check() {
	local name=$1 out
	shift
	out=$("$@" 2>&1)
	local status=$?
	[ -n "$out" ] && sed 's/^/# /' <<<"$out"
	if [ $status -eq 0 ]; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name (exit $status)"
	fi
}

# counter NAME FILE: the value of counter NAME of the mount, through FILE
# (a path under $mnt).
counter() {
	"$counters" "$mnt/$2" | awk -v n="$1" '$1 == n { print $2 }'
}
