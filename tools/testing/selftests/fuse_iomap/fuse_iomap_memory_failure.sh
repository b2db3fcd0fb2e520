#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A memory failure on a claimed daxdev: reads through it fail with
# EHWPOISON. A memory failure reaches a dax device's holder only for pages
# with struct pages, so /dev/pmem1 (the VM's second emulated region) is made
# an fsdax namespace with ndctl first; the failure is then injected at
# 1 MiB into its data by /sys/devices/system/memory/hard_offline_page.
# /dev/pmem1 is used by this test alone, and stays poisoned there.

ksft_skip=4
here=$(cd "$(dirname "$0")" && pwd)

skip() { echo "1..0 # SKIP $*"; exit $ksft_skip; }

[ -b /dev/pmem1 ] || skip "no /dev/pmem1 (a second memmap= region)"
command -v ndctl >/dev/null || skip "no ndctl"
[ -w /sys/devices/system/memory/hard_offline_page ] || skip "no CONFIG_MEMORY_FAILURE"

dev=$(basename "$(readlink -f /sys/block/pmem1/device)")
case "$dev" in
namespace*)
	echo "# making $dev an fsdax namespace"
	ndctl create-namespace --force --reconfig="$dev" --mode=fsdax --map=mem |
		sed 's/^/# /' || exit 1
	udevadm settle 2>/dev/null
	dev=$(basename "$(readlink -f /sys/block/pmem1/device)")
	;;
esac
case "$dev" in
pfn*) ;;
*) echo "# /dev/pmem1 sits on $dev, not on a pfn device"; exit 1 ;;
esac

FUSE_IOMAP_PMEM_PHYS=$(cat "/sys/bus/nd/devices/$dev/resource") \
	exec "$here/fuse_iomap_memory_failure"
