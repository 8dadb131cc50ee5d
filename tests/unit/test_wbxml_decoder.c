/* The streaming WBXML decoder: events, any split, pieces, pause, limits, every malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/wbxml.h"
#include "testmem.h"

/* ---- an event recorder ----------------------------------------------------- */

typedef struct recorder {
	char log[8192];
	size_t len;
	uint8_t value[4096]; /* pieces of the current value, joined */
	size_t value_len;
	int pieces;          /* data callbacks seen */
	int max_piece;
	int pause_every;     /* return EAS_E_PAUSED from every event */
	int abort_on_start;  /* return an error from the first start tag */
} recorder;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void say(recorder *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(r->log + r->len, sizeof r->log - r->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof r->log - r->len);
	r->len += (size_t)n;
}

static const char *label(eas_tag tag)
{
	static char buf[96];
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, sizeof buf, "%s:%s", eas_codepage_name(EAS_TAG_PAGE(tag)), name ? name : "?");
	return buf;
}

static int on_start(eas_tag tag, int has_content, void *ud)
{
	recorder *r = ud;
	if (r->abort_on_start)
		return EAS_E_INVALID;
	say(r, has_content ? "<%s>" : "<%s/>", label(tag));
	return r->pause_every ? EAS_E_PAUSED : 0;
}

static int on_end(eas_tag tag, void *ud)
{
	recorder *r = ud;
	say(r, "</%s>", label(tag));
	return r->pause_every ? EAS_E_PAUSED : 0;
}

static int on_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
		   uint64_t total, void *ud)
{
	recorder *r = ud;
	r->pieces++;
	if ((int)len > r->max_piece)
		r->max_piece = (int)len;
	assert_true(r->value_len + len <= sizeof r->value);
	if (len)
		memcpy(r->value + r->value_len, bytes, len);
	r->value_len += len;
	if (final) {
		if (kind == EAS_WBXML_STRING) {
			say(r, "'%.*s'", (int)r->value_len, (const char *)r->value);
		} else {
			assert_int_equal(total, r->value_len);
			say(r, "#");
			for (size_t i = 0; i < r->value_len; i++)
				say(r, "%02x", r->value[i]);
		}
		r->value_len = 0;
	}
	return r->pause_every ? EAS_E_PAUSED : 0;
}

static eas_wbxml_decoder *new_decoder(recorder *r, const eas_wbxml_decoder_options *opt)
{
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	cb.start_tag = on_start;
	cb.end_tag = on_end;
	cb.data = on_data;
	eas_wbxml_decoder *d = NULL;
	memset(r, 0, sizeof *r);
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, opt, NULL, r), 0);
	return d;
}

/* Feeds chunks, resuming after pauses; returns the first non-pause result. */
static int feed_all(eas_wbxml_decoder *d, const uint8_t *p, size_t n)
{
	while (n) {
		size_t used = 0;
		int rc = eas_wbxml_decoder_feed(d, p, n, &used);
		assert_true(used <= n);
		p += used;
		n -= used;
		if (rc != EAS_E_PAUSED)
			return rc;
	}
	return 0;
}

/* ---- vectors --------------------------------------------------------------- */

/* After the spec's Contacts Sync example (MS-ASWBXML 3.1.1), with a page switch to AirSyncBase and back. */
static const uint8_t contacts_sync[] = {
	0x03, 0x01, 0x6A, 0x00,
	0x45, 0x5C, 0x4F,
	0x50, 0x03, 'C', 'o', 'n', 't', 'a', 'c', 't', 's', 0x00, 0x01,
	0x4B, 0x03, '2', 0x00, 0x01,
	0x52, 0x03, '2', 0x00, 0x01,
	0x56, 0x47,
	0x4C, 0x03, '1', '2', '3', 0x00, 0x01,
	0x5D,
	0x00, 0x11, 0x4A, 0x46, 0x03, '1', 0x00, 0x01, 0x4B, 0x03, 'h', 'i', 0x00, 0x01, 0x01,
	0x00, 0x01, 0x5E, 0x03, 'S', 'm', 'i', 't', 'h', 0x00, 0x01,
	0x01, 0x01, 0x01,
	0x00, 0x00, 0x14,
	0x01, 0x01, 0x01,
};

