/*
 * The client session, fed by hand through its sans-I/O API: every request it
 * builds is checked (method, URL, headers, decoded body) and every answer a
 * server can give is injected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "eas/policy.h"
#include "eas/session.h"
#include "testmem.h"
#include "xmldoc.h"

#define PASSWORD "s3cr3t-Pa55"
#define URL "https://mail.example.com/Microsoft-Server-ActiveSync"
#define PROV_NS "<Provision xmlns=\"Provision:\">"

/* ---- a fake platform: fixed clocks, counter random, captured log ---------- */

static char log_text[16384];
static uint64_t fake_now_ms = 1000;

static uint64_t fake_monotonic(void *ud) { (void)ud; return fake_now_ms; }
static int64_t fake_wall(void *ud) { (void)ud; return 1767225600; /* 2026-01-01 */ }
static int fake_random(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 0x42, len);
	return 0;
}
static void fake_log(eas_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	strncat(log_text, msg, sizeof log_text - strlen(log_text) - 2);
	strcat(log_text, "\n");
}
static const eas_platform fake_platform = { EAS_PLATFORM_VERSION, fake_monotonic, fake_wall, fake_random,
					    fake_log, NULL };

/* ---- helpers ---------------------------------------------------------------- */

static eas_session *new_session(const char *password, eas_token_fn token_fn)
{
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.password = password;
	a.token_fn = token_fn;
	a.device_id = "DEV0123456789";
	a.device_type = "SmartPhone";
	a.user_agent = "libeas-test/1.0";
	a.device.model = "TestPhone";
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &fake_platform;
	eas_session *s = NULL;
	assert_int_equal(eas_session_new(&s, &a, &o), 0);
	log_text[0] = '\0';
	fake_now_ms = 1000;
	return s;
}

static const char *header(const eas_http_request *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static const eas_http_request *take_request(eas_session *s)
{
	const eas_http_request *r = NULL;
	assert_int_equal(eas_session_next_request(s, &r, fake_now_ms), 0);
	assert_non_null(r);
	return r;
}

static void no_request(eas_session *s)
{
	const eas_http_request *r = NULL;
	assert_int_equal(eas_session_next_request(s, &r, fake_now_ms), 0);
	assert_null(r);
}

/* The request body as compact XML (free it). */
static char *body_xml(const eas_http_request *r)
{
	return xmldoc_from_wbxml(r->body, (size_t)r->body_length);
}

static void answer(eas_session *s, int status, const eas_http_header *h, size_t n, const uint8_t *body, size_t len)
{
	assert_int_equal(eas_session_response_head(s, status, h, n), 0);
	/* The body arrives in small pieces, as from a network. */
	for (size_t off = 0; off < len; off += 7)
		assert_int_equal(eas_session_response_body(s, body + off, len - off < 7 ? len - off : 7), 0);
	assert_int_equal(eas_session_response_end(s, 0), 0);
}

static void answer_xml(eas_session *s, const char *xml)
{
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	answer(s, 200, NULL, 0, b.data, b.len);
	eas_buf_free(&b);
}

static const eas_http_header options_headers[] = {
	{ "MS-ASProtocolVersions", "2.5,12.0,12.1,14.0,14.1" },
	{ "MS-ASProtocolCommands", "Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,FolderCreate,"
				   "FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,"
				   "Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert" },
};

static eas_session_event next_event(eas_session *s)
{
	eas_session_event ev;
	assert_int_equal(eas_session_next_event(s, &ev), 1);
	if (getenv("SESSION_TEST_VERBOSE"))
		fprintf(stderr, "event %d: %s\n", ev.type, ev.message);
	assert_null(strstr(ev.message, PASSWORD));
	return ev;
}

static void expect_event(eas_session *s, eas_event_type type)
{
	eas_session_event ev = next_event(s);
	if (ev.type != type)
		fail_msg("event %d (%s), expected %d", ev.type, ev.message, type);
}

static void no_event(eas_session *s)
{
	eas_session_event ev;
	assert_int_equal(eas_session_next_event(s, &ev), 0);
}

static const char policy_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status><PolicyKey>1307199584</PolicyKey>"
	"<Data><EASProvisionDoc><DevicePasswordEnabled>1</DevicePasswordEnabled>"
	"<MinDevicePasswordLength>4</MinDevicePasswordLength><MaxInactivityTimeDeviceLock>900</MaxInactivityTimeDeviceLock>"
	"</EASProvisionDoc></Data></Policy></Policies></Provision>";

static const char final_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status><PolicyKey>3942919513</PolicyKey>"
	"</Policy></Policies></Provision>";

/* OPTIONS → the highest version offered → Provision phase 1 request ready. */
static void connect_at(eas_session *s, const char *versions, unsigned expect)
{
	assert_int_equal(eas_session_connect(s), 0);
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->method, "OPTIONS");
	assert_string_equal(r->url, URL);
	eas_http_header h[2] = { { "MS-ASProtocolVersions", versions }, options_headers[1] };
	answer(s, 200, h, 2, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_VERSION_NEGOTIATED);
	assert_int_equal(ev.version, expect);
}

