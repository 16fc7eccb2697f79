// SPDX-License-Identifier: GPL-2.0
/*
 * Under memory pressure, no ordinary allocation falls back onto a private
 * node: anonymous memory, THP, page cache, tmpfs, kernel objects, and a
 * task interleaving over "all" nodes.
 *
 * Pressure. The page allocator's fast path takes a page from the first
 * zone of the local zonelist that is above its low watermark; the lab's
 * SLIT puts the DIMM nodes (private and control, distance 30) after the
 * other DRAM node (20), so they are reached only once every DRAM node is
 * below its low watermark. Each DRAM node is therefore filled with
 * anonymous memory bound to it, to about FINAL_HEADROOM above its low
 * watermark and lowmem reserves (the "headroom", from /proc/zoneinfo).
 * The test then runs on one CPU of the first DRAM node and its workload
 * (32 MiB of memory, or 20000 inodes and dentries) exceeds what is left
 * above the low watermarks. The first allocation past the headroom finds
 * every DRAM zone below its low watermark, and a node further down the
 * zonelist takes it there and then, from the fast path: the control node
 * does, a leaking private node would. With no such node, the slow path
 * wakes kswapd and takes the rest from between the low and min
 * watermarks, which vm.watermark_scale_factor = 1000 puts a tenth of each
 * zone apart while a half runs: the workload fits there without reclaim.
 * DRAM holds nothing reclaimable (anonymous memory, no swap), so kswapd
 * cannot lift it back above its low watermarks and the control node keeps
 * taking the overflow. (Earlier versions gave DRAM a band of dentries to
 * reclaim: under KASAN the private half's direct reclaim then saw no
 * progress and went OOM, reclaimed dentries go into its quarantine, and in
 * the control half kswapd sometimes reclaimed the band fast enough that
 * the control node took nothing.)
 * Per-cpu free lists hold pages that MemFree does not count: auto-tuned,
 * up to an eighth of a zone per CPU (90 MiB here), and a workload of base
 * pages would be served from the last half's frees with no node's MemFree
 * moving. vm.percpu_pagelist_high_fraction = PCP_FRACTION caps them at
 * their minimum while a fixture runs, and the test keeps to one CPU from
 * the fills on, so that the fills take what is left on its lists.
 * Watermark boosting (vm.watermark_boost_factor) is off while a fixture
 * runs: a boost raises a node's watermarks by up to 1.5 times its high
 * watermark after the fill has measured them, and a node filled with
 * anonymous memory (the control range, when it cannot be removed) then
 * sits below its boosted min with nothing to reclaim, and a bound fill
 * goes OOM.
 *
 * Each test runs its workload twice, in two halves of the same test case:
 *   private  the target is the private node (the control range removed):
 *            its MemFree and MemUsed do not move and none of the
 *            workload's pages is on it.
 *   control  the target is the control range, hot-added as ordinary
 *            memory: pages of the workload land on it. This shows the
 *            pressure does reach a node that is not private, which is what
 *            gives the private half its meaning: the test passes only if
 *            both halves do. It runs second because kernel objects left on
 *            the control node can keep it from being removed.
 *
 * Two variants run each case: "dimm", the test driver's private node and
 * control range (the DIMMs), and "cxl", the lab's CXL region as a sysram
 * region, plugged "private" (no service) in the private half. For the
 * workloads of movable memory (anonymous memory, tmpfs, the interleaved
 * task) the control half plugs the same region as ordinary memory
 * ("online_movable"), so that the control is the same memory as the
 * private node, and the DIMM control range is removed for both halves.
 * In that control half the overflow lands on CXL memory, which TCG
 * emulates as I/O (about 1.4 MiB/s written): about 25 MiB per case.
 * ramfs pages and kernel objects are not movable: ZONE_MOVABLE would keep
 * them out of a private node whatever it is, so their private half plugs
 * the region "private_kernel", a kernel zone. Their control half is the
 * DIMM control range: an ordinary CXL node in a kernel zone takes the
 * node's own slab structures in its first memory block, and could never
 * be unplugged again. The control on the same region for them is
 * cxl_kernel_zone_test, this file built with ISOLATION_KERNEL_ZONE_LAST:
 * one case, variant "cxl_kernel", that runs both private halves and then
 * both control halves with the region plugged "online_kernel", which it
 * leaves plugged. It runs last.
 *
 * Huge pages need another kind of pressure, and have a fixture of their
 * own (thp_isolation); the hugetlb pool needs none (hugetlb, at the end).
 */
#include "../kselftest_harness.h"

#include <fcntl.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cxl_region.h"
#include "lib.h"

#define FINAL_HEADROOM_KB	(4 * 1024L)
#define WORKLOAD		(32 * MIB)
#define INTERLEAVE_BYTES	(24 * MIB)
#define NR_DIRS			200
#define FILES_PER_DIR		100
/* Least a control node must take of a kernel workload to count. */
#define CONTROL_MIN_KB		1024L
#define VM_SYSCTL		"/proc/sys/vm/"
#define BOOST_FACTOR		VM_SYSCTL "watermark_boost_factor"
/* Per-cpu free lists at their minimum, 4 batches. */
#define PCP_FRACTION		"1048576"
/* Low watermarks a tenth of a zone above min, for both halves. */
#define SCALE_FACTOR		"1000"

