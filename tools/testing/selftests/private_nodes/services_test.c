// SPDX-License-Identifier: GPL-2.0
/*
 * mm/ services leave the private node's pages to their owner, and the
 * owner hears of every page mm/ frees and of every split.
 *
 * The pages come from the test driver, in two kinds of mapping:
 *   - device: a MAP_SHARED mapping of /dev/private_node_test, a
 *     VM_MIXEDMAP | VM_DONTEXPAND VMA whose pages the driver allocates at
 *     fault time with GFP_PRIVATE and maps with ordinary PTEs, order 0;
 *   - anon: ordinary anonymous memory that the driver moves onto the
 *     private node (PNT_IOC_MIGRATE, migrate_vma), as base pages or as
 *     order-9 folios mapped by PMDs. These are anonymous LRU folios in a
 *     VMA every service accepts.
 * The driver's folio_freed and folio_split callbacks count them back
 * (debugfs "counters").
 *
 * Each test checks, after the service had its chance, that the owner's
 * pages are as it left them (expect_owned()): every page still on the
 * private node, in the very frame it was given (not migrated, replaced,
 * merged or collapsed), without the kpageflags the service would set
 * (mlocked, unevictable, KSM; for device pages also LRU and THP), with its
 * data intact; and the driver's counters show no page freed, allocated or
 * split behind its back. Each anon test has a control on ordinary memory
 * showing that the service did act there.
 *
 * The device VMA is turned away by most services on its flags before they
 * look at a folio (mlock_fixup() and khugepaged skip VM_SPECIAL, KSM
 * VM_SHARED, MADV_FREE non-anonymous VMAs; COLD and PAGEOUT find no folio
 * on the LRU): those tests, named device_vma_*, pin the user-visible
 * contract of a driver's mapping and pass without the series as well. The
 * anon tests are the ones that reach the folio
 * tests of patches 6-9 and fail if one is reverted: mlock (mlock_pte_range
 * and folio_add_lru_vma), MADV_COLD/PAGEOUT/FREE on PTEs and PMDs, KSM's
 * page walk, khugepaged's and MADV_COLLAPSE's scan. The free counts
 * exercise patch 10 on every path (munmap and exit batches, the last
 * folio_put() of a pipe reference, order-9 folios), and that the owner
 * sees one folio state on both paths; the split test exercises patch 11.
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
#include <sched.h>
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

/* No page of the owner may show any of these. */
#define OWNED_FORBIDDEN	(KPF_LRU | KPF_COMPOUND_HEAD |	\
			 KPF_COMPOUND_TAIL | KPF_UNEVICTABLE |	\
			 KPF_KSM | KPF_THP | KPF_MLOCKED)
/* Private folios in anonymous memory are on the LRU, maybe THPs; no more. */
#define ANON_FORBIDDEN	(KPF_UNEVICTABLE | KPF_KSM | KPF_MLOCKED)
#define THP_FLAGS	(KPF_COMPOUND_HEAD | KPF_COMPOUND_TAIL |	\
			 KPF_THP)

#define GOLDEN		0x9e3779b97f4a7c15UL

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
	size_t per_page = psize() / sizeof(unsigned long);

	return seed ^ ((alike ? i % per_page : i) * GOLDEN);
}

static void fill(void *p, size_t len, unsigned long seed, bool alike)
{
	unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		w[i] = pattern(seed, i, alike);
}

/* The words at @p are words @first... of what fill() wrote. */
static bool check_from(const void *p, size_t len, unsigned long seed,
		       bool alike, size_t first)
{
	const unsigned long *w = p;
	size_t i;

	for (i = 0; i < len / sizeof(*w); i++)
		if (w[i] != pattern(seed, first + i, alike))
			return false;
	return true;
}

static bool check(const void *p, size_t len, unsigned long seed, bool alike)
{
	return check_from(p, len, seed, alike, 0);
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

static long read_long(const char *path)
{
	char buf[64];
	int ret = read_text(path, buf, sizeof(buf));

	return ret < 0 ? ret : strtol(buf, NULL, 10);
}

static size_t thp_pmd_size(void)
{
	long v = read_long(THP_DIR "/hpage_pmd_size");

	return v > 0 ? (size_t)v : 2 * MIB;
}

/* A mapping of the device (fd >= 0) or of anonymous memory (fd < 0). */
struct range {
	char *addr;
	size_t len;
	size_t npages;
	uint64_t *pfns;		/* the frames when filled */
	unsigned long seed;
	bool alike;
	size_t first;		/* index of the first word in the pattern */
	uint64_t forbidden;	/* kpageflags expect_owned() rejects */
};

/*
 * Map @npages at an address aligned to @align (0: a page), reserving the
 * slack first so that a PMD-sized range really is one PMD.
 */
static int range_map(struct range *r, int fd, size_t npages, size_t align,
		     int extra_flags)
{
	size_t psz = psize(), span;
	int flags = fd >= 0 ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS;
	char *raw, *p;
	int err;

	memset(r, 0, sizeof(*r));
	r->forbidden = OWNED_FORBIDDEN;
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
	return pages_with_kpageflags(r->addr, r->npages, mask);
}

/*
 * The owner's pages are as it left them: all on @nid, each in the frame it
 * was given (a migrated, replaced, merged or collapsed page has another),
 * none with a kpageflag of @r->forbidden (device pages: on the LRU,
 * mlocked, unevictable, KSM, THP or part of a compound page), and the data
 * as written.
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
		if (flags & r->forbidden) {
			flagged++;
			seen |= flags & r->forbidden;
		}
	}
	EXPECT_EQ(0, moved) {
		TH_LOG("%ld of %zu pages changed frame", moved, r->npages);
	}
	EXPECT_EQ(0, flagged) {
		TH_LOG("%ld pages with kpageflags %#llx", flagged,
		       (unsigned long long)seen);
	}
	EXPECT_TRUE(check_from(r->addr, r->len, r->seed, r->alike, r->first));
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
	/* Nothing was split. */
	EXPECT_EQ(0, c.split_new);
	EXPECT_EQ(0, c.split_done);
	EXPECT_EQ(0, c.split_bad);
}

