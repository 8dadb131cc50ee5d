/* Session driver for tests: a session over the scripted transport and a fake server. */
#include "session_driver.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "xmldoc.h"

#define PROV_NS "<Provision xmlns=\"Provision:\">"

static const char default_commands[] =
	"Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,FolderCreate,FolderDelete,"
	"FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,Settings,Ping,ItemOperations,"
	"Provision,ResolveRecipients,ValidateCert,Find";

static const char policy_wbxml_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status><PolicyKey>" SD_TEMP_KEY
	"</PolicyKey><Data><EASProvisionDoc><DevicePasswordEnabled>1</DevicePasswordEnabled>"
	"<MinDevicePasswordLength>4</MinDevicePasswordLength></EASProvisionDoc></Data></Policy></Policies>"
	"</Provision>";

/* 2.5: the policy is a wap-provisioningdoc carried as text. */
static const char policy_xml_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-WAP-Provisioning-XML</PolicyType><Status>1</Status><PolicyKey>" SD_TEMP_KEY
	"</PolicyKey><Data>&lt;wap-provisioningdoc&gt;&lt;characteristic type=\"SecurityPolicy\"&gt;"
	"&lt;parm name=\"4131\" value=\"0\"/&gt;&lt;/characteristic&gt;&lt;/wap-provisioningdoc&gt;</Data>"
	"</Policy></Policies></Provision>";

static const char no_policy_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>2</Status></Policy></Policies></Provision>";

static const char final_response[] = PROV_NS "<Status>1</Status><Policies><Policy>"
	"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status><PolicyKey>" SD_FINAL_KEY
	"</PolicyKey></Policy></Policies></Provision>";

static const char wipe_response[] = PROV_NS "<Status>1</Status><RemoteWipe/></Provision>";
static const char account_wipe_response[] = PROV_NS "<Status>1</Status><AccountOnlyRemoteWipe/></Provision>";
static const char wipe_ack_response[] = PROV_NS "<Status>1</Status></Provision>";

/* ---- the fake platform ------------------------------------------------------------ */

static uint64_t fake_monotonic(void *ud)
{
	return ((sd *)ud)->now_ms;
}

static int64_t fake_wall(void *ud)
{
	(void)ud;
	return 1767225600; /* 2026-01-01 */
}

static int fake_random(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 0x42, len);
	return 0;
}

static void fake_log(eas_log_level level, const char *msg, void *ud)
{
	sd *d = ud;
	int n = snprintf(d->log + d->log_len, sizeof d->log - d->log_len, "%d %s\n", (int)level, msg);
	if (n > 0)
		d->log_len += (size_t)n < sizeof d->log - d->log_len ? (size_t)n : sizeof d->log - d->log_len - 1;
}

/* ---- creation ------------------------------------------------------------------ */

sd *sd_new(const eas_account *account, const eas_session_options *options)
{
	sd *d = calloc(1, sizeof *d);
	assert_non_null(d);
	d->now_ms = 1000;
	d->versions = "2.5,12.0,12.1,14.0,14.1";
	d->commands = default_commands;
	d->chunk = 5;
	d->plat = (eas_platform){ EAS_PLATFORM_VERSION, fake_monotonic, fake_wall, fake_random, fake_log, d };
	d->st = scripted_transport_new();
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	if (options)
		o = *options;
	o.platform = &d->plat;
	assert_int_equal(eas_session_new(&d->s, account, &o), 0);
	return d;
}

void sd_free(sd *d)
{
	if (!d)
		return;
	eas_session_free(d->s);
	scripted_transport_free(d->st);
	free(d);
}

int sd_token_fn(char *buf, size_t size, int refresh, void *user_data)
{
	sd *d = user_data;
	d->token_calls++;
	d->token_refreshes += refresh != 0;
	snprintf(buf, size, "tok-%u", d->token_calls);
	return 0;
}

/* ---- the fake server -------------------------------------------------------------- */

const uint8_t *sd_wbxml(const char *xml, size_t *len)
{
	static uint8_t out[8192];
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	assert_true(b.len <= sizeof out);
	memcpy(out, b.data, b.len);
	*len = b.len;
	eas_buf_free(&b);
	return out;
}

static int has_text(const scripted_request *r, const char *needle)
{
	if (!r->body_len)
		return 0;
	char *xml = xmldoc_from_wbxml(r->body, r->body_len);
	int found = strstr(xml, needle) != NULL;
	free(xml);
	return found;
}

