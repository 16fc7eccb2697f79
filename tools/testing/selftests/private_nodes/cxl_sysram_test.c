// SPDX-License-Identifier: GPL-2.0
/*
 * CXL sysram regions: a RAM region whose memory the CXL core hot-plugs
 * itself, as an ordinary node or as a private node, on the node of the
 * CXL window. The region is made the way users make it, through raw
 * sysfs (so that no tool can hide a kernel bug) and with cxl-cli.
 *
 * Every case that checks that something does not happen on the private
 * node does the same thing on the same region plugged as an ordinary
 * node, where it must happen. Memory written on the CXL node is emulated
 * I/O under TCG (about 1.4 MiB/s): the cases put at most PROBE bytes
 * there.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cxl_region.h"
#include "lib.h"

#define NR_CYCLES	10
#define PROBE		(512 * KIB)
#define CXL_CLI		"cxl"

FIXTURE(sysram) {
	char region[CXL_NAME_LEN];
	long long size;
	long base_total;	/* /proc/meminfo MemTotal before, kB */
	int base_regions;
};

FIXTURE_SETUP(sysram)
{
	self->region[0] = '\0';
	if (access(CXL_DEVICES CXL_MEMDEV, F_OK))
		SKIP(return, "no CXL memory device " CXL_MEMDEV);
	self->size = cxl_ram_size();
	ASSERT_LT(0, self->size);
	self->base_total = proc_value("/proc/meminfo", "MemTotal");
	ASSERT_LT(0, self->base_total);
	self->base_regions = cxl_region_count();
	ASSERT_LE(0, self->base_regions);
}

FIXTURE_TEARDOWN(sysram)
{
	if (!self->region[0])
		return;
	cxl_sysram_set_state(self->region, "unplugged");
	if (cxl_region_destroy_sysfs(self->region))
		TH_LOG("could not destroy %s", self->region);
}

static bool state_is(const char *region, const char *want)
{
	char buf[32];

	return !cxl_sysram_state(region, buf, sizeof(buf)) && !strcmp(buf, want);
}

/*
 * PROBE bytes of anonymous memory bound to @nid, filled with a pattern:
 * the mapping, or MAP_FAILED with errno set (EINVAL from mbind() for a
 * node that takes no memory policy).
 */
static char *probe_bound(int nid)
{
	unsigned long mask = 1UL << nid;
	char *p;
	int err;

	p = mmap(NULL, PROBE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return p;
	if (mbind(p, PROBE, MPOL_BIND, &mask, MASK_MAXNODE, 0)) {
		err = errno;
		munmap(p, PROBE);
		errno = err;
		return MAP_FAILED;
	}
	for (size_t i = 0; i < PROBE; i++)
		p[i] = (char)(i * 7 + 1);
	return p;
}

static long probe_corrupt(const char *p)
{
	long bad = 0;

	for (size_t i = 0; i < PROBE; i++)
		bad += p[i] != (char)(i * 7 + 1);
	return bad;
}

/* The node of a plugged region holds all of it and nothing more. */
static void check_plugged(struct __test_metadata *_metadata,
			  FIXTURE_DATA(sysram) *self, int nid, bool private)
{
	long kb = self->size / KIB;

	EXPECT_EQ(!private, nodelist_has("has_memory", nid));
	EXPECT_EQ(private, nodelist_has("has_private_memory", nid));
	EXPECT_EQ(kb, node_meminfo_kb(nid, "MemTotal"));
	/* A private node's memory is not the system's. */
	EXPECT_EQ(self->base_total + (private ? 0 : kb),
		  proc_value("/proc/meminfo", "MemTotal"));
}

static void check_unplugged(struct __test_metadata *_metadata,
			    FIXTURE_DATA(sysram) *self, int nid)
{
	EXPECT_EQ(0, nodelist_has("has_memory", nid));
	EXPECT_EQ(0, nodelist_has("has_private_memory", nid));
	EXPECT_EQ(self->base_total, proc_value("/proc/meminfo", "MemTotal"));
}

/*
 * One cycle on a bound sysram region: plugged as ordinary memory (as the
 * lab's kernel configures it), where a bound probe lands and survives the
 * unplug; then as a private node, where the same mbind() is refused.
 */
static void plug_cycle(struct __test_metadata *_metadata,
		       FIXTURE_DATA(sysram) *self, int cycle)
{
	int nid = cxl_sysram_node(self->region);
	char *p;

	ASSERT_LE(0, nid);
	ASSERT_TRUE(state_is(self->region, "online_movable"));
	check_plugged(_metadata, self, nid, false);
	if (cycle == 0)
		TH_LOG("%s: node %d, memory tier %d", self->region, nid,
		       memtier_of_node(nid));
	EXPECT_LE(0, memtier_of_node(nid));

	/* Control: the ordinary node takes bound memory... */
	p = probe_bound(nid);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_TRUE(pages_all_on(p, PROBE, nid));
	/* ...and unplugging migrates it away intact. */
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	EXPECT_TRUE(state_is(self->region, "unplugged"));
	EXPECT_EQ(0, pages_on_node(p, PROBE, nid));
	EXPECT_EQ(0, probe_corrupt(p));
	munmap(p, PROBE);
	check_unplugged(_metadata, self, nid);

	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "private"));
	EXPECT_TRUE(state_is(self->region, "private"));
	check_plugged(_metadata, self, nid, true);
	/* No service opted in: no memory policy may name the node. */
	p = probe_bound(nid);
	EXPECT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
	if (p != MAP_FAILED)
		munmap(p, PROBE);
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	check_unplugged(_metadata, self, nid);
}

