// SPDX-License-Identifier: GPL-2.0
/*
 * CXL RAM regions through raw sysfs, as Documentation/ABI/testing/
 * sysfs-bus-cxl describes them (see cxl_region.h).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxl_region.h"
#include "lib.h"

#define PCI_DEVICES	"/sys/bus/pci/devices/"
/* How long a CXL device takes to come back after a rebind, at most. */
#define REBIND_TIMEOUT_MS	60000

#define CXL_REGION_DRIVER	"/sys/bus/cxl/drivers/cxl_region/"

static int dev_read(const char *dev, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX];
	int ret;

	snprintf(path, sizeof(path), CXL_DEVICES "%s/%s", dev, attr);
	ret = read_text(path, buf, len);
	if (ret < 0)
		return ret;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static int dev_write(const char *dev, const char *attr, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), CXL_DEVICES "%s/%s", dev, attr);
	return write_text(path, val);
}

/* Is decoder @name an endpoint decoder of CXL_MEMDEV? */
static bool is_memdev_decoder(const char *name)
{
	char path[PATH_MAX], port[PATH_MAX], uport[PATH_MAX];
	char *slash;

	snprintf(path, sizeof(path), CXL_DEVICES "%s/dpa_size", name);
	if (access(path, F_OK))
		return false;	/* not an endpoint decoder */
	snprintf(path, sizeof(path), CXL_DEVICES "%s", name);
	if (!realpath(path, port))
		return false;
	slash = strrchr(port, '/');
	if (!slash)
		return false;
	strcpy(slash, "/uport");
	if (!realpath(port, uport))
		return false;
	slash = strrchr(uport, '/');
	return slash && !strcmp(slash + 1, CXL_MEMDEV);
}

