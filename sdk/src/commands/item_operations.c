/* ItemOperations request and response, both directions, and a streaming response parser (MS-ASCMD 2.2.1.10). */
#include "item_operations.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cmd_fields.h"
#include "codec_util.h"
#include "common/base64.h"
#include "common/buf.h"
#include "common/mem.h"

/* ---- shared -------------------------------------------------------------------- */

static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 10)
		return EAS_E_MALFORMED;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return EAS_E_MALFORMED;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return EAS_E_MALFORMED;
	*out = (uint32_t)v;
	return 0;
}

int eas_item_operations_parse_range(const char *text, uint32_t *first, uint32_t *last)
{
	if (!text)
		return EAS_E_MALFORMED;
	const char *dash = strchr(text, '-');
	uint32_t m, n;
	if (!dash || parse_u32(text, (size_t)(dash - text), &m) || parse_u32(dash + 1, strlen(dash + 1), &n) || m > n)
		return EAS_E_MALFORMED;
	if (first)
		*first = m;
	if (last)
		*last = n;
	return 0;
}

/*
 * Incremental base64 decoder: whitespace is skipped, '=' padding is
 * optional at the very end, nothing may follow padding.
 */
typedef struct b64 {
	uint32_t acc;
	int n;    /* sextets in acc */
	int pad;  /* '=' seen in the current quantum */
	int done; /* a padded quantum ended the value */
} b64;

static size_t b64_flush(b64 *s, uint8_t *out)
{
	size_t o = 0;
	if (s->n == 2) {
		out[o++] = (uint8_t)(s->acc >> 4);
	} else if (s->n == 3) {
		out[o++] = (uint8_t)(s->acc >> 10);
		out[o++] = (uint8_t)(s->acc >> 2);
	}
	s->acc = 0;
	s->n = 0;
	return o;
}

/* Decodes len characters into out (room for len / 4 * 3 + 3 bytes); adds to *out_len. */
static int b64_feed(b64 *s, const uint8_t *in, size_t len, uint8_t *out, size_t *out_len)
{
	size_t o = *out_len;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			if (s->done || s->n < 2 || s->n + s->pad >= 4)
				return EAS_E_MALFORMED;
			s->pad++;
			if (s->n + s->pad == 4) {
				o += b64_flush(s, out + o);
				s->pad = 0;
				s->done = 1;
			}
			continue;
		}
		int v = eas__base64_value(c);
		if (v < 0 || s->done || s->pad)
			return EAS_E_MALFORMED;
		s->acc = s->acc << 6 | (uint32_t)v;
		if (++s->n == 4) {
			out[o++] = (uint8_t)(s->acc >> 16);
			out[o++] = (uint8_t)(s->acc >> 8);
			out[o++] = (uint8_t)s->acc;
			s->acc = 0;
			s->n = 0;
		}
	}
	*out_len = o;
	return 0;
}

/* The end of the value: an unpadded last quantum of 2 or 3 characters is accepted. */
static int b64_end(b64 *s, uint8_t *out, size_t *out_len)
{
	if (s->pad || s->n == 1)
		return EAS_E_MALFORMED;
	*out_len += b64_flush(s, out + *out_len);
	return 0;
}

/* ---- request: encode ----------------------------------------------------------- */

static int pref_ok(const eas_itemops_body_preference *p, size_t n)
{
	if (n > EAS_ITEMOPS_MAX_PREFERENCES)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (p[i].type == 0)
			return 0;
	return 1;
}

static int fetch_ways(const eas_itemops_fetch *f)
{
	return (f->server_id != NULL) + (f->long_id != NULL) + (f->file_reference != NULL) + (f->link_id != NULL);
}

static int fetch_ok(const eas_itemops_fetch *f)
{
	if (!f->store || !f->store[0] || strlen(f->store) > EAS_ITEMOPS_MAX_STORE || fetch_ways(f) != 1 ||
	    (f->server_id && !f->collection_id) || (f->collection_id && !f->server_id))
		return 0;
	if (!f->has_options)
		return 1;
	const eas_itemops_fetch_options *o = &f->options;
	return (!o->range || eas_item_operations_parse_range(o->range, NULL, NULL) == 0) &&
	       (o->schema_count == 0 || o->schema) && pref_ok(o->body_preferences, o->body_preference_count) &&
	       pref_ok(o->body_part_preferences, o->body_part_preference_count);
}

static int operation_ok(const eas_itemops_operation *op)
{
	switch (op->kind) {
	case EAS_ITEMOPS_FETCH:
		return fetch_ok(&op->fetch);
	case EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS:
		return op->empty_folder.collection_id && op->empty_folder.collection_id[0];
	case EAS_ITEMOPS_MOVE:
		return op->move.conversation_id && op->move.conversation_id_len && op->move.dst_fld_id &&
		       op->move.dst_fld_id[0];
	}
	return 0;
}

static int put_bool(eas_wbxml_encoder *enc, eas_tag tag, int has, int value)
{
	return has ? eas_wbxml_encoder_element(enc, tag, value ? "1" : "0") : 0;
}

