/*
 * eas-sync move ITEM FOLDER: a local MOVE change.  It is queued in the store
 * (durable at once), then a Sync of the item's folder sends it with
 * MoveItems before that folder's Sync; the stored item moves to the
 * destination under the ServerId the server gives it.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

typedef struct move_ctx {
	int moved, refused, status;
	char new_id[EAS_STORE_ID_MAX + 1];
} move_ctx;

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	move_ctx *m = ctx;
	if (ev->type == EAS_EVENT_ITEM_MOVED) {
		m->moved = 1;
		snprintf(m->new_id, sizeof m->new_id, "%s", ev->server_id ? ev->server_id : "");
		return EV_CONTINUE;
	}
	if (ev->type == EAS_EVENT_CHANGE_FAILED) {
		m->refused = 1;
		m->status = ev->status;
		fprintf(stderr, "eas-sync: %s\n", ev->message);
		return EV_CONTINUE;
	}
	if (ev->type == EAS_EVENT_SYNC_DONE)
		return EV_DONE;
	if (ev->type == EAS_EVENT_SYNC_PROGRESS || ev->type == EAS_EVENT_FOLDERS_SYNCED)
		return EV_CONTINUE;
	return EV_DEFAULT;
}

int cmd_move(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	const char *sid = a->o.positional[0];
	char fid[EAS_STORE_ID_MAX + 1], dest[EAS_STORE_ID_MAX + 1];
	rc = item_find(a, a->o.folder, sid, fid, sizeof fid);
	if (rc)
		return fail(a, rc == EAS_E_INVALID ? EXIT_USAGE : EXIT_NOTFOUND, 0, 0, "no item '%s' in the local store", sid);
	rc = folder_find(a, a->o.positional[1], dest, sizeof dest);
	if (rc == EAS_E_INVALID)
		return fail(a, EXIT_USAGE, 0, 0, "folder '%s' is ambiguous: give its id", a->o.positional[1]);
	if (rc)
		return fail(a, EXIT_NOTFOUND, 0, 0, "no folder '%s' in the local store", a->o.positional[1]);
	if ((rc = account_connect(a)) != 0)
		return rc;
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_MOVE;
	ch.folder_id = fid;
	ch.server_id = sid;
	ch.dest_folder_id = dest;
	if ((rc = eas_session_queue_change(a->session, &ch, NULL)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot queue the move: %s", eas_strerror(rc));
	const char *ids[1] = { fid };
	if ((rc = eas_session_sync(a->session, ids, 1)) != 0)
		return fail(a, EXIT_FAILED, 0, 0, "cannot start Sync: %s", eas_strerror(rc));
	move_ctx m;
	memset(&m, 0, sizeof m);
	rc = drive(a, on_event, NULL, &m, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
	if (rc == -1)
		return fail(a, EXIT_NETWORK, 0, 0, "the move did not finish within %ld s (it stays queued)", a->o.timeout_s);
	if (rc == -2)
		return fail(a, EXIT_FAILED, 0, 0, "interrupted (the move stays queued for the next sync)");
	if (rc)
		return rc;
	if (m.refused)
		return fail(a, EXIT_FAILED, m.status, 0, "the server refused to move %s (MoveItems status %d)", sid,
			    m.status);
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "move");
		json_kv_bool("ok", m.moved);
		json_kv_string("server_id", sid);
		json_kv_string("folder", fid);
		json_kv_string("destination", dest);
		json_kv_string("new_server_id", m.new_id[0] ? m.new_id : NULL);
		json_end_object();
		json_newline();
	} else if (!a->o.quiet && m.moved) {
		printf("%s moved to %s%s%s\n", sid, dest, m.new_id[0] ? " as " : "", m.new_id);
	}
	return m.moved ? 0 : fail(a, EXIT_FAILED, 0, 0, "the move is still queued (the server did not answer it yet)");
}
