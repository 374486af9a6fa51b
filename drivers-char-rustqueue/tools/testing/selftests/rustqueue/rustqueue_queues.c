// SPDX-License-Identifier: GPL-2.0-only
/*
 * Tests for rustqueue's named queues: mkdir /sys/kernel/config/rustqueue/NAME
 * makes a queue and its node /dev/rustqueue-NAME, rmdir unlinks both while
 * open files keep the queue.  Each test works on queues of its own, named
 * after its process, and removes them however it ends; the seed queue
 * /dev/rustqueue is only looked at.
 */

#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "rustqueue_util.h"

#define NR_NAMES	4

/* Queues named "kst-PID-0" to "kst-PID-3", removed by the teardown. */
FIXTURE(queue) {
	char name[NR_NAMES][RQ_NAME_MAX + 1];
};

FIXTURE_SETUP(queue)
{
	const char *why = rq_queues_cannot_run();
	int i, err;

	if (why)
		SKIP(return, "%s", why);
	for (i = 0; i < NR_NAMES; i++)
		snprintf(self->name[i], sizeof(self->name[i]), "kst-%d-%d", getpid(), i);
	err = q_mkdir(self->name[0]);
	ASSERT_EQ(0, err) TH_LOG("mkdir %s: %s", self->name[0], strerror(err));
}

FIXTURE_TEARDOWN_PARENT(queue)
{
	int i;

	for (i = 0; i < NR_NAMES; i++)
		q_rmdir(self->name[i]);
}

/* mkdir makes a char node with the sysfs dev number, 0600 root:root. */
TEST_F(queue, create_makes_node)
{
	unsigned int maj, min;
	char path[128], dev[32];
	struct stat st;
	int n;

	ASSERT_EQ(0, q_stat(self->name[0], &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode)) TH_LOG("mode %o: not a character device", st.st_mode);
	EXPECT_EQ(0600, st.st_mode & 07777) TH_LOG("mode %o", st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
	EXPECT_EQ(0, st.st_gid);
	snprintf(path, sizeof(path), RQ_CLASS "rustqueue-%s/dev", self->name[0]);
	ASSERT_LT(0, read_file(path, dev, sizeof(dev))) TH_LOG("no %s", path);
	n = sscanf(dev, "%u:%u", &maj, &min);
	ASSERT_EQ(2, n) TH_LOG("dev: %s", dev);
	EXPECT_EQ(st.st_rdev, makedev(maj, min));
	EXPECT_NE(10, maj) TH_LOG("a named queue is not a misc device");
}

TEST_F(queue, defaults)
{
	const char *name = self->name[0];

	EXPECT_STREQ("16", q_get(name, "capacity"));
	EXPECT_STREQ("4096", q_get(name, "max_msg_size"));
	EXPECT_STREQ("stream", q_get(name, "semantics"));
	EXPECT_STREQ("0", q_get(name, "uid"));
	EXPECT_STREQ("0", q_get(name, "gid"));
	EXPECT_STREQ("0600", q_get(name, "mode"));
	EXPECT_EQ(0, q_counter(name, "count"));
	EXPECT_EQ(0, q_counter(name, "enqueued"));
}

TEST_F(queue, mkdir_existing_eexist)
{
	EXPECT_EQ(EEXIST, q_mkdir(self->name[0]));
}

TEST_F(queue, names)
{
	static const char * const bad[] = {
		".x", "-x", "_x", "a b", "a:b", "caf\xc3\xa9", "a\tb",
		"123456789012345678901234567890123",
	};
	struct stat st;
	char name[64];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, q_mkdir(bad[i])) TH_LOG("name \"%s\"", bad[i]);
		q_rmdir(bad[i]);
	}
	/* 32 bytes, the longest allowed, with each allowed character. */
	snprintf(name, sizeof(name), "Kq.%-26d_-9", getpid());
	for (i = 0; name[i]; i++)
		if (name[i] == ' ')
			name[i] = 'x';
	ASSERT_EQ(RQ_NAME_MAX, strlen(name));
	EXPECT_EQ(0, q_mkdir(name)) TH_LOG("name \"%s\"", name);
	EXPECT_EQ(0, q_stat(name, &st));
	EXPECT_EQ(0, q_rmdir(name));
}

