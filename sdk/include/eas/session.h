/*
 * libeas — the client session: one ActiveSync account, sans I/O.
 *
 * The session never touches the network, a clock or a file.  It hands out
 * the next HTTP request, consumes the response as it streams in, and reports
 * what happened through a small event queue:
 *
 *     eas_session_connect(s);                    // OPTIONS, then Provision
 *     for (;;) {
 *         const eas_http_request *req;
 *         if (eas_session_next_request(s, &req, now_ms) == 0 && req)
 *             ... send req; feed eas_session_response_head/_body/_end ...
 *         eas_session_event ev;
 *         while (eas_session_next_event(s, &ev) == 1)
 *             ... act on ev (accept a policy, wipe, show an error) ...
 *         ... sleep until eas_session_next_timeout(s, now_ms) ...
 *     }
 *
 * or, with a transport (eas/sys/transport.h, e.g. the libcurl one), let
 * eas_session_run_transport() do the ferrying.  One request is in flight at
 * a time per session.  A session is used by one thread at a time.
 */
#ifndef EAS_SESSION_H
#define EAS_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/http.h"
#include "eas/sys/platform.h"
#include "eas/sys/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eas_session eas_session;

/*
 * OAuth2: the app returns a bearer token in buf (NUL-terminated, at most
 * size bytes).  refresh = 1 when the previous token was refused (HTTP 401):
 * the app must get a new one.  Return 0, or a negative EAS_E_* code (the
 * session then reports EAS_EVENT_AUTH_FAILED).
 */
typedef int (*eas_token_fn)(char *buf, size_t size, int refresh, void *user_data);

/* Device facts sent in settings:DeviceInformation (14.1+ Provision, Settings). */
typedef struct eas_device_info {
	const char *model;
	const char *imei;
	const char *friendly_name;
	const char *os;
	const char *os_language;
	const char *phone_number;
	const char *mobile_operator;
} eas_device_info;

#define EAS_ACCOUNT_VERSION 1
typedef struct eas_account {
	int version;             /* EAS_ACCOUNT_VERSION */
	/* https://host/Microsoft-Server-ActiveSync (from Autodiscover or the user). */
	const char *url;
	/* User name for the query string and Basic auth (e.g. "alice" or "DOMAIN\\alice"). */
	const char *user;
	/* Basic auth password, or NULL when token_fn is set.  Copied; wiped on free. */
	const char *password;
	/* OAuth2 bearer token source (Authorization: Bearer), or NULL. */
	eas_token_fn token_fn;
	void *token_user_data;
	/* Device id (1-32 letters/digits) and type ("SmartPhone", "Android"...). */
	const char *device_id;
	const char *device_type;
	const char *user_agent;  /* NULL: "libeas/VERSION" */
	/* Versions the app accepts (EAS_PROTO_* bits); 0 = all. */
	unsigned versions;
	/* The policy key saved from an earlier run, or NULL. */
	const char *policy_key;
	/* Protocol version saved from an earlier run (one EAS_PROTO_* bit), or 0 to ask OPTIONS. */
	unsigned protocol_version;
	eas_device_info device;
	/* Plain http:// URLs are refused unless this is set. */
	int allow_plain_http;
} eas_account;
#define EAS_ACCOUNT_INIT { EAS_ACCOUNT_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, 0, \
			   { NULL, NULL, NULL, NULL, NULL, NULL, NULL }, 0 }

