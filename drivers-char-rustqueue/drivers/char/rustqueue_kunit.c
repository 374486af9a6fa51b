// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests of the rustqueue core: enqueue, dequeue, limits and
 * accounting, the life of a queue and its semantics, on queues of the
 * test's own, through kernel buffers instead
 * of system calls.  Included by rustqueue.c when CONFIG_RUSTQUEUE_KUNIT_TEST
 * is set; the suite runs when the driver loads.
 */

#include <kunit/static_stub.h>
#include <kunit/test.h>

struct rustqueue_test {
	/* The creator's reference; NULL once a case has dropped it. */
	struct rustqueue *q;
	/* A file open on @q, holding a reference of its own, while @rf_open. */
	struct rustqueue_file rf;
	bool rf_open;
	/* Messages freed, counted by rq_count_free() where a case installs it. */
	unsigned int freed;
};

/* What open() does: the file gets a reference of its own. */
static void rq_file_open(struct rustqueue_test *t, struct rustqueue *q)
{
	kref_get(&q->ref);
	rustqueue_file_init(&t->rf, q);
	t->rf_open = true;
}

/* What the last close does; the exit function closes a file left open. */
static void rq_file_close(struct rustqueue_test *t)
{
	t->rf_open = false;
	rustqueue_file_destroy(&t->rf);
}

static int rustqueue_test_init(struct kunit *test)
{
	struct rustqueue_test *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	if (!t)
		return -ENOMEM;
	t->q = rustqueue_create(RUSTQUEUE_DIRECT, "kunit");
	if (!t->q)
		return -ENOMEM;
	rq_file_open(t, t->q);
	test->priv = t;
	return 0;
}

static void rustqueue_test_exit(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;

	if (t->rf_open)
		rq_file_close(t);
	if (t->q)
		rustqueue_put(t->q);
}

static ssize_t rq_write(struct rustqueue *q, const void *buf, size_t len, bool packet)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter from;

	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	return rustqueue_write(q, &from, packet, true, RUSTQUEUE_COUNT_ALL);
}

static ssize_t rq_write_str(struct rustqueue *q, const char *s)
{
	return rq_write(q, s, strlen(s), false);
}

static ssize_t rq_read(struct rustqueue_file *rf, void *buf, size_t size, bool packet)
{
	struct kvec kv = { .iov_base = buf, .iov_len = size };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, size);
	if (packet)
		return rustqueue_read_packet(rf, &to, true);
	return rustqueue_read_stream(rf, &to);
}

KUNIT_DEFINE_ACTION_WRAPPER(rq_kvfree, kvfree, const void *);

/* A zeroed buffer of @size bytes, freed when the case ends. */
static u8 *rq_buffer(struct kunit *test, size_t size)
{
	u8 *buf = kvzalloc(size, GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, rq_kvfree, buf), 0);
	return buf;
}

static struct rustqueue_info rq_info(struct rustqueue *q)
{
	struct rustqueue_info info;

	rustqueue_get_info(q, &info);
	return info;
}

static void rustqueue_test_fifo_order(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	static const char * const msgs[] = { "one", "two", "three" };
	char buf[16];
	int i;

	for (i = 0; i < ARRAY_SIZE(msgs); i++)
		KUNIT_ASSERT_EQ(test, rq_write_str(t->q, msgs[i]), strlen(msgs[i]));
	for (i = 0; i < ARRAY_SIZE(msgs); i++) {
		KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), strlen(msgs[i]));
		KUNIT_EXPECT_MEMEQ(test, buf, msgs[i], strlen(msgs[i]));
	}
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), -EAGAIN);
}

static void rustqueue_test_accounting(struct kunit *test)
{
	static const u64 zero[ARRAY_SIZE(((struct rustqueue_info *)0)->reserved)];
	struct rustqueue_test *t = test->priv;
	struct rustqueue_info info;
	char buf[16];

	rq_write_str(t->q, "abc");
	rq_write_str(t->q, "defgh");
	rq_write_str(t->q, "ijklmno");
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 3);
	KUNIT_EXPECT_EQ(test, info.bytes, 15);
	KUNIT_EXPECT_EQ(test, info.enqueued, 3);
	KUNIT_EXPECT_EQ(test, info.dequeued, 0);
	KUNIT_EXPECT_EQ(test, info.next_len, 3);
	KUNIT_EXPECT_EQ(test, info.capacity, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, info.max_msg_size, RUSTQUEUE_MAX_MSG_SIZE);

	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 3);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 2);
	KUNIT_EXPECT_EQ(test, info.bytes, 12);
	KUNIT_EXPECT_EQ(test, info.dequeued, 1);
	KUNIT_EXPECT_EQ(test, info.next_len, 5);
	KUNIT_EXPECT_EQ(test, info.rejected, 0);
	KUNIT_EXPECT_EQ(test, info.in_flight, 0);
	KUNIT_EXPECT_EQ(test, info.pad, 0);
	KUNIT_EXPECT_MEMEQ(test, info.reserved, zero, sizeof(zero));
}

