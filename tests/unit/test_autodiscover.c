/*
 * Autodiscover state machine: every branch driven by scripted responses
 * (no network), request bytes checked exactly, responses fed whole, split
 * at every byte and one byte at a time, every allocation failing in turn,
 * and the password looked for in everything the machine hands out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "client/autodiscover.h"
#include "common/base64.h"
#include "eas/autodiscover.h"
#include "scripted_transport.h"
#include "testmem.h"

#define PASSWORD "s3cret!Pw"
#define NS_AD "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define NS_MS "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"
#define OPEN "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"" NS_AD "\">" \
	"<Response xmlns=\"" NS_MS "\">"
#define CLOSE "</Response></Autodiscover>"

/* MS-ASCMD 4.2.4 (Response - Case Server Settings), as printed. */
static const char spec_settings[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
	"  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006\">\n"
	"    <Culture>en:us</Culture>\n"
	"    <User>\n"
	"      <DisplayName>Chris Gray</DisplayName>\n"
	"      <EMailAddress>chris@woodgrovebank.com</EMailAddress>\n"
	"    </User>\n"
	"    <Action>\n"
	"      <Settings>\n"
	"        <Server>\n"
	"          <Type>MobileSync</Type>\n"
	"          <Url>\n"
	"            https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync\n"
	"          </Url>\n"
	"          <Name>\n"
	"            https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync\n"
	"          </Name>\n"
	"        </Server>\n"
	"        <Server>\n"
	"          <Type>CertEnroll</Type>\n"
	"          <Url>https://cert.woodgrovebank.com/CertEnroll</Url>\n"
	"          <Name />\n"
	"          <ServerData>CertEnrollTemplate</ServerData>\n"
	"        </Server>\n"
	"      </Settings>\n"
	"    </Action>\n"
	"  </Response>\n"
	"</Autodiscover>\n";
#define SPEC_URL "https://loandept.woodgrovebank.com/Microsoft-Server-ActiveSync"

static const char simple_settings[] = OPEN
	"<User><EMailAddress>alice@example.com</EMailAddress></User>"
	"<Action><Settings><Server><Type>MobileSync</Type>"
	"<Url>https://eas.example.com/Microsoft-Server-ActiveSync</Url></Server></Settings></Action>" CLOSE;
#define SIMPLE_URL "https://eas.example.com/Microsoft-Server-ActiveSync"

/* MS-ASCMD 4.2.x error example (Response in the mobilesync namespace). */
static const char spec_error_600[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<Autodiscover xmlns =\"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006\">\n"
	"  <Response xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006\">\n"
	"    <Error Time=\"16:56:32.6164027\" Id=\"1054084152\">\n"
	"      <ErrorCode>600</ErrorCode>\n"
	"      <Message>Invalid Request</Message>\n"
	"      <DebugData />\n"
	"    </Error>\n"
	"  </Response>\n"
	"</Autodiscover>\n";

/* The same, as the 6.4 schema has it: Response in the outer namespace. */
static const char outer_error_601[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>"
	"<Autodiscover xmlns=\"" NS_AD "\"><Response><Error Time=\"1\" Id=\"2\">"
	"<ErrorCode>601</ErrorCode><Message>Provider is not available</Message><DebugData/>"
	"</Error></Response></Autodiscover>";

/* MS-ASCMD 4.2.2 (Response - Case Error). */
static const char spec_action_error[] = OPEN
	"<Culture>en:us</Culture><User><EMailAddress>chris@woodgrovebank.com</EMailAddress></User>"
	"<Action><Error><Status>2</Status><Message>The directory service could not be reached</Message>"
	"<DebugData>MailUser</DebugData></Error></Action>" CLOSE;

static const char expected_body_alice[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\">\n"
	"  <Request>\n"
	"    <EMailAddress>alice@example.com</EMailAddress>\n"
	"    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006</AcceptableResponseSchema>\n"
	"  </Request>\n"
	"</Autodiscover>\n";

/* ---- harness ----------------------------------------------------------------- */

static testmem tm;
static eas_mem tm_hooks;
/* Set while allocations fail: begin may answer EAS_E_NOMEM. */
static int lenient;

static eas_autodiscover_options base_options(const char *email)
{
	eas_autodiscover_options o = EAS_AUTODISCOVER_OPTIONS_INIT;
	o.email = email;
	o.auth = EAS_AUTODISCOVER_AUTH_BASIC;
	o.password = PASSWORD;
	tm_hooks = testmem_init(&tm, -1);
	o.mem = &tm_hooks;
	return o;
}

static eas_autodiscover *make(const eas_autodiscover_options *o)
{
	eas_autodiscover *ad = NULL;
	assert_int_equal(eas_autodiscover_new(&ad, o), 0);
	assert_non_null(ad);
	return ad;
}

static void finish(eas_autodiscover *ad)
{
	eas_autodiscover_free(ad);
	assert_int_equal(tm.live_blocks, 0);
	assert_int_equal(tm.live_bytes, 0);
}

static eas_autodiscover_action next(eas_autodiscover *ad)
{
	eas_autodiscover_action a;
	assert_int_equal(eas_autodiscover_next(ad, &a), 0);
	return a;
}

static eas_autodiscover_action expect_request(eas_autodiscover *ad, const char *method, const char *url)
{
	eas_autodiscover_action a = next(ad);
	if (a.type != EAS_AUTODISCOVER_SEND_REQUEST)
		fail_msg("expected a %s to %s, got action %d (%s)", method, url, a.type,
			 a.message ? a.message : "");
	assert_string_equal(a.request.method, method);
	assert_string_equal(a.request.url, url);
	return a;
}

static const char *header(const eas_http_request *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

/* begin, the body in pieces of `chunk` bytes (0 = whole), end(0). */
static void respond(eas_autodiscover *ad, int status, const char *const *hdrs, const char *body, size_t chunk)
{
	eas_http_header h[8];
	size_t n = 0;
	for (; hdrs && hdrs[2 * n]; n++) {
		h[n].name = hdrs[2 * n];
		h[n].value = hdrs[2 * n + 1];
	}
	int rc = eas_autodiscover_response_begin(ad, status, h, n);
	if (!(lenient && rc == EAS_E_NOMEM))
		assert_int_equal(rc, 0);
	size_t len = body ? strlen(body) : 0;
	for (size_t off = 0; off < len;) {
		size_t piece = chunk && chunk < len - off ? chunk : len - off;
		if (eas_autodiscover_response_body(ad, body + off, piece) != 0)
			break;
		off += piece;
	}
	assert_int_equal(eas_autodiscover_response_end(ad, 0), 0);
}

static void respond_xml(eas_autodiscover *ad, const char *body)
{
	respond(ad, 200, NULL, body, 0);
}

static void respond_redirect(eas_autodiscover *ad, int status, const char *location)
{
	const char *h[] = { "location", location, NULL };
	respond(ad, status, h, "<html>moved</html>", 0);
}

static void transport_error(eas_autodiscover *ad, int err)
{
	assert_int_equal(eas_autodiscover_response_end(ad, err), 0);
}

static const eas_autodiscover_result *expect_done(eas_autodiscover *ad, const char *url)
{
	eas_autodiscover_action a = next(ad);
	if (a.type != EAS_AUTODISCOVER_DONE)
		fail_msg("expected DONE, got action %d: %s", a.type, a.message ? a.message : "");
	assert_non_null(a.result);
	assert_string_equal(a.result->url, url);
	return a.result;
}

static eas_autodiscover_action expect_failed(eas_autodiscover *ad, int error)
{
	eas_autodiscover_action a = next(ad);
	if (a.type != EAS_AUTODISCOVER_FAILED)
		fail_msg("expected FAILED, got action %d", a.type);
	if (a.error != error)
		fail_msg("expected error %d, got %d: %s", error, a.error, a.message);
	assert_non_null(a.message);
	return a;
}

#define CAND1 "https://example.com/autodiscover/autodiscover.xml"
#define CAND2 "https://autodiscover.example.com/autodiscover/autodiscover.xml"
#define PROBE "http://autodiscover.example.com/autodiscover/autodiscover.xml"

/* ---- the search order -------------------------------------------------------- */

static void test_first_candidate_exact_request(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	eas_autodiscover_action a = expect_request(ad, "POST", CAND1);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_DOMAIN);
	assert_int_equal(a.request.version, EAS_HTTP_REQUEST_VERSION);
	assert_int_equal(a.request.header_count, 2);
	assert_string_equal(a.request.headers[0].name, "Authorization");
	/* base64("alice@example.com:s3cret!Pw") */
	assert_string_equal(a.request.headers[0].value, "Basic YWxpY2VAZXhhbXBsZS5jb206czNjcmV0IVB3");
	assert_string_equal(a.request.headers[1].name, "Content-Type");
	assert_string_equal(a.request.headers[1].value, "text/xml");
	assert_int_equal(a.request.body_length, strlen(expected_body_alice));
	assert_memory_equal(a.request.body, expected_body_alice, strlen(expected_body_alice));
	assert_null(a.request.body_read);
	assert_int_equal(a.request.timeout_ms, 30000);
	/* Waiting for the response: no other action. */
	eas_autodiscover_action w;
	assert_int_equal(eas_autodiscover_next(ad, &w), EAS_E_STATE);
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_string_equal(r->email, "alice@example.com");
	assert_string_equal(r->user_email, "alice@example.com");
	assert_string_equal(r->autodiscover_url, CAND1);
	assert_int_equal(r->step, EAS_AUTODISCOVER_STEP_DOMAIN);
	assert_int_equal(r->redirects, 0);
	assert_int_equal(r->address_changed, 0);
	assert_int_equal(r->confirmed, 0);
	assert_null(r->display_name);
	assert_null(r->cert_enroll_url);
	/* DONE is sticky. */
	expect_done(ad, SIMPLE_URL);
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 1);
	assert_int_equal(at[0].http_status, 200);
	assert_int_equal(at[0].error, 0);
	finish(ad);
}

static void test_spec_settings_response(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("chris@woodgrovebank.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", "https://woodgrovebank.com/autodiscover/autodiscover.xml");
	respond_xml(ad, spec_settings);
	const eas_autodiscover_result *r = expect_done(ad, SPEC_URL);
	assert_string_equal(r->display_name, "Chris Gray");
	assert_string_equal(r->user_email, "chris@woodgrovebank.com");
	assert_string_equal(r->culture, "en:us");
	assert_string_equal(r->cert_enroll_url, "https://cert.woodgrovebank.com/CertEnroll");
	assert_string_equal(r->cert_enroll_data, "CertEnrollTemplate");
	finish(ad);
}

static void test_connection_error_then_second_candidate(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	eas_autodiscover_action a = expect_request(ad, "POST", CAND1);
	transport_error(ad, EAS_E_IO);
	a = expect_request(ad, "POST", CAND2);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_HOST);
	assert_memory_equal(a.request.body, expected_body_alice, strlen(expected_body_alice));
	assert_non_null(header(&a.request, "Authorization"));
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_string_equal(r->autodiscover_url, CAND2);
	assert_int_equal(r->step, EAS_AUTODISCOVER_STEP_HOST);
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 2);
	assert_int_equal(at[0].error, EAS_E_IO);
	assert_int_equal(at[0].http_status, 0);
	assert_string_equal(at[0].method, "POST");
	assert_string_equal(at[0].email, "alice@example.com");
	assert_int_equal(at[1].error, 0);
	finish(ad);
}

static void test_probe_redirect_to_https(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	transport_error(ad, EAS_E_TLS);
	expect_request(ad, "POST", CAND2);
	respond(ad, 404, NULL, "not here", 0);
	eas_autodiscover_action a = expect_request(ad, "GET", PROBE);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_PROBE);
	/* The plain-HTTP probe carries nothing: no credentials, no body. */
	assert_int_equal(a.request.header_count, 0);
	assert_null(a.request.body);
	assert_int_equal(a.request.body_length, 0);
	respond_redirect(ad, 302, "https://mail.example.net/autodiscover/autodiscover.xml");
	a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_CONFIRM);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_PROBE);
	assert_string_equal(a.url, "https://mail.example.net/autodiscover/autodiscover.xml");
	assert_int_equal(eas_autodiscover_next(ad, &a), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_confirm(ad, 1), 0);
	a = expect_request(ad, "POST", "https://mail.example.net/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_PROBE);
	assert_string_equal(header(&a.request, "Content-Type"), "text/xml");
	assert_non_null(header(&a.request, "Authorization"));
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_int_equal(r->confirmed, 1);
	assert_int_equal(r->redirects, 1);
	assert_int_equal(r->step, EAS_AUTODISCOVER_STEP_PROBE);
	finish(ad);
}

