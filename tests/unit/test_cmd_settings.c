/*
 * Settings: the spec's examples decoded field by field, requests and
 * responses round-tripped in both directions, version gating, the rules
 * the encoders enforce, malformed documents, split input and failing
 * allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/settings.h"
#include "testmem.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define NS "<Settings xmlns=\"Settings:\">"

/* ---- the spec's examples (MS-ASCMD 4.16) -------------------------------------- */

static const char spec_oof_get_request[] = NS "<Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>";
static const char spec_oof_get_response[] = NS
	"<Status>1</Status><Oof><Status>1</Status><Get>"
	"<OofState>2</OofState>"
	"<StartTime>2007-05-08T17:00:00.000Z</StartTime>"
	"<EndTime>2007-05-11T17:00:00.000Z</EndTime>"
	"<OofMessage><AppliesToInternal/><Enabled>1</Enabled>"
	"<ReplyMessage>I am out of the office until Friday.</ReplyMessage><BodyType>Text</BodyType></OofMessage>"
	"<OofMessage><AppliesToExternalKnown/><Enabled>0</Enabled></OofMessage>"
	"<OofMessage><AppliesToExternalUnknown/><Enabled>0</Enabled></OofMessage>"
	"</Get></Oof></Settings>";
static const char spec_oof_set_request[] = NS
	"<Oof><Set><OofState>2</OofState>"
	"<StartTime>2007-05-08T17:00:00.000Z</StartTime><EndTime>2007-05-11T17:00:00.000Z</EndTime>"
	"<OofMessage><AppliesToInternal/><Enabled>1</Enabled><ReplyMessage>Out until Friday</ReplyMessage>"
	"<BodyType>Text</BodyType></OofMessage>"
	"<OofMessage><AppliesToExternalKnown/><Enabled>1</Enabled><ReplyMessage>&lt;b&gt;Away&lt;/b&gt;</ReplyMessage>"
	"<BodyType>HTML</BodyType></OofMessage>"
	"</Set></Oof></Settings>";
static const char spec_oof_set_response[] = NS "<Status>1</Status><Oof><Status>1</Status></Oof></Settings>";
static const char spec_device_info_request[] = NS
	"<DeviceInformation><Set>"
	"<Model>Test 1.0</Model><IMEI>012345678901234</IMEI><FriendlyName>My Test App</FriendlyName>"
	"<OS>Test OS 1.0</OS><OSLanguage>English</OSLanguage><PhoneNumber>555-123-4567</PhoneNumber>"
	"<UserAgent>EAS-Test/1.0</UserAgent><EnableOutboundSMS>0</EnableOutboundSMS>"
	"<MobileOperator>My Phone Company</MobileOperator>"
	"</Set></DeviceInformation></Settings>";
static const char spec_device_info_response[] = NS
	"<Status>1</Status><DeviceInformation><Status>1</Status></DeviceInformation></Settings>";
static const char spec_device_password_request[] = NS
	"<DevicePassword><Set><Password>Sample-Password-123</Password></Set></DevicePassword></Settings>";
static const char spec_device_password_response[] = NS
	"<Status>1</Status><DevicePassword><Status>1</Status></DevicePassword></Settings>";
static const char spec_user_info_request[] = NS "<UserInformation><Get/></UserInformation></Settings>";
/* 12.0-14.0 form */
static const char spec_user_info_response_14_0[] = NS
	"<Status>1</Status><UserInformation><Status>1</Status><Get><EmailAddresses>"
	"<SMTPAddress>deepa@contoso.com</SMTPAddress><SMTPAddress>deepa.alias@contoso.com</SMTPAddress>"
	"</EmailAddresses></Get></UserInformation></Settings>";
/* 14.1+ form */
static const char spec_user_info_response_14_1[] = NS
	"<Status>1</Status><UserInformation><Status>1</Status><Get><Accounts>"
	"<Account><AccountId>1</AccountId><AccountName>Deepa</AccountName><UserDisplayName>Deepa Chaudhary</UserDisplayName>"
	"<SendDisabled>0</SendDisabled><EmailAddresses><SMTPAddress>deepa@contoso.com</SMTPAddress>"
	"<SMTPAddress>dc@contoso.com</SMTPAddress><PrimarySmtpAddress>deepa@contoso.com</PrimarySmtpAddress>"
	"</EmailAddresses></Account>"
	"<Account><AccountId>2</AccountId><SendDisabled>1</SendDisabled><EmailAddresses>"
	"<SMTPAddress>shared@contoso.com</SMTPAddress></EmailAddresses></Account>"
	"</Accounts></Get></UserInformation></Settings>";

