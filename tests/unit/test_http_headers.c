/* MS-ASHTTP request headers (sdk/src/http/headers.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eas/http.h"
#include "eas/sys/transport.h"
#include "http/headers.h"
#include "testmem.h"

#define WBXML "application/vnd.ms-sync.wbxml"

/* ---- a wiping-aware allocator: records whether every freed block was zero ---- */

struct wipe_check {
	long blocks_freed;
	long dirty_frees; /* blocks freed with a non-zero byte in them */
	long live;
};

static void *wc_malloc(size_t size, void *ud)
{
	struct wipe_check *wc = ud;
	size_t *p = malloc(sizeof(size_t) + size);
	if (!p)
		return NULL;
	p[0] = size;
	wc->live++;
	return p + 1;
}

static void *wc_realloc(void *ptr, size_t size, void *ud)
{
	(void)ptr;
	(void)size;
	(void)ud;
	fail_msg("headers must not realloc");
	return NULL;
}

static void wc_free(void *ptr, void *ud)
{
	struct wipe_check *wc = ud;
	size_t *p = (size_t *)ptr - 1;
	const unsigned char *b = ptr;
	for (size_t i = 0; i < p[0]; i++) {
		if (b[i]) {
			wc->dirty_frees++;
			break;
		}
	}
	wc->blocks_freed++;
	wc->live--;
	free(p);
}

/* ---- table-driven scenarios ------------------------------------------------------ */

struct hdr {
	const char *name, *value;
};

struct scenario {
	const char *what;
	eas__http_header_params p;
	struct hdr want[EAS__HTTP_HEADERS_MAX + 1]; /* {NULL} ends */
};

#define BASIC_FAKEUSER "Basic ZmFrZXVzZXI6eCRwSUFLOUBwOSE="

