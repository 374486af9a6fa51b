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
 * writing, EPOLLOUT when a place is free; O_ASYNC signals the same two
 * events, as for a pipe.  The RUSTQUEUE_IOC_INFO ioctl of
 * <linux/rustqueue.h> returns a snapshot of the queue and its counters;
 * FIONREAD gives the size the next read() needs.  The device is a stream:
 * lseek(), pread() and pwrite() fail with ESPIPE.
 *
 * Named queues: mkdir /sys/kernel/config/rustqueue/NAME creates a queue of
 * its own with the node /dev/rustqueue-NAME, 0600 root:root unless its uid,
 * gid and mode attributes say otherwise, and rmdir unlinks both; files open
 * on a removed queue keep it until the last of them is closed.  Its
 * "semantics" put every file in the default mode ("stream", the default)
 * or in packet mode ("packet"), or let each choose with O_DIRECT
 * ("direct", as on /dev/rustqueue); "records" moves many framed messages
 * per read() or write() (struct rustqueue_record), and a "drain" read()
 * returns every queued message that fits, then 0 at the empty queue.
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

#include <linux/atomic.h>
#include <linux/cdev.h>
#include <linux/cleanup.h>
#include <linux/configfs.h>
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/poll.h>
#include <linux/random.h>
#include <linux/signal.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <linux/uidgid.h>
#include <linux/uio.h>
#include <linux/wait.h>
#include <linux/xarray.h>

#include <kunit/static_stub.h>

#include <asm/ioctls.h>

#include <linux/rustqueue.h>

#define CREATE_TRACE_POINTS
#include "rustqueue_trace.h"

#define RUSTQUEUE_CAPACITY		16
#define RUSTQUEUE_CAPACITY_MAX		65536
#define RUSTQUEUE_MAX_MSG_SIZE		4096
#define RUSTQUEUE_MAX_MSG_SIZE_MAX	(1024 * 1024)
/* Named queues: how many at once, and the longest name. */
#define RUSTQUEUE_MAX_QUEUES		256
#define RUSTQUEUE_NAME_MAX		32
/*
 * Their minor numbers, taken in turn from a random start: a number given
 * up (by rmdir, or by a change of owner or mode, which moves the node to a
 * new number) comes back only after a million more, and a reload of the
 * module does not start again at the same number, so that a node left
 * over from an old queue does not open a new one.
 */
#define RUSTQUEUE_MINORS		(MINORMASK + 1)

/* How the open files of a queue read and write it. */
enum rustqueue_semantics {
	/* Every file in default mode: the original's interface. */
	RUSTQUEUE_STREAM,
	/* Every file in packet mode, as every socket of SOCK_SEQPACKET. */
	RUSTQUEUE_PACKET,
	/* Each file chooses: O_DIRECT selects packet mode (the seed queue). */
	RUSTQUEUE_DIRECT,
	/*
	 * Many whole messages per call, each framed as a struct
	 * rustqueue_record; calls wait as in packet mode.
	 */
	RUSTQUEUE_RECORDS,
	/*
	 * For the shell: a read() returns as many queued messages as fit, one
	 * after the other, and 0 once the queue is empty; writes as in the
	 * default mode.  Nothing waits.
	 */
	RUSTQUEUE_DRAIN,
};

/* The most records one step of a records-semantics write() takes on. */
#define RUSTQUEUE_BATCH_MAX		8

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

