// SPDX-License-Identifier: GPL-2.0
/*
 * NP_OPS_LONGTERM_PIN: a FOLL_LONGTERM pin (io_uring fixed buffers, vfio,
 * RDMA) of a private node's folio holds it in place only if the node's
 * owner opted in. Without the flag, the pin moves the folio to DRAM first
 * if the owner opted into NP_OPS_MIGRATION (it hears of each move), and
 * is refused with EOPNOTSUPP otherwise, pinning and moving nothing.
 *
 * The pins are the tree's gup_test (CONFIG_GUP_TEST): PIN_LONGTERM_TEST_START
 * pins a range with pin_user_pages() (or pin_user_pages_fast(), the fast
 * variant) and holds it until PIN_LONGTERM_TEST_STOP. Each test runs the
 * same pin with the owner opted into nothing, into NP_OPS_MIGRATION, and
 * into NP_OPS_LONGTERM_PIN, in one test case: refused, moved, held.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../../../mm/gup_test.h"
#include "lib.h"

#define PNT_DEV		"/dev/private_node_test"
#define GUP_TEST_FILE	"/sys/kernel/debug/gup_test"

#define NR_PAGES	64

FIXTURE(pin) {
	struct pnt_config cfg;
	int nid;
	int fd;			/* the test driver */
	int gup;		/* gup_test */
	char *buf;
	size_t len;
	uint64_t pfns[NR_PAGES];
};

FIXTURE_VARIANT(pin) {
	unsigned int flags;	/* PIN_LONGTERM_TEST_FLAG_* */
};

FIXTURE_VARIANT_ADD(pin, slow) {
	.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE,
};

FIXTURE_VARIANT_ADD(pin, fast) {
	.flags = PIN_LONGTERM_TEST_FLAG_USE_WRITE |
		 PIN_LONGTERM_TEST_FLAG_USE_FAST,
};

FIXTURE_SETUP(pin)
{
	int ret;

	self->buf = MAP_FAILED;
	self->fd = -1;
	self->gup = -1;
	self->len = NR_PAGES * psize();
	if (!pnt_driver_loaded())
		SKIP(return, "private_node_test.ko is not loaded");
	ASSERT_EQ(0, pnt_config(&self->cfg));
	self->nid = self->cfg.private_nid;
	ret = pnt_private_with_ops(NP_OPS_LONGTERM_PIN);
	if (ret == -EOPNOTSUPP)
		SKIP(return, "the kernel has no NP_OPS_LONGTERM_PIN");
	ASSERT_EQ(0, ret);
	self->gup = open(GUP_TEST_FILE, O_RDWR);
	if (self->gup < 0)
		SKIP(return, "no %s: the kernel has no CONFIG_GUP_TEST",
		     GUP_TEST_FILE);
	self->fd = open(PNT_DEV, O_RDWR);
	ASSERT_LE(0, self->fd);
}

FIXTURE_TEARDOWN(pin)
{
	if (self->gup >= 0) {
		ioctl(self->gup, PIN_LONGTERM_TEST_STOP);
		close(self->gup);
	}
	if (self->buf != MAP_FAILED)
		munmap(self->buf, self->len);
	if (self->fd >= 0)
		close(self->fd);
	/* The other tests expect an owner that opted into nothing. */
	EXPECT_EQ(0, pnt_private_with_ops(0));
}

static char pattern(size_t i)
{
	return (char)(i * 11 + i / 4096 + 5);
}

static bool buf_intact(FIXTURE_DATA(pin) *self)
{
	size_t i;

	for (i = 0; i < self->len; i++)
		if (self->buf[i] != pattern(i))
			return false;
	return true;
}

static void buf_unmap(FIXTURE_DATA(pin) *self)
{
	munmap(self->buf, self->len);
	self->buf = MAP_FAILED;
}

/*
 * Bring the node up with @flags and put NR_PAGES on it: anonymous memory
 * moved there by the driver, or (@device) the driver's own mapping. Records
 * the pages' frames. 0 or -errno.
 */
static int buf_on_node(FIXTURE_DATA(pin) *self, unsigned long flags,
		       bool device)
{
	size_t i;
	long ret;

	ret = pnt_private_with_ops(flags);
	if (ret)
		return (int)ret;
	self->buf = mmap(NULL, self->len, PROT_READ | PROT_WRITE,
			 device ? MAP_SHARED : MAP_PRIVATE | MAP_ANONYMOUS,
			 device ? self->fd : -1, 0);
	if (self->buf == MAP_FAILED)
		return -errno;
	if (!device)
		madvise(self->buf, self->len, MADV_NOHUGEPAGE);
	for (i = 0; i < self->len; i++)
		self->buf[i] = pattern(i);
	if (!device) {
		ret = pnt_migrate(self->fd, self->buf, self->len, false);
		if (ret < 0)
			return (int)ret;
		if (ret != NR_PAGES)
			return -EAGAIN;
	}
	if (!pages_all_on(self->buf, self->len, self->nid))
		return -EXDEV;
	return pages_pfns(self->buf, NR_PAGES, self->pfns);
}