static const char contacts_sync_log[] =
	"<AirSync:Sync><AirSync:Collections><AirSync:Collection>"
	"<AirSync:Class>'Contacts'</AirSync:Class>"
	"<AirSync:SyncKey>'2'</AirSync:SyncKey>"
	"<AirSync:CollectionId>'2'</AirSync:CollectionId>"
	"<AirSync:Commands><AirSync:Add>"
	"<AirSync:ClientId>'123'</AirSync:ClientId>"
	"<AirSync:ApplicationData>"
	"<AirSyncBase:Body><AirSyncBase:Type>'1'</AirSyncBase:Type>"
	"<AirSyncBase:Data>'hi'</AirSyncBase:Data></AirSyncBase:Body>"
	"<Contacts:FileAs>'Smith'</Contacts:FileAs>"
	"</AirSync:ApplicationData></AirSync:Add></AirSync:Commands>"
	"<AirSync:MoreAvailable/>"
	"</AirSync:Collection></AirSync:Collections></AirSync:Sync>";

/* <Sync><SyncKey>OPAQUE 00 01 FF 03</SyncKey></Sync> */
static const uint8_t opaque_doc[] = {
	0x03, 0x01, 0x6A, 0x00, 0x45, 0x4B, 0xC3, 0x04, 0x00, 0x01, 0xFF, 0x03, 0x01, 0x01,
};

static void test_decodes_contacts_sync(void **state)
{
	(void)state;
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, NULL);
	assert_int_equal(eas_wbxml_decoder_feed(d, contacts_sync, sizeof contacts_sync, NULL), 0);
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_string_equal(r.log, contacts_sync_log);
	assert_int_equal(eas_wbxml_decoder_offset(d), sizeof contacts_sync);
	assert_null(eas_wbxml_decoder_error(d, NULL));
	eas_wbxml_decoder_free(d);
}

static void test_opaque_with_nul_bytes(void **state)
{
	(void)state;
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, NULL);
	assert_int_equal(feed_all(d, opaque_doc, sizeof opaque_doc), 0);
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_string_equal(r.log, "<AirSync:Sync><AirSync:SyncKey>#0001ff03</AirSync:SyncKey></AirSync:Sync>");
	eas_wbxml_decoder_free(d);
}

/* Every split into two chunks, and one byte at a time, gives the same events. */
static void check_every_split(const uint8_t *doc, size_t n, const char *expect)
{
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, NULL);
	for (size_t cut = 0; cut <= n; cut++) {
		eas_wbxml_decoder_reset(d);
		memset(&r, 0, sizeof r);
		assert_int_equal(feed_all(d, doc, cut), 0);
		assert_int_equal(feed_all(d, doc + cut, n - cut), 0);
		assert_int_equal(eas_wbxml_decoder_finish(d), 0);
		assert_string_equal(r.log, expect);
	}
	eas_wbxml_decoder_reset(d);
	memset(&r, 0, sizeof r);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(feed_all(d, doc + i, 1), 0);
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_string_equal(r.log, expect);
	eas_wbxml_decoder_free(d);
}

static void test_every_split(void **state)
{
	(void)state;
	check_every_split(contacts_sync, sizeof contacts_sync, contacts_sync_log);
	check_every_split(opaque_doc, sizeof opaque_doc,
			  "<AirSync:Sync><AirSync:SyncKey>#0001ff03</AirSync:SyncKey></AirSync:Sync>");
}

