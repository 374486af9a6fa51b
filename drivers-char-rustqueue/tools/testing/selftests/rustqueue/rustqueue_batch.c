// SPDX-License-Identifier: GPL-2.0-only
/*
 * Many messages per call: named queues in "records" semantics, where
 * read() and write() move buffers of struct rustqueue_record framed
 * messages, and in "drain" semantics, where a read() returns every queued
 * message that fits, one after the other, and 0 once the queue is empty.
 * Each test has a queue of its own, removed however the test ends.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"
#include "rustqueue_uring.h"

#define CAPACITY	16
#define BUF_SIZE	(64 * 1024)

/* Message I of a test: "message I" padded with a pattern to LEN bytes. */
static size_t make_msg(char *buf, int i, size_t len)
{
	size_t n = snprintf(buf, len + 1, "message %d", i);
	size_t j;

	for (j = n; j < len; j++)
		buf[j] = 'a' + (i + j) % 26;
	return len;
}

/* Append a record of LEN bytes to BUF at *POS; returns the record's size. */
static size_t put_record(char *buf, size_t *pos, const char *data, size_t len)
{
	struct rustqueue_record rec = { .len = len };
	size_t size = RUSTQUEUE_RECORD_SIZE(len);

	memcpy(buf + *pos, &rec, sizeof(rec));
	memcpy(buf + *pos + sizeof(rec), data, len);
	memset(buf + *pos + sizeof(rec) + len, 0, size - sizeof(rec) - len);
	*pos += size;
	return size;
}

/* Records for messages FIRST to FIRST + N - 1 of LEN bytes each, at BUF. */
static size_t put_records(char *buf, int first, int n, size_t len)
{
	char msg[4096];
	size_t pos = 0;
	int i;

	for (i = first; i < first + n; i++)
		put_record(buf, &pos, msg, make_msg(msg, i, len));
	return pos;
}

/*
 * Check that BUF holds exactly the records of messages FIRST, FIRST + 1,
 * ... of LEN bytes, SIZE bytes in all; returns how many, or -1.
 */
static int check_records(const char *buf, size_t size, int first, size_t len)
{
	struct rustqueue_record rec;
	char want[4096];
	size_t pos = 0;
	int i = first;

	while (pos < size) {
		if (size - pos < sizeof(rec))
			return -1;
		memcpy(&rec, buf + pos, sizeof(rec));
		if (rec.len != len || rec.flags || pos + RUSTQUEUE_RECORD_SIZE(len) > size)
			return -1;
		make_msg(want, i, len);
		if (memcmp(buf + pos + sizeof(rec), want, len))
			return -1;
		pos += RUSTQUEUE_RECORD_SIZE(len);
		i++;
	}
	return i - first;
}

FIXTURE(batch) {
	char name[RQ_NAME_MAX + 1];
	int fd;		/* O_RDWR on the queue */
	char *buf;	/* BUF_SIZE bytes for records */
	char *out;	/* BUF_SIZE more */
};

FIXTURE_SETUP(batch)
{
	char cap[16];
	int err;

	if (geteuid())
		SKIP(return, "not root: the tests make a queue in " RQ_CONFIGFS);
	if (access(RQ_CONFIGFS, F_OK))
		SKIP(return, RQ_CONFIGFS " not present: load rustqueue.ko, mount configfs");
	self->buf = malloc(BUF_SIZE);
	self->out = malloc(BUF_SIZE);
	ASSERT_TRUE(self->buf && self->out);
	snprintf(self->name, sizeof(self->name), "kst-batch-%d", getpid());
	err = q_mkdir(self->name);
	ASSERT_EQ(0, err) TH_LOG("mkdir %s: %s", self->name, strerror(err));
	snprintf(cap, sizeof(cap), "%d", CAPACITY);
	ASSERT_EQ(0, q_set(self->name, "capacity", cap));
	self->fd = -1;
}

/* Each test first gives its queue its semantics, then opens it. */
#define USE(semantics)							\
	do {								\
		const char *sem = (semantics);				\
		int err = q_set(self->name, "semantics", sem);		\
									\
		ASSERT_EQ(0, err) TH_LOG("semantics %s: %s", sem,	\
					 strerror(err));		\
		self->fd = q_open(self->name, O_RDWR);			\
		ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(errno)); \
	} while (0)