/*
 * RQ_MAX_QUEUES named queues at once; the next mkdir gets ENOSPC.  About a
 * thousand mkdir and rmdir: a debug kernel under load needs more than the
 * default 30 s.
 */
TEST_F_TIMEOUT(queue, queue_limit_enospc, 120)
{
	int existing = 0, made = 0, err = 0, fd, i;
	struct dirent *d;
	char name[64];
	DIR *dir;

	dir = opendir(RQ_CONFIGFS);
	ASSERT_NE(NULL, dir);
	while ((d = readdir(dir)))
		existing += d->d_name[0] != '.';
	closedir(dir);
	while (made <= RQ_MAX_QUEUES) {
		snprintf(name, sizeof(name), "lim-%d-%d", getpid(), made);
		err = q_mkdir(name);
		if (err)
			break;
		made++;
	}
	EXPECT_EQ(ENOSPC, err) TH_LOG("mkdir %d: %s", made, strerror(err));
	EXPECT_EQ(RQ_MAX_QUEUES, existing + made) TH_LOG("%d there, %d made", existing, made);
	/* A removed queue counts until its last file is closed. */
	snprintf(name, sizeof(name), "lim-%d-0", getpid());
	fd = q_open(name, O_RDWR);
	EXPECT_LE(0, fd);
	for (i = 0; i < made; i++) {
		snprintf(name, sizeof(name), "lim-%d-%d", getpid(), i);
		EXPECT_EQ(0, q_rmdir(name));
	}
	for (i = 0; i < made - 1; i++) {
		snprintf(name, sizeof(name), "lim-%d-%d", getpid(), i);
		EXPECT_EQ(0, q_mkdir(name)) TH_LOG("mkdir %d after rmdir", i);
	}
	EXPECT_EQ(ENOSPC, q_mkdir(self->name[1]));
	if (fd >= 0)
		close(fd);
	EXPECT_EQ(0, q_mkdir(self->name[1]));
	for (i = 0; i < made - 1; i++) {
		snprintf(name, sizeof(name), "lim-%d-%d", getpid(), i);
		EXPECT_EQ(0, q_rmdir(name));
	}
}

/* A new queue does not take the device number of one just removed. */
TEST_F(queue, minor_not_reused)
{
	struct stat first, st;
	int i;

	ASSERT_EQ(0, q_stat(self->name[0], &first));
	for (i = 0; i < 3; i++) {
		ASSERT_EQ(0, q_rmdir(self->name[0]));
		ASSERT_EQ(0, q_mkdir(self->name[0]));
		ASSERT_EQ(0, q_stat(self->name[0], &st));
		EXPECT_NE(first.st_rdev, st.st_rdev)
			TH_LOG("round %d: %u:%u again", i, major(st.st_rdev), minor(st.st_rdev));
	}
}

/* rmdir takes the node and the sysfs directory at once; the name is free. */
TEST_F(queue, rmdir_removes_node)
{
	char path[128];
	struct stat st;

	ASSERT_EQ(0, q_rmdir(self->name[0]));
	EXPECT_EQ(ENOENT, q_stat(self->name[0], &st));
	snprintf(path, sizeof(path), RQ_CLASS "rustqueue-%s", self->name[0]);
	EXPECT_NE(0, access(path, F_OK));
	EXPECT_EQ(0, q_mkdir(self->name[0]));
	EXPECT_EQ(0, q_stat(self->name[0], &st));
}

