// SPDX-License-Identifier: GPL-2.0
/*
 * Change tracking: QEMU writes the guest's data into the backing file
 * through a shared mapping, so every page it writes is dirty in the host's
 * page cache until written back. cachestat() counts the dirty pages of a
 * range, one call per 2 MiB chunk. A chunk with any is written back with
 * sync_file_range(), which cleans its pages (and write-protects QEMU's
 * mapping of them) so that a later write dirties them again, and then
 * every page of it is measured. The unit is the chunk, not the page: the
 * page cache may hold the file in large folios (up to 2 MiB, aligned),
 * whose dirty state and writeback cover all their pages at once. The
 * writeback is only started, not waited for: a look must take a few
 * milliseconds, or pages stay dirty long enough for the kernel's flusher,
 * which writes back the file's dirty pages every few seconds once it has
 * been dirty for 30 s, to clean them first. The sweep catches those, and
 * counts them.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <lz4.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fill.h"

#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif

struct cachestat_range {
	uint64_t off;
	uint64_t len;
};

struct cachestat {
	uint64_t nr_cache;
	uint64_t nr_dirty;
	uint64_t nr_writeback;
	uint64_t nr_evicted;
	uint64_t nr_recently_evicted;
};

static const unsigned char zero_page[CM_PAGE];

unsigned int cm_page_cost(const void *page, char *cbuf, int cbuf_len,
			  unsigned int *lz4_bytes)
{
	int n;

	*lz4_bytes = 0;
	if (!memcmp(page, zero_page, CM_PAGE))
		return 0;
	n = LZ4_compress_default(page, cbuf, CM_PAGE, cbuf_len);
	if (n <= 0 || (unsigned int)n >= CM_PAGE) {
		*lz4_bytes = CM_PAGE;
		return CM_PAGE;	/* stored as is */
	}
	*lz4_bytes = n;
	n = (n + CM_GRANULE - 1) / CM_GRANULE * CM_GRANULE;
	return (unsigned int)n < CM_PAGE ? (unsigned int)n : CM_PAGE;
}

/* Measure page @i again; returns true if its cost changed. */
static bool measure(struct cm_dev *dev, size_t i)
{
	unsigned int old = dev->stored[i], lz4, cost;

	cost = cm_page_cost(dev->map + i * CM_PAGE, dev->cbuf, dev->cbuf_len,
			    &lz4);
	dev->measured++;
	dev->compressed += lz4;
	dev->compressed -= dev->lz4[i];
	dev->lz4[i] = lz4;
	if (cost == old)
		return false;
	dev->physical += cost;
	dev->physical -= old;
	dev->used_pages += !!cost;
	dev->used_pages -= !!old;
	dev->stored[i] = cost;
	return true;
}

static int cachestat_dirty(int fd, uint64_t off, uint64_t len, uint64_t *dirty)
{
	struct cachestat_range r = { .off = off, .len = len };
	struct cachestat cs = { 0 };

	*dirty = 0;
	if (syscall(__NR_cachestat, fd, &r, &cs, 0))
		return -errno;
	*dirty = cs.nr_dirty;
	return 0;
}

int cm_open(struct cm_dev *dev, const char *path, size_t size)
{
	uint64_t dirty;
	struct stat st;
	void *map;

	memset(dev, 0, sizeof(*dev));
	dev->fd = -1;
	if (!size || size % CM_PAGE)
		return -EINVAL;
	dev->fd = open(path, O_RDWR | O_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	if (fstat(dev->fd, &st) || (size_t)st.st_size < size) {
		cm_close(dev);
		return -ERANGE;
	}
	map = mmap(NULL, size, PROT_READ, MAP_SHARED, dev->fd, 0);
	if (map == MAP_FAILED) {
		cm_close(dev);
		return -ENOMEM;
	}
	dev->map = map;
	dev->npages = size / CM_PAGE;
	dev->cbuf_len = LZ4_compressBound(CM_PAGE);
	dev->cbuf = malloc(dev->cbuf_len);
	dev->stored = calloc(dev->npages, sizeof(*dev->stored));
	dev->lz4 = calloc(dev->npages, sizeof(*dev->lz4));
	if (!dev->cbuf || !dev->stored || !dev->lz4) {
		cm_close(dev);
		return -ENOMEM;
	}
	/*
	 * tmpfs (shm) pages are always dirty, and cachestat() may be
	 * missing: no dirty tracking then, only the sweep.
	 */
	dev->dirty_tracking = !cachestat_dirty(dev->fd, 0, size, &dirty) &&
			      !sync_file_range(dev->fd, 0, size,
					       SYNC_FILE_RANGE_WAIT_BEFORE |
					       SYNC_FILE_RANGE_WRITE |
					       SYNC_FILE_RANGE_WAIT_AFTER) &&
			      !cachestat_dirty(dev->fd, 0, size, &dirty) &&
			      !dirty;
	return 0;
}

void cm_close(struct cm_dev *dev)
{
	if (dev->map)
		munmap((void *)dev->map, dev->npages * CM_PAGE);
	if (dev->fd >= 0)
		close(dev->fd);
	free(dev->cbuf);
	free(dev->stored);
	free(dev->lz4);
	memset(dev, 0, sizeof(*dev));
	dev->fd = -1;
}

void cm_measure_all(struct cm_dev *dev)
{
	size_t i;

	for (i = 0; i < dev->npages; i++)
		measure(dev, i);
}

/* A chunk with dirty pages: clean it, then measure every page of it. */
static long scan_chunk(struct cm_dev *dev, size_t first, size_t n)
{
	uint64_t off = (uint64_t)first * CM_PAGE, dirty;
	size_t i;
	int ret;

	ret = cachestat_dirty(dev->fd, off, (uint64_t)n * CM_PAGE, &dirty);
	if (ret)
		return ret;
	if (!dirty)
		return 0;
	/* A folio under writeback already stays dirty: seen next look. */
	if (sync_file_range(dev->fd, off, (uint64_t)n * CM_PAGE,
			    SYNC_FILE_RANGE_WRITE))
		return -errno;
	for (i = first; i < first + n; i++)
		measure(dev, i);
	return n;
}

long cm_scan_dirty(struct cm_dev *dev)
{
	size_t i;
	long found = 0, ret;

	if (!dev->dirty_tracking)
		return 0;
	for (i = 0; i < dev->npages; i += CM_CHUNK) {
		ret = scan_chunk(dev, i, dev->npages - i < CM_CHUNK ?
					 dev->npages - i : CM_CHUNK);
		if (ret < 0)
			return ret;
		found += ret;
	}
	return found;
}

void cm_sweep(struct cm_dev *dev, size_t n)
{
	uint64_t dirty;
	size_t i;

	if (n > dev->npages)
		n = dev->npages;
	while (n--) {
		i = dev->sweep_next;
		dev->sweep_next = (i + 1) % dev->npages;
		/* A dirty page is the scan's: it is measured on its next pass. */
		if (dev->dirty_tracking &&
		    (cachestat_dirty(dev->fd, (uint64_t)i * CM_PAGE, CM_PAGE,
				     &dirty) || dirty))
			continue;
		if (measure(dev, i) && dev->dirty_tracking)
			dev->missed++;
	}
}

int cm_wmark_update(struct cm_wmark *w, uint64_t fill)
{
	if (!w->above && fill >= w->high) {
		w->above = true;
		return 1;
	}
	if (w->above && fill <= w->low) {
		w->above = false;
		return -1;
	}
	return 0;
}
