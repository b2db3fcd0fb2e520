#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The ext4 read benchmark, in the VM (tools/vm/guest.sh's bench mode runs
# it; make bench-vm):
#
#   tools/vm/bench_ext4.sh OUT
#
# One image, made with mkfs.ext4 -d from a tree of large files (for the
# data workloads) and small ones (for the metadata walk), on the device
# that BENCH_DEVICE names, read by each configuration in turn:
#
#   ext4        (a) the kernel's ext4 driver: the limit of this machine
#   fuse2fs     (b) Debian's fuse2fs, on the kernel's own /dev/fuse
#   noiomap     (c) this module and the sample server, iomap off
#   iomap       (d) this module and the sample server, iomap on
#   iomap_warm  (e) the same mount, a second pass: the mapping cache warm
#
# All of them read the same bytes on the same device: with BENCH_DEVICE
# virtio (the default) the guest's virtio-blk disk /dev/vda, whose every
# request QEMU emulates in a host thread, the wait that all configurations
# share; with memory a loop device over a file in the guest's memory
# (tmpfs), which takes that wait away and leaves the CPU's work, copies
# and round trips, as a fast NVMe device would. Each round
# mounts each configuration once and runs every workload on it:
#
#   seq_buf     fio, sequential 1 MiB reads of the large files, buffered
#   seq_direct  the same with O_DIRECT, three times over
#   rand_direct fio, random 4 KiB O_DIRECT reads of the large files, timed
#   walk        find -printf '%s' over the whole tree: a stat per entry
#
# Caches are dropped (drop_caches 3) before each measured run. (e) is
# measured right after (d) on the same mount with only the page cache
# dropped (drop_caches 1): dropping the inodes too would free their mapping
# caches, which live in the module's inode. The walk maps nothing, so (e)
# skips it.
#
# Leaves in OUT: runs.tsv (a line per measured run: configuration,
# workload, round, value and unit, then the connection's IOMAP_BEGIN
# upcalls, cache hits and misses during the run, the CPU's user, system,
# iowait and idle shares, and the CPU seconds of the file system's daemon),
# skips.tsv (a configuration that could not run, and why), env.txt (the
# guest's CPU, kernel, tree and the mounts' readahead) and the logs.
set -euo pipefail

out=$1
server=${FUSE_IOMAP_SERVER:?the sample server}
counters=${FUSE_IOMAP_SELFTESTS:?the installed selftests}/fuse_iomap_counters
device=${BENCH_DEVICE:-virtio}
# Under TCG, about 13 minutes for all of it (4 rounds took 11).
rounds=${BENCH_ROUNDS:-5}
rand_seconds=${BENCH_RAND_SECONDS:-8}
large_files=4
large_mib=96
# O_DIRECT reads the large files this many times: a run of a second or
# more under TCG, which a single pass is not.
direct_loops=3
small_dirs=20
small_per_dir=128
small_kib=8

mnt=/tmp/bench/mnt
tree=/tmp/bench/tree
runs=$out/runs.tsv
skips=$out/skips.tsv

say() { printf 'bench: %s\n' "$*"; }

# The tree, in a tmpfs (the guest's root is the host's, read-only), then
# the image. Random bytes: mkfs.ext4 -d leaves blocks of zeros unallocated.
make_image() {
	local i d
	mkdir -p "$tree/large"
	for i in $(seq 1 $large_files); do
		head -c "${large_mib}M" /dev/urandom >"$tree/large/$i"
	done
	for d in $(seq 1 $small_dirs); do
		mkdir -p "$tree/small/$d"
		head -c $((small_per_dir * small_kib))K /dev/urandom |
			split -b "${small_kib}K" -a 3 - "$tree/small/$d/f"
	done
	# The file whose handle reads the connection's counters; no workload
	# reads it.
	echo probe >"$tree/probe"
	if [ "$device" = memory ]; then
		# The tree's size and a fifth more for ext4's metadata.
		truncate -s $(($(du -sm "$tree" | cut -f1) * 6 / 5 + 16))M /tmp/bench/image
		dev=$(losetup --find --show /tmp/bench/image)
	fi
	mkfs.ext4 -q -F -b 4096 -d "$tree" "$dev"
	rm -rf "$tree"
}

