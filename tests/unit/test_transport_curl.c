/*
 * The libcurl transport against real HTTP and HTTPS servers running IN this
 * process (libmicrohttpd, one thread per connection) on 127.0.0.1 with
 * ephemeral ports.  No network beyond loopback.
 *
 * The servers' certificates are generated at test start with mbedTLS
 * (mbedtls_x509write_crt): an ECDSA P-256 self-signed certificate for
 * 127.0.0.1 (subjectAltName IP 127.0.0.1), and a second one whose names do
 * not match 127.0.0.1, so no openssl tool is needed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "eas/transport_curl.h"
#include "test_cert.h"
#include "testmem.h"

/* ---- certificates (tests/support/test_cert.c, made with mbedTLS) ------------- */

static test_cert good_cert;  /* names 127.0.0.1 */
static test_cert other_cert; /* names 10.9.8.7 / other.invalid */

/* ---- the in-process server (libmicrohttpd) ------------------------------------ */

#define BIG_LEN 300000u

typedef struct server {
	struct MHD_Daemon *d;
	int port;
	int tls;
	pthread_mutex_t mu;
	int connections; /* TCP connections accepted */
	int requests;
	char method[16];
	char url[128];
	char headers[8192]; /* "Name: value\n" of the last request */
	unsigned char *body;
	size_t body_len;
	volatile int stopping;
} server;

static server plain_srv, tls_srv, other_srv;

typedef struct upload {
	unsigned char *data;
	size_t len, cap;
} upload;

typedef struct reader_ctx {
	server *srv;
	int kind; /* 0 big, 1 slow, 2 truncated */
} reader_ctx;

static unsigned char pattern(uint64_t i)
{
	return (unsigned char)(i * 7u + (i >> 9));
}

static uint64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max)
{
	reader_ctx *rc = cls;
	if (rc->kind == 0) {
		size_t n = BIG_LEN - (size_t)pos < max ? BIG_LEN - (size_t)pos : max;
		if (n > 4096)
			n = 4096;
		for (size_t i = 0; i < n; i++)
			buf[i] = (char)pattern(pos + i);
		return (ssize_t)n;
	}
	if (rc->kind == 2) {
		if (pos == 0) {
			memset(buf, 't', 100 < max ? 100 : max);
			return 100 < max ? 100 : (ssize_t)max;
		}
		return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* slow: 10 bytes now, then nothing for up to 3 s */
	if (pos == 0) {
		memset(buf, 'x', 10);
		return 10;
	}
	uint64_t start = mono_ms();
	while (!rc->srv->stopping && mono_ms() - start < 3000)
		usleep(5000);
	return MHD_CONTENT_READER_END_WITH_ERROR;
}

static void reader_free(void *cls)
{
	free(cls);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	(void)kind;
	server *s = cls;
	size_t used = strlen(s->headers);
	snprintf(s->headers + used, sizeof s->headers - used, "%s: %s\n", key,
		 value ? value : "");
	return MHD_YES;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version,
			       const char *upload_data, size_t *upload_size, void **con_cls)
{
	(void)version;
	server *s = cls;
	upload *up = *con_cls;
	if (!up) {
		up = calloc(1, sizeof *up);
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_size) {
		if (up->len + *upload_size > up->cap) {
			up->cap = (up->len + *upload_size) * 2;
			up->data = realloc(up->data, up->cap);
		}
		memcpy(up->data + up->len, upload_data, *upload_size);
		up->len += *upload_size;
		*upload_size = 0;
		return MHD_YES;
	}

	pthread_mutex_lock(&s->mu);
	s->requests++;
	snprintf(s->method, sizeof s->method, "%s", method);
	snprintf(s->url, sizeof s->url, "%s", url);
	s->headers[0] = '\0';
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect_header, s);
	free(s->body);
	s->body = malloc(up->len ? up->len : 1);
	if (up->len)
		memcpy(s->body, up->data, up->len);
	s->body_len = up->len;
	pthread_mutex_unlock(&s->mu);

	struct MHD_Response *resp;
	unsigned int status = MHD_HTTP_OK;
	if (strcmp(url, "/big") == 0 || strcmp(url, "/slow") == 0 ||
	    strcmp(url, "/truncated") == 0) {
		reader_ctx *rc = calloc(1, sizeof *rc);
		rc->srv = s;
		rc->kind = url[1] == 'b' ? 0 : url[1] == 's' ? 1 : 2;
		uint64_t size = rc->kind == 0 ? BIG_LEN : rc->kind == 2 ? 1000 : MHD_SIZE_UNKNOWN;
		resp = MHD_create_response_from_callback(size, 4096, reader, rc, reader_free);
	} else if (strcmp(url, "/status503") == 0) {
		resp = MHD_create_response_from_buffer(4, (void *)"busy", MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_SERVICE_UNAVAILABLE;
	} else { /* /echo and anything else: the request body back */
		resp = MHD_create_response_from_buffer(up->len, up->data, MHD_RESPMEM_MUST_COPY);
	}
	MHD_add_response_header(resp, "X-Test", "one");
	MHD_add_response_header(resp, "X-Echo-Method", method);
	MHD_add_response_header(resp, "Set-Cookie", "session=SETCOOKIE-SECRET-42");
	enum MHD_Result r = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
		      enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)c;
	(void)toe;
	upload *up = *con_cls;
	if (up) {
		free(up->data);
		free(up);
	}
	*con_cls = NULL;
}

