/*
 * The FolderSync phase: the folder hierarchy into the state store.
 *
 * Each response is applied in ONE store transaction together with its new
 * FolderSync key, and the request is repeated with that key until a
 * response brings no change (servers send subfolders in later rounds).  A
 * folder that already exists (same ServerId) keeps what the app and the
 * engine know of it: its Sync key, sync_wanted, its items.
 *
 * Status 9 (invalid key) restarts from key 0 in "resync" mode, marked in
 * the store ("folder_resync") so a crash halfway starts it again: every
 * folder the server lists is matched by ServerId, and once the server has
 * nothing more, the folders it did not list are deleted (with their items
 * and queued changes).  6, 8 and 11 are retried with a backoff (the
 * session does it first for the ones its status table marks retryable);
 * 10, 12 and anything else end the phase with EAS_EVENT_ERROR.
 */
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/folder_sync.h"
#include "common/mem.h"
#include "eas/status.h"

static int write_request(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	eas_folder_sync_request req = { y->fs.key };
	return eas_folder_sync_request_encode(enc, &req);
}

static void send_request(eas__sync *y, uint64_t delay_ms)
{
	int rc = eas__sync_send(y, EAS_CMD_FOLDER_SYNC, write_request, y, delay_ms);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send FolderSync: %s", eas_strerror(rc));
}

void eas__sync_folders_free(eas__sync *y)
{
	for (size_t i = 0; i < y->fs.nseen; i++)
		eas__free(&y->mem, y->fs.seen[i]);
	eas__free(&y->mem, y->fs.seen);
	y->fs.seen = NULL;
	y->fs.nseen = y->fs.capseen = 0;
}

static int seen_add(eas__sync *y, const char *id)
{
	for (size_t i = 0; i < y->fs.nseen; i++)
		if (strcmp(y->fs.seen[i], id) == 0)
			return 0;
	if (y->fs.nseen == y->fs.capseen) {
		size_t cap = y->fs.capseen ? y->fs.capseen * 2 : 32;
		char **n = eas__realloc(&y->mem, y->fs.seen, cap * sizeof *n);
		if (!n)
			return EAS_E_NOMEM;
		y->fs.seen = n;
		y->fs.capseen = cap;
	}
	if (!(y->fs.seen[y->fs.nseen] = eas__sync_strdup(y, id)))
		return EAS_E_NOMEM;
	y->fs.nseen++;
	return 0;
}

static int seen_has(const eas__sync *y, const char *id)
{
	for (size_t i = 0; i < y->fs.nseen; i++)
		if (strcmp(y->fs.seen[i], id) == 0)
			return 1;
	return 0;
}

void eas__sync_folders_start(eas__sync *y)
{
	eas__sync_folders_free(y);
	y->fs.rounds = 0;
	y->fs.changed = 0;
	y->fs.resync = 0;
	char mark[8];
	if (y->store->value_get(y->store, "folder_resync", mark, sizeof mark) == 0) {
		y->fs.resync = 1; /* a resync was interrupted: from the start again */
		snprintf(y->fs.key, sizeof y->fs.key, "0");
	} else if (y->store->value_get(y->store, "folder_sync_key", y->fs.key, sizeof y->fs.key) != 0) {
		snprintf(y->fs.key, sizeof y->fs.key, "0");
	}
	send_request(y, 0);
}

static int notify(eas__sync *y, const eas_store_folder *f, int deleted)
{
	if (y->cb.folder_changed && y->cb.folder_changed(f, deleted, y->cb.user_data) != 0)
		return EAS_E_CALLBACK;
	return 0;
}

