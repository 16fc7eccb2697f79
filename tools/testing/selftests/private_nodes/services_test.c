// SPDX-License-Identifier: GPL-2.0
/*
 * mm/ services leave the private node's pages to their owner, and the
 * owner hears of every page mm/ frees.
 *
 * The pages come from the test driver: a MAP_SHARED mapping of
 * /dev/private_node_test is a VM_MIXEDMAP | VM_DONTEXPAND VMA whose pages
 * the driver allocates at fault time with GFP_PRIVATE on the private node
 * and maps with ordinary (not special) PTEs, order 0. The driver's
 * free_folio callback counts them back (debugfs "counters").
 *
 * Each test checks, after the service had its chance, that the owner's
 * pages are as it left them (expect_owned()): every page still on the
 * private node, in the very frame the fault gave it (not migrated,
 * replaced, merged or collapsed), order 0, off the LRU, not mlocked, KSM
 * or THP (/proc/kpageflags), with its data intact; and the driver's
 * counters show no page freed or allocated behind its back.
 *
 * What this can and cannot catch with today's driver. The device VMA is
 * shared, file-backed and VM_SPECIAL, so most services turn it away on its
 * flags before looking at a folio:
 *   - mlock: mlock_fixup() skips VM_SPECIAL VMAs (vma_supports_mlock());
 *   - KSM: ksm_compatible() ignores VM_SHARED / VM_SPECIAL VMAs, and the
 *     folios are not anonymous;
 *   - khugepaged and MADV_COLLAPSE: VM_NO_KHUGEPAGED (VM_SPECIAL) in
 *     __thp_vma_allowable_orders();
 *   - MADV_FREE: anonymous VMAs only.
 * These tests therefore pin the user-visible contract (return values,
 * pages stay, counters) and fail if a service starts reaching into such a
 * VMA; the folio-level checks of patches 6, 8 and 9 are only reached when
 * private folios sit in a VMA those services accept, which needs a driver
 * that puts them in anonymous memory. MADV_COLD and MADV_PAGEOUT do walk
 * the VMA's PTEs and meet the private folios (patch 7); order-0 folios off
 * the LRU would be left alone even without it, large ones would be split.
 * The free counts exercise patch 10 directly: both the batched free path
 * (free_unref_folios(): munmap, exit, MADV_DONTNEED) and the last
 * folio_put() (__folio_put(): a pipe's reference outliving the mapping).
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"

#ifndef MADV_COLD
#define MADV_COLD	20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT	21
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE	25
#endif

#define PNT_DEV		"/dev/private_node_test"
#define KSM_DIR		"/sys/kernel/mm/ksm"
#define THP_DIR		"/sys/kernel/mm/transparent_hugepage"

#define NR_PAGES	256		/* 1 MiB */
#define NR_BATCH	4096		/* 16 MiB, freed by one munmap() */
#define NR_CONTROL	2048		/* 8 MiB of ordinary memory to mlock */
#define NR_PIPE		16		/* a default pipe's slots */
#define KSM_PAGES	128		/* per range; below max_page_sharing */
#define THP_HPAGES	2		/* PMD ranges per mapping */

/* Frees reach the owner synchronously, but allow for a late reference. */
#define FREE_WAIT_MS	10000
/* After the count is reached: long enough for a double report to show. */
#define QUIET_MS	300
#define KSM_WAIT_MS	120000
#define THP_WAIT_MS	120000
#define SCANS_WAIT_MS	60000

/* /proc/kpageflags bits (uapi kernel-page-flags.h; MLOCKED is internal). */
#define KPF_LRU			5
#define KPF_COMPOUND_HEAD	15
#define KPF_COMPOUND_TAIL	16
#define KPF_UNEVICTABLE		18
#define KPF_KSM			21
#define KPF_THP			22
#define KPF_MLOCKED		33
#define KPF(bit)		(1ULL << (bit))

/* No page of the owner may show any of these. */
#define OWNED_FORBIDDEN	(KPF(KPF_LRU) | KPF(KPF_COMPOUND_HEAD) |	\
			 KPF(KPF_COMPOUND_TAIL) | KPF(KPF_UNEVICTABLE) |	\
			 KPF(KPF_KSM) | KPF(KPF_THP) | KPF(KPF_MLOCKED))

#define GOLDEN		0x9e3779b97f4a7c15UL

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * Word i of a range says which word it is and which seed wrote it; with
 * @alike, the index restarts on every page, so all pages are identical
 * (KSM's merge candidates).
 */
static unsigned long pattern(unsigned long seed, size_t i, bool alike)
{
	size_t per_page = page_size() / sizeof(unsigned long);

	return seed ^ ((alike ? i % per_page : i) * GOLDEN);
}

static void fill(void *p, size_t len, unsigned long seed, bool alike)
{
	unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = pattern(seed, i, alike);
}

static bool check(const void *p, size_t len, unsigned long seed, bool alike)
{
	const unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i] != pattern(seed, i, alike))
			return false;
	return true;
}

