/*
 * End-to-end crash safety: a client (public API only: eas_session, the
 * SQLite store, the libcurl transport; tests/support/sync_client.c) syncs
 * from the companion server (eas-server, loopback) and is SIGKILLed at many
 * points, then restarted, as a phone OS kills apps.
 *
 *   download: a 3,000-email mailbox; kills during connect, FolderSync and
 *             the Sync windows.  The end state must be exactly the server's
 *             items (same (folder, ServerId) set), each once, and a further
 *             sync must find nothing new.
 *   upload:   READ changes queued locally in batches, the client killed
 *             while uploading them.  On the server every change is applied
 *             exactly once (its change log has one more entry per item, not
 *             two), every item is read, and the client's queue is empty.
 *
 * Seeded (EAS_CRASH_SEED=n repeats a run); bounded: a fixed number of
 * kills, each child at most 120 s, the server stopped at the end.
 *
 *   test_sync_crash PATH-TO-eas-server
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "eas/store_sqlite.h"
#include "server_proc.h"
#include "sync_client.h"

#define EMAILS 3000
#define DOWNLOAD_KILLS 24
#define UPLOAD_ROUNDS 14
#define UPLOAD_BATCH 25
#define CHILD_TIMEOUT_MS 120000u

static const char *server_exe;
static server_proc sp;
static uint64_t rng;

static uint64_t next_rand(void)
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * 2685821657736338717ull;
}

/* ---- the client process ------------------------------------------------------------------ */

static void report_progress(const sync_client_result *r, void *ud)
{
	int fd = *(int *)ud;
	uint64_t n = r->added + r->changed + r->deleted + 1;
	if (write(fd, &n, sizeof n) < 0)
		_exit(3);
}

/* Runs one client to the end of a sync; reports each applied response on fd. */
static void client_child(const char *db, const char *device, int fd)
{
	eas_store *st;
	int rc = eas_store_sqlite_open(&st, db, NULL);
	if (rc) {
		fprintf(stderr, "client: open: %s\n", eas_strerror(rc));
		_exit(2);
	}
	sync_client_result r;
	rc = sync_client_run(sp.url, device, st, CHILD_TIMEOUT_MS, report_progress, &fd, &r);
	if (rc)
		fprintf(stderr, "client: %s (%s)\n", r.message, eas_strerror(r.error));
	st->close(st);
	_exit(rc ? 1 : 0);
}

typedef struct child {
	pid_t pid;
	int fd;
	int progressed; /* responses applied so far in this run */
} child;

static void spawn(child *c, const char *db, const char *device)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	c->pid = fork();
	assert_true(c->pid >= 0);
	if (c->pid == 0) {
		close(p[0]);
		client_child(db, device, p[1]);
	}
	close(p[1]);
	c->fd = p[0];
	c->progressed = 0;
}

/* Reads progress reports for up to ms; 1 when the child closed its end (it ended). */
static int watch(child *c, unsigned ms)
{
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct timespec t;
		clock_gettime(CLOCK_MONOTONIC, &t);
		long spent = (long)(t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
		if (spent >= (long)ms)
			return 0;
		struct pollfd p = { c->fd, POLLIN, 0 };
		int r = poll(&p, 1, (int)((long)ms - spent));
		if (r <= 0)
			continue;
		uint64_t n;
		ssize_t got = read(c->fd, &n, sizeof n);
		if (got == 0)
			return 1;
		if (got == (ssize_t)sizeof n)
			c->progressed++;
	}
}

/* Waits for the child's end (bounded); its exit status must be 0. */
static void finish(child *c)
{
	while (!watch(c, CHILD_TIMEOUT_MS))
		fail_msg("the client did not finish within %u ms", CHILD_TIMEOUT_MS);
	int status;
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->fd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the client failed (status %d)", status);
}

