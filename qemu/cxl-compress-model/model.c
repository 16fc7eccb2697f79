// SPDX-License-Identifier: GPL-2.0
/*
 * cxl-compress-model: the compressed half of the lab's CXL type-3 device.
 *
 * QEMU's cxl-type3 device stores the guest's data uncompressed in its
 * backing file (share=on; file offset = DPA for a 1-way region). This
 * program runs beside QEMU, measures what every page the guest wrote
 * would take on the media of a device with inline compression (LZ4, see
 * fill.c), and keeps the physical fill of a device whose physical
 * capacity (--capacity) is smaller than the capacity it advertises.
 *
 * When the fill reaches the high watermark, or falls to the low one, it
 * sends the guest a CXL event record through QMP, over the device's event
 * interrupt. The lab's convention for the record (QEMU 10 has no
 * vendor-specific or Media Operations events to use):
 *   cxl-inject-memory-module-event, log "informational",
 *   type 0x02 (Life Used Change),
 *   life-used = the physical fill, in percent of the physical capacity,
 *   health-status bit 1 (performance degraded) = above the high
 *   watermark: no more data must come.
 *
 * Between crossings it repeats the record every --heartbeat-s seconds,
 * with the same fields, so that the guest can tell a device that has
 * nothing new to say from one that is gone.
 *
 * With --guest, it also answers the guest on a serial port (a QEMU
 * socket chardev): a line "status" gets one line of the current figures
 * ("status key=value..."; every page is measured first), "zero"
 * clears the media, as a sanitize at provisioning would (the guest must
 * not be using the memory), answering "zeroed", and "die" makes it log
 * "killed on request" and kill itself (SIGKILL), for the guest's test of
 * a device model that disappears.
 *
 * Every line of the log is "<seconds since start> <what> key=value...":
 *   start, status (on each change of a percent, and every --status-s),
 *   event (with the QMP delivery time), overflow (the fill passed the
 *   capacity), stop (the totals). It exits 0 on SIGTERM, or once QEMU is
 *   gone (--pid, or QEMU closed its sockets), and non-zero on any failure.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "fill.h"
#include "qmp.h"

static volatile sig_atomic_t stop;
static struct timespec t0;
static FILE *logf;

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0.tv_sec) + (t.tv_nsec - t0.tv_nsec) / 1e9;
}

static double cpu_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void log_line(const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(logf, "%.3f %s ", now_s(), what);
	va_start(ap, fmt);
	vfprintf(logf, fmt, ap);
	va_end(ap);
	fputc('\n', logf);
	fflush(logf);
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static unsigned long long parse_size(const char *s)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	switch (*end) {
	case 'G': v <<= 10; /* fall through */
	case 'M': v <<= 10; /* fall through */
	case 'K': v <<= 10; end++; break;
	}
	if (*end || !v) {
		fprintf(stderr, "cxl-compress-model: bad size '%s'\n", s);
		exit(2);
	}
	return v;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: cxl-compress-model --file PATH --size BYTES --capacity BYTES\n"
"         --qmp SOCKET --device QOM-PATH [--pid QEMU-PID] [--high PCT]\n"
"         [--low PCT] [--interval-ms MS] [--sweep PAGES] [--status-s S]\n"
"         [--heartbeat-s S] [--guest SOCKET] [--log FILE] [--wait-s S]\n"
"  --file      the type-3 device's backing file (QEMU's share=on file)\n"
"  --size      the capacity the device advertises (the region's size)\n"
"  --capacity  its physical capacity (smaller: the compressed media)\n"
"  --qmp       a QMP socket of that QEMU, for the event records\n"
"  --device    the device's QOM path, e.g. /machine/peripheral/cxl-vmem0\n"
"  --pid       exit once this process (QEMU) is gone\n"
"  --high/--low  watermarks, percent of --capacity (default 75/50)\n"
"  --interval-ms between looks at the written pages (default 100)\n"
"  --sweep     pages re-measured per look, round-robin (default 1024)\n"
"  --heartbeat-s  repeat the last record this often (default 2; 0: never)\n"
"  --guest     a QEMU socket chardev (a guest serial port) to answer on\n"
"  --wait-s    how long to wait for the file and the socket (default 60)\n");
	exit(status);
}

/*
 * The guest's serial line: wait up to @ms for input, and answer each
 * complete line. Returns 0, or -errno if the channel broke.
 */
