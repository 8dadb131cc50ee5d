/* MS-ASHTTP request query (plain and base64 forms), base64 and percent helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eas/eas.h"
#include "eas/http.h"
#include "common/base64.h"
#include "common/percent.h"
#include "testmem.h"

/* ---- helpers ------------------------------------------------------------------ */

static void assert_str_or_null(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

enum { FORM_BASE64, FORM_PLAIN };

/* What survives a trip through the given form. */
static void assert_query_eq(const eas_http_query *want, const eas_http_query *got, int form)
{
	assert_int_equal(got->version, EAS_HTTP_QUERY_VERSION);
	assert_int_equal(got->command, want->command);
	assert_int_equal(got->device_id_len, want->device_id_len);
	assert_memory_equal(got->device_id, want->device_id, want->device_id_len);
	assert_int_equal(got->device_id[got->device_id_len], 0);
	assert_string_equal(got->device_type, want->device_type);
	assert_str_or_null(got->user, want->user);
	assert_str_or_null(got->attachment_name, want->attachment_name);
	assert_str_or_null(got->collection_id, want->collection_id);
	assert_str_or_null(got->item_id, want->item_id);
	assert_str_or_null(got->long_id, want->long_id);
	assert_str_or_null(got->occurrence, want->occurrence);
	if (form == FORM_BASE64) {
		assert_int_equal(got->protocol_version, want->protocol_version);
		assert_int_equal(got->locale, want->locale);
		assert_int_equal(got->has_policy_key, want->has_policy_key);
		if (want->has_policy_key)
			assert_int_equal(got->policy_key, want->policy_key);
		assert_int_equal(got->options, want->options);
	} else {
		assert_int_equal(got->protocol_version, 0);
		assert_int_equal(got->locale, 0);
		assert_int_equal(got->has_policy_key, 0);
		assert_int_equal(got->options, want->options & EAS_HTTP_OPTION_SAVE_IN_SENT);
	}
}

static int decode_str(eas_http_query *q, const char *s)
{
	return eas_http_query_decode(q, s, strlen(s), NULL);
}

/* Encodes in the form, decodes, compares; the allocator must end empty. */
static void roundtrip(const eas_http_query *q, int form)
{
	testmem tm;
	eas_mem m = testmem_init(&tm, -1);
	char *text = NULL;
	int rc = form == FORM_BASE64 ? eas_http_query_encode_base64(&text, q, &m)
	                             : eas_http_query_encode_plain(&text, q, &m);
	assert_int_equal(rc, 0);
	assert_non_null(text);
	eas_http_query got;
	assert_int_equal(eas_http_query_decode(&got, text, strlen(text), &m), 0);
	assert_query_eq(q, &got, form);
	eas_http_query_clear(&got);
	eas_http_string_free(text, &m);
	assert_int_equal(tm.live_blocks, 0);
}

/* Base64 text of a raw byte sequence (static buffer). */
static const char *b64_of(const uint8_t *raw, size_t n)
{
	static char text[4096];
	assert_true(EAS__BASE64_ENCODED_LEN(n) < sizeof(text));
	eas__base64_encode(text, raw, n);
	return text;
}

static int decode_raw(eas_http_query *q, const uint8_t *raw, size_t n)
{
	const char *text = b64_of(raw, n);
	return eas_http_query_decode(q, text, strlen(text), NULL);
}

static const uint8_t capture_guid[16] = {
	0xae, 0x4e, 0xcd, 0x19, 0xf5, 0x92, 0xba, 0x56,
	0x57, 0x70, 0x6f, 0xf7, 0x4c, 0xf0, 0x9b, 0xac
};

/* A query with every field set, base64-representable and plain-representable. */
static eas_http_query full_query(void)
{
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.command = EAS_CMD_SMART_REPLY;
	q.protocol_version = EAS_PROTO_14_1;
	q.locale = 0x0407;
	q.device_id = (const uint8_t *)"ABCDEF0123456789";
	q.device_id_len = 16;
	q.policy_key = 0x12345678u;
	q.has_policy_key = 1;
	q.device_type = "iPhone";
	q.user = "CONTOSO\\jdoe";
	q.attachment_name = "att 1.txt";
	q.collection_id = "5";
	q.item_id = "5:17";
	q.long_id = "RgAAAAB+long/id==";
	q.occurrence = "2024-03-01T10:00:00.000Z";
	q.options = EAS_HTTP_OPTION_SAVE_IN_SENT;
	return q;
}

/* ---- base64 (RFC 4648 section 10 vectors) ------------------------------------- */

static const struct {
	const char *plain;
	const char *coded;
} rfc4648[] = {
	{ "", "" },
	{ "f", "Zg==" },
	{ "fo", "Zm8=" },
	{ "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" },
	{ "fooba", "Zm9vYmE=" },
	{ "foobar", "Zm9vYmFy" },
};

static void test_base64_rfc4648_vectors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *p = rfc4648[i].plain, *c = rfc4648[i].coded;
		size_t pn = strlen(p), cn = strlen(c);
		char enc[16];
		assert_int_equal(EAS__BASE64_ENCODED_LEN(pn), cn);
		assert_int_equal(eas__base64_encode(enc, (const uint8_t *)p, pn), cn);
		assert_string_equal(enc, c);

		uint8_t dec[16];
		size_t dn = 99;
		assert_int_equal(eas__base64_decode(dec, &dn, c, cn, 0), 0);
		assert_int_equal(dn, pn);
		assert_memory_equal(dec, p, pn);

		/* Without padding: only with PAD_OPTIONAL. */
		size_t un = cn;
		while (un && c[un - 1] == '=')
			un--;
		dn = 99;
		assert_int_equal(eas__base64_decode(dec, &dn, c, un, EAS__BASE64_PAD_OPTIONAL), 0);
		assert_int_equal(dn, pn);
		assert_memory_equal(dec, p, pn);
		if (un != cn)
			assert_int_equal(eas__base64_decode(dec, &dn, c, un, 0), EAS_E_MALFORMED);

		/* In place. */
		char buf[16];
		memcpy(buf, c, cn);
		assert_int_equal(eas__base64_decode((uint8_t *)buf, &dn, buf, cn, 0), 0);
		assert_int_equal(dn, pn);
		assert_memory_equal(buf, p, pn);
	}
}

