/* Sync request and response, both directions (MS-ASCMD 2.2.1.21). */
#include "sync.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "codec_util.h"
#include "common/buf.h"
#include "common/mem.h"

/* ---- shared helpers --------------------------------------------------------------- */

static const char *const known_classes[] = { "Email", "Contacts", "Calendar", "Tasks", "Notes", "SMS" };

int eas_sync_class_known(const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 0; i < sizeof known_classes / sizeof known_classes[0]; i++)
		if (strcmp(name, known_classes[i]) == 0)
			return 1;
	return 0;
}

const char *eas_sync_op_name(eas_sync_op op)
{
	switch (op) {
	case EAS_SYNC_OP_ADD: return "Add";
	case EAS_SYNC_OP_CHANGE: return "Change";
	case EAS_SYNC_OP_DELETE: return "Delete";
	case EAS_SYNC_OP_SOFT_DELETE: return "SoftDelete";
	case EAS_SYNC_OP_FETCH: return "Fetch";
	}
	return "?";
}

static const eas_tag op_tags[] = {
	[EAS_SYNC_OP_ADD] = EAS_TAG_AIRSYNC_ADD,
	[EAS_SYNC_OP_CHANGE] = EAS_TAG_AIRSYNC_CHANGE,
	[EAS_SYNC_OP_DELETE] = EAS_TAG_AIRSYNC_DELETE,
	[EAS_SYNC_OP_SOFT_DELETE] = EAS_TAG_AIRSYNC_SOFT_DELETE,
	[EAS_SYNC_OP_FETCH] = EAS_TAG_AIRSYNC_FETCH,
};

static int op_of_tag(eas_tag tag, eas_sync_op *out)
{
	for (size_t i = 0; i < sizeof op_tags / sizeof op_tags[0]; i++)
		if (op_tags[i] == tag) {
			*out = (eas_sync_op)i;
			return 1;
		}
	return 0;
}

static const char *tag_label(eas_tag tag, char *buf, size_t size)
{
	const char *page = eas_codepage_name(EAS_TAG_PAGE(tag));
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, size, "%s:%s", page ? page : "?", name ? name : "?");
	return buf;
}

/* Decimal text of at most 10 digits that fits 32 bits. */
static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	if (len == 0 || len > 10)
		return -1;
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int version_14_plus(unsigned version)
{
	return (version & EAS_PROTO_FROM(EAS_PROTO_14_0)) != 0;
}

/* ---- copying a standalone ApplicationData document into an encoder ------------------ */

typedef struct copy_ctx {
	eas_wbxml_encoder *enc;
	int seen_root;
	int rc;              /* the encoder's failure, if any */
	uint64_t opaque_left;
} copy_ctx;

static int copy_start(eas_tag tag, int has_content, void *ud)
{
	copy_ctx *c = ud;
	if (!c->seen_root) {
		c->seen_root = 1;
		if (tag != EAS_TAG_AIRSYNC_APPLICATION_DATA)
			return c->rc = EAS_E_INVALID;
	}
	c->rc = has_content ? eas_wbxml_encoder_start(c->enc, tag) : eas_wbxml_encoder_empty(c->enc, tag);
	return c->rc;
}

static int copy_end(eas_tag tag, void *ud)
{
	(void)tag;
	copy_ctx *c = ud;
	return c->rc = eas_wbxml_encoder_end(c->enc);
}

static int copy_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final, uint64_t total,
		     void *ud)
{
	(void)final;
	copy_ctx *c = ud;
	if (kind == EAS_WBXML_STRING) /* a long string becomes several STR_I, which readers join */
		return c->rc = eas_wbxml_encoder_string(c->enc, (const char *)bytes, len);
	if (c->opaque_left == 0) {
		c->rc = eas_wbxml_encoder_opaque_begin(c->enc, total);
		if (c->rc)
			return c->rc;
		c->opaque_left = total;
	}
	c->opaque_left -= len;
	return c->rc = len ? eas_wbxml_encoder_opaque_write(c->enc, bytes, len) : 0;
}

/*
 * Writes a standalone WBXML document rooted at ApplicationData into enc.
 * EAS_E_INVALID if it is not one; the encoder's error if writing fails.
 */
static int copy_fragment(eas_wbxml_encoder *enc, const uint8_t *data, size_t len)
{
	copy_ctx c = { enc, 0, 0, 0 };
	eas_wbxml_callbacks cb = { EAS_WBXML_CALLBACKS_VERSION, copy_start, copy_end, copy_data };
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.max_depth = 60;
	opt.max_string = UINT32_MAX;
	opt.max_opaque = UINT32_MAX;
	eas_wbxml_decoder *dec;
	int rc = eas_wbxml_decoder_new(&dec, &cb, &opt, NULL, &c);
	if (rc)
		return rc;
	rc = eas_wbxml_decoder_feed(dec, data, len, NULL);
	if (rc == 0)
		rc = eas_wbxml_decoder_finish(dec);
	eas_wbxml_decoder_free(dec);
	if (rc == EAS_E_CALLBACK && c.rc)
		return c.rc;
	return rc ? EAS_E_INVALID : 0;
}

/* Writes <ApplicationData> from whichever form the item carries. */
static int write_app_data(eas_wbxml_encoder *enc, const eas_sync_item *it)
{
	if (it->write_data) {
		int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
		if (rc == 0)
			rc = it->write_data(enc, it->write_arg);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
		return rc;
	}
	if (it->data)
		return copy_fragment(enc, it->data, it->data_len);
	return EAS_E_INVALID;
}

static int has_app_data(const eas_sync_item *it)
{
	return it->write_data || it->data;
}

/* ---- request: encode ---------------------------------------------------------------- */

static int put_bool(eas_wbxml_encoder *enc, eas_tag tag, int value)
{
	return eas__cmd_put_uint(enc, tag, value ? 1 : 0);
}

static int encode_body_pref(eas_wbxml_encoder *enc, eas_tag tag, const eas_sync_body_pref *bp)
{
	int rc = eas_wbxml_encoder_start(enc, tag);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNCBASE_TYPE, bp->type);
	if (rc == 0 && bp->has_truncation_size)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNCBASE_TRUNCATION_SIZE, bp->truncation_size);
	if (rc == 0 && bp->has_all_or_none)
		rc = put_bool(enc, EAS_TAG_AIRSYNCBASE_ALL_OR_NONE, bp->all_or_none);
	if (rc == 0 && bp->has_preview)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNCBASE_PREVIEW, bp->preview);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int encode_options(eas_wbxml_encoder *enc, const eas_sync_options *o, unsigned version)
{
	if (o->class_name && !version_14_plus(version))
		return EAS_E_UNSUPPORTED; /* before 14.0 the class goes in Collection/Class */
	if (o->body_pref_count > EAS_SYNC_MAX_BODY_PREFS || o->body_part_pref_count > EAS_SYNC_MAX_BODY_PREFS)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_OPTIONS);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_CLASS, o->class_name);
	if (rc == 0 && o->has_filter_type)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_FILTER_TYPE, o->filter_type);
	for (size_t i = 0; rc == 0 && i < o->body_pref_count; i++)
		rc = encode_body_pref(enc, EAS_TAG_AIRSYNCBASE_BODY_PREFERENCE, &o->body_prefs[i]);
	for (size_t i = 0; rc == 0 && i < o->body_part_pref_count; i++)
		rc = encode_body_pref(enc, EAS_TAG_AIRSYNCBASE_BODY_PART_PREFERENCE, &o->body_part_prefs[i]);
	if (rc == 0 && o->has_conflict)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_CONFLICT, o->conflict);
	if (rc == 0 && o->has_mime_support)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_MIME_SUPPORT, o->mime_support);
	if (rc == 0 && o->has_mime_truncation)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_MIME_TRUNCATION, o->mime_truncation);
	if (rc == 0 && o->has_truncation)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_TRUNCATION, o->truncation);
	if (rc == 0 && o->has_max_items)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_MAX_ITEMS, o->max_items);
	if (rc == 0 && o->rights_management_support)
		rc = put_bool(enc, EAS_TAG_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_SUPPORT, 1);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* A client command: Add{Class?, ClientId, ApplicationData}, Change{ServerId, InstanceId?, ApplicationData}, ... */