/* Kills the child now; 1 if it was still running, 0 if it had ended by itself (successfully). */
static int kill_child(child *c)
{
	int status;
	kill(c->pid, SIGKILL);
	assert_int_equal(waitpid(c->pid, &status, 0), c->pid);
	close(c->fd);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the client failed before the kill (status %d)", status);
	return 0;
}

/* ---- what each side holds ------------------------------------------------------------------ */

typedef struct idset {
	char **ids; /* "folder|server_id" */
	size_t n, cap;
} idset;

static void idset_add(idset *s, const char *folder, const char *server_id)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
		assert_non_null(s->ids);
	}
	size_t len = strlen(folder) + strlen(server_id) + 2;
	s->ids[s->n] = malloc(len);
	assert_non_null(s->ids[s->n]);
	snprintf(s->ids[s->n++], len, "%s|%s", folder, server_id);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void idset_free(idset *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->ids[i]);
	free(s->ids);
	memset(s, 0, sizeof *s);
}

static sqlite3 *server_db(void)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(sp.db, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 10000);
	return db;
}

static void server_items(idset *s)
{
	sqlite3 *db = server_db();
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT i.folder_id, i.server_id FROM items i JOIN users u"
					    " ON u.id = i.user_id WHERE u.name = ?1", -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, SERVER_PROC_USER, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW)
		idset_add(s, (const char *)sqlite3_column_text(q, 0), (const char *)sqlite3_column_text(q, 1));
	sqlite3_finalize(q);
	sqlite3_close(db);
	qsort(s->ids, s->n, sizeof *s->ids, cmp_str);
}

typedef struct folder_ids {
	char ids[64][EAS_STORE_ID_MAX + 1];
	size_t n;
} folder_ids;

static int add_folder(const eas_store_folder *f, void *ud)
{
	folder_ids *fl = ud;
	assert_true(fl->n < 64);
	snprintf(fl->ids[fl->n++], EAS_STORE_ID_MAX + 1, "%s", f->server_id);
	return 0;
}

static int add_item(const eas_store_item *it, void *ud)
{
	idset_add(ud, it->folder_id, it->server_id);
	return 0;
}

static void client_items(const char *db, idset *s)
{
	eas_store *st;
	assert_int_equal(eas_store_sqlite_open(&st, db, NULL), 0);
	folder_ids fl;
	fl.n = 0;
	assert_int_equal(st->folder_list(st, add_folder, &fl), 0);
	for (size_t i = 0; i < fl.n; i++)
		assert_int_equal(st->item_list(st, fl.ids[i], add_item, s), 0);
	st->close(st);
	qsort(s->ids, s->n, sizeof *s->ids, cmp_str);
}

/* Global so that a failing assertion (a longjmp) leaves nothing unreachable: freed at the next use and in teardown. */
static idset srv, cli;

/* The client holds exactly the server's items, each once. */
static void assert_same_items(const char *db)
{
	idset_free(&srv);
	idset_free(&cli);
	server_items(&srv);
	client_items(db, &cli);
	assert_true(srv.n >= EMAILS);
	for (size_t i = 1; i < cli.n; i++)
		if (!strcmp(cli.ids[i], cli.ids[i - 1]))
			fail_msg("the client holds %s twice", cli.ids[i]);
	size_t a = 0, b = 0;
	while (a < srv.n || b < cli.n) {
		int c = a == srv.n ? 1 : b == cli.n ? -1 : strcmp(srv.ids[a], cli.ids[b]);
		if (c < 0)
			fail_msg("missing on the client: %s (server %zu items, client %zu)", srv.ids[a], srv.n, cli.n);
		if (c > 0)
			fail_msg("the client holds %s, which the server does not", cli.ids[b]);
		a++;
		b++;
	}
	idset_free(&srv);
	idset_free(&cli);
}

static void assert_db_intact(const char *db_path)
{
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
	sqlite3_finalize(q);
	sqlite3_close(db);
}

