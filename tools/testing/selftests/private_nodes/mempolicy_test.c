// SPDX-License-Identifier: GPL-2.0
/*
 * No memory policy or migration call can name a private node: the kernel
 * sees it as a node without memory (not N_MEMORY), so each call fails the
 * way mainline fails it for such a node, and no page moves:
 *
 *   set_mempolicy(), mbind()  EINVAL  mpol_set_nodemask() masks the nodes
 *                                     with N_MEMORY: the mask is empty
 *   migrate_pages()           EINVAL  the new nodes masked with the
 *                                     caller's cpuset mems are empty (EPERM
 *                                     first without CAP_SYS_NICE)
 *   move_pages()              ENODEV  do_pages_move() checks N_MEMORY and
 *                                     fails the whole call, no status
 *   numactl --membind         fails before running the command
 *
 * Each test then makes the same calls with an ordinary hot-added node (the
 * control range, online beside the private node) and sees them succeed and
 * the pages move, so the calls themselves work: a test passes only if
 * both halves do.
 */
#include "../kselftest_harness.h"

#include <numaif.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define NR_PAGES	64

FIXTURE(mempolicy) {
	struct pnt_config cfg;
	int private, control;	/* the two nodes */
	unsigned long dram;	/* the ordinary nodes but the control */
	char *buf;
	size_t len;
	int status[NR_PAGES];	/* where the pages of buf were at setup */
};

FIXTURE_SETUP(mempolicy)
{
	unsigned long mem;
	int i;

	self->buf = MAP_FAILED;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	if (pnt_range_state("control") == -ENOENT)
		SKIP(return, "the driver has no control range");
	ASSERT_EQ(0, pnt_range_ensure("private", true));
	ASSERT_EQ(0, pnt_range_ensure("control", true));
	self->private = self->cfg.private_nid;
	self->control = self->cfg.control_nid;

	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_TRUE(!!(mem & (1UL << self->control)));
	self->dram = mem & ~(1UL << self->control);
	ASSERT_NE(0UL, self->dram);

	self->len = NR_PAGES * psize();
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* Base pages, each of which moves on its own. */
	madvise(self->buf, self->len, MADV_NOHUGEPAGE);
	memset(self->buf, 0x5a, self->len);
	ASSERT_EQ(0, pages_status(self->buf, NR_PAGES, self->status));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_LE(0, self->status[i]);
		ASSERT_TRUE(!!(self->dram & (1UL << self->status[i])));
	}
}

FIXTURE_TEARDOWN(mempolicy)
{
	int ret;

	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	ret = pnt_range_write("control", "remove");
	if (ret)
		TH_LOG("control range stays online: remove gave %d", ret);
	/* Nothing may pin a private node but its owner. */
	EXPECT_EQ(0, pnt_range_write("private", "remove"));
}

/* The pages of buf are where setup found them, with their data. */
static bool unmoved(FIXTURE_DATA(mempolicy) *self)
{
	int now[NR_PAGES], i;

	if (pages_status(self->buf, NR_PAGES, now))
		return false;
	for (i = 0; i < NR_PAGES; i++)
		if (now[i] != self->status[i])
			return false;
	for (i = 0; i < (int)self->len; i++)
		if (self->buf[i] != 0x5a)
			return false;
	return true;
}

static bool moved_to(FIXTURE_DATA(mempolicy) *self, int nid)
{
	int i;

	if (!pages_all_on(self->buf, self->len, nid))
		return false;
	for (i = 0; i < (int)self->len; i++)
		if (self->buf[i] != 0x5a)
			return false;
	return true;
}

/* The nodes a task may allocate from never include a private node. */
TEST_F(mempolicy, mems_allowed)
{
	unsigned long mask = 0;

	ASSERT_EQ(0, get_mempolicy(NULL, &mask, MASK_MAXNODE, NULL,
				   MPOL_F_MEMS_ALLOWED));
	EXPECT_FALSE(!!(mask & (1UL << self->private)));
	EXPECT_TRUE(!!(mask & (1UL << self->control)));
}

/* numactl --membind=NODE true: its exit status. */
static int numactl_membind(struct __test_metadata *_metadata, int nid)
{
	char exe[4096], arg[32], out[1024];
	char *argv[] = { "numactl", arg, exe, "--pnt-true", NULL };
	int status;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(arg, sizeof(arg), "--membind=%d", nid);
	status = run_capture(argv, out, sizeof(out));
	ASSERT_LE(0, status);
	TH_LOG("numactl %s: status 0x%x: %s", arg, status, out);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(127, WEXITSTATUS(status)) TH_LOG("numactl not found");
	return WEXITSTATUS(status);
}

TEST_F(mempolicy, numactl_membind)
{
	EXPECT_NE(0, numactl_membind(_metadata, self->private));
	EXPECT_EQ(0, numactl_membind(_metadata, self->control));
}

