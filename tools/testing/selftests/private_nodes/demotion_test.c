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
 * (shrink_folio_list(), demote_folio_list()), without waiting for it;
 * one test fills the DRAM node instead and waits for its kswapd.
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
#include <unistd.h>

#include "lib.h"

#define OPTED_IN	(NP_OPS_MIGRATION | NP_OPS_DEMOTION)
/* include/linux/memory-tiers.h: DRAM is 576; a CXL-like tier below it. */
#define ADISTANCE_SLOW	(5 * 576)
/* And an ordinary tier below that (memory tiers are 128 apart). */
#define ADISTANCE_SLOWER	(8 * 576)
#define WORKLOAD	(16 * MIB)
/* Proactive reclaim rounds: each ages the LRU further. */
#define RECLAIM_ROUNDS	8
#define DEMOTION_ENABLED "/sys/kernel/mm/numa/demotion_enabled"
#define MIN_SLAB	"/proc/sys/vm/min_slab_ratio"
#define AUTO_ONLINE	"/sys/devices/system/memory/auto_online_blocks"
#define PATTERN		0x5a5a0000UL

/* What one half saw. */
struct half {
	int tier;		/* memory tier of the private node, or -errno */
	long pages;		/* pages of the workload */
	long on_private;	/* of them on the private node */
	long on_dram;		/* and still on the DRAM node */
	long on_lower;		/* and on the lower tier's node, if any */
	long corrupt;		/* pages whose pattern changed */
	long thp_before;	/* pages in THPs once written (fixture's thp) */
	long thp;		/* and now */
	struct pnt_counters c;	/* the owner's callbacks */
};

FIXTURE(demote) {
	struct pnt_config cfg;
	int private, dram;
	char enabled[16];	/* demotion_enabled to restore */
	char min_slab[16];	/* and min_slab_ratio */
	char wmark_scale[16];	/* and watermark_scale_factor, if changed */
	int lower;		/* the ordinary lower tier's node, or -1 */
	char auto_online[32];	/* auto_online_blocks, if changed */
	bool thp;		/* the workload is made of THPs */
	char *map;
};

FIXTURE_SETUP(demote)
{
	char path[128];
	unsigned long mem, cpus;
	int ret;

	self->map = MAP_FAILED;
	self->thp = false;
	self->lower = -1;
	self->auto_online[0] = '\0';
	self->enabled[0] = '\0';
	self->min_slab[0] = '\0';
	self->wmark_scale[0] = '\0';
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
	/*
	 * Off and on first: that resets the kswapd failures a test may have
	 * left on the DRAM node (the kswapd control half makes them).
	 */
	write_text(DEMOTION_ENABLED, "0");
	write_text(DEMOTION_ENABLED, "1");
	if (self->enabled[0])
		write_text(DEMOTION_ENABLED, self->enabled);
	if (self->min_slab[0])
		write_text(MIN_SLAB, self->min_slab);
	if (self->wmark_scale[0])
		write_text(WMARK_SCALE, self->wmark_scale);
	pnt_param_write("refuse_demotion", 0);
	if (self->lower >= 0)
		EXPECT_EQ(0, pnt_range_write("foreign", "remove"));
	if (self->auto_online[0])
		write_text(AUTO_ONLINE, self->auto_online);
	pnt_param_write("foreign_adistance", 0);
	/* The other tests expect an owner that opted into nothing. */
	pnt_param_write("adistance", 0);
	EXPECT_EQ(0, pnt_private_with_ops(0));
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
	long i, before = minor_faults();

	for (i = 0; i < pages; i++)
		*(volatile unsigned long *)(p + i * psize()) = PATTERN | i;
	return minor_faults() - before;
}

/* Where the workload's pages are now, and whether they kept their data. */
static void look(struct __test_metadata *_metadata,
		 FIXTURE_DATA(demote) *self, struct half *h)
{
	h->on_private = pages_on_node(self->map, WORKLOAD, self->private);
	h->on_dram = pages_on_node(self->map, WORKLOAD, self->dram);
	h->on_lower = self->lower < 0 ? 0 :
		      pages_on_node(self->map, WORKLOAD, self->lower);
	ASSERT_LE(0, h->on_private);
	ASSERT_LE(0, h->on_dram);
	ASSERT_LE(0, h->on_lower);
	h->corrupt = corrupt_pages(self->map, h->pages);
	h->thp = self->thp ? pages_with_kpageflags(self->map, h->pages,
						   KPF_THP) : 0;
	ASSERT_LE(0, h->thp);
	ASSERT_EQ(0, pnt_counters_read(&h->c));
}

