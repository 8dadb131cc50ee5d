/* Settings request and response, both directions (MS-ASCMD 2.2.1.18). */
#include "settings.h"

#include <stdio.h>
#include <string.h>

#include "codec_util.h"

/* ---- small helpers ---------------------------------------------------------- */

static const char *label(eas_tag tag, char *buf, size_t size)
{
	const char *page = eas_codepage_name(EAS_TAG_PAGE(tag));
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, size, "%s:%s", page ? page : "?", name ? name : "?");
	return buf;
}

/* Optional 0/1 child: *has and *value untouched when absent. */
static int opt_flag(int *has, int *value, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	if (!eas_node_child(n, tag))
		return 0;
	uint32_t v = 0;
	int rc = eas__cmd_uint(&v, n, tag, err, err_size);
	if (rc)
		return rc;
	if (v > 1) {
		char name[64];
		return eas__cmd_malformed(err, err_size, "%s must be 0 or 1, not %lu", label(tag, name, sizeof name),
					  (unsigned long)v);
	}
	*has = 1;
	*value = (int)v;
	return 0;
}

/* The Status every property response starts with; the message names the property. */
static int prop_status(uint32_t *out, const eas_node *prop, char *err, size_t err_size)
{
	char name[64];
	if (!eas_node_child(prop, EAS_TAG_SETTINGS_STATUS))
		return eas__cmd_malformed(err, err_size, "missing Settings:Status in %s",
					  label(prop->tag, name, sizeof name));
	return eas__cmd_uint(out, prop, EAS_TAG_SETTINGS_STATUS, err, err_size);
}

static int valid_body_type(const char *t)
{
	return t && (strcmp(t, EAS_SETTINGS_BODY_TEXT) == 0 || strcmp(t, EAS_SETTINGS_BODY_HTML) == 0);
}

static int put_empty_container(eas_wbxml_encoder *enc, eas_tag outer, eas_tag inner)
{
	int rc = eas_wbxml_encoder_start(enc, outer);
	if (rc == 0)
		rc = eas_wbxml_encoder_empty(enc, inner);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* <prop><Status>n</Status></prop> */
static int put_prop_status(eas_wbxml_encoder *enc, eas_tag prop, uint32_t status)
{
	int rc = eas_wbxml_encoder_start(enc, prop);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_STATUS, status);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* ---- DeviceInformation -------------------------------------------------------- */

static const struct {
	eas_tag tag;
	size_t offset;
} device_fields[] = {
	{ EAS_TAG_SETTINGS_MODEL, offsetof(eas_settings_device_info, model) },
	{ EAS_TAG_SETTINGS_IMEI, offsetof(eas_settings_device_info, imei) },
	{ EAS_TAG_SETTINGS_FRIENDLY_NAME, offsetof(eas_settings_device_info, friendly_name) },
	{ EAS_TAG_SETTINGS_OS, offsetof(eas_settings_device_info, os) },
	{ EAS_TAG_SETTINGS_OS_LANGUAGE, offsetof(eas_settings_device_info, os_language) },
	{ EAS_TAG_SETTINGS_PHONE_NUMBER, offsetof(eas_settings_device_info, phone_number) },
	{ EAS_TAG_SETTINGS_USER_AGENT, offsetof(eas_settings_device_info, user_agent) },
	{ EAS_TAG_SETTINGS_MOBILE_OPERATOR, offsetof(eas_settings_device_info, mobile_operator) },
};
#define DEVICE_FIELD_COUNT (sizeof device_fields / sizeof device_fields[0])

static const char *const *device_field(const eas_settings_device_info *info, size_t i)
{
	return (const char *const *)(const void *)((const char *)info + device_fields[i].offset);
}

int eas_settings_device_info_encode(eas_wbxml_encoder *enc, const eas_settings_device_info *info)
{
	if (!enc || !info)
		return EAS_E_INVALID;
	int any = info->has_enable_outbound_sms;
	for (size_t i = 0; i < DEVICE_FIELD_COUNT; i++)
		any |= *device_field(info, i) != NULL;
	if (!any || (info->has_enable_outbound_sms && info->enable_outbound_sms > 1))
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_DEVICE_INFORMATION);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_SET);
	/* MS-ASCMD 2.2.3.167 order: ... UserAgent, EnableOutboundSMS, MobileOperator */
	for (size_t i = 0; rc == 0 && i < DEVICE_FIELD_COUNT; i++) {
		if (device_fields[i].tag == EAS_TAG_SETTINGS_MOBILE_OPERATOR && info->has_enable_outbound_sms)
			rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_ENABLE_OUTBOUND_SMS, info->enable_outbound_sms);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, device_fields[i].tag, *device_field(info, i));
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_settings_device_info_decode(eas_settings_device_info *out, const eas_node *device_information,
				    char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	const eas_node *set = eas_node_child(device_information, EAS_TAG_SETTINGS_SET);
	if (!set)
		return eas__cmd_malformed(err, err_size, "missing Settings:Set in Settings:DeviceInformation");
	for (size_t i = 0; i < DEVICE_FIELD_COUNT; i++) {
		const char **field = (const char **)(void *)((char *)out + device_fields[i].offset);
		*field = eas_node_child_text(set, device_fields[i].tag);
	}
	int has = 0, v = 0;
	int rc = opt_flag(&has, &v, set, EAS_TAG_SETTINGS_ENABLE_OUTBOUND_SMS, err, err_size);
	out->has_enable_outbound_sms = has;
	out->enable_outbound_sms = (uint32_t)v;
	return rc;
}

