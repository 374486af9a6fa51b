// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hostile use of /dev/rustqueue: buffers that are unmapped, read-only or
 * run into a hole, absurd lengths, writev()/readv() at the segment limit,
 * closing a file another thread is blocked on, signals at random points,
 * file sharing through fork(), calls the device does not support, an
 * unprivileged user, garbage in sysfs and the limits at their maximum.
 * Whatever the input, a call succeeds whole or fails with the documented
 * errno, and the queue stays as the calls that succeeded left it.
 *
 * Every test starts from an empty queue with the default limits and puts
 * back the limits it found: running the tests consumes what is queued.
 */

#define _GNU_SOURCE
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <grp.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"

FIXTURE(hostile) {
	int fd;		/* default mode */
	int pfd;	/* packet mode, O_NONBLOCK */
	long page;
	char *map;	/* read-only page, read-write page, then a hole */
	char *readonly, *edge, *hole;
	char buf[2 * RQ_MAX_MSG];
	struct rq_limits saved;	/* put back by the teardown */
};

FIXTURE_SETUP(hostile)
{
	const char *why = rq_cannot_run();

	if (why)
		SKIP(return, "%s", why);
	self->fd = open(RQ_DEVICE, O_RDWR);
	ASSERT_LE(0, self->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	self->pfd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, self->pfd);

	self->page = sysconf(_SC_PAGESIZE);
	self->map = mmap(NULL, 3 * self->page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->map != MAP_FAILED);
	self->readonly = self->map;
	self->edge = self->map + self->page;
	self->hole = self->map + 2 * self->page;
	memset(self->map, 'r', 2 * self->page);
	ASSERT_EQ(0, mprotect(self->readonly, self->page, PROT_READ));
	ASSERT_EQ(0, munmap(self->hole, self->page));
	/* Last: once it succeeds, the teardown puts the limits back. */
	ASSERT_EQ(0, rq_begin(&self->saved))
		TH_LOG("cannot drain the queue or set its limits: %s", strerror(errno));
}

/* In the parent of the test's process: runs however the test ended. */
FIXTURE_TEARDOWN_PARENT(hostile)
{
	int err = rq_end(&self->saved);

	EXPECT_EQ(0, err) TH_LOG("cannot empty the queue, restore its limits: %s", strerror(err));
}

static struct rustqueue_info info_of(int fd)
{
	struct rustqueue_info info;

	get_info(fd, &info);
	return info;
}

/* X, with the compiler no longer sure of its value. */
#define HIDE(x)	({ __typeof__(x) __x = (x); __asm__("" : "+r" (__x)); __x; })

/* N bytes that end exactly where the hole begins: a fault after a prefix. */
#define INTO_HOLE(self, n)	((self)->hole - (n))

TEST_F(hostile, write_from_null_unmapped_or_into_hole_queues_nothing)
{
	struct rustqueue_info before = info_of(self->fd), after;
	void *bad[] = { NULL, self->hole, INTO_HOLE(self, 10) };

	for (int i = 0; i < ARRAY_SIZE(bad); i++) {
		for (int p = 0; p < 2; p++) {
			errno = 0;
			EXPECT_EQ(-1, write(p ? self->pfd : self->fd, bad[i], 100));
			EXPECT_EQ(EFAULT, errno) TH_LOG("buffer %d, packet %d", i, p);
		}
	}
	after = info_of(self->fd);
	EXPECT_EQ(0, after.count);
	EXPECT_EQ(before.enqueued, after.enqueued);
	EXPECT_EQ(before.rejected, after.rejected);
}

