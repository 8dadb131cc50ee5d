/*
 * Sync (MS-ASCMD 2.2.1.21) on the store's per-collection key chains.
 *
 * Per collection of the request:
 *   unknown CollectionId  Status 12 (FolderSync first)
 *   SyncKey 0             a new key, no items (client commands ignored)
 *   the current key       the client's Add/Change/Delete/Fetch are applied
 *                         (Responses: ClientId -> ServerId for Adds, a
 *                         Status for failures, ApplicationData for Fetch),
 *                         then the server's changes within WindowSize and
 *                         FilterType (MoreAvailable when more wait), a new key
 *   the previous key      the last answer was lost: that collection's answer
 *                         again, as it was (its Responses included; the
 *                         client's commands are not applied a second time)
 *   anything else         Status 3 (SyncKey 0 again)
 *
 * The whole request runs in one store transaction.  Each collection is
 * answered as a response of its own, which is what its sync_commit keeps;
 * the response to the request is spliced from these parts.  So the replay
 * is per collection (MS-ASCMD: a repeated SyncKey gets the same answer), and
 * the other collections of the same request, with a different set of
 * collections or with some already moved on, are answered normally.  A
 * request of one collection gets the kept bytes verbatim.
 *
 * Email Changes from the client touch Read and Flag only (MS-ASEMAIL); the
 * stored ApplicationData is rewritten with the new values so that later Adds
 * to other devices carry them.  Other classes: the client's ApplicationData
 * replaces the stored one.  Deletes move to Deleted Items unless
 * DeletesAsMoves is 0 or the folder is Deleted Items.  Conflicts: the
 * client wins.  Items are sent with their stored ApplicationData; with a
 * BodyPreference in the collection's Options (remembered per device and
 * collection when a later request has none) the Body is shaped by it:
 * truncated with Truncated and EstimatedDataSize, Preview (body.h).
 *
 * Nothing to say (12.1+, every collection on its current key, no client
 * commands, no server change): HTTP 200 with an empty body, and the key
 * chain does not move.  An empty request (12.1 "same as last time") is
 * answered Status 13: the client sends the full request.  Wait and
 * HeartbeatInterval are accepted but not held: the answer is immediate.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands/sync.h"
#include "common/mem.h"
#include "server/body.h"

#define MAX_COLLECTIONS 64
#define MAX_APPDATA (16u << 20)

typedef struct coll {
	eas_sync_collection_request req;
	eas_mstore_sync st;
	eas_mstore_folder folder;
	uint32_t status;  /* 1, 3, 12 */
	eas_srv_sync_bodies bodies; /* BodyPreference per class */
	/*
	 * This collection's answer as a response of its own (<Sync><Collections>
	 * <Collection/></Collections></Sync>): what sync_commit keeps for a
	 * replay, and what the response to the request is made of.
	 */
	eas_buf part;
	uint8_t *stored;  /* a replay: the answer kept by the store (release()) */
	size_t stored_len;
} coll;

/* ---- ApplicationData as a standalone document ----------------------------------- */

/* Email Read / Flag replacements while copying. */
typedef struct patch {
	int has_read;
	int read;
	const eas_node *flag; /* the client's Flag node, or NULL */
} patch;

/* Writes <ApplicationData> with the children of src (may be NULL), patched. */
static int appdata_doc(eas_srv_ctx *c, eas_buf *out, const eas_node *src, const patch *p)
{
	eas_wbxml_encoder *enc;
	eas_buf_init(out, c->mem, MAX_APPDATA);
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, out, c->version ? c->version : EAS_PROTO_ALL, c->mem);
	if (rc) {
		eas_buf_free(out);
		return rc;
	}
	int wrote_read = 0, wrote_flag = 0;
	rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	for (const eas_node *ch = src ? src->first : NULL; rc == 0 && ch; ch = ch->next) {
		if (p && p->has_read && ch->tag == EAS_TAG_EMAIL_READ) {
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_READ, p->read ? "1" : "0");
			wrote_read = 1;
		} else if (p && p->flag && ch->tag == EAS_TAG_EMAIL_FLAG) {
			rc = eas_node_write(enc, p->flag, 0);
			wrote_flag = 1;
		} else {
			rc = eas_node_write(enc, ch, 0);
		}
	}
	if (rc == 0 && p && p->has_read && !wrote_read)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_READ, p->read ? "1" : "0");
	if (rc == 0 && p && p->flag && !wrote_flag)
		rc = eas_node_write(enc, p->flag, 0);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && out->result)
		rc = out->result;
	if (rc)
		eas_buf_free(out);
	return rc;
}

