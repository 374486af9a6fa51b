/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the rustqueue selftest programs share: the device's paths and
 * default limits, helpers for its sysfs attributes and info ioctl, the
 * start and end of a test (save the limits, empty the queue, restore),
 * proof that a task is blocked in a given system call, and children that
 * die with their test.
 */
#ifndef RUSTQUEUE_UTIL_H
#define RUSTQUEUE_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/rustqueue.h>

#include "../kselftest.h"

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

/* Read the start of the file PATH as a string; returns its length or -1. */
static inline ssize_t read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
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

	snprintf(path, sizeof(path), RQ_SYSFS "%s", name);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/*
 * Named queues: mkdir RQ_CONFIGFS NAME makes /dev/rustqueue-NAME, with its
 * settings in RQ_CONFIGFS NAME/ and its counters in RQ_CLASS rustqueue-NAME/.
 */
#define RQ_CONFIGFS	"/sys/kernel/config/rustqueue/"
#define RQ_CLASS	"/sys/class/rustqueue/"
#define RQ_MAX_QUEUES	256
#define RQ_NAME_MAX	32

/* The paths of queue NAME: its directory, node and sysfs directory. */
static inline void rq_path(char *buf, size_t size, const char *prefix,
			   const char *name, const char *attr)
{
	snprintf(buf, size, "%s%s%s%s", prefix, name, attr ? "/" : "", attr ?: "");
}

static inline int q_mkdir(const char *name)
{
	char path[128];

	rq_path(path, sizeof(path), RQ_CONFIGFS, name, NULL);
	return mkdir(path, 0755) ? errno : 0;
}

static inline int q_rmdir(const char *name)
{
	char path[128];

	rq_path(path, sizeof(path), RQ_CONFIGFS, name, NULL);
	return rmdir(path) ? errno : 0;
}

/* Write VALUE to configfs attribute ATTR of NAME; returns 0 or the errno. */
static inline int q_set(const char *name, const char *attr, const char *value)
{
	char path[128];

	rq_path(path, sizeof(path), RQ_CONFIGFS, name, attr);
	return write_file(path, value);
}

/* The configfs attribute ATTR of NAME as a string, "" when unreadable. */
static inline const char *q_get(const char *name, const char *attr)
{
	static char buf[64];
	char path[128];

	rq_path(path, sizeof(path), RQ_CONFIGFS, name, attr);
	if (read_file(path, buf, sizeof(buf)) < 0)
		buf[0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

/* The sysfs counter ATTR of NAME, -1 when unreadable. */
static inline long long q_counter(const char *name, const char *attr)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), RQ_CLASS "rustqueue-%s/%s", name, attr);
	if (read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

static inline int q_open(const char *name, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/rustqueue-%s", name);
	return open(path, flags);
}

static inline int q_stat(const char *name, struct stat *st)
{
	char path[128];

	snprintf(path, sizeof(path), "/dev/rustqueue-%s", name);
	return stat(path, st) ? errno : 0;
}

/* RUSTQUEUE_IOC_INFO into a buffer full of ones, so every field is checked. */
static inline int get_info(int fd, struct rustqueue_info *info)
{
	memset(info, 0xff, sizeof(*info));
	return ioctl(fd, RUSTQUEUE_IOC_INFO, info);
}

/*
 * Why a test cannot run here, or NULL: these tests need the device and
 * root (they open the node and write the limits in sysfs).
 */
static inline const char *rq_cannot_run(void)
{
	if (access(RQ_DEVICE, F_OK))
		return RQ_DEVICE " not present: load rustqueue.ko (CONFIG_RUSTQUEUE)";
	if (geteuid())
		return "not root: the tests open " RQ_DEVICE " and set its limits in sysfs";
	return NULL;
}

/*
 * Why a test of named queues cannot run here, or NULL: they need root and
 * the driver's configfs directory.
 */
static inline const char *rq_queues_cannot_run(void)
{
	if (geteuid())
		return "not root: the tests make queues in " RQ_CONFIGFS;
	if (access(RQ_CONFIGFS, F_OK))
		return RQ_CONFIGFS " not present: load rustqueue.ko, mount configfs";
	return NULL;
}

/* Take every message off the queue; returns how many, or -1. */
static inline long long rq_drain(void)
{
	static char buf[RQ_MAX_MSG_MAX];
	long long drained = 0;
	ssize_t n;
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT | O_NONBLOCK);
	if (fd < 0)
		return -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		drained++;
	close(fd);
	if (n == 0 || errno != EAGAIN)
		return -1;
	return drained;
}

/* The limits a test found, put back when it ends. */
struct rq_limits {
	long long capacity;
	long long max_msg_size;
};

static inline int rq_limits_save(struct rq_limits *l)
{
	l->capacity = sysfs_get("capacity");
	l->max_msg_size = sysfs_get("max_msg_size");
	return l->capacity > 0 && l->max_msg_size > 0 ? 0 : -1;
}

/* Returns 0 or the errno of the write that failed. */
static inline int rq_limits_set(long long capacity, long long max_msg_size)
{
	char val[24];
	int ret;

	snprintf(val, sizeof(val), "%lld", max_msg_size);
	ret = sysfs_set("max_msg_size", val);
	snprintf(val, sizeof(val), "%lld", capacity);
	return ret ?: sysfs_set("capacity", val);
}

/*
 * Running the tests consumes what the queue holds: say so once per program
 * (each test runs in a process of its own, hence the shared flag), and again
 * whenever a test start drains messages.
 */
static int *rq_notice_given;

static void __attribute__((constructor)) rq_notice_init(void)
{
	void *p = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	rq_notice_given = p == MAP_FAILED ? NULL : p;
}

