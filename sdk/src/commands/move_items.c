/* MoveItems request and response, both directions (MS-ASCMD 2.2.1.12). */
#include "move_items.h"

#include <string.h>

#include "cmd_fields.h"
#include "codec_util.h"

static int id_ok(const char *id)
{
	return id && id[0] && strlen(id) <= EAS_MOVE_ITEMS_MAX_ID;
}

int eas_move_items_request_encode(eas_wbxml_encoder *enc, const eas_move_items_request *req)
{
	if (!enc || !req || req->move_count == 0 || !req->move_list)
		return EAS_E_INVALID;
	for (size_t i = 0; i < req->move_count; i++) {
		const eas_move_item *m = &req->move_list[i];
		if (!id_ok(m->src_msg_id) || !id_ok(m->src_fld_id) || !id_ok(m->dst_fld_id))
			return EAS_E_INVALID;
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_MOVE_MOVE_ITEMS);
	for (size_t i = 0; rc == 0 && i < req->move_count; i++) {
		const eas_move_item *m = &req->move_list[i];
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_MOVE_MOVE);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_MOVE_SRC_MSG_ID, m->src_msg_id);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_MOVE_SRC_FLD_ID, m->src_fld_id);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_MOVE_DST_FLD_ID, m->dst_fld_id);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_move_items_request_decode(eas_move_items_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_MOVE_MOVE_ITEMS, err, err_size);
	if (rc)
		return rc;
	out->root = root;
	out->move_count = eas_node_count(root, EAS_TAG_MOVE_MOVE);
	if (out->move_count == 0)
		return eas__cmd_malformed(err, err_size, "Move:MoveItems holds no Move:Move");
	return 0;
}

/* The next child of parent with this tag after *cursor (or the first). */
static const eas_node *next_of(const eas_node *parent, const eas_node **cursor, eas_tag tag)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor) : eas_node_child(parent, tag);
	*cursor = n;
	return n;
}

int eas_move_items_next_move(const eas_move_items_request *req, const eas_node **cursor, eas_move_item *out,
			     char *err, size_t err_size)
{
	const eas_node *n = next_of(req->root, cursor, EAS_TAG_MOVE_MOVE);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_text_max(&out->src_msg_id, n, EAS_TAG_MOVE_SRC_MSG_ID, EAS_MOVE_ITEMS_MAX_ID, 1, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text_max(&out->src_fld_id, n, EAS_TAG_MOVE_SRC_FLD_ID, EAS_MOVE_ITEMS_MAX_ID, 1, err,
				       err_size);
	if (rc == 0)
		rc = eas__cmd_text_max(&out->dst_fld_id, n, EAS_TAG_MOVE_DST_FLD_ID, EAS_MOVE_ITEMS_MAX_ID, 1, err,
				       err_size);
	return rc ? rc : 1;
}

int eas_move_items_response_encode(eas_wbxml_encoder *enc, const eas_move_items_response *resp)
{
	if (!enc || !resp || (resp->result_count && !resp->result_list))
		return EAS_E_INVALID;
	for (size_t i = 0; i < resp->result_count; i++) {
		const eas_move_result *r = &resp->result_list[i];
		if (!id_ok(r->src_msg_id) || r->status == 0 || (r->dst_msg_id && !id_ok(r->dst_msg_id)))
			return EAS_E_INVALID;
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_MOVE_MOVE_ITEMS);
	if (rc == 0)
		rc = eas__cmd_put_opt_uint(enc, EAS_TAG_MOVE_STATUS, resp->status != 0, resp->status);
	for (size_t i = 0; rc == 0 && i < resp->result_count; i++) {
		const eas_move_result *r = &resp->result_list[i];
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_MOVE_RESPONSE);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_MOVE_SRC_MSG_ID, r->src_msg_id);
		if (rc == 0)
			rc = eas__cmd_put_uint(enc, EAS_TAG_MOVE_STATUS, r->status);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_MOVE_DST_MSG_ID, r->dst_msg_id);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_move_items_response_decode(eas_move_items_response *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_MOVE_MOVE_ITEMS, err, err_size);
	if (rc)
		return rc;
	out->root = root;
	out->result_count = eas_node_count(root, EAS_TAG_MOVE_RESPONSE);
	return eas__cmd_opt_uint(&out->status, root, EAS_TAG_MOVE_STATUS, err, err_size);
}

int eas_move_items_next_result(const eas_move_items_response *resp, const eas_node **cursor, eas_move_result *out,
			       char *err, size_t err_size)
{
	const eas_node *n = next_of(resp->root, cursor, EAS_TAG_MOVE_RESPONSE);
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_text_max(&out->src_msg_id, n, EAS_TAG_MOVE_SRC_MSG_ID, EAS_MOVE_ITEMS_MAX_ID, 1, err,
				   err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, n, EAS_TAG_MOVE_STATUS, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&out->dst_msg_id, n, EAS_TAG_MOVE_DST_MSG_ID, EAS_MOVE_ITEMS_MAX_ID, err,
					   err_size);
	return rc ? rc : 1;
}
