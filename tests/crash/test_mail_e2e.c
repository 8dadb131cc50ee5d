/*
 * Every command the client has, through the PUBLIC API only (eas_session,
 * eas/sync.h, eas/mail.h, the SQLite store, the libcurl transport), against
 * a real eas-server PROCESS on loopback (tests/support/server_proc):
 *
 *   Provision, FolderSync, Sync of a seeded mailbox with the server STOPPED
 *   in the middle and started again on a new port (a new session over the
 *   same store finishes it: every item once), a second device of the same
 *   user ending with the same items, FolderCreate/Update/Delete, local
 *   Read/Flag/Delete/Move, GetItemEstimate, ItemOperations (an item's body
 *   and an attachment), SendMail/SmartReply/SmartForward reaching a second
 *   local user, Settings (Oof set then get, UserInformation), and a Ping
 *   woken by `eas-server deliver`.
 *
 * Bounded: every wait has a deadline; the server is stopped and its
 * directory removed at the end.
 *
 *   test_mail_e2e PATH-TO-eas-server
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "eas/email.h"
#include "eas/mail.h"
#include "eas/session.h"
#include "eas/store_sqlite.h"
#include "eas/sync.h"
#include "eas/transport_curl.h"
#include "server_proc.h"

#define EMAILS 240
#define STEP_TIMEOUT_MS 90000u
#define BOB "bob"

static const char *server_exe;
static server_proc sp;

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- a client over the public API ------------------------------------------------------------ */

typedef struct cl {
	eas_session *s;
	eas_store *store;
	eas_curl_transport *curl;
	unsigned moved, failed, pushes;
	uint64_t items_seen;
	uint64_t stop_server_at; /* stop eas-server once this many items arrived (0: never) */
} cl;

typedef struct ferry {
	eas_session *s;
	int done;
} ferry;

static int on_head(int status, const eas_http_header *headers, size_t count, void *ud)
{
	return eas_session_response_head(((ferry *)ud)->s, status, headers, count);
}

static int on_body(const unsigned char *data, size_t len, void *ud)
{
	return eas_session_response_body(((ferry *)ud)->s, data, len);
}

static void on_complete(int error, const char *detail, void *ud)
{
	(void)detail;
	ferry *f = ud;
	eas_session_response_end(f->s, error);
	f->done = 1;
}

/* One request and its answer (or a wait for a backoff); the events stay queued. */
static void ferry_one(cl *c, uint64_t deadline)
{
	const eas_http_request *req = NULL;
	uint64_t now = now_ms();
	eas_session_next_request(c->s, &req, now);
	if (!req) {
		uint64_t wait = eas_session_next_timeout(c->s, now);
		wait = wait < 100 ? wait : 100;
		struct timespec ts = { 0, (long)wait * 1000000L };
		nanosleep(&ts, NULL);
		return;
	}
	ferry f = { c->s, 0 };
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
	h.on_head = on_head;
	h.on_body = on_body;
	h.on_complete = on_complete;
	h.user_data = &f;
	eas_transport *t = eas_curl_transport_base(c->curl);
	eas_http_request_id id = 0;
	int rc = t->submit(&id, t, req, &h);
	if (rc) {
		eas_session_response_end(c->s, rc);
		return;
	}
	while (!f.done) {
		if (now_ms() > deadline) {
			t->cancel(t, id);
			fail_msg("request still unanswered at the deadline");
		}
		eas_curl_transport_run(c->curl, 100);
	}
}

/* Runs until an event of type (EAS_EVENT_ERROR fails the test unless type is ERROR). */
static eas_session_event until(cl *c, eas_event_type type)
{
	uint64_t deadline = now_ms() + STEP_TIMEOUT_MS;
	for (;;) {
		eas_session_event ev;
		while (eas_session_next_event(c->s, &ev) == 1) {
			if (getenv("E2E_VERBOSE"))
				fprintf(stderr, "event %d: %s\n", ev.type, ev.message);
			if (ev.type == EAS_EVENT_ITEM_MOVED)
				c->moved++;
			if (ev.type == EAS_EVENT_CHANGE_FAILED)
				c->failed++;
			if (ev.type == EAS_EVENT_PUSH)
				c->pushes++;
			if (ev.type == EAS_EVENT_POLICY)
				assert_int_equal(eas_session_accept_policy(c->s, 1), 0);
			if (ev.type == type)
				return ev;
			if (ev.type == EAS_EVENT_ERROR || ev.type == EAS_EVENT_AUTH_FAILED)
				fail_msg("waiting for event %d: error %d (status %d): %s", type, ev.error, ev.status,
					 ev.message);
		}
		if (!eas_session_busy(c->s))
			fail_msg("the session went idle before event %d", type);
		if (now_ms() > deadline)
			fail_msg("no event %d before the deadline", type);
		ferry_one(c, deadline);
	}
}

