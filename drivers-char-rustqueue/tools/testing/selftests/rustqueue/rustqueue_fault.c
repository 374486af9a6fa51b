// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fault injection for /dev/rustqueue and named queues: each test makes one
 * call fail its 1st, 2nd, 3rd, ... allocation or user copy through
 * /proc/thread-self/fail-nth (CONFIG_FAILSLAB, CONFIG_FAULT_INJECTION_USERCOPY)
 * until the call gets through without meeting an injected fault.  A call
 * that fails must fail with ENOMEM or EFAULT and leave the queue exactly as
 * it was; a call that survives the fault (say, kvmalloc() falling back to
 * vmalloc()) must do all it should.  Every test prints how many faults it
 * injected ("# faults: ...").
 *
 * The failslab and fail_usercopy knobs the tests change in debugfs, and the
 * queue's limits, are put back as they were; running the tests consumes
 * what is queued.
 */

#define _GNU_SOURCE
#include <stdbool.h>
#include <sys/uio.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"

#define DEBUGFS "/sys/kernel/debug/"

/* What the calls under test work on. */
struct fault_ctx {
	int nth;	/* /proc/thread-self/fail-nth */
	int fd;		/* default mode */
	int pfd;	/* packet mode, O_NONBLOCK */
	char msg[RQ_MAX_MSG];
	char buf[RQ_MAX_MSG];
	int injected, changed;
	char name[RQ_NAME_MAX + 1];	/* a named queue of the test's, or "" */
};

/*
 * The debugfs knobs the tests set: fail GFP_KERNEL allocations too
 * (failslab skips those that may sleep by default), and quietly (a stack
 * trace per fault would drown the kernel log).
 */
static const struct knob {
	const char *path;
	const char *value;
} knobs[] = {
	{ DEBUGFS "failslab/ignore-gfp-wait", "N" },
	{ DEBUGFS "failslab/verbose", "0" },
	{ DEBUGFS "fail_usercopy/verbose", "0" },
};

#define NR_KNOBS	ARRAY_SIZE(knobs)

FIXTURE(fault) {
	struct fault_ctx c;
	struct rq_limits saved;		/* the queue's limits */
	char was[NR_KNOBS][32];		/* the knobs' values */
	bool knobs_set;
};

/* Put the knobs back as they were; returns 0 or the errno of a failure. */
static int knobs_restore(char was[][32])
{
	int err = 0, ret;

	for (unsigned int i = 0; i < NR_KNOBS; i++) {
		ret = write_file(knobs[i].path, was[i]);
		err = err ?: ret;
	}
	return err;
}

FIXTURE_SETUP(fault)
{
	struct fault_ctx *c = &self->c;
	const char *why = rq_cannot_run();
	char *nl;
	int err;

	if (why)
		SKIP(return, "%s", why);
	c->nth = open("/proc/thread-self/fail-nth", O_RDWR);
	if (c->nth < 0)
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	for (unsigned int i = 0; i < NR_KNOBS; i++) {
		if (read_file(knobs[i].path, self->was[i], sizeof(self->was[i])) <= 0)
			SKIP(return, "no %s: no failslab or fail_usercopy in debugfs (see config)",
			     knobs[i].path);
		nl = strchr(self->was[i], '\n');
		if (nl)
			*nl = '\0';
	}
	c->fd = open(RQ_DEVICE, O_RDWR);
	ASSERT_LE(0, c->fd) TH_LOG("open " RQ_DEVICE ": %s", strerror(errno));
	c->pfd = open(RQ_DEVICE, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, c->pfd);
	for (int i = 0; i < RQ_MAX_MSG; i++)
		c->msg[i] = (char)(i * 13 + 7);

	/* Last, and undone here on failure: the teardown runs only after success. */
	ASSERT_EQ(0, rq_begin(&self->saved))
		TH_LOG("cannot drain the queue or set its limits: %s", strerror(errno));
	for (unsigned int i = 0; i < NR_KNOBS; i++) {
		err = write_file(knobs[i].path, knobs[i].value);
		if (err) {
			knobs_restore(self->was);
			rq_end(&self->saved);
			ASSERT_EQ(0, err) TH_LOG("%s: %s", knobs[i].path, strerror(err));
		}
	}
	self->knobs_set = true;
}

