/*
 * The FolderSync phase of the sync engine (sync_folders.c) through the
 * session's sans-I/O calls: repeated rounds, Add/Update/Delete into the
 * store in one transaction with the key, every status, a disconnect in the
 * middle of the body, a failing callback.
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

#define FS_OPEN "<FolderSync xmlns=\"FolderHierarchy:\">"
#define ADD(id, parent, name, type) \
	"<Add><ServerId>" id "</ServerId><ParentId>" parent "</ParentId><DisplayName>" name \
	"</DisplayName><Type>" #type "</Type></Add>"
#define NOTHING(key) FS_OPEN "<Status>1</Status><SyncKey>" key "</SyncKey><Changes><Count>0</Count></Changes></FolderSync>"

static const char initial[] = FS_OPEN "<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>4</Count>"
	ADD("2", "0", "Inbox", 2) ADD("3", "0", "Calendar", 8) ADD("4", "0", "Journal", 11)
	ADD("5", "2", "Projects", 12) "</Changes></FolderSync>";

static void value(harness *h, const char *key, char *buf, size_t size)
{
	buf[0] = '\0';
	h->store->value_get(h->store, key, buf, size);
}

static void test_initial_rounds(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	assert_int_equal(eas_session_sync_folders(h->s), EAS_E_STATE); /* one job at a time */
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, initial);
	/* Changes came: ask again with the new key; subfolders may come in a later round. */
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>1</Status><SyncKey>2</SyncKey><Changes><Count>1</Count>"
		 ADD("6", "5", "Archive", 12) "</Changes></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>2</SyncKey>", NULL));
	h_answer(h, NOTHING("2"));
	eas_session_event ev = h_until(h, EAS_EVENT_FOLDERS_SYNCED);
	assert_int_equal(ev.count, 5);
	assert_int_equal(eas_session_busy(h->s), 0);
	h_none(h);

	char buf[64];
	value(h, "folder_sync_key", buf, sizeof buf);
	assert_string_equal(buf, "2");
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	assert_string_equal(f.class_name, "Email");
	assert_string_equal(f.sync_key, "0");
	assert_int_equal(f.sync_wanted, 1);
	assert_int_equal(h->store->folder_get(h->store, "3", &f), 0);
	assert_string_equal(f.class_name, "Calendar");
	assert_int_equal(h->store->folder_get(h->store, "4", &f), 0);
	assert_string_equal(f.class_name, "");
	assert_int_equal(f.sync_wanted, 0); /* journal: no class to sync */
	assert_int_equal(h->store->folder_get(h->store, "6", &f), 0);
	assert_string_equal(f.parent_id, "5");
	assert_int_equal(h->folder_changes, 5);
	h_free(h);
}

/* An existing folder keeps its Sync key, items and sync_wanted through an Update; a Delete takes its items. */
static void test_update_delete_keep_state(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "7"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "s-41");
	h_folder(h, "9", "0", "Old", 12, "s-3");
	size_t len;
	uint8_t *doc = h_doc("<email:Subject>x</email:Subject>", &len);
	eas_store_item it = { "2", "m1", "Email", doc, len, 0, 0 };
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	it.folder_id = "9";
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	free(doc);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	f.sync_wanted = 0; /* the app's choice */
	assert_int_equal(h->store->folder_put(h->store, &f), 0);

	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>7</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>1</Status><SyncKey>8</SyncKey><Changes><Count>2</Count>"
		 "<Update><ServerId>2</ServerId><ParentId>0</ParentId><DisplayName>Posteingang</DisplayName><Type>2</Type></Update>"
		 "<Delete><ServerId>9</ServerId></Delete><Delete><ServerId>unknown</ServerId></Delete></Changes></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>8</SyncKey>", NULL));
	h_answer(h, NOTHING("8"));
	eas_session_event ev = h_until(h, EAS_EVENT_FOLDERS_SYNCED);
	assert_int_equal(ev.count, 3);
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	assert_string_equal(f.display_name, "Posteingang");
	assert_string_equal(f.sync_key, "s-41");
	assert_int_equal(f.sync_wanted, 0);
	assert_int_equal(h_count(h, "2"), 1);
	assert_int_equal(h->store->folder_get(h->store, "9", &f), EAS_E_NOTFOUND);
	assert_int_equal(h->folder_deletes, 2);
	h_free(h);
}