FIXTURE_TEARDOWN_PARENT(batch)
{
	if (self->name[0])
		q_rmdir(self->name);
}

/* Queue messages FIRST.. of LEN bytes, one write() each (drain) or one in all. */
static ssize_t queue_msgs(int fd, const char *semantics, char *buf, int first, int n, size_t len)
{
	ssize_t total = 0, ret;
	int i;

	if (!strcmp(semantics, "records"))
		return write(fd, buf, put_records(buf, first, n, len));
	for (i = first; i < first + n; i++) {
		ret = write(fd, buf, make_msg(buf, i, len));
		if (ret < 0)
			return ret;
		total += ret;
	}
	return total;
}

/* One write() of 10 records, one read() of them all: the same bytes back. */
TEST_F(batch, records_round_trip)
{
	size_t size;

	USE("records");
	size = put_records(self->buf, 0, 10, 100);
	ASSERT_EQ(size, write(self->fd, self->buf, size)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(10, q_counter(self->name, "count"));
	ASSERT_EQ(size, read(self->fd, self->out, BUF_SIZE)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->buf, self->out, size)) TH_LOG("a read gave other bytes");
	EXPECT_EQ(0, q_counter(self->name, "count"));
	EXPECT_EQ(10, q_counter(self->name, "dequeued"));
}

/* Every length from 1 to 15 makes the round trip, its padding zeroed. */
TEST_F(batch, records_padding)
{
	char msg[32];
	size_t pos = 0, len;
	ssize_t n;

	USE("records");
	for (len = 1; len <= 15; len++)
		put_record(self->buf, &pos, msg, make_msg(msg, len, len));
	memset(self->out, 0xff, BUF_SIZE);
	ASSERT_EQ(pos, write(self->fd, self->buf, pos));
	n = read(self->fd, self->out, BUF_SIZE);
	ASSERT_EQ(pos, n) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, memcmp(self->buf, self->out, pos)) TH_LOG("padding not zero");
}

/* A read takes only the whole records its buffer holds; the rest stay. */
TEST_F(batch, records_read_what_fits)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(100), size;

	USE("records");
	size = put_records(self->buf, 0, 10, 100);
	ASSERT_EQ(size, write(self->fd, self->buf, size));
	ASSERT_EQ(3 * rec, read(self->fd, self->out, 3 * rec + rec / 2));
	EXPECT_EQ(3, check_records(self->out, 3 * rec, 0, 100));
	EXPECT_EQ(7, q_counter(self->name, "count"));
	ASSERT_EQ(7 * rec, read(self->fd, self->out, BUF_SIZE));
	EXPECT_EQ(7, check_records(self->out, 7 * rec, 3, 100));
}

/* A buffer too short for the first record: EMSGSIZE, nothing taken. */
TEST_F(batch, records_short_buffer_emsgsize)
{
	int len;

	USE("records");
	ASSERT_EQ(RUSTQUEUE_RECORD_SIZE(100),
		  queue_msgs(self->fd, "records", self->buf, 0, 1, 100));
	EXPECT_EQ(-1, read(self->fd, self->out, RUSTQUEUE_RECORD_SIZE(100) - 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(1, q_counter(self->name, "count"));
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &len));
	EXPECT_EQ(RUSTQUEUE_RECORD_SIZE(100), len) TH_LOG("FIONREAD: the size a read needs");
}

/*
 * A read whose third record would cross into an unmapped page returns the
 * first two; the third stays first.
 */
TEST_F(batch, records_fault_in_the_middle_of_a_read)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(1000), size;
	long page = sysconf(_SC_PAGESIZE);
	char *map;

	USE("records");
	size = put_records(self->buf, 0, 5, 1000);
	ASSERT_EQ(size, write(self->fd, self->buf, size));
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	ASSERT_EQ(0, munmap(map + page, page));
	/* Two records and half of the third fit before the hole. */
	ASSERT_EQ(2 * rec, read(self->fd, map + page - 2 * rec - rec / 2, 5 * rec));
	EXPECT_EQ(2, check_records(map + page - 2 * rec - rec / 2, 2 * rec, 0, 1000));
	EXPECT_EQ(3, q_counter(self->name, "count"));
	/* Faulting on the first record: EFAULT, nothing taken. */
	EXPECT_EQ(-1, read(self->fd, map + page - rec / 2, 5 * rec));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(3, q_counter(self->name, "count"));
	ASSERT_EQ(3 * rec, read(self->fd, self->out, BUF_SIZE));
	EXPECT_EQ(3, check_records(self->out, 3 * rec, 2, 1000));
	munmap(map, page);
}