static int encode_client_command(eas_wbxml_encoder *enc, const eas_sync_item *it)
{
	switch (it->op) {
	case EAS_SYNC_OP_ADD:
		if (!it->client_id || !has_app_data(it))
			return EAS_E_INVALID;
		break;
	case EAS_SYNC_OP_CHANGE:
		if (!it->server_id || !has_app_data(it))
			return EAS_E_INVALID;
		break;
	case EAS_SYNC_OP_DELETE:
	case EAS_SYNC_OP_FETCH:
		if (!it->server_id)
			return EAS_E_INVALID;
		break;
	default:
		return EAS_E_INVALID; /* SoftDelete is server -> client only */
	}
	int rc = eas_wbxml_encoder_start(enc, op_tags[it->op]);
	if (rc == 0 && it->op == EAS_SYNC_OP_ADD) {
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_CLASS, it->class_name);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_CLIENT_ID, it->client_id);
	} else if (rc == 0) {
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_SERVER_ID, it->server_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNCBASE_INSTANCE_ID, it->instance_id);
	}
	if (rc == 0 && (it->op == EAS_SYNC_OP_ADD || it->op == EAS_SYNC_OP_CHANGE))
		rc = write_app_data(enc, it);
	if (rc == 0 && it->send)
		rc = eas_wbxml_encoder_empty(enc, EAS_TAG_EMAIL2_SEND);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int encode_collection(eas_wbxml_encoder *enc, const eas_sync_collection_request *c, unsigned version)
{
	if (!c->sync_key || !c->collection_id || (c->command_count && !c->commands) ||
	    (c->supported_count && !c->supported) || c->option_count > EAS_SYNC_MAX_OPTIONS)
		return EAS_E_INVALID;
	if (c->class_name && version_14_plus(version))
		return EAS_E_UNSUPPORTED; /* from 14.0 the class goes in Options/Class */
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_COLLECTION);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_CLASS, c->class_name);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_SYNC_KEY, c->sync_key);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_COLLECTION_ID, c->collection_id);
	if (rc == 0 && c->has_supported) {
		if (c->supported_count == 0) {
			rc = eas_wbxml_encoder_empty(enc, EAS_TAG_AIRSYNC_SUPPORTED);
		} else {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_SUPPORTED);
			for (size_t i = 0; rc == 0 && i < c->supported_count; i++)
				rc = eas_wbxml_encoder_empty(enc, c->supported[i]);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
	}
	if (rc == 0 && c->has_deletes_as_moves)
		rc = put_bool(enc, EAS_TAG_AIRSYNC_DELETES_AS_MOVES, c->deletes_as_moves);
	if (rc == 0 && c->has_get_changes)
		rc = put_bool(enc, EAS_TAG_AIRSYNC_GET_CHANGES, c->get_changes);
	if (rc == 0 && c->has_window_size)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_WINDOW_SIZE, c->window_size);
	if (rc == 0 && c->has_conversation_mode)
		rc = put_bool(enc, EAS_TAG_AIRSYNC_CONVERSATION_MODE, c->conversation_mode);
	for (size_t i = 0; rc == 0 && i < c->option_count; i++)
		rc = encode_options(enc, &c->options[i], version);
	if (rc == 0 && c->command_count) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_COMMANDS);
		for (size_t i = 0; rc == 0 && i < c->command_count; i++)
			rc = encode_client_command(enc, &c->commands[i]);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_sync_request_encode(eas_wbxml_encoder *enc, const eas_sync_request *req, unsigned version)
{
	if (!enc || !req || version == 0 || (version & ~EAS_PROTO_ALL) ||
	    (req->collection_count && !req->collections) || (req->has_wait && req->has_heartbeat_interval))
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_SYNC);
	if (rc == 0 && req->collection_count) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_COLLECTIONS);
		for (size_t i = 0; rc == 0 && i < req->collection_count; i++)
			rc = encode_collection(enc, &req->collections[i], version);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && req->has_wait)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_WAIT, req->wait);
	if (rc == 0 && req->has_heartbeat_interval)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_HEARTBEAT_INTERVAL, req->heartbeat_interval);
	if (rc == 0 && req->has_window_size)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_WINDOW_SIZE, req->window_size);
	if (rc == 0 && req->partial)
		rc = eas_wbxml_encoder_empty(enc, EAS_TAG_AIRSYNC_PARTIAL);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ---- request: decode (server side, from a tree) --------------------------------------- */

/* Optional boolean child: an empty element means true (DeletesAsMoves, GetChanges...). */
static int node_bool(const eas_node *n, eas_tag tag, int *has, int *out, char *err, size_t err_size)
{
	const eas_node *c = eas_node_child(n, tag);
	if (!c)
		return 0;
	char name[64];
	if (c->text_len == 0)
		*out = 1;
	else if (c->text_len == 1 && (c->text[0] == '0' || c->text[0] == '1'))
		*out = c->text[0] == '1';
	else
		return eas__cmd_malformed(err, err_size, "%s is not a boolean: '%s'", tag_label(tag, name, sizeof name),
					  c->text);
	if (has)
		*has = 1;
	return 0;
}

static int node_opt_uint(const eas_node *n, eas_tag tag, int *has, uint32_t *out, char *err, size_t err_size)
{
	if (!eas_node_child(n, tag))
		return 0;
	*has = 1;
	return eas__cmd_uint(out, n, tag, err, err_size);
}

static int decode_body_pref(const eas_node *n, eas_sync_body_pref *bp, char *err, size_t err_size)
{
	memset(bp, 0, sizeof *bp);
	int rc = eas__cmd_uint(&bp->type, n, EAS_TAG_AIRSYNCBASE_TYPE, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNCBASE_TRUNCATION_SIZE, &bp->has_truncation_size, &bp->truncation_size,
				   err, err_size);
	if (rc == 0)
		rc = node_bool(n, EAS_TAG_AIRSYNCBASE_ALL_OR_NONE, &bp->has_all_or_none, &bp->all_or_none, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNCBASE_PREVIEW, &bp->has_preview, &bp->preview, err, err_size);
	return rc;
}

