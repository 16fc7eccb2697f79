// SPDX-License-Identifier: GPL-2.0
/*
 * CRAM: the private node as a compressed, demotion-only, write-protected
 * tier (mm/cram.c), with the test driver playing the compressed device
 * (its "cram" mode: the node's DRAM, a physical capacity smaller than the
 * node, and the LZ4 size of each page stored; see private_node_test.c).
 *
 * Reclaim is proactive reclaim of one DRAM node (nodeN/reclaim, anonymous
 * memory only), as in demotion_test. Each test case has its control: the
 * same workload where CRAM is not the node's manager (an owner opted into
 * plain demotion) or where the device has room, which must behave the
 * other way.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <numaif.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

/* include/linux/memory-tiers.h: DRAM is 576; a CXL-like tier below it. */
#define ADISTANCE_SLOW	(5 * 576)
#define PLAIN_DEMOTION	(NP_OPS_MIGRATION | NP_OPS_DEMOTION)
#define WORKLOAD	(16 * MIB)
#define RECLAIM_ROUNDS	8
#define OWN_SLACK	8	/* pages of the test's own that may fault */
#define SCRUB_WAIT_MS	10000	/* for CRAM's worker to have freed pages cleared */
#define DEMOTION_ENABLED "/sys/kernel/mm/numa/demotion_enabled"
#define MIN_SLAB	"/proc/sys/vm/min_slab_ratio"
#define CRAM_DEVICE	"/sys/kernel/debug/private_node_test/cram"
#define NB_SYSCTL	"/proc/sys/kernel/numa_balancing"
#define THP_ENABLED	"/sys/kernel/mm/transparent_hugepage/enabled"

/* How workload_map() maps the workload. */
#define WL_THP		1	/* THPs wherever they can be */
#define WL_SCANNED	2	/* NUMA balancing may scan it (MPOL_F_NUMA_BALANCING) */

FIXTURE(cram) {
	struct pnt_config cfg;
	int private, dram;
	char stats[128];	/* CRAM's debugfs stats of the node */
	struct tunable demotion, min_slab;
	struct tunable numa_balancing, scan[NUMA_SCAN_TUNABLES];
	bool swap;		/* the fixture turned zram swap on */
	char *map;
	size_t len;
};

/* Bring the private range up as a CRAM tier (@cram) or a plain owner. */
static int private_up(bool cram, unsigned long flags)
{
	int ret = pnt_range_ensure("private", false);

	if (!ret)
		ret = pnt_param_write("cram", cram);
	if (!ret)
		ret = pnt_param_write("np_ops", cram ? 0 : flags);
	return ret ? ret : pnt_range_write("private", "add");
}

static long cram_stat(FIXTURE_DATA(cram) *self, const char *name)
{
	return proc_value(self->stats, name);
}

static long device_stat(const char *name)
{
	return proc_value(CRAM_DEVICE, name);
}

FIXTURE_SETUP(cram)
{
	unsigned long mem, cpus;
	long supported = 0;
	char buf[8];

	self->map = MAP_FAILED;
	self->swap = false;
	memset(&self->demotion, 0, sizeof(self->demotion));
	memset(&self->min_slab, 0, sizeof(self->min_slab));
	memset(&self->numa_balancing, 0, sizeof(self->numa_balancing));
	memset(self->scan, 0, sizeof(self->scan));
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	if (read_text("/sys/module/private_node_test/parameters/cram_supported",
		      buf, sizeof(buf)) > 0)
		supported = buf[0] == 'Y' || buf[0] == '1';
	if (!supported)
		SKIP(return, "the kernel has no CRAM (CONFIG_CRAM)");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	snprintf(self->stats, sizeof(self->stats),
		 "/sys/kernel/debug/cram/node%d/stats", self->private);
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus & ~(1UL << self->private);
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	ASSERT_EQ(0, pnt_param_write("adistance", ADISTANCE_SLOW));
	ASSERT_EQ(0, pnt_param_write("cram_scrub_fails", 0));
	ASSERT_EQ(0, pnt_param_write("cram_capacity_kb", 0));
	ASSERT_EQ(0, tunable_set(&self->demotion, DEMOTION_ENABLED, "1"));
	ASSERT_EQ(0, tunable_set(&self->min_slab, MIN_SLAB, "0"));
	ASSERT_EQ(0, pin_to_node(self->dram));
}