static int put_pref(eas_wbxml_encoder *enc, eas_tag tag, const eas_itemops_body_preference *p)
{
	int rc = eas_wbxml_encoder_start(enc, tag);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNCBASE_TYPE, p->type);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_AIRSYNCBASE_TRUNCATION_SIZE, p->has_truncation_size,
					   p->truncation_size);
	if (rc == 0)
		rc = put_bool(enc, EAS_TAG_AIRSYNCBASE_ALL_OR_NONE, p->has_all_or_none, p->all_or_none);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_AIRSYNCBASE_PREVIEW, p->has_preview, p->preview);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int put_fetch_options(eas_wbxml_encoder *enc, const eas_itemops_fetch_options *o)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_OPTIONS);
	if (rc == 0 && o->has_schema) {
		if (o->schema_count == 0) {
			rc = eas_wbxml_encoder_empty(enc, EAS_TAG_ITEMOPERATIONS_SCHEMA);
		} else {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_SCHEMA);
			for (size_t i = 0; rc == 0 && i < o->schema_count; i++)
				rc = eas_wbxml_encoder_empty(enc, o->schema[i]);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
	}
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_ITEMOPERATIONS_RANGE, o->range);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_ITEMOPERATIONS_USER_NAME, o->user_name);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_ITEMOPERATIONS_PASSWORD, o->password);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_AIRSYNC_MIME_SUPPORT, o->has_mime_support, o->mime_support);
	for (size_t i = 0; rc == 0 && i < o->body_preference_count; i++)
		rc = put_pref(enc, EAS_TAG_AIRSYNCBASE_BODY_PREFERENCE, &o->body_preferences[i]);
	for (size_t i = 0; rc == 0 && i < o->body_part_preference_count; i++)
		rc = put_pref(enc, EAS_TAG_AIRSYNCBASE_BODY_PART_PREFERENCE, &o->body_part_preferences[i]);
	if (rc == 0)
		rc = put_bool(enc, EAS_TAG_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_SUPPORT, o->has_rights_management_support,
			      o->rights_management_support);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int put_operation(eas_wbxml_encoder *enc, const eas_itemops_operation *op)
{
	int rc;
	if (op->kind == EAS_ITEMOPS_FETCH) {
		const eas_itemops_fetch *f = &op->fetch;
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_FETCH);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_ITEMOPERATIONS_STORE, f->store);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_COLLECTION_ID, f->collection_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_SERVER_ID, f->server_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_SEARCH_LONG_ID, f->long_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, f->file_reference);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_DOCUMENTLIBRARY_LINK_ID, f->link_id);
		if (rc == 0)
			rc = eas__cmd_put_flag(enc, EAS_TAG_RIGHTSMANAGEMENT_REMOVE_RIGHTS_MANAGEMENT_PROTECTION,
					       f->remove_rm_protection);
		if (rc == 0 && f->has_options)
			rc = put_fetch_options(enc, &f->options);
	} else if (op->kind == EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_COLLECTION_ID, op->empty_folder.collection_id);
		if (rc == 0 && op->empty_folder.delete_sub_folders) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_OPTIONS);
			if (rc == 0)
				rc = eas_wbxml_encoder_empty(enc, EAS_TAG_ITEMOPERATIONS_DELETE_SUB_FOLDERS);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
	} else {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_MOVE);
		if (rc == 0)
			rc = eas__cmd_put_opt_opaque(enc, EAS_TAG_ITEMOPERATIONS_CONVERSATION_ID, op->move.conversation_id,
						     op->move.conversation_id_len);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_ITEMOPERATIONS_DST_FLD_ID, op->move.dst_fld_id);
		if (rc == 0 && op->move.move_always) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_OPTIONS);
			if (rc == 0)
				rc = eas_wbxml_encoder_empty(enc, EAS_TAG_ITEMOPERATIONS_MOVE_ALWAYS);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_item_operations_request_encode(eas_wbxml_encoder *enc, const eas_item_operations_request *req)
{
	if (!enc || !req || req->operation_count == 0 || !req->operation_list)
		return EAS_E_INVALID;
	for (size_t i = 0; i < req->operation_count; i++)
		if (!operation_ok(&req->operation_list[i]))
			return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS);
	for (size_t i = 0; rc == 0 && i < req->operation_count; i++)
		rc = put_operation(enc, &req->operation_list[i]);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ---- request: decode ----------------------------------------------------------- */

static int is_operation(eas_tag tag)
{
	return tag == EAS_TAG_ITEMOPERATIONS_FETCH || tag == EAS_TAG_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS ||
	       tag == EAS_TAG_ITEMOPERATIONS_MOVE;
}

static size_t count_operations(const eas_node *parent)
{
	size_t n = 0;
	for (const eas_node *c = parent ? parent->first : NULL; c; c = c->next)
		n += is_operation(c->tag);
	return n;
}

/* The next Fetch / EmptyFolderContents / Move child after *cursor. */
static const eas_node *next_operation(const eas_node *parent, const eas_node **cursor)
{
	const eas_node *n = *cursor ? (*cursor)->next : (parent ? parent->first : NULL);
	while (n && !is_operation(n->tag))
		n = n->next;
	*cursor = n;
	return n;
}

int eas_item_operations_request_decode(eas_item_operations_request *out, const eas_node *root, char *err,
				       size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS, err, err_size);
	if (rc)
		return rc;
	out->root = root;
	out->operation_count = count_operations(root);
	if (out->operation_count == 0)
		return eas__cmd_malformed(err, err_size, "ItemOperations:ItemOperations holds no Fetch, "
					  "EmptyFolderContents or Move");
	return 0;
}

