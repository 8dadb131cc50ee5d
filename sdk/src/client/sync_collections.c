/*
 * The Sync phase: folders' items into the state store, local changes to
 * the server.
 *
 * Rounds.  Each request carries every folder of the phase that still has
 * work (12.1 and later; one folder per request before, with Collection/
 * Class), at most `limit` of them (Sync status 15 lowers it): SyncKey 0 for
 * a folder never synced, else GetChanges with WindowSize, the Options of
 * eas_sync_settings, and up to EAS__SYNC_CHANGES_PER_REQUEST queued local
 * changes.  A folder is done when its answer has no MoreAvailable, no local
 * change is left and its key is past 0.
 *
 * Applying.  The response streams through eas_sync_parser as the body
 * arrives; everything it brings (server Add/Change/Delete/SoftDelete, the
 * answers to local changes, each folder's new SyncKey and MoreAvailable) is
 * written inside ONE store transaction, committed when the body is complete
 * and parsed.  A broken connection, a malformed body or a failing callback
 * rolls it all back: the store keeps the old keys, and the request goes
 * again with them.  MS-ASCMD makes the server answer a repeated key with
 * the same response, item_put is an upsert by (folder, ServerId) and a
 * client Add carries the same ClientId, so the replay is harmless.
 *
 * Server changes.  An Add replaces the stored item; an email Change is
 * merged into it (servers send only what changed: Read, Flag, Categories);
 * other classes' Changes replace it.  A local Read/Flag not yet
 * acknowledged stays what the app sees.  Answering key 0 means the server
 * starts the folder over: its items are cleared in the transaction of that
 * answer (so a resync after status 3 never shows an item twice).
 *
 * Local changes and their per-item Status: 1 applied (an Add's ServerId is
 * stored with the item, client_added tells the app); 6 (the server cannot
 * take the item) dropped and logged, never blocking the folder; 7 conflict:
 * the server wins (the change is dropped, a Read/Flag shows the server's
 * last value again, the server's version comes as a Change); 8 not found:
 * dropped, the item removed locally; anything else is retried with the next
 * request up to EAS__SYNC_CHANGE_ATTEMPTS times, then dropped.  A change the
 * answer does not mention was applied (servers answer only failures of
 * Change and Delete).
 *
 * Folder statuses: 3 resync from key 0 (at most EAS__SYNC_RESYNCS per
 * job), 5/9/16 retry with a backoff, 8/12 FolderSync then retry, 13 resend,
 * anything else (4...) ends the job with EAS_EVENT_ERROR once the other
 * folders' answers are stored.  Top-level statuses: provisioning ones go
 * through Provision and the same request again, 15 lowers the collection
 * limit, 14 cannot happen (no Wait/HeartbeatInterval is sent: long-poll
 * Sync is not used; push is Ping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/sync_internal.h"
#include "common/mem.h"
#include "eas/status.h"

#define PARSER_MAX_ITEM (16u << 20)

/* ---- the folders of the phase ----------------------------------------------------- */

static void free_sent(eas__sync *y)
{
	for (size_t i = 0; i < y->sy.nsent; i++) {
		eas__sent *e = &y->sy.sent[i];
		eas__free(&y->mem, e->server_id);
		eas__free(&y->mem, e->client_id);
		eas__free(&y->mem, e->class_name);
		eas__free(&y->mem, e->data);
	}
	eas__free(&y->mem, y->sy.sent);
	y->sy.sent = NULL;
	y->sy.nsent = 0;
}

static void free_local(eas__sync *y)
{
	for (size_t i = 0; i < y->sy.nlocal; i++)
		eas__free(&y->mem, y->sy.local[i].server_id);
	eas__free(&y->mem, y->sy.local);
	y->sy.local = NULL;
	y->sy.nlocal = 0;
}

void eas__sync_collections_free(eas__sync *y)
{
	free_sent(y);
	free_local(y);
	eas__free(&y->mem, y->sy.colls);
	y->sy.colls = NULL;
	y->sy.ncolls = 0;
	y->sy.pending = 0;
	y->sy.prime_only = 0;
	y->sy.all = 0;
	y->sy.cur = NULL;
	y->sy.started = 0;
	eas_sync_parser_free(y->sy.parser);
	y->sy.parser = NULL;
}

static int add_coll(eas__sync *y, const char *id)
{
	for (size_t i = 0; i < y->sy.ncolls; i++)
		if (strcmp(y->sy.colls[i].id, id) == 0)
			return 0;
	if (y->sy.ncolls >= EAS__SYNC_MAX_FOLDERS)
		return EAS_E_LIMIT;
	eas__coll *n = eas__realloc(&y->mem, y->sy.colls, (y->sy.ncolls + 1) * sizeof *n);
	if (!n)
		return EAS_E_NOMEM;
	y->sy.colls = n;
	eas__coll *c = &n[y->sy.ncolls++];
	memset(c, 0, sizeof *c);
	snprintf(c->id, sizeof c->id, "%s", id);
	return 0;
}

typedef struct list_ctx {
	eas__sync *y;
	int rc;
} list_ctx;

static int add_wanted(const eas_store_folder *f, void *ud)
{
	list_ctx *l = ud;
	if (!f->sync_wanted || !f->class_name || !f->class_name[0])
		return 0;
	l->rc = add_coll(l->y, f->server_id);
	if (l->rc == EAS_E_LIMIT) {
		l->rc = 0; /* past the limit: the first ones */
		return 1;
	}
	return l->rc != 0;
}

static int add_all_wanted(eas__sync *y)
{
	list_ctx l = { y, 0 };
	int rc = y->store->folder_list(y->store, add_wanted, &l);
	if (rc == EAS_E_CALLBACK)
		rc = l.rc;
	return rc;
}

int eas__sync_collections_set(eas__sync *y, const char *const *ids, size_t count)
{
	eas__sync_collections_free(y);
	y->sy.pending = 1;
	y->sy.limit = y->sy.limit ? y->sy.limit : 64;
	if (!ids) {
		/* Every wanted folder, read when the phase starts (a FolderSync may run first). */
		y->sy.all = 1;
		return 0;
	}
	for (size_t i = 0; i < count; i++) {
		int rc = add_coll(y, ids[i]);
		if (rc)
			return rc;
	}
	return 0;
}

typedef struct change_probe {
	int found;
} change_probe;

static int probe_change(const eas_store_change *c, void *ud)
{
	(void)c; /* a MOVE counts too: the phase sends it with MoveItems (sync_move.c) */
	((change_probe *)ud)->found = 1;
	return 1;
}

int eas__sync_has_changes(eas__sync *y, const char *folder_id)
{
	change_probe p = { 0 };
	y->store->change_list(y->store, folder_id, probe_change, &p);
	return p.found;
}

/* ---- building a request -------------------------------------------------------------- */

