/*
 * Settings (MS-ASCMD 2.2.1.18): DeviceInformation Set (stored with the
 * device), UserInformation Get (the user's address; Accounts from 14.1),
 * Oof Get/Set (kept per mailbox), DevicePassword Set (refused: this server
 * does not keep recovery passwords, Status 7), RightsManagementInformation
 * Get (no templates).
 *
 * Oof is mailbox-wide, but the store keeps small blobs per device only: it
 * lives in the cache of a reserved pseudo-device, EAS_SRV_MAILBOX_DEVICE,
 * which admin listings hide.  Its value is a Settings response holding
 * Oof/Get, encoded with the Settings codec, so reading it back is decoding.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "commands/settings.h"

static const char *info_text(const char *s)
{
	return s && eas_mstore_valid_text(s, 1024) ? s : NULL;
}

static uint32_t set_device_info(eas_srv_ctx *c, const eas_settings_device_info *di, int *err)
{
	eas_mstore_device_info info;
	memset(&info, 0, sizeof info);
	info.model = info_text(di->model);
	info.imei = info_text(di->imei);
	info.friendly_name = info_text(di->friendly_name);
	info.os = info_text(di->os);
	info.os_language = info_text(di->os_language);
	info.phone_number = info_text(di->phone_number);
	info.mobile_operator = info_text(di->mobile_operator);
	info.user_agent = info_text(di->user_agent);
	int rc = c->store->device_touch(c->store, c->user_id, c->device_id, &info);
	if (rc == EAS_E_INVALID)
		return EAS_SETTINGS_INVALID_ARGUMENTS;
	*err = rc;
	return rc ? EAS_SETTINGS_SERVER_UNAVAILABLE : EAS_SETTINGS_OK;
}

static int encode_settings(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_settings_response_encode(enc, arg);
}

/* Stores the Oof settings of a Set. */
static int oof_save(eas_srv_ctx *c, const eas_oof_settings *oof)
{
	eas_settings_response doc;
	memset(&doc, 0, sizeof doc);
	doc.status = EAS_SETTINGS_OK;
	doc.has_oof = 1;
	doc.oof_status = EAS_SETTINGS_OK;
	doc.has_oof_get = 1;
	doc.oof = *oof;
	eas_buf buf;
	eas_buf_init(&buf, c->mem, 256u * 1024u);
	eas_wbxml_encoder *enc;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &buf, EAS_PROTO_ALL, c->mem);
	if (rc == 0) {
		rc = encode_settings(enc, &doc);
		if (rc == 0)
			rc = eas_wbxml_encoder_finish(enc);
		eas_wbxml_encoder_free(enc);
	}
	if (rc == 0 && buf.result)
		rc = buf.result;
	eas_mstore *store = c->store;
	eas_mstore_device_info none;
	memset(&none, 0, sizeof none);
	if (rc == 0)
		rc = store->device_touch(store, c->user_id, EAS_SRV_MAILBOX_DEVICE, &none);
	if (rc == 0)
		rc = store->device_cache_put(store, c->user_id, EAS_SRV_MAILBOX_DEVICE, "oof", buf.data, buf.len);
	eas_buf_free(&buf);
	return rc;
}

/*
 * Loads the stored Oof settings into *out, pointing into *tree (free it);
 * *tree NULL and out zeroed (OofState 0) when none were ever set.
 */
