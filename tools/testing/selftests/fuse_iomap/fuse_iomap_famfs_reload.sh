#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Striped famfs files read back the same after the module is reloaded and
# the server restarts: the bytes live on the device, and the kernel's state
# (fmaps, daxdev table, claims) is rebuilt from the server's answers.
# FUSE_IOMAP_KO names the module to reload (tools/vm/guest.sh sets it).

ksft_skip=4
test=striped_files_read_back_what_the_server_wrote

if [ -z "$FUSE_IOMAP_KO" ] || [ ! -f "$FUSE_IOMAP_KO" ]; then
	echo "SKIP: FUSE_IOMAP_KO does not name the module to reload"
	exit $ksft_skip
fi
./fuse_iomap_famfs_test -t "$test" || exit 1
echo "# reloading $FUSE_IOMAP_KO"
rmmod fuse_iomap || exit 1
insmod "$FUSE_IOMAP_KO" || exit 1
echo "# the server restarts: it writes nothing, and reads its files"
FUSE_IOMAP_FAMFS_SERVER_RESTART=1 ./fuse_iomap_famfs_test -t "$test"
