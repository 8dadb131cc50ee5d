/*
 * The adaptive Ping heartbeat: pure logic, no clock, no I/O.
 *
 * A Ping survives only if every middlebox on the way (a carrier NAT, a
 * proxy) keeps the idle connection open for the whole heartbeat.  Their
 * timeouts are unknown and differ per network, so the interval is learnt:
 *
 *   - good: the longest interval that survived, bad: the shortest that was
 *     lost to a network timeout (0 = not known yet);
 *   - while nothing was lost the interval doubles (from the minimum) up to
 *     the maximum;
 *   - once something was lost it searches between good and bad (bisection)
 *     until they are within EAS__HEARTBEAT_STEP_S, then stays at good;
 *   - after EAS__HEARTBEAT_REPROBE survivals at good it probes one step
 *     higher (the network may have improved): at most one lost Ping per
 *     REPROBE Pings once converged; while probes keep gaining, they come
 *     sooner and reach twice as far each time, so a network that got much
 *     better is found in hours, not days;
 *   - a loss at or below good means the network got worse: good is
 *     forgotten and the search starts again below the loss.
 *
 * The state is persisted per network as text ("heartbeat:<net>" in the
 * state store), so a handset that moves between Wi-Fi and cellular keeps
 * what it learnt about each.
 */
#ifndef EAS_SRC_CLIENT_HEARTBEAT_H
#define EAS_SRC_CLIENT_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#define EAS__HEARTBEAT_STEP_S 30u  /* precision of the search, seconds */
#define EAS__HEARTBEAT_REPROBE 24u /* survivals at the converged value before probing higher */

typedef struct eas__heartbeat {
	uint32_t min_s, max_s; /* bounds: the app's settings, narrowed by the server (Ping status 5) */
	uint32_t good_s;       /* longest interval that survived, 0 = none yet */
	uint32_t bad_s;        /* shortest interval lost to a network timeout, 0 = none */
	uint32_t current_s;    /* the interval of the next Ping */
	uint32_t streak;       /* survivals in a row at the converged value */
	uint32_t probe_s;      /* how far above good the next probe reaches (0 = one step) */
	uint32_t probe_base;   /* good when the last probe started (0 = none yet) */
} eas__heartbeat;

/* Starts at min_s with nothing learnt (min_s >= 1, max_s >= min_s; swapped or raised otherwise). */
void eas__heartbeat_init(eas__heartbeat *hb, uint32_t min_s, uint32_t max_s);
/* New bounds (the server's); what was learnt is kept inside them. */
void eas__heartbeat_bounds(eas__heartbeat *hb, uint32_t min_s, uint32_t max_s);
/* The interval for the next Ping, seconds. */
uint32_t eas__heartbeat_interval(const eas__heartbeat *hb);
/* The Ping at the current interval ran to its end (Ping status 1). */
void eas__heartbeat_survived(eas__heartbeat *hb);
/* The Ping at the current interval was lost to a network timeout. */
void eas__heartbeat_lost(eas__heartbeat *hb);
/* 1 when the search has settled (good and bad within one step, or good at the maximum). */
int eas__heartbeat_converged(const eas__heartbeat *hb);

/* "good,bad,current,streak": what the store keeps.  0, or EAS_E_LIMIT when size is too small. */
int eas__heartbeat_format(const eas__heartbeat *hb, char *buf, size_t size);
/* Reads it back within hb's bounds; EAS_E_MALFORMED (hb unchanged) for anything else. */
int eas__heartbeat_parse(eas__heartbeat *hb, const char *text);

#endif
