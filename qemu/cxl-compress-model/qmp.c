// SPDX-License-Identifier: GPL-2.0
/* A minimal QMP client: one command at a time, asynchronous events skipped. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "qmp.h"

/* Read one line (QMP sends one JSON object per line). */
static int qmp_line(struct qmp *q, char *buf, size_t len)
{
	if (!fgets(buf, (int)len, q->in))
		return ferror(q->in) ? -errno : -EPIPE;
	return 0;
}

/* Wait for the answer to the command just sent: 0 for "return". */
static int qmp_answer(struct qmp *q, char *err, size_t err_len)
{
	char line[4096];
	int ret;

	for (;;) {
		ret = qmp_line(q, line, sizeof(line));
		if (ret)
			return ret;
		if (strstr(line, "\"return\""))
			return 0;
		if (strstr(line, "\"error\"")) {
			snprintf(err, err_len, "%s", line);
			err[strcspn(err, "\r\n")] = '\0';
			return -EIO;
		}
		/* {"event": ...}: not ours */
	}
}

int qmp_open(struct qmp *q, const char *path, char *err, size_t err_len)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char line[4096], *p;
	int fd, ret;

	q->in = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		ret = -errno;
		close(fd);
		return ret;
	}
	q->fd = fd;
	q->in = fdopen(fd, "r");
	if (!q->in) {
		ret = -errno;
		close(fd);
		return ret;
	}
	ret = qmp_line(q, line, sizeof(line));	/* the greeting */
	if (!ret && !strstr(line, "\"QMP\""))
		ret = -EPROTO;
	q->major = 0;
	q->minor = 0;
	p = strstr(line, "\"major\":");
	if (!ret && p)
		sscanf(p, "\"major\": %d", &q->major);
	p = strstr(line, "\"minor\":");
	if (!ret && p)
		sscanf(p, "\"minor\": %d", &q->minor);
	if (!ret)
		ret = qmp_command(q, "{\"execute\": \"qmp_capabilities\"}", err,
				  err_len);
	if (ret)
		qmp_close(q);
	return ret;
}

int qmp_command(struct qmp *q, const char *json, char *err, size_t err_len)
{
	size_t len = strlen(json), done = 0;
	ssize_t n;

	err[0] = '\0';
	while (done < len) {
		n = send(q->fd, json + done, len - done, MSG_NOSIGNAL);
		if (n < 0)
			return -errno;
		done += n;
	}
	if (send(q->fd, "\n", 1, MSG_NOSIGNAL) != 1)
		return -errno;
	return qmp_answer(q, err, err_len);
}

void qmp_close(struct qmp *q)
{
	if (q->in)
		fclose(q->in);
	q->in = NULL;
}
