/*
 * libFuzzer target: the Autodiscover state machine (eas/autodiscover.h) fed
 * arbitrary bytes as the body of every HTTP 200 it gets.
 *
 * The input is the body.  A machine for alice@example.com (Basic auth) is
 * driven to its end: every request is answered 200 with the input, every
 * DNS SRV question with one record, every confirmation with yes (so that
 * Action/Redirect addresses and URLs, step after step, all get explored).
 * This runs
 *   1. with the body fed whole;
 *   2. in pieces of 1..N bytes (N and the sizes from a hash of the input),
 *      ending with end(0) or, when a body call refuses, with its code;
 *   3. one byte at a time (inputs up to 1 KiB);
 *   4. like 1 with the Nth allocation failing (N from the hash);
 *   5. with plain http allowed, fed whole.
 * Checks:
 *   - the machine ends (DONE or FAILED) within a bound of actions; DONE has
 *     a URL, https:// unless plain http is allowed; FAILED has a negative
 *     code and a message;
 *   - credentials: the password never appears in a message (FAILED, the
 *     attempts' details: "server-provided text that ends up in a message
 *     has any copy of the secrets replaced") nor in clear in a request
 *     header; the probe GET carries no header and no body; a POST with
 *     Authorization goes to https:// only (unless allowed).  URLs and
 *     result fields are the server's data, used as given: a server that
 *     knows the password may put it there;
 *   - runs 1-3 end the same way (kind, code, HTTP status, server error,
 *     URL, number of attempts): the outcome does not depend on the split;
 *   - run 4 ends like run 1 or with EAS_E_NOMEM ("running out of memory
 *     inside the machine ends it"), and no run leaks (the allocator counts
 *     live blocks).
 * A broken invariant aborts with the line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/autodiscover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_autodiscover_response: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                                        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define PASSWORD "s3cret!Pw"
#define MAX_ACTIONS 2000

/* ---- an allocator that counts live blocks and fails the Nth call ---------- */

typedef struct failmem {
	long calls;
	long fail_at; /* -1: never */
	long failed;
	long live;
} failmem;

static int fm_fail(failmem *fm)
{
	if (fm->calls++ == fm->fail_at) {
		fm->failed++;
		return 1;
	}
	return 0;
}

static void *fm_malloc(size_t size, void *ud)
{
	failmem *fm = ud;
	if (fm_fail(fm))
		return NULL;
	void *p = malloc(size ? size : 1);
	if (p)
		fm->live++;
	return p;
}

static void *fm_realloc(void *ptr, size_t size, void *ud)
{
	failmem *fm = ud;
	if (fm_fail(fm))
		return NULL;
	void *p = realloc(ptr, size ? size : 1);
	if (p && !ptr)
		fm->live++;
	return p;
}

static void fm_free(void *ptr, void *ud)
{
	failmem *fm = ud;
	if (ptr)
		fm->live--;
	free(ptr);
}