/* In the parent of the test's process: runs however the test ended. */
FIXTURE_TEARDOWN_PARENT(fault)
{
	int err = self->knobs_set ? knobs_restore(self->was) : 0;

	EXPECT_EQ(0, err) TH_LOG("cannot restore the fault injection knobs: %s", strerror(err));
	if (self->c.name[0])
		q_rmdir(self->c.name);
	err = rq_end(&self->saved);
	EXPECT_EQ(0, err) TH_LOG("cannot empty the queue, restore its limits: %s", strerror(err));
}

static int fail_nth(int nth, unsigned int n)
{
	char num[16];
	int len = snprintf(num, sizeof(num), "%u", n);

	return pwrite(nth, num, len, 0) == len ? 0 : -1;
}

/*
 * Was the fault injected?  fail-nth reads 0 once it was.  (When the fault
 * is still one call away, the copy of this very read is the one that fails,
 * and the read's error says "not injected" too.)
 */
static bool injected(int nth)
{
	char num[16] = "";
	ssize_t n = pread(nth, num, sizeof(num) - 1, 0);

	fail_nth(nth, 0);
	return n > 0 && atoi(num) == 0;
}

/* The call under test, its result without faults, and how to undo it. */
struct op {
	const char *name;
	ssize_t (*call)(struct fault_ctx *c);
	ssize_t want;
	/* Check what a successful call did and take it back; 0 when right. */
	int (*undo)(struct fault_ctx *c);
	/* Check the state a failed call left, beyond the seed's; 0 when right. */
	int (*failed)(struct fault_ctx *c);
};

static void walk(struct __test_metadata *_metadata, struct fault_ctx *c,
		 const struct op *op)
{
	int faults = 0, survived = 0, changed = 0;
	struct rustqueue_info before, after;
	unsigned int n;
	ssize_t ret;
	int err;

	for (n = 1; n < 10000; n++) {
		ASSERT_EQ(0, get_info(c->fd, &before));
		ASSERT_EQ(0, fail_nth(c->nth, n));
		errno = 0;
		ret = op->call(c);
		err = errno;
		if (!injected(c->nth)) {
			/* The call met no fault: the path is walked. */
			ASSERT_EQ(op->want, ret) TH_LOG("%s: %s", op->name, strerror(err));
			ASSERT_EQ(0, op->undo(c)) TH_LOG("%s: wrong effect", op->name);
			break;
		}
		faults++;
		if (ret < 0) {
			EXPECT_TRUE(err == ENOMEM || err == EFAULT)
				TH_LOG("%s, fault %u: %s", op->name, n, strerror(err));
			ASSERT_EQ(0, get_info(c->fd, &after));
			if (memcmp(&before, &after, sizeof(before)))
				changed++;
			EXPECT_EQ(0, memcmp(&before, &after, sizeof(before)))
				TH_LOG("%s, fault %u: count %u -> %u, dequeued %llu -> %llu",
				       op->name, n, before.count, after.count,
				       (unsigned long long)before.dequeued,
				       (unsigned long long)after.dequeued);
			if (op->failed) {
				int wrong = op->failed(c);

				changed += !!wrong;
				EXPECT_EQ(0, wrong)
					TH_LOG("%s, fault %u: wrong state after the failure",
					       op->name, n);
			}
		} else {
			/* The kernel absorbed the fault: the call must be whole. */
			survived++;
			ASSERT_EQ(op->want, ret) TH_LOG("%s, fault %u", op->name, n);
			ASSERT_EQ(0, op->undo(c))
				TH_LOG("%s, fault %u: wrong effect", op->name, n);
		}
	}
	ASSERT_LT(n, 10000) TH_LOG("%s: no end to the faults", op->name);
	printf("# faults: %s: %d injected, %d survived, %d state changes\n",
	       op->name, faults, survived, changed);
	c->injected += faults;
	c->changed += changed;
}

