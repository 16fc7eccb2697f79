// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_PROTECT_WRITE: the owner of a private node keeps its anonymous
 * folios mapped read-only. Folios that migrate onto the node arrive
 * read-only, nothing makes them writable behind the owner, and a write
 * goes to the owner's handle_fault: the test driver's moves the folio to
 * DRAM, where the write lands.
 *
 * Each variant is one operation that can make a mapping writable (or
 * write to it): pages are moved onto the private node with move_pages(),
 * read, put through the operation, then written one byte per page. Every
 * test case runs this twice: first with the owner opted into
 * NP_OPS_MIGRATION alone, the control, where the operation makes the
 * pages writable in place as on any node (the writes take no fault, or
 * the one soft-dirty tracking wants, and no page leaves the node); then
 * with NP_OPS_PROTECT_WRITE too, where each folio's first write faults to
 * the owner exactly once, the folio ends up on DRAM, and the data is
 * intact. A test passes only if both halves do.
 */
#define _GNU_SOURCE
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <numaif.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define NR_PAGES	64

enum wp_op {
	OP_NONE,	/* just the arrival by migration */
	OP_MPROTECT,	/* PROT_READ, then PROT_READ | PROT_WRITE */
	OP_MREMAP,	/* move the mapping elsewhere */
	OP_UFFD_WP,	/* userfaultfd write-protect, then resolve it */
	OP_SOFT_DIRTY,	/* clear the soft-dirty bits (clear_refs 4) */
	OP_KSM_UNMERGE,	/* MADV_MERGEABLE, then MADV_UNMERGEABLE */
	OP_PROC_MEM,	/* write through /proc/self/mem */
	OP_PROC_MEM_RO,	/* the same into a PROT_READ mapping (FOLL_FORCE) */
	OP_FORK,	/* the child writes */
};

FIXTURE(write_protect) {
	struct pnt_config cfg;
	int private, dram;
	char *map;	/* what was mapped (THP: with room to align) */
	size_t map_len;
	char *buf;	/* the pages under test */
	size_t len;
	size_t folios;	/* folios in buf: one per page, or one THP */
	int uffd;
};

FIXTURE_VARIANT(write_protect) {
	enum wp_op op;
	bool thp;	/* one PMD-mapped THP instead of base pages */
};

FIXTURE_VARIANT_ADD(write_protect, arrival) {
	.op = OP_NONE,
};

FIXTURE_VARIANT_ADD(write_protect, mprotect) {
	.op = OP_MPROTECT,
};

FIXTURE_VARIANT_ADD(write_protect, mremap) {
	.op = OP_MREMAP,
};

FIXTURE_VARIANT_ADD(write_protect, uffd_wp) {
	.op = OP_UFFD_WP,
};

FIXTURE_VARIANT_ADD(write_protect, soft_dirty) {
	.op = OP_SOFT_DIRTY,
};

FIXTURE_VARIANT_ADD(write_protect, ksm_unmerge) {
	.op = OP_KSM_UNMERGE,
};

FIXTURE_VARIANT_ADD(write_protect, proc_mem) {
	.op = OP_PROC_MEM,
};

FIXTURE_VARIANT_ADD(write_protect, proc_mem_readonly) {
	.op = OP_PROC_MEM_RO,
};

FIXTURE_VARIANT_ADD(write_protect, fork) {
	.op = OP_FORK,
};

FIXTURE_VARIANT_ADD(write_protect, thp_mprotect) {
	.op = OP_MPROTECT,
	.thp = true,
};

static bool proc_mem_forces(void);

FIXTURE_SETUP(write_protect)
{
	unsigned long mem;
	int ret;

	self->map = MAP_FAILED;
	self->uffd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->private = self->cfg.private_nid;
	ret = pnt_private_with_ops(NP_OPS_MIGRATION | NP_OPS_PROTECT_WRITE);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_PROTECT_WRITE");
	ASSERT_EQ(0, ret);
	if (variant->op == OP_SOFT_DIRTY && !softdirty_supported())
		SKIP(return, "no soft-dirty tracking (CONFIG_MEM_SOFT_DIRTY)");
	if (variant->op == OP_PROC_MEM_RO && !proc_mem_forces())
		SKIP(return, "/proc/PID/mem does not force writes (CONFIG_PROC_MEM_ALWAYS_FORCE, proc_mem.force_override=always)");
	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	/* Fresh pages, and the owner's promotions, land on the DRAM node. */
	ASSERT_EQ(0, pin_to_node(self->dram));
	if (variant->thp) {
		self->len = read_pmd_pagesize();
		ASSERT_NE(0UL, self->len);
		self->folios = 1;
	} else {
		self->len = NR_PAGES * psize();
		self->folios = NR_PAGES;
	}
}

