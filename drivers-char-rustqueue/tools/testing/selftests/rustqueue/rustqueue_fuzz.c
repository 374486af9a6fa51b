// SPDX-License-Identifier: GPL-2.0-only
/*
 * A small fuzzer for /dev/rustqueue: processes doing random sequences of
 * open, close, dup, read, write, readv, writev, preadv2, pwritev2, poll,
 * ioctl, fcntl (O_DIRECT, O_NONBLOCK, O_ASYNC) and lseek with random flags,
 * sizes and buffers (good, read-only, unmapped, straddling the end of a
 * mapping), writes of framed records (whole, cut short, with a bad one
 * among them), and io_uring reads and writes left in flight, cancelled or
 * reaped, while an interval timer and SIGIO interrupt whatever blocks
 * and the sysfs limits change under them.
 * Where configfs is mounted they also make and remove named queues
 * ("fz-PID-0" to "fz-PID-3"), change their settings (all five semantics)
 * and do the same calls on them, also on files of queues already removed.  Every call must
 * return a result its manual allows; afterwards the driver's counters must
 * agree with what is left in /dev/rustqueue.  The kernel checkers (KASAN,
 * lockdep, kmemleak) watch the rest.
 *
 * The same seed gives every process the same sequence of calls again.
 *
 * usage: rustqueue_fuzz [-p PROCESSES] [-t SECONDS] [-s SEED]
 */

#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest.h"
#include "rustqueue_util.h"
#include "rustqueue_uring.h"

#define SLOTS		8
#define MAX_PROCS	16
#define NAMES		4
#define BUF_SIZE	(2 * RQ_MAX_MSG + 64)
/*
 * The good buffer is larger: a records or drain read returns as many
 * messages as the length it is given allows, and a queue holds at most 70
 * of RQ_MAX_MSG bytes, framed, here.
 */
#define GOOD_SIZE	(1024 * 1024)

struct counts {
	uint64_t calls[MAX_PROCS];
	uint64_t unexpected[MAX_PROCS];
};

static struct counts *counts;
static uint64_t rng;
static long page;
static uint8_t *good, *readonly, *edge, *unmapped;
static int slot[SLOTS];
/* The file in the slot is one of /dev/rustqueue, which accepts O_DIRECT. */
static bool slot_seed[SLOTS];
static int me;
/* The named queues' prefix, "fz-PID", or "" without configfs. */
static char names[32];
/* This process's io_uring, when the kernel has one; requests in flight. */
static struct rq_ring ring;
static bool have_ring;
static unsigned int in_flight;

static uint64_t rnd(uint64_t n)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return (rng * 0x2545f4914f6cdd1dULL) % n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* A length: mostly small, sometimes at and around the limits, or absurd. */
static size_t rnd_len(void)
{
	static const size_t odd[] = { 0, 1, RQ_MAX_MSG - 1, RQ_MAX_MSG, RQ_MAX_MSG + 1,
				      BUF_SIZE, 1UL << 31, SIZE_MAX / 2, SIZE_MAX };

	switch (rnd(4)) {
	case 0:
		return odd[rnd(ARRAY_SIZE(odd))];
	case 1:
		return rnd(RQ_MAX_MSG + 2);
	default:
		return rnd(128);
	}
}

/* A buffer for LEN bytes: mostly good, sometimes not. */
static void *rnd_buf(size_t len)
{
	switch (rnd(16)) {
	case 0:
		return NULL;
	case 1:
		return unmapped;
	case 2:
		return readonly;
	case 3:
		return edge + page - (len < (size_t)page ? len / 2 : 1);
	default:
		return len <= BUF_SIZE ? good + rnd(BUF_SIZE - len + 1) : good;
	}
}

static int rnd_slot(void)
{
	return slot[rnd(SLOTS)];
}

