/* The in-process transport to the companion server (see engine_transport.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine_transport.h"
#include "server/engine.h"

#define MAX_COMMANDS 64

typedef struct pending {
	eas_http_request_id id;
	eas_http_response_handler h;
	eas_server_response resp;
	eas_server_hold *hold; /* held by the server, no answer yet */
	long cut;              /* break after this many body bytes, -1 = no */
} pending;

struct engine_transport {
	eas_transport base;
	fx *f;
	pending *list;
	size_t n, cap;
	eas_http_request_id next_id;
	size_t chunk;
	long cut_next;
	char commands[MAX_COMMANDS][32];
	size_t counts[MAX_COMMANDS];
	size_t total;
};

static engine_transport *et_of(eas_transport *t)
{
	return (engine_transport *)t;
}

static void count_command(engine_transport *et, const char *query)
{
	et->total++;
	const char *c = query ? strstr(query, "Cmd=") : NULL;
	char name[32] = "";
	if (c) {
		c += 4;
		size_t n = strcspn(c, "&");
		if (n >= sizeof name)
			n = sizeof name - 1;
		memcpy(name, c, n);
		name[n] = '\0';
	}
	for (size_t i = 0; i < MAX_COMMANDS; i++) {
		if (!et->commands[i][0])
			snprintf(et->commands[i], sizeof et->commands[i], "%s", name);
		if (strcmp(et->commands[i], name) == 0) {
			et->counts[i]++;
			return;
		}
	}
}

size_t engine_transport_count(const engine_transport *et, const char *command)
{
	if (!command)
		return et->total;
	for (size_t i = 0; i < MAX_COMMANDS && et->commands[i][0]; i++)
		if (strcmp(et->commands[i], command) == 0)
			return et->counts[i];
	return 0;
}

size_t engine_transport_held(const engine_transport *et)
{
	size_t n = 0;
	for (size_t i = 0; i < et->n; i++)
		n += et->list[i].hold != NULL;
	return n;
}

static int et_submit(eas_http_request_id *out, eas_transport *t, const eas_http_request *req,
		     const eas_http_response_handler *handler)
{
	engine_transport *et = et_of(t);
	if (!out || !req || !handler || !handler->on_complete || !req->method || !req->url || req->body_read)
		return EAS_E_INVALID;
	/* https://host[:port]/path?query */
	const char *p = strstr(req->url, "://");
	if (!p)
		return EAS_E_INVALID;
	p = strchr(p + 3, '/');
	if (!p)
		return EAS_E_INVALID;
	const char *q = strchr(p, '?');
	char path[256];
	size_t plen = q ? (size_t)(q - p) : strlen(p);
	if (plen >= sizeof path)
		return EAS_E_INVALID;
	memcpy(path, p, plen);
	path[plen] = '\0';
	eas_server_request sr;
	memset(&sr, 0, sizeof sr);
	sr.method = req->method;
	sr.path = path;
	sr.query = q ? q + 1 : NULL;
	sr.query_len = q ? strlen(q + 1) : 0;
	sr.headers = req->headers;
	sr.header_count = req->header_count;
	sr.body = req->body_length ? req->body : NULL;
	sr.body_len = (size_t)req->body_length;
	sr.remote = "127.0.0.1";
	if (et->n == et->cap) {
		et->cap = et->cap ? et->cap * 2 : 8;
		et->list = realloc(et->list, et->cap * sizeof *et->list);
		assert_non_null(et->list);
	}
	pending *e = &et->list[et->n];
	memset(e, 0, sizeof *e);
	count_command(et, sr.query);
	assert_int_equal(eas_server_handle(et->f->srv, &sr, &e->resp), 0);
	e->hold = e->resp.hold;
	e->id = ++et->next_id;
	e->h = *handler;
	e->cut = -1;
	et->n++;
	*out = e->id;
	return 0;
}

static void remove_at(engine_transport *et, size_t i)
{
	eas_server_response_clear(&et->list[i].resp);
	memmove(&et->list[i], &et->list[i + 1], (et->n - i - 1) * sizeof *et->list);
	et->n--;
}