typedef struct gather {
	eas__sync *y;
	size_t coll;
	int64_t max_id;    /* a pinned request: only the changes it carried */
	const char *class_name;
	size_t count;
	int64_t drop[EAS__SYNC_CHANGES_PER_REQUEST];
	size_t ndrop;
	int rc;
} gather;

static int gather_change(const eas_store_change *c, void *ud)
{
	gather *g = ud;
	eas__sync *y = g->y;
	if (c->id > g->max_id)
		return 1; /* oldest first: the rest came after the pinned request */
	if (c->kind == EAS_STORE_CHANGE_MOVE)
		return 1; /* FIFO: what follows a MOVE waits for its MoveItems (sync_move.c) */
	int email = strcmp(g->class_name, "Email") == 0;
	if ((c->kind == EAS_STORE_CHANGE_READ || c->kind == EAS_STORE_CHANGE_FLAG) && !email) {
		if (g->ndrop < EAS__SYNC_CHANGES_PER_REQUEST)
			g->drop[g->ndrop++] = c->id; /* Read/Flag mean nothing outside email */
		return 0;
	}
	if ((c->kind == EAS_STORE_CHANGE_ADD || c->kind == EAS_STORE_CHANGE_CHANGE) && (!c->data || !c->data_len)) {
		if (g->ndrop < EAS__SYNC_CHANGES_PER_REQUEST)
			g->drop[g->ndrop++] = c->id; /* nothing to send */
		return 0;
	}
	eas__sent *n = eas__realloc(&y->mem, y->sy.sent, (y->sy.nsent + 1) * sizeof *n);
	if (!n) {
		g->rc = EAS_E_NOMEM;
		return 1;
	}
	y->sy.sent = n;
	eas__sent *e = &n[y->sy.nsent];
	memset(e, 0, sizeof *e);
	e->id = c->id;
	e->kind = c->kind;
	e->coll = g->coll;
	e->value = c->value;
	e->attempts = c->attempts;
	y->sy.nsent++;
	if (c->id > y->sy.colls[g->coll].sent_max)
		y->sy.colls[g->coll].sent_max = c->id;
	if (c->kind == EAS_STORE_CHANGE_ADD) {
		e->client_id = eas__sync_strdup(y, c->client_id);
		e->class_name = eas__sync_strdup(y, c->class_name ? c->class_name : g->class_name);
		if (!e->client_id || !e->class_name)
			g->rc = EAS_E_NOMEM;
	} else if (!(e->server_id = eas__sync_strdup(y, c->server_id))) {
		g->rc = EAS_E_NOMEM;
	}
	if (g->rc == 0 && c->data_len && (c->kind == EAS_STORE_CHANGE_ADD || c->kind == EAS_STORE_CHANGE_CHANGE)) {
		if (!(e->data = eas__malloc(&y->mem, c->data_len)))
			g->rc = EAS_E_NOMEM;
		else
			memcpy(e->data, c->data, c->data_len);
		e->data_len = c->data_len;
	}
	if (g->rc)
		return 1;
	return ++g->count >= EAS__SYNC_CHANGES_PER_REQUEST;
}

/* The Options of a collection from the settings, in the form the version takes. */
static void fill_options(eas__sync *y, eas_sync_collection_request *r, const char *class_name)
{
	unsigned v = y->s->version;
	const eas_sync_settings *set = &y->set;
	int email = strcmp(class_name, "Email") == 0;
	eas_sync_options *o = &r->options[0];
	memset(o, 0, sizeof *o);
	r->option_count = 1;
	if (email || strcmp(class_name, "Calendar") == 0) {
		o->has_filter_type = 1;
		o->filter_type = set->filter_type;
		if (!email && o->filter_type >= 1 && o->filter_type <= 3)
			o->filter_type = 4; /* Calendar has no 1-3 day windows: two weeks */
	}
	o->has_conflict = 1;
	o->conflict = 1; /* the server's version wins (the documented policy) */
	if (v & EAS_PROTO_FROM(EAS_PROTO_12_0)) {
		uint32_t type = set->body_type;
		if (type == 4 && !email)
			type = 1; /* MIME is for email only */
		o->body_prefs[0].type = type;
		if (set->truncation_size) {
			o->body_prefs[0].has_truncation_size = 1;
			o->body_prefs[0].truncation_size = set->truncation_size;
		}
		o->body_pref_count = 1;
		if (email && type == 4) {
			o->has_mime_support = 1;
			o->mime_support = 2;
		}
	} else {
		/* 2.5: Truncation / MIMETruncation codes (0 none ... 8 whole). */
		static const uint32_t sizes[] = { 0, 4096, 5120, 7168, 10240, 20480, 51200, 102400 };
		uint32_t code = 8;
		for (uint32_t i = 0; set->truncation_size && i < 8; i++)
			if (sizes[i] >= set->truncation_size) {
				code = i;
				break;
			}
		if (email && set->body_type == 4) {
			o->has_mime_support = 1;
			o->mime_support = 2;
			o->has_mime_truncation = 1;
			o->mime_truncation = code;
		} else {
			o->has_truncation = 1;
			o->truncation = code;
		}
	}
}

typedef struct request_ctx {
	eas_sync_request req;
	eas_sync_collection_request *colls;
	char (*keys)[EAS__SYNC_ID_SIZE];
	eas_sync_item *items;
} request_ctx;

static int write_sync(eas_wbxml_encoder *enc, void *arg)
{
	eas__sync *y = arg;
	request_ctx *r = y->sy.req_ctx;
	return eas_sync_request_encode(enc, &r->req, y->s->version);
}

/* Changes the drop list named (Read/Flag outside email, empty Adds) leave the queue. */
static void drop_changes(eas__sync *y, const gather *g)
{
	for (size_t i = 0; i < g->ndrop; i++) {
		eas__sync_log(y, EAS_LOG_WARN, "local change %lld cannot be sent: dropped", (long long)g->drop[i]);
		y->store->change_done(y->store, g->drop[i]);
	}
}

