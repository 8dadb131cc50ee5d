/*
 * FolderSync (MS-ASCMD 2.2.1.5) over the store's hierarchy key chain, and
 * the key-chain steps FolderCreate/Update/Delete share with it.
 *
 *   SyncKey 0         every folder as an Add, a new key (and the OPTIONS
 *                     headers, as Exchange sends them on a FolderSync 0)
 *   the current key   the changes since, a new key
 *   the previous key  the last response again, byte for byte (it was lost)
 *   anything else     Status 9: the client starts over with 0
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "commands/folder_sync.h"
#include "common/mem.h"

typedef struct change_copy {
	eas_folder_change_kind kind;
	uint32_t type;
	char server_id[EAS_MSTORE_ID_SIZE];
	char parent_id[EAS_MSTORE_ID_SIZE];
	char name[EAS_MSTORE_NAME_SIZE];
} change_copy;

typedef struct change_list {
	const eas_mem *mem;
	change_copy *items;
	size_t count, cap;
} change_list;

static int collect(const eas_mstore_change *ch, void *user_data)
{
	change_list *l = user_data;
	if (l->count == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		change_copy *n = eas__realloc(l->mem, l->items, cap * sizeof *n);
		if (!n)
			return EAS_E_NOMEM;
		l->items = n;
		l->cap = cap;
	}
	change_copy *c = &l->items[l->count];
	memset(c, 0, sizeof *c);
	switch (ch->kind) {
	case EAS_MSTORE_CHANGE_ADD:
		c->kind = EAS_FOLDER_CHANGE_ADD;
		break;
	case EAS_MSTORE_CHANGE_CHANGE:
		c->kind = EAS_FOLDER_CHANGE_UPDATE;
		break;
	case EAS_MSTORE_CHANGE_DELETE:
		c->kind = EAS_FOLDER_CHANGE_DELETE;
		break;
	default:
		return 0; /* soft deletes do not exist in the hierarchy */
	}
	snprintf(c->server_id, sizeof c->server_id, "%s", ch->server_id ? ch->server_id : "");
	if (c->kind != EAS_FOLDER_CHANGE_DELETE && ch->folder) {
		snprintf(c->server_id, sizeof c->server_id, "%s", ch->folder->server_id);
		snprintf(c->parent_id, sizeof c->parent_id, "%s", ch->folder->parent_id);
		snprintf(c->name, sizeof c->name, "%s", ch->folder->display_name);
		c->type = ch->folder->type;
	}
	l->count++;
	return 0;
}

typedef struct sync_answer {
	const char *key;
	const change_list *changes;
	const eas_mem *mem;
} sync_answer;

static int encode_answer(eas_wbxml_encoder *enc, const void *arg)
{
	const sync_answer *a = arg;
	size_t n = a->changes->count;
	eas_folder_change *list = n ? eas__calloc(a->mem, n, sizeof *list) : NULL;
	if (n && !list)
		return EAS_E_NOMEM;
	for (size_t i = 0; i < n; i++) {
		const change_copy *c = &a->changes->items[i];
		list[i].kind = c->kind;
		list[i].server_id = c->server_id;
		list[i].parent_id = c->parent_id;
		list[i].display_name = c->name;
		list[i].type = c->type;
	}
	eas_folder_sync_response resp;
	memset(&resp, 0, sizeof resp);
	resp.status = EAS_FOLDER_SYNC_OK;
	resp.sync_key = a->key;
	resp.change_list = list;
	resp.change_count = n;
	int rc = eas_folder_sync_response_encode(enc, &resp);
	eas__free(a->mem, list);
	return rc;
}