/* The node a test watches, and the ordinary nodes around it. */
struct target {
	int nid;		/* the private node, or the control range's */
	int local;		/* the first DRAM node with CPUs */
	unsigned long dram;	/* nodes with memory, but for the target */
	unsigned long cpus;	/* nodes with CPUs */
	long base_total;	/* MemTotal of the target, once added */
	long base_free;		/* and its MemFree */
};

FIXTURE(isolation) {
	struct pnt_config cfg;
	char region[CXL_NAME_LEN];	/* the cxl variant's region */
	struct target t;
	struct pressure fill[MASK_BITS];
	long pre_free;		/* target, once under pressure */
	void *map;		/* the workload's mapping, if any */
	size_t map_len;
	char mnt[64];		/* the workload's mount, if any */
	bool control;		/* this half's target is the control range */
	bool unmovable;		/* the case's workload is not movable */
	bool on_region;		/* this half's target is the CXL region */
	bool keep_online;	/* this half's target cannot be unplugged */
	bool active;		/* a half is set up */
	char boost[16];		/* vm.watermark_boost_factor to restore */
	char scale[16];		/* vm.watermark_scale_factor to restore */
	char pcp_fraction[16];	/* vm.percpu_pagelist_high_fraction */
};

static const char *range_name(bool control)
{
	return control ? "control" : "private";
}

FIXTURE_VARIANT(isolation) {
	bool cxl;	/* the target is the CXL region, not the DIMMs */
	bool kernel_zone; /* its control half: the region in a kernel zone */
};

#ifndef ISOLATION_KERNEL_ZONE_LAST
FIXTURE_VARIANT_ADD(isolation, dimm) {
	.cxl = false,
};

FIXTURE_VARIANT_ADD(isolation, cxl) {
	.cxl = true,
};
#else
FIXTURE_VARIANT_ADD(isolation, cxl_kernel) {
	.cxl = true,
	.kernel_zone = true,
};
#endif

/*
 * The CXL region's state for a half, or NULL when the half's target is
 * the DIMM control range (see the top).
 */
static const char *cxl_state(bool control, bool unmovable, bool kernel_zone)
{
	if (kernel_zone)
		return control ? "online_kernel" : "private_kernel";
	if (unmovable)
		return control ? NULL : "private_kernel";
	return control ? "online_movable" : "private";
}

/*
 * Bring the target online (the control range, or the private node with the
 * control range removed; with @region, that region plugged in @state) and
 * describe it in @t. Returns 0 when set up, a negative errno on failure.
 */
static int target_setup(const char *range, bool control, struct pnt_config *cfg,
			const char *region, const char *state, struct target *t)
{
	unsigned long mem;
	int ret;

	if (control && !region) {
		t->nid = cfg->control_nid;
	} else {
		/* An ordinary node without CPUs would soak up the fallback. */
		ret = pnt_range_ensure("control", false);
		if (ret && ret != -ENOENT)
			ksft_print_msg("control range stays online (%d): filled like DRAM\n",
				       ret);
		t->nid = cfg->private_nid;
	}
	if (region) {
		t->nid = cxl_sysram_node(region);
		ret = t->nid < 0 ? t->nid : cxl_sysram_set_state(region, state);
	} else {
		ret = pnt_range_ensure(range, true);
	}
	if (!ret)
		ret = nodelist_mask("has_memory", &mem);
	if (!ret)
		ret = nodelist_mask("has_cpu", &t->cpus);
	if (ret)
		return ret;
	t->dram = mem & ~(1UL << t->nid);
	if (!(t->dram & t->cpus))
		return -ENODEV;
	t->local = __builtin_ctzl(t->dram & t->cpus);
	t->base_total = node_meminfo_kb(t->nid, "MemTotal");
	t->base_free = node_free_settled_kb(t->nid, -1);
	return t->base_total > 0 && t->base_free > 0 ? 0 : -ENODATA;
}

/*
 * Set up one half: the target online, then the pressure. Every DRAM node
 * is refilled for each half.
 */
