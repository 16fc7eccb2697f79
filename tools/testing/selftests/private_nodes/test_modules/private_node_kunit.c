// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for private memory nodes: owner registration, hotplug error
 * paths, zonelist construction, allocation isolation and the
 * numa_zone_allowed() placement test.
 *
 * Needs a physical range nothing onlined (the lab's private-node DIMM):
 *   insmod private_node_kunit.ko private_nid=N private_base=B private_size=S \
 *          cpusets=0|1
 * cpusets=1 tells the tests that a child cpuset exists, i.e. that
 * cpusets_enabled() is true, so cpuset placement applies.
 */
#include <kunit/test.h>
#include <linux/cpuset.h>
#include <linux/gfp.h>
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

#define PNK_RESOURCE "System RAM (private_node_kunit)"

static struct node_private owner_a, owner_b;

static void require_range(struct kunit *test)
{
	if (private_nid == NUMA_NO_NODE || !private_size)
		kunit_skip(test, "no private range given (private_nid=, private_size=)");
}

/* The first ordinary node: a node that holds memory and is no one's. */
static int dram_nid(void)
{
	return first_node(node_states[N_MEMORY]);
}

static int add_private(struct node_private *np, int nid, enum mmop type)
{
	return add_private_memory_driver_managed(nid, private_base,
						 private_size, PNK_RESOURCE,
						 MHP_NONE, type, np);
}

static int remove_private(int nid)
{
	return offline_and_remove_private_memory(nid, private_base,
						 private_size);
}

/* --- owner registration --------------------------------------------- */

static void register_rejects_bad_arguments(struct kunit *test)
{
	require_range(test);
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, NULL), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_register(-1, &owner_a), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_register(MAX_NUMNODES, &owner_a),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(-1), -EINVAL);
	KUNIT_EXPECT_EQ(test, node_private_unregister(MAX_NUMNODES), -EINVAL);
}

static void register_rejects_ordinary_node(struct kunit *test)
{
	int nid = dram_nid();

	KUNIT_EXPECT_EQ(test, node_private_register(nid, &owner_a), -EBUSY);
	KUNIT_EXPECT_TRUE(test, node_state(nid, N_MEMORY));
	KUNIT_EXPECT_FALSE(test, node_state(nid, N_MEMORY_PRIVATE));
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
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), -ENOENT);
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
	KUNIT_EXPECT_EQ(test, add_private(&owner_a, dram_nid(),
					  MMOP_ONLINE_KERNEL), -EBUSY);
	KUNIT_EXPECT_EQ(test, remove_private(private_nid), -EINVAL);
	/* A failed add leaves no owner behind. */
	KUNIT_EXPECT_EQ(test, node_private_register(private_nid, &owner_b), 0);
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), 0);
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

	/* Unregister while memory is online, or a second owner: refused. */
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), -EBUSY);
	KUNIT_EXPECT_EQ(test, add_private(&owner_b, private_nid,
					  MMOP_ONLINE_KERNEL), -EBUSY);
	/* The range is not on another node. */
	KUNIT_EXPECT_EQ(test, offline_and_remove_private_memory(dram_nid(),
								private_base,
								private_size),
			-EINVAL);

	KUNIT_ASSERT_EQ(test, remove_private(private_nid), 0);
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY_PRIVATE));
	KUNIT_EXPECT_FALSE(test, node_state(private_nid, N_MEMORY));
	/* The last range took the owner with it. */
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), -ENOENT);
}

static struct kunit_case registration_cases[] = {
	KUNIT_CASE(register_rejects_bad_arguments),
	KUNIT_CASE(register_rejects_ordinary_node),
	KUNIT_CASE(register_once_per_node),
	KUNIT_CASE(hotplug_rejects_bad_arguments),
	KUNIT_CASE(hotplug_lifecycle),
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
	if (node_state(private_nid, N_MEMORY_PRIVATE))
		WARN_ON(remove_private(private_nid));
}

static void require_private_online(struct kunit *test)
{
	require_range(test);
	KUNIT_ASSERT_TRUE(test, node_state(private_nid, N_MEMORY_PRIVATE));
}