/* ---- helpers ------------------------------------------------------------------ */

typedef int (*encode_fn)(eas_wbxml_encoder *enc, const void *arg);

static int enc_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_settings_request_encode(enc, arg);
}

static int enc_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_settings_response_encode(enc, arg);
}

static int encode_rc(encode_fn fn, const void *arg, unsigned version)
{
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	eas_wbxml_encoder *enc = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, version, NULL), 0);
	int rc = fn(enc, arg);
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&b);
	return rc;
}

static char *canonical(const char *xml)
{
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	char *out = xmldoc_from_wbxml(b.data, b.len);
	eas_buf_free(&b);
	return out;
}

/* Decodes xml as a request, re-encodes it at version and expects the same document. */
static void request_both_ways(const char *xml, eas_settings_request *out, eas_tree **t, unsigned version)
{
	char err[160] = "";
	*t = xmldoc_tree(xml);
	if (eas_settings_request_decode(out, eas_tree_root(*t), err, sizeof err) != 0)
		fail_msg("decode: %s", err);
	char *again = xmldoc_encode(enc_request, out, version);
	char *want = canonical(xml);
	assert_string_equal(again, want);
	free(again);
	free(want);
}

static void response_both_ways(const char *xml, eas_settings_response *out, eas_tree **t, unsigned version)
{
	char err[160] = "";
	*t = xmldoc_tree(xml);
	if (eas_settings_response_decode(out, eas_tree_root(*t), err, sizeof err) != 0)
		fail_msg("decode: %s", err);
	/* The decoded lists are tree nodes; an encoder takes arrays: copy them over. */
	eas_settings_response enc = *out;
	const char *addrs[8];
	size_t n = 0;
	const eas_node *cur = NULL;
	const char *a;
	while (n < 8 && eas_settings_next_smtp_address(out->user_info.email_addresses, &cur, &a) == 1)
		addrs[n++] = a;
	enc.user_info.smtp_addresses = addrs;
	enc.user_info.smtp_address_count = n;
	eas_settings_account accounts[4];
	const char *acc_addrs[4][8];
	size_t na = 0;
	cur = NULL;
	while (na < 4 && eas_settings_next_account(&out->user_info, &cur, &accounts[na], err, sizeof err) == 1) {
		size_t k = 0;
		const eas_node *c2 = NULL;
		while (k < 8 && eas_settings_next_smtp_address(accounts[na].email_addresses, &c2, &a) == 1)
			acc_addrs[na][k++] = a;
		accounts[na].smtp_addresses = acc_addrs[na];
		accounts[na].smtp_address_count = k;
		na++;
	}
	enc.user_info.account_list = accounts;
	enc.user_info.account_count = na;
	char *again = xmldoc_encode(enc_response, &enc, version);
	char *want = canonical(xml);
	assert_string_equal(again, want);
	free(again);
	free(want);
}

/* ---- spec examples ----------------------------------------------------------------- */

static void test_spec_oof(void **state)
{
	(void)state;
	eas_settings_request q;
	eas_tree *t;
	request_both_ways(spec_oof_get_request, &q, &t, EAS_PROTO_14_1);
	assert_int_equal(q.oof, EAS_SETTINGS_OOF_GET);
	assert_string_equal(q.oof_body_type, "Text");
	assert_null(q.device_password);
	assert_int_equal(q.has_device_info, 0);
	assert_int_equal(q.user_info, 0);
	eas_tree_free(t);

	eas_settings_response r;
	response_both_ways(spec_oof_get_response, &r, &t, EAS_PROTO_14_1);
	assert_int_equal(r.status, EAS_SETTINGS_OK);
	assert_int_equal(r.has_oof, 1);
	assert_int_equal(r.oof_status, 1);
	assert_int_equal(r.has_oof_get, 1);
	assert_int_equal(r.oof.has_state, 1);
	assert_int_equal(r.oof.state, EAS_OOF_TIME_BASED);
	assert_string_equal(r.oof.start_time, "2007-05-08T17:00:00.000Z");
	assert_string_equal(r.oof.end_time, "2007-05-11T17:00:00.000Z");
	assert_int_equal(r.oof.message_count, 3);
	assert_int_equal(r.oof.messages[0].audience, EAS_OOF_INTERNAL);
	assert_int_equal(r.oof.messages[0].has_enabled, 1);
	assert_int_equal(r.oof.messages[0].enabled, 1);
	assert_string_equal(r.oof.messages[0].reply_message, "I am out of the office until Friday.");
	assert_string_equal(r.oof.messages[0].body_type, EAS_SETTINGS_BODY_TEXT);
	assert_int_equal(r.oof.messages[1].audience, EAS_OOF_EXTERNAL_KNOWN);
	assert_int_equal(r.oof.messages[1].enabled, 0);
	assert_null(r.oof.messages[1].reply_message);
	assert_null(r.oof.messages[1].body_type);
	assert_int_equal(r.oof.messages[2].audience, EAS_OOF_EXTERNAL_UNKNOWN);
	assert_int_equal(r.has_device_info + r.has_device_password + r.has_user_info + r.has_rights_management, 0);
	eas_tree_free(t);

	request_both_ways(spec_oof_set_request, &q, &t, EAS_PROTO_12_0);
	assert_int_equal(q.oof, EAS_SETTINGS_OOF_SET);
	assert_int_equal(q.oof_set.state, EAS_OOF_TIME_BASED);
	assert_string_equal(q.oof_set.start_time, "2007-05-08T17:00:00.000Z");
	assert_int_equal(q.oof_set.message_count, 2);
	assert_string_equal(q.oof_set.messages[1].reply_message, "<b>Away</b>");
	assert_string_equal(q.oof_set.messages[1].body_type, EAS_SETTINGS_BODY_HTML);
	eas_tree_free(t);

	response_both_ways(spec_oof_set_response, &r, &t, EAS_PROTO_12_0);
	assert_int_equal(r.has_oof, 1);
	assert_int_equal(r.oof_status, 1);
	assert_int_equal(r.has_oof_get, 0);
	eas_tree_free(t);
}

