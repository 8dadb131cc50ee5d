/* The session's private state, shared by its source files. */
#ifndef EAS_SRC_CLIENT_SESSION_INTERNAL_H
#define EAS_SRC_CLIENT_SESSION_INTERNAL_H

#include <stdint.h>

#include "common/buf.h"
#include "eas/http.h"
#include "eas/policy.h"
#include "eas/session.h"
#include "http/backoff.h"
#include "http/headers.h"
#include "http/options.h"

/* Room for a GetItemEstimate of many folders or a long sync between two reads. */
#define EAS__EVENT_QUEUE 64
#define EAS__POLICY_KEY_SIZE 65
#define EAS__TOKEN_SIZE 4096

/* What the session is doing, one step at a time. */
typedef enum eas__step {
	EAS__STEP_IDLE = 0,
	EAS__STEP_OPTIONS,        /* OPTIONS in flight */
	EAS__STEP_PROVISION,      /* Provision phase 1 in flight */
	EAS__STEP_WAIT_POLICY,    /* waiting for eas_session_accept_policy */
	EAS__STEP_PROVISION_ACK,  /* Provision phase 2 in flight */
	EAS__STEP_WAIT_WIPE,      /* waiting for eas_session_ack_wipe */
	EAS__STEP_WIPE_ACK,       /* Provision with the wipe acknowledgment in flight */
	EAS__STEP_COMMAND         /* an app command (eas_session_send) in flight */
} eas__step;

/* One queued event and the storage its strings point into. */
typedef struct eas__event_slot {
	eas_session_event ev;
	char message[256];
	char *url; /* owned */
	char policy_key[EAS__POLICY_KEY_SIZE];
	char folder_id[257]; /* synchronization events (eas/sync.h) */
	char server_id[257]; /* eas/mail.h events */
} eas__event_slot;

/*
 * An operation of the sync layer (sync_*.c, eas/sync.h) owns the answers of
 * the commands it sends with eas__session_op_send(): the session still does
 * everything HTTP (backoff on 503, 451, 401, 449 and provisioning statuses,
 * then the same command again), but a 200 goes to the op instead of
 * EAS_EVENT_RESPONSE.  The struct is the op's (it may change it between
 * commands); the session only reads it.
 */
typedef struct eas__op {
	/*
	 * Optional: a 200 body streams here chunk by chunk instead of into
	 * s->response (a non-zero return aborts the response).  Another
	 * status is buffered as usual.
	 */
	int (*on_body_chunk)(eas_session *s, const uint8_t *data, size_t len, void *ctx);
	/*
	 * The 200 answer is complete (buffered in s->response unless
	 * streamed).  The session is idle: the op sends its next command,
	 * ends with eas__session_op_end(), or fails with eas__session_fail().
	 */
	void (*on_response)(eas_session *s, void *ctx);
	/*
	 * Optional: the exchange broke (transport error, or a body the
	 * session could not take); what streamed so far is void.  Return 1
	 * when the op took over (it sent something else or failed), 0 for the
	 * session's default (backoff and resend, or fail).
	 */
	int (*on_broken)(eas_session *s, int error, void *ctx);
	/* The op ended with EAS_EVENT_ERROR (queued already) or was cancelled: release what it holds. */
	void (*on_failure)(eas_session *s, int error, void *ctx);
	/* Optional, per command: adds query parameters, a body media type, a longer timeout (Ping). */
	int (*fill_query)(eas_http_query *q, void *ctx);
	const char *content_type;
	uint32_t timeout_ms;
	void *ctx;
} eas__op;

struct eas__sync;

struct eas_session {
	eas_mem mem;
	eas_session_options opt;
	const eas_platform *platform;

	/* The account, copied. */
	char *url, *user, *password, *device_id, *device_type, *user_agent;
	char *device_strings[7]; /* eas_device_info fields, same order */
	eas_token_fn token_fn;
	void *token_user_data;
	unsigned versions;
	int allow_plain_http;

	/* What the server told us. */
	unsigned version;
	eas__http_caps caps;
	int have_caps;
	char policy_key[EAS__POLICY_KEY_SIZE]; /* "0" when unprovisioned */
	char temp_key[EAS__POLICY_KEY_SIZE];   /* phase-1 key until acknowledged */
	eas_policy policy;                     /* the policy of the last EAS_EVENT_POLICY */
	int policy_ack;                        /* the app's answer */
	int wipe_account_only;
	char token[EAS__TOKEN_SIZE];           /* current bearer token, "" when none */
	int token_refreshed;                   /* one refresh per request */

	/* The operation. */
	eas__step step;
	/* The app command of eas_session_send, kept to resend after provisioning. */
	eas_command app_command;
	eas_buf app_body;
	int resume_command;    /* provisioning interrupted the app command */
	int reprovisioned;     /* ... once already: a second time fails instead of looping */

	/* The request being built or in flight. */
	int request_ready;     /* built, not yet handed out */
	int in_flight;         /* handed out, response not ended */
	eas_command command;
	char *request_url;
	eas__http_headers headers;
	eas_buf body;
	eas_http_request request;
	uint64_t not_before;   /* monotonic ms before which the request must wait (backoff) */
	uint64_t now;          /* last time the app told us */
	eas__backoff backoff;
	eas__redirects redirects;

	/* The response. */
	int status;
	int action;            /* eas__http_action of the status and headers */
	eas_buf response;
	char *location;        /* 451 X-MS-Location, copied */
	int has_retry_after;
	uint32_t retry_after_s;
	int response_failed;   /* the body overflowed the cap */
	char transport_detail[128]; /* the transport's words for a failed exchange (eas_session_run) */
	unsigned status_retries; /* retries of the app command for a transient Status (111...) */

	/* The sync layer: the op owning the command (NULL = the app's), its state. */
	const eas__op *op;
	int op_stream;         /* this 200 body streams to op->on_body_chunk */
	int op_interrupt;      /* the op wants the request in flight cancelled (eas_session_run does it) */
	struct eas__sync *sync;
	void (*sync_free)(eas_session *s);

	/* Events. */
	eas__event_slot events[EAS__EVENT_QUEUE];
	unsigned event_head, event_count;
	eas__event_slot popped; /* the slot the last popped event points into */
};

/* ---- for the sync layer (defined in session.c) ---- */

/*
 * Sends command with body (copied) on behalf of op, after delay_ms (0: at
 * once).  Allowed when idle, or when op's own request is not in flight
 * (it replaces that request).  EAS_E_STATE, EAS_E_UNSUPPORTED (the server
 * does not offer the command), EAS_E_NOMEM.
 */
int eas__session_op_send(eas_session *s, const eas__op *op, eas_command command, const uint8_t *body, size_t len,
			 uint64_t delay_ms);
/* The op is finished: the session is idle again. */
void eas__session_op_end(eas_session *s);
/* Ends the operation with EAS_EVENT_ERROR (calls op->on_failure). */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
void eas__session_fail(eas_session *s, int error, int http_status, int status, const char *fmt, ...);
/*
 * Queues an event; folder_id (may be NULL) is copied.  coalesce: replace the
 * newest queued event when it has the same type (progress).  The returned
 * event may get more fields until the next call into the session.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
eas_session_event *eas__session_event(eas_session *s, eas_event_type type, const char *folder_id, int coalesce,
				      const char *fmt, ...);
/* A provisioning (wipe = 0) or wipe (1) status in a streamed answer: Provision, then resend (or receive the wipe). */
void eas__session_reprovision(eas_session *s, int wipe);
/* A log line through the platform (never credentials). */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
void eas__session_log(eas_session *s, eas_log_level level, const char *fmt, ...);

#endif