/* ---- helpers ------------------------------------------------------------------- */

/* FilterType (MS-ASCMD 2.2.3.74.1) as seconds back from now; 0 = no filter. */
static int64_t filter_seconds(uint32_t f)
{
	static const int64_t days[] = { 0, 1, 3, 7, 14, 31, 92, 183 };
	return f < sizeof days / sizeof days[0] ? days[f] * 86400 : 0;
}

static int64_t now_s(eas_srv_ctx *c)
{
	const eas_platform *p = eas__srv_platform(c->srv);
	if (p && p->wall_clock_s)
		return p->wall_clock_s(p->user_data);
	return (int64_t)time(NULL);
}

/* ISO 8601 text of an EAS date into Unix seconds (0 when unreadable). */
static int64_t parse_date(const char *s)
{
	int y, mo, d, h = 0, mi = 0, se = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &se) < 3)
		return 0;
	if (mo < 1 || mo > 12 || d < 1 || d > 31)
		return 0;
	/* days from civil (Howard Hinnant) */
	y -= mo <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400 + h * 3600 + mi * 60 + se;
}

static uint32_t flag_status(const eas_node *flag)
{
	uint32_t st = 0;
	if (flag && eas_node_child_uint(flag, EAS_TAG_EMAIL_STATUS, &st) != 0)
		st = 0;
	return st;
}

/* ---- client commands --------------------------------------------------------------- */

static int client_add(eas_srv_ctx *c, coll *co, const eas_sync_item *it, eas_sync_writer *w)
{
	const char *cls = it->class_name ? it->class_name : eas_mstore_folder_class(co->folder.type);
	eas_sync_item r;
	memset(&r, 0, sizeof r);
	r.op = EAS_SYNC_OP_ADD;
	r.client_id = it->client_id;
	r.has_status = 1;
	char id[EAS_MSTORE_ID_SIZE] = "";
	if (!it->client_id)
		return 0; /* nothing to answer to */
	if (!it->app_data) {
		r.status = EAS_SYNC_STATUS_PROTOCOL_ERROR;
		return eas_sync_writer_response(w, &r);
	}
	eas_buf doc;
	int rc = appdata_doc(c, &doc, it->app_data, NULL);
	if (rc == EAS_E_LIMIT || rc == EAS_E_INVALID) {
		r.status = EAS_SYNC_STATUS_CONVERSION_ERROR;
		return eas_sync_writer_response(w, &r);
	}
	if (rc)
		return rc;
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = cls;
	d.application_data = doc.data;
	d.application_data_len = doc.len;
	d.summary.subject = eas_node_child_text(it->app_data, EAS_TAG_EMAIL_SUBJECT);
	d.summary.from = eas_node_child_text(it->app_data, EAS_TAG_EMAIL_FROM);
	d.summary.date = parse_date(eas_node_child_text(it->app_data, EAS_TAG_EMAIL_DATE_RECEIVED));
	if (!d.summary.date)
		d.summary.date = now_s(c);
	uint32_t v = 0;
	if (eas_node_child_uint(it->app_data, EAS_TAG_EMAIL_READ, &v) == 0)
		d.summary.read = v != 0;
	d.summary.flag_status = flag_status(eas_node_child(it->app_data, EAS_TAG_EMAIL_FLAG));
	d.summary.size = doc.len;
	rc = c->store->item_add(id, c->store, c->user_id, co->folder.server_id, &d, c->device_id);
	eas_buf_free(&doc);
	if (rc == EAS_E_INVALID) {
		r.status = EAS_SYNC_STATUS_CONVERSION_ERROR;
		return eas_sync_writer_response(w, &r);
	}
	if (rc)
		return rc;
	r.server_id = id;
	r.status = EAS_SYNC_STATUS_OK;
	return eas_sync_writer_response(w, &r);
}

