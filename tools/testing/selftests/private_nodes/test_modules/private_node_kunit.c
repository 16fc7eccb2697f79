// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for private memory nodes: owner registration and lifetime,
 * hotplug error paths, zonelist construction, allocation isolation, the
 * zonelist selector and the numa_zone_allowed() placement test.
 *
 * Needs a physical range nothing onlined (the lab's private-node DIMM),
 * of at least two memory blocks:
 *   insmod private_node_kunit.ko private_nid=N private_base=B private_size=S \
 *          cpusets=0|1 race_rounds=R
 * cpusets=1 tells the tests that a child cpuset exists, i.e. that
 * cpusets_enabled() is true, so cpuset placement applies.
 */
#include <kunit/test.h>
#include <linux/cpuset.h>
#ifdef CONFIG_CRAM
#include <linux/cram.h>
#include <linux/memory-tiers.h>
#endif
#include <linux/delay.h>
#include <linux/gfp.h>
#include <linux/kthread.h>
#include <linux/memory.h>
#include <linux/notifier.h>
#include <linux/memory_hotplug.h>
#include <linux/mm.h>
#include <linux/mmzone.h>
#include <linux/module.h>
#include <linux/node_private.h>
#include <linux/slab.h>

static int private_nid = NUMA_NO_NODE;
module_param(private_nid, int, 0444);
static unsigned long long private_base;
module_param(private_base, ullong, 0444);
static unsigned long long private_size;
module_param(private_size, ullong, 0444);
static int cpusets;
module_param(cpusets, int, 0444);
MODULE_PARM_DESC(cpusets, "1 if a child cpuset exists (cpusets enabled)");
static int race_rounds = 1000;
module_param(race_rounds, int, 0444);
MODULE_PARM_DESC(race_rounds, "Add/remove rounds of each thread of the race test");

#define PNK_RESOURCE "System RAM (private_node_kunit)"

static struct node_private owner_a, owner_b;

static void require_range(struct kunit *test)
{
	if (private_nid == NUMA_NO_NODE || !private_size)
		kunit_skip(test, "no private range given (private_nid=, private_size=)");
}

/* The first ordinary node: a node that holds memory, has CPUs, is no one's. */
static int dram_nid(void)
{
	return first_node(node_states[N_MEMORY]);
}

static int add_private_range(struct node_private *np, u64 start, u64 size)
{
	return add_private_memory_driver_managed(private_nid, start, size,
						 PNK_RESOURCE, MHP_NONE,
						 MMOP_ONLINE_KERNEL, np);
}

static int add_private(struct node_private *np, int nid, enum mmop type)
{
	return add_private_memory_driver_managed(nid, private_base,
						 private_size, PNK_RESOURCE,
						 MHP_NONE, type, np);
}

static int remove_range(u64 start, u64 size)
{
	return offline_and_remove_private_memory(private_nid, start, size);
}

/* Remove the whole range and release the node. */
static int remove_private(struct node_private *np)
{
	int ret = offline_and_remove_private_memory(private_nid, private_base,
						    private_size);

	return ret ? ret : node_private_unregister(private_nid, np);
}

/* --- owner registration --------------------------------------------- */

static void register_rejects_bad_arguments(struct kunit *test)
{
	require_range(test);
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_register(-1, &owner_a), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_register(MAX_NUMNODES, &owner_a),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(-1, &owner_a), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(MAX_NUMNODES, &owner_a),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, NULL),
			-EINVAL);
}

/*
 * A node with CPUs cannot be private (-EINVAL, before anything else is
 * looked at); the CPU-less private node, the control, can.
 */
static void register_rejects_node_with_cpus(struct kunit *test)
{
	int nid = dram_nid();

	require_range(test);
	KUNIT_ASSERT_TRUE(test, node_state(nid, N_CPU));
	KUNIT_EXPECT_EQ(test, node_private_register(nid, &owner_a), -EINVAL);
	KUNIT_EXPECT_NULL(test, node_private_owner(nid));
	KUNIT_EXPECT_TRUE(test, node_state(nid, N_MEMORY));

	KUNIT_ASSERT_FALSE(test, node_state(private_nid, N_CPU));
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
}

/* A node other than the private one with neither memory nor CPUs. */
static int another_empty_node(void)
{
	int nid;

	for_each_node(nid)
		if (nid != private_nid && NODE_DATA(nid) &&
		    !node_state(nid, N_CPU) && !node_state(nid, N_MEMORY))
			return nid;
	return NUMA_NO_NODE;
}

/*
 * One node_private owns one node: its ops are the node's, and releasing
 * one node would silently take them from the other. The control: another
 * owner can take the second node.
 */
static void register_one_node_per_owner(struct kunit *test)
{
	int other = another_empty_node();

	require_range(test);
	if (other == NUMA_NO_NODE)
		kunit_skip(test, "no second node without memory and CPUs");
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_register(other, &owner_a), -EBUSY);
	KUNIT_EXPECT_NULL(test, node_private_owner(other));

	KUNIT_EXPECT_EQ(test, node_private_register(other, &owner_b), 0);
	KUNIT_EXPECT_PTR_EQ(test, node_private_owner(other), &owner_b);
	KUNIT_EXPECT_EQ(test, node_private_unregister(other, &owner_b), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
}

static void register_once_per_node(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, &owner_b),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, &owner_a),
			-EBUSY);
	/* Registered but memoryless: not yet a private node. */
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	/* Only the owner releases it; the owner can. */
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_b),
			-EPERM);
	KUNIT_EXPECT_PTR_EQ(test, node_private_owner(private_nid), &owner_a);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
	KUNIT_EXPECT_NULL(test, node_private_owner(private_nid));
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a),
			-ENOENT);
}

/* --- hotplug ---------------------------------------------------------- */

static void hotplug_rejects_bad_arguments(struct kunit *test)
{
	int ret;

	require_range(test);
	KUNIT_EXPECT_EQ(test, add_private(NULL, private_nid, MMOP_ONLINE_KERNEL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, add_private(&owner_a, private_nid, MMOP_OFFLINE),
			-EINVAL);
	ret = add_private_memory_driver_managed(private_nid, private_base,
						private_size, "not System RAM",
						MHP_NONE, MMOP_ONLINE_KERNEL,
						&owner_a);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	/* The call takes a node, not a memory group id. */
	ret = add_private_memory_driver_managed(private_nid, private_base,
						private_size, PNK_RESOURCE,
						MHP_NID_IS_MGID,
						MMOP_ONLINE_KERNEL, &owner_a);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	/* Not block aligned. */
	ret = add_private_memory_driver_managed(private_nid, private_base + 4096,
						memory_block_size_bytes(),
						PNK_RESOURCE, MHP_NONE,
						MMOP_ONLINE_KERNEL, &owner_a);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	/* A node with CPUs and ordinary memory. */
	KUNIT_EXPECT_EQ(test, add_private(&owner_a, dram_nid(),
					  MMOP_ONLINE_KERNEL), -EINVAL);
	KUNIT_EXPECT_EQ(test, offline_and_remove_private_memory(private_nid,
								private_base,
								private_size),
			-EINVAL);
	/* A failed add leaves no owner behind. */
	KUNIT_EXPECT_NULL(test, node_private_owner(private_nid));
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, &owner_b), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_b), 0);
}

