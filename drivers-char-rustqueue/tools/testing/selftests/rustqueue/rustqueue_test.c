// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for /dev/rustqueue (drivers/char/rustqueue.c): one global FIFO of
 * "capacity" messages (default 16) of at most "max_msg_size" bytes (default
 * 4096).  An open without O_DIRECT reads one message per open and never
 * blocks; an O_DIRECT open reads one whole message per read() and blocks.
 * A message a default-mode file has begun to read keeps its place in the
 * capacity until the file reads it to the end or closes.
 *
 * Every test starts from an empty queue with the default limits, and puts
 * back the limits it found: running the tests consumes what is queued.
 * A test that needs a task blocked first proves it is, from /proc (see
 * wait_blocked() in rustqueue_util.h): none sleeps and hopes.
 */

#define _GNU_SOURCE
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"

/* How long a woken call may take to return: a lost wakeup fails, it does not hang. */
#define WAKE_MS		RQ_BLOCK_MS

/* in_flight and pad took reserved space: the size, and so the ioctl number, stay. */
static_assert(sizeof(struct rustqueue_info) == 80, "struct rustqueue_info changed size");

/* Read the whole message one fresh open gives; returns its length. */
static ssize_t read_one(char *buf, size_t size)
{
	ssize_t n, total = 0;
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY);
	if (fd < 0)
		return -1;
	while ((size_t)total < size) {
		n = read(fd, buf + total, size - total);
		if (n < 0) {
			total = -1;
			break;
		}
		if (n == 0)
			break;
		total += n;
	}
	close(fd);
	return total;
}

static void fill(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(seed * 31 + i * 7 + (i >> 8));
}

static void fill_queue(struct __test_metadata *_metadata, int fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(fd, "x", 1)) TH_LOG("write %d: %s", i, strerror(errno));
}

/* A snapshot, with what must hold in every snapshot checked. */
static void info_checked(struct __test_metadata *_metadata, int fd, struct rustqueue_info *info)
{
	ASSERT_EQ(0, get_info(fd, info)) TH_LOG("RUSTQUEUE_IOC_INFO: %s", strerror(errno));
	EXPECT_EQ(info->count == 0, info->next_len == 0)
		TH_LOG("count %u with next_len %u: next_len is 0 exactly when count is",
		       info->count, info->next_len);
	EXPECT_EQ(info->count == 0, info->bytes == 0)
		TH_LOG("count %u with bytes %llu", info->count, (unsigned long long)info->bytes);
	EXPECT_LE(info->count + info->in_flight, info->capacity)
		TH_LOG("count %u + in_flight %u over capacity %u",
		       info->count, info->in_flight, info->capacity);
}

/*
 * Queue "abcdef" through WFD and return a new file (FLAGS added to O_RDONLY)
 * that has read "ab" of it: the file holds the rest, off the queue.
 */
static int open_partly_read(struct __test_metadata *_metadata, int wfd, int flags)
{
	char buf[2];
	int fd;

	ASSERT_EQ(6, write(wfd, "abcdef", 6));
	fd = open(RQ_DEVICE, O_RDONLY | flags);
	ASSERT_LE(0, fd) TH_LOG("open: %s", strerror(errno));
	ASSERT_EQ(2, read(fd, buf, 2));
	EXPECT_EQ(0, memcmp(buf, "ab", 2));
	return fd;
}

/* What poll() reports for FD at once, for every event asked; -1 on error. */
static short poll_now(int fd)
{
	struct pollfd pfd = {
		.fd = fd,
		.events = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM,
	};

	if (poll(&pfd, 1, 0) < 0)
		return -1;
	return pfd.revents;
}

/* What a new epoll instance reports at once for EVENTS of FD: 0 for nothing, -1 on error. */
static int epoll_now(int fd, unsigned int events)
{
	struct epoll_event ev = { .events = events }, got;
	int ep, n = -1;

	ep = epoll_create1(0);
	if (ep < 0)
		return -1;
	if (!epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) {
		n = epoll_wait(ep, &got, 1, 0);
		if (n == 1)
			n = got.events;
	}
	close(ep);
	return n;
}

/* ---- Helper processes: each proves, or is proven, blocked ---- */

/* How a helper child ends. */
enum {
	CHILD_OK,
	CHILD_CALL_FAILED,	/* its own open, read or write failed */
	CHILD_NOT_RESTARTED,	/* after the signal, the test's call did not wait again */
	CHILD_NEVER_BLOCKED,	/* the test never blocked in the system call */
	CHILD_ORPHAN = RQ_CHILD_ORPHAN,	/* the test was gone before the child started */
};

static const char *child_why(int status)
{
	switch (status) {
	case CHILD_OK:
		return "done";
	case CHILD_CALL_FAILED:
		return "its own system call failed";
	case CHILD_NOT_RESTARTED:
		return "after the signal the test's read did not wait again (no restart)";
	case CHILD_NEVER_BLOCKED:
		return "it never saw the test blocked in the system call (it acted anyway)";
	case -2:
		return "it did not end in time and was killed";
	default:
		return "it died or ended with an unknown status";
	}
}

/* Exit status of PID, -1 when it did not exit normally. */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* In a child: wait until the test, its parent, sleeps in system call NR. */
static bool parent_blocks(long nr)
{
	if (!wait_blocked(getppid(), nr, RQ_BLOCK_MS))
		return true;
	fprintf(stderr, "# child %d: %s\n", getpid(), rq_seen);
	return false;
}

static int packet_write(const char *msg)
{
	int fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
	bool ok = fd >= 0 && write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg);

	if (fd >= 0)
		close(fd);
	return ok ? CHILD_OK : CHILD_CALL_FAILED;
}

static int packet_read(void)
{
	int fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	char buf[RQ_MAX_MSG];
	bool ok = fd >= 0 && read(fd, buf, sizeof(buf)) > 0;

	if (fd >= 0)
		close(fd);
	return ok ? CHILD_OK : CHILD_CALL_FAILED;
}

/*
 * A child that writes MSG as one packet once the test blocks in system
 * call NR.  Should the test never block, the child writes all the same (the
 * test must not hang) and ends with CHILD_NEVER_BLOCKED.
 */
static pid_t write_when_blocked(long nr, const char *msg)
{
	pid_t pid = fork_child();
	bool blocked;
	int ret;

	if (pid)
		return pid;
	blocked = parent_blocks(nr);
	ret = packet_write(msg);
	_exit(blocked ? ret : CHILD_NEVER_BLOCKED);
}

/* A child that reads one packet once the test blocks in system call NR. */
static pid_t read_when_blocked(long nr)
{
	pid_t pid = fork_child();
	bool blocked;
	int ret;

	if (pid)
		return pid;
	blocked = parent_blocks(nr);
	ret = packet_read();
	_exit(blocked ? ret : CHILD_NEVER_BLOCKED);
}

/* Signals the test caught, in memory its children see. */
static int *signals_seen;

static void on_signal(int signo)
{
	__atomic_fetch_add(signals_seen, 1, __ATOMIC_RELAXED);
}

static int signals_caught(void)
{
	return __atomic_load_n(signals_seen, __ATOMIC_RELAXED);
}

static void catch_signal(struct __test_metadata *_metadata, int signo, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };
	void *p;

	if (!signals_seen) {
		p = mmap(NULL, sizeof(int), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
			 -1, 0);
		ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
		signals_seen = p;
	}
	__atomic_store_n(signals_seen, 0, __ATOMIC_RELAXED);
	sigemptyset(&sa.sa_mask);
	ASSERT_EQ(0, sigaction(signo, &sa, NULL));
}

/* A child that sends SIGNO to the test once it blocks in system call NR. */
static pid_t signal_when_blocked(long nr, int signo)
{
	pid_t pid = fork_child();
	bool blocked;

	if (pid)
		return pid;
	blocked = parent_blocks(nr);
	kill(getppid(), signo);
	_exit(blocked ? CHILD_OK : CHILD_NEVER_BLOCKED);
}

/*
 * A child that signals the test once it blocks in system call NR, waits
 * for the handler to run and the call to block again (SA_RESTART), then
 * writes MSG as one packet.
 */
static pid_t signal_then_write_when_blocked(long nr, int signo, const char *msg)
{
	struct timespec start;
	pid_t pid = fork_child();
	bool blocked, again;
	int ret;

	if (pid)
		return pid;
	blocked = parent_blocks(nr);
	kill(getppid(), signo);
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!signals_caught() && rq_elapsed_ms(&start) < RQ_BLOCK_MS)
		usleep(1000);
	again = signals_caught() && parent_blocks(nr);
	ret = packet_write(msg);
	_exit(!blocked ? CHILD_NEVER_BLOCKED : !again ? CHILD_NOT_RESTARTED : ret);
}

/* A child that blocks in a packet read; ends with CHILD_OK once it has a message. */
static pid_t blocked_reader(void)
{
	pid_t pid = fork_child();

	if (pid)
		return pid;
	_exit(packet_read());
}

/* A child that blocks writing MSG as one packet to a full queue. */
static pid_t blocked_writer(const char *msg)
{
	pid_t pid = fork_child();

	if (pid)
		return pid;
	_exit(packet_write(msg));
}

/*
 * Wait up to MS milliseconds for one of the N children in PIDS (0: reaped)
 * to exit.  Returns its index, with its pid set to 0 and its exit status
 * in STATUS; -1 when none did.
 */
static int reap_one(pid_t *pids, int n, int ms, int *status)
{
	struct timespec start;
	int i, st;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		for (i = 0; i < n; i++) {
			if (pids[i] && waitpid(pids[i], &st, WNOHANG) == pids[i]) {
				*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
				pids[i] = 0;
				return i;
			}
		}
		usleep(1000);
	} while (rq_elapsed_ms(&start) < ms);
	return -1;
}

/* ---- The fixture: the device, root, the limits saved ---- */

#define TRACEFS			"/sys/kernel/tracing"
#define RQ_TRACE_INSTANCE	TRACEFS "/instances/rustqueue-selftest"

FIXTURE(rustqueue) {
	int fd;			/* default mode, read and write */
	struct rq_limits saved;	/* put back by the teardown */
	bool tracing;		/* RQ_TRACE_INSTANCE is this test's */
};

