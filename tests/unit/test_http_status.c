/*
 * HTTP status -> action with its headers, Retry-After and HTTP-date, and the
 * EAS Status tables (sdk/src/http/status.c, eas/status.h).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "eas/eas.h"
#include "eas/status.h"
#include "http/status.h"

/* 2024-05-01T00:00:00Z */
#define NOW INT64_C(1714521600)

/* ---- HTTP status -> action: every code of the digest's table (MS-ASHTTP 2.2.2.1.1) ---- */

static const struct {
	int status;
	eas__http_action action;
	int autodiscover;
	const char *text; /* eas_http_status_text */
} http_cases[] = {
	{ 200, EAS__HTTP_OK, 0, "OK" },
	{ 400, EAS__HTTP_BAD_REQUEST, 0, "Bad Request" },
	{ 401, EAS__HTTP_REAUTH, 1, "Unauthorized" },
	{ 403, EAS__HTTP_FORBIDDEN, 1, "Forbidden" },
	{ 404, EAS__HTTP_NOT_FOUND, 0, "Not Found" },
	{ 449, EAS__HTTP_PROVISION, 0, "Retry After Provisioning" },
	/* 451 without headers: no X-MS-Location, so Autodiscover */
	{ 451, EAS__HTTP_AUTODISCOVER, 1, "Redirect" },
	{ 456, EAS__HTTP_BLOCKED, 0, "Blocked" },
	{ 457, EAS__HTTP_PASSWORD_EXPIRED, 0, "Expired Password" },
	{ 500, EAS__HTTP_BACKOFF_RETRY, 1, "Internal Server Error" },
	{ 501, EAS__HTTP_NOT_IMPLEMENTED, 0, "Not Implemented" },
	{ 502, EAS__HTTP_BACKOFF_RETRY, 0, "Proxy Error" },
	{ 503, EAS__HTTP_BACKOFF_RETRY, 0, "Service Unavailable" },
	{ 507, EAS__HTTP_MAILBOX_FULL, 0, "Insufficient Disk Space" },
	/* not in MS-ASHTTP */
	{ 429, EAS__HTTP_BACKOFF_RETRY, 0, "Too Many Requests" },
	{ 504, EAS__HTTP_BACKOFF_RETRY, 0, "Gateway Timeout" },
	{ 201, EAS__HTTP_OK, 0, NULL },
	{ 204, EAS__HTTP_OK, 0, NULL },
	{ 299, EAS__HTTP_OK, 0, NULL },
	{ 100, EAS__HTTP_OTHER, 0, NULL },
	{ 302, EAS__HTTP_OTHER, 0, NULL },
	{ 405, EAS__HTTP_OTHER, 0, NULL },
	{ 418, EAS__HTTP_OTHER, 0, NULL },
	{ 440, EAS__HTTP_OTHER, 0, NULL },
	{ 505, EAS__HTTP_OTHER, 0, NULL },
	{ 999, EAS__HTTP_OTHER, 0, NULL },
	{ 0, EAS__HTTP_OTHER, 0, NULL },
	{ -1, EAS__HTTP_OTHER, 0, NULL },
};

static void test_http_actions(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(http_cases) / sizeof(http_cases[0]); i++) {
		eas__http_verdict v;
		assert_int_equal(eas__http_classify(&v, http_cases[i].status, NULL, 0, NOW), 0);
		if (v.action != http_cases[i].action || v.autodiscover != http_cases[i].autodiscover)
			fail_msg("HTTP %d: %s/%d, want %s/%d", http_cases[i].status,
				 eas__http_action_name(v.action), v.autodiscover,
				 eas__http_action_name(http_cases[i].action), http_cases[i].autodiscover);
		assert_int_equal(v.status, http_cases[i].status);
		assert_null(v.location);
		assert_int_equal(v.has_retry_after, 0);
		assert_int_equal(v.credentials_expire_days, -1);
		const char *t = eas_http_status_text(http_cases[i].status);
		if (http_cases[i].text)
			assert_string_equal(t, http_cases[i].text);
		else
			assert_null(t);
	}
}

static void test_action_names(void **state)
{
	(void)state;
	static const char *const names[] = { "ok", "reauth", "forbidden", "not_found", "bad_request",
		"provision_then_retry", "redirect", "autodiscover", "blocked", "password_expired",
		"backoff_retry", "not_implemented", "mailbox_full", "other" };
	for (int a = EAS__HTTP_OK; a <= EAS__HTTP_OTHER; a++)
		assert_string_equal(eas__http_action_name((eas__http_action)a), names[a]);
	assert_string_equal(eas__http_action_name((eas__http_action)99), "?");
}

/* ---- 451 and its X-MS-Location ------------------------------------------------------- */