/* One sync in this process: it must succeed; *out gets the totals. */
static void sync_here(const char *db, const char *device, sync_client_result *out)
{
	eas_store *st;
	assert_int_equal(eas_store_sqlite_open(&st, db, NULL), 0);
	int rc = sync_client_run(sp.url, device, st, CHILD_TIMEOUT_MS, NULL, NULL, out);
	st->close(st);
	if (rc)
		fail_msg("sync: %s (%s)", out->message, eas_strerror(out->error));
}

/* ---- download ------------------------------------------------------------------------------- */

static void test_download_killed(void **state)
{
	(void)state;
	char db[160];
	snprintf(db, sizeof db, "%s/download.db", sp.dir);
	int kills = 0, mid_sync = 0, done = 0;
	sync_client_window_size = 10; /* hundreds of windows for 3,000 emails: room for every kill */
	for (int round = 0; round < DOWNLOAD_KILLS && !done; round++) {
		child c;
		spawn(&c, db, "crashdown");
		if (round < 4) {
			/* early kills: during connect, Provision, FolderSync */
			done = watch(&c, (unsigned)(next_rand() % 150));
		} else {
			/*
			 * later ones: after 1-3 applied responses, at a random instant
			 * inside the next window.  Kills are placed by progress, not by
			 * time, so a fast or a loaded machine gets the same number of
			 * kills in the middle of the Sync (small windows leave plenty).
			 */
			unsigned want = 1 + (unsigned)(next_rand() % 3);
			while (!done && c.progressed < (int)want)
				done = watch(&c, 50);
			if (!done)
				done = watch(&c, (unsigned)(next_rand() % 10));
		}
		int was_running = kill_child(&c);
		kills += was_running;
		mid_sync += was_running && c.progressed > 0;
		done = !was_running;
		assert_db_intact(db);
	}
	if (!done) {
		child c;
		spawn(&c, db, "crashdown");
		finish(&c);
	}
	print_message("download: %d kills (%d in the middle of the Sync windows)\n", kills, mid_sync);
	assert_true(mid_sync >= 5);
	assert_same_items(db);
	/* and nothing is left to fetch */
	sync_client_result r;
	sync_here(db, "crashdown", &r);
	assert_int_equal(r.added, 0);
	assert_int_equal(r.deleted, 0);
	assert_same_items(db);
}

/* ---- upload ---------------------------------------------------------------------------------- */

typedef struct pick {
	char (*ids)[EAS_STORE_ID_MAX + 1];
	size_t n, want;
} pick;

#define UPLOADS (UPLOAD_ROUNDS * UPLOAD_BATCH)
static char upload_ids[UPLOADS][EAS_STORE_ID_MAX + 1];
static int changes_before[UPLOADS]; /* each item's server change log entries before the upload */

static int pick_unread(const eas_store_item *it, void *ud)
{
	pick *p = ud;
	if (!it->read && p->n < p->want)
		snprintf(p->ids[p->n++], EAS_STORE_ID_MAX + 1, "%s", it->server_id);
	return p->n == p->want;
}

/* The server's change log entries (kind CHANGE) for one item. */
static int server_changes(sqlite3 *db, const char *server_id, int *read)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM changes c WHERE c.user_id = u.id"
					    " AND c.server_id = ?2 AND c.kind = 2), (SELECT read FROM items i"
					    " WHERE i.user_id = u.id AND i.server_id = ?2) FROM users u WHERE u.name = ?1",
					    -1, &q, NULL), SQLITE_OK);
	sqlite3_bind_text(q, 1, SERVER_PROC_USER, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, server_id, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int n = sqlite3_column_int(q, 0);
	*read = sqlite3_column_int(q, 1);
	sqlite3_finalize(q);
	return n;
}

static int count_change(const eas_store_change *c, void *ud)
{
	(void)c;
	(*(size_t *)ud)++;
	return 0;
}

