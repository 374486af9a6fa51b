// SPDX-License-Identifier: GPL-2.0-only
/*
 * rustqueue: a bounded FIFO message queue behind a misc character device.
 *
 * /dev/rustqueue holds one queue, shared by every open file, of at most
 * "capacity" messages (default 16) of at most "max_msg_size" bytes each
 * (default 4096).  Both limits are set at run time in
 * /sys/class/misc/rustqueue/.  The interface started as that of the
 * rustqueue Rust teaching module, which this driver carries into the kernel
 * tree as C; an open without O_DIRECT keeps the module's interface.
 *
 * A place of the capacity is taken by each queued message, by each write
 * from the moment it found room until its message is queued, and by each
 * message a default-mode file began to read until it is read or the file
 * closed: the capacity bounds the memory the queue pins.
 *
 * write(), in both modes: the bytes of one call (all segments of a writev())
 *   become one message at the tail of the queue, and the call returns their
 *   count.  A write of zero bytes returns 0 and queues nothing.  A message
 *   longer than max_msg_size fails with EINVAL, and a write that finds no
 *   place fails or waits, before anything is allocated or copied; an
 *   unreadable buffer gives EFAULT.  A failed write queues nothing.
 *
 * Default mode (the original's):
 *   - a write to a full queue fails with ENOSPC;
 *   - the first read() of an open file that finds the queue non-empty
 *     dequeues the front message and keeps it with that file.  Reads then
 *     stream it out over as many calls as the buffer size needs; every
 *     further default-mode read() of that file returns 0 (end of file),
 *     also after switching to packet mode and back.  A read() from an
 *     empty queue returns 0 and leaves the file as it was.  A message that
 *     was taken but not fully read is dropped on close().
 *   Nothing waits for a message or for room: a full queue is an error, an
 *   empty one an end of file.
 *
 * Packet mode, chosen per open file with O_DIRECT at open() or later with
 * fcntl(F_SETFL), as for a pipe (see pipe(2)):
 *   - each read() dequeues one whole message and returns its length.  A
 *     buffer shorter than the front message fails with EMSGSIZE and leaves
 *     the message queued;
 *   - a read() from an empty queue and a write() to a full one block; with
 *     O_NONBLOCK or RWF_NOWAIT they fail with EAGAIN instead;
 *   - a signal ends a blocked call with ERESTARTSYS (EINTR, or a restart
 *     under SA_RESTART) and nothing is queued or dequeued by it.
 *
 * Every message goes to exactly one reader, in FIFO order: readers take
 * turns under a mutex, as a pipe's do, and a message leaves the queue only
 * once its copy to the reader succeeded.  poll() reports, for a file open
 * for reading, EPOLLIN when a read() would not wait (a default-mode file
 * that has taken no message waits for one), and for a file open for
 * writing, EPOLLOUT when a place is free.  The RUSTQUEUE_IOC_INFO ioctl of
 * <linux/rustqueue.h> returns a snapshot of the queue and its counters;
 * FIONREAD gives the length of the next message.  The device is a stream:
 * lseek(), pread() and pwrite() fail with ESPIPE.
 *
 * From a shell:
 *
 *	echo "first message" > /dev/rustqueue
 *	cat /dev/rustqueue			# first message
 *	dd if=/dev/rustqueue iflag=direct bs=4096 count=1	# waits for one
 *
 * From a program in packet mode (error handling left out):
 *
 *	fd = open("/dev/rustqueue", O_RDWR | O_DIRECT);
 *	write(fd, msg, len);			// one message, waits for room
 *	n = read(fd, buf, sizeof(buf));		// one whole message, or waits
 */

#include <linux/cleanup.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/uio.h>
#include <linux/wait.h>

#include <kunit/static_stub.h>

#include <asm/ioctls.h>

#include <linux/rustqueue.h>

#define CREATE_TRACE_POINTS
#include "rustqueue_trace.h"

