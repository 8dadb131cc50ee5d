/*
 * The statuses of eas/mail.h that a real server rarely gives, through the
 * session's sans-I/O calls (tests/support/sync_harness): MoveItems 7
 * (retried with a backoff, then dropped), a MoveItems repeated after the
 * app was killed with it in flight (answered 1: the item is not lost),
 * FolderCreate 9 (FolderSync, then once more), a failed Settings.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "eas/mail.h"
#include "sync_harness.h"
#include "testmem.h"
#include "xmldoc.h"

#define MOVE_OPEN "<MoveItems xmlns=\"Move:\">"
#define MOVE_ONE(src, status, dst) \
	"<Response><SrcMsgId>" src "</SrcMsgId><Status>" status "</Status>" dst "</Response>"

static harness *ready(void)
{
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "1"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "k1");
	h_folder(h, "7", "0", "Archive", 12, "a1");
	size_t len;
	uint8_t *doc = h_doc("<email:Subject>hello</email:Subject><email:Read>0</email:Read>", &len);
	eas_store_item it = { "2", "2:1", "Email", doc, len, 0, 0 };
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	free(doc);
	return h;
}

static void queue_move(harness *h)
{
	eas_store_change c;
	memset(&c, 0, sizeof c);
	c.kind = EAS_STORE_CHANGE_MOVE;
	c.folder_id = "2";
	c.server_id = "2:1";
	c.dest_folder_id = "7";
	assert_int_equal(eas_session_queue_change(h->s, &c, NULL), 0);
}

static const char *const INBOX[] = { "2" };

static void expect_move(harness *h)
{
	free(h_expect(h, "MoveItems", "<SrcMsgId>2:1</SrcMsgId><SrcFldId>2</SrcFldId><DstFldId>7</DstFldId>", NULL));
}

static void finish_sync(harness *h)
{
	free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey><CollectionId>2</CollectionId>", NULL));
	h_answer(h, "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>k2</SyncKey><CollectionId>2"
		    "</CollectionId><Status>1</Status></Collection></Collections></Sync>");
}

static void test_move_locked_then_moved(void **state)
{
	(void)state;
	harness *h = ready();
	queue_move(h);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	expect_move(h);
	h_answer(h, MOVE_OPEN MOVE_ONE("2:1", "7", "") "</MoveItems>");
	/* Retried after a backoff, not at once. */
	h_none(h);
	h_wait_backoff(h);
	expect_move(h);
	h_answer(h, MOVE_OPEN MOVE_ONE("2:1", "3", "<DstMsgId>7:9</DstMsgId>") "</MoveItems>");
	finish_sync(h);
	eas_session_event ev = h_until(h, EAS_EVENT_ITEM_MOVED);
	assert_string_equal(ev.folder_id, "7");
	assert_string_equal(ev.server_id, "7:9");
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_false(h_has_item(h, "2", "2:1"));
	int read = -1;
	char *x = h_item_xml(h, "7", "7:9", &read, NULL);
	assert_non_null(strstr(x, "hello"));
	free(x);
	assert_int_equal(read, 0);
	assert_int_equal(h_changes(h, "2"), 0);
	assert_int_equal(h->adds, 1); /* the callbacks saw it arrive in the destination */
	h_free(h);
}

static void test_move_locked_too_often_dropped(void **state)
{
	(void)state;
	harness *h = ready();
	queue_move(h);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	for (int i = 0; i < 5; i++) {
		h_wait_backoff(h);
		expect_move(h);
		h_answer(h, MOVE_OPEN MOVE_ONE("2:1", "7", "") "</MoveItems>");
	}
	finish_sync(h);
	eas_session_event ev = h_until(h, EAS_EVENT_CHANGE_FAILED);
	assert_int_equal(ev.status, 7);
	assert_string_equal(ev.server_id, "2:1");
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_true(h_has_item(h, "2", "2:1"));
	assert_int_equal(h_changes(h, "2"), 0);
	h_free(h);
}