static void test_spec_device_information_and_password(void **state)
{
	(void)state;
	eas_settings_request q;
	eas_tree *t;
	request_both_ways(spec_device_info_request, &q, &t, EAS_PROTO_14_0);
	assert_int_equal(q.has_device_info, 1);
	assert_string_equal(q.device_info.model, "Test 1.0");
	assert_string_equal(q.device_info.imei, "012345678901234");
	assert_string_equal(q.device_info.friendly_name, "My Test App");
	assert_string_equal(q.device_info.os, "Test OS 1.0");
	assert_string_equal(q.device_info.os_language, "English");
	assert_string_equal(q.device_info.phone_number, "555-123-4567");
	assert_string_equal(q.device_info.user_agent, "EAS-Test/1.0");
	assert_int_equal(q.device_info.has_enable_outbound_sms, 1);
	assert_int_equal(q.device_info.enable_outbound_sms, 0);
	assert_string_equal(q.device_info.mobile_operator, "My Phone Company");
	assert_int_equal(q.oof, EAS_SETTINGS_OOF_NONE);
	eas_tree_free(t);

	eas_settings_response r;
	response_both_ways(spec_device_info_response, &r, &t, EAS_PROTO_14_0);
	assert_int_equal(r.has_device_info, 1);
	assert_int_equal(r.device_info_status, 1);
	eas_tree_free(t);

	request_both_ways(spec_device_password_request, &q, &t, EAS_PROTO_14_0);
	assert_string_equal(q.device_password, "Sample-Password-123");
	eas_tree_free(t);
	response_both_ways(spec_device_password_response, &r, &t, EAS_PROTO_14_0);
	assert_int_equal(r.has_device_password, 1);
	assert_int_equal(r.device_password_status, 1);
	eas_tree_free(t);

	/* An empty Password clears the recovery password. */
	memset(&q, 0, sizeof q);
	q.device_password = "";
	char *xml = xmldoc_encode(enc_request, &q, EAS_PROTO_14_0);
	t = xmldoc_tree(xml);
	eas_settings_request back;
	assert_int_equal(eas_settings_request_decode(&back, eas_tree_root(t), NULL, 0), 0);
	assert_string_equal(back.device_password, "");
	eas_tree_free(t);
	free(xml);
}