static void hotplug_lifecycle(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_EQ(test, add_private(&owner_a, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY));
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_NORMAL_MEMORY));
	KUNIT_EXPECT_TRUE(test, node_is_private(private_nid));
	KUNIT_EXPECT_EQ(test, NODE_DATA(private_nid)->node_present_pages,
			private_size >> PAGE_SHIFT);
	/* No kswapd, no kcompactd: the owner decides what runs there. */
	KUNIT_EXPECT_NULL(test, NODE_DATA(private_nid)->kswapd);
#ifdef CONFIG_COMPACTION
	KUNIT_EXPECT_NULL(test, NODE_DATA(private_nid)->kcompactd);
#endif
	/* Yet it reads as idle to the allocator, not as a busy kswapd. */
	KUNIT_EXPECT_TRUE(test,
			  waitqueue_active(&NODE_DATA(private_nid)->kswapd_wait));

	/* Unregister while memory is online, or a second owner: refused. */
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, add_private(&owner_b, private_nid,
					  MMOP_ONLINE_KERNEL), -EBUSY);
	/* The range is not on another node. */
	KUNIT_EXPECT_EQ(test, offline_and_remove_private_memory(dram_nid(),
								private_base,
								private_size),
			-EINVAL);

	KUNIT_ASSERT_EQ(test, offline_and_remove_private_memory(private_nid,
								private_base,
								private_size),
			0);
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY));
	/* Nothing of the owner's stays queued on the node. */
	KUNIT_EXPECT_FALSE(test,
			   waitqueue_active(&NODE_DATA(private_nid)->kswapd_wait));
	/* A range that is no longer there cannot be removed again. */
	KUNIT_EXPECT_EQ(test, offline_and_remove_private_memory(private_nid,
								private_base,
								private_size),
			-EINVAL);
	/* Removing the memory does not release the node: its owner does. */
	KUNIT_EXPECT_PTR_EQ(test, node_private_owner(private_nid), &owner_a);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_b),
			-EPERM);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
	KUNIT_EXPECT_NULL(test, node_private_owner(private_nid));
}

/* The zones of @zl, in order, into @zones; returns how many. */
static int zonelist_zones(struct zonelist *zl, struct zone **zones, int max)
{
	struct zoneref *z;
	int n = 0;

	for (z = zl->_zonerefs; z->zone && n < max; z++)
		zones[n++] = z->zone;
	return n;
}

/*
 * A request that named the node while it was memoryless, and took its
 * zonelist, walks the same zones after the node's memory came online as
 * private memory (the lists are rebuilt in place): the ordinary lists of a
 * private node are those of a memoryless node. Control: the private list,
 * which does change, now starts with the node.
 */
static void ordinary_zonelists_unchanged_by_onlining(struct kunit *test)
{
	const int max = MAX_NUMNODES * MAX_NR_ZONES;
	struct zone **before, **after;
	int nb, na, which;

	require_range(test);
	before = kunit_kcalloc(test, max, sizeof(*before), GFP_KERNEL);
	after = kunit_kcalloc(test, max, sizeof(*after), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	KUNIT_ASSERT_NOT_NULL(test, after);

	for (which = ZONELIST_FALLBACK; which <= ZONELIST_NOFALLBACK; which++) {
		nb = zonelist_zones(&NODE_DATA(private_nid)->node_zonelists[which],
				    before, max);
		KUNIT_ASSERT_EQ(test, add_private(&owner_a, private_nid,
						  MMOP_ONLINE_KERNEL), 0);
		na = zonelist_zones(&NODE_DATA(private_nid)->node_zonelists[which],
				    after, max);
		KUNIT_EXPECT_EQ(test, na, nb);
		KUNIT_EXPECT_EQ(test, memcmp(before, after,
					     min(na, nb) * sizeof(*before)), 0);
		na = zonelist_zones(&NODE_DATA(private_nid)->node_zonelists[ZONELIST_PRIVATE],
				    after, max);
		KUNIT_EXPECT_GT(test, na, 0);
		if (na)
			KUNIT_EXPECT_EQ(test, zone_to_nid(after[0]), private_nid);
		KUNIT_ASSERT_EQ(test, remove_private(&owner_a), 0);
	}
}

/*
 * A block that cannot be onlined (a memory notifier vetoes it, as one
 * does for memory it cannot use) makes the whole add fail, and leaves no
 * block, no memory and no owner behind: private memory is online from the
 * start or not there at all. The control: without the veto, the same add
 * onlines the range.
 */
enum veto {
	VETO_NONE,
	VETO_ONLINE,	/* onlining any block of the range */
	VETO_ROLLBACK,	/* onlining the last block, offlining the first */
};

static int veto_mode = VETO_NONE;

static int veto_notifier(struct notifier_block *nb, unsigned long action,
			 void *arg)
{
	struct memory_notify *mn = arg;
	unsigned long start = PHYS_PFN(private_base);
	unsigned long end = PHYS_PFN(private_base + private_size);
	unsigned long last = end - PHYS_PFN(memory_block_size_bytes());

	switch (READ_ONCE(veto_mode)) {
	case VETO_ONLINE:
		if (action == MEM_GOING_ONLINE && mn->start_pfn < end &&
		    mn->start_pfn + mn->nr_pages > start)
			return notifier_from_errno(-EIO);
		break;
	case VETO_ROLLBACK:
		if (action == MEM_GOING_ONLINE && mn->start_pfn == last)
			return notifier_from_errno(-EIO);
		if (action == MEM_GOING_OFFLINE && mn->start_pfn == start)
			return notifier_from_errno(-EBUSY);
		break;
	}
	return NOTIFY_OK;
}

static struct notifier_block veto_nb = {
	.notifier_call = veto_notifier,
};

/* add_private() of the whole range, with @mode's veto in force. */
static int add_private_vetoed(struct kunit *test, int mode)
{
	int ret;

	KUNIT_ASSERT_EQ(test, register_memory_notifier(&veto_nb), 0);
	WRITE_ONCE(veto_mode, mode);
	ret = add_private(&owner_a, private_nid, MMOP_ONLINE_KERNEL);
	WRITE_ONCE(veto_mode, VETO_NONE);
	unregister_memory_notifier(&veto_nb);
	return ret;
}

static void online_failure_adds_nothing(struct kunit *test)
{
	int ret;

	require_range(test);
	ret = add_private_vetoed(test, VETO_ONLINE);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_EQ(test, NODE_DATA(private_nid)->node_present_pages, 0);
	KUNIT_EXPECT_NULL(test, node_private_owner(private_nid));
	/* Nothing left to remove. */
	KUNIT_EXPECT_EQ(test, offline_and_remove_private_memory(private_nid,
								private_base,
								private_size),
			-EINVAL);

	KUNIT_EXPECT_EQ(test, add_private(&owner_a, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	KUNIT_EXPECT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	if (node_private_owner(private_nid) == &owner_a)
		KUNIT_EXPECT_EQ(test, remove_private(&owner_a), 0);
}

/*
 * If the blocks that did come online cannot be taken offline again (here
 * a notifier vetoes offlining the first one, as memory in use would), the
 * add fails with -ENOTEMPTY and leaves the range and its owner in place:
 * the node is never ordinary and never ownerless, and an owner that freed
 * its node_private on a plain failure would not be freeing one mm/ still
 * uses. The control: the owner then removes the range and releases the
 * node as usual.
 */
static void failed_rollback_keeps_owner(struct kunit *test)
{
	int ret;

	require_range(test);
	KUNIT_ASSERT_GE(test, private_size, 2ULL * memory_block_size_bytes());
	ret = add_private_vetoed(test, VETO_ROLLBACK);

	KUNIT_EXPECT_EQ(test, ret, -ENOTEMPTY);
	KUNIT_EXPECT_PTR_EQ(test, node_private_owner(private_nid), &owner_a);
	KUNIT_EXPECT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY));
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a),
			-EBUSY);

	KUNIT_EXPECT_EQ(test, remove_private(&owner_a), 0);
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_NULL(test, node_private_owner(private_nid));
}