/* A queue, shared by every file open on it. */
struct rustqueue {
	/* Its creator's (module init or configfs) and one per open file. */
	struct kref ref;
	/* The node's name, "rustqueue" or "rustqueue-NAME": in tracepoints. */
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
	/* O_ASYNC files, signalled with them: fasync_helper() locks them. */
	struct fasync_struct *fasync_readers;
	struct fasync_struct *fasync_writers;
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
	/* Changes only while no file is open: files read it unlocked. */
	enum rustqueue_semantics semantics;
	unsigned int nr_files;
	/* Made by mkdir: counted in rustqueue_nr_queues until freed. */
	bool named;
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

/* The queue of /dev/rustqueue. */
static struct rustqueue *rustqueue_seed;

/* Named queues not yet freed, removed ones still open included. */
static atomic_t rustqueue_nr_queues = ATOMIC_INIT(0);

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
	kref_init(&q->ref);
	q->name = name;
	mutex_init(&q->read_lock);
	spin_lock_init(&q->lock);
	init_waitqueue_head(&q->rd_wait);
	init_waitqueue_head(&q->wr_wait);
	q->fasync_readers = NULL;
	q->fasync_writers = NULL;
	INIT_LIST_HEAD(&q->msgs);
	q->count = 0;
	q->used = 0;
	q->capacity = RUSTQUEUE_CAPACITY;
	q->max_msg_size = RUSTQUEUE_MAX_MSG_SIZE;
	q->semantics = RUSTQUEUE_DIRECT;
	q->nr_files = 0;
	q->named = false;
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

/*
 * A queue of @semantics named by @fmt, with one reference, the caller's;
 * NULL when out of memory.
 */
static __printf(2, 3) struct rustqueue *rustqueue_create(enum rustqueue_semantics semantics,
							 const char *fmt, ...)
{
	struct rustqueue *q;
	const char *name;
	va_list args;

	va_start(args, fmt);
	name = kvasprintf_const(GFP_KERNEL_ACCOUNT, fmt, args);
	va_end(args);
	if (!name)
		return NULL;
	q = kmalloc(sizeof(*q), GFP_KERNEL_ACCOUNT);
	if (!q) {
		kfree_const(name);
		return NULL;
	}
	rustqueue_queue_init(q, name);
	q->semantics = semantics;
	return q;
}

static void rustqueue_free(struct kref *ref)
{
	struct rustqueue *q = container_of(ref, struct rustqueue, ref);

	if (q->named)
		atomic_dec(&rustqueue_nr_queues);
	rustqueue_queue_destroy(q);
	kfree_const(q->name);
	kfree(q);
}

/* The last reference frees the queue and the messages nobody read. */
static void rustqueue_put(struct rustqueue *q)
{
	kref_put(&q->ref, rustqueue_free);
}

/*
 * Does a file of @q read and write whole messages, waiting for them and
 * for room: packet mode, or records semantics?  @direct: the file has
 * O_DIRECT.  @q->semantics holds still while the file is open.
 */
static bool rustqueue_packet(const struct rustqueue *q, bool direct)
{
	return q->semantics == RUSTQUEUE_PACKET || q->semantics == RUSTQUEUE_RECORDS ||
	       (q->semantics == RUSTQUEUE_DIRECT && direct);
}

/* Returns -EBUSY while a file is open on @q. */
static int rustqueue_set_semantics(struct rustqueue *q, enum rustqueue_semantics semantics)
{
	scoped_guard(spinlock, &q->lock) {
		if (q->nr_files)
			return -EBUSY;
		q->semantics = semantics;
	}
	return 0;
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

/*
 * A message was queued, or a place freed: wake a waiter, and signal the
 * O_ASYNC files, which wait on no queue, as a pipe signals its own.  A
 * wakeup passed on to the next waiter signals nobody again.
 */
static void rustqueue_notify_readers(struct rustqueue *q)
{
	rustqueue_wake_readers(q);
	kill_fasync(&q->fasync_readers, SIGIO, POLL_IN);
}

static void rustqueue_notify_writers(struct rustqueue *q)
{
	rustqueue_wake_writers(q);
	kill_fasync(&q->fasync_writers, SIGIO, POLL_OUT);
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

/* The file takes over the caller's reference to @q. */
static void rustqueue_file_init(struct rustqueue_file *rf, struct rustqueue *q)
{
	rf->q = q;
	mutex_init(&rf->lock);
	rf->msg = NULL;
	rf->pos = 0;
	rf->eof = false;
	scoped_guard(spinlock, &q->lock)
		q->nr_files++;
}

/* Give back @n places taken by rustqueue_reserve_many() or held by files. */
static void rustqueue_release_places(struct rustqueue *q, unsigned int n)
{
	scoped_guard(spinlock, &q->lock)
		WRITE_ONCE(q->used, q->used - n);
	rustqueue_notify_writers(q);
}

/* Give back a place taken by rustqueue_reserve() or held by a file. */
static void rustqueue_release_place(struct rustqueue *q)
{
	rustqueue_release_places(q, 1);
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

/* Drops the message a default-mode reader had not finished, and the queue. */
static void rustqueue_file_destroy(struct rustqueue_file *rf)
{
	struct rustqueue *q = rf->q;

	scoped_guard(mutex, &rf->lock) {
		if (rf->msg)
			rustqueue_file_drop_msg(rf);
	}
	mutex_destroy(&rf->lock);
	scoped_guard(spinlock, &q->lock)
		q->nr_files--;
	rustqueue_put(q);
}

/* Opens a file on @q, taking over the caller's reference to it. */
static int rustqueue_open_file(struct rustqueue *q, struct inode *inode, struct file *file)
{
	struct rustqueue_file *rf;

	rf = kmalloc(sizeof(*rf), GFP_KERNEL_ACCOUNT);
	if (!rf) {
		rustqueue_put(q);
		return -ENOMEM;
	}
	rustqueue_file_init(rf, q);
	file->private_data = rf;
	/*
	 * Only where each file chooses its mode does O_DIRECT select packet
	 * mode; elsewhere open() and F_SETFL refuse it.  IOCB_NOWAIT is
	 * honoured.
	 */
	if (q->semantics == RUSTQUEUE_DIRECT)
		file->f_mode |= FMODE_CAN_ODIRECT;
	file->f_mode |= FMODE_NOWAIT;

	return stream_open(inode, file);
}

/* /dev/rustqueue */
static int rustqueue_seed_open(struct inode *inode, struct file *file)
{
	kref_get(&rustqueue_seed->ref);
	return rustqueue_open_file(rustqueue_seed, inode, file);
}

/* Minor number to named queue; the entry holds no reference of its own. */
static DEFINE_XARRAY_ALLOC(rustqueue_queues);
/* The minor number tried first by the next mkdir or change of owner. */
static u32 rustqueue_next_minor;

/* The next free minor number in turn, for @q; see RUSTQUEUE_MINORS. */
static int rustqueue_minor_alloc(struct rustqueue *q, u32 *minor)
{
	int ret = xa_alloc_cyclic(&rustqueue_queues, minor, q,
				  XA_LIMIT(0, RUSTQUEUE_MINORS - 1),
				  &rustqueue_next_minor, GFP_KERNEL);

	return ret < 0 ? ret : 0;
}

/* /dev/rustqueue-NAME: the queue of the node's minor, unless it was removed. */
static int rustqueue_node_open(struct inode *inode, struct file *file)
{
	struct rustqueue *q;

	/* rmdir erases the entry before it puts the queue. */
	xa_lock(&rustqueue_queues);
	q = xa_load(&rustqueue_queues, iminor(inode));
	if (q)
		kref_get(&q->ref);
	xa_unlock(&rustqueue_queues);
	if (!q)
		return -ENXIO;
	return rustqueue_open_file(q, inode, file);
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

/* Which refusals of a reservation count as rejected. */
#define RUSTQUEUE_COUNT_REFUSED		BIT(0)	/* EINVAL (too long), ENOSPC */
#define RUSTQUEUE_COUNT_WOULDBLOCK	BIT(1)	/* EAGAIN */
#define RUSTQUEUE_COUNT_ALL		(RUSTQUEUE_COUNT_REFUSED | RUSTQUEUE_COUNT_WOULDBLOCK)

/*
 * Which refusals of the write @iocb count: all, but for EAGAIN from a try
 * that must not wait on an asynchronous kiocb.  io_uring makes such a try
 * first, and on EAGAIN waits in poll and tries again, also for a file with
 * O_NONBLOCK (the driver sets FMODE_NOWAIT): the writer never sees it.
 * RWF_NOWAIT through io_uring or aio looks the same here and is not
 * counted either.
 */
static unsigned int rustqueue_counts(struct kiocb *iocb)
{
	if ((iocb->ki_flags & IOCB_NOWAIT) && !is_sync_kiocb(iocb))
		return RUSTQUEUE_COUNT_REFUSED;
	return RUSTQUEUE_COUNT_ALL;
}

/*
 * Take up to @want places, the first for a message of @len bytes, before
 * anything is allocated or copied: wait for one in packet mode unless the
 * caller must not block.  Returns how many places were taken, or an error,
 * counted as rejected as @count (RUSTQUEUE_COUNT_*) says: not at all for a
 * later step of a records write, which returns what it queued (the next
 * call meets the refusal again, and counts it).
 */
static int rustqueue_reserve_many(struct rustqueue *q, size_t len, unsigned int want,
				  bool packet, bool nonblock, unsigned int count)
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
			ret = min(want, q->capacity - q->used);
			WRITE_ONCE(q->used, q->used + ret);
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
	if (ret < 0 && (count & (ret == -EAGAIN ? RUSTQUEUE_COUNT_WOULDBLOCK :
						  RUSTQUEUE_COUNT_REFUSED)))
		q->rejected++;
	spin_unlock(&q->lock);

	/* A wakeup picked this writer alone: pass on what room is left. */
	if (waited && rustqueue_has_room(q))
		rustqueue_wake_writers(q);
	return ret;
}

/* One place, for a message of @len bytes: 0 or an error. */
static int rustqueue_reserve(struct rustqueue *q, size_t len, bool packet, bool nonblock,
			     unsigned int count)
{
	int ret = rustqueue_reserve_many(q, len, 1, packet, nonblock, count);

	return ret < 0 ? ret : 0;
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

	rustqueue_notify_readers(q);
	return 0;
}

/*
 * Queue the messages on @batch, in order, in places reserved for them, and
 * wake readers once.  A message longer than max_msg_size (lowered since it
 * was checked) stays on @batch with those after it, counted as rejected
 * when @count and it is the first: only then does the call fail with it.
 * Returns how many were queued.
 */
static unsigned int rustqueue_push_many(struct rustqueue *q, struct list_head *batch,
					bool count)
{
	struct rustqueue_msg *msg, *next;
	unsigned int n = 0;

	spin_lock(&q->lock);
	list_for_each_entry_safe(msg, next, batch, node) {
		if (msg->len > q->max_msg_size) {
			if (count && !n)
				q->rejected++;
			break;
		}
		list_move_tail(&msg->node, &q->msgs);
		q->count++;
		q->bytes += msg->len;
		q->enqueued++;
		trace_rustqueue_enqueue(q->name, msg->len, q->count);
		n++;
	}
	spin_unlock(&q->lock);

	if (n)
		rustqueue_notify_readers(q);
	return n;
}

/*
 * Queue the bytes of @from as one message.  Returns their count, or an
 * error with the queue as it was (but for the rejected counter, which
 * counts a refusal as @count says).
 */
static ssize_t rustqueue_write(struct rustqueue *q, struct iov_iter *from,
			       bool packet, bool nonblock, unsigned int count)
{
	size_t len = iov_iter_count(from);
	struct rustqueue_msg *msg;
	int ret;

	if (!len)
		return 0;
	ret = rustqueue_reserve(q, len, packet, nonblock, count);
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

/*
 * Records semantics: the lengths of up to RUSTQUEUE_BATCH_MAX records at
 * the start of @from, which stays where it is.  Stops before the first
 * record that is malformed, unreadable or, but for the first, longer than
 * max_msg_size (the first is checked when its place is taken); returns how
 * many records came before it, with its error in @err.
 */
static unsigned int rustqueue_scan_records(struct rustqueue *q, const struct iov_iter *from,
					   u32 *lens, int *err)
{
	unsigned int max = READ_ONCE(q->max_msg_size), n;
	struct iov_iter probe = *from;
	struct rustqueue_record rec;
	size_t rest;

	*err = 0;
	for (n = 0; n < RUSTQUEUE_BATCH_MAX && iov_iter_count(&probe); n++) {
		if (iov_iter_count(&probe) < sizeof(rec)) {
			*err = -EINVAL;
			break;
		}
		if (!copy_from_iter_full(&rec, sizeof(rec), &probe)) {
			*err = -EFAULT;
			break;
		}
		rest = iov_iter_count(&probe);
		if (!rec.len || rec.flags || rec.len > rest ||
		    RUSTQUEUE_RECORD_SIZE(rec.len) - sizeof(rec) > rest || (n && rec.len > max)) {
			*err = -EINVAL;
			break;
		}
		lens[n] = rec.len;
		iov_iter_advance(&probe, RUSTQUEUE_RECORD_SIZE(rec.len) - sizeof(rec));
	}
	return n;
}

/*
 * Records semantics, one step of a write(): queue the next records of
 * @from, as many as rustqueue_scan_records() finds and places allow (waiting
 * for the first unless @nonblock), and wake readers once.  Returns the bytes
 * of the records queued, or an error when none was; @more tells whether
 * @from now starts at the next record, so that another step may follow.
 * @count: which refusals count as rejected (none but in the call's first
 * step, whose error is the call's).
 */
static ssize_t rustqueue_write_records_step(struct rustqueue *q, struct iov_iter *from,
					    bool nonblock, unsigned int count, bool *more)
{
	u32 lens[RUSTQUEUE_BATCH_MAX];
	struct rustqueue_msg *msg, *next;
	unsigned int n, got, i, queued;
	LIST_HEAD(batch);
	size_t done = 0;
	int ret, scan_err;

	*more = false;
	n = rustqueue_scan_records(q, from, lens, &scan_err);
	if (!n)
		return scan_err;
	ret = rustqueue_reserve_many(q, lens[0], n, true, nonblock, count);
	if (ret < 0)
		return ret;
	got = ret;

	ret = 0;
	for (i = 0; i < got; i++) {
		/*
		 * The lengths are the scan's: a header the caller changes since
		 * is not read again, so what is queued is what was checked.
		 */
		msg = rustqueue_msg_alloc(q, lens[i]);
		if (!msg) {
			ret = -ENOMEM;
			break;
		}
		iov_iter_advance(from, sizeof(struct rustqueue_record));
		if (!copy_from_iter_full(msg->data, lens[i], from)) {
			rustqueue_msg_recycle(q, msg);
			ret = -EFAULT;
			break;
		}
		iov_iter_advance(from, RUSTQUEUE_RECORD_SIZE(lens[i]) -
				 sizeof(struct rustqueue_record) - lens[i]);
		list_add_tail(&msg->node, &batch);
	}

	queued = i ? rustqueue_push_many(q, &batch, count & RUSTQUEUE_COUNT_REFUSED) : 0;
	if (queued < i)
		ret = -EINVAL;
	list_for_each_entry_safe(msg, next, &batch, node) {
		list_del(&msg->node);
		rustqueue_msg_recycle(q, msg);
	}
	if (queued < got)
		rustqueue_release_places(q, got - queued);
	if (!queued)
		return ret;
	for (i = 0; i < queued; i++)
		done += RUSTQUEUE_RECORD_SIZE(lens[i]);
	/* A bad record after these ends the call: the next one reports it. */
	*more = !ret && (queued < n || !scan_err);
	return done;
}

/*
 * Records semantics: queue each record of @from as one message, in order,
 * in steps of at most RUSTQUEUE_BATCH_MAX.  Returns the bytes of the
 * records queued: a record that cannot be queued ends the call, and its
 * error is the call's, and counted as @count says, only when it is the
 * first (the next write(), which starts with it, gets it otherwise), as for
 * sendmmsg().
 */
static ssize_t rustqueue_write_records(struct rustqueue *q, struct iov_iter *from, bool nonblock,
				       unsigned int count)
{
	size_t done = 0;
	ssize_t ret;
	bool more;

	do {
		ret = rustqueue_write_records_step(q, from, nonblock, done ? 0 : count, &more);
		if (ret <= 0)
			break;
		done += ret;
		cond_resched();
	} while (more && iov_iter_count(from));
	if (done)
		return done;
	return ret;
}

static ssize_t rustqueue_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;
	bool nonblock = rustqueue_nonblock(iocb);

	if (rf->q->semantics == RUSTQUEUE_RECORDS)
		return rustqueue_write_records(rf->q, from, nonblock, rustqueue_counts(iocb));
	return rustqueue_write(rf->q, from, rustqueue_packet(rf->q, iocb->ki_flags & IOCB_DIRECT),
			       nonblock, rustqueue_counts(iocb));
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

/*
 * Copy out the rest of the message this file holds, dropping it once it
 * is copied to its end.  Returns the bytes copied, or -EFAULT.
 */
static ssize_t rustqueue_copy_held(struct rustqueue_file *rf, struct iov_iter *to)
{
	size_t copied;

	lockdep_assert_held(&rf->lock);

	/* The message is this file's: copy without the queue's locks. */
	copied = copy_to_iter(rf->msg->data + rf->pos, rf->msg->len - rf->pos, to);
	if (!copied)
		return -EFAULT;
	rf->pos += copied;
	if (rf->pos == rf->msg->len)
		rustqueue_file_drop_msg(rf);
	return copied;
}

/* Default mode: stream this file's message out, taking one if it has none. */
static ssize_t rustqueue_read_stream_locked(struct rustqueue_file *rf, struct iov_iter *to)
{
	lockdep_assert_held(&rf->lock);

	if (rf->msg)
		return rustqueue_copy_held(rf, to);
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

/*
 * Take the @n messages from the front to @last off the queue at once: the
 * holder of read_lock copied them all.  They keep their places until
 * rustqueue_msgs_done().
 */
static void rustqueue_pop_many(struct rustqueue *q, struct rustqueue_msg *last,
			       unsigned int n, u64 bytes, struct list_head *taken)
{
	struct rustqueue_msg *msg;
	unsigned int depth;

	lockdep_assert_held(&q->read_lock);

	scoped_guard(spinlock, &q->lock) {
		list_cut_position(taken, &q->msgs, &last->node);
		depth = q->count;
		q->count -= n;
		q->bytes -= bytes;
		q->dequeued += n;
		if (trace_rustqueue_dequeue_enabled())
			list_for_each_entry(msg, taken, node)
				trace_rustqueue_dequeue(q->name, msg->len, --depth);
	}
}

/* A reader is done with the @n messages on @msgs: free them, then their places. */
static void rustqueue_msgs_done(struct rustqueue *q, struct list_head *msgs, unsigned int n)
{
	struct rustqueue_msg *msg, *next;

	list_for_each_entry_safe(msg, next, msgs, node)
		rustqueue_msg_recycle(q, msg);
	rustqueue_release_places(q, n);
}

/* A short record is put together here and copied out at once. */
#define RUSTQUEUE_RECORD_BOUNCE		RUSTQUEUE_RECORD_SIZE(64)

/*
 * Copy @msg out as a record of @size bytes (header, payload, padding).
 * Returns false on a fault: @to may then hold part of it.  Not inlined, so
 * that its bounce stays out of the read path's frame.
 */
static noinline_for_stack bool
rustqueue_copy_record(const struct rustqueue_msg *msg, size_t size, struct iov_iter *to)
{
	struct rustqueue_record rec = { .len = msg->len };
	size_t pad = size - sizeof(rec) - msg->len;
	u8 buf[RUSTQUEUE_RECORD_BOUNCE];

	if (size > sizeof(buf))
		return copy_to_iter(&rec, sizeof(rec), to) == sizeof(rec) &&
		       copy_to_iter(msg->data, msg->len, to) == msg->len &&
		       iov_iter_zero(pad, to) == pad;
	/* One copy to user memory costs more than building it here. */
	memcpy(buf, &rec, sizeof(rec));
	memcpy(buf + sizeof(rec), msg->data, msg->len);
	memset(buf + sizeof(rec) + msg->len, 0, pad);
	return copy_to_iter(buf, size, to) == size;
}

/*
 * Records semantics: as many whole messages as @to holds, each as a struct
 * rustqueue_record, its payload and padding, waiting for the first unless
 * @nonblock.  A buffer too short for the first fails with -EMSGSIZE; a
 * copy that faults ends the call with the messages before it, and the one
 * it faulted on stays first.
 */
static ssize_t rustqueue_read_records(struct rustqueue_file *rf, struct iov_iter *to,
				      bool nonblock)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg, *last = NULL;
	unsigned int avail, n = 0;
	size_t size, done = 0;
	u64 bytes = 0;
	LIST_HEAD(taken);
	ssize_t ret = 0;
	bool waited;

	msg = rustqueue_lock_front(q, nonblock, &waited);
	if (IS_ERR(msg))
		return PTR_ERR(msg);
	/*
	 * The first @avail messages hold still under read_lock: only its
	 * holder takes messages off, and writers add theirs after the last.
	 */
	scoped_guard(spinlock, &q->lock)
		avail = q->count;
	for (;;) {
		size = RUSTQUEUE_RECORD_SIZE(msg->len);
		if (size > iov_iter_count(to)) {
			ret = -EMSGSIZE;
			break;
		}
		if (!rustqueue_copy_record(msg, size, to)) {
			ret = -EFAULT;
			break;
		}
		done += size;
		bytes += msg->len;
		last = msg;
		if (++n == avail)
			break;
		msg = list_next_entry(msg, node);
	}
	if (n)
		rustqueue_pop_many(q, last, n, bytes, &taken);
	rustqueue_unlock_front(q, waited);

	if (!n)
		return ret;
	rustqueue_msgs_done(q, &taken, n);
	return done;
}

/*
 * Drain semantics: the rest of a message this file holds, then as many
 * whole messages as fit, one after the other; when not even the first fits
 * an empty buffer, the file takes it and streams it out over the next
 * calls.  Returns 0 once the queue is empty: nothing waits.
 */
static ssize_t rustqueue_read_drain_locked(struct rustqueue_file *rf, struct iov_iter *to)
{
	struct rustqueue *q = rf->q;
	struct rustqueue_msg *msg, *last = NULL;
	unsigned int avail, n = 0;
	size_t done = 0, copied;
	LIST_HEAD(taken);
	ssize_t ret = 0;
	u64 bytes = 0;
	bool waited;

	lockdep_assert_held(&rf->lock);

	if (rf->msg) {
		ret = rustqueue_copy_held(rf, to);
		/* Its rest first, then whole messages, if any fit after it. */
		if (ret < 0 || rf->msg)
			return ret;
		done = ret;
	}

	msg = rustqueue_lock_front(q, true, &waited);
	if (IS_ERR(msg)) {
		if (done || PTR_ERR(msg) == -EAGAIN)
			return done;
		return PTR_ERR(msg);
	}
	scoped_guard(spinlock, &q->lock)
		avail = q->count;
	for (;;) {
		if (msg->len > iov_iter_count(to)) {
			if (n || done)
				break;
			/* Not even one fits: this file takes it, as in the default mode. */
			copied = copy_to_iter(msg->data, msg->len, to);
			if (!copied) {
				ret = -EFAULT;
				break;
			}
			rustqueue_pop(q, msg);
			rf->pos = copied;
			WRITE_ONCE(rf->msg, msg);
			done = copied;
			break;
		}
		if (copy_to_iter(msg->data, msg->len, to) != msg->len) {
			ret = -EFAULT;
			break;
		}
		done += msg->len;
		bytes += msg->len;
		last = msg;
		if (++n == avail)
			break;
		msg = list_next_entry(msg, node);
	}
	if (n)
		rustqueue_pop_many(q, last, n, bytes, &taken);
	rustqueue_unlock_front(q, waited);

	if (n)
		rustqueue_msgs_done(q, &taken, n);
	if (done)
		return done;
	return ret;
}

/* A signal ends the wait for another thread's read of this file. */
static ssize_t rustqueue_read_drain(struct rustqueue_file *rf, struct iov_iter *to)
{
	ssize_t ret;

	if (mutex_lock_interruptible(&rf->lock))
		return -ERESTARTSYS;
	ret = rustqueue_read_drain_locked(rf, to);
	mutex_unlock(&rf->lock);
	return ret;
}

static ssize_t rustqueue_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;

	if (!iov_iter_count(to))
		return 0;
	switch (rf->q->semantics) {
	case RUSTQUEUE_RECORDS:
		return rustqueue_read_records(rf, to, rustqueue_nonblock(iocb));
	case RUSTQUEUE_DRAIN:
		return rustqueue_read_drain(rf, to);
	default:
		break;
	}
	if (rustqueue_packet(rf->q, iocb->ki_flags & IOCB_DIRECT))
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
	if (!rustqueue_packet(rf->q, file->f_flags & O_DIRECT) && READ_ONCE(rf->eof))
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
 * O_ASYNC, as pipe_fasync(): SIGIO (or the F_SETSIG signal) when a message
 * is queued, for a file open for reading, and when a place is freed, for
 * one open for writing.  __fput() turns it off at the last close, if
 * FASYNC is still set: the file's lock makes the two halves one step, so
 * that two fcntl() calls cannot leave the file on a list without FASYNC.
 */
static int rustqueue_fasync(int fd, struct file *file, int on)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	int ret = 0, read_ret = 0;

	guard(mutex)(&rf->lock);
	if (file->f_mode & FMODE_READ) {
		read_ret = fasync_helper(fd, file, on, &q->fasync_readers);
		ret = read_ret;
	}
	if ((file->f_mode & FMODE_WRITE) && ret >= 0) {
		ret = fasync_helper(fd, file, on, &q->fasync_writers);
		/* Only adding can fail: undo the readers' half if this call added it. */
		if (ret < 0 && read_ret > 0)
			fasync_helper(-1, file, 0, &q->fasync_readers);
	}
	return ret;
}

/*
 * FIONREAD: the bytes the next read() of @file returns, given the room;
 * -ERESTARTSYS when a signal ends the wait for another reader of @file.
 */
static int rustqueue_next_len(struct file *file)
{
	struct rustqueue_file *rf = file->private_data;
	struct rustqueue *q = rf->q;
	size_t held = 0;
	u64 len;

	scoped_cond_guard(mutex_intr, return -ERESTARTSYS, &rf->lock) {
		if (rf->msg)
			held = rf->msg->len - rf->pos;
		if (held && q->semantics != RUSTQUEUE_DRAIN)
			return held;
		if (!rustqueue_packet(q, file->f_flags & O_DIRECT) && rf->eof)
			return 0;
	}

	spin_lock(&q->lock);
	len = rustqueue_front_len_locked(q);
	/* A records read needs room for one; a drain read returns them all. */
	if (q->semantics == RUSTQUEUE_RECORDS && len)
		len = RUSTQUEUE_RECORD_SIZE(len);
	else if (q->semantics == RUSTQUEUE_DRAIN)
		len = held + q->bytes;
	spin_unlock(&q->lock);
	return min_t(u64, len, INT_MAX);
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

/* The seed's and the named queues' differ in how open() finds the queue. */
static const struct file_operations rustqueue_seed_fops = {
	.owner		= THIS_MODULE,
	.open		= rustqueue_seed_open,
	.release	= rustqueue_release,
	.read_iter	= rustqueue_read_iter,
	.write_iter	= rustqueue_write_iter,
	.poll		= rustqueue_poll,
	.fasync		= rustqueue_fasync,
	.unlocked_ioctl	= rustqueue_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static const struct file_operations rustqueue_node_fops = {
	.owner		= THIS_MODULE,
	.open		= rustqueue_node_open,
	.release	= rustqueue_release,
	.read_iter	= rustqueue_read_iter,
	.write_iter	= rustqueue_write_iter,
	.poll		= rustqueue_poll,
	.fasync		= rustqueue_fasync,
	.unlocked_ioctl	= rustqueue_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

/* The settings: the seed's in sysfs, a named queue's in configfs. */
static int rustqueue_parse(const char *buf, unsigned int max, unsigned int *val)
{
	if (kstrtouint(buf, 10, val) || *val < 1 || *val > max)
		return -EINVAL;
	return 0;
}

/* Returns -EBUSY when more than @val places are taken. */
static int rustqueue_set_capacity(struct rustqueue *q, unsigned int val)
{
	bool room;

	scoped_guard(spinlock, &q->lock) {
		if (val < q->used)
			return -EBUSY;
		room = val > q->capacity && q->used < val;
		WRITE_ONCE(q->capacity, val);
	}
	/* Room appeared for blocked writers and pollers. */
	if (room)
		rustqueue_notify_writers(q);
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

static int rustqueue_store_capacity(struct rustqueue *q, const char *buf)
{
	unsigned int val;
	int ret;

	ret = rustqueue_parse(buf, RUSTQUEUE_CAPACITY_MAX, &val);
	return ret ?: rustqueue_set_capacity(q, val);
}

static int rustqueue_store_max_msg_size(struct rustqueue *q, const char *buf)
{
	unsigned int val;
	int ret;

	ret = rustqueue_parse(buf, RUSTQUEUE_MAX_MSG_SIZE_MAX, &val);
	if (!ret)
		rustqueue_set_max_msg_size(q, val);
	return ret;
}

/*
 * sysfs, see Documentation/ABI: the seed's limits and counters in
 * /sys/class/misc/rustqueue/, a named queue's counters in
 * /sys/class/rustqueue/rustqueue-NAME/.
 */
static const struct class rustqueue_class = {
	.name = KBUILD_MODNAME,
};

/* Is @dev a named queue's node?  Else it is the seed's misc device. */
static bool rustqueue_is_node(const struct device *dev)
{
	return dev->class == &rustqueue_class;
}

/* The queue whose counters @dev shows. */
static struct rustqueue *rustqueue_of_dev(struct device *dev)
{
	/* The misc device's driver data is its struct miscdevice. */
	return rustqueue_is_node(dev) ? dev_get_drvdata(dev) : rustqueue_seed;
}

static ssize_t capacity_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(rustqueue_seed->capacity));
}

static ssize_t capacity_store(struct device *dev, struct device_attribute *attr,
			      const char *buf, size_t len)
{
	return rustqueue_store_capacity(rustqueue_seed, buf) ?: len;
}
static DEVICE_ATTR_RW(capacity);

static ssize_t max_msg_size_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	return sysfs_emit(buf, "%u\n", READ_ONCE(rustqueue_seed->max_msg_size));
}

static ssize_t max_msg_size_store(struct device *dev, struct device_attribute *attr,
				  const char *buf, size_t len)
{
	return rustqueue_store_max_msg_size(rustqueue_seed, buf) ?: len;
}
static DEVICE_ATTR_RW(max_msg_size);

static ssize_t count_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(rustqueue_of_dev(dev), &info);
	return sysfs_emit(buf, "%u\n", info.count);
}
static DEVICE_ATTR_RO(count);

static ssize_t bytes_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(rustqueue_of_dev(dev), &info);
	return sysfs_emit(buf, "%llu\n", info.bytes);
}
static DEVICE_ATTR_RO(bytes);

static ssize_t enqueued_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(rustqueue_of_dev(dev), &info);
	return sysfs_emit(buf, "%llu\n", info.enqueued);
}
static DEVICE_ATTR_RO(enqueued);

static ssize_t dequeued_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(rustqueue_of_dev(dev), &info);
	return sysfs_emit(buf, "%llu\n", info.dequeued);
}
static DEVICE_ATTR_RO(dequeued);

static ssize_t rejected_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct rustqueue_info info;