static void to_probe(eas_autodiscover *ad)
{
	expect_request(ad, "POST", CAND1);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "POST", CAND2);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "GET", PROBE);
}

static void test_probe_redirect_to_http_refused(void **state)
{
	(void)state;
	/* Even with allow_plain_http: the probe may only lead to https. */
	for (int allow = 0; allow < 2; allow++) {
		eas_autodiscover_options o = base_options("alice@example.com");
		o.allow_plain_http = allow;
		eas_autodiscover *ad = make(&o);
		to_probe(ad);
		respond_redirect(ad, 302, "http://mail.example.net/autodiscover/autodiscover.xml");
		eas_autodiscover_action a = next(ad);
		assert_int_equal(a.type, EAS_AUTODISCOVER_NEED_SRV);
		const eas_autodiscover_attempt *at;
		assert_int_equal(eas_autodiscover_attempts(ad, &at), 3);
		assert_int_equal(at[2].http_status, 302);
		assert_int_equal(at[2].error, EAS_E_PROTOCOL);
		assert_non_null(strstr(at[2].detail, "refused"));
		assert_int_equal(eas_autodiscover_srv_result(ad, NULL, 0), 0);
		a = expect_failed(ad, EAS_E_NOTFOUND);
		assert_non_null(strstr(a.message, "alice@example.com"));
		finish(ad);
	}
	/* A relative Location resolves against the http probe: refused too. */
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	to_probe(ad);
	respond_redirect(ad, 301, "/elsewhere/autodiscover.xml");
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_NEED_SRV);
	finish(ad);
}

static void test_probe_not_a_redirect_and_declined(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	to_probe(ad);
	respond(ad, 200, NULL, "<html>parked domain</html>", 0);
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_NEED_SRV);
	finish(ad);

	o = base_options("alice@example.com");
	ad = make(&o);
	to_probe(ad);
	respond_redirect(ad, 302, "https://evil.example.org/autodiscover/autodiscover.xml");
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_CONFIRM);
	assert_int_equal(eas_autodiscover_confirm(ad, 0), 0);
	eas_autodiscover_action a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_NEED_SRV);
	assert_int_equal(eas_autodiscover_srv_result(ad, NULL, 0), 0);
	expect_failed(ad, EAS_E_NOTFOUND);
	/* The declined host never saw a request. */
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 3);
	finish(ad);

	/* skip_confirmation: straight to the POST. */
	o = base_options("alice@example.com");
	o.skip_confirmation = 1;
	ad = make(&o);
	to_probe(ad);
	respond_redirect(ad, 307, "https://mail.example.net/autodiscover/autodiscover.xml");
	expect_request(ad, "POST", "https://mail.example.net/autodiscover/autodiscover.xml");
	respond_xml(ad, simple_settings);
	assert_int_equal(expect_done(ad, SIMPLE_URL)->confirmed, 1);
	finish(ad);
}

