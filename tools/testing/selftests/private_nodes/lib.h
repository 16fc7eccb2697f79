/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the private-nodes selftests.
 *
 * Every function that can fail returns a negative errno; they never exit,
 * so the tests decide what a failure means.
 */
#ifndef PRIVATE_NODES_LIB_H
#define PRIVATE_NODES_LIB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vm_util.h"	/* the tree's mm selftest helpers */

#define KIB		1024UL
#define MIB		(1024UL * KIB)
/* A PMD-sized huge page (x86-64). */
#define HPAGE		(2 * MIB)
#define WMARK_SCALE	"/proc/sys/vm/watermark_scale_factor"

/*
 * /proc/kpageflags bits that vm_util.h does not define (uapi
 * kernel-page-flags.h; MLOCKED is internal), as masks like its own.
 */
#define KPF_REFERENCED		BIT_ULL(2)
#define KPF_LRU			BIT_ULL(5)
#define KPF_ACTIVE		BIT_ULL(6)
#define KPF_SWAPBACKED		BIT_ULL(14)
#define KPF_UNEVICTABLE		BIT_ULL(18)
#define KPF_HWPOISON		BIT_ULL(19)
#define KPF_KSM			BIT_ULL(21)
#define KPF_MLOCKED		BIT_ULL(33)

/* Node masks are single words: the lab has four nodes. */
#define MASK_BITS	(8 * sizeof(unsigned long))
/* maxnode for mbind & co: the kernel reads maxnode - 1 bits. */
#define MASK_MAXNODE	(MASK_BITS + 1)

/* The test driver's view of the lab, from its module parameters. */
struct pnt_config {
	int private_nid;
	unsigned long private_size;	/* bytes */
	int control_nid;
	unsigned long control_size;	/* bytes */
};

/*
 * Fill @cfg from /sys/module/private_node_test/parameters, or from the
 * environment (PRIVATE_NID, PRIVATE_SIZE_MB, CONTROL_NID, CONTROL_SIZE_MB,
 * as in machine.env) if the driver is not loaded.
 */
int pnt_config(struct pnt_config *cfg);
/* True if /sys/kernel/debug/private_node_test/ exists. */
bool pnt_driver_loaded(void);

/*
 * The driver's debugfs "counters": pages it handed out, and the owner
 * callbacks it saw for folios of the private node.
 */
struct pnt_counters {
	long allocated;		/* pages allocated by the fault handler */
	long freed_folios;	/* folio_freed callbacks */
	long freed_pages;	/* pages in those folios */
	long freed_bad;		/* folios still mapped, on the LRU or charged */
	long split_new;		/* folio_split callbacks with a new folio */
	long split_done;	/* folio_split callbacks ending a split */
	long split_bad;		/* callbacks with folios not of one private folio */
	long migrate_to_calls;	/* migrate_to callbacks */
	long migrate_to_folios;	/* folios they migrated */
	long migrate_in;	/* pages that folio_migrate saw arrive */
	long migrate_out;	/* pages that folio_migrate saw leave */
	long migrate_bad;	/* folio_migrate calls with unlocked or unlike folios */
	long migrate_within;	/* pages it saw move within the node */
	long demoted;		/* pages migrate_to took for reclaim */
	long demotion_refused;	/* demotions it refused (refuse_demotion) */
	long write_faults;	/* handle_fault calls */
	long write_faults_pmd;	/* those for a PMD-mapped THP */
	long write_faults_bad;	/* those not for a write to a private folio */
	long promoted;		/* pages handle_fault moved to DRAM */
	long promote_failed;	/* moves that failed */
	long reclaim_policy;	/* reclaim_policy calls */
	long mf_hard;		/* memory_failure calls for hardware errors */
	long mf_soft;		/* memory_failure calls for soft offline */
};
int pnt_counters_read(struct pnt_counters *c);
int pnt_counters_reset(void);

/*
 * PNT_IOC_MIGRATE on the device @fd: move the caller's anonymous memory at
 * [addr, addr + len) onto the private node, as base pages or (@huge)
 * order-9 folios. The number of pages moved, or a negative errno.
 */
long pnt_migrate(int fd, void *addr, size_t len, bool huge);

/* NP_OPS_* flags, as in include/linux/node_private.h. */
#define NP_OPS_MIGRATION	(1UL << 0)
#define NP_OPS_MEMPOLICY	(1UL << 1)
#define NP_OPS_DEMOTION		(1UL << 2)
#define NP_OPS_PROTECT_WRITE	(1UL << 3)
#define NP_OPS_RECLAIM		(1UL << 4)
#define NP_OPS_OOM_ELIGIBLE	(1UL << 5)
#define NP_OPS_NUMA_BALANCING	(1UL << 6)
#define NP_OPS_COMPACTION	(1UL << 7)
#define NP_OPS_LONGTERM_PIN	(1UL << 8)

/*
 * Bring the private range up with the owner opted into @flags (np_ops):
 * remove it if it is online, set the flags, add it. 0 or -errno; -EOPNOTSUPP
 * if the kernel does not know one of @flags (np_ops_supported).
 */
