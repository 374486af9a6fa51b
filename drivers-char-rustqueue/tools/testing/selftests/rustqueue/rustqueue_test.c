// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for /dev/rustqueue (drivers/char/rustqueue.c): one global FIFO of
 * "capacity" messages (default 16) of at most "max_msg_size" bytes (default
 * 4096).  An open without O_DIRECT reads one message per open and never
 * blocks; an O_DIRECT open reads one whole message per read() and blocks.
 * Every test starts from an empty queue with the default limits.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"

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

/* A child that sleeps MS milliseconds, then writes MSG in packet mode. */
static pid_t write_later(int ms, const char *msg)
{
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	usleep(ms * 1000);
	fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
	_exit(fd >= 0 && write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg) ? 0 : 1);
}

/* A child that sleeps MS milliseconds, then reads one packet. */
static pid_t read_later(int ms)
{
	char buf[RQ_MAX_MSG];
	pid_t pid = fork();
	int fd;

	if (pid)
		return pid;
	usleep(ms * 1000);
	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	_exit(fd >= 0 && read(fd, buf, sizeof(buf)) > 0 ? 0 : 1);
}

/* A child that sends SIGNO to its parent after MS milliseconds. */
static pid_t signal_later(int ms, int signo)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	usleep(ms * 1000);
	kill(getppid(), signo);
	_exit(0);
}

/* Exit status of PID, -1 when it did not exit normally. */
static int child_status(pid_t pid)
{
	int status;

	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/*
 * Exit status of PID if it exits within MS milliseconds; otherwise it is
 * killed and the result is -2, so that a missing wakeup fails the test
 * at once instead of hanging it.
 */
static int child_status_within(pid_t pid, int ms)
{
	int status, waited;

	for (waited = 0; waited < ms; waited += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		usleep(10 * 1000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return -2;
}

static int signals_seen;

static void on_signal(int signo)
{
	__atomic_fetch_add(&signals_seen, 1, __ATOMIC_RELAXED);
}

static int signals_caught(void)
{
	return __atomic_load_n(&signals_seen, __ATOMIC_RELAXED);
}

static void catch_signal(int signo, int flags)
{
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = flags };

	sigemptyset(&sa.sa_mask);
	sigaction(signo, &sa, NULL);
	__atomic_store_n(&signals_seen, 0, __ATOMIC_RELAXED);
}

static long elapsed_ms(const struct timespec *start)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - start->tv_sec) * 1000 + (now.tv_nsec - start->tv_nsec) / 1000000;
}

static void fill_queue(struct __test_metadata *_metadata, int fd, int n)
{
	int i;

	for (i = 0; i < n; i++)
		ASSERT_EQ(1, write(fd, "x", 1)) TH_LOG("write %d: %s", i, strerror(errno));
}

FIXTURE(rustqueue) {
	int fd;
};

FIXTURE_SETUP(rustqueue)
{
	self->fd = open(RQ_DEVICE, O_RDWR);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, RQ_DEVICE " not present: load rustqueue.ko (CONFIG_RUSTQUEUE)");
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	/* Whatever an earlier test or user left goes. */
	ASSERT_EQ(0, reset_queue()) TH_LOG("cannot drain the queue or reset its limits: %s",
					   strerror(errno));
}

FIXTURE_TEARDOWN(rustqueue)
{
	if (self->fd >= 0)
		close(self->fd);
	reset_queue();
}

