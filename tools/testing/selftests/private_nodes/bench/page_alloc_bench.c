// SPDX-License-Identifier: GPL-2.0
/*
 * page_alloc_bench - time the order-0 page allocator
 *
 * Loading the module runs the benchmark; it then only waits to be removed.
 * Each of @rounds rounds times two loops with ktime_get_ns():
 *   - @iters alloc_page(GFP_KERNEL) / __free_page() pairs, one page at a
 *     time (the per-cpu list fast path);
 *   - @iters pages allocated BATCH at a time, then freed BATCH at a time,
 *     which empties and refills the per-cpu lists from the buddy lists.
 * Preemption and interrupts are left as they are. An untimed first pass
 * of each loop warms up. Figures are printed in ns with two decimals:
 *   page_alloc_bench: round R ns_per_pair X.XX
 *   page_alloc_bench: round R batch64_ns_per_page X.XX
 * and then the median of each over the rounds.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/gfp.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>

#define BATCH 64

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Timed rounds of each loop (default 7)");
static unsigned int iters = 200000;
module_param(iters, uint, 0444);
MODULE_PARM_DESC(iters, "Pages allocated and freed per loop and round (default 200000)");

static struct page *batch[BATCH];

/* @n pairs of alloc_page() and __free_page(): the time per pair in ns * 100. */
static int single_loop(unsigned int n, u64 *cns)
{
	struct page *page;
	unsigned int i;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < n; i++) {
		page = alloc_page(GFP_KERNEL);
		if (!page)
			return -ENOMEM;
		__free_page(page);
	}
	*cns = div64_u64((ktime_get_ns() - t0) * 100, n);
	return 0;
}

/* @n pages (rounded up to BATCH) in batches: the time per page in ns * 100. */
static int batch_loop(unsigned int n, u64 *cns)
{
	unsigned int b, i, nb = DIV_ROUND_UP(n, BATCH);
	u64 t0;

	t0 = ktime_get_ns();
	for (b = 0; b < nb; b++) {
		for (i = 0; i < BATCH; i++) {
			batch[i] = alloc_page(GFP_KERNEL);
			if (!batch[i])
				break;
		}
		if (i < BATCH) {
			while (i--)
				__free_page(batch[i]);
			return -ENOMEM;
		}
		for (i = 0; i < BATCH; i++)
			__free_page(batch[i]);
	}
	*cns = div64_u64((ktime_get_ns() - t0) * 100, (u64)nb * BATCH);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Sorts @v in place; the median, in ns * 100. */
static u64 median(u64 *v, unsigned int n)
{
	sort(v, n, sizeof(*v), cmp_u64, NULL);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int __init page_alloc_bench_init(void)
{
	u64 *single, *batched, cns;
	unsigned int r;
	int ret;

	if (!rounds || !iters)
		return -EINVAL;
	single = kcalloc(2 * rounds, sizeof(*single), GFP_KERNEL);
	if (!single)
		return -ENOMEM;
	batched = single + rounds;

	/* Untimed warm-up, then the rounds; printed after, not between. */
	ret = single_loop(iters, &cns) ?: batch_loop(iters, &cns);
	for (r = 0; r < rounds && !ret; r++) {
		cond_resched();
		ret = single_loop(iters, &single[r]) ?:
		      batch_loop(iters, &batched[r]);
	}
	if (ret) {
		pr_err("page allocation failed\n");
		goto out;
	}
	for (r = 0; r < rounds; r++) {
		pr_info("round %u ns_per_pair %llu.%02llu\n", r + 1,
			single[r] / 100, single[r] % 100);
		pr_info("round %u batch%u_ns_per_page %llu.%02llu\n", r + 1,
			BATCH, batched[r] / 100, batched[r] % 100);
	}
	cns = median(single, rounds);
	pr_info("median_ns_per_pair %llu.%02llu\n", cns / 100, cns % 100);
	cns = median(batched, rounds);
	pr_info("median_batch%u_ns_per_page %llu.%02llu\n", BATCH,
		cns / 100, cns % 100);
out:
	kfree(single);
	return ret;
}

static void __exit page_alloc_bench_exit(void)
{
}

module_init(page_alloc_bench_init);
module_exit(page_alloc_bench_exit);

MODULE_DESCRIPTION("Order-0 page allocator benchmark");
MODULE_LICENSE("GPL");