int eas__srv_commit_reply(eas_srv_ctx *c, eas_mstore_sync *st, eas_srv_encode_fn fn, const void *arg, eas_tag root,
			  eas_tag status_tag)
{
	eas_mstore *store = c->store;
	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc) {
		store->rollback(store);
		return rc;
	}
	rc = fn(enc, arg);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && buf.result)
		rc = buf.result;
	if (rc == 0)
		rc = store->sync_commit(store, st, buf.data, buf.len);
	if (rc == EAS_E_STATE) {
		/* another request of this device moved the chain since sync_check */
		store->rollback(store);
		eas_buf_free(&buf);
		return eas__srv_reply_status(c, root, status_tag, EAS_FOLDER_SYNC_INVALID_KEY);
	}
	if (rc == 0)
		rc = store->commit(store);
	else
		store->rollback(store);
	if (rc == 0)
		rc = eas__srv_reply_bytes(c, buf.data, buf.len);
	eas_buf_free(&buf);
	return rc;
}

/* Answers a PREVIOUS key with the stored bytes. */
static int replay(eas_srv_ctx *c, const eas_mstore_sync *st)
{
	uint8_t *bytes = NULL;
	size_t len = 0;
	int rc = c->store->sync_replay(&bytes, &len, c->store, st);
	if (rc == 0)
		rc = eas__srv_reply_bytes(c, bytes, len);
	c->store->release(c->store, bytes);
	snprintf(c->err, sizeof c->err, "replayed the previous response");
	return rc;
}

int eas__srv_hierarchy_key(eas_srv_ctx *c, eas_mstore_sync *st, const char *key, const char *tag, eas_tag root)
{
	int rc = c->store->sync_check(st, c->store, c->user_id, c->device_id, NULL, key, tag);
	if (rc == EAS_E_INVALID)
		st->match = EAS_MSTORE_KEY_STALE; /* a key longer than any we issue */
	else if (rc)
		return rc;
	switch (st->match) {
	case EAS_MSTORE_KEY_CURRENT:
		return 1;
	case EAS_MSTORE_KEY_PREVIOUS:
		rc = replay(c, st);
		return rc ? rc : 0;
	default:
		/* a stale key, or 0 (the hierarchy must be synced before it is changed) */
		rc = eas__srv_reply_status(c, root, EAS_TAG_FOLDERHIERARCHY_STATUS, EAS_FOLDER_SYNC_INVALID_KEY);
		return rc ? rc : 0;
	}
}

int eas__srv_handle_folder_sync(eas_srv_ctx *c)
{
	eas_folder_sync_request req;
	char derr[160];
	int rc = eas_folder_sync_request_decode(&req, c->root, derr, sizeof derr);
	if (rc)
		return rc;
	eas_mstore *store = c->store;
	eas_mstore_sync st;
	rc = store->sync_check(&st, store, c->user_id, c->device_id, NULL, req.sync_key, "FolderSync");
	if (rc == EAS_E_INVALID)
		st.match = EAS_MSTORE_KEY_STALE;
	else if (rc)
		return rc;
	if (st.match == EAS_MSTORE_KEY_PREVIOUS)
		return replay(c, &st);
	if (st.match != EAS_MSTORE_KEY_INITIAL && st.match != EAS_MSTORE_KEY_CURRENT)
		return eas__srv_reply_status(c, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_STATUS,
					     EAS_FOLDER_SYNC_INVALID_KEY);
	rc = store->begin(store);
	if (rc)
		return rc;
	change_list changes = { c->mem, NULL, 0, 0 };
	rc = store->sync_changes(NULL, store, &st, NULL, collect, &changes);
	if (rc) {
		store->rollback(store);
		eas__free(c->mem, changes.items);
		return rc;
	}
	sync_answer answer = { st.next_key, &changes, c->mem };
	rc = eas__srv_commit_reply(c, &st, encode_answer, &answer, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC,
				   EAS_TAG_FOLDERHIERARCHY_STATUS);
	eas__free(c->mem, changes.items);
	if (rc == 0 && c->eas_status == 0)
		c->eas_status = EAS_FOLDER_SYNC_OK;
	if (rc == 0 && st.match == EAS_MSTORE_KEY_INITIAL && c->resp->status == 200)
		rc = eas__srv_add_caps_headers(c);
	return rc;
}
