/*
 * ItemOperations (MS-ASCMD 2.2.1.10) on the mailbox store, one Response
 * entry per operation in request order, each with its own Status:
 *
 *   Fetch, Store "Mailbox":
 *     CollectionId + ServerId  the item's ApplicationData as Properties,
 *                              Body shaped by BodyPreference (body.h);
 *                              6 when the item is not in that collection
 *     FileReference            an attachment: airsyncbase:ContentType and
 *                              Data (base64, streamed from the store), or
 *                              the Range asked for with Range and Total;
 *                              6 unknown, 15 empty reference, 8 a range
 *                              past the end, 11 over 8 MiB without Range
 *     LongId                   6 (Search results are not kept)
 *     another Store            9 (no document library here)
 *   EmptyFolderContents        the folder's items (and with DeleteSubFolders
 *                              its user subfolders) deleted; 6 unknown folder.
 *                              Every device, the asking one included, gets
 *                              the Deletes on its next Sync
 *   Move (14.0+)               every email of the conversation (the items
 *                              whose email2:ConversationId matches, in mail
 *                              folders) moved to DstFldId; 6 for an unknown
 *                              conversation or destination, 156 for a
 *                              destination that is not a mail folder.
 *                              MoveAlways is accepted but future mail is not
 *                              moved
 *
 * With MS-ASAcceptMultiPart: T (or the AcceptMultiPart bit of the base64
 * query) the answer is multipart (commands/multipart.h): part 0 the WBXML,
 * and every fetched body or attachment a part named by a Part element.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "commands/item_operations.h"
#include "commands/multipart.h"
#include "common/ascii.h"
#include "common/mem.h"
#include "server/body.h"

#define MAX_OPERATIONS 256
#define MAX_INLINE_ATTACHMENT (8u << 20)  /* base64 in the WBXML: about 11 MB of text */
#define MAX_PART_ATTACHMENT (16u << 20)
#define MAX_PARTS_TOTAL (32u << 20)       /* all parts of one multipart answer */
#define MAX_CONVERSATION_SCAN 10000u      /* items looked at per conversation Move */
#define MOVE_STATUS_NOT_MAIL_FOLDER 156u  /* MS-ASCON: destination is not a mail folder */

typedef struct part {
	uint8_t *data;
	size_t len;
} part;

/* What an operation's response needs until the whole answer is encoded. */
typedef struct op_state {
	eas_srv_ctx *c;
	eas_mstore_item *item;        /* Fetch by ServerId */
	eas_mstore_attachment *att;   /* Fetch by FileReference */
	eas_srv_body_opts body;
	uint64_t offset;              /* attachment data: next byte to read */
	char range[48];
	char dst_id[EAS_MSTORE_ID_SIZE];
} op_state;

typedef struct ops {
	eas_srv_ctx *c;
	op_state *state;
	eas_itemops_result *results;
	size_t count;
	int multipart;
	part *parts;                  /* parts[0] is the WBXML, filled last */
	size_t part_count, part_cap;
	size_t parts_total;
} ops;

/* ---- parts -------------------------------------------------------------------------- */

static int add_part(ops *o, const uint8_t *data, size_t len, uint32_t *index)
{
	if (o->parts_total + len > MAX_PARTS_TOTAL || o->part_count >= EAS_MULTIPART_DEFAULT_MAX_PARTS)
		return EAS_E_LIMIT;
	if (o->part_count == o->part_cap) {
		size_t cap = o->part_cap ? o->part_cap * 2 : 8;
		part *p = eas__realloc(o->c->mem, o->parts, cap * sizeof *p);
		if (!p)
			return EAS_E_NOMEM;
		o->parts = p;
		o->part_cap = cap;
	}
	if (o->part_count == 0) {
		o->parts[0].data = NULL; /* the WBXML, later */
		o->parts[0].len = 0;
		o->part_count = 1;
	}
	uint8_t *copy = eas__malloc(o->c->mem, len ? len : 1);
	if (!copy)
		return EAS_E_NOMEM;
	if (len)
		memcpy(copy, data, len);
	o->parts[o->part_count].data = copy;
	o->parts[o->part_count].len = len;
	*index = (uint32_t)o->part_count++;
	o->parts_total += len;
	return 0;
}

static int body_part(const uint8_t *data, size_t len, uint32_t *index, void *user_data)
{
	return add_part(user_data, data, len, index);
}

/* ---- helpers -------------------------------------------------------------------------- */

