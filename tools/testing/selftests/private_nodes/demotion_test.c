// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_DEMOTION: reclaim may demote folios to a private node only if the
 * node's owner opted in (with NP_OPS_MIGRATION, which it requires).
 *
 * In every half the test driver gives the node a memory type slower than
 * DRAM (its adistance parameter), as a CXL driver would, so that only the
 * flag decides. The lab has no swap, so demotion is the only way
 * anonymous memory can leave a DRAM node, and without it the pages stay
 * where they are. Reclaim is proactive reclaim of one DRAM node
 * (nodeN/reclaim, anonymous memory only): the path kswapd takes
 * (shrink_folio_list(), demote_folio_list()), without waiting for it.
 * Node reclaim shrinks a node only if it has more clean unmapped page
 * cache than vm.min_unmapped_ratio (1% of the node) or more reclaimable
 * slab than vm.min_slab_ratio (5%); the guest's page cache is a dirty
 * initramfs, so the fixture sets the second to 0, and any dentry passes.
 *
 * Each test makes the same calls in two halves of one test case, and
 * passes only if both do: one where the pages must stay on DRAM (no flag,
 * or an owner that refuses), one where they must reach the private node.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "lib.h"

#define OPTED_IN	(NP_OPS_MIGRATION | NP_OPS_DEMOTION)
/* include/linux/memory-tiers.h: DRAM is 576; a CXL-like tier below it. */
#define ADISTANCE_SLOW	(5 * 576)
#define WORKLOAD	(16 * MIB)
/* Proactive reclaim rounds: each ages the LRU further. */
#define RECLAIM_ROUNDS	8
#define DEMOTION_ENABLED "/sys/kernel/mm/numa/demotion_enabled"
#define MIN_SLAB	"/proc/sys/vm/min_slab_ratio"
#define PATTERN		0x5a5a0000UL

/* What one half saw. */
struct half {
	int tier;		/* memory tier of the private node, or -errno */
	long pages;		/* pages of the workload */
	long on_private;	/* of them on the private node */
	long on_dram;		/* and still on the DRAM node */
	long corrupt;		/* pages whose pattern changed */
	struct pnt_counters c;	/* the owner's callbacks */
};

FIXTURE(demote) {
	struct pnt_config cfg;
	int private, dram;
	char enabled[16];	/* demotion_enabled to restore */
	char min_slab[16];	/* and min_slab_ratio */
	char *map;
};

FIXTURE_SETUP(demote)
{
	char path[128];
	unsigned long mem, cpus;
	int ret;

	self->map = MAP_FAILED;
	self->enabled[0] = '\0';
	self->min_slab[0] = '\0';
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	ASSERT_EQ(0, pnt_param_write("adistance", ADISTANCE_SLOW));
	ret = pnt_private_with_ops(OPTED_IN);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_DEMOTION");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus & ~(1UL << self->private);
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/reclaim",
		 self->dram);
	if (access(path, W_OK))
		SKIP(return, "no per-node proactive reclaim (%s)", path);
	ASSERT_LE(0, read_text(DEMOTION_ENABLED, self->enabled,
			       sizeof(self->enabled)));
	ASSERT_EQ(0, write_text(DEMOTION_ENABLED, "1"));
	ASSERT_LE(0, read_text(MIN_SLAB, self->min_slab,
			       sizeof(self->min_slab)));
	ASSERT_EQ(0, write_text(MIN_SLAB, "0"));
	ASSERT_EQ(0, pin_to_node(self->dram));
}

FIXTURE_TEARDOWN(demote)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, WORKLOAD);
	if (self->enabled[0])
		write_text(DEMOTION_ENABLED, self->enabled);
	if (self->min_slab[0])
		write_text(MIN_SLAB, self->min_slab);
	pnt_param_write("refuse_demotion", 0);
	/* The other tests expect an owner that opted into nothing. */
	pnt_param_write("adistance", 0);
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

/* Proactive reclaim of anonymous memory on @nid: 0, or -EAGAIN if short. */
static int node_reclaim_anon(int nid, size_t bytes)
{
	char path[128], req[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/reclaim",
		 nid);
	snprintf(req, sizeof(req), "%zu swappiness=max", bytes);
	return write_text(path, req);
}

/* Pages of the workload whose first word is not what was written. */
static long corrupt_pages(const char *p, long pages)
{
	long i, bad = 0;

	for (i = 0; i < pages; i++)
		if (*(const unsigned long *)(p + i * psize()) != (PATTERN | i))
			bad++;
	return bad;
}

