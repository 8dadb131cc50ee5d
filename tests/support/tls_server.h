/*
 * A tiny HTTP(S) server in the test process (libmicrohttpd, one thread per
 * connection) on 127.0.0.1 with an ephemeral port, answering each request
 * through a handler the test supplies.  With a test_cert it speaks TLS only.
 * The handler runs on the server's threads, one request at a time (a mutex
 * serialises it).  Test support code: failures abort the current cmocka
 * test.
 */
#ifndef EAS_TESTS_TLS_SERVER_H
#define EAS_TESTS_TLS_SERVER_H

#include <stddef.h>

#include "test_cert.h"

typedef struct ts_request {
	const char *method;
	const char *path;           /* without the query */
	const char *cmd;            /* the Cmd= query argument, or NULL */
	const char *headers;        /* "Name: value\n" for each request header */
	const unsigned char *body;
	size_t body_len;
} ts_request;

typedef struct ts_response {
	int status;                 /* default 200 */
	const char *headers[16];    /* name, value, ..., NULL */
	const void *body;           /* copied; NULL = empty */
	size_t body_len;
} ts_response;

typedef void (*ts_handler)(const ts_request *req, ts_response *out, void *user_data);

typedef struct tls_server tls_server;

/* Starts a server (cert NULL: plain HTTP). */
tls_server *tls_server_start(const test_cert *cert, ts_handler handler, void *user_data);
/* Its port, and "https://127.0.0.1:PORT" + path into buf. */
int tls_server_port(const tls_server *s);
void tls_server_url(const tls_server *s, char *buf, size_t size, const char *path);
/* Requests the handler answered so far. */
unsigned tls_server_requests(tls_server *s);
/* Stops the server (waits for its threads) and frees it. */
void tls_server_stop(tls_server *s);

/* The value of header `name` in a ts_request's header dump into out ("" when absent). */
void ts_header(const ts_request *req, const char *name, char *out, size_t size);

#endif
