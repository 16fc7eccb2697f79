// SPDX-License-Identifier: GPL-2.0
/*
 * The control on the same CXL region for the isolation checks of memory
 * that is not movable (ramfs pages, kernel objects): isolation_test's
 * "cxl_kernel" variant, which leaves the region plugged in a kernel zone
 * for good, so this program runs last (see isolation_test.c).
 */
#define ISOLATION_KERNEL_ZONE_LAST
#include "isolation_test.c"