FIXTURE_SETUP(rustqueue)
{
	const char *why = rq_cannot_run();

	if (why)
		SKIP(return, "%s", why);
	self->fd = open(RQ_DEVICE, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	/* Last: once it succeeds, the teardown puts the limits back. */
	ASSERT_EQ(0, rq_begin(&self->saved))
		TH_LOG("cannot drain the queue or set its limits: %s", strerror(errno));
}

/* In the parent of the test's process: runs however the test ended. */
FIXTURE_TEARDOWN_PARENT(rustqueue)
{
	int err;

	if (self->tracing)
		rmdir(RQ_TRACE_INSTANCE);
	err = rq_end(&self->saved);
	EXPECT_EQ(0, err) TH_LOG("cannot empty the queue, restore capacity %lld, max %lld: %s",
				 self->saved.capacity, self->saved.max_msg_size, strerror(err));
}

/* A misc device node.  Its owner and mode are site policy, not checked here. */
TEST_F(rustqueue, device_node)
{
	unsigned int maj, min;
	int n;
	struct stat st;
	char dev[32];

	ASSERT_EQ(0, stat(RQ_DEVICE, &st)) TH_LOG("stat: %s", strerror(errno));
	EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("mode %o: not a character device", st.st_mode);
	EXPECT_EQ(10, major(st.st_rdev))
		TH_LOG("major %u: a misc device has major 10", major(st.st_rdev));
	ASSERT_LT(0, read_file(RQ_SYSFS "dev", dev, sizeof(dev)));
	n = sscanf(dev, "%u:%u", &maj, &min);
	ASSERT_EQ(2, n) TH_LOG("sysfs dev: '%s'", dev);
	EXPECT_EQ(st.st_rdev, makedev(maj, min))
		TH_LOG("node %u:%u, sysfs %u:%u", major(st.st_rdev), minor(st.st_rdev), maj, min);
}

TEST_F(rustqueue, fifo_order_16)
{
	char msg[32], buf[64];
	ssize_t n;
	int i;

	for (i = 0; i < RQ_CAPACITY; i++) {
		snprintf(msg, sizeof(msg), "message %d\n", i);
		ASSERT_EQ((ssize_t)strlen(msg), write(self->fd, msg, strlen(msg)));
	}
	for (i = 0; i < RQ_CAPACITY; i++) {
		snprintf(msg, sizeof(msg), "message %d\n", i);
		n = read_one(buf, sizeof(buf));
		ASSERT_EQ((ssize_t)strlen(msg), n);
		buf[n] = '\0';
		EXPECT_STREQ(msg, buf);
	}
	EXPECT_EQ(0, read_one(buf, sizeof(buf)));
}

TEST_F(rustqueue, full_queue_enospc)
{
	char buf[16];
	int i;

	for (i = 0; i < RQ_CAPACITY; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1)) TH_LOG("write %d: %s", i, strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1));
	EXPECT_EQ(ENOSPC, errno);
	/* One read makes room for exactly one more. */
	ASSERT_EQ(1, read_one(buf, sizeof(buf)));
	EXPECT_EQ(1, write(self->fd, "z", 1));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1));
	EXPECT_EQ(ENOSPC, errno);
}

TEST_F(rustqueue, max_size_round_trip)
{
	static char msg[RQ_MAX_MSG], buf[RQ_MAX_MSG + 1];

	fill(msg, sizeof(msg), 1);
	ASSERT_EQ(RQ_MAX_MSG, write(self->fd, msg, sizeof(msg)));
	ASSERT_EQ(RQ_MAX_MSG, read_one(buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(msg, buf, RQ_MAX_MSG));
}

TEST_F(rustqueue, oversize_einval)
{
	static char msg[RQ_MAX_MSG + 1];
	char buf[16];

	errno = 0;
	EXPECT_EQ(-1, write(self->fd, msg, sizeof(msg)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, read_one(buf, sizeof(buf))) TH_LOG("a rejected write queued something");
}

/*
 * 1 GiB from a mapping nobody can read: the length alone must decide, so
 * EINVAL (a driver that copied first would allocate 1 GiB or say EFAULT).
 */
TEST_F(rustqueue, huge_write_from_bad_pointer_einval)
{
	const size_t len = 1UL << 30;
	char buf[16];
	void *p;

	p = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, p, len));
	EXPECT_EQ(EINVAL, errno);
	munmap(p, len);
	EXPECT_EQ(0, read_one(buf, sizeof(buf)));
}

TEST_F(rustqueue, bad_pointer_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	char buf[16];
	void *p;

	p = mmap(NULL, page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, p, 16));
	EXPECT_EQ(EFAULT, errno);
	munmap(p, page);
	EXPECT_EQ(0, read_one(buf, sizeof(buf))) TH_LOG("a faulting write queued something");
}

TEST_F(rustqueue, zero_length_write)
{
	char buf[16];

	EXPECT_EQ(0, write(self->fd, "", 0));
	EXPECT_EQ(0, read_one(buf, sizeof(buf))) TH_LOG("a zero-length write queued something");
	/* The queue still works and holds its full capacity. */
	EXPECT_EQ(2, write(self->fd, "ok", 2));
	EXPECT_EQ(2, read_one(buf, sizeof(buf)));
}

TEST_F(rustqueue, writev_is_one_message)
{
	struct iovec iov[3] = {
		{ .iov_base = "one ", .iov_len = 4 },
		{ .iov_base = "two ", .iov_len = 4 },
		{ .iov_base = "three", .iov_len = 5 },
	};
	char buf[32];
	ssize_t n;

	ASSERT_EQ(13, writev(self->fd, iov, 3));
	n = read_one(buf, sizeof(buf) - 1);
	ASSERT_EQ(13, n);
	buf[n] = '\0';
	EXPECT_STREQ("one two three", buf);
	EXPECT_EQ(0, read_one(buf, sizeof(buf)));
}

/* A 4096-byte message streams out one byte per read(), then EOF. */
TEST_F(rustqueue, read_max_message_one_byte_at_a_time)
{
	static char msg[RQ_MAX_MSG];
	char c;
	int fd, i;

	fill(msg, sizeof(msg), 2);
	ASSERT_EQ(RQ_MAX_MSG, write(self->fd, msg, sizeof(msg)));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	for (i = 0; i < RQ_MAX_MSG; i++) {
		ASSERT_EQ(1, read(fd, &c, 1)) TH_LOG("read %d", i);
		ASSERT_EQ(msg[i], c) TH_LOG("byte %d", i);
	}
	EXPECT_EQ(0, read(fd, &c, 1));
	close(fd);
}

/* After its message, an open file stays at EOF; the next message waits for another open. */
TEST_F(rustqueue, one_message_per_open)
{
	char buf[16];
	int fd;

	ASSERT_EQ(1, write(self->fd, "A", 1));
	ASSERT_EQ(1, write(self->fd, "B", 1));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ('A', buf[0]);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
	ASSERT_EQ(1, read_one(buf, sizeof(buf)));
	EXPECT_EQ('B', buf[0]);
}

TEST_F(rustqueue, two_opens_get_their_own_message)
{
	char a[8], b[8];
	int fd1, fd2;

	ASSERT_EQ(5, write(self->fd, "first", 5));
	ASSERT_EQ(6, write(self->fd, "second", 6));
	fd1 = open(RQ_DEVICE, O_RDONLY);
	fd2 = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	/* Interleaved: each open keeps the message its first read took. */
	ASSERT_EQ(2, read(fd1, a, 2));
	ASSERT_EQ(3, read(fd2, b, 3));
	ASSERT_EQ(3, read(fd1, a + 2, sizeof(a) - 2));
	ASSERT_EQ(3, read(fd2, b + 3, sizeof(b) - 3));
	EXPECT_EQ(0, memcmp(a, "first", 5));
	EXPECT_EQ(0, memcmp(b, "second", 6));
	EXPECT_EQ(0, read(fd1, a, sizeof(a)));
	EXPECT_EQ(0, read(fd2, b, sizeof(b)));
	close(fd1);
	close(fd2);
}

TEST_F(rustqueue, empty_read_returns_zero)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	/* An empty read took nothing: the same open gets a later message. */
	ASSERT_EQ(4, write(self->fd, "late", 4));
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "late", 4));
	close(fd);
}

TEST_F(rustqueue, zero_length_read_takes_nothing)
{
	char buf[16];
	int fd;

	ASSERT_EQ(3, write(self->fd, "abc", 3));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, 0));
	close(fd);
	EXPECT_EQ(3, read_one(buf, sizeof(buf))) TH_LOG("a zero-length read consumed the message");
}

/* Closing with a partly read message drops its rest; the queue moves on. */
TEST_F(rustqueue, close_drops_partly_read_message)
{
	char buf[16];
	ssize_t n;
	int fd;

	ASSERT_EQ(5, write(self->fd, "first", 5));
	ASSERT_EQ(6, write(self->fd, "second", 6));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, read(fd, buf, 2));
	close(fd);
	n = read_one(buf, sizeof(buf));
	ASSERT_EQ(6, n);
	EXPECT_EQ(0, memcmp(buf, "second", 6));
}

TEST_F(rustqueue, read_into_bad_pointer_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	long long dequeued;
	char buf[16];
	void *p;
	int fd;

	ASSERT_EQ(4, write(self->fd, "data", 4));
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	dequeued = sysfs_get("dequeued");
	errno = 0;
	EXPECT_EQ(-1, read(fd, p, 16));
	EXPECT_EQ(EFAULT, errno);
	/* Nothing reached the reader: the message is still queued, whole. */
	EXPECT_EQ(1, sysfs_get("count"));
	EXPECT_EQ(dequeued, sysfs_get("dequeued"));
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
	/* A message begun stays with the open file. */
	ASSERT_EQ(4, write(self->fd, "more", 4));
	close(fd);
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(1, read(fd, buf, 1));
	errno = 0;
	EXPECT_EQ(-1, read(fd, p, 16));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "ore", 3));
	close(fd);
	munmap(p, page);
}