static void notify_conn(void *cls, struct MHD_Connection *c, void **socket_context,
			enum MHD_ConnectionNotificationCode toe)
{
	(void)c;
	(void)socket_context;
	server *s = cls;
	if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
		pthread_mutex_lock(&s->mu);
		s->connections++;
		pthread_mutex_unlock(&s->mu);
	}
}

static void server_start(server *s, const test_cert *cert)
{
	memset(s, 0, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, &sin },
		{ MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)notify_conn, s },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)completed, s },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL },
		{ MHD_OPTION_END, 0, NULL }, /* or HTTPS key below */
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	if (cert) {
		flags |= MHD_USE_TLS;
		ops[4].option = MHD_OPTION_HTTPS_MEM_KEY;
		ops[4].ptr_value = (void *)cert->key_pem;
		ops[5].option = MHD_OPTION_HTTPS_MEM_CERT;
		ops[5].ptr_value = (void *)cert->cert_pem;
		s->tls = 1;
	}
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, handler, s, MHD_OPTION_ARRAY, ops,
				MHD_OPTION_END);
	assert_non_null(s->d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port > 0);
}

static void server_stop(server *s)
{
	if (!s->d)
		return;
	s->stopping = 1;
	MHD_stop_daemon(s->d);
	s->d = NULL;
	free(s->body);
	s->body = NULL;
	pthread_mutex_destroy(&s->mu);
}

static void server_reset(server *s)
{
	pthread_mutex_lock(&s->mu);
	s->connections = 0;
	s->requests = 0;
	s->headers[0] = '\0';
	pthread_mutex_unlock(&s->mu);
}

static void url_of(char *buf, size_t cap, const server *s, const char *path)
{
	snprintf(buf, cap, "%s://127.0.0.1:%d%s", s->tls ? "https" : "http", s->port, path);
}

/* Case-insensitive: does the server's header dump contain this "Name:" line? */
static int server_saw_header(server *s, const char *name)
{
	pthread_mutex_lock(&s->mu);
	int found = 0;
	size_t nl = strlen(name);
	for (const char *p = s->headers; *p;) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			found = 1;
		const char *e = strchr(p, '\n');
		if (!e)
			break;
		p = e + 1;
	}
	pthread_mutex_unlock(&s->mu);
	return found;
}

static void server_header_value(server *s, const char *name, char *out, size_t cap)
{
	out[0] = '\0';
	pthread_mutex_lock(&s->mu);
	size_t nl = strlen(name);
	for (const char *p = s->headers; *p;) {
		const char *e = strchr(p, '\n');
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 2;
			size_t vl = (size_t)((e ? e : v + strlen(v)) - v);
			snprintf(out, cap, "%.*s", (int)vl, v);
			break;
		}
		if (!e)
			break;
		p = e + 1;
	}
	pthread_mutex_unlock(&s->mu);
}

/* ---- captured log ----------------------------------------------------------------- */

static char logbuf[1 << 20];
static size_t loglen;

static void capture_log(eas_log_level level, const char *message, void *ud)
{
	(void)level;
	(void)ud;
	size_t n = strlen(message);
	if (loglen + n + 2 < sizeof logbuf) {
		memcpy(logbuf + loglen, message, n);
		loglen += n;
		logbuf[loglen++] = '\n';
		logbuf[loglen] = '\0';
	}
}

static eas_platform capture_platform(void)
{
	eas_platform p = *eas_platform_posix();
	p.log = capture_log;
	p.user_data = NULL;
	return p;
}

/* ---- client helpers ---------------------------------------------------------------- */

typedef struct result {
	eas_transport *tr;
	eas_http_request_id id;
	int head_calls, body_calls, completed;
	int status;
	int error;
	char detail[256];
	char headers[2048];
	unsigned char *body;
	size_t body_len;
	int body_before_head;
	int callbacks_after_complete;
	/* actions */
	int cancel_on_body;      /* cancel itself from its first on_body */
	int fail_on_body;        /* return this from on_body */
	int cancel_returned;
	struct result *chain;    /* submit this one from the first on_body */
	const char *chain_url;
} result;

static int on_head(int status, const eas_http_header *h, size_t n, void *ud)
{
	result *r = ud;
	if (r->completed)
		r->callbacks_after_complete++;
	r->head_calls++;
	r->status = status;
	for (size_t i = 0; i < n; i++) {
		size_t used = strlen(r->headers);
		snprintf(r->headers + used, sizeof r->headers - used, "%s: %s\n", h[i].name,
			 h[i].value);
	}
	return 0;
}

static int submit_to(result *r, const char *url);

static int on_body(const unsigned char *data, size_t len, void *ud)
{
	result *r = ud;
	if (r->completed)
		r->callbacks_after_complete++;
	if (!r->head_calls)
		r->body_before_head = 1;
	r->body_calls++;
	r->body = realloc(r->body, r->body_len + len);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	if (r->chain) {
		result *c = r->chain;
		r->chain = NULL;
		assert_int_equal(submit_to(c, r->chain_url), 0);
	}
	if (r->cancel_on_body) {
		r->cancel_on_body = 0;
		r->cancel_returned = r->tr->cancel(r->tr, r->id);
		/* the completion must not have run inside cancel() here... */
		return 0;
	}
	return r->fail_on_body;
}