/* A write whose third record runs into a hole queues the first two. */
TEST_F(batch, records_fault_in_the_middle_of_a_write)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(1000);
	long page = sysconf(_SC_PAGESIZE);
	char *map, *start;

	USE("records");
	map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(map != MAP_FAILED);
	start = map + page - 2 * rec - rec / 2;
	put_records(self->buf, 0, 5, 1000);
	memcpy(start, self->buf, 2 * rec + rec / 2);
	ASSERT_EQ(0, munmap(map + page, page));
	ASSERT_EQ(2 * rec, write(self->fd, start, 5 * rec)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(2, q_counter(self->name, "count"));
	/* The next write starts at the faulting record: EFAULT, nothing queued. */
	EXPECT_EQ(-1, write(self->fd, start + 2 * rec, 3 * rec));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(2, q_counter(self->name, "count"));
	ASSERT_EQ(2 * rec, read(self->fd, self->out, BUF_SIZE));
	EXPECT_EQ(2, check_records(self->out, 2 * rec, 0, 1000));
	munmap(map, page);
}

/*
 * A bad record in the middle of a batch: the records before it are
 * queued and the write returns their size; a write starting with it fails
 * with EINVAL.  Zero length, nonzero flags, longer than max_msg_size, and
 * cut short by the end of the buffer.
 */
TEST_F(batch, records_bad_record_in_a_batch)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(64), size, bad;
	struct rustqueue_record *hdr;
	long long rejected;
	int how;

	USE("records");
	ASSERT_EQ(0, q_set(self->name, "max_msg_size", "1000"));
	for (how = 0; how < 4; how++) {
		size = put_records(self->buf, 0, 5, 64);
		bad = 2 * rec;
		hdr = (struct rustqueue_record *)(self->buf + bad);
		switch (how) {
		case 0:
			hdr->len = 0;
			break;
		case 1:
			hdr->flags = 1;
			break;
		case 2:
			hdr->len = 1001;
			size = bad + RUSTQUEUE_RECORD_SIZE(1001);
			break;
		case 3:
			size = bad + rec - 1;
			break;
		}
		rejected = q_counter(self->name, "rejected");
		ASSERT_EQ(bad, write(self->fd, self->buf, size))
			TH_LOG("bad record %d: %s", how, strerror(errno));
		EXPECT_EQ(-1, write(self->fd, self->buf + bad, size - bad));
		EXPECT_EQ(EINVAL, errno) TH_LOG("bad record %d: %s", how, strerror(errno));
		EXPECT_EQ(rejected + (how == 2), q_counter(self->name, "rejected"))
			TH_LOG("bad record %d: only a message too long counts", how);
		ASSERT_EQ(bad, read(self->fd, self->out, BUF_SIZE));
		EXPECT_EQ(2, check_records(self->out, bad, 0, 64));
		EXPECT_EQ(0, q_counter(self->name, "count"));
	}
}

/*
 * O_NONBLOCK: as many records as there are places, then EAGAIN.  Only the
 * call that fails counts as rejected, not the one that queued what fit.
 */
TEST_F(batch, records_nonblock_fills_the_queue)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(10), size;
	long long rejected;
	int fd;

	USE("records");
	fd = q_open(self->name, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	size = put_records(self->buf, 0, 40, 10);
	rejected = q_counter(self->name, "rejected");
	ASSERT_EQ(CAPACITY * rec, write(fd, self->buf, size)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(rejected, q_counter(self->name, "rejected"));
	EXPECT_EQ(-1, write(fd, self->buf + CAPACITY * rec, size - CAPACITY * rec));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(rejected + 1, q_counter(self->name, "rejected"));
	ASSERT_EQ(CAPACITY * rec, read(fd, self->out, BUF_SIZE));
	EXPECT_EQ(CAPACITY, check_records(self->out, CAPACITY * rec, 0, 10));
	EXPECT_EQ(-1, read(fd, self->out, BUF_SIZE));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);
}

/*
 * A blocking write of more records than the queue holds waits for room
 * as a reader takes them: every record arrives, in order.
 */
