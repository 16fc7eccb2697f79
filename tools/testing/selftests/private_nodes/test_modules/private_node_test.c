// SPDX-License-Identifier: GPL-2.0
/*
 * private_node_test - a private node owner for the selftests
 *
 * Turns a physical range that nothing onlined at boot into a private node,
 * and hands its pages to user space through /dev/private_node_test: every
 * page faulted into a MAP_SHARED mapping of the device is allocated with
 * GFP_PRIVATE on the private node, and freed when it is unmapped. This is
 * the "/dev/xxx" pattern a driver owning a private node would use.
 *
 * The PNT_IOC_MIGRATE ioctl (private_node_test.h) puts private folios into
 * the caller's anonymous memory instead, base pages or order-9 folios, the
 * way a device driver migrates memory to itself (migrate_vma): there mm/
 * services meet them in ordinary anonymous VMAs, on the LRU.
 *
 * A second range can be hot-added as ordinary memory on another node: the
 * control that shows a test would see pages land on a node that is not
 * private.
 *
 * debugfs: /sys/kernel/debug/private_node_test/
 *   private, control  write "add" or "remove"; read "online" or "offline".
 *                     "remove" of the private range also releases the node
 *                     (node_private_unregister())
 *   foreign           a third range, hot-added as dax/kmem would
 *                     (add_memory_driver_managed(), the default online
 *                     type): write a node id to add it to that node, or
 *                     "remove"; read "online" or "offline". Adding it to
 *                     the private node must fail. On a spare node
 *                     (memoryless, neither private nor control) it is
 *                     an ordinary lower tier with foreign_adistance
 *   second            write a node id: the foreign range as a second
 *                     private node there, of a second owner that sets no
 *                     ops (opts into nothing), so that a nodemask can
 *                     name an opted-in and a not-opted-in private node;
 *                     "remove"; read "online" or "offline". It and the
 *                     foreign range exclude each other
 *   drain             write "fill": take every free page of the private
 *                     node with atomic, reserve-dipping owner allocations
 *                     (GFP_NOWAIT | __GFP_MEMALLOC | GFP_PRIVATE) and hold
 *                     them; "take N": take N pages with sleeping owner
 *                     allocations that may reclaim (GFP_PRIVATE |
 *                     __GFP_RETRY_MAYFAIL), ENOMEM when one fails;
 *                     "take_huge": take one PMD-sized block (order 9) the
 *                     same way, as the owner's costly allocation, which
 *                     may compact the node; "release": free them all;
 *                     read: pages held
 *   boost             write N: node_private_reclaim_boost() of N pages
 *                     (kswapd frees N pages above the high watermark),
 *                     0 to drop it; read: the boost of the node's zones
 *   counters          pages handed out, and the owner callbacks seen on
 *                     the private node: "allocated N\nfreed_folios N\n
 *                     freed_pages N\nfreed_bad N\n" (freed_bad: folios
 *                     still mapped, on the LRU or charged when mm/ said
 *                     it freed them), then "split_new N\nsplit_done N\n
 *                     split_bad N\n" (split_bad: callbacks whose folios
 *                     were not parts of one private folio), then
 *                     "migrate_to_calls N\nmigrate_to_folios N\n
 *                     folio_migrate_in N\nfolio_migrate_out N\n
 *                     folio_migrate_bad N\nfolio_migrate_within N\n"
 *                     (pages that arrived on or left the node; bad:
 *                     folios not locked, or whose data differ; within:
 *                     moves from the node to the node), then
 *                     "demoted N\ndemotion_refused N\n" (pages
 *                     migrate_to took for reclaim, and the calls it
 *                     refused), then "write_faults N\n
 *                     write_faults_pmd N\nwrite_faults_bad N\npromoted N\n
 *                     promote_failed N\n" (handle_fault calls, those for a
 *                     PMD, those not for a write to a folio of the node,
 *                     pages it moved to DRAM, moves that failed), then
 *                     "reclaim_policy N\n" (reclaim_policy calls), then
 *                     "mf_hard N\nmf_soft N\n" (memory_failure calls for
 *                     hardware errors and for soft offline); write
 *                     anything to reset them
 *   cram              the emulated compressed device, while the private
 *                     node is a CRAM tier: "active N\ncapacity_bytes N\n
 *                     fill_bytes N\npeak_bytes N\nlogical_pages N\n
 *                     ratio_x100 N\noverfilled N\nscrubbed N\n
 *                     scrub_refused N\ndirty_free N\n" (physical bytes
 *                     stored now and at most, pages holding data, their
 *                     bytes per stored byte, arrivals that went past the
 *                     capacity, pages the device scrubbed and refused to,
 *                     free pages of the node found not zero by the last
 *                     "check_free", which the file takes), then
 *                     "free_checked N\nscrub_calls N\nscrub_waiting N\n"
 *                     (the free pages that check looked at, scrub
 *                     commands, and those waiting on cram_scrub_hold)
 *
 * The NP_OPS_* services the owner opts into are the module parameter
 * np_ops, read when the private range is added; np_ops_supported shows
 * the flags this kernel knows. adistance, read then too, gives the node a
 * memory type of that abstract distance (a slower tier than DRAM, for
 * NP_OPS_DEMOTION); foreign_adistance does the same for the foreign
 * range's node, an ordinary lower tier, and control_adistance for the
 * control node. With refuse_demotion set, migrate_to
 * refuses every demotion, as the owner of a full device would.
 * reclaim_may_swap and reclaim_managed_wmarks are what reclaim_policy
 * answers (NP_OPS_RECLAIM), read at each call. mf_callback (read when the
 * private range is added) installs the memory_failure callback, which
 * answers mf_soft_answer for soft offline.
 *
 * With cram set (read when the private range is added, in kernels with
 * CONFIG_CRAM: cram_supported), the owner sets no np_ops and gives the
 * node to CRAM instead (cram_register_private_node()), as the driver of a
 * compressed memory device: see "The emulated compressed device" below
 * for what it measures, and the cram_* parameters.
 */
#include <linux/cpu.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/highmem.h>
#include <linux/memory.h>
#include <linux/memory_hotplug.h>
#include <linux/memory-tiers.h>
#include <linux/migrate.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/node_private.h>
#include <linux/seq_file.h>
#include <linux/string.h>
#include <linux/lz4.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "private_node_test.h"

/* The emulated compressed device needs CRAM, and LZ4 to measure. */
#ifdef CONFIG_CRAM
#include <linux/cram.h>
#include <linux/folio_batch.h>
#endif
#define PNT_CRAM (IS_ENABLED(CONFIG_CRAM) && IS_ENABLED(CONFIG_LZ4_COMPRESS))