static int oof_load(eas_srv_ctx *c, eas_oof_settings *out, eas_tree **tree)
{
	memset(out, 0, sizeof *out);
	out->has_state = 1;
	out->state = EAS_OOF_DISABLED;
	*tree = NULL;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = c->store->device_cache_get(&data, &len, c->store, c->user_id, EAS_SRV_MAILBOX_DEVICE, "oof");
	if (rc == EAS_E_NOTFOUND || (rc == 0 && !data))
		return 0;
	if (rc)
		return rc;
	char err[120];
	rc = eas_tree_parse(tree, data, len, 0, c->mem, err, sizeof err);
	c->store->release(c->store, data);
	if (rc)
		return rc == EAS_E_NOMEM ? rc : EAS_E_IO;
	eas_settings_response doc;
	rc = eas_settings_response_decode(&doc, eas_tree_root(*tree), err, sizeof err);
	if (rc || !doc.has_oof_get) {
		eas_tree_free(*tree);
		*tree = NULL;
		return rc == EAS_E_NOMEM ? rc : EAS_E_IO;
	}
	*out = doc.oof;
	return 0;
}

int eas__srv_handle_settings(eas_srv_ctx *c)
{
	eas_settings_request req;
	char derr[160];
	eas_settings_response resp;
	memset(&resp, 0, sizeof resp);
	if (eas_settings_request_decode(&req, c->root, derr, sizeof derr) != 0) {
		snprintf(c->err, sizeof c->err, "malformed Settings request");
		return eas__srv_reply_status(c, EAS_TAG_SETTINGS_SETTINGS, EAS_TAG_SETTINGS_STATUS,
					     EAS_SETTINGS_PROTOCOL_ERROR);
	}
	resp.status = EAS_SETTINGS_OK;
	int failure = 0;
	eas_tree *oof_tree = NULL;
	char address[EAS_MSTORE_NAME_SIZE + 64];
	const char *addresses[1] = { address };
	eas_settings_account account;
	memset(&account, 0, sizeof account);

	if (req.rights_management) {
		resp.has_rights_management = 1;
		resp.rights_management_status = EAS_SETTINGS_OK; /* no templates */
	}
	if (req.oof == EAS_SETTINGS_OOF_SET) {
		resp.has_oof = 1;
		int rc = oof_save(c, &req.oof_set);
		if (rc == EAS_E_INVALID) {
			resp.oof_status = EAS_SETTINGS_INVALID_ARGUMENTS;
		} else if (rc) {
			failure = rc;
			resp.oof_status = EAS_SETTINGS_SERVER_UNAVAILABLE;
		} else {
			resp.oof_status = EAS_SETTINGS_OK;
		}
	} else if (req.oof == EAS_SETTINGS_OOF_GET) {
		resp.has_oof = 1;
		int rc = oof_load(c, &resp.oof, &oof_tree);
		if (rc) {
			failure = rc;
			resp.oof_status = EAS_SETTINGS_SERVER_UNAVAILABLE;
		} else {
			resp.oof_status = EAS_SETTINGS_OK;
			resp.has_oof_get = 1;
		}
	}
	if (req.has_device_info) {
		resp.has_device_info = 1;
		resp.device_info_status = set_device_info(c, &req.device_info, &failure);
	}
	if (req.device_password) {
		resp.has_device_password = 1;
		resp.device_password_status = EAS_SETTINGS_DENIED_BY_POLICY;
	}
	if (req.user_info) {
		eas__srv_user_address(c, address, sizeof address);
		resp.has_user_info = 1;
		resp.user_info_status = EAS_SETTINGS_OK;
		resp.has_user_info_get = 1;
		if (c->version >= EAS_PROTO_14_1) {
			account.user_display_name = c->user_name;
			account.primary_smtp_address = address;
			account.smtp_addresses = addresses;
			account.smtp_address_count = 1;
			resp.user_info.account_list = &account;
			resp.user_info.account_count = 1;
		} else {
			resp.user_info.smtp_addresses = addresses;
			resp.user_info.smtp_address_count = 1;
		}
	}
	if (failure)
		snprintf(c->err, sizeof c->err, "store: %s", eas_strerror(failure));

	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc == 0) {
		c->eas_status = resp.status;
		rc = eas__srv_reply_wbxml(c, enc, &buf, encode_settings(enc, &resp));
	}
	eas_tree_free(oof_tree);
	return rc;
}