/* ---- Oof ---------------------------------------------------------------------- */

static const eas_tag audience_tags[] = {
	[EAS_OOF_INTERNAL] = EAS_TAG_SETTINGS_APPLIES_TO_INTERNAL,
	[EAS_OOF_EXTERNAL_KNOWN] = EAS_TAG_SETTINGS_APPLIES_TO_EXTERNAL_KNOWN,
	[EAS_OOF_EXTERNAL_UNKNOWN] = EAS_TAG_SETTINGS_APPLIES_TO_EXTERNAL_UNKNOWN,
};

static int check_oof(const eas_oof_settings *o, int is_set_request)
{
	if (o->message_count > EAS_OOF_MAX_MESSAGES)
		return EAS_E_INVALID;
	if (o->has_state && o->state > EAS_OOF_TIME_BASED)
		return EAS_E_INVALID;
	if (!o->start_time != !o->end_time)
		return EAS_E_INVALID; /* both or neither (MS-ASCMD 2.2.3.176.2) */
	if (is_set_request && o->start_time && (!o->has_state || o->state != EAS_OOF_TIME_BASED))
		return EAS_E_INVALID; /* times need OofState 2 (2.2.3.124) */
	unsigned seen = 0;
	for (size_t i = 0; i < o->message_count; i++) {
		const eas_oof_message *m = &o->messages[i];
		if ((unsigned)m->audience > EAS_OOF_EXTERNAL_UNKNOWN || (seen & (1u << m->audience)))
			return EAS_E_INVALID; /* one OofMessage per audience (2.2.3.123) */
		seen |= 1u << m->audience;
		if (m->has_enabled && (unsigned)m->enabled > 1)
			return EAS_E_INVALID;
		if (m->reply_message && !m->body_type)
			return EAS_E_INVALID; /* ReplyMessage needs BodyType (2.2.3.17) */
		if (m->body_type && !valid_body_type(m->body_type))
			return EAS_E_INVALID;
	}
	return 0;
}