TEST_F(rustqueue, not_seekable)
{
	char buf[4];

	ASSERT_EQ(4, write(self->fd, "data", 4));
	errno = 0;
	EXPECT_EQ(-1, lseek(self->fd, 0, SEEK_SET));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, pread(self->fd, buf, sizeof(buf), 0));
	EXPECT_EQ(ESPIPE, errno);
	errno = 0;
	EXPECT_EQ(-1, pwrite(self->fd, "more", 4, 0));
	EXPECT_EQ(ESPIPE, errno);
	EXPECT_EQ(4, read_one(buf, sizeof(buf))) TH_LOG("pread() consumed the message");
}

/* ---- A default-mode file holding a message: its place and the snapshot ---- */

TEST_F(rustqueue, info_partly_read_message_is_inflight)
{
	struct rustqueue_info info;
	int fd;

	fd = open_partly_read(_metadata, self->fd, 0);
	/* Off the queue, but holding a place of the capacity. */
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(0, info.next_len);
	EXPECT_EQ(0, info.bytes);
	EXPECT_EQ(1, info.in_flight) TH_LOG("a partly read message is in flight");
	EXPECT_EQ(0, sysfs_get("count"));

	ASSERT_EQ(3, write(self->fd, "xyz", 3));
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(3, info.next_len);
	EXPECT_EQ(1, info.in_flight);

	/* Closing drops the rest, and the place with it. */
	close(fd);
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(3, info.next_len);
	EXPECT_EQ(0, info.in_flight) TH_LOG("close must give the place back");
}

/* The capacity counts a held message: it leaves room for capacity - 1. */
TEST_F(rustqueue, held_message_keeps_its_place)
{
	struct rustqueue_info info;
	char buf[16];
	int fd, i;

	ASSERT_EQ(4, write(self->fd, "held", 4));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, read(fd, buf, 1));
	for (i = 1; i < RQ_CAPACITY; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1))
			TH_LOG("write %d of %d next to a held message: %s", i, RQ_CAPACITY - 1,
			       strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "y", 1))
		TH_LOG("write %d succeeded: a held message must keep its place", RQ_CAPACITY);
	EXPECT_EQ(ENOSPC, errno);
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(RQ_CAPACITY - 1, info.count);
	EXPECT_EQ(1, info.in_flight);

	/* Read to the end, the message gives its place back before any close. */
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "eld", 3));
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(0, info.in_flight) TH_LOG("a message read to its end is no longer in flight");
	EXPECT_EQ(1, write(self->fd, "z", 1)) TH_LOG("%s", strerror(errno));
	close(fd);
}

#define SNAP_MSGS	200
#define SNAP_LEN	(256 * 1024)

/*
 * Every snapshot is taken at one instant: while readers in both modes copy
 * long messages out, count is 0 exactly when next_len and bytes are, and
 * count + in_flight stays within the capacity.  A writer queues the next
 * message only once the queue is empty, so that a reader's copy is often
 * all that happens.
 */
TEST_F(rustqueue, info_snapshots_are_consistent)
{
	static char msg[SNAP_LEN];
	int snaps = 0, bad = 0, status, i, fd;
	struct rustqueue_info info;
	pid_t writer, reader, done;
	struct pollfd pfd;

	ASSERT_EQ(0, rq_limits_set(RQ_CAPACITY, SNAP_LEN));
	writer = fork_child();
	ASSERT_LE(0, writer);
	if (!writer) {
		fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
		for (i = 0; fd >= 0 && i < SNAP_MSGS; i++) {
			if (write(fd, msg, SNAP_LEN) != SNAP_LEN)
				_exit(CHILD_CALL_FAILED);
			while (!get_info(fd, &info) && info.count)
				sched_yield();
		}
		_exit(fd >= 0 ? CHILD_OK : CHILD_CALL_FAILED);
	}
	reader = fork_child();
	ASSERT_LE(0, reader);
	if (!reader) {
		/* Packet reads and default-mode reads in two parts, by turns. */
		for (i = 0; i < SNAP_MSGS; i++) {
			fd = open(RQ_DEVICE, O_RDONLY | (i % 2 ? O_DIRECT : 0));
			pfd.fd = fd;
			pfd.events = POLLIN;
			if (fd < 0 || poll(&pfd, 1, -1) != 1 ||
			    read(fd, msg, i % 2 ? SNAP_LEN : 100) <= 0)
				_exit(CHILD_CALL_FAILED);
			if (!(i % 2) && read(fd, msg, SNAP_LEN) != SNAP_LEN - 100)
				_exit(CHILD_CALL_FAILED);
			close(fd);
		}
		_exit(CHILD_OK);
	}
	while ((done = waitpid(reader, &status, WNOHANG)) == 0) {
		ASSERT_EQ(0, get_info(self->fd, &info));
		snaps++;
		if (!info.count == !info.next_len && !info.count == !info.bytes &&
		    info.count + info.in_flight <= info.capacity)
			continue;
		if (!bad++)
			TH_LOG("snapshot %d: count %u next_len %u bytes %llu in_flight %u cap %u",
			       snaps, info.count, info.next_len, (unsigned long long)info.bytes,
			       info.in_flight, info.capacity);
	}
	EXPECT_EQ(0, bad) TH_LOG("%d of %d snapshots inconsistent", bad, snaps);
	ASSERT_EQ(reader, done);
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == CHILD_OK)
		TH_LOG("the reader failed");
	status = child_status(writer);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(0, info.count + info.in_flight);
}

/* ---- Packet mode (O_DIRECT) ---- */

TEST_F(rustqueue, packet_read_one_byte_message)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd) TH_LOG("open(O_DIRECT): %s", strerror(errno));
	ASSERT_EQ(1, write(fd, "a", 1));
	ASSERT_EQ(1, write(fd, "b", 1));
	/* One read, one message, however big the buffer. */
	ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ('a', buf[0]);
	ASSERT_EQ(1, read(fd, buf, 1));
	EXPECT_EQ('b', buf[0]);
	close(fd);
}

TEST_F(rustqueue, packet_read_max_size_messages)
{
	static char msg[RQ_MAX_MSG], buf[2 * RQ_MAX_MSG];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill(msg, sizeof(msg), 3);
	ASSERT_EQ(RQ_MAX_MSG, write(fd, msg, sizeof(msg)));
	fill(msg, sizeof(msg), 4);
	ASSERT_EQ(RQ_MAX_MSG, write(fd, msg, sizeof(msg)));
	ASSERT_EQ(RQ_MAX_MSG, read(fd, buf, sizeof(buf)));
	fill(msg, sizeof(msg), 3);
	EXPECT_EQ(0, memcmp(msg, buf, RQ_MAX_MSG));
	ASSERT_EQ(RQ_MAX_MSG, read(fd, buf, RQ_MAX_MSG));
	fill(msg, sizeof(msg), 4);
	EXPECT_EQ(0, memcmp(msg, buf, RQ_MAX_MSG));
	close(fd);
}

TEST_F(rustqueue, packet_short_buffer_emsgsize_keeps_message)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(fd, "0123456789", 10));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, 9));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, sysfs_get("count")) TH_LOG("EMSGSIZE took the message off the queue");
	ASSERT_EQ(10, read(fd, buf, 10));
	EXPECT_EQ(0, memcmp(buf, "0123456789", 10));
	close(fd);
}

TEST_F(rustqueue, packet_zero_length_read)
{
	char buf[4];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, write(fd, "abc", 3));
	EXPECT_EQ(0, read(fd, buf, 0));
	EXPECT_EQ(3, read(fd, buf, sizeof(buf))) TH_LOG("a zero-length read consumed the message");
	close(fd);
}

TEST_F(rustqueue, packet_oversize_einval)
{
	static char msg[RQ_MAX_MSG + 1];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, write(fd, msg, sizeof(msg)));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, sysfs_get("count"));
	close(fd);
}

/*
 * A packet read into a bad buffer, read-only or unmapped, loses nothing and
 * keeps the order: the message stays first, the next one second.
 */
TEST_F(rustqueue, packet_read_into_bad_pointer_keeps_message)
{
	long page = sysconf(_SC_PAGESIZE);
	char buf[16], *map, *bad[2];
	int fd, i;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "first", 5));
	ASSERT_EQ(6, write(fd, "second", 6));
	map = mmap(NULL, 2 * page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(0, munmap(map + page, page));
	bad[0] = map;		/* read-only */
	bad[1] = map + page;	/* unmapped */
	for (i = 0; i < 2; i++) {
		errno = 0;
		EXPECT_EQ(-1, read(fd, bad[i], 16))
			TH_LOG("%s buffer", i ? "unmapped" : "read-only");
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(2, sysfs_get("count"));
		EXPECT_EQ(11, sysfs_get("bytes"));
	}
	munmap(map, page);
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "first", 5)) TH_LOG("the failed read's message must stay first");
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "second", 6));
	close(fd);
}

TEST_F(rustqueue, packet_mode_by_fcntl)
{
	char buf[16];
	int fd, fl;

	ASSERT_EQ(3, write(self->fd, "one", 3));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_DIRECT))
		TH_LOG("F_SETFL O_DIRECT: %s", strerror(errno));
	/* Packet mode: one message per read, and a second one from the same open. */
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	/* Back to the default mode: an empty queue is end of file again. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

/* The rest of a message a default-mode read began is the next packet. */
TEST_F(rustqueue, packet_read_after_partial_default_read)
{
	char buf[16];
	int fd, fl;

	fd = open_partly_read(_metadata, self->fd, O_NONBLOCK);
	ASSERT_EQ(3, write(self->fd, "xyz", 3));
	fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_DIRECT));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, 3));
	EXPECT_EQ(EMSGSIZE, errno);
	ASSERT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "cdef", 4));
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "xyz", 3));
	close(fd);
}

/*
 * A default-mode file takes one message in its life, whatever the mode
 * switches: the rest of its message as a packet, then end of file again
 * back in default mode, with the next message left in the queue.
 */
TEST_F(rustqueue, fcntl_rest_as_packet_then_default_is_eof)
{
	struct rustqueue_info info;
	char buf[16];
	int fd, fl;

	fd = open_partly_read(_metadata, self->fd, O_NONBLOCK);
	ASSERT_EQ(3, write(self->fd, "xyz", 3));
	fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_DIRECT)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(4, read(fd, buf, sizeof(buf))) TH_LOG("the packet read must give the rest");
	EXPECT_EQ(0, memcmp(buf, "cdef", 4));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)))
		TH_LOG("back in default mode, the file took a second message");
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(1, info.count) TH_LOG("the second message must stay queued");
	EXPECT_EQ(3, info.next_len);
	EXPECT_EQ(0, info.in_flight);
	close(fd);
	ASSERT_EQ(3, read_one(buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "xyz", 3));
}

