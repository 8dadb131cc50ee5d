/* FolderSync request and response, both directions (MS-ASCMD 2.2.1.5). */
#include "folder_sync.h"

#include <string.h>

#include "codec_util.h"

int eas_folder_sync_request_encode(eas_wbxml_encoder *enc, const eas_folder_sync_request *req)
{
	if (!enc || !req || !req->sync_key)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, req->sync_key);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_folder_sync_request_decode(eas_folder_sync_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	return rc;
}

static const eas_tag change_tags[] = {
	[EAS_FOLDER_CHANGE_ADD] = EAS_TAG_FOLDERHIERARCHY_ADD,
	[EAS_FOLDER_CHANGE_UPDATE] = EAS_TAG_FOLDERHIERARCHY_UPDATE,
	[EAS_FOLDER_CHANGE_DELETE] = EAS_TAG_FOLDERHIERARCHY_DELETE,
};

static int encode_change(eas_wbxml_encoder *enc, const eas_folder_change *c)
{
	if ((unsigned)c->kind > EAS_FOLDER_CHANGE_DELETE || !c->server_id)
		return EAS_E_INVALID;
	int full = c->kind != EAS_FOLDER_CHANGE_DELETE;
	if (full && (!c->parent_id || !c->display_name || c->type == 0))
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, change_tags[c->kind]);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, c->server_id);
	if (rc == 0 && full)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_PARENT_ID, c->parent_id);
	if (rc == 0 && full)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, c->display_name);
	if (rc == 0 && full)
		rc = eas__cmd_put_uint(enc, EAS_TAG_FOLDERHIERARCHY_TYPE, c->type);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_folder_sync_response_encode(eas_wbxml_encoder *enc, const eas_folder_sync_response *resp)
{
	if (!enc || !resp || (resp->change_count && !resp->change_list))
		return EAS_E_INVALID;
	int ok = resp->status == EAS_FOLDER_SYNC_OK;
	if (ok && !resp->sync_key)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_FOLDERHIERARCHY_STATUS, resp->status);
	if (rc == 0 && ok)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, resp->sync_key);
	if (rc == 0 && ok) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_FOLDERHIERARCHY_CHANGES);
		if (rc == 0)
			rc = eas__cmd_put_uint(enc, EAS_TAG_FOLDERHIERARCHY_COUNT, (uint32_t)resp->change_count);
		for (size_t i = 0; rc == 0 && i < resp->change_count; i++)
			rc = encode_change(enc, &resp->change_list[i]);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_folder_sync_response_decode(eas_folder_sync_response *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, root, EAS_TAG_FOLDERHIERARCHY_STATUS, err, err_size);
	if (rc || out->status != EAS_FOLDER_SYNC_OK)
		return rc; /* a failed status carries nothing else */
	rc = eas__cmd_text(&out->sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	out->changes = eas_node_child(root, EAS_TAG_FOLDERHIERARCHY_CHANGES);
	if (rc == 0)
		rc = eas__cmd_opt_uint(&out->count, out->changes, EAS_TAG_FOLDERHIERARCHY_COUNT, err, err_size);
	return rc;
}

int eas_folder_sync_next_change(const eas_folder_sync_response *resp, const eas_node **cursor,
				eas_folder_change *out, char *err, size_t err_size)
{
	const eas_node *n = *cursor ? (*cursor)->next : (resp->changes ? resp->changes->first : NULL);
	for (; n; n = n->next) {
		eas_folder_change_kind kind;
		if (n->tag == EAS_TAG_FOLDERHIERARCHY_ADD)
			kind = EAS_FOLDER_CHANGE_ADD;
		else if (n->tag == EAS_TAG_FOLDERHIERARCHY_UPDATE)
			kind = EAS_FOLDER_CHANGE_UPDATE;
		else if (n->tag == EAS_TAG_FOLDERHIERARCHY_DELETE)
			kind = EAS_FOLDER_CHANGE_DELETE;
		else
			continue; /* Count, or anything a newer server adds */
		*cursor = n;
		memset(out, 0, sizeof *out);
		out->kind = kind;
		int rc = eas__cmd_text(&out->server_id, n, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, err, err_size);
		if (rc == 0 && kind != EAS_FOLDER_CHANGE_DELETE) {
			rc = eas__cmd_text(&out->parent_id, n, EAS_TAG_FOLDERHIERARCHY_PARENT_ID, err, err_size);
			if (rc == 0)
				rc = eas__cmd_text(&out->display_name, n, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, err, err_size);
			if (rc == 0)
				rc = eas__cmd_uint(&out->type, n, EAS_TAG_FOLDERHIERARCHY_TYPE, err, err_size);
		}
		return rc ? rc : 1;
	}
	*cursor = NULL;
	return 0;
}
