/*
 * The client sync engine end to end against the companion server's engine
 * in the same process (tests/support/engine_transport over server_fixture):
 * connect (OPTIONS, Provision), FolderSync, a seeded Inbox of a few hundred
 * mails synced in pages, a local Read change visible on the server, a
 * client Add, two devices of one user staying consistent, a Sync broken in
 * the middle of a body, a resync after a lost key, and a Ping woken by mail
 * delivered on the server.
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
#include "eas/session.h"
#include "eas/sync.h"
#include "engine_transport.h"
#include "server_fixture.h"
#include "xmldoc.h"

#define URL "https://mail.example.test:8443/Microsoft-Server-ActiveSync"

/* The protocol version the next client_new() asks for (0: the highest offered, 16.1). */
static unsigned c_versions;

typedef struct client {
	eas_session *s;
	eas_store *store;
	engine_transport *et;
	char inbox[EAS_MSTORE_ID_SIZE];
	unsigned pushes;
} client;

static void seed_mail(fx *f, int64_t user, const char *folder, int i)
{
	char xml[512];
	snprintf(xml, sizeof xml,
		 "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\"><email:Subject>mail %d</email:Subject>"
		 "<email:From>a@example.test</email:From><email:DateReceived>2023-11-14T10:00:%02d.000Z"
		 "</email:DateReceived><email:Read>0</email:Read></ApplicationData>", i, i % 60);
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
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(f->store->item_add(id, f->store, user, folder, &d, NULL), 0);
	eas_buf_free(&doc);
}

static void server_inbox(fx *f, int64_t user, char *out)
{
	eas_mstore_folder folder;
	assert_int_equal(f->store->folder_find_default(&folder, f->store, user, 2), 0);
	strcpy(out, folder.server_id);
}

/* Runs the session until idle (or timeout_ms of fake time); returns eas_session_run's result. */
static int run(client *c, uint32_t timeout_ms)
{
	return eas_session_run(c->s, engine_transport_base(c->et), engine_transport_pump, c->et, timeout_ms);
}