/* Fills one collection of the request; 0, or an error (the coll may be marked done). */
static int build_collection(eas__sync *y, size_t ci, eas_sync_collection_request *r, char *key_buf)
{
	eas__coll *c = &y->sy.colls[ci];
	eas_store_folder f;
	int rc = y->store->folder_get(y->store, c->id, &f);
	if (rc)
		return rc;
	snprintf(key_buf, EAS__SYNC_ID_SIZE, "%s", f.sync_key && f.sync_key[0] ? f.sync_key : "0");
	snprintf(c->class_name, sizeof c->class_name, "%s", f.class_name ? f.class_name : "");
	memset(r, 0, sizeof *r);
	r->sync_key = key_buf;
	r->collection_id = c->id;
	if (!(y->s->version & EAS_PROTO_FROM(EAS_PROTO_14_0)) && c->class_name[0])
		r->class_name = c->class_name;
	c->sent_key0 = strcmp(key_buf, "0") == 0;
	c->in_request = 1;
	c->status = 0;
	c->more = 0;
	c->retry = 0;
	c->sent_max = -1;
	if (c->sent_key0)
		return 0; /* the first request of a folder carries nothing else */
	r->has_get_changes = 1;
	r->get_changes = y->sy.prime_only ? 0 : 1;
	r->has_window_size = 1;
	r->window_size = y->set.window_size;
	fill_options(y, r, c->class_name);
	gather g;
	memset(&g, 0, sizeof g);
	g.y = y;
	g.coll = ci;
	g.class_name = c->class_name;
	g.max_id = c->pinned ? c->pin_max : INT64_MAX;
	if (!y->sy.prime_only) {
		rc = y->store->change_list(y->store, c->id, gather_change, &g);
		if (rc == EAS_E_CALLBACK)
			rc = g.rc;
		drop_changes(y, &g);
	}
	return rc;
}

static int make_request(eas__sync *y, request_ctx *r, size_t *picked)
{
	size_t max = y->s->version & EAS_PROTO_FROM(EAS_PROTO_12_1) ? y->sy.limit : 1;
	*picked = 0;
	int pinned = 0;
	for (size_t i = 0; i < y->sy.ncolls; i++) {
		y->sy.colls[i].in_request = 0;
		pinned |= y->sy.colls[i].pinned;
	}
	if (pinned)
		max = y->sy.ncolls; /* the pinned request as it was, whatever the limit now */
	for (size_t i = 0; i < y->sy.ncolls && *picked < max; i++) {
		eas__coll *c = &y->sy.colls[i];
		if (c->done || (pinned && !c->pinned))
			continue;
		int rc = build_collection(y, i, &r->colls[*picked], r->keys[*picked]);
		if (rc == EAS_E_NOTFOUND) {
			c->done = 1; /* the folder went away (FolderSync) */
			c->in_request = 0;
			continue;
		}
		if (rc)
			return rc;
		if (y->sy.prime_only && !c->sent_key0) {
			c->done = 1; /* primed already */
			c->in_request = 0;
			continue;
		}
		(*picked)++;
	}
	/* The commands of each collection, from the copies taken above. */
	if (y->sy.nsent) {
		r->items = eas__calloc(&y->mem, y->sy.nsent, sizeof *r->items);
		if (!r->items)
			return EAS_E_NOMEM;
	}
	size_t k = 0;
	for (size_t p = 0; p < *picked; p++) {
		eas_sync_collection_request *cr = &r->colls[p];
		cr->commands = r->items ? r->items + k : NULL;
		for (size_t i = 0; i < y->sy.nsent; i++) {
			eas__sent *e = &y->sy.sent[i];
			if (strcmp(y->sy.colls[e->coll].id, cr->collection_id) != 0)
				continue;
			eas_sync_item *it = &r->items[k++];
			switch (e->kind) {
			case EAS_STORE_CHANGE_ADD:
				it->op = EAS_SYNC_OP_ADD;
				it->client_id = e->client_id;
				break;
			case EAS_STORE_CHANGE_DELETE:
				it->op = EAS_SYNC_OP_DELETE;
				it->server_id = e->server_id;
				break;
			default: {
				it->op = EAS_SYNC_OP_CHANGE;
				it->server_id = e->server_id;
				if (e->kind == EAS_STORE_CHANGE_READ || e->kind == EAS_STORE_CHANGE_FLAG) {
					eas_buf doc;
					eas_buf_init(&doc, &y->mem, 0);
					int rc = eas__item_change_doc(&doc, e->kind, e->value, y->s->version, &y->mem);
					if (rc) {
						eas_buf_free(&doc);
						return rc;
					}
					e->data = eas_buf_steal(&doc, &e->data_len);
				}
				break;
			}
			}
			it->data = e->data;
			it->data_len = e->data_len;
			cr->command_count++;
		}
	}
	r->req.collections = r->colls;
	r->req.collection_count = *picked;
	return 0;
}

/*
 * Pinning the request in flight.  A lost answer is only harmless if the
 * request that repeats its keys is the same request: the server replays
 * the stored answer of the keys it already moved past and applies nothing
 * of what the repeat carries (MS-ASCMD; the companion server replays only
 * when every collection repeats its previous key).  Local changes queued
 * meanwhile, or a different set of folders, would be lost or applied
 * twice.  So before a Sync request goes out its shape is made durable in
 * ONE store transaction: "sync_sent" = a generation, and per folder
 * "sync_sent:<id>" = "<generation> <SyncKey> <highest change id|->".  The
 * transaction that stores the answer removes them.  A pin found while a
 * folder still has the pinned key (the answer never committed: lost, or the
 * process died) makes the next request carry exactly those folders with
 * exactly those changes.
 */
#define PIN_KEY "sync_sent"
#define PIN_VALUE_SIZE (64 + EAS__SYNC_ID_SIZE)

static void pin_name(char *out, size_t size, const char *folder_id)
{
	snprintf(out, size, PIN_KEY ":%s", folder_id);
}

typedef struct pin_scan {
	eas__sync *y;
	char gen[32];
	int rc;
	int found;
} pin_scan;

static int scan_pin(const eas_store_folder *f, void *ud)
{
	pin_scan *p = ud;
	char name[16 + EAS__SYNC_ID_SIZE], v[PIN_VALUE_SIZE], gen[32], key[EAS__SYNC_ID_SIZE], max[32];
	pin_name(name, sizeof name, f->server_id);
	if (p->y->store->value_get(p->y->store, name, v, sizeof v) != 0)
		return 0;
	if (sscanf(v, "%31s %256s %31s", gen, key, max) != 3 || strcmp(gen, p->gen) != 0 ||
	    strcmp(key, f->sync_key ? f->sync_key : "0") != 0)
		return 0; /* another request's, or answered since */
	p->rc = add_coll(p->y, f->server_id);
	if (p->rc)
		return 1;
	for (size_t i = 0; i < p->y->sy.ncolls; i++) {
		eas__coll *c = &p->y->sy.colls[i];
		if (strcmp(c->id, f->server_id) == 0) {
			c->pinned = 1;
			c->done = 0;
			c->pin_max = strcmp(max, "-") == 0 ? -1 : strtoll(max, NULL, 10);
		}
	}
	p->found = 1;
	return 0;
}

/* Marks the folders of a pinned request (adding them to the phase). */
static int load_pins(eas__sync *y)
{
	pin_scan p;
	memset(&p, 0, sizeof p);
	p.y = y;
	for (size_t i = 0; i < y->sy.ncolls; i++)
		y->sy.colls[i].pinned = 0;
	if (y->store->value_get(y->store, PIN_KEY, p.gen, sizeof p.gen) != 0)
		return 0;
	int rc = y->store->folder_list(y->store, scan_pin, &p);
	if (rc == EAS_E_CALLBACK)
		rc = p.rc;
	if (rc == 0 && !p.found)
		rc = y->store->value_set(y->store, PIN_KEY, NULL); /* stale */
	return rc == EAS_E_NOTFOUND ? 0 : rc;
}

