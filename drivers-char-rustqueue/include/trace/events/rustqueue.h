/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rustqueue

#if !defined(_TRACE_RUSTQUEUE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_RUSTQUEUE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(rustqueue_msg,
		    TP_PROTO(size_t len, unsigned int depth),
		    TP_ARGS(len, depth),
		    TP_STRUCT__entry(__field(size_t, len)
				     __field(unsigned int, depth)),
		    TP_fast_assign(__entry->len = len;
				   __entry->depth = depth;),
		    TP_printk("len=%zu depth=%u", __entry->len, __entry->depth)
);

/* A message of @len bytes joined the queue, which now holds @depth. */
DEFINE_EVENT(rustqueue_msg, rustqueue_enqueue,
	     TP_PROTO(size_t len, unsigned int depth),
	     TP_ARGS(len, depth)
);

/* A message of @len bytes left the queue for a reader; @depth remain. */
DEFINE_EVENT(rustqueue_msg, rustqueue_dequeue,
	     TP_PROTO(size_t len, unsigned int depth),
	     TP_ARGS(len, depth)
);

#endif /* _TRACE_RUSTQUEUE_H */

/* This part must be outside protection */
#include <trace/define_trace.h>
