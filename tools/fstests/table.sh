#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The table of an fstests run against fuse_iomap, from the summary that
# tools/fstests/guest.sh leaves (`TEST STATUS [reason]` per line):
#
#   tools/fstests/table.sh SUMMARY          counts, then a line per test
#   tools/fstests/table.sh --rst SUMMARY    the same as an RST table
set -euo pipefail
rst=0
[ "${1:-}" = --rst ] && { rst=1; shift; }
summary=$1
count() { grep -c " $1\b" "$summary" || true; }
counts="$(count passed) passed, $(count failed) failed, $(count not-run) not run, $(count excluded) excluded"
if [ $rst -eq 0 ]; then
	echo "fstests: $counts"
	awk '{ t = $1; s = $2; $1 = ""; $2 = ""; sub(/^  */, ""); printf "  %-12s %-9s %s\n", t, s, $0 }' "$summary"
	exit 0
fi
w=$(awk '{ $1 = ""; $2 = ""; sub(/^  */, ""); if (length($0) > m) m = length($0) } END { print (m > 6 ? m : 6) }' "$summary")
line=$(printf '============ ========= %s' "$(printf '=%.0s' $(seq "$w"))")
echo "$line"
printf '%-12s %-9s %s\n' Test Result Reason
echo "$line"
awk '{ t = $1; s = $2; $1 = ""; $2 = ""; sub(/^  */, ""); printf "%-12s %-9s %s\n", t, s, ($0 == "" ? "" : $0) }' "$summary"
echo "$line"
echo
echo "$counts."
