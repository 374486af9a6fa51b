// SPDX-License-Identifier: GPL-2.0-only
/*
 * rustqueue: a bounded FIFO message queue behind a misc character device.
 *
 * /dev/rustqueue holds one queue, shared by every open file, of at most
 * "capacity" messages (default 16) of at most "max_msg_size" bytes each
 * (default 4096).  Both limits are set at run time in
 * /sys/class/misc/rustqueue/.  The interface started as that of the
 * rustqueue Rust teaching module, which this driver carries into the kernel
 * tree as C; an open without O_DIRECT still behaves exactly like it.
 *
 * write(), in both modes: the bytes of one call (all segments of a writev())
 *   become one message at the tail of the queue, and the call returns their
 *   count.  A write of zero bytes returns 0 and queues nothing.  A message
 *   longer than max_msg_size fails with EINVAL before anything is allocated
 *   or copied; an unreadable buffer gives EFAULT.  A failed write queues
 *   nothing.
 *
 * Default mode (the original's):
 *   - a write to a full queue fails with ENOSPC;
 *   - the first read() of an open file that finds the queue non-empty
 *     dequeues the front message and keeps it with that file.  Reads then
 *     stream it out over as many calls as the buffer size needs, and once it
 *     is consumed every further read() of that file returns 0 (end of file).
 *     A read() from an empty queue returns 0 and leaves the file as it was.
 *     A message that was taken but not fully read is dropped on close().
 *   Nothing blocks: a full queue is an error, an empty one an end of file.
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
 * Every message goes to exactly one reader, in FIFO order.  poll() reports
 * EPOLLIN when a read() would return data at once and EPOLLOUT when the
 * queue has room.  The RUSTQUEUE_IOC_INFO ioctl of <linux/rustqueue.h>
 * returns a snapshot of the queue and its counters; FIONREAD gives the
 * length of the next message.  The device is a stream: lseek(), pread()
 * and pwrite() fail with ESPIPE.
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

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

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

#include <asm/ioctls.h>

#include <linux/rustqueue.h>

#define CREATE_TRACE_POINTS
#include <trace/events/rustqueue.h>

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
	/*
	 * Messages on @msgs plus those a packet reader has taken off it and
	 * is still copying out: a message leaves the queue when its read
	 * succeeds, and goes back to the front when the copy fails.
	 */
	unsigned int count;
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
	bool eof;
};

static bool rustqueue_msg_is_inline(const struct rustqueue_msg *msg)
{
	return msg->data == msg->inline_data;
}

static void rustqueue_msg_free(struct rustqueue_msg *msg)
{
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

static void rustqueue_queue_init(struct rustqueue *q)
{
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->rd_wait);
	init_waitqueue_head(&q->wr_wait);
	INIT_LIST_HEAD(&q->msgs);
	q->count = 0;
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
}

/* Lockless checks for wait conditions and poll(); the lock decides. */
static bool rustqueue_has_msg(struct rustqueue *q)
{
	return !list_empty(&q->msgs);
}