/* ERR is an errno the call may give, or 0 when it succeeded. */
static void check(bool ok, const char *call, int err)
{
	counts->calls[me]++;
	if (ok)
		return;
	counts->unexpected[me]++;
	if (counts->unexpected[me] <= 10)
		ksft_print_msg("process %d: %s: unexpected %s\n", me, call,
			       err ? strerror(err) : "result");
}

static bool io_errno(int err)
{
	switch (err) {
	case EAGAIN: case EINTR: case EFAULT: case EMSGSIZE: case EINVAL:
	case ENOSPC: case EBADF:
		return true;
	}
	return false;
}

static void do_open(void)
{
	static const int acc[] = { O_RDONLY, O_WRONLY, O_RDWR };
	int i = rnd(SLOTS), flags, err;
	char name[48];

	flags = acc[rnd(3)] | (rnd(2) ? O_NONBLOCK : 0) | (rnd(2) ? O_DIRECT : 0);
	if (slot[i] >= 0)
		close(slot[i]);
	slot_seed[i] = !names[0] || rnd(2);
	if (slot_seed[i]) {
		slot[i] = open(RQ_DEVICE, flags);
		check(slot[i] >= 0, "open", errno);
		return;
	}
	/*
	 * A named queue may be gone (ENOENT), removed between lookup and
	 * open (ENXIO), or refuse O_DIRECT (EINVAL, but for "direct").
	 */
	snprintf(name, sizeof(name), "%s-%d", names, (int)rnd(NAMES));
	slot[i] = q_open(name, flags);
	err = slot[i] < 0 ? errno : 0;
	check(!err || err == ENOENT || err == ENXIO || (err == EINVAL && (flags & O_DIRECT)),
	      "open named", err);
}

/* Make, remove and set up named queues under the other processes. */
static void do_queue(void)
{
	static const char * const semantics[] = {
		"stream", "packet", "direct", "records", "drain", "bogus",
	};
	char name[48], val[32];
	int ret;

	snprintf(name, sizeof(name), "%s-%d", names, (int)rnd(NAMES));
	switch (rnd(6)) {
	case 0:
		ret = q_mkdir(name);
		check(!ret || ret == EEXIST, "mkdir", ret);
		break;
	case 1:
		ret = q_rmdir(name);
		check(!ret || ret == ENOENT, "rmdir", ret);
		break;
	case 2:
		ret = q_set(name, "semantics", semantics[rnd(ARRAY_SIZE(semantics))]);
		check(!ret || ret == ENOENT || ret == EBUSY || ret == EINVAL, "semantics", ret);
		break;
	case 3:
		snprintf(val, sizeof(val), "%llu", (unsigned long long)rnd(70));
		ret = q_set(name, rnd(2) ? "capacity" : "max_msg_size", val);
		check(!ret || ret == ENOENT || ret == EBUSY || ret == EINVAL, "limit", ret);
		break;
	default:
		/* Only root can open: the owner and mode go back and forth. */
		if (rnd(2))
			ret = q_set(name, "mode", rnd(2) ? "0600" : "0660");
		else
			ret = q_set(name, rnd(2) ? "uid" : "gid", rnd(2) ? "0" : "65534");
		check(!ret || ret == ENOENT, "owner", ret);
		break;
	}
}

/*
 * A write to a named queue may queue part of the buffer: in "records"
 * semantics, the first whole records of bytes that happen to hold some
 * (read there earlier).  Elsewhere a message is queued whole or not at all.
 */
static bool write_result(ssize_t n, size_t len, int i)
{
	return n == (ssize_t)len || (n == -1 && io_errno(errno)) ||
	       (!slot_seed[i] && n > 0 && (size_t)n < len);
}

static void do_rw(bool writing)
{
	size_t len = rnd_len();
	void *buf = rnd_buf(len);
	int i = rnd(SLOTS);
	ssize_t n;

	if (writing) {
		if (buf == good && len <= BUF_SIZE)
			memset(good, rnd(256), len);
		n = write(slot[i], buf, len);
		check(write_result(n, len, i), "write", n < 0 ? errno : 0);
	} else {
		n = read(rnd_slot(), buf, len);
		check((n >= 0 && (size_t)n <= len) || (n == -1 && io_errno(errno)), "read",
		      n < 0 ? errno : 0);
	}
}