/* Pausing after every event and resuming gives the same events. */
static void test_pause_after_every_event(void **state)
{
	(void)state;
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, NULL);
	r.pause_every = 1;
	size_t off = 0, pauses = 0;
	int rc;
	while ((rc = eas_wbxml_decoder_feed(d, contacts_sync + off, sizeof contacts_sync - off, NULL)) ==
	       EAS_E_PAUSED) {
		pauses++;
		off = (size_t)eas_wbxml_decoder_offset(d);
		assert_true(off <= sizeof contacts_sync);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_string_equal(r.log, contacts_sync_log);
	assert_true(pauses >= 30);
	eas_wbxml_decoder_free(d);
}

static void test_callback_abort(void **state)
{
	(void)state;
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, NULL);
	r.abort_on_start = 1;
	assert_int_equal(eas_wbxml_decoder_feed(d, contacts_sync, sizeof contacts_sync, NULL), EAS_E_CALLBACK);
	uint64_t at = 0;
	assert_non_null(strstr(eas_wbxml_decoder_error(d, &at), "callback"));
	assert_int_equal(at, 4);
	/* Sticky: later calls give the same error. */
	assert_int_equal(eas_wbxml_decoder_feed(d, contacts_sync, 1, NULL), EAS_E_CALLBACK);
	assert_int_equal(eas_wbxml_decoder_finish(d), EAS_E_CALLBACK);
	eas_wbxml_decoder_free(d);
}

/* ---- pieces ---------------------------------------------------------------- */

static void test_long_values_come_in_pieces(void **state)
{
	(void)state;
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.piece_size = 4;
	static const uint8_t doc[] = {
		0x03, 0x01, 0x6A, 0x00, 0x45,
		0x4B, 0x03, 'h', 'e', 'l', 'l', 'o', 'w', 'o', 'r', 'l', 'd', 0x00, 0x01,
		0x4B, 0xC3, 0x0A, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 0x01,
		0x01,
	};
	for (size_t cut = 0; cut <= sizeof doc; cut++) {
		recorder r;
		eas_wbxml_decoder *d = new_decoder(&r, &opt);
		assert_int_equal(feed_all(d, doc, cut), 0);
		assert_int_equal(feed_all(d, doc + cut, sizeof doc - cut), 0);
		assert_int_equal(eas_wbxml_decoder_finish(d), 0);
		assert_string_equal(r.log, "<AirSync:Sync><AirSync:SyncKey>'helloworld'</AirSync:SyncKey>"
					   "<AirSync:SyncKey>#30313233343536373839</AirSync:SyncKey></AirSync:Sync>");
		assert_true(r.max_piece <= 4);
		assert_true(r.pieces >= 6);
		eas_wbxml_decoder_free(d);
	}
}

/* A value of exactly piece_size bytes comes whole, in one final piece, whatever the split. */
static void test_value_of_piece_size_is_one_piece(void **state)
{
	(void)state;
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.piece_size = 4;
	static const uint8_t doc[] = {
		0x03, 0x01, 0x6A, 0x00, 0x45, 0x4B, 0x03, 'a', 'b', 'c', 'd', 0x00, 0x01,
		0x4B, 0xC3, 0x04, 'w', 'x', 'y', 'z', 0x01, 0x01,
	};
	for (size_t cut = 0; cut <= sizeof doc; cut++) {
		recorder r;
		eas_wbxml_decoder *d = new_decoder(&r, &opt);
		assert_int_equal(feed_all(d, doc, cut), 0);
		assert_int_equal(feed_all(d, doc + cut, sizeof doc - cut), 0);
		assert_int_equal(eas_wbxml_decoder_finish(d), 0);
		assert_int_equal(r.pieces, 2);
		eas_wbxml_decoder_free(d);
	}
}

/* ---- memory ---------------------------------------------------------------- */

