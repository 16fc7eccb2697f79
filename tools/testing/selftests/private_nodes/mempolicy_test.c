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
 * The control variant makes the same calls with an ordinary hot-added node
 * and sees them succeed and the pages move, so the calls themselves work.
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
	int target;
	unsigned long dram;	/* ordinary nodes other than the target */
	char *buf;
	size_t len;
	int status[NR_PAGES];	/* where the pages of buf were at setup */
};

FIXTURE_VARIANT(mempolicy) {
	const char *range;
	bool control;
};

/* The harness runs variants in declaration order: control last. */
FIXTURE_VARIANT_ADD(mempolicy, private) {
	.range = "private",
	.control = false,
};

FIXTURE_VARIANT_ADD(mempolicy, control) {
	.range = "control",
	.control = true,
};

FIXTURE_SETUP(mempolicy)
{
	unsigned long mem;
	int i, state;

	self->buf = MAP_FAILED;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	state = pnt_range_state(variant->range);
	if (state == -ENOENT)
		SKIP(return, "the driver has no %s range", variant->range);
	ASSERT_EQ(0, pnt_range_ensure(variant->range, true));
	self->target = variant->control ? self->cfg.control_nid :
					  self->cfg.private_nid;

	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	self->dram = mem & ~(1UL << self->target);
	ASSERT_NE(0UL, self->dram);

	self->len = NR_PAGES * page_size();
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->buf);
	/* Base pages, each of which moves on its own. */
	madvise(self->buf, self->len, MADV_NOHUGEPAGE);
	memset(self->buf, 0x5a, self->len);
	ASSERT_EQ(0, pages_status(self->buf, NR_PAGES, self->status));
	for (i = 0; i < NR_PAGES; i++) {
		ASSERT_LE(0, self->status[i]);
		ASSERT_NE(self->target, self->status[i]);
	}
}

FIXTURE_TEARDOWN(mempolicy)
{
	int ret;

	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	ret = pnt_range_write(variant->range, "remove");
	if (ret && variant->control) {
		TH_LOG("control range stays online: remove gave %d", ret);
	} else {
		EXPECT_EQ(0, ret);
	}
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

static bool moved_to_target(FIXTURE_DATA(mempolicy) *self)
{
	int i;

	if (!pages_all_on(self->buf, self->len, self->target))
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
	EXPECT_EQ(variant->control, !!(mask & (1UL << self->target)));
}

TEST_F(mempolicy, numactl_membind)
{
	char exe[4096], arg[32], out[1024];
	char *argv[] = { "numactl", arg, exe, "--pnt-true", NULL };
	int status;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(arg, sizeof(arg), "--membind=%d", self->target);
	status = run_capture(argv, out, sizeof(out));
	ASSERT_LE(0, status);
	TH_LOG("numactl %s: status 0x%x: %s", arg, status, out);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 127)
		SKIP(return, "numactl not found");
	if (variant->control) {
		EXPECT_EQ(0, WEXITSTATUS(status));
	} else {
		EXPECT_NE(0, WEXITSTATUS(status));
	}
}

TEST_F(mempolicy, mbind)
{
	static const int modes[] = { MPOL_BIND, MPOL_PREFERRED,
				     MPOL_INTERLEAVE, MPOL_PREFERRED_MANY };
	unsigned long mask = 1UL << self->target;
	unsigned int i;
	int mode, err;
	long ret;

	if (variant->control) {
		ASSERT_EQ(0, mbind(self->buf, self->len, MPOL_BIND, &mask,
				   MASK_MAXNODE, MPOL_MF_MOVE));
		EXPECT_TRUE(moved_to_target(self));
		return;
	}
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
}

TEST_F(mempolicy, set_mempolicy)
{
	static const int modes[] = { MPOL_BIND, MPOL_PREFERRED,
				     MPOL_INTERLEAVE, MPOL_PREFERRED_MANY };
	unsigned long mask = 1UL << self->target;
	unsigned int i;
	size_t len = 16 * page_size();
	int mode, status, err;
	long ret;
	pid_t pid;
	void *p;

	if (variant->control) {
		/*
		 * In a child: page tables and slab allocated under the policy
		 * would keep the control node busy; an exiting child frees
		 * them.
		 */
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
			_exit(pages_all_on(p, len, self->target) ? 0 : 3);
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		EXPECT_EQ(0, WEXITSTATUS(status));
		return;
	}
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
	EXPECT_EQ(0, pages_on_node(p, len, self->target));
	munmap(p, len);
	EXPECT_TRUE(unmoved(self));
}

TEST_F(mempolicy, move_pages)
{
	int nodes[NR_PAGES], status[NR_PAGES];
	void *pages[NR_PAGES];
	long ret;
	int i, err;

	for (i = 0; i < NR_PAGES; i++) {
		pages[i] = self->buf + (size_t)i * page_size();
		nodes[i] = self->target;
		status[i] = -1;
	}
	errno = 0;
	ret = move_pages(0, NR_PAGES, pages, nodes, status, MPOL_MF_MOVE);
	err = errno;
	if (variant->control) {
		ASSERT_EQ(0, ret);
		for (i = 0; i < NR_PAGES; i++) {
			EXPECT_EQ(self->target, status[i]);
		}
		EXPECT_TRUE(moved_to_target(self));
		return;
	}
	/* The whole call fails on the first page: no status is written. */
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(ENODEV, err);
	EXPECT_TRUE(unmoved(self));
}

TEST_F(mempolicy, migrate_pages)
{
	unsigned long to = 1UL << self->target;
	long ret;
	int err;

	errno = 0;
	ret = migrate_pages(0, MASK_MAXNODE, &self->dram, &to);
	err = errno;
	if (variant->control) {
		/* The number of pages that could not move: ours all can. */
		ASSERT_LE(0, ret);
		EXPECT_TRUE(moved_to_target(self));
		return;
	}
	EXPECT_EQ(-1, ret);
	/* Without CAP_SYS_NICE the cpuset check fails first. */
	EXPECT_EQ(geteuid() ? EPERM : EINVAL, err);
	EXPECT_TRUE(unmoved(self));
}

PNT_HARNESS_MAIN