/*
 * Flush this CPU's LRU batches (lru_add_drain(), as madvise(MADV_COLD)
 * does first). An unmap marks young folios accessed, which queues them on
 * the per-CPU activate batch with a reference: their last put, and the
 * owner's folio_freed, wait for that batch to drain.
 */
static void lru_drain_local(void)
{
	char *p = mmap(NULL, psize(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return;
	*p = 1;
	madvise(p, psize(), MADV_COLD);
	munmap(p, psize());
}

/*
 * Wait until the owner heard of @want frees, or FREE_WAIT_MS. The frees of
 * munmap() and exit reach it before the call returns, from the mmu_gather
 * batch, or once this CPU's LRU batches are drained (the tests run on one
 * CPU); the wait only covers a reference someone else still held. Then
 * QUIET_MS more, so that a folio reported twice shows as a surplus.
 */
static int wait_freed(long want, struct pnt_counters *c)
{
	long end = now_ms() + FREE_WAIT_MS;
	int ret;

	lru_drain_local();
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

/*
 * Unmap @r and check that exactly the @allocated pages came back, in
 * @folios folios, each reported once.
 */
static void unmap_expect_freed_folios(struct __test_metadata *_metadata,
				      struct range *r, long allocated,
				      long folios)
{
	struct pnt_counters c;

	range_unmap(r);
	ASSERT_EQ(0, wait_freed(folios, &c));
	EXPECT_EQ(allocated, c.allocated);
	EXPECT_EQ(folios, c.freed_folios);
	EXPECT_EQ(allocated, c.freed_pages);
	EXPECT_EQ(0, c.freed_bad);
}

/* The same for base pages: one folio per page. */
static void unmap_expect_freed(struct __test_metadata *_metadata,
			       struct range *r, long allocated)
{
	unmap_expect_freed_folios(_metadata, r, allocated, allocated);
}

/*
 * Hand the anonymous range @r to the owner: the driver moves it onto the
 * private node (PNT_IOC_MIGRATE), as base pages or, with @huge, order-9
 * folios. Records the new frames; the pages may now be on the LRU.
 */
static int range_to_private(struct range *r, int fd, bool huge)
{
	long moved = pnt_migrate(fd, r->addr, r->len, huge);

	if (moved < 0)
		return (int)moved;
	if (moved != (long)r->npages)
		return -EAGAIN;
	r->forbidden = ANON_FORBIDDEN | (huge ? 0 : THP_FLAGS);
	return pages_pfns(r->addr, r->npages, r->pfns);
}

/*
 * @npages of anonymous memory holding private folios: written as base
 * pages on DRAM (no THP), then moved onto the private node; with @huge,
 * PMD-aligned holes filled with order-9 private folios, then written.
 */
static int anon_private_map(struct range *r, int fd, size_t npages, bool huge,
			    unsigned long seed, bool alike)
{
	int ret;

	ret = range_map(r, -1, npages, huge ? thp_pmd_size() : 0, 0);
	if (ret)
		return ret;
	if (huge) {
		ret = range_to_private(r, fd, true);
		return ret ? ret : range_fill(r, seed, alike);
	}
	/* Fails with EINVAL without THP: base pages anyway. */
	madvise(r->addr, r->len, MADV_NOHUGEPAGE);
	ret = range_fill(r, seed, alike);
	return ret ? ret : range_to_private(r, fd, false);
}

/*
 * The control: @npages of ordinary anonymous base pages bound to @nid, at
 * an address aligned to @align (0: a page).
 */
static int anon_control_map(struct range *r, size_t npages, size_t align,
			    int nid, unsigned long seed, bool alike)
{
	unsigned long mask = 1UL << nid;
	int ret;

	ret = range_map(r, -1, npages, align, 0);
	if (ret)
		return ret;
	madvise(r->addr, r->len, MADV_NOHUGEPAGE);
	if (mbind(r->addr, r->len, MPOL_BIND, &mask, MASK_MAXNODE, 0))
		return -errno;
	return range_fill(r, seed, alike);
}

/* Pages of @r that are present, or a negative errno. */
static long range_present(const struct range *r)
{
	uint64_t *pfns;
	long count = 0;
	size_t i;
	int ret;

	pfns = calloc(r->npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	ret = pages_pfns(r->addr, r->npages, pfns);
	for (i = 0; !ret && i < r->npages; i++)
		count += pfns[i] != 0;
	free(pfns);
	return ret ? ret : count;
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

/* What every fixture needs: the driver, the private node online, the device. */

static void common_setup(struct __test_metadata *_metadata,
			 struct pnt_config *cfg, int *nid, int *fd)
{
	*fd = -1;
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(cfg));
	ASSERT_EQ(0, pnt_range_ensure("private", true));
	ASSERT_EQ(0, pin_to_this_cpu());
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
TEST_F_TIMEOUT(services, device_vma_mlock_unlocked, 120)
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
TEST_F_TIMEOUT(services, device_vma_mlockall_unlocked, 120)
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
TEST_F_TIMEOUT(services, device_vma_map_locked_unlocked, 120)
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
 * Private folios in ordinary anonymous memory. The driver moves an
 * anonymous range of this process onto the private node with migrate_vma
 * (PNT_IOC_MIGRATE), as a device driver would: the folios are then
 * anonymous, on the private node's LRU, in a VMA that mlock, madvise, KSM
 * and khugepaged all accept, so only the folio tests of patches 6-9 keep
 * those services off them, and the tests below fail if one is reverted.
 * Each has its control: ordinary anonymous memory on a DRAM node, in the
 * same process, treated the same way, that the service does act on.
 */

/*
 * mlock(): the VMA becomes VM_LOCKED and mlock_pte_range() marks the
 * control's pages PG_mlocked, but leaves the private folios evictable and
 * unlocked (patch 6); the private node's Mlocked stays 0.
 */
TEST_F_TIMEOUT(services, mlock_anon, 120)
{
	int dram = dram_node();
	struct range r, ctl;

	ASSERT_LE(0, dram);
	ASSERT_EQ(0, anon_private_map(&r, self->fd, NR_PAGES, false, 20, false));
	ASSERT_EQ(0, anon_control_map(&ctl, NR_PAGES, 0, dram, 21, false));
	ASSERT_EQ(0, mlock(r.addr, r.len));
	ASSERT_EQ(0, mlock(ctl.addr, ctl.len));
	EXPECT_EQ(1, vma_flag(r.addr, "lo"));
	EXPECT_EQ(NR_PAGES, range_pages_with(&ctl, KPF_MLOCKED));
	EXPECT_EQ(0, node_mlocked_kb(self->nid));
	expect_owned(_metadata, &r, self->nid);
	EXPECT_EQ(0, munlock(r.addr, r.len));
	range_unmap(&ctl);
	expect_counters(_metadata, NR_PAGES, 0);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/*
 * A new folio put into a VM_LOCKED VMA is mlocked as it joins the LRU
 * (folio_add_lru_vma()): mlock2(MLOCK_ONFAULT) locks the VMAs without
 * populating them, then the control's pages are faulted in and the
 * private ones inserted by the driver into the holes. The control's pages
 * are PG_mlocked, the private folios are not (patch 6).
 */
TEST_F_TIMEOUT(services, mlock_onfault_anon, 120)
{
	int dram = dram_node();
	unsigned long mask;
	struct range r, ctl;

	ASSERT_LE(0, dram);
	mask = 1UL << dram;
	ASSERT_EQ(0, range_map(&r, -1, NR_PAGES, 0, 0));
	ASSERT_EQ(0, range_map(&ctl, -1, NR_PAGES, 0, 0));
	madvise(r.addr, r.len, MADV_NOHUGEPAGE);
	madvise(ctl.addr, ctl.len, MADV_NOHUGEPAGE);
	ASSERT_EQ(0, mbind(ctl.addr, ctl.len, MPOL_BIND, &mask, MASK_MAXNODE, 0));
	ASSERT_EQ(0, mlock2(r.addr, r.len, MLOCK_ONFAULT));
	ASSERT_EQ(0, mlock2(ctl.addr, ctl.len, MLOCK_ONFAULT));
	EXPECT_EQ(0, range_present(&r));

	ASSERT_EQ(0, range_to_private(&r, self->fd, false));
	ASSERT_EQ(0, range_fill(&r, 22, false));
	ASSERT_EQ(0, range_fill(&ctl, 23, false));
	EXPECT_EQ(NR_PAGES, range_pages_with(&ctl, KPF_MLOCKED));
	EXPECT_EQ(0, node_mlocked_kb(self->nid));
	expect_owned(_metadata, &r, self->nid);
	range_unmap(&ctl);
	expect_counters(_metadata, NR_PAGES, 0);
	unmap_expect_freed(_metadata, &r, NR_PAGES);
}

/*
 * munmap() of a VM_LOCKED range hands each folio to munlock_vma_folio().
 * The private folios were never mlocked, so they must not be parked in
 * this CPU's munlock batch (patch 6): the batch would hold them, and
 * their owner's folio_freed call, until something drains it. Here the
 * owner hears of every free before munmap() returns, with nothing drained
 * in between; NR_LOCKED_UNMAP pages would sit in the batch without filling
 * it. Control: the same range unmapped without mlock() is freed at once
 * too, so the count is not late for another reason.
 */
#define NR_LOCKED_UNMAP	16

TEST_F_TIMEOUT(services, munmap_locked_frees_at_once, 120)
{
	struct pnt_counters before, after;
	struct range r, ctl;

	ASSERT_EQ(0, anon_private_map(&ctl, self->fd, NR_LOCKED_UNMAP, false,
				      24, false));
	ASSERT_EQ(0, anon_private_map(&r, self->fd, NR_LOCKED_UNMAP, false,
				      25, false));
	ASSERT_EQ(0, pnt_counters_read(&before));
	range_unmap(&ctl);
	ASSERT_EQ(0, pnt_counters_read(&after));
	EXPECT_EQ(NR_LOCKED_UNMAP, after.freed_folios - before.freed_folios);

	ASSERT_EQ(0, mlock(r.addr, r.len));
	EXPECT_EQ(1, vma_flag(r.addr, "lo"));
	before = after;
	range_unmap(&r);
	ASSERT_EQ(0, pnt_counters_read(&after));
	EXPECT_EQ(NR_LOCKED_UNMAP, after.freed_folios - before.freed_folios);
}

/*
 * Order-9 private folios: the driver fills PMD-aligned holes with them and
 * they are mapped by PMDs (every page is part of a THP). munmap() frees
 * each as one folio of 512 pages, reported once, and nothing is split.
 */
TEST_F_TIMEOUT(services, free_anon_thp, 120)
{
	size_t npages = THP_HPAGES * thp_pmd_size() / psize();
	struct range r;

	if (access(THP_DIR, F_OK))
		SKIP(return, "no THP: the driver hands out base pages only");
	ASSERT_EQ(0, anon_private_map(&r, self->fd, npages, true, 24, false));
	EXPECT_EQ((long)npages, range_pages_with(&r, KPF_THP));
	expect_owned(_metadata, &r, self->nid);
	expect_counters(_metadata, (long)npages, 0);
	unmap_expect_freed_folios(_metadata, &r, (long)npages, THP_HPAGES);
}

/* Wait up to FREE_WAIT_MS for a split to end, shrinking slab meanwhile. */
static int wait_split(struct pnt_counters *c)
{
	long end = now_ms() + FREE_WAIT_MS;
	int ret;

	for (;;) {
		/* drop_slab() runs the deferred split shrinker on every node. */
		drop_slab_caches();
		ret = pnt_counters_read(c);
		if (ret || c->split_done || now_ms() > end)
			break;
		sleep_ms(100);
	}
	sleep_ms(QUIET_MS);
	return ret ? ret : pnt_counters_read(c);
}

/*
 * Splitting a private THP. Unmapping its first page leaves the folio
 * partly mapped, queued for a deferred split, which the shrinker does
 * (vm.drop_caches): the owner hears of the 511 new folios and of the end
 * of the split, all parts of its folio on its node (split_bad 0), and of
 * the unmapped page freed. The rest stays on the private node as base
 * pages with its data, and comes back page by page on munmap().
 */
TEST_F_TIMEOUT(services, split_anon_thp, 120)
{
	size_t psz = psize(), npages = thp_pmd_size() / psz;
	struct pnt_counters c;
	struct range r;

	if (access(THP_DIR, F_OK))
		SKIP(return, "no THP: nothing to split");
	ASSERT_EQ(0, anon_private_map(&r, self->fd, npages, true, 25, false));
	EXPECT_EQ((long)npages, range_pages_with(&r, KPF_THP));
	expect_counters(_metadata, (long)npages, 0);

	ASSERT_EQ(0, munmap(r.addr, psz));
	ASSERT_EQ(0, wait_split(&c));
	EXPECT_EQ((long)npages - 1, c.split_new);
	EXPECT_EQ(1, c.split_done);
	EXPECT_EQ(0, c.split_bad);
	EXPECT_EQ(1, c.freed_folios);
	EXPECT_EQ(1, c.freed_pages);

	/* What is left, pages [1, npages), as base pages in the same frames. */
	r.addr += psz;
	r.len -= psz;
	r.npages--;
	memmove(r.pfns, r.pfns + 1, r.npages * sizeof(*r.pfns));
	r.first = psz / sizeof(unsigned long);
	r.forbidden |= THP_FLAGS;
	expect_owned(_metadata, &r, self->nid);
	range_unmap(&r);
	ASSERT_EQ(0, wait_freed((long)npages, &c));
	EXPECT_EQ((long)npages, c.freed_folios);
	EXPECT_EQ((long)npages, c.freed_pages);
	EXPECT_EQ((long)npages - 1, c.split_new);
}

/*
 * mprotect() of part of a private THP splits the PMD mapping, not the
 * folio: it stays one order-9 folio (every page still part of a THP),
 * nothing is split, and it is freed as one folio.
 */
TEST_F_TIMEOUT(services, mprotect_anon_thp, 120)
{
	size_t psz = psize(), npages = thp_pmd_size() / psz;
	struct range r;

	if (access(THP_DIR, F_OK))
		SKIP(return, "no THP: nothing to split");
	ASSERT_EQ(0, anon_private_map(&r, self->fd, npages, true, 26, false));
	ASSERT_EQ(0, mprotect(r.addr, psz, PROT_READ));
	EXPECT_EQ((long)npages, range_pages_with(&r, KPF_THP));
	expect_owned(_metadata, &r, self->nid);
	expect_counters(_metadata, (long)npages, 0);
	unmap_expect_freed_folios(_metadata, &r, (long)npages, 1);
}

/*
 * Every page the driver hands out comes back through folio_freed exactly
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
 * Put the pages of @r in a pipe with vmsplice() (get_user_pages: the pipe
 * holds references to the pages themselves) and unmap @r: its pages are
 * then only the pipe's. 0, or -1 with errno set.
 */
static int pipe_take_pages(struct range *r, int p[2])
{
	struct iovec iov = { .iov_base = r->addr, .iov_len = r->len };

	if (pipe(p))
		return -1;
	if (vmsplice(p[1], &iov, 1, SPLICE_F_NONBLOCK) != (ssize_t)r->len ||
	    munmap(r->addr, r->len))
		return -1;
	r->addr = NULL;
	return 0;
}

/*
 * Read @len bytes back from the pipe of pipe_take_pages() and close it,
 * which drops its references one put_page() at a time: true if the data
 * is that of @seed.
 */
static bool pipe_give_back(int p[2], size_t len, unsigned long seed)
{
	char *copy = malloc(len);
	bool ok;

	ok = copy && read(p[0], copy, len) == (ssize_t)len &&
	     check(copy, len, seed, false);
	free(copy);
	close(p[0]);
	close(p[1]);
	return ok;
}

/*
 * A reference that outlives the mapping: vmsplice() puts the pages
 * themselves in a pipe (get_user_pages), so munmap() frees nothing; the
 * data is still readable from the pipe, and reading it drops the last
 * references one put_page() at a time. That is the __folio_put() path of
 * the folio_freed hook, not the batched one: each page reported once.
 */
TEST_F_TIMEOUT(services, pipe_ref_outlives_unmap, 120)
{
	struct pnt_counters c;
	struct range r;
	int p[2];

	ASSERT_EQ(0, range_map(&r, self->fd, NR_PIPE, 0, 0));
	ASSERT_EQ(0, range_fill(&r, 12, false));
	ASSERT_EQ(0, pipe_take_pages(&r, p));
	sleep_ms(QUIET_MS);
	expect_counters(_metadata, NR_PIPE, 0);

	EXPECT_TRUE(pipe_give_back(p, NR_PIPE * psize(), 12));
	ASSERT_EQ(0, wait_freed(NR_PIPE, &c));
	EXPECT_EQ(NR_PIPE, c.allocated);
	EXPECT_EQ(NR_PIPE, c.freed_folios);
	EXPECT_EQ(NR_PIPE, c.freed_pages);
	range_unmap(&r);
}

/*
 * The owner sees one folio state on both free paths: anonymous private
 * folios (on the LRU, charged to a memcg) freed by munmap() go through the
 * batch, and their copies whose last reference is a pipe's go through
 * __folio_put() when the pipe is read. Either way the driver must hear of
 * each folio once it is unmapped, off the LRU and uncharged (freed_bad 0).
 * Fails if the single-put hook runs before __folio_put() has taken the
 * folio off the LRU and its memcg.
 */
TEST_F_TIMEOUT(services, free_anon_one_state, 120)
{
	struct pnt_counters c;
	struct range r;
	int p[2];

	/* The batch: munmap() of private anonymous folios. */
	ASSERT_EQ(0, anon_private_map(&r, self->fd, NR_PIPE, false, 31, false));
	ASSERT_EQ(NR_PIPE, pages_on_node(r.addr, r.len, self->nid));
	unmap_expect_freed(_metadata, &r, NR_PIPE);
	ASSERT_EQ(0, pnt_counters_reset());

	/* The single put: the pipe holds the last references. */
	ASSERT_EQ(0, anon_private_map(&r, self->fd, NR_PIPE, false, 32, false));
	ASSERT_EQ(NR_PIPE, pages_on_node(r.addr, r.len, self->nid));
	ASSERT_EQ(0, pipe_take_pages(&r, p));
	EXPECT_TRUE(pipe_give_back(p, NR_PIPE * psize(), 32));
	ASSERT_EQ(0, wait_freed(NR_PIPE, &c));
	EXPECT_EQ(NR_PIPE, c.freed_folios);
	EXPECT_EQ(NR_PIPE, c.freed_pages);
	EXPECT_EQ(0, c.freed_bad);
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

FIXTURE(device_vma_madvise) {
	struct pnt_config cfg;
	int nid;
	int fd;
};

FIXTURE_VARIANT(device_vma_madvise) {
	int advice;
	int err;		/* expected errno, 0 for success */
	enum need need;
	const char *vmflag;	/* a VmFlags entry the advice sets or not */
	int vmflag_set;
};

/* Deactivates nothing here: the PTE walk skips private folios. */
FIXTURE_VARIANT_ADD(device_vma_madvise, cold) {
	.advice = MADV_COLD,
};

/* Reclaims nothing here: the same walk, with reclaim of what it isolated. */
FIXTURE_VARIANT_ADD(device_vma_madvise, pageout) {
	.advice = MADV_PAGEOUT,
};

/* madvise_free_single_vma(): "MADV_FREE works for only anon vma". */
FIXTURE_VARIANT_ADD(device_vma_madvise, free) {
	.advice = MADV_FREE,
	.err = EINVAL,
};

/* ksm_madvise(): ksm_compatible() ignores VM_SHARED and VM_SPECIAL VMAs. */
FIXTURE_VARIANT_ADD(device_vma_madvise, mergeable) {
	.advice = MADV_MERGEABLE,
	.need = NEED_KSM,
	.vmflag = "mg",
	.vmflag_set = 0,
};

/* hugepage_madvise() only sets VM_HUGEPAGE; khugepaged skips VM_SPECIAL. */
FIXTURE_VARIANT_ADD(device_vma_madvise, hugepage) {
	.advice = MADV_HUGEPAGE,
	.need = NEED_THP,
	.vmflag = "hg",
	.vmflag_set = 1,
};

/* madvise_collapse(): VM_NO_KHUGEPAGED makes collapse_possible() false. */
FIXTURE_VARIANT_ADD(device_vma_madvise, collapse) {
	.advice = MADV_COLLAPSE,
	.err = EINVAL,
	.need = NEED_THP,
};

/* madvise_willneed(): readahead of the device file, a no-op. */
FIXTURE_VARIANT_ADD(device_vma_madvise, willneed) {
	.advice = MADV_WILLNEED,
};

FIXTURE_SETUP(device_vma_madvise)
{
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
}

FIXTURE_TEARDOWN(device_vma_madvise)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(device_vma_madvise, pages_untouched, 120)
{
	size_t hpage = thp_pmd_size();
	size_t npages = THP_HPAGES * hpage / psize();
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
 * The advices that reclaim or age anonymous memory, on private folios in
 * an anonymous VMA (base pages, or order-9 folios mapped by PMDs), next to
 * an ordinary control range of base pages that shows each advice taking
 * effect:
 *   COLD     deactivates: the control's pages, made active first (read
 *            twice through /proc/self/mem, which marks them accessed),
 *            end up neither active nor referenced; the private ones stay
 *            active;
 *   PAGEOUT  reclaims: the control's pages go to swap (zram), no longer
 *            present; the private ones stay in their frames;
 *   FREE     makes pages lazily freeable: the control's lose
 *            PG_swapbacked; the private ones keep it.
 * Both ranges return 0 (madvise(2)). The LRU changes go through per-CPU
 * batches, so the test stays on one CPU and flushes them (lru_drain()).
 */
enum effect { EFFECT_INACTIVE, EFFECT_SWAPPED, EFFECT_LAZYFREE };

FIXTURE(anon_madv) {
	struct pnt_config cfg;
	int nid;
	int fd;
	int dram;
	bool swap_added;
	char *drain_page;
};

FIXTURE_VARIANT(anon_madv) {
	int advice;
	enum effect effect;
	bool huge;
};

FIXTURE_VARIANT_ADD(anon_madv, cold) {
	.advice = MADV_COLD,
	.effect = EFFECT_INACTIVE,
};

FIXTURE_VARIANT_ADD(anon_madv, pageout) {
	.advice = MADV_PAGEOUT,
	.effect = EFFECT_SWAPPED,
};

FIXTURE_VARIANT_ADD(anon_madv, pageout_thp) {
	.advice = MADV_PAGEOUT,
	.effect = EFFECT_SWAPPED,
	.huge = true,
};

FIXTURE_VARIANT_ADD(anon_madv, free) {
	.advice = MADV_FREE,
	.effect = EFFECT_LAZYFREE,
};

FIXTURE_VARIANT_ADD(anon_madv, free_thp) {
	.advice = MADV_FREE,
	.effect = EFFECT_LAZYFREE,
	.huge = true,
};

/* Flush this CPU's LRU batches: madvise_cold() starts with lru_add_drain(). */
static int lru_drain(char *page)
{
	return madvise(page, psize(), MADV_COLD) ? -errno : 0;
}

/* Read every page twice through /proc/self/mem: folio_mark_accessed(). */
static int range_reference_twice(const struct range *r)
{
	size_t psz = psize(), i;
	int fd, pass, ret = 0;
	char c;

	fd = open("/proc/self/mem", O_RDONLY);
	if (fd < 0)
		return -errno;
	for (pass = 0; pass < 2 && !ret; pass++)
		for (i = 0; i < r->npages && !ret; i++)
			if (pread(fd, &c, 1, (off_t)(uintptr_t)(r->addr + i * psz)) != 1)
				ret = -EIO;
	close(fd);
	return ret;
}

FIXTURE_SETUP(anon_madv)
{
	int ret;

	self->drain_page = MAP_FAILED;
	common_setup(_metadata, &self->cfg, &self->nid, &self->fd);
	if (variant->huge && access(THP_DIR, F_OK))
		SKIP(return, "no THP: no large private folios");
	self->dram = dram_node();
	ASSERT_LE(0, self->dram);
	ASSERT_EQ(0, pin_to_node(self->dram));
	ASSERT_EQ(0, pin_to_this_cpu());
	self->drain_page = mmap(NULL, psize(), PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->drain_page);
	if (variant->effect == EFFECT_SWAPPED) {
		ret = zram_swap_add();
		if (ret == -ENOENT)
			SKIP(return, "no swap and no zram0 to swap on");
		ASSERT_LE(0, ret);
		self->swap_added = ret;
	}
}

FIXTURE_TEARDOWN(anon_madv)
{
	if (self->swap_added && zram_swap_remove())
		ksft_print_msg("swapoff %s: %s\n", ZRAM_DEV, strerror(errno));
	if (self->drain_page != MAP_FAILED)
		munmap(self->drain_page, psize());
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(anon_madv, private_folios_stay, 180)
{
	size_t npages = variant->huge ?
			THP_HPAGES * thp_pmd_size() / psize() : NR_PAGES;
	uint64_t kept = 0;
	struct range r, ctl;

	ASSERT_EQ(0, anon_private_map(&r, self->fd, npages, variant->huge,
				      30, false));
	ASSERT_EQ(0, anon_control_map(&ctl, NR_PAGES, 0, self->dram, 31, false));
	if (variant->effect == EFFECT_INACTIVE) {
		ASSERT_EQ(0, range_reference_twice(&r));
		ASSERT_EQ(0, range_reference_twice(&ctl));
		ASSERT_EQ(0, lru_drain(self->drain_page));
		ASSERT_EQ(NR_PAGES, range_pages_with(&ctl, KPF_ACTIVE));
		kept = KPF_ACTIVE;
	} else if (variant->effect == EFFECT_LAZYFREE) {
		kept = KPF_SWAPBACKED;
	}
	if (kept)
		ASSERT_EQ((long)npages, range_pages_with(&r, kept));

	EXPECT_EQ(0, madvise(r.addr, r.len, variant->advice) ? errno : 0);
	EXPECT_EQ(0, madvise(ctl.addr, ctl.len, variant->advice) ? errno : 0);
	ASSERT_EQ(0, lru_drain(self->drain_page));

	switch (variant->effect) {
	case EFFECT_INACTIVE:
		/* (No THP variant: GUP does not mark a PMD-mapped folio accessed.) */
		EXPECT_EQ(0, range_pages_with(&ctl, KPF_ACTIVE |
					      KPF_REFERENCED));
		break;
	case EFFECT_SWAPPED:
		EXPECT_EQ(0, range_present(&ctl));
		break;
	case EFFECT_LAZYFREE:
		EXPECT_EQ(0, range_pages_with(&ctl, KPF_SWAPBACKED));
		break;
	}
	expect_owned(_metadata, &r, self->nid);
	if (kept)
		EXPECT_EQ((long)npages, range_pages_with(&r, kept));
	if (variant->huge)
		EXPECT_EQ((long)npages, range_pages_with(&r, KPF_THP));
	range_unmap(&ctl);
	expect_counters(_metadata, (long)npages, 0);
	unmap_expect_freed_folios(_metadata, &r, (long)npages,
				  variant->huge ? THP_HPAGES : (long)npages);
}

/*
 * KSM. Two ranges of private pages and one ordinary anonymous range hold
 * the same data, every page alike, all MADV_MERGEABLE, with ksmd running
 * fast. The control pages merge into KSM pages within KSM_WAIT_MS, which
 * shows ksmd ran and would have merged anything it considered; then two
 * more full scans pass. Merged pages (pages_shared + pages_sharing) are
 * exactly the control's, the private pages are in their frames, not KSM,
 * data intact, none freed. Fails if KSM merged a private page or freed one
 * behind its owner; SKIPs without CONFIG_KSM. The knobs are put back by
 * the parent. The private pages are the device's (variant "device": KSM
 * ignores the VMA) or private folios in anonymous memory (variant "anon":
 * the VMA is mergeable, ksmd walks it, patch 8 skips the folios).
 */
enum { KSM_SCAN, KSM_SLEEP, KSM_SMART, KSM_RUN, NR_KSM_TUNABLES };

FIXTURE(ksm) {
	struct pnt_config cfg;
	int nid;
	int fd;
	struct tunable tun[NR_KSM_TUNABLES];
};

FIXTURE_VARIANT(ksm) {
	bool anon;
};

FIXTURE_VARIANT_ADD(ksm, device_vma) {
	.anon = false,
};

FIXTURE_VARIANT_ADD(ksm, anon) {
	.anon = true,
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

/* @npages of private pages filled with @seed: the device's or anonymous. */
static int owned_map(struct range *r, int fd, bool anon, size_t npages,
		     unsigned long seed, bool alike)
{
	int ret;

	if (anon)
		return anon_private_map(r, fd, npages, false, seed, alike);
	ret = range_map(r, fd, npages, 0, 0);
	return ret ? ret : range_fill(r, seed, alike);
}

TEST_F_TIMEOUT(ksm, private_pages_not_merged, 300)
{
	struct range a, b, ctl;
	long base, merged, scans, end, v;

	ASSERT_EQ(0, owned_map(&a, self->fd, variant->anon, KSM_PAGES, 14, true));
	ASSERT_EQ(0, owned_map(&b, self->fd, variant->anon, KSM_PAGES, 14, true));
	ASSERT_EQ(0, range_map(&ctl, -1, KSM_PAGES, 0, 0));
	ASSERT_EQ(0, range_fill(&ctl, 14, true));

	/*
	 * Accepted either way. The device VMA is not made VM_MERGEABLE;
	 * the anonymous one is, and only the folio test keeps KSM off.
	 */
	EXPECT_EQ(0, madvise(a.addr, a.len, MADV_MERGEABLE));
	EXPECT_EQ(0, madvise(b.addr, b.len, MADV_MERGEABLE));
	EXPECT_EQ(variant->anon, vma_flag(a.addr, "mg"));
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
	EXPECT_EQ(KSM_PAGES, range_pages_with(&ctl, KPF_KSM));
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

/* THP "always", khugepaged scanning 8 PMDs every 10 ms. */
static int khugepaged_speed_up(struct tunable *tun)
{
	char scan[32];
	int ret;

	snprintf(scan, sizeof(scan), "%zu", 8 * thp_pmd_size() / psize());
	ret = tunable_set(&tun[THP_ENABLED], THP_DIR "/enabled", "always");
	if (!ret)
		ret = tunable_set(&tun[THP_SCAN_SLEEP],
				  THP_DIR "/khugepaged/scan_sleep_millisecs", "10");
	if (!ret)
		ret = tunable_set(&tun[THP_ALLOC_SLEEP],
				  THP_DIR "/khugepaged/alloc_sleep_millisecs", "10");
	if (!ret)
		ret = tunable_set(&tun[THP_SCAN],
				  THP_DIR "/khugepaged/pages_to_scan", scan);
	return ret;
}

/*
 * The control range: @npages of ordinary base pages, PMD-aligned, then
 * MADV_HUGEPAGE (which makes the VMA eligible and registers the mm with
 * khugepaged).
 */
static int collapse_control_map(struct range *r, size_t npages, int nid)
{
	int ret = anon_control_map(r, npages, thp_pmd_size(), nid, 16, false);

	if (ret)
		return ret;
	if (range_pages_with(r, KPF_THP))
		return -EEXIST;
	return madvise(r->addr, r->len, MADV_HUGEPAGE) ? -errno : 0;
}

/* Wait up to THP_WAIT_MS for every page of @r to be part of a THP. */
static long wait_collapsed(const struct range *r)
{
	long thps, end = now_ms() + THP_WAIT_MS;

	do {
		thps = range_pages_with(r, KPF_THP);
		if (thps < 0 || thps == (long)r->npages)
			break;
		sleep_ms(100);
	} while (now_ms() < end);
	return thps;
}

/* Private pages at the start of each PMD of a mixed range. */
#define MIXED_PRIVATE	64

/*
 * A mixed range: THP_HPAGES PMDs of anonymous base pages on the DRAM node
 * @dram, the first MIXED_PRIVATE pages of each moved onto the private
 * node. As most of each PMD is on DRAM, collapsing it would put the THP
 * there, copying the private pages away and freeing them: only the folio
 * test of patch 9 stops khugepaged and MADV_COLLAPSE. (A range all on the
 * private node would not show it: the THP could not be allocated there.)
 */
static int mixed_map(struct range *r, int fd, int dram, unsigned long seed)
{
	size_t hpage = thp_pmd_size(), psz = psize(), i;
	int ret;

	ret = anon_control_map(r, THP_HPAGES * hpage / psz, hpage, dram, seed,
			       false);
	for (i = 0; !ret && i < THP_HPAGES; i++) {
		long moved = pnt_migrate(fd, r->addr + i * hpage,
					 MIXED_PRIVATE * psz, false);

		if (moved != MIXED_PRIVATE)
			ret = moved < 0 ? (int)moved : -EAGAIN;
	}
	if (!ret)
		ret = pages_pfns(r->addr, r->npages, r->pfns);
	if (!ret && madvise(r->addr, r->len, MADV_HUGEPAGE))
		ret = -errno;
	return ret;
}

/*
 * The mixed range is as mixed_map() left it: each page on its node, in its
 * frame, not part of a THP, not mlocked or KSM, the data intact.
 */
static void expect_mixed(struct __test_metadata *_metadata,
			 const struct range *r, int nid, int dram)
{
	size_t per = thp_pmd_size() / psize(), i;
	long misplaced = 0, moved = 0, flagged = 0;
	uint64_t *now, flags;
	int *status;

	now = calloc(r->npages, sizeof(*now));
	status = calloc(r->npages, sizeof(*status));
	ASSERT_TRUE(now && status);
	ASSERT_EQ(0, pages_status(r->addr, r->npages, status));
	ASSERT_EQ(0, pages_pfns(r->addr, r->npages, now));
	for (i = 0; i < r->npages; i++) {
		if (status[i] != (i % per < MIXED_PRIVATE ? nid : dram))
			misplaced++;
		if (now[i] != r->pfns[i]) {
			moved++;
			continue;
		}
		ASSERT_EQ(0, pfn_kpageflags(now[i], &flags));
		if (flags & (ANON_FORBIDDEN | THP_FLAGS))
			flagged++;
	}
	EXPECT_EQ(0, misplaced);
	EXPECT_EQ(0, moved);
	EXPECT_EQ(0, flagged);
	EXPECT_TRUE(check(r->addr, r->len, r->seed, false));
	free(status);
	free(now);
}

TEST_F_TIMEOUT(thp, device_vma_not_collapsed, 300)
{
	bool have_thp = !access(THP_DIR "/enabled", F_OK);
	size_t hpage = thp_pmd_size();
	size_t npages = THP_HPAGES * hpage / psize();
	struct range dev, ctl;
	long thps, scans;

	if (have_thp)
		ASSERT_EQ(0, khugepaged_speed_up(self->tun));

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

	ASSERT_EQ(0, collapse_control_map(&ctl, npages, dram_node()));
	thps = wait_collapsed(&ctl);
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

/*
 * khugepaged and private folios in anonymous memory: a mixed range
 * (mixed_map()) and an ordinary control range, both MADV_HUGEPAGE, with
 * khugepaged scanning fast. The control is collapsed; two full scans
 * later, the mixed range is not.
 */
TEST_F_TIMEOUT(thp, khugepaged_skips_anon_private, 300)
{
	size_t npages = THP_HPAGES * thp_pmd_size() / psize();
	int dram = dram_node();
	struct range r, ctl;
	long thps, scans;

	if (access(THP_DIR "/enabled", F_OK))
		SKIP(return, "no THP: no khugepaged");
	ASSERT_LE(0, dram);
	ASSERT_EQ(0, khugepaged_speed_up(self->tun));
	ASSERT_EQ(0, mixed_map(&r, self->fd, dram, 17));
	ASSERT_EQ(0, collapse_control_map(&ctl, npages, dram));
	thps = wait_collapsed(&ctl);
	ASSERT_EQ((long)npages, thps) {
		TH_LOG("khugepaged collapsed %ld of %zu control pages in %d s",
		       thps, npages, THP_WAIT_MS / 1000);
	}
	scans = read_long(THP_DIR "/khugepaged/full_scans");
	ASSERT_LE(0, scans);
	EXPECT_LE(scans + 2, wait_counter(THP_DIR "/khugepaged/full_scans",
					  scans + 2, SCANS_WAIT_MS));
	expect_mixed(_metadata, &r, self->nid, dram);
	expect_counters(_metadata, THP_HPAGES * MIXED_PRIVATE, 0);
	range_unmap(&ctl);
	unmap_expect_freed(_metadata, &r, THP_HPAGES * MIXED_PRIVATE);
}

/*
 * MADV_COLLAPSE of a mixed range fails with EINVAL (the scan result
 * SCAN_PAGE_NULL: "error intrinsic to the range") and leaves it as it
 * was; the same call collapses an ordinary control range (0, all THP).
 */
TEST_F_TIMEOUT(thp, collapse_skips_anon_private, 120)
{
	size_t npages = THP_HPAGES * thp_pmd_size() / psize();
	int dram = dram_node();
	struct range r, ctl;

	if (access(THP_DIR "/enabled", F_OK))
		SKIP(return, "no THP: nothing to collapse");
	ASSERT_LE(0, dram);
	ASSERT_EQ(0, mixed_map(&r, self->fd, dram, 18));
	ASSERT_EQ(0, collapse_control_map(&ctl, npages, dram));
	EXPECT_EQ(0, madvise(ctl.addr, ctl.len, MADV_COLLAPSE) ? errno : 0);
	EXPECT_EQ((long)npages, range_pages_with(&ctl, KPF_THP));
	EXPECT_EQ(EINVAL, madvise(r.addr, r.len, MADV_COLLAPSE) ? errno : 0);
	expect_mixed(_metadata, &r, self->nid, dram);
	expect_counters(_metadata, THP_HPAGES * MIXED_PRIVATE, 0);
	range_unmap(&ctl);
	unmap_expect_freed(_metadata, &r, THP_HPAGES * MIXED_PRIVATE);
}

TEST_HARNESS_MAIN