TEST_F(hostile, write_lengths_zero_max_and_beyond)
{
	static const size_t lens[] = { RQ_MAX_MSG + 1, 1UL << 31, SSIZE_MAX, SIZE_MAX / 2 + 5,
				       SIZE_MAX };
	struct rustqueue_info info;

	EXPECT_EQ(0, write(self->fd, self->buf, 0));
	EXPECT_EQ(0, write(self->fd, NULL, 0));
	EXPECT_EQ(RQ_MAX_MSG, write(self->fd, self->buf, RQ_MAX_MSG));
	for (int i = 0; i < ARRAY_SIZE(lens); i++) {
		errno = 0;
		EXPECT_EQ(-1, write(self->fd, self->buf, lens[i]));
		/* Too long, or not even a valid user range. */
		EXPECT_TRUE(errno == EINVAL || errno == EFAULT)
			TH_LOG("length %zu: %s", lens[i], strerror(errno));
	}
	info = info_of(self->fd);
	EXPECT_EQ(1, info.count);
	EXPECT_EQ(RQ_MAX_MSG, info.bytes);
}

TEST_F(hostile, writev_1024_segments_make_one_message)
{
	struct iovec iov[1024];
	static char msg[RQ_MAX_MSG];

	for (int i = 0; i < RQ_MAX_MSG; i++)
		msg[i] = (char)(i * 11);
	for (int i = 0; i < 1024; i++) {
		iov[i].iov_base = msg + 4 * i;
		iov[i].iov_len = 4;
	}
	ASSERT_EQ(RQ_MAX_MSG, writev(self->fd, iov, 1024));
	EXPECT_EQ(1, info_of(self->fd).count);
	ASSERT_EQ(RQ_MAX_MSG, read(self->pfd, self->buf, sizeof(self->buf)));
	EXPECT_EQ(0, memcmp(self->buf, msg, RQ_MAX_MSG));
}

TEST_F(hostile, writev_bad_vectors_queue_nothing)
{
	struct iovec many[1025], two[2], last[3];

	for (int i = 0; i < 1025; i++) {
		many[i].iov_base = self->buf;
		many[i].iov_len = 1;
	}
	errno = 0;
	EXPECT_EQ(-1, writev(self->fd, many, 1025));	/* over UIO_MAXIOV */
	EXPECT_EQ(EINVAL, errno);

	two[0].iov_base = self->buf;
	two[0].iov_len = SSIZE_MAX;
	two[1].iov_base = self->buf;
	two[1].iov_len = SSIZE_MAX;
	errno = 0;
	EXPECT_EQ(-1, writev(self->fd, two, 2));	/* the total overflows */
	EXPECT_TRUE(errno == EINVAL || errno == EFAULT) TH_LOG("%s", strerror(errno));

	two[0].iov_len = 3000;
	two[1].iov_len = RQ_MAX_MSG + 1 - 3000;
	errno = 0;
	EXPECT_EQ(-1, writev(self->fd, two, 2));	/* one byte too long */
	EXPECT_EQ(EINVAL, errno);

	last[0].iov_base = self->buf;
	last[0].iov_len = 10;
	last[1].iov_base = INTO_HOLE(self, 5);
	last[1].iov_len = 10;
	last[2].iov_base = self->buf;
	last[2].iov_len = 10;
	errno = 0;
	EXPECT_EQ(-1, writev(self->pfd, last, 3));	/* a segment runs into the hole */
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, info_of(self->fd).count);
}

TEST_F(hostile, readv_1024_segments_take_one_message)
{
	struct iovec iov[1024];
	static char out[RQ_MAX_MSG];

	memset(self->buf, 'm', RQ_MAX_MSG);
	ASSERT_EQ(RQ_MAX_MSG, write(self->fd, self->buf, RQ_MAX_MSG));
	ASSERT_EQ(3, write(self->fd, "two", 3));
	for (int i = 0; i < 1024; i++) {
		iov[i].iov_base = out + 4 * i;
		iov[i].iov_len = 4;
	}
	ASSERT_EQ(RQ_MAX_MSG, readv(self->pfd, iov, 1024));
	EXPECT_EQ(0, memcmp(out, self->buf, RQ_MAX_MSG));
	EXPECT_EQ(1, info_of(self->fd).count);
}