static void test_srv_step(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	to_probe(ad);
	respond(ad, 404, NULL, NULL, 0);
	eas_autodiscover_action a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_NEED_SRV);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_SRV);
	assert_string_equal(a.srv_name, "_autodiscover._tcp.example.com");
	assert_string_equal(a.domain, "example.com");
	assert_int_equal(eas_autodiscover_next(ad, &a), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_confirm(ad, 1), EAS_E_STATE);
	eas_autodiscover_srv recs[] = {
		{ "backup.example.com.", 443, 20, 0 },
		{ ".", 443, 0, 0 },                       /* "no service" */
		{ "bad host!", 443, 0, 0 },
		{ "AD1.Example.COM", 8443, 10, 5 },
		{ "ad0.example.com", 0, 10, 50 },         /* same priority, heavier first */
	};
	assert_int_equal(eas_autodiscover_srv_result(ad, recs, 5), 0);
	assert_int_equal(eas_autodiscover_srv_result(ad, recs, 5), EAS_E_STATE);
	a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_CONFIRM);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_SRV);
	assert_string_equal(a.url, "https://ad0.example.com/autodiscover/autodiscover.xml");
	assert_int_equal(eas_autodiscover_confirm(ad, 1), 0);
	a = expect_request(ad, "POST", "https://ad0.example.com/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_SRV);
	transport_error(ad, EAS_E_IO);
	a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_CONFIRM);
	assert_string_equal(a.url, "https://ad1.example.com:8443/autodiscover/autodiscover.xml");
	assert_int_equal(eas_autodiscover_confirm(ad, 0), 0);
	a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_CONFIRM);
	assert_string_equal(a.url, "https://backup.example.com/autodiscover/autodiscover.xml");
	assert_int_equal(eas_autodiscover_confirm(ad, 1), 0);
	expect_request(ad, "POST", "https://backup.example.com/autodiscover/autodiscover.xml");
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_int_equal(r->step, EAS_AUTODISCOVER_STEP_SRV);
	assert_int_equal(r->confirmed, 1);
	assert_int_equal(r->redirects, 0);
	finish(ad);
}

/*
 * The whole search in the specification's order, each step failing in its
 * own way (a server error, a 403, a page that is not XML, a 404 probe, an
 * SRV target that cannot be reached): FAILED with EAS_E_NOTFOUND, and the
 * attempts list tells what happened where, in that order.
 */
static void test_every_step_in_order(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	eas_autodiscover_action a = expect_request(ad, "POST", CAND1);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_DOMAIN);
	respond(ad, 500, NULL, "<html>Internal Server Error</html>", 0);
	a = expect_request(ad, "POST", CAND2);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_HOST);
	respond(ad, 403, NULL, NULL, 0);
	a = expect_request(ad, "GET", PROBE);
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_PROBE);
	respond(ad, 404, NULL, NULL, 0);
	a = next(ad);
	assert_int_equal(a.type, EAS_AUTODISCOVER_NEED_SRV);
	assert_string_equal(a.srv_name, "_autodiscover._tcp.example.com");
	eas_autodiscover_srv rec = { "mail.example.com", 443, 0, 0 };
	assert_int_equal(eas_autodiscover_srv_result(ad, &rec, 1), 0);
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_CONFIRM);
	assert_int_equal(eas_autodiscover_confirm(ad, 1), 0);
	a = expect_request(ad, "POST", "https://mail.example.com/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_SRV);
	transport_error(ad, EAS_E_TLS);
	a = expect_failed(ad, EAS_E_NOTFOUND);
	assert_non_null(strstr(a.message, "alice@example.com"));

	static const struct {
		eas_autodiscover_step step;
		const char *method, *url;
		int http_status, error;
	} want[] = {
		{ EAS_AUTODISCOVER_STEP_DOMAIN, "POST", CAND1, 500, 0 },
		{ EAS_AUTODISCOVER_STEP_HOST, "POST", CAND2, 403, 0 },
		{ EAS_AUTODISCOVER_STEP_PROBE, "GET", PROBE, 404, 0 },
		{ EAS_AUTODISCOVER_STEP_SRV, "POST", "https://mail.example.com/autodiscover/autodiscover.xml", 0, EAS_E_TLS },
	};
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(at[i].step, want[i].step);
		assert_string_equal(at[i].method, want[i].method);
		assert_string_equal(at[i].url, want[i].url);
		assert_int_equal(at[i].http_status, want[i].http_status);
		assert_true(at[i].error != 0); /* each one failed */
		if (want[i].error)
			assert_int_equal(at[i].error, want[i].error);
		assert_non_null(at[i].detail);
	}
	finish(ad);
}

/* Every HTTP redirect status to a POST moves the same request to the new https URL. */
static void test_every_redirect_status(void **state)
{
	(void)state;
	static const int codes[] = { 301, 302, 303, 307, 308 };
	for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
		eas_autodiscover_options o = base_options("alice@example.com");
		eas_autodiscover *ad = make(&o);
		expect_request(ad, "POST", CAND1);
		respond_redirect(ad, codes[i], "https://cas.example.com/autodiscover/autodiscover.xml");
		eas_autodiscover_action a = expect_request(ad, "POST", "https://cas.example.com/autodiscover/autodiscover.xml");
		assert_memory_equal(a.request.body, expected_body_alice, strlen(expected_body_alice));
		respond_xml(ad, simple_settings);
		assert_int_equal(expect_done(ad, SIMPLE_URL)->redirects, 1);
		finish(ad);
	}
	/* 300 and 304 are not redirects of a POST: the step fails, the search goes on. */
	static const int others[] = { 300, 304 };
	for (size_t i = 0; i < 2; i++) {
		eas_autodiscover_options o = base_options("alice@example.com");
		eas_autodiscover *ad = make(&o);
		expect_request(ad, "POST", CAND1);
		respond_redirect(ad, others[i], "https://cas.example.com/autodiscover/autodiscover.xml");
		expect_request(ad, "POST", CAND2);
		finish(ad);
	}
}

static void test_srv_limits(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	o.steps = EAS_AUTODISCOVER_STEPS_HOST | EAS_AUTODISCOVER_STEPS_SRV;
	o.skip_confirmation = 1;
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND2);
	transport_error(ad, EAS_E_IO);
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_NEED_SRV);
	eas_autodiscover_srv recs[12];
	char names[10][32];
	for (int i = 0; i < 10; i++) {
		snprintf(names[i], sizeof names[i], "h%d.example.com", i);
		recs[i].target = names[i];
		recs[i].port = 443;
		recs[i].priority = (uint16_t)(i + 1);
		recs[i].weight = 0;
	}
	recs[10].target = NULL;
	recs[10].port = 443;
	recs[10].priority = recs[10].weight = 0;
	/* Already asked at step 2: skipped without a request. */
	recs[11].target = "autodiscover.example.com";
	recs[11].port = 443;
	recs[11].priority = recs[11].weight = 0;
	assert_int_equal(eas_autodiscover_srv_result(ad, NULL, 1), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_srv_result(ad, recs, 12), 0);
	/* Eight records are kept: the skipped one and h0..h6. */
	char url[96];
	for (int i = 0; i < 7; i++) {
		snprintf(url, sizeof url, "https://h%d.example.com/autodiscover/autodiscover.xml", i);
		expect_request(ad, "POST", url);
		respond(ad, 503, NULL, NULL, 0);
	}
	eas_autodiscover_action a = expect_failed(ad, EAS_E_NOTFOUND);
	assert_non_null(strstr(a.message, "h6.example.com"));
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 8);
	assert_int_equal(at[7].http_status, 503);
	finish(ad);
}

