/* A tiny in-process HTTP(S) server for tests (libmicrohttpd). */
#include "tls_server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <cmocka.h>

#include <microhttpd.h>

struct tls_server {
	struct MHD_Daemon *d;
	int port;
	int tls;
	pthread_mutex_t mu;
	unsigned requests;
	ts_handler handler;
	void *user_data;
};

/* One request's upload, collected over the handler's calls. */
typedef struct upload {
	unsigned char *data;
	size_t len;
} upload;

typedef struct dump {
	char text[8192];
	size_t len;
} dump;

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	(void)kind;
	dump *d = cls;
	int n = snprintf(d->text + d->len, sizeof d->text - d->len, "%s: %s\n", key, value ? value : "");
	if (n > 0 && (size_t)n < sizeof d->text - d->len)
		d->len += (size_t)n;
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_data_size,
				  void **con_cls)
{
	(void)version;
	tls_server *s = cls;
	upload *up = *con_cls;
	if (!up) {
		up = calloc(1, sizeof *up);
		if (!up)
			return MHD_NO;
		*con_cls = up;
		return MHD_YES;
	}
	if (*upload_data_size) {
		unsigned char *grown = realloc(up->data, up->len + *upload_data_size);
		if (!grown)
			return MHD_NO;
		up->data = grown;
		memcpy(up->data + up->len, upload_data, *upload_data_size);
		up->len += *upload_data_size;
		*upload_data_size = 0;
		return MHD_YES;
	}

	dump *hd = calloc(1, sizeof *hd);
	if (!hd)
		return MHD_NO;
	MHD_get_connection_values(c, MHD_HEADER_KIND, collect, hd);
	ts_request req = { method, url, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "Cmd"), hd->text,
			   up->data, up->len };
	ts_response out;
	memset(&out, 0, sizeof out);
	out.status = 200;
	pthread_mutex_lock(&s->mu);
	s->requests++;
	s->handler(&req, &out, s->user_data);
	pthread_mutex_unlock(&s->mu);
	free(hd);

	struct MHD_Response *resp =
		MHD_create_response_from_buffer(out.body_len, (void *)(out.body ? out.body : ""), MHD_RESPMEM_MUST_COPY);
	if (!resp)
		return MHD_NO;
	for (size_t i = 0; i + 1 < sizeof out.headers / sizeof out.headers[0] && out.headers[i]; i += 2)
		MHD_add_response_header(resp, out.headers[i], out.headers[i + 1]);
	enum MHD_Result r = MHD_queue_response(c, (unsigned)out.status, resp);
	MHD_destroy_response(resp);
	return r;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
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

tls_server *tls_server_start(const test_cert *cert, ts_handler handler, void *user_data)
{
	tls_server *s = calloc(1, sizeof *s);
	assert_non_null(s);
	pthread_mutex_init(&s->mu, NULL);
	s->handler = handler;
	s->user_data = user_data;
	struct sockaddr_in sin;
	memset(&sin, 0, sizeof sin);
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	struct MHD_OptionItem ops[] = {
		{ MHD_OPTION_SOCK_ADDR, 0, &sin },
		{ MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, s },
		{ MHD_OPTION_CONNECTION_TIMEOUT, 30, NULL },
		{ MHD_OPTION_END, 0, NULL }, /* or the key and certificate below */
		{ MHD_OPTION_END, 0, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	unsigned int flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD;
	if (cert) {
		flags |= MHD_USE_TLS;
		ops[3].option = MHD_OPTION_HTTPS_MEM_KEY;
		ops[3].ptr_value = (void *)cert->key_pem;
		ops[4].option = MHD_OPTION_HTTPS_MEM_CERT;
		ops[4].ptr_value = (void *)cert->cert_pem;
		s->tls = 1;
	}
	s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_ARRAY, ops, MHD_OPTION_END);
	assert_non_null(s->d);
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->d, MHD_DAEMON_INFO_BIND_PORT);
	assert_non_null(info);
	s->port = info->port;
	assert_true(s->port > 0);
	return s;
}

int tls_server_port(const tls_server *s)
{
	return s->port;
}

void tls_server_url(const tls_server *s, char *buf, size_t size, const char *path)
{
	snprintf(buf, size, "%s://127.0.0.1:%d%s", s->tls ? "https" : "http", s->port, path);
}

unsigned tls_server_requests(tls_server *s)
{
	pthread_mutex_lock(&s->mu);
	unsigned n = s->requests;
	pthread_mutex_unlock(&s->mu);
	return n;
}

void tls_server_stop(tls_server *s)
{
	if (!s)
		return;
	MHD_stop_daemon(s->d);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

void ts_header(const ts_request *req, const char *name, char *out, size_t size)
{
	size_t n = strlen(name);
	out[0] = '\0';
	for (const char *p = req->headers; p && *p;) {
		const char *end = strchr(p, '\n');
		if (!end)
			break;
		if (strncasecmp(p, name, n) == 0 && p[n] == ':' && p[n + 1] == ' ') {
			snprintf(out, size, "%.*s", (int)(end - (p + n + 2)), p + n + 2);
			return;
		}
		p = end + 1;
	}
}
