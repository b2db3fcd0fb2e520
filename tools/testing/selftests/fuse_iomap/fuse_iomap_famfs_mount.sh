#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample server's famfs mode, mounted: regular files are DAX files whose
# reads, writes and mmap faults go to /dev/pmem0 where their fmaps say,
# driven by outside clients (xfs_io, fio --verify) through system calls only.
# Files are created through the mount and allocated by ftruncate or
# fallocate, striped over 4 strips in 2 MiB chunks; what a write or a
# mapped write stores is read back from the raw device where FIEMAP says
# (the fmap's resolution); a remount replays the server's log and reads
# the same bytes; past the end a write is ENOSPC and a fault SIGBUS; the
# counters show one GET_FMAP per open and no IOMAP_BEGIN upcall at all;
# hostile fmaps (the server's --hostile-fmaps) fail the open or fence the
# file; a log without stripes gives simple extents; and after a memory
# failure, reads fail with EHWPOISON and faults with SIGBUS. Mounted
# famfs_resolve=iomap (--resolve upcall, then bpf), the same files' mappings
# come from FUSE_IOMAP_BEGIN, or from the famfs BPF program without any
# upcall, and read and write the same bytes.
# Needs the server's binary in $FUSE_IOMAP_SERVER and /dev/pmem0.
#
# /dev/pmem0 is a raw namespace of an e820 (memmap=) region, which 6.12
# already gives struct pages and fsdax page-map operations
# (pmem_should_map_pages(): ND_REGION_PAGEMAP): DAX mmap works on it as on
# an fsdax namespace, with its memmap in RAM.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
# shellcheck source=/dev/null
. "$here/fuse_iomap_mount_lib.sh"
server=${FUSE_IOMAP_SERVER:-}
pmem=/dev/pmem0
log=/tmp/fuse-iomap-famfs.log
MiB=$((1 << 20))

mount_setup fuse_iomap_famfs "$pmem" "no $pmem (memmap= on the command line)"

mount_famfs() {
	"$server" mount famfs --pmem "$pmem" --log "$log" "$@" "$mnt"
}

# Every extent FIEMAP reports for FILE holds, on the raw device, the bytes
# that a read of the file returns: "logical physical length" in bytes.
extents() {
	local start end physical
	xfs_io -r -c "fiemap" "$1" |
		sed -nE 's/^[[:space:]]*[0-9]+: \[([0-9]+)\.\.([0-9]+)\]: ([0-9]+)\.\.[0-9]+$/\1 \2 \3/p' |
		while read -r start end physical; do
			echo $((start * 512)) $((physical * 512)) $(((end - start + 1) * 512))
		done
}

on_device() {
	local file=$1 logical physical len n=0
	while read -r logical physical len; do
		cmp <(dd if="$file" bs=1M iflag=skip_bytes,count_bytes \
			skip="$logical" count="$len" 2>/dev/null) \
		    <(dd if="$pmem" bs=1M iflag=skip_bytes,count_bytes \
			skip="$physical" count="$len" 2>/dev/null) || return 1
		n=$((n + 1))
	done < <(extents "$file")
	echo "$n extents match the raw device"
	[ "$n" -gt 0 ]
}

# SIZE bytes in FILE, different in every 512-byte block.
pattern() {
	awk -v n=$(($1 / 512)) 'BEGIN { for (i = 0; i < n; i++) printf "%-511d\n", i }' >"$2"
}

# FILE is striped over 4 strips in 2 MiB chunks, in two groups: the 4
# chunks that CREATE allocated, then those of the ftruncate. Within a group,
# chunk m is in strip m % 4, m / 4 chunks in: 2 MiB past chunk m - 4, as
# the DAX library's mappings (FIEMAP) show.
striped() {
	extents "$1" | awk -v c=$((2 * MiB)) -v s=4 -v g=4 '
		$3 != c { bad = 1 }
		{
			n = $1 / c; grp = n < g ? 0 : 1; m = n < g ? n : n - g
			phys[grp, m] = $2
			if (m >= s) { checked++; if ($2 != phys[grp, m - s] + c) bad = 1 }
		}
		END { print checked " chunks where the striping puts them"; exit bad || !checked }'
}

write_read_back() {
	local ref=/tmp/famfs.ref
	pattern $((32 * MiB)) "$ref"
	xfs_io -f -c "truncate $((32 * MiB))" "$mnt/striped" &&
		dd if="$ref" of="$mnt/striped" bs=1M conv=notrunc 2>/dev/null &&
		cmp "$ref" "$mnt/striped" && on_device "$mnt/striped" && striped "$mnt/striped"
}