/* A whole-request refusal ends the job and counts one attempt: never a Sync that fails forever. */
static void test_move_request_refused(void **state)
{
	(void)state;
	harness *h = ready();
	queue_move(h);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
		expect_move(h);
		h_answer(h, MOVE_OPEN "<Status>110</Status></MoveItems>");
		eas_session_event ev = h_until(h, i < 4 ? EAS_EVENT_ERROR : EAS_EVENT_CHANGE_FAILED);
		assert_int_equal(ev.status, 110);
		assert_int_equal(h_changes(h, "2"), i < 4 ? 1 : 0);
		h_drain(h);
	}
	/* Dropped: the next Sync is a plain one. */
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	finish_sync(h);
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_true(h_has_item(h, "2", "2:1"));
	h_free(h);
}

/* Killed with MoveItems in flight: the repeat is answered 1 and the destination is resynchronized. */
static void test_move_repeat_after_crash(void **state)
{
	(void)state;
	harness *h = ready();
	queue_move(h);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	expect_move(h);
	h_restart(h); /* the server moved it; the answer never came */
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	expect_move(h);
	h_answer(h, MOVE_OPEN MOVE_ONE("2:1", "1", "") "</MoveItems>");
	finish_sync(h);
	eas_session_event ev = h_until(h, EAS_EVENT_ITEM_MOVED);
	assert_null(ev.server_id);
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_false(h_has_item(h, "2", "2:1"));
	char key[64];
	assert_string_equal(h_key(h, "7", key, sizeof key), "0"); /* its next Sync brings the new id */
	assert_int_equal(h_changes(h, "2"), 0);
	/* Without a first request a 1 is a refusal: the item stays. */
	h_restart(h);
	size_t len;
	uint8_t *doc = h_doc("<email:Subject>again</email:Subject>", &len);
	eas_store_item it = { "2", "2:1", "Email", doc, len, 0, 0 };
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	free(doc);
	queue_move(h);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	expect_move(h);
	h_answer(h, MOVE_OPEN MOVE_ONE("2:1", "1", "") "</MoveItems>");
	free(h_expect(h, "Sync", "<CollectionId>2</CollectionId>", NULL));
	h_answer(h, "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>k3</SyncKey><CollectionId>2"
		    "</CollectionId><Status>1</Status></Collection></Collections></Sync>");
	ev = h_until(h, EAS_EVENT_CHANGE_FAILED);
	assert_int_equal(ev.status, 1);
	assert_true(h_has_item(h, "2", "2:1"));
	h_free(h);
}

static void test_folder_create_status_9(void **state)
{
	(void)state;
	harness *h = ready();
	assert_int_equal(eas_session_folder_create(h->s, "0", "Projects", 12), 0);
	free(h_expect(h, "FolderCreate", "<SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>Projects</DisplayName>"
		      "<Type>12</Type>", NULL));
	h_answer(h, "<FolderCreate xmlns=\"FolderHierarchy:\"><Status>9</Status></FolderCreate>");
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>2</SyncKey><Changes><Count>0"
		    "</Count></Changes></FolderSync>");
	free(h_expect(h, "FolderCreate", "<SyncKey>2</SyncKey>", NULL));
	h_answer(h, "<FolderCreate xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>3</SyncKey><ServerId>20"
		    "</ServerId></FolderCreate>");
	eas_session_event ev = h_until(h, EAS_EVENT_FOLDER_CHANGED);
	assert_string_equal(ev.folder_id, "20");
	char key[64];
	assert_int_equal(h->store->value_get(h->store, "folder_sync_key", key, sizeof key), 0);
	assert_string_equal(key, "3");
	assert_string_equal(h_key(h, "20", key, sizeof key), "0");
	/* A second 9 in a row ends the operation. */
	assert_int_equal(eas_session_folder_delete(h->s, "20"), 0);
	free(h_expect(h, "FolderDelete", "<SyncKey>3</SyncKey><ServerId>20</ServerId>", NULL));
	h_answer(h, "<FolderDelete xmlns=\"FolderHierarchy:\"><Status>9</Status></FolderDelete>");
	free(h_expect(h, "FolderSync", NULL));
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>4</SyncKey><Changes><Count>0"
		    "</Count></Changes></FolderSync>");
	free(h_expect(h, "FolderDelete", "<SyncKey>4</SyncKey>", NULL));
	h_answer(h, "<FolderDelete xmlns=\"FolderHierarchy:\"><Status>9</Status></FolderDelete>");
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 9);
	assert_string_equal(h_key(h, "20", key, sizeof key), "0"); /* still there */
	/* A bad answer: status 1 without the new key. */
	assert_int_equal(eas_session_folder_update(h->s, "20", "0", "P2"), 0);
	free(h_expect(h, "FolderUpdate", "<DisplayName>P2</DisplayName>", NULL));
	h_answer(h, "<FolderUpdate xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderUpdate>");
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_PROTOCOL);
	h_free(h);
}

