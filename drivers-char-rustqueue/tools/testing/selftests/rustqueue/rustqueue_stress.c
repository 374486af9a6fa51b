// SPDX-License-Identifier: GPL-2.0-only
/*
 * Load test for /dev/rustqueue: writer and reader processes in every mode at
 * once (default and packet mode, blocking, O_NONBLOCK, poll()-driven, short
 * reads, writev()), with messages of random length that carry their queue,
 * writer, a sequence number and a checksum.  Afterwards every message
 * written must have been read exactly once, from the queue it was written
 * to, each reader must have seen each writer's messages in order, no payload
 * may have changed, and each queue's counters must agree with what the
 * processes counted.
 *
 * With -q QUEUES, the load runs on /dev/rustqueue and QUEUES - 1 named
 * queues made for the run (semantics "direct"): writer and reader I use
 * queue I % QUEUES.  On these, mode 4 is packet mode through io_uring
 * (IORING_OP_WRITE, IORING_OP_READ).  With -b, the last named queue is in
 * "records" semantics instead, and its processes move batches of framed
 * messages: blocking (writev() splitting the buffer at random), O_NONBLOCK
 * driven by poll(), and through io_uring, a batch per request.
 *
 * usage: rustqueue_stress [-q QUEUES] [-b] [-w WRITERS] [-r READERS]
 *                         [-t SECONDS] [-n MESSAGES_PER_WRITER] [-s SEED]
 */

#define _GNU_SOURCE
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "../kselftest.h"
#include "rustqueue_util.h"
#include "rustqueue_uring.h"

#define MAX_PROCS	32
#define MAX_QUEUES	8
#define MAX_BATCH	12	/* messages per records write */
#define NR_MODES	5	/* of a process on a "direct" queue */
#define NR_BATCH_MODES	3	/* of one on the "records" queue */
#define MAGIC		0x52514d53	/* "RQMS" */
#define STOP_MAGIC	0x52515354	/* "RQST" */

struct msg_hdr {
	uint32_t magic;
	uint32_t queue;		/* the index of the queue it was written to */
	uint32_t writer;
	uint32_t seq;
	uint32_t len;		/* of the whole message */
	uint32_t sum;		/* of queue, writer, seq, len and the payload */
};

/* What the processes count, in memory they share with the parent. */
struct tally {
	uint64_t written[MAX_PROCS];	/* messages, per writer */
	uint64_t rejected[MAX_PROCS];	/* writes the driver refused, per writer */
	uint64_t bytes_written[MAX_PROCS];
	uint64_t read[MAX_PROCS];	/* messages, per reader */
	uint64_t reordered[MAX_PROCS];
	uint64_t corrupt[MAX_PROCS];
	uint64_t crossed[MAX_PROCS];	/* messages from another queue, per reader */
	uint64_t errors[MAX_PROCS];	/* unexpected results, per writer */
	uint64_t read_errors[MAX_PROCS];	/* and per reader */
	uint64_t stops[MAX_QUEUES];	/* stop messages taken, per queue */
};

static struct tally *tally;
static uint8_t *seen;		/* seen[writer * per_writer + seq]: times read */
static uint64_t per_writer = 1 << 20;
static int writers = 4, readers = 4;
static unsigned int max_msg = RQ_MAX_MSG;
/* Queue 0 is /dev/rustqueue, the others named queues made for the run. */
static int queues = 1;
static char queue_name[MAX_QUEUES][RQ_NAME_MAX + 1];

static char queue_path[MAX_QUEUES][64];
/* -b: the index of the queue in "records" semantics, or -1. */
static int records_q = -1;

/*
 * Count a result the manual does not allow, and name the first few of each
 * process: the line of this file, and errno (the failed call's, where a
 * call failed).
 */
static void count_error(uint64_t *errors, const char *role, int i, int line)
{
	int err = errno;

	if (errors[i]++ < 5)
		ksft_print_msg("%s %d: result not expected at %s:%d (errno %d, %s)\n",
			       role, i, __FILE__, line, err, strerror(err));
	errno = err;
}

#define WRITER_ERROR(w)	count_error(tally->errors, "writer", (w), __LINE__)
#define READER_ERROR(r)	count_error(tally->read_errors, "reader", (r), __LINE__)