static int decode_options(const eas_node *n, eas_sync_options *o, char *err, size_t err_size)
{
	memset(o, 0, sizeof *o);
	o->class_name = eas_node_child_text(n, EAS_TAG_AIRSYNC_CLASS);
	if (o->class_name && !eas_sync_class_known(o->class_name))
		return eas__cmd_malformed(err, err_size, "unknown Class '%s' in Options", o->class_name);
	int rc = node_opt_uint(n, EAS_TAG_AIRSYNC_FILTER_TYPE, &o->has_filter_type, &o->filter_type, err, err_size);
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		int part = c->tag == EAS_TAG_AIRSYNCBASE_BODY_PART_PREFERENCE;
		if (c->tag != EAS_TAG_AIRSYNCBASE_BODY_PREFERENCE && !part)
			continue;
		size_t *count = part ? &o->body_part_pref_count : &o->body_pref_count;
		if (*count == EAS_SYNC_MAX_BODY_PREFS)
			return eas__cmd_malformed(err, err_size, "more than %d %s in Options", EAS_SYNC_MAX_BODY_PREFS,
						  part ? "BodyPartPreference" : "BodyPreference");
		rc = decode_body_pref(c, part ? &o->body_part_prefs[*count] : &o->body_prefs[*count], err, err_size);
		(*count)++;
	}
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_CONFLICT, &o->has_conflict, &o->conflict, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_MIME_SUPPORT, &o->has_mime_support, &o->mime_support, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_MIME_TRUNCATION, &o->has_mime_truncation, &o->mime_truncation, err,
				   err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_TRUNCATION, &o->has_truncation, &o->truncation, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_MAX_ITEMS, &o->has_max_items, &o->max_items, err, err_size);
	if (rc == 0)
		rc = node_bool(n, EAS_TAG_RIGHTSMANAGEMENT_RIGHTS_MANAGEMENT_SUPPORT, NULL, &o->rights_management_support,
			       err, err_size);
	return rc;
}