/* The item if it is in this collection (release()), else NULL. */
static int get_in_folder(eas_srv_ctx *c, coll *co, const char *server_id, unsigned what, eas_mstore_item **out)
{
	*out = NULL;
	if (!server_id)
		return 0;
	eas_mstore_item *item = NULL;
	int rc = c->store->item_get(&item, c->store, c->user_id, server_id, what);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID)
		return 0;
	if (rc)
		return rc;
	if (strcmp(item->folder_id, co->folder.server_id) != 0) {
		c->store->release(c->store, item);
		return 0;
	}
	*out = item;
	return 0;
}

static int answer(eas_sync_writer *w, eas_sync_op op, const char *server_id, uint32_t status)
{
	eas_sync_item r;
	memset(&r, 0, sizeof r);
	r.op = op;
	r.server_id = server_id;
	r.has_status = 1;
	r.status = status;
	return eas_sync_writer_response(w, &r);
}

static int client_change(eas_srv_ctx *c, coll *co, const eas_sync_item *it, eas_sync_writer *w)
{
	eas_mstore_item *item;
	int rc = get_in_folder(c, co, it->server_id, 0, &item);
	if (rc)
		return rc;
	if (!item)
		return it->server_id ? answer(w, EAS_SYNC_OP_CHANGE, it->server_id, EAS_SYNC_STATUS_NOT_FOUND) : 0;
	if (!it->app_data) {
		c->store->release(c->store, item);
		return answer(w, EAS_SYNC_OP_CHANGE, it->server_id, EAS_SYNC_STATUS_PROTOCOL_ERROR);
	}
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	unsigned fields = EAS_MSTORE_SET_APPDATA;
	eas_buf doc;
	eas_tree *old = NULL;
	if (strcmp(item->class_name, "Email") == 0) {
		patch p = { 0, 0, NULL };
		uint32_t v;
		if (eas_node_child_uint(it->app_data, EAS_TAG_EMAIL_READ, &v) == 0) {
			p.has_read = 1;
			p.read = v != 0;
			d.summary.read = p.read;
			fields |= EAS_MSTORE_SET_READ;
		}
		p.flag = eas_node_child(it->app_data, EAS_TAG_EMAIL_FLAG);
		if (p.flag) {
			d.summary.flag_status = flag_status(p.flag);
			fields |= EAS_MSTORE_SET_FLAG;
		}
		const eas_node *src = NULL;
		if (item->application_data) {
			char err[120];
			if (eas_tree_parse(&old, item->application_data, item->application_data_len, 0, c->mem, err,
					   sizeof err) == 0)
				src = eas_tree_root(old);
		}
		rc = appdata_doc(c, &doc, src, &p);
	} else {
		rc = appdata_doc(c, &doc, it->app_data, NULL);
	}
	eas_tree_free(old);
	if (rc) {
		c->store->release(c->store, item);
		return rc == EAS_E_LIMIT || rc == EAS_E_INVALID
			       ? answer(w, EAS_SYNC_OP_CHANGE, it->server_id, EAS_SYNC_STATUS_CONVERSION_ERROR)
			       : rc;
	}
	d.application_data = doc.data;
	d.application_data_len = doc.len;
	rc = c->store->item_change(c->store, c->user_id, item->server_id, &d, fields, c->device_id);
	eas_buf_free(&doc);
	c->store->release(c->store, item);
	return rc; /* success needs no Responses entry */
}