/* A default-mode file that read its whole message: packet reads, then end of file. */
TEST_F(rustqueue, fcntl_after_whole_message_default_stays_eof)
{
	char buf[16];
	int fd, fl;

	ASSERT_EQ(3, write(self->fd, "one", 3));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	ASSERT_EQ(5, write(self->fd, "three", 5));
	fd = open(RQ_DEVICE, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_DIRECT));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf))) TH_LOG("there and back: still end of file");
	/* Packet reads take messages from the queue; default mode stays at its end. */
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl | O_DIRECT));
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(1, sysfs_get("count"));
	close(fd);
}

/* A packet-mode file turned to default mode takes one message, once. */
TEST_F(rustqueue, fcntl_packet_file_turned_default_takes_one_message)
{
	char buf[16];
	int fd, fl;

	ASSERT_EQ(3, write(self->fd, "one", 3));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	ASSERT_EQ(5, write(self->fd, "three", 5));
	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, read(fd, buf, sizeof(buf)));
	fl = fcntl(fd, F_GETFL);
	ASSERT_EQ(0, fcntl(fd, F_SETFL, fl & ~O_DIRECT));
	ASSERT_EQ(2, read(fd, buf, 2));
	ASSERT_EQ(1, read(fd, buf + 2, sizeof(buf) - 2));
	EXPECT_EQ(0, memcmp(buf, "two", 3));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf))) TH_LOG("one message per file in default mode");
	EXPECT_EQ(1, sysfs_get("count"));
	close(fd);
}

TEST_F(rustqueue, packet_nonblock_eagain_both_ways)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "y", 1));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("count"));
	close(fd);
}

/* O_NONBLOCK does not change the default mode: ENOSPC and end of file. */
TEST_F(rustqueue, default_mode_ignores_nonblock)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	fill_queue(_metadata, fd, RQ_CAPACITY);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "y", 1));
	EXPECT_EQ(ENOSPC, errno);
	close(fd);
}

TEST_F(rustqueue, rwf_nowait)
{
	struct iovec iov;
	char buf[16], m = 'm';
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	/* Blocking file, empty queue: RWF_NOWAIT makes the read give up. */
	errno = 0;
	EXPECT_EQ(-1, preadv2(fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno) TH_LOG("EOPNOTSUPP means FMODE_NOWAIT is missing");
	iov.iov_base = &m;
	iov.iov_len = 1;
	ASSERT_EQ(1, pwritev2(fd, &iov, 1, -1, RWF_NOWAIT)) TH_LOG("%s", strerror(errno));
	fill_queue(_metadata, fd, RQ_CAPACITY - 1);
	errno = 0;
	EXPECT_EQ(-1, pwritev2(fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ(EAGAIN, errno);
	iov.iov_base = buf;
	iov.iov_len = sizeof(buf);
	EXPECT_EQ(1, preadv2(fd, &iov, 1, -1, RWF_NOWAIT));
	EXPECT_EQ('m', buf[0]);
	close(fd);
}

TEST_F(rustqueue, blocking_read_woken_by_write)
{
	char buf[16];
	int fd, status;
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	pid = write_when_blocked(__NR_read, "wake");
	ASSERT_LT(0, pid);
	ASSERT_EQ(4, read(fd, buf, sizeof(buf))) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "wake", 4));
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	close(fd);
}

TEST_F(rustqueue, blocking_write_woken_by_read)
{
	int fd, i, status;
	char buf[16];
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	pid = read_when_blocked(__NR_write);
	ASSERT_LT(0, pid);
	ASSERT_EQ(4, write(fd, "last", 4)) TH_LOG("%s", strerror(errno));
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("reader: %s", child_why(status));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("count"));
	/* FIFO: fifteen "x", then "last". */
	for (i = 0; i < RQ_CAPACITY - 1; i++)
		ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "last", 4));
	close(fd);
}

#define WAKE_READERS	4

/* The voluntary context switches of PID so far, or -1. */
static long ctxt_switches(pid_t pid)
{
	char path[64], status[4096], *p;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (read_file(path, status, sizeof(status)) <= 0)
		return -1;
	p = strstr(status, "\nvoluntary_ctxt_switches:");
	return p ? strtol(p + strlen("\nvoluntary_ctxt_switches:"), NULL, 10) : -1;
}

/*
 * Blocked readers each get their own message: one message releases exactly
 * one of them, the others are still blocked in read() afterwards, and at
 * most one of them was woken meanwhile (readers wait exclusively; a herd
 * wakes them all).  A sleeping task switches only when woken, and write()
 * has issued its wakeups when it returns: once a reader is proven asleep
 * again, its count of voluntary switches says whether it was woken.
 */
TEST_F(rustqueue, one_message_wakes_one_reader)
{
	long before[WAKE_READERS], after;
	pid_t readers[WAKE_READERS];
	int i, j, msg, status, woken;

	for (i = 0; i < WAKE_READERS; i++) {
		readers[i] = blocked_reader();
		ASSERT_LT(0, readers[i]);
	}
	for (i = 0; i < WAKE_READERS; i++) {
		ASSERT_EQ(0, wait_blocked(readers[i], __NR_read, RQ_BLOCK_MS))
			TH_LOG("reader %d never blocked in read(): %s", i, rq_seen);
		before[i] = ctxt_switches(readers[i]);
		ASSERT_LE(0, before[i]) TH_LOG("no voluntary_ctxt_switches for reader %d", i);
	}
	for (msg = 0; msg < WAKE_READERS; msg++) {
		ASSERT_EQ(1, write(self->fd, "m", 1));
		i = reap_one(readers, WAKE_READERS, RQ_BLOCK_MS, &status);
		ASSERT_LE(0, i) TH_LOG("message %d released no reader", msg);
		EXPECT_EQ(CHILD_OK, status) TH_LOG("reader %d: %s", i, child_why(status));
		woken = 0;
		for (j = 0; j < WAKE_READERS; j++) {
			if (!readers[j])
				continue;
			EXPECT_EQ(0, wait_blocked(readers[j], __NR_read, RQ_BLOCK_MS))
				TH_LOG("after message %d, reader %d not in read(): %s",
				       msg, j, rq_seen);
			after = ctxt_switches(readers[j]);
			woken += after != before[j];
			before[j] = after;
		}
		EXPECT_LE(woken, 1)
			TH_LOG("message %d woke %d readers that did not get it", msg, woken);
		EXPECT_EQ(0, sysfs_get("count")) TH_LOG("message %d was not taken", msg);
	}
}

TEST_F(rustqueue, signal_interrupts_blocked_read)
{
	struct rustqueue_info before, after;
	int fd, status;
	char buf[16];
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_info(fd, &before));
	catch_signal(_metadata, SIGUSR1, 0);
	pid = signal_when_blocked(__NR_read, SIGUSR1);
	ASSERT_LT(0, pid);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, signals_caught());
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("signaller: %s", child_why(status));
	ASSERT_EQ(0, get_info(fd, &after));
	EXPECT_EQ(before.dequeued, after.dequeued);
	EXPECT_EQ(0, after.count);
	close(fd);
}

TEST_F(rustqueue, signal_interrupts_blocked_write)
{
	struct rustqueue_info before, after;
	int fd, status;
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	ASSERT_EQ(0, get_info(fd, &before));
	catch_signal(_metadata, SIGUSR1, 0);
	pid = signal_when_blocked(__NR_write, SIGUSR1);
	ASSERT_LT(0, pid);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "late", 4));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, signals_caught());
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("signaller: %s", child_why(status));
	info_checked(_metadata, fd, &after);
	EXPECT_EQ(before.enqueued, after.enqueued);
	EXPECT_EQ(RQ_CAPACITY, after.count);
	EXPECT_EQ(0, after.in_flight) TH_LOG("the interrupted write kept a place");
	EXPECT_EQ(RQ_CAPACITY, after.bytes) TH_LOG("the interrupted write queued bytes");
	close(fd);
}

/* ERESTARTSYS, not EINTR: under SA_RESTART the read goes on waiting. */
TEST_F(rustqueue, signal_with_sa_restart_restarts_read)
{
	int fd, status;
	char buf[16];
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	catch_signal(_metadata, SIGUSR1, SA_RESTART);
	pid = signal_then_write_when_blocked(__NR_read, SIGUSR1, "after");
	ASSERT_LT(0, pid);
	ASSERT_EQ(5, read(fd, buf, sizeof(buf))) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	EXPECT_EQ(1, signals_caught());
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("signaller and writer: %s", child_why(status));
	close(fd);
}

/* max_msg_size is exact in both modes, counts its refusals and spares queued messages. */
TEST_F(rustqueue, max_msg_size_exact_in_both_modes)
{
	long long rejected = sysfs_get("rejected");
	char msg[128], buf[128];
	int pfd, fd, i;

	pfd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, pfd);
	ASSERT_LE(0, rejected);
	ASSERT_EQ(0, sysfs_set("max_msg_size", "100"));
	fill(msg, sizeof(msg), 9);
	for (i = 0; i < 2; i++) {
		fd = i ? pfd : self->fd;
		errno = 0;
		EXPECT_EQ(-1, write(fd, msg, 101)) TH_LOG("%s mode", i ? "packet" : "default");
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(100, write(fd, msg, 100))
			TH_LOG("%s mode: %s", i ? "packet" : "default", strerror(errno));
	}
	EXPECT_EQ(rejected + 2, sysfs_get("rejected"));
	EXPECT_EQ(2, sysfs_get("count"));
	/* A lower limit leaves what is queued as it is. */
	ASSERT_EQ(0, sysfs_set("max_msg_size", "50"));
	EXPECT_EQ(100, read(pfd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(msg, buf, 100));
	close(pfd);
}

/* ---- poll and epoll, in both modes ---- */

