/* The scripted test transport keeps the eas_transport contract and records exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scripted_transport.h"

typedef struct result {
	eas_transport *tr;
	eas_http_request_id id;
	int head_calls, body_calls, completed;
	int status;
	int error;
	char detail[128];
	size_t header_count;
	char first_header[128];
	unsigned char body[4096];
	size_t body_len;
	size_t chunk_sizes[64];
	int callbacks_after_complete;
	int cancel_on_body;
	int cancel_rc;
	int fail_on_head;
	struct result *chain;
} result;

static int on_head(int status, const eas_http_header *h, size_t n, void *ud)
{
	result *r = ud;
	if (r->completed)
		r->callbacks_after_complete++;
	r->head_calls++;
	r->status = status;
	r->header_count = n;
	if (n)
		snprintf(r->first_header, sizeof r->first_header, "%s: %s", h[0].name, h[0].value);
	return r->fail_on_head;
}

static int submit_get(result *r, const char *url);

static int on_body(const unsigned char *data, size_t len, void *ud)
{
	result *r = ud;
	if (r->completed || !r->head_calls)
		r->callbacks_after_complete++;
	if (r->body_calls < 64)
		r->chunk_sizes[r->body_calls] = len;
	r->body_calls++;
	assert_true(r->body_len + len <= sizeof r->body);
	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	if (r->chain) {
		result *c = r->chain;
		r->chain = NULL;
		assert_int_equal(submit_get(c, "https://example.invalid/chained"), 0);
	}
	if (r->cancel_on_body) {
		r->cancel_on_body = 0;
		r->cancel_rc = r->tr->cancel(r->tr, r->id);
		assert_int_equal(r->completed, 0); /* deferred until we return */
	}
	return 0;
}

static void on_complete(int error, const char *detail, void *ud)
{
	result *r = ud;
	r->completed++;
	r->error = error;
	snprintf(r->detail, sizeof r->detail, "%s", detail ? detail : "");
}

static int submit_req(result *r, const eas_http_request *req)
{
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
	h.on_head = on_head;
	h.on_body = on_body;
	h.on_complete = on_complete;
	h.user_data = r;
	return r->tr->submit(&r->id, r->tr, req, &h);
}

static int submit_get(result *r, const char *url)
{
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = url;
	return submit_req(r, &req);
}

static void test_records_request_exactly(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	result r = { .tr = scripted_transport_base(st) };
	unsigned char body[300];
	for (size_t i = 0; i < sizeof body; i++)
		body[i] = (unsigned char)i;
	eas_http_header hdrs[] = {
		{ "Content-Type", "application/vnd.ms-sync.wbxml" },
		{ "MS-ASProtocolVersion", "14.1" },
	};
	char url[] = "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync";
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = url;
	req.headers = hdrs;
	req.header_count = 2;
	req.body = body;
	req.body_length = sizeof body;
	req.timeout_ms = 1234;
	assert_int_equal(submit_req(&r, &req), 0);
	assert_true(r.id != 0);
	/* copied at submit */
	memset(body, 0, sizeof body);
	url[0] = 'X';
	hdrs[1].value = "garbage";
	/* nothing happens inside submit */
	assert_int_equal(r.completed + r.head_calls, 0);
	assert_int_equal(scripted_transport_pending(st), 1);

	const scripted_request *rec = scripted_transport_last_request(st);
	assert_non_null(rec);
	assert_int_equal(rec->id, r.id);
	assert_string_equal(rec->method, "POST");
	assert_string_equal(rec->url, "https://mail.example.com/Microsoft-Server-ActiveSync?Cmd=Sync");
	assert_int_equal(rec->header_count, 2);
	assert_string_equal(rec->headers[0].name, "Content-Type");
	assert_string_equal(scripted_request_header(rec, "ms-asprotocolversion"), "14.1");
	assert_null(scripted_request_header(rec, "Authorization"));
	assert_int_equal(rec->body_len, 300);
	for (size_t i = 0; i < 300; i++)
		assert_int_equal(rec->body[i], (unsigned char)i);
	assert_int_equal(rec->timeout_ms, 1234);
	assert_false(rec->streamed);

	scripted_transport_run(st); /* empty script: EAS_E_IO, counted */
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, EAS_E_IO);
	assert_int_equal(scripted_transport_unscripted(st), 1);
	assert_true(rec->completed);
	assert_int_equal(rec->result, EAS_E_IO);
	assert_int_equal(rec->script_index, -1);
	scripted_transport_free(st);
}

