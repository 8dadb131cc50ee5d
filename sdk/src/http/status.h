/*
 * HTTP status of an ActiveSync response -> what the client does
 * ([MS-ASHTTP] 2.2.2.1.1, 3.1.5.2; 449 from [MS-OXPROTO] 2.5.14.5), and the
 * response headers that go with it: X-MS-Location (451),
 * X-MS-Credential-Service-Url (457), Retry-After (503), X-MS-Credentials-
 * Expire, X-MS-RP.  The EAS Status tables are public (eas/status.h).
 *
 *   2xx      OK                parse the body (check its Status)
 *   400      BAD_REQUEST       client bug: never resend unchanged
 *   401      REAUTH            credentials refused (+ SHOULD Autodiscover)
 *   403      FORBIDDEN         user not enabled for EAS (+ SHOULD Autodiscover); report
 *   404      NOT_FOUND         wrong URL: check it / Autodiscover
 *   449      PROVISION         provision, then resend with the new key
 *   451      REDIRECT          X-MS-Location valid: use it for this and later requests
 *   451      AUTODISCOVER      no usable X-MS-Location: full Autodiscover
 *   456      BLOCKED           stop; tell the user to contact the administrator
 *   457      PASSWORD_EXPIRED  stop; send the user to X-MS-Credential-Service-Url
 *   500      BACKOFF_RETRY     retry with backoff (+ SHOULD Autodiscover)
 *   501      NOT_IMPLEMENTED   command not supported: check MS-ASProtocolCommands
 *   502, 503 BACKOFF_RETRY     retry with backoff, Retry-After as the floor
 *   507      MAILBOX_FULL      stop uploading; tell the user
 *   429, 504 BACKOFF_RETRY     not in MS-ASHTTP: generic HTTP throttling/gateway
 *   other    OTHER             report
 */
#ifndef EAS_SRC_HTTP_STATUS_H
#define EAS_SRC_HTTP_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/sys/transport.h"

typedef enum eas__http_action {
	EAS__HTTP_OK = 0,
	EAS__HTTP_REAUTH,
	EAS__HTTP_FORBIDDEN,
	EAS__HTTP_NOT_FOUND,
	EAS__HTTP_BAD_REQUEST,
	EAS__HTTP_PROVISION,
	EAS__HTTP_REDIRECT,
	EAS__HTTP_AUTODISCOVER,
	EAS__HTTP_BLOCKED,
	EAS__HTTP_PASSWORD_EXPIRED,
	EAS__HTTP_BACKOFF_RETRY,
	EAS__HTTP_NOT_IMPLEMENTED,
	EAS__HTTP_MAILBOX_FULL,
	EAS__HTTP_OTHER
} eas__http_action;

/* Retry-After values are capped here (RFC 9111 1.2.2 delta-seconds cap). */
#define EAS__HTTP_RETRY_AFTER_MAX 2147483647u

typedef struct eas__http_verdict {
	eas__http_action action;
	int status;
	/* The spec says the client SHOULD run Autodiscover (401, 403, 500; 451 without location). */
	int autodiscover;
	/* 451: the X-MS-Location URL (borrowed from the headers), or NULL. */
	const char *location;
	/* 451 whose X-MS-Location was present but not an absolute http(s) URL. */
	int location_rejected;
	/* X-MS-Credential-Service-Url (borrowed), or NULL; sent with 457. */
	const char *credential_url;
	/* Retry-After, in seconds from now (a date in the past gives 0). */
	int has_retry_after;
	uint32_t retry_after_s;
	/* A Retry-After header was present but could not be read (then ignored). */
	int retry_after_malformed;
	/* X-MS-Credentials-Expire: days until the password expires (0 = < 24 h); -1 = absent/unreadable. */
	int credentials_expire_days;
	/* X-MS-RP present: the server wants a full resynchronisation. */
	int resync_required;
} eas__http_verdict;

/*
 * Classifies an HTTP status with its response headers (names compared ASCII
 * case-insensitively; values as the transport delivers them).  now_s is the
 * wall clock (Unix seconds, UTC) for a Retry-After given as an HTTP-date.
 * Pointers in *out borrow from headers.
 * Returns 0, or EAS_E_INVALID when out is NULL or headers is NULL with
 * count > 0.  A status outside 100-999 is classified OTHER.
 */
int eas__http_classify(eas__http_verdict *out, int status, const eas_http_header *headers,
	size_t count, int64_t now_s);

/* "ok", "reauth", "redirect", ... for logs and tests; "?" for an unknown value. */
const char *eas__http_action_name(eas__http_action action);

/*
 * Parses a Retry-After value (RFC 9110 10.2.3): delta-seconds (1*DIGIT;
 * values past EAS__HTTP_RETRY_AFTER_MAX are capped) or an HTTP-date in any
 * of the three forms (IMF-fixdate, RFC 850, asctime) turned into seconds
 * from now_s (0 if the date is not in the future).  Surrounding spaces and
 * tabs are ignored.  Returns 0 with *out_s, or EAS_E_MALFORMED (also for an
 * empty value, a sign, a fraction, a bad date or trailing junk) or
 * EAS_E_INVALID (NULL argument).
 */
int eas__http_retry_after_parse(uint32_t *out_s, const char *value, int64_t now_s);

/*
 * Parses an HTTP-date (RFC 9110 5.6.7) into Unix seconds.  now_s resolves
 * the two-digit year of the RFC 850 form (a year more than 50 years in the
 * future is taken as the past century).  Returns 0 or EAS_E_MALFORMED /
 * EAS_E_INVALID.
 */
int eas__http_date_parse(int64_t *out, const char *value, int64_t now_s);

#endif