static void test_settings_failure(void **state)
{
	(void)state;
	harness *h = ready();
	assert_int_equal(eas_session_oof_get(h->s), 0);
	free(h_expect(h, "Settings", "<Oof><Get><BodyType>Text</BodyType></Get></Oof>", NULL));
	h_answer(h, "<Settings xmlns=\"Settings:\"><Status>1</Status><Oof><Status>5</Status></Oof></Settings>");
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 5);
	assert_null(eas_session_oof(h->s));
	assert_int_equal(eas_session_user_info(h->s), 0);
	free(h_expect(h, "Settings", "<UserInformation><Get/></UserInformation>", NULL));
	h_answer(h, "<Settings xmlns=\"Settings:\"><Status>1</Status><UserInformation><Status>1</Status><Get>"
		    "<EmailAddresses><SMTPAddress>a@x.test</SMTPAddress><SMTPAddress>b@x.test</SMTPAddress>"
		    "<SMTPAddress>a@x.test</SMTPAddress></EmailAddresses></Get></UserInformation></Settings>");
	ev = h_until(h, EAS_EVENT_SETTINGS);
	assert_int_equal(ev.count, 2);
	assert_string_equal(eas_session_user_address(h->s, 0), "a@x.test");
	assert_string_equal(eas_session_user_address(h->s, 1), "b@x.test");
	assert_null(eas_session_user_address(h->s, 2));
	h_free(h);
}

static int fetch_sink(const uint8_t *bytes, size_t len, void *ud)
{
	char *out = ud;
	size_t have = strlen(out);
	if (have + len >= 256)
		return EAS_E_LIMIT;
	memcpy(out + have, bytes, len);
	out[have + len] = '\0';
	return 0;
}

/* The item Fetch asks for the body type wanted and hands its Data to the sink; a broken answer repeats it. */
static void test_fetch_item_request(void **state)
{
	(void)state;
	harness *h = ready();
	char got[256] = "";
	assert_int_equal(eas_session_fetch_item(h->s, "2", "2:1", 4, fetch_sink, got), 0);
	free(h_expect(h, "ItemOperations", "<Fetch><Store>Mailbox</Store><CollectionId xmlns=\"AirSync:\">2</CollectionId>"
		      "<ServerId xmlns=\"AirSync:\">2:1</ServerId><Options>", "<Type>4</Type>",
		      "<MIMESupport xmlns=\"AirSync:\">2</MIMESupport>", NULL));
	const char *x = "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\" "
			"xmlns:airsyncbase=\"AirSyncBase:\"><Status>1</Status><Response><Fetch><Status>1</Status>"
			"<airsync:CollectionId>2</airsync:CollectionId><airsync:ServerId>2:1</airsync:ServerId>"
			"<Properties><airsyncbase:Body><airsyncbase:Type>4</airsyncbase:Type><airsyncbase:Data>"
			"Subject: hello\n\nthe whole message</airsyncbase:Data></airsyncbase:Body></Properties>"
			"</Fetch></Response></ItemOperations>";
	h_answer_cut(h, x, h_wbxml_len(x) - 30);
	h_wait_backoff(h);
	h_take(h);
	h_answer(h, x);
	eas_session_event ev = h_until(h, EAS_EVENT_FETCHED);
	assert_string_equal(got, "Subject: hello\n\nthe whole message");
	assert_int_equal(ev.bytes, strlen(got));
	/* 6: not found */
	assert_int_equal(eas_session_fetch_item(h->s, "2", "2:9", 1, fetch_sink, got), 0);
	free(h_expect(h, "ItemOperations", "<Type>1</Type>", NULL));
	h_answer(h, "<ItemOperations xmlns=\"ItemOperations:\"><Status>1</Status><Response><Fetch><Status>6</Status>"
		    "</Fetch></Response></ItemOperations>");
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 6);
	h_free(h);
}

/* ---- failing allocations -------------------------------------------------------------------- */