/* Runs and reads events until one of type (an error event fails the test). */
static eas_session_event until(client *c, eas_event_type type)
{
	for (int round = 0; round < 50; round++) {
		run(c, 3600000);
		eas_session_event ev;
		while (eas_session_next_event(c->s, &ev) == 1) {
			if (getenv("E2E_VERBOSE"))
				fprintf(stderr, "event %d: %s\n", ev.type, ev.message);
			if (ev.type == type)
				return ev;
			if (ev.type == EAS_EVENT_ERROR)
				fail_msg("error event %d (status %d): %s", ev.error, ev.status, ev.message);
			if (ev.type == EAS_EVENT_POLICY)
				assert_int_equal(eas_session_accept_policy(c->s, 1), 0);
			if (ev.type == EAS_EVENT_PUSH)
				c->pushes++;
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
	a.versions = c_versions;
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &f->plat;
	assert_int_equal(eas_session_new(&c->s, &a, &o), 0);
	assert_int_equal(eas_store_memory_new(&c->store, NULL), 0);
	assert_int_equal(eas_session_set_store(c->s, c->store), 0);
	assert_int_equal(eas_session_connect(c->s), 0);
	until(c, EAS_EVENT_READY);
	assert_int_equal(eas_session_protocol_version(c->s), c_versions ? c_versions : EAS_PROTO_16_1);
	assert_int_equal(eas_session_sync_folders(c->s), 0);
	until(c, EAS_EVENT_FOLDERS_SYNCED);
	/* The client's Inbox: the folder of type 2. */
	eas_mstore_folder sf;
	int64_t uid = strcmp(user, "alice") == 0 ? f->alice : f->bob;
	assert_int_equal(f->store->folder_find_default(&sf, f->store, uid, 2), 0);
	snprintf(c->inbox, sizeof c->inbox, "%s", sf.server_id);
	eas_store_folder cf;
	assert_int_equal(c->store->folder_get(c->store, c->inbox, &cf), 0);
	assert_int_equal(cf.type, 2);
}

static void client_free(client *c)
{
	eas_session_free(c->s);
	c->store->close(c->store);
}

static uint64_t count(client *c)
{
	uint64_t n = 0;
	c->store->item_count(c->store, c->inbox, &n);
	return n;
}

static void sync_inbox(client *c)
{
	const char *ids[] = { c->inbox };
	assert_int_equal(eas_session_sync(c->s, ids, 1), 0);
	until(c, EAS_EVENT_SYNC_DONE);
}

typedef struct first_item {
	char id[64];
	int read;
} first_item;

static int take_first(const eas_store_item *it, void *ud)
{
	first_item *fi = ud;
	snprintf(fi->id, sizeof fi->id, "%s", it->server_id);
	fi->read = it->read;
	return 1;
}

static int server_folder_count(const eas_mstore_folder *folder, void *ud)
{
	(void)folder;
	(*(size_t *)ud)++;
	return 0;
}

static int client_folder_count(const eas_store_folder *folder, void *ud)
{
	(void)folder;
	(*(size_t *)ud)++;
	return 0;
}

/* ---- tests ---------------------------------------------------------------------------------- */

static void test_folder_sync_and_paged_inbox(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	server_inbox(f, f->alice, inbox);
	for (int i = 0; i < 320; i++)
		seed_mail(f, f->alice, inbox, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	size_t sn = 0, cn = 0;
	f->store->folder_list(f->store, f->alice, server_folder_count, &sn);
	c.store->folder_list(c.store, client_folder_count, &cn);
	assert_true(sn >= 5);
	assert_int_equal(cn, sn); /* the whole tree */

	eas_sync_settings set = EAS_SYNC_SETTINGS_INIT;
	set.window_size = 50;
	assert_int_equal(eas_session_set_sync_settings(c.s, &set), 0);
	size_t before = engine_transport_count(et, "Sync");
	const char *ids[] = { c.inbox };
	assert_int_equal(eas_session_sync(c.s, ids, 1), 0);
	eas_session_event ev = until(&c, EAS_EVENT_SYNC_DONE);
	assert_int_equal(ev.added, 320);
	assert_int_equal(count(&c), 320);
	size_t requests = engine_transport_count(et, "Sync") - before;
	assert_true(requests >= 1 + 320 / 50); /* key 0, then pages of 50 */
	eas_store_folder cf;
	assert_int_equal(c.store->folder_get(c.store, c.inbox, &cf), 0);
	assert_int_equal(cf.more_available, 0);

	/* Nothing new: one request, nothing added. */
	sync_inbox(&c);
	assert_int_equal(count(&c), 320);
	client_free(&c);
	engine_transport_free(et);
}

/* A local Read and a client Add reach the server; the server's item shows them. */
static void test_local_changes_reach_server(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	server_inbox(f, f->alice, inbox);
	for (int i = 0; i < 5; i++)
		seed_mail(f, f->alice, inbox, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	sync_inbox(&c);
	first_item fi;
	c.store->item_list(c.store, c.inbox, take_first, &fi);
	assert_int_equal(fi.read, 0);
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_READ;
	ch.folder_id = c.inbox;
	ch.server_id = fi.id;
	ch.value = 1;
	assert_int_equal(eas_session_queue_change(c.s, &ch, NULL), 0);
	eas_buf doc;
	xmldoc_to_wbxml(&doc, "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\"><email:Subject>from the phone"
			      "</email:Subject><email:Read>1</email:Read></ApplicationData>");
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_ADD;
	ch.folder_id = c.inbox;
	ch.client_id = "phone-1";
	ch.class_name = "Email";
	ch.data = doc.data;
	ch.data_len = doc.len;
	assert_int_equal(eas_session_queue_change(c.s, &ch, NULL), 0);
	eas_buf_free(&doc);
	sync_inbox(&c);
	assert_int_equal(count(&c), 6);

	eas_mstore_item *it = NULL;
	assert_int_equal(f->store->item_get(&it, f->store, f->alice, fi.id, 0), 0);
	char *xml = xmldoc_from_wbxml(it->application_data, it->application_data_len);
	assert_non_null(strstr(xml, "<Read xmlns=\"Email:\">1</Read>"));
	free(xml);
	f->store->release(f->store, it);
	uint64_t n = 0;
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, inbox, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 6); /* the client's Add, once */
	client_free(&c);
	engine_transport_free(et);
}

typedef struct snapshot {
	char ids[64][64];
	int read[64];
	size_t n;
} snapshot;

static int snap_item(const eas_store_item *it, void *ud)
{
	snapshot *s = ud;
	if (s->n < 64) {
		snprintf(s->ids[s->n], sizeof s->ids[s->n], "%s", it->server_id);
		s->read[s->n++] = it->read;
	}
	return 0;
}

static int find_read(const snapshot *s, const char *id)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], id) == 0)
			return s->read[i];
	return -1;
}

