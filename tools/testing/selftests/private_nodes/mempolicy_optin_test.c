// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_MEMPOLICY: a memory policy may place user memory on a private
 * node only if the node's owner opted in (with NP_OPS_MIGRATION, which it
 * requires).
 *
 * Each test makes the same calls twice in one test case: with the owner
 * registered without flags (np_ops=0), where a policy naming the node is
 * refused (EINVAL) and nothing lands on it, and with MIGRATION|MEMPOLICY,
 * where the policy binds and the pages land there. A test passes only if
 * both halves do. Policies are set in child processes, so that each half
 * starts from the default policy; the children report through a shared
 * page.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

/* Newer than libnuma's numaif.h; values from uapi/linux/mempolicy.h. */
#ifndef MPOL_WEIGHTED_INTERLEAVE
#define MPOL_WEIGHTED_INTERLEAVE	6
#endif
#ifndef MPOL_F_STATIC_NODES
#define MPOL_F_STATIC_NODES		(1 << 15)
#endif
#ifndef MPOL_F_RELATIVE_NODES
#define MPOL_F_RELATIVE_NODES		(1 << 14)
#endif

#define OPTED_IN	(NP_OPS_MIGRATION | NP_OPS_MEMPOLICY)
#define NR_PAGES	32
#define CGROUP		"/sys/fs/cgroup"
#define REBIND_CG	CGROUP "/pnt-rebind"

/* What a child saw, in a page shared with the parent. */
struct seen {
	int err;		/* errno of the policy call, 0 if it took */
	long on_private;	/* pages of its mapping on the private node */
	long on_dram;		/* and on the DRAM node */
	long on_second;		/* and on the second private node, if any */
	long pages;		/* pages it touched */
	int mode;		/* get_mempolicy() after the call */
	unsigned long nodes;
};

FIXTURE(mpol) {
	struct pnt_config cfg;
	int private, dram;
	int second;		/* a second private node (no ops), or -1 */
	struct seen *seen;
};

FIXTURE_SETUP(mpol)
{
	unsigned long mem;
	int ret;

	self->seen = MAP_FAILED;
	self->second = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	ret = pnt_private_with_ops(OPTED_IN);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_MEMPOLICY");
	ASSERT_EQ(0, ret);
	ASSERT_EQ(0, pnt_private_with_ops(0));
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_FALSE(!!(mem & (1UL << self->private)));
	self->dram = __builtin_ctzl(mem);
	ASSERT_EQ(0, pin_to_node(self->dram));
	self->seen = mmap(NULL, psize(), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->seen);
}

FIXTURE_TEARDOWN(mpol)
{
	if (self->seen != MAP_FAILED)
		munmap(self->seen, psize());
	if (pnt_range_state("second") == 1)
		EXPECT_EQ(0, pnt_range_write("second", "remove"));
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

/* Touch @len fresh bytes of anonymous memory; count where they landed. */
static void place_anon(struct seen *s, size_t len, int private, int dram,
		       int second)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		_exit(2);
	/* Base pages: THP would not be counted per page. */
	madvise(p, len, MADV_NOHUGEPAGE);
	touch_pages(p, len);
	s->pages = len / psize();
	s->on_private = pages_on_node(p, len, private);
	s->on_dram = pages_on_node(p, len, dram);
	s->on_second = second < 0 ? 0 : pages_on_node(p, len, second);
	munmap(p, len);
}

/* Record the policy the calling task has now. */
static void record_policy(struct seen *s)
{
	s->nodes = 0;
	if (get_mempolicy(&s->mode, &s->nodes, MASK_MAXNODE, NULL, 0))
		s->mode = -errno;
}

/*
 * In a child: set_mempolicy(@mode, @nodes), join the cgroup @join if not
 * NULL (a cpuset rebind), then touch NR_PAGES pages. Returns what it saw
 * in self->seen.
 */