static void test_one_allocation_whatever_the_document(void **state)
{
	(void)state;
	testmem tm;
	eas_mem m = testmem_init(&tm, 0);
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	eas_wbxml_decoder *d = NULL;
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, NULL, &m, NULL), EAS_E_NOMEM);
	assert_null(d);
	assert_int_equal(tm.live_blocks, 0);

	m = testmem_init(&tm, -1);
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, NULL, &m, NULL), 0);
	for (int i = 0; i < 100; i++) {
		eas_wbxml_decoder_reset(d);
		assert_int_equal(feed_all(d, contacts_sync, sizeof contacts_sync), 0);
		assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	}
	assert_int_equal(tm.calls, 1); /* nothing per token, per value or per document */
	assert_true(tm.peak_bytes < 8192);
	eas_wbxml_decoder_free(d);
	assert_int_equal(tm.live_blocks, 0);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	eas_wbxml_decoder *d = NULL;
	assert_int_equal(eas_wbxml_decoder_new(NULL, &cb, NULL, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_decoder_new(&d, NULL, NULL, NULL, NULL), EAS_E_INVALID);
	cb.version = 99;
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, NULL, NULL, NULL), EAS_E_INVALID);
	cb.version = EAS_WBXML_CALLBACKS_VERSION;
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.max_depth = 1u << 20;
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, &opt, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_decoder_feed(NULL, contacts_sync, 1, NULL), EAS_E_INVALID);
	/* An empty feed (an empty HTTP body) is fine and finish then says why it is not a document. */
	eas_wbxml_decoder *e = NULL;
	assert_int_equal(eas_wbxml_decoder_new(&e, &cb, NULL, NULL, NULL), 0);
	assert_int_equal(eas_wbxml_decoder_feed(e, NULL, 0, NULL), 0);
	assert_int_equal(eas_wbxml_decoder_finish(e), EAS_E_TRUNCATED);
	assert_non_null(strstr(eas_wbxml_decoder_error(e, NULL), "empty document"));
	eas_wbxml_decoder_free(e);
	assert_int_equal(eas_wbxml_decoder_finish(NULL), EAS_E_INVALID);
	eas_wbxml_decoder_free(NULL);
}

/* ---- malformed input ------------------------------------------------------- */

typedef struct bad_case {
	const char *what;
	const uint8_t *bytes;
	size_t len;
	int feed_rc;     /* expected from feed */
	int finish_rc;   /* expected from finish (when feed succeeded) */
	uint64_t offset; /* expected error offset */
	const char *message_part;
} bad_case;

#define HDR 0x03, 0x01, 0x6A, 0x00
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })

