/*
 * libeas — Autodiscover for mobile clients ([MS-ASCMD] 2.2.1.1, the "POX"
 * XML protocol; server search per [MS-OXDISCO] 3.1.5), sans I/O.
 *
 * Given an e-mail address and credentials, the machine finds the
 * ActiveSync ("MobileSync") server URL.  It never opens a socket or resolves
 * a name: it hands out actions, the application carries them out and feeds
 * the outcome back.
 *
 *     eas_autodiscover_options o = EAS_AUTODISCOVER_OPTIONS_INIT;
 *     o.email = "alice@example.com";
 *     o.auth = EAS_AUTODISCOVER_AUTH_BASIC;
 *     o.password = pw;
 *     eas_autodiscover *ad;
 *     eas_autodiscover_new(&ad, &o);
 *     for (;;) {
 *         eas_autodiscover_action a;
 *         eas_autodiscover_next(ad, &a);
 *         switch (a.type) {
 *         case EAS_AUTODISCOVER_SEND_REQUEST:   // a.request: method, url, headers, body
 *             send it; feed eas_autodiscover_response_begin / _body / _end
 *             (or hand it to an eas_transport with the handler from
 *             eas_autodiscover_response_handler());
 *             break;
 *         case EAS_AUTODISCOVER_NEED_SRV:       // resolve a.srv_name (DNS SRV)
 *             eas_autodiscover_srv_result(ad, records, n);  // n = 0: none
 *             break;
 *         case EAS_AUTODISCOVER_CONFIRM:        // ask the user about a.url
 *             eas_autodiscover_confirm(ad, yes);
 *             break;
 *         case EAS_AUTODISCOVER_DONE:   use a.result->url ... ; goto out;
 *         case EAS_AUTODISCOVER_FAILED: show a.message ... ;   goto out;
 *         }
 *     }
 *
 * Search order (each step that fails moves on to the next one):
 *
 *   1. POST https://<domain>/autodiscover/autodiscover.xml
 *   2. POST https://autodiscover.<domain>/autodiscover/autodiscover.xml
 *   3. GET  http://autodiscover.<domain>/autodiscover/autodiscover.xml, the
 *      one plain-HTTP step of the specification.  It is sent WITHOUT
 *      credentials and without a body, and it is used for one thing only: a
 *      3xx answer whose Location is an https:// URL (an http:// Location is
 *      refused and the step fails, whatever allow_plain_http says).  As the
 *      target was learnt over an unauthenticated channel, the machine asks
 *      the application (EAS_AUTODISCOVER_CONFIRM) before it POSTs the
 *      credentials there, unless skip_confirmation is set.
 *   4. DNS SRV _autodiscover._tcp.<domain> (EAS_AUTODISCOVER_NEED_SRV; the
 *      application resolves it and feeds the records back), then POST to
 *      https://<target>[:<port>]/autodiscover/autodiscover.xml for each
 *      record in priority order, each confirmed like step 3.
 *
 * <domain> is the part of the address after the last '@', lower-cased; it
 * must be ASCII (pass internationalised domains as IDNA A-labels).  The
 * domain is never shortened: the machine never tries autodiscover.<parent
 * domain> (the "Autodiscover leak" pattern).  The SCP (Active Directory)
 * step of [MS-OXDISCO] is for domain-joined desktops and is not done.
 * With options.url set, that URL is the only starting point.
 *
 * What ends a step, and what follows:
 *
 *   - a transport error (connect, DNS, TLS, timeout), an HTTP status other
 *     than 200 / 3xx / 401, a 200 whose body is not an Autodiscover response
 *     (not XML, another XML document, too big, too deep, a DTD): the step
 *     failed, the search goes on.  Web servers that answer any path with an
 *     HTML page are common at https://<domain>/.
 *   - HTTP 401: the search STOPS with EAS_E_AUTH (see "401" below).
 *   - HTTP 3xx to a POST ([MS-OXDSCLI] 3.1.5.2; Exchange 2007 SP2 sends it to
 *     reach a newer server): the same body is POSTed to the Location URL,
 *     which must be https:// (or http:// with allow_plain_http).  A refused
 *     or missing Location fails the step.
 *   - an Autodiscover response (root Autodiscover in the responseschema/2006
 *     namespace with a Response child) is authoritative and ends the search:
 *       Action/Settings with a Server of Type MobileSync -> DONE (Url, or
 *         Name when Url is absent; must be https:// unless allow_plain_http);
 *       Action/Redirect with an e-mail address -> the search restarts at
 *         step 1 for that address and its domain (the credentials stay);
 *       Action/Redirect holding an https:// URL (some servers do this) ->
 *         the same request is POSTed to it;
 *       Error (ErrorCode 600 invalid request, 601 no provider for the
 *         mobilesync schema, MS-OXDSCLI's 500-603, or Action/Error/Status)
 *         -> FAILED: EAS_E_UNSUPPORTED for 601, EAS_E_PROTOCOL otherwise,
 *         with server_error and the server's Message;
 *       anything else (no MobileSync server, an unusable URL) -> FAILED.
 *   - when a redirect target fails (transport error, 404...), the search
 *     resumes with the step after the one that led to the redirect.
 *
 * Redirects of every kind (3xx, Action/Redirect address or URL, the probe's
 * Location) count against max_redirects; one more fails with EAS_E_LIMIT.
 * A POST redirect back to a URL already POSTed for the same address, or an
 * address redirect to an address already used, is a loop: FAILED with
 * EAS_E_PROTOCOL.  A probe or SRV target already tried is skipped.
 *
 * 401.  Microsoft's client guidance allows trying the remaining URLs after a
 * 401; this machine stops by default, because (a) the candidate URLs very
 * often reach the same server, so each further POST is one more failed
 * logon against the same account and walks it towards an Active Directory
 * lockout, (b) a wrong password does not get better on the next host and
 * the user has to be asked anyway, and (c) credentials should be sent to as
 * few hosts as possible.  FAILED then carries EAS_E_AUTH, http_status 401,
 * the URL and the first WWW-Authenticate value (e.g. "Bearer ..." tells the
 * application to switch to OAuth).  Applications that prefer the other
 * reading set continue_after_auth_failure: the search goes on and ends with
 * EAS_E_AUTH if nothing else answers.
 *
 * Credentials go to every POST as a preemptive Authorization header
 * (Basic base64(user:password), or Bearer <token>); the probe GET never
 * carries them.  They are copied at creation, never logged, never put in
 * a message or any other action field, and wiped when the handle is freed.
 * Server-provided text that ends up in a message has any copy of the
 * secrets replaced by "[redacted]".
 *
 * Threads: a handle is used by one thread at a time; there is no global
 * state except a thread-local pointer used while expat runs.
 * Memory: everything goes through options.mem (NULL = libc).
 */
