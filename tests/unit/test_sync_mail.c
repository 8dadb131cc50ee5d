/*
 * The mail-app commands of eas/mail.h end to end against the companion
 * server's engine in the same process (tests/support/engine_transport):
 * queued MOVEs with MoveItems (success, refusals, a repeat after a lost
 * answer), FolderCreate/Update/Delete, SmartReply/SmartForward delivered to
 * a second local user, Settings Oof and UserInformation, and the Fetch of a
 * whole item.
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
#include "eas/session.h"
#include "eas/sync.h"
#include "engine_transport.h"
#include "server_fixture.h"
#include "xmldoc.h"

#define URL "https://mail.example.test:8443/Microsoft-Server-ActiveSync"

typedef struct client {
	eas_session *s;
	eas_store *store;
	engine_transport *et;
	char inbox[EAS_MSTORE_ID_SIZE];
	unsigned moved, failed;
	int last_failed_status;
	char last_moved_id[EAS_MSTORE_ID_SIZE];
} client;

static void seed_mail(fx *f, int64_t user, const char *folder, int i)
{
	char xml[640];
	snprintf(xml, sizeof xml,
		 "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:airsyncbase=\"AirSyncBase:\">"
		 "<email:Subject>mail %d</email:Subject><email:From>a@example.test</email:From>"
		 "<email:DateReceived>2023-11-14T10:00:%02d.000Z</email:DateReceived><email:Read>0</email:Read>"
		 "<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>body of mail %d"
		 "</airsyncbase:Data></airsyncbase:Body></ApplicationData>", i, i % 60, i);
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.application_data = doc.data;
	d.application_data_len = doc.len;
	char subj[32];
	snprintf(subj, sizeof subj, "mail %d", i);
	d.summary.subject = subj;
	d.summary.date = 1699956000 + i;
	char body[32];
	snprintf(body, sizeof body, "body of mail %d", i);
	d.body_type = 1;
	d.body = (const uint8_t *)body;
	d.body_len = strlen(body);
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(f->store->item_add(id, f->store, user, folder, &d, NULL), 0);
	eas_buf_free(&doc);
}

static int run(client *c, uint32_t timeout_ms)
{
	return eas_session_run(c->s, engine_transport_base(c->et), engine_transport_pump, c->et, timeout_ms);
}

/* Runs and reads events until one of type; an error event fails the test unless type is ERROR. */
static eas_session_event until(client *c, eas_event_type type)
{
	for (int round = 0; round < 50; round++) {
		run(c, 3600000);
		eas_session_event ev;
		while (eas_session_next_event(c->s, &ev) == 1) {
			if (getenv("E2E_VERBOSE"))
				fprintf(stderr, "event %d: %s\n", ev.type, ev.message);
			if (ev.type == EAS_EVENT_ITEM_MOVED) {
				c->moved++;
				snprintf(c->last_moved_id, sizeof c->last_moved_id, "%s", ev.server_id ? ev.server_id : "");
			}
			if (ev.type == EAS_EVENT_CHANGE_FAILED) {
				c->failed++;
				c->last_failed_status = ev.status;
			}
			if (ev.type == type)
				return ev;
			if (ev.type == EAS_EVENT_ERROR)
				fail_msg("error event %d (status %d): %s", ev.error, ev.status, ev.message);
			if (ev.type == EAS_EVENT_POLICY)
				assert_int_equal(eas_session_accept_policy(c->s, 1), 0);
		}
	}
	fail_msg("no event %d", type);
	return (eas_session_event){ 0 };
}

static void client_new(client *c, fx *f, engine_transport *et, const char *user, const char *password,
		       const char *device)
{
	memset(c, 0, sizeof *c);
	c->et = et;
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = user;
	a.password = password;
	a.device_id = device;
	a.device_type = "SmartPhone";
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &f->plat;
	assert_int_equal(eas_session_new(&c->s, &a, &o), 0);
	assert_int_equal(eas_store_memory_new(&c->store, NULL), 0);
	assert_int_equal(eas_session_set_store(c->s, c->store), 0);
	assert_int_equal(eas_session_connect(c->s), 0);
	until(c, EAS_EVENT_READY);
	assert_int_equal(eas_session_sync_folders(c->s), 0);
	until(c, EAS_EVENT_FOLDERS_SYNCED);
	eas_mstore_folder sf;
	int64_t uid = strcmp(user, "alice") == 0 ? f->alice : f->bob;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, uid, 2), 0);
	snprintf(c->inbox, sizeof c->inbox, "%s", sf.server_id);
}