# The large files, as fio's --filename list.
large_list() {
	local i list=
	for i in $(seq 1 $large_files); do
		list+="${list:+:}$mnt/large/$i"
	done
	echo "$list"
}

# Mounts configuration $1 on $mnt, and prints the pid of its daemon (none
# for ext4). Fails with the reason on stderr where the configuration cannot
# run.
mount_config() {
	case $1 in
	ext4)
		mount -t ext4 -o ro "$dev" "$mnt"
		echo -
		;;
	fuse2fs)
		fuse2fs -o ro,fakeroot "$dev" "$mnt" >>"$out/fuse2fs.log" 2>&1
		pgrep -nx fuse2fs
		;;
	noiomap)
		"$server" mount ext4 --device "$dev" --no-iomap --log "$out/server.log" \
			"$mnt" >/dev/null
		pgrep -nf "fuse-iomap-server mount ext4"
		;;
	iomap)
		"$server" mount ext4 --device "$dev" --log "$out/server.log" "$mnt" >/dev/null
		pgrep -nf "fuse-iomap-server mount ext4"
		;;
	esac
}

# The readahead of the mount's backing device info: the device's, named
# MAJ:MIN, or (fuse_iomap's) the newest one that super_setup_bdi named
# TYPE-N.
read_ahead_kb() {
	local bdi
	bdi=/sys/class/bdi/$(mountpoint -d "$mnt")
	[ -d "$bdi" ] || bdi=$(find /sys/class/bdi/ -name '*-[0-9]*' | sort -t- -k2 -n | tail -n 1)
	cat "$bdi/read_ahead_kb"
}

# Unmounts $mnt and waits for daemon $1 to exit: the next configuration
# opens the same device.
unmount_config() {
	umount "$mnt"
	[ "$1" = - ] && return
	while kill -0 "$1" 2>/dev/null; do sleep 0.1; done
}

# The connection's counters, "IOMAP_BEGIN-upcalls hits misses", or "- - -"
# where there is no fuse_iomap connection.
read_counters() {
	[ "$1" = iomap ] || [ "$1" = iomap_warm ] || { echo "- - -"; return; }
	"$counters" "$mnt/probe" | awk '{ v[$1] = $2 }
		END { print v["upcalls_iomap_begin"], v["cache_hits"], v["cache_misses"] }'
}

# The CPU's jiffies: user+nice, system+irq+softirq, iowait, idle.
cpu_jiffies() {
	awk '/^cpu / { print $2 + $3, $4 + $7 + $8, $6, $5 }' /proc/stat
}

# The CPU seconds that process $1 has used, or - without a process.
daemon_seconds() {
	[ "$1" = - ] && { echo -; return; }
	awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f\n", ($14 + $15) / hz }' "/proc/$1/stat"
}

# Runs workload $2 once on the mount, as configuration $1, and prints its
# result: "VALUE UNIT".
workload() {
	local json=$out/fio.json
	case $2 in
	seq_buf | seq_direct)
		local direct=(--direct=0)
		[ "$2" = seq_direct ] && direct=(--direct=1 "--loops=$direct_loops")
		fio --name="$2" --readonly --rw=read --bs=1M "${direct[@]}" \
			--filename="$(large_list)" --file_service_type=sequential \
			--output-format=json --output="$json" >/dev/null
		python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["jobs"][0]["read"]
print("%.2f MiB/s" % (r["bw_bytes"] / 2**20))' "$json"
		;;
	rand_direct)
		fio --name="$2" --readonly --rw=randread --bs=4k --direct=1 --randrepeat=1 \
			--filename="$(large_list)" --time_based --runtime="$rand_seconds" \
			--output-format=json --output="$json" >/dev/null
		python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))["jobs"][0]["read"]
print("%.0f IOPS" % r["iops"])' "$json"
		;;
	walk)
		local t0 t1 n
		t0=$(date +%s%N)
		n=$(find "$mnt" -printf '%s\n' | wc -l)
		t1=$(date +%s%N)
		awk -v n="$n" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f entries/s\n", n / (ns / 1e9) }'
		;;
	esac
}

