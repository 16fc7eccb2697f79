// SPDX-License-Identifier: GPL-2.0
/*
 * Host tests of the compressed device model: pages of known
 * compressibility in a scratch file, written by another process as QEMU
 * writes them, and the figures the model reports for them. The last case
 * runs the model program itself against a stand-in QMP server and reads
 * the event records it sends.
 *
 * Usage: model_test MODEL-BINARY SCRATCH-DIR
 * SCRATCH-DIR must be on a disk file system (as the lab's run directory
 * is): tmpfs has no dirty tracking. Prints KTAP; exits 0 whatever the
 * results (the caller's KTAP parser owns the verdict).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fill.h"

#define NPAGES	(4 * CM_CHUNK)	/* 8 MiB: four units of change tracking */

static const char *dir;
static int failed;	/* in the current case */

static void fail(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	failed = 1;
}

#define EXPECT_EQ(want, got)						\
	do {								\
		unsigned long long _w = (want), _g = (got);		\
		if (_w != _g)						\
			fail("%s:%d: %s is %llu, expected %llu",	\
			     __FILE__, __LINE__, #got, _g, _w);		\
	} while (0)

/* Page contents of known compressibility. */
enum kind { ZERO, ONE_BYTE, RANDOM, HALF_RANDOM };

static void fill_page(unsigned char *p, enum kind k, unsigned int seed)
{
	unsigned int x = seed * 2654435761u + 1, i;

	memset(p, 0, CM_PAGE);
	if (k == ONE_BYTE)
		memset(p, 0x5a, CM_PAGE);
	for (i = 0; (k == RANDOM || k == HALF_RANDOM) &&
		    i < (k == RANDOM ? CM_PAGE : CM_PAGE / 2); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = x >> 24;
	}
}

static char path[4096];

static int make_file(void)
{
	int fd;

	snprintf(path, sizeof(path), "%s/model-test.bin", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, (off_t)NPAGES * CM_PAGE)) {
		fail("%s: %s", path, strerror(errno));
		return -1;
	}
	return fd;
}

/*
 * Write @kind into pages [first, first + n) from another process, through
 * a shared mapping of the file: what QEMU does for the guest.
 */
