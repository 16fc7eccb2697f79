// SPDX-License-Identifier: GPL-2.0
/*
 * Pages mapped from /dev/private_node_test come from the private node,
 * hold their data, and go back to the node when unmapped; an owner's
 * allocation on a node it emptied fails instead of sleeping.
 */
#include "../kselftest_harness.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"
#define NR_PAGES	4096	/* 16 MiB */
/* Settling the node counters can take seconds without vm.stat_refresh. */

FIXTURE(mmap) {
	struct pnt_config cfg;
	int nid;
	int fd;
	size_t len;
	long base_free;
};

FIXTURE_SETUP(mmap)
{
	self->fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	ASSERT_EQ(0, pnt_range_ensure("private", true));
	self->nid = self->cfg.private_nid;
	self->len = NR_PAGES * psize();
	self->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
	self->base_free = node_free_settled_kb(self->nid, -1);
	ASSERT_LT(0, self->base_free);
}

#define DRAIN		"/sys/kernel/debug/private_node_test/drain"

FIXTURE_TEARDOWN(mmap)
{
	if (self->fd >= 0)
		close(self->fd);
	/* Whatever a failed test left drained. */
	write_text(DRAIN, "release");
}

static void *map_dev(int fd, size_t len)
{
	return mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
}

/* Every word of every page says which page it is and which pass wrote it. */
static void fill(void *p, size_t len, unsigned long seed)
{
	unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = seed ^ (i * 0x9e3779b97f4a7c15UL);
}

static bool check(const void *p, size_t len, unsigned long seed)
{
	const unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i] != (seed ^ (i * 0x9e3779b97f4a7c15UL)))
			return false;
	return true;
}

TEST_F_TIMEOUT(mmap, pages_on_private_node, 300)
{
	long free;
	void *p;

	p = map_dev(self->fd, self->len);
	ASSERT_NE(MAP_FAILED, p);
	fill(p, self->len, 1);
	EXPECT_EQ(NR_PAGES, pages_on_node(p, self->len, self->nid));
	EXPECT_TRUE(check(p, self->len, 1));

	/* The node's own counters see the allocation. */
	free = node_free_settled_kb(self->nid, -1);
	EXPECT_LE((long)(self->len / KIB), self->base_free - free);

	ASSERT_EQ(0, munmap(p, self->len));
	EXPECT_EQ(self->base_free, node_free_settled_kb(self->nid, self->base_free));
}

/*
 * The data survives a trip through the kernel both ways: write() copies
 * it out of the private pages into a memfd, read() copies it back in.
 */
TEST_F_TIMEOUT(mmap, content_round_trip, 300)
{
	char *p, *copy;
	int mfd;

	p = map_dev(self->fd, self->len);
	ASSERT_NE(MAP_FAILED, p);
	copy = malloc(self->len);
	ASSERT_NE(NULL, copy);
	mfd = memfd_create("pnt", 0);
	ASSERT_LE(0, mfd);

	fill(p, self->len, 2);
	ASSERT_EQ((ssize_t)self->len, write(mfd, p, self->len));
	ASSERT_EQ((ssize_t)self->len, pread(mfd, copy, self->len, 0));
	EXPECT_TRUE(check(copy, self->len, 2));

	fill(copy, self->len, 3);
	ASSERT_EQ((ssize_t)self->len, pwrite(mfd, copy, self->len, 0));
	ASSERT_EQ((ssize_t)self->len, pread(mfd, p, self->len, 0));
	EXPECT_TRUE(check(p, self->len, 3));
	EXPECT_TRUE(pages_all_on(p, self->len, self->nid));

	close(mfd);
	free(copy);
	ASSERT_EQ(0, munmap(p, self->len));
	EXPECT_EQ(self->base_free, node_free_settled_kb(self->nid, self->base_free));
}