typedef enum eas_event_type {
	EAS_EVENT_NONE = 0,
	/* OPTIONS answered: version = the negotiated version. */
	EAS_EVENT_VERSION_NEGOTIATED,
	/*
	 * The server sent a security policy (policy is valid until the next
	 * call into the session).  The app applies it, then MUST call
	 * eas_session_accept_policy() with the outcome.
	 */
	EAS_EVENT_POLICY,
	/* Provisioned: policy_key is the final key (save it). */
	EAS_EVENT_PROVISIONED,
	/*
	 * Remote wipe requested (account_only = 1 for AccountOnlyRemoteWipe,
	 * 16.1).  The app wipes (the whole device, or this account's data) and
	 * calls eas_session_ack_wipe(); the session then acknowledges it.
	 */
	EAS_EVENT_WIPE,
	/* HTTP 451: url is the new server URL (save it). */
	EAS_EVENT_REDIRECT,
	/* Credentials refused (after one token refresh for OAuth2). */
	EAS_EVENT_AUTH_FAILED,
	/* Connect finished: the session is ready for commands. */
	EAS_EVENT_READY,
	/* An operation failed: error (EAS_E_*), status (EAS or HTTP status), message. */
	EAS_EVENT_ERROR,
	/*
	 * eas_session_send's command was answered (HTTP 200): status is the
	 * root's Status (0 when the body has none or is empty); the body is at
	 * eas_session_response_data().
	 */
	EAS_EVENT_RESPONSE,
	/* eas/sync.h: the folder hierarchy is up to date (count = folders changed). */
	EAS_EVENT_FOLDERS_SYNCED,
	/* A Sync response was applied: folder_id, added/changed/deleted so far, bytes so far. */
	EAS_EVENT_SYNC_PROGRESS,
	/* eas_session_sync finished: added/changed/deleted/bytes are the totals. */
	EAS_EVENT_SYNC_DONE,
	/* Push: a Ping said these folders changed (count; folder_id is the first); a Sync follows. */
	EAS_EVENT_PUSH,
	/* GetItemEstimate: folder_id and estimate (one event per folder). */
	EAS_EVENT_ESTIMATE,
	/* SendMail accepted by the server. */
	EAS_EVENT_MAIL_SENT,
	/* Attachment fetched: bytes = its size. */
	EAS_EVENT_FETCHED,
	/*
	 * eas/mail.h: a queued MOVE was done: folder_id = the destination,
	 * server_id = the item's new ServerId (NULL when it comes with the next
	 * Sync of the destination, after a MoveItems repeated across a crash).
	 */
	EAS_EVENT_ITEM_MOVED,
	/*
	 * A queued local change the server refused was dropped (the operation
	 * goes on): folder_id, server_id = the item, status = the EAS status.
	 */
	EAS_EVENT_CHANGE_FAILED,
	/* FolderCreate/FolderUpdate/FolderDelete done: folder_id (a new folder's id). */
	EAS_EVENT_FOLDER_CHANGED,
	/* Settings answered (Oof get/set, UserInformation): see eas_session_oof(), _user_addresses(). */
	EAS_EVENT_SETTINGS
} eas_event_type;

struct eas_policy;

typedef struct eas_session_event {
	eas_event_type type;
	int error;                   /* EAS_E_* for EAS_EVENT_ERROR */
	int http_status;             /* the HTTP status involved, or 0 */
	int status;                  /* the EAS Status involved, or 0 */
	unsigned version;            /* EAS_EVENT_VERSION_NEGOTIATED */
	int account_only;            /* EAS_EVENT_WIPE */
	const char *message;         /* human-readable, never credentials */
	const char *url;             /* EAS_EVENT_REDIRECT */
	const char *policy_key;      /* EAS_EVENT_PROVISIONED */
	const struct eas_policy *policy; /* EAS_EVENT_POLICY */
	/* Synchronization events (eas/sync.h). */
	const char *folder_id;       /* SYNC_PROGRESS, PUSH, ESTIMATE */
	uint64_t added, changed, deleted; /* SYNC_PROGRESS, SYNC_DONE */
	uint64_t bytes;              /* SYNC_PROGRESS, SYNC_DONE, FETCHED */
	uint64_t count;              /* FOLDERS_SYNCED, PUSH */
	uint64_t estimate;           /* ESTIMATE */
	const char *server_id;       /* ITEM_MOVED, CHANGE_FAILED (an item's ServerId), or NULL */
} eas_session_event;

#define EAS_SESSION_OPTIONS_VERSION 1
typedef struct eas_session_options {
	int version;                  /* EAS_SESSION_OPTIONS_VERSION */
	const eas_platform *platform; /* NULL: eas_platform_posix() */
	const eas_mem *mem;           /* NULL: libc */
	size_t max_response;          /* cap on a buffered response body (default 16 MiB) */
	unsigned max_redirects;       /* 451 follows per request (default 5) */
	unsigned max_retries;         /* 5xx, network and transient-Status retries per request (default 4) */
	uint32_t request_timeout_ms;  /* per request (default 120000) */
	/*
	 * 1: send the MS-ASHTTP base64-encoded query, as Microsoft's clients do
	 * with 12.1 and later; the protocol version and policy key then travel
	 * in the query instead of the MS-ASProtocolVersion and X-MS-PolicyKey
	 * headers.  A request the base64 form cannot carry goes plain: protocol
	 * 2.5 and 12.0, the legacy commands, and a policy key that is not a
	 * decimal number below 2^32.  0 (default): always the plain query,
	 * which every server accepts.
	 */
	int base64_query;
} eas_session_options;
#define EAS_SESSION_OPTIONS_INIT { EAS_SESSION_OPTIONS_VERSION, NULL, NULL, 0, 0, 0, 0, 0 }

