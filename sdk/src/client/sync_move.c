/*
 * Queued MOVE changes (EAS_STORE_CHANGE_MOVE) sent with MoveItems, as part
 * of a Sync phase (eas/mail.h documents the behaviour).
 *
 * Order: a folder's queue is FIFO.  The Sync request carries the changes
 * queued before the first MOVE (gather_change stops there); when a MOVE is
 * at the head of a folder's queue, the next request of the phase is a
 * MoveItems with the leading MOVEs of every such folder, then the Sync goes
 * on with what follows them.
 *
 * Crash safety: MoveItems has no SyncKey, so the server cannot replay a
 * lost answer; a repeated move of an item already moved is answered 1
 * (the item is no longer in the source).  Before the request goes out, a
 * marker "move_sent:<change id>" is made durable for each move.  A move
 * sent again with its marker present that is answered 1 was most likely
 * done by the first request: the item leaves the source folder and the
 * destination folder is set back to SyncKey 0, so its next Sync brings the
 * item under the ServerId the server gave it (the server no longer lists
 * it in the source for this device).  Without a marker a 1 is a refusal.
 */
#include <stdio.h>
#include <string.h>

#include "client/sync_internal.h"
#include "commands/move_items.h"
#include "common/mem.h"
#include "eas/status.h"

#define MOVES_PER_REQUEST 64
#define MARKER_SIZE 48

enum { OUT_NONE = 0, OUT_MOVED, OUT_MOVED_UNKNOWN, OUT_FAILED };

/* Per move, beyond eas__mv: what the answer did (events are sent after commit). */
typedef struct mv_outcome {
	int outcome;
	uint32_t status;
	char new_id[EAS__SYNC_ID_SIZE];
} mv_outcome;

void eas__sync_event_server_id(eas_session_event *ev, const char *server_id)
{
	/* Every event comes from eas__session_event(): it is the first member of its slot. */
	eas__event_slot *slot = (eas__event_slot *)(void *)ev;
	if (!server_id) {
		ev->server_id = NULL;
		return;
	}
	snprintf(slot->server_id, sizeof slot->server_id, "%s", server_id);
	ev->server_id = slot->server_id;
}

static void marker_name(char *out, size_t size, int64_t id)
{
	snprintf(out, size, "move_sent:%lld", (long long)id);
}

void eas__sync_move_free(eas__sync *y)
{
	for (size_t i = 0; i < y->mv.n; i++) {
		eas__free(&y->mem, y->mv.list[i].folder_id);
		eas__free(&y->mem, y->mv.list[i].server_id);
		eas__free(&y->mem, y->mv.list[i].dest_id);
	}
	eas__free(&y->mem, y->mv.list);
	y->mv.list = NULL;
	y->mv.n = 0;
}

/* ---- which folders have a MOVE at the head ----------------------------------------- */

typedef struct head_probe {
	eas__sync *y;
	int first;       /* still at the head of the queue */
	int is_move;
	int collect;     /* add the leading MOVEs to y->mv */
	int rc;
} head_probe;

static int add_move(eas__sync *y, const eas_store_change *c)
{
	eas__mv *n = eas__realloc(&y->mem, y->mv.list, (y->mv.n + 1) * sizeof *n);
	if (!n)
		return EAS_E_NOMEM;
	y->mv.list = n;
	eas__mv *m = &n[y->mv.n++];
	memset(m, 0, sizeof *m);
	m->id = c->id;
	m->attempts = c->attempts;
	m->folder_id = eas__sync_strdup(y, c->folder_id);
	m->server_id = eas__sync_strdup(y, c->server_id);
	m->dest_id = eas__sync_strdup(y, c->dest_folder_id);
	if (!m->folder_id || !m->server_id || !m->dest_id)
		return EAS_E_NOMEM;
	return 0;
}

static int probe_head(const eas_store_change *c, void *ud)
{
	head_probe *p = ud;
	if (c->kind != EAS_STORE_CHANGE_MOVE)
		return 1; /* the head is another change, or the MOVEs ended */
	p->is_move = 1;
	if (!p->collect)
		return 1;
	if (p->y->mv.n >= MOVES_PER_REQUEST)
		return 1;
	p->rc = add_move(p->y, c);
	return p->rc != 0;
}