static const struct scenario scenarios[] = {
	{ "plain Sync, 14.1, provisioned, with body",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_1,
	    .policy_key = "3942919513", .user_agent = "libeas/0.1", .has_body = 1,
	    .auth = EAS__HTTP_AUTH_BASIC, .user = "fakeuser", .password = "x$pIAK9@p9!" },
	  { { "MS-ASProtocolVersion", "14.1" }, { "X-MS-PolicyKey", "3942919513" },
	    { "User-Agent", "libeas/0.1" }, { "Content-Type", WBXML },
	    { "Authorization", BASIC_FAKEUSER }, { NULL, NULL } } },
	{ "base64 query carries version and policy key",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_1, .base64_query = 1,
	    .policy_key = "3942919513", .user_agent = "libeas/0.1", .has_body = 1,
	    .auth = EAS__HTTP_AUTH_BASIC, .user = "fakeuser", .password = "x$pIAK9@p9!" },
	  { { "User-Agent", "libeas/0.1" }, { "Content-Type", WBXML },
	    { "Authorization", BASIC_FAKEUSER }, { NULL, NULL } } },
	{ "base64 query: the version may even be unknown",
	  { .command = EAS_CMD_FOLDER_SYNC, .base64_query = 1, .has_body = 1 },
	  { { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "Ping: no policy key ([MS-ASPROV] 3.1.5.1)",
	  { .command = EAS_CMD_PING, .protocol_version = EAS_PROTO_14_0, .policy_key = "1",
	    .has_body = 1 },
	  { { "MS-ASProtocolVersion", "14.0" }, { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "Ping without body (12.1+ reuses the cached request)",
	  { .command = EAS_CMD_PING, .protocol_version = EAS_PROTO_12_1 },
	  { { "MS-ASProtocolVersion", "12.1" }, { NULL, NULL } } },
	{ "initial Provision: no key yet",
	  { .command = EAS_CMD_PROVISION, .protocol_version = EAS_PROTO_16_1, .has_body = 1,
	    .user_agent = "UA" },
	  { { "MS-ASProtocolVersion", "16.1" }, { "User-Agent", "UA" },
	    { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "Provision acknowledgement with temporary key 0",
	  { .command = EAS_CMD_PROVISION, .protocol_version = EAS_PROTO_2_5, .has_body = 1,
	    .policy_key = "0" },
	  { { "MS-ASProtocolVersion", "2.5" }, { "X-MS-PolicyKey", "0" },
	    { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "OPTIONS: no version, key, type or multipart",
	  { .options_request = 1, .protocol_version = EAS_PROTO_14_1, .policy_key = "7",
	    .has_body = 1, .accept_multipart = 1, .user_agent = "UA",
	    .auth = EAS__HTTP_AUTH_BEARER, .token = "eyJ0eXAi.OiJKV1Qi-_~+/=" },
	  { { "User-Agent", "UA" }, { "Authorization", "Bearer eyJ0eXAi.OiJKV1Qi-_~+/=" },
	    { NULL, NULL } } },
	{ "ItemOperations multipart, plain query",
	  { .command = EAS_CMD_ITEM_OPERATIONS, .protocol_version = EAS_PROTO_12_0,
	    .has_body = 1, .accept_multipart = 1 },
	  { { "MS-ASProtocolVersion", "12.0" }, { "Content-Type", WBXML },
	    { "MS-ASAcceptMultiPart", "T" }, { NULL, NULL } } },
	{ "ItemOperations multipart, base64 query uses the Options bit instead",
	  { .command = EAS_CMD_ITEM_OPERATIONS, .protocol_version = EAS_PROTO_14_0,
	    .base64_query = 1, .has_body = 1, .accept_multipart = 1 },
	  { { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "12.1 SendMail with a MIME body",
	  { .command = EAS_CMD_SEND_MAIL, .protocol_version = EAS_PROTO_12_1, .has_body = 1,
	    .content_type = "message/rfc822", .policy_key = "42" },
	  { { "MS-ASProtocolVersion", "12.1" }, { "X-MS-PolicyKey", "42" },
	    { "Content-Type", "message/rfc822" }, { NULL, NULL } } },
	{ "content type ignored without a body",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_16_0,
	    .content_type = "message/rfc822" },
	  { { "MS-ASProtocolVersion", "16.0" }, { NULL, NULL } } },
	{ "Search with Accept-Language and a cookie, every header",
	  { .command = EAS_CMD_SEARCH, .protocol_version = EAS_PROTO_16_1, .has_body = 1,
	    .policy_key = "1234", .user_agent = "Dev/1.0 (x; y)", .accept_language = "en-US",
	    .cookie = "X-BackEndCookie=abc; DefaultAnchorMailbox=u@x", .auth = EAS__HTTP_AUTH_BASIC,
	    .user = "Aladdin", .password = "open sesame" },
	  { { "MS-ASProtocolVersion", "16.1" }, { "X-MS-PolicyKey", "1234" },
	    { "User-Agent", "Dev/1.0 (x; y)" }, { "Content-Type", WBXML },
	    { "Accept-Language", "en-US" },
	    { "Cookie", "X-BackEndCookie=abc; DefaultAnchorMailbox=u@x" },
	    { "Authorization", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==" }, { NULL, NULL } } },
	{ "Basic with a UTF-8 password (RFC 7617 2.1 example)",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0,
	    .auth = EAS__HTTP_AUTH_BASIC, .user = "test", .password = "123\xC2\xA3" },
	  { { "MS-ASProtocolVersion", "14.0" }, { "Authorization", "Basic dGVzdDoxMjPCow==" },
	    { NULL, NULL } } },
	{ "Basic with a domain user and an empty password",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0,
	    .auth = EAS__HTTP_AUTH_BASIC, .user = "CONTOSO\\jdoe", .password = "" },
	  { { "MS-ASProtocolVersion", "14.0" }, { "Authorization", "Basic Q09OVE9TT1xqZG9lOg==" },
	    { NULL, NULL } } },
	{ "client certificate: no Authorization",
	  { .command = EAS_CMD_FOLDER_SYNC, .protocol_version = EAS_PROTO_14_1, .has_body = 1,
	    .auth = EAS__HTTP_AUTH_NONE, .user = "ignored", .password = "ignored" },
	  { { "MS-ASProtocolVersion", "14.1" }, { "Content-Type", WBXML }, { NULL, NULL } } },
	{ "OPTIONS with nothing at all",
	  { .options_request = 1 },
	  { { NULL, NULL } } },
};

static void check_scenario(const struct scenario *s)
{
	eas__http_headers h;
	int rc = eas__http_headers_build(&h, &s->p, NULL);
	if (rc != 0)
		fail_msg("%s: rc %d", s->what, rc);
	size_t n = 0;
	while (s->want[n].name)
		n++;
	if (h.count != n)
		fail_msg("%s: %zu headers, want %zu", s->what, h.count, n);
	for (size_t i = 0; i < n; i++) {
		if (strcmp(h.items[i].name, s->want[i].name) != 0 ||
		    strcmp(h.items[i].value, s->want[i].value) != 0)
			fail_msg("%s: header %zu is %s: %s, want %s: %s", s->what, i, h.items[i].name,
				 h.items[i].value, s->want[i].name, s->want[i].value);
	}
	eas__http_headers_free(&h);
	assert_int_equal(h.count, 0);
	assert_null(h.block);
}

static void test_scenarios(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		check_scenario(&scenarios[i]);
}

/* The [MS-ASHTTP] 2.2.1.1.2.2 example, byte for byte (user "fakeuser"). */
static void test_basic_spec_vector(void **state)
{
	(void)state;
	eas__http_header_params p = { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC,
				      .user = "fakeuser", .password = "x$pIAK9@p9!" };
	eas__http_headers h;
	assert_int_equal(eas__http_headers_build(&h, &p, NULL), 0);
	assert_int_equal(h.count, 1);
	const char *want = "Basic ZmFrZXVzZXI6eCRwSUFLOUBwOSE=";
	assert_int_equal(strlen(h.items[0].value), strlen(want));
	assert_memory_equal(h.items[0].value, want, strlen(want) + 1);
	assert_string_equal(eas__http_header_get(h.items, h.count, "authorization"), want);
	eas__http_headers_free(&h);
}

/* ---- refusals -------------------------------------------------------------------- */

struct bad {
	const char *what;
	eas__http_header_params p;
};

static const struct bad bads[] = {
	{ "plain POST without version", { .command = EAS_CMD_SYNC } },
	{ "plain POST with two version bits",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0 | EAS_PROTO_14_1 } },
	{ "plain POST with a non-version bit", { .command = EAS_CMD_SYNC, .protocol_version = 0x80 } },
	{ "policy key with a space",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .policy_key = "12 34" } },
	{ "empty policy key",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .policy_key = "" } },
	{ "policy key with CR LF (header injection)",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0,
	    .policy_key = "1\r\nX-Evil: 1" } },
	{ "policy key of 65 characters",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0,
	    .policy_key = "12345678901234567890123456789012345678901234567890123456789012345" } },
	{ "policy key checked even where it is not sent (Ping)",
	  { .command = EAS_CMD_PING, .protocol_version = EAS_PROTO_14_0, .policy_key = "a\nb" } },
	{ "User-Agent with LF",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .user_agent = "a\nb" } },
	{ "empty User-Agent",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .user_agent = "" } },
	{ "User-Agent with trailing space",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .user_agent = "ua " } },
	{ "Content-Type with CR",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .has_body = 1,
	    .content_type = "text/xml\r" } },
	{ "Accept-Language with DEL",
	  { .command = EAS_CMD_SEARCH, .protocol_version = EAS_PROTO_14_0,
	    .accept_language = "en\x7F" } },
	{ "empty cookie",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_16_0, .cookie = "" } },
	{ "multipart on a command other than ItemOperations",
	  { .command = EAS_CMD_SYNC, .protocol_version = EAS_PROTO_14_0, .accept_multipart = 1 } },
	{ "Basic: user with ':'",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .user = "a:b", .password = "p" } },
	{ "Basic: empty user",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .user = "", .password = "p" } },
	{ "Basic: no user",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .password = "p" } },
	{ "Basic: no password",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .user = "u" } },
	{ "Basic: password with LF",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .user = "u", .password = "p\n" } },
	{ "Basic: user with NUL-adjacent control",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BASIC, .user = "u\x01", .password = "p" } },
	{ "Bearer: no token", { .options_request = 1, .auth = EAS__HTTP_AUTH_BEARER } },
	{ "Bearer: empty token",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BEARER, .token = "" } },
	{ "Bearer: token with a space",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BEARER, .token = "ab cd" } },
	{ "Bearer: token with CR LF",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BEARER, .token = "ab\r\nX: y" } },
	{ "Bearer: token with a non-ASCII byte",
	  { .options_request = 1, .auth = EAS__HTTP_AUTH_BEARER, .token = "ab\xC3\xA9" } },
	{ "unknown auth kind", { .options_request = 1, .auth = 7 } },
	{ "negative auth kind", { .options_request = 1, .auth = -1 } },
};

