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
 * @capacity: most messages the queue holds
 * @max_msg_size: longest message a write() may queue, in bytes
 * @count: messages in the queue
 * @next_len: length of the message at the front, 0 when there is none
 * @bytes: total length of the messages in the queue
 * @enqueued: messages queued since the driver was loaded
 * @dequeued: messages taken off the queue by readers since then
 * @rejected: writes refused since then because the message was too long
 *	(EINVAL) or the queue full (ENOSPC, EAGAIN)
 * @reserved: zero
 *
 * Filled by the %RUSTQUEUE_IOC_INFO ioctl.  The layout is the same for
 * 32-bit and 64-bit callers.
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
	__u64 reserved[4];
};

#define RUSTQUEUE_IOC_MAGIC	0xB9

#define RUSTQUEUE_IOC_INFO	_IOR(RUSTQUEUE_IOC_MAGIC, 0x00, struct rustqueue_info)

#endif /* _UAPI_LINUX_RUSTQUEUE_H */
