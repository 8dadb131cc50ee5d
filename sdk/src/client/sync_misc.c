/*
 * The one-shot commands of eas/sync.h: GetItemEstimate, SendMail and the
 * ItemOperations Fetch of an attachment.
 *
 * GetItemEstimate needs primed keys: folders still at SyncKey 0 get one
 * Sync round first (key 0 only, no items).  Response status 2 runs a
 * FolderSync, 3 and 4 a Sync of the folder, then the estimate is asked once
 * more; a second failure ends the job with EAS_EVENT_ERROR.
 *
 * SendMail: from 14.0 the WBXML form with a random ClientId (a resend after
 * a lost answer carries the same one, and the server's 118 "already sent"
 * counts as sent); before 14.0 the message itself with Content-Type
 * message/rfc822 and SaveInSent in the query.
 *
 * Fetch streams the response through the ItemOperations parser: Data goes
 * to the app's sink piece by piece, decoded, never held.  When the
 * connection breaks the session sends the request again; the bytes the sink
 * already has are skipped in the repeated answer, so it sees each byte once.
 */
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/get_item_estimate.h"
#include "commands/send_mail.h"
#include "common/mem.h"
#include "eas/status.h"

void eas__sync_misc_free(eas__sync *y)
{
	for (size_t i = 0; i < y->es.nids; i++)
		eas__free(&y->mem, y->es.ids[i]);
	eas__free(&y->mem, y->es.ids);
	y->es.ids = NULL;
	y->es.nids = 0;
	y->es.pending = 0;
	y->es.retried = 0;
	if (y->sm.mime)
		memset(y->sm.mime, 0, y->sm.len);
	eas__free(&y->mem, y->sm.mime);
	y->sm.mime = NULL;
	y->sm.len = 0;
	eas__free(&y->mem, y->sm.folder_id);
	eas__free(&y->mem, y->sm.item_id);
	y->sm.folder_id = y->sm.item_id = NULL;
	y->sm.kind = 0;
	y->sm.replace_mime = 0;
	eas__free(&y->mem, y->fe.file_reference);
	eas__free(&y->mem, y->fe.collection_id);
	eas__free(&y->mem, y->fe.server_id);
	y->fe.file_reference = y->fe.collection_id = y->fe.server_id = NULL;
	eas_item_operations_parser_free(y->fe.parser);
	y->fe.parser = NULL;
	memset(&y->fe, 0, sizeof y->fe);
	y->op.content_type = NULL;
	y->op.fill_query = NULL;
}

/* ---- GetItemEstimate ---------------------------------------------------------------- */

static int es_add(eas__sync *y, const char *id)
{
	if (y->es.nids >= EAS__SYNC_MAX_FOLDERS)
		return 0;
	char **n = eas__realloc(&y->mem, y->es.ids, (y->es.nids + 1) * sizeof *n);
	if (!n)
		return EAS_E_NOMEM;
	y->es.ids = n;
	if (!(n[y->es.nids] = eas__sync_strdup(y, id)))
		return EAS_E_NOMEM;
	y->es.nids++;
	return 0;
}

int eas__sync_estimate_set(eas__sync *y, const char *const *ids, size_t count)
{
	eas__sync_misc_free(y);
	y->es.pending = 1;
	y->es.all = ids == NULL;
	for (size_t i = 0; ids && i < count; i++) {
		int rc = es_add(y, ids[i]);
		if (rc)
			return rc;
	}
	return 0;
}

int eas__sync_estimate_pending(eas__sync *y)
{
	return y->es.pending;
}

typedef struct es_list {
	eas__sync *y;
	int rc;
} es_list;

static int es_add_wanted(const eas_store_folder *f, void *ud)
{
	es_list *l = ud;
	if (!f->sync_wanted || !f->class_name || !f->class_name[0])
		return 0;
	l->rc = es_add(l->y, f->server_id);
	return l->rc != 0;
}

typedef struct es_request {
	eas_item_estimate_request req;
} es_request;

static int write_estimate(eas_wbxml_encoder *enc, void *arg)
{
	return eas_get_item_estimate_request_encode(enc, &((es_request *)arg)->req);
}