#ifndef EAS_AUTODISCOVER_H
#define EAS_AUTODISCOVER_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/sys/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eas_autodiscover eas_autodiscover;

/* The namespaces of the protocol. */
#define EAS_AUTODISCOVER_NS_REQUEST \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006"
#define EAS_AUTODISCOVER_NS_RESPONSE \
	"http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
#define EAS_AUTODISCOVER_NS_MOBILESYNC \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

/* Where a request or confirmation comes from. */
typedef enum eas_autodiscover_step {
	EAS_AUTODISCOVER_STEP_URL = 0,       /* options.url */
	EAS_AUTODISCOVER_STEP_DOMAIN = 1,    /* https://<domain>/autodiscover/autodiscover.xml */
	EAS_AUTODISCOVER_STEP_HOST = 2,      /* https://autodiscover.<domain>/... */
	EAS_AUTODISCOVER_STEP_PROBE = 3,     /* GET http://autodiscover.<domain>/..., and POST to its Location */
	EAS_AUTODISCOVER_STEP_SRV = 4,       /* DNS SRV, and POST to its targets */
	EAS_AUTODISCOVER_STEP_REDIRECT = 5   /* POST to a URL a server redirected to */
} eas_autodiscover_step;

/* options.steps bits: which of steps 1-4 to run (0 = all). */
#define EAS_AUTODISCOVER_STEPS_DOMAIN (1u << EAS_AUTODISCOVER_STEP_DOMAIN)
#define EAS_AUTODISCOVER_STEPS_HOST (1u << EAS_AUTODISCOVER_STEP_HOST)
#define EAS_AUTODISCOVER_STEPS_PROBE (1u << EAS_AUTODISCOVER_STEP_PROBE)
#define EAS_AUTODISCOVER_STEPS_SRV (1u << EAS_AUTODISCOVER_STEP_SRV)
#define EAS_AUTODISCOVER_STEPS_ALL 0x1Eu

typedef enum eas_autodiscover_auth {
	EAS_AUTODISCOVER_AUTH_NONE = 0,   /* no Authorization header */
	EAS_AUTODISCOVER_AUTH_BASIC = 1,  /* username (or email) + password */
	EAS_AUTODISCOVER_AUTH_BEARER = 2  /* bearer_token (OAuth2 access token) */
} eas_autodiscover_auth;

#define EAS_AUTODISCOVER_OPTIONS_VERSION 1