TEST_F(hostile, packet_read_into_hole_keeps_message_whole)
{
	char *p = INTO_HOLE(self, 10);

	ASSERT_EQ(100, write(self->fd, self->readonly, 100));
	/* Ten bytes reach the reader, then the copy faults. */
	errno = 0;
	EXPECT_EQ(-1, read(self->pfd, p, 100));
	EXPECT_EQ(EFAULT, errno);
	errno = 0;
	EXPECT_EQ(-1, read(self->pfd, self->readonly, 100));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, info_of(self->fd).count);
	ASSERT_EQ(100, read(self->pfd, self->buf, sizeof(self->buf)));
	EXPECT_EQ(0, memcmp(self->buf, self->readonly, 100));
}

TEST_F(hostile, default_read_into_hole_is_short_then_resumes)
{
	char *p = INTO_HOLE(self, 10);
	int fd = open(RQ_DEVICE, O_RDONLY);
	ssize_t n;

	ASSERT_LE(0, fd);
	for (int i = 0; i < 100; i++)
		self->buf[i] = (char)i;
	ASSERT_EQ(100, write(self->fd, self->buf, 100));
	/*
	 * Some of what fits before the hole arrives: copy_to_user() may stop
	 * short of a fault (<linux/uaccess.h>; arm64's does), but copies at
	 * least one byte.  The rest waits for the next read.
	 */
	n = read(fd, p, 100);
	ASSERT_LE(1, n);
	ASSERT_GE(10, n);
	EXPECT_EQ(0, memcmp(p, self->buf, n));
	EXPECT_EQ(100 - n, read(fd, self->buf + 200, 100));
	EXPECT_EQ(0, memcmp(self->buf + 200, self->buf + n, 100 - n));
	EXPECT_EQ(0, read(fd, self->buf, 100));
	close(fd);
}

TEST_F(hostile, read_lengths_null_zero_and_huge)
{
	static char low[16];
	/* Hidden from the compiler, which rightly objects to each of them. */
	/* 2 GiB, or 1 GiB where 2 GiB is over SSIZE_MAX (EINVAL on 32-bit). */
	size_t five = HIDE(5UL), huge = HIDE(1UL << (sizeof(long) == 4 ? 30 : 31));
	size_t too_huge = HIDE(SIZE_MAX);
	void *null = HIDE((void *)NULL);

	EXPECT_EQ(0, read(self->pfd, null, 0));
	EXPECT_EQ(0, read(self->fd, null, 0));
	ASSERT_EQ(5, write(self->fd, "hello", 5));
	errno = 0;
	EXPECT_EQ(-1, read(self->pfd, null, five));
	EXPECT_EQ(EFAULT, errno);
	/*
	 * EFAULT from access_ok(), or EINVAL from rw_verify_area() where
	 * access_ok() accepts every range (s390x, whose user space is an
	 * address space of its own): either way before the driver.
	 */
	errno = 0;
	EXPECT_EQ(-1, read(self->pfd, self->buf, too_huge));
	EXPECT_TRUE(errno == EFAULT || errno == EINVAL);
	/*
	 * A huge range, valid (from a static buffer, far below the top of
	 * the address space): only the message's bytes are written.
	 */
	EXPECT_EQ(5, read(self->pfd, low, huge));
	EXPECT_EQ(0, info_of(self->fd).count);
}

/* A thread blocked in a read or write of @fd, and what the call returned. */
struct blocked {
	int fd;
	pid_t tid;	/* set by the thread before its call */
	ssize_t ret;
	int err;
	char buf[64];
};

