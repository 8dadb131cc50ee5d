/*
 * Provision: the spec's examples decoded field by field, every struct
 * round-tripped in both directions, version gating, malformed responses,
 * the 2.5 WAP policy XML (hostile input included), the eas_policy API, and
 * every decoder run with each allocation failing in turn.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/provision.h"
#include "eas/policy.h"
#include "testmem.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define NS "<Provision xmlns=\"Provision:\">"
#define NS2 "<Provision xmlns=\"Provision:\" xmlns:settings=\"Settings:\">"

/* ---- the spec's examples ------------------------------------------------------ */

/* MS-ASPROV 4.1 (protocol 14.1): initial request with settings:DeviceInformation. */
static const char spec_initial_request[] = NS2
	"<settings:DeviceInformation><settings:Set>"
	"<settings:Model>Test 1.0</settings:Model>"
	"<settings:IMEI>012345678901234</settings:IMEI>"
	"<settings:FriendlyName>My Test App</settings:FriendlyName>"
	"<settings:OS>Test OS 1.0</settings:OS>"
	"<settings:OSLanguage>English</settings:OSLanguage>"
	"<settings:PhoneNumber>555-123-4567</settings:PhoneNumber>"
	"<settings:UserAgent>EAS-Test/1.0</settings:UserAgent>"
	"<settings:MobileOperator>My Phone Company</settings:MobileOperator>"
	"</settings:Set></settings:DeviceInformation>"
	"<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies>"
	"</Provision>";

/* MS-ASPROV 4.1: the response, a full EASProvisionDoc in the order the spec (and Exchange) writes it. */
#define SPEC_DOC \
	"<EASProvisionDoc>" \
	"<DevicePasswordEnabled>1</DevicePasswordEnabled>" \
	"<AlphanumericDevicePasswordRequired>1</AlphanumericDevicePasswordRequired>" \
	"<PasswordRecoveryEnabled>1</PasswordRecoveryEnabled>" \
	"<RequireStorageCardEncryption>1</RequireStorageCardEncryption>" \
	"<AttachmentsEnabled>1</AttachmentsEnabled>" \
	"<MinDevicePasswordLength>4</MinDevicePasswordLength>" \
	"<MaxInactivityTimeDeviceLock>900</MaxInactivityTimeDeviceLock>" \
	"<MaxDevicePasswordFailedAttempts>8</MaxDevicePasswordFailedAttempts>" \
	"<MaxAttachmentSize/>" \
	"<AllowSimpleDevicePassword>0</AllowSimpleDevicePassword>" \
	"<DevicePasswordExpiration/>" \
	"<DevicePasswordHistory>0</DevicePasswordHistory>" \
	"<AllowStorageCard>1</AllowStorageCard>" \
	"<AllowCamera>1</AllowCamera>" \
	"<RequireDeviceEncryption>0</RequireDeviceEncryption>" \
	"<AllowUnsignedApplications>1</AllowUnsignedApplications>" \
	"<AllowUnsignedInstallationPackages>1</AllowUnsignedInstallationPackages>" \
	"<MinDevicePasswordComplexCharacters>3</MinDevicePasswordComplexCharacters>" \
	"<AllowWiFi>1</AllowWiFi>" \
	"<AllowTextMessaging>1</AllowTextMessaging>" \
	"<AllowPOPIMAPEmail>1</AllowPOPIMAPEmail>" \
	"<AllowBluetooth>2</AllowBluetooth>" \
	"<AllowIrDA>1</AllowIrDA>" \
	"<RequireManualSyncWhenRoaming>0</RequireManualSyncWhenRoaming>" \
	"<AllowDesktopSync>1</AllowDesktopSync>" \
	"<MaxCalendarAgeFilter>0</MaxCalendarAgeFilter>" \
	"<AllowHTMLEmail>1</AllowHTMLEmail>" \
	"<MaxEmailAgeFilter>0</MaxEmailAgeFilter>" \
	"<MaxEmailBodyTruncationSize>-1</MaxEmailBodyTruncationSize>" \
	"<MaxEmailHTMLBodyTruncationSize>-1</MaxEmailHTMLBodyTruncationSize>" \
	"<RequireSignedSMIMEMessages>0</RequireSignedSMIMEMessages>" \
	"<RequireEncryptedSMIMEMessages>0</RequireEncryptedSMIMEMessages>" \
	"<RequireSignedSMIMEAlgorithm>0</RequireSignedSMIMEAlgorithm>" \
	"<RequireEncryptionSMIMEAlgorithm>0</RequireEncryptionSMIMEAlgorithm>" \
	"<AllowSMIMEEncryptionAlgorithmNegotiation>2</AllowSMIMEEncryptionAlgorithmNegotiation>" \
	"<AllowSMIMESoftCerts>1</AllowSMIMESoftCerts>" \
	"<AllowBrowser>1</AllowBrowser>" \
	"<AllowConsumerEmail>1</AllowConsumerEmail>" \
	"<AllowRemoteDesktop>1</AllowRemoteDesktop>" \
	"<AllowInternetSharing>1</AllowInternetSharing>" \
	"<UnapprovedInROMApplicationList/>" \
	"<ApprovedApplicationList/>" \
	"</EASProvisionDoc>"

static const char spec_initial_response[] = NS2
	"<settings:DeviceInformation><settings:Status>1</settings:Status></settings:DeviceInformation>"
	"<Status>1</Status>"
	"<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status>"
	"<PolicyKey>1307199584</PolicyKey><Data>" SPEC_DOC "</Data></Policy></Policies></Provision>";

/* MS-ASPROV 4.1: acknowledgment and its response with the final key. */
static const char spec_ack_request[] = NS
	"<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
	"<PolicyKey>1307199584</PolicyKey><Status>1</Status></Policy></Policies></Provision>";
static const char spec_ack_response[] = NS
	"<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
	"<Status>1</Status><PolicyKey>3942919513</PolicyKey></Policy></Policies></Provision>";

/* MS-ASPROV 4.2 / 4.3: remote wipe directive, its acknowledgment; the account-only form (16.1). */
static const char spec_wipe_response[] = NS "<Status>1</Status><RemoteWipe/></Provision>";
static const char spec_wipe_ack[] = NS "<RemoteWipe><Status>1</Status></RemoteWipe></Provision>";
static const char spec_account_wipe_response[] = NS "<Status>1</Status><AccountOnlyRemoteWipe/></Provision>";
static const char spec_account_wipe_ack[] = NS "<AccountOnlyRemoteWipe><Status>2</Status></AccountOnlyRemoteWipe></Provision>";

/* Protocol 2.5: the MS-WAP-Provisioning-XML policy of MS-ASPROV 2.2.2.24.2, carried as string data. */
#define WAP_DOC_XML(lt, gt, q) \
	lt "wap-provisioningdoc" gt \
	lt "characteristic type=" q "SecurityPolicy" q gt \
	lt "parm name=" q "4131" q " value=" q "0" q "/" gt \
	lt "parm name=" q "4133" q " value=" q "1" q "/" gt \
	lt "/characteristic" gt \
	lt "characteristic type=" q "Registry" q gt \
	lt "characteristic type=" q "HKLM\\Comm\\Security\\Policy\\LASSD\\AE\\{50C13377-C66D-400C-889E-C316FC4AB374}" q gt \
	lt "parm name=" q "AEFrequencyType" q " value=" q "1" q "/" gt \
	lt "parm name=" q "AEFrequencyValue" q " value=" q "15" q "/" gt \
	lt "/characteristic" gt \
	lt "characteristic type=" q "HKLM\\Comm\\Security\\Policy\\LASSD" q gt \
	lt "parm name=" q "DeviceWipeThreshold" q " value=" q "8" q "/" gt \
	lt "/characteristic" gt \
	lt "characteristic type=" q "HKLM\\Comm\\Security\\Policy\\LASSD" q gt \
	lt "parm name=" q "CodewordFrequency" q " value=" q "4" q "/" gt \
	lt "/characteristic" gt \
	lt "characteristic type=" q "HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw" q gt \
	lt "parm name=" q "MinimumPasswordLength" q " value=" q "5" q "/" gt \
	lt "/characteristic" gt \
	lt "characteristic type=" q "HKLM\\Comm\\Security\\Policy\\LASSD\\LAP\\lap_pw" q gt \
	lt "parm name=" q "PasswordComplexity" q " value=" q "0" q "/" gt \
	lt "/characteristic" gt \
	lt "/characteristic" gt \
	lt "/wap-provisioningdoc" gt

