// SPDX-License-Identifier: GPL-2.0
/*
 * The cxl_compression driver, end to end, on the lab's compressed CXL
 * device: the driver binds to the type-3 device instead of cxl_pci, a RAM
 * region of it comes up as a private node that CRAM manages, and the
 * device model on the host (qemu/cxl-compress-model) measures what the
 * guest really stored there, against a physical capacity smaller than
 * the advertised one, and reports its fill to the driver as CXL event
 * records.
 *
 * The tests ask the model for its figures on a serial line (MODEL_TTY,
 * /dev/ttyS3 in the lab): "status" answers with one line of key=value.
 * Each case first has the model clear the device's media ("zero", before
 * any region exists, as a sanitize at provisioning would), so that the
 * fill starts at zero whatever earlier tests left there. The in-band
 * Sanitize command is no way to do it: while it runs the mailbox is busy,
 * and the event interrupt thread retries Get Event Records without end
 * once the device has logged a record (seen in 7.3: the guest stalls).
 *
 * Data reaches the CXL node by demotion (proactive reclaim of a DRAM node,
 * no swap): CXL memory is emulated I/O under TCG, about 1.4 MiB/s
 * written and 18 MiB/s read, so the cases move a few MiB, and the flood
 * the capacity needs (about 24 MiB) takes some 20 s each way.
 *
 * The last case kills the model: this program runs last in the lab, and
 * that case is its last.
 */
#include "../kselftest_harness.h"

#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cxl_region.h"
#include "lib.h"

#define DRIVER		"cxl_compression"
#define PCI_DRIVER	"cxl_pci"
#define DEMOTION_ENABLED "/sys/kernel/mm/numa/demotion_enabled"
/*
 * nodeN/reclaim shrinks a node only while its reclaimable slab is above
 * min_slab_ratio (or its page cache above min_unmapped_ratio): 0 lets it
 * reclaim (and demote) the anonymous workload whatever else is there.
 */
#define MIN_SLAB	"/proc/sys/vm/min_slab_ratio"
/* The driver takes a silent device as full after this (module parameter). */
#define REPORT_TIMEOUT_MS 3000
#define WAIT_MS		60000
#define RECLAIM_ROUNDS	8

/* The model's answer to "status". */
struct model {
	long long logical, physical, used_pages, capacity, high, low;
	long long max_physical, overflows, events, heartbeats;
	int above;
};

FIXTURE(compressed) {
	char bdf[32];
	char region[CXL_NAME_LEN];
	char stats[128];	/* CRAM's debugfs stats of the node */
	int nid, dram;
	struct tunable demotion, min_slab;
	struct model base;	/* the model's figures once set up */
	char *map[2];
	size_t len[2];
};

static const char *model_tty(void)
{
	const char *tty = getenv("MODEL_TTY");

	return tty ? tty : "/dev/ttyS3";
}

/*
 * Send @req to the model; with @reply, wait for its one-line answer
 * (newline dropped).
 */
static int model_ask(const char *req, char *reply, size_t len)
{
	struct termios t;
	struct pollfd p;
	size_t n = 0;
	int fd, ret = 0;

	fd = open(model_tty(), O_RDWR | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(fd, TCSANOW, &t);
	}
	tcflush(fd, TCIFLUSH);
	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req) ||
	    write(fd, "\n", 1) != 1) {
		close(fd);
		return -EIO;
	}
	if (!reply) {
		close(fd);
		return 0;
	}
	p.fd = fd;
	p.events = POLLIN;
	while (n + 1 < len) {
		if (poll(&p, 1, 10000) != 1 || read(fd, reply + n, 1) != 1) {
			ret = -ETIMEDOUT;
			break;
		}
		if (reply[n] == '\n')
			break;
		n++;
	}
	close(fd);
	reply[n] = '\0';
	return ret;
}

