// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_COMPACTION: compaction runs on a private node only if its owner
 * opted in, and then moves the owner's folios within the node.
 *
 * The node is fragmented with the owner's folios: an anonymous buffer is
 * moved onto it (PNT_IOC_MIGRATE, base pages at the low end of the node),
 * then two pages in three of it are discarded. Each test compacts the node
 * twice in one test case: with the owner opted into NP_OPS_MIGRATION only,
 * where no page changes frame, and with NP_OPS_COMPACTION too, where pages
 * move to other frames of the same node, each move heard by the owner's
 * folio_migrate (folio_migrate_within), with their data intact. A test
 * passes only if both halves do.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"
#define PNT_DRAIN	"/sys/kernel/debug/private_node_test/drain"
#define COMPACT_MEMORY	"/proc/sys/vm/compact_memory"

/*
 * 16 MiB: eight pageblocks, one page in KEEP_EVERY kept. Not every other
 * page: the free scanner samples blocks with a stride of up to 32 pages
 * once it finds nothing, and would then meet only kept pages.
 */
#define KEEP_EVERY	3
#define NR_PAGES	4096
/* The owner's costly allocation needs a free pageblock: more room. */
#define NR_PAGES_DIRECT	16384

/* The owner's folios on the node, in an anonymous buffer. */
struct frag {
	int nid;
	int fd;			/* the test driver */
	char *buf;
	size_t npages;
	uint64_t *pfns;		/* frames of the kept pages */
};

static char pattern(size_t i)
{
	return (char)(i * 13 + i / 4096 + 1);
}

/*
 * Every fixture's setup: the driver, the node up and opted into
 * compaction (else SKIP: an older kernel), the device open, this CPU.
 */
static void frag_fixture_setup(struct __test_metadata *_metadata,
			       struct pnt_config *cfg, struct frag *f)
{
	int ret;

	f->buf = MAP_FAILED;
	f->pfns = NULL;
	f->fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(cfg));
	f->nid = cfg->private_nid;
	ret = pnt_private_with_ops(NP_OPS_MIGRATION | NP_OPS_COMPACTION);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_COMPACTION");
	ASSERT_EQ(0, ret);
	f->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, f->fd);
	ASSERT_EQ(0, pin_to_this_cpu());
}

static void frag_unmap(struct frag *f)
{
	if (f->buf != MAP_FAILED)
		munmap(f->buf, f->npages * psize());
	f->buf = MAP_FAILED;
}

