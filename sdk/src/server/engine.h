/*
 * The companion server's engine: one HTTP request in, one HTTP response
 * out, sans I/O.  A front end (samples/eas-server over libmicrohttpd, or a
 * test) reads the request off the wire, hands it over as data and writes
 * back what the engine returns.  The engine never opens a socket, reads a
 * file or starts a thread; it talks to the mailbox store (server/store.h)
 * and takes the time, random bytes and the log from the platform hooks.
 *
 *     eas_server *srv;
 *     eas_server_new(&srv, &config);
 *     ...
 *     eas_server_response resp;
 *     eas_server_handle(srv, &req, &resp);
 *     if (resp.hold)   // a Ping waits: park the connection
 *         ...          // config.wake(hold) fires later -> eas_server_hold_finish(srv, hold, &resp)
 *     else
 *         ...          // send resp.status, resp.headers, resp.body
 *     eas_server_response_clear(&resp);
 *
 * What it serves:
 *   OPTIONS /Microsoft-Server-ActiveSync     versions, commands, server version
 *   POST    /Microsoft-Server-ActiveSync?q   FolderSync, FolderCreate, FolderUpdate,
 *                                            FolderDelete, Provision, Settings, Ping,
 *                                            Sync, GetItemEstimate, ItemOperations,
 *                                            MoveItems, SendMail, SmartReply, SmartForward
 *                                            (eas__srv_commands() has the set)
 *   POST    /autodiscover/autodiscover.xml   mobilesync POX answer (config.public_url)
 * and the errors: 400 malformed query, header or body (or a command the
 * protocol version lacks), 401 + WWW-Authenticate without valid Basic or
 * Bearer credentials, 403 for a query User that is not the authenticated
 * one, 404 another path, 405 another method, 413 a body over the cap,
 * 449 (before 14.0) for a device that must provision first, 501 a command
 * this server does not implement, 500 when the store fails.  Faults
 * injected in the store ("eas-server inject", inject.c) answer a POST
 * before it is dispatched.
 *
 * Every request is logged once (EAS_LOG_INFO) through platform->log: method,
 * command, user, device, HTTP status, EAS status and duration.  Never a
 * password, a token, a policy key or a body.
 *
 * Ping.  A Ping whose folders have not changed is held: the response has
 * hold != NULL and no status.  The engine watches the store's change
 * notification (it registers itself with store->set_notify) and its own
 * clock; when a watched folder changes, the hierarchy changes, a wipe is
 * requested for the device, the heartbeat expires, or a newer Ping of the
 * same device arrives, it calls config.wake(hold) once.  The front end then
 * calls eas_server_hold_finish() to get the response.  Notifications fire
 * inside store calls (made by the engine for other requests, or by anyone
 * else on the same store handle), so wake() runs inside those calls.
 * Heartbeats are checked by eas_server_tick(): call it when
 * eas_server_next_timeout() says so.
 *
 * Threads: none inside.  An eas_server and its store are used by one
 * thread at a time; a front end with several threads serialises every call
 * (including store calls of its own on the same handle) with one lock.
 */
#ifndef EAS_SRC_SERVER_ENGINE_H
#define EAS_SRC_SERVER_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/policy.h"
#include "eas/sys/platform.h"
#include "eas/sys/transport.h"
#include "server/store.h"

typedef struct eas_server eas_server;
typedef struct eas_server_hold eas_server_hold;

/* The EAS endpoint and the Autodiscover path (matched ASCII case-insensitively). */
#define EAS_SERVER_PATH "/Microsoft-Server-ActiveSync"
#define EAS_SERVER_AUTODISCOVER_PATH "/autodiscover/autodiscover.xml"

/* Defaults of eas_server_config. */
#define EAS_SERVER_DEFAULT_MAX_BODY (4u << 20)
#define EAS_SERVER_DEFAULT_HEARTBEAT_MIN 60u
#define EAS_SERVER_DEFAULT_HEARTBEAT_MAX 3540u
#define EAS_SERVER_DEFAULT_MAX_PING_FOLDERS 200u
#define EAS_SERVER_DEFAULT_MAX_HOLDS 1024u
#define EAS_SERVER_DEFAULT_AUTH_CACHE_S 60u
#define EAS_SERVER_VERSION_STRING "14.1"

#define EAS_SERVER_CONFIG_VERSION 1