/* Status 9: from key 0 again; folders matched by ServerId keep their state, the others go. */
static void test_invalid_key_resync(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "7"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "s-41");
	h_folder(h, "3", "0", "Calendar", 8, "c-2");
	h_folder(h, "9", "0", "Gone", 12, "g-1");
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>7</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>9</Status></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	char buf[16];
	value(h, "folder_resync", buf, sizeof buf);
	assert_string_equal(buf, "1"); /* durable: a crash now resyncs again */
	h_answer(h, FS_OPEN "<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>2</Count>"
		 ADD("2", "0", "Inbox", 2) ADD("3", "0", "Calendar", 8) "</Changes></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, NOTHING("1"));
	h_until(h, EAS_EVENT_FOLDERS_SYNCED);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	assert_string_equal(f.sync_key, "s-41");
	assert_int_equal(h->store->folder_get(h->store, "9", &f), EAS_E_NOTFOUND);
	value(h, "folder_resync", buf, sizeof buf);
	assert_string_equal(buf, "");
	h_free(h);
}

/* A resync interrupted (here: cancelled) starts over from key 0 in resync mode next time. */
static void test_interrupted_resync_resumes(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "7"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "s-41");
	h_folder(h, "9", "0", "Gone", 12, "g-1");
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>7</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>9</Status></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>1</Count>"
		 ADD("2", "0", "Inbox", 2) "</Changes></FolderSync>");
	h_take(h);
	eas_session_cancel(h->s);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_CANCELLED);

	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>1</Count>"
		 ADD("2", "0", "Inbox", 2) "</Changes></FolderSync>");
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, NOTHING("1"));
	h_until(h, EAS_EVENT_FOLDERS_SYNCED);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "9", &f), EAS_E_NOTFOUND);
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	assert_string_equal(f.sync_key, "s-41");
	h_free(h);
}

/* 6 and 11: again after a backoff, bounded. */
static void test_server_error_retried(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>6</Status></FolderSync>");
	h_none(h); /* waits */
	assert_true(eas_session_next_timeout(h->s, h->now) > 0);
	h_wait_backoff(h);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, FS_OPEN "<Status>11</Status></FolderSync>");
	h_wait_backoff(h);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, initial);
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, NOTHING("1"));
	h_until(h, EAS_EVENT_FOLDERS_SYNCED);

	/* Bounded: a server that always fails ends with an error naming the status. */
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	eas_session_event ev;
	for (int i = 0; i < 20; i++) {
		h_wait_backoff(h);
		const eas_http_request *r = NULL;
		assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
		if (!r)
			break;
		h_answer(h, FS_OPEN "<Status>6</Status></FolderSync>");
	}
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 6);
	assert_int_equal(eas_session_busy(h->s), 0);
	h_free(h);
}

static void test_fatal_statuses(void **state)
{
	(void)state;
	static const int statuses[] = { 10, 12, 2 };
	for (size_t i = 0; i < sizeof statuses / sizeof statuses[0]; i++) {
		harness *h = h_new(EAS_PROTO_14_1);
		assert_int_equal(eas_session_sync_folders(h->s), 0);
		h_take(h);
		char xml[128];
		snprintf(xml, sizeof xml, FS_OPEN "<Status>%d</Status></FolderSync>", statuses[i]);
		h_answer(h, xml);
		eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
		assert_int_equal(ev.status, statuses[i]);
		assert_non_null(strstr(ev.message, "FolderSync"));
		assert_int_equal(eas_session_busy(h->s), 0);
		eas_store_folder f;
		assert_int_equal(h->store->folder_get(h->store, "2", &f), EAS_E_NOTFOUND);
		h_free(h);
	}
}

/* The body breaks halfway: nothing stored, the same key goes again, then it works. */
static void test_disconnect_mid_body(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer_cut(h, initial, h_wbxml_len(initial) / 2);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), EAS_E_NOTFOUND);
	h_wait_backoff(h);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, initial);
	free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
	h_answer(h, NOTHING("1"));
	assert_int_equal(h_until(h, EAS_EVENT_FOLDERS_SYNCED).count, 4);
	h_free(h);
}

static int failing_folder_cb(const eas_store_folder *f, int deleted, void *ud)
{
	(void)deleted;
	(void)ud;
	return strcmp(f->server_id, "4") == 0 ? -1 : 0;
}

