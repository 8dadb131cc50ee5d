/*
 * eas-sync sync [FOLDER...]: FolderSync, an item estimate for the bar, then
 * Sync of every folder (or the ones named) into the local store, with the
 * progress bar; a summary at the end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"

typedef struct folder_count {
	uint64_t added, changed, deleted;
} folder_count;

typedef struct sync_run {
	app *a;
	progress bar;
	folder_table folders;
	folder_count *counts; /* parallel to folders */
	uint64_t added, changed, deleted, bytes;
	uint64_t last_line_items;
	int estimating;
	uint64_t estimated;
} sync_run;

static folder_count *count_of(sync_run *r, const char *folder_id)
{
	for (size_t i = 0; i < r->folders.n; i++)
		if (strcmp(r->folders.f[i].id, folder_id) == 0)
			return &r->counts[i];
	return NULL;
}

/* Store callbacks: called for each change inside the transaction that applies it. */
static int on_item(const eas_store_item *item, int is_change, void *ud)
{
	sync_run *r = ud;
	folder_count *c = count_of(r, item->folder_id);
	if (is_change) {
		r->changed++;
		if (c)
			c->changed++;
	} else {
		r->added++;
		if (c)
			c->added++;
	}
	r->bytes += item->data_len;
	progress_update(&r->bar, r->added + r->changed, r->bytes, 0);
	return 0;
}

static int on_delete(const char *folder_id, const char *server_id, int soft, void *ud)
{
	sync_run *r = ud;
	(void)server_id;
	(void)soft;
	folder_count *c = count_of(r, folder_id);
	r->deleted++;
	if (c)
		c->deleted++;
	return 0;
}

static int on_folders_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	return ev->type == EAS_EVENT_FOLDERS_SYNCED ? EV_DONE : EV_DEFAULT;
}

static int on_estimate_event(app *a, const eas_session_event *ev, void *ctx)
{
	sync_run *r = ctx;
	(void)a;
	if (ev->type == EAS_EVENT_ESTIMATE) {
		r->estimated += ev->estimate;
		return EV_CONTINUE;
	}
	if (ev->type == EAS_EVENT_ERROR) {
		/* the estimate only feeds the bar: a server without GetItemEstimate is fine */
		r->estimated = 0;
		return EV_DONE;
	}
	return EV_DEFAULT;
}

static int on_sync_event(app *a, const eas_session_event *ev, void *ctx)
{
	sync_run *r = ctx;
	if (ev->type == EAS_EVENT_SYNC_PROGRESS) {
		(void)a;
		uint64_t items = r->added + r->changed;
		char bytes[32];
		format_bytes(bytes, sizeof bytes, r->bytes);
		if (items != r->last_line_items)
			progress_line(&r->bar, "sync: %llu items so far (%s)", (unsigned long long)items, bytes);
		r->last_line_items = items;
		progress_update(&r->bar, items, r->bytes, 0);
		return EV_CONTINUE;
	}
	if (ev->type == EAS_EVENT_SYNC_DONE)
		return EV_DONE;
	if (ev->type == EAS_EVENT_FOLDERS_SYNCED || ev->type == EAS_EVENT_PUSH)
		return EV_CONTINUE;
	return EV_DEFAULT;
}

static int on_tick(app *a, void *ctx)
{
	sync_run *r = ctx;
	(void)a;
	progress_update(&r->bar, r->added + r->changed, r->bytes, 0);
	return EV_CONTINUE;
}

static int stopped(app *a, int rc, const char *what)
{
	if (rc == -1)
		return fail(a, EXIT_NETWORK, 0, 0, "%s did not finish within %ld s (--timeout)", what, a->o.timeout_s);
	if (rc == -2)
		return fail(a, EXIT_FAILED, 0, 0, "%s interrupted", what);
	return rc;
}

static void sync_run_free(sync_run *r)
{
	if (!r)
		return;
	folders_free(&r->folders);
	free(r->counts);
	free(r);
}

