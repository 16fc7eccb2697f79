/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * ioctl interface of /dev/private_node_test, shared by the test driver and
 * the selftests.
 */
#ifndef PRIVATE_NODE_TEST_H
#define PRIVATE_NODE_TEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/*
 * PNT_IOC_MIGRATE: move the caller's anonymous memory at [addr, addr + len)
 * onto the private node, with migrate_vma (MIGRATE_VMA_SELECT_SYSTEM): each
 * present page is copied into a GFP_PRIVATE page and replaced by it, each
 * hole is filled with a zeroed one. The range must lie in one anonymous
 * VMA and be page aligned. With PNT_MIGRATE_HUGE it must be PMD aligned,
 * and every PMD that is a hole or a THP gets one order-9 private folio.
 * @migrated returns the number of pages now backed by the private node; a
 * page mm/ would not let go of (pinned, under writeback) stays where it was.
 *
 * Errors: EINVAL (alignment, unknown flags, not one anonymous VMA),
 * ENODEV (the private node is offline), ENOMEM.
 */
struct pnt_migrate {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 reserved;		/* must be 0 */
	__u64 migrated;		/* out */
};

#define PNT_MIGRATE_HUGE	0x1

#define PNT_IOC_MIGRATE		_IOWR('p', 1, struct pnt_migrate)

#endif /* PRIVATE_NODE_TEST_H */