FIXTURE(modes) {
	int fd;			/* read and write, O_NONBLOCK, the variant's mode */
	struct rq_limits saved;
};

FIXTURE_VARIANT(modes) {
	int flags;
};

FIXTURE_VARIANT_ADD(modes, default_mode) {
	.flags = 0,
};

FIXTURE_VARIANT_ADD(modes, packet_mode) {
	.flags = O_DIRECT,
};

FIXTURE_SETUP(modes)
{
	const char *why = rq_cannot_run();

	if (why)
		SKIP(return, "%s", why);
	self->fd = open(RQ_DEVICE, O_RDWR | O_NONBLOCK | variant->flags);
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	ASSERT_EQ(0, rq_begin(&self->saved))
		TH_LOG("cannot drain the queue or set its limits: %s", strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(modes)
{
	int err = rq_end(&self->saved);

	EXPECT_EQ(0, err) TH_LOG("cannot empty the queue, restore its limits: %s", strerror(err));
}

TEST_F(modes, poll_readiness)
{
	bool packet = variant->flags & O_DIRECT;
	char buf[16];
	int i;

	/* Empty: room, nothing to read. */
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_now(self->fd));
	ASSERT_EQ(2, write(self->fd, "m1", 2));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, poll_now(self->fd));
	fill_queue(_metadata, self->fd, RQ_CAPACITY - 1);
	/* Full: no room. */
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(self->fd));
	/* A read makes room. */
	ASSERT_EQ(2, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, poll_now(self->fd));
	if (packet) {
		for (i = 1; i < RQ_CAPACITY; i++)
			ASSERT_EQ(1, read(self->fd, buf, sizeof(buf)));
	} else {
		/* This open has read its message: end of file, readable (read() returns 0). */
		EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
		EXPECT_EQ(RQ_CAPACITY - 1, sysfs_get("count"));
		ASSERT_LE(0, rq_drain());
	}
	/* Empty again; the default-mode file is still at its end, so readable. */
	EXPECT_EQ((packet ? 0 : POLLIN | POLLRDNORM) | POLLOUT | POLLWRNORM, poll_now(self->fd));
}

/* Readiness follows the access mode: O_RDONLY never sees POLLOUT, O_WRONLY never POLLIN. */
TEST_F(modes, poll_honours_access_mode)
{
	int ro, wo;

	ro = open(RQ_DEVICE, O_RDONLY | O_NONBLOCK | variant->flags);
	wo = open(RQ_DEVICE, O_WRONLY | O_NONBLOCK | variant->flags);
	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	/* Empty: room for the writer, nothing for the reader. */
	EXPECT_EQ(0, poll_now(ro)) TH_LOG("O_RDONLY, empty queue");
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_now(wo));
	EXPECT_EQ(0, epoll_now(ro, EPOLLIN | EPOLLOUT));
	EXPECT_EQ(EPOLLOUT, epoll_now(wo, EPOLLIN | EPOLLOUT));
	/* One message: something to read and room both. */
	ASSERT_EQ(1, write(wo, "m", 1));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(ro)) TH_LOG("O_RDONLY, one message queued");
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_now(wo)) TH_LOG("O_WRONLY, one message queued");
	EXPECT_EQ(EPOLLIN, epoll_now(ro, EPOLLIN | EPOLLOUT));
	EXPECT_EQ(EPOLLOUT, epoll_now(wo, EPOLLIN | EPOLLOUT));
	/* Full: nothing for the writer. */
	fill_queue(_metadata, wo, RQ_CAPACITY - 1);
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(ro));
	EXPECT_EQ(0, poll_now(wo)) TH_LOG("O_WRONLY, full queue");
	EXPECT_EQ(0, epoll_now(wo, EPOLLIN | EPOLLOUT));
	close(ro);
	close(wo);
}

TEST_F(modes, poll_woken_by_write_and_by_read)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	int status;
	pid_t pid;

	pid = write_when_blocked(RQ_NR_POLL, "hello");
	ASSERT_LT(0, pid);
	EXPECT_EQ(1, poll(&pfd, 1, WAKE_MS));
	EXPECT_EQ(POLLIN, pfd.revents & (POLLIN | POLLERR | POLLHUP));
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	ASSERT_LE(0, rq_drain());

	fill_queue(_metadata, self->fd, RQ_CAPACITY);
	pfd.events = POLLOUT;
	pid = read_when_blocked(RQ_NR_POLL);
	ASSERT_LT(0, pid);
	EXPECT_EQ(1, poll(&pfd, 1, WAKE_MS));
	EXPECT_EQ(POLLOUT, pfd.revents);
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("reader: %s", child_why(status));
}

TEST_F(modes, epoll_readiness_and_wakeup)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, got;
	int ep, status;
	pid_t pid;

	ep = epoll_create1(0);
	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->fd, &ev));
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(EPOLLOUT, got.events);

	fill_queue(_metadata, self->fd, RQ_CAPACITY);
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 0));
	EXPECT_EQ(EPOLLIN, got.events);

	/* Edge-triggered, waiting for room: a reader elsewhere makes some. */
	ev.events = EPOLLOUT | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	pid = read_when_blocked(RQ_NR_EPOLL_WAIT);
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, WAKE_MS));
	EXPECT_EQ(EPOLLOUT, got.events);
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("reader: %s", child_why(status));

	/* And waiting for a message in an empty queue. */
	ASSERT_LE(0, rq_drain());
	ev.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	pid = write_when_blocked(RQ_NR_EPOLL_WAIT, "ping");
	ASSERT_LT(0, pid);
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, WAKE_MS));
	EXPECT_EQ(EPOLLIN, got.events);
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	close(ep);
}

/* ---- poll and epoll of a default-mode file, in each of its states ---- */

/* Holding part of a message: readable on its own, with nothing queued. */
TEST_F(rustqueue, poll_partly_read_message)
{
	struct rustqueue_info info;
	int fd;

	fd = open_partly_read(_metadata, self->fd, 0);
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(1, info.in_flight);
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(fd));
	EXPECT_EQ(EPOLLIN, epoll_now(fd, EPOLLIN | EPOLLOUT));
	close(fd);
}

/* At end of file read() returns 0 at once, so poll and epoll report POLLIN at once. */
TEST_F(rustqueue, poll_at_end_of_file_is_readable)
{
	char buf[16];
	int fd;

	ASSERT_EQ(1, write(self->fd, "m", 1));
	ASSERT_EQ(2, write(self->fd, "m2", 2));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(fd)) TH_LOG("at end of file, a message queued");
	EXPECT_EQ(EPOLLIN, epoll_now(fd, EPOLLIN | EPOLLOUT));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(1, sysfs_get("count")) TH_LOG("the next message is not this file's");
	/* And with the queue empty. */
	ASSERT_EQ(2, read_one(buf, sizeof(buf)));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(fd)) TH_LOG("at end of file, queue empty");
	EXPECT_EQ(EPOLLIN, epoll_now(fd, EPOLLIN | EPOLLOUT));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

/*
 * Before its first message, with the queue empty, read() returns 0 but poll
 * waits for a message: "poll, then read" waits for the first one.
 */
TEST_F(rustqueue, poll_before_first_message_waits)
{
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, poll_now(fd)) TH_LOG("nothing queued, nothing taken");
	EXPECT_EQ(0, epoll_now(fd, EPOLLIN | EPOLLOUT));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, poll_now(fd)) TH_LOG("a read of an empty queue took nothing");
	ASSERT_EQ(2, write(self->fd, "m1", 2));
	EXPECT_EQ(POLLIN | POLLRDNORM, poll_now(fd));
	EXPECT_EQ(EPOLLIN, epoll_now(fd, EPOLLIN | EPOLLOUT));
	close(fd);
}

/* ---- O_ASYNC ---- */

/* Turn O_ASYNC on or off for FD, owned by this process, with F_SETSIG SIGNO. */
static int set_async(int fd, bool on, int signo)
{
	int flags = fcntl(fd, F_GETFL);

	if (flags < 0 || fcntl(fd, F_SETOWN, getpid()) || fcntl(fd, F_SETSIG, signo))
		return -1;
	return fcntl(fd, F_SETFL, on ? flags | O_ASYNC : flags & ~O_ASYNC);
}

/* The signal of SET that is pending now, with its siginfo; 0 when none is. */
static int pending_signal(const sigset_t *set, siginfo_t *si)
{
	struct timespec now = { 0 };
	int signo = sigtimedwait(set, si, &now);

	return signo < 0 ? 0 : signo;
}

/*
 * Take the pending signals of SET while each is SIG_A, sent for FD_A, or
 * SIG_B, for FD_B, with si_code CODE and the POLL bit BAND in si_band;
 * returns how many, with the signal that ended the run (0: none) in *NEXT.
 */
static int take_signals(struct __test_metadata *_metadata, const sigset_t *set,
			int sig_a, int fd_a, int sig_b, int fd_b, int code, long band,
			int *next)
{
	siginfo_t si;
	int n, signo;

	for (n = 0; (signo = pending_signal(set, &si)) == sig_a || signo == sig_b; n++) {
		EXPECT_EQ(signo == sig_a ? fd_a : fd_b, si.si_fd);
		EXPECT_EQ(code, si.si_code);
		EXPECT_TRUE(si.si_band & band) TH_LOG("si_band %lx", (long)si.si_band);
	}
	*next = signo;
	return n;
}

/*
 * With F_SETSIG, each message queued signals each O_ASYNC file open for
 * reading with POLL_IN and its fd, and each place freed each one open for
 * writing with POLL_OUT, as for a pipe; a file open for both is on both
 * lists.  Access modes and O_ASYNC off are honoured, and nothing else
 * signals.
 */
