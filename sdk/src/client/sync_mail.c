/*
 * The mail-app operations of eas/mail.h that are neither Sync nor
 * MoveItems: FolderCreate / FolderUpdate / FolderDelete and Settings (Oof,
 * UserInformation), plus the public entry points of SmartReply,
 * SmartForward and the item Fetch (their requests and answers are the
 * SendMail and Fetch code of sync_misc.c).
 *
 * A folder operation carries the hierarchy SyncKey and its answer moves it:
 * the store's folder and the new key are written in ONE transaction, so a
 * later FolderSync neither misses nor repeats anything.  Status 9 (the key
 * is out of date) runs a FolderSync first and asks once more.
 */
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/folder_ops.h"
#include "commands/settings.h"
#include "common/mem.h"
#include "eas/status.h"

#define MAX_ADDRESSES 64

static void free_str(eas__sync *y, char **p)
{
	eas__free(&y->mem, *p);
	*p = NULL;
}

static void free_oof(eas__sync *y, eas_oof *o)
{
	eas__free(&y->mem, (char *)o->start_time);
	eas__free(&y->mem, (char *)o->end_time);
	eas__free(&y->mem, (char *)o->message);
	memset(o, 0, sizeof *o);
}

void eas__sync_mail_free(eas__sync *y)
{
	free_str(y, &y->fo.folder_id);
	free_str(y, &y->fo.parent_id);
	free_str(y, &y->fo.name);
	y->fo.kind = 0;
	y->fo.retried = 0;
	free_oof(y, &y->st.in);
	y->st.oof_get = y->st.oof_set = y->st.user_info = 0;
}

void eas__sync_results_free(eas__sync *y)
{
	free_oof(y, &y->res.oof);
	y->res.have_oof = 0;
	for (size_t i = 0; i < y->res.naddrs; i++)
		eas__free(&y->mem, y->res.addrs[i]);
	eas__free(&y->mem, y->res.addrs);
	y->res.addrs = NULL;
	y->res.naddrs = 0;
}

/* ---- folder operations ------------------------------------------------------------------ */

typedef struct fo_request {
	eas__sync *y;
	const char *key;
} fo_request;

static int write_folder_op(eas_wbxml_encoder *enc, void *arg)
{
	fo_request *r = arg;
	eas__sync *y = r->y;
	switch (y->fo.kind) {
	case EAS_CMD_FOLDER_CREATE: {
		eas_folder_create_request q = { r->key, y->fo.parent_id, y->fo.name, y->fo.type };
		return eas_folder_create_request_encode(enc, &q);
	}
	case EAS_CMD_FOLDER_UPDATE: {
		eas_folder_update_request q = { r->key, y->fo.folder_id, y->fo.parent_id, y->fo.name };
		return eas_folder_update_request_encode(enc, &q);
	}
	default: {
		eas_folder_delete_request q = { r->key, y->fo.folder_id };
		return eas_folder_delete_request_encode(enc, &q);
	}
	}
}

void eas__sync_folder_op_start(eas__sync *y)
{
	char key[EAS__SYNC_ID_SIZE];
	if (y->store->value_get(y->store, "folder_sync_key", key, sizeof key) != 0)
		snprintf(key, sizeof key, "0");
	fo_request r = { y, key };
	int rc = eas__sync_send(y, (eas_command)y->fo.kind, write_folder_op, &r, 0);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send the folder operation: %s", eas_strerror(rc));
}