/* A node made by hand for a removed queue opens nothing (ENXIO). */
TEST_F(queue, stale_node_enxio)
{
	char path[64];
	struct stat st;
	int fd;

	ASSERT_EQ(0, q_stat(self->name[0], &st));
	snprintf(path, sizeof(path), "/tmp/rq-stale-%d", getpid());
	unlink(path);
	ASSERT_EQ(0, mknod(path, S_IFCHR | 0600, st.st_rdev)) TH_LOG("mknod: %s", strerror(errno));
	fd = open(path, O_RDWR);
	EXPECT_LE(0, fd) TH_LOG("open before rmdir: %s", strerror(errno));
	if (fd >= 0)
		close(fd);
	ASSERT_EQ(0, q_rmdir(self->name[0]));
	errno = 0;
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENXIO, errno);
	/* Nor does it open the queue made next. */
	ASSERT_EQ(0, q_mkdir(self->name[1]));
	errno = 0;
	EXPECT_EQ(-1, open(path, O_RDWR));
	EXPECT_EQ(ENXIO, errno);
	unlink(path);
}

/* Messages stay in their queue; the counters and the seed's too. */
TEST_F(queue, messages_isolated)
{
	const char *a = self->name[0], *b = self->name[1];
	struct rustqueue_info seed_before, seed_after;
	int fa, fb, seed;
	char buf[16];

	ASSERT_EQ(0, q_mkdir(b));
	seed = open(RQ_DEVICE, O_RDONLY);
	ASSERT_LE(0, seed);
	ASSERT_EQ(0, get_info(seed, &seed_before));
	fa = q_open(a, O_RDWR);
	fb = q_open(b, O_RDWR);
	ASSERT_LE(0, fa);
	ASSERT_LE(0, fb);
	ASSERT_EQ(1, write(fa, "A", 1));
	ASSERT_EQ(2, write(fa, "AA", 2));
	EXPECT_EQ(2, q_counter(a, "count"));
	EXPECT_EQ(0, q_counter(b, "count"));
	/* Stream semantics: an empty queue reads as end of file. */
	EXPECT_EQ(0, read(fb, buf, sizeof(buf)));
	ASSERT_EQ(1, write(fb, "B", 1));
	close(fb);
	fb = q_open(b, O_RDONLY);
	ASSERT_LE(0, fb);
	EXPECT_EQ(1, read(fb, buf, sizeof(buf)));
	EXPECT_EQ('B', buf[0]);
	EXPECT_EQ(1, read(fa, buf, sizeof(buf)));
	EXPECT_EQ('A', buf[0]);
	EXPECT_EQ(2, q_counter(a, "bytes"));
	EXPECT_EQ(1, q_counter(a, "dequeued"));
	EXPECT_EQ(1, q_counter(b, "dequeued"));
	ASSERT_EQ(0, get_info(seed, &seed_after));
	EXPECT_EQ(seed_before.enqueued, seed_after.enqueued);
	EXPECT_EQ(seed_before.dequeued, seed_after.dequeued);
	close(fa);
	close(fb);
	close(seed);
}

/*
 * uid, gid and mode make a new node with a new device number: a copy of the
 * old node opens nothing any more, a file opened before keeps working.
 */