static void rustqueue_test_full_queue(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_info info;
	char c = 'x';
	int i;

	for (i = 0; i < RUSTQUEUE_CAPACITY; i++)
		KUNIT_ASSERT_EQ(test, rq_write(t->q, &c, 1, false), 1);
	KUNIT_EXPECT_FALSE(test, rustqueue_has_room(t->q));
	KUNIT_EXPECT_EQ(test, rq_write(t->q, &c, 1, false), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rq_write(t->q, &c, 1, true), -EAGAIN);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, info.bytes, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, info.enqueued, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, info.rejected, 2);
}

static void rustqueue_test_zero_length(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_info info;

	KUNIT_EXPECT_EQ(test, rq_write(t->q, "", 0, false), 0);
	KUNIT_EXPECT_EQ(test, rq_write(t->q, "", 0, true), 0);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 0);
	KUNIT_EXPECT_EQ(test, info.enqueued, 0);
	KUNIT_EXPECT_EQ(test, info.rejected, 0);
}

static void rustqueue_test_too_long(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_info info;
	u8 *buf = rq_buffer(test, RUSTQUEUE_MAX_MSG_SIZE + 1);

	KUNIT_EXPECT_EQ(test, rq_write(t->q, buf, RUSTQUEUE_MAX_MSG_SIZE + 1, false), -EINVAL);
	KUNIT_EXPECT_EQ(test, rq_write(t->q, buf, RUSTQUEUE_MAX_MSG_SIZE, false),
			RUSTQUEUE_MAX_MSG_SIZE);

	rustqueue_set_max_msg_size(t->q, 8);
	KUNIT_EXPECT_EQ(test, rq_write(t->q, buf, 9, true), -EINVAL);
	KUNIT_EXPECT_EQ(test, rq_write(t->q, buf, 8, true), 8);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 2);
	KUNIT_EXPECT_EQ(test, info.bytes, RUSTQUEUE_MAX_MSG_SIZE + 8);
	KUNIT_EXPECT_EQ(test, info.rejected, 2);
	/* A message queued before the limit went down keeps its length. */
	KUNIT_EXPECT_EQ(test, info.next_len, RUSTQUEUE_MAX_MSG_SIZE);
}

/*
 * The largest message the limits allow: its payload is an allocation of its
 * own, from vmalloc() when no contiguous megabyte is at hand.  So are the
 * test's buffers: an order-8 kmalloc() can fail on a fragmented system.
 */
static void rustqueue_test_largest_message(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	size_t len = RUSTQUEUE_MAX_MSG_SIZE_MAX;
	u8 *in = rq_buffer(test, len);
	u8 *out = rq_buffer(test, len);
	size_t i;

	for (i = 0; i < len; i++)
		in[i] = i * 7 + (i >> 8);

	rustqueue_set_max_msg_size(t->q, len);
	KUNIT_ASSERT_EQ(test, rq_write(t->q, in, len, true), len);
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, out, len - 1, true), -EMSGSIZE);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, out, len, true), len);
	KUNIT_EXPECT_MEMEQ(test, in, out, len);
}

static void rustqueue_test_segments_make_one_message(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct kvec kv[] = {
		{ .iov_base = "ab", .iov_len = 2 },
		{ .iov_base = "", .iov_len = 0 },
		{ .iov_base = "cdef", .iov_len = 4 },
	};
	struct iov_iter from;
	char buf[16];

	iov_iter_kvec(&from, ITER_SOURCE, kv, ARRAY_SIZE(kv), 6);
	KUNIT_ASSERT_EQ(test, rustqueue_write(t->q, &from, true, true, RUSTQUEUE_COUNT_ALL), 6);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 1);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 6);
	KUNIT_EXPECT_MEMEQ(test, buf, "abcdef", 6);
}

static void rustqueue_test_emsgsize_keeps_message(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	char buf[16];

	rq_write_str(t->q, "0123456789");
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, 9, true), -EMSGSIZE);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).dequeued, 0);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 10, true), 10);
	KUNIT_EXPECT_MEMEQ(test, buf, "0123456789", 10);
}

static void rustqueue_test_stream_read(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	char buf[16];

	/* An empty queue reads as end of file, and the file stays usable. */
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), false), 0);
	rq_write_str(t->q, "hello world");
	rq_write_str(t->q, "next");

	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 5, false), 5);
	KUNIT_EXPECT_MEMEQ(test, buf, "hello", 5);
	/* The message left the queue with the first read. */
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 1);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), false), 6);
	KUNIT_EXPECT_MEMEQ(test, buf, " world", 6);
	/* One message per file: then end of file, with "next" still queued. */
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), false), 0);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).next_len, 4);
}

