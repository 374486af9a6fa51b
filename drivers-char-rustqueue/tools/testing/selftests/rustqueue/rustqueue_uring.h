/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A minimal io_uring from the raw system calls, for the rustqueue tests: no
 * liburing needed.  One thread submits and reaps; the rings are read and
 * written with the acquire and release orders the io_uring ABI asks for.
 */

#ifndef RUSTQUEUE_URING_H
#define RUSTQUEUE_URING_H

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/io_uring.h>

struct rq_ring {
	int fd;
	unsigned int *sq_head, *sq_tail, *sq_mask, *sq_array;
	unsigned int *cq_head, *cq_tail, *cq_mask;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_len, cq_len, sqes_len;
	unsigned int queued;	/* SQEs filled in, not yet submitted */
};

/*
 * A ring of ENTRIES submissions, with io_uring's FEATURES; 0, or -1 with
 * errno (ENOSYS: no io_uring).
 */
static inline int rq_ring_init(struct rq_ring *r, unsigned int entries, unsigned int *features)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	memset(r, 0, sizeof(*r));
	r->fd = syscall(__NR_io_uring_setup, entries, &p);
	if (r->fd < 0)
		return -1;
	if (features)
		*features = p.features;
	r->sq_len = p.sq_off.array + p.sq_entries * sizeof(unsigned int);
	r->cq_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (r->cq_len > r->sq_len)
			r->sq_len = r->cq_len;
		r->cq_len = r->sq_len;
	}
	r->sq_map = mmap(NULL, r->sq_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			 r->fd, IORING_OFF_SQ_RING);
	if (r->sq_map == MAP_FAILED)
		goto err_close;
	r->cq_map = r->sq_map;
	if (!(p.features & IORING_FEAT_SINGLE_MMAP)) {
		r->cq_map = mmap(NULL, r->cq_len, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_POPULATE, r->fd, IORING_OFF_CQ_RING);
		if (r->cq_map == MAP_FAILED)
			goto err_unmap_sq;
	}
	r->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	r->sqes = mmap(NULL, r->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
		       r->fd, IORING_OFF_SQES);
	if (r->sqes == MAP_FAILED)
		goto err_unmap_cq;
	r->sq_head = (unsigned int *)((char *)r->sq_map + p.sq_off.head);
	r->sq_tail = (unsigned int *)((char *)r->sq_map + p.sq_off.tail);
	r->sq_mask = (unsigned int *)((char *)r->sq_map + p.sq_off.ring_mask);
	r->sq_array = (unsigned int *)((char *)r->sq_map + p.sq_off.array);
	r->cq_head = (unsigned int *)((char *)r->cq_map + p.cq_off.head);
	r->cq_tail = (unsigned int *)((char *)r->cq_map + p.cq_off.tail);
	r->cq_mask = (unsigned int *)((char *)r->cq_map + p.cq_off.ring_mask);
	r->cqes = (struct io_uring_cqe *)((char *)r->cq_map + p.cq_off.cqes);
	return 0;

err_unmap_cq:
	if (r->cq_map != r->sq_map)
		munmap(r->cq_map, r->cq_len);
err_unmap_sq:
	munmap(r->sq_map, r->sq_len);
err_close:
	close(r->fd);
	return -1;
}

/* The next free SQE, zeroed: the caller fills it in; NULL when full. */
static inline struct io_uring_sqe *rq_ring_sqe(struct rq_ring *r)
{
	unsigned int head = __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	unsigned int tail = *r->sq_tail + r->queued;
	struct io_uring_sqe *sqe;

	if (tail - head > *r->sq_mask)
		return NULL;
	sqe = &r->sqes[tail & *r->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	r->sq_array[tail & *r->sq_mask] = tail & *r->sq_mask;
	r->queued++;
	return sqe;
}

/* An IORING_OP_READ or IORING_OP_WRITE of FD, tagged DATA; NULL when full. */
static inline struct io_uring_sqe *rq_ring_rw(struct rq_ring *r, int op, int fd,
					      void *buf, unsigned int len, uint64_t data)
{
	struct io_uring_sqe *sqe = rq_ring_sqe(r);

	if (sqe) {
		sqe->opcode = op;
		sqe->fd = fd;
		sqe->addr = (uintptr_t)buf;
		sqe->len = len;
		sqe->off = -1;	/* the file's position: none, it is a stream */
		sqe->user_data = data;
	}
	return sqe;
}

/*
 * Submit what was filled in and wait up to MS milliseconds (-1: no limit)
 * for WAIT completions in all.  Returns the number submitted, or -errno;
 * a wait that times out is not an error: rq_ring_cqe() tells what came.
 */
static inline int rq_ring_submit(struct rq_ring *r, unsigned int wait, int ms)
{
	struct __kernel_timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L };
	struct io_uring_getevents_arg arg = { .ts = (uintptr_t)&ts };
	unsigned int n;
	int ret;

	__atomic_store_n(r->sq_tail, *r->sq_tail + r->queued, __ATOMIC_RELEASE);
	r->queued = 0;
	/* Every SQE not yet consumed, those a short submission left too. */
	n = *r->sq_tail - __atomic_load_n(r->sq_head, __ATOMIC_ACQUIRE);
	ret = syscall(__NR_io_uring_enter, r->fd, n, wait,
		      (wait ? IORING_ENTER_GETEVENTS : 0) | (ms >= 0 ? IORING_ENTER_EXT_ARG : 0),
		      ms >= 0 ? (void *)&arg : NULL, ms >= 0 ? sizeof(arg) : 0);
	if (ret < 0 && (errno == ETIME || errno == EINTR))
		return n;
	return ret < 0 ? -errno : ret;
}

/* Take the next completion into CQE: 1, or 0 when there is none yet. */
static inline int rq_ring_cqe(struct rq_ring *r, struct io_uring_cqe *cqe)
{
	unsigned int head = *r->cq_head;

	if (head == __atomic_load_n(r->cq_tail, __ATOMIC_ACQUIRE))
		return 0;
	*cqe = r->cqes[head & *r->cq_mask];
	__atomic_store_n(r->cq_head, head + 1, __ATOMIC_RELEASE);
	return 1;
}

/* Wait up to MS milliseconds for the next completion: 1, or 0 if none came. */
static inline int rq_ring_wait(struct rq_ring *r, struct io_uring_cqe *cqe, int ms)
{
	if (rq_ring_cqe(r, cqe))
		return 1;
	if (rq_ring_submit(r, 1, ms) < 0)
		return 0;
	return rq_ring_cqe(r, cqe);
}

#endif /* RUSTQUEUE_URING_H */