typedef struct eas_autodiscover_options {
	unsigned int version;        /* EAS_AUTODISCOVER_OPTIONS_VERSION */
	/* The user's SMTP address, "local@domain".  Required.  Copied. */
	const char *email;
	eas_autodiscover_auth auth;
	/*
	 * Basic: the user name (e.g. "alice@example.com", "DOMAIN\\alice"; no
	 * ':'), NULL = the e-mail address given here; and the password.  The
	 * name stays the same after an address redirect.  Copied.
	 */
	const char *username;
	const char *password;
	/* Bearer: the access token (visible ASCII, no spaces).  Copied. */
	const char *bearer_token;
	/* Optional: start at this Autodiscover URL instead of steps 1-4. */
	const char *url;
	/* EAS_AUTODISCOVER_STEPS_* bits; 0 = all. */
	unsigned steps;
	/* Redirects followed in all (0 = 10, at most 100). */
	unsigned max_redirects;
	/*
	 * Accept http:// for options.url, redirect targets and the MobileSync
	 * URL (test servers on loopback).  Default 0: credentials only travel
	 * over https.  The probe GET is plain HTTP by definition and is always
	 * allowed (it carries nothing); its Location must be https regardless.
	 */
	int allow_plain_http;
	/* Do not ask (EAS_AUTODISCOVER_CONFIRM) before using probe/SRV targets. */
	int skip_confirmation;
	/* After a 401, keep searching instead of stopping (see above). */
	int continue_after_auth_failure;
	/* Cap on a response body in bytes (0 = 64 KiB). */
	size_t max_response_size;
	/* Put into every request's timeout_ms (0 = 30000). */
	uint32_t timeout_ms;
	/* Allocator hooks, copied (NULL = libc). */
	const eas_mem *mem;
} eas_autodiscover_options;

#define EAS_AUTODISCOVER_OPTIONS_INIT { EAS_AUTODISCOVER_OPTIONS_VERSION, NULL, \
	EAS_AUTODISCOVER_AUTH_NONE, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, NULL }

/* One DNS SRV record the application found for _autodiscover._tcp.<domain>. */
typedef struct eas_autodiscover_srv {
	const char *target;    /* host name, without or with the final '.'; "." = no service */
	uint16_t port;         /* 0 = 443 */
	uint16_t priority;
	uint16_t weight;
} eas_autodiscover_srv;

/* What Autodiscover found (DONE).  Strings are UTF-8; NULL when absent. */
typedef struct eas_autodiscover_result {
	const char *url;              /* the ActiveSync server URL (Server Type MobileSync) */
	const char *display_name;     /* User/DisplayName */
	const char *user_email;       /* User/EMailAddress as the server wrote it */
	const char *culture;          /* Culture, e.g. "en:us" */
	const char *cert_enroll_url;  /* Server Type CertEnroll Url */
	const char *cert_enroll_data; /* its ServerData (certificate template) */
	const char *email;            /* the address the answer is for (after address redirects) */
	const char *autodiscover_url; /* the Autodiscover URL that answered (worth caching) */
	eas_autodiscover_step step;   /* the step that led to it */
	unsigned redirects;           /* redirects followed */
	int address_changed;          /* nonzero: email differs from options.email */
	/*
	 * nonzero: the answer came through a probe or SRV target, i.e. from a
	 * host learnt over an unauthenticated channel, that the app confirmed
	 * (or skip_confirmation let through).  Worth showing to the user.
	 */
	int confirmed;
} eas_autodiscover_result;

typedef enum eas_autodiscover_action_type {
	EAS_AUTODISCOVER_SEND_REQUEST = 1,
	EAS_AUTODISCOVER_NEED_SRV = 2,
	EAS_AUTODISCOVER_CONFIRM = 3,
	EAS_AUTODISCOVER_DONE = 4,
	EAS_AUTODISCOVER_FAILED = 5
} eas_autodiscover_action_type;

/*
 * One action.  Pointers in it stay valid until the next call of
 * eas_autodiscover_next() or eas_autodiscover_free(); the DONE result and
 * the FAILED texts stay valid until eas_autodiscover_free().
 */
typedef struct eas_autodiscover_action {
	eas_autodiscover_action_type type;
	eas_autodiscover_step step;    /* SEND_REQUEST, CONFIRM: where the URL comes from */
	/*
	 * SEND_REQUEST: ready for eas_transport.submit().  POST: headers
	 * "Authorization" (unless auth NONE) and "Content-Type: text/xml",
	 * the XML body in memory.  GET (probe): no headers, no body.
	 */
	eas_http_request request;
	/* NEED_SRV: the name to resolve ("_autodiscover._tcp.<domain>"); domain alone. */
	const char *srv_name;
	const char *domain;
	/* CONFIRM: the URL the credentials would be POSTed to.  FAILED: the URL involved, or NULL. */
	const char *url;
	/* DONE */
	const eas_autodiscover_result *result;
	/* FAILED */
	int error;                     /* EAS_E_* */
	const char *message;           /* human-readable; never credentials */
	int http_status;               /* the status behind it (401...), or 0 */
	int server_error;              /* Autodiscover ErrorCode or Error/Status, or 0 */
	const char *auth_challenge;    /* 401: first WWW-Authenticate value, or NULL */
} eas_autodiscover_action;

