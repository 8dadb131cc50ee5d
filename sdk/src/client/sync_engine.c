/*
 * The synchronization engine's driver (see sync_internal.h): the public
 * entry points of eas/sync.h, the hook through which the session hands the
 * answers of the engine's commands back (eas__op), the choice of the next
 * phase of a job, store transactions and status retries.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/ping.h"
#include "common/mem.h"
#include "eas/status.h"

#define PING_TIMEOUT_MARGIN_MS 30000u /* a held Ping answers at its heartbeat: allow this much more */

/* ---- small helpers ------------------------------------------------------------ */

char *eas__sync_strdup(eas__sync *y, const char *s)
{
	return eas__strdup(&y->mem, s ? s : "");
}

const char *eas__sync_type_class(uint32_t type)
{
	switch (type) {
	case 2: case 3: case 4: case 5: case 6: case 12:
		return "Email";
	case 7: case 15:
		return "Tasks";
	case 8: case 13:
		return "Calendar";
	case 9: case 14:
		return "Contacts";
	case 10: case 17:
		return "Notes";
	default:
		return ""; /* generic (1), journal (11, 16), unknown (18), recipient cache (19) */
	}
}

int eas__sync_type_wanted(uint32_t type)
{
	return eas__sync_type_class(type)[0] != '\0';
}

int eas__sync_have_hierarchy(eas__sync *y)
{
	char key[EAS__SYNC_ID_SIZE];
	if (y->store->value_get(y->store, "folder_sync_key", key, sizeof key) != 0)
		return 0;
	return strcmp(key, "0") != 0;
}

/* ---- transactions -------------------------------------------------------------- */

int eas__sync_begin(eas__sync *y)
{
	if (y->in_txn)
		return 0;
	int rc = y->store->begin(y->store);
	if (rc == 0)
		y->in_txn = 1;
	return rc;
}

int eas__sync_commit(eas__sync *y)
{
	if (!y->in_txn)
		return 0;
	y->in_txn = 0;
	return y->store->commit(y->store);
}

void eas__sync_rollback(eas__sync *y)
{
	if (!y->in_txn)
		return;
	y->in_txn = 0;
	y->store->rollback(y->store);
	if (y->cb.rolled_back)
		y->cb.rolled_back(y->cb.user_data);
}

/* ---- retries --------------------------------------------------------------------- */

uint64_t eas__sync_retry_delay(eas__sync *y)
{
	uint32_t rnd = 0;
	y->s->platform->random_bytes((unsigned char *)&rnd, sizeof rnd, y->s->platform->user_data);
	uint64_t delay = 0;
	if (eas__backoff_next(&delay, &y->backoff, rnd, 0, 0) != 0)
		return UINT64_MAX;
	return delay;
}

void eas__sync_progress(eas__sync *y)
{
	eas__backoff_reset(&y->backoff);
	y->folder_syncs = 0;
}

/* ---- ending a job ------------------------------------------------------------------ */

static void release_job(eas__sync *y)
{
	eas__sync_rollback(y);
	eas__sync_folders_free(y);
	eas__sync_collections_free(y);
	eas__sync_misc_free(y);
	eas__sync_move_free(y);
	eas__sync_mail_free(y);
	y->job = EAS__JOB_NONE;
	y->phase = EAS__PH_NONE;
	y->need_folder_sync = 0;
	y->ps.interrupted = 0;
}

void eas__sync_fail(eas__sync *y, int error, int status, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	eas__sync_rollback(y);
	/* The session calls on_failure, which releases the job. */
	eas__session_fail(y->s, error, y->s->status, status, "%s", msg);
}

void eas__sync_fail_status(eas__sync *y, eas_command command, int status)
{
	char text[200];
	eas_command_status_describe(text, sizeof text, command, status);
	eas__sync_fail(y, EAS_E_PROTOCOL, status, "%s", text);
}

static void end_job(eas__sync *y)
{
	release_job(y);
	eas__session_op_end(y->s);
}