FIXTURE_TEARDOWN(cram)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	if (self->swap)
		zram_swap_remove();
	tunable_restore(&self->demotion);
	tunable_restore(&self->min_slab);
	tunable_restore(&self->numa_balancing);
	numa_scan_restore(self->scan);
	/* The other tests expect an owner that opted into nothing. */
	pnt_param_write("cram_scrub_fails", 0);
	pnt_param_write("cram_scrub_hold", 0);
	pnt_param_write("cram_scrub_timeouts", 0);
	pnt_param_write("cram_capacity_kb", 0);
	pnt_param_write("adistance", 0);
	EXPECT_EQ(0, private_up(false, 0));
}

/*
 * @len bytes bound to the DRAM node, written by @fill: base pages, or
 * THPs with WL_THP; WL_SCANNED lets NUMA balancing scan them.
 */
static void workload_map(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cram) *self, size_t len,
			 void (*fill)(char *page, long i), int how)
{
	int mode = MPOL_BIND | (how & WL_SCANNED ? MPOL_F_NUMA_BALANCING : 0);
	unsigned long mask = 1UL << self->dram;
	long i;

	self->len = len;
	self->map = mmap_hpage_aligned(len, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	ASSERT_EQ(0, madvise(self->map, len, how & WL_THP ? MADV_HUGEPAGE :
			     MADV_NOHUGEPAGE));
	ASSERT_EQ(0, mbind(self->map, len, mode, &mask, MASK_MAXNODE, 0));
	for (i = 0; i < (long)(len / psize()); i++)
		fill(self->map + i * psize(), i);
	ASSERT_EQ((long)(len / psize()),
		  pages_on_node(self->map, len, self->dram));
}

static void workload_unmap(FIXTURE_DATA(cram) *self)
{
	if (self->map != MAP_FAILED)
		munmap(self->map, self->len);
	self->map = MAP_FAILED;
}

/* Proactive reclaim of the DRAM node until the workload has left it. */
static void reclaim_workload(struct __test_metadata *_metadata,
			     FIXTURE_DATA(cram) *self, int rounds)
{
	int round, ret = 0;

	for (round = 0; round < rounds; round++) {
		ret = node_reclaim_anon(self->dram, self->len);
		ASSERT_TRUE(ret == 0 || ret == -EAGAIN)
			TH_LOG("node%d/reclaim: %d", self->dram, ret);
		if (!pages_on_node(self->map, self->len, self->dram))
			break;
	}

}

/*
 * Reclaim demotes the cold workload into CRAM; reading it back takes no
 * fault; writing a page promotes exactly its folio, once, and the write
 * lands. Control: an owner with plain demotion (no CRAM) takes the same
 * pages and leaves them writable, so its writes take no fault and move
 * nothing.
 */
TEST_F_TIMEOUT(cram, demoted_read_only_write_promotes, 600)
{
	long pages = WORKLOAD / psize(), on, faults, i, written = 0;
	long demoted, promoted, retried, before, rest;
	int half;

	/*
	 * Reclaim of the node demotes the test's own stack and heap pages
	 * too, which CRAM then counts when the test writes them: keep the
	 * ones there are now where they are.
	 */
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	for (half = 0; half < 2; half++) {
		bool cram = half == 1;

		ASSERT_EQ(0, private_up(cram, PLAIN_DEMOTION));
		workload_map(_metadata, self, WORKLOAD, fill_text, 0);
		reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
		on = pages_on_node(self->map, WORKLOAD, self->private);
		/* Reclaim ages the LRU first: not every page needs to go. */
		ASSERT_LE(pages / 2, on);
		faults = minor_faults();
		EXPECT_EQ(0, pages_not_filled(self->map, WORKLOAD, fill_text));
		faults = minor_faults() - faults;
		TH_LOG("%s: %ld of %ld pages demoted; reading them took %ld faults",
		       cram ? "CRAM" : "plain demotion", on, pages, faults);
		EXPECT_EQ(0, faults);
		demoted = cram ? cram_stat(self, "demoted") : 0;
		promoted = cram ? cram_stat(self, "promoted") : 0;
		retried = cram ? cram_stat(self, "promote_retried") : 0;
		EXPECT_LE(cram ? on : 0, demoted);
		/* Write every fourth page of the node, each twice. */
		before = pages_on_node(self->map, WORKLOAD, self->private);
		faults = minor_faults();
		for (i = 0, written = 0; i < pages; i += 4) {
			if (!pages_all_on(self->map + i * psize(), psize(),
					  self->private))
				continue;
			self->map[i * psize() + 8] = 'w';
			self->map[i * psize() + 9] = 'w';
			written++;
		}
		faults = minor_faults() - faults;
		on = 0;
		for (i = 0; i < pages; i += 4)
			on += self->map[i * psize() + 8] == 'w' &&
			      pages_all_on(self->map + i * psize(), psize(),
					   self->private);
		rest = pages_on_node(self->map, WORKLOAD, self->private);
		promoted = cram ? cram_stat(self, "promoted") - promoted : 0;
		retried = cram ? cram_stat(self, "promote_retried") - retried : 0;
		TH_LOG("%s: %ld pages written, %ld faults, %ld written pages still on the node (of %ld pages there, %ld), %ld promoted, %ld retried",
		       cram ? "CRAM" : "plain demotion", written, faults, on,
		       before, rest, promoted, retried);
		EXPECT_LT(0, written);
		if (cram) {
			/*
			 * Each written page moved once, and no other. It
			 * faulted to CRAM, then once more on its DRAM copy,
			 * read-only too (the write-protect fault that makes
			 * it writable), and again for each move that had to
			 * be retried; the second write took none. A page of
			 * the test's own that grew since the mlockall() may
			 * add one move and two faults (OWN_SLACK at most).
			 * CRAM's count is the node's: other tasks' pages that
			 * reclaim demoted may add to it.
			 */
			EXPECT_EQ(0, on);
			EXPECT_EQ(before - written, rest);
			EXPECT_LE(written, promoted);
			EXPECT_LE(written, faults);
			EXPECT_GE(2 * (written + OWN_SLACK) + retried, faults);
		} else {
			/* Writable where they are: nothing moved, (almost) no fault. */
			EXPECT_EQ(written, on);
			EXPECT_EQ(before, rest);
			EXPECT_GT(written / 8, faults);
		}
		workload_unmap(self);
	}
	munlockall();
}

/*
 * A write from another node's CPU promotes the page into the VMA's bind
 * policy: a workload bound to one DRAM node comes back to it. Control:
 * the same workload placed by first touch alone (no policy) comes back
 * to the writer's node.
 */
TEST_F_TIMEOUT(cram, write_promotes_within_policy, 300)
{
	long pages = WORKLOAD / psize(), i, on, home, near;
	unsigned long mem, cpus;
	int half, other;

	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus & ~(1UL << self->dram) & ~(1UL << self->private);
	if (!mem)
		SKIP(return, "one DRAM node with CPUs: no other node to write from");
	other = __builtin_ctzl(mem);
	/* No NUMA balancing moving the unbound half behind the test's back. */
	if (!access(NB_SYSCTL, W_OK))
		ASSERT_EQ(0, tunable_set(&self->numa_balancing, NB_SYSCTL, "0"));
	for (half = 0; half < 2; half++) {
		bool bound = half == 1;

		ASSERT_EQ(0, private_up(true, 0));
		ASSERT_EQ(0, pin_to_node(self->dram));
		workload_map(_metadata, self, WORKLOAD, fill_text, 0);
		if (!bound)
			ASSERT_EQ(0, mbind(self->map, WORKLOAD, MPOL_DEFAULT,
					   NULL, 0, 0));
		reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
		on = pages_on_node(self->map, WORKLOAD, self->private);
		ASSERT_LE(pages / 2, on);
		ASSERT_EQ(0, pin_to_node(other));
		for (i = 0; i < pages; i++)
			self->map[i * psize() + 8] = 'w';
		ASSERT_EQ(0, pin_to_node(self->dram));
		home = pages_on_node(self->map, WORKLOAD, self->dram);
		near = pages_on_node(self->map, WORKLOAD, other);
		TH_LOG("%s: %ld pages in CRAM written from node %d: %ld now on node %d, %ld on node %d",
		       bound ? "bound" : "no policy", on, other, home,
		       self->dram, near, other);
		EXPECT_EQ(0, pages_on_node(self->map, WORKLOAD, self->private));
		if (bound) {
			EXPECT_EQ(pages, home);
		} else {
			EXPECT_LE(on, near);
		}
		workload_unmap(self);
	}
}

/*
 * Nothing but demotion puts memory on a CRAM node: mbind() to it fails,
 * and move_pages() onto it moves nothing. Control: the same calls with
 * an owner opted into mempolicy and migration take effect.
 */
TEST_F_TIMEOUT(cram, only_demotion_enters, 300)
{
	unsigned long mask = 1UL << self->private;
	int half, node, status;
	void *page;
	long ret;

	for (half = 0; half < 2; half++) {
		bool cram = half == 1;

		ASSERT_EQ(0, private_up(cram, NP_OPS_MIGRATION |
					NP_OPS_MEMPOLICY));
		workload_map(_metadata, self, psize(), fill_text, 0);
		page = self->map;
		ret = mbind(page, psize(), MPOL_BIND, &mask, MASK_MAXNODE,
			    MPOL_MF_MOVE);
		TH_LOG("%s: mbind: %ld (%s)", cram ? "CRAM" : "mempolicy owner",
		       ret, ret ? strerror(errno) : "ok");
		if (cram) {
			EXPECT_EQ(-1, ret);
			EXPECT_EQ(EINVAL, errno);
		} else {
			EXPECT_EQ(0, ret);
			EXPECT_TRUE(pages_all_on(page, psize(), self->private));
			mask = 1UL << self->dram;
			ASSERT_EQ(0, mbind(page, psize(), MPOL_BIND, &mask,
					   MASK_MAXNODE, MPOL_MF_MOVE));
			mask = 1UL << self->private;
		}
		node = self->private;
		status = -1;
		ret = move_pages(0, 1, &page, &node, &status, MPOL_MF_MOVE);
		TH_LOG("%s: move_pages: %ld (%s), status %d",
		       cram ? "CRAM" : "mempolicy owner", ret,
		       ret < 0 ? strerror(errno) : "ok", status);
		if (cram) {
			EXPECT_TRUE(ret < 0 || status < 0);
			EXPECT_TRUE(pages_all_on(page, psize(), self->dram));
			EXPECT_LE(1, cram_stat(self, "refused_user"));
		} else {
			EXPECT_EQ(0, ret);
			EXPECT_EQ(self->private, status);
		}
		EXPECT_EQ(0, pages_not_filled(self->map, psize(), fill_text));
		workload_unmap(self);
	}
}

/*
 * A device with 16 MiB of physical capacity, offered 48 MiB: random data
 * fills it into pressure and never past its capacity (the watermark boost
 * and, at full pressure, the hard stop turn demotion away), and swap takes
 * the rest; the same amount of compressible data all goes in, at a
 * fraction of the capacity (the control).
 */
TEST_F_TIMEOUT(cram, incompressible_flood_never_overfills, 900)
{
	size_t len = 48 * MIB;
	long pages = len / psize(), on, swapped, fill, peak, cap;
	int half, ret;

	ret = zram_swap_add();
	ASSERT_LE(0, ret);
	self->swap = ret == 1;
	ASSERT_EQ(0, pnt_param_write("cram_capacity_kb", 16 * 1024));
	for (half = 0; half < 2; half++) {
		void (*fill_fn)(char *, long) = half ? fill_random : fill_text;

		ASSERT_EQ(0, private_up(true, 0));
		workload_map(_metadata, self, len, fill_fn, 0);
		reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
		on = pages_on_node(self->map, len, self->private);
		swapped = pages - on - pages_on_node(self->map, len, self->dram);
		fill = device_stat("fill_bytes");
		peak = device_stat("peak_bytes");
		cap = device_stat("capacity_bytes");
		TH_LOG("%s: %ld of %ld pages in CRAM, %ld swapped; device %ld of %ld bytes (peak %ld, ratio %.2f), pressure %ld, %ld folios refused full, %ld overfills",
		       half ? "random" : "compressible", on, pages, swapped,
		       fill, cap, peak, device_stat("ratio_x100") / 100.0,
		       cram_stat(self, "pressure"),
		       cram_stat(self, "refused_full"),
		       device_stat("overfilled"));
		EXPECT_EQ(0, device_stat("overfilled"));
		EXPECT_GE(cap, peak);
		EXPECT_EQ(0, pages_not_filled(self->map, len, fill_fn));
		if (half) {
			/*
			 * Filled into pressure (the boost, or the hard stop
			 * at full, turned demotion away), then swap.
			 */
			EXPECT_LE(cap / 2, peak);
			EXPECT_LT(pages / 2, swapped);
			EXPECT_LT(0, on);
		} else {
			EXPECT_LE(pages / 2, on);
			EXPECT_GT(cap / 2, fill);
			EXPECT_EQ(0, cram_stat(self, "refused_full"));
		}
		workload_unmap(self);
	}
}

/*
 * Pages freed from CRAM are zero before anyone gets them again, whether
 * the device scrubs them or CRAM clears them with the CPU because the
 * device could not. Control: a device that says it scrubbed but did not
 * leaves its freed pages as they were, and the check finds them.
 */
TEST_F_TIMEOUT(cram, freed_pages_are_scrubbed, 600)
{
	static const char * const name[] = {
		"device that does not scrub", "device scrub",
		"device scrub failing: CPU",
	};
	long on, dirty, device, cpu;
	int half;

	for (half = 0; half < 3; half++) {
		ASSERT_EQ(0, pnt_param_write("cram_scrub_lies", half == 0));
		ASSERT_EQ(0, pnt_param_write("cram_scrub_fails", half == 2));
		ASSERT_EQ(0, private_up(true, 0));
		workload_map(_metadata, self, WORKLOAD, fill_text, 0);
		reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
		on = pages_on_node(self->map, WORKLOAD, self->private);
		ASSERT_LT(0, on);
		workload_unmap(self);
		/* CRAM holds them until the device has cleared them. */
		ASSERT_EQ(0, proc_value_await(self->stats, "scrub_pending", 0,
					      SCRUB_WAIT_MS));
		ASSERT_EQ(0, write_text(CRAM_DEVICE, "check_free"));
		dirty = device_stat("dirty_free");
		device = cram_stat(self, "scrubbed_device");
		cpu = cram_stat(self, "scrubbed_cpu");
		TH_LOG("%s: %ld pages demoted and freed; %ld of %ld free pages not zero; cleared by the device %ld, by the CPU %ld",
		       name[half], on, dirty, device_stat("free_checked"),
		       device, cpu);
		if (!half) {
			EXPECT_LE(on, dirty);
			continue;
		}
		EXPECT_EQ(0, dirty);
		EXPECT_LE(on, half == 1 ? device : cpu);
	}
	pnt_param_write("cram_scrub_lies", 0);
}

/*
 * A device's clearing command may sleep (a mailbox command): CRAM keeps
 * freed folios out of the allocator until the device has cleared them,
 * then gives them back. Here the device's command waits
 * (cram_scrub_hold): every page freed stays held, none is free on the
 * node again, and they all come back, zero, once the command goes on.
 * Control: the same pages freed with a device that does not wait come
 * back free at once. Third: the device's first two commands time out
 * (-EINPROGRESS): CRAM hands the batch over again, and it is the device,
 * not the CPU, that clears every page in the end.
 */
TEST_F_TIMEOUT(cram, freed_pages_wait_for_the_device, 600)
{
	long page_kb = psize() / 1024, on, before, held, after, scrubbed;
	long calls, cpu;
	int half;

	for (half = 0; half < 3; half++) {
		bool hold = half == 1;

		ASSERT_EQ(0, private_up(true, 0));
		workload_map(_metadata, self, WORKLOAD, fill_text, 0);
		reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
		on = pages_on_node(self->map, WORKLOAD, self->private);
		ASSERT_LT(0, on);
		before = node_free_settled_kb(self->private, -1);
		scrubbed = cram_stat(self, "scrubbed_device");
		cpu = cram_stat(self, "scrubbed_cpu");
		calls = device_stat("scrub_calls");
		ASSERT_EQ(0, pnt_param_write("cram_scrub_hold", hold));
		ASSERT_EQ(0, pnt_param_write("cram_scrub_timeouts",
					     half == 2 ? 2 : 0));
		workload_unmap(self);
		held = 0;
		if (hold) {
			/* The device is in its command, with the first batch. */
			ASSERT_EQ(1, proc_value_await(CRAM_DEVICE, "scrub_waiting",
						      1, SCRUB_WAIT_MS));
			held = cram_stat(self, "scrub_pending");
			after = node_free_settled_kb(self->private, -1);
			TH_LOG("device waiting: %ld pages demoted and freed, %ld held; node free %ld -> %ld kB",
			       on, held, before, after);
			EXPECT_LE(on, held);
			EXPECT_GT(on * page_kb / 2, after - before);
			EXPECT_EQ(scrubbed, cram_stat(self, "scrubbed_device"));
			ASSERT_EQ(0, pnt_param_write("cram_scrub_hold", 0));
		}
		ASSERT_EQ(0, proc_value_await(self->stats, "scrub_pending", 0,
					      SCRUB_WAIT_MS));
		after = node_free_settled_kb(self->private, -1);
		ASSERT_EQ(0, write_text(CRAM_DEVICE, "check_free"));
		TH_LOG("%s: %ld pages freed (%ld held); node free %ld -> %ld kB, %ld cleared by the device in %ld commands, %ld by the CPU, %ld free pages not zero",
		       half == 2 ? "timed out twice" :
		       hold ? "released" : "device not waiting", on, held,
		       before, after,
		       cram_stat(self, "scrubbed_device") - scrubbed,
		       device_stat("scrub_calls") - calls,
		       cram_stat(self, "scrubbed_cpu") - cpu,
		       device_stat("dirty_free"));
		EXPECT_LE(before + on * page_kb, after);
		EXPECT_LE(scrubbed + on, cram_stat(self, "scrubbed_device"));
		EXPECT_EQ(cpu, cram_stat(self, "scrubbed_cpu"));
		/* The batches, and the two that timed out handed over again. */
		EXPECT_LE((on + 30) / 31 + (half == 2 ? 2 : 0),
			  device_stat("scrub_calls") - calls);
		EXPECT_EQ(0, device_stat("dirty_free"));
		EXPECT_EQ(0, device_stat("scrub_waiting"));
	}
}

/*
 * Removing the device's memory with data in CRAM moves it all to DRAM,
 * intact, and the node goes away. Control: the data was there first.
 */
TEST_F_TIMEOUT(cram, teardown_with_live_data, 600)
{
	long pages = WORKLOAD / psize(), on;

	ASSERT_EQ(0, private_up(true, 0));
	workload_map(_metadata, self, WORKLOAD, fill_text, 0);
	reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
	on = pages_on_node(self->map, WORKLOAD, self->private);
	ASSERT_LE(pages / 2, on);
	ASSERT_EQ(0, pnt_range_write("private", "remove"));
	TH_LOG("%ld of %ld pages in CRAM before the removal; node %d has_memory %d, stats %s",
	       on, pages, self->private,
	       nodelist_has("has_memory", self->private),
	       access(self->stats, F_OK) ? "gone" : "still there");
	EXPECT_EQ(0, pages_on_node(self->map, WORKLOAD, self->private));
	EXPECT_EQ(0, pages_not_filled(self->map, WORKLOAD, fill_text));
	EXPECT_EQ(0, nodelist_has("has_memory", self->private));
	EXPECT_NE(0, access(self->stats, F_OK));
	EXPECT_EQ(0, pnt_range_state("private"));
}

/* Pages of @len at @map that are in THPs and on @nid, or -errno. */
static long thp_pages_on(char *map, size_t len, int nid)
{
	size_t i, npages = len / psize();
	uint64_t *pfns, flags;
	int *status;
	long count = 0;
	int ret;

	pfns = calloc(npages, sizeof(*pfns));
	status = calloc(npages, sizeof(*status));
	ret = pfns && status ? 0 : -ENOMEM;
	if (!ret)
		ret = pages_pfns(map, npages, pfns);
	if (!ret)
		ret = pages_status(map, npages, status);
	for (i = 0; !ret && i < npages; i++) {
		if (status[i] != nid || !pfns[i])
			continue;
		ret = pfn_kpageflags(pfns[i], &flags);
		count += !ret && (flags & KPF_THP);
	}
	free(pfns);
	free(status);
	return ret ? ret : count;
}

/* The workload, with every @step-th page from @first marked by @who. */
static long marked_corrupt(const char *map, size_t len, long first,
			   long step, char who)
{
	return pages_changed(map, len, fill_text, first, step, who);
}

/* Mark every @step-th page from @first: a write to each. */
static void mark(char *map, size_t len, long first, long step, char who)
{
	long i;

	for (i = first; i < (long)(len / psize()); i += step)
		map[i * psize() + 8] = who;
}

/*
 * A workload of THPs in CRAM, shared with a child by fork(): the child's
 * writes promote the folios they hit (whole, or split when DRAM has no
 * huge page free) and land in the child's copy only; the parent still
 * reads its own data, and its own writes land too. Control: the workload
 * was in THPs, THPs reached CRAM, and the writes did move folios out.
 */
TEST_F_TIMEOUT(cram, fork_and_thp_keep_data, 600)
{
	long pages = WORKLOAD / psize(), thp, thp_on, on, after, promoted;
	long bad, split, thp_dram;
	int status;
	pid_t pid;

	char thp_mode[64];

	if (read_text(THP_ENABLED, thp_mode, sizeof(thp_mode)) <= 0 ||
	    strstr(thp_mode, "[never]"))
		SKIP(return, "THP is off (%s)", THP_ENABLED);
	ASSERT_EQ(0, private_up(true, 0));
	workload_map(_metadata, self, WORKLOAD, fill_text, WL_THP);
	thp = pages_with_kpageflags(self->map, pages, KPF_THP);
	ASSERT_LT(0, thp) TH_LOG("no THP for the workload: is THP enabled?");
	reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
	on = pages_on_node(self->map, WORKLOAD, self->private);
	thp_on = thp_pages_on(self->map, WORKLOAD, self->private);
	promoted = cram_stat(self, "promoted");
	split = cram_stat(self, "split");
	TH_LOG("%ld of %ld pages in THPs; %ld pages in CRAM, %ld of them in THPs",
	       thp, pages, on, thp_on);
	ASSERT_LE(pages / 2, on);
	ASSERT_LT(0, thp_on);

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		/* A write that faults for ever fails the case, and soon. */
		alarm(120);
		/* Every third page: one write per THP and more. */
		mark(self->map, WORKLOAD, 0, 3, 'c');
		_exit(marked_corrupt(self->map, WORKLOAD, 0, 3, 'c') ? 1 : 0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	after = pages_on_node(self->map, WORKLOAD, self->private);
	thp_dram = thp_pages_on(self->map, WORKLOAD, self->dram);
	bad = pages_not_filled(self->map, WORKLOAD, fill_text);
	split = cram_stat(self, "split") - split;
	TH_LOG("child wrote every third page: %s %d; parent: %ld corrupt pages, %ld of %ld pages still in CRAM, %ld pages in THPs on DRAM; CRAM promoted %ld pages, split %ld folios",
	       WIFEXITED(status) ? "exit" : "signal",
	       WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	       bad, after, on, thp_dram,
	       cram_stat(self, "promoted") - promoted, split);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, bad);
	/*
	 * The writes promoted what they hit, whole, in both address
	 * spaces: every THP in CRAM had a page written, and DRAM had
	 * huge pages free, so none was split.
	 */
	EXPECT_LT(promoted, cram_stat(self, "promoted"));
	EXPECT_GE(on - thp_on, after);
	EXPECT_EQ(0, split);
	EXPECT_LT(0, thp_dram);

	/* The parent's own writes, every fifth page from the second. */
	mark(self->map, WORKLOAD, 1, 5, 'p');
	EXPECT_EQ(0, marked_corrupt(self->map, WORKLOAD, 1, 5, 'p'));
	workload_unmap(self);
}

#define NB_PAGES	1024		/* 4 MiB */
#define NB_OFF_MS	4000		/* ten scan periods (numa_scan_fast()) */
#define NB_WAIT_MS	120000		/* the scanner is slow under TCG */

/* Promotions onto @nid. */
static long pgpromote_success(int nid)
{
	char path[64];

	vm_counters_fold();
	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/vmstat",
		 nid);
	return proc_value(path, "pgpromote_success");
}

