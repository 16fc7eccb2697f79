/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The physical fill of an emulated compressed CXL memory device: what each
 * 4 KiB page the guest wrote would take on the media of a device with
 * inline compression, measured with LZ4 on the device's backing file.
 */
#ifndef CM_FILL_H
#define CM_FILL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CM_PAGE		4096u
/* Pages in a unit of change tracking: 2 MiB, the largest page cache folio. */
#define CM_CHUNK	512u
/* The media stores compressed pages in granules of this many bytes. */
#define CM_GRANULE	64u

struct cm_dev {
	int fd;
	const unsigned char *map;	/* the backing file, read-only */
	size_t npages;			/* advertised (logical) pages */
	uint16_t *stored;		/* media bytes of each page */
	uint16_t *lz4;			/* and its LZ4 bytes, unrounded */
	uint64_t physical;		/* their sum */
	uint64_t used_pages;		/* pages that are not all zero */
	uint64_t compressed;		/* LZ4 bytes of those, unrounded */
	bool dirty_tracking;		/* cachestat() works on the file */
	size_t sweep_next;		/* the sweep's next page */
	uint64_t measured;		/* pages measured, ever */
	uint64_t missed;		/* changed pages the dirty scan missed */
	char *cbuf;			/* LZ4 output */
	int cbuf_len;
};

/* Media bytes of one page: 0 if zero, else LZ4 size in granules, at most a page. */
unsigned int cm_page_cost(const void *page, char *cbuf, int cbuf_len,
			  unsigned int *lz4_bytes);

int cm_open(struct cm_dev *dev, const char *path, size_t size);
void cm_close(struct cm_dev *dev);
/* Measure every page (at start). */
void cm_measure_all(struct cm_dev *dev);
/*
 * Measure the pages written since the last call: every page of each
 * CM_CHUNK that the page cache holds dirty pages of, written back first
 * so that the next write dirties them again. Returns the number of pages
 * measured, or -errno.
 */
long cm_scan_dirty(struct cm_dev *dev);
/*
 * Measure @n more pages, round-robin over the device: the safety net for
 * pages cleaned by writeback the scan did not start (counted in ->missed),
 * and the whole method where the file has no dirty tracking.
 */
void cm_sweep(struct cm_dev *dev, size_t n);

/*
 * Watermarks with hysteresis: "above" from reaching @high until falling
 * to @low or below.
 */
struct cm_wmark {
	uint64_t high, low;
	bool above;
};
/* +1 on crossing the high watermark, -1 on the low one, else 0. */
int cm_wmark_update(struct cm_wmark *w, uint64_t fill);

#endif