#define RUSTQUEUE_CAPACITY		16
#define RUSTQUEUE_CAPACITY_MAX		65536
#define RUSTQUEUE_MAX_MSG_SIZE		4096
#define RUSTQUEUE_MAX_MSG_SIZE_MAX	(1024 * 1024)

/*
 * One message.  A short one is a single allocation; a longer one keeps its
 * payload in an allocation of its own, so that a payload of a power-of-two
 * size fills its slab object instead of spilling into one twice its size.
 */
struct rustqueue_msg {
	struct list_head node;
	u32 len;
	/* The size of the allocation @data is in: what a reuse can hold. */
	u32 room;
	/* @inline_data, or the payload's own allocation. */
	u8 *data;
	u8 inline_data[];
};

/* The largest message, header included, kept in a single allocation. */
#define RUSTQUEUE_INLINE_MAX		256
/* The largest payload allocation kept for reuse. */
#define RUSTQUEUE_SPARE_MAX		PAGE_SIZE

/* The queue shared by every open file. */
struct rustqueue {
	/* Names the queue in tracepoints. */
	const char *name;
	/*
	 * Readers take turns: the holder owns the front message, which stays
	 * queued while it is copied out and leaves only once the copy
	 * succeeded, so a failed copy cannot let a later message overtake it.
	 */
	struct mutex read_lock;
	/*
	 * Serialises every change to the queue and its counters.  Held for a
	 * few list and counter updates only: nothing under it sleeps, copies
	 * or allocates.
	 */
	spinlock_t lock;
	/* Readers wait here for a message, writers for room. */
	wait_queue_head_t rd_wait;
	wait_queue_head_t wr_wait;
	/* Protected by @lock. */
	struct list_head msgs;
	/* Messages on @msgs. */
	unsigned int count;
	/*
	 * Places of @capacity taken: by the messages on @msgs, by writes
	 * between rustqueue_reserve() and rustqueue_push(), and by messages
	 * readers hold.  One counter, changed only when a place is taken or
	 * given back (not when a message joins or leaves @msgs): a lockless
	 * rustqueue_has_room() reads a value the queue really had, where a
	 * sum of two counters read apart could be one too high and leave a
	 * writer asleep beside a free place.
	 */
	unsigned int used;
	unsigned int capacity;
	unsigned int max_msg_size;
	u64 bytes;
	u64 enqueued;
	u64 dequeued;
	u64 rejected;
	/*
	 * A message a reader has freed, kept for the next write of the same
	 * allocation size (as a pipe keeps a page): a steady stream then
	 * allocates nothing, and the reader's CPU does not free into the
	 * writer's slab.  Taken and replaced with xchg(), without @lock.
	 */
	struct rustqueue_msg *spare;
};

static struct rustqueue rustqueue;

/* Per open file: the message a default-mode read() took off the queue. */
struct rustqueue_file {
	struct rustqueue *q;
	/* Serialises readers of this file. */
	struct mutex lock;
	/* Protected by @lock; poll() peeks at them without it. */
	struct rustqueue_msg *msg;
	size_t pos;
	/* A default-mode read() took this file's one message. */
	bool eof;
};

static bool rustqueue_msg_is_inline(const struct rustqueue_msg *msg)
{
	return msg->data == msg->inline_data;
}

static void rustqueue_msg_free(struct rustqueue_msg *msg)
{
	KUNIT_STATIC_STUB_REDIRECT(rustqueue_msg_free, msg);

	if (!msg)
		return;
	if (!rustqueue_msg_is_inline(msg))
		kvfree(msg->data);
	kfree(msg);
}

/* A message for @len bytes of payload: the spare if it fits, else a new one. */
static struct rustqueue_msg *rustqueue_msg_alloc(struct rustqueue *q, size_t len)
{
	struct rustqueue_msg *msg;
	size_t size = struct_size(msg, inline_data, len);
	bool inline_data = size <= RUSTQUEUE_INLINE_MAX;
	size_t room = inline_data ? size : len;