static void child_policy_in(struct __test_metadata *_metadata,
			    FIXTURE_DATA(mpol) *self, int mode,
			    unsigned long nodes, const char *join)
{
	struct seen *s = self->seen;
	char pid_text[32];
	int status;
	pid_t pid;

	memset(s, 0, sizeof(*s));
	s->on_private = s->on_dram = s->on_second = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		s->err = set_mempolicy(mode, &nodes, MASK_MAXNODE) ? errno : 0;
		snprintf(pid_text, sizeof(pid_text), "%d", (int)getpid());
		if (join && write_text(join, pid_text))
			_exit(1);
		record_policy(s);
		if (!s->err)
			place_anon(s, NR_PAGES * psize(), self->private,
				   self->dram, self->second);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
}

static void child_policy(struct __test_metadata *_metadata,
			 FIXTURE_DATA(mpol) *self, int mode,
			 unsigned long nodes)
{
	child_policy_in(_metadata, self, mode, nodes, NULL);
}

/*
 * set_mempolicy() in every mode with the private node alone: EINVAL
 * without the flag and the task keeps its default policy; with it, every
 * page lands on the private node.
 */
TEST_F_TIMEOUT(mpol, set_mempolicy_every_mode, 300)
{
	static const int modes[] = { MPOL_BIND, MPOL_PREFERRED,
				     MPOL_INTERLEAVE, MPOL_PREFERRED_MANY,
				     MPOL_WEIGHTED_INTERLEAVE };
	unsigned long priv = 1UL << self->private;
	unsigned int i;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		child_policy(_metadata, self, modes[i], priv);
		EXPECT_EQ(EINVAL, self->seen->err) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(MPOL_DEFAULT, self->seen->mode);
	}

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		child_policy(_metadata, self, modes[i], priv);
		EXPECT_EQ(0, self->seen->err) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(modes[i], self->seen->mode);
		EXPECT_EQ(priv, self->seen->nodes);
		EXPECT_EQ(NR_PAGES, self->seen->on_private)
			TH_LOG("mode %d: %ld of %ld pages on the private node",
			       modes[i], self->seen->on_private,
			       self->seen->pages);
	}
}

/*
 * Masks that mix the private node and DRAM. Without the flag the private
 * node is dropped, as a node without memory would be, and everything
 * lands on DRAM. With it: BIND and PREFERRED_MANY take the ordinary node
 * first (it has room), INTERLEAVE uses both, a RELATIVE mask is relative
 * to the cpuset's nodes and never reaches the private node, a STATIC one
 * does.
 */
TEST_F_TIMEOUT(mpol, mixed_masks, 300)
{
	unsigned long priv = 1UL << self->private;
	unsigned long both = priv | 1UL << self->dram;
	struct seen *s = self->seen;

	child_policy(_metadata, self, MPOL_BIND, both);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(1UL << self->dram, s->nodes);
	EXPECT_EQ(NR_PAGES, s->on_dram);
	child_policy(_metadata, self, MPOL_INTERLEAVE, both);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(1UL << self->dram, s->nodes);
	EXPECT_EQ(NR_PAGES, s->on_dram);

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	child_policy(_metadata, self, MPOL_BIND, both);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(both, s->nodes);
	EXPECT_EQ(NR_PAGES, s->on_dram);
	child_policy(_metadata, self, MPOL_PREFERRED_MANY, both);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(NR_PAGES, s->on_dram);
	child_policy(_metadata, self, MPOL_INTERLEAVE, both);
	ASSERT_EQ(0, s->err);
	EXPECT_LT(0, s->on_private);
	EXPECT_LT(0, s->on_dram);
	EXPECT_EQ(NR_PAGES, s->on_private + s->on_dram);
	child_policy(_metadata, self, MPOL_BIND | MPOL_F_RELATIVE_NODES, priv);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(0, s->on_private);
	child_policy(_metadata, self, MPOL_BIND | MPOL_F_STATIC_NODES, priv);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(NR_PAGES, s->on_private);
}