static void do_rwv(bool writing)
{
	struct iovec iov[40];
	int cnt = 1 + rnd(ARRAY_SIZE(iov)), i, flags = 0, k = rnd(SLOTS);
	size_t total = 0;
	ssize_t n;

	for (i = 0; i < cnt; i++) {
		iov[i].iov_len = rnd(8) ? rnd(256) : rnd_len();
		iov[i].iov_base = rnd_buf(iov[i].iov_len);
		total += iov[i].iov_len;
	}
	if (rnd(4) == 0)
		flags = RWF_NOWAIT;
	if (writing)
		n = flags ? pwritev2(slot[k], iov, cnt, -1, flags) : writev(slot[k], iov, cnt);
	else
		n = flags ? preadv2(slot[k], iov, cnt, -1, flags) : readv(slot[k], iov, cnt);
	check((writing && write_result(n, total, k)) ||
	      (!writing && n >= 0 && (size_t)n <= total) ||
	      (n == -1 && (io_errno(errno) || errno == EOPNOTSUPP)),
	      writing ? "writev" : "readv", n < 0 ? errno : 0);
}

/*
 * Records of random lengths into @buf: whole, sometimes with a bad one
 * (zero length, flags, too long) among them or the last cut short.  Their
 * sizes go to @sizes; returns how many bytes to write.
 */
static size_t make_records(uint8_t *buf, size_t *sizes, int *nr)
{
	struct rustqueue_record rec;
	size_t off = 0, len;
	int i, n = 1 + rnd(16);

	for (i = 0; i < n; i++) {
		len = rnd(8) ? 1 + rnd(200) : 1 + rnd(RQ_MAX_MSG + 1);
		if (off + RUSTQUEUE_RECORD_SIZE(len) > BUF_SIZE)
			break;
		rec = (struct rustqueue_record){ .len = len };
		if (rnd(32) == 0)
			rec.len = 0;
		if (rnd(32) == 0)
			rec.flags = 1;
		memcpy(buf + off, &rec, sizeof(rec));
		memset(buf + off + sizeof(rec), 'a' + i, len);
		sizes[i] = RUSTQUEUE_RECORD_SIZE(len);
		off += sizes[i];
	}
	*nr = i;
	/* Cut short, now and then. */
	return rnd(16) || !off ? off : off - 1 - rnd(off);
}

/*
 * Is @n bytes a result a write of these records may give?  On a queue in
 * "records" semantics, the bytes of the first K whole records; on any
 * other, the whole buffer, one message.
 */
static bool records_result(ssize_t n, size_t len, const size_t *sizes, int nr)
{
	size_t sum = 0;
	int i;

	if (n < 0)
		return false;
	if ((size_t)n == len)
		return true;
	for (i = 0; i < nr && sum < (size_t)n; i++)
		sum += sizes[i];
	return sum == (size_t)n && n > 0;
}

static void do_records(void)
{
	size_t sizes[16], len;
	int nr, cut;
	ssize_t n;
	struct iovec iov[2];

	len = make_records(good, sizes, &nr);
	if (rnd(2)) {
		n = write(rnd_slot(), good, len);
	} else {
		cut = rnd(len + 1);
		iov[0] = (struct iovec){ good, cut };
		iov[1] = (struct iovec){ good + cut, len - cut };
		n = writev(rnd_slot(), iov, 2);
	}
	check(records_result(n, len, sizes, nr) || (n == -1 && io_errno(errno)), "records",
	      n < 0 ? errno : 0);
}