static void write_pages(size_t first, size_t n, enum kind kind)
{
	unsigned char *map;
	pid_t pid = fork();
	int fd, status;
	size_t i;

	if (!pid) {
		fd = open(path, O_RDWR);
		map = mmap(NULL, (size_t)NPAGES * CM_PAGE,
			   PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (map == MAP_FAILED)
			_exit(1);
		for (i = first; i < first + n; i++)
			fill_page(map + i * CM_PAGE, kind, (unsigned int)i);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status)
		fail("the writer failed");
}

/* The costs of single pages of each kind. */
static void page_costs(void)
{
	static unsigned char page[CM_PAGE];
	char cbuf[CM_PAGE * 2];
	unsigned int lz4, cost;

	fill_page(page, ZERO, 1);
	EXPECT_EQ(0, cm_page_cost(page, cbuf, sizeof(cbuf), &lz4));
	fill_page(page, ONE_BYTE, 1);
	EXPECT_EQ(CM_GRANULE, cm_page_cost(page, cbuf, sizeof(cbuf), &lz4));
	fill_page(page, RANDOM, 1);
	EXPECT_EQ(CM_PAGE, cm_page_cost(page, cbuf, sizeof(cbuf), &lz4));
	fill_page(page, HALF_RANDOM, 1);
	cost = cm_page_cost(page, cbuf, sizeof(cbuf), &lz4);
	/* 2 KiB of noise, then 2 KiB of zeros: a little over half a page. */
	if (cost <= CM_PAGE / 2 || cost > CM_PAGE / 2 + 3 * CM_GRANULE ||
	    cost % CM_GRANULE || lz4 > cost || lz4 + CM_GRANULE <= cost)
		fail("half-random page: %u bytes (LZ4 %u)", cost, lz4);
	printf("# one-byte page %u bytes, random %u, half random %u\n",
	       CM_GRANULE, CM_PAGE, cost);
}

/* A mix written before the model starts: the figures of a full measure. */
static void known_mix(void)
{
	struct cm_dev dev;
	int fd = make_file(), ret;

	if (fd < 0)
		return;
	close(fd);
	write_pages(0, 64, ONE_BYTE);
	write_pages(64, 32, RANDOM);
	/* 96..NPAGES stay zero */
	ret = cm_open(&dev, path, (size_t)NPAGES * CM_PAGE);
	EXPECT_EQ(0, ret);
	if (ret)
		return;
	cm_measure_all(&dev);
	EXPECT_EQ(96, dev.used_pages);
	EXPECT_EQ(64 * CM_GRANULE + 32 * CM_PAGE, dev.physical);
	printf("# 96 pages (384 KiB) stored in %llu bytes: ratio %.2f\n",
	       (unsigned long long)dev.physical,
	       96.0 * CM_PAGE / dev.physical);
	cm_close(&dev);
}

/* Pages written while the model runs: the dirty scan finds exactly them. */
static void dirty_scan(void)
{
	struct cm_dev dev;
	int fd = make_file(), ret;

	if (fd < 0)
		return;
	close(fd);
	ret = cm_open(&dev, path, (size_t)NPAGES * CM_PAGE);
	EXPECT_EQ(0, ret);
	if (ret)
		return;
	if (!dev.dirty_tracking) {
		fail("no dirty tracking on %s", dir);
		cm_close(&dev);
		return;
	}
	cm_measure_all(&dev);
	EXPECT_EQ(0, dev.physical);
	EXPECT_EQ(0, cm_scan_dirty(&dev));
	/* Chunks 0 and 3 written: those two measured, no other. */
	write_pages(3, 1, RANDOM);
	write_pages(200, 2, ONE_BYTE);
	write_pages(NPAGES - 1, 1, RANDOM);
	EXPECT_EQ(2 * CM_CHUNK, cm_scan_dirty(&dev));
	EXPECT_EQ(2 * CM_PAGE + 2 * CM_GRANULE, dev.physical);
	/* Written again: found again (the scan cleaned them). */
	write_pages(3, 1, ZERO);
	EXPECT_EQ(CM_CHUNK, cm_scan_dirty(&dev));
	EXPECT_EQ(CM_PAGE + 2 * CM_GRANULE, dev.physical);
	EXPECT_EQ(0, cm_scan_dirty(&dev));
	EXPECT_EQ(0, dev.missed);
	cm_close(&dev);
}

/* A page the host's writeback cleaned first: the sweep finds it, counted. */
static void sweep_catches_missed(void)
{
	struct cm_dev dev;
	int fd = make_file(), ret;

	if (fd < 0)
		return;
	ret = cm_open(&dev, path, (size_t)NPAGES * CM_PAGE);
	EXPECT_EQ(0, ret);
	if (ret) {
		close(fd);
		return;
	}
	cm_measure_all(&dev);
	write_pages(17, 1, RANDOM);
	fdatasync(fd);	/* the kernel's writeback, before the scan looks */
	close(fd);
	EXPECT_EQ(0, cm_scan_dirty(&dev));
	EXPECT_EQ(0, dev.physical);
	cm_sweep(&dev, NPAGES);
	EXPECT_EQ(CM_PAGE, dev.physical);
	EXPECT_EQ(dev.dirty_tracking ? 1 : 0, dev.missed);
	cm_close(&dev);
}

static void watermarks(void)
{
	struct cm_wmark w = { .high = 75, .low = 50 };
	static const struct { unsigned int fill; int ev; } seq[] = {
		{ 10, 0 }, { 74, 0 }, { 75, 1 }, { 90, 0 }, { 60, 0 },
		{ 76, 0 }, { 51, 0 }, { 50, -1 }, { 20, 0 }, { 74, 0 },
		{ 100, 1 }, { 0, -1 },
	};
	size_t i;

	for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		if (cm_wmark_update(&w, seq[i].fill) != seq[i].ev)
			fail("fill %u: expected event %d", seq[i].fill,
			     seq[i].ev);
}

/*
 * The model program: a stand-in QMP server takes its commands; random
 * pages past the high watermark bring a "high" record, zeroing them a
 * "low" one.
 */
static int accept_timeout(int lfd, int ms)
{
	struct pollfd p = { .fd = lfd, .events = POLLIN };

	return poll(&p, 1, ms) == 1 ? accept(lfd, NULL, NULL) : -1;
}

/* Read one line within @ms; with @answer, answer it with a "return". */
static int read_line(int fd, char *line, size_t len, int ms, bool answer)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	size_t n = 0;

	while (n + 1 < len) {
		if (poll(&p, 1, ms) != 1 || read(fd, line + n, 1) != 1)
			return -1;
		if (line[n] == '\n') {
			line[n] = '\0';
			if (!answer)
				return 0;
			return write(fd, "{\"return\": {}}\r\n", 16) == 16 ? 0 : -1;
		}
		n++;
	}
	return -1;
}

/* The next QMP command the model sent, answered. */
static int qmp_next(int fd, char *line, size_t len, int ms)
{
	return read_line(fd, line, len, ms, true);
}

