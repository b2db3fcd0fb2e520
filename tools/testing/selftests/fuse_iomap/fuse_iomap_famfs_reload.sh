#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Striped famfs files read back the same after the module is reloaded and
# the server restarts: the bytes live on the device, and the kernel's state
# (fmaps, daxdev table, claims) is rebuilt from the server's answers.
# FUSE_IOMAP_KO names the module to reload (tools/vm/guest.sh sets it).

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
. "$here/ktap_helpers.sh"
test=striped_files_read_back_what_the_server_wrote

ktap_print_header
if [ -z "$FUSE_IOMAP_KO" ] || [ ! -f "$FUSE_IOMAP_KO" ]; then
	ktap_skip_all "FUSE_IOMAP_KO does not name the module to reload"
	exit "$KSFT_SKIP"
fi
ktap_set_plan 3

# The famfs test's own TAP, nested.
famfs_test() {
	"$here/fuse_iomap_famfs_test" -t "$test" >"$log" 2>&1
	rc=$?
	sed 's/^/# /' "$log"
	return $rc
}
reload() {
	rmmod fuse_iomap && insmod "$FUSE_IOMAP_KO"
}
log=$(mktemp) || ktap_exit_fail_msg "mktemp"
trap 'rm -f "$log"' EXIT

ktap_test_result "the server writes striped files, the kernel reads them back" famfs_test
ktap_print_msg "reloading $FUSE_IOMAP_KO"
ktap_test_result "the module unloads and loads again" reload
ktap_print_msg "the server restarts: it writes nothing, and reads its files"
export FUSE_IOMAP_FAMFS_SERVER_RESTART=1
ktap_test_result "after the reload, the kernel reads back what the server wrote" famfs_test
ktap_finished