int eas_sync_request_decode(eas_sync_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_AIRSYNC_SYNC, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(root, EAS_TAG_AIRSYNC_WAIT, &out->has_wait, &out->wait, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(root, EAS_TAG_AIRSYNC_HEARTBEAT_INTERVAL, &out->has_heartbeat_interval,
				   &out->heartbeat_interval, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(root, EAS_TAG_AIRSYNC_WINDOW_SIZE, &out->has_window_size, &out->window_size, err,
				   err_size);
	if (rc == 0) {
		out->partial = eas_node_child(root, EAS_TAG_AIRSYNC_PARTIAL) != NULL;
		out->collections_node = eas_node_child(root, EAS_TAG_AIRSYNC_COLLECTIONS);
	}
	return rc;
}

int eas_sync_request_next_collection(const eas_sync_request *req, const eas_node **cursor,
				     eas_sync_collection_request *out, char *err, size_t err_size)
{
	const eas_node *n = *cursor ? (*cursor)->next : (req->collections_node ? req->collections_node->first : NULL);
	for (; n && n->tag != EAS_TAG_AIRSYNC_COLLECTION; n = n->next)
		;
	if (!n) {
		*cursor = NULL;
		return 0;
	}
	*cursor = n;
	memset(out, 0, sizeof *out);
	out->class_name = eas_node_child_text(n, EAS_TAG_AIRSYNC_CLASS);
	if (out->class_name && !eas_sync_class_known(out->class_name))
		return eas__cmd_malformed(err, err_size, "unknown Class '%s' in Collection", out->class_name);
	int rc = eas__cmd_text(&out->sync_key, n, EAS_TAG_AIRSYNC_SYNC_KEY, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->collection_id, n, EAS_TAG_AIRSYNC_COLLECTION_ID, err, err_size);
	if (rc)
		return rc;
	out->supported_node = eas_node_child(n, EAS_TAG_AIRSYNC_SUPPORTED);
	out->has_supported = out->supported_node != NULL;
	for (const eas_node *c = out->supported_node ? out->supported_node->first : NULL; c; c = c->next)
		out->supported_count++;
	rc = node_bool(n, EAS_TAG_AIRSYNC_DELETES_AS_MOVES, &out->has_deletes_as_moves, &out->deletes_as_moves, err,
		       err_size);
	if (rc == 0)
		rc = node_bool(n, EAS_TAG_AIRSYNC_GET_CHANGES, &out->has_get_changes, &out->get_changes, err, err_size);
	if (rc == 0)
		rc = node_opt_uint(n, EAS_TAG_AIRSYNC_WINDOW_SIZE, &out->has_window_size, &out->window_size, err, err_size);
	if (rc == 0)
		rc = node_bool(n, EAS_TAG_AIRSYNC_CONVERSATION_MODE, &out->has_conversation_mode, &out->conversation_mode,
			       err, err_size);
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		if (c->tag != EAS_TAG_AIRSYNC_OPTIONS)
			continue;
		if (out->option_count == EAS_SYNC_MAX_OPTIONS)
			return eas__cmd_malformed(err, err_size, "more than %d Options in collection %s",
						  EAS_SYNC_MAX_OPTIONS, out->collection_id);
		rc = decode_options(c, &out->options[out->option_count++], err, err_size);
	}
	out->commands_node = eas_node_child(n, EAS_TAG_AIRSYNC_COMMANDS);
	return rc ? rc : 1;
}

int eas_sync_collection_next_command(const eas_sync_collection_request *coll, const eas_node **cursor,
				     eas_sync_item *out, char *err, size_t err_size)
{
	const eas_node *n = *cursor ? (*cursor)->next : (coll->commands_node ? coll->commands_node->first : NULL);
	eas_sync_op op = EAS_SYNC_OP_ADD;
	for (; n; n = n->next)
		if (op_of_tag(n->tag, &op) && op != EAS_SYNC_OP_SOFT_DELETE)
			break;
	if (!n) {
		*cursor = NULL;
		return 0;
	}
	*cursor = n;
	memset(out, 0, sizeof *out);
	out->op = op;
	out->server_id = eas_node_child_text(n, EAS_TAG_AIRSYNC_SERVER_ID);
	out->client_id = eas_node_child_text(n, EAS_TAG_AIRSYNC_CLIENT_ID);
	out->class_name = eas_node_child_text(n, EAS_TAG_AIRSYNC_CLASS);
	out->instance_id = eas_node_child_text(n, EAS_TAG_AIRSYNCBASE_INSTANCE_ID);
	out->send = eas_node_child(n, EAS_TAG_EMAIL2_SEND) != NULL;
	out->app_data = eas_node_child(n, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	out->has_data = out->app_data != NULL;
	if (out->class_name && !eas_sync_class_known(out->class_name))
		return eas__cmd_malformed(err, err_size, "unknown Class '%s' in %s", out->class_name, eas_sync_op_name(op));
	if (op == EAS_SYNC_OP_ADD && !out->client_id)
		return eas__cmd_malformed(err, err_size, "Add without ClientId");
	if (op != EAS_SYNC_OP_ADD && !out->server_id)
		return eas__cmd_malformed(err, err_size, "%s without ServerId", eas_sync_op_name(op));
	if ((op == EAS_SYNC_OP_ADD || op == EAS_SYNC_OP_CHANGE) && !out->app_data)
		return eas__cmd_malformed(err, err_size, "%s %s without ApplicationData", eas_sync_op_name(op),
					  op == EAS_SYNC_OP_ADD ? out->client_id : out->server_id);
	return 1;
}

/* ---- response: writer (server side) ------------------------------------------------- */

enum { W_NONE, W_SYNC, W_COLLECTIONS, W_COLLECTION, W_COMMANDS, W_RESPONSES, W_DONE };

int eas_sync_writer_begin(eas_sync_writer *w, eas_wbxml_encoder *enc, unsigned version)
{
	if (!w || !enc)
		return EAS_E_INVALID;
	memset(w, 0, sizeof *w);
	w->enc = enc;
	w->version = version;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_SYNC);
	if (rc == 0)
		w->state = W_SYNC;
	return rc;
}

int eas_sync_writer_collection_begin(eas_sync_writer *w, const eas_sync_collection *c)
{
	if (!w || !c || !c->collection_id || (c->status == EAS_SYNC_STATUS_OK && !c->sync_key))
		return EAS_E_INVALID;
	int rc = 0;
	if (w->state == W_SYNC) {
		rc = eas_wbxml_encoder_start(w->enc, EAS_TAG_AIRSYNC_COLLECTIONS);
		if (rc)
			return rc;
		w->state = W_COLLECTIONS;
	}
	if (w->state != W_COLLECTIONS)
		return EAS_E_STATE;
	rc = eas_wbxml_encoder_start(w->enc, EAS_TAG_AIRSYNC_COLLECTION);
	if (rc == 0)
		rc = eas__cmd_put_opt(w->enc, EAS_TAG_AIRSYNC_CLASS, c->class_name);
	if (rc == 0)
		rc = eas__cmd_put_opt(w->enc, EAS_TAG_AIRSYNC_SYNC_KEY, c->sync_key);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(w->enc, EAS_TAG_AIRSYNC_COLLECTION_ID, c->collection_id);
	if (rc == 0)
		rc = eas__cmd_put_uint(w->enc, EAS_TAG_AIRSYNC_STATUS, c->status);
	if (rc == 0) {
		w->state = W_COLLECTION;
		w->done_commands = w->done_responses = 0;
	}
	return rc;
}

/* Moves the writer into the Commands (want = W_COMMANDS) or Responses container. */
static int writer_enter(eas_sync_writer *w, int want)
{
	if (w->state == want)
		return 0;
	int rc;
	if (w->state == W_COMMANDS || w->state == W_RESPONSES) {
		rc = eas_wbxml_encoder_end(w->enc);
		if (rc)
			return rc;
		if (w->state == W_COMMANDS)
			w->done_commands = 1;
		else
			w->done_responses = 1;
		w->state = W_COLLECTION;
	}
	if (w->state != W_COLLECTION)
		return EAS_E_STATE;
	if ((want == W_COMMANDS && w->done_commands) || (want == W_RESPONSES && w->done_responses))
		return EAS_E_STATE;
	rc = eas_wbxml_encoder_start(w->enc, want == W_COMMANDS ? EAS_TAG_AIRSYNC_COMMANDS : EAS_TAG_AIRSYNC_RESPONSES);
	if (rc == 0)
		w->state = want;
	return rc;
}

int eas_sync_writer_command(eas_sync_writer *w, const eas_sync_item *it)
{
	if (!w || !it || !it->server_id || it->op == EAS_SYNC_OP_FETCH || (unsigned)it->op > EAS_SYNC_OP_FETCH)
		return EAS_E_INVALID;
	int with_data = it->op == EAS_SYNC_OP_ADD || it->op == EAS_SYNC_OP_CHANGE;
	if (with_data && !has_app_data(it))
		return EAS_E_INVALID;
	int rc = writer_enter(w, W_COMMANDS);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(w->enc, op_tags[it->op]);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(w->enc, EAS_TAG_AIRSYNC_SERVER_ID, it->server_id);
	if (rc == 0 && it->op != EAS_SYNC_OP_ADD && it->op != EAS_SYNC_OP_SOFT_DELETE)
		rc = eas__cmd_put_opt(w->enc, EAS_TAG_AIRSYNCBASE_INSTANCE_ID, it->instance_id);
	if (rc == 0 && with_data)
		rc = write_app_data(w->enc, it);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(w->enc);
	return rc;
}

int eas_sync_writer_response(eas_sync_writer *w, const eas_sync_item *it)
{
	if (!w || !it || !it->has_status || it->op == EAS_SYNC_OP_SOFT_DELETE || (unsigned)it->op > EAS_SYNC_OP_FETCH)
		return EAS_E_INVALID;
	if (it->op == EAS_SYNC_OP_ADD && !it->client_id)
		return EAS_E_INVALID;
	if (it->op != EAS_SYNC_OP_ADD && !it->server_id)
		return EAS_E_INVALID;
	int rc = writer_enter(w, W_RESPONSES);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(w->enc, op_tags[it->op]);
	if (rc == 0 && it->op == EAS_SYNC_OP_ADD)
		rc = eas_wbxml_encoder_element(w->enc, EAS_TAG_AIRSYNC_CLIENT_ID, it->client_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(w->enc, EAS_TAG_AIRSYNC_SERVER_ID, it->server_id);
	if (rc == 0)
		rc = eas__cmd_put_uint(w->enc, EAS_TAG_AIRSYNC_STATUS, it->status);
	if (rc == 0 && it->op == EAS_SYNC_OP_ADD)
		rc = eas__cmd_put_opt(w->enc, EAS_TAG_AIRSYNC_CLASS, it->class_name);
	if (rc == 0 && has_app_data(it))
		rc = write_app_data(w->enc, it);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(w->enc);
	return rc;
}

int eas_sync_writer_collection_end(eas_sync_writer *w, int more_available)
{
	if (!w)
		return EAS_E_INVALID;
	int rc = 0;
	if (w->state == W_COMMANDS || w->state == W_RESPONSES) {
		rc = eas_wbxml_encoder_end(w->enc);
		if (rc)
			return rc;
		w->state = W_COLLECTION;
	}
	if (w->state != W_COLLECTION)
		return EAS_E_STATE;
	if (more_available)
		rc = eas_wbxml_encoder_empty(w->enc, EAS_TAG_AIRSYNC_MORE_AVAILABLE);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(w->enc);
	if (rc == 0)
		w->state = W_COLLECTIONS;
	return rc;
}

int eas_sync_writer_end(eas_sync_writer *w)
{
	if (!w)
		return EAS_E_INVALID;
	int rc = 0;
	if (w->state == W_COLLECTIONS) {
		rc = eas_wbxml_encoder_end(w->enc);
		if (rc)
			return rc;
		w->state = W_SYNC;
	}
	if (w->state != W_SYNC)
		return EAS_E_STATE;
	rc = eas_wbxml_encoder_end(w->enc);
	if (rc == 0)
		w->state = W_DONE;
	return rc;
}

int eas_sync_response_encode_status(eas_wbxml_encoder *enc, uint32_t status, int has_limit, uint32_t limit)
{
	if (!enc)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_SYNC);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_STATUS, status);
	if (rc == 0 && has_limit)
		rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_LIMIT, limit);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ---- response: streaming parser (client side) ----------------------------------------- */