/* Read a word of every page, as a hot working set that is never written. */
static void read_pages(const char *map, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += psize())
		(void)*(const volatile long *)(map + off);
}

/*
 * CRAM's hot pages go back to DRAM by NUMA balancing in tiering mode
 * (kernel.numa_balancing=2), with no write to them, data intact: CRAM
 * opts its node into NP_OPS_NUMA_BALANCING. Control: the same reads with
 * NUMA balancing off take no fault and move nothing (reading CRAM does
 * not promote by itself).
 */
TEST_F_TIMEOUT(cram, hot_pages_promoted_by_numa_balancing, 600)
{
	size_t len = NB_PAGES * psize();
	long on, left, faults, promoted, end, passes = 0;

	if (access(NB_SYSCTL, W_OK))
		SKIP(return, "the kernel has no NUMA balancing");
	/* Off (the lab kernel boots with it on) until the control is done. */
	ASSERT_EQ(0, tunable_set(&self->numa_balancing, NB_SYSCTL, "0"));
	ASSERT_EQ(0, numa_scan_fast(self->scan));
	ASSERT_EQ(0, private_up(true, 0));
	workload_map(_metadata, self, len, fill_text, WL_SCANNED);
	reclaim_workload(_metadata, self, RECLAIM_ROUNDS);
	on = pages_on_node(self->map, len, self->private);
	ASSERT_LE(NB_PAGES / 2, on);

	/* now_ms()'s first call faults in the vDSO's data: not counted. */
	end = now_ms() + NB_OFF_MS;
	faults = minor_faults();
	for (; now_ms() < end; passes++)
		read_pages(self->map, len);
	faults = minor_faults() - faults;
	left = pages_on_node(self->map, len, self->private);
	TH_LOG("NUMA balancing off: %ld passes in %d ms over %ld pages in CRAM took %ld faults; %ld still there",
	       passes, NB_OFF_MS, on, faults, left);
	EXPECT_EQ(on, left);
	EXPECT_EQ(0, faults);

	promoted = pgpromote_success(self->dram);
	ASSERT_EQ(0, write_text(NB_SYSCTL, "2"));
	for (end = now_ms() + NB_WAIT_MS; left > 0 && now_ms() < end;) {
		read_pages(self->map, len);
		left = pages_on_node(self->map, len, self->private);
	}
	ASSERT_EQ(0, write_text(NB_SYSCTL, "0"));
	promoted = pgpromote_success(self->dram) - promoted;
	TH_LOG("tiering: %ld of %ld pages left in CRAM, %ld promoted",
	       left, on, promoted);
	EXPECT_EQ(0, left);
	EXPECT_LE(on, promoted);
	EXPECT_TRUE(pages_all_on(self->map, len, self->dram));
	EXPECT_EQ(0, pages_not_filled(self->map, len, fill_text));
}