void eas__sync_estimate_start(eas__sync *y)
{
	int rc = 0;
	if (y->es.all) {
		y->es.all = 0;
		es_list l = { y, 0 };
		rc = y->store->folder_list(y->store, es_add_wanted, &l);
		if (rc == EAS_E_CALLBACK)
			rc = l.rc;
		if (rc) {
			eas__sync_fail(y, rc, 0, "could not list the folders: %s", eas_strerror(rc));
			return;
		}
	}
	size_t n = y->es.nids;
	eas_item_estimate_collection *c = n ? eas__calloc(&y->mem, n, sizeof *c) : NULL;
	char (*keys)[EAS__SYNC_ID_SIZE] = n ? eas__calloc(&y->mem, n, sizeof *keys) : NULL;
	char (*classes)[EAS__SYNC_CLASS_SIZE] = n ? eas__calloc(&y->mem, n, sizeof *classes) : NULL;
	const char **prime = n ? eas__calloc(&y->mem, n, sizeof *prime) : NULL;
	if (n && (!c || !keys || !classes || !prime))
		rc = EAS_E_NOMEM;
	size_t nc = 0, np = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		eas_store_folder f;
		if (y->store->folder_get(y->store, y->es.ids[i], &f) != 0 || strlen(y->es.ids[i]) > EAS_ITEM_ESTIMATE_MAX_ID)
			continue; /* unknown folder: no estimate */
		snprintf(keys[nc], sizeof keys[nc], "%s", f.sync_key ? f.sync_key : "0");
		snprintf(classes[nc], sizeof classes[nc], "%s", f.class_name ? f.class_name : "");
		if (strcmp(keys[nc], "0") == 0) {
			prime[np++] = y->es.ids[i];
			continue;
		}
		eas_item_estimate_collection *e = &c[nc];
		e->sync_key = keys[nc];
		e->collection_id = y->es.ids[i];
		e->option_count = 1;
		if (strcmp(classes[nc], "Email") == 0 || strcmp(classes[nc], "Calendar") == 0) {
			e->options[0].has_filter_type = 1;
			e->options[0].filter_type = y->set.filter_type;
		}
		if (!(y->s->version & EAS_PROTO_FROM(EAS_PROTO_14_0)) && classes[nc][0])
			e->options[0].class_name = classes[nc];
		if (!e->options[0].has_filter_type && !e->options[0].class_name)
			e->option_count = 0;
		nc++;
	}
	if (rc == 0 && np) {
		/* Folders never synced have no key to estimate from: prime them with one Sync round. */
		rc = eas__sync_collections_set(y, prime, np);
		if (rc == 0) {
			y->sy.prime_only = 1;
			eas__free(&y->mem, c);
			eas__free(&y->mem, keys);
			eas__free(&y->mem, classes);
			eas__free(&y->mem, prime);
			eas__sync_advance(y);
			return;
		}
	}
	if (rc == 0 && nc == 0) {
		y->es.pending = 0;
		eas__free(&y->mem, c);
		eas__free(&y->mem, keys);
		eas__free(&y->mem, classes);
		eas__free(&y->mem, prime);
		eas__sync_advance(y);
		return;
	}
	if (rc == 0) {
		es_request r;
		memset(&r, 0, sizeof r);
		r.req.protocol_version = y->s->version;
		r.req.collection_list = c;
		r.req.collection_count = nc;
		rc = eas__sync_send(y, EAS_CMD_GET_ITEM_ESTIMATE, write_estimate, &r, 0);
	}
	eas__free(&y->mem, c);
	eas__free(&y->mem, keys);
	eas__free(&y->mem, classes);
	eas__free(&y->mem, prime);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send GetItemEstimate: %s", eas_strerror(rc));
}