/* Create, plug both ways, destroy, NR_CYCLES times, through sysfs. */
TEST_F_TIMEOUT(sysram, sysfs_cycles, 600)
{
	int i;

	for (i = 0; i < NR_CYCLES; i++) {
		ASSERT_EQ(0, cxl_region_create_sysfs(self->region,
						     sizeof(self->region),
						     self->size, "sysram",
						     true));
		plug_cycle(_metadata, self, i);
		ASSERT_EQ(0, cxl_region_destroy_sysfs(self->region));
		self->region[0] = '\0';
		ASSERT_EQ(self->base_regions, cxl_region_count());
	}
	EXPECT_EQ(self->base_total, proc_value("/proc/meminfo", "MemTotal"));
}

/* Run cxl-cli; its output goes to @out. 0 if it exited 0. */
static int cxl_cli(struct __test_metadata *_metadata, char *out, size_t len,
		   char *const argv[])
{
	int status = run_capture(argv, out, len);

	TH_LOG("%s %s %s: %d\n%s", argv[0], argv[1], argv[2] ? argv[2] : "",
	       status, out);
	return status;
}

/* The "region":"regionN" of cxl create-region's JSON. */
static int json_region(const char *out, char *name, size_t len)
{
	const char *s = strstr(out, "\"region\":");

	if (!s)
		return -ENOENT;
	s += strlen("\"region\":");
	s += strspn(s, " \"");
	snprintf(name, len, "%.*s", (int)strcspn(s, "\""), s);
	return strncmp(name, "region", 6) ? -ENOENT : 0;
}

/*
 * What a user types: cxl create-region makes a dax region, disable-region,
 * ram_type, enable-region turn it into a sysram region, cxl list shows
 * it, and cxl destroy-region unplugs the memory and tears it all down.
 */
TEST_F_TIMEOUT(sysram, cxl_cli_cycles, 600)
{
	char out[4096];
	int i, nid;

	if (access("/usr/bin/" CXL_CLI, X_OK))
		SKIP(return, "no cxl-cli (ndctl) in this system");
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, cxl_cli(_metadata, out, sizeof(out),
				     (char *[]){ CXL_CLI, "create-region", "-t",
						 "ram", "-d", CXL_ROOT_DECODER,
						 "-m", CXL_MEMDEV, NULL }));
		ASSERT_EQ(0, json_region(out, self->region,
					 sizeof(self->region)));
		EXPECT_EQ(0, cxl_region_attr(self->region, "ram_type", out,
					     sizeof(out)));
		EXPECT_STREQ("dax", out);
		ASSERT_EQ(0, cxl_cli(_metadata, out, sizeof(out),
				     (char *[]){ CXL_CLI, "disable-region",
						 self->region, NULL }));
		ASSERT_EQ(0, cxl_region_attr_write(self->region, "ram_type",
						   "sysram"));
		ASSERT_EQ(0, cxl_cli(_metadata, out, sizeof(out),
				     (char *[]){ CXL_CLI, "enable-region",
						 self->region, NULL }));
		nid = cxl_sysram_node(self->region);
		ASSERT_LE(0, nid);
		EXPECT_TRUE(state_is(self->region, "online_movable"));
		check_plugged(_metadata, self, nid, false);
		ASSERT_EQ(0, cxl_cli(_metadata, out, sizeof(out),
				     (char *[]){ CXL_CLI, "list", "-R", "-r",
						 self->region, NULL }));
		EXPECT_NE(NULL, strstr(out, self->region));

		/* Destroyed from either state: ordinary, then private. */
		if (i == 1) {
			ASSERT_EQ(0, cxl_sysram_set_state(self->region,
							  "unplugged"));
			ASSERT_EQ(0, cxl_sysram_set_state(self->region,
							  "private"));
			check_plugged(_metadata, self, nid, true);
		}
		ASSERT_EQ(0, cxl_cli(_metadata, out, sizeof(out),
				     (char *[]){ CXL_CLI, "destroy-region", "-f",
						 self->region, NULL }));
		self->region[0] = '\0';
		EXPECT_EQ(self->base_regions, cxl_region_count());
		check_unplugged(_metadata, self, nid);
	}
}

