/*
 * libFuzzer target: the streaming WBXML decoder.
 *
 * Every input is decoded several times: whole, split in two at a position
 * derived from its first bytes, in small pseudo-random chunks, one byte at a
 * time, in tolerant mode, and with tiny pieces and limits while callbacks
 * pause (and sometimes abort).  Each run checks the decoder's contract:
 *
 *   - start/end tags nest, end tags name the element they close, and one
 *     root element is complete whenever finish() returns 0;
 *   - a value arrives as pieces of at most piece_size bytes, non-final
 *     pieces are never empty, only the last one is final, no tag comes in
 *     between, strings hold no NUL, opaque pieces add up to the declared
 *     total, and a value that fits in one piece comes in one call;
 *   - limits hold (depth, string, opaque and document sizes);
 *   - every error comes with a message and an offset <= the input length,
 *     is sticky, and a callback error is reported as EAS_E_CALLBACK;
 *   - feeding and finishing never allocate;
 *   - how the input is split (or paused) never changes the events, the
 *     result, the error message or its offset.
 *
 * A broken invariant aborts with the line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/wbxml.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/*
 * EAS_FUZZ_LAX_OFFSETS=1 in the environment leaves error offsets out of the
 * "split changes nothing" comparison (to look past a known finding).
 */
static int lax_offsets;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	const char *lax = getenv("EAS_FUZZ_LAX_OFFSETS");
	lax_offsets = lax && *lax && strcmp(lax, "0") != 0;
	return 0;
}

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_wbxml_decoder: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                           \
			abort();                                                      \
		}                                                                     \
	} while (0)

/* ---- an allocator that notices allocations during decoding ---------------- */

typedef struct counting_mem {
	long allocations;
} counting_mem;

static void *cm_malloc(size_t size, void *ud)
{
	((counting_mem *)ud)->allocations++;
	return malloc(size);
}

static void *cm_realloc(void *p, size_t size, void *ud)
{
	((counting_mem *)ud)->allocations++;
	return realloc(p, size);
}

static void cm_free(void *p, void *ud)
{
	(void)ud;
	free(p);
}

/* ---- digest of everything a run observes ---------------------------------- */

static uint64_t mix(uint64_t h, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull; /* FNV-1a */
	}
	return h;
}

static uint64_t mix_u64(uint64_t h, uint64_t v)
{
	uint8_t b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	return mix(h, b, sizeof b);
}

/* ---- one decoding run ----------------------------------------------------- */

typedef struct run {
	eas_wbxml_decoder_options opt;
	int pause_every;  /* return EAS_E_PAUSED from every Nth event; 0 = never */
	long abort_at;    /* return an error from this event (0-based); -1 = never */

	long events;
	int aborted;      /* the abort was returned */
	unsigned depth;
	uint16_t stack[4096];
	int roots;        /* start tags seen at depth 0 */
	int complete;     /* the root element is complete */

	int in_value;     /* a non-final piece came; the value goes on */
	eas_wbxml_data_kind kind;
	uint64_t value_len;
	uint64_t total;
	long pieces;

	uint32_t touched; /* every data byte is read */
	uint64_t digest;
} run;

/* What a callback returns for the current event. */
static int verdict(run *r)
{
	long n = r->events++;
	if (n == r->abort_at) {
		r->aborted = 1;
		return -1000; /* not an EAS_E_* value: the decoder must still map it */
	}
	if (r->pause_every && (n + 1) % r->pause_every == 0)
		return EAS_E_PAUSED;
	return 0;
}

static int on_start(eas_tag tag, int has_content, void *ud)
{
	run *r = ud;
	CHECK(!r->aborted);
	CHECK(!r->in_value);
	CHECK(!r->complete);
	CHECK(has_content == 0 || has_content == 1);
	CHECK(((unsigned)tag & ~0xFF3Fu) == 0);
	/* Unknown tags are errors, or skipped in tolerant mode: never reported. */
	CHECK(eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag)) != NULL);
	if (r->depth == 0)
		CHECK(++r->roots == 1);
	if (has_content) {
		CHECK(r->depth < r->opt.max_depth);
		CHECK(r->depth < sizeof r->stack / sizeof r->stack[0]);
		r->stack[r->depth++] = (uint16_t)tag;
	} else if (r->depth == 0) {
		r->complete = 1;
	}
	uint8_t rec[4] = { 'S', (uint8_t)(tag >> 8), (uint8_t)tag, (uint8_t)has_content };
	r->digest = mix(r->digest, rec, sizeof rec);
	return verdict(r);
}