static void connect_to_phase1(eas_session *s)
{
	connect_at(s, "2.5,12.0,12.1,14.0,14.1", EAS_PROTO_14_1);
}

/* ---- the happy path, byte by byte ------------------------------------------ */

static void test_connect_and_provision(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	assert_int_equal(eas_session_connect(s), EAS_E_STATE);
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->method, "OPTIONS");
	assert_string_equal(header(r, "Authorization"), "Basic YWxpY2U6czNjcjN0LVBhNTU=");
	assert_string_equal(header(r, "User-Agent"), "libeas-test/1.0");
	assert_null(header(r, "MS-ASProtocolVersion"));
	assert_null(r->body);
	no_request(s); /* one request in flight at a time */
	answer(s, 200, options_headers, 2, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_VERSION_NEGOTIATED);
	assert_int_equal(ev.version, EAS_PROTO_14_1);
	assert_int_equal(eas_session_protocol_version(s), EAS_PROTO_14_1);

	/* Phase 1: no policy key, DeviceInformation (14.1 requires it), the WBXML policy type. */
	r = take_request(s);
	assert_string_equal(r->method, "POST");
	assert_string_equal(r->url, URL "?Cmd=Provision&User=alice&DeviceId=DEV0123456789&DeviceType=SmartPhone");
	assert_string_equal(header(r, "MS-ASProtocolVersion"), "14.1");
	assert_string_equal(header(r, "Content-Type"), "application/vnd.ms-sync.wbxml");
	assert_null(header(r, "X-MS-PolicyKey"));
	char *xml = body_xml(r);
	assert_non_null(strstr(xml, "<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"));
	assert_non_null(strstr(xml, "<Model>TestPhone</Model>"));
	assert_non_null(strstr(xml, "<UserAgent>libeas-test/1.0</UserAgent>"));
	free(xml);
	answer_xml(s, policy_response);
	ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_POLICY);
	assert_non_null(ev.policy);
	int64_t v = 0;
	assert_int_equal(eas_policy_get(ev.policy, eas_policy_lookup("MinDevicePasswordLength"), &v), 0);
	assert_int_equal(v, 4);
	assert_false(eas_session_busy(s)); /* waiting for the app */
	no_request(s);

	/* Phase 2: acknowledge with the temporary key. */
	assert_int_equal(eas_session_accept_policy(s, 9), EAS_E_INVALID);
	assert_int_equal(eas_session_accept_policy(s, 1), 0);
	r = take_request(s);
	assert_string_equal(header(r, "X-MS-PolicyKey"), "1307199584");
	xml = body_xml(r);
	assert_non_null(strstr(xml, "<PolicyKey>1307199584</PolicyKey><Status>1</Status>"));
	assert_null(strstr(xml, "DeviceInformation"));
	free(xml);
	answer_xml(s, final_response);
	ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_PROVISIONED);
	assert_string_equal(ev.policy_key, "3942919513");
	expect_event(s, EAS_EVENT_READY);
	no_event(s);
	assert_string_equal(eas_session_policy_key(s), "3942919513");
	assert_false(eas_session_busy(s));
	assert_null(strstr(log_text, PASSWORD));
	eas_session_free(s);
}

