/*
 * Every request the client session builds, byte for byte: the session runs
 * with eas_session_run over the scripted transport against the fake server
 * of tests/support/session_driver, and each recorded request is compared in
 * full with what MS-ASHTTP / MS-ASPROV say it must be: method, URL with its
 * query, the complete header list in order, and the body bytes.
 *
 * The expected WBXML bodies are written out as bytes here, not produced by
 * our encoder; each was checked by decoding it with libwbxml's wbxml2xml
 * (-l ACTIVESYNC), whose token tables are independent of ours (libwbxml
 * 0.11 does not know the 16.1 AccountOnlyRemoteWipe token 0x3B; the digest
 * of MS-ASWBXML gives it).  The base64 queries were decoded by hand against
 * the MS-ASHTTP byte layout (the comment above each).
 *
 * Also here: no credential (password, its base64, a bearer token) ever
 * appears in any platform log line, at any level including TRACE, or in any
 * event message, through whole connects with Basic and OAuth2.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eas/session.h"
#include "session_driver.h"

#define URL "https://mail.example.com/Microsoft-Server-ActiveSync"
#define PASSWORD "s3cr3t-Pa55"
#define BASIC "Authorization: Basic YWxpY2U6czNjcjN0LVBhNTU=\n" /* base64("alice:s3cr3t-Pa55") */
#define PLAIN_Q(cmd) URL "?Cmd=" cmd "&User=alice&DeviceId=DEV0123456789&DeviceType=SmartPhone"
#define UA "User-Agent: libeas-test/1.0\n"
#define CT "Content-Type: application/vnd.ms-sync.wbxml\n"

/* ---- the expected bodies -------------------------------------------------------------- */

/*
 * Provision phase 1 at 14.1: settings:DeviceInformation/Set (Model, OS,
 * UserAgent) first, then Policies/Policy/PolicyType MS-EAS-Provisioning-WBXML.
 */
static const uint8_t prov1_14_1[] = {
	0x03, 0x01, 0x6a, 0x00,                   /* WBXML 1.3, public id 1, UTF-8, no string table */
	0x00, 0x0e, 0x45,                         /* page 14 Provision: <Provision> */
	0x00, 0x12, 0x56, 0x48,                   /* page 18 Settings: <DeviceInformation><Set> */
	0x57, 0x03, 'T', 'e', 's', 't', 'P', 'h', 'o', 'n', 'e', 0x00, 0x01, /* <Model> */
	0x5a, 0x03, 'T', 'e', 's', 't', 'O', 'S', ' ', '1', 0x00, 0x01,      /* <OS> */
	0x60, 0x03, 'l', 'i', 'b', 'e', 'a', 's', '-', 't', 'e', 's', 't', '/', '1', '.', '0', 0x00, 0x01,
	0x01, 0x01,                               /* </Set></DeviceInformation> */
	0x00, 0x0e, 0x46, 0x47, 0x48, 0x03,       /* page 14: <Policies><Policy><PolicyType> */
	'M', 'S', '-', 'E', 'A', 'S', '-', 'P', 'r', 'o', 'v', 'i', 's', 'i', 'o', 'n', 'i', 'n', 'g', '-',
	'W', 'B', 'X', 'M', 'L', 0x00, 0x01,
	0x01, 0x01, 0x01,                         /* </Policy></Policies></Provision> */
};

/* Provision phase 1 before 14.1: no DeviceInformation. */
static const uint8_t prov1_12_1[] = {
	0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x46, 0x47, 0x48, 0x03,
	'M', 'S', '-', 'E', 'A', 'S', '-', 'P', 'r', 'o', 'v', 'i', 's', 'i', 'o', 'n', 'i', 'n', 'g', '-',
	'W', 'B', 'X', 'M', 'L', 0x00, 0x01, 0x01, 0x01, 0x01,
};

