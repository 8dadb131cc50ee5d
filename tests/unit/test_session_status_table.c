/*
 * What the client session does with every answer a server can give to a
 * command: one table, one row per HTTP status, per common EAS Status of
 * 14.0+ ([MS-ASCMD] 2.2.2, 101-177; 157-159 are unassigned) and per
 * malformed, truncated or broken response.  Each row injects its answer
 * into an eas_session_send FolderSync of a connected 14.1 session (over the
 * scripted transport, bodies in 5-byte pieces), lets the session run, and
 * checks everything that follows against the row: the last event and its
 * error / status, the words of its message, how many times the command was
 * sent, whether it provisioned again, wiped, was redirected or asked for
 * credentials, and how long it backed off.
 *
 * By default a row's answer is injected once and the server answers
 * normally afterwards (a retry then succeeds); rows marked ALWAYS inject it
 * every time, to show that each retrying action is bounded.
 *
 * The expected actions (see docs/client.md, "What the session does with
 * each answer"):
 *   - 111, 114, 133, 162, 169 (transient), HTTP 500, 502, 503, 504, 429 and
 *     a network failure: resend after a backoff (Retry-After as its floor),
 *     at most max_retries times, then EAS_E_IO;
 *   - 141-145 and 165, HTTP 449: Provision (with DeviceInformation in
 *     14.1+), then resend the command once; asked again: EAS_E_PROTOCOL;
 *   - 140: Provision, which brings the wipe (EAS_EVENT_WIPE, acknowledged);
 *   - HTTP 451 with an https X-MS-Location: EAS_EVENT_REDIRECT, resend there;
 *   - HTTP 401: one token refresh and resend with OAuth2; else
 *     EAS_EVENT_AUTH_FAILED and EAS_E_AUTH;
 *   - every other Status (110 "do not retry" included): data, an
 *     EAS_EVENT_RESPONSE whose message names the Status;
 *   - every other HTTP status: EAS_EVENT_ERROR with a mapped error.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eas/status.h"
#include "session_driver.h"
#include "xmldoc.h"

#define URL "https://mail.example.com/Microsoft-Server-ActiveSync"
#define NEW_URL "https://eu.example.com/Microsoft-Server-ActiveSync"
#define MAX_RETRIES 3u
#define MAX_RESPONSE 4096u

/* Broken bodies. */
enum body_kind {
	BODY_NONE = 0,
	BODY_STATUS,    /* <FolderSync><Status>eas</Status></FolderSync> */
	BODY_GARBAGE,   /* not WBXML at all */
	BODY_CUT,       /* a valid FolderSync response cut in the middle */
	BODY_BAD_TOKEN, /* WBXML with a tag that is on no code page */
	BODY_HUGE,      /* larger than max_response */
	BODY_NAN        /* <Status>abc</Status> */
};

typedef struct row {
	const char *name;
	/* The answer. */
	int http;
	int eas;                  /* EAS Status (BODY_STATUS) */
	enum body_kind body;
	const char *hname, *hvalue; /* one response header, or NULL */
	int error;                /* transport error, or 0 */
	long error_after;         /* with error: body bytes first (-1: before the head) */
	int bearer;               /* OAuth2 account */
	int always;               /* inject every time, not once */
	/* What must follow. */
	eas_event_type last;
	int last_error;           /* EAS_EVENT_ERROR: the error */
	int last_status;          /* the event's EAS status */
	const char *words;        /* in the last event's message (NULL: not checked) */
	unsigned sends;           /* FolderSync requests */
	unsigned provisions;      /* Provision phase-1 requests after connect */
	int wipe, redirect, auth_failed;
	uint32_t wait_min, wait_max; /* backoff waited, in ms */
} row;

/* Expectation shorthands. */
#define RESPONSE(st) EAS_EVENT_RESPONSE, 0, st
#define ERROR(err, st) EAS_EVENT_ERROR, err, st
#define NO_WAIT 0, 0
#define JITTER 500, 2000 /* the first retry: full jitter in [0, 2 s], at least 0.5 s */