static int private_nid = NUMA_NO_NODE;
module_param(private_nid, int, 0444);
MODULE_PARM_DESC(private_nid, "Node to make private");
static unsigned long long private_base;
module_param(private_base, ullong, 0444);
MODULE_PARM_DESC(private_base, "Physical base of the private range");
static unsigned long long private_size;
module_param(private_size, ullong, 0444);
MODULE_PARM_DESC(private_size, "Size of the private range in bytes");
static int control_nid = NUMA_NO_NODE;
module_param(control_nid, int, 0444);
MODULE_PARM_DESC(control_nid, "Node for the ordinary control range");
static unsigned long long control_base;
module_param(control_base, ullong, 0444);
MODULE_PARM_DESC(control_base, "Physical base of the control range");
static unsigned long long control_size;
module_param(control_size, ullong, 0444);
MODULE_PARM_DESC(control_size, "Size of the control range in bytes");
static unsigned long long foreign_base;
module_param(foreign_base, ullong, 0444);
MODULE_PARM_DESC(foreign_base, "Physical base of the foreign range");
static unsigned long long foreign_size;
module_param(foreign_size, ullong, 0444);
MODULE_PARM_DESC(foreign_size, "Size of the foreign range in bytes");
static unsigned long np_ops;
module_param(np_ops, ulong, 0644);
MODULE_PARM_DESC(np_ops, "NP_OPS_* flags to register, read when the private range is added");
static unsigned long np_ops_supported = NP_OPS_ALL;
module_param(np_ops_supported, ulong, 0444);
MODULE_PARM_DESC(np_ops_supported, "NP_OPS_* flags this kernel knows");
static int adistance;
module_param(adistance, int, 0644);
MODULE_PARM_DESC(adistance, "abstract distance of the private node's memory type (0: none), read when the private range is added");
static int control_adistance;
module_param(control_adistance, int, 0644);
MODULE_PARM_DESC(control_adistance, "abstract distance of the control node's memory type (0: DRAM's), read when the control range is added");
static int foreign_adistance;
module_param(foreign_adistance, int, 0644);
MODULE_PARM_DESC(foreign_adistance, "abstract distance of the foreign range's node's memory type (0: DRAM's), read when the range is added");
static bool refuse_demotion;
module_param(refuse_demotion, bool, 0644);
MODULE_PARM_DESC(refuse_demotion, "migrate_to refuses demotion, as a full device would");
static bool reclaim_may_swap = true;
module_param(reclaim_may_swap, bool, 0644);
MODULE_PARM_DESC(reclaim_may_swap, "reclaim_policy lets reclaim swap the node's anonymous folios");
static bool reclaim_managed_wmarks;
module_param(reclaim_managed_wmarks, bool, 0644);
MODULE_PARM_DESC(reclaim_managed_wmarks, "reclaim_policy: the owner holds the watermark boost");

static bool mf_callback = true;
module_param(mf_callback, bool, 0644);
MODULE_PARM_DESC(mf_callback, "install the memory_failure callback, read when the private range is added");
static int mf_soft_answer;
module_param(mf_soft_answer, int, 0644);
MODULE_PARM_DESC(mf_soft_answer, "what memory_failure answers for soft offline: 0 or a negative errno");
static bool cram;
module_param(cram, bool, 0644);
MODULE_PARM_DESC(cram, "make the private node a CRAM tier of an emulated compressed device instead of setting np_ops, read when the private range is added");
static bool cram_supported = PNT_CRAM;
module_param(cram_supported, bool, 0444);
MODULE_PARM_DESC(cram_supported, "the kernel has CRAM (CONFIG_CRAM), and LZ4 for the emulated device");
static unsigned long cram_capacity_kb;
module_param(cram_capacity_kb, ulong, 0644);
MODULE_PARM_DESC(cram_capacity_kb, "physical capacity of the emulated device (0: a quarter of the range), read when the private range is added");
static void cram_pressure_refresh(void);

/* A new threshold applies at once, as a device's new setting would. */
static int cram_level_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_uint(val, kp);

	if (!ret)
		cram_pressure_refresh();
	return ret;
}

static const struct kernel_param_ops cram_level_ops = {
	.set = cram_level_set,
	.get = param_get_uint,
};

static unsigned int cram_low = 500;
module_param_cb(cram_low, &cram_level_ops, &cram_low, 0644);
MODULE_PARM_DESC(cram_low, "fill, in permille of the capacity, where the pressure starts to rise");
static unsigned int cram_high = 900;
module_param_cb(cram_high, &cram_level_ops, &cram_high, 0644);
MODULE_PARM_DESC(cram_high, "fill, in permille of the capacity, of full pressure");
static bool cram_scrub_fails;
module_param(cram_scrub_fails, bool, 0644);
MODULE_PARM_DESC(cram_scrub_fails, "the emulated device cannot scrub: CRAM clears freed pages with the CPU");
static bool cram_measure = true;
module_param(cram_measure, bool, 0644);
MODULE_PARM_DESC(cram_measure, "the emulated device measures each arriving page with LZ4 on the CPU; N: it stores a quarter page each, as if hardware measured for free (for benchmarks)");
static bool cram_scrub_lies;
module_param(cram_scrub_lies, bool, 0644);
MODULE_PARM_DESC(cram_scrub_lies, "the emulated device says it scrubbed freed pages but leaves them as they are (a test's control)");
static DECLARE_WAIT_QUEUE_HEAD(cram_scrub_released);
static int cram_scrub_hold_set(const char *val, const struct kernel_param *kp)
{
	int ret = param_set_bool(val, kp);

	if (!ret)
		wake_up_all(&cram_scrub_released);
	return ret;
}

static const struct kernel_param_ops cram_scrub_hold_ops = {
	.set = cram_scrub_hold_set,
	.get = param_get_bool,
};

static bool cram_scrub_hold;
module_param_cb(cram_scrub_hold, &cram_scrub_hold_ops, &cram_scrub_hold, 0644);
MODULE_PARM_DESC(cram_scrub_hold, "the emulated device's scrub command waits until this is cleared, as a slow device's would");
static atomic_t cram_scrub_timeouts = ATOMIC_INIT(0);
module_param_named(cram_scrub_timeouts, cram_scrub_timeouts.counter, int, 0644);
MODULE_PARM_DESC(cram_scrub_timeouts, "this many scrub commands time out, the device maybe still writing (-EINPROGRESS)");

/* A PMD's worth of base pages, for THP-sized private folios. */
#define PNT_PMD_ORDER	(PMD_SHIFT - PAGE_SHIFT)

#define PNT_RESOURCE "System RAM (private_node_test)"

static DEFINE_MUTEX(pnt_lock);
static struct node_private pnt_owner;

/* What the owner hands out, and hears back through its callbacks. */
static atomic_long_t nr_allocated, nr_freed_folios, nr_freed_pages;
static atomic_long_t nr_freed_bad;
static atomic_long_t nr_split_new, nr_split_done, nr_split_bad;
static atomic_long_t nr_migrate_to_calls, nr_migrate_to_folios;
static atomic_long_t nr_migrate_in, nr_migrate_out, nr_migrate_bad;
static atomic_long_t nr_migrate_within;
static atomic_long_t nr_demoted, nr_demotion_refused;
static atomic_long_t nr_write_faults, nr_write_faults_pmd, nr_write_faults_bad;
static atomic_long_t nr_promoted, nr_promote_failed;
static atomic_long_t nr_reclaim_policy;
static atomic_long_t nr_mf_hard, nr_mf_soft;

/* The memory types the private and control nodes are given, if set. */
static LIST_HEAD(pnt_memory_types);
static struct memory_dev_type *pnt_memtype, *pnt_control_memtype;
static struct memory_dev_type *pnt_foreign_memtype;