static void test_steps_mask_and_fixed_url(void **state)
{
	(void)state;
	/* Only SRV. */
	eas_autodiscover_options o = base_options("alice@example.com");
	o.steps = EAS_AUTODISCOVER_STEPS_SRV;
	o.skip_confirmation = 1;
	eas_autodiscover *ad = make(&o);
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_NEED_SRV);
	eas_autodiscover_srv rec = { "ad.example.com", 443, 0, 0 };
	assert_int_equal(eas_autodiscover_srv_result(ad, &rec, 1), 0);
	expect_request(ad, "POST", "https://ad.example.com/autodiscover/autodiscover.xml");
	transport_error(ad, EAS_E_IO);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_NOTFOUND);
	assert_non_null(strstr(a.message, "ad.example.com"));
	finish(ad);

	/* A fixed URL over plain http (a loopback test server), bearer auth. */
	o = base_options("alice@example.com");
	o.url = "http://127.0.0.1:8080/autodiscover/autodiscover.xml";
	o.allow_plain_http = 1;
	o.auth = EAS_AUTODISCOVER_AUTH_BEARER;
	o.password = NULL;
	o.bearer_token = "eyJ0eXAi.OiJKV1Qi-_x";
	o.timeout_ms = 5000;
	ad = make(&o);
	a = expect_request(ad, "POST", "http://127.0.0.1:8080/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_URL);
	assert_string_equal(header(&a.request, "Authorization"), "Bearer eyJ0eXAi.OiJKV1Qi-_x");
	assert_int_equal(a.request.timeout_ms, 5000);
	respond(ad, 500, NULL, NULL, 0);
	expect_failed(ad, EAS_E_NOTFOUND);
	finish(ad);

	/* No credentials at all: no Authorization header. */
	o = base_options("alice@example.com");
	o.auth = EAS_AUTODISCOVER_AUTH_NONE;
	ad = make(&o);
	a = expect_request(ad, "POST", CAND1);
	assert_int_equal(a.request.header_count, 1);
	assert_string_equal(a.request.headers[0].name, "Content-Type");
	finish(ad);

	/* Every step switched off but one, and the domain is lower-cased. */
	o = base_options("Alice@EXAMPLE.com");
	o.steps = EAS_AUTODISCOVER_STEPS_HOST;
	o.username = "EXAMPLE\\alice";
	ad = make(&o);
	a = expect_request(ad, "POST", CAND2);
	char expect[64];
	char raw[] = "EXAMPLE\\alice:" PASSWORD;
	memcpy(expect, "Basic ", 6);
	eas__base64_encode(expect + 6, (const uint8_t *)raw, strlen(raw));
	assert_string_equal(header(&a.request, "Authorization"), expect);
	assert_non_null(strstr((const char *)a.request.body, "<EMailAddress>Alice@EXAMPLE.com</EMailAddress>"));
	respond(ad, 403, NULL, NULL, 0);
	expect_failed(ad, EAS_E_NOTFOUND);
	finish(ad);
}

/* ---- redirects --------------------------------------------------------------- */

static void test_address_redirect(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	eas_autodiscover_action a = expect_request(ad, "POST", CAND1);
	const char *auth = header(&a.request, "Authorization");
	char auth_copy[128];
	snprintf(auth_copy, sizeof auth_copy, "%s", auth);
	respond_xml(ad, OPEN "<Action><Redirect> bob@other.example </Redirect></Action>" CLOSE);
	a = expect_request(ad, "POST", "https://other.example/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_DOMAIN);
	assert_non_null(strstr((const char *)a.request.body, "<EMailAddress>bob@other.example</EMailAddress>"));
	/* The credentials stay the same (the user name was the first address). */
	assert_string_equal(header(&a.request, "Authorization"), auth_copy);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "POST", "https://autodiscover.other.example/autodiscover/autodiscover.xml");
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_string_equal(r->email, "bob@other.example");
	assert_int_equal(r->address_changed, 1);
	assert_int_equal(r->redirects, 1);
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 3);
	assert_string_equal(at[0].email, "alice@example.com");
	assert_string_equal(at[1].email, "bob@other.example");
	finish(ad);
}

static void test_url_redirects(void **state)
{
	(void)state;
	/* HTTP 302 to a POST ([MS-OXDSCLI] 3.1.5.2): the same body, elsewhere. */
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_redirect(ad, 302, "https://cas2.example.com/autodiscover/autodiscover.xml");
	eas_autodiscover_action a = expect_request(ad, "POST", "https://cas2.example.com/autodiscover/autodiscover.xml");
	assert_int_equal(a.step, EAS_AUTODISCOVER_STEP_REDIRECT);
	assert_memory_equal(a.request.body, expected_body_alice, strlen(expected_body_alice));
	respond_xml(ad, simple_settings);
	const eas_autodiscover_result *r = expect_done(ad, SIMPLE_URL);
	assert_int_equal(r->redirects, 1);
	assert_int_equal(r->step, EAS_AUTODISCOVER_STEP_REDIRECT);
	assert_int_equal(r->confirmed, 0);
	finish(ad);

	/* A relative Location resolves against the https URL. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_redirect(ad, 301, "/ad/autodiscover.xml");
	expect_request(ad, "POST", "https://example.com/ad/autodiscover.xml");
	finish(ad);

	/* Action/Redirect holding a URL. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Redirect>https://cas3.example.com/autodiscover/autodiscover.xml</Redirect>"
		    "</Action>" CLOSE);
	expect_request(ad, "POST", "https://cas3.example.com/autodiscover/autodiscover.xml");
	/* The redirect target fails: the search resumes after the step that led there. */
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "POST", CAND2);
	finish(ad);

	/* Redirect targets that are not https are refused. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_redirect(ad, 302, "http://cas2.example.com/autodiscover/autodiscover.xml");
	expect_request(ad, "POST", CAND2);
	respond_redirect(ad, 302, "https://user:pw@cas2.example.com/autodiscover/autodiscover.xml");
	expect_request(ad, "GET", PROBE);
	finish(ad);

	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Redirect>http://cas3.example.com/x</Redirect></Action>" CLOSE);
	expect_failed(ad, EAS_E_PROTOCOL);
	finish(ad);

	/* 302 without a Location fails the step. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond(ad, 302, NULL, NULL, 0);
	expect_request(ad, "POST", CAND2);
	finish(ad);
}

static void test_redirect_loops(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_redirect(ad, 302, "https://b.example.com/autodiscover/autodiscover.xml");
	expect_request(ad, "POST", "https://b.example.com/autodiscover/autodiscover.xml");
	respond_redirect(ad, 302, CAND1);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_PROTOCOL);
	assert_non_null(strstr(a.message, "loop"));
	assert_string_equal(a.url, "https://b.example.com/autodiscover/autodiscover.xml");
	finish(ad);

	/* alice -> bob -> ALICE (addresses compare case-insensitively). */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Redirect>bob@other.example</Redirect></Action>" CLOSE);
	expect_request(ad, "POST", "https://other.example/autodiscover/autodiscover.xml");
	respond_xml(ad, OPEN "<Action><Redirect>ALICE@example.com</Redirect></Action>" CLOSE);
	a = expect_failed(ad, EAS_E_PROTOCOL);
	assert_non_null(strstr(a.message, "loop"));
	finish(ad);

	/* A redirect to oneself. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Redirect>https://example.com/autodiscover/autodiscover.xml</Redirect>"
		    "</Action>" CLOSE);
	expect_failed(ad, EAS_E_PROTOCOL);
	finish(ad);

	/* A probe target already tried is skipped, not a loop. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "POST", CAND2);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "GET", PROBE);
	respond_redirect(ad, 302, CAND2);
	assert_int_equal(next(ad).type, EAS_AUTODISCOVER_NEED_SRV);
	finish(ad);
}

static void test_too_many_redirects(void **state)
{
	(void)state;
	for (unsigned max = 0; max <= 3; max += 3) {
		unsigned limit = max ? max : 10;
		eas_autodiscover_options o = base_options("alice@example.com");
		o.max_redirects = max;
		eas_autodiscover *ad = make(&o);
		expect_request(ad, "POST", CAND1);
		char url[96];
		for (unsigned i = 0; i < limit; i++) {
			snprintf(url, sizeof url, "https://hop%u.example.com/autodiscover/autodiscover.xml", i);
			respond_redirect(ad, 302, url);
			expect_request(ad, "POST", url);
		}
		respond_redirect(ad, 302, "https://one-too-many.example.com/autodiscover/autodiscover.xml");
		eas_autodiscover_action a = expect_failed(ad, EAS_E_LIMIT);
		assert_non_null(strstr(a.message, "redirects"));
		finish(ad);
	}
	/* Address redirects count too. */
	eas_autodiscover_options o = base_options("u0@d0.example");
	o.max_redirects = 2;
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", "https://d0.example/autodiscover/autodiscover.xml");
	respond_xml(ad, OPEN "<Action><Redirect>u1@d1.example</Redirect></Action>" CLOSE);
	expect_request(ad, "POST", "https://d1.example/autodiscover/autodiscover.xml");
	respond_xml(ad, OPEN "<Action><Redirect>https://x.d1.example/a</Redirect></Action>" CLOSE);
	expect_request(ad, "POST", "https://x.d1.example/a");
	respond_xml(ad, OPEN "<Action><Redirect>u2@d2.example</Redirect></Action>" CLOSE);
	expect_failed(ad, EAS_E_LIMIT);
	finish(ad);
}