mapped_write_read_back() {
	xfs_io -f -c "falloc 0 $((8 * MiB))" "$mnt/mapped" &&
		xfs_io -c "mmap -w 0 $((8 * MiB))" -c "mwrite -S 0xa5 $((3 * MiB)) $((3 * MiB))" \
			-c "msync -s 0 $((8 * MiB))" "$mnt/mapped" &&
		xfs_io -r -c "pread -v $((3 * MiB)) 16" "$mnt/mapped" | grep -q 'a5 a5 a5' &&
		xfs_io -r -c "pread -v 0 16" "$mnt/mapped" | grep -q '00 00 00' &&
		on_device "$mnt/mapped"
}

map_sync() {
	xfs_io -c "mmap -S -w 0 $((2 * MiB))" -c "mwrite -S 0x3c 0 4096" "$mnt/mapped" &&
		xfs_io -r -c "pread -v 0 16" "$mnt/mapped" | grep -q '3c 3c 3c'
}

fio_verify() {
	fio --name=famfs --filename="$mnt/fio" --size=16M --bs=4k --fallocate=native \
		--verify=crc32c --do_verify=1 --output-format=terse --minimal "$@" >/dev/null
}

# Reads and faults over the striped file: one GET_FMAP for the open, no
# IOMAP_BEGIN upcall.
no_upcalls() {
	local f0 f1 b0 b1
	f0=$(counter upcalls_get_fmap striped)
	b0=$(counter upcalls_iomap_begin striped)
	xfs_io -r -c "mmap -r 0 $((32 * MiB))" -c "mread 0 $((32 * MiB))" \
		-c "pread 0 $((32 * MiB))" "$mnt/striped" >/dev/null || return 1
	f1=$(counter upcalls_get_fmap striped)
	b1=$(counter upcalls_iomap_begin striped)
	# Three opens in between: the counters' twice, xfs_io's once.
	echo "GET_FMAP: $((f1 - f0)) for 3 opens; IOMAP_BEGIN upcalls: $((b1 - b0))"
	[ $((f1 - f0)) -eq 3 ] && [ "$b1" -eq "$b0" ]
}

write_past_end_is_enospc() {
	local out
	out=$(xfs_io -c "pwrite $((32 * MiB)) 4096" "$mnt/striped" 2>&1)
	echo "$out"
	grep -q 'No space left on device' <<<"$out"
}

# xfs_io dies of the SIGBUS, or reports it, depending on its version.
fault_past_end_is_sigbus() {
	local out status
	out=$(xfs_io -r -c "mmap -r 0 $((64 * MiB))" -c "mread $((40 * MiB)) 4096" \
		"$mnt/striped" 2>&1 >/dev/null)
	status=$?
	echo "xfs_io exited with $status: $out"
	[ $status -eq $((128 + 7)) ] || grep -qi 'bus error' <<<"$out"
}

# A mapping that outlives a shrinking ftruncate faults with SIGBUS past
# the new end; a read there is the end of the file.
truncated_mapping_is_sigbus() {
	local out status
	out=$(xfs_io -c "mmap -r 0 $((8 * MiB))" -c "truncate $((2 * MiB))" \
		-c "mread $((4 * MiB)) 4096" "$mnt/mapped" 2>&1 >/dev/null)
	status=$?
	echo "xfs_io exited with $status: $out"
	[ $status -eq $((128 + 7)) ] || grep -qi 'bus error' <<<"$out" || return 1
	[ "$(stat -c %s "$mnt/mapped")" -eq $((2 * MiB)) ] &&
		[ -z "$(xfs_io -r -c "pread -q $((4 * MiB)) 4096" "$mnt/mapped" 2>&1)" ]
}

remount_reads_back() {
	local before after
	before=$(md5sum <"$mnt/striped")
	umount "$mnt" && mount_famfs --hostile-fmaps || return 1
	after=$(md5sum <"$mnt/striped")
	[ "$before" = "$after" ] && on_device "$mnt/striped"
}

# With --hostile-fmaps, the server answers GET_FMAP of a sticky file with
# its extents on daxdev 7, which it does not have: the open fails.
unknown_daxdev_fails_open() {
	local out
	xfs_io -f -c "truncate $((4 * MiB))" "$mnt/unknown" && chmod +t "$mnt/unknown" || return 1
	out=$(xfs_io -r -c "pread 0 4096" "$mnt/unknown" 2>&1)
	echo "$out"
	grep -q 'No such device' <<<"$out"
}