/* The request's command, from its query in either form (the companion server's decoder). */
static int command_of(const scripted_request *r)
{
	const char *q = strchr(r->url, '?');
	assert_non_null(q);
	eas_http_query hq = EAS_HTTP_QUERY_INIT;
	assert_int_equal(eas_http_query_decode(&hq, q + 1, strlen(q + 1), NULL), 0);
	int cmd = (int)hq.command;
	eas_http_query_clear(&hq);
	return cmd;
}

static void push_answer(sd *d, const sd_answer *a)
{
	scripted_response r = SCRIPTED_RESPONSE_INIT;
	const char *hdrs[3] = { a->header_name, a->header_value, NULL };
	size_t chunks[1] = { d->chunk };
	r.status = a->status;
	r.headers = a->header_name ? hdrs : NULL;
	r.body = a->body;
	r.body_len = a->body_len;
	r.chunks = chunks;
	r.chunk_count = 1;
	r.error = a->error;
	r.error_after = a->error ? a->error_after : -1;
	scripted_transport_push(d->st, &r);
}

static void answer_request(sd *d, const scripted_request *req)
{
	sd_answer a;
	memset(&a, 0, sizeof a);
	if (d->unauthorized) {
		d->unauthorized--;
		a.status = 401;
		a.header_name = "WWW-Authenticate";
		a.header_value = "Bearer realm=\"test\"";
		push_answer(d, &a);
		return;
	}
	a.status = 200;
	if (strcmp(req->method, "OPTIONS") == 0) {
		d->options++;
		const char *hdrs[] = { "MS-ASProtocolVersions", d->versions, "MS-ASProtocolCommands", d->commands,
				       "MS-Server-ActiveSync", "14.3", NULL };
		scripted_response r = SCRIPTED_RESPONSE_INIT;
		r.headers = hdrs;
		scripted_transport_push(d->st, &r);
		return;
	}
	const char *xml = NULL;
	if (command_of(req) == EAS_CMD_PROVISION) {
		if (has_text(req, "RemoteWipe><Status>")) {
			d->wipe_acks++;
			xml = wipe_ack_response;
		} else if (has_text(req, "<PolicyKey>")) {
			d->provision2++;
			xml = final_response;
		} else {
			d->provision1++;
			if (d->wipe)
				xml = d->wipe == 2 ? account_wipe_response : wipe_response;
			else if (d->no_policy)
				xml = no_policy_response;
			else if (has_text(req, "MS-WAP-Provisioning-XML"))
				xml = policy_xml_response;
			else
				xml = policy_wbxml_response;
		}
		a.body = sd_wbxml(xml, &a.body_len);
		push_answer(d, &a);
		return;
	}
	unsigned n = d->commands_seen++;
	if (d->answer)
		d->answer(d, req, n, &a);
	push_answer(d, &a);
}

/*
 * eas_session_run's pump: answers the request in flight, delivers it, or,
 * with nothing in flight, lets the fake time pass (a backoff).  Time moves
 * only then, so the waits are exact; a session that never stops is caught
 * by the count of calls.
 */
static int pump(void *ctx, uint32_t timeout_ms)
{
	sd *d = ctx;
	if (++d->pump_calls > 100000)
		fail_msg("the session does not stop (100000 transport rounds)");
	if (scripted_transport_pending(d->st) == 0) {
		d->now_ms += timeout_ms;
		d->waited_ms += timeout_ms;
		return 0;
	}
	const scripted_request *last = scripted_transport_last_request(d->st);
	if (last && !last->completed && last->script_index < 0 && scripted_transport_script_left(d->st) == 0)
		answer_request(d, last);
	scripted_transport_run(d->st);
	return 0;
}

/* ---- running ---------------------------------------------------------------------- */

static void record(sd *d, const eas_session_event *ev)
{
	assert_true(d->event_count < SD_MAX_EVENTS);
	sd_event *e = &d->events[d->event_count++];
	e->ev = *ev;
	snprintf(e->message, sizeof e->message, "%s", ev->message ? ev->message : "");
	e->ev.message = e->message;
	if (ev->url) {
		snprintf(e->url, sizeof e->url, "%s", ev->url);
		e->ev.url = e->url;
	}
	if (ev->policy_key) {
		snprintf(e->policy_key, sizeof e->policy_key, "%s", ev->policy_key);
		e->ev.policy_key = e->policy_key;
	}
	e->ev.policy = NULL;
	if (getenv("SESSION_TEST_VERBOSE"))
		fprintf(stderr, "event %d error %d http %d status %d: %s\n", ev->type, ev->error, ev->http_status,
			ev->status, e->message);
}