static const char *header(const eas_srv_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->req->header_count; i++)
		if (c->req->headers[i].name && c->req->headers[i].value && eas__ascii_ieq(c->req->headers[i].name, name))
			return c->req->headers[i].value;
	return NULL;
}

static int wants_multipart(const eas_srv_ctx *c)
{
	if (c->query.options & EAS_HTTP_OPTION_ACCEPT_MULTIPART)
		return 1;
	const char *h = header(c, "MS-ASAcceptMultiPart");
	return h && (eas__ascii_ieq(h, "T") || eas__ascii_ieq(h, "1"));
}

static void prefs_from(eas_srv_body_opts *b, const eas_itemops_fetch_options *o)
{
	b->count = 0;
	for (size_t i = 0; i < o->body_preference_count && b->count < EAS_SRV_MAX_BODY_PREFS; i++) {
		const eas_itemops_body_preference *p = &o->body_preferences[i];
		eas_srv_body_pref *q = &b->prefs[b->count++];
		q->type = p->type;
		q->has_truncation_size = p->has_truncation_size;
		q->truncation_size = p->truncation_size;
		q->all_or_none = p->has_all_or_none && p->all_or_none;
		q->has_preview = p->has_preview;
		q->preview = p->preview;
	}
}

/* ---- Fetch ----------------------------------------------------------------------------- */

static int item_properties(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f, void *user_data)
{
	(void)f;
	op_state *s = user_data;
	return eas__srv_write_item_data(s->c, enc, s->item, &s->body);
}

static int attachment_properties(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f, void *user_data)
{
	(void)f;
	op_state *s = user_data;
	if (!s->att->content_type)
		return 0;
	return eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNCBASE_CONTENT_TYPE, s->att->content_type);
}

static int attachment_reader(uint8_t *buf, size_t size, size_t *got, void *user_data)
{
	op_state *s = user_data;
	eas_srv_ctx *c = s->c;
	int rc = c->store->attachment_read(got, c->store, c->user_id, s->att->file_reference, s->offset, buf, size);
	if (rc == 0)
		s->offset += *got;
	return rc;
}

static int fetch_by_id(eas_srv_ctx *c, ops *o, op_state *s, const eas_itemops_fetch *fe, eas_itemops_fetch_result *r)
{
	r->collection_id = fe->collection_id;
	r->server_id = fe->server_id;
	eas_mstore_item *item = NULL;
	int rc = c->store->item_get(&item, c->store, c->user_id, fe->server_id, 0);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
		r->status = EAS_ITEMOPS_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	if (strcmp(item->folder_id, fe->collection_id) != 0) {
		c->store->release(c->store, item);
		r->status = EAS_ITEMOPS_NOT_FOUND;
		return 0;
	}
	s->item = item;
	if (fe->has_options)
		prefs_from(&s->body, &fe->options);
	if (o->multipart) {
		if (s->body.count == 0 && item->body_type) {
			/* a multipart answer exists for the bodies: the stored one, whole */
			s->body.prefs[0].type = item->body_type;
			s->body.count = 1;
		}
		s->body.part = body_part;
		s->body.part_user_data = o;
	}
	r->status = EAS_ITEMOPS_OK;
	r->class_name = item->class_name;
	r->has_properties = 1;
	r->properties_writer = item_properties;
	r->properties_user_data = s;
	return 0;
}

