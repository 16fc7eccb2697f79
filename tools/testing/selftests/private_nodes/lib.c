// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the private-nodes selftests: the test driver's debugfs
 * files, node sysfs files, page placement queries and memory pressure.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lib.h"
#include "test_modules/private_node_test.h"

#define PNT_DEBUGFS	"/sys/kernel/debug/private_node_test"
#define PNT_PARAMS	"/sys/module/private_node_test/parameters"
#define NODE_SYSFS	"/sys/devices/system/node"
#define MEMTIER_SYSFS	"/sys/devices/virtual/memory_tiering"
#define STAT_REFRESH	"/proc/sys/vm/stat_refresh"
#define MAX_CPUS	1024

int read_text(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	err = errno;
	close(fd);
	if (n < 0)
		return -err;
	buf[n] = '\0';
	return (int)n;
}

int write_text(const char *path, const char *s)
{
	size_t len = strlen(s);
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, s, len);
	if (n < 0)
		err = -errno;
	else if ((size_t)n != len)
		err = -EIO;
	close(fd);
	return err;
}

static int read_param(const char *name, long *val)
{
	char path[256], buf[64], *end;
	int ret;

	snprintf(path, sizeof(path), PNT_PARAMS "/%s", name);
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	errno = 0;
	*val = strtol(buf, &end, 0);
	if (errno || end == buf)
		return -EINVAL;
	return 0;
}

static int read_env(const char *name, long *val)
{
	const char *s = getenv(name);
	char *end;

	if (!s || !*s)
		return -ENOENT;
	errno = 0;
	*val = strtol(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	return 0;
}

int pnt_config(struct pnt_config *cfg)
{
	long pn, ps, cn, cs;

	if (!read_param("private_nid", &pn) && !read_param("private_size", &ps) &&
	    !read_param("control_nid", &cn) && !read_param("control_size", &cs)) {
		cfg->private_size = (unsigned long)ps;
		cfg->control_size = (unsigned long)cs;
	} else if (!read_env("PRIVATE_NID", &pn) && !read_env("PRIVATE_SIZE_MB", &ps) &&
		   !read_env("CONTROL_NID", &cn) && !read_env("CONTROL_SIZE_MB", &cs)) {
		cfg->private_size = (unsigned long)ps * MIB;
		cfg->control_size = (unsigned long)cs * MIB;
	} else {
		return -ENOENT;
	}
	if (pn < 0 || pn >= (long)MASK_BITS || cn < 0 || cn >= (long)MASK_BITS)
		return -ERANGE;
	cfg->private_nid = (int)pn;
	cfg->control_nid = (int)cn;
	return 0;
}

bool pnt_driver_loaded(void)
{
	return access(PNT_DEBUGFS "/private", F_OK) == 0;
}

int pnt_counters_read(struct pnt_counters *c)
{
#define KEY(name, field) { name, offsetof(struct pnt_counters, field) }
	static const struct {
		const char *name;
		size_t offset;
	} keys[] = {
		KEY("allocated", allocated), KEY("freed_folios", freed_folios),
		KEY("freed_pages", freed_pages), KEY("freed_bad", freed_bad),
		KEY("split_new", split_new), KEY("split_done", split_done),
		KEY("split_bad", split_bad),
		KEY("migrate_to_calls", migrate_to_calls),
		KEY("migrate_to_folios", migrate_to_folios),
		KEY("folio_migrate_in", migrate_in),
		KEY("folio_migrate_out", migrate_out),
		KEY("folio_migrate_bad", migrate_bad),
		KEY("folio_migrate_within", migrate_within),
		KEY("demoted", demoted), KEY("demotion_refused", demotion_refused),
		KEY("write_faults", write_faults),
		KEY("write_faults_pmd", write_faults_pmd),
		KEY("write_faults_bad", write_faults_bad),
		KEY("promoted", promoted), KEY("promote_failed", promote_failed),
		KEY("reclaim_policy", reclaim_policy),
		KEY("mf_hard", mf_hard), KEY("mf_soft", mf_soft),
	};
#undef KEY
	const size_t nkeys = ARRAY_SIZE(keys);
	char buf[2048], key[32], *line, *save = NULL;
	unsigned long long found = 0;
	unsigned int i;
	long v;
	int ret;

	ret = read_text(PNT_DEBUGFS "/counters", buf, sizeof(buf));
	if (ret < 0)
		return ret;
	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (sscanf(line, "%31s %ld", key, &v) != 2)
			return -EINVAL;
		for (i = 0; i < nkeys; i++) {
			if (!strcmp(key, keys[i].name)) {
				*(long *)((char *)c + keys[i].offset) = v;
				found |= 1ULL << i;
			}
		}
	}
	/* Every counter must be there: an older driver is a setup error. */
	return found == (1ULL << nkeys) - 1 ? 0 : -ENODATA;
}