static int on_end(eas_tag tag, void *ud)
{
	run *r = ud;
	CHECK(!r->aborted);
	CHECK(!r->in_value);
	CHECK(r->depth > 0);
	CHECK(r->stack[r->depth - 1] == (uint16_t)tag);
	if (--r->depth == 0)
		r->complete = 1;
	uint8_t rec[3] = { 'E', (uint8_t)(tag >> 8), (uint8_t)tag };
	r->digest = mix(r->digest, rec, sizeof rec);
	return verdict(r);
}

static int on_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
		   uint64_t total, void *ud)
{
	run *r = ud;
	CHECK(!r->aborted);
	CHECK(r->depth > 0);
	CHECK(kind == EAS_WBXML_STRING || kind == EAS_WBXML_OPAQUE);
	CHECK(final == 0 || final == 1);
	CHECK(len <= r->opt.piece_size);
	CHECK(len == 0 || bytes != NULL);
	CHECK(final || len > 0);
	if (r->in_value) {
		CHECK(kind == r->kind);
		CHECK(total == r->total);
	} else {
		r->kind = kind;
		r->total = total;
		r->value_len = 0;
		r->pieces = 0;
	}
	r->pieces++;
	r->value_len += len;
	if (kind == EAS_WBXML_STRING) {
		CHECK(total == 0);
		CHECK(len == 0 || memchr(bytes, 0, len) == NULL);
		CHECK(r->value_len <= r->opt.max_string);
	} else {
		CHECK(total <= r->opt.max_opaque);
		CHECK(r->value_len <= total);
		if (final)
			CHECK(r->value_len == total);
	}
	for (size_t i = 0; i < len; i++)
		r->touched += bytes[i];
	if (final) {
		/* "Values up to piece_size come in one call." */
		if (r->value_len <= r->opt.piece_size)
			CHECK(r->pieces == 1);
		r->in_value = 0;
	} else {
		r->in_value = 1;
	}
	uint8_t head[2] = { kind == EAS_WBXML_STRING ? 'T' : 'O', 0 };
	if (!r->in_value || r->pieces == 1) /* value boundaries, not piece boundaries */
		r->digest = mix(r->digest, head, sizeof head);
	r->digest = mix(r->digest, bytes, len);
	if (final)
		r->digest = mix(r->digest, "$", 1);
	return verdict(r);
}

static const eas_wbxml_callbacks callbacks = { EAS_WBXML_CALLBACKS_VERSION, on_start, on_end, on_data };

/* ---- feeding plans -------------------------------------------------------- */

enum plan { WHOLE, SPLIT, CHUNKS, BYTES };

typedef struct feeder {
	enum plan plan;
	size_t split;     /* SPLIT: first chunk length */
	uint64_t rng;     /* CHUNKS: xorshift state */
} feeder;