void eas__sync_estimate_response(eas__sync *y)
{
	eas_session *s = y->s;
	eas_tree *tree = NULL;
	char err[200] = "";
	eas_item_estimate_response r;
	memset(&r, 0, sizeof r);
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err,
				sizeof err);
	if (rc == 0)
		rc = eas_get_item_estimate_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad GetItemEstimate response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	if (r.status && r.status != EAS_ITEM_ESTIMATE_OK) {
		eas_tree_free(tree);
		eas__sync_fail_status(y, EAS_CMD_GET_ITEM_ESTIMATE, (int)r.status);
		return;
	}
	const char *resync[EAS__SYNC_MAX_FOLDERS];
	size_t nresync = 0;
	int folder_sync = 0;
	uint32_t bad = 0;
	const eas_node *cursor = NULL;
	eas_item_estimate_result res;
	while ((rc = eas_get_item_estimate_next_result(&r, &cursor, &res, err, sizeof err)) == 1) {
		if (res.status == EAS_ITEM_ESTIMATE_OK && res.collection_id) {
			eas_session_event *ev = eas__session_event(s, EAS_EVENT_ESTIMATE, res.collection_id, 0,
								   "%u item(s) to sync in %s", (unsigned)res.estimate,
								   res.collection_id);
			ev->estimate = res.has_estimate ? res.estimate : 0;
			continue;
		}
		bad = res.status;
		if (res.status == EAS_ITEM_ESTIMATE_INVALID_COLLECTION)
			folder_sync = 1;
		else if ((res.status == EAS_ITEM_ESTIMATE_NOT_PRIMED || res.status == EAS_ITEM_ESTIMATE_INVALID_KEY) &&
			 res.collection_id && nresync < EAS__SYNC_MAX_FOLDERS)
			resync[nresync++] = res.collection_id;
	}
	if (rc < 0) {
		eas_tree_free(tree);
		eas__sync_fail(y, EAS_E_PROTOCOL, 0, "bad GetItemEstimate response: %s", err);
		return;
	}
	if (!bad) {
		eas_tree_free(tree);
		y->es.pending = 0;
		eas__sync_advance(y);
		return;
	}
	if (y->es.retried || (!folder_sync && !nresync)) {
		eas_tree_free(tree);
		eas__sync_fail_status(y, EAS_CMD_GET_ITEM_ESTIMATE, (int)bad);
		return;
	}
	/* Once: fix what the server said, then ask again. */
	y->es.retried = 1;
	y->need_folder_sync = folder_sync;
	if (nresync)
		rc = eas__sync_collections_set(y, resync, nresync); /* a real Sync: the server doubts our keys */
	eas_tree_free(tree);
	if (rc) {
		eas__sync_fail(y, rc, 0, "GetItemEstimate: %s", eas_strerror(rc));
		return;
	}
	eas__sync_advance(y);
}

/* ---- SendMail ------------------------------------------------------------------------- */

static int legacy_query(eas_http_query *q, void *ctx)
{
	eas__sync *y = ctx;
	eas_compose_mail_legacy m;
	memset(&m, 0, sizeof m);
	m.kind = y->sm.kind ? (eas_compose_kind)y->sm.kind : EAS_COMPOSE_SEND_MAIL;
	m.save_in_sent = y->sm.save_in_sent;
	m.collection_id = y->sm.folder_id; /* SmartReply/SmartForward (eas/mail.h) */
	m.item_id = y->sm.item_id;
	return eas_compose_mail_legacy_query(q, &m);
}

static int write_send_mail(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	eas_compose_mail_request r;
	memset(&r, 0, sizeof r);
	r.kind = y->sm.kind ? (eas_compose_kind)y->sm.kind : EAS_COMPOSE_SEND_MAIL;
	r.client_id = y->sm.client_id;
	r.save_in_sent_items = y->sm.save_in_sent;
	r.replace_mime = y->sm.replace_mime;
	r.folder_id = y->sm.folder_id; /* SmartReply/SmartForward (eas/mail.h) */
	r.item_id = y->sm.item_id;
	r.mime = y->sm.mime;
	r.mime_len = y->sm.len;
	return eas_compose_mail_request_encode(enc, &r);
}

static eas_command send_command(const eas__sync *y)
{
	if (y->sm.kind == EAS_COMPOSE_SMART_REPLY)
		return EAS_CMD_SMART_REPLY;
	if (y->sm.kind == EAS_COMPOSE_SMART_FORWARD)
		return EAS_CMD_SMART_FORWARD;
	return EAS_CMD_SEND_MAIL;
}