static int fetch_attachment(eas_srv_ctx *c, ops *o, op_state *s, const eas_itemops_fetch *fe,
			    eas_itemops_fetch_result *r)
{
	r->file_reference = fe->file_reference;
	if (!fe->file_reference[0]) {
		r->status = EAS_ITEMOPS_INVALID_ATTACHMENT;
		return 0;
	}
	int rc = c->store->attachment_get(&s->att, c->store, c->user_id, fe->file_reference);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
		s->att = NULL;
		r->status = EAS_ITEMOPS_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	uint64_t size = s->att->size, first = 0, count = size;
	if (fe->has_options && fe->options.range) {
		uint32_t a, b;
		if (eas_item_operations_parse_range(fe->options.range, &a, &b) != 0 || a >= size) {
			r->status = EAS_ITEMOPS_BAD_RANGE;
			return 0;
		}
		first = a;
		count = (uint64_t)b - a + 1;
		if (first + count > size)
			count = size - first;
		snprintf(s->range, sizeof s->range, "%llu-%llu", (unsigned long long)first,
			 (unsigned long long)(first + count - 1));
		r->range = s->range;
		r->has_total = 1;
		r->total = size > UINT32_MAX ? UINT32_MAX : (uint32_t)size;
	}
	if (count > (o->multipart ? MAX_PART_ATTACHMENT : MAX_INLINE_ATTACHMENT)) {
		r->status = EAS_ITEMOPS_TOO_LARGE;
		r->range = NULL;
		r->has_total = 0;
		return 0;
	}
	r->status = EAS_ITEMOPS_OK;
	r->has_properties = 1;
	r->properties_writer = attachment_properties;
	r->properties_user_data = s;
	s->offset = first;
	if (o->multipart) {
		uint8_t *data = eas__malloc(c->mem, count ? (size_t)count : 1);
		if (!data)
			return EAS_E_NOMEM;
		size_t got = 0;
		rc = 0;
		while (rc == 0 && got < count) {
			size_t n = 0;
			rc = attachment_reader(data + got, (size_t)count - got, &n, s);
			if (rc == 0 && n == 0)
				break;
			got += n;
		}
		if (rc == 0)
			rc = add_part(o, data, got, &r->part);
		eas__free(c->mem, data);
		if (rc)
			return rc;
		r->has_part = 1;
		return 0;
	}
	r->has_data = 1;
	r->data_reader = attachment_reader;
	r->data_total = count;
	r->data_user_data = s;
	r->data_form = EAS_ITEMOPS_DATA_BASE64;
	return 0;
}

static int fetch(eas_srv_ctx *c, ops *o, op_state *s, const eas_itemops_fetch *fe, eas_itemops_fetch_result *r)
{
	if (!eas__ascii_ieq(fe->store, "Mailbox")) {
		r->link_id = fe->link_id;
		r->long_id = fe->long_id;
		r->file_reference = fe->file_reference;
		r->status = EAS_ITEMOPS_UNKNOWN_STORE;
		return 0;
	}
	if (fe->server_id && fe->collection_id)
		return fetch_by_id(c, o, s, fe, r);
	if (fe->file_reference)
		return fetch_attachment(c, o, s, fe, r);
	r->long_id = fe->long_id;
	r->link_id = fe->link_id;
	r->status = fe->long_id ? EAS_ITEMOPS_NOT_FOUND : EAS_ITEMOPS_PROTOCOL_ERROR;
	return 0;
}

/* ---- EmptyFolderContents ---------------------------------------------------------------- */

static int empty_folder(eas_srv_ctx *c, const eas_itemops_empty_folder *e, eas_itemops_result *r)
{
	r->empty_folder.collection_id = e->collection_id;
	eas_mstore_result res = EAS_MSTORE_OK;
	/* no origin device: the asking device gets the Deletes too, as every other */
	int rc = c->store->folder_empty(&res, c->store, c->user_id, e->collection_id, e->delete_sub_folders, NULL);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
		res = EAS_MSTORE_NOT_FOUND;
		rc = 0;
	}
	if (rc)
		return rc;
	r->empty_folder.status = res == EAS_MSTORE_OK ? EAS_ITEMOPS_OK : EAS_ITEMOPS_NOT_FOUND;
	return 0;
}

/* ---- Move (a conversation) ------------------------------------------------------------- */

typedef struct conv_scan {
	eas_srv_ctx *c;
	const eas_itemops_move *mv;
	char (*ids)[EAS_MSTORE_ID_SIZE];
	size_t count, cap, seen;
	int rc;
} conv_scan;

static int is_mail_folder(uint32_t type)
{
	return type == EAS_MSTORE_FOLDER_INBOX || type == EAS_MSTORE_FOLDER_DRAFTS ||
	       type == EAS_MSTORE_FOLDER_DELETED || type == EAS_MSTORE_FOLDER_SENT ||
	       type == EAS_MSTORE_FOLDER_OUTBOX || type == EAS_MSTORE_FOLDER_USER_MAIL;
}

/* 1 when the item's stored ApplicationData names this conversation. */
static int in_conversation(conv_scan *x, const char *server_id)
{
	eas_srv_ctx *c = x->c;
	eas_mstore_item *item = NULL;
	if (c->store->item_get(&item, c->store, c->user_id, server_id, 0) != 0)
		return 0;
	int hit = 0;
	if (item->application_data) {
		eas_tree *t = NULL;
		char err[80];
		if (eas_tree_parse(&t, item->application_data, item->application_data_len, 0, c->mem, err,
				   sizeof err) == 0) {
			const eas_node *id = eas_node_child(eas_tree_root(t), EAS_TAG_EMAIL2_CONVERSATION_ID);
			hit = id && id->text_len == x->mv->conversation_id_len &&
			      memcmp(id->text, x->mv->conversation_id, id->text_len) == 0;
		}
		eas_tree_free(t);
	}
	c->store->release(c->store, item);
	return hit;
}