static bool rustqueue_has_room(struct rustqueue *q)
{
	return READ_ONCE(q->count) < READ_ONCE(q->capacity);
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

static void rustqueue_push_locked(struct rustqueue *q, struct rustqueue_msg *msg)
{
	lockdep_assert_held(&q->lock);

	list_add_tail(&msg->node, &q->msgs);
	WRITE_ONCE(q->count, q->count + 1);
	q->bytes += msg->len;
	q->enqueued++;
	trace_rustqueue_enqueue(msg->len, q->count);
}

/* A reader owns @msg from now on: release its slot. */
static void rustqueue_commit_locked(struct rustqueue *q, struct rustqueue_msg *msg)
{
	lockdep_assert_held(&q->lock);

	WRITE_ONCE(q->count, q->count - 1);
	q->bytes -= msg->len;
	q->dequeued++;
	trace_rustqueue_dequeue(msg->len, q->count);
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

/* Drops the message a default-mode reader had not finished. */
static void rustqueue_file_destroy(struct rustqueue_file *rf)
{
	rustqueue_msg_free(rf->msg);
	rf->msg = NULL;
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
 * Queue @msg, waiting for room in packet mode unless the caller must not
 * block.  Returns 0 once queued; otherwise the caller still owns @msg.
 */
static int rustqueue_enqueue(struct rustqueue *q, struct rustqueue_msg *msg,
			     bool packet, bool nonblock)
{
	size_t len = msg->len;
	bool waited = false;
	unsigned int count;
	bool room;

	spin_lock(&q->lock);
	while (q->count >= q->capacity) {
		if (!packet || nonblock) {
			q->rejected++;
			spin_unlock(&q->lock);
			pr_debug("queue full, rejecting write\n");
			return packet ? -EAGAIN : -ENOSPC;
		}
		spin_unlock(&q->lock);
		if (wait_event_interruptible_exclusive(q->wr_wait, rustqueue_has_room(q)))
			return -ERESTARTSYS;
		waited = true;
		spin_lock(&q->lock);
	}
	rustqueue_push_locked(q, msg);
	count = q->count;
	room = count < q->capacity;
	spin_unlock(&q->lock);

	rustqueue_wake_readers(q);
	/* A wakeup picked this writer alone: pass on what room is left. */
	if (waited && room)
		rustqueue_wake_writers(q);
	pr_debug("enqueued %zu bytes (%u in queue)\n", len, count);
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
	/* Decide from the length alone: nothing is allocated for a bad size. */
	if (len > READ_ONCE(q->max_msg_size)) {
		scoped_guard(spinlock, &q->lock)
			q->rejected++;
		return -EINVAL;
	}

	msg = rustqueue_msg_alloc(q, len);
	if (!msg)
		return -ENOMEM;
	if (!copy_from_iter_full(msg->data, len, from)) {
		rustqueue_msg_recycle(q, msg);
		return -EFAULT;
	}

	ret = rustqueue_enqueue(q, msg, packet, nonblock);
	if (ret) {
		rustqueue_msg_recycle(q, msg);
		return ret;
	}
	return len;
}

static ssize_t rustqueue_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;

	return rustqueue_write(rf->q, from, iocb->ki_flags & IOCB_DIRECT,
			       rustqueue_nonblock(iocb));
}

/*
 * Take the front message off the list for a reader with room for @size
 * bytes, waiting for one unless @nonblock.  Its slot stays taken until
 * rustqueue_commit() or rustqueue_put_back().
 */
static struct rustqueue_msg *rustqueue_take(struct rustqueue *q, size_t size, bool nonblock)
{
	struct rustqueue_msg *msg;
	bool waited = false;
	bool more;

	spin_lock(&q->lock);
	while (!(msg = rustqueue_front_locked(q))) {
		spin_unlock(&q->lock);
		if (nonblock)
			return ERR_PTR(-EAGAIN);
		if (wait_event_interruptible_exclusive(q->rd_wait, rustqueue_has_msg(q)))
			return ERR_PTR(-ERESTARTSYS);
		waited = true;
		spin_lock(&q->lock);
	}
	if (msg->len > size) {
		msg = ERR_PTR(-EMSGSIZE);
		more = true;
	} else {
		list_del(&msg->node);
		more = rustqueue_has_msg(q);
	}
	spin_unlock(&q->lock);

	/* A wakeup picked this reader alone: pass on what it leaves. */
	if (waited && more)
		rustqueue_wake_readers(q);
	return msg;
}

/* The copy to the reader failed: nothing is lost, @msg is first again. */
static void rustqueue_put_back(struct rustqueue *q, struct rustqueue_msg *msg)
{
	scoped_guard(spinlock, &q->lock)
		list_add(&msg->node, &q->msgs);
	rustqueue_wake_readers(q);
}

/* The reader has @msg: free its slot.  Returns the messages left. */
static unsigned int rustqueue_commit(struct rustqueue *q, struct rustqueue_msg *msg)
{
	unsigned int count;

	scoped_guard(spinlock, &q->lock) {
		rustqueue_commit_locked(q, msg);
		count = q->count;
	}
	rustqueue_wake_writers(q);
	return count;
}

/* Default mode: stream this file's message out, taking one if it has none. */
static ssize_t rustqueue_read_stream(struct rustqueue_file *rf, struct iov_iter *to)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg;
	unsigned int count;
	size_t copied;

	guard(mutex)(&rf->lock);

	if (rf->msg) {
		/* The message is this file's: copy without the queue lock. */
		copied = copy_to_iter(rf->msg->data + rf->pos, rf->msg->len - rf->pos, to);
		if (!copied)
			return -EFAULT;
	} else {
		if (rf->eof)
			return 0;
		msg = rustqueue_take(q, SIZE_MAX, true);
		if (IS_ERR(msg))
			return 0;	/* -EAGAIN: the queue is empty */
		copied = copy_to_iter(msg->data, msg->len, to);
		if (!copied) {
			/* Nothing reached the reader: the message stays first. */
			rustqueue_put_back(q, msg);
			return -EFAULT;
		}
		count = rustqueue_commit(q, msg);
		pr_debug("dequeued (%u remaining)\n", count);
		WRITE_ONCE(rf->msg, msg);
		rf->pos = 0;
	}

	rf->pos += copied;
	if (rf->pos == rf->msg->len) {
		rustqueue_msg_recycle(q, rf->msg);
		WRITE_ONCE(rf->msg, NULL);
		WRITE_ONCE(rf->eof, true);
	}
	return copied;
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

	guard(mutex)(&rf->lock);
	if (!rf->msg)
		return 0;
	rest = rf->msg->len - rf->pos;
	if (rest > iov_iter_count(to))
		return -EMSGSIZE;
	if (copy_to_iter(rf->msg->data + rf->pos, rest, to) != rest)
		return -EFAULT;
	rustqueue_msg_recycle(rf->q, rf->msg);
	WRITE_ONCE(rf->msg, NULL);
	return rest;
}

/* Packet mode: dequeue one whole message, waiting for one if allowed. */
static ssize_t rustqueue_read_packet(struct rustqueue_file *rf, struct iov_iter *to,
				     bool nonblock)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg;
	unsigned int count;
	ssize_t ret;
	size_t len;

	ret = rustqueue_read_held(rf, to);
	if (ret)
		return ret;

	msg = rustqueue_take(q, iov_iter_count(to), nonblock);
	if (IS_ERR(msg))
		return PTR_ERR(msg);

	/* Off the list, the message is this reader's: copy without the lock. */
	len = msg->len;
	if (copy_to_iter(msg->data, len, to) != len) {
		rustqueue_put_back(q, msg);
		return -EFAULT;
	}
	count = rustqueue_commit(q, msg);
	rustqueue_msg_recycle(q, msg);
	pr_debug("dequeued (%u remaining)\n", count);
	return len;
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

/* Would a read() of @file return data without blocking? */
static bool rustqueue_file_readable(struct file *file)
{
	struct rustqueue_file *rf = file->private_data;

	if (READ_ONCE(rf->msg))
		return true;
	if (!(file->f_flags & O_DIRECT) && READ_ONCE(rf->eof))
		return false;
	return rustqueue_has_msg(rf->q);
}

static __poll_t rustqueue_poll(struct file *file, poll_table *wait)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	__poll_t mask = 0;

	poll_wait(file, &q->rd_wait, wait);
	poll_wait(file, &q->wr_wait, wait);

	if (rustqueue_file_readable(file))
		mask |= EPOLLIN | EPOLLRDNORM;
	if (rustqueue_has_room(q))
		mask |= EPOLLOUT | EPOLLWRNORM;
	return mask;
}