/* The children of Oof/Set (request) or Oof/Get (response). */
static int encode_oof_content(eas_wbxml_encoder *enc, const eas_oof_settings *o)
{
	int rc = 0;
	if (o->has_state)
		rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_OOF_STATE, o->state);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_START_TIME, o->start_time);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_END_TIME, o->end_time);
	for (size_t i = 0; rc == 0 && i < o->message_count; i++) {
		const eas_oof_message *m = &o->messages[i];
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_OOF_MESSAGE);
		if (rc == 0)
			rc = eas_wbxml_encoder_empty(enc, audience_tags[m->audience]);
		if (rc == 0 && m->has_enabled)
			rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_ENABLED, (uint32_t)m->enabled);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_REPLY_MESSAGE, m->reply_message);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_BODY_TYPE, m->body_type);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	return rc;
}

static int decode_oof_message(eas_oof_message *m, const eas_node *n, unsigned *seen, char *err, size_t err_size)
{
	memset(m, 0, sizeof *m);
	int found = 0;
	for (unsigned a = 0; a <= EAS_OOF_EXTERNAL_UNKNOWN; a++) {
		if (!eas_node_child(n, audience_tags[a]))
			continue;
		if (found++)
			return eas__cmd_malformed(err, err_size, "Settings:OofMessage names more than one audience");
		m->audience = (eas_oof_audience)a;
	}
	if (!found)
		return eas__cmd_malformed(err, err_size, "Settings:OofMessage without Settings:AppliesToInternal, "
					  "AppliesToExternalKnown or AppliesToExternalUnknown");
	if (*seen & (1u << m->audience)) {
		char name[64];
		return eas__cmd_malformed(err, err_size, "two Settings:OofMessage for %s",
					  label(audience_tags[m->audience], name, sizeof name));
	}
	*seen |= 1u << m->audience;
	int rc = opt_flag(&m->has_enabled, &m->enabled, n, EAS_TAG_SETTINGS_ENABLED, err, err_size);
	if (rc)
		return rc;
	m->reply_message = eas_node_child_text(n, EAS_TAG_SETTINGS_REPLY_MESSAGE);
	m->body_type = eas_node_child_text(n, EAS_TAG_SETTINGS_BODY_TYPE);
	if (m->reply_message && !m->body_type)
		return eas__cmd_malformed(err, err_size, "Settings:ReplyMessage without Settings:BodyType");
	return 0;
}

static int decode_oof_content(eas_oof_settings *o, const eas_node *n, char *err, size_t err_size)
{
	memset(o, 0, sizeof *o);
	if (eas_node_child(n, EAS_TAG_SETTINGS_OOF_STATE)) {
		int rc = eas__cmd_uint(&o->state, n, EAS_TAG_SETTINGS_OOF_STATE, err, err_size);
		if (rc)
			return rc;
		if (o->state > EAS_OOF_TIME_BASED)
			return eas__cmd_malformed(err, err_size, "Settings:OofState out of range: %lu (0-2)",
						  (unsigned long)o->state);
		o->has_state = 1;
	}
	o->start_time = eas_node_child_text(n, EAS_TAG_SETTINGS_START_TIME);
	o->end_time = eas_node_child_text(n, EAS_TAG_SETTINGS_END_TIME);
	unsigned seen = 0;
	for (const eas_node *m = eas_node_child(n, EAS_TAG_SETTINGS_OOF_MESSAGE); m; m = eas_node_next_same(m)) {
		if (o->message_count == EAS_OOF_MAX_MESSAGES)
			return eas__cmd_malformed(err, err_size, "more than %d Settings:OofMessage", EAS_OOF_MAX_MESSAGES);
		int rc = decode_oof_message(&o->messages[o->message_count], m, &seen, err, err_size);
		if (rc)
			return rc;
		o->message_count++;
	}
	return 0;
}

/* ---- request ------------------------------------------------------------------ */