void eas__sync_send_mail_start(eas__sync *y)
{
	int rc;
	if (y->s->version & EAS_PROTO_FROM(EAS_PROTO_14_0)) {
		uint8_t rnd[16];
		y->s->platform->random_bytes(rnd, sizeof rnd, y->s->platform->user_data);
		for (size_t i = 0; i < sizeof rnd; i++)
			snprintf(y->sm.client_id + 2 * i, 3, "%02X", rnd[i]);
		y->op.content_type = NULL;
		y->op.fill_query = NULL;
		rc = eas__sync_send(y, send_command(y), write_send_mail, y, 0);
	} else {
		y->op.content_type = EAS_COMPOSE_LEGACY_CONTENT_TYPE;
		y->op.fill_query = legacy_query;
		rc = eas__sync_send_raw(y, send_command(y), y->sm.mime, y->sm.len, 0);
	}
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send %s: %s", eas_command_name(send_command(y)), eas_strerror(rc));
}

static void mail_sent(eas__sync *y)
{
	eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_MAIL_SENT, NULL, 0, "message sent");
	ev->bytes = y->sm.len;
	eas__sync_advance(y); /* ends the job */
}

void eas__sync_send_mail_response(eas__sync *y)
{
	eas_session *s = y->s;
	if (!s->response.len || !(s->version & EAS_PROTO_FROM(EAS_PROTO_14_0))) {
		mail_sent(y); /* an empty 200 is success; before 14.0 failures are HTTP statuses */
		return;
	}
	eas_tree *tree = NULL;
	char err[200] = "";
	eas_compose_mail_response r;
	memset(&r, 0, sizeof r);
	r.kind = y->sm.kind ? (eas_compose_kind)y->sm.kind : EAS_COMPOSE_SEND_MAIL;
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err,
				sizeof err);
	if (rc == 0)
		rc = eas_compose_mail_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	eas_tree_free(tree);
	if (rc) {
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad SendMail response: %s", err);
		return;
	}
	if (r.status == 0 ||
	    eas_command_status_classify(send_command(y), (int)r.status) == EAS_STATUS_CLASS_ALREADY_DONE) {
		mail_sent(y);
		return;
	}
	eas__sync_fail_status(y, send_command(y), (int)r.status);
}

/* ---- Fetch ------------------------------------------------------------------------------- */

static int write_fetch(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	eas_itemops_operation op;
	memset(&op, 0, sizeof op);
	op.kind = EAS_ITEMOPS_FETCH;
	op.fetch.store = "Mailbox";
	op.fetch.file_reference = y->fe.file_reference;
	if (y->fe.server_id) {
		/* A whole item (eas/mail.h): its body in the type asked for, untruncated. */
		op.fetch.collection_id = y->fe.collection_id;
		op.fetch.server_id = y->fe.server_id;
		op.fetch.has_options = 1;
		op.fetch.options.body_preference_count = 1;
		op.fetch.options.body_preferences[0].type = y->fe.body_type;
		if (y->fe.body_type == 4) {
			op.fetch.options.has_mime_support = 1;
			op.fetch.options.mime_support = 2;
		}
	}
	eas_item_operations_request r;
	memset(&r, 0, sizeof r);
	r.operation_list = &op;
	r.operation_count = 1;
	return eas_item_operations_request_encode(enc, &r);
}

void eas__sync_fetch_start(eas__sync *y)
{
	int rc = eas__sync_send(y, EAS_CMD_ITEM_OPERATIONS, write_fetch, y, 0);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send ItemOperations: %s", eas_strerror(rc));
}

static int fe_status(uint32_t status, void *ud)
{
	((eas__sync *)ud)->fe.status = status;
	return 0;
}