static void isolation_begin(struct __test_metadata *_metadata,
			    FIXTURE_DATA(isolation) *self,
			    const FIXTURE_VARIANT(isolation) *variant,
			    bool control)
{
	const char *state = NULL;
	long headroom, total = 0;
	unsigned long dram;
	int n;

	memset(&self->t, 0, sizeof(self->t));
	memset(self->fill, 0, sizeof(self->fill));
	self->map = NULL;
	self->mnt[0] = '\0';
	self->control = control;
	self->active = true;
	if (variant->cxl)
		state = cxl_state(control, self->unmovable,
				  variant->kernel_zone);
	self->on_region = state != NULL;
	self->keep_online = control && variant->kernel_zone;
	ASSERT_EQ(0, write_text(WMARK_SCALE, SCALE_FACTOR));
	ASSERT_EQ(0, target_setup(range_name(control), control, &self->cfg,
				  state ? self->region : NULL, state, &self->t));
	dram = self->t.dram;
	/* One CPU of the local node from here on (per-cpu lists, above). */
	ASSERT_EQ(0, pin_to_node(self->t.local));
	ASSERT_EQ(0, pin_to_this_cpu());

	/* The local node last: the others' page tables come from it. */
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(dram & (1UL << n)) || n == self->t.local)
			continue;
		ASSERT_EQ(0, pressure_fill(&self->fill[n], n, FINAL_HEADROOM_KB));
	}
	ASSERT_EQ(0, pressure_fill(&self->fill[self->t.local], self->t.local,
				   FINAL_HEADROOM_KB));
	/*
	 * The workload must find DRAM full. Memory can come back after the
	 * fill measured it (KASAN's quarantine, returned to the allocator
	 * as it shrinks, gave a node 60 MB once): take it with more anon.
	 */
	for (n = 0; n < (int)MASK_BITS; n++)
		if (dram & (1UL << n))
			ASSERT_EQ(0, pressure_topup(&self->fill[n], n,
						    FINAL_HEADROOM_KB));
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(dram & (1UL << n)))
			continue;
		headroom = node_headroom_kb(n);
		total += headroom;
		TH_LOG("node %d: %zu MiB of anon, %ld kB headroom, MemFree %ld kB",
		       n, self->fill[n].used / MIB, headroom,
		       node_meminfo_kb(n, "MemFree"));
	}
	/*
	 * The premise: the workload goes well past the low watermarks (the
	 * fills stop less than a huge page below FINAL_HEADROOM_KB, 3 nodes
	 * at most).
	 */
	ASSERT_GT(WORKLOAD * 3 / 4, (size_t)total * KIB);

	self->pre_free = node_free_settled_kb(self->t.nid,
					      control ? -1 : self->t.base_free);
	TH_LOG("%s half: target node %d: MemFree %ld kB, %ld kB before the pressure",
	       range_name(control), self->t.nid, self->pre_free,
	       self->t.base_free);
}

/* Undo a half: free the workload and the pressure, remove the target. */
static void isolation_end(struct __test_metadata *_metadata,
			  FIXTURE_DATA(isolation) *self)
{
	int n, ret;

	self->active = false;
	if (self->map)
		munmap(self->map, self->map_len);
	self->map = NULL;
	if (self->mnt[0])
		tmp_umount(self->mnt);
	self->mnt[0] = '\0';
	for (n = 0; n < (int)MASK_BITS; n++)
		pressure_release(&self->fill[n]);
	drop_slab_caches();
	if (self->keep_online)
		return;	/* the node's own slab is in it: see the top */
	if (self->on_region)
		ret = cxl_sysram_set_state(self->region, "unplugged");
	else
		ret = pnt_range_write(range_name(self->control), "remove");
	if (ret && self->control) {
		TH_LOG("control range stays online: remove gave %d", ret);
	} else {
		/* Nothing may pin a private node but its owner. */
		EXPECT_EQ(0, ret);
	}
}

FIXTURE_SETUP(isolation)
{
	self->region[0] = '\0';
	self->active = false;
	self->unmovable = false;
	self->on_region = false;
	self->keep_online = false;
	self->boost[0] = '\0';
	self->scale[0] = '\0';
	self->pcp_fraction[0] = '\0';
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	ASSERT_NE(-ENOENT, pnt_range_state("control"))
		TH_LOG("the driver has no control range");
	ASSERT_LE(0, read_text(BOOST_FACTOR, self->boost, sizeof(self->boost)));
	ASSERT_EQ(0, write_text(BOOST_FACTOR, "0"));
	ASSERT_LE(0, read_text(WMARK_SCALE, self->scale, sizeof(self->scale)));
	ASSERT_LE(0, read_text(VM_SYSCTL "percpu_pagelist_high_fraction",
			       self->pcp_fraction, sizeof(self->pcp_fraction)));
	ASSERT_EQ(0, write_text(VM_SYSCTL "percpu_pagelist_high_fraction",
				PCP_FRACTION));
	if (variant->cxl) {
		ASSERT_EQ(0, cxl_region_create_sysfs(self->region,
						     sizeof(self->region),
						     cxl_ram_size(), "sysram",
						     true));
		ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	}
}

FIXTURE_TEARDOWN(isolation)
{
	if (self->active)
		isolation_end(_metadata, self);
	if (self->region[0] && !variant->kernel_zone &&
	    cxl_region_destroy_sysfs(self->region))
		TH_LOG("%s stays: its memory is still plugged", self->region);
	if (self->boost[0])
		write_text(BOOST_FACTOR, self->boost);
	if (self->scale[0])
		write_text(WMARK_SCALE, self->scale);
	if (self->pcp_fraction[0])
		write_text(VM_SYSCTL "percpu_pagelist_high_fraction",
			   self->pcp_fraction);
}

/* A workload that judges the target itself (check_target()). */
typedef void (*workload_fn)(struct __test_metadata *_metadata,
			    FIXTURE_DATA(isolation) *self);