/* Packet mode on a file that holds a partly read message returns its rest. */
static void rustqueue_test_held_rest_is_next_packet(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	char buf[16];

	rq_write_str(t->q, "0123456789");
	rq_write_str(t->q, "after");
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 3, false), 3);
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, 6, true), -EMSGSIZE);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 7);
	KUNIT_EXPECT_MEMEQ(test, buf, "3456789", 7);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 5);
	KUNIT_EXPECT_MEMEQ(test, buf, "after", 5);
}

/*
 * A message a default-mode file began to read keeps its place until the
 * file has read it or drops it: open files cannot pin memory beyond the
 * capacity.
 */
static void rustqueue_test_held_message_keeps_place(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_info info;
	char buf[16];

	rustqueue_set_capacity(t->q, 2);
	rq_write_str(t->q, "0123456789");
	rq_write_str(t->q, "B");
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 4, false), 4);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 1);
	KUNIT_EXPECT_EQ(test, info.in_flight, 1);
	KUNIT_EXPECT_EQ(test, info.dequeued, 1);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "C"), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rustqueue_set_capacity(t->q, 1), -EBUSY);

	/* Read to the end, the message gives its place back. */
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), false), 6);
	KUNIT_EXPECT_MEMEQ(test, buf, "456789", 6);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "C"), 1);

	/* So does one the file drops unread. */
	rq_file_close(t);
	rq_file_open(t, t->q);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), false), 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
	rq_file_close(t);
	rq_file_open(t, t->q);
	KUNIT_ASSERT_EQ(test, rq_write_str(t->q, "0123456789"), 10);
	/* "C" first, in packet mode: packet reads do not use up the file. */
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 1);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 1, false), 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 1);
	rq_file_close(t);
	rq_file_open(t, t->q);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.in_flight, 0);
	KUNIT_EXPECT_EQ(test, info.count, 0);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "D"), 1);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "E"), 1);
}

/*
 * A write takes its place before it allocates, and the size limit holds
 * from the moment it is stored: a write that found room under the old
 * limit is checked again when it queues its message.
 */
static void rustqueue_test_limit_lowered_during_write(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_msg *msg;
	struct rustqueue_info info;

	KUNIT_ASSERT_EQ(test, rustqueue_reserve(t->q, 100, true, true, RUSTQUEUE_COUNT_ALL), 0);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 1);
	msg = rustqueue_msg_alloc(t->q, 100);
	KUNIT_ASSERT_NOT_NULL(test, msg);
	memset(msg->data, 'x', 100);

	rustqueue_set_max_msg_size(t->q, 99);
	KUNIT_EXPECT_EQ(test, rustqueue_push(t->q, msg), -EINVAL);
	rustqueue_msg_free(msg);
	rustqueue_release_place(t->q);
	info = rq_info(t->q);
	KUNIT_EXPECT_EQ(test, info.count, 0);
	KUNIT_EXPECT_EQ(test, info.in_flight, 0);
	KUNIT_EXPECT_EQ(test, info.enqueued, 0);
	KUNIT_EXPECT_EQ(test, info.rejected, 1);

	/* Without a free place, nothing is reserved. */
	rustqueue_set_capacity(t->q, 1);
	KUNIT_ASSERT_EQ(test, rustqueue_reserve(t->q, 10, true, true, RUSTQUEUE_COUNT_ALL), 0);
	KUNIT_EXPECT_EQ(test, rustqueue_reserve(t->q, 10, true, true, RUSTQUEUE_COUNT_ALL),
			-EAGAIN);
	KUNIT_EXPECT_EQ(test, rustqueue_reserve(t->q, 10, false, true, RUSTQUEUE_COUNT_ALL),
			-ENOSPC);
	KUNIT_EXPECT_EQ(test, rustqueue_reserve(t->q, 100, true, true, RUSTQUEUE_COUNT_ALL),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 1);
	rustqueue_release_place(t->q);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
}

static void rustqueue_test_set_capacity(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	int i;

	for (i = 0; i < 4; i++)
		rq_write_str(t->q, "m");
	KUNIT_EXPECT_EQ(test, rustqueue_set_capacity(t->q, 3), -EBUSY);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).capacity, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, rustqueue_set_capacity(t->q, 4), 0);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "m"), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rustqueue_set_capacity(t->q, 5), 0);
	KUNIT_EXPECT_EQ(test, rq_write_str(t->q, "m"), 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).capacity, 5);
}