/* --- owner lifetime ---------------------------------------------------- */

static atomic_t lifetime_freed;

static bool lifetime_folio_freed(struct folio *folio)
{
	atomic_inc(&lifetime_freed);
	return false;
}

/* Allocate a folio on the node for its owner, then drop it: one folio_freed. */
static void put_one_private_folio(struct kunit *test)
{
	struct folio *folio;

	folio = __folio_alloc_zonelist(GFP_KERNEL | __GFP_THISNODE, 0,
				       private_nid, NULL,
				       alloc_zonelist_for_node(private_nid,
							       NODE_ALLOC_OWNER));
	KUNIT_ASSERT_NOT_NULL(test, folio);
	KUNIT_EXPECT_EQ(test, folio_nid(folio), private_nid);
	folio_put(folio);
}

/*
 * An owner with two ranges removes one: the node is not released (the
 * owner must keep its node_private), and only the owner's explicit
 * unregister after the last range releases it. Then the owner frees its
 * node_private and ops, and the node serves a new owner: with KASAN, any
 * use of the freed owner by hotplug or by the folio_freed path is reported.
 */
static void owner_freed_after_release(struct kunit *test)
{
	u64 half = private_size / 2;
	struct node_private_ops *ops;
	struct node_private *np;
	int freed;

	require_range(test);
	KUNIT_ASSERT_EQ(test, half % memory_block_size_bytes(), 0);
	np = kzalloc_obj(*np, GFP_KERNEL);
	ops = kzalloc_obj(*ops, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, np);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	ops->folio_freed = lifetime_folio_freed;
	atomic_set(&lifetime_freed, 0);

	KUNIT_ASSERT_EQ(test, add_private_range(np, private_base, half), 0);
	KUNIT_ASSERT_EQ(test, add_private_range(np, private_base + half, half), 0);
	KUNIT_ASSERT_EQ(test, node_private_set_ops(private_nid, ops), 0);
	put_one_private_folio(test);
	KUNIT_EXPECT_EQ(test, atomic_read(&lifetime_freed), 1);

	/* One range gone: the node and its owner stay. */
	KUNIT_ASSERT_EQ(test, remove_range(private_base, half), 0);
	KUNIT_EXPECT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, np), -EBUSY);
	KUNIT_EXPECT_PTR_EQ(test, node_private_owner(private_nid), np);
	put_one_private_folio(test);
	KUNIT_EXPECT_EQ(test, atomic_read(&lifetime_freed), 2);

	/* The last range, then the release: now the owner may free. */
	KUNIT_ASSERT_EQ(test, remove_range(private_base + half, half), 0);
	KUNIT_ASSERT_EQ(test, node_private_unregister(private_nid, np), 0);
	kfree(ops);
	kfree(np);

	/* A new owner, the same node: nothing may reach the freed one. */
	KUNIT_ASSERT_EQ(test, add_private(&owner_b, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	put_one_private_folio(test);
	freed = atomic_read(&lifetime_freed);
	KUNIT_EXPECT_EQ(test, freed, 2);
	KUNIT_EXPECT_EQ(test, remove_private(&owner_b), 0);
}

/*
 * Two threads of one owner add and remove a range each, for race_rounds
 * rounds; the second also tries to release the node after each removal,
 * which succeeds only when the first thread's range is out too (and the
 * first thread's next add then registers the node again). The node must
 * never be ordinary memory, and whenever a thread's range is in, the node
 * is private and owned by that owner. A third thread watches N_MEMORY.
 */
struct race_thread {
	struct kunit *test;
	struct node_private *np;
	u64 start, size;
	bool release;
	int adds, releases, errors, bad;
	struct completion done;
};

static atomic_t race_ordinary_seen;
static bool race_stop;

static int race_fn(void *arg)
{
	struct race_thread *t = arg;
	int i, ret;

	for (i = 0; i < race_rounds; i++) {
		ret = add_private_range(t->np, t->start, t->size);
		if (ret) {
			t->errors++;
			continue;
		}
		t->adds++;
		/* This range is in, and only this thread removes it. */
		if (!node_state(private_nid, N_MEMORY_PRIVATE) ||
		    node_state(private_nid, N_MEMORY) ||
		    node_private_owner(private_nid) != t->np)
			t->bad++;
		if (offline_and_remove_private_memory(private_nid, t->start,
						      t->size))
			t->errors++;
		if (t->release) {
			ret = node_private_unregister(private_nid, t->np);
			if (!ret)
				t->releases++;
			else if (ret != -EBUSY)
				t->errors++;
		}
	}
	complete(&t->done);
	return 0;
}

static int race_watch_fn(void *arg)
{
	struct completion *done = arg;

	/* Samples, about 10000 a second, leaving the CPUs to the racers. */
	while (!READ_ONCE(race_stop)) {
		if (node_state(private_nid, N_MEMORY))
			atomic_inc(&race_ordinary_seen);
		usleep_range(50, 100);
	}
	complete(done);
	return 0;
}

static void add_remove_race(struct kunit *test)
{
	u64 block = memory_block_size_bytes();
	struct race_thread t[2] = {
		{ .np = &owner_a, .start = private_base, .size = block },
		{ .np = &owner_a, .start = private_base + block, .size = block,
		  .release = true },
	};
	struct completion watch_done;
	struct task_struct *task;
	int i;

	require_range(test);
	KUNIT_ASSERT_GE(test, private_size, 2 * block);
	atomic_set(&race_ordinary_seen, 0);
	WRITE_ONCE(race_stop, false);
	init_completion(&watch_done);
	task = kthread_run(race_watch_fn, &watch_done, "pnk-watch");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	for (i = 0; i < 2; i++) {
		t[i].test = test;
		init_completion(&t[i].done);
		task = kthread_run(race_fn, &t[i], "pnk-race%d", i);
		if (IS_ERR(task))
			complete(&t[i].done);
		KUNIT_EXPECT_FALSE(test, IS_ERR(task));
	}
	for (i = 0; i < 2; i++)
		wait_for_completion(&t[i].done);
	WRITE_ONCE(race_stop, true);
	wait_for_completion(&watch_done);

	kunit_info(test, "%d rounds each: adds %d/%d, releases %d, errors %d/%d, bad %d/%d, N_MEMORY seen %d",
		   race_rounds, t[0].adds, t[1].adds, t[1].releases,
		   t[0].errors, t[1].errors, t[0].bad, t[1].bad,
		   atomic_read(&race_ordinary_seen));
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, t[i].adds, race_rounds);
		KUNIT_EXPECT_EQ(test, t[i].errors, 0);
		KUNIT_EXPECT_EQ(test, t[i].bad, 0);
	}
	/* The releases did interleave with the other thread's adds. */
	KUNIT_EXPECT_GT(test, t[1].releases, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&race_ordinary_seen), 0);
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	/* The node may still be registered from the first thread's last add. */
	if (node_private_owner(private_nid))
		KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid,
							      &owner_a), 0);
}