/* A completion of this process's io_uring: its result must be allowed. */
static void uring_reap(const struct io_uring_cqe *cqe)
{
	int res = cqe->res;

	in_flight--;
	/* user_data: the request's length, or ~0 for a cancellation. */
	if (cqe->user_data == ~0ULL) {
		/* How many were cancelled: IORING_ASYNC_CANCEL_ANY implies all. */
		check(res >= 0 || res == -ENOENT || res == -EALREADY, "cancel", -res);
		return;
	}
	check((res >= 0 && (uint64_t)res <= cqe->user_data) ||
	      (res < 0 && (io_errno(-res) || res == -ECANCELED)), "io_uring", -res);
}

/*
 * An IORING_OP_READ or IORING_OP_WRITE of a random file, buffer and
 * length, sometimes RWF_NOWAIT, left in flight; now and then a
 * cancellation of everything in flight.  What completed is reaped.
 */
static void do_uring(void)
{
	struct io_uring_cqe cqe;
	struct io_uring_sqe *sqe;
	size_t len = rnd(8) ? rnd(512) : rnd_len();
	int ret;

	if (!have_ring)
		return;
	while (rq_ring_cqe(&ring, &cqe))
		uring_reap(&cqe);
	if (in_flight < 6) {
		len = len > UINT32_MAX ? UINT32_MAX : len;
		sqe = rq_ring_rw(&ring, rnd(2) ? IORING_OP_READ : IORING_OP_WRITE, rnd_slot(),
				 rnd_buf(len), len, len);
		if (sqe && rnd(4) == 0)
			sqe->rw_flags = RWF_NOWAIT;
		in_flight += !!sqe;
	}
	sqe = rnd(8) ? NULL : rq_ring_sqe(&ring);
	if (sqe) {
		sqe->opcode = IORING_OP_ASYNC_CANCEL;
		sqe->fd = -1;
		sqe->cancel_flags = IORING_ASYNC_CANCEL_ANY;
		sqe->user_data = ~0ULL;
		in_flight++;
	}
	ret = rq_ring_submit(&ring, 0, -1);
	check(ret >= 0 || ret == -EINTR || ret == -EBUSY || ret == -EAGAIN, "io_uring_enter",
	      ret < 0 ? -ret : 0);
}

static void do_poll(void)
{
	struct pollfd pfd[SLOTS];
	int i, n = 1 + rnd(SLOTS), ret;

	for (i = 0; i < n; i++) {
		pfd[i].fd = rnd_slot();
		pfd[i].events = rnd(8) ? POLLIN | POLLOUT : rnd(0x10000);
	}
	ret = poll(pfd, n, rnd(6));
	check(ret >= 0 || errno == EINTR, "poll", ret < 0 ? errno : 0);
}

static void do_ioctl(void)
{
	static const unsigned long cmds[] = {
		RUSTQUEUE_IOC_INFO, FIONREAD, _IOR(RUSTQUEUE_IOC_MAGIC, 0, int),
		_IOW(RUSTQUEUE_IOC_MAGIC, 0, struct rustqueue_info), _IO(RUSTQUEUE_IOC_MAGIC, 1),
		TCGETS, 0,
	};
	unsigned long cmd = rnd(8) ? cmds[rnd(ARRAY_SIZE(cmds))] : (unsigned long)rnd(1ULL << 32);
	int ret;

	ret = ioctl(rnd_slot(), cmd, rnd_buf(sizeof(struct rustqueue_info)));
	check(ret == 0 || errno == ENOTTY || errno == EFAULT || errno == EBADF, "ioctl",
	      ret < 0 ? errno : 0);
}

