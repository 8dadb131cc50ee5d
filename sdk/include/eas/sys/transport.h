/*
 * libeas — HTTP transport interface, for platform implementers.
 *
 * The engine never does I/O.  When it needs an HTTP exchange it describes the
 * request as data (eas_http_request) and hands it, together with a response
 * handler (eas_http_response_handler), to an eas_transport.  The transport
 * performs the exchange however it likes (libcurl, a platform HTTP stack, a
 * scripted test double) and reports back through the handler: first the
 * status and headers, then the body in chunks as it streams in, then exactly
 * one completion.
 *
 * Implementing a transport (libgit2 "sys" style): put an eas_transport as the
 * FIRST member of your own struct, fill its version and function pointers,
 * and hand a pointer to that member to the engine.  The functions receive it
 * back and may cast it to the enclosing struct.
 *
 *     struct my_transport { eas_transport parent; ... };
 *
 * Contract every transport keeps (the session relies on it):
 *
 *   - submit() COPIES everything in the request (method, URL, headers, an
 *     in-memory body) before it returns: the caller may free or reuse the
 *     request at once.  Only the streaming body's callbacks and user_data, and
 *     the handler's user_data, must stay valid until the completion.
 *   - Each successful submit() leads to exactly one on_complete() call for
 *     that request id, never from inside submit() itself.  After on_complete()
 *     returns the id is dead: cancel() on it returns EAS_E_NOTFOUND.  Ids are
 *     never 0 and never reused by one transport.
 *   - For one request the callbacks come in this order: at most one on_head,
 *     then zero or more on_body, then on_complete.  on_body never comes
 *     before on_head.  A successful completion (error 0) always follows an
 *     on_head.
 *   - Callbacks are only called from inside a transport function the
 *     application calls (its event-loop entry points, cancel, destroy), on the
 *     calling thread.  The transport starts no threads of its own, or if its
 *     platform forces it to, it marshals every callback back to that thread.
 *   - From inside any callback the application may call submit() and
 *     cancel() on the same transport; it must not call destroy().
 *   - An HTTP status is data, not an error: a 401 or a 503 is a successful
 *     exchange (on_complete(0)) whose on_head said 401 or 503.  Interim 1xx
 *     responses are not reported.  Redirects are not followed: a 3xx is
 *     delivered like any other status.
 *
 * Errors a completion can report (on_complete's `error`):
 *   0                 the whole response was received
 *   EAS_E_IO          connect refused or failed, name resolution failed,
 *                     connection reset or closed early (also mid-body), send
 *                     or receive failure, the request's timeout or the
 *                     transport's low-speed limit expired
 *   EAS_E_TLS         TLS handshake failed, the server certificate did not
 *                     verify (unknown CA, wrong name, expired), a pinned
 *                     public key did not match, the client certificate or
 *                     key could not be used
 *   EAS_E_CANCELLED   cancel() was called for this request, or the transport
 *                     was destroyed while it was pending
 *   EAS_E_LIMIT       the response exceeded a size limit of the transport
 *                     (body size, header block size)
 *   EAS_E_MALFORMED   the server's reply was not valid HTTP
 *   EAS_E_NOMEM       the transport ran out of memory mid-exchange
 *   EAS_E_TRUNCATED   a streaming body reader delivered fewer bytes than
 *                     body_length announced
 *   <callback's code> on_head, on_body or a body reader returned a negative
 *                     EAS_E_* code: the exchange is aborted and that same code
 *                     is reported here (EAS_E_CALLBACK if it returned a
 *                     positive value)
 *
 * Nothing in this interface is logged by the transport with credentials:
 * a transport that logs headers must redact Authorization, Proxy-Authorization,
 * Cookie and Set-Cookie values, and never logs bodies.
 */
#ifndef EAS_SYS_TRANSPORT_H
#define EAS_SYS_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One HTTP header field.  Both strings are NUL-terminated. */
typedef struct eas_http_header {
	const char *name;
	const char *value;
} eas_http_header;

/* Identifies one submitted request within its transport; never 0. */
typedef uint64_t eas_http_request_id;

/*
 * Streaming request body (uploads with a known length).
 *
 * read: fill buf with up to `size` bytes (size is never 0 and never more than
 *   what is left of body_length) and store the count in *out.  Return 0, or a
 *   negative EAS_E_* code to abort the request (the completion then reports
 *   that code).  Storing 0 in *out before body_length bytes were delivered
 *   aborts the request with EAS_E_TRUNCATED.  Must not block for long: it is
 *   called from the transport's event-loop entry points.
 * rewind: optional.  Restart the body from its first byte; 0 or an EAS_E_*
 *   code.  A transport calls it when it must send the body again (a reused
 *   connection the server had closed).  NULL = the body cannot be replayed,
 *   and such a retry fails the request with EAS_E_IO instead.
 */
typedef int (*eas_http_body_read_fn)(size_t *out, unsigned char *buf, size_t size,
				     void *user_data);
typedef int (*eas_http_body_rewind_fn)(void *user_data);

#define EAS_HTTP_REQUEST_VERSION 1

/*
 * One HTTP request, as data.  Everything is copied by submit() except the
 * streaming body's user_data (see the contract above).
 */