	/* The slab object it takes anyway: the spare then fits any equal class. */
	if (room <= RUSTQUEUE_SPARE_MAX)
		room = kmalloc_size_roundup(room);

	msg = xchg(&q->spare, NULL);
	if (msg && msg->room == room && rustqueue_msg_is_inline(msg) == inline_data) {
		msg->len = len;
		return msg;
	}
	rustqueue_msg_free(msg);

	if (inline_data) {
		/* The whole slab object: a later reuse may use all of it. */
		msg = kmalloc(room, GFP_KERNEL_ACCOUNT);
		if (!msg)
			return NULL;
		msg->data = msg->inline_data;
	} else {
		msg = kmalloc(sizeof(*msg), GFP_KERNEL_ACCOUNT);
		if (!msg)
			return NULL;
		msg->data = kvmalloc(room, GFP_KERNEL_ACCOUNT);
		if (!msg->data) {
			kfree(msg);
			return NULL;
		}
	}
	msg->len = len;
	msg->room = room;
	return msg;
}

/* A reader is done with @msg: keep it as the spare, or free it. */
static void rustqueue_msg_recycle(struct rustqueue *q, struct rustqueue_msg *msg)
{
	if (msg->room <= RUSTQUEUE_SPARE_MAX)
		msg = xchg(&q->spare, msg);
	rustqueue_msg_free(msg);
}

static void rustqueue_queue_init(struct rustqueue *q, const char *name)
{
	q->name = name;
	mutex_init(&q->read_lock);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->rd_wait);
	init_waitqueue_head(&q->wr_wait);
	INIT_LIST_HEAD(&q->msgs);
	q->count = 0;
	q->used = 0;
	q->capacity = RUSTQUEUE_CAPACITY;
	q->max_msg_size = RUSTQUEUE_MAX_MSG_SIZE;
	q->bytes = 0;
	q->enqueued = 0;
	q->dequeued = 0;
	q->rejected = 0;
	q->spare = NULL;
}

/* Free what nobody read; nobody may use @q any more. */
static void rustqueue_queue_destroy(struct rustqueue *q)
{
	struct rustqueue_msg *msg, *next;

	list_for_each_entry_safe(msg, next, &q->msgs, node)
		rustqueue_msg_free(msg);
	INIT_LIST_HEAD(&q->msgs);
	rustqueue_msg_free(q->spare);
	q->spare = NULL;
	mutex_destroy(&q->read_lock);
}

/* Lockless checks for wait conditions and poll(); the lock decides. */
static bool rustqueue_has_msg(struct rustqueue *q)
{
	return !list_empty(&q->msgs);
}

static bool rustqueue_has_room(struct rustqueue *q)
{
	return READ_ONCE(q->used) < READ_ONCE(q->capacity);
}

static bool rustqueue_has_room_locked(struct rustqueue *q)
{
	lockdep_assert_held(&q->lock);

	return q->used < q->capacity;
}

/*
 * Most calls find nobody waiting: skip the wait queue's lock then.  The
 * barrier in wq_has_sleeper() pairs with the one in prepare_to_wait_event(),
 * so a waiter either is on the queue here or sees the change when it checks.
 */
static void rustqueue_wake_readers(struct rustqueue *q)
{
	if (wq_has_sleeper(&q->rd_wait))
		wake_up_interruptible_poll(&q->rd_wait, EPOLLIN | EPOLLRDNORM);
}

static void rustqueue_wake_writers(struct rustqueue *q)
{
	if (wq_has_sleeper(&q->wr_wait))
		wake_up_interruptible_poll(&q->wr_wait, EPOLLOUT | EPOLLWRNORM);
}

/* The message at the front of the queue, or NULL. */
static struct rustqueue_msg *rustqueue_front_locked(struct rustqueue *q)
{
	lockdep_assert_held(&q->lock);

