// SPDX-License-Identifier: GPL-2.0-only
/*
 * rq-bench: messages per second through /dev/rustqueue in packet mode and
 * through the kernel's own message transports, measured the same way.
 *
 * For each transport and message size, W writer processes send N messages
 * of SIZE bytes in all, and R reader processes receive them, one system call
 * per message on each side, all blocking.  The clock runs from the moment
 * every process is ready until the last one has exited.  N is chosen from a
 * calibration run so that one repetition takes about -T seconds; each
 * measurement is repeated -n times, the transports taking turns, and
 * reported as the median with the lowest and highest rate.
 *
 *   rustqueue   /dev/rustqueue opened with O_DIRECT, capacity 16
 *   pipe        pipe2(O_DIRECT), 16 buffers (F_SETPIPE_SZ)
 *   mqueue      POSIX message queue, mq_maxmsg 16, mq_msgsize SIZE
 *   sysv        System V message queue, msg_qbytes 16 * SIZE
 *   seqpacket   socketpair(AF_UNIX, SOCK_SEQPACKET); its depth is the
 *               socket's send buffer, which is not set in messages
 *   floor       no channel: per message one write() of SIZE bytes to
 *               /dev/null and one read() of SIZE bytes from /dev/zero, in
 *               W processes (what the system calls and copies alone cost)
 *
 * With -q Q instead, queues side by side: Q queues (named rustqueue queues
 * made in configfs, in packet semantics, capacity 16; or Q pipes as
 * above), each with one writer and one reader, against one such queue.
 * Queue k's writer and reader both run on CPU k (modulo the CPUs), so that
 * each queue has a CPU to itself and the queues share nothing but the
 * kernel: with two CPUs, two queues move twice the messages of one unless
 * something in the kernel is shared between them.
 *
 * With -b B instead, B messages per call, one writer and one reader, on
 * the transports that move batches, each the best way it allows:
 *
 *   rustqueue-records  a named queue in records semantics: one write() of
 *                      B framed records, one read() of up to B
 *   seqpacket-mmsg     the socket pair with sendmmsg() of B and
 *                      recvmmsg(MSG_WAITFORONE) of up to B
 *   pipe-uring         the packet pipe, and a named rustqueue queue in
 *   rustqueue-uring    packet semantics, each through io_uring: B
 *                      IORING_OP_WRITE or IORING_OP_READ, one message each,
 *                      per io_uring_submit_and_wait()
 *   floor              one write() of B x SIZE bytes to /dev/null and one
 *                      read() of as many from /dev/zero
 *
 * Queues and pipes hold max(16, 2 x B) messages.  B = 1 is each one's
 * one-message-per-call rate.
 *
 * Output, one line per measurement (tab separated), BATCH 1 but with -b:
 *   result TRANSPORT W R SIZE BATCH MSGS_PER_S MB_PER_S MIN_MSGS_PER_S MAX_MSGS_PER_S N REPS
 * with -q, for the queues of each transport, all of them together:
 *   queues TRANSPORT QUEUES SIZE MSGS_PER_S MB_PER_S MIN_MSGS_PER_S MAX_MSGS_PER_S N REPS
 * and the ratio of QUEUES queues' rate to one queue's, taken in each
 * repetition (whose two runs follow each other) and reported as the median
 * with the lowest and highest:
 *   scaling TRANSPORT QUEUES SIZE MEDIAN_RATIO MIN_RATIO MAX_RATIO REPS
 * and with -m, the kernel memory a queue holds per queued message, from the
 * "Slab:" line of /proc/meminfo before and after filling it:
 *   memory TRANSPORT MESSAGES SIZE SLAB_BYTES BYTES_PER_MSG
 * MB are 10^6 bytes.  Runs as root in the rq guest; see scripts/rq bench.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <liburing.h>
#include <linux/rustqueue.h>
#include <mqueue.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define DEV		"/dev/rustqueue"
#define SYSFS		"/sys/class/misc/rustqueue/"
#define CONFIGFS	"/sys/kernel/config/rustqueue/"
#define MQ_NAME		"/rq-bench"
#define DEPTH		16
#define MAX_SIZE	4096
#define MAX_PROCS	16
#define MAX_REPS	64
#define MAX_TRANSPORTS	11	/* the candidate included */
#define MAX_BATCH	64
#define RECORD_MAX	RUSTQUEUE_RECORD_SIZE(MAX_SIZE)
#define MAX_QUEUES	8

static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "rq-bench: ");
	vfprintf(stderr, fmt, ap);
	if (errno)
		fprintf(stderr, ": %s", strerror(errno));
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY);

	errno = 0;
	if (fd < 0 || write(fd, val, strlen(val)) != (ssize_t)strlen(val))
		die("writing %s to %s", val, path);
	close(fd);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One channel between the processes, set up before they are forked. */
struct chan {
	int rfd, wfd;		/* pipe, seqpacket, floor (/dev/zero, /dev/null) */
	int k;			/* -q: the queue's number */
	mqd_t mq;
	int msqid;
	size_t size;
	int batch;		/* -b: messages per call */
	int depth;		/* messages the queue holds */
	struct io_uring ring;	/* each process's own, made after fork() */
};