#define MAX_DEPTH 64

enum role {
	R_NONE,
	R_SYNC,
	R_COLLECTIONS,
	R_COLLECTION,
	R_COMMANDS,
	R_RESPONSES,
	R_ITEM,
	R_FIELD,   /* a short text value: SyncKey, ServerId, Status... */
	R_APPDATA, /* ApplicationData itself */
	R_COPY,    /* inside ApplicationData: re-encoded into the item's document */
	R_SKIP     /* ignored, with everything inside */
};

/* How the current value inside ApplicationData is being handled. */
enum { V_NONE, V_STRBUF, V_OPAQUE, V_STREAM };

typedef struct field {
	int present;
	size_t len;
	eas_tag tag;
	char text[EAS_SYNC_MAX_ID + 1];
} field;

struct eas_sync_parser {
	eas_mem mem;
	eas_sync_parser_callbacks cb;
	eas_sync_parser_options opt;
	void *user_data;
	eas_wbxml_decoder *dec;

	unsigned depth;
	uint8_t role[MAX_DEPTH];
	eas_tag tags[MAX_DEPTH];
	uint8_t streamed_el[MAX_DEPTH]; /* the element's value went to big_value */
	field *cur_field;

	/* top level */
	field t_status, t_limit;
	eas_sync_summary summary;

	/* collection */
	field c_class, c_key, c_id, c_status;
	int c_more, c_begun, pending_end;
	eas_sync_collection coll;

	/* item */
	int in_responses;
	eas_sync_op op;
	field i_server, i_client, i_class, i_status, i_instance;
	int i_send, i_has_data;
	unsigned i_streamed;
	eas_sync_item item; /* the view passed to callbacks */

	/* the item's ApplicationData, re-encoded */
	int want_data;
	eas_wbxml_encoder *fenc;
	eas_buf frag;
	int frag_ready;
	int pending;          /* a start tag not yet written: its content decides start vs. empty */
	eas_tag pending_tag;
	int vmode;
	uint64_t voffset;
	eas_buf scratch;      /* a string value being gathered (at most threshold + one piece) */

	int result;
	uint64_t err_offset;
	char message[200];
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int pfail(eas_sync_parser *p, int code, const char *fmt, ...)
{
	if (p->result)
		return p->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->message, sizeof p->message, fmt, ap);
	va_end(ap);
	p->result = code;
	p->err_offset = eas_wbxml_decoder_offset(p->dec);
	return code;
}

/* Maps an application callback's return value. */
static int app_rc(eas_sync_parser *p, int rc, const char *what)
{
	if (rc == 0 || rc == EAS_E_PAUSED)
		return rc;
	return pfail(p, EAS_E_CALLBACK, "%s callback returned %d (%s)", what, rc, eas_strerror(rc));
}

static void field_reset(field *f, eas_tag tag)
{
	f->present = 0;
	f->len = 0;
	f->text[0] = '\0';
	f->tag = tag;
}

static const char *field_text(const field *f)
{
	return f->present ? f->text : NULL;
}

static int field_append(eas_sync_parser *p, field *f, const uint8_t *bytes, size_t len)
{
	if (len > EAS_SYNC_MAX_ID - f->len) {
		char name[64];
		return pfail(p, EAS_E_LIMIT, "%s longer than %d bytes", tag_label(f->tag, name, sizeof name),
			     EAS_SYNC_MAX_ID);
	}
	memcpy(f->text + f->len, bytes, len);
	f->len += len;
	f->text[f->len] = '\0';
	return 0;
}

/* A field's decimal value; MALFORMED naming it when it is not one. */
static int field_uint(eas_sync_parser *p, const field *f, const char *where, uint32_t *out)
{
	if (parse_u32(f->text, f->len, out) == 0 && memchr(f->text, 0, f->len) == NULL)
		return 0;
	char name[64];
	return pfail(p, EAS_E_MALFORMED, "%s%s is not a number: '%.40s'", where, tag_label(f->tag, name, sizeof name),
		     f->text);
}

static void collection_reset(eas_sync_parser *p)
{
	field_reset(&p->c_class, EAS_TAG_AIRSYNC_CLASS);
	field_reset(&p->c_key, EAS_TAG_AIRSYNC_SYNC_KEY);
	field_reset(&p->c_id, EAS_TAG_AIRSYNC_COLLECTION_ID);
	field_reset(&p->c_status, EAS_TAG_AIRSYNC_STATUS);
	p->c_more = p->c_begun = 0;
	memset(&p->coll, 0, sizeof p->coll);
}

static void item_view(eas_sync_parser *p)
{
	eas_sync_item *it = &p->item;
	memset(it, 0, sizeof *it);
	it->op = p->op;
	it->server_id = field_text(&p->i_server);
	it->client_id = field_text(&p->i_client);
	it->class_name = field_text(&p->i_class);
	it->instance_id = field_text(&p->i_instance);
	it->send = p->i_send;
	it->has_data = p->i_has_data;
	it->streamed = p->i_streamed;
}

static void item_reset(eas_sync_parser *p, eas_sync_op op)
{
	p->op = op;
	field_reset(&p->i_server, EAS_TAG_AIRSYNC_SERVER_ID);
	field_reset(&p->i_client, EAS_TAG_AIRSYNC_CLIENT_ID);
	field_reset(&p->i_class, EAS_TAG_AIRSYNC_CLASS);
	field_reset(&p->i_status, EAS_TAG_AIRSYNC_STATUS);
	field_reset(&p->i_instance, EAS_TAG_AIRSYNCBASE_INSTANCE_ID);
	p->i_send = p->i_has_data = 0;
	p->i_streamed = 0;
	p->frag_ready = 0;
	p->pending = 0;
	p->vmode = V_NONE;
	eas_buf_reset(&p->frag);
	eas_buf_reset(&p->scratch);
}

static const char *coll_label(const eas_sync_parser *p)
{
	return p->c_id.present ? p->c_id.text : "(no CollectionId)";
}

/* Reports the collection's header once: Class, SyncKey, CollectionId, Status. */
static int fire_begin(eas_sync_parser *p)
{
	if (p->c_begun)
		return 0;
	p->c_begun = 1;
	if (!p->c_id.present)
		return pfail(p, EAS_E_MALFORMED, "Collection without CollectionId");
	if (!p->c_status.present)
		return pfail(p, EAS_E_MALFORMED, "collection %s: missing Status", coll_label(p));
	int rc = field_uint(p, &p->c_status, "collection: ", &p->coll.status);
	if (rc)
		return rc;
	if (p->coll.status == EAS_SYNC_STATUS_OK && !p->c_key.present)
		return pfail(p, EAS_E_MALFORMED, "collection %s: missing SyncKey", coll_label(p));
	if (p->c_class.present && !eas_sync_class_known(p->c_class.text))
		return pfail(p, EAS_E_MALFORMED, "collection %s: unknown Class '%s'", coll_label(p), p->c_class.text);
	p->coll.class_name = field_text(&p->c_class);
	p->coll.sync_key = field_text(&p->c_key);
	p->coll.collection_id = p->c_id.text;
	if (!p->cb.collection_begin)
		return 0;
	return app_rc(p, p->cb.collection_begin(&p->coll, p->user_data), "collection_begin");
}