static const struct {
	const char *location; /* NULL = header absent */
	eas__http_action action;
	int rejected;
} redirect_cases[] = {
	{ "https://mail2.contoso.com/Microsoft-Server-ActiveSync", EAS__HTTP_REDIRECT, 0 },
	{ "HTTPS://MAIL2.CONTOSO.COM/Microsoft-Server-ActiveSync", EAS__HTTP_REDIRECT, 0 },
	{ "http://mail2.contoso.com/Microsoft-Server-ActiveSync", EAS__HTTP_REDIRECT, 0 },
	{ "https://mail2.contoso.com:8443", EAS__HTTP_REDIRECT, 0 },
	{ NULL, EAS__HTTP_AUTODISCOVER, 0 },
	{ "", EAS__HTTP_AUTODISCOVER, 1 },
	{ "/Microsoft-Server-ActiveSync", EAS__HTTP_AUTODISCOVER, 1 },
	{ "mail2.contoso.com", EAS__HTTP_AUTODISCOVER, 1 },
	{ "ftp://mail2.contoso.com/", EAS__HTTP_AUTODISCOVER, 1 },
	{ "https://", EAS__HTTP_AUTODISCOVER, 1 },
	{ "https:///path", EAS__HTTP_AUTODISCOVER, 1 },
	{ "https://mail2 .contoso.com/", EAS__HTTP_AUTODISCOVER, 1 },
	{ "https://mail2.contoso.com/\r\nX-Evil: 1", EAS__HTTP_AUTODISCOVER, 1 },
	{ "javascript:alert(1)", EAS__HTTP_AUTODISCOVER, 1 },
};

static void test_redirect(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(redirect_cases) / sizeof(redirect_cases[0]); i++) {
		eas_http_header hs[2] = { { "Date", "Tue, 08 Dec 2009 19:43:24 GMT" },
					  { "x-ms-location", redirect_cases[i].location } };
		size_t n = redirect_cases[i].location ? 2 : 1;
		eas__http_verdict v;
		assert_int_equal(eas__http_classify(&v, 451, hs, n, NOW), 0);
		if (v.action != redirect_cases[i].action || v.location_rejected != redirect_cases[i].rejected)
			fail_msg("451 case %zu: %s rejected=%d", i, eas__http_action_name(v.action),
				 v.location_rejected);
		if (v.action == EAS__HTTP_REDIRECT) {
			assert_ptr_equal(v.location, redirect_cases[i].location);
			assert_int_equal(v.autodiscover, 0);
		} else {
			assert_null(v.location);
			assert_int_equal(v.autodiscover, 1);
		}
	}
	/* X-MS-Location on another status means nothing. */
	eas_http_header h = { "X-MS-Location", "https://x/" };
	eas__http_verdict v;
	assert_int_equal(eas__http_classify(&v, 200, &h, 1, NOW), 0);
	assert_int_equal(v.action, EAS__HTTP_OK);
	assert_null(v.location);
}

/* ---- 457, 503 and the informational headers -------------------------------------------- */

static void test_password_expired(void **state)
{
	(void)state;
	const eas_http_header hs[] = {
		{ "X-MS-Credential-Service-Url", "https://portal.microsoftonline.com/ChangePassword.aspx" },
	};
	eas__http_verdict v;
	assert_int_equal(eas__http_classify(&v, 457, hs, 1, NOW), 0);
	assert_int_equal(v.action, EAS__HTTP_PASSWORD_EXPIRED);
	assert_string_equal(v.credential_url, "https://portal.microsoftonline.com/ChangePassword.aspx");
	/* Missing or unusable: still password_expired, no URL. */
	assert_int_equal(eas__http_classify(&v, 457, NULL, 0, NOW), 0);
	assert_int_equal(v.action, EAS__HTTP_PASSWORD_EXPIRED);
	assert_null(v.credential_url);
	const eas_http_header bad[] = { { "X-MS-Credential-Service-Url", "not a url" } };
	assert_int_equal(eas__http_classify(&v, 457, bad, 1, NOW), 0);
	assert_null(v.credential_url);
}

static void test_info_headers(void **state)
{
	(void)state;
	static const struct {
		const char *value;
		int days;
	} expire[] = {
		{ "13", 13 }, { "0", 0 }, { " 7 ", 7 }, { "", -1 }, { "abc", -1 }, { "-1", -1 },
		{ "3 days", -1 }, { "1234567890", -1 }, { "999999999", 999999999 },
	};
	for (size_t i = 0; i < sizeof(expire) / sizeof(expire[0]); i++) {
		eas_http_header h = { "X-MS-Credentials-Expire", expire[i].value };
		eas__http_verdict v;
		assert_int_equal(eas__http_classify(&v, 200, &h, 1, NOW), 0);
		if (v.credentials_expire_days != expire[i].days)
			fail_msg("X-MS-Credentials-Expire \"%s\": %d", expire[i].value,
				 v.credentials_expire_days);
	}
	eas_http_header rp = { "X-MS-RP", "12.1,14.0,14.1" };
	eas__http_verdict v;
	assert_int_equal(eas__http_classify(&v, 200, &rp, 1, NOW), 0);
	assert_int_equal(v.resync_required, 1);
	assert_int_equal(eas__http_classify(&v, 200, NULL, 0, NOW), 0);
	assert_int_equal(v.resync_required, 0);
	assert_int_equal(eas__http_classify(NULL, 200, NULL, 0, NOW), EAS_E_INVALID);
	assert_int_equal(eas__http_classify(&v, 200, NULL, 2, NOW), EAS_E_INVALID);
}