/* The private half, then the control half, of one test case. */
static void run_halves(struct __test_metadata *_metadata,
		       FIXTURE_DATA(isolation) *self,
		       const FIXTURE_VARIANT(isolation) *variant,
		       workload_fn workload)
{
	int control;

	for (control = 0; control <= 1; control++) {
		isolation_begin(_metadata, self, variant, control);
		workload(_metadata, self);
		isolation_end(_metadata, self);
	}
}

/*
 * Judge the target node with the workload's memory still held.
 * @on_target: pages of the workload's mapping found on the target, or -1
 * for a workload that has no mapping to look at (kernel objects).
 */
static void check_target(struct __test_metadata *_metadata,
			 FIXTURE_DATA(isolation) *self, long on_target)
{
	long free;
	int n;

	/* For the log: where each node ended against its low watermark. */
	for (n = 0; n < (int)MASK_BITS; n++)
		if ((self->t.dram | 1UL << self->t.nid) & (1UL << n))
			TH_LOG("node %d: %ld kB headroom, MemFree %ld kB after the workload",
			       n, node_headroom_kb(n), node_meminfo_kb(n, "MemFree"));
	if (self->control) {
		free = node_free_settled_kb(self->t.nid, -1);
		TH_LOG("control node %d: %ld kB taken, %ld workload pages on it",
		       self->t.nid, self->pre_free - free, on_target);
		if (on_target < 0) {
			EXPECT_LE(CONTROL_MIN_KB, self->pre_free - free);
		} else {
			EXPECT_LT(0, on_target);
		}
		return;
	}
	free = node_free_settled_kb(self->t.nid, self->t.base_free);
	EXPECT_EQ(self->t.base_total, node_meminfo_kb(self->t.nid, "MemTotal"));
	EXPECT_EQ(self->t.base_free, free);
	EXPECT_EQ(self->t.base_total - self->t.base_free,
		  node_meminfo_kb(self->t.nid, "MemUsed"));
	if (on_target >= 0) {
		EXPECT_EQ(0, on_target);
	}
}