TEST_F(queue, owner_and_mode)
{
	const char *name = self->name[0];
	struct stat before, st;
	char copy[64], buf[8];
	int fd, fd2;

	ASSERT_EQ(0, q_stat(name, &before));
	snprintf(copy, sizeof(copy), "/tmp/rq-copy-%d", getpid());
	unlink(copy);
	ASSERT_EQ(0, mknod(copy, S_IFCHR | 0600, before.st_rdev))
		TH_LOG("mknod: %s", strerror(errno));
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, q_set(name, "uid", "65534"));
	ASSERT_EQ(0, q_set(name, "gid", "100"));
	ASSERT_EQ(0, q_set(name, "mode", "0640"));
	ASSERT_EQ(0, q_stat(name, &st));
	EXPECT_EQ(65534, st.st_uid);
	EXPECT_EQ(100, st.st_gid);
	EXPECT_EQ(0640, st.st_mode & 07777) TH_LOG("mode %o", st.st_mode & 07777);
	EXPECT_NE(before.st_rdev, st.st_rdev);
	errno = 0;
	EXPECT_EQ(-1, open(copy, O_RDWR));
	EXPECT_EQ(ENXIO, errno) TH_LOG("the old node opened: %s", strerror(errno));
	unlink(copy);
	/* The new node opens the same queue. */
	fd2 = q_open(name, O_RDONLY);
	ASSERT_LE(0, fd2) TH_LOG("open of the new node: %s", strerror(errno));
	ASSERT_EQ(3, write(fd, "new", 3));
	EXPECT_EQ(3, read(fd2, buf, sizeof(buf)));
	close(fd2);
	EXPECT_STREQ("65534", q_get(name, "uid"));
	EXPECT_STREQ("100", q_get(name, "gid"));
	EXPECT_STREQ("0640", q_get(name, "mode"));
	EXPECT_EQ(3, write(fd, "old", 3));
	EXPECT_EQ(1, q_counter(name, "count"));
	close(fd);
}

TEST_F(queue, bad_settings_einval)
{
	static const char * const bad[][2] = {
		{ "capacity", "0" }, { "capacity", "65537" }, { "capacity", "x" },
		{ "max_msg_size", "0" }, { "max_msg_size", "1048577" },
		{ "semantics", "datagram" }, { "semantics", "streams" },
		{ "mode", "0" }, { "mode", "1000" }, { "mode", "8" }, { "mode", "04755" },
		{ "uid", "-1" }, { "uid", "4294967295" }, { "uid", "root" },
		{ "gid", "4294967295" },
	};
	const char *name = self->name[0];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		EXPECT_EQ(EINVAL, q_set(name, bad[i][0], bad[i][1]))
			TH_LOG("%s = \"%s\"", bad[i][0], bad[i][1]);
	}
	EXPECT_STREQ("16", q_get(name, "capacity"));
	EXPECT_STREQ("4096", q_get(name, "max_msg_size"));
	EXPECT_STREQ("stream", q_get(name, "semantics"));
	EXPECT_STREQ("0600", q_get(name, "mode"));
	EXPECT_STREQ("0", q_get(name, "uid"));
}

/*
 * A user given queue A opens it, but not queue B, and changes no setting,
 * makes no queue and removes none.
 */
TEST_F(queue, user_isolation)
{
	const char *a = self->name[0], *b = self->name[1];
	char path[128];
	int status;
	pid_t pid;

	ASSERT_EQ(0, q_mkdir(b));
	ASSERT_EQ(0, q_set(a, "uid", "65534"));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd, bad = 0;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(3);
		fd = q_open(a, O_RDWR);
		bad |= fd < 0 || write(fd, "u", 1) != 1;
		bad |= (q_open(b, O_RDONLY) != -1 || errno != EACCES) << 1;
		bad |= (q_set(a, "capacity", "1") != EACCES) << 2;
		bad |= (q_set(a, "uid", "65534") != EACCES) << 3;
		bad |= (q_mkdir("kst-user") != EACCES) << 4;
		bad |= (q_rmdir(b) != EACCES) << 5;
		_exit(bad ? 10 + bad : 0);
	}
	status = child_status_within(pid, RQ_BLOCK_MS);
	/* 3: no setresuid; 10 + bits: 1 open A, 2 open B, 4 capacity, 8 uid, 16 mkdir, 32 rmdir */
	EXPECT_EQ(0, status) TH_LOG("the child's refusals that failed, see above");
	EXPECT_EQ(1, q_counter(a, "count"));
	snprintf(path, sizeof(path), RQ_CONFIGFS "%s", b);
	EXPECT_EQ(0, access(path, F_OK));
	q_rmdir("kst-user");
}

/* open() of NAME with FLAGS succeeds if WANT is 0, else fails with WANT. */
static bool opens_as(const char *name, int flags, int want)
{
	int fd = q_open(name, flags);

	if (fd < 0)
		return errno == want;
	close(fd);
	return !want;
}