static void test_refusals(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, -1);
		eas__http_headers h;
		int rc = eas__http_headers_build(&h, &bads[i].p, &m);
		if (rc != EAS_E_INVALID)
			fail_msg("%s: rc %d, want EAS_E_INVALID", bads[i].what, rc);
		assert_int_equal(h.count, 0);
		assert_null(h.block);
		assert_int_equal(tm.live_blocks, 0);
		eas__http_headers_free(&h);
	}
	eas__http_headers h;
	eas__http_header_params p = { .options_request = 1 };
	assert_int_equal(eas__http_headers_build(NULL, &p, NULL), EAS_E_INVALID);
	assert_int_equal(eas__http_headers_build(&h, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(h.count, 0);
	eas__http_headers_free(NULL);
}

/* ---- credentials ----------------------------------------------------------------- */

static const char *const secrets[] = { "fakeuser", "x$pIAK9@p9!", "open sesame", "Aladdin",
				       "eyJ0eXAi.OiJKV1Qi-_~+/=" };

/* No header but Authorization carries a credential, in clear or base64. */
static void test_credentials_only_in_authorization(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		eas__http_headers h;
		assert_int_equal(eas__http_headers_build(&h, &scenarios[i].p, NULL), 0);
		for (size_t k = 0; k < h.count; k++) {
			if (strcmp(h.items[k].name, "Authorization") == 0) {
				/* The Basic value is encoded: no password in clear. */
				if (strncmp(h.items[k].value, "Basic ", 6) == 0)
					for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++)
						assert_null(strstr(h.items[k].value, secrets[s]));
				continue;
			}
			for (size_t s = 0; s < sizeof(secrets) / sizeof(secrets[0]); s++) {
				if (strstr(h.items[k].value, secrets[s]))
					fail_msg("%s: %s carries a credential", scenarios[i].what,
						 h.items[k].name);
			}
			/* Nor the base64 of user:password. */
			assert_null(strstr(h.items[k].value, "ZmFrZXVzZXI6"));
			assert_null(strstr(h.items[k].value, "QWxhZGRpbjpv"));
		}
		eas__http_headers_free(&h);
	}
}