/* Provision phase 2: the temporary key and policy Status 1 (applied). */
static const uint8_t prov2_wbxml[] = {
	0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x46, 0x47, 0x48, 0x03,
	'M', 'S', '-', 'E', 'A', 'S', '-', 'P', 'r', 'o', 'v', 'i', 's', 'i', 'o', 'n', 'i', 'n', 'g', '-',
	'W', 'B', 'X', 'M', 'L', 0x00, 0x01,
	0x49, 0x03, '1', '3', '0', '7', '1', '9', '9', '5', '8', '4', 0x00, 0x01, /* <PolicyKey> */
	0x4b, 0x03, '1', 0x00, 0x01,                                              /* <Status>1 */
	0x01, 0x01, 0x01,
};

/* 2.5: the XML policy type, both phases. */
static const uint8_t prov1_2_5[] = {
	0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x46, 0x47, 0x48, 0x03,
	'M', 'S', '-', 'W', 'A', 'P', '-', 'P', 'r', 'o', 'v', 'i', 's', 'i', 'o', 'n', 'i', 'n', 'g', '-',
	'X', 'M', 'L', 0x00, 0x01, 0x01, 0x01, 0x01,
};
static const uint8_t prov2_2_5[] = {
	0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x46, 0x47, 0x48, 0x03,
	'M', 'S', '-', 'W', 'A', 'P', '-', 'P', 'r', 'o', 'v', 'i', 's', 'i', 'o', 'n', 'i', 'n', 'g', '-',
	'X', 'M', 'L', 0x00, 0x01,
	0x49, 0x03, '1', '3', '0', '7', '1', '9', '9', '5', '8', '4', 0x00, 0x01,
	0x4b, 0x03, '1', 0x00, 0x01, 0x01, 0x01, 0x01,
};

/* Wipe acknowledgments: <RemoteWipe> (0x0C) or <AccountOnlyRemoteWipe> (0x3B) with <Status>1. */
static const uint8_t wipe_ack[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x4c, 0x4b, 0x03, '1', 0x00, 0x01, 0x01, 0x01 };
static const uint8_t account_wipe_ack[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x0e, 0x45, 0x7b, 0x4b, 0x03, '1', 0x00,
					    0x01, 0x01, 0x01 };

/* The app's FolderSync (page 7): <FolderSync><SyncKey>0</SyncKey></FolderSync>, sent as given. */
static const uint8_t folder_sync[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, '0', 0x00, 0x01, 0x01 };

/* ---- helpers ------------------------------------------------------------------------------ */

static eas_account account(const char *password)
{
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.password = password;
	a.device_id = "DEV0123456789";
	a.device_type = "SmartPhone";
	a.user_agent = "libeas-test/1.0";
	a.device.model = "TestPhone";
	a.device.os = "TestOS 1";
	return a;
}

static sd *basic_driver(int base64, const char *versions)
{
	eas_account a = account(PASSWORD);
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.base64_query = base64;
	sd *d = sd_new(&a, &o);
	d->versions = versions;
	return d;
}

/* An OAuth2 account: the driver is the token source (tokens tok-1, tok-2...). */
static sd *bearer_driver(void)
{
	eas_account a = account(NULL);
	a.token_fn = sd_token_fn;
	sd *d = sd_new(&a, NULL);
	/* The session copied token_user_data (NULL here): point it at the driver. */
	eas_session_free(d->s);
	a.token_user_data = d;
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &d->plat;
	assert_int_equal(eas_session_new(&d->s, &a, &o), 0);
	return d;
}

static void send_folder_sync(sd *d)
{
	assert_int_equal(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, folder_sync, sizeof folder_sync), 0);
	sd_run(d, 600000);
	assert_int_equal(sd_last_event(d)->ev.type, EAS_EVENT_RESPONSE);
}

static void expect_ready(const sd *d, unsigned version)
{
	assert_int_equal(sd_count(d, EAS_EVENT_READY), 1);
	assert_int_equal(sd_count(d, EAS_EVENT_ERROR), 0);
	assert_int_equal(eas_session_protocol_version(d->s), version);
	assert_string_equal(eas_session_policy_key(d->s), SD_FINAL_KEY);
}

/* ---- plain query -------------------------------------------------------------------------- */