/* Common status rows: answered once with 200 and <Status>code</Status>. */
#define DATA(c) { #c, 200, c, BODY_STATUS, NULL, NULL, 0, -1, 0, 0, RESPONSE(c), "status " #c, 1, 0, 0, 0, 0, NO_WAIT }
#define RETRY(c) { #c, 200, c, BODY_STATUS, NULL, NULL, 0, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0, JITTER }
#define PROV(c) { #c, 200, c, BODY_STATUS, NULL, NULL, 0, -1, 0, 0, RESPONSE(1), NULL, 2, 1, 0, 0, 0, NO_WAIT }
#define WIPE(c) { #c, 200, c, BODY_STATUS, NULL, NULL, 0, -1, 0, 0, EAS_EVENT_WIPE, 0, 0, "wipe", 1, 1, 1, 0, 0, NO_WAIT }

/* HTTP rows: a status without a body. */
#define HTTP_ERROR(h, err, w) { "HTTP " #h, h, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, ERROR(err, 0), w, 1, 0, 0, 0, 0, NO_WAIT }
#define HTTP_RETRY(h) { "HTTP " #h, h, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0, JITTER }

static const row table[] = {
	/* ---- every common status code of 14.0+ ---- */
	DATA(101), DATA(102), DATA(103), DATA(104), DATA(105), DATA(106), DATA(107), DATA(108), DATA(109),
	DATA(110), /* ServerError: the specification says not to retry it */
	RETRY(111), /* ServerErrorRetryLater */
	DATA(112), DATA(113),
	RETRY(114), /* MailboxServerOffline */
	DATA(115), DATA(116), DATA(117), DATA(118), DATA(119), DATA(120), DATA(121), DATA(122), DATA(123),
	DATA(124), DATA(125), DATA(126), DATA(127), DATA(128), DATA(129), DATA(130), DATA(131), DATA(132),
	RETRY(133), /* SyncStateLocked */
	DATA(134), DATA(135), DATA(136), DATA(137), DATA(138), DATA(139),
	WIPE(140),
	PROV(141), PROV(142), PROV(143), PROV(144), PROV(145),
	DATA(146), DATA(147), DATA(148), DATA(149), DATA(150), DATA(151), DATA(152), DATA(153), DATA(154),
	DATA(155), DATA(156),
	DATA(160), DATA(161),
	RETRY(162), /* AvailabilityTransientFailure */
	DATA(163), DATA(164),
	PROV(165), /* DeviceInformationRequired: Provision again, with DeviceInformation */
	DATA(166), DATA(167), DATA(168),
	RETRY(169), /* IRM_TransientError */
	DATA(170), DATA(171), DATA(172), DATA(173), DATA(174), DATA(175), DATA(176), DATA(177),

	/* ---- HTTP statuses ---- */
	{ "HTTP 200", 200, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, RESPONSE(0), "FolderSync answered", 1, 0, 0, 0, 0, NO_WAIT },
	{ "HTTP 200 Status 1", 200, 1, BODY_STATUS, NULL, NULL, 0, -1, 0, 0, RESPONSE(1), NULL, 1, 0, 0, 0, 0, NO_WAIT },
	{ "HTTP 204", 204, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, RESPONSE(0), NULL, 1, 0, 0, 0, 0, NO_WAIT },
	{ "HTTP 302", 302, 0, BODY_NONE, "Location", NEW_URL, 0, -1, 0, 0, ERROR(EAS_E_PROTOCOL, 0),
	  "unexpected HTTP status 302", 1, 0, 0, 0, 0, NO_WAIT },
	HTTP_ERROR(400, EAS_E_PROTOCOL, "HTTP 400"),
	{ "HTTP 401 Basic", 401, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_AUTH, 0), "HTTP 401", 1, 0, 0, 0, 1,
	  NO_WAIT },
	{ "HTTP 401 OAuth2", 401, 0, BODY_NONE, NULL, NULL, 0, -1, 1, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0, NO_WAIT },
	HTTP_ERROR(403, EAS_E_AUTH, "HTTP 403"),
	HTTP_ERROR(404, EAS_E_PROTOCOL, "HTTP 404"),
	HTTP_ERROR(405, EAS_E_PROTOCOL, "unexpected HTTP status 405"),
	HTTP_ERROR(413, EAS_E_PROTOCOL, "unexpected HTTP status 413"),
	HTTP_RETRY(429),
	{ "HTTP 449", 449, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, RESPONSE(1), NULL, 2, 1, 0, 0, 0, NO_WAIT },
	{ "HTTP 451 X-MS-Location", 451, 0, BODY_NONE, "X-MS-Location", NEW_URL, 0, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0,
	  1, 0, NO_WAIT },
	{ "HTTP 451 without X-MS-Location", 451, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_PROTOCOL, 0),
	  "Autodiscover", 1, 0, 0, 0, 0, NO_WAIT },
	{ "HTTP 451 to http://", 451, 0, BODY_NONE, "X-MS-Location", "http://eu.example.com/Microsoft-Server-ActiveSync",
	  0, -1, 0, 0, ERROR(EAS_E_PROTOCOL, 0), "plain http", 1, 0, 0, 0, 0, NO_WAIT },
	HTTP_ERROR(456, EAS_E_AUTH, "blocked (HTTP 456)"),
	HTTP_ERROR(457, EAS_E_AUTH, "expired (HTTP 457)"),
	HTTP_RETRY(500),
	HTTP_ERROR(501, EAS_E_UNSUPPORTED, "does not implement FolderSync (HTTP 501)"),
	HTTP_RETRY(502),
	{ "HTTP 503 Retry-After 30", 503, 0, BODY_NONE, "Retry-After", "30", 0, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0,
	  30000, 30000 },
	{ "HTTP 503 Retry-After date", 503, 0, BODY_NONE, "Retry-After", "Thu, 01 Jan 2026 00:01:00 GMT", 0, -1, 0, 0,
	  RESPONSE(1), NULL, 2, 0, 0, 0, 0, 60000, 60000 },
	{ "HTTP 503 bad Retry-After", 503, 0, BODY_NONE, "Retry-After", "soon", 0, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0,
	  0, JITTER },
	HTTP_RETRY(503),
	HTTP_RETRY(504),
	HTTP_ERROR(505, EAS_E_PROTOCOL, "unexpected HTTP status 505"),
	HTTP_ERROR(507, EAS_E_PROTOCOL, "mailbox is full (HTTP 507)"),
	HTTP_ERROR(511, EAS_E_PROTOCOL, "unexpected HTTP status 511"),

	/* ---- malformed, truncated and broken responses ---- */
	{ "garbage body", 200, 0, BODY_GARBAGE, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_MALFORMED, 0), "bad FolderSync response",
	  1, 0, 0, 0, 0, NO_WAIT },
	{ "body cut mid-way", 200, 0, BODY_CUT, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_TRUNCATED, 0), "bad FolderSync response",
	  1, 0, 0, 0, 0, NO_WAIT },
	{ "unknown WBXML token", 200, 0, BODY_BAD_TOKEN, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_UNSUPPORTED, 0),
	  "unknown token 0x3F on code page 7", 1, 0, 0, 0, 0, NO_WAIT },
	{ "Status not a number", 200, 0, BODY_NAN, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_MALFORMED, 0),
	  "Status is not a number", 1, 0, 0, 0, 0, NO_WAIT },
	{ "body over max_response", 200, 0, BODY_HUGE, NULL, NULL, 0, -1, 0, 0, ERROR(EAS_E_LIMIT, 0), "larger than 4096",
	  1, 0, 0, 0, 0, NO_WAIT },
	{ "EAS_E_IO before the head", 0, 0, BODY_NONE, NULL, NULL, EAS_E_IO, -1, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0,
	  JITTER },
	{ "EAS_E_IO mid-body", 200, 1, BODY_STATUS, NULL, NULL, EAS_E_IO, 7, 0, 0, RESPONSE(1), NULL, 2, 0, 0, 0, 0, JITTER },
	{ "EAS_E_TLS before the head", 0, 0, BODY_NONE, NULL, NULL, EAS_E_TLS, -1, 0, 0, ERROR(EAS_E_TLS, 0),
	  "FolderSync request failed: TLS error", 1, 0, 0, 0, 0, NO_WAIT },
	{ "EAS_E_TLS mid-body", 200, 1, BODY_STATUS, NULL, NULL, EAS_E_TLS, 7, 0, 0, ERROR(EAS_E_TLS, 0),
	  "FolderSync request failed", 1, 0, 0, 0, 0, NO_WAIT },
	{ "EAS_E_MALFORMED (bad HTTP)", 0, 0, BODY_NONE, NULL, NULL, EAS_E_MALFORMED, -1, 0, 0, ERROR(EAS_E_MALFORMED, 0),
	  "FolderSync request failed", 1, 0, 0, 0, 0, NO_WAIT },
	{ "EAS_E_LIMIT (transport cap)", 0, 0, BODY_NONE, NULL, NULL, EAS_E_LIMIT, -1, 0, 0, ERROR(EAS_E_LIMIT, 0),
	  "FolderSync request failed", 1, 0, 0, 0, 0, NO_WAIT },

	/* ---- bounds: the same answer every time ---- */
	{ "111 always", 200, 111, BODY_STATUS, NULL, NULL, 0, -1, 0, 1, ERROR(EAS_E_IO, 111), "giving up after 3 retries",
	  1 + MAX_RETRIES, 0, 0, 0, 0, 3 * 500, 2000 + 4000 + 8000 },
	{ "503 always", 503, 0, BODY_NONE, "Retry-After", "10", 0, -1, 0, 1, ERROR(EAS_E_IO, 0), "HTTP 503; giving up",
	  1 + MAX_RETRIES, 0, 0, 0, 0, 30000, 30000 },
	{ "EAS_E_IO always", 0, 0, BODY_NONE, NULL, NULL, EAS_E_IO, -1, 0, 1, ERROR(EAS_E_IO, 0), "giving up after 3",
	  1 + MAX_RETRIES, 0, 0, 0, 0, 3 * 500, 2000 + 4000 + 8000 },
	{ "142 always", 200, 142, BODY_STATUS, NULL, NULL, 0, -1, 0, 1, ERROR(EAS_E_PROTOCOL, 0),
	  "still asks for provisioning", 2, 1, 0, 0, 0, NO_WAIT },
	{ "449 always", 449, 0, BODY_NONE, NULL, NULL, 0, -1, 0, 1, ERROR(EAS_E_PROTOCOL, 0), "still asks for provisioning",
	  2, 1, 0, 0, 0, NO_WAIT },
	{ "451 always", 451, 0, BODY_NONE, "X-MS-Location", NEW_URL, 0, -1, 0, 1, ERROR(EAS_E_PROTOCOL, 0), "redirects",
	  2, 0, 0, 1, 0, NO_WAIT },
	{ "401 OAuth2 always", 401, 0, BODY_NONE, NULL, NULL, 0, -1, 1, 1, ERROR(EAS_E_AUTH, 0), "HTTP 401", 2, 0, 0, 0, 1,
	  NO_WAIT },
};