# ... and of a set-user-ID file with every strip cut to its first chunk:
# the first byte past one fences the file, whose reads then fail with EIO
# (until an open asks for its fmap again), and a fault there is SIGBUS.
short_strip_fences() {
	local out status
	# 8 MiB of one chunk a strip from CREATE, then 16 MiB of two: the cut
	# strips hold file bytes up to 16 MiB.
	xfs_io -f -c "truncate $((24 * MiB))" -c "pwrite -q 0 $((24 * MiB))" "$mnt/short" &&
		chmod u+s "$mnt/short" || return 1
	out=$(xfs_io -r -c "pread -q 0 4096" -c "pread -q $((20 * MiB)) 4096" \
		-c "pread -q 0 4096" "$mnt/short" 2>&1)
	echo "$out"
	[ "$(grep -c 'Input/output error' <<<"$out")" -eq 2 ] || return 1
	out=$(xfs_io -r -c "mmap -r 0 $((24 * MiB))" -c "mread $((20 * MiB)) 4096" "$mnt/short" \
		2>&1 >/dev/null)
	status=$?
	echo "mapped read: exit $status $out"
	[ $status -eq $((128 + 7)) ] || grep -qi 'bus error' <<<"$out"
}

# counters_of FILE: the IOMAP_BEGIN upcalls, BPF answers and GET_FMAPs of
# the mount, through FILE, read after one open of it.
counters_of() {
	"$counters" "$mnt/$1" | awk '{ v[$1] = $2 }
		END { print v["upcalls_iomap_begin"], v["bpf_answers"], v["upcalls_get_fmap"] }'
}

# With --resolve upcall (famfs_resolve=iomap, no program), every fault and
# every copy of a famfs file asks the server with FUSE_IOMAP_BEGIN: the
# striped file reads the bytes written through the fmap, a mapped write
# lands where FIEMAP (itself asked the same way) says, and the counters
# show the upcalls.
resolve_by_upcall() {
	local ref=/tmp/famfs.ref b0 p0 f0 b1 p1 f1
	umount "$mnt" && mount_famfs --resolve upcall || return 1
	cmp "$ref" "$mnt/striped" || return 1
	read -r b0 p0 f0 < <(counters_of striped)
	xfs_io -r -c "mmap -r 0 $((32 * MiB))" -c "mread 0 $((32 * MiB))" "$mnt/striped" \
		>/dev/null || return 1
	read -r b1 p1 f1 < <(counters_of striped)
	echo "mapped read of 32 MiB: $((b1 - b0)) IOMAP_BEGIN upcalls," \
		"$((p1 - p0)) BPF answers, $((f1 - f0)) GET_FMAP for 2 opens"
	[ $((b1 - b0)) -ge 16 ] && [ "$p1" -eq "$p0" ] && [ $((f1 - f0)) -eq 2 ] || return 1
	xfs_io -f -c "truncate $((8 * MiB))" -c "mmap -w 0 $((8 * MiB))" \
		-c "mwrite -S 0x5a $((MiB)) $((5 * MiB))" -c "msync -s 0 $((8 * MiB))" \
		"$mnt/by_upcall" &&
		xfs_io -r -c "pread -v $((6 * MiB - 16)) 16" "$mnt/by_upcall" | grep -q '5a 5a 5a' &&
		on_device "$mnt/by_upcall" && on_device "$mnt/striped"
}

# With --resolve bpf, the famfs program answers every mapping of a file
# of one stripe group (8 MiB, CREATE's allocation) from the layout that
# GET_FMAP gave it: faults and reads make no IOMAP_BEGIN upcall, and read
# the bytes that the upcall mount wrote. A file of two groups is not the
# program's: it falls back to the server.
resolve_by_bpf() {
	local b0 p0 f0 b1 p1 f1
	umount "$mnt" && mount_famfs --resolve bpf || return 1
	read -r b0 p0 f0 < <(counters_of by_upcall)
	xfs_io -r -c "mmap -r 0 $((8 * MiB))" -c "mread 0 $((8 * MiB))" \
		-c "pread -v $((6 * MiB - 16)) 16" "$mnt/by_upcall" | grep -q '5a 5a 5a' ||
		return 1
	read -r b1 p1 f1 < <(counters_of by_upcall)
	echo "mapped and copied reads of 8 MiB: $((b1 - b0)) IOMAP_BEGIN upcalls," \
		"$((p1 - p0)) BPF answers, $((f1 - f0)) GET_FMAP for 2 opens"
	[ "$b1" -eq "$b0" ] && [ $((p1 - p0)) -ge 4 ] && [ $((f1 - f0)) -eq 2 ] || return 1
	on_device "$mnt/by_upcall" || return 1
	read -r b0 p0 f0 < <(counters_of striped)
	cmp /tmp/famfs.ref "$mnt/striped" || return 1
	read -r b1 p1 f1 < <(counters_of striped)
	echo "a read of the two-group file: $((b1 - b0)) IOMAP_BEGIN upcalls"
	[ "$b1" -gt "$b0" ]
}