typedef struct eas_http_request {
	unsigned int version;        /* EAS_HTTP_REQUEST_VERSION */
	/* "POST", "OPTIONS", "GET"...: an HTTP token (A-Z only).  Required. */
	const char *method;
	/* Absolute URL, "https://host[:port]/path?query".  Required. */
	const char *url;
	/*
	 * Request header fields, sent as given and in this order.  Names are
	 * HTTP tokens; values must not contain CR or LF (EAS_E_INVALID).  The
	 * transport adds only Host, Content-Length and the headers its own
	 * options imply (e.g. User-Agent); it never adds Content-Type or
	 * Expect: 100-continue.  headers may be NULL when header_count is 0.
	 */
	const eas_http_header *headers;
	size_t header_count;
	/*
	 * The body: EITHER in memory (body, body_length bytes; copied by
	 * submit) OR streamed (body_read != NULL, body == NULL, body_length
	 * bytes in total, sent with Content-Length).  Neither (body == NULL,
	 * body_read == NULL): no body; a POST then sends Content-Length: 0 when
	 * body_length is 0.  Both set: EAS_E_INVALID.
	 */
	const unsigned char *body;
	eas_http_body_read_fn body_read;
	eas_http_body_rewind_fn body_rewind; /* optional, streaming only */
	void *body_user_data;                /* passed to body_read/body_rewind */
	uint64_t body_length;
	/*
	 * Whole-exchange timeout in milliseconds, from submit to the last body
	 * byte (EAS_E_IO when it expires).  0 = no timeout beyond the
	 * transport's own connect and low-speed limits.  A Ping with a
	 * heartbeat of H seconds needs more than H * 1000.
	 */
	uint32_t timeout_ms;
} eas_http_request;

#define EAS_HTTP_REQUEST_INIT { EAS_HTTP_REQUEST_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, 0, 0 }

#define EAS_HTTP_RESPONSE_HANDLER_VERSION 1

/*
 * Where a response goes.  The struct is copied by submit(); user_data must
 * stay valid until on_complete has returned.  Pointers passed to the
 * callbacks are valid only during the call.
 */
typedef struct eas_http_response_handler {
	unsigned int version; /* EAS_HTTP_RESPONSE_HANDLER_VERSION */
	/*
	 * The final (non-1xx) status line and all its header fields have
	 * arrived: status is the HTTP status code (100..999), headers are in
	 * the order received, names as sent by the server (compare them
	 * case-insensitively), values with surrounding whitespace removed and
	 * folded lines joined.  Return 0 to go on, or a negative EAS_E_* code
	 * to abort the request (the completion reports that code).  Optional.
	 */
	int (*on_head)(int status, const eas_http_header *headers, size_t header_count,
		       void *user_data);
	/*
	 * The next piece of the body (after any transfer coding is removed), in
	 * order, len > 0.  Chunk sizes are whatever the network delivered.
	 * Return 0 to go on, or a negative EAS_E_* code to abort.  Optional
	 * (NULL = the body is read and dropped).
	 */
	int (*on_body)(const unsigned char *data, size_t len, void *user_data);
	/*
	 * Exactly once per submitted request: error is 0 or one of the codes
	 * listed at the top of this header.  detail is a short human-readable
	 * description of the failure (NULL on success, or when there is none);
	 * it never contains credentials and is valid only during the call.
	 * Required.
	 */
	void (*on_complete)(int error, const char *detail, void *user_data);
	void *user_data;
} eas_http_response_handler;

#define EAS_HTTP_RESPONSE_HANDLER_INIT { EAS_HTTP_RESPONSE_HANDLER_VERSION, NULL, NULL, NULL, NULL }

#define EAS_TRANSPORT_VERSION 1

typedef struct eas_transport eas_transport;

/* The transport vtable; embed it as the first member of an implementation. */
struct eas_transport {
	unsigned int version; /* EAS_TRANSPORT_VERSION */
	/*
	 * Starts a request.  On success stores its id in *out and returns 0;
	 * the request then runs when the application drives the transport's
	 * event loop, and ends with one on_complete.  On failure nothing was
	 * started, no callback will be called, and it returns:
	 *   EAS_E_INVALID  a NULL or malformed argument: missing method or URL,
	 *                  a method that is not a token, a URL the transport
	 *                  does not accept (a transport may refuse plain
	 *                  http://), a header name or value with CR/LF, both
	 *                  body forms set, a missing on_complete, or an unknown
	 *                  struct version
	 *   EAS_E_NOMEM    copying the request failed
	 *   EAS_E_STATE    the transport cannot take requests (shutting down)
	 *   EAS_E_IO       the transport's machinery failed to start it
	 */
	int (*submit)(eas_http_request_id *out, eas_transport *transport,
		      const eas_http_request *request,
		      const eas_http_response_handler *handler);
	/*
	 * Stops a pending request at once: no more data is sent or received
	 * for it and its on_complete reports EAS_E_CANCELLED.  When cancel is
	 * called from outside the transport's callbacks, that completion is
	 * delivered before cancel returns.  When called from inside one of the
	 * transport's callbacks, it may instead come right after that callback
	 * returns, within the same transport call; either way no on_head or
	 * on_body for the request happens after cancel returns.
	 * Returns 0, or EAS_E_NOTFOUND when the id is not pending (unknown,
	 * already completed, or its completion is already on its way).
	 */
	int (*cancel)(eas_transport *transport, eas_http_request_id id);
	/*
	 * Completes every pending request with EAS_E_CANCELLED (calling their
	 * on_complete), then frees the transport.  Must not be called from
	 * inside one of the transport's callbacks.
	 */
	void (*destroy)(eas_transport *transport);
};

#ifdef __cplusplus
}
#endif

#endif /* EAS_SYS_TRANSPORT_H */