/* PIN_LONGTERM_TEST_START over the buffer: 0 or -errno. */
static int pin_buf(FIXTURE_DATA(pin) *self, unsigned int flags)
{
	struct pin_longterm_test args = {
		.addr = (uintptr_t)self->buf,
		.size = self->len,
		.flags = flags,
	};

	return ioctl(self->gup, PIN_LONGTERM_TEST_START, &args) ? -errno : 0;
}

static int unpin_buf(FIXTURE_DATA(pin) *self)
{
	return ioctl(self->gup, PIN_LONGTERM_TEST_STOP) ? -errno : 0;
}

/* FOLL_PIN pins held system-wide (pages), from /proc/vmstat. */
static long pins_held(void)
{
	vm_counters_fold();
	return proc_value("/proc/vmstat", "nr_foll_pin_acquired") -
	       proc_value("/proc/vmstat", "nr_foll_pin_released");
}

/* Pages of the buffer no longer in the frame they had. */
static long buf_moved(FIXTURE_DATA(pin) *self)
{
	uint64_t now[NR_PAGES];
	long moved = 0;
	int i;

	if (pages_pfns(self->buf, NR_PAGES, now))
		return -1;
	for (i = 0; i < NR_PAGES; i++)
		moved += now[i] != self->pfns[i];
	return moved;
}

/*
 * Anonymous memory on the private node. Neither flag: the pin fails with
 * EOPNOTSUPP and leaves no pin and every page where it was. MIGRATION:
 * the pin succeeds after moving every page to DRAM, through the owner's
 * folio_migrate, data intact. LONGTERM_PIN: the pin holds every page in
 * its frame on the node until it is dropped.
 */
TEST_F_TIMEOUT(pin, anon, 120)
{
	struct pnt_counters c;
	long held;

	/* Neither flag: refused. */
	ASSERT_EQ(0, buf_on_node(self, 0, false));
	held = pins_held();
	EXPECT_EQ(-EOPNOTSUPP, pin_buf(self, variant->flags));
	EXPECT_EQ(held, pins_held());
	EXPECT_EQ(0, buf_moved(self));
	EXPECT_TRUE(buf_intact(self));
	buf_unmap(self);

	/* MIGRATION: the pages move to DRAM, then are pinned. */
	ASSERT_EQ(0, buf_on_node(self, NP_OPS_MIGRATION, false));
	ASSERT_EQ(0, pnt_counters_reset());
	held = pins_held();
	EXPECT_EQ(0, pin_buf(self, variant->flags));
	EXPECT_EQ(held + NR_PAGES, pins_held());
	EXPECT_EQ(0, pages_on_node(self->buf, self->len, self->nid));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(NR_PAGES, c.migrate_out);
	EXPECT_EQ(0, c.migrate_bad);
	EXPECT_TRUE(buf_intact(self));
	EXPECT_EQ(0, unpin_buf(self));
	EXPECT_EQ(held, pins_held());
	buf_unmap(self);

	/* LONGTERM_PIN: pinned in place, and held. */
	ASSERT_EQ(0, buf_on_node(self, NP_OPS_LONGTERM_PIN, false));
	ASSERT_EQ(0, pnt_counters_reset());
	held = pins_held();
	EXPECT_EQ(0, pin_buf(self, variant->flags));
	EXPECT_EQ(held + NR_PAGES, pins_held());
	EXPECT_EQ(0, buf_moved(self));
	EXPECT_TRUE(pages_all_on(self->buf, self->len, self->nid));
	ASSERT_EQ(0, pnt_counters_read(&c));
	EXPECT_EQ(0, c.migrate_out);
	EXPECT_TRUE(buf_intact(self));
	EXPECT_EQ(0, unpin_buf(self));
	EXPECT_EQ(held, pins_held());
}

/*
 * The owner's own mapping (its pages are not on the LRU and cannot move).
 * Without LONGTERM_PIN the pin is refused, with MIGRATION too, rather than
 * retried for ever; with it, the pin holds the pages in place.
 */
TEST_F_TIMEOUT(pin, device_vma, 120)
{
	static const unsigned long refused[] = { 0, NP_OPS_MIGRATION };
	long held;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(refused); i++) {
		ASSERT_EQ(0, buf_on_node(self, refused[i], true));
		held = pins_held();
		EXPECT_EQ(-EOPNOTSUPP, pin_buf(self, variant->flags)) {
			TH_LOG("np_ops %#lx", refused[i]);
		}
		EXPECT_EQ(held, pins_held());
		EXPECT_EQ(0, buf_moved(self));
		EXPECT_TRUE(buf_intact(self));
		buf_unmap(self);
	}

	ASSERT_EQ(0, buf_on_node(self, NP_OPS_LONGTERM_PIN, true));
	held = pins_held();
	EXPECT_EQ(0, pin_buf(self, variant->flags));
	EXPECT_EQ(held + NR_PAGES, pins_held());
	EXPECT_EQ(0, buf_moved(self));
	EXPECT_TRUE(buf_intact(self));
	EXPECT_EQ(0, unpin_buf(self));
	EXPECT_EQ(held, pins_held());
}

TEST_HARNESS_MAIN
