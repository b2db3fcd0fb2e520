#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample server (samples/fuse_iomap_server) against the module, with
# fuse_iomap_client playing the VFS on its client handle: famfs files
# striped and simple, an extent-mapped disk file with and without its
# mappings pushed ahead, and each way the server can misbehave. Needs the
# server's binary in $FUSE_IOMAP_SERVER and /dev/pmem0.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
server=${FUSE_IOMAP_SERVER:-}
client=$here/fuse_iomap_client

ktap_print_header
if [ ! -x "$server" ]; then
	ktap_skip_all "FUSE_IOMAP_SERVER does not name the sample server's binary"
	exit "$KSFT_SKIP"
fi
if [ ! -b /dev/pmem0 ]; then
	ktap_skip_all "no /dev/pmem0"
	exit "$KSFT_SKIP"
fi

# case NAME PATTERN SERVER-ARGS... -- CLIENT-ARGS...: the client passes its
# checks, and its output matches PATTERN (an extended regex, or ""). The
# cases run twice: once to count them for the plan, then for real.
planned=0
case_() {
	local name=$1 pattern=$2 out status
	shift 2
	if [ -z "$running" ]; then
		planned=$((planned + 1))
		return
	fi
	out=$("$server" "${@/#@client/$client}" 2>&1)
	status=$?
	sed 's/^/# /' <<<"$out"
	if [ $status -eq 0 ] && { [ -z "$pattern" ] || grep -Eq "$pattern" <<<"$out"; }; then
		ktap_test_pass "$name"
	else
		ktap_test_fail "$name (exit $status)"
	fi
}

cases() {
	case_ "famfs: three striped files read back" "GET_FMAP 3 GET_DAXDEV 1" \
		famfs --files 3 --size $((16 << 20)) --strips 4 -- @client famfs 3
	case_ "famfs: simple files of an odd size read back" "GET_FMAP 2 GET_DAXDEV 1" \
		famfs --files 2 --size $((3 << 20 | 123)) --strips 0 -- @client famfs 2
	case_ "disk: one upcall per extent, then only cache hits" "IOMAP_BEGIN 16 " \
		disk --blocks 256 --extent-blocks 16 -- @client disk 256 16
	case_ "disk: mappings pushed ahead, no upcall at all" "IOMAP_BEGIN 0 " \
		disk --blocks 256 --extent-blocks 16 --preload -- @client disk 256 0
	case_ "misbehave wrong-size: refused, then the good reply" "rejected header 0 unique 0 size 1 " \
		--misbehave wrong-size disk -- @client begin 0
	case_ "misbehave wrong-size on GET_FMAP" "size 1 " \
		--misbehave wrong-size famfs --files 1 --size $((2 << 20)) -- @client open 0
	case_ "misbehave invalid mapping: EFSCORRUPTED" "mapping 1 " \
		--misbehave invalid disk -- @client begin EFSCORRUPTED
	case_ "misbehave invalid fmap: EINVAL" "fmap 1 " \
		--misbehave invalid famfs --files 1 --size $((2 << 20)) -- @client open EINVAL
	case_ "misbehave never-reply: the caller is interrupted" "interrupted 1" \
		--misbehave never-reply disk -- @client begin EINTR
	case_ "misbehave reply-twice: the second is refused" "unique 1 " \
		--misbehave reply-twice disk -- @client begin 0
	case_ "misbehave die during IOMAP_BEGIN: ENOTCONN" "" \
		--misbehave die disk -- @client begin ENOTCONN
	case_ "misbehave die during GET_FMAP: ENOTCONN" "" \
		--misbehave die famfs --files 1 --size $((2 << 20)) -- @client open ENOTCONN
	case_ "iomap_begin by upcall against by cache hit" "upcall/hit = " \
		disk --blocks 2048 --extent-blocks 1 -- @client bench 2048
}

running=
cases
ktap_set_plan "$planned"
running=1
cases
ktap_finished