int eas_settings_request_encode(eas_wbxml_encoder *enc, const eas_settings_request *req)
{
	if (!enc || !req || (unsigned)req->oof > EAS_SETTINGS_OOF_SET)
		return EAS_E_INVALID;
	if (req->oof == EAS_SETTINGS_OOF_GET && !valid_body_type(req->oof_body_type))
		return EAS_E_INVALID; /* BodyType is required in Oof Get (2.2.3.17) */
	if (req->oof == EAS_SETTINGS_OOF_SET) {
		int rc = check_oof(&req->oof_set, 1);
		if (rc)
			return rc;
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_SETTINGS);
	if (rc == 0 && req->rights_management)
		rc = put_empty_container(enc, EAS_TAG_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION, EAS_TAG_SETTINGS_GET);
	if (rc == 0 && req->oof != EAS_SETTINGS_OOF_NONE) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_OOF);
		if (rc == 0 && req->oof == EAS_SETTINGS_OOF_GET) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_GET);
			if (rc == 0)
				rc = eas_wbxml_encoder_element(enc, EAS_TAG_SETTINGS_BODY_TYPE, req->oof_body_type);
		} else if (rc == 0) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_SET);
			if (rc == 0)
				rc = encode_oof_content(enc, &req->oof_set);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc); /* Get / Set */
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc); /* Oof */
	}
	if (rc == 0 && req->has_device_info)
		rc = eas_settings_device_info_encode(enc, &req->device_info);
	if (rc == 0 && req->device_password) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_DEVICE_PASSWORD);
		if (rc == 0)
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_SET);
		if (rc == 0)
			rc = eas_wbxml_encoder_element(enc, EAS_TAG_SETTINGS_PASSWORD, req->device_password);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && req->user_info)
		rc = put_empty_container(enc, EAS_TAG_SETTINGS_USER_INFORMATION, EAS_TAG_SETTINGS_GET);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_settings_request_decode(eas_settings_request *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_SETTINGS_SETTINGS, err, err_size);
	if (rc)
		return rc;
	const eas_node *oof = eas_node_child(root, EAS_TAG_SETTINGS_OOF);
	if (oof) {
		const eas_node *get = eas_node_child(oof, EAS_TAG_SETTINGS_GET);
		const eas_node *set = eas_node_child(oof, EAS_TAG_SETTINGS_SET);
		if (get) {
			out->oof = EAS_SETTINGS_OOF_GET;
			rc = eas__cmd_text(&out->oof_body_type, get, EAS_TAG_SETTINGS_BODY_TYPE, err, err_size);
		} else if (set) {
			out->oof = EAS_SETTINGS_OOF_SET;
			rc = decode_oof_content(&out->oof_set, set, err, err_size);
		} else {
			rc = eas__cmd_malformed(err, err_size, "Settings:Oof without Settings:Get or Settings:Set");
		}
		if (rc)
			return rc;
	}
	const eas_node *dp = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_PASSWORD);
	if (dp) {
		const eas_node *set = eas_node_child(dp, EAS_TAG_SETTINGS_SET);
		if (!set)
			return eas__cmd_malformed(err, err_size, "missing Settings:Set in Settings:DevicePassword");
		rc = eas__cmd_text(&out->device_password, set, EAS_TAG_SETTINGS_PASSWORD, err, err_size);
		if (rc)
			return rc;
	}
	const eas_node *di = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_INFORMATION);
	if (di) {
		out->has_device_info = 1;
		rc = eas_settings_device_info_decode(&out->device_info, di, err, err_size);
		if (rc)
			return rc;
	}
	const eas_node *ui = eas_node_child(root, EAS_TAG_SETTINGS_USER_INFORMATION);
	if (ui) {
		if (!eas_node_child(ui, EAS_TAG_SETTINGS_GET))
			return eas__cmd_malformed(err, err_size, "missing Settings:Get in Settings:UserInformation");
		out->user_info = 1;
	}
	const eas_node *rm = eas_node_child(root, EAS_TAG_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
	if (rm) {
		if (!eas_node_child(rm, EAS_TAG_SETTINGS_GET))
			return eas__cmd_malformed(err, err_size,
						  "missing Settings:Get in Settings:RightsManagementInformation");
		out->rights_management = 1;
	}
	return 0;
}

/* ---- response ----------------------------------------------------------------- */