static void on_complete(int error, const char *detail, void *ud)
{
	result *r = ud;
	r->completed++;
	r->error = error;
	snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

static eas_http_response_handler handler_for(result *r)
{
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
	h.on_head = on_head;
	h.on_body = on_body;
	h.on_complete = on_complete;
	h.user_data = r;
	return h;
}

static int submit_req(result *r, const eas_http_request *req)
{
	eas_http_response_handler h = handler_for(r);
	return r->tr->submit(&r->id, r->tr, req, &h);
}

static int submit_to(result *r, const char *url)
{
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	return submit_req(r, &req);
}

static void result_free(result *r)
{
	free(r->body);
	r->body = NULL;
}

static eas_curl_transport_options base_options(void)
{
	eas_curl_transport_options o = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	o.proxy = ""; /* never a proxy from the environment: loopback only */
	o.connect_timeout_ms = 5000;
	return o;
}

static eas_curl_transport *new_transport(const eas_curl_transport_options *o)
{
	eas_curl_transport *t = NULL;
	assert_int_equal(eas_curl_transport_new(&t, o), 0);
	assert_non_null(t);
	return t;
}

static void run_all(eas_curl_transport *t)
{
	assert_int_equal(eas_curl_transport_run(t, 20000), 0);
}

static int has_line(const char *dump, const char *line)
{
	size_t n = strlen(line);
	for (const char *p = dump; (p = strstr(p, line)) != NULL; p++)
		if ((p == dump || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
			return 1;
	return 0;
}

/* ---- (a) TLS trust ------------------------------------------------------------------ */

static void test_https_refused_without_ca(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_TLS);
	assert_int_equal(r.head_calls, 0);
	assert_true(strlen(r.detail) > 0);
	assert_non_null(strstr(eas_curl_transport_last_error(t), "request #"));
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_https_works_with_ca_file(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.status, 200);
	assert_true(has_line(r.headers, "X-Echo-Method: GET"));
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_https_ca_pem_and_pin(void **state)
{
	(void)state;
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");

	eas_curl_transport_options o = base_options();
	o.ca_pem = good_cert.cert_pem;
	o.ca_pem_len = strlen(good_cert.cert_pem);
	o.pinned_public_key = good_cert.pin;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 200);
	eas_curl_transport_free(t);
	result_free(&r);

	/* right CA, wrong key pinned: refused */
	o.pinned_public_key = other_cert.pin;
	t = new_transport(&o);
	result r2 = { .tr = eas_curl_transport_base(t) };
	assert_int_equal(submit_to(&r2, url), 0);
	run_all(t);
	assert_int_equal(r2.error, EAS_E_TLS);
	assert_int_equal(r2.head_calls, 0);
	eas_curl_transport_free(t);
	result_free(&r2);
}

static void test_https_name_mismatch(void **state)
{
	(void)state;
	/* the server's certificate is trusted, but it names another host */
	eas_curl_transport_options o = base_options();
	o.ca_file = other_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &other_srv, "/echo");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, EAS_E_TLS);
	eas_curl_transport_free(t);
	result_free(&r);
}

/* ---- (b) plain http ---------------------------------------------------------------- */

static void test_plain_http_refused(void **state)
{
	(void)state;
	eas_platform p = capture_platform();
	loglen = 0;
	logbuf[0] = '\0';
	eas_curl_transport_options o = base_options();
	o.platform = &p;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &plain_srv, "/echo");
	assert_int_equal(submit_to(&r, url), EAS_E_INVALID);
	assert_non_null(strstr(eas_curl_transport_last_error(t), "http://"));
	assert_non_null(strstr(eas_curl_transport_last_error(t), "allow_plain_http"));
	assert_non_null(strstr(logbuf, "allow_plain_http"));
	assert_int_equal(eas_curl_transport_pending(t), 0);
	/* other schemes and user info in the URL are refused too */
	assert_int_equal(submit_to(&r, "ftp://127.0.0.1/x"), EAS_E_INVALID);
	assert_int_equal(submit_to(&r, "file:///etc/passwd"), EAS_E_INVALID);
	assert_int_equal(submit_to(&r, "https://user:pw@127.0.0.1/x"), EAS_E_INVALID);
	assert_int_equal(submit_to(&r, "https://127.0.0.1/a b"), EAS_E_INVALID);
	assert_int_equal(eas_curl_transport_run(t, 100), 0);
	assert_int_equal(r.completed, 0);
	eas_curl_transport_free(t);
	assert_int_equal(r.completed, 0);
	assert_int_equal(plain_srv.requests, 0);
}

static void test_plain_http_allowed(void **state)
{
	(void)state;
	eas_platform p = capture_platform();
	loglen = 0;
	logbuf[0] = '\0';
	eas_curl_transport_options o = base_options();
	o.allow_plain_http = 1;
	o.platform = &p;
	eas_curl_transport *t = new_transport(&o);
	assert_non_null(strstr(logbuf, "plain http:// allowed")); /* warned at creation */
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &plain_srv, "/echo");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 200);
	eas_curl_transport_free(t);
	result_free(&r);
}

/* ---- (c) bodies, headers, status --------------------------------------------------- */