	rustqueue_get_info(rustqueue_of_dev(dev), &info);
	return sysfs_emit(buf, "%llu\n", info.rejected);
}
static DEVICE_ATTR_RO(rejected);

static struct attribute *rustqueue_limit_attrs[] = {
	&dev_attr_capacity.attr,
	&dev_attr_max_msg_size.attr,
	NULL
};

static const struct attribute_group rustqueue_limit_group = {
	.attrs = rustqueue_limit_attrs,
};

static struct attribute *rustqueue_counter_attrs[] = {
	&dev_attr_count.attr,
	&dev_attr_bytes.attr,
	&dev_attr_enqueued.attr,
	&dev_attr_dequeued.attr,
	&dev_attr_rejected.attr,
	NULL
};

static const struct attribute_group rustqueue_counter_group = {
	.attrs = rustqueue_counter_attrs,
};

static const struct attribute_group *rustqueue_seed_groups[] = {
	&rustqueue_limit_group,
	&rustqueue_counter_group,
	NULL
};

static const struct attribute_group *rustqueue_node_groups[] = {
	&rustqueue_counter_group,
	NULL
};

static struct miscdevice rustqueue_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &rustqueue_seed_fops,
	.groups	= rustqueue_seed_groups,
	.mode	= 0600,
};

/*
 * A named queue's node, /dev/rustqueue-NAME: a device of its own class in
 * one chrdev region, not a misc device, because only a device_type's
 * devnode() gives devtmpfs an owner as well as a mode.  devtmpfs applies
 * them when it creates the node, so a change of either registers a new
 * rustqueue_node.
 */