static long map_and_count(struct __test_metadata *_metadata,
			  FIXTURE_DATA(isolation) *self, int advice)
{
	char *p;
	long on;

	/* 2 MiB aligned so that MADV_HUGEPAGE can give whole huge pages. */
	self->map_len = WORKLOAD + HPAGE;
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (self->map == MAP_FAILED) {
		self->map = NULL;
		return -errno;
	}
	p = (char *)(((uintptr_t)self->map + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(p, WORKLOAD, advice))
		return -errno;
	touch_pages(p, WORKLOAD);
	on = pages_on_node(p, WORKLOAD, self->t.nid);
	TH_LOG("%ld of %lu pages on node %d", on, WORKLOAD / psize(),
	       self->t.nid);
	return on;
}

static void anon_workload(struct __test_metadata *_metadata,
			  FIXTURE_DATA(isolation) *self)
{
	long on = map_and_count(_metadata, self, MADV_NOHUGEPAGE);

	ASSERT_LE(0, on);
	check_target(_metadata, self, on);
}

TEST_F_TIMEOUT(isolation, anon, 1800)
{
	run_halves(_metadata, self, variant, anon_workload);
}

/* WORKLOAD bytes of file data on a fresh @fstype, mapped to look at. */
static long file_and_count(struct __test_metadata *_metadata,
			   FIXTURE_DATA(isolation) *self, const char *fstype)
{
	size_t chunk = MIB, done;
	char path[128], *buf;
	int fd, ret;
	long on;

	ret = tmp_mount(fstype, NULL, self->mnt, sizeof(self->mnt));
	if (ret) {
		self->mnt[0] = '\0';
		return ret;
	}
	snprintf(path, sizeof(path), "%s/data", self->mnt);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	buf = malloc(chunk);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	memset(buf, 0xa5, chunk);
	for (done = 0; done < WORKLOAD; done += chunk) {
		if (write(fd, buf, chunk) != (ssize_t)chunk) {
			ret = errno ? -errno : -EIO;
			free(buf);
			close(fd);
			return ret;
		}
	}
	free(buf);
	self->map_len = WORKLOAD;
	self->map = mmap(NULL, WORKLOAD, PROT_READ | PROT_WRITE, MAP_SHARED,
			 fd, 0);
	close(fd);
	if (self->map == MAP_FAILED) {
		self->map = NULL;
		return -errno;
	}
	/* Map the page cache pages the writes allocated. */
	touch_pages(self->map, WORKLOAD);
	on = pages_on_node(self->map, WORKLOAD, self->t.nid);
	TH_LOG("%s: %ld of %lu pages on node %d", fstype, on,
	       WORKLOAD / psize(), self->t.nid);
	return on;
}

static void ramfs_workload(struct __test_metadata *_metadata,
			   FIXTURE_DATA(isolation) *self)
{
	long on = file_and_count(_metadata, self, "ramfs");

	ASSERT_LE(0, on);
	check_target(_metadata, self, on);
}

TEST_F_TIMEOUT(isolation, ramfs_page_cache, 1800)
{
	self->unmovable = true;
	run_halves(_metadata, self, variant, ramfs_workload);
}

static void tmpfs_workload(struct __test_metadata *_metadata,
			   FIXTURE_DATA(isolation) *self)
{
	long on = file_and_count(_metadata, self, "tmpfs");

	ASSERT_LE(0, on);
	check_target(_metadata, self, on);
}

TEST_F_TIMEOUT(isolation, tmpfs, 1800)
{
	run_halves(_metadata, self, variant, tmpfs_workload);
}

/* Dentries and inodes: kernel allocations with no mapping to look at. */
static void kernel_objects_workload(struct __test_metadata *_metadata,
				    FIXTURE_DATA(isolation) *self)
{
	char path[128];
	int d, f, fd;

	ASSERT_EQ(0, tmp_mount("tmpfs", NULL, self->mnt, sizeof(self->mnt)));
	for (d = 0; d < NR_DIRS; d++) {
		snprintf(path, sizeof(path), "%s/d%d", self->mnt, d);
		ASSERT_EQ(0, mkdir(path, 0700));
		for (f = 0; f < FILES_PER_DIR; f++) {
			snprintf(path, sizeof(path), "%s/d%d/f%d", self->mnt, d, f);
			fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
			ASSERT_LE(0, fd);
			close(fd);
		}
	}
	TH_LOG("%d directories, %d files", NR_DIRS, NR_DIRS * FILES_PER_DIR);
	check_target(_metadata, self, -1);
}

TEST_F_TIMEOUT(isolation, kernel_objects, 2400)
{
	self->unmovable = true;
	run_halves(_metadata, self, variant, kernel_objects_workload);
}

#ifdef ISOLATION_KERNEL_ZONE_LAST
/*
 * ramfs pages and kernel objects, each private half and then each control
 * half, on the same CXL region: "private_kernel", then "online_kernel",
 * which stays plugged for good (see the top).
 */
TEST_F_TIMEOUT(isolation, unmovable_same_region, 3600)
{
	static const workload_fn workloads[] = {
		ramfs_workload, kernel_objects_workload,
	};
	int control, i;

	self->unmovable = true;
	for (control = 0; control <= 1; control++) {
		for (i = 0; i < 2; i++) {
			isolation_begin(_metadata, self, variant, control);
			workloads[i](_metadata, self);
			isolation_end(_metadata, self);
		}
	}
}
#endif

/*
 * A task under "numactl --interleave=all": "all" is the task's allowed
 * nodes, which must not include a private node. The task is this binary's
 * --pnt-hog helper: it reports how many of its pages are on the target
 * and holds them until we close its stdin.
 */
static void interleave_workload(struct __test_metadata *_metadata,
				FIXTURE_DATA(isolation) *self)
{
	char exe[4096], bytes[32], nid[16], line[128];
	long on = -1, total = -1;
	int in[2], out[2], status;
	FILE *f;
	pid_t pid;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(bytes, sizeof(bytes), "%lu", INTERLEAVE_BYTES);
	snprintf(nid, sizeof(nid), "%d", self->t.nid);
	ASSERT_EQ(0, pipe(in));
	ASSERT_EQ(0, pipe(out));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char *argv[] = { "numactl", "--interleave=all", exe,
				 "--pnt-hog", bytes, nid, NULL };

		dup2(in[0], 0);
		dup2(out[1], 1);
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	f = fdopen(out[0], "r");
	ASSERT_NE(NULL, f);
	if (fgets(line, sizeof(line), f))
		sscanf(line, "%ld %ld", &on, &total);
	fclose(f);
	if (on >= 0)
		check_target(_metadata, self, on);
	close(in[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("interleaved task: %ld of %ld pages on node %d, status 0x%x",
	       on, total, self->t.nid, status);
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(127, WEXITSTATUS(status)) TH_LOG("numactl not found");
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(0, on);
}

TEST_F_TIMEOUT(isolation, interleave_all, 1800)
{
	run_halves(_metadata, self, variant, interleave_workload);
}

/*
 * Huge pages. A THP fault first tries the local node alone, and only if
 * that fails, and the VMA allows direct reclaim (defrag "madvise" and
 * MADV_HUGEPAGE), retries along the whole zonelist (alloc_pages_mpol()):
 * that retry is where a leaking private node would be found. The pressure
 * of the isolation fixture cannot make the local attempt fail reliably
 * (reclaiming its dentries and compaction often serve it), so this fixture
 * takes every free huge page of the DRAM nodes away instead, and leaves
 * them free base pages only:
 *   1. fill the node with anonymous base pages down to THP_HEADROOM_KB
 *      above its watermarks and reserves (without swap they cannot be
 *      reclaimed);
 *   2. free every other page of the first 2 * THP_HOLES_KB of them: base
 *      pages that cannot merge into a huge one;
 *   3. take every huge page still free (the free memory below the
 *      watermark line holds whole ones, usable now that the holes lifted
 *      the free count above it) with THP faults, defrag "never", until one
 *      falls back.
 * No compaction may put the holes together again: vm.extfrag_threshold =
 * 1000 makes every huge page allocation that fails for fragmentation skip
 * it, and vm.compaction_proactiveness = 0 stops kcompactd's. The per-cpu
 * free lists are capped as in the isolation fixture. Then:
 *   control  the workload's THP faults fail locally and the retry finds
 *            huge pages on the control node: most of the workload is
 *            there, in THPs;
 *   private  the retry finds no other node, the faults fall back to base
 *            pages in the holes: none on the private node, its MemFree
 *            unchanged, no OOM.
 */
#define THP_DIR			"/sys/kernel/mm/transparent_hugepage"
#define THP_HEADROOM_KB		(4 * 1024L)
#define THP_HOLES_KB		(64 * 1024L)
#define THP_DRAIN_MAX		(256 * MIB)
#define THP_WORKLOAD		(32 * MIB)

/* A node's base pages (some freed again) and the THPs drained from it. */
struct frag {
	char *addr;
	size_t len;
	char *drain;
	size_t drain_len;
	long drained;		/* huge pages taken */
};

FIXTURE(thp_isolation) {
	struct pnt_config cfg;
	struct target t;
	struct frag frag[MASK_BITS];
	char *map;
	size_t map_len;
	char defrag[32];
	char extfrag[16];
	char proactiveness[16];
	char pcp_fraction[16];
	char boost[16];
	bool control;
	bool active;
};

/* The selected word of a choice file ("always [madvise] never"). */
static int read_choice(const char *path, char *buf, size_t len)
{
	char *sel, *end;
	int ret = read_text(path, buf, len);

	if (ret < 0)
		return ret;
	sel = strchr(buf, '[');
	end = sel ? strchr(sel, ']') : NULL;
	if (sel && end) {
		*end = '\0';
		memmove(buf, sel + 1, (size_t)(end - sel));
	} else {
		buf[strcspn(buf, "\n")] = '\0';
	}
	return 0;
}

/* @len bytes of anonymous memory bound to @nid, @advice given. */
static char *map_bound(size_t len, int nid, int advice)
{
	unsigned long mask = 1UL << nid;
	char *p;

	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	if (madvise(p, len, advice) ||
	    mbind(p, len, MPOL_BIND, &mask, MASK_MAXNODE, 0)) {
		munmap(p, len);
		return NULL;
	}
	return p;
}

/* Steps 1 and 2 of the fixture on @nid. */
static int frag_fill(struct frag *f, int nid)
{
	size_t psz = psize(), step = 16 * MIB, used = 0, off;
	long total = node_meminfo_kb(nid, "MemTotal"), h;

	if (total < 0)
		return (int)total;
	f->len = (size_t)total * KIB;
	f->addr = map_bound(f->len, nid, MADV_NOHUGEPAGE);
	if (!f->addr)
		return -errno;
	for (;;) {
		h = node_headroom_kb(nid);
		if (h < 0)
			return (int)h;
		if (h <= THP_HEADROOM_KB)
			break;
		if ((size_t)(h - THP_HEADROOM_KB) * KIB < step)
			step = (size_t)(h - THP_HEADROOM_KB) * KIB & ~(psz - 1);
		if (!step || used + step > f->len)
			break;
		touch_pages(f->addr + used, step);
		used += step;
	}
	if ((long)(used / KIB) < 2 * THP_HOLES_KB)
		return -ENOSPC;
	for (off = 0; off < 2 * THP_HOLES_KB * KIB; off += 2 * psz)
		if (madvise(f->addr + off, psz, MADV_DONTNEED))
			return -errno;
	return 0;
}

/* Step 3 on @nid: THP faults until one is served by a base page. */
static int frag_drain(struct frag *f, int nid)
{
	char *p;
	long thp;

	f->drain_len = THP_DRAIN_MAX + HPAGE;
	f->drain = map_bound(f->drain_len, nid, MADV_HUGEPAGE);
	if (!f->drain)
		return -errno;
	p = (char *)(((uintptr_t)f->drain + HPAGE - 1) & ~(HPAGE - 1));
	for (; f->drained < (long)(THP_DRAIN_MAX / HPAGE); f->drained++, p += HPAGE) {
		*p = 1;
		thp = pages_with_kpageflags(p, 1, KPF_THP);
		if (thp < 0)
			return (int)thp;
		if (!thp)
			return 0;
	}
	return -ENOSPC;
}

/* One half: the target online, every DRAM node fragmented and drained. */
static void thp_begin(struct __test_metadata *_metadata,
		      FIXTURE_DATA(thp_isolation) *self, bool control)
{
	unsigned long dram;
	int n;

	memset(&self->t, 0, sizeof(self->t));
	memset(self->frag, 0, sizeof(self->frag));
	self->map = NULL;
	self->control = control;
	self->active = true;
	ASSERT_EQ(0, target_setup(range_name(control), control, &self->cfg,
				  NULL, NULL, &self->t));
	dram = self->t.dram;

	ASSERT_EQ(0, write_text(THP_DIR "/defrag", "never"));
	drop_slab_caches();
	for (n = 0; n < (int)MASK_BITS; n++)
		if (dram & (1UL << n))
			ASSERT_EQ(0, frag_fill(&self->frag[n], n));
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(dram & (1UL << n)))
			continue;
		ASSERT_EQ(0, frag_drain(&self->frag[n], n));
		TH_LOG("node %d: %ld huge pages drained, %ld kB headroom, MemFree %ld kB",
		       n, self->frag[n].drained, node_headroom_kb(n),
		       node_meminfo_kb(n, "MemFree"));
	}
	ASSERT_EQ(0, write_text(THP_DIR "/defrag", "madvise"));
	ASSERT_EQ(0, pin_to_node(self->t.local));
}

static void thp_end(struct __test_metadata *_metadata,
		    FIXTURE_DATA(thp_isolation) *self)
{
	int n, ret;

	self->active = false;
	if (self->map)
		munmap(self->map, self->map_len);
	self->map = NULL;
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (self->frag[n].drain)
			munmap(self->frag[n].drain, self->frag[n].drain_len);
		if (self->frag[n].addr)
			munmap(self->frag[n].addr, self->frag[n].len);
	}
	memset(self->frag, 0, sizeof(self->frag));
	ret = pnt_range_write(range_name(self->control), "remove");
	if (ret && self->control)
		TH_LOG("control range stays online: remove gave %d", ret);
	else
		EXPECT_EQ(0, ret);
}