/* Removes the pins of the request in flight (inside the transaction that stores its answer, when open). */
static int clear_pins(eas__sync *y)
{
	int rc = 0;
	char name[16 + EAS__SYNC_ID_SIZE];
	for (size_t i = 0; rc == 0 && i < y->sy.ncolls; i++) {
		eas__coll *c = &y->sy.colls[i];
		if (!c->in_request && !c->pinned)
			continue;
		pin_name(name, sizeof name, c->id);
		rc = y->store->value_set(y->store, name, NULL);
		if (rc == EAS_E_NOTFOUND)
			rc = 0;
		c->pinned = 0;
	}
	if (rc == 0)
		rc = y->store->value_set(y->store, PIN_KEY, NULL);
	return rc == EAS_E_NOTFOUND ? 0 : rc;
}

/* Makes the shape of the request about to go out durable (one transaction). */
static int write_pins(eas__sync *y, const request_ctx *r, size_t picked)
{
	uint8_t rnd[8];
	y->s->platform->random_bytes(rnd, sizeof rnd, y->s->platform->user_data);
	char gen[32];
	snprintf(gen, sizeof gen, "%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5],
		 rnd[6], rnd[7]);
	int rc = eas__sync_begin(y);
	for (size_t i = 0; rc == 0 && i < y->sy.ncolls; i++) {
		eas__coll *c = &y->sy.colls[i];
		if (!c->in_request)
			continue;
		const char *key = NULL;
		for (size_t k = 0; k < picked; k++)
			if (r->colls[k].collection_id == c->id)
				key = r->colls[k].sync_key;
		char name[16 + EAS__SYNC_ID_SIZE], v[PIN_VALUE_SIZE];
		pin_name(name, sizeof name, c->id);
		if (c->sent_max >= 0)
			snprintf(v, sizeof v, "%s %s %lld", gen, key ? key : "0", (long long)c->sent_max);
		else
			snprintf(v, sizeof v, "%s %s -", gen, key ? key : "0");
		rc = y->store->value_set(y->store, name, v);
	}
	if (rc == 0)
		rc = y->store->value_set(y->store, PIN_KEY, gen);
	if (rc) {
		eas__sync_rollback(y);
		return rc;
	}
	return eas__sync_commit(y);
}

void eas__sync_collections_start(eas__sync *y, uint64_t delay_ms)
{
	free_sent(y);
	if (y->sy.all) {
		y->sy.all = 0;
		int rc = add_all_wanted(y);
		if (rc) {
			eas__sync_fail(y, rc, 0, "could not list the folders to sync: %s", eas_strerror(rc));
			return;
		}
	}
	int prc = load_pins(y);
	if (prc) {
		eas__sync_fail(y, prc, 0, "could not read the state of the last Sync request: %s", eas_strerror(prc));
		return;
	}
	if (eas__sync_moves_due(y)) {
		/* A MOVE heads a folder's queue: MoveItems before that folder's Sync. */
		y->phase = EAS__PH_MOVE;
		eas__sync_move_start(y, delay_ms);
		return;
	}
	if (++y->sy.rounds > EAS__SYNC_MAX_ROUNDS) {
		eas__sync_fail(y, EAS_E_PROTOCOL, 0, "Sync: the server kept sending MoreAvailable past %u requests",
			       EAS__SYNC_MAX_ROUNDS);
		return;
	}
	size_t n = y->sy.ncolls ? y->sy.ncolls : 1;
	request_ctx r;
	memset(&r, 0, sizeof r);
	r.colls = eas__calloc(&y->mem, n, sizeof *r.colls);
	r.keys = eas__calloc(&y->mem, n, sizeof *r.keys);
	size_t picked = 0;
	int rc = r.colls && r.keys ? make_request(y, &r, &picked) : EAS_E_NOMEM;
	if (rc == 0 && picked == 0) {
		/* Nothing left: the phase is over. */
		eas__free(&y->mem, r.items);
		eas__free(&y->mem, r.colls);
		eas__free(&y->mem, r.keys);
		free_sent(y);
		y->sy.pending = 0;
		eas__sync_done_event(y);
		eas__sync_advance(y);
		return;
	}
	if (rc == 0)
		rc = write_pins(y, &r, picked);
	if (rc == 0) {
		y->sy.req_ctx = &r;
		rc = eas__sync_send(y, EAS_CMD_SYNC, write_sync, y, delay_ms);
		y->sy.req_ctx = NULL;
	}
	eas__free(&y->mem, r.items);
	eas__free(&y->mem, r.colls);
	eas__free(&y->mem, r.keys);
	if (rc)
		eas__sync_fail(y, rc, 0, "could not send Sync: %s", eas_strerror(rc));
}

/* ---- applying the response (parser callbacks, inside the transaction) ------------------- */

/* Records why applying failed; the parser turns the non-zero return into EAS_E_CALLBACK. */
static int apply_error(eas__sync *y, int rc, const char *what)
{
	if (!y->sy.parse_err[0])
		snprintf(y->sy.parse_err, sizeof y->sy.parse_err, "%s: %s", what, eas_strerror(rc));
	y->sy.apply_rc = rc;
	return rc;
}

static eas__coll *find_coll(eas__sync *y, const char *id)
{
	for (size_t i = 0; id && i < y->sy.ncolls; i++)
		if (y->sy.colls[i].in_request && strcmp(y->sy.colls[i].id, id) == 0)
			return &y->sy.colls[i];
	return NULL;
}

typedef struct id_list {
	eas__sync *y;
	char **ids;
	size_t n, cap;
	int rc;
} id_list;

static int collect_item(const eas_store_item *it, void *ud)
{
	id_list *l = ud;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **n = eas__realloc(&l->y->mem, l->ids, cap * sizeof *n);
		if (!n) {
			l->rc = EAS_E_NOMEM;
			return 1;
		}
		l->ids = n;
		l->cap = cap;
	}
	if (!(l->ids[l->n] = eas__sync_strdup(l->y, it->server_id))) {
		l->rc = EAS_E_NOMEM;
		return 1;
	}
	l->n++;
	return 0;
}