static void rustqueue_test_parse(struct kunit *test)
{
	unsigned int val = 0;

	KUNIT_EXPECT_EQ(test, rustqueue_parse("1", 65536, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 1);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("65536\n", 65536, &val), 0);
	KUNIT_EXPECT_EQ(test, val, 65536);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("0", 65536, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("65537", 65536, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("-1", 65536, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("4294967296", 65536, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("12x", 65536, &val), -EINVAL);
	KUNIT_EXPECT_EQ(test, rustqueue_parse("", 65536, &val), -EINVAL);
}

/* The message at the front of @q, or NULL. */
static struct rustqueue_msg *rq_front(struct rustqueue *q)
{
	struct rustqueue_msg *msg;

	spin_lock(&q->lock);
	msg = rustqueue_front_locked(q);
	spin_unlock(&q->lock);
	return msg;
}

/* A read message is kept for the next write of its size class, and only that. */
static void rustqueue_test_spare(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue_msg *spare;
	const size_t big = 2 * PAGE_SIZE;
	u8 *in, *out;

	in = rq_buffer(test, big);
	out = rq_buffer(test, big);
	memset(in, 'x', big);
	rustqueue_set_max_msg_size(t->q, big);

	KUNIT_ASSERT_EQ(test, rq_write(t->q, in, 64, true), 64);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, out, big, true), 64);
	spare = t->q->spare;
	KUNIT_ASSERT_NOT_NULL(test, spare);

	/* The same size class: the spare carries the next message. */
	in[0] = 'y';
	KUNIT_ASSERT_EQ(test, rq_write(t->q, in, 60, true), 60);
	KUNIT_EXPECT_PTR_EQ(test, rq_front(t->q), spare);
	KUNIT_EXPECT_NULL(test, t->q->spare);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, out, big, true), 60);
	KUNIT_EXPECT_MEMEQ(test, in, out, 60);
	KUNIT_EXPECT_PTR_EQ(test, t->q->spare, spare);

	/* Another class: a new allocation, with the payload on its own. */
	KUNIT_ASSERT_EQ(test, rq_write(t->q, in, PAGE_SIZE, true), PAGE_SIZE);
	spare = rq_front(t->q);
	KUNIT_EXPECT_NULL(test, t->q->spare);
	KUNIT_EXPECT_FALSE(test, rustqueue_msg_is_inline(spare));
	KUNIT_EXPECT_EQ(test, spare->room, PAGE_SIZE);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, out, big, true), PAGE_SIZE);
	KUNIT_EXPECT_MEMEQ(test, in, out, PAGE_SIZE);
	KUNIT_EXPECT_PTR_EQ(test, t->q->spare, spare);

	/* A write the spare does not fit frees it; a payload over a page is not kept. */
	KUNIT_ASSERT_EQ(test, rq_write(t->q, in, big, true), big);
	KUNIT_EXPECT_NULL(test, t->q->spare);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, out, big, true), big);
	KUNIT_EXPECT_MEMEQ(test, in, out, big);
	KUNIT_EXPECT_NULL(test, t->q->spare);
}

/* Counts the messages freed, and frees them as rustqueue_msg_free() does. */
static void rq_count_free(struct rustqueue_msg *msg)
{
	struct rustqueue_test *t = kunit_get_current_test()->priv;

	if (!msg)
		return;
	t->freed++;
	if (!rustqueue_msg_is_inline(msg))
		kvfree(msg->data);
	kfree(msg);
}

/* The spare, a message a file holds and the queued ones: all freed. */
static void rustqueue_test_destroy_frees_messages(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	u8 *held = rq_buffer(test, 100);
	char buf[8];

	/* Two size classes, so that no write reuses the spare. */
	KUNIT_ASSERT_EQ(test, rq_write_str(t->q, "spare"), 5);
	KUNIT_ASSERT_EQ(test, rq_write(t->q, held, 100, false), 100);
	KUNIT_ASSERT_EQ(test, rq_write_str(t->q, "left"), 4);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 5);
	KUNIT_ASSERT_NOT_NULL(test, t->q->spare);
	KUNIT_ASSERT_EQ(test, rq_read(&t->rf, buf, 2, false), 2);
	KUNIT_ASSERT_NOT_NULL(test, t->rf.msg);

	kunit_activate_static_stub(test, rustqueue_msg_free, rq_count_free);
	/* The held message becomes the spare, and the old spare is freed. */
	rq_file_close(t);
	KUNIT_EXPECT_EQ(test, t->freed, 1);
	KUNIT_EXPECT_NULL(test, t->rf.msg);
	/* The creator's reference is the last: the rest goes with it. */
	rustqueue_put(t->q);
	t->q = NULL;
	kunit_deactivate_static_stub(test, rustqueue_msg_free);
	KUNIT_EXPECT_EQ(test, t->freed, 3);
}

/* A new queue has the default limits, its name and one reference. */
static void rustqueue_test_create(struct kunit *test)
{
	struct rustqueue *q = rustqueue_create(RUSTQUEUE_PACKET, "rustqueue-%s", "x.1");

	KUNIT_ASSERT_NOT_NULL(test, q);
	KUNIT_EXPECT_STREQ(test, q->name, "rustqueue-x.1");
	KUNIT_EXPECT_EQ(test, q->capacity, RUSTQUEUE_CAPACITY);
	KUNIT_EXPECT_EQ(test, q->max_msg_size, RUSTQUEUE_MAX_MSG_SIZE);
	KUNIT_EXPECT_EQ(test, q->semantics, RUSTQUEUE_PACKET);
	KUNIT_EXPECT_EQ(test, q->nr_files, 0);
	KUNIT_EXPECT_EQ(test, kref_read(&q->ref), 1);
	rustqueue_put(q);
}