int pnt_private_with_ops(unsigned long flags);
/* Set the driver's module parameter @name (a number or a bool) to @val. */
int pnt_param_write(const char *name, long val);

/* @range is "private" or "control"; @cmd is "add" or "remove". */
int pnt_range_write(const char *range, const char *cmd);
/*
 * A spare node for the foreign range (as an ordinary lower tier, or as a
 * second private node): possible, without memory, neither the private nor
 * the control node. Its id, or -ENOENT.
 */
int pnt_spare_nid(const struct pnt_config *cfg);
/* 1 if the range is online, 0 if offline. */
int pnt_range_state(const char *range);
/* Add or remove the range unless it already is in the wanted state. */
int pnt_range_ensure(const char *range, bool online);

/*
 * Read a small file into @buf (NUL-terminated); its length or -errno.
 * (vm_util's read_file() cannot tell an error from an empty file.)
 */
int read_text(const char *path, char *buf, size_t len);
/*
 * Write @s to @path in one write(); 0 or -errno, which the tests check
 * (vm_util's write_file() exits on any error).
 */
int write_text(const char *path, const char *s);

/* A "Node N <field>: V kB" value from nodeN/meminfo, in kB. */
long node_meminfo_kb(int nid, const char *field);
/*
 * Fold the per-cpu vm counters and let the per-cpu page lists of remote
 * zones drain, until MemFree of @nid equals @want (pass -1 for "until it
 * stops changing"). Returns the final MemFree in kB.
 */
long node_free_settled_kb(int nid, long want);

/*
 * Fold the per-cpu vm counters into the zone and node counters, so that
 * nodeN/meminfo is exact (vm.stat_refresh; without it, wait a second for
 * the vmstat worker).
 */
void vm_counters_fold(void);

/* 1 if @nid is in /sys/devices/system/node/@file (a node list). */
int nodelist_has(const char *file, int nid);
/* The node list @file as a mask. */
int nodelist_mask(const char *file, unsigned long *mask);
/*
 * The value of a "Name:   N kB" line of /proc/meminfo, or of a "name N"
 * line of /proc/vmstat, or -errno.
 */
long proc_value(const char *file, const char *name);
/* The memory tier (memory_tierN) whose nodelist holds @nid, or -ENOENT. */
int memtier_of_node(int nid);

/*
 * Where are the @npages pages at @addr? Fills @status like move_pages()
 * with nodes == NULL: a node id, or -ENOENT/-EFAULT for absent pages.
 */
int pages_status(void *addr, size_t npages, int *status);
/* Number of pages of [addr, addr + len) on @nid, or a negative errno. */
long pages_on_node(void *addr, size_t len, int nid);
/* True if every page of [addr, addr + len) is on @nid. */
bool pages_all_on(void *addr, size_t len, int nid);
/*
 * The page frame of each of the @npages pages at @addr (vm_util's
 * pagemap_get_pfn()): 0 for a page that is not present (and for all pages
 * without CAP_SYS_ADMIN, which hides frame numbers).
 */
int pages_pfns(void *addr, size_t npages, uint64_t *pfns);
/* The /proc/kpageflags word of @pfn (vm_util's pageflags_get()). */
int pfn_kpageflags(uint64_t pfn, uint64_t *flags);
/*
 * How many of the @npages present pages at @addr have any of the
 * kpageflags in @mask (KPF_* bit masks, as in vm_util.h), or -errno.
 */
long pages_with_kpageflags(void *addr, size_t npages, uint64_t mask);

/* Write one byte per page so that every page is allocated. */
void touch_pages(void *addr, size_t len);

/*
 * @len bytes of private anonymous memory (mmap() @flags added) starting
 * on a huge page boundary, so that THPs can back all of it; MAP_FAILED
 * with errno set on failure.
 */
void *mmap_hpage_aligned(size_t len, int flags);

/*
 * Allocatable memory of @nid before the page allocator falls back to
 * another node: free pages above the low watermark and lowmem reserve of
 * each zone, from /proc/zoneinfo. In kB.
 */
long node_headroom_kb(int nid);
/* A zone of a node, from /proc/zoneinfo (pages; watermarks with boost). */
struct zone_state {
	long free, min, low, high, managed;
	long protection;	/* the highest lowmem reserve */
	int unreclaimable;	/* the node's: kswapd gave up on it */
};
#define MAX_ZONES	8
/* The first @max zones of @nid into @z: their number, or -errno. */
int node_zones(int nid, struct zone_state *z, int max);
/*
 * Is a populated zone of @nid at or above its high watermark, boost and
 * highest lowmem reserve included (what kswapd balances to, as
 * pgdat_balanced())? 1, 0 or -errno.
 */
int node_balanced(int nid);
/*
 * Has kswapd of @nid given up (node_unreclaimable in /proc/zoneinfo)?
 * 1, 0 or -errno.
 */
int node_kswapd_hopeless(int nid);
/* The calling thread's minor page faults so far (getrusage()). */
long minor_faults(void);
/* CLOCK_MONOTONIC in milliseconds, for the tests' deadlines. */
long now_ms(void);
/*
 * Poll @name in @file every 10 ms until it is @want, for at most
 * @timeout_ms; the last value read.
 */