TEST_F(batch, records_batch_larger_than_the_queue)
{
	const int total = 5 * CAPACITY + 3;
	size_t rec = RUSTQUEUE_RECORD_SIZE(200), size;
	int got = 0, status, n;
	ssize_t r;
	pid_t pid;

	USE("records");
	size = put_records(self->buf, 0, total, 200);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(write(self->fd, self->buf, size) == (ssize_t)size ? 0 : 1);
	while (got < total) {
		r = read(self->fd, self->out, 7 * rec);
		ASSERT_LT(0, r) TH_LOG("%s", strerror(errno));
		n = check_records(self->out, r, got, 200);
		ASSERT_LT(0, n) TH_LOG("records out of order after %d", got);
		got += n;
	}
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status) TH_LOG("the writer's write() was short or failed");
	EXPECT_EQ(0, q_counter(self->name, "count"));
}

/* A read of the empty queue waits; a write of 5 records wakes it. */
TEST_F(batch, records_read_waits_for_a_batch)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(30);
	int got = 0, n, status;
	ssize_t r;
	pid_t pid;

	USE("records");
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (wait_blocked(getppid(), __NR_read, RQ_BLOCK_MS))
			_exit(2);
		_exit(queue_msgs(self->fd, "records", self->buf, 0, 5, 30) == 5 * rec ? 0 : 1);
	}
	while (got < 5) {
		r = read(self->fd, self->out, BUF_SIZE);
		ASSERT_LT(0, r) TH_LOG("%s", strerror(errno));
		n = check_records(self->out, r, got, 30);
		ASSERT_LT(0, n);
		got += n;
	}
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status) TH_LOG("writer: %d", status);
}

static void on_signal(int signo)
{
}

/*
 * A signal while a write waits for room: EINTR with nothing queued when no
 * record was; the size of the records queued when some were.
 */
TEST_F(batch, records_signal_during_a_write)
{
	struct sigaction sa = { .sa_handler = on_signal };
	size_t rec = RUSTQUEUE_RECORD_SIZE(8), size;
	struct rustqueue_info info;
	int status;
	pid_t pid;

	USE("records");
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	size = put_records(self->buf, 0, CAPACITY + 4, 8);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		status = wait_blocked(getppid(), __NR_write, RQ_BLOCK_MS);
		kill(getppid(), SIGUSR1);
		_exit(status ? 2 : 0);
	}
	EXPECT_EQ(CAPACITY * rec, write(self->fd, self->buf, size)) TH_LOG("%s", strerror(errno));
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status);
	EXPECT_EQ(CAPACITY, q_counter(self->name, "count"));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		status = wait_blocked(getppid(), __NR_write, RQ_BLOCK_MS);
		kill(getppid(), SIGUSR1);
		_exit(status ? 2 : 0);
	}
	EXPECT_EQ(-1, write(self->fd, self->buf + CAPACITY * rec, size - CAPACITY * rec));
	EXPECT_EQ(EINTR, errno);
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status);
	EXPECT_EQ(CAPACITY, q_counter(self->name, "count"));
	ASSERT_EQ(0, get_info(self->fd, &info));
	EXPECT_EQ(0, info.in_flight) TH_LOG("the interrupted write kept places");
}

/* Drain: one read returns every message, as written, then 0. */
TEST_F(batch, drain_reads_everything_then_ends)
{
	char want[BUF_SIZE];
	size_t pos = 0;
	int i, len;

	USE("drain");
	for (i = 0; i < 10; i++) {
		len = make_msg(want + pos, i, 50 + i);
		ASSERT_EQ(len, write(self->fd, want + pos, len));
		pos += len;
	}
	ASSERT_EQ(0, ioctl(self->fd, FIONREAD, &len));
	EXPECT_EQ(pos, len) TH_LOG("FIONREAD: every byte queued");
	ASSERT_EQ(pos, read(self->fd, self->out, BUF_SIZE));
	EXPECT_EQ(0, memcmp(want, self->out, pos));
	EXPECT_EQ(0, read(self->fd, self->out, BUF_SIZE));
	EXPECT_EQ(0, q_counter(self->name, "count"));
	/* A new message after the end is read by the same file. */
	ASSERT_EQ(3, write(self->fd, "new", 3));
	ASSERT_EQ(3, read(self->fd, self->out, BUF_SIZE));
}

/*
 * Drain: only whole messages while they fit; one longer than the whole
 * buffer is held by the file and streamed out, then the next ones follow.
 */