static void do_fcntl(void)
{
	static const int flags[] = { O_DIRECT, O_NONBLOCK, O_ASYNC };
	int i = rnd(SLOTS), fd = slot[i], fl, ret, flag;

	fl = fcntl(fd, F_GETFL);
	if (fl < 0) {
		check(errno == EBADF, "fcntl", errno);
		return;
	}
	flag = flags[rnd(ARRAY_SIZE(flags))];
	/* SIGIO comes to this process, whose handler does nothing. */
	if (flag == O_ASYNC && fcntl(fd, F_SETOWN, getpid()) < 0) {
		check(errno == EBADF, "fcntl", errno);
		return;
	}
	ret = fcntl(fd, F_SETFL, fl ^ flag);
	/* Only a "direct" queue takes O_DIRECT: /dev/rustqueue's is one. */
	check(ret == 0 || (ret == -1 && errno == EINVAL && flag == O_DIRECT && !slot_seed[i]),
	      "fcntl", ret < 0 ? errno : 0);
}

static void do_misc(void)
{
	int i = rnd(SLOTS), ret;
	char val[32];

	switch (rnd(4)) {
	case 0: {
		int j = rnd(SLOTS);

		if (slot[i] >= 0)
			close(slot[i]);
		slot[i] = dup(slot[j]);
		slot_seed[i] = slot_seed[j];
		check(slot[i] >= 0 || errno == EBADF, "dup", slot[i] < 0 ? errno : 0);
		break;
	}
	case 1:
		ret = lseek(rnd_slot(), rnd(100), SEEK_SET);
		check(ret == -1 && (errno == ESPIPE || errno == EBADF), "lseek",
		      ret < 0 ? errno : 0);
		break;
	case 2:
		/* Limits change under the other processes' feet. */
		if (rnd(8)) {
			snprintf(val, sizeof(val), "%llu", 1 + (unsigned long long)rnd(64));
			ret = sysfs_set("capacity", val);
			check(!ret || ret == EBUSY, "capacity", ret);
		} else {
			snprintf(val, sizeof(val), "%llu", 1 + (unsigned long long)rnd(RQ_MAX_MSG));
			ret = sysfs_set("max_msg_size", rnd(4) ? val : "4096x");
			check(!ret || ret == EINVAL, "max_msg_size", ret);
		}
		break;
	default:
		if (slot[i] >= 0)
			close(slot[i]);
		slot[i] = -1;
		break;
	}
}

/* The limits found at the start, put back at exit. */
static struct rq_limits saved;

static void end_run(void)
{
	int err = rq_end(&saved), i;
	char name[48];

	if (err)
		ksft_print_msg("cannot empty the queue, restore its limits: %s\n", strerror(err));
	for (i = 0; names[0] && i < NAMES; i++) {
		snprintf(name, sizeof(name), "%s-%d", names, i);
		err = q_rmdir(name);
		if (err && err != ENOENT)
			ksft_print_msg("cannot remove queue %s: %s\n", name, strerror(err));
	}
}

static void on_alarm(int signo)
{
}