/*
 * Write each page's first word again, with the value it holds: a write
 * all the same. Returns the minor faults it took.
 */
static long rewrite_pages(char *p, long pages)
{
	struct rusage before, after;
	long i;

	getrusage(RUSAGE_THREAD, &before);
	for (i = 0; i < pages; i++)
		*(volatile unsigned long *)(p + i * psize()) = PATTERN | i;
	getrusage(RUSAGE_THREAD, &after);
	return after.ru_minflt - before.ru_minflt;
}

/* Where the workload's pages are now, and whether they kept their data. */
static void look(struct __test_metadata *_metadata,
		 FIXTURE_DATA(demote) *self, struct half *h)
{
	h->on_private = pages_on_node(self->map, WORKLOAD, self->private);
	h->on_dram = pages_on_node(self->map, WORKLOAD, self->dram);
	ASSERT_LE(0, h->on_private);
	ASSERT_LE(0, h->on_dram);
	h->corrupt = corrupt_pages(self->map, h->pages);
	ASSERT_EQ(0, pnt_counters_read(&h->c));
}

/*
 * Start a half: the owner re-adds the node with @flags (refusing demotion
 * if @refuse), and the workload is written on the DRAM node.
 */
static void workload_begin(struct __test_metadata *_metadata,
			   FIXTURE_DATA(demote) *self, unsigned long flags,
			   bool refuse, struct half *h)
{
	unsigned long mask = 1UL << self->dram;
	long i;

	memset(h, 0, sizeof(*h));
	ASSERT_EQ(0, pnt_param_write("refuse_demotion", refuse));
	ASSERT_EQ(0, pnt_private_with_ops(flags));
	h->tier = memtier_of_node(self->private);
	ASSERT_EQ(0, pnt_counters_reset());

	self->map = mmap(NULL, WORKLOAD, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	/* Base pages, each counted once. */
	ASSERT_EQ(0, madvise(self->map, WORKLOAD, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, mbind(self->map, WORKLOAD, MPOL_BIND, &mask,
			   MASK_MAXNODE, 0));
	h->pages = WORKLOAD / psize();
	for (i = 0; i < h->pages; i++)
		*(unsigned long *)(self->map + i * psize()) = PATTERN | i;
	ASSERT_EQ(h->pages, pages_on_node(self->map, WORKLOAD, self->dram));
}

/* After the trigger of a half: where the workload is, what it went through. */
static void workload_look(struct __test_metadata *_metadata,
			  FIXTURE_DATA(demote) *self, unsigned long flags,
			  bool refuse, struct half *h)
{
	look(_metadata, self, h);
	TH_LOG("np_ops %#lx%s: tier %d; %ld of %ld pages on node %d, %ld on node %d; owner took %ld (%ld refused), %ld in; %ld corrupt",
	       flags, refuse ? " refusing" : "", h->tier, h->on_private,
	       h->pages, self->private, h->on_dram, self->dram, h->c.demoted,
	       h->c.demotion_refused, h->c.migrate_in, h->corrupt);
}

/*
 * A half driven by proactive reclaim of the DRAM node. Leaves the
 * workload mapped.
 */
static void reclaim_half(struct __test_metadata *_metadata,
			 FIXTURE_DATA(demote) *self, unsigned long flags,
			 bool refuse, struct half *h)
{
	int round, ret;

	workload_begin(_metadata, self, flags, refuse, h);
	for (round = 0; round < RECLAIM_ROUNDS; round++) {
		ret = node_reclaim_anon(self->dram, WORKLOAD);
		ASSERT_TRUE(ret == 0 || ret == -EAGAIN)
			TH_LOG("node%d/reclaim: %d", self->dram, ret);
		if (pages_on_node(self->map, WORKLOAD, self->dram) == 0)
			break;
	}
	workload_look(_metadata, self, flags, refuse, h);
}

/* The half where demotion must reach the private node. */
static void expect_demoted(struct __test_metadata *_metadata,
			   FIXTURE_DATA(demote) *self, const struct half *h)
{
	/* A tier below the DRAM node's. */
	EXPECT_LT(memtier_of_node(self->dram), h->tier);
	EXPECT_LE(0, memtier_of_node(self->dram));
	/* Reclaim ages the LRU first: not every page needs to go. */
	EXPECT_LE(h->pages / 2, h->on_private);
	EXPECT_EQ(h->pages, h->on_private + h->on_dram);
	EXPECT_LE(h->on_private, h->c.demoted);
	EXPECT_LE(h->on_private, h->c.migrate_in);
	EXPECT_EQ(0, h->c.migrate_bad);
	EXPECT_EQ(0, h->corrupt);
}

/* The half where every page must stay on DRAM; ends it. */
static void expect_kept(struct __test_metadata *_metadata,
			FIXTURE_DATA(demote) *self, const struct half *h)
{
	EXPECT_EQ(0, h->on_private);
	EXPECT_EQ(h->pages, h->on_dram);
	EXPECT_EQ(0, h->c.demoted);
	EXPECT_EQ(0, h->corrupt);
	munmap(self->map, WORKLOAD);
	self->map = MAP_FAILED;
}

/* Without the flag the node is in no tier, and nothing leaves DRAM. */
TEST_F_TIMEOUT(demote, reclaim_demotes_only_with_the_flag, 600)
{
	struct half h;

	reclaim_half(_metadata, self, NP_OPS_MIGRATION, false, &h);
	EXPECT_EQ(-ENOENT, h.tier);
	EXPECT_EQ(0, h.c.migrate_to_calls);
	expect_kept(_metadata, self, &h);

	reclaim_half(_metadata, self, OPTED_IN, false, &h);
	expect_demoted(_metadata, self, &h);

	/*
	 * The owner removes its memory with the demoted pages still mapped:
	 * they move back to ordinary memory, intact, and the node leaves
	 * its tier.
	 */
	ASSERT_EQ(0, pnt_range_write("private", "remove"));
	look(_metadata, self, &h);
	EXPECT_EQ(0, h.on_private);
	EXPECT_EQ(0, h.corrupt);
	EXPECT_EQ(-ENOENT, memtier_of_node(self->private));
}

/*
 * An owner that refuses (a full device): reclaim falls back as it would
 * without the node, here keeping the pages on DRAM, and nothing breaks.
 */
TEST_F_TIMEOUT(demote, refused_demotion_stays_on_dram, 600)
{
	struct half h;

	reclaim_half(_metadata, self, OPTED_IN, true, &h);
	EXPECT_LE(0, h.tier);
	EXPECT_LT(0, h.c.demotion_refused);
	expect_kept(_metadata, self, &h);

	reclaim_half(_metadata, self, OPTED_IN, false, &h);
	expect_demoted(_metadata, self, &h);
}

/*
 * NP_OPS_PROTECT_WRITE: demoted pages arrive read-only, and a write takes
 * them back to DRAM through the owner (the compressed-memory case). The
 * control, demotion without the flag, writes them in place without a
 * fault.
 */
TEST_F_TIMEOUT(demote, demoted_pages_arrive_read_only, 600)
{
	long faults;
	struct half h, w;

	reclaim_half(_metadata, self, OPTED_IN, false, &h);
	expect_demoted(_metadata, self, &h);
	faults = rewrite_pages(self->map, h.pages);
	w.pages = h.pages;
	look(_metadata, self, &w);
	EXPECT_EQ(0, faults);
	EXPECT_EQ(0, w.c.write_faults);
	EXPECT_EQ(h.on_private, w.on_private);
	EXPECT_EQ(0, w.corrupt);
	munmap(self->map, WORKLOAD);
	self->map = MAP_FAILED;

	reclaim_half(_metadata, self, OPTED_IN | NP_OPS_PROTECT_WRITE, false,
		     &h);
	expect_demoted(_metadata, self, &h);
	faults = rewrite_pages(self->map, h.pages);
	w.pages = h.pages;
	look(_metadata, self, &w);
	/*
	 * Reclaim demoted other tasks' anonymous memory too, and this
	 * task's stack: the owner's counts include their writes. This
	 * task's own faults tell: two per demoted page, the owner's and
	 * the reuse of the DRAM copy, which arrives read-only.
	 */
	TH_LOG("%ld demoted pages written: %ld faults; the owner saw %ld writes and promoted %ld pages (%ld and %ld before)",
	       h.on_private, faults, w.c.write_faults, w.c.promoted,
	       h.c.write_faults, h.c.promoted);
	EXPECT_EQ(2 * h.on_private, faults);
	EXPECT_LE(h.on_private, w.c.write_faults - h.c.write_faults);
	EXPECT_LE(h.on_private, w.c.promoted - h.c.promoted);
	EXPECT_EQ(0, w.c.promote_failed);
	EXPECT_EQ(0, w.c.write_faults_bad);
	EXPECT_EQ(0, w.on_private);
	EXPECT_EQ(0, w.corrupt);
}

PNT_HARNESS_MAIN
