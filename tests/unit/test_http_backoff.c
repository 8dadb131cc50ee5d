/* Retry backoff with full jitter and 451 redirect accounting (sdk/src/http/backoff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/common.h"
#include "http/backoff.h"

#define RMAX UINT32_C(0xFFFFFFFF)
#define RHALF UINT32_C(0x80000000)

/* One step: the random value and Retry-After given, the delay wanted (or -1 = EAS_E_LIMIT). */
struct step {
	uint32_t random;
	int has_ra;
	uint32_t ra_s;
	int64_t want_ms;
};

struct run {
	const char *what;
	uint32_t base, cap, min, max_ra;
	unsigned attempts;
	struct step steps[10];
	size_t nsteps;
};

static const struct run runs[] = {
	{ "ceilings double up to the cap (random at its maximum)", 1000, 8000, 1, 0, 6,
	  { { RMAX, 0, 0, 1000 }, { RMAX, 0, 0, 2000 }, { RMAX, 0, 0, 4000 }, { RMAX, 0, 0, 8000 },
	    { RMAX, 0, 0, 8000 }, { RMAX, 0, 0, 8000 }, { RMAX, 0, 0, -1 } }, 7 },
	{ "random 0 gives the floor", 1000, 8000, 250, 0, 3,
	  { { 0, 0, 0, 250 }, { 0, 0, 0, 250 }, { 0, 0, 0, 250 }, { 0, 0, 0, -1 } }, 4 },
	{ "half-way random gives half the ceiling", 1000, 8000, 1, 0, 4,
	  { { RHALF, 0, 0, 500 }, { RHALF, 0, 0, 1000 }, { RHALF, 0, 0, 2000 }, { RHALF, 0, 0, 4000 } }, 4 },
	{ "Retry-After is a floor", 1000, 8000, 1, 0, 3,
	  { { 0, 1, 30, 30000 }, { RMAX, 1, 1, 2000 }, { RMAX, 1, 0, 4000 } }, 3 },
	{ "Retry-After above the cap still wins (server's word)", 1000, 8000, 1, 0, 1,
	  { { RMAX, 1, 120, 120000 } }, 1 },
	{ "Retry-After cut at max_retry_after", 1000, 8000, 1, 60000, 2,
	  { { 0, 1, 86400, 60000 }, { 0, 1, 4294967295u, 60000 } }, 2 },
	{ "no retries allowed", 1000, 8000, 1, 0, 0,
	  { { RMAX, 1, 5, -1 } }, 1 },
	{ "defaults (2 s base, 5 min cap, 0.5 s floor, 4 attempts)", 0, 0, 0, 0, 4,
	  { { RMAX, 0, 0, 2000 }, { RMAX, 0, 0, 4000 }, { 0, 0, 0, 500 }, { RMAX, 0, 0, 16000 },
	    { RMAX, 0, 0, -1 } }, 5 },
	{ "huge cap, no overflow", 1, 0xFFFFFFFFu, 1, 0, 10,
	  { { RMAX, 0, 0, 1 }, { RMAX, 0, 0, 2 }, { RMAX, 0, 0, 4 }, { RMAX, 0, 0, 8 } }, 4 },
	{ "base equals cap", 5000, 5000, 1, 0, 3,
	  { { RMAX, 0, 0, 5000 }, { RMAX, 0, 0, 5000 }, { RHALF, 0, 0, 2500 } }, 3 },
};

static void test_runs(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof(runs) / sizeof(runs[0]); r++) {
		const struct run *run = &runs[r];
		eas__backoff b;
		assert_int_equal(eas__backoff_init(&b, run->base, run->cap, run->min, run->max_ra,
						   run->attempts), 0);
		for (size_t i = 0; i < run->nsteps; i++) {
			const struct step *s = &run->steps[i];
			uint64_t ms = 0xDEADBEEF;
			int rc = eas__backoff_next(&ms, &b, s->random, s->has_ra, s->ra_s);
			if (s->want_ms < 0) {
				if (rc != EAS_E_LIMIT || ms != 0xDEADBEEF)
					fail_msg("%s, step %zu: rc %d, want EAS_E_LIMIT", run->what, i, rc);
			} else if (rc != 0 || ms != (uint64_t)s->want_ms) {
				fail_msg("%s, step %zu: rc %d, %llu ms, want %lld", run->what, i, rc,
					 (unsigned long long)ms, (long long)s->want_ms);
			}
		}
	}
}

/* Every delay lies in [min, ceiling] and grows with the random value. */
static void test_bounds_and_monotony(void **state)
{
	(void)state;
	for (unsigned attempt = 0; attempt < 12; attempt++) {
		uint64_t prev = 0;
		for (uint64_t r = 0; r <= RMAX; r += 0x00FFFFFFu) {
			eas__backoff b;
			assert_int_equal(eas__backoff_init(&b, 700, 60000, 100, 0, 20), 0);
			b.attempts = attempt;
			uint64_t ms;
			assert_int_equal(eas__backoff_next(&ms, &b, (uint32_t)r, 0, 0), 0);
			uint64_t ceil = 700u << attempt;
			if (ceil > 60000)
				ceil = 60000;
			assert_true(ms >= 100 && ms <= ceil);
			assert_true(ms >= prev);
			prev = ms;
			assert_int_equal(b.attempts, attempt + 1);
		}
	}
}