/*
 * Two private nodes in one mask: the test driver's node and a second one
 * (the foreign range on a spare node) whose owner set no ops. Without the
 * flag on the first node either, a mask of the two is refused in every
 * mode. With it, the second node is dropped from the policy, as a node
 * the task cannot use, and gets no page, while the opted-in node, in the
 * same calls, stays in the policy and gets the pages (the control). A
 * mask that names only the second node is refused.
 */
TEST_F_TIMEOUT(mpol, two_private_nodes_one_mask, 300)
{
	static const int modes[] = {
		MPOL_BIND, MPOL_PREFERRED_MANY, MPOL_INTERLEAVE,
		MPOL_WEIGHTED_INTERLEAVE,
	};
	unsigned long priv, second, dram;
	struct seen *s = self->seen;
	char nid[16];
	unsigned int i;
	int ret;

	ret = pnt_spare_nid(&self->cfg);
	if (ret < 0 || pnt_range_state("second") < 0)
		SKIP(return, "no spare node or no second range");
	snprintf(nid, sizeof(nid), "%d", ret);
	ASSERT_EQ(0, pnt_range_write("second", nid));
	self->second = ret;
	ASSERT_EQ(1, nodelist_has("has_private_memory", self->second));
	priv = 1UL << self->private;
	second = 1UL << self->second;
	dram = 1UL << self->dram;

	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		child_policy(_metadata, self, modes[i], priv | second);
		EXPECT_EQ(EINVAL, s->err) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(MPOL_DEFAULT, s->mode) TH_LOG("mode %d", modes[i]);
	}

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		child_policy(_metadata, self, modes[i], priv | second);
		ASSERT_EQ(0, s->err) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(priv, s->nodes) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(0, s->on_second) TH_LOG("mode %d", modes[i]);
		EXPECT_EQ(NR_PAGES, s->on_private) TH_LOG("mode %d", modes[i]);
	}
	child_policy(_metadata, self, MPOL_INTERLEAVE, priv | second | dram);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(priv | dram, s->nodes);
	EXPECT_EQ(0, s->on_second);
	EXPECT_LT(0, s->on_private);
	EXPECT_LT(0, s->on_dram);
	EXPECT_EQ(NR_PAGES, s->on_private + s->on_dram);
	child_policy(_metadata, self, MPOL_PREFERRED, second);
	EXPECT_EQ(EINVAL, s->err);
	EXPECT_EQ(MPOL_DEFAULT, s->mode);
	child_policy(_metadata, self, MPOL_PREFERRED, priv);
	ASSERT_EQ(0, s->err);
	EXPECT_EQ(NR_PAGES, s->on_private);
}

/*
 * mbind() of a mapping on DRAM to the private node with MPOL_MF_MOVE:
 * refused without the flag, nothing moves; with it the pages move there
 * with their data and the owner hears of each, new faults in the range
 * land there, and an unbound mapping of the same task stays on DRAM.
 */