static struct kunit_case registration_cases[] = {
	KUNIT_CASE(register_rejects_bad_arguments),
	KUNIT_CASE(register_rejects_node_with_cpus),
	KUNIT_CASE(register_once_per_node),
	KUNIT_CASE(register_one_node_per_owner),
	KUNIT_CASE(hotplug_rejects_bad_arguments),
	KUNIT_CASE(hotplug_lifecycle),
	KUNIT_CASE(ordinary_zonelists_unchanged_by_onlining),
	KUNIT_CASE(online_failure_adds_nothing),
	KUNIT_CASE(failed_rollback_keeps_owner),
	KUNIT_CASE(owner_freed_after_release),
	KUNIT_CASE_SLOW(add_remove_race),
	{}
};

static struct kunit_suite registration_suite = {
	.name = "private_node_registration",
	.test_cases = registration_cases,
};

/* --- zonelists and allocation, with a private node online ------------- */

static int online_suite_init(struct kunit_suite *suite)
{
	if (private_nid == NUMA_NO_NODE || !private_size)
		return 0;	/* each case skips */
	return add_private(&owner_a, private_nid, MMOP_ONLINE_KERNEL);
}

static void online_suite_exit(struct kunit_suite *suite)
{
	if (node_private_owner(private_nid) == &owner_a)
		WARN_ON(remove_private(&owner_a));
}

static void require_private_online(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
}

/* Nodes with zones in @zl, in order of first appearance. */
static void zonelist_nodes(struct zonelist *zl, nodemask_t *mask,
			   int *order, int *nr)
{
	struct zoneref *z;

	nodes_clear(*mask);
	*nr = 0;
	for (z = zl->_zonerefs; z->zone; z++) {
		int nid = zone_to_nid(z->zone);

		if (!node_isset(nid, *mask))
			order[(*nr)++] = nid;
		node_set(nid, *mask);
	}
}

/*
 * Every node's four lists. An ordinary node: itself first, then every
 * ordinary node, never the private one, and its private lists the same as
 * its ordinary ones. The private node: its ordinary lists those of a
 * memoryless node (every ordinary node, not itself; nothing without
 * fallback), its private lists itself first.
 */
static void zonelists_of_every_node(struct kunit *test)
{
	const nodemask_t *memory = &node_states[N_MEMORY];
	int order[MAX_NUMNODES], nr, nid, which, i;
	nodemask_t seen, dram;

	require_private_online(test);
	for_each_node_state(nid, N_MEMORY) {
		for (which = 0; which < MAX_ZONELISTS; which++) {
			zonelist_nodes(&NODE_DATA(nid)->node_zonelists[which],
				       &seen, order, &nr);
			KUNIT_ASSERT_GT(test, nr, 0);
			KUNIT_EXPECT_EQ(test, order[0], nid);
			KUNIT_EXPECT_FALSE(test, node_isset(private_nid, seen));
			if (which & 1)	/* __GFP_THISNODE */
				KUNIT_EXPECT_EQ(test, nr, 1);
			else
				KUNIT_EXPECT_TRUE(test, nodes_equal(seen, *memory));
		}
	}

	zonelist_nodes(&NODE_DATA(private_nid)->node_zonelists[ZONELIST_FALLBACK],
		       &seen, order, &nr);
	KUNIT_EXPECT_TRUE(test, nodes_equal(seen, node_states[N_MEMORY]));
	zonelist_nodes(&NODE_DATA(private_nid)->node_zonelists[ZONELIST_NOFALLBACK],
		       &seen, order, &nr);
	KUNIT_EXPECT_EQ(test, nr, 0);

	zonelist_nodes(&NODE_DATA(private_nid)->node_zonelists[ZONELIST_PRIVATE_NOFALLBACK],
		       &seen, order, &nr);
	KUNIT_EXPECT_EQ(test, nr, 1);
	KUNIT_EXPECT_EQ(test, order[0], private_nid);
	zonelist_nodes(&NODE_DATA(private_nid)->node_zonelists[ZONELIST_PRIVATE],
		       &seen, order, &nr);
	KUNIT_ASSERT_GT(test, nr, 1);
	KUNIT_EXPECT_EQ(test, order[0], private_nid);
	nodes_clear(dram);
	for (i = 1; i < nr; i++) {
		KUNIT_EXPECT_TRUE(test, node_state(order[i], N_MEMORY));
		node_set(order[i], dram);
	}
	KUNIT_EXPECT_TRUE(test, nodes_equal(dram, node_states[N_MEMORY]));
}

/*
 * node_zonelist(), as every allocator path picks its list, for gfp flags x
 * preferred node: a private zone is in the list exactly when the request
 * has __GFP_PRIVATE and prefers the private node. The ordinary requests
 * are the controls: they do get lists, with ordinary zones.
 */
struct walk_gfp {
	const char *name;
	gfp_t gfp;
};

static const struct walk_gfp walk_gfps[] = {
	{ "GFP_KERNEL", GFP_KERNEL },
	{ "GFP_HIGHUSER_MOVABLE", GFP_HIGHUSER_MOVABLE },
	{ "GFP_KERNEL|__GFP_THISNODE", GFP_KERNEL | __GFP_THISNODE },
	{ "GFP_KERNEL|__GFP_PRIVATE", GFP_KERNEL | __GFP_PRIVATE },
	{ "GFP_KERNEL|GFP_PRIVATE", GFP_KERNEL | GFP_PRIVATE },
	{ "GFP_TRANSHUGE|GFP_PRIVATE", GFP_TRANSHUGE | GFP_PRIVATE },
};