/*
 * A file keeps its queue after the creator let go, as after rmdir of a
 * named queue while a file is open: it still reads and writes, and its
 * close frees what is left and gives the queue's place among the named
 * queues back.
 */
static void rustqueue_test_file_keeps_queue(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue *q = t->q;
	int nr_queues;
	char buf[8];

	/* Counted as mkdir counts a queue. */
	nr_queues = atomic_inc_return(&rustqueue_nr_queues);
	q->named = true;
	KUNIT_ASSERT_EQ(test, rq_write_str(q, "one"), 3);
	KUNIT_ASSERT_EQ(test, rq_write(q, rq_buffer(test, 100), 100, false), 100);
	rustqueue_put(q);
	t->q = NULL;
	KUNIT_EXPECT_EQ(test, kref_read(&q->ref), 1);
	KUNIT_EXPECT_EQ(test, rq_write_str(q, "two"), 3);
	KUNIT_EXPECT_EQ(test, rq_read(&t->rf, buf, sizeof(buf), true), 3);
	KUNIT_EXPECT_MEMEQ(test, buf, "one", 3);

	kunit_activate_static_stub(test, rustqueue_msg_free, rq_count_free);
	rq_file_close(t);
	kunit_deactivate_static_stub(test, rustqueue_msg_free);
	/* The 100 bytes, "two", and the spare "one" left. */
	KUNIT_EXPECT_EQ(test, t->freed, 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&rustqueue_nr_queues), nr_queues - 1);
}

/* Which files are in packet mode, and when the semantics may change. */
static void rustqueue_test_semantics(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct rustqueue *q = t->q;

	/* The fixture's file is open. */
	KUNIT_EXPECT_EQ(test, q->nr_files, 1);
	KUNIT_EXPECT_EQ(test, rustqueue_set_semantics(q, RUSTQUEUE_PACKET), -EBUSY);
	KUNIT_EXPECT_EQ(test, q->semantics, RUSTQUEUE_DIRECT);
	KUNIT_EXPECT_FALSE(test, rustqueue_packet(q, false));
	KUNIT_EXPECT_TRUE(test, rustqueue_packet(q, true));

	rq_file_close(t);
	KUNIT_EXPECT_EQ(test, q->nr_files, 0);
	KUNIT_ASSERT_EQ(test, rustqueue_set_semantics(q, RUSTQUEUE_PACKET), 0);
	KUNIT_EXPECT_TRUE(test, rustqueue_packet(q, false));
	KUNIT_EXPECT_TRUE(test, rustqueue_packet(q, true));
	KUNIT_ASSERT_EQ(test, rustqueue_set_semantics(q, RUSTQUEUE_STREAM), 0);
	KUNIT_EXPECT_FALSE(test, rustqueue_packet(q, false));
	KUNIT_EXPECT_FALSE(test, rustqueue_packet(q, true));
	rq_file_open(t, q);
	KUNIT_EXPECT_EQ(test, rustqueue_set_semantics(q, RUSTQUEUE_DIRECT), -EBUSY);
}

/* Make the case's queue (and its file) anew with @semantics. */
static void rq_remake(struct kunit *test, enum rustqueue_semantics semantics)
{
	struct rustqueue_test *t = test->priv;

	rq_file_close(t);
	rustqueue_put(t->q);
	t->q = rustqueue_create(semantics, "kunit");
	KUNIT_ASSERT_NOT_NULL(test, t->q);
	rq_file_open(t, t->q);
}

/*
 * Records of @n messages of @lens bytes into @buf (zeroed, so the padding
 * is): message i is bytes 'a' + i.  Returns the bytes they take.
 */
static size_t rq_records(u8 *buf, const u32 *lens, unsigned int n)
{
	struct rustqueue_record rec = {};
	size_t off = 0;
	unsigned int i;

	for (i = 0; i < n; i++) {
		rec.len = lens[i];
		memcpy(buf + off, &rec, sizeof(rec));
		memset(buf + off + sizeof(rec), 'a' + i, lens[i]);
		off += RUSTQUEUE_RECORD_SIZE(lens[i]);
	}
	return off;
}

static ssize_t rq_write_records(struct rustqueue *q, const void *buf, size_t len)
{
	struct kvec kv = { .iov_base = (void *)buf, .iov_len = len };
	struct iov_iter from;

	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, len);
	return rustqueue_write_records(q, &from, true, RUSTQUEUE_COUNT_ALL);
}

