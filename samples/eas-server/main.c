/*
 * eas-server: the companion ActiveSync server.  A libmicrohttpd front end
 * over the sans-I/O engine (sdk/src/server/engine.h) and the SQLite mailbox
 * store, plus the admin commands that manage its data directory.
 *
 *   eas-server serve --listen ADDR:PORT --data-dir DIR [--tls-cert F --tls-key F] [--policy FILE]
 *                    [--public-url URL] [--max-body BYTES] [--max-connections N] [--timeout SECONDS]
 *                    [--quiet] [--max-holds N]
 *   eas-server user add USER --password-file F --data-dir DIR
 *   eas-server user del USER --data-dir DIR
 *   eas-server user list --data-dir DIR
 *   eas-server wipe USER DEVICE-ID --data-dir DIR [--account-only]
 *   eas-server devices USER --data-dir DIR
 *   eas-server token issue USER --data-dir DIR [--lifetime SECONDS]
 *   eas-server inject USER ... --data-dir DIR          (inject.c: misbehaviour on demand)
 *   eas-server deliver USER FILE.eml --data-dir DIR    (deliver.c: one message into the Inbox)
 *   eas-server import USER (--maildir D | --mbox F) --data-dir DIR   (import.c)
 *
 * Passwords come only from files ("-" = standard input), never from argv.
 *
 * Threads: libmicrohttpd's one internal polling thread runs the requests; a
 * timer thread sleeps until the nearest Ping heartbeat ends; the main thread
 * waits for SIGINT/SIGTERM.  One mutex serialises every call into the engine
 * and the store.  A Ping that has to wait is parked with
 * MHD_suspend_connection() and resumed from the engine's wake callback,
 * which the store's change notification (or the timer) triggers: no polling.
 * Changes made by other processes (deliver, import, wipe) arrive as notices
 * on DATA-DIR/notify.sock (notify.h), read by one more thread and handed to
 * eas_server_store_changed().
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "eas/policy.h"
#include "eas/sys/platform.h"
#include "server/engine.h"
#include "server/store_sqlite.h"
#include "notify.h"

#define DB_NAME "mailbox.db"
#define MAILBOX_DEVICE_PREFIX "@@" /* the engine's reserved pseudo-devices (Oof) */

#if defined(__GNUC__)
__attribute__((noreturn, format(printf, 1, 2)))
#endif
static void die(const char *fmt, ...);