/* The server starts the folder over (answer to key 0): every stored item goes, the app told first. */
static int clear_folder(eas__sync *y, const eas__coll *c)
{
	int rc = 0;
	if (y->cb.item_deleted) {
		id_list l = { y, NULL, 0, 0, 0 };
		rc = y->store->item_list(y->store, c->id, collect_item, &l);
		if (rc == EAS_E_CALLBACK)
			rc = l.rc;
		for (size_t i = 0; rc == 0 && i < l.n; i++)
			if (y->cb.item_deleted(c->id, l.ids[i], 0, y->cb.user_data) != 0)
				rc = EAS_E_CALLBACK;
		for (size_t i = 0; i < l.n; i++)
			eas__free(&y->mem, l.ids[i]);
		eas__free(&y->mem, l.ids);
	}
	if (rc == 0)
		rc = y->store->item_clear(y->store, c->id);
	return rc == EAS_E_NOTFOUND ? 0 : rc;
}

static int load_local(const eas_store_change *c, void *ud)
{
	eas__sync *y = ud;
	if (c->kind != EAS_STORE_CHANGE_READ && c->kind != EAS_STORE_CHANGE_FLAG)
		return 0;
	eas__local *l = NULL;
	for (size_t i = 0; i < y->sy.nlocal; i++)
		if (strcmp(y->sy.local[i].server_id, c->server_id) == 0)
			l = &y->sy.local[i];
	if (!l) {
		eas__local *n = eas__realloc(&y->mem, y->sy.local, (y->sy.nlocal + 1) * sizeof *n);
		if (!n)
			return 1;
		y->sy.local = n;
		l = &n[y->sy.nlocal];
		memset(l, 0, sizeof *l);
		if (!(l->server_id = eas__sync_strdup(y, c->server_id)))
			return 1;
		y->sy.nlocal++;
	}
	/* Later changes win (the queue is oldest first). */
	if (c->kind == EAS_STORE_CHANGE_READ) {
		l->has_read = 1;
		l->read = c->value;
	} else {
		l->has_flag = 1;
		l->flag = c->value;
	}
	return 0;
}

static int on_collection_begin(const eas_sync_collection *c, void *ud)
{
	eas__sync *y = ud;
	eas__coll *coll = find_coll(y, c->collection_id);
	y->sy.cur = coll;
	if (!coll)
		return 0; /* not asked for: ignored */
	coll->status = c->status;
	coll->more = 0;
	if (c->status != EAS_SYNC_STATUS_OK && c->status != EAS_SYNC_STATUS_INVALID_KEY)
		return 0;
	int rc = eas__sync_begin(y);
	if (rc)
		return apply_error(y, rc, "store transaction");
	if (c->status != EAS_SYNC_STATUS_OK)
		return 0;
	if (!c->sync_key || strlen(c->sync_key) > EAS_STORE_ID_MAX)
		return apply_error(y, EAS_E_PROTOCOL, "SyncKey too long");
	if (coll->sent_key0 && (rc = clear_folder(y, coll)) != 0)
		return apply_error(y, rc, "clearing the folder for its resync");
	free_local(y);
	if (y->store->change_list(y->store, coll->id, load_local, y) == EAS_E_CALLBACK)
		return apply_error(y, EAS_E_NOMEM, "local changes");
	return 0;
}

static const eas__local *local_of(const eas__sync *y, const char *server_id)
{
	for (size_t i = 0; i < y->sy.nlocal; i++)
		if (strcmp(y->sy.local[i].server_id, server_id) == 0)
			return &y->sy.local[i];
	return NULL;
}

/* Stores an item's document (merged into the stored one for an email Change) and tells the app. */
static int put_item(eas__sync *y, const eas__coll *coll, const char *server_id, const char *class_name,
		    const uint8_t *data, size_t len, int merge, int *is_new_out)
{
	eas_buf merged;
	eas_buf_init(&merged, &y->mem, 0);
	eas_store_item old;
	int rc = y->store->item_get(y->store, coll->id, server_id, &old);
	int is_new = rc == EAS_E_NOTFOUND;
	if (is_new_out)
		*is_new_out = is_new;
	if (rc && rc != EAS_E_NOTFOUND)
		return rc;
	if (rc == 0 && merge && old.data && old.data_len) {
		rc = eas__item_merge(&merged, old.data, old.data_len, data, len, &y->mem);
		if (rc) {
			eas_buf_free(&merged);
			return rc;
		}
		data = merged.data;
		len = merged.len;
	}
	eas_store_item it;
	memset(&it, 0, sizeof it);
	it.folder_id = coll->id;
	it.server_id = server_id;
	it.class_name = class_name;
	it.data = data;
	it.data_len = len;
	if (strcmp(class_name, "Email") == 0) {
		eas__item_read_flag(data, len, &y->mem, &it.read, &it.flag_status);
		const eas__local *l = local_of(y, server_id);
		if (l && l->has_read)
			it.read = l->read;
		if (l && l->has_flag)
			it.flag_status = l->flag;
	}
	rc = y->store->item_put(y->store, &it);
	if (rc == 0 && y->cb.item_changed && y->cb.item_changed(&it, !is_new, y->cb.user_data) != 0)
		rc = EAS_E_CALLBACK;
	eas_buf_free(&merged);
	return rc;
}

static int on_command(const eas_sync_collection *c, const eas_sync_item *item, void *ud)
{
	(void)c;
	eas__sync *y = ud;
	eas__coll *coll = y->sy.cur;
	if (!coll || coll->status != EAS_SYNC_STATUS_OK || !item->server_id)
		return 0;
	if (strlen(item->server_id) > EAS_STORE_ID_MAX)
		return apply_error(y, EAS_E_PROTOCOL, "ServerId too long");
	int rc = 0;
	switch (item->op) {
	case EAS_SYNC_OP_ADD:
	case EAS_SYNC_OP_CHANGE: {
		if (!item->has_data || !item->data)
			return 0; /* a Change without ApplicationData changes nothing */
		const char *cls = item->class_name ? item->class_name : coll->class_name;
		int merge = item->op == EAS_SYNC_OP_CHANGE && strcmp(cls, "Email") == 0;
		int is_new = 0;
		rc = put_item(y, coll, item->server_id, cls, item->data, item->data_len, merge, &is_new);
		if (rc)
			return apply_error(y, rc, "storing an item");
		if (is_new)
			y->sy.added++;
		else
			y->sy.changed++;
		y->sy.bytes += item->data_len;
		return 0;
	}
	case EAS_SYNC_OP_DELETE:
	case EAS_SYNC_OP_SOFT_DELETE:
		rc = y->store->item_delete(y->store, coll->id, item->server_id);
		if (rc && rc != EAS_E_NOTFOUND)
			return apply_error(y, rc, "deleting an item");
		if (y->cb.item_deleted &&
		    y->cb.item_deleted(coll->id, item->server_id, item->op == EAS_SYNC_OP_SOFT_DELETE, y->cb.user_data))
			return apply_error(y, EAS_E_CALLBACK, "item_deleted callback");
		y->sy.deleted++;
		return 0;
	default:
		return 0;
	}
}

