// SPDX-License-Identifier: GPL-2.0
/*
 * The node sysfs view of a private node: listed in has_private_memory only,
 * with its own meminfo, and gone again once removed. An ordinary node
 * (the control range) is listed the other way round.
 */
#include "../kselftest_harness.h"

#include <string.h>
#include <sys/stat.h>

#include "lib.h"

FIXTURE(sysfs) {
	struct pnt_config cfg;
};

FIXTURE_SETUP(sysfs)
{
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	ASSERT_EQ(0, pnt_range_ensure("private", false));
}

FIXTURE_TEARDOWN(sysfs)
{
	if (pnt_range_ensure("private", false))
		TH_LOG("could not remove the private range");
}

/* A node that is not there: no meminfo file, or one with nothing in it. */
static bool node_is_empty(int nid)
{
	long total = node_meminfo_kb(nid, "MemTotal");

	return total == -ENOENT || total == 0;
}

TEST_F(sysfs, absent_before_add)
{
	int nid = self->cfg.private_nid;

	/* The file exists even when no node is private. */
	ASSERT_EQ(0, nodelist_has("has_private_memory", nid));
	ASSERT_EQ(0, nodelist_has("has_memory", nid));
	ASSERT_EQ(0, nodelist_has("has_normal_memory", nid));
	ASSERT_TRUE(node_is_empty(nid));
	ASSERT_EQ(0, pnt_range_state("private"));
}

TEST_F_TIMEOUT(sysfs, add_then_remove, 120)
{
	int nid = self->cfg.private_nid;
	long size_kb = (long)(self->cfg.private_size / KIB);
	long total, free, used;

	ASSERT_EQ(0, pnt_range_write("private", "add"));
	ASSERT_EQ(1, pnt_range_state("private"));

	EXPECT_EQ(1, nodelist_has("has_private_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_normal_memory", nid));

	/*
	 * MemTotal counts managed pages: the range less its memmap if that
	 * lives on the range itself (1.6%) and any reserved pages.
	 */
	total = node_meminfo_kb(nid, "MemTotal");
	TH_LOG("node %d: MemTotal %ld kB for a %ld kB range", nid, total, size_kb);
	EXPECT_LE(total, size_kb);
	EXPECT_GE(total, size_kb / 10 * 9);

	/* Nothing uses a fresh private node. */
	free = node_free_settled_kb(nid, total);
	used = node_meminfo_kb(nid, "MemUsed");
	EXPECT_GE(free, total / 10 * 9);
	EXPECT_LE(free, total);
	EXPECT_EQ(total - free, used);

	ASSERT_EQ(0, pnt_range_write("private", "remove"));
	ASSERT_EQ(0, pnt_range_state("private"));
	EXPECT_EQ(0, nodelist_has("has_private_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_normal_memory", nid));
	EXPECT_TRUE(node_is_empty(nid));
}

TEST_F(sysfs, add_twice_is_busy)
{
	ASSERT_EQ(0, pnt_range_write("private", "add"));
	EXPECT_EQ(-EBUSY, pnt_range_write("private", "add"));
	EXPECT_EQ(1, pnt_range_state("private"));
	EXPECT_EQ(1, nodelist_has("has_private_memory", self->cfg.private_nid));
}

TEST_F(sysfs, remove_when_absent_fails)
{
	EXPECT_GT(0, pnt_range_write("private", "remove"));
	EXPECT_EQ(0, pnt_range_state("private"));
}

/* The same files for an ordinary hot-added node, for contrast. */
TEST_F(sysfs, control_is_ordinary)
{
	int nid = self->cfg.control_nid;
	int ret;

	ASSERT_EQ(0, pnt_range_ensure("control", true));
	EXPECT_EQ(1, nodelist_has("has_memory", nid));
	EXPECT_EQ(1, nodelist_has("has_normal_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_private_memory", nid));
	EXPECT_GT(node_meminfo_kb(nid, "MemTotal"), 0);

	/* Kernel allocations may have landed there: that is allowed. */
	ret = pnt_range_write("control", "remove");
	if (ret) {
		TH_LOG("control range stays online: remove gave %d", ret);
	} else {
		EXPECT_EQ(0, nodelist_has("has_memory", nid));
	}
}

/*
 * The lab's CXL type-3 volatile device (behind pxb-cxl/cxl-rp, with a CFMW
 * window) is enumerated: the memdev and the root decoder exist.
 */
TEST(cxl_device_enumerated)
{
	struct stat st;

	EXPECT_EQ(0, stat("/sys/bus/cxl/devices/mem0", &st));
	EXPECT_EQ(0, stat("/sys/bus/cxl/devices/decoder0.0", &st));
}

TEST_HARNESS_MAIN