static void test_connect_14_1(void **state)
{
	(void)state;
	sd *d = basic_driver(0, "2.5,12.0,12.1,14.0,14.1");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_14_1);
	send_folder_sync(d);
	assert_int_equal(sd_request_count(d), 4);
	/* OPTIONS: no query, no version, no key, no body, no Content-Type. */
	sd_expect_request(d, 0, "OPTIONS", URL, UA BASIC, NULL, 0);
	sd_expect_request(d, 1, "POST", PLAIN_Q("Provision"), "MS-ASProtocolVersion: 14.1\n" UA CT BASIC, prov1_14_1,
			  sizeof prov1_14_1);
	sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"),
			  "MS-ASProtocolVersion: 14.1\nX-MS-PolicyKey: " SD_TEMP_KEY "\n" UA CT BASIC, prov2_wbxml,
			  sizeof prov2_wbxml);
	sd_expect_request(d, 3, "POST", PLAIN_Q("FolderSync"),
			  "MS-ASProtocolVersion: 14.1\nX-MS-PolicyKey: " SD_FINAL_KEY "\n" UA CT BASIC, folder_sync,
			  sizeof folder_sync);
	/* Every request carries the session's timeout. */
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(sd_request(d, i)->timeout_ms, 120000);
	sd_free(d);
}

static void test_connect_12_1_without_device_information(void **state)
{
	(void)state;
	sd *d = basic_driver(0, "2.5,12.0,12.1");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_12_1);
	assert_int_equal(sd_request_count(d), 3);
	sd_expect_request(d, 0, "OPTIONS", URL, UA BASIC, NULL, 0);
	sd_expect_request(d, 1, "POST", PLAIN_Q("Provision"), "MS-ASProtocolVersion: 12.1\n" UA CT BASIC, prov1_12_1,
			  sizeof prov1_12_1);
	sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"),
			  "MS-ASProtocolVersion: 12.1\nX-MS-PolicyKey: " SD_TEMP_KEY "\n" UA CT BASIC, prov2_wbxml,
			  sizeof prov2_wbxml);
	sd_free(d);
}

static void test_connect_2_5_xml_policy(void **state)
{
	(void)state;
	sd *d = basic_driver(0, "1.0,2.0,2.5");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_2_5);
	send_folder_sync(d);
	assert_int_equal(sd_request_count(d), 4);
	sd_expect_request(d, 1, "POST", PLAIN_Q("Provision"), "MS-ASProtocolVersion: 2.5\n" UA CT BASIC, prov1_2_5,
			  sizeof prov1_2_5);
	sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"),
			  "MS-ASProtocolVersion: 2.5\nX-MS-PolicyKey: " SD_TEMP_KEY "\n" UA CT BASIC, prov2_2_5,
			  sizeof prov2_2_5);
	sd_expect_request(d, 3, "POST", PLAIN_Q("FolderSync"),
			  "MS-ASProtocolVersion: 2.5\nX-MS-PolicyKey: " SD_FINAL_KEY "\n" UA CT BASIC, folder_sync,
			  sizeof folder_sync);
	sd_free(d);
}

static void test_wipe_acknowledgments(void **state)
{
	(void)state;
	for (int account_only = 0; account_only < 2; account_only++) {
		sd *d = basic_driver(0, account_only ? "14.1,16.0,16.1" : "14.1");
		d->wipe = account_only ? 2 : 1;
		sd_connect(d);
		assert_int_equal(sd_count(d, EAS_EVENT_WIPE), 1);
		assert_int_equal(sd_count(d, EAS_EVENT_ERROR), 0);
		assert_int_equal(d->wipe_acks, 1);
		assert_int_equal(sd_request_count(d), 3);
		const char *v = account_only ? "MS-ASProtocolVersion: 16.1\n" : "MS-ASProtocolVersion: 14.1\n";
		char headers[256];
		snprintf(headers, sizeof headers, "%s" UA CT BASIC, v);
		/* Phase 1 as usual (DeviceInformation from 14.1 on), then the acknowledgment. */
		sd_expect_request(d, 1, "POST", PLAIN_Q("Provision"), headers, prov1_14_1, sizeof prov1_14_1);
		if (account_only)
			sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"), headers, account_wipe_ack,
					  sizeof account_wipe_ack);
		else
			sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"), headers, wipe_ack, sizeof wipe_ack);
		/* The account's state is wiped: no policy key any more. */
		assert_string_equal(eas_session_policy_key(d->s), "0");
		assert_false(eas_session_busy(d->s));
		sd_free(d);
	}
}

