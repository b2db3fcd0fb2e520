#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# BPF: the selftests of fuse-iomap-bpf-test (attach, detach and their
# errors, a program the verifier refuses, HANDLED, FALLBACK, RETRY_CACHE,
# tables switched with readers in flight), then the sample server with its
# programs and fuse_iomap_client: striped famfs files read through iomap
# mappings with no IOMAP_BEGIN upcall once the famfs program is attached
# (and one per chunk without it), a disk file mapped by the upserting
# program, and the cost of an iomap_begin answered by the cache, BPF and an
# upcall. Needs the binaries in $FUSE_IOMAP_BPF_TEST and $FUSE_IOMAP_SERVER,
# and /dev/pmem0.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
server=${FUSE_IOMAP_SERVER:-}
bpftest=${FUSE_IOMAP_BPF_TEST:-}
client=$here/fuse_iomap_client

ktap_print_header
if [ ! -x "$server" ] || [ ! -x "$bpftest" ]; then
	ktap_skip_all "FUSE_IOMAP_SERVER or FUSE_IOMAP_BPF_TEST is no binary"
	exit "$KSFT_SKIP"
fi
if [ ! -b /dev/pmem0 ]; then
	ktap_skip_all "no /dev/pmem0"
	exit "$KSFT_SKIP"
fi

# result NAME STATUS OUTPUT PATTERN: passes if STATUS is 0 and OUTPUT
# matches PATTERN (an extended regex, or "").
result() {
	sed 's/^/# /' <<<"$3"
	if [ "$2" -eq 0 ] && { [ -z "$4" ] || grep -Eq "$4" <<<"$3"; }; then
		ktap_test_pass "$1"
	else
		ktap_test_fail "$1 (exit $2)"
	fi
}

# The tests run twice: once to count them for the plan, then for real.
planned=0

# case NAME PATTERN SERVER-ARGS... -- CLIENT-ARGS...
case_() {
	local name=$1 pattern=$2 out
	shift 2
	if [ -z "$running" ]; then
		planned=$((planned + 1))
		return
	fi
	out=$("$server" "${@/#@client/$client}" 2>&1)
	result "$name" $? "$out" "$pattern"
}

bpf_selftests() {
	local out
	if [ -z "$running" ]; then
		planned=$((planned + 1))
		return
	fi
	out=$("$bpftest" 2>&1)
	result "fuse-iomap-bpf-test" $? "$out" ""
}

chunks=$((3 * (16 << 20) / (2 << 20)))
cases() {
	bpf_selftests
	case_ "famfs over iomap without BPF: one IOMAP_BEGIN upcall per chunk" "" \
		famfs --iomap --files 3 --size $((16 << 20)) --strips 4 -- @client famfs-map 3 $chunks
	case_ "famfs over iomap with the famfs program: no IOMAP_BEGIN upcall" "BPF answers $chunks," \
		famfs --bpf --files 3 --size $((16 << 20)) --strips 4 -- @client famfs-map 3 0
	case_ "disk file with the upserting program: no upcall, then cache hits" "retries 16," \
		disk --bpf upsert --blocks 256 --extent-blocks 16 -- @client disk 256 0
	case_ "iomap_begin by upcall, by BPF, by cache hit" "BPF/hit = " \
		disk --bpf handled --blocks 2048 --extent-blocks 1 -- @client bench 2048
}

running=
cases
ktap_set_plan "$planned"
running=1
cases
ktap_finished
