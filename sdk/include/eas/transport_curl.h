/*
 * libeas — the libcurl HTTP transport (POSIX platform layer).
 *
 * An eas_transport (eas/sys/transport.h) over one libcurl multi handle:
 * non-blocking, no threads, one connection cache shared by all requests
 * (keep-alive connections are reused), HTTP/1.1, TLS 1.2 or later.
 *
 * TLS is always verified: the peer certificate must chain to a trusted CA
 * (the system store, or ca_file / ca_path / ca_pem) AND match the host name.
 * There is no switch to turn verification off.  To talk to a server with a
 * self-signed certificate, pass that certificate as ca_file (and optionally
 * pin its key with pinned_public_key).
 *
 * This header does not include any curl header: the transport is an opaque
 * handle and the header compiles on any system.  The functions exist only
 * when libeas was built with the `curl` feature (meson option `curl`).
 * Each transport calls curl_global_init() when created and
 * curl_global_cleanup() when freed; both are thread-safe in libcurl 7.84
 * and later.
 *
 * Two ways to drive it (use one, not both, on one transport):
 *
 *   1. Blocking convenience: eas_curl_transport_run(t, timeout_ms) polls
 *      internally until every pending request completed or the time is up.
 *
 *   2. Event-loop integration, as in curl's multi_socket API: set
 *      watch_socket and set_timer in the options.  The transport calls
 *      watch_socket(fd, events) to say which sockets to watch for what, and
 *      set_timer(ms) to (re)arm one single-shot timer.  The application's
 *      loop calls eas_curl_transport_socket_action(t, fd, events) when a
 *      watched socket is ready and eas_curl_transport_timeout(t) when the
 *      timer fires.
 *
 * Threads: a transport is used by one thread at a time.  All callbacks are
 * called on that thread from inside the functions below.
 */
#ifndef EAS_TRANSPORT_CURL_H
#define EAS_TRANSPORT_CURL_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/sys/platform.h"
#include "eas/sys/transport.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eas_curl_transport eas_curl_transport;

/* Socket readiness bits, for watch_socket and socket_action. */
#define EAS_CURL_POLL_IN 1u   /* readable */
#define EAS_CURL_POLL_OUT 2u  /* writable */
#define EAS_CURL_POLL_ERR 4u  /* error condition (socket_action only) */

/*
 * Start, change or stop watching one socket.  events is EAS_CURL_POLL_IN,
 * EAS_CURL_POLL_OUT or both: watch fd for that (replacing what was asked
 * before for fd); 0: stop watching fd (it may be closed right after).
 * Return 0, or a negative value if the watch could not be set up: libcurl
 * treats that as fatal, the transport call that triggered it returns
 * EAS_E_IO, and the transport should be freed.  Must not call back into the
 * transport.
 */
typedef int (*eas_curl_watch_socket_fn)(int fd, unsigned int events, void *user_data);

/*
 * (Re)arm the transport's single timer: call eas_curl_transport_timeout()
 * once timeout_ms milliseconds have passed (0: as soon as possible, from the
 * event loop, not from inside this callback).  timeout_ms == -1: disarm.
 * Return 0, or a negative value on failure (handled like watch_socket's).
 * Must not call back into the transport.
 */
typedef int (*eas_curl_set_timer_fn)(long timeout_ms, void *user_data);

/* verbose levels (all logging goes through the platform log hook). */
#define EAS_CURL_VERBOSE_OFF 0     /* only warnings and failures */
#define EAS_CURL_VERBOSE_INFO 1    /* + curl's connection messages, at EAS_LOG_DEBUG */
#define EAS_CURL_VERBOSE_HEADERS 2 /* + every request and response header line and body
				      byte counts, at EAS_LOG_TRACE */

#define EAS_CURL_TRANSPORT_OPTIONS_VERSION 1

/*
 * Options, copied by eas_curl_transport_new() (strings included): nothing
 * here needs to outlive that call.  Zero / NULL means "default" for every
 * field.
 */