FIXTURE_SETUP(thp_isolation)
{
	self->active = false;
	if (access(THP_DIR "/defrag", F_OK))
		SKIP(return, "no transparent huge pages");
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	ASSERT_NE(-ENOENT, pnt_range_state("control"))
		TH_LOG("the driver has no control range");
	ASSERT_EQ(0, read_choice(THP_DIR "/defrag", self->defrag,
				 sizeof(self->defrag)));
	ASSERT_LE(0, read_text(VM_SYSCTL "extfrag_threshold",
			       self->extfrag, sizeof(self->extfrag)));
	ASSERT_LE(0, read_text(VM_SYSCTL "compaction_proactiveness",
			       self->proactiveness, sizeof(self->proactiveness)));
	ASSERT_EQ(0, write_text(VM_SYSCTL "extfrag_threshold", "1000"));
	ASSERT_LE(0, read_text(VM_SYSCTL "percpu_pagelist_high_fraction",
			       self->pcp_fraction, sizeof(self->pcp_fraction)));
	ASSERT_EQ(0, write_text(VM_SYSCTL "compaction_proactiveness", "0"));
	ASSERT_EQ(0, write_text(VM_SYSCTL "percpu_pagelist_high_fraction",
				PCP_FRACTION));
	/* As in the isolation fixture: the fills measure fixed watermarks. */
	ASSERT_LE(0, read_text(BOOST_FACTOR, self->boost, sizeof(self->boost)));
	ASSERT_EQ(0, write_text(BOOST_FACTOR, "0"));
}

