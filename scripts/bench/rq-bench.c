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
 * Output, one line per measurement (tab separated):
 *   result TRANSPORT W R SIZE MSGS_PER_S MB_PER_S MIN_MSGS_PER_S MAX_MSGS_PER_S N REPS
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
#include <mqueue.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
#define MAX_TRANSPORTS	6
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
};

struct sysv_msg {
	long mtype;
	char text[MAX_SIZE];
};

struct transport {
	const char *name;
	void (*setup)(struct chan *c, size_t size);
	void (*open_writer)(struct chan *c);
	void (*open_reader)(struct chan *c);
	void (*send)(struct chan *c, struct sysv_msg *m);
	void (*recv)(struct chan *c, struct sysv_msg *m);
	void (*teardown)(struct chan *c);
};

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

static void fd_send(struct chan *c, struct sysv_msg *m)
{
	check_len(write(c->wfd, m->text, c->size), c->size, "write");
}

static void fd_recv(struct chan *c, struct sysv_msg *m)
{
	/* A buffer of the largest size: the message decides the length. */
	check_len(read(c->rfd, m->text, MAX_SIZE), c->size, "read");
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

static void named_setup(struct chan *c, size_t size)
{
	char path[128];

	named_path(path, sizeof(path), c->k, CONFIGFS, "");
	if (mkdir(path, 0755))
		die("mkdir %s (is configfs mounted?)", path);
	named_path(path, sizeof(path), c->k, CONFIGFS, "/semantics");
	write_str(path, "packet");
	named_path(path, sizeof(path), c->k, CONFIGFS, "/capacity");
	write_str(path, "16");
	c->rfd = c->wfd = -1;
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
	if (fcntl(fds[1], F_SETPIPE_SZ, DEPTH * 4096) != DEPTH * 4096)
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

static void mq_send_one(struct chan *c, struct sysv_msg *m)
{
	if (mq_send(c->mq, m->text, c->size, 0))
		die("mq_send");
}

static void mq_recv_one(struct chan *c, struct sysv_msg *m)
{
	check_len(mq_receive(c->mq, m->text, c->size, NULL), c->size, "mq_receive");
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

static void sysv_send(struct chan *c, struct sysv_msg *m)
{
	m->mtype = 1;
	if (msgsnd(c->msqid, m, c->size, 0))
		die("msgsnd");
}

static void sysv_recv(struct chan *c, struct sysv_msg *m)
{
	check_len(msgrcv(c->msqid, m, MAX_SIZE, 0, 0), c->size, "msgrcv");
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

static void floor_send(struct chan *c, struct sysv_msg *m)
{
	check_len(write(c->wfd, m->text, c->size), c->size, "write /dev/null");
	check_len(read(c->rfd, m->text, c->size), c->size, "read /dev/zero");
}

static const struct transport transports[MAX_TRANSPORTS] = {
	{ "rustqueue", rq_setup, rq_open_writer, rq_open_reader, fd_send, fd_recv, fd_teardown },
	{ "pipe", pipe_setup, nothing, nothing, fd_send, fd_recv, fd_teardown },
	{ "mqueue", mq_setup, nothing, nothing, mq_send_one, mq_recv_one, mq_teardown },
	{ "sysv", sysv_setup, nothing, nothing, sysv_send, sysv_recv, sysv_teardown },
	{ "seqpacket", seqpacket_setup, nothing, nothing, fd_send, fd_recv, fd_teardown },
	/* The floor has no readers: its writers do both halves. */
	{ "floor", floor_setup, nothing, nothing, floor_send, NULL, fd_teardown },
};

/* -q: the transports whose queues run side by side. */
static const struct transport queue_transports[] = {
	{ "rustqueue", named_setup, named_open_writer, named_open_reader, fd_send, fd_recv,
	  named_teardown },
	{ "pipe", pipe_setup, nothing, nothing, fd_send, fd_recv, fd_teardown },
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

/* Time @n messages from @w writers to @r readers; returns messages/s. */
static double run_once(const struct transport *t, size_t size, int w, int r, long n)
{
	int ready[2], go[2], procs = 0, i;
	struct chan c = { .size = size, .rfd = -1, .wfd = -1 };
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
		long k, share;

		if (!fork_child(ready, go, &procs))
			continue;
		memset(m.text, 'a' + i, sizeof(m.text));
		pin(writer ? i : i - w + 1);
		if (writer) {
			t->open_writer(&c);
			share = n / w + (i < n % w);
			child_wait(ready[1], go[0]);
			for (k = 0; k < share; k++)
				t->send(&c, &m);
		} else {
			t->open_reader(&c);
			child_wait(ready[1], go[0]);
			while (__atomic_fetch_add(&shared->claimed, 1, __ATOMIC_RELAXED) < n)
				t->recv(&c, &m);
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
		c[k] = (struct chan){ .size = size, .rfd = -1, .wfd = -1, .k = k };
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
				t->send(q, &m);
		} else {
			t->open_reader(q);
			child_wait(ready[1], go[0]);
			for (j = 0; j < n; j++) {
				t->recv(q, &m);
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
static void measure(const struct transport **t, int nt, size_t size, int w, int r,
		    int reps, double seconds, long pilot)
{
	static double rate[MAX_TRANSPORTS][MAX_REPS];
	long n[MAX_TRANSPORTS];
	double median;
	int i, k;

	/* Calibrate: enough messages for about @seconds a repetition. */
	for (k = 0; k < nt; k++) {
		n[k] = run_once(t[k], size, w, r, pilot) * seconds;
		if (n[k] < pilot)
			n[k] = pilot;
	}
	for (i = 0; i < reps; i++)
		for (k = 0; k < nt; k++)
			rate[k][i] = run_once(t[k], size, w, r, n[k]);
	for (k = 0; k < nt; k++) {
		median = median_of(rate[k], reps);
		printf("result\t%s\t%d\t%d\t%zu\t%.0f\t%.2f\t%.0f\t%.0f\t%ld\t%d\n",
		       t[k]->name, w, r, size, median, median * size / 1e6, rate[k][0],
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
		"                [-n REPS] [-T SECONDS] [-p PILOT] [-m COUNT | -q QUEUES]\n"
		"  -t  transports (default all): rustqueue,pipe,mqueue,sysv,seqpacket,floor\n"
		"  -s  message sizes in bytes, at most %d (default 16,64,256,1024,4096)\n"
		"  -w, -r  writer and reader processes (default 1 and 1, at most %d in all)\n"
		"  -n  repetitions (default 5), -T seconds each (default 0.4)\n"
		"  -p  messages of the calibration run (default 2000)\n"
		"  -m  instead: memory of COUNT queued 64-byte messages (rustqueue, mqueue, sysv)\n"
		"  -q  instead: QUEUES named rustqueue queues and pipes side by side, one\n"
		"      writer and one reader each, against one (2 to %d; with -s, -n, -T, -p\n"
		"      only)\n",
		MAX_SIZE, MAX_PROCS, MAX_QUEUES);
	exit(2);
}

int main(int argc, char **argv)
{
	char *tlist = "rustqueue,pipe,mqueue,sysv,seqpacket,floor";
	char *slist = "16,64,256,1024,4096";
	const struct transport *chosen[MAX_TRANSPORTS];
	int w = 1, r = 1, reps = 5, nt = 0, opt;
	double seconds = 0.4;
	long pilot = 2000, mem = 0, queues = 0;
	bool tset = false;
	struct rlimit unlimited = { RLIM_INFINITY, RLIM_INFINITY };
	char *tok, *s;
	size_t i;

	while ((opt = getopt(argc, argv, "t:s:w:r:n:T:p:m:q:")) != -1) {
		switch (opt) {
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
	/* strtok_r() writes into the lists: not into the literals. */
	tlist = strdup(tlist);
	slist = strdup(slist);
	if (!tlist || !slist)
		die("strdup");
	if (w < 1 || r < 1 || w + r > MAX_PROCS || reps < 1 || reps > MAX_REPS ||
	    seconds <= 0 || pilot < 1 || mem < 0 || optind != argc ||
	    (queues && (queues < 2 || queues > MAX_QUEUES || mem || w != 1 || r != 1 || tset)))
		usage();
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

		for (i = 0; i < MAX_TRANSPORTS; i++)
			if (!strcmp(tok, transports[i].name))
				t = &transports[i];
		if (!t || nt == MAX_TRANSPORTS)
			usage();
		chosen[nt++] = t;
	}
	for (tok = strtok_r(slist, ",", &s); tok; tok = strtok_r(NULL, ",", &s)) {
		long size = atol(tok);

		if (size < 1 || size > MAX_SIZE)
			usage();
		measure(chosen, nt, size, w, r, reps, seconds, pilot);
	}
	return 0;
}