static int et_cancel(eas_transport *t, eas_http_request_id id)
{
	engine_transport *et = et_of(t);
	for (size_t i = 0; i < et->n; i++) {
		if (et->list[i].id != id)
			continue;
		pending e = et->list[i];
		if (e.hold)
			eas_server_hold_cancel(et->f->srv, e.hold);
		remove_at(et, i);
		e.h.on_complete(EAS_E_CANCELLED, "cancelled", e.h.user_data);
		return 0;
	}
	return EAS_E_NOTFOUND;
}

void engine_transport_free(engine_transport *et)
{
	if (!et)
		return;
	while (et->n)
		et_cancel(&et->base, et->list[0].id);
	free(et->list);
	free(et);
}

static void et_destroy(eas_transport *t)
{
	engine_transport_free(et_of(t));
}

engine_transport *engine_transport_new(fx *f)
{
	engine_transport *et = calloc(1, sizeof *et);
	assert_non_null(et);
	et->base.version = EAS_TRANSPORT_VERSION;
	et->base.submit = et_submit;
	et->base.cancel = et_cancel;
	et->base.destroy = et_destroy;
	et->f = f;
	et->chunk = 1000;
	et->cut_next = -1;
	return et;
}

eas_transport *engine_transport_base(engine_transport *et)
{
	return &et->base;
}

void engine_transport_set_chunk(engine_transport *et, size_t size)
{
	et->chunk = size ? size : 1;
}

void engine_transport_cut_next(engine_transport *et, size_t keep)
{
	et->cut_next = (long)keep;
}

/* Delivers one ready answer whole; 1 if one was delivered. */
static int deliver_one(engine_transport *et)
{
	for (size_t i = 0; i < et->n; i++) {
		pending *e = &et->list[i];
		if (e->hold) {
			if (!eas_server_hold_ready(e->hold))
				continue;
			eas_server_response_clear(&e->resp);
			assert_int_equal(eas_server_hold_finish(et->f->srv, e->hold, &e->resp), 0);
			e->hold = NULL;
		}
		/* Take it off the list first: the callbacks may submit. */
		pending d = *e;
		memmove(&et->list[i], &et->list[i + 1], (et->n - i - 1) * sizeof *et->list);
		et->n--;
		if (et->cut_next >= 0 && d.resp.body_len > (size_t)et->cut_next) {
			d.cut = et->cut_next;
			et->cut_next = -1;
		}
		int rc = 0;
		if (d.h.on_head)
			rc = d.h.on_head(d.resp.status, d.resp.headers, d.resp.header_count, d.h.user_data);
		size_t end = d.cut >= 0 ? (size_t)d.cut : d.resp.body_len;
		for (size_t off = 0; rc == 0 && off < end; off += et->chunk) {
			size_t len = end - off < et->chunk ? end - off : et->chunk;
			if (d.h.on_body)
				rc = d.h.on_body(d.resp.body + off, len, d.h.user_data);
		}
		if (rc == 0 && d.cut >= 0)
			rc = EAS_E_IO;
		d.h.on_complete(rc, rc ? "broken" : NULL, d.h.user_data);
		eas_server_response_clear(&d.resp);
		return 1;
	}
	return 0;
}

int engine_transport_pump(void *ctx, uint32_t max_ms)
{
	engine_transport *et = ctx;
	fx *f = et->f;
	f->nwoken = 0; /* readiness is read from the holds themselves */
	if (deliver_one(et))
		return 0;
	if (engine_transport_held(et)) {
		uint64_t to = eas_server_next_timeout(f->srv);
		uint64_t step = to < max_ms ? to : max_ms;
		f->now_ms += step;
		eas_server_tick(f->srv);
		f->nwoken = 0;
		deliver_one(et);
		return 0;
	}
	if (et->n == 0)
		f->now_ms += max_ms; /* the client waits out a backoff */
	return 0;
}