static void die(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("eas-server: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

#if defined(__GNUC__)
__attribute__((noreturn))
#endif
static void usage(void);

static void usage(void)
{
	fputs("usage:\n"
	      "  eas-server serve --listen ADDR:PORT --data-dir DIR [--tls-cert F --tls-key F] [--policy FILE]\n"
	      "                   [--public-url URL] [--max-body BYTES] [--max-connections N] [--timeout S] [--quiet]\n"
	      "                   [--max-holds N]\n"
	      "  eas-server user add USER --password-file F --data-dir DIR\n"
	      "  eas-server user del USER --data-dir DIR\n"
	      "  eas-server user list --data-dir DIR\n"
	      "  eas-server wipe USER DEVICE-ID --data-dir DIR [--account-only]\n"
	      "  eas-server devices USER --data-dir DIR\n"
	      "  eas-server token issue USER --data-dir DIR [--lifetime SECONDS]\n"
	      "  eas-server seed-demo USER --emails N --data-dir DIR [--password-file F]\n"
	      "  eas-server inject USER [--device ID] [--command NAME] (--http CODE [--retry-after S]\n"
	      "                    [--location URL] | --eas-status N) [--count N] --data-dir DIR\n"
	      "  eas-server inject USER (--clear [--device ID] | --list) --data-dir DIR\n"
	      "  eas-server deliver USER FILE.eml --data-dir DIR [--folder NAME] [--read]\n"
	      "  eas-server import USER (--maildir DIR | --mbox FILE) --data-dir DIR [--folder NAME]\n",
	      stderr);
	exit(2);
}

/* ---- options ------------------------------------------------------------------ */

typedef struct opts {
	const char *positional[4];
	int npositional;
	const char *listen, *data_dir, *tls_cert, *tls_key, *policy, *public_url, *password_file;
	unsigned long max_body, max_connections, timeout_s, lifetime_s, max_holds;
	int account_only, quiet;
} opts;

static unsigned long parse_ulong(const char *name, const char *v)
{
	char *end = NULL;
	errno = 0;
	unsigned long n = strtoul(v, &end, 10);
	if (errno || !end || *end || !*v)
		die("%s: not a number: %s", name, v);
	return n;
}

static void parse_opts(opts *o, int argc, char **argv, int first)
{
	memset(o, 0, sizeof *o);
	o->listen = "127.0.0.1:8080";
	o->max_body = EAS_SERVER_DEFAULT_MAX_BODY;
	o->max_connections = 256;
	o->timeout_s = 60;
	for (int i = first; i < argc; i++) {
		const char *a = argv[i];
		const char **target = NULL;
		unsigned long *number = NULL;
		if (strcmp(a, "--listen") == 0)
			target = &o->listen;
		else if (strcmp(a, "--data-dir") == 0)
			target = &o->data_dir;
		else if (strcmp(a, "--tls-cert") == 0)
			target = &o->tls_cert;
		else if (strcmp(a, "--tls-key") == 0)
			target = &o->tls_key;
		else if (strcmp(a, "--policy") == 0)
			target = &o->policy;
		else if (strcmp(a, "--public-url") == 0)
			target = &o->public_url;
		else if (strcmp(a, "--password-file") == 0)
			target = &o->password_file;
		else if (strcmp(a, "--max-body") == 0)
			number = &o->max_body;
		else if (strcmp(a, "--max-connections") == 0)
			number = &o->max_connections;
		else if (strcmp(a, "--max-holds") == 0)
			number = &o->max_holds;
		else if (strcmp(a, "--timeout") == 0)
			number = &o->timeout_s;
		else if (strcmp(a, "--lifetime") == 0)
			number = &o->lifetime_s;
		else if (strcmp(a, "--account-only") == 0)
			o->account_only = 1;
		else if (strcmp(a, "--quiet") == 0)
			o->quiet = 1;
		else if (strcmp(a, "--password") == 0)
			die("passwords are read from a file: use --password-file FILE");
		else if (a[0] == '-' && a[1] == '-')
			die("unknown option %s", a);
		else if (o->npositional < 4)
			o->positional[o->npositional++] = a;
		else
			usage();
		if (target || number) {
			if (i + 1 >= argc)
				die("%s needs a value", a);
			if (target)
				*target = argv[++i];
			else
				*number = parse_ulong(a, argv[++i]);
		}
	}
}

/* ---- files ---------------------------------------------------------------------- */

static char *read_file(const char *path, size_t *len_out, size_t max)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	if (!fp)
		die("cannot open %s: %s", path, strerror(errno));
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		die("out of memory");
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, fp)) > 0) {
		len += n;
		if (len > max)
			die("%s is larger than %zu bytes", path, max);
		if (len == cap) {
			cap *= 2;
			char *nb = realloc(buf, cap + 1);
			if (!nb)
				die("out of memory");
			buf = nb;
		}
	}
	if (ferror(fp))
		die("cannot read %s", path);
	if (fp != stdin)
		fclose(fp);
	buf[len] = '\0';
	if (len_out)
		*len_out = len;
	return buf;
}

static void wipe_free(char *s, size_t n)
{
	if (!s)
		return;
	volatile char *v = s;
	while (n--)
		*v++ = 0;
	free(s);
}

/* The first line of the password file, without its line end. */
static char *read_password(const char *path, size_t *len)
{
	char *pw = read_file(path, len, EAS_MSTORE_PASSWORD_MAX + 2);
	size_t n = strcspn(pw, "\r\n");
	pw[n] = '\0';
	if (n == 0)
		die("%s: empty password", path);
	return pw;
}

