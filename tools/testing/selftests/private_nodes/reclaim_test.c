// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_RECLAIM: reclaim takes a private node's folios only if the node's
 * owner opted in, and then as the owner's reclaim_policy says.
 *
 * The pages under test are WORKLOAD of this process's anonymous memory,
 * moved onto the private node with move_pages() (the owner opts into
 * NP_OPS_MIGRATION in every half). Swap is zram. Each test case makes the
 * same reclaim request in two halves and passes only if both do:
 *   kept       the owner did not opt into NP_OPS_RECLAIM (or its policy
 *              forbids swapping): the request fails with its documented
 *              errno or reclaims nothing, and every page stays on the node;
 *   reclaimed  the owner opted in: pages leave the node for swap, and read
 *              back intact.
 * The reclaimers, one per variant:
 *   node_sysfs      the private node's nodeN/reclaim file;
 *   memcg           memory.reclaim of a cgroup this test runs in;
 *   owner_alloc     the owner's own sleeping allocations on its full node
 *                   (direct reclaim), with cpusets enabled (a child
 *                   cpuset exists: reclaim used to skip the node) and
 *                   disabled (no cpuset but the root: reclaim used to
 *                   take it unasked), one variant each;
 *   kswapd          the owner boosts the node's watermarks
 *                   (node_private_reclaim_boost()) on its full node: kswapd
 *                   starts for the node only then, reclaims the node back
 *                   above its watermarks, and drops the boost after its
 *                   first pass;
 *   kswapd_managed  the same with an owner that holds the boost
 *                   (managed_watermarks): it is still there afterwards;
 *   policy_no_swap  nodeN/reclaim, with NP_OPS_RECLAIM in both halves: the
 *                   kept half's policy forbids swapping (may_swap false);
 *                   asked for anonymous memory only (swappiness=max), and
 *                   as a plain request, which would take page cache.
 *   damon_paddr     a DAMON scheme (sysfs, physical address space) that
 *                   pages out the frames under the workload (the span
 *                   from the first to the last, all of it): it tries in
 *                   both halves and pages out only in the second
 *                   (reclaim_pages()).
 */
#include "../kselftest_harness.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

#define WORKLOAD	(32 * MIB)
#define REQUEST		(8 * MIB)	/* what each reclaimer is asked for */
#define PNT_DEBUGFS	"/sys/kernel/debug/private_node_test"
#define CGROUP		"/sys/fs/cgroup"
#define RECLAIM_CG	CGROUP "/pnt-reclaim"
#define CPUSET_CG	CGROUP "/pnt-cpuset"
#define PATTERN		0x7e570000UL
/* kswapd works on its own: how long to wait for it at most. */
#define KSWAPD_WAIT_MS	60000
#define DAMON_WAIT_MS	60000
#define KDAMONDS	"/sys/kernel/mm/damon/admin/kdamonds"
#define KDAMOND		KDAMONDS "/0"
#define DAMON_CTX	KDAMOND "/contexts/0"
#define DAMON_SCHEME	DAMON_CTX "/schemes/0"

enum reclaimer {
	NODE_SYSFS,
	MEMCG,
	OWNER_ALLOC,
	KSWAPD,
	DAMON_PADDR,
};

enum cpusets {
	CPUSETS_AS_THEY_ARE,
	CPUSETS_ON,	/* a child cpuset exists: cpusets_enabled() */
	CPUSETS_OFF,	/* no cpuset but the root */
};

FIXTURE(reclaim) {
	struct pnt_config cfg;
	int private;
	bool swap_added;
	bool in_cgroup;
	bool made_cpuset;	/* CPUSET_CG */
	int cpuset_was;		/* cpuset in the root's subtree_control */
	bool damon_set_up;	/* kdamonds/0 exists */
	long damon_applied;	/* bytes the DAMON scheme paged out */
	char *buf;
};

FIXTURE_VARIANT(reclaim) {
	enum reclaimer who;
	bool managed;		/* the owner holds the boost */
	bool policy_no_swap;	/* kept half: RECLAIM, but no swapping */
	bool plain;		/* not anonymous memory only */
	enum cpusets cpusets;
};

FIXTURE_VARIANT_ADD(reclaim, node_sysfs) {
	.who = NODE_SYSFS,
};