static const char wap_doc[] = WAP_DOC_XML("<", ">", "\"");
static const char spec_wap_response[] = NS
	"<Status>1</Status><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType>"
	"<Status>1</Status><PolicyKey>1939283522</PolicyKey><Data>" WAP_DOC_XML("&lt;", "&gt;", "&quot;")
	"</Data></Policy></Policies></Provision>";

/* ---- helpers ---------------------------------------------------------------------- */

typedef int (*encode_fn)(eas_wbxml_encoder *enc, const void *arg);

static int enc_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_provision_request_encode(enc, arg);
}

static int enc_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_provision_response_encode(enc, arg);
}

/* The encoder's result at a protocol version, the bytes dropped. */
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

/* The XML the library's writer makes of a spec example (same formatting as xmldoc_encode). */
static char *canonical(const char *xml)
{
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	char *out = xmldoc_from_wbxml(b.data, b.len);
	eas_buf_free(&b);
	return out;
}

static void decode_response(eas_provision_response *r, eas_tree **t, const char *xml)
{
	char err[200] = "";
	*t = xmldoc_tree(xml);
	int rc = eas_provision_response_decode(r, eas_tree_root(*t), NULL, err, sizeof err);
	if (rc)
		fail_msg("decode: %d %s", rc, err);
}

static void check_policy_value(const eas_policy *p, eas_policy_id id, eas_policy_state st, int64_t value)
{
	int64_t v = 12345;
	if (eas_policy_state_of(p, id) != st)
		fail_msg("%s: state %d, expected %d", eas_policy_name(id), eas_policy_state_of(p, id), st);
	assert_int_equal(eas_policy_get(p, id, &v), 0);
	if (v != value)
		fail_msg("%s: %lld, expected %lld", eas_policy_name(id), (long long)v, (long long)value);
}

/* ---- spec examples --------------------------------------------------------------- */

static void test_spec_initial_request(void **state)
{
	(void)state;
	eas_tree *t = xmldoc_tree(spec_initial_request);
	eas_provision_request r;
	char err[160];
	assert_int_equal(eas_provision_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(r.has_device_info, 1);
	assert_string_equal(r.device_info.model, "Test 1.0");
	assert_string_equal(r.device_info.imei, "012345678901234");
	assert_string_equal(r.device_info.friendly_name, "My Test App");
	assert_string_equal(r.device_info.os, "Test OS 1.0");
	assert_string_equal(r.device_info.os_language, "English");
	assert_string_equal(r.device_info.phone_number, "555-123-4567");
	assert_string_equal(r.device_info.mobile_operator, "My Phone Company");
	assert_string_equal(r.device_info.user_agent, "EAS-Test/1.0");
	assert_int_equal(r.device_info.has_enable_outbound_sms, 0);
	assert_string_equal(r.policy_type, EAS_POLICY_TYPE_EAS_WBXML);
	assert_null(r.policy_key);
	assert_int_equal(r.policy_status, 0);
	assert_int_equal(r.remote_wipe_status, 0);
	assert_int_equal(r.account_only_remote_wipe_status, 0);

	/* The client writes the same document, element for element. */
	r.protocol_version = EAS_PROTO_14_1;
	char *xml = xmldoc_encode(enc_request, &r, EAS_PROTO_14_1);
	char *want = canonical(spec_initial_request);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_tree_free(t);
}

static void test_spec_initial_response(void **state)
{
	(void)state;
	eas_provision_response r;
	eas_tree *t;
	decode_response(&r, &t, spec_initial_response);
	assert_int_equal(r.status, EAS_PROVISION_OK);
	assert_int_equal(r.has_device_info, 1);
	assert_int_equal(r.device_info_status, 1);
	assert_int_equal(r.has_policy, 1);
	assert_string_equal(r.policy_type, EAS_POLICY_TYPE_EAS_WBXML);
	assert_int_equal(r.policy_status, EAS_POLICY_STATUS_OK);
	assert_string_equal(r.policy_key, "1307199584");
	assert_int_equal(r.data, EAS_PROVISION_DATA_EAS_DOC);
	assert_int_equal(r.remote_wipe, 0);
	assert_int_equal(r.account_only_remote_wipe, 0);

	const eas_policy *p = &r.policy;
	static const struct {
		eas_policy_id id;
		eas_policy_state st;
		int64_t v;
	} expect[] = {
		{ EAS_POLICY_DEVICE_PASSWORD_ENABLED, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_PASSWORD_RECOVERY_ENABLED, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ATTACHMENTS_ENABLED, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, EAS_POLICY_SET, 4 },
		{ EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, EAS_POLICY_SET, 900 },
		{ EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, EAS_POLICY_SET, 8 },
		{ EAS_POLICY_MAX_ATTACHMENT_SIZE, EAS_POLICY_EMPTY, 0 },
		{ EAS_POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_DEVICE_PASSWORD_EXPIRATION, EAS_POLICY_EMPTY, 0 },
		{ EAS_POLICY_DEVICE_PASSWORD_HISTORY, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_ALLOW_STORAGE_CARD, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_CAMERA, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_REQUIRE_DEVICE_ENCRYPTION, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_ALLOW_UNSIGNED_APPLICATIONS, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS, EAS_POLICY_SET, 3 },
		{ EAS_POLICY_ALLOW_WIFI, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_TEXT_MESSAGING, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_POP_IMAP_EMAIL, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_BLUETOOTH, EAS_POLICY_SET, EAS_POLICY_BLUETOOTH_ALLOWED },
		{ EAS_POLICY_ALLOW_IRDA, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_ALLOW_DESKTOP_SYNC, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_MAX_CALENDAR_AGE_FILTER, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_ALLOW_HTML_EMAIL, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_MAX_EMAIL_AGE_FILTER, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE, EAS_POLICY_SET, -1 },
		{ EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE, EAS_POLICY_SET, -1 },
		{ EAS_POLICY_REQUIRE_SIGNED_SMIME_MESSAGES, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES, EAS_POLICY_SET, 0 },
		{ EAS_POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM, EAS_POLICY_SET, EAS_POLICY_SMIME_SIGN_SHA1 },
		{ EAS_POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM, EAS_POLICY_SET, EAS_POLICY_SMIME_ENCRYPT_3DES },
		{ EAS_POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION, EAS_POLICY_SET, EAS_POLICY_SMIME_NEGOTIATE_ANY },
		{ EAS_POLICY_ALLOW_SMIME_SOFT_CERTS, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_BROWSER, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_CONSUMER_EMAIL, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_REMOTE_DESKTOP, EAS_POLICY_SET, 1 },
		{ EAS_POLICY_ALLOW_INTERNET_SHARING, EAS_POLICY_SET, 1 },
	};
	for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++)
		check_policy_value(p, expect[i].id, expect[i].st, expect[i].v);
	/* the typed fields themselves */
	assert_int_equal(p->device_password_enabled, 1);
	assert_int_equal(p->min_device_password_length, 4);
	assert_int_equal(p->max_inactivity_time_device_lock, 900);
	assert_int_equal(p->max_device_password_failed_attempts, 8);
	assert_int_equal(p->max_attachment_size, 0);
	assert_int_equal(p->allow_bluetooth, 2);
	assert_int_equal(p->max_email_body_truncation_size, -1);
	assert_int_equal(p->min_device_password_complex_characters, 3);
	/* both lists present and empty, nothing allocated for them */
	assert_int_equal(eas_policy_state_of(p, EAS_POLICY_APPROVED_APPLICATION_LIST), EAS_POLICY_EMPTY);
	assert_int_equal(eas_policy_state_of(p, EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST), EAS_POLICY_EMPTY);
	assert_int_equal(p->approved_application_count, 0);
	assert_int_equal(p->unapproved_in_rom_application_count, 0);
	assert_null(p->storage_);
	/* 42 elements, every one present; the 2.5-only ones absent */
	for (unsigned id = 0; id < EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER; id++)
		if (eas_policy_state_of(p, (eas_policy_id)id) == EAS_POLICY_ABSENT)
			fail_msg("%s absent", eas_policy_name((eas_policy_id)id));
	assert_int_equal(eas_policy_state_of(p, EAS_POLICY_WAP_CODEWORD_FREQUENCY), EAS_POLICY_ABSENT);

	/* The server writes the same document back, element for element. */
	char *xml = xmldoc_encode(enc_response, &r, EAS_PROTO_14_1);
	char *want = canonical(spec_initial_response);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_provision_response_clear(&r);
	eas_tree_free(t);
}