static int fire_end(eas_sync_parser *p)
{
	p->coll.more_available = p->c_more;
	p->summary.collections++;
	int rc = 0;
	if (p->cb.collection_end)
		rc = app_rc(p, p->cb.collection_end(&p->coll, p->user_data), "collection_end");
	return rc;
}

/* ---- the item's ApplicationData document ---- */

static int frag_fail(eas_sync_parser *p, int rc)
{
	if (p->frag.result == EAS_E_LIMIT)
		return pfail(p, EAS_E_LIMIT, "collection %s: %s %s: ApplicationData larger than %zu bytes (max_item)",
			     coll_label(p), eas_sync_op_name(p->op),
			     p->i_server.present ? p->i_server.text : (p->i_client.present ? p->i_client.text : "?"),
			     p->opt.max_item);
	if (p->frag.result == EAS_E_NOMEM || rc == EAS_E_NOMEM)
		return pfail(p, EAS_E_NOMEM, "out of memory");
	return pfail(p, rc, "re-encoding ApplicationData: %s", eas_strerror(rc));
}

static int frag_call(eas_sync_parser *p, int rc)
{
	return rc ? frag_fail(p, rc) : 0;
}

static int flush_pending(eas_sync_parser *p)
{
	if (!p->pending)
		return 0;
	p->pending = 0;
	return p->fenc ? frag_call(p, eas_wbxml_encoder_start(p->fenc, p->pending_tag)) : 0;
}

static int deliver_big(eas_sync_parser *p, eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
		       uint64_t total)
{
	eas_sync_value v;
	memset(&v, 0, sizeof v);
	v.tag = p->tags[p->depth - 1];
	v.parent = p->depth >= 2 ? p->tags[p->depth - 2] : EAS_TAG_NONE;
	v.kind = kind;
	v.total = total;
	v.offset = p->voffset;
	v.collection = &p->coll;
	item_view(p);
	v.item = &p->item;
	v.in_responses = p->in_responses;
	p->voffset += len;
	return app_rc(p, p->cb.big_value(&v, bytes, len, final, p->user_data), "big_value");
}

static int start_streaming(eas_sync_parser *p)
{
	p->vmode = V_STREAM;
	p->voffset = 0;
	p->i_streamed++;
	p->streamed_el[p->depth - 1] = 1;
	return 0;
}

static int appdata_data(eas_sync_parser *p, eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
			uint64_t total)
{
	int rc;
	size_t threshold = p->opt.big_value_threshold;
	switch (p->vmode) {
	case V_STREAM:
		if (final)
			p->vmode = V_NONE;
		return deliver_big(p, kind, bytes, len, final, total);
	case V_OPAQUE:
		if (final)
			p->vmode = V_NONE;
		return p->fenc && len ? frag_call(p, eas_wbxml_encoder_opaque_write(p->fenc, bytes, len)) : 0;
	default:
		break;
	}
	if (kind == EAS_WBXML_OPAQUE) {
		if (p->cb.big_value && total > threshold) {
			start_streaming(p);
			if (final)
				p->vmode = V_NONE;
			return deliver_big(p, kind, bytes, len, final, total);
		}
		rc = flush_pending(p);
		if (rc == 0 && p->fenc) {
			rc = frag_call(p, eas_wbxml_encoder_opaque_begin(p->fenc, total));
			if (rc == 0 && len)
				rc = frag_call(p, eas_wbxml_encoder_opaque_write(p->fenc, bytes, len));
		}
		if (rc == 0 && !final)
			p->vmode = V_OPAQUE;
		return rc;
	}
	/* A string: gathered until it ends or proves big. */
	if (!p->fenc && !p->cb.big_value)
		return 0;
	if (eas_buf_append(&p->scratch, bytes, len) != 0) {
		if (p->scratch.result == EAS_E_LIMIT)
			return pfail(p, EAS_E_LIMIT, "collection %s: a value larger than %zu bytes (max_item)",
				     coll_label(p), p->opt.max_item);
		return pfail(p, EAS_E_NOMEM, "out of memory");
	}
	if (p->cb.big_value && p->scratch.len > threshold) {
		start_streaming(p);
		if (final)
			p->vmode = V_NONE;
		rc = deliver_big(p, kind, p->scratch.data, p->scratch.len, final, 0);
		eas_buf_reset(&p->scratch);
		return rc;
	}
	if (!final) {
		p->vmode = V_STRBUF;
		return 0;
	}
	p->vmode = V_NONE;
	rc = flush_pending(p);
	if (rc == 0 && p->fenc)
		rc = frag_call(p, eas_wbxml_encoder_string(p->fenc, (const char *)p->scratch.data, p->scratch.len));
	eas_buf_reset(&p->scratch);
	return rc;
}

static int appdata_open(eas_sync_parser *p, int has_content)
{
	p->i_has_data = 1;
	if (!p->want_data)
		return 0;
	eas_buf_reset(&p->frag);
	int rc = eas_wbxml_encoder_new(&p->fenc, eas_buf_sink, &p->frag, EAS_PROTO_ALL, &p->mem);
	if (rc)
		return pfail(p, rc, "out of memory");
	return frag_call(p, has_content ? eas_wbxml_encoder_start(p->fenc, EAS_TAG_AIRSYNC_APPLICATION_DATA)
					: eas_wbxml_encoder_empty(p->fenc, EAS_TAG_AIRSYNC_APPLICATION_DATA));
}

static int appdata_close(eas_sync_parser *p, int has_content)
{
	if (!p->fenc)
		return 0;
	int rc = has_content ? frag_call(p, eas_wbxml_encoder_end(p->fenc)) : 0;
	if (rc == 0)
		rc = frag_call(p, eas_wbxml_encoder_finish(p->fenc));
	eas_wbxml_encoder_free(p->fenc);
	p->fenc = NULL;
	if (rc == 0)
		p->frag_ready = 1;
	return rc;
}

/* ---- items ---- */