/* ---- Retry-After -------------------------------------------------------------------------- */

#define MALFORMED (-1)
static const struct {
	const char *value;
	int64_t want; /* seconds, or MALFORMED */
} retry_cases[] = {
	{ "120", 120 },
	{ "0", 0 },
	{ "  5\t", 5 },
	{ "007", 7 },
	{ "2147483647", 2147483647 },
	{ "2147483648", 2147483647 },
	{ "99999999999999999999999999", 2147483647 },
	/* IMF-fixdate, 60 s after NOW */
	{ "Wed, 01 May 2024 00:01:00 GMT", 60 },
	{ "wed, 01 may 2024 00:01:00 gmt", 60 },
	/* in the past, or now */
	{ "Wed, 01 May 2024 00:00:00 GMT", 0 },
	{ "Sun, 06 Nov 1994 08:49:37 GMT", 0 },
	/* RFC 850 and asctime, one hour ahead */
	{ "Wednesday, 01-May-24 01:00:00 GMT", 3600 },
	{ "Wed May  1 01:00:00 2024", 3600 },
	{ "Wed May 01 01:00:00 2024", 3600 },
	/* far future: capped */
	{ "Fri, 31 Dec 9999 23:59:59 GMT", 2147483647 },
	/* malformed */
	{ "", MALFORMED },
	{ "   ", MALFORMED },
	{ "-5", MALFORMED },
	{ "+5", MALFORMED },
	{ "1.5", MALFORMED },
	{ "5s", MALFORMED },
	{ "5 6", MALFORMED },
	{ "0x10", MALFORMED },
	{ "soon", MALFORMED },
	{ "Wed, 01 May 2024 00:01:00 UTC", MALFORMED },
	{ "Wed, 01 May 2024 00:01:00", MALFORMED },
	{ "Wed, 1 May 2024 00:01:00 GMT", MALFORMED },
	{ "Wed, 01 Mai 2024 00:01:00 GMT", MALFORMED },
	{ "Xyz, 01 May 2024 00:01:00 GMT", MALFORMED },
	{ "Wed, 31 Apr 2024 00:01:00 GMT", MALFORMED },
	{ "Thu, 29 Feb 2023 00:00:00 GMT", MALFORMED },
	{ "Wed, 01 May 2024 24:00:00 GMT", MALFORMED },
	{ "Wed, 01 May 2024 00:60:00 GMT", MALFORMED },
	{ "Wed, 01 May 2024 00:00:61 GMT", MALFORMED },
	{ "Wed, 01 May 2024 0:01:00 GMT", MALFORMED },
	{ "Wed, 01 May 2024 00:01:00 GMT junk", MALFORMED },
	{ "Wednesday, 01-May-2024 01:00:00 GMT", MALFORMED },
	{ "Wednesday 01-May-24 01:00:00 GMT", MALFORMED },
	{ "Wed May  1 01:00:00 24", MALFORMED },
	{ "Wed May 1 01:00:00 2024", MALFORMED },
	{ "Wed, 01 May 2024 00:01:00 GMT, Thu, 02 May 2024 00:00:00 GMT", MALFORMED },
	{ "12345678901234567890123456789012345678901234567890x", MALFORMED },
};

static void test_retry_after(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(retry_cases) / sizeof(retry_cases[0]); i++) {
		uint32_t s = 0xABCD;
		int rc = eas__http_retry_after_parse(&s, retry_cases[i].value, NOW);
		if (retry_cases[i].want == MALFORMED) {
			if (rc != EAS_E_MALFORMED)
				fail_msg("\"%s\": rc %d, want malformed", retry_cases[i].value, rc);
		} else if (rc != 0 || s != (uint32_t)retry_cases[i].want) {
			fail_msg("\"%s\": rc %d, %u s, want %lld", retry_cases[i].value, rc, s,
				 (long long)retry_cases[i].want);
		}
	}
	uint32_t s;
	assert_int_equal(eas__http_retry_after_parse(NULL, "5", NOW), EAS_E_INVALID);
	assert_int_equal(eas__http_retry_after_parse(&s, NULL, NOW), EAS_E_INVALID);
}