	return list_first_entry_or_null(&q->msgs, struct rustqueue_msg, node);
}

/* The length of the message at the front, 0 when there is none. */
static size_t rustqueue_front_len_locked(struct rustqueue *q)
{
	struct rustqueue_msg *msg = rustqueue_front_locked(q);

	return msg ? msg->len : 0;
}

static void rustqueue_file_init(struct rustqueue_file *rf, struct rustqueue *q)
{
	rf->q = q;
	mutex_init(&rf->lock);
	rf->msg = NULL;
	rf->pos = 0;
	rf->eof = false;
}

/* Give back a place taken by rustqueue_reserve() or held by a file. */
static void rustqueue_release_place(struct rustqueue *q)
{
	scoped_guard(spinlock, &q->lock)
		WRITE_ONCE(q->used, q->used - 1);
	rustqueue_wake_writers(q);
}

/*
 * A reader is done with @msg, taken off the queue by rustqueue_pop(): the
 * message goes first, then its place, so that the memory of the queue
 * never exceeds what its places allow.
 */
static void rustqueue_msg_done(struct rustqueue *q, struct rustqueue_msg *msg)
{
	rustqueue_msg_recycle(q, msg);
	rustqueue_release_place(q);
}

/* The file is done with the message it held: free it and its place. */
static void rustqueue_file_drop_msg(struct rustqueue_file *rf)
{
	lockdep_assert_held(&rf->lock);

	rustqueue_msg_done(rf->q, rf->msg);
	WRITE_ONCE(rf->msg, NULL);
}

/* Drops the message a default-mode reader had not finished. */
static void rustqueue_file_destroy(struct rustqueue_file *rf)
{
	scoped_guard(mutex, &rf->lock) {
		if (rf->msg)
			rustqueue_file_drop_msg(rf);
	}
	mutex_destroy(&rf->lock);
}

static int rustqueue_open(struct inode *inode, struct file *file)
{
	struct rustqueue_file *rf;

	rf = kmalloc(sizeof(*rf), GFP_KERNEL_ACCOUNT);
	if (!rf)
		return -ENOMEM;
	rustqueue_file_init(rf, &rustqueue);
	file->private_data = rf;
	/* O_DIRECT selects packet mode; IOCB_NOWAIT is honoured. */
	file->f_mode |= FMODE_CAN_ODIRECT | FMODE_NOWAIT;

	return stream_open(inode, file);
}

static int rustqueue_release(struct inode *inode, struct file *file)
{
	struct rustqueue_file *rf = file->private_data;

	rustqueue_file_destroy(rf);
	kfree(rf);
	return 0;
}

static bool rustqueue_nonblock(struct kiocb *iocb)
{
	return (iocb->ki_filp->f_flags & O_NONBLOCK) || (iocb->ki_flags & IOCB_NOWAIT);
}

/*
 * Take a place for a message of @len bytes, before anything is allocated or
 * copied: wait for one in packet mode unless the caller must not block.
 */
static int rustqueue_reserve(struct rustqueue *q, size_t len, bool packet, bool nonblock)
{
	bool waited = false;
	int ret = 0;

	spin_lock(&q->lock);
	for (;;) {
		if (len > q->max_msg_size) {
			ret = -EINVAL;
			break;
		}
		if (rustqueue_has_room_locked(q)) {
			WRITE_ONCE(q->used, q->used + 1);
			break;
		}
		if (!packet || nonblock) {
			ret = packet ? -EAGAIN : -ENOSPC;
			break;
		}
		spin_unlock(&q->lock);
		if (wait_event_interruptible_exclusive(q->wr_wait, rustqueue_has_room(q)))
			return -ERESTARTSYS;
		waited = true;
		spin_lock(&q->lock);
	}
	if (ret)
		q->rejected++;
	spin_unlock(&q->lock);

	/* A wakeup picked this writer alone: pass on what room is left. */
	if (waited && rustqueue_has_room(q))
		rustqueue_wake_writers(q);
	return ret;
}

