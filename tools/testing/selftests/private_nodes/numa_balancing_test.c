// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_NUMA_BALANCING: NUMA balancing takes a private node's folios only
 * if its owner opted in. Then, with memory tiering (kernel.numa_balancing
 * bit 2), the hot folios of a private node below DRAM (NP_OPS_DEMOTION and
 * an abstract distance give it a lower tier) are promoted to the DRAM node
 * of the CPU that touches them, through the owner's folio_migrate, at the
 * promotion rate limit.
 *
 * The test runs on a DRAM node's CPUs and keeps reading a buffer the
 * driver moved onto the private node. Without the flag the scanner skips
 * the buffer; a control buffer on the other DRAM node, under ordinary NUMA
 * balancing (bit 1) in the same run, shows that the scanner did pass (it
 * takes hinting faults there). With the flag every page is promoted.
 * The scanner's delays are shortened (numa_scan_fast()) and put back after.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"
#define NB_SYSCTL	"/proc/sys/kernel/numa_balancing"
#define NB_RATE		"/proc/sys/kernel/numa_balancing_promote_rate_limit_MBps"

/* A slower tier than DRAM (as in demotion_test). */
#define ADISTANCE_SLOW	(5 * 576)

#define NR_PAGES	1024		/* 4 MiB */
#define WAIT_MS		90000		/* the scanner is slow under TCG */
/* Far more than the 1 MB/s limit lets through in RATE_MS. */
#define RATE_PAGES	16384		/* 64 MiB */
#define RATE_MS		8000

FIXTURE(nb) {
	struct pnt_config cfg;
	int nid, dram, other;
	int fd;
	char *buf, *ctl;
	size_t len;
	struct tunable mode, rate, scan[NUMA_SCAN_TUNABLES];
};

FIXTURE_SETUP(nb)
{
	unsigned long mem, cpus;
	int ret;

	self->buf = self->ctl = MAP_FAILED;
	self->fd = -1;
	self->len = NR_PAGES * psize();
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	if (access(NB_SYSCTL, W_OK))
		SKIP(return, "the kernel has no NUMA balancing");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->nid = self->cfg.private_nid;
	ASSERT_EQ(0, pnt_param_write("adistance", ADISTANCE_SLOW));
	ret = pnt_private_with_ops(NP_OPS_MIGRATION | NP_OPS_DEMOTION |
				   NP_OPS_NUMA_BALANCING);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_NUMA_BALANCING");
	ASSERT_EQ(0, ret);
	/* Two DRAM nodes with CPUs: we run on one, the control is on the other. */
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus;
	ASSERT_LE(2, __builtin_popcountl(mem));
	self->dram = __builtin_ctzl(mem);
	self->other = __builtin_ctzl(mem & ~(1UL << self->dram));
	ASSERT_EQ(0, pin_to_node(self->dram));
	self->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, numa_scan_fast(self->scan));
}

FIXTURE_TEARDOWN(nb)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	if (self->ctl != MAP_FAILED)
		munmap(self->ctl, self->len);
	if (self->fd >= 0)
		close(self->fd);
	tunable_restore(&self->mode);
	tunable_restore(&self->rate);
	numa_scan_restore(self->scan);
	pnt_param_write("adistance", 0);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

static char pattern(size_t i)
{
	return (char)(i * 7 + i / 4096 + 9);
}

static bool buf_intact(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i] != pattern(i))
			return false;
	return true;
}

/* A filled anonymous buffer, on the node we run on (first touch). */
static char *buf_map(size_t len)
{
	char *p;
	size_t i;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	madvise(p, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i++)
		p[i] = pattern(i);
	return p;
}

/* Bring the node up with @flags and put the buffer on it. 0 or -errno. */
static int buf_on_node(FIXTURE_DATA(nb) *self, unsigned long flags)
{
	long ret;

	ret = pnt_private_with_ops(flags);
	if (ret)
		return (int)ret;
	self->buf = buf_map(self->len);
	if (self->buf == MAP_FAILED)
		return -errno;
	ret = pnt_migrate(self->fd, self->buf, self->len, false);
	if (ret < 0)
		return (int)ret;
	return ret == (long)(self->len / psize()) &&
	       pages_all_on(self->buf, self->len, self->nid) ? 0 : -EXDEV;
}

/* Read every page of @p, as a hot working set does. */
static long touch_all(const char *p, size_t len)
{
	volatile const char *v = p;
	long sum = 0;
	size_t i;

	for (i = 0; i < len; i += psize())
		sum += v[i];
	return sum;
}

static long vmstat(const char *name)
{
	vm_counters_fold();
	return proc_value("/proc/vmstat", name);
}

/*
 * Without the flag, under NUMA balancing with tiering and the ordinary
 * mode (3), until the control buffer on the other DRAM node has taken
 * hinting faults (the scanner passed over the whole address space): the
 * private buffer keeps every page in place, and the owner sees no move.
 * With the flag, under tiering alone (2): every page of the buffer is
 * promoted to our DRAM node, pgpromote_success counts them, the owner's
 * folio_migrate sees each leave, data intact.
 */