static void test_retry_after_in_verdict(void **state)
{
	(void)state;
	eas__http_verdict v;
	const eas_http_header ok[] = { { "Content-Type", "text/html" }, { "retry-after", "30" } };
	assert_int_equal(eas__http_classify(&v, 503, ok, 2, NOW), 0);
	assert_int_equal(v.action, EAS__HTTP_BACKOFF_RETRY);
	assert_int_equal(v.has_retry_after, 1);
	assert_int_equal(v.retry_after_s, 30);
	assert_int_equal(v.retry_after_malformed, 0);

	const eas_http_header date[] = { { "Retry-After", "Wed, 01 May 2024 00:02:00 GMT" } };
	assert_int_equal(eas__http_classify(&v, 503, date, 1, NOW), 0);
	assert_int_equal(v.retry_after_s, 120);

	const eas_http_header bad[] = { { "Retry-After", "later, please" } };
	assert_int_equal(eas__http_classify(&v, 503, bad, 1, NOW), 0);
	assert_int_equal(v.action, EAS__HTTP_BACKOFF_RETRY);
	assert_int_equal(v.has_retry_after, 0);
	assert_int_equal(v.retry_after_malformed, 1);

	assert_int_equal(eas__http_classify(&v, 503, NULL, 0, NOW), 0);
	assert_int_equal(v.has_retry_after, 0);
	assert_int_equal(v.retry_after_malformed, 0);
}

/* ---- HTTP-date -------------------------------------------------------------------------- */

static const struct {
	const char *date;
	int64_t now;
	int64_t want;
} date_cases[] = {
	{ "Sun, 06 Nov 1994 08:49:37 GMT", NOW, 784111777 },
	{ "Sunday, 06-Nov-94 08:49:37 GMT", NOW, 784111777 },
	{ "Sun Nov  6 08:49:37 1994", NOW, 784111777 },
	{ "Thu, 01 Jan 1970 00:00:00 GMT", NOW, 0 },
	{ "Wed, 31 Dec 1969 23:59:59 GMT", NOW, -1 },
	{ "Tue, 29 Feb 2000 12:00:00 GMT", NOW, 951825600 },
	{ "Mon, 01 Mar 2100 00:00:00 GMT", NOW, 4107542400 },
	/* RFC 850 two-digit years around NOW (2024): up to 2074 is the future. */
	{ "Monday, 06-Nov-73 08:49:37 GMT", NOW, 3277183777 },
	{ "Thursday, 06-Nov-75 08:49:37 GMT", NOW, 184495777 },
	/* The same text read in 1990: 94 is four years ahead. */
	{ "Sunday, 06-Nov-94 08:49:37 GMT", 631152000, 784111777 },
	/* Leap second tolerated. */
	{ "Sat, 31 Dec 2016 23:59:60 GMT", NOW, 1483228800 },
};

static void test_http_date(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(date_cases) / sizeof(date_cases[0]); i++) {
		int64_t t = 0;
		int rc = eas__http_date_parse(&t, date_cases[i].date, date_cases[i].now);
		if (rc != 0 || t != date_cases[i].want)
			fail_msg("\"%s\": rc %d, %lld, want %lld", date_cases[i].date, rc, (long long)t,
				 (long long)date_cases[i].want);
	}
	int64_t t;
	assert_int_equal(eas__http_date_parse(&t, "Feb 29 2023", NOW), EAS_E_MALFORMED);
	assert_int_equal(eas__http_date_parse(NULL, "x", NOW), EAS_E_INVALID);
	assert_int_equal(eas__http_date_parse(&t, NULL, NOW), EAS_E_INVALID);
}

/* ---- common status codes: every one of [MS-ASCMD] 2.2.2 -------------------------------- */

