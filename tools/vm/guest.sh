#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of tools/vm/run.sh; runs inside the VM as root:
#
#   guest.sh MODE OUT
#
# Loads the module, runs MODE's workload, unloads the module, then leaves in
# OUT (the host's read-write directory) what the host judges: guest.log,
# tap.txt (check), bench/ (bench), dmesg.txt, kmemleak.txt and status. The
# host staged the installed selftests and helpers, their list and
# kselftest's runner in OUT/selftests, and the module to load as
# OUT/fuse_iomap.ko.
set -uo pipefail

mode=$1
out=$2
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ko=$out/fuse_iomap.ko
server=$repo/samples/fuse_iomap_server/target/release/fuse-iomap-server
bpftest=$repo/samples/fuse_iomap_server/target/release/fuse-iomap-bpf-test
client=$out/selftests/fuse_iomap/fuse_iomap_client
kmemleak=/sys/kernel/debug/kmemleak
status=ok

exec > >(tee "$out/guest.log") 2>&1

say() { printf 'guest: %s\n' "$*"; }
failed() { say "FAILED: $*"; status="failed: $*"; }

mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
# Forget what boot left unreferenced: only leaks made from here on count.
[ -w "$kmemleak" ] && echo clear >"$kmemleak"

say "kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ { print $2 " kB" }' /proc/meminfo)"
if [ -b /dev/pmem0 ]; then
	say "persistent memory: /dev/pmem0, $(($(cat /sys/block/pmem0/size) / 2048)) MiB"
else
	failed "no /dev/pmem0 (memmap= on the command line, CONFIG_X86_PMEM_LEGACY)"
fi

if [ -b /dev/vda ]; then
	say "disk for the mount: /dev/vda, $(($(cat /sys/block/vda/size) / 2048)) MiB"
	export FUSE_IOMAP_DISK=/dev/vda
else
	failed "no /dev/vda (the image run.sh attaches, CONFIG_VIRTIO_BLK)"
fi
# fstests, staged by run.sh when the bootstrap built it.
[ -x "$out/fstests/ltp/fsx" ] && export FUSE_IOMAP_FSTESTS=$out/fstests