static int pinned_request(eas__sync *y)
{
	for (size_t i = 0; i < y->sy.ncolls; i++)
		if (y->sy.colls[i].pinned)
			return 1;
	return 0;
}

int eas__sync_moves_due(eas__sync *y)
{
	if (y->sy.prime_only || pinned_request(y))
		return 0; /* a pinned Sync must go again as it was first */
	for (size_t i = 0; i < y->sy.ncolls; i++) {
		eas__coll *c = &y->sy.colls[i];
		if (c->done)
			continue;
		head_probe p;
		memset(&p, 0, sizeof p);
		p.y = y;
		y->store->change_list(y->store, c->id, probe_head, &p);
		if (p.is_move)
			return 1;
	}
	return 0;
}

/* ---- the request ------------------------------------------------------------------------ */

static int write_move(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	eas_move_item *items = eas__calloc(&y->mem, y->mv.n, sizeof *items);
	if (!items)
		return EAS_E_NOMEM;
	for (size_t i = 0; i < y->mv.n; i++) {
		items[i].src_msg_id = y->mv.list[i].server_id;
		items[i].src_fld_id = y->mv.list[i].folder_id;
		items[i].dst_fld_id = y->mv.list[i].dest_id;
	}
	eas_move_items_request r;
	memset(&r, 0, sizeof r);
	r.move_list = items;
	r.move_count = y->mv.n;
	int rc = eas_move_items_request_encode(enc, &r);
	eas__free(&y->mem, items);
	return rc;
}

static void change_failed_event(eas__sync *y, const eas__mv *m, uint32_t status, const char *why)
{
	eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_CHANGE_FAILED, m->folder_id, 0,
						   "MoveItems of %s to %s refused (status %u: %s): dropped", m->server_id,
						   m->dest_id, (unsigned)status, why);
	ev->status = (int)status;
	eas__sync_event_server_id(ev, m->server_id);
}

/* Moves the schema cannot carry leave the queue at once. */
static int drop_unsendable(eas__sync *y)
{
	size_t k = 0;
	for (size_t i = 0; i < y->mv.n; i++) {
		eas__mv *m = &y->mv.list[i];
		if (m->server_id[0] && m->folder_id[0] && m->dest_id[0] && strlen(m->server_id) <= EAS_MOVE_ITEMS_MAX_ID &&
		    strlen(m->folder_id) <= EAS_MOVE_ITEMS_MAX_ID && strlen(m->dest_id) <= EAS_MOVE_ITEMS_MAX_ID) {
			y->mv.list[k++] = *m;
			continue;
		}
		int rc = y->store->change_done(y->store, m->id);
		if (rc && rc != EAS_E_NOTFOUND)
			return rc;
		change_failed_event(y, m, 0, "an id MoveItems cannot carry");
		eas__free(&y->mem, m->folder_id);
		eas__free(&y->mem, m->server_id);
		eas__free(&y->mem, m->dest_id);
	}
	y->mv.n = k;
	return 0;
}

