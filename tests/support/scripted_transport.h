/*
 * Scripted transport for tests: an eas_transport (eas/sys/transport.h) that
 * talks to no network.  It
 *
 *   - RECORDS every submitted request (method, URL, headers, body bytes,
 *     timeout) for byte-for-byte assertions; a streaming body is read out in
 *     full (in pieces of read_piece bytes) and recorded like an in-memory one;
 *   - PLAYS BACK a script of responses, one per request in submit order:
 *     status + headers + a body split into chunks of chosen sizes, or a
 *     transport error before any response, or a disconnect after part of the
 *     body, or no answer at all until the request is cancelled.
 *
 * Nothing happens inside submit(): the test drives delivery explicitly with
 * scripted_transport_step() (one callback at a time, so a test can act
 * between chunks) or scripted_transport_run() (until nothing is left).
 * The transport-interface contract is kept exactly (one completion per
 * request, cancel semantics, submit/cancel allowed from callbacks), so the
 * engine cannot tell it from a real transport.
 *
 * A request that finds the script empty completes with EAS_E_IO and is
 * counted in scripted_transport_unscripted().
 *
 * Ownership: the vtable's destroy() cancels every pending request (their
 * completions report EAS_E_CANCELLED) and marks the transport destroyed, but
 * keeps the records so the test can still inspect them; the memory is freed
 * by scripted_transport_free(), which the test always calls last.  Test
 * support code: allocation failure aborts the test program.
 */
#ifndef EAS_TESTS_SCRIPTED_TRANSPORT_H
#define EAS_TESTS_SCRIPTED_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "eas/sys/transport.h"

typedef struct scripted_transport scripted_transport;

/* One script entry (copied by scripted_transport_push). */
typedef struct scripted_response {
	int status;                /* HTTP status for on_head */
	const char *const *headers; /* "Name", "Value", ..., NULL; NULL = no headers */
	const void *body;
	size_t body_len;
	/*
	 * How the body is split into on_body calls: sizes in order; the last
	 * size repeats until the body is exhausted.  NULL / 0 = the whole body
	 * in one chunk.  A 0 size is treated as 1.
	 */
	const size_t *chunks;
	size_t chunk_count;
	/*
	 * error == 0: a normal, complete response.
	 * error != 0 and error_after < 0: the exchange fails before any
	 *   response (no on_head): on_complete(error).
	 * error != 0 and error_after >= 0: head, then error_after bytes of the
	 *   body (chunked as above), then on_complete(error): a disconnect
	 *   mid-body (use EAS_E_IO).
	 */
	int error;
	long error_after;
	int hang; /* nonzero: never answers; the request stays pending until cancelled */
} scripted_response;

#define SCRIPTED_RESPONSE_INIT { 200, NULL, NULL, 0, NULL, 0, 0, -1, 0 }

/* One recorded request.  All strings and bytes are copies owned by the transport. */
typedef struct scripted_request {
	eas_http_request_id id;
	char *method;
	char *url;
	eas_http_header *headers; /* in submit order */
	size_t header_count;
	unsigned char *body;      /* the bytes that were "sent" (NULL when none) */
	size_t body_len;
	int streamed;             /* the body came from body_read */
	uint32_t timeout_ms;
	int completed;            /* on_complete was delivered */
	int result;               /* the error on_complete reported */
	int script_index;         /* which script entry answered it; -1 = none (yet) */
} scripted_request;

scripted_transport *scripted_transport_new(void);
/* The vtable to hand to the code under test. */
eas_transport *scripted_transport_base(scripted_transport *st);
/* Cancels what is pending (if destroy was not called) and frees everything. */
void scripted_transport_free(scripted_transport *st);

/* Appends one entry to the script; returns its index. */
int scripted_transport_push(scripted_transport *st, const scripted_response *resp);
/* Shorthands: a complete response with a body in one chunk (NULL headers). */
int scripted_transport_push_body(scripted_transport *st, int status, const void *body,
				 size_t body_len);
/* A transport error before any response (EAS_E_IO, EAS_E_TLS...). */
int scripted_transport_push_error(scripted_transport *st, int error);

/* The next submit() fails with `error` (once) and records nothing. */
void scripted_transport_fail_next_submit(scripted_transport *st, int error);
/* Size of the pieces a streaming body is read in (default 1000). */
void scripted_transport_set_read_piece(scripted_transport *st, size_t size);

/*
 * Delivers the next event (body read-out, head, one body chunk, or a
 * completion) of the oldest request that has one.  Returns 1 if an event was
 * delivered, 0 if there is nothing to do (only hanging requests, or none).
 */
int scripted_transport_step(scripted_transport *st);
/* Steps until idle; returns the number of events delivered. */
size_t scripted_transport_run(scripted_transport *st);

/* Requests submitted and not yet completed. */
size_t scripted_transport_pending(const scripted_transport *st);
/* Every request ever submitted successfully, in order (index 0 = first). */
size_t scripted_transport_request_count(const scripted_transport *st);
const scripted_request *scripted_transport_request(const scripted_transport *st, size_t index);
/* The most recent request, NULL if none. */
const scripted_request *scripted_transport_last_request(const scripted_transport *st);
/* First value of header `name` (case-insensitive) or NULL. */
const char *scripted_request_header(const scripted_request *req, const char *name);
/* Script entries not consumed yet. */
size_t scripted_transport_script_left(const scripted_transport *st);
/* Requests that found the script empty. */
size_t scripted_transport_unscripted(const scripted_transport *st);
/* 1 once the vtable's destroy() was called. */
int scripted_transport_destroyed(const scripted_transport *st);

#endif