static void test_post_body_exact(void **state)
{
	(void)state;
	server_reset(&tls_srv);
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	o.user_agent = "libeas-test/1.0";
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };

	unsigned char body[3000];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i % 256); /* every byte value, NULs included */
	static const eas_http_header hdrs[] = {
		{ "Content-Type", "application/vnd.ms-sync.wbxml" },
		{ "MS-ASProtocolVersion", "14.1" },
		{ "X-Empty", "" },
	};
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo?Cmd=Sync&User=u");
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.header_count = 3;
	req.body = body;
	req.body_length = sizeof body;
	assert_int_equal(submit_req(&r, &req), 0);
	/* the request was copied: scribbling over it changes nothing */
	memset(body, 0xEE, sizeof body);
	memset(url, 'z', sizeof url - 1);
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)(i % 256);
	run_all(t);

	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.head_calls, 1);
	assert_false(r.body_before_head);
	assert_true(has_line(r.headers, "X-Test: one"));
	assert_true(has_line(r.headers, "X-Echo-Method: POST"));
	/* server side: byte-exact body, our headers, nothing curl-made we did not ask for */
	assert_int_equal(tls_srv.body_len, sizeof body);
	assert_memory_equal(tls_srv.body, body, sizeof body);
	assert_string_equal(tls_srv.method, "POST");
	assert_string_equal(tls_srv.url, "/echo");
	char v[256];
	server_header_value(&tls_srv, "Content-Type", v, sizeof v);
	assert_string_equal(v, "application/vnd.ms-sync.wbxml");
	server_header_value(&tls_srv, "MS-ASProtocolVersion", v, sizeof v);
	assert_string_equal(v, "14.1");
	server_header_value(&tls_srv, "Content-Length", v, sizeof v);
	assert_string_equal(v, "3000");
	server_header_value(&tls_srv, "User-Agent", v, sizeof v);
	assert_string_equal(v, "libeas-test/1.0");
	assert_true(server_saw_header(&tls_srv, "X-Empty"));
	assert_false(server_saw_header(&tls_srv, "Accept"));
	assert_false(server_saw_header(&tls_srv, "Expect"));
	/* client side: the echo, in order */
	assert_int_equal(r.body_len, sizeof body);
	assert_memory_equal(r.body, body, sizeof body);
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_post_without_body_and_content_type(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	assert_int_equal(submit_req(&r, &req), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	char v[64];
	server_header_value(&tls_srv, "Content-Length", v, sizeof v);
	assert_string_equal(v, "0");
	assert_false(server_saw_header(&tls_srv, "Content-Type")); /* curl's form default removed */
	result_free(&r);

	/* OPTIONS, as the session sends it */
	result r2 = { .tr = eas_curl_transport_base(t) };
	req.method = "OPTIONS";
	assert_int_equal(submit_req(&r2, &req), 0);
	run_all(t);
	assert_int_equal(r2.error, 0);
	assert_string_equal(tls_srv.method, "OPTIONS");
	assert_true(has_line(r2.headers, "X-Echo-Method: OPTIONS"));
	eas_curl_transport_free(t);
	result_free(&r2);
}

static void test_response_streamed_in_chunks(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, BIG_LEN);
	assert_true(r.body_calls > 1);
	for (size_t i = 0; i < BIG_LEN; i++)
		if (r.body[i] != pattern(i))
			fail_msg("body byte %zu differs", i);
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_status_is_data(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/status503");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 503);
	assert_int_equal(r.body_len, 4);
	assert_memory_equal(r.body, "busy", 4);
	eas_curl_transport_free(t);
	result_free(&r);
}

typedef struct body_src {
	size_t total, pos, piece;
	int fail_at;    /* fail when pos reaches this (-1 never) */
	int short_at;   /* return 0 bytes when pos reaches this (-1 never) */
	int rewinds;
} body_src;

static int src_read(size_t *out, unsigned char *buf, size_t size, void *ud)
{
	body_src *s = ud;
	if (s->fail_at >= 0 && s->pos >= (size_t)s->fail_at)
		return EAS_E_MALFORMED;
	if (s->short_at >= 0 && s->pos >= (size_t)s->short_at) {
		*out = 0;
		return 0;
	}
	size_t n = size < s->piece ? size : s->piece;
	if (n > s->total - s->pos)
		n = s->total - s->pos;
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(s->pos + i);
	s->pos += n;
	*out = n;
	return 0;
}

static int src_rewind(void *ud)
{
	body_src *s = ud;
	s->pos = 0;
	s->rewinds++;
	return 0;
}

static void test_streaming_upload(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");

	body_src src = { 100000, 0, 777, -1, -1, 0 };
	result r = { .tr = eas_curl_transport_base(t) };
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	req.body_read = src_read;
	req.body_rewind = src_rewind;
	req.body_user_data = &src;
	req.body_length = src.total;
	assert_int_equal(submit_req(&r, &req), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_int_equal(tls_srv.body_len, src.total);
	for (size_t i = 0; i < src.total; i++)
		if (tls_srv.body[i] != pattern(i))
			fail_msg("uploaded byte %zu differs", i);
	assert_int_equal(r.body_len, src.total);
	assert_false(server_saw_header(&tls_srv, "Expect"));
	assert_false(server_saw_header(&tls_srv, "Transfer-Encoding"));
	result_free(&r);

	/* the reader fails: its own code comes back */
	body_src bad = { 100000, 0, 777, 5000, -1, 0 };
	result r2 = { .tr = eas_curl_transport_base(t) };
	req.body_user_data = &bad;
	assert_int_equal(submit_req(&r2, &req), 0);
	run_all(t);
	assert_int_equal(r2.completed, 1);
	assert_int_equal(r2.error, EAS_E_MALFORMED);
	result_free(&r2);

	/* the reader runs dry before body_length */
	body_src shrt = { 100000, 0, 777, -1, 7770, 0 };
	result r3 = { .tr = eas_curl_transport_base(t) };
	req.body_user_data = &shrt;
	assert_int_equal(submit_req(&r3, &req), 0);
	run_all(t);
	assert_int_equal(r3.error, EAS_E_TRUNCATED);
	eas_curl_transport_free(t);
	result_free(&r3);
}

/* ---- (d) no Expect: 100-continue -------------------------------------------------- */

static void test_no_expect_large_body(void **state)
{
	(void)state;
	server_reset(&tls_srv);
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	size_t len = 3u * 1024u * 1024u; /* curl would add Expect: 100-continue past 1 MB */
	unsigned char *body = malloc(len);
	for (size_t i = 0; i < len; i++)
		body[i] = pattern(i);
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	req.body = body;
	req.body_length = len;
	assert_int_equal(submit_req(&r, &req), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	assert_false(server_saw_header(&tls_srv, "Expect"));
	assert_int_equal(tls_srv.body_len, len);
	assert_memory_equal(tls_srv.body, body, len);
	assert_int_equal(r.body_len, len);
	assert_memory_equal(r.body, body, len);
	free(body);
	eas_curl_transport_free(t);
	result_free(&r);
}

/* ---- (e) connection reuse ----------------------------------------------------------- */

static void test_connection_reused(void **state)
{
	(void)state;
	server_reset(&tls_srv);
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	for (int i = 0; i < 3; i++) {
		result r = { .tr = eas_curl_transport_base(t) };
		eas_http_request req = EAS_HTTP_REQUEST_INIT;
		req.method = "POST";
		req.url = url;
		req.body = (const unsigned char *)"ping";
		req.body_length = 4;
		assert_int_equal(submit_req(&r, &req), 0);
		run_all(t);
		assert_int_equal(r.error, 0);
		assert_int_equal(r.status, 200);
		result_free(&r);
	}
	pthread_mutex_lock(&tls_srv.mu);
	int conns = tls_srv.connections, reqs = tls_srv.requests;
	pthread_mutex_unlock(&tls_srv.mu);
	assert_int_equal(reqs, 3);
	assert_int_equal(conns, 1);
	eas_curl_transport_free(t);
}

/* ---- (f) cancel ------------------------------------------------------------------ */

static void run_until(eas_curl_transport *t, const int *flag, long max_ms)
{
	uint64_t start = mono_ms();
	while (!*flag && mono_ms() - start < (uint64_t)max_ms)
		assert_true(eas_curl_transport_run(t, 20) >= 0);
}

static void test_cancel_mid_body(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	eas_transport *tr = eas_curl_transport_base(t);
	result r = { .tr = tr };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/slow");
	assert_int_equal(submit_to(&r, url), 0);
	run_until(t, &r.body_calls, 5000);
	assert_int_equal(r.body_calls, 1);
	assert_int_equal(r.completed, 0);
	uint64_t start = mono_ms();
	assert_int_equal(tr->cancel(tr, r.id), 0);
	/* completion delivered before cancel returned */
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_CANCELLED);
	assert_true(mono_ms() - start < 500);
	assert_int_equal(eas_curl_transport_pending(t), 0);
	assert_int_equal(tr->cancel(tr, r.id), EAS_E_NOTFOUND);
	assert_int_equal(eas_curl_transport_run(t, 200), 0);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.callbacks_after_complete, 0);
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_cancel_from_callback(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t), .cancel_on_body = 1 };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.cancel_returned, 0);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_CANCELLED);
	assert_int_equal(r.body_calls, 1);
	assert_int_equal(r.callbacks_after_complete, 0);
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_callback_error_aborts(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t), .fail_on_body = EAS_E_MALFORMED };
	result r2 = { .tr = eas_curl_transport_base(t), .fail_on_body = 7 };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	assert_int_equal(submit_to(&r, url), 0);
	assert_int_equal(submit_to(&r2, url), 0);
	run_all(t);
	assert_int_equal(r.error, EAS_E_MALFORMED);
	assert_int_equal(r.body_calls, 1);
	assert_int_equal(r2.error, EAS_E_CALLBACK);
	eas_curl_transport_free(t);
	result_free(&r);
	result_free(&r2);
}