FIXTURE_VARIANT_ADD(reclaim, memcg) {
	.who = MEMCG,
};

FIXTURE_VARIANT_ADD(reclaim, owner_alloc_cpusets) {
	.who = OWNER_ALLOC,
	.cpusets = CPUSETS_ON,
};

FIXTURE_VARIANT_ADD(reclaim, owner_alloc_no_cpusets) {
	.who = OWNER_ALLOC,
	.cpusets = CPUSETS_OFF,
};

FIXTURE_VARIANT_ADD(reclaim, kswapd) {
	.who = KSWAPD,
};

FIXTURE_VARIANT_ADD(reclaim, kswapd_managed) {
	.who = KSWAPD,
	.managed = true,
};

FIXTURE_VARIANT_ADD(reclaim, policy_no_swap) {
	.who = NODE_SYSFS,
	.policy_no_swap = true,
};

FIXTURE_VARIANT_ADD(reclaim, policy_no_swap_plain) {
	.who = NODE_SYSFS,
	.policy_no_swap = true,
	.plain = true,
};

FIXTURE_VARIANT_ADD(reclaim, damon_paddr) {
	.who = DAMON_PADDR,
};

/* Run in a fresh memory cgroup, so that memory.reclaim targets our pages. */
static int cgroup_join(void)
{
	char pid[32];
	int ret;

	ret = write_text(CGROUP "/cgroup.subtree_control", "+memory");
	if (ret)
		return ret;
	if (mkdir(RECLAIM_CG, 0755) && errno != EEXIST)
		return -errno;
	snprintf(pid, sizeof(pid), "%d", getpid());
	return write_text(RECLAIM_CG "/cgroup.procs", pid);
}

static void cgroup_leave(void)
{
	char pid[32];

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (write_text(CGROUP "/cgroup.procs", pid) || rmdir(RECLAIM_CG))
		ksft_print_msg("could not remove %s\n", RECLAIM_CG);
}

/* The root's count of cpuset controllers: live (with its own) and dying. */
static int cpuset_css(long *live, long *dying)
{
	*live = proc_value(CGROUP "/cgroup.stat", "nr_subsys_cpuset");
	*dying = proc_value(CGROUP "/cgroup.stat", "nr_dying_subsys_cpuset");
	return *live < 0 ? (int)*live : *dying < 0 ? (int)*dying : 0;
}

/* 1 if the root's subtree_control enables cpuset, 0 if not, or -errno. */
static int cpuset_enabled_below_root(void)
{
	char buf[256];
	int ret = read_text(CGROUP "/cgroup.subtree_control", buf, sizeof(buf));

	return ret < 0 ? ret : strstr(buf, "cpuset") != NULL;
}

/*
 * cpusets_enabled() is true while a cpuset other than the root exists
 * (its css is online). On: enable the controller and make a child. Off:
 * disable it below the root, and wait until every child's css has gone
 * (offlined, then released: cgroup.stat counts them until then).
 */
static int cpusets_set(FIXTURE_DATA(reclaim) *self, enum cpusets want)
{
	long live, dying, deadline = now_ms() + 10000;
	int ret;

	if (want == CPUSETS_AS_THEY_ARE)
		return 0;
	self->cpuset_was = cpuset_enabled_below_root();
	if (self->cpuset_was < 0)
		return self->cpuset_was;
	if (want == CPUSETS_ON) {
		ret = write_text(CGROUP "/cgroup.subtree_control", "+cpuset");
		if (ret)
			return ret;
		if (mkdir(CPUSET_CG, 0755) && errno != EEXIST)
			return -errno;
		self->made_cpuset = true;
		ret = cpuset_css(&live, &dying);
		return ret ? ret : live >= 2 ? 0 : -EIO;
	}
	ret = write_text(CGROUP "/cgroup.subtree_control", "-cpuset");
	if (ret)
		return ret;
	while (!(ret = cpuset_css(&live, &dying)) && (live != 1 || dying)) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
	return ret;
}