/* keep: where the run's per-folder counts go (the sync command prints them), or NULL. */
static int sync_with_counts(app *a, const char *const *names, size_t count, int show_progress, sync_totals *out,
			    sync_run **keep)
{
	sync_run *r = calloc(1, sizeof *r);
	if (!r)
		return fail(a, EXIT_LOCAL, 0, 0, "out of memory");
	r->a = a;
	progress_init(&r->bar, a, "Syncing");
	if (!show_progress)
		r->bar.enabled = r->bar.lines = 0;
	uint64_t t0 = now_ms();
	uint64_t deadline = t0 + (uint64_t)a->o.timeout_s * 1000u;
	const char **ids = NULL;
	int rc;

	/* 1. the folder tree */
	if ((rc = eas_session_sync_folders(a->session)) != 0) {
		rc = fail(a, EXIT_FAILED, 0, 0, "cannot start FolderSync: %s", eas_strerror(rc));
		goto out;
	}
	if ((rc = stopped(a, drive(a, on_folders_event, NULL, NULL, deadline), "FolderSync")) != 0)
		goto out;
	if ((rc = folders_load(a, &r->folders)) != 0) {
		rc = fail(a, EXIT_LOCAL, 0, 0, "cannot read the folders from the store: %s", eas_strerror(rc));
		goto out;
	}
	r->counts = calloc(r->folders.n + 1, sizeof r->counts[0]);
	ids = calloc(count + 1, sizeof *ids);
	if (!r->counts || !ids) {
		rc = fail(a, EXIT_LOCAL, 0, 0, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < count; i++) {
		char id[EAS_STORE_ID_MAX + 1];
		rc = folder_find(a, names[i], id, sizeof id);
		if (rc) {
			rc = fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_NOTFOUND, 0, 0,
				  rc == EAS_E_INVALID ? "folder '%s' is ambiguous: give its path or server id"
						      : "no folder '%s' on the server (see eas-sync folders)",
				  names[i]);
			goto out;
		}
		const folder_rec *f = folders_by_id(&r->folders, id);
		ids[i] = f ? f->id : NULL;
	}

	/* 2. how many items to expect (only for the bar) */
	if (r->bar.enabled) {
		size_t n = 0;
		const char **est = calloc(r->folders.n + 1, sizeof *est);
		for (size_t i = 0; est && i < r->folders.n; i++)
			if (count ? 0 : r->folders.f[i].sync_wanted)
				est[n++] = r->folders.f[i].id;
		for (size_t i = 0; est && i < count; i++)
			est[n++] = ids[i];
		if (n && eas_session_estimate(a->session, est, n) == 0) {
			a->idle_ok = 1;
			drive(a, on_estimate_event, NULL, r, now_ms() + 30000u);
			a->idle_ok = 0;
			a->exit_code = 0; /* an estimate failure is not the command's failure */
			r->bar.total = r->estimated;
		}
		free(est);
	}

	/* 3. the items */
	eas_sync_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.version = EAS_SYNC_CALLBACKS_VERSION;
	cb.item_changed = on_item;
	cb.item_deleted = on_delete;
	cb.user_data = r;
	eas_session_set_sync_callbacks(a->session, &cb);
	if ((rc = eas_session_sync(a->session, count ? (const char *const *)ids : NULL, count)) != 0) {
		rc = fail(a, EXIT_FAILED, 0, 0, "cannot start Sync: %s", eas_strerror(rc));
		goto out;
	}
	rc = stopped(a, drive(a, on_sync_event, on_tick, r, deadline), "Sync");
	progress_update(&r->bar, r->added + r->changed, r->bytes, 1);
	progress_finish(&r->bar);
	eas_session_set_sync_callbacks(a->session, NULL);
	if (rc == 0) {
		char stamp[32];
		snprintf(stamp, sizeof stamp, "%lld", (long long)time(NULL));
		account_value_set(a, "last_sync", stamp);
	}
out:
	if (out) {
		out->added = r->added;
		out->changed = r->changed;
		out->deleted = r->deleted;
		out->bytes = r->bytes;
		out->folders = r->folders.n;
		out->seconds = (double)(now_ms() - t0) / 1000.0;
	}
	free(ids);
	if (keep && rc == 0)
		*keep = r;
	else
		sync_run_free(r);
	return rc;
}

int run_sync(app *a, const char *const *names, size_t count, int show_progress, sync_totals *out)
{
	return sync_with_counts(a, names, count, show_progress, out, NULL);
}

int cmd_sync(app *a)
{
	int rc = account_connect(a);
	if (rc)
		return rc;
	sync_totals t;
	memset(&t, 0, sizeof t);
	sync_run *r = NULL;
	rc = sync_with_counts(a, a->o.positional, (size_t)a->o.npositional, 1, &t, &r);
	if (rc)
		return rc;
	double s = t.seconds > 0.001 ? t.seconds : 0.001;
	uint64_t items = t.added + t.changed;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "sync");
		json_kv_bool("ok", 1);
		json_key("folders");
		json_begin_array();
		for (size_t i = 0; r && i < r->folders.n; i++) {
			const folder_rec *f = &r->folders.f[i];
			uint64_t stored = 0;
			a->store->item_count(a->store, f->id, &stored);
			json_begin_object();
			json_kv_string("id", f->id);
			json_kv_string("name", f->name);
			json_kv_uint("type", f->type);
			json_kv_string("class", f->cls);
			json_kv_uint("added", r->counts[i].added);
			json_kv_uint("changed", r->counts[i].changed);
			json_kv_uint("deleted", r->counts[i].deleted);
			json_kv_uint("items", stored);
			json_end_object();
		}
		json_end_array();
		json_kv_uint("added", t.added);
		json_kv_uint("changed", t.changed);
		json_kv_uint("deleted", t.deleted);
		json_kv_uint("bytes", t.bytes);
		json_kv_double("seconds", t.seconds);
		json_kv_double("items_per_second", (double)items / s);
		json_kv_double("bytes_per_second", (double)t.bytes / s);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		char bytes[32], rate[32];
		format_bytes(bytes, sizeof bytes, t.bytes);
		format_bytes(rate, sizeof rate, (uint64_t)((double)t.bytes / s));
		printf("synced %llu folders: %llu new, %llu changed, %llu deleted; %s in %.2f s (%.0f items/s, %s/s)\n",
		       (unsigned long long)t.folders, (unsigned long long)t.added, (unsigned long long)t.changed,
		       (unsigned long long)t.deleted, bytes, t.seconds, (double)items / s, rate);
		for (size_t i = 0; r && i < r->folders.n; i++) {
			const folder_rec *f = &r->folders.f[i];
			uint64_t stored = 0;
			a->store->item_count(a->store, f->id, &stored);
			if (stored == 0 && r->counts[i].added + r->counts[i].changed + r->counts[i].deleted == 0)
				continue; /* empty and untouched: the JSON lists every folder */
			printf("  %-24s %7llu items  (+%llu ~%llu -%llu)\n", f->name, (unsigned long long)stored,
			       (unsigned long long)r->counts[i].added, (unsigned long long)r->counts[i].changed,
			       (unsigned long long)r->counts[i].deleted);
		}
	}
	sync_run_free(r);
	return 0;
}
