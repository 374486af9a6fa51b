// SPDX-License-Identifier: GPL-2.0-only
/*
 * rustqueue under io_uring: IORING_OP_READ and IORING_OP_WRITE on a packet
 * queue.  The driver sets FMODE_NOWAIT, so io_uring first tries each
 * request without blocking and, when it would wait, arms poll on the file
 * and retries when the queue wakes it: no io-wq worker thread ("iou-wrk")
 * ever blocks in the driver.  Each test has a named queue of its own with
 * semantics "packet", removed however the test ends.
 */

#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"
#include "rustqueue_uring.h"

#define CAPACITY	16
/* A request that waits is seen not to complete for this long. */
#define QUIET_MS	200
/* Reads and as many writes in flight at once: the ring holds them all. */
#define IN_FLIGHT	48

/* This process's io-wq worker threads, "iou-wrk-TID"; -1 on error. */
static int iou_workers(void)
{
	struct dirent *de;
	char path[300], comm[32];
	int n = 0;
	DIR *dir;

	dir = opendir("/proc/self/task");
	if (!dir)
		return -1;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		if (read_file(path, comm, sizeof(comm)) > 0 && !strncmp(comm, "iou-wrk", 7))
			n++;
	}
	closedir(dir);
	return n;
}

FIXTURE(uring) {
	char name[RQ_NAME_MAX + 1];
	/* The test's process closes it as it exits. */
	struct rq_ring ring;
	int fd;		/* O_RDWR on the queue */
};

FIXTURE_SETUP(uring)
{
	const char *why = rq_queues_cannot_run();
	unsigned int features;
	char cap[16];
	int err;

	if (why)
		SKIP(return, "%s", why);
	if (rq_ring_init(&self->ring, 2 * IN_FLIGHT, &features))
		SKIP(return, "io_uring_setup: %s (CONFIG_IO_URING?)", strerror(errno));
	if (!(features & IORING_FEAT_EXT_ARG))
		SKIP(return, "io_uring without IORING_FEAT_EXT_ARG (before 5.11)");
	/* Made last: the parent's teardown removes it however the test ends. */
	snprintf(self->name, sizeof(self->name), "kst-uring-%d", getpid());
	err = q_mkdir(self->name);
	ASSERT_EQ(0, err) TH_LOG("mkdir %s: %s", self->name, strerror(err));
	ASSERT_EQ(0, q_set(self->name, "semantics", "packet"));
	snprintf(cap, sizeof(cap), "%d", CAPACITY);
	ASSERT_EQ(0, q_set(self->name, "capacity", cap));
	self->fd = q_open(self->name, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(errno));
}

FIXTURE_TEARDOWN_PARENT(uring)
{
	q_rmdir(self->name);
}

/*
 * A read of the empty queue neither completes nor blocks a worker: it waits
 * in poll, and a write() completes it with the whole message.
 */
TEST_F(uring, read_waits_in_poll_not_in_a_worker)
{
	struct io_uring_cqe cqe;
	char buf[64];

	ASSERT_NE(NULL, rq_ring_rw(&self->ring, IORING_OP_READ, self->fd, buf, sizeof(buf), 1));
	ASSERT_EQ(1, rq_ring_submit(&self->ring, 1, QUIET_MS));
	ASSERT_EQ(0, rq_ring_cqe(&self->ring, &cqe))
		TH_LOG("a read of the empty queue completed: %d", cqe.res);
	EXPECT_EQ(0, iou_workers()) TH_LOG("an io-wq worker serves the waiting read");
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	ASSERT_EQ(1, rq_ring_wait(&self->ring, &cqe, RQ_BLOCK_MS)) TH_LOG("the write woke nothing");
	EXPECT_EQ(1, cqe.user_data);
	ASSERT_EQ(5, cqe.res) TH_LOG("%s", strerror(-cqe.res));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	EXPECT_EQ(0, iou_workers());
	EXPECT_EQ(0, q_counter(self->name, "count"));
}

/* A write to the full queue waits in poll too, and a read() lets it in last. */
TEST_F(uring, write_waits_for_room)
{
	struct io_uring_cqe cqe;
	char buf[64];
	int i;

	for (i = 0; i < CAPACITY; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1));
	ASSERT_NE(NULL, rq_ring_rw(&self->ring, IORING_OP_WRITE, self->fd, "late", 4, 7));
	ASSERT_EQ(1, rq_ring_submit(&self->ring, 1, QUIET_MS));
	ASSERT_EQ(0, rq_ring_cqe(&self->ring, &cqe))
		TH_LOG("a write to the full queue completed: %d", cqe.res);
	EXPECT_EQ(0, iou_workers()) TH_LOG("an io-wq worker serves the waiting write");
	ASSERT_EQ(1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(1, rq_ring_wait(&self->ring, &cqe, RQ_BLOCK_MS)) TH_LOG("the read woke nothing");
	EXPECT_EQ(7, cqe.user_data);
	ASSERT_EQ(4, cqe.res) TH_LOG("%s", strerror(-cqe.res));
	for (i = 1; i < CAPACITY; i++)
		ASSERT_EQ(1, read(self->fd, buf, sizeof(buf)));
	ASSERT_EQ(4, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "late", 4));
}

