// SPDX-License-Identifier: GPL-2.0-only
/*
 * rustqueue: a bounded FIFO message queue behind a misc character device.
 *
 * /dev/rustqueue holds one queue, shared by every open file, of at most
 * RUSTQUEUE_CAPACITY (16) messages of at most RUSTQUEUE_MAX_MSG_SIZE (4096)
 * bytes each.  The interface is that of the rustqueue Rust teaching module,
 * which this driver carries into the kernel tree as C.
 *
 * write(): the bytes of one call (all segments of a writev()) become one
 *   message at the tail of the queue, and the call returns their count.
 *   A write of zero bytes returns 0 and queues nothing.  A write of more
 *   than RUSTQUEUE_MAX_MSG_SIZE bytes fails with EINVAL before anything is
 *   allocated or copied; one to a full queue fails with ENOSPC; an
 *   unreadable buffer gives EFAULT.  A failed write queues nothing.
 *
 * read(): the first read() of an open file that finds the queue non-empty
 *   dequeues the front message and keeps it with that file.  Reads then
 *   stream it out over as many calls as the buffer size needs, and once it
 *   is consumed every further read() of that file returns 0 (end of file).
 *   A read() from an empty queue returns 0 and leaves the file as it was.
 *   A message that was taken but not fully read is dropped on close().
 *   So each open() yields at most one message.
 *
 * Neither call ever blocks on the queue: a full queue is an error, an empty
 * one an end of file.  The device is a stream: lseek(), pread() and
 * pwrite() fail with ESPIPE.
 *
 * From a shell:
 *
 *	echo "first message" > /dev/rustqueue
 *	echo "second message" > /dev/rustqueue
 *	cat /dev/rustqueue		# first message
 *	cat /dev/rustqueue		# second message
 *	cat /dev/rustqueue		# nothing: the queue is empty
 *
 * From a program (error handling left out):
 *
 *	fd = open("/dev/rustqueue", O_WRONLY);
 *	write(fd, msg, len);		// one message
 *	close(fd);
 *	fd = open("/dev/rustqueue", O_RDONLY);
 *	while ((n = read(fd, buf, sizeof(buf))) > 0)
 *		consume(buf, n);	// the front message, in pieces
 *	close(fd);
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cleanup.h>
#include <linux/fs.h>
#include <linux/list.h>
#include <linux/lockdep.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/overflow.h>
#include <linux/slab.h>
#include <linux/uio.h>

#define RUSTQUEUE_CAPACITY	16
#define RUSTQUEUE_MAX_MSG_SIZE	4096

/* One message: header and payload in a single allocation. */
struct rustqueue_msg {
	struct list_head node;
	size_t len;
	u8 data[] __counted_by(len);
};

/* The queue shared by every open file. */
struct rustqueue {
	/* Serialises every change to the queue. */
	struct mutex lock;
	/* Protected by @lock. */
	struct list_head msgs;
	unsigned int count;
};

static struct rustqueue rustqueue = {
	.lock = __MUTEX_INITIALIZER(rustqueue.lock),
	.msgs = LIST_HEAD_INIT(rustqueue.msgs),
};

/* Per open file: the message its first read() took off the queue. */
struct rustqueue_file {
	/* Serialises readers of this file. */
	struct mutex lock;
	/* Protected by @lock. */
	struct rustqueue_msg *msg;
	size_t pos;
	bool eof;
};

static void rustqueue_push_locked(struct rustqueue *q, struct rustqueue_msg *msg)
{
	lockdep_assert_held(&q->lock);

	list_add_tail(&msg->node, &q->msgs);
	q->count++;
}

static struct rustqueue_msg *rustqueue_pop_locked(struct rustqueue *q)
{
	struct rustqueue_msg *msg;

	lockdep_assert_held(&q->lock);

	msg = list_first_entry_or_null(&q->msgs, struct rustqueue_msg, node);
	if (msg) {
		list_del(&msg->node);
		q->count--;
	}
	return msg;
}