long pnt_migrate(int fd, void *addr, size_t len, bool huge)
{
	struct pnt_migrate m = {
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = huge ? PNT_MIGRATE_HUGE : 0,
	};

	if (ioctl(fd, PNT_IOC_MIGRATE, &m))
		return -errno;
	return (long)m.migrated;
}

int pnt_counters_reset(void)
{
	return write_text(PNT_DEBUGFS "/counters", "0");
}

int pnt_private_with_ops(unsigned long flags)
{
	char buf[32];
	long known;
	int ret;

	ret = read_param("np_ops_supported", &known);
	if (ret)
		return ret;
	if (flags & ~(unsigned long)known)
		return -EOPNOTSUPP;
	ret = pnt_range_ensure("private", false);
	if (ret)
		return ret;
	snprintf(buf, sizeof(buf), "%lu", flags);
	ret = write_text(PNT_PARAMS "/np_ops", buf);
	return ret ? ret : pnt_range_write("private", "add");
}

int pnt_param_write(const char *name, long val)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), PNT_PARAMS "/%s", name);
	snprintf(buf, sizeof(buf), "%ld", val);
	return write_text(path, buf);
}

int pnt_spare_nid(const struct pnt_config *cfg)
{
	unsigned long possible, mem, priv = 0;
	int nid;

	if (nodelist_mask("possible", &possible) ||
	    nodelist_mask("has_memory", &mem))
		return -ENOENT;
	/* Absent on a kernel without the series: no private node then. */
	nodelist_mask("has_private_memory", &priv);
	possible &= ~(mem | priv);
	for (nid = 0; nid < (int)MASK_BITS; nid++)
		if ((possible & (1UL << nid)) && nid != cfg->private_nid &&
		    nid != cfg->control_nid)
			return nid;
	return -ENOENT;
}

int pnt_range_write(const char *range, const char *cmd)
{
	char path[256];

	snprintf(path, sizeof(path), PNT_DEBUGFS "/%s", range);
	return write_text(path, cmd);
}

int pnt_range_state(const char *range)
{
	char path[256], buf[32];
	int ret;

	snprintf(path, sizeof(path), PNT_DEBUGFS "/%s", range);
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	if (!strcmp(buf, "online\n"))
		return 1;
	if (!strcmp(buf, "offline\n"))
		return 0;
	return -EINVAL;
}

int pnt_range_ensure(const char *range, bool online)
{
	int state = pnt_range_state(range);

	if (state < 0)
		return state;
	if (state == online)
		return 0;
	return pnt_range_write(range, online ? "add" : "remove");
}

long node_meminfo_kb(int nid, const char *field)
{
	char path[256], line[256], key[64];
	long val, ret = -ENODATA;
	FILE *f;
	int n;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%d/meminfo", nid);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d %63[^:]: %ld", &n, key, &val) == 3 &&
		    n == nid && !strcmp(key, field)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

/*
 * One refresh of the vm counters on every CPU: folds the per-cpu diffs
 * and counts down the drain of remote per-cpu page lists (a node without
 * CPUs, like a private node, is remote to all of them). Without
 * /proc/sys/vm/stat_refresh, wait for the vmstat worker (once a second).
 * Returns true if it did a refresh, false if it waited.
 */
static bool vm_refresh(void)
{
	int fd = open(STAT_REFRESH, O_WRONLY);
	bool done;

	if (fd < 0) {
		sleep(1);
		return false;
	}
	done = write(fd, "1", 1) == 1;
	close(fd);
	if (!done)
		sleep(1);
	return done;
}

void vm_counters_fold(void)
{
	vm_refresh();
}