static eas_mstore *open_store(const opts *o)
{
	if (!o->data_dir)
		die("--data-dir is required");
	if (mkdir(o->data_dir, 0700) != 0 && errno != EEXIST)
		die("cannot create %s: %s", o->data_dir, strerror(errno));
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", o->data_dir, DB_NAME);
	eas_mstore_sqlite_options so = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	so.path = path;
	eas_mstore *store = NULL;
	int rc = eas_mstore_sqlite_open(&store, &so);
	if (rc)
		die("cannot open the store %s: %s", path, eas_strerror(rc));
	return store;
}

static int64_t lookup_user(eas_mstore *store, const char *name)
{
	int64_t id = 0;
	int rc = store->user_lookup(&id, store, name);
	if (rc == EAS_E_NOTFOUND)
		die("no user %s", name);
	if (rc)
		die("store: %s", eas_strerror(rc));
	return id;
}

/* ---- admin commands ------------------------------------------------------------------ */

static int print_user(const eas_mstore_user *u, void *ud)
{
	(void)ud;
	printf("%s\n", u->name);
	return 0;
}

static const char *policy_state_name(eas_mstore_policy_state s)
{
	return s == EAS_MSTORE_POLICY_ACKNOWLEDGED ? "provisioned" : s == EAS_MSTORE_POLICY_ISSUED ? "pending" : "none";
}

static const char *wipe_state_name(const eas_mstore_device *d)
{
	if (d->wipe_state == EAS_MSTORE_WIPE_NONE)
		return "none";
	const char *kind = d->wipe_kind == EAS_MSTORE_WIPE_ACCOUNT_ONLY ? "account-only" : "full";
	static char text[64];
	snprintf(text, sizeof text, "%s-%s", kind,
		 d->wipe_state == EAS_MSTORE_WIPE_REQUESTED ? "requested"
		 : d->wipe_status == 1			  ? "done"
							  : "failed");
	return text;
}

static int print_device(const eas_mstore_device *d, void *ud)
{
	(void)ud;
	if (strncmp(d->device_id, MAILBOX_DEVICE_PREFIX, strlen(MAILBOX_DEVICE_PREFIX)) == 0)
		return 0;
	printf("%s\ttype=%s\tmodel=%s\tpolicy=%s\twipe=%s\tlast_seen=%lld\n", d->device_id,
	       d->info.device_type ? d->info.device_type : "-", d->info.model ? d->info.model : "-",
	       policy_state_name(d->policy_state), wipe_state_name(d), (long long)d->last_seen);
	return 0;
}

static int cmd_admin(const char *cmd, int argc, char **argv)
{
	opts o;
	if (strcmp(cmd, "user") == 0 || strcmp(cmd, "token") == 0) {
		if (argc < 3)
			usage();
		parse_opts(&o, argc, argv, 3);
		const char *sub = argv[2];
		eas_mstore *store = open_store(&o);
		int rc = 0;
		if (strcmp(cmd, "user") == 0 && strcmp(sub, "add") == 0) {
			if (o.npositional != 1 || !o.password_file)
				usage();
			size_t len = 0;
			char *pw = read_password(o.password_file, &len);
			int64_t id;
			rc = store->user_add(&id, store, o.positional[0], pw);
			wipe_free(pw, len);
			if (rc == EAS_E_STATE)
				die("user %s exists", o.positional[0]);
			if (rc == EAS_E_INVALID)
				die("bad user name or password (names: no ':' or control characters)");
			if (rc == 0)
				printf("user %s added\n", o.positional[0]);
		} else if (strcmp(cmd, "user") == 0 && strcmp(sub, "del") == 0) {
			if (o.npositional != 1)
				usage();
			rc = store->user_delete(store, lookup_user(store, o.positional[0]));
			if (rc == 0)
				printf("user %s deleted\n", o.positional[0]);
		} else if (strcmp(cmd, "user") == 0 && strcmp(sub, "list") == 0) {
			rc = store->user_list(store, print_user, NULL);
		} else if (strcmp(cmd, "token") == 0 && strcmp(sub, "issue") == 0) {
			if (o.npositional != 1)
				usage();
			char token[EAS_MSTORE_TOKEN_SIZE];
			rc = store->token_issue(token, store, lookup_user(store, o.positional[0]), (int64_t)o.lifetime_s);
			if (rc == 0)
				printf("%s\n", token);
		} else {
			usage();
		}
		if (rc)
			die("%s", store->error(store)[0] ? store->error(store) : eas_strerror(rc));
		store->destroy(store);
		return 0;
	}
	parse_opts(&o, argc, argv, 2);
	eas_mstore *store = open_store(&o);
	int rc;
	if (strcmp(cmd, "wipe") == 0) {
		if (o.npositional != 2)
			usage();
		int64_t uid = lookup_user(store, o.positional[0]);
		rc = store->device_wipe_request(store, uid, o.positional[1],
						o.account_only ? EAS_MSTORE_WIPE_ACCOUNT_ONLY : EAS_MSTORE_WIPE_FULL);
		if (rc == 0) { /* a running serve answers the device's held Ping with the wipe at once */
			eas_mstore_event ev = { EAS_MSTORE_EVENT_DEVICE, uid, NULL, o.positional[1] };
			(void)notify_send(o.data_dir, &ev);
		}
		if (rc == EAS_E_NOTFOUND)
			die("user %s has no device %s", o.positional[0], o.positional[1]);
		if (rc == 0)
			printf("%s wipe requested for %s of %s (sent at the device's next request)\n",
			       o.account_only ? "account-only" : "full", o.positional[1], o.positional[0]);
	} else if (strcmp(cmd, "devices") == 0) {
		if (o.npositional != 1)
			usage();
		rc = store->device_list(store, lookup_user(store, o.positional[0]), print_device, NULL);
	} else {
		usage();
	}
	if (rc)
		die("%s", store->error(store)[0] ? store->error(store) : eas_strerror(rc));
	store->destroy(store);
	return 0;
}