/* ---- OAuth2 ---------------------------------------------------------------------------- */

static void test_bearer_with_one_refresh(void **state)
{
	(void)state;
	sd *d = bearer_driver();
	d->unauthorized = 1; /* the first token is refused */
	sd_connect(d);
	expect_ready(d, EAS_PROTO_14_1);
	assert_int_equal(d->token_calls, 2);
	assert_int_equal(d->token_refreshes, 1);
	assert_int_equal(sd_request_count(d), 4);
	sd_expect_request(d, 0, "OPTIONS", URL, UA "Authorization: Bearer tok-1\n", NULL, 0);
	sd_expect_request(d, 1, "OPTIONS", URL, UA "Authorization: Bearer tok-2\n", NULL, 0);
	sd_expect_request(d, 2, "POST", PLAIN_Q("Provision"), "MS-ASProtocolVersion: 14.1\n" UA CT "Authorization: Bearer tok-2\n",
			  prov1_14_1, sizeof prov1_14_1);
	sd_expect_request(d, 3, "POST", PLAIN_Q("Provision"),
			  "MS-ASProtocolVersion: 14.1\nX-MS-PolicyKey: " SD_TEMP_KEY "\n" UA CT "Authorization: Bearer tok-2\n",
			  prov2_wbxml, sizeof prov2_wbxml);

	/* A command refused later: one more refresh for that request, then it goes through. */
	d->unauthorized = 1;
	send_folder_sync(d);
	assert_int_equal(d->token_refreshes, 2);
	const char *h = "MS-ASProtocolVersion: 14.1\nX-MS-PolicyKey: " SD_FINAL_KEY "\n" UA CT;
	char with2[256], with3[256];
	snprintf(with2, sizeof with2, "%sAuthorization: Bearer tok-2\n", h);
	snprintf(with3, sizeof with3, "%sAuthorization: Bearer tok-3\n", h);
	sd_expect_request(d, 4, "POST", PLAIN_Q("FolderSync"), with2, folder_sync, sizeof folder_sync);
	sd_expect_request(d, 5, "POST", PLAIN_Q("FolderSync"), with3, folder_sync, sizeof folder_sync);

	/* Refused twice in a row: AUTH_FAILED, no second refresh for the same request. */
	d->unauthorized = 2;
	assert_int_equal(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, folder_sync, sizeof folder_sync), 0);
	sd_run(d, 600000);
	assert_int_equal(d->token_refreshes, 3);
	assert_int_equal(sd_count(d, EAS_EVENT_AUTH_FAILED), 1);
	assert_int_equal(sd_last_event(d)->ev.error, EAS_E_AUTH);
	assert_int_equal(sd_request_count(d), 8);
	sd_free(d);
}

/* ---- base64 query ------------------------------------------------------------------------ */

static void test_base64_query_14_1(void **state)
{
	(void)state;
	sd *d = basic_driver(1, "2.5,12.0,12.1,14.0,14.1");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_14_1);
	send_folder_sync(d);
	assert_int_equal(sd_request_count(d), 4);
	/* OPTIONS has no query in either form. */
	sd_expect_request(d, 0, "OPTIONS", URL, UA BASIC, NULL, 0);
	/*
	 * 8D 14 0904 0D "DEV0123456789" 00 0A "SmartPhone" 08 05 "alice":
	 * 14.1, Provision (20), LCID 0x0409 little-endian, the device id, no
	 * policy key (phase 1), the device type, User.  No MS-ASProtocolVersion
	 * or X-MS-PolicyKey header with the base64 form.
	 */
	sd_expect_request(d, 1, "POST", URL "?jRQJBA1ERVYwMTIzNDU2Nzg5AApTbWFydFBob25lCAVhbGljZQ==", UA CT BASIC,
			  prov1_14_1, sizeof prov1_14_1);
	/* ... 04 60 48 EA 4D ...: the temporary key 1307199584 as a little-endian uint32. */
	sd_expect_request(d, 2, "POST", URL "?jRQJBA1ERVYwMTIzNDU2Nzg5BGBI6k0KU21hcnRQaG9uZQgFYWxpY2U=", UA CT BASIC,
			  prov2_wbxml, sizeof prov2_wbxml);
	/* 8D 09 ...: FolderSync (9) with the final key 3942919513 = 04 59 2D 04 EB. */
	sd_expect_request(d, 3, "POST", URL "?jQkJBA1ERVYwMTIzNDU2Nzg5BFktBOsKU21hcnRQaG9uZQgFYWxpY2U=", UA CT BASIC,
			  folder_sync, sizeof folder_sync);
	sd_free(d);
}

