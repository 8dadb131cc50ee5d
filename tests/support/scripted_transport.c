/* Scripted transport for tests: records requests, plays back responses. */
#include "scripted_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum phase { PH_READ, PH_ASSIGN, PH_HEAD, PH_BODY, PH_HANG, PH_DONE };

typedef struct script_entry {
	int status;
	eas_http_header *headers;
	size_t header_count;
	unsigned char *body;
	size_t body_len;
	size_t *chunks;
	size_t chunk_count;
	int error;
	long error_after;
	int hang;
} script_entry;

typedef struct rec {
	scripted_request pub;
	eas_http_response_handler h;
	eas_http_body_read_fn read;
	void *read_ud;
	uint64_t body_length;
	enum phase phase;
	size_t off;      /* body bytes delivered */
	size_t chunk_i;  /* chunks delivered */
	int in_cb;       /* a callback of this request is running */
	int cancelled;   /* cancel() during one of its callbacks */
} rec;

struct scripted_transport {
	eas_transport parent;
	rec **recs;
	size_t rec_count, rec_cap;
	script_entry *script;
	size_t script_count, script_cap, script_next;
	size_t pending;
	size_t unscripted;
	size_t read_piece;
	int fail_next;
	int destroyed;
	eas_http_request_id next_id;
};

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p) {
		fprintf(stderr, "scripted_transport: out of memory\n");
		abort();
	}
	return p;
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p) {
		fprintf(stderr, "scripted_transport: out of memory\n");
		abort();
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = xmalloc(n);
	memcpy(d, s, n);
	return d;
}