/* A server that leaves Provision out of its command list is still asked; a 501 means no policy. */
static void test_provision_not_advertised(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	const eas_http_header h[] = { { "MS-ASProtocolVersions", "12.1,14.0,14.1" },
				      { "MS-ASProtocolCommands", "Sync,FolderSync,Ping" } };
	answer(s, 200, h, 2, NULL, 0);
	expect_event(s, EAS_EVENT_VERSION_NEGOTIATED);
	const eas_http_request *r = take_request(s);
	assert_non_null(strstr(r->url, "Cmd=Provision"));
	answer(s, 501, NULL, 0, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_PROVISIONED);
	assert_string_equal(ev.policy_key, "0");
	expect_event(s, EAS_EVENT_READY);
	/* Commands it does not list are refused here. */
	assert_int_equal(eas_session_send(s, EAS_CMD_SETTINGS, NULL, 0), EAS_E_UNSUPPORTED);
	eas_session_free(s);
}

/* SOGo answers policy status 2 ("no policy") and never sends a key. */
static void test_server_without_policy(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	connect_to_phase1(s);
	take_request(s);
	answer_xml(s, PROV_NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
			      "<Status>2</Status></Policy></Policies></Provision>");
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_PROVISIONED);
	assert_string_equal(ev.policy_key, "0");
	expect_event(s, EAS_EVENT_READY);
	eas_session_free(s);
}

static void test_remote_wipe(void **state)
{
	(void)state;
	for (int account_only = 0; account_only < 2; account_only++) {
		eas_session *s = new_session(PASSWORD, NULL);
		/* AccountOnlyRemoteWipe exists from 16.1 on. */
		connect_at(s, account_only ? "14.1,16.0,16.1" : "14.1", account_only ? EAS_PROTO_16_1 : EAS_PROTO_14_1);
		take_request(s);
		answer_xml(s, account_only ? PROV_NS "<Status>1</Status><AccountOnlyRemoteWipe/></Provision>"
					   : PROV_NS "<Status>1</Status><RemoteWipe/></Provision>");
		eas_session_event ev = next_event(s);
		assert_int_equal(ev.type, EAS_EVENT_WIPE);
		assert_int_equal(ev.account_only, account_only);
		no_request(s);
		assert_int_equal(eas_session_accept_policy(s, 1), EAS_E_STATE);
		assert_int_equal(eas_session_ack_wipe(s), 0);
		const eas_http_request *r = take_request(s);
		char *xml = body_xml(r);
		assert_non_null(strstr(xml, account_only ? "<AccountOnlyRemoteWipe><Status>1</Status>"
							 : "<RemoteWipe><Status>1</Status>"));
		free(xml);
		answer_xml(s, PROV_NS "<Status>1</Status></Provision>");
		assert_false(eas_session_busy(s));
		assert_string_equal(eas_session_policy_key(s), "0");
		eas_session_free(s);
	}
}

/* ---- HTTP statuses ----------------------------------------------------------- */