struct sysv_msg {
	long mtype;
	char text[MAX_SIZE];
};

/*
 * send() moves @count messages, recv() up to @count and returns how many:
 * @count is 1 but for the transports that move batches (-b).
 */
struct transport {
	const char *name;
	void (*setup)(struct chan *c, size_t size);
	void (*open_writer)(struct chan *c);
	void (*open_reader)(struct chan *c);
	void (*send)(struct chan *c, struct sysv_msg *m, int count);
	int (*recv)(struct chan *c, struct sysv_msg *m, int count);
	void (*teardown)(struct chan *c);
	bool batches;
};

/* A batch's messages, side by side: records, iovecs, io_uring buffers. */
static char batch_buf[MAX_BATCH * RECORD_MAX];

static void check_len(ssize_t ret, size_t size, const char *what)
{
	if (ret != (ssize_t)size)
		die("%s returned %zd, not %zu", what, ret, size);
}

/* rustqueue: each process opens the device itself, as a user would. */
static void rq_setup(struct chan *c, size_t size)
{
	write_str(SYSFS "capacity", "16");
	write_str(SYSFS "max_msg_size", "4096");
	c->rfd = c->wfd = -1;
}

static void rq_open_writer(struct chan *c)
{
	c->wfd = open(DEV, O_WRONLY | O_DIRECT);
	if (c->wfd < 0)
		die("open " DEV);
}

static void rq_open_reader(struct chan *c)
{
	c->rfd = open(DEV, O_RDONLY | O_DIRECT);
	if (c->rfd < 0)
		die("open " DEV);
}

static void fd_send(struct chan *c, struct sysv_msg *m, int count)
{
	check_len(write(c->wfd, m->text, c->size), c->size, "write");
}

static int fd_recv(struct chan *c, struct sysv_msg *m, int count)
{
	/* A buffer of the largest size: the message decides the length. */
	check_len(read(c->rfd, m->text, MAX_SIZE), c->size, "read");
	return 1;
}

static void fd_teardown(struct chan *c)
{
	if (c->rfd >= 0)
		close(c->rfd);
	if (c->wfd >= 0)
		close(c->wfd);
}

static void nothing(struct chan *c)
{
}

/* -q: queue k is "rq-bench-k", made afresh for every run. */
static void named_path(char *buf, size_t size, int k, const char *prefix, const char *attr)
{
	snprintf(buf, size, "%srq-bench-%d%s", prefix, k, attr);
}

static void named_make(struct chan *c, const char *semantics)
{
	char path[128], val[16];

	named_path(path, sizeof(path), c->k, CONFIGFS, "");
	if (mkdir(path, 0755))
		die("mkdir %s (is configfs mounted?)", path);
	named_path(path, sizeof(path), c->k, CONFIGFS, "/semantics");
	write_str(path, semantics);
	named_path(path, sizeof(path), c->k, CONFIGFS, "/capacity");
	snprintf(val, sizeof(val), "%d", c->depth);
	write_str(path, val);
	c->rfd = c->wfd = -1;
}

static void named_setup(struct chan *c, size_t size)
{
	named_make(c, "packet");
}

static int named_open(struct chan *c, int flags)
{
	char path[128];
	int fd;

	named_path(path, sizeof(path), c->k, "/dev/rustqueue-", "");
	fd = open(path, flags);
	if (fd < 0)
		die("open %s", path);
	return fd;
}

static void named_open_writer(struct chan *c)
{
	c->wfd = named_open(c, O_WRONLY);
}

static void named_open_reader(struct chan *c)
{
	c->rfd = named_open(c, O_RDONLY);
}

static void named_teardown(struct chan *c)
{
	char path[128];

	fd_teardown(c);
	named_path(path, sizeof(path), c->k, CONFIGFS, "");
	if (rmdir(path))
		die("rmdir %s", path);
}

static void pipe_setup(struct chan *c, size_t size)
{
	int fds[2];

	if (pipe2(fds, O_DIRECT))
		die("pipe2(O_DIRECT)");
	if (fcntl(fds[1], F_SETPIPE_SZ, c->depth * 4096) != c->depth * 4096)
		die("F_SETPIPE_SZ");
	c->rfd = fds[0];
	c->wfd = fds[1];
}

static void mq_setup(struct chan *c, size_t size)
{
	struct mq_attr attr = { .mq_maxmsg = DEPTH, .mq_msgsize = size };

	mq_unlink(MQ_NAME);
	c->mq = mq_open(MQ_NAME, O_RDWR | O_CREAT | O_EXCL, 0600, &attr);
	if (c->mq == (mqd_t)-1)
		die("mq_open (is /proc/sys/fs/mqueue/msg_max at least %d?)", DEPTH);
}

static void mq_send_one(struct chan *c, struct sysv_msg *m, int count)
{
	if (mq_send(c->mq, m->text, c->size, 0))
		die("mq_send");
}