static bool all_zero(const void *p, size_t len)
{
	const unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i])
			return false;
	return true;
}

/* A mapping of the device (fd >= 0) or of anonymous memory (fd < 0). */
struct range {
	char *addr;
	size_t len;
	size_t npages;
	uint64_t *pfns;		/* the frames when filled */
	unsigned long seed;
	bool alike;
};

/*
 * Map @npages at an address aligned to @align (0: a page), reserving the
 * slack first so that a PMD-sized range really is one PMD.
 */
static int range_map(struct range *r, int fd, size_t npages, size_t align,
		     int extra_flags)
{
	size_t psz = page_size(), span;
	int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	char *raw, *p;
	int err;

	memset(r, 0, sizeof(*r));
	if (!align)
		align = psz;
	r->npages = npages;
	r->len = npages * psz;
	r->pfns = calloc(npages, sizeof(*r->pfns));
	if (!r->pfns)
		return -ENOMEM;
	span = r->len + align;
	raw = mmap(NULL, span, PROT_NONE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (raw == MAP_FAILED)
		goto fail;
	p = (char *)(((uintptr_t)raw + align - 1) & ~(uintptr_t)(align - 1));
	if (mmap(p, r->len, PROT_READ | PROT_WRITE, flags | MAP_FIXED | extra_flags,
		 fd, 0) == MAP_FAILED) {
		err = errno;
		munmap(raw, span);
		errno = err;
		goto fail;
	}
	if (p > raw)
		munmap(raw, (size_t)(p - raw));
	munmap(p + r->len, (size_t)(raw + span - (p + r->len)));
	r->addr = p;
	return 0;
fail:
	err = -errno;
	free(r->pfns);
	r->pfns = NULL;
	return err;
}

/* Write the pattern (faulting every page in) and record the frames. */
static int range_fill(struct range *r, unsigned long seed, bool alike)
{
	size_t i;
	int ret;

	r->seed = seed;
	r->alike = alike;
	fill(r->addr, r->len, seed, alike);
	ret = pages_pfns(r->addr, r->npages, r->pfns);
	if (ret)
		return ret;
	/* Present pages with frame 0: pagemap hides frames (no CAP_SYS_ADMIN). */
	for (i = 0; i < r->npages; i++)
		if (!r->pfns[i])
			return -EPERM;
	return 0;
}

static void range_unmap(struct range *r)
{
	if (r->addr)
		munmap(r->addr, r->len);
	free(r->pfns);
	r->addr = NULL;
	r->pfns = NULL;
}

/* Pages of @r whose kpageflags have any of @mask, or a negative errno. */
static long range_pages_with(const struct range *r, uint64_t mask)
{
	uint64_t *pfns, flags;
	long count = 0;
	size_t i;
	int ret;

	pfns = calloc(r->npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	ret = pages_pfns(r->addr, r->npages, pfns);
	for (i = 0; !ret && i < r->npages; i++) {
		if (!pfns[i])
			continue;
		ret = pfn_kpageflags(pfns[i], &flags);
		if (!ret && (flags & mask))
			count++;
	}
	free(pfns);
	return ret ? ret : count;
}

/*
 * The owner's pages are as it left them: all on @nid, each in the frame it
 * was given (a migrated, replaced, merged or collapsed page has another),
 * none on the LRU, mlocked, unevictable, KSM, THP or part of a compound
 * page, and the data as written.
 */
static void expect_owned(struct __test_metadata *_metadata,
			 const struct range *r, int nid)
{
	long moved = 0, flagged = 0;
	uint64_t *now, flags, seen = 0;
	size_t i;

	now = calloc(r->npages, sizeof(*now));
	ASSERT_NE(NULL, now);
	EXPECT_EQ((long)r->npages, pages_on_node(r->addr, r->len, nid));
	ASSERT_EQ(0, pages_pfns(r->addr, r->npages, now));
	for (i = 0; i < r->npages; i++) {
		if (now[i] != r->pfns[i]) {
			moved++;
			continue;
		}
		ASSERT_EQ(0, pfn_kpageflags(now[i], &flags));
		if (flags & OWNED_FORBIDDEN) {
			flagged++;
			seen |= flags & OWNED_FORBIDDEN;
		}
	}
	EXPECT_EQ(0, moved) {
		TH_LOG("%ld of %zu pages changed frame", moved, r->npages);
	}
	EXPECT_EQ(0, flagged) {
		TH_LOG("%ld pages with kpageflags %#llx", flagged,
		       (unsigned long long)seen);
	}
	EXPECT_TRUE(check(r->addr, r->len, r->seed, r->alike));
	free(now);
}

/* The driver handed out @allocated pages and heard @freed of them back. */
static void expect_counters(struct __test_metadata *_metadata,
			    long allocated, long freed)
{
	struct pnt_counters c;

	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(allocated, c.allocated);
	EXPECT_EQ(freed, c.freed_folios);
	EXPECT_EQ(freed, c.freed_pages);
	/* Order-0 pages only: nothing can be split. */
	EXPECT_EQ(0, c.split_new);
	EXPECT_EQ(0, c.split_done);
}

/*
 * Wait until the owner heard of @want frees, or FREE_WAIT_MS. The frees of
 * munmap() and exit reach it before the call returns, from the mmu_gather
 * batch; the wait only covers a reference someone else still held. Then
 * QUIET_MS more, so that a folio reported twice shows as a surplus.
 */
static int wait_freed(long want, struct pnt_counters *c)
{
	long end = now_ms() + FREE_WAIT_MS;
	int ret;

	for (;;) {
		ret = pnt_counters_read(c);
		if (ret)
			return ret;
		if (c->freed_folios >= want || now_ms() > end)
			break;
		sleep_ms(10);
	}
	sleep_ms(QUIET_MS);
	return pnt_counters_read(c);
}

/* Unmap @r and check that exactly its pages came back, once each. */
static void unmap_expect_freed(struct __test_metadata *_metadata,
			       struct range *r, long allocated)
{
	struct pnt_counters c;

	range_unmap(r);
	ASSERT_EQ(0, wait_freed(allocated, &c));
	EXPECT_EQ(allocated, c.allocated);
	EXPECT_EQ(allocated, c.freed_folios);
	EXPECT_EQ(allocated, c.freed_pages);
}

/* 1 if the VMA holding @addr has @flag in its smaps VmFlags, else 0. */
static int vma_flag(const void *addr, const char *flag)
{
	unsigned long start, end, a = (unsigned long)addr;
	char line[512], *tok, *save;
	int ret = -ENOENT;
	bool in = false;
	FILE *f;

	f = fopen("/proc/self/smaps", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = a >= start && a < end;
			continue;
		}
		if (!in || strncmp(line, "VmFlags:", 8))
			continue;
		ret = 0;
		save = NULL;
		for (tok = strtok_r(line + 8, "\n ", &save); tok;
		     tok = strtok_r(NULL, "\n ", &save))
			if (!strcmp(tok, flag))
				ret = 1;
		break;
	}
	fclose(f);
	return ret;
}

/* A "<field>: N kB" value of /proc/self/status. */
static long status_kb(const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long v, ret = -ENODATA;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, n) && line[n] == ':' &&
		    sscanf(line + n + 1, "%ld", &v) == 1) {
			ret = v;
			break;
		}
	}
	fclose(f);
	return ret;
}