static void *blocked_read(void *arg)
{
	struct blocked *b = arg;

	__atomic_store_n(&b->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	b->ret = read(b->fd, b->buf, sizeof(b->buf));
	b->err = errno;
	return NULL;
}

static void *blocked_write(void *arg)
{
	struct blocked *b = arg;

	__atomic_store_n(&b->tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	b->ret = write(b->fd, "late", 4);
	b->err = errno;
	return NULL;
}

/* Wait until the thread of B sleeps in system call NR; 0 when it does. */
static int thread_blocks(struct blocked *b, long nr)
{
	struct timespec start;

	clock_gettime(CLOCK_MONOTONIC, &start);
	while (!__atomic_load_n(&b->tid, __ATOMIC_ACQUIRE)) {
		if (rq_elapsed_ms(&start) > RQ_BLOCK_MS) {
			snprintf(rq_seen, sizeof(rq_seen), "the thread never started");
			return -1;
		}
		usleep(1000);
	}
	return rq_wait_task_blocked(getpid(), b->tid, nr, RQ_BLOCK_MS);
}

TEST_F(hostile, close_while_another_thread_blocks_in_read)
{
	struct blocked b = { .ret = -2 };
	pthread_t t;

	b.fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_read, &b));
	ASSERT_EQ(0, thread_blocks(&b, __NR_read))
		TH_LOG("the thread never blocked in read(): %s", rq_seen);
	/* The blocked read holds the file: closing the descriptor ends nothing. */
	EXPECT_EQ(0, close(b.fd));
	EXPECT_EQ(0, thread_blocks(&b, __NR_read))
		TH_LOG("after close(), the thread is no longer blocked in read(): %s", rq_seen);
	EXPECT_EQ(-2, __atomic_load_n(&b.ret, __ATOMIC_RELAXED));
	ASSERT_EQ(7, write(self->fd, "message", 7));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(7, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(0, memcmp(b.buf, "message", 7));
	EXPECT_EQ(0, info_of(self->fd).count);
}

TEST_F(hostile, close_while_another_thread_blocks_in_write)
{
	struct blocked b = { .ret = -2 };
	pthread_t t;

	for (int i = 0; i < RQ_CAPACITY; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1));
	b.fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	ASSERT_LE(0, b.fd);
	ASSERT_EQ(0, pthread_create(&t, NULL, blocked_write, &b));
	ASSERT_EQ(0, thread_blocks(&b, __NR_write))
		TH_LOG("the thread never blocked in write(): %s", rq_seen);
	EXPECT_EQ(0, close(b.fd));
	EXPECT_EQ(0, thread_blocks(&b, __NR_write))
		TH_LOG("after close(), the thread is no longer blocked in write(): %s", rq_seen);
	EXPECT_EQ(-2, __atomic_load_n(&b.ret, __ATOMIC_RELAXED));
	ASSERT_EQ(1, read(self->pfd, self->buf, sizeof(self->buf)));
	ASSERT_EQ(0, pthread_join(t, NULL));
	EXPECT_EQ(4, b.ret) TH_LOG("%s", strerror(b.err));
	EXPECT_EQ(RQ_CAPACITY, info_of(self->fd).count);
}

static void on_alarm(int signo)
{
}

/* Signals every millisecond, without SA_RESTART: blocked calls see EINTR. */
static void tick(void)
{
	struct itimerval it = { { 0, 1000 }, { 0, 1000 } };
	struct sigaction sa = { .sa_handler = on_alarm };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
}

#define SIGNAL_MSGS	2000

TEST_F(hostile, signals_at_random_points_lose_nothing)
{
	int interrupted = 0, fd, status;
	unsigned int seq, got;
	pid_t pid;
	ssize_t n;

	ASSERT_EQ(0, sysfs_set("capacity", "4"));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Should the test fail, the writer goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = open(RQ_DEVICE, O_WRONLY | O_DIRECT);
		tick();
		for (seq = 0; seq < SIGNAL_MSGS; ) {
			n = write(fd, &seq, sizeof(seq));
			if (n == sizeof(seq))
				seq++;
			else if (n != -1 || errno != EINTR)
				_exit(1);
		}
		_exit(0);
	}
	fd = open(RQ_DEVICE, O_RDONLY | O_DIRECT);
	ASSERT_LE(0, fd);
	tick();
	for (seq = 0; seq < SIGNAL_MSGS; ) {
		n = read(fd, &got, sizeof(got));
		if (n == -1 && errno == EINTR) {
			interrupted++;
			continue;
		}
		ASSERT_EQ(sizeof(got), n) TH_LOG("read %u: %s", seq, strerror(errno));
		ASSERT_EQ(seq, got) TH_LOG("message %u lost or reordered", seq);
		seq++;
	}
	setitimer(ITIMER_REAL, &(struct itimerval){}, NULL);
	close(fd);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	EXPECT_EQ(0, info_of(self->fd).count);
	TH_LOG("%d reads interrupted", interrupted);
}