static void test_http_statuses_on_options(void **state)
{
	(void)state;
	static const struct {
		int status;
		int error;
		const char *words;
	} cases[] = {
		{ 400, EAS_E_PROTOCOL, "HTTP 400" }, { 403, EAS_E_AUTH, "HTTP 403" },
		{ 404, EAS_E_PROTOCOL, "HTTP 404" }, { 456, EAS_E_AUTH, "blocked" },
		{ 457, EAS_E_AUTH, "expired" },      { 501, EAS_E_UNSUPPORTED, "OPTIONS (HTTP 501)" },
		{ 507, EAS_E_PROTOCOL, "full" },     { 302, EAS_E_PROTOCOL, "unexpected HTTP status 302" },
		{ 418, EAS_E_PROTOCOL, "418" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_session *s = new_session(PASSWORD, NULL);
		assert_int_equal(eas_session_connect(s), 0);
		take_request(s);
		answer(s, cases[i].status, NULL, 0, NULL, 0);
		eas_session_event ev = next_event(s);
		assert_int_equal(ev.type, EAS_EVENT_ERROR);
		assert_int_equal(ev.error, cases[i].error);
		assert_int_equal(ev.http_status, cases[i].status);
		if (!strstr(ev.message, cases[i].words))
			fail_msg("HTTP %d: '%s' lacks '%s'", cases[i].status, ev.message, cases[i].words);
		assert_false(eas_session_busy(s));
		no_request(s);
		eas_session_free(s);
	}
}

static void test_options_without_versions_or_common_version(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	answer(s, 200, NULL, 0, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_ERROR);
	assert_non_null(strstr(ev.message, "MS-ASProtocolVersions"));
	eas_session_free(s);

	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.password = PASSWORD;
	a.device_id = "D1";
	a.device_type = "T";
	a.versions = EAS_PROTO_16_1;
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &fake_platform;
	assert_int_equal(eas_session_new(&s, &a, &o), 0);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	answer(s, 200, options_headers, 2, NULL, 0);
	ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_UNSUPPORTED);
	eas_session_free(s);
}

static void test_redirect_451(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	const eas_http_header loc[] = { { "X-MS-Location", "https://eu.example.com/Microsoft-Server-ActiveSync?x=1" } };
	answer(s, 451, loc, 1, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_REDIRECT);
	assert_string_equal(ev.url, "https://eu.example.com/Microsoft-Server-ActiveSync");
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->url, "https://eu.example.com/Microsoft-Server-ActiveSync");
	/* Redirects are bounded. */
	for (int i = 0; i < 10; i++) {
		answer(s, 451, loc, 1, NULL, 0);
		if (eas_session_next_event(s, &ev) == 1 && ev.type == EAS_EVENT_ERROR)
			break;
		if (!eas_session_busy(s))
			break;
		take_request(s);
	}
	assert_false(eas_session_busy(s));
	eas_session_free(s);

	/* No X-MS-Location, or a plain http:// one: refused. */
	static const eas_http_header bad[] = { { "X-MS-Location", "http://eu.example.com/Microsoft-Server-ActiveSync" } };
	for (int k = 0; k < 2; k++) {
		s = new_session(PASSWORD, NULL);
		assert_int_equal(eas_session_connect(s), 0);
		take_request(s);
		answer(s, 451, k ? bad : NULL, k ? 1 : 0, NULL, 0);
		ev = next_event(s);
		assert_int_equal(ev.type, EAS_EVENT_ERROR);
		eas_session_free(s);
	}
}

static void test_backoff_503_with_retry_after(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	const eas_http_header ra[] = { { "Retry-After", "30" } };
	answer(s, 503, ra, 1, NULL, 0);
	no_request(s);
	assert_true(eas_session_next_timeout(s, fake_now_ms) >= 30000);
	fake_now_ms += 29000;
	no_request(s);
	fake_now_ms += 60000 * 10;
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->method, "OPTIONS");
	/* Retries are bounded: keep answering 503. */
	int gave_up = 0;
	for (int i = 0; i < 10 && !gave_up; i++) {
		answer(s, 503, NULL, 0, NULL, 0);
		eas_session_event ev;
		if (eas_session_next_event(s, &ev) == 1) {
			assert_int_equal(ev.type, EAS_EVENT_ERROR);
			gave_up = 1;
			break;
		}
		fake_now_ms += 3600 * 1000;
		take_request(s);
	}
	assert_true(gave_up);
	eas_session_free(s);
}

static void test_transport_errors(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	assert_int_equal(eas_session_response_end(s, EAS_E_TLS), 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_TLS);
	eas_session_free(s);

	/* A network failure is retried after a backoff, mid-body too. */
	s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	answer(s, 200, options_headers, 2, NULL, 0);
	expect_event(s, EAS_EVENT_VERSION_NEGOTIATED);
	take_request(s);
	assert_int_equal(eas_session_response_head(s, 200, NULL, 0), 0);
	assert_int_equal(eas_session_response_body(s, (const uint8_t *)"\x03\x01", 2), 0);
	assert_int_equal(eas_session_response_end(s, EAS_E_IO), 0);
	no_event(s);
	fake_now_ms += 3600 * 1000;
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->method, "POST");
	answer_xml(s, policy_response);
	expect_event(s, EAS_EVENT_POLICY);
	eas_session_free(s);
}