TEST_F(rustqueue, o_async_signals_message_and_room)
{
	int rd_sig = SIGRTMIN, wr_sig = SIGRTMIN + 1, rw_sig = SIGRTMIN + 2;
	int rfd, wfd, rwfd, i, signo, n;
	sigset_t set;
	siginfo_t si;
	char buf[16];

	sigemptyset(&set);
	sigaddset(&set, rd_sig);
	sigaddset(&set, wr_sig);
	sigaddset(&set, rw_sig);
	sigaddset(&set, SIGIO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	rfd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	wfd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
	rwfd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, rfd);
	ASSERT_LE(0, wfd);
	ASSERT_LE(0, rwfd);
	ASSERT_EQ(0, set_async(rfd, true, rd_sig)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, set_async(wfd, true, wr_sig)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, set_async(rwfd, true, rw_sig)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, pending_signal(&set, &si)) TH_LOG("O_ASYNC on signalled by itself");

	/* A message: each reading file hears of it, with its own fd. */
	ASSERT_EQ(4, write(self->fd, "ping", 4));
	n = take_signals(_metadata, &set, rd_sig, rfd, rw_sig, rwfd, POLL_IN, POLLIN, &signo);
	EXPECT_EQ(0, signo) TH_LOG("signal %d for a message", signo);
	EXPECT_EQ(2, n) TH_LOG("%d signals for a message to two reading files", n);

	/* Every message signals, not only the first of an empty queue. */
	fill_queue(_metadata, self->fd, RQ_CAPACITY - 1);
	n = take_signals(_metadata, &set, rd_sig, rfd, rw_sig, rwfd, POLL_IN, POLLIN, &signo);
	EXPECT_EQ(0, signo) TH_LOG("signal %d while filling", signo);
	EXPECT_EQ(2 * (RQ_CAPACITY - 1), n) TH_LOG("%d signals for %d messages", n,
						   RQ_CAPACITY - 1);

	/* Room: each writing file hears of it, a read-only one does not. */
	ASSERT_EQ(4, read(rfd, buf, sizeof(buf)));
	n = take_signals(_metadata, &set, wr_sig, wfd, rw_sig, rwfd, POLL_OUT, POLLOUT, &signo);
	EXPECT_EQ(0, signo) TH_LOG("signal %d for a place freed", signo);
	EXPECT_EQ(2, n) TH_LOG("%d signals for a place to two writing files", n);

	/* Off again: nothing more, and the queue works on. */
	ASSERT_EQ(0, set_async(rfd, false, rd_sig));
	ASSERT_EQ(0, set_async(wfd, false, wr_sig));
	ASSERT_EQ(0, set_async(rwfd, false, rw_sig));
	for (i = 0; i < RQ_CAPACITY - 1; i++)
		ASSERT_EQ(1, read(rfd, buf, sizeof(buf)));
	ASSERT_EQ(4, write(wfd, "pong", 4));
	EXPECT_EQ(0, pending_signal(&set, &si)) TH_LOG("signal %d after O_ASYNC off", si.si_signo);
	close(rwfd);
	close(wfd);
	close(rfd);
}

/*
 * A signal-driven reader, the way such programs are written: SIGIO stays
 * blocked, the reader empties the queue with O_NONBLOCK reads, then waits
 * for SIGIO; a child writes more messages than the queue holds, waiting for
 * room.  Every message arrives, in order, with no poll() and no blocked read.
 */
TEST_F(rustqueue, o_async_signal_driven_reader)
{
	const int total = 8 * RQ_CAPACITY;
	struct timespec timeout = { .tv_sec = RQ_BLOCK_MS / 1000 };
	int fd, status, got = 0, waits = 0;
	char buf[32], want[32];
	sigset_t set;
	ssize_t n;
	pid_t pid;

	sigemptyset(&set);
	sigaddset(&set, SIGIO);
	ASSERT_EQ(0, sigprocmask(SIG_BLOCK, &set, NULL));
	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fcntl(fd, F_SETOWN, getpid()));
	ASSERT_EQ(0, fcntl(fd, F_SETFL, O_DIRECT | O_NONBLOCK | O_ASYNC));

	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int wfd = open(RQ_DEVICE, O_WRONLY | O_DIRECT), i;

		for (i = 0; wfd >= 0 && i < total; i++) {
			snprintf(buf, sizeof(buf), "message %d", i);
			if (write(wfd, buf, strlen(buf)) != (ssize_t)strlen(buf))
				_exit(CHILD_CALL_FAILED);
			if (i % 5 == 0)
				usleep(1000);
		}
		_exit(wfd >= 0 ? CHILD_OK : CHILD_CALL_FAILED);
	}

	while (got < total) {
		n = read(fd, buf, sizeof(buf) - 1);
		if (n > 0) {
			buf[n] = '\0';
			snprintf(want, sizeof(want), "message %d", got);
			ASSERT_STREQ(want, buf);
			got++;
			continue;
		}
		ASSERT_EQ(-1, n);
		ASSERT_EQ(EAGAIN, errno) TH_LOG("read: %s", strerror(errno));
		/* A message queued since the read left SIGIO pending: no race. */
		ASSERT_EQ(SIGIO, sigtimedwait(&set, NULL, &timeout))
			TH_LOG("no SIGIO within %d ms, %d of %d messages read", RQ_BLOCK_MS, got,
			       total);
		waits++;
	}
	status = child_status(pid);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	EXPECT_LT(0, waits);
	TH_LOG("%d messages, %d waits for SIGIO", got, waits);
	close(fd);
}

/* ---- The info ioctl and FIONREAD ---- */

TEST_F(rustqueue, info_ioctl_follows_a_known_sequence)
{
	struct rustqueue_info a, b;
	static char big[RQ_MAX_MSG + 1];
	char buf[16];
	int i;

	ASSERT_EQ(0, get_info(self->fd, &a)) TH_LOG("RUSTQUEUE_IOC_INFO: %s", strerror(errno));
	EXPECT_EQ(RQ_CAPACITY, a.capacity);
	EXPECT_EQ(RQ_MAX_MSG, a.max_msg_size);
	EXPECT_EQ(0, a.count);
	EXPECT_EQ(0, a.next_len);
	EXPECT_EQ(0, a.bytes);
	EXPECT_EQ(0, a.in_flight);
	EXPECT_EQ(0, a.pad);
	for (i = 0; i < (int)ARRAY_SIZE(a.reserved); i++)
		EXPECT_EQ(0, a.reserved[i]) TH_LOG("reserved[%d]", i);

	/* Queue 1, 22 and 333 bytes; refuse one too long; read one. */
	ASSERT_EQ(1, write(self->fd, big, 1));
	ASSERT_EQ(22, write(self->fd, big, 22));
	ASSERT_EQ(333, write(self->fd, big, 333));
	EXPECT_EQ(-1, write(self->fd, big, sizeof(big)));
	ASSERT_EQ(1, read_one(buf, sizeof(buf)));

	ASSERT_EQ(0, get_info(self->fd, &b));
	EXPECT_EQ(2, b.count);
	EXPECT_EQ(22, b.next_len);
	EXPECT_EQ(355, b.bytes);
	EXPECT_EQ(a.enqueued + 3, b.enqueued);
	EXPECT_EQ(a.dequeued + 1, b.dequeued);
	EXPECT_EQ(a.rejected + 1, b.rejected);

	/* A full queue refuses one more. */
	fill_queue(_metadata, self->fd, RQ_CAPACITY - 2);
	EXPECT_EQ(-1, write(self->fd, "y", 1));
	ASSERT_EQ(0, get_info(self->fd, &b));
	EXPECT_EQ(RQ_CAPACITY, b.count);
	EXPECT_EQ(a.enqueued + 3 + RQ_CAPACITY - 2, b.enqueued);
	EXPECT_EQ(a.rejected + 2, b.rejected);
	EXPECT_EQ(0, b.in_flight);
	EXPECT_EQ(0, b.pad);
	for (i = 0; i < (int)ARRAY_SIZE(b.reserved); i++)
		EXPECT_EQ(0, b.reserved[i]) TH_LOG("reserved[%d]", i);
}

TEST_F(rustqueue, fionread)
{
	char buf[8];
	int n = -1, fd;

	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n)) TH_LOG("FIONREAD: %s", strerror(errno));
	EXPECT_EQ(0, n);
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	ASSERT_EQ(2, write(self->fd, "hi", 2));
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	EXPECT_EQ(5, n);
	/* A default-mode open that read part of its message: the rest. */
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(3, read(fd, buf, 3));
	ASSERT_EQ(0, ioctl(fd, FIONREAD, &n));
	EXPECT_EQ(2, n);
	close(fd);
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &n));
	EXPECT_EQ(2, n);
}

TEST_F(rustqueue, bad_ioctls)
{
	long page = sysconf(_SC_PAGESIZE);
	struct rustqueue_info *ro;

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IO(RUSTQUEUE_IOC_MAGIC, 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, _IOR(RUSTQUEUE_IOC_MAGIC, 0, int), NULL));
	EXPECT_EQ(ENOTTY, errno) TH_LOG("a wrong size must not match RUSTQUEUE_IOC_INFO");
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, RUSTQUEUE_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, FIONREAD, NULL));
	EXPECT_EQ(EFAULT, errno);
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->fd, RUSTQUEUE_IOC_INFO, ro));
	EXPECT_EQ(EFAULT, errno);
	munmap(ro, page);
}

/* ---- Limits and counters in sysfs ---- */

TEST_F(rustqueue, sysfs_limits_ranges)
{
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("capacity"));
	EXPECT_EQ(RQ_MAX_MSG, sysfs_get("max_msg_size"));
	EXPECT_EQ(EINVAL, sysfs_set("capacity", "0"));
	EXPECT_EQ(EINVAL, sysfs_set("capacity", "65537"));
	EXPECT_EQ(EINVAL, sysfs_set("capacity", "-1"));
	EXPECT_EQ(EINVAL, sysfs_set("capacity", "many"));
	EXPECT_EQ(EINVAL, sysfs_set("max_msg_size", "0"));
	EXPECT_EQ(EINVAL, sysfs_set("max_msg_size", "1048577"));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("capacity"));
	EXPECT_EQ(RQ_MAX_MSG, sysfs_get("max_msg_size"));
	EXPECT_EQ(0, sysfs_set("capacity", "65536"));
	EXPECT_EQ(RQ_CAPACITY_MAX, sysfs_get("capacity"));
	EXPECT_EQ(0, sysfs_set("capacity", "1"));
	EXPECT_EQ(1, sysfs_get("capacity"));
}

