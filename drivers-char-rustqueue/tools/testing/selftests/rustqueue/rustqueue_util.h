/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the rustqueue selftest programs share: the device's paths and
 * default limits, and helpers for its sysfs attributes and info ioctl.
 */
#ifndef RUSTQUEUE_UTIL_H
#define RUSTQUEUE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/rustqueue.h>

#define RQ_DEVICE	"/dev/rustqueue"
#define RQ_SYSFS	"/sys/class/misc/rustqueue/"
#define RQ_CAPACITY	16
#define RQ_MAX_MSG	4096
#define RQ_CAPACITY_MAX	65536
#define RQ_MAX_MSG_MAX	(1024 * 1024)

/* Write VALUE to the file PATH; returns 0 or the errno. */
static inline int write_file(const char *path, const char *value)
{
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		ret = errno;
	else if ((size_t)n != strlen(value))
		ret = EIO;
	close(fd);
	return ret;
}

/* Write VALUE to the sysfs attribute NAME; returns 0 or the errno. */
static inline int sysfs_set(const char *name, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), RQ_SYSFS "%s", name);
	return write_file(path, value);
}

/* The number the sysfs attribute NAME shows, or -1. */
static inline long long sysfs_get(const char *name)
{
	char path[128], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), RQ_SYSFS "%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* RUSTQUEUE_IOC_INFO into a buffer full of ones, so every field is checked. */
static inline int get_info(int fd, struct rustqueue_info *info)
{
	memset(info, 0xff, sizeof(*info));
	return ioctl(fd, RUSTQUEUE_IOC_INFO, info);
}

/* Empty the queue (packet reads) and restore the default limits. */
static inline int reset_queue(void)
{
	static char buf[RQ_MAX_MSG_MAX];
	ssize_t n;
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT | O_NONBLOCK);
	if (fd < 0)
		return -1;
	do
		n = read(fd, buf, sizeof(buf));
	while (n > 0);
	close(fd);
	if (n == 0 || errno != EAGAIN)
		return -1;
	if (sysfs_set("max_msg_size", "4096") || sysfs_set("capacity", "16"))
		return -1;
	return 0;
}

#endif /* RUSTQUEUE_UTIL_H */