/* Conflict (status 7): a Read/Flag shows the server's last known value again. */
static int restore_server_values(eas__sync *y, const eas__coll *coll, const char *server_id)
{
	eas_store_item it;
	int rc = y->store->item_get(y->store, coll->id, server_id, &it);
	if (rc)
		return rc == EAS_E_NOTFOUND ? 0 : rc;
	int read = it.read, flag = it.flag_status;
	eas__item_read_flag(it.data, it.data_len, &y->mem, &read, &flag);
	if (read == it.read && flag == it.flag_status)
		return 0;
	it.read = read;
	it.flag_status = flag;
	return y->store->item_put(y->store, &it);
}

/* Retryable or unknown: again with the next request, a bounded number of times, then dropped. */
static int retry_change(eas__sync *y, eas__sent *e, uint32_t status)
{
	int rc;
	if (e->attempts + 1 >= EAS__SYNC_CHANGE_ATTEMPTS) {
		eas__sync_log(y, EAS_LOG_WARN, "Sync: local change %lld failed %u times (last status %u): dropped",
			      (long long)e->id, (unsigned)e->attempts + 1, (unsigned)status);
		rc = y->store->change_done(y->store, e->id);
	} else {
		rc = y->store->change_retry(y->store, e->id);
	}
	e->answered = 1;
	return rc == EAS_E_NOTFOUND ? 0 : rc;
}

/* The server's answer to one local change. */
static int answer_change(eas__sync *y, eas__sent *e, uint32_t status, const char *server_id)
{
	eas__coll *coll = &y->sy.colls[e->coll];
	int rc = 0;
	e->answered = 1;
	if (status == EAS_SYNC_STATUS_OK && e->kind == EAS_STORE_CHANGE_ADD && !server_id)
		status = EAS_SYNC_STATUS_SERVER_ERROR; /* no ServerId: try again */
	switch (status) {
	case EAS_SYNC_STATUS_OK:
		switch (e->kind) {
		case EAS_STORE_CHANGE_ADD: {
			if (strlen(server_id) > EAS_STORE_ID_MAX)
				return EAS_E_PROTOCOL;
			if (y->cb.client_added) {
				eas_store_change ch;
				memset(&ch, 0, sizeof ch);
				ch.id = e->id;
				ch.kind = e->kind;
				ch.folder_id = coll->id;
				ch.client_id = e->client_id;
				ch.class_name = e->class_name;
				ch.data = e->data;
				ch.data_len = e->data_len;
				if (y->cb.client_added(&ch, server_id, y->cb.user_data) != 0)
					return EAS_E_CALLBACK;
			}
			rc = put_item(y, coll, server_id, e->class_name, e->data, e->data_len, 0, NULL);
			break;
		}
		case EAS_STORE_CHANGE_DELETE:
			rc = y->store->item_delete(y->store, coll->id, e->server_id);
			if (rc == EAS_E_NOTFOUND)
				rc = 0;
			break;
		default: {
			/* The stored document takes the change (Read/Flag patch an email; a Change replaces). */
			eas_store_item it;
			rc = y->store->item_get(y->store, coll->id, e->server_id, &it);
			if (rc == EAS_E_NOTFOUND) {
				rc = 0;
				break;
			}
			if (rc == 0) {
				int merge = strcmp(coll->class_name, "Email") == 0;
				char cls[EAS__SYNC_CLASS_SIZE];
				snprintf(cls, sizeof cls, "%s", it.class_name ? it.class_name : coll->class_name);
				rc = put_item(y, coll, e->server_id, cls, e->data, e->data_len, merge, NULL);
			}
			break;
		}
		}
		if (rc == 0)
			rc = y->store->change_done(y->store, e->id);
		return rc;
	case EAS_SYNC_STATUS_CONVERSION_ERROR:
		eas__sync_log(y, EAS_LOG_WARN, "Sync: the server refused local change %lld (status 6): dropped",
			      (long long)e->id);
		return y->store->change_done(y->store, e->id);
	case EAS_SYNC_STATUS_CONFLICT:
		eas__sync_log(y, EAS_LOG_INFO, "Sync: local change %lld conflicts (status 7): the server's version wins",
			      (long long)e->id);
		if (e->kind == EAS_STORE_CHANGE_READ || e->kind == EAS_STORE_CHANGE_FLAG)
			rc = restore_server_values(y, coll, e->server_id);
		return rc ? rc : y->store->change_done(y->store, e->id);
	case EAS_SYNC_STATUS_NOT_FOUND:
		if (e->server_id) {
			rc = y->store->item_delete(y->store, coll->id, e->server_id);
			if (rc == EAS_E_NOTFOUND)
				rc = 0;
			if (rc == 0 && y->cb.item_deleted &&
			    y->cb.item_deleted(coll->id, e->server_id, 0, y->cb.user_data) != 0)
				rc = EAS_E_CALLBACK;
		}
		return rc ? rc : y->store->change_done(y->store, e->id);
	default:
		return retry_change(y, e, status);
	}
}

static int on_response(const eas_sync_collection *c, const eas_sync_item *item, void *ud)
{
	(void)c;
	eas__sync *y = ud;
	eas__coll *coll = y->sy.cur;
	if (!coll || coll->status != EAS_SYNC_STATUS_OK)
		return 0;
	size_t ci = (size_t)(coll - y->sy.colls);
	for (size_t i = 0; i < y->sy.nsent; i++) {
		eas__sent *e = &y->sy.sent[i];
		if (e->coll != ci || e->answered)
			continue;
		int match;
		if (item->op == EAS_SYNC_OP_ADD)
			match = e->kind == EAS_STORE_CHANGE_ADD && item->client_id && strcmp(e->client_id, item->client_id) == 0;
		else if (item->op == EAS_SYNC_OP_DELETE)
			match = e->kind == EAS_STORE_CHANGE_DELETE && item->server_id &&
				strcmp(e->server_id, item->server_id) == 0;
		else if (item->op == EAS_SYNC_OP_CHANGE)
			match = e->kind != EAS_STORE_CHANGE_ADD && e->kind != EAS_STORE_CHANGE_DELETE && item->server_id &&
				strcmp(e->server_id, item->server_id) == 0;
		else
			match = 0;
		if (!match)
			continue;
		int rc = answer_change(y, e, item->has_status ? item->status : EAS_SYNC_STATUS_OK, item->server_id);
		if (rc)
			return apply_error(y, rc, "applying the answer to a local change");
		if (item->op != EAS_SYNC_OP_ADD)
			continue; /* several queued changes of one item are answered together */
		break;
	}
	return 0;
}