/* Status 1: the folder and the new hierarchy key, together. */
static int apply_folder_op(eas__sync *y, const char *new_key, const char *new_id)
{
	int rc = eas__sync_begin(y);
	if (rc)
		return rc;
	eas_store_folder f;
	memset(&f, 0, sizeof f);
	char parent[EAS__SYNC_ID_SIZE], name[EAS_STORE_NAME_MAX + 1], cls[EAS__SYNC_CLASS_SIZE];
	char skey[EAS__SYNC_ID_SIZE];
	switch (y->fo.kind) {
	case EAS_CMD_FOLDER_CREATE:
		f.server_id = new_id;
		f.parent_id = y->fo.parent_id;
		f.display_name = y->fo.name;
		f.type = y->fo.type;
		f.sync_key = "0";
		f.class_name = eas__sync_type_class(y->fo.type);
		f.sync_wanted = eas__sync_type_wanted(y->fo.type);
		rc = y->store->folder_put(y->store, &f);
		if (rc == 0 && y->cb.folder_changed && y->cb.folder_changed(&f, 0, y->cb.user_data) != 0)
			rc = EAS_E_CALLBACK;
		break;
	case EAS_CMD_FOLDER_UPDATE:
		rc = y->store->folder_get(y->store, y->fo.folder_id, &f);
		if (rc == EAS_E_NOTFOUND) {
			rc = 0; /* not stored here: nothing to rename */
			break;
		}
		if (rc)
			break;
		snprintf(cls, sizeof cls, "%s", f.class_name ? f.class_name : "");
		snprintf(skey, sizeof skey, "%s", f.sync_key ? f.sync_key : "0");
		snprintf(parent, sizeof parent, "%s", y->fo.parent_id);
		snprintf(name, sizeof name, "%s", y->fo.name);
		f.class_name = cls;
		f.sync_key = skey;
		f.parent_id = parent;
		f.display_name = name;
		rc = y->store->folder_put(y->store, &f);
		if (rc == 0 && y->cb.folder_changed && y->cb.folder_changed(&f, 0, y->cb.user_data) != 0)
			rc = EAS_E_CALLBACK;
		break;
	default:
		if (y->store->folder_get(y->store, y->fo.folder_id, &f) == 0) {
			f.server_id = y->fo.folder_id;
			rc = y->cb.folder_changed && y->cb.folder_changed(&f, 1, y->cb.user_data) != 0 ? EAS_E_CALLBACK : 0;
		}
		if (rc == 0)
			rc = y->store->folder_delete(y->store, y->fo.folder_id);
		if (rc == EAS_E_NOTFOUND)
			rc = 0;
		break;
	}
	if (rc == 0)
		rc = y->store->value_set(y->store, "folder_sync_key", new_key);
	if (rc == 0)
		rc = eas__sync_commit(y);
	else
		eas__sync_rollback(y);
	return rc;
}

void eas__sync_folder_op_response(eas__sync *y)
{
	eas_session *s = y->s;
	eas_tree *tree = NULL;
	char err[200] = "";
	uint32_t status = 0;
	const char *key = NULL, *id = NULL;
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err,
				sizeof err);
	if (rc == 0) {
		const eas_node *root = eas_tree_root(tree);
		if (y->fo.kind == EAS_CMD_FOLDER_CREATE) {
			eas_folder_create_response r;
			memset(&r, 0, sizeof r);
			rc = eas_folder_create_response_decode(&r, root, err, sizeof err);
			status = r.status, key = r.sync_key, id = r.server_id;
		} else if (y->fo.kind == EAS_CMD_FOLDER_UPDATE) {
			eas_folder_update_response r;
			memset(&r, 0, sizeof r);
			rc = eas_folder_update_response_decode(&r, root, err, sizeof err);
			status = r.status, key = r.sync_key;
		} else {
			eas_folder_delete_response r;
			memset(&r, 0, sizeof r);
			rc = eas_folder_delete_response_decode(&r, root, err, sizeof err);
			status = r.status, key = r.sync_key;
		}
	}
	if (rc == 0 && status == EAS_FOLDER_OP_OK &&
	    (!key || !key[0] || strlen(key) > EAS_STORE_ID_MAX ||
	     (y->fo.kind == EAS_CMD_FOLDER_CREATE && (!id || !id[0] || strlen(id) > EAS_STORE_ID_MAX)))) {
		snprintf(err, sizeof err, "status 1 without a usable SyncKey or ServerId");
		rc = EAS_E_PROTOCOL;
	}
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad folder operation response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	if (status == EAS_FOLDER_OP_INVALID_KEY && !y->fo.retried) {
		eas_tree_free(tree);
		y->fo.retried = 1;
		y->need_folder_sync = 1; /* then eas__sync_advance asks once more */
		eas__sync_advance(y);
		return;
	}
	if (status != EAS_FOLDER_OP_OK) {
		eas_tree_free(tree);
		eas__sync_fail_status(y, (eas_command)y->fo.kind, (int)status);
		return;
	}
	char new_id[EAS__SYNC_ID_SIZE];
	snprintf(new_id, sizeof new_id, "%s", id ? id : y->fo.folder_id);
	rc = apply_folder_op(y, key, new_id);
	eas_tree_free(tree);
	if (rc) {
		eas__sync_fail(y, rc, 0, "could not store the folder operation: %s", eas_strerror(rc));
		return;
	}
	const char *what = y->fo.kind == EAS_CMD_FOLDER_CREATE ? "created"
			   : y->fo.kind == EAS_CMD_FOLDER_UPDATE ? "updated" : "deleted";
	eas__session_event(s, EAS_EVENT_FOLDER_CHANGED, new_id, 0, "folder %s %s", new_id, what);
	y->fo.kind = 0;
	eas__sync_advance(y); /* ends the job */
}

