/*
 * The client session over HTTPS, end to end in this process: the session and
 * the libcurl transport against a libmicrohttpd server on 127.0.0.1 whose
 * certificate is self-signed (made at start with mbedTLS, tests/support/
 * test_cert.c), answering OPTIONS and Provision as an Exchange server would.
 *
 *  - Without the CA (the system store), with another CA, or with a wrong
 *    public-key pin, the SESSION refuses: one EAS_EVENT_ERROR carrying
 *    EAS_E_TLS and words that say why, no request reaches the server's
 *    handler, and nothing is retried.
 *  - With the CA (file, or PEM in memory plus the right pin) it connects:
 *    OPTIONS, Provision in two phases, READY.
 *  - Every log line of the session and of the transport (libcurl headers
 *    included, at EAS_LOG_TRACE) and every event message stays free of the
 *    password, its base64 and the bearer tokens, with Basic and with OAuth2
 *    through a refused token and its refresh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "common/buf.h"
#include "eas/session.h"
#include "eas/transport_curl.h"
#include "test_cert.h"
#include "tls_server.h"
#include "xmldoc.h"

#define PASSWORD "Tls-s3cret-9"
#define BASIC_VALUE "Basic YWxpY2U6VGxzLXMzY3JldC05" /* base64("alice:Tls-s3cret-9") */

static test_cert good_cert;  /* names 127.0.0.1 */
static test_cert other_cert; /* a different self-signed certificate, also for 127.0.0.1 */
static tls_server *srv;
static char eas_url[128];

/* ---- the server ---------------------------------------------------------------------- */

static eas_buf policy_body, final_body;
/* Tokens starting so are refused: the first one is "expired". */
static const char *refused_token = "Bearer tok-1";

static void handler(const ts_request *req, ts_response *out, void *ud)
{
	(void)ud;
	char auth[256];
	ts_header(req, "Authorization", auth, sizeof auth);
	int ok = strcmp(auth, BASIC_VALUE) == 0 ||
		 (strncmp(auth, "Bearer tok-", 11) == 0 && strncmp(auth, refused_token, strlen(refused_token)) != 0);
	if (!ok) {
		out->status = 401;
		out->headers[0] = "WWW-Authenticate";
		out->headers[1] = "Basic realm=\"eas\"";
		return;
	}
	if (strcmp(req->method, "OPTIONS") == 0) {
		out->headers[0] = "MS-ASProtocolVersions";
		out->headers[1] = "12.1,14.0,14.1";
		out->headers[2] = "MS-ASProtocolCommands";
		out->headers[3] = "Sync,FolderSync,Ping,Provision,Settings";
		return;
	}
	if (req->cmd && strcmp(req->cmd, "Provision") == 0) {
		char key[80];
		ts_header(req, "X-MS-PolicyKey", key, sizeof key);
		const eas_buf *b = key[0] ? &final_body : &policy_body;
		out->headers[0] = "Content-Type";
		out->headers[1] = "application/vnd.ms-sync.wbxml";
		out->body = b->data;
		out->body_len = b->len;
		return;
	}
	out->status = 501;
}

/* ---- the log ------------------------------------------------------------------------------- */

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static char log_text[1 << 18];
static size_t log_len;
static size_t log_lines[5];

static void capture(eas_log_level level, const char *msg, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&log_mu);
	int n = snprintf(log_text + log_len, sizeof log_text - log_len, "%d %s\n", (int)level, msg);
	if (n > 0 && (size_t)n < sizeof log_text - log_len)
		log_len += (size_t)n;
	if ((int)level >= 0 && (int)level < 5)
		log_lines[level]++;
	pthread_mutex_unlock(&log_mu);
}

static eas_platform plat;

static void log_reset(void)
{
	log_len = 0;
	log_text[0] = '\0';
	memset(log_lines, 0, sizeof log_lines);
}

/* ---- the client -------------------------------------------------------------------------- */