size_t sd_run(sd *d, uint32_t max_ms)
{
	size_t before = d->event_count;
	for (int round = 0; round < 16; round++) {
		assert_int_equal(eas_session_run(d->s, scripted_transport_base(d->st), pump, d, max_ms), 0);
		int answered = 0;
		eas_session_event ev;
		while (eas_session_next_event(d->s, &ev) == 1) {
			record(d, &ev);
			if (d->manual)
				continue;
			if (ev.type == EAS_EVENT_POLICY) {
				assert_non_null(ev.policy);
				assert_int_equal(eas_session_accept_policy(d->s, 1), 0);
				answered = 1;
			} else if (ev.type == EAS_EVENT_WIPE) {
				assert_int_equal(eas_session_ack_wipe(d->s), 0);
				answered = 1;
			}
		}
		if (!answered)
			return d->event_count - before;
	}
	fail_msg("the session kept asking questions");
	return 0;
}

size_t sd_connect(sd *d)
{
	assert_int_equal(eas_session_connect(d->s), 0);
	return sd_run(d, 600000);
}

const sd_event *sd_event_at(const sd *d, size_t i)
{
	return i < d->event_count ? &d->events[i] : NULL;
}

const sd_event *sd_last_event(const sd *d)
{
	assert_true(d->event_count > 0);
	return &d->events[d->event_count - 1];
}

size_t sd_count(const sd *d, eas_event_type type)
{
	size_t n = 0;
	for (size_t i = 0; i < d->event_count; i++)
		n += d->events[i].ev.type == type;
	return n;
}

size_t sd_request_count(const sd *d)
{
	return scripted_transport_request_count(d->st);
}

const scripted_request *sd_request(const sd *d, size_t n)
{
	const scripted_request *r = scripted_transport_request(d->st, n);
	if (!r)
		fail_msg("request %zu was never sent (%zu sent)", n, sd_request_count(d));
	return r;
}

static void hex_dump(const char *what, const unsigned char *p, size_t n)
{
	fprintf(stderr, "%s (%zu bytes):", what, n);
	for (size_t i = 0; i < n; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", p[i]);
	fprintf(stderr, "\n");
}

void sd_expect_request(const sd *d, size_t n, const char *method, const char *url, const char *headers,
		       const void *body, size_t body_len)
{
	const scripted_request *r = sd_request(d, n);
	char got[4096];
	size_t o = 0;
	got[0] = '\0';
	for (size_t i = 0; i < r->header_count; i++) {
		int k = snprintf(got + o, sizeof got - o, "%s: %s\n", r->headers[i].name, r->headers[i].value);
		assert_true(k > 0 && (size_t)k < sizeof got - o);
		o += (size_t)k;
	}
	int same_body = r->body_len == body_len && (body_len == 0 || memcmp(r->body, body, body_len) == 0);
	if (strcmp(r->method, method) != 0 || strcmp(r->url, url) != 0 || strcmp(got, headers) != 0 || !same_body) {
		fprintf(stderr, "request %zu:\n  method %s (expected %s)\n  url %s\n  expected %s\n", n, r->method,
			method, r->url, url);
		fprintf(stderr, "headers:\n%s-- expected:\n%s", got, headers);
		hex_dump("body", r->body, r->body_len);
		hex_dump("expected body", body, body_len);
		fail_msg("request %zu differs", n);
	}
	/* An empty POST body is still a body; OPTIONS has none. */
	assert_int_equal(r->body != NULL, strcmp(method, "OPTIONS") != 0);
}

static int contains(const char *hay, size_t hay_len, const void *needle, size_t n)
{
	if (n == 0 || hay_len < n)
		return 0;
	for (size_t i = 0; i + n <= hay_len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

void sd_assert_absent(const sd *d, const void *needle, size_t n)
{
	if (contains(d->log, d->log_len, needle, n))
		fail_msg("a secret (%zu bytes) is in the log", n);
	for (size_t i = 0; i < d->event_count; i++) {
		const char *m = d->events[i].message;
		if (contains(m, strlen(m), needle, n))
			fail_msg("a secret (%zu bytes) is in event %zu: %s", n, i, m);
		const char *u = d->events[i].url;
		if (contains(u, strlen(u), needle, n))
			fail_msg("a secret (%zu bytes) is in event %zu's url", n, i);
	}
}