static struct zonelist *zonelist_of(int nid, int which)
{
	return &NODE_DATA(nid)->node_zonelists[which];
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

static void dram_zonelists_exclude_private(struct kunit *test)
{
	int order[MAX_NUMNODES], nr, nid;
	nodemask_t seen;

	require_private_online(test);
	for_each_node_state(nid, N_MEMORY) {
		zonelist_nodes(zonelist_of(nid, ZONELIST_FALLBACK), &seen,
			       order, &nr);
		/* The control: every ordinary node is there... */
		KUNIT_EXPECT_TRUE(test, nodes_equal(seen, node_states[N_MEMORY]));
		/* ...and the private node is not. */
		KUNIT_EXPECT_FALSE(test, node_isset(private_nid, seen));
		KUNIT_EXPECT_EQ(test, order[0], nid);

		zonelist_nodes(zonelist_of(nid, ZONELIST_NOFALLBACK), &seen,
			       order, &nr);
		KUNIT_EXPECT_EQ(test, nr, 1);
		KUNIT_EXPECT_EQ(test, order[0], nid);
	}
}

static void private_nofallback_is_itself(struct kunit *test)
{
	int order[MAX_NUMNODES], nr;
	nodemask_t seen;

	require_private_online(test);
	zonelist_nodes(zonelist_of(private_nid, ZONELIST_NOFALLBACK), &seen,
		       order, &nr);
	KUNIT_EXPECT_EQ(test, nr, 1);
	KUNIT_EXPECT_EQ(test, order[0], private_nid);
}

static void private_fallback_is_itself_then_dram(struct kunit *test)
{
	int order[MAX_NUMNODES], nr, i;
	nodemask_t seen, dram;

	require_private_online(test);
	zonelist_nodes(zonelist_of(private_nid, ZONELIST_FALLBACK), &seen,
		       order, &nr);
	KUNIT_ASSERT_GT(test, nr, 1);
	KUNIT_EXPECT_EQ(test, order[0], private_nid);
	nodes_clear(dram);
	for (i = 1; i < nr; i++) {
		KUNIT_EXPECT_TRUE(test, node_state(order[i], N_MEMORY));
		node_set(order[i], dram);
	}
	KUNIT_EXPECT_TRUE(test, nodes_equal(dram, node_states[N_MEMORY]));
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

static void numa_zone_allowed_matrix(struct kunit *test)
{
	unsigned long i = *(const unsigned long *)test->param_value;
	gfp_t gfp = zone_gfps[i % ARRAY_SIZE(zone_gfps)].gfp;
	enum zone_kind kind = (i / ARRAY_SIZE(zone_gfps)) % NR_KINDS;
	bool check_cpuset = i / (ARRAY_SIZE(zone_gfps) * NR_KINDS);
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
		/* Only the explicit request; cpusets never apply. */
		want = gfp & __GFP_PRIVATE;
		break;
	case ZONE_IN_CPUSET:
		zone = first_populated_zone(in_nid);
		want = true;
		break;
	default:
		zone = first_populated_zone(out_nid);
		/* cgroup v2: only hardwall requests are confined. */
		want = !(check_cpuset && cpusets && (gfp & __GFP_HARDWALL));
		break;
	}
	KUNIT_ASSERT_NOT_NULL(test, zone);

	set_mems_allowed(nodemask_of_node(in_nid));
	got = kunit_numa_zone_allowed(zone, gfp, check_cpuset);
	set_mems_allowed(saved);
	KUNIT_EXPECT_EQ(test, got, want);
}

static struct kunit_case online_cases[] = {
	KUNIT_CASE(dram_zonelists_exclude_private),
	KUNIT_CASE(private_nofallback_is_itself),
	KUNIT_CASE(private_fallback_is_itself_then_dram),
	KUNIT_CASE(ordinary_requests_never_get_private_pages),
	KUNIT_CASE(private_requests_get_private_pages),
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
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), 0);
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
	KUNIT_EXPECT_EQ(test, node_private_unregister(private_nid), 0);
	KUNIT_EXPECT_NULL(test, rcu_access_pointer(owner_a.ops));
}

static void predicate_on_private_and_ordinary_folios(struct kunit *test)
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
		KUNIT_EXPECT_FALSE(test, folio_is_zone_device(page_folio(priv)));
		/* The control: an ordinary folio is neither. */
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
	KUNIT_EXPECT_EQ(test, remove_private(private_nid), 0);
}

#ifdef CONFIG_ZONE_DEVICE
static void predicate_on_zone_device_folio(struct kunit *test)
{
	struct page *page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, page);
	/* A struct page as memremap_pages() would set it up: zone and node. */
	set_page_links(page, ZONE_DEVICE, dram_nid(), 0);
	KUNIT_EXPECT_TRUE(test, folio_is_zone_device(page_folio(page)));
	KUNIT_EXPECT_FALSE(test, folio_is_private_node(page_folio(page)));
	KUNIT_EXPECT_TRUE(test, folio_is_private_managed(page_folio(page)));
}
#else
static void predicate_on_zone_device_folio(struct kunit *test)
{
	kunit_skip(test, "CONFIG_ZONE_DEVICE is off");
}
#endif

static struct kunit_case ops_cases[] = {
	KUNIT_CASE(ops_need_an_owner),
	KUNIT_CASE(ops_rejects_bad_arguments),
	KUNIT_CASE(ops_set_and_clear_once),
	KUNIT_CASE(predicate_on_private_and_ordinary_folios),
	KUNIT_CASE(predicate_on_zone_device_folio),
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