static const struct {
	int code;
	const char *name;
	eas_status_class cls;
} common_cases[] = {
	{ 101, "InvalidContent", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 102, "InvalidWBXML", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 103, "InvalidXML", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 104, "InvalidDateTime", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 105, "InvalidCombinationOfIDs", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 106, "InvalidIDs", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 107, "InvalidMIME", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 108, "DeviceIdMissingOrInvalid", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 109, "DeviceTypeMissingOrInvalid", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 110, "ServerError", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 111, "ServerErrorRetryLater", EAS_STATUS_CLASS_RETRY_LATER },
	{ 112, "ActiveDirectoryAccessDenied", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 113, "MailboxQuotaExceeded", EAS_STATUS_CLASS_QUOTA },
	{ 114, "MailboxServerOffline", EAS_STATUS_CLASS_RETRY_LATER },
	{ 115, "SendQuotaExceeded", EAS_STATUS_CLASS_QUOTA },
	{ 116, "MessageRecipientUnresolved", EAS_STATUS_CLASS_ITEM },
	{ 117, "MessageReplyNotAllowed", EAS_STATUS_CLASS_ITEM },
	{ 118, "MessagePreviouslySent", EAS_STATUS_CLASS_ALREADY_DONE },
	{ 119, "MessageHasNoRecipient", EAS_STATUS_CLASS_ITEM },
	{ 120, "MailSubmissionFailed", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 121, "MessageReplyFailed", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 122, "AttachmentIsTooLarge", EAS_STATUS_CLASS_ITEM },
	{ 123, "UserHasNoMailbox", EAS_STATUS_CLASS_BLOCKED },
	{ 124, "UserCannotBeAnonymous", EAS_STATUS_CLASS_AUTH },
	{ 125, "UserPrincipalCouldNotBeFound", EAS_STATUS_CLASS_AUTH },
	{ 126, "UserDisabledForSync", EAS_STATUS_CLASS_BLOCKED },
	{ 127, "UserOnNewMailboxCannotSync", EAS_STATUS_CLASS_BLOCKED },
	{ 128, "UserOnLegacyMailboxCannotSync", EAS_STATUS_CLASS_BLOCKED },
	{ 129, "DeviceIsBlockedForThisUser", EAS_STATUS_CLASS_BLOCKED },
	{ 130, "AccessDenied", EAS_STATUS_CLASS_ITEM },
	{ 131, "AccountDisabled", EAS_STATUS_CLASS_BLOCKED },
	{ 132, "SyncStateNotFound", EAS_STATUS_CLASS_RESYNC },
	{ 133, "SyncStateLocked", EAS_STATUS_CLASS_RETRY_LATER },
	{ 134, "SyncStateCorrupt", EAS_STATUS_CLASS_RESYNC },
	{ 135, "SyncStateAlreadyExists", EAS_STATUS_CLASS_RESYNC },
	{ 136, "SyncStateVersionInvalid", EAS_STATUS_CLASS_RESYNC },
	{ 137, "CommandNotSupported", EAS_STATUS_CLASS_UNSUPPORTED },
	{ 138, "VersionNotSupported", EAS_STATUS_CLASS_UNSUPPORTED },
	{ 139, "DeviceNotFullyProvisionable", EAS_STATUS_CLASS_BLOCKED },
	{ 140, "RemoteWipeRequested", EAS_STATUS_CLASS_WIPE },
	{ 141, "LegacyDeviceOnStrictPolicy", EAS_STATUS_CLASS_PROVISION },
	{ 142, "DeviceNotProvisioned", EAS_STATUS_CLASS_PROVISION },
	{ 143, "PolicyRefresh", EAS_STATUS_CLASS_PROVISION },
	{ 144, "InvalidPolicyKey", EAS_STATUS_CLASS_PROVISION },
	{ 145, "ExternallyManagedDevicesNotAllowed", EAS_STATUS_CLASS_PROVISION },
	{ 146, "NoRecurrenceInCalendar", EAS_STATUS_CLASS_ITEM },
	{ 147, "UnexpectedItemClass", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 148, "RemoteServerHasNoSSL", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 149, "InvalidStoredRequest", EAS_STATUS_CLASS_RESEND_FULL },
	{ 150, "ItemNotFound", EAS_STATUS_CLASS_ITEM },
	{ 151, "TooManyFolders", EAS_STATUS_CLASS_QUOTA },
	{ 152, "NoFoldersFound", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 153, "ItemsLostAfterMove", EAS_STATUS_CLASS_ITEM },
	{ 154, "FailureInMoveOperation", EAS_STATUS_CLASS_SERVER_ERROR },
	{ 155, "MoveCommandDisallowedForNonPersistentMoveAction", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 156, "MoveCommandInvalidDestinationFolder", EAS_STATUS_CLASS_ITEM },
	{ 160, "AvailabilityTooManyRecipients", EAS_STATUS_CLASS_ITEM },
	{ 161, "AvailabilityDLLimitReached", EAS_STATUS_CLASS_ITEM },
	{ 162, "AvailabilityTransientFailure", EAS_STATUS_CLASS_RETRY_LATER },
	{ 163, "AvailabilityFailure", EAS_STATUS_CLASS_ITEM },
	{ 164, "BodyPartPreferenceTypeNotSupported", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 165, "DeviceInformationRequired", EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED },
	{ 166, "InvalidAccountId", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 167, "AccountSendDisabled", EAS_STATUS_CLASS_ITEM },
	{ 168, "IRM_FeatureDisabled", EAS_STATUS_CLASS_UNSUPPORTED },
	{ 169, "IRM_TransientError", EAS_STATUS_CLASS_RETRY_LATER },
	{ 170, "IRM_PermanentError", EAS_STATUS_CLASS_ITEM },
	{ 171, "IRM_InvalidTemplateID", EAS_STATUS_CLASS_ITEM },
	{ 172, "IRM_OperationNotPermitted", EAS_STATUS_CLASS_ITEM },
	{ 173, "NoPicture", EAS_STATUS_CLASS_ITEM },
	{ 174, "PictureTooLarge", EAS_STATUS_CLASS_ITEM },
	{ 175, "PictureLimitReached", EAS_STATUS_CLASS_ITEM },
	{ 176, "BodyPart_ConversationTooLarge", EAS_STATUS_CLASS_ITEM },
	{ 177, "MaximumDevicesReached", EAS_STATUS_CLASS_BLOCKED },
	/* 16.0 additions */
	{ 178, "InvalidMimeBodyCombination", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 179, "InvalidSmartForwardParameters", EAS_STATUS_CLASS_FIX_REQUEST },
	{ 183, "InvalidRecipients", EAS_STATUS_CLASS_ITEM },
	{ 184, "OneOrMoreExceptionsFailed", EAS_STATUS_CLASS_ITEM },
};