static void test_reset_and_init(void **state)
{
	(void)state;
	eas__backoff b;
	uint64_t ms;
	assert_int_equal(eas__backoff_init(&b, 100, 1000, 1, 0, 2), 0);
	assert_int_equal(eas__backoff_next(&ms, &b, RMAX, 0, 0), 0);
	assert_int_equal(eas__backoff_next(&ms, &b, RMAX, 0, 0), 0);
	assert_int_equal(ms, 200);
	assert_int_equal(eas__backoff_next(&ms, &b, RMAX, 0, 0), EAS_E_LIMIT);
	eas__backoff_reset(&b);
	assert_int_equal(eas__backoff_next(&ms, &b, RMAX, 0, 0), 0);
	assert_int_equal(ms, 100);
	eas__backoff_reset(NULL);

	/* defaults */
	assert_int_equal(eas__backoff_init(&b, 0, 0, 0, 0, 3), 0);
	assert_int_equal(b.base_ms, EAS__BACKOFF_DEFAULT_BASE_MS);
	assert_int_equal(b.cap_ms, EAS__BACKOFF_DEFAULT_CAP_MS);
	assert_int_equal(b.min_ms, EAS__BACKOFF_DEFAULT_MIN_MS);
	assert_int_equal(b.max_retry_after_ms, EAS__BACKOFF_DEFAULT_MAX_RETRY_AFTER_MS);
	assert_int_equal(b.max_attempts, 3);
	assert_int_equal(b.attempts, 0);

	/* refusals leave b alone */
	eas__backoff keep = b;
	assert_int_equal(eas__backoff_init(&b, 2000, 1000, 1, 0, 3), EAS_E_INVALID);
	assert_int_equal(eas__backoff_init(&b, 100, 1000, 1001, 0, 3), EAS_E_INVALID);
	assert_int_equal(eas__backoff_init(&b, 400000, 0, 0, 0, 3), EAS_E_INVALID); /* > default cap */
	assert_memory_equal(&b, &keep, sizeof(b));
	assert_int_equal(eas__backoff_init(NULL, 1, 2, 1, 0, 1), EAS_E_INVALID);
	assert_int_equal(eas__backoff_next(NULL, &b, 0, 0, 0), EAS_E_INVALID);
	assert_int_equal(eas__backoff_next(&ms, NULL, 0, 0, 0), EAS_E_INVALID);
}

/* ---- 451 follows ------------------------------------------------------------------- */

static void test_redirects(void **state)
{
	(void)state;
	eas__redirects r;
	eas__redirects_init(&r, 2);
	assert_int_equal(eas__redirects_follow(&r, "https://a/eas", "https://b/eas"), 0);
	assert_int_equal(eas__redirects_follow(&r, "https://b/eas", "https://c/eas"), 0);
	assert_int_equal(r.count, 2);
	assert_int_equal(eas__redirects_follow(&r, "https://c/eas", "https://d/eas"), EAS_E_LIMIT);
	assert_int_equal(r.count, 2);
	eas__redirects_reset(&r);
	assert_int_equal(r.count, 0);
	/* to itself: a loop, not counted */
	assert_int_equal(eas__redirects_follow(&r, "https://a/eas", "https://a/eas"), EAS_E_PROTOCOL);
	assert_int_equal(r.count, 0);
	/* ping-pong ends at the limit */
	assert_int_equal(eas__redirects_follow(&r, "https://a/eas", "https://b/eas"), 0);
	assert_int_equal(eas__redirects_follow(&r, "https://b/eas", "https://a/eas"), 0);
	assert_int_equal(eas__redirects_follow(&r, "https://a/eas", "https://b/eas"), EAS_E_LIMIT);
	assert_int_equal(eas__redirects_follow(NULL, "a", "b"), EAS_E_INVALID);
	assert_int_equal(eas__redirects_follow(&r, NULL, "b"), EAS_E_INVALID);
	assert_int_equal(eas__redirects_follow(&r, "a", NULL), EAS_E_INVALID);

	eas__redirects_init(&r, 0);
	assert_int_equal(r.max, EAS__REDIRECT_DEFAULT_MAX);
	for (unsigned i = 0; i < EAS__REDIRECT_DEFAULT_MAX; i++) {
		char from[32], to[32];
		snprintf(from, sizeof(from), "https://h%u/", i);
		snprintf(to, sizeof(to), "https://h%u/", i + 1);
		assert_int_equal(eas__redirects_follow(&r, from, to), 0);
	}
	assert_int_equal(eas__redirects_follow(&r, "https://x/", "https://y/"), EAS_E_LIMIT);
	eas__redirects_init(NULL, 3);
	eas__redirects_reset(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_bounds_and_monotony),
		cmocka_unit_test(test_reset_and_init),
		cmocka_unit_test(test_redirects),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