static void test_submit_from_callback(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	char url[128], url2[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	url_of(url2, sizeof url2, &tls_srv, "/status503");
	result second = { .tr = eas_curl_transport_base(t) };
	result first = { .tr = eas_curl_transport_base(t), .chain = &second, .chain_url = url2 };
	assert_int_equal(submit_to(&first, url), 0);
	run_all(t);
	assert_int_equal(first.error, 0);
	assert_int_equal(first.body_len, BIG_LEN);
	assert_int_equal(second.error, 0);
	assert_int_equal(second.status, 503);
	assert_true(second.id != first.id && second.id != 0);
	eas_curl_transport_free(t);
	result_free(&first);
	result_free(&second);
}

static void test_destroy_cancels_pending(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	result r2 = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/slow");
	assert_int_equal(submit_to(&r, url), 0);
	assert_int_equal(submit_to(&r2, url), 0);
	run_until(t, &r.body_calls, 5000);
	assert_int_equal(eas_curl_transport_pending(t), 2);
	eas_transport *tr = eas_curl_transport_base(t);
	tr->destroy(tr);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_CANCELLED);
	assert_int_equal(r2.completed, 1);
	assert_int_equal(r2.error, EAS_E_CANCELLED);
	result_free(&r);
	result_free(&r2);
}