static void test_spec_acknowledgment(void **state)
{
	(void)state;
	eas_tree *t = xmldoc_tree(spec_ack_request);
	eas_provision_request q;
	char err[160];
	assert_int_equal(eas_provision_request_decode(&q, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(q.policy_type, EAS_POLICY_TYPE_EAS_WBXML);
	assert_string_equal(q.policy_key, "1307199584");
	assert_int_equal(q.policy_status, EAS_POLICY_ACK_APPLIED);
	assert_int_equal(q.has_device_info, 0);
	q.protocol_version = EAS_PROTO_14_1; /* an acknowledgment needs no DeviceInformation */
	char *xml = xmldoc_encode(enc_request, &q, EAS_PROTO_14_1);
	char *want = canonical(spec_ack_request);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_tree_free(t);

	eas_provision_response r;
	decode_response(&r, &t, spec_ack_response);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.has_policy, 1);
	assert_int_equal(r.policy_status, 1);
	assert_string_equal(r.policy_key, "3942919513");
	assert_int_equal(r.data, EAS_PROVISION_DATA_NONE);
	assert_int_equal(r.policy.present, 0);
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_14_1);
	want = canonical(spec_ack_response);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_provision_response_clear(&r);
	eas_tree_free(t);
}

static void test_spec_remote_wipe(void **state)
{
	(void)state;
	eas_provision_response r;
	eas_tree *t;
	decode_response(&r, &t, spec_wipe_response);
	assert_int_equal(r.status, 1);
	assert_int_equal(r.remote_wipe, 1);
	assert_int_equal(r.account_only_remote_wipe, 0);
	assert_int_equal(r.has_policy, 0);
	eas_provision_response_clear(&r);
	eas_tree_free(t);

	/* The bare Provision a client sends after status 140, then its acknowledgment. */
	eas_provision_request q;
	memset(&q, 0, sizeof q);
	q.protocol_version = EAS_PROTO_14_1;
	char *xml = xmldoc_encode(enc_request, &q, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG "<Provision xmlns=\"Provision:\"></Provision>");
	free(xml);
	q.remote_wipe_status = EAS_WIPE_ACK_SUCCESS;
	xml = xmldoc_encode(enc_request, &q, EAS_PROTO_14_1);
	char *want = canonical(spec_wipe_ack);
	assert_string_equal(xml, want);
	free(want);
	t = xmldoc_tree(xml);
	eas_provision_request back;
	assert_int_equal(eas_provision_request_decode(&back, eas_tree_root(t), NULL, 0), 0);
	assert_int_equal(back.remote_wipe_status, 1);
	assert_null(back.policy_type);
	eas_tree_free(t);
	free(xml);

	/* 16.1 account-only wipe. */
	decode_response(&r, &t, spec_account_wipe_response);
	assert_int_equal(r.remote_wipe, 0);
	assert_int_equal(r.account_only_remote_wipe, 1);
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_16_1);
	want = canonical(spec_account_wipe_response);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_provision_response_clear(&r);
	eas_tree_free(t);
	memset(&q, 0, sizeof q);
	q.account_only_remote_wipe_status = EAS_WIPE_ACK_FAILURE;
	xml = xmldoc_encode(enc_request, &q, EAS_PROTO_16_1);
	want = canonical(spec_account_wipe_ack);
	assert_string_equal(xml, want);
	free(want);
	t = xmldoc_tree(xml);
	assert_int_equal(eas_provision_request_decode(&back, eas_tree_root(t), NULL, 0), 0);
	assert_int_equal(back.account_only_remote_wipe_status, 2);
	assert_int_equal(back.remote_wipe_status, 0);
	eas_tree_free(t);
	free(xml);
}

static void test_spec_wap_policy(void **state)
{
	(void)state;
	eas_provision_response r;
	eas_tree *t;
	decode_response(&r, &t, spec_wap_response);
	assert_string_equal(r.policy_type, EAS_POLICY_TYPE_WAP_XML);
	assert_string_equal(r.policy_key, "1939283522");
	assert_int_equal(r.data, EAS_PROVISION_DATA_WAP_XML);
	assert_int_equal(r.wap_xml_len, strlen(wap_doc));
	assert_memory_equal(r.wap_xml, wap_doc, r.wap_xml_len);
	const eas_policy *p = &r.policy;
	check_policy_value(p, EAS_POLICY_DEVICE_PASSWORD_ENABLED, EAS_POLICY_SET, 1);       /* 4131 = 0 */
	check_policy_value(p, EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER, EAS_POLICY_SET, 1);      /* 4133 */
	check_policy_value(p, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, EAS_POLICY_SET, 900); /* 15 minutes */
	check_policy_value(p, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, EAS_POLICY_SET, 8);
	check_policy_value(p, EAS_POLICY_WAP_CODEWORD_FREQUENCY, EAS_POLICY_SET, 4);
	check_policy_value(p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, EAS_POLICY_SET, 5);
	check_policy_value(p, EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, EAS_POLICY_SET, 1);
	check_policy_value(p, EAS_POLICY_ALLOW_CAMERA, EAS_POLICY_ABSENT, 1);
	uint64_t want_bits = EAS_POLICY_BIT(EAS_POLICY_DEVICE_PASSWORD_ENABLED) |
			     EAS_POLICY_BIT(EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER) |
			     EAS_POLICY_BIT(EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK) |
			     EAS_POLICY_BIT(EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS) |
			     EAS_POLICY_BIT(EAS_POLICY_WAP_CODEWORD_FREQUENCY) |
			     EAS_POLICY_BIT(EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH) |
			     EAS_POLICY_BIT(EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED);
	assert_true(p->present == want_bits);
	assert_true(p->empty == 0);

	/* The server sends it back at 2.5 as the same string. */
	char *xml = xmldoc_encode(enc_response, &r, EAS_PROTO_2_5);
	char *want = canonical(spec_wap_response);
	assert_string_equal(xml, want);
	free(xml);
	free(want);
	eas_provision_response_clear(&r);
	eas_tree_free(t);
}

/* ---- round trips ------------------------------------------------------------------ */

static const char *const hashes[] = { "0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98" };
static const char *const rom_apps[] = { "\\Windows\\iexplore.exe", "\\Windows\\tmail.exe", "" };

/* A policy with every element set to a value other than its default where the range allows. */
static void full_policy(eas_policy *p)
{
	eas_policy_init(p);
	static const struct {
		eas_policy_id id;
		int64_t v;
	} set[] = {
		{ EAS_POLICY_ALLOW_BLUETOOTH, 1 }, { EAS_POLICY_ALLOW_BROWSER, 0 }, { EAS_POLICY_ALLOW_CAMERA, 0 },
		{ EAS_POLICY_ALLOW_CONSUMER_EMAIL, 0 }, { EAS_POLICY_ALLOW_DESKTOP_SYNC, 0 },
		{ EAS_POLICY_ALLOW_HTML_EMAIL, 0 }, { EAS_POLICY_ALLOW_INTERNET_SHARING, 0 },
		{ EAS_POLICY_ALLOW_IRDA, 0 }, { EAS_POLICY_ALLOW_POP_IMAP_EMAIL, 0 },
		{ EAS_POLICY_ALLOW_REMOTE_DESKTOP, 0 }, { EAS_POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD, 0 },
		{ EAS_POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION, 1 },
		{ EAS_POLICY_ALLOW_SMIME_SOFT_CERTS, 0 }, { EAS_POLICY_ALLOW_STORAGE_CARD, 0 },
		{ EAS_POLICY_ALLOW_TEXT_MESSAGING, 0 }, { EAS_POLICY_ALLOW_UNSIGNED_APPLICATIONS, 0 },
		{ EAS_POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES, 0 }, { EAS_POLICY_ALLOW_WIFI, 0 },
		{ EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, 1 }, { EAS_POLICY_ATTACHMENTS_ENABLED, 0 },
		{ EAS_POLICY_DEVICE_PASSWORD_ENABLED, 1 }, { EAS_POLICY_DEVICE_PASSWORD_EXPIRATION, 90 },
		{ EAS_POLICY_DEVICE_PASSWORD_HISTORY, 5 }, { EAS_POLICY_MAX_ATTACHMENT_SIZE, 4294967295LL },
		{ EAS_POLICY_MAX_CALENDAR_AGE_FILTER, 6 }, { EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, 16 },
		{ EAS_POLICY_MAX_EMAIL_AGE_FILTER, 5 }, { EAS_POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE, 0 },
		{ EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE, 2147483647 },
		{ EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, 9999 },
		{ EAS_POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS, 4 },
		{ EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, 16 }, { EAS_POLICY_PASSWORD_RECOVERY_ENABLED, 1 },
		{ EAS_POLICY_REQUIRE_DEVICE_ENCRYPTION, 1 }, { EAS_POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES, 1 },
		{ EAS_POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM, 4 },
		{ EAS_POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING, 1 }, { EAS_POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM, 1 },
		{ EAS_POLICY_REQUIRE_SIGNED_SMIME_MESSAGES, 1 }, { EAS_POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION, 1 },
	};
	for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
		assert_int_equal(eas_policy_set(p, set[i].id, set[i].v), 0);
	p->approved_applications = hashes;
	p->approved_application_count = 2;
	p->present |= EAS_POLICY_BIT(EAS_POLICY_APPROVED_APPLICATION_LIST);
	p->unapproved_in_rom_applications = rom_apps;
	p->unapproved_in_rom_application_count = 3;
	p->present |= EAS_POLICY_BIT(EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST);
}