/*
 * Without ram_type, a RAM region is a dax region as before: a
 * dax_regionN, no sysram_regionN, no memory plugged by the CXL core.
 */
TEST_F(sysram, dax_by_default)
{
	char buf[32], path[128];
	int id;

	ASSERT_EQ(0, cxl_region_create_sysfs(self->region, sizeof(self->region),
					     self->size, NULL, true));
	ASSERT_EQ(0, cxl_region_attr(self->region, "ram_type", buf,
				     sizeof(buf)));
	EXPECT_STREQ("dax", buf);
	ASSERT_EQ(1, sscanf(self->region, "region%d", &id));
	snprintf(path, sizeof(path), CXL_DEVICES "dax_region%d", id);
	EXPECT_EQ(0, access(path, F_OK));
	snprintf(path, sizeof(path), CXL_DEVICES "sysram_region%d", id);
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(self->base_total, proc_value("/proc/meminfo", "MemTotal"));
}

/* Wrong values, and changes the state of the region does not allow. */
TEST_F_TIMEOUT(sysram, errors, 300)
{
	char buf[32];

	/* Region sizes come in 256 MiB steps (the window's granularity). */
	ASSERT_EQ(0, cxl_region_create_sysfs(self->region, sizeof(self->region),
					     self->size, "dax", false));
	EXPECT_EQ(-EINVAL, cxl_region_attr_write(self->region, "ram_type",
						 "kmem"));
	ASSERT_EQ(0, cxl_region_attr_write(self->region, "ram_type", "sysram"));
	ASSERT_EQ(0, cxl_region_bind(self->region, true));
	ASSERT_TRUE(state_is(self->region, "online_movable"));

	/* Decided at bind time: not while bound. */
	EXPECT_EQ(-EBUSY, cxl_region_attr_write(self->region, "ram_type",
						"dax"));
	EXPECT_EQ(-EINVAL, cxl_sysram_set_state(self->region, "offline"));
	EXPECT_EQ(-EINVAL, cxl_sysram_set_state(self->region, "bogus"));
	/* One state at a time: unplug first. */
	EXPECT_EQ(-EBUSY, cxl_sysram_set_state(self->region, "online_kernel"));
	EXPECT_EQ(-EBUSY, cxl_sysram_set_state(self->region, "private"));
	EXPECT_EQ(0, cxl_sysram_set_state(self->region, "online_movable"));
	/* The decoders stay while the memory is plugged. */
	EXPECT_EQ(-EBUSY, cxl_region_attr_write(self->region, "commit", "0"));
	EXPECT_EQ(-EBUSY, write_text(CXL_DEVICES CXL_ROOT_DECODER
				     "/delete_region", self->region));
	EXPECT_TRUE(state_is(self->region, "online_movable"));
	ASSERT_EQ(0, cxl_region_attr(self->region, "commit", buf, sizeof(buf)));
	EXPECT_STREQ("1", buf);

	/*
	 * Control: unplugged, a new state goes through. (Not online_kernel:
	 * the node's own slab structures land in its first kernel-zone
	 * memory, which then cannot be offlined.)
	 */
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	EXPECT_EQ(0, cxl_sysram_set_state(self->region, "private"));
	EXPECT_TRUE(state_is(self->region, "private"));
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	ASSERT_EQ(0, cxl_region_bind(self->region, false));
	EXPECT_EQ(0, cxl_region_attr_write(self->region, "ram_type", "dax"));
	ASSERT_EQ(0, cxl_region_destroy_sysfs(self->region));
	self->region[0] = '\0';

	/* A size that is not a multiple of 256 MiB. */
	ASSERT_EQ(0, cxl_region_attr(CXL_ROOT_DECODER, "create_ram_region",
				     self->region, sizeof(self->region)));
	ASSERT_EQ(0, cxl_region_attr_write(CXL_ROOT_DECODER,
					   "create_ram_region", self->region));
	ASSERT_EQ(0, cxl_region_attr(CXL_ROOT_DECODER, "interleave_granularity",
				     buf, sizeof(buf)));
	ASSERT_EQ(0, cxl_region_attr_write(self->region,
					   "interleave_granularity", buf));
	ASSERT_EQ(0, cxl_region_attr_write(self->region, "interleave_ways",
					   "1"));
	EXPECT_EQ(-EINVAL, cxl_region_attr_write(self->region, "size",
						 "134217728"));
	ASSERT_EQ(0, cxl_region_attr_write(CXL_ROOT_DECODER, "delete_region",
					   self->region));
	self->region[0] = '\0';
}

TEST_HARNESS_MAIN