static void client_free(client *c)
{
	eas_session_free(c->s);
	c->store->close(c->store);
}

static uint64_t count(client *c, const char *folder)
{
	uint64_t n = 0;
	c->store->item_count(c->store, folder, &n);
	return n;
}

static void sync_folder(client *c, const char *folder)
{
	const char *ids[] = { folder };
	assert_int_equal(eas_session_sync(c->s, ids, 1), 0);
	until(c, EAS_EVENT_SYNC_DONE);
}

typedef struct nth_item {
	int want, seen;
	char id[64];
} nth_item;

static int take_nth(const eas_store_item *it, void *ud)
{
	nth_item *n = ud;
	if (n->seen++ != n->want)
		return 0;
	snprintf(n->id, sizeof n->id, "%s", it->server_id);
	return 1;
}

static void item_id(client *c, const char *folder, int nth, char *out)
{
	nth_item n = { nth, 0, "" };
	c->store->item_list(c->store, folder, take_nth, &n);
	assert_true(n.id[0]);
	strcpy(out, n.id);
}

static int count_change(const eas_store_change *ch, void *ud)
{
	(void)ch;
	(*(size_t *)ud)++;
	return 0;
}

static void queue_move(client *c, const char *from, const char *id, const char *to)
{
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_MOVE;
	ch.folder_id = from;
	ch.server_id = id;
	ch.dest_folder_id = to;
	assert_int_equal(eas_session_queue_change(c->s, &ch, NULL), 0);
}

static void queue_read(client *c, const char *folder, const char *id)
{
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_READ;
	ch.folder_id = folder;
	ch.server_id = id;
	ch.value = 1;
	assert_int_equal(eas_session_queue_change(c->s, &ch, NULL), 0);
}

static void create_folder(client *c, const char *name, char *out)
{
	assert_int_equal(eas_session_folder_create(c->s, "0", name, 12), 0);
	eas_session_event ev = until(c, EAS_EVENT_FOLDER_CHANGED);
	assert_non_null(ev.folder_id);
	strcpy(out, ev.folder_id);
	eas_store_folder f;
	assert_int_equal(c->store->folder_get(c->store, out, &f), 0);
	assert_string_equal(f.display_name, name);
	assert_string_equal(f.class_name, "Email");
}

static int64_t server_items(fx *f, int64_t user, const char *folder)
{
	uint64_t n = 0;
	assert_int_equal(f->store->item_list(&n, f->store, user, folder, 0, 1, NULL, NULL), 0);
	return (int64_t)n;
}

/* ---- MoveItems ------------------------------------------------------------------------------ */

static void test_move_in_fifo_order(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	eas_mstore_folder sf;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, f->alice, 2), 0);
	strcpy(inbox, sf.server_id);
	for (int i = 0; i < 5; i++)
		seed_mail(f, f->alice, inbox, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	sync_folder(&c, c.inbox);
	assert_int_equal(count(&c, c.inbox), 5);
	char archive[64], a[64], b[64];
	create_folder(&c, "Archive", archive);
	assert_int_equal(server_items(f, f->alice, archive), 0);
	item_id(&c, c.inbox, 0, a);
	item_id(&c, c.inbox, 1, b);

	/* Read a, move a, read b: the Read of a goes in a Sync first, then MoveItems, then the rest. */
	queue_read(&c, c.inbox, a);
	queue_move(&c, c.inbox, a, archive);
	queue_read(&c, c.inbox, b);
	size_t syncs = engine_transport_count(et, "Sync"), moves = engine_transport_count(et, "MoveItems");
	sync_folder(&c, c.inbox);
	assert_int_equal(engine_transport_count(et, "MoveItems"), moves + 1);
	assert_true(engine_transport_count(et, "Sync") >= syncs + 2);
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.failed, 0);
	assert_true(c.last_moved_id[0]);
	assert_int_equal(count(&c, c.inbox), 4);
	assert_int_equal(count(&c, archive), 1);
	eas_store_item it;
	assert_int_equal(c.store->item_get(c.store, archive, c.last_moved_id, &it), 0);
	assert_int_equal(it.read, 1); /* the Read before the move was applied */
	assert_int_equal(c.store->item_get(c.store, c.inbox, b, &it), 0);
	assert_int_equal(it.read, 1);
	assert_int_equal(server_items(f, f->alice, archive), 1);
	assert_int_equal(server_items(f, f->alice, inbox), 4);
	/* Nothing left queued, and the archive's own Sync does not bring the item twice. */
	size_t pending = 0;
	c.store->change_list(c.store, NULL, count_change, &pending);
	assert_int_equal(pending, 0);
	sync_folder(&c, archive);
	assert_int_equal(count(&c, archive), 1);

	/* A second device of alice sees the move: once in the archive, gone from the Inbox. */
	client d;
	client_new(&d, f, et, "alice", "pw-alice", "DEVB");
	sync_folder(&d, d.inbox);
	sync_folder(&d, archive);
	assert_int_equal(count(&d, d.inbox), 4);
	assert_int_equal(count(&d, archive), 1);
	assert_int_equal(d.store->item_get(d.store, archive, c.last_moved_id, &it), 0);
	client_free(&d);
	client_free(&c);
	engine_transport_free(et);
}

