/* SPDX-License-Identifier: GPL-2.0 */
#ifndef CM_QMP_H
#define CM_QMP_H

#include <stddef.h>
#include <stdio.h>

struct qmp {
	int fd;
	FILE *in;
	int major, minor;	/* QEMU's version, from the greeting (0 if none) */
};

/* Connect to QEMU's QMP socket at @path and leave the greeting mode. */
int qmp_open(struct qmp *q, const char *path, char *err, size_t err_len);
/* Run one command; 0 on "return", -EIO with QEMU's error in @err. */
int qmp_command(struct qmp *q, const char *json, char *err, size_t err_len);
void qmp_close(struct qmp *q);

#endif