static void frag_teardown(struct __test_metadata *_metadata, struct frag *f)
{
	write_text(PNT_DRAIN, "release");
	frag_unmap(f);
	free(f->pfns);
	if (f->fd >= 0)
		close(f->fd);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

/*
 * Bring the node up with @flags and move @npages of anonymous memory onto
 * it, at the node's low end (a fresh node hands out its lowest frames
 * first). 0 or -errno.
 */
static int frag_fill(struct frag *f, unsigned long flags, size_t npages)
{
	size_t len = npages * psize(), i;
	long moved;
	int ret;

	ret = pnt_private_with_ops(flags);
	if (ret)
		return ret;
	f->npages = npages;
	f->buf = mmap(NULL, len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->buf == MAP_FAILED)
		return -errno;
	madvise(f->buf, len, MADV_NOHUGEPAGE);
	for (i = 0; i < len; i++)
		f->buf[i] = pattern(i);
	moved = pnt_migrate(f->fd, f->buf, len, false);
	if (moved < 0)
		return (int)moved;
	if (moved != (long)npages || !pages_all_on(f->buf, len, f->nid))
		return -EXDEV;
	return 0;
}

/*
 * Discard all but one page in KEEP_EVERY, record the kept pages' frames.
 * The freed
 * pages sit on this CPU's per-cpu list, where compaction cannot see them,
 * until the vmstat refresh gives a remote node's list back to the buddy
 * allocator: wait for the node's free memory to settle.
 */
static int frag_punch(struct frag *f)
{
	long free_kb;
	size_t i;

	for (i = 0; i < f->npages; i++)
		if (i % KEEP_EVERY &&
		    madvise(f->buf + i * psize(), psize(), MADV_DONTNEED))
			return -errno;
	free_kb = node_free_settled_kb(f->nid, -1);
	if (free_kb < 0)
		return (int)free_kb;
	free(f->pfns);
	f->pfns = calloc(f->npages, sizeof(*f->pfns));
	if (!f->pfns)
		return -ENOMEM;
	return pages_pfns(f->buf, f->npages, f->pfns);
}

/* Kept pages that changed frame; -1 if one left the node or was lost. */
static long frag_moved(const struct frag *f)
{
	uint64_t *now = calloc(f->npages, sizeof(*now));
	long moved = 0;
	size_t i;

	if (!now || pages_pfns(f->buf, f->npages, now)) {
		free(now);
		return -1;
	}
	for (i = 0; i < f->npages; i += KEEP_EVERY) {
		if (!now[i] ||
		    pages_on_node(f->buf + i * psize(), psize(), f->nid) != 1)
			moved = -1;
		else if (moved >= 0 && now[i] != f->pfns[i])
			moved++;
	}
	free(now);
	return moved;
}

/* Compaction's vmstat counters, for the log. */
struct compact_stats {
	long migrate_scanned, free_scanned, isolated;
};

static void compact_stats_read(struct compact_stats *st)
{
	st->migrate_scanned = proc_value("/proc/vmstat",
					 "compact_migrate_scanned");
	st->free_scanned = proc_value("/proc/vmstat", "compact_free_scanned");
	st->isolated = proc_value("/proc/vmstat", "compact_isolated");
}

static void compact_stats_log(struct __test_metadata *_metadata,
			      const struct compact_stats *before,
			      const struct frag *f)
{
	struct compact_stats now;

	compact_stats_read(&now);
	TH_LOG("compaction scanned %ld, free scanned %ld, isolated %ld; %ld kept pages on the LRU",
	       now.migrate_scanned - before->migrate_scanned,
	       now.free_scanned - before->free_scanned,
	       now.isolated - before->isolated,
	       pages_with_kpageflags(f->buf, f->npages, KPF_LRU));
}

/* Do the kept pages hold their data? */
static bool frag_intact(const struct frag *f)
{
	size_t i, j;

	for (i = 0; i < f->npages; i += KEEP_EVERY)
		for (j = i * psize(); j < (i + 1) * psize(); j++)
			if (f->buf[j] != pattern(j))
				return false;
	return true;
}

FIXTURE(compaction) {
	struct pnt_config cfg;
	struct frag f;
};

FIXTURE_VARIANT(compaction) {
	bool sysctl;		/* vm.compact_memory, else nodeN/compact */
};

FIXTURE_VARIANT_ADD(compaction, node_compact) {
	.sysctl = false,
};

FIXTURE_VARIANT_ADD(compaction, compact_memory) {
	.sysctl = true,
};

FIXTURE_SETUP(compaction)
{
	frag_fixture_setup(_metadata, &self->cfg, &self->f);
}

FIXTURE_TEARDOWN(compaction)
{
	frag_teardown(_metadata, &self->f);
}

/*
 * Fragment the node with @flags set, compact it through @path, read the
 * owner's counters into @c.
 */
static void compact_with(struct __test_metadata *_metadata, struct frag *f,
			 unsigned long flags, const char *path,
			 struct pnt_counters *c)
{
	struct compact_stats st;

	ASSERT_EQ(0, frag_fill(f, flags, NR_PAGES));
	ASSERT_EQ(0, frag_punch(f));
	ASSERT_EQ(0, pnt_counters_reset());
	compact_stats_read(&st);
	ASSERT_EQ(0, write_text(path, "1"));
	compact_stats_log(_metadata, &st, f);
	ASSERT_EQ(0, pnt_counters_read(c));
}

/*
 * Compact the fragmented node: nodeN/compact, or vm.compact_memory (every
 * node). With the owner opted in, the kept pages move within the node
 * (whole-zone compaction takes them from its low end to free frames at its
 * high end), each through folio_migrate; without, none changes frame.
 */
TEST_F_TIMEOUT(compaction, moves_only_with_the_flag, 300)
{
	const long kept = (NR_PAGES + KEEP_EVERY - 1) / KEEP_EVERY;
	struct frag *f = &self->f;
	struct pnt_counters c;
	char path[128];
	long moved;

	if (variant->sysctl)
		snprintf(path, sizeof(path), COMPACT_MEMORY);
	else
		snprintf(path, sizeof(path),
			 "/sys/devices/system/node/node%d/compact", f->nid);

	/* MIGRATION only: compaction skips the node. */
	compact_with(_metadata, f, NP_OPS_MIGRATION, path, &c);
	EXPECT_EQ(0, frag_moved(f));
	EXPECT_EQ(0, c.migrate_within);
	EXPECT_EQ(0, c.migrate_out);
	EXPECT_TRUE(frag_intact(f));
	frag_unmap(f);

	/* With NP_OPS_COMPACTION: the owner's folios move, within the node. */
	compact_with(_metadata, f, NP_OPS_MIGRATION | NP_OPS_COMPACTION, path,
		     &c);
	moved = frag_moved(f);
	TH_LOG("%ld of %ld kept pages moved, %ld pages within the node",
	       moved, kept, c.migrate_within);
	/* The scanners meet in the middle: about half of them move. */
	EXPECT_LE(kept / 4, moved);
	EXPECT_LE(moved, c.migrate_within);
	/* Every move the owner heard of stayed on the node. */
	EXPECT_EQ(c.migrate_within, c.migrate_out);
	EXPECT_EQ(c.migrate_within, c.migrate_in);
	EXPECT_EQ(0, c.migrate_bad);
	EXPECT_TRUE(frag_intact(f));
}

FIXTURE(direct) {
	struct pnt_config cfg;
	struct frag f;
};

FIXTURE_SETUP(direct)
{
	frag_fixture_setup(_metadata, &self->cfg, &self->f);
}

FIXTURE_TEARDOWN(direct)
{
	frag_teardown(_metadata, &self->f);
}

/*
 * The owner's own costly allocation (an order-9 block, GFP_PRIVATE |
 * __GFP_RETRY_MAYFAIL) on a node whose only free memory is the holes
 * between its folios: the owner takes every free page (drain fill), then
 * the holes are punched. Direct compaction is the only way to a free
 * block. Without the flag it does not run: the allocation fails with no
 * compaction stall and no page moved. With it, the allocation succeeds
 * after moving folios within the node.
 */
TEST_F_TIMEOUT(direct, owner_costly_alloc_compacts_only_with_the_flag, 300)
{
	struct frag *f = &self->f;
	struct pnt_counters c;
	long stall, moved;

	/* MIGRATION only: no compaction, no free block. */
	ASSERT_EQ(0, frag_fill(f, NP_OPS_MIGRATION, NR_PAGES_DIRECT));
	ASSERT_EQ(0, write_text(PNT_DRAIN, "fill"));
	ASSERT_EQ(0, frag_punch(f));
	ASSERT_EQ(0, pnt_counters_reset());
	stall = proc_value("/proc/vmstat", "compact_stall");
	ASSERT_LE(0, stall);
	EXPECT_EQ(-ENOMEM, write_text(PNT_DRAIN, "take_huge"));
	EXPECT_EQ(stall, proc_value("/proc/vmstat", "compact_stall"));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, frag_moved(f));
	EXPECT_EQ(0, c.migrate_within);
	EXPECT_TRUE(frag_intact(f));
	ASSERT_EQ(0, write_text(PNT_DRAIN, "release"));
	frag_unmap(f);

	/* With NP_OPS_COMPACTION: direct compaction frees a block. */
	ASSERT_EQ(0, frag_fill(f, NP_OPS_MIGRATION | NP_OPS_COMPACTION,
			       NR_PAGES_DIRECT));
	ASSERT_EQ(0, write_text(PNT_DRAIN, "fill"));
	ASSERT_EQ(0, frag_punch(f));
	ASSERT_EQ(0, pnt_counters_reset());
	stall = proc_value("/proc/vmstat", "compact_stall");
	ASSERT_LE(0, stall);
	EXPECT_EQ(0, write_text(PNT_DRAIN, "take_huge"));
	EXPECT_LT(stall, proc_value("/proc/vmstat", "compact_stall"));
	ASSERT_EQ(0, pnt_counters_read(&c));
	moved = frag_moved(f);
	TH_LOG("%ld kept pages moved, %ld pages within the node",
	       moved, c.migrate_within);
	EXPECT_LT(0, moved);
	EXPECT_LE(moved, c.migrate_within);
	EXPECT_EQ(c.migrate_within, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);
	EXPECT_TRUE(frag_intact(f));
}

TEST_HARNESS_MAIN
