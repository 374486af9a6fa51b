/* SPDX-License-Identifier: GPL-2.0-only */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rustqueue

#if !defined(_RUSTQUEUE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RUSTQUEUE_TRACE_H

#include <linux/tracepoint.h>

DECLARE_EVENT_CLASS(rustqueue_msg,
		    TP_PROTO(const char *queue, size_t len, unsigned int depth),
		    TP_ARGS(queue, len, depth),
		    TP_STRUCT__entry(__string(queue, queue)
				     __field(size_t, len)
				     __field(unsigned int, depth)),
		    TP_fast_assign(__assign_str(queue);
				   __entry->len = len;
				   __entry->depth = depth;),
		    TP_printk("queue=%s len=%zu depth=%u",
			      __get_str(queue), __entry->len, __entry->depth)
);

/* A message of @len bytes joined @queue, which now holds @depth. */
DEFINE_EVENT(rustqueue_msg, rustqueue_enqueue,
	     TP_PROTO(const char *queue, size_t len, unsigned int depth),
	     TP_ARGS(queue, len, depth)
);

/* A message of @len bytes left @queue for a reader; @depth remain. */
DEFINE_EVENT(rustqueue_msg, rustqueue_dequeue,
	     TP_PROTO(const char *queue, size_t len, unsigned int depth),
	     TP_ARGS(queue, len, depth)
);

#endif /* _RUSTQUEUE_TRACE_H */

/* This part must be outside protection */
#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE rustqueue_trace
#include <trace/define_trace.h>