void eas__sync_move_start(eas__sync *y, uint64_t delay_ms)
{
	eas__sync_move_free(y);
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < y->sy.ncolls && y->mv.n < MOVES_PER_REQUEST; i++) {
		if (y->sy.colls[i].done)
			continue;
		head_probe p;
		memset(&p, 0, sizeof p);
		p.y = y;
		p.collect = 1;
		rc = y->store->change_list(y->store, y->sy.colls[i].id, probe_head, &p);
		if (rc == EAS_E_CALLBACK)
			rc = p.rc;
	}
	if (rc == 0)
		rc = drop_unsendable(y);
	if (rc == 0 && y->mv.n == 0) {
		/* Nothing sendable after all: the Sync goes on. */
		y->phase = EAS__PH_SYNC;
		eas__sync_collections_start(y, delay_ms);
		return;
	}
	/* The markers, durable before the request goes: a repeat after a crash knows it is one. */
	if (rc == 0)
		rc = eas__sync_begin(y);
	for (size_t i = 0; rc == 0 && i < y->mv.n; i++) {
		char key[MARKER_SIZE], val[8];
		marker_name(key, sizeof key, y->mv.list[i].id);
		y->mv.list[i].answered = 0;
		/* answered is reused below as "sent before" until the answer comes */
		if (y->store->value_get(y->store, key, val, sizeof val) == 0)
			y->mv.list[i].answered = -1;
		else
			rc = y->store->value_set(y->store, key, "1");
	}
	if (rc == 0)
		rc = eas__sync_commit(y);
	else
		eas__sync_rollback(y);
	if (rc == 0)
		rc = eas__sync_send(y, EAS_CMD_MOVE_ITEMS, write_move, y, delay_ms);
	if (rc == EAS_E_UNSUPPORTED) {
		/* The server does not offer MoveItems: the moves cannot ever go; the Sync goes on without them. */
		for (size_t i = 0; i < y->mv.n; i++) {
			char key[MARKER_SIZE];
			marker_name(key, sizeof key, y->mv.list[i].id);
			y->store->change_done(y->store, y->mv.list[i].id);
			y->store->value_set(y->store, key, NULL);
			change_failed_event(y, &y->mv.list[i], 0, "the server does not offer MoveItems");
		}
		eas__sync_move_free(y);
		y->phase = EAS__PH_SYNC;
		eas__sync_collections_start(y, 0);
		return;
	}
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send MoveItems: %s", eas_strerror(rc));
}

void eas__sync_move_broken(eas__sync *y)
{
	/* The session sends the same request again: the server may have done it already. */
	for (size_t i = 0; i < y->mv.n; i++)
		y->mv.list[i].answered = -1;
}

/* ---- the answer ------------------------------------------------------------------------- */

static int clear_marker(eas__sync *y, const eas__mv *m)
{
	char key[MARKER_SIZE];
	marker_name(key, sizeof key, m->id);
	return y->store->value_set(y->store, key, NULL);
}

/* Status 3: the stored item goes to the destination under its new ServerId. */
static int moved(eas__sync *y, const eas__mv *m, const char *new_id)
{
	eas_store_item it;
	int rc = y->store->item_get(y->store, m->folder_id, m->server_id, &it);
	if (rc == EAS_E_NOTFOUND)
		return 0; /* not stored here (filtered out): the destination's Sync has nothing to add either */
	if (rc)
		return rc;
	eas_store_item n = it;
	uint8_t *data = NULL;
	char cls[EAS__SYNC_CLASS_SIZE];
	snprintf(cls, sizeof cls, "%s", it.class_name ? it.class_name : "");
	if (it.data_len) {
		if (!(data = eas__malloc(&y->mem, it.data_len)))
			return EAS_E_NOMEM;
		memcpy(data, it.data, it.data_len);
	}
	n.folder_id = m->dest_id;
	n.server_id = new_id;
	n.class_name = cls;
	n.data = data;
	rc = y->store->item_delete(y->store, m->folder_id, m->server_id);
	if (rc == 0 && y->cb.item_deleted && y->cb.item_deleted(m->folder_id, m->server_id, 0, y->cb.user_data) != 0)
		rc = EAS_E_CALLBACK;
	if (rc == 0) {
		rc = y->store->item_put(y->store, &n);
		if (rc == 0 && y->cb.item_changed && y->cb.item_changed(&n, 0, y->cb.user_data) != 0)
			rc = EAS_E_CALLBACK;
		else if (rc == EAS_E_NOTFOUND)
			rc = 0; /* the destination is not in the store (yet): its first Sync brings the item */
	}
	eas__free(&y->mem, data);
	return rc;
}