static void test_base64_all_byte_values(void **state)
{
	(void)state;
	uint8_t bytes[256], back[256 + 2];
	char text[EAS__BASE64_ENCODED_LEN(256) + 1];
	for (int i = 0; i < 256; i++)
		bytes[i] = (uint8_t)(255 - i);
	for (size_t n = 0; n <= 256; n++) {
		size_t len = eas__base64_encode(text, bytes, n);
		assert_int_equal(len, EAS__BASE64_ENCODED_LEN(n));
		size_t dn;
		assert_int_equal(eas__base64_decode(back, &dn, text, len, 0), 0);
		assert_true(dn <= EAS__BASE64_DECODED_MAX(len));
		assert_int_equal(dn, n);
		assert_memory_equal(back, bytes, n);
	}
}

static void test_base64_rejects(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"Z", "Zg=", "Zg===", "Z===", "=", "==", "====", "Zg==Zg==", "Zm9v=", "Zh==",
		"Zm9=", "Zm8", "Zm9v YmFy", "Zm9v\nYmFy", "Zm9v-_8=", "Zm9v*mFy", "Zm9\x80",
		"Zg=x", "Z=g=",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t out[32];
		size_t n;
		assert_int_equal(eas__base64_decode(out, &n, bad[i], strlen(bad[i]), 0), EAS_E_MALFORMED);
	}
	/* Even with optional padding: a lone final character, non-zero pad bits. */
	static const char *const bad_opt[] = { "Z", "Zm9vY", "Zh", "Zm9", "Zm9v=", "Zg=" };
	for (size_t i = 0; i < sizeof(bad_opt) / sizeof(bad_opt[0]); i++) {
		uint8_t out[32];
		size_t n;
		assert_int_equal(eas__base64_decode(out, &n, bad_opt[i], strlen(bad_opt[i]),
			EAS__BASE64_PAD_OPTIONAL), EAS_E_MALFORMED);
	}
}

/* ---- percent-encoding ----------------------------------------------------------- */