TEST_F(batch, drain_long_message_streams)
{
	char msg[3001];

	USE("drain");
	ASSERT_EQ(100, write(self->fd, self->buf, make_msg(self->buf, 0, 100)));
	ASSERT_EQ(3000, write(self->fd, msg, make_msg(msg, 1, 3000)));
	ASSERT_EQ(100, write(self->fd, self->buf, make_msg(self->buf, 2, 100)));
	/* The first fits, the second does not: the read stops before it. */
	ASSERT_EQ(100, read(self->fd, self->out, 1000));
	/* Alone it does not fit either: the file takes it and streams it. */
	ASSERT_EQ(1000, read(self->fd, self->out, 1000));
	EXPECT_EQ(0, memcmp(self->out, msg, 1000));
	EXPECT_EQ(1, q_counter(self->name, "count"));
	ASSERT_EQ(1000, read(self->fd, self->out, 1000));
	EXPECT_EQ(0, memcmp(self->out, msg + 1000, 1000));
	/* The rest of it, then the next message in the same read. */
	ASSERT_EQ(1100, read(self->fd, self->out, 2000));
	EXPECT_EQ(0, memcmp(self->out, msg + 2000, 1000));
	make_msg(self->buf, 2, 100);
	EXPECT_EQ(0, memcmp(self->out + 1000, self->buf, 100));
	EXPECT_EQ(0, read(self->fd, self->out, 1000));
}

/* Drain: a full queue refuses a write with ENOSPC, as the default mode does. */
TEST_F(batch, drain_full_queue_enospc)
{
	int i;

	USE("drain");
	for (i = 0; i < CAPACITY; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1));
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(CAPACITY, read(self->fd, self->out, BUF_SIZE));
}

/*
 * io_uring on a records queue: an IORING_OP_WRITE queues a batch and an
 * IORING_OP_READ takes one.  A write finding fewer places than records
 * completes short, as O_NONBLOCK's does (io_uring's first try does not
 * wait); a read of the empty queue waits in poll until a write() comes.
 */
TEST_F(batch, records_io_uring)
{
	size_t rec = RUSTQUEUE_RECORD_SIZE(30), size;
	struct io_uring_cqe cqe;
	struct rq_ring ring;

	USE("records");
	if (rq_ring_init(&ring, 4, NULL))
		SKIP(return, "io_uring_setup: %s (CONFIG_IO_URING?)", strerror(errno));
	size = put_records(self->buf, 0, CAPACITY + 4, 30);
	ASSERT_TRUE(!!rq_ring_rw(&ring, IORING_OP_WRITE, self->fd, self->buf, size, 1));
	ASSERT_EQ(1, rq_ring_submit(&ring, 1, 5000));
	ASSERT_EQ(1, rq_ring_cqe(&ring, &cqe));
	EXPECT_EQ(CAPACITY * rec, cqe.res) TH_LOG("res %d", cqe.res);

	ASSERT_TRUE(!!rq_ring_rw(&ring, IORING_OP_READ, self->fd, self->out, BUF_SIZE, 2));
	ASSERT_EQ(1, rq_ring_submit(&ring, 1, 5000));
	ASSERT_EQ(1, rq_ring_cqe(&ring, &cqe));
	ASSERT_EQ(CAPACITY * rec, cqe.res) TH_LOG("res %d", cqe.res);
	EXPECT_EQ(CAPACITY, check_records(self->out, cqe.res, 0, 30));

	/* The empty queue: the read waits, then takes the four left. */
	ASSERT_TRUE(!!rq_ring_rw(&ring, IORING_OP_READ, self->fd, self->out, BUF_SIZE, 3));
	ASSERT_EQ(1, rq_ring_submit(&ring, 0, 0));
	EXPECT_EQ(0, rq_ring_wait(&ring, &cqe, 200)) TH_LOG("the read did not wait");
	ASSERT_EQ(4 * rec, write(self->fd, self->buf + CAPACITY * rec, 4 * rec));
	ASSERT_EQ(1, rq_ring_wait(&ring, &cqe, 5000));
	ASSERT_EQ(4 * rec, cqe.res) TH_LOG("res %d", cqe.res);
	EXPECT_EQ(4, check_records(self->out, cqe.res, CAPACITY, 30));
}

TEST_HARNESS_MAIN
