// SPDX-License-Identifier: GPL-2.0
/*
 * fault_bench - time anonymous page faults
 *
 * Each round maps 64 MiB of private anonymous memory (no THP), writes one
 * byte per page and unmaps it: the time of the round, over the number of
 * pages, is the cost of one fault, page allocation, zeroing and freeing.
 * An untimed first round warms up; the task is pinned to CPU 0.
 * Usage: fault_bench [ROUNDS]   (default 9)
 * Prints "fault_bench: round R ns_per_fault X.XX" per round, then
 * "fault_bench: median_ns_per_fault X.XX".
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define SIZE (64UL << 20)

static long page_size;

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* One round: the time per page in ns, or -1. */
static double round_ns(void)
{
	double t0 = now_ns();
	char *p;
	long i;

	p = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("fault_bench: mmap");
		return -1;
	}
	/* EINVAL: a kernel without THP, which is what we ask for anyway. */
	if (madvise(p, SIZE, MADV_NOHUGEPAGE) && errno != EINVAL) {
		perror("fault_bench: madvise");
		return -1;
	}
	for (i = 0; i < (long)SIZE; i += page_size)
		p[i] = 1;	/* munmap() may read p: the stores stay */
	if (munmap(p, SIZE)) {
		perror("fault_bench: munmap");
		return -1;
	}
	return (now_ns() - t0) / (SIZE / page_size);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 9;
	double *ns, median;
	cpu_set_t cpus;
	int r;

	if (rounds < 1) {
		fprintf(stderr, "usage: %s [ROUNDS]\n", argv[0]);
		return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	CPU_ZERO(&cpus);
	CPU_SET(0, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus)) {
		perror("fault_bench: sched_setaffinity");
		return 1;
	}
	ns = calloc(rounds, sizeof(*ns));
	if (!ns || round_ns() < 0)
		return 1;
	for (r = 0; r < rounds; r++) {
		ns[r] = round_ns();
		if (ns[r] < 0)
			return 1;
	}
	for (r = 0; r < rounds; r++)
		printf("fault_bench: round %d ns_per_fault %.2f\n", r + 1, ns[r]);
	qsort(ns, rounds, sizeof(*ns), cmp_double);
	median = rounds % 2 ? ns[rounds / 2] : (ns[rounds / 2 - 1] + ns[rounds / 2]) / 2;
	printf("fault_bench: median_ns_per_fault %.2f\n", median);
	return 0;
}
