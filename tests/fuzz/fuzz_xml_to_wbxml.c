/*
 * libFuzzer target: XML -> WBXML (eas_xml_to_wbxml), and back.
 *
 * The input is an XML document.  It is converted whole and split in two at
 * a position derived from its first bytes, with default options, then with
 * tiny limits and a protocol version, then with the Nth allocation failing.
 * Checks:
 *   - the result never depends on the split, and on success neither do the
 *     WBXML bytes;
 *   - every error has a message; a failed allocation is EAS_E_NOMEM (or
 *     does not matter); nothing leaks (ASan);
 *   - the WBXML decodes, and converting it back to XML (compact and
 *     indented, with and without declaration and DOCTYPE) and that XML to
 *     WBXML again gives the same bytes: the converters are each other's
 *     inverse on everything the XML side produces.
 * A broken invariant aborts with the line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/wbxml.h"
#include "eas/wbxml_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_xml_to_wbxml: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                           \
			abort();                                                      \
		}                                                                     \
	} while (0)

#define OUTPUT_CAP (16u << 20)

/* ---- output collection ---------------------------------------------------- */

typedef struct out {
	uint8_t *data;
	size_t len, cap;
} out;

static int put(out *o, const void *bytes, size_t len)
{
	if (len > OUTPUT_CAP - o->len)
		return -1;
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap : 256;
		while (cap < o->len + len)
			cap *= 2;
		uint8_t *p = realloc(o->data, cap);
		if (!p)
			return -1;
		o->data = p;
		o->cap = cap;
	}
	if (len)
		memcpy(o->data + o->len, bytes, len);
	o->len += len;
	return 0;
}

static int wbxml_sink(const uint8_t *bytes, size_t len, void *ud)
{
	return put(ud, bytes, len);
}

static int xml_sink(const char *text, size_t len, void *ud)
{
	return put(ud, text, len);
}

/* ---- an allocator that counts, and fails the Nth allocation ----------------- */

typedef struct failmem {
	long calls;
	long fail_at; /* -1: never */
	long failed;
} failmem;

static int fm_fail(failmem *fm)
{
	long n = fm->calls++;
	if (n == fm->fail_at) {
		fm->failed++;
		return 1;
	}
	return 0;
}

static void *fm_malloc(size_t size, void *ud)
{
	return fm_fail(ud) ? NULL : malloc(size);
}

static void *fm_realloc(void *p, size_t size, void *ud)
{
	return fm_fail(ud) ? NULL : realloc(p, size);
}

static void fm_free(void *p, void *ud)
{
	(void)ud;
	free(p);
}

/* ---- conversions ------------------------------------------------------------ */

/*
 * XML -> WBXML of data, fed in two parts at split (split >= size: one feed).
 * Returns the result; *o gets the WBXML (cleared first).
 */
static int xml_to_wbxml(const eas_xml_to_wbxml_options *opt, failmem *fm, const uint8_t *data,
			size_t size, size_t split, out *o)
{
	eas_mem mem = { fm_malloc, fm_realloc, fm_free, fm };
	eas_xml_to_wbxml *c = NULL;
	o->len = 0;
	int rc = eas_xml_to_wbxml_new(&c, wbxml_sink, opt, fm ? &mem : NULL, o);
	if (rc != 0) {
		CHECK(c == NULL);
		CHECK(rc == EAS_E_NOMEM && fm && fm->failed);
		return rc;
	}
	const char *xml = (const char *)data;
	if (split < size) {
		rc = eas_xml_to_wbxml_feed(c, xml, split);
		if (rc == 0)
			rc = eas_xml_to_wbxml_feed(c, xml + split, size - split);
	} else {
		rc = eas_xml_to_wbxml_feed(c, xml, size);
	}
	if (rc == 0)
		rc = eas_xml_to_wbxml_finish(c);

	unsigned long line = 0, col = 0;
	const char *msg = eas_xml_to_wbxml_error(c, &line, &col);
	if (rc == 0) {
		CHECK(msg == NULL);
		/* Header, and at least one tag. */
		CHECK(o->len >= 5);
	} else {
		CHECK(rc < 0 && rc != EAS_E_PAUSED);
		CHECK(msg != NULL && msg[0] != '\0');
		/* Sticky. */
		CHECK(eas_xml_to_wbxml_feed(c, "<", 1) == rc);
		CHECK(eas_xml_to_wbxml_finish(c) == rc);
	}
	eas_xml_to_wbxml_free(c);
	return rc;
}

/* WBXML -> XML with the given layout. */
static int wbxml_to_xml(const out *w, int compact, int decl, int doctype, out *x)
{
	eas_wbxml_to_xml_options opt = EAS_WBXML_TO_XML_OPTIONS_INIT;
	opt.compact = compact;
	opt.declaration = decl;
	opt.doctype = doctype;
	eas_wbxml_to_xml *c = NULL;
	x->len = 0;
	CHECK(eas_wbxml_to_xml_new(&c, xml_sink, &opt, NULL, x) == 0);
	int rc = eas_wbxml_to_xml_feed(c, w->data, w->len);
	if (rc == 0)
		rc = eas_wbxml_to_xml_finish(c);
	if (rc != 0) {
		uint64_t off = 0;
		const char *msg = eas_wbxml_to_xml_error(c, &off);
		fprintf(stderr, "fuzz_xml_to_wbxml: WBXML from XML does not convert back: %s at %llu\n",
			msg ? msg : "?", (unsigned long long)off);
	}
	eas_wbxml_to_xml_free(c);
	return rc;
}