/*
 * gid and mode give access to a group: a member who does not own the node
 * opens it as the mode says, for reading or for both.
 */
TEST_F(queue, group_access)
{
	const char *name = self->name[0];
	static const struct { const char *mode; int rd, wr; } cases[] = {
		{ "0600", EACCES, EACCES }, { "0640", 0, EACCES }, { "0660", 0, 0 },
	};
	unsigned int i;
	int status;
	pid_t pid;

	ASSERT_EQ(0, q_set(name, "gid", "4242"));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, q_set(name, "mode", cases[i].mode));
		pid = fork_child();
		ASSERT_LE(0, pid);
		if (pid == 0) {
			int bad = 0;

			if (setgroups(0, NULL) || setresgid(4242, 4242, 4242) ||
			    setresuid(65534, 65534, 65534))
				_exit(3);
			bad |= !opens_as(name, O_RDONLY, cases[i].rd);
			bad |= !opens_as(name, O_WRONLY, cases[i].wr) << 1;
			_exit(bad ? 10 + bad : 0);
		}
		status = child_status_within(pid, RQ_BLOCK_MS);
		/* 3: no setresuid; 10 + bits: 1 read open, 2 write open */
		EXPECT_EQ(0, status) TH_LOG("mode %s", cases[i].mode);
	}
}

/* stream refuses O_DIRECT, direct takes it, packet needs none. */
TEST_F(queue, semantics)
{
	const char *name = self->name[0];
	char buf[8];
	int fd, fd2;

	errno = 0;
	EXPECT_EQ(-1, q_open(name, O_RDWR | O_DIRECT));
	EXPECT_EQ(EINVAL, errno);
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, fcntl(fd, F_SETFL, O_DIRECT));
	EXPECT_EQ(EINVAL, errno);
	/* Not while a file is open. */
	EXPECT_EQ(EBUSY, q_set(name, "semantics", "packet"));
	EXPECT_STREQ("stream", q_get(name, "semantics"));
	close(fd);

	ASSERT_EQ(0, q_set(name, "semantics", "direct"));
	fd = q_open(name, O_RDWR | O_DIRECT | O_NONBLOCK);
	ASSERT_LE(0, fd) TH_LOG("direct, O_DIRECT: %s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd);

	ASSERT_EQ(0, q_set(name, "semantics", "packet"));
	EXPECT_STREQ("packet", q_get(name, "semantics"));
	ASSERT_EQ(0, q_set(name, "capacity", "1"));
	fd = q_open(name, O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, fd);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(5, write(fd, "hello", 5));
	errno = 0;
	EXPECT_EQ(-1, write(fd, "full", 4));
	EXPECT_EQ(EAGAIN, errno);
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, 4));
	EXPECT_EQ(EMSGSIZE, errno);
	/* Every file of a packet queue reads whole messages. */
	fd2 = q_open(name, O_RDONLY);
	ASSERT_LE(0, fd2);
	EXPECT_EQ(5, read(fd2, buf, sizeof(buf)));
	errno = 0;
	EXPECT_EQ(-1, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	close(fd2);
	close(fd);
}

/* capacity: EBUSY below the places taken; raising it wakes a writer. */
TEST_F(queue, capacity)
{
	const char *name = self->name[0];
	char buf[8];
	pid_t pid;
	int fd;

	ASSERT_EQ(0, q_set(name, "semantics", "packet"));
	ASSERT_EQ(0, q_set(name, "capacity", "2"));
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(1, write(fd, "1", 1));
	ASSERT_EQ(1, write(fd, "2", 1));
	EXPECT_EQ(EBUSY, q_set(name, "capacity", "1"));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(write(fd, "3", 1) == 1 ? 0 : 1);
	ASSERT_EQ(0, wait_blocked(pid, __NR_write, RQ_BLOCK_MS)) TH_LOG("%s", rq_seen);
	EXPECT_EQ(0, q_set(name, "capacity", "3"));
	EXPECT_EQ(0, child_status_within(pid, RQ_BLOCK_MS));
	EXPECT_EQ(3, q_counter(name, "count"));
	EXPECT_EQ(1, read(fd, buf, sizeof(buf)));
	close(fd);
}