static bool pnt_folio_freed(struct folio *folio)
{
	atomic_long_inc(&nr_freed_folios);
	atomic_long_add(folio_nr_pages(folio), &nr_freed_pages);
	/* mm/ is done with it: unmapped, off the LRU, uncharged. */
	if (folio_mapped(folio) || folio_test_lru(folio) ||
	    folio_memcg_charged(folio))
		atomic_long_inc(&nr_freed_bad);
	return false;
}

/* True if @new_folio can be a part split off the private folio @folio. */
static bool pnt_split_part(struct folio *folio, struct folio *new_folio)
{
	unsigned long head = folio_pfn(folio), pfn;

	if (folio_nid(folio) != private_nid)
		return false;
	if (!new_folio)
		return true;
	pfn = folio_pfn(new_folio);
	return folio_nid(new_folio) == private_nid && pfn > head &&
	       pfn < head + MAX_ORDER_NR_PAGES &&
	       pfn + folio_nr_pages(new_folio) <= head + MAX_ORDER_NR_PAGES;
}

static void pnt_folio_split(struct folio *folio, struct folio *new_folio)
{
	atomic_long_inc(new_folio ? &nr_split_new : &nr_split_done);
	if (!pnt_split_part(folio, new_folio))
		atomic_long_inc(&nr_split_bad);
}

/* mm/ moves folios onto the node: allocate them here, as a driver would. */
static int pnt_migrate_to(struct list_head *folios, int nid,
			  enum migrate_mode mode, enum migrate_reason reason,
			  unsigned int *nr_succeeded)
{
	gfp_t gfp = GFP_HIGHUSER_MOVABLE;
	unsigned int nr = 0;
	int ret;

	atomic_long_inc(&nr_migrate_to_calls);
	if (reason == MR_DEMOTION) {
		if (READ_ONCE(refuse_demotion)) {
			atomic_long_inc(&nr_demotion_refused);
			return -ENOSPC;
		}
		/* Called from reclaim: take only what is free. */
		gfp = GFP_NOWAIT | __GFP_NOWARN;
	}
	ret = node_private_migrate_folios(&pnt_owner, folios, nid, gfp,
					  mode, reason, &nr);
	atomic_long_add(nr, &nr_migrate_to_folios);
	if (reason == MR_DEMOTION)
		atomic_long_add(nr, &nr_demoted);
	if (nr_succeeded)
		*nr_succeeded += nr;
	return ret;
}

/* Both folios are locked, and @dst holds @src's data. */
static bool pnt_migrate_sane(struct folio *src, struct folio *dst)
{
	void *a, *b;
	bool same;

	if (!folio_test_locked(src) || !folio_test_locked(dst) ||
	    folio_nr_pages(src) != folio_nr_pages(dst))
		return false;
	a = kmap_local_folio(src, 0);
	b = kmap_local_folio(dst, 0);
	same = !memcmp(a, b, PAGE_SIZE);
	kunmap_local(b);
	kunmap_local(a);
	return same;
}

static void pnt_folio_migrate(struct folio *src, struct folio *dst)
{
	if (folio_nid(dst) == private_nid)
		atomic_long_add(folio_nr_pages(dst), &nr_migrate_in);
	if (folio_nid(src) == private_nid)
		atomic_long_add(folio_nr_pages(src), &nr_migrate_out);
	if (folio_nid(src) == private_nid && folio_nid(dst) == private_nid)
		atomic_long_add(folio_nr_pages(src), &nr_migrate_within);
	if (!pnt_migrate_sane(src, dst))
		atomic_long_inc(&nr_migrate_bad);
}

/*
 * A write to a folio the node keeps read-only (NP_OPS_PROTECT_WRITE): move
 * it to DRAM near the writer, as a compressed-memory owner would, and let
 * the write land there. A transient failure retries the fault; anything
 * else fails the access, so that a test sees it.
 */
static vm_fault_t pnt_handle_fault(struct folio *folio, struct vm_fault *vmf,
				   enum pgtable_level level)
{
	long nr = folio_nr_pages(folio);
	int ret;

	atomic_long_inc(&nr_write_faults);
	if (level == PGTABLE_LEVEL_PMD)
		atomic_long_inc(&nr_write_faults_pmd);
	if (folio_nid(folio) != private_nid ||
	    !(vmf->flags & FAULT_FLAG_WRITE) ||
	    (level == PGTABLE_LEVEL_PMD && !folio_test_pmd_mappable(folio)))
		atomic_long_inc(&nr_write_faults_bad);
	/* Takes our reference: from here on @folio is not ours to look at. */
	ret = node_private_promote_folio(&pnt_owner, folio, numa_mem_id());
	if (!ret) {
		atomic_long_add(nr, &nr_promoted);
		return 0;
	}
	atomic_long_inc(&nr_promote_failed);
	return ret == -EAGAIN || ret == -EBUSY ? 0 : VM_FAULT_SIGBUS;
}

/* Reclaim is about to scan the node (NP_OPS_RECLAIM): say how. */
static void pnt_reclaim_policy(int nid, struct node_reclaim_policy *policy)
{
	atomic_long_inc(&nr_reclaim_policy);
	policy->may_swap &= READ_ONCE(reclaim_may_swap);
	policy->managed_watermarks = READ_ONCE(reclaim_managed_wmarks);
}

/* Its flags are np_ops, set when the private range is added. */
/* A page of the node is to be retired: count it, answer as told. */
static int pnt_memory_failure(int nid, unsigned long pfn, int mf_flags)
{
	if (!(mf_flags & MF_SOFT_OFFLINE)) {
		atomic_long_inc(&nr_mf_hard);
		return 0;
	}
	atomic_long_inc(&nr_mf_soft);
	return READ_ONCE(mf_soft_answer);
}

static struct node_private_ops pnt_ops = {
	.folio_freed = pnt_folio_freed,
	.folio_split = pnt_folio_split,
	.migrate_to = pnt_migrate_to,
	.folio_migrate = pnt_folio_migrate,
	.handle_fault = pnt_handle_fault,
	.reclaim_policy = pnt_reclaim_policy,
	.memory_failure = pnt_memory_failure,
};

static bool private_online, control_online, second_online, foreign_online;
static bool private_cram;	/* the private node is a CRAM tier */
static int pnt_cram_start(void);
static int pnt_cram_stop(void);
static struct node_private pnt_second_owner;
static struct dentry *pnt_dir;

/* Pages taken by "drain fill", linked through page->lru. */
static LIST_HEAD(drain_pages);
static unsigned long nr_drained;

static void drain_release(void)
{
	struct page *page, *next;

	list_for_each_entry_safe(page, next, &drain_pages, lru) {
		unsigned int order = page_private(page);

		list_del(&page->lru);
		set_page_private(page, 0);
		__free_pages(page, order);
	}
	nr_drained = 0;
}

/*
 * The owner's own atomic allocations may dip into the node's reserves,
 * down to nothing with __GFP_MEMALLOC: what a driver refilling a device
 * queue from interrupt context might do.
 */
static int drain_fill(void)
{
	struct page *page;

	if (!private_online)
		return -ENODEV;
	for (;;) {
		page = alloc_pages_node(private_nid, GFP_NOWAIT | __GFP_MEMALLOC |
					GFP_PRIVATE | __GFP_NOWARN, 0);
		if (!page)
			break;
		list_add(&page->lru, &drain_pages);
		nr_drained++;
		cond_resched();
	}
	return 0;
}