static dev_t rustqueue_devt;
static struct cdev rustqueue_cdev;

struct rustqueue_node {
	struct device dev;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

static char *rustqueue_node_devnode(const struct device *dev, umode_t *mode,
				    kuid_t *uid, kgid_t *gid)
{
	const struct rustqueue_node *node = container_of_const(dev, struct rustqueue_node, dev);

	/* Removing the node asks for its name only. */
	if (mode)
		*mode = node->mode;
	if (uid)
		*uid = node->uid;
	if (gid)
		*gid = node->gid;
	return NULL;
}

static void rustqueue_node_release(struct device *dev)
{
	kfree(container_of(dev, struct rustqueue_node, dev));
}

static const struct device_type rustqueue_node_type = {
	.groups		= rustqueue_node_groups,
	.devnode	= rustqueue_node_devnode,
	.release	= rustqueue_node_release,
};

/* A node for @q with minor number @minor, to register with device_add(). */
static struct rustqueue_node *rustqueue_node_alloc(struct rustqueue *q, u32 minor,
						   kuid_t uid, kgid_t gid, umode_t mode)
{
	struct rustqueue_node *node;

	node = kzalloc(sizeof(*node), GFP_KERNEL);
	if (!node)
		return NULL;
	node->uid = uid;
	node->gid = gid;
	node->mode = mode;
	device_initialize(&node->dev);
	node->dev.class = &rustqueue_class;
	node->dev.type = &rustqueue_node_type;
	node->dev.devt = MKDEV(MAJOR(rustqueue_devt), minor);
	/* No reference: device_del() waits for the sysfs callbacks. */
	dev_set_drvdata(&node->dev, q);
	if (dev_set_name(&node->dev, "%s", q->name)) {
		put_device(&node->dev);
		return NULL;
	}
	return node;
}

/* Registers the node of @q, with minor number @minor. */
static struct rustqueue_node *rustqueue_node_add(struct rustqueue *q, u32 minor,
						 kuid_t uid, kgid_t gid, umode_t mode)
{
	struct rustqueue_node *node = rustqueue_node_alloc(q, minor, uid, gid, mode);
	int ret;

	if (!node)
		return ERR_PTR(-ENOMEM);
	ret = device_add(&node->dev);
	if (ret) {
		put_device(&node->dev);
		return ERR_PTR(ret);
	}
	return node;
}

/*
 * configfs, see Documentation/ABI: mkdir /sys/kernel/config/rustqueue/NAME
 * creates a queue and its node, rmdir unlinks both.  Files open on the
 * queue keep it until the last of them is closed, as after mq_unlink().
 */
struct rustqueue_cfg {
	struct config_item item;
	/* The creator's reference, put when the item is released. */
	struct rustqueue *q;
	/* Serialises the changes of owner and mode, which replace the node. */
	struct mutex lock;
	/* Protected by @lock; drop_item reads it once no store can run. */
	u32 minor;
	struct rustqueue_node *node;
	kuid_t uid;
	kgid_t gid;
	umode_t mode;
};

static struct rustqueue_cfg *to_rustqueue_cfg(struct config_item *item)
{
	return container_of(item, struct rustqueue_cfg, item);
}

/* 1 to 32 of [A-Za-z0-9_.-], beginning with a letter or a digit. */
static bool rustqueue_name_valid(const char *name)
{
	size_t i, len = strnlen(name, RUSTQUEUE_NAME_MAX + 1);

	if (!len || len > RUSTQUEUE_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!isascii(name[i]))
			return false;
		if (isalnum(name[i]))
			continue;
		if (!i || !strchr("_.-", name[i]))
			return false;
	}
	return true;
}