FIXTURE_TEARDOWN(write_protect)
{
	if (self->uffd >= 0)
		close(self->uffd);
	if (self->map != MAP_FAILED)
		munmap(self->map, self->map_len);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

static char pattern(size_t i)
{
	return (char)(i * 7 + i / psize());
}

/* The byte the write phase puts at the start of page @p. */
static char written(size_t p)
{
	return (char)(0xa5 ^ p);
}

/* Every byte as filled, or as written if @was_written. */
static bool buf_intact(const char *buf, size_t len, bool was_written)
{
	size_t i;

	for (i = 0; i < len; i++) {
		char want = pattern(i);

		if (was_written && !(i % psize()))
			want = written(i / psize());
		if (buf[i] != want)
			return false;
	}
	return true;
}

/* Write one byte per page; the minor faults it took. */
static long buf_write(char *buf, size_t len)
{
	long before = minor_faults();
	size_t p;

	for (p = 0; p < len / psize(); p++)
		((volatile char *)buf)[p * psize()] = written(p);
	return minor_faults() - before;
}

/* Read every page; the minor faults it took. */
static long buf_read(const char *buf, size_t len)
{
	long before = minor_faults();
	unsigned long sum = 0;
	size_t p;

	for (p = 0; p < len / psize(); p++)
		sum += ((const volatile char *)buf)[p * psize()];
	(void)sum;
	return minor_faults() - before;
}

/*
 * Map and fill the pages under test on the DRAM node, then move them onto
 * the private node: base pages one by one, a THP as a whole.
 */
static int buf_setup(FIXTURE_DATA(write_protect) *self, bool thp)
{
	size_t npages = self->len / psize(), i;
	int status[NR_PAGES], nodes[NR_PAGES];
	void *pages[NR_PAGES];
	long moved;

	if (self->map != MAP_FAILED)
		munmap(self->map, self->map_len);
	self->map_len = thp ? 2 * self->len : self->len;
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->map == MAP_FAILED)
		return -errno;
	self->buf = self->map;
	if (thp) {
		self->buf = (char *)(((uintptr_t)self->map + self->len - 1) &
				     ~(self->len - 1));
		if (madvise(self->buf, self->len, MADV_HUGEPAGE))
			return -errno;
	} else if (madvise(self->buf, self->len, MADV_NOHUGEPAGE)) {
		return -errno;
	}
	for (i = 0; i < self->len; i++)
		self->buf[i] = pattern(i);
	if (thp && pages_with_kpageflags(self->buf, npages, KPF_THP) !=
		   (long)npages)
		return -ENOMEM;
	for (i = 0; i < self->folios; i++) {
		pages[i] = self->buf + i * psize();
		nodes[i] = self->private;
		status[i] = -1;
	}
	if (move_pages(0, self->folios, pages, nodes, status, MPOL_MF_MOVE))
		return -errno;
	moved = pages_on_node(self->buf, self->len, self->private);
	return moved == (long)npages ? 0 : -EXDEV;
}

static int uffd_wp_and_resolve(FIXTURE_DATA(write_protect) *self)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_writeprotect wp = {
		.range = { .start = (uintptr_t)self->buf, .len = self->len },
	};

	if (self->uffd >= 0)
		close(self->uffd);
	self->uffd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (self->uffd < 0 || ioctl(self->uffd, UFFDIO_API, &api) ||
	    uffd_register(self->uffd, self->buf, self->len, false, true, false))
		return -errno;
	wp.mode = UFFDIO_WRITEPROTECT_MODE_WP;
	if (ioctl(self->uffd, UFFDIO_WRITEPROTECT, &wp))
		return -errno;
	wp.mode = 0;
	return ioctl(self->uffd, UFFDIO_WRITEPROTECT, &wp) ? -errno : 0;
}

