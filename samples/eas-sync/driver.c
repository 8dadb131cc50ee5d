/*
 * eas-sync: the loop that carries the session's requests over the libcurl
 * transport and hands its events to the command, the sans-I/O way of
 * eas/session.h:
 *
 *     next_request -> transport submit -> response_head/_body/_end
 *     next_event   -> the command (or the defaults below)
 *
 * The transport runs in slices of at most 100 ms so that events (progress,
 * push arrivals) reach the command while a long exchange such as a Ping or
 * a big Sync is still in flight, and so that a signal or a deadline stops
 * the loop promptly.  (eas_session_run() is the simpler choice for an app
 * that only wants the outcome.)
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <eas/http.h>
#include <eas/policy.h>
#include <eas/status.h>

#include "app.h"

#define SLICE_MS 100u

static volatile sig_atomic_t got_signal;

static void on_signal(int sig)
{
	got_signal = sig;
}

void driver_install_signals(app *a)
{
	(void)a;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void sleep_ms(uint32_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L };
	nanosleep(&ts, NULL);
}

/* ---- one exchange: tracing around the caller's handler ---------------------------- */

static struct {
	app *a;
	eas_http_response_handler inner;
	eas_http_request_id id;
	int detached; /* cancelled by us: the completion goes nowhere */
} ex;

static int ex_head(int status, const eas_http_header *headers, size_t count, void *ud)
{
	(void)ud;
	trace_response_head(ex.a, status, headers, count);
	if (ex.detached || !ex.inner.on_head)
		return 0;
	return ex.inner.on_head(status, headers, count, ex.inner.user_data);
}

static int ex_body(const unsigned char *data, size_t len, void *ud)
{
	(void)ud;
	trace_response_body(ex.a, data, len);
	if (ex.detached || !ex.inner.on_body)
		return 0;
	return ex.inner.on_body(data, len, ex.inner.user_data);
}

static void ex_complete(int error, const char *detail, void *ud)
{
	(void)ud;
	app *a = ex.a;
	trace_response_end(a, error, detail);
	a->in_flight = 0;
	if (error && detail)
		snprintf(a->transport_detail, sizeof a->transport_detail, "%s", detail);
	if (!ex.detached)
		ex.inner.on_complete(error, detail, ex.inner.user_data);
}

/* Which command a request carries (push announces its Ping). */
static int command_of(const char *url)
{
	const char *q = url ? strchr(url, '?') : NULL;
	eas_http_query query = EAS_HTTP_QUERY_INIT;
	if (!q || eas_http_query_decode(&query, q + 1, strlen(q + 1), NULL) != 0)
		return -1;
	int c = (int)query.command;
	eas_http_query_clear(&query);
	return c;
}

int driver_submit(app *a, const eas_http_request *req, const eas_http_response_handler *h)
{
	trace_request(a, req);
	a->last_command = command_of(req->url);
	ex.a = a;
	ex.inner = *h;
	ex.detached = 0;
	eas_http_response_handler w = EAS_HTTP_RESPONSE_HANDLER_INIT;
	w.on_head = ex_head;
	w.on_body = ex_body;
	w.on_complete = ex_complete;
	eas_transport *t = eas_curl_transport_base(a->curl);
	int rc = t->submit(&ex.id, t, req, &w);
	if (rc == 0)
		a->in_flight = 1;
	else
		snprintf(a->transport_detail, sizeof a->transport_detail, "%s", eas_curl_transport_last_error(a->curl));
	return rc;
}

/* Stops the exchange in flight without telling its handler. */
void driver_detach(app *a)
{
	if (!a->in_flight)
		return;
	ex.detached = 1;
	eas_transport *t = eas_curl_transport_base(a->curl);
	t->cancel(t, ex.id);
	a->in_flight = 0;
}

void driver_pump(app *a, uint32_t ms)
{
	if (a->in_flight)
		eas_curl_transport_run(a->curl, (long)ms);
	else if (ms)
		sleep_ms(ms);
}

/* ---- the session's side ---------------------------------------------------------- */

static int s_head(int status, const eas_http_header *headers, size_t count, void *ud)
{
	app *a = ud;
	int rc = eas_session_response_head(a->session, status, headers, count);
	return rc < 0 ? rc : 0;
}