/*
 * Give the node of @cfg a new owner, group or mode (NULL: keep that one) by
 * registering it again, with a new minor number: whatever still refers to
 * the old node (a copy made with mknod, an O_PATH descriptor, a bind mount)
 * then opens nothing, as after rmdir, and the new owner and mode are the
 * only way in.  Files already open keep working.  If the new node cannot
 * be registered, the old one comes back; if that fails too, the queue has
 * no node until the next write of uid, gid or mode registers one.
 */
static int rustqueue_cfg_set_node(struct rustqueue_cfg *cfg, const kuid_t *uid,
				  const kgid_t *gid, const umode_t *mode)
{
	struct rustqueue_node *node;
	kuid_t new_uid;
	kgid_t new_gid;
	umode_t new_mode;
	u32 minor;
	int ret;

	guard(mutex)(&cfg->lock);
	new_uid = uid ? *uid : cfg->uid;
	new_gid = gid ? *gid : cfg->gid;
	new_mode = mode ? *mode : cfg->mode;
	if (uid_eq(new_uid, cfg->uid) && gid_eq(new_gid, cfg->gid) &&
	    new_mode == cfg->mode && cfg->node)
		return 0;
	/* Allocate first: only device_add() can fail once the old node is gone. */
	ret = rustqueue_minor_alloc(cfg->q, &minor);
	if (ret)
		return ret;
	node = rustqueue_node_alloc(cfg->q, minor, new_uid, new_gid, new_mode);
	if (!node) {
		xa_erase(&rustqueue_queues, minor);
		return -ENOMEM;
	}
	if (cfg->node)
		device_unregister(&cfg->node->dev);
	ret = device_add(&node->dev);
	if (ret) {
		put_device(&node->dev);
		xa_erase(&rustqueue_queues, minor);
		cfg->node = rustqueue_node_add(cfg->q, cfg->minor, cfg->uid, cfg->gid, cfg->mode);
		if (IS_ERR(cfg->node))
			cfg->node = NULL;
		return ret;
	}
	xa_erase(&rustqueue_queues, cfg->minor);
	cfg->minor = minor;
	cfg->node = node;
	cfg->uid = new_uid;
	cfg->gid = new_gid;
	cfg->mode = new_mode;
	return 0;
}

