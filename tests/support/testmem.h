/*
 * Test allocator: counts live blocks and bytes, records the peak, and can
 * fail the Nth allocation (expat/nghttp2 style failmalloc tests).
 */
#ifndef EAS_TESTS_TESTMEM_H
#define EAS_TESTS_TESTMEM_H

#include <stddef.h>

#include "eas/common.h"

typedef struct testmem {
	long fail_at;        /* fail the allocation with this index (0-based); -1 = never */
	long calls;          /* allocations attempted so far (malloc + realloc) */
	long live_blocks;
	size_t live_bytes;
	size_t peak_bytes;
} testmem;

/* Resets the counters and returns hooks bound to `tm`. */
eas_mem testmem_init(testmem *tm, long fail_at);

#endif