/*
 * The owner's own sleeping allocations, which may reclaim: take @nr pages
 * of the node (GFP_PRIVATE, no fallback), or as many as direct reclaim
 * can free, and hold them with the drained ones.
 */
static int drain_take(unsigned long nr)
{
	struct page *page;

	if (!private_online)
		return -ENODEV;
	while (nr--) {
		page = alloc_pages_node(private_nid, GFP_HIGHUSER | GFP_PRIVATE |
					__GFP_RETRY_MAYFAIL | __GFP_NOWARN, 0);
		if (!page)
			return -ENOMEM;
		list_add(&page->lru, &drain_pages);
		nr_drained++;
		cond_resched();
	}
	return 0;
}

/*
 * The owner's own costly allocation: one PMD-sized block of the node, with
 * a sleeping allocation that may compact and reclaim but not loop for
 * ever. Held with the drained pages (page->private holds its order).
 */
static int drain_take_huge(void)
{
	struct page *page;

	if (!private_online)
		return -ENODEV;
	page = alloc_pages_node(private_nid, GFP_HIGHUSER_MOVABLE | GFP_PRIVATE |
				__GFP_RETRY_MAYFAIL | __GFP_NOWARN,
				PNT_PMD_ORDER);
	if (!page)
		return -ENOMEM;
	set_page_private(page, PNT_PMD_ORDER);
	list_add(&page->lru, &drain_pages);
	nr_drained += 1UL << PNT_PMD_ORDER;
	return 0;
}

/*
 * Give @nid a memory type of abstract distance @adist (none if 0) before
 * its memory comes online, as a driver of slow memory does; *@memtype
 * gets it, for clear_node_memory_type() after removal.
 */
static int pnt_set_memtype(int nid, int adist,
			   struct memory_dev_type **memtype)
{
	struct memory_dev_type *mt;

	*memtype = NULL;
	if (adist <= 0)
		return 0;
	mt = mt_find_alloc_memory_type(adist, &pnt_memory_types);
	if (IS_ERR(mt))
		return PTR_ERR(mt);
	init_node_memory_type(nid, mt);
	*memtype = mt;
	return 0;
}

static void pnt_clear_memtype(int nid, struct memory_dev_type **memtype)
{
	if (*memtype)
		clear_node_memory_type(nid, *memtype);
	*memtype = NULL;
}

static void private_clear_memtype(void)
{
	pnt_clear_memtype(private_nid, &pnt_memtype);
}

static int private_add(void)
{
	bool use_cram = READ_ONCE(cram);
	int ret;

	if (private_online)
		return -EBUSY;
	/* Not in use: the node has no owner, so nothing reads the ops. */
	pnt_ops.flags = READ_ONCE(np_ops);
	pnt_ops.memory_failure = READ_ONCE(mf_callback) ? pnt_memory_failure :
							  NULL;
	/* A slower tier than DRAM, as a CXL driver would set from CDAT. */
	ret = pnt_set_memtype(private_nid, READ_ONCE(adistance), &pnt_memtype);
	if (ret)
		return ret;
	ret = add_private_memory_driver_managed(private_nid, private_base,
						private_size, PNT_RESOURCE,
						MHP_NONE, MMOP_ONLINE_KERNEL,
						&pnt_owner);
	if (!ret) {
		ret = use_cram ? pnt_cram_start() :
				 node_private_set_ops(private_nid, &pnt_ops);
		if (ret) {
			WARN_ON(offline_and_remove_private_memory(private_nid,
								  private_base,
								  private_size));
			WARN_ON(node_private_unregister(private_nid,
							&pnt_owner));
		}
	}
	/*
	 * Pin the module while it owns the node: its pnt_owner is in use.
	 * -ENOTEMPTY: the range stayed, and the owner, for "remove".
	 */
	if (!ret || ret == -ENOTEMPTY) {
		private_online = true;
		private_cram = use_cram && !ret;
		__module_get(THIS_MODULE);
	} else {
		private_clear_memtype();
	}
	return ret;
}

static int private_remove(void)
{
	int ret;

	if (!private_online)
		return -ENOENT;
	drain_release();
	ret = offline_and_remove_private_memory(private_nid, private_base,
						private_size);
	/* CRAM's callbacks saw the folios leave; now it lets go. */
	if (!ret && private_cram) {
		ret = pnt_cram_stop();
		private_cram = ret != 0;
	}
	if (!ret)
		ret = node_private_unregister(private_nid, &pnt_owner);
	if (!ret) {
		private_clear_memtype();
		private_online = false;
		module_put(THIS_MODULE);
	}
	return ret;
}

/*
 * Ordinary driver-managed memory, onlined by the system's default policy.
 * Its node gets a memory type while it is online, as dax/kmem gives one
 * (DRAM's unless @adist is given): a node onlined without one keeps the
 * default DRAM type for good, and a later add could not make it slower.
 */
static int ordinary_add(int nid, u64 base, u64 size, bool *online, int adist,
			struct memory_dev_type **memtype)
{
	int ret;

	if (*online)
		return -EBUSY;
	ret = pnt_set_memtype(nid, adist > 0 ? adist : MEMTIER_ADISTANCE_DRAM,
			      memtype);
	if (ret)
		return ret;
	ret = add_memory_driver_managed(nid, base, size, PNT_RESOURCE, MHP_NONE);
	if (!ret) {
		*online = true;
		__module_get(THIS_MODULE);
	} else {
		pnt_clear_memtype(nid, memtype);
	}
	return ret;
}

static int ordinary_remove(int nid, u64 base, u64 size, bool *online,
			   struct memory_dev_type **memtype)
{
	int ret;

	if (!*online)
		return -ENOENT;
	ret = offline_and_remove_memory(base, size);
	if (!ret) {
		*online = false;
		module_put(THIS_MODULE);
		pnt_clear_memtype(nid, memtype);
	}
	return ret;
}

/*
 * The control: the lab boots with memhp_default_state=online_kernel so that
 * it lands in ZONE_NORMAL like boot RAM and kernel allocations can use it.
 */
static int control_add(void)
{
	if (mhp_get_default_online_type() != MMOP_ONLINE_KERNEL) {
		pr_err("private_node_test: control needs memhp_default_state=online_kernel\n");
		return -EOPNOTSUPP;
	}
	return ordinary_add(control_nid, control_base, control_size,
			    &control_online, READ_ONCE(control_adistance),
			    &pnt_control_memtype);
}

static int control_remove(void)
{
	return ordinary_remove(control_nid, control_base, control_size,
			       &control_online, &pnt_control_memtype);
}

/* The second private node: the foreign range, of an owner without ops. */
static int second_nid = NUMA_NO_NODE;

static int second_add(int nid)
{
	int ret;

	if (second_online || foreign_online)
		return -EBUSY;
	if (nid < 0 || nid >= MAX_NUMNODES || !node_possible(nid))
		return -EINVAL;
	ret = add_private_memory_driver_managed(nid, foreign_base,
						foreign_size, PNT_RESOURCE,
						MHP_NONE, MMOP_ONLINE_KERNEL,
						&pnt_second_owner);
	/* -ENOTEMPTY: the range stayed, and the owner, for "remove". */
	if (!ret || ret == -ENOTEMPTY) {
		second_nid = nid;
		second_online = true;
		__module_get(THIS_MODULE);
	}
	return ret;
}

