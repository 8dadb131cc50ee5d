/* The streaming WBXML encoder: exact bytes, page switching, version gate, misuse, streaming opaque. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/wbxml.h"
#include "testmem.h"

typedef struct sink_buf {
	uint8_t bytes[65536];
	size_t len;
	int calls;
	int fail; /* make the sink fail */
} sink_buf;

static int to_buf(const uint8_t *bytes, size_t len, void *ud)
{
	sink_buf *s = ud;
	s->calls++;
	if (s->fail)
		return -1;
	assert_true(s->len + len <= sizeof s->bytes);
	memcpy(s->bytes + s->len, bytes, len);
	s->len += len;
	return 0;
}

static eas_wbxml_encoder *new_encoder(sink_buf *s, unsigned version)
{
	memset(s, 0, sizeof *s);
	eas_wbxml_encoder *e = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&e, to_buf, s, version, NULL), 0);
	return e;
}

static void test_writes_the_spec_example(void **state)
{
	(void)state;
	/* The same document the decoder tests read (MS-ASWBXML 3.1.1, extended). */
	static const uint8_t expect[] = {
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
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_14_1);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_COLLECTIONS), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_COLLECTION), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_CLASS, "Contacts"), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_SYNC_KEY, "2"), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_COLLECTION_ID, "2"), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_COMMANDS), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_ADD), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_CLIENT_ID, "123"), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_APPLICATION_DATA), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNCBASE_BODY), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNCBASE_TYPE, "1"), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNCBASE_DATA, "hi"), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_CONTACTS_FILE_AS, "Smith"), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNC_MORE_AVAILABLE), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	assert_int_equal(s.len, sizeof expect);
	assert_memory_equal(s.bytes, expect, sizeof expect);
	assert_int_equal(eas_wbxml_encoder_bytes(e), sizeof expect);
	eas_wbxml_encoder_free(e);
}

static void test_version_gate(void **state)
{
	(void)state;
	sink_buf s;
	/* airsync:Truncation exists only in 2.5; find:Find only in 16.1; AirSyncBase from 12.0. */
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_14_1);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_TRUNCATION, "1"), EAS_E_UNSUPPORTED);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_FIND_FIND), EAS_E_UNSUPPORTED);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNCBASE_BODY), 0);
	/* A refused tag is not an error of the document: it goes on. */
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	eas_wbxml_encoder_free(e);

	e = new_encoder(&s, EAS_PROTO_2_5);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_TRUNCATION, "1"), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNCBASE_BODY), EAS_E_UNSUPPORTED);
	eas_wbxml_encoder_free(e);

	e = new_encoder(&s, EAS_PROTO_16_1);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_FIND_FIND), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	eas_wbxml_encoder_free(e);

	e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNC_TRUNCATION), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_FIND_FIND), 0);
	eas_wbxml_encoder_free(e);
}

static void test_switches_page_only_when_needed(void **state)
{
	(void)state;
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNCBASE_BODY), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNCBASE_TYPE), 0);
	assert_int_equal(eas_wbxml_encoder_empty(e, EAS_TAG_AIRSYNCBASE_DATA), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	static const uint8_t expect[] = { 0x03, 0x01, 0x6A, 0x00, 0x00, 0x11, 0x4A, 0x06, 0x0B, 0x01 };
	assert_int_equal(s.len, sizeof expect);
	assert_memory_equal(s.bytes, expect, sizeof expect);
	eas_wbxml_encoder_free(e);
}