TEST_F(hostile, fork_shares_a_partly_read_message)
{
	int fd = open(RQ_DEVICE, O_RDONLY), status;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(10, write(self->fd, "0123456789", 10));
	ASSERT_EQ(3, read(fd, self->buf, 3));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(read(fd, self->buf, 100) == 7 && !memcmp(self->buf, "3456789", 7) ? 0 : 1);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* One open file, one message: the parent sees its end. */
	EXPECT_EQ(0, read(fd, self->buf, 100));
	close(fd);
}

TEST_F(hostile, unsupported_calls_fail_cleanly)
{
	int pipefd[2];

	ASSERT_EQ(4, write(self->fd, "keep", 4));
	errno = 0;
	EXPECT_TRUE(mmap(NULL, self->page, PROT_READ, MAP_SHARED, self->fd, 0) == MAP_FAILED);
	EXPECT_EQ(ENODEV, errno);
	ASSERT_EQ(0, pipe(pipefd));
	errno = 0;
	EXPECT_EQ(-1, splice(self->pfd, NULL, pipefd[1], NULL, 100, SPLICE_F_NONBLOCK));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, sendfile(pipefd[1], self->pfd, NULL, 100));
	EXPECT_EQ(EINVAL, errno);
	close(pipefd[0]);
	close(pipefd[1]);
	EXPECT_EQ(1, info_of(self->fd).count);
	EXPECT_EQ(4, read(self->pfd, self->buf, sizeof(self->buf)));
}

TEST_F(hostile, wrong_access_mode_ebadf)
{
	int ro = open(RQ_DEVICE, O_RDONLY), wo = open(RQ_DEVICE, O_WRONLY);

	ASSERT_LE(0, ro);
	ASSERT_LE(0, wo);
	errno = 0;
	EXPECT_EQ(-1, write(ro, "x", 1));
	EXPECT_EQ(EBADF, errno);
	errno = 0;
	EXPECT_EQ(-1, read(wo, self->buf, 1));
	EXPECT_EQ(EBADF, errno);
	EXPECT_EQ(0, info_of(self->fd).count);
	close(ro);
	close(wo);
}

/* Opens a non-root user may not do: 0 when open() agrees with access(), else 1. */
static int open_as_access_says(int flags, int mode)
{
	bool allowed = !access(RQ_DEVICE, mode);
	int fd = open(RQ_DEVICE, flags);

	if (fd >= 0)
		close(fd);
	return allowed ? fd < 0 : fd >= 0 || errno != EACCES;
}

/*
 * An unprivileged user opens the node as far as its mode allows (the mode
 * is the site's choice: udev may grant a group), the driver adding no check
 * of its own; the limits in sysfs (0644) are root's alone to change.
 */
TEST_F(hostile, unprivileged_user)
{
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (setgroups(0, NULL) || setgid(65534) || setuid(65534))
			_exit(2);
		if (open_as_access_says(O_RDONLY, R_OK) ||
		    open_as_access_says(O_WRONLY | O_DIRECT, W_OK))
			_exit(1);
		_exit(sysfs_set("capacity", "1") == EACCES ? 0 : 3);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("status %d: 1 open() disagrees with the mode, 2 no setuid, 3 sysfs writable",
		       WEXITSTATUS(status));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("capacity"));
}

TEST_F(hostile, ioctl_into_bad_memory_efault)
{
	void *bad[] = { NULL, self->hole, self->readonly, INTO_HOLE(self, 8) };

	for (int i = 0; i < ARRAY_SIZE(bad); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->fd, RUSTQUEUE_IOC_INFO, bad[i]));
		EXPECT_EQ(EFAULT, errno) TH_LOG("buffer %d", i);
		errno = 0;
		if (i < 3) {
			EXPECT_EQ(-1, ioctl(self->fd, FIONREAD, bad[i]));
			EXPECT_EQ(EFAULT, errno) TH_LOG("buffer %d", i);
		}
	}
}