long proc_value_await(const char *file, const char *name, long want,
		      long timeout_ms);

/* Run on the CPUs of @nid only. */
int pin_to_node(int nid);
/*
 * Run on the CPU we are on now: the per-CPU LRU batches that hold folios
 * the driver inserted are then the ones munmap(), compaction and an LRU
 * drain flush, and no folio is freed late from another CPU's batch.
 */
int pin_to_this_cpu(void);

/* Anonymous memory bound to one node, touched until it is nearly full. */
struct pressure {
	void *addr;
	size_t len;	/* mapped */
	size_t used;	/* touched */
};
/* Touch memory bound to @nid until its headroom is at most @headroom_kb. */
int pressure_fill(struct pressure *p, int nid, long headroom_kb);
/*
 * Touch more of @p's memory (filled by pressure_fill() for @nid) until the
 * headroom is at most @headroom_kb again.
 */
int pressure_topup(struct pressure *p, int nid, long headroom_kb);
void pressure_release(struct pressure *p);

/*
 * Proactive reclaim of @bytes of anonymous memory on @nid (its sysfs
 * reclaim file, swappiness=max): 0, or -EAGAIN if it fell short.
 */
int node_reclaim_anon(int nid, size_t bytes);
/*
 * Free reclaimable slab (dentries, inodes) through vm.drop_caches, where
 * /proc/sys exists; otherwise they stay until memory pressure frees them.
 */
void drop_slab_caches(void);

/*
 * Swap on /dev/zram0 (64 MiB) unless some swap is in use already:
 * 1 if this call added it (undo with zram_swap_remove()), 0 if swap was
 * there, -ENOENT without zram0, or another -errno.
 */
#define ZRAM_DEV	"/dev/zram0"
int zram_swap_add(void);
int zram_swap_remove(void);

/* Mount a fresh @fstype in a new directory under /tmp. */
int tmp_mount(const char *fstype, const char *opts, char *dir, size_t len);
void tmp_umount(const char *dir);

/* Path of the running binary, for running its helper modes. */
int self_exe(char *buf, size_t len);
/*
 * Run @argv (searched in PATH) with stdin from /dev/null, its stdout and
 * stderr in @out. Returns its wait status, or a negative errno.
 */
int run_capture(char *const argv[], char *out, size_t len);

/*
 * Helper modes of the test binaries, reached through PNT_HARNESS_MAIN:
 *   --pnt-true            exit 0 (a command for numactl to run)
 *   --pnt-hog BYTES NID   allocate BYTES, print "<pages on NID> <pages>",
 *                         hold the memory until stdin is closed
 *   --pnt-tldr NID        the cover letter's TL;DR, one line each: mbind()
 *                         TLDR_PAGES pages to NID and fault them there;
 *                         malloc() 256 MiB, none of it on NID; move_pages()
 *                         TLDR_PAGES pages onto NID. Exit 0 if all three
 *                         did, 1 if not
 */
#define TLDR_PAGES	64
int pnt_helper_main(int argc, char **argv);

#define PNT_HARNESS_MAIN						\
	int main(int argc, char **argv)					\
	{								\
		if (argc > 1 && !strncmp(argv[1], "--pnt-", 6))		\
			return pnt_helper_main(argc, argv);		\
		return test_harness_run(argc, argv);			\
	}

/* A sysfs or procfs knob changed by a test and put back by its teardown. */
struct tunable {
	char path[128];
	char saved[64];
	bool changed;
};
/*
 * Write @val to @path, saving the old value (a choice such as "always
 * [madvise] never" saves its selection) the first time: 0 or -errno.
 */
int tunable_set(struct tunable *t, const char *path, const char *val);
/* Put the saved value back, if tunable_set() changed it. */
void tunable_restore(struct tunable *t);

/*
 * NUMA balancing's scanner, fast enough for a test under TCG (sched
 * debugfs): no delay at exec, a scan every 100-400 ms, and every page
 * touched since its scan counts as hot for promotion. 0 or -errno; put
 * back with numa_scan_restore().
 */
#define NUMA_SCAN_TUNABLES	4
int numa_scan_fast(struct tunable t[NUMA_SCAN_TUNABLES]);
void numa_scan_restore(struct tunable t[NUMA_SCAN_TUNABLES]);

/*
 * Page contents the tests check after moves: compressible text (the
 * page's index in its first word, then a fixed line) or incompressible
 * noise (xorshift64 from the index).
 */
void fill_text(char *page, long i);
void fill_random(char *page, long i);
/*
 * Pages of @map whose data differ from what @fill wrote, after a write of
 * @who at byte 8 of every @step-th page from @first (@step 0: no such
 * write); -ENOMEM.
 */
long pages_changed(const char *map, size_t len,
		   void (*fill)(char *page, long i), long first, long step,
		   char who);
/* Pages whose data differ from what @fill wrote (corrupt ones). */
long pages_not_filled(const char *map, size_t len,
		   void (*fill)(char *page, long i));

#endif /* PRIVATE_NODES_LIB_H */
