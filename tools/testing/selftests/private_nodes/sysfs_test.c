// SPDX-License-Identifier: GPL-2.0
/*
 * The node sysfs view of a private node: listed in has_private_memory only,
 * with its own meminfo, and gone again once removed. An ordinary node
 * (the control range) is listed the other way round. The system's global
 * memory figures do not count a private node, and nobody but its owner
 * can add memory to it.
 */
#include "../kselftest_harness.h"

#include <stdio.h>
#include <stdlib.h>
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

/* What ordinary allocations and their users size themselves by. */
struct global_figures {
	long mem_total, mem_free, mem_available, commit_limit;	/* kB */
	long dirty, dirty_bg;		/* thresholds, in pages */
	long min[MASK_BITS][8];		/* min watermarks of populated zones */
};

/*
 * The min watermark of each populated zone of the nodes in @mask, without
 * the zone's watermark boost: zoneinfo's "min" includes it, and the page
 * allocator boosts a zone for a while after a fallback steals a pageblock.
 */
static int zone_mins(unsigned long mask, long min[MASK_BITS][8])
{
	char line[256], zone[32];
	int nid = -1, zi = -1, n;
	long v, boost = 0;
	FILE *f = fopen("/proc/zoneinfo", "r");

	if (!f)
		return -errno;
	memset(min, 0xff, sizeof(long) * MASK_BITS * 8);
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			if (nid != n)
				zi = -1;
			nid = n;
			zi++;
		} else if (sscanf(line, " boost %ld", &v) == 1) {
			boost = v;	/* "boost" comes just before "min" */
		} else if (nid >= 0 && nid < (int)MASK_BITS && zi >= 0 && zi < 8 &&
			   (mask & (1UL << nid)) && sscanf(line, " min %ld", &v) == 1) {
			min[nid][zi] = v - boost;
		}
	}
	fclose(f);
	return 0;
}

static void read_figures(struct __test_metadata *_metadata,
			 unsigned long dram, struct global_figures *g)
{
	vm_counters_fold();
	g->mem_total = proc_value("/proc/meminfo", "MemTotal");
	g->mem_free = proc_value("/proc/meminfo", "MemFree");
	g->mem_available = proc_value("/proc/meminfo", "MemAvailable");
	g->commit_limit = proc_value("/proc/meminfo", "CommitLimit");
	g->dirty = proc_value("/proc/vmstat", "nr_dirty_threshold");
	g->dirty_bg = proc_value("/proc/vmstat", "nr_dirty_background_threshold");
	ASSERT_LT(0, g->mem_total);
	ASSERT_LE(0, g->mem_free);
	ASSERT_LE(0, g->mem_available);
	ASSERT_LT(0, g->commit_limit);
	ASSERT_LE(0, g->dirty);
	ASSERT_LE(0, g->dirty_bg);
	ASSERT_EQ(0, zone_mins(dram, g->min));
	TH_LOG("MemTotal %ld MemFree %ld MemAvailable %ld CommitLimit %ld kB, dirty %ld/%ld pages",
	       g->mem_total, g->mem_free, g->mem_available, g->commit_limit,
	       g->dirty, g->dirty_bg);
}

/* Did any DRAM zone's min watermark change? */
static bool mins_differ(const struct global_figures *a,
			const struct global_figures *b)
{
	return memcmp(a->min, b->min, sizeof(a->min)) != 0;
}

/*
 * With the private node online, each global figure is what it was without
 * it: MemTotal, CommitLimit and the DRAM zones' min watermarks exactly;
 * MemFree, MemAvailable and the dirty thresholds but for what the kernel
 * allocates from DRAM to describe the node: its memmap (64 bytes a page)
 * and, with KASAN, its shadow (an eighth of the node, vmalloc()ed: the
 * growth of VmallocUsed), and some noise. The control:
 * the control range added as ordinary memory moves every one of them. It
 * must be offline to start with, so this is the fixture's first test:
 * once online, the control range often cannot be removed (the control
 * node's kswapd and kcompactd are allocated on it).
 */