TEST_F(rustqueue, device_node)
{
	struct stat st;

	ASSERT_EQ(0, stat(RQ_DEVICE, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0600, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
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

/* A packet read into a bad buffer loses nothing: the message stays first. */
TEST_F(rustqueue, packet_read_into_bad_pointer_keeps_message)
{
	long page = sysconf(_SC_PAGESIZE);
	char buf[16];
	void *p;
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "first", 5));
	ASSERT_EQ(6, write(fd, "second", 6));
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(p != MAP_FAILED) TH_LOG("mmap: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, read(fd, p, 16));
	EXPECT_EQ(EFAULT, errno);
	munmap(p, page);
	EXPECT_EQ(2, sysfs_get("count"));
	EXPECT_EQ(11, sysfs_get("bytes"));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "first", 5));
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

	ASSERT_EQ(6, write(self->fd, "abcdef", 6));
	ASSERT_EQ(3, write(self->fd, "xyz", 3));
	fd = open(RQ_DEVICE, O_RDONLY | O_NONBLOCK);
	ASSERT_LE(0, fd);
	ASSERT_EQ(2, read(fd, buf, 2));
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
	struct timespec start;
	char buf[16];
	pid_t pid;
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	clock_gettime(CLOCK_MONOTONIC, &start);
	pid = write_later(200, "wake");
	ASSERT_LT(0, pid);
	ASSERT_EQ(4, read(fd, buf, sizeof(buf))) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "wake", 4));
	EXPECT_LE(150, elapsed_ms(&start)) TH_LOG("the read did not wait for the writer");
	EXPECT_EQ(0, child_status(pid));
	close(fd);
}

TEST_F(rustqueue, blocking_write_woken_by_read)
{
	struct timespec start;
	char buf[16];
	int fd, i;
	pid_t pid;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	clock_gettime(CLOCK_MONOTONIC, &start);
	pid = read_later(200);
	ASSERT_LT(0, pid);
	ASSERT_EQ(4, write(fd, "last", 4)) TH_LOG("%s", strerror(errno));
	EXPECT_LE(150, elapsed_ms(&start)) TH_LOG("the write did not wait for room");
	EXPECT_EQ(0, child_status(pid));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("count"));
	/* FIFO: fifteen "x", then "last". */
	for (i = 0; i < RQ_CAPACITY - 1; i++)
		ASSERT_EQ(1, read(fd, buf, sizeof(buf)));
	ASSERT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "last", 4));
	close(fd);
}

/* The voluntary context switches of PID so far, or -1. */
static long ctxt_switches(pid_t pid)
{
	char path[64], line[128];
	long n = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
			break;
	fclose(f);
	return n;
}

/* Readers wait exclusively: one message wakes one of them, not the crowd. */
TEST_F(rustqueue, one_message_wakes_one_reader)
{
	long before[4], after;
	int i, woken = 0;
	pid_t readers[4];

	for (i = 0; i < 4; i++)
		readers[i] = read_later(0);
	usleep(300 * 1000);
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, waitpid(readers[i], NULL, WNOHANG))
			TH_LOG("reader %d did not wait", i);
		before[i] = ctxt_switches(readers[i]);
		ASSERT_LT(0, before[i]);
	}
	ASSERT_EQ(3, write(self->fd, "one", 3));
	usleep(300 * 1000);
	for (i = 0; i < 4; i++) {
		if (waitpid(readers[i], NULL, WNOHANG) == readers[i]) {
			woken++;
			readers[i] = 0;
			continue;
		}
		after = ctxt_switches(readers[i]);
		EXPECT_EQ(before[i], after)
			TH_LOG("reader %d woke for a message it did not get", i);
	}
	EXPECT_EQ(1, woken);
	/* A message each for the others. */
	for (i = 0; i < 4; i++)
		if (readers[i])
			ASSERT_EQ(1, write(self->fd, "x", 1));
	for (i = 0; i < 4; i++)
		if (readers[i])
			EXPECT_EQ(0, child_status_within(readers[i], 5000));
}

TEST_F(rustqueue, signal_interrupts_blocked_read)
{
	struct rustqueue_info before, after;
	char buf[16];
	pid_t pid;
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, get_info(fd, &before));
	catch_signal(SIGUSR1, 0);
	pid = signal_later(200, SIGUSR1);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, signals_caught());
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, get_info(fd, &after));
	EXPECT_EQ(before.dequeued, after.dequeued);
	EXPECT_EQ(0, after.count);
	close(fd);
}

TEST_F(rustqueue, signal_interrupts_blocked_write)
{
	struct rustqueue_info before, after;
	pid_t pid;
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	ASSERT_EQ(0, get_info(fd, &before));
	catch_signal(SIGUSR1, 0);
	pid = signal_later(200, SIGUSR1);
	errno = 0;
	EXPECT_EQ(-1, write(fd, "late", 4));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(1, signals_caught());
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, get_info(fd, &after));
	EXPECT_EQ(before.enqueued, after.enqueued);
	EXPECT_EQ(RQ_CAPACITY, after.count);
	EXPECT_EQ(RQ_CAPACITY, after.bytes) TH_LOG("the interrupted write queued bytes");
	close(fd);
}