/* ---- (g) connect failures and timeouts ------------------------------------------ */

/* A bound socket on 127.0.0.1; listening or not. */
static int loopback_socket(int listening, int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	socklen_t sl = sizeof sin;
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	if (listening)
		assert_int_equal(listen(fd, 4), 0);
	return fd;
}

static void test_connection_refused(void **state)
{
	(void)state;
	int port;
	int fd = loopback_socket(0, &port); /* bound, not listening: RST */
	eas_curl_transport_options o = base_options();
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/x", port);
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_IO);
	assert_int_equal(r.head_calls, 0);
	close(fd);
	eas_curl_transport_free(t);
}

static void test_request_timeout(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/slow");
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	req.timeout_ms = 1500; /* ample for the TLS handshake, even under qemu */
	uint64_t start = mono_ms();
	assert_int_equal(submit_req(&r, &req), 0);
	run_all(t);
	uint64_t took = mono_ms() - start;
	assert_int_equal(r.error, EAS_E_IO);
	assert_int_equal(r.head_calls, 1); /* it had started answering */
	assert_true(took >= 1450 && took < 2900); /* the server would stall for 3 s */
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_connect_timeout(void **state)
{
	(void)state;
	int port;
	int fd = loopback_socket(1, &port); /* accepts TCP, never speaks TLS */
	eas_curl_transport_options o = base_options();
	o.connect_timeout_ms = 300;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	snprintf(url, sizeof url, "https://127.0.0.1:%d/x", port);
	uint64_t start = mono_ms();
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, EAS_E_IO);
	assert_true(mono_ms() - start < 2500);
	close(fd);
	eas_curl_transport_free(t);
}

static void test_disconnect_mid_body(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/truncated");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.head_calls, 1);
	assert_int_equal(r.status, 200);
	assert_true(r.body_len < 1000);
	assert_int_equal(r.error, EAS_E_IO);
	eas_curl_transport_free(t);
	result_free(&r);
}

static void test_max_response_size(void **state)
{
	(void)state;
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	o.max_response_size = 1000;
	eas_curl_transport *t = new_transport(&o);
	result r = { .tr = eas_curl_transport_base(t) };
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	assert_int_equal(submit_to(&r, url), 0);
	run_all(t);
	assert_int_equal(r.error, EAS_E_LIMIT); /* from Content-Length, before any body */
	assert_true(r.body_len <= 1000);
	result_free(&r);

	/* a chunked body (no Content-Length) is counted as it streams */
	result r2 = { .tr = eas_curl_transport_base(t) };
	url_of(url, sizeof url, &tls_srv, "/slow"); /* 10 bytes, then silence */
	eas_curl_transport_free(t);
	o.max_response_size = 5;
	t = new_transport(&o);
	r2.tr = eas_curl_transport_base(t);
	assert_int_equal(submit_to(&r2, url), 0);
	run_all(t);
	assert_int_equal(r2.error, EAS_E_LIMIT);
	assert_int_equal(r2.head_calls, 1);
	assert_int_equal(r2.body_len, 0);
	assert_non_null(strstr(r2.detail, "limit"));
	eas_curl_transport_free(t);
	result_free(&r2);
}

/* ---- (h) the verbose log never shows secrets -------------------------------------- */

static void test_log_redacts_credentials(void **state)
{
	(void)state;
	eas_platform p = capture_platform();
	loglen = 0;
	logbuf[0] = '\0';
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	o.verbose = EAS_CURL_VERBOSE_HEADERS;
	o.platform = &p;
	o.pinned_public_key = good_cert.pin;
	eas_curl_transport *t = new_transport(&o);
	static const eas_http_header hdrs[] = {
		{ "Authorization", "Basic QVVUSC1TRUNSRVQtMTIzOnB3" },
		{ "Cookie", "a=COOKIE-SECRET-77" },
		{ "proxy-authorization", "Bearer PROXY-SECRET-99" },
		{ "X-Visible", "fine" },
	};
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.header_count = 4;
	req.body = (const unsigned char *)"BODY-SECRET-55";
	req.body_length = 14;
	result r = { .tr = eas_curl_transport_base(t) };
	assert_int_equal(submit_req(&r, &req), 0);
	run_all(t);
	assert_int_equal(r.error, 0);
	/* the server did get the credentials */
	char v[128];
	server_header_value(&tls_srv, "Authorization", v, sizeof v);
	assert_string_equal(v, "Basic QVVUSC1TRUNSRVQtMTIzOnB3");
	eas_curl_transport_free(t);
	result_free(&r);

	/* the log is verbose: it shows the exchange... */
	assert_non_null(strstr(logbuf, "> POST /echo HTTP/1.1"));
	assert_non_null(strstr(logbuf, "X-Visible: fine"));
	assert_non_null(strstr(logbuf, "< HTTP/1.1 200"));
	assert_non_null(strstr(logbuf, "Authorization: [REDACTED]"));
	assert_non_null(strstr(logbuf, "Set-Cookie: [REDACTED]"));
	assert_non_null(strstr(logbuf, "body bytes"));
	/* ...but none of the secrets */
	assert_null(strstr(logbuf, "QVVUSC1TRUNSRVQtMTIzOnB3"));
	assert_null(strstr(logbuf, "COOKIE-SECRET"));
	assert_null(strstr(logbuf, "PROXY-SECRET"));
	assert_null(strstr(logbuf, "SETCOOKIE-SECRET"));
	assert_null(strstr(logbuf, "BODY-SECRET"));
}