static int s_body(const unsigned char *data, size_t len, void *ud)
{
	app *a = ud;
	int rc = eas_session_response_body(a->session, data, len);
	return rc < 0 ? rc : 0;
}

static void s_complete(int error, const char *detail, void *ud)
{
	app *a = ud;
	(void)detail;
	eas_session_response_end(a->session, error);
}

/* ---- default event handling --------------------------------------------------------- */

/* The message of an EAS_EVENT_ERROR, with the meaning of its HTTP status and the transport's detail. */
static int report_error(app *a, const eas_session_event *ev)
{
	char extra[700] = "";
	size_t n = 0;
	if (ev->http_status && ev->http_status != 200) {
		const char *t = eas_http_status_text(ev->http_status);
		char code[16];
		snprintf(code, sizeof code, "%d", ev->http_status);
		if (!ev->message || !strstr(ev->message, code))
			n += (size_t)snprintf(extra + n, sizeof extra - n, " (HTTP %d%s%s)", ev->http_status,
					      t ? " " : "", t ? t : "");
	}
	if ((ev->error == EAS_E_IO || ev->error == EAS_E_TLS) && a->transport_detail[0] && n < sizeof extra &&
	    (!ev->message || !strstr(ev->message, a->transport_detail)))
		snprintf(extra + n, sizeof extra - n, ": %s", a->transport_detail);
	n = strlen(extra);
	if (ev->error == EAS_E_TLS && !a->o.ca_file && n < sizeof extra)
		snprintf(extra + n, sizeof extra - n, " (--ca-file FILE trusts a private CA)");
	int code = ev->error ? exit_code_for(ev->error) : EXIT_FAILED;
	if (ev->http_status == 401)
		code = EXIT_AUTH;
	if (code == EXIT_OK || code == EXIT_USAGE || code == EXIT_NOTFOUND)
		code = EXIT_FAILED;
	return fail(a, code, ev->status, ev->http_status, "%s%s",
		    ev->message && ev->message[0] ? ev->message : eas_strerror(ev->error), extra);
}

static int default_event(app *a, const eas_session_event *ev)
{
	switch (ev->type) {
	case EAS_EVENT_VERSION_NEGOTIATED:
		if (eas_protocol_version_name(ev->version))
			account_value_set(a, "version", eas_protocol_version_name(ev->version));
		if (a->o.verbose)
			fprintf(stderr, "eas-sync: protocol version %s\n", eas_protocol_version_name(ev->version));
		return 0;
	case EAS_EVENT_POLICY: {
		/*
		 * A desktop tool cannot enforce a handset's security policy: it
		 * reports the policy (status shows it) and acknowledges it, as a
		 * device that applied it.  A real app enforces it first.
		 */
		if (eas_policy_describe(ev->policy, a->policy_text, sizeof a->policy_text) == 0)
			snprintf(a->policy_text, sizeof a->policy_text, "(no settings)");
		/* store values are at most EAS_STORE_NAME_MAX bytes: keep whole lines that fit */
		char saved[EAS_STORE_NAME_MAX];
		copy_text(saved, sizeof saved, a->policy_text);
		if (strlen(a->policy_text) >= sizeof saved) {
			char *nl = strrchr(saved, '\n');
			if (nl)
				*nl = '\0';
		}
		account_value_set(a, "policy", saved);
		if (a->o.verbose)
			fprintf(stderr, "eas-sync: the server sent a policy:\n%s\n", a->policy_text);
		eas_session_accept_policy(a->session, 1);
		return 0;
	}
	case EAS_EVENT_WIPE:
		fprintf(stderr, "eas-sync: the server requested a remote %s: erasing the local data of this account\n",
			ev->account_only ? "account wipe" : "wipe");
		if (a->store)
			a->store->wipe(a->store);
		eas_session_ack_wipe(a->session);
		return 0;
	case EAS_EVENT_PROVISIONED:
		if (a->o.verbose)
			fprintf(stderr, "eas-sync: provisioned, policy key %s\n", ev->policy_key ? ev->policy_key : "?");
		return 0;
	case EAS_EVENT_REDIRECT:
		if (ev->url) {
			snprintf(a->url, sizeof a->url, "%s", ev->url);
			account_value_set(a, "url", ev->url);
			if (!a->o.quiet)
				fprintf(stderr, "eas-sync: the account moved to %s (saved)\n", ev->url);
		}
		return 0;
	case EAS_EVENT_AUTH_FAILED: {
		int http = ev->http_status ? ev->http_status : 401;
		const char *phrase = eas_http_status_text(http);
		/* with OAuth2 the engine's message says what happened to the token */
		return fail(a, EXIT_AUTH, ev->status, http,
			    "authentication failed: the server refused the %s of %s (HTTP %d%s%s)%s%s",
			    a->o.token_cmd ? "token" : "password", a->user, http, phrase ? " " : "", phrase ? phrase : "",
			    a->o.token_cmd && ev->message && ev->message[0] ? ": " : "",
			    a->o.token_cmd && ev->message ? ev->message : "");
	}
	case EAS_EVENT_ERROR:
		return report_error(a, ev);
	default:
		return 0;
	}
}