static const bad_case bad_cases[] = {
	{ "bad version", BYTES(0x07, 0x01, 0x6A, 0x00), EAS_E_MALFORMED, 0, 0, "version" },
	{ "latin-1 charset", BYTES(0x03, 0x01, 0x04, 0x00, 0x45, 0x01), EAS_E_UNSUPPORTED, 0, 2, "charset" },
	{ "mb int > 32 bits", BYTES(0x03, 0x01, 0x6A, 0x90, 0x80, 0x80, 0x80, 0x00), EAS_E_MALFORMED, 0, 3, "32 bits" },
	{ "mb int of 6 bytes", BYTES(0x03, 0x01, 0x6A, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00), EAS_E_MALFORMED, 0, 3,
	  "longer than 5" },
	{ "huge string table", BYTES(0x03, 0x01, 0x6A, 0x84, 0x80, 0x80, 0x00), EAS_E_LIMIT, 0, 3, "string table" },
	{ "unknown page 72", BYTES(HDR, 0x45, 0x00, 0x48, 0x45, 0x01, 0x01), EAS_E_UNSUPPORTED, 0, 6,
	  "unknown code page 72" },
	{ "unknown page 254", BYTES(HDR, 0x00, 0xFE, 0x45), EAS_E_UNSUPPORTED, 0, 5, "unknown code page 254" },
	{ "unknown token", BYTES(HDR, 0x45, 0x51, 0x01, 0x01), EAS_E_UNSUPPORTED, 0, 5,
	  "unknown token 0x11 on code page 0 (AirSync)" },
	{ "page without tags", BYTES(HDR, 0x00, 0x03, 0x45, 0x01), EAS_E_UNSUPPORTED, 0, 6, "code page 3" },
	{ "string table ref", BYTES(HDR, 0x45, 0x83, 0x00, 0x01), EAS_E_UNSUPPORTED, 0, 5, "STR_T" },
	{ "attributes", BYTES(HDR, 0xC5, 0x01, 0x01), EAS_E_UNSUPPORTED, 0, 4, "attributes" },
	{ "entity", BYTES(HDR, 0x45, 0x02, 0x41, 0x01), EAS_E_UNSUPPORTED, 0, 5, "ENTITY" },
	{ "processing instruction", BYTES(HDR, 0x43, 0x01), EAS_E_UNSUPPORTED, 0, 4, "processing instruction" },
	{ "literal", BYTES(HDR, 0x45, 0x04, 0x00, 0x01), EAS_E_UNSUPPORTED, 0, 5, "LITERAL" },
	{ "extension", BYTES(HDR, 0x45, 0xC0, 0x01), EAS_E_UNSUPPORTED, 0, 5, "extension" },
	{ "END without start", BYTES(HDR, 0x01), EAS_E_MALFORMED, 0, 4, "END without" },
	{ "string before root", BYTES(HDR, 0x03, 'x', 0x00), EAS_E_MALFORMED, 0, 4, "outside any element" },
	{ "trailing element", BYTES(HDR, 0x45, 0x01, 0x45, 0x01), EAS_E_MALFORMED, 0, 6, "trailing data" },
	{ "trailing byte after empty root", BYTES(HDR, 0x05, 0x00), EAS_E_MALFORMED, 0, 5, "trailing data" },
	{ "opaque too long for the limit", BYTES(HDR, 0x45, 0xC3, 0x8F, 0xFF, 0xFF, 0xFF, 0x7F), EAS_E_LIMIT, 0, 6,
	  "opaque" },
	/* Truncations, found at finish. */
	{ "empty document", BYTES(0x03), 0, EAS_E_TRUNCATED, 1, "header" },
	{ "header mb int", BYTES(0x03, 0x81), 0, EAS_E_TRUNCATED, 2, "multi-byte integer" },
	{ "no root", BYTES(HDR), 0, EAS_E_TRUNCATED, 4, "no root" },
	{ "unclosed", BYTES(HDR, 0x45, 0x5C), 0, EAS_E_TRUNCATED, 6, "2 element(s) still open, innermost AirSync:Collections" },
	{ "in string", BYTES(HDR, 0x45, 0x03, 'a'), 0, EAS_E_TRUNCATED, 7, "NUL" },
	{ "SWITCH_PAGE at end", BYTES(HDR, 0x45, 0x00), 0, EAS_E_TRUNCATED, 6, "SWITCH_PAGE" },
	{ "opaque length", BYTES(HDR, 0x45, 0xC3, 0x81), 0, EAS_E_TRUNCATED, 7, "opaque length" },
	{ "opaque data", BYTES(HDR, 0x45, 0xC3, 0x03, 'a'), 0, EAS_E_TRUNCATED, 8, "opaque data" },
};