/* Walk each of the N calls of OPS: some fault met, no state changed. */
static void walk_all(struct __test_metadata *_metadata, struct fault_ctx *c,
		     const struct op *ops, int n)
{
	for (int i = 0; i < n; i++)
		walk(_metadata, c, &ops[i]);
	EXPECT_LT(0, c->injected);
	EXPECT_EQ(0, c->changed);
}

/* Writes: the message must arrive whole, and is read back. */
static int read_back(struct fault_ctx *c, size_t len)
{
	ssize_t n = read(c->pfd, c->buf, sizeof(c->buf));

	return n == (ssize_t)len && !memcmp(c->buf, c->msg, len) ? 0 : -1;
}

static ssize_t write_64(struct fault_ctx *c)
{
	return write(c->fd, c->msg, 64);
}

static ssize_t write_packet_64(struct fault_ctx *c)
{
	return write(c->pfd, c->msg, 64);
}

static ssize_t write_max(struct fault_ctx *c)
{
	return write(c->fd, c->msg, RQ_MAX_MSG);
}

/*
 * Twenty segments of ten bytes of BUF: more than the kernel's on-stack
 * iovec array holds, so it allocates one.
 */
#define SEGMENTS	20

static void segments(struct iovec *iov, char *buf)
{
	for (int i = 0; i < SEGMENTS; i++) {
		iov[i].iov_base = buf + 10 * i;
		iov[i].iov_len = 10;
	}
}

static ssize_t writev_20(struct fault_ctx *c)
{
	struct iovec iov[SEGMENTS];

	segments(iov, c->msg);
	return writev(c->fd, iov, SEGMENTS);
}

static int undo_64(struct fault_ctx *c) { return read_back(c, 64); }
static int undo_max(struct fault_ctx *c) { return read_back(c, RQ_MAX_MSG); }
static int undo_200(struct fault_ctx *c) { return read_back(c, 200); }

TEST_F(fault, write_paths)
{
	struct fault_ctx *c = &self->c;
	static const struct op ops[] = {
		{ "write", write_64, 64, undo_64 },
		{ "write in packet mode", write_packet_64, 64, undo_64 },
		{ "write of max_msg_size bytes", write_max, RQ_MAX_MSG, undo_max },
		{ "writev of 20 segments", writev_20, 200, undo_200 },
	};

	walk_all(_metadata, c, ops, ARRAY_SIZE(ops));
}

/* Reads: one message is queued; a successful read gets it and requeues it. */
static int requeue(struct fault_ctx *c, ssize_t n)
{
	if (n != 100 || memcmp(c->buf, c->msg, 100))
		return -1;
	return write(c->pfd, c->msg, 100) == 100 ? 0 : -1;
}

static ssize_t read_default(struct fault_ctx *c)
{
	ssize_t n;
	int fd;

	/* One message per open in default mode: open, read, close. */
	fd = open(RQ_DEVICE, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, c->buf, sizeof(c->buf));
	close(fd);
	return n;
}

static ssize_t read_packet(struct fault_ctx *c)
{
	return read(c->pfd, c->buf, sizeof(c->buf));
}

static ssize_t readv_packet(struct fault_ctx *c)
{
	struct iovec iov[SEGMENTS];

	segments(iov, c->buf);
	return readv(c->pfd, iov, SEGMENTS);
}

static int undo_read(struct fault_ctx *c) { return requeue(c, 100); }

TEST_F(fault, read_paths)
{
	struct fault_ctx *c = &self->c;
	static const struct op ops[] = {
		{ "open and read", read_default, 100, undo_read },
		{ "read in packet mode", read_packet, 100, undo_read },
		{ "readv of 20 segments in packet mode", readv_packet, 100, undo_read },
	};

	ASSERT_EQ(100, write(c->pfd, c->msg, 100));
	walk_all(_metadata, c, ops, ARRAY_SIZE(ops));
	/* Still the one message, whole. */
	EXPECT_EQ(100, read(c->pfd, c->buf, sizeof(c->buf)));
	EXPECT_EQ(0, memcmp(c->buf, c->msg, 100));
	errno = 0;
	EXPECT_EQ(-1, read(c->pfd, c->buf, sizeof(c->buf)));
	EXPECT_EQ(EAGAIN, errno);
}