static void cpusets_restore(FIXTURE_DATA(reclaim) *self, enum cpusets was)
{
	if (was == CPUSETS_AS_THEY_ARE || self->cpuset_was < 0)
		return;
	if (self->made_cpuset && rmdir(CPUSET_CG))
		ksft_print_msg("could not remove %s\n", CPUSET_CG);
	write_text(CGROUP "/cgroup.subtree_control",
		   self->cpuset_was ? "+cpuset" : "-cpuset");
}

FIXTURE_SETUP(reclaim)
{
	int ret;

	self->buf = MAP_FAILED;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	ret = pnt_private_with_ops(NP_OPS_MIGRATION | NP_OPS_RECLAIM);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_RECLAIM");
	ASSERT_EQ(0, ret);
	ret = zram_swap_add();
	if (ret == -ENOENT)
		SKIP(return, "no swap and no zram0 to swap on");
	ASSERT_LE(0, ret);
	self->swap_added = ret;
	if (variant->who == MEMCG || variant->cpusets) {
		if (access(CGROUP "/cgroup.subtree_control", W_OK))
			SKIP(return, "no cgroup v2");
	}
	if (variant->who == MEMCG) {
		ASSERT_EQ(0, cgroup_join());
		self->in_cgroup = true;
	}
	if (variant->who == DAMON_PADDR) {
		if (access(KDAMONDS "/nr_kdamonds", W_OK))
			SKIP(return, "no DAMON sysfs interface");
		ASSERT_EQ(0, write_text(KDAMONDS "/nr_kdamonds", "1"));
		self->damon_set_up = true;
	}
	self->cpuset_was = -1;
	ASSERT_EQ(0, cpusets_set(self, variant->cpusets));
}

FIXTURE_TEARDOWN(reclaim)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, WORKLOAD);
	write_text(PNT_DEBUGFS "/drain", "release");
	if (self->in_cgroup)
		cgroup_leave();
	if (self->damon_set_up) {
		write_text(KDAMOND "/state", "off");
		write_text(KDAMONDS "/nr_kdamonds", "0");
	}
	cpusets_restore(self, variant->cpusets);
	if (self->swap_added && zram_swap_remove())
		ksft_print_msg("swapoff %s: %s\n", ZRAM_DEV, strerror(errno));
	pnt_param_write("reclaim_may_swap", 1);
	pnt_param_write("reclaim_managed_wmarks", 0);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