static int rustqueue_open(struct inode *inode, struct file *file)
{
	struct rustqueue_file *rf;

	rf = kzalloc(sizeof(*rf), GFP_KERNEL_ACCOUNT);
	if (!rf)
		return -ENOMEM;
	mutex_init(&rf->lock);
	file->private_data = rf;

	return stream_open(inode, file);
}

static int rustqueue_release(struct inode *inode, struct file *file)
{
	struct rustqueue_file *rf = file->private_data;

	kfree(rf->msg);
	mutex_destroy(&rf->lock);
	kfree(rf);
	return 0;
}

static ssize_t rustqueue_write_iter(struct kiocb *iocb, struct iov_iter *from)
{
	struct rustqueue *q = &rustqueue;
	size_t len = iov_iter_count(from);
	struct rustqueue_msg *msg;
	unsigned int count;

	if (!len)
		return 0;
	/* Decide from the length alone: nothing is allocated for a bad size. */
	if (len > RUSTQUEUE_MAX_MSG_SIZE)
		return -EINVAL;

	msg = kmalloc(struct_size(msg, data, len), GFP_KERNEL_ACCOUNT);
	if (!msg)
		return -ENOMEM;
	msg->len = len;
	if (!copy_from_iter_full(msg->data, len, from)) {
		kfree(msg);
		return -EFAULT;
	}

	scoped_guard(mutex, &q->lock) {
		if (q->count >= RUSTQUEUE_CAPACITY) {
			pr_debug("queue full, rejecting write\n");
			kfree(msg);
			return -ENOSPC;
		}
		rustqueue_push_locked(q, msg);
		count = q->count;
	}

	pr_debug("enqueued %zu bytes (%u in queue)\n", len, count);
	return len;
}

static ssize_t rustqueue_read_iter(struct kiocb *iocb, struct iov_iter *to)
{
	struct rustqueue_file *rf = iocb->ki_filp->private_data;
	struct rustqueue *q = &rustqueue;
	size_t copied;

	if (!iov_iter_count(to))
		return 0;

	guard(mutex)(&rf->lock);

	if (!rf->msg) {
		if (rf->eof)
			return 0;
		scoped_guard(mutex, &q->lock) {
			rf->msg = rustqueue_pop_locked(q);
			if (!rf->msg)
				return 0;
			pr_debug("dequeued (%u remaining)\n", q->count);
		}
		rf->pos = 0;
	}

	/* The message is this file's now: copy without the queue lock. */
	copied = copy_to_iter(rf->msg->data + rf->pos, rf->msg->len - rf->pos, to);
	if (!copied)
		return -EFAULT;
	rf->pos += copied;
	if (rf->pos == rf->msg->len) {
		kfree(rf->msg);
		rf->msg = NULL;
		rf->eof = true;
	}
	return copied;
}

static const struct file_operations rustqueue_fops = {
	.owner		= THIS_MODULE,
	.open		= rustqueue_open,
	.release	= rustqueue_release,
	.read_iter	= rustqueue_read_iter,
	.write_iter	= rustqueue_write_iter,
	.llseek		= noop_llseek,
};

static struct miscdevice rustqueue_misc = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= KBUILD_MODNAME,
	.fops	= &rustqueue_fops,
	.mode	= 0600,
};

static int __init rustqueue_init(void)
{
	pr_debug("module loaded (capacity %u messages)\n", RUSTQUEUE_CAPACITY);
	return misc_register(&rustqueue_misc);
}
module_init(rustqueue_init);

static void __exit rustqueue_exit(void)
{
	struct rustqueue *q = &rustqueue;
	struct rustqueue_msg *msg;

	misc_deregister(&rustqueue_misc);

	/* No file is open any more: free what nobody read. */
	guard(mutex)(&q->lock);
	while ((msg = rustqueue_pop_locked(q)))
		kfree(msg);
}
module_exit(rustqueue_exit);

MODULE_DESCRIPTION("Bounded FIFO message queue character device");
MODULE_LICENSE("GPL");
