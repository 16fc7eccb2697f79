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
 * below its low watermark. Each DRAM node is therefore filled to about
 * FINAL_HEADROOM above its low watermark and lowmem reserves (the
 * "headroom", from /proc/zoneinfo): anonymous memory bound to the node
 * down to BAND_KB of headroom, then that band with negative dentries made
 * on the node's CPU. The test then runs on the CPU of the first DRAM node
 * and its workload (32 MiB of memory, or 20000 inodes and dentries)
 * exceeds what is left above the low watermarks:
 *   - a node in the zonelists gets the overflow from the fast path: the
 *     control node does, a leaking private node would;
 *   - with no such node the allocator reclaims the dentries and the
 *     workload fits: the private variant does not go OOM.
 * DRAM MemFree is then well under 64 MiB in all (two nodes).
 *
 * Variants, run in declaration order:
 *   private  the target is the private node (the control range removed):
 *            its MemFree and MemUsed do not move and none of the
 *            workload's pages is on it.
 *   control  the target is the control range, hot-added as ordinary
 *            memory: pages of the workload land on it. This shows the
 *            pressure does reach a node that is not private, which is what
 *            gives the private variant its meaning. It runs last because
 *            kernel objects left on the control node can keep it from
 *            being removed.
 */
#include "../kselftest_harness.h"

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib.h"

#define FINAL_HEADROOM_KB	(4 * 1024L)
#define BAND_KB			(24 * 1024L)	/* reclaimable, per node */
#define WORKLOAD		(32 * MIB)
#define INTERLEAVE_BYTES	(24 * MIB)
#define NR_DIRS			200
#define FILES_PER_DIR		100
#define HPAGE			(2 * MIB)
/* Least a control node must take of a kernel workload to count. */
#define CONTROL_MIN_KB		1024L

FIXTURE(isolation) {
	struct pnt_config cfg;
	int target;
	int local;
	struct pressure fill[MASK_BITS];
	long base_total;	/* target, once added */
	long base_free;
	long pre_free;		/* target, once under pressure */
	void *map;		/* the workload's mapping, if any */
	size_t map_len;
	char mnt[64];		/* the workload's mount, if any */
};

FIXTURE_VARIANT(isolation) {
	const char *range;
	bool control;
};

FIXTURE_VARIANT_ADD(isolation, private) {
	.range = "private",
	.control = false,
};

FIXTURE_VARIANT_ADD(isolation, control) {
	.range = "control",
	.control = true,
};

FIXTURE_SETUP(isolation)
{
	unsigned long mem, cpus, dram;
	long dentries;
	int n, ret;

	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	if (variant->control) {
		if (pnt_range_state("control") == -ENOENT)
			SKIP(return, "the driver has no control range");
		ASSERT_EQ(0, pnt_range_ensure("control", true));
		self->target = self->cfg.control_nid;
	} else {
		/* An ordinary node without CPUs would soak up the fallback. */
		ret = pnt_range_ensure("control", false);
		if (ret && ret != -ENOENT)
			TH_LOG("control range stays online (%d): filled like DRAM", ret);
		ASSERT_EQ(0, pnt_range_ensure("private", true));
		self->target = self->cfg.private_nid;
	}

	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	dram = mem & ~(1UL << self->target);
	ASSERT_NE(0UL, dram & cpus);
	self->local = __builtin_ctzl(dram & cpus);

	self->base_total = node_meminfo_kb(self->target, "MemTotal");
	ASSERT_LT(0, self->base_total);
	self->base_free = node_free_settled_kb(self->target, -1);
	ASSERT_LT(0, self->base_free);

	/*
	 * Anonymous memory first, the local node last (the others' page
	 * tables come from it). A node without CPUs (a control range that
	 * could not be removed) gets no dentries: fill it all with anon.
	 */
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(dram & (1UL << n)) || n == self->local)
			continue;
		ASSERT_EQ(0, pressure_fill(&self->fill[n], n, cpus & (1UL << n) ?
					   FINAL_HEADROOM_KB + BAND_KB :
					   FINAL_HEADROOM_KB));
	}
	ASSERT_EQ(0, pressure_fill(&self->fill[self->local], self->local,
				   FINAL_HEADROOM_KB + BAND_KB));
	/* Then the reclaimable band, on each node's own CPUs. */
	for (n = 0; n < (int)MASK_BITS; n++) {
		if (!(dram & cpus & (1UL << n)) || n == self->local)
			continue;
		dentries = dentry_fill(n, FINAL_HEADROOM_KB);
		ASSERT_LE(0, dentries);
		TH_LOG("node %d: %ld dentries", n, dentries);
	}
	dentries = dentry_fill(self->local, FINAL_HEADROOM_KB);
	ASSERT_LE(0, dentries);
	TH_LOG("node %d: %ld dentries", self->local, dentries);
	for (n = 0; n < (int)MASK_BITS; n++)
		if (dram & (1UL << n))
			TH_LOG("node %d: %zu MiB of anon, %ld kB headroom, MemFree %ld kB",
			       n, self->fill[n].used / MIB, node_headroom_kb(n),
			       node_meminfo_kb(n, "MemFree"));

	self->pre_free = node_free_settled_kb(self->target,
					      variant->control ? -1 : self->base_free);
	TH_LOG("target node %d: MemFree %ld kB, %ld kB before the pressure",
	       self->target, self->pre_free, self->base_free);
}

