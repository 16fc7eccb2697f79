// SPDX-License-Identifier: GPL-2.0
/*
 * cram_bench: a cold working set of compressible anonymous memory, pushed
 * out of DRAM by proactive reclaim, then read back and written back.
 *
 *   cram_bench LABEL DRAM_NID TARGET_NID MIB
 *
 * The working set (MIB MiB of text-like data, base pages) is bound to
 * DRAM_NID and reclaimed from it with DRAM_NID's sysfs reclaim file until
 * none of it is left there. Where it went is what the system is set up
 * for: demotion to TARGET_NID (a CRAM node, or an ordinary lower tier), or
 * swap (zswap) with TARGET_NID -1. Then:
 *   - every page is read once: faults and time per page;
 *   - reclaimed again, every page is written once, each write timed on
 *     its own: the latency of a write-fault promotion, or of a swap-in
 *     and its write, as p50 and p99.
 * Prints "LABEL METRIC VALUE" lines: pages_moved (to TARGET_NID, or out of
 * memory), reclaim_ns_per_page (time in reclaim per page moved),
 * read_faults_per_page, read_ns_per_page, write_p50_ns, write_p99_ns,
 * corrupt (pages whose data changed: must be 0). Under QEMU -icount
 * shift=0 a "ns" is a guest instruction. Exits non-zero if a step fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MIB		(1024UL * 1024)
#define MPOL_BIND	2
#define ROUNDS		16
#define PAGE		4096UL

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static long faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt + ru.ru_majflt;
}

static void fill(char *page, long i)
{
	static const char line[] = "private nodes: compressed memory tier ";
	size_t off, n;

	for (off = 0; off < PAGE; off += n) {
		n = sizeof(line) - 1 < PAGE - off ? sizeof(line) - 1 : PAGE - off;
		memcpy(page + off, line, n);
	}
	*(long *)page = i;
}

/* Pages of [map, map + len) on @nid; with @nid -1, those not in memory. */
static long count(char *map, long pages, int nid)
{
	int status[1024];
	void *addr[1024];
	long i, j, n, hits = 0;

	for (i = 0; i < pages; i += n) {
		n = pages - i < 1024 ? pages - i : 1024;
		for (j = 0; j < n; j++)
			addr[j] = map + (i + j) * PAGE;
		/* The raw calls: static, without libnuma. */
		if (syscall(SYS_move_pages, 0, n, addr, NULL, status, 0))
			return -errno;
		for (j = 0; j < n; j++)
			hits += nid < 0 ? status[j] == -ENOENT : status[j] == nid;
	}
	return hits;
}

static int reclaim(int nid, size_t bytes)
{
	char path[128], req[64];
	FILE *f;
	int ret;

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/reclaim",
		 nid);
	snprintf(req, sizeof(req), "%zu swappiness=max", bytes);
	f = fopen(path, "w");
	if (!f)
		return -errno;
	ret = fputs(req, f) < 0 ? -EIO : 0;
	if (fclose(f) && !ret)
		ret = errno == EAGAIN ? 0 : -errno;
	return ret;
}

/* Reclaim the DRAM node until the working set has left it; ns spent. */
static long push_out(char *map, long pages, int dram)
{
	long spent = 0, t;
	int round;

	for (round = 0; round < ROUNDS && count(map, pages, dram) > 0; round++) {
		t = now_ns();
		if (reclaim(dram, pages * PAGE) < 0)
			return -1;
		spent += now_ns() - t;
	}

	return spent;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	long pages, i, moved, spent, f, t, corrupt = 0, *lat;
	unsigned long mask;
	int dram, target;
	const char *label;
	char *map;

	if (argc != 5) {
		fprintf(stderr, "usage: %s LABEL DRAM_NID TARGET_NID MIB\n",
			argv[0]);
		return 2;
	}
	label = argv[1];
	dram = atoi(argv[2]);
	target = atoi(argv[3]);
	pages = atol(argv[4]) * MIB / PAGE;
	mask = 1UL << dram;
	lat = calloc(pages, sizeof(*lat));
	map = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!lat || map == MAP_FAILED ||
	    madvise(map, pages * PAGE, MADV_NOHUGEPAGE) ||
	    syscall(SYS_mbind, map, pages * PAGE, MPOL_BIND, &mask, 64, 0)) {
		perror("cram_bench: setup");
		return 1;
	}
	for (i = 0; i < pages; i++)
		fill(map + i * PAGE, i);

	spent = push_out(map, pages, dram);
	moved = count(map, pages, target);
	if (spent < 0 || moved <= 0) {
		fprintf(stderr, "cram_bench: %s: nothing moved to %d (%ld)\n",
			label, target, moved);
		return 1;
	}
	printf("%s pages_moved %ld\n", label, moved);
	printf("%s reclaim_ns_per_page %ld\n", label, spent / moved);

	f = faults();
	t = now_ns();
	for (i = 0; i < pages; i++)
		corrupt += *(volatile long *)(map + i * PAGE) != i;
	t = now_ns() - t;
	f = faults() - f;
	printf("%s read_faults_per_page %.3f\n", label, (double)f / pages);
	printf("%s read_ns_per_page %ld\n", label, t / pages);

	if (push_out(map, pages, dram) < 0)
		return 1;
	for (i = 0; i < pages; i++) {
		t = now_ns();
		*(volatile long *)(map + i * PAGE) = i;
		lat[i] = now_ns() - t;
	}
	qsort(lat, pages, sizeof(*lat), cmp_long);
	printf("%s write_p50_ns %ld\n", label, lat[pages / 2]);
	printf("%s write_p99_ns %ld\n", label, lat[pages * 99 / 100]);
	{
		char *want = malloc(PAGE);

		for (i = 0; want && i < pages; i++) {
			fill(want, i);
			corrupt += memcmp(map + i * PAGE, want, PAGE) != 0;
		}
		free(want);
	}
	printf("%s corrupt %ld\n", label, corrupt);
	return corrupt ? 1 : 0;
}
