#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The sample server's ext4 mode (libext2fs), mounted on an image that
# mkfs.ext4 -d made, against outside clients: every file reads back as the
# tree it was made from, through read(), O_DIRECT and mmap (fio verifying
# what it wrote into the tree); FIEMAP reports the extents debugfs finds in
# the image; the mapping cache answers a second pass; --rw writes (over
# allocated blocks, into fallocated unwritten ones, fio --verify) leave
# e2fsck -fn clean and the files byte-identical to the same writes made
# through the kernel's ext4; and hostile images (a fuzzed superblock, an
# extent past the device) are refused or read EIO. Served with --no-iomap,
# the same image's data goes through FUSE_READ and FUSE_WRITE (no
# IOMAP_BEGIN at all), reads back the same, and takes the same writes. Needs the server's
# binary in $FUSE_IOMAP_SERVER, a disk to write the image to in
# $FUSE_IOMAP_DISK (tools/vm/run.sh attaches /dev/vda), and e2fsprogs.

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
# shellcheck source=/dev/null
. "$here/fuse_iomap_mount_lib.sh"
server=${FUSE_IOMAP_SERVER:-}
disk=${FUSE_IOMAP_DISK:-}
log=/tmp/fuse-iomap-ext4.log
MiB=$((1 << 20))

mount_setup fuse_iomap_ext4 "$disk" "FUSE_IOMAP_DISK does not name a block device"
for tool in mkfs.ext4 debugfs e2fsck; do
	if ! command -v "$tool" >/dev/null; then
		ktap_skip_all "no $tool (e2fsprogs; tools/bootstrap.sh installs it)"
		exit "$KSFT_SKIP"
	fi
done
src=$(mktemp -d /tmp/fuse_iomap_ext4_src.XXXXXX)
work=$(mktemp -d /tmp/fuse_iomap_ext4_work.XXXXXX)
trap 'umount -l "$mnt" "$work/kernel" 2>/dev/null; rmdir "$mnt"; rm -rf "$src" "$work"' EXIT

mount_ext4() {
	"$server" mount ext4 --device "$disk" --log "$log" "$@" "$mnt"
}

# The tree: fio's verifiable file, a large random file, a sparse one, one
# preallocated past its end, and a directory of small files.
make_tree() {
	local i
	fio --name=tree --filename="$src/fio" --size=16M --bs=64k --rw=write \
		--verify=crc32c --do_verify=0 --output-format=terse --minimal >/dev/null || return 1
	head -c $((24 * MiB + 4096 * 3 + 100)) /dev/urandom >"$src/big" || return 1
	xfs_io -f -c "pwrite -q -S 0x11 0 64k" -c "pwrite -q -S 0x22 $((4 * MiB)) 64k" \
		"$src/sparse" || return 1
	xfs_io -f -c "falloc -k 0 $((2 * MiB))" -c "pwrite -q -S 0x33 0 8k" "$src/prealloc" || return 1
	mkdir "$src/small" || return 1
	for i in $(seq 1 200); do
		echo "file $i" >"$src/small/$i" || return 1
	done
}

make_image() {
	make_tree && mkfs.ext4 -q -F -b 4096 -d "$src" "$disk" 128M && e2fsck -fn "$disk" >/dev/null
}

reads_back() {
	mount_ext4 && diff -r -x lost+found "$src" "$mnt" && echo "every file reads back"
}

direct_and_mapped_reads() {
	fio --name=dio --filename="$mnt/fio" --size=16M --bs=64k --rw=read --direct=1 \
		--verify=crc32c --verify_only --output-format=terse --minimal >/dev/null &&
		fio --name=mmap --filename="$mnt/fio" --size=16M --bs=64k --rw=randread \
			--ioengine=mmap --verify=crc32c --verify_only --output-format=terse \
			--minimal >/dev/null &&
		cmp <(xfs_io -d -r -c "pread -q -b 1m -v 0 $((24 * MiB))" "$mnt/big") \
		    <(xfs_io -r -c "pread -q -b 1m -v 0 $((24 * MiB))" "$src/big")
}