/* A folder's answer is complete: its new key with everything above, or key 0 for a resync. */
static int on_collection_end(const eas_sync_collection *c, void *ud)
{
	eas__sync *y = ud;
	eas__coll *coll = y->sy.cur;
	y->sy.cur = NULL;
	free_local(y);
	if (!coll)
		return 0;
	coll->more = c->more_available;
	if (coll->status != EAS_SYNC_STATUS_OK && coll->status != EAS_SYNC_STATUS_INVALID_KEY)
		return 0;
	int ok = coll->status == EAS_SYNC_STATUS_OK;
	size_t ci = (size_t)(coll - y->sy.colls);
	int rc = 0;
	/* Changes the answer did not mention were applied (only failures are answered), Adds excepted. */
	for (size_t i = 0; ok && rc == 0 && i < y->sy.nsent; i++) {
		eas__sent *e = &y->sy.sent[i];
		if (e->coll == ci && !e->answered)
			rc = answer_change(y, e, e->kind == EAS_STORE_CHANGE_ADD ? EAS_SYNC_STATUS_RETRY : 1, NULL);
	}
	eas_store_folder f;
	if (rc == 0)
		rc = y->store->folder_get(y->store, coll->id, &f);
	if (rc == EAS_E_NOTFOUND)
		return 0; /* deleted meanwhile by a FolderSync: nothing to keep */
	if (rc)
		return apply_error(y, rc, "storing the folder's answer");
	char parent[EAS__SYNC_ID_SIZE], name[EAS_STORE_NAME_MAX + 1], cls[EAS__SYNC_CLASS_SIZE];
	snprintf(parent, sizeof parent, "%s", f.parent_id ? f.parent_id : "0");
	snprintf(name, sizeof name, "%s", f.display_name ? f.display_name : "");
	snprintf(cls, sizeof cls, "%s", f.class_name ? f.class_name : "");
	f.parent_id = parent;
	f.display_name = name;
	f.class_name = cls;
	f.sync_key = ok ? c->sync_key : "0";
	f.more_available = ok ? c->more_available : 0;
	rc = y->store->folder_put(y->store, &f);
	if (rc)
		return apply_error(y, rc, "storing the folder's SyncKey");
	return 0;
}

/* ---- the response ---------------------------------------------------------------------- */

static int ensure_parser(eas__sync *y)
{
	if (y->sy.parser) {
		eas_sync_parser_reset(y->sy.parser);
		return 0;
	}
	eas_sync_parser_callbacks cb = EAS_SYNC_PARSER_CALLBACKS_INIT;
	cb.collection_begin = on_collection_begin;
	cb.command = on_command;
	cb.response = on_response;
	cb.collection_end = on_collection_end;
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.max_item = PARSER_MAX_ITEM;
	return eas_sync_parser_new(&y->sy.parser, &cb, &opt, &y->mem, y);
}

static void begin_response(eas__sync *y)
{
	y->sy.started = 1;
	y->sy.parse_err[0] = '\0';
	y->sy.apply_rc = 0;
	y->sy.cur = NULL;
	free_local(y);
	y->sy.parse_rc = ensure_parser(y);
	for (size_t i = 0; i < y->sy.ncolls; i++)
		y->sy.colls[i].status = 0;
	for (size_t i = 0; i < y->sy.nsent; i++)
		y->sy.sent[i].answered = 0;
}

int eas__sync_collections_chunk(eas__sync *y, const uint8_t *data, size_t len)
{
	if (!y->sy.started)
		begin_response(y);
	if (y->sy.parse_rc)
		return 0; /* already failed: the rest is read and dropped, the end reports it */
	int rc = eas_sync_parser_feed(y->sy.parser, data, len, NULL);
	if (rc) {
		y->sy.parse_rc = rc;
		eas__sync_rollback(y); /* nothing of this response stays */
	}
	return 0;
}

void eas__sync_collections_broken(eas__sync *y)
{
	eas__sync_rollback(y);
	y->sy.started = 0;
	y->sy.cur = NULL;
	free_local(y);
}

/* What the whole request's Status says to do. */
static void top_status(eas__sync *y, const eas_sync_summary *sum)
{
	uint32_t st = sum->status;
	switch (eas_command_status_classify(EAS_CMD_SYNC, (int)st)) {
	case EAS_STATUS_CLASS_PROVISION:
	case EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED:
		eas__session_reprovision(y->s, 0);
		return;
	case EAS_STATUS_CLASS_WIPE:
		eas__session_reprovision(y->s, 1);
		return;
	default:
		break;
	}
	/* The whole request failed: nothing of it was applied, the next one may differ. */
	int prc = eas__sync_begin(y);
	if (prc == 0)
		prc = clear_pins(y);
	prc = prc ? (eas__sync_rollback(y), prc) : eas__sync_commit(y);
	if (prc) {
		eas__sync_fail(y, prc, (int)st, "Sync: could not update the store: %s", eas_strerror(prc));
		return;
	}
	uint64_t delay = 0;
	switch (st) {
	case EAS_SYNC_STATUS_INVALID_KEY: {
		/* Every folder of the request starts over. */
		int rc = eas__sync_begin(y);
		for (size_t i = 0; rc == 0 && i < y->sy.ncolls; i++) {
			eas__coll *c = &y->sy.colls[i];
			if (!c->in_request)
				continue;
			eas_store_folder f;
			if (y->store->folder_get(y->store, c->id, &f) != 0)
				continue;
			char parent[EAS__SYNC_ID_SIZE], name[EAS_STORE_NAME_MAX + 1], cls[EAS__SYNC_CLASS_SIZE];
			snprintf(parent, sizeof parent, "%s", f.parent_id ? f.parent_id : "0");
			snprintf(name, sizeof name, "%s", f.display_name ? f.display_name : "");
			snprintf(cls, sizeof cls, "%s", f.class_name ? f.class_name : "");
			f.parent_id = parent;
			f.display_name = name;
			f.class_name = cls;
			f.sync_key = "0";
			f.more_available = 0;
			rc = y->store->folder_put(y->store, &f);
			if (++c->resyncs > EAS__SYNC_RESYNCS)
				rc = EAS_E_PROTOCOL;
		}
		rc = rc ? (eas__sync_rollback(y), rc) : eas__sync_commit(y);
		if (rc) {
			eas__sync_fail(y, rc, (int)st, "Sync status 3: could not restart the folders: %s", eas_strerror(rc));
			return;
		}
		break;
	}
	case EAS_SYNC_STATUS_HIERARCHY_CHANGED:
	case EAS_SYNC_STATUS_NOT_FOUND:
		if (++y->folder_syncs > EAS__SYNC_FOLDER_SYNCS) {
			eas__sync_fail_status(y, EAS_CMD_SYNC, (int)st);
			return;
		}
		y->need_folder_sync = 1;
		eas__sync_advance(y);
		return;
	case EAS_SYNC_STATUS_TOO_MANY_COLLECTIONS: {
		size_t in = 0;
		for (size_t i = 0; i < y->sy.ncolls; i++)
			in += y->sy.colls[i].in_request;
		size_t limit = sum->has_limit && sum->limit ? sum->limit : in / 2;
		if (limit < 1 || limit >= in) {
			eas__sync_fail_status(y, EAS_CMD_SYNC, (int)st);
			return;
		}
		y->sy.limit = limit;
		break;
	}
	case EAS_SYNC_STATUS_INCOMPLETE_REQUEST:
	case EAS_SYNC_STATUS_SERVER_ERROR:
	case EAS_SYNC_STATUS_CANNOT_COMPLETE:
	case EAS_SYNC_STATUS_RETRY:
		delay = eas__sync_retry_delay(y);
		if (delay == UINT64_MAX) {
			eas__sync_fail_status(y, EAS_CMD_SYNC, (int)st);
			return;
		}
		if (st == EAS_SYNC_STATUS_INCOMPLETE_REQUEST)
			delay = 0; /* every request is complete already: once more at once */
		break;
	default:
		if (eas_command_status_classify(EAS_CMD_SYNC, (int)st) == EAS_STATUS_CLASS_RETRY_LATER) {
			delay = eas__sync_retry_delay(y);
			if (delay != UINT64_MAX)
				break;
		}
		eas__sync_fail_status(y, EAS_CMD_SYNC, (int)st);
		return;
	}
	eas__sync_collections_start(y, delay);
}