static void test_malformed_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
		const bad_case *c = &bad_cases[i];
		/* Same verdict fed whole and one byte at a time. */
		for (int bytewise = 0; bytewise < 2; bytewise++) {
			recorder r;
			eas_wbxml_decoder *d = new_decoder(&r, NULL);
			int rc = 0;
			if (bytewise) {
				for (size_t k = 0; k < c->len && rc == 0; k++)
					rc = eas_wbxml_decoder_feed(d, c->bytes + k, 1, NULL);
			} else {
				rc = eas_wbxml_decoder_feed(d, c->bytes, c->len, NULL);
			}
			if (rc != c->feed_rc)
				fail_msg("%s: feed gave %d, expected %d", c->what, rc, c->feed_rc);
			int fin = eas_wbxml_decoder_finish(d);
			int expect_fin = c->feed_rc ? c->feed_rc : c->finish_rc;
			if (fin != expect_fin)
				fail_msg("%s: finish gave %d, expected %d", c->what, fin, expect_fin);
			uint64_t at = 99;
			const char *msg = eas_wbxml_decoder_error(d, &at);
			assert_non_null(msg);
			if (!strstr(msg, c->message_part))
				fail_msg("%s: message '%s' lacks '%s'", c->what, msg, c->message_part);
			if (at != c->offset)
				fail_msg("%s: offset %llu, expected %llu", c->what, (unsigned long long)at,
					 (unsigned long long)c->offset);
			eas_wbxml_decoder_free(d);
		}
	}
}

/* Every truncation of a valid document is reported, never accepted. */
static void test_every_truncation_is_reported(void **state)
{
	(void)state;
	for (size_t n = 0; n < sizeof contacts_sync; n++) {
		recorder r;
		eas_wbxml_decoder *d = new_decoder(&r, NULL);
		assert_int_equal(eas_wbxml_decoder_feed(d, contacts_sync, n, NULL), 0);
		assert_int_equal(eas_wbxml_decoder_finish(d), EAS_E_TRUNCATED);
		assert_non_null(eas_wbxml_decoder_error(d, NULL));
		eas_wbxml_decoder_free(d);
	}
}

/* ---- limits ---------------------------------------------------------------- */

static int decode_with(const eas_wbxml_decoder_options *opt, const uint8_t *doc, size_t n, uint64_t *at)
{
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, opt);
	int rc = eas_wbxml_decoder_feed(d, doc, n, NULL);
	if (rc == 0)
		rc = eas_wbxml_decoder_finish(d);
	if (rc && at)
		eas_wbxml_decoder_error(d, at);
	eas_wbxml_decoder_free(d);
	return rc;
}

static void test_limits(void **state)
{
	(void)state;
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	uint64_t at = 0;

	opt.max_depth = 2;
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x5C, 0x01, 0x01), NULL), 0);
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x5C, 0x4F, 0x01, 0x01, 0x01), &at), EAS_E_LIMIT);
	assert_int_equal(at, 6);

	opt = (eas_wbxml_decoder_options)EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.max_string = 4;
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x03, 'a', 'b', 'c', 'd', 0x00, 0x01), NULL), 0);
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x03, 'a', 'b', 'c', 'd', 'e', 0x00, 0x01), NULL),
			 EAS_E_LIMIT);

	opt = (eas_wbxml_decoder_options)EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.max_opaque = 2;
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0xC3, 0x02, 'a', 'b', 0x01), NULL), 0);
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0xC3, 0x03, 'a', 'b', 'c', 0x01), &at), EAS_E_LIMIT);
	assert_int_equal(at, 6);

	opt = (eas_wbxml_decoder_options)EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.max_total = 6;
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x01), NULL), 0);
	assert_int_equal(decode_with(&opt, BYTES(HDR, 0x45, 0x5C, 0x01, 0x01), &at), EAS_E_LIMIT);
	assert_int_equal(at, 6);
}

/* ---- tolerant mode --------------------------------------------------------- */

static void test_tolerant_mode_skips_unknown_elements(void **state)
{
	(void)state;
	/* <Sync><[page 72 tag 5]><[tag 6]>x</></><Collections/></Sync>, then an unknown token on page 0. */
	static const uint8_t doc[] = {
		HDR, 0x45,
		0x00, 0x48, 0x45, 0x46, 0x03, 'x', 0x00, 0x01, 0xC3, 0x01, 0x00, 0x01,
		0x00, 0x00, 0x1C,
		0x51, 0x03, 'y', 0x00, 0x01,
		0x01,
	};
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.tolerant = 1;
	recorder r;
	eas_wbxml_decoder *d = new_decoder(&r, &opt);
	assert_int_equal(eas_wbxml_decoder_feed(d, doc, sizeof doc, NULL), 0);
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_string_equal(r.log, "<AirSync:Sync><AirSync:Collections/></AirSync:Sync>");
	eas_wbxml_decoder_free(d);
	/* Strict mode refuses the same document. */
	assert_int_equal(decode_with(NULL, doc, sizeof doc, NULL), EAS_E_UNSUPPORTED);
}