/* The protocol version and policy key go to the store as they change. */
static void save_account(eas__sync *y)
{
	eas_session *s = y->s;
	const char *v = eas_protocol_version_name(s->version);
	if (v && strcmp(v, y->saved_version) != 0 &&
	    y->store->value_set(y->store, "protocol_version", v) == 0)
		snprintf(y->saved_version, sizeof y->saved_version, "%s", v);
	if (strcmp(s->policy_key, y->saved_policy_key) != 0 &&
	    y->store->value_set(y->store, "policy_key", s->policy_key) == 0)
		snprintf(y->saved_policy_key, sizeof y->saved_policy_key, "%s", s->policy_key);
}

void eas__sync_advance(eas__sync *y)
{
	if (!y->in_txn)
		save_account(y);
	if (y->need_folder_sync) {
		y->need_folder_sync = 0;
		y->phase = EAS__PH_FOLDER_SYNC;
		eas__sync_folders_start(y);
		return;
	}
	switch (y->job) {
	case EAS__JOB_SYNC:
		if (y->sy.pending) {
			y->phase = EAS__PH_SYNC;
			eas__sync_collections_start(y, 0);
			return;
		}
		end_job(y); /* EAS_EVENT_SYNC_DONE came with the end of the phase */
		return;
	case EAS__JOB_PUSH:
		if (y->sy.pending) {
			y->phase = EAS__PH_SYNC;
			eas__sync_collections_start(y, 0);
			return;
		}
		y->phase = EAS__PH_PING;
		eas__sync_push_start(y, 0);
		return;
	case EAS__JOB_ESTIMATE:
		if (y->sy.pending) {
			y->phase = EAS__PH_SYNC;
			eas__sync_collections_start(y, 0);
			return;
		}
		if (eas__sync_estimate_pending(y)) {
			y->phase = EAS__PH_ESTIMATE;
			eas__sync_estimate_start(y);
			return;
		}
		end_job(y);
		return;
	case EAS__JOB_FOLDER_OP:
		if (y->fo.kind) {
			y->phase = EAS__PH_FOLDER_OP;
			eas__sync_folder_op_start(y);
			return;
		}
		end_job(y);
		return;
	default:
		end_job(y);
		return;
	}
}

void eas__sync_done_event(eas__sync *y)
{
	if (y->job != EAS__JOB_SYNC && y->job != EAS__JOB_PUSH)
		return; /* a priming round (GetItemEstimate) is not the app's sync */
	eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_SYNC_DONE, NULL, 0,
						   "sync done: %llu added, %llu changed, %llu deleted",
						   (unsigned long long)y->sy.added, (unsigned long long)y->sy.changed,
						   (unsigned long long)y->sy.deleted);
	ev->added = y->sy.added;
	ev->changed = y->sy.changed;
	ev->deleted = y->sy.deleted;
	ev->bytes = y->sy.bytes;
	/* Push: each Sync phase reports its own totals. */
	y->sy.added = y->sy.changed = y->sy.deleted = y->sy.bytes = 0;
}

/* ---- sending ----------------------------------------------------------------------- */

static int dispatch_chunk(eas_session *s, const uint8_t *data, size_t len, void *ctx);

int eas__sync_send_raw(eas__sync *y, eas_command command, const uint8_t *body, size_t len, uint64_t delay_ms)
{
	y->op.on_body_chunk = NULL;
	y->op.timeout_ms = 0;
	if (y->phase == EAS__PH_SYNC || y->phase == EAS__PH_FETCH)
		y->op.on_body_chunk = dispatch_chunk;
	if (y->phase == EAS__PH_PING)
		y->op.timeout_ms = y->ps.interval * 1000u + PING_TIMEOUT_MARGIN_MS;
	if (y->phase != EAS__PH_SEND_MAIL) {
		y->op.content_type = NULL;
		y->op.fill_query = NULL;
	}
	return eas__session_op_send(y->s, &y->op, command, body, len, delay_ms);
}