FIXTURE_TEARDOWN(isolation)
{
	int n, ret;

	if (self->map)
		munmap(self->map, self->map_len);
	if (self->mnt[0])
		tmp_umount(self->mnt);
	for (n = 0; n < (int)MASK_BITS; n++)
		pressure_release(&self->fill[n]);
	drop_slab_caches();
	ret = pnt_range_write(variant->range, "remove");
	if (ret && variant->control) {
		TH_LOG("control range stays online: remove gave %d", ret);
	} else {
		/* Nothing may pin a private node but its owner. */
		EXPECT_EQ(0, ret);
	}
}

/*
 * Judge the target node with the workload's memory still held.
 * @on_target: pages of the workload's mapping found on the target, or -1
 * for a workload that has no mapping to look at (kernel objects).
 */
static void check_target(struct __test_metadata *_metadata,
			 FIXTURE_DATA(isolation) *self,
			 const FIXTURE_VARIANT(isolation) *variant,
			 long on_target)
{
	long free;

	if (variant->control) {
		free = node_free_settled_kb(self->target, -1);
		TH_LOG("control node %d: %ld kB taken, %ld workload pages on it",
		       self->target, self->pre_free - free, on_target);
		if (on_target < 0) {
			EXPECT_LE(CONTROL_MIN_KB, self->pre_free - free);
		} else {
			EXPECT_LT(0, on_target);
		}
		return;
	}
	free = node_free_settled_kb(self->target, self->base_free);
	EXPECT_EQ(self->base_total, node_meminfo_kb(self->target, "MemTotal"));
	EXPECT_EQ(self->base_free, free);
	EXPECT_EQ(self->base_total - self->base_free,
		  node_meminfo_kb(self->target, "MemUsed"));
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
	on = pages_on_node(p, WORKLOAD, self->target);
	TH_LOG("%ld of %lu pages on node %d", on, WORKLOAD / page_size(),
	       self->target);
	return on;
}

TEST_F_TIMEOUT(isolation, anon, 600)
{
	long on = map_and_count(_metadata, self, MADV_NOHUGEPAGE);

	ASSERT_LE(0, on);
	check_target(_metadata, self, variant, on);
}

#define THP_DEFRAG "/sys/kernel/mm/transparent_hugepage/defrag"

/*
 * Huge pages under the same pressure. With defrag=never a THP fault does
 * not reclaim: when the local node has no free huge page the allocation
 * falls back along the zonelist, which is where it would find a leaked
 * private node (and does find the control node). With reclaim allowed it
 * would instead free the dentry filler locally and land there, which
 * proves nothing either way.
 */
TEST_F_TIMEOUT(isolation, thp, 600)
{
	char saved[64] = "", *sel;
	long on;

	if (read_file(THP_DEFRAG, saved, sizeof(saved)) > 0) {
		/* "always defer [madvise] never": keep the selected word. */
		sel = strchr(saved, '[');
		if (sel && strchr(sel, ']')) {
			memmove(saved, sel + 1, strlen(sel));
			*strchr(saved, ']') = '\0';
		}
		ASSERT_EQ(0, write_file(THP_DEFRAG, "never"));
	}
	on = map_and_count(_metadata, self, MADV_HUGEPAGE);
	if (saved[0])
		write_file(THP_DEFRAG, saved);
	if (on == -EINVAL)
		SKIP(return, "no transparent huge pages");
	ASSERT_LE(0, on);
	/*
	 * Known gap: in this setup a THP fault under pressure does not
	 * reliably fall back off the local nodes (seen in about half the
	 * runs), so the control cannot always show that leakage would be
	 * seen. Say so as a skip rather than pass or fail on chance.
	 */
	if (variant->control && !on)
		SKIP(return, "no THP fault fell back to the control node this run");
	check_target(_metadata, self, variant, on);
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
	on = pages_on_node(self->map, WORKLOAD, self->target);
	TH_LOG("%s: %ld of %lu pages on node %d", fstype, on,
	       WORKLOAD / page_size(), self->target);
	return on;
}

TEST_F_TIMEOUT(isolation, ramfs_page_cache, 600)
{
	long on = file_and_count(_metadata, self, "ramfs");

	ASSERT_LE(0, on);
	check_target(_metadata, self, variant, on);
}

TEST_F_TIMEOUT(isolation, tmpfs, 600)
{
	long on = file_and_count(_metadata, self, "tmpfs");

	ASSERT_LE(0, on);
	check_target(_metadata, self, variant, on);
}

/* Dentries and inodes: kernel allocations with no mapping to look at. */
TEST_F_TIMEOUT(isolation, kernel_objects, 900)
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
	check_target(_metadata, self, variant, -1);
}

/*
 * A task under "numactl --interleave=all": "all" is the task's allowed
 * nodes, which must not include a private node. The task is this binary's
 * --pnt-hog helper: it reports how many of its pages are on the target
 * and holds them until we close its stdin.
 */
TEST_F_TIMEOUT(isolation, interleave_all, 600)
{
	char exe[4096], bytes[32], nid[16], line[128];
	long on = -1, total = -1;
	int in[2], out[2], status;
	FILE *f;
	pid_t pid;

	ASSERT_EQ(0, self_exe(exe, sizeof(exe)));
	snprintf(bytes, sizeof(bytes), "%lu", INTERLEAVE_BYTES);
	snprintf(nid, sizeof(nid), "%d", self->target);
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
		check_target(_metadata, self, variant, on);
	close(in[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	TH_LOG("interleaved task: %ld of %ld pages on node %d, status 0x%x",
	       on, total, self->target, status);
	ASSERT_TRUE(WIFEXITED(status));
	if (WEXITSTATUS(status) == 127)
		SKIP(return, "numactl not found");
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_LE(0, on);
}

PNT_HARNESS_MAIN