static void test_move_refusals(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	eas_mstore_folder sf;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, f->alice, 2), 0);
	for (int i = 0; i < 3; i++)
		seed_mail(f, f->alice, sf.server_id, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	sync_folder(&c, c.inbox);
	char a[64];
	item_id(&c, c.inbox, 0, a);
	/* 2: unknown destination */
	queue_move(&c, c.inbox, a, "999");
	sync_folder(&c, c.inbox);
	assert_int_equal(c.failed, 1);
	assert_int_equal(c.last_failed_status, 2);
	/* 4: the same folder */
	queue_move(&c, c.inbox, a, c.inbox);
	sync_folder(&c, c.inbox);
	assert_int_equal(c.failed, 2);
	assert_int_equal(c.last_failed_status, 4);
	/* 1: an item the server does not have there */
	queue_move(&c, c.inbox, "1:999999", c.inbox);
	char contacts[64];
	assert_int_equal(f->store->folder_find_default(&sf, f->store, f->alice, 9), 0);
	strcpy(contacts, sf.server_id);
	sync_folder(&c, c.inbox);
	assert_int_equal(c.failed, 3);
	assert_true(c.last_failed_status == 1 || c.last_failed_status == 4);
	/* 5: an email into Contacts */
	queue_move(&c, c.inbox, a, contacts);
	sync_folder(&c, c.inbox);
	assert_int_equal(c.failed, 4);
	assert_int_equal(c.last_failed_status, 5);
	/* Every refused change left the queue; the item is still in the Inbox, here and there. */
	assert_int_equal(c.moved, 0);
	assert_int_equal(count(&c, c.inbox), 3);
	eas_store_item it;
	assert_int_equal(c.store->item_get(c.store, c.inbox, a, &it), 0);
	client_free(&c);
	engine_transport_free(et);
}

/* The MoveItems answer is lost: the repeat is answered 1, and the item still ends in the destination once. */
static void test_move_repeated_after_lost_answer(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	eas_mstore_folder sf;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, f->alice, 2), 0);
	for (int i = 0; i < 4; i++)
		seed_mail(f, f->alice, sf.server_id, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	sync_folder(&c, c.inbox);
	char archive[64], a[64];
	create_folder(&c, "Archive", archive);
	sync_folder(&c, archive);
	item_id(&c, c.inbox, 2, a);
	queue_move(&c, c.inbox, a, archive);
	engine_transport_cut_next(et, 5); /* the MoveItems answer breaks; the session sends it again */
	const char *both[] = { c.inbox, archive };
	assert_int_equal(eas_session_sync(c.s, both, 2), 0);
	until(&c, EAS_EVENT_SYNC_DONE);
	assert_int_equal(engine_transport_count(et, "MoveItems"), 2);
	assert_int_equal(c.moved, 1);
	assert_int_equal(c.failed, 0);
	assert_int_equal(c.last_moved_id[0], '\0'); /* the new id came with the archive's resync */
	assert_int_equal(count(&c, c.inbox), 3);
	assert_int_equal(count(&c, archive), 1);
	assert_int_equal(server_items(f, f->alice, archive), 1);
	client_free(&c);
	engine_transport_free(et);
}

/* ---- folders -------------------------------------------------------------------------------- */