static void test_spec_user_information(void **state)
{
	(void)state;
	eas_settings_request q;
	eas_tree *t;
	request_both_ways(spec_user_info_request, &q, &t, EAS_PROTO_14_1);
	assert_int_equal(q.user_info, 1);
	eas_tree_free(t);

	eas_settings_response r;
	response_both_ways(spec_user_info_response_14_0, &r, &t, EAS_PROTO_14_0);
	assert_int_equal(r.has_user_info, 1);
	assert_int_equal(r.user_info_status, 1);
	assert_int_equal(r.has_user_info_get, 1);
	const eas_node *cur = NULL;
	const char *addr;
	assert_int_equal(eas_settings_next_smtp_address(r.user_info.email_addresses, &cur, &addr), 1);
	assert_string_equal(addr, "deepa@contoso.com");
	assert_int_equal(eas_settings_next_smtp_address(r.user_info.email_addresses, &cur, &addr), 1);
	assert_string_equal(addr, "deepa.alias@contoso.com");
	assert_int_equal(eas_settings_next_smtp_address(r.user_info.email_addresses, &cur, &addr), 0);
	assert_null(r.user_info.accounts);
	eas_settings_account acc;
	cur = NULL;
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &acc, NULL, 0), 0);
	eas_tree_free(t);

	response_both_ways(spec_user_info_response_14_1, &r, &t, EAS_PROTO_14_1);
	assert_null(r.user_info.email_addresses);
	cur = NULL;
	char err[160];
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &acc, err, sizeof err), 1);
	assert_string_equal(acc.account_id, "1");
	assert_string_equal(acc.account_name, "Deepa");
	assert_string_equal(acc.user_display_name, "Deepa Chaudhary");
	assert_int_equal(acc.has_send_disabled, 1);
	assert_int_equal(acc.send_disabled, 0);
	assert_string_equal(acc.primary_smtp_address, "deepa@contoso.com");
	const eas_node *c2 = NULL;
	assert_int_equal(eas_settings_next_smtp_address(acc.email_addresses, &c2, &addr), 1);
	assert_string_equal(addr, "deepa@contoso.com");
	assert_int_equal(eas_settings_next_smtp_address(acc.email_addresses, &c2, &addr), 1);
	assert_string_equal(addr, "dc@contoso.com");
	assert_int_equal(eas_settings_next_smtp_address(acc.email_addresses, &c2, &addr), 0);
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &acc, err, sizeof err), 1);
	assert_string_equal(acc.account_id, "2");
	assert_null(acc.account_name);
	assert_null(acc.primary_smtp_address);
	assert_int_equal(acc.send_disabled, 1);
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &acc, err, sizeof err), 0);
	eas_tree_free(t);
}

/* ---- round trips ----------------------------------------------------------------------- */