static void test_percent_helpers(void **state)
{
	(void)state;
	const char *in = "a-Z_9.~ +/%=&\\\xC3\xA9";
	char out[64];
	size_t n = eas__pct_encode(out, in, strlen(in));
	assert_string_equal(out, "a-Z_9.~%20%2B%2F%25%3D%26%5C%C3%A9");
	assert_int_equal(n, eas__pct_encoded_len(in, strlen(in)));

	char dec[64];
	size_t dn;
	assert_int_equal(eas__pct_decode(dec, &dn, out, n, 0), 0);
	assert_int_equal(dn, strlen(in));
	assert_memory_equal(dec, in, dn);
	assert_int_equal(eas__pct_decode(dec, &dn, "a+b%2bc%2Fd", 11, EAS__PCT_PLUS_SPACE), 0);
	assert_int_equal(dn, 7);
	assert_memory_equal(dec, "a b+c/d", 7);
	assert_int_equal(eas__pct_decode(dec, &dn, "a+b", 3, 0), 0);
	assert_memory_equal(dec, "a+b", 3);

	static const char *const bad[] = { "%", "%4", "ab%", "%G0", "%0g", "x%zz" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(eas__pct_decode(dec, &dn, bad[i], strlen(bad[i]), 0), EAS_E_MALFORMED);
}

/* ---- commands ------------------------------------------------------------------- */

static const eas_command all_commands[] = {
	EAS_CMD_SYNC, EAS_CMD_SEND_MAIL, EAS_CMD_SMART_FORWARD, EAS_CMD_SMART_REPLY,
	EAS_CMD_GET_ATTACHMENT, EAS_CMD_FOLDER_SYNC, EAS_CMD_FOLDER_CREATE,
	EAS_CMD_FOLDER_DELETE, EAS_CMD_FOLDER_UPDATE, EAS_CMD_MOVE_ITEMS,
	EAS_CMD_GET_ITEM_ESTIMATE, EAS_CMD_MEETING_RESPONSE, EAS_CMD_SEARCH, EAS_CMD_SETTINGS,
	EAS_CMD_PING, EAS_CMD_ITEM_OPERATIONS, EAS_CMD_PROVISION, EAS_CMD_RESOLVE_RECIPIENTS,
	EAS_CMD_VALIDATE_CERT, EAS_CMD_FIND, EAS_CMD_GET_HIERARCHY, EAS_CMD_CREATE_COLLECTION,
	EAS_CMD_DELETE_COLLECTION, EAS_CMD_MOVE_COLLECTION, EAS_CMD_NOTIFY,
};
#define ALL_COMMANDS (sizeof(all_commands) / sizeof(all_commands[0]))

static void test_command_table(void **state)
{
	(void)state;
	/* The codes of [MS-ASHTTP] 2.2.1.1.1.1.2. */
	static const struct {
		int code;
		const char *name;
	} spec[] = {
		{ 0, "Sync" }, { 1, "SendMail" }, { 2, "SmartForward" }, { 3, "SmartReply" },
		{ 4, "GetAttachment" }, { 9, "FolderSync" }, { 10, "FolderCreate" },
		{ 11, "FolderDelete" }, { 12, "FolderUpdate" }, { 13, "MoveItems" },
		{ 14, "GetItemEstimate" }, { 15, "MeetingResponse" }, { 16, "Search" },
		{ 17, "Settings" }, { 18, "Ping" }, { 19, "ItemOperations" }, { 20, "Provision" },
		{ 21, "ResolveRecipients" }, { 22, "ValidateCert" }, { 23, "Find" },
	};
	for (size_t i = 0; i < sizeof(spec) / sizeof(spec[0]); i++) {
		assert_string_equal(eas_command_name((eas_command)spec[i].code), spec[i].name);
		assert_int_equal(eas_command_lookup(spec[i].name), spec[i].code);
		assert_true(EAS_COMMAND_HAS_CODE(spec[i].code));
	}
	for (int code = 5; code <= 8; code++)
		assert_null(eas_command_name((eas_command)code));
	assert_null(eas_command_name((eas_command)24));
	assert_null(eas_command_name((eas_command)255));
	assert_null(eas_command_name((eas_command)-1));

	for (size_t i = 0; i < ALL_COMMANDS; i++) {
		const char *name = eas_command_name(all_commands[i]);
		assert_non_null(name);
		assert_int_equal(eas_command_lookup(name), all_commands[i]);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(name, eas_command_name(all_commands[j]));
	}
	assert_false(EAS_COMMAND_HAS_CODE(EAS_CMD_GET_HIERARCHY));
	assert_false(EAS_COMMAND_HAS_CODE(EAS_CMD_NOTIFY));
	assert_int_equal(eas_command_lookup("foldersync"), EAS_CMD_FOLDER_SYNC);
	assert_int_equal(eas_command_lookup("PING"), EAS_CMD_PING);
	assert_int_equal(eas_command_lookup("Syn"), EAS_E_NOTFOUND);
	assert_int_equal(eas_command_lookup("Syncs"), EAS_E_NOTFOUND);
	assert_int_equal(eas_command_lookup(""), EAS_E_NOTFOUND);
	assert_int_equal(eas_command_lookup("Options"), EAS_E_NOTFOUND);
	assert_int_equal(eas_command_lookup(NULL), EAS_E_INVALID);
}

/* ---- the spec's example and captured device traffic ------------------------------ */

/* [MS-ASHTTP] 2.2.1.1.1.1: /Microsoft-Server-ActiveSync?jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l */
static const char spec_example[] = "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l";

static void test_spec_example_decodes(void **state)
{
	(void)state;
	eas_http_query q;
	assert_int_equal(decode_str(&q, spec_example), 0);
	assert_int_equal(q.protocol_version, EAS_PROTO_14_0); /* 0x8C = 140 */
	assert_int_equal(q.command, EAS_CMD_SYNC);
	assert_int_equal(q.locale, 0x0409);
	assert_int_equal(q.device_id_len, 10);
	assert_memory_equal(q.device_id, "v140Device", 10);
	assert_int_equal(q.has_policy_key, 0);
	assert_string_equal(q.device_type, "SmartPhone");
	assert_null(q.user);
	assert_null(q.attachment_name);
	assert_null(q.collection_id);
	assert_null(q.item_id);
	assert_null(q.long_id);
	assert_null(q.occurrence);
	assert_int_equal(q.options, 0);
	eas_http_query_clear(&q);
	assert_null(q.priv_block);

	/* A leading '?' is skipped. */
	assert_int_equal(decode_str(&q, "?jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l"), 0);
	assert_string_equal(q.device_type, "SmartPhone");
	eas_http_query_clear(&q);
}

static void test_spec_example_encodes_byte_for_byte(void **state)
{
	(void)state;
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.command = EAS_CMD_SYNC;
	q.protocol_version = EAS_PROTO_14_0;
	q.locale = 0x0409;
	q.device_id = (const uint8_t *)"v140Device";
	q.device_id_len = 10;
	q.device_type = "SmartPhone";
	char *text;
	assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
	assert_string_equal(text, spec_example);
	eas_http_string_free(text, NULL);
}

/*
 * Requests captured from a Windows Mobile 6.1 device (protocol 12.1, binary
 * GUID device id), as published with the Horde ActiveSync test suite.
 * Expected fields worked out by hand from the bytes.
 */
static const char capture_provision[] = "eRQJBBCuTs0Z9ZK6Vldwb/dM8JusBHx8TOgDUFBD";
static const char capture_smartforward[] =
	"eQIJBBCuTs0Z9ZK6Vldwb/dM8JusBHVeHIQDUFBDBwEBAwYxMTkyODEBBUlOQk9Y";

static void test_device_captures(void **state)
{
	(void)state;
	eas_http_query q;
	assert_int_equal(decode_str(&q, capture_provision), 0);
	assert_int_equal(q.protocol_version, EAS_PROTO_12_1);
	assert_int_equal(q.command, EAS_CMD_PROVISION);
	assert_int_equal(q.locale, 1033);
	assert_int_equal(q.device_id_len, 16);
	assert_memory_equal(q.device_id, capture_guid, 16);
	assert_int_equal(q.has_policy_key, 1);
	assert_int_equal(q.policy_key, 3897326716u); /* 7c 7c 4c e8, little-endian */
	assert_string_equal(q.device_type, "PPC");
	/* No parameters: re-encoding gives the same text. */
	char *text;
	assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
	assert_string_equal(text, capture_provision);
	eas_http_string_free(text, NULL);
	eas_http_query_clear(&q);

	/* Parameters in the order Options, ItemId, CollectionId. */
	assert_int_equal(decode_str(&q, capture_smartforward), 0);
	assert_int_equal(q.protocol_version, EAS_PROTO_12_1);
	assert_int_equal(q.command, EAS_CMD_SMART_FORWARD);
	assert_int_equal(q.policy_key, 2216451701u); /* 75 5e 1c 84 */
	assert_string_equal(q.device_type, "PPC");
	assert_int_equal(q.options, EAS_HTTP_OPTION_SAVE_IN_SENT);
	assert_string_equal(q.item_id, "119281");
	assert_string_equal(q.collection_id, "INBOX");
	assert_null(q.user);
	roundtrip(&q, FORM_BASE64);
	eas_http_query_clear(&q);

	/* The same request with the '/' percent-encoded (either case) and no padding. */
	static const char *const escaped[] = {
		"eRQJBBCuTs0Z9ZK6Vldwb%2FdM8JusBHx8TOgDUFBD",
		"eRQJBBCuTs0Z9ZK6Vldwb%2fdM8JusBHx8TOgDUFBD",
	};
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(decode_str(&q, escaped[i]), 0);
		assert_int_equal(q.policy_key, 3897326716u);
		eas_http_query_clear(&q);
	}
	/* Padding may be left out, or sent as %3D. */
	uint8_t raw[] = { 0x8C, 0x00, 0x09, 0x04, 0x01, 'x', 0x00, 0x02, 'S', 'P' };
	const char *padded = b64_of(raw, sizeof(raw)); /* 10 bytes -> 2 '=' */
	char unpadded[64];
	strcpy(unpadded, padded);
	assert_string_equal(unpadded + strlen(unpadded) - 2, "==");
	unpadded[strlen(unpadded) - 2] = '\0';
	assert_int_equal(decode_str(&q, unpadded), 0);
	assert_string_equal(q.device_type, "SP");
	eas_http_query_clear(&q);
	char escaped_pad[64];
	snprintf(escaped_pad, sizeof(escaped_pad), "%s%%3D%%3d", unpadded);
	assert_int_equal(decode_str(&q, escaped_pad), 0);
	assert_string_equal(q.device_type, "SP");
	eas_http_query_clear(&q);
}

