/*
 * eas-sync mark ITEM --read|--unread: a local change.  It is queued in the
 * store (durable at once, and applied to the stored item), then a Sync of
 * that folder uploads it; the server's copy changes with it.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	if (ev->type == EAS_EVENT_SYNC_DONE)
		return EV_DONE;
	if (ev->type == EAS_EVENT_SYNC_PROGRESS || ev->type == EAS_EVENT_FOLDERS_SYNCED)
		return EV_CONTINUE;
	return EV_DEFAULT;
}

static int count_change(const eas_store_change *c, void *ud)
{
	(void)c;
	(*(int *)ud)++;
	return 0;
}

int cmd_mark(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	const char *sid = a->o.positional[0];
	char fid[EAS_STORE_ID_MAX + 1];
	rc = item_find(a, a->o.folder, sid, fid, sizeof fid);
	if (rc)
		return fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_NOTFOUND, 0, 0, "no item '%s' in the local store", sid);
	if ((rc = account_connect(a)) != 0)
		return rc;
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_READ;
	ch.folder_id = fid;
	ch.server_id = sid;
	ch.value = a->o.read_flag;
	int64_t id = 0;
	if ((rc = eas_session_queue_change(a->session, &ch, &id)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot queue the change: %s", eas_strerror(rc));
	const char *ids[1] = { fid };
	if ((rc = eas_session_sync(a->session, ids, 1)) != 0)
		return fail(a, EXIT_FAILED, 0, 0, "cannot start Sync: %s", eas_strerror(rc));
	rc = drive(a, on_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
	if (rc == -1)
		return fail(a, EXIT_NETWORK, 0, 0, "Sync did not finish within %ld s (the change stays queued)",
			    a->o.timeout_s);
	if (rc == -2)
		return fail(a, EXIT_FAILED, 0, 0, "interrupted (the change stays queued for the next sync)");
	if (rc)
		return rc;
	int pending = 0;
	a->store->change_list(a->store, fid, count_change, &pending);
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "mark");
		json_kv_bool("ok", 1);
		json_kv_string("server_id", sid);
		json_kv_string("folder", fid);
		json_kv_bool("read", a->o.read_flag);
		json_kv_bool("uploaded", pending == 0);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet) {
		printf("%s marked %s%s\n", sid, a->o.read_flag ? "read" : "unread",
		       pending ? " (still queued: the server did not take it yet)" : " on the server");
	}
	return 0;
}