static void test_request_round_trip(void **state)
{
	(void)state;
	eas_settings_request q;
	memset(&q, 0, sizeof q);
	q.rights_management = 1;
	q.oof = EAS_SETTINGS_OOF_SET;
	q.oof_set.has_state = 1;
	q.oof_set.state = EAS_OOF_GLOBAL;
	q.oof_set.message_count = 3;
	q.oof_set.messages[0] = (eas_oof_message){ EAS_OOF_EXTERNAL_UNKNOWN, 0, 0, NULL, NULL };
	q.oof_set.messages[1] = (eas_oof_message){ EAS_OOF_INTERNAL, 1, 1, "Away & <back> soon", "Text" };
	q.oof_set.messages[2] = (eas_oof_message){ EAS_OOF_EXTERNAL_KNOWN, 1, 0, NULL, "HTML" };
	q.device_password = "pw";
	q.has_device_info = 1;
	q.device_info.model = "M";
	q.device_info.friendly_name = "";
	q.user_info = 1;
	char *xml = xmldoc_encode(enc_request, &q, EAS_PROTO_16_1);
	/* properties in the order MS-ASCMD lists them */
	const char *rm = strstr(xml, "<RightsManagementInformation>"), *oof = strstr(xml, "<Oof>"),
		   *di = strstr(xml, "<DeviceInformation>"), *dp = strstr(xml, "<DevicePassword>"),
		   *ui = strstr(xml, "<UserInformation>");
	assert_true(rm && oof && di && dp && ui && rm < oof && oof < di && di < dp && dp < ui);
	eas_tree *t = xmldoc_tree(xml);
	eas_settings_request b;
	char err[160] = "";
	if (eas_settings_request_decode(&b, eas_tree_root(t), err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(b.rights_management, 1);
	assert_int_equal(b.oof, EAS_SETTINGS_OOF_SET);
	assert_int_equal(b.oof_set.has_state, 1);
	assert_int_equal(b.oof_set.state, EAS_OOF_GLOBAL);
	assert_null(b.oof_set.start_time);
	assert_int_equal(b.oof_set.message_count, 3);
	for (size_t i = 0; i < 3; i++) {
		const eas_oof_message *x = &q.oof_set.messages[i], *y = &b.oof_set.messages[i];
		assert_int_equal(x->audience, y->audience);
		assert_int_equal(x->has_enabled, y->has_enabled);
		assert_int_equal(x->enabled, y->enabled);
		if (x->reply_message)
			assert_string_equal(x->reply_message, y->reply_message);
		else
			assert_null(y->reply_message);
		if (x->body_type)
			assert_string_equal(x->body_type, y->body_type);
		else
			assert_null(y->body_type);
	}
	assert_string_equal(b.device_password, "pw");
	assert_int_equal(b.has_device_info, 1);
	assert_string_equal(b.device_info.model, "M");
	assert_string_equal(b.device_info.friendly_name, "");
	assert_null(b.device_info.imei);
	assert_int_equal(b.user_info, 1);
	eas_tree_free(t);
	free(xml);

	/* an empty Settings request is allowed (0 to 5 properties) */
	memset(&q, 0, sizeof q);
	xml = xmldoc_encode(enc_request, &q, EAS_PROTO_12_0);
	assert_string_equal(xml, PROLOG "<Settings xmlns=\"Settings:\"></Settings>");
	free(xml);
}

static void test_response_round_trip(void **state)
{
	(void)state;
	static const char *const flat[] = { "a@example.com", "b@example.com" };
	static const char *const acc1[] = { "x@example.com" };
	const eas_settings_account accounts[] = {
		{ "id-1", "Main", "Ann Example", 1, 0, "x@example.com", NULL, acc1, 1 },
		{ NULL, NULL, NULL, 0, 0, NULL, NULL, flat, 2 },
	};
	eas_settings_response r;
	memset(&r, 0, sizeof r);
	r.status = 1;
	r.has_rights_management = 1;
	r.rights_management_status = 1;
	r.has_oof = 1;
	r.oof_status = 1;
	r.has_oof_get = 1;
	r.oof.has_state = 1;
	r.oof.state = EAS_OOF_DISABLED;
	r.oof.message_count = 1;
	r.oof.messages[0] = (eas_oof_message){ EAS_OOF_EXTERNAL_KNOWN, 1, 0, "", "Text" };
	r.has_device_info = 1;
	r.device_info_status = EAS_SETTINGS_INVALID_ARGUMENTS;
	r.has_device_password = 1;
	r.device_password_status = EAS_SETTINGS_DENIED_BY_POLICY;
	r.has_user_info = 1;
	r.user_info_status = 1;
	r.has_user_info_get = 1;
	r.user_info.account_list = accounts;
	r.user_info.account_count = 2;
	char *xml = xmldoc_encode(enc_response, &r, EAS_PROTO_16_1);
	eas_tree *t = xmldoc_tree(xml);
	eas_settings_response b;
	char err[160] = "";
	if (eas_settings_response_decode(&b, eas_tree_root(t), err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(b.status, 1);
	assert_int_equal(b.has_rights_management, 1);
	assert_int_equal(b.rights_management_status, 1);
	assert_null(b.rights_management_get);
	assert_int_equal(b.has_oof_get, 1);
	assert_int_equal(b.oof.state, 0);
	assert_int_equal(b.oof.messages[0].audience, EAS_OOF_EXTERNAL_KNOWN);
	assert_string_equal(b.oof.messages[0].reply_message, "");
	assert_int_equal(b.device_info_status, 5);
	assert_int_equal(b.device_password_status, 7);
	assert_int_equal(b.user_info_status, 1);
	const eas_node *cur = NULL, *c2;
	eas_settings_account a;
	const char *addr;
	for (size_t i = 0; i < 2; i++) {
		assert_int_equal(eas_settings_next_account(&b.user_info, &cur, &a, err, sizeof err), 1);
		if (accounts[i].account_id)
			assert_string_equal(a.account_id, accounts[i].account_id);
		else
			assert_null(a.account_id);
		assert_int_equal(a.has_send_disabled, accounts[i].has_send_disabled);
		c2 = NULL;
		for (size_t k = 0; k < accounts[i].smtp_address_count; k++) {
			assert_int_equal(eas_settings_next_smtp_address(a.email_addresses, &c2, &addr), 1);
			assert_string_equal(addr, accounts[i].smtp_addresses[k]);
		}
		assert_int_equal(eas_settings_next_smtp_address(a.email_addresses, &c2, &addr), 0);
	}
	assert_int_equal(eas_settings_next_account(&b.user_info, &cur, &a, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);

	/* A failed Settings status alone (no property responses). */
	memset(&r, 0, sizeof r);
	r.status = EAS_SETTINGS_PROTOCOL_ERROR;
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_12_0);
	assert_string_equal(xml, PROLOG NS "<Status>2</Status></Settings>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_settings_response_decode(&b, eas_tree_root(t), NULL, 0), 0);
	assert_int_equal(b.status, 2);
	assert_int_equal(b.has_oof + b.has_user_info + b.has_device_info, 0);
	eas_tree_free(t);
	free(xml);

	/* UserInformation with a failed status: no Get. */
	r.status = 1;
	r.has_user_info = 1;
	r.user_info_status = EAS_SETTINGS_ACCESS_DENIED;
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_12_0);
	assert_string_equal(xml, PROLOG NS "<Status>1</Status><UserInformation><Status>3</Status></UserInformation></Settings>");
	free(xml);
}

/* ---- version gating and encoder rules -------------------------------------------------- */

static void test_version_gating(void **state)
{
	(void)state;
	eas_settings_request q;
	memset(&q, 0, sizeof q);
	q.rights_management = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_0), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	memset(&q, 0, sizeof q);
	q.user_info = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_2_5), EAS_E_UNSUPPORTED); /* no Settings in 2.5 */
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_0), 0);
	memset(&q, 0, sizeof q);
	q.has_device_info = 1;
	q.device_info.model = "M";
	q.device_info.has_enable_outbound_sms = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_0), 0);
	q.device_info.has_enable_outbound_sms = 0;
	q.device_info.user_agent = "UA";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_1), 0);

	eas_settings_response r;
	memset(&r, 0, sizeof r);
	r.status = 1;
	r.has_user_info = 1;
	r.user_info_status = 1;
	r.has_user_info_get = 1;
	static const char *const one[] = { "a@b" };
	static const eas_settings_account acc[] = { { "1", NULL, NULL, 0, 0, NULL, NULL, one, 1 } };
	r.user_info.account_list = acc;
	r.user_info.account_count = 1;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_0), EAS_E_UNSUPPORTED); /* Accounts: 14.1+ */
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), 0);
	r.user_info.account_count = 0;
	r.user_info.smtp_addresses = one;
	r.user_info.smtp_address_count = 1;
	r.user_info.primary_smtp_address = "a@b";
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_0), EAS_E_UNSUPPORTED); /* PrimarySmtpAddress: 14.1+ */
	r.user_info.primary_smtp_address = NULL;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_12_0), 0);
}