/* ---- (i) socket/timer integration driven by a hand-written poll() loop ----------- */

typedef struct evloop {
	struct pollfd fds[32];
	int n;
	int timer_armed;
	uint64_t deadline;
	int watch_calls, timer_calls;
	int bad;
} evloop;

static int ev_watch(int fd, unsigned int events, void *ud)
{
	evloop *L = ud;
	L->watch_calls++;
	int i;
	for (i = 0; i < L->n && L->fds[i].fd != fd; i++)
		;
	if (events == 0) {
		if (i < L->n)
			L->fds[i] = L->fds[--L->n];
		return 0;
	}
	if (i == L->n) {
		if (L->n == 32) {
			L->bad = 1;
			return -1;
		}
		L->n++;
	}
	L->fds[i].fd = fd;
	L->fds[i].events = (short)(((events & EAS_CURL_POLL_IN) ? POLLIN : 0) |
				   ((events & EAS_CURL_POLL_OUT) ? POLLOUT : 0));
	L->fds[i].revents = 0;
	return 0;
}

static int ev_timer(long ms, void *ud)
{
	evloop *L = ud;
	L->timer_calls++;
	if (ms < 0) {
		L->timer_armed = 0;
	} else {
		L->timer_armed = 1;
		L->deadline = mono_ms() + (uint64_t)ms;
	}
	return 0;
}

static void test_event_loop_integration(void **state)
{
	(void)state;
	evloop L;
	memset(&L, 0, sizeof L);
	eas_curl_transport_options o = base_options();
	o.ca_file = good_cert.path;
	o.watch_socket = ev_watch;
	o.set_timer = ev_timer;
	o.event_user_data = &L;
	eas_curl_transport *t = new_transport(&o);
	char url[128], url2[128];
	url_of(url, sizeof url, &tls_srv, "/big");
	url_of(url2, sizeof url2, &tls_srv, "/echo");
	result r = { .tr = eas_curl_transport_base(t) };
	result r2 = { .tr = eas_curl_transport_base(t) };
	assert_int_equal(submit_to(&r, url), 0);
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url2;
	req.body = (const unsigned char *)"hello event loop";
	req.body_length = 16;
	assert_int_equal(submit_req(&r2, &req), 0);
	assert_true(L.timer_armed); /* curl asked to be kicked */

	uint64_t start = mono_ms();
	while (eas_curl_transport_pending(t) > 0) {
		assert_true(mono_ms() - start < 20000);
		int wait = 1000;
		if (L.timer_armed) {
			uint64_t now = mono_ms();
			wait = L.deadline > now ? (int)(L.deadline - now) : 0;
		}
		struct pollfd fds[32];
		int n = L.n;
		memcpy(fds, L.fds, sizeof(struct pollfd) * (size_t)n);
		int rc = poll(fds, (nfds_t)n, wait);
		assert_true(rc >= 0 || errno == EINTR);
		for (int i = 0; i < n; i++) {
			if (!fds[i].revents)
				continue;
			unsigned int ev = 0;
			if (fds[i].revents & POLLIN)
				ev |= EAS_CURL_POLL_IN;
			if (fds[i].revents & POLLOUT)
				ev |= EAS_CURL_POLL_OUT;
			if (fds[i].revents & (POLLERR | POLLHUP | POLLNVAL))
				ev |= EAS_CURL_POLL_ERR;
			assert_true(eas_curl_transport_socket_action(t, fds[i].fd, ev) >= 0);
		}
		if (L.timer_armed && mono_ms() >= L.deadline) {
			L.timer_armed = 0;
			assert_true(eas_curl_transport_timeout(t) >= 0);
		}
	}
	assert_false(L.bad);
	assert_true(L.watch_calls > 0);
	assert_true(L.timer_calls > 0);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.body_len, BIG_LEN);
	for (size_t i = 0; i < BIG_LEN; i++)
		if (r.body[i] != pattern(i))
			fail_msg("body byte %zu differs", i);
	assert_int_equal(r2.error, 0);
	assert_int_equal(r2.body_len, 16);
	assert_memory_equal(r2.body, "hello event loop", 16);
	eas_curl_transport_free(t);
	result_free(&r);
	result_free(&r2);
}

/* ---- argument checks and allocation failures ------------------------------------- */