/* One Add or Update: the stored folder keeps its sync state. */
static int apply_put(eas__sync *y, const eas_folder_change *c)
{
	eas_store_folder f;
	char key[EAS__SYNC_ID_SIZE] = "0", cls[EAS__SYNC_CLASS_SIZE];
	int wanted, more = 0;
	const char *type_class = eas__sync_type_class(c->type);
	int rc = y->store->folder_get(y->store, c->server_id, &f);
	if (rc == 0) {
		snprintf(key, sizeof key, "%s", f.sync_key ? f.sync_key : "0");
		snprintf(cls, sizeof cls, "%s", f.class_name && f.class_name[0] ? f.class_name : type_class);
		wanted = f.sync_wanted;
		more = f.more_available;
	} else if (rc == EAS_E_NOTFOUND) {
		snprintf(cls, sizeof cls, "%s", type_class);
		wanted = eas__sync_type_wanted(c->type);
	} else {
		return rc;
	}
	memset(&f, 0, sizeof f);
	f.server_id = c->server_id;
	f.parent_id = c->parent_id;
	f.display_name = c->display_name;
	f.type = c->type;
	f.sync_key = key;
	f.class_name = cls;
	f.sync_wanted = wanted;
	f.more_available = more;
	rc = y->store->folder_put(y->store, &f);
	if (rc == 0 && y->fs.resync)
		rc = seen_add(y, c->server_id);
	return rc ? rc : notify(y, &f, 0);
}

static int apply_delete(eas__sync *y, const char *server_id)
{
	int rc = y->store->folder_delete(y->store, server_id);
	if (rc && rc != EAS_E_NOTFOUND)
		return rc;
	eas_store_folder f;
	memset(&f, 0, sizeof f);
	f.server_id = server_id;
	return notify(y, &f, 1);
}

typedef struct sweep {
	eas__sync *y;
	char **gone;
	size_t n, cap;
	int rc;
} sweep;

static int collect_unseen(const eas_store_folder *f, void *ud)
{
	sweep *w = ud;
	if (seen_has(w->y, f->server_id))
		return 0;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 16;
		char **g = eas__realloc(&w->y->mem, w->gone, cap * sizeof *g);
		if (!g) {
			w->rc = EAS_E_NOMEM;
			return 1;
		}
		w->gone = g;
		w->cap = cap;
	}
	if (!(w->gone[w->n] = eas__sync_strdup(w->y, f->server_id))) {
		w->rc = EAS_E_NOMEM;
		return 1;
	}
	w->n++;
	return 0;
}

/* End of a resync: folders the server no longer lists go, in one transaction with the mark. */
static int finish_resync(eas__sync *y, uint64_t *changed)
{
	sweep w = { y, NULL, 0, 0, 0 };
	int rc = eas__sync_begin(y);
	if (rc == 0) {
		rc = y->store->folder_list(y->store, collect_unseen, &w);
		if (rc == EAS_E_CALLBACK && w.rc)
			rc = w.rc;
	}
	for (size_t i = 0; rc == 0 && i < w.n; i++) {
		rc = apply_delete(y, w.gone[i]);
		(*changed)++;
	}
	if (rc == 0)
		rc = y->store->value_set(y->store, "folder_resync", NULL);
	if (rc == EAS_E_NOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = eas__sync_commit(y);
	else
		eas__sync_rollback(y);
	for (size_t i = 0; i < w.n; i++)
		eas__free(&y->mem, w.gone[i]);
	eas__free(&y->mem, w.gone);
	return rc;
}

static void phase_done(eas__sync *y)
{
	if (y->fs.resync) {
		int rc = finish_resync(y, &y->fs.changed);
		if (rc) {
			eas__sync_fail(y, rc, 0, "FolderSync: could not remove the folders the server dropped: %s",
				       eas_strerror(rc));
			return;
		}
		y->fs.resync = 0;
	}
	eas__sync_folders_free(y);
	eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_FOLDERS_SYNCED, NULL, 0,
						   "folder hierarchy up to date (%llu changed)",
						   (unsigned long long)y->fs.changed);
	ev->count = y->fs.changed;
	eas__sync_advance(y);
}

