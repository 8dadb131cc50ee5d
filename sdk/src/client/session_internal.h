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

#define EAS__EVENT_QUEUE 16
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
} eas__event_slot;

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

	/* Events. */
	eas__event_slot events[EAS__EVENT_QUEUE];
	unsigned event_head, event_count;
	eas__event_slot popped; /* the slot the last popped event points into */
};

#endif