static int item_close(eas_sync_parser *p)
{
	item_view(p);
	eas_sync_item *it = &p->item;
	const char *op = eas_sync_op_name(p->op);
	const char *where = p->in_responses ? "Responses" : "Commands";
	if (p->i_status.present) {
		int rc = field_uint(p, &p->i_status, "item: ", &it->status);
		if (rc)
			return rc;
		it->has_status = 1;
	}
	if (it->class_name && !eas_sync_class_known(it->class_name))
		return pfail(p, EAS_E_MALFORMED, "collection %s: %s %s: unknown Class '%s'", coll_label(p), where, op,
			     it->class_name);
	if (p->in_responses) {
		if (!it->has_status)
			return pfail(p, EAS_E_MALFORMED, "collection %s: %s %s without Status", coll_label(p), where, op);
		if (p->op == EAS_SYNC_OP_ADD && !it->client_id)
			return pfail(p, EAS_E_MALFORMED, "collection %s: %s Add without ClientId", coll_label(p), where);
	} else {
		if (!it->server_id)
			return pfail(p, EAS_E_MALFORMED, "collection %s: %s %s without ServerId", coll_label(p), where, op);
		if (p->op == EAS_SYNC_OP_ADD && !it->has_data)
			return pfail(p, EAS_E_MALFORMED, "collection %s: %s Add %s without ApplicationData", coll_label(p),
				     where, it->server_id);
	}
	if (p->frag_ready) {
		it->data = p->frag.data;
		it->data_len = p->frag.len;
	}
	int rc = 0;
	if (p->in_responses) {
		p->coll.responses++;
		p->summary.responses++;
		if (p->cb.response)
			rc = app_rc(p, p->cb.response(&p->coll, it, p->user_data), "response");
	} else {
		p->coll.commands++;
		p->summary.commands++;
		if (p->cb.command)
			rc = app_rc(p, p->cb.command(&p->coll, it, p->user_data), "command");
	}
	return rc;
}

/* ---- decoder callbacks ---- */

static int role_of(eas_sync_parser *p, unsigned parent, eas_tag tag, field **f)
{
	*f = NULL;
	switch (parent) {
	case R_NONE:
		return tag == EAS_TAG_AIRSYNC_SYNC ? R_SYNC : R_NONE;
	case R_SYNC:
		if (tag == EAS_TAG_AIRSYNC_STATUS)
			*f = &p->t_status;
		else if (tag == EAS_TAG_AIRSYNC_LIMIT)
			*f = &p->t_limit;
		else if (tag == EAS_TAG_AIRSYNC_COLLECTIONS)
			return R_COLLECTIONS;
		return *f ? R_FIELD : R_SKIP;
	case R_COLLECTIONS:
		return tag == EAS_TAG_AIRSYNC_COLLECTION ? R_COLLECTION : R_SKIP;
	case R_COLLECTION:
		switch (tag) {
		case EAS_TAG_AIRSYNC_CLASS: *f = &p->c_class; return R_FIELD;
		case EAS_TAG_AIRSYNC_SYNC_KEY: *f = &p->c_key; return R_FIELD;
		case EAS_TAG_AIRSYNC_COLLECTION_ID: *f = &p->c_id; return R_FIELD;
		case EAS_TAG_AIRSYNC_STATUS: *f = &p->c_status; return R_FIELD;
		case EAS_TAG_AIRSYNC_COMMANDS: return R_COMMANDS;
		case EAS_TAG_AIRSYNC_RESPONSES: return R_RESPONSES;
		default: return R_SKIP; /* MoreAvailable is noted by the caller */
		}
	case R_COMMANDS:
	case R_RESPONSES: {
		eas_sync_op op;
		return op_of_tag(tag, &op) ? R_ITEM : R_SKIP;
	}
	case R_ITEM:
		switch (tag) {
		case EAS_TAG_AIRSYNC_SERVER_ID: *f = &p->i_server; return R_FIELD;
		case EAS_TAG_AIRSYNC_CLIENT_ID: *f = &p->i_client; return R_FIELD;
		case EAS_TAG_AIRSYNC_CLASS: *f = &p->i_class; return R_FIELD;
		case EAS_TAG_AIRSYNC_STATUS: *f = &p->i_status; return R_FIELD;
		case EAS_TAG_AIRSYNCBASE_INSTANCE_ID: *f = &p->i_instance; return R_FIELD;
		case EAS_TAG_AIRSYNC_APPLICATION_DATA: return R_APPDATA;
		default: return R_SKIP; /* email2:Send is noted by the caller */
		}
	case R_APPDATA:
	case R_COPY:
		return R_COPY;
	default:
		return R_SKIP;
	}
}

/* What an element does when it opens; has_content = 0 closes it at once. */
static int element_open(eas_sync_parser *p, unsigned parent, unsigned role, eas_tag tag, field *f, int has_content)
{
	switch (role) {
	case R_FIELD:
		field_reset(f, tag);
		f->present = 1;
		p->cur_field = f;
		return 0;
	case R_COLLECTION:
		collection_reset(p);
		return 0;
	case R_COMMANDS:
	case R_RESPONSES:
		return fire_begin(p);
	case R_ITEM: {
		eas_sync_op op = EAS_SYNC_OP_ADD;
		op_of_tag(tag, &op);
		item_reset(p, op);
		p->in_responses = parent == R_RESPONSES;
		return 0;
	}
	case R_APPDATA:
		return appdata_open(p, has_content);
	case R_COPY: {
		int rc = flush_pending(p);
		if (rc || !p->fenc)
			return rc;
		if (has_content) {
			p->pending = 1;
			p->pending_tag = tag;
			return 0;
		}
		return frag_call(p, eas_wbxml_encoder_empty(p->fenc, tag));
	}
	case R_SKIP:
		if (parent == R_COLLECTION && tag == EAS_TAG_AIRSYNC_MORE_AVAILABLE)
			p->c_more = 1;
		else if (parent == R_ITEM && tag == EAS_TAG_EMAIL2_SEND)
			p->i_send = 1;
		return 0;
	default:
		return 0;
	}
}

static int element_close(eas_sync_parser *p, unsigned role, eas_tag tag, int has_content, int streamed)
{
	switch (role) {
	case R_FIELD: {
		field *f = p->cur_field;
		p->cur_field = NULL;
		if (f == &p->t_status) {
			p->summary.has_status = 1;
			return field_uint(p, f, "Sync: ", &p->summary.status);
		}
		if (f == &p->t_limit) {
			p->summary.has_limit = 1;
			return field_uint(p, f, "Sync: ", &p->summary.limit);
		}
		return 0;
	}
	case R_COLLECTION: {
		int rc = fire_begin(p);
		if (rc == EAS_E_PAUSED) {
			p->pending_end = 1; /* delivered on the next feed or finish */
			return rc;
		}
		return rc ? rc : fire_end(p);
	}
	case R_ITEM:
		return item_close(p);
	case R_APPDATA:
		return appdata_close(p, has_content);
	case R_COPY:
		if (!p->fenc || !has_content)
			return 0;
		if (p->pending) {
			p->pending = 0;
			if (streamed)
				return frag_call(p, eas_wbxml_encoder_empty(p->fenc, tag));
			int rc = frag_call(p, eas_wbxml_encoder_start(p->fenc, tag));
			return rc ? rc : frag_call(p, eas_wbxml_encoder_end(p->fenc));
		}
		return frag_call(p, eas_wbxml_encoder_end(p->fenc));
	default:
		return 0;
	}
}