int eas__sync_send(eas__sync *y, eas_command command, int (*write)(eas_wbxml_encoder *enc, void *arg), void *arg,
		   uint64_t delay_ms)
{
	eas_buf_reset(&y->req);
	eas_wbxml_encoder *enc = NULL;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &y->req, y->s->version, &y->mem);
	if (rc == 0)
		rc = write(enc, arg);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0)
		rc = eas__sync_send_raw(y, command, y->req.data, y->req.len, delay_ms);
	eas_buf_reset(&y->req);
	return rc;
}

/* ---- the session hook ------------------------------------------------------------------ */

static int dispatch_chunk(eas_session *s, const uint8_t *data, size_t len, void *ctx)
{
	(void)s;
	eas__sync *y = ctx;
	if (y->phase == EAS__PH_SYNC)
		return eas__sync_collections_chunk(y, data, len);
	if (y->phase == EAS__PH_FETCH)
		return eas__sync_fetch_chunk(y, data, len);
	return 0;
}

static void on_response(eas_session *s, void *ctx)
{
	(void)s;
	eas__sync *y = ctx;
	switch (y->phase) {
	case EAS__PH_FOLDER_SYNC:
		eas__sync_folders_response(y);
		break;
	case EAS__PH_SYNC:
		eas__sync_collections_response(y);
		break;
	case EAS__PH_PING:
		eas__sync_push_response(y);
		break;
	case EAS__PH_ESTIMATE:
		eas__sync_estimate_response(y);
		break;
	case EAS__PH_SEND_MAIL:
		eas__sync_send_mail_response(y);
		break;
	case EAS__PH_FETCH:
		eas__sync_fetch_response(y);
		break;
	case EAS__PH_MOVE:
		eas__sync_move_response(y);
		break;
	case EAS__PH_FOLDER_OP:
		eas__sync_folder_op_response(y);
		break;
	case EAS__PH_SETTINGS:
		eas__sync_settings_response(y);
		break;
	default:
		end_job(y);
		break;
	}
}

static int on_broken(eas_session *s, int error, void *ctx)
{
	(void)s;
	eas__sync *y = ctx;
	switch (y->phase) {
	case EAS__PH_SYNC:
		eas__sync_collections_broken(y);
		return 0;
	case EAS__PH_FETCH:
		eas__sync_fetch_broken(y);
		return 0;
	case EAS__PH_MOVE:
		eas__sync_move_broken(y);
		return 0;
	case EAS__PH_PING:
		return eas__sync_push_broken(y, error);
	default:
		return 0;
	}
}

static void on_failure(eas_session *s, int error, void *ctx)
{
	(void)s;
	(void)error;
	release_job(ctx);
}

static void sync_free(eas_session *s)
{
	eas__sync *y = s->sync;
	if (!y)
		return;
	release_job(y);
	eas__sync_results_free(y);
	eas_buf_free(&y->req);
	s->sync = NULL;
	s->sync_free = NULL;
	eas__free(&y->mem, y);
}

static void settings_defaults(eas_sync_settings *t)
{
	if (!t->window_size)
		t->window_size = 100;
	if (t->window_size > 512)
		t->window_size = 512;
	if (t->filter_type > 8)
		t->filter_type = 0;
	if (t->body_type != 1 && t->body_type != 2 && t->body_type != 4)
		t->body_type = 1;
	if (!t->heartbeat_min_s)
		t->heartbeat_min_s = 60;
	if (!t->heartbeat_max_s)
		t->heartbeat_max_s = 1680;
	if (t->heartbeat_max_s < t->heartbeat_min_s)
		t->heartbeat_max_s = t->heartbeat_min_s;
	if (!t->max_ping_folders)
		t->max_ping_folders = 32;
}

eas__sync *eas__sync_get(eas_session *s)
{
	if (s->sync)
		return s->sync;
	eas__sync *y = eas__calloc(&s->mem, 1, sizeof *y);
	if (!y)
		return NULL;
	y->s = s;
	y->mem = s->mem;
	eas_buf_init(&y->req, &y->mem, 0);
	y->set = (eas_sync_settings)EAS_SYNC_SETTINGS_INIT;
	settings_defaults(&y->set);
	y->cb.version = EAS_SYNC_CALLBACKS_VERSION;
	y->op.on_response = on_response;
	y->op.on_broken = on_broken;
	y->op.on_failure = on_failure;
	y->op.ctx = y;
	eas__backoff_init(&y->backoff, 0, 0, 0, 0, EAS__SYNC_STATUS_RETRIES);
	y->sy.limit = 64;
	s->sync = y;
	s->sync_free = sync_free;
	return y;
}