static int client_delete(eas_srv_ctx *c, coll *co, const eas_sync_item *it, eas_sync_writer *w)
{
	eas_mstore_item *item;
	int rc = get_in_folder(c, co, it->server_id, 0, &item);
	if (rc)
		return rc;
	if (!item)
		return it->server_id ? answer(w, EAS_SYNC_OP_DELETE, it->server_id, EAS_SYNC_STATUS_NOT_FOUND) : 0;
	c->store->release(c->store, item);
	int as_moves = co->req.has_deletes_as_moves ? co->req.deletes_as_moves : 1;
	eas_mstore_folder trash;
	if (as_moves && co->folder.type != EAS_MSTORE_FOLDER_DELETED &&
	    c->store->folder_find_default(&trash, c->store, c->user_id, EAS_MSTORE_FOLDER_DELETED) == 0) {
		eas_mstore_result res;
		char id[EAS_MSTORE_ID_SIZE];
		rc = c->store->item_move(&res, id, c->store, c->user_id, it->server_id, co->folder.server_id,
					 trash.server_id, c->device_id, 0);
		if (rc)
			return rc;
		return res == EAS_MSTORE_OK ? 0 : answer(w, EAS_SYNC_OP_DELETE, it->server_id, EAS_SYNC_STATUS_NOT_FOUND);
	}
	return c->store->item_delete(c->store, c->user_id, it->server_id, c->device_id);
}

/* An item's ApplicationData with its Body shaped by the collection's BodyPreference. */
typedef struct shaped {
	eas_srv_ctx *c;
	const eas_mstore_item *item;
	const eas_srv_body_opts *opts;
} shaped;

static int write_shaped(eas_wbxml_encoder *enc, void *arg)
{
	const shaped *sh = arg;
	return eas__srv_write_item_data(sh->c, enc, sh->item, sh->opts);
}

static int client_fetch(eas_srv_ctx *c, coll *co, const eas_sync_item *it, eas_sync_writer *w)
{
	eas_mstore_item *item;
	int rc = get_in_folder(c, co, it->server_id, 0, &item);
	if (rc)
		return rc;
	if (!item || !item->application_data) {
		if (item)
			c->store->release(c->store, item);
		return it->server_id ? answer(w, EAS_SYNC_OP_FETCH, it->server_id, EAS_SYNC_STATUS_NOT_FOUND) : 0;
	}
	eas_sync_item r;
	memset(&r, 0, sizeof r);
	r.op = EAS_SYNC_OP_FETCH;
	r.server_id = item->server_id;
	r.has_status = 1;
	r.status = EAS_SYNC_STATUS_OK;
	r.data = item->application_data;
	r.data_len = item->application_data_len;
	shaped sh = { c, item, eas__srv_sync_bodies_for(&co->bodies, item->class_name) };
	if (sh.opts) {
		r.write_data = write_shaped;
		r.write_arg = &sh;
	}
	rc = eas_sync_writer_response(w, &r);
	c->store->release(c->store, item);
	return rc;
}

/* ---- server changes ---------------------------------------------------------------- */

typedef struct change_ctx {
	eas_srv_ctx *c;
	eas_sync_writer *w;
	size_t count;
	const eas_mstore_item *item; /* for summary_data */
	const eas_srv_sync_bodies *bodies;
} change_ctx;

static void fmt_date(char *out, size_t size, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	gmtime_r(&tt, &tm);
	strftime(out, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

/* ApplicationData from the summary, for an item stored without any. */
static int summary_data(eas_wbxml_encoder *enc, void *arg)
{
	const eas_mstore_item *item = arg;
	char date[40];
	int rc = 0;
	if (strcmp(item->class_name, "Email") != 0)
		return 0;
	if (item->summary.from)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_FROM, item->summary.from);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_SUBJECT, item->summary.subject ? item->summary.subject : "");
	fmt_date(date, sizeof date, item->summary.date);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_DATE_RECEIVED, date);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_READ, item->summary.read ? "1" : "0");
	return rc;
}

static int on_change(const eas_mstore_change *ch, void *user_data)
{
	change_ctx *x = user_data;
	eas_sync_item it;
	memset(&it, 0, sizeof it);
	shaped sh = { x->c, NULL, NULL };
	it.server_id = ch->server_id;
	switch (ch->kind) {
	case EAS_MSTORE_CHANGE_ADD:
	case EAS_MSTORE_CHANGE_CHANGE:
		it.op = ch->kind == EAS_MSTORE_CHANGE_ADD ? EAS_SYNC_OP_ADD : EAS_SYNC_OP_CHANGE;
		if (!ch->item)
			return EAS_E_INVALID;
		it.server_id = ch->item->server_id;
		sh.opts = eas__srv_sync_bodies_for(x->bodies, ch->item->class_name);
		if (ch->item->application_data && sh.opts) {
			sh.item = ch->item;
			it.write_data = write_shaped;
			it.write_arg = &sh;
		} else if (ch->item->application_data) {
			it.data = ch->item->application_data;
			it.data_len = ch->item->application_data_len;
		} else {
			it.write_data = summary_data;
			it.write_arg = (void *)ch->item;
		}
		break;
	case EAS_MSTORE_CHANGE_DELETE:
		it.op = EAS_SYNC_OP_DELETE;
		break;
	case EAS_MSTORE_CHANGE_SOFT_DELETE:
		it.op = EAS_SYNC_OP_SOFT_DELETE;
		break;
	default:
		return 0;
	}
	x->count++;
	return eas_sync_writer_command(x->w, &it);
}