static int mq_recv_one(struct chan *c, struct sysv_msg *m, int count)
{
	check_len(mq_receive(c->mq, m->text, c->size, NULL), c->size, "mq_receive");
	return 1;
}

static void mq_teardown(struct chan *c)
{
	mq_close(c->mq);
	mq_unlink(MQ_NAME);
}

static void sysv_setup(struct chan *c, size_t size)
{
	struct msqid_ds ds;

	c->msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (c->msqid < 0 || msgctl(c->msqid, IPC_STAT, &ds))
		die("msgget");
	/* Room for DEPTH messages of this size: the limit is in bytes. */
	ds.msg_qbytes = DEPTH * size;
	if (msgctl(c->msqid, IPC_SET, &ds))
		die("msgctl(IPC_SET)");
}

static void sysv_send(struct chan *c, struct sysv_msg *m, int count)
{
	m->mtype = 1;
	if (msgsnd(c->msqid, m, c->size, 0))
		die("msgsnd");
}

static int sysv_recv(struct chan *c, struct sysv_msg *m, int count)
{
	check_len(msgrcv(c->msqid, m, MAX_SIZE, 0, 0), c->size, "msgrcv");
	return 1;
}

static void sysv_teardown(struct chan *c)
{
	msgctl(c->msqid, IPC_RMID, NULL);
}

static void seqpacket_setup(struct chan *c, size_t size)
{
	int sv[2];

	if (socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv))
		die("socketpair");
	c->wfd = sv[0];
	c->rfd = sv[1];
}

static void floor_setup(struct chan *c, size_t size)
{
	c->wfd = open("/dev/null", O_WRONLY);
	c->rfd = open("/dev/zero", O_RDONLY);
	if (c->wfd < 0 || c->rfd < 0)
		die("open /dev/null, /dev/zero");
}

/* The batch floor: one write() and one read() of the whole batch. */
static void floor_send(struct chan *c, struct sysv_msg *m, int count)
{
	size_t len = c->size * count;

	check_len(write(c->wfd, batch_buf, len), len, "write /dev/null");
	check_len(read(c->rfd, batch_buf, len), len, "read /dev/zero");
}

/*
 * rustqueue's batch interface: a named queue in records semantics, whose
 * read() and write() move whole records (struct rustqueue_record, payload,
 * padding).  The writer's records are built once, in open_writer.
 */
static void records_setup(struct chan *c, size_t size)
{
	named_make(c, "records");
}

static void records_open_writer(struct chan *c)
{
	size_t rs = RUSTQUEUE_RECORD_SIZE(c->size);
	struct rustqueue_record rec = { .len = c->size };
	int i;

	named_open_writer(c);
	memset(batch_buf, 0, sizeof(batch_buf));
	for (i = 0; i < c->batch; i++) {
		memcpy(batch_buf + i * rs, &rec, sizeof(rec));
		memset(batch_buf + i * rs + sizeof(rec), 'r', c->size);
	}
}

static void records_send(struct chan *c, struct sysv_msg *m, int count)
{
	size_t rs = RUSTQUEUE_RECORD_SIZE(c->size), len = count * rs, done = 0;
	ssize_t ret;

	/* A write() waits for room for its first record, then queues all. */
	while (done < len) {
		ret = write(c->wfd, batch_buf + done, len - done);
		if (ret <= 0 || ret % rs)
			die("records write returned %zd of %zu", ret, len - done);
		done += ret;
	}
}

static int records_recv(struct chan *c, struct sysv_msg *m, int count)
{
	size_t rs = RUSTQUEUE_RECORD_SIZE(c->size);
	ssize_t ret = read(c->rfd, batch_buf, count * rs);
	struct rustqueue_record rec;
	int i;

	if (ret <= 0 || ret % rs)
		die("records read returned %zd", ret);
	for (i = 0; i < ret / (ssize_t)rs; i++) {
		memcpy(&rec, batch_buf + i * rs, sizeof(rec));
		if (rec.len != c->size)
			die("records read: a record of %u bytes", rec.len);
	}
	return ret / rs;
}

/*
 * seqpacket-mmsg: the socket pair, a batch per sendmmsg() and up to one
 * per recvmmsg(MSG_WAITFORONE).
 */
static struct mmsghdr mmsg[MAX_BATCH];
static struct iovec mmsg_iov[MAX_BATCH];

static void mmsg_prepare(struct chan *c, size_t len)
{
	int i;

	memset(mmsg, 0, sizeof(mmsg));
	for (i = 0; i < MAX_BATCH; i++) {
		mmsg_iov[i] = (struct iovec){ batch_buf + i * RECORD_MAX, len };
		mmsg[i].msg_hdr.msg_iov = &mmsg_iov[i];
		mmsg[i].msg_hdr.msg_iovlen = 1;
	}
}

static void mmsg_open_writer(struct chan *c)
{
	mmsg_prepare(c, c->size);
}

static void mmsg_open_reader(struct chan *c)
{
	mmsg_prepare(c, MAX_SIZE);
}