typedef struct eas_curl_transport_options {
	unsigned int version; /* EAS_CURL_TRANSPORT_OPTIONS_VERSION */

	/* ---- TLS trust (verification itself is always on) ---- */
	/* PEM file of trusted CA certificates; NULL = the system store. */
	const char *ca_file;
	/* Directory of hashed CA certificates (c_rehash); NULL = system default. */
	const char *ca_path;
	/* Trusted CA certificates as PEM text in memory (ca_pem_len bytes). */
	const char *ca_pem;
	size_t ca_pem_len;
	/*
	 * Public key pinning, as libcurl's CURLOPT_PINNEDPUBLICKEY: a PEM/DER
	 * file name, or "sha256//<base64 of the SHA-256 of the DER
	 * SubjectPublicKeyInfo>" (several joined with ';').  The pin is checked
	 * IN ADDITION to normal verification.  Mismatch: EAS_E_TLS.
	 */
	const char *pinned_public_key;

	/* ---- TLS client certificate (certificate-based authentication) ---- */
	const char *client_cert_file;    /* PEM certificate (chain) */
	const char *client_key_file;     /* PEM private key; NULL = in client_cert_file */
	const char *client_key_password; /* passphrase of the key; never logged */

	/*
	 * 0 (default): a request to an http:// URL is refused by submit() with
	 * EAS_E_INVALID (credentials would travel in clear text).  1: allowed
	 * (a warning is logged when the transport is created); for test
	 * servers on loopback only.
	 */
	int allow_plain_http;

	/* ---- limits ---- */
	long connect_timeout_ms; /* TCP + TLS connect; 0 = 30000 */
	/*
	 * Abort a request (EAS_E_IO) when it transfers fewer than
	 * low_speed_limit bytes per second for low_speed_time_s seconds.
	 * 0 = off.  Beware of Ping: its response is idle for the heartbeat.
	 */
	long low_speed_limit;
	long low_speed_time_s;
	/* Largest accepted response body in bytes (EAS_E_LIMIT past it); 0 = no limit. */
	uint64_t max_response_size;

	/* ---- identity and network ---- */
	/* User-Agent header; NULL = none (a request's own User-Agent header wins). */
	const char *user_agent;
	/*
	 * Proxy URL ("http://proxy:3128"); NULL = libcurl's default (the
	 * https_proxy / no_proxy environment variables); "" = never use a
	 * proxy.
	 */
	const char *proxy;

	/* ---- logging ---- */
	/*
	 * EAS_CURL_VERBOSE_*.  Header lines are logged with the values of
	 * Authorization, Proxy-Authorization, Cookie and Set-Cookie replaced by
	 * "[REDACTED]"; bodies are never logged, only their sizes.
	 */
	int verbose;
	/*
	 * Log hook (and the monotonic clock used by eas_curl_transport_run);
	 * the struct is copied.  NULL = eas_platform_posix().
	 */
	const eas_platform *platform;

	/* ---- event-loop integration (see the top of this header) ---- */
	eas_curl_watch_socket_fn watch_socket; /* both or neither */
	eas_curl_set_timer_fn set_timer;
	void *event_user_data;                 /* passed to both */

	/* Allocator for the transport's own memory; NULL = libc.  libcurl itself
	 * allocates with its global allocator. */
	const eas_mem *mem;
} eas_curl_transport_options;

#define EAS_CURL_TRANSPORT_OPTIONS_INIT \
	{ EAS_CURL_TRANSPORT_OPTIONS_VERSION, NULL, NULL, NULL, 0, NULL, NULL, NULL, NULL, \
	  0, 0, 0, 0, 0, NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL }

/*
 * Creates a transport.  options may be NULL (all defaults).  Stores the new
 * handle in *out (free with eas_curl_transport_free or through the vtable's
 * destroy).  Returns 0 or:
 *   EAS_E_INVALID      out NULL, unknown options version, only one of
 *                      watch_socket / set_timer, a negative limit, or a
 *                      ca_file / ca_path / client certificate or key that is
 *                      not readable
 *   EAS_E_UNSUPPORTED  this libcurl lacks a requested feature (HTTPS,
 *                      public key pinning, in-memory CA, client certificates)
 *   EAS_E_NOMEM        out of memory
 *   EAS_E_IO           libcurl could not be initialised
 */
EAS_EXTERN int eas_curl_transport_new(eas_curl_transport **out,
				      const eas_curl_transport_options *options);

/*
 * The transport's vtable, to hand to the engine.  Owned by t: valid until t
 * is freed.  Calling its destroy frees t (same as eas_curl_transport_free).
 */
EAS_EXTERN eas_transport *eas_curl_transport_base(eas_curl_transport *t);

/*
 * Completes every pending request with EAS_E_CANCELLED, then frees t.
 * NULL is a no-op.  Must not be called from inside a callback.  The
 * watch_socket / set_timer callbacks may still be called during it.
 */
EAS_EXTERN void eas_curl_transport_free(eas_curl_transport *t);

/*
 * Event-loop entry points.  fd became ready for `events` (EAS_CURL_POLL_*
 * bits; 0 = let libcurl find out).  Performs whatever I/O can be done now
 * and delivers the resulting callbacks.  Returns the number of requests
 * still pending (>= 0), or:
 *   EAS_E_STATE  called from inside one of the transport's callbacks
 *   EAS_E_IO     libcurl's multi interface failed (bad socket, internal error)
 *   EAS_E_NOMEM  out of memory
 */
EAS_EXTERN int eas_curl_transport_socket_action(eas_curl_transport *t, int fd,
						unsigned int events);

/* The timer set with set_timer fired.  Returns as socket_action. */
EAS_EXTERN int eas_curl_transport_timeout(eas_curl_transport *t);

/*
 * Blocking convenience: drives all pending requests, waiting in poll() on
 * their sockets, until none is pending or timeout_ms milliseconds have
 * passed (timeout_ms < 0: no limit).  Returns the number of requests still
 * pending (0 = all completed), or an error as socket_action.
 */
EAS_EXTERN int eas_curl_transport_run(eas_curl_transport *t, long timeout_ms);

/* Number of submitted requests whose completion has not been delivered yet. */
EAS_EXTERN size_t eas_curl_transport_pending(const eas_curl_transport *t);

/*
 * A description of the most recent refused submit() or failed request
 * ("" when there was none).  Never contains credentials.  Owned by t, valid
 * until the next call into t.
 */
EAS_EXTERN const char *eas_curl_transport_last_error(const eas_curl_transport *t);

#ifdef __cplusplus
}
#endif

#endif /* EAS_TRANSPORT_CURL_H */