static void test_upload_killed(void **state)
{
	(void)state;
	char db[160];
	snprintf(db, sizeof db, "%s/upload.db", sp.dir);
	sync_client_window_size = 0;
	sync_client_result r;
	sync_here(db, "crashup", &r);
	assert_true(r.added >= EMAILS);

	/* the unread mails of the Inbox ("1"), in batches; each batch queued before a run */
	pick p = { upload_ids, 0, UPLOADS };
	eas_store *st;
	assert_int_equal(eas_store_sqlite_open(&st, db, NULL), 0);
	assert_int_equal(st->item_list(st, "1", pick_unread, &p), EAS_E_CALLBACK);
	st->close(st);
	assert_int_equal(p.n, p.want);
	int *before = changes_before;
	sqlite3 *sdb = server_db();
	for (size_t i = 0; i < p.n; i++) {
		int read;
		before[i] = server_changes(sdb, p.ids[i], &read);
		assert_int_equal(read, 0);
	}
	sqlite3_close(sdb);

	int kills = 0;
	unsigned range_ms = 250;
	for (int round = 0; round < UPLOAD_ROUNDS; round++) {
		assert_int_equal(eas_store_sqlite_open(&st, db, NULL), 0);
		for (size_t i = (size_t)round * UPLOAD_BATCH; i < (size_t)(round + 1) * UPLOAD_BATCH; i++) {
			eas_store_change c;
			memset(&c, 0, sizeof c);
			c.kind = EAS_STORE_CHANGE_READ;
			c.folder_id = "1";
			c.server_id = p.ids[i];
			c.value = 1;
			assert_int_equal(st->change_add(st, &c, NULL), 0);
		}
		st->close(st);
		child c;
		spawn(&c, db, "crashup");
		/*
		 * anywhere from connect to the end of the upload; when the client
		 * ends before its kill, the range halves, so that a fast machine
		 * still gets its kills
		 */
		if (!watch(&c, (unsigned)(next_rand() % range_ms)))
			kills += kill_child(&c);
		else {
			kill_child(&c); /* reaps it: it ended by itself */
			range_ms = range_ms > 10 ? range_ms / 2 : 5;
		}
		assert_db_intact(db);
	}
	child c;
	spawn(&c, db, "crashup");
	finish(&c);
	print_message("upload: %zu READ changes, %d kills\n", p.n, kills);

	/* every change applied once on the server, the queue empty, the client agrees */
	sdb = server_db();
	size_t wrong = 0, unread = 0;
	for (size_t i = 0; i < p.n; i++) {
		int read, n = server_changes(sdb, p.ids[i], &read);
		if (n != before[i] + 1 && wrong++ < 5)
			print_message("item %s: %d server changes instead of 1\n", p.ids[i], n - before[i]);
		unread += !read;
	}
	sqlite3_close(sdb);
	if (wrong || unread)
		fail_msg("%zu of %zu changes not applied exactly once, %zu items unread on the server", wrong, p.n,
			 unread);
	assert_int_equal(eas_store_sqlite_open(&st, db, NULL), 0);
	size_t queued = 0;
	assert_int_equal(st->change_list(st, NULL, count_change, &queued), 0);
	assert_int_equal(queued, 0);
	for (size_t i = 0; i < p.n; i++) {
		eas_store_item it;
		assert_int_equal(st->item_get(st, "1", p.ids[i], &it), 0);
		assert_int_equal(it.read, 1);
	}
	st->close(st);
	assert_same_items(db);
	assert_true(kills >= 5);
}

/* ---- setup ----------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	uint64_t seed = 7031;
	const char *env = getenv("EAS_CRASH_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 10);
	print_message("seed %llu (EAS_CRASH_SEED to repeat)\n", (unsigned long long)seed);
	rng = seed | 1;
	if (server_proc_seed(&sp, server_exe, EMAILS) || server_proc_start(&sp)) {
		server_proc_cleanup(&sp);
		return -1;
	}
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	server_proc_cleanup(&sp);
	idset_free(&srv);
	idset_free(&cli);
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
		cmocka_unit_test(test_download_killed),
		cmocka_unit_test(test_upload_killed),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