static void test_encoder_rules(void **state)
{
	(void)state;
	eas_settings_request q;
	memset(&q, 0, sizeof q);
	q.oof = EAS_SETTINGS_OOF_GET;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* no BodyType */
	q.oof_body_type = "text";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* spelling */
	q.oof_body_type = "HTML";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);

	memset(&q, 0, sizeof q);
	q.oof = EAS_SETTINGS_OOF_SET;
	q.oof_set.has_state = 1;
	q.oof_set.state = EAS_OOF_TIME_BASED;
	q.oof_set.start_time = "2024-01-01T00:00:00.000Z";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* start without end */
	q.oof_set.end_time = "2024-01-02T00:00:00.000Z";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	q.oof_set.state = EAS_OOF_GLOBAL;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* times need state 2 */
	q.oof_set.start_time = q.oof_set.end_time = NULL;
	q.oof_set.state = 3;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.oof_set.state = EAS_OOF_GLOBAL;
	q.oof_set.message_count = 2;
	q.oof_set.messages[0] = (eas_oof_message){ EAS_OOF_INTERNAL, 1, 1, NULL, NULL };
	q.oof_set.messages[1] = (eas_oof_message){ EAS_OOF_INTERNAL, 1, 0, NULL, NULL };
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* same audience twice */
	q.oof_set.messages[1].audience = EAS_OOF_EXTERNAL_KNOWN;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	q.oof_set.messages[1].reply_message = "hi";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* ReplyMessage without BodyType */
	q.oof_set.messages[1].body_type = "Text";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	q.oof_set.messages[1].enabled = 2;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.oof_set.messages[1].enabled = 1;
	q.oof_set.messages[1].audience = (eas_oof_audience)3;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.oof_set.messages[1].audience = EAS_OOF_EXTERNAL_KNOWN;
	q.oof_set.message_count = 4;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.oof = (eas_settings_oof_op)7;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);

	/* DeviceInformation with nothing to set, or EnableOutboundSMS not 0/1 */
	memset(&q, 0, sizeof q);
	q.has_device_info = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.device_info.has_enable_outbound_sms = 1;
	q.device_info.enable_outbound_sms = 2;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.device_info.enable_outbound_sms = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);

	/* responses: SMTPAddress is 1...N; a reply needs its BodyType */
	eas_settings_response r;
	memset(&r, 0, sizeof r);
	r.status = 1;
	r.has_user_info = 1;
	r.user_info_status = 1;
	r.has_user_info_get = 1;
	r.user_info.primary_smtp_address = "a@b";
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), EAS_E_INVALID);
	r.user_info.primary_smtp_address = NULL;
	r.user_info.account_count = 1;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), EAS_E_INVALID);
	memset(&r, 0, sizeof r);
	r.status = 1;
	r.has_oof = 1;
	r.oof_status = 1;
	r.has_oof_get = 1;
	r.oof.message_count = 1;
	r.oof.messages[0] = (eas_oof_message){ EAS_OOF_INTERNAL, 0, 0, "x", NULL };
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), EAS_E_INVALID);
	/* a server may report times without state 2 (it answers what it stores) */
	r.oof.messages[0].body_type = "Text";
	r.oof.start_time = "2024-01-01T00:00:00.000Z";
	r.oof.end_time = "2024-01-02T00:00:00.000Z";
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), 0);
}