/* ---- Settings -------------------------------------------------------------------------- */

static int write_settings(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	eas_settings_request r;
	memset(&r, 0, sizeof r);
	if (y->st.oof_get) {
		r.oof = EAS_SETTINGS_OOF_GET;
		r.oof_body_type = EAS_SETTINGS_BODY_TEXT;
	} else if (y->st.oof_set) {
		const eas_oof *o = &y->st.in;
		r.oof = EAS_SETTINGS_OOF_SET;
		r.oof_set.has_state = 1;
		r.oof_set.state = o->state;
		if (o->state == EAS_OOF_TIMED) {
			r.oof_set.start_time = o->start_time;
			r.oof_set.end_time = o->end_time;
		}
		size_t n = o->external ? 3 : 1;
		for (size_t i = 0; i < n; i++) {
			eas_oof_message *m = &r.oof_set.messages[i];
			m->audience = (eas_oof_audience)i;
			m->has_enabled = 1;
			m->enabled = o->state != EAS_OOF_OFF && o->message != NULL;
			if (o->message) {
				m->reply_message = o->message;
				m->body_type = EAS_SETTINGS_BODY_TEXT;
			}
		}
		r.oof_set.message_count = n;
	}
	r.user_info = y->st.user_info;
	return eas_settings_request_encode(enc, &r);
}

void eas__sync_settings_start(eas__sync *y)
{
	int rc = eas__sync_send(y, EAS_CMD_SETTINGS, write_settings, y, 0);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send Settings: %s", eas_strerror(rc));
}

static int keep_address(eas__sync *y, const char *a)
{
	if (!a || !a[0] || strlen(a) > EAS_STORE_NAME_MAX || y->res.naddrs >= MAX_ADDRESSES)
		return 0;
	for (size_t i = 0; i < y->res.naddrs; i++)
		if (strcmp(y->res.addrs[i], a) == 0)
			return 0;
	char **n = eas__realloc(&y->mem, y->res.addrs, (y->res.naddrs + 1) * sizeof *n);
	if (!n)
		return EAS_E_NOMEM;
	y->res.addrs = n;
	if (!(n[y->res.naddrs] = eas__sync_strdup(y, a)))
		return EAS_E_NOMEM;
	y->res.naddrs++;
	return 0;
}

static int keep_addresses(eas__sync *y, const eas_node *list)
{
	const eas_node *cur = NULL;
	const char *a;
	int rc = 0;
	while (rc == 0 && eas_settings_next_smtp_address(list, &cur, &a) == 1)
		rc = keep_address(y, a);
	return rc;
}