/* WORKLOAD of anonymous memory at self->map, aligned for THPs; 0 or -errno. */
static int map_workload(FIXTURE_DATA(demote) *self)
{
	self->map = mmap_hpage_aligned(WORKLOAD, 0);
	return self->map == MAP_FAILED ? -errno : 0;
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

	ASSERT_EQ(0, map_workload(self));
	/* Base pages, each counted once, unless the test wants THPs. */
	ASSERT_EQ(0, madvise(self->map, WORKLOAD, self->thp ? MADV_HUGEPAGE :
			     MADV_NOHUGEPAGE));
	ASSERT_EQ(0, mbind(self->map, WORKLOAD, MPOL_BIND, &mask,
			   MASK_MAXNODE, 0));
	h->pages = WORKLOAD / psize();
	for (i = 0; i < h->pages; i++)
		*(unsigned long *)(self->map + i * psize()) = PATTERN | i;
	ASSERT_EQ(h->pages, pages_on_node(self->map, WORKLOAD, self->dram));
	if (self->thp)
		h->thp_before = pages_with_kpageflags(self->map, h->pages,
						      KPF_THP);
}

/* After the trigger of a half: where the workload is, what it went through. */
static void workload_look(struct __test_metadata *_metadata,
			  FIXTURE_DATA(demote) *self, unsigned long flags,
			  bool refuse, struct half *h)
{
	look(_metadata, self, h);
	TH_LOG("np_ops %#lx%s: tier %d; %ld of %ld pages on node %d, %ld on node %d, %ld on node %d; owner took %ld (%ld refused), %ld in; %ld corrupt",
	       flags, refuse ? " refusing" : "", h->tier, h->on_private,
	       h->pages, self->private, h->on_dram, self->dram, h->on_lower,
	       self->lower, h->c.demoted, h->c.demotion_refused,
	       h->c.migrate_in, h->corrupt);
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

/* How long kswapd may take to balance a node or give up on it. */
#define KSWAPD_WAIT_MS	(120 * 1000)

/* What kswapd did in a half driven by DRAM pressure. */
struct kswapd_seen {
	long scanned;		/* pages it scanned on the DRAM node */
	long demoted;		/* and demoted from it, anyone's */
	int balanced;		/* the DRAM node ended above its high watermark */
	int hopeless;		/* or kswapd gave up on it */
};

/* A "name N" line of nodeN/vmstat, or -errno. */
static long node_vmstat(int nid, const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/vmstat",
		 nid);
	return proc_value(path, name);
}

/* Is a populated zone of @nid below its low watermark? 1, 0 or -errno. */
static int node_below_low(int nid)
{
	struct zone_state z[MAX_ZONES];
	int i, n = node_zones(nid, z, MAX_ZONES);

	for (i = 0; i < n; i++)
		if (z[i].managed && z[i].free < z[i].low)
			return 1;
	return n < 0 ? n : 0;
}

/*
 * Fill the DRAM node with @fill's memory, bound to it, just past its low
 * watermark: the allocation that fails that watermark wakes the node's
 * kswapd. pressure_fill() stops up to a huge page above it; base pages
 * then go on until a zone is below it or kswapd has started, far from
 * the min watermark (the watermarks are 10% of the node apart): below
 * it the fill would reclaim directly, and the control would OOM.
 */
static int fill_past_low(FIXTURE_DATA(demote) *self, struct pressure *fill,
			 long scanned)
{
	int ret = pressure_fill(fill, self->dram, 0);
	long now;

	if (ret)
		return ret;
	if (madvise((char *)fill->addr + fill->used, fill->len - fill->used,
		    MADV_NOHUGEPAGE))
		return -errno;
	do {
		ret = node_below_low(self->dram);
		if (ret < 0)
			return ret;
		now = node_vmstat(self->dram, "pgscan_kswapd");
		if (now < 0)
			return (int)now;
		if (now != scanned)
			break;
		if (fill->used + 16 * psize() > fill->len)
			return -ENOSPC;
		/*
		 * Once below it, one more batch: the per-cpu lists refill in
		 * batches, so free pages can drop below the watermark in an
		 * allocation that passed it; the next ones fail it.
		 */
		touch_pages((char *)fill->addr + fill->used, 16 * psize());
		fill->used += 16 * psize();
	} while (!ret);
	return 0;
}

