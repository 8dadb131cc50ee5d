/* GetItemEstimate request and response, both directions (MS-ASCMD 2.2.1.9). */
#include "get_item_estimate.h"

#include <string.h>

#include "cmd_fields.h"
#include "codec_util.h"

#define LEGACY_VERSIONS EAS_PROTO_UPTO(EAS_PROTO_12_1)

static int one_version(unsigned v)
{
	return v && (v & EAS_PROTO_ALL) == v && (v & (v - 1)) == 0;
}

static int collection_ok(const eas_item_estimate_collection *c, int legacy)
{
	if (!c->sync_key || !c->collection_id || !c->collection_id[0] ||
	    strlen(c->collection_id) > EAS_ITEM_ESTIMATE_MAX_ID || c->option_count > EAS_ITEM_ESTIMATE_MAX_OPTIONS)
		return 0;
	if (legacy)
		return c->option_count <= 1 && !c->has_conversation_mode &&
		       (c->option_count == 0 || !c->options[0].has_max_items);
	for (size_t i = 0; i < c->option_count; i++) {
		const eas_item_estimate_options *o = &c->options[i];
		if (!o->class_name && !o->has_filter_type && !o->has_max_items)
			return 0; /* an Options element needs at least one child */
	}
	return 1;
}

static int encode_options(eas_wbxml_encoder *enc, const eas_item_estimate_options *o)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_OPTIONS);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_AIRSYNC_CLASS, o->class_name);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_AIRSYNC_FILTER_TYPE, o->has_filter_type, o->filter_type);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_AIRSYNC_MAX_ITEMS, o->has_max_items, o->max_items);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int encode_collection(eas_wbxml_encoder *enc, const eas_item_estimate_collection *c, int legacy)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_COLLECTION);
	if (legacy) {
		const eas_item_estimate_options *o = c->option_count ? &c->options[0] : NULL;
		if (rc == 0 && o)
			rc = eas__cmd_put_opt(enc, EAS_TAG_GETITEMESTIMATE_CLASS, o->class_name);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_GETITEMESTIMATE_COLLECTION_ID, c->collection_id);
		if (rc == 0) /* required in this form; 0 = no filter */
			rc = eas__cmd_put_uint(enc, EAS_TAG_AIRSYNC_FILTER_TYPE,
					       o && o->has_filter_type ? o->filter_type : 0);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_SYNC_KEY, c->sync_key);
	} else {
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_SYNC_KEY, c->sync_key);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_GETITEMESTIMATE_COLLECTION_ID, c->collection_id);
		if (rc == 0 && c->has_conversation_mode)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNC_CONVERSATION_MODE,
						       c->conversation_mode ? "1" : "0");
		for (size_t i = 0; rc == 0 && i < c->option_count; i++)
			rc = encode_options(enc, &c->options[i]);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_get_item_estimate_request_encode(eas_wbxml_encoder *enc, const eas_item_estimate_request *req)
{
	if (!enc || !req || !one_version(req->protocol_version) || req->collection_count == 0 ||
	    req->collection_count > EAS_ITEM_ESTIMATE_MAX_COLLECTIONS || !req->collection_list)
		return EAS_E_INVALID;
	int legacy = (req->protocol_version & LEGACY_VERSIONS) != 0;
	for (size_t i = 0; i < req->collection_count; i++)
		if (!collection_ok(&req->collection_list[i], legacy))
			return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_COLLECTIONS);
	for (size_t i = 0; rc == 0 && i < req->collection_count; i++)
		rc = encode_collection(enc, &req->collection_list[i], legacy);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_get_item_estimate_request_decode(eas_item_estimate_request *out, const eas_node *root,
					 char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_GETITEMESTIMATE_GET_ITEM_ESTIMATE, err, err_size);
	if (rc)
		return rc;
	out->collections = eas_node_child(root, EAS_TAG_GETITEMESTIMATE_COLLECTIONS);
	if (!out->collections)
		return eas__cmd_malformed(err, err_size, "missing GetItemEstimate:Collections");
	out->collection_count = eas_node_count(out->collections, EAS_TAG_GETITEMESTIMATE_COLLECTION);
	if (out->collection_count == 0)
		return eas__cmd_malformed(err, err_size, "GetItemEstimate:Collections holds no GetItemEstimate:Collection");
	if (out->collection_count > EAS_ITEM_ESTIMATE_MAX_COLLECTIONS)
		return eas__cmd_malformed(err, err_size, "GetItemEstimate:Collections holds %zu Collection elements, "
					  "more than %d", out->collection_count, EAS_ITEM_ESTIMATE_MAX_COLLECTIONS);
	return 0;
}