TEST_F_TIMEOUT(mpol, mbind_moves_and_binds, 300)
{
	unsigned long priv = 1UL << self->private;
	size_t len = NR_PAGES * psize();
	struct pnt_counters c;
	char *buf, *other;
	int half;
	size_t i;

	for (half = 0; half < 2; half++) {
		buf = mmap(NULL, 2 * len, PROT_READ | PROT_WRITE,
			   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, buf);
		madvise(buf, 2 * len, MADV_NOHUGEPAGE);
		memset(buf, 0x5a, len);
		ASSERT_TRUE(pages_all_on(buf, len, self->dram));
		ASSERT_EQ(0, pnt_counters_reset());
		errno = 0;
		if (!half) {
			EXPECT_EQ(-1, mbind(buf, 2 * len, MPOL_BIND, &priv,
					    MASK_MAXNODE, MPOL_MF_MOVE));
			EXPECT_EQ(EINVAL, errno);
			EXPECT_TRUE(pages_all_on(buf, len, self->dram));
			touch_pages(buf + len, len);
			EXPECT_EQ(0, pages_on_node(buf + len, len,
						   self->private));
		} else {
			EXPECT_EQ(0, mbind(buf, 2 * len, MPOL_BIND, &priv,
					   MASK_MAXNODE, MPOL_MF_MOVE));
			EXPECT_TRUE(pages_all_on(buf, len, self->private));
			ASSERT_EQ(0, pnt_counters_read(&c));
			EXPECT_EQ(NR_PAGES, c.migrate_in);
			EXPECT_EQ(0, c.migrate_bad);
			touch_pages(buf + len, len);
			EXPECT_TRUE(pages_all_on(buf + len, len,
						 self->private));
		}
		for (i = 0; i < len; i++)
			if (buf[i] != 0x5a)
				break;
		EXPECT_EQ(len, i);
		/* malloc()ed memory never lands there. */
		other = mmap(NULL, len, PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ASSERT_NE(MAP_FAILED, other);
		touch_pages(other, len);
		EXPECT_EQ(0, pages_on_node(other, len, self->private));
		munmap(other, len);
		munmap(buf, 2 * len);
		if (!half)
			ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	}
}

/* A child of a bound task inherits the policy, and allocates there. */
TEST_F_TIMEOUT(mpol, fork_inherits, 300)
{
	unsigned long priv = 1UL << self->private;
	struct seen *s = self->seen;
	int half, status;
	pid_t pid;

	for (half = 0; half < 2; half++) {
		memset(s, 0, sizeof(*s));
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			s->err = set_mempolicy(MPOL_BIND, &priv, MASK_MAXNODE) ?
				 errno : 0;
			pid = fork();
			if (pid == 0) {
				record_policy(s);
				place_anon(s, NR_PAGES * psize(),
					   self->private, self->dram,
					   self->second);
				_exit(0);
			}
			_exit(pid < 0 || waitpid(pid, &status, 0) != pid ||
			      !WIFEXITED(status) || WEXITSTATUS(status));
		}
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_EQ(0, WEXITSTATUS(status));
		if (!half) {
			EXPECT_EQ(EINVAL, s->err);
			EXPECT_EQ(MPOL_DEFAULT, s->mode);
			EXPECT_EQ(0, s->on_private);
			ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
		} else {
			EXPECT_EQ(0, s->err);
			EXPECT_EQ(MPOL_BIND, s->mode);
			EXPECT_EQ(NR_PAGES, s->on_private);
		}
	}
}

/*
 * tmpfs -o mpol=bind:<private>: refused without the flag; with it the
 * file's pages land on the private node.
 */
TEST_F_TIMEOUT(mpol, tmpfs_mpol, 300)
{
	size_t len = NR_PAGES * psize();
	char opts[64], mnt[64], path[96];
	char *p;
	int fd;

	snprintf(opts, sizeof(opts), "mpol=bind:%d", self->private);
	EXPECT_EQ(-EINVAL, tmp_mount("tmpfs", opts, mnt, sizeof(mnt)));

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	ASSERT_EQ(0, tmp_mount("tmpfs", opts, mnt, sizeof(mnt)));
	snprintf(path, sizeof(path), "%s/data", mnt);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, ftruncate(fd, len));
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	touch_pages(p, len);
	EXPECT_TRUE(pages_all_on(p, len, self->private));
	munmap(p, len);
	close(fd);
	tmp_umount(mnt);
}

/*
 * Page cache is not user memory a policy may place: under BIND to the
 * private node, a file written on ramfs stays on DRAM, while anonymous
 * memory of the same task lands on the node. The control is BIND to the
 * control node (ordinary memory), where the page cache does follow.
 */
