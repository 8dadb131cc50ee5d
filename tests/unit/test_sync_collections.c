/*
 * The Sync phase of the sync engine (sync_collections.c) through the
 * session's sans-I/O calls: key 0 then GetChanges, paging, several
 * collections per request (one with Class before 12.1), the Options from
 * the settings, server Add/Change/Delete/SoftDelete, local changes and
 * their per-item statuses, every collection and request status, a body cut
 * in the middle, a lost response repeated, a resync without duplicates.
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
#include "sync_harness.h"
#include "xmldoc.h"

#define S_OPEN "<Sync xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:contacts=\"Contacts:\">"
#define COLL(key, id, status, rest) \
	"<Collection><SyncKey>" key "</SyncKey><CollectionId>" id "</CollectionId><Status>" status "</Status>" rest \
	"</Collection>"
#define ONE(key, id, status, rest) S_OPEN "<Collections>" COLL(key, id, status, rest) "</Collections></Sync>"
#define MAIL(id, subj, read) \
	"<Add><ServerId>" id "</ServerId><ApplicationData><email:Subject>" subj "</email:Subject><email:Read>" read \
	"</email:Read></ApplicationData></Add>"

static const char *const INBOX[] = { "2" };

/* A session whose hierarchy is known, with the Inbox ("2") at key. */
static harness *ready(unsigned version, const char *key)
{
	harness *h = h_new(version);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "1"), 0);
	h_folder(h, "2", "0", "Inbox", 2, key);
	return h;
}

static void put_mail(harness *h, const char *folder, const char *id, const char *subject, int read)
{
	char children[256];
	snprintf(children, sizeof children, "<email:Subject>%s</email:Subject><email:Read>%d</email:Read>", subject, read);
	size_t len;
	uint8_t *doc = h_doc(children, &len);
	eas_store_item it = { folder, id, "Email", doc, len, read, 0 };
	assert_int_equal(h->store->item_put(h->store, &it), 0);
	free(doc);
}

static void queue(harness *h, eas_store_change_kind kind, const char *server_id, int value)
{
	eas_store_change c;
	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.folder_id = "2";
	c.server_id = server_id;
	c.value = value;
	assert_int_equal(eas_session_queue_change(h->s, &c, NULL), 0);
}

static void queue_add(harness *h, const char *client_id)
{
	size_t len;
	uint8_t *doc = h_doc("<email:Subject>draft</email:Subject>", &len);
	eas_store_change c;
	memset(&c, 0, sizeof c);
	c.kind = EAS_STORE_CHANGE_ADD;
	c.folder_id = "2";
	c.client_id = client_id;
	c.class_name = "Email";
	c.data = doc;
	c.data_len = len;
	assert_int_equal(eas_session_queue_change(h->s, &c, NULL), 0);
	free(doc);
}

/* A response for folder id with n Adds numbered from first. */
static char *adds(const char *key, const char *id, int first, int n, int more)
{
	size_t size = 512 + (size_t)n * 200;
	char *x = malloc(size);
	size_t o = (size_t)snprintf(x, size, S_OPEN "<Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s"
				    "</CollectionId><Status>1</Status><Commands>", key, id);
	for (int i = first; i < first + n; i++)
		o += (size_t)snprintf(x + o, size - o, MAIL("%s:%d", "mail %d", "0"), id, i, i);
	snprintf(x + o, size - o, "</Commands>%s</Collection></Collections></Sync>", more ? "<MoreAvailable/>" : "");
	return x;
}

static void check_key(harness *h, const char *folder, const char *want)
{
	char buf[64];
	assert_string_equal(h_key(h, folder, buf, sizeof buf), want);
}

/* ---- the happy paths -------------------------------------------------------------- */