TEST_F(mempolicy, mbind)
{
	static const int modes[] = { MPOL_BIND, MPOL_PREFERRED,
				     MPOL_INTERLEAVE, MPOL_PREFERRED_MANY };
	unsigned long mask = 1UL << self->private;
	unsigned int i;
	int mode, err;
	long ret;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		errno = 0;
		ret = mbind(self->buf, self->len, modes[i], &mask, MASK_MAXNODE,
			    MPOL_MF_MOVE);
		err = errno;
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EINVAL, err);
	}
	/* The range kept its default policy and its pages. */
	ASSERT_EQ(0, get_mempolicy(&mode, NULL, 0, self->buf, MPOL_F_ADDR));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	EXPECT_TRUE(unmoved(self));

	/* The control: the same call moves the pages to an ordinary node. */
	mask = 1UL << self->control;
	ASSERT_EQ(0, mbind(self->buf, self->len, MPOL_BIND, &mask,
			   MASK_MAXNODE, MPOL_MF_MOVE));
	EXPECT_TRUE(moved_to(self, self->control));
}

/*
 * In a child: allocate under MPOL_BIND to @nid. Page tables and slab
 * allocated under the policy would keep the control node busy; an exiting
 * child frees them. Exit status 0 if every page landed on @nid.
 */
static int bound_child(struct __test_metadata *_metadata, int nid)
{
	unsigned long mask = 1UL << nid;
	size_t len = 16 * psize();
	int status;
	pid_t pid;
	void *p;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (set_mempolicy(MPOL_BIND, &mask, MASK_MAXNODE))
			_exit(1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(2);
		touch_pages(p, len);
		_exit(pages_all_on(p, len, nid) ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	return WEXITSTATUS(status);
}

TEST_F(mempolicy, set_mempolicy)
{
	static const int modes[] = { MPOL_BIND, MPOL_PREFERRED,
				     MPOL_INTERLEAVE, MPOL_PREFERRED_MANY };
	unsigned long mask = 1UL << self->private;
	size_t len = 16 * psize();
	unsigned int i;
	int mode, err;
	long ret;
	void *p;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		errno = 0;
		ret = set_mempolicy(modes[i], &mask, MASK_MAXNODE);
		err = errno;
		EXPECT_EQ(-1, ret);
		EXPECT_EQ(EINVAL, err);
	}
	/* The task kept its default policy: new memory is not private. */
	ASSERT_EQ(0, get_mempolicy(&mode, NULL, 0, NULL, 0));
	EXPECT_EQ(MPOL_DEFAULT, mode);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	touch_pages(p, len);
	EXPECT_EQ(0, pages_on_node(p, len, self->private));
	munmap(p, len);
	EXPECT_TRUE(unmoved(self));
	/* A child setting that policy is refused; for the control it binds. */
	EXPECT_EQ(1, bound_child(_metadata, self->private));
	EXPECT_EQ(0, bound_child(_metadata, self->control));
}

TEST_F(mempolicy, move_pages)
{
	int nodes[NR_PAGES], status[NR_PAGES];
	void *pages[NR_PAGES];
	long ret;
	int i, err;

	for (i = 0; i < NR_PAGES; i++) {
		pages[i] = self->buf + (size_t)i * psize();
		nodes[i] = self->private;
		status[i] = -1;
	}
	errno = 0;
	ret = move_pages(0, NR_PAGES, pages, nodes, status, MPOL_MF_MOVE);
	err = errno;
	/* The whole call fails on the first page: no status is written. */
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENODEV, err);
	EXPECT_TRUE(unmoved(self));

	for (i = 0; i < NR_PAGES; i++)
		nodes[i] = self->control;
	ASSERT_EQ(0, move_pages(0, NR_PAGES, pages, nodes, status,
				MPOL_MF_MOVE));
	for (i = 0; i < NR_PAGES; i++)
		EXPECT_EQ(self->control, status[i]);
	EXPECT_TRUE(moved_to(self, self->control));
}

TEST_F(mempolicy, migrate_pages)
{
	unsigned long to = 1UL << self->private;
	long ret;
	int err;

	errno = 0;
	ret = migrate_pages(0, MASK_MAXNODE, &self->dram, &to);
	err = errno;
	EXPECT_EQ(-1, ret);
	/* Without CAP_SYS_NICE the cpuset check fails first. */
	EXPECT_EQ(geteuid() ? EPERM : EINVAL, err);
	EXPECT_TRUE(unmoved(self));

	/* The number of pages that could not move: ours all can. */
	to = 1UL << self->control;
	ASSERT_LE(0, migrate_pages(0, MASK_MAXNODE, &self->dram, &to));
	EXPECT_TRUE(moved_to(self, self->control));
}

PNT_HARNESS_MAIN