static ssize_t rustqueue_cfg_capacity_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_rustqueue_cfg(item)->q->capacity));
}

static ssize_t rustqueue_cfg_capacity_store(struct config_item *item, const char *page,
					    size_t len)
{
	return rustqueue_store_capacity(to_rustqueue_cfg(item)->q, page) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, capacity);

static ssize_t rustqueue_cfg_max_msg_size_show(struct config_item *item, char *page)
{
	return sysfs_emit(page, "%u\n", READ_ONCE(to_rustqueue_cfg(item)->q->max_msg_size));
}

static ssize_t rustqueue_cfg_max_msg_size_store(struct config_item *item, const char *page,
						size_t len)
{
	return rustqueue_store_max_msg_size(to_rustqueue_cfg(item)->q, page) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, max_msg_size);

static const char * const rustqueue_semantics_names[] = {
	[RUSTQUEUE_STREAM]	= "stream",
	[RUSTQUEUE_PACKET]	= "packet",
	[RUSTQUEUE_DIRECT]	= "direct",
	[RUSTQUEUE_RECORDS]	= "records",
	[RUSTQUEUE_DRAIN]	= "drain",
};

static ssize_t rustqueue_cfg_semantics_show(struct config_item *item, char *page)
{
	struct rustqueue *q = to_rustqueue_cfg(item)->q;
	enum rustqueue_semantics semantics;

	scoped_guard(spinlock, &q->lock)
		semantics = q->semantics;
	return sysfs_emit(page, "%s\n", rustqueue_semantics_names[semantics]);
}