static int decode_prefs(eas_itemops_body_preference *prefs, size_t *count, const eas_node *options, eas_tag tag,
			char *err, size_t err_size)
{
	char name[64];
	*count = 0;
	for (const eas_node *n = eas_node_child(options, tag); n; n = eas_node_next_same(n)) {
		if (*count == EAS_ITEMOPS_MAX_PREFERENCES)
			return eas__cmd_malformed(err, err_size, "more than %d %s", EAS_ITEMOPS_MAX_PREFERENCES,
						  eas__cmd_tag_label(tag, name, sizeof name));
		eas_itemops_body_preference *p = &prefs[(*count)++];
		int rc = eas__cmd_uint(&p->type, n, EAS_TAG_AIRSYNCBASE_TYPE, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_uint_has(&p->truncation_size, &p->has_truncation_size, n,
						   EAS_TAG_AIRSYNCBASE_TRUNCATION_SIZE, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_bool(&p->all_or_none, &p->has_all_or_none, n, EAS_TAG_AIRSYNCBASE_ALL_OR_NONE,
					       err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_uint_has(&p->preview, &p->has_preview, n, EAS_TAG_AIRSYNCBASE_PREVIEW, err,
						   err_size);
		if (rc)
			return rc;
	}
	return 0;
}

static int decode_fetch(eas_itemops_fetch *f, const eas_node *n, char *err, size_t err_size)
{
	int rc = eas__cmd_text_max(&f->store, n, EAS_TAG_ITEMOPERATIONS_STORE, EAS_ITEMOPS_MAX_STORE, 1, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->collection_id, n, EAS_TAG_AIRSYNC_COLLECTION_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->server_id, n, EAS_TAG_AIRSYNC_SERVER_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->long_id, n, EAS_TAG_SEARCH_LONG_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->file_reference, n, EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->link_id, n, EAS_TAG_DOCUMENTLIBRARY_LINK_ID, 0, err, err_size);
	if (rc)
		return rc;
	int ways = fetch_ways(f);
	if (ways == 0)
		return eas__cmd_malformed(err, err_size, "ItemOperations:Fetch names no item (AirSync:ServerId, "
					  "Search:LongId, AirSyncBase:FileReference or DocumentLibrary:LinkId)");
	if (ways > 1)
		return eas__cmd_malformed(err, err_size, "ItemOperations:Fetch names its item %d ways", ways);
	if (f->server_id && !f->collection_id)
		return eas__cmd_malformed(err, err_size, "missing AirSync:CollectionId (with AirSync:ServerId)");
	if (f->collection_id && !f->server_id)
		return eas__cmd_malformed(err, err_size, "missing AirSync:ServerId (with AirSync:CollectionId)");
	f->remove_rm_protection =
		eas_node_child(n, EAS_TAG_RIGHTSMANAGEMENT_REMOVE_RIGHTS_MANAGEMENT_PROTECTION) != NULL;
	const eas_node *o = eas_node_child(n, EAS_TAG_ITEMOPERATIONS_OPTIONS);
	if (!o)
		return 0;
	f->has_options = 1;
	eas_itemops_fetch_options *opt = &f->options;
	opt->schema_node = eas_node_child(o, EAS_TAG_ITEMOPERATIONS_SCHEMA);
	opt->has_schema = opt->schema_node != NULL;
	rc = eas__cmd_opt_text_max(&opt->range, o, EAS_TAG_ITEMOPERATIONS_RANGE, 0, err, err_size);
	if (rc == 0 && opt->range && eas_item_operations_parse_range(opt->range, NULL, NULL))
		rc = eas__cmd_malformed(err, err_size, "ItemOperations:Range is not m-n: '%s'", opt->range);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&opt->user_name, o, EAS_TAG_ITEMOPERATIONS_USER_NAME, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&opt->password, o, EAS_TAG_ITEMOPERATIONS_PASSWORD, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_uint_has(&opt->mime_support, &opt->has_mime_support, o, EAS_TAG_AIRSYNC_MIME_SUPPORT,
					   err, err_size);
	if (rc == 0)
		rc = decode_prefs(opt->body_preferences, &opt->body_preference_count, o,
				  EAS_TAG_AIRSYNCBASE_BODY_PREFERENCE, err, err_size);
	if (rc == 0)
		rc = decode_prefs(opt->body_part_preferences, &opt->body_part_preference_count, o,
				  EAS_TAG_AIRSYNCBASE_BODY_PART_PREFERENCE, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_bool(&opt->rights_management_support, &opt->has_rights_management_support, o,
				       EAS_TAG_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_SUPPORT, err, err_size);
	return rc;
}

static int required_bytes(const uint8_t **out, size_t *len, const eas_node *n, eas_tag tag, char *err,
			  size_t err_size)
{
	char name[64];
	eas__cmd_opt_bytes(out, len, n, tag);
	if (!*out || *len == 0)
		return eas__cmd_malformed(err, err_size, "%s %s", *out ? "empty" : "missing",
					  eas__cmd_tag_label(tag, name, sizeof name));
	return 0;
}

int eas_item_operations_next_operation(const eas_item_operations_request *req, const eas_node **cursor,
				       eas_itemops_operation *out, char *err, size_t err_size)
{
	const eas_node *n = next_operation(req->root, cursor);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc;
	if (n->tag == EAS_TAG_ITEMOPERATIONS_FETCH) {
		out->kind = EAS_ITEMOPS_FETCH;
		rc = decode_fetch(&out->fetch, n, err, err_size);
	} else if (n->tag == EAS_TAG_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS) {
		out->kind = EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
		rc = eas__cmd_text_max(&out->empty_folder.collection_id, n, EAS_TAG_AIRSYNC_COLLECTION_ID, 0, 1, err,
				       err_size);
		out->empty_folder.delete_sub_folders =
			eas_node_path(n, EAS_TAG_ITEMOPERATIONS_OPTIONS, EAS_TAG_ITEMOPERATIONS_DELETE_SUB_FOLDERS,
				      EAS_TAG_NONE) != NULL;
	} else {
		out->kind = EAS_ITEMOPS_MOVE;
		rc = required_bytes(&out->move.conversation_id, &out->move.conversation_id_len, n,
				    EAS_TAG_ITEMOPERATIONS_CONVERSATION_ID, err, err_size);
		if (rc == 0)
			rc = eas__cmd_text_max(&out->move.dst_fld_id, n, EAS_TAG_ITEMOPERATIONS_DST_FLD_ID, 0, 1, err,
					       err_size);
		out->move.move_always = eas_node_path(n, EAS_TAG_ITEMOPERATIONS_OPTIONS,
						      EAS_TAG_ITEMOPERATIONS_MOVE_ALWAYS, EAS_TAG_NONE) != NULL;
	}
	return rc ? rc : 1;
}

/* ---- response: encode ---------------------------------------------------------- */

#define B64_RAW_CHUNK 1536u /* -> 2048 characters per STR_I */

static int result_ok(const eas_itemops_result *r)
{
	switch (r->kind) {
	case EAS_ITEMOPS_FETCH: {
		const eas_itemops_fetch_result *f = &r->fetch;
		int data = f->has_data || f->data_reader;
		if (f->status == 0 || (data && f->has_part) || (f->has_data && !f->data && f->data_len) ||
		    (f->data_form != EAS_ITEMOPS_DATA_BASE64 && f->data_form != EAS_ITEMOPS_DATA_OPAQUE))
			return 0;
		return !f->range || eas_item_operations_parse_range(f->range, NULL, NULL) == 0;
	}
	case EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS:
		return r->empty_folder.status != 0;
	case EAS_ITEMOPS_MOVE:
		return r->move.status != 0 && r->move.conversation_id && r->move.conversation_id_len;
	}
	return 0;
}

/* Next bytes of the Data: from the reader, or from the buffer. */
typedef struct data_src {
	const eas_itemops_fetch_result *f;
	uint64_t left;
	size_t at;
} data_src;

static int src_read(data_src *s, uint8_t *buf, size_t want, size_t *got)
{
	if (want > s->left)
		want = (size_t)s->left;
	*got = 0;
	while (*got < want) {
		size_t n = 0;
		if (s->f->data_reader) {
			int rc = s->f->data_reader(buf + *got, want - *got, &n, s->f->data_user_data);
			if (rc)
				return rc < 0 ? rc : EAS_E_INVALID;
			if (n == 0 || n > want - *got)
				return EAS_E_INVALID; /* fewer bytes than data_total, or more than asked */
		} else {
			n = want - *got;
			memcpy(buf + *got, s->f->data + s->at, n);
			s->at += n;
		}
		*got += n;
	}
	s->left -= *got;
	return 0;
}

static int put_data(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f)
{
	data_src src = { f, f->data_reader ? f->data_total : f->data_len, 0 };
	uint8_t raw[B64_RAW_CHUNK];
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_DATA);
	if (rc)
		return rc;
	if (f->data_form == EAS_ITEMOPS_DATA_OPAQUE) {
		rc = eas_wbxml_encoder_opaque_begin(enc, src.left);
		while (rc == 0 && src.left) {
			size_t got;
			rc = src_read(&src, raw, sizeof raw, &got);
			if (rc == 0)
				rc = eas_wbxml_encoder_opaque_write(enc, raw, got);
		}
	} else {
		char text[EAS__BASE64_ENCODED_LEN(B64_RAW_CHUNK) + 1];
		if (src.left == 0)
			rc = eas_wbxml_encoder_string(enc, "", 0);
		while (rc == 0 && src.left) {
			size_t got;
			rc = src_read(&src, raw, sizeof raw, &got);
			if (rc == 0)
				rc = eas_wbxml_encoder_string(enc, text, eas__base64_encode(text, raw, got));
		}
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int put_fetch_result(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_FETCH);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_ITEMOPERATIONS_STATUS, f->status);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_COLLECTION_ID, f->collection_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_SERVER_ID, f->server_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SEARCH_LONG_ID, f->long_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, f->file_reference);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_DOCUMENTLIBRARY_LINK_ID, f->link_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_CLASS, f->class_name);
	int data = f->has_data || f->data_reader;
	if (rc == 0 && (f->has_properties || f->properties_writer || f->range || f->has_total || f->version ||
			f->has_part || data)) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_PROPERTIES);
		if (rc == 0 && f->properties_writer)
			rc = f->properties_writer(enc, f, f->properties_user_data);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_ITEMOPERATIONS_RANGE, f->range);
		if (rc == 0)
			rc = eas__cmd_put_opt_uint(enc, EAS_TAG_ITEMOPERATIONS_TOTAL, f->has_total, f->total);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_ITEMOPERATIONS_VERSION, f->version);
		if (rc == 0 && data)
			rc = put_data(enc, f);
		if (rc == 0)
			rc = eas__cmd_put_opt_uint(enc, EAS_TAG_ITEMOPERATIONS_PART, f->has_part, f->part);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_item_operations_response_encode(eas_wbxml_encoder *enc, const eas_item_operations_response *resp)
{
	if (!enc || !resp || resp->status == 0 || (resp->result_count && !resp->result_list))
		return EAS_E_INVALID;
	for (size_t i = 0; i < resp->result_count; i++)
		if (!result_ok(&resp->result_list[i]))
			return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_ITEMOPERATIONS_STATUS, resp->status);
	if (rc == 0 && resp->result_count) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_ITEMOPERATIONS_RESPONSE);
		for (size_t i = 0; rc == 0 && i < resp->result_count; i++) {
			const eas_itemops_result *r = &resp->result_list[i];
			if (r->kind == EAS_ITEMOPS_FETCH) {
				rc = put_fetch_result(enc, &r->fetch);
				continue;
			}
			int empty = r->kind == EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
			rc = eas_wbxml_encoder_start(enc, empty ? EAS_TAG_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS
								: EAS_TAG_ITEMOPERATIONS_MOVE);
			if (rc == 0)
				rc = eas__cmd_put_uint(enc, EAS_TAG_ITEMOPERATIONS_STATUS,
						       empty ? r->empty_folder.status : r->move.status);
			if (rc == 0 && empty)
				rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_COLLECTION_ID, r->empty_folder.collection_id);
			if (rc == 0 && !empty)
				rc = eas__cmd_put_opt_opaque(enc, EAS_TAG_ITEMOPERATIONS_CONVERSATION_ID,
							     r->move.conversation_id, r->move.conversation_id_len);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ---- response: decode (tree) --------------------------------------------------- */

