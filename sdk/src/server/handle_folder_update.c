/* FolderUpdate (MS-ASCMD 2.2.1.6): rename and/or move a user folder, on the hierarchy key chain. */
#include "server/handler.h"

#include "commands/folder_ops.h"

static int encode(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_folder_update_response_encode(enc, arg);
}

static int reply(eas_srv_ctx *c, uint32_t status)
{
	return eas__srv_reply_status(c, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, EAS_TAG_FOLDERHIERARCHY_STATUS, status);
}

/* Store outcome -> FolderUpdate Status (MS-ASCMD 2.2.3.177.6). */
static uint32_t status_of(eas_mstore_result r)
{
	switch (r) {
	case EAS_MSTORE_OK:
		return EAS_FOLDER_OP_OK;
	case EAS_MSTORE_EXISTS:
	case EAS_MSTORE_SPECIAL_FOLDER: /* "a special folder cannot be renamed" is Status 2 too */
		return EAS_FOLDER_OP_EXISTS;
	case EAS_MSTORE_NOT_FOUND:
		return EAS_FOLDER_OP_NOT_FOUND;
	case EAS_MSTORE_PARENT_NOT_FOUND:
	case EAS_MSTORE_INVALID_PARENT: /* under itself or a descendant: no such parent for it */
		return EAS_FOLDER_OP_PARENT_NOT_FOUND;
	default:
		return EAS_FOLDER_OP_SERVER_ERROR;
	}
}

int eas__srv_handle_folder_update(eas_srv_ctx *c)
{
	eas_folder_update_request req;
	char derr[160];
	int rc = eas_folder_update_request_decode(&req, c->root, derr, sizeof derr);
	if (rc)
		return rc;
	eas_mstore_sync st;
	rc = eas__srv_hierarchy_key(c, &st, req.sync_key, "FolderUpdate", EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE);
	if (rc <= 0)
		return rc;
	if (!eas_mstore_valid_text(req.display_name, EAS_MSTORE_NAME_MAX) ||
	    !eas_mstore_valid_text(req.parent_id, EAS_MSTORE_ID_MAX))
		return reply(c, EAS_FOLDER_OP_BAD_REQUEST);
	if (!eas_mstore_valid_text(req.server_id, EAS_MSTORE_ID_MAX))
		return reply(c, EAS_FOLDER_OP_NOT_FOUND);
	eas_mstore *store = c->store;
	rc = store->begin(store);
	if (rc)
		return rc;
	eas_mstore_result result = EAS_MSTORE_OK;
	rc = store->folder_update(&result, store, c->user_id, req.server_id, req.parent_id, req.display_name,
				  c->device_id);
	if (rc || result != EAS_MSTORE_OK) {
		store->rollback(store);
		if (rc == EAS_E_INVALID)
			return reply(c, EAS_FOLDER_OP_BAD_REQUEST);
		return rc ? rc : reply(c, status_of(result));
	}
	eas_folder_update_response resp = { EAS_FOLDER_OP_OK, st.next_key };
	c->eas_status = EAS_FOLDER_OP_OK;
	return eas__srv_commit_reply(c, &st, encode, &resp, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE,
				     EAS_TAG_FOLDERHIERARCHY_STATUS);
}