static const eas_node *next_of(const eas_node *parent, const eas_node **cursor, eas_tag tag)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor) : eas_node_child(parent, tag);
	*cursor = n;
	return n;
}

static int decode_options(eas_item_estimate_options *o, const eas_node *n, char *err, size_t err_size)
{
	if (!n->first)
		return eas__cmd_malformed(err, err_size, "AirSync:Options is empty (it needs Class, FilterType or MaxItems)");
	int rc = eas__cmd_opt_text_max(&o->class_name, n, EAS_TAG_AIRSYNC_CLASS, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_uint_has(&o->filter_type, &o->has_filter_type, n, EAS_TAG_AIRSYNC_FILTER_TYPE, err,
					   err_size);
	if (rc == 0)
		rc = eas__cmd_opt_uint_has(&o->max_items, &o->has_max_items, n, EAS_TAG_AIRSYNC_MAX_ITEMS, err,
					   err_size);
	return rc;
}

int eas_get_item_estimate_next_collection(const eas_item_estimate_request *req, const eas_node **cursor,
					  eas_item_estimate_collection *out, char *err, size_t err_size)
{
	const eas_node *n = next_of(req->collections, cursor, EAS_TAG_GETITEMESTIMATE_COLLECTION);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_text(&out->sync_key, n, EAS_TAG_AIRSYNC_SYNC_KEY, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text_max(&out->collection_id, n, EAS_TAG_GETITEMESTIMATE_COLLECTION_ID,
				       EAS_ITEM_ESTIMATE_MAX_ID, 1, err, err_size);
	if (rc)
		return rc;
	const eas_node *old_class = eas_node_child(n, EAS_TAG_GETITEMESTIMATE_CLASS);
	const eas_node *old_filter = eas_node_child(n, EAS_TAG_AIRSYNC_FILTER_TYPE);
	size_t options = eas_node_count(n, EAS_TAG_AIRSYNC_OPTIONS);
	int conversation = eas_node_child(n, EAS_TAG_AIRSYNC_CONVERSATION_MODE) != NULL;
	if (old_class || old_filter) {
		out->legacy = 1;
		if (options || conversation)
			return eas__cmd_malformed(err, err_size, "GetItemEstimate:Collection mixes the 12.1 form "
						  "(Class, FilterType) with the 14.0 form (Options, ConversationMode)");
		if (!old_filter)
			return eas__cmd_malformed(err, err_size, "missing AirSync:FilterType (GetItemEstimate:Class "
						  "without it)");
		out->option_count = 1;
		out->options[0].class_name = old_class ? old_class->text : NULL;
		rc = eas__cmd_uint(&out->options[0].filter_type, n, EAS_TAG_AIRSYNC_FILTER_TYPE, err, err_size);
		out->options[0].has_filter_type = rc == 0;
		return rc ? rc : 1;
	}
	if (options > EAS_ITEM_ESTIMATE_MAX_OPTIONS)
		return eas__cmd_malformed(err, err_size, "GetItemEstimate:Collection holds %zu AirSync:Options, "
					  "at most %d", options, EAS_ITEM_ESTIMATE_MAX_OPTIONS);
	rc = eas__cmd_opt_bool(&out->conversation_mode, &out->has_conversation_mode, n,
			       EAS_TAG_AIRSYNC_CONVERSATION_MODE, err, err_size);
	const eas_node *o = eas_node_child(n, EAS_TAG_AIRSYNC_OPTIONS);
	for (; rc == 0 && o; o = eas_node_next_same(o))
		rc = decode_options(&out->options[out->option_count++], o, err, err_size);
	return rc ? rc : 1;
}

int eas_item_estimate_form_check(const eas_item_estimate_collection *c, unsigned version, char *err,
				 size_t err_size)
{
	int old_version = (version & LEGACY_VERSIONS) != 0;
	if (c->legacy && !old_version)
		return eas__cmd_malformed(err, err_size, "GetItemEstimate:Class and AirSync:FilterType directly in "
					  "Collection belong to protocol 12.1 and earlier; 14.0+ uses AirSync:Options");
	if (!c->legacy && old_version)
		return eas__cmd_malformed(err, err_size, "protocol 12.1 and earlier need AirSync:FilterType directly "
					  "in GetItemEstimate:Collection, not AirSync:Options");
	return 0;
}

int eas_get_item_estimate_response_encode(eas_wbxml_encoder *enc, const eas_item_estimate_response *resp)
{
	if (!enc || !resp || (resp->result_count && !resp->result_list))
		return EAS_E_INVALID;
	for (size_t i = 0; i < resp->result_count; i++) {
		const eas_item_estimate_result *r = &resp->result_list[i];
		if (r->status == 0 || (r->has_estimate && !r->collection_id) ||
		    (r->collection_id && strlen(r->collection_id) > EAS_ITEM_ESTIMATE_MAX_ID))
			return EAS_E_INVALID;
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_GET_ITEM_ESTIMATE);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_GETITEMESTIMATE_STATUS, resp->status != 0, resp->status);
	for (size_t i = 0; rc == 0 && i < resp->result_count; i++) {
		const eas_item_estimate_result *r = &resp->result_list[i];
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_RESPONSE);
		if (rc == 0)
			rc = eas__cmd_put_uint(enc, EAS_TAG_GETITEMESTIMATE_STATUS, r->status);
		if (rc == 0 && r->collection_id) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_GETITEMESTIMATE_COLLECTION);
			if (rc == 0)
				rc = eas_wbxml_encoder_element(enc, EAS_TAG_GETITEMESTIMATE_COLLECTION_ID,
							       r->collection_id);
			if (rc == 0)
				rc = eas__cmd_put_opt_uint(enc, EAS_TAG_GETITEMESTIMATE_ESTIMATE, r->has_estimate,
							   r->estimate);
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

int eas_get_item_estimate_response_decode(eas_item_estimate_response *out, const eas_node *root,
					  char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_GETITEMESTIMATE_GET_ITEM_ESTIMATE, err, err_size);
	if (rc)
		return rc;
	out->root = root;
	out->result_count = eas_node_count(root, EAS_TAG_GETITEMESTIMATE_RESPONSE);
	return eas__cmd_opt_uint(&out->status, root, EAS_TAG_GETITEMESTIMATE_STATUS, err, err_size);
}

int eas_get_item_estimate_next_result(const eas_item_estimate_response *resp, const eas_node **cursor,
				      eas_item_estimate_result *out, char *err, size_t err_size)
{
	const eas_node *n = next_of(resp->root, cursor, EAS_TAG_GETITEMESTIMATE_RESPONSE);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_uint(&out->status, n, EAS_TAG_GETITEMESTIMATE_STATUS, err, err_size);
	const eas_node *c = eas_node_child(n, EAS_TAG_GETITEMESTIMATE_COLLECTION);
	if (rc == 0 && c)
		rc = eas__cmd_text_max(&out->collection_id, c, EAS_TAG_GETITEMESTIMATE_COLLECTION_ID,
				       EAS_ITEM_ESTIMATE_MAX_ID, 1, err, err_size);
	if (rc == 0 && c)
		rc = eas__cmd_opt_uint_has(&out->estimate, &out->has_estimate, c, EAS_TAG_GETITEMESTIMATE_ESTIMATE,
					   err, err_size);
	return rc ? rc : 1;
}
