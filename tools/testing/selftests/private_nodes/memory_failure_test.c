// SPDX-License-Identifier: GPL-2.0
/*
 * memory_failure in node_private_ops: retiring a private node's page asks
 * or tells its owner first.
 *
 * Soft offline (MADV_SOFT_OFFLINE) of a private page fails with EOPNOTSUPP
 * if the owner has no memory_failure callback, fails with the owner's
 * errno if it refuses, and moves the data to DRAM and poisons the page
 * only if it agrees. A hardware error (MADV_HWPOISON, hwpoison_inject's
 * corrupt-pfn on a free page) is reported to the owner, which cannot
 * refuse it; mm/ handles the page as usual. Each test runs the same
 * injection on an ordinary DRAM page in the same test case, where it takes
 * effect without the owner hearing of it.
 *
 * Needs CONFIG_MEMORY_FAILURE and, for unpoisoning after each case and for
 * corrupt-pfn, CONFIG_HWPOISON_INJECT (debugfs hwpoison/).
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#ifndef MADV_HWPOISON
#define MADV_HWPOISON		100
#endif
#ifndef MADV_SOFT_OFFLINE
#define MADV_SOFT_OFFLINE	101
#endif

#define PNT_DEV		"/dev/private_node_test"
#define HWPOISON_DIR	"/sys/kernel/debug/hwpoison"

#define NR_PAGES	8

FIXTURE(mf) {
	struct pnt_config cfg;
	int nid, dram;
	int fd;
	char *buf;
	size_t len;
	uint64_t poisoned[4];	/* frames to unpoison at teardown */
	int npoisoned;
};

FIXTURE_SETUP(mf)
{
	unsigned long mem;

	self->buf = MAP_FAILED;
	self->fd = -1;
	self->npoisoned = 0;
	self->len = NR_PAGES * psize();
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	if (access(HWPOISON_DIR "/unpoison-pfn", W_OK))
		SKIP(return, "no %s: the kernel has no CONFIG_HWPOISON_INJECT",
		     HWPOISON_DIR);
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->nid = self->cfg.private_nid;
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	self->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(mf)
{
	int i;

	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	/*
	 * Give the poisoned frames back where mm/ lets us (a frame whose
	 * user was killed may still be held); offlining skips the others.
	 */
	for (i = 0; i < self->npoisoned; i++)
		if (unpoison_memory(self->poisoned[i]))
			TH_LOG("pfn %#llx stays poisoned",
			       (unsigned long long)self->poisoned[i]);
	if (self->fd >= 0)
		close(self->fd);
	pnt_param_write("mf_callback", 1);
	pnt_param_write("mf_soft_answer", 0);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

static char pattern(size_t i)
{
	return (char)(i * 17 + i / 4096 + 3);
}

/*
 * NR_PAGES of anonymous memory on @nid: an ordinary node (bound there), or
 * the private node (moved there by the driver). 0 or -errno.
 */
static int buf_on(FIXTURE_DATA(mf) *self, int nid)
{
	unsigned long mask = 1UL << nid;
	size_t i;
	long ret;

	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->buf == MAP_FAILED)
		return -errno;
	madvise(self->buf, self->len, MADV_NOHUGEPAGE);
	if (nid != self->nid &&
	    mbind(self->buf, self->len, MPOL_BIND, &mask, MASK_MAXNODE, 0))
		return -errno;
	for (i = 0; i < self->len; i++)
		self->buf[i] = pattern(i);
	if (nid == self->nid) {
		ret = pnt_migrate(self->fd, self->buf, self->len, false);
		if (ret < 0)
			return (int)ret;
		if (ret != NR_PAGES)
			return -EAGAIN;
	}
	return pages_all_on(self->buf, self->len, nid) ? 0 : -EXDEV;
}

static bool buf_intact(FIXTURE_DATA(mf) *self)
{
	size_t i;

	for (i = 0; i < self->len; i++)
		if (self->buf[i] != pattern(i))
			return false;
	return true;
}

/* The frame of the buffer's first page (0 if absent). */
static uint64_t first_pfn(FIXTURE_DATA(mf) *self)
{
	uint64_t pfn = 0;

	pages_pfns(self->buf, 1, &pfn);
	return pfn;
}

static bool pfn_poisoned(uint64_t pfn)
{
	uint64_t flags = 0;

	return !pfn_kpageflags(pfn, &flags) && (flags & KPF_HWPOISON);
}

/* Remember @pfn for the teardown's unpoison. */
static void note_poisoned(FIXTURE_DATA(mf) *self, uint64_t pfn)
{
	if (self->npoisoned < (int)ARRAY_SIZE(self->poisoned))
		self->poisoned[self->npoisoned++] = pfn;
}

/* madvise(MADV_SOFT_OFFLINE) of the buffer's first page: 0 or -errno. */
static int soft_offline_first(FIXTURE_DATA(mf) *self)
{
	return madvise(self->buf, psize(), MADV_SOFT_OFFLINE) ? -errno : 0;
}

/*
 * Soft offline. The control, an ordinary DRAM page, is moved and its
 * frame poisoned. On the private node (the owner opted into
 * NP_OPS_MIGRATION): without the callback it fails with EOPNOTSUPP, and
 * with the owner refusing (EBUSY) it fails with EBUSY, the page left in
 * place and unpoisoned; with the owner agreeing, the data moves to DRAM,
 * through folio_migrate, and the private frame is poisoned.
 */
TEST_F_TIMEOUT(mf, soft_offline, 120)
{
	struct pnt_counters c;
	uint64_t pfn;

	/* The control: soft offline takes effect, the owner hears nothing. */
	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, pnt_counters_reset());
	ASSERT_EQ(0, buf_on(self, self->dram));
	pfn = first_pfn(self);
	ASSERT_NE(0ULL, (unsigned long long)pfn);
	EXPECT_EQ(0, soft_offline_first(self));
	EXPECT_TRUE(pfn_poisoned(pfn));
	note_poisoned(self, pfn);
	EXPECT_NE(pfn, first_pfn(self));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.mf_soft);

	/* No callback: refused, EOPNOTSUPP. */
	ASSERT_EQ(0, pnt_param_write("mf_callback", 0));
	ASSERT_EQ(0, munmap(self->buf, self->len));
	self->buf = MAP_FAILED;
	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, buf_on(self, self->nid));
	pfn = first_pfn(self);
	EXPECT_EQ(-EOPNOTSUPP, soft_offline_first(self));
	EXPECT_EQ(pfn, first_pfn(self));
	EXPECT_FALSE(pfn_poisoned(pfn));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.mf_soft);
	EXPECT_EQ(0, c.migrate_out);

	/* The owner refuses: its errno, nothing moves. */
	ASSERT_EQ(0, pnt_param_write("mf_callback", 1));
	ASSERT_EQ(0, pnt_param_write("mf_soft_answer", -EBUSY));
	ASSERT_EQ(0, munmap(self->buf, self->len));
	self->buf = MAP_FAILED;
	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, pnt_counters_reset());
	ASSERT_EQ(0, buf_on(self, self->nid));
	pfn = first_pfn(self);
	EXPECT_EQ(-EBUSY, soft_offline_first(self));
	EXPECT_EQ(pfn, first_pfn(self));
	EXPECT_FALSE(pfn_poisoned(pfn));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(1, c.mf_soft);
	EXPECT_EQ(0, c.migrate_out);

	/* The owner agrees: the data moves to DRAM, the frame is retired. */
	ASSERT_EQ(0, pnt_param_write("mf_soft_answer", 0));
	ASSERT_EQ(0, pnt_counters_reset());
	EXPECT_EQ(0, soft_offline_first(self));
	EXPECT_TRUE(pfn_poisoned(pfn));
	note_poisoned(self, pfn);
	EXPECT_EQ(0, pages_on_node(self->buf, psize(), self->nid));
	EXPECT_TRUE(buf_intact(self));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(1, c.mf_soft);
	EXPECT_EQ(1, c.migrate_out);
	EXPECT_EQ(0, c.mf_hard);
}