long node_free_settled_kb(int nid, long want)
{
	long cur, last = -1;
	int i, stable = 0;

	/*
	 * Remote per-cpu lists give back one batch every fourth refresh,
	 * so "stable" needs more than four unchanged refreshes, or seconds.
	 */
	for (i = 0; i < 2000; i++) {
		bool refreshed = vm_refresh();
		int window = refreshed ? 12 : 6;

		cur = node_meminfo_kb(nid, "MemFree");
		if (cur < 0)
			return cur;
		if (want >= 0 && cur == want)
			return cur;
		if (cur == last) {
			if (++stable >= window)
				return cur;
		} else {
			stable = 0;
		}
		last = cur;
		if (!refreshed && i >= 120)
			break;
	}
	return last;
}

/* Parse a "0-3,5" list into @bits (@nbits wide). */
static int parse_list(const char *s, unsigned char *bits, int nbits)
{
	memset(bits, 0, (size_t)nbits);
	while (*s && *s != '\n') {
		char *end;
		long a = strtol(s, &end, 10), b;

		if (end == s || a < 0)
			return -EINVAL;
		b = a;
		s = end;
		if (*s == '-') {
			b = strtol(s + 1, &end, 10);
			if (end == s + 1 || b < a)
				return -EINVAL;
			s = end;
		}
		if (b >= nbits)
			return -ERANGE;
		for (; a <= b; a++)
			bits[a] = 1;
		if (*s == ',')
			s++;
		else if (*s && *s != '\n')
			return -EINVAL;
	}
	return 0;
}

int nodelist_mask(const char *file, unsigned long *mask)
{
	unsigned char bits[MASK_BITS];
	char path[256], buf[256];
	unsigned int i;
	int ret;

	snprintf(path, sizeof(path), NODE_SYSFS "/%s", file);
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ret = parse_list(buf, bits, (int)MASK_BITS);
	if (ret)
		return ret;
	*mask = 0;
	for (i = 0; i < MASK_BITS; i++)
		if (bits[i])
			*mask |= 1UL << i;
	return 0;
}

long proc_value(const char *file, const char *name)
{
	char line[256], key[64];
	long val, ret = -ENODATA;
	FILE *f = fopen(file, "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63[^: ]%*[: ]%ld", key, &val) == 2 &&
		    !strcmp(key, name)) {
			ret = val;
			break;
		}
	}
	fclose(f);
	return ret;
}

int memtier_of_node(int nid)
{
	unsigned char bits[MASK_BITS];
	char path[512], buf[256];
	int tier, ret = -ENOENT;
	struct dirent *d;
	DIR *dir;

	dir = opendir(MEMTIER_SYSFS);
	if (!dir)
		return -errno;
	while (ret == -ENOENT && (d = readdir(dir))) {
		if (sscanf(d->d_name, "memory_tier%d", &tier) != 1)
			continue;
		snprintf(path, sizeof(path), MEMTIER_SYSFS "/%s/nodelist",
			 d->d_name);
		if (read_text(path, buf, sizeof(buf)) < 0 ||
		    parse_list(buf, bits, (int)MASK_BITS))
			continue;
		if (nid >= 0 && nid < (int)MASK_BITS && bits[nid])
			ret = tier;
	}
	closedir(dir);
	return ret;
}

int nodelist_has(const char *file, int nid)
{
	unsigned long mask;
	int ret = nodelist_mask(file, &mask);

	if (ret)
		return ret;
	return !!(mask & (1UL << nid));
}

int pages_status(void *addr, size_t npages, int *status)
{
	size_t i, psz = psize();
	void **pages;
	int ret = 0;

	pages = malloc(npages * sizeof(*pages));
	if (!pages)
		return -ENOMEM;
	for (i = 0; i < npages; i++) {
		pages[i] = (char *)addr + i * psz;
		status[i] = INT32_MIN;
	}
	if (move_pages(0, npages, pages, NULL, status, 0))
		ret = -errno;
	free(pages);
	return ret;
}

long pages_on_node(void *addr, size_t len, int nid)
{
	size_t i, npages = len / psize();
	long count = 0;
	int *status, ret;

	status = malloc(npages * sizeof(*status));
	if (!status)
		return -ENOMEM;
	ret = pages_status(addr, npages, status);
	if (ret) {
		free(status);
		return ret;
	}
	for (i = 0; i < npages; i++)
		if (status[i] == nid)
			count++;
	free(status);
	return count;
}

bool pages_all_on(void *addr, size_t len, int nid)
{
	return pages_on_node(addr, len, nid) == (long)(len / psize());
}