static void test_base64_query_12_1_and_ping(void **state)
{
	(void)state;
	sd *d = basic_driver(1, "12.1");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_12_1);
	/* 79 = 12.1. */
	sd_expect_request(d, 1, "POST", URL "?eRQJBA1ERVYwMTIzNDU2Nzg5AApTbWFydFBob25lCAVhbGljZQ==", UA CT BASIC,
			  prov1_12_1, sizeof prov1_12_1);
	/* Ping (18) goes without the policy key, as it does without X-MS-PolicyKey in the plain form. */
	assert_int_equal(eas_session_send(d->s, EAS_CMD_PING, NULL, 0), 0);
	sd_run(d, 600000);
	/* 79 12 0904 0D "DEV0123456789" 00 0A "SmartPhone" 08 05 "alice"; the empty body has no Content-Type. */
	sd_expect_request(d, 3, "POST", URL "?eRIJBA1ERVYwMTIzNDU2Nzg5AApTbWFydFBob25lCAVhbGljZQ==", UA BASIC, "", 0);
	sd_free(d);
}

/* The base64 form cannot carry 2.5 or 12.0, nor a key that is not a 32-bit number: plain then. */
static void test_base64_falls_back_to_plain(void **state)
{
	(void)state;
	static const char *const versions[] = { "2.5", "12.0" };
	for (size_t i = 0; i < 2; i++) {
		sd *d = basic_driver(1, versions[i]);
		sd_connect(d);
		assert_int_equal(sd_count(d, EAS_EVENT_READY), 1);
		send_folder_sync(d);
		char headers[256];
		snprintf(headers, sizeof headers, "MS-ASProtocolVersion: %s\nX-MS-PolicyKey: " SD_FINAL_KEY "\n" UA CT BASIC,
			 versions[i]);
		sd_expect_request(d, 3, "POST", PLAIN_Q("FolderSync"), headers, folder_sync, sizeof folder_sync);
		sd_free(d);
	}

	/* A saved version and key (no OPTIONS, no Provision): "4294967296" is 2^32, one too many. */
	static const struct {
		const char *key;
		int base64;
	} keys[] = { { "4294967295", 1 }, { "4294967296", 0 }, { "12ab", 0 }, { "00000000001", 0 } };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		eas_account a = account(PASSWORD);
		a.protocol_version = EAS_PROTO_14_0;
		a.policy_key = keys[i].key;
		eas_session_options o = EAS_SESSION_OPTIONS_INIT;
		o.base64_query = 1;
		sd *d = sd_new(&a, &o);
		send_folder_sync(d);
		assert_int_equal(sd_request_count(d), 1);
		if (keys[i].base64) {
			/* 8C 09 0904 0D "DEV0123456789" 04 FF FF FF FF 0A "SmartPhone" 08 05 "alice" */
			sd_expect_request(d, 0, "POST", URL "?jAkJBA1ERVYwMTIzNDU2Nzg5BP////8KU21hcnRQaG9uZQgFYWxpY2U=",
					  UA CT BASIC, folder_sync, sizeof folder_sync);
		} else {
			char headers[256];
			snprintf(headers, sizeof headers, "MS-ASProtocolVersion: 14.0\nX-MS-PolicyKey: %s\n" UA CT BASIC,
				 keys[i].key);
			sd_expect_request(d, 0, "POST", PLAIN_Q("FolderSync"), headers, folder_sync, sizeof folder_sync);
		}
		sd_free(d);
	}
}