/* ---- public API --------------------------------------------------------------------- */

int eas_session_set_store(eas_session *s, eas_store *store)
{
	if (!s || (store && (store->version != EAS_STORE_VERSION || !store->begin || !store->value_get)))
		return EAS_E_INVALID;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	if (y->job != EAS__JOB_NONE)
		return EAS_E_STATE;
	y->store = store;
	y->saved_version[0] = y->saved_policy_key[0] = '\0';
	y->ps.hb_loaded = 0;
	if (!store)
		return 0;
	char buf[80];
	if (store->value_get(store, "protocol_version", buf, sizeof buf) == 0) {
		snprintf(y->saved_version, sizeof y->saved_version, "%s", buf);
		unsigned v = 0;
		if (!s->version && eas_protocol_version_parse(&v, buf) == 0 && (v & s->versions))
			s->version = v;
	}
	if (store->value_get(store, "policy_key", buf, sizeof buf) == 0 && strlen(buf) < sizeof s->policy_key) {
		snprintf(y->saved_policy_key, sizeof y->saved_policy_key, "%s", buf);
		if (strcmp(s->policy_key, "0") == 0 && s->step == EAS__STEP_IDLE)
			snprintf(s->policy_key, sizeof s->policy_key, "%s", buf);
	}
	return 0;
}

int eas_session_set_sync_callbacks(eas_session *s, const eas_sync_callbacks *cb)
{
	if (!s || (cb && cb->version != EAS_SYNC_CALLBACKS_VERSION))
		return EAS_E_INVALID;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	if (y->in_txn)
		return EAS_E_STATE;
	memset(&y->cb, 0, sizeof y->cb);
	y->cb.version = EAS_SYNC_CALLBACKS_VERSION;
	if (cb)
		y->cb = *cb;
	return 0;
}

int eas_session_set_sync_settings(eas_session *s, const eas_sync_settings *settings)
{
	if (!s || (settings && settings->version != EAS_SYNC_SETTINGS_VERSION))
		return EAS_E_INVALID;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	eas_sync_settings t = EAS_SYNC_SETTINGS_INIT;
	if (settings)
		t = *settings;
	settings_defaults(&t);
	y->set = t;
	if (y->ps.hb_loaded)
		eas__heartbeat_bounds(&y->ps.hb, t.heartbeat_min_s, t.heartbeat_max_s);
	y->ps.max_folders = t.max_ping_folders;
	return 0;
}

/* Common checks of every job; the engine on success. */
static int start_job(eas__sync **out, eas_session *s, eas__job job)
{
	*out = NULL;
	if (!s)
		return EAS_E_INVALID;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	if (!y->store || s->step != EAS__STEP_IDLE || y->job != EAS__JOB_NONE || !s->version)
		return EAS_E_STATE;
	release_job(y);
	eas__sync_results_free(y); /* the last operation's results were valid until now */
	y->job = job;
	y->status_retries = 0;
	eas__sync_progress(y);
	y->sy.added = y->sy.changed = y->sy.deleted = y->sy.bytes = 0;
	y->sy.rounds = 0;
	*out = y;
	return 0;
}

int eas_session_sync_folders(eas_session *s)
{
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_FOLDERS);
	if (rc)
		return rc;
	y->need_folder_sync = 1;
	eas__sync_advance(y);
	return 0;
}

/* A folder list of a Sync or estimate job: NULL with 0, or count non-empty ids of bounded length. */
static int folder_ids_valid(const char *const *folder_ids, size_t count)
{
	if ((count && !folder_ids) || count > EAS__SYNC_MAX_FOLDERS)
		return 0;
	for (size_t i = 0; i < count; i++)
		if (!folder_ids[i] || !folder_ids[i][0] || strlen(folder_ids[i]) > EAS_STORE_ID_MAX)
			return 0;
	return 1;
}