static int keep_user_info(eas__sync *y, const eas_settings_user_info *ui, char *err, size_t err_size)
{
	int rc = keep_address(y, ui->primary_smtp_address);
	if (rc == 0)
		rc = keep_addresses(y, ui->email_addresses);
	const eas_node *cur = NULL;
	eas_settings_account a;
	int more;
	while (rc == 0 && (more = eas_settings_next_account(ui, &cur, &a, err, err_size)) != 0) {
		if (more < 0)
			return EAS_E_PROTOCOL;
		rc = keep_address(y, a.primary_smtp_address);
		if (rc == 0)
			rc = keep_addresses(y, a.email_addresses);
	}
	return rc;
}

static int keep_oof(eas__sync *y, const eas_oof_settings *o)
{
	eas_oof *out = &y->res.oof;
	out->state = o->has_state ? o->state : EAS_OOF_OFF;
	for (size_t i = 0; i < o->message_count; i++) {
		const eas_oof_message *m = &o->messages[i];
		if (m->audience == EAS_OOF_INTERNAL && m->reply_message && !out->message &&
		    !(out->message = eas__sync_strdup(y, m->reply_message)))
			return EAS_E_NOMEM;
		if (m->audience != EAS_OOF_INTERNAL && m->has_enabled && m->enabled)
			out->external = 1;
	}
	if (o->start_time && !(out->start_time = eas__sync_strdup(y, o->start_time)))
		return EAS_E_NOMEM;
	if (o->end_time && !(out->end_time = eas__sync_strdup(y, o->end_time)))
		return EAS_E_NOMEM;
	y->res.have_oof = 1;
	return 0;
}

void eas__sync_settings_response(eas__sync *y)
{
	eas_session *s = y->s;
	eas_tree *tree = NULL;
	char err[200] = "";
	eas_settings_response r;
	memset(&r, 0, sizeof r);
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err,
				sizeof err);
	if (rc == 0)
		rc = eas_settings_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad Settings response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	uint32_t bad = r.status != EAS_SETTINGS_OK ? r.status : 0;
	if (!bad && (y->st.oof_get || y->st.oof_set) && r.has_oof && r.oof_status != EAS_SETTINGS_OK)
		bad = r.oof_status;
	if (!bad && y->st.user_info && r.has_user_info && r.user_info_status != EAS_SETTINGS_OK)
		bad = r.user_info_status;
	if (bad) {
		eas_tree_free(tree);
		eas__sync_fail_status(y, EAS_CMD_SETTINGS, (int)bad);
		return;
	}
	eas__sync_results_free(y);
	if (y->st.oof_get && r.has_oof_get)
		rc = keep_oof(y, &r.oof);
	if (rc == 0 && y->st.user_info && r.has_user_info_get)
		rc = keep_user_info(y, &r.user_info, err, sizeof err);
	eas_tree_free(tree);
	if (rc) {
		eas__sync_results_free(y);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad Settings response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	eas_session_event *ev = eas__session_event(s, EAS_EVENT_SETTINGS, NULL, 0, "settings %s",
						   y->st.oof_set ? "saved" : "received");
	ev->count = y->res.naddrs;
	eas__sync_advance(y); /* ends the job */
}

/* ---- public API ------------------------------------------------------------------------ */

static int id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= EAS_STORE_ID_MAX;
}

/* Starts the job of eas/mail.h: the engine's common checks (sync_engine.c does the same for its own). */
static int mail_job(eas__sync **out, eas_session *s, eas__job job)
{
	*out = NULL;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	if (!y->store || s->step != EAS__STEP_IDLE || y->job != EAS__JOB_NONE || !s->version)
		return EAS_E_STATE;
	eas__sync_results_free(y);
	eas__sync_mail_free(y);
	eas__sync_misc_free(y);
	eas__sync_move_free(y);
	y->job = job;
	y->status_retries = 0;
	y->need_folder_sync = 0;
	eas__sync_progress(y);
	*out = y;
	return 0;
}