static int encode_email_addresses(eas_wbxml_encoder *enc, const char *const *list, size_t count, const char *primary)
{
	if (!count && !primary)
		return 0;
	if (!count || !list)
		return EAS_E_INVALID; /* SMTPAddress is 1...N */
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_EMAIL_ADDRESSES);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = list[i] ? eas_wbxml_encoder_element(enc, EAS_TAG_SETTINGS_SMTP_ADDRESS, list[i]) : EAS_E_INVALID;
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_PRIMARY_SMTP_ADDRESS, primary);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int encode_account(eas_wbxml_encoder *enc, const eas_settings_account *a)
{
	if (a->has_send_disabled && (unsigned)a->send_disabled > 1)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_ACCOUNT);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_ACCOUNT_ID, a->account_id);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_ACCOUNT_NAME, a->account_name);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_SETTINGS_USER_DISPLAY_NAME, a->user_display_name);
	if (rc == 0 && a->has_send_disabled)
		rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_SEND_DISABLED, (uint32_t)a->send_disabled);
	if (rc == 0)
		rc = encode_email_addresses(enc, a->smtp_addresses, a->smtp_address_count, a->primary_smtp_address);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int encode_user_info(eas_wbxml_encoder *enc, const eas_settings_response *resp)
{
	const eas_settings_user_info *ui = &resp->user_info;
	if (ui->account_count && !ui->account_list)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_USER_INFORMATION);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_STATUS, resp->user_info_status);
	if (rc == 0 && resp->has_user_info_get) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_GET);
		if (rc == 0)
			rc = encode_email_addresses(enc, ui->smtp_addresses, ui->smtp_address_count,
						    ui->primary_smtp_address);
		if (rc == 0 && ui->account_count) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_ACCOUNTS);
			for (size_t i = 0; rc == 0 && i < ui->account_count; i++)
				rc = encode_account(enc, &ui->account_list[i]);
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

int eas_settings_response_encode(eas_wbxml_encoder *enc, const eas_settings_response *resp)
{
	if (!enc || !resp)
		return EAS_E_INVALID;
	if (resp->has_oof && resp->has_oof_get) {
		int rc = check_oof(&resp->oof, 0);
		if (rc)
			return rc;
	}
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_SETTINGS);
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_STATUS, resp->status);
	if (rc == 0 && resp->has_rights_management)
		rc = put_prop_status(enc, EAS_TAG_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION, resp->rights_management_status);
	if (rc == 0 && resp->has_oof) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_OOF);
		if (rc == 0)
			rc = eas__cmd_put_uint(enc, EAS_TAG_SETTINGS_STATUS, resp->oof_status);
		if (rc == 0 && resp->has_oof_get) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_SETTINGS_GET);
			if (rc == 0)
				rc = encode_oof_content(enc, &resp->oof);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0 && resp->has_device_info)
		rc = put_prop_status(enc, EAS_TAG_SETTINGS_DEVICE_INFORMATION, resp->device_info_status);
	if (rc == 0 && resp->has_device_password)
		rc = put_prop_status(enc, EAS_TAG_SETTINGS_DEVICE_PASSWORD, resp->device_password_status);
	if (rc == 0 && resp->has_user_info)
		rc = encode_user_info(enc, resp);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int check_email_addresses(const eas_node *ea, char *err, size_t err_size)
{
	if (ea && !eas_node_child(ea, EAS_TAG_SETTINGS_SMTP_ADDRESS))
		return eas__cmd_malformed(err, err_size, "Settings:EmailAddresses without Settings:SMTPAddress");
	return 0;
}