/* The model's figures now. */
static int model_status(struct model *st)
{
	char line[1024], *v;
	int ret = model_ask("status", line, sizeof(line));

	if (ret)
		return ret;
	if (strncmp(line, "status ", 7))
		return -EPROTO;
#define FIELD(name)							\
	do {								\
		v = strstr(line, " " #name "=");			\
		if (!v)							\
			return -EPROTO;					\
		st->name = atoll(v + strlen(#name) + 2);		\
	} while (0)
	FIELD(logical);
	FIELD(physical);
	FIELD(used_pages);
	FIELD(capacity);
	FIELD(high);
	FIELD(low);
	FIELD(above);
	FIELD(max_physical);
	FIELD(overflows);
	FIELD(events);
	FIELD(heartbeats);
#undef FIELD
	return 0;
}

static long cram_stat(FIXTURE_DATA(compressed) *self, const char *name)
{
	return proc_value(self->stats, name);
}

/* Clear the device's media (no region may exist): the fill is then 0. */
static int clear_media(struct model *st)
{
	char reply[64];
	int ret = model_ask("zero", reply, sizeof(reply));

	if (!ret && strcmp(reply, "zeroed"))
		ret = -EPROTO;
	if (!ret)
		ret = model_status(st);
	return ret ? ret : (st->physical ? -EIO : 0);
}

static int load_driver(void)
{
	const char *ko = getenv("CXL_COMPRESSION_KO");
	char arg[64];
	char *argv[] = { "insmod", (char *)ko, arg, NULL };
	char *modprobe[] = { "modprobe", DRIVER, arg, NULL };
	char out[512];

	if (!access("/sys/module/" DRIVER, F_OK))
		return 0;
	snprintf(arg, sizeof(arg), "report_timeout_ms=%d", REPORT_TIMEOUT_MS);
	return run_capture(ko ? argv : modprobe, out, sizeof(out)) ? -EIO : 0;
}

static int unload_driver(void)
{
	char *argv[] = { "rmmod", DRIVER, NULL };
	char out[512];

	if (access("/sys/module/" DRIVER, F_OK))
		return 0;
	return run_capture(argv, out, sizeof(out)) ? -EBUSY : 0;
}

FIXTURE_SETUP(compressed)
{
	unsigned long mem, cpus;
	char drv[64], state[32];
	long deadline;

	self->region[0] = '\0';
	self->map[0] = self->map[1] = MAP_FAILED;
	memset(&self->demotion, 0, sizeof(self->demotion));
	memset(&self->min_slab, 0, sizeof(self->min_slab));
	if (access(CXL_DEVICES CXL_MEMDEV, F_OK))
		SKIP(return, "no CXL memory device " CXL_MEMDEV);
	if (access(model_tty(), F_OK) || model_status(&self->base))
		SKIP(return, "no compressed-device model on %s", model_tty());
	ASSERT_EQ(0, cxl_memdev_bdf(self->bdf, sizeof(self->bdf)));
	ASSERT_EQ(0, cxl_pci_driver(self->bdf, drv, sizeof(drv)));
	ASSERT_STREQ(PCI_DRIVER, drv);
	ASSERT_EQ(0, clear_media(&self->base));

	ASSERT_EQ(0, load_driver());
	ASSERT_EQ(0, cxl_pci_rebind(self->bdf, DRIVER));
	ASSERT_EQ(0, cxl_region_create_sysfs(self->region, sizeof(self->region),
					     cxl_ram_size(), NULL, true));
	ASSERT_EQ(0, cxl_sysram_state(self->region, state, sizeof(state)));
	ASSERT_STREQ("private", state);
	self->nid = cxl_sysram_node(self->region);
	ASSERT_LE(0, self->nid);
	snprintf(self->stats, sizeof(self->stats),
		 "/sys/kernel/debug/cram/node%d/stats", self->nid);
	/* Full until the device's first report (every 2 s): then its fill. */
	deadline = now_ms() + WAIT_MS;
	while (cram_stat(self, "pressure") >= 1000 && now_ms() < deadline)
		usleep(100000);
	ASSERT_GT(1000, cram_stat(self, "pressure"));

	ASSERT_EQ(0, nodelist_mask("has_memory", &mem));
	ASSERT_EQ(0, nodelist_mask("has_cpu", &cpus));
	mem &= cpus & ~(1UL << self->nid);
	ASSERT_NE(0UL, mem);
	self->dram = __builtin_ctzl(mem);
	ASSERT_EQ(0, tunable_set(&self->demotion, DEMOTION_ENABLED, "1"));
	ASSERT_EQ(0, tunable_set(&self->min_slab, MIN_SLAB, "0"));
	ASSERT_EQ(0, pin_to_node(self->dram));
	/* Reclaim must not demote the test's own pages, which it writes. */
	ASSERT_EQ(0, mlockall(MCL_CURRENT));
	ASSERT_EQ(0, model_status(&self->base));
	TH_LOG("node %d: a CRAM node; the device %lld of %lld bytes full, high %lld, low %lld",
	       self->nid, self->base.physical, self->base.capacity,
	       self->base.high, self->base.low);
}

FIXTURE_TEARDOWN(compressed)
{
	int i;

	for (i = 0; i < 2; i++)
		if (self->map[i] != MAP_FAILED)
			munmap(self->map[i], self->len[i]);
	munlockall();
	tunable_restore(&self->demotion);
	tunable_restore(&self->min_slab);
	if (self->region[0] && cxl_region_destroy_sysfs(self->region))
		TH_LOG("%s stays: its memory could not be unplugged",
		       self->region);
	if (unload_driver())
		TH_LOG(DRIVER " stays loaded");
	if (cxl_pci_rebind(self->bdf, PCI_DRIVER))
		TH_LOG("could not give %s back to " PCI_DRIVER, self->bdf);
}

/* Workload @w: @len bytes bound to the DRAM node, written by @fill. */
static void workload(struct __test_metadata *_metadata,
		     FIXTURE_DATA(compressed) *self, int w, size_t len,
		     void (*fill)(char *page, long i))
{
	unsigned long mask = 1UL << self->dram;
	long i;

	self->len[w] = len;
	self->map[w] = mmap(NULL, len, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->map[w]);
	ASSERT_EQ(0, madvise(self->map[w], len, MADV_NOHUGEPAGE));
	ASSERT_EQ(0, mbind(self->map[w], len, MPOL_BIND, &mask, MASK_MAXNODE, 0));
	for (i = 0; i < (long)(len / psize()); i++)
		fill(self->map[w] + i * psize(), i);
}

static void workload_free(FIXTURE_DATA(compressed) *self, int w)
{
	if (self->map[w] != MAP_FAILED)
		munmap(self->map[w], self->len[w]);
	self->map[w] = MAP_FAILED;
}

/*
 * Pages of @map that differ from fill_random after @cycles cycles of
 * integrity_across_cycles: cycle n wrote 'a' + n at byte 8 of every 4th
 * page from page n.
 */
static long pages_changed_cycles(const char *map, size_t len, long cycles)
{
	char *want = malloc(psize());
	long i, c, bad = 0;

	if (!want)
		return -ENOMEM;
	for (i = 0; i < (long)(len / psize()); i++) {
		fill_random(want, i);
		for (c = 0; c < cycles; c++)
			if (i >= c && (i - c) % 4 == 0)
				want[8] = 'a' + c;
		if (memcmp(map + i * psize(), want, psize()))
			bad++;
	}
	free(want);
	return bad;
}

/* For a failure's log: what CRAM and the kernel counted. */
static void log_counters(struct __test_metadata *_metadata,
			 FIXTURE_DATA(compressed) *self)
{
	static const char *const cram[] = { "pressure", "demoted",
		"refused_full", "promoted", "scrubbed_cpu" };
	static const char *const vm[] = { "pgdemote_direct",
		"pgdemote_khugepaged", "pgdemote_kswapd", "pgsteal_direct" };
	size_t i;

	for (i = 0; i < sizeof(cram) / sizeof(cram[0]); i++)
		TH_LOG("CRAM %s %ld", cram[i], cram_stat(self, cram[i]));
	for (i = 0; i < sizeof(vm) / sizeof(vm[0]); i++)
		TH_LOG("vmstat %s %ld", vm[i], proc_value("/proc/vmstat", vm[i]));
	TH_LOG("memory tiers: node %d in %d, node %d in %d", self->dram,
	       memtier_of_node(self->dram), self->nid,
	       memtier_of_node(self->nid));
}

/* Reclaim the DRAM node: workload @w's pages on the CXL node after. */
static long demote(struct __test_metadata *_metadata,
		   FIXTURE_DATA(compressed) *self, int w, int rounds)
{
	int round, ret;

	for (round = 0; round < rounds; round++) {
		ret = node_reclaim_anon(self->dram, self->len[w]);
		EXPECT_TRUE(ret == 0 || ret == -EAGAIN)
			TH_LOG("node%d/reclaim: %d", self->dram, ret);
		if (!pages_on_node(self->map[w], self->len[w], self->dram))
			break;
	}
	return pages_on_node(self->map[w], self->len[w], self->nid);
}

/* CRAM's pressure for the model's fill: its percent (rounded up), in permille. */
static long expected_pressure(const struct model *st)
{
	if (st->above)
		return 1000;
	return (st->physical * 100 + st->capacity - 1) / st->capacity * 10;
}

/*
 * Wait for the device's report of the model's current fill to reach CRAM
 * (a report comes every 2 s): 0 once CRAM's pressure is what the model's
 * fill gives, -ETIMEDOUT.
 */
static int pressure_agrees(struct __test_metadata *_metadata,
			   FIXTURE_DATA(compressed) *self, struct model *st)
{
	long deadline = now_ms() + WAIT_MS, pressure, want;
	int ret;

	do {
		ret = model_status(st);
		if (ret)
			return ret;
		want = expected_pressure(st);
		pressure = cram_stat(self, "pressure");
		if (pressure == want)
			break;
		usleep(200000);
	} while (now_ms() < deadline);
	TH_LOG("the model: %lld of %lld bytes stored; CRAM's pressure %ld (expected %ld)",
	       st->physical, st->capacity, pressure, want);
	return pressure == want ? 0 : -ETIMEDOUT;
}

/*
 * Compressible cold data demotes into the CXL node, intact, and the model
 * measures it compressed; the driver's report to CRAM agrees with the
 * model's fill. Control: the same amount of incompressible data, which
 * the model measures at its full size.
 */
TEST_F_TIMEOUT(compressed, compressible_demotes, 600)
{
	size_t len = 4 * MIB;
	long pages = len / psize(), on;
	struct model before, after;
	double ratio[2];
	int w;

	for (w = 0; w < 2; w++) {
		void (*fill)(char *page, long i) = w ? fill_random : fill_text;

		ASSERT_EQ(0, model_status(&before));
		workload(_metadata, self, w, len, fill);
		on = demote(_metadata, self, w, RECLAIM_ROUNDS);
		ASSERT_LE(pages / 2, on) log_counters(_metadata, self);
		EXPECT_EQ(0, pages_not_filled(self->map[w], len, fill));
		ASSERT_EQ(0, model_status(&after));
		/*
		 * The guest's view: the pages it demoted there. Reclaim
		 * demotes other tasks' pages too, and some of those are
		 * freed (and cleared) meanwhile: a fifth either way.
		 */
		EXPECT_LE(on * 4 / 5, after.used_pages - before.used_pages);
		EXPECT_GE(on * 6 / 5, after.used_pages - before.used_pages);
		ratio[w] = (double)(after.logical - before.logical) /
			   (double)(after.physical - before.physical);
		TH_LOG("%s: %ld of %ld pages demoted; the model: %lld more pages, %lld bytes stored for %lld: ratio %.2f",
		       w ? "random" : "text", on, pages,
		       after.used_pages - before.used_pages,
		       after.physical - before.physical,
		       after.logical - before.logical, ratio[w]);
	}
	EXPECT_LT(8.0, ratio[0]);
	EXPECT_GT(1.2, ratio[1]);
	EXPECT_LE(0.95, ratio[1]);
	/* The device's next report carries this fill to CRAM. */
	EXPECT_EQ(0, pressure_agrees(_metadata, self, &after));
}

/*
 * An incompressible flood fills the device: the model crosses its high
 * watermark and says so, CRAM's pressure goes to the maximum, and
 * demotion stops, before the device is ever over-filled. Freeing the
 * flood clears its pages (CRAM, with the CPU), the fill falls below the
 * low watermark, and demotion resumes. The control is the same reclaim
 * before the flood (demotion works) and after it is gone.
 */
TEST_F_TIMEOUT(compressed, flood_stops_demotion, 900)
{
	size_t flood = 0, more = 2 * MIB;
	long t0, t1, on, on_more, refused, deadline;
	struct model st, end;

	/* Enough incompressible data to pass the high watermark, and some. */
	flood = (self->base.high - self->base.physical) * 5 / 4;
	flood = (flood + MIB - 1) / MIB * MIB;
	workload(_metadata, self, 0, flood, fill_random);
	/* Reclaim until the model says the device is above its high mark. */
	deadline = now_ms() + 10 * WAIT_MS;
	on = 0;
	do {
		long prev = on;

		on = demote(_metadata, self, 0, 1);
		ASSERT_EQ(0, model_status(&st));
		if (on == prev)
			break;	/* reclaim found nothing more to demote */
	} while (!st.above && now_ms() < deadline &&
		 on < (long)(flood / psize()));
	t0 = now_ms();
	TH_LOG("flood: %ld of %zu pages demoted; the model: %lld of %lld bytes stored, above the high mark: %d",
	       on, flood / psize(), st.physical, st.capacity, st.above);
	ASSERT_EQ(1, st.above) log_counters(_metadata, self);
	/* The event reaches CRAM. */
	while (cram_stat(self, "pressure") < 1000 && now_ms() < t0 + WAIT_MS)
		usleep(10000);
	t1 = now_ms();
	ASSERT_EQ(1000, cram_stat(self, "pressure"));
	TH_LOG("CRAM at full pressure %ld ms after the test saw the model above its mark",
	       t1 - t0);

	/* No more demotion: the rest of the flood, and a new workload, stay. */
	on = pages_on_node(self->map[0], flood, self->nid);
	refused = cram_stat(self, "refused_full");
	workload(_metadata, self, 1, more, fill_text);
	on_more = demote(_metadata, self, 1, 3);
	EXPECT_EQ(0, on_more);
	EXPECT_EQ(on, pages_on_node(self->map[0], flood, self->nid));
	TH_LOG("at full pressure: %ld pages more demoted, %ld folios refused",
	       on_more, cram_stat(self, "refused_full") - refused);
	EXPECT_EQ(0, pages_not_filled(self->map[0], flood, fill_random));
	ASSERT_EQ(0, model_status(&st));
	EXPECT_GE(st.capacity, st.max_physical);
	EXPECT_EQ(self->base.overflows, st.overflows);
	TH_LOG("the model: at most %lld of %lld bytes stored, %lld overflows",
	       st.max_physical, st.capacity, st.overflows - self->base.overflows);

	/* Free the flood: its pages are cleared, the fill falls. */
	workload_free(self, 0);
	deadline = now_ms() + 3 * WAIT_MS;
	do {
		ASSERT_EQ(0, model_status(&end));
	} while (end.above && now_ms() < deadline && !usleep(200000));
	TH_LOG("flood freed: the model %lld bytes stored, above %d",
	       end.physical, end.above);
	ASSERT_EQ(0, end.above);
	ASSERT_EQ(0, pressure_agrees(_metadata, self, &end));
	EXPECT_GT(1000, cram_stat(self, "pressure"));
	/* Demotion resumes. */
	on_more = demote(_metadata, self, 1, RECLAIM_ROUNDS);
	EXPECT_LE((long)(more / psize() / 2), on_more);
	EXPECT_EQ(0, pages_not_filled(self->map[1], more, fill_text));
	TH_LOG("pressure cleared: %ld of %zu pages demoted", on_more,
	       more / psize());
	ASSERT_EQ(0, model_status(&end));
	EXPECT_GE(end.capacity, end.max_physical);
	EXPECT_EQ(self->base.overflows, end.overflows);
}

/*
 * Data survives demote/promote cycles: demoted pages read back intact
 * (reads take no fault and stay), written pages come back to DRAM with
 * the write, the others stay on the device, three times over.
 */
TEST_F_TIMEOUT(compressed, integrity_across_cycles, 600)
{
	size_t len = MIB;
	long pages = len / psize(), on, i, cycle;

	workload(_metadata, self, 0, len, fill_random);
	for (cycle = 0; cycle < 3; cycle++) {
		on = demote(_metadata, self, 0, RECLAIM_ROUNDS);
		ASSERT_LE(pages / 2, on) log_counters(_metadata, self);
		/* Cycle n wrote 'a' + n into byte 8 of pages 4k + n. */
		EXPECT_EQ(0, pages_changed_cycles(self->map[0], len, cycle));
		EXPECT_EQ(on, pages_on_node(self->map[0], len, self->nid));
		for (i = cycle; i < pages; i += 4)
			self->map[0][i * psize() + 8] = 'a' + cycle;
		EXPECT_EQ(0, pages_changed_cycles(self->map[0], len, cycle + 1));
		for (i = cycle; i < pages; i += 4)
			EXPECT_FALSE(pages_all_on(self->map[0] + i * psize(),
						  psize(), self->nid));
		TH_LOG("cycle %ld: %ld of %ld pages demoted and read back, %ld written back to DRAM; %ld still there",
		       cycle + 1, on, pages, (pages - cycle + 3) / 4,
		       pages_on_node(self->map[0], len, self->nid));
	}
}

/*
 * Freed pages are cleared: the model finds every one of them all zero
 * again (a zero page costs nothing). The lab's QEMU (10.0) has no Media
 * Operations, so the CPU clears them; with CXL_MEDIA_ZERO=1 in the
 * environment (a QEMU that has Sanitize/Zero) the device must. Control:
 * before the free, the model counts them.
 */
TEST_F_TIMEOUT(compressed, freed_pages_read_back_zero, 600)
{
	const char *zero = getenv("CXL_MEDIA_ZERO");
	bool on_device = zero && !strcmp(zero, "1");
	size_t len = MIB;
	long on, cpu, device, deadline;
	struct model before, held, after;

	ASSERT_EQ(0, model_status(&before));
	cpu = cram_stat(self, "scrubbed_cpu");
	device = cram_stat(self, "scrubbed_device");
	workload(_metadata, self, 0, len, fill_random);
	on = demote(_metadata, self, 0, RECLAIM_ROUNDS);
	ASSERT_LT(0, on) log_counters(_metadata, self);
	ASSERT_EQ(0, model_status(&held));
	EXPECT_LE(before.used_pages + on, held.used_pages);
	workload_free(self, 0);
	/* The device's command may run while CRAM holds the pages. */
	ASSERT_EQ(0, proc_value_await(self->stats, "scrub_pending", 0,
				      WAIT_MS));
	deadline = now_ms() + WAIT_MS;
	do {
		ASSERT_EQ(0, model_status(&after));
	} while (after.used_pages > held.used_pages - on &&
		 now_ms() < deadline && !usleep(100000));
	TH_LOG("%ld pages demoted: the model %lld pages not zero, %lld while held, %lld once freed; CRAM cleared %ld with the CPU, %ld on the device",
	       on, before.used_pages, held.used_pages, after.used_pages,
	       cram_stat(self, "scrubbed_cpu") - cpu,
	       cram_stat(self, "scrubbed_device") - device);
	EXPECT_GE(held.used_pages - on, after.used_pages);
	if (on_device) {
		EXPECT_LE(on, cram_stat(self, "scrubbed_device") - device);
		EXPECT_EQ(cpu, cram_stat(self, "scrubbed_cpu"));
	} else {
		EXPECT_LE(on, cram_stat(self, "scrubbed_cpu") - cpu);
		EXPECT_EQ(device, cram_stat(self, "scrubbed_device"));
	}
}

/*
 * While a region of the device is online, the driver cannot be unbound:
 * it has no unbind file, and rmmod is refused (the module is in use);
 * the data on the device stays intact. Control: once the region is gone
 * (its folios back in DRAM), rmmod releases the device.
 */
TEST_F_TIMEOUT(compressed, unbind_refused_while_in_use, 600)
{
	size_t len = MIB / 4;
	long on;

	workload(_metadata, self, 0, len, fill_text);
	on = demote(_metadata, self, 0, RECLAIM_ROUNDS);
	ASSERT_LT(0, on) log_counters(_metadata, self);
	EXPECT_NE(0, access("/sys/bus/pci/drivers/" DRIVER "/unbind", F_OK));
	EXPECT_EQ(-EBUSY, unload_driver());
	EXPECT_EQ(0, access("/sys/module/" DRIVER, F_OK));
	EXPECT_EQ(on, pages_on_node(self->map[0], len, self->nid));
	EXPECT_EQ(0, pages_not_filled(self->map[0], len, fill_text));

	ASSERT_EQ(0, cxl_region_destroy_sysfs(self->region));
	self->region[0] = '\0';
	EXPECT_EQ(0, pages_on_node(self->map[0], len, self->nid));
	EXPECT_EQ(0, pages_not_filled(self->map[0], len, fill_text));
	EXPECT_EQ(0, unload_driver());
	EXPECT_NE(0, access("/sys/module/" DRIVER, F_OK));
	TH_LOG("%ld pages on the device: rmmod refused; region gone: rmmod done, data intact",
	       on);
}

/*
 * The device model dies: no more reports, and the driver takes the device
 * as full after report_timeout_ms: demotion stops, and what is on the
 * device stays intact and comes back to DRAM when the region goes.
 * Control: the same demotion before the model dies. The last case of the
 * run: the model is gone after it.
 */
TEST_F_TIMEOUT(compressed, model_killed_fails_safe, 600)
{
	size_t len = MIB;
	long on, on_after, t0;

	workload(_metadata, self, 0, len, fill_text);
	on = demote(_metadata, self, 0, RECLAIM_ROUNDS);
	ASSERT_LT(0, on) log_counters(_metadata, self);
	ASSERT_GT(1000, cram_stat(self, "pressure"));

	ASSERT_EQ(0, model_ask("die", NULL, 0));
	t0 = now_ms();
	while (cram_stat(self, "pressure") < 1000 &&
	       now_ms() < t0 + 4 * REPORT_TIMEOUT_MS)
		usleep(100000);
	TH_LOG("model killed: CRAM at full pressure after %ld ms (timeout %d ms)",
	       now_ms() - t0, REPORT_TIMEOUT_MS);
	ASSERT_EQ(1000, cram_stat(self, "pressure"));

	workload(_metadata, self, 1, len, fill_text);
	on_after = demote(_metadata, self, 1, 3);
	EXPECT_EQ(0, on_after);
	EXPECT_EQ(0, pages_not_filled(self->map[0], len, fill_text));
	/* The region goes: its folios come back to DRAM, intact. */
	ASSERT_EQ(0, cxl_region_destroy_sysfs(self->region));
	self->region[0] = '\0';
	EXPECT_EQ(0, pages_on_node(self->map[0], len, self->nid));
	EXPECT_EQ(0, pages_not_filled(self->map[0], len, fill_text));
	TH_LOG("%ld pages on the device before, %ld demoted after; all back and intact",
	       on, on_after);
}

TEST_HARNESS_MAIN