static void test_plays_chunked_response(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	result r = { .tr = scripted_transport_base(st) };
	static const char *const hdrs[] = { "Content-Type", "application/vnd.ms-sync.wbxml",
					    "X-Two", "2", NULL };
	static const size_t chunks[] = { 1, 3, 5 };
	const char body[] = "abcdefghijklmnopqrstuvwxyz";
	scripted_response resp = SCRIPTED_RESPONSE_INIT;
	resp.status = 200;
	resp.headers = hdrs;
	resp.body = body;
	resp.body_len = 26;
	resp.chunks = chunks;
	resp.chunk_count = 3;
	assert_int_equal(scripted_transport_push(st, &resp), 0);
	assert_int_equal(scripted_transport_push_body(st, 503, "busy", 4), 1);
	assert_int_equal(scripted_transport_script_left(st), 2);

	assert_int_equal(submit_get(&r, "https://h/one"), 0);
	/* step by step: head, then chunks 1,3,5,5,5,5,2, then completion */
	assert_int_equal(scripted_transport_step(st), 1);
	assert_int_equal(r.head_calls, 1);
	assert_int_equal(r.body_calls, 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.header_count, 2);
	assert_string_equal(r.first_header, "Content-Type: application/vnd.ms-sync.wbxml");
	size_t steps = scripted_transport_run(st);
	assert_int_equal(steps, 8);
	assert_int_equal(r.body_calls, 7);
	static const size_t want[] = { 1, 3, 5, 5, 5, 5, 2 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(r.chunk_sizes[i], want[i]);
	assert_int_equal(r.body_len, 26);
	assert_memory_equal(r.body, body, 26);
	assert_int_equal(r.completed, 1);
	assert_int_equal(r.error, 0);
	assert_string_equal(r.detail, "");
	assert_int_equal(scripted_transport_step(st), 0);

	result r2 = { .tr = scripted_transport_base(st) };
	assert_int_equal(submit_get(&r2, "https://h/two"), 0);
	scripted_transport_run(st);
	assert_int_equal(r2.status, 503);
	assert_int_equal(r2.error, 0);
	assert_memory_equal(r2.body, "busy", 4);
	assert_int_equal(scripted_transport_request(st, 1)->script_index, 1);
	assert_int_equal(scripted_transport_script_left(st), 0);
	assert_int_equal(r.callbacks_after_complete + r2.callbacks_after_complete, 0);
	scripted_transport_free(st);
}

static void test_errors_and_disconnect(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	eas_transport *tr = scripted_transport_base(st);
	scripted_transport_push_error(st, EAS_E_TLS);
	scripted_response cut = SCRIPTED_RESPONSE_INIT;
	cut.body = "0123456789";
	cut.body_len = 10;
	cut.error = EAS_E_IO;
	cut.error_after = 6;
	static const size_t four = 4;
	cut.chunks = &four;
	cut.chunk_count = 1;
	scripted_transport_push(st, &cut);
	scripted_transport_push_body(st, 200, "x", 1);

	result a = { .tr = tr }, b = { .tr = tr }, c = { .tr = tr, .fail_on_head = EAS_E_AUTH };
	assert_int_equal(submit_get(&a, "https://h/a"), 0);
	assert_int_equal(submit_get(&b, "https://h/b"), 0);
	assert_int_equal(submit_get(&c, "https://h/c"), 0);
	scripted_transport_run(st);
	assert_int_equal(a.error, EAS_E_TLS);
	assert_int_equal(a.head_calls, 0);
	assert_non_null(strstr(a.detail, "scripted"));
	assert_int_equal(b.head_calls, 1);
	assert_int_equal(b.body_len, 6);
	assert_int_equal(b.body_calls, 2);
	assert_memory_equal(b.body, "012345", 6);
	assert_int_equal(b.error, EAS_E_IO);
	assert_int_equal(c.error, EAS_E_AUTH); /* on_head's own code */
	assert_int_equal(c.body_calls, 0);

	/* submit failure injection, and argument checks */
	result d = { .tr = tr };
	scripted_transport_fail_next_submit(st, EAS_E_NOMEM);
	assert_int_equal(submit_get(&d, "https://h/d"), EAS_E_NOMEM);
	assert_int_equal(scripted_transport_request_count(st), 3);
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "GET";
	req.url = "https://h/";
	eas_http_header bad = { "X", "a\nb" };
	req.headers = &bad;
	req.header_count = 1;
	assert_int_equal(submit_req(&d, &req), EAS_E_INVALID);
	req.header_count = 0;
	req.body_length = 5;
	assert_int_equal(submit_req(&d, &req), EAS_E_INVALID);
	assert_int_equal(d.completed, 0);
	scripted_transport_free(st);
}

static void test_cancel_semantics(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	eas_transport *tr = scripted_transport_base(st);
	scripted_response hang = SCRIPTED_RESPONSE_INIT;
	hang.hang = 1;
	scripted_transport_push(st, &hang);
	scripted_response slow = SCRIPTED_RESPONSE_INIT;
	slow.body = "abcdefgh";
	slow.body_len = 8;
	static const size_t one = 1;
	slow.chunks = &one;
	slow.chunk_count = 1;
	scripted_transport_push(st, &slow);

	result h = { .tr = tr }, s = { .tr = tr, .cancel_on_body = 1 };
	assert_int_equal(submit_get(&h, "https://h/ping"), 0);
	assert_int_equal(submit_get(&s, "https://h/sync"), 0);
	scripted_transport_run(st);
	/* hanging: still pending, idle */
	assert_int_equal(h.completed, 0);
	assert_int_equal(scripted_transport_pending(st), 1);
	/* cancelled from inside its own on_body: completed after it returned */
	assert_int_equal(s.cancel_rc, 0);
	assert_int_equal(s.completed, 1);
	assert_int_equal(s.error, EAS_E_CANCELLED);
	assert_int_equal(s.body_calls, 1);
	/* cancel from outside: delivered before cancel returns */
	assert_int_equal(tr->cancel(tr, h.id), 0);
	assert_int_equal(h.completed, 1);
	assert_int_equal(h.error, EAS_E_CANCELLED);
	assert_int_equal(tr->cancel(tr, h.id), EAS_E_NOTFOUND);
	assert_int_equal(tr->cancel(tr, 999), EAS_E_NOTFOUND);
	assert_int_equal(scripted_transport_step(st), 0);
	assert_int_equal(h.callbacks_after_complete + s.callbacks_after_complete, 0);
	scripted_transport_free(st);
}

static void test_submit_from_callback_and_destroy(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	eas_transport *tr = scripted_transport_base(st);
	scripted_transport_push_body(st, 200, "first", 5);
	scripted_response hang = SCRIPTED_RESPONSE_INIT;
	hang.hang = 1;
	scripted_transport_push(st, &hang);
	result second = { .tr = tr };
	result first = { .tr = tr, .chain = &second };
	assert_int_equal(submit_get(&first, "https://h/1"), 0);
	scripted_transport_run(st);
	assert_int_equal(first.error, 0);
	assert_int_equal(scripted_transport_request_count(st), 2);
	assert_string_equal(scripted_transport_request(st, 1)->url, "https://example.invalid/chained");
	assert_int_equal(second.completed, 0); /* hanging */
	tr->destroy(tr);
	assert_true(scripted_transport_destroyed(st));
	assert_int_equal(second.completed, 1);
	assert_int_equal(second.error, EAS_E_CANCELLED);
	result late = { .tr = tr };
	assert_int_equal(submit_get(&late, "https://h/late"), EAS_E_STATE);
	/* records survive destroy for assertions */
	assert_string_equal(scripted_transport_request(st, 0)->url, "https://h/1");
	scripted_transport_free(st);
}

typedef struct src {
	size_t total, pos;
	int fail;
} src;

static int src_read(size_t *out, unsigned char *buf, size_t size, void *ud)
{
	src *s = ud;
	if (s->fail && s->pos > 0)
		return s->fail;
	size_t n = size < s->total - s->pos ? size : s->total - s->pos;
	for (size_t i = 0; i < n; i++)
		buf[i] = (unsigned char)((s->pos + i) * 13u);
	s->pos += n;
	*out = n;
	return 0;
}

static void test_streamed_body_recorded(void **state)
{
	(void)state;
	scripted_transport *st = scripted_transport_new();
	eas_transport *tr = scripted_transport_base(st);
	scripted_transport_set_read_piece(st, 333);
	scripted_transport_push_body(st, 200, NULL, 0);
	src s = { 2000, 0, 0 };
	result r = { .tr = tr };
	eas_http_request req = EAS_HTTP_REQUEST_INIT;
	req.method = "POST";
	req.url = "https://h/upload";
	req.body_read = src_read;
	req.body_user_data = &s;
	req.body_length = 2000;
	assert_int_equal(submit_req(&r, &req), 0);
	scripted_transport_run(st);
	assert_int_equal(r.error, 0);
	assert_int_equal(r.status, 200);
	const scripted_request *rec = scripted_transport_request(st, 0);
	assert_true(rec->streamed);
	assert_int_equal(rec->body_len, 2000);
	for (size_t i = 0; i < 2000; i++)
		assert_int_equal(rec->body[i], (unsigned char)(i * 13u));

	/* a failing reader ends the request with its own code, before any response */
	scripted_transport_push_body(st, 200, NULL, 0);
	src bad = { 2000, 0, EAS_E_NOMEM };
	result r2 = { .tr = tr };
	req.body_user_data = &bad;
	assert_int_equal(submit_req(&r2, &req), 0);
	scripted_transport_run(st);
	assert_int_equal(r2.error, EAS_E_NOMEM);
	assert_int_equal(r2.head_calls, 0);
	assert_int_equal(scripted_transport_script_left(st), 1); /* not consumed */
	scripted_transport_free(st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_records_request_exactly),
		cmocka_unit_test(test_plays_chunked_response),
		cmocka_unit_test(test_errors_and_disconnect),
		cmocka_unit_test(test_cancel_semantics),
		cmocka_unit_test(test_submit_from_callback_and_destroy),
		cmocka_unit_test(test_streamed_body_recorded),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