static uint64_t rng_next(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static uint32_t checksum(const struct msg_hdr *h, const uint8_t *payload, size_t n)
{
	uint32_t sum = 2166136261u;	/* FNV-1a */
	uint32_t words[4] = { h->queue, h->writer, h->seq, h->len };
	const uint8_t *w = (const uint8_t *)words;
	size_t i;

	for (i = 0; i < sizeof(words); i++)
		sum = (sum ^ w[i]) * 16777619u;
	for (i = 0; i < n; i++)
		sum = (sum ^ payload[i]) * 16777619u;
	return sum;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void wait_for(int fd, short events)
{
	struct pollfd pfd = { .fd = fd, .events = events };

	poll(&pfd, 1, 100);
}

/* One IORING_OP_READ or IORING_OP_WRITE, waited for: its result, as read() gives it. */
static ssize_t ring_rw(struct rq_ring *ring, int op, int fd, void *buf, size_t len)
{
	struct io_uring_cqe cqe;

	if (!rq_ring_rw(ring, op, fd, buf, len, 1) || rq_ring_submit(ring, 1, -1) < 0 ||
	    !rq_ring_wait(ring, &cqe, -1)) {
		errno = EIO;
		return -1;
	}
	if (cqe.res < 0) {
		errno = -cqe.res;
		return -1;
	}
	return cqe.res;
}

/* A message of random length: mostly short, now and then up to the limit. */
static size_t fill_msg(uint8_t *buf, int w, uint64_t seq, uint64_t *rng)
{
	struct msg_hdr *h = (struct msg_hdr *)buf;
	uint64_t r = rng_next(rng);
	size_t len, i;

	len = sizeof(*h) + (r % 4 ? (r >> 8) % 256 : (r >> 8) % (max_msg - sizeof(*h) + 1));
	h->magic = MAGIC;
	h->queue = w % queues;
	h->writer = w;
	h->seq = seq;
	h->len = len;
	for (i = sizeof(*h); i < len; i++)
		buf[i] = rng_next(rng) >> 56;
	h->sum = checksum(h, buf + sizeof(*h), len - sizeof(*h));
	return len;
}

/* A record of @len bytes at @p, its message left to the caller. */
static size_t put_record(uint8_t *p, size_t len)
{
	struct rustqueue_record rec = { .len = len };
	size_t size = RUSTQUEUE_RECORD_SIZE(len);

	memcpy(p, &rec, sizeof(rec));
	memset(p + sizeof(rec) + len, 0, size - sizeof(rec) - len);
	return size;
}

/*
 * A writer of the records queue: batches of 1 to MAX_BATCH messages, in
 * mode (W / QUEUES) % 3: blocking writev() split at a random byte,
 * O_NONBLOCK driven by poll(), or io_uring.  A call may queue part of a
 * batch (a signal, no room without waiting, io_uring's first try): the
 * rest follows.  One batch in 64 ends with a record one byte too long,
 * which ends the call after the others and fails alone with EINVAL.
 */
static int records_writer(int w, uint64_t seed, double end)
{
	int mode = (w / queues) % NR_BATCH_MODES, fd, k, nb, done;
	uint64_t rng = seed ^ (0x9e3779b97f4a7c15ULL * (w + 1));
	size_t cap = (MAX_BATCH + 1) * RUSTQUEUE_RECORD_SIZE(max_msg + 1);
	size_t sizes[MAX_BATCH], lens[MAX_BATCH], total, all, off, cut;
	uint8_t *buf = malloc(cap);
	struct iovec iov[2];
	struct rq_ring ring;
	uint64_t seq = 0;
	bool bad;
	ssize_t n;

	fd = open(queue_path[w % queues], O_WRONLY | (mode == 1 ? O_NONBLOCK : 0));
	if (fd < 0 || !buf || (mode == 2 && rq_ring_init(&ring, 4, NULL)))
		return 1;
	while (seq < per_writer && now() < end) {
		nb = 1 + rng_next(&rng) % MAX_BATCH;
		if (seq + nb > per_writer)
			nb = per_writer - seq;
		bad = rng_next(&rng) % 64 == 0;
		for (k = 0, total = 0; k < nb; k++) {
			lens[k] = fill_msg(buf + total + sizeof(struct rustqueue_record), w,
					   seq + k, &rng);
			sizes[k] = put_record(buf + total, lens[k]);
			total += sizes[k];
		}
		all = total;
		if (bad)
			all += put_record(buf + total, max_msg + 1);
		for (off = 0, done = 0; off < total; ) {
			if (mode == 1)
				wait_for(fd, POLLOUT);
			if (mode == 2) {
				n = ring_rw(&ring, IORING_OP_WRITE, fd, buf + off, all - off);
			} else if (mode == 0) {
				cut = rng_next(&rng) % (all - off + 1);
				iov[0] = (struct iovec){ buf + off, cut };
				iov[1] = (struct iovec){ buf + off + cut, all - off - cut };
				n = writev(fd, iov, 2);
			} else {
				n = write(fd, buf + off, all - off);
			}
			if (n < 0 && errno == EAGAIN && mode == 1) {
				tally->rejected[w]++;
				continue;
			}
			if (n <= 0 || (size_t)n > total - off) {
				WRITER_ERROR(w);
				break;
			}
			/* Whole records only, in order. */
			for (off += n; n > 0; done++) {
				if (done == nb || (size_t)n < sizes[done]) {
					WRITER_ERROR(w);
					goto out;
				}
				n -= sizes[done];
				tally->written[w]++;
				tally->bytes_written[w] += lens[done];
			}
		}
		seq += done;
		if (done < nb)
			break;
		if (bad) {
			n = write(fd, buf + total, all - total);
			if (n != -1 || errno != EINVAL)
				WRITER_ERROR(w);
			else
				tally->rejected[w]++;
		}
	}
out:
	close(fd);
	return 0;
}

/*
 * Writer W: on a "direct" queue, mode W % 5 is default mode with a retry
 * after ENOSPC, blocking packet mode, O_NONBLOCK packet mode driven by
 * poll(), default mode driven by poll(), or packet mode through io_uring.
 * One message in 64 is one byte too long and one in 50 is empty: the first
 * must fail with EINVAL, the second return 0.
 */
static int writer(int w, uint64_t seed, double end)
{
	static const int flags[] = { 0, O_DIRECT, O_DIRECT | O_NONBLOCK, 0, O_DIRECT };
	int mode = w % NR_MODES, fd;
	uint64_t rng = seed ^ (0x9e3779b97f4a7c15ULL * (w + 1));
	uint8_t *buf = malloc(max_msg + 1);
	struct rq_ring ring;
	uint64_t seq = 0, r;
	ssize_t n;
	size_t len;

	if (w % queues == records_q)
		return records_writer(w, seed, end);
	fd = open(queue_path[w % queues], O_WRONLY | flags[mode]);
	if (fd < 0 || !buf || (mode == 4 && rq_ring_init(&ring, 4, NULL)))
		return 1;
	while (seq < per_writer && now() < end) {
		r = rng_next(&rng);
		if (r % 64 == 0) {
			n = write(fd, buf, max_msg + 1);
			if (n != -1 || errno != EINVAL)
				WRITER_ERROR(w);
			else
				tally->rejected[w]++;
			continue;
		}
		if (r % 50 == 1) {
			if (write(fd, buf, 0) != 0)
				WRITER_ERROR(w);
			continue;
		}
		len = fill_msg(buf, w, seq, &rng);
		if (mode == 3)
			wait_for(fd, POLLOUT);
		if (mode == 4) {
			n = ring_rw(&ring, IORING_OP_WRITE, fd, buf, len);
		} else if (seq % 3 == 0) {
			struct iovec iov[2] = {
				{ .iov_base = buf, .iov_len = sizeof(struct msg_hdr) },
				{ .iov_base = buf + sizeof(struct msg_hdr),
				  .iov_len = len - sizeof(struct msg_hdr) },
			};

			n = writev(fd, iov, 2);
		} else {
			n = write(fd, buf, len);
		}
		if (n == (ssize_t)len) {
			tally->written[w]++;
			tally->bytes_written[w] += len;
			seq++;
		} else if (n == -1 && (errno == ENOSPC || errno == EAGAIN)) {
			tally->rejected[w]++;
			wait_for(fd, POLLOUT);
		} else {
			WRITER_ERROR(w);
		}
	}
	close(fd);
	return 0;
}

/* Check one message a reader got; returns false for a stop message. */
static bool account(int r, const uint8_t *buf, size_t n, int64_t *last)
{
	const struct msg_hdr *h = (const struct msg_hdr *)buf;

	if (n == sizeof(*h) && h->magic == STOP_MAGIC)
		return false;
	if (n < sizeof(*h) || h->magic != MAGIC || h->len != n || (int)h->writer >= writers ||
	    h->seq >= per_writer ||
	    h->sum != checksum(h, buf + sizeof(*h), n - sizeof(*h))) {
		tally->corrupt[r]++;
		return true;
	}
	if ((int)h->queue != r % queues || h->writer % queues != h->queue)
		tally->crossed[r]++;
	if ((int64_t)h->seq <= last[h->writer])
		tally->reordered[r]++;
	last[h->writer] = h->seq;
	__atomic_fetch_add(&seen[h->writer * per_writer + h->seq], 1, __ATOMIC_RELAXED);
	tally->read[r]++;
	return true;
}

/* Default mode: one message per open, read in chunks of random size. */
static ssize_t read_default(int r, uint8_t *buf, uint64_t *rng, bool poll_first)
{
	size_t total = 0, chunk;
	ssize_t n;
	int fd;

	fd = open(queue_path[r % queues], O_RDONLY);
	if (fd < 0)
		return -1;
	for (;;) {
		if (poll_first && !total)
			wait_for(fd, POLLIN);
		/* One byte more than a message may have, to see a longer one. */
		chunk = max_msg + 1 - total;
		if (!poll_first)
			chunk = 1 + rng_next(rng) % chunk;
		n = read(fd, buf + total, chunk);
		if (n < 0) {
			READER_ERROR(r);
			break;
		}
		if (n == 0 && total)
			break;			/* end of this open's message */
		if (n == 0)
			wait_for(fd, POLLIN);	/* nothing queued yet */
		total += n;
		if (total > max_msg) {
			tally->corrupt[r]++;
			break;
		}
	}
	close(fd);
	return total;
}

/*
 * A reader of the records queue, in mode (R / QUEUES) % 3: blocking,
 * O_NONBLOCK driven by poll(), or io_uring, into a buffer of random size:
 * when it is too short for the first record (EMSGSIZE), FIONREAD sizes the
 * next.  The parent queues one stop message at a time, so that no read
 * takes two.
 */
static int records_reader(int r, uint64_t seed, double end)
{
	int mode = (r / queues) % NR_BATCH_MODES, fd, need = 0;
	uint64_t rng = seed ^ (0xc2b2ae3d27d4eb4fULL * (r + 1));
	size_t cap = MAX_BATCH * RUSTQUEUE_RECORD_SIZE(max_msg), size, off, rs;
	uint8_t *buf = malloc(cap);
	struct rustqueue_record rec;
	int64_t last[MAX_PROCS];
	struct rq_ring ring;
	bool stop = false;
	ssize_t n;
	int i;

	for (i = 0; i < MAX_PROCS; i++)
		last[i] = -1;
	fd = open(queue_path[r % queues], O_RDONLY | (mode == 1 ? O_NONBLOCK : 0));
	if (fd < 0 || !buf || (mode == 2 && rq_ring_init(&ring, 4, NULL)))
		return 1;
	while (!stop) {
		size = need ? need : RUSTQUEUE_RECORD_SIZE(sizeof(struct msg_hdr)) +
				     rng_next(&rng) % cap;
		if (size > cap)
			size = cap;
		need = 0;
		if (mode == 1)
			wait_for(fd, POLLIN);
		if (mode == 2)
			n = ring_rw(&ring, IORING_OP_READ, fd, buf, size);
		else
			n = read(fd, buf, size);
		if (n < 0 && errno == EAGAIN && mode == 1)
			continue;
		if (n < 0 && errno == EMSGSIZE) {
			/* Another reader may have taken that record since. */
			if (ioctl(fd, FIONREAD, &need) || need > (int)cap)
				READER_ERROR(r);
			if (need <= (int)size || need > (int)cap)
				need = 0;
			continue;
		}
		if (n <= 0) {
			READER_ERROR(r);
			continue;
		}
		for (off = 0; off < (size_t)n; off += rs) {
			memcpy(&rec, buf + off, sizeof(rec));
			rs = RUSTQUEUE_RECORD_SIZE(rec.len);
			if (rec.flags || !rec.len || off + rs > (size_t)n) {
				tally->corrupt[r]++;
				break;
			}
			if (!account(r, buf + off + sizeof(rec), rec.len, last))
				stop = true;
		}
	}
	__atomic_fetch_add(&tally->stops[r % queues], 1, __ATOMIC_RELAXED);
	close(fd);
	return 0;
}

/*
 * Reader R: on a "direct" queue, mode R % 5 is blocking packet mode,
 * O_NONBLOCK packet mode driven by poll(), default mode with short reads,
 * default mode driven by poll(), or packet mode through io_uring.  A reader
 * ends at its stop message, which the parent queues behind every writer's
 * last message.
 */
static int reader(int r, uint64_t seed, double end)
{
	static const int flags[] = { O_DIRECT, O_DIRECT | O_NONBLOCK, 0, 0, O_DIRECT };
	int mode = r % NR_MODES, fd = -1;
	uint64_t rng = seed ^ (0xc2b2ae3d27d4eb4fULL * (r + 1));
	uint8_t *buf = malloc(max_msg + 1);
	int64_t last[MAX_PROCS];
	struct rq_ring ring;
	ssize_t n;
	int i;

	if (r % queues == records_q)
		return records_reader(r, seed, end);
	for (i = 0; i < MAX_PROCS; i++)
		last[i] = -1;
	if (!buf || (mode == 4 && rq_ring_init(&ring, 4, NULL)))
		return 1;
	if (flags[mode]) {
		fd = open(queue_path[r % queues], O_RDONLY | flags[mode]);
		if (fd < 0)
			return 1;
	}
	for (;;) {
		if (mode == 2 || mode == 3) {
			n = read_default(r, buf, &rng, mode == 3);
		} else {
			if (mode == 1)
				wait_for(fd, POLLIN);
			if (mode == 4)
				n = ring_rw(&ring, IORING_OP_READ, fd, buf, max_msg);
			else
				n = read(fd, buf, max_msg);
			if (n < 0 && errno == EAGAIN && mode == 1)
				continue;
			if (n <= 0) {
				READER_ERROR(r);
				continue;
			}
		}
		if (n > 0 && !account(r, buf, n, last))
			break;
	}
	if (fd >= 0)
		close(fd);
	return 0;
}

/* The limits found at the start, put back at exit. */
static struct rq_limits saved;

static void end_run(void)
{
	int err = rq_end(&saved), q;

	if (err)
		ksft_print_msg("cannot empty the queue, restore its limits: %s\n", strerror(err));
	for (q = 1; q < queues; q++)
		if (queue_name[q][0] && q_rmdir(queue_name[q]))
			ksft_print_msg("cannot remove queue %s\n", queue_name[q]);
}

/*
 * Queues 1 to QUEUES - 1: named queues in "direct" semantics, but for the
 * last in "records" semantics with -b.
 */
static void make_queues(void)
{
	int q, err;

	snprintf(queue_path[0], sizeof(queue_path[0]), "%s", RQ_DEVICE);
	for (q = 1; q < queues; q++) {
		snprintf(queue_name[q], sizeof(queue_name[q]), "stress-%d-%d", getpid(), q);
		err = q_mkdir(queue_name[q]);
		if (err) {
			queue_name[q][0] = '\0';
			ksft_exit_fail_msg("mkdir " RQ_CONFIGFS "%s: %s\n",
					   queue_name[q], strerror(err));
		}
		err = q_set(queue_name[q], "semantics", q == records_q ? "records" : "direct");
		if (err)
			ksft_exit_fail_msg("%s semantics: %s\n", queue_name[q], strerror(err));
		snprintf(queue_path[q], sizeof(queue_path[q]), "/dev/rustqueue-%s", queue_name[q]);
	}
}

static pid_t spawn(int (*fn)(int, uint64_t, double), int idx, uint64_t seed, double end)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn(idx, seed, end));
	return pid;
}