static void test_initial_sync_pages(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "0");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	char *x = h_expect(h, "Sync", "<SyncKey>0</SyncKey><CollectionId>2</CollectionId>", NULL);
	assert_null(strstr(x, "GetChanges")); /* key 0 carries nothing else */
	free(x);
	h_answer(h, ONE("1", "2", "1", ""));
	free(h_expect(h, "Sync", "<SyncKey>1</SyncKey>", "<GetChanges>1</GetChanges><WindowSize>100</WindowSize>",
		      "<FilterType>0</FilterType>", "<BodyPreference xmlns=\"AirSyncBase:\"><Type>1</Type>",
		      "<Conflict>1</Conflict>", NULL));
	x = adds("2", "2", 1, 100, 1);
	h_answer_chunked(h, x, 61);
	free(x);
	check_key(h, "2", "2");
	assert_int_equal(h_count(h, "2"), 100);
	eas_store_folder f;
	assert_int_equal(h->store->folder_get(h->store, "2", &f), 0);
	assert_int_equal(f.more_available, 1);
	free(h_expect(h, "Sync", "<SyncKey>2</SyncKey>", NULL));
	x = adds("3", "2", 101, 50, 0);
	h_answer(h, x);
	free(x);
	eas_session_event ev = h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(ev.added, 150);
	assert_true(ev.bytes > 0);
	assert_int_equal(eas_session_busy(h->s), 0);
	check_key(h, "2", "3");
	assert_int_equal(h_count(h, "2"), 150);
	assert_int_equal(h->adds, 150);
	int read = -1;
	char *doc = h_item_xml(h, "2", "2:77", &read, NULL);
	assert_non_null(strstr(doc, ">mail 77</Subject>"));
	assert_int_equal(read, 0);
	free(doc);
	h_free(h);
}

/* Progress events are coalesced: one in the queue at a time, with the running totals. */
static void test_progress_events(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	for (int page = 0; page < 3; page++) {
		h_take(h);
		char key[8];
		snprintf(key, sizeof key, "%d", page + 2);
		char *x = adds(key, "2", page * 10, 10, page < 2);
		h_answer(h, x);
		free(x);
	}
	eas_session_event ev = h_event(h);
	assert_int_equal(ev.type, EAS_EVENT_SYNC_PROGRESS);
	assert_int_equal(ev.added, 30);
	assert_string_equal(ev.folder_id, "2");
	ev = h_event(h);
	assert_int_equal(ev.type, EAS_EVENT_SYNC_DONE);
	h_no_event(h);
	h_free(h);
}

static void test_several_collections(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "a1");
	h_folder(h, "3", "0", "Calendar", 8, "c1");
	h_folder(h, "4", "0", "Contacts", 9, "0");
	assert_int_equal(eas_session_sync(h->s, NULL, 0), 0); /* every wanted folder */
	char *x = h_expect(h, "Sync", "<SyncKey>a1</SyncKey><CollectionId>2</CollectionId>",
			   "<SyncKey>c1</SyncKey><CollectionId>3</CollectionId>",
			   "<SyncKey>0</SyncKey><CollectionId>4</CollectionId>", NULL);
	assert_null(strstr(x, "<Class>")); /* 14.1: no Collection/Class */
	free(x);
	h_answer(h, S_OPEN "<Collections>" COLL("a2", "2", "1", "<Commands>" MAIL("2:1", "x", "1") "</Commands>")
		 COLL("c2", "3", "1", "") COLL("k1", "4", "1", "") "</Collections></Sync>");
	/* 2 and 3 are done; 4 was at key 0: now its items. */
	x = h_expect(h, "Sync", "<SyncKey>k1</SyncKey><CollectionId>4</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>2</CollectionId>"));
	assert_null(strstr(x, "<FilterType>")); /* no FilterType for contacts */
	free(x);
	h_answer(h, ONE("k2", "4", "1", "<Commands><Add><ServerId>4:1</ServerId><ApplicationData>"
			"<contacts:FileAs>Doe, Jane</contacts:FileAs></ApplicationData></Add></Commands>"));
	eas_session_event ev = h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(ev.added, 2);
	/* A class without a typed module: the raw ApplicationData is kept. */
	char *doc = h_item_xml(h, "4", "4:1", NULL, NULL);
	assert_non_null(strstr(doc, "<FileAs xmlns=\"Contacts:\">Doe, Jane</FileAs>"));
	free(doc);
	check_key(h, "3", "c2");
	h_free(h);
}

