/*
 * Retry pacing for one request: exponential backoff with full jitter,
 * bounded in delay and in attempts, with a server's Retry-After as the floor
 * ([MS-ASHTTP] 3.1.5.2.3: wait Retry-After seconds after a 503; without it,
 * wait and increase the wait exponentially to a maximum); and the count of
 * 451 redirects followed for one request.
 *
 * Deterministic: the caller passes the random value (from the platform's
 * random hook) and gets the delay back; no clock is read.
 *
 *   delay(n) = max(min_ms, floor(r * (ceiling(n) + 1) / 2^32), retry_after)
 *   ceiling(n) = min(cap_ms, base_ms * 2^n)       n = retries done before
 *
 * so the n-th retry waits a uniformly drawn time in [0, ceiling(n)] ("full
 * jitter"), never less than min_ms nor than the server asked (Retry-After,
 * itself capped at max_retry_after_ms so a hostile header cannot park the
 * client for days).
 */
#ifndef EAS_SRC_HTTP_BACKOFF_H
#define EAS_SRC_HTTP_BACKOFF_H

#include <stdint.h>

#include "eas/common.h"

#define EAS__BACKOFF_DEFAULT_BASE_MS 2000u             /* first ceiling: 2 s */
#define EAS__BACKOFF_DEFAULT_CAP_MS 300000u            /* 5 min */
#define EAS__BACKOFF_DEFAULT_MIN_MS 500u
#define EAS__BACKOFF_DEFAULT_MAX_RETRY_AFTER_MS 3600000u /* 1 h */
#define EAS__BACKOFF_DEFAULT_MAX_ATTEMPTS 4u
#define EAS__REDIRECT_DEFAULT_MAX 5u

typedef struct eas__backoff {
	uint32_t base_ms;            /* ceiling of the first retry (> 0) */
	uint32_t cap_ms;             /* largest ceiling (>= base_ms) */
	uint32_t min_ms;             /* smallest delay (<= cap_ms) */
	uint32_t max_retry_after_ms; /* Retry-After beyond this is cut to it */
	unsigned max_attempts;       /* retries allowed per request; 0 = none */
	unsigned attempts;           /* retries handed out since the last reset */
} eas__backoff;

/*
 * Sets the parameters (0 for any of them = its EAS__BACKOFF_DEFAULT_*,
 * except max_attempts where 0 means "no retries") and resets the count.
 * Returns EAS_E_INVALID for a NULL b or cap_ms < base_ms or min_ms > cap_ms
 * (after defaults), else 0.
 */
int eas__backoff_init(eas__backoff *b, uint32_t base_ms, uint32_t cap_ms, uint32_t min_ms,
	uint32_t max_retry_after_ms, unsigned max_attempts);

/*
 * The delay before the next retry, in *out_ms.  random_value is a uniform
 * 32-bit value; retry_after_s is honoured as a floor when has_retry_after.
 * Counts the attempt.  Returns 0, EAS_E_LIMIT when max_attempts retries were
 * already handed out (*out_ms untouched), EAS_E_INVALID for NULL arguments.
 */
int eas__backoff_next(uint64_t *out_ms, eas__backoff *b, uint32_t random_value,
	int has_retry_after, uint32_t retry_after_s);

/* The request succeeded or a new one starts: count from zero again. */
void eas__backoff_reset(eas__backoff *b);

/* 451 redirects followed for one request. */
typedef struct eas__redirects {
	unsigned max;   /* follows allowed per request */
	unsigned count; /* follows so far */
} eas__redirects;

/* max 0 = EAS__REDIRECT_DEFAULT_MAX. */
void eas__redirects_init(eas__redirects *r, unsigned max);

/*
 * Accounts for following a 451 from current_url to location.  Returns 0
 * (count incremented), EAS_E_LIMIT when max follows were already made,
 * EAS_E_PROTOCOL when location is the URL just used (a loop), EAS_E_INVALID
 * for NULL arguments.
 */
int eas__redirects_follow(eas__redirects *r, const char *current_url, const char *location);

/* A new request: count from zero again. */
void eas__redirects_reset(eas__redirects *r);

#endif