static int on_conv_item(const eas_mstore_item *item, void *user_data)
{
	conv_scan *x = user_data;
	if (++x->seen > MAX_CONVERSATION_SCAN || strcmp(item->class_name, "Email") != 0)
		return 0;
	if (!in_conversation(x, item->server_id))
		return 0;
	if (x->count == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 8;
		void *p = eas__realloc(x->c->mem, x->ids, cap * sizeof *x->ids);
		if (!p) {
			x->rc = EAS_E_NOMEM;
			return 1;
		}
		x->ids = p;
		x->cap = cap;
	}
	snprintf(x->ids[x->count++], EAS_MSTORE_ID_SIZE, "%s", item->server_id);
	return 0;
}

typedef struct folder_ids {
	eas_srv_ctx *c;
	char (*ids)[EAS_MSTORE_ID_SIZE];
	size_t count, cap;
} folder_ids;

static int on_folder(const eas_mstore_folder *f, void *user_data)
{
	folder_ids *x = user_data;
	if (!is_mail_folder(f->type))
		return 0;
	if (x->count == x->cap) {
		size_t cap = x->cap ? x->cap * 2 : 16;
		void *p = eas__realloc(x->c->mem, x->ids, cap * sizeof *x->ids);
		if (!p)
			return 1;
		x->ids = p;
		x->cap = cap;
	}
	snprintf(x->ids[x->count++], EAS_MSTORE_ID_SIZE, "%s", f->server_id);
	return 0;
}