/* A listening unix socket at @dir/@name, for the model to connect to. */
static int listen_at(const char *name, char *path, size_t len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", dir, name);
	snprintf(path, len, "%s", sa.sun_path);
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(fd, 1)) {
		fail("%s: %s", sa.sun_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Run the model on the scratch file, with a capacity of 64 pages (high
 * watermark at 48, low at 32), its QMP client on @qmp, its guest line on
 * @guest (NULL: none), a record every @heartbeat seconds (0: only at
 * crossings), its log in @log. Returns its pid.
 */
static pid_t start_model(const char *model, const char *qmp,
			 const char *guest, const char *heartbeat,
			 const char *log)
{
	char size[32], cap[32];
	pid_t pid;

	snprintf(size, sizeof(size), "%u", NPAGES * CM_PAGE);
	snprintf(cap, sizeof(cap), "%u", 64 * CM_PAGE);
	unlink(log);
	pid = fork();
	if (!pid) {
		execl(model, model, "--file", path, "--size", size,
		      "--capacity", cap, "--qmp", qmp, "--device",
		      "/machine/peripheral/cxl-vmem0", "--interval-ms", "20",
		      "--heartbeat-s", heartbeat, "--log", log, "--wait-s", "10",
		      guest ? "--guest" : (char *)NULL, guest, (char *)NULL);
		_exit(127);
	}
	return pid;
}

#define QMP_GREETING_11_1 \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 3, \"minor\": 1, " \
	"\"major\": 11}, \"package\": \"\"}, \"capabilities\": []}}\r\n"

/* The value of "@key": N in a QMP command line, or -1. */
static long record_field(const char *line, const char *key)
{
	char pat[64];
	const char *p;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	p = strstr(line, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static void model_events(const char *model)
{
	char line[2048], logpath[4096], qmp_path[4096], stopline[2048] = "";
	int fd = make_file(), lfd, cfd = -1, status;
	pid_t pid;
	FILE *log;

	if (fd < 0)
		return;
	close(fd);
	snprintf(logpath, sizeof(logpath), "%s/model.log", dir);
	lfd = listen_at("qmp.sock", qmp_path, sizeof(qmp_path));
	if (lfd < 0)
		return;
	pid = start_model(model, qmp_path, NULL, "0", logpath);
	cfd = accept_timeout(lfd, 10000);
	/* As QEMU 11.1 greets: its records have a sub-type (CXL 3.2). */
	if (cfd < 0 || write(cfd, QMP_GREETING_11_1, strlen(QMP_GREETING_11_1)) !=
			(ssize_t)strlen(QMP_GREETING_11_1) ||
	    qmp_next(cfd, line, sizeof(line), 10000) ||
	    !strstr(line, "qmp_capabilities")) {
		fail("the model did not connect and negotiate");
		goto out;
	}
	/* 45 pages + 150 granules: 73.97%, then one more page: 75.54% */
	write_pages(0, 45, RANDOM);
	write_pages(45, 150, ONE_BYTE);
	write_pages(195, 1, RANDOM);
	if (qmp_next(cfd, line, sizeof(line), 10000)) {
		fail("no event record after crossing the high watermark");
		goto out;
	}
	if (!strstr(line, "cxl-inject-memory-module-event") ||
	    !strstr(line, "\"type\": 2") ||
	    !strstr(line, "/machine/peripheral/cxl-vmem0") ||
	    record_field(line, "health-status") != 2 ||
	    record_field(line, "life-used") != 76 ||
	    record_field(line, "sub-type") != 0)
		fail("high record: %s", line);
	/* 6 pages + 150 granules left: 13.04%, seen at 50% or below */
	write_pages(0, 40, ZERO);
	if (qmp_next(cfd, line, sizeof(line), 10000)) {
		fail("no event record after falling below the low watermark");
		goto out;
	}
	if (record_field(line, "health-status") != 0 ||
	    record_field(line, "life-used") > 50)
		fail("low record: %s", line);
out:
	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("the model did not exit cleanly (status %#x)", status);
	log = fopen(logpath, "r");
	while (log && fgets(line, sizeof(line), log)) {
		if (strstr(line, " stop "))
			snprintf(stopline, sizeof(stopline), "%s", line);
		printf("# model: %s", line);
	}
	if (log)
		fclose(log);
	if (!strstr(stopline, "events=2") || !strstr(stopline, "overflows=0"))
		fail("the model's totals: %s", stopline);
	if (cfd >= 0)
		close(cfd);
	close(lfd);
	unlink(qmp_path);
}

/*
 * The guest's side: "status" answers with the figures of what was just
 * written, the record repeats (heartbeat) with no crossing, and "die"
 * kills the model, which logs it first.
 */
static void model_guest_channel(const char *model)
{
	char qmp_path[4096], guest_path[4096], logpath[4096];
	char line[2048], last[2048] = "";
	int fd = make_file(), qlfd, glfd, qfd = -1, gfd = -1, status;
	pid_t pid;
	FILE *log;

	if (fd < 0)
		return;
	close(fd);
	snprintf(logpath, sizeof(logpath), "%s/model-guest.log", dir);
	qlfd = listen_at("qmp2.sock", qmp_path, sizeof(qmp_path));
	glfd = listen_at("guest.sock", guest_path, sizeof(guest_path));
	if (qlfd < 0 || glfd < 0)
		return;
	pid = start_model(model, qmp_path, guest_path, "1", logpath);
	qfd = accept_timeout(qlfd, 10000);
	if (qfd < 0 || write(qfd, "{\"QMP\": {}}\r\n", 13) != 13 ||
	    qmp_next(qfd, line, sizeof(line), 10000)) {
		fail("the model did not negotiate QMP");
		goto out;
	}
	gfd = accept_timeout(glfd, 10000);
	if (gfd < 0) {
		fail("the model did not connect to the guest channel");
		goto out;
	}
	write_pages(0, 8, RANDOM);	/* 8 of 64 pages: 12.5% */
	write_pages(8, 4, ONE_BYTE);
	if (write(gfd, "status\n", 7) != 7 ||
	    read_line(gfd, line, sizeof(line), 10000, false)) {
		fail("no answer to status");
		goto out;
	}
	if (strncmp(line, "status ", 7) || !strstr(line, " used_pages=12 ") ||
	    !strstr(line, " physical=33024 ") || !strstr(line, " overflows=0 "))
		fail("status: %s", line);
	/* "zero": the media cleared, the figures with it. */
	if (write(gfd, "zero\n", 5) != 5 ||
	    read_line(gfd, line, sizeof(line), 10000, false) ||
	    strcmp(line, "zeroed"))
		fail("no answer to zero (%s)", line);
	if (write(gfd, "status\n", 7) != 7 ||
	    read_line(gfd, line, sizeof(line), 10000, false) ||
	    !strstr(line, " used_pages=0 ") || !strstr(line, " physical=0 "))
		fail("status after zero: %s", line);
	write_pages(0, 8, RANDOM);
	write_pages(8, 4, ONE_BYTE);
	/* Within 3 s: a repeat of the record, with the fill of now. */
	if (qmp_next(qfd, line, sizeof(line), 3000) ||
	    record_field(line, "life-used") != 13 ||
	    record_field(line, "health-status") != 0)
		fail("no heartbeat record (%s)", line);
	/* A greeting with no version (QEMU 10.0's form): no sub-type. */
	if (strstr(line, "sub-type"))
		fail("a sub-type for QEMU 10.0: %s", line);
	if (write(gfd, "die\n", 4) != 4 || waitpid(pid, &status, 0) != pid ||
	    !WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		fail("the model did not kill itself on request");
	else
		pid = 0;
	log = fopen(logpath, "r");
	while (log && fgets(line, sizeof(line), log)) {
		snprintf(last, sizeof(last), "%s", line);
		printf("# model: %s", line);
	}
	if (log)
		fclose(log);
	if (!strstr(last, "killed on request"))
		fail("its log does not end with the request: %s", last);
out:
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
	}
	if (qfd >= 0)
		close(qfd);
	if (gfd >= 0)
		close(gfd);
	close(qlfd);
	close(glfd);
	unlink(qmp_path);
	unlink(guest_path);
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void (*fn)(void); } cases[] = {
		{ "page_costs", page_costs },
		{ "known_mix", known_mix },
		{ "dirty_scan", dirty_scan },
		{ "sweep_catches_missed", sweep_catches_missed },
		{ "watermarks", watermarks },
	};
	size_t i, n = sizeof(cases) / sizeof(cases[0]);

	if (argc != 3) {
		fprintf(stderr, "usage: %s MODEL-BINARY SCRATCH-DIR\n", argv[0]);
		return 2;
	}
	dir = argv[2];
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("KTAP version 1\n1..%zu\n", n + 2);
	for (i = 0; i < n; i++) {
		failed = 0;
		cases[i].fn();
		printf("%s %zu %s\n", failed ? "not ok" : "ok", i + 1,
		       cases[i].name);
	}
	failed = 0;
	model_events(argv[1]);
	printf("%s %zu model_events\n", failed ? "not ok" : "ok", n + 1);
	failed = 0;
	model_guest_channel(argv[1]);
	printf("%s %zu model_guest_channel\n", failed ? "not ok" : "ok",
	       n + 2);
	unlink(path);
	return 0;
}