/* Before 12.1: one collection per request, with Collection/Class. */
static void test_one_collection_per_request_12_0(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_12_0, "a1");
	h_folder(h, "3", "0", "Calendar", 8, "c1");
	assert_int_equal(eas_session_sync(h->s, NULL, 0), 0);
	char *x = h_expect(h, "Sync", "<Class>Email</Class><SyncKey>a1</SyncKey><CollectionId>2</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>3</CollectionId>"));
	free(x);
	h_answer(h, ONE("a2", "2", "1", ""));
	free(h_expect(h, "Sync", "<Class>Calendar</Class><SyncKey>c1</SyncKey><CollectionId>3</CollectionId>", NULL));
	h_answer(h, ONE("c2", "3", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_free(h);
}

static void test_options_from_settings(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "a1");
	eas_sync_settings set = EAS_SYNC_SETTINGS_INIT;
	set.window_size = 25;
	set.filter_type = 3;
	set.body_type = 4;
	set.truncation_size = 5000;
	assert_int_equal(eas_session_set_sync_settings(h->s, &set), 0);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	free(h_expect(h, "Sync", "<WindowSize>25</WindowSize>", "<FilterType>3</FilterType>",
		      "<Type>4</Type><TruncationSize>5000</TruncationSize>", "<MIMESupport>2</MIMESupport>", NULL));
	h_free(h);

	/* 2.5: no AirSyncBase; the truncation goes as a code. */
	h = ready(EAS_PROTO_2_5, "a1");
	assert_int_equal(eas_session_set_sync_settings(h->s, &set), 0);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	char *x = h_expect(h, "Sync", "<Class>Email</Class>", "<MIMESupport>2</MIMESupport>",
			   "<MIMETruncation>2</MIMETruncation>", NULL);
	assert_null(strstr(x, "BodyPreference"));
	free(x);
	h_free(h);
}

/* ---- server changes --------------------------------------------------------------- */

static void test_server_change_delete_softdelete(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:1", "first", 0);
	put_mail(h, "2", "2:2", "second", 0);
	put_mail(h, "2", "2:3", "third", 0);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	h_answer(h, ONE("k2", "2", "1", "<Commands><Change><ServerId>2:1</ServerId><ApplicationData>"
			"<email:Read>1</email:Read></ApplicationData></Change>"
			"<Delete><ServerId>2:2</ServerId></Delete><SoftDelete><ServerId>2:3</ServerId></SoftDelete>"
			"<Delete><ServerId>2:404</ServerId></Delete></Commands>"));
	eas_session_event ev = h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(ev.changed, 1);
	assert_int_equal(ev.deleted, 3);
	int read = 0;
	char *doc = h_item_xml(h, "2", "2:1", &read, NULL);
	/* An email Change carries what changed: merged into the stored item. */
	assert_non_null(strstr(doc, ">first</Subject>"));
	assert_non_null(strstr(doc, ">1</Read>"));
	assert_null(strstr(doc, ">0</Read>"));
	assert_int_equal(read, 1);
	free(doc);
	assert_false(h_has_item(h, "2", "2:2"));
	assert_false(h_has_item(h, "2", "2:3"));
	assert_int_equal(h->soft_deletes, 1);
	assert_int_equal(h->changes, 1);
	h_free(h);
}