/* Readers that check every page of the workload until told to stop. */
struct readers {
	const char *map;
	size_t len;
	volatile int stop;
	long bad;
};

static void *reader(void *arg)
{
	struct readers *r = arg;
	long i, bad = 0;

	while (!r->stop)
		for (i = 0; i < (long)(r->len / psize()); i++)
			if (*(const volatile long *)(r->map + i * psize()) != i)
				bad++;
	__atomic_add_fetch(&r->bad, bad, __ATOMIC_RELAXED);
	return NULL;
}

#define CYCLES		100000
#define CYCLE_ROUNDS	80

/*
 * 100,000 demote/promote cycles of a page: rounds of demoting the 4096
 * pages of the workload and writing each back (which promotes the ones
 * in CRAM), with two readers checking every page while the writes
 * promote them, and the device's pressure flipping between none and
 * full every round (every other round the device is full after some
 * 2000 pages, and demotion stops there). The data of every
 * page is checked after each round. (The readers do not run during
 * reclaim, which would find their pages referenced and keep them.)
 * Control: the pages did move, CRAM counted each.
 */
TEST_F_TIMEOUT(cram, cycles_keep_data, 3600)
{
	long pages = WORKLOAD / psize(), round, i, cycles = 0, bad = 0, on;
	long stopped = 0;	/* full rounds where demotion stopped early */
	struct readers r = { 0 };
	pthread_t t[2];
	int full;

	ASSERT_EQ(0, private_up(true, 0));
	workload_map(_metadata, self, WORKLOAD, fill_text, 0);
	r.map = self->map;
	r.len = WORKLOAD;
	for (round = 0; round < CYCLE_ROUNDS && cycles < CYCLES; round++) {
		/* Odd rounds: full after 0.2% of the capacity, some 2000 pages. */
		full = round & 1;
		ASSERT_EQ(0, pnt_param_write("cram_low", 0));
		ASSERT_EQ(0, pnt_param_write("cram_high", full ? 2 : 900));
		reclaim_workload(_metadata, self, full ? 1 : RECLAIM_ROUNDS);
		on = pages_on_node(self->map, WORKLOAD, self->private);
		cycles += on;
		stopped += full && on < pages;
		r.stop = 0;
		ASSERT_EQ(0, pthread_create(&t[0], NULL, reader, &r));
		ASSERT_EQ(0, pthread_create(&t[1], NULL, reader, &r));
		/* The same data again: a write that changes nothing. */
		for (i = 0; i < pages; i++)
			*(volatile long *)(self->map + i * psize()) = i;
		r.stop = 1;
		pthread_join(t[0], NULL);
		pthread_join(t[1], NULL);
		bad += pages_not_filled(self->map, WORKLOAD, fill_text);
		EXPECT_EQ(0, pages_on_node(self->map, WORKLOAD, self->private));
	}
	pnt_param_write("cram_low", 500);
	pnt_param_write("cram_high", 900);
	TH_LOG("%ld rounds, %ld page cycles, %ld corrupt after a round, %ld bad reads; %ld full rounds stopped early; CRAM demoted %ld, promoted %ld, refused %ld folios at full pressure",
	       round, cycles, bad, r.bad, stopped, cram_stat(self, "demoted"),
	       cram_stat(self, "promoted"), cram_stat(self, "refused_full"));
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, r.bad);
	EXPECT_LE(CYCLES, cycles);
	/* Reclaim may demote a page again after the count, never fewer. */
	EXPECT_LE(cycles, cram_stat(self, "promoted"));
	/*
	 * The pressure did flip: a full device turned demotion away (its
	 * boost, or the hard stop) before the whole workload was in.
	 */
	EXPECT_LT(0, stopped);
}

PNT_HARNESS_MAIN