static inline void rq_notice(long long drained)
{
	bool first = !rq_notice_given || !__atomic_exchange_n(rq_notice_given, 1, __ATOMIC_RELAXED);

	if (first)
		ksft_print_msg("note: each test starts by emptying " RQ_DEVICE
			       ": running them consumes what is queued (%lld message(s) now)\n",
			       drained);
	else if (drained)
		ksft_print_msg("note: %lld message(s) left in " RQ_DEVICE " consumed\n", drained);
}

/*
 * The start of a test: save the limits into SAVED, empty the queue and set
 * the default limits the tests assume.  Returns 0, or -1 with the limits as
 * they were (errno says why).
 */
static inline int rq_begin(struct rq_limits *saved)
{
	long long drained;
	int err;

	if (rq_limits_save(saved))
		return -1;
	drained = rq_drain();
	if (drained < 0)
		return -1;
	err = rq_limits_set(RQ_CAPACITY, RQ_MAX_MSG);
	if (err) {
		rq_limits_set(saved->capacity, saved->max_msg_size);
		errno = err;
		return -1;
	}
	rq_notice(drained);
	return 0;
}

/*
 * The end of a test: empty the queue and put the limits SAVED back.
 * Returns 0, or the errno of what failed.
 */
static inline int rq_end(const struct rq_limits *saved)
{
	int err = rq_drain() < 0 ? errno : 0;

	return rq_limits_set(saved->capacity, saved->max_msg_size) ?: err;
}

/*
 * Proof that a task waits: /proc/PID/task/TID/stat shows it sleeping ('S')
 * and /proc/PID/task/TID/syscall names the system call it sleeps in (the
 * kernel reads that one only while the task stays off the CPU).  Numbers
 * come from <sys/syscall.h>, so a 32-bit build checks its own.  A libc may
 * implement poll() and epoll_wait() with their newer relatives: those count.
 */
#ifdef __NR_poll
#define RQ_NR_POLL		__NR_poll
#else
#define RQ_NR_POLL		__NR_ppoll
#endif
#ifdef __NR_epoll_wait
#define RQ_NR_EPOLL_WAIT	__NR_epoll_wait
#else
#define RQ_NR_EPOLL_WAIT	__NR_epoll_pwait
#endif

/* How long a waiter may take to block: generous, for a debug kernel under load. */
#define RQ_BLOCK_MS		10000

static inline bool rq_syscall_is(long seen, long want)
{
	if (seen == want)
		return true;
	if (want == RQ_NR_POLL) {
#ifdef __NR_ppoll
		if (seen == __NR_ppoll)
			return true;
#endif
#ifdef __NR_ppoll_time64
		if (seen == __NR_ppoll_time64)
			return true;
#endif
	}
	if (want == RQ_NR_EPOLL_WAIT) {
#ifdef __NR_epoll_pwait
		if (seen == __NR_epoll_pwait)
			return true;
#endif
#ifdef __NR_epoll_pwait2
		if (seen == __NR_epoll_pwait2)
			return true;
#endif
	}
	return false;
}

/* What the last rq_wait_*blocked() saw, for the failing test's message. */
static char rq_seen[160];

/*
 * The state letter of task TID of process PID and the system call it is in
 * (-1: none, -2: "running").  Returns 0, or -1 when it cannot be read.
 */
static inline int rq_task_state(pid_t pid, pid_t tid, char *state, long *nr)
{
	char path[64], buf[512], *p;

	snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", pid, tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	/* "PID (COMM) S ...": COMM may hold anything, the last ')' ends it. */
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	*state = p[2];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall", pid, tid);
	if (read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	*nr = strncmp(buf, "running", 7) ? strtol(buf, NULL, 10) : -2;
	return 0;
}

static inline long rq_elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

/*
 * Wait up to TIMEOUT_MS for task TID of process PID to sleep in system call
 * NR.  Returns 0 once it does; -1 when it does not in time, has exited or
 * cannot be inspected (rq_seen says what was seen last).
 */
static inline int rq_wait_task_blocked(pid_t pid, pid_t tid, long nr, int timeout_ms)
{
	struct timespec start;
	char state;
	long seen;

	clock_gettime(CLOCK_MONOTONIC, &start);
	for (;;) {
		if (rq_task_state(pid, tid, &state, &seen)) {
			snprintf(rq_seen, sizeof(rq_seen), "task %d of %d: no state: %s",
				 tid, pid, strerror(errno));
			return -1;
		}
		snprintf(rq_seen, sizeof(rq_seen),
			 "task %d of %d: state %c, syscall %ld (-1 none, -2 running), want S, %ld",
			 tid, pid, state, seen, nr);
		if (state == 'S' && rq_syscall_is(seen, nr))
			return 0;
		if (state == 'Z' || state == 'X' || rq_elapsed_ms(&start) > timeout_ms)
			return -1;
		usleep(1000);
	}
}

/* The same for a single-threaded process. */
static inline int wait_blocked(pid_t pid, long nr, int timeout_ms)
{
	return rq_wait_task_blocked(pid, pid, nr, timeout_ms);
}

/* How a test's child ends when its test was gone before it started. */
#define RQ_CHILD_ORPHAN		4

/* A child of the test that dies with it, however the test ends. */
static inline pid_t fork_child(void)
{
	pid_t parent = getpid(), pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(RQ_CHILD_ORPHAN);
	}
	return pid;
}

/*
 * Exit status of PID if it exits within MS milliseconds; otherwise it is
 * killed and the result is -2, so that a missing wakeup fails the test
 * at once instead of hanging it.
 */
static inline int child_status_within(pid_t pid, int ms)
{
	struct timespec start;
	int status;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(1000);
	} while (rq_elapsed_ms(&start) < ms);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -2;
}

#endif /* RUSTQUEUE_UTIL_H */