static int item_seen(const eas_store_item *item, int is_change, void *ud)
{
	(void)item;
	(void)is_change;
	cl *c = ud;
	if (++c->items_seen == c->stop_server_at)
		server_proc_stop(&sp); /* mid-sync: the answers of the next requests never come */
	return 0;
}

static void cl_open(cl *c, const char *user, const char *device, eas_store *store)
{
	memset(c, 0, sizeof *c);
	c->store = store;
	eas_curl_transport_options topt = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	topt.allow_plain_http = 1; /* loopback only */
	assert_int_equal(eas_curl_transport_new(&c->curl, &topt), 0);
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = sp.url;
	a.user = user;
	a.password = SERVER_PROC_PASSWORD;
	a.device_id = device;
	a.device_type = "E2EClient";
	a.allow_plain_http = 1;
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.max_retries = 1;
	o.request_timeout_ms = 30000;
	assert_int_equal(eas_session_new(&c->s, &a, &o), 0);
	assert_int_equal(eas_session_set_store(c->s, store), 0);
	eas_sync_callbacks cb;
	memset(&cb, 0, sizeof cb);
	cb.version = EAS_SYNC_CALLBACKS_VERSION;
	cb.item_changed = item_seen;
	cb.user_data = c;
	assert_int_equal(eas_session_set_sync_callbacks(c->s, &cb), 0);
	eas_sync_settings set = EAS_SYNC_SETTINGS_INIT;
	set.window_size = 40;
	assert_int_equal(eas_session_set_sync_settings(c->s, &set), 0);
	assert_int_equal(eas_session_connect(c->s), 0);
	until(c, EAS_EVENT_READY);
}

/* Closes the session and transport; the store stays (closed by the caller). */
static void cl_close(cl *c)
{
	eas_session_set_store(c->s, NULL);
	eas_session_free(c->s);
	eas_curl_transport_free(c->curl);
	c->s = NULL;
	c->curl = NULL;
}

static void sync_all(cl *c)
{
	assert_int_equal(eas_session_sync(c->s, NULL, 0), 0);
	until(c, EAS_EVENT_SYNC_DONE);
}

static void sync_one(cl *c, const char *folder)
{
	const char *ids[] = { folder };
	assert_int_equal(eas_session_sync(c->s, ids, 1), 0);
	until(c, EAS_EVENT_SYNC_DONE);
}

/* ---- looking at stores ----------------------------------------------------------------------- */

typedef struct idset {
	char **ids;
	size_t n;
} idset;