static uint64_t fnv(const uint8_t *data, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= data[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

/* ---- one run ------------------------------------------------------------------ */

enum feed_mode { FEED_WHOLE, FEED_PIECES, FEED_BYTES };

typedef struct outcome {
	eas_autodiscover_action_type type;
	int error, http_status, server_error;
	char url[512];
	size_t attempts;
} outcome;

static void no_secret(const char *s)
{
	if (s)
		CHECK(strstr(s, PASSWORD) == NULL);
}

static int starts_with(const char *s, const char *prefix)
{
	return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void check_request(const eas_http_request *r, int allow_http)
{
	CHECK(r->method && r->url);
	if (strcmp(r->method, "GET") == 0) {
		/* The probe: nothing that could leak over plain HTTP. */
		CHECK(r->header_count == 0);
		CHECK(r->body == NULL && r->body_length == 0);
		return;
	}
	CHECK(strcmp(r->method, "POST") == 0);
	int auth = 0;
	for (size_t i = 0; i < r->header_count; i++) {
		CHECK(r->headers[i].name && r->headers[i].value);
		if (strcmp(r->headers[i].name, "Authorization") == 0)
			auth = 1;
		no_secret(r->headers[i].value);
	}
	CHECK(auth);
	if (!allow_http)
		CHECK(starts_with(r->url, "https://"));
}

/* Answers one request: 200, the body fed as mode says. */
static void respond(eas_autodiscover *ad, const uint8_t *data, size_t size, enum feed_mode mode, uint64_t *rnd,
		    size_t max_piece, int lenient)
{
	static const eas_http_header h[] = { { "Content-Type", "text/xml; charset=utf-8" } };
	int rc = eas_autodiscover_response_begin(ad, 200, h, 1);
	if (rc != 0) {
		CHECK(lenient && rc == EAS_E_NOMEM);
		CHECK(eas_autodiscover_response_end(ad, 0) == 0);
		return;
	}
	int body_rc = 0;
	for (size_t off = 0; off < size && body_rc == 0;) {
		size_t piece = size - off;
		if (mode == FEED_BYTES)
			piece = 1;
		else if (mode == FEED_PIECES)
			piece = 1 + (size_t)(next_rand(rnd) % max_piece);
		if (piece > size - off)
			piece = size - off;
		body_rc = eas_autodiscover_response_body(ad, data + off, piece);
		CHECK(body_rc <= 0);
		off += piece;
	}
	/* A body the machine refused: end it with that code (as a transport that aborts) or with 0. */
	int end_code = body_rc != 0 && mode == FEED_PIECES && (next_rand(rnd) & 1) ? body_rc : 0;
	CHECK(eas_autodiscover_response_end(ad, end_code) == 0);
}

static void run(outcome *out, const uint8_t *data, size_t size, enum feed_mode mode, uint64_t seed,
		failmem *fm, int allow_http)
{
	memset(out, 0, sizeof *out);
	eas_mem mem = { fm_malloc, fm_realloc, fm_free, fm };
	eas_autodiscover_options o = EAS_AUTODISCOVER_OPTIONS_INIT;
	o.email = "alice@example.com";
	o.auth = EAS_AUTODISCOVER_AUTH_BASIC;
	o.password = PASSWORD;
	o.allow_plain_http = allow_http;
	o.mem = &mem;
	int lenient = fm->fail_at >= 0;
	eas_autodiscover *ad = NULL;
	int rc = eas_autodiscover_new(&ad, &o);
	if (rc != 0) {
		CHECK(lenient && rc == EAS_E_NOMEM && ad == NULL);
		out->type = EAS_AUTODISCOVER_FAILED;
		out->error = rc;
		CHECK(fm->live == 0);
		return;
	}
	uint64_t rnd = seed | 1;
	size_t max_piece = 1 + (size_t)(seed % 64);
	int steps = 0;
	for (;; steps++) {
		CHECK(steps < MAX_ACTIONS);
		eas_autodiscover_action a;
		CHECK(eas_autodiscover_next(ad, &a) == 0);
		if (a.type == EAS_AUTODISCOVER_SEND_REQUEST) {
			check_request(&a.request, allow_http);
			respond(ad, data, size, mode, &rnd, max_piece, lenient);
		} else if (a.type == EAS_AUTODISCOVER_NEED_SRV) {
			CHECK(a.srv_name && a.domain);
			eas_autodiscover_srv rec = { "mail.example.com", 443, 10, 1 };
			rc = eas_autodiscover_srv_result(ad, &rec, 1);
			CHECK(rc == 0 || (lenient && rc == EAS_E_NOMEM));
		} else if (a.type == EAS_AUTODISCOVER_CONFIRM) {
			CHECK(a.url != NULL);
			CHECK(eas_autodiscover_confirm(ad, 1) == 0);
		} else if (a.type == EAS_AUTODISCOVER_DONE) {
			const eas_autodiscover_result *r = a.result;
			CHECK(r && r->url && r->email && r->autodiscover_url);
			if (!allow_http)
				CHECK(starts_with(r->url, "https://"));
			snprintf(out->url, sizeof out->url, "%s", r->url);
			break;
		} else {
			CHECK(a.type == EAS_AUTODISCOVER_FAILED);
			CHECK(a.error < 0);
			CHECK(a.message != NULL);
			no_secret(a.message);
			out->http_status = a.http_status;
			out->server_error = a.server_error;
			if (a.url)
				snprintf(out->url, sizeof out->url, "%s", a.url);
			break;
		}
	}
	eas_autodiscover_action again;
	CHECK(eas_autodiscover_next(ad, &again) == 0);
	out->type = again.type;
	out->error = again.type == EAS_AUTODISCOVER_FAILED ? again.error : 0;
	const eas_autodiscover_attempt *at = NULL;
	out->attempts = eas_autodiscover_attempts(ad, &at);
	for (size_t i = 0; i < out->attempts; i++) {
		CHECK(at[i].method && at[i].url);
		no_secret(at[i].detail);
	}
	eas_autodiscover_free(ad);
	CHECK(fm->live == 0);
}

static void check_same(const outcome *a, const outcome *b)
{
	if (a->type != b->type || a->error != b->error || a->http_status != b->http_status ||
	    a->server_error != b->server_error || strcmp(a->url, b->url) != 0 || a->attempts != b->attempts) {
		fprintf(stderr, "fuzz_autodiscover_response: outcomes differ: %d/%d/%d/%d '%s' %zu vs %d/%d/%d/%d '%s' %zu\n",
			a->type, a->error, a->http_status, a->server_error, a->url, a->attempts, b->type, b->error,
			b->http_status, b->server_error, b->url, b->attempts);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fnv(data, size);
	outcome whole, pieces, bytes, failing, plain;

	failmem fm = { 0, -1, 0, 0 };
	run(&whole, data, size, FEED_WHOLE, h, &fm, 0);
	long calls = fm.calls;

	fm = (failmem){ 0, -1, 0, 0 };
	run(&pieces, data, size, FEED_PIECES, h, &fm, 0);
	check_same(&whole, &pieces);

	if (size <= 1024) {
		fm = (failmem){ 0, -1, 0, 0 };
		run(&bytes, data, size, FEED_BYTES, h, &fm, 0);
		check_same(&whole, &bytes);
	}

	fm = (failmem){ 0, calls ? (long)((h >> 7) % (uint64_t)calls) : -1, 0, 0 };
	run(&failing, data, size, FEED_WHOLE, h, &fm, 0);
	/* Running out of memory ends the machine with EAS_E_NOMEM; else nothing changes. */
	if (!(fm.failed && failing.type == EAS_AUTODISCOVER_FAILED && failing.error == EAS_E_NOMEM))
		check_same(&whole, &failing);

	fm = (failmem){ 0, -1, 0, 0 };
	run(&plain, data, size, FEED_WHOLE, h, &fm, 1);
	return 0;
}
