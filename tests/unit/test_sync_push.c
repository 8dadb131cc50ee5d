/*
 * Push (sync_push.c) through the session's sans-I/O calls: the catch-up
 * Sync, the Ping request (folders, heartbeat, transport timeout, the empty
 * form), every Ping status, the heartbeat learnt and persisted per network,
 * a Ping lost to a network timeout, and a local change interrupting a Ping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sync_harness.h"

#define PING(st, rest) "<Ping xmlns=\"Ping:\"><Status>" st "</Status>" rest "</Ping>"
#define S_OPEN "<Sync xmlns=\"AirSync:\" xmlns:email=\"Email:\">"

/* Hierarchy known: Inbox "2" (k1) and Calendar "3" (c1). */
static harness *ready(void)
{
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "1"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "k1");
	h_folder(h, "3", "0", "Calendar", 8, "c1");
	return h;
}

/* Starts push on network and answers the catch-up Sync with "nothing changed". */
static void start_push(harness *h, const char *network)
{
	assert_int_equal(eas_session_push(h->s, network), 0);
	free(h_expect(h, "Sync", "<CollectionId>2</CollectionId>", "<CollectionId>3</CollectionId>", NULL));
	h_answer(h, NULL);
	h_until(h, EAS_EVENT_SYNC_DONE);
}

static unsigned interval_of(const char *xml)
{
	const char *p = strstr(xml, "<HeartbeatInterval>");
	assert_non_null(p);
	return (unsigned)strtoul(p + strlen("<HeartbeatInterval>"), NULL, 10);
}

/* Takes the next Ping; returns its interval (0 for the empty form). */
static unsigned take_ping(harness *h, uint32_t *timeout_ms)
{
	const eas_http_request *r = h_take(h);
	assert_non_null(strstr(r->url, "Cmd=Ping&"));
	if (timeout_ms)
		*timeout_ms = r->timeout_ms;
	char *x = h_xml(r);
	if (!x)
		return 0;
	unsigned v = interval_of(x);
	free(x);
	return v;
}

static void stored(harness *h, const char *key, char *buf, size_t size)
{
	buf[0] = '\0';
	h->store->value_get(h->store, key, buf, size);
}

static void test_ping_request_and_heartbeat_climbs(void **state)
{
	(void)state;
	harness *h = ready();
	start_push(h, "wifi");
	const eas_http_request *r = h_take(h);
	char *x = h_xml(r);
	assert_non_null(strstr(x, "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60</HeartbeatInterval><Folders>"
				  "<Folder><Id>2</Id><Class>Email</Class></Folder><Folder><Id>3</Id><Class>Calendar</Class>"));
	free(x);
	assert_true(r->timeout_ms > 60000); /* longer than the heartbeat */
	assert_null(strstr(r->url, "X-MS-PolicyKey"));
	h_answer(h, PING("1", ""));
	uint32_t timeout = 0;
	assert_int_equal(take_ping(h, &timeout), 120);
	assert_true(timeout > 120000);
	h_answer(h, PING("1", ""));
	assert_int_equal(take_ping(h, NULL), 240);
	char buf[64];
	stored(h, "heartbeat:wifi", buf, sizeof buf);
	assert_string_equal(buf, "120,0,240,0"); /* learnt, durable */
	assert_int_equal(eas_session_busy(h->s), 1);
	eas_session_cancel(h->s);
	assert_int_equal(h_until(h, EAS_EVENT_ERROR).error, EAS_E_CANCELLED);
	assert_int_equal(eas_session_busy(h->s), 0);

	/* Another push on the same network starts where it left; another network from the minimum. */
	start_push(h, "wifi");
	assert_int_equal(take_ping(h, NULL), 240);
	eas_session_cancel(h->s);
	h_drain(h);
	start_push(h, "cell");
	assert_int_equal(take_ping(h, NULL), 60);
	eas_session_cancel(h->s);
	h_free(h);
}

/* Same parameters as the last full Ping: the empty form; status 3 asks for the full one. */
static void test_empty_ping_and_missing_parameters(void **state)
{
	(void)state;
	harness *h = ready();
	eas_sync_settings set = EAS_SYNC_SETTINGS_INIT;
	set.heartbeat_min_s = set.heartbeat_max_s = 300;
	assert_int_equal(eas_session_set_sync_settings(h->s, &set), 0);
	start_push(h, NULL);
	assert_int_equal(take_ping(h, NULL), 300);
	h_answer(h, PING("1", ""));
	const eas_http_request *r = h_take(h);
	assert_int_equal(r->body_length, 0);
	assert_true(r->timeout_ms > 300000);
	h_answer(h, PING("3", ""));
	assert_int_equal(take_ping(h, NULL), 300);
	eas_session_cancel(h->s);
	h_free(h);
}