# The sample server's disk file system on /dev/vda, mounted: a tree written,
# listed, mapped, remounted and read back, and what its I/O cost.
demo_mount() {
	local mnt counters=$out/selftests/fuse_iomap/fuse_iomap_counters
	mnt=$(mktemp -d /tmp/fuse_iomap_demo.XXXXXX)
	say "the sample server's disk file system, formatted on /dev/vda and mounted:"
	"$server" mount disk --device /dev/vda --format "$mnt" 2>&1 | sed 's/^/    /' || return 1
	mkdir -p "$mnt/src/fs" "$mnt/doc" || return 1
	cp "$repo"/fs/fuse_iomap/*.rs "$mnt/src/fs/" && cp "$repo"/README.md "$mnt/doc/" || return 1
	dd if=/dev/urandom of="$mnt/data" bs=1M count=16 status=none || return 1
	sync
	say "the tree:"
	(cd "$mnt" && ls -lR | head -n 20) | sed 's/^/    /'
	say "where the server put data (xfs_io fiemap -v), and the first hole:"
	xfs_io -c 'fiemap -v' -c 'seek -h 0' "$mnt/data" | sed 's/^/    /'
	local sum
	sum=$(cd "$mnt" && find . -type f -exec md5sum {} + | sort)
	say "unmounting and mounting again:"
	umount "$mnt" || return 1
	"$server" mount disk --device /dev/vda "$mnt" 2>&1 | sed 's/^/    /' || return 1
	[ "$(cd "$mnt" && find . -type f -exec md5sum {} + | sort)" = "$sum" ] || return 1
	say "every file read back after the remount: $(wc -l <<<"$sum") files, same checksums"
	say "reading data twice with O_DIRECT, and what each pass cost (the checksums above"
	say "already read it through the page cache, whose mappings the cache kept):"
	local pass before after
	for pass in first second; do
		before=$("$counters" "$mnt/data")
		xfs_io -d -c 'pread -q -b 64k 0 16m' "$mnt/data" || return 1
		after=$("$counters" "$mnt/data")
		# The counters this pass added, side by side.
		paste <(echo "$before") <(echo "$after") |
			awk -v p="$pass" '$1 ~ /cache_hits|cache_misses|upcalls_iomap_begin/ {
				printf "    %s pass: %s %d\n", p, $1, $4 - $2 }'
	done
	umount "$mnt" && rmdir "$mnt"
}

# famfs mounted: a file striped over /dev/pmem0, read through DAX, with
# the counters of the run: GET_FMAP for the opens, no IOMAP_BEGIN upcall.
demo_famfs_mount() {
	local mnt counters=$out/selftests/fuse_iomap/fuse_iomap_counters
	mnt=$(mktemp -d /tmp/fuse_iomap_demo.XXXXXX)
	"$server" mount famfs --pmem /dev/pmem0 --format --stripe 4 --chunk 2M \
		--log "$out/famfs-server.log" "$mnt" 2>&1 | sed 's/^/    /' || return 1
	truncate -s 64M "$mnt/striped" || return 1
	"$out/selftests/fuse_iomap/fuse_iomap_famfs_mount_bench" "$mnt/striped" /dev/pmem0 64 |
		sed 's/^/    /' || return 1
	"$counters" "$mnt/striped" | grep -E 'upcalls_(iomap_begin|get_fmap|get_daxdev)' |
		sed 's/^/    counters (create, ftruncate, two opens): /'
	umount "$mnt" && rmdir "$mnt"
}

# DAX fault latency on one 8 MiB striped famfs file (one stripe group, which
# the famfs BPF program resolves), three ways: the fmap in the kernel
# (famfs), the BPF program, and an IOMAP_BEGIN upcall a fault
# (famfs_resolve=iomap). The three mounts take turns, three times, on the
# same device and file; each number is the median of the medians, with the
# counters' IOMAP_BEGIN upcalls and BPF answers over one benchmark run.
demo_famfs_faults() {
	local mnt counters=$out/selftests/fuse_iomap/fuse_iomap_counters round mode fmt
	local bench=$out/selftests/fuse_iomap/fuse_iomap_famfs_mount_bench runs=$out/faults.txt
	mnt=$(mktemp -d /tmp/fuse_iomap_demo.XXXXXX)
	fmt=(--format --stripe 4 --chunk 2M)
	: >"$runs"
	for round in 1 2 3; do
		for mode in fmap bpf upcall; do
			"$server" mount famfs --pmem /dev/pmem0 "${fmt[@]}" --resolve "$mode" \
				--log "$out/famfs-server.log" "$mnt" >/dev/null 2>&1 || return 1
			if [ ${#fmt[@]} -gt 0 ]; then
				fmt=()
				truncate -s 8M "$mnt/faults" &&
					head -c 8M /dev/urandom |
					dd of="$mnt/faults" bs=1M conv=notrunc iflag=fullblock 2>/dev/null ||
					return 1
			fi
			{
				printf '%s ' "$mode"
				"$counters" "$mnt/faults" | awk '{ v[$1] = $2 }
					END { printf "%s %s ", v["upcalls_iomap_begin"], v["bpf_answers"] }'
				"$bench" --faults "$mnt/faults" | tr '\n' ' '
				"$counters" "$mnt/faults" | awk '{ v[$1] = $2 }
					END { printf "%s %s ", v["upcalls_iomap_begin"], v["bpf_answers"] }'
				echo
			} >>"$runs" || return 1
			umount "$mnt" || return 1
		done
	done
	rmdir "$mnt"
	# Each line: mode, upcalls and answers before, "pte US pmd US", after.
	awk '
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++)
				for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((n + 1) / 2)]
		}
		{ n[$1]++; pte[$1, n[$1]] = $5; pmd[$1, n[$1]] = $7; up[$1] = $8 - $2; bpf[$1] = $9 - $3 }
		END {
			split("fmap bpf upcall", order, " ")
			name["fmap"] = "the fmap, in the kernel (famfs)"
			name["bpf"] = "the famfs BPF program"
			name["upcall"] = "a FUSE_IOMAP_BEGIN upcall"
			printf "  %-34s %9s %6s %9s %6s %8s %8s\n", "iomap_begin answered by", "PTE us", "ratio",
				"PMD us", "ratio", "upcalls", "BPF"
			for (k = 1; k <= 3; k++) {
				m = order[k]
				for (i = 1; i <= n[m]; i++) { a[i] = pte[m, i]; b[i] = pmd[m, i] }
				p = med(a, n[m]); q = med(b, n[m])
				if (k == 1) { p0 = p; q0 = q }
				printf "  %-34s %9.3f %6.2f %9.3f %6.2f %8d %8d\n", name[m], p, p / p0, q, q / q0,
					up[m], bpf[m]
			}
		}' "$runs"
}

say "loading $ko"
if insmod "$ko"; then
	case "$mode" in
	check)
		# What run_kselftest.sh does for one collection.
		(
			# For the test that reloads the module, and those that run the
			# sample server and the BPF tests.
			export FUSE_IOMAP_KO=$ko FUSE_IOMAP_SERVER=$server FUSE_IOMAP_BPF_TEST=$bpftest
			export FUSE_IOMAP_SELFTESTS=$out/selftests/fuse_iomap
			# runner.sh reads unset variables.
			set +u
			BASE_DIR=$out/selftests
			cd "$BASE_DIR/fuse_iomap" || exit 1
			# shellcheck source=/dev/null
			. "$BASE_DIR/kselftest/runner.sh"
			# The tests' own TAP goes to $logfile, /dev/stdout by default,
			# which virtme-ng points at its console: keep it in this pipe.
			logfile=/proc/self/fd/1
			run_many $(sed -n 's/^fuse_iomap://p' "$BASE_DIR/tests.list")
		) | tee "$out/tap.txt"
		;;
	shell)
		say "a shell in the guest; the module is loaded, \$FUSE_IOMAP_SERVER and"
		say "\$FUSE_IOMAP_DISK are set; exit to end the VM"
		(
			export FUSE_IOMAP_KO=$ko FUSE_IOMAP_SERVER=$server FUSE_IOMAP_BPF_TEST=$bpftest
			export FUSE_IOMAP_SELFTESTS=$out/selftests/fuse_iomap
			cd "$repo" && bash -i </dev/console
		)
		;;
	exec)
		say "running: $(cat "$out/command")"
		(
			export FUSE_IOMAP_KO=$ko FUSE_IOMAP_SERVER=$server FUSE_IOMAP_BPF_TEST=$bpftest
			export FUSE_IOMAP_SELFTESTS=$out/selftests/fuse_iomap
			cd "$repo" && bash -e "$out/command"
		)
		echo $? >"$out/exec_status"
		say "the command exited with $(cat "$out/exec_status")"
		;;
	bench)
		# The host makes the report of what this leaves in $out/bench.
		mkdir -p "$out/bench"
		FUSE_IOMAP_SERVER=$server FUSE_IOMAP_SELFTESTS=$out/selftests/fuse_iomap \
			"$repo/tools/vm/bench_ext4.sh" "$out/bench" || failed "the ext4 benchmark"
		;;
	fstests)
		# The host judges the tests by the summary this leaves.
		FUSE_IOMAP_SERVER=$server "$repo/tools/fstests/guest.sh" "$out/fstests.list" "$out"
		[ -s "$out/fstests-results/summary.txt" ] || failed "fstests left no summary"
		;;
	demo)
		say "the module registered:"
		dmesg | grep 'fuse_iomap:' | sed 's/^/    /'
		ls -l "/dev/fuse-iomap" | sed 's/^/    /'
		demo_mount || failed "the mounted disk file system"
		say "the sample server writes 4 famfs files of 32 MiB, striped over 4 strips"
		say "of /dev/pmem0; the client opens each (GET_FMAP, GET_DAXDEV) and reads it:"
		"$server" famfs --files 4 --size $((32 << 20)) --strips 4 -- "$client" famfs 4 |
			sed 's/^/    /' || failed "famfs files"
		say "an extent-mapped disk file of 4096 blocks in extents of 64: the first pass"
		say "upcalls once per extent (the server upserts what it answers), the second hits:"
		"$server" disk --blocks 4096 --extent-blocks 64 -- "$client" disk 4096 64 |
			sed 's/^/    /' || failed "disk file"
		say "the same famfs files read through iomap mappings, with the famfs BPF"
		say "program attached: it answers every iomap_begin, no IOMAP_BEGIN upcall:"
		"$server" famfs --bpf --files 4 --size $((32 << 20)) --strips 4 -- \
			"$client" famfs-map 4 0 | sed 's/^/    /' || failed "famfs through BPF"
		say "the cost of an iomap_begin answered by an upcall, a cache hit and BPF:"
		"$server" disk --bpf handled --blocks 4096 --extent-blocks 1 -- "$client" bench 4096 |
			sed 's/^/    /' || failed "iomap_begin benchmark"
		say "famfs read bandwidth against O_DIRECT reads of the same pmem bytes:"
		"$out/selftests/fuse_iomap/fuse_iomap_famfs_bench" 64 | sed 's/^/    /' ||
			failed "fuse_iomap_famfs_bench"
		say "famfs mounted (mount famfs --stripe 4 --chunk 2M): the file's bandwidth"
		say "through mmap and read() against mmap of the raw device, and DAX faults:"
		demo_famfs_mount || failed "the mounted famfs file system"
		say "DAX fault latency, by where iomap_begin is answered (an 8 MiB file of one"
		say "stripe group; medians of 3 mounts each; upcalls and BPF answers of one run):"
		demo_famfs_faults || failed "famfs fault latency"
		;;
	esac
	say "unloading"
	rmmod fuse_iomap || failed "rmmod fuse_iomap"
else
	failed "insmod $ko"
fi

if [ -w "$kmemleak" ]; then
	# kmemleak reports only objects older than 5 s, and an object can hide
	# behind a stale pointer for one scan: wait, then scan twice.
	sleep 6
	echo scan >"$kmemleak"
	echo scan >"$kmemleak"
	cat "$kmemleak" >"$out/kmemleak.txt"
	kmemleak_done="kmemleak scan done"
else
	kmemleak_done="no kmemleak"
fi
dmesg >"$out/dmesg.txt"
say "done: $status"
printf 'guest: %s\n%s\n' "$status" "$kmemleak_done" >"$out/status"
