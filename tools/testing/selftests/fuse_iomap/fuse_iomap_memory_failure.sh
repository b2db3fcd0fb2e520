#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A memory failure on a claimed daxdev: reads through it fail with
# EHWPOISON. A memory failure reaches a dax device's holder only for pages
# with struct pages, so /dev/pmem1 (the VM's second emulated region) is
# first made an fsdax namespace, with its memmap in RAM, through the
# nvdimm sysfs (a pfn device claims the namespace); the failure is then
# injected at 1 MiB into its data by
# /sys/devices/system/memory/hard_offline_page. /dev/pmem1 is used by this
# test alone, and stays poisoned there.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
nd=/sys/bus/nd

# Before the helper runs (and prints its own TAP), this script's.
skip() {
	ktap_print_header
	ktap_skip_all "$*"
	exit "$KSFT_SKIP"
}
die() {
	ktap_print_header
	ktap_exit_fail_msg "$*"
}

[ -b /dev/pmem1 ] || skip "no /dev/pmem1 (a second memmap= region)"
[ -w /sys/devices/system/memory/hard_offline_page ] || skip "no CONFIG_MEMORY_FAILURE"

dev=$(basename "$(readlink -f /sys/block/pmem1/device)")
case "$dev" in
namespace*)
	region=$(basename "$(readlink -f "$nd/devices/$dev/..")")
	pfn=$(cat "$nd/devices/$region/pfn_seed")
	ktap_print_msg "making $dev fsdax: $pfn claims it, its memmap in RAM"
	echo "$dev" >"$nd/drivers/nd_pmem/unbind" || die "unbinding $dev"
	cat /proc/sys/kernel/random/uuid >"$nd/devices/$pfn/uuid" &&
		echo ram >"$nd/devices/$pfn/mode" &&
		echo 4096 >"$nd/devices/$pfn/align" &&
		echo "$dev" >"$nd/devices/$pfn/namespace" &&
		echo "$pfn" >"$nd/drivers/nd_pmem/bind" || die "configuring $pfn"
	dev=$(basename "$(readlink -f /sys/block/pmem1/device)")
	;;
esac
case "$dev" in
pfn*) ;;
*) die "/dev/pmem1 sits on $dev, not on a pfn device" ;;
esac

FUSE_IOMAP_PMEM_PHYS=$(cat "$nd/devices/$dev/resource") \
	exec "$here/fuse_iomap_memory_failure"
