// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_MIGRATION: user space may move pages onto a private node, and
 * memory hot-remove may move the owner's folios to ordinary memory, only
 * if the node's owner opted in.
 *
 * Each test makes the same calls twice in one test case: with the owner
 * registered without the flag (np_ops=0), where they are refused and no
 * page moves, and with NP_OPS_MIGRATION, where the pages move, through the
 * owner (its migrate_to allocates the destinations, its folio_migrate
 * hears of every page that arrives or leaves), with their data intact.
 * A test passes only if both halves do.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"

#define NR_PAGES	64

FIXTURE(migration) {
	struct pnt_config cfg;
	int private, dram;
	int fd;
	char *buf;
	size_t len;
};

FIXTURE_SETUP(migration)
{
	unsigned long mem;
	int ret;

	self->buf = MAP_FAILED;
	self->fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	ret = pnt_private_with_ops(NP_OPS_MIGRATION);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_MIGRATION");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pnt_private_with_ops(0));
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	/* Fresh pages land on the DRAM node. */
	ASSERT_EQ(0, pin_to_node(self->dram));
	self->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->len = NR_PAGES * psize();
}

FIXTURE_TEARDOWN(migration)
{
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	if (self->fd >= 0)
		close(self->fd);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

/* Map and fill NR_PAGES base pages on the DRAM node. */
static int buf_map(FIXTURE_DATA(migration) *self)
{
	size_t i;

	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED)
		return -errno;
	/* Base pages: each moves on its own. */
	madvise(self->buf, self->len, MADV_NOHUGEPAGE);
	for (i = 0; i < self->len; i++)
		self->buf[i] = (char)(i * 7 + i / psize());
	return pages_all_on(self->buf, self->len, self->dram) ? 0 : -EXDEV;
}

static bool buf_intact(FIXTURE_DATA(migration) *self)
{
	size_t i;

	for (i = 0; i < self->len; i++)
		if (self->buf[i] != (char)(i * 7 + i / psize()))
			return false;
	return true;
}

/* Is every page of buf on an ordinary node (any of them)? */
static bool buf_on_ordinary_nodes(FIXTURE_DATA(migration) *self)
{
	int status[NR_PAGES], i;
	unsigned long mem;

	if (pages_status(self->buf, NR_PAGES, status) ||
	    nodelist_mask("has_memory", &mem))
		return false;
	for (i = 0; i < NR_PAGES; i++)
		if (status[i] < 0 || status[i] >= (int)MASK_BITS ||
		    !(mem & (1UL << status[i])))
			return false;
	return true;
}

/* move_pages() of every page of buf to @nid; per-page status in @status. */
static long move_buf(FIXTURE_DATA(migration) *self, int nid, int *status)
{
	void *pages[NR_PAGES];
	int nodes[NR_PAGES], i;

	for (i = 0; i < NR_PAGES; i++) {
		pages[i] = self->buf + i * psize();
		nodes[i] = nid;
		status[i] = -1;
	}
	return move_pages(0, NR_PAGES, pages, nodes, status, MPOL_MF_MOVE);
}

/*
 * move_pages() onto the private node: without the flag the call fails
 * with ENODEV (the node is not N_MEMORY, as for a node without memory)
 * and moves nothing; with it every page moves there through the owner,
 * and back to DRAM again.
 */
TEST_F_TIMEOUT(migration, move_pages_needs_the_flag, 300)
{
	struct pnt_counters c;
	int status[NR_PAGES], i;

	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(0, pnt_counters_reset());
	EXPECT_EQ(-1, move_buf(self, self->private, status));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->dram));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.migrate_to_calls);
	EXPECT_EQ(0, c.migrate_in);

	/* Opted in: the same call moves every page, through the owner. */
	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(0, pnt_counters_reset());
	ASSERT_EQ(0, move_buf(self, self->private, status));
	for (i = 0; i < NR_PAGES; i++)
		EXPECT_EQ(self->private, status[i]);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->private));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_LE(1, c.migrate_to_calls);
	EXPECT_EQ(NR_PAGES, c.migrate_to_folios);
	EXPECT_EQ(NR_PAGES, c.migrate_in);
	EXPECT_EQ(0, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);

	/* And back: the owner hears of each page that leaves. */
	ASSERT_EQ(0, move_buf(self, self->dram, status));
	for (i = 0; i < NR_PAGES; i++)
		EXPECT_EQ(self->dram, status[i]);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->dram));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(NR_PAGES, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);
}

/*
 * migrate_pages() from the DRAM node to the private node: without the
 * flag the new node set holds no node the task may use, EINVAL, nothing
 * moves; with it the task's pages on DRAM, buf among them, move there.
 * (All of them: migrate_pages() moves a whole process, so the counts are
 * at least buf's.)
 */
TEST_F_TIMEOUT(migration, migrate_pages_needs_the_flag, 300)
{
	unsigned long from = 1UL << self->dram, to = 1UL << self->private;
	struct pnt_counters c;

	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(0, pnt_counters_reset());
	EXPECT_EQ(-1, migrate_pages(0, MASK_MAXNODE, &from, &to));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->dram));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.migrate_in);

	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(0, pnt_counters_reset());
	EXPECT_LE(0, migrate_pages(0, MASK_MAXNODE, &from, &to));
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->private));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_LE(NR_PAGES, c.migrate_in);
	EXPECT_EQ(0, c.migrate_bad);

	/* Everything comes back before the node goes. */
	EXPECT_LE(0, migrate_pages(0, MASK_MAXNODE, &to, &from));
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->dram));
	EXPECT_TRUE(buf_intact(self));
}

/*
 * Removing the private range while the owner's folios are in use: without
 * the flag offlining must not move them to ordinary memory behind the
 * owner's back: remove fails with EBUSY, the pages stay where they are
 * with their data. With it, hot-remove moves them to ordinary memory and
 * the owner hears of each.
 */
TEST_F_TIMEOUT(migration, hot_remove_moves_only_with_the_flag, 300)
{
	struct pnt_counters c;

	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(NR_PAGES, pnt_migrate(self->fd, self->buf, self->len, false));
	ASSERT_TRUE(pages_all_on(self->buf, self->len, self->private));
	EXPECT_EQ(-EBUSY, pnt_range_write("private", "remove"));
	EXPECT_EQ(1, pnt_range_state("private"));
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->private));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, munmap(self->buf, self->len));
	self->buf = MAP_FAILED;

	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, buf_map(self));
	ASSERT_EQ(NR_PAGES, pnt_migrate(self->fd, self->buf, self->len, false));
	ASSERT_TRUE(pages_all_on(self->buf, self->len, self->private));
	ASSERT_EQ(0, pnt_counters_reset());
	EXPECT_EQ(0, pnt_range_write("private", "remove"));
	EXPECT_EQ(0, pnt_range_state("private"));
	/* To the nearest ordinary nodes, the control node among them. */
	EXPECT_TRUE(buf_on_ordinary_nodes(self));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(NR_PAGES, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);
}

TEST_HARNESS_MAIN