/* ---- server errors and authentication ---------------------------------------- */

static void test_error_codes(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, spec_error_600);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_PROTOCOL);
	assert_int_equal(a.server_error, 600);
	assert_int_equal(a.http_status, 200);
	assert_string_equal(a.url, CAND1);
	assert_non_null(strstr(a.message, "600"));
	assert_non_null(strstr(a.message, "Invalid Request"));
	finish(ad);

	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	transport_error(ad, EAS_E_IO);
	expect_request(ad, "POST", CAND2);
	respond_xml(ad, outer_error_601);
	a = expect_failed(ad, EAS_E_UNSUPPORTED);
	assert_int_equal(a.server_error, 601);
	assert_non_null(strstr(a.message, "Provider is not available"));
	finish(ad);

	o = base_options("chris@woodgrovebank.com");
	ad = make(&o);
	expect_request(ad, "POST", "https://woodgrovebank.com/autodiscover/autodiscover.xml");
	respond_xml(ad, spec_action_error);
	a = expect_failed(ad, EAS_E_PROTOCOL);
	assert_int_equal(a.server_error, 2);
	assert_non_null(strstr(a.message, "directory service"));
	finish(ad);

	/* Settings without a MobileSync server; an unusable MobileSync URL; an empty answer. */
	static const char *const bodies[] = {
		OPEN "<Action><Settings><Server><Type>CertEnroll</Type><Url>https://c.example.com</Url>"
		"</Server></Settings></Action>" CLOSE,
		OPEN "<Action><Settings><Server><Type>MobileSync</Type><Url>http://eas.example.com/x</Url>"
		"</Server></Settings></Action>" CLOSE,
		OPEN "<User><EMailAddress>alice@example.com</EMailAddress></User>" CLOSE,
	};
	static const int codes[] = { EAS_E_UNSUPPORTED, EAS_E_PROTOCOL, EAS_E_PROTOCOL };
	for (size_t i = 0; i < 3; i++) {
		o = base_options("alice@example.com");
		ad = make(&o);
		expect_request(ad, "POST", CAND1);
		respond_xml(ad, bodies[i]);
		expect_failed(ad, codes[i]);
		finish(ad);
	}

	/* Name stands in for a missing Url; the type compares case-insensitively. */
	o = base_options("alice@example.com");
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Settings><Server><Type>mobilesync</Type><Name>https://n.example.com/eas</Name>"
		    "</Server></Settings></Action>" CLOSE);
	expect_done(ad, "https://n.example.com/eas");
	finish(ad);
}

static void test_http_401(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	const char *h[] = { "WWW-Authenticate", "Bearer authorization_uri=\"https://login.example/\"", NULL };
	respond(ad, 401, h, "denied", 0);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_AUTH);
	assert_int_equal(a.http_status, 401);
	assert_string_equal(a.url, CAND1);
	assert_string_equal(a.auth_challenge, "Bearer authorization_uri=\"https://login.example/\"");
	/* Stopped: nothing more is sent, the failure is sticky. */
	a = expect_failed(ad, EAS_E_AUTH);
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 1);
	assert_int_equal(at[0].error, EAS_E_AUTH);
	finish(ad);

	/* continue_after_auth_failure: the search goes on... */
	o = base_options("alice@example.com");
	o.continue_after_auth_failure = 1;
	o.steps = EAS_AUTODISCOVER_STEPS_DOMAIN | EAS_AUTODISCOVER_STEPS_HOST;
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond(ad, 401, NULL, NULL, 0);
	expect_request(ad, "POST", CAND2);
	transport_error(ad, EAS_E_IO);
	/* ...and ends with EAS_E_AUTH when nothing else answers. */
	a = expect_failed(ad, EAS_E_AUTH);
	assert_int_equal(a.http_status, 401);
	finish(ad);

	o = base_options("alice@example.com");
	o.continue_after_auth_failure = 1;
	ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond(ad, 401, NULL, NULL, 0);
	expect_request(ad, "POST", CAND2);
	respond_xml(ad, simple_settings);
	expect_done(ad, SIMPLE_URL);
	finish(ad);
}

/* ---- hostile and broken responses ------------------------------------------- */

static void fails_step(const char *body, size_t max_size, int error)
{
	eas_autodiscover_options o = base_options("alice@example.com");
	o.max_response_size = max_size;
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, body);
	expect_request(ad, "POST", CAND2);
	const eas_autodiscover_attempt *at;
	assert_int_equal(eas_autodiscover_attempts(ad, &at), 2);
	if (at[0].error != error)
		fail_msg("expected %d, got %d (%s)", error, at[0].error, at[0].detail);
	respond_xml(ad, simple_settings);
	expect_done(ad, SIMPLE_URL);
	finish(ad);
}

static const char billion_laughs[] =
	"<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover [\n"
	" <!ENTITY a \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\">\n"
	" <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
	" <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
	" <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
	" <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
	"]>\n<Autodiscover xmlns=\"" NS_AD "\"><Response xmlns=\"" NS_MS "\"><Culture>&e;</Culture>" CLOSE;