/* Partial unmaps free exactly the pages they cover. */
TEST_F_TIMEOUT(mmap, partial_munmap, 300)
{
	size_t half = self->len / 2;
	char *p;

	p = map_dev(self->fd, self->len);
	ASSERT_NE(MAP_FAILED, p);
	touch_pages(p, self->len);
	ASSERT_EQ(0, munmap(p, half));
	EXPECT_TRUE(pages_all_on(p + half, self->len - half, self->nid));
	ASSERT_EQ(0, munmap(p + half, self->len - half));
	EXPECT_EQ(self->base_free, node_free_settled_kb(self->nid, self->base_free));
}

/* No private node, no pages: the fault gives SIGBUS, nothing else. */
TEST_F_TIMEOUT(mmap, sigbus_when_offline, 300)
{
	int status;
	pid_t pid;
	void *p;

	ASSERT_EQ(0, pnt_range_write("private", "remove"));
	p = map_dev(self->fd, psize());
	ASSERT_NE(MAP_FAILED, p);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		*(volatile char *)p = 1;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status));
	if (WIFSIGNALED(status)) {
		EXPECT_EQ(SIGBUS, WTERMSIG(status));
	}
	munmap(p, psize());
	EXPECT_EQ(0, pnt_range_write("private", "add"));
}

/*
 * Fault one page of the device in a child and wait for it, at most
 * @timeout_s seconds: its wait status, or -ETIMEDOUT once it had to be
 * killed.
 */
static int fault_in_child(int fd, int timeout_s)
{
	struct pollfd pfd = { .events = POLLIN };
	int status, pidfd, ready;
	pid_t pid;
	void *p;

	p = map_dev(fd, psize());
	if (p == MAP_FAILED)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		signal(SIGBUS, SIG_DFL);
		*(volatile char *)p = 1;
		_exit(0);
	}
	pidfd = syscall(SYS_pidfd_open, pid, 0);
	if (pidfd >= 0) {
		pfd.fd = pidfd;
		ready = poll(&pfd, 1, timeout_s * 1000);
		close(pidfd);
		if (ready == 0)
			kill(pid, SIGKILL);
	} else {
		ready = 1;	/* no pidfd: just wait */
	}
	waitpid(pid, &status, 0);
	munmap(p, psize());
	return ready == 0 ? -ETIMEDOUT : status;
}

#define THROTTLE_WAIT_S	60

/*
 * The owner's atomic allocations may take its node down to no free page
 * at all (the driver's "drain": GFP_NOWAIT | __GFP_MEMALLOC). Its next
 * sleeping allocation (a fault on the device, GFP_HIGHUSER) finds nothing
 * to take and nothing to reclaim, and must then fail (SIGBUS) rather than
 * wait in throttle_direct_reclaim() for a kswapd that private nodes do
 * not have. The control: with the pages given back, the same fault
 * succeeds.
 */
TEST_F_TIMEOUT(mmap, owner_allocation_not_throttled, 300)
{
	char buf[32];
	int status;

	ASSERT_EQ(0, write_text(DRAIN, "fill"));
	ASSERT_LT(0, read_text(DRAIN, buf, sizeof(buf)));
	vm_counters_fold();
	TH_LOG("drained %ld pages; node %d MemFree %ld kB", strtol(buf, NULL, 10),
	       self->nid, node_meminfo_kb(self->nid, "MemFree"));
	EXPECT_LT(0, strtol(buf, NULL, 10));

	status = fault_in_child(self->fd, THROTTLE_WAIT_S);
	EXPECT_NE(-ETIMEDOUT, status)
		TH_LOG("the fault slept %d s on the drained node", THROTTLE_WAIT_S);
	EXPECT_TRUE(status >= 0 && WIFSIGNALED(status) &&
		    WTERMSIG(status) == SIGBUS);

	ASSERT_EQ(0, write_text(DRAIN, "release"));
	status = fault_in_child(self->fd, THROTTLE_WAIT_S);
	EXPECT_TRUE(status >= 0 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0);
}

TEST_HARNESS_MAIN