/* Queue @msg in the place rustqueue_reserve() took for it. */
static int rustqueue_push(struct rustqueue *q, struct rustqueue_msg *msg)
{
	spin_lock(&q->lock);
	/* The limit holds from the moment its store returns. */
	if (msg->len > q->max_msg_size) {
		q->rejected++;
		spin_unlock(&q->lock);
		return -EINVAL;
	}
	list_add_tail(&msg->node, &q->msgs);
	q->count++;
	q->bytes += msg->len;
	q->enqueued++;
	trace_rustqueue_enqueue(q->name, msg->len, q->count);
	spin_unlock(&q->lock);

	rustqueue_wake_readers(q);
	return 0;
}

/*
 * Queue the bytes of @from as one message.  Returns their count, or an
 * error with the queue as it was (but for the rejected counter).
 */
static ssize_t rustqueue_write(struct rustqueue *q, struct iov_iter *from,
			       bool packet, bool nonblock)
{
	size_t len = iov_iter_count(from);
	struct rustqueue_msg *msg;
	int ret;

	if (!len)
		return 0;
	ret = rustqueue_reserve(q, len, packet, nonblock);
	if (ret)
		return ret;

	msg = rustqueue_msg_alloc(q, len);
	if (!msg) {
		ret = -ENOMEM;
		goto out_release;
	}
	if (!copy_from_iter_full(msg->data, len, from)) {
		ret = -EFAULT;
		goto out_free_msg;
	}
	ret = rustqueue_push(q, msg);
	if (ret)
		goto out_free_msg;
	return len;

out_free_msg:
	rustqueue_msg_recycle(q, msg);
out_release:
	rustqueue_release_place(q);
	return ret;
}

static ssize_t rustqueue_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;

	return rustqueue_write(rf->q, from, iocb->ki_flags & IOCB_DIRECT,
			       rustqueue_nonblock(iocb));
}

/*
 * Become the reader of the queue: returns its front message with
 * @q->read_lock held, waiting for one unless @nonblock.  The message stays
 * queued and first until rustqueue_pop(); rustqueue_unlock_front() ends
 * the turn.  @waited tells whether this reader slept for the message.
 */
static struct rustqueue_msg *rustqueue_lock_front(struct rustqueue *q, bool nonblock,
						  bool *waited)
{
	struct rustqueue_msg *msg;

	*waited = false;
	if (mutex_lock_interruptible(&q->read_lock))
		return ERR_PTR(-ERESTARTSYS);
	for (;;) {
		scoped_guard(spinlock, &q->lock)
			msg = rustqueue_front_locked(q);
		if (msg)
			return msg;
		mutex_unlock(&q->read_lock);
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		if (wait_event_interruptible_exclusive(q->rd_wait, rustqueue_has_msg(q)))
			return ERR_PTR(-ERESTARTSYS);
		*waited = true;
		if (mutex_lock_interruptible(&q->read_lock)) {
			/* Pass on the wakeup this reader was picked for. */
			rustqueue_wake_readers(q);
			return ERR_PTR(-ERESTARTSYS);
		}
	}
}

static void rustqueue_unlock_front(struct rustqueue *q, bool waited)
{
	mutex_unlock(&q->read_lock);
	/* A wakeup picked this reader alone: pass on what it leaves. */
	if (waited && rustqueue_has_msg(q))
		rustqueue_wake_readers(q);
}

/*
 * The reader's copy of the front message @msg succeeded: take it off the
 * queue.  The message keeps its place until rustqueue_msg_done(), for a
 * default-mode file until it has read the message to the end or is closed.
 */
static void rustqueue_pop(struct rustqueue *q, struct rustqueue_msg *msg)
{
	lockdep_assert_held(&q->read_lock);

	scoped_guard(spinlock, &q->lock) {
		list_del(&msg->node);
		q->count--;
		q->bytes -= msg->len;
		q->dequeued++;
		trace_rustqueue_dequeue(q->name, msg->len, q->count);
	}
}