/* A repeat answered 1: the first request moved it; the destination's resync brings the new ServerId. */
static int moved_unknown(eas__sync *y, const eas__mv *m)
{
	int rc = y->store->item_delete(y->store, m->folder_id, m->server_id);
	if (rc == 0 && y->cb.item_deleted && y->cb.item_deleted(m->folder_id, m->server_id, 0, y->cb.user_data) != 0)
		return EAS_E_CALLBACK;
	if (rc && rc != EAS_E_NOTFOUND)
		return rc;
	eas_store_folder f;
	rc = y->store->folder_get(y->store, m->dest_id, &f);
	if (rc == EAS_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	char parent[EAS__SYNC_ID_SIZE], name[EAS_STORE_NAME_MAX + 1], cls[EAS__SYNC_CLASS_SIZE];
	snprintf(parent, sizeof parent, "%s", f.parent_id ? f.parent_id : "0");
	snprintf(name, sizeof name, "%s", f.display_name ? f.display_name : "");
	snprintf(cls, sizeof cls, "%s", f.class_name ? f.class_name : "");
	f.parent_id = parent;
	f.display_name = name;
	f.class_name = cls;
	f.sync_key = "0";
	f.more_available = 0;
	return y->store->folder_put(y->store, &f);
}

static const char *move_status_text(uint32_t status)
{
	switch (status) {
	case EAS_MOVE_ITEMS_INVALID_SOURCE:
		return "invalid source";
	case EAS_MOVE_ITEMS_INVALID_DESTINATION:
		return "invalid destination";
	case EAS_MOVE_ITEMS_SAME_FOLDER:
		return "source and destination are the same";
	case EAS_MOVE_ITEMS_FAILED:
		return "the move failed";
	case EAS_MOVE_ITEMS_LOCKED:
		return "locked, retried too often";
	default:
		return "unexpected status";
	}
}

static int retry_move(eas__sync *y, eas__mv *m, mv_outcome *o, uint32_t status)
{
	if (m->attempts + 1 >= EAS__SYNC_CHANGE_ATTEMPTS) {
		o->outcome = OUT_FAILED;
		o->status = status;
		int rc = y->store->change_done(y->store, m->id);
		return rc ? rc : clear_marker(y, m);
	}
	uint64_t d = eas__sync_retry_delay(y);
	y->mv.delay_ms = d == UINT64_MAX ? 60000u : d;
	return y->store->change_retry(y->store, m->id);
}

static int answer_move(eas__sync *y, eas__mv *m, mv_outcome *o, const eas_move_result *r)
{
	int sent_before = m->answered == -1;
	m->answered = 1;
	int rc = 0;
	switch (r->status) {
	case EAS_MOVE_ITEMS_SUCCESS:
		if (!r->dst_msg_id || !r->dst_msg_id[0] || strlen(r->dst_msg_id) > EAS_STORE_ID_MAX)
			return EAS_E_PROTOCOL;
		snprintf(o->new_id, sizeof o->new_id, "%s", r->dst_msg_id);
		o->outcome = OUT_MOVED;
		rc = moved(y, m, r->dst_msg_id);
		break;
	case EAS_MOVE_ITEMS_INVALID_SOURCE:
		if (sent_before) {
			o->outcome = OUT_MOVED_UNKNOWN;
			rc = moved_unknown(y, m);
			break;
		}
		o->outcome = OUT_FAILED;
		break;
	case EAS_MOVE_ITEMS_LOCKED:
		rc = retry_move(y, m, o, r->status);
		if (rc == 0 && o->outcome == OUT_NONE)
			rc = clear_marker(y, m); /* not moved: a later 1 is a refusal */
		return rc;
	default:
		o->outcome = OUT_FAILED;
		break;
	}
	o->status = r->status;
	if (rc == 0)
		rc = y->store->change_done(y->store, m->id);
	if (rc == EAS_E_NOTFOUND)
		rc = 0;
	if (rc == 0)
		rc = clear_marker(y, m);
	return rc;
}

static void emit_events(eas__sync *y, const mv_outcome *out)
{
	for (size_t i = 0; i < y->mv.n; i++) {
		const eas__mv *m = &y->mv.list[i];
		const mv_outcome *o = &out[i];
		if (o->outcome == OUT_MOVED || o->outcome == OUT_MOVED_UNKNOWN) {
			eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_ITEM_MOVED, m->dest_id, 0,
								   "%s moved from %s to %s", m->server_id, m->folder_id,
								   m->dest_id);
			eas__sync_event_server_id(ev, o->outcome == OUT_MOVED ? o->new_id : NULL);
		} else if (o->outcome == OUT_FAILED) {
			change_failed_event(y, m, o->status, move_status_text(o->status));
		}
	}
}

