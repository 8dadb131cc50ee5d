/* The POSIX platform hooks, and that every dependency links and works on this target. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include <expat.h>
#include <mbedtls/sha256.h>

#include "eas/sys/platform.h"
#include "eas_config.h"

#if EAS_HAVE_CURL
#include <curl/curl.h>
#endif
#if EAS_HAVE_SQLITE
#include <sqlite3.h>
#endif
#if EAS_HAVE_SERVER
#include <microhttpd.h>
#endif

static void test_clocks(void **state)
{
	(void)state;
	const eas_platform *p = eas_platform_posix();
	assert_int_equal(p->version, EAS_PLATFORM_VERSION);
	uint64_t a = p->monotonic_ms(p->user_data);
	uint64_t b = p->monotonic_ms(p->user_data);
	assert_true(b >= a);
	/* After 2020-01-01 and before 2100-01-01. */
	int64_t now = p->wall_clock_s(p->user_data);
	assert_true(now > 1577836800 && now < 4102444800);
}

static void test_random_bytes_differ(void **state)
{
	(void)state;
	const eas_platform *p = eas_platform_posix();
	unsigned char a[32], b[32];
	memset(a, 0, sizeof a);
	memset(b, 0, sizeof b);
	assert_int_equal(p->random_bytes(a, sizeof a, p->user_data), 0);
	assert_int_equal(p->random_bytes(b, sizeof b, p->user_data), 0);
	assert_memory_not_equal(a, b, sizeof a);
}

static void test_mbedtls_sha256(void **state)
{
	(void)state;
	/* FIPS 180-2 test vector for "abc". */
	static const unsigned char expect[32] = {
		0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde,
		0x5d, 0xae, 0x22, 0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c,
		0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00, 0x15, 0xad };
	unsigned char out[32];
	assert_int_equal(mbedtls_sha256_ret((const unsigned char *)"abc", 3, out, 0), 0);
	assert_memory_equal(out, expect, 32);
}

static void count_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)name;
	(void)atts;
	(*(int *)ud)++;
}

static void test_expat_parses(void **state)
{
	(void)state;
	int n = 0;
	XML_Parser p = XML_ParserCreate(NULL);
	assert_non_null(p);
	XML_SetUserData(p, &n);
	XML_SetStartElementHandler(p, count_start);
	static const char doc[] = "<a><b/><c>t</c></a>";
	assert_int_equal(XML_Parse(p, doc, (int)strlen(doc), 1), XML_STATUS_OK);
	XML_ParserFree(p);
	assert_int_equal(n, 3);
}

#if EAS_HAVE_SQLITE
static void test_sqlite_in_memory(void **state)
{
	(void)state;
	sqlite3 *db = NULL;
	assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
	sqlite3_stmt *st = NULL;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT 6*7", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 42);
	sqlite3_finalize(st);
	sqlite3_close(db);
}
#endif

#if EAS_HAVE_CURL
static void test_curl_has_tls(void **state)
{
	(void)state;
	curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
	assert_non_null(v);
	assert_true(v->features & CURL_VERSION_SSL);
	assert_non_null(v->ssl_version);
}
#endif

#if EAS_HAVE_SERVER
static void test_microhttpd_version(void **state)
{
	(void)state;
	const char *v = MHD_get_version();
	assert_non_null(v);
	unsigned a, b;
	assert_int_equal(sscanf(v, "%u.%u", &a, &b), 2);
	assert_true(a == 0 ? b >= 9 : a >= 1);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clocks),
		cmocka_unit_test(test_random_bytes_differ),
		cmocka_unit_test(test_mbedtls_sha256),
		cmocka_unit_test(test_expat_parses),
#if EAS_HAVE_SQLITE
		cmocka_unit_test(test_sqlite_in_memory),
#endif
#if EAS_HAVE_CURL
		cmocka_unit_test(test_curl_has_tls),
#endif
#if EAS_HAVE_SERVER
		cmocka_unit_test(test_microhttpd_version),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