static void test_misuse_is_refused(void **state)
{
	(void)state;
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_end(e), EAS_E_STATE);
	assert_int_equal(eas_wbxml_encoder_string(e, "x", 1), EAS_E_STATE);
	assert_int_equal(eas_wbxml_encoder_finish(e), EAS_E_STATE); /* no root */
	assert_int_equal(eas_wbxml_encoder_start(e, (eas_tag)0x0011), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_start(e, (eas_tag)0x1A05), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_string(e, "a\0b", 3), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_string(e, NULL, 1), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_SYNC_KEY, NULL), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_finish(e), EAS_E_STATE); /* still open */
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), EAS_E_STATE); /* second root */
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	eas_wbxml_encoder_free(e);

	eas_wbxml_encoder *none = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&none, NULL, NULL, EAS_PROTO_ALL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_new(&none, to_buf, &s, 0, NULL), EAS_E_INVALID);
	assert_int_equal(eas_wbxml_encoder_new(&none, to_buf, &s, 0x80, NULL), EAS_E_INVALID);
	assert_null(none);
}

static void test_streaming_opaque(void **state)
{
	(void)state;
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_opaque_write(e, (const uint8_t *)"x", 1), EAS_E_STATE);
	assert_int_equal(eas_wbxml_encoder_opaque_begin(e, 130), 0);
	uint8_t chunk[65];
	for (int i = 0; i < 65; i++)
		chunk[i] = (uint8_t)i;
	assert_int_equal(eas_wbxml_encoder_opaque_write(e, chunk, 65), 0);
	assert_int_equal(eas_wbxml_encoder_opaque_write(e, chunk, 65), 0);
	assert_int_equal(eas_wbxml_encoder_opaque_write(e, chunk, 1), EAS_E_STATE); /* more than declared */
	assert_int_equal(eas_wbxml_encoder_opaque(e, NULL, 0), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	/* 130 = 0x81 0x02 as mb_u_int32; the empty opaque is C3 00. */
	static const uint8_t head[] = { 0x03, 0x01, 0x6A, 0x00, 0x45, 0xC3, 0x81, 0x02 };
	assert_memory_equal(s.bytes, head, sizeof head);
	assert_int_equal(s.len, 4 + 1 + 3 + 130 + 2 + 1);
	assert_memory_equal(s.bytes + 8, chunk, 65);
	assert_memory_equal(s.bytes + 8 + 65, chunk, 65);
	assert_int_equal(s.bytes[s.len - 3], 0xC3);
	assert_int_equal(s.bytes[s.len - 2], 0x00);
	eas_wbxml_encoder_free(e);

	/* Starting an element in the middle of an opaque value breaks the document for good. */
	e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_opaque_begin(e, 4), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), EAS_E_STATE);
	assert_int_equal(eas_wbxml_encoder_finish(e), EAS_E_STATE);
	eas_wbxml_encoder_free(e);
}

static void test_multibyte_lengths(void **state)
{
	(void)state;
	static const struct {
		uint64_t value;
		uint8_t bytes[5];
		size_t n;
	} cases[] = {
		{ 0, { 0x00 }, 1 },
		{ 127, { 0x7F }, 1 },
		{ 128, { 0x81, 0x00 }, 2 },
		{ 16383, { 0xFF, 0x7F }, 2 },
		{ 16384, { 0x81, 0x80, 0x00 }, 3 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		sink_buf s;
		eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
		static uint8_t zeros[20000];
		assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
		assert_int_equal(eas_wbxml_encoder_opaque(e, zeros, (size_t)cases[i].value), 0);
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
		assert_int_equal(eas_wbxml_encoder_finish(e), 0);
		assert_memory_equal(s.bytes + 6, cases[i].bytes, cases[i].n);
		eas_wbxml_encoder_free(e);
	}
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_opaque_begin(e, (uint64_t)UINT32_MAX + 1), EAS_E_LIMIT);
	eas_wbxml_encoder_free(e);
}

static void test_sink_failure_is_sticky(void **state)
{
	(void)state;
	sink_buf s;
	eas_wbxml_encoder *e = new_encoder(&s, EAS_PROTO_ALL);
	s.fail = 1;
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0); /* buffered */
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), EAS_E_CALLBACK);
	assert_int_equal(eas_wbxml_encoder_finish(e), EAS_E_CALLBACK);
	eas_wbxml_encoder_free(e);
}

/* Decoder callbacks that re-encode: decode(encode(x)) == x for a large generated document. */
typedef struct relay {
	eas_wbxml_encoder *enc;
} relay;