/*
 * A half driven by DRAM pressure: after the workload, fill the DRAM node
 * past its low watermark and wait until its kswapd has balanced it or
 * given up on it; then release the fill. Leaves the workload mapped.
 */
static void kswapd_half(struct __test_metadata *_metadata,
			FIXTURE_DATA(demote) *self, unsigned long flags,
			struct half *h, struct kswapd_seen *k)
{
	long scanned, demoted, deadline;
	struct pressure fill;
	int ret;

	/*
	 * Turning demotion on resets every node's kswapd failures: a node
	 * kswapd gave up on before (in the control, or an earlier test's
	 * fill with nothing to take) has a working kswapd again.
	 */
	ASSERT_EQ(0, write_text(DEMOTION_ENABLED, "0"));
	ASSERT_EQ(0, write_text(DEMOTION_ENABLED, "1"));
	ASSERT_EQ(0, node_kswapd_hopeless(self->dram));
	workload_begin(_metadata, self, flags, false, h);
	/* Few reclaimable dentries: kswapd cannot balance the node with them. */
	drop_slab_caches();
	scanned = node_vmstat(self->dram, "pgscan_kswapd");
	demoted = node_vmstat(self->dram, "pgdemote_kswapd");
	ASSERT_LE(0, scanned);
	ASSERT_LE(0, demoted);
	memset(k, 0, sizeof(*k));
	ret = fill_past_low(self, &fill, scanned);
	deadline = now_ms() + KSWAPD_WAIT_MS;
	while (!ret) {
		k->balanced = node_balanced(self->dram);
		k->hopeless = node_kswapd_hopeless(self->dram);
		if (k->balanced == 1 || k->hopeless == 1 || now_ms() > deadline)
			break;
		usleep(10000);
	}
	k->scanned = node_vmstat(self->dram, "pgscan_kswapd") - scanned;
	k->demoted = node_vmstat(self->dram, "pgdemote_kswapd") - demoted;
	pressure_release(&fill);
	ASSERT_EQ(0, ret);
	workload_look(_metadata, self, flags, false, h);
	TH_LOG("kswapd%d: %ld pages scanned, %ld demoted; node %s",
	       self->dram, k->scanned, k->demoted,
	       k->balanced == 1 ? "balanced" :
	       k->hopeless == 1 ? "given up" : "neither (timed out)");
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
 * THPs demote whole: reclaim hands each one to migrate_to, which gets a
 * huge page of the private node for it, so the workload's huge pages are
 * all still there, split by nobody, with their data. Without the flag
 * they stay on DRAM, whole.
 */
TEST_F_TIMEOUT(demote, thp_demotes_whole, 600)
{
	struct half h;
	long thp;

	self->thp = true;
	reclaim_half(_metadata, self, NP_OPS_MIGRATION, false, &h);
	/* The premise: the workload is all huge pages. */
	ASSERT_EQ(h.pages, h.thp_before);
	EXPECT_EQ(h.thp_before, h.thp);
	EXPECT_EQ(0, h.c.migrate_to_calls);
	thp = h.thp;
	expect_kept(_metadata, self, &h);
	TH_LOG("kept half: %ld of %ld pages in THPs", thp, h.pages);

	reclaim_half(_metadata, self, OPTED_IN, false, &h);
	ASSERT_EQ(h.pages, h.thp_before);
	expect_demoted(_metadata, self, &h);
	/* None was split: every huge page is still one. */
	EXPECT_EQ(h.thp_before, h.thp);
	EXPECT_EQ(0, h.c.split_new);
	TH_LOG("demoted half: %ld of %ld pages in THPs, %ld of them before",
	       h.thp, h.pages, h.thp_before);
}

/*
 * An owner that refuses, with an ordinary node in a tier below the
 * private node's (the foreign range on a spare node, onlined movable as
 * dax/kmem would add slow memory): reclaim offers the folios to the
 * owner first, its nearest lower tier, and demotes what it refuses to the
 * ordinary node, as it would without the private node. The same calls
 * with the owner accepting put them on the private node and none on the
 * ordinary one.
 */
TEST_F_TIMEOUT(demote, refused_demotion_falls_back_to_lower_tier, 600)
{
	char nid[16];
	struct half h;
	int lower, ret;

	lower = pnt_spare_nid(&self->cfg);
	if (lower < 0 || pnt_range_state("foreign") < 0)
		SKIP(return, "no spare node or no foreign range for a lower tier");
	ret = pnt_param_write("foreign_adistance", ADISTANCE_SLOWER);
	if (ret == -ENOENT)
		SKIP(return, "the test driver has no foreign_adistance");
	ASSERT_EQ(0, ret);
	/* Movable, as slow memory usually is: it can then be removed. */
	ASSERT_LT(0, read_text(AUTO_ONLINE, self->auto_online,
			       sizeof(self->auto_online)));
	ASSERT_EQ(0, write_text(AUTO_ONLINE, "online_movable"));
	snprintf(nid, sizeof(nid), "%d", lower);
	ret = pnt_range_write("foreign", nid);
	if (!ret)
		self->lower = lower;
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, write_text(AUTO_ONLINE, self->auto_online));
	self->auto_online[0] = '\0';
	/* The memory type the driver gave it must have taken. */
	ASSERT_LT(memtier_of_node(self->dram), memtier_of_node(lower))
		TH_LOG("node %d is not in a tier below DRAM's", lower);