TEST_F_TIMEOUT(sysfs, global_figures_leave_private_out, 300)
{
	long memmap_kb = (long)(self->cfg.private_size / psize() * 64 / KIB);
	long slack_kb = memmap_kb + 4 * 1024, vmalloc_kb;
	long size_kb = (long)(self->cfg.control_size / KIB);
	struct global_figures before, priv, ctl;
	unsigned long dram;
	char scale[16];
	int ret;

	ASSERT_EQ(0, pnt_range_ensure("control", false))
		TH_LOG("the control range is online and cannot be removed: run this on a fresh boot");
	ASSERT_EQ(0, nodelist_mask("has_memory", &dram));
	/*
	 * Recompute the watermarks first: the boot's can be a page off what
	 * the zones' managed pages give now (pages freed after they were
	 * set), and any memory hot-add recomputes them.
	 */
	ASSERT_LT(0, read_text(WMARK_SCALE, scale, sizeof(scale)));
	ASSERT_EQ(0, write_text(WMARK_SCALE, scale));
	read_figures(_metadata, dram, &before);
	vmalloc_kb = proc_value("/proc/meminfo", "VmallocUsed");
	ASSERT_LE(0, vmalloc_kb);

	ASSERT_EQ(0, pnt_range_write("private", "add"));
	read_figures(_metadata, dram, &priv);
	vmalloc_kb = proc_value("/proc/meminfo", "VmallocUsed") - vmalloc_kb;
	TH_LOG("VmallocUsed grew by %ld kB", vmalloc_kb);
	if (vmalloc_kb > 0)
		slack_kb += vmalloc_kb;
	EXPECT_EQ(before.mem_total, priv.mem_total);
	EXPECT_EQ(before.commit_limit, priv.commit_limit);
	EXPECT_FALSE(mins_differ(&before, &priv));
	EXPECT_GE(slack_kb, labs(priv.mem_free - before.mem_free));
	EXPECT_GE(slack_kb, labs(priv.mem_available - before.mem_available));
	EXPECT_GE(slack_kb / 4, labs(priv.dirty - before.dirty) * (long)psize() / 1024);
	/* The node's own meminfo does show it. */
	EXPECT_LT(0, node_meminfo_kb(self->cfg.private_nid, "MemTotal"));
	ASSERT_EQ(0, pnt_range_write("private", "remove"));

	ASSERT_EQ(0, pnt_range_write("control", "add"));
	read_figures(_metadata, dram, &ctl);
	EXPECT_LE(size_kb * 9 / 10, ctl.mem_total - before.mem_total);
	EXPECT_LE(size_kb / 4, ctl.commit_limit - before.commit_limit);
	EXPECT_TRUE(mins_differ(&before, &ctl));
	EXPECT_LE(size_kb / 2, ctl.mem_free - before.mem_free);
	EXPECT_LE(size_kb / 2, ctl.mem_available - before.mem_available);
	EXPECT_LT(before.dirty, ctl.dirty);
	EXPECT_LT(before.dirty_bg, ctl.dirty_bg);
	ret = pnt_range_write("control", "remove");
	if (ret)
		TH_LOG("control range stays online: remove gave %d", ret);
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
 * dax/kmem, ACPI or the probe interface adding memory to a node that has
 * an owner (two CXL regions in one window share a node) is refused, and
 * leaves nothing behind. The control: the same call, for the same range,
 * on an ordinary node (the control node, online already, so that its
 * first-online kernel threads are not on the range) takes effect.
 */
TEST_F_TIMEOUT(sysfs, foreign_hot_add_refused, 300)
{
	int priv = self->cfg.private_nid, ctl = self->cfg.control_nid;
	char nid[16];
	long total;
	int ret;

	ASSERT_NE(-ENOENT, pnt_range_state("foreign"))
		TH_LOG("the driver has no foreign range");
	ASSERT_EQ(0, pnt_range_ensure("control", true));
	ASSERT_EQ(0, pnt_range_write("private", "add"));
	total = node_meminfo_kb(priv, "MemTotal");
	snprintf(nid, sizeof(nid), "%d", priv);
	EXPECT_EQ(-EBUSY, pnt_range_write("foreign", nid));
	EXPECT_EQ(0, pnt_range_state("foreign"));
	EXPECT_EQ(total, node_meminfo_kb(priv, "MemTotal"));
	EXPECT_EQ(1, nodelist_has("has_private_memory", priv));
	EXPECT_EQ(0, nodelist_has("has_memory", priv));

	/* The control: the range was left free, and takes an ordinary add. */
	total = node_meminfo_kb(ctl, "MemTotal");
	snprintf(nid, sizeof(nid), "%d", ctl);
	ASSERT_EQ(0, pnt_range_write("foreign", nid));
	EXPECT_LT(total, node_meminfo_kb(ctl, "MemTotal"));
	ret = pnt_range_write("foreign", "remove");
	if (ret)
		TH_LOG("the foreign range stays on node %d: remove gave %d", ctl, ret);
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