void eas__sync_move_response(eas__sync *y)
{
	eas_session *s = y->s;
	eas_tree *tree = NULL;
	char err[200] = "";
	eas_move_items_response r;
	memset(&r, 0, sizeof r);
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &y->mem, err,
				sizeof err);
	if (rc == 0)
		rc = eas_move_items_response_decode(&r, eas_tree_root(tree), err, sizeof err);
	if (rc) {
		eas_tree_free(tree);
		eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad MoveItems response: %s",
			       err[0] ? err : eas_strerror(rc));
		return;
	}
	if (r.status && r.status != EAS_MOVE_ITEMS_SUCCESS && !r.result_count) {
		/* The whole request refused: each move counts one attempt (dropped after 5), then the job ends. */
		eas_tree_free(tree);
		mv_outcome *o = eas__calloc(&y->mem, y->mv.n ? y->mv.n : 1, sizeof *o);
		rc = o ? eas__sync_begin(y) : EAS_E_NOMEM;
		for (size_t i = 0; rc == 0 && i < y->mv.n; i++)
			rc = retry_move(y, &y->mv.list[i], &o[i], r.status);
		if (rc == 0)
			rc = eas__sync_commit(y);
		else
			eas__sync_rollback(y);
		if (rc == 0)
			emit_events(y, o);
		eas__free(&y->mem, o);
		eas__sync_fail_status(y, EAS_CMD_MOVE_ITEMS, (int)r.status);
		return;
	}
	mv_outcome *out = eas__calloc(&y->mem, y->mv.n ? y->mv.n : 1, sizeof *out);
	y->mv.delay_ms = 0;
	rc = out ? eas__sync_begin(y) : EAS_E_NOMEM;
	const eas_node *cursor = NULL;
	eas_move_result res;
	int more;
	while (rc == 0 && (more = eas_move_items_next_result(&r, &cursor, &res, err, sizeof err)) != 0) {
		if (more < 0) {
			rc = EAS_E_PROTOCOL;
			break;
		}
		/* Results come in request order, matched by SrcMsgId (one item may be named twice). */
		for (size_t i = 0; i < y->mv.n; i++) {
			eas__mv *m = &y->mv.list[i];
			if (m->answered == 1 || strcmp(m->server_id, res.src_msg_id) != 0)
				continue;
			rc = answer_move(y, m, &out[i], &res);
			break;
		}
	}
	/* A move the answer did not mention counts as one attempt (bounded, never a loop). */
	for (size_t i = 0; rc == 0 && i < y->mv.n; i++)
		if (y->mv.list[i].answered != 1) {
			rc = retry_move(y, &y->mv.list[i], &out[i], EAS_MOVE_ITEMS_FAILED);
			if (y->mv.delay_ms == 0 && out[i].outcome == OUT_NONE)
				y->mv.delay_ms = 1000;
		}
	eas_tree_free(tree);
	if (rc == 0)
		rc = eas__sync_commit(y);
	if (rc) {
		eas__free(&y->mem, out);
		eas__sync_fail(y, rc, 0, "applying the MoveItems answer: %s%s%s", eas_strerror(rc), err[0] ? ": " : "",
			       err);
		return;
	}
	emit_events(y, out);
	eas__free(&y->mem, out);
	uint64_t delay = y->mv.delay_ms;
	if (!delay)
		eas__sync_progress(y); /* a retry keeps its backoff growing */
	eas__sync_move_free(y);
	y->phase = EAS__PH_SYNC;
	eas__sync_collections_start(y, delay);
}