static uint64_t next_rand(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static size_t next_chunk(feeder *f, size_t pos, size_t size)
{
	size_t left = size - pos;
	size_t n = left;
	switch (f->plan) {
	case WHOLE:
		break;
	case SPLIT:
		if (pos < f->split)
			n = f->split - pos;
		break;
	case CHUNKS:
		n = 1 + (size_t)(next_rand(&f->rng) % 17);
		break;
	case BYTES:
		n = 1;
		break;
	}
	return n < left ? n : left;
}

static int is_error(int rc)
{
	return rc == EAS_E_MALFORMED || rc == EAS_E_UNSUPPORTED || rc == EAS_E_LIMIT ||
	       rc == EAS_E_CALLBACK || rc == EAS_E_TRUNCATED;
}

/* Decodes data with r's options along the plan; returns the digest of the run. */
static uint64_t decode(run *r, feeder f, const uint8_t *data, size_t size)
{
	counting_mem cm = { 0 };
	eas_mem mem = { cm_malloc, cm_realloc, cm_free, &cm };
	eas_wbxml_decoder *d = NULL;
	run cfg = *r;

	memset(r, 0, sizeof *r);
	r->opt = cfg.opt;
	r->pause_every = cfg.pause_every;
	r->abort_at = cfg.abort_at;
	r->digest = 0xcbf29ce484222325ull;

	CHECK(eas_wbxml_decoder_new(&d, &callbacks, &r->opt, &mem, r) == 0);
	long allocations = cm.allocations;
	/* Report the limits the decoder really applies (0 means "default"). */
	const eas_wbxml_decoder_options defaults = EAS_WBXML_DECODER_OPTIONS_INIT;
	if (!r->opt.max_depth)
		r->opt.max_depth = defaults.max_depth;
	if (!r->opt.max_string)
		r->opt.max_string = defaults.max_string;
	if (!r->opt.max_opaque)
		r->opt.max_opaque = defaults.max_opaque;
	if (!r->opt.piece_size)
		r->opt.piece_size = defaults.piece_size;

	int rc = 0;
	size_t pos = 0;
	while (pos < size && rc == 0) {
		size_t n = next_chunk(&f, pos, size);
		const uint8_t *chunk = data + pos;
		size_t left = n;
		long guard = 0;
		for (;;) {
			size_t consumed = (size_t)-1;
			long before = r->events;
			rc = eas_wbxml_decoder_feed(d, chunk, left, &consumed);
			CHECK(consumed <= left);
			if (rc == 0)
				CHECK(consumed == left);
			chunk += consumed;
			left -= consumed;
			pos += consumed;
			CHECK(eas_wbxml_decoder_offset(d) == pos);
			if (rc != EAS_E_PAUSED)
				break;
			/* A pause always follows an event and pausing is on. */
			CHECK(r->pause_every != 0 && r->events > before);
			CHECK(++guard <= 2 * (long)n + 4);
			if (left == 0) {
				rc = 0;
				break;
			}
		}
	}

	if (rc == 0)
		rc = eas_wbxml_decoder_finish(d);
	CHECK(cm.allocations == allocations);

	uint64_t err_offset = UINT64_MAX;
	const char *msg = eas_wbxml_decoder_error(d, &err_offset);
	if (rc == 0) {
		CHECK(msg == NULL);
		CHECK(pos == size);
		CHECK(r->roots == 1 && r->complete && r->depth == 0 && !r->in_value);
		CHECK(!r->aborted);
		if (r->opt.max_total)
			CHECK(size <= r->opt.max_total);
	} else {
		CHECK(is_error(rc));
		CHECK(msg != NULL && msg[0] != '\0');
		CHECK(err_offset <= size);
		/* The offset names the offending byte, which may lie past what was consumed. */
		CHECK((rc == EAS_E_CALLBACK) == (r->aborted != 0));
		/* Sticky: every later call says the same. */
		size_t consumed = 1;
		uint8_t byte = 0x01;
		CHECK(eas_wbxml_decoder_feed(d, &byte, 1, &consumed) == rc && consumed == 0);
		CHECK(eas_wbxml_decoder_finish(d) == rc);
		uint64_t again = UINT64_MAX;
		CHECK(eas_wbxml_decoder_error(d, &again) == msg && again == err_offset);
		r->digest = mix(r->digest, msg, strlen(msg));
		if (!lax_offsets)
			r->digest = mix_u64(r->digest, err_offset);
	}
	r->digest = mix_u64(r->digest, (uint64_t)(int64_t)rc);

	/* reset gives a fresh decoder with the same options and no allocation. */
	eas_wbxml_decoder_reset(d);
	CHECK(eas_wbxml_decoder_error(d, NULL) == NULL);
	CHECK(eas_wbxml_decoder_offset(d) == 0);
	CHECK(cm.allocations == allocations);
	eas_wbxml_decoder_free(d);
	return r->digest;
}

/* Plain whole-input decoding of d into r (fresh counters); digest ^ result. */
static uint64_t decode_plain(eas_wbxml_decoder *d, run *r, const uint8_t *data, size_t size)
{
	eas_wbxml_decoder_options opt = r->opt;
	memset(r, 0, sizeof *r);
	r->opt = opt;
	r->abort_at = -1;
	r->digest = 0xcbf29ce484222325ull;
	int rc = eas_wbxml_decoder_feed(d, data, size, NULL);
	if (rc == 0)
		rc = eas_wbxml_decoder_finish(d);
	return r->digest ^ (uint64_t)(int64_t)rc;
}

/* A decoder reset after (part of) a document decodes like a new one. */
static void check_reset(run *r, const uint8_t *data, size_t size)
{
	eas_wbxml_decoder *d = NULL;
	CHECK(eas_wbxml_decoder_new(&d, &callbacks, &r->opt, NULL, r) == 0);
	uint64_t fresh = decode_plain(d, r, data, size);
	eas_wbxml_decoder_free(d);

	CHECK(eas_wbxml_decoder_new(&d, &callbacks, &r->opt, NULL, r) == 0);
	/* Dirty it: the first half of the input, or the whole of it. */
	decode_plain(d, r, data, size / 2);
	eas_wbxml_decoder_reset(d);
	CHECK(decode_plain(d, r, data, size) == fresh);
	decode_plain(d, r, data, size);
	eas_wbxml_decoder_reset(d);
	CHECK(decode_plain(d, r, data, size) == fresh);
	eas_wbxml_decoder_free(d);
}

/* ---- the target ----------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Configuration from the first bytes (FNV-1a of up to 8 of them) and the size. */
	uint64_t h = mix(0xcbf29ce484222325ull, data, size < 8 ? size : 8);
	h = mix_u64(h, size);
	if (h == 0)
		h = 1;

	const eas_wbxml_decoder_options defaults = EAS_WBXML_DECODER_OPTIONS_INIT;
	feeder whole = { WHOLE, 0, 0 };
	feeder split = { SPLIT, size ? (size_t)(h % (size + 1)) : 0, 0 };
	feeder chunks = { CHUNKS, 0, h };
	feeder bytes = { BYTES, 0, 0 };

	run *r = malloc(sizeof *r);
	CHECK(r != NULL);

	/* 1. Default options: whole, split, chunks and bytes agree. */
	r->opt = defaults;
	r->pause_every = 0;
	r->abort_at = -1;
	uint64_t expect = decode(r, whole, data, size);
	CHECK(decode(r, split, data, size) == expect);
	CHECK(decode(r, chunks, data, size) == expect);
	if (size <= 4096)
		CHECK(decode(r, bytes, data, size) == expect);

	/* 2. Tolerant mode: whole and split agree. */
	r->opt = defaults;
	r->opt.tolerant = 1;
	r->pause_every = 0;
	r->abort_at = -1;
	expect = decode(r, whole, data, size);
	CHECK(decode(r, split, data, size) == expect);

	/* 3. Tiny pieces and limits; pauses and maybe an abort change nothing else. */
	uint64_t g = h;
	r->opt = defaults;
	r->opt.tolerant = (int)(next_rand(&g) & 1);
	r->opt.piece_size = 1 + (size_t)(next_rand(&g) % 16);
	r->opt.max_depth = 1 + (unsigned)(next_rand(&g) % 8);
	r->opt.max_string = 1 + next_rand(&g) % 64;
	r->opt.max_opaque = 1 + next_rand(&g) % 64;
	r->opt.max_total = (next_rand(&g) & 1) ? 0 : 1 + next_rand(&g) % (size + 1);
	r->pause_every = 0;
	r->abort_at = (next_rand(&g) % 4 == 0) ? (long)(next_rand(&g) % 32) : -1;
	long abort_at = r->abort_at;
	expect = decode(r, whole, data, size);
	r->pause_every = 1 + (int)(next_rand(&g) % 3);
	r->abort_at = abort_at;
	CHECK(decode(r, chunks, data, size) == expect);

	/* 4. A reset decoder behaves like a new one. */
	r->opt = defaults;
	check_reset(r, data, size);

	free(r);
	return 0;
}