static void walk_gfp_desc(const struct walk_gfp *w, char *desc)
{
	strscpy(desc, w->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(walk_gfp, walk_gfps, walk_gfp_desc);

static void zonelist_walk_by_gfp(struct kunit *test)
{
	const struct walk_gfp *w = test->param_value;
	bool private = w->gfp & __GFP_PRIVATE;
	bool thisnode = w->gfp & __GFP_THISNODE;
	int order[MAX_NUMNODES], nr, nid;
	nodemask_t seen;

	require_private_online(test);
	/* Preferring the private node. */
	zonelist_nodes(node_zonelist(private_nid, w->gfp), &seen, order, &nr);
	KUNIT_EXPECT_EQ(test, node_isset(private_nid, seen), private);
	if (private)
		KUNIT_EXPECT_EQ(test, order[0], private_nid);
	if (thisnode)
		KUNIT_EXPECT_EQ(test, nr, private ? 1 : 0);
	else
		KUNIT_EXPECT_GT(test, nr, private ? 1 : 0);

	/* Preferring an ordinary node: never the private one. */
	for_each_node_state(nid, N_MEMORY) {
		zonelist_nodes(node_zonelist(nid, w->gfp), &seen, order, &nr);
		KUNIT_EXPECT_FALSE(test, node_isset(private_nid, seen));
		KUNIT_EXPECT_EQ(test, order[0], nid);
	}
}

/* Allocate one page, report its node (or NUMA_NO_NODE) and free it. */
static int alloc_node_of(int nid, gfp_t gfp)
{
	struct page *page = alloc_pages_node(nid, gfp | __GFP_NOWARN, 0);
	int got;

	if (!page)
		return NUMA_NO_NODE;
	got = page_to_nid(page);
	__free_page(page);
	return got;
}

static void ordinary_requests_never_get_private_pages(struct kunit *test)
{
	int got;

	require_private_online(test);
	/* Preferring the private node falls back to ordinary memory. */
	got = alloc_node_of(private_nid, GFP_KERNEL);
	KUNIT_EXPECT_NE(test, got, NUMA_NO_NODE);
	KUNIT_EXPECT_NE(test, got, private_nid);
	KUNIT_EXPECT_TRUE(test, node_state(got, N_MEMORY));
	got = alloc_node_of(private_nid, GFP_HIGHUSER_MOVABLE);
	KUNIT_EXPECT_TRUE(test, got != private_nid && got != NUMA_NO_NODE);
	/* ...and with __GFP_THISNODE there is nothing it may use. */
	KUNIT_EXPECT_EQ(test, alloc_node_of(private_nid,
					    GFP_KERNEL | __GFP_THISNODE),
			NUMA_NO_NODE);
	/* The control: the same request may use its own ordinary node. */
	KUNIT_EXPECT_EQ(test, alloc_node_of(dram_nid(),
					    GFP_KERNEL | __GFP_THISNODE),
			dram_nid());
}

static void private_requests_get_private_pages(struct kunit *test)
{
	int got;

	require_private_online(test);
	KUNIT_EXPECT_EQ(test, alloc_node_of(private_nid,
					    GFP_KERNEL | GFP_PRIVATE),
			private_nid);
	/* Without __GFP_THISNODE the private node still comes first. */
	KUNIT_EXPECT_EQ(test, alloc_node_of(private_nid,
					    GFP_KERNEL | __GFP_PRIVATE),
			private_nid);
	/* __GFP_PRIVATE does not pull an ordinary request onto it. */
	got = alloc_node_of(dram_nid(), GFP_KERNEL | __GFP_PRIVATE);
	KUNIT_EXPECT_NE(test, got, private_nid);
	KUNIT_EXPECT_TRUE(test, node_state(got, N_MEMORY));
}

/* The selector's interface: __folio_alloc_zonelist() and its reasons. */
static int folio_node_of(int nid, gfp_t gfp, enum alloc_zonelist zlsel)
{
	struct folio *folio;
	int got;

	folio = __folio_alloc_zonelist(gfp | __GFP_NOWARN, 0, nid, NULL, zlsel);
	if (!folio)
		return NUMA_NO_NODE;
	got = folio_nid(folio);
	folio_put(folio);
	return got;
}

static void zonelist_selector(struct kunit *test)
{
	require_private_online(test);
	KUNIT_EXPECT_EQ(test, alloc_zonelist_for_node(private_nid,
						      NODE_ALLOC_OWNER),
			ALLOC_ZONELIST_PRIVATE);
	KUNIT_EXPECT_EQ(test, alloc_zonelist_for_node(dram_nid(),
						      NODE_ALLOC_OWNER),
			ALLOC_ZONELIST_DEFAULT);

	KUNIT_EXPECT_EQ(test, folio_node_of(private_nid, GFP_KERNEL,
					    ALLOC_ZONELIST_PRIVATE),
			private_nid);
	KUNIT_EXPECT_EQ(test, folio_node_of(private_nid,
					    GFP_KERNEL | __GFP_THISNODE,
					    ALLOC_ZONELIST_PRIVATE),
			private_nid);
	/* DEFAULT wins over a __GFP_PRIVATE in the flags. */
	KUNIT_EXPECT_NE(test, folio_node_of(private_nid,
					    GFP_KERNEL | __GFP_PRIVATE,
					    ALLOC_ZONELIST_DEFAULT),
			private_nid);
	KUNIT_EXPECT_EQ(test, folio_node_of(private_nid, GFP_KERNEL | GFP_PRIVATE,
					    ALLOC_ZONELIST_DEFAULT),
			NUMA_NO_NODE);
	/* PRIVATE on an ordinary node is ordinary memory. */
	KUNIT_EXPECT_EQ(test, folio_node_of(dram_nid(),
					    GFP_KERNEL | __GFP_THISNODE,
					    ALLOC_ZONELIST_PRIVATE),
			dram_nid());
}

static void slab_on_behalf_of_private_node_uses_dram(struct kunit *test)
{
	void *obj;
	int i;

	require_private_online(test);
	for (i = 0; i < 64; i++) {
		obj = kmalloc_node(4096, GFP_KERNEL, private_nid);
		KUNIT_ASSERT_NOT_NULL(test, obj);
		KUNIT_EXPECT_NE(test, page_to_nid(virt_to_page(obj)),
				private_nid);
		kfree(obj);
	}
}

/* numa_zone_allowed(): gfp x node state x cpuset, as a parameter matrix. */
enum zone_kind { ZONE_PRIVATE_NODE, ZONE_IN_CPUSET, ZONE_OUTSIDE_CPUSET, NR_KINDS };

static const char * const kind_names[] = {
	"private", "dram-in-cpuset", "dram-outside-cpuset"
};

static const struct {
	const char *name;
	gfp_t gfp;
} zone_gfps[] = {
	{ "GFP_KERNEL", GFP_KERNEL },
	{ "GFP_USER", GFP_USER },
	{ "GFP_KERNEL|__GFP_PRIVATE", GFP_KERNEL | __GFP_PRIVATE },
	{ "GFP_USER|__GFP_PRIVATE", GFP_USER | __GFP_PRIVATE },
	{ "GFP_KERNEL|GFP_PRIVATE", GFP_KERNEL | GFP_PRIVATE },
};

#define NR_ZONE_PARAMS (ARRAY_SIZE(zone_gfps) * NR_KINDS * 2)

static const void *zone_param_gen(struct kunit *test, const void *prev,
				  char *desc)
{
	static unsigned long idx;
	unsigned long i;

	idx = prev ? *(const unsigned long *)prev + 1 : 0;
	if (idx >= NR_ZONE_PARAMS)
		return NULL;
	i = idx;
	snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s %s %s",
		 zone_gfps[i % ARRAY_SIZE(zone_gfps)].name,
		 kind_names[(i / ARRAY_SIZE(zone_gfps)) % NR_KINDS],
		 i / (ARRAY_SIZE(zone_gfps) * NR_KINDS) ? "ALLOC_CPUSET" :
		 "no-ALLOC_CPUSET");
	return &idx;
}

static struct zone *first_populated_zone(int nid)
{
	struct zone *zone;

	for (zone = NODE_DATA(nid)->node_zones;
	     zone < NODE_DATA(nid)->node_zones + MAX_NR_ZONES; zone++)
		if (populated_zone(zone))
			return zone;
	return NULL;
}

/*
 * With cpusets in force (a child cpuset and ALLOC_CPUSET), a private zone
 * is allowed to __GFP_PRIVATE requests only, and an ordinary zone outside
 * the task's mems to non-hardwall requests only. Without, every zone is
 * allowed: the zonelists alone keep ordinary requests off private zones.
 */
static void numa_zone_allowed_matrix(struct kunit *test)
{
	unsigned long i = *(const unsigned long *)test->param_value;
	gfp_t gfp = zone_gfps[i % ARRAY_SIZE(zone_gfps)].gfp;
	enum zone_kind kind = (i / ARRAY_SIZE(zone_gfps)) % NR_KINDS;
	bool check_cpuset = i / (ARRAY_SIZE(zone_gfps) * NR_KINDS);
	bool enforced = check_cpuset && cpusets;
	nodemask_t saved = current->mems_allowed;
	int in_nid = dram_nid();
	int out_nid = next_node(in_nid, node_states[N_MEMORY]);
	bool want, got;
	struct zone *zone;

	require_private_online(test);
	if (out_nid >= MAX_NUMNODES)
		kunit_skip(test, "needs two ordinary nodes");

	switch (kind) {
	case ZONE_PRIVATE_NODE:
		zone = first_populated_zone(private_nid);
		want = !enforced || (gfp & __GFP_PRIVATE);
		break;
	case ZONE_IN_CPUSET:
		zone = first_populated_zone(in_nid);
		want = true;
		break;
	default:
		zone = first_populated_zone(out_nid);
		/* cgroup v2: only hardwall requests are confined. */
		want = !(enforced && (gfp & __GFP_HARDWALL));
		break;
	}
	KUNIT_ASSERT_NOT_NULL(test, zone);

	set_mems_allowed(nodemask_of_node(in_nid));
	got = kunit_numa_zone_allowed(zone, gfp, check_cpuset);
	set_mems_allowed(saved);
	KUNIT_EXPECT_EQ(test, got, want);
}

static struct kunit_case online_cases[] = {
	KUNIT_CASE(zonelists_of_every_node),
	KUNIT_CASE_PARAM(zonelist_walk_by_gfp, walk_gfp_gen_params),
	KUNIT_CASE(ordinary_requests_never_get_private_pages),
	KUNIT_CASE(private_requests_get_private_pages),
	KUNIT_CASE(zonelist_selector),
	KUNIT_CASE(slab_on_behalf_of_private_node_uses_dram),
	KUNIT_CASE_PARAM(numa_zone_allowed_matrix, zone_param_gen),
	{}
};

static struct kunit_suite online_suite = {
	.name = "private_node_isolation",
	.suite_init = online_suite_init,
	.suite_exit = online_suite_exit,
	.test_cases = online_cases,
};

/* --- owner ops and the folio predicates -------------------------------- */

static const struct node_private_ops ops_a, ops_b;
static const struct node_private_ops ops_unknown_flag = {
	.flags = ~NP_OPS_ALL,
};

static void ops_need_an_owner(struct kunit *test)
{
	require_range(test);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_a), -ENODEV);
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &ops_a),
			-ENODEV);
	/* An ordinary node has no owner either. */
	KUNIT_EXPECT_EQ(test, node_private_set_ops(dram_nid(), &ops_a), -ENODEV);
}