/* Two devices of one user: what one does, the other sees; both end with the server's items. */
static void test_two_devices_consistent(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	server_inbox(f, f->alice, inbox);
	for (int i = 0; i < 12; i++)
		seed_mail(f, f->alice, inbox, i);
	client a, b;
	c_versions = EAS_PROTO_14_1; /* one device on 14.1, the other on 16.1 */
	client_new(&a, f, et, "alice", "pw-alice", "DEVA");
	c_versions = 0;
	client_new(&b, f, et, "alice", "pw-alice", "DEVB");
	sync_inbox(&a);
	sync_inbox(&b);
	assert_int_equal(count(&a), 12);
	assert_int_equal(count(&b), 12);
	snapshot sa;
	memset(&sa, 0, sizeof sa);
	a.store->item_list(a.store, a.inbox, snap_item, &sa);
	/* A reads one and deletes another. */
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_READ;
	ch.folder_id = a.inbox;
	ch.server_id = sa.ids[0];
	ch.value = 1;
	assert_int_equal(eas_session_queue_change(a.s, &ch, NULL), 0);
	ch.kind = EAS_STORE_CHANGE_DELETE;
	ch.server_id = sa.ids[1];
	assert_int_equal(eas_session_queue_change(a.s, &ch, NULL), 0);
	sync_inbox(&a);
	assert_int_equal(count(&a), 11);
	/* New mail arrives on the server. */
	seed_mail(f, f->alice, inbox, 100);
	sync_inbox(&a);
	sync_inbox(&b);
	assert_int_equal(count(&a), 12);
	assert_int_equal(count(&b), 12);
	snapshot s1, s2;
	memset(&s1, 0, sizeof s1);
	memset(&s2, 0, sizeof s2);
	a.store->item_list(a.store, a.inbox, snap_item, &s1);
	b.store->item_list(b.store, b.inbox, snap_item, &s2);
	assert_int_equal(s1.n, s2.n);
	for (size_t i = 0; i < s1.n; i++)
		assert_int_equal(find_read(&s2, s1.ids[i]), s1.read[i]); /* same items, same Read */
	assert_int_equal(find_read(&s2, sa.ids[0]), 1);
	assert_int_equal(find_read(&s2, sa.ids[1]), -1);
	client_free(&a);
	client_free(&b);
	engine_transport_free(et);
}