static ssize_t rustqueue_cfg_semantics_store(struct config_item *item, const char *page,
					     size_t len)
{
	int ret = sysfs_match_string(rustqueue_semantics_names, page);

	if (ret < 0)
		return ret;
	return rustqueue_set_semantics(to_rustqueue_cfg(item)->q, ret) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, semantics);

/*
 * The IDs are those of the caller's user namespace: configfs hands a store
 * no file whose opener's credentials could be used instead.  The files are
 * 0644 and owned by the initial namespace's root, so only a writer with
 * that root's rights gets here.
 */
static ssize_t rustqueue_cfg_uid_show(struct config_item *item, char *page)
{
	struct rustqueue_cfg *cfg = to_rustqueue_cfg(item);

	guard(mutex)(&cfg->lock);
	return sysfs_emit(page, "%u\n", from_kuid_munged(current_user_ns(), cfg->uid));
}

static ssize_t rustqueue_cfg_uid_store(struct config_item *item, const char *page, size_t len)
{
	unsigned int val;
	kuid_t uid;

	if (kstrtouint(page, 10, &val))
		return -EINVAL;
	uid = make_kuid(current_user_ns(), val);
	if (!uid_valid(uid))
		return -EINVAL;
	return rustqueue_cfg_set_node(to_rustqueue_cfg(item), &uid, NULL, NULL) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, uid);

static ssize_t rustqueue_cfg_gid_show(struct config_item *item, char *page)
{
	struct rustqueue_cfg *cfg = to_rustqueue_cfg(item);

	guard(mutex)(&cfg->lock);
	return sysfs_emit(page, "%u\n", from_kgid_munged(current_user_ns(), cfg->gid));
}

static ssize_t rustqueue_cfg_gid_store(struct config_item *item, const char *page, size_t len)
{
	unsigned int val;
	kgid_t gid;

	if (kstrtouint(page, 10, &val))
		return -EINVAL;
	gid = make_kgid(current_user_ns(), val);
	if (!gid_valid(gid))
		return -EINVAL;
	return rustqueue_cfg_set_node(to_rustqueue_cfg(item), NULL, &gid, NULL) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, gid);

static ssize_t rustqueue_cfg_mode_show(struct config_item *item, char *page)
{
	struct rustqueue_cfg *cfg = to_rustqueue_cfg(item);

	guard(mutex)(&cfg->lock);
	return sysfs_emit(page, "%04o\n", cfg->mode);
}

/* Permission bits only; 0 is refused, as devtmpfs would make it 0600. */
static ssize_t rustqueue_cfg_mode_store(struct config_item *item, const char *page, size_t len)
{
	unsigned int val;
	umode_t mode;

	if (kstrtouint(page, 8, &val) || !val || val > 0777)
		return -EINVAL;
	mode = val;
	return rustqueue_cfg_set_node(to_rustqueue_cfg(item), NULL, NULL, &mode) ?: len;
}
CONFIGFS_ATTR(rustqueue_cfg_, mode);

