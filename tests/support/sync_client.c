/* A minimal synchronizing client over the public API (see sync_client.h). */
#include "sync_client.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "eas/session.h"
#include "eas/sync.h"
#include "eas/transport_curl.h"
#include "server_proc.h"

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*
 * The ferry between session and transport, one request at a time, returning
 * after each response so that the caller sees the events as they come (the
 * progress of a long sync) instead of all at the end.
 */
typedef struct ferry {
	eas_session *s;
	int done;
} ferry;

static int on_head(int status, const eas_http_header *headers, size_t count, void *ud)
{
	return eas_session_response_head(((ferry *)ud)->s, status, headers, count);
}

static int on_body(const unsigned char *data, size_t len, void *ud)
{
	return eas_session_response_body(((ferry *)ud)->s, data, len);
}

static void on_complete(int error, const char *detail, void *ud)
{
	ferry *f = ud;
	(void)detail;
	eas_session_response_end(f->s, error);
	f->done = 1;
}

/* Sends the next request and waits for its response; 1 = nothing to send now, 0 = done, < 0 failure. */
static int ferry_one(eas_session *s, eas_curl_transport *curl, uint64_t deadline)
{
	const eas_http_request *req = NULL;
	uint64_t now = now_ms();
	eas_session_next_request(s, &req, now);
	if (!req) {
		/* a backoff timer, or waiting for the app */
		uint64_t wait = eas_session_next_timeout(s, now);
		if (wait != UINT64_MAX) {
			wait = wait < 100 ? wait : 100;
			struct timespec ts = { 0, (long)wait * 1000000L };
			nanosleep(&ts, NULL);
		}
		return 1;
	}
	ferry f = { s, 0 };
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
	h.on_head = on_head;
	h.on_body = on_body;
	h.on_complete = on_complete;
	h.user_data = &f;
	eas_transport *t = eas_curl_transport_base(curl);
	eas_http_request_id id = 0;
	int rc = t->submit(&id, t, req, &h);
	if (rc) {
		eas_session_response_end(s, rc);
		return 0;
	}
	while (!f.done) {
		if (now_ms() > deadline) {
			t->cancel(t, id);
			return EAS_E_IO;
		}
		if (eas_curl_transport_run(curl, 100) < 0) {
			t->cancel(t, id);
			return EAS_E_IO;
		}
	}
	return 0;
}

static int failed(sync_client_result *out, int error, const char *what, const char *detail)
{
	out->error = error ? error : EAS_E_STATE;
	snprintf(out->message, sizeof out->message, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
	return -1;
}

uint32_t sync_client_window_size;

int sync_client_run(const char *url, const char *device_id, eas_store *store, uint32_t timeout_ms,
		    void (*on_progress)(const sync_client_result *so_far, void *ud), void *ud,
		    sync_client_result *out)
{
	memset(out, 0, sizeof *out);
	eas_curl_transport *curl = NULL;
	eas_curl_transport_options topt = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	topt.allow_plain_http = 1; /* loopback only */
	int rc = eas_curl_transport_new(&curl, &topt);
	if (rc)
		return failed(out, rc, "transport", eas_strerror(rc));

	eas_account account = EAS_ACCOUNT_INIT;
	account.url = url;
	account.user = SERVER_PROC_USER;
	account.password = SERVER_PROC_PASSWORD;
	account.device_id = device_id;
	account.device_type = "TestClient";
	account.allow_plain_http = 1;
	eas_session *s = NULL;
	if ((rc = eas_session_new(&s, &account, NULL))) {
		eas_curl_transport_free(curl);
		return failed(out, rc, "session", eas_strerror(rc));
	}
	int result = 1; /* 1 running, 0 done, -1 failed */
	eas_sync_settings settings = EAS_SYNC_SETTINGS_INIT;
	settings.window_size = sync_client_window_size;
	if ((rc = eas_session_set_store(s, store)) || (rc = eas_session_set_sync_settings(s, &settings)) ||
	    (rc = eas_session_connect(s)))
		result = failed(out, rc, "start", eas_strerror(rc));
	uint64_t deadline = now_ms() + timeout_ms;
	while (result > 0) {
		eas_session_event ev;
		while (result > 0 && eas_session_next_event(s, &ev) == 1) {
			switch (ev.type) {
			case EAS_EVENT_POLICY:
				eas_session_accept_policy(s, 1);
				break;
			case EAS_EVENT_WIPE:
				result = failed(out, EAS_E_STATE, "unexpected remote wipe", NULL);
				break;
			case EAS_EVENT_READY:
				if ((rc = eas_session_sync(s, NULL, 0)))
					result = failed(out, rc, "sync", eas_strerror(rc));
				break;
			case EAS_EVENT_SYNC_PROGRESS:
				out->added = ev.added;
				out->changed = ev.changed;
				out->deleted = ev.deleted;
				out->bytes = ev.bytes;
				out->progress_events++;
				if (on_progress)
					on_progress(out, ud);
				break;
			case EAS_EVENT_SYNC_DONE:
				out->added = ev.added;
				out->changed = ev.changed;
				out->deleted = ev.deleted;
				out->bytes = ev.bytes;
				result = 0;
				break;
			case EAS_EVENT_ERROR:
			case EAS_EVENT_AUTH_FAILED:
				result = failed(out, ev.error, "event", ev.message);
				break;
			default:
				break;
			}
		}
		if (result <= 0)
			break;
		/* the events are drained: idle now means nothing more will happen */
		if (!eas_session_busy(s)) {
			result = failed(out, EAS_E_STATE, "the session went idle before the sync finished", NULL);
			break;
		}
		if (now_ms() > deadline || (rc = ferry_one(s, curl, deadline)) < 0)
			result = failed(out, EAS_E_IO, "timeout", NULL);
	}
	eas_session_set_store(s, NULL);
	eas_session_free(s);
	eas_curl_transport_free(curl);
	return result;
}