int cxl_endpoint_decoder(char *name, size_t len)
{
	struct dirent *de;
	int ret = -ENOENT;
	DIR *dir;

	dir = opendir(CXL_DEVICES);
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);

		/* decoderN.0: a region of one device uses the first. */
		if (strncmp(de->d_name, "decoder", 7) || n < 2 ||
		    strcmp(de->d_name + n - 2, ".0"))
			continue;
		if (is_memdev_decoder(de->d_name)) {
			snprintf(name, len, "%s", de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(dir);
	return ret;
}

long long cxl_ram_size(void)
{
	char buf[64];
	int ret;

	ret = dev_read(CXL_MEMDEV, "ram/size", buf, sizeof(buf));
	if (ret)
		return ret;
	return strtoll(buf, NULL, 0);
}

int cxl_region_attr(const char *name, const char *attr, char *buf, size_t len)
{
	return dev_read(name, attr, buf, len);
}

int cxl_region_attr_write(const char *name, const char *attr, const char *val)
{
	return dev_write(name, attr, val);
}

int cxl_region_bind(const char *name, bool bind)
{
	return write_text(bind ? CXL_REGION_DRIVER "bind" :
				 CXL_REGION_DRIVER "unbind", name);
}

int cxl_region_create_sysfs(char *name, size_t len, long long size,
			    const char *ram_type, bool bind)
{
	char ep[CXL_NAME_LEN], gran[32], sz[32];
	int ret;

	ret = cxl_endpoint_decoder(ep, sizeof(ep));
	if (ret)
		return ret;
	/* Reading create_ram_region names the next region; writing makes it. */
	ret = dev_read(CXL_ROOT_DECODER, "create_ram_region", name, len);
	if (!ret)
		ret = dev_write(CXL_ROOT_DECODER, "create_ram_region", name);
	if (ret)
		return ret;
	snprintf(sz, sizeof(sz), "%lld", size);
	ret = dev_read(CXL_ROOT_DECODER, "interleave_granularity", gran,
		       sizeof(gran));
	if (!ret && ram_type)
		ret = dev_write(name, "ram_type", ram_type);
	if (!ret)
		ret = dev_write(name, "interleave_granularity", gran);
	if (!ret)
		ret = dev_write(name, "interleave_ways", "1");
	if (!ret)
		ret = dev_write(name, "size", sz);
	if (!ret)
		ret = dev_write(ep, "mode", "ram");
	if (!ret)
		ret = dev_write(ep, "dpa_size", sz);
	if (!ret)
		ret = dev_write(name, "target0", ep);
	if (!ret)
		ret = dev_write(name, "commit", "1");
	if (!ret && bind)
		ret = cxl_region_bind(name, true);
	if (ret)
		cxl_region_destroy_sysfs(name);
	return ret;
}

int cxl_region_destroy_sysfs(const char *name)
{
	char path[PATH_MAX], ep[CXL_NAME_LEN];
	int ret;

	snprintf(path, sizeof(path), CXL_REGION_DRIVER "%s", name);
	if (!access(path, F_OK)) {
		ret = cxl_region_bind(name, false);
		if (ret)
			return ret;
	}
	ret = dev_write(name, "commit", "0");
	if (ret)
		return ret;
	/* Deleting the region detaches its decoder; then free its DPA. */
	ret = dev_write(CXL_ROOT_DECODER, "delete_region", name);
	if (ret)
		return ret;
	if (!cxl_endpoint_decoder(ep, sizeof(ep)))
		ret = dev_write(ep, "dpa_size", "0");
	return ret;
}

static int sysram_dev(const char *name, char *dev, size_t len)
{
	int id;

	if (sscanf(name, "region%d", &id) != 1)
		return -EINVAL;
	snprintf(dev, len, "sysram_region%d", id);
	return 0;
}

int cxl_sysram_state(const char *name, char *buf, size_t len)
{
	char dev[CXL_NAME_LEN];
	int ret = sysram_dev(name, dev, sizeof(dev));

	return ret ? ret : dev_read(dev, "state", buf, len);
}

int cxl_sysram_set_state(const char *name, const char *state)
{
	char dev[CXL_NAME_LEN];
	int ret = sysram_dev(name, dev, sizeof(dev));

	return ret ? ret : dev_write(dev, "state", state);
}

int cxl_sysram_node(const char *name)
{
	char dev[CXL_NAME_LEN], buf[16];
	int ret = sysram_dev(name, dev, sizeof(dev));

	if (!ret)
		ret = dev_read(dev, "target_node", buf, sizeof(buf));
	return ret ? ret : atoi(buf);
}

int cxl_region_count(void)
{
	struct dirent *de;
	int n = 0, id;
	DIR *dir;

	dir = opendir(CXL_DEVICES);
	if (!dir)
		return -errno;
	while ((de = readdir(dir)))
		if (sscanf(de->d_name, "region%d", &id) == 1)
			n++;
	closedir(dir);
	return n;
}

int cxl_memdev_bdf(char *bdf, size_t len)
{
	char path[PATH_MAX], *slash;

	if (!realpath(CXL_DEVICES CXL_MEMDEV, path))
		return -errno;
	slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	*slash = '\0';
	slash = strrchr(path, '/');
	if (!slash)
		return -EINVAL;
	snprintf(bdf, len, "%s", slash + 1);
	return 0;
}

int cxl_pci_driver(const char *bdf, char *drv, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX], *slash;
	ssize_t n;

	snprintf(path, sizeof(path), PCI_DEVICES "%s/driver", bdf);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0) {
		if (errno != ENOENT)
			return -errno;
		drv[0] = '\0';
		return 0;
	}
	target[n] = '\0';
	slash = strrchr(target, '/');
	snprintf(drv, len, "%s", slash ? slash + 1 : target);
	return 0;
}

int cxl_pci_rebind(const char *bdf, const char *drv)
{
	char path[PATH_MAX], cur[64], ep[CXL_NAME_LEN];
	long deadline;
	int ret;

	ret = cxl_pci_driver(bdf, cur, sizeof(cur));
	if (ret)
		return ret;
	snprintf(path, sizeof(path), PCI_DEVICES "%s/driver_override", bdf);
	ret = write_text(path, drv);
	if (ret)
		return ret;
	if (cur[0]) {
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/unbind",
			 cur);
		ret = write_text(path, bdf);
		if (ret)
			return ret;
	}
	ret = write_text("/sys/bus/pci/drivers_probe", bdf);
	if (ret)
		return ret;
	/* The memdev and its port come up asynchronously. */
	deadline = now_ms() + REBIND_TIMEOUT_MS;
	while (cxl_endpoint_decoder(ep, sizeof(ep))) {
		if (now_ms() > deadline)
			return -ETIMEDOUT;
		usleep(10000);
	}
	ret = cxl_pci_driver(bdf, cur, sizeof(cur));
	if (!ret && strcmp(cur, drv))
		ret = -ENODEV;
	return ret;
}