/* ---- tag table ------------------------------------------------------------- */

static void test_tag_lookups(void **state)
{
	(void)state;
	assert_string_equal(eas_tag_name(0, 0x05), "Sync");
	assert_null(eas_tag_name(0, 0x11));
	assert_null(eas_tag_name(3, 0x05));
	assert_null(eas_tag_name(200, 0x05));
	assert_string_equal(eas_codepage_name(17), "AirSyncBase");
	assert_null(eas_codepage_name(26));
	assert_int_equal(eas_codepage_lookup("AirSyncBase"), 17);
	assert_int_equal(eas_codepage_lookup("Nope"), -1);
	assert_int_equal(eas_tag_lookup(0, "Sync"), EAS_TAG_AIRSYNC_SYNC);
	assert_int_equal(eas_tag_lookup(17, "Body"), EAS_TAG_AIRSYNCBASE_BODY);
	assert_int_equal(eas_tag_lookup(0, "Body"), EAS_TAG_NONE);
	/* Same name, different pages. */
	assert_int_equal(EAS_TAG_PAGE(eas_tag_lookup(14, "Status")), 14);
	assert_int_equal(eas_tag_lookup(14, "Status"), EAS_TAG_PROVISION_STATUS);
	/* Version sets. */
	assert_int_equal(eas_tag_versions(0, 0x19), EAS_PROTO_2_5); /* Truncation */
	assert_int_equal(eas_tag_versions(0, 0x05), EAS_PROTO_ALL);
	assert_int_equal(eas_tag_versions(25, 0x05), EAS_PROTO_16_1); /* Find */
	assert_true(eas_tag_versions(17, 0x0A) & EAS_PROTO_12_0);    /* AirSyncBase Body */
	assert_false(eas_tag_versions(17, 0x0A) & EAS_PROTO_2_5);
	assert_int_equal(eas_tag_versions(0, 0x11), 0);
}

static void test_every_page_has_its_tags(void **state)
{
	(void)state;
	/* Page 3 (AirNotify) is retired and empty; every other page 0-25 has tags with names. */
	for (unsigned page = 0; page < EAS_PAGE_COUNT; page++) {
		assert_non_null(eas_codepage_name(page));
		assert_int_equal(eas_codepage_lookup(eas_codepage_name(page)), (int)page);
		int count = 0;
		for (unsigned token = 0; token < 64; token++) {
			const char *name = eas_tag_name(page, token);
			if (!name)
				continue;
			count++;
			assert_true(token >= 5);
			assert_int_not_equal(eas_tag_versions(page, token), 0);
			assert_int_equal(eas_tag_lookup(page, name), (eas_tag)((page << 8) | token));
		}
		if (page == 3)
			assert_int_equal(count, 0);
		else
			assert_true(count >= 5);
	}
	assert_int_equal(EAS_PAGE_COUNT, 26);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_contacts_sync),
		cmocka_unit_test(test_opaque_with_nul_bytes),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_pause_after_every_event),
		cmocka_unit_test(test_callback_abort),
		cmocka_unit_test(test_long_values_come_in_pieces),
		cmocka_unit_test(test_value_of_piece_size_is_one_piece),
		cmocka_unit_test(test_one_allocation_whatever_the_document),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_malformed_inputs),
		cmocka_unit_test(test_every_truncation_is_reported),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_tolerant_mode_skips_unknown_elements),
		cmocka_unit_test(test_tag_lookups),
		cmocka_unit_test(test_every_page_has_its_tags),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