/* ---- round trips ---------------------------------------------------------------- */

static const unsigned base64_versions[] = {
	EAS_PROTO_12_1, EAS_PROTO_14_0, EAS_PROTO_14_1, EAS_PROTO_16_0, EAS_PROTO_16_1,
};

static void test_roundtrip_every_command(void **state)
{
	(void)state;
	for (size_t i = 0; i < ALL_COMMANDS; i++) {
		eas_http_query q = EAS_HTTP_QUERY_INIT;
		q.command = all_commands[i];
		q.device_id = (const uint8_t *)"dev42";
		q.device_id_len = 5;
		q.device_type = "SmartPhone";
		q.user = "jdoe";
		roundtrip(&q, FORM_PLAIN);
		if (!EAS_COMMAND_HAS_CODE(q.command)) {
			char *text = (char *)"untouched";
			q.protocol_version = EAS_PROTO_14_1;
			assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), EAS_E_UNSUPPORTED);
			assert_null(text);
			continue;
		}
		for (size_t v = 0; v < sizeof(base64_versions) / sizeof(base64_versions[0]); v++) {
			q.protocol_version = base64_versions[v];
			q.has_policy_key = (int)(v & 1);
			q.policy_key = 0xFFFFFFFFu - (uint32_t)v;
			q.locale = (uint16_t)(0x0400 + v);
			roundtrip(&q, FORM_BASE64);
			/* The command byte is the code. */
			char *text;
			assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
			uint8_t raw[64];
			size_t n;
			assert_int_equal(eas__base64_decode(raw, &n, text, strlen(text), 0), 0);
			static const uint8_t vbyte[] = { 121, 140, 141, 160, 161 };
			assert_int_equal(raw[0], vbyte[v]);
			assert_int_equal(raw[1], (unsigned)q.command);
			eas_http_string_free(text, NULL);
		}
	}
}

static void test_roundtrip_every_parameter(void **state)
{
	(void)state;
	const eas_http_query full = full_query();
	/* Each parameter alone, then all together. */
	for (int which = 0; which <= 7; which++) {
		eas_http_query q = full;
		q.user = "jdoe";
		q.attachment_name = q.collection_id = q.item_id = q.long_id = q.occurrence = NULL;
		q.options = 0;
		switch (which) {
		case 0: q.attachment_name = full.attachment_name; break;
		case 1: q.collection_id = full.collection_id; break;
		case 2: q.item_id = full.item_id; break;
		case 3: q.long_id = full.long_id; break;
		case 4: q.occurrence = full.occurrence; break;
		case 5: q.options = EAS_HTTP_OPTION_SAVE_IN_SENT; break;
		case 6: q.user = full.user; break;
		default: q = full; break;
		}
		roundtrip(&q, FORM_BASE64);
		roundtrip(&q, FORM_PLAIN);
	}
	/* Options bits (base64 carries both; plain only SaveInSent). */
	for (unsigned opt = 0; opt <= 0xFF; opt++) {
		eas_http_query q = full;
		q.options = opt;
		roundtrip(&q, FORM_BASE64);
		if (opt <= 3)
			roundtrip(&q, FORM_PLAIN);
	}
	/* Base64: user optional, empty and 255-byte values, binary device id. */
	char big[256];
	memset(big, 'x', 255);
	big[255] = '\0';
	eas_http_query q = full;
	q.user = NULL;
	q.attachment_name = "";
	q.collection_id = big;
	q.device_type = big;
	uint8_t bin_id[255];
	for (int i = 0; i < 255; i++)
		bin_id[i] = (uint8_t)i; /* includes a NUL byte */
	q.device_id = bin_id;
	q.device_id_len = 255;
	roundtrip(&q, FORM_BASE64);
	q.device_id = capture_guid;
	q.device_id_len = 16;
	q.has_policy_key = 1;
	q.policy_key = 0;
	roundtrip(&q, FORM_BASE64);
	/* Plain: a 32-character device id, long values. */
	q = full;
	q.device_id = (const uint8_t *)"ae4ecd19f592ba5657706ff74cf09bac";
	q.device_id_len = 32;
	q.long_id = big;
	roundtrip(&q, FORM_PLAIN);
}