/* 2: EAS_EVENT_PUSH, a Sync of the folders listed, a Ping again. */
static void test_changes_then_sync(void **state)
{
	(void)state;
	harness *h = ready();
	start_push(h, NULL);
	take_ping(h, NULL);
	h_answer(h, PING("2", "<Folders><Folder>2</Folder></Folders>"));
	eas_session_event ev = h_until(h, EAS_EVENT_PUSH);
	assert_int_equal(ev.count, 1);
	assert_string_equal(ev.folder_id, "2");
	char *x = h_expect(h, "Sync", "<SyncKey>k1</SyncKey><CollectionId>2</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>3</CollectionId>"));
	free(x);
	h_answer(h, S_OPEN "<Collections><Collection><SyncKey>k2</SyncKey><CollectionId>2</CollectionId><Status>1</Status>"
		 "<Commands><Add><ServerId>2:1</ServerId><ApplicationData><email:Subject>hi</email:Subject>"
		 "</ApplicationData></Add></Commands></Collection></Collections></Sync>");
	assert_int_equal(h_until(h, EAS_EVENT_SYNC_DONE).added, 1);
	assert_int_equal(h_count(h, "2"), 1);
	take_ping(h, NULL);
	eas_session_cancel(h->s);
	h_free(h);
}

static void test_bounds_and_folder_limits(void **state)
{
	(void)state;
	harness *h = ready();
	start_push(h, NULL);
	assert_int_equal(take_ping(h, NULL), 60);
	/* 5: too short; the server says 480 at least. */
	h_answer(h, PING("5", "<HeartbeatInterval>480</HeartbeatInterval>"));
	unsigned v = take_ping(h, NULL);
	assert_true(v >= 480);
	/* 6: at most one folder. */
	h_answer(h, PING("6", "<MaxFolders>1</MaxFolders>"));
	char *x = h_expect(h, "Ping", "<Folder><Id>2</Id>", NULL);
	assert_null(strstr(x, "<Id>3</Id>"));
	free(x);
	/* 7: FolderSync first. */
	h_answer(h, PING("7", ""));
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey></FolderSync>");
	take_ping(h, NULL);
	/* 8: later, after a backoff. */
	h_answer(h, PING("8", ""));
	h_none(h);
	h_wait_backoff(h);
	take_ping(h, NULL);
	/* 4: an error ends push. */
	h_answer(h, PING("4", ""));
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 4);
	assert_int_equal(eas_session_busy(h->s), 0);
	h_free(h);
}

/* A Ping lost to a NAT timeout: the heartbeat backs off; a quick failure is a plain retry. */
static void test_network_timeout_backs_off(void **state)
{
	(void)state;
	harness *h = ready();
	assert_int_equal(h->store->value_set(h->store, "heartbeat:cell", "480,0,960,0"), 0);
	start_push(h, "cell");
	assert_int_equal(take_ping(h, NULL), 960);
	h->now += 990 * 1000; /* the transport timeout fired */
	h_answer_error(h, EAS_E_IO);
	unsigned v = take_ping(h, NULL);
	assert_int_equal(v, 720); /* between 480 and 960 */
	char buf[64];
	stored(h, "heartbeat:cell", buf, sizeof buf);
	assert_string_equal(buf, "480,960,720,0");
	/* Connection refused at once: not the heartbeat's fault. */
	h->now += 100;
	h_answer_error(h, EAS_E_IO);
	h_none(h);
	h_wait_backoff(h);
	assert_int_equal(take_ping(h, NULL), 720);
	eas_session_cancel(h->s);
	h_free(h);
}

/* A local change interrupts the Ping: it is cancelled, the change goes up, then a new Ping. */
static void test_local_change_interrupts_ping(void **state)
{
	(void)state;
	harness *h = ready();
	size_t len;
	uint8_t *doc = h_doc("<email:Subject>x</email:Subject>", &len);
	eas_store_item it = { "2", "2:1", "Email", doc, len, 0, 0 };
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	free(doc);
	start_push(h, NULL);
	take_ping(h, NULL);
	assert_int_equal(eas_session_interrupt_pending(h->s), 0);
	eas_store_change c;
	memset(&c, 0, sizeof c);
	c.kind = EAS_STORE_CHANGE_READ;
	c.folder_id = "2";
	c.server_id = "2:1";
	c.value = 1;
	assert_int_equal(eas_session_queue_change(h->s, &c, NULL), 0);
	assert_int_equal(eas_session_interrupt_pending(h->s), 1);
	h_answer_error(h, EAS_E_CANCELLED); /* the app's transport cancelled it */
	h_no_event(h);                      /* not an error */
	free(h_expect(h, "Sync", "<Change><ServerId>2:1</ServerId>", NULL));
	h_answer(h, S_OPEN "<Collections><Collection><SyncKey>k2</SyncKey><CollectionId>2</CollectionId>"
		 "<Status>1</Status></Collection></Collections></Sync>");
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	take_ping(h, NULL);

	/* The Ping waiting out a backoff (not in flight) gives way at once too. */
	h_answer(h, PING("8", ""));
	h_none(h);
	assert_int_equal(eas_session_queue_change(h->s, &c, NULL), 0);
	free(h_expect(h, "Sync", "<Change><ServerId>2:1</ServerId>", NULL));
	eas_session_cancel(h->s);
	h_free(h);
}

/* No folder to watch: an error, not an empty Ping. */
static void test_nothing_to_watch(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "1"), 0);
	assert_int_equal(eas_session_push(h->s, NULL), 0);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_STATE);
	assert_int_equal(eas_session_busy(h->s), 0);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping_request_and_heartbeat_climbs),
		cmocka_unit_test(test_empty_ping_and_missing_parameters),
		cmocka_unit_test(test_changes_then_sync),
		cmocka_unit_test(test_bounds_and_folder_limits),
		cmocka_unit_test(test_network_timeout_backs_off),
		cmocka_unit_test(test_local_change_interrupts_ping),
		cmocka_unit_test(test_nothing_to_watch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