/* A body broken halfway and a key the server no longer knows: the end state is still exact. */
static void test_broken_body_and_resync(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	server_inbox(f, f->alice, inbox);
	for (int i = 0; i < 40; i++)
		seed_mail(f, f->alice, inbox, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	const char *ids[] = { c.inbox };
	assert_int_equal(eas_session_sync(c.s, ids, 1), 0);
	/* The key-0 answer is short; the next, with the 40 mails, breaks in the middle. */
	run(&c, 1);
	engine_transport_cut_next(et, 900);
	until(&c, EAS_EVENT_SYNC_DONE);
	assert_int_equal(count(&c), 40);

	/* The client's key is unknown to the server (e.g. an old backup restored): Status 3, resync. */
	eas_store_folder cf;
	assert_int_equal(c.store->folder_get(c.store, c.inbox, &cf), 0);
	char parent[64], name[128], cls[32];
	snprintf(parent, sizeof parent, "%s", cf.parent_id);
	snprintf(name, sizeof name, "%s", cf.display_name);
	snprintf(cls, sizeof cls, "%s", cf.class_name);
	cf.parent_id = parent;
	cf.display_name = name;
	cf.class_name = cls;
	cf.sync_key = "{bogus}9";
	assert_int_equal(c.store->folder_put(c.store, &cf), 0);
	seed_mail(f, f->alice, inbox, 41);
	sync_inbox(&c);
	assert_int_equal(count(&c), 41); /* each once */
	client_free(&c);
	engine_transport_free(et);
}

/* GetItemEstimate and SendMail against the companion server. */
static void test_estimate_and_send_mail(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	char inbox[EAS_MSTORE_ID_SIZE];
	server_inbox(f, f->alice, inbox);
	for (int i = 0; i < 30; i++)
		seed_mail(f, f->alice, inbox, i);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	const char *ids[] = { c.inbox };
	assert_int_equal(eas_session_estimate(c.s, ids, 1), 0);
	eas_session_event ev = until(&c, EAS_EVENT_ESTIMATE);
	assert_string_equal(ev.folder_id, c.inbox);
	assert_int_equal(ev.estimate, 30);
	sync_inbox(&c);
	assert_int_equal(count(&c), 30);

	static const char msg[] = "From: alice@example.test\r\nTo: bob@example.test\r\nSubject: e2e\r\n\r\nHello\r\n";
	assert_int_equal(eas_session_send_mail(c.s, (const uint8_t *)msg, sizeof msg - 1, 1), 0);
	until(&c, EAS_EVENT_MAIL_SENT);
	eas_mstore_folder sent;
	assert_int_equal(f->store->folder_find_default(&sent, f->store, f->alice, 5), 0);
	uint64_t n = 0;
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, sent.server_id, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 1); /* saved in Sent Items */
	client_free(&c);
	engine_transport_free(et);
}

/* What happens while the client waits in a held Ping (the pump is where the app gets control). */
typedef struct push_pump {
	engine_transport *et;
	fx *f;
	client *c;
	char inbox[EAS_MSTORE_ID_SIZE];
	int deliver;           /* deliver a mail on the server once a Ping is held */
	const eas_store_change *change; /* queue this local change once a Ping is held */
	unsigned done_while_held;
	uint64_t queued_at, synced_at; /* fake time of the change, of the Sync that carried it */
	size_t syncs_before;
} push_pump;

static int pump_push(void *ctx, uint32_t max_ms)
{
	push_pump *p = ctx;
	if (engine_transport_held(p->et)) {
		if (p->deliver) {
			p->deliver = 0;
			seed_mail(p->f, p->f->alice, p->inbox, 2); /* wakes the held Ping */
			p->done_while_held++;
		}
		if (p->change) {
			p->syncs_before = engine_transport_count(p->et, "Sync");
			assert_int_equal(eas_session_queue_change(p->c->s, p->change, NULL), 0);
			assert_int_equal(eas_session_interrupt_pending(p->c->s), 1);
			p->change = NULL;
			p->done_while_held++;
			p->queued_at = p->f->now_ms;
			return 0; /* back to the loop at once, as an app's pump does for a UI event */
		}
	}
	if (p->queued_at && !p->synced_at && engine_transport_count(p->et, "Sync") > p->syncs_before)
		p->synced_at = p->f->now_ms;
	return engine_transport_pump(p->et, max_ms);
}

