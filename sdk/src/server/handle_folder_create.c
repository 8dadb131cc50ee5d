/* FolderCreate (MS-ASCMD 2.2.1.3): a user folder, on the hierarchy key chain. */
#include "server/handler.h"

#include <string.h>

#include "commands/folder_ops.h"

static int encode(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_folder_create_response_encode(enc, arg);
}

static int reply(eas_srv_ctx *c, uint32_t status)
{
	return eas__srv_reply_status(c, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, EAS_TAG_FOLDERHIERARCHY_STATUS, status);
}

int eas__srv_handle_folder_create(eas_srv_ctx *c)
{
	eas_folder_create_request req;
	char derr[160];
	int rc = eas_folder_create_request_decode(&req, c->root, derr, sizeof derr);
	if (rc)
		return rc;
	eas_mstore_sync st;
	rc = eas__srv_hierarchy_key(c, &st, req.sync_key, "FolderCreate", EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE);
	if (rc <= 0)
		return rc;
	if (!eas_mstore_folder_type_creatable(req.type) || !eas_mstore_valid_text(req.display_name, EAS_MSTORE_NAME_MAX) ||
	    !eas_mstore_valid_text(req.parent_id, EAS_MSTORE_ID_MAX))
		return reply(c, EAS_FOLDER_OP_BAD_REQUEST);
	eas_mstore *store = c->store;
	rc = store->begin(store);
	if (rc)
		return rc;
	eas_mstore_result result = EAS_MSTORE_OK;
	eas_mstore_folder folder;
	memset(&folder, 0, sizeof folder);
	rc = store->folder_create(&result, &folder, store, c->user_id, req.parent_id, req.display_name, req.type,
				  c->device_id);
	if (rc || result != EAS_MSTORE_OK) {
		store->rollback(store);
		if (rc == EAS_E_INVALID)
			return reply(c, EAS_FOLDER_OP_BAD_REQUEST);
		if (rc)
			return rc;
		return reply(c, result == EAS_MSTORE_EXISTS		? EAS_FOLDER_OP_EXISTS
				: result == EAS_MSTORE_PARENT_NOT_FOUND ? EAS_FOLDER_OP_PARENT_NOT_FOUND
									: EAS_FOLDER_OP_SERVER_ERROR);
	}
	eas_folder_create_response resp = { EAS_FOLDER_OP_OK, st.next_key, folder.server_id };
	c->eas_status = EAS_FOLDER_OP_OK;
	return eas__srv_commit_reply(c, &st, encode, &resp, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE,
				     EAS_TAG_FOLDERHIERARCHY_STATUS);
}