static int second_remove(void)
{
	int ret;

	if (!second_online)
		return -ENOENT;
	ret = offline_and_remove_private_memory(second_nid, foreign_base,
						foreign_size);
	if (!ret)
		ret = node_private_unregister(second_nid, &pnt_second_owner);
	if (!ret) {
		second_online = false;
		module_put(THIS_MODULE);
	}
	return ret;
}

/*
 * What dax/kmem does with a region: add it to a node it chose, onlined the
 * default way. Two regions in one CXL window share a node, so one may come
 * for a private node.
 */
static int foreign_nid = NUMA_NO_NODE;

static int foreign_add(int nid)
{
	int ret;

	if (second_online)
		return -EBUSY;
	if (nid < 0 || nid >= MAX_NUMNODES || !node_possible(nid))
		return -EINVAL;
	ret = ordinary_add(nid, foreign_base, foreign_size, &foreign_online,
			   READ_ONCE(foreign_adistance), &pnt_foreign_memtype);
	if (!ret)
		foreign_nid = nid;
	return ret;
}

static int foreign_remove(void)
{
	return ordinary_remove(foreign_nid, foreign_base, foreign_size,
			       &foreign_online, &pnt_foreign_memtype);
}

struct pnt_range {
	int (*add)(void);
	int (*remove)(void);
	bool *online;
};

static const struct pnt_range pnt_private = {
	private_add, private_remove, &private_online
};

static const struct pnt_range pnt_control = {
	control_add, control_remove, &control_online
};

/* The second range's file: a node id adds it there, "remove" removes it. */
static const struct pnt_range pnt_second = {
	NULL, second_remove, &second_online
};

/* The foreign range's file: a node id adds it there, "remove" removes it. */
static const struct pnt_range pnt_foreign = {
	NULL, foreign_remove, &foreign_online
};

/* A debugfs command: @len bytes from user space, stripped, in @cmd. */
static int read_cmd(const char __user *ubuf, size_t len, char *cmd,
		    size_t size)
{
	if (len >= size)
		return -EINVAL;
	if (copy_from_user(cmd, ubuf, len))
		return -EFAULT;
	cmd[len] = '\0';
	strim(cmd);
	return 0;
}

static ssize_t range_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	const struct pnt_range *r = file->private_data;
	const char *state = READ_ONCE(*r->online) ? "online\n" : "offline\n";

	return simple_read_from_buffer(buf, len, ppos, state, strlen(state));
}

static ssize_t range_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	const struct pnt_range *r = file->private_data;
	char cmd[16];
	int ret, nid;

	ret = read_cmd(ubuf, len, cmd, sizeof(cmd));
	if (ret)
		return ret;
	mutex_lock(&pnt_lock);
	if (!strcmp(cmd, "add") && r->add)
		ret = r->add();
	else if (!strcmp(cmd, "remove"))
		ret = r->remove();
	else if (r == &pnt_foreign && !kstrtoint(cmd, 10, &nid))
		ret = foreign_add(nid);
	else if (r == &pnt_second && !kstrtoint(cmd, 10, &nid))
		ret = second_add(nid);
	else
		ret = -EINVAL;
	mutex_unlock(&pnt_lock);
	return ret ? ret : len;
}

static ssize_t drain_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	char tmp[32];
	int n;

	mutex_lock(&pnt_lock);
	n = scnprintf(tmp, sizeof(tmp), "%lu\n", nr_drained);
	mutex_unlock(&pnt_lock);
	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static ssize_t drain_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	unsigned long nr;
	char cmd[32];
	int ret;

	ret = read_cmd(ubuf, len, cmd, sizeof(cmd));
	if (ret)
		return ret;
	mutex_lock(&pnt_lock);
	if (!strcmp(cmd, "fill"))
		ret = drain_fill();
	else if (!strcmp(cmd, "release"))
		drain_release();
	else if (!strncmp(cmd, "take ", 5))
		ret = kstrtoul(cmd + 5, 0, &nr) ?: drain_take(nr);
	else if (!strcmp(cmd, "take_huge"))
		ret = drain_take_huge();
	else
		ret = -EINVAL;
	mutex_unlock(&pnt_lock);
	return ret ? ret : len;
}

static const struct file_operations drain_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = drain_read,
	.write = drain_write,
	.llseek = default_llseek,
};

/* The counters file, in this order. */
static const struct {
	const char *name;
	atomic_long_t *count;
} pnt_counters[] = {
	{ "allocated", &nr_allocated },
	{ "freed_folios", &nr_freed_folios },
	{ "freed_pages", &nr_freed_pages },
	{ "freed_bad", &nr_freed_bad },
	{ "split_new", &nr_split_new },
	{ "split_done", &nr_split_done },
	{ "split_bad", &nr_split_bad },
	{ "migrate_to_calls", &nr_migrate_to_calls },
	{ "migrate_to_folios", &nr_migrate_to_folios },
	{ "folio_migrate_in", &nr_migrate_in },
	{ "folio_migrate_out", &nr_migrate_out },
	{ "folio_migrate_bad", &nr_migrate_bad },
	{ "folio_migrate_within", &nr_migrate_within },
	{ "demoted", &nr_demoted },
	{ "demotion_refused", &nr_demotion_refused },
	{ "write_faults", &nr_write_faults },
	{ "write_faults_pmd", &nr_write_faults_pmd },
	{ "write_faults_bad", &nr_write_faults_bad },
	{ "promoted", &nr_promoted },
	{ "promote_failed", &nr_promote_failed },
	{ "reclaim_policy", &nr_reclaim_policy },
	{ "mf_hard", &nr_mf_hard },
	{ "mf_soft", &nr_mf_soft },
};

static int counters_show(struct seq_file *m, void *v)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pnt_counters); i++)
		seq_printf(m, "%s %ld\n", pnt_counters[i].name,
			   atomic_long_read(pnt_counters[i].count));
	return 0;
}

static int counters_open(struct inode *inode, struct file *file)
{
	return single_open(file, counters_show, NULL);
}

static ssize_t counters_write(struct file *file, const char __user *ubuf,
			      size_t len, loff_t *ppos)
{
	int i;

	for (i = 0; i < ARRAY_SIZE(pnt_counters); i++)
		atomic_long_set(pnt_counters[i].count, 0);
	return len;
}

/* The watermark boost of the private node's zones, in pages. */
static ssize_t boost_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	pg_data_t *pgdat = NODE_DATA(private_nid);
	unsigned long boost = 0;
	char tmp[32];
	int i, n;

	for (i = 0; i < MAX_NR_ZONES; i++)
		boost += READ_ONCE(pgdat->node_zones[i].watermark_boost);
	n = scnprintf(tmp, sizeof(tmp), "%lu\n", boost);
	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static ssize_t boost_write(struct file *file, const char __user *ubuf,
			   size_t len, loff_t *ppos)
{
	unsigned long nr;
	char cmd[32];
	int ret;

	ret = read_cmd(ubuf, len, cmd, sizeof(cmd));
	if (!ret)
		ret = kstrtoul(cmd, 0, &nr);
	if (!ret)
		ret = node_private_reclaim_boost(private_nid, &pnt_owner, nr);
	return ret ? ret : len;
}