static void assert_same_policy(const eas_policy *a, const eas_policy *b)
{
	assert_true(a->present == b->present);
	assert_true(a->empty == b->empty);
	for (unsigned id = 0; id < EAS_POLICY_ID_COUNT; id++) {
		int64_t va, vb;
		if (eas_policy_get(a, (eas_policy_id)id, &va) != 0)
			continue; /* lists below */
		assert_int_equal(eas_policy_get(b, (eas_policy_id)id, &vb), 0);
		if (va != vb)
			fail_msg("%s: %lld != %lld", eas_policy_name((eas_policy_id)id), (long long)va, (long long)vb);
	}
	assert_int_equal(a->approved_application_count, b->approved_application_count);
	for (size_t i = 0; i < a->approved_application_count; i++)
		assert_string_equal(a->approved_applications[i], b->approved_applications[i]);
	assert_int_equal(a->unapproved_in_rom_application_count, b->unapproved_in_rom_application_count);
	for (size_t i = 0; i < a->unapproved_in_rom_application_count; i++)
		assert_string_equal(a->unapproved_in_rom_applications[i], b->unapproved_in_rom_applications[i]);
}

static void round_trip_request(const eas_provision_request *req, unsigned version)
{
	char *xml = xmldoc_encode(enc_request, req, version);
	eas_tree *t = xmldoc_tree(xml);
	eas_provision_request back;
	char err[160] = "";
	if (eas_provision_request_decode(&back, eas_tree_root(t), err, sizeof err) != 0)
		fail_msg("%s: %s", xml, err);
	assert_int_equal(back.has_device_info, req->has_device_info);
	if (req->has_device_info) {
		const eas_settings_device_info *a = &req->device_info, *b = &back.device_info;
		const char *pa[] = { a->model, a->imei, a->friendly_name, a->os, a->os_language, a->phone_number,
				     a->user_agent, a->mobile_operator };
		const char *pb[] = { b->model, b->imei, b->friendly_name, b->os, b->os_language, b->phone_number,
				     b->user_agent, b->mobile_operator };
		for (size_t i = 0; i < 8; i++) {
			if (pa[i])
				assert_string_equal(pa[i], pb[i]);
			else
				assert_null(pb[i]);
		}
		assert_int_equal(a->has_enable_outbound_sms, b->has_enable_outbound_sms);
		assert_int_equal(a->enable_outbound_sms, b->enable_outbound_sms);
	}
	if (req->policy_type)
		assert_string_equal(back.policy_type, req->policy_type);
	else
		assert_null(back.policy_type);
	if (req->policy_key)
		assert_string_equal(back.policy_key, req->policy_key);
	else
		assert_null(back.policy_key);
	assert_int_equal(back.policy_status, req->policy_status);
	assert_int_equal(back.remote_wipe_status, req->remote_wipe_status);
	assert_int_equal(back.account_only_remote_wipe_status, req->account_only_remote_wipe_status);
	eas_tree_free(t);
	free(xml);
}

static void test_request_round_trips(void **state)
{
	(void)state;
	eas_provision_request q;
	memset(&q, 0, sizeof q);
	q.protocol_version = EAS_PROTO_16_1;
	q.has_device_info = 1;
	q.device_info.model = "Phone & <Co>";
	q.device_info.imei = "";
	q.device_info.os = "Android 14";
	q.device_info.os_language = "fr-FR";
	q.device_info.user_agent = "libeas/0.1";
	q.device_info.mobile_operator = "Opérateur";
	q.device_info.has_enable_outbound_sms = 1;
	q.device_info.enable_outbound_sms = 1;
	q.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	round_trip_request(&q, EAS_PROTO_16_1);

	memset(&q, 0, sizeof q);
	q.protocol_version = EAS_PROTO_12_1;
	q.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	round_trip_request(&q, EAS_PROTO_12_1); /* 12.1 initial: no DeviceInformation */
	q.policy_key = "0123";
	for (uint32_t s = EAS_POLICY_ACK_APPLIED; s <= EAS_POLICY_ACK_THIRD_PARTY; s++) {
		q.policy_status = s;
		round_trip_request(&q, EAS_PROTO_12_1);
	}
	memset(&q, 0, sizeof q);
	q.protocol_version = EAS_PROTO_2_5;
	q.policy_type = EAS_POLICY_TYPE_WAP_XML;
	round_trip_request(&q, EAS_PROTO_2_5);
	q.policy_key = "1939283522";
	q.policy_status = EAS_POLICY_ACK_PARTIAL;
	round_trip_request(&q, EAS_PROTO_2_5);

	memset(&q, 0, sizeof q);
	q.remote_wipe_status = EAS_WIPE_ACK_FAILURE;
	q.account_only_remote_wipe_status = EAS_WIPE_ACK_SUCCESS;
	round_trip_request(&q, EAS_PROTO_16_1);
}