/* Default mode: take the front message for this file and copy what fits. */
static ssize_t rustqueue_read_first(struct rustqueue_file *rf, struct iov_iter *to)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg;
	size_t copied;
	bool waited;

	lockdep_assert_held(&rf->lock);

	msg = rustqueue_lock_front(q, true, &waited);
	if (msg == ERR_PTR(-EAGAIN))
		return 0;	/* the queue is empty: end of file, for now */
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	copied = copy_to_iter(msg->data, msg->len, to);
	if (!copied) {
		/* Nothing reached the reader: the message stays first. */
		rustqueue_unlock_front(q, waited);
		return -EFAULT;
	}
	rustqueue_pop(q, msg);
	rustqueue_unlock_front(q, waited);

	/* One message per open file, also across F_SETFL to packet and back. */
	WRITE_ONCE(rf->eof, true);
	if (copied < msg->len) {
		rf->pos = copied;
		WRITE_ONCE(rf->msg, msg);
	} else {
		rustqueue_msg_done(q, msg);
	}
	return copied;
}

/* Default mode: stream this file's message out, taking one if it has none. */
static ssize_t rustqueue_read_stream_locked(struct rustqueue_file *rf, struct iov_iter *to)
{
	size_t copied;

	lockdep_assert_held(&rf->lock);

	if (rf->msg) {
		/* The message is this file's: copy without the queue's locks. */
		copied = copy_to_iter(rf->msg->data + rf->pos, rf->msg->len - rf->pos, to);
		if (!copied)
			return -EFAULT;
		rf->pos += copied;
		if (rf->pos == rf->msg->len)
			rustqueue_file_drop_msg(rf);
		return copied;
	}
	if (rf->eof)
		return 0;
	return rustqueue_read_first(rf, to);
}

/* A signal ends the wait for another thread's read of this file. */
static ssize_t rustqueue_read_stream(struct rustqueue_file *rf, struct iov_iter *to)
{
	ssize_t ret;

	if (mutex_lock_interruptible(&rf->lock))
		return -ERESTARTSYS;
	ret = rustqueue_read_stream_locked(rf, to);
	mutex_unlock(&rf->lock);
	return ret;
}

/*
 * Packet mode, for a file that holds the rest of a message a default-mode
 * read() began: that rest is its next packet.  Returns 0 when it holds none.
 */
static ssize_t rustqueue_read_held(struct rustqueue_file *rf, struct iov_iter *to)
{
	size_t rest;

	if (!READ_ONCE(rf->msg))
		return 0;

	scoped_cond_guard(mutex_intr, return -ERESTARTSYS, &rf->lock) {
		if (!rf->msg)
			return 0;
		rest = rf->msg->len - rf->pos;
		if (rest > iov_iter_count(to))
			return -EMSGSIZE;
		if (copy_to_iter(rf->msg->data + rf->pos, rest, to) != rest)
			return -EFAULT;
		rustqueue_file_drop_msg(rf);
	}
	return rest;
}

/* Packet mode: dequeue one whole message, waiting for one if allowed. */
static ssize_t rustqueue_read_packet(struct rustqueue_file *rf, struct iov_iter *to,
				     bool nonblock)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg;
	bool waited;
	ssize_t ret;

	ret = rustqueue_read_held(rf, to);
	if (ret)
		return ret;

	msg = rustqueue_lock_front(q, nonblock, &waited);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	/* The front stays the front under read_lock: copy without q->lock. */
	ret = msg->len;
	if (msg->len > iov_iter_count(to))
		ret = -EMSGSIZE;
	else if (copy_to_iter(msg->data, msg->len, to) != msg->len)
		ret = -EFAULT;
	else
		rustqueue_pop(q, msg);
	rustqueue_unlock_front(q, waited);

	if (ret > 0)
		rustqueue_msg_done(q, msg);
	return ret;
}