static long read_long(const char *path)
{
	char buf[64];
	int ret = read_file(path, buf, sizeof(buf));

	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

/* Mlocked of @nid once the per-cpu counters are folded, in kB. */
static long node_mlocked_kb(int nid)
{
	vm_counters_fold();
	return node_meminfo_kb(nid, "Mlocked");
}

/* An ordinary node with memory and CPUs. */
static int dram_node(void)
{
	unsigned long mem, cpus;

	if (nodelist_mask("has_memory", &mem) ||
	    nodelist_mask("has_cpu", &cpus) || !(mem & cpus))
		return -ENODEV;
	return __builtin_ctzl(mem & cpus);
}

static size_t thp_pmd_size(void)
{
	long v = read_long(THP_DIR "/hpage_pmd_size");

	return v > 0 ? (size_t)v : 2 * MIB;
}

/* A sysfs knob changed by a test and put back by its teardown. */
struct tunable {
	char path[128];
	char saved[64];
	bool changed;
};

static int tunable_set(struct tunable *t, const char *path, const char *val)
{
	char buf[sizeof(t->saved)], *s, *e;
	int ret;

	if (!t->changed) {
		ret = read_file(path, buf, sizeof(buf));
		if (ret < 0)
			return ret;
		/* A choice ("always [madvise] never") saves its selection. */
		s = strchr(buf, '[');
		e = s ? strchr(s, ']') : NULL;
		if (s && e) {
			s++;
			*e = '\0';
		} else {
			s = buf;
			s[strcspn(s, "\n")] = '\0';
		}
		snprintf(t->saved, sizeof(t->saved), "%s", s);
		snprintf(t->path, sizeof(t->path), "%s", path);
	}
	ret = write_file(path, val);
	if (!ret)
		t->changed = true;
	return ret;
}

static void tunable_restore(struct tunable *t)
{
	if (t->changed && write_file(t->path, t->saved))
		ksft_print_msg("could not restore %s to %s\n", t->path, t->saved);
	t->changed = false;
}

/* What every fixture needs: the driver, the private node online, the device. */
static void common_setup(struct __test_metadata *_metadata,
			 struct pnt_config *cfg, int *nid, int *fd)
{
	*fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(cfg));
	ASSERT_EQ(0, pnt_range_ensure("private", true));
	*nid = cfg->private_nid;
	*fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, *fd);
	ASSERT_EQ(0, pnt_counters_reset());
}

FIXTURE(services) {
	struct pnt_config cfg;
	int nid;
	int fd;
};

FIXTURE_SETUP(services)
{
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
}

FIXTURE_TEARDOWN(services)
{
	if (self->fd >= 0)
		close(self->fd);
}