static void test_response_round_trips(void **state)
{
	(void)state;
	eas_provision_response r;
	eas_provision_response_init(&r);
	r.status = 1;
	r.has_device_info = 1;
	r.device_info_status = 1;
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	r.policy_status = 1;
	r.policy_key = "4294967295";
	r.data = EAS_PROVISION_DATA_EAS_DOC;
	full_policy(&r.policy);
	r.remote_wipe = 1;
	r.account_only_remote_wipe = 1;
	char *xml = xmldoc_encode(enc_response, &r, EAS_PROTO_16_1);
	eas_tree *t = xmldoc_tree(xml);
	eas_provision_response back;
	char err[160] = "";
	if (eas_provision_response_decode(&back, eas_tree_root(t), NULL, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(back.status, 1);
	assert_int_equal(back.has_device_info, 1);
	assert_string_equal(back.policy_type, EAS_POLICY_TYPE_EAS_WBXML);
	assert_string_equal(back.policy_key, "4294967295");
	eas_tree_free(t); /* the decoded policy does not point into the tree */
	free(xml);
	assert_int_equal(back.data, EAS_PROVISION_DATA_EAS_DOC);
	assert_int_equal(back.remote_wipe, 1);
	assert_int_equal(back.account_only_remote_wipe, 1);
	assert_same_policy(&r.policy, &back.policy);
	assert_non_null(back.policy.storage_);
	eas_provision_response_clear(&back);
	assert_null(back.policy.storage_);

	/* Every element empty (a server unsetting settings). */
	eas_provision_response_init(&r);
	r.status = 1;
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	r.policy_status = 1;
	r.data = EAS_PROVISION_DATA_EAS_DOC;
	for (unsigned id = 0; id < EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER; id++)
		assert_int_equal(eas_policy_set_empty(&r.policy, (eas_policy_id)id), 0);
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_14_0);
	assert_non_null(strstr(xml, "<AllowCamera/>"));
	t = xmldoc_tree(xml);
	assert_int_equal(eas_provision_response_decode(&back, eas_tree_root(t), NULL, err, sizeof err), 0);
	assert_same_policy(&r.policy, &back.policy);
	assert_null(back.policy_key);
	eas_provision_response_clear(&back);
	eas_tree_free(t);
	free(xml);

	/* A failure status alone; a policy status without key or data. */
	eas_provision_response_init(&r);
	r.status = EAS_PROVISION_DEVICE_INFORMATION_REQUIRED;
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<Status>165</Status></Provision>");
	free(xml);
	r.status = 1;
	r.has_policy = 1;
	r.policy_type = "X-Unknown-Type";
	r.policy_status = EAS_POLICY_STATUS_UNKNOWN_TYPE;
	xml = xmldoc_encode(enc_response, &r, EAS_PROTO_14_1);
	t = xmldoc_tree(xml);
	assert_int_equal(eas_provision_response_decode(&back, eas_tree_root(t), NULL, err, sizeof err), 0);
	assert_int_equal(back.policy_status, 3);
	assert_string_equal(back.policy_type, "X-Unknown-Type");
	assert_null(back.policy_key);
	eas_provision_response_clear(&back);
	eas_tree_free(t);
	free(xml);
}

static void test_wap_policy_round_trip(void **state)
{
	(void)state;
	/* server: eas_policy -> WAP XML -> Data string at 2.5; client: back to eas_policy */
	eas_policy p;
	eas_policy_init(&p);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_DEVICE_PASSWORD_ENABLED, 1), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER, 0), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, 600), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, 10), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_WAP_CODEWORD_FREQUENCY, 5), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, 6), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED, 0), 0);
	eas_buf x;
	eas_buf_init(&x, NULL, 0);
	assert_int_equal(eas_provision_wap_policy_write(&x, &p), 0);
	assert_int_equal(eas_buf_append(&x, "", 1), 0);
	eas_provision_response r;
	eas_provision_response_init(&r);
	r.status = 1;
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_WAP_XML;
	r.policy_status = 1;
	r.policy_key = "77";
	r.data = EAS_PROVISION_DATA_WAP_XML;
	r.wap_xml = (const char *)x.data;
	char *xml = xmldoc_encode(enc_response, &r, EAS_PROTO_2_5);
	eas_tree *t = xmldoc_tree(xml);
	eas_provision_response back;
	char err[160] = "";
	if (eas_provision_response_decode(&back, eas_tree_root(t), NULL, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(back.wap_xml, (const char *)x.data);
	p.present |= EAS_POLICY_BIT(EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER); /* 4133 is always written */
	assert_same_policy(&p, &back.policy);
	eas_provision_response_clear(&back);
	eas_tree_free(t);
	free(xml);

	/* Empty settings come back empty: no lock, no wipe threshold, no minimum length. */
	eas_policy_init(&p);
	eas_policy_set_empty(&p, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK);
	eas_policy_set_empty(&p, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS);
	eas_policy_set_empty(&p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH);
	eas_buf_reset(&x);
	assert_int_equal(eas_provision_wap_policy_write(&x, &p), 0);
	eas_policy q;
	assert_int_equal(eas_provision_wap_policy_parse(&q, (const char *)x.data, x.len, NULL, err, sizeof err), 0);
	assert_int_equal(eas_policy_state_of(&q, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK), EAS_POLICY_EMPTY);
	assert_int_equal(eas_policy_state_of(&q, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS), EAS_POLICY_EMPTY);
	assert_int_equal(eas_policy_state_of(&q, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH), EAS_POLICY_EMPTY);
	check_policy_value(&q, EAS_POLICY_DEVICE_PASSWORD_ENABLED, EAS_POLICY_SET, 0);
	eas_buf_free(&x);
}

/* ---- version gating ----------------------------------------------------------------- */

static void test_version_gating(void **state)
{
	(void)state;
	eas_provision_request q;
	memset(&q, 0, sizeof q);
	q.account_only_remote_wipe_status = EAS_WIPE_ACK_SUCCESS;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_16_0), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_16_1), 0);

	/* DeviceInformation: only, and always, in a 14.1+ initial request. */
	memset(&q, 0, sizeof q);
	q.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	q.has_device_info = 1;
	q.device_info.model = "M";
	q.protocol_version = EAS_PROTO_14_0;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_0), EAS_E_INVALID);
	q.protocol_version = EAS_PROTO_12_1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_1), EAS_E_INVALID);
	q.protocol_version = EAS_PROTO_14_1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	q.has_device_info = 0;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.protocol_version = EAS_PROTO_16_0;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_16_0), EAS_E_INVALID);
	q.protocol_version = 0; /* unchecked: the tag table alone decides */
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), 0);
	/* the DeviceInformation fields gate on the encoder's version */
	q.has_device_info = 1;
	q.device_info.mobile_operator = "Op";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	q.device_info.mobile_operator = NULL;
	q.device_info.user_agent = "UA";
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_2_5), EAS_E_UNSUPPORTED);
	/* Model is required; not in an acknowledgment */
	q.device_info.model = NULL;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.device_info.model = "M";
	q.policy_key = "1";
	q.policy_status = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);

	/* PolicyType follows the version. */
	memset(&q, 0, sizeof q);
	q.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	q.protocol_version = EAS_PROTO_2_5;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_2_5), EAS_E_INVALID);
	q.policy_type = EAS_POLICY_TYPE_WAP_XML;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_2_5), 0);
	q.protocol_version = EAS_PROTO_12_0;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_0), EAS_E_INVALID);
	q.protocol_version = EAS_PROTO_12_0 | EAS_PROTO_14_0; /* not one version */
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_12_0), EAS_E_INVALID);
	assert_string_equal(eas_provision_policy_type(EAS_PROTO_2_5), EAS_POLICY_TYPE_WAP_XML);
	assert_string_equal(eas_provision_policy_type(EAS_PROTO_16_1), EAS_POLICY_TYPE_EAS_WBXML);
	assert_null(eas_provision_policy_type(0));
	assert_null(eas_provision_policy_type(EAS_PROTO_ALL));

	/* Bad acknowledgment fields. */
	memset(&q, 0, sizeof q);
	q.policy_key = "1";
	q.policy_status = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID); /* no type */
	q.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	q.policy_status = 5;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	q.policy_key = NULL;
	q.policy_status = 1;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);
	memset(&q, 0, sizeof q);
	q.remote_wipe_status = 3;
	assert_int_equal(encode_rc(enc_request, &q, EAS_PROTO_14_1), EAS_E_INVALID);

	/* Responses: policy elements gate on the version. */
	eas_provision_response r;
	eas_provision_response_init(&r);
	r.status = 1;
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	r.policy_status = 1;
	r.policy_key = "1";
	r.data = EAS_PROVISION_DATA_EAS_DOC;
	assert_int_equal(eas_policy_set(&r.policy, EAS_POLICY_DEVICE_PASSWORD_ENABLED, 1), 0);
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_12_0), 0);
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), EAS_E_UNSUPPORTED); /* EASProvisionDoc */
	assert_int_equal(eas_policy_set(&r.policy, EAS_POLICY_ALLOW_CAMERA, 0), 0);   /* 12.1 */
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_12_1), 0);
	r.policy.approved_application_count = 1;
	r.policy.approved_applications = hashes;
	r.policy.present |= EAS_POLICY_BIT(EAS_POLICY_APPROVED_APPLICATION_LIST);
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);
	r.has_device_info = 1;
	r.device_info_status = 1;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), EAS_E_UNSUPPORTED);
	eas_provision_response_init(&r);
	r.status = 1;
	r.account_only_remote_wipe = 1;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_16_0), EAS_E_UNSUPPORTED);
	r.account_only_remote_wipe = 0;
	r.remote_wipe = 1;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), 0);
	/* inconsistent structs */
	r.data = EAS_PROVISION_DATA_WAP_XML;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), EAS_E_INVALID); /* no Policy */
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_WAP_XML;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), EAS_E_INVALID); /* no wap_xml */
	r.has_policy = 1;
	r.policy_type = NULL;
	r.data = EAS_PROVISION_DATA_NONE;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_2_5), EAS_E_INVALID);
	/* a policy value out of range is never written */
	eas_provision_response_init(&r);
	r.status = 1;
	r.has_policy = 1;
	r.policy_type = EAS_POLICY_TYPE_EAS_WBXML;
	r.data = EAS_PROVISION_DATA_EAS_DOC;
	assert_int_equal(eas_policy_set(&r.policy, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, 4), 0);
	r.policy.min_device_password_length = 40;
	assert_int_equal(encode_rc(enc_response, &r, EAS_PROTO_14_1), EAS_E_INVALID);
}

/* ---- malformed input ----------------------------------------------------------------- */

#define POLICY_HEAD NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>" \
	"<Status>1</Status><PolicyKey>1</PolicyKey><Data><EASProvisionDoc>"
#define POLICY_TAIL "</EASProvisionDoc></Data></Policy></Policies></Provision>"