static int move_conversation(eas_srv_ctx *c, const eas_itemops_move *mv, eas_itemops_result *r)
{
	r->move.conversation_id = mv->conversation_id;
	r->move.conversation_id_len = mv->conversation_id_len;
	eas_mstore *store = c->store;
	eas_mstore_folder dst;
	int rc = store->folder_get(&dst, store, c->user_id, mv->dst_fld_id);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
		r->move.status = EAS_ITEMOPS_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	if (!is_mail_folder(dst.type)) {
		r->move.status = MOVE_STATUS_NOT_MAIL_FOLDER;
		return 0;
	}
	folder_ids folders = { c, NULL, 0, 0 };
	rc = store->folder_list(store, c->user_id, on_folder, &folders);
	if (rc == EAS_E_CALLBACK)
		rc = EAS_E_NOMEM;
	conv_scan x = { c, mv, NULL, 0, 0, 0, 0 };
	for (size_t i = 0; rc == 0 && i < folders.count; i++) {
		uint64_t total;
		rc = store->item_list(&total, store, c->user_id, folders.ids[i], 0, 0, on_conv_item, &x);
		if (rc == EAS_E_CALLBACK)
			rc = x.rc ? x.rc : EAS_E_NOMEM;
	}
	eas__free(c->mem, folders.ids);
	size_t moved = 0;
	for (size_t i = 0; rc == 0 && i < x.count; i++) {
		eas_mstore_result res;
		char out[EAS_MSTORE_ID_SIZE];
		rc = store->item_move(&res, out, store, c->user_id, x.ids[i], NULL, dst.server_id, NULL, 0);
		if (rc == 0 && (res == EAS_MSTORE_OK || res == EAS_MSTORE_SAME_FOLDER))
			moved++;
	}
	eas__free(c->mem, x.ids);
	if (rc)
		return rc;
	r->move.status = moved ? EAS_ITEMOPS_OK : EAS_ITEMOPS_NOT_FOUND;
	return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static void ops_free(ops *o)
{
	for (size_t i = 0; i < o->count; i++) {
		o->c->store->release(o->c->store, o->state[i].item);
		o->c->store->release(o->c->store, o->state[i].att);
	}
	for (size_t i = 1; i < o->part_count; i++)
		eas__free(o->c->mem, o->parts[i].data);
	eas__free(o->c->mem, o->parts);
	eas__free(o->c->mem, o->state);
	eas__free(o->c->mem, o->results);
}

/* The multipart body: header, the WBXML (part 0), the fetched parts. */
static int reply_multipart(eas_srv_ctx *c, ops *o, const uint8_t *wbxml, size_t wbxml_len)
{
	if (o->part_count == 0)
		o->part_count = 1;
	o->parts[0].data = (uint8_t *)(uintptr_t)wbxml;
	o->parts[0].len = wbxml_len;
	uint64_t *lengths = eas__calloc(c->mem, o->part_count, sizeof *lengths);
	if (!lengths)
		return EAS_E_NOMEM;
	uint64_t total = EAS_MULTIPART_HEADER_SIZE(o->part_count);
	for (size_t i = 0; i < o->part_count; i++) {
		lengths[i] = o->parts[i].len;
		total += o->parts[i].len;
	}
	int rc = eas__srv_reply_text(c, 200, NULL);
	uint8_t *body = rc == 0 ? eas__malloc(&c->resp->mem, (size_t)total) : NULL;
	if (rc == 0 && !body)
		rc = EAS_E_NOMEM;
	if (rc == 0)
		rc = eas_multipart_header_encode(body, (size_t)total, lengths, (uint32_t)o->part_count);
	if (rc == 0) {
		size_t at = (size_t)EAS_MULTIPART_HEADER_SIZE(o->part_count);
		for (size_t i = 0; i < o->part_count; i++) {
			if (o->parts[i].len)
				memcpy(body + at, o->parts[i].data, o->parts[i].len);
			at += o->parts[i].len;
		}
		c->resp->body = body;
		c->resp->body_len = (size_t)total;
		body = NULL;
		rc = eas__srv_add_header(c->resp, "Content-Type", EAS_MULTIPART_CONTENT_TYPE);
	}
	eas__free(&c->resp->mem, body);
	eas__free(c->mem, lengths);
	o->parts[0].data = NULL;
	return rc;
}

int eas__srv_handle_item_operations(eas_srv_ctx *c)
{
	eas_item_operations_request req;
	int rc = eas_item_operations_request_decode(&req, c->root, c->err, sizeof c->err);
	if (rc)
		return rc;
	if (req.operation_count > MAX_OPERATIONS) {
		snprintf(c->err, sizeof c->err, "%zu operations (at most %d)", req.operation_count, MAX_OPERATIONS);
		return EAS_E_MALFORMED;
	}
	ops o;
	memset(&o, 0, sizeof o);
	o.c = c;
	o.multipart = wants_multipart(c);
	size_t cap = req.operation_count ? req.operation_count : 1;
	o.state = eas__calloc(c->mem, cap, sizeof *o.state);
	o.results = eas__calloc(c->mem, cap, sizeof *o.results);
	if (!o.state || !o.results) {
		ops_free(&o);
		return EAS_E_NOMEM;
	}
	const eas_node *cur = NULL;
	eas_itemops_operation op;
	while (o.count < cap && (rc = eas_item_operations_next_operation(&req, &cur, &op, c->err, sizeof c->err)) == 1) {
		op_state *s = &o.state[o.count];
		eas_itemops_result *r = &o.results[o.count];
		s->c = c;
		o.count++;
		r->kind = op.kind;
		switch (op.kind) {
		case EAS_ITEMOPS_FETCH:
			rc = fetch(c, &o, s, &op.fetch, &r->fetch);
			break;
		case EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS:
			rc = empty_folder(c, &op.empty_folder, r);
			break;
		case EAS_ITEMOPS_MOVE:
			rc = move_conversation(c, &op.move, r);
			break;
		default:
			rc = EAS_E_MALFORMED;
		}
		if (rc)
			break;
	}
	if (rc < 0) {
		ops_free(&o);
		return rc;
	}
	eas_wbxml_encoder *enc;
	eas_buf buf;
	rc = eas__srv_encoder(c, &enc, &buf);
	if (rc) {
		ops_free(&o);
		return rc;
	}
	eas_item_operations_response resp;
	memset(&resp, 0, sizeof resp);
	resp.status = EAS_ITEMOPS_OK;
	resp.result_list = o.results;
	resp.result_count = o.count;
	rc = eas_item_operations_response_encode(enc, &resp);
	c->eas_status = EAS_ITEMOPS_OK;
	if (!o.multipart) {
		rc = eas__srv_reply_wbxml(c, enc, &buf, rc);
		ops_free(&o);
		return rc;
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && buf.result)
		rc = buf.result;
	if (rc == 0 && o.part_count == 0) {
		/* nothing was fetched: still a multipart body, with the WBXML alone */
		o.parts = eas__calloc(c->mem, 1, sizeof *o.parts);
		if (!o.parts)
			rc = EAS_E_NOMEM;
		o.part_cap = 1;
	}
	if (rc == 0)
		rc = reply_multipart(c, &o, buf.data, buf.len);
	eas_buf_free(&buf);
	ops_free(&o);
	return rc;
}