/* ERESTARTSYS, not EINTR: under SA_RESTART the read goes on waiting. */
TEST_F(rustqueue, signal_with_sa_restart_restarts_read)
{
	pid_t sig, wr;
	char buf[16];
	int fd;

	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	catch_signal(SIGUSR1, SA_RESTART);
	sig = signal_later(100, SIGUSR1);
	wr = write_later(400, "after");
	ASSERT_EQ(5, read(fd, buf, sizeof(buf))) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(buf, "after", 5));
	EXPECT_EQ(1, signals_caught());
	EXPECT_EQ(0, child_status(sig));
	EXPECT_EQ(0, child_status(wr));
	close(fd);
}

/* ---- poll and epoll, in both modes ---- */

FIXTURE(modes) {
	int fd;
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
	self->fd = open(RQ_DEVICE, O_RDWR | O_NONBLOCK | variant->flags);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, RQ_DEVICE " not present: load rustqueue.ko (CONFIG_RUSTQUEUE)");
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	ASSERT_EQ(0, reset_queue());
}

FIXTURE_TEARDOWN(modes)
{
	if (self->fd >= 0)
		close(self->fd);
	reset_queue();
}

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

TEST_F(modes, poll_readiness)
{
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
	if (variant->flags & O_DIRECT) {
		EXPECT_EQ(POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM, poll_now(self->fd));
		for (i = 1; i < RQ_CAPACITY; i++)
			ASSERT_EQ(1, read(self->fd, buf, sizeof(buf)));
	} else {
		/* This open has read its message: end of file, not readable. */
		EXPECT_EQ(POLLOUT | POLLWRNORM, poll_now(self->fd));
		EXPECT_EQ(0, read(self->fd, buf, sizeof(buf)));
		EXPECT_EQ(RQ_CAPACITY - 1, sysfs_get("count"));
		ASSERT_EQ(0, reset_queue());
	}
	EXPECT_EQ(POLLOUT | POLLWRNORM, poll_now(self->fd));
}

TEST_F(modes, poll_woken_by_write_and_by_read)
{
	struct pollfd pfd = { .fd = self->fd, .events = POLLIN };
	pid_t pid;

	pid = write_later(200, "hello");
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLIN, pfd.revents & (POLLIN | POLLERR | POLLHUP));
	EXPECT_EQ(0, child_status(pid));
	ASSERT_EQ(0, reset_queue());

	fill_queue(_metadata, self->fd, RQ_CAPACITY);
	pfd.events = POLLOUT;
	pid = read_later(200);
	EXPECT_EQ(1, poll(&pfd, 1, 5000));
	EXPECT_EQ(POLLOUT, pfd.revents);
	EXPECT_EQ(0, child_status(pid));
}

TEST_F(modes, epoll_readiness_and_wakeup)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, got;
	pid_t pid;
	int ep;

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
	pid = read_later(200);
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 5000));
	EXPECT_EQ(EPOLLOUT, got.events);
	EXPECT_EQ(0, child_status(pid));

	/* And waiting for a message in an empty queue. */
	ASSERT_EQ(0, reset_queue());
	ev.events = EPOLLIN | EPOLLET;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, &got, 1, 0));
	pid = write_later(200, "ping");
	ASSERT_EQ(1, epoll_wait(ep, &got, 1, 5000));
	EXPECT_EQ(EPOLLIN, got.events);
	EXPECT_EQ(0, child_status(pid));
	close(ep);
}

