/*
 * The adaptive Ping heartbeat (heartbeat.c), pure logic: a simulation of an
 * idle handset behind a NAT that silently drops idle connections after T
 * seconds.  A Ping with heartbeat h < T survives (one request per h
 * seconds); one with h >= T is lost and noticed at the transport timeout
 * (h + 30 s).  The figures printed are requests per idle hour once learnt;
 * the assertions check that the interval converges just below T (or at the
 * maximum), that the cost stays close to the ideal, and that it recovers
 * when the network changes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/heartbeat.h"
#include "eas/common.h"

#define MARGIN_S 30u

typedef struct sim {
	uint64_t t;        /* seconds */
	unsigned requests; /* Pings sent in the measured window */
	unsigned lost;     /* of which lost */
} sim;

/* Runs until `until` seconds; counts what happens after `from`. */
static void run(eas__heartbeat *hb, uint32_t nat_s, uint64_t *t, uint64_t from, uint64_t until, sim *out)
{
	memset(out, 0, sizeof *out);
	while (*t < until) {
		uint32_t h = eas__heartbeat_interval(hb);
		int survives = h < nat_s;
		if (*t >= from) {
			out->requests++;
			out->lost += !survives;
		}
		if (survives) {
			*t += h;
			eas__heartbeat_survived(hb);
		} else {
			*t += h + MARGIN_S;
			eas__heartbeat_lost(hb);
		}
	}
	out->t = until - from;
}

static double per_hour(const sim *s)
{
	return (double)s->requests * 3600.0 / (double)s->t;
}

static void converge_case(uint32_t nat_s, uint32_t min_s, uint32_t max_s)
{
	eas__heartbeat hb;
	eas__heartbeat_init(&hb, min_s, max_s);
	uint64_t t = 0;
	sim warm, idle;
	run(&hb, nat_s, &t, 0, 3 * 3600, &warm);           /* learning: 3 hours */
	run(&hb, nat_s, &t, t, t + 48 * 3600, &idle);       /* then two idle days */
	uint32_t best = nat_s <= max_s ? nat_s - 1 : max_s; /* the longest interval that survives */
	if (best > max_s)
		best = max_s;
	double ideal = 3600.0 / best;
	printf("NAT %5u s, bounds %u-%u s: learnt %4u s after %u Pings (%u lost); "
	       "idle: %.2f requests/hour (ideal %.2f), %u lost in 48 h\n",
	       (unsigned)nat_s, (unsigned)min_s, (unsigned)max_s, (unsigned)hb.good_s, warm.requests, warm.lost,
	       per_hour(&idle), ideal, idle.lost);
	assert_true(eas__heartbeat_converged(&hb) || hb.streak > 0 || hb.bad_s);
	if (nat_s > max_s) {
		assert_int_equal(hb.good_s, max_s);
		assert_int_equal(idle.lost, 0);
	} else {
		assert_true(hb.good_s < nat_s);
		assert_true(hb.good_s + 2 * EAS__HEARTBEAT_STEP_S >= nat_s);
	}
	/* Within 15 % of the ideal, plus the re-probing (one lost Ping per EAS__HEARTBEAT_REPROBE). */
	assert_true(per_hour(&idle) <= ideal * 1.15 + 0.2);
	assert_true(per_hour(&idle) >= ideal * 0.9);
	assert_true(warm.lost <= 8);
}

static void test_converges_below_nat_timeout(void **state)
{
	(void)state;
	converge_case(600, 60, 1680);   /* a 10-minute NAT */
	converge_case(300, 60, 1680);   /* a carrier NAT of 5 minutes */
	converge_case(1800, 60, 1680);  /* 30 minutes: the maximum survives */
	converge_case(125, 60, 1680);   /* close to the minimum */
	converge_case(900, 120, 3540);  /* other bounds */
}