static int guest_io(int fd, char *buf, size_t size, size_t *len, int ms,
		    struct cm_dev *dev, const struct cm_wmark *wm,
		    uint64_t capacity, uint64_t max_phys, uint64_t overflows,
		    uint64_t events, uint64_t heartbeats)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	char reply[512], *nl;
	ssize_t n;
	int m;

	if (poll(&p, 1, ms) <= 0)
		return 0;
	n = read(fd, buf + *len, size - 1 - *len);
	if (n <= 0)
		return n ? -errno : -EPIPE;
	*len += n;
	buf[*len] = '\0';
	while ((nl = strpbrk(buf, "\r\n"))) {
		*nl = '\0';
		if (!strcmp(buf, "die")) {
			log_line("stop", "killed on request");
			raise(SIGKILL);
		}
		if (!strcmp(buf, "zero")) {
			/* QEMU's mapping of the file reads zeros from here on. */
			if (fallocate(dev->fd, FALLOC_FL_PUNCH_HOLE |
				      FALLOC_FL_KEEP_SIZE, 0,
				      (off_t)dev->npages * CM_PAGE))
				return -errno;
			cm_measure_all(dev);
			log_line("guest", "zeroed physical=%llu",
				 (unsigned long long)dev->physical);
			if (write(fd, "zeroed\n", 7) != 7)
				return -EIO;
		} else if (!strcmp(buf, "status")) {
			/* Exact figures: the written pages, then every page. */
			if (cm_scan_dirty(dev) < 0)
				return -EIO;
			cm_sweep(dev, dev->npages);
			if (dev->physical > max_phys)
				max_phys = dev->physical;
			m = snprintf(reply, sizeof(reply),
				     "status logical=%llu physical=%llu compressed=%llu "
				     "used_pages=%llu capacity=%llu high=%llu low=%llu "
				     "above=%d max_physical=%llu overflows=%llu "
				     "events=%llu heartbeats=%llu\n",
				     (unsigned long long)dev->used_pages * CM_PAGE,
				     (unsigned long long)dev->physical,
				     (unsigned long long)dev->compressed,
				     (unsigned long long)dev->used_pages,
				     (unsigned long long)capacity,
				     (unsigned long long)wm->high,
				     (unsigned long long)wm->low, wm->above,
				     (unsigned long long)max_phys,
				     (unsigned long long)overflows,
				     (unsigned long long)events,
				     (unsigned long long)heartbeats);
			if (write(fd, reply, m) != m)
				return -EIO;
		} else if (buf[0]) {
			log_line("guest", "unknown request '%s'", buf);
		}
		memmove(buf, nl + 1, strlen(nl + 1) + 1);
		*len = strlen(buf);
	}
	if (*len == size - 1)
		*len = 0;	/* a line too long: dropped */
	return 0;
}

/* QEMU closed the socket: it is exiting, which ends the model's run. */
static bool qemu_gone(int err)
{
	return err == -EPIPE || err == -ECONNRESET;
}

/* Send the record for @fill (see the top); returns the QMP round trip in ms. */
static int send_event(struct qmp *q, const char *device, uint64_t fill,
		      uint64_t capacity, bool above, double *ms)
{
	unsigned int pct = (unsigned int)((fill * 100 + capacity - 1) / capacity);
	char cmd[1024], err[4096];
	double t = now_s();
	int ret;

	if (pct > 100)
		pct = 100;
	/* QEMU 10.0 takes no sub-type, 11.1 requires one (CXL 3.2): after 10.0, send it. */
	snprintf(cmd, sizeof(cmd),
		 "{\"execute\": \"cxl-inject-memory-module-event\", \"arguments\": {"
		 "\"path\": \"%s\", \"log\": \"informational\", \"flags\": 0, "
		 "\"type\": 2, %s\"health-status\": %d, \"media-status\": 0, "
		 "\"additional-status\": 0, \"life-used\": %u, \"temperature\": 0, "
		 "\"dirty-shutdown-count\": 0, \"corrected-volatile-error-count\": 0, "
		 "\"corrected-persistent-error-count\": 0}}",
		 device, q->major * 100 + q->minor >= 1001 ? "\"sub-type\": 0, " : "",
		 above ? 2 : 0, pct);
	ret = qmp_command(q, cmd, err, sizeof(err));
	*ms = (now_s() - t) * 1e3;
	if (ret)
		log_line("error", "qmp=%d %s", ret, err);
	return ret;
}