/* ---- the server's answers ------------------------------------------------------------- */

static const char ok_doc[] = "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey>"
			     "<Changes><Count>0</Count></Changes></FolderSync>";

static uint8_t body_buf[MAX_RESPONSE * 2];

static size_t make_body(const row *r)
{
	char xml[256];
	size_t n = 0;
	const uint8_t *w;
	switch (r->body) {
	case BODY_NONE:
		return 0;
	case BODY_STATUS:
		snprintf(xml, sizeof xml, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>%d</Status></FolderSync>", r->eas);
		w = sd_wbxml(xml, &n);
		memcpy(body_buf, w, n);
		return n;
	case BODY_NAN:
		w = sd_wbxml("<FolderSync xmlns=\"FolderHierarchy:\"><Status>abc</Status></FolderSync>", &n);
		memcpy(body_buf, w, n);
		return n;
	case BODY_GARBAGE:
		memcpy(body_buf, "<html>Service Unavailable</html>", 32);
		return 32;
	case BODY_CUT:
		w = sd_wbxml(ok_doc, &n);
		memcpy(body_buf, w, n / 2);
		return n / 2;
	case BODY_BAD_TOKEN: {
		/* <FolderSync> then tag 0x3F of code page 7, which has no such tag. */
		static const uint8_t bad[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x7f, 0x03, '1', 0x00, 0x01, 0x01 };
		memcpy(body_buf, bad, sizeof bad);
		return sizeof bad;
	}
	case BODY_HUGE: {
		/* A valid document with a long opaque string: only its size is wrong. */
		static const uint8_t head[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03 };
		memcpy(body_buf, head, sizeof head);
		memset(body_buf + sizeof head, 'x', MAX_RESPONSE);
		n = sizeof head + MAX_RESPONSE;
		body_buf[n++] = 0x00;
		body_buf[n++] = 0x01;
		body_buf[n++] = 0x01;
		return n;
	}
	}
	return 0;
}

static void answer(sd *d, const scripted_request *req, unsigned n, sd_answer *out)
{
	(void)req;
	const row *r = d->user_data;
	if (n == 0 || r->always) {
		out->status = r->http;
		out->header_name = r->hname;
		out->header_value = r->hvalue;
		out->body_len = make_body(r);
		out->body = body_buf;
		out->error = r->error;
		out->error_after = r->error_after;
		return;
	}
	out->status = 200;
	out->body = sd_wbxml(ok_doc, &out->body_len);
}

/* ---- running one row -------------------------------------------------------------------------- */

static sd *connected(const row *r)
{
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.device_id = "DEV0123456789";
	a.device_type = "SmartPhone";
	a.versions = EAS_PROTO_UPTO(EAS_PROTO_14_1);
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.max_retries = MAX_RETRIES;
	o.max_response = MAX_RESPONSE;
	sd *d;
	if (r->bearer) {
		a.token_fn = sd_token_fn;
		d = sd_new(&a, &o);
		/* The token source needs the driver: recreate the session with it. */
		eas_session_free(d->s);
		a.token_user_data = d;
		o.platform = &d->plat;
		assert_int_equal(eas_session_new(&d->s, &a, &o), 0);
	} else {
		a.password = "pw";
		d = sd_new(&a, &o);
	}
	d->versions = "12.1,14.0,14.1";
	sd_connect(d);
	assert_int_equal(sd_count(d, EAS_EVENT_READY), 1);
	return d;
}

static int run_row(const row *r)
{
	sd *d = connected(r);
	size_t first = d->event_count;
	unsigned prov_before = d->provision1;
	d->waited_ms = 0;
	d->wipe = r->eas == 140; /* a server sending 140 has a wipe waiting in Provision */
	d->user_data = (void *)r;
	d->answer = answer;
	size_t len = 0;
	const uint8_t *req = sd_wbxml("<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>", &len);
	uint8_t body[64];
	memcpy(body, req, len);
	assert_int_equal(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, body, len), 0);
	sd_run(d, 3600000);

	int ok = 1;
#define CHECK(cond, ...)                                                     \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "row %s: ", r->name);                \
			fprintf(stderr, __VA_ARGS__);                        \
			fprintf(stderr, "\n");                               \
			ok = 0;                                              \
		}                                                            \
	} while (0)
	CHECK(d->event_count > first, "no event");
	if (d->event_count > first) {
		const sd_event *last = sd_last_event(d);
		CHECK(last->ev.type == r->last, "last event %d (%s), expected %d", last->ev.type, last->message, r->last);
		if (r->last == EAS_EVENT_ERROR)
			CHECK(last->ev.error == r->last_error, "error %d (%s), expected %d", last->ev.error,
			      last->message, r->last_error);
		if (r->last != EAS_EVENT_WIPE)
			CHECK(last->ev.status == r->last_status, "status %d, expected %d", last->ev.status, r->last_status);
		CHECK(last->message[0] != '\0', "an event without words");
		if (r->words)
			CHECK(strstr(last->message, r->words) != NULL, "message '%s' lacks '%s'", last->message, r->words);
	}
	size_t waited_count = 0, wipes = 0, redirects = 0, auth_failed = 0;
	for (size_t i = first; i < d->event_count; i++) {
		eas_event_type t = d->events[i].ev.type;
		wipes += t == EAS_EVENT_WIPE;
		redirects += t == EAS_EVENT_REDIRECT;
		auth_failed += t == EAS_EVENT_AUTH_FAILED;
		/* Nothing else fails on the way to the last event. */
		if (i + 1 < d->event_count)
			CHECK(t != EAS_EVENT_ERROR, "an early error: %s", d->events[i].message);
	}
	(void)waited_count;
	CHECK(d->commands_seen == r->sends, "FolderSync sent %u times, expected %u", d->commands_seen, r->sends);
	CHECK(d->provision1 - prov_before == r->provisions, "provisioned %u times, expected %u",
	      d->provision1 - prov_before, r->provisions);
	CHECK(wipes == (size_t)r->wipe, "%zu wipe events", wipes);
	CHECK(d->wipe_acks == (unsigned)r->wipe, "%u wipe acknowledgments", d->wipe_acks);
	CHECK(redirects == (size_t)r->redirect, "%zu redirect events", redirects);
	CHECK(auth_failed == (size_t)r->auth_failed, "%zu auth-failed events", auth_failed);
	CHECK(d->waited_ms >= r->wait_min && d->waited_ms <= r->wait_max, "waited %llu ms, expected %u-%u",
	      (unsigned long long)d->waited_ms, r->wait_min, r->wait_max);
	if (r->redirect) {
		/* The command went again to the new URL, which the session keeps. */
		const scripted_request *last = scripted_transport_last_request(d->st);
		CHECK(strncmp(last->url, NEW_URL "?Cmd=FolderSync", strlen(NEW_URL) + 14) == 0, "resent to %s", last->url);
	}
	if (r->provisions) {
		/* Provision again: phase 1 without a key, with DeviceInformation (14.1). */
		for (size_t i = 0; i < sd_request_count(d); i++) {
			const scripted_request *q = sd_request(d, i);
			if (i >= 3 && strstr(q->url, "Cmd=Provision") && q->body_len) {
				char *xml = xmldoc_from_wbxml(q->body, q->body_len);
				if (strstr(xml, "<Policies>") && !strstr(xml, "<PolicyKey>"))
					CHECK(strstr(xml, "<DeviceInformation") != NULL, "Provision without DeviceInformation");
				free(xml);
			}
		}
	}
	CHECK(!eas_session_busy(d->s), "still busy");
	sd_free(d);
	return ok;
}