int pages_pfns(void *addr, size_t npages, uint64_t *pfns)
{
	unsigned long pfn;
	size_t i;
	int fd;

	fd = open("/proc/self/pagemap", O_RDONLY);
	if (fd < 0)
		return -errno;
	for (i = 0; i < npages; i++) {
		pfn = pagemap_get_pfn(fd, (char *)addr + i * psize());
		pfns[i] = pfn == -1UL ? 0 : pfn;
	}
	close(fd);
	return 0;
}

int pfn_kpageflags(uint64_t pfn, uint64_t *flags)
{
	int fd, ret;

	fd = open("/proc/kpageflags", O_RDONLY);
	if (fd < 0)
		return -errno;
	ret = pageflags_get(pfn, fd, flags) ? -EIO : 0;
	close(fd);
	return ret;
}

long pages_with_kpageflags(void *addr, size_t npages, uint64_t mask)
{
	uint64_t *pfns, flags;
	long count = 0;
	size_t i;
	int ret;

	pfns = calloc(npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	ret = pages_pfns(addr, npages, pfns);
	for (i = 0; !ret && i < npages; i++) {
		if (!pfns[i])
			continue;
		ret = pfn_kpageflags(pfns[i], &flags);
		if (!ret && (flags & mask))
			count++;
	}
	free(pfns);
	return ret ? ret : count;
}

void touch_pages(void *addr, size_t len)
{
	size_t off, psz = psize();

	for (off = 0; off < len; off += psz)
		((volatile char *)addr)[off] = 1;
}

/*
 * The highest entry of a zoneinfo "protection: (a, b, ...)" line: the
 * lowmem reserve that guards the zone against any allocation.
 */
static long zone_protection(const char *line)
{
	const char *p = strchr(line, '(') + 1;
	long prot = 0;

	while (*p && *p != ')') {
		char *end;
		long r = strtol(p, &end, 10);

		if (end == p)
			break;
		if (r > prot)
			prot = r;
		p = end;
		while (*p == ',' || *p == ' ')
			p++;
	}
	return prot;
}

long node_headroom_kb(int nid)
{
	struct zone_state z[MAX_ZONES];
	int i, n = node_zones(nid, z, MAX_ZONES);
	long pages = 0;

	if (n < 0)
		return n;
	/* zoneinfo's "low" already counts the zone's watermark boost. */
	for (i = 0; i < n; i++)
		if (z[i].free > z[i].low + z[i].protection)
			pages += z[i].free - z[i].low - z[i].protection;
	return pages * (long)(psize() / KIB);
}

int node_zones(int nid, struct zone_state *z, int max)
{
	int node = -1, n, count = 0;
	char line[256], zone[32];
	struct zone_state *cur = NULL;
	unsigned long v;
	FILE *f;

	f = fopen("/proc/zoneinfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &n, zone) == 2) {
			node = n;
			cur = NULL;
			if (node == nid && count < max) {
				cur = &z[count++];
				memset(cur, 0, sizeof(*cur));
			}
		} else if (!cur) {
			continue;
		} else if (sscanf(line, " pages free %lu", &v) == 1) {
			cur->free = (long)v;
		} else if (sscanf(line, " min %lu", &v) == 1) {
			cur->min = (long)v;
		} else if (sscanf(line, " low %lu", &v) == 1) {
			cur->low = (long)v;
		} else if (sscanf(line, " high %lu", &v) == 1) {
			cur->high = (long)v;
		} else if (sscanf(line, " managed %lu", &v) == 1) {
			cur->managed = (long)v;
		} else if (strstr(line, "protection: (")) {
			cur->protection = zone_protection(line);
		} else if (sscanf(line, " node_unreclaimable: %lu", &v) == 1) {
			cur->unreclaimable = v != 0;
		}
	}
	fclose(f);
	return count;
}

int node_balanced(int nid)
{
	struct zone_state z[MAX_ZONES];
	int i, n = node_zones(nid, z, MAX_ZONES);

	/* As pgdat_balanced(), with the reserve against any allocation. */
	for (i = 0; i < n; i++)
		if (z[i].managed && z[i].free >= z[i].high + z[i].protection)
			return 1;
	return n < 0 ? n : 0;
}

int node_kswapd_hopeless(int nid)
{
	struct zone_state z[MAX_ZONES];
	int i, n = node_zones(nid, z, MAX_ZONES);

	/* Only populated zones print it. */
	for (i = 0; i < n; i++)
		if (z[i].managed)
			return z[i].unreclaimable;
	return n < 0 ? n : -ENOENT;
}

