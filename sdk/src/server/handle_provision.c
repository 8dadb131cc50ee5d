/*
 * Provision (MS-ASPROV 3.2.5): the two-phase policy download, the device's
 * information, and remote wipe.
 *
 *   initial request   -> temporary key (device state ISSUED) + the policy
 *                        (EASProvisionDoc, or WAP XML for 2.5); a 14.1+
 *                        request must carry DeviceInformation (Status 165)
 *   acknowledgment    -> the temporary key must match (else Policy Status 5);
 *                        Status 1 or 4 -> final key (state ACKNOWLEDGED);
 *                        2 or 3 with a configured policy -> Status 139
 *   wipe pending      -> <RemoteWipe/> or, for 16.1, <AccountOnlyRemoteWipe/>
 *                        instead of the policy, whatever the request was
 *   wipe ack          -> recorded; Status 1, or Status 2 + the directive
 *                        again when the device reports a failure
 *
 * Without a configured policy an empty policy is handed out, so every
 * client can go through its usual flow.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "commands/provision.h"

/* The policy with only the elements the client's version has (the encoder refuses the others). */
static void policy_for_version(eas_policy *out, const eas_policy *in, unsigned version)
{
	*out = *in; /* shallow: the lists stay the server's, never cleared here */
	for (int id = 0; id < EAS_POLICY_ID_COUNT; id++) {
		const char *name = eas_policy_name((eas_policy_id)id);
		eas_tag tag = name ? eas_tag_lookup(EAS_PAGE_PROVISION, name) : EAS_TAG_NONE;
		int keep = version == EAS_PROTO_2_5 ||
			   (tag != EAS_TAG_NONE && (eas_tag_versions(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag)) & version));
		if (!keep) {
			out->present &= ~EAS_POLICY_BIT(id);
			out->empty &= ~EAS_POLICY_BIT(id);
		}
	}
}

static int encode(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_provision_response_encode(enc, arg);
}

static int send_resp(eas_srv_ctx *c, const eas_provision_response *resp)
{
	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc)
		return rc;
	c->eas_status = resp->status;
	return eas__srv_reply_wbxml(c, enc, &buf, encode(enc, resp));
}

static int send_status(eas_srv_ctx *c, uint32_t status)
{
	eas_provision_response resp;
	eas_provision_response_init(&resp);
	resp.status = status;
	return send_resp(c, &resp);
}

/* A DeviceInformation string the store takes, or NULL. */
static const char *info_text(const char *s)
{
	return s && eas_mstore_valid_text(s, 1024) ? s : NULL;
}

static int store_device_info(eas_srv_ctx *c, const eas_settings_device_info *di)
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
	return rc == EAS_E_INVALID ? 0 : rc;
}

static int send_wipe(eas_srv_ctx *c, int kind, uint32_t status)
{
	eas_provision_response resp;
	eas_provision_response_init(&resp);
	resp.status = status;
	if (kind == EAS_MSTORE_WIPE_ACCOUNT_ONLY)
		resp.account_only_remote_wipe = 1;
	else
		resp.remote_wipe = 1;
	snprintf(c->err, sizeof c->err, "%s directive sent",
		 kind == EAS_MSTORE_WIPE_ACCOUNT_ONLY ? "account-only wipe" : "remote wipe");
	return send_resp(c, &resp);
}

static int wipe_ack(eas_srv_ctx *c, eas_mstore_wipe_kind kind, uint32_t status)
{
	int rc = c->store->device_wipe_ack(c->store, c->user_id, c->device_id, kind, status);
	if (rc == EAS_E_STATE) {
		snprintf(c->err, sizeof c->err, "wipe acknowledged but none was requested");
		return send_status(c, EAS_PROVISION_PROTOCOL_ERROR);
	}
	if (rc)
		return rc;
	if (status == EAS_WIPE_ACK_FAILURE)
		return send_wipe(c, kind, EAS_PROVISION_PROTOCOL_ERROR); /* MS-ASPROV 3.2.5.1.2.2: 2 + the directive */
	snprintf(c->err, sizeof c->err, "wipe acknowledged");
	return send_status(c, EAS_PROVISION_OK);
}

static int initial(eas_srv_ctx *c, const eas_provision_request *req, const char *type)
{
	eas_provision_response resp;
	eas_provision_response_init(&resp);
	if (c->version >= EAS_PROTO_14_1 && !req->has_device_info) {
		snprintf(c->err, sizeof c->err, "14.1+ initial request without DeviceInformation");
		return send_status(c, EAS_PROVISION_DEVICE_INFORMATION_REQUIRED);
	}
	if (req->has_device_info) { /* stored by the caller */
		resp.has_device_info = 1;
		resp.device_info_status = EAS_SETTINGS_OK;
	}
	uint32_t key;
	int rc = eas__srv_random_u32(c->srv, &key);
	if (rc == 0)
		rc = c->store->device_set_policy(c->store, c->user_id, c->device_id, key, EAS_MSTORE_POLICY_ISSUED, 0);
	if (rc)
		return rc;
	char key_text[16];
	snprintf(key_text, sizeof key_text, "%lu", (unsigned long)key);
	resp.status = EAS_PROVISION_OK;
	resp.has_policy = 1;
	resp.policy_type = type;
	resp.policy_status = EAS_POLICY_STATUS_OK;
	resp.policy_key = key_text;
	eas_buf wap;
	eas_buf_init(&wap, c->mem, 64u * 1024u);
	if (c->version == EAS_PROTO_2_5) {
		rc = eas_provision_wap_policy_write(&wap, eas__srv_effective_policy(c->srv));
		if (rc == 0)
			rc = eas_buf_append(&wap, "", 1);
		if (rc == 0 && wap.result)
			rc = wap.result;
		resp.data = EAS_PROVISION_DATA_WAP_XML;
		resp.wap_xml = (const char *)wap.data;
	} else {
		policy_for_version(&resp.policy, eas__srv_effective_policy(c->srv), c->version);
		resp.data = EAS_PROVISION_DATA_EAS_DOC;
	}
	if (rc == 0)
		rc = send_resp(c, &resp);
	eas_buf_free(&wap);
	/* resp.policy is a shallow view of the server's policy: not cleared */
	return rc;
}