static ssize_t rq_read_records(struct rustqueue_file *rf, void *buf, size_t size)
{
	struct kvec kv = { .iov_base = buf, .iov_len = size };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, size);
	return rustqueue_read_records(rf, &to, true);
}

/*
 * Records: a batch goes in whole and comes back as it was written, padding
 * included; a read takes only the records that fit, and none when the first
 * does not.
 */
static void rustqueue_test_records_round_trip(struct kunit *test)
{
	static const u32 lens[] = { 1, 7, 8, 64, 200 };
	struct rustqueue_test *t = test->priv;
	u8 *in = rq_buffer(test, 1024), *out = rq_buffer(test, 1024);
	size_t len, two = RUSTQUEUE_RECORD_SIZE(1) + RUSTQUEUE_RECORD_SIZE(7);

	rq_remake(test, RUSTQUEUE_RECORDS);
	len = rq_records(in, lens, ARRAY_SIZE(lens));
	KUNIT_ASSERT_EQ(test, rq_write_records(t->q, in, len), len);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, ARRAY_SIZE(lens));
	KUNIT_EXPECT_EQ(test, rq_info(t->q).bytes, 1 + 7 + 8 + 64 + 200);

	/* Room for two and a half records: two. */
	KUNIT_ASSERT_EQ(test, rq_read_records(&t->rf, out, two + 12), two);
	KUNIT_EXPECT_MEMEQ(test, out, in, two);
	KUNIT_EXPECT_EQ(test, rq_read_records(&t->rf, out, RUSTQUEUE_RECORD_SIZE(8) - 1),
			-EMSGSIZE);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 3);
	KUNIT_ASSERT_EQ(test, rq_read_records(&t->rf, out, 1024), len - two);
	KUNIT_EXPECT_MEMEQ(test, out, in + two, len - two);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).dequeued, ARRAY_SIZE(lens));
	KUNIT_EXPECT_EQ(test, rq_read_records(&t->rf, out, 1024), -EAGAIN);
}

/*
 * A bad record ends the write after the records before it, which are
 * queued; a write that starts with it fails.
 */
static void rustqueue_test_records_bad_record(struct kunit *test)
{
	static const u32 lens[] = { 4, 4, 4 };
	struct rustqueue_test *t = test->priv;
	u8 *buf = rq_buffer(test, 256);
	size_t one = RUSTQUEUE_RECORD_SIZE(4), len;
	struct rustqueue_record *second = (void *)(buf + one);

	rq_remake(test, RUSTQUEUE_RECORDS);
	len = rq_records(buf, lens, ARRAY_SIZE(lens));
	second->len = 0;
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, len), one);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf + one, len - one), -EINVAL);
	second->len = 4;
	second->flags = 1;
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, len), one);
	second->flags = 0;
	rustqueue_set_max_msg_size(t->q, 3);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, len), -EINVAL);
	rustqueue_set_max_msg_size(t->q, 4);
	/* Cut short: the second record's payload is not all there. */
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, one + 10), one);
	/* A header alone, or less. */
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, 6), -EINVAL);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 3);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
}

/*
 * More records than places, without waiting: as many as there are places,
 * across steps of RUSTQUEUE_BATCH_MAX, in order; then EAGAIN.
 */
static void rustqueue_test_records_more_than_places(struct kunit *test)
{
	enum { N = RUSTQUEUE_BATCH_MAX + 8 };
	struct rustqueue_test *t = test->priv;
	size_t rs = RUSTQUEUE_RECORD_SIZE(1), len;
	u8 *in = rq_buffer(test, N * rs), *out = rq_buffer(test, N * rs);
	u32 lens[N];
	int i;

	rq_remake(test, RUSTQUEUE_RECORDS);
	for (i = 0; i < N; i++)
		lens[i] = 1;
	len = rq_records(in, lens, N);
	rustqueue_set_capacity(t->q, N - 4);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, in, len), (N - 4) * rs);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, in, rs), -EAGAIN);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
	KUNIT_ASSERT_EQ(test, rq_read_records(&t->rf, out, len), (N - 4) * rs);
	KUNIT_EXPECT_MEMEQ(test, out, in, (N - 4) * rs);
}

/*
 * push_many() queues a batch in order up to the first message longer than
 * max_msg_size, lowered since its place was taken: it and those after it
 * stay on the batch, for the caller to free with their places.
 */