/* Default mode: this open's partly read message is readable on its own. */
TEST_F(rustqueue, poll_partly_read_message)
{
	struct pollfd pfd = { .events = POLLIN };
	char buf[4];

	ASSERT_EQ(6, write(self->fd, "abcdef", 6));
	pfd.fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, pfd.fd);
	ASSERT_EQ(2, read(pfd.fd, buf, 2));
	EXPECT_EQ(0, sysfs_get("count"));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_EQ(POLLIN, pfd.revents);
	close(pfd.fd);
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
	for (i = 0; i < 4; i++)
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
	for (i = 0; i < 4; i++)
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
	ASSERT_EQ(0, reset_queue());

	/* max_msg_size 10: 10 bytes pass, 11 do not. */
	ASSERT_EQ(0, sysfs_set("max_msg_size", "10"));
	EXPECT_EQ(10, write(fd, msg, 10));
	errno = 0;
	EXPECT_EQ(-1, write(fd, msg, 11));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, reset_queue());

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
	int fd;

	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, fd);
	fill_queue(_metadata, fd, RQ_CAPACITY);
	writer = write_later(0, "more");
	poller = fork();
	if (!poller) {
		pfd.fd = fd;
		pfd.events = POLLOUT;
		_exit(poll(&pfd, 1, 10000) == 1 && pfd.revents == POLLOUT ? 0 : 1);
	}
	usleep(300 * 1000);
	/* Both still wait: nobody read anything. */
	EXPECT_EQ(0, waitpid(writer, NULL, WNOHANG));
	EXPECT_EQ(0, waitpid(poller, NULL, WNOHANG));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("count"));
	ASSERT_EQ(0, sysfs_set("capacity", "18"));
	EXPECT_EQ(0, child_status_within(writer, 5000)) TH_LOG("the writer was not woken");
	EXPECT_EQ(0, child_status_within(poller, 5000)) TH_LOG("the poller was not woken");
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

static bool contains(const char *text, const char *part)
{
	return strstr(text, part);
}

TEST_F(rustqueue, tracepoints_fire)
{
	static const char *const events[] = { "rustqueue_enqueue", "rustqueue_dequeue" };
	const char *tracing = "/sys/kernel/tracing";
	char path[256], trace[8192], buf[16];
	ssize_t n;
	int fd, i;

	snprintf(path, sizeof(path), "%s/events/rustqueue/enable", tracing);
	if (access(path, F_OK))
		SKIP(return, "no %s: kernel without CONFIG_FTRACE, or tracefs not mounted", path);
	for (i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/events/rustqueue/%s/enable", tracing, events[i]);
		fd = open(path, O_WRONLY);
		ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
		ASSERT_EQ(1, write(fd, "1", 1));
		close(fd);
	}
	snprintf(path, sizeof(path), "%s/trace", tracing);
	fd = open(path, O_WRONLY | O_TRUNC);
	ASSERT_LE(0, fd);
	close(fd);

	ASSERT_EQ(5, write(self->fd, "trace", 5));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	ASSERT_EQ(5, read_one(buf, sizeof(buf)));

	fd = open(path, O_RDONLY);
	ASSERT_LE(0, fd);
	n = read(fd, trace, sizeof(trace) - 1);
	close(fd);
	ASSERT_LT(0, n);
	trace[n] = '\0';
	EXPECT_TRUE(contains(trace, "rustqueue_enqueue: len=5 depth=1")) TH_LOG("%s", trace);
	EXPECT_TRUE(contains(trace, "rustqueue_enqueue: len=3 depth=2")) TH_LOG("%s", trace);
	EXPECT_TRUE(contains(trace, "rustqueue_dequeue: len=5 depth=1")) TH_LOG("%s", trace);

	snprintf(path, sizeof(path), "%s/events/rustqueue/enable", tracing);
	fd = open(path, O_WRONLY);
	if (fd >= 0) {
		EXPECT_EQ(1, write(fd, "0", 1));
		close(fd);
	}
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
		readers[i] = fork();
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
	/* Reader 0 blocks until it reads "stop"; the others may take some. */
	while (waitpid(readers[0], &status, WNOHANG) == 0) {
		ASSERT_EQ(4, write(fd, "stop", 4));
		usleep(20 * 1000);
	}
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 1; i < XO_READERS; i++)
		EXPECT_EQ(0, child_status(readers[i])) TH_LOG("reader %d", i);
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
	ASSERT_EQ(0, get_info(fd, &after));
	/* Only "stop" messages may be left, and every message read counts. */
	EXPECT_EQ(after.enqueued - before.enqueued - after.count,
		  after.dequeued - before.dequeued);
	close(fd);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