static void check_text(const char *t)
{
	assert_non_null(t);
	size_t n = strlen(t);
	assert_true(n > 3);
	assert_true(t[n - 1] != '.' && t[n - 1] != ' ');
	for (size_t i = 0; i < n; i++)
		assert_true(t[i] >= 0x20 && t[i] < 0x7F);
}

static void test_common_status(void **state)
{
	(void)state;
	size_t n = sizeof(common_cases) / sizeof(common_cases[0]);
	assert_int_equal(n, 56 + 18 + 4); /* 101-156, 160-177, 178-179 and 183-184 */
	for (size_t i = 0; i < n; i++) {
		int c = common_cases[i].code;
		const char *name = eas_status_name(c);
		if (!name || strcmp(name, common_cases[i].name) != 0)
			fail_msg("%d: name %s, want %s", c, name ? name : "(null)", common_cases[i].name);
		if (eas_status_classify(c) != common_cases[i].cls)
			fail_msg("%d (%s): class %s, want %s", c, name,
				 eas_status_class_text(eas_status_classify(c)),
				 eas_status_class_text(common_cases[i].cls));
		const char *t = eas_status_text(c);
		check_text(t);
		assert_string_not_equal(t, "unknown status code");
		/* Any command falls back to the common table (except overrides). */
		if (c != 155 && c != 156) {
			assert_string_equal(eas_command_status_name(EAS_CMD_SYNC, c), name);
			assert_string_equal(eas_command_status_text(EAS_CMD_PING, c), t);
			assert_int_equal(eas_command_status_classify(EAS_CMD_SEND_MAIL, c),
					 common_cases[i].cls);
		}
	}
	/* Everything else between 0 and 300 is unknown. */
	for (int c = -5; c < 300; c++) {
		int listed = 0;
		for (size_t i = 0; i < n; i++)
			listed |= common_cases[i].code == c;
		if (listed)
			continue;
		assert_null(eas_status_name(c));
		assert_string_equal(eas_status_text(c), "unknown status code");
		assert_int_equal(eas_status_classify(c), EAS_STATUS_CLASS_UNKNOWN);
	}
	assert_string_equal(eas_status_text(111), "the server encountered an unknown error; retry later");
}

/* ---- per-command tables --------------------------------------------------------------- */