static struct configfs_attribute *rustqueue_cfg_attrs[] = {
	&rustqueue_cfg_attr_capacity,
	&rustqueue_cfg_attr_max_msg_size,
	&rustqueue_cfg_attr_semantics,
	&rustqueue_cfg_attr_uid,
	&rustqueue_cfg_attr_gid,
	&rustqueue_cfg_attr_mode,
	NULL
};

static void rustqueue_cfg_release(struct config_item *item)
{
	struct rustqueue_cfg *cfg = to_rustqueue_cfg(item);

	rustqueue_put(cfg->q);
	mutex_destroy(&cfg->lock);
	kfree(cfg);
}

static struct configfs_item_operations rustqueue_cfg_item_ops = {
	.release	= rustqueue_cfg_release,
};

static const struct config_item_type rustqueue_cfg_type = {
	.ct_item_ops	= &rustqueue_cfg_item_ops,
	.ct_attrs	= rustqueue_cfg_attrs,
	.ct_owner	= THIS_MODULE,
};

/* mkdir: a queue in stream semantics, its node 0600 root:root. */
static struct config_item *rustqueue_cfg_make_item(struct config_group *group, const char *name)
{
	struct rustqueue_node *node;
	struct rustqueue_cfg *cfg;
	int ret;

	if (!rustqueue_name_valid(name))
		return ERR_PTR(-EINVAL);
	/* Given back when the queue is freed, at the last close after rmdir. */
	if (!atomic_add_unless(&rustqueue_nr_queues, 1, RUSTQUEUE_MAX_QUEUES))
		return ERR_PTR(-ENOSPC);
	cfg = kzalloc(sizeof(*cfg), GFP_KERNEL_ACCOUNT);
	if (!cfg) {
		atomic_dec(&rustqueue_nr_queues);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&cfg->lock);
	cfg->uid = GLOBAL_ROOT_UID;
	cfg->gid = GLOBAL_ROOT_GID;
	cfg->mode = 0600;
	cfg->q = rustqueue_create(RUSTQUEUE_STREAM, KBUILD_MODNAME "-%s", name);
	if (!cfg->q) {
		atomic_dec(&rustqueue_nr_queues);
		ret = -ENOMEM;
		goto out_free_cfg;
	}
	cfg->q->named = true;
	ret = rustqueue_minor_alloc(cfg->q, &cfg->minor);
	if (ret)
		goto out_put_queue;
	node = rustqueue_node_add(cfg->q, cfg->minor, cfg->uid, cfg->gid, cfg->mode);
	if (IS_ERR(node)) {
		ret = PTR_ERR(node);
		goto out_erase_minor;
	}
	cfg->node = node;
	config_item_init_type_name(&cfg->item, name, &rustqueue_cfg_type);
	return &cfg->item;

out_erase_minor:
	xa_erase(&rustqueue_queues, cfg->minor);
out_put_queue:
	rustqueue_put(cfg->q);
out_free_cfg:
	mutex_destroy(&cfg->lock);
	kfree(cfg);
	return ERR_PTR(ret);
}

/* rmdir: no open() finds the queue after this; open files keep it. */
static void rustqueue_cfg_drop_item(struct config_group *group, struct config_item *item)
{
	struct rustqueue_cfg *cfg = to_rustqueue_cfg(item);

	xa_erase(&rustqueue_queues, cfg->minor);
	/*
	 * No store runs any more: rmdir marked the directory dead before it
	 * called us, and stores check that under the same semaphore.
	 */
	if (cfg->node)
		device_unregister(&cfg->node->dev);
	cfg->node = NULL;
	config_item_put(item);
}

static struct configfs_group_operations rustqueue_subsys_group_ops = {
	.make_item	= rustqueue_cfg_make_item,
	.drop_item	= rustqueue_cfg_drop_item,
};

static const struct config_item_type rustqueue_subsys_type = {
	.ct_group_ops	= &rustqueue_subsys_group_ops,
	.ct_owner	= THIS_MODULE,
};

static struct configfs_subsystem rustqueue_subsys = {
	.su_group = {
		.cg_item = {
			.ci_namebuf	= KBUILD_MODNAME,
			.ci_type	= &rustqueue_subsys_type,
		},
	},
};

static int __init rustqueue_init(void)
{
	int ret;

	rustqueue_seed = rustqueue_create(RUSTQUEUE_DIRECT, KBUILD_MODNAME);
	if (!rustqueue_seed)
		return -ENOMEM;
	ret = class_register(&rustqueue_class);
	if (ret)
		goto out_put_seed;
	rustqueue_next_minor = get_random_u32_below(RUSTQUEUE_MINORS);
	ret = alloc_chrdev_region(&rustqueue_devt, 0, RUSTQUEUE_MINORS, KBUILD_MODNAME);
	if (ret)
		goto out_unregister_class;
	cdev_init(&rustqueue_cdev, &rustqueue_node_fops);
	rustqueue_cdev.owner = THIS_MODULE;
	ret = cdev_add(&rustqueue_cdev, rustqueue_devt, RUSTQUEUE_MINORS);
	if (ret)
		goto out_unregister_region;
	ret = misc_register(&rustqueue_misc);
	if (ret)
		goto out_del_cdev;
	config_group_init(&rustqueue_subsys.su_group);
	mutex_init(&rustqueue_subsys.su_mutex);
	ret = configfs_register_subsystem(&rustqueue_subsys);
	if (ret)
		goto out_deregister_misc;
	return 0;

out_deregister_misc:
	mutex_destroy(&rustqueue_subsys.su_mutex);
	misc_deregister(&rustqueue_misc);
out_del_cdev:
	cdev_del(&rustqueue_cdev);
out_unregister_region:
	unregister_chrdev_region(rustqueue_devt, RUSTQUEUE_MINORS);
out_unregister_class:
	class_unregister(&rustqueue_class);
out_put_seed:
	rustqueue_put(rustqueue_seed);
	return ret;
}
module_init(rustqueue_init);

/* Every queue directory pins the module: none is left here. */
static void __exit rustqueue_exit(void)
{
	configfs_unregister_subsystem(&rustqueue_subsys);
	mutex_destroy(&rustqueue_subsys.su_mutex);
	misc_deregister(&rustqueue_misc);
	cdev_del(&rustqueue_cdev);
	unregister_chrdev_region(rustqueue_devt, RUSTQUEUE_MINORS);
	class_unregister(&rustqueue_class);
	/* No file is open any more. */
	rustqueue_put(rustqueue_seed);
}
module_exit(rustqueue_exit);

MODULE_DESCRIPTION("Bounded FIFO message queue character device");
MODULE_LICENSE("GPL");

#ifdef CONFIG_RUSTQUEUE_KUNIT_TEST
#include "rustqueue_kunit.c"
#endif