/* ---- serve ------------------------------------------------------------------------ */

typedef struct conn_ctx conn_ctx;
struct conn_ctx {
	char *query;              /* raw query (after '?'), NULL when none */
	uint8_t *body;
	size_t body_len, body_cap;
	int too_large;
	int started;
	struct MHD_Connection *conn;
	eas_server_hold *hold;    /* a parked Ping */
	int resumed;
	int dispatched;           /* the request went to the engine: never again */
	int in_list;              /* in the list of parked connections until completed() */
	conn_ctx *prev, *next;
	char remote[64];
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t timer_cond;   /* the timer thread's wake-up (new hold, shutdown) */
	pthread_cond_t drain_cond;   /* a parked connection went away */
	eas_server *srv;
	eas_mstore *store;
	size_t max_body;
	conn_ctx *parked;
	int stopping;
	int quiet;
	eas_platform platform;
} g;

static void log_to_stderr(eas_log_level level, const char *message, void *ud)
{
	(void)ud;
	if (g.quiet && level > EAS_LOG_WARN)
		return;
	char stamp[32];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	fprintf(stderr, "%s %s\n", stamp, message);
}

static void park(conn_ctx *c)
{
	c->in_list = 1;
	c->prev = NULL;
	c->next = g.parked;
	if (g.parked)
		g.parked->prev = c;
	g.parked = c;
}

static void unpark(conn_ctx *c)
{
	if (!c->in_list)
		return;
	c->in_list = 0;
	if (c->prev)
		c->prev->next = c->next;
	else if (g.parked == c)
		g.parked = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
	pthread_cond_broadcast(&g.drain_cond);
}

/* The engine says a parked Ping can be answered (called with g.lock held). */
static void on_wake(eas_server_hold *hold, void *ud)
{
	(void)ud;
	for (conn_ctx *c = g.parked; c; c = c->next) {
		if (c->hold == hold && !c->resumed) {
			c->resumed = 1;
			MHD_resume_connection(c->conn);
			return;
		}
	}
}

/* A notice from another process (deliver, import, wipe): wake the Pings it concerns. */
static void on_notice(const eas_mstore_event *ev, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&g.lock);
	if (g.srv && !g.stopping)
		eas_server_store_changed(g.srv, ev);
	pthread_mutex_unlock(&g.lock);
}

