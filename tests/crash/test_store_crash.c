/*
 * Crash safety of the SQLite state store, at the store level: a child
 * process applies "sync responses" as the synchronizer does (one transaction
 * each: new items, a replay of items already stored, the SyncKey bump) and
 * queues local changes, while the parent SIGKILLs it at random instants
 * (30 kills, seeded: EAS_CRASH_SEED=n to repeat a run).  After every kill the
 * parent reopens the database and checks:
 *
 *   - the folder's SyncKey "k<N>" and the "count" value say N, and the folder
 *     holds exactly the items i0 .. i<N-1>, each once: the state before or
 *     after a transaction, never a mix;
 *   - every change whose change_add() returned (the child reported its id
 *     through a pipe only after that) is still queued;
 *   - SQLite's integrity_check passes.
 *
 * A last run without a kill proves the child makes progress and the
 * database stays usable after all those crashes.
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

#define KILLS 30
#define MAX_DELAY_MS 60
#define MAX_BATCH 40
#define FOLDER "F"

typedef struct msg {
	int64_t kind; /* 'O' opened, 'C' a change id */
	int64_t value;
} msg;

static char dir[64], path[128];

/* xorshift64*: the same seed gives the same batches and kill delays */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ull;
}

/* ---- the child: a synchronizer that never stops by itself ------------------------------- */

static void die(const char *what, int rc)
{
	fprintf(stderr, "child: %s: %s\n", what, eas_strerror(rc));
	_exit(2);
}

static void send_msg(int fd, int64_t kind, int64_t value)
{
	msg m = { kind, value };
	if (write(fd, &m, sizeof m) != (ssize_t)sizeof m)
		_exit(3);
}

static uint64_t key_count(const char *key)
{
	return key[0] == 'k' ? strtoull(key + 1, NULL, 10) : UINT64_MAX;
}

static void put(eas_store *st, const char *what, uint64_t i)
{
	char id[32], data[48];
	snprintf(id, sizeof id, "i%llu", (unsigned long long)i);
	snprintf(data, sizeof data, "%s item %llu", what, (unsigned long long)i);
	eas_store_item it;
	memset(&it, 0, sizeof it);
	it.folder_id = FOLDER;
	it.server_id = id;
	it.class_name = "Email";
	it.data = (const uint8_t *)data;
	it.data_len = strlen(data);
	int rc = st->item_put(st, &it);
	if (rc)
		die("item_put", rc);
}

static void set_folder(eas_store *st, uint64_t n)
{
	char key[32];
	snprintf(key, sizeof key, "k%llu", (unsigned long long)n);
	eas_store_folder f;
	memset(&f, 0, sizeof f);
	f.server_id = FOLDER;
	f.parent_id = "0";
	f.display_name = "Inbox";
	f.type = 2;
	f.sync_key = key;
	f.class_name = "Email";
	f.sync_wanted = 1;
	int rc = st->folder_put(st, &f);
	if (rc)
		die("folder_put", rc);
}

/* transactions < 0: until killed */
static void child(int fd, uint64_t seed, long transactions)
{
	eas_store *st;
	int rc = eas_store_sqlite_open(&st, path, NULL);
	if (rc)
		die("open", rc);
	eas_store_folder f;
	if ((rc = st->folder_get(st, FOLDER, &f)) == EAS_E_NOTFOUND)
		set_folder(st, 0);
	else if (rc)
		die("folder_get", rc);
	send_msg(fd, 'O', 0);
	for (long t = 0; transactions < 0 || t < transactions; t++) {
		if ((rc = st->folder_get(st, FOLDER, &f)))
			die("folder_get", rc);
		uint64_t n = key_count(f.sync_key), m = 1 + next_rand(&seed) % MAX_BATCH;
		if ((rc = st->begin(st)))
			die("begin", rc);
		for (uint64_t i = 0; i < m; i++)
			put(st, "new", n + i);
		/* the replay of a response partly applied before: upserts, no duplicates */
		for (uint64_t i = 1; i <= 2 && i <= n; i++)
			put(st, "replayed", n - i);
		char count[32];
		snprintf(count, sizeof count, "%llu", (unsigned long long)(n + m));
		if ((rc = st->value_set(st, "count", count)))
			die("value_set", rc);
		set_folder(st, n + m);
		if ((rc = st->commit(st)))
			die("commit", rc);
		if (n + m > 0 && t % 3 == 0) {
			/* the app marks a mail read: durable once change_add returns */
			char id[32];
			snprintf(id, sizeof id, "i%llu", (unsigned long long)(next_rand(&seed) % (n + m)));
			eas_store_change c;
			memset(&c, 0, sizeof c);
			c.kind = EAS_STORE_CHANGE_READ;
			c.folder_id = FOLDER;
			c.server_id = id;
			c.value = 1;
			int64_t cid;
			if ((rc = st->change_add(st, &c, &cid)))
				die("change_add", rc);
			send_msg(fd, 'C', cid);
		}
	}
	st->close(st);
	_exit(0);
}

/* ---- the parent: kill, reopen, check ----------------------------------------------------- */

typedef struct seen {
	int64_t *ids;
	size_t n, cap;
} seen;

typedef struct check {
	uint8_t *have;
	uint64_t n, listed;
	int bad;
} check;