static void test_plain_percent_encoding(void **state)
{
	(void)state;
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.command = EAS_CMD_SMART_FORWARD;
	q.device_id = (const uint8_t *)"Appl5K14358AA4S";
	q.device_id_len = 15;
	q.device_type = "iPhone 15/Pro";
	q.user = "CONTOSO\\j.doe+mail@example.com";
	q.collection_id = "7";
	q.item_id = "7:1 & more=yes%";
	q.long_id = "RgAAAA+/=";
	q.occurrence = "\xC3\xA9t\xC3\xA9"; /* UTF-8 bytes */
	q.options = EAS_HTTP_OPTION_SAVE_IN_SENT | EAS_HTTP_OPTION_ACCEPT_MULTIPART;
	char *text;
	assert_int_equal(eas_http_query_encode_plain(&text, &q, NULL), 0);
	assert_string_equal(text,
		"Cmd=SmartForward&User=CONTOSO%5Cj.doe%2Bmail%40example.com"
		"&DeviceId=Appl5K14358AA4S&DeviceType=iPhone%2015%2FPro"
		"&CollectionId=7&ItemId=7%3A1%20%26%20more%3Dyes%25&LongId=RgAAAA%2B%2F%3D"
		"&Occurrence=%C3%A9t%C3%A9&SaveInSent=T");
	eas_http_query got;
	assert_int_equal(decode_str(&got, text), 0);
	assert_query_eq(&q, &got, FORM_PLAIN);
	eas_http_query_clear(&got);
	eas_http_string_free(text, NULL);

	/* Hand-written variants a server meets. */
	assert_int_equal(decode_str(&got,
		"deviceid=ABC123&devicetype=SP&cmd=sendmail&user=jo+smith%5cx&SaveInSent=F&Foo=bar"), 0);
	assert_int_equal(got.command, EAS_CMD_SEND_MAIL);
	assert_string_equal(got.user, "jo smith\\x");
	assert_memory_equal(got.device_id, "ABC123", 6);
	assert_string_equal(got.device_type, "SP");
	assert_int_equal(got.options, 0);
	eas_http_query_clear(&got);

	assert_int_equal(decode_str(&got,
		"?Cmd=GetAttachment&User=u&DeviceId=d&DeviceType=t&AttachmentName=0%3A1%3A2"), 0);
	assert_int_equal(got.command, EAS_CMD_GET_ATTACHMENT);
	assert_string_equal(got.attachment_name, "0:1:2");
	eas_http_query_clear(&got);

	assert_int_equal(decode_str(&got, "Cmd=GetHierarchy&User=u&DeviceId=d&DeviceType=t"), 0);
	assert_int_equal(got.command, EAS_CMD_GET_HIERARCHY);
	eas_http_query_clear(&got);

	/* The plain encoder leaves out what only the base64 form carries. */
	q = full_query();
	q.options = EAS_HTTP_OPTION_ACCEPT_MULTIPART;
	assert_int_equal(eas_http_query_encode_plain(&text, &q, NULL), 0);
	assert_null(strstr(text, "SaveInSent"));
	eas_http_string_free(text, NULL);
}

/* ---- malformed input ------------------------------------------------------------ */

typedef struct raw_case {
	const char *label;
	const uint8_t *raw;
	size_t len;
} raw_case;

#define RAW(label, ...) { label, (const uint8_t[]){ __VA_ARGS__ }, \
	sizeof((const uint8_t[]){ __VA_ARGS__ }) }

static void expect_malformed_raw(const raw_case *c)
{
	eas_http_query q;
	int rc = decode_raw(&q, c->raw, c->len);
	if (rc != EAS_E_MALFORMED)
		print_error("case '%s' returned %d\n", c->label, rc);
	assert_int_equal(rc, EAS_E_MALFORMED);
	assert_null(q.priv_block);
	assert_null(q.device_type);
}