/* Connect to a listening unix socket, retrying for @wait_s seconds. */
static int connect_unix(const char *path, int wait_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, i;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -1;
	strcpy(sa.sun_path, path);
	for (i = 0; i < wait_s * 10 && !stop; i++) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			return fd;
		close(fd);
		usleep(100000);
	}
	return -1;
}

static bool wait_for(const char *path, size_t size, int wait_s)
{
	struct stat st;
	int i;

	for (i = 0; i < wait_s * 10; i++) {
		if (!stat(path, &st) && (size_t)st.st_size >= size)
			return true;
		usleep(100000);
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "size", required_argument, NULL, 's' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "qmp", required_argument, NULL, 'q' },
		{ "device", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "high", required_argument, NULL, 'H' },
		{ "low", required_argument, NULL, 'L' },
		{ "interval-ms", required_argument, NULL, 'i' },
		{ "sweep", required_argument, NULL, 'w' },
		{ "status-s", required_argument, NULL, 'S' },
		{ "log", required_argument, NULL, 'l' },
		{ "wait-s", required_argument, NULL, 'W' },
		{ "heartbeat-s", required_argument, NULL, 'B' },
		{ "guest", required_argument, NULL, 'G' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *file = NULL, *sock = NULL, *device = NULL, *logpath = NULL;
	const char *guest_path = NULL;
	int heartbeat_s = 2, guest = -1;
	char gbuf[256];
	size_t glen = 0;
	uint64_t heartbeats = 0;
	double last_event = 0;
	unsigned long long size = 0, capacity = 0;
	int high = 75, low = 50, interval_ms = 100, status_s = 5, wait_s = 60;
	size_t sweep = 1024;
	pid_t qemu = 0;
	struct cm_dev dev;
	struct cm_wmark wm;
	struct qmp q;
	char err[4096];
	uint64_t max_phys, events = 0, overflows = 0;
	unsigned int last_pct = ~0u, pct;
	double last_status = 0, ms, max_ms = 0, scan_ms, max_scan_ms = 0;
	long found;
	int c, ret, rc = 0, ev;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': file = optarg; break;
		case 's': size = parse_size(optarg); break;
		case 'c': capacity = parse_size(optarg); break;
		case 'q': sock = optarg; break;
		case 'd': device = optarg; break;
		case 'p': qemu = atoi(optarg); break;
		case 'H': high = atoi(optarg); break;
		case 'L': low = atoi(optarg); break;
		case 'i': interval_ms = atoi(optarg); break;
		case 'w': sweep = strtoul(optarg, NULL, 0); break;
		case 'S': status_s = atoi(optarg); break;
		case 'l': logpath = optarg; break;
		case 'W': wait_s = atoi(optarg); break;
		case 'B': heartbeat_s = atoi(optarg); break;
		case 'G': guest_path = optarg; break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (!file || !size || !capacity || !sock || !device || optind != argc)
		usage(2);
	if (low < 0 || high > 100 || low >= high || interval_ms <= 0 ||
	    capacity > size || size % CM_PAGE) {
		fprintf(stderr, "cxl-compress-model: need 0 <= --low < --high <= 100, "
			"--capacity <= --size, --size a multiple of 4 KiB\n");
		return 2;
	}
	logf = stdout;
	if (logpath && !(logf = fopen(logpath, "a"))) {
		perror(logpath);
		return 1;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);

	if (!wait_for(file, size, wait_s)) {
		log_line("error", "file=%s: not there, or smaller than %llu bytes, after %d s",
		     file, size, wait_s);
		return 1;
	}
	ret = cm_open(&dev, file, size);
	if (ret) {
		log_line("error", "file=%s: %s", file, strerror(-ret));
		return 1;
	}
	cm_measure_all(&dev);
	for (ret = -1, c = 0; ret && c < wait_s * 10 && !stop; c++) {
		ret = qmp_open(&q, sock, err, sizeof(err));
		if (ret)
			usleep(100000);
	}
	if (ret) {
		log_line("error", "qmp=%s: %s %s", sock, strerror(-ret), err);
		return 1;
	}
	if (guest_path) {
		guest = connect_unix(guest_path, wait_s);
		if (guest < 0) {
			log_line("error", "guest=%s: %s", guest_path, strerror(errno));
			return 1;
		}
	}
	wm.high = capacity * high / 100;
	wm.low = capacity * low / 100;
	wm.above = false;
	max_phys = dev.physical;
	log_line("start", "file=%s logical=%llu capacity=%llu high=%llu low=%llu "
	     "tracking=%s physical=%llu", file, size, capacity,
	     (unsigned long long)wm.high, (unsigned long long)wm.low,
	     dev.dirty_tracking ? "cachestat" : "sweep-only",
	     (unsigned long long)dev.physical);
	if (!dev.dirty_tracking)
		sweep = dev.npages;	/* the fallback: a full rescan each look */

	while (!stop) {
		double t = now_s();

		found = cm_scan_dirty(&dev);
		if (found < 0) {
			log_line("error", "dirty scan: %s", strerror((int)-found));
			rc = 1;
			break;
		}
		cm_sweep(&dev, sweep);
		scan_ms = (now_s() - t) * 1e3;
		if (scan_ms > max_scan_ms)
			max_scan_ms = scan_ms;
		if (dev.physical > max_phys)
			max_phys = dev.physical;
		if (dev.physical > capacity) {
			overflows++;
			log_line("overflow", "physical=%llu capacity=%llu",
			     (unsigned long long)dev.physical, capacity);
		}
		ev = cm_wmark_update(&wm, dev.physical);
		if (ev) {
			events++;
			ret = send_event(&q, device, dev.physical, capacity,
					 ev > 0, &ms);
			if (ms > max_ms)
				max_ms = ms;
			log_line("event", "%s physical=%llu fill_pct=%llu qmp_ms=%.1f qmp=%s",
			     ev > 0 ? "high" : "low",
			     (unsigned long long)dev.physical,
			     (unsigned long long)(dev.physical * 100 / capacity),
			     ms, ret ? "failed" : "ok");
			if (ret) {
				rc = !qemu_gone(ret);
				break;
			}
		}
		pct = (unsigned int)(dev.physical * 100 / capacity);
		if (pct != last_pct || now_s() - last_status >= status_s) {
			last_pct = pct;
			last_status = now_s();
			log_line("status", "logical=%llu physical=%llu compressed=%llu "
			     "ratio=%.2f fill_pct=%u measured=%llu missed=%llu "
			     "scan_ms=%.2f cpu_ms=%.0f",
			     (unsigned long long)dev.used_pages * CM_PAGE,
			     (unsigned long long)dev.physical,
			     (unsigned long long)dev.compressed,
			     dev.physical ? (double)dev.used_pages * CM_PAGE /
					    dev.physical : 0.0,
			     pct, (unsigned long long)dev.measured,
			     (unsigned long long)dev.missed, scan_ms, cpu_ms());
		}
		if (ev)
			last_event = now_s();
		if (heartbeat_s > 0 && now_s() - last_event >= heartbeat_s) {
			last_event = now_s();
			heartbeats++;
			ret = send_event(&q, device, dev.physical, capacity,
					 wm.above, &ms);
			if (ret) {
				rc = !qemu_gone(ret);
				break;
			}
		}
		if (qemu > 0 && kill(qemu, 0) && errno == ESRCH)
			break;
		if (guest < 0) {
			usleep(interval_ms * 1000);
			continue;
		}
		ret = guest_io(guest, gbuf, sizeof(gbuf), &glen, interval_ms,
			       &dev, &wm, capacity, max_phys, overflows,
			       events, heartbeats);
		if (qemu_gone(ret)) {
			log_line("guest", "line closed: QEMU is gone");
			break;
		}
		if (ret < 0) {
			log_line("error", "guest channel: %s", strerror(-ret));
			rc = 1;
			break;
		}
	}
	log_line("stop", "max_physical=%llu capacity=%llu overflows=%llu events=%llu "
	     "heartbeats=%llu missed=%llu measured=%llu max_scan_ms=%.2f "
	     "max_qmp_ms=%.1f cpu_ms=%.0f",
	     (unsigned long long)max_phys, capacity,
	     (unsigned long long)overflows, (unsigned long long)events,
	     (unsigned long long)heartbeats,
	     (unsigned long long)dev.missed, (unsigned long long)dev.measured,
	     max_scan_ms, max_ms, cpu_ms());
	qmp_close(&q);
	cm_close(&dev);
	return rc;
}