typedef struct eas_server_config {
	int version;                   /* EAS_SERVER_CONFIG_VERSION */
	/*
	 * The mailbox store (required, borrowed: it must outlive the server).
	 * The engine registers its change callback with set_notify(); the
	 * front end must not replace it.
	 */
	eas_mstore *store;
	const eas_platform *platform;  /* clock, random, log; NULL = eas_platform_posix() */
	const eas_mem *mem;            /* NULL = libc */
	/*
	 * The security policy handed out by Provision (copied).  NULL = none
	 * configured: Provision still hands out an empty policy, and commands
	 * are served without a policy key.  With a policy, every command but
	 * Provision (and Ping, which carries no key) needs the device's final
	 * key: 142 / 143 / 144 from 14.0 on, HTTP 449 before.
	 */
	const eas_policy *policy;
	/*
	 * Base URL the clients reach this server at, e.g. "https://127.0.0.1:8443"
	 * (no trailing '/'); Autodiscover answers base + EAS_SERVER_PATH.
	 * NULL = "https://" + the request's Host header.
	 */
	const char *public_url;
	/* Mail domain for user names without '@' (UserInformation, Autodiscover); NULL = "localhost". */
	const char *mail_domain;
	/* Protocol versions offered (EAS_PROTO_* bits); 0 = all seven. */
	unsigned versions;
	size_t max_body;               /* request body cap, bytes; 0 = EAS_SERVER_DEFAULT_MAX_BODY */
	uint32_t heartbeat_min;        /* Ping HeartbeatInterval bounds, seconds; 0 = defaults */
	uint32_t heartbeat_max;
	uint32_t max_ping_folders;     /* 0 = EAS_SERVER_DEFAULT_MAX_PING_FOLDERS */
	size_t max_holds;              /* Pings held at once; beyond: 503; 0 = default */
	/*
	 * Seconds a successful Basic login is remembered (keyed by a salted
	 * SHA-256 of the credentials, so PBKDF2 does not run on every request);
	 * 0 = EAS_SERVER_DEFAULT_AUTH_CACHE_S, UINT32_MAX = no cache.
	 */
	uint32_t auth_cache_s;
	/* A held request may now be finished (see above).  Required for Ping. */
	void (*wake)(eas_server_hold *hold, void *user_data);
	void *user_data;
} eas_server_config;

#define EAS_SERVER_CONFIG_INIT { EAS_SERVER_CONFIG_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0, 0, 0, 0, \
				 NULL, NULL }

/* One HTTP request, borrowed for the duration of eas_server_handle(). */
typedef struct eas_server_request {
	const char *method;             /* "POST", "OPTIONS", ... */
	const char *path;               /* without the query, e.g. "/Microsoft-Server-ActiveSync" */
	const char *query;              /* the bytes after '?', or NULL */
	size_t query_len;
	const eas_http_header *headers; /* names ASCII case-insensitive */
	size_t header_count;
	const uint8_t *body;            /* NULL when body_len is 0 */
	size_t body_len;
	/* The front end stopped reading at its cap: answered 413 (after authentication). */
	int body_too_large;
	const char *remote;             /* peer address for the log, or NULL */
} eas_server_request;

#define EAS_SERVER_MAX_HEADERS 8u

/*
 * One HTTP response.  Everything is owned by the struct until
 * eas_server_response_clear().  When hold is set, status is 0 and nothing
 * else is filled: the request waits.
 */
typedef struct eas_server_response {
	int status;
	eas_http_header headers[EAS_SERVER_MAX_HEADERS];
	size_t header_count;
	uint8_t *body;
	size_t body_len;
	eas_server_hold *hold;
	/* private */
	char strings[1024];
	size_t strings_used;
	eas_mem mem;
} eas_server_response;

/*
 * Creates a server.  EAS_E_INVALID without a store or with a bad version,
 * EAS_E_NOMEM.  The store's notify callback is taken over.
 */
int eas_server_new(eas_server **out, const eas_server_config *config);
/*
 * Frees the server.  Holds still open are dropped without a wake (the front
 * end closes their connections first).  The store is left open with no
 * notify callback.
 */
void eas_server_free(eas_server *srv);

/*
 * Serves one request into *out (initialised here).  Returns 0 (every
 * outcome, including 4xx/5xx answers, is a response) or EAS_E_INVALID for a
 * NULL argument.  Call eas_server_response_clear(out) afterwards.
 */
int eas_server_handle(eas_server *srv, const eas_server_request *req, eas_server_response *out);

/* Frees what a response owns; safe on a cleared or zeroed one. */
void eas_server_response_clear(eas_server_response *resp);

/*
 * A change the store's own notification cannot report: one made through
 * another store handle, e.g. by another process (`eas-server deliver`)
 * that tells the server over a side channel.  Wakes the holds the event
 * concerns exactly as the store's callback would (wake() runs inside this
 * call).  NULL arguments are ignored.
 */
void eas_server_store_changed(eas_server *srv, const eas_mstore_event *event);

/* 1 when the hold has an outcome (wake was called for it). */
int eas_server_hold_ready(const eas_server_hold *hold);
/*
 * Produces the response of a held request and frees the hold (which must
 * not be used again).  A hold that is not ready yet is finished as if its
 * heartbeat had expired (Ping Status 1).  Returns 0 or EAS_E_INVALID.
 */
int eas_server_hold_finish(eas_server *srv, eas_server_hold *hold, eas_server_response *out);
/* The connection of a held request went away: frees the hold without a response. */
void eas_server_hold_cancel(eas_server *srv, eas_server_hold *hold);
/* Held requests not finished or cancelled yet. */
size_t eas_server_hold_count(const eas_server *srv);

/*
 * Milliseconds from now until eas_server_tick() has work (the nearest
 * heartbeat end), 0 when it is due, UINT64_MAX when nothing is held.
 */
uint64_t eas_server_next_timeout(const eas_server *srv);
/* Wakes every held request whose heartbeat has ended. */
void eas_server_tick(eas_server *srv);

/*
 * Reads a policy file: one "Name=value" per line (the element names of
 * eas_policy_name(), as eas_policy_describe() writes them), "Name=" for an
 * empty element, '#' comments and blank lines skipped, list elements as
 * comma-separated values.  *out is initialised here and owns its lists
 * (eas_policy_clear() it).  EAS_E_MALFORMED with line and reason in err for
 * an unknown name or a value out of range, EAS_E_NOMEM.
 */
int eas_server_policy_parse(eas_policy *out, const char *text, size_t len, const eas_mem *mem, char *err,
			    size_t err_size);

#endif