static void mail_job_abort(eas__sync *y)
{
	eas__sync_mail_free(y);
	eas__sync_misc_free(y);
	y->job = EAS__JOB_NONE;
	y->phase = EAS__PH_NONE;
}

static int folder_job(eas_session *s, int kind, const char *id, const char *parent, const char *name,
		      uint32_t type)
{
	eas__sync *y;
	int rc = mail_job(&y, s, EAS__JOB_FOLDER_OP);
	if (rc)
		return rc;
	y->fo.kind = kind;
	y->fo.type = type;
	if ((id && !(y->fo.folder_id = eas__sync_strdup(y, id))) ||
	    (parent && !(y->fo.parent_id = eas__sync_strdup(y, parent))) ||
	    (name && !(y->fo.name = eas__sync_strdup(y, name)))) {
		mail_job_abort(y);
		return EAS_E_NOMEM;
	}
	y->need_folder_sync = !eas__sync_have_hierarchy(y);
	eas__sync_advance(y);
	return 0;
}

int eas_session_folder_create(eas_session *s, const char *parent_id, const char *name, uint32_t type)
{
	if (!s || !id_ok(parent_id) || !name || !name[0] || strlen(name) > EAS_STORE_NAME_MAX || type == 0 ||
	    type > 19)
		return EAS_E_INVALID;
	return folder_job(s, EAS_CMD_FOLDER_CREATE, NULL, parent_id, name, type);
}

int eas_session_folder_update(eas_session *s, const char *folder_id, const char *parent_id, const char *name)
{
	if (!s || !id_ok(folder_id) || !id_ok(parent_id) || !name || !name[0] || strlen(name) > EAS_STORE_NAME_MAX)
		return EAS_E_INVALID;
	return folder_job(s, EAS_CMD_FOLDER_UPDATE, folder_id, parent_id, name, 0);
}

int eas_session_folder_delete(eas_session *s, const char *folder_id)
{
	if (!s || !id_ok(folder_id))
		return EAS_E_INVALID;
	return folder_job(s, EAS_CMD_FOLDER_DELETE, folder_id, NULL, NULL, 0);
}

static int smart_job(eas_session *s, int kind, const char *folder_id, const char *server_id, const uint8_t *mime,
		     size_t len, unsigned flags)
{
	if (!s || !id_ok(folder_id) || !id_ok(server_id) || !mime || !len ||
	    (flags & ~(EAS_COMPOSE_SAVE_IN_SENT | EAS_COMPOSE_REPLACE_MIME)))
		return EAS_E_INVALID;
	eas__sync *y;
	int rc = mail_job(&y, s, EAS__JOB_SEND_MAIL);
	if (rc)
		return rc;
	y->sm.mime = eas__malloc(&y->mem, len);
	y->sm.folder_id = eas__sync_strdup(y, folder_id);
	y->sm.item_id = eas__sync_strdup(y, server_id);
	if (!y->sm.mime || !y->sm.folder_id || !y->sm.item_id) {
		mail_job_abort(y);
		return EAS_E_NOMEM;
	}
	memcpy(y->sm.mime, mime, len);
	y->sm.len = len;
	y->sm.kind = kind;
	y->sm.save_in_sent = (flags & EAS_COMPOSE_SAVE_IN_SENT) != 0;
	y->sm.replace_mime = (flags & EAS_COMPOSE_REPLACE_MIME) != 0;
	y->phase = EAS__PH_SEND_MAIL;
	eas__sync_send_mail_start(y);
	return 0;
}

int eas_session_smart_reply(eas_session *s, const char *folder_id, const char *server_id, const uint8_t *mime,
			    size_t len, unsigned flags)
{
	return smart_job(s, 2 /* EAS_COMPOSE_SMART_REPLY */, folder_id, server_id, mime, len, flags);
}