/* ---- one collection ---------------------------------------------------------------- */

/* *busy += what the collection said (commands applied, changes, MoreAvailable). */
static int write_collection(eas_srv_ctx *c, const eas_sync_request *req, coll *co, eas_sync_writer *w, size_t *busy)
{
	eas_sync_collection out;
	memset(&out, 0, sizeof out);
	out.collection_id = co->req.collection_id;
	out.status = co->status;
	if (c->version & EAS_PROTO_UPTO(EAS_PROTO_12_1))
		out.class_name = co->status == EAS_SYNC_STATUS_OK ? eas_mstore_folder_class(co->folder.type) : NULL;
	if (co->status != EAS_SYNC_STATUS_OK) {
		out.sync_key = "0";
		int rc = eas_sync_writer_collection_begin(w, &out);
		return rc ? rc : eas_sync_writer_collection_end(w, 0);
	}
	out.sync_key = co->st.next_key;
	int rc = eas_sync_writer_collection_begin(w, &out);
	if (rc == 0)
		rc = eas__srv_sync_bodies(c, co->req.collection_id, co->req.options, co->req.option_count, &co->bodies);
	if (rc)
		return rc;
	if (co->st.match == EAS_MSTORE_KEY_INITIAL)
		return eas_sync_writer_collection_end(w, 0);

	/* the client's commands */
	const eas_node *cur = NULL;
	eas_sync_item it;
	char err[160];
	while ((rc = eas_sync_collection_next_command(&co->req, &cur, &it, err, sizeof err)) == 1) {
		(*busy)++;
		switch (it.op) {
		case EAS_SYNC_OP_ADD:
			rc = client_add(c, co, &it, w);
			break;
		case EAS_SYNC_OP_CHANGE:
			rc = client_change(c, co, &it, w);
			break;
		case EAS_SYNC_OP_DELETE:
			rc = client_delete(c, co, &it, w);
			break;
		case EAS_SYNC_OP_FETCH:
			rc = client_fetch(c, co, &it, w);
			break;
		default:
			rc = 0;
		}
		if (rc)
			return rc;
	}
	if (rc < 0) {
		snprintf(c->err, sizeof c->err, "%s", err);
		return rc;
	}

	/* the server's changes */
	int more = 0;
	int get_changes = co->req.has_get_changes ? co->req.get_changes : 1;
	if (get_changes) {
		eas_mstore_window win;
		memset(&win, 0, sizeof win);
		win.max_changes = co->req.has_window_size ? co->req.window_size
				  : req->has_window_size  ? req->window_size
							  : 100;
		if (win.max_changes == 0 || win.max_changes > 512)
			win.max_changes = 512;
		if (co->req.option_count && co->req.options[0].has_filter_type) {
			int64_t back = filter_seconds(co->req.options[0].filter_type);
			if (back)
				win.filter_since = now_s(c) - back;
		}
		change_ctx x = { c, w, 0, NULL, &co->bodies };
		rc = c->store->sync_changes(&more, c->store, &co->st, &win, on_change, &x);
		if (rc)
			return rc;
		*busy += x.count + (more ? 1 : 0);
	}
	return eas_sync_writer_collection_end(w, more);
}

/* ---- the command ------------------------------------------------------------------ */