static void test_every_answer(void **state)
{
	(void)state;
	size_t failed = 0;
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		failed += !run_row(&table[i]);
	if (failed)
		fail_msg("%zu of %zu rows not handled as specified", failed, sizeof table / sizeof table[0]);
}

/* The table must list every common status code and every HTTP status the issue names. */
static void test_table_is_complete(void **state)
{
	(void)state;
	size_t statuses = 0;
	for (int code = 101; code <= 177; code++) {
		int listed = 0;
		for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
			listed += table[i].body == BODY_STATUS && table[i].eas == code && !table[i].always;
		if (eas_status_name(code) == NULL) {
			assert_true(code >= 157 && code <= 159); /* unassigned */
			assert_int_equal(listed, 0);
			continue;
		}
		if (listed != 1)
			fail_msg("common status %d has %d rows", code, listed);
		statuses++;
	}
	assert_int_equal(statuses, 74);
	static const int http[] = { 200, 401, 403, 449, 451, 500, 501, 503, 507 };
	size_t http_rows = 0;
	for (size_t k = 0; k < sizeof http / sizeof http[0]; k++) {
		int listed = 0;
		for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
			listed += table[i].http == http[k] && table[i].body != BODY_STATUS && !table[i].always &&
				  !table[i].error;
		if (!listed)
			fail_msg("HTTP %d has no row", http[k]);
	}
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		http_rows += table[i].body != BODY_STATUS && !table[i].always && table[i].http != 0 &&
			     table[i].body == BODY_NONE && !table[i].error;
	printf("table: %zu common status codes, %zu HTTP status rows, %zu rows in all\n", statuses, http_rows,
	       sizeof table / sizeof table[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_complete),
		cmocka_unit_test(test_every_answer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