/* ---- malformed input ----------------------------------------------------------------- */

static void test_malformed_responses(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<Oof><Status>1</Status></Oof></Settings>", "missing Settings:Status" },
		{ NS "<Status>ok</Status></Settings>", "Settings:Status is not a number: 'ok'" },
		{ NS "<Status>1</Status><Oof><Get/></Oof></Settings>", "missing Settings:Status in Settings:Oof" },
		{ NS "<Status>1</Status><DeviceInformation/></Settings>", "missing Settings:Status in Settings:DeviceInformation" },
		{ NS "<Status>1</Status><DevicePassword><Status>x</Status></DevicePassword></Settings>",
		  "Settings:Status is not a number: 'x'" },
		{ NS "<Status>1</Status><UserInformation><Get/></UserInformation></Settings>",
		  "missing Settings:Status in Settings:UserInformation" },
		{ NS "<Status>1</Status><RightsManagementInformation/></Settings>",
		  "missing Settings:Status in Settings:RightsManagementInformation" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofState>3</OofState></Get></Oof></Settings>",
		  "Settings:OofState out of range: 3 (0-2)" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofState>x</OofState></Get></Oof></Settings>",
		  "Settings:OofState is not a number" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofMessage><AppliesToInternal/>"
		     "<Enabled>2</Enabled></OofMessage></Get></Oof></Settings>", "Settings:Enabled must be 0 or 1, not 2" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofMessage><AppliesToInternal/>"
		     "<ReplyMessage>x</ReplyMessage></OofMessage></Get></Oof></Settings>",
		  "Settings:ReplyMessage without Settings:BodyType" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofMessage><Enabled>1</Enabled></OofMessage>"
		     "</Get></Oof></Settings>", "Settings:OofMessage without Settings:AppliesToInternal" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofMessage><AppliesToInternal/>"
		     "<AppliesToExternalKnown/></OofMessage></Get></Oof></Settings>",
		  "Settings:OofMessage names more than one audience" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get><OofMessage><AppliesToInternal/></OofMessage>"
		     "<OofMessage><AppliesToInternal/></OofMessage></Get></Oof></Settings>",
		  "two Settings:OofMessage for Settings:AppliesToInternal" },
		{ NS "<Status>1</Status><Oof><Status>1</Status><Get>"
		     "<OofMessage><AppliesToInternal/></OofMessage><OofMessage><AppliesToExternalKnown/></OofMessage>"
		     "<OofMessage><AppliesToExternalUnknown/></OofMessage><OofMessage><AppliesToInternal/></OofMessage>"
		     "</Get></Oof></Settings>", "more than 3 Settings:OofMessage" },
		{ NS "<Status>1</Status><UserInformation><Status>1</Status><Get><EmailAddresses/></Get>"
		     "</UserInformation></Settings>", "Settings:EmailAddresses without Settings:SMTPAddress" },
		{ "<Provision xmlns=\"Provision:\"><Status>1</Status></Provision>",
		  "root element is Provision:Provision, expected Settings:Settings" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_settings_response r;
		char err[200] = "";
		int rc = eas_settings_response_decode(&r, eas_tree_root(t), err, sizeof err);
		if (rc != EAS_E_MALFORMED)
			fail_msg("case %zu: %d (%s)", i, rc, err);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
	/* An account's faults are reported when the iterator reaches it. */
	eas_tree *t = xmldoc_tree(NS "<Status>1</Status><UserInformation><Status>1</Status><Get><Accounts>"
				  "<Account><SendDisabled>5</SendDisabled></Account>"
				  "<Account><EmailAddresses><PrimarySmtpAddress>p@q</PrimarySmtpAddress></EmailAddresses></Account>"
				  "</Accounts></Get></UserInformation></Settings>");
	eas_settings_response r;
	char err[200] = "";
	assert_int_equal(eas_settings_response_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_settings_account a;
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &a, err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "Settings:SendDisabled must be 0 or 1, not 5"));
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &a, err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "Settings:EmailAddresses without Settings:SMTPAddress"));
	assert_int_equal(eas_settings_next_account(&r.user_info, &cur, &a, err, sizeof err), 0);
	eas_tree_free(t);
}