static void test_folder_operations(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	char key0[64], key1[64];
	assert_int_equal(c.store->value_get(c.store, "folder_sync_key", key0, sizeof key0), 0);
	char id[64];
	create_folder(&c, "Projects", id);
	assert_int_equal(c.store->value_get(c.store, "folder_sync_key", key1, sizeof key1), 0);
	assert_string_not_equal(key0, key1);
	eas_mstore_folder sf;
	assert_int_equal(f->store->folder_get(&sf, f->store, f->alice, id), 0);
	assert_string_equal(sf.display_name, "Projects");

	/* 2: the name exists */
	assert_int_equal(eas_session_folder_create(c.s, "0", "Projects", 12), 0);
	eas_session_event ev = until(&c, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 2);

	assert_int_equal(eas_session_folder_update(c.s, id, "0", "Old projects"), 0);
	ev = until(&c, EAS_EVENT_FOLDER_CHANGED);
	assert_string_equal(ev.folder_id, id);
	eas_store_folder cf;
	assert_int_equal(c.store->folder_get(c.store, id, &cf), 0);
	assert_string_equal(cf.display_name, "Old projects");
	assert_int_equal(f->store->folder_get(&sf, f->store, f->alice, id), 0);
	assert_string_equal(sf.display_name, "Old projects");

	/* A FolderSync afterwards has nothing new: the key moved with each operation. */
	assert_int_equal(eas_session_sync_folders(c.s), 0);
	ev = until(&c, EAS_EVENT_FOLDERS_SYNCED);
	assert_int_equal(ev.count, 0);

	/* Another device's folder: the key chain of this one still brings it with the next FolderSync. */
	client d;
	client_new(&d, f, et, "alice", "pw-alice", "DEVB");
	char other[64];
	create_folder(&d, "From B", other);
	assert_int_equal(eas_session_folder_delete(c.s, id), 0);
	until(&c, EAS_EVENT_FOLDER_CHANGED);
	assert_int_equal(c.store->folder_get(c.store, id, &cf), EAS_E_NOTFOUND);
	assert_int_equal(f->store->folder_get(&sf, f->store, f->alice, id), EAS_E_NOTFOUND);
	assert_int_equal(eas_session_sync_folders(c.s), 0);
	ev = until(&c, EAS_EVENT_FOLDERS_SYNCED);
	assert_int_equal(ev.count, 1);
	assert_int_equal(c.store->folder_get(c.store, other, &cf), 0);

	/* 4: gone already */
	assert_int_equal(eas_session_folder_delete(c.s, id), 0);
	ev = until(&c, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 4);
	assert_int_equal(eas_session_folder_create(c.s, "0", "", 12), EAS_E_INVALID);
	assert_int_equal(eas_session_folder_delete(c.s, NULL), EAS_E_INVALID);
	client_free(&d);
	client_free(&c);
	engine_transport_free(et);
}

/* ---- SmartReply / SmartForward, Fetch of an item --------------------------------------------- */

static size_t body_sink_len;
static char body_sink[4096];

static int sink(const uint8_t *bytes, size_t len, void *ud)
{
	(void)ud;
	if (body_sink_len + len >= sizeof body_sink)
		return EAS_E_LIMIT;
	memcpy(body_sink + body_sink_len, bytes, len);
	body_sink_len += len;
	body_sink[body_sink_len] = '\0';
	return 0;
}