# FIEMAP of FILE, as "logical physical length" in 4 KiB blocks, merged
# where contiguous, and the same of debugfs's written extents in the
# image (an "Uninit" one ends its line with that word).
fiemap_blocks() {
	xfs_io -r -c "fiemap" "$1" |
		sed -nE 's/^[[:space:]]*[0-9]+: \[([0-9]+)\.\.([0-9]+)\]: ([0-9]+)\.\.[0-9]+$/\1 \2 \3/p' |
		awk '{ print $1 / 8, $3 / 8, ($2 - $1 + 1) / 8 }' | merge_runs
}

debugfs_blocks() {
	debugfs -R "ex $1" "$disk" 2>/dev/null |
		sed -nE 's/^ *[0-9]+\/ *[0-9]+ +[0-9]+\/ *[0-9]+ +([0-9]+) *- *[0-9]+ +([0-9]+) *- *[0-9]+ +([0-9]+) *$/\1 \2 \3/p' |
		merge_runs
}

merge_runs() {
	awk 'NR > 1 && $1 == l + n && $2 == p + n { n += $3; next }
		NR > 1 { print l, p, n } { l = $1; p = $2; n = $3 } END { if (NR) print l, p, n }'
}

fiemap_matches_debugfs() {
	local f mine theirs n=0
	for f in fio big sparse small/7; do
		mine=$(fiemap_blocks "$mnt/$f")
		theirs=$(debugfs_blocks "/$f")
		if [ -z "$mine" ] || [ "$mine" != "$theirs" ]; then
			echo "$f: fiemap [$mine], debugfs [$theirs]"
			return 1
		fi
		n=$((n + $(wc -l <<<"$mine")))
	done
	echo "$n extents of 4 files where debugfs finds them"
}

# A second O_DIRECT pass over the large file: the mappings are cached.
cache_second_pass() {
	local b0 h0 b1 h1
	xfs_io -d -r -c "pread -q -b 64k 0 $((24 * MiB))" "$mnt/big" || return 1
	read -r b0 h0 < <(begin_and_hits big)
	xfs_io -d -r -c "pread -q -b 64k 0 $((24 * MiB))" "$mnt/big" || return 1
	read -r b1 h1 < <(begin_and_hits big)
	echo "second pass: $((b1 - b0)) IOMAP_BEGIN upcalls, $((h1 - h0)) cache hits"
	[ "$b1" -eq "$b0" ] && [ $((h1 - h0)) -ge 384 ]
}

begin_and_hits() {
	"$counters" "$mnt/$1" | awk '{ v[$1] = $2 }
		END { print v["upcalls_iomap_begin"], v["cache_hits"] }'
}

read_only_refuses_writes() {
	! touch "$mnt/new" 2>/dev/null && ! xfs_io -c "pwrite -q 0 4k" "$mnt/big" 2>/dev/null
}

# The same writes, through the mount and through the kernel's ext4 on a
# copy of the image: over allocated blocks, into the preallocated blocks
# past the end, and in a hole of the sparse file.
writes() {
	xfs_io -c "pwrite -q -S 0x61 4096 12k" -c "pwrite -q -S 0x62 $((20 * MiB)) 1m" \
		-c fsync "$1/big" &&
		xfs_io -c "pwrite -q -S 0x63 $((64 * 1024)) 256k" -c fsync "$1/prealloc" &&
		xfs_io -d -c "pwrite -q -S 0x64 $((MiB)) 64k" -c fsync "$1/sparse"
}

rw_writes_match_the_kernel() {
	local f out
	umount "$mnt" || return 1
	dd if="$disk" of="$work/copy.img" bs=1M count=128 status=none &&
		cp "$work/copy.img" "$work/good.img" || return 1
	mount_ext4 --rw && writes "$mnt" || return 1
	fio --name=rw --filename="$mnt/fio" --size=16M --bs=4k --rw=randwrite --verify=crc32c \
		--do_verify=1 --output-format=terse --minimal >/dev/null || return 1
	umount "$mnt" || return 1
	out=$(e2fsck -fn "$disk" 2>&1) || { echo "$out"; return 1; }
	tail -1 <<<"$out"
	mkdir "$work/kernel" && mount -o loop "$work/copy.img" "$work/kernel" &&
		writes "$work/kernel" && umount "$work/kernel" || return 1
	mount_ext4 && mount -o loop,ro "$work/copy.img" "$work/kernel" || return 1
	for f in big prealloc sparse; do
		cmp "$mnt/$f" "$work/kernel/$f" || return 1
	done
	echo "big, prealloc and sparse: the same bytes as through the kernel's ext4"
	umount "$work/kernel"
}