static void mmsg_send(struct chan *c, struct sysv_msg *m, int count)
{
	int done = 0, ret;

	while (done < count) {
		ret = sendmmsg(c->wfd, mmsg + done, count - done, 0);
		if (ret <= 0)
			die("sendmmsg returned %d", ret);
		done += ret;
	}
}

static int mmsg_recv(struct chan *c, struct sysv_msg *m, int count)
{
	int ret = recvmmsg(c->rfd, mmsg, count, MSG_WAITFORONE, NULL), i;

	if (ret <= 0)
		die("recvmmsg returned %d", ret);
	for (i = 0; i < ret; i++)
		check_len(mmsg[i].msg_len, c->size, "recvmmsg");
	return ret;
}

/*
 * pipe-uring and rustqueue-uring: a packet pipe and a named rustqueue queue
 * in packet semantics, one IORING_OP_WRITE or IORING_OP_READ per message,
 * a batch per io_uring_submit_and_wait().  Reads in flight together may
 * complete out of order: only their number counts here.
 */
static void uring_init(struct chan *c)
{
	int ret = io_uring_queue_init(MAX_BATCH, &c->ring, 0);

	if (ret) {
		errno = -ret;
		die("io_uring_queue_init (CONFIG_IO_URING?)");
	}
}

static void uring_rw(struct chan *c, bool write, int count)
{
	struct io_uring_cqe *cqe;
	struct io_uring_sqe *sqe;
	size_t len = write ? c->size : MAX_SIZE;
	int i, ret;

	for (i = 0; i < count; i++) {
		sqe = io_uring_get_sqe(&c->ring);
		if (write)
			io_uring_prep_write(sqe, c->wfd, batch_buf + i * RECORD_MAX, len, 0);
		else
			io_uring_prep_read(sqe, c->rfd, batch_buf + i * RECORD_MAX, len, 0);
	}
	ret = io_uring_submit_and_wait(&c->ring, count);
	if (ret != count) {
		errno = ret < 0 ? -ret : 0;
		die("io_uring_submit_and_wait returned %d of %d", ret, count);
	}
	for (i = 0; i < count; i++) {
		ret = io_uring_wait_cqe(&c->ring, &cqe);
		if (ret) {
			errno = -ret;
			die("io_uring_wait_cqe");
		}
		if (cqe->res != (int)c->size) {
			errno = cqe->res < 0 ? -cqe->res : 0;
			die("io_uring %s returned %d, not %zu", write ? "write" : "read",
			    cqe->res, c->size);
		}
		io_uring_cqe_seen(&c->ring, cqe);
	}
}

static void uring_send(struct chan *c, struct sysv_msg *m, int count)
{
	uring_rw(c, true, count);
}

static int uring_recv(struct chan *c, struct sysv_msg *m, int count)
{
	uring_rw(c, false, count);
	return count;
}

static void uring_open(struct chan *c)
{
	uring_init(c);
}

static void rq_uring_open_writer(struct chan *c)
{
	named_open_writer(c);
	uring_init(c);
}

static void rq_uring_open_reader(struct chan *c)
{
	named_open_reader(c);
	uring_init(c);
}

#ifdef RUSTQUEUE_IOC_SENDMMSG
/*
 * rustqueue-mmsg: the candidate shaped like recvmmsg()/sendmmsg(), ioctls
 * on a packet queue (built only with the candidate's header).
 */
static struct rustqueue_mmsg rq_mmsg[MAX_BATCH];

static void rqmmsg_prepare(struct chan *c, size_t size)
{
	int i;

	for (i = 0; i < MAX_BATCH; i++)
		rq_mmsg[i] = (struct rustqueue_mmsg){
			.buf = (uintptr_t)(batch_buf + i * RECORD_MAX), .size = size };
}

static void rqmmsg_open_writer(struct chan *c)
{
	named_open_writer(c);
	rqmmsg_prepare(c, c->size);
}

static void rqmmsg_open_reader(struct chan *c)
{
	named_open_reader(c);
	rqmmsg_prepare(c, MAX_SIZE);
}

static void rqmmsg_send(struct chan *c, struct sysv_msg *m, int count)
{
	struct rustqueue_mmsgs b;
	int done = 0, ret;

	while (done < count) {
		b = (struct rustqueue_mmsgs){ .msgs = (uintptr_t)(rq_mmsg + done),
					      .count = count - done };
		ret = ioctl(c->wfd, RUSTQUEUE_IOC_SENDMMSG, &b);
		if (ret <= 0)
			die("RUSTQUEUE_IOC_SENDMMSG returned %d", ret);
		done += ret;
	}
}

static int rqmmsg_recv(struct chan *c, struct sysv_msg *m, int count)
{
	struct rustqueue_mmsgs b = { .msgs = (uintptr_t)rq_mmsg, .count = count };
	int ret = ioctl(c->rfd, RUSTQUEUE_IOC_RECVMMSG, &b), i;

	if (ret <= 0)
		die("RUSTQUEUE_IOC_RECVMMSG returned %d", ret);
	for (i = 0; i < ret; i++)
		check_len(rq_mmsg[i].len, c->size, "RUSTQUEUE_IOC_RECVMMSG");
	return ret;
}
#endif

