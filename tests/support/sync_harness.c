/* The synchronization test harness (see sync_harness.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "sync_harness.h"
#include "xmldoc.h"

static uint64_t h_clock(void *ud)
{
	return ((harness *)ud)->now;
}

static int64_t h_wall(void *ud)
{
	return 1767225600 + (int64_t)(((harness *)ud)->now / 1000);
}

static int h_random(unsigned char *buf, size_t len, void *ud)
{
	harness *h = ud;
	for (size_t i = 0; i < len; i++) {
		h->rng = h->rng * 1103515245u + 12345u;
		buf[i] = (unsigned char)(h->rng >> 16);
	}
	return 0;
}

static void h_log(eas_log_level level, const char *msg, void *ud)
{
	(void)level;
	harness *h = ud;
	size_t n = strlen(h->log);
	snprintf(h->log + n, sizeof h->log - n, "%s\n", msg);
	if (getenv("SYNC_TEST_VERBOSE"))
		fprintf(stderr, "log: %s\n", msg);
}

static int cb_folder(const eas_store_folder *f, int deleted, void *ud)
{
	harness *h = ud;
	assert_non_null(f->server_id);
	if (deleted)
		h->folder_deletes++;
	else
		h->folder_changes++;
	return 0;
}

static int cb_item(const eas_store_item *item, int is_change, void *ud)
{
	harness *h = ud;
	assert_non_null(item->server_id);
	if (is_change)
		h->changes++;
	else
		h->adds++;
	if (h->fail_item_callback && h->adds + h->changes >= (unsigned)h->fail_item_callback)
		return -1;
	return 0;
}

static int cb_deleted(const char *folder, const char *server_id, int soft, void *ud)
{
	harness *h = ud;
	assert_non_null(folder);
	assert_non_null(server_id);
	if (soft)
		h->soft_deletes++;
	else
		h->deletes++;
	return 0;
}

static int cb_client_added(const eas_store_change *c, const char *server_id, void *ud)
{
	harness *h = ud;
	assert_non_null(c->client_id);
	h->client_adds++;
	snprintf(h->last_client_server_id, sizeof h->last_client_server_id, "%s", server_id);
	return 0;
}

static void cb_rolled_back(void *ud)
{
	((harness *)ud)->rollbacks++;
}

static void new_session(harness *h, unsigned version)
{
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = "https://mail.example.com/Microsoft-Server-ActiveSync";
	a.user = "alice";
	a.password = "pw-secret";
	a.device_id = "DEV1";
	a.device_type = "SmartPhone";
	a.protocol_version = version;
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &h->plat;
	assert_int_equal(eas_session_new(&h->s, &a, &o), 0);
	assert_int_equal(eas_session_set_store(h->s, h->store), 0);
	eas_sync_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.version = EAS_SYNC_CALLBACKS_VERSION;
	cb.folder_changed = cb_folder;
	cb.item_changed = cb_item;
	cb.item_deleted = cb_deleted;
	cb.client_added = cb_client_added;
	cb.rolled_back = cb_rolled_back;
	cb.user_data = h;
	assert_int_equal(eas_session_set_sync_callbacks(h->s, &cb), 0);
}

void h_restart(harness *h)
{
	unsigned v = eas_session_protocol_version(h->s);
	eas_session_free(h->s);
	h->s = NULL;
	new_session(h, v);
}

harness *h_new(unsigned version)
{
	harness *h = calloc(1, sizeof *h);
	assert_non_null(h);
	h->now = 1000000;
	h->rng = 12345;
	h->plat.version = EAS_PLATFORM_VERSION;
	h->plat.monotonic_ms = h_clock;
	h->plat.wall_clock_s = h_wall;
	h->plat.random_bytes = h_random;
	h->plat.log = h_log;
	h->plat.user_data = h;
	assert_int_equal(eas_store_memory_new(&h->store, NULL), 0);
	new_session(h, version);
	return h;
}

void h_free(harness *h)
{
	eas_session_free(h->s);
	h->store->close(h->store);
	free(h);
}

const eas_http_request *h_take(harness *h)
{
	const eas_http_request *r = NULL;
	assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
	if (!r)
		fail_msg("no request (busy %d, timeout %llu); log:\n%s", eas_session_busy(h->s),
			 (unsigned long long)eas_session_next_timeout(h->s, h->now), h->log);
	return r;
}

void h_none(harness *h)
{
	const eas_http_request *r = NULL;
	assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
	assert_null(r);
}

char *h_xml(const eas_http_request *r)
{
	if (!r->body || !r->body_length)
		return NULL;
	return xmldoc_from_wbxml(r->body, (size_t)r->body_length);
}

char *h_expect(harness *h, const char *cmd, ...)
{
	const eas_http_request *r = h_take(h);
	char want[64];
	snprintf(want, sizeof want, "Cmd=%s&", cmd);
	if (!strstr(r->url, want))
		fail_msg("expected %s, got %s", cmd, r->url);
	char *xml = h_xml(r);
	if (getenv("SYNC_TEST_VERBOSE"))
		fprintf(stderr, "request %s: %s\n", cmd, xml ? xml : "(empty)");
	va_list ap;
	va_start(ap, cmd);
	for (const char *n = va_arg(ap, const char *); n; n = va_arg(ap, const char *))
		if (!xml || !strstr(xml, n))
			fail_msg("%s request lacks %s: %s", cmd, n, xml ? xml : "(empty)");
	va_end(ap);
	if (!xml) {
		xml = malloc(1);
		xml[0] = '\0';
	}
	return xml;
}

static void to_wbxml(eas_buf *b, const char *xml)
{
	if (xml) {
		xmldoc_to_wbxml(b, xml);
	} else {
		eas_buf_init(b, NULL, 0);
	}
}

size_t h_wbxml_len(const char *xml)
{
	eas_buf b;
	to_wbxml(&b, xml);
	size_t n = b.len;
	eas_buf_free(&b);
	return n;
}

void h_answer_chunked(harness *h, const char *xml, size_t chunk)
{
	eas_buf b;
	to_wbxml(&b, xml);
	if (!chunk)
		chunk = 7;
	assert_int_equal(eas_session_response_head(h->s, 200, NULL, 0), 0);
	for (size_t off = 0; off < b.len; off += chunk)
		assert_int_equal(eas_session_response_body(h->s, b.data + off, b.len - off < chunk ? b.len - off : chunk), 0);
	assert_int_equal(eas_session_response_end(h->s, 0), 0);
	eas_buf_free(&b);
}

void h_answer(harness *h, const char *xml)
{
	h_answer_chunked(h, xml, 7);
}

void h_answer_http(harness *h, int status)
{
	assert_int_equal(eas_session_response_head(h->s, status, NULL, 0), 0);
	assert_int_equal(eas_session_response_end(h->s, 0), 0);
}

void h_answer_cut(harness *h, const char *xml, size_t keep)
{
	eas_buf b;
	to_wbxml(&b, xml);
	assert_true(keep < b.len);
	assert_int_equal(eas_session_response_head(h->s, 200, NULL, 0), 0);
	for (size_t off = 0; off < keep; off += 5)
		assert_int_equal(eas_session_response_body(h->s, b.data + off, keep - off < 5 ? keep - off : 5), 0);
	assert_int_equal(eas_session_response_end(h->s, EAS_E_IO), 0);
	eas_buf_free(&b);
}

void h_answer_error(harness *h, int error)
{
	assert_int_equal(eas_session_response_end(h->s, error), 0);
}

void h_wait_backoff(harness *h)
{
	uint64_t t = eas_session_next_timeout(h->s, h->now);
	if (t != UINT64_MAX)
		h->now += t;
}

eas_session_event h_event(harness *h)
{
	eas_session_event ev;
	if (eas_session_next_event(h->s, &ev) != 1)
		fail_msg("no event; log:\n%s", h->log);
	if (getenv("SYNC_TEST_VERBOSE"))
		fprintf(stderr, "event %d: %s\n", ev.type, ev.message);
	assert_null(strstr(ev.message, "pw-secret"));
	return ev;
}

eas_session_event h_until(harness *h, eas_event_type type)
{
	for (;;) {
		eas_session_event ev = h_event(h);
		if (ev.type == type)
			return ev;
		if (ev.type == EAS_EVENT_ERROR)
			fail_msg("error event (%d, status %d): %s", ev.error, ev.status, ev.message);
	}
}

void h_no_event(harness *h)
{
	eas_session_event ev;
	if (eas_session_next_event(h->s, &ev) == 1)
		fail_msg("unexpected event %d: %s", ev.type, ev.message);
}

void h_drain(harness *h)
{
	eas_session_event ev;
	while (eas_session_next_event(h->s, &ev) == 1)
		;
}

void h_folder(harness *h, const char *id, const char *parent, const char *name, uint32_t type, const char *key)
{
	eas_store_folder f;
	memset(&f, 0, sizeof f);
	f.server_id = id;
	f.parent_id = parent;
	f.display_name = name;
	f.type = type;
	f.sync_key = key;
	f.class_name = type == 8 ? "Calendar" : type == 9 ? "Contacts" : type == 7 ? "Tasks" : "Email";
	f.sync_wanted = 1;
	assert_int_equal(h->store->folder_put(h->store, &f), 0);
}

const char *h_key(harness *h, const char *id, char *buf, size_t size)
{
	eas_store_folder f;
	buf[0] = '\0';
	if (h->store->folder_get(h->store, id, &f) == 0)
		snprintf(buf, size, "%s", f.sync_key ? f.sync_key : "");
	return buf;
}

uint64_t h_count(harness *h, const char *folder)
{
	uint64_t n = 0;
	int rc = h->store->item_count(h->store, folder, &n);
	assert_true(rc == 0 || rc == EAS_E_NOTFOUND);
	return n;
}

int h_has_item(harness *h, const char *folder, const char *server_id)
{
	eas_store_item it;
	return h->store->item_get(h->store, folder, server_id, &it) == 0;
}

static int count_change(const eas_store_change *c, void *ud)
{
	(void)c;
	(*(size_t *)ud)++;
	return 0;
}

size_t h_changes(harness *h, const char *folder)
{
	size_t n = 0;
	h->store->change_list(h->store, folder, count_change, &n);
	return n;
}

char *h_item_xml(harness *h, const char *folder, const char *server_id, int *read, int *flag)
{
	eas_store_item it;
	if (h->store->item_get(h->store, folder, server_id, &it) != 0)
		return NULL;
	if (read)
		*read = it.read;
	if (flag)
		*flag = it.flag_status;
	return xmldoc_from_wbxml(it.data, it.data_len);
}

uint8_t *h_doc(const char *children, size_t *len)
{
	char xml[4096];
	snprintf(xml, sizeof xml,
		 "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:airsyncbase=\"AirSyncBase:\" "
		 "xmlns:contacts=\"Contacts:\">%s</ApplicationData>", children);
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	uint8_t *out = malloc(b.len);
	memcpy(out, b.data, b.len);
	*len = b.len;
	eas_buf_free(&b);
	return out;
}

size_t h_count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}