/* Is a kswapd thread of @nid ("kswapdN") running? 1, 0 or -errno. */
static int kswapd_running(int nid)
{
	char path[300], want[32], comm[32];
	struct dirent *d;
	int found = 0;
	DIR *dir;

	snprintf(want, sizeof(want), "kswapd%d\n", nid);
	dir = opendir("/proc");
	if (!dir)
		return -errno;
	while (!found && (d = readdir(dir))) {
		if (d->d_name[0] < '0' || d->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/comm", d->d_name);
		if (read_text(path, comm, sizeof(comm)) > 0 &&
		    !strcmp(comm, want))
			found = 1;
	}
	closedir(dir);
	return found;
}

static long boost_pages(void)
{
	char buf[32];
	int ret = read_text(PNT_DEBUGFS "/boost", buf, sizeof(buf));

	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

static int boost_write(long pages)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld", pages);
	return write_text(PNT_DEBUGFS "/boost", buf);
}

/* Map, fill and move WORKLOAD onto the private node; 0 or -errno. */
static int workload_to_private(FIXTURE_DATA(reclaim) *self)
{
	size_t psz = psize(), npages = WORKLOAD / psz, i;
	int *nodes, *status;
	void **pages;
	int ret = 0;

	self->buf = mmap(NULL, WORKLOAD, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED)
		return -errno;
	if (madvise(self->buf, WORKLOAD, MADV_NOHUGEPAGE))
		return -errno;
	for (i = 0; i < npages; i++)
		*(unsigned long *)(self->buf + i * psz) = PATTERN | i;
	pages = calloc(npages, sizeof(*pages));
	nodes = calloc(npages, sizeof(*nodes));
	status = calloc(npages, sizeof(*status));
	if (!pages || !nodes || !status)
		ret = -ENOMEM;
	for (i = 0; !ret && i < npages; i++) {
		pages[i] = self->buf + i * psz;
		nodes[i] = self->private;
	}
	if (!ret && move_pages(0, npages, pages, nodes, status, MPOL_MF_MOVE))
		ret = -errno;
	if (!ret && !pages_all_on(self->buf, WORKLOAD, self->private))
		ret = -EXDEV;
	free(pages);
	free(nodes);
	free(status);
	return ret;
}

/* Pages of the workload whose first word is not what was written. */
static long corrupt_pages(const char *buf)
{
	size_t psz = psize(), i;
	long bad = 0;

	for (i = 0; i < WORKLOAD / psz; i++)
		if (*(const unsigned long *)(buf + i * psz) != (PATTERN | i))
			bad++;
	return bad;
}

/* Owner allocations on a node with no free page: direct reclaim or fail. */
static int owner_take(long pages)
{
	char cmd[32];
	int ret;

	ret = write_text(PNT_DEBUGFS "/drain", "fill");
	if (ret)
		return ret;
	snprintf(cmd, sizeof(cmd), "take %ld", pages);
	return write_text(PNT_DEBUGFS "/drain", cmd);
}

/*
 * The owner boosts its full node by REQUEST; wait until kswapd is done:
 * the node is back above its high watermark, boost included, and (unless
 * the owner holds it) the boost is gone, which happens after kswapd's
 * first pass. The result of the boost write.
 */
static int kswapd_boost(FIXTURE_DATA(reclaim) *self, bool managed)
{
	long deadline = now_ms() + KSWAPD_WAIT_MS;
	int ret;

	ret = write_text(PNT_DEBUGFS "/drain", "fill");
	if (ret)
		return ret;
	ret = boost_write(REQUEST / psize());
	if (ret)
		return ret;
	while (now_ms() < deadline) {
		if ((managed || boost_pages() == 0) &&
		    node_balanced(self->private) == 1)
			return 0;
		usleep(10000);
	}
	return -ETIMEDOUT;
}

/* The private node's populated zones, for the log. */
static void zone_log(int nid)
{
	long free = 0, min = 0, low = 0, high = 0, boost = 0, managed;
	char line[256], zone[32] = "";
	int node = -1, n;
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2)
			node = n;
		else if (node != nid)
			continue;
		sscanf(line, " pages free %ld", &free);
		sscanf(line, " min %ld", &min);
		sscanf(line, " low %ld", &low);
		sscanf(line, " high %ld", &high);
		sscanf(line, " boost %ld", &boost);
		/* "managed" closes the watermark block */
		if (sscanf(line, " managed %ld", &managed) == 1 && managed)
			ksft_print_msg("  zone %s: free %ld, min %ld, low %ld, high %ld, boost %ld pages\n",
				       zone, free, min, low, high, boost);
	}
	fclose(f);
}

/* Write @val (a number) to DAMON sysfs file @path; 0 or -errno. */
static int damon_write(const char *path, unsigned long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lu", val);
	return write_text(path, buf);
}