static void test_malformed_responses(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<Policies/></Provision>", "missing Provision:Status" },
		{ NS "<Status>one</Status></Provision>", "Provision:Status is not a number: 'one'" },
		{ NS "<Status>99999999999</Status></Provision>", "Provision:Status is not a number" },
		{ NS "<Status>1</Status><Policies></Policies></Provision>", "missing Provision:Policy" },
		{ NS "<Status>1</Status><Policies><Policy><Status>1</Status></Policy></Policies></Provision>",
		  "missing Provision:PolicyType" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
		     "</Policy></Policies></Provision>", "missing Provision:Status in Provision:Policy" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
		     "<Status>x1</Status></Policy></Policies></Provision>", "Provision:Status is not a number" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
		     "<Status>1</Status><PolicyKey>12 34</PolicyKey></Policy></Policies></Provision>",
		  "Provision:PolicyKey holds a character outside printable ASCII" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
		     "<Status>1</Status><PolicyKey>12345678901234567890123456789012345678901234567890123456789012345"
		     "</PolicyKey></Policy></Policies></Provision>", "Provision:PolicyKey longer than 64" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType>"
		     "<Status>1</Status><Data>text</Data></Policy></Policies></Provision>",
		  "without Provision:EASProvisionDoc" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType>"
		     "<Status>1</Status><Data><EASProvisionDoc/></Data></Policy></Policies></Provision>",
		  "holds elements, not XML text" },
		{ NS2 "<settings:DeviceInformation/><Status>1</Status></Provision>",
		  "missing Settings:Status in Settings:DeviceInformation" },
		{ "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderSync>",
		  "root element is FolderHierarchy:FolderSync, expected Provision:Provision" },
		/* policy elements: bad numbers and out of range */
		{ POLICY_HEAD "<AllowCamera>2</AllowCamera>" POLICY_TAIL, "Provision:AllowCamera out of range: 2 (0 or 1)" },
		{ POLICY_HEAD "<AllowCamera>yes</AllowCamera>" POLICY_TAIL, "Provision:AllowCamera is not a number: 'yes'" },
		{ POLICY_HEAD "<AllowBluetooth>3</AllowBluetooth>" POLICY_TAIL, "Provision:AllowBluetooth out of range: 3 (0-2)" },
		{ POLICY_HEAD "<MinDevicePasswordLength>17</MinDevicePasswordLength>" POLICY_TAIL,
		  "Provision:MinDevicePasswordLength out of range: 17 (1-16)" },
		{ POLICY_HEAD "<MinDevicePasswordLength>0</MinDevicePasswordLength>" POLICY_TAIL,
		  "Provision:MinDevicePasswordLength out of range: 0 (1-16)" },
		{ POLICY_HEAD "<MaxDevicePasswordFailedAttempts>3</MaxDevicePasswordFailedAttempts>" POLICY_TAIL,
		  "Provision:MaxDevicePasswordFailedAttempts out of range: 3 (4-16)" },
		{ POLICY_HEAD "<MinDevicePasswordComplexCharacters>5</MinDevicePasswordComplexCharacters>" POLICY_TAIL,
		  "Provision:MinDevicePasswordComplexCharacters out of range: 5 (1-4)" },
		{ POLICY_HEAD "<MaxCalendarAgeFilter>3</MaxCalendarAgeFilter>" POLICY_TAIL,
		  "Provision:MaxCalendarAgeFilter out of range: 3 (one of 0, 4, 5, 6, 7)" },
		{ POLICY_HEAD "<MaxEmailAgeFilter>6</MaxEmailAgeFilter>" POLICY_TAIL,
		  "Provision:MaxEmailAgeFilter out of range: 6 (0-5)" },
		{ POLICY_HEAD "<MaxEmailBodyTruncationSize>-2</MaxEmailBodyTruncationSize>" POLICY_TAIL,
		  "Provision:MaxEmailBodyTruncationSize out of range: -2" },
		{ POLICY_HEAD "<MaxEmailHTMLBodyTruncationSize>2147483648</MaxEmailHTMLBodyTruncationSize>" POLICY_TAIL,
		  "Provision:MaxEmailHTMLBodyTruncationSize out of range" },
		{ POLICY_HEAD "<MaxAttachmentSize>4294967296</MaxAttachmentSize>" POLICY_TAIL,
		  "Provision:MaxAttachmentSize out of range: 4294967296" },
		{ POLICY_HEAD "<MaxAttachmentSize>-1</MaxAttachmentSize>" POLICY_TAIL,
		  "Provision:MaxAttachmentSize is not a number: '-1'" },
		{ POLICY_HEAD "<DevicePasswordHistory> 1</DevicePasswordHistory>" POLICY_TAIL,
		  "Provision:DevicePasswordHistory is not a number" },
		{ POLICY_HEAD "<RequireSignedSMIMEAlgorithm>2</RequireSignedSMIMEAlgorithm>" POLICY_TAIL,
		  "Provision:RequireSignedSMIMEAlgorithm out of range: 2 (0-1)" },
		{ POLICY_HEAD "<RequireEncryptionSMIMEAlgorithm>5</RequireEncryptionSMIMEAlgorithm>" POLICY_TAIL,
		  "Provision:RequireEncryptionSMIMEAlgorithm out of range: 5 (0-4)" },
		{ POLICY_HEAD "<AllowSMIMEEncryptionAlgorithmNegotiation>3</AllowSMIMEEncryptionAlgorithmNegotiation>"
		  POLICY_TAIL, "Provision:AllowSMIMEEncryptionAlgorithmNegotiation out of range: 3 (0-2)" },
		{ POLICY_HEAD "<AllowWiFi>1</AllowWiFi><AllowWiFi>0</AllowWiFi>" POLICY_TAIL, "Provision:AllowWiFi appears twice" },
		{ POLICY_HEAD "<AllowCamera><AllowWiFi>1</AllowWiFi></AllowCamera>" POLICY_TAIL,
		  "Provision:AllowCamera cannot have child elements" },
		/* the 2.5 policy text */
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType>"
		     "<Status>1</Status><Data>&lt;wap-provisioningdoc&gt;&lt;characteristic type=\"SecurityPolicy\"&gt;"
		     "&lt;parm name=\"4131\" value=\"2\"/&gt;&lt;/characteristic&gt;&lt;/wap-provisioningdoc&gt;"
		     "</Data></Policy></Policies></Provision>",
		  "wap-provisioningdoc parm '4131' out of range: 2 (0-1)" },
		{ NS "<Status>1</Status><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML</PolicyType>"
		     "<Status>1</Status><Data>&lt;wap-provisioningdoc&gt;</Data></Policy></Policies></Provision>",
		  "MS-WAP-Provisioning-XML line 1:" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_provision_response r;
		char err[200] = "";
		int rc = eas_provision_response_decode(&r, eas_tree_root(t), NULL, err, sizeof err);
		if (rc != EAS_E_MALFORMED)
			fail_msg("case %zu: %d (%s)", i, rc, err);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		/* after a failure nothing is owned and clear is harmless */
		assert_null(r.policy.storage_);
		assert_int_equal(r.has_policy, 0);
		eas_provision_response_clear(&r);
		eas_tree_free(t);
	}
	/* An element a newer server adds, and a PolicyType this client does not know, are ignored. */
	eas_tree *t = xmldoc_tree(POLICY_HEAD "<AllowCamera>0</AllowCamera><Status>7</Status>"
				  "<ApprovedApplicationList><ApplicationName>x</ApplicationName></ApprovedApplicationList>"
				  POLICY_TAIL);
	eas_provision_response r;
	assert_int_equal(eas_provision_response_decode(&r, eas_tree_root(t), NULL, NULL, 0), 0);
	check_policy_value(&r.policy, EAS_POLICY_ALLOW_CAMERA, EAS_POLICY_SET, 0);
	/* a list holding no items of its own kind is an empty list */
	assert_int_equal(eas_policy_state_of(&r.policy, EAS_POLICY_APPROVED_APPLICATION_LIST), EAS_POLICY_EMPTY);
	assert_int_equal(r.policy.approved_application_count, 0);
	eas_provision_response_clear(&r);
	eas_tree_free(t);
	t = xmldoc_tree(NS "<Status>1</Status><Policies><Policy><PolicyType>Other</PolicyType><Status>1</Status>"
			   "<Data>whatever</Data></Policy></Policies></Provision>");
	assert_int_equal(eas_provision_response_decode(&r, eas_tree_root(t), NULL, NULL, 0), 0);
	assert_int_equal(r.data, EAS_PROVISION_DATA_NONE);
	eas_tree_free(t);
}

