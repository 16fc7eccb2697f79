// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_OOM_ELIGIBLE: a private node counts in OOM decisions only if its
 * owner opted in.
 *
 * A child binds user memory to the private node (its task policy, or an
 * mbind() VMA policy) and faults in more than the node holds. Beside it, a
 * hog child holds memory on a DRAM node with oom_score_adj 1000, the
 * victim of any OOM kill it is a candidate for. Without the flag the
 * flood goes on to DRAM once the node is full, and nobody is killed. With
 * it, the flood ends in an OOM kill constrained to the node whose victim
 * is the flooding child, never the hog, whose memory is not there.
 * A third case reads a task's oom_score: with the flag, the node's memory
 * is part of the total the score is scaled by.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define OPS_POLICY	(NP_OPS_MIGRATION | NP_OPS_MEMPOLICY)
#define OPS_OOM		(OPS_POLICY | NP_OPS_OOM_ELIGIBLE)

#define HOG_BYTES	(128 * MIB)
#define SCORE_BYTES	(256 * MIB)

/* What a flooding child saw, in memory shared with the test. */
struct flood {
	long pages;		/* faulted in so far */
	long on_node;		/* of them, on the private node at the end */
};

FIXTURE(oom) {
	struct pnt_config cfg;
	int nid, dram;
	struct flood *seen;
	pid_t hog;
	int hog_fd;		/* the hog holds its memory until this closes */
};

FIXTURE_SETUP(oom)
{
	unsigned long mem, cpus;
	int ret;

	self->seen = MAP_FAILED;
	self->hog = -1;
	self->hog_fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->nid = self->cfg.private_nid;
	ret = pnt_private_with_ops(OPS_OOM);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_OOM_ELIGIBLE");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus;
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	/* Swap would take the hog instead of killing anyone. */
	ASSERT_EQ(0, proc_value("/proc/meminfo", "SwapTotal"));
	self->seen = mmap(NULL, sizeof(*self->seen), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->seen);
}