void eas__sync_collections_response(eas__sync *y)
{
	if (!y->sy.started)
		begin_response(y); /* an empty body: no chunk came */
	y->sy.started = 0;
	int rc = y->sy.parse_rc;
	if (rc == 0) {
		rc = eas_sync_parser_finish(y->sy.parser);
		if (rc == EAS_E_PAUSED)
			rc = EAS_E_STATE; /* no callback pauses */
	}
	if (rc) {
		eas__sync_rollback(y);
		const char *perr = y->sy.parser ? eas_sync_parser_error(y->sy.parser, NULL) : NULL;
		if (y->sy.apply_rc)
			eas__sync_fail(y, y->sy.apply_rc, 0, "Sync response not applied (%s); nothing was stored",
				       y->sy.parse_err);
		else
			eas__sync_fail(y, rc == EAS_E_NOMEM ? rc : EAS_E_PROTOCOL, 0, "bad Sync response: %s",
				       perr ? perr : eas_strerror(rc));
		return;
	}
	const eas_sync_summary *sum = eas_sync_parser_summary(y->sy.parser);
	if (sum->has_status && sum->status != EAS_SYNC_STATUS_OK) {
		eas__sync_rollback(y);
		top_status(y, sum);
		return;
	}

	/* Answered changes of folders the response left out are tried again, as are those of failed folders. */
	rc = 0;
	for (size_t i = 0; rc == 0 && i < y->sy.nsent; i++) {
		eas__sent *e = &y->sy.sent[i];
		if (!e->answered && y->sy.colls[e->coll].status != EAS_SYNC_STATUS_INVALID_KEY &&
		    (rc = eas__sync_begin(y)) == 0)
			rc = retry_change(y, e, y->sy.colls[e->coll].status);
	}
	if (rc == 0 && (rc = eas__sync_begin(y)) == 0)
		rc = clear_pins(y); /* answered: the next request may differ */
	if (rc == 0)
		rc = eas__sync_commit(y);
	if (rc) {
		eas__sync_rollback(y);
		eas__sync_fail(y, rc, 0, "Sync response not stored: %s", eas_strerror(rc));
		return;
	}
	free_sent(y);

	/* Progress, then what each folder needs next. */
	const char *first = NULL;
	int retry = 0, fatal = 0, folder_sync = 0, progressed = 0;
	uint32_t fatal_status = 0;
	for (size_t i = 0; i < y->sy.ncolls; i++) {
		eas__coll *c = &y->sy.colls[i];
		if (!c->in_request)
			continue;
		if (!first)
			first = c->id;
		switch (c->status) {
		case 0: /* left out: nothing changed (12.1+) */
			c->done = !c->sent_key0 && !eas__sync_has_changes(y, c->id);
			if (c->sent_key0)
				c->retry = retry = 1;
			break;
		case EAS_SYNC_STATUS_OK:
			progressed = 1;
			c->done = y->sy.prime_only || (!c->sent_key0 && !c->more && !eas__sync_has_changes(y, c->id));
			break;
		case EAS_SYNC_STATUS_INVALID_KEY:
			if (++c->resyncs > EAS__SYNC_RESYNCS) {
				fatal = 1;
				fatal_status = c->status;
			}
			eas__sync_log(y, EAS_LOG_INFO, "Sync status 3 for folder %s: resync from SyncKey 0", c->id);
			break;
		case EAS_SYNC_STATUS_HIERARCHY_CHANGED:
		case EAS_SYNC_STATUS_NOT_FOUND:
			folder_sync = 1;
			break;
		case EAS_SYNC_STATUS_SERVER_ERROR:
		case EAS_SYNC_STATUS_CANNOT_COMPLETE:
		case EAS_SYNC_STATUS_RETRY:
		case EAS_SYNC_STATUS_INCOMPLETE_REQUEST:
			c->retry = retry = 1;
			break;
		default:
			fatal = 1;
			fatal_status = c->status;
			c->done = 1;
			break;
		}
	}
	if (y->job == EAS__JOB_SYNC || y->job == EAS__JOB_PUSH) {
		eas_session_event *ev = eas__session_event(y->s, EAS_EVENT_SYNC_PROGRESS, first, 1,
							   "sync: %llu added, %llu changed, %llu deleted",
							   (unsigned long long)y->sy.added,
							   (unsigned long long)y->sy.changed,
							   (unsigned long long)y->sy.deleted);
		ev->added = y->sy.added;
		ev->changed = y->sy.changed;
		ev->deleted = y->sy.deleted;
		ev->bytes = y->sy.bytes;
	}
	if (fatal) {
		eas__sync_fail_status(y, EAS_CMD_SYNC, (int)fatal_status);
		return;
	}
	if (progressed && !retry && !folder_sync)
		eas__sync_progress(y);
	if (folder_sync) {
		if (++y->folder_syncs > EAS__SYNC_FOLDER_SYNCS) {
			eas__sync_fail(y, EAS_E_PROTOCOL, EAS_SYNC_STATUS_HIERARCHY_CHANGED,
				       "Sync: the folder hierarchy keeps changing (status 12 after FolderSync)");
			return;
		}
		y->need_folder_sync = 1;
		eas__sync_advance(y);
		return;
	}
	uint64_t delay = 0;
	if (retry && (delay = eas__sync_retry_delay(y)) == UINT64_MAX) {
		eas__sync_fail(y, EAS_E_IO, EAS_SYNC_STATUS_RETRY, "Sync: the server kept answering \"retry\"");
		return;
	}
	eas__sync_collections_start(y, delay);
}
