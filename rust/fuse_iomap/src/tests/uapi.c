// SPDX-License-Identifier: GPL-2.0
/*
 * The values of include/uapi/linux/fuse_iomap.h as a C compiler sees them,
 * for the host tests to compare with fs/fuse_iomap/abi.rs.
 */
#include <linux/fuse_iomap.h>

const char uapi_dev_name[] = FUSE_IOMAP_DEV_NAME;
const unsigned int uapi_abi_version = FUSE_IOMAP_ABI_VERSION;
const unsigned int uapi_ioc_version = FUSE_IOMAP_IOC_VERSION;