static const struct {
	eas_command command;
	int code;
	const char *name;
	eas_status_class cls;
} command_cases[] = {
	{ EAS_CMD_SYNC, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_SYNC, 3, "InvalidSyncKey", EAS_STATUS_CLASS_RESYNC },
	{ EAS_CMD_SYNC, 4, "ProtocolError", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_SYNC, 5, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_SYNC, 6, "ConversionError", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_SYNC, 7, "Conflict", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_SYNC, 8, "ObjectNotFound", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_SYNC, 9, "CannotComplete", EAS_STATUS_CLASS_QUOTA },
	{ EAS_CMD_SYNC, 12, "FolderHierarchyChanged", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_SYNC, 13, "IncompleteRequest", EAS_STATUS_CLASS_RESEND_FULL },
	{ EAS_CMD_SYNC, 14, "InvalidWaitOrHeartbeatInterval", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_SYNC, 15, "TooManyCollections", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_SYNC, 16, "Retry", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_SYNC, 2, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_SYNC, 10, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_SYNC, 142, "DeviceNotProvisioned", EAS_STATUS_CLASS_PROVISION },
	{ EAS_CMD_FOLDER_SYNC, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_FOLDER_SYNC, 6, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_FOLDER_SYNC, 8, "RequestTimedOut", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_FOLDER_SYNC, 9, "InvalidSyncKey", EAS_STATUS_CLASS_RESYNC },
	{ EAS_CMD_FOLDER_SYNC, 10, "MalformedRequest", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_FOLDER_SYNC, 11, "UnknownError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_FOLDER_SYNC, 12, "CodeUnknown", EAS_STATUS_CLASS_SERVER_ERROR },
	{ EAS_CMD_FOLDER_SYNC, 3, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_FOLDER_CREATE, 2, "FolderExists", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_FOLDER_CREATE, 3, "SpecialParentFolder", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_FOLDER_CREATE, 5, "ParentNotFound", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_FOLDER_CREATE, 9, "InvalidSyncKey", EAS_STATUS_CLASS_RESYNC },
	{ EAS_CMD_FOLDER_CREATE, 12, "CodeUnknown", EAS_STATUS_CLASS_SERVER_ERROR },
	{ EAS_CMD_FOLDER_CREATE, 4, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_FOLDER_UPDATE, 2, "FolderExistsOrSpecial", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_FOLDER_UPDATE, 3, "RecipientInformationFolder", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_FOLDER_UPDATE, 4, "FolderNotFound", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_FOLDER_UPDATE, 5, "ParentNotFound", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_FOLDER_UPDATE, 12, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_FOLDER_DELETE, 3, "SpecialFolder", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_FOLDER_DELETE, 4, "FolderNotFound", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_FOLDER_DELETE, 2, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_PING, 1, "HeartbeatExpired", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_PING, 2, "ChangesFound", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_PING, 3, "MissingParameters", EAS_STATUS_CLASS_RESEND_FULL },
	{ EAS_CMD_PING, 4, "SyntaxError", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_PING, 5, "InvalidHeartbeatInterval", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_PING, 6, "TooManyFolders", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_PING, 7, "FolderSyncRequired", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_PING, 8, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_GET_ITEM_ESTIMATE, 2, "InvalidCollection", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_GET_ITEM_ESTIMATE, 3, "SyncStateNotPrimed", EAS_STATUS_CLASS_RESYNC },
	{ EAS_CMD_GET_ITEM_ESTIMATE, 4, "InvalidSyncKey", EAS_STATUS_CLASS_RESYNC },
	{ EAS_CMD_MOVE_ITEMS, 1, "InvalidSource", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_MOVE_ITEMS, 2, "InvalidDestination", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_MOVE_ITEMS, 3, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_MOVE_ITEMS, 4, "SameSourceAndDestination", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_MOVE_ITEMS, 5, "MoveFailed", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_MOVE_ITEMS, 7, "Locked", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_MOVE_ITEMS, 6, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_ITEM_OPERATIONS, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_ITEM_OPERATIONS, 8, "InvalidByteRange", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_ITEM_OPERATIONS, 13, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_ITEM_OPERATIONS, 17, "PartialSuccess", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_ITEM_OPERATIONS, 18, "CredentialsRequired", EAS_STATUS_CLASS_AUTH },
	{ EAS_CMD_ITEM_OPERATIONS, 155, "MoveAlwaysMissing", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_ITEM_OPERATIONS, 156, "ActionNotSupported", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_ITEM_OPERATIONS, 105, "InvalidCombinationOfIDs", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_SETTINGS, 4, "ServerUnavailable", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_SETTINGS, 7, "DeniedByPolicy", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_SETTINGS, 8, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_PROVISION, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_PROVISION, 2, "ProtocolError", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_PROVISION, 3, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_PROVISION, 4, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_PROVISION, 139, "DeviceNotFullyProvisionable", EAS_STATUS_CLASS_BLOCKED },
	{ EAS_CMD_PROVISION, 141, "LegacyDeviceOnStrictPolicy", EAS_STATUS_CLASS_PROVISION },
	{ EAS_CMD_PROVISION, 145, "ExternallyManagedDevicesNotAllowed", EAS_STATUS_CLASS_PROVISION },
	{ EAS_CMD_PROVISION, 165, "DeviceInformationRequired", EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED },
	{ EAS_CMD_PROVISION, 177, "MaximumDevicesReached", EAS_STATUS_CLASS_BLOCKED },
	{ EAS_CMD_SEARCH, 3, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_SEARCH, 9, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_SEARCH, 11, "FolderSyncRequired", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_SEARCH, 14, "CredentialsRequired", EAS_STATUS_CLASS_AUTH },
	{ EAS_CMD_SEARCH, 173, "NoPicture", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_MEETING_RESPONSE, 2, "InvalidMeetingRequest", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_MEETING_RESPONSE, 4, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_RESOLVE_RECIPIENTS, 2, "Ambiguous", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_RESOLVE_RECIPIENTS, 5, "ProtocolError", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_RESOLVE_RECIPIENTS, 6, "ServerError", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_RESOLVE_RECIPIENTS, 8, "CertificateLimitReached", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_RESOLVE_RECIPIENTS, 162, "AvailabilityTransientFailure", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_VALIDATE_CERT, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_VALIDATE_CERT, 13, "Revoked", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_VALIDATE_CERT, 14, "RevocationServerOffline", EAS_STATUS_CLASS_RETRY_LATER },
	{ EAS_CMD_VALIDATE_CERT, 17, "UnknownServerError", EAS_STATUS_CLASS_SERVER_ERROR },
	{ EAS_CMD_VALIDATE_CERT, 18, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_FIND, 1, "Success", EAS_STATUS_CLASS_SUCCESS },
	{ EAS_CMD_FIND, 2, "InvalidRequest", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_FIND, 3, "FolderSyncRequired", EAS_STATUS_CLASS_FOLDER_SYNC },
	{ EAS_CMD_FIND, 4, "StartWithRangeZero", EAS_STATUS_CLASS_FIX_REQUEST },
	{ EAS_CMD_FIND, 5, NULL, EAS_STATUS_CLASS_UNKNOWN },
	/* SendMail and the Smart* commands: common codes only */
	{ EAS_CMD_SEND_MAIL, 1, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ EAS_CMD_SEND_MAIL, 118, "MessagePreviouslySent", EAS_STATUS_CLASS_ALREADY_DONE },
	{ EAS_CMD_SMART_REPLY, 117, "MessageReplyNotAllowed", EAS_STATUS_CLASS_ITEM },
	{ EAS_CMD_SMART_FORWARD, 179, "InvalidSmartForwardParameters", EAS_STATUS_CLASS_FIX_REQUEST },
	/* a value that is not a command */
	{ (eas_command)6, 3, NULL, EAS_STATUS_CLASS_UNKNOWN },
	{ (eas_command)6, 140, "RemoteWipeRequested", EAS_STATUS_CLASS_WIPE },
};

static void test_command_status(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(command_cases) / sizeof(command_cases[0]); i++) {
		eas_command cmd = command_cases[i].command;
		int code = command_cases[i].code;
		const char *name = eas_command_status_name(cmd, code);
		const char *want = command_cases[i].name;
		if ((want == NULL) != (name == NULL) || (want && strcmp(name, want) != 0))
			fail_msg("%s %d: name %s, want %s", eas_command_name(cmd), code,
				 name ? name : "(null)", want ? want : "(null)");
		if (eas_command_status_classify(cmd, code) != command_cases[i].cls)
			fail_msg("%s %d: class %s, want %s", eas_command_name(cmd), code,
				 eas_status_class_text(eas_command_status_classify(cmd, code)),
				 eas_status_class_text(command_cases[i].cls));
		const char *t = eas_command_status_text(cmd, code);
		check_text(t);
		if (want)
			assert_string_not_equal(t, "unknown status code");
		else
			assert_string_equal(t, "unknown status code");
	}
	assert_string_equal(eas_command_status_text(EAS_CMD_SYNC, 3), "invalid synchronization key");
	assert_string_equal(eas_command_status_text(EAS_CMD_MOVE_ITEMS, 3), "success");
	assert_string_equal(eas_command_status_text(EAS_CMD_PING, 7), "folder hierarchy sync required");
	/* Every per-command entry below 101 of every command has a sane text. */
	for (int c = 0; c < 0x110; c++) {
		if (!eas_command_name((eas_command)c))
			continue;
		for (int s = 0; s < 101; s++)
			if (eas_command_status_name((eas_command)c, s))
				check_text(eas_command_status_text((eas_command)c, s));
	}
}