	reclaim_half(_metadata, self, OPTED_IN, true, &h);
	EXPECT_LT(h.tier, memtier_of_node(lower));
	EXPECT_LT(0, h.c.demotion_refused);
	EXPECT_EQ(0, h.on_private);
	EXPECT_LE(h.pages / 2, h.on_lower);
	EXPECT_EQ(h.pages, h.on_lower + h.on_dram);
	EXPECT_EQ(0, h.corrupt);
	munmap(self->map, WORKLOAD);
	self->map = MAP_FAILED;

	reclaim_half(_metadata, self, OPTED_IN, false, &h);
	EXPECT_EQ(0, h.on_lower);
	expect_demoted(_metadata, self, &h);
}

/*
 * DRAM pressure (the previous tests reclaim proactively): kswapd of the
 * DRAM node demotes the oldest anonymous pages, the workload's, once the
 * owner opted in. The control, first: without NP_OPS_DEMOTION kswapd runs
 * just the same, finds nothing it may take (no swap), and every page stays.
 */
TEST_F_TIMEOUT(demote, kswapd_demotes_under_dram_pressure, 600)
{
	struct kswapd_seen k;
	struct half h;

	/*
	 * Watermarks 10% of the node apart: kswapd then reclaims far more
	 * than the anonymous memory older than the workload.
	 */
	ASSERT_LE(0, read_text(WMARK_SCALE, self->wmark_scale,
			       sizeof(self->wmark_scale)));
	ASSERT_EQ(0, write_text(WMARK_SCALE, "1000"));

	kswapd_half(_metadata, self, NP_OPS_MIGRATION, &h, &k);
	EXPECT_EQ(-ENOENT, h.tier);
	/* kswapd ran on the node until it gave up, and took nothing. */
	EXPECT_EQ(1, k.hopeless);
	EXPECT_EQ(0, k.demoted);
	EXPECT_EQ(0, h.c.migrate_to_calls);
	expect_kept(_metadata, self, &h);

	kswapd_half(_metadata, self, OPTED_IN, &h, &k);
	EXPECT_EQ(1, k.balanced);
	EXPECT_LT(0, k.scanned);
	EXPECT_LE(h.on_private, k.demoted);
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
	EXPECT_LE(2 * h.on_private, faults);
	/* A write the owner had to retry costs this task a fault more. */
	EXPECT_GE(2 * (w.c.write_faults - h.c.write_faults), faults);
	EXPECT_LE(h.on_private, w.c.write_faults - h.c.write_faults);
	EXPECT_LE(h.on_private, w.c.promoted - h.c.promoted);
	EXPECT_EQ(0, w.c.promote_failed);
	EXPECT_EQ(0, w.c.write_faults_bad);
	EXPECT_EQ(0, w.on_private);
	EXPECT_EQ(0, w.corrupt);
}

PNT_HARNESS_MAIN