static void test_malformed_requests(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<RemoteWipe/></Provision>", "missing Provision:Status in Provision:RemoteWipe" },
		{ NS "<RemoteWipe><Status>3</Status></RemoteWipe></Provision>",
		  "Provision:Status in Provision:RemoteWipe out of range: 3 (1-2)" },
		{ NS "<AccountOnlyRemoteWipe><Status>0</Status></AccountOnlyRemoteWipe></Provision>",
		  "Provision:Status in Provision:AccountOnlyRemoteWipe out of range" },
		{ NS "<Policies/></Provision>", "missing Provision:Policy" },
		{ NS "<Policies><Policy/></Policies></Provision>", "missing Provision:PolicyType" },
		{ NS "<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>1</PolicyKey>"
		     "</Policy></Policies></Provision>", "Provision:PolicyKey without Provision:Status" },
		{ NS "<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><Status>1</Status>"
		     "</Policy></Policies></Provision>", "Provision:Status without Provision:PolicyKey" },
		{ NS "<Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>1</PolicyKey>"
		     "<Status>5</Status></Policy></Policies></Provision>", "Provision:Status of Policy out of range: 5 (1-4)" },
		{ NS2 "<settings:DeviceInformation/></Provision>", "missing Settings:Set in Settings:DeviceInformation" },
		{ NS2 "<settings:DeviceInformation><settings:Set><settings:EnableOutboundSMS>2</settings:EnableOutboundSMS>"
		      "</settings:Set></settings:DeviceInformation></Provision>", "Settings:EnableOutboundSMS must be 0 or 1" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_provision_request q;
		char err[200] = "";
		assert_int_equal(eas_provision_request_decode(&q, eas_tree_root(t), err, sizeof err), EAS_E_MALFORMED);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
}

/* ---- the 2.5 policy XML: hostile input ---------------------------------------------- */

static void test_wap_hostile_xml(void **state)
{
	(void)state;
	char deep[4096];
	size_t n = (size_t)snprintf(deep, sizeof deep, "<wap-provisioningdoc>");
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(deep + n, sizeof deep - n, "<characteristic>");
	const struct {
		const char *xml;
		int rc;
		const char *message;
	} cases[] = {
		{ "<!DOCTYPE wap-provisioningdoc [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;\">"
		  "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;\">]><wap-provisioningdoc>&c;</wap-provisioningdoc>",
		  EAS_E_MALFORMED, "DOCTYPE refused" },
		{ "<!DOCTYPE wap-provisioningdoc SYSTEM \"file:///etc/passwd\"><wap-provisioningdoc/>",
		  EAS_E_MALFORMED, "DOCTYPE refused" },
		{ "<wap-provisioningdoc>&undefined;</wap-provisioningdoc>", EAS_E_MALFORMED, "undefined entity" },
		{ deep, EAS_E_LIMIT, "nested deeper than 8" },
		{ "<html><body/></html>", EAS_E_MALFORMED, "policy root element is 'html'" },
		{ "not xml at all", EAS_E_MALFORMED, "MS-WAP-Provisioning-XML line 1" },
		{ "", EAS_E_MALFORMED, "MS-WAP-Provisioning-XML" },
		{ "<wap-provisioningdoc><characteristic type=\"SecurityPolicy\"><parm name=\"4131\"/>"
		  "</characteristic></wap-provisioningdoc>", EAS_E_MALFORMED, "parm '4131' without a value" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm value=\"1\"/></characteristic></characteristic></wap-provisioningdoc>",
		  EAS_E_MALFORMED, "parm without a name" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm name=\"AEFrequencyValue\" value=\"ten\"/></characteristic></characteristic></wap-provisioningdoc>",
		  EAS_E_MALFORMED, "parm 'AEFrequencyValue' is not a number: 'ten'" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm name=\"AEFrequencyValue\" value=\"99999999999\"/></characteristic></characteristic>"
		  "</wap-provisioningdoc>", EAS_E_MALFORMED, "parm 'AEFrequencyValue' out of range" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm name=\"MinimumPasswordLength\" value=\"17\"/></characteristic></characteristic>"
		  "</wap-provisioningdoc>", EAS_E_MALFORMED, "parm 'MinimumPasswordLength' out of range: 17 (0-16)" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm name=\"DeviceWipeThreshold\" value=\"3\"/></characteristic></characteristic>"
		  "</wap-provisioningdoc>", EAS_E_MALFORMED, "parm 'DeviceWipeThreshold' out of range: 3 (4-16)" },
		{ "<wap-provisioningdoc><characteristic type=\"Registry\"><characteristic type=\"x\">"
		  "<parm name=\"PasswordComplexity\" value=\"3\"/></characteristic></characteristic>"
		  "</wap-provisioningdoc>", EAS_E_MALFORMED, "parm 'PasswordComplexity' out of range" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_policy p;
		char err[200] = "";
		int rc = eas_provision_wap_policy_parse(&p, cases[i].xml, strlen(cases[i].xml), NULL, err, sizeof err);
		if (rc != cases[i].rc)
			fail_msg("case %zu: %d (%s)", i, rc, err);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		assert_true(p.present == 0);
	}
	/* larger than the limit: refused before expat sees it */
	size_t big = EAS_WAP_POLICY_MAX_BYTES + 1;
	char *huge = malloc(big);
	assert_non_null(huge);
	memset(huge, ' ', big);
	eas_policy p;
	char err[200] = "";
	assert_int_equal(eas_provision_wap_policy_parse(&p, huge, big, NULL, err, sizeof err), EAS_E_LIMIT);
	assert_non_null(strstr(err, "larger than 65536 bytes"));
	free(huge);
	/* Unknown characteristics, parms and the policy under other elements are skipped; 4131 outside SecurityPolicy too. */
	static const char odd[] = "<?xml version=\"1.0\"?><wap-provisioningdoc version=\"1.1\">"
				  "<characteristic type=\"Other\"><parm name=\"4131\" value=\"0\"/></characteristic>"
				  "<characteristic type=\"SecurityPolicy\"><parm name=\"4097\" value=\"1\"/>"
				  "<parm name=\"4131\" value=\"1\"/></characteristic>"
				  "<characteristic type=\"Registry\"><characteristic type=\"k\">"
				  "<parm name=\"AEFrequencyType\" value=\"0\"/><parm name=\"AEFrequencyValue\" value=\"5\"/>"
				  "<parm name=\"DeviceWipeThreshold\" value=\"-1\"/><noparm name=\"x\"/>"
				  "</characteristic></characteristic></wap-provisioningdoc>";
	assert_int_equal(eas_provision_wap_policy_parse(&p, odd, strlen(odd), NULL, err, sizeof err), 0);
	check_policy_value(&p, EAS_POLICY_DEVICE_PASSWORD_ENABLED, EAS_POLICY_SET, 0);
	check_policy_value(&p, EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK, EAS_POLICY_EMPTY, 0);
	check_policy_value(&p, EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS, EAS_POLICY_EMPTY, 0);
}

/* ---- the eas_policy API --------------------------------------------------------------- */

static void test_policy_api(void **state)
{
	(void)state;
	eas_policy p;
	eas_policy_init(&p);
	/* defaults from MS-ASPROV */
	assert_int_equal(p.allow_simple_device_password, 1);
	assert_int_equal(p.device_password_enabled, 0);
	assert_int_equal(p.allow_bluetooth, EAS_POLICY_BLUETOOTH_ALLOWED);
	assert_int_equal(p.max_email_body_truncation_size, -1);
	assert_int_equal(p.attachments_enabled, 1);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_ALLOW_CAMERA), EAS_POLICY_ABSENT);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_ID_COUNT), EAS_POLICY_ABSENT);
	/* names */
	assert_string_equal(eas_policy_name(EAS_POLICY_ALLOW_POP_IMAP_EMAIL), "AllowPOPIMAPEmail");
	assert_string_equal(eas_policy_name(EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER), "4133");
	assert_null(eas_policy_name(EAS_POLICY_ID_COUNT));
	for (unsigned id = 0; id < EAS_POLICY_ID_COUNT; id++)
		assert_int_equal(eas_policy_lookup(eas_policy_name((eas_policy_id)id)), (int)id);
	assert_int_equal(eas_policy_lookup("allowcamera"), -1);
	assert_int_equal(eas_policy_lookup(NULL), -1);
	/* the WBXML table and the policy names agree */
	for (unsigned id = 0; id < EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER; id++) {
		eas_tag tag = eas_tag_lookup(EAS_PAGE_PROVISION, eas_policy_name((eas_policy_id)id));
		if (tag == EAS_TAG_NONE)
			fail_msg("%s is not a Provision tag", eas_policy_name((eas_policy_id)id));
	}
	/* set / get / ranges */
	int64_t v;
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ALLOW_CAMERA, 2), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_CALENDAR_AGE_FILTER, 2), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_CALENDAR_AGE_FILTER, 7), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE, -1), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE, -2), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MAX_ATTACHMENT_SIZE, 4294967296LL), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_APPROVED_APPLICATION_LIST, 1), EAS_E_INVALID);
	assert_int_equal(eas_policy_get(&p, EAS_POLICY_APPROVED_APPLICATION_LIST, &v), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ID_COUNT, 0), EAS_E_INVALID);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ALLOW_CAMERA, 0), 0);
	assert_int_equal(p.allow_camera, 0);
	assert_int_equal(eas_policy_get(&p, EAS_POLICY_MAX_CALENDAR_AGE_FILTER, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(eas_policy_set_empty(&p, EAS_POLICY_ALLOW_CAMERA), 0);
	assert_int_equal(p.allow_camera, 1);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_ALLOW_CAMERA), EAS_POLICY_EMPTY);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ALLOW_CAMERA, 0), 0);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_ALLOW_CAMERA), EAS_POLICY_SET);

	/* describe: one line per present element, snprintf-like truncation */
	p.approved_applications = hashes;
	p.approved_application_count = 2;
	p.present |= EAS_POLICY_BIT(EAS_POLICY_APPROVED_APPLICATION_LIST);
	eas_policy_set_empty(&p, EAS_POLICY_MAX_ATTACHMENT_SIZE);
	char text[512];
	size_t need = eas_policy_describe(&p, text, sizeof text);
	assert_string_equal(text, "AllowCamera=0\n"
				  "ApprovedApplicationList=0123456789abcdef0123456789abcdef01234567,"
				  "fedcba9876543210fedcba9876543210fedcba98\n"
				  "MaxAttachmentSize=\n"
				  "MaxCalendarAgeFilter=7\n"
				  "MaxEmailHTMLBodyTruncationSize=-1\n");
	assert_int_equal(need, strlen(text));
	char small[10];
	assert_int_equal(eas_policy_describe(&p, small, sizeof small), need);
	assert_string_equal(small, "AllowCame");
	assert_int_equal(eas_policy_describe(&p, NULL, 0), need);
	assert_int_equal(eas_policy_set_empty(&p, EAS_POLICY_APPROVED_APPLICATION_LIST), 0);
	assert_int_equal(p.approved_application_count, 0);
	assert_null(p.approved_applications);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_APPROVED_APPLICATION_LIST), EAS_POLICY_EMPTY);

	/* copy: self-contained, one allocation, freed by clear */
	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	full_policy(&p);
	eas_policy c;
	assert_int_equal(eas_policy_copy(&c, &p, &mem), 0);
	assert_int_equal(tm.live_blocks, 1);
	assert_same_policy(&p, &c);
	assert_true(c.approved_applications != p.approved_applications);
	eas_policy_clear(&c);
	assert_int_equal(tm.live_blocks, 0);
	mem = testmem_init(&tm, 0);
	assert_int_equal(eas_policy_copy(&c, &p, &mem), EAS_E_NOMEM);
	assert_true(c.present == 0);
	assert_int_equal(tm.live_blocks, 0);
	eas_policy_clear(&c);
	eas_policy_init(&p); /* nothing to copy: nothing allocated */
	mem = testmem_init(&tm, 0);
	assert_int_equal(eas_policy_copy(&c, &p, &mem), 0);
	assert_null(c.storage_);
	assert_int_equal(eas_policy_copy(&c, &c, &mem), EAS_E_INVALID);
	p.approved_application_count = 1; /* count without items */
	assert_int_equal(eas_policy_copy(&c, &p, NULL), EAS_E_INVALID);
	eas_policy_clear(NULL);
	eas_policy_init(NULL);
}