static void test_malformed_and_foreign_xml(void **state)
{
	(void)state;
	fails_step("Welcome to example.com", 0, EAS_E_MALFORMED);
	fails_step("<?xml version=\"1.0\"?><Autodiscover xmlns=\"" NS_AD "\"><Response>", 0, EAS_E_MALFORMED);
	fails_step("<html><body>Welcome</body></html>", 0, EAS_E_PROTOCOL);
	fails_step("", 0, EAS_E_MALFORMED);
	fails_step("<Autodiscover xmlns=\"urn:other\"><Response/></Autodiscover>", 0, EAS_E_PROTOCOL);
	/* The Autodiscover root but no Response: not an answer. */
	fails_step("<Autodiscover xmlns=\"" NS_AD "\"/>", 0, EAS_E_PROTOCOL);
	fails_step(OPEN "<Culture>en</Culture>", 0, EAS_E_MALFORMED); /* truncated */
	fails_step(OPEN "<Culture>&undefined;</Culture>" CLOSE, 0, EAS_E_MALFORMED);
}

static void test_hostile_xml(void **state)
{
	(void)state;
	fails_step(billion_laughs, 0, EAS_E_MALFORMED);
	fails_step("<!DOCTYPE Autodiscover SYSTEM \"http://evil.example/x.dtd\"><Autodiscover/>", 0,
		   EAS_E_MALFORMED);
	fails_step("<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
		   "<Autodiscover xmlns=\"" NS_AD "\">&x;</Autodiscover>", 0, EAS_E_MALFORMED);
	/* Deeper than the cap. */
	char deep[2048] = OPEN;
	for (int i = 0; i < EAS__AD_MAX_DEPTH; i++)
		strcat(deep, "<x>");
	fails_step(deep, 0, EAS_E_LIMIT);
	/* One element's text longer than the cap. */
	static char longtext[EAS__AD_MAX_TEXT + 512];
	strcpy(longtext, OPEN "<Culture>");
	size_t n = strlen(longtext);
	memset(longtext + n, 'x', EAS__AD_MAX_TEXT + 1);
	strcpy(longtext + n + EAS__AD_MAX_TEXT + 1, "</Culture>" CLOSE);
	fails_step(longtext, 0, EAS_E_LIMIT);
}

static void test_oversize_response(void **state)
{
	(void)state;
	static char big[4096];
	strcpy(big, OPEN "<Culture>");
	size_t n = strlen(big);
	memset(big + n, ' ', 2000);
	strcpy(big + n + 2000, "en</Culture>" CLOSE);
	fails_step(big, 1024, EAS_E_LIMIT);

	/* body() says stop once over the cap; further pieces get the same answer. */
	eas_autodiscover_options o = base_options("alice@example.com");
	o.max_response_size = 100;
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), 0);
	assert_int_equal(eas_autodiscover_response_body(ad, big, 60), 0);
	assert_int_equal(eas_autodiscover_response_body(ad, big + 60, 60), EAS_E_LIMIT);
	assert_int_equal(eas_autodiscover_response_body(ad, big + 120, 10), EAS_E_LIMIT);
	/* The transport aborted with our code. */
	assert_int_equal(eas_autodiscover_response_end(ad, EAS_E_LIMIT), 0);
	expect_request(ad, "POST", CAND2);
	finish(ad);

	/* Default cap: 64 KiB. */
	static char huge[70 * 1024];
	strcpy(huge, OPEN "<Culture>");
	n = strlen(huge);
	memset(huge + n, ' ', sizeof huge - n - 64);
	strcpy(huge + sizeof huge - 64, "en</Culture>" CLOSE);
	fails_step(huge, 0, EAS_E_LIMIT);
}

/* ---- streaming --------------------------------------------------------------- */

static void test_byte_at_a_time_and_every_split(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("chris@woodgrovebank.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", "https://woodgrovebank.com/autodiscover/autodiscover.xml");
	respond(ad, 200, NULL, spec_settings, 1);
	const eas_autodiscover_result *r = expect_done(ad, SPEC_URL);
	assert_string_equal(r->display_name, "Chris Gray");
	assert_string_equal(r->cert_enroll_data, "CertEnrollTemplate");
	finish(ad);

	size_t len = strlen(spec_settings);
	for (size_t k = 0; k <= len; k++) {
		o = base_options("chris@woodgrovebank.com");
		ad = make(&o);
		expect_request(ad, "POST", "https://woodgrovebank.com/autodiscover/autodiscover.xml");
		assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), 0);
		assert_int_equal(eas_autodiscover_response_body(ad, spec_settings, k), 0);
		assert_int_equal(eas_autodiscover_response_body(ad, spec_settings + k, len - k), 0);
		assert_int_equal(eas_autodiscover_response_end(ad, 0), 0);
		r = expect_done(ad, SPEC_URL);
		assert_string_equal(r->culture, "en:us");
		finish(ad);
	}
}

static void test_disconnect_mid_body_and_cancel(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), 0);
	assert_int_equal(eas_autodiscover_response_body(ad, simple_settings, 40), 0);
	assert_int_equal(eas_autodiscover_response_end(ad, EAS_E_IO), 0);
	expect_request(ad, "POST", CAND2);
	assert_int_equal(eas_autodiscover_response_end(ad, EAS_E_CANCELLED), 0);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_CANCELLED);
	assert_string_equal(a.url, CAND2);
	finish(ad);
}

/* ---- through a transport ----------------------------------------------------- */

static void test_through_scripted_transport(void **state)
{
	(void)state;
	eas_autodiscover_options o = base_options("alice@example.com");
	eas_autodiscover *ad = make(&o);
	scripted_transport *st = scripted_transport_new();
	eas_transport *t = scripted_transport_base(st);
	scripted_transport_push_error(st, EAS_E_TLS);
	static const char *const redirect_hdrs[] = { "Location",
		"https://cas.example.com/autodiscover/autodiscover.xml", NULL };
	scripted_response r302 = SCRIPTED_RESPONSE_INIT;
	r302.status = 302;
	r302.headers = redirect_hdrs;
	scripted_transport_push(st, &r302);
	static const size_t chunks[] = { 7, 1, 13 };
	scripted_response ok = SCRIPTED_RESPONSE_INIT;
	ok.body = simple_settings;
	ok.body_len = strlen(simple_settings);
	ok.chunks = chunks;
	ok.chunk_count = 3;
	scripted_transport_push(st, &ok);

	eas_http_response_handler h;
	eas_autodiscover_response_handler(&h, ad);
	eas_autodiscover_action a;
	int rounds = 0;
	for (;;) {
		assert_int_equal(eas_autodiscover_next(ad, &a), 0);
		if (a.type != EAS_AUTODISCOVER_SEND_REQUEST)
			break;
		eas_http_request_id id;
		assert_int_equal(t->submit(&id, t, &a.request, &h), 0);
		scripted_transport_run(st);
		assert_true(++rounds < 10);
	}
	assert_int_equal(a.type, EAS_AUTODISCOVER_DONE);
	assert_string_equal(a.result->url, SIMPLE_URL);
	assert_int_equal(scripted_transport_request_count(st), 3);
	const scripted_request *req = scripted_transport_request(st, 0);
	assert_string_equal(req->method, "POST");
	assert_string_equal(req->url, CAND1);
	assert_int_equal(req->body_len, strlen(expected_body_alice));
	assert_memory_equal(req->body, expected_body_alice, req->body_len);
	assert_string_equal(scripted_request_header(req, "content-type"), "text/xml");
	req = scripted_transport_request(st, 2);
	assert_string_equal(req->url, "https://cas.example.com/autodiscover/autodiscover.xml");
	t->destroy(t);
	scripted_transport_free(st);
	finish(ad);
}

/* ---- API misuse -------------------------------------------------------------- */