static int fe_data(const eas_itemops_fetch_result *fetch, eas_tag tag, const uint8_t *bytes, size_t len, int final,
		   void *ud)
{
	(void)fetch;
	(void)final;
	eas__sync *y = ud;
	/* An attachment is Properties/Data; an item's body is its airsyncbase:Body/Data. */
	eas_tag want = y->fe.server_id ? EAS_TAG_AIRSYNCBASE_DATA : EAS_TAG_ITEMOPERATIONS_DATA;
	if (tag != want || !len)
		return 0;
	uint64_t start = y->fe.seen;
	y->fe.seen += len;
	if (y->fe.seen <= y->fe.delivered)
		return 0; /* the sink has these bytes from the broken answer */
	size_t skip = start < y->fe.delivered ? (size_t)(y->fe.delivered - start) : 0;
	int rc = y->fe.sink(bytes + skip, len - skip, y->fe.sink_data);
	if (rc) {
		y->fe.sink_rc = rc < 0 ? rc : EAS_E_CALLBACK;
		return y->fe.sink_rc;
	}
	y->fe.delivered = y->fe.seen;
	return 0;
}

static int fe_result(const eas_itemops_result *r, void *ud)
{
	eas__sync *y = ud;
	if (r->kind == EAS_ITEMOPS_FETCH && !y->fe.have_fetch) {
		y->fe.have_fetch = 1;
		y->fe.fetch_status = r->fetch.status;
	}
	return 0;
}

int eas__sync_fetch_chunk(eas__sync *y, const uint8_t *data, size_t len)
{
	if (!y->fe.parser) {
		/* A new answer (the first, or a resend's). */
		eas_itemops_callbacks cb;
		memset(&cb, 0, sizeof cb);
		cb.version = EAS_ITEMOPS_CALLBACKS_VERSION;
		cb.status = fe_status;
		cb.data = fe_data;
		cb.result = fe_result;
		y->fe.seen = 0;
		y->fe.status = y->fe.fetch_status = 0;
		y->fe.have_fetch = 0;
		y->fe.sink_rc = 0;
		y->fe.parse_rc = eas_item_operations_parser_new(&y->fe.parser, &cb, 0, NULL, &y->mem, y);
	}
	if (y->fe.parse_rc)
		return 0;
	int rc = eas_item_operations_parser_feed(y->fe.parser, data, len, NULL);
	if (rc)
		y->fe.parse_rc = rc;
	return 0;
}

void eas__sync_fetch_broken(eas__sync *y)
{
	eas_item_operations_parser_free(y->fe.parser);
	y->fe.parser = NULL;
	y->fe.parse_rc = 0;
}

void eas__sync_fetch_response(eas__sync *y)
{
	int rc = y->fe.parser ? y->fe.parse_rc : EAS_E_TRUNCATED; /* an empty 200 is no answer */
	if (rc == 0)
		rc = eas_item_operations_parser_finish(y->fe.parser);
	char perr[200] = "";
	if (y->fe.parser && eas_item_operations_parser_error(y->fe.parser))
		snprintf(perr, sizeof perr, "%s", eas_item_operations_parser_error(y->fe.parser));
	eas_item_operations_parser_free(y->fe.parser);
	y->fe.parser = NULL;
	if (y->fe.sink_rc) {
		eas__sync_fail(y, y->fe.sink_rc, 0, "attachment fetch stopped by the sink: %s", eas_strerror(y->fe.sink_rc));
		return;
	}
	if (rc) {
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad ItemOperations response: %s",
			       perr[0] ? perr : eas_strerror(rc));
		return;
	}
	if (y->fe.status != EAS_ITEMOPS_OK) {
		eas__sync_fail_status(y, EAS_CMD_ITEM_OPERATIONS, (int)y->fe.status);
		return;
	}
	if (!y->fe.have_fetch) {
		eas__sync_fail(y, EAS_E_PROTOCOL, 0, "ItemOperations response without a Fetch result");
		return;
	}
	if (y->fe.fetch_status != EAS_ITEMOPS_OK) {
		eas__sync_fail_status(y, EAS_CMD_ITEM_OPERATIONS, (int)y->fe.fetch_status);
		return;
	}
	eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_FETCHED, y->fe.collection_id, 0,
						   "%s fetched (%llu bytes)", y->fe.server_id ? "item" : "attachment",
						   (unsigned long long)y->fe.delivered);
	ev->bytes = y->fe.delivered;
	eas__sync_advance(y);
}