/*
 * mlock() of the device range succeeds and locks nothing: mlock_fixup()
 * leaves VM_SPECIAL VMAs without VM_LOCKED and out of locked_vm ("filters
 * out special vmas ... for some special vmas, we go ahead and populate the
 * ptes"), and __mm_populate() faults the range in through the driver. So
 * the pages are allocated by mlock() itself, stay on the private node in
 * their frames, and neither the pages (PG_mlocked, unevictable) nor the
 * node's Mlocked count them. Fails if mlock() started locking such VMAs or
 * mlocked private folios.
 */
TEST_F_TIMEOUT(services, mlock_device, 120)
{
	struct range r;
	long locked;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, 0));
	locked = status_kb("VmLck");
	ASSERT_LE(0, locked);

	ASSERT_EQ(0, mlock(r.addr, r.len));
	expect_counters(_metadata, NR_PAGES, 0);
	EXPECT_EQ(0, vma_flag(r.addr, "lo"));
	EXPECT_EQ(locked, status_kb("VmLck"));

	ASSERT_EQ(0, range_fill(&r, 1, false));
	EXPECT_EQ(0, node_mlocked_kb(self->nid));
	expect_owned(_metadata, &r, self->nid);
	EXPECT_EQ(0, munlock(r.addr, r.len));
	expect_counters(_metadata, NR_PAGES, 0);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/*
 * mlockall(MCL_CURRENT | MCL_FUTURE) succeeds and locks the ordinary VMAs
 * (the stack becomes VM_LOCKED: the call did take effect), but neither the
 * device range mapped before nor one mapped after: a VMA that is VM_LOCKED
 * from mm->def_flags loses the bit in __mmap_complete() once the driver
 * made it VM_MIXEDMAP, yet do_mmap() still populates it, so the second
 * range is allocated by mmap() itself. The node's Mlocked stays 0.
 */
TEST_F_TIMEOUT(services, mlockall_device, 120)
{
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	struct range before, after;

	/* Root has CAP_IPC_LOCK anyway; this only helps without it. */
	setrlimit(RLIMIT_MEMLOCK, &unlimited);
	ASSERT_EQ(0, range_map(&before, self->fd, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&before, 2, false));

	ASSERT_EQ(0, mlockall(MCL_CURRENT | MCL_FUTURE));
	EXPECT_EQ(1, vma_flag(&unlimited, "lo"));
	ASSERT_EQ(0, range_map(&after, self->fd, NR_PAGES, 0, 0));
	expect_counters(_metadata, 2 * NR_PAGES, 0);
	ASSERT_EQ(0, range_fill(&after, 3, false));

	EXPECT_EQ(0, vma_flag(before.addr, "lo"));
	EXPECT_EQ(0, vma_flag(after.addr, "lo"));
	EXPECT_EQ(0, node_mlocked_kb(self->nid));
	expect_owned(_metadata, &before, self->nid);
	expect_owned(_metadata, &after, self->nid);

	EXPECT_EQ(0, munlockall());
	expect_counters(_metadata, 2 * NR_PAGES, 0);
	range_unmap(&before);
	unmap_expect_freed(_metadata, &after, 2 * NR_PAGES);
}

/* MAP_LOCKED on the device: the same as mlock() at mmap() time. */
TEST_F_TIMEOUT(services, map_locked_device, 120)
{
	struct range r;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, MAP_LOCKED));
	expect_counters(_metadata, NR_PAGES, 0);
	EXPECT_EQ(0, vma_flag(r.addr, "lo"));
	ASSERT_EQ(0, range_fill(&r, 4, false));
	EXPECT_EQ(0, node_mlocked_kb(self->nid));
	expect_owned(_metadata, &r, self->nid);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/*
 * The control for the mlock tests: mlock() of ordinary anonymous memory
 * bound to a DRAM node makes its VMA VM_LOCKED, marks every page
 * PG_mlocked and raises that node's Mlocked, which shows these are the
 * right things to look at. (Half the range is enough: the per-cpu counters
 * are folded, but other tasks may munlock meanwhile.)
 */
TEST_F_TIMEOUT(services, mlock_control_anon, 120)
{
	int nid = dram_node();
	unsigned long mask;
	long before, after;
	struct range r;

	ASSERT_LE(0, nid);
	mask = 1UL << nid;
	ASSERT_EQ(0, range_map(&r, -1, NR_CONTROL, 0, 0));
	ASSERT_EQ(0, mbind(r.addr, r.len, MPOL_BIND, &mask, MASK_MAXNODE, 0));
	ASSERT_EQ(0, range_fill(&r, 5, false));
	EXPECT_EQ((long)r.npages, pages_on_node(r.addr, r.len, nid));

	before = node_mlocked_kb(nid);
	ASSERT_LE(0, before);
	ASSERT_EQ(0, mlock(r.addr, r.len));
	after = node_mlocked_kb(nid);
	TH_LOG("node %d Mlocked %ld kB -> %ld kB", nid, before, after);
	EXPECT_EQ(1, vma_flag(r.addr, "lo"));
	EXPECT_LE((long)(r.len / KIB) / 2, after - before);
	EXPECT_EQ((long)r.npages, range_pages_with(&r, KPF(KPF_MLOCKED)));
	EXPECT_EQ(0, munlock(r.addr, r.len));
	range_unmap(&r);
}