static void ops_rejects_bad_arguments(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &ops_unknown_flag), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(-1, &ops_a), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(MAX_NUMNODES, &ops_a),
			-EINVAL);
	/* The control: valid ops on the same node are taken. */
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
}

static void ops_set_and_clear_once(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_a), 0);
	KUNIT_EXPECT_PTR_EQ(test, rcu_access_pointer(owner_a.ops), &ops_a);
	/* One table per node: another, or the same again, is refused. */
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_b), -EBUSY);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_a), -EBUSY);
	/* Only the installed table can be cleared. */
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &ops_b),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &ops_a), 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(owner_a.ops));
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &ops_a),
			-EINVAL);
	/* Unregistering drops ops the owner left installed. */
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_b), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(owner_a.ops));
}

static int noop_migrate_to(struct list_head *folios, int nid,
			   enum migrate_mode mode, enum migrate_reason reason,
			   unsigned int *nr_succeeded)
{
	return 0;
}

static void noop_folio_migrate(struct folio *src, struct folio *dst)
{
}

static vm_fault_t noop_handle_fault(struct folio *folio, struct vm_fault *vmf,
				    enum pgtable_level level)
{
	return 0;
}

/* Each NP_OPS_* flag needs its callbacks; the control has them all. */
static void ops_flags_need_callbacks(struct kunit *test)
{
	static const struct node_private_ops no_migrate_to = {
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_MIGRATION,
	};
	static const struct node_private_ops no_folio_migrate = {
		.migrate_to = noop_migrate_to,
		.flags = NP_OPS_MIGRATION,
	};
	static const struct node_private_ops all = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_MIGRATION | NP_OPS_MEMPOLICY | NP_OPS_DEMOTION |
			 NP_OPS_OOM_ELIGIBLE | NP_OPS_COMPACTION |
			 NP_OPS_LONGTERM_PIN,
	};
	/* mbind() moves pages: MEMPOLICY needs MIGRATION. */
	static const struct node_private_ops mempolicy_alone = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_MEMPOLICY,
	};
	/* Reclaim demotes through migrate_to: DEMOTION needs MIGRATION. */
	static const struct node_private_ops demotion_alone = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_DEMOTION,
	};
	/* Folios arrive read-only by migration; a write needs the owner. */
	static const struct node_private_ops protect_write_alone = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.handle_fault = noop_handle_fault,
		.flags = NP_OPS_PROTECT_WRITE,
	};
	static const struct node_private_ops protect_write_no_fault = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_MIGRATION | NP_OPS_PROTECT_WRITE,
	};
	/* A policy faults folios in writable: the two exclude each other. */
	static const struct node_private_ops protect_write_mempolicy = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.handle_fault = noop_handle_fault,
		.flags = NP_OPS_MIGRATION | NP_OPS_MEMPOLICY |
			 NP_OPS_PROTECT_WRITE,
	};
	/* Compaction migrates, within the node: COMPACTION needs MIGRATION. */
	static const struct node_private_ops compaction_alone = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_COMPACTION,
	};
	/* Only policies and demotion give ordinary tasks the node's memory. */
	static const struct node_private_ops oom_migration_only = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.flags = NP_OPS_MIGRATION | NP_OPS_OOM_ELIGIBLE,
	};
	static const struct node_private_ops protect_write = {
		.migrate_to = noop_migrate_to,
		.folio_migrate = noop_folio_migrate,
		.handle_fault = noop_handle_fault,
		.flags = NP_OPS_MIGRATION | NP_OPS_DEMOTION |
			 NP_OPS_PROTECT_WRITE,
	};

	require_range(test);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &no_migrate_to),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &no_folio_migrate), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &mempolicy_alone), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &demotion_alone), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &protect_write_alone), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &protect_write_no_fault),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &protect_write_mempolicy),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &compaction_alone), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid,
						   &oom_migration_only),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(owner_a.ops));
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &protect_write),
			0);
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid,
						     &protect_write), 0);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &all), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
}