/* Every byte of every block is zero when it goes back to the allocator. */
static void test_wiped_on_free(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		struct wipe_check wc = { 0, 0, 0 };
		eas_mem m = { wc_malloc, wc_realloc, wc_free, &wc };
		eas__http_headers h;
		assert_int_equal(eas__http_headers_build(&h, &scenarios[i].p, &m), 0);
		eas__http_headers_free(&h);
		assert_int_equal(wc.live, 0);
		if (wc.dirty_frees)
			fail_msg("%s: a block was freed without being wiped", scenarios[i].what);
		/* Free twice is harmless: the list is empty after the first. */
		eas__http_headers_free(&h);
		assert_int_equal(wc.live, 0);
	}
}

static void test_wipe_helper(void **state)
{
	(void)state;
	char buf[16];
	memset(buf, 'x', sizeof(buf));
	eas__http_wipe(buf + 2, 10);
	assert_int_equal(buf[1], 'x');
	for (int i = 2; i < 12; i++)
		assert_int_equal(buf[i], 0);
	assert_int_equal(buf[12], 'x');
	eas__http_wipe(buf, 0);
	assert_int_equal(buf[0], 'x');
}

/* ---- allocation failure and the transport struct ----------------------------------- */

static void test_allocation_failure(void **state)
{
	(void)state;
	const eas__http_header_params *p = &scenarios[0].p;
	testmem tm;
	eas_mem m = testmem_init(&tm, 0);
	eas__http_headers h;
	assert_int_equal(eas__http_headers_build(&h, p, &m), EAS_E_NOMEM);
	assert_int_equal(h.count, 0);
	assert_null(h.block);
	assert_int_equal(tm.live_blocks, 0);
	/* One allocation only: with the second failing it succeeds. */
	m = testmem_init(&tm, 1);
	assert_int_equal(eas__http_headers_build(&h, p, &m), 0);
	assert_int_equal(tm.calls, 1);
	eas__http_headers_free(&h);
	assert_int_equal(tm.live_blocks, 0);
}

static void test_feeds_a_transport_request(void **state)
{
	(void)state;
	eas__http_headers h;
	assert_int_equal(eas__http_headers_build(&h, &scenarios[0].p, NULL), 0);
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync";
	req.headers = h.items;
	req.header_count = h.count;
	assert_int_equal(req.header_count, 5);
	for (size_t i = 0; i < req.header_count; i++) {
		assert_non_null(req.headers[i].name);
		assert_null(strpbrk(req.headers[i].value, "\r\n"));
	}
	eas__http_headers_free(&h);
}

static void test_header_get(void **state)
{
	(void)state;
	const eas_http_header hs[] = {
		{ "Content-Type", "a" }, { NULL, "skipped" }, { "X-MS-Location", NULL },
		{ "x-ms-location", "https://b/" }, { "X-MS-LOCATION", "https://c/" },
	};
	assert_string_equal(eas__http_header_get(hs, 5, "content-type"), "a");
	assert_string_equal(eas__http_header_get(hs, 5, "X-Ms-Location"), "https://b/");
	assert_null(eas__http_header_get(hs, 5, "Retry-After"));
	assert_null(eas__http_header_get(hs, 5, "Content-Typ"));
	assert_null(eas__http_header_get(hs, 0, "Content-Type"));
	assert_null(eas__http_header_get(NULL, 0, "a"));
	assert_null(eas__http_header_get(hs, 5, NULL));
	assert_true(eas__http_ascii_ieq("MS-ASProtocolVersions", "ms-asprotocolversions"));
	assert_false(eas__http_ascii_ieq("abc", "abcd"));
	assert_false(eas__http_ascii_ieq("abcd", "abc"));
	assert_true(eas__http_ascii_ieq("", ""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_basic_spec_vector),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_credentials_only_in_authorization),
		cmocka_unit_test(test_wiped_on_free),
		cmocka_unit_test(test_wipe_helper),
		cmocka_unit_test(test_allocation_failure),
		cmocka_unit_test(test_feeds_a_transport_request),
		cmocka_unit_test(test_header_get),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