static int wait_all(pid_t *pids, int n)
{
	int i, status, bad = 0;

	for (i = 0; i < n; i++)
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			bad++;
	return bad;
}

int main(int argc, char **argv)
{
	int seconds = 10, opt, i, q, fd[MAX_QUEUES];
	uint64_t seed = time(NULL), written = 0, bytes = 0, rejected = 0, read = 0;
	uint64_t lost = 0, duplicated = 0, reordered = 0, corrupt = 0, crossed = 0, errors = 0, k;
	uint64_t q_written[MAX_QUEUES] = { 0 }, q_rejected[MAX_QUEUES] = { 0 };
	struct rustqueue_info before[MAX_QUEUES], after[MAX_QUEUES];
	int q_readers[MAX_QUEUES] = { 0 };
	pid_t pids[2 * MAX_PROCS];
	struct msg_hdr stop = { .magic = STOP_MAGIC };
	const char *why;
	double start, end;
	bool counters_agree = true, batches = false;
	int bad = 0;

	while ((opt = getopt(argc, argv, "q:bw:r:t:n:s:")) != -1) {
		switch (opt) {
		case 'q':
			queues = atoi(optarg);
			break;
		case 'b':
			batches = true;
			break;
		case 'w':
			writers = atoi(optarg);
			break;
		case 'r':
			readers = atoi(optarg);
			break;
		case 't':
			seconds = atoi(optarg);
			break;
		case 'n':
			per_writer = strtoull(optarg, NULL, 0);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		default:
			fprintf(stderr,
				"usage: %s [-q QUEUES] [-b] [-w WRITERS] [-r READERS]\n"
				"       [-t SECONDS] [-n MESSAGES_PER_WRITER] [-s SEED]\n",
				argv[0]);
			return KSFT_FAIL;
		}
	}
	if (writers < 1 || writers > MAX_PROCS || readers < 1 || readers > MAX_PROCS ||
	    !per_writer || per_writer > UINT32_MAX || queues < 1 || queues > MAX_QUEUES ||
	    writers < queues || readers < queues || (batches && queues < 2))
		ksft_exit_fail_msg("bad arguments: at least a writer and a reader per queue\n");
	if (batches)
		records_q = queues - 1;

	ksft_print_header();
	ksft_set_plan(1);
	why = rq_cannot_run();
	if (why)
		ksft_exit_skip("%s\n", why);
	if (queues > 1 && access(RQ_CONFIGFS, F_OK))
		ksft_exit_skip(RQ_CONFIGFS " not present: mount configfs for -q\n");
	fd[0] = open(RQ_DEVICE, O_RDWR | O_DIRECT);
	if (fd[0] < 0 || rq_begin(&saved))
		ksft_exit_fail_msg("cannot open and reset " RQ_DEVICE ": %s\n", strerror(errno));
	/* However the run ends, the queues are emptied or removed, the limits put back. */
	atexit(end_run);
	make_queues();
	for (q = 0; q < queues; q++) {
		if (q)
			fd[q] = open(queue_path[q], O_RDWR | (q == records_q ? 0 : O_DIRECT));
		if (fd[q] < 0 || get_info(fd[q], &before[q]))
			ksft_exit_fail_msg("%s: %s\n", queue_path[q], strerror(errno));
	}
	max_msg = before[0].max_msg_size;

	tally = mmap(NULL, sizeof(*tally), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	seen = mmap(NULL, writers * per_writer, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (tally == MAP_FAILED || seen == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));

	ksft_print_msg("seed %llu, %d queues%s, %d writers, %d readers, %d s\n",
		       (unsigned long long)seed, queues, batches ? " (the last in records)" : "",
		       writers, readers, seconds);
	/* A lost wakeup must fail the run, not hang it. */
	alarm(seconds + 120);
	start = now();
	end = start + seconds;
	for (i = 0; i < readers; i++)
		pids[writers + i] = spawn(reader, i, seed, end);
	for (i = 0; i < writers; i++)
		pids[i] = spawn(writer, i, seed, end);
	bad = wait_all(pids, writers);
	/* Behind the last message of every writer: one stop per reader. */
	for (i = 0; i < readers; i++) {
		if (i % queues == records_q)
			continue;
		q_readers[i % queues]++;
		if (write(fd[i % queues], &stop, sizeof(stop)) != sizeof(stop))
			bad++;
	}
	/* On the records queue one at a time, so that no read takes two. */
	for (i = 0; records_q > 0 && i < readers; i++) {
		uint8_t rec[RUSTQUEUE_RECORD_SIZE(sizeof(stop))];
		int taken;

		if (i % queues != records_q)
			continue;
		taken = q_readers[records_q]++;
		put_record(rec, sizeof(stop));
		memcpy(rec + sizeof(struct rustqueue_record), &stop, sizeof(stop));
		if (write(fd[records_q], rec, sizeof(rec)) != sizeof(rec)) {
			bad++;
			break;
		}
		while (__atomic_load_n(&tally->stops[records_q], __ATOMIC_RELAXED) ==
		       (uint64_t)taken)
			usleep(1000);
	}
	bad += wait_all(pids + writers, readers);
	for (q = 0; q < queues; q++)
		if (get_info(fd[q], &after[q]))
			bad++;

	for (i = 0; i < writers; i++) {
		written += tally->written[i];
		bytes += tally->bytes_written[i];
		rejected += tally->rejected[i];
		q_written[i % queues] += tally->written[i];
		q_rejected[i % queues] += tally->rejected[i];
		for (k = 0; k < per_writer; k++) {
			uint8_t times = seen[i * per_writer + k];

			if (k < tally->written[i] && !times)
				lost++;
			else if (times > 1 || (k >= tally->written[i] && times))
				duplicated++;
		}
	}
	for (i = 0; i < MAX_PROCS; i++) {
		read += tally->read[i];
		reordered += tally->reordered[i];
		corrupt += tally->corrupt[i];
		crossed += tally->crossed[i];
		errors += tally->errors[i] + tally->read_errors[i];
	}
	/* Each queue's counters against what its own processes did. */
	for (q = 0; q < queues; q++) {
		const struct rustqueue_info *b = &before[q], *a = &after[q];
		bool agree = a->enqueued - b->enqueued == q_written[q] + q_readers[q] &&
			     a->dequeued - b->dequeued == q_written[q] + q_readers[q] &&
			     a->rejected - b->rejected == q_rejected[q] &&
			     a->count == 0 && a->in_flight == 0 && a->bytes == 0;

		if (agree)
			continue;
		counters_agree = false;
		ksft_print_msg("%s: +%llu enq +%llu deq +%llu rej, %u left, %u held, %llu B\n",
			       queue_path[q], (unsigned long long)(a->enqueued - b->enqueued),
			       (unsigned long long)(a->dequeued - b->dequeued),
			       (unsigned long long)(a->rejected - b->rejected),
			       a->count, a->in_flight, (unsigned long long)a->bytes);
		ksft_print_msg("its processes: %llu written, %d stops, %llu rejected\n",
			       (unsigned long long)q_written[q], q_readers[q],
			       (unsigned long long)q_rejected[q]);
	}
	if (errors || bad)
		ksft_print_msg("%llu unexpected results, %d processes failed\n",
			       (unsigned long long)errors, bad);

	/* One line, the figures "rq check" quotes. */
	printf("stress: %llu messages (%llu bytes, %llu refused writes) in %.0f s, ",
	       (unsigned long long)read, (unsigned long long)bytes, (unsigned long long)rejected,
	       now() - start);
	printf("%d queues, %d writers, %d readers, seed %llu: ", queues, writers, readers,
	       (unsigned long long)seed);
	printf("%llu lost, %llu duplicated, %llu reordered, %llu corrupt, ",
	       (unsigned long long)lost, (unsigned long long)duplicated,
	       (unsigned long long)reordered, (unsigned long long)corrupt);
	printf("%llu crossed, counters %s\n",
	       (unsigned long long)crossed, counters_agree ? "agree" : "DISAGREE");
	for (q = 0; q < queues; q++)
		close(fd[q]);
	ksft_test_result(!lost && !duplicated && !reordered && !corrupt && !crossed && !errors &&
			 !bad && counters_agree && read == written && written > 0,
			 "every message read exactly once, in order, unchanged, from its queue\n");
	ksft_finished();
}