/* FIONREAD: the bytes the next read() of @file returns, given the room. */
static int rustqueue_next_len(struct file *file)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	size_t len;

	guard(mutex)(&rf->lock);
	if (rf->msg)
		return rf->msg->len - rf->pos;
	if (!(file->f_flags & O_DIRECT) && rf->eof)
		return 0;

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

	switch (cmd) {
	case RUSTQUEUE_IOC_INFO:
		rustqueue_get_info(rf->q, &info);
		if (copy_to_user(argp, &info, sizeof(info)))
			return -EFAULT;
		return 0;
	case FIONREAD:
		return put_user(rustqueue_next_len(file), (int __user *)argp);
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
	.llseek		= noop_llseek,
};

/* sysfs: /sys/class/misc/rustqueue/, see Documentation/ABI. */
static int rustqueue_parse(const char *buf, unsigned int max, unsigned int *val)
{
	if (kstrtouint(buf, 10, val) || *val < 1 || *val > max)
		return -EINVAL;
	return 0;
}

/* Returns -EBUSY when more than @val messages are queued. */
static int rustqueue_set_capacity(struct rustqueue *q, unsigned int val)
{
	scoped_guard(spinlock, &q->lock) {
		if (val < q->count)
			return -EBUSY;
		WRITE_ONCE(q->capacity, val);
	}
	/* Room may have appeared for blocked writers and pollers. */
	rustqueue_wake_writers(q);
	return 0;
}

/* Messages already queued keep their length. */
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

	rustqueue_queue_init(&rustqueue);
	ret = misc_register(&rustqueue_misc);
	if (ret) {
		rustqueue_queue_destroy(&rustqueue);
		return ret;
	}
	pr_debug("module loaded (capacity %u messages)\n", RUSTQUEUE_CAPACITY);
	return 0;
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
