// SPDX-License-Identifier: GPL-2.0
/*
 * The cxl_mempolicy sample driver: bound to the lab's CXL type-3 device
 * instead of cxl_pci, it makes a RAM region of the device a private node
 * opted into migration and memory policies. Programs reach it with
 * mbind(), numactl --membind and move_pages(); malloc() never does.
 *
 * The control of each case is the same region under cxl_pci, plugged as
 * a private node with no service ("private"): there the same calls fail.
 * Data on the CXL node is emulated I/O under TCG (about 1.4 MiB/s
 * written): each case puts well under 1 MiB there.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <numaif.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cxl_region.h"
#include "lib.h"

#define DRIVER		"cxl_mempolicy"
#define PCI_DRIVER	"cxl_pci"
#define NR_PAGES	64

FIXTURE(owned) {
	char bdf[32];
	char region[CXL_NAME_LEN];
	long long size;
	int nid;
};

FIXTURE_SETUP(owned)
{
	char drv[64];

	self->region[0] = '\0';
	if (access(CXL_DEVICES CXL_MEMDEV, F_OK))
		SKIP(return, "no CXL memory device " CXL_MEMDEV);
	ASSERT_EQ(0, cxl_memdev_bdf(self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, cxl_pci_driver(self->bdf, drv, sizeof(drv)));
	ASSERT_STREQ(PCI_DRIVER, drv);
	self->size = cxl_ram_size();
	ASSERT_LT(0, self->size);
}

FIXTURE_TEARDOWN(owned)
{
	char drv[64] = "";

	if (self->region[0]) {
		cxl_sysram_set_state(self->region, "unplugged");
		cxl_region_destroy_sysfs(self->region);
	}
	cxl_pci_driver(self->bdf, drv, sizeof(drv));
	if (strcmp(drv, PCI_DRIVER) && cxl_pci_rebind(self->bdf, PCI_DRIVER))
		TH_LOG("could not give %s back to " PCI_DRIVER, self->bdf);
}

/*
 * A region of the whole device: under cxl_pci a sysram region plugged
 * "private" (no service), under the sample driver whatever it comes up
 * as. Its node goes to self->nid.
 */
static int region_up(FIXTURE_DATA(owned) *self, bool owned)
{
	char state[32];
	int ret;

	ret = cxl_region_create_sysfs(self->region, sizeof(self->region),
				      self->size, owned ? NULL : "sysram",
				      true);
	if (!ret && !owned)
		ret = cxl_sysram_set_state(self->region, "unplugged");
	if (!ret && !owned)
		ret = cxl_sysram_set_state(self->region, "private");
	if (!ret)
		ret = cxl_sysram_state(self->region, state, sizeof(state));
	if (!ret && strcmp(state, "private"))
		ret = -EPROTO;
	if (!ret)
		self->nid = cxl_sysram_node(self->region);
	return ret ? ret : (self->nid < 0 ? self->nid : 0);
}

static int region_down(FIXTURE_DATA(owned) *self)
{
	int ret = cxl_region_destroy_sysfs(self->region);

	if (!ret)
		self->region[0] = '\0';
	return ret;
}

/* Run a helper mode of this binary (lib.h), possibly under numactl. */
static int run_self(struct __test_metadata *_metadata, const char *numactl,
		    const char *mode, const char *arg1, const char *arg2,
		    char *out, size_t len)
{
	char exe[4096];
	char *argv[8];
	int n = 0, status;

	if (self_exe(exe, sizeof(exe)))
		return -ENOENT;
	if (numactl) {
		argv[n++] = "numactl";
		argv[n++] = (char *)numactl;
	}
	argv[n++] = exe;
	argv[n++] = (char *)mode;
	argv[n++] = (char *)arg1;
	if (arg2)
		argv[n++] = (char *)arg2;
	argv[n] = NULL;
	status = run_capture(argv, out, len);
	TH_LOG("%s%s %s %s: status 0x%x\n%s", numactl ? "numactl " : "",
	       numactl ? numactl : "", mode, arg1, status, out);
	return status;
}

/*
 * The cover letter's TL;DR on the CXL node (--pnt-tldr, lib.h): mbind()
 * and fault onto it, malloc() never lands there, move_pages() onto it.
 * Control: under cxl_pci the first and last fail, malloc() the same.
 */