/* A network that gets worse: what was learnt is dropped and the new limit found. */
static void test_network_gets_worse_then_better(void **state)
{
	(void)state;
	eas__heartbeat hb;
	eas__heartbeat_init(&hb, 60, 1680);
	uint64_t t = 0;
	sim s;
	run(&hb, 900, &t, 0, 4 * 3600, &s);
	assert_true(hb.good_s < 900 && hb.good_s >= 840);
	run(&hb, 240, &t, t, t + 4 * 3600, &s);
	printf("NAT 900 s -> 240 s: learnt %u s, %u lost in the first 4 h\n", (unsigned)hb.good_s, s.lost);
	assert_true(hb.good_s < 240 && hb.good_s >= 180);
	assert_true(s.lost <= 8);
	/* Better again: the periodic probe climbs back up. */
	run(&hb, 1200, &t, t, t + 24 * 3600, &s);
	printf("NAT 240 s -> 1200 s: learnt %u s after 24 h (%u lost)\n", (unsigned)hb.good_s, s.lost);
	assert_true(hb.good_s >= 1000 && hb.good_s < 1200);
}

static void test_bounds_and_persistence(void **state)
{
	(void)state;
	eas__heartbeat hb;
	eas__heartbeat_init(&hb, 60, 1680);
	assert_int_equal(eas__heartbeat_interval(&hb), 60);
	eas__heartbeat_survived(&hb);
	assert_int_equal(eas__heartbeat_interval(&hb), 120);
	eas__heartbeat_survived(&hb);
	eas__heartbeat_survived(&hb);
	assert_int_equal(eas__heartbeat_interval(&hb), 480);
	eas__heartbeat_lost(&hb);
	assert_int_equal(eas__heartbeat_interval(&hb), 360); /* between 240 and 480 */

	char buf[64];
	assert_int_equal(eas__heartbeat_format(&hb, buf, sizeof buf), 0);
	assert_string_equal(buf, "240,480,360,0");
	assert_int_equal(eas__heartbeat_format(&hb, buf, 4), EAS_E_LIMIT);
	eas__heartbeat back;
	eas__heartbeat_init(&back, 60, 1680);
	assert_int_equal(eas__heartbeat_parse(&back, "240,480,360,0"), 0);
	assert_int_equal(eas__heartbeat_interval(&back), 360);
	assert_int_equal(eas__heartbeat_parse(&back, "240,480"), EAS_E_MALFORMED);
	assert_int_equal(eas__heartbeat_parse(&back, "x,1,2,3"), EAS_E_MALFORMED);
	assert_int_equal(eas__heartbeat_parse(&back, "99999999999,1,2,3"), EAS_E_MALFORMED);
	assert_int_equal(eas__heartbeat_parse(&back, NULL), EAS_E_MALFORMED);
	assert_int_equal(eas__heartbeat_interval(&back), 360); /* unchanged by bad input */

	/* The server narrows the bounds (Ping status 5): what was learnt stays inside them. */
	eas__heartbeat_bounds(&hb, 300, 400);
	assert_true(eas__heartbeat_interval(&hb) >= 300 && eas__heartbeat_interval(&hb) <= 400);
	eas__heartbeat_bounds(&hb, 500, 900);
	assert_int_equal(eas__heartbeat_interval(&hb), 500);
	/* A persisted state beyond new bounds is clamped. */
	eas__heartbeat small;
	eas__heartbeat_init(&small, 60, 120);
	assert_int_equal(eas__heartbeat_parse(&small, "1500,0,1500,3"), 0);
	assert_int_equal(eas__heartbeat_interval(&small), 120);
	/* Degenerate bounds are repaired. */
	eas__heartbeat_init(&small, 0, 0);
	assert_int_equal(eas__heartbeat_interval(&small), 1);
	/* Losing at the minimum stays at the minimum. */
	eas__heartbeat_init(&small, 60, 1680);
	eas__heartbeat_lost(&small);
	assert_int_equal(eas__heartbeat_interval(&small), 60);
	assert_true(eas__heartbeat_converged(&small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_converges_below_nat_timeout),
		cmocka_unit_test(test_network_gets_worse_then_better),
		cmocka_unit_test(test_bounds_and_persistence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
