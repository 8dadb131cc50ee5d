/*
 * eas-sync — the sample ActiveSync client, built on the public SDK API only
 * (sdk/include/eas): it is the reference embedding of libeas.
 *
 * What the pieces do (one job per file):
 *   main.c        the command table, usage, exit status
 *   args.c        the command line
 *   account.c     credentials, data directory, state store, session setup, connect
 *   discover.c    --email: Autodiscover of the server URL
 *   driver.c      the request / response / event loop over the libcurl transport
 *   trace.c       --verbose: the protocol exchange decoded as XML (no credentials)
 *   output.c      text and JSON output, error messages and exit codes
 *   progress.c    the progress bar (terminal) or plain progress lines
 *   items.c       item summaries, folder and item lookup in the store
 *   mime.c        composing the RFC 5322 message for send
 *   cmd_*.c       one command each (cmd_reply.c: reply and forward)
 */
#ifndef EAS_SYNC_APP_H
#define EAS_SYNC_APP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <eas/eas.h>
#include <eas/session.h>
#include <eas/mail.h>
#include <eas/sync.h>
#include <eas/sys/store.h>
#include <eas/transport_curl.h>

/* Exit status (docs/eas-sync.md). */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,   /* the server refused, or answered what the command cannot handle */
	EXIT_USAGE = 2,    /* bad command line */
	EXIT_AUTH = 3,     /* credentials refused or missing */
	EXIT_NETWORK = 4,  /* server unreachable, connection lost, timeout */
	EXIT_TLS = 5,      /* TLS handshake or certificate verification failed */
	EXIT_LOCAL = 6,    /* local data directory, store or file problem */
	EXIT_NOTFOUND = 7  /* no such folder, item or attachment in the local store */
};

#define MAX_LIST 32 /* --to/--cc/--attach/--folder repeated at most this often */

/* Everything the command line says. */
typedef struct options {
	const char *command;
	const char *positional[MAX_LIST];
	int npositional;
	/* account */
	const char *server, *email, *user, *password_file, *password_env, *token_cmd;
	const char *ca_file, *device_id, *protocol_version, *data_dir, *autodiscover_url;
	int insecure_http;
	/* output */
	int json, verbose, quiet, progress; /* progress: -1 auto, 0 off, 1 on */
	/* push */
	double for_seconds;
	long count;
	long heartbeat;
	/* list */
	long limit;
	/* show / fetch-attachment / mark */
	const char *folder;
	long index;
	const char *output;
	int force, read_flag; /* read_flag: -1 unset, 0 unread, 1 read */
	/* send */
	const char *to[MAX_LIST], *cc[MAX_LIST], *attach[MAX_LIST];
	int nto, ncc, nattach;
	const char *subject, *body, *body_file, *from;
	int no_save;
	/* folders */
	int offline;
	/* sync, push */
	long window;
	long timeout_s;
} options;

/* One run of the program. */
typedef struct app {
	options o;
	char data_dir[4096];
	char url[2048];
	char user[512];
	char email[512];
	char device_id[40];
	char *password;          /* wiped on exit */
	char token[4096];        /* the last bearer token from --token-cmd */
	eas_store *store;
	eas_curl_transport *curl;
	eas_session *session;
	/* driver state */
	int in_flight;
	int interrupted;
	int idle_ok;      /* drive(): the session going idle ends the operation well */
	int last_command; /* eas_command of the last request sent, -1 unknown */
	char transport_detail[512]; /* the last transport failure, for messages */
	char policy_text[2048];     /* the last policy the server sent, described */
	/* the first error of the run (output.c) */
	int exit_code;
} app;

/* ---- args.c ---- */
/* Parses argv into o; returns 0, or EXIT_USAGE after printing why. */
int args_parse(options *o, int argc, char **argv);
void usage(FILE *fp);

/* ---- output.c ---- */
/* JSON writer on stdout: objects and arrays with automatic commas. */
void json_begin_object(void);
void json_end_object(void);
void json_begin_array(void);
void json_end_array(void);
void json_key(const char *key);
void json_string(const char *value); /* NULL writes null */
void json_string_len(const char *value, size_t len);
void json_uint(uint64_t value);
void json_int(int64_t value);
void json_double(double value);
void json_bool(int value);
void json_null(void);
void json_kv_string(const char *key, const char *value);
void json_kv_uint(const char *key, uint64_t value);
void json_kv_int(const char *key, int64_t value);
void json_kv_bool(const char *key, int value);
void json_kv_double(const char *key, double value);
void json_newline(void); /* ends one JSON document (a line) */
/*
 * Reports a failure: "eas-sync: <message>" on stderr and, with --json, an
 * error document on stdout.  The first failure's exit code is kept in
 * a->exit_code; returns it.  eas_status / http_status: 0 when none.
 */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
int fail(app *a, int exit_code, int eas_status, int http_status, const char *fmt, ...);
/* The exit code for an EAS_E_* error of an operation. */
int exit_code_for(int eas_error);
/* Copies text (NULL = "") into dst, cut at a UTF-8 character boundary when it does not fit. */
void copy_text(char *dst, size_t size, const char *text);
/* "1.2 MB" */
void format_bytes(char *buf, size_t size, uint64_t bytes);
/* Replaces every copy of the run's secrets in text (NUL-terminated, in place). */
void redact_secrets(const app *a, char *text);

/* ---- account.c ---- */
/* Data directory, store, account values: enough for the offline commands. */
int account_open_local(app *a);
/* Credentials, transport and session; connects when needed.  Returns 0 or an exit code. */
int account_connect(app *a);
void account_close(app *a);
/* Runs --token-cmd once into a->token; 0 or an EAS_E_* code. */
int account_token(app *a);
/* The account values eas-sync keeps in the store under "eas-sync:<name>". */
int account_value_get(app *a, const char *name, char *buf, size_t size);
int account_value_set(app *a, const char *name, const char *value);