static const struct file_operations boost_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = boost_read,
	.write = boost_write,
	.llseek = default_llseek,
};

static const struct file_operations counters_fops = {
	.owner = THIS_MODULE,
	.open = counters_open,
	.read = seq_read,
	.write = counters_write,
	.llseek = seq_lseek,
	.release = single_release,
};

static const struct file_operations range_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.read = range_read,
	.write = range_write,
	.llseek = default_llseek,
};

#if PNT_CRAM
/*
 * The emulated compressed device (module parameter cram): the private
 * node's DRAM plays a device that stores each page compressed, with the
 * kernel's LZ4, in cram_capacity_kb of physical memory. It follows what
 * its memory holds as a real device would see the writes: a folio that
 * arrives (CRAM's folio_migrate) stores the compressed size of each of
 * its pages, a page CRAM scrubs stores nothing. A departing folio's pages
 * keep their data until they are scrubbed. The fill sets the pressure,
 * 0 up to cram_low permille of the capacity, CRAM_PRESSURE_MAX from
 * cram_high on, linear between.
 */
#define CRAM_SECTOR	64	/* the device stores whole sectors */

static u16 *cram_sizes;			/* bytes stored, per page of the range */
static void * __percpu *cram_lz4_wrk;	/* LZ4 workspace and output, per CPU */
static unsigned long cram_capacity;	/* bytes, while the node is CRAM */
static atomic_long_t cram_fill, cram_peak, cram_logical;
static atomic_long_t cram_overfilled, cram_scrubbed, cram_scrub_refused;
static atomic_long_t cram_dirty_free;	/* found by the last "check_free" */
static atomic_long_t cram_free_checked;	/* and the free pages it looked at */
static atomic_long_t cram_scrub_calls;	/* scrub commands */
static atomic_t cram_scrub_waiting;	/* those waiting on cram_scrub_hold */

/* Bytes the device needs for @page. Process context, preemption off. */
static unsigned int cram_stored_size(struct page *page, void *wrk)
{
	void *src = kmap_local_page(page);
	unsigned int size = 0;
	int n;

	if (memchr_inv(src, 0, PAGE_SIZE)) {
		n = LZ4_compress_default(src, wrk + LZ4_MEM_COMPRESS, PAGE_SIZE,
					 LZ4_compressBound(PAGE_SIZE), wrk);
		size = n > 0 && n < PAGE_SIZE ? ALIGN(n, CRAM_SECTOR) : PAGE_SIZE;
	}
	kunmap_local(src);
	return size;
}

static void cram_pressure_update(long fill)
{
	unsigned long low = cram_capacity / 1000 * READ_ONCE(cram_low);
	unsigned long high = cram_capacity / 1000 * READ_ONCE(cram_high);
	unsigned int p;

	if (fill >= (long)high)
		p = CRAM_PRESSURE_MAX;
	else if (fill <= (long)low)
		p = 0;
	else
		p = (fill - low) * CRAM_PRESSURE_MAX / (high - low);
	cram_set_pressure(private_nid, p);
}

static void cram_pressure_refresh(void)
{
	if (cram_capacity)
		cram_pressure_update(atomic_long_read(&cram_fill));
}

static void cram_store(unsigned long idx, unsigned int size)
{
	long fill, peak;
	unsigned int old = cram_sizes[idx];

	cram_sizes[idx] = size;
	if (!old != !size)
		atomic_long_add(size ? 1 : -1, &cram_logical);
	fill = atomic_long_add_return((long)size - old, &cram_fill);
	peak = atomic_long_read(&cram_peak);
	while (fill > peak && !atomic_long_try_cmpxchg(&cram_peak, &peak, fill))
		;
	if (fill > (long)cram_capacity && size > old)
		atomic_long_inc(&cram_overfilled);
	cram_pressure_update(fill);
}

static unsigned long cram_index(struct page *page)
{
	return page_to_pfn(page) - PHYS_PFN(private_base);
}

static void pnt_cram_folio_migrate(void *data, struct folio *src,
				   struct folio *dst)
{
	long i, nr = folio_nr_pages(dst);
	void *wrk;

	if (folio_nid(dst) != private_nid)
		return;
	if (!READ_ONCE(cram_measure)) {
		for (i = 0; i < nr; i++)
			cram_store(cram_index(folio_page(dst, i)), PAGE_SIZE / 4);
		return;
	}
	wrk = *get_cpu_ptr(cram_lz4_wrk);
	for (i = 0; i < nr; i++)
		cram_store(cram_index(folio_page(dst, i)),
			   cram_stored_size(folio_page(dst, i), wrk));
	put_cpu_ptr(cram_lz4_wrk);
}

/*
 * The device's zeroing command, or its failure (cram_scrub_fails). It may
 * sleep, as a mailbox command does: with cram_scrub_hold it waits for the
 * test to let it go on.
 */
static int pnt_cram_scrub(void *data, struct folio_batch *folios)
{
	unsigned long i, nr = 0;
	struct folio *folio;
	unsigned int f;

	might_sleep();
	atomic_long_inc(&cram_scrub_calls);
	if (READ_ONCE(cram_scrub_hold)) {
		atomic_inc(&cram_scrub_waiting);
		wait_event(cram_scrub_released, !READ_ONCE(cram_scrub_hold));
		atomic_dec(&cram_scrub_waiting);
	}
	if (atomic_dec_if_positive(&cram_scrub_timeouts) >= 0)
		return -EINPROGRESS;
	/* Either way the pages are zero once CRAM is done: nothing stored. */
	for (f = 0; f < folio_batch_count(folios); f++) {
		folio = folios->folios[f];
		nr += folio_nr_pages(folio);
		for (i = 0; i < folio_nr_pages(folio); i++)
			cram_store(cram_index(folio_page(folio, i)), 0);
	}
	if (READ_ONCE(cram_scrub_fails)) {
		atomic_long_add(nr, &cram_scrub_refused);
		return -EBUSY;
	}
	for (f = 0; f < folio_batch_count(folios) && !READ_ONCE(cram_scrub_lies); f++) {
		folio = folios->folios[f];
		for (i = 0; i < folio_nr_pages(folio); i++)
			clear_highpage(folio_page(folio, i));
	}
	atomic_long_add(nr, &cram_scrubbed);
	return 0;
}

static const struct cram_device_ops pnt_cram_ops = {
	.scrub = pnt_cram_scrub,
	.folio_migrate = pnt_cram_folio_migrate,
};

struct cram_walk {
	struct list_head pages;	/* taken so far */
	long dirty;
	bool clear;
};

/*
 * Take every free page of the node this CPU can reach (its per-cpu lists,
 * then the buddy lists). Each migratetype: a per-cpu list holds freed
 * pages of one type, and an allocation only takes from the list of its
 * own.
 */
static long cram_walk_free_cpu(void *arg)
{
	static const gfp_t types[] = { __GFP_MOVABLE, 0, __GFP_RECLAIMABLE };
	struct cram_walk *w = arg;
	struct page *page;
	void *p;
	int i;

	/* Below the watermarks too: every free page. */
	for (i = 0; i < ARRAY_SIZE(types); i++) {
		while ((page = alloc_pages_node(private_nid, GFP_NOWAIT |
						__GFP_MEMALLOC | GFP_PRIVATE |
						__GFP_NOWARN | types[i], 0))) {
			p = kmap_local_page(page);
			if (memchr_inv(p, 0, PAGE_SIZE)) {
				w->dirty++;
				if (w->clear)
					clear_page(p);
			}
			kunmap_local(p);
			list_add(&page->lru, &w->pages);
			atomic_long_inc(&cram_free_checked);
			cond_resched();
		}
	}
	return 0;
}