/*
 * Every page the driver hands out comes back through free_folio exactly
 * once when the mapping goes: munmap() frees them in mmu_gather batches
 * that end in free_unref_folios(). A missing report (a free path that
 * bypasses the hook) leaves freed_folios short; a path reporting twice
 * (both __folio_put() and the batch, say) makes it exceed allocated.
 */
TEST_F_TIMEOUT(services, munmap_frees_each_once, 120)
{
	struct range r;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 6, false));
	expect_counters(_metadata, NR_PAGES, 0);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/* The same for 16 MiB in one munmap(): many batches, one report each. */
TEST_F_TIMEOUT(services, batch_munmap_frees_each_once, 300)
{
	struct range r;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_BATCH, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 7, false));
	expect_counters(_metadata, NR_BATCH, 0);
	unmap_expect_freed(_metadata, &r, NR_BATCH);
}

/*
 * A process that exits with the device mapped: exit_mmap() frees its
 * pages, each reported once, by the time the parent has reaped it (or
 * shortly after, if something held the mm).
 */
TEST_F_TIMEOUT(services, exit_frees_each_once, 120)
{
	struct pnt_counters c;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct range r;

		if (range_map(&r, self->fd, NR_PAGES, 0, 0))
			_exit(1);
		fill(r.addr, r.len, 8, false);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, wait_freed(NR_PAGES, &c));
	EXPECT_EQ(NR_PAGES, c.allocated);
	EXPECT_EQ(NR_PAGES, c.freed_folios);
	EXPECT_EQ(NR_PAGES, c.freed_pages);
}

/*
 * fork() copies the PTEs of a VM_MIXEDMAP VMA, so the child maps the
 * parent's pages (it reads the parent's data). Its exit drops only its
 * references: nothing is freed while the parent maps the pages. The
 * parent's munmap() then frees each page once. A free reported on the
 * child's exit would mean the owner hears of pages still in use.
 */
TEST_F_TIMEOUT(services, fork_child_exit_frees_nothing, 120)
{
	struct range r;
	int status;
	pid_t pid;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 9, false));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(check(r.addr, r.len, r.seed, false) ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	sleep_ms(QUIET_MS);
	expect_counters(_metadata, NR_PAGES, 0);
	expect_owned(_metadata, &r, self->nid);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/*
 * The other order: the parent unmaps first while the child still maps the
 * pages, so nothing is freed, and the child still reads the data; the
 * child's exit frees each page once.
 */
TEST_F_TIMEOUT(services, fork_parent_unmaps_first, 120)
{
	struct pnt_counters c;
	struct range r;
	int status, go[2];
	pid_t pid;
	char byte;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 10, false));
	ASSERT_EQ(0, pipe(go));

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(go[1]);
		/* Wait for the parent's munmap() (EOF). */
		while (read(go[0], &byte, 1) > 0)
			;
		_exit(check(r.addr, r.len, r.seed, false) ? 0 : 1);
	}
	close(go[0]);
	ASSERT_EQ(0, munmap(r.addr, r.len));
	sleep_ms(QUIET_MS);
	expect_counters(_metadata, NR_PAGES, 0);

	close(go[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(0, wait_freed(NR_PAGES, &c));
	EXPECT_EQ(NR_PAGES, c.allocated);
	EXPECT_EQ(NR_PAGES, c.freed_folios);
	EXPECT_EQ(NR_PAGES, c.freed_pages);
	r.addr = NULL;
	range_unmap(&r);
}

/*
 * MADV_DONTNEED zaps the range like munmap(): each page is reported freed
 * once, and touching the range again faults in new, zeroed pages from the
 * driver, which are reported in turn when unmapped.
 */
TEST_F_TIMEOUT(services, dontneed_frees_and_refaults, 120)
{
	struct pnt_counters c;
	struct range r;

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 11, false));
	ASSERT_EQ(0, madvise(r.addr, r.len, MADV_DONTNEED));
	ASSERT_EQ(0, wait_freed(NR_PAGES, &c));
	EXPECT_EQ(NR_PAGES, c.freed_folios);

	EXPECT_TRUE(all_zero(r.addr, r.len));
	EXPECT_EQ(NR_PAGES, pages_on_node(r.addr, r.len, self->nid));
	expect_counters(_metadata, 2 * NR_PAGES, NR_PAGES);
	unmap_expect_freed(_metadata, &r, 2 * NR_PAGES);
}

/*
 * A reference that outlives the mapping: vmsplice() puts the pages
 * themselves in a pipe (get_user_pages), so munmap() frees nothing; the
 * data is still readable from the pipe, and reading it drops the last
 * references one put_page() at a time. That is the __folio_put() path of
 * the free_folio hook, not the batched one: each page reported once.
 */