int eas_session_sync(eas_session *s, const char *const *folder_ids, size_t count)
{
	if (!s || !folder_ids_valid(folder_ids, count))
		return EAS_E_INVALID;
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_SYNC);
	if (rc)
		return rc;
	y->need_folder_sync = !eas__sync_have_hierarchy(y);
	/* The folder list is read when the phase starts (after a FolderSync if one runs). */
	rc = eas__sync_collections_set(y, folder_ids, count);
	if (rc) {
		release_job(y);
		return rc;
	}
	eas__sync_advance(y);
	return 0;
}

int eas_session_push(eas_session *s, const char *network)
{
	if (network && (!network[0] || strlen(network) >= sizeof ((eas__sync *)0)->ps.net))
		return EAS_E_INVALID;
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_PUSH);
	if (rc)
		return rc;
	rc = eas__sync_push_begin(y, network ? network : "default");
	if (rc) {
		release_job(y);
		return rc;
	}
	eas__sync_advance(y);
	return 0;
}

int eas_session_queue_change(eas_session *s, const eas_store_change *change, int64_t *id_out)
{
	if (!s || !change)
		return EAS_E_INVALID;
	eas__sync *y = eas__sync_get(s);
	if (!y)
		return EAS_E_NOMEM;
	if (!y->store || y->in_txn)
		return EAS_E_STATE; /* inside a sync callback the change would join (and share the fate of) the response */
	int rc = y->store->change_add(y->store, change, id_out);
	if (rc)
		return rc;
	if (y->job == EAS__JOB_PUSH)
		eas__sync_push_wake(y);
	return 0;
}

int eas_session_interrupt_pending(const eas_session *s)
{
	return s && s->in_flight && s->op_interrupt;
}

int eas_session_estimate(eas_session *s, const char *const *folder_ids, size_t count)
{
	if (!s || !folder_ids_valid(folder_ids, count))
		return EAS_E_INVALID;
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_ESTIMATE);
	if (rc)
		return rc;
	y->need_folder_sync = !eas__sync_have_hierarchy(y);
	rc = eas__sync_estimate_set(y, folder_ids, count);
	if (rc) {
		release_job(y);
		return rc;
	}
	eas__sync_advance(y);
	return 0;
}

int eas_session_send_mail(eas_session *s, const uint8_t *mime, size_t len, int save_in_sent)
{
	if (!s || !mime || !len)
		return EAS_E_INVALID;
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_SEND_MAIL);
	if (rc)
		return rc;
	y->sm.mime = eas__malloc(&y->mem, len);
	if (!y->sm.mime) {
		release_job(y);
		return EAS_E_NOMEM;
	}
	memcpy(y->sm.mime, mime, len);
	y->sm.len = len;
	y->sm.save_in_sent = save_in_sent != 0;
	y->phase = EAS__PH_SEND_MAIL;
	eas__sync_send_mail_start(y);
	return 0;
}

int eas_session_fetch_attachment(eas_session *s, const char *file_reference, eas_fetch_sink sink, void *user_data)
{
	if (!s || !file_reference || !file_reference[0] || strlen(file_reference) > EAS_STORE_NAME_MAX || !sink)
		return EAS_E_INVALID;
	if (s->version && !(s->version & EAS_PROTO_FROM(EAS_PROTO_12_0)))
		return EAS_E_UNSUPPORTED; /* 2.5 has no ItemOperations */
	eas__sync *y;
	int rc = start_job(&y, s, EAS__JOB_FETCH);
	if (rc)
		return rc;
	y->fe.file_reference = eas__sync_strdup(y, file_reference);
	if (!y->fe.file_reference) {
		release_job(y);
		return EAS_E_NOMEM;
	}
	y->fe.sink = sink;
	y->fe.sink_data = user_data;
	y->phase = EAS__PH_FETCH;
	eas__sync_fetch_start(y);
	return 0;
}