static void *xmemdup(const void *src, size_t n)
{
	void *d = xmalloc(n);
	if (n)
		memcpy(d, src, n);
	return d;
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int cb_code(int rc)
{
	return rc < 0 ? rc : EAS_E_CALLBACK;
}

/* ---- completion ------------------------------------------------------------- */

static void complete(scripted_transport *st, rec *r, int err)
{
	if (r->pub.completed)
		return;
	r->pub.completed = 1;
	r->pub.result = err;
	r->phase = PH_DONE;
	st->pending--;
	char detail[96];
	if (err)
		snprintf(detail, sizeof detail, "scripted transport: %s", eas_strerror(err));
	r->in_cb++;
	r->h.on_complete(err, err ? detail : NULL, r->h.user_data);
	r->in_cb--;
}

/* After a callback of r: abort with rc, or honour a cancel made inside it. */
static void after_cb(scripted_transport *st, rec *r, int rc)
{
	if (r->cancelled)
		complete(st, r, EAS_E_CANCELLED);
	else if (rc)
		complete(st, r, cb_code(rc));
}

/* ---- vtable ----------------------------------------------------------------- */

static int st_submit(eas_http_request_id *out, eas_transport *base,
		     const eas_http_request *req, const eas_http_response_handler *h)
{
	scripted_transport *st = (scripted_transport *)base;
	if (!out || !st || !req || !h)
		return EAS_E_INVALID;
	if (st->destroyed)
		return EAS_E_STATE;
	if (st->fail_next) {
		int err = st->fail_next;
		st->fail_next = 0;
		return err;
	}
	if (req->version != EAS_HTTP_REQUEST_VERSION ||
	    h->version != EAS_HTTP_RESPONSE_HANDLER_VERSION || !h->on_complete || !req->method ||
	    !*req->method || !req->url || (req->header_count && !req->headers))
		return EAS_E_INVALID;
	for (const char *p = req->method; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return EAS_E_INVALID;
	for (size_t i = 0; i < req->header_count; i++) {
		const eas_http_header *hd = &req->headers[i];
		if (!hd->name || !*hd->name || !hd->value || strpbrk(hd->name, " \t\r\n:") ||
		    strpbrk(hd->value, "\r\n"))
			return EAS_E_INVALID;
	}
	if ((req->body && req->body_read) || (!req->body && !req->body_read && req->body_length) ||
	    (req->body_rewind && !req->body_read))
		return EAS_E_INVALID;
	if (req->body && req->body_length > (uint64_t)SIZE_MAX)
		return EAS_E_INVALID;

	rec *r = xmalloc(sizeof *r);
	memset(r, 0, sizeof *r);
	r->pub.id = st->next_id++;
	r->pub.method = xstrdup(req->method);
	r->pub.url = xstrdup(req->url);
	r->pub.header_count = req->header_count;
	r->pub.headers = xmalloc(req->header_count * sizeof *r->pub.headers);
	for (size_t i = 0; i < req->header_count; i++) {
		r->pub.headers[i].name = xstrdup(req->headers[i].name);
		r->pub.headers[i].value = xstrdup(req->headers[i].value);
	}
	if (req->body) {
		r->pub.body = xmemdup(req->body, (size_t)req->body_length);
		r->pub.body_len = (size_t)req->body_length;
	}
	r->pub.streamed = req->body_read != NULL;
	r->pub.timeout_ms = req->timeout_ms;
	r->pub.script_index = -1;
	r->h = *h;
	r->read = req->body_read;
	r->read_ud = req->body_user_data;
	r->body_length = req->body_length;
	r->phase = (req->body_read && req->body_length) ? PH_READ : PH_ASSIGN;

	if (st->rec_count == st->rec_cap) {
		st->rec_cap = st->rec_cap ? st->rec_cap * 2 : 8;
		st->recs = xrealloc(st->recs, st->rec_cap * sizeof *st->recs);
	}
	st->recs[st->rec_count++] = r;
	st->pending++;
	*out = r->pub.id;
	return 0;
}

static rec *find(scripted_transport *st, eas_http_request_id id)
{
	for (size_t i = 0; i < st->rec_count; i++)
		if (st->recs[i]->pub.id == id)
			return st->recs[i];
	return NULL;
}

static int st_cancel(eas_transport *base, eas_http_request_id id)
{
	scripted_transport *st = (scripted_transport *)base;
	if (!st)
		return EAS_E_INVALID;
	rec *r = find(st, id);
	if (!r || r->pub.completed || r->cancelled)
		return EAS_E_NOTFOUND;
	if (r->in_cb)
		r->cancelled = 1; /* completed right after its callback returns */
	else
		complete(st, r, EAS_E_CANCELLED);
	return 0;
}

static void cancel_all(scripted_transport *st)
{
	for (size_t i = 0; i < st->rec_count; i++)
		if (!st->recs[i]->pub.completed)
			complete(st, st->recs[i], EAS_E_CANCELLED);
}

static void st_destroy(eas_transport *base)
{
	scripted_transport *st = (scripted_transport *)base;
	if (!st || st->destroyed)
		return;
	st->destroyed = 1;
	cancel_all(st);
}

/* ---- public ----------------------------------------------------------------- */

scripted_transport *scripted_transport_new(void)
{
	scripted_transport *st = xmalloc(sizeof *st);
	memset(st, 0, sizeof *st);
	st->parent.version = EAS_TRANSPORT_VERSION;
	st->parent.submit = st_submit;
	st->parent.cancel = st_cancel;
	st->parent.destroy = st_destroy;
	st->read_piece = 1000;
	st->next_id = 1;
	return st;
}

eas_transport *scripted_transport_base(scripted_transport *st)
{
	return &st->parent;
}

static void free_headers(eas_http_header *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free((char *)h[i].name);
		free((char *)h[i].value);
	}
	free(h);
}

void scripted_transport_free(scripted_transport *st)
{
	if (!st)
		return;
	st_destroy(&st->parent);
	for (size_t i = 0; i < st->rec_count; i++) {
		rec *r = st->recs[i];
		free(r->pub.method);
		free(r->pub.url);
		free_headers(r->pub.headers, r->pub.header_count);
		free(r->pub.body);
		free(r);
	}
	free(st->recs);
	for (size_t i = 0; i < st->script_count; i++) {
		script_entry *e = &st->script[i];
		free_headers(e->headers, e->header_count);
		free(e->body);
		free(e->chunks);
	}
	free(st->script);
	free(st);
}

int scripted_transport_push(scripted_transport *st, const scripted_response *resp)
{
	if (st->script_count == st->script_cap) {
		st->script_cap = st->script_cap ? st->script_cap * 2 : 8;
		st->script = xrealloc(st->script, st->script_cap * sizeof *st->script);
	}
	script_entry *e = &st->script[st->script_count];
	memset(e, 0, sizeof *e);
	e->status = resp->status;
	size_t n = 0;
	if (resp->headers)
		while (resp->headers[2 * n])
			n++;
	e->header_count = n;
	e->headers = xmalloc(n * sizeof *e->headers);
	for (size_t i = 0; i < n; i++) {
		e->headers[i].name = xstrdup(resp->headers[2 * i]);
		e->headers[i].value = xstrdup(resp->headers[2 * i + 1] ? resp->headers[2 * i + 1] : "");
	}
	e->body = xmemdup(resp->body, resp->body ? resp->body_len : 0);
	e->body_len = resp->body ? resp->body_len : 0;
	if (resp->chunks && resp->chunk_count) {
		e->chunks = xmemdup(resp->chunks, resp->chunk_count * sizeof *resp->chunks);
		e->chunk_count = resp->chunk_count;
	}
	e->error = resp->error;
	e->error_after = resp->error_after;
	e->hang = resp->hang;
	return (int)st->script_count++;
}

int scripted_transport_push_body(scripted_transport *st, int status, const void *body,
				 size_t body_len)
{
	scripted_response r = SCRIPTED_RESPONSE_INIT;
	r.status = status;
	r.body = body;
	r.body_len = body_len;
	return scripted_transport_push(st, &r);
}

int scripted_transport_push_error(scripted_transport *st, int error)
{
	scripted_response r = SCRIPTED_RESPONSE_INIT;
	r.error = error;
	r.error_after = -1;
	return scripted_transport_push(st, &r);
}

void scripted_transport_fail_next_submit(scripted_transport *st, int error)
{
	st->fail_next = error;
}

void scripted_transport_set_read_piece(scripted_transport *st, size_t size)
{
	st->read_piece = size ? size : 1;
}

/* ---- playback --------------------------------------------------------------- */

static void do_read(scripted_transport *st, rec *r)
{
	uint64_t left = r->body_length - r->pub.body_len;
	size_t want = st->read_piece;
	if ((uint64_t)want > left)
		want = (size_t)left;
	r->pub.body = xrealloc(r->pub.body, r->pub.body_len + want);
	size_t got = 0;
	r->in_cb++;
	int rc = r->read(&got, r->pub.body + r->pub.body_len, want, r->read_ud);
	r->in_cb--;
	if (r->cancelled || rc) {
		after_cb(st, r, rc);
		return;
	}
	if (got == 0) {
		complete(st, r, EAS_E_TRUNCATED);
		return;
	}
	if (got > want) {
		complete(st, r, EAS_E_CALLBACK);
		return;
	}
	r->pub.body_len += got;
	if (r->pub.body_len == r->body_length)
		r->phase = PH_ASSIGN;
}

static void do_head(scripted_transport *st, rec *r, const script_entry *e)
{
	r->phase = PH_BODY;
	if (!r->h.on_head)
		return;
	r->in_cb++;
	int rc = r->h.on_head(e->status, e->headers, e->header_count, r->h.user_data);
	r->in_cb--;
	after_cb(st, r, rc);
}

static void do_body(scripted_transport *st, rec *r, const script_entry *e)
{
	size_t limit = e->body_len;
	if (e->error && e->error_after >= 0 && (size_t)e->error_after < limit)
		limit = (size_t)e->error_after;
	if (r->off >= limit) {
		complete(st, r, e->error);
		return;
	}
	size_t size = limit - r->off;
	if (e->chunk_count) {
		size_t c = e->chunks[r->chunk_i < e->chunk_count ? r->chunk_i : e->chunk_count - 1];
		if (c == 0)
			c = 1;
		if (c < size)
			size = c;
	}
	const unsigned char *p = e->body + r->off;
	r->off += size;
	r->chunk_i++;
	if (!r->h.on_body)
		return;
	r->in_cb++;
	int rc = r->h.on_body(p, size, r->h.user_data);
	r->in_cb--;
	after_cb(st, r, rc);
}

static int step_one(scripted_transport *st, rec *r)
{
	switch (r->phase) {
	case PH_READ:
		do_read(st, r);
		return 1;
	case PH_ASSIGN:
		if (st->script_next >= st->script_count) {
			st->unscripted++;
			complete(st, r, EAS_E_IO);
			return 1;
		}
		r->pub.script_index = (int)st->script_next++;
		{
			const script_entry *e = &st->script[r->pub.script_index];
			if (e->hang) {
				r->phase = PH_HANG;
				return 0;
			}
			if (e->error && e->error_after < 0) {
				complete(st, r, e->error);
				return 1;
			}
			do_head(st, r, e);
		}
		return 1;
	case PH_HEAD:
		do_head(st, r, &st->script[r->pub.script_index]);
		return 1;
	case PH_BODY:
		do_body(st, r, &st->script[r->pub.script_index]);
		return 1;
	case PH_HANG:
	case PH_DONE:
		break;
	}
	return 0;
}

int scripted_transport_step(scripted_transport *st)
{
	for (size_t i = 0; i < st->rec_count; i++) {
		rec *r = st->recs[i];
		if (r->pub.completed || r->in_cb)
			continue;
		if (step_one(st, r))
			return 1;
	}
	return 0;
}

size_t scripted_transport_run(scripted_transport *st)
{
	size_t n = 0;
	while (scripted_transport_step(st))
		n++;
	return n;
}

size_t scripted_transport_pending(const scripted_transport *st)
{
	return st->pending;
}

size_t scripted_transport_request_count(const scripted_transport *st)
{
	return st->rec_count;
}

const scripted_request *scripted_transport_request(const scripted_transport *st, size_t index)
{
	return index < st->rec_count ? &st->recs[index]->pub : NULL;
}

const scripted_request *scripted_transport_last_request(const scripted_transport *st)
{
	return st->rec_count ? &st->recs[st->rec_count - 1]->pub : NULL;
}

const char *scripted_request_header(const scripted_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (streq_ci(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

size_t scripted_transport_script_left(const scripted_transport *st)
{
	return st->script_count - st->script_next;
}

size_t scripted_transport_unscripted(const scripted_transport *st)
{
	return st->unscripted;
}

int scripted_transport_destroyed(const scripted_transport *st)
{
	return st->destroyed;
}