/* A migrate_to that sleeps until the test lets it return. */
static DECLARE_COMPLETION(migrate_entered);
static DECLARE_COMPLETION(migrate_release);
static DECLARE_COMPLETION(clear_returned);
static DECLARE_COMPLETION(migrate_returned);
static bool cleared_under_callback;
/* Static: a thread the test gave up on may still write them. */
static int migrate_ret, clear_ret;

static int blocking_migrate_to(struct list_head *folios, int nid,
			       enum migrate_mode mode,
			       enum migrate_reason reason,
			       unsigned int *nr_succeeded)
{
	complete(&migrate_entered);
	wait_for_completion(&migrate_release);
	cleared_under_callback = completion_done(&clear_returned);
	return 0;
}

static const struct node_private_ops blocking_ops = {
	.migrate_to = blocking_migrate_to,
	.folio_migrate = noop_folio_migrate,
	.flags = NP_OPS_MIGRATION,
};

static int migrate_to_thread(void *arg)
{
	LIST_HEAD(folios);

	migrate_ret = node_private_migrate_to(&folios, private_nid,
					      MIGRATE_SYNC, MR_SYSCALL, NULL);
	complete(&migrate_returned);
	return 0;
}

static int clear_ops_thread(void *arg)
{
	clear_ret = node_private_clear_ops(private_nid, &blocking_ops);
	complete(&clear_returned);
	return 0;
}

/*
 * node_private_clear_ops() returns only once a migrate_to callback that
 * was running has returned (it may sleep, so RCU cannot cover it). The
 * control: once cleared, mm/ no longer calls migrate_to (-ENODEV).
 */
static void clear_ops_waits_for_migrate_to(struct kunit *test)
{
	struct task_struct *a, *b;
	LIST_HEAD(folios);

	require_range(test);
	migrate_ret = clear_ret = -1;
	reinit_completion(&migrate_entered);
	reinit_completion(&migrate_release);
	reinit_completion(&clear_returned);
	reinit_completion(&migrate_returned);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_ASSERT_EQ(test, node_private_set_ops(private_nid, &blocking_ops),
			0);

	a = kthread_run(migrate_to_thread, NULL, "pnk_migrate_to");
	KUNIT_ASSERT_FALSE(test, IS_ERR(a));
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&migrate_entered,
							  10 * HZ), 0);
	b = kthread_run(clear_ops_thread, NULL, "pnk_clear_ops");
	if (IS_ERR(b)) {
		complete(&migrate_release);
		KUNIT_FAIL(test, "kthread_run: %ld", PTR_ERR(b));
		return;
	}
	/* A second is ample for RCU alone; the callback still sleeps. */
	KUNIT_EXPECT_EQ(test, wait_for_completion_timeout(&clear_returned, HZ),
			0);
	complete(&migrate_release);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&clear_returned,
							  30 * HZ), 0);
	KUNIT_ASSERT_NE(test, wait_for_completion_timeout(&migrate_returned,
							  30 * HZ), 0);
	KUNIT_EXPECT_FALSE(test, cleared_under_callback);
	KUNIT_EXPECT_EQ(test, clear_ret, 0);
	KUNIT_EXPECT_EQ(test, migrate_ret, 0);
	KUNIT_EXPECT_EQ(test, node_private_migrate_to(&folios, private_nid,
						      MIGRATE_SYNC, MR_SYSCALL,
						      NULL), -ENODEV);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
}

/*
 * folio_is_private_managed() is true for a folio on the private node and
 * for a ZONE_DEVICE folio (here a struct page set up as memremap_pages()
 * would, on an ordinary node), and false for an ordinary folio; only the
 * first is folio_is_private_node().
 */