static void test_invalid_arguments(void **state)
{
	(void)state;
	eas_curl_transport *t = NULL;
	eas_platform quiet0 = capture_platform();
	eas_curl_transport_options o = base_options();
	o.platform = &quiet0;
	o.version = 99;
	assert_int_equal(eas_curl_transport_new(&t, &o), EAS_E_INVALID);
	o = base_options();
	o.platform = &quiet0;
	o.watch_socket = ev_watch; /* without set_timer */
	assert_int_equal(eas_curl_transport_new(&t, &o), EAS_E_INVALID);
	o = base_options();
	o.platform = &quiet0;
	o.ca_file = "/nonexistent/ca.pem";
	assert_int_equal(eas_curl_transport_new(&t, &o), EAS_E_INVALID);
	assert_null(t);
	assert_int_equal(eas_curl_transport_new(NULL, NULL), EAS_E_INVALID);

	assert_int_equal(eas_curl_transport_new(&t, NULL), 0); /* all defaults */
	eas_curl_transport_free(t);
	eas_platform quiet = capture_platform();
	o = base_options();
	o.platform = &quiet;
	t = new_transport(&o);
	eas_transport *tr = eas_curl_transport_base(t);
	result r = { .tr = tr };
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = "https://127.0.0.1:1/x";
	eas_http_header bad = { "X-Bad", "a\r\nInjected: yes" };
	req.headers = &bad;
	req.header_count = 1;
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID);
	eas_http_header badname = { "X Bad", "v" };
	req.headers = &badname;
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID);
	req.headers = NULL;
	req.header_count = 0;
	req.method = "get";
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID);
	req.method = "POST";
	req.body = (const unsigned char *)"x";
	req.body_read = src_read;
	req.body_length = 1;
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID);
	req.body = NULL;
	req.body_read = NULL;
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID); /* length, no body */
	req.body_length = 0;
	req.version = 7;
	assert_int_equal(submit_req(&r, &req), EAS_E_INVALID);
	req.version = EAS_HTTP_REQUEST_VERSION;
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT; /* no on_complete */
	assert_int_equal(tr->submit(&r.id, tr, &req, &h), EAS_E_INVALID);
	assert_int_equal(tr->cancel(tr, 12345), EAS_E_NOTFOUND);
	assert_int_equal(eas_curl_transport_pending(t), 0);
	assert_int_equal(r.completed, 0);
	eas_curl_transport_free(t);
	eas_curl_transport_free(NULL);
}

static void test_allocation_failures(void **state)
{
	(void)state;
	char url[128];
	url_of(url, sizeof url, &tls_srv, "/echo");
	int succeeded = 0;
	for (long n = 0; n < 200 && !succeeded; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		eas_curl_transport_options o = base_options();
		o.ca_file = good_cert.path;
		o.mem = &mem;
		eas_curl_transport *t = NULL;
		int rc = eas_curl_transport_new(&t, &o);
		if (rc) {
			assert_int_equal(rc, EAS_E_NOMEM);
			assert_int_equal(tm.live_blocks, 0);
			continue;
		}
		result r = { .tr = eas_curl_transport_base(t) };
		eas_http_request req = EAS_HTTP_REQUEST_INIT;
		static const eas_http_header hdrs[] = { { "A", "1" }, { "B", "2" } };
		req.method = "POST";
		req.url = url;
		req.headers = hdrs;
		req.header_count = 2;
		req.body = (const unsigned char *)"abc";
		req.body_length = 3;
		rc = submit_req(&r, &req);
		if (rc == 0) {
			run_all(t);
			/* a failure mid-exchange is reported, never a crash */
			assert_true(r.error == 0 || r.error == EAS_E_NOMEM);
			if (r.error == 0) {
				assert_int_equal(r.body_len, 3);
				succeeded = 1;
			}
		} else {
			assert_int_equal(rc, EAS_E_NOMEM);
		}
		eas_curl_transport_free(t);
		assert_int_equal(tm.live_blocks, 0);
		result_free(&r);
	}
	assert_true(succeeded);
}

/* ---- setup --------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	static const unsigned char san_good[] = { 0x30, 0x06, 0x87, 0x04, 127, 0, 0, 1 };
	static const unsigned char san_other[] = {
		0x30, 0x15, 0x87, 0x04, 10, 9, 8, 7, 0x82, 0x0d, 'o', 't', 'h', 'e', 'r',
		'.', 'i', 'n', 'v', 'a', 'l', 'i', 'd'
	};
	test_cert_make(&good_cert, "CN=127.0.0.1,O=libeas test", san_good, sizeof san_good, "good");
	test_cert_make(&other_cert, "CN=other.invalid,O=libeas test", san_other, sizeof san_other,
		  "other");
	server_start(&plain_srv, NULL);
	server_start(&tls_srv, &good_cert);
	server_start(&other_srv, &other_cert);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	server_stop(&plain_srv);
	server_stop(&tls_srv);
	server_stop(&other_srv);
	test_cert_remove(&good_cert);
	test_cert_remove(&other_cert);
	return 0;
}

int main(void)
{
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
		fprintf(stderr, "libmicrohttpd without TLS: skipping\n");
		return 77;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_https_refused_without_ca),
		cmocka_unit_test(test_https_works_with_ca_file),
		cmocka_unit_test(test_https_ca_pem_and_pin),
		cmocka_unit_test(test_https_name_mismatch),
		cmocka_unit_test(test_plain_http_refused),
		cmocka_unit_test(test_plain_http_allowed),
		cmocka_unit_test(test_post_body_exact),
		cmocka_unit_test(test_post_without_body_and_content_type),
		cmocka_unit_test(test_response_streamed_in_chunks),
		cmocka_unit_test(test_status_is_data),
		cmocka_unit_test(test_streaming_upload),
		cmocka_unit_test(test_no_expect_large_body),
		cmocka_unit_test(test_connection_reused),
		cmocka_unit_test(test_cancel_mid_body),
		cmocka_unit_test(test_cancel_from_callback),
		cmocka_unit_test(test_callback_error_aborts),
		cmocka_unit_test(test_submit_from_callback),
		cmocka_unit_test(test_destroy_cancels_pending),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_request_timeout),
		cmocka_unit_test(test_connect_timeout),
		cmocka_unit_test(test_disconnect_mid_body),
		cmocka_unit_test(test_max_response_size),
		cmocka_unit_test(test_log_redacts_credentials),
		cmocka_unit_test(test_event_loop_integration),
		cmocka_unit_test(test_invalid_arguments),
		cmocka_unit_test(test_allocation_failures),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
