// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for /dev/rustqueue (drivers/char/rustqueue.c): one global FIFO of
 * at most 16 messages of at most 4096 bytes; each open file reads one
 * message.  Every test starts from an empty queue.
 */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../kselftest_harness.h"

#define RQ_DEVICE	"/dev/rustqueue"
#define RQ_CAPACITY	16
#define RQ_MAX_MSG	4096

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

FIXTURE(rustqueue) {
	int fd;
};

FIXTURE_SETUP(rustqueue)
{
	char buf[RQ_MAX_MSG];
	int i;

	self->fd = open(RQ_DEVICE, O_RDWR);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, RQ_DEVICE " not present: load rustqueue.ko (CONFIG_RUSTQUEUE)");
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));

	/* Drain whatever an earlier test or user left: one message per open. */
	for (i = 0; i <= RQ_CAPACITY; i++)
		if (read_one(buf, sizeof(buf)) <= 0)
			break;
	ASSERT_EQ(0, read_one(buf, sizeof(buf))) TH_LOG("queue does not drain");
}

FIXTURE_TEARDOWN(rustqueue)
{
	if (self->fd >= 0)
		close(self->fd);
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
	ASSERT_NE(MAP_FAILED, p);
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
	ASSERT_NE(MAP_FAILED, p);
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
	char buf[16];
	void *p;
	int fd;

	ASSERT_EQ(4, write(self->fd, "data", 4));
	p = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, p);
	fd = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, read(fd, p, 16));
	EXPECT_EQ(EFAULT, errno);
	/* The message is this open's now and still whole. */
	EXPECT_EQ(4, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "data", 4));
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

TEST_HARNESS_MAIN
