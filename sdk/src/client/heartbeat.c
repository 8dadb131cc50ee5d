/* The adaptive Ping heartbeat (see heartbeat.h). */
#include "client/heartbeat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/common.h"

static uint32_t clamp(const eas__heartbeat *hb, uint32_t v)
{
	return v < hb->min_s ? hb->min_s : v > hb->max_s ? hb->max_s : v;
}

int eas__heartbeat_converged(const eas__heartbeat *hb)
{
	if (hb->good_s && hb->good_s >= hb->max_s)
		return 1;
	if (hb->bad_s && hb->bad_s <= hb->min_s)
		return 1; /* nothing below the minimum to try */
	return hb->good_s && hb->bad_s && hb->bad_s - hb->good_s <= EAS__HEARTBEAT_STEP_S;
}

/* Picks the next interval from what is known. */
static void choose(eas__heartbeat *hb)
{
	uint32_t next;
	if (eas__heartbeat_converged(hb)) {
		next = hb->good_s ? hb->good_s : hb->min_s;
	} else if (!hb->bad_s) {
		/* Nothing lost yet: double. */
		next = hb->good_s ? (hb->good_s > UINT32_MAX / 2 ? UINT32_MAX : hb->good_s * 2) : hb->min_s;
	} else {
		uint32_t lo = hb->good_s ? hb->good_s : hb->min_s;
		next = lo + (hb->bad_s - lo) / 2;
		if (!hb->good_s && next > hb->min_s && hb->bad_s - hb->min_s <= EAS__HEARTBEAT_STEP_S)
			next = hb->min_s;
	}
	hb->current_s = clamp(hb, next);
}

void eas__heartbeat_init(eas__heartbeat *hb, uint32_t min_s, uint32_t max_s)
{
	memset(hb, 0, sizeof *hb);
	eas__heartbeat_bounds(hb, min_s, max_s);
}

void eas__heartbeat_bounds(eas__heartbeat *hb, uint32_t min_s, uint32_t max_s)
{
	if (min_s < 1)
		min_s = 1;
	if (max_s < min_s)
		max_s = min_s;
	hb->min_s = min_s;
	hb->max_s = max_s;
	if (hb->good_s > max_s)
		hb->good_s = max_s;
	if (hb->good_s && hb->good_s < min_s)
		hb->good_s = 0;
	if (hb->bad_s && (hb->bad_s > max_s || hb->bad_s <= hb->good_s))
		hb->bad_s = 0;
	choose(hb);
}

uint32_t eas__heartbeat_interval(const eas__heartbeat *hb)
{
	return hb->current_s;
}

void eas__heartbeat_survived(eas__heartbeat *hb)
{
	int was_converged = eas__heartbeat_converged(hb) && hb->current_s == hb->good_s;
	if (hb->current_s > hb->good_s)
		hb->good_s = hb->current_s;
	if (hb->bad_s && hb->bad_s <= hb->good_s)
		hb->bad_s = 0; /* it survived where it was lost before: the network changed */
	if (was_converged && hb->good_s < hb->max_s) {
		uint32_t wait = hb->probe_s > EAS__HEARTBEAT_STEP_S ? EAS__HEARTBEAT_REPROBE / 6 : EAS__HEARTBEAT_REPROBE;
		if (++hb->streak >= wait) {
			/* Probe above: bisection between good and good + 2 probe steps. */
			hb->streak = 0;
			if (hb->probe_base && hb->good_s > hb->probe_base && hb->probe_s < hb->max_s / 2)
				hb->probe_s = hb->probe_s ? hb->probe_s * 2 : 2 * EAS__HEARTBEAT_STEP_S; /* it gained */
			else
				hb->probe_s = EAS__HEARTBEAT_STEP_S;
			hb->probe_base = hb->good_s;
			uint64_t probe = (uint64_t)hb->good_s + 2u * hb->probe_s + 1u;
			hb->bad_s = probe > hb->max_s ? 0 : (uint32_t)probe;
		}
	} else {
		hb->streak = 0;
	}
	choose(hb);
}

void eas__heartbeat_lost(eas__heartbeat *hb)
{
	uint32_t h = hb->current_s;
	if (!hb->bad_s || h < hb->bad_s)
		hb->bad_s = h;
	if (hb->good_s >= h)
		hb->good_s = 0; /* it used to survive: the network got worse, learn again below */
	hb->streak = 0;
	choose(hb);
}

int eas__heartbeat_format(const eas__heartbeat *hb, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%u,%u,%u,%u", (unsigned)hb->good_s, (unsigned)hb->bad_s, (unsigned)hb->current_s,
			 (unsigned)hb->streak);
	return n < 0 || (size_t)n >= size ? EAS_E_LIMIT : 0;
}

static int read_u32(const char **p, uint32_t *out, char end)
{
	const char *s = *p;
	if (*s < '0' || *s > '9')
		return -1;
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
		s++;
	}
	if (*s != end)
		return -1;
	*out = (uint32_t)v;
	*p = end ? s + 1 : s;
	return 0;
}

int eas__heartbeat_parse(eas__heartbeat *hb, const char *text)
{
	uint32_t v[4];
	const char *p = text;
	if (!p || read_u32(&p, &v[0], ',') || read_u32(&p, &v[1], ',') || read_u32(&p, &v[2], ',') ||
	    read_u32(&p, &v[3], '\0'))
		return EAS_E_MALFORMED;
	eas__heartbeat t = *hb;
	t.good_s = v[0];
	t.bad_s = v[1];
	t.streak = v[3] < EAS__HEARTBEAT_REPROBE ? v[3] : 0;
	eas__heartbeat_bounds(&t, t.min_s, t.max_s); /* drops what no longer fits and chooses */
	*hb = t;
	return 0;
}