static void test_describe(void **state)
{
	(void)state;
	char buf[128];
	const char *want = "Sync status 3 (InvalidSyncKey): invalid synchronization key";
	assert_int_equal(eas_command_status_describe(buf, sizeof(buf), EAS_CMD_SYNC, 3),
			 (int)strlen(want));
	assert_string_equal(buf, want);
	eas_command_status_describe(buf, sizeof(buf), EAS_CMD_FOLDER_SYNC, 142);
	assert_string_equal(buf, "FolderSync status 142 (DeviceNotProvisioned): the device is not provisioned");
	eas_command_status_describe(buf, sizeof(buf), EAS_CMD_SYNC, 2);
	assert_string_equal(buf, "Sync status 2: unknown status code");
	/* truncation reports the full length */
	char small[10];
	assert_int_equal(eas_command_status_describe(small, sizeof(small), EAS_CMD_SYNC, 3),
			 (int)strlen(want));
	assert_string_equal(small, "Sync stat");
	assert_int_equal(eas_command_status_describe(NULL, 0, EAS_CMD_SYNC, 3), (int)strlen(want));
	assert_int_equal(eas_command_status_describe(NULL, 4, EAS_CMD_SYNC, 3), EAS_E_INVALID);
	assert_int_equal(eas_command_status_describe(buf, sizeof(buf), (eas_command)7, 3), EAS_E_INVALID);
}

static void test_policy_and_classes(void **state)
{
	(void)state;
	assert_string_equal(eas_policy_status_text(1), "success");
	assert_string_equal(eas_policy_status_text(2), "there is no policy for this client");
	assert_string_equal(eas_policy_status_text(5), "the client acknowledged the wrong policy key");
	assert_string_equal(eas_policy_status_text(6), "unknown status code");
	for (int i = 3; i <= 4; i++)
		check_text(eas_policy_status_text(i));
	for (int c = EAS_STATUS_CLASS_UNKNOWN; c <= EAS_STATUS_CLASS_ALREADY_DONE; c++)
		check_text(eas_status_class_text((eas_status_class)c));
	assert_string_equal(eas_status_class_text((eas_status_class)99), "unknown status");
	assert_string_equal(eas_status_class_text(EAS_STATUS_CLASS_RETRY_LATER), "retry later");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_http_actions),
		cmocka_unit_test(test_action_names),
		cmocka_unit_test(test_redirect),
		cmocka_unit_test(test_password_expired),
		cmocka_unit_test(test_info_headers),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_retry_after_in_verdict),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_common_status),
		cmocka_unit_test(test_command_status),
		cmocka_unit_test(test_describe),
		cmocka_unit_test(test_policy_and_classes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
