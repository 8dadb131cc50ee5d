/* FolderDelete (MS-ASCMD 2.2.1.4): a user folder with its subfolders and items, on the hierarchy key chain. */
#include "server/handler.h"

#include "commands/folder_ops.h"

static int encode(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_folder_delete_response_encode(enc, arg);
}

static int reply(eas_srv_ctx *c, uint32_t status)
{
	return eas__srv_reply_status(c, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, EAS_TAG_FOLDERHIERARCHY_STATUS, status);
}

int eas__srv_handle_folder_delete(eas_srv_ctx *c)
{
	eas_folder_delete_request req;
	char derr[160];
	int rc = eas_folder_delete_request_decode(&req, c->root, derr, sizeof derr);
	if (rc)
		return rc;
	eas_mstore_sync st;
	rc = eas__srv_hierarchy_key(c, &st, req.sync_key, "FolderDelete", EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE);
	if (rc <= 0)
		return rc;
	if (!eas_mstore_valid_text(req.server_id, EAS_MSTORE_ID_MAX))
		return reply(c, EAS_FOLDER_OP_NOT_FOUND);
	eas_mstore *store = c->store;
	rc = store->begin(store);
	if (rc)
		return rc;
	eas_mstore_result result = EAS_MSTORE_OK;
	rc = store->folder_delete(&result, store, c->user_id, req.server_id, c->device_id);
	if (rc || result != EAS_MSTORE_OK) {
		store->rollback(store);
		if (rc == EAS_E_INVALID)
			return reply(c, EAS_FOLDER_OP_NOT_FOUND);
		if (rc)
			return rc;
		return reply(c, result == EAS_MSTORE_NOT_FOUND	    ? EAS_FOLDER_OP_NOT_FOUND
				: result == EAS_MSTORE_SPECIAL_FOLDER ? EAS_FOLDER_OP_SPECIAL
								      : EAS_FOLDER_OP_SERVER_ERROR);
	}
	eas_folder_delete_response resp = { EAS_FOLDER_OP_OK, st.next_key };
	c->eas_status = EAS_FOLDER_OP_OK;
	return eas__srv_commit_reply(c, &st, encode, &resp, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE,
				     EAS_TAG_FOLDERHIERARCHY_STATUS);
}