static void page_cache_child(struct __test_metadata *_metadata,
			     FIXTURE_DATA(mpol) *self, int nid, long *on_nid,
			     long *anon_on_nid)
{
	size_t len = NR_PAGES * psize();
	unsigned long mask = 1UL << nid;
	struct seen *s = self->seen;
	char mnt[64], path[96];
	int status, fd;
	pid_t pid;
	char *p;

	ASSERT_EQ(0, tmp_mount("ramfs", NULL, mnt, sizeof(mnt)));
	snprintf(path, sizeof(path), "%s/data", mnt);
	memset(s, 0, sizeof(*s));
	s->on_private = -1;
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (set_mempolicy(MPOL_BIND, &mask, MASK_MAXNODE))
			_exit(1);
		fd = open(path, O_RDWR | O_CREAT, 0600);
		if (fd < 0)
			_exit(2);
		p = malloc(len);
		if (!p)
			_exit(3);
		memset(p, 0x5a, len);
		if (write(fd, p, len) != (ssize_t)len)
			_exit(4);
		close(fd);
		place_anon(s, len, nid, self->dram, self->second);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	*anon_on_nid = s->on_private;

	fd = open(path, O_RDWR);
	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* Map the cached pages (no new ones: the file has them all). */
	touch_pages(p, len);
	*on_nid = pages_on_node(p, len, nid);
	munmap(p, len);
	close(fd);
	tmp_umount(mnt);
}

TEST_F_TIMEOUT(mpol, page_cache_stays_ordinary, 300)
{
	long cache, anon;
	int ret;

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	if (pnt_range_state("control") == -ENOENT)
		SKIP(return, "the driver has no control range");
	ASSERT_EQ(0, pnt_range_ensure("control", true));
	page_cache_child(_metadata, self, self->cfg.control_nid, &cache,
			 &anon);
	EXPECT_EQ(NR_PAGES, cache);
	EXPECT_EQ(NR_PAGES, anon);
	ret = pnt_range_write("control", "remove");
	if (ret)
		TH_LOG("control range stays online: remove gave %d", ret);

	page_cache_child(_metadata, self, self->private, &cache, &anon);
	EXPECT_EQ(0, cache);
	EXPECT_EQ(NR_PAGES, anon);
}

/*
 * The cover letter's TL;DR (--pnt-tldr, see lib.h): mbind() and fault
 * onto the node, malloc() never lands there, move_pages() onto it. Without
 * the flag the first and last fail; with it all three hold.
 */
TEST_F_TIMEOUT(mpol, tldr, 300)
{
	char exe[4096], nid[16], out[1024];
	char *argv[] = { exe, "--pnt-tldr", nid, NULL };
	int status;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(nid, sizeof(nid), "%d", self->private);
	status = run_capture(argv, out, sizeof(out));
	TH_LOG("np_ops 0:\n%s", out);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(out, "malloc(256 MiB), written: 0 of"));

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	status = run_capture(argv, out, sizeof(out));
	TH_LOG("np_ops MIGRATION|MEMPOLICY:\n%s", out);
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * numactl --membind=<private> runs a program whose memory lands on the
 * node once the owner opted in; without the flag numactl refuses.
 */
TEST_F_TIMEOUT(mpol, numactl_membind, 300)
{
	char exe[4096], arg[32], nid[16], bytes[32], out[256];
	char *argv[] = { "numactl", arg, exe, "--pnt-hog", bytes, nid, NULL };
	long on = -1, pages = -1;
	int half, status;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(arg, sizeof(arg), "--membind=%d", self->private);
	snprintf(nid, sizeof(nid), "%d", self->private);
	snprintf(bytes, sizeof(bytes), "%zu", (size_t)NR_PAGES * psize());
	for (half = 0; half < 2; half++) {
		status = run_capture(argv, out, sizeof(out));
		ASSERT_LE(0, status);
		TH_LOG("np_ops %s: numactl %s: status 0x%x: %s",
		       half ? "MIGRATION|MEMPOLICY" : "0", arg, status, out);
		ASSERT_TRUE(WIFEXITED(status));
		ASSERT_NE(127, WEXITSTATUS(status)) TH_LOG("numactl not found");
		if (!half) {
			EXPECT_NE(0, WEXITSTATUS(status));
			ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
			continue;
		}
		EXPECT_EQ(0, WEXITSTATUS(status));
		ASSERT_EQ(2, sscanf(out, "%ld %ld", &on, &pages));
		EXPECT_EQ(NR_PAGES, pages);
		EXPECT_EQ(NR_PAGES, on);
	}
}