# A log formatted without --stripe: each allocation is one simple extent.
simple_extents() {
	local ref=/tmp/famfs.ref
	umount "$mnt" && mount_famfs --format || return 1
	pattern $((8 * MiB)) "$ref"
	xfs_io -f -c "truncate $((8 * MiB))" "$mnt/simple" &&
		dd if="$ref" of="$mnt/simple" bs=1M conv=notrunc 2>/dev/null &&
		cmp "$ref" "$mnt/simple" && on_device "$mnt/simple"
}

# A memory failure in a file's first chunk (hard_offline_page, which tells
# the claim's holder): from then on a read through the device fails with
# EHWPOISON and a new mapping's fault is SIGBUS. /dev/pmem0 stays
# poisoned until the VM ends: this test comes last.
memory_failure() {
	local base physical out status
	base=$(cat "$(readlink -f /sys/block/pmem0/device)/resource") || return 1
	xfs_io -f -c "falloc 0 $((4 * MiB))" -c "pwrite -S 0x77 0 $((4 * MiB))" \
		"$mnt/victim" >/dev/null || return 1
	physical=$(extents "$mnt/victim" | awk 'NR == 1 { print $2 }')
	[ -n "$physical" ] || return 1
	printf '%#x\n' $((base + physical + 4096)) >/sys/devices/system/memory/hard_offline_page ||
		return 1
	out=$(xfs_io -r -c "pread 0 4096" "$mnt/victim" 2>&1)
	echo "read: $out"
	grep -q 'Memory page has hardware error' <<<"$out" || return 1
	out=$(xfs_io -r -c "mmap -r 0 4096" -c "mread 0 4096" "$mnt/victim" 2>&1 >/dev/null)
	status=$?
	echo "mapped read: exit $status $out"
	[ $status -eq $((128 + 7)) ] || grep -qi 'bus error' <<<"$out"
}

ktap_set_plan 16
check "mount famfs --format --stripe 4 --chunk 2M mounts and returns" \
	mount_famfs --format --stripe 4 --chunk 2M --hostile-fmaps
check "ftruncate allocates stripes; written bytes read back, and are on the device where FIEMAP says" \
	write_read_back
check "fallocate allocates zeroes; a mapped write lands where FIEMAP says" \
	mapped_write_read_back
check "MAP_SYNC mappings are accepted and written" map_sync
check "fio --verify over a fallocated file" fio_verify --rw=randwrite
check "reads and faults make one GET_FMAP per open and no IOMAP_BEGIN upcall" no_upcalls
check "a write past the end of the allocation is ENOSPC" write_past_end_is_enospc
check "a fault past the end of the file is SIGBUS" fault_past_end_is_sigbus
check "a mapping past a shrinking ftruncate faults with SIGBUS" truncated_mapping_is_sigbus
check "a remount replays the log and reads the same bytes" remount_reads_back
check "an fmap naming an unknown daxdev fails the open" unknown_daxdev_fails_open
check "an fmap whose strips end short fences the file: EIO, SIGBUS" short_strip_fences
check "famfs_resolve=iomap without a program: every fault asks FUSE_IOMAP_BEGIN, same bytes" \
	resolve_by_upcall
check "famfs_resolve=iomap with the famfs program: no IOMAP_BEGIN upcall, same bytes" \
	resolve_by_bpf
check "a log without stripes: simple extents read back, on the device" simple_extents
if [ -w /sys/devices/system/memory/hard_offline_page ]; then
	check "a memory failure: reads fail with EHWPOISON, faults with SIGBUS" memory_failure
else
	ktap_test_skip "a memory failure: no CONFIG_MEMORY_FAILURE"
fi
umount "$mnt"
sed 's/^/# server log: /' "$log"
ktap_finished