/* ---- discover.c ---- */
/* Finds the server URL for a->email into a->url.  Returns 0 or an exit code. */
int discover_url(app *a);

/* ---- driver.c ---- */
/*
 * Called for every session event first.  Returns EV_CONTINUE (handled, go
 * on), EV_DONE (the operation is complete), EV_DEFAULT (let the driver
 * handle it: policy, wipe, redirect, errors...), or an exit code (1-7) to
 * stop with that failure (already reported).
 */
#define EV_CONTINUE 0
#define EV_DEFAULT (-1)
#define EV_DONE 100
typedef int (*event_fn)(app *a, const eas_session_event *ev, void *ctx);
/* Called about ten times a second while the loop runs (progress bars); may be NULL.  EV_DONE ends the loop. */
typedef int (*tick_fn)(app *a, void *ctx);
/*
 * Runs the session until on_event says done (returns 0), a failure (its
 * exit code), deadline_ms passes (monotonic, 0 = none; returns -1 after
 * cancelling), or SIGINT/SIGTERM (-2 after cancelling).  An idle session
 * that produced no final event is a failure.
 */
int drive(app *a, event_fn on_event, tick_fn on_tick, void *ctx, uint64_t deadline_ms);
uint64_t now_ms(void);
/* Submits one request through the transport, with tracing; used by discover.c too. */
int driver_submit(app *a, const eas_http_request *req, const eas_http_response_handler *h);
/* Runs the transport for at most ms (sleeps when nothing is in flight). */
void driver_pump(app *a, uint32_t ms);
void driver_install_signals(app *a);
/* Cancels the exchange in flight (if any) without feeding its end to anyone. */
void driver_detach(app *a);

/* ---- trace.c ---- */
void trace_request(app *a, const eas_http_request *req);
void trace_response_head(app *a, int status, const eas_http_header *headers, size_t count);
void trace_response_body(app *a, const unsigned char *data, size_t len);
void trace_response_end(app *a, int error, const char *detail);

/* ---- progress.c ---- */
typedef struct progress {
	int enabled;       /* a bar on the terminal */
	int lines;         /* plain lines instead */
	uint64_t start_ms, last_draw_ms;
	uint64_t items, bytes, total; /* total: estimate, 0 unknown */
	const char *label;
	int drawn;
} progress;
void progress_init(progress *p, app *a, const char *label);
void progress_update(progress *p, uint64_t items, uint64_t bytes, int force);
void progress_line(progress *p, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 2, 3)))
#endif
	;
void progress_finish(progress *p);

/* ---- items.c ---- */
/* What lists and push show of an item. */
typedef struct item_summary {
	char subject[512];
	char from[512];
	char date[64];
	int read, has_read;
	unsigned attachments;
} item_summary;
void item_summarize(const eas_store_item *item, item_summary *out);
/* Writes the item's JSON object (server_id, folder, class, subject, from, date, read, size...). */
void item_json(const eas_store_item *item, const char *folder_name);
/* The folders of the store, copied. */
typedef struct folder_rec {
	char id[EAS_STORE_ID_MAX + 1], parent[EAS_STORE_ID_MAX + 1];
	char name[EAS_STORE_NAME_MAX + 1];
	char cls[EAS_STORE_CLASS_MAX + 1];
	char sync_key[EAS_STORE_ID_MAX + 1];
	uint32_t type;
	int sync_wanted, more;
} folder_rec;
typedef struct folder_table {
	folder_rec *f;
	size_t n, cap;
} folder_table;
int folders_load(app *a, folder_table *t);
void folders_free(folder_table *t);
const folder_rec *folders_by_id(const folder_table *t, const char *id);
/* "Parent/Child" */
void folders_path(const folder_table *t, const folder_rec *f, char *out, size_t size);
/* Folder lookup by server id, display name or path (case-insensitive); 0, EAS_E_NOTFOUND or EAS_E_INVALID (ambiguous). */
int folder_find(app *a, const char *name, char *id_out, size_t size);
/* The display name of a folder id ("" when unknown). */
void folder_name(app *a, const char *id, char *out, size_t size);
/* Finds an item by ServerId in folder (NULL: every folder); fills folder_out. */
int item_find(app *a, const char *folder, const char *server_id, char *folder_out, size_t size);
/* A FolderHierarchy Type in words ("Inbox", "user mail"...). */
const char *folder_type_name(uint32_t type);

/* ---- mime.c ---- */
typedef struct mime_buf {
	char *data;
	size_t len, cap;
	int failed;
} mime_buf;
/* Composes the message of a send command; returns 0 or an exit code (reported). */
int mime_compose(app *a, mime_buf *out);
void mime_buf_free(mime_buf *b);

/* ---- commands ---- */
int cmd_sync(app *a);
int cmd_push(app *a);
int cmd_folders(app *a);
int cmd_list(app *a);
int cmd_show(app *a);
int cmd_status(app *a);
int cmd_send(app *a);
int cmd_fetch_attachment(app *a);
int cmd_mark(app *a);
int cmd_move(app *a);
int cmd_reply(app *a); /* reply and forward */

/* Shared by sync and push: FolderSync and Sync with the progress bar; 0 or an exit code. */
typedef struct sync_totals {
	uint64_t added, changed, deleted, bytes, folders;
	double seconds;
} sync_totals;
int run_sync(app *a, const char *const *folders, size_t count, int show_progress, sync_totals *out);

#endif /* EAS_SYNC_APP_H */