/*
 * The owner withdraws the flag while a task is bound to its node: the
 * task keeps its policy, but new memory goes to DRAM instead of failing
 * (no OOM kill). The pages it had there leave with the range (MIGRATION).
 */
TEST_F_TIMEOUT(mpol, withdrawn_flag_falls_back, 300)
{
	unsigned long priv = 1UL << self->private;
	struct seen *s = self->seen;
	int to_child[2], to_parent[2], status;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	memset(s, 0, sizeof(*s));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(to_child[1]);
		close(to_parent[0]);
		if (set_mempolicy(MPOL_BIND, &priv, MASK_MAXNODE))
			_exit(1);
		place_anon(s, NR_PAGES * psize(), self->private, self->dram,
			   self->second);
		if (s->on_private != NR_PAGES)
			_exit(3);
		/* Tell the parent, wait for the owner to withdraw. */
		if (write(to_parent[1], &c, 1) != 1 ||
		    read(to_child[0], &c, 1) != 1)
			_exit(4);
		record_policy(s);
		place_anon(s, NR_PAGES * psize(), self->private, self->dram,
			   self->second);
		_exit(0);
	}
	close(to_child[0]);
	close(to_parent[1]);
	ASSERT_EQ(1, read(to_parent[0], &c, 1));
	ASSERT_EQ(0, pnt_private_with_ops(0));
	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	close(to_child[1]);
	close(to_parent[0]);
	ASSERT_TRUE(WIFEXITED(status)) TH_LOG("status 0x%x", status);
	ASSERT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(MPOL_BIND, s->mode);
	EXPECT_EQ(priv, s->nodes);
	EXPECT_EQ(0, s->on_private);
	EXPECT_EQ(NR_PAGES, s->on_dram);
}

/*
 * A cpuset rebind (the task moves to a cpuset with other mems) keeps the
 * private node of a STATIC policy while its owner allows it. The control
 * is a STATIC policy on a DRAM node outside the new mems: it is rebound
 * to them.
 */
TEST_F_TIMEOUT(mpol, cpuset_rebind_keeps_the_node, 300)
{
	unsigned long mems;
	struct seen *s = self->seen;
	int other, half;
	char val[32];

	ASSERT_EQ(0, nodelist_mask("has_memory", &mems));
	mems &= ~(1UL << self->dram);
	if (!mems)
		SKIP(return, "needs two DRAM nodes");
	other = __builtin_ctzl(mems);
	if (access(CGROUP "/cgroup.subtree_control", W_OK) ||
	    write_text(CGROUP "/cgroup.subtree_control", "+cpuset"))
		SKIP(return, "no cgroup v2 cpuset controller");
	ASSERT_EQ(0, pnt_private_with_ops(OPTED_IN));
	if (mkdir(REBIND_CG, 0755))
		ASSERT_EQ(EEXIST, errno);
	snprintf(val, sizeof(val), "%d", self->dram);
	ASSERT_EQ(0, write_text(REBIND_CG "/cpuset.mems", val));

	for (half = 0; half < 2; half++) {
		/* First the control, on the other DRAM node; then private. */
		unsigned long mask = 1UL << (half ? self->private : other);

		child_policy_in(_metadata, self,
				MPOL_BIND | MPOL_F_STATIC_NODES, mask,
				REBIND_CG "/cgroup.procs");
		ASSERT_EQ(0, s->err);
		/* A STATIC policy reads back as set: judge by placement. */
		EXPECT_EQ(MPOL_BIND | MPOL_F_STATIC_NODES, s->mode);
		EXPECT_EQ(mask, s->nodes);
		if (!half) {
			EXPECT_EQ(NR_PAGES, s->on_dram);
		} else {
			EXPECT_EQ(NR_PAGES, s->on_private);
		}
	}
	EXPECT_EQ(0, rmdir(REBIND_CG));
}

PNT_HARNESS_MAIN