static void test_malformed_base64_table(void **state)
{
	(void)state;
	/* Header used below: 14.1, Sync, en-US, id "d", no key, type "t". */
	const raw_case cases[] = {
		RAW("one byte", 0x8D),
		RAW("version 0", 0x00, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("version 2.5", 25, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("version 12.0", 120, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("version 12.2", 122, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("version 16.2", 162, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("version 255", 255, 0x00, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 5", 0x8D, 5, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 6", 0x8D, 6, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 7", 0x8D, 7, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 8", 0x8D, 8, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 24", 0x8D, 24, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("command 255", 0x8D, 255, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("device id length 0", 0x8D, 0, 0x09, 0x04, 0, 0, 1, 't'),
		RAW("device id past end", 0x8D, 0, 0x09, 0x04, 0xFF, 'd', 0, 1, 't'),
		RAW("device id to the end", 0x8D, 0, 0x09, 0x04, 4, 'd', 0, 1, 't'),
		RAW("policy key length 1", 0x8D, 0, 0x09, 0x04, 1, 'd', 1, 7, 1, 't'),
		RAW("policy key length 3", 0x8D, 0, 0x09, 0x04, 1, 'd', 3, 1, 2, 3, 1, 't'),
		RAW("policy key length 5", 0x8D, 0, 0x09, 0x04, 1, 'd', 5, 1, 2, 3, 4, 5, 1, 't'),
		RAW("policy key length 255", 0x8D, 0, 0x09, 0x04, 1, 'd', 255, 1, 't'),
		RAW("policy key cut", 0x8D, 0, 0x09, 0x04, 1, 'd', 4, 1, 2, 3),
		RAW("no device type length", 0x8D, 0, 0x09, 0x04, 1, 'd', 0),
		RAW("device type length 0", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 0),
		RAW("device type past end", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 2, 't'),
		RAW("device type 255 past end", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 255, 't'),
		RAW("device type with NUL", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 2, 't', 0),
		RAW("lone tag", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 8),
		RAW("value past end", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 8, 5, 'j', 'o'),
		RAW("value 255 past end", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 1, 255, 'x'),
		RAW("second value cut", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 8, 1, 'j', 3, 2, 'x'),
		RAW("unknown tag 9", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 9, 1, 'x'),
		RAW("unknown tag 255", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 255, 0),
		RAW("duplicate user", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 8, 1, 'a', 8, 1, 'b'),
		RAW("duplicate options", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 7, 1, 1, 7, 1, 1),
		RAW("duplicate legacy tag 2", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 2, 0, 2, 0),
		RAW("legacy tag 5 past end", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 5, 3, 'x'),
		RAW("options empty", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 7, 0),
		RAW("options two bytes", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 7, 2, 1, 0),
		RAW("options cut", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 7, 1),
		RAW("item id with NUL", 0x8D, 2, 0x09, 0x04, 1, 'd', 0, 1, 't', 3, 3, '1', 0, '2'),
		RAW("user with NUL", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 8, 1, 0),
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_malformed_raw(&cases[i]);

	/* The header those cases share is itself valid, with legacy tags skipped. */
	const raw_case good[] = {
		RAW("good", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't'),
		RAW("good, legacy tags", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 2, 2, 'a', 'b',
			5, 0, 8, 1, 'u'),
		RAW("good, empty values", 0x8D, 0, 0x09, 0x04, 1, 'd', 0, 1, 't', 0, 0, 8, 0),
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		eas_http_query q;
		assert_int_equal(decode_raw(&q, good[i].raw, good[i].len), 0);
		assert_string_equal(q.device_type, "t");
		eas_http_query_clear(&q);
	}
}

static void test_malformed_text_table(void **state)
{
	(void)state;
	char overlong[EAS_HTTP_QUERY_MAX_LEN + 2];
	memset(overlong, 'A', sizeof(overlong) - 1);
	overlong[sizeof(overlong) - 1] = '\0';
	char long_plain[EAS_HTTP_QUERY_MAX_LEN + 64];
	snprintf(long_plain, sizeof(long_plain), "Cmd=Sync&User=u&DeviceId=d&DeviceType=t&X=");
	size_t lp = strlen(long_plain);
	memset(long_plain + lp, 'v', sizeof(long_plain) - lp - 1);
	long_plain[sizeof(long_plain) - 1] = '\0';

	const char *const bad[] = {
		/* base64 text */
		"", "?", "=", "====", "j", "jA", "jAA", "jAAJ", "jAAJBAp2MTQw RGV2aWNlAApTbWFydFBob25l",
		"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l=", "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l====",
		"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob2-_", "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25!",
		"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob2%35", "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25%",
		"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25%2", "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25%3",
		"jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25%2G", "jAAJBAp2MTQw\nRGV2aWNlAApTbWFydFBob25l",
		"%2B%2B%2B%2B", "??jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l", overlong,
		/* plain text */
		"Cmd=Sync", "Cmd=", "Cmd=Sync&User=u&DeviceId=d", "User=u&DeviceId=d&DeviceType=t",
		"Cmd=Sync&DeviceId=d&DeviceType=t", "Cmd=Sync&User=u&DeviceType=t",
		"Cmd=Foo&User=u&DeviceId=d&DeviceType=t",
		"Cmd=Options&User=u&DeviceId=d&DeviceType=t",
		"Cmd=SyncSyncSyncSyncSyncSync&User=u&DeviceId=d&DeviceType=t",
		"Cmd=Sync%00&User=u&DeviceId=d&DeviceType=t", "Cmd=Sy%zz&User=u&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t%", "Cmd=Sync&User=u&DeviceId=d%&DeviceType=t",
		"Cmd=Sync&User=&DeviceId=d&DeviceType=t", "Cmd=Sync&User=u&DeviceId=&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=", "Cmd=Sync&User=u&DeviceId=d&DeviceType=t&",
		"Cmd=Sync&&User=u&DeviceId=d&DeviceType=t", "&Cmd=Sync&User=u&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User&DeviceId=d&DeviceType=t", "Cmd=Sync&User=u&DeviceId=d&DeviceType=t&=x",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&Item-Id=x",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&ItemId=",
		"Cmd=Sync&Cmd=Ping&User=u&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u&user=v&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&ItemId=1&itemid=2",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&SaveInSent=X",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&SaveInSent=TT",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&SaveInSent=T&SaveInSent=F",
		"Cmd=Sync&User=u&DeviceId=0123456789abcdef0123456789abcdef0&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=dev-1&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=dev%2D1&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=dev+1&DeviceType=t",
		"Cmd=Sync&User=u%&DeviceId=d&DeviceType=t", "Cmd=Sync&User=u%4&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u%zz&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u%00x&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=a b&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=\xC3\xA9&DeviceId=d&DeviceType=t",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t\x7F",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&LongId=a%00",
		"Cmd=Sync&User=u&DeviceId=d&DeviceType=t&Occurrence=%G1",
		long_plain,
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		eas_http_query q;
		int rc = decode_str(&q, bad[i]);
		if (rc != EAS_E_MALFORMED)
			print_error("case %zu '%.60s' returned %d\n", i, bad[i], rc);
		assert_int_equal(rc, EAS_E_MALFORMED);
		assert_null(q.priv_block);
		assert_null(q.user);
	}
	/* Exactly EAS_HTTP_QUERY_MAX_LEN bytes is still examined (and is bad base64 here). */
	eas_http_query q;
	assert_int_equal(eas_http_query_decode(&q, overlong, EAS_HTTP_QUERY_MAX_LEN, NULL),
		EAS_E_MALFORMED);
	/* Length is honoured: a valid query followed by junk beyond len. */
	char buf[64];
	snprintf(buf, sizeof(buf), "%s!!!", spec_example);
	assert_int_equal(eas_http_query_decode(&q, buf, strlen(spec_example), NULL), 0);
	eas_http_query_clear(&q);
}

/* Every cut of a full query's bytes fails, except the cuts between parameters. */
static void test_every_truncation(void **state)
{
	(void)state;
	eas_http_query full = full_query();
	full.device_id = capture_guid;
	full.device_id_len = 16;
	char *text;
	assert_int_equal(eas_http_query_encode_base64(&text, &full, NULL), 0);
	uint8_t raw[1024];
	size_t n;
	assert_int_equal(eas__base64_decode(raw, &n, text, strlen(text), 0), 0);
	eas_http_string_free(text, NULL);

	/* Where the parameters start and each one ends. */
	size_t header = 4 + 1 + 16 + 1 + 4 + 1 + strlen(full.device_type);
	int boundary[1024] = { 0 };
	for (size_t at = header; at <= n; at += 2u + raw[at + 1]) {
		boundary[at] = 1;
		if (at == n)
			break;
	}
	assert_true(boundary[n]);
	int params = 0;
	for (size_t k = 0; k < n; k++) {
		eas_http_query q;
		int rc = decode_raw(&q, raw, k);
		if (boundary[k]) {
			assert_int_equal(rc, 0);
			params++;
			eas_http_query_clear(&q);
		} else {
			if (rc != EAS_E_MALFORMED)
				print_error("cut at %zu of %zu returned %d\n", k, n, rc);
			assert_int_equal(rc, EAS_E_MALFORMED);
		}
	}
	assert_int_equal(params, 7); /* 7 parameters: header alone up to 6 of them */

	/* Every prefix of the spec example's text: it has no parameters, so all fail. */
	for (size_t k = 0; k < strlen(spec_example); k++) {
		eas_http_query q;
		assert_int_equal(eas_http_query_decode(&q, spec_example, k, NULL), EAS_E_MALFORMED);
	}
}

/* Random damage never crashes, and whatever decodes re-encodes to itself. */
static uint32_t rng_state = 0x2545F491u;
static uint32_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 17;
	rng_state ^= rng_state << 5;
	return rng_state;
}

static void test_random_damage(void **state)
{
	(void)state;
	eas_http_query full = full_query();
	char *text;
	assert_int_equal(eas_http_query_encode_base64(&text, &full, NULL), 0);
	uint8_t good[1024];
	size_t n;
	assert_int_equal(eas__base64_decode(good, &n, text, strlen(text), 0), 0);
	eas_http_string_free(text, NULL);

	int decoded = 0;
	for (int iter = 0; iter < 20000; iter++) {
		uint8_t raw[1024];
		memcpy(raw, good, n);
		size_t len = n;
		int flips = 1 + (int)(rng() % 3);
		for (int f = 0; f < flips; f++) {
			size_t at = rng() % len;
			raw[at] = (uint8_t)((rng() & 1) ? rng() : raw[at] ^ (1u << (rng() % 8)));
		}
		if (rng() % 4 == 0)
			len = rng() % (n + 1);
		eas_http_query q;
		int rc = decode_raw(&q, raw, len);
		assert_true(rc == 0 || rc == EAS_E_MALFORMED);
		if (rc != 0)
			continue;
		decoded++;
		char *again;
		assert_int_equal(eas_http_query_encode_base64(&again, &q, NULL), 0);
		eas_http_query q2;
		assert_int_equal(decode_str(&q2, again), 0);
		assert_query_eq(&q, &q2, FORM_BASE64);
		eas_http_query_clear(&q2);
		eas_http_string_free(again, NULL);
		eas_http_query_clear(&q);
	}
	assert_true(decoded > 0);

	/* Random printable text (mostly plain-form shaped). */
	static const char alphabet[] = "CmdUserDeviceIdTypeSync=&%2B+/AZaz09-_.~";
	for (int iter = 0; iter < 20000; iter++) {
		char buf[96];
		size_t len = rng() % sizeof(buf);
		for (size_t i = 0; i < len; i++)
			buf[i] = alphabet[rng() % (sizeof(alphabet) - 1)];
		if (len > 40 && rng() % 2)
			memcpy(buf, "Cmd=Sync&User=u&DeviceId=d&DeviceType=t&", 40);
		eas_http_query q;
		int rc = eas_http_query_decode(&q, buf, len, NULL);
		assert_true(rc == 0 || rc == EAS_E_MALFORMED);
		eas_http_query_clear(&q);
	}
}

/* ---- allocation failures and arguments ------------------------------------------- */

static void decode_with_failures(const char *query)
{
	int succeeded = 0;
	for (long fail = 0; fail < 16 && !succeeded; fail++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, fail);
		eas_http_query q;
		int rc = eas_http_query_decode(&q, query, strlen(query), &m);
		if (tm.calls > fail) {
			assert_int_equal(rc, EAS_E_NOMEM);
			assert_null(q.priv_block);
		} else {
			assert_int_equal(rc, 0);
			succeeded = 1;
		}
		assert_true(tm.live_blocks <= 1);
		eas_http_query_clear(&q);
		assert_int_equal(tm.live_blocks, 0);
		assert_int_equal(tm.live_bytes, 0);
	}
	assert_true(succeeded);
}

static void test_allocation_failures(void **state)
{
	(void)state;
	eas_http_query full = full_query();
	char *b64, *plain;
	assert_int_equal(eas_http_query_encode_base64(&b64, &full, NULL), 0);
	assert_int_equal(eas_http_query_encode_plain(&plain, &full, NULL), 0);
	decode_with_failures(b64);
	decode_with_failures(plain);
	decode_with_failures(capture_smartforward);
	decode_with_failures(spec_example);

	/* Malformed input with the allocator failing or not: nothing left behind. */
	for (long fail = -1; fail < 2; fail++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, fail);
		eas_http_query q;
		int rc = eas_http_query_decode(&q, "Cmd=Sync&User=u", 15, &m);
		assert_true(rc == EAS_E_MALFORMED || rc == EAS_E_NOMEM);
		assert_int_equal(tm.live_blocks, 0);
		rc = eas_http_query_decode(&q, spec_example, strlen(spec_example) - 2, &m);
		assert_true(rc == EAS_E_MALFORMED || rc == EAS_E_NOMEM);
		assert_int_equal(tm.live_blocks, 0);
	}

	/* Encoders: one allocation each. */
	for (int form = FORM_BASE64; form <= FORM_PLAIN; form++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, 0);
		char *text = (char *)"untouched";
		int rc = form == FORM_BASE64 ? eas_http_query_encode_base64(&text, &full, &m)
		                             : eas_http_query_encode_plain(&text, &full, &m);
		assert_int_equal(rc, EAS_E_NOMEM);
		assert_null(text);
		assert_int_equal(tm.live_blocks, 0);
		m = testmem_init(&tm, 1);
		rc = form == FORM_BASE64 ? eas_http_query_encode_base64(&text, &full, &m)
		                         : eas_http_query_encode_plain(&text, &full, &m);
		assert_int_equal(rc, 0);
		assert_int_equal(tm.live_blocks, 1);
		assert_string_equal(text, form == FORM_BASE64 ? b64 : plain);
		eas_http_string_free(text, &m);
		assert_int_equal(tm.live_blocks, 0);
	}
	eas_http_string_free(b64, NULL);
	eas_http_string_free(plain, NULL);
	eas_http_string_free(NULL, NULL);
}

static void expect_encode(const eas_http_query *q, int form, int want)
{
	char *text = (char *)"untouched";
	int rc = form == FORM_BASE64 ? eas_http_query_encode_base64(&text, q, NULL)
	                             : eas_http_query_encode_plain(&text, q, NULL);
	assert_int_equal(rc, want);
	if (rc == 0)
		eas_http_string_free(text, NULL);
	else
		assert_null(text);
}

static void test_encoder_arguments(void **state)
{
	(void)state;
	const eas_http_query full = full_query();
	char *text;
	assert_int_equal(eas_http_query_encode_base64(NULL, &full, NULL), EAS_E_INVALID);
	assert_int_equal(eas_http_query_encode_plain(NULL, &full, NULL), EAS_E_INVALID);
	assert_int_equal(eas_http_query_encode_base64(&text, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_http_query_encode_plain(&text, NULL, NULL), EAS_E_INVALID);
	expect_encode(&full, FORM_BASE64, 0);
	expect_encode(&full, FORM_PLAIN, 0);

	char s256[257];
	memset(s256, 'y', 256);
	s256[256] = '\0';
	uint8_t id256[256] = { 0 };
	for (int form = FORM_BASE64; form <= FORM_PLAIN; form++) {
		eas_http_query q = full;
		q.version = 2;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.command = (eas_command)7;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.command = (eas_command)999;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.device_id = NULL;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.device_id_len = 0;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.device_type = NULL;
		expect_encode(&q, form, EAS_E_INVALID);
		q = full;
		q.device_type = "";
		expect_encode(&q, form, EAS_E_INVALID);
	}
	/* Base64 only. */
	eas_http_query q = full;
	q.protocol_version = EAS_PROTO_2_5;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	expect_encode(&q, FORM_PLAIN, 0);
	q.protocol_version = EAS_PROTO_12_0;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	q.protocol_version = 0;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	q.protocol_version = EAS_PROTO_14_1 | EAS_PROTO_16_0;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	q = full;
	q.command = EAS_CMD_NOTIFY;
	expect_encode(&q, FORM_BASE64, EAS_E_UNSUPPORTED);
	expect_encode(&q, FORM_PLAIN, 0);
	q = full;
	q.device_id = id256;
	q.device_id_len = 256;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	q.device_id_len = 255;
	expect_encode(&q, FORM_BASE64, 0);
	expect_encode(&q, FORM_PLAIN, EAS_E_INVALID); /* not alphanumeric, too long */
	q = full;
	q.device_type = s256;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	expect_encode(&q, FORM_PLAIN, 0);
	q = full;
	q.options = 0x100;
	expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
	const char **fields[] = { &q.user, &q.attachment_name, &q.collection_id, &q.item_id,
		&q.long_id, &q.occurrence };
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		q = full;
		*fields[i] = s256;
		expect_encode(&q, FORM_BASE64, EAS_E_INVALID);
		expect_encode(&q, FORM_PLAIN, 0);
		*fields[i] = "";
		expect_encode(&q, FORM_BASE64, 0);
		expect_encode(&q, FORM_PLAIN, EAS_E_INVALID);
		*fields[i] = NULL;
		expect_encode(&q, FORM_BASE64, 0);
		expect_encode(&q, FORM_PLAIN, i == 0 ? EAS_E_INVALID : 0); /* User required */
	}
	/* Plain device id: 1-32 letters and digits. */
	q = full;
	q.device_id = (const uint8_t *)"0123456789abcdef0123456789abcdef0";
	q.device_id_len = 33;
	expect_encode(&q, FORM_PLAIN, EAS_E_INVALID);
	q.device_id_len = 32;
	expect_encode(&q, FORM_PLAIN, 0);
	q.device_id = (const uint8_t *)"dev-1";
	q.device_id_len = 5;
	expect_encode(&q, FORM_PLAIN, EAS_E_INVALID);
	expect_encode(&q, FORM_BASE64, 0);
}

static void test_decoder_arguments_and_clear(void **state)
{
	(void)state;
	eas_http_query q;
	assert_int_equal(eas_http_query_decode(NULL, spec_example, 10, NULL), EAS_E_INVALID);
	assert_int_equal(eas_http_query_decode(&q, NULL, 10, NULL), EAS_E_INVALID);
	assert_int_equal(eas_http_query_decode(&q, NULL, 0, NULL), EAS_E_MALFORMED);

	eas_http_query_clear(NULL);
	eas_http_query init = EAS_HTTP_QUERY_INIT;
	eas_http_query_clear(&init);
	assert_int_equal(init.version, EAS_HTTP_QUERY_VERSION);
	eas_http_query filled = full_query();
	eas_http_query_clear(&filled); /* borrowed pointers: nothing freed */
	assert_null(filled.user);
	assert_null(filled.priv_block);

	/* Decoding twice with a clear in between; a custom allocator is used. */
	testmem tm;
	eas_mem m = testmem_init(&tm, -1);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(eas_http_query_decode(&q, spec_example, strlen(spec_example), &m), 0);
		assert_int_equal(tm.live_blocks, 1);
		eas_http_query_clear(&q);
		assert_int_equal(tm.live_blocks, 0);
		eas_http_query_clear(&q); /* twice is fine */
	}
	/* A partial allocator (no realloc) falls back to libc entirely. */
	eas_mem partial = m;
	partial.realloc_fn = NULL;
	assert_int_equal(eas_http_query_decode(&q, spec_example, strlen(spec_example), &partial), 0);
	assert_int_equal(tm.calls, 3);
	eas_http_query_clear(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_base64_rfc4648_vectors),
		cmocka_unit_test(test_base64_all_byte_values),
		cmocka_unit_test(test_base64_rejects),
		cmocka_unit_test(test_percent_helpers),
		cmocka_unit_test(test_command_table),
		cmocka_unit_test(test_spec_example_decodes),
		cmocka_unit_test(test_spec_example_encodes_byte_for_byte),
		cmocka_unit_test(test_device_captures),
		cmocka_unit_test(test_roundtrip_every_command),
		cmocka_unit_test(test_roundtrip_every_parameter),
		cmocka_unit_test(test_plain_percent_encoding),
		cmocka_unit_test(test_malformed_base64_table),
		cmocka_unit_test(test_malformed_text_table),
		cmocka_unit_test(test_every_truncation),
		cmocka_unit_test(test_random_damage),
		cmocka_unit_test(test_allocation_failures),
		cmocka_unit_test(test_encoder_arguments),
		cmocka_unit_test(test_decoder_arguments_and_clear),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
