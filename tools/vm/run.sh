#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the kernel tree KDIR with virtme-ng, run tools/vm/guest.sh MODE in the
# guest, and judge the run from what the guest left behind:
#
#   tools/vm/run.sh KDIR check   load the module, run the selftests, unload
#   tools/vm/run.sh KDIR demo    load the module, show what it registered
#   tools/vm/run.sh KDIR exec 'COMMAND'
#                                load the module, run COMMAND (bash) as root
#                                with the repository, the built server
#                                ($FUSE_IOMAP_SERVER), the disk
#                                ($FUSE_IOMAP_DISK), the installed
#                                selftests ($FUSE_IOMAP_SELFTESTS) and
#                                fstests ($FUSE_IOMAP_FSTESTS) at hand;
#                                exit with its status
#   tools/vm/run.sh KDIR shell   the same, with an interactive shell on this
#                                terminal as the command
#   tools/vm/run.sh KDIR bench   load the module, run the ext4 read
#                                benchmark (tools/vm/bench_ext4.sh); copy
#                                its results to $BENCH_RESULTS (default
#                                results/bench-ext4 in the repository)
#   tools/vm/run.sh KDIR fstests LIST
#                                load the module, run fstests' tests of LIST
#                                (tools/fstests/fuse_iomap.list's format)
#                                against the mount; copy their results to
#                                $FSTESTS_RESULTS (default results/fstests
#                                in the repository) and fail if one failed
#
# The module loaded is $FUSE_IOMAP_KO, which must be built for KDIR (default:
# fs/fuse_iomap/fuse_iomap.ko, the one make builds in place).
#
# The guest gets fresh virtio-blk disks, sparse images in the run's
# directory: /dev/vda (512 MiB) for the mount's file data, and /dev/vdb and
# /dev/vdc (2 GiB each), fstests' test and scratch devices.
#
# The run fails when the guest does not finish within VM_TIMEOUT seconds
# (default 3600), when a selftest fails, when dmesg holds a WARN, BUG, Oops,
# lockdep, hung-task or sleep-in-atomic report, or when kmemleak reports a
# leak (a kernel without kmemleak, the fast one, is judged on the rest). The
# VM is always torn down: virtme-ng runs under timeout(1), which kills its
# whole process group.
#
# KVM is used only when a probe boot with it finishes; /dev/kvm existing is
# not enough (nested virtualisation may be missing, and QEMU then hangs).
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cache=${FUSE_IOMAP_CACHE:-/var/cache/fuse-iomap-ref}
vm_timeout=${VM_TIMEOUT:-3600}

usage() { echo "usage: tools/vm/run.sh KDIR check|demo|shell|bench|exec 'COMMAND'|fstests LIST" >&2; exit 2; }
[ $# -ge 2 ] || usage
kdir=$(cd "$1" && pwd)
mode=$2
case "$mode" in
check | demo | shell | bench) [ $# -eq 2 ] || usage ;;
exec) [ $# -eq 3 ] || usage ;;
fstests) [ $# -eq 3 ] && [ -f "$3" ] || usage ;;
*) echo "run.sh: unknown mode '$mode'" >&2; exit 2 ;;
esac

bzimage=$kdir/arch/x86/boot/bzImage
[ -f "$bzimage" ] || { echo "run.sh: no $bzimage: build the tree first (tools/bootstrap.sh)" >&2; exit 1; }
[ -x "$cache/venv/bin/vng" ] || { echo "run.sh: virtme-ng is not installed (tools/bootstrap.sh)" >&2; exit 1; }
# vng runs virtme-run by name.
export PATH=$cache/venv/bin:$PATH

step() { printf '==> %s\n' "$*"; }
fail() { printf 'VM FAILED: %s\n' "$*"; exit 1; }