/* Move the mapping of buf elsewhere (MREMAP_FIXED makes it move). */
static int buf_mremap(FIXTURE_DATA(write_protect) *self)
{
	char *dst, *moved;

	dst = mmap(NULL, self->len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (dst == MAP_FAILED)
		return -errno;
	moved = mremap(self->buf, self->len, self->len,
		       MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	if (moved == MAP_FAILED)
		return -errno;
	/* Only buf's own part of the old mapping went. */
	munmap(self->map, self->map_len);
	self->map = self->buf = moved;
	self->map_len = self->len;
	return 0;
}

static int run_op(FIXTURE_DATA(write_protect) *self, enum wp_op op)
{
	switch (op) {
	case OP_MPROTECT:
		if (mprotect(self->buf, self->len, PROT_READ))
			return -errno;
		return mprotect(self->buf, self->len,
				PROT_READ | PROT_WRITE) ? -errno : 0;
	case OP_MREMAP:
		return buf_mremap(self);
	case OP_UFFD_WP:
		return uffd_wp_and_resolve(self);
	case OP_SOFT_DIRTY:
		clear_softdirty();
		return 0;
	case OP_PROC_MEM_RO:
		return mprotect(self->buf, self->len, PROT_READ) ? -errno : 0;
	case OP_KSM_UNMERGE:
		if (madvise(self->buf, self->len, MADV_MERGEABLE))
			return -errno;
		return madvise(self->buf, self->len, MADV_UNMERGEABLE) ?
		       -errno : 0;
	default:
		return 0;
	}
}

/* Write one byte per page through /proc/self/mem, as a debugger would. */
static int buf_write_proc_mem(char *buf, size_t len)
{
	int fd = open("/proc/self/mem", O_RDWR);
	size_t p;
	char v;

	if (fd < 0)
		return -errno;
	for (p = 0; p < len / psize(); p++) {
		v = written(p);
		if (pwrite(fd, &v, 1, (off_t)(uintptr_t)(buf + p * psize())) != 1)
			break;
	}
	close(fd);
	return p == len / psize() ? 0 : -EIO;
}

/* Can this task write to its own read-only mapping through /proc/self/mem? */
static bool proc_mem_forces(void)
{
	char *p = mmap(NULL, psize(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	bool forces;

	if (p == MAP_FAILED)
		return false;
	p[0] = 1;
	forces = !mprotect(p, psize(), PROT_READ) &&
		 !buf_write_proc_mem(p, psize()) && p[0] == written(0);
	munmap(p, psize());
	return forces;
}

/* The child writes, checks what it sees, and exits 0 if all is right. */
static int buf_write_in_child(char *buf, size_t len)
{
	int status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		buf_write(buf, len);
		_exit(buf_intact(buf, len, true) ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -EIO;
}

struct wp_run {
	long read_faults;	/* minor faults reading every page */
	long write_faults;	/* minor faults of the writes (this task's) */
	long on_private;	/* pages still on the private node after */
	bool intact;		/* this task sees the data it should */
	struct pnt_counters c;
};

/* One pass of the scenario with the owner opted into @flags. */
static int wp_run(FIXTURE_DATA(write_protect) *self,
		  const FIXTURE_VARIANT(write_protect) *variant,
		  unsigned long flags, struct wp_run *r)
{
	bool parent_writes = variant->op != OP_FORK;
	int ret;

	memset(r, 0, sizeof(*r));
	ret = pnt_private_with_ops(flags);
	if (!ret)
		ret = buf_setup(self, variant->thp);
	if (!ret)
		ret = pnt_counters_reset();
	if (ret)
		return ret;
	r->read_faults = buf_read(self->buf, self->len);
	ret = run_op(self, variant->op);
	if (ret)
		return ret;
	if (variant->op == OP_PROC_MEM || variant->op == OP_PROC_MEM_RO)
		ret = buf_write_proc_mem(self->buf, self->len);
	else if (variant->op == OP_FORK)
		ret = buf_write_in_child(self->buf, self->len);
	else
		r->write_faults = buf_write(self->buf, self->len);
	if (ret)
		return ret;
	r->on_private = pages_on_node(self->buf, self->len, self->private);
	r->intact = buf_intact(self->buf, self->len, parent_writes);
	return pnt_counters_read(&r->c);
}

TEST_F_TIMEOUT(write_protect, first_write_goes_to_owner, 600)
{
	long npages = self->len / psize();
	struct wp_run r;

	/* Control: MIGRATION alone. The pages are writable where they are. */
	ASSERT_EQ(0, wp_run(self, variant, NP_OPS_MIGRATION, &r));
	EXPECT_EQ(0, r.read_faults);
	EXPECT_TRUE(r.intact);
	EXPECT_EQ(npages, r.on_private);
	EXPECT_EQ(0, r.c.write_faults);
	/* Writable in place: no fault, but the one soft-dirty tracking takes. */
	EXPECT_EQ(variant->op == OP_SOFT_DIRTY ? npages : 0, r.write_faults);

	/* PROTECT_WRITE: read-only; each folio's first write to the owner. */
	ASSERT_EQ(0, wp_run(self, variant,
			    NP_OPS_MIGRATION | NP_OPS_PROTECT_WRITE, &r));
	EXPECT_EQ(0, r.read_faults);
	EXPECT_TRUE(r.intact);
	EXPECT_EQ((long)self->folios, r.c.write_faults);
	EXPECT_EQ(variant->thp ? 1 : 0, r.c.write_faults_pmd);
	EXPECT_EQ(0, r.c.write_faults_bad);
	EXPECT_EQ(npages, r.c.promoted);
	EXPECT_EQ(0, r.c.promote_failed);
	EXPECT_EQ(0, r.on_private);
	/* This task's own writes fault at least once per folio. */
	if (variant->op != OP_FORK && variant->op != OP_PROC_MEM &&
	    variant->op != OP_PROC_MEM_RO) {
		EXPECT_LE((long)self->folios, r.write_faults);
	}
}

PNT_HARNESS_MAIN