int pin_to_this_cpu(void)
{
	int cpu = sched_getcpu();
	cpu_set_t set;

	if (cpu < 0)
		return -errno;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set) ? -errno : 0;
}

int pin_to_node(int nid)
{
	unsigned char bits[MAX_CPUS];
	char path[256], buf[1024];
	cpu_set_t set;
	int i, ret, n = 0;

	snprintf(path, sizeof(path), NODE_SYSFS "/node%d/cpulist", nid);
	ret = read_text(path, buf, sizeof(buf));
	if (ret < 0)
		return ret;
	ret = parse_list(buf, bits, MAX_CPUS);
	if (ret)
		return ret;
	CPU_ZERO(&set);
	for (i = 0; i < MAX_CPUS && i < CPU_SETSIZE; i++) {
		if (bits[i]) {
			CPU_SET(i, &set);
			n++;
		}
	}
	if (!n)
		return -ENODEV;
	if (sched_setaffinity(0, sizeof(set), &set))
		return -errno;
	return 0;
}

void *mmap_hpage_aligned(size_t len, int flags)
{
	char *raw, *p;

	raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | flags, -1, 0);
	if (raw == MAP_FAILED)
		return MAP_FAILED;
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (p > raw)
		munmap(raw, p - raw);
	munmap(p + len, raw + HPAGE - p);
	return p;
}

int pressure_fill(struct pressure *p, int nid, long headroom_kb)
{
	unsigned long mask = 1UL << nid;
	long total = node_meminfo_kb(nid, "MemTotal");

	p->addr = NULL;
	p->len = p->used = 0;
	if (total < 0)
		return (int)total;
	/* 2 MiB aligned, so that a step never straddles a huge page. */
	p->len = (size_t)total * KIB;
	p->addr = mmap_hpage_aligned(p->len, MAP_NORESERVE);
	if (p->addr == MAP_FAILED) {
		p->addr = NULL;
		return -errno;
	}
	if (mbind(p->addr, p->len, MPOL_BIND, &mask, MASK_MAXNODE, 0)) {
		int err = -errno;

		pressure_release(p);
		return err;
	}
	return pressure_topup(p, nid, headroom_kb);
}

int pressure_topup(struct pressure *p, int nid, long headroom_kb)
{
	for (;;) {
		long h = node_headroom_kb(nid);
		size_t step;

		if (h < 0)
			return (int)h;
		if (h <= headroom_kb)
			break;
		/* Steps of whole huge pages, at most 16 MiB between checks. */
		step = (size_t)(h - headroom_kb) * KIB;
		if (step > 16 * MIB)
			step = 16 * MIB;
		step &= ~(HPAGE - 1);
		if (!step || p->used + step > p->len)
			break;
		touch_pages((char *)p->addr + p->used, step);
		p->used += step;
	}
	return 0;
}

void pressure_release(struct pressure *p)
{
	if (p->addr)
		munmap(p->addr, p->len);
	p->addr = NULL;
	p->len = p->used = 0;
}

int node_reclaim_anon(int nid, size_t bytes)
{
	char path[128], req[64];

	snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/reclaim",
		 nid);
	snprintf(req, sizeof(req), "%zu swappiness=max", bytes);
	return write_text(path, req);
}

void drop_slab_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	if (fd < 0)
		return;
	if (write(fd, "2", 1) != 1) {
		/* Nothing to do: the slab goes under pressure anyway. */
	}
	close(fd);
}

/* 1 if some swap is in use, per /proc/swaps (a header line, then one each). */
static int swap_in_use(void)
{
	char buf[1024];
	int ret = read_text("/proc/swaps", buf, sizeof(buf));

	return ret < 0 ? ret : strchr(buf, '\n') && strchr(buf, '\n')[1];
}

int zram_swap_add(void)
{
	char *const argv[] = { "mkswap", ZRAM_DEV, NULL };
	char out[512];
	int ret;

	ret = swap_in_use();
	if (ret)
		return ret < 0 ? ret : 0;
	/* A zram device is sized once; EBUSY if it already was. */
	ret = write_text("/sys/block/zram0/disksize", "64M");
	if (ret && ret != -EBUSY)
		return ret;
	ret = run_capture(argv, out, sizeof(out));
	if (ret)
		return ret < 0 ? ret : -EIO;
	return swapon(ZRAM_DEV, 0) ? -errno : 1;
}

