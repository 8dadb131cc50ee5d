/* FolderCreate, FolderDelete, FolderUpdate: both directions (MS-ASCMD 2.2.1.3, 2.2.1.4, 2.2.1.6). */
#include "folder_ops.h"

#include <string.h>

#include "codec_util.h"

/* <root><SyncKey/>...</root> from a list of (tag, text) pairs; every text required. */
typedef struct text_field {
	eas_tag tag;
	const char *text;
} text_field;

static int encode_fields(eas_wbxml_encoder *enc, eas_tag root, const text_field *f, size_t n,
			 int with_type, uint32_t type)
{
	for (size_t i = 0; i < n; i++)
		if (!f[i].text)
			return EAS_E_INVALID;
	if (with_type && type == 0)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, root);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = eas_wbxml_encoder_element(enc, f[i].tag, f[i].text);
	if (rc == 0 && with_type)
		rc = eas__cmd_put_uint(enc, EAS_TAG_FOLDERHIERARCHY_TYPE, type);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* <root><Status/>[<SyncKey/>[<ServerId/>]]</root>: the extras only with status 1. */
static int encode_status(eas_wbxml_encoder *enc, eas_tag root, uint32_t status, const char *sync_key,
			 int with_server_id, const char *server_id)
{
	int ok = status == EAS_FOLDER_OP_OK;
	if (status == 0 || (ok && (!sync_key || (with_server_id && !server_id))))
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, root);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_FOLDERHIERARCHY_STATUS, status);
	if (rc == 0 && ok)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, sync_key);
	if (rc == 0 && ok && with_server_id)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, server_id);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int decode_status(uint32_t *status, const char **sync_key, const char **server_id, const eas_node *root,
			 eas_tag root_tag, char *err, size_t err_size)
{
	int rc = eas__cmd_expect_root(root, root_tag, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(status, root, EAS_TAG_FOLDERHIERARCHY_STATUS, err, err_size);
	if (rc || *status != EAS_FOLDER_OP_OK)
		return rc; /* a failed status carries nothing else */
	rc = eas__cmd_text(sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	if (rc == 0 && server_id)
		rc = eas__cmd_text(server_id, root, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, err, err_size);
	return rc;
}

/* ---- FolderCreate ---------------------------------------------------------- */

int eas_folder_create_request_encode(eas_wbxml_encoder *enc, const eas_folder_create_request *req)
{
	if (!enc || !req)
		return EAS_E_INVALID;
	const text_field f[] = {
		{ EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, req->sync_key },
		{ EAS_TAG_FOLDERHIERARCHY_PARENT_ID, req->parent_id },
		{ EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, req->display_name },
	};
	return encode_fields(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, f, 3, 1, req->type);
}

int eas_folder_create_request_decode(eas_folder_create_request *out, const eas_node *root, char *err,
				     size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->parent_id, root, EAS_TAG_FOLDERHIERARCHY_PARENT_ID, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->display_name, root, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->type, root, EAS_TAG_FOLDERHIERARCHY_TYPE, err, err_size);
	return rc;
}

int eas_folder_create_response_encode(eas_wbxml_encoder *enc, const eas_folder_create_response *resp)
{
	if (!enc || !resp)
		return EAS_E_INVALID;
	return encode_status(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, resp->status, resp->sync_key, 1,
			     resp->server_id);
}

int eas_folder_create_response_decode(eas_folder_create_response *out, const eas_node *root, char *err,
				      size_t err_size)
{
	memset(out, 0, sizeof *out);
	return decode_status(&out->status, &out->sync_key, &out->server_id, root,
			     EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, err, err_size);
}

/* ---- FolderUpdate ---------------------------------------------------------- */

int eas_folder_update_request_encode(eas_wbxml_encoder *enc, const eas_folder_update_request *req)
{
	if (!enc || !req)
		return EAS_E_INVALID;
	const text_field f[] = {
		{ EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, req->sync_key },
		{ EAS_TAG_FOLDERHIERARCHY_SERVER_ID, req->server_id },
		{ EAS_TAG_FOLDERHIERARCHY_PARENT_ID, req->parent_id },
		{ EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, req->display_name },
	};
	return encode_fields(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, f, 4, 0, 0);
}

int eas_folder_update_request_decode(eas_folder_update_request *out, const eas_node *root, char *err,
				     size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->server_id, root, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->parent_id, root, EAS_TAG_FOLDERHIERARCHY_PARENT_ID, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->display_name, root, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME, err, err_size);
	return rc;
}

int eas_folder_update_response_encode(eas_wbxml_encoder *enc, const eas_folder_update_response *resp)
{
	if (!enc || !resp)
		return EAS_E_INVALID;
	return encode_status(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, resp->status, resp->sync_key, 0, NULL);
}

int eas_folder_update_response_decode(eas_folder_update_response *out, const eas_node *root, char *err,
				      size_t err_size)
{
	memset(out, 0, sizeof *out);
	return decode_status(&out->status, &out->sync_key, NULL, root, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, err,
			     err_size);
}

/* ---- FolderDelete ---------------------------------------------------------- */

int eas_folder_delete_request_encode(eas_wbxml_encoder *enc, const eas_folder_delete_request *req)
{
	if (!enc || !req)
		return EAS_E_INVALID;
	const text_field f[] = {
		{ EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, req->sync_key },
		{ EAS_TAG_FOLDERHIERARCHY_SERVER_ID, req->server_id },
	};
	return encode_fields(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, f, 2, 0, 0);
}

int eas_folder_delete_request_decode(eas_folder_delete_request *out, const eas_node *root, char *err,
				     size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->sync_key, root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text(&out->server_id, root, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, err, err_size);
	return rc;
}

int eas_folder_delete_response_encode(eas_wbxml_encoder *enc, const eas_folder_delete_response *resp)
{
	if (!enc || !resp)
		return EAS_E_INVALID;
	return encode_status(enc, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, resp->status, resp->sync_key, 0, NULL);
}

int eas_folder_delete_response_decode(eas_folder_delete_response *out, const eas_node *root, char *err,
				      size_t err_size)
{
	memset(out, 0, sizeof *out);
	return decode_status(&out->status, &out->sync_key, NULL, root, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, err,
			     err_size);
}
