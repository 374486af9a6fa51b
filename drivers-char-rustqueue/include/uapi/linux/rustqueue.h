/* SPDX-License-Identifier: GPL-2.0-only WITH Linux-syscall-note */
/*
 * User-space interface of /dev/rustqueue, a bounded FIFO message queue
 * (drivers/char/rustqueue.c; Documentation/userspace-api/rustqueue.rst).
 */
#ifndef _UAPI_LINUX_RUSTQUEUE_H
#define _UAPI_LINUX_RUSTQUEUE_H

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * struct rustqueue_info - one consistent snapshot of the queue
 * @capacity: most messages the queue holds, @count and @in_flight together
 * @max_msg_size: longest message a write() may queue, in bytes
 * @count: messages in the queue, waiting for a reader
 * @next_len: length of the first of them, 0 when @count is 0
 * @bytes: total length of the messages in the queue
 * @enqueued: messages queued since the driver was loaded
 * @dequeued: messages taken off the queue by readers since then
 * @rejected: writes refused since then because the message was too long
 *	(EINVAL) or the queue full (ENOSPC, EAGAIN)
 * @in_flight: places of @capacity taken by messages outside the queue:
 *	writes copying their message in, and messages that a default-mode
 *	file began to read and has not finished or closed
 * @pad: zero
 * @reserved: zero
 *
 * Filled by the %RUSTQUEUE_IOC_INFO ioctl, every field at the same instant
 * under the queue's lock.  The layout is the same for 32-bit and 64-bit
 * callers.
 */
struct rustqueue_info {
	__u32 capacity;
	__u32 max_msg_size;
	__u32 count;
	__u32 next_len;
	__u64 bytes;
	__u64 enqueued;
	__u64 dequeued;
	__u64 rejected;
	__u32 in_flight;
	__u32 pad;
	__u64 reserved[3];
};

/**
 * struct rustqueue_record - one message in a buffer of a "records" queue
 * @len: length of the message, 1 to the queue's max_msg_size (at most
 *	1 MiB, so that RUSTQUEUE_RECORD_SIZE() cannot wrap)
 * @flags: zero in what read() returns; write() fails with EINVAL unless
 *	it is zero
 *
 * On a named queue whose semantics are "records", read() returns and
 * write() takes buffers of whole records: each is this header, then @len
 * bytes of the message, then zero to seven bytes of padding up to the next
 * multiple of %RUSTQUEUE_RECORD_ALIGN, so that the next header is aligned.
 * RUSTQUEUE_RECORD_SIZE(@len) is a record's size, padding included: a
 * buffer read can be written back as it is.
 */
struct rustqueue_record {
	__u32 len;
	__u32 flags;
};

#define RUSTQUEUE_RECORD_ALIGN	8
#define RUSTQUEUE_RECORD_SIZE(len)					\
	(sizeof(struct rustqueue_record) +				\
	 (((len) + RUSTQUEUE_RECORD_ALIGN - 1) & ~(RUSTQUEUE_RECORD_ALIGN - 1)))

#define RUSTQUEUE_IOC_MAGIC	0xB9

#define RUSTQUEUE_IOC_INFO	_IOR(RUSTQUEUE_IOC_MAGIC, 0x00, struct rustqueue_info)

#endif /* _UAPI_LINUX_RUSTQUEUE_H */