static ssize_t rustqueue_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;

	if (!iov_iter_count(to))
		return 0;
	if (iocb->ki_flags & IOCB_DIRECT)
		return rustqueue_read_packet(rf, to, rustqueue_nonblock(iocb));
	return rustqueue_read_stream(rf, to);
}

/*
 * Would a read() of @file not wait?  A default-mode file that has taken no
 * message reads 0 from an empty queue at once, but is reported readable
 * only once a message is queued, so that "poll, then read" gets one (when
 * no other reader takes it in between: the rst says so).
 */
static bool rustqueue_file_readable(struct file *file)
{
	struct rustqueue_file *rf = file->private_data;

	if (READ_ONCE(rf->msg))
		return true;
	/* End of file: read() returns 0 at once, and for good. */
	if (!(file->f_flags & O_DIRECT) && READ_ONCE(rf->eof))
		return true;
	return rustqueue_has_msg(rf->q);
}

/* As pipe_poll(): each direction only for a file open for it. */
static __poll_t rustqueue_poll(struct file *file, poll_table *wait)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	__poll_t mask = 0;

	if (file->f_mode & FMODE_READ) {
		poll_wait(file, &q->rd_wait, wait);
		if (rustqueue_file_readable(file))
			mask |= EPOLLIN | EPOLLRDNORM;
	}
	if (file->f_mode & FMODE_WRITE) {
		poll_wait(file, &q->wr_wait, wait);
		if (rustqueue_has_room(q))
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	return mask;
}

/*
 * FIONREAD: the bytes the next read() of @file returns, given the room;
 * -ERESTARTSYS when a signal ends the wait for another reader of @file.
 */
static int rustqueue_next_len(struct file *file)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	size_t len;

	scoped_cond_guard(mutex_intr, return -ERESTARTSYS, &rf->lock) {
		if (rf->msg)
			return rf->msg->len - rf->pos;
		if (!(file->f_flags & O_DIRECT) && rf->eof)
			return 0;
	}

	spin_lock(&q->lock);
	len = rustqueue_front_len_locked(q);
	spin_unlock(&q->lock);
	return len;
}

static void rustqueue_get_info(struct rustqueue *q, struct rustqueue_info *info)
{
	memset(info, 0, sizeof(*info));

	spin_lock(&q->lock);
	info->capacity = q->capacity;
	info->max_msg_size = q->max_msg_size;
	info->count = q->count;
	info->in_flight = q->used - q->count;
	info->next_len = rustqueue_front_len_locked(q);
	info->bytes = q->bytes;
	info->enqueued = q->enqueued;
	info->dequeued = q->dequeued;
	info->rejected = q->rejected;
	spin_unlock(&q->lock);
}

static long rustqueue_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct rustqueue_file *rf = file->private_data;
	void __user *argp = (void __user *)arg;
	struct rustqueue_info info;
	int len;

	switch (cmd) {
	case RUSTQUEUE_IOC_INFO:
		rustqueue_get_info(rf->q, &info);
		if (copy_to_user(argp, &info, sizeof(info)))
			return -EFAULT;
		return 0;
	case FIONREAD:
		len = rustqueue_next_len(file);
		if (len < 0)
			return len;
		return put_user(len, (int __user *)argp);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations rustqueue_fops = {
	.owner		= THIS_MODULE,
	.open		= rustqueue_open,
	.release	= rustqueue_release,
	.read_iter	= rustqueue_read_iter,
	.write_iter	= rustqueue_write_iter,
	.poll		= rustqueue_poll,
	.unlocked_ioctl	= rustqueue_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* sysfs: /sys/class/misc/rustqueue/, see Documentation/ABI. */
static int rustqueue_parse(const char *buf, unsigned int max, unsigned int *val)
{
	if (kstrtouint(buf, 10, val) || *val < 1 || *val > max)
		return -EINVAL;
	return 0;
}

/* Returns -EBUSY when more than @val places are taken. */
static int rustqueue_set_capacity(struct rustqueue *q, unsigned int val)
{
	scoped_guard(spinlock, &q->lock) {
		if (val < q->used)
			return -EBUSY;
		WRITE_ONCE(q->capacity, val);
	}
	/* Room may have appeared for blocked writers and pollers. */
	rustqueue_wake_writers(q);
	return 0;
}

/*
 * Messages already queued keep their length; a write still copying its
 * message is checked again when it queues it (rustqueue_push()).
 */
static void rustqueue_set_max_msg_size(struct rustqueue *q, unsigned int val)
{
	spin_lock(&q->lock);
	WRITE_ONCE(q->max_msg_size, val);
	spin_unlock(&q->lock);
}

static ssize_t capacity_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(rustqueue.capacity));
}