static void test_malformed_provision_responses(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"", "\x03\x01\x6a\x00\x45", "garbage that is not wbxml",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		eas_session *s = new_session(PASSWORD, NULL);
		connect_to_phase1(s);
		take_request(s);
		answer(s, 200, NULL, 0, (const uint8_t *)bodies[i], strlen(bodies[i]));
		eas_session_event ev = next_event(s);
		assert_int_equal(ev.type, EAS_EVENT_ERROR);
		assert_non_null(strstr(ev.message, "Provision"));
		eas_session_free(s);
	}
	static const char *const xml[] = {
		PROV_NS "<Status>" PASSWORD "</Status></Provision>",                /* the password echoed back */
		PROV_NS "<Policies/></Provision>",                                  /* no Status */
		PROV_NS "<Status>3</Status></Provision>",                           /* server error */
		PROV_NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
			"<Status>3</Status></Policy></Policies></Provision>",       /* unknown policy type */
	};
	for (size_t i = 0; i < sizeof xml / sizeof xml[0]; i++) {
		eas_session *s = new_session(PASSWORD, NULL);
		connect_to_phase1(s);
		take_request(s);
		answer_xml(s, xml[i]);
		eas_session_event ev = next_event(s); /* asserts the message holds no password */
		assert_int_equal(ev.type, EAS_EVENT_ERROR);
		assert_null(strstr(log_text, PASSWORD));
		if (i == 0)
			assert_non_null(strstr(ev.message, "[redacted]"));
		eas_session_free(s);
	}
}


/* ---- app commands ------------------------------------------------------------- */

#define FS_REQ "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>"

/* Connect through phase 2: provisioned with key 3942919513. */
static void connect_fully(eas_session *s)
{
	connect_to_phase1(s);
	take_request(s);
	answer_xml(s, policy_response);
	expect_event(s, EAS_EVENT_POLICY);
	assert_int_equal(eas_session_accept_policy(s, 1), 0);
	take_request(s);
	answer_xml(s, final_response);
	expect_event(s, EAS_EVENT_PROVISIONED);
	expect_event(s, EAS_EVENT_READY);
}

static void send_folder_sync(eas_session *s)
{
	eas_buf b;
	xmldoc_to_wbxml(&b, FS_REQ);
	assert_int_equal(eas_session_send(s, EAS_CMD_FOLDER_SYNC, b.data, b.len), 0);
	const eas_http_request *r = take_request(s);
	assert_string_equal(r->url, URL "?Cmd=FolderSync&User=alice&DeviceId=DEV0123456789&DeviceType=SmartPhone");
	assert_int_equal(r->body_length, b.len);
	assert_memory_equal(r->body, b.data, b.len);
	eas_buf_free(&b);
}

static void test_send_a_command(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_send(s, EAS_CMD_FOLDER_SYNC, NULL, 0), EAS_E_STATE); /* not connected */
	connect_fully(s);
	send_folder_sync(s);
	assert_int_equal(eas_session_send(s, EAS_CMD_FOLDER_SYNC, NULL, 0), EAS_E_STATE); /* busy */
	static const char answer_doc[] = "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey>"
					 "<Changes><Count>0</Count></Changes></FolderSync>";
	answer_xml(s, answer_doc);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_RESPONSE);
	assert_int_equal(ev.status, 1);
	size_t len = 0;
	const uint8_t *data = eas_session_response_data(s, &len);
	char *xml = xmldoc_from_wbxml(data, len);
	assert_non_null(strstr(xml, "<SyncKey>1</SyncKey>"));
	free(xml);
	/* A failed command status is data, with its meaning in words. */
	send_folder_sync(s);
	answer_xml(s, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>9</Status></FolderSync>");
	ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_RESPONSE);
	assert_int_equal(ev.status, 9);
	assert_non_null(strstr(ev.message, "FolderSync status 9"));
	eas_session_free(s);
}