# Drops caches with $3 (drop_caches' value), then measures workload $2 as
# configuration $1 in round $4, with daemon $5, and appends the line to
# runs.tsv.
measure() {
	local cfg=$1 wl=$2 round=$4 pid=$5 c0 c1 j0 j1 d0 d1 result
	sync
	echo "$3" >/proc/sys/vm/drop_caches
	c0=$(read_counters "$cfg")
	j0=$(cpu_jiffies)
	d0=$(daemon_seconds "$pid")
	# A workload that fails (fio's error is in its log) is recorded so.
	result=$(workload "$cfg" "$wl" 2>>"$out/workload.log") || result="failed -"
	d1=$(daemon_seconds "$pid")
	j1=$(cpu_jiffies)
	c1=$(read_counters "$cfg")
	# shellcheck disable=SC2086 # the fields, one word each
	printf '%s\t%s\t%s\t%s\t%s\n' "$cfg" "$wl" "$round" "$result" \
		"$(echo $c0 $c1 $j0 $j1 $d0 $d1 | awk '
			function delta(a, b) { return a == "-" ? "-" : b - a }
			{
				busy = ($11 - $7) + ($12 - $8) + ($13 - $9) + ($14 - $10)
				if (busy == 0) busy = 1
				printf "%s\t%s\t%s\t%.2f\t%.2f\t%.2f\t%.2f\t%s\n",
					delta($1, $4), delta($2, $5), delta($3, $6),
					($11 - $7) / busy, ($12 - $8) / busy, ($13 - $9) / busy,
					($14 - $10) / busy, $15 == "-" ? "-" : $16 - $15
			}')" | tr ' ' '\t' >>"$runs"
	say "$(tail -n 1 "$runs")"
}

case $device in
virtio)
	dev=/dev/vda
	tmpfs_size=512m
	;;
memory)
	dev=
	# The tree and the image, at once while mkfs.ext4 copies.
	tmpfs_size=1100m
	;;
*)
	echo "bench: BENCH_DEVICE is virtio or memory, not $device" >&2
	exit 2
	;;
esac
rm -f "$runs" "$skips"
mkdir -p "$mnt" "$tree"
mountpoint -q /tmp/bench || mount -t tmpfs -o "size=$tmpfs_size" bench /tmp/bench
mkdir -p "$mnt" "$tree"
t0=$(date +%s)
say "making the tree and the image on the $device device"
make_image
{
	echo "guest_cpu $(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
	echo "guest_cpus $(nproc)"
	echo "device $device $dev"
	echo "kernel $(uname -r)"
	echo "large_files $large_files x $large_mib MiB"
	echo "small_files $((small_dirs * small_per_dir)) x $small_kib KiB in $small_dirs directories"
	echo "rounds $rounds"
	echo "rand_seconds $rand_seconds"
	echo "direct_loops $direct_loops"
	echo "image_seconds $(($(date +%s) - t0))"
	echo "fio $(fio --version)"
	echo "fuse2fs $(dpkg-query -W -f='${Version}' fuse2fs)"
} >"$out/env.txt"
printf 'config\tworkload\tround\tvalue\tunit\tupcalls_iomap_begin\tcache_hits\tcache_misses\tuser\tsystem\tiowait\tidle\tdaemon_cpu_s\n' >"$runs"

for round in $(seq 1 "$rounds"); do
	for cfg in ext4 fuse2fs noiomap iomap; do
		if ! pid=$(mount_config "$cfg" 2>"$out/mount.err"); then
			[ "$round" -eq 1 ] && printf '%s\t%s\n' "$cfg" "$(cat "$out/mount.err")" >>"$skips"
			continue
		fi
		[ "$round" -eq 1 ] && echo "read_ahead_kb $cfg $(read_ahead_kb)" >>"$out/env.txt"
		for wl in seq_buf seq_direct rand_direct walk; do
			measure "$cfg" "$wl" 3 "$round" "$pid"
			if [ "$cfg" = iomap ] && [ "$wl" != walk ]; then
				measure iomap_warm "$wl" 1 "$round" "$pid"
			fi
		done
		unmount_config "$pid"
	done
done
echo "total_seconds $(($(date +%s) - t0))" >>"$out/env.txt"
say "done in $(($(date +%s) - t0)) s"
