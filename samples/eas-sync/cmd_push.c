/*
 * eas-sync push: catch up with one Sync, then stay in Ping (eas_session_push)
 * and print every item that arrives, as it is stored.  Bounded by --for
 * SECONDS and --count N (items), or by Ctrl-C; all three end with exit 0.
 *
 * Text: one line per change.  --json: one JSON document per line (NDJSON):
 *   {"event":"listening", ...}   the first Ping is on its way
 *   {"event":"new"|"changed", "time":..., "item":{...}}
 *   {"event":"deleted", "time":..., "folder":..., "server_id":...}
 *   {"event":"end", "received":N, ...}
 */
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "app.h"

typedef struct push_run {
	app *a;
	uint64_t received, changed, deleted;
	int listening_said;
	int count_reached;
	folder_table folders; /* names, read before push: callbacks run inside store transactions */
} push_run;

static void name_of(push_run *r, const char *id, char *out, size_t size)
{
	const folder_rec *f = folders_by_id(&r->folders, id);
	copy_text(out, size, f ? f->name : id);
}

static double wall_time(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void stamp(char *buf, size_t size)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	time_t t = tv.tv_sec;
	localtime_r(&t, &tm);
	snprintf(buf, size, "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec, (long)(tv.tv_usec / 1000));
}

static int on_item(const eas_store_item *item, int is_change, void *ud)
{
	push_run *r = ud;
	app *a = r->a;
	char fname[256];
	name_of(r, item->folder_id, fname, sizeof fname);
	if (is_change)
		r->changed++;
	else
		r->received++;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("event", is_change ? "changed" : "new");
		json_kv_double("time", wall_time());
		json_key("item");
		item_json(item, fname);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		item_summary s;
		item_summarize(item, &s);
		char t[32];
		stamp(t, sizeof t);
		printf("%s %-7s %-12s %s  \"%s\"  (%s)\n", t, is_change ? "changed" : "new", fname,
		       s.from[0] ? s.from : "-", s.subject, item->server_id);
		fflush(stdout);
	}
	return 0;
}

static int on_delete(const char *folder_id, const char *server_id, int soft, void *ud)
{
	push_run *r = ud;
	app *a = r->a;
	r->deleted++;
	char fname[256];
	name_of(r, folder_id, fname, sizeof fname);
	if (a->o.json) {
		json_begin_object();
		json_kv_string("event", "deleted");
		json_kv_double("time", wall_time());
		json_kv_string("folder", folder_id);
		json_kv_string("folder_name", fname);
		json_kv_string("server_id", server_id);
		json_kv_bool("soft", soft);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		char t[32];
		stamp(t, sizeof t);
		printf("%s %-7s %-12s (%s)\n", t, soft ? "expired" : "deleted", fname, server_id);
		fflush(stdout);
	}
	return 0;
}

static void say_listening(push_run *r)
{
	app *a = r->a;
	if (r->listening_said)
		return;
	r->listening_said = 1;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("event", "listening");
		json_kv_double("time", wall_time());
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		fprintf(stderr, "eas-sync: listening for changes (Ping); Ctrl-C to stop\n");
	}
}

static int on_tick(app *a, void *ctx)
{
	push_run *r = ctx;
	if (!a->in_flight || a->last_command != EAS_CMD_PING)
		return EV_CONTINUE;
	say_listening(r);
	/* back in Ping after the arrivals were stored: also a place to stop at --count */
	if (a->o.count && r->received >= (uint64_t)a->o.count) {
		r->count_reached = 1;
		return EV_DONE;
	}
	return EV_CONTINUE;
}

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	push_run *r = ctx;
	switch (ev->type) {
	case EAS_EVENT_PUSH:
		if (a->o.verbose)
			fprintf(stderr, "eas-sync: Ping: %llu folder(s) changed\n", (unsigned long long)ev->count);
		return EV_CONTINUE;
	case EAS_EVENT_SYNC_DONE:
	case EAS_EVENT_SYNC_PROGRESS:
		/* a response was applied and committed: the arrivals are stored, the place to stop at --count */
		if (a->o.count && r->received >= (uint64_t)a->o.count) {
			r->count_reached = 1;
			return EV_DONE;
		}
		return EV_CONTINUE;
	case EAS_EVENT_FOLDERS_SYNCED:
	case EAS_EVENT_READY:
		return EV_CONTINUE;
	default:
		return EV_DEFAULT;
	}
}

int cmd_push(app *a)
{
	int rc = account_connect(a);
	if (rc)
		return rc;
	double t0 = wall_time();
	uint64_t deadline = a->o.for_seconds > 0 ? now_ms() + (uint64_t)(a->o.for_seconds * 1000.0) : 0;
	/* catch up first, so the Ping starts from the current state of every folder */
	sync_totals caught;
	memset(&caught, 0, sizeof caught);
	if ((rc = run_sync(a, NULL, 0, 0, &caught)) != 0)
		return rc;
	if (!a->o.quiet && !a->o.json && caught.added + caught.changed + caught.deleted)
		fprintf(stderr, "eas-sync: caught up: %llu new, %llu changed, %llu deleted\n",
			(unsigned long long)caught.added, (unsigned long long)caught.changed,
			(unsigned long long)caught.deleted);

	push_run r;
	memset(&r, 0, sizeof r);
	r.a = a;
	if (folders_load(a, &r.folders) != 0)
		memset(&r.folders, 0, sizeof r.folders);
	eas_sync_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.version = EAS_SYNC_CALLBACKS_VERSION;
	cb.item_changed = on_item;
	cb.item_deleted = on_delete;
	cb.user_data = &r;
	eas_session_set_sync_callbacks(a->session, &cb);
	if ((rc = eas_session_push(a->session, "default")) != 0) {
		folders_free(&r.folders);
		return fail(a, EXIT_FAILED, 0, 0, "cannot start push: %s", eas_strerror(rc));
	}
	rc = drive(a, on_event, on_tick, &r, deadline);
	eas_session_set_sync_callbacks(a->session, NULL);
	folders_free(&r.folders);
	if (rc > 0)
		return rc;
	/* --for elapsed, --count reached, or Ctrl-C: a normal end */
	if (eas_session_busy(a->session))
		eas_session_cancel(a->session);
	double secs = wall_time() - t0;
	const char *why = r.count_reached ? "count" : rc == -1 ? "time" : rc == -2 ? "signal" : "done";
	if (a->o.json) {
		json_begin_object();
		json_kv_string("event", "end");
		json_kv_string("command", "push");
		json_kv_bool("ok", 1);
		json_kv_string("reason", why);
		json_kv_uint("received", r.received);
		json_kv_uint("changed", r.changed);
		json_kv_uint("deleted", r.deleted);
		json_kv_double("seconds", secs);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		fprintf(stderr, "eas-sync: push ended (%s) after %.1f s: %llu new, %llu changed, %llu deleted\n", why, secs,
			(unsigned long long)r.received, (unsigned long long)r.changed, (unsigned long long)r.deleted);
	}
	return 0;
}