static void test_smart_reply_forward_and_fetch(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	eas_mstore_folder sf;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, f->alice, 2), 0);
	seed_mail(f, f->alice, sf.server_id, 7);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	sync_folder(&c, c.inbox);
	char a[64];
	item_id(&c, c.inbox, 0, a);

	body_sink_len = 0;
	assert_int_equal(eas_session_fetch_item(c.s, c.inbox, a, 1, sink, NULL), 0);
	eas_session_event ev = until(&c, EAS_EVENT_FETCHED);
	assert_int_equal(ev.bytes, body_sink_len);
	assert_string_equal(body_sink, "body of mail 7");
	/* MIME asked: this server keeps the seeded text body only and sends that (the request form: test_sync_move). */
	body_sink_len = 0;
	assert_int_equal(eas_session_fetch_item(c.s, c.inbox, a, 4, sink, NULL), 0);
	until(&c, EAS_EVENT_FETCHED);
	assert_non_null(strstr(body_sink, "body of mail 7"));
	assert_int_equal(eas_session_fetch_item(c.s, c.inbox, a, 3, sink, NULL), EAS_E_INVALID);
	assert_int_equal(eas_session_fetch_item(c.s, c.inbox, "1:424242", 1, sink, NULL), 0);
	ev = until(&c, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 6);

	client b;
	client_new(&b, f, et, "bob", "pw-bob", "DEVB");
	static const char re_mime[] = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Re: mail 7\r\n\r\nYes.\r\n";
	assert_int_equal(eas_session_smart_reply(c.s, c.inbox, a, (const uint8_t *)re_mime, sizeof re_mime - 1,
						 EAS_COMPOSE_SAVE_IN_SENT),
			 0);
	until(&c, EAS_EVENT_MAIL_SENT);
	static const char fwd[] = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: Fw: mail 7\r\n\r\nFYI\r\n";
	assert_int_equal(eas_session_smart_forward(c.s, c.inbox, a, (const uint8_t *)fwd, sizeof fwd - 1,
						   EAS_COMPOSE_REPLACE_MIME),
			 0);
	until(&c, EAS_EVENT_MAIL_SENT);
	sync_folder(&b, b.inbox);
	assert_int_equal(count(&b, b.inbox), 2);
	/* The reply carries the original's text (no ReplaceMime); the forward does not. */
	int replies = 0, forwards = 0;
	for (int i = 0; i < 2; i++) {
		char r[64];
		item_id(&b, b.inbox, i, r);
		body_sink_len = 0;
		assert_int_equal(eas_session_fetch_item(b.s, b.inbox, r, 1, sink, NULL), 0);
		until(&b, EAS_EVENT_FETCHED);
		if (strstr(body_sink, "Yes.")) {
			replies++;
			assert_non_null(strstr(body_sink, "body of mail 7"));
		} else {
			forwards++;
			assert_non_null(strstr(body_sink, "FYI"));
			assert_null(strstr(body_sink, "body of mail 7"));
		}
	}
	assert_int_equal(replies, 1);
	assert_int_equal(forwards, 1);
	/* An unknown original: the server's status ends the operation. */
	assert_int_equal(eas_session_smart_reply(c.s, c.inbox, "1:424242", (const uint8_t *)re_mime, sizeof re_mime - 1, 0),
			 0);
	ev = until(&c, EAS_EVENT_ERROR);
	assert_true(ev.status > 0);
	assert_int_equal(eas_session_smart_reply(c.s, c.inbox, a, NULL, 0, 0), EAS_E_INVALID);
	client_free(&b);
	client_free(&c);
	engine_transport_free(et);
}

/* ---- Settings ------------------------------------------------------------------------------- */

static void test_settings_oof_and_user_info(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	assert_int_equal(eas_session_user_info(c.s), 0);
	eas_session_event ev = until(&c, EAS_EVENT_SETTINGS);
	assert_true(ev.count >= 1);
	assert_string_equal(eas_session_user_address(c.s, 0), "alice@example.test");
	assert_null(eas_session_user_address(c.s, (size_t)ev.count));

	eas_oof o = { EAS_OOF_ON, NULL, NULL, "Away until Monday.", 1 };
	assert_int_equal(eas_session_oof_set(c.s, &o), 0);
	until(&c, EAS_EVENT_SETTINGS);
	assert_null(eas_session_oof(c.s)); /* a Set has nothing to read back */
	assert_int_equal(eas_session_oof_get(c.s), 0);
	until(&c, EAS_EVENT_SETTINGS);
	const eas_oof *got = eas_session_oof(c.s);
	assert_non_null(got);
	assert_int_equal(got->state, EAS_OOF_ON);
	assert_string_equal(got->message, "Away until Monday.");
	assert_int_equal(got->external, 1);

	eas_oof timed = { EAS_OOF_TIMED, "2026-01-02T08:00:00.000Z", "2026-01-09T08:00:00.000Z", "Skiing.", 0 };
	assert_int_equal(eas_session_oof_set(c.s, &timed), 0);
	until(&c, EAS_EVENT_SETTINGS);
	assert_int_equal(eas_session_oof_get(c.s), 0);
	until(&c, EAS_EVENT_SETTINGS);
	got = eas_session_oof(c.s);
	assert_int_equal(got->state, EAS_OOF_TIMED);
	assert_string_equal(got->start_time, "2026-01-02T08:00:00.000Z");
	assert_string_equal(got->message, "Skiing.");
	assert_int_equal(got->external, 0);
	timed.start_time = NULL;
	assert_int_equal(eas_session_oof_set(c.s, &timed), EAS_E_INVALID);
	client_free(&c);
	engine_transport_free(et);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_move_in_fifo_order, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_move_refusals, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_move_repeated_after_lost_answer, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_folder_operations, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_smart_reply_forward_and_fetch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_settings_oof_and_user_info, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