/*
 * Creates a machine.  Returns 0, EAS_E_NOMEM, or EAS_E_INVALID: NULL
 * out/options/email, unknown version, an address without a usable domain,
 * Basic without a password or with ':' in the name, Bearer without a token
 * or with one that is not visible ASCII, an options.url that is not
 * https:// (http:// with allow_plain_http), max_redirects > 100.
 * *out is NULL on failure.
 */
EAS_EXTERN int eas_autodiscover_new(eas_autodiscover **out, const eas_autodiscover_options *options);

/* Frees the machine and wipes the credentials.  NULL is allowed. */
EAS_EXTERN void eas_autodiscover_free(eas_autodiscover *ad);

/*
 * The next action, in *out.  Returns 0, EAS_E_INVALID (NULL argument), or
 * EAS_E_STATE while the machine waits for a response, an SRV result or a
 * confirmation.  Once DONE or FAILED, it returns that same action again.
 * Running out of memory inside the machine ends it: FAILED, EAS_E_NOMEM.
 */
EAS_EXTERN int eas_autodiscover_next(eas_autodiscover *ad, eas_autodiscover_action *out);

/*
 * Feeding the response to the last SEND_REQUEST (the order of an
 * eas_http_response_handler: begin at most once, body any number of times,
 * end exactly once).
 *
 * begin: the final status (100..999) and the header fields (names compared
 *   case-insensitively).  Returns 0, EAS_E_STATE, EAS_E_INVALID, or
 *   EAS_E_NOMEM.
 * body: the next piece of the body.  Returns 0 to go on, or a negative code
 *   when the machine needs no more of this body (it already knows the
 *   outcome: too big, malformed XML, out of memory); the caller may abort
 *   the exchange with that code (return it from on_body), and still calls
 *   end.  EAS_E_STATE before begin or after end.
 * end: transport_error is 0 when the whole response arrived, else the
 *   transport's code (EAS_E_IO, EAS_E_TLS, EAS_E_CANCELLED...; the code a
 *   body call returned is fine too).  EAS_E_CANCELLED, when the machine had
 *   not already decided, ends it (FAILED, EAS_E_CANCELLED); other errors
 *   fail the step.  end(0) without begin is EAS_E_STATE.  Returns 0 or
 *   EAS_E_STATE / EAS_E_INVALID.
 */
EAS_EXTERN int eas_autodiscover_response_begin(eas_autodiscover *ad, int status,
					       const eas_http_header *headers, size_t header_count);
EAS_EXTERN int eas_autodiscover_response_body(eas_autodiscover *ad, const void *data, size_t len);
EAS_EXTERN int eas_autodiscover_response_end(eas_autodiscover *ad, int transport_error);

/*
 * Fills *out with a response handler that feeds ad (on_head -> begin,
 * on_body -> body, on_complete -> end), for eas_transport.submit().
 */
EAS_EXTERN void eas_autodiscover_response_handler(eas_http_response_handler *out,
						  eas_autodiscover *ad);

/*
 * The answer to NEED_SRV: the records found (count 0: none, or the lookup
 * failed).  Records are tried by ascending priority, then descending weight
 * (the machine has no randomness; order them yourself for RFC 2782 weighted
 * selection and give them equal priority and weight); of the first 64
 * given, the best 8 are kept.  Records whose target is NULL, "." or not a
 * host name are skipped, and so is a target already asked.  Copied.  Returns 0,
 * EAS_E_STATE (not waiting for SRV), EAS_E_INVALID, EAS_E_NOMEM.
 */
EAS_EXTERN int eas_autodiscover_srv_result(eas_autodiscover *ad, const eas_autodiscover_srv *records,
					   size_t count);

/*
 * The answer to CONFIRM: nonzero = POST to that URL, 0 = skip it (the
 * search goes on).  Returns 0 or EAS_E_STATE.
 */
EAS_EXTERN int eas_autodiscover_confirm(eas_autodiscover *ad, int accept);

/* One request made, for diagnostics ("what was tried"). */
typedef struct eas_autodiscover_attempt {
	eas_autodiscover_step step;
	const char *method;    /* "POST" or "GET" */
	const char *url;
	const char *email;     /* the address asked for */
	int http_status;       /* 0 = no response */
	int error;             /* 0 = the answer or a redirect came from it; else why it failed */
	const char *detail;    /* short text, never credentials */
} eas_autodiscover_attempt;

/*
 * The requests made so far (oldest first).  *out is valid until the next
 * call into ad that changes it.  Returns the count.
 */
EAS_EXTERN size_t eas_autodiscover_attempts(const eas_autodiscover *ad,
					    const eas_autodiscover_attempt **out);

#ifdef __cplusplus
}
#endif

#endif /* EAS_AUTODISCOVER_H */