TEST_F_TIMEOUT(services, pipe_ref_outlives_unmap, 120)
{
	size_t len = NR_PIPE * page_size();
	struct pnt_counters c;
	struct iovec iov;
	struct range r;
	ssize_t n;
	char *copy;
	int p[2];

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PIPE, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 12, false));
	copy = malloc(len);
	ASSERT_NE(NULL, copy);
	ASSERT_EQ(0, pipe(p));

	iov.iov_base = r.addr;
	iov.iov_len = len;
	n = vmsplice(p[1], &iov, 1, SPLICE_F_NONBLOCK);
	ASSERT_EQ((ssize_t)len, n);
	ASSERT_EQ(0, munmap(r.addr, r.len));
	r.addr = NULL;
	sleep_ms(QUIET_MS);
	expect_counters(_metadata, NR_PIPE, 0);

	n = read(p[0], copy, len);
	ASSERT_EQ((ssize_t)len, n);
	EXPECT_TRUE(check(copy, len, 12, false));
	close(p[0]);
	close(p[1]);
	ASSERT_EQ(0, wait_freed(NR_PIPE, &c));
	EXPECT_EQ(NR_PIPE, c.allocated);
	EXPECT_EQ(NR_PIPE, c.freed_folios);
	EXPECT_EQ(NR_PIPE, c.freed_pages);
	free(copy);
	range_unmap(&r);
}

/*
 * madvise() advice that would move, reclaim, split, discard or collapse
 * pages, on a fully populated, PMD-aligned device range of two PMDs. The
 * return value is what mm/madvise.c gives for a shared, file-backed
 * VM_MIXEDMAP VMA; whatever it is, the pages stay as the owner left them
 * and nothing is freed or allocated. Advice the kernel was built without
 * (KSM, THP) fails with EINVAL in madvise_behavior_valid().
 */
enum need { NEED_NOTHING, NEED_KSM, NEED_THP };

FIXTURE(madv) {
	struct pnt_config cfg;
	int nid;
	int fd;
};

FIXTURE_VARIANT(madv) {
	int advice;
	int err;		/* expected errno, 0 for success */
	enum need need;
	const char *vmflag;	/* a VmFlags entry the advice sets or not */
	int vmflag_set;
};

/* Deactivates nothing here: the PTE walk skips private folios. */
FIXTURE_VARIANT_ADD(madv, cold) {
	.advice = MADV_COLD,
};

/* Reclaims nothing here: the same walk, with reclaim of what it isolated. */
FIXTURE_VARIANT_ADD(madv, pageout) {
	.advice = MADV_PAGEOUT,
};

/* madvise_free_single_vma(): "MADV_FREE works for only anon vma". */
FIXTURE_VARIANT_ADD(madv, free) {
	.advice = MADV_FREE,
	.err = EINVAL,
};

/* ksm_madvise(): ksm_compatible() ignores VM_SHARED and VM_SPECIAL VMAs. */
FIXTURE_VARIANT_ADD(madv, mergeable) {
	.advice = MADV_MERGEABLE,
	.need = NEED_KSM,
	.vmflag = "mg",
	.vmflag_set = 0,
};

/* hugepage_madvise() only sets VM_HUGEPAGE; khugepaged skips VM_SPECIAL. */
FIXTURE_VARIANT_ADD(madv, hugepage) {
	.advice = MADV_HUGEPAGE,
	.need = NEED_THP,
	.vmflag = "hg",
	.vmflag_set = 1,
};

/* madvise_collapse(): VM_NO_KHUGEPAGED makes collapse_possible() false. */
FIXTURE_VARIANT_ADD(madv, collapse) {
	.advice = MADV_COLLAPSE,
	.err = EINVAL,
	.need = NEED_THP,
};

/* madvise_willneed(): readahead of the device file, a no-op. */
FIXTURE_VARIANT_ADD(madv, willneed) {
	.advice = MADV_WILLNEED,
};

FIXTURE_SETUP(madv)
{
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
}

FIXTURE_TEARDOWN(madv)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(madv, device_range, 120)
{
	size_t hpage = thp_pmd_size();
	size_t npages = THP_HPAGES * hpage / page_size();
	int want = variant->err, err;
	struct range r;

	if ((variant->need == NEED_KSM && access(KSM_DIR, F_OK)) ||
	    (variant->need == NEED_THP && access(THP_DIR, F_OK)))
		want = EINVAL;

	ASSERT_EQ(0, range_map(&r, self->fd, npages, hpage, 0));
	ASSERT_EQ(0, range_fill(&r, 13, false));
	err = madvise(r.addr, r.len, variant->advice) ? errno : 0;
	EXPECT_EQ(want, err) {
		TH_LOG("advice %d: %s, expected %s", variant->advice,
		       strerror(err), strerror(want));
	}
	if (variant->vmflag && !want)
		EXPECT_EQ(variant->vmflag_set, vma_flag(r.addr, variant->vmflag));
	expect_owned(_metadata, &r, self->nid);
	expect_counters(_metadata, (long)npages, 0);
	unmap_expect_freed(_metadata, &r, (long)npages);
}