/* The ioctl copies a snapshot out; nothing to undo. */
static ssize_t info_ioctl(struct fault_ctx *c)
{
	struct rustqueue_info info;

	return ioctl(c->fd, RUSTQUEUE_IOC_INFO, &info);
}

static int undo_nothing(struct fault_ctx *c) { return 0; }

/* Opening allocates the per-file state. */
static ssize_t open_close(struct fault_ctx *c)
{
	int fd = open(RQ_DEVICE, O_RDWR | O_DIRECT);

	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

TEST_F(fault, ioctl_and_open_paths)
{
	struct fault_ctx *c = &self->c;
	static const struct op ops[] = {
		{ "RUSTQUEUE_IOC_INFO", info_ioctl, 0, undo_nothing },
		{ "open", open_close, 0, undo_nothing },
	};

	ASSERT_EQ(100, write(c->pfd, c->msg, 100));
	walk_all(_metadata, c, ops, ARRAY_SIZE(ops));
	EXPECT_EQ(100, read(c->pfd, c->buf, sizeof(c->buf)));
}

/*
 * Named queues: mkdir, a change of owner (which registers the node again)
 * and rmdir.  A failed call changes nothing: no directory, node or sysfs
 * directory after a failed mkdir, the old owner on the node after a failed
 * store, the queue whole after a failed rmdir.
 */
static int queue_state(struct fault_ctx *c, bool exists, unsigned int uid)
{
	char path[128];
	struct stat st;
	bool dir, class;

	snprintf(path, sizeof(path), RQ_CONFIGFS "%s", c->name);
	dir = !access(path, F_OK);
	snprintf(path, sizeof(path), RQ_CLASS "rustqueue-%s", c->name);
	class = !access(path, F_OK);
	if (!exists)
		return dir || class || q_stat(c->name, &st) != ENOENT ? -1 : 0;
	if (!dir || !class || q_stat(c->name, &st) || st.st_uid != uid)
		return -1;
	return atoi(q_get(c->name, "uid")) == (int)uid ? 0 : -1;
}

static ssize_t as_call(int err)
{
	errno = err;
	return err ? -1 : 0;
}

static ssize_t queue_mkdir(struct fault_ctx *c) { return as_call(q_mkdir(c->name)); }
static ssize_t queue_rmdir(struct fault_ctx *c) { return as_call(q_rmdir(c->name)); }
static ssize_t queue_chown(struct fault_ctx *c) { return as_call(q_set(c->name, "uid", "65534")); }

static int no_queue(struct fault_ctx *c) { return queue_state(c, false, 0); }
static int root_queue(struct fault_ctx *c) { return queue_state(c, true, 0); }

static int undo_mkdir(struct fault_ctx *c)
{
	return root_queue(c) ?: q_rmdir(c->name);
}

static int undo_rmdir(struct fault_ctx *c)
{
	return no_queue(c) ?: q_mkdir(c->name);
}

static int undo_chown(struct fault_ctx *c)
{
	return queue_state(c, true, 65534) ?: q_set(c->name, "uid", "0") ?: root_queue(c);
}

TEST_F(fault, queue_paths)
{
	struct fault_ctx *c = &self->c;
	static const struct op mkdir_op[] = {
		{ "mkdir", queue_mkdir, 0, undo_mkdir, no_queue },
	};
	static const struct op ops[] = {
		{ "uid store (the node registered again)", queue_chown, 0, undo_chown, root_queue },
		{ "rmdir", queue_rmdir, 0, undo_rmdir, root_queue },
	};

	if (access(RQ_CONFIGFS, F_OK))
		SKIP(return, RQ_CONFIGFS " not present: mount configfs");
	snprintf(c->name, sizeof(c->name), "fault-%d", getpid());
	walk_all(_metadata, c, mkdir_op, ARRAY_SIZE(mkdir_op));
	ASSERT_EQ(0, q_mkdir(c->name));
	walk_all(_metadata, c, ops, ARRAY_SIZE(ops));
}

TEST_HARNESS_MAIN
