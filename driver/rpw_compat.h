/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * rackpwr - shim so the pure protocol logic (frame codec, MAC, election,
 * allocation policy) builds both in the kernel and in user space for unit
 * tests, fuzzing and benchmarks.  Pure sources include only this header and
 * their own; they never sleep, allocate or touch time themselves.
 */
#ifndef _RPW_COMPAT_H
#define _RPW_COMPAT_H

#ifdef __KERNEL__
#include <linux/types.h>
#include <linux/errno.h>
#include <linux/string.h>
#include <linux/stddef.h>
#include <linux/bits.h>
#include <linux/minmax.h>
#include <linux/crc-ccitt.h>
#include <linux/math64.h>
#include <linux/build_bug.h>
#include <asm/byteorder.h>
#include <asm/unaligned.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <linux/types.h>	/* __le16, __le32 */

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;

#ifndef BIT
#define BIT(n) (1UL << (n))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define fallthrough __attribute__((__fallthrough__))
#ifndef __packed
#define __packed __attribute__((__packed__))
#endif
#ifndef static_assert
#define static_assert(expr, ...) _Static_assert(expr, #expr)
#endif
#ifndef unlikely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Same polynomial and table semantics as lib/crc-ccitt.c (reflected 0x8408). */
u16 crc_ccitt(u16 crc, const u8 *buffer, size_t len);

/* Wire structs (rpw_proto.h) are little-endian. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define cpu_to_le16(x) ((__le16)(u16)(x))
#define cpu_to_le32(x) ((__le32)(u32)(x))
#define le16_to_cpu(x) ((u16)(x))
#define le32_to_cpu(x) ((u32)(x))
#else
#define cpu_to_le16(x) ((__le16)__builtin_bswap16(x))
#define cpu_to_le32(x) ((__le32)__builtin_bswap32(x))
#define le16_to_cpu(x) __builtin_bswap16((u16)(x))
#define le32_to_cpu(x) __builtin_bswap32((u32)(x))
#endif

/* 64-bit by 32-bit division, as linux/math64.h. */
static inline u64 div_u64(u64 dividend, u32 divisor)
{
	return dividend / divisor;
}

static inline u16 get_unaligned_le16(const void *p)
{
	const u8 *b = p;

	return (u16)(b[0] | (b[1] << 8));
}

static inline u32 get_unaligned_le32(const void *p)
{
	const u8 *b = p;

	return (u32)b[0] | ((u32)b[1] << 8) | ((u32)b[2] << 16) |
	       ((u32)b[3] << 24);
}

static inline void put_unaligned_le16(u16 v, void *p)
{
	u8 *b = p;

	b[0] = v & 0xff;
	b[1] = v >> 8;
}

static inline void put_unaligned_le32(u32 v, void *p)
{
	u8 *b = p;

	b[0] = v & 0xff;
	b[1] = (v >> 8) & 0xff;
	b[2] = (v >> 16) & 0xff;
	b[3] = v >> 24;
}
#endif /* __KERNEL__ */

#endif /* _RPW_COMPAT_H */