/*
 * KSM. Two device ranges and one ordinary anonymous range hold the same
 * data, every page alike, all MADV_MERGEABLE, with ksmd running fast. The
 * control pages merge into KSM pages within KSM_WAIT_MS, which shows ksmd
 * ran and would have merged anything it considered; then two more full
 * scans pass. Merged pages (pages_shared + pages_sharing) are exactly the
 * control's, the device pages are in their frames, not KSM, data intact,
 * none freed. Fails if KSM merged a private page or freed one behind its
 * owner; SKIPs without CONFIG_KSM. The knobs are put back by the parent.
 */
enum { KSM_SCAN, KSM_SLEEP, KSM_SMART, KSM_RUN, NR_KSM_TUNABLES };

FIXTURE(ksm) {
	struct pnt_config cfg;
	int nid;
	int fd;
	struct tunable tun[NR_KSM_TUNABLES];
};

FIXTURE_SETUP(ksm)
{
	if (access(KSM_DIR "/run", F_OK))
		SKIP(return, "KSM is not configured (no %s)", KSM_DIR);
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
}

/* In the parent: the knobs go back even if the test dies. */
FIXTURE_TEARDOWN_PARENT(ksm)
{
	int i;

	for (i = NR_KSM_TUNABLES - 1; i >= 0; i--)
		tunable_restore(&self->tun[i]);
}

static long ksm_merged(void)
{
	long shared = read_long(KSM_DIR "/pages_shared");
	long sharing = read_long(KSM_DIR "/pages_sharing");

	return shared < 0 || sharing < 0 ? -1 : shared + sharing;
}

/* Wait up to @ms for the counter at @path to reach @want; its value. */
static long wait_counter(const char *path, long want, long ms)
{
	long end = now_ms() + ms, v;

	for (;;) {
		v = read_long(path);
		if (v < 0 || v >= want || now_ms() > end)
			return v;
		sleep_ms(50);
	}
}

TEST_F_TIMEOUT(ksm, device_pages_not_merged, 300)
{
	struct range a, b, ctl;
	long base, merged, scans, end, v;

	ASSERT_EQ(0, range_map(&a, self->fd, KSM_PAGES, 0, 0));
	ASSERT_EQ(0, range_map(&b, self->fd, KSM_PAGES, 0, 0));
	ASSERT_EQ(0, range_map(&ctl, -1, KSM_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&a, 14, true));
	ASSERT_EQ(0, range_fill(&b, 14, true));
	ASSERT_EQ(0, range_fill(&ctl, 14, true));

	/* Accepted and ignored on the device: the VMA is not VM_MERGEABLE. */
	EXPECT_EQ(0, madvise(a.addr, a.len, MADV_MERGEABLE));
	EXPECT_EQ(0, madvise(b.addr, b.len, MADV_MERGEABLE));
	EXPECT_EQ(0, vma_flag(a.addr, "mg"));
	ASSERT_EQ(0, madvise(ctl.addr, ctl.len, MADV_MERGEABLE));
	EXPECT_EQ(1, vma_flag(ctl.addr, "mg"));

	base = ksm_merged();
	ASSERT_LE(0, base);
	ASSERT_EQ(0, tunable_set(&self->tun[KSM_SCAN], KSM_DIR "/pages_to_scan", "4096"));
	ASSERT_EQ(0, tunable_set(&self->tun[KSM_SLEEP], KSM_DIR "/sleep_millisecs", "10"));
	/* Older kernels have no smart_scan; it only slows the control down. */
	tunable_set(&self->tun[KSM_SMART], KSM_DIR "/smart_scan", "0");
	ASSERT_EQ(0, tunable_set(&self->tun[KSM_RUN], KSM_DIR "/run", "1"));

	end = now_ms() + KSM_WAIT_MS;
	do {
		merged = ksm_merged() - base;
		if (merged >= KSM_PAGES)
			break;
		sleep_ms(50);
	} while (now_ms() < end);
	ASSERT_LE(KSM_PAGES, merged) {
		TH_LOG("ksmd merged %ld of %d control pages in %d s", merged,
		       KSM_PAGES, KSM_WAIT_MS / 1000);
	}

	/* Two more full scans: every mergeable page was looked at again. */
	scans = read_long(KSM_DIR "/full_scans");
	ASSERT_LE(0, scans);
	EXPECT_LE(scans + 2, wait_counter(KSM_DIR "/full_scans", scans + 2,
					  SCANS_WAIT_MS));
	EXPECT_EQ(KSM_PAGES, ksm_merged() - base);
	EXPECT_EQ(KSM_PAGES, range_pages_with(&ctl, KPF(KPF_KSM)));
	EXPECT_TRUE(check(ctl.addr, ctl.len, ctl.seed, true));
	/* Per process, where the kernel has it: only the control's pages. */
	v = read_long("/proc/self/ksm_merging_pages");
	if (v >= 0)
		EXPECT_EQ(KSM_PAGES, v);

	expect_owned(_metadata, &a, self->nid);
	expect_owned(_metadata, &b, self->nid);
	expect_counters(_metadata, 2 * KSM_PAGES, 0);
	range_unmap(&ctl);
	range_unmap(&a);
	unmap_expect_freed(_metadata, &b, 2 * KSM_PAGES);
}