static void test_malformed_requests(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<Oof/></Settings>", "Settings:Oof without Settings:Get or Settings:Set" },
		{ NS "<Oof><Get/></Oof></Settings>", "missing Settings:BodyType" },
		{ NS "<Oof><Set><OofMessage><AppliesToInternal/><ReplyMessage>x</ReplyMessage></OofMessage></Set></Oof></Settings>",
		  "Settings:ReplyMessage without Settings:BodyType" },
		{ NS "<DevicePassword/></Settings>", "missing Settings:Set in Settings:DevicePassword" },
		{ NS "<DevicePassword><Set/></DevicePassword></Settings>", "missing Settings:Password" },
		{ NS "<DeviceInformation/></Settings>", "missing Settings:Set in Settings:DeviceInformation" },
		{ NS "<DeviceInformation><Set><EnableOutboundSMS>-1</EnableOutboundSMS></Set></DeviceInformation></Settings>",
		  "Settings:EnableOutboundSMS is not a number" },
		{ NS "<UserInformation/></Settings>", "missing Settings:Get in Settings:UserInformation" },
		{ NS "<RightsManagementInformation/></Settings>", "missing Settings:Get in Settings:RightsManagementInformation" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_settings_request q;
		char err[200] = "";
		assert_int_equal(eas_settings_request_decode(&q, eas_tree_root(t), err, sizeof err), EAS_E_MALFORMED);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
	/* A server decodes times without state 2, or one time alone, and answers with a status itself. */
	eas_tree *t = xmldoc_tree(NS "<Oof><Set><OofState>1</OofState><StartTime>s</StartTime></Set></Oof></Settings>");
	eas_settings_request q;
	assert_int_equal(eas_settings_request_decode(&q, eas_tree_root(t), NULL, 0), 0);
	assert_string_equal(q.oof_set.start_time, "s");
	assert_null(q.oof_set.end_time);
	eas_tree_free(t);
}

/* ---- split input, failing allocations ---------------------------------------------------- */

static void test_every_split_and_failing_allocation(void **state)
{
	(void)state;
	const char *docs[] = { spec_oof_get_response, spec_user_info_response_14_1, spec_device_info_request };
	for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
		eas_buf b;
		xmldoc_to_wbxml(&b, docs[d]);
		for (size_t cut = 0; cut <= b.len; cut++) {
			eas_tree *t = NULL;
			assert_int_equal(eas_tree_new(&t, 0, NULL, NULL), 0);
			assert_int_equal(eas_tree_feed(t, b.data, cut), 0);
			assert_int_equal(eas_tree_feed(t, b.data + cut, b.len - cut), 0);
			assert_int_equal(eas_tree_finish(t), 0);
			if (d == 2) {
				eas_settings_request q;
				assert_int_equal(eas_settings_request_decode(&q, eas_tree_root(t), NULL, 0), 0);
				assert_string_equal(q.device_info.mobile_operator, "My Phone Company");
			} else {
				eas_settings_response r;
				assert_int_equal(eas_settings_response_decode(&r, eas_tree_root(t), NULL, 0), 0);
				assert_int_equal(r.status, 1);
			}
			eas_tree_free(t);
		}
		/* The decoders allocate nothing; the tree under them fails cleanly at every allocation. */
		int done = 0;
		for (long n = 0; !done; n++) {
			testmem tm;
			eas_mem mem = testmem_init(&tm, n);
			eas_tree *t = NULL;
			int rc = eas_tree_parse(&t, b.data, b.len, 0, &mem, NULL, 0);
			if (rc == 0) {
				long before = tm.calls;
				eas_settings_response r;
				eas_settings_request q;
				rc = d == 2 ? eas_settings_request_decode(&q, eas_tree_root(t), NULL, 0)
					    : eas_settings_response_decode(&r, eas_tree_root(t), NULL, 0);
				assert_int_equal(rc, 0);
				assert_int_equal(tm.calls, before);
				eas_tree_free(t);
			} else {
				assert_int_equal(rc, EAS_E_NOMEM);
			}
			assert_int_equal(tm.live_blocks, 0);
			done = rc == 0 && tm.calls <= n;
		}
		eas_buf_free(&b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_oof),
		cmocka_unit_test(test_spec_device_information_and_password),
		cmocka_unit_test(test_spec_user_information),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_version_gating),
		cmocka_unit_test(test_encoder_rules),
		cmocka_unit_test(test_malformed_responses),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_every_split_and_failing_allocation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