/*
 * Creates a session for an account.  The account's strings are copied.
 * Returns 0, EAS_E_NOMEM, or EAS_E_INVALID (missing url/user/device id,
 * http:// without allow_plain_http, both or neither of password/token_fn...).
 */
EAS_EXTERN int eas_session_new(eas_session **out, const eas_account *account,
			       const eas_session_options *options);
/* Frees the session; credentials are wiped from memory. */
EAS_EXTERN void eas_session_free(eas_session *s);

/* Starts OPTIONS (unless a version is known) and Provision. EAS_E_STATE if busy. */
EAS_EXTERN int eas_session_connect(eas_session *s);

/*
 * The app's answer to EAS_EVENT_POLICY: status 1 applied, 2 partially
 * applied, 3 not applied, 4 third-party (MS-ASPROV policy status).
 */
EAS_EXTERN int eas_session_accept_policy(eas_session *s, int status);
/* The app's answer to EAS_EVENT_WIPE, once the data is gone. */
EAS_EXTERN int eas_session_ack_wipe(eas_session *s);

/*
 * Sends one command with a ready WBXML body (body NULL and len 0: an empty
 * body, e.g. a Ping that repeats the previous one).  The body is copied.
 * Needs a negotiated version (connect first, or a saved one).  A command the
 * server does not offer is refused here with EAS_E_UNSUPPORTED.  HTTP 449 or
 * a common status 141-145 or 165 provisions again and then resends the
 * command (once); 140 provisions, which brings the remote wipe; a transient
 * status (111, 114, 133, 162, 169) resends it after a backoff, within
 * max_retries.  The answer comes as EAS_EVENT_RESPONSE, whose status is any
 * other Status (data, not an error).
 */
EAS_EXTERN int eas_session_send(eas_session *s, eas_command command, const uint8_t *body, size_t len);

/* The body of the last EAS_EVENT_RESPONSE; valid until the next operation starts. */
EAS_EXTERN const uint8_t *eas_session_response_data(const eas_session *s, size_t *len);

/* Cancels the operation in progress at once (EAS_EVENT_ERROR, EAS_E_CANCELLED). */
EAS_EXTERN void eas_session_cancel(eas_session *s);

/*
 * The next request to send, or *out = NULL when there is none yet (waiting
 * for a response, a timer or the app).  now_ms is the platform's monotonic
 * clock.  The request stays valid until the response ends or the session is
 * cancelled or freed.
 */
EAS_EXTERN int eas_session_next_request(eas_session *s, const eas_http_request **out, uint64_t now_ms);

/* Feeding the response of the request in flight. */
EAS_EXTERN int eas_session_response_head(eas_session *s, int status, const eas_http_header *headers,
					 size_t header_count);
EAS_EXTERN int eas_session_response_body(eas_session *s, const uint8_t *data, size_t len);
/* transport_error: 0, or the transport's EAS_E_IO / EAS_E_TLS / ... */
EAS_EXTERN int eas_session_response_end(eas_session *s, int transport_error);

/* Pops the next event into *out: 1 when there was one, 0 when the queue is empty. */
EAS_EXTERN int eas_session_next_event(eas_session *s, eas_session_event *out);

/*
 * Milliseconds from now_ms until the session next needs to run (a backoff
 * timer), or UINT64_MAX when it waits only for the network or the app.
 */
EAS_EXTERN uint64_t eas_session_next_timeout(const eas_session *s, uint64_t now_ms);

/* The negotiated protocol version (EAS_PROTO_* bit), or 0. */
EAS_EXTERN unsigned eas_session_protocol_version(const eas_session *s);
/* The current policy key ("0" when unprovisioned). Valid until the next call. */
EAS_EXTERN const char *eas_session_policy_key(const eas_session *s);
/* Nonzero while an operation is in progress. */
EAS_EXTERN int eas_session_busy(const eas_session *s);

/*
 * Convenience: ferries requests and responses between the session and a
 * transport until the session is idle or waits for the app (an event such as
 * EAS_EVENT_POLICY needs an answer), or timeout_ms passes.  pump(pump_ctx,
 * ms) runs the transport for at most ms milliseconds (e.g. a wrapper around
 * eas_curl_transport_run) and, when nothing is in flight (the session waits
 * out a backoff), sleeps that long.  Events stay queued for eas_session_next_event.
 * Returns 0, or EAS_E_IO on timeout.
 */
EAS_EXTERN int eas_session_run(eas_session *s, eas_transport *transport,
			       int (*pump)(void *pump_ctx, uint32_t timeout_ms), void *pump_ctx,
			       uint32_t timeout_ms);

#ifdef __cplusplus
}
#endif

#endif /* EAS_SESSION_H */