static void rustqueue_test_push_many_limit_lowered(struct kunit *test)
{
	static const u32 lens[] = { 10, 100, 10 };
	struct rustqueue_test *t = test->priv;
	struct rustqueue_msg *msg, *next;
	LIST_HEAD(batch);
	int i;

	KUNIT_ASSERT_EQ(test, rustqueue_reserve_many(t->q, 10, 3, true, true,
						     RUSTQUEUE_COUNT_ALL), 3);
	for (i = 0; i < ARRAY_SIZE(lens); i++) {
		msg = rustqueue_msg_alloc(t->q, lens[i]);
		KUNIT_ASSERT_NOT_NULL(test, msg);
		list_add_tail(&msg->node, &batch);
	}
	rustqueue_set_max_msg_size(t->q, 50);
	KUNIT_EXPECT_EQ(test, rustqueue_push_many(t->q, &batch, true), 1);
	i = 0;
	list_for_each_entry_safe(msg, next, &batch, node) {
		i++;
		list_del(&msg->node);
		rustqueue_msg_free(msg);
	}
	KUNIT_EXPECT_EQ(test, i, 2);
	rustqueue_release_places(t->q, 2);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).count, 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
	/* Not the first: the call succeeds, and the next one counts it. */
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 0);

	KUNIT_ASSERT_EQ(test, rustqueue_reserve_many(t->q, 10, 1, true, true,
						     RUSTQUEUE_COUNT_ALL), 1);
	msg = rustqueue_msg_alloc(t->q, 100);
	KUNIT_ASSERT_NOT_NULL(test, msg);
	list_add_tail(&msg->node, &batch);
	KUNIT_EXPECT_EQ(test, rustqueue_push_many(t->q, &batch, true), 0);
	list_del(&msg->node);
	rustqueue_msg_free(msg);
	rustqueue_release_places(t->q, 1);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 1);
}

/*
 * A refusal is counted once, by the call that fails with it: not by a
 * later step of a call that returns the records it queued before it.
 */
static void rustqueue_test_records_refusal_counted_once(struct kunit *test)
{
	enum { N = RUSTQUEUE_BATCH_MAX + 2 };
	struct rustqueue_test *t = test->priv;
	size_t rs = RUSTQUEUE_RECORD_SIZE(4), len;
	u8 *buf = rq_buffer(test, N * rs);
	struct rustqueue_record *bad = (void *)(buf + RUSTQUEUE_BATCH_MAX * rs);
	u32 lens[N];
	int i;

	rq_remake(test, RUSTQUEUE_RECORDS);
	for (i = 0; i < N; i++)
		lens[i] = 4;
	len = rq_records(buf, lens, N);

	/* No place for the second step's records. */
	rustqueue_set_capacity(t->q, RUSTQUEUE_BATCH_MAX);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, len), RUSTQUEUE_BATCH_MAX * rs);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 0);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, rs), -EAGAIN);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 1);
	rustqueue_set_capacity(t->q, RUSTQUEUE_CAPACITY_MAX);

	/* Too long, first in the second step. */
	rustqueue_set_max_msg_size(t->q, 4);
	bad->len = 5;
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, buf, len), RUSTQUEUE_BATCH_MAX * rs);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 1);
	KUNIT_EXPECT_EQ(test, rq_write_records(t->q, bad, len - RUSTQUEUE_BATCH_MAX * rs), -EINVAL);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 2);
}

static void rq_complete(struct kiocb *iocb, long ret)
{
}

/*
 * Which refusals count: all of a synchronous call or of one that may wait;
 * of an asynchronous try that must not wait (io_uring's first), all but
 * EAGAIN, which io_uring meets again after waiting in poll, unseen by the
 * writer.  ENOSPC and EINVAL are final there too, and count.
 */
static void rustqueue_test_refusals_counted(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	struct kiocb sync_try = { .ki_flags = IOCB_NOWAIT };
	struct kiocb async_wait = { .ki_complete = rq_complete };
	struct kiocb async_try = { .ki_flags = IOCB_NOWAIT, .ki_complete = rq_complete };
	unsigned int uring = rustqueue_counts(&async_try);
	struct kvec kv = { .iov_base = "xy", .iov_len = 2 };
	struct iov_iter from;

	KUNIT_EXPECT_EQ(test, rustqueue_counts(&sync_try), RUSTQUEUE_COUNT_ALL);
	KUNIT_EXPECT_EQ(test, rustqueue_counts(&async_wait), RUSTQUEUE_COUNT_ALL);
	KUNIT_EXPECT_EQ(test, uring, RUSTQUEUE_COUNT_REFUSED);

	rustqueue_set_capacity(t->q, 1);
	KUNIT_ASSERT_EQ(test, rq_write(t->q, "x", 1, true), 1);
	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, 1);
	KUNIT_EXPECT_EQ(test, rustqueue_write(t->q, &from, true, true, uring), -EAGAIN);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 0);
	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, 1);
	KUNIT_EXPECT_EQ(test, rustqueue_write(t->q, &from, false, true, uring), -ENOSPC);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 1);
	rustqueue_set_max_msg_size(t->q, 1);
	iov_iter_kvec(&from, ITER_SOURCE, &kv, 1, 2);
	KUNIT_EXPECT_EQ(test, rustqueue_write(t->q, &from, true, true, uring), -EINVAL);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).rejected, 2);
}