/*
 * Take every free page of the node for a moment, as the owner: count those
 * that are not zero (CRAM scrubs every page its folios free). With @clear,
 * clear them too, as a device starts out sanitized. From each CPU in turn:
 * CRAM's worker frees pages on any CPU, into that CPU's per-cpu lists.
 */
static long cram_walk_free(bool clear)
{
	struct cram_walk w = { .pages = LIST_HEAD_INIT(w.pages), .clear = clear };
	struct page *page, *next;
	int cpu;

	cpus_read_lock();
	for_each_online_cpu(cpu)
		work_on_cpu(cpu, cram_walk_free_cpu, &w);
	cpus_read_unlock();
	list_for_each_entry_safe(page, next, &w.pages, lru) {
		list_del(&page->lru);
		__free_page(page);
	}
	return w.dirty;
}

static void cram_free_buffers(void)
{
	int cpu;

	if (cram_lz4_wrk) {
		for_each_possible_cpu(cpu)
			kvfree(*per_cpu_ptr(cram_lz4_wrk, cpu));
		free_percpu(cram_lz4_wrk);
	}
	cram_lz4_wrk = NULL;
	vfree(cram_sizes);
	cram_sizes = NULL;
}

static int cram_alloc_buffers(void)
{
	size_t len = LZ4_MEM_COMPRESS + LZ4_compressBound(PAGE_SIZE);
	int cpu;

	cram_sizes = vzalloc(array_size(PHYS_PFN(private_size),
					sizeof(*cram_sizes)));
	cram_lz4_wrk = alloc_percpu(void *);
	if (!cram_sizes || !cram_lz4_wrk)
		goto fail;
	for_each_possible_cpu(cpu) {
		*per_cpu_ptr(cram_lz4_wrk, cpu) = kvmalloc(len, GFP_KERNEL);
		if (!*per_cpu_ptr(cram_lz4_wrk, cpu))
			goto fail;
	}
	return 0;
fail:
	cram_free_buffers();
	return -ENOMEM;
}

/* The range is online with no ops: make it a CRAM tier. */
static int pnt_cram_start(void)
{
	int ret = cram_alloc_buffers();

	if (ret)
		return ret;
	cram_capacity = READ_ONCE(cram_capacity_kb) * 1024UL;
	if (!cram_capacity)
		cram_capacity = private_size / 4;
	atomic_long_set(&cram_fill, 0);
	atomic_long_set(&cram_peak, 0);
	atomic_long_set(&cram_logical, 0);
	atomic_long_set(&cram_overfilled, 0);
	atomic_long_set(&cram_scrubbed, 0);
	atomic_long_set(&cram_scrub_refused, 0);
	atomic_long_set(&cram_scrub_calls, 0);
	atomic_long_set(&cram_dirty_free, 0);
	/* Earlier tests left data in this DRAM: a device starts empty. */
	cram_walk_free(true);
	ret = cram_register_private_node(private_nid, &pnt_owner,
					 &pnt_cram_ops, NULL);
	if (ret)
		cram_free_buffers();
	return ret;
}

/* The range has been removed: CRAM lets go of the node. */
static int pnt_cram_stop(void)
{
	int ret = cram_unregister_private_node(private_nid, &pnt_owner);

	if (!ret) {
		cram_capacity = 0;
		cram_free_buffers();
	}
	return ret;
}

static int cram_show(struct seq_file *m, void *v)
{
	long fill = atomic_long_read(&cram_fill);
	long logical = atomic_long_read(&cram_logical);

	mutex_lock(&pnt_lock);
	seq_printf(m, "active %d\n", cram_sizes != NULL);
	seq_printf(m, "capacity_bytes %lu\n", cram_capacity);
	seq_printf(m, "fill_bytes %ld\n", fill);
	seq_printf(m, "peak_bytes %ld\n", atomic_long_read(&cram_peak));
	seq_printf(m, "logical_pages %ld\n", logical);
	/* Logical bytes per physical byte, in hundredths. */
	seq_printf(m, "ratio_x100 %ld\n",
		   fill ? logical * (long)PAGE_SIZE * 100 / fill : 0);
	seq_printf(m, "overfilled %ld\n", atomic_long_read(&cram_overfilled));
	seq_printf(m, "scrubbed %ld\n", atomic_long_read(&cram_scrubbed));
	seq_printf(m, "scrub_refused %ld\n",
		   atomic_long_read(&cram_scrub_refused));
	seq_printf(m, "dirty_free %ld\n", atomic_long_read(&cram_dirty_free));
	seq_printf(m, "free_checked %ld\n", atomic_long_read(&cram_free_checked));
	seq_printf(m, "scrub_calls %ld\n", atomic_long_read(&cram_scrub_calls));
	seq_printf(m, "scrub_waiting %d\n", atomic_read(&cram_scrub_waiting));
	mutex_unlock(&pnt_lock);
	return 0;
}

static int cram_open(struct inode *inode, struct file *file)
{
	return single_open(file, cram_show, NULL);
}

/* "check_free": count the node's free pages that are not zero. */
static ssize_t cram_write(struct file *file, const char __user *ubuf,
			  size_t len, loff_t *ppos)
{
	char cmd[16];
	int ret;

	ret = read_cmd(ubuf, len, cmd, sizeof(cmd));
	if (ret)
		return ret;
	mutex_lock(&pnt_lock);
	if (strcmp(cmd, "check_free"))
		ret = -EINVAL;
	else if (!private_online)
		ret = -ENODEV;
	else {
		atomic_long_set(&cram_free_checked, 0);
		atomic_long_set(&cram_dirty_free, cram_walk_free(false));
	}
	mutex_unlock(&pnt_lock);
	return ret ? ret : len;
}

static const struct file_operations cram_fops = {
	.owner = THIS_MODULE,
	.open = cram_open,
	.read = seq_read,
	.write = cram_write,
	.llseek = seq_lseek,
	.release = single_release,
};
#else
static void cram_pressure_refresh(void)
{
}

static int pnt_cram_start(void)
{
	return -EOPNOTSUPP;
}

static int pnt_cram_stop(void)
{
	return 0;
}
#endif /* PNT_CRAM */

static vm_fault_t pnt_fault(struct vm_fault *vmf)
{
	struct page *page;
	vm_fault_t ret;

	/* No private node (removed, or never added): nothing to hand out. */
	if (!node_state(private_nid, N_MEMORY_PRIVATE))
		return VM_FAULT_SIGBUS;
	page = alloc_pages_node(private_nid, GFP_HIGHUSER | GFP_PRIVATE |
				__GFP_ZERO | __GFP_NOWARN, 0);
	if (!page)
		return VM_FAULT_SIGBUS;
	atomic_long_inc(&nr_allocated);
	/* The mapping takes its own reference; the PTE owns the page now. */
	ret = vmf_insert_page_mkwrite(vmf, page, vmf->flags & FAULT_FLAG_WRITE);
	put_page(page);
	return ret;
}