static int reply_top_status(eas_srv_ctx *c, uint32_t status, int has_limit, uint32_t limit)
{
	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc)
		return rc;
	rc = eas_sync_response_encode_status(enc, status, has_limit, limit);
	c->eas_status = status;
	return eas__srv_reply_wbxml(c, enc, &buf, rc);
}

/* ---- one answer per collection, and the response made of them --------------------- */

/*
 * Each collection is answered as a whole response of its own, which the
 * store keeps as that collection's replay.  A response for several
 * collections is spliced from them: the WBXML of <Sync><Collections>
 * (the frame's head), each part's <Collection> element, then the two ENDs.
 * A part's element starts on code page 0 (AirSync, right after Collections),
 * so a SWITCH_PAGE 0 goes before every element but the first; no string
 * table is used, so elements are self-contained.
 */
#define MAX_RESPONSE (16u << 20)
#define WBXML_SWITCH_PAGE 0x00
#define WBXML_END 0x01

/* The bytes an encoder writes for <Sync><Collections></Collections></Sync>: head + END END. */
static int make_frame(eas_srv_ctx *c, eas_buf *frame)
{
	eas_wbxml_encoder *enc;
	int rc = eas__srv_encoder(c, &enc, frame);
	if (rc)
		return rc;
	rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_SYNC);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_COLLECTIONS);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && frame->result)
		rc = frame->result;
	if (rc == 0 && (frame->len < 3 || frame->data[frame->len - 1] != WBXML_END ||
			frame->data[frame->len - 2] != WBXML_END))
		rc = EAS_E_STATE;
	if (rc)
		eas_buf_free(frame);
	return rc;
}

/* 1 when part is one response in the frame: the frame's head, something, END END. */
static int in_frame(const eas_buf *frame, const uint8_t *part, size_t len)
{
	size_t head = frame->len - 2;
	return len > frame->len && memcmp(part, frame->data, head) == 0 && part[len - 1] == WBXML_END &&
	       part[len - 2] == WBXML_END;
}

/* Writes the answer of a collection into co->part (at most cap bytes). */
static int write_part(eas_srv_ctx *c, const eas_sync_request *req, coll *co, size_t cap, size_t *busy)
{
	eas_wbxml_encoder *enc;
	eas_buf_init(&co->part, c->mem, cap);
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &co->part, c->version ? c->version : EAS_PROTO_ALL, c->mem);
	if (rc)
		return rc;
	eas_sync_writer w;
	rc = eas_sync_writer_begin(&w, enc, c->version);
	if (rc == 0)
		rc = write_collection(c, req, co, &w, busy);
	if (rc == 0)
		rc = eas_sync_writer_end(&w);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && co->part.result)
		rc = co->part.result;
	return rc;
}

/*
 * A collection on its previous key: the answer the store kept, if it is one
 * answer for exactly this collection (a response kept by an older version
 * for several collections at once is not).  0 with co->stored set, or with
 * co->status 3 when there is nothing usable to replay; negative on failure.
 */
static int load_replay(eas_srv_ctx *c, coll *co, const eas_buf *frame)
{
	int rc = c->store->sync_replay(&co->stored, &co->stored_len, c->store, &co->st);
	if (rc == EAS_E_STATE || rc == EAS_E_NOTFOUND)
		rc = 0;
	if (rc)
		return rc;
	int ok = co->stored && in_frame(frame, co->stored, co->stored_len);
	if (ok) {
		/* the arena holds nodes and text: a few times the document */
		eas_wbxml_decoder_options o = EAS_WBXML_DECODER_OPTIONS_INIT;
		o.max_string = co->stored_len;
		eas_tree *t = NULL;
		rc = eas_tree_new(&t, 4 * co->stored_len + (1u << 16), &o, c->mem);
		if (rc == EAS_E_NOMEM)
			return rc;
		ok = rc == 0 && eas_tree_feed(t, co->stored, co->stored_len) == 0 && eas_tree_finish(t) == 0;
		const eas_node *list = ok ? eas_node_path(eas_tree_root(t), EAS_TAG_AIRSYNC_COLLECTIONS, EAS_TAG_NONE) : NULL;
		const eas_node *one = list ? eas_node_child(list, EAS_TAG_AIRSYNC_COLLECTION) : NULL;
		const char *id = one ? eas_node_child_text(one, EAS_TAG_AIRSYNC_COLLECTION_ID) : NULL;
		ok = ok && eas_tree_root(t)->tag == EAS_TAG_AIRSYNC_SYNC && id &&
		     strcmp(id, co->req.collection_id) == 0 && !eas_node_next_same(one);
		eas_tree_free(t);
		rc = 0;
	}
	if (!ok) {
		c->store->release(c->store, co->stored);
		co->stored = NULL;
		co->stored_len = 0;
		co->status = EAS_SYNC_STATUS_INVALID_KEY; /* the client starts this collection over */
	}
	return 0;
}