TEST_F(hostile, sysfs_garbage_einval)
{
	static const char * const junk[] = {
		" ", "0x10", "16 16", "-5", "1e3", "99999999999999999999", "16abc",
		"\n\n", "4294967312",
	};
	static char longest[4096];

	memset(longest, '1', 4095);
	longest[4095] = '\0';
	for (int i = 0; i < ARRAY_SIZE(junk); i++) {
		EXPECT_EQ(EINVAL, sysfs_set("capacity", junk[i])) TH_LOG("'%s'", junk[i]);
		EXPECT_EQ(EINVAL, sysfs_set("max_msg_size", junk[i])) TH_LOG("'%s'", junk[i]);
	}
	EXPECT_EQ(EINVAL, sysfs_set("capacity", longest));
	EXPECT_EQ(RQ_CAPACITY, sysfs_get("capacity"));
	EXPECT_EQ(RQ_MAX_MSG, sysfs_get("max_msg_size"));
}

TEST_F(hostile, many_files_holding_messages_closed)
{
	int fds[RQ_CAPACITY];

	for (int i = 0; i < RQ_CAPACITY; i++)
		ASSERT_EQ(RQ_MAX_MSG, write(self->fd, self->buf, RQ_MAX_MSG));
	/* Each file takes a message and reads one byte of it. */
	for (int i = 0; i < RQ_CAPACITY; i++) {
		fds[i] = open(RQ_DEVICE, O_RDONLY);
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(1, read(fds[i], self->buf, 1));
	}
	EXPECT_EQ(0, info_of(self->fd).count);
	EXPECT_EQ(RQ_CAPACITY, info_of(self->fd).in_flight);
	/* Held messages keep their places: the queue is full. */
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	/* Closing drops the rest of each (kmemleak watches for the rest). */
	for (int i = 0; i < RQ_CAPACITY; i++)
		EXPECT_EQ(0, close(fds[i]));
	EXPECT_EQ(0, info_of(self->fd).bytes);
	EXPECT_EQ(0, info_of(self->fd).in_flight);
	EXPECT_EQ(1, write(self->fd, "x", 1));
}

/* 2 x 65536 system calls: give it time under an emulator and KASAN. */
TEST_F_TIMEOUT(hostile, largest_limits, 180)
{
	static char big[RQ_MAX_MSG_MAX + 1];
	char val[16];
	int i;

	memset(big, 'B', RQ_MAX_MSG_MAX + 1);
	snprintf(val, sizeof(val), "%d", RQ_MAX_MSG_MAX);
	ASSERT_EQ(0, sysfs_set("max_msg_size", val));
	snprintf(val, sizeof(val), "%d", RQ_CAPACITY_MAX);
	ASSERT_EQ(0, sysfs_set("capacity", val));

	errno = 0;
	EXPECT_EQ(-1, write(self->fd, big, RQ_MAX_MSG_MAX + 1));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(RQ_MAX_MSG_MAX, write(self->fd, big, RQ_MAX_MSG_MAX));
	for (i = 1; i < RQ_CAPACITY_MAX; i++)
		ASSERT_EQ(1, write(self->fd, "x", 1)) TH_LOG("message %d: %s", i, strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, write(self->fd, "x", 1));
	EXPECT_EQ(ENOSPC, errno);
	EXPECT_EQ(RQ_CAPACITY_MAX, info_of(self->fd).count);
	memset(big, 0, RQ_MAX_MSG_MAX);
	ASSERT_EQ(RQ_MAX_MSG_MAX, read(self->pfd, big, RQ_MAX_MSG_MAX));
	EXPECT_EQ('B', big[0]);
	EXPECT_EQ('B', big[RQ_MAX_MSG_MAX - 1]);
	/* The teardown drains the other 65535. */
}

TEST_HARNESS_MAIN