/* A callback refusing a folder rolls the whole response back, key included. */
static void test_callback_failure_rolls_back(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	eas_sync_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.version = EAS_SYNC_CALLBACKS_VERSION;
	cb.folder_changed = failing_folder_cb;
	assert_int_equal(eas_session_set_sync_callbacks(h->s, &cb), 0);
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	h_take(h);
	h_answer(h, initial);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_CALLBACK);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), EAS_E_NOTFOUND);
	char buf[16];
	value(h, "folder_sync_key", buf, sizeof buf);
	assert_string_equal(buf, "");
	h_free(h);
}

static void test_bad_responses(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		FS_OPEN "<Status>1</Status><Changes><Add><ServerId>2</ServerId></Add></Changes></FolderSync>",
		"<Sync xmlns=\"AirSync:\"><Status>1</Status></Sync>",
		FS_OPEN "<Status>1</Status><SyncKey>1</SyncKey><Changes><Add><ServerId>2</ServerId><ParentId>0</ParentId>"
			"<DisplayName>x</DisplayName><Type>zz</Type></Add></Changes></FolderSync>",
	};
	for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
		harness *h = h_new(EAS_PROTO_14_1);
		assert_int_equal(eas_session_sync_folders(h->s), 0);
		h_take(h);
		h_answer(h, bodies[i]);
		eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
		assert_true(ev.error == EAS_E_PROTOCOL || ev.error == EAS_E_MALFORMED);
		eas_store_folder f;
		assert_int_equal(h->store->folder_get(h->store, "2", &f), EAS_E_NOTFOUND);
		h_free(h);
	}
}

/* Without a store or a version the calls refuse to start. */
static void test_preconditions(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_set_store(h->s, NULL), 0);
	assert_int_equal(eas_session_sync_folders(h->s), EAS_E_STATE);
	assert_int_equal(eas_session_sync(h->s, NULL, 0), EAS_E_STATE);
	assert_int_equal(eas_session_push(h->s, NULL), EAS_E_STATE);
	assert_int_equal(eas_session_set_store(h->s, h->store), 0);
	assert_int_equal(eas_session_sync_folders(NULL), EAS_E_INVALID);
	const char *bad[] = { "" };
	assert_int_equal(eas_session_sync(h->s, bad, 1), EAS_E_INVALID);
	assert_int_equal(eas_session_push(h->s, ""), EAS_E_INVALID);
	eas_sync_settings set = EAS_SYNC_SETTINGS_INIT;
	set.version = 99;
	assert_int_equal(eas_session_set_sync_settings(h->s, &set), EAS_E_INVALID);
	h_free(h);
}


/* The store gives a new session the saved version and policy key; jobs save them as they change. */
static void test_account_values_saved(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_sync_folders(h->s), 0);
	h_take(h);
	h_answer(h, NOTHING("1"));
	h_until(h, EAS_EVENT_FOLDERS_SYNCED);
	char buf[32];
	value(h, "protocol_version", buf, sizeof buf);
	assert_string_equal(buf, "14.1");
	assert_int_equal(h->store->value_set(h->store, "policy_key", "3942919513"), 0);
	assert_int_equal(h->store->value_set(h->store, "protocol_version", "12.1"), 0);

	eas_account a = EAS_ACCOUNT_INIT;
	a.url = "https://mail.example.com/Microsoft-Server-ActiveSync";
	a.user = "alice";
	a.password = "pw";
	a.device_id = "DEV2";
	a.device_type = "SmartPhone";
	eas_session *s = NULL;
	assert_int_equal(eas_session_new(&s, &a, NULL), 0);
	assert_int_equal(eas_session_protocol_version(s), 0);
	assert_int_equal(eas_session_set_store(s, h->store), 0);
	assert_int_equal(eas_session_protocol_version(s), EAS_PROTO_12_1);
	assert_string_equal(eas_session_policy_key(s), "3942919513");
	eas_session_free(s);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_rounds),
		cmocka_unit_test(test_update_delete_keep_state),
		cmocka_unit_test(test_invalid_key_resync),
		cmocka_unit_test(test_interrupted_resync_resumes),
		cmocka_unit_test(test_server_error_retried),
		cmocka_unit_test(test_fatal_statuses),
		cmocka_unit_test(test_disconnect_mid_body),
		cmocka_unit_test(test_callback_failure_rolls_back),
		cmocka_unit_test(test_bad_responses),
		cmocka_unit_test(test_preconditions),
		cmocka_unit_test(test_account_values_saved),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