/* rmdir under a blocked reader: it sleeps on, and an open file wakes it. */
TEST_F(queue, rmdir_with_blocked_reader)
{
	const char *name = self->name[0];
	struct stat st;
	int fd, status;
	pid_t pid;

	ASSERT_EQ(0, q_set(name, "semantics", "packet"));
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];

		_exit(read(fd, buf, sizeof(buf)) == 4 && !memcmp(buf, "late", 4) ? 0 : 1);
	}
	ASSERT_EQ(0, wait_blocked(pid, __NR_read, RQ_BLOCK_MS)) TH_LOG("%s", rq_seen);
	ASSERT_EQ(0, q_rmdir(name));
	EXPECT_EQ(ENOENT, q_stat(name, &st));
	EXPECT_EQ(0, wait_blocked(pid, __NR_read, RQ_BLOCK_MS)) TH_LOG("%s", rq_seen);
	EXPECT_EQ(4, write(fd, "late", 4));
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status) TH_LOG("reader: %d", status);
	close(fd);
}

/* rmdir under a blocked writer: a read through an open file wakes it. */
TEST_F(queue, rmdir_with_blocked_writer)
{
	const char *name = self->name[0];
	int fd, status;
	char buf[16];
	pid_t pid;

	ASSERT_EQ(0, q_set(name, "semantics", "packet"));
	ASSERT_EQ(0, q_set(name, "capacity", "1"));
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(5, write(fd, "first", 5));
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(write(fd, "second", 6) == 6 ? 0 : 1);
	ASSERT_EQ(0, wait_blocked(pid, __NR_write, RQ_BLOCK_MS)) TH_LOG("%s", rq_seen);
	ASSERT_EQ(0, q_rmdir(name));
	ASSERT_EQ(5, read(fd, buf, sizeof(buf)));
	status = child_status_within(pid, RQ_BLOCK_MS);
	EXPECT_EQ(0, status) TH_LOG("writer: %d", status);
	EXPECT_EQ(6, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, "second", 6));
	close(fd);
}

/* A partly read message stays readable after rmdir. */
TEST_F(queue, rmdir_with_held_message)
{
	const char *name = self->name[0];
	char buf[16];
	int fd;

	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(11, write(fd, "hello world", 11));
	ASSERT_EQ(5, read(fd, buf, 5));
	ASSERT_EQ(0, q_rmdir(name));
	ASSERT_EQ(6, read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, memcmp(buf, " world", 6));
	EXPECT_EQ(0, read(fd, buf, sizeof(buf)));
	close(fd);
}

/* The module's reference count, -1 when unreadable. */
static long long rq_module_refcnt(void)
{
	char buf[32];

	if (read_file("/sys/module/rustqueue/refcnt", buf, sizeof(buf)) <= 0)
		return -1;
	return strtoll(buf, NULL, 10);
}

/* The module stays while a queue exists, and while a removed one is open. */
TEST_F(queue, rmmod_refused)
{
	int fd;

	if (access("/sys/module/rustqueue/refcnt", F_OK))
		SKIP(return, "rustqueue is built in");
	/* Ask only while in use: delete_module() of an unused module unloads it. */
	ASSERT_LT(0, rq_module_refcnt());
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_delete_module, "rustqueue", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	fd = q_open(self->name[0], O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, q_rmdir(self->name[0]));
	ASSERT_LT(0, rq_module_refcnt());
	errno = 0;
	EXPECT_EQ(-1, syscall(__NR_delete_module, "rustqueue", O_NONBLOCK));
	EXPECT_EQ(EWOULDBLOCK, errno);
	close(fd);
}

#define LOOP_CYCLES	300
#define LOOP_MESSAGES	2000