static const struct vm_operations_struct pnt_vm_ops = {
	.fault = pnt_fault,
};

static int pnt_mmap(struct file *file, struct vm_area_struct *vma)
{
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	vm_flags_set(vma, VM_MIXEDMAP | VM_DONTEXPAND);
	vma->vm_ops = &pnt_vm_ops;
	return 0;
}

/*
 * A private folio for the migrate_vma entry @mpfn (order 9 for a THP or a
 * PMD-sized hole, else 0), holding the source page's data or zeroes,
 * locked as migrate_vma_pages() wants it. NULL leaves the entry in place.
 */
static struct folio *pnt_migrate_dst(unsigned long mpfn)
{
	unsigned int order = mpfn & MIGRATE_PFN_COMPOUND ? PNT_PMD_ORDER : 0;
	struct page *src = migrate_pfn_to_page(mpfn);
	/* User memory: movable, as compaction wants its pageblocks. */
	gfp_t gfp = GFP_HIGHUSER_MOVABLE | __GFP_THISNODE | __GFP_NOWARN;
	struct folio *folio;

	if (!src)
		gfp |= __GFP_ZERO;
	/* No hard work for a huge page: without one, the PMD stays as it is. */
	if (order)
		gfp |= __GFP_NORETRY;
	/* The zonelist selector, where the fault path uses GFP_PRIVATE. */
	folio = __folio_alloc_zonelist(gfp, order, private_nid, NULL,
				       alloc_zonelist_for_node(private_nid,
							       NODE_ALLOC_OWNER));
	if (!folio)
		return NULL;
	if (src)
		folio_copy(folio, page_folio(src));
	folio_lock(folio);
	atomic_long_add(folio_nr_pages(folio), &nr_allocated);
	return folio;
}

/* Migrate [start, end), within one PMD, of @vma onto the private node. */
static long pnt_migrate_pmd(struct vm_area_struct *vma, unsigned long start,
			    unsigned long end, bool huge, unsigned long *pfns)
{
	struct migrate_vma args = {
		.vma = vma,
		.start = start,
		.end = end,
		.src = pfns,
		.dst = pfns + PTRS_PER_PTE,
		.flags = MIGRATE_VMA_SELECT_SYSTEM |
			 (huge ? MIGRATE_VMA_SELECT_COMPOUND : 0),
	};
	struct folio *folio;
	unsigned long i, nr;
	long moved = 0;
	int ret;

	memset(pfns, 0, 2 * PTRS_PER_PTE * sizeof(*pfns));
	ret = migrate_vma_setup(&args);
	if (ret)
		return ret;
	for (i = 0; i < args.npages; i++) {
		if (!(args.src[i] & MIGRATE_PFN_MIGRATE))
			continue;
		folio = pnt_migrate_dst(args.src[i]);
		if (folio)
			args.dst[i] = migrate_pfn(folio_pfn(folio)) |
				(folio_test_large(folio) ? MIGRATE_PFN_COMPOUND : 0);
	}
	migrate_vma_pages(&args);
	for (i = 0; i < args.npages; i += nr) {
		nr = args.src[i] & MIGRATE_PFN_COMPOUND ? PTRS_PER_PTE : 1;
		if ((args.src[i] & MIGRATE_PFN_MIGRATE) && args.dst[i])
			moved += nr;
	}
	migrate_vma_finalize(&args);
	return moved;
}

static long pnt_migrate(struct pnt_migrate *m)
{
	unsigned long start = m->addr, end = m->addr + m->len, addr, next;
	bool huge = m->flags & PNT_MIGRATE_HUGE;
	unsigned long align = huge ? PMD_SIZE : PAGE_SIZE;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long *pfns;
	long ret = 0;

	m->migrated = 0;
	if ((m->flags & ~PNT_MIGRATE_HUGE) || m->reserved || !m->len ||
	    !IS_ALIGNED(start | m->len, align) || end < start)
		return -EINVAL;
	if (huge && !IS_ENABLED(CONFIG_TRANSPARENT_HUGEPAGE))
		return -EINVAL;
	if (!node_state(private_nid, N_MEMORY_PRIVATE))
		return -ENODEV;
	/* Source and destination entries of one PMD. */
	pfns = kvcalloc(2 * PTRS_PER_PTE, sizeof(*pfns), GFP_KERNEL);
	if (!pfns)
		return -ENOMEM;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, start);
	if (!vma || !vma_is_anonymous(vma) || end > vma->vm_end)
		ret = -EINVAL;
	for (addr = start; !ret && addr < end; addr = next) {
		next = min(end, ALIGN(addr + 1, PMD_SIZE));
		ret = pnt_migrate_pmd(vma, addr, next, huge, pfns);
		if (ret > 0) {
			m->migrated += ret;
			ret = 0;
		}
	}
	mmap_read_unlock(mm);
	kvfree(pfns);
	return ret;
}

static long pnt_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pnt_migrate m;
	long ret;

	if (cmd != PNT_IOC_MIGRATE)
		return -ENOTTY;
	if (copy_from_user(&m, (void __user *)arg, sizeof(m)))
		return -EFAULT;
	ret = pnt_migrate(&m);
	if (copy_to_user((void __user *)arg, &m, sizeof(m)))
		return -EFAULT;
	return ret;
}

static const struct file_operations pnt_dev_fops = {
	.owner = THIS_MODULE,
	.mmap = pnt_mmap,
	.unlocked_ioctl = pnt_ioctl,
};

static struct miscdevice pnt_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "private_node_test",
	.fops = &pnt_dev_fops,
	.mode = 0666,
};

static int __init pnt_init(void)
{
	int ret;

	if (private_nid == NUMA_NO_NODE || !private_size) {
		pr_err("private_node_test: private_nid/private_base/private_size required\n");
		return -EINVAL;
	}
	ret = misc_register(&pnt_dev);
	if (ret)
		return ret;
	pnt_dir = debugfs_create_dir("private_node_test", NULL);
	debugfs_create_file("private", 0600, pnt_dir, (void *)&pnt_private,
			    &range_fops);
	debugfs_create_file("counters", 0600, pnt_dir, NULL, &counters_fops);
	debugfs_create_file("drain", 0600, pnt_dir, NULL, &drain_fops);
	debugfs_create_file("boost", 0600, pnt_dir, NULL, &boost_fops);
#if PNT_CRAM
	debugfs_create_file("cram", 0600, pnt_dir, NULL, &cram_fops);
#endif
	if (control_nid != NUMA_NO_NODE && control_size)
		debugfs_create_file("control", 0600, pnt_dir,
				    (void *)&pnt_control, &range_fops);
	if (foreign_size) {
		debugfs_create_file("foreign", 0600, pnt_dir,
				    (void *)&pnt_foreign, &range_fops);
		debugfs_create_file("second", 0600, pnt_dir,
				    (void *)&pnt_second, &range_fops);
	}
	return 0;
}

/* Online ranges hold a module reference, so none is left here. */
static void __exit pnt_exit(void)
{
	debugfs_remove_recursive(pnt_dir);
	misc_deregister(&pnt_dev);
	mt_put_memory_types(&pnt_memory_types);
}

module_init(pnt_init);
module_exit(pnt_exit);
MODULE_DESCRIPTION("Private memory node test driver");
MODULE_LICENSE("GPL");