/*
 * khugepaged. With THP "always" and khugepaged scanning every 10 ms, a
 * PMD-aligned device range of THP_HPAGES PMDs, MADV_HUGEPAGE and fully
 * populated, is never collapsed, while an ordinary anonymous range in the
 * same process (faulted in as 4 KiB pages under MADV_NOHUGEPAGE, then
 * MADV_HUGEPAGE) is: the control shows khugepaged scanned this mm and
 * could allocate huge pages. Two more full scans after the control, the
 * device pages are still order-0 in their frames on the private node.
 * Fails if khugepaged collapsed (copied away and freed) private pages.
 * Without THP there is no khugepaged: the device half still runs, then
 * the test SKIPs for want of the control.
 */
enum { THP_ENABLED, THP_SCAN_SLEEP, THP_ALLOC_SLEEP, THP_SCAN, NR_THP_TUNABLES };

FIXTURE(thp) {
	struct pnt_config cfg;
	int nid;
	int fd;
	struct tunable tun[NR_THP_TUNABLES];
};

FIXTURE_SETUP(thp)
{
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
}

FIXTURE_TEARDOWN_PARENT(thp)
{
	int i;

	for (i = NR_THP_TUNABLES - 1; i >= 0; i--)
		tunable_restore(&self->tun[i]);
}

TEST_F_TIMEOUT(thp, khugepaged_skips_device, 300)
{
	bool have_thp = !access(THP_DIR "/enabled", F_OK);
	size_t hpage = thp_pmd_size();
	size_t npages = THP_HPAGES * hpage / page_size();
	char scan[32];
	struct range dev, ctl;
	long thps, end, scans;

	if (have_thp) {
		snprintf(scan, sizeof(scan), "%zu", 8 * hpage / page_size());
		ASSERT_EQ(0, tunable_set(&self->tun[THP_ENABLED],
					 THP_DIR "/enabled", "always"));
		ASSERT_EQ(0, tunable_set(&self->tun[THP_SCAN_SLEEP],
					 THP_DIR "/khugepaged/scan_sleep_millisecs", "10"));
		ASSERT_EQ(0, tunable_set(&self->tun[THP_ALLOC_SLEEP],
					 THP_DIR "/khugepaged/alloc_sleep_millisecs", "10"));
		ASSERT_EQ(0, tunable_set(&self->tun[THP_SCAN],
					 THP_DIR "/khugepaged/pages_to_scan", scan));
	}

	ASSERT_EQ(0, range_map(&dev, self->fd, npages, hpage, 0));
	EXPECT_EQ(have_thp ? 0 : EINVAL,
		  madvise(dev.addr, dev.len, MADV_HUGEPAGE) ? errno : 0);
	ASSERT_EQ(0, range_fill(&dev, 15, false));

	if (!have_thp) {
		sleep_ms(1000);
		expect_owned(_metadata, &dev, self->nid);
		expect_counters(_metadata, (long)npages, 0);
		unmap_expect_freed(_metadata, &dev, (long)npages);
		if (_metadata->exit_code == KSFT_PASS)
			SKIP(return, "no THP: the device half passed, no control");
		return;
	}

	ASSERT_EQ(0, range_map(&ctl, -1, npages, hpage, 0));
	ASSERT_EQ(0, madvise(ctl.addr, ctl.len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, range_fill(&ctl, 16, false));
	EXPECT_EQ(0, range_pages_with(&ctl, KPF(KPF_THP)));
	/* Makes the VMA eligible and registers the mm with khugepaged. */
	ASSERT_EQ(0, madvise(ctl.addr, ctl.len, MADV_HUGEPAGE));

	end = now_ms() + THP_WAIT_MS;
	do {
		thps = range_pages_with(&ctl, KPF(KPF_THP));
		if (thps < 0 || thps == (long)npages)
			break;
		sleep_ms(100);
	} while (now_ms() < end);
	ASSERT_EQ((long)npages, thps) {
		TH_LOG("khugepaged collapsed %ld of %zu control pages in %d s",
		       thps, npages, THP_WAIT_MS / 1000);
	}
	EXPECT_TRUE(check(ctl.addr, ctl.len, ctl.seed, false));

	scans = read_long(THP_DIR "/khugepaged/full_scans");
	ASSERT_LE(0, scans);
	EXPECT_LE(scans + 2, wait_counter(THP_DIR "/khugepaged/full_scans",
					  scans + 2, SCANS_WAIT_MS));

	expect_owned(_metadata, &dev, self->nid);
	expect_counters(_metadata, (long)npages, 0);
	range_unmap(&ctl);
	unmap_expect_freed(_metadata, &dev, (long)npages);
}

TEST_HARNESS_MAIN