TEST_F_TIMEOUT(owned, tldr, 600)
{
	char nid[16], out[2048];
	int status;

	ASSERT_EQ(0, region_up(self, false));
	snprintf(nid, sizeof(nid), "%d", self->nid);
	status = run_self(_metadata, NULL, "--pnt-tldr", nid, NULL, out,
			  sizeof(out));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(1, WEXITSTATUS(status));
	EXPECT_NE(NULL, strstr(out, "malloc(256 MiB), written: 0 of"));
	ASSERT_EQ(0, region_down(self));

	ASSERT_EQ(0, cxl_pci_rebind(self->bdf, DRIVER));
	ASSERT_EQ(0, region_up(self, true));
	/* The region came up private by itself, and mbind() may name it. */
	EXPECT_EQ(1, nodelist_has("has_private_memory", self->nid));
	EXPECT_EQ(1, nodelist_has("has_memory", self->nid));
	status = run_self(_metadata, NULL, "--pnt-tldr", nid, NULL, out,
			  sizeof(out));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/* numactl --membind=<CXL node> runs a program with its memory there. */
TEST_F_TIMEOUT(owned, numactl_membind, 600)
{
	char arg[32], nid[16], bytes[32], out[512];
	long on = -1, pages = -1;
	int status;

	snprintf(bytes, sizeof(bytes), "%zu", (size_t)NR_PAGES * psize());
	ASSERT_EQ(0, region_up(self, false));
	snprintf(arg, sizeof(arg), "--membind=%d", self->nid);
	snprintf(nid, sizeof(nid), "%d", self->nid);
	status = run_self(_metadata, arg, "--pnt-hog", bytes, nid, out,
			  sizeof(out));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_NE(127, WEXITSTATUS(status)) TH_LOG("numactl not found");
	EXPECT_NE(0, WEXITSTATUS(status));
	ASSERT_EQ(0, region_down(self));

	ASSERT_EQ(0, cxl_pci_rebind(self->bdf, DRIVER));
	ASSERT_EQ(0, region_up(self, true));
	status = run_self(_metadata, arg, "--pnt-hog", bytes, nid, out,
			  sizeof(out));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	ASSERT_EQ(2, sscanf(out, "%ld %ld", &on, &pages));
	EXPECT_EQ(NR_PAGES, pages);
	EXPECT_EQ(NR_PAGES, on);
}

/*
 * The driver's memory is never general-purpose RAM: its region can only
 * be private or unplugged. Control: under cxl_pci the same region may be
 * plugged as ordinary memory.
 */
TEST_F_TIMEOUT(owned, only_private, 600)
{
	ASSERT_EQ(0, region_up(self, false));
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	EXPECT_EQ(0, cxl_sysram_set_state(self->region, "online_movable"));
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	ASSERT_EQ(0, region_down(self));

	ASSERT_EQ(0, cxl_pci_rebind(self->bdf, DRIVER));
	ASSERT_EQ(0, region_up(self, true));
	ASSERT_EQ(0, cxl_sysram_set_state(self->region, "unplugged"));
	EXPECT_EQ(-EPERM, cxl_sysram_set_state(self->region, "online_movable"));
	EXPECT_EQ(-EPERM, cxl_sysram_set_state(self->region, "online"));
	EXPECT_EQ(0, cxl_sysram_set_state(self->region, "private"));
}

/*
 * Unbinding the driver with user pages on its node migrates them to
 * ordinary memory first (documented in the driver): the data stays, the
 * node and its region go.
 */
TEST_F_TIMEOUT(owned, unbind_migrates_pages_away, 600)
{
	size_t len = NR_PAGES * psize(), i;
	long bad = 0;
	unsigned long mask;
	char path[128];
	char *p;

	ASSERT_EQ(0, cxl_pci_rebind(self->bdf, DRIVER));
	ASSERT_EQ(0, region_up(self, true));
	mask = 1UL << self->nid;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	ASSERT_EQ(0, mbind(p, len, MPOL_BIND, &mask, MASK_MAXNODE, 0));
	for (i = 0; i < len; i++)
		p[i] = (char)(i * 13 + 5);
	ASSERT_EQ(NR_PAGES, pages_on_node(p, len, self->nid));

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/" DRIVER "/unbind");
	ASSERT_EQ(0, write_text(path, self->bdf));
	EXPECT_EQ(0, pages_on_node(p, len, self->nid));
	for (i = 0; i < len; i++)
		bad += p[i] != (char)(i * 13 + 5);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(0, nodelist_has("has_private_memory", self->nid));
	EXPECT_EQ(0, nodelist_has("has_memory", self->nid));
	munmap(p, len);
}

PNT_HARNESS_MAIN
