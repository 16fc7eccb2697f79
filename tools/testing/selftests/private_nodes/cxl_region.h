/* SPDX-License-Identifier: GPL-2.0 */
/*
 * CXL RAM regions for the private-nodes selftests: made and torn down
 * through raw sysfs (what the kernel offers, with no tool in between) or
 * with cxl-cli (what users type), and their sysram_region's state.
 *
 * The lab has one CXL type-3 volatile device (mem0) behind one root
 * decoder (decoder0.0); a region spans all of its RAM. Every guest access
 * to that memory is emulated I/O under TCG (about 1.4 MiB/s written,
 * 18 MiB/s read): tests keep the data they put there to a few MiB.
 *
 * Functions return 0 or a negative errno, and never exit.
 */
#ifndef PRIVATE_NODES_CXL_REGION_H
#define PRIVATE_NODES_CXL_REGION_H

#include <stdbool.h>
#include <stddef.h>

#define CXL_DEVICES	"/sys/bus/cxl/devices/"
#define CXL_ROOT_DECODER	"decoder0.0"
#define CXL_MEMDEV	"mem0"
#define CXL_NAME_LEN	32

/* The endpoint decoder of mem0 that a region uses (decoderN.0). */
int cxl_endpoint_decoder(char *name, size_t len);
/* The RAM capacity of mem0, in bytes, or -errno. */
long long cxl_ram_size(void);

/*
 * A committed RAM region of @size bytes over mem0, made through sysfs:
 * create_ram_region, geometry, DPA, target, commit. Its name goes to
 * @name. @ram_type ("dax" or "sysram") is set before the driver binds.
 * The driver is bound unless @bind is false.
 */
int cxl_region_create_sysfs(char *name, size_t len, long long size,
			    const char *ram_type, bool bind);
/* Undo cxl_region_create_sysfs(): unbind, reset, delete, free the DPA. */
int cxl_region_destroy_sysfs(const char *name);

/* Bind or unbind the cxl_region driver. */
int cxl_region_bind(const char *name, bool bind);

/* A region attribute (regionN/@attr) read into @buf, newline dropped. */
int cxl_region_attr(const char *name, const char *attr, char *buf, size_t len);
/* Write @val to regionN/@attr. */
int cxl_region_attr_write(const char *name, const char *attr, const char *val);

/*
 * sysram_regionN/state of region @name ("unplugged", "online_movable",
 * "private", ...) into @buf, or write it.
 */
int cxl_sysram_state(const char *name, char *buf, size_t len);
int cxl_sysram_set_state(const char *name, const char *state);
/* sysram_regionN/target_node, or -errno. */
int cxl_sysram_node(const char *name);

/* The regions that exist now (regionN under the root decoder). */
int cxl_region_count(void);

/* The PCI function (BDF) behind mem0. */
int cxl_memdev_bdf(char *bdf, size_t len);
/* The PCI driver bound to @bdf now ("" if none) into @drv. */
int cxl_pci_driver(const char *bdf, char *drv, size_t len);
/*
 * Bind @bdf to the PCI driver @drv (driver_override, unbind, probe) and
 * wait until mem0 and its endpoint decoder are back: 0, -ETIMEDOUT, or
 * -errno.
 */
int cxl_pci_rebind(const char *bdf, const char *drv);

#endif /* PRIVATE_NODES_CXL_REGION_H */
