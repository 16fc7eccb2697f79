// SPDX-License-Identifier: GPL-2.0
/*
 * A private node comes and goes with its memory: remove and add again
 * give back the same node, many cycles leak nothing, and a node whose
 * pages are in use cannot be removed.
 */
#include "../kselftest_harness.h"

#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"
#define NR_CYCLES	50
#define NR_PAGES	256
#define DRAM_NOISE_KB	(32 * 1024L)	/* per-cpu lists, slab */

FIXTURE(hotplug) {
	struct pnt_config cfg;
	int nid;
};

FIXTURE_SETUP(hotplug)
{
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->nid = self->cfg.private_nid;
	ASSERT_EQ(0, pnt_range_ensure("private", false));
}

FIXTURE_TEARDOWN(hotplug)
{
	if (pnt_range_ensure("private", false))
		TH_LOG("could not remove the private range");
}

struct node_state {
	long total, free;
};

/* Add the private range and read its node once the counters settle. */
static int add_and_read(int nid, struct node_state *s, long want_free)
{
	int ret = pnt_range_write("private", "add");

	if (ret)
		return ret;
	s->total = node_meminfo_kb(nid, "MemTotal");
	s->free = node_free_settled_kb(nid, want_free);
	return 0;
}

TEST_F_TIMEOUT(hotplug, remove_then_add, 300)
{
	struct node_state first, again;

	ASSERT_EQ(0, add_and_read(self->nid, &first, -1));
	ASSERT_LT(0, first.total);

	ASSERT_EQ(0, pnt_range_write("private", "remove"));
	EXPECT_EQ(0, pnt_range_state("private"));
	EXPECT_EQ(0, nodelist_has("has_private_memory", self->nid));

	ASSERT_EQ(0, add_and_read(self->nid, &again, first.free));
	EXPECT_EQ(1, pnt_range_state("private"));
	EXPECT_EQ(1, nodelist_has("has_private_memory", self->nid));
	EXPECT_EQ(0, nodelist_has("has_memory", self->nid));
	EXPECT_EQ(first.total, again.total);
	EXPECT_EQ(first.free, again.free);
}

/* MemFree of the ordinary nodes, in kB. */
static long dram_free_kb(void)
{
	unsigned long mem;
	long sum = 0, free;
	int n;

	if (nodelist_mask("has_memory", &mem))
		return -1;
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(mem & (1UL << n)))
			continue;
		free = node_free_settled_kb(n, -1);
		if (free < 0)
			return -1;
		sum += free;
	}
	return sum;
}

/*
 * Each add allocates the range's memmap and node structures from DRAM and
 * each remove frees them: fifty cycles leave the private node as it was
 * and DRAM within DRAM_NOISE_KB of noise (a leaked memmap would be 8 MiB a
 * cycle for 512 MiB).
 */
TEST_F_TIMEOUT(hotplug, cycles, 900)
{
	struct node_state first, last;
	long dram_before, dram_after;
	int i;

	ASSERT_EQ(0, add_and_read(self->nid, &first, -1));
	dram_before = dram_free_kb();
	ASSERT_LT(0, dram_before);
	for (i = 0; i < NR_CYCLES; i++) {
		ASSERT_EQ(0, pnt_range_write("private", "remove")) {
			TH_LOG("remove failed in cycle %d", i);
		}
		ASSERT_EQ(0, pnt_range_write("private", "add")) {
			TH_LOG("add failed in cycle %d", i);
		}
	}
	last.total = node_meminfo_kb(self->nid, "MemTotal");
	last.free = node_free_settled_kb(self->nid, first.free);
	EXPECT_EQ(first.total, last.total);
	EXPECT_EQ(first.free, last.free);
	EXPECT_EQ(1, nodelist_has("has_private_memory", self->nid));
	EXPECT_EQ(0, nodelist_has("has_memory", self->nid));
	EXPECT_EQ(0, nodelist_has("has_normal_memory", self->nid));
	dram_after = dram_free_kb();
	TH_LOG("DRAM MemFree %ld kB before, %ld kB after %d cycles",
	       dram_before, dram_after, NR_CYCLES);
	EXPECT_GT(DRAM_NOISE_KB, dram_before - dram_after);
}

/*
 * The driver's pages are unmovable: offlining cannot empty the node, so
 * remove fails with EBUSY and the pages stay mapped and intact.
 */
TEST_F_TIMEOUT(hotplug, busy_while_mapped, 300)
{
	size_t i, psz = psize(), len = NR_PAGES * psz;
	struct node_state before, after;
	long total;
	int fd, ret;
	char *p;

	ASSERT_EQ(0, add_and_read(self->nid, &before, -1));
	fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	for (i = 0; i < NR_PAGES; i++)
		memset(p + i * psz, (int)(i & 0xff), psz);
	ASSERT_EQ(NR_PAGES, pages_on_node(p, len, self->nid));

	ret = pnt_range_write("private", "remove");
	/* Do not touch the pages if the node went away under them. */
	ASSERT_EQ(-EBUSY, ret);
	EXPECT_EQ(1, pnt_range_state("private"));
	EXPECT_EQ(1, nodelist_has("has_private_memory", self->nid));
	total = node_meminfo_kb(self->nid, "MemTotal");
	EXPECT_EQ(before.total, total);
	EXPECT_EQ(NR_PAGES, pages_on_node(p, len, self->nid));
	for (i = 0; i < len; i++)
		if ((unsigned char)p[i] != ((i / psz) & 0xff))
			break;
	EXPECT_EQ(len, i);

	/*
	 * Unmapped, every page goes back: the node can be removed, and added
	 * again it is as it was. (Right after munmap, freed pages may still
	 * sit on per-cpu lists, which MemFree does not count; offlining
	 * drains them.)
	 */
	ASSERT_EQ(0, munmap(p, len));
	close(fd);
	EXPECT_EQ(0, pnt_range_write("private", "remove"));
	EXPECT_EQ(0, pnt_range_state("private"));
	ASSERT_EQ(0, add_and_read(self->nid, &after, before.free));
	EXPECT_EQ(before.total, after.total);
	EXPECT_EQ(before.free, after.free);
	EXPECT_EQ(0, pnt_range_write("private", "remove"));
}

TEST_HARNESS_MAIN
