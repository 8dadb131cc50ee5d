/*
 * Session driver for tests: runs a client session (eas_session_run) over the
 * scripted transport against a small fake ActiveSync server that answers
 * each request as it arrives, from what the request is:
 *
 *   OPTIONS            200 with MS-ASProtocolVersions / MS-ASProtocolCommands
 *   Provision phase 1  a policy with the temporary key 1307199584 (or "no
 *                      policy", or RemoteWipe / AccountOnlyRemoteWipe; the
 *                      2.5 XML policy form when the request asks for it)
 *   Provision phase 2  the final key 3942919513
 *   wipe acknowledged  Status 1
 *   any other command  the test's answer hook (default: 200, no body)
 *
 * Everything is recorded: the requests (in the scripted transport), every
 * event with its message, every platform log line at every level, and the
 * time the session waited (the fake clock moves only when the session waits
 * for a backoff).  POLICY events are accepted (status 1) and WIPE events
 * acknowledged as they come, unless the test turns that off.
 *
 * Test support code: failures abort the current cmocka test.
 */
#ifndef EAS_TESTS_SESSION_DRIVER_H
#define EAS_TESTS_SESSION_DRIVER_H

#include <stddef.h>
#include <stdint.h>

#include "eas/session.h"
#include "scripted_transport.h"

#define SD_MAX_EVENTS 64
#define SD_TEMP_KEY "1307199584"
#define SD_FINAL_KEY "3942919513"

typedef struct sd sd;

/* One response for a command request; the strings are copied by the driver. */
typedef struct sd_answer {
	int status;              /* HTTP status */
	const char *header_name; /* one response header, or NULL */
	const char *header_value;
	const void *body;        /* response body, or NULL */
	size_t body_len;
	int error;               /* transport error (EAS_E_IO, EAS_E_TLS...), or 0 */
	long error_after;        /* with error: body bytes delivered first; -1 = before the head */
} sd_answer;

/* Fills *out for command request number n (0 = the first one) of the run. */
typedef void (*sd_answer_fn)(sd *d, const scripted_request *req, unsigned n, sd_answer *out);

typedef struct sd_event {
	eas_session_event ev;
	char message[256];
	char url[256];
	char policy_key[72];
} sd_event;

struct sd {
	scripted_transport *st;
	eas_session *s;
	eas_platform plat;
	uint64_t now_ms;
	uint64_t waited_ms;   /* time spent waiting for backoff timers */
	unsigned long pump_calls;

	/* The fake server. */
	const char *versions; /* MS-ASProtocolVersions (default "2.5,12.0,12.1,14.0,14.1") */
	const char *commands; /* MS-ASProtocolCommands (default: the usual list) */
	int no_policy;        /* phase 1 answers policy Status 2 (no policy), as SOGo */
	int wipe;             /* 1: phase 1 answers RemoteWipe, 2: AccountOnlyRemoteWipe */
	sd_answer_fn answer;  /* commands; NULL = 200 with an empty body */
	unsigned unauthorized; /* answer this many next requests (any) with 401 first */
	void *user_data;
	size_t chunk;         /* response bodies arrive in pieces of this size (default 5) */

	/* Counts of the requests it answered (401s aside). */
	unsigned options, provision1, provision2, wipe_acks, commands_seen;

	/* What the session reported. */
	sd_event events[SD_MAX_EVENTS];
	size_t event_count;
	int manual;           /* 1: do not answer POLICY / WIPE events */
	char log[1 << 17];    /* every platform log line, "LEVEL message\n" */
	size_t log_len;

	/* OAuth2 token source (sd_token_fn): tokens "tok-1", "tok-2"... */
	unsigned token_calls, token_refreshes;
};

/*
 * Creates the driver and a session for the account (url, user... as given;
 * options->platform is replaced by the driver's fake platform; options may
 * be NULL).  Returns the driver (free with sd_free).
 */
sd *sd_new(const eas_account *account, const eas_session_options *options);
void sd_free(sd *d);

/* An eas_token_fn producing "tok-N"; pass the driver as token_user_data. */
int sd_token_fn(char *buf, size_t size, int refresh, void *user_data);

/*
 * Runs the session until it is idle and has no question pending (events
 * answered as described above), within max_ms of fake time.  Returns the
 * number of events recorded during this call.
 */
size_t sd_run(sd *d, uint32_t max_ms);

/* Connects (eas_session_connect) and runs. */
size_t sd_connect(sd *d);

/* The i-th recorded event, or NULL. */
const sd_event *sd_event_at(const sd *d, size_t i);
/* The last recorded event (fails the test if there is none). */
const sd_event *sd_last_event(const sd *d);
/* How many events of this type were recorded. */
size_t sd_count(const sd *d, eas_event_type type);

/* The n-th recorded request (0-based; fails the test when there is none). */
const scripted_request *sd_request(const sd *d, size_t n);
size_t sd_request_count(const sd *d);

/*
 * Byte-for-byte check of recorded request n: method, URL, the complete
 * header list in order ("Name: value\n" for each), and the body.
 */
void sd_expect_request(const sd *d, size_t n, const char *method, const char *url,
		       const char *headers, const void *body, size_t body_len);

/* WBXML of an XML document in a static buffer (valid until the next call). */
const uint8_t *sd_wbxml(const char *xml, size_t *len);

/* Fails the test when needle (n bytes) occurs anywhere in the log or an event message. */
void sd_assert_absent(const sd *d, const void *needle, size_t n);

#endif