TEST_F_TIMEOUT(nb, promotes_only_with_the_flag, 300)
{
	long faults0, promoted0, end, left;
	uint64_t pfns[NR_PAGES], now[NR_PAGES];
	struct pnt_counters c;
	int i, moved = 0;

	/* Without the flag. */
	ASSERT_EQ(0, buf_on_node(self, NP_OPS_MIGRATION | NP_OPS_DEMOTION));
	ASSERT_LT(memtier_of_node(self->dram), memtier_of_node(self->nid));
	ASSERT_EQ(0, pages_pfns(self->buf, NR_PAGES, pfns));
	/*
	 * First touch from the other node's CPUs: a bind policy would have
	 * no MPOL_F_MOF, and the scanner skips such VMAs.
	 */
	ASSERT_EQ(0, pin_to_node(self->other));
	self->ctl = buf_map(self->len);
	ASSERT_EQ(0, pin_to_node(self->dram));
	ASSERT_NE(MAP_FAILED, self->ctl);
	ASSERT_TRUE(pages_all_on(self->ctl, self->len, self->other));
	ASSERT_EQ(0, pnt_counters_reset());
	faults0 = vmstat("numa_hint_faults");
	ASSERT_EQ(0, tunable_set(&self->mode, NB_SYSCTL, "3"));
	for (end = now_ms() + WAIT_MS; now_ms() < end;) {
		touch_all(self->buf, self->len);
		touch_all(self->ctl, self->len);
		if (vmstat("numa_hint_faults") - faults0 >= NR_PAGES)
			break;
	}
	ASSERT_EQ(0, write_text(NB_SYSCTL, "0"));
	TH_LOG("control: %ld hinting faults",
	       vmstat("numa_hint_faults") - faults0);
	ASSERT_LE(NR_PAGES, vmstat("numa_hint_faults") - faults0);
	ASSERT_EQ(0, pages_pfns(self->buf, NR_PAGES, now));
	for (i = 0; i < NR_PAGES; i++)
		moved += now[i] != pfns[i];
	EXPECT_EQ(0, moved);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->nid));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.migrate_out);
	EXPECT_TRUE(buf_intact(self->buf, self->len));
	munmap(self->buf, self->len);
	munmap(self->ctl, self->len);
	self->buf = self->ctl = MAP_FAILED;

	/* With NP_OPS_NUMA_BALANCING: promoted. */
	ASSERT_EQ(0, buf_on_node(self, NP_OPS_MIGRATION | NP_OPS_DEMOTION |
				 NP_OPS_NUMA_BALANCING));
	ASSERT_EQ(0, pnt_counters_reset());
	promoted0 = vmstat("pgpromote_success");
	ASSERT_EQ(0, write_text(NB_SYSCTL, "2"));
	for (end = now_ms() + WAIT_MS; now_ms() < end;) {
		touch_all(self->buf, self->len);
		left = pages_on_node(self->buf, self->len, self->nid);
		if (left <= 0)
			break;
	}
	ASSERT_EQ(0, write_text(NB_SYSCTL, "0"));
	left = pages_on_node(self->buf, self->len, self->nid);
	TH_LOG("%ld of %d pages left on the node, %ld promoted", left,
	       NR_PAGES, vmstat("pgpromote_success") - promoted0);
	EXPECT_EQ(0, left);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->dram));
	EXPECT_LE(NR_PAGES, vmstat("pgpromote_success") - promoted0);
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(NR_PAGES, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);
	EXPECT_TRUE(buf_intact(self->buf, self->len));
}

/*
 * Promote a RATE_PAGES buffer from the node for RATE_MS (or until all of
 * it is on DRAM): the pages promoted, and the time taken in @ms.
 */
static long promote_for(FIXTURE_DATA(nb) *self, long *ms)
{
	long start, promoted0;

	if (buf_on_node(self, NP_OPS_MIGRATION | NP_OPS_DEMOTION |
			NP_OPS_NUMA_BALANCING))
		return -1;
	promoted0 = vmstat("pgpromote_success");
	start = now_ms();
	if (write_text(NB_SYSCTL, "2"))
		return -1;
	while (now_ms() - start < RATE_MS &&
	       pages_on_node(self->buf, self->len, self->nid) > 0)
		touch_all(self->buf, self->len);
	write_text(NB_SYSCTL, "0");
	*ms = now_ms() - start;
	if (!buf_intact(self->buf, self->len))
		return -1;
	munmap(self->buf, self->len);
	self->buf = MAP_FAILED;
	return vmstat("pgpromote_success") - promoted0;
}

/*
 * The promotion rate limit holds for a private node: at 1 MB/s (256 pages
 * a second), the pages promoted from a hot buffer never exceed what the
 * limit allows for the time spent, plus one window's worth. The control,
 * the same run at the default limit, promotes more than that bound: the
 * limit is what holds the second run back. The control runs first: a
 * limited run lowers the node's hot threshold step by step
 * (numa_promotion_adjust_threshold(), every scan_period_max), and a run
 * right after it may find no page hot, whatever the limit.
 */
TEST_F_TIMEOUT(nb, promotion_rate_limited, 600)
{
	const long per_s = 256;
	long limited, limited_ms, free_run, free_ms, bound;

	self->len = RATE_PAGES * psize();
	ASSERT_EQ(0, tunable_set(&self->mode, NB_SYSCTL, "0"));
	free_run = promote_for(self, &free_ms);
	ASSERT_LE(0, free_run);
	TH_LOG("at the default limit: %ld pages promoted in %ld ms",
	       free_run, free_ms);

	ASSERT_EQ(0, tunable_set(&self->rate, NB_RATE, "1"));
	limited = promote_for(self, &limited_ms);
	ASSERT_LE(0, limited);
	bound = per_s * (limited_ms / 1000 + 2);
	TH_LOG("at 1 MB/s: %ld pages promoted in %ld ms (bound %ld)",
	       limited, limited_ms, bound);
	EXPECT_LT(0, limited);
	EXPECT_GE(bound, limited);
	/* The control: without the limit, more than its bound. */
	EXPECT_LT(bound, free_run);
}

TEST_HARNESS_MAIN
