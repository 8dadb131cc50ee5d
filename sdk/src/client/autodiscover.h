/*
 * Autodiscover internals: the request body writer and the streaming
 * response parser the state machine (eas/autodiscover.h) is built on.  Kept
 * apart so that tests and fuzz targets can drive the parser alone.
 */
#ifndef EAS_SRC_CLIENT_AUTODISCOVER_H
#define EAS_SRC_CLIENT_AUTODISCOVER_H

#include <stddef.h>

#include "eas/autodiscover.h"

/* Deepest element nesting accepted in a response, longest element text. */
#define EAS__AD_MAX_DEPTH 32
#define EAS__AD_MAX_TEXT 4096

/*
 * Writes the request body for `email` (XML-escaped) into a new
 * NUL-terminated buffer (free with the same hooks).  0 or EAS_E_NOMEM.
 */
int eas__ad_request_body(char **out, size_t *len, const eas_mem *mem, const char *email);

/* What a response said.  Strings are owned by the parser; NULL = absent. */
typedef struct eas__ad_response {
	int autodiscover;        /* root Autodiscover with a Response child seen */
	char *culture;
	char *display_name;
	char *user_email;
	char *redirect;          /* Action/Redirect text, trimmed */
	int has_settings;        /* Action/Settings present */
	char *mobilesync_url;    /* first Server of Type MobileSync: Url, else Name */
	char *cert_enroll_url;   /* first Server of Type CertEnroll */
	char *cert_enroll_data;
	int has_error;           /* an Error element (request level or Action/Error) */
	long error_code;         /* ErrorCode, 0 = absent or not a number */
	long status;             /* Action/Error/Status, 0 = absent */
	char *error_message;     /* Error/Message */
} eas__ad_response;

typedef struct eas__ad_parser eas__ad_parser;

/* max_size: cap on the bytes fed (0 = none).  0 or EAS_E_NOMEM. */
int eas__ad_parser_new(eas__ad_parser **out, const eas_mem *mem, size_t max_size);
void eas__ad_parser_free(eas__ad_parser *p);

/*
 * Feeds body bytes / ends the body.  0, or the sticky error:
 *   EAS_E_MALFORMED  not well-formed XML, a DTD or entity declaration
 *   EAS_E_LIMIT      more than max_size bytes, nesting or text too long,
 *                    entity amplification
 *   EAS_E_PROTOCOL   well-formed, but not an Autodiscover response
 *   EAS_E_NOMEM      an allocation failed (inside expat too)
 *   EAS_E_STATE      feed after finish, finish twice
 */
int eas__ad_parser_feed(eas__ad_parser *p, const void *data, size_t len);
int eas__ad_parser_finish(eas__ad_parser *p);

/* The fields (filled as parsing goes; complete after finish returned 0).
 * The machine may take ownership of a string by setting the field to NULL. */
eas__ad_response *eas__ad_parser_response(eas__ad_parser *p);

/* The error text (never credentials: only parser diagnostics), or NULL. */
const char *eas__ad_parser_error(const eas__ad_parser *p);

#endif