static int fuzz(int p, uint64_t seed, double end)
{
	struct itimerval tick = { { 0, 20000 }, { 0, 20000 } };
	struct sigaction sa = { .sa_handler = on_alarm };
	int i;

	me = p;
	rng = seed * 0x9e3779b97f4a7c15ULL + p + 1;
	for (i = 0; i < SLOTS; i++)
		slot[i] = -1;
	/* Whatever blocks is interrupted within 20 ms. */
	sigaction(SIGALRM, &sa, NULL);
	sigaction(SIGIO, &sa, NULL);
	setitimer(ITIMER_REAL, &tick, NULL);

	have_ring = !rq_ring_init(&ring, 8, NULL);
	while (now() < end) {
		switch (rnd(14)) {
		case 12:
			do_records();
			break;
		case 13:
			do_uring();
			break;
		case 0: case 1:
			do_open();
			break;
		case 2: case 3:
			do_rw(true);
			break;
		case 4: case 5:
			do_rw(false);
			break;
		case 6:
			do_rwv(rnd(2));
			break;
		case 7:
			do_poll();
			break;
		case 8:
			do_ioctl();
			break;
		case 9:
			do_fcntl();
			break;
		default:
			if (names[0] && rnd(3) == 0)
				do_queue();
			else
				do_misc();
			break;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	int procs = 4, seconds = 10, opt, i, status, fd, failed = 0;
	uint64_t seed = time(NULL), calls = 0, unexpected = 0, drained = 0, bytes = 0;
	struct rustqueue_info info;
	pid_t pids[MAX_PROCS];
	bool consistent;
	const char *why;
	double end;
	uint8_t *map;
	ssize_t n;

	while ((opt = getopt(argc, argv, "p:t:s:")) != -1) {
		switch (opt) {
		case 'p':
			procs = atoi(optarg);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr, "usage: %s [-p PROCS] [-t SECONDS] [-s SEED]\n", argv[0]);
			return KSFT_FAIL;
		}
	}
	if (procs < 1 || procs > MAX_PROCS)
		ksft_exit_fail_msg("bad arguments\n");

	ksft_print_header();
	ksft_set_plan(1);
	why = rq_cannot_run();
	if (why)
		ksft_exit_skip("%s\n", why);
	if (rq_begin(&saved))
		ksft_exit_fail_msg("cannot empty " RQ_DEVICE " and set its limits: %s\n",
				   strerror(errno));
	/* The fuzzers change the limits: however the run ends, they are put back. */
	atexit(end_run);
	if (!access(RQ_CONFIGFS, F_OK))
		snprintf(names, sizeof(names), "fz-%d", getpid());

	page = sysconf(_SC_PAGESIZE);
	counts = mmap(NULL, sizeof(*counts), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	good = malloc(GOOD_SIZE);
	/* Four pages: read-only, read-write then a hole (the edge), no access. */
	map = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (counts == MAP_FAILED || !good || map == MAP_FAILED)
		ksft_exit_fail_msg("memory: %s\n", strerror(errno));
	readonly = map;
	edge = map + page;
	unmapped = map + 3 * page;
	mprotect(readonly, page, PROT_READ);
	/*
	 * No access rather than unmapped: a hole could take a later mapping,
	 * such as an io_uring's rings, which a read would then write over.
	 */
	mprotect(map + 2 * page, 2 * page, PROT_NONE);

	ksft_print_msg("seed %llu (rerun with -s %llu), %d processes, %d s, %s\n",
		       (unsigned long long)seed, (unsigned long long)seed, procs, seconds,
		       names[0] ? "named queues too" : "no configfs: /dev/rustqueue only");
	end = now() + seconds;
	for (i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(fuzz(i, seed, end));
	}
	for (i = 0; i < procs; i++) {
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
		calls += counts->calls[i];
		unexpected += counts->unexpected[i];
	}

	/* Every file is closed: what is counted is what is queued. */
	fd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	if (fd < 0 || get_info(fd, &info))
		ksft_exit_fail_msg("cannot read the queue's state: %s\n", strerror(errno));
	while ((n = read(fd, good, BUF_SIZE)) > 0) {
		drained++;
		bytes += n;
	}
	consistent = n == -1 && errno == EAGAIN && drained == info.count &&
		     bytes == info.bytes && info.enqueued - info.dequeued == info.count &&
		     info.in_flight == 0;
	if (!consistent)
		ksft_print_msg("info: count %u in_flight %u bytes %llu; "
			       "enqueued %llu dequeued %llu; drained %llu messages, %llu bytes\n",
			       info.count, info.in_flight, (unsigned long long)info.bytes,
			       (unsigned long long)info.enqueued, (unsigned long long)info.dequeued,
			       (unsigned long long)drained, (unsigned long long)bytes);
	close(fd);

	printf("fuzz: %d processes, %d s, seed %llu: %llu calls, %llu unexpected, queue %s\n",
	       procs, seconds, (unsigned long long)seed, (unsigned long long)calls,
	       (unsigned long long)unexpected, consistent ? "consistent" : "INCONSISTENT");
	ksft_test_result(!failed && !unexpected && consistent && calls > 0,
			 "random calls get allowed results\n");
	ksft_finished();
}
