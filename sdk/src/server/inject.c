/*
 * Misbehaviour on demand: before a command is served, the engine asks the
 * store for a fault injected for this user, device and command
 * ("eas-server inject", store.h fault_*).  The store counts the use
 * atomically, so an admin process may add faults while the server runs and
 * exactly N requests fail.
 *
 * An HTTP fault is answered with that status and an empty body (451 with
 * X-MS-Location, any status with Retry-After when given).  An EAS fault is
 * a 200 whose body is the command's root element with only its Status
 * (<Sync><Status>3</Status></Sync>, <FolderSync><Status>110</Status>...);
 * when the protocol version has no such element (SendMail before 14.0 has
 * no response body) the request gets HTTP 500 instead.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

typedef struct command_status {
	eas_command command;
	eas_tag root, status;
} command_status;

static const command_status roots[] = {
	{ EAS_CMD_SYNC, EAS_TAG_AIRSYNC_SYNC, EAS_TAG_AIRSYNC_STATUS },
	{ EAS_CMD_SEND_MAIL, EAS_TAG_COMPOSEMAIL_SEND_MAIL, EAS_TAG_COMPOSEMAIL_STATUS },
	{ EAS_CMD_SMART_FORWARD, EAS_TAG_COMPOSEMAIL_SMART_FORWARD, EAS_TAG_COMPOSEMAIL_STATUS },
	{ EAS_CMD_SMART_REPLY, EAS_TAG_COMPOSEMAIL_SMART_REPLY, EAS_TAG_COMPOSEMAIL_STATUS },
	{ EAS_CMD_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_CREATE, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_DELETE, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_UPDATE, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_MOVE_ITEMS, EAS_TAG_MOVE_MOVE_ITEMS, EAS_TAG_MOVE_STATUS },
	{ EAS_CMD_GET_ITEM_ESTIMATE, EAS_TAG_GETITEMESTIMATE_GET_ITEM_ESTIMATE, EAS_TAG_GETITEMESTIMATE_STATUS },
	{ EAS_CMD_MEETING_RESPONSE, EAS_TAG_MEETINGRESPONSE_MEETING_RESPONSE, EAS_TAG_MEETINGRESPONSE_STATUS },
	{ EAS_CMD_SEARCH, EAS_TAG_SEARCH_SEARCH, EAS_TAG_SEARCH_STATUS },
	{ EAS_CMD_SETTINGS, EAS_TAG_SETTINGS_SETTINGS, EAS_TAG_SETTINGS_STATUS },
	{ EAS_CMD_PING, EAS_TAG_PING_PING, EAS_TAG_PING_STATUS },
	{ EAS_CMD_ITEM_OPERATIONS, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS, EAS_TAG_ITEMOPERATIONS_STATUS },
	{ EAS_CMD_PROVISION, EAS_TAG_PROVISION_PROVISION, EAS_TAG_PROVISION_STATUS },
	{ EAS_CMD_RESOLVE_RECIPIENTS, EAS_TAG_RESOLVERECIPIENTS_RESOLVE_RECIPIENTS, EAS_TAG_RESOLVERECIPIENTS_STATUS },
	{ EAS_CMD_VALIDATE_CERT, EAS_TAG_VALIDATECERT_VALIDATE_CERT, EAS_TAG_VALIDATECERT_STATUS },
	{ EAS_CMD_FIND, EAS_TAG_FIND_FIND, EAS_TAG_FIND_STATUS },
};

static int tag_in(eas_tag tag, unsigned version)
{
	return (eas_tag_versions(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag)) & version) != 0;
}

int eas__srv_inject(eas_srv_ctx *c)
{
	const char *name = eas_command_name(c->command);
	eas_mstore_fault f;
	int rc = c->store->fault_take(&f, c->store, c->user_id, c->device_id, name ? name : "");
	if (rc == EAS_E_NOTFOUND)
		return 1;
	if (rc)
		return rc;
	if (f.http_status) {
		snprintf(c->err, sizeof c->err, "injected HTTP %lu (%lu more)", (unsigned long)f.http_status,
			 (unsigned long)(f.remaining - 1));
		rc = eas__srv_reply_text(c, (int)f.http_status, NULL);
		if (rc == 0 && f.location[0] && f.http_status == 451)
			rc = eas__srv_add_header(c->resp, "X-MS-Location", f.location);
		if (rc == 0 && f.retry_after) {
			char v[16];
			snprintf(v, sizeof v, "%lu", (unsigned long)f.retry_after);
			rc = eas__srv_add_header(c->resp, "Retry-After", v);
		}
		return rc ? rc : 0;
	}
	snprintf(c->err, sizeof c->err, "injected Status %lu (%lu more)", (unsigned long)f.eas_status,
		 (unsigned long)(f.remaining - 1));
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++) {
		if (roots[i].command != c->command)
			continue;
		if (!tag_in(roots[i].root, c->version) || !tag_in(roots[i].status, c->version))
			break;
		rc = eas__srv_reply_status(c, roots[i].root, roots[i].status, f.eas_status);
		return rc ? rc : 0;
	}
	rc = eas__srv_reply_text(c, 500, NULL);
	return rc ? rc : 0;
}