FIXTURE_TEARDOWN(thp_isolation)
{
	if (self->active)
		thp_end(_metadata, self);
	if (self->defrag[0])
		write_text(THP_DIR "/defrag", self->defrag);
	if (self->extfrag[0])
		write_text(VM_SYSCTL "extfrag_threshold", self->extfrag);
	if (self->proactiveness[0])
		write_text(VM_SYSCTL "compaction_proactiveness", self->proactiveness);
	if (self->pcp_fraction[0])
		write_text(VM_SYSCTL "percpu_pagelist_high_fraction",
			   self->pcp_fraction);
	if (self->boost[0])
		write_text(BOOST_FACTOR, self->boost);
}

/* The workload's THP faults, judged for the half set up. */
static void thp_workload(struct __test_metadata *_metadata,
			 FIXTURE_DATA(thp_isolation) *self)
{
	size_t npages = THP_WORKLOAD / psize();
	long on, thp, now_free;
	char *p;

	self->map_len = THP_WORKLOAD + HPAGE;
	self->map = mmap(NULL, self->map_len, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map);
	p = (char *)(((uintptr_t)self->map + HPAGE - 1) & ~(HPAGE - 1));
	ASSERT_EQ(0, madvise(p, THP_WORKLOAD, MADV_HUGEPAGE));
	touch_pages(p, THP_WORKLOAD);
	on = pages_on_node(p, THP_WORKLOAD, self->t.nid);
	ASSERT_LE(0, on);
	thp = pages_with_kpageflags(p, npages, KPF_THP);
	TH_LOG("%s half: %ld of %zu pages on node %d; %ld pages in THPs",
	       range_name(self->control), on, npages, self->t.nid, thp);

	if (self->control) {
		/* Nearly all, but for the odd huge page reclaim made locally. */
		EXPECT_LE((long)npages / 2, on);
		EXPECT_LE((long)npages / 2, thp);
		return;
	}
	now_free = node_free_settled_kb(self->t.nid, self->t.base_free);
	EXPECT_EQ(self->t.base_total, node_meminfo_kb(self->t.nid, "MemTotal"));
	EXPECT_EQ(self->t.base_free, now_free);
	EXPECT_EQ(0, on);
}

TEST_F_TIMEOUT(thp_isolation, thp, 1800)
{
	int control;

	for (control = 0; control <= 1; control++) {
		thp_begin(_metadata, self, control);
		thp_workload(_metadata, self);
		thp_end(_metadata, self);
	}
}