/* RWF_NOWAIT in the SQE: EAGAIN at once, as for preadv2(). */
TEST_F(uring, rwf_nowait_fails_at_once)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	char buf[64];

	sqe = rq_ring_rw(&self->ring, IORING_OP_READ, self->fd, buf, sizeof(buf), 3);
	ASSERT_NE(NULL, sqe);
	sqe->rw_flags = RWF_NOWAIT;
	ASSERT_EQ(1, rq_ring_submit(&self->ring, 1, RQ_BLOCK_MS));
	ASSERT_EQ(1, rq_ring_cqe(&self->ring, &cqe));
	EXPECT_EQ(-EAGAIN, cqe.res);
}

/*
 * A read waiting in poll is cancelled with IORING_OP_ASYNC_CANCEL: it ends
 * with ECANCELED having taken nothing, and the next message stays queued.
 */
TEST_F(uring, cancel_waiting_read)
{
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;
	bool read_done = false, cancel_done = false;
	char buf[64];
	int i;

	ASSERT_NE(NULL, rq_ring_rw(&self->ring, IORING_OP_READ, self->fd, buf, sizeof(buf), 1));
	ASSERT_EQ(1, rq_ring_submit(&self->ring, 1, QUIET_MS));
	ASSERT_EQ(0, rq_ring_cqe(&self->ring, &cqe));
	sqe = rq_ring_sqe(&self->ring);
	ASSERT_NE(NULL, sqe);
	sqe->opcode = IORING_OP_ASYNC_CANCEL;
	sqe->addr = 1;
	sqe->user_data = 2;
	ASSERT_EQ(1, rq_ring_submit(&self->ring, 2, RQ_BLOCK_MS));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(1, rq_ring_wait(&self->ring, &cqe, RQ_BLOCK_MS));
		if (cqe.user_data == 1) {
			EXPECT_EQ(-ECANCELED, cqe.res);
			read_done = true;
		} else {
			EXPECT_EQ(2, cqe.user_data);
			EXPECT_EQ(0, cqe.res) TH_LOG("cancel: %s", strerror(-cqe.res));
			cancel_done = true;
		}
	}
	EXPECT_TRUE(read_done && cancel_done);
	ASSERT_EQ(3, write(self->fd, "one", 3));
	EXPECT_EQ(1, q_counter(self->name, "count")) TH_LOG("the cancelled read took it");
	ASSERT_EQ(3, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "one", 3));
}

/*
 * Many requests in flight at once: 48 reads of the empty queue, then 48
 * writes of numbered messages into a queue of 16 places, all in one
 * submission.  Every read ends with one whole message, each message is
 * read exactly once, the counters agree, and no worker thread was needed.
 * Each message wakes every waiting read (io_uring's poll is not
 * exclusive) and all but one try again; io_uring gives a request up to
 * a worker only after 128 such tries (APOLL_MAX_RETRY), which 48 reads
 * stay below.
 */
TEST_F(uring, many_in_flight_exactly_once)
{
	static char rbuf[IN_FLIGHT][32], wbuf[IN_FLIGHT][32];
	int seen[IN_FLIGHT] = { 0 }, i, k, n, got = 0, wrong = 0;
	long long enq = q_counter(self->name, "enqueued");
	long long deq = q_counter(self->name, "dequeued");
	struct io_uring_sqe *sqe;
	struct io_uring_cqe cqe;

	for (i = 0; i < IN_FLIGHT; i++) {
		sqe = rq_ring_rw(&self->ring, IORING_OP_READ, self->fd, rbuf[i],
				 sizeof(rbuf[i]) - 1, i);
		ASSERT_NE(NULL, sqe);
	}
	for (i = 0; i < IN_FLIGHT; i++) {
		n = snprintf(wbuf[i], sizeof(wbuf[i]), "message %d", i);
		sqe = rq_ring_rw(&self->ring, IORING_OP_WRITE, self->fd, wbuf[i], n, 1000 + i);
		ASSERT_NE(NULL, sqe);
	}
	ASSERT_EQ(2 * IN_FLIGHT, rq_ring_submit(&self->ring, 0, -1));
	for (i = 0; i < 2 * IN_FLIGHT; i++) {
		ASSERT_EQ(1, rq_ring_wait(&self->ring, &cqe, RQ_BLOCK_MS))
			TH_LOG("%d of %d requests completed", i, 2 * IN_FLIGHT);
		ASSERT_LT(0, cqe.res)
			TH_LOG("request %llu: %s", (unsigned long long)cqe.user_data,
			       strerror(-cqe.res));
		if (cqe.user_data >= 1000)
			continue;
		rbuf[cqe.user_data][cqe.res] = '\0';
		k = sscanf(rbuf[cqe.user_data], "message %d", &n);
		ASSERT_EQ(1, k) TH_LOG("read '%s'", rbuf[cqe.user_data]);
		ASSERT_TRUE(n >= 0 && n < IN_FLIGHT);
		ASSERT_EQ((int)strlen(wbuf[n]), cqe.res) TH_LOG("message %d not whole", n);
		seen[n]++;
		got++;
	}
	EXPECT_EQ(IN_FLIGHT, got);
	for (i = 0; i < IN_FLIGHT; i++) {
		if (seen[i] != 1)
			TH_LOG("message %d read %d times", i, seen[i]);
		wrong += seen[i] != 1;
	}
	EXPECT_EQ(0, wrong);
	EXPECT_EQ(enq + IN_FLIGHT, q_counter(self->name, "enqueued"));
	EXPECT_EQ(deq + IN_FLIGHT, q_counter(self->name, "dequeued"));
	EXPECT_EQ(0, q_counter(self->name, "count"));
	EXPECT_EQ(0, iou_workers()) TH_LOG("io-wq workers served the requests");
}

TEST_HARNESS_MAIN