/* A local Read not sent yet stays what the app sees when the server changes the item. */
static void test_local_read_survives_server_change(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "0");
	put_mail(h, "2", "2:1", "first", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	free(h_expect(h, "Sync", "<SyncKey>0</SyncKey>", NULL)); /* key 0: no commands */
	/* The key-0 answer starts the folder over: the server re-sends the item, Read 0. */
	h_answer(h, ONE("k1", "2", "1", ""));
	free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", "<Change><ServerId>2:1</ServerId>", NULL));
	h_answer(h, ONE("k2", "2", "1", "<Commands>" MAIL("2:1", "first", "0") "</Commands>"
			"<Responses><Change><ServerId>2:1</ServerId><Status>5</Status></Change></Responses>"));
	int read = 0;
	char *doc = h_item_xml(h, "2", "2:1", &read, NULL);
	free(doc);
	assert_int_equal(read, 1); /* the queued change still shows */
	free(h_expect(h, "Sync", "<Change><ServerId>2:1</ServerId>", NULL));
	h_answer(h, ONE("k3", "2", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	h_free(h);
}

/* ---- local changes ----------------------------------------------------------------- */

static void test_local_changes_uploaded(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:1", "first", 0);
	put_mail(h, "2", "2:2", "second", 0);
	put_mail(h, "2", "2:3", "third", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	queue(h, EAS_STORE_CHANGE_FLAG, "2:2", 2);
	queue(h, EAS_STORE_CHANGE_DELETE, "2:3", 0);
	queue_add(h, "c1");
	int read = 0;
	free(h_item_xml(h, "2", "2:1", &read, NULL));
	assert_int_equal(read, 1); /* shown at once */
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	free(h_expect(h, "Sync", "<Commands><Change><ServerId>2:1</ServerId><ApplicationData><Read xmlns=\"Email:\">1</Read>",
		      "<Change><ServerId>2:2</ServerId><ApplicationData><Flag xmlns=\"Email:\"><Status>2</Status>",
		      "<Delete><ServerId>2:3</ServerId></Delete>",
		      "<Add><ClientId>c1</ClientId><ApplicationData><Subject xmlns=\"Email:\">draft</Subject>", NULL));
	h_answer(h, ONE("k2", "2", "1", "<Responses><Add><ClientId>c1</ClientId><ServerId>2:99</ServerId>"
			"<Status>1</Status></Add></Responses>"));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	assert_false(h_has_item(h, "2", "2:3"));
	char *doc = h_item_xml(h, "2", "2:99", NULL, NULL);
	assert_non_null(strstr(doc, "draft"));
	free(doc);
	assert_int_equal(h->client_adds, 1);
	assert_string_equal(h->last_client_server_id, "2:99");
	int flag = 0;
	doc = h_item_xml(h, "2", "2:2", NULL, &flag);
	assert_int_equal(flag, 2);
	assert_non_null(strstr(doc, "<Status>2</Status>")); /* the acknowledged change is in the document */
	assert_non_null(strstr(doc, "second"));
	free(doc);
	check_key(h, "2", "k2");
	h_free(h);
}

/* 6 dropped, 7 server wins, 8 removed, 5 retried: the folder goes on. */
static void test_item_statuses(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:1", "one", 0);
	put_mail(h, "2", "2:2", "two", 0);
	put_mail(h, "2", "2:3", "three", 0);
	put_mail(h, "2", "2:4", "four", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	queue(h, EAS_STORE_CHANGE_READ, "2:2", 1);
	queue(h, EAS_STORE_CHANGE_DELETE, "2:3", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:4", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	h_answer(h, ONE("k2", "2", "1", "<Commands>" MAIL("2:9", "new", "0") "</Commands><Responses>"
			"<Change><ServerId>2:1</ServerId><Status>7</Status></Change>"
			"<Change><ServerId>2:2</ServerId><Status>6</Status></Change>"
			"<Delete><ServerId>2:3</ServerId><Status>8</Status></Delete>"
			"<Change><ServerId>2:4</ServerId><Status>5</Status></Change></Responses>"));
	int read = -1;
	free(h_item_xml(h, "2", "2:1", &read, NULL));
	assert_int_equal(read, 0); /* conflict: the server's value is back */
	assert_false(h_has_item(h, "2", "2:3"));
	assert_true(h_has_item(h, "2", "2:9")); /* the rest of the response was applied */
	assert_int_equal(h_changes(h, "2"), 1);
	/* Only the retryable one goes again. */
	char *x = h_expect(h, "Sync", "<SyncKey>k2</SyncKey>", "<Change><ServerId>2:4</ServerId>", NULL);
	assert_null(strstr(x, "2:1"));
	assert_null(strstr(x, "2:2"));
	free(x);
	h_answer(h, ONE("k3", "2", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	assert_non_null(strstr(h->log, "status 6"));
	h_free(h);
}

/* A change the server keeps refusing with a retryable status is dropped after a few tries. */
static void test_retry_bounded(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:4", "four", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:4", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	int rounds = 0;
	for (;;) {
		const eas_http_request *r = NULL;
		assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
		if (!r)
			break;
		assert_true(++rounds <= 10);
		h_answer(h, ONE("k1", "2", "1", "<Responses><Change><ServerId>2:4</ServerId><Status>16</Status>"
				"</Change></Responses>"));
	}
	assert_int_equal(rounds, 5);
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	assert_non_null(strstr(h->log, "dropped"));
	h_free(h);
}

/* ---- statuses ------------------------------------------------------------------------ */

/* 3: from key 0; the key-0 answer clears the folder in its own transaction: never an item twice. */
static void test_invalid_key_resync_without_duplicates(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k5");
	put_mail(h, "2", "2:1", "one", 0);
	put_mail(h, "2", "2:2", "two", 0);
	put_mail(h, "2", "2:3", "three", 0);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	free(h_expect(h, "Sync", "<SyncKey>k5</SyncKey>", NULL));
	h_answer(h, ONE("0", "2", "3", ""));
	check_key(h, "2", "0");
	assert_int_equal(h_count(h, "2"), 3); /* still shown until the server starts over */
	free(h_expect(h, "Sync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, ONE("n1", "2", "1", ""));
	assert_int_equal(h_count(h, "2"), 0);
	assert_int_equal(h->deletes, 3); /* the app was told */
	free(h_expect(h, "Sync", "<SyncKey>n1</SyncKey>", NULL));
	h_answer(h, ONE("n2", "2", "1", "<Commands>" MAIL("2:1", "one", "0") MAIL("2:2", "two", "0") "</Commands>"));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_count(h, "2"), 2);
	h_free(h);
}

/* Too many 3s for one folder in one job: an error, not a loop. */
static void test_invalid_key_bounded(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k5");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	int i;
	for (i = 0; i < 20; i++) {
		const eas_http_request *r = NULL;
		assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
		if (!r)
			break;
		h_answer(h, ONE("0", "2", "3", ""));
	}
	assert_true(i < 10);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 3);
	h_free(h);
}

static void test_hierarchy_changed_runs_folder_sync(void **state)
{
	(void)state;
	static const char *const answers[] = {
		ONE("k1", "2", "12", ""),
		S_OPEN "<Status>12</Status></Sync>",
	};
	for (size_t i = 0; i < 2; i++) {
		harness *h = ready(EAS_PROTO_14_1, "k1");
		assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
		h_take(h);
		h_answer(h, answers[i]);
		free(h_expect(h, "FolderSync", "<SyncKey>1</SyncKey>", NULL));
		h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>2</SyncKey><Changes>"
			 "<Count>0</Count></Changes></FolderSync>");
		h_until(h, EAS_EVENT_FOLDERS_SYNCED);
		free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL));
		h_answer(h, ONE("k2", "2", "1", ""));
		h_until(h, EAS_EVENT_SYNC_DONE);
		h_free(h);
	}
}

/* The folder is gone after the FolderSync: it leaves the job. */
static void test_folder_gone_after_folder_sync(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	h_answer(h, ONE("k1", "2", "12", ""));
	h_take(h);
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>2</SyncKey><Changes>"
		 "<Count>1</Count><Delete><ServerId>2</ServerId></Delete></Changes></FolderSync>");
	h_take(h);
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>2</SyncKey></FolderSync>");
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_none(h);
	h_free(h);
}

static void test_retry_statuses_with_backoff(void **state)
{
	(void)state;
	static const char *const answers[] = {
		S_OPEN "<Status>5</Status></Sync>",
		S_OPEN "<Status>16</Status></Sync>",
		ONE("k1", "2", "16", ""),
		ONE("k1", "2", "9", ""),
	};
	for (size_t i = 0; i < sizeof answers / sizeof answers[0]; i++) {
		harness *h = ready(EAS_PROTO_14_1, "k1");
		assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
		h_take(h);
		h_answer(h, answers[i]);
		h_none(h);
		assert_true(eas_session_next_timeout(h->s, h->now) > 0);
		h_wait_backoff(h);
		free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL));
		h_answer(h, ONE("k2", "2", "1", ""));
		h_until(h, EAS_EVENT_SYNC_DONE);
		h_free(h);
	}
	/* Bounded. */
	harness *h = ready(EAS_PROTO_14_1, "k1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	for (int i = 0; i < 12; i++) {
		h_wait_backoff(h);
		const eas_http_request *r = NULL;
		assert_int_equal(eas_session_next_request(h->s, &r, h->now), 0);
		if (!r)
			break;
		h_answer(h, S_OPEN "<Status>16</Status></Sync>");
	}
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 16);
	assert_int_equal(eas_session_busy(h->s), 0);
	h_free(h);
}