# --no-iomap: the handshake leaves iomap out, and the kernel moves file data
# with FUSE_READ and FUSE_WRITE: buffered, O_DIRECT and mapped reads return
# the tree, no IOMAP_BEGIN is sent, FIEMAP and shared writable mappings are
# refused; with --rw the same writes as above store the same bytes.
classic_reads_and_writes() {
	local b0 b1 f out
	umount "$mnt" && dd if="$work/good.img" of="$disk" bs=1M status=none &&
		mount_ext4 --no-iomap || return 1
	read -r b0 _ < <(begin_and_hits big)
	diff -r -x lost+found "$src" "$mnt" && direct_and_mapped_reads || return 1
	read -r b1 _ < <(begin_and_hits big)
	echo "classic reads: $((b1 - b0)) IOMAP_BEGIN upcalls"
	[ "$b1" -eq "$b0" ] || return 1
	! xfs_io -r -c "fiemap" "$mnt/big" >/dev/null 2>&1 || return 1
	umount "$mnt" && mount_ext4 --no-iomap --rw || return 1
	out=$(xfs_io -c "mmap -w 0 4096" "$mnt/big" 2>&1)
	grep -q 'Invalid argument' <<<"$out" || { echo "shared writable mmap: $out"; return 1; }
	writes "$mnt" && umount "$mnt" || return 1
	out=$(e2fsck -fn "$disk" 2>&1) || { echo "$out"; return 1; }
	mount_ext4 --no-iomap && mount -o loop,ro "$work/copy.img" "$work/kernel" || return 1
	for f in big prealloc sparse; do
		cmp "$mnt/$f" "$work/kernel/$f" || return 1
	done
	echo "classic writes: the same bytes as through the kernel's ext4"
	umount "$work/kernel"
}

fuzzed_superblock_is_refused() {
	umount "$mnt" || return 1
	dd if="$disk" of="$work/good.img" bs=1M count=128 status=none &&
		printf '\x00\x00' | dd of="$disk" bs=1 seek=$((1024 + 56)) conv=notrunc status=none ||
		return 1
	if mount_ext4 2>&1; then
		echo "a superblock without its magic was mounted"
		return 1
	fi
	! mountpoint -q "$mnt" && dd if="$work/good.img" of="$disk" bs=1M status=none
}

# The large file's first extent moved past the end of the device (its
# ee_start_lo, i_block[5] of an inline extent tree): its reads are EIO,
# the other files read on.
extent_past_the_device_is_eio() {
	local out
	debugfs -w -R "sif /big block[5] 0x7fffff0" "$disk" 2>/dev/null || return 1
	mount_ext4 || return 1
	out=$(xfs_io -r -c "pread -q 0 4k" "$mnt/big" 2>&1)
	echo "$out"
	grep -q 'Input/output error' <<<"$out" && diff -r "$src/small" "$mnt/small"
}

ktap_set_plan 10
check "mkfs.ext4 -d makes the image" make_image
check "every file of the tree reads back through the mount" reads_back
check "O_DIRECT and mapped reads return what fio and the tree wrote" direct_and_mapped_reads
check "FIEMAP reports the extents debugfs finds in the image" fiemap_matches_debugfs
check "a second O_DIRECT pass is answered by the mapping cache" cache_second_pass
check "a read-only mount refuses writes" read_only_refuses_writes
check "--rw writes leave e2fsck clean and match the kernel's ext4" rw_writes_match_the_kernel
check "--no-iomap: data through FUSE_READ and FUSE_WRITE, the same bytes" \
	classic_reads_and_writes
check "a superblock without its magic is refused" fuzzed_superblock_is_refused
check "an extent past the device reads EIO" extent_past_the_device_is_eio
umount "$mnt" 2>/dev/null
sed 's/^/# server log: /' "$log"
ktap_finished