static const uint8_t *part_bytes(const coll *co, size_t *len)
{
	*len = co->stored ? co->stored_len : co->part.len;
	return co->stored ? co->stored : co->part.data;
}

/* The response of several collections, spliced from their answers. */
static int compose(eas_srv_ctx *c, const eas_buf *frame, const coll *cols, size_t n, eas_buf *out)
{
	static const uint8_t page0[2] = { WBXML_SWITCH_PAGE, 0 };
	size_t head = frame->len - 2;
	eas_buf_init(out, c->mem, MAX_RESPONSE);
	int rc = eas_buf_append(out, frame->data, head);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		size_t len;
		const uint8_t *p = part_bytes(&cols[i], &len);
		if (!in_frame(frame, p, len))
			rc = EAS_E_STATE; /* not written by write_part: a bug */
		if (rc == 0 && i)
			rc = eas_buf_append(out, page0, sizeof page0);
		if (rc == 0)
			rc = eas_buf_append(out, p + head, len - head - 2);
	}
	if (rc == 0)
		rc = eas_buf_append(out, frame->data + head, 2);
	if (rc)
		eas_buf_free(out);
	return rc;
}

static void free_cols(eas_srv_ctx *c, coll *cols, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		eas_buf_free(&cols[i].part);
		c->store->release(c->store, cols[i].stored);
	}
	eas__free(c->mem, cols);
}

/* ---- the command ------------------------------------------------------------------ */

/*
 * After the key checks: every collection answered in one transaction, the
 * chains of the answered (not replayed) ones moved on with their own part.
 */
static int answer_all(eas_srv_ctx *c, const eas_sync_request *req, coll *cols, size_t n)
{
	eas_mstore *store = c->store;
	eas_buf frame;
	int rc = make_frame(c, &frame);
	if (rc)
		return rc;
	rc = store->begin(store);
	if (rc) {
		eas_buf_free(&frame);
		return rc;
	}
	size_t busy = 0, used = 0, replays = 0;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		coll *co = &cols[i];
		if (co->status != EAS_SYNC_STATUS_OK || co->st.match != EAS_MSTORE_KEY_CURRENT)
			busy++;
		if (co->status == EAS_SYNC_STATUS_OK && co->st.match == EAS_MSTORE_KEY_PREVIOUS) {
			/* the client lost our last answer: the same again, its commands not applied twice */
			rc = load_replay(c, co, &frame);
			if (rc == 0 && co->stored) {
				replays++;
				used += co->stored_len;
				continue;
			}
		}
		if (rc == 0 && used >= MAX_RESPONSE)
			rc = EAS_E_LIMIT;
		if (rc == 0)
			rc = write_part(c, req, co, MAX_RESPONSE - used, &busy);
		used += co->part.len;
	}
	if (rc) {
		store->rollback(store);
		eas_buf_free(&frame);
		return rc;
	}
	if (busy == 0 && (c->version & EAS_PROTO_FROM(EAS_PROTO_12_1))) {
		/* nothing to say: the key chains stay where they are */
		store->rollback(store);
		eas_buf_free(&frame);
		c->eas_status = EAS_SYNC_STATUS_OK;
		return eas__srv_reply_text(c, 200, NULL);
	}
	for (size_t i = 0; rc == 0 && i < n; i++)
		if (cols[i].status == EAS_SYNC_STATUS_OK && !cols[i].stored)
			rc = store->sync_commit(store, &cols[i].st, cols[i].part.data, cols[i].part.len);
	if (rc == EAS_E_STATE) {
		/* another request of this device moved a chain meanwhile */
		store->rollback(store);
		eas_buf_free(&frame);
		return reply_top_status(c, EAS_SYNC_STATUS_RETRY, 0, 0);
	}
	eas_buf whole;
	memset(&whole, 0, sizeof whole);
	if (rc == 0 && n > 1)
		rc = compose(c, &frame, cols, n, &whole);
	eas_buf_free(&frame);
	if (rc == 0)
		rc = store->commit(store);
	else
		store->rollback(store);
	if (rc == 0) {
		size_t len;
		const uint8_t *bytes = n > 1 ? whole.data : part_bytes(&cols[0], &len);
		rc = eas__srv_reply_bytes(c, bytes, n > 1 ? whole.len : len);
		c->eas_status = EAS_SYNC_STATUS_OK;
		if (replays)
			snprintf(c->err, sizeof c->err, "replayed the previous answer of %zu collection(s)", replays);
	}
	if (n > 1)
		eas_buf_free(&whole);
	return rc;
}