/* The WBXML must decode with the plain decoder (default limits). */
static int plain_decode(const out *w)
{
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	eas_wbxml_decoder *d = NULL;
	CHECK(eas_wbxml_decoder_new(&d, &cb, NULL, NULL, NULL) == 0);
	int rc = eas_wbxml_decoder_feed(d, w->data, w->len, NULL);
	if (rc == 0)
		rc = eas_wbxml_decoder_finish(d);
	eas_wbxml_decoder_free(d);
	return rc;
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
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static int same(const out *a, const out *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

/* ---- the target ------------------------------------------------------------- */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fnv(data, size < 8 ? size : 8) ^ (uint64_t)size * 0x9E3779B97F4A7C15ull;
	if (h == 0)
		h = 1;
	size_t split = size ? (size_t)(h % (size + 1)) : 0;

	out w1 = { 0 }, w2 = { 0 }, x = { 0 }, w3 = { 0 };

	/* 1. Default options: whole and split agree. */
	const eas_xml_to_wbxml_options defaults = EAS_XML_TO_WBXML_OPTIONS_INIT;
	failmem count = { 0, -1, 0 };
	int rc = xml_to_wbxml(&defaults, &count, data, size, size, &w1);
	CHECK(count.failed == 0);
	int rc_split = xml_to_wbxml(&defaults, NULL, data, size, split, &w2);
	CHECK(rc_split == rc);
	if (rc == 0)
		CHECK(same(&w1, &w2));

	/* 2. Round trip: WBXML -> XML -> WBXML gives the same bytes, in every layout. */
	if (rc == 0) {
		CHECK(plain_decode(&w1) == 0);
		for (int layout = 0; layout < 4; layout++) {
			int compact = layout & 1, decl = (layout >> 1) & 1, doctype = !(layout & 1);
			CHECK(wbxml_to_xml(&w1, compact, decl, doctype, &x) == 0);
			int rc2 = xml_to_wbxml(&defaults, NULL, x.data, x.len, x.len, &w3);
			if (rc2 != 0 || !same(&w1, &w3)) {
				fprintf(stderr, "fuzz_xml_to_wbxml: round trip (layout %d) differs; XML was:\n%.*s\n",
					layout, (int)(x.len < 4000 ? x.len : 4000), (const char *)x.data);
				CHECK(rc2 == 0);
				CHECK(same(&w1, &w3));
			}
		}
	}

	/*
	 * 3. The Nth allocation fails: a clean error (usually EAS_E_NOMEM; expat
	 * 2.5 sometimes swallows a failed allocation and goes on differently,
	 * e.g. reporting an xmlns:prefix declaration as an attribute), no leak,
	 * no crash; and never a success with different output.
	 */
	if (count.calls > 0) {
		failmem fm = { 0, (long)(h % (uint64_t)count.calls), 0 };
		int rc_fail = xml_to_wbxml(&defaults, &fm, data, size, size, &w3);
		CHECK(fm.failed == 1);
		if (rc_fail == 0)
			CHECK(rc == 0 && same(&w1, &w3));
	}

	/* 4. Tiny limits and a protocol version: results still split-invariant. */
	uint64_t g = h;
	eas_xml_to_wbxml_options small = defaults;
	small.max_depth = 1 + (unsigned)(next_rand(&g) % 8);
	small.max_text = 1 + (size_t)(next_rand(&g) % 64);
	small.max_binary = 1 + (size_t)(next_rand(&g) % 64);
	small.binary_as_text = (int)(next_rand(&g) & 1);
	static const unsigned versions[] = { 0, EAS_PROTO_2_5, EAS_PROTO_12_0, EAS_PROTO_12_1,
					     EAS_PROTO_14_0, EAS_PROTO_14_1, EAS_PROTO_16_0,
					     EAS_PROTO_16_1 };
	small.protocol_version = versions[next_rand(&g) % (sizeof versions / sizeof versions[0])];
	rc = xml_to_wbxml(&small, NULL, data, size, size, &w1);
	rc_split = xml_to_wbxml(&small, NULL, data, size, split, &w2);
	CHECK(rc_split == rc);
	if (rc == 0) {
		CHECK(same(&w1, &w2));
		CHECK(plain_decode(&w1) == 0);
	}
	/* max_input: refused before or while parsing, never accepted beyond. */
	small.max_input = 1 + next_rand(&g) % (size + 1);
	rc = xml_to_wbxml(&small, NULL, data, size, split, &w1);
	if (rc == 0)
		CHECK(size <= small.max_input);

	free(w1.data);
	free(w2.data);
	free(w3.data);
	free(x.data);
	return 0;
}