TEST_F(rustqueue, sysfs_limits_apply)
{
	static char msg[RQ_MAX_MSG_MAX], buf[RQ_MAX_MSG_MAX];
	struct rustqueue_info info;
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	/* Capacity 2: the third write finds the queue full. */
	ASSERT_EQ(0, sysfs_set("capacity", "2"));
	fill_queue(_metadata, fd, 2);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "x", 1));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_LE(0, rq_drain());
	ASSERT_EQ(0, sysfs_set("capacity", "16"));

	/* max_msg_size 10: 10 bytes pass, 11 do not. */
	ASSERT_EQ(0, sysfs_set("max_msg_size", "10"));
	EXPECT_EQ(10, write(fd, msg, 10));
	errno = 0;
	EXPECT_EQ(-1, write(fd, msg, 11));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_LE(0, rq_drain());

	/* The largest message there can be, through a packet round trip. */
	ASSERT_EQ(0, sysfs_set("max_msg_size", "1048576"));
	ASSERT_EQ(0, get_info(fd, &info));
	EXPECT_EQ(RQ_MAX_MSG_MAX, info.max_msg_size);
	fill(msg, sizeof(msg), 5);
	ASSERT_EQ(RQ_MAX_MSG_MAX, write(fd, msg, sizeof(msg)));
	ASSERT_EQ(RQ_MAX_MSG_MAX, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(msg, buf, sizeof(buf)));
	close(fd);
}

TEST_F(rustqueue, sysfs_capacity_below_count_ebusy)
{
	fill_queue(_metadata, self->fd, 5);
	EXPECT_EQ(EBUSY, sysfs_set("capacity", "4"));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("capacity"));
	EXPECT_EQ(0, sysfs_set("capacity", "5"));
	EXPECT_EQ(5, sysfs_get("capacity"));
}

TEST_F(rustqueue, sysfs_capacity_raise_wakes_writer_and_poller)
{
	struct pollfd pfd;
	pid_t writer, poller;
	int fd, status;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	writer = blocked_writer("more");
	ASSERT_LT(0, writer);
	poller = fork_child();
	ASSERT_LE(0, poller);
	if (!poller) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		_exit(poll(&pfd, 1, WAKE_MS) == 1 && pfd.revents == POLLOUT ? CHILD_OK :
		      CHILD_CALL_FAILED);
	}
	/* Both wait: nobody reads anything. */
	ASSERT_EQ(0, wait_blocked(writer, __NR_write, RQ_BLOCK_MS))
		TH_LOG("the writer never blocked on the full queue: %s", rq_seen);
	ASSERT_EQ(0, wait_blocked(poller, RQ_NR_POLL, RQ_BLOCK_MS))
		TH_LOG("the poller never blocked: %s", rq_seen);
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("count"));
	ASSERT_EQ(0, sysfs_set("capacity", "18"));
	status = child_status_within(writer, WAKE_MS);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("writer: %s", child_why(status));
	status = child_status_within(poller, WAKE_MS);
	EXPECT_EQ(CHILD_OK, status) TH_LOG("poller: %s", child_why(status));
	EXPECT_EQ(RQ_CAPACITY + 1, sysfs_get("count"));
	close(fd);
}

TEST_F(rustqueue, sysfs_counters_match_ioctl)
{
	struct rustqueue_info info;
	long long enq, deq, rej;
	char buf[8];

	enq = sysfs_get("enqueued");
	deq = sysfs_get("dequeued");
	rej = sysfs_get("rejected");
	ASSERT_LE(0, enq);
	ASSERT_EQ(3, write(self->fd, "abc", 3));
	ASSERT_EQ(4, write(self->fd, "defg", 4));
	ASSERT_EQ(3, read_one(buf, sizeof(buf)));
	ASSERT_EQ(0, sysfs_set("max_msg_size", "2"));
	EXPECT_EQ(-1, write(self->fd, "toolong", 7));

	EXPECT_EQ(1, sysfs_get("count"));
	EXPECT_EQ(4, sysfs_get("bytes"));
	EXPECT_EQ(enq + 2, sysfs_get("enqueued"));
	EXPECT_EQ(deq + 1, sysfs_get("dequeued"));
	EXPECT_EQ(rej + 1, sysfs_get("rejected"));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(info.count, sysfs_get("count"));
	EXPECT_EQ(info.bytes, sysfs_get("bytes"));
	EXPECT_EQ(info.enqueued, sysfs_get("enqueued"));
	EXPECT_EQ(info.dequeued, sysfs_get("dequeued"));
	EXPECT_EQ(info.rejected, sysfs_get("rejected"));
	EXPECT_EQ(EACCES, sysfs_set("count", "0")) TH_LOG("count must be read-only");
}

/* ---- Tracepoints ---- */

/* Does LINE hold the field NAME=VALUE? */
static bool has_field(const char *line, const char *name, long value)
{
	size_t len = strlen(name);
	const char *p;
	char *end;

	for (p = line; (p = strstr(p, name)); p += len) {
		if ((p != line && p[-1] != ' ') || p[len] != '=')
			continue;
		if (strtol(p + len + 1, &end, 10) == value && (*end == ' ' || !*end))
			return true;
	}
	return false;
}

/* Does TRACE hold a line of EVENT with len LEN and depth DEPTH? */
static bool traced(const char *trace, const char *event, long len, long depth)
{
	const char *line, *eol;
	char buf[512];
	size_t n;

	for (line = trace; *line; line = *eol ? eol + 1 : eol) {
		eol = strchrnul(line, '\n');
		n = eol - line < (long)sizeof(buf) ? (size_t)(eol - line) : sizeof(buf) - 1;
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (strstr(buf, event) && has_field(buf, "len", len) &&
		    has_field(buf, "depth", depth))
			return true;
	}
	return false;
}

/*
 * The events fire, carry the queue's name, and can be told from KUnit's
 * queues by it.  They are recorded in a trace instance of the test's own:
 * the global buffer and its events stay as they were.
 */
TEST_F(rustqueue, tracepoints_fire)
{
	static const char *const events[] = { "rustqueue_enqueue", "rustqueue_dequeue" };
	static char trace[65536];
	char path[256], buf[16];
	size_t total = 0;
	int fd, i, err;
	ssize_t n;

	if (access(TRACEFS "/instances", F_OK))
		SKIP(return, "no " TRACEFS "/instances: tracefs not mounted, or no CONFIG_TRACING");
	if (access(TRACEFS "/events/rustqueue", F_OK))
		SKIP(return, "no rustqueue events in " TRACEFS ": no CONFIG_EVENT_TRACING");
	if (!rmdir(RQ_TRACE_INSTANCE))
		TH_LOG("removed " RQ_TRACE_INSTANCE ", left by an earlier run");
	ASSERT_EQ(0, mkdir(RQ_TRACE_INSTANCE, 0755))
		TH_LOG("mkdir " RQ_TRACE_INSTANCE ": %s", strerror(errno));
	self->tracing = true;
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), RQ_TRACE_INSTANCE "/events/rustqueue/%s/filter",
			 events[i]);
		err = write_file(path, "queue == \"rustqueue\"");
		EXPECT_EQ(0, err) TH_LOG("%s: %s: the events must carry a field 'queue'",
					 path, strerror(err));
		snprintf(path, sizeof(path), RQ_TRACE_INSTANCE "/events/rustqueue/%s/enable",
			 events[i]);
		err = write_file(path, "1");
		ASSERT_EQ(0, err) TH_LOG("%s: %s", path, strerror(err));
	}

	ASSERT_EQ(5, write(self->fd, "trace", 5));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	ASSERT_EQ(5, read_one(buf, sizeof(buf)));

	EXPECT_EQ(0, write_file(RQ_TRACE_INSTANCE "/tracing_on", "0"));
	fd = open(RQ_TRACE_INSTANCE "/trace", O_RDONLY);
	ASSERT_LE(0, fd) TH_LOG("open " RQ_TRACE_INSTANCE "/trace: %s", strerror(errno));
	while (total < sizeof(trace) - 1 &&
	       (n = read(fd, trace + total, sizeof(trace) - 1 - total)) > 0)
		total += n;
	close(fd);
	trace[total] = '\0';
	EXPECT_TRUE(traced(trace, "rustqueue_enqueue: ", 5, 1)) TH_LOG("%.2000s", trace);
	EXPECT_TRUE(traced(trace, "rustqueue_enqueue: ", 3, 2)) TH_LOG("%.2000s", trace);
	EXPECT_TRUE(traced(trace, "rustqueue_dequeue: ", 5, 1)) TH_LOG("%.2000s", trace);
	EXPECT_TRUE(!!strstr(trace, "rustqueue_enqueue: queue=rustqueue len=5 depth=1"))
		TH_LOG("%.2000s", trace);

	EXPECT_EQ(0, rmdir(RQ_TRACE_INSTANCE))
		TH_LOG("rmdir " RQ_TRACE_INSTANCE ": %s", strerror(errno));
	self->tracing = false;
}

/* ---- Several readers in both modes at once ---- */

#define XO_MESSAGES	3000
#define XO_READERS	4

struct xo_shared {
	int done;
	int seen[XO_MESSAGES];
	int out_of_order[XO_READERS];
	int bad[XO_READERS];
};

/*
 * Reader 0 reads in blocking packet mode until it reads "stop"; reader 2
 * polls and reads in non-blocking packet mode; readers 1 and 3 poll and
 * read one message per open (default mode).  The poll-driven ones stop
 * once the writer is done and nothing came for 100 ms.
 */
static void xo_reader(struct xo_shared *sh, int id)
{
	bool packet = id % 2 == 0;
	int fd = -1, last = -1, seq;
	struct pollfd pfd;
	char buf[64];
	ssize_t n, len;

	for (;;) {
		if (fd < 0)
			fd = open(RQ_DEVICE, O_RDONLY | (packet ? O_DIRECT : 0) |
				  (id == 0 ? 0 : O_NONBLOCK));
		if (fd < 0)
			_exit(2);
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (id != 0 && poll(&pfd, 1, 100) == 0) {
			if (__atomic_load_n(&sh->done, __ATOMIC_RELAXED))
				break;
			continue;
		}
		len = 0;
		do {
			n = read(fd, buf + len, sizeof(buf) - 1 - len);
			if (n > 0)
				len += n;
		} while (!packet && n > 0);
		if (!packet) {
			close(fd);
			fd = -1;
		}
		if (len <= 0)
			continue;	/* another reader was first */
		buf[len] = '\0';
		if (!strcmp(buf, "stop")) {
			if (id == 0)
				break;
			continue;
		}
		if (sscanf(buf, "seq %d", &seq) != 1 || seq < 0 || seq >= XO_MESSAGES) {
			sh->bad[id]++;
			continue;
		}
		__atomic_fetch_add(&sh->seen[seq], 1, __ATOMIC_RELAXED);
		if (seq < last)
			sh->out_of_order[id]++;
		last = seq;
	}
	_exit(0);
}