/* Answers the request in flight (if any) with xml, ignoring what the session says: it may be out of memory. */
static void answer_quietly(eas_session *s, uint64_t now, const char *xml)
{
	const eas_http_request *req = NULL;
	if (eas_session_next_request(s, &req, now) != 0 || !req)
		return;
	eas_buf b;
	xmldoc_to_wbxml(&b, xml);
	if (eas_session_response_head(s, 200, NULL, 0) == 0)
		eas_session_response_body(s, b.data, b.len);
	eas_session_response_end(s, 0);
	eas_buf_free(&b);
}

static void drain(eas_session *s)
{
	eas_session_event ev;
	while (eas_session_next_event(s, &ev) == 1)
		;
}

/* Every allocation of a move, a folder create and a Settings answer fails in turn: errors, no leak, no crash. */
static void test_failing_allocations(void **state)
{
	(void)state;
	for (long k = 0;; k++) {
		harness *h = ready();
		eas_session_free(h->s);
		testmem tm;
		eas_mem mem = testmem_init(&tm, k);
		eas_account a = EAS_ACCOUNT_INIT;
		a.url = "https://mail.example.com/Microsoft-Server-ActiveSync";
		a.user = "alice";
		a.password = "pw-secret";
		a.device_id = "DEV1";
		a.device_type = "SmartPhone";
		a.protocol_version = EAS_PROTO_14_1;
		eas_session_options o = EAS_SESSION_OPTIONS_INIT;
		o.platform = &h->plat;
		o.mem = &mem;
		h->s = NULL;
		if (eas_session_new(&h->s, &a, &o) == 0 && eas_session_set_store(h->s, h->store) == 0) {
			eas_store_change c;
			memset(&c, 0, sizeof c);
			c.kind = EAS_STORE_CHANGE_MOVE;
			c.folder_id = "2";
			c.server_id = "2:1";
			c.dest_folder_id = "7";
			eas_session_queue_change(h->s, &c, NULL);
			if (eas_session_sync(h->s, INBOX, 1) == 0) {
				answer_quietly(h->s, h->now, MOVE_OPEN MOVE_ONE("2:1", "3", "<DstMsgId>7:9</DstMsgId>")
							 "</MoveItems>");
				answer_quietly(h->s, h->now, "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>k2"
							 "</SyncKey><CollectionId>2</CollectionId><Status>1</Status>"
							 "</Collection></Collections></Sync>");
			}
			drain(h->s);
			eas_session_cancel(h->s);
			drain(h->s);
			if (eas_session_folder_create(h->s, "0", "P", 12) == 0)
				answer_quietly(h->s, h->now, "<FolderCreate xmlns=\"FolderHierarchy:\"><Status>1</Status>"
							 "<SyncKey>3</SyncKey><ServerId>20</ServerId></FolderCreate>");
			drain(h->s);
			eas_session_cancel(h->s);
			drain(h->s);
			if (eas_session_user_info(h->s) == 0)
				answer_quietly(h->s, h->now, "<Settings xmlns=\"Settings:\"><Status>1</Status><UserInformation>"
							 "<Status>1</Status><Get><EmailAddresses><SMTPAddress>a@x.test"
							 "</SMTPAddress></EmailAddresses></Get></UserInformation></Settings>");
			drain(h->s);
			eas_session_user_address(h->s, 0);
		}
		eas_session_free(h->s);
		h->s = NULL;
		assert_int_equal(tm.live_blocks, 0);
		int finished = tm.calls <= k; /* the run never reached the failure: every allocation was tried */
		if (finished) {
			assert_true(h_has_item(h, "7", "7:9")); /* and everything went through */
			eas_store_folder f;
			assert_int_equal(h->store->folder_get(h->store, "20", &f), 0);
		}
		h->store->close(h->store);
		free(h);
		if (finished)
			break;
		assert_true(k < 5000);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_move_locked_then_moved),
		cmocka_unit_test(test_move_locked_too_often_dropped),
		cmocka_unit_test(test_move_repeat_after_crash),
		cmocka_unit_test(test_move_request_refused),
		cmocka_unit_test(test_folder_create_status_9),
		cmocka_unit_test(test_settings_failure),
		cmocka_unit_test(test_fetch_item_request),
		cmocka_unit_test(test_failing_allocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