/*
 * The hugetlb pool takes no private memory. A node's nr_hugepages
 * allocates on that node alone (__GFP_THISNODE), which for a private node
 * finds nothing it may use; the global nr_hugepages spreads the pool over
 * the ordinary nodes (N_MEMORY). The private half asks both of the private
 * node and must see no huge page there and its MemFree unchanged, while the
 * global pool does grow on DRAM; the control half asks the same of the
 * control node, hot-added as ordinary memory, and sees huge pages there.
 */
#define HUGE_KB			2048L
#define NR_HUGE_NODE		32
#define NR_HUGE_GLOBAL		384
#define NR_HUGEPAGES		"/proc/sys/vm/nr_hugepages"

/* A counter of @nid's 2 MiB pool, or -ENOENT without one. */
static long node_hugepages(int nid, const char *file)
{
	char path[160], buf[32];
	int ret;

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/%s",
		 nid, HUGE_KB, file);
	ret = read_text(path, buf, sizeof(buf));
	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

static int set_node_hugepages(int nid, long n)
{
	char path[160], val[32];

	snprintf(path, sizeof(path),
		 "/sys/devices/system/node/node%d/hugepages/hugepages-%ldkB/nr_hugepages",
		 nid, HUGE_KB);
	snprintf(val, sizeof(val), "%ld", n);
	return write_text(path, val);
}

static long global_hugepages(void)
{
	char buf[32];
	int ret = read_text(NR_HUGEPAGES, buf, sizeof(buf));

	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

static int set_global_hugepages(long n)
{
	char val[32];

	snprintf(val, sizeof(val), "%ld", n);
	return write_text(NR_HUGEPAGES, val);
}

FIXTURE(hugetlb) {
	struct pnt_config cfg;
	long saved;
};

FIXTURE_SETUP(hugetlb)
{
	self->saved = -1;
	if (access(NR_HUGEPAGES, F_OK))
		SKIP(return, "no hugetlbfs");
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	ASSERT_NE(-ENOENT, pnt_range_state("control"))
		TH_LOG("the driver has no control range");
	self->saved = global_hugepages();
	ASSERT_LE(0, self->saved);
}

FIXTURE_TEARDOWN(hugetlb)
{
	if (self->saved < 0)
		return;
	set_global_hugepages(self->saved);
	if (node_hugepages(self->cfg.control_nid, "nr_hugepages") > 0)
		set_node_hugepages(self->cfg.control_nid, 0);
	if (pnt_range_write("control", "remove"))
		TH_LOG("control range stays online");
	EXPECT_EQ(0, pnt_range_ensure("private", false));
}

TEST_F_TIMEOUT(hugetlb, pool, 900)
{
	int priv = self->cfg.private_nid, ctl = self->cfg.control_nid;
	long free, got;

	/*
	 * The private half: the private node online (the control range too,
	 * if it could not be removed: it takes its share of the pool).
	 */
	ASSERT_EQ(0, pnt_range_ensure("private", true));
	free = node_free_settled_kb(priv, -1);
	/* The node has the usual sysfs files; writing them gets nothing. */
	ASSERT_EQ(0, node_hugepages(priv, "nr_hugepages"));
	EXPECT_EQ(0, set_node_hugepages(priv, NR_HUGE_NODE));
	EXPECT_EQ(0, node_hugepages(priv, "nr_hugepages"));
	ASSERT_EQ(0, set_global_hugepages(self->saved + NR_HUGE_GLOBAL));
	got = global_hugepages();
	TH_LOG("private half: pool of %ld pages, %ld on node %d", got,
	       node_hugepages(priv, "nr_hugepages"), priv);
	EXPECT_LT(self->saved, got);
	EXPECT_EQ(0, node_hugepages(priv, "nr_hugepages"));
	EXPECT_EQ(0, node_hugepages(priv, "free_hugepages"));
	EXPECT_EQ(free, node_free_settled_kb(priv, free));
	ASSERT_EQ(0, set_global_hugepages(self->saved));

	/* The control half: the same calls on an ordinary node take effect. */
	ASSERT_EQ(0, pnt_range_ensure("control", true));
	ASSERT_EQ(0, set_node_hugepages(ctl, NR_HUGE_NODE));
	EXPECT_EQ(NR_HUGE_NODE, node_hugepages(ctl, "nr_hugepages"));
	ASSERT_EQ(0, set_node_hugepages(ctl, 0));
	ASSERT_EQ(0, set_global_hugepages(self->saved + NR_HUGE_GLOBAL));
	got = node_hugepages(ctl, "nr_hugepages");
	TH_LOG("control half: pool of %ld pages, %ld on node %d",
	       global_hugepages(), got, ctl);
	EXPECT_LT(0, got);
	ASSERT_EQ(0, set_global_hugepages(self->saved));
}

#ifdef ISOLATION_KERNEL_ZONE_LAST
/* cxl_kernel_zone_test: only its own case; the others are isolation_test's. */
int main(int argc, char **argv)
{
	char *args[] = { argv[0], "-r",
			 "isolation.cxl_kernel.unmovable_same_region", NULL };

	if (argc > 1 && !strncmp(argv[1], "--pnt-", 6))
		return pnt_helper_main(argc, argv);
	return test_harness_run(3, args);
}
#else
PNT_HARNESS_MAIN
#endif