int eas_settings_response_decode(eas_settings_response *out, const eas_node *root, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_expect_root(root, EAS_TAG_SETTINGS_SETTINGS, err, err_size);
	if (rc == 0)
		rc = eas__cmd_uint(&out->status, root, EAS_TAG_SETTINGS_STATUS, err, err_size);
	if (rc)
		return rc;
	const eas_node *oof = eas_node_child(root, EAS_TAG_SETTINGS_OOF);
	if (oof) {
		out->has_oof = 1;
		rc = prop_status(&out->oof_status, oof, err, err_size);
		const eas_node *get = eas_node_child(oof, EAS_TAG_SETTINGS_GET);
		if (rc == 0 && get) {
			out->has_oof_get = 1;
			rc = decode_oof_content(&out->oof, get, err, err_size);
		}
		if (rc)
			return rc;
	}
	const eas_node *di = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_INFORMATION);
	if (di) {
		out->has_device_info = 1;
		if ((rc = prop_status(&out->device_info_status, di, err, err_size)) != 0)
			return rc;
	}
	const eas_node *dp = eas_node_child(root, EAS_TAG_SETTINGS_DEVICE_PASSWORD);
	if (dp) {
		out->has_device_password = 1;
		if ((rc = prop_status(&out->device_password_status, dp, err, err_size)) != 0)
			return rc;
	}
	const eas_node *rm = eas_node_child(root, EAS_TAG_SETTINGS_RIGHTS_MANAGEMENT_INFORMATION);
	if (rm) {
		out->has_rights_management = 1;
		if ((rc = prop_status(&out->rights_management_status, rm, err, err_size)) != 0)
			return rc;
		out->rights_management_get = eas_node_child(rm, EAS_TAG_SETTINGS_GET);
	}
	const eas_node *ui = eas_node_child(root, EAS_TAG_SETTINGS_USER_INFORMATION);
	if (ui) {
		out->has_user_info = 1;
		if ((rc = prop_status(&out->user_info_status, ui, err, err_size)) != 0)
			return rc;
		const eas_node *get = eas_node_child(ui, EAS_TAG_SETTINGS_GET);
		if (get) {
			out->has_user_info_get = 1;
			const eas_node *ea = eas_node_child(get, EAS_TAG_SETTINGS_EMAIL_ADDRESSES);
			out->user_info.email_addresses = ea;
			out->user_info.primary_smtp_address = eas_node_child_text(ea, EAS_TAG_SETTINGS_PRIMARY_SMTP_ADDRESS);
			out->user_info.accounts = eas_node_child(get, EAS_TAG_SETTINGS_ACCOUNTS);
			if ((rc = check_email_addresses(ea, err, err_size)) != 0)
				return rc;
		}
	}
	return 0;
}

int eas_settings_next_smtp_address(const eas_node *email_addresses, const eas_node **cursor, const char **out)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor)
				    : eas_node_child(email_addresses, EAS_TAG_SETTINGS_SMTP_ADDRESS);
	*cursor = n;
	if (!n)
		return 0;
	*out = n->text;
	return 1;
}

int eas_settings_next_account(const eas_settings_user_info *ui, const eas_node **cursor,
			      eas_settings_account *out, char *err, size_t err_size)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor) : eas_node_child(ui->accounts, EAS_TAG_SETTINGS_ACCOUNT);
	*cursor = n;
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	out->account_id = eas_node_child_text(n, EAS_TAG_SETTINGS_ACCOUNT_ID);
	out->account_name = eas_node_child_text(n, EAS_TAG_SETTINGS_ACCOUNT_NAME);
	out->user_display_name = eas_node_child_text(n, EAS_TAG_SETTINGS_USER_DISPLAY_NAME);
	out->email_addresses = eas_node_child(n, EAS_TAG_SETTINGS_EMAIL_ADDRESSES);
	out->primary_smtp_address = eas_node_child_text(out->email_addresses, EAS_TAG_SETTINGS_PRIMARY_SMTP_ADDRESS);
	int rc = opt_flag(&out->has_send_disabled, &out->send_disabled, n, EAS_TAG_SETTINGS_SEND_DISABLED, err, err_size);
	if (rc == 0)
		rc = check_email_addresses(out->email_addresses, err, err_size);
	return rc ? rc : 1;
}