static int relay_start(eas_tag tag, int has_content, void *ud)
{
	relay *r = ud;
	return has_content ? eas_wbxml_encoder_start(r->enc, tag) : eas_wbxml_encoder_empty(r->enc, tag);
}

static int relay_end(eas_tag tag, void *ud)
{
	(void)tag;
	return eas_wbxml_encoder_end(((relay *)ud)->enc);
}

static int relay_data(eas_wbxml_data_kind kind, const uint8_t *b, size_t n, int final, uint64_t total, void *ud)
{
	relay *r = ud;
	assert_true(final); /* values here are below the piece size */
	if (kind == EAS_WBXML_STRING)
		return eas_wbxml_encoder_string(r->enc, (const char *)b, n);
	assert_int_equal(total, n);
	return eas_wbxml_encoder_opaque(r->enc, b, n);
}

static void test_large_document_round_trip(void **state)
{
	(void)state;
	static sink_buf first, second;
	testmem tm;
	eas_mem m = testmem_init(&tm, -1);
	memset(&first, 0, sizeof first);
	eas_wbxml_encoder *e = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&e, to_buf, &first, EAS_PROTO_14_1, &m), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_COMMANDS), 0);
	char text[64];
	for (int i = 0; i < 1500; i++) {
		assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNC_ADD), 0);
		snprintf(text, sizeof text, "item %d", i);
		assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_AIRSYNC_SERVER_ID, text), 0);
		assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_AIRSYNCBASE_BODY), 0);
		assert_int_equal(eas_wbxml_encoder_opaque(e, (const uint8_t *)text, strlen(text)), 0);
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
	}
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	assert_true(first.len > 4096 * 4);
	assert_true(first.calls > 4); /* flushed as it went, through the fixed buffer */
	assert_int_equal(tm.calls, 1);
	eas_wbxml_encoder_free(e);
	assert_int_equal(tm.live_blocks, 0);

	memset(&second, 0, sizeof second);
	relay r;
	assert_int_equal(eas_wbxml_encoder_new(&r.enc, to_buf, &second, EAS_PROTO_14_1, NULL), 0);
	eas_wbxml_callbacks cb = { EAS_WBXML_CALLBACKS_VERSION, relay_start, relay_end, relay_data };
	eas_wbxml_decoder *d = NULL;
	assert_int_equal(eas_wbxml_decoder_new(&d, &cb, NULL, NULL, &r), 0);
	for (size_t off = 0; off < first.len; off += 777) {
		size_t n = first.len - off < 777 ? first.len - off : 777;
		assert_int_equal(eas_wbxml_decoder_feed(d, first.bytes + off, n, NULL), 0);
	}
	assert_int_equal(eas_wbxml_decoder_finish(d), 0);
	assert_int_equal(eas_wbxml_encoder_finish(r.enc), 0);
	assert_int_equal(second.len, first.len);
	assert_memory_equal(second.bytes, first.bytes, first.len);
	eas_wbxml_decoder_free(d);
	eas_wbxml_encoder_free(r.enc);
}

static void test_allocation_failure(void **state)
{
	(void)state;
	testmem tm;
	eas_mem m = testmem_init(&tm, 0);
	sink_buf s;
	eas_wbxml_encoder *e = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&e, to_buf, &s, EAS_PROTO_ALL, &m), EAS_E_NOMEM);
	assert_null(e);
	assert_int_equal(tm.live_blocks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writes_the_spec_example),
		cmocka_unit_test(test_version_gate),
		cmocka_unit_test(test_switches_page_only_when_needed),
		cmocka_unit_test(test_misuse_is_refused),
		cmocka_unit_test(test_streaming_opaque),
		cmocka_unit_test(test_multibyte_lengths),
		cmocka_unit_test(test_sink_failure_is_sticky),
		cmocka_unit_test(test_large_document_round_trip),
		cmocka_unit_test(test_allocation_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