int eas_item_operations_response_decode(eas_item_operations_response *out, const eas_node *root, char *err,
					size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, root, EAS_TAG_ITEMOPERATIONS_STATUS, err, err_size);
	if (rc)
		return rc;
	out->response = eas_node_child(root, EAS_TAG_ITEMOPERATIONS_RESPONSE);
	out->result_count = count_operations(out->response);
	return 0;
}

static int decode_fetch_result(eas_itemops_fetch_result *f, const eas_node *n, char *err, size_t err_size)
{
	int rc = eas__cmd_uint(&f->status, n, EAS_TAG_ITEMOPERATIONS_STATUS, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->collection_id, n, EAS_TAG_AIRSYNC_COLLECTION_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->server_id, n, EAS_TAG_AIRSYNC_SERVER_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->long_id, n, EAS_TAG_SEARCH_LONG_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->file_reference, n, EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->link_id, n, EAS_TAG_DOCUMENTLIBRARY_LINK_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->class_name, n, EAS_TAG_AIRSYNC_CLASS, 0, err, err_size);
	const eas_node *p = eas_node_child(n, EAS_TAG_ITEMOPERATIONS_PROPERTIES);
	if (rc || !p)
		return rc;
	f->has_properties = 1;
	f->properties = p;
	rc = eas__cmd_opt_text_max(&f->range, p, EAS_TAG_ITEMOPERATIONS_RANGE, 0, err, err_size);
	if (rc == 0 && f->range && eas_item_operations_parse_range(f->range, NULL, NULL))
		rc = eas__cmd_malformed(err, err_size, "ItemOperations:Range is not m-n: '%s'", f->range);
	if (rc == 0)
		rc = eas__cmd_opt_uint_has(&f->total, &f->has_total, p, EAS_TAG_ITEMOPERATIONS_TOTAL, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&f->version, p, EAS_TAG_ITEMOPERATIONS_VERSION, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_uint_has(&f->part, &f->has_part, p, EAS_TAG_ITEMOPERATIONS_PART, err, err_size);
	const eas_node *d = eas_node_child(p, EAS_TAG_ITEMOPERATIONS_DATA);
	if (rc == 0 && d) {
		f->has_data = 1;
		f->data = (const uint8_t *)d->text;
		f->data_len = d->text_len;
		f->data_opaque = d->opaque;
		if (f->has_part)
			rc = eas__cmd_malformed(err, err_size, "ItemOperations:Properties holds both Data and Part");
	}
	return rc;
}

int eas_item_operations_next_result(const eas_item_operations_response *resp, const eas_node **cursor,
				    eas_itemops_result *out, char *err, size_t err_size)
{
	const eas_node *n = next_operation(resp->response, cursor);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc;
	if (n->tag == EAS_TAG_ITEMOPERATIONS_FETCH) {
		out->kind = EAS_ITEMOPS_FETCH;
		rc = decode_fetch_result(&out->fetch, n, err, err_size);
	} else if (n->tag == EAS_TAG_ITEMOPERATIONS_EMPTY_FOLDER_CONTENTS) {
		out->kind = EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
		rc = eas__cmd_uint(&out->empty_folder.status, n, EAS_TAG_ITEMOPERATIONS_STATUS, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_text_max(&out->empty_folder.collection_id, n, EAS_TAG_AIRSYNC_COLLECTION_ID, 0,
						   err, err_size);
	} else {
		out->kind = EAS_ITEMOPS_MOVE;
		rc = eas__cmd_uint(&out->move.status, n, EAS_TAG_ITEMOPERATIONS_STATUS, err, err_size);
		eas__cmd_opt_bytes(&out->move.conversation_id, &out->move.conversation_id_len, n,
				   EAS_TAG_ITEMOPERATIONS_CONVERSATION_ID);
	}
	return rc ? rc : 1;
}

int eas_item_operations_fetch_data(const eas_itemops_fetch_result *f, uint8_t *out, size_t out_size,
				   size_t *out_len)
{
	if (!f || !out_len || (!out && out_size))
		return EAS_E_INVALID;
	*out_len = 0;
	if (!f->has_data || !f->data)
		return EAS_E_NOTFOUND;
	if (out_size < EAS_ITEMOPS_DATA_DECODED_MAX(f->data_len))
		return EAS_E_LIMIT;
	if (f->data_opaque) {
		if (f->data_len)
			memcpy(out, f->data, f->data_len);
		*out_len = f->data_len;
		return 0;
	}
	b64 s = { 0, 0, 0, 0 };
	size_t n = 0;
	int rc = b64_feed(&s, f->data, f->data_len, out, &n);
	if (rc == 0)
		rc = b64_end(&s, out, &n);
	if (rc == 0)
		*out_len = n;
	return rc;
}

/* ---- streaming response parser ------------------------------------------------- */

#define STACK_MAX 64u
#define DEFAULT_MAX_VALUE (64u << 10)

/* What an open element is to the parser. */
enum role {
	R_IGNORE,     /* skipped */
	R_ROOT,
	R_STATUS,     /* ItemOperations/Status */
	R_RESPONSE,
	R_OP,         /* Response/Fetch, EmptyFolderContents, Move */
	R_FIELD,      /* a leaf of an operation (Status, ids, Class, ConversationId) */
	R_PROPS,      /* Fetch/Properties */
	R_PROP_OWN,   /* Properties/Range, Total, Version, Part */
	R_PROP,       /* any other element inside Properties */
	R_STREAM      /* Properties/Data or an airsyncbase:Data inside Properties */
};

/* Strings of the current result, kept in p->strings as (offset, length). */
enum field {
	F_COLLECTION_ID, F_SERVER_ID, F_LONG_ID, F_FILE_REFERENCE, F_LINK_ID, F_CLASS, F_RANGE, F_VERSION,
	F_CONVERSATION_ID, F_COUNT
};

typedef struct level {
	eas_tag tag;
	uint8_t role;
	uint8_t had_child;
} level;

struct eas_item_operations_parser {
	eas_mem mem;
	eas_itemops_callbacks cb;
	void *user_data;
	eas_wbxml_decoder *dec;
	size_t max_value;
	int result;
	char message[200];
	level stack[STACK_MAX];
	unsigned depth;
	int saw_status;
	/* the value of the innermost element */
	eas_buf text;
	int text_opaque;
	/* the Data being streamed */
	int stream_mode;    /* 0 not yet known, 1 base64 text, 2 raw */
	b64 b64;
	uint8_t *out;       /* decoded piece: piece_size + 4 bytes */
	uint64_t streamed;
	/* the current result */
	eas_itemops_result cur;
	eas_buf strings;
	struct {
		size_t off, len;
		int set;
	} fields[F_COUNT];
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int pfail(eas_item_operations_parser *p, int code, const char *fmt, ...)
{
	if (p->result)
		return p->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof p->message, fmt, ap);
	va_end(ap);
	p->result = code;
	return code;
}

/* A user callback's answer: 0, EAS_E_PAUSED, or an abort recorded as EAS_E_CALLBACK. */
static int user(eas_item_operations_parser *p, int rc)
{
	if (rc == 0 || rc == EAS_E_PAUSED)
		return rc;
	return pfail(p, EAS_E_CALLBACK, "an ItemOperations callback returned %d", rc);
}

static const char *label(eas_tag tag, char *buf, size_t size)
{
	return eas__cmd_tag_label(tag, buf, size);
}

/* The current result with its strings resolved (valid until the strings grow). */
static void view(eas_item_operations_parser *p, eas_itemops_result *r)
{
	*r = p->cur;
	const char *s[F_COUNT];
	for (int i = 0; i < F_COUNT; i++)
		s[i] = p->fields[i].set ? (const char *)p->strings.data + p->fields[i].off : NULL;
	if (r->kind == EAS_ITEMOPS_FETCH) {
		eas_itemops_fetch_result *f = &r->fetch;
		f->collection_id = s[F_COLLECTION_ID];
		f->server_id = s[F_SERVER_ID];
		f->long_id = s[F_LONG_ID];
		f->file_reference = s[F_FILE_REFERENCE];
		f->link_id = s[F_LINK_ID];
		f->class_name = s[F_CLASS];
		f->range = s[F_RANGE];
		f->version = s[F_VERSION];
	} else if (r->kind == EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS) {
		r->empty_folder.collection_id = s[F_COLLECTION_ID];
	} else {
		r->move.conversation_id = (const uint8_t *)s[F_CONVERSATION_ID];
		r->move.conversation_id_len = p->fields[F_CONVERSATION_ID].len;
	}
}

static int store_field(eas_item_operations_parser *p, enum field f)
{
	size_t off = p->strings.len;
	if (eas_buf_append(&p->strings, p->text.data, p->text.len) || eas_buf_append(&p->strings, "", 1))
		return pfail(p, p->strings.result == EAS_E_LIMIT ? EAS_E_LIMIT : EAS_E_NOMEM,
			     p->strings.result == EAS_E_LIMIT ? "ItemOperations response values too large" : "out of memory");
	p->fields[f].off = off;
	p->fields[f].len = p->text.len;
	p->fields[f].set = 1;
	return 0;
}

static int text_uint(eas_item_operations_parser *p, eas_tag tag, uint32_t *out)
{
	char name[64];
	if (parse_u32((const char *)p->text.data, p->text.len, out))
		return pfail(p, EAS_E_MALFORMED, "%s is not a number", label(tag, name, sizeof name));
	return 0;
}

static enum role role_of(const eas_item_operations_parser *p, eas_tag tag)
{
	if (p->depth == 0)
		return R_ROOT;
	const level *parent = &p->stack[p->depth - 1];
	switch (parent->role) {
	case R_ROOT:
		if (tag == EAS_TAG_ITEMOPERATIONS_STATUS)
			return R_STATUS;
		return tag == EAS_TAG_ITEMOPERATIONS_RESPONSE ? R_RESPONSE : R_IGNORE;
	case R_RESPONSE:
		return is_operation(tag) ? R_OP : R_IGNORE;
	case R_OP:
		if (tag == EAS_TAG_ITEMOPERATIONS_PROPERTIES && parent->tag == EAS_TAG_ITEMOPERATIONS_FETCH)
			return R_PROPS;
		return R_FIELD;
	case R_PROPS:
		if (tag == EAS_TAG_ITEMOPERATIONS_DATA || tag == EAS_TAG_AIRSYNCBASE_DATA)
			return R_STREAM;
		if (tag == EAS_TAG_ITEMOPERATIONS_RANGE || tag == EAS_TAG_ITEMOPERATIONS_TOTAL ||
		    tag == EAS_TAG_ITEMOPERATIONS_VERSION || tag == EAS_TAG_ITEMOPERATIONS_PART)
			return R_PROP_OWN;
		return R_PROP;
	case R_PROP:
		return tag == EAS_TAG_AIRSYNCBASE_DATA ? R_STREAM : R_PROP;
	default:
		return R_IGNORE; /* inside a leaf that turned out to hold elements, or a skipped part */
	}
}

static void begin_result(eas_item_operations_parser *p, eas_tag tag)
{
	memset(&p->cur, 0, sizeof p->cur);
	memset(p->fields, 0, sizeof p->fields);
	eas_buf_reset(&p->strings);
	p->cur.kind = tag == EAS_TAG_ITEMOPERATIONS_FETCH ? EAS_ITEMOPS_FETCH
		      : tag == EAS_TAG_ITEMOPERATIONS_MOVE ? EAS_ITEMOPS_MOVE
							  : EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
}

static int op_status(eas_item_operations_parser *p, uint32_t **out)
{
	switch (p->cur.kind) {
	case EAS_ITEMOPS_FETCH:
		*out = &p->cur.fetch.status;
		break;
	case EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS:
		*out = &p->cur.empty_folder.status;
		break;
	default:
		*out = &p->cur.move.status;
		break;
	}
	return 0;
}

/* An operation's leaf ends. */
static int end_field(eas_item_operations_parser *p, eas_tag tag)
{
	if (tag == EAS_TAG_ITEMOPERATIONS_STATUS) {
		uint32_t *status;
		op_status(p, &status);
		int rc = text_uint(p, tag, status);
		if (rc == 0 && *status == 0)
			rc = pfail(p, EAS_E_MALFORMED, "ItemOperations:Status is 0");
		return rc;
	}
	static const struct {
		eas_tag tag;
		enum field field;
	} map[] = {
		{ EAS_TAG_AIRSYNC_COLLECTION_ID, F_COLLECTION_ID },
		{ EAS_TAG_AIRSYNC_SERVER_ID, F_SERVER_ID },
		{ EAS_TAG_SEARCH_LONG_ID, F_LONG_ID },
		{ EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, F_FILE_REFERENCE },
		{ EAS_TAG_DOCUMENTLIBRARY_LINK_ID, F_LINK_ID },
		{ EAS_TAG_AIRSYNC_CLASS, F_CLASS },
		{ EAS_TAG_ITEMOPERATIONS_CONVERSATION_ID, F_CONVERSATION_ID },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (map[i].tag == tag)
			return store_field(p, map[i].field);
	return 0; /* something a newer server adds */
}

static int end_prop_own(eas_item_operations_parser *p, eas_tag tag)
{
	eas_itemops_fetch_result *f = &p->cur.fetch;
	if (tag == EAS_TAG_ITEMOPERATIONS_TOTAL) {
		f->has_total = 1;
		return text_uint(p, tag, &f->total);
	}
	if (tag == EAS_TAG_ITEMOPERATIONS_PART) {
		if (f->has_data)
			return pfail(p, EAS_E_MALFORMED, "ItemOperations:Properties holds both Data and Part");
		f->has_part = 1;
		return text_uint(p, tag, &f->part);
	}
	enum field which = tag == EAS_TAG_ITEMOPERATIONS_RANGE ? F_RANGE : F_VERSION;
	int rc = store_field(p, which);
	if (rc == 0 && which == F_RANGE &&
	    eas_item_operations_parse_range((const char *)p->strings.data + p->fields[F_RANGE].off, NULL, NULL))
		rc = pfail(p, EAS_E_MALFORMED, "ItemOperations:Range is not m-n");
	return rc;
}

static int end_op(eas_item_operations_parser *p, eas_tag tag)
{
	char name[64];
	uint32_t *status;
	op_status(p, &status);
	if (*status == 0)
		return pfail(p, EAS_E_MALFORMED, "missing ItemOperations:Status in %s", label(tag, name, sizeof name));
	if (!p->cb.result)
		return 0;
	eas_itemops_result r;
	view(p, &r);
	return user(p, p->cb.result(&r, p->user_data));
}

static int stream_piece(eas_item_operations_parser *p, eas_tag tag, eas_wbxml_data_kind kind, const uint8_t *bytes,
			size_t len)
{
	int mode = kind == EAS_WBXML_OPAQUE || tag == EAS_TAG_AIRSYNCBASE_DATA ? 2 : 1;
	if (p->stream_mode && p->stream_mode != mode)
		return pfail(p, EAS_E_MALFORMED, "ItemOperations:Data mixes string and opaque values");
	p->stream_mode = mode;
	const uint8_t *outp = bytes;
	size_t n = len;
	if (mode == 1) {
		n = 0;
		if (b64_feed(&p->b64, bytes, len, p->out, &n))
			return pfail(p, EAS_E_MALFORMED, "ItemOperations:Data is not base64");
		outp = p->out;
	}
	if (n == 0)
		return 0;
	p->streamed += n;
	if (tag == EAS_TAG_ITEMOPERATIONS_DATA)
		p->cur.fetch.data_len = (size_t)p->streamed;
	if (!p->cb.data)
		return 0;
	eas_itemops_result r;
	view(p, &r);
	return user(p, p->cb.data(&r.fetch, tag, outp, n, 0, p->user_data));
}

static int end_stream(eas_item_operations_parser *p, eas_tag tag)
{
	size_t n = 0;
	if (p->stream_mode == 1 && b64_end(&p->b64, p->out, &n))
		return pfail(p, EAS_E_MALFORMED, "ItemOperations:Data is not base64 (it ends inside a quantum)");
	p->streamed += n;
	if (tag == EAS_TAG_ITEMOPERATIONS_DATA) {
		if (p->cur.fetch.has_part)
			return pfail(p, EAS_E_MALFORMED, "ItemOperations:Properties holds both Data and Part");
		p->cur.fetch.has_data = 1;
		p->cur.fetch.data_len = (size_t)p->streamed;
		p->cur.fetch.data_opaque = p->stream_mode == 2;
	}
	if (!p->cb.data)
		return 0;
	eas_itemops_result r;
	view(p, &r);
	return user(p, p->cb.data(&r.fetch, tag, p->out, n, 1, p->user_data));
}

/* An element ends (or an empty one starts): at most one user callback. */
static int element_end(eas_item_operations_parser *p, eas_tag tag, enum role role, int had_child)
{
	char name[64];
	int rc = 0;
	switch (role) {
	case R_ROOT:
		if (!p->saw_status)
			rc = pfail(p, EAS_E_MALFORMED, "missing ItemOperations:Status");
		break;
	case R_STATUS: {
		uint32_t status;
		rc = text_uint(p, tag, &status);
		p->saw_status = 1;
		if (rc == 0 && status == 0)
			rc = pfail(p, EAS_E_MALFORMED, "ItemOperations:Status is 0");
		if (rc == 0 && p->cb.status)
			rc = user(p, p->cb.status(status, p->user_data));
		break;
	}
	case R_OP:
		rc = end_op(p, tag);
		break;
	case R_FIELD:
		rc = had_child ? 0 : end_field(p, tag);
		break;
	case R_PROPS:
		p->cur.fetch.has_properties = 1;
		break;
	case R_PROP_OWN:
		rc = had_child ? pfail(p, EAS_E_MALFORMED, "%s holds elements", label(tag, name, sizeof name))
			       : end_prop_own(p, tag);
		break;
	case R_PROP:
		if (p->cb.property) {
			eas_itemops_result r;
			view(p, &r);
			eas_tag parent = p->stack[p->depth - 1].tag;
			rc = user(p, p->cb.property(&r.fetch, parent, tag, had_child ? NULL : p->text.data ? p->text.data
									       : (const uint8_t *)"",
						    had_child ? 0 : p->text.len, p->text_opaque, p->user_data));
		}
		break;
	case R_STREAM:
		rc = had_child ? pfail(p, EAS_E_MALFORMED, "%s holds elements", label(tag, name, sizeof name))
			       : end_stream(p, tag);
		break;
	default:
		break;
	}
	eas_buf_reset(&p->text);
	p->text_opaque = 0;
	return rc;
}

static int on_start(eas_tag tag, int has_content, void *ud)
{
	eas_item_operations_parser *p = ud;
	char got[64], want[64];
	enum role role = role_of(p, tag);
	if (role == R_ROOT && tag != EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS)
		return pfail(p, EAS_E_MALFORMED, "root element is %s, expected %s", label(tag, got, sizeof got),
			     label(EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS, want, sizeof want));
	if (p->depth)
		p->stack[p->depth - 1].had_child = 1;
	if (role == R_OP)
		begin_result(p, tag);
	if (role == R_STREAM) {
		p->stream_mode = 0;
		memset(&p->b64, 0, sizeof p->b64);
		p->streamed = 0;
	}
	eas_buf_reset(&p->text);
	p->text_opaque = 0;
	if (!has_content)
		return element_end(p, tag, role, 0);
	if (p->depth == STACK_MAX) /* the decoder's max_depth is clamped below this */
		return pfail(p, EAS_E_LIMIT, "elements nested deeper than %u", STACK_MAX);
	p->stack[p->depth].tag = tag;
	p->stack[p->depth].role = (uint8_t)role;
	p->stack[p->depth].had_child = 0;
	p->depth++;
	return 0;
}

static int on_end(eas_tag tag, void *ud)
{
	eas_item_operations_parser *p = ud;
	level l = p->stack[--p->depth];
	return element_end(p, tag, (enum role)l.role, l.had_child);
}

static int on_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final, uint64_t total, void *ud)
{
	(void)final;
	(void)total;
	eas_item_operations_parser *p = ud;
	if (!p->depth)
		return 0;
	const level *l = &p->stack[p->depth - 1];
	switch (l->role) {
	case R_STREAM:
		return stream_piece(p, l->tag, kind, bytes, len);
	case R_STATUS:
	case R_FIELD:
	case R_PROP_OWN:
	case R_PROP:
		if (eas_buf_append(&p->text, bytes, len))
			return pfail(p, p->text.result == EAS_E_LIMIT ? EAS_E_LIMIT : EAS_E_NOMEM,
				     p->text.result == EAS_E_LIMIT ? "an ItemOperations value is larger than %zu bytes"
								   : "out of memory (%zu)",
				     p->max_value);
		if (kind == EAS_WBXML_OPAQUE)
			p->text_opaque = 1;
		return 0;
	default:
		return 0;
	}
}

int eas_item_operations_parser_new(eas_item_operations_parser **out, const eas_itemops_callbacks *cb,
				   size_t max_value, const eas_wbxml_decoder_options *options, const eas_mem *mem,
				   void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!cb || cb->version != EAS_ITEMOPS_CALLBACKS_VERSION)
		return EAS_E_INVALID;
	eas_wbxml_decoder_options o = EAS_WBXML_DECODER_OPTIONS_INIT;
	if (options)
		o = *options;
	if (o.max_depth == 0 || o.max_depth > STACK_MAX)
		o.max_depth = o.max_depth ? STACK_MAX : 32;
	size_t piece = o.piece_size ? o.piece_size : 4096;
	eas_mem m;
	eas__mem_init(&m, mem);
	eas_item_operations_parser *p = eas__calloc(&m, 1, sizeof *p);
	if (!p)
		return EAS_E_NOMEM;
	p->mem = m;
	p->cb = *cb;
	p->user_data = user_data;
	p->max_value = max_value ? max_value : DEFAULT_MAX_VALUE;
	eas_buf_init(&p->text, &m, p->max_value);
	eas_buf_init(&p->strings, &m, 16 * p->max_value);
	p->out = eas__malloc(&m, piece + 4);
	eas_wbxml_callbacks dcb = { EAS_WBXML_CALLBACKS_VERSION, on_start, on_end, on_data };
	int rc = p->out ? eas_wbxml_decoder_new(&p->dec, &dcb, &o, &m, p) : EAS_E_NOMEM;
	if (rc) {
		eas_item_operations_parser_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void eas_item_operations_parser_free(eas_item_operations_parser *p)
{
	if (!p)
		return;
	eas_wbxml_decoder_free(p->dec);
	eas_buf_free(&p->text);
	eas_buf_free(&p->strings);
	eas__free(&p->mem, p->out);
	eas__free(&p->mem, p);
}

int eas_item_operations_parser_feed(eas_item_operations_parser *p, const uint8_t *data, size_t len,
				    size_t *consumed)
{
	if (consumed)
		*consumed = 0;
	if (!p || (!data && len))
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	int rc = eas_wbxml_decoder_feed(p->dec, data, len, consumed);
	if (rc == EAS_E_PAUSED)
		return rc;
	if (rc && p->result)
		return p->result; /* our own failure says more */
	if (rc)
		return pfail(p, rc, "%s", eas_wbxml_decoder_error(p->dec, NULL));
	return 0;
}

int eas_item_operations_parser_finish(eas_item_operations_parser *p)
{
	if (!p)
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	int rc = eas_wbxml_decoder_finish(p->dec);
	if (rc)
		return pfail(p, rc, "%s", eas_wbxml_decoder_error(p->dec, NULL));
	return 0;
}

const char *eas_item_operations_parser_error(const eas_item_operations_parser *p)
{
	return p && p->result ? p->message : NULL;
}