static int acknowledge(eas_srv_ctx *c, const eas_provision_request *req, const char *type)
{
	eas_provision_response resp;
	eas_provision_response_init(&resp);
	resp.status = EAS_PROVISION_OK;
	resp.has_policy = 1;
	resp.policy_type = type;
	uint32_t key = 0;
	int parsed = 1;
	const char *k = req->policy_key;
	if (!*k)
		parsed = 0;
	for (; *k && parsed; k++) {
		if (*k < '0' || *k > '9' || key > (UINT32_MAX - 9u) / 10u)
			parsed = 0;
		else
			key = key * 10u + (uint32_t)(*k - '0');
	}
	eas_mstore_device *dev = NULL;
	int rc = c->store->device_get(&dev, c->store, c->user_id, c->device_id);
	if (rc)
		return rc;
	int match = parsed && dev->policy_state == EAS_MSTORE_POLICY_ISSUED && dev->policy_key == key && key != 0;
	c->store->release(c->store, dev);
	if (!match) {
		snprintf(c->err, sizeof c->err, "acknowledged a policy key that is not the temporary one");
		resp.policy_status = EAS_POLICY_STATUS_WRONG_KEY;
		return send_resp(c, &resp);
	}
	uint32_t ack = req->policy_status;
	if (eas__srv_policy(c->srv) && (ack == EAS_POLICY_ACK_PARTIAL || ack == EAS_POLICY_ACK_NOT_APPLIED)) {
		snprintf(c->err, sizeof c->err, "device did not apply the policy (ack status %lu)", (unsigned long)ack);
		rc = c->store->device_set_policy(c->store, c->user_id, c->device_id, 0, EAS_MSTORE_POLICY_NONE, ack);
		return rc ? rc : send_status(c, EAS_PROVISION_DEVICE_NOT_FULLY_PROVISIONABLE);
	}
	uint32_t final_key;
	rc = eas__srv_random_u32(c->srv, &final_key);
	if (rc)
		return rc;
	eas_mstore *store = c->store;
	rc = store->begin(store);
	if (rc)
		return rc;
	rc = store->device_set_policy(store, c->user_id, c->device_id, final_key, EAS_MSTORE_POLICY_ACKNOWLEDGED, ack);
	const char *hash = eas__srv_policy_hash(c->srv);
	if (rc == 0)
		rc = store->device_cache_put(store, c->user_id, c->device_id, "policy-hash", (const uint8_t *)hash,
					     strlen(hash));
	if (rc == 0)
		rc = store->commit(store);
	else
		store->rollback(store);
	if (rc)
		return rc;
	char key_text[16];
	snprintf(key_text, sizeof key_text, "%lu", (unsigned long)final_key);
	resp.policy_status = EAS_POLICY_STATUS_OK;
	resp.policy_key = key_text;
	return send_resp(c, &resp);
}

int eas__srv_handle_provision(eas_srv_ctx *c)
{
	eas_provision_request req;
	char derr[160];
	if (eas_provision_request_decode(&req, c->root, derr, sizeof derr) != 0) {
		snprintf(c->err, sizeof c->err, "malformed Provision request");
		return send_status(c, EAS_PROVISION_PROTOCOL_ERROR);
	}
	if (req.remote_wipe_status)
		return wipe_ack(c, EAS_MSTORE_WIPE_FULL, req.remote_wipe_status);
	if (req.account_only_remote_wipe_status)
		return wipe_ack(c, EAS_MSTORE_WIPE_ACCOUNT_ONLY, req.account_only_remote_wipe_status);
	if (req.has_device_info) {
		int rc = store_device_info(c, &req.device_info);
		if (rc)
			return rc;
	}
	int kind = eas__srv_pending_wipe(c);
	if (kind < 0)
		return kind;
	if (kind > 0)
		return send_wipe(c, kind, EAS_PROVISION_OK);
	if (!req.policy_type) {
		snprintf(c->err, sizeof c->err, "no Policies in the request");
		return send_status(c, EAS_PROVISION_PROTOCOL_ERROR);
	}
	const char *type = eas_provision_policy_type(c->version);
	if (!type || strcmp(req.policy_type, type) != 0) {
		eas_provision_response resp;
		eas_provision_response_init(&resp);
		resp.status = EAS_PROVISION_OK;
		resp.has_policy = 1;
		resp.policy_type = req.policy_type;
		resp.policy_status = EAS_POLICY_STATUS_UNKNOWN_TYPE;
		snprintf(c->err, sizeof c->err, "PolicyType not the one of this protocol version");
		return send_resp(c, &resp);
	}
	return req.policy_key ? acknowledge(c, &req, type) : initial(c, &req, type);
}