static const struct transport transports[] = {
	{ "rustqueue", rq_setup, rq_open_writer, rq_open_reader, fd_send, fd_recv, fd_teardown, false },
	{ "pipe", pipe_setup, nothing, nothing, fd_send, fd_recv, fd_teardown, false },
	{ "mqueue", mq_setup, nothing, nothing, mq_send_one, mq_recv_one, mq_teardown, false },
	{ "sysv", sysv_setup, nothing, nothing, sysv_send, sysv_recv, sysv_teardown, false },
	{ "seqpacket", seqpacket_setup, nothing, nothing, fd_send, fd_recv, fd_teardown, false },
	/* The floor has no readers: its writers do both halves. */
	{ "floor", floor_setup, nothing, nothing, floor_send, NULL, fd_teardown, true },
	{ "rustqueue-records", records_setup, records_open_writer, named_open_reader,
	  records_send, records_recv, named_teardown, true },
	{ "seqpacket-mmsg", seqpacket_setup, mmsg_open_writer, mmsg_open_reader, mmsg_send,
	  mmsg_recv, fd_teardown, true },
	{ "pipe-uring", pipe_setup, uring_open, uring_open, uring_send, uring_recv, fd_teardown,
	  true },
	{ "rustqueue-uring", named_setup, rq_uring_open_writer, rq_uring_open_reader, uring_send,
	  uring_recv, named_teardown, true },
#ifdef RUSTQUEUE_IOC_SENDMMSG
	{ "rustqueue-mmsg", named_setup, rqmmsg_open_writer, rqmmsg_open_reader, rqmmsg_send,
	  rqmmsg_recv, named_teardown, true },
#endif
};
static const int ntransports = sizeof(transports) / sizeof(transports[0]);

/* -q: the transports whose queues run side by side. */
static const struct transport queue_transports[] = {
	{ "rustqueue", named_setup, named_open_writer, named_open_reader, fd_send, fd_recv,
	  named_teardown, false },
	{ "pipe", pipe_setup, nothing, nothing, fd_send, fd_recv, fd_teardown, false },
};

/* Shared by all processes of a run. */
struct shared {
	long claimed;		/* messages readers have claimed */
};

static struct shared *shared;
static int ncpus;

/*
 * Writer i runs on CPU i and reader j on CPU j + 1 (modulo the CPUs), so that
 * with one of each they sit on different CPUs in every run: left to the
 * scheduler, a run is fast or slow depending on whether it put both on one
 * CPU, and the repetitions split into two groups.
 */
