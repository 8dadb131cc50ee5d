/*
 * MS-ASHTTP request headers ([MS-ASHTTP] 2.2.1.1.2): the header list the
 * client session hands to the transport (eas/sys/transport.h) with every
 * command POST and with the OPTIONS request.  Pure: no I/O, one allocation.
 *
 * What is sent, in this order (each only when the rule says so):
 *
 *   MS-ASProtocolVersion   plain query only (the base64 query carries the
 *                          version); never on OPTIONS
 *   X-MS-PolicyKey         when a key is known, plain query only; never on
 *                          OPTIONS or Ping ([MS-ASPROV] 3.1.5.1: the key goes
 *                          with every command except Autodiscover, Ping and
 *                          OPTIONS)
 *   User-Agent             when given (SHOULD be sent, and kept constant)
 *   Content-Type           only when there is a body ("SHOULD NOT be present"
 *                          otherwise); application/vnd.ms-sync.wbxml unless
 *                          the caller names another type (message/rfc822 for
 *                          a <= 12.1 SendMail, text/xml for Autodiscover)
 *   MS-ASAcceptMultiPart   "T" when asked, ItemOperations with the plain query
 *                          only (the base64 query uses its Options bit)
 *   Accept-Language        when given (locale for Search and Find)
 *   Cookie                 when given (the session echoes Set-Cookie: a MUST
 *                          for 16.x and for OAuth)
 *   Authorization          "Basic base64(user:password)" or "Bearer token";
 *                          none for client-certificate authentication
 *
 * Credentials: every string lives in one block owned by the list; the block
 * is wiped (a volatile byte loop the compiler cannot drop) before it is
 * freed, and so is the scratch copy of "user:password".  Only the
 * Authorization value contains credential material.
 */
#ifndef EAS_SRC_HTTP_HEADERS_H
#define EAS_SRC_HTTP_HEADERS_H

#include <stddef.h>

#include "eas/common.h"
#include "eas/http.h"
#include "eas/sys/transport.h"

/* Most headers eas__http_headers_build() emits. */
#define EAS__HTTP_HEADERS_MAX 8u

/* Longest policy key accepted ([MS-ASPROV] 2.2.2.42: at most 64 characters). */
#define EAS__HTTP_POLICY_KEY_MAX 64u

#define EAS__HTTP_CONTENT_TYPE_WBXML "application/vnd.ms-sync.wbxml"

typedef enum eas__http_auth {
	EAS__HTTP_AUTH_NONE = 0, /* client certificate: no Authorization header */
	EAS__HTTP_AUTH_BASIC,    /* user + password */
	EAS__HTTP_AUTH_BEARER    /* OAuth 2.0 access token */
} eas__http_auth;

/*
 * What the request is.  Strings are borrowed for the duration of the call.
 * Zero-initialise (designated initialisers) and set what applies.
 */
typedef struct eas__http_header_params {
	/* 1 for the OPTIONS request: no version, policy key, body or multipart. */
	int options_request;
	/* The command (POST only). */
	eas_command command;
	/*
	 * One EAS_PROTO_* bit.  Required for a POST with the plain query; ignored
	 * with the base64 query and for OPTIONS.
	 */
	unsigned protocol_version;
	/* 1 when the request line carries the base64 query. */
	int base64_query;
	/* Current policy key as sent by the server, or NULL (none yet). */
	const char *policy_key;
	/* User-Agent value, or NULL to send none. */
	const char *user_agent;
	/* 1 when the request has a body (even an empty one sent on purpose). */
	int has_body;
	/* Body media type; NULL = application/vnd.ms-sync.wbxml. */
	const char *content_type;
	/* eas__http_auth and its credentials. */
	int auth;
	const char *user;     /* Basic: user-id, no ':' */
	const char *password; /* Basic: may be empty */
	const char *token;    /* Bearer */
	/* 1 to ask for a multipart ItemOperations response (plain query only). */
	int accept_multipart;
	/* Accept-Language value (e.g. "en-US"), or NULL. */
	const char *accept_language;
	/* Cookie value ("a=1; b=2") to echo, or NULL. */
	const char *cookie;
} eas__http_header_params;

/* A built header list; items point into the owned block. */
typedef struct eas__http_headers {
	eas_http_header items[EAS__HTTP_HEADERS_MAX];
	size_t count;
	/* Private. */
	char *block;
	size_t block_size;
	eas_mem mem;
} eas__http_headers;

/*
 * Builds the header list for p into *out (overwritten without being freed;
 * on failure it holds an empty list that owns nothing).  Allocates one block
 * through mem (NULL = libc); release it with eas__http_headers_free().
 *
 * Returns 0, EAS_E_NOMEM, or EAS_E_INVALID: out or p NULL; a POST with the
 * plain query and no valid protocol_version; a value with a control
 * character (CR, LF, NUL...) or empty where a value is required; a policy
 * key that is not 1-64 visible ASCII characters; Basic with a missing or
 * empty user, a user containing ':', or a missing password; Bearer with a
 * token that is empty or not visible ASCII; an unknown auth kind;
 * accept_multipart for a command other than ItemOperations.
 */
int eas__http_headers_build(eas__http_headers *out, const eas__http_header_params *p,
	const eas_mem *mem);

/* Wipes and frees the block, leaves an empty list.  NULL and empty are fine. */
void eas__http_headers_free(eas__http_headers *h);

/*
 * The value of the first header named `name` (ASCII case-insensitive) in
 * headers[0..count), or NULL.  Entries with a NULL name or value are skipped.
 */
const char *eas__http_header_get(const eas_http_header *headers, size_t count,
	const char *name);

/* ASCII case-insensitive equality of two NUL-terminated strings. */
int eas__http_ascii_ieq(const char *a, const char *b);

/* Zeroes n bytes at p in a way the optimiser keeps (credentials). */
void eas__http_wipe(void *p, size_t n);

#endif