/*
 * A child poisons the first page of its buffer (MADV_HWPOISON, as a
 * machine check on access would) and dies of SIGBUS; the frame is
 * poisoned. *@pfn gets the frame. The child's exit status, or -1.
 */
static int hwpoison_in_child(FIXTURE_DATA(mf) *self, int nid, uint64_t *pfn)
{
	int p[2], status;
	pid_t pid;

	if (pipe(p))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		uint64_t mine;

		close(p[0]);
		if (buf_on(self, nid))
			_exit(2);
		mine = first_pfn(self);
		if (write(p[1], &mine, sizeof(mine)) != sizeof(mine))
			_exit(3);
		madvise(self->buf, psize(), MADV_HWPOISON);
		/* Not reached: the poisoned page's user is killed. */
		_exit(4);
	}
	close(p[1]);
	if (read(p[0], pfn, sizeof(*pfn)) != sizeof(*pfn))
		*pfn = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

/*
 * A hardware error on a page in use. On ordinary memory the user dies of
 * SIGBUS and the owner hears nothing; on the private node the same
 * happens (mm/ handles the page as usual), and the owner is told once.
 */
TEST_F_TIMEOUT(mf, hwpoison_in_use, 120)
{
	struct pnt_counters c;
	uint64_t pfn;
	int status;

	ASSERT_EQ(0, pnt_private_with_ops(NP_OPS_MIGRATION));
	ASSERT_EQ(0, pnt_counters_reset());

	/* The control. */
	status = hwpoison_in_child(self, self->dram, &pfn);
	ASSERT_NE(0ULL, (unsigned long long)pfn);
	note_poisoned(self, pfn);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) {
		TH_LOG("child status %#x", status);
	}
	EXPECT_TRUE(pfn_poisoned(pfn));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.mf_hard);

	/* The private node: same outcome, and the owner is told. */
	status = hwpoison_in_child(self, self->nid, &pfn);
	ASSERT_NE(0ULL, (unsigned long long)pfn);
	note_poisoned(self, pfn);
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGBUS) {
		TH_LOG("child status %#x", status);
	}
	EXPECT_TRUE(pfn_poisoned(pfn));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(1, c.mf_hard);
	EXPECT_EQ(0, c.mf_soft);
}

TEST_HARNESS_MAIN
