/*
 * libFuzzer target: the MS-ASAcceptMultiPart framing (commands/multipart.h).
 *
 * The first input byte picks the part limit and how the body is split; the
 * rest is the body.  Checks:
 *   - the whole-body parser and the streaming parser (fed in chunks, every
 *     callback sometimes pausing) give the same result code;
 *   - when they accept, the streaming parser delivers every part exactly
 *     once, in offset order, with the bytes the whole-body parser points at,
 *     and never more bytes than announced;
 *   - errors come with a message and are sticky;
 *   - writing the parts back with the writer gives a body both parsers
 *     accept with the same parts.
 * A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                          \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "fuzz_multipart: check failed at line %d: %s\n", __LINE__, #c); \
			abort();                                                          \
		}                                                                         \
	} while (0)

#define MAX_PARTS 64u

typedef struct seen {
	const eas_multipart_view *view; /* NULL when the whole parser refused */
	uint32_t count;
	int header;
	int open;                /* a part is between begin and end */
	uint32_t index, length, got;
	uint64_t last_offset;
	uint8_t done[MAX_PARTS];
	uint32_t delivered;
	unsigned pause_mask, events;
} seen;

static uint32_t offset_of(const eas_multipart_view *v, uint32_t index)
{
	const uint8_t *p = v->data + 4 + 8 * (size_t)index;
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static int maybe_pause(seen *s)
{
	s->events++;
	return (s->pause_mask >> (s->events % 8)) & 1 ? EAS_E_PAUSED : 0;
}

static int on_header(uint32_t count, void *ud)
{
	seen *s = ud;
	CHECK(!s->header && count >= 1 && count <= MAX_PARTS);
	s->header = 1;
	s->count = count;
	return maybe_pause(s);
}

static int on_begin(uint32_t index, uint32_t length, void *ud)
{
	seen *s = ud;
	CHECK(s->header && !s->open && index < s->count && !s->done[index]);
	s->open = 1;
	s->index = index;
	s->length = length;
	s->got = 0;
	if (s->view) {
		const uint8_t *b;
		size_t n;
		CHECK(eas_multipart_part(s->view, index, &b, &n) == 0 && n == length);
		uint64_t off = offset_of(s->view, index);
		CHECK(off >= s->last_offset);
		s->last_offset = off;
	}
	return maybe_pause(s);
}

static int on_data(uint32_t index, const uint8_t *bytes, size_t len, void *ud)
{
	seen *s = ud;
	CHECK(s->open && index == s->index && len > 0 && len <= s->length - s->got);
	if (s->view) {
		const uint8_t *b;
		size_t n;
		CHECK(eas_multipart_part(s->view, index, &b, &n) == 0);
		CHECK(memcmp(b + s->got, bytes, len) == 0);
	}
	s->got += (uint32_t)len;
	return maybe_pause(s);
}

static int on_end(uint32_t index, void *ud)
{
	seen *s = ud;
	CHECK(s->open && index == s->index && s->got == s->length);
	s->open = 0;
	s->done[index] = 1;
	s->delivered++;
	return maybe_pause(s);
}

static const eas_multipart_callbacks callbacks = { EAS_MULTIPART_CALLBACKS_VERSION, on_header, on_begin, on_data,
						   on_end };

/* Streams the body in chunks of `chunk` bytes; returns the final result. */
static int stream(const uint8_t *body, size_t len, uint32_t max_parts, size_t chunk, seen *s)
{
	eas_multipart_parser *p = NULL;
	CHECK(eas_multipart_parser_new(&p, &callbacks, max_parts, NULL, s) == 0);
	int rc = 0;
	size_t at = 0;
	unsigned guard = 0;
	while (rc == 0 && at < len) {
		size_t n = len - at < chunk ? len - at : chunk;
		size_t used = 0;
		rc = eas_multipart_parser_feed(p, body + at, n, &used);
		CHECK(used <= n);
		CHECK(rc != 0 || used == n);
		at += used;
		if (rc == EAS_E_PAUSED)
			rc = 0;
		CHECK(++guard < 4 * len + 4 * MAX_PARTS + 16);
	}
	while (rc == 0 && (rc = eas_multipart_parser_finish(p)) == EAS_E_PAUSED) {
		rc = 0;
		CHECK(++guard < 4 * len + 4 * MAX_PARTS + 32);
	}
	if (rc) {
		CHECK(eas_multipart_parser_error(p) != NULL);
		CHECK(eas_multipart_parser_feed(p, body, len, NULL) == rc); /* sticky */
	}
	eas_multipart_parser_free(p);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint32_t max_parts = 1 + (data[0] & 0x3F);   /* 1..64 */
	size_t chunk = 1 + (size_t)(data[0] >> 6) * 7; /* 1, 8, 15, 22 */
	unsigned pause_mask = data[0] * 0x9Du;
	const uint8_t *body = data + 1;
	size_t len = size - 1;

	eas_multipart_view v;
	char err[160] = "";
	int whole = eas_multipart_parse(&v, body, len, max_parts, err, sizeof err);
	CHECK(whole == 0 || err[0]);
	CHECK(whole == 0 || whole == EAS_E_MALFORMED || whole == EAS_E_LIMIT || whole == EAS_E_TRUNCATED);

	seen s;
	memset(&s, 0, sizeof s);
	s.view = whole == 0 ? &v : NULL;
	s.pause_mask = pause_mask;
	int streamed = stream(body, len, max_parts, chunk, &s);
	CHECK(streamed == whole);
	if (whole != 0)
		return 0;
	CHECK(s.header && !s.open && s.count == v.count && s.delivered == v.count);

	/* Write the parts back to back and parse the result again. */
	uint64_t lengths[MAX_PARTS];
	size_t total = (size_t)EAS_MULTIPART_HEADER_SIZE(v.count);
	for (uint32_t i = 0; i < v.count; i++) {
		const uint8_t *b;
		size_t n;
		CHECK(eas_multipart_part(&v, i, &b, &n) == 0);
		lengths[i] = n;
		total += n;
	}
	uint8_t *again = malloc(total);
	CHECK(again != NULL);
	CHECK(eas_multipart_header_encode(again, total, lengths, v.count) == 0);
	size_t at = (size_t)EAS_MULTIPART_HEADER_SIZE(v.count);
	for (uint32_t i = 0; i < v.count; i++) {
		const uint8_t *b;
		size_t n;
		CHECK(eas_multipart_part(&v, i, &b, &n) == 0);
		if (n)
			memcpy(again + at, b, n);
		at += n;
	}
	eas_multipart_view w;
	CHECK(eas_multipart_parse(&w, again, total, max_parts, NULL, 0) == 0 && w.count == v.count);
	for (uint32_t i = 0; i < v.count; i++) {
		const uint8_t *a, *b;
		size_t na, nb;
		CHECK(eas_multipart_part(&v, i, &a, &na) == 0 && eas_multipart_part(&w, i, &b, &nb) == 0);
		CHECK(na == nb && (na == 0 || memcmp(a, b, na) == 0));
	}
	memset(&s, 0, sizeof s);
	s.view = &w;
	CHECK(stream(again, total, max_parts, 3, &s) == 0 && s.delivered == w.count);
	free(again);
	return 0;
}