/* Runs push in slices of fake time until an event of type. */
static eas_session_event push_until(push_pump *p, eas_event_type type)
{
	for (int i = 0; i < 100; i++) {
		eas_session_run(p->c->s, engine_transport_base(p->et), pump_push, p, 5 * 60 * 1000);
		eas_session_event ev;
		while (eas_session_next_event(p->c->s, &ev) == 1) {
			if (ev.type == EAS_EVENT_PUSH)
				p->c->pushes++;
			if (ev.type == type)
				return ev;
			if (ev.type == EAS_EVENT_ERROR)
				fail_msg("push ended: %s", ev.message);
		}
	}
	fail_msg("no event %d", type);
	return (eas_session_event){ 0 };
}

/* Push: the Ping is held; mail delivered on the server wakes it; the Sync brings the mail. */
static void test_ping_woken_by_delivery(void **state)
{
	fx *f = *state;
	engine_transport *et = engine_transport_new(f);
	push_pump p;
	memset(&p, 0, sizeof p);
	p.et = et;
	p.f = f;
	server_inbox(f, f->alice, p.inbox);
	seed_mail(f, f->alice, p.inbox, 1);
	client c;
	client_new(&c, f, et, "alice", "pw-alice", "DEVA");
	p.c = &c;
	assert_int_equal(eas_session_push(c.s, "wifi"), 0);
	push_until(&p, EAS_EVENT_SYNC_DONE); /* the catch-up */
	assert_int_equal(count(&c), 1);
	/* Idle for an hour: Pings are held to their heartbeat (status 1), which climbs. */
	size_t pings = engine_transport_count(et, "Ping");
	for (int i = 0; i < 12; i++)
		assert_int_equal(eas_session_run(c.s, engine_transport_base(et), pump_push, &p, 5 * 60 * 1000), EAS_E_IO);
	eas_session_event ev;
	while (eas_session_next_event(c.s, &ev) == 1)
		assert_int_not_equal(ev.type, EAS_EVENT_ERROR);
	assert_true(engine_transport_count(et, "Ping") > pings + 2);
	char hb[64] = "";
	c.store->value_get(c.store, "heartbeat:wifi", hb, sizeof hb);
	assert_true(hb[0] != '\0' && strncmp(hb, "0,", 2) != 0); /* something survived and was kept */

	/* Mail arrives while the Ping is held: it answers 2, the client syncs the Inbox, Pings again. */
	p.deliver = 1;
	ev = push_until(&p, EAS_EVENT_SYNC_DONE);
	assert_int_equal(p.done_while_held, 1);
	assert_int_equal(ev.added, 1);
	assert_int_equal(c.pushes, 1);
	assert_int_equal(count(&c), 2);

	/* A local change interrupts the held Ping at once and reaches the server. */
	first_item fi;
	c.store->item_list(c.store, c.inbox, take_first, &fi);
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = EAS_STORE_CHANGE_READ;
	ch.folder_id = c.inbox;
	ch.server_id = fi.id;
	ch.value = 1;
	p.change = &ch;
	push_until(&p, EAS_EVENT_SYNC_DONE);
	assert_int_equal(p.done_while_held, 2);
	assert_true(p.synced_at != 0);
	assert_int_equal(p.synced_at, p.queued_at); /* at once, not after the heartbeat */
	eas_mstore_item *it = NULL;
	assert_int_equal(f->store->item_get(&it, f->store, f->alice, fi.id, 0), 0);
	char *xml = xmldoc_from_wbxml(it->application_data, it->application_data_len);
	assert_non_null(strstr(xml, "<Read xmlns=\"Email:\">1</Read>")); /* on the server */
	free(xml);
	f->store->release(f->store, it);
	eas_session_cancel(c.s);
	client_free(&c);
	engine_transport_free(et);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_folder_sync_and_paged_inbox, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_local_changes_reach_server, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_devices_consistent, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_broken_body_and_resync, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_estimate_and_send_mail, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_woken_by_delivery, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