static ssize_t rq_read_drain(struct rustqueue_file *rf, void *buf, size_t size)
{
	struct kvec kv = { .iov_base = buf, .iov_len = size };
	struct iov_iter to;

	iov_iter_kvec(&to, ITER_DEST, &kv, 1, size);
	return rustqueue_read_drain(rf, &to);
}

/*
 * Drain: whole messages while they fit, then 0; one longer than the buffer
 * is streamed out, and the messages after it follow.
 */
static void rustqueue_test_drain(struct kunit *test)
{
	struct rustqueue_test *t = test->priv;
	char buf[16];

	rq_remake(test, RUSTQUEUE_DRAIN);
	rq_write_str(t->q, "one");
	rq_write_str(t->q, "two");
	rq_write_str(t->q, "three");
	KUNIT_ASSERT_EQ(test, rq_read_drain(&t->rf, buf, 7), 6);
	KUNIT_EXPECT_MEMEQ(test, buf, "onetwo", 6);
	KUNIT_ASSERT_EQ(test, rq_read_drain(&t->rf, buf, sizeof(buf)), 5);
	KUNIT_EXPECT_MEMEQ(test, buf, "three", 5);
	KUNIT_EXPECT_EQ(test, rq_read_drain(&t->rf, buf, sizeof(buf)), 0);

	rq_write_str(t->q, "0123456789");
	rq_write_str(t->q, "ab");
	KUNIT_ASSERT_EQ(test, rq_read_drain(&t->rf, buf, 4), 4);
	KUNIT_EXPECT_MEMEQ(test, buf, "0123", 4);
	KUNIT_ASSERT_EQ(test, rq_read_drain(&t->rf, buf, sizeof(buf)), 8);
	KUNIT_EXPECT_MEMEQ(test, buf, "456789ab", 8);
	KUNIT_EXPECT_EQ(test, rq_read_drain(&t->rf, buf, sizeof(buf)), 0);
	KUNIT_EXPECT_EQ(test, rq_info(t->q).in_flight, 0);
}

/* The names mkdir accepts for a queue. */
static void rustqueue_test_name_valid(struct kunit *test)
{
	static const char * const good[] = {
		"a", "0", "Queue_1", "a.b-c", "x.", "12345678901234567890123456789012",
	};
	static const char * const bad[] = {
		"", ".a", "-a", "_a", "a b", "a/b", "a:b", "caf\xc3\xa9", "a\n",
		"123456789012345678901234567890123",
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(good); i++)
		KUNIT_EXPECT_TRUE_MSG(test, rustqueue_name_valid(good[i]), "name \"%s\"", good[i]);
	for (i = 0; i < ARRAY_SIZE(bad); i++)
		KUNIT_EXPECT_FALSE_MSG(test, rustqueue_name_valid(bad[i]), "name \"%s\"", bad[i]);
}

static struct kunit_case rustqueue_test_cases[] = {
	KUNIT_CASE(rustqueue_test_fifo_order),
	KUNIT_CASE(rustqueue_test_accounting),
	KUNIT_CASE(rustqueue_test_full_queue),
	KUNIT_CASE(rustqueue_test_zero_length),
	KUNIT_CASE(rustqueue_test_too_long),
	KUNIT_CASE(rustqueue_test_largest_message),
	KUNIT_CASE(rustqueue_test_segments_make_one_message),
	KUNIT_CASE(rustqueue_test_emsgsize_keeps_message),
	KUNIT_CASE(rustqueue_test_stream_read),
	KUNIT_CASE(rustqueue_test_held_rest_is_next_packet),
	KUNIT_CASE(rustqueue_test_held_message_keeps_place),
	KUNIT_CASE(rustqueue_test_limit_lowered_during_write),
	KUNIT_CASE(rustqueue_test_set_capacity),
	KUNIT_CASE(rustqueue_test_parse),
	KUNIT_CASE(rustqueue_test_spare),
	KUNIT_CASE(rustqueue_test_destroy_frees_messages),
	KUNIT_CASE(rustqueue_test_create),
	KUNIT_CASE(rustqueue_test_file_keeps_queue),
	KUNIT_CASE(rustqueue_test_semantics),
	KUNIT_CASE(rustqueue_test_name_valid),
	KUNIT_CASE(rustqueue_test_records_round_trip),
	KUNIT_CASE(rustqueue_test_records_bad_record),
	KUNIT_CASE(rustqueue_test_records_more_than_places),
	KUNIT_CASE(rustqueue_test_push_many_limit_lowered),
	KUNIT_CASE(rustqueue_test_records_refusal_counted_once),
	KUNIT_CASE(rustqueue_test_refusals_counted),
	KUNIT_CASE(rustqueue_test_drain),
	{}
};

static struct kunit_suite rustqueue_test_suite = {
	.name = "rustqueue",
	.init = rustqueue_test_init,
	.exit = rustqueue_test_exit,
	.test_cases = rustqueue_test_cases,
};

kunit_test_suite(rustqueue_test_suite);