FIXTURE_TEARDOWN(oom)
{
	int status;

	if (self->hog_fd >= 0)
		close(self->hog_fd);
	if (self->hog > 0) {
		kill(self->hog, SIGKILL);
		waitpid(self->hog, &status, 0);
	}
	if (self->seen != MAP_FAILED)
		munmap(self->seen, sizeof(*self->seen));
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

static int set_oom_score_adj(const char *val)
{
	return write_text("/proc/self/oom_score_adj", val);
}

/*
 * Start a child that holds @len bytes on @nid with oom_score_adj 1000: the
 * victim of every OOM kill it is a candidate for. Returns once its memory
 * is in.
 */
static void hog_start(struct __test_metadata *_metadata,
		      FIXTURE_DATA(oom) *self, int nid, size_t len)
{
	int ready[2], hold[2];
	char c;
	void *p;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(hold));
	self->hog = fork();
	ASSERT_LE(0, self->hog);
	if (self->hog == 0) {
		close(ready[0]);
		close(hold[1]);
		if (pin_to_node(nid) || set_oom_score_adj("1000"))
			_exit(1);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(1);
		touch_pages(p, len);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(hold[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	self->hog_fd = hold[1];
	ASSERT_EQ(1, read(ready[0], &c, 1));
	close(ready[0]);
}

/* The hog has not been killed. */
static bool hog_alive(FIXTURE_DATA(oom) *self)
{
	int status;

	return waitpid(self->hog, &status, WNOHANG) == 0;
}

/*
 * In a child: bind @len bytes of user memory to @nid, with the task's
 * policy or an mbind() VMA policy, and fault them in. Returns the child's
 * wait status and its pid in @pid; what it saw is in self->seen.
 */
static int flood_node(FIXTURE_DATA(oom) *self, int nid, size_t len,
		      bool vma_policy, pid_t *pid)
{
	unsigned long mask = 1UL << nid;
	size_t off, step = psize();
	int status = -1;
	char *p;

	memset(self->seen, 0, sizeof(*self->seen));
	*pid = fork();
	if (*pid < 0)
		return -1;
	if (*pid == 0) {
		if (!vma_policy &&
		    set_mempolicy(MPOL_BIND, &mask, MASK_MAXNODE))
			_exit(10);
		p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			_exit(11);
		madvise(p, len, MADV_NOHUGEPAGE);
		if (vma_policy &&
		    mbind(p, len, MPOL_BIND, &mask, MASK_MAXNODE, 0))
			_exit(12);
		for (off = 0; off < len; off += step) {
			p[off] = 1;
			self->seen->pages++;
		}
		self->seen->on_node = pages_on_node(p, len, nid);
		_exit(0);
	}
	waitpid(*pid, &status, 0);
	return status;
}

/* Find a /dev/kmsg record, from @fd on, holding both @a and @b. */
static bool kmsg_has(int fd, const char *a, const char *b)
{
	char rec[2048];
	ssize_t n;

	for (;;) {
		n = read(fd, rec, sizeof(rec) - 1);
		if (n < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (n <= 0)
			return false;
		rec[n] = '\0';
		if (strstr(rec, a) && strstr(rec, b))
			return true;
	}
}

static void flood_both_ways(struct __test_metadata *_metadata,
			    FIXTURE_DATA(oom) *self, bool vma_policy)
{
	size_t node_pages = self->cfg.private_size / psize();
	size_t len = self->cfg.private_size + 128 * MIB;
	char want_mask[64], want_pid[32];
	long kills;
	int status, kmsg;
	pid_t pid;

	ASSERT_EQ(0, pin_to_node(self->dram));
	hog_start(_metadata, self, self->dram, HOG_BYTES);

	/* Without the flag: the flood goes on to DRAM, nobody is killed. */
	ASSERT_EQ(0, pnt_private_with_ops(OPS_POLICY));
	vm_counters_fold();
	kills = proc_value("/proc/vmstat", "oom_kill");
	status = flood_node(self, self->nid, len, vma_policy, &pid);
	TH_LOG("without the flag: exit status %#x, %ld of %ld pages on node %d",
	       status, self->seen->on_node, self->seen->pages, self->nid);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_GT(self->seen->on_node, 0);
	ASSERT_LE(self->seen->on_node, (long)node_pages);
	ASSERT_EQ((long)(len / psize()), self->seen->pages);
	vm_counters_fold();
	ASSERT_EQ(kills, proc_value("/proc/vmstat", "oom_kill"));
	ASSERT_TRUE(hog_alive(self));

	/* With it: running the node out kills the flood, not the hog. */
	ASSERT_EQ(0, pnt_private_with_ops(OPS_OOM));
	kmsg = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, kmsg);
	ASSERT_LE(0, lseek(kmsg, 0, SEEK_END));
	status = flood_node(self, self->nid, len, vma_policy, &pid);
	TH_LOG("with the flag: exit status %#x after %ld pages (%ld on node %d)",
	       status, self->seen->pages, self->seen->on_node, self->nid);
	ASSERT_TRUE(WIFSIGNALED(status));
	ASSERT_EQ(SIGKILL, WTERMSIG(status));
	ASSERT_LT(self->seen->pages, (long)(len / psize()));
	vm_counters_fold();
	ASSERT_EQ(kills + 1, proc_value("/proc/vmstat", "oom_kill"));
	ASSERT_TRUE(hog_alive(self));
	snprintf(want_mask, sizeof(want_mask),
		 "constraint=CONSTRAINT_MEMORY_POLICY,nodemask=%d,", self->nid);
	snprintf(want_pid, sizeof(want_pid), ",pid=%d,", (int)pid);
	EXPECT_TRUE(kmsg_has(kmsg, want_mask, want_pid));
	close(kmsg);
}

/* set_mempolicy(MPOL_BIND) to the private node. */
TEST_F_TIMEOUT(oom, task_policy_flood, 600)
{
	flood_both_ways(_metadata, self, false);
}

/* mbind(MPOL_BIND) to the private node: a VMA policy. */
TEST_F_TIMEOUT(oom, vma_policy_flood, 600)
{
	flood_both_ways(_metadata, self, true);
}

static long oom_score(pid_t pid)
{
	char path[64], buf[32];

	snprintf(path, sizeof(path), "/proc/%d/oom_score", (int)pid);
	if (read_text(path, buf, sizeof(buf)) < 0)
		return -1;
	return atol(buf);
}

/*
 * oom_score is a task's memory over the OOM killer's total. With the flag
 * the private node's memory is part of that total, so the same task scores
 * lower, by about total / (total + node); without it, not at all.
 */
TEST_F_TIMEOUT(oom, score_scale, 300)
{
	long plain, counted, base, total_kb, node_kb;
	char path[64];

	ASSERT_EQ(0, pnt_private_with_ops(OPS_POLICY));
	hog_start(_metadata, self, self->dram, SCORE_BYTES);
	/* The hog's score, with its oom_score_adj put back to 0. */
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)self->hog);
	ASSERT_EQ(0, write_text(path, "0"));
	plain = oom_score(self->hog);
	ASSERT_EQ(0, pnt_private_with_ops(OPS_OOM));
	counted = oom_score(self->hog);
	ASSERT_EQ(0, pnt_private_with_ops(OPS_POLICY));
	base = oom_score(self->hog);
	total_kb = proc_value("/proc/meminfo", "MemTotal");
	node_kb = self->cfg.private_size / 1024;
	TH_LOG("oom_score %ld without the flag, %ld with it, %ld without again (total %ld kB, node %ld kB)",
	       plain, counted, base, total_kb, node_kb);
	/* Scores are (1000 + 1000 * badness / total) * 2 / 3. */
	ASSERT_EQ(plain, base);
	ASSERT_GT(plain, 666 + 10);
	ASSERT_LT(counted, plain);
	/* The excess over 666 shrinks by total / (total + node), +-2 points. */
	ASSERT_LE(labs((counted - 666) - (plain - 666) * total_kb /
		       (total_kb + node_kb)), 2);
}

PNT_HARNESS_MAIN