int zram_swap_remove(void)
{
	return swapoff(ZRAM_DEV) ? -errno : 0;
}

long minor_faults(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

long proc_value_await(const char *file, const char *name, long want,
		      long timeout_ms)
{
	long deadline = now_ms() + timeout_ms, v;

	while ((v = proc_value(file, name)) != want && now_ms() < deadline)
		usleep(10000);
	return v;
}

int tmp_mount(const char *fstype, const char *opts, char *dir, size_t len)
{
	if (mkdir("/tmp", 01777) && errno != EEXIST)
		return -errno;
	snprintf(dir, len, "/tmp/pnt-%s.XXXXXX", fstype);
	if (!mkdtemp(dir))
		return -errno;
	if (mount(fstype, dir, fstype, 0, opts)) {
		int err = -errno;

		rmdir(dir);
		return err;
	}
	return 0;
}

void tmp_umount(const char *dir)
{
	if (umount(dir))
		umount2(dir, MNT_DETACH);
	rmdir(dir);
}

int self_exe(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

int run_capture(char *const argv[], char *out, size_t len)
{
	size_t got = 0;
	int fds[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(fds))
		return -errno;
	pid = fork();
	if (pid < 0) {
		int err = -errno;

		close(fds[0]);
		close(fds[1]);
		return err;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);

		if (null >= 0)
			dup2(null, 0);
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	/* Read to the end even if @out is full, so the child never blocks. */
	for (;;) {
		char scratch[256];
		char *dst = got + 1 < len ? out + got : scratch;
		size_t room = got + 1 < len ? len - 1 - got : sizeof(scratch);

		n = read(fds[0], dst, room);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (dst != scratch)
			got += (size_t)n;
	}
	close(fds[0]);
	if (len)
		out[got] = '\0';
	if (waitpid(pid, &status, 0) != pid)
		return -errno;
	return status;
}

/* --pnt-hog BYTES NID: see lib.h. */
static int hog_main(int argc, char **argv)
{
	size_t len;
	long on;
	char c;
	void *p;

	if (argc != 4)
		return 2;
	len = strtoul(argv[2], NULL, 0) & ~(psize() - 1);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	touch_pages(p, len);
	on = pages_on_node(p, len, atoi(argv[3]));
	if (on < 0)
		return 1;
	printf("%ld %zu\n", on, len / psize());
	fflush(stdout);
	/* Hold the memory until the parent has measured. */
	while (read(0, &c, 1) > 0)
		;
	munmap(p, len);
	return 0;
}

/* Fresh anonymous base pages, written. */
static char *tldr_map(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	madvise(p, len, MADV_NOHUGEPAGE);
	return p;
}

/* --pnt-tldr NID: see lib.h. */
static int tldr_main(int argc, char **argv)
{
	size_t i, n = TLDR_PAGES, len = TLDR_PAGES * psize();
	int nodes[TLDR_PAGES], status[TLDR_PAGES], nid, bad = 0;
	size_t big = 256 * MIB;
	void *pages[TLDR_PAGES];
	unsigned long mask;
	char *p;
	long on;

	if (argc != 3)
		return 2;
	nid = atoi(argv[2]);
	mask = 1UL << nid;

	p = tldr_map(len);
	if (!p)
		return 2;
	if (mbind(p, len, MPOL_BIND, &mask, MASK_MAXNODE, 0)) {
		printf("mbind(MPOL_BIND, node %d): %s\n", nid, strerror(errno));
		bad++;
	} else {
		touch_pages(p, len);
		on = pages_on_node(p, len, nid);
		printf("mbind(MPOL_BIND, node %d), then fault: %ld of %zu pages on node %d\n",
		       nid, on, n, nid);
		bad += on != (long)n;
	}

	p = malloc(big);
	if (!p)
		return 2;
	memset(p, 1, big);
	on = pages_on_node(p, big, nid);
	printf("malloc(256 MiB), written: %ld of %lu pages on node %d\n",
	       on, big / psize(), nid);
	bad += on != 0;
	free(p);

	p = tldr_map(len);
	if (!p)
		return 2;
	touch_pages(p, len);
	for (i = 0; i < n; i++) {
		pages[i] = p + i * psize();
		nodes[i] = nid;
	}
	if (move_pages(0, n, pages, nodes, status, MPOL_MF_MOVE)) {
		printf("move_pages() to node %d: %s\n", nid, strerror(errno));
		bad++;
	} else {
		on = pages_on_node(p, len, nid);
		printf("move_pages() to node %d: %ld of %zu pages on node %d\n",
		       nid, on, n, nid);
		bad += on != (long)n;
	}
	fflush(stdout);
	return bad ? 1 : 0;
}

int pnt_helper_main(int argc, char **argv)
{
	if (!strcmp(argv[1], "--pnt-true"))
		return 0;
	if (!strcmp(argv[1], "--pnt-hog"))
		return hog_main(argc, argv);
	if (!strcmp(argv[1], "--pnt-tldr"))
		return tldr_main(argc, argv);
	fprintf(stderr, "unknown helper mode %s\n", argv[1]);
	return 2;
}

int tunable_set(struct tunable *t, const char *path, const char *val)
{
	char buf[sizeof(t->saved)], *s, *e;
	int ret;

	if (!t->changed) {
		ret = read_text(path, buf, sizeof(buf));
		if (ret < 0)
			return ret;
		/* A choice ("always [madvise] never") saves its selection. */
		s = strchr(buf, '[');
		e = s ? strchr(s, ']') : NULL;
		if (s && e) {
			s++;
			*e = '\0';
		} else {
			s = buf;
			s[strcspn(s, "\n")] = '\0';
		}
		snprintf(t->saved, sizeof(t->saved), "%s", s);
		snprintf(t->path, sizeof(t->path), "%s", path);
	}
	ret = write_text(path, val);
	if (!ret)
		t->changed = true;
	return ret;
}

void tunable_restore(struct tunable *t)
{
	if (t->changed && write_text(t->path, t->saved))
		ksft_print_msg("could not restore %s to %s\n", t->path, t->saved);
	t->changed = false;
}

int numa_scan_fast(struct tunable t[NUMA_SCAN_TUNABLES])
{
	static const char * const knob[NUMA_SCAN_TUNABLES][2] = {
		{ "scan_delay_ms", "0" },
		{ "scan_period_min_ms", "100" },
		{ "scan_period_max_ms", "400" },
		{ "hot_threshold_ms", "100000" },
	};
	char path[128];
	int i, ret;

	for (i = 0; i < NUMA_SCAN_TUNABLES; i++) {
		snprintf(path, sizeof(path),
			 "/sys/kernel/debug/sched/numa_balancing/%s", knob[i][0]);
		ret = tunable_set(&t[i], path, knob[i][1]);
		if (ret)
			return ret;
	}
	return 0;
}

void numa_scan_restore(struct tunable t[NUMA_SCAN_TUNABLES])
{
	int i;

	for (i = 0; i < NUMA_SCAN_TUNABLES; i++)
		tunable_restore(&t[i]);
}

/* Compressible: one word of the page's index, the rest a fixed pattern. */
void fill_text(char *page, long i)
{
	static const char line[] = "private nodes: compressed memory tier ";
	size_t off;

	for (off = 0; off < psize(); off += sizeof(line) - 1)
		memcpy(page + off, line, off + sizeof(line) - 1 <= psize() ?
		       sizeof(line) - 1 : psize() - off);
	*(long *)page = i;
}

/* Incompressible: xorshift64 from the page's index. */
void fill_random(char *page, long i)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (uint64_t)(i + 1);
	size_t off;

	for (off = 0; off < psize(); off += sizeof(x)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(page + off, &x, sizeof(x));
	}
	*(long *)page = i;
}

/*
 * Pages whose data differ from what @fill wrote, after a write of @who at
 * byte 8 of every @step-th page from @first (@step 0: no such write).
 */
long pages_changed(const char *map, size_t len,
			  void (*fill)(char *page, long i), long first,
			  long step, char who)
{
	char *want = malloc(psize());
	long i, bad = 0;

	if (!want)
		return -ENOMEM;
	for (i = 0; i < (long)(len / psize()); i++) {
		fill(want, i);
		if (step && i >= first && (i - first) % step == 0)
			want[8] = who;
		if (memcmp(map + i * psize(), want, psize()))
			bad++;
	}
	free(want);
	return bad;
}

/* Pages whose data differ from what @fill wrote. */
long pages_not_filled(const char *map, size_t len,
			  void (*fill)(char *page, long i))
{
	return pages_changed(map, len, fill, 0, 0, 0);
}