/* What the base64 query carries, read back with the companion server's decoder. */
static void test_base64_query_decodes(void **state)
{
	(void)state;
	sd *d = basic_driver(1, "14.0,16.1");
	sd_connect(d);
	expect_ready(d, EAS_PROTO_16_1);
	send_folder_sync(d);
	const scripted_request *r = sd_request(d, 3);
	const char *q = strchr(r->url, '?') + 1;
	eas_http_query hq = EAS_HTTP_QUERY_INIT;
	assert_int_equal(eas_http_query_decode(&hq, q, strlen(q), NULL), 0);
	assert_int_equal(hq.command, EAS_CMD_FOLDER_SYNC);
	assert_int_equal(hq.protocol_version, EAS_PROTO_16_1);
	assert_int_equal(hq.locale, 0x0409);
	assert_int_equal(hq.device_id_len, 13);
	assert_memory_equal(hq.device_id, "DEV0123456789", 13);
	assert_true(hq.has_policy_key);
	assert_int_equal(hq.policy_key, 3942919513u);
	assert_string_equal(hq.device_type, "SmartPhone");
	assert_string_equal(hq.user, "alice");
	eas_http_query_clear(&hq);
	sd_free(d);
}

/* ---- credentials never in logs or events ---------------------------------------------------- */

/* Every spelling of the secrets that could leak. */
static void assert_no_secret(const sd *d)
{
	static const char *const secrets[] = {
		PASSWORD,
		"czNjcjN0LVBhNTU=",         /* base64(password) */
		"YWxpY2U6czNjcjN0LVBhNTU=", /* base64("alice:password"), the Basic credential */
		"YWxpY2U6czNjcjN0LVBhNT",   /* ... its unpadded prefix */
		"tok-1", "tok-2", "tok-3",  /* bearer tokens */
		"dG9rLT",                   /* base64 of "tok-" */
	};
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		sd_assert_absent(d, secrets[i], strlen(secrets[i]));
}

/* Counts log lines at a level ("<level> " at a line start). */
static size_t lines_at(const sd *d, eas_log_level level)
{
	char tag[8];
	snprintf(tag, sizeof tag, "%d ", (int)level);
	size_t n = 0;
	for (const char *p = d->log; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		n += strncmp(p, tag, strlen(tag)) == 0;
	return n;
}

static void test_credentials_never_logged(void **state)
{
	(void)state;
	/* Basic: a whole connect, a command, a 401 (AUTH_FAILED), a server echoing the password. */
	sd *d = basic_driver(0, "14.1");
	sd_connect(d);
	send_folder_sync(d);
	d->unauthorized = 1;
	assert_int_equal(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, folder_sync, sizeof folder_sync), 0);
	sd_run(d, 600000);
	assert_int_equal(sd_count(d, EAS_EVENT_AUTH_FAILED), 1);
	/* The log really has every request line and header line (TRACE), and the failure (WARN). */
	assert_true(lines_at(d, EAS_LOG_DEBUG) >= 5);
	assert_true(lines_at(d, EAS_LOG_TRACE) >= 20);
	assert_true(lines_at(d, EAS_LOG_WARN) >= 1);
	assert_non_null(strstr(d->log, "  Authorization: [redacted]"));
	assert_no_secret(d);
	sd_free(d);

	/* OAuth2: a refresh on 401 during connect, then one during a command, then a final refusal. */
	d = bearer_driver();
	d->unauthorized = 1;
	sd_connect(d);
	d->unauthorized = 1;
	send_folder_sync(d);
	d->unauthorized = 2;
	assert_int_equal(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, folder_sync, sizeof folder_sync), 0);
	sd_run(d, 600000);
	assert_int_equal(d->token_refreshes, 3);
	assert_true(lines_at(d, EAS_LOG_TRACE) >= 20);
	assert_no_secret(d);
	sd_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_14_1),
		cmocka_unit_test(test_connect_12_1_without_device_information),
		cmocka_unit_test(test_connect_2_5_xml_policy),
		cmocka_unit_test(test_wipe_acknowledgments),
		cmocka_unit_test(test_bearer_with_one_refresh),
		cmocka_unit_test(test_base64_query_14_1),
		cmocka_unit_test(test_base64_query_12_1_and_ping),
		cmocka_unit_test(test_base64_falls_back_to_plain),
		cmocka_unit_test(test_base64_query_decodes),
		cmocka_unit_test(test_credentials_never_logged),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