int eas_session_smart_forward(eas_session *s, const char *folder_id, const char *server_id, const uint8_t *mime,
			      size_t len, unsigned flags)
{
	return smart_job(s, 3 /* EAS_COMPOSE_SMART_FORWARD */, folder_id, server_id, mime, len, flags);
}

int eas_session_fetch_item(eas_session *s, const char *folder_id, const char *server_id, uint32_t body_type,
			   eas_fetch_sink sink, void *user_data)
{
	if (!s || !id_ok(folder_id) || !id_ok(server_id) || !sink || (body_type != 1 && body_type != 2 && body_type != 4))
		return EAS_E_INVALID;
	if (s->version && !(s->version & EAS_PROTO_FROM(EAS_PROTO_12_0)))
		return EAS_E_UNSUPPORTED; /* 2.5 has no ItemOperations */
	eas__sync *y;
	int rc = mail_job(&y, s, EAS__JOB_FETCH);
	if (rc)
		return rc;
	y->fe.collection_id = eas__sync_strdup(y, folder_id);
	y->fe.server_id = eas__sync_strdup(y, server_id);
	if (!y->fe.collection_id || !y->fe.server_id) {
		mail_job_abort(y);
		return EAS_E_NOMEM;
	}
	y->fe.body_type = body_type;
	y->fe.sink = sink;
	y->fe.sink_data = user_data;
	y->phase = EAS__PH_FETCH;
	eas__sync_fetch_start(y);
	return 0;
}

static int settings_job(eas_session *s, int oof_get, const eas_oof *set, int user_info)
{
	if (s && s->version && !(s->version & EAS_PROTO_FROM(EAS_PROTO_12_0)))
		return EAS_E_UNSUPPORTED; /* Settings came with 12.0 */
	eas__sync *y;
	int rc = mail_job(&y, s, EAS__JOB_SETTINGS);
	if (rc)
		return rc;
	y->st.oof_get = oof_get;
	y->st.user_info = user_info;
	if (set) {
		y->st.oof_set = 1;
		y->st.in.state = set->state;
		y->st.in.external = set->external != 0;
		if ((set->message && !(y->st.in.message = eas__sync_strdup(y, set->message))) ||
		    (set->state == EAS_OOF_TIMED && (!(y->st.in.start_time = eas__sync_strdup(y, set->start_time)) ||
						     !(y->st.in.end_time = eas__sync_strdup(y, set->end_time))))) {
			mail_job_abort(y);
			return EAS_E_NOMEM;
		}
	}
	y->phase = EAS__PH_SETTINGS;
	eas__sync_settings_start(y);
	return 0;
}

int eas_session_oof_get(eas_session *s)
{
	if (!s)
		return EAS_E_INVALID;
	return settings_job(s, 1, NULL, 0);
}

int eas_session_oof_set(eas_session *s, const eas_oof *oof)
{
	if (!s || !oof || oof->state > EAS_OOF_TIMED ||
	    (oof->state == EAS_OOF_TIMED && (!oof->start_time || !oof->end_time || strlen(oof->start_time) > 64 ||
					     strlen(oof->end_time) > 64)) ||
	    (oof->message && strlen(oof->message) > 65536))
		return EAS_E_INVALID;
	return settings_job(s, 0, oof, 0);
}

const eas_oof *eas_session_oof(const eas_session *s)
{
	const eas__sync *y = s ? s->sync : NULL;
	return y && y->res.have_oof ? &y->res.oof : NULL;
}

int eas_session_user_info(eas_session *s)
{
	if (!s)
		return EAS_E_INVALID;
	return settings_job(s, 0, NULL, 1);
}

const char *eas_session_user_address(const eas_session *s, size_t index)
{
	const eas__sync *y = s ? s->sync : NULL;
	return y && index < y->res.naddrs ? y->res.addrs[index] : NULL;
}