static int pump(void *ctx, uint32_t timeout_ms)
{
	eas_curl_transport *t = ctx;
	if (eas_curl_transport_pending(t) == 0) {
		struct timespec ts = { (time_t)(timeout_ms / 1000), (long)(timeout_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		return 0;
	}
	return eas_curl_transport_run(t, (long)timeout_ms) < 0 ? -1 : 0;
}

static unsigned token_calls;
static int token_fn(char *buf, size_t size, int refresh, void *ud)
{
	(void)ud;
	(void)refresh;
	token_calls++;
	snprintf(buf, size, "tok-%u", token_calls);
	return 0;
}

typedef struct outcome {
	eas_session_event last;
	char message[256];
	char all_messages[4096];
	int ready, policies, provisioned, errors, auth_failed;
} outcome;

/* Connects a session over a new curl transport with these TLS options; events are answered. */
static outcome connect_with(const eas_curl_transport_options *topt, int bearer)
{
	outcome o;
	memset(&o, 0, sizeof o);
	eas_curl_transport *t = NULL;
	assert_int_equal(eas_curl_transport_new(&t, topt), 0);
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = eas_url;
	a.user = "alice";
	if (bearer)
		a.token_fn = token_fn;
	else
		a.password = PASSWORD;
	a.device_id = "TLSDEV1";
	a.device_type = "SmartPhone";
	a.device.model = "TlsPhone";
	eas_session_options so = EAS_SESSION_OPTIONS_INIT;
	so.platform = &plat;
	so.request_timeout_ms = 10000;
	eas_session *s = NULL;
	assert_int_equal(eas_session_new(&s, &a, &so), 0);
	assert_int_equal(eas_session_connect(s), 0);
	for (int round = 0; round < 8; round++) {
		assert_int_equal(eas_session_run(s, eas_curl_transport_base(t), pump, t, 20000), 0);
		int answered = 0;
		eas_session_event ev;
		while (eas_session_next_event(s, &ev) == 1) {
			o.last = ev;
			snprintf(o.message, sizeof o.message, "%s", ev.message);
			size_t used = strlen(o.all_messages);
			snprintf(o.all_messages + used, sizeof o.all_messages - used, "%s\n", ev.message);
			o.ready += ev.type == EAS_EVENT_READY;
			o.provisioned += ev.type == EAS_EVENT_PROVISIONED;
			o.errors += ev.type == EAS_EVENT_ERROR;
			o.auth_failed += ev.type == EAS_EVENT_AUTH_FAILED;
			if (ev.type == EAS_EVENT_POLICY) {
				o.policies++;
				assert_int_equal(eas_session_accept_policy(s, 1), 0);
				answered = 1;
			}
		}
		if (!answered)
			break;
	}
	assert_false(eas_session_busy(s));
	if (o.ready)
		assert_string_equal(eas_session_policy_key(s), "3942919513");
	eas_session_free(s);
	eas_curl_transport_free(t);
	o.last.message = o.message;
	return o;
}

static eas_curl_transport_options base_options(void)
{
	eas_curl_transport_options o = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	o.platform = &plat;
	o.proxy = ""; /* loopback: never a proxy from the environment */
	o.connect_timeout_ms = 10000;
	return o;
}

/* ---- tests ------------------------------------------------------------------------------- */

static void expect_tls_refusal(const outcome *o, unsigned requests_before)
{
	assert_int_equal(o->errors, 1);
	assert_int_equal(o->last.type, EAS_EVENT_ERROR);
	assert_int_equal(o->last.error, EAS_E_TLS);
	assert_int_equal(o->ready, 0);
	/* The words say what failed and why (libcurl's reason after ours). */
	if (!strstr(o->message, "OPTIONS request failed: TLS error (") || !strchr(o->message, ')'))
		fail_msg("unclear message: %s", o->message);
	/* Nothing reached the server's handler: the handshake failed first. */
	assert_int_equal(tls_server_requests(srv), requests_before);
}

static void test_refused_without_the_ca(void **state)
{
	(void)state;
	unsigned before = tls_server_requests(srv);
	eas_curl_transport_options o = base_options(); /* the system store only */
	outcome r = connect_with(&o, 0);
	expect_tls_refusal(&r, before);
	fprintf(stderr, "refusal: %s\n", r.message);
	if (!strstr(r.message, "certificate"))
		fail_msg("the reason does not mention the certificate: %s", r.message);

	/* Another self-signed certificate as the CA: refused as well. */
	o.ca_file = other_cert.path;
	r = connect_with(&o, 0);
	expect_tls_refusal(&r, before);

	/* The right CA but the pin of another key: refused. */
	o.ca_file = good_cert.path;
	o.pinned_public_key = other_cert.pin;
	r = connect_with(&o, 0);
	expect_tls_refusal(&r, before);
}

static void test_connects_with_the_ca(void **state)
{
	(void)state;
	unsigned before = tls_server_requests(srv);
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	outcome r = connect_with(&o, 0);
	if (r.ready != 1)
		fail_msg("not ready: %s", r.all_messages);
	assert_int_equal(r.errors, 0);
	assert_int_equal(r.policies, 1);
	assert_int_equal(r.provisioned, 1);
	assert_int_equal(tls_server_requests(srv) - before, 3); /* OPTIONS, Provision x2 */

	/* The CA as PEM in memory, and its key pinned. */
	o = base_options();
	o.ca_pem = good_cert.cert_pem;
	o.ca_pem_len = strlen(good_cert.cert_pem);
	o.pinned_public_key = good_cert.pin;
	r = connect_with(&o, 0);
	assert_int_equal(r.ready, 1);
}

static void assert_no_secret(const char *text)
{
	static const char *const secrets[] = {
		PASSWORD, "VGxzLXMzY3JldC05" /* base64(password) */, "YWxpY2U6VGxzLXMzY3JldC05", "YWxpY2U6VGxzLXMz",
		"tok-1", "tok-2", "tok-3", "dG9rLT" /* base64("tok-") */,
	};
	for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
		if (strstr(text, secrets[i]))
			fail_msg("secret #%zu found in: %.200s", i, strstr(text, secrets[i]));
}

static void test_credentials_never_logged(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	o.verbose = EAS_CURL_VERBOSE_HEADERS; /* every header line, at TRACE */

	log_reset();
	outcome r = connect_with(&o, 0);
	assert_int_equal(r.ready, 1);
	/* The log is not empty: request lines, header lines of both sides. */
	assert_true(log_lines[EAS_LOG_TRACE] >= 20);
	assert_true(log_lines[EAS_LOG_DEBUG] >= 3);
	assert_non_null(strstr(log_text, "MS-ASProtocolVersions"));
	assert_non_null(strstr(log_text, "Authorization"));
	if (getenv("SESSION_TEST_VERBOSE"))
		fputs(log_text, stderr);
	assert_no_secret(log_text);
	assert_no_secret(r.all_messages);

	/* OAuth2: tok-1 is refused, tok-2 works. */
	log_reset();
	token_calls = 0;
	r = connect_with(&o, 1);
	assert_int_equal(r.ready, 1);
	assert_int_equal(token_calls, 2);
	assert_true(log_lines[EAS_LOG_TRACE] >= 20);
	assert_non_null(strstr(log_text, "401"));
	assert_no_secret(log_text);
	assert_no_secret(r.all_messages);

	/* Every token refused: AUTH_FAILED, still nothing in the log. */
	log_reset();
	token_calls = 0;
	refused_token = "Bearer tok-";
	outcome all = connect_with(&o, 1);
	refused_token = "Bearer tok-1";
	assert_int_equal(all.auth_failed, 1);
	assert_int_equal(all.last.error, EAS_E_AUTH);
	assert_no_secret(log_text);
	assert_no_secret(all.all_messages);
}

/* ---- setup --------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	plat = *eas_platform_posix();
	plat.log = capture;
	test_cert_make(&good_cert, "CN=127.0.0.1,O=libeas session test", test_cert_san_loopback,
		       sizeof test_cert_san_loopback, "session-good");
	test_cert_make(&other_cert, "CN=127.0.0.1,O=libeas other", test_cert_san_loopback,
		       sizeof test_cert_san_loopback, "session-other");
	xmldoc_to_wbxml(&policy_body,
			"<Provision xmlns=\"Provision:\"><Status>1</Status><Policies><Policy>"
			"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status><PolicyKey>1307199584"
			"</PolicyKey><Data><EASProvisionDoc><DevicePasswordEnabled>1</DevicePasswordEnabled>"
			"</EASProvisionDoc></Data></Policy></Policies></Provision>");
	xmldoc_to_wbxml(&final_body, "<Provision xmlns=\"Provision:\"><Status>1</Status><Policies><Policy>"
				     "<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status>"
				     "<PolicyKey>3942919513</PolicyKey></Policy></Policies></Provision>");
	srv = tls_server_start(&good_cert, handler, NULL);
	tls_server_url(srv, eas_url, sizeof eas_url, "/Microsoft-Server-ActiveSync");
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	tls_server_stop(srv);
	test_cert_remove(&good_cert);
	test_cert_remove(&other_cert);
	eas_buf_free(&policy_body);
	eas_buf_free(&final_body);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refused_without_the_ca),
		cmocka_unit_test(test_connects_with_the_ca),
		cmocka_unit_test(test_credentials_never_logged),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
