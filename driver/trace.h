/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr tracepoints: bus traffic as the protocol core sees it, so that
 * `trace-cmd record -e rackpwr` captures a readable bus log.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rackpwr

#if !defined(_RACKPWR_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RACKPWR_TRACE_H

#include <linux/tracepoint.h>

#include "rpw_frame.h"

DECLARE_EVENT_CLASS(rackpwr_frame,
	TP_PROTO(u32 node, const struct rpw_frame *f),
	TP_ARGS(node, f),
	TP_STRUCT__entry(
		__field(u32, node)
		__field(u8, type)
		__field(u8, flags)
		__field(u8, src)
		__field(u8, dst)
		__field(u8, seq)
		__field(u8, len)
	),
	TP_fast_assign(
		__entry->node = node;
		__entry->type = f->type;
		__entry->flags = f->flags;
		__entry->src = f->src;
		__entry->dst = f->dst;
		__entry->seq = f->seq;
		__entry->len = f->len;
	),
	TP_printk("node=%u type=%s(0x%02x) flags=0x%x src=%u dst=%u seq=%u len=%u",
		  __entry->node, rpw_type_name(__entry->type), __entry->type,
		  __entry->flags, __entry->src, __entry->dst, __entry->seq,
		  __entry->len)
);

DEFINE_EVENT(rackpwr_frame, rackpwr_frame_tx,
	TP_PROTO(u32 node, const struct rpw_frame *f), TP_ARGS(node, f));
DEFINE_EVENT(rackpwr_frame, rackpwr_frame_rx,
	TP_PROTO(u32 node, const struct rpw_frame *f), TP_ARGS(node, f));
DEFINE_EVENT(rackpwr_frame, rackpwr_collision,
	TP_PROTO(u32 node, const struct rpw_frame *f), TP_ARGS(node, f));
DEFINE_EVENT(rackpwr_frame, rackpwr_retry,
	TP_PROTO(u32 node, const struct rpw_frame *f), TP_ARGS(node, f));
DEFINE_EVENT(rackpwr_frame, rackpwr_tx_timeout,
	TP_PROTO(u32 node, const struct rpw_frame *f), TP_ARGS(node, f));

TRACE_EVENT(rackpwr_rx_drop,
	TP_PROTO(u32 node),
	TP_ARGS(node),
	TP_STRUCT__entry(
		__field(u32, node)
	),
	TP_fast_assign(
		__entry->node = node;
	),
	TP_printk("node=%u", __entry->node)
);

#endif /* _RACKPWR_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE trace
#include <trace/define_trace.h>