static void test_invalid_arguments_and_states(void **state)
{
	(void)state;
	eas_autodiscover *ad = (eas_autodiscover *)1;
	eas_autodiscover_options o = base_options("alice@example.com");
	assert_int_equal(eas_autodiscover_new(NULL, &o), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_new(&ad, NULL), EAS_E_INVALID);
	assert_null(ad);
	static const char *const bad_emails[] = {
		"alice", "@example.com", "alice@", "alice@exa mple.com", "alice@-x.com", "alice@x..com",
		"alice@[192.0.2.1]", "alice@ex\xc3\xa4mple.com", "al\nice@example.com", "alice@example.com.",
	};
	for (size_t i = 0; i < sizeof bad_emails / sizeof *bad_emails; i++) {
		o = base_options(bad_emails[i]);
		assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	}
	o = base_options("alice@example.com");
	o.version = 99;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.username = "a:b";
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.password = NULL;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.auth = EAS_AUTODISCOVER_AUTH_BEARER;
	o.bearer_token = "has space";
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o.bearer_token = NULL;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.auth = (eas_autodiscover_auth)7;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.url = "http://ad.example.com/autodiscover/autodiscover.xml";
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o.url = "ftp://ad.example.com/";
	o.allow_plain_http = 1;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.max_redirects = 101;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	o = base_options("alice@example.com");
	o.steps = 1u << 9;
	assert_int_equal(eas_autodiscover_new(&ad, &o), EAS_E_INVALID);
	assert_int_equal(tm.live_blocks, 0);

	o = base_options("alice@example.com");
	ad = make(&o);
	eas_autodiscover_action a;
	assert_int_equal(eas_autodiscover_next(NULL, &a), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_next(ad, NULL), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_response_body(ad, "x", 1), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_response_end(ad, 0), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_srv_result(ad, NULL, 0), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_confirm(ad, 1), EAS_E_STATE);
	expect_request(ad, "POST", CAND1);
	assert_int_equal(eas_autodiscover_response_body(ad, "x", 1), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_response_end(ad, 0), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_response_begin(ad, 99, NULL, 0), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 3), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_response_end(ad, 5), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), 0);
	assert_int_equal(eas_autodiscover_response_begin(ad, 200, NULL, 0), EAS_E_STATE);
	assert_int_equal(eas_autodiscover_response_body(ad, NULL, 1), EAS_E_INVALID);
	assert_int_equal(eas_autodiscover_response_body(ad, NULL, 0), 0);
	eas_autodiscover_free(ad);
	eas_autodiscover_free(NULL);
	assert_int_equal(tm.live_blocks, 0);
	assert_int_equal(eas_autodiscover_attempts(NULL, NULL), 0);
}

/* ---- the parser alone -------------------------------------------------------- */

static void test_parser_and_body_writer(void **state)
{
	(void)state;
	eas_mem m = testmem_init(&tm, -1);
	char *body;
	size_t len;
	assert_int_equal(eas__ad_request_body(&body, &len, &m, "o'<&>\"@example.com"), 0);
	assert_non_null(strstr(body, "<EMailAddress>o&apos;&lt;&amp;&gt;&quot;@example.com</EMailAddress>"));
	assert_int_equal(len, strlen(body));
	m.free_fn(body, m.user_data);

	eas__ad_parser *p;
	assert_int_equal(eas__ad_parser_new(&p, &m, 0), 0);
	assert_int_equal(eas__ad_parser_feed(p, spec_settings, strlen(spec_settings)), 0);
	assert_int_equal(eas__ad_parser_finish(p), 0);
	assert_null(eas__ad_parser_error(p));
	eas__ad_response *r = eas__ad_parser_response(p);
	assert_int_equal(r->autodiscover, 1);
	assert_int_equal(r->has_settings, 1);
	assert_string_equal(r->mobilesync_url, SPEC_URL);
	assert_int_equal(eas__ad_parser_finish(p), EAS_E_STATE);
	assert_int_equal(eas__ad_parser_feed(p, "x", 1), EAS_E_STATE);
	eas__ad_parser_free(p);

	assert_int_equal(eas__ad_parser_new(&p, &m, 0), 0);
	assert_int_equal(eas__ad_parser_feed(p, billion_laughs, strlen(billion_laughs)), EAS_E_MALFORMED);
	assert_non_null(strstr(eas__ad_parser_error(p), "document type"));
	eas__ad_parser_free(p);
	assert_int_equal(tm.live_blocks, 0);
}

/* ---- failing allocations ----------------------------------------------------- */

/*
 * A long scenario through every allocating path: a transport error, a 302,
 * an address redirect fed in pieces, a TLS error, a malformed answer, the
 * probe and its confirmation, SRV, and the final answer in pieces.
 */
static void answer_by_url(eas_autodiscover *ad, const char *url)
{
	static const char *const h302[] = { "Location", "https://cas.example.com/autodiscover/autodiscover.xml", NULL };
	static const char *const hprobe[] = { "Location", "https://probe.other.example/autodiscover/autodiscover.xml",
					      NULL };
	if (strcmp(url, CAND1) == 0)
		transport_error(ad, EAS_E_IO);
	else if (strcmp(url, CAND2) == 0)
		respond(ad, 302, h302, "moved", 0);
	else if (strstr(url, "//cas.example.com/"))
		respond(ad, 200, NULL, OPEN "<Action><Redirect>bob@other.example</Redirect></Action>" CLOSE, 3);
	else if (strstr(url, "//other.example/"))
		transport_error(ad, EAS_E_TLS);
	else if (strstr(url, "https://autodiscover.other.example/"))
		respond(ad, 200, NULL, "<html><p>parked</p>", 3);
	else if (strstr(url, "http://autodiscover.other.example/"))
		respond(ad, 302, hprobe, NULL, 0);
	else if (strstr(url, "//probe.other.example/"))
		respond(ad, 404, NULL, "gone", 0);
	else if (strstr(url, "//srv1.other.example/"))
		respond(ad, 200, NULL, simple_settings, 5);
	else
		fail_msg("unexpected request to %s", url);
}

/* Returns 1 when the scenario completed, 0 when it ended in EAS_E_NOMEM. */
static int scenario(long fail_at)
{
	eas_autodiscover_options o = base_options("alice@example.com");
	tm_hooks = testmem_init(&tm, fail_at);
	eas_autodiscover *ad = NULL;
	int rc = eas_autodiscover_new(&ad, &o);
	if (rc) {
		assert_int_equal(rc, EAS_E_NOMEM);
		assert_null(ad);
		assert_int_equal(tm.live_blocks, 0);
		return 0;
	}
	int done = 0;
	eas_autodiscover_action a;
	for (int guard = 0;; guard++) {
		assert_true(guard < 50);
		assert_int_equal(eas_autodiscover_next(ad, &a), 0);
		if (a.type == EAS_AUTODISCOVER_DONE) {
			assert_string_equal(a.result->url, SIMPLE_URL);
			assert_string_equal(a.result->email, "bob@other.example");
			assert_string_equal(a.result->autodiscover_url,
					    "https://srv1.other.example/autodiscover/autodiscover.xml");
			assert_int_equal(a.result->redirects, 3);
			assert_int_equal(a.result->confirmed, 1);
			done = 1;
			break;
		}
		if (a.type == EAS_AUTODISCOVER_FAILED) {
			if (a.error != EAS_E_NOMEM)
				fail_msg("fail_at %ld: unexpected failure %d: %s", fail_at, a.error, a.message);
			break;
		}
		if (a.type == EAS_AUTODISCOVER_CONFIRM) {
			assert_int_equal(eas_autodiscover_confirm(ad, 1), 0);
		} else if (a.type == EAS_AUTODISCOVER_NEED_SRV) {
			eas_autodiscover_srv recs[] = { { "srv2.other.example", 443, 1, 0 },
							{ "srv1.other.example", 443, 0, 0 } };
			rc = eas_autodiscover_srv_result(ad, recs, 2);
			assert_true(rc == 0 || rc == EAS_E_NOMEM);
		} else {
			assert_int_equal(a.type, EAS_AUTODISCOVER_SEND_REQUEST);
			char url[128];
			snprintf(url, sizeof url, "%s", a.request.url);
			answer_by_url(ad, url);
		}
	}
	eas_autodiscover_free(ad);
	if (tm.live_blocks != 0)
		fail_msg("fail_at %ld: %ld blocks leaked", fail_at, tm.live_blocks);
	return done;
}