static ssize_t capacity_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	unsigned int val;
	int ret;

	ret = rustqueue_parse(buf, RUSTQUEUE_CAPACITY_MAX, &val);
	if (!ret)
		ret = rustqueue_set_capacity(&rustqueue, val);
	return ret ?: len;
}
static DEVICE_ATTR_RW(capacity);

static ssize_t max_msg_size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(rustqueue.max_msg_size));
}

static ssize_t max_msg_size_store(struct device *dev, struct device_attribute *attr,
				  const char *buf, size_t len)
{
	unsigned int val;
	int ret;

	ret = rustqueue_parse(buf, RUSTQUEUE_MAX_MSG_SIZE_MAX, &val);
	if (ret)
		return ret;
	rustqueue_set_max_msg_size(&rustqueue, val);
	return len;
}
static DEVICE_ATTR_RW(max_msg_size);

static ssize_t count_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(&rustqueue, &info);
	return sysfs_emit(buf, "%u\n", info.count);
}
static DEVICE_ATTR_RO(count);

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(&rustqueue, &info);
	return sysfs_emit(buf, "%llu\n", info.bytes);
}
static DEVICE_ATTR_RO(bytes);

static ssize_t enqueued_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(&rustqueue, &info);
	return sysfs_emit(buf, "%llu\n", info.enqueued);
}
static DEVICE_ATTR_RO(enqueued);

static ssize_t dequeued_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(&rustqueue, &info);
	return sysfs_emit(buf, "%llu\n", info.dequeued);
}
static DEVICE_ATTR_RO(dequeued);

static ssize_t rejected_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(&rustqueue, &info);
	return sysfs_emit(buf, "%llu\n", info.rejected);
}
static DEVICE_ATTR_RO(rejected);

static struct attribute *rustqueue_attrs[] = {
	&dev_attr_capacity.attr,
	&dev_attr_max_msg_size.attr,
	&dev_attr_count.attr,
	&dev_attr_bytes.attr,
	&dev_attr_enqueued.attr,
	&dev_attr_dequeued.attr,
	&dev_attr_rejected.attr,
	NULL
};
ATTRIBUTE_GROUPS(rustqueue);

static struct miscdevice rustqueue_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &rustqueue_fops,
	.groups	= rustqueue_groups,
	.mode	= 0600,
};

static int __init rustqueue_init(void)
{
	int ret;

	rustqueue_queue_init(&rustqueue, KBUILD_MODNAME);
	ret = misc_register(&rustqueue_misc);
	if (ret)
		rustqueue_queue_destroy(&rustqueue);
	return ret;
}
module_init(rustqueue_init);

static void __exit rustqueue_exit(void)
{
	misc_deregister(&rustqueue_misc);
	/* No file is open any more. */
	rustqueue_queue_destroy(&rustqueue);
}
module_exit(rustqueue_exit);

MODULE_DESCRIPTION("Bounded FIFO message queue character device");
MODULE_LICENSE("GPL");

#ifdef CONFIG_RUSTQUEUE_KUNIT_TEST
#include "rustqueue_kunit.c"
#endif