/* Applies a status-1 response: every change and the new key together. */
static int apply_changes(eas__sync *y, const eas_folder_sync_response *r, size_t *count, char *err, size_t err_size)
{
	int rc = eas__sync_begin(y);
	const eas_node *cursor = NULL;
	eas_folder_change c;
	while (rc == 0) {
		int more = eas_folder_sync_next_change(r, &cursor, &c, err, err_size);
		if (more <= 0) {
			rc = more;
			break;
		}
		if (strlen(c.server_id) > EAS_STORE_ID_MAX || (c.parent_id && strlen(c.parent_id) > EAS_STORE_ID_MAX)) {
			snprintf(err, err_size, "folder ServerId longer than %u bytes", EAS_STORE_ID_MAX);
			rc = EAS_E_LIMIT;
			break;
		}
		rc = c.kind == EAS_FOLDER_CHANGE_DELETE ? apply_delete(y, c.server_id) : apply_put(y, &c);
		(*count)++;
	}
	if (rc == 0)
		rc = y->store->value_set(y->store, "folder_sync_key", r->sync_key);
	if (rc == 0)
		rc = eas__sync_commit(y);
	else
		eas__sync_rollback(y);
	return rc;
}

void eas__sync_folders_response(eas__sync *y)
{
	eas_session *s = y->s;
	eas_tree *tree = NULL;
	char err[200] = "";
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err, sizeof err);
	eas_folder_sync_response r;
	memset(&r, 0, sizeof r);
	if (rc == 0)
		rc = eas_folder_sync_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad FolderSync response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	switch (r.status) {
	case EAS_FOLDER_SYNC_OK: {
		size_t count = 0;
		if (!r.sync_key || !r.sync_key[0] || strlen(r.sync_key) > EAS_STORE_ID_MAX) {
			eas_tree_free(tree);
			eas__sync_fail(y, EAS_E_PROTOCOL, 1, "FolderSync response without a valid SyncKey");
			return;
		}
		rc = apply_changes(y, &r, &count, err, sizeof err);
		if (rc) {
			eas_tree_free(tree);
			if (rc == EAS_E_CALLBACK)
				eas__sync_fail(y, rc, 0, "FolderSync: a folder callback failed; nothing applied");
			else
				eas__sync_fail(y, rc, 0, "FolderSync response not applied: %s",
					       err[0] ? err : eas_strerror(rc));
			return;
		}
		snprintf(y->fs.key, sizeof y->fs.key, "%s", r.sync_key);
		eas_tree_free(tree);
		y->fs.changed += count;
		eas__sync_progress(y);
		if (count > 0 && ++y->fs.rounds < EAS__SYNC_FS_ROUNDS) {
			send_request(y, 0); /* ask again until nothing is left */
			return;
		}
		phase_done(y);
		return;
	}
	case EAS_FOLDER_SYNC_INVALID_KEY:
		eas_tree_free(tree);
		if (y->fs.resync && strcmp(y->fs.key, "0") == 0) {
			eas__sync_fail_status(y, EAS_CMD_FOLDER_SYNC, (int)r.status); /* even key 0 is refused */
			return;
		}
		rc = eas__sync_begin(y);
		if (rc == 0)
			rc = y->store->value_set(y->store, "folder_resync", "1");
		if (rc == 0)
			rc = y->store->value_set(y->store, "folder_sync_key", "0");
		rc = rc ? (eas__sync_rollback(y), rc) : eas__sync_commit(y);
		if (rc) {
			eas__sync_fail(y, rc, 9, "FolderSync: could not restart the hierarchy: %s", eas_strerror(rc));
			return;
		}
		eas__sync_folders_free(y);
		y->fs.resync = 1;
		y->fs.rounds = 0;
		snprintf(y->fs.key, sizeof y->fs.key, "0");
		eas__sync_log(y, EAS_LOG_INFO, "FolderSync status 9: full hierarchy resync");
		send_request(y, 0);
		return;
	case EAS_FOLDER_SYNC_SERVER_ERROR:
	case EAS_FOLDER_SYNC_TIMEOUT:
	case EAS_FOLDER_SYNC_UNKNOWN_ERROR: {
		eas_tree_free(tree);
		uint64_t delay = eas__sync_retry_delay(y);
		if (delay == UINT64_MAX) {
			eas__sync_fail_status(y, EAS_CMD_FOLDER_SYNC, (int)r.status);
			return;
		}
		send_request(y, delay);
		return;
	}
	default:
		eas_tree_free(tree);
		eas__sync_fail_status(y, EAS_CMD_FOLDER_SYNC, (int)r.status);
		return;
	}
}