static void test_protocol_error(void **state)
{
	(void)state;
	static const char *const answers[] = {
		S_OPEN "<Status>4</Status></Sync>",
		ONE("k1", "2", "4", ""),
		S_OPEN "<Status>14</Status><Limit>60</Limit></Sync>",
	};
	static const int statuses[] = { 4, 4, 14 };
	for (size_t i = 0; i < 3; i++) {
		harness *h = ready(EAS_PROTO_14_1, "k1");
		assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
		h_take(h);
		h_answer(h, answers[i]);
		eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
		assert_int_equal(ev.status, statuses[i]);
		assert_non_null(strstr(ev.message, "Sync status"));
		check_key(h, "2", "k1");
		h_free(h);
	}
}

static void test_incomplete_and_too_many(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "a1");
	h_folder(h, "3", "0", "Sent", 5, "b1");
	h_folder(h, "4", "0", "Drafts", 3, "c1");
	assert_int_equal(eas_session_sync(h->s, NULL, 0), 0);
	h_take(h);
	h_answer(h, S_OPEN "<Status>13</Status></Sync>");
	/* The full request again, at once. */
	char *x = h_expect(h, "Sync", "<CollectionId>2</CollectionId>", "<CollectionId>3</CollectionId>",
			   "<CollectionId>4</CollectionId>", NULL);
	free(x);
	h_answer(h, S_OPEN "<Status>15</Status><Limit>2</Limit></Sync>");
	x = h_expect(h, "Sync", "<CollectionId>2</CollectionId>", "<CollectionId>3</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>4</CollectionId>"));
	free(x);
	h_answer(h, S_OPEN "<Collections>" COLL("a2", "2", "1", "") COLL("b2", "3", "1", "") "</Collections></Sync>");
	free(h_expect(h, "Sync", "<CollectionId>4</CollectionId>", NULL));
	h_answer(h, ONE("c2", "4", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_free(h);
}

/* An empty 200 (12.1+): nothing changed. */
static void test_empty_response(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	h_answer(h, NULL);
	eas_session_event ev = h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(ev.added, 0);
	check_key(h, "2", "k1");
	h_free(h);
}

/* A provisioning status in the response: Provision, then the same Sync. */
static void test_provisioning_status(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	h_answer(h, S_OPEN "<Status>142</Status></Sync>");
	free(h_expect(h, "Provision", NULL));
	h_answer(h, "<Provision xmlns=\"Provision:\"><Status>1</Status></Provision>");
	free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL));
	h_answer(h, ONE("k2", "2", "1", "<Commands>" MAIL("2:1", "x", "0") "</Commands>"));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_count(h, "2"), 1);
	h_free(h);
}