/* mkdir and rmdir in a loop while a child moves messages on another queue. */
TEST_F(queue, create_remove_loop)
{
	const char *name = self->name[0], *other = self->name[1];
	int fd, i, status, failed = 0;
	struct stat st;
	pid_t pid;

	ASSERT_EQ(0, q_set(name, "semantics", "packet"));
	fd = q_open(name, O_RDWR);
	ASSERT_LE(0, fd);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[16];
		int n;

		for (n = 0; n < LOOP_MESSAGES; n++) {
			if (write(fd, &n, sizeof(n)) != sizeof(n) ||
			    read(fd, buf, sizeof(buf)) != sizeof(n) || memcmp(buf, &n, sizeof(n)))
				_exit(1);
		}
		_exit(0);
	}
	for (i = 0; i < LOOP_CYCLES; i++) {
		int qfd;

		failed += q_mkdir(other) != 0;
		qfd = q_open(other, O_RDWR);
		failed += qfd < 0 || write(qfd, "x", 1) != 1;
		failed += q_rmdir(other) != 0;
		if (qfd >= 0)
			close(qfd);
		failed += q_stat(other, &st) != ENOENT;
	}
	EXPECT_EQ(0, failed);
	status = child_status_within(pid, 60000);
	EXPECT_EQ(0, status);
	EXPECT_EQ(LOOP_MESSAGES, q_counter(name, "dequeued"));
	close(fd);
}

#define RACE_CYCLES	300

/*
 * open() races rmdir: a child opens the node, writes and reads through it,
 * again and again, while the parent makes and removes the queue.  Each open
 * finds the queue and keeps it until close, or finds no node (ENOENT) or
 * the node of a removed queue (ENXIO); KASAN watches the queue's lifetime.
 */
TEST_F_TIMEOUT(queue, open_races_rmdir, 120)
{
	struct race {
		int stop;
		long opened;
	} *race;
	const char *name = self->name[1];
	int i, status, failed = 0;
	struct timespec start;
	long seen;
	pid_t pid;

	race = mmap(NULL, sizeof(*race), PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, race);
	pid = fork_child();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		char buf[8];

		while (!__atomic_load_n(&race->stop, __ATOMIC_RELAXED)) {
			int fd = q_open(name, O_RDWR | O_NONBLOCK);

			if (fd < 0) {
				if (errno != ENOENT && errno != ENXIO)
					_exit(1);
				continue;
			}
			if (write(fd, "r", 1) != 1 || read(fd, buf, sizeof(buf)) != 1)
				_exit(2);
			close(fd);
			__atomic_add_fetch(&race->opened, 1, __ATOMIC_RELAXED);
		}
		_exit(0);
	}
	/* Until the child fails, if it does. */
	for (i = 0; i < RACE_CYCLES && waitpid(pid, &status, WNOHANG) == 0; i++) {
		seen = __atomic_load_n(&race->opened, __ATOMIC_RELAXED);
		failed += q_mkdir(name) != 0;
		/* Remove it once the child got in, or after 20 ms. */
		clock_gettime(CLOCK_MONOTONIC, &start);
		while (__atomic_load_n(&race->opened, __ATOMIC_RELAXED) == seen &&
		       rq_elapsed_ms(&start) < 20)
			;
		failed += q_rmdir(name) != 0;
	}
	__atomic_store_n(&race->stop, 1, __ATOMIC_RELAXED);
	if (i == RACE_CYCLES)
		status = child_status_within(pid, 10000);
	else
		status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	/* 1: an open failed otherwise; 2: I/O on an open file failed */
	EXPECT_EQ(0, status);
	EXPECT_EQ(0, failed);
	EXPECT_LT(0, race->opened) TH_LOG("the child never opened the queue");
	TH_LOG("%ld opens in %d cycles", race->opened, RACE_CYCLES);
	munmap(race, sizeof(*race));
}

TEST_HARNESS_MAIN