static int on_start(eas_tag tag, int has_content, void *ud)
{
	eas_sync_parser *p = ud;
	unsigned parent = p->depth ? p->role[p->depth - 1] : R_NONE;
	field *f;
	unsigned role = role_of(p, parent, tag, &f);
	if (role == R_NONE) {
		char got[64];
		return pfail(p, EAS_E_MALFORMED, "root element is %s, expected AirSync:Sync",
			     tag_label(tag, got, sizeof got));
	}
	if (has_content) {
		if (p->depth == MAX_DEPTH)
			return pfail(p, EAS_E_LIMIT, "elements nested deeper than %d", MAX_DEPTH);
		p->role[p->depth] = (uint8_t)role;
		p->tags[p->depth] = tag;
		p->streamed_el[p->depth] = 0;
		p->depth++;
	}
	int rc = element_open(p, parent, role, tag, f, has_content);
	if (has_content || (rc && rc != EAS_E_PAUSED))
		return rc;
	int rc2 = element_close(p, role, tag, 0, 0);
	return rc2 ? rc2 : rc;
}

static int on_end(eas_tag tag, void *ud)
{
	eas_sync_parser *p = ud;
	if (p->depth == 0)
		return pfail(p, EAS_E_MALFORMED, "unbalanced end tag");
	p->depth--;
	return element_close(p, p->role[p->depth], tag, 1, p->streamed_el[p->depth]);
}

static int on_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final, uint64_t total, void *ud)
{
	eas_sync_parser *p = ud;
	if (p->depth == 0)
		return 0;
	switch (p->role[p->depth - 1]) {
	case R_FIELD:
		return p->cur_field ? field_append(p, p->cur_field, bytes, len) : 0;
	case R_APPDATA:
	case R_COPY:
		return appdata_data(p, kind, bytes, len, final, total);
	default:
		return 0;
	}
}

/* ---- public functions ---- */

static void parser_clear(eas_sync_parser *p)
{
	if (p->fenc) {
		eas_wbxml_encoder_free(p->fenc);
		p->fenc = NULL;
	}
	p->depth = 0;
	p->cur_field = NULL;
	field_reset(&p->t_status, EAS_TAG_AIRSYNC_STATUS);
	field_reset(&p->t_limit, EAS_TAG_AIRSYNC_LIMIT);
	memset(&p->summary, 0, sizeof p->summary);
	collection_reset(p);
	p->pending_end = 0;
	item_reset(p, EAS_SYNC_OP_ADD);
	p->in_responses = 0;
	p->result = 0;
	p->err_offset = 0;
	p->message[0] = '\0';
}

int eas_sync_parser_new(eas_sync_parser **out, const eas_sync_parser_callbacks *callbacks,
			const eas_sync_parser_options *options, const eas_mem *mem, void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (callbacks && callbacks->version != EAS_SYNC_PARSER_CALLBACKS_VERSION)
		return EAS_E_INVALID;
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	if (options) {
		if (options->version != EAS_SYNC_PARSER_OPTIONS_VERSION)
			return EAS_E_INVALID;
		if (options->max_item)
			opt.max_item = options->max_item;
		if (options->big_value_threshold)
			opt.big_value_threshold = options->big_value_threshold;
		if (options->max_value)
			opt.max_value = options->max_value;
		opt.max_total = options->max_total;
		if (options->max_depth)
			opt.max_depth = options->max_depth;
	}
	if (opt.max_depth > MAX_DEPTH)
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, mem);
	eas_sync_parser *p = eas__calloc(&m, 1, sizeof *p);
	if (!p)
		return EAS_E_NOMEM;
	p->mem = m;
	if (callbacks)
		p->cb = *callbacks;
	p->opt = opt;
	p->user_data = user_data;
	p->want_data = p->cb.command || p->cb.response;
	eas_buf_init(&p->frag, &m, opt.max_item);
	/* A string is gathered up to the threshold plus one piece when it may stream, else up to max_item. */
	eas_buf_init(&p->scratch, &m, p->cb.big_value ? opt.big_value_threshold + 4096 : opt.max_item);
	eas_wbxml_callbacks cb = { EAS_WBXML_CALLBACKS_VERSION, on_start, on_end, on_data };
	eas_wbxml_decoder_options dopt = EAS_WBXML_DECODER_OPTIONS_INIT;
	dopt.max_depth = opt.max_depth;
	dopt.max_string = opt.max_value;
	dopt.max_opaque = opt.max_value;
	dopt.max_total = opt.max_total;
	dopt.piece_size = 4096;
	int rc = eas_wbxml_decoder_new(&p->dec, &cb, &dopt, &m, p);
	if (rc) {
		eas__free(&m, p);
		return rc;
	}
	parser_clear(p);
	*out = p;
	return 0;
}

void eas_sync_parser_free(eas_sync_parser *p)
{
	if (!p)
		return;
	if (p->fenc)
		eas_wbxml_encoder_free(p->fenc);
	eas_buf_free(&p->frag);
	eas_buf_free(&p->scratch);
	eas_wbxml_decoder_free(p->dec);
	eas__free(&p->mem, p);
}

void eas_sync_parser_reset(eas_sync_parser *p)
{
	if (!p)
		return;
	eas_wbxml_decoder_reset(p->dec);
	parser_clear(p);
}

/* Maps the decoder's return value, preferring our own failure's code and message. */
static int decoder_rc(eas_sync_parser *p, int rc)
{
	if (rc == 0 || rc == EAS_E_PAUSED)
		return rc;
	if (p->result) {
		uint64_t at;
		if (eas_wbxml_decoder_error(p->dec, &at))
			p->err_offset = at;
		return p->result;
	}
	uint64_t at = 0;
	const char *msg = eas_wbxml_decoder_error(p->dec, &at);
	pfail(p, rc, "%s", msg ? msg : eas_strerror(rc));
	p->err_offset = at;
	return rc;
}

static int run_pending(eas_sync_parser *p)
{
	if (!p->pending_end)
		return 0;
	p->pending_end = 0;
	return fire_end(p);
}

int eas_sync_parser_feed(eas_sync_parser *p, const uint8_t *data, size_t len, size_t *consumed)
{
	if (consumed)
		*consumed = 0;
	if (!p || (!data && len))
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	int rc = run_pending(p);
	if (rc)
		return rc;
	return decoder_rc(p, eas_wbxml_decoder_feed(p->dec, data, len, consumed));
}

int eas_sync_parser_finish(eas_sync_parser *p)
{
	if (!p)
		return EAS_E_INVALID;
	if (p->result)
		return p->result;
	int rc = run_pending(p);
	if (rc)
		return rc;
	if (eas_wbxml_decoder_offset(p->dec) == 0) {
		p->summary.empty = 1; /* HTTP 200 without a body */
		return 0;
	}
	return decoder_rc(p, eas_wbxml_decoder_finish(p->dec));
}

const eas_sync_summary *eas_sync_parser_summary(const eas_sync_parser *p)
{
	return p ? &p->summary : NULL;
}

const char *eas_sync_parser_error(const eas_sync_parser *p, uint64_t *offset)
{
	if (!p || !p->result)
		return NULL;
	if (offset)
		*offset = p->err_offset;
	return p->message;
}