/* ---- failures in the middle -------------------------------------------------------------- */

/* The connection breaks in the middle of the body: nothing applied, same key again, then it works. */
static void test_disconnect_mid_body(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:0", "kept", 0);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	char *x = adds("k2", "2", 1, 20, 0);
	size_t total = h_wbxml_len(x);
	/* Cut early, halfway and just before the end (within the session's retries). */
	const size_t cuts[] = { 40, total / 2, total - 3 };
	for (size_t i = 0; i < 3; i++) {
		h_answer_cut(h, x, cuts[i]);
		assert_int_equal(h_count(h, "2"), 1); /* only what was there */
		check_key(h, "2", "k1");
		h_wait_backoff(h);
		free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL));
	}
	assert_true(h->rollbacks >= 1);
	assert_true(h->adds > 0); /* the app saw items that were then rolled back */
	h_answer(h, x);
	free(x);
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_count(h, "2"), 21);
	check_key(h, "2", "k2");
	h_free(h);
}

/* The response is lost entirely: the request goes again with the same key and ClientId; one item results. */
static void test_lost_response_replay(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	queue_add(h, "c7");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	char *first = h_expect(h, "Sync", "<ClientId>c7</ClientId>", NULL);
	h_answer_error(h, EAS_E_IO);
	h_wait_backoff(h);
	char *second = h_expect(h, "Sync", NULL);
	assert_string_equal(first, second); /* byte for byte the same request */
	free(first);
	free(second);
	h_answer(h, ONE("k2", "2", "1", "<Responses><Add><ClientId>c7</ClientId><ServerId>2:50</ServerId>"
			"<Status>1</Status></Add></Responses>"));
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_count(h, "2"), 1);
	assert_int_equal(h_changes(h, "2"), 0);
	h_free(h);
}