/* ---- split input and failing allocations -------------------------------------------- */

/* The response with lists, parsed from WBXML split in two at every byte: the same policy each time. */
static void test_every_split(void **state)
{
	(void)state;
	static const char with_lists[] = POLICY_HEAD "<MinDevicePasswordLength>6</MinDevicePasswordLength>"
		"<UnapprovedInROMApplicationList><ApplicationName>a.exe</ApplicationName></UnapprovedInROMApplicationList>"
		"<ApprovedApplicationList><Hash>h1</Hash><Hash>h2</Hash></ApprovedApplicationList>" POLICY_TAIL;
	eas_buf b;
	xmldoc_to_wbxml(&b, with_lists);
	for (size_t cut = 0; cut <= b.len; cut++) {
		eas_tree *t = NULL;
		assert_int_equal(eas_tree_new(&t, 0, NULL, NULL), 0);
		assert_int_equal(eas_tree_feed(t, b.data, cut), 0);
		assert_int_equal(eas_tree_feed(t, b.data + cut, b.len - cut), 0);
		assert_int_equal(eas_tree_finish(t), 0);
		eas_provision_response r;
		assert_int_equal(eas_provision_response_decode(&r, eas_tree_root(t), NULL, NULL, 0), 0);
		assert_int_equal(r.policy.min_device_password_length, 6);
		assert_int_equal(r.policy.approved_application_count, 2);
		assert_string_equal(r.policy.approved_applications[1], "h2");
		assert_int_equal(r.policy.unapproved_in_rom_application_count, 1);
		assert_string_equal(r.policy.unapproved_in_rom_applications[0], "a.exe");
		eas_provision_response_clear(&r);
		eas_tree_free(t);
	}
	eas_buf_free(&b);
}

/*
 * Tree and decoder with the Nth allocation failing, for every N until all
 * succeed: each failure is EAS_E_NOMEM, nothing leaks.
 */
static void fail_every_allocation(const char *xml, int is_request)
{
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	int done = 0;
	for (long n = 0; !done; n++) {
		assert_true(n < 10000);
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		eas_tree *t = NULL;
		char err[200] = "";
		int rc = eas_tree_parse(&t, b.data, b.len, 0, &mem, err, sizeof err);
		if (rc == 0) {
			if (is_request) {
				eas_provision_request q;
				rc = eas_provision_request_decode(&q, eas_tree_root(t), err, sizeof err);
			} else {
				eas_provision_response r;
				rc = eas_provision_response_decode(&r, eas_tree_root(t), &mem, err, sizeof err);
				if (rc == 0)
					eas_provision_response_clear(&r);
				else
					assert_null(r.policy.storage_);
			}
			eas_tree_free(t);
		}
		if (rc != 0 && rc != EAS_E_NOMEM)
			fail_msg("allocation %ld: %d %s", n, rc, err);
		assert_int_equal(tm.live_blocks, 0);
		done = rc == 0 && tm.calls <= n;
	}
	eas_buf_free(&b);
}

static void test_failing_allocations(void **state)
{
	(void)state;
	static const char with_lists[] = POLICY_HEAD "<AllowCamera>0</AllowCamera>"
		"<UnapprovedInROMApplicationList><ApplicationName>a.exe</ApplicationName></UnapprovedInROMApplicationList>"
		"<ApprovedApplicationList><Hash>h1</Hash></ApprovedApplicationList>" POLICY_TAIL;
	fail_every_allocation(spec_initial_response, 0);
	fail_every_allocation(with_lists, 0);
	fail_every_allocation(spec_wap_response, 0);
	fail_every_allocation(spec_ack_response, 0);
	fail_every_allocation(spec_wipe_response, 0);
	fail_every_allocation(spec_initial_request, 1);
	/* expat alone, every allocation */
	int done = 0;
	for (long n = 0; !done; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		eas_policy p;
		char err[200] = "";
		int rc = eas_provision_wap_policy_parse(&p, wap_doc, strlen(wap_doc), &mem, err, sizeof err);
		if (rc != 0 && rc != EAS_E_NOMEM)
			fail_msg("allocation %ld: %d %s", n, rc, err);
		if (rc)
			assert_true(p.present == 0);
		assert_int_equal(tm.live_blocks, 0);
		done = rc == 0 && tm.calls <= n;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_initial_request),
		cmocka_unit_test(test_spec_initial_response),
		cmocka_unit_test(test_spec_acknowledgment),
		cmocka_unit_test(test_spec_remote_wipe),
		cmocka_unit_test(test_spec_wap_policy),
		cmocka_unit_test(test_request_round_trips),
		cmocka_unit_test(test_response_round_trips),
		cmocka_unit_test(test_wap_policy_round_trip),
		cmocka_unit_test(test_version_gating),
		cmocka_unit_test(test_malformed_responses),
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_wap_hostile_xml),
		cmocka_unit_test(test_policy_api),
		cmocka_unit_test(test_every_split),
		cmocka_unit_test(test_failing_allocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
