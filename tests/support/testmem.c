/* Counting, failing allocator for tests.  Each block carries its size in a header. */
#include "testmem.h"

#include <stdlib.h>
#include <string.h>

typedef union header {
	size_t size;
	long double ld;
	void *p;
	long long ll;
} header;

static int should_fail(testmem *tm)
{
	long idx = tm->calls++;
	return tm->fail_at >= 0 && idx == tm->fail_at;
}

static void account(testmem *tm, long blocks, size_t add, size_t sub)
{
	tm->live_blocks += blocks;
	tm->live_bytes = tm->live_bytes + add - sub;
	if (tm->live_bytes > tm->peak_bytes)
		tm->peak_bytes = tm->live_bytes;
}

static void *tm_malloc(size_t size, void *ud)
{
	testmem *tm = ud;
	if (should_fail(tm))
		return NULL;
	header *h = malloc(sizeof(header) + size);
	if (!h)
		return NULL;
	h->size = size;
	account(tm, 1, size, 0);
	return h + 1;
}

static void *tm_realloc(void *ptr, size_t size, void *ud)
{
	testmem *tm = ud;
	if (!ptr)
		return tm_malloc(size, ud);
	if (should_fail(tm))
		return NULL;
	header *old = (header *)ptr - 1;
	size_t old_size = old->size;
	header *h = realloc(old, sizeof(header) + size);
	if (!h)
		return NULL;
	h->size = size;
	account(tm, 0, size, old_size);
	return h + 1;
}

static void tm_free(void *ptr, void *ud)
{
	testmem *tm = ud;
	if (!ptr)
		return;
	header *h = (header *)ptr - 1;
	account(tm, -1, 0, h->size);
	free(h);
}

eas_mem testmem_init(testmem *tm, long fail_at)
{
	memset(tm, 0, sizeof(*tm));
	tm->fail_at = fail_at;
	eas_mem m = { tm_malloc, tm_realloc, tm_free, tm };
	return m;
}
