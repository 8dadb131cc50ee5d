/* Retry backoff with full jitter and 451 redirect accounting; see backoff.h. */
#include "http/backoff.h"

#include <stddef.h>
#include <string.h>

int eas__backoff_init(eas__backoff *b, uint32_t base_ms, uint32_t cap_ms, uint32_t min_ms,
	uint32_t max_retry_after_ms, unsigned max_attempts)
{
	if (!b)
		return EAS_E_INVALID;
	eas__backoff v;
	v.base_ms = base_ms ? base_ms : EAS__BACKOFF_DEFAULT_BASE_MS;
	v.cap_ms = cap_ms ? cap_ms : EAS__BACKOFF_DEFAULT_CAP_MS;
	v.min_ms = min_ms ? min_ms : EAS__BACKOFF_DEFAULT_MIN_MS;
	v.max_retry_after_ms = max_retry_after_ms ? max_retry_after_ms
						  : EAS__BACKOFF_DEFAULT_MAX_RETRY_AFTER_MS;
	v.max_attempts = max_attempts;
	v.attempts = 0;
	if (v.cap_ms < v.base_ms || v.min_ms > v.cap_ms)
		return EAS_E_INVALID;
	*b = v;
	return 0;
}

/* min(cap, base * 2^n) without overflow. */
static uint32_t ceiling(const eas__backoff *b, unsigned n)
{
	uint64_t c = b->base_ms;
	for (unsigned i = 0; i < n && c < b->cap_ms; i++)
		c <<= 1;
	return c > b->cap_ms ? b->cap_ms : (uint32_t)c;
}

int eas__backoff_next(uint64_t *out_ms, eas__backoff *b, uint32_t random_value,
	int has_retry_after, uint32_t retry_after_s)
{
	if (!out_ms || !b)
		return EAS_E_INVALID;
	if (b->attempts >= b->max_attempts)
		return EAS_E_LIMIT;
	uint64_t ceil_ms = ceiling(b, b->attempts);
	/* Uniform in [0, ceil_ms]: (ceil_ms + 1) * r / 2^32, exact in 64 bits. */
	uint64_t delay = ((ceil_ms + 1) * (uint64_t)random_value) >> 32;
	if (delay < b->min_ms)
		delay = b->min_ms;
	if (has_retry_after) {
		uint64_t ra = (uint64_t)retry_after_s * 1000u;
		if (ra > b->max_retry_after_ms)
			ra = b->max_retry_after_ms;
		if (delay < ra)
			delay = ra;
	}
	b->attempts++;
	*out_ms = delay;
	return 0;
}

void eas__backoff_reset(eas__backoff *b)
{
	if (b)
		b->attempts = 0;
}

void eas__redirects_init(eas__redirects *r, unsigned max)
{
	if (!r)
		return;
	r->max = max ? max : EAS__REDIRECT_DEFAULT_MAX;
	r->count = 0;
}

int eas__redirects_follow(eas__redirects *r, const char *current_url, const char *location)
{
	if (!r || !current_url || !location)
		return EAS_E_INVALID;
	if (strcmp(current_url, location) == 0)
		return EAS_E_PROTOCOL;
	if (r->count >= r->max)
		return EAS_E_LIMIT;
	r->count++;
	return 0;
}

void eas__redirects_reset(eas__redirects *r)
{
	if (r)
		r->count = 0;
}