int eas__srv_handle_sync(eas_srv_ctx *c)
{
	if (!c->root) /* an empty request: "the same as last time", which we do not keep */
		return reply_top_status(c, EAS_SYNC_STATUS_INCOMPLETE_REQUEST, 0, 0);
	eas_sync_request req;
	char err[160];
	int rc = eas_sync_request_decode(&req, c->root, err, sizeof err);
	if (rc) {
		snprintf(c->err, sizeof c->err, "%s", err);
		return rc;
	}
	if (req.has_wait && req.has_heartbeat_interval)
		return reply_top_status(c, EAS_SYNC_STATUS_PROTOCOL_ERROR, 0, 0);
	if (req.partial && !req.collections_node)
		return reply_top_status(c, EAS_SYNC_STATUS_INCOMPLETE_REQUEST, 0, 0);

	eas_mstore *store = c->store;
	coll *cols = eas__calloc(c->mem, MAX_COLLECTIONS, sizeof *cols);
	if (!cols)
		return EAS_E_NOMEM;
	for (size_t i = 0; i < MAX_COLLECTIONS; i++)
		eas_buf_init(&cols[i].part, c->mem, MAX_RESPONSE);
	size_t n = 0;
	const eas_node *cur = NULL;
	eas_sync_collection_request cr;
	while ((rc = eas_sync_request_next_collection(&req, &cur, &cr, err, sizeof err)) == 1) {
		if (n == MAX_COLLECTIONS) {
			free_cols(c, cols, n);
			return reply_top_status(c, EAS_SYNC_STATUS_TOO_MANY_COLLECTIONS, 1, MAX_COLLECTIONS);
		}
		coll *co = &cols[n++];
		co->req = cr;
		co->status = EAS_SYNC_STATUS_OK;
		rc = store->folder_get(&co->folder, store, c->user_id, cr.collection_id);
		if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
			co->status = EAS_SYNC_STATUS_HIERARCHY_CHANGED;
			continue;
		}
		if (rc)
			break;
		rc = store->sync_check(&co->st, store, c->user_id, c->device_id, cr.collection_id, cr.sync_key, "Sync");
		if (rc == EAS_E_NOTFOUND) {
			co->status = EAS_SYNC_STATUS_HIERARCHY_CHANGED;
			continue;
		}
		if (rc == EAS_E_INVALID)
			co->st.match = EAS_MSTORE_KEY_STALE;
		else if (rc)
			break;
		if (co->st.match == EAS_MSTORE_KEY_STALE)
			co->status = EAS_SYNC_STATUS_INVALID_KEY;
	}
	if (rc < 0) {
		if (rc == EAS_E_MALFORMED)
			snprintf(c->err, sizeof c->err, "%s", err);
		free_cols(c, cols, MAX_COLLECTIONS);
		return rc;
	}
	if (n == 0) {
		free_cols(c, cols, MAX_COLLECTIONS);
		return reply_top_status(c, EAS_SYNC_STATUS_INCOMPLETE_REQUEST, 0, 0);
	}
	rc = answer_all(c, &req, cols, n);
	free_cols(c, cols, MAX_COLLECTIONS);
	return rc;
}