static void test_callback_failure_rolls_back(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	h->fail_item_callback = 3;
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	char *x = adds("k2", "2", 1, 5, 0);
	h_answer(h, x);
	free(x);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_CALLBACK);
	assert_int_equal(h_count(h, "2"), 0);
	check_key(h, "2", "k1");
	assert_int_equal(eas_session_busy(h->s), 0);
	h_free(h);
}

static void test_malformed_response(void **state)
{
	(void)state;
	static const char *const bodies[] = {
		"<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderSync>",
		S_OPEN "<Collections><Collection><CollectionId>2</CollectionId><Status>1</Status><Commands>"
			MAIL("2:1", "x", "0") "</Commands></Collection></Collections></Sync>",
	};
	for (size_t i = 0; i < 2; i++) {
		harness *h = ready(EAS_PROTO_14_1, "k1");
		assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
		h_take(h);
		h_answer(h, bodies[i]);
		eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
		assert_int_equal(ev.error, EAS_E_PROTOCOL);
		assert_int_equal(h_count(h, "2"), 0);
		check_key(h, "2", "k1");
		h_free(h);
	}
}

/* Never fetched the hierarchy: FolderSync first, then every wanted folder. */
static void test_folder_sync_first(void **state)
{
	(void)state;
	harness *h = h_new(EAS_PROTO_14_1);
	assert_int_equal(eas_session_sync(h->s, NULL, 0), 0);
	free(h_expect(h, "FolderSync", "<SyncKey>0</SyncKey>", NULL));
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey><Changes><Count>2</Count>"
		 "<Add><ServerId>2</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName><Type>2</Type></Add>"
		 "<Add><ServerId>8</ServerId><ParentId>0</ParentId><DisplayName>J</DisplayName><Type>11</Type></Add>"
		 "</Changes></FolderSync>");
	h_take(h);
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey></FolderSync>");
	char *x = h_expect(h, "Sync", "<SyncKey>0</SyncKey><CollectionId>2</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>8</CollectionId>")); /* journal: not wanted */
	free(x);
	h_answer(h, ONE("1", "2", "1", ""));
	h_take(h);
	h_answer(h, ONE("2", "2", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_free(h);
}

/* Cancelling in the middle of a body leaves the store as it was. */
static void test_cancel_mid_body(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	char *x = adds("k2", "2", 1, 5, 0);
	eas_buf b;
	xmldoc_to_wbxml(&b, x);
	free(x);
	assert_int_equal(eas_session_response_head(h->s, 200, NULL, 0), 0);
	assert_int_equal(eas_session_response_body(h->s, b.data, b.len * 3 / 4), 0);
	eas_buf_free(&b);
	assert_true(h->adds > 0);
	eas_session_cancel(h->s);
	assert_int_equal(h_count(h, "2"), 0);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_CANCELLED);
	check_key(h, "2", "k1");
	/* Usable again: first the request that was cut, as it was (pinned), then the new change. */
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	x = h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL);
	assert_null(strstr(x, "<Commands>"));
	free(x);
	h_answer(h, ONE("k2", "2", "1", ""));
	free(h_expect(h, "Sync", "<SyncKey>k2</SyncKey>", "<Change><ServerId>2:1</ServerId>", NULL));
	h_answer(h, ONE("k3", "2", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_free(h);
}


/*
 * Killed while a Sync with local changes was in flight, restarted, more changes
 * queued: the first request repeats the one in flight exactly (same key, same
 * changes; the server replays its answer), the new changes go in the next.
 */
static void test_pinned_request_after_restart(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	h_folder(h, "3", "0", "Sent", 5, "s1");
	put_mail(h, "2", "2:1", "one", 0);
	put_mail(h, "2", "2:2", "two", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	char *first = h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", "<ServerId>2:1</ServerId>", NULL);
	h_restart(h); /* no answer: the process died */
	queue(h, EAS_STORE_CHANGE_READ, "2:2", 1);
	assert_int_equal(eas_session_sync(h->s, NULL, 0), 0); /* now every folder */
	char *again = h_expect(h, "Sync", NULL);
	assert_string_equal(again, first); /* the same folders, keys and changes */
	free(first);
	free(again);
	h_answer(h, ONE("k2", "2", "1", ""));
	char *x = h_expect(h, "Sync", "<SyncKey>k2</SyncKey>", "<ServerId>2:2</ServerId>",
			   "<SyncKey>s1</SyncKey><CollectionId>3</CollectionId>", NULL);
	assert_null(strstr(x, "<ServerId>2:1</ServerId>"));
	free(x);
	h_answer(h, S_OPEN "<Collections>" COLL("k3", "2", "1", "") COLL("s2", "3", "1", "") "</Collections></Sync>");
	h_until(h, EAS_EVENT_SYNC_DONE);
	assert_int_equal(h_changes(h, "2"), 0);
	char buf[64] = "";
	assert_int_equal(h->store->value_get(h->store, "sync_sent", buf, sizeof buf), EAS_E_NOTFOUND);
	h_free(h);
}

/* A whole-request failure drops the pin: nothing was applied, the next request may differ. */
static void test_pin_dropped_on_request_status(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1, "k1");
	put_mail(h, "2", "2:1", "one", 0);
	put_mail(h, "2", "2:2", "two", 0);
	queue(h, EAS_STORE_CHANGE_READ, "2:1", 1);
	assert_int_equal(eas_session_sync(h->s, INBOX, 1), 0);
	h_take(h);
	queue(h, EAS_STORE_CHANGE_READ, "2:2", 1);
	h_answer(h, S_OPEN "<Status>16</Status></Sync>");
	h_wait_backoff(h);
	free(h_expect(h, "Sync", "<ServerId>2:1</ServerId>", "<ServerId>2:2</ServerId>", NULL));
	h_answer(h, ONE("k2", "2", "1", ""));
	h_until(h, EAS_EVENT_SYNC_DONE);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_initial_sync_pages),
		cmocka_unit_test(test_progress_events),
		cmocka_unit_test(test_several_collections),
		cmocka_unit_test(test_one_collection_per_request_12_0),
		cmocka_unit_test(test_options_from_settings),
		cmocka_unit_test(test_server_change_delete_softdelete),
		cmocka_unit_test(test_local_read_survives_server_change),
		cmocka_unit_test(test_local_changes_uploaded),
		cmocka_unit_test(test_item_statuses),
		cmocka_unit_test(test_retry_bounded),
		cmocka_unit_test(test_invalid_key_resync_without_duplicates),
		cmocka_unit_test(test_invalid_key_bounded),
		cmocka_unit_test(test_hierarchy_changed_runs_folder_sync),
		cmocka_unit_test(test_folder_gone_after_folder_sync),
		cmocka_unit_test(test_retry_statuses_with_backoff),
		cmocka_unit_test(test_protocol_error),
		cmocka_unit_test(test_incomplete_and_too_many),
		cmocka_unit_test(test_empty_response),
		cmocka_unit_test(test_provisioning_status),
		cmocka_unit_test(test_disconnect_mid_body),
		cmocka_unit_test(test_lost_response_replay),
		cmocka_unit_test(test_callback_failure_rolls_back),
		cmocka_unit_test(test_malformed_response),
		cmocka_unit_test(test_folder_sync_first),
		cmocka_unit_test(test_cancel_mid_body),
		cmocka_unit_test(test_pinned_request_after_restart),
		cmocka_unit_test(test_pin_dropped_on_request_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