static void test_command_refused_when_the_server_lacks_it(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	connect_fully(s);
	assert_int_equal(eas_session_send(s, EAS_CMD_FIND, NULL, 0), EAS_E_UNSUPPORTED);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_ERROR);
	assert_non_null(strstr(ev.message, "Find"));
	no_request(s);
	eas_session_free(s);
}

/* HTTP 449 and status 142 both mean: provision again, then resend the same command. */
static void test_reprovision_then_resend(void **state)
{
	(void)state;
	for (int via_status = 0; via_status < 2; via_status++) {
		eas_session *s = new_session(PASSWORD, NULL);
		connect_fully(s);
		send_folder_sync(s);
		if (via_status)
			answer_xml(s, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>142</Status></FolderSync>");
		else
			answer(s, 449, NULL, 0, NULL, 0);
		no_event(s);
		const eas_http_request *r = take_request(s);
		assert_null(header(r, "X-MS-PolicyKey")); /* phase 1 again */
		answer_xml(s, policy_response);
		expect_event(s, EAS_EVENT_POLICY);
		assert_int_equal(eas_session_accept_policy(s, 1), 0);
		take_request(s);
		answer_xml(s, final_response);
		expect_event(s, EAS_EVENT_PROVISIONED);
		/* The FolderSync goes again, with the new key, without a READY in between. */
		r = take_request(s);
		assert_non_null(strstr(r->url, "Cmd=FolderSync"));
		assert_string_equal(header(r, "X-MS-PolicyKey"), "3942919513");
		/* Asked again right after provisioning: an error, not a loop. */
		answer(s, 449, NULL, 0, NULL, 0);
		eas_session_event ev = next_event(s);
		assert_int_equal(ev.type, EAS_EVENT_ERROR);
		assert_false(eas_session_busy(s));
		eas_session_free(s);
	}
}

static void test_status_140_brings_the_wipe(void **state)
{
	(void)state;
	eas_session *s = new_session(PASSWORD, NULL);
	connect_fully(s);
	send_folder_sync(s);
	answer_xml(s, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>140</Status></FolderSync>");
	take_request(s);
	answer_xml(s, PROV_NS "<Status>1</Status><RemoteWipe/></Provision>");
	expect_event(s, EAS_EVENT_WIPE);
	eas_session_free(s);
}

/* ---- auth ------------------------------------------------------------------- */

static int token_calls, refreshes;
static int token_source(char *buf, size_t size, int refresh, void *ud)
{
	(void)ud;
	token_calls++;
	refreshes += refresh;
	snprintf(buf, size, "tok-%d", token_calls);
	return 0;
}

static void test_oauth_refresh_once_then_fail(void **state)
{
	(void)state;
	token_calls = refreshes = 0;
	eas_session *s = new_session(NULL, token_source);
	assert_int_equal(eas_session_connect(s), 0);
	const eas_http_request *r = take_request(s);
	assert_string_equal(header(r, "Authorization"), "Bearer tok-1");
	answer(s, 401, NULL, 0, NULL, 0);
	r = take_request(s);
	assert_string_equal(header(r, "Authorization"), "Bearer tok-2");
	assert_int_equal(refreshes, 1);
	answer(s, 401, NULL, 0, NULL, 0);
	eas_session_event ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_AUTH_FAILED);
	assert_int_equal(ev.http_status, 401);
	ev = next_event(s);
	assert_int_equal(ev.type, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_AUTH);
	assert_int_equal(refreshes, 1);
	eas_session_free(s);

	s = new_session(PASSWORD, NULL);
	assert_int_equal(eas_session_connect(s), 0);
	take_request(s);
	answer(s, 401, NULL, 0, NULL, 0);
	expect_event(s, EAS_EVENT_AUTH_FAILED);
	assert_null(strstr(log_text, PASSWORD));
	eas_session_free(s);
}

/* ---- accounts and memory ------------------------------------------------------ */

static void test_bad_accounts(void **state)
{
	(void)state;
	eas_session *s = NULL;
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.password = PASSWORD;
	a.device_id = "DEV1";
	a.device_type = "SmartPhone";
	assert_int_equal(eas_session_new(&s, &a, NULL), 0);
	eas_session_free(s);
	eas_account b = a;
	b.url = "http://mail.example.com/Microsoft-Server-ActiveSync";
	assert_int_equal(eas_session_new(&s, &b, NULL), EAS_E_INVALID);
	b.allow_plain_http = 1;
	assert_int_equal(eas_session_new(&s, &b, NULL), 0);
	eas_session_free(s);
	b = a;
	b.device_id = "has space";
	assert_int_equal(eas_session_new(&s, &b, NULL), EAS_E_INVALID);
	b.device_id = "012345678901234567890123456789012"; /* 33 */
	assert_int_equal(eas_session_new(&s, &b, NULL), EAS_E_INVALID);
	b = a;
	b.token_fn = token_source; /* both password and token */
	assert_int_equal(eas_session_new(&s, &b, NULL), EAS_E_INVALID);
	b = a;
	b.url = URL "?Cmd=Sync";
	assert_int_equal(eas_session_new(&s, &b, NULL), EAS_E_INVALID);
	assert_null(s);
}

/* Feeds a response without asserting: under allocation failure any step may refuse. */
static void answer_lax(eas_session *s, int status, const eas_http_header *h, size_t n, const uint8_t *body, size_t len)
{
	eas_session_response_head(s, status, h, n);
	if (len)
		eas_session_response_body(s, body, len);
	eas_session_response_end(s, 0);
}

static void test_every_allocation_failure(void **state)
{
	(void)state;
	for (long n = 0; n < 400; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		eas_account a = EAS_ACCOUNT_INIT;
		a.url = URL;
		a.user = "alice";
		a.password = PASSWORD;
		a.device_id = "DEV1";
		a.device_type = "SmartPhone";
		eas_session_options o = EAS_SESSION_OPTIONS_INIT;
		o.platform = &fake_platform;
		o.mem = &m;
		eas_session *s = NULL;
		int rc = eas_session_new(&s, &a, &o);
		if (rc == 0) {
			eas_session_connect(s);
			const eas_http_request *r = NULL;
			eas_session_next_request(s, &r, fake_now_ms);
			if (r) {
				answer_lax(s, 200, options_headers, 2, NULL, 0);
				r = NULL;
				eas_session_next_request(s, &r, fake_now_ms);
				if (r) {
					eas_buf b;
					xmldoc_to_wbxml(&b, policy_response);
					answer_lax(s, 200, NULL, 0, b.data, b.len);
					eas_buf_free(&b);
				}
			}
			eas_session_event ev;
			while (eas_session_next_event(s, &ev) == 1)
				assert_non_null(ev.message);
			eas_session_free(s);
		} else {
			assert_int_equal(rc, EAS_E_NOMEM);
		}
		assert_int_equal(tm.live_blocks, 0);
		if (tm.fail_at >= tm.calls)
			break; /* the whole path ran without reaching the failing allocation */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_and_provision),
		cmocka_unit_test(test_server_without_policy),
		cmocka_unit_test(test_provision_not_advertised),
		cmocka_unit_test(test_remote_wipe),
		cmocka_unit_test(test_http_statuses_on_options),
		cmocka_unit_test(test_options_without_versions_or_common_version),
		cmocka_unit_test(test_redirect_451),
		cmocka_unit_test(test_backoff_503_with_retry_after),
		cmocka_unit_test(test_transport_errors),
		cmocka_unit_test(test_malformed_provision_responses),
		cmocka_unit_test(test_send_a_command),
		cmocka_unit_test(test_command_refused_when_the_server_lacks_it),
		cmocka_unit_test(test_reprovision_then_resend),
		cmocka_unit_test(test_status_140_brings_the_wipe),
		cmocka_unit_test(test_oauth_refresh_once_then_fail),
		cmocka_unit_test(test_bad_accounts),
		cmocka_unit_test(test_every_allocation_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