# Boot the kernel with KVM and no root filesystem: with working KVM it panics
# on the missing root within seconds and QEMU exits (-no-reboot, panic=-1).
kvm_works() {
	[ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
	local console
	console=$(timeout -k 5 30 qemu-system-x86_64 -accel kvm -cpu host -m 256 \
		-nodefaults -display none -serial stdio -no-reboot \
		-kernel "$bzimage" -append "console=ttyS0 panic=-1" 2>&1) || true
	[[ $console == *"Kernel panic"* ]]
}

ko=${FUSE_IOMAP_KO:-$repo/fs/fuse_iomap/fuse_iomap.ko}
[ -f "$ko" ] || { echo "run.sh: no module $ko: build it for $kdir first" >&2; exit 1; }
out=$(mktemp -d /tmp/fuse-iomap-vm.XXXXXX)
cp "$ko" "$out/fuse_iomap.ko"
# The guest sees the repository and $out, not the kernel tree (virtme-ng
# hides /var/cache): stage the installed selftests, their helper programs
# and kselftest's runner.
step "building and staging the selftests"
make -s -C "$repo/tools/testing/selftests/fuse_iomap" KDIR="$kdir" \
	INSTALL_PATH="$out/selftests/fuse_iomap" install
make -s -C "$repo/tools/testing/selftests/fuse_iomap" KDIR="$kdir" \
	COLLECTION=fuse_iomap emit_tests >"$out/selftests/tests.list"
cp -r "$kdir/tools/testing/selftests/kselftest" "$out/selftests/"
# fstests (fsx, fsstress and the suite), when the bootstrap built it: the
# guest finds it in $out/fstests ($FUSE_IOMAP_FSTESTS).
fstests=$("$repo/tools/bootstrap.sh" --fstests)
if [ -n "$fstests" ]; then
	cp -a "$fstests" "$out/fstests"
	# And as one file, which the guest unpacks into its own memory to run
	# the suite: its check stats every test of every file system, and
	# thousands of 9p round trips under TCG take many minutes.
	tar -C "$fstests" -cf "$out/fstests.tar" .
elif [ "$mode" = fstests ]; then
	fail "fstests is not built (tools/bootstrap.sh builds it)"
else
	step "no fstests built (tools/bootstrap.sh): the tests that need it will skip"
fi
# The guest does not inherit this environment: a fuzzer seed or duration
# to replay (fuse_iomap_fuzz), kselftest's timeout for a longer run, and the
# benchmark's rounds and seconds of random reads (a shorter trial run), are
# handed over, numbers only, and the benchmark's device, one of its names.
fuzz_env=$(env | grep -E '^((FUSE_IOMAP_FUZZ_SEED|FUSE_IOMAP_FUZZ_SECONDS|kselftest_override_timeout|BENCH_ROUNDS|BENCH_RAND_SECONDS)=[0-9]+|BENCH_DEVICE=(virtio|memory))$' |
	tr '\n' ' ' || true)
# The command of exec mode travels as a file: the guest's command line is
# no place for quoting.
[ "$mode" = exec ] && printf '%s\n' "$3" >"$out/command"
[ "$mode" = fstests ] && cp "$3" "$out/fstests.list"
truncate -s 512M "$out/disk.img"
truncate -s 2G "$out/test.img" "$out/scratch.img"
# Emulated persistent memory: 256 MiB at 1 GiB is /dev/pmem0, 64 MiB at
# 1.25 GiB /dev/pmem1 (which the memory-failure test makes an fsdax
# namespace, with struct pages). With FUSE_IOMAP_SHARED_PMEM naming a file,
# /dev/pmem0 is instead the 256 MiB of that file, mapped shared as a second
# memory node at 2 GiB, and there is no /dev/pmem1: two guests given the
# same file share the same memory, as two hosts share a CXL device.
memory=(--memory 2G)
pmem="memmap=256M!1G memmap=64M!1280M"
if [ -n "${FUSE_IOMAP_SHARED_PMEM:-}" ]; then
	[ -f "$FUSE_IOMAP_SHARED_PMEM" ] || fail "FUSE_IOMAP_SHARED_PMEM: no file $FUSE_IOMAP_SHARED_PMEM"
	# A third, private node of 64 MiB ends the RAM below 4 GiB: the
	# firmware puts its ACPI tables at the top, and must not write them
	# into the shared memory.
	memory=(--memory 2368M --numa 2G "--qemu-opts=-object memory-backend-file,id=shared,size=256M,mem-path=$FUSE_IOMAP_SHARED_PMEM,share=on -numa node,memdev=shared -object memory-backend-ram,id=top,size=64M -numa node,memdev=top")
	pmem="memmap=256M!2G"
fi
# FUSE_IOMAP_SHARED_DIR: a directory that the guest may write too, beside
# the run's own (two guests that run together meet there).
shared_dir=()
[ -n "${FUSE_IOMAP_SHARED_DIR:-}" ] && shared_dir=(--rwdir "$FUSE_IOMAP_SHARED_DIR")
vng_args=(--run "$kdir" --disable-microvm --force-9p --verbose
	"${memory[@]}" --cpus 2 --rwdir "$out" "${shared_dir[@]}"
	--disk "$out/disk.img" --disk "$out/test.img" --disk "$out/scratch.img"
	# Four-level paging: TCG offers LA57, and an interrupt that comes early
	# in a KASAN kernel's boot with five-level paging is reported as a wild
	# access (do_raw_spin_lock from handle_edge_irq, in identify_cpu), one
	# boot in a few.
	--append "$pmem no5lvl"
	--exec "env $fuzz_env $repo/tools/vm/guest.sh $mode $out")
if kvm_works; then
	step "booting $bzimage with KVM"
else
	step "KVM does not work here: booting $bzimage with TCG"
	vng_args+=(--disable-kvm)
fi

rc=0
if [ "$mode" = shell ]; then
	# The terminal is the guest's console; the shell ends the VM when it exits.
	(cd "$repo" && vng "${vng_args[@]}") || rc=$?
	echo 0 >"$out/exec_status"
	mode=exec
else
	(cd "$repo" && timeout -k 10 "$vm_timeout" vng "${vng_args[@]}") \
		</dev/null >"$out/console.log" 2>&1 || rc=$?
fi
[ -f "$out/guest.log" ] && cat "$out/guest.log"

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	tail -n 40 "$out/console.log"
	fail "the VM did not finish within ${vm_timeout}s (console: $out/console.log)"
fi
if [ ! -f "$out/status" ]; then
	tail -n 40 "$out/console.log"
	fail "the guest did not finish its run (vng exit $rc; console: $out/console.log)"
fi

# Reports that the kernel prints when something went wrong, whatever the
# test said. The guest's init, virtme-ng-init, logs to the kernel's log too,
# with warnings of its own about host programs it did not find (a fresh
# root has no systemd-tmpfiles or ip): those are no kernel's, and are left
# out.
bad='WARNING:|BUG:|Oops|Kernel panic|general protection fault|'
bad+='possible recursive locking|possible circular locking|inconsistent lock state|'
bad+='suspicious RCU usage|sleeping function called from invalid context|'
bad+='blocked for more than|soft lockup|hard LOCKUP|UBSAN|kmemleak: .*new suspected'
if grep -E -n "$bad" "$out/dmesg.txt" | grep -v ' virtme-ng-init: ' >"$out/bad.txt"; then
	echo "--- guest dmesg reports (from $out/dmesg.txt):"
	cat "$out/bad.txt"
	grep -E -A 12 "$bad" "$out/dmesg.txt" | head -n 60
	fail "the kernel reported a problem: $(head -n 1 "$out/bad.txt")"
fi
if [ -s "$out/kmemleak.txt" ]; then
	head -n 40 "$out/kmemleak.txt"
	fail "kmemleak found unreferenced objects (from $out/kmemleak.txt)"
fi
# The fast kernel (tools/vm/fast.config) has no kmemleak; the checking one
# must have scanned.
leaks="no leaks"
if ! grep -qx CONFIG_DEBUG_KMEMLEAK=y "$kdir/.config"; then
	leaks="no kmemleak in this kernel"
elif ! grep -q "kmemleak scan done" "$out/status"; then
	fail "kmemleak did not scan in the guest"
fi

if [ "$mode" = check ]; then
	# Programs are the top-level TAP lines; their tests are nested ("# ").
	# A skip is an "ok" with a SKIP directive: a test's, or a whole
	# program's (exit 4, its plan "1..0 # SKIP").
	programs=$(grep -c '^ok ' "$out/tap.txt" || true)
	failed_programs=$(grep -c '^not ok ' "$out/tap.txt" || true)
	passed=$(grep '^# ok ' "$out/tap.txt" | grep -vc '# SKIP' || true)
	failed=$(grep -c '^# not ok ' "$out/tap.txt" || true)
	skipped=$(grep -c '^# ok .*# SKIP\|^ok .*# SKIP' "$out/tap.txt" || true)
	echo "selftests: $passed passed, $failed failed, $skipped skipped"
	grep '^# ok .*# SKIP\|^ok .*# SKIP' "$out/tap.txt" || true
	[ "$failed_programs" -eq 0 ] || {
		grep '^# not ok \|^not ok ' "$out/tap.txt"
		fail "$failed_programs selftest program(s) failed"
	}
	[ "$programs" -gt 0 ] && [ "$passed" -gt 0 ] || fail "no selftest ran"
fi
if [ "$mode" = bench ]; then
	results=${BENCH_RESULTS:-$repo/results/bench-ext4}
	rm -rf "$results" && mkdir -p "$(dirname "$results")"
	[ -d "$out/bench" ] && cp -r "$out/bench" "$results"
	[ -f "$results/runs.tsv" ] || fail "the benchmark left no results (console: $out/console.log)"
	echo "benchmark results: $results"
fi
if [ "$mode" = fstests ]; then
	results=${FSTESTS_RESULTS:-$repo/results/fstests}
	rm -rf "$results" && mkdir -p "$(dirname "$results")"
	[ -d "$out/fstests-results" ] && cp -r "$out/fstests-results" "$results"
	[ -f "$results/summary.txt" ] || fail "fstests left no summary (console: $out/console.log)"
	"$repo/tools/fstests/table.sh" "$results/summary.txt"
	echo "fstests results: $results"
	grep -q '^guest: ok$' "$out/status" || fail "the guest run failed: $(cat "$out/status")"
	# A test of the list that did not run is no pass: exclude it with a reason.
	unpassed=$(grep -Ec ' (failed|missing|not-run)' "$results/summary.txt" || true)
	[ "$unpassed" -eq 0 ] || fail "fstests: $unpassed test(s) failed or did not run"
	rm -rf "$out"
	echo "VM OK: fstests passed, dmesg clean, $leaks"
	exit 0
fi
if [ "$mode" = exec ]; then
	rc=$(cat "$out/exec_status" 2>/dev/null || echo 1)
	grep -q '^guest: ok$' "$out/status" || fail "the guest run failed: $(cat "$out/status")"
	rm -rf "$out"
	echo "VM: the command exited with $rc; dmesg clean, $leaks"
	exit "$rc"
fi
grep -q '^guest: ok$' "$out/status" || fail "the guest run failed: $(cat "$out/status")"
rm -rf "$out"
echo "VM OK: $mode passed, dmesg clean, $leaks"