static int collect_id(const eas_store_item *it, void *ud)
{
	idset *s = ud;
	s->ids = realloc(s->ids, (s->n + 1) * sizeof *s->ids);
	s->ids[s->n++] = strdup(it->server_id);
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static idset ids_of(eas_store *st, const char *folder)
{
	idset s = { NULL, 0 };
	assert_int_equal(st->item_list(st, folder, collect_id, &s), 0);
	if (s.n)
		qsort(s.ids, s.n, sizeof *s.ids, cmp_str);
	return s;
}

static void idset_free(idset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
}

typedef struct folder_list {
	char ids[64][64];
	size_t n;
} folder_list;

static int collect_folder(const eas_store_folder *f, void *ud)
{
	folder_list *l = ud;
	if (l->n < 64 && f->sync_wanted && f->class_name && strcmp(f->class_name, "Email") == 0)
		snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", f->server_id);
	return 0;
}

/* Same mail folders, same items (each once: ids are unique keys), on both devices; the total. */
static uint64_t assert_same_items(eas_store *a, eas_store *b)
{
	folder_list fa, fb;
	memset(&fa, 0, sizeof fa);
	memset(&fb, 0, sizeof fb);
	assert_int_equal(a->folder_list(a, collect_folder, &fa), 0);
	assert_int_equal(b->folder_list(b, collect_folder, &fb), 0);
	assert_int_equal(fa.n, fb.n);
	uint64_t total = 0;
	for (size_t i = 0; i < fa.n; i++) {
		idset x = ids_of(a, fa.ids[i]), y = ids_of(b, fa.ids[i]);
		assert_int_equal(x.n, y.n);
		for (size_t k = 0; k < x.n; k++)
			assert_string_equal(x.ids[k], y.ids[k]);
		total += x.n;
		idset_free(&x);
		idset_free(&y);
	}
	return total;
}

typedef struct type_find {
	uint32_t type;
	char *out;
} type_find;

static int find_type(const eas_store_folder *f, void *ud)
{
	type_find *t = ud;
	if (f->type == t->type)
		snprintf(t->out, 64, "%s", f->server_id);
	return 0;
}

/* The folder of a FolderHierarchy Type (2 Inbox, 4 Deleted Items, 5 Sent Items). */
static void folder_of_type(eas_store *st, uint32_t type, char *out)
{
	out[0] = '\0';
	type_find t = { type, out };
	assert_int_equal(st->folder_list(st, find_type, &t), 0);
	assert_true(out[0]);
}

static void inbox_of(eas_store *st, char *out)
{
	folder_of_type(st, 2, out);
}

typedef struct nth {
	size_t want, seen;
	char id[64];
	char file_reference[256]; /* with_attachment: the first attachment's */
	int with_attachment;
} nth;

static int take_nth(const eas_store_item *it, void *ud)
{
	nth *n = ud;
	if (n->with_attachment) {
		eas_email e;
		char err[128];
		if (eas_email_decode(&e, it->data, it->data_len, NULL, err, sizeof err) != 0)
			return 0;
		int found = e.attachment_count && e.attachments[0].file_reference;
		if (found) {
			snprintf(n->id, sizeof n->id, "%s", it->server_id);
			snprintf(n->file_reference, sizeof n->file_reference, "%s", e.attachments[0].file_reference);
		}
		eas_email_clear(&e);
		return found;
	}
	if (n->seen++ != n->want)
		return 0;
	snprintf(n->id, sizeof n->id, "%s", it->server_id);
	return 1;
}

static void nth_id(eas_store *st, const char *folder, size_t i, char *out)
{
	nth n;
	memset(&n, 0, sizeof n);
	n.want = i;
	st->item_list(st, folder, take_nth, &n);
	assert_true(n.id[0]);
	strcpy(out, n.id);
}

static uint64_t count_in(eas_store *st, const char *folder)
{
	uint64_t n = 0;
	assert_int_equal(st->item_count(st, folder, &n), 0);
	return n;
}

static void queue(cl *c, eas_store_change_kind kind, const char *folder, const char *id, int value, const char *dest)
{
	eas_store_change ch;
	memset(&ch, 0, sizeof ch);
	ch.kind = kind;
	ch.folder_id = folder;
	ch.server_id = id;
	ch.value = value;
	ch.dest_folder_id = dest;
	assert_int_equal(eas_session_queue_change(c->s, &ch, NULL), 0);
}

static char fetched[16384];
static size_t fetched_len;

static int sink(const uint8_t *bytes, size_t len, void *ud)
{
	(void)ud;
	if (fetched_len + len >= sizeof fetched)
		return EAS_E_LIMIT;
	memcpy(fetched + fetched_len, bytes, len);
	fetched_len += len;
	fetched[fetched_len] = '\0';
	return 0;
}

/* ---- the test -------------------------------------------------------------------------------- */

static void test_every_command(void **state)
{
	(void)state;
	assert_int_equal(server_proc_seed(&sp, server_exe, EMAILS), 0);
	char pw[128], db[128];
	snprintf(pw, sizeof pw, "%s/pw", sp.dir);
	char *add_bob[] = { (char *)server_exe, "user", "add", BOB, "--password-file", pw, "--data-dir", sp.data, NULL };
	assert_int_equal(server_proc_run(add_bob, 60), 0);
	assert_int_equal(server_proc_start(&sp), 0);
	char first_url[sizeof sp.url];
	strcpy(first_url, sp.url);

	/* Device A: Provision, FolderSync, Sync; the server stops in the middle of the mailbox. */
	snprintf(db, sizeof db, "%s/a.db", sp.dir);
	eas_store *sa;
	assert_int_equal(eas_store_sqlite_open(&sa, db, NULL), 0);
	cl a;
	cl_open(&a, SERVER_PROC_USER, "E2EDEVA", sa);
	a.stop_server_at = EMAILS / 3;
	assert_int_equal(eas_session_sync(a.s, NULL, 0), 0);
	eas_session_event ev = until(&a, EAS_EVENT_ERROR);
	assert_int_equal(sp.pid, 0); /* it was stopped, and the client saw the failure */
	assert_true(a.items_seen >= EMAILS / 3 && a.items_seen < EMAILS);
	cl_close(&a);

	/* Started again (a new port): a new session over the same store completes the sync. */
	assert_int_equal(server_proc_start(&sp), 0);
	cl_open(&a, SERVER_PROC_USER, "E2EDEVA", sa);
	sync_all(&a);

	/* Device B of the same user: the same items, each once. */
	eas_store *sb;
	assert_int_equal(eas_store_memory_new(&sb, NULL), 0);
	cl b;
	cl_open(&b, SERVER_PROC_USER, "E2EDEVB", sb);
	sync_all(&b);
	assert_int_equal(assert_same_items(sa, sb), EMAILS);

	/* Folders. */
	char archive[64], tmp[64];
	assert_int_equal(eas_session_folder_create(a.s, "0", "Archive", 12), 0);
	ev = until(&a, EAS_EVENT_FOLDER_CHANGED);
	strcpy(archive, ev.folder_id);
	assert_int_equal(eas_session_folder_update(a.s, archive, "0", "Archive 2026"), 0);
	until(&a, EAS_EVENT_FOLDER_CHANGED);
	eas_store_folder f;
	assert_int_equal(sa->folder_get(sa, archive, &f), 0);
	assert_string_equal(f.display_name, "Archive 2026");
	assert_int_equal(eas_session_folder_create(a.s, archive, "Tmp", 12), 0);
	ev = until(&a, EAS_EVENT_FOLDER_CHANGED);
	strcpy(tmp, ev.folder_id);
	assert_int_equal(eas_session_folder_delete(a.s, tmp), 0);
	until(&a, EAS_EVENT_FOLDER_CHANGED);
	assert_int_equal(sa->folder_get(sa, tmp, &f), EAS_E_NOTFOUND);

	/* Local changes: read, flag, delete, move. */
	char inbox[64], i0[64], i1[64], i2[64], i3[64];
	inbox_of(sa, inbox);
	uint64_t in_before = count_in(sa, inbox);
	nth_id(sa, inbox, 0, i0);
	nth_id(sa, inbox, 1, i1);
	nth_id(sa, inbox, 2, i2);
	nth_id(sa, inbox, 3, i3);
	queue(&a, EAS_STORE_CHANGE_READ, inbox, i0, 1, NULL);
	queue(&a, EAS_STORE_CHANGE_FLAG, inbox, i1, 2, NULL);
	queue(&a, EAS_STORE_CHANGE_DELETE, inbox, i2, 0, NULL);
	queue(&a, EAS_STORE_CHANGE_MOVE, inbox, i3, 0, archive);
	sync_one(&a, inbox);
	assert_int_equal(a.moved, 1);
	assert_int_equal(a.failed, 0);
	assert_int_equal(count_in(sa, inbox), in_before - 2);
	assert_int_equal(count_in(sa, archive), 1);

	/* GetItemEstimate: nothing left to fetch. */
	const char *est[] = { inbox };
	assert_int_equal(eas_session_estimate(a.s, est, 1), 0);
	ev = until(&a, EAS_EVENT_ESTIMATE);
	assert_string_equal(ev.folder_id, inbox);
	assert_int_equal(ev.estimate, 0);

	/* ItemOperations: an item's body, an attachment. */
	fetched_len = 0;
	assert_int_equal(eas_session_fetch_item(a.s, inbox, i0, 1, sink, NULL), 0);
	ev = until(&a, EAS_EVENT_FETCHED);
	assert_true(fetched_len > 0);
	assert_int_equal(ev.bytes, fetched_len);
	nth att;
	memset(&att, 0, sizeof att);
	att.with_attachment = 1;
	sa->item_list(sa, inbox, take_nth, &att);
	assert_true(att.file_reference[0]);
	fetched_len = 0;
	assert_int_equal(eas_session_fetch_attachment(a.s, att.file_reference, sink, NULL), 0);
	until(&a, EAS_EVENT_FETCHED);
	assert_non_null(strstr(fetched, "demo attachment of mail"));

	/* SendMail, SmartReply, SmartForward to the second local user. */
	static const char mail[] = "From: crash@localhost\r\nTo: bob@localhost\r\nSubject: e2e hello\r\n\r\nHi Bob.\r\n";
	static const char re[] = "From: crash@localhost\r\nTo: bob@localhost\r\nSubject: e2e reply\r\n\r\nSee below.\r\n";
	static const char fw[] = "From: crash@localhost\r\nTo: bob@localhost\r\nSubject: e2e forward\r\n\r\nFYI.\r\n";
	assert_int_equal(eas_session_send_mail(a.s, (const uint8_t *)mail, sizeof mail - 1, 1), 0);
	until(&a, EAS_EVENT_MAIL_SENT);
	assert_int_equal(eas_session_smart_reply(a.s, inbox, i0, (const uint8_t *)re, sizeof re - 1, 0), 0);
	until(&a, EAS_EVENT_MAIL_SENT);
	assert_int_equal(eas_session_smart_forward(a.s, inbox, i1, (const uint8_t *)fw, sizeof fw - 1,
						   EAS_COMPOSE_SAVE_IN_SENT),
			 0);
	until(&a, EAS_EVENT_MAIL_SENT);
	eas_store *sbob;
	assert_int_equal(eas_store_memory_new(&sbob, NULL), 0);
	cl bob;
	cl_open(&bob, BOB, "E2EBOB", sbob);
	sync_all(&bob);
	char bob_inbox[64];
	inbox_of(sbob, bob_inbox);
	assert_int_equal(count_in(sbob, bob_inbox), 3);
	cl_close(&bob);
	sbob->close(sbob);

	/* Settings: Oof set then get; the user's address. */
	eas_oof oof = { EAS_OOF_ON, NULL, NULL, "Out until Monday.", 0 };
	assert_int_equal(eas_session_oof_set(a.s, &oof), 0);
	until(&a, EAS_EVENT_SETTINGS);
	assert_int_equal(eas_session_oof_get(a.s), 0);
	until(&a, EAS_EVENT_SETTINGS);
	assert_non_null(eas_session_oof(a.s));
	assert_int_equal(eas_session_oof(a.s)->state, EAS_OOF_ON);
	assert_string_equal(eas_session_oof(a.s)->message, "Out until Monday.");
	assert_int_equal(eas_session_user_info(a.s), 0);
	until(&a, EAS_EVENT_SETTINGS);
	assert_non_null(eas_session_user_address(a.s, 0));

	/* Both devices end consistent (B learns the new folder, the move, the delete). */
	assert_int_equal(eas_session_sync_folders(b.s), 0);
	until(&b, EAS_EVENT_FOLDERS_SYNCED);
	sync_all(&b);
	sync_all(&a);
	/* The deleted mail went to Deleted Items (DeletesAsMoves); the SendMail and the forward are in Sent Items. */
	assert_int_equal(assert_same_items(sa, sb), EMAILS + 2);
	assert_int_equal(count_in(sb, archive), 1);
	char sent[64], trash[64];
	folder_of_type(sb, 5, sent);
	folder_of_type(sb, 4, trash);
	assert_int_equal(count_in(sb, sent), 2);
	assert_int_equal(count_in(sb, trash), 1);

	/* Push: a Ping woken by `eas-server deliver`. */
	char eml[128];
	snprintf(eml, sizeof eml, "%s/push.eml", sp.dir);
	FILE *fp = fopen(eml, "w");
	assert_non_null(fp);
	fputs("From: far@elsewhere.test\r\nTo: crash@localhost\r\nSubject: pushed\r\n\r\nwake up\r\n", fp);
	fclose(fp);
	uint64_t in_now = count_in(sa, inbox);
	assert_int_equal(eas_session_push(a.s, "loopback"), 0);
	pid_t child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		sleep(2); /* the Ping is held by then */
		char *deliver[] = { (char *)server_exe, "deliver", SERVER_PROC_USER, eml, "--data-dir", sp.data, NULL };
		_exit(server_proc_run(deliver, 60) == 0 ? 0 : 1);
	}
	ev = until(&a, EAS_EVENT_PUSH);
	until(&a, EAS_EVENT_SYNC_DONE);
	int status = 0;
	assert_true(server_proc_wait(child, &status, 60000));
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(count_in(sa, inbox), in_now + 1);
	eas_session_cancel(a.s);

	cl_close(&b);
	sb->close(sb);
	cl_close(&a);
	sa->close(sa);
	assert_string_not_equal(first_url, sp.url); /* the restart did take a new port */
	server_proc_cleanup(&sp);
}

static int teardown(void **state)
{
	(void)state;
	server_proc_cleanup(&sp);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s PATH-TO-eas-server\n", argv[0]);
		return 2;
	}
	server_exe = argv[1];
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_every_command, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