static void test_every_allocation_failing(void **state)
{
	(void)state;
	assert_int_equal(scenario(-1), 1);
	long total = tm.calls;
	lenient = 1;
	assert_true(total > 20);
	long failures = 0;
	for (long n = 0; n < total; n++)
		failures += !scenario(n);
	print_message("%ld allocations in the scenario, %ld ended in EAS_E_NOMEM\n", total, failures);
	/* Most allocations are on paths that must fail cleanly. */
	assert_true(failures > total / 2);
	/* Past the last allocation the scenario completes again. */
	assert_int_equal(scenario(total), 1);
	lenient = 0;
}

/* ---- credentials never leak -------------------------------------------------- */

static void no_secret(const char *s, const char *what)
{
	if (!s)
		return;
	if (strstr(s, PASSWORD))
		fail_msg("the password appears in %s: %s", what, s);
	if (strstr(s, "YWxpY2VAZXhhbXBsZS5jb206czNjcmV0IVB3"))
		fail_msg("the Basic credentials appear in %s: %s", what, s);
}

static void check_action(const eas_autodiscover_action *a)
{
	no_secret(a->request.url, "the request URL");
	for (size_t i = 0; i < a->request.header_count; i++)
		if (strcmp(a->request.headers[i].name, "Authorization") != 0)
			no_secret(a->request.headers[i].value, "a header");
	if (a->request.body) {
		char tmp[1024];
		size_t n = a->request.body_length < sizeof tmp - 1 ? (size_t)a->request.body_length : sizeof tmp - 1;
		memcpy(tmp, a->request.body, n);
		tmp[n] = 0;
		no_secret(tmp, "the body");
	}
	no_secret(a->srv_name, "srv_name");
	no_secret(a->url, "url");
	no_secret(a->message, "the message");
	no_secret(a->auth_challenge, "the challenge");
}

static void check_attempts(eas_autodiscover *ad)
{
	const eas_autodiscover_attempt *at;
	size_t n = eas_autodiscover_attempts(ad, &at);
	for (size_t i = 0; i < n; i++) {
		no_secret(at[i].url, "an attempt URL");
		no_secret(at[i].detail, "an attempt detail");
	}
}

static void test_password_never_leaks(void **state)
{
	(void)state;
	/* A hostile server echoes the password back in every text it controls. */
	static const char echo_error[] = OPEN "<Action><Error><Status>2</Status><Message>bad password "
		PASSWORD " for alice@example.com:" PASSWORD "</Message></Error></Action>" CLOSE;
	static const char echo_redirect[] = OPEN "<Action><Redirect>" PASSWORD "</Redirect></Action>" CLOSE;
	for (int variant = 0; variant < 5; variant++) {
		eas_autodiscover_options o = base_options("alice@example.com");
		o.continue_after_auth_failure = variant == 3;
		eas_autodiscover *ad = make(&o);
		eas_autodiscover_action a;
		int guard = 0;
		for (;;) {
			assert_int_equal(eas_autodiscover_next(ad, &a), 0);
			check_action(&a);
			check_attempts(ad);
			if (a.type == EAS_AUTODISCOVER_DONE || a.type == EAS_AUTODISCOVER_FAILED)
				break;
			assert_true(++guard < 20);
			if (a.type == EAS_AUTODISCOVER_CONFIRM) {
				eas_autodiscover_confirm(ad, 1);
				continue;
			}
			if (a.type == EAS_AUTODISCOVER_NEED_SRV) {
				eas_autodiscover_srv rec = { "srv.example.com", 443, 0, 0 };
				eas_autodiscover_srv_result(ad, &rec, 1);
				continue;
			}
			const char *h401[] = { "WWW-Authenticate", "Basic realm=\"" PASSWORD "\"", NULL };
			const char *h302[] = { "Location", "http://x.example.com/" PASSWORD, NULL };
			switch (variant) {
			case 0: respond_xml(ad, echo_error); break;
			case 1: respond(ad, 401, h401, PASSWORD, 0); break;
			case 2: respond_xml(ad, echo_redirect); break;
			case 3: respond(ad, 401, h401, NULL, 0); break;
			default: respond(ad, 302, h302, PASSWORD, 0); break;
			}
		}
		assert_int_equal(a.type, EAS_AUTODISCOVER_FAILED);
		if (variant == 0)
			assert_non_null(strstr(a.message, "[redacted]"));
		finish(ad);
	}
}

static void test_redaction_withholds_what_it_cannot_cut(void **state)
{
	(void)state;
	/* "[redacted]" followed by the server's "abc" would spell the password again. */
	eas_autodiscover_options o = base_options("alice@example.com");
	o.password = "]abc";
	eas_autodiscover *ad = make(&o);
	expect_request(ad, "POST", CAND1);
	respond_xml(ad, OPEN "<Action><Error><Status>2</Status><Message>]abcabc</Message></Error></Action>" CLOSE);
	eas_autodiscover_action a = expect_failed(ad, EAS_E_PROTOCOL);
	assert_null(strstr(a.message, "]abc"));
	assert_non_null(strstr(a.message, "withheld"));
	finish(ad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_candidate_exact_request),
		cmocka_unit_test(test_spec_settings_response),
		cmocka_unit_test(test_connection_error_then_second_candidate),
		cmocka_unit_test(test_probe_redirect_to_https),
		cmocka_unit_test(test_probe_redirect_to_http_refused),
		cmocka_unit_test(test_probe_not_a_redirect_and_declined),
		cmocka_unit_test(test_srv_step),
		cmocka_unit_test(test_every_step_in_order),
		cmocka_unit_test(test_every_redirect_status),
		cmocka_unit_test(test_srv_limits),
		cmocka_unit_test(test_steps_mask_and_fixed_url),
		cmocka_unit_test(test_address_redirect),
		cmocka_unit_test(test_url_redirects),
		cmocka_unit_test(test_redirect_loops),
		cmocka_unit_test(test_too_many_redirects),
		cmocka_unit_test(test_error_codes),
		cmocka_unit_test(test_http_401),
		cmocka_unit_test(test_malformed_and_foreign_xml),
		cmocka_unit_test(test_hostile_xml),
		cmocka_unit_test(test_oversize_response),
		cmocka_unit_test(test_byte_at_a_time_and_every_split),
		cmocka_unit_test(test_disconnect_mid_body_and_cancel),
		cmocka_unit_test(test_through_scripted_transport),
		cmocka_unit_test(test_invalid_arguments_and_states),
		cmocka_unit_test(test_parser_and_body_writer),
		cmocka_unit_test(test_every_allocation_failing),
		cmocka_unit_test(test_password_never_leaks),
		cmocka_unit_test(test_redaction_withholds_what_it_cannot_cut),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