static int check_item(const eas_store_item *it, void *ud)
{
	check *c = ud;
	c->listed++;
	char *end;
	unsigned long long v = strtoull(it->server_id + 1, &end, 10);
	if (it->server_id[0] != 'i' || *end || v >= c->n || c->have[v]) {
		c->bad = 1;
		return 1;
	}
	c->have[v] = 1;
	return 0;
}

typedef struct queued {
	const seen *s;
	uint8_t *found;
} queued;

static int check_change(const eas_store_change *c, void *ud)
{
	queued *q = ud;
	for (size_t i = 0; i < q->s->n; i++)
		if (q->s->ids[i] == c->id)
			q->found[i] = 1;
	return 0;
}

/* Checks the invariant; returns N. */
static uint64_t verify(const seen *s)
{
	eas_store *st;
	int rc = eas_store_sqlite_open(&st, path, NULL);
	assert_int_equal(rc, 0);
	eas_store_folder f;
	rc = st->folder_get(st, FOLDER, &f);
	if (rc == EAS_E_NOTFOUND) {
		/* killed before the folder was first created: nothing else may exist */
		assert_int_equal(s->n, 0);
		st->close(st);
		return 0;
	}
	assert_int_equal(rc, 0);
	uint64_t n = key_count(f.sync_key), count = 0;
	assert_true(n != UINT64_MAX);
	char v[32];
	if (n) {
		assert_int_equal(st->value_get(st, "count", v, sizeof v), 0);
		assert_int_equal(strtoull(v, NULL, 10), n);
	}
	assert_int_equal(st->item_count(st, FOLDER, &count), 0);
	assert_int_equal(count, n);
	check c = { calloc(n + 1, 1), n, 0, 0 };
	assert_non_null(c.have);
	assert_int_equal(st->item_list(st, FOLDER, check_item, &c), 0);
	assert_false(c.bad);
	assert_int_equal(c.listed, n);
	free(c.have);
	queued q = { s, calloc(s->n + 1, 1) };
	assert_non_null(q.found);
	assert_int_equal(st->change_list(st, NULL, check_change, &q), 0);
	for (size_t i = 0; i < s->n; i++)
		if (!q.found[i])
			fail_msg("change %lld returned by change_add is gone", (long long)s->ids[i]);
	free(q.found);
	st->close(st);

	sqlite3 *db;
	sqlite3_stmt *qs;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &qs, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(qs), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(qs, 0), "ok");
	sqlite3_finalize(qs);
	sqlite3_close(db);
	return n;
}

/* Reads the child's messages until EOF (it is dead) or, with wait_open, its 'O'. */
static int drain(int fd, seen *s, int wait_open)
{
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		int r = poll(&p, 1, 30000);
		assert_true(r > 0); /* a child silent for 30 s is stuck */
		msg m;
		ssize_t got = read(fd, &m, sizeof m);
		if (got < 0 && errno == EINTR)
			continue;
		if (got == 0)
			return 0;
		assert_int_equal(got, sizeof m);
		if (m.kind == 'O') {
			if (wait_open)
				return 1;
		} else {
			assert_int_equal(m.kind, 'C');
			if (s->n == s->cap) {
				s->cap = s->cap ? s->cap * 2 : 64;
				s->ids = realloc(s->ids, s->cap * sizeof *s->ids);
				assert_non_null(s->ids);
			}
			s->ids[s->n++] = m.value;
		}
	}
}

static pid_t spawn(int *fd, uint64_t seed, long transactions)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		child(p[1], seed, transactions);
	}
	close(p[1]);
	*fd = p[0];
	return pid;
}

static void test_kill_anywhere(void **state)
{
	(void)state;
	uint64_t seed = 20240611;
	const char *env = getenv("EAS_CRASH_SEED");
	if (env && *env)
		seed = strtoull(env, NULL, 10);
	print_message("seed %llu (EAS_CRASH_SEED to repeat)\n", (unsigned long long)seed);
	uint64_t rng = seed | 1;
	seen s = { NULL, 0, 0 };
	uint64_t n = 0;
	for (int k = 0; k < KILLS; k++) {
		int fd;
		pid_t pid = spawn(&fd, next_rand(&rng), -1);
		/* the first kills may land before open finished: creating the schema is a transaction too */
		if (k >= 3)
			assert_int_equal(drain(fd, &s, 1), 1);
		struct timespec d = { 0, (long)(next_rand(&rng) % (MAX_DELAY_MS * 1000u)) * 1000L };
		nanosleep(&d, NULL);
		assert_int_equal(kill(pid, SIGKILL), 0);
		int status;
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
			fail_msg("kill %d: the child ended by itself (status %d)", k, status);
		drain(fd, &s, 0);
		close(fd);
		uint64_t now = verify(&s);
		assert_true(now >= n); /* committed work never goes away */
		n = now;
	}
	/* a last run to the end: progress, and the store still works */
	int fd;
	pid_t pid = spawn(&fd, next_rand(&rng), 20);
	drain(fd, &s, 0);
	close(fd);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	uint64_t last = verify(&s);
	assert_true(last >= n + 20);
	print_message("%d kills, %llu items, %zu queued changes survived\n", KILLS, (unsigned long long)last, s.n);
	free(s.ids);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/eas-crash-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state.db", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", path, suffix[i]);
		unlink(p);
	}
	rmdir(dir);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_kill_anywhere, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