TEST_F(rustqueue, exactly_once_with_readers_in_both_modes)
{
	struct rustqueue_info before, after;
	int fd, i, status, lost = 0, dup = 0;
	pid_t readers[XO_READERS];
	struct xo_shared *sh;
	char msg[32];

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(sh != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_info(fd, &before));
	for (i = 0; i < XO_READERS; i++) {
		readers[i] = fork_child();
		ASSERT_LE(0, readers[i]);
		if (!readers[i])
			xo_reader(sh, i);
	}
	/* One blocking writer: the queue fills, so the readers set the pace. */
	for (i = 0; i < XO_MESSAGES; i++) {
		snprintf(msg, sizeof(msg), "seq %d", i);
		ASSERT_EQ((ssize_t)strlen(msg), write(fd, msg, strlen(msg)));
	}
	__atomic_store_n(&sh->done, 1, __ATOMIC_RELAXED);
	/* The poll-driven readers end once nothing came for 100 ms... */
	for (i = 1; i < XO_READERS; i++) {
		status = child_status_within(readers[i], WAKE_MS);
		EXPECT_EQ(0, status) TH_LOG("reader %d: status %d", i, status);
	}
	/* ...then reader 0, alone and blocked in read(), gets the one "stop". */
	ASSERT_EQ(4, write(fd, "stop", 4));
	status = child_status_within(readers[0], WAKE_MS);
	EXPECT_EQ(0, status) TH_LOG("reader 0: status %d", status);
	for (i = 0; i < XO_READERS; i++) {
		EXPECT_EQ(0, sh->bad[i]) TH_LOG("reader %d got corrupt messages", i);
		EXPECT_EQ(0, sh->out_of_order[i]) TH_LOG("reader %d saw messages out of order", i);
	}
	for (i = 0; i < XO_MESSAGES; i++) {
		lost += sh->seen[i] == 0;
		dup += sh->seen[i] > 1;
	}
	EXPECT_EQ(0, lost);
	EXPECT_EQ(0, dup);
	info_checked(_metadata, fd, &after);
	/* Nothing is left, and every message read counts. */
	EXPECT_EQ(0, after.count + after.in_flight);
	EXPECT_EQ(after.enqueued - before.enqueued, after.dequeued - before.dequeued);
	close(fd);
	munmap(sh, sizeof(*sh));
}

/* ---- The memory one queue can pin ---- */

#define MEM_FILES	200
#define MEM_WRITERS	40
#define MEM_CAPACITY	16
#define MEM_MSG		(1024 * 1024)
/*
 * What the rest of the kernel may allocate while the test measures (proc
 * and pipe objects, KASAN's quarantine, kmemleak's metadata): far below
 * the one message per open file that an unbounded queue pins.
 */
#define MEM_SLACK_KB	1024

/* Slab + VmallocUsed of /proc/meminfo, in KiB: where message memory lives; -1 if unknown. */
static long message_memory_kb(void)
{
	static const char *const keys[] = { "\nSlab:", "\nVmallocUsed:" };
	char meminfo[8192], *p;
	long kb = 0;
	int i;

	if (read_file("/proc/meminfo", meminfo, sizeof(meminfo)) <= 0)
		return -1;
	for (i = 0; i < 2; i++) {
		p = strstr(meminfo, keys[i]);
		if (!p)
			return -1;
		kb += strtol(p + strlen(keys[i]), NULL, 10);
	}
	return kb;
}

/*
 * One packet writer of a MEM_MSG message: it opens the device, touches its
 * buffer and says it is ready, then waits for "go" before it writes.
 */
static void mem_writer(int ready, int go, const char *msg)
{
	int fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
	char c = 0;
	int i;

	/* Touch the buffer; the sum goes out as the "ready" byte, so it is computed. */
	for (i = 0; i < MEM_MSG; i += 256)
		c += msg[i];
	if (fd < 0 || write(ready, &c, 1) != 1)
		_exit(CHILD_CALL_FAILED);
	/* End of file instead of "go": the test is over, write nothing. */
	if (read(go, &c, 1) != 1)
		_exit(CHILD_CALL_FAILED);
	_exit(write(fd, msg, MEM_MSG) == MEM_MSG ? CHILD_OK : CHILD_CALL_FAILED);
}

/*
 * The capacity bounds the memory a queue pins, whatever the number of open
 * files and blocked writers: 200 default-mode files each try to take a
 * 1 MiB message and hold it partly read, then 40 packet writers of 1 MiB
 * block on the full queue.  Only 16 files get one (the 17th write fails
 * with ENOSPC), the writers hold nothing while they wait, and the growth
 * of Slab + VmallocUsed stays within capacity x (PAGE_ALIGN(max_msg_size)
 * + PAGE_SIZE) + 2 x PAGE_SIZE.  Processes, files and buffers are all made
 * before the baseline, and one message goes through first to warm caches.
 */
TEST_F_TIMEOUT(rustqueue, memory_bound_files_and_blocked_writers, 120)
{
	long page = sysconf(_SC_PAGESIZE), before, after, growth, bound;
	int accepted = 0, held = 0, blocked = 0, unexpected = 0;
	int ready[2], go[2], fds[MEM_FILES], fd, i;
	pid_t writers[MEM_WRITERS];
	struct rustqueue_info info;
	char gos[MEM_WRITERS], c;
	char *msg;

	ASSERT_EQ(0, rq_limits_set(MEM_CAPACITY, MEM_MSG));
	msg = mmap(NULL, MEM_MSG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(msg != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	fill(msg, MEM_MSG, 8);
	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < MEM_WRITERS; i++) {
		writers[i] = fork_child();
		ASSERT_LE(0, writers[i]) TH_LOG("fork: %s", strerror(errno));
		if (!writers[i]) {
			close(ready[0]);
			close(go[1]);
			mem_writer(ready[1], go[0], msg);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < MEM_WRITERS; i++)
		ASSERT_EQ(1, read(ready[0], &c, 1))
			TH_LOG("%d of %d writers ready", i, MEM_WRITERS);
	/* Each waits for "go" in read() (and its /proc files exist before the baseline). */
	for (i = 0; i < MEM_WRITERS; i++)
		ASSERT_EQ(0, wait_blocked(writers[i], __NR_read, RQ_BLOCK_MS))
			TH_LOG("writer %d does not wait for go: %s", i, rq_seen);
	for (i = 0; i < MEM_FILES; i++) {
		fds[i] = open(RQ_DEVICE, O_RDONLY);
		ASSERT_LE(0, fds[i]) TH_LOG("open %d: %s", i, strerror(errno));
	}
	ASSERT_EQ(MEM_MSG, write(self->fd, msg, MEM_MSG)) TH_LOG("%s", strerror(errno));
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, read(fd, &c, 1));
	close(fd);

	before = message_memory_kb();
	ASSERT_LT(0, before) TH_LOG("no Slab or VmallocUsed in /proc/meminfo");
	for (i = 0; i < MEM_FILES; i++) {
		errno = 0;
		if (write(self->fd, msg, MEM_MSG) == MEM_MSG)
			accepted++;
		else if (errno != ENOSPC && !unexpected++)
			TH_LOG("write %d: %s, expected ENOSPC", i, strerror(errno));
		if (read(fds[i], &c, 1) == 1)
			held++;
	}
	memset(gos, 'g', sizeof(gos));
	ASSERT_EQ(MEM_WRITERS, write(go[1], gos, sizeof(gos)));
	for (i = 0; i < MEM_WRITERS; i++) {
		if (!wait_blocked(writers[i], __NR_write, RQ_BLOCK_MS))
			blocked++;
		else
			TH_LOG("writer %d is not blocked in write(): %s", i, rq_seen);
	}
	after = message_memory_kb();
	ASSERT_EQ(0, get_info(self->fd, &info));

	growth = after - before;
	bound = (MEM_CAPACITY * ((MEM_MSG + page - 1) / page * page + page) + 2 * page) / 1024;
	ksft_print_msg("memory: Slab+VmallocUsed grew %ld KiB, bound %ld KiB (capacity %d)\n",
		       growth, bound, MEM_CAPACITY);
	ksft_print_msg("memory: %d/%d 1 MiB writes taken, %d files hold one, %d/%d writers wait\n",
		       accepted, MEM_FILES, held, blocked, MEM_WRITERS);
	EXPECT_LE(growth, bound + MEM_SLACK_KB)
		TH_LOG("the queue pins %ld KiB, over its bound of %ld KiB (+%d KiB slack)",
		       growth, bound, MEM_SLACK_KB);
	EXPECT_EQ(MEM_CAPACITY, accepted) TH_LOG("held messages must keep their places");
	EXPECT_EQ(0, unexpected);
	EXPECT_EQ(MEM_CAPACITY, held);
	EXPECT_EQ(MEM_WRITERS, blocked);
	EXPECT_EQ(0, info.count);
	EXPECT_EQ(MEM_CAPACITY, info.in_flight);

	/* The writers first: blocked, they queue nothing as they die; then the files. */
	for (i = 0; i < MEM_WRITERS; i++)
		kill(writers[i], SIGKILL);
	for (i = 0; i < MEM_WRITERS; i++)
		waitpid(writers[i], NULL, 0);
	for (i = 0; i < MEM_FILES; i++)
		close(fds[i]);
	close(ready[0]);
	close(go[1]);
	munmap(msg, MEM_MSG);
	info_checked(_metadata, self->fd, &info);
	EXPECT_EQ(0, info.count + info.in_flight)
		TH_LOG("count %u, in_flight %u with every file closed and every writer gone",
		       info.count, info.in_flight);
}

TEST_HARNESS_MAIN