static void *timer_main(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&g.lock);
	while (!g.stopping) {
		uint64_t ms = eas_server_next_timeout(g.srv);
		if (ms == 0) {
			eas_server_tick(g.srv);
			continue;
		}
		if (ms == UINT64_MAX) {
			pthread_cond_wait(&g.timer_cond, &g.lock);
			continue;
		}
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(ms / 1000u);
		ts.tv_nsec += (long)(ms % 1000u) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g.timer_cond, &g.lock, &ts);
	}
	pthread_mutex_unlock(&g.lock);
	return NULL;
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)cls;
	conn_ctx *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->conn = conn;
	const char *q = uri ? strchr(uri, '?') : NULL;
	if (q && q[1])
		c->query = strdup(q + 1);
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, c->remote,
				  sizeof c->remote);
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, c->remote,
				  sizeof c->remote);
	}
	return c;
}

typedef struct header_list {
	eas_http_header items[64];
	size_t count;
} header_list;

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	header_list *h = cls;
	if (h->count < sizeof h->items / sizeof h->items[0] && key && value) {
		h->items[h->count].name = key;
		h->items[h->count].value = value;
		h->count++;
	}
	return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, const eas_server_response *r)
{
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(r->body_len, r->body ? (void *)r->body : (void *)"", MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	for (size_t i = 0; i < r->header_count; i++)
		MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	conn_ctx *c = *con_cls;
	if (!c)
		return MHD_NO; /* out of memory in uri_logger: drop the connection */
	eas_server_response r;
	if (c->hold) {
		/*
		 * Resumed: the parked Ping has its answer (or the server is
		 * stopping).  The connection stays in the parked list until
		 * completed(), so a stopping server waits for the answer to go out.
		 */
		pthread_mutex_lock(&g.lock);
		eas_server_hold *h = c->hold;
		c->hold = NULL;
		eas_server_hold_finish(g.srv, h, &r);
		pthread_mutex_unlock(&g.lock);
		enum MHD_Result ret = send_response(conn, &r);
		eas_server_response_clear(&r);
		return ret;
	}
	if (!c->started) {
		c->started = 1;
		/* A declared body over the cap is answered at once (after authentication, by the engine). */
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		if (cl && strtoull(cl, NULL, 10) > g.max_body)
			c->too_large = 1;
		else
			return MHD_YES;
	} else if (*upload_data_size) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (c->too_large || c->body_len + n > g.max_body) {
			c->too_large = 1; /* read and dropped */
			return MHD_YES;
		}
		if (c->body_len + n > c->body_cap) {
			size_t cap = c->body_cap ? c->body_cap : 4096;
			while (cap < c->body_len + n)
				cap *= 2;
			uint8_t *nb = realloc(c->body, cap);
			if (!nb)
				return MHD_NO;
			c->body = nb;
			c->body_cap = cap;
		}
		memcpy(c->body + c->body_len, upload_data, n);
		c->body_len += n;
		return MHD_YES;
	}
	if (c->dispatched)
		return MHD_NO; /* called again after the answer: nothing more to say */
	c->dispatched = 1;
	header_list headers;
	headers.count = 0;
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, &headers);
	char path[1024];
	snprintf(path, sizeof path, "%s", url ? url : "");
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = method;
	req.path = path;
	req.query = c->query;
	req.query_len = c->query ? strlen(c->query) : 0;
	req.headers = headers.items;
	req.header_count = headers.count;
	req.body = c->too_large ? NULL : c->body;
	req.body_len = c->too_large ? 0 : c->body_len;
	req.body_too_large = c->too_large;
	req.remote = c->remote[0] ? c->remote : NULL;
	pthread_mutex_lock(&g.lock);
	eas_server_handle(g.srv, &req, &r);
	if (r.hold) {
		c->hold = r.hold;
		c->resumed = 0;
		park(c);
		MHD_suspend_connection(conn);
		pthread_cond_signal(&g.timer_cond); /* a new heartbeat to wait for */
		pthread_mutex_unlock(&g.lock);
		eas_server_response_clear(&r);
		return MHD_YES;
	}
	pthread_mutex_unlock(&g.lock);
	enum MHD_Result ret = send_response(conn, &r);
	eas_server_response_clear(&r);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	conn_ctx *c = *con_cls;
	if (!c)
		return;
	*con_cls = NULL;
	pthread_mutex_lock(&g.lock);
	if (c->hold) {
		eas_server_hold_cancel(g.srv, c->hold);
		c->hold = NULL;
	}
	unpark(c);
	pthread_mutex_unlock(&g.lock);
	free(c->query);
	free(c->body);
	free(c);
}