static void predicate_on_each_kind_of_folio(struct kunit *test)
{
	struct page *priv, *dram;

	require_range(test);
	KUNIT_ASSERT_EQ(test, add_private(&owner_a, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	priv = alloc_pages_node(private_nid, GFP_KERNEL | GFP_PRIVATE, 0);
	dram = alloc_pages_node(dram_nid(), GFP_KERNEL, 0);
	if (priv && dram) {
		KUNIT_EXPECT_TRUE(test, folio_is_private_node(page_folio(priv)));
		KUNIT_EXPECT_TRUE(test,
				  folio_is_private_managed(page_folio(priv)));
		KUNIT_EXPECT_FALSE(test, folio_is_private_node(page_folio(dram)));
		KUNIT_EXPECT_FALSE(test,
				   folio_is_private_managed(page_folio(dram)));
	} else {
		KUNIT_FAIL(test, "allocation failed");
	}
	if (priv)
		__free_page(priv);
	if (dram)
		__free_page(dram);
	KUNIT_EXPECT_EQ(test, remove_private(&owner_a), 0);

#ifdef CONFIG_ZONE_DEVICE
	{
		struct page *dev = kunit_kzalloc(test, sizeof(*dev), GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, dev);
		set_page_links(dev, ZONE_DEVICE, dram_nid(), 0);
		KUNIT_EXPECT_FALSE(test, folio_is_private_node(page_folio(dev)));
		KUNIT_EXPECT_TRUE(test, folio_is_private_managed(page_folio(dev)));
	}
#endif
}

/* An owner that holds its boost: kswapd never drops it. */
static void managed_policy(int nid, struct node_reclaim_policy *policy)
{
	policy->managed_watermarks = true;
}

static unsigned long node_boost(pg_data_t *pgdat)
{
	unsigned long boost = 0;
	int i;

	for (i = 0; i < MAX_NR_ZONES; i++)
		boost += READ_ONCE(pgdat->node_zones[i].watermark_boost);
	return boost;
}

/*
 * node_private_reclaim_boost(): only the owner, only with NP_OPS_RECLAIM,
 * only with memory. The first successful boost starts the node's kswapd
 * (a private node has none until then), and withdrawing the flag stops it
 * and drops the boost, which a managing owner otherwise keeps.
 */
static void reclaim_boost_needs_owner_flag_and_memory(struct kunit *test)
{
	static const struct node_private_ops reclaim = {
		.reclaim_policy = managed_policy,
		.flags = NP_OPS_RECLAIM,
	};
	static const struct node_private_ops no_reclaim = {};
	pg_data_t *pgdat;

	require_range(test);
	pgdat = NODE_DATA(private_nid);
	KUNIT_ASSERT_EQ(test, node_private_register(private_nid, &owner_a), 0);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid, NULL, 1),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(-1, &owner_a, 1),
			-EINVAL);
	KUNIT_ASSERT_EQ(test, node_private_set_ops(private_nid, &reclaim), 0);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_b, 1), -EINVAL);
	/* No memory: nothing to reclaim, no kswapd to start. */
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_a, 1), -ENODEV);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);

	KUNIT_ASSERT_EQ(test, add_private(&owner_a, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_a, 1),
			-EOPNOTSUPP);
	KUNIT_ASSERT_EQ(test, node_private_set_ops(private_nid, &no_reclaim), 0);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_a, 1),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &no_reclaim),
			0);
	/* Opted in: the owner's boost is taken, and only then kswapd runs. */
	KUNIT_ASSERT_EQ(test, node_private_set_ops(private_nid, &reclaim), 0);
	KUNIT_EXPECT_NULL(test, READ_ONCE(pgdat->kswapd));
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_b, 64), -EINVAL);
	KUNIT_EXPECT_NULL(test, READ_ONCE(pgdat->kswapd));
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_a, 64), 0);
	KUNIT_EXPECT_NOT_NULL(test, READ_ONCE(pgdat->kswapd));
	/* Held, though kswapd has nothing to do on a free node. */
	KUNIT_EXPECT_EQ(test, node_boost(pgdat), 64);
	/* Withdrawn: no kswapd, no boost. */
	KUNIT_EXPECT_EQ(test, node_private_clear_ops(private_nid, &reclaim), 0);
	KUNIT_EXPECT_NULL(test, READ_ONCE(pgdat->kswapd));
	KUNIT_EXPECT_EQ(test, node_boost(pgdat), 0);
	KUNIT_EXPECT_EQ(test, node_private_reclaim_boost(private_nid,
							 &owner_a, 64),
			-EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, remove_private(&owner_a), 0);
}

#ifdef CONFIG_CRAM
static const struct cram_device_ops cram_dev_ops;

/*
 * CRAM takes a private node from its owner only: not an ordinary node, not
 * another owner's, not twice, and not with ops installed; it lets go only
 * once the node's memory is gone, and only for the same owner.
 */
static void cram_register_rules(struct kunit *test)
{
	struct memory_dev_type *mt;
	LIST_HEAD(types);

	require_range(test);
	KUNIT_EXPECT_EQ(test, cram_register_private_node(dram_nid(), &owner_a,
							 &cram_dev_ops, NULL),
			-EINVAL);
	/*
	 * A tier below DRAM, as a driver gives it: a node that joins the
	 * tiers without a type keeps DRAM's for good, and the selftests
	 * after this need the node below DRAM.
	 */
	mt = mt_find_alloc_memory_type(5 * MEMTIER_ADISTANCE_DRAM, &types);
	KUNIT_ASSERT_FALSE(test, IS_ERR(mt));
	init_node_memory_type(private_nid, mt);
	KUNIT_ASSERT_EQ(test, add_private(&owner_a, private_nid,
					  MMOP_ONLINE_KERNEL), 0);
	KUNIT_EXPECT_EQ(test, cram_register_private_node(private_nid, &owner_b,
							 &cram_dev_ops, NULL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, cram_register_private_node(private_nid, &owner_a,
							 NULL, NULL), -EINVAL);
	/* The control: the owner's own node is taken, and opted in. */
	KUNIT_EXPECT_EQ(test, cram_register_private_node(private_nid, &owner_a,
							 &cram_dev_ops, NULL), 0);
	KUNIT_EXPECT_TRUE(test, node_private_allows(private_nid,
						    NP_OPS_DEMOTION));
	KUNIT_EXPECT_TRUE(test, node_private_allows(private_nid,
						    NP_OPS_PROTECT_WRITE));
	KUNIT_EXPECT_FALSE(test, node_private_allows(private_nid,
						     NP_OPS_MEMPOLICY));
	KUNIT_EXPECT_EQ(test, cram_register_private_node(private_nid, &owner_a,
							 &cram_dev_ops, NULL),
			-EBUSY);
	KUNIT_EXPECT_EQ(test, node_private_set_ops(private_nid, &ops_a), -EBUSY);
	/* Not while the node has memory, nor for another owner. */
	KUNIT_EXPECT_EQ(test, cram_unregister_private_node(private_nid,
							   &owner_a), -EBUSY);
	KUNIT_EXPECT_EQ(test, cram_unregister_private_node(private_nid,
							   &owner_b), -EINVAL);
	KUNIT_EXPECT_EQ(test, remove_range(private_base, private_size), 0);
	KUNIT_EXPECT_EQ(test, cram_unregister_private_node(private_nid,
							   &owner_a), 0);
	KUNIT_EXPECT_FALSE(test, node_private_allows(private_nid,
						     NP_OPS_DEMOTION));
	KUNIT_EXPECT_EQ(test, cram_unregister_private_node(private_nid,
							   &owner_a), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid, &owner_a), 0);
	clear_node_memory_type(private_nid, mt);
	mt_put_memory_types(&types);
}
#endif

static struct kunit_case ops_cases[] = {
	KUNIT_CASE(ops_need_an_owner),
	KUNIT_CASE(ops_rejects_bad_arguments),
	KUNIT_CASE(ops_set_and_clear_once),
	KUNIT_CASE(ops_flags_need_callbacks),
	KUNIT_CASE(clear_ops_waits_for_migrate_to),
	KUNIT_CASE(predicate_on_each_kind_of_folio),
	KUNIT_CASE(reclaim_boost_needs_owner_flag_and_memory),
#ifdef CONFIG_CRAM
	KUNIT_CASE(cram_register_rules),
#endif
	{}
};

static struct kunit_suite ops_suite = {
	.name = "private_node_ops",
	.test_cases = ops_cases,
};

kunit_test_suites(&registration_suite, &online_suite, &ops_suite);

MODULE_DESCRIPTION("KUnit tests for private memory nodes");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS("EXPORTED_FOR_KUNIT_TESTING");