static void pin(int cpu)
{
	cpu_set_t set;

	if (ncpus < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu % ncpus, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		die("sched_setaffinity");
}

static void child_wait(int ready, int go)
{
	char c = 0;

	if (write(ready, &c, 1) != 1)
		die("ready pipe");
	/* The parent closes the write end to start every process at once. */
	if (read(go, &c, 1) != 0)
		die("go pipe");
}

/*
 * fork() one process of a run: true in the child, which closes the
 * parent's ends of the pipes; the parent counts it in @procs.
 */
static bool fork_child(int ready[2], int go[2], int *procs)
{
	pid_t pid = fork();

	if (pid < 0)
		die("fork");
	if (pid) {
		(*procs)++;
		return false;
	}
	close(ready[0]);
	close(go[1]);
	return true;
}

/*
 * Let the @procs children go at once, when each has said on @ready that it
 * is ready, and reap them; returns the seconds from the start until the
 * last one exited, or -1 when one failed.
 */
static double start_and_reap(int ready[2], int go[2], int procs)
{
	bool failed = false;
	int i, status;
	double t0;
	char byte;

	close(ready[1]);
	close(go[0]);
	for (i = 0; i < procs; i++)
		if (read(ready[0], &byte, 1) != 1)
			failed = true;
	t0 = now();
	close(go[1]);
	while (procs--) {
		if (wait(&status) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
			failed = true;
	}
	close(ready[0]);
	return failed ? -1 : now() - t0;
}

/* The places of a queue (or pipe buffers) for batches of @batch. */
static int depth_for(int batch)
{
	return batch * 2 > DEPTH ? batch * 2 : DEPTH;
}

/*
 * Time @n messages from @w writers to @r readers, @batch per call (with
 * one writer and one reader when above 1); returns messages/s.
 */
static double run_once(const struct transport *t, size_t size, int batch, int w, int r, long n)
{
	int ready[2], go[2], procs = 0, i;
	struct chan c = { .size = size, .rfd = -1, .wfd = -1, .batch = batch,
			  .depth = depth_for(batch) };
	double secs;

	if (!t->recv)
		r = 0;
	t->setup(&c, size);
	shared->claimed = 0;
	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < w + r; i++) {
		bool writer = i < w;
		static struct sysv_msg m;
		long k, share, got;

		if (!fork_child(ready, go, &procs))
			continue;
		memset(m.text, 'a' + i, sizeof(m.text));
		pin(writer ? i : i - w + 1);
		if (writer) {
			t->open_writer(&c);
			share = n / w + (i < n % w);
			child_wait(ready[1], go[0]);
			for (k = 0; k < share; k += batch)
				t->send(&c, &m, share - k < batch ? share - k : batch);
		} else if (batch > 1) {
			t->open_reader(&c);
			child_wait(ready[1], go[0]);
			for (k = 0; k < n; k += got)
				got = t->recv(&c, &m, n - k < batch ? n - k : batch);
		} else {
			t->open_reader(&c);
			child_wait(ready[1], go[0]);
			while (__atomic_fetch_add(&shared->claimed, 1, __ATOMIC_RELAXED) < n)
				t->recv(&c, &m, 1);
		}
		_exit(0);
	}
	secs = start_and_reap(ready, go, procs);
	t->teardown(&c);
	errno = 0;
	if (secs < 0)
		die("%s: a process failed", t->name);
	return n / secs;
}

/*
 * -q: time @nq queues of @t side by side, @n messages through each, queue
 * k's writer and reader on CPU k; returns the messages/s of all together.
 */
static double run_queues(const struct transport *t, size_t size, int nq, long n)
{
	int ready[2], go[2], procs = 0, i, k;
	struct chan c[MAX_QUEUES];
	double secs;

	for (k = 0; k < nq; k++) {
		c[k] = (struct chan){ .size = size, .rfd = -1, .wfd = -1, .k = k, .batch = 1,
				      .depth = DEPTH };
		t->setup(&c[k], size);
	}
	if (pipe(ready) || pipe(go))
		die("pipe");
	for (i = 0; i < 2 * nq; i++) {
		static struct sysv_msg m;
		struct chan *q = &c[i / 2];
		long j;

		if (!fork_child(ready, go, &procs))
			continue;
		memset(m.text, 'a' + i / 2, sizeof(m.text));
		pin(i / 2);
		if (i % 2 == 0) {
			t->open_writer(q);
			child_wait(ready[1], go[0]);
			for (j = 0; j < n; j++)
				t->send(q, &m, 1);
		} else {
			t->open_reader(q);
			child_wait(ready[1], go[0]);
			for (j = 0; j < n; j++) {
				t->recv(q, &m, 1);
				/* Every message is its own queue's. */
				if (m.text[0] != 'a' + i / 2)
					_exit(1);
			}
		}
		_exit(0);
	}
	secs = start_and_reap(ready, go, procs);
	for (k = 0; k < nq; k++)
		t->teardown(&c[k]);
	errno = 0;
	if (secs < 0)
		die("%s: a process failed with %d queues", t->name, nq);
	return nq * n / secs;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(double *rate, int reps)
{
	qsort(rate, reps, sizeof(rate[0]), cmp_double);
	return reps % 2 ? rate[reps / 2] : (rate[reps / 2 - 1] + rate[reps / 2]) / 2;
}

/*
 * Measure every transport of @t at one size.  The repetitions take turns
 * (each transport once, then again), so that a change in the machine's
 * speed during the run weighs on all of them alike.
 */
static void measure(const struct transport **t, int nt, size_t size, int batch, int w, int r,
		    int reps, double seconds, long pilot)
{
	static double rate[MAX_TRANSPORTS][MAX_REPS];
	long n[MAX_TRANSPORTS];
	double median;
	int i, k;

	/* Calibrate: enough messages for about @seconds a repetition. */
	for (k = 0; k < nt; k++) {
		n[k] = run_once(t[k], size, batch, w, r, pilot) * seconds;
		if (n[k] < pilot)
			n[k] = pilot;
	}
	for (i = 0; i < reps; i++)
		for (k = 0; k < nt; k++)
			rate[k][i] = run_once(t[k], size, batch, w, r, n[k]);
	for (k = 0; k < nt; k++) {
		median = median_of(rate[k], reps);
		printf("result\t%s\t%d\t%d\t%zu\t%d\t%.0f\t%.2f\t%.0f\t%.0f\t%ld\t%d\n",
		       t[k]->name, w, r, size, batch, median, median * size / 1e6, rate[k][0],
		       rate[k][reps - 1], n[k], reps);
	}
	fflush(stdout);
}

/*
 * -q: one queue, then @nq side by side, of every transport at one size;
 * the repetitions take turns as in measure().  Each queue carries as many
 * messages as one queue does in about @seconds.
 */
static void measure_queues(int nq, size_t size, int reps, double seconds, long pilot)
{
	enum { NT = sizeof(queue_transports) / sizeof(queue_transports[0]) };
	static double rate[NT][2][MAX_REPS];
	double ratio[MAX_REPS];
	const int counts[2] = { 1, nq };
	long n[NT];
	double median;
	int i, k, q;

	for (k = 0; k < NT; k++) {
		n[k] = run_queues(&queue_transports[k], size, 1, pilot) * seconds;
		if (n[k] < pilot)
			n[k] = pilot;
	}
	for (i = 0; i < reps; i++)
		for (k = 0; k < NT; k++)
			for (q = 0; q < 2; q++)
				rate[k][q][i] = run_queues(&queue_transports[k], size, counts[q], n[k]);
	for (k = 0; k < NT; k++) {
		/* The ratio of each repetition: its two runs came one after the other. */
		for (i = 0; i < reps; i++)
			ratio[i] = rate[k][1][i] / rate[k][0][i];
		median = median_of(ratio, reps);
		printf("scaling\t%s\t%d\t%zu\t%.3f\t%.3f\t%.3f\t%d\n", queue_transports[k].name,
		       nq, size, median, ratio[0], ratio[reps - 1], reps);
		for (q = 0; q < 2; q++) {
			median = median_of(rate[k][q], reps);
			printf("queues\t%s\t%d\t%zu\t%.0f\t%.2f\t%.0f\t%.0f\t%ld\t%d\n",
			       queue_transports[k].name, counts[q], size, median,
			       median * size / 1e6, rate[k][q][0], rate[k][q][reps - 1],
			       n[k], reps);
		}
	}
	fflush(stdout);
}

static long slab_bytes(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		die("/proc/meminfo");
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Slab: %ld kB", &kb) == 1)
			break;
	fclose(f);
	if (kb < 0)
		die("no Slab: line in /proc/meminfo");
	return kb * 1024;
}

/*
 * Fill a queue with @count messages of @size bytes and report how much slab
 * memory that took; every queue here keeps its messages in slab objects.
 */
static void memory(const char *name, long count, size_t size)
{
	static struct sysv_msg m;
	struct mq_attr attr = { .mq_maxmsg = count, .mq_msgsize = size };
	int wfd = -1, rfd = -1, msqid = -1;
	mqd_t mq = (mqd_t)-1;
	long before, after, k;
	struct msqid_ds ds;
	char val[32];

	memset(m.text, 'm', size);
	m.mtype = 1;
	if (!strcmp(name, "rustqueue")) {
		snprintf(val, sizeof(val), "%ld", count);
		write_str(SYSFS "capacity", val);
		wfd = open(DEV, O_WRONLY | O_DIRECT | O_NONBLOCK);
		rfd = open(DEV, O_RDONLY | O_DIRECT | O_NONBLOCK);
		if (wfd < 0 || rfd < 0)
			die("open " DEV);
	} else if (!strcmp(name, "mqueue")) {
		mq_unlink(MQ_NAME);
		mq = mq_open(MQ_NAME, O_RDWR | O_CREAT | O_EXCL | O_NONBLOCK, 0600, &attr);
		if (mq == (mqd_t)-1)
			die("mq_open of %ld messages", count);
	} else {
		msqid = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
		if (msqid < 0 || msgctl(msqid, IPC_STAT, &ds))
			die("msgget");
		ds.msg_qbytes = count * size;
		if (msgctl(msqid, IPC_SET, &ds))
			die("msgctl(IPC_SET)");
	}

	before = slab_bytes();
	for (k = 0; k < count; k++) {
		if (wfd >= 0)
			check_len(write(wfd, m.text, size), size, "write");
		else if (msqid < 0 && mq_send(mq, m.text, size, 0))
			die("mq_send");
		else if (msqid >= 0 && msgsnd(msqid, &m, size, IPC_NOWAIT))
			die("msgsnd");
	}
	after = slab_bytes();
	for (k = 0; k < count; k++) {
		if (rfd >= 0)
			check_len(read(rfd, m.text, size), size, "read");
		else if (msqid < 0)
			check_len(mq_receive(mq, m.text, size, NULL), size, "mq_receive");
		else
			check_len(msgrcv(msqid, &m, size, 0, IPC_NOWAIT), size, "msgrcv");
	}
	if (wfd >= 0) {
		close(wfd);
		close(rfd);
		write_str(SYSFS "capacity", "16");
	} else if (msqid < 0) {
		mq_close(mq);
		mq_unlink(MQ_NAME);
	} else {
		msgctl(msqid, IPC_RMID, NULL);
	}
	printf("memory\t%s\t%ld\t%zu\t%ld\t%.1f\n", name, count, size, after - before,
	       (double)(after - before) / count);
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rq-bench [-t TRANSPORT[,...]] [-s SIZE[,...]] [-w W] [-r R]\n"
		"                [-n REPS] [-T SECONDS] [-p PILOT] [-m COUNT | -q QUEUES |\n"
		"                -b BATCH[,...]]\n"
		"  -t  transports (default all): rustqueue,pipe,mqueue,sysv,seqpacket,floor\n"
		"      with -b: floor,rustqueue-records,seqpacket-mmsg,pipe-uring,\n"
		"      rustqueue-uring\n"
		"  -s  message sizes in bytes, at most %d (default 16,64,256,1024,4096)\n"
		"  -w, -r  writer and reader processes (default 1 and 1, at most %d in all)\n"
		"  -n  repetitions (default 5), -T seconds each (default 0.4)\n"
		"  -p  messages of the calibration run (default 2000)\n"
		"  -m  instead: memory of COUNT queued 64-byte messages (rustqueue, mqueue, sysv)\n"
		"  -q  instead: QUEUES named rustqueue queues and pipes side by side, one\n"
		"      writer and one reader each, against one (2 to %d; with -s, -n, -T, -p\n"
		"      only)\n"
		"  -b  instead: BATCH messages per call (1 to %d), one writer and one reader\n",
		MAX_SIZE, MAX_PROCS, MAX_QUEUES, MAX_BATCH);
	exit(2);
}

int main(int argc, char **argv)
{
	char *tlist = "rustqueue,pipe,mqueue,sysv,seqpacket,floor";
	char *batch_tlist = "floor,rustqueue-records,seqpacket-mmsg,pipe-uring,rustqueue-uring"
#ifdef RUSTQUEUE_IOC_SENDMMSG
			    ",rustqueue-mmsg"
#endif
			    ;
	char *blist = NULL;
	int batches[8], nb = 0, b;
	char *slist = "16,64,256,1024,4096";
	const struct transport *chosen[MAX_TRANSPORTS];
	int w = 1, r = 1, reps = 5, nt = 0, opt;
	double seconds = 0.4;
	long pilot = 2000, mem = 0, queues = 0;
	bool tset = false;
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char *tok, *s;
	size_t i;

	while ((opt = getopt(argc, argv, "t:s:w:r:n:T:p:m:q:b:")) != -1) {
		switch (opt) {
		case 'b': blist = optarg; break;
		case 't': tlist = optarg; tset = true; break;
		case 's': slist = optarg; break;
		case 'w': w = atoi(optarg); break;
		case 'r': r = atoi(optarg); break;
		case 'n': reps = atoi(optarg); break;
		case 'T': seconds = atof(optarg); break;
		case 'p': pilot = atol(optarg); break;
		case 'm': mem = atol(optarg); break;
		case 'q': queues = atol(optarg); break;
		default: usage();
		}
	}
	if (blist && !tset)
		tlist = batch_tlist;
	/* strtok_r() writes into the lists: not into the literals. */
	tlist = strdup(tlist);
	slist = strdup(slist);
	if (!tlist || !slist)
		die("strdup");
	if (w < 1 || r < 1 || w + r > MAX_PROCS || reps < 1 || reps > MAX_REPS ||
	    seconds <= 0 || pilot < 1 || mem < 0 || optind != argc ||
	    (queues && (queues < 2 || queues > MAX_QUEUES || mem || w != 1 || r != 1 || tset)) ||
	    (blist && (queues || mem || w != 1 || r != 1)))
		usage();
	for (tok = blist ? strtok_r(blist, ",", &s) : NULL; tok; tok = strtok_r(NULL, ",", &s)) {
		if (nb == 8 || atoi(tok) < 1 || atoi(tok) > MAX_BATCH)
			usage();
		batches[nb++] = atoi(tok);
	}
	/* A queue of @mem messages is over the default mqueue byte limit. */
	setrlimit(RLIMIT_MSGQUEUE, &unlimited);

	ncpus = sysconf(_SC_NPROCESSORS_ONLN);
	shared = mmap(NULL, sizeof(*shared), PROT_READ | PROT_WRITE,
		      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shared == MAP_FAILED)
		die("mmap");
	if (mem) {
		for (tok = strtok_r(tlist, ",", &s); tok; tok = strtok_r(NULL, ",", &s)) {
			if (strcmp(tok, "rustqueue") && strcmp(tok, "mqueue") && strcmp(tok, "sysv"))
				usage();
			memory(tok, mem, 64);
		}
		return 0;
	}
	if (queues) {
		for (tok = strtok_r(slist, ",", &s); tok; tok = strtok_r(NULL, ",", &s)) {
			long size = atol(tok);

			if (size < 1 || size > MAX_SIZE)
				usage();
			measure_queues(queues, size, reps, seconds, pilot);
		}
		return 0;
	}
	for (tok = strtok_r(tlist, ",", &s); tok; tok = strtok_r(NULL, ",", &s)) {
		const struct transport *t = NULL;

		for (i = 0; i < (size_t)ntransports; i++)
			if (!strcmp(tok, transports[i].name))
				t = &transports[i];
		if (!t || nt == MAX_TRANSPORTS || (blist && !t->batches))
			usage();
		chosen[nt++] = t;
	}
	for (tok = strtok_r(slist, ",", &s); tok; tok = strtok_r(NULL, ",", &s)) {
		long size = atol(tok);

		if (size < 1 || size > MAX_SIZE)
			usage();
		if (!blist) {
			measure(chosen, nt, size, 1, w, r, reps, seconds, pilot);
			continue;
		}
		for (b = 0; b < nb; b++)
			measure(chosen, nt, size, batches[b], w, r, reps, seconds, pilot);
	}
	return 0;
}