/* "ADDR:PORT", "[v6]:PORT" -> sockaddr. */
static socklen_t parse_listen(const char *text, struct sockaddr_storage *ss, int *family)
{
	char host[128];
	const char *colon;
	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');
		if (!close || close[1] != ':' || (size_t)(close - text - 1) >= sizeof host)
			die("--listen: expected ADDR:PORT or [ADDR]:PORT, got %s", text);
		memcpy(host, text + 1, (size_t)(close - text - 1));
		host[close - text - 1] = '\0';
		colon = close + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon || (size_t)(colon - text) >= sizeof host)
			die("--listen: expected ADDR:PORT, got %s", text);
		memcpy(host, text, (size_t)(colon - text));
		host[colon - text] = '\0';
	}
	unsigned long port = parse_ulong("--listen port", colon + 1);
	if (port > 65535)
		die("--listen: bad port %lu", port);
	struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*family = AF_INET;
		return sizeof *v4;
	}
	if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		*family = AF_INET6;
		return sizeof *v6;
	}
	die("--listen: %s is not an IPv4 or IPv6 address", host);
	return 0;
}

static int cmd_serve(int argc, char **argv)
{
	opts o;
	parse_opts(&o, argc, argv, 2);
	if (o.npositional)
		usage();
	if (!o.tls_cert != !o.tls_key)
		die("--tls-cert and --tls-key go together");
	if (o.max_body == 0 || o.max_connections == 0)
		die("--max-body and --max-connections must be positive");
	g.quiet = o.quiet;
	g.max_body = o.max_body;
	struct sockaddr_storage ss;
	int family = 0;
	parse_listen(o.listen, &ss, &family);

	eas_policy policy;
	int have_policy = 0;
	if (o.policy) {
		size_t len = 0;
		char *text = read_file(o.policy, &len, 1u << 20);
		char err[200];
		int rc = eas_server_policy_parse(&policy, text, len, NULL, err, sizeof err);
		free(text);
		if (rc)
			die("%s: %s", o.policy, rc == EAS_E_MALFORMED ? err : eas_strerror(rc));
		have_policy = 1;
	}
	char *cert = o.tls_cert ? read_file(o.tls_cert, NULL, 1u << 20) : NULL;
	char *key = o.tls_key ? read_file(o.tls_key, NULL, 1u << 20) : NULL;

	/* Signals are taken by sigwait() in this thread only: block them before any thread starts. */
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	pthread_mutex_init(&g.lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&g.timer_cond, &ca);
	pthread_cond_init(&g.drain_cond, &ca);
	pthread_condattr_destroy(&ca);

	g.store = open_store(&o);
	g.platform = *eas_platform_posix();
	g.platform.log = log_to_stderr;

	/* One internal thread polling with the best mechanism (epoll on Linux). */
	unsigned flags = MHD_USE_AUTO_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
	if (family == AF_INET6)
		flags |= MHD_USE_IPv6;
	if (cert)
		flags |= MHD_USE_TLS;
	struct MHD_OptionItem tls_opts[] = {
		{ MHD_OPTION_HTTPS_MEM_CERT, 0, cert },
		{ MHD_OPTION_HTTPS_MEM_KEY, 0, key },
		{ MHD_OPTION_END, 0, NULL },
	};
	struct MHD_Daemon *d = MHD_start_daemon(
		flags, 0, NULL, NULL, handle, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
		MHD_OPTION_URI_LOG_CALLBACK, uri_logger, NULL, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned int)o.max_connections, MHD_OPTION_CONNECTION_TIMEOUT,
		(unsigned int)o.timeout_s, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(128u * 1024u),
		MHD_OPTION_ARRAY, cert ? tls_opts : &tls_opts[2], MHD_OPTION_END);
	if (!d)
		die("cannot listen on %s (address in use? bad certificate or key?)", o.listen);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	unsigned port = info ? info->port : 0;
	char host[128];
	if (family == AF_INET6)
		snprintf(host, sizeof host, "[%.*s]", (int)(strrchr(o.listen, ']') - o.listen - 1), o.listen + 1);
	else
		snprintf(host, sizeof host, "%.*s", (int)(strrchr(o.listen, ':') - o.listen), o.listen);
	const char *scheme = cert ? "https" : "http";
	char base[300];
	if (o.public_url)
		snprintf(base, sizeof base, "%s", o.public_url);
	else
		snprintf(base, sizeof base, "%s://%s:%u", scheme, host, port);

	eas_server_config cfg = EAS_SERVER_CONFIG_INIT;
	cfg.store = g.store;
	cfg.platform = &g.platform;
	cfg.policy = have_policy ? &policy : NULL;
	cfg.public_url = base;
	cfg.max_body = o.max_body;
	cfg.max_holds = (size_t)o.max_holds; /* 0 = the engine's default */
	cfg.wake = on_wake;
	pthread_mutex_lock(&g.lock);
	int rc = eas_server_new(&g.srv, &cfg);
	pthread_mutex_unlock(&g.lock);
	if (rc) {
		MHD_stop_daemon(d);
		die("cannot start the engine: %s", eas_strerror(rc));
	}
	if (have_policy)
		eas_policy_clear(&policy);
	pthread_t timer;
	if (pthread_create(&timer, NULL, timer_main, NULL) != 0)
		die("cannot start the timer thread");
	char nerr[300];
	notify_listener *notices = notify_listen(o.data_dir, on_notice, NULL, nerr, sizeof nerr);
	if (!notices)
		fprintf(stderr, "eas-server: %s: changes made by deliver, import and wipe will not wake Pings\n", nerr);

	printf("listening on %s://%s:%u\n", scheme, host, port);
	fflush(stdout);

	int sig = 0;
	while (sigwait(&set, &sig) != 0)
		;
	fprintf(stderr, "eas-server: %s, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
	notify_stop(notices);

	/* Answer the parked Pings (Status 1), wait until they went out (completed()), then stop. */
	pthread_mutex_lock(&g.lock);
	g.stopping = 1;
	pthread_cond_broadcast(&g.timer_cond);
	for (conn_ctx *c = g.parked; c; c = c->next) {
		if (!c->resumed) {
			c->resumed = 1;
			MHD_resume_connection(c->conn);
		}
	}
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += 5;
	while (g.parked && pthread_cond_timedwait(&g.drain_cond, &g.lock, &until) == 0)
		;
	pthread_mutex_unlock(&g.lock);
	pthread_join(timer, NULL);
	MHD_stop_daemon(d);
	pthread_mutex_lock(&g.lock);
	eas_server_free(g.srv);
	g.srv = NULL;
	pthread_mutex_unlock(&g.lock);
	g.store->destroy(g.store);
	free(cert);
	wipe_free(key, key ? strlen(key) : 0);
	fprintf(stderr, "eas-server: stopped\n");
	return 0;
}

int eas_server_seed_demo_main(int argc, char **argv);
int eas_server_inject_main(int argc, char **argv);
int eas_server_deliver_main(int argc, char **argv);
int eas_server_import_main(int argc, char **argv);

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "seed-demo") == 0)
		return eas_server_seed_demo_main(argc, argv);
	if (strcmp(cmd, "inject") == 0)
		return eas_server_inject_main(argc, argv);
	if (strcmp(cmd, "deliver") == 0)
		return eas_server_deliver_main(argc, argv);
	if (strcmp(cmd, "import") == 0)
		return eas_server_import_main(argc, argv);
	if (strcmp(cmd, "serve") == 0)
		return cmd_serve(argc, argv);
	if (strcmp(cmd, "user") == 0 || strcmp(cmd, "token") == 0 || strcmp(cmd, "wipe") == 0 ||
	    strcmp(cmd, "devices") == 0)
		return cmd_admin(cmd, argc, argv);
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		usage();
	}
	usage();
	return 2;
}