int drive(app *a, event_fn on_event, tick_fn on_tick, void *ctx, uint64_t deadline_ms)
{
	uint64_t last_tick = 0;
	for (;;) {
		uint64_t now = now_ms();
		if (!a->in_flight) {
			const eas_http_request *req = NULL;
			if (eas_session_next_request(a->session, &req, now) == 0 && req) {
				eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
				h.on_head = s_head;
				h.on_body = s_body;
				h.on_complete = s_complete;
				h.user_data = a;
				int rc = driver_submit(a, req, &h);
				if (rc)
					eas_session_response_end(a->session, rc);
			}
		}
		eas_session_event ev;
		while (eas_session_next_event(a->session, &ev) == 1) {
			if (a->o.verbose && ev.type >= EAS_EVENT_FOLDERS_SYNCED && ev.message && ev.message[0])
				fprintf(stderr, "eas-sync: event: %s\n", ev.message);
			int r = on_event ? on_event(a, &ev, ctx) : EV_DEFAULT;
			if (r == EV_DEFAULT)
				r = default_event(a, &ev);
			if (r == EV_DONE) {
				/* done while the engine already sent its next request (push): end it too */
				if (a->in_flight) {
					driver_detach(a);
					if (eas_session_busy(a->session))
						eas_session_cancel(a->session);
					while (eas_session_next_event(a->session, &ev) == 1)
						;
				}
				return 0;
			}
			if (r > 0) {
				driver_detach(a);
				if (eas_session_busy(a->session))
					eas_session_cancel(a->session);
				while (eas_session_next_event(a->session, &ev) == 1)
					;
				return r;
			}
		}
		/* push: a queued local change wants the Ping in flight ended now */
		if (a->in_flight && eas_session_interrupt_pending(a->session)) {
			eas_transport *t = eas_curl_transport_base(a->curl);
			t->cancel(t, ex.id); /* completes with EAS_E_CANCELLED into the session */
			continue;
		}
		if (got_signal || (deadline_ms && now >= deadline_ms)) {
			int r = got_signal ? -2 : -1;
			a->interrupted = got_signal != 0;
			driver_detach(a);
			if (eas_session_busy(a->session))
				eas_session_cancel(a->session);
			while (eas_session_next_event(a->session, &ev) == 1)
				;
			return r;
		}
		if (!a->in_flight && !eas_session_busy(a->session) && a->idle_ok)
			return 0;
		if (!a->in_flight && !eas_session_busy(a->session))
			return fail(a, EXIT_FAILED, 0, 0, "the session went idle before the operation finished");
		if (on_tick && now - last_tick >= SLICE_MS) {
			last_tick = now;
			if (on_tick(a, ctx) == EV_DONE) {
				driver_detach(a);
				if (eas_session_busy(a->session))
					eas_session_cancel(a->session);
				while (eas_session_next_event(a->session, &ev) == 1)
					;
				return 0;
			}
		}
		/* In flight: run the transport for a slice (it returns as soon as the exchange ends). */
		uint64_t wait = a->in_flight ? SLICE_MS : eas_session_next_timeout(a->session, now);
		if (wait > SLICE_MS)
			wait = SLICE_MS;
		if (deadline_ms && deadline_ms - now < wait)
			wait = deadline_ms - now;
		if (wait)
			driver_pump(a, (uint32_t)wait);
	}
}