/* A number the scheme's stats directory holds, after an update. */
static long damon_stat(const char *name)
{
	char path[128], buf[32];
	int ret;

	snprintf(path, sizeof(path), DAMON_SCHEME "/stats/%s", name);
	ret = read_text(path, buf, sizeof(buf));
	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

/*
 * The frames under the workload, as one DAMON region of the physical
 * address space, and a scheme that pages out all of it, whatever its
 * access pattern. pageout would otherwise skip a folio DAMON has not yet
 * seen idle; two "young" ops filters, one for each answer, let every
 * folio through and keep the default one from being installed. Runs
 * kdamond until the scheme has been tried on the whole region once, then
 * stops it; what was paged out goes to self->damon_applied.
 */
static int damon_pageout(FIXTURE_DATA(reclaim) *self)
{
	size_t i, npages = WORKLOAD / psize();
	long deadline = now_ms() + DAMON_WAIT_MS, tried = 0, span;
	uint64_t lo = UINT64_MAX, hi = 0, *pfns;
	char path[160];
	int f, ret;

	pfns = calloc(npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	ret = pages_pfns(self->buf, npages, pfns);
	for (i = 0; !ret && i < npages; i++) {
		if (pfns[i] && pfns[i] < lo)
			lo = pfns[i];
		if (pfns[i] > hi)
			hi = pfns[i];
	}
	free(pfns);
	if (ret)
		return ret;
	if (!hi)
		return -ENODATA;
	span = (long)((hi + 1 - lo) * psize());
	ret = write_text(KDAMOND "/contexts/nr_contexts", "1");
	ret = ret ?: write_text(DAMON_CTX "/operations", "paddr");
	ret = ret ?: write_text(DAMON_CTX "/targets/nr_targets", "1");
	ret = ret ?: write_text(DAMON_CTX "/targets/0/regions/nr_regions", "1");
	ret = ret ?: damon_write(DAMON_CTX "/targets/0/regions/0/start",
				 lo * psize());
	ret = ret ?: damon_write(DAMON_CTX "/targets/0/regions/0/end",
				 (hi + 1) * psize());
	ret = ret ?: write_text(DAMON_CTX "/schemes/nr_schemes", "1");
	ret = ret ?: write_text(DAMON_SCHEME "/action", "pageout");
	/* Any region, however accessed (the ranges default to 0-0). */
	ret = ret ?: damon_write(DAMON_SCHEME "/access_pattern/sz/max", ULONG_MAX);
	ret = ret ?: damon_write(DAMON_SCHEME "/access_pattern/nr_accesses/max",
				 UINT_MAX);
	ret = ret ?: damon_write(DAMON_SCHEME "/access_pattern/age/max", UINT_MAX);
	ret = ret ?: write_text(DAMON_SCHEME "/ops_filters/nr_filters", "2");
	for (f = 0; !ret && f < 2; f++) {
		snprintf(path, sizeof(path), DAMON_SCHEME "/ops_filters/%d/type", f);
		ret = write_text(path, "young");
		snprintf(path, sizeof(path), DAMON_SCHEME "/ops_filters/%d/matching", f);
		ret = ret ?: write_text(path, f ? "N" : "Y");
		snprintf(path, sizeof(path), DAMON_SCHEME "/ops_filters/%d/allow", f);
		ret = ret ?: write_text(path, "Y");
	}
	ret = ret ?: write_text(KDAMOND "/state", "on");
	while (!ret && tried < span) {
		if (now_ms() > deadline) {
			ret = -ETIMEDOUT;
			break;
		}
		usleep(100000);
		ret = write_text(KDAMOND "/state", "update_schemes_stats");
		tried = ret ? ret : damon_stat("sz_tried");
		if (tried < 0)
			ret = (int)tried;
	}
	self->damon_applied = damon_stat("sz_applied");
	ksft_print_msg("DAMON: pfns %#llx-%#llx, tried %ld of %ld, applied %ld bytes\n",
		       (unsigned long long)lo, (unsigned long long)hi, tried,
		       span, self->damon_applied);
	if (write_text(KDAMOND "/state", "off") && !ret)
		ret = -EIO;
	return ret;
}

/* Ask the variant's reclaimer for REQUEST; what the request returned. */
static int reclaim_request(FIXTURE_DATA(reclaim) *self,
			   const FIXTURE_VARIANT(reclaim) *variant)
{
	char path[128], req[64];

	/* The workload is anonymous: ask for that alone unless plain. */
	snprintf(req, sizeof(req), "%lu%s", REQUEST,
		 variant->plain ? "" : " swappiness=max");
	switch (variant->who) {
	case NODE_SYSFS:
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/reclaim",
			 self->private);
		return write_text(path, req);
	case MEMCG:
		return write_text(RECLAIM_CG "/memory.reclaim", req);
	case OWNER_ALLOC:
		return owner_take(REQUEST / psize());
	case KSWAPD:
		return kswapd_boost(self, variant->managed);
	case DAMON_PADDR:
		return damon_pageout(self);
	}
	return -EINVAL;
}

/* The errno the kept half's request fails with (0: it succeeds). */
static int kept_errno(const FIXTURE_VARIANT(reclaim) *variant)
{
	switch (variant->who) {
	case NODE_SYSFS:
		/* Not opted in; opted in, but nothing it may take: -EAGAIN */
		return variant->policy_no_swap ? -EAGAIN : -EOPNOTSUPP;
	case MEMCG:
		return -EAGAIN;		/* nothing of the cgroup reclaimable */
	case OWNER_ALLOC:
		return -ENOMEM;		/* the allocation fails */
	case KSWAPD:
		return -EOPNOTSUPP;	/* node_private_reclaim_boost() */
	case DAMON_PADDR:
		return 0;		/* DAMON tries, reclaim_pages() refuses */
	}
	return 0;
}

TEST_F_TIMEOUT(reclaim, only_with_the_owners_consent, 300)
{
	long npages = WORKLOAD / psize(), on, swapped_kb;
	struct pnt_counters c;
	int half, ret;

	for (half = 0; half < 2; half++) {
		bool reclaimed = half;
		unsigned long ops = NP_OPS_MIGRATION;

		if (reclaimed || variant->policy_no_swap)
			ops |= NP_OPS_RECLAIM;
		ASSERT_EQ(0, pnt_param_write("reclaim_may_swap",
					     reclaimed || !variant->policy_no_swap));
		ASSERT_EQ(0, pnt_param_write("reclaim_managed_wmarks",
					     variant->managed));
		/* A fresh node each half: no kswapd, no boost, nothing held. */
		if (self->buf != MAP_FAILED)
			munmap(self->buf, WORKLOAD);
		self->buf = MAP_FAILED;
		ASSERT_EQ(0, write_text(PNT_DEBUGFS "/drain", "release"));
		ASSERT_EQ(0, pnt_private_with_ops(ops));
		ASSERT_EQ(0, workload_to_private(self));
		ASSERT_EQ(0, pnt_counters_reset());
		if (variant->who == KSWAPD)
			EXPECT_EQ(0, kswapd_running(self->private));

		ret = reclaim_request(self, variant);
		on = pages_on_node(self->buf, WORKLOAD, self->private);
		swapped_kb = proc_value("/proc/self/status", "VmSwap");
		ASSERT_EQ(0, pnt_counters_read(&c));
		ksft_print_msg("%s half: request %d, %ld/%ld pages on node %d, VmSwap %ld kB\n",
			       reclaimed ? "reclaimed" : "kept", ret, on,
			       npages, self->private, swapped_kb);
		ksft_print_msg("  reclaim_policy calls %ld, boost %ld pages\n",
			       c.reclaim_policy, boost_pages());
		zone_log(self->private);
		if (!reclaimed) {
			EXPECT_EQ(kept_errno(variant), ret);
			EXPECT_EQ(npages, on);
			/* The policy is asked only where the owner opted in. */
			EXPECT_EQ(variant->policy_no_swap,
				  c.reclaim_policy > 0);
			if (variant->who == KSWAPD) {
				EXPECT_EQ(0, kswapd_running(self->private));
			}
			if (variant->who == DAMON_PADDR) {
				EXPECT_EQ(0, self->damon_applied);
			}
		} else {
			/*
			 * nodeN/reclaim asks for the rest of a request in
			 * batches of a quarter of it, down to batches of
			 * nothing, and gives up with EAGAIN after 16 that
			 * reclaim nothing: it may end short (7.3 as is; a
			 * handful of pages here, 429 of 2048 under KASAN).
			 * What came off the node is checked below.
			 */
			if (variant->who == NODE_SYSFS && ret == -EAGAIN &&
			    npages - on >= (long)(REQUEST / psize()) / 2)
				ret = 0;
			EXPECT_EQ(0, ret);
			/* At least half of what was asked came off the node. */
			EXPECT_GE(npages - (long)(REQUEST / psize()) / 2, on);
			EXPECT_LE((npages - on) * (long)(psize() / KIB),
				  swapped_kb);
			EXPECT_LT(0, c.reclaim_policy);
			if (variant->who == KSWAPD) {
				EXPECT_EQ(1, kswapd_running(self->private));
				/* Held by a managed owner, else used up. */
				EXPECT_EQ(variant->managed ?
					  (long)(REQUEST / psize()) : 0,
					  boost_pages());
			}
			if (variant->who == DAMON_PADDR) {
				EXPECT_LT(0, self->damon_applied);
				EXPECT_LE(self->damon_applied,
					  (npages - on) * (long)psize());
			}
		}
		ASSERT_EQ(0, write_text(PNT_DEBUGFS "/drain", "release"));
		/* Reading swaps the pages back in: the data survived. */
		EXPECT_EQ(0, corrupt_pages(self->buf));
	}
}

PNT_HARNESS_MAIN
