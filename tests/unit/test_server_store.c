/*
 * The companion server's mailbox store (server/store.h) over SQLite:
 * accounts, isolation between users, folders, items and the change log,
 * per-device sync state (replay of the previous key, stale keys), change
 * notification, wipe and provisioning state, bearer tokens, transactions,
 * persistence across reopen, a 10,000-item folder, failing allocations.
 *
 * Every test gets a fresh database in its own temporary directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "eas/sys/platform.h"
#include "server/store.h"
#include "server/store_sqlite.h"
#include "testmem.h"

#define TEST_ITERATIONS 1000u

/* ---- environment ---------------------------------------------------------------- */

static int64_t fake_now = 1700000000;

static uint64_t fake_mono(void *ud) { (void)ud; return (uint64_t)fake_now * 1000u; }
static int64_t fake_wall(void *ud) { (void)ud; return fake_now; }
static int real_random(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	return eas_platform_posix()->random_bytes(buf, len, NULL);
}

static const eas_platform fake_platform = {
	EAS_PLATFORM_VERSION, fake_mono, fake_wall, real_random, NULL, NULL
};

typedef struct env {
	char dir[64];
	char path[128];
	testmem tm;
	eas_mem mem;
	eas_mstore *m;
	int64_t alice, bob;
} env;

static int open_store(env *e, uint32_t iterations)
{
	eas_mstore_sqlite_options o = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	o.path = e->path;
	o.mem = &e->mem;
	o.platform = &fake_platform;
	o.pbkdf2_iterations = iterations;
	o.allow_weak_kdf = 1;
	return eas_mstore_sqlite_open(&e->m, &o);
}

static int setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	snprintf(e->dir, sizeof e->dir, "/tmp/eas-store-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof e->path, "%s/mail.db", e->dir);
	e->mem = testmem_init(&e->tm, -1);
	fake_now = 1700000000;
	assert_int_equal(open_store(e, TEST_ITERATIONS), 0);
	assert_int_equal(e->m->user_add(&e->alice, e->m, "alice", "alice-pw"), 0);
	assert_int_equal(e->m->user_add(&e->bob, e->m, "bob", "bob-pw"), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env *e = *state;
	if (e->m)
		e->m->destroy(e->m);
	assert_int_equal(e->tm.live_blocks, 0);
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", e->path, suffix[i]);
		unlink(p);
	}
	rmdir(e->dir);
	free(e);
	return 0;
}

static void reopen(env *e)
{
	e->m->destroy(e->m);
	e->m = NULL;
	assert_int_equal(open_store(e, TEST_ITERATIONS), 0);
}

/* A raw SQLite connection to the same file, to look at what is stored. */
static sqlite3 *raw(env *e)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static const char *folder_of(env *e, int64_t user, uint32_t type, char *buf)
{
	eas_mstore_folder f;
	assert_int_equal(e->m->folder_find_default(&f, e->m, user, type), 0);
	memcpy(buf, f.server_id, sizeof f.server_id);
	return buf;
}

static eas_mstore_item_data mail(const char *subject, int64_t date)
{
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.application_data = (const uint8_t *)subject;
	d.application_data_len = strlen(subject);
	d.summary.subject = subject;
	d.summary.from = "sender@example.com";
	d.summary.date = date;
	d.summary.size = 1000;
	return d;
}

static void add_mail(env *e, int64_t user, const char *folder, const char *subject, int64_t date,
		     const char *origin, char *out)
{
	eas_mstore_item_data d = mail(subject, date);
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(e->m->item_add(out ? out : id, e->m, user, folder, &d, origin), 0);
}

/* ---- sync helpers -------------------------------------------------------------------- */

#define MAX_GOT 1200

typedef struct got {
	size_t n;
	int kinds[MAX_GOT];
	char ids[MAX_GOT][EAS_MSTORE_ID_SIZE];
	char names[MAX_GOT][EAS_MSTORE_NAME_SIZE];
	char parents[MAX_GOT][EAS_MSTORE_ID_SIZE];
	int fail_at; /* callback fails at this index (-1 never) */
} got;

static int got_cb(const eas_mstore_change *c, void *ud)
{
	got *g = ud;
	if (g->fail_at >= 0 && (size_t)g->fail_at == g->n)
		return 1;
	assert_true(g->n < MAX_GOT);
	g->kinds[g->n] = c->kind;
	snprintf(g->ids[g->n], EAS_MSTORE_ID_SIZE, "%s", c->server_id);
	g->names[g->n][0] = 0;
	g->parents[g->n][0] = 0;
	if (c->kind == EAS_MSTORE_CHANGE_ADD || c->kind == EAS_MSTORE_CHANGE_CHANGE) {
		if (c->folder) {
			assert_null(c->item);
			snprintf(g->names[g->n], EAS_MSTORE_NAME_SIZE, "%s", c->folder->display_name);
			snprintf(g->parents[g->n], EAS_MSTORE_ID_SIZE, "%s", c->folder->parent_id);
			assert_string_equal(c->folder->server_id, c->server_id);
		} else {
			assert_non_null(c->item);
			assert_string_equal(c->item->server_id, c->server_id);
			snprintf(g->names[g->n], EAS_MSTORE_NAME_SIZE, "%s",
				 c->item->summary.subject ? c->item->summary.subject : "");
		}
	} else {
		assert_null(c->item);
		assert_null(c->folder);
	}
	g->n++;
	return 0;
}

static void got_reset(got *g)
{
	g->n = 0;
	g->fail_at = -1;
}

static size_t count_kind(const got *g, int kind)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += g->kinds[i] == kind;
	return n;
}

/*
 * One Sync round trip: check the key (INITIAL or CURRENT), take changes
 * (unless INITIAL on a folder), commit with a response naming the new key;
 * key is updated in place.  Returns MoreAvailable.
 */
static int sync_round(env *e, int64_t user, const char *device, const char *coll, char *key,
		      const eas_mstore_window *w, got *g)
{
	eas_mstore_sync y;
	assert_int_equal(e->m->sync_check(&y, e->m, user, device, coll, key, "Sync"), 0);
	assert_true(y.match == EAS_MSTORE_KEY_INITIAL || y.match == EAS_MSTORE_KEY_CURRENT);
	int more = 0;
	got_reset(g);
	assert_int_equal(e->m->begin(e->m), 0);
	if (!(coll && y.match == EAS_MSTORE_KEY_INITIAL))
		assert_int_equal(e->m->sync_changes(&more, e->m, &y, w, got_cb, g), 0);
	char resp[128];
	int n = snprintf(resp, sizeof resp, "response %s -> %s (%zu)", y.key, y.next_key, g->n);
	assert_int_equal(e->m->sync_commit(e->m, &y, (const uint8_t *)resp, (size_t)n), 0);
	assert_int_equal(e->m->commit(e->m), 0);
	memcpy(key, y.next_key, EAS_MSTORE_ID_SIZE);
	return more;
}

/* ---- helpers' own tests ------------------------------------------------------------ */

static void test_helpers(void **state)
{
	(void)state;
	/* RFC 7914 section 11 / widely published PBKDF2-HMAC-SHA256 vectors */
	static const uint8_t c1[32] = {
		0x12, 0x0f, 0xb6, 0xcf, 0xfc, 0xf8, 0xb3, 0x2c, 0x43, 0xe7, 0x22, 0x52, 0x56, 0xc4, 0xf8, 0x37,
		0xa8, 0x65, 0x48, 0xc9, 0x2c, 0xcc, 0x35, 0x48, 0x08, 0x05, 0x98, 0x7c, 0xb7, 0x0b, 0xe1, 0x7b };
	static const uint8_t c4096[32] = {
		0xc5, 0xe4, 0x78, 0xd5, 0x92, 0x88, 0xc8, 0x41, 0xaa, 0x53, 0x0d, 0xb6, 0x84, 0x5c, 0x4c, 0x8d,
		0x96, 0x28, 0x93, 0xa0, 0x01, 0xce, 0x4e, 0x11, 0xa4, 0x96, 0x38, 0x73, 0xaa, 0x98, 0x13, 0x4a };
	uint8_t out[32];
	assert_int_equal(eas_mstore_pbkdf2(out, "password", 8, (const uint8_t *)"salt", 4, 1), 0);
	assert_memory_equal(out, c1, 32);
	assert_int_equal(eas_mstore_pbkdf2(out, "password", 8, (const uint8_t *)"salt", 4, 4096), 0);
	assert_memory_equal(out, c4096, 32);
	assert_int_equal(eas_mstore_pbkdf2(out, "password", 8, (const uint8_t *)"salt", 4, 0), EAS_E_INVALID);

	/* constant-time compare: right answer whichever byte differs */
	uint8_t a[64], b[64];
	for (int i = 0; i < 64; i++)
		a[i] = b[i] = (uint8_t)(i * 7);
	assert_int_equal(eas_mstore_equal_ct(a, b, 64), 1);
	assert_int_equal(eas_mstore_equal_ct(a, b, 0), 1);
	for (int i = 0; i < 64; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(eas_mstore_equal_ct(a, b, 64), 0);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}

	char gen[33], key[EAS_MSTORE_ID_SIZE];
	uint8_t r[16];
	memset(r, 0xab, sizeof r);
	eas_mstore_key_generation(gen, r);
	assert_string_equal(gen, "abababababababababababababababab");
	eas_mstore_key_format(key, gen, 12);
	assert_string_equal(key, "{abababababababababababababababab}12");
	eas_mstore_key_format(key, gen, INT64_MAX);
	assert_true(strlen(key) <= EAS_MSTORE_ID_MAX);

	assert_true(eas_mstore_folder_type_creatable(1));
	for (uint32_t t = 2; t <= 11; t++)
		assert_false(eas_mstore_folder_type_creatable(t));
	for (uint32_t t = 12; t <= 17; t++)
		assert_true(eas_mstore_folder_type_creatable(t));
	assert_false(eas_mstore_folder_type_creatable(18));
	assert_false(eas_mstore_folder_type_creatable(19));
	assert_true(eas_mstore_valid_text("a", 1));
	assert_false(eas_mstore_valid_text("ab", 1));
	assert_false(eas_mstore_valid_text("", 5));
	assert_false(eas_mstore_valid_text("a\nb", 5));
	assert_string_equal(eas_mstore_result_name(EAS_MSTORE_EXISTS), "exists");
	assert_string_equal(eas_mstore_key_match_name(EAS_MSTORE_KEY_STALE), "stale");
}

/* ---- open, schema, migration ------------------------------------------------------- */

static int migrations_seen;
static int on_migrate(int from, int to, void *ud)
{
	assert_int_equal(to, from + 1);
	migrations_seen++;
	return ud != NULL; /* refuse when asked to */
}

static void test_open_and_migrate(void **state)
{
	env *e = *state;
	eas_mstore *m = NULL;
	eas_mstore_sqlite_options o = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	char path[160];

	/* weak KDF only on purpose; bad options */
	snprintf(path, sizeof path, "%s/other.db", e->dir);
	o.path = path;
	o.pbkdf2_iterations = 10;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_INVALID);
	assert_null(m);
	o.pbkdf2_iterations = 0;
	o.version = 99;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_INVALID);
	o.version = EAS_MSTORE_SQLITE_OPTIONS_VERSION;
	o.path = NULL;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_INVALID);

	/* a refused migration leaves nothing behind */
	o.path = path;
	o.on_migrate = on_migrate;
	o.user_data = (void *)1;
	migrations_seen = 0;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_CALLBACK);
	assert_null(m);

	/* a new database runs 0 -> 1 once; a reopen runs nothing */
	o.user_data = NULL;
	migrations_seen = 0;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), 0);
	assert_int_equal(migrations_seen, EAS_MSTORE_SQLITE_SCHEMA_VERSION);
	m->destroy(m);
	migrations_seen = 0;
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), 0);
	assert_int_equal(migrations_seen, 0);
	m->destroy(m);

	/* WAL, foreign keys, the version row */
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(raw_int(db, "SELECT version FROM schema_version"), EAS_MSTORE_SQLITE_SCHEMA_VERSION);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	/* a database from the future is refused */
	assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_UNSUPPORTED);
	assert_null(m);

	/* not a database */
	snprintf(path, sizeof path, "%s/junk.db", e->dir);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 512; i++)
		fputs("this is not sqlite ", f);
	fclose(f);
	assert_int_equal(eas_mstore_sqlite_open(&m, &o), EAS_E_IO);
	unlink(path);
	snprintf(path, sizeof path, "%s/other.db", e->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/other.db-wal", e->dir);
	unlink(path);
	snprintf(path, sizeof path, "%s/other.db-shm", e->dir);
	unlink(path);
}

/* ---- accounts ---------------------------------------------------------------------- */

static int count_users(const eas_mstore_user *u, void *ud)
{
	assert_true(u->id > 0);
	assert_int_equal(u->iterations, TEST_ITERATIONS);
	(*(int *)ud)++;
	return 0;
}

static void test_accounts(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t id, carol, dave;

	/* the same password twice: different salts, different hashes */
	assert_int_equal(m->user_add(&carol, m, "carol", "same-password"), 0);
	assert_int_equal(m->user_add(&dave, m, "dave@example.com", "same-password"), 0);
	sqlite3 *db = raw(e);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT pw_salt, pw_hash, pw_iterations FROM users"
					    " WHERE name IN ('carol', 'dave@example.com') ORDER BY id", -1, &st, NULL), SQLITE_OK);
	uint8_t salt[2][16], hash[2][32];
	for (int i = 0; i < 2; i++) {
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_bytes(st, 0), 16);
		assert_int_equal(sqlite3_column_bytes(st, 1), 32);
		assert_int_equal(sqlite3_column_int(st, 2), TEST_ITERATIONS);
		memcpy(salt[i], sqlite3_column_blob(st, 0), 16);
		memcpy(hash[i], sqlite3_column_blob(st, 1), 32);
	}
	sqlite3_finalize(st);
	assert_memory_not_equal(salt[0], salt[1], 16);
	assert_memory_not_equal(hash[0], hash[1], 32);
	/* the stored hash is PBKDF2(password, salt) and not the password */
	uint8_t want[32];
	assert_int_equal(eas_mstore_pbkdf2(want, "same-password", 13, salt[0], 16, TEST_ITERATIONS), 0);
	assert_memory_equal(want, hash[0], 32);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM users WHERE instr(pw_hash, 'same-password') > 0"), 0);
	sqlite3_close(db);

	/* verify */
	assert_int_equal(m->user_verify_password(&id, m, "carol", "same-password"), 0);
	assert_int_equal(id, carol);
	assert_int_equal(m->user_verify_password(&id, m, "CAROL", "same-password"), 0);
	assert_int_equal(id, carol);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "same-passworD"), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "Same-password"), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "carol", ""), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "alice-pw"), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "nobody", "same-password"), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "car:ol", "same-password"), EAS_E_AUTH);
	assert_string_not_equal(m->error(m), "");
	assert_int_equal(m->user_verify_password(NULL, m, "carol", "x"), EAS_E_INVALID);

	/* names: unique ignoring case, no ':' or control characters */
	assert_int_equal(m->user_add(&id, m, "Carol", "x"), EAS_E_STATE);
	assert_int_equal(m->user_add(&id, m, "a:b", "x"), EAS_E_INVALID);
	assert_int_equal(m->user_add(&id, m, "", "x"), EAS_E_INVALID);
	assert_int_equal(m->user_add(&id, m, "tab\there", "x"), EAS_E_INVALID);
	assert_int_equal(m->user_add(&id, m, "nopw", ""), EAS_E_INVALID);
	char longname[EAS_MSTORE_NAME_MAX + 2];
	memset(longname, 'n', sizeof longname - 1);
	longname[sizeof longname - 1] = 0;
	assert_int_equal(m->user_add(&id, m, longname, "x"), EAS_E_INVALID);
	longname[EAS_MSTORE_NAME_MAX] = 0;
	assert_int_equal(m->user_add(&id, m, longname, "x"), 0);

	int n = 0;
	assert_int_equal(m->user_list(m, count_users, &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(m->user_lookup(&id, m, "DAVE@example.com"), 0);
	assert_int_equal(id, dave);
	assert_int_equal(m->user_lookup(&id, m, "nobody"), EAS_E_NOTFOUND);

	/* new password: the old one stops working */
	assert_int_equal(m->user_set_password(m, carol, "new-password"), 0);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "same-password"), EAS_E_AUTH);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "new-password"), 0);
	assert_int_equal(m->user_set_password(m, 999999, "x"), EAS_E_NOTFOUND);

	/* delete takes everything of the user with it */
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, carol, EAS_MSTORE_FOLDER_INBOX, inbox);
	add_mail(e, carol, inbox, "for carol", 1, NULL, NULL);
	assert_int_equal(m->device_touch(m, carol, "phone", NULL), 0);
	assert_int_equal(m->user_delete(m, carol), 0);
	assert_int_equal(m->user_delete(m, carol), EAS_E_NOTFOUND);
	assert_int_equal(m->user_verify_password(&id, m, "carol", "new-password"), EAS_E_AUTH);
	db = raw(e);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM folders WHERE user_id NOT IN (SELECT id FROM users)"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM items WHERE user_id NOT IN (SELECT id FROM users)"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM devices WHERE user_id NOT IN (SELECT id FROM users)"), 0);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM changes WHERE user_id NOT IN (SELECT id FROM users)"), 0);
	sqlite3_close(db);
}

static double seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * An unknown name costs the same PBKDF2 work as a wrong password for a known
 * one (no user enumeration by timing).  The comparison itself is
 * eas_mstore_equal_ct, tested above.  Lenient bound: only a missing KDF run
 * (a 100x difference) fails.
 */
static void test_verify_timing(void **state)
{
	env *e = *state;
	e->m->destroy(e->m);
	e->m = NULL;
	assert_int_equal(open_store(e, 20000), 0);
	int64_t id;
	assert_int_equal(e->m->user_add(&id, e->m, "timed", "pw"), 0);
	double known = 1e9, unknown = 1e9;
	for (int i = 0; i < 3; i++) {
		double t0 = seconds();
		assert_int_equal(e->m->user_verify_password(&id, e->m, "timed", "wrong"), EAS_E_AUTH);
		double t1 = seconds();
		assert_int_equal(e->m->user_verify_password(&id, e->m, "untimed", "wrong"), EAS_E_AUTH);
		double t2 = seconds();
		if (t1 - t0 < known)
			known = t1 - t0;
		if (t2 - t1 < unknown)
			unknown = t2 - t1;
	}
	assert_true(unknown > known * 0.25);
	assert_true(known > unknown * 0.25);
}

/* ---- bearer tokens ------------------------------------------------------------------ */

static void test_tokens(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	char t1[EAS_MSTORE_TOKEN_SIZE], t2[EAS_MSTORE_TOKEN_SIZE], t3[EAS_MSTORE_TOKEN_SIZE];
	int64_t id;
	assert_int_equal(m->token_issue(t1, m, e->alice, 0), 0);
	assert_int_equal(m->token_issue(t2, m, e->alice, 3600), 0);
	assert_int_equal(m->token_issue(t3, m, e->bob, 0), 0);
	assert_string_not_equal(t1, t2);
	assert_true(strlen(t1) < EAS_MSTORE_TOKEN_SIZE);
	assert_int_equal(m->token_verify(&id, m, t1), 0);
	assert_int_equal(id, e->alice);
	assert_int_equal(m->token_verify(&id, m, t3), 0);
	assert_int_equal(id, e->bob);
	assert_int_equal(m->token_issue(t3, m, 424242, 0), EAS_E_NOTFOUND);

	/* stored hashed only */
	sqlite3 *db = raw(e);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM tokens WHERE instr(hash, ?1) > 0", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, t1 + 8, 16, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM tokens WHERE length(hash) = 32"), 3);
	sqlite3_close(db);

	/* tampered, truncated, empty */
	char bad[EAS_MSTORE_TOKEN_SIZE];
	memcpy(bad, t1, sizeof bad);
	bad[strlen(bad) - 1] ^= 1;
	assert_int_equal(m->token_verify(&id, m, bad), EAS_E_AUTH);
	bad[10] = 0;
	assert_int_equal(m->token_verify(&id, m, bad), EAS_E_AUTH);
	assert_int_equal(m->token_verify(&id, m, ""), EAS_E_AUTH);
	assert_int_equal(m->token_verify(&id, m, NULL), EAS_E_AUTH);

	/* expiry */
	fake_now += 3599;
	assert_int_equal(m->token_verify(&id, m, t2), 0);
	fake_now += 1;
	assert_int_equal(m->token_verify(&id, m, t2), EAS_E_AUTH);
	assert_int_equal(m->token_verify(&id, m, t1), 0);

	/* revoke: only by the owner */
	assert_int_equal(m->token_revoke(m, e->bob, t1), EAS_E_NOTFOUND);
	assert_int_equal(m->token_verify(&id, m, t1), 0);
	assert_int_equal(m->token_revoke(m, e->alice, t1), 0);
	assert_int_equal(m->token_verify(&id, m, t1), EAS_E_AUTH);
	assert_int_equal(m->token_revoke(m, e->alice, t1), EAS_E_NOTFOUND);
	assert_int_equal(m->token_revoke_all(m, e->bob), 0);
	assert_int_equal(m->token_verify(&id, m, t3), EAS_E_AUTH);

	/* tokens survive a reopen and die with the user */
	assert_int_equal(m->token_issue(t1, m, e->alice, 0), 0);
	reopen(e);
	m = e->m;
	assert_int_equal(m->token_verify(&id, m, t1), 0);
	assert_int_equal(m->user_delete(m, e->alice), 0);
	assert_int_equal(m->token_verify(&id, m, t1), EAS_E_AUTH);
}

/* ---- folders -------------------------------------------------------------------------- */

typedef struct flist {
	size_t n;
	eas_mstore_folder f[64];
} flist;

static int flist_cb(const eas_mstore_folder *f, void *ud)
{
	flist *l = ud;
	assert_true(l->n < 64);
	l->f[l->n++] = *f;
	return 0;
}

static void test_default_folders(void **state)
{
	env *e = *state;
	flist l = { 0 };
	assert_int_equal(e->m->folder_list(e->m, e->alice, flist_cb, &l), 0);
	assert_int_equal(l.n, 10);
	static const char *const names[] = { "Inbox", "Drafts", "Deleted Items", "Sent Items", "Outbox",
					     "Tasks", "Calendar", "Contacts", "Notes", "Journal" };
	for (size_t i = 0; i < 10; i++) {
		assert_int_equal(l.f[i].type, i + 2);
		assert_string_equal(l.f[i].display_name, names[i]);
		assert_string_equal(l.f[i].parent_id, "0");
		assert_int_equal(l.f[i].is_default, 1);
		assert_true(l.f[i].modseq > 0);
		eas_mstore_folder f;
		assert_int_equal(e->m->folder_find_default(&f, e->m, e->alice, (uint32_t)(i + 2)), 0);
		assert_string_equal(f.server_id, l.f[i].server_id);
		assert_int_equal(e->m->folder_get(&f, e->m, e->alice, l.f[i].server_id), 0);
		assert_string_equal(f.display_name, names[i]);
	}
	/* bob has his own ten, with other ids */
	flist b = { 0 };
	assert_int_equal(e->m->folder_list(e->m, e->bob, flist_cb, &b), 0);
	assert_int_equal(b.n, 10);
	for (size_t i = 0; i < 10; i++)
		for (size_t j = 0; j < 10; j++)
			assert_string_not_equal(b.f[i].server_id, l.f[j].server_id);
	eas_mstore_folder f;
	assert_int_equal(e->m->folder_find_default(&f, e->m, e->alice, 12), EAS_E_INVALID);
	assert_int_equal(e->m->folder_get(&f, e->m, e->alice, "0"), EAS_E_NOTFOUND);
	assert_int_equal(e->m->folder_get(&f, e->m, e->alice, "x1"), EAS_E_NOTFOUND);
	assert_int_equal(e->m->folder_get(&f, e->m, e->alice, "01"), EAS_E_NOTFOUND);
}

static void test_folder_ops(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	eas_mstore_result r;
	eas_mstore_folder a, b, c, f;
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, e->alice, EAS_MSTORE_FOLDER_INBOX, inbox);

	assert_int_equal(m->folder_create(&r, &a, m, e->alice, "0", "Projects", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_string_equal(a.parent_id, "0");
	assert_int_equal(a.is_default, 0);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "PROJECTS", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_EXISTS);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "Inbox", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_EXISTS);
	assert_int_equal(m->folder_create(&r, &b, m, e->alice, a.server_id, "2024", 1, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_string_equal(b.parent_id, a.server_id);
	assert_int_equal(m->folder_create(&r, &c, m, e->alice, b.server_id, "Q1", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, inbox, "Projects", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK); /* the same name under another parent is fine */
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "999999", "x", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_PARENT_NOT_FOUND);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "x", 2, NULL), EAS_E_INVALID);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "x", 19, NULL), EAS_E_INVALID);
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "", 12, NULL), EAS_E_INVALID);
	assert_int_equal(m->folder_create(&r, &f, m, 12345, "0", "x", 12, NULL), EAS_E_NOTFOUND);

	/* list: parents before children */
	flist l = { 0 };
	assert_int_equal(m->folder_list(m, e->alice, flist_cb, &l), 0);
	assert_int_equal(l.n, 14);
	for (size_t i = 0; i < l.n; i++) {
		if (strcmp(l.f[i].parent_id, "0") == 0)
			continue;
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(l.f[j].server_id, l.f[i].parent_id) == 0;
		assert_true(seen);
	}

	/* update: rename, move, refusals */
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, "0", "Archive 2024", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_int_equal(m->folder_get(&f, m, e->alice, b.server_id), 0);
	assert_string_equal(f.display_name, "Archive 2024");
	assert_string_equal(f.parent_id, "0");
	assert_true(f.modseq > b.modseq);
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, "0", "projects", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_EXISTS);
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, "0", "archive 2024", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK); /* its own name in another case */
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, c.server_id, "x", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_INVALID_PARENT);
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, b.server_id, "x", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_INVALID_PARENT);
	assert_int_equal(m->folder_update(&r, m, e->alice, b.server_id, "424242", "x", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_PARENT_NOT_FOUND);
	assert_int_equal(m->folder_update(&r, m, e->alice, inbox, "0", "Renamed", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_SPECIAL_FOLDER);
	assert_int_equal(m->folder_update(&r, m, e->alice, "424242", "0", "x", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_update(&r, m, e->alice, c.server_id, a.server_id, "Q1", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);

	/* delete: subtree with items */
	char item[EAS_MSTORE_ID_SIZE];
	add_mail(e, e->alice, c.server_id, "deep", 5, NULL, item);
	assert_int_equal(m->folder_delete(&r, m, e->alice, inbox, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_SPECIAL_FOLDER);
	assert_int_equal(m->folder_delete(&r, m, e->alice, a.server_id, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_int_equal(m->folder_get(&f, m, e->alice, a.server_id), EAS_E_NOTFOUND);
	assert_int_equal(m->folder_get(&f, m, e->alice, c.server_id), EAS_E_NOTFOUND);
	eas_mstore_item *it;
	assert_int_equal(m->item_get(&it, m, e->alice, item, 0), EAS_E_NOTFOUND);
	assert_int_equal(m->folder_delete(&r, m, e->alice, a.server_id, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_get(&f, m, e->alice, b.server_id), 0);

	/* ids are never reused */
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "Projects", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_string_not_equal(f.server_id, a.server_id);
	assert_string_not_equal(f.server_id, c.server_id);

	/* empty: items, then subfolders too */
	eas_mstore_folder sub;
	assert_int_equal(m->folder_create(&r, &sub, m, e->alice, f.server_id, "Sub", 12, NULL), 0);
	add_mail(e, e->alice, f.server_id, "one", 1, NULL, NULL);
	add_mail(e, e->alice, f.server_id, "two", 2, NULL, NULL);
	add_mail(e, e->alice, sub.server_id, "three", 3, NULL, NULL);
	uint64_t count;
	assert_int_equal(m->folder_empty(&r, m, e->alice, f.server_id, 0, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_int_equal(m->item_list(&count, m, e->alice, f.server_id, 0, 0, NULL, NULL), 0);
	assert_int_equal(count, 0);
	assert_int_equal(m->item_list(&count, m, e->alice, sub.server_id, 0, 0, NULL, NULL), 0);
	assert_int_equal(count, 1);
	assert_int_equal(m->folder_empty(&r, m, e->alice, f.server_id, 1, NULL), 0);
	assert_int_equal(m->folder_get(&f, m, e->alice, sub.server_id), EAS_E_NOTFOUND);
	assert_int_equal(m->folder_empty(&r, m, e->alice, "424242", 1, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
}

/* ---- items and the change log ------------------------------------------------------------ */

typedef struct loglist {
	size_t n;
	int kinds[64];
	int is_folder[64];
	char folders[64][EAS_MSTORE_ID_SIZE];
	char ids[64][EAS_MSTORE_ID_SIZE];
	int64_t last;
} loglist;

static int log_cb(const eas_mstore_log_entry *le, void *ud)
{
	loglist *l = ud;
	assert_true(l->n < 64);
	assert_true(le->seq > l->last);
	l->last = le->seq;
	l->kinds[l->n] = le->kind;
	l->is_folder[l->n] = le->is_folder;
	snprintf(l->folders[l->n], EAS_MSTORE_ID_SIZE, "%s", le->folder_id);
	snprintf(l->ids[l->n], EAS_MSTORE_ID_SIZE, "%s", le->server_id);
	l->n++;
	return 0;
}

static void test_items_and_log(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	char inbox[EAS_MSTORE_ID_SIZE], deleted[EAS_MSTORE_ID_SIZE], contacts[EAS_MSTORE_ID_SIZE];
	folder_of(e, e->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	folder_of(e, e->alice, EAS_MSTORE_FOLDER_DELETED, deleted);
	folder_of(e, e->alice, EAS_MSTORE_FOLDER_CONTACTS, contacts);
	int64_t since;
	assert_int_equal(m->log_since(&since, m, e->alice, NULL, 0, NULL, NULL), 0);
	assert_true(since > 0); /* the default folders are logged */

	/* an email with body and two attachments */
	static const uint8_t appdata[] = { 0x45, 0x03, 'h', 'i', 0x00, 0x01, 0x00, 0xff }; /* any bytes */
	static const uint8_t body[] = "From: a@b\r\nSubject: hi\r\n\r\nbody text";
	static const uint8_t png[] = { 0x89, 'P', 'N', 'G', 0, 1, 2, 3, 4, 5 };
	eas_mstore_attachment_data att[2];
	memset(att, 0, sizeof att);
	att[0].name = "pic.png";
	att[0].content_type = "image/png";
	att[0].content_id = "cid1";
	att[0].is_inline = 1;
	att[0].data = png;
	att[0].len = sizeof png;
	att[1].name = "empty.txt";
	eas_mstore_item_data d = mail("hello", 1000);
	d.application_data = appdata;
	d.application_data_len = sizeof appdata;
	d.summary.read = 1;
	d.summary.flag_status = 2;
	d.body_type = 4;
	d.body = body;
	d.body_len = sizeof body - 1;
	d.attachments = att;
	d.attachment_count = 2;
	char id1[EAS_MSTORE_ID_SIZE], id2[EAS_MSTORE_ID_SIZE], id3[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_add(id1, m, e->alice, inbox, &d, NULL), 0);
	char want[2 * EAS_MSTORE_ID_SIZE];
	snprintf(want, sizeof want, "%s:1", inbox);
	assert_string_equal(id1, want);
	add_mail(e, e->alice, inbox, "second", 2000, NULL, id2);
	snprintf(want, sizeof want, "%s:2", inbox);
	assert_string_equal(id2, want);

	/* a contact: class and ApplicationData bytes round-trip untouched */
	static const uint8_t vcard_like[] = { 0x03, 0x01, 0x6a, 0x00, 0x00, 0x01, 0x45, 0x5f, 0x03, 'A', 'n', 'n', 0, 1, 1 };
	eas_mstore_item_data cd;
	memset(&cd, 0, sizeof cd);
	cd.class_name = "Contacts";
	cd.application_data = vcard_like;
	cd.application_data_len = sizeof vcard_like;
	assert_int_equal(m->item_add(id3, m, e->alice, contacts, &cd, NULL), 0);
	eas_mstore_item *it;
	assert_int_equal(m->item_get(&it, m, e->alice, id3, EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS), 0);
	assert_string_equal(it->class_name, "Contacts");
	assert_int_equal(it->application_data_len, sizeof vcard_like);
	assert_memory_equal(it->application_data, vcard_like, sizeof vcard_like);
	assert_null(it->summary.subject);
	assert_null(it->body);
	assert_int_equal(it->attachment_count, 0);
	m->release(m, it);

	/* full read back */
	assert_int_equal(m->item_get(&it, m, e->alice, id1, EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS), 0);
	assert_string_equal(it->server_id, id1);
	assert_string_equal(it->folder_id, inbox);
	assert_string_equal(it->class_name, "Email");
	assert_memory_equal(it->application_data, appdata, sizeof appdata);
	assert_string_equal(it->summary.subject, "hello");
	assert_string_equal(it->summary.from, "sender@example.com");
	assert_int_equal(it->summary.date, 1000);
	assert_int_equal(it->summary.read, 1);
	assert_int_equal(it->summary.flag_status, 2);
	assert_int_equal(it->summary.size, 1000);
	assert_int_equal(it->body_type, 4);
	assert_int_equal(it->body_size, sizeof body - 1);
	assert_memory_equal(it->body, body, sizeof body - 1);
	assert_int_equal(it->attachment_count, 2);
	assert_string_equal(it->attachments[0].name, "pic.png");
	assert_string_equal(it->attachments[0].content_type, "image/png");
	assert_string_equal(it->attachments[0].content_id, "cid1");
	assert_int_equal(it->attachments[0].is_inline, 1);
	assert_int_equal(it->attachments[0].method, 1);
	assert_int_equal(it->attachments[0].size, sizeof png);
	assert_null(it->attachments[1].content_type);
	assert_int_equal(it->attachments[1].size, 0);
	char ref0[EAS_MSTORE_ID_SIZE], ref1[EAS_MSTORE_ID_SIZE];
	snprintf(ref0, sizeof ref0, "%s", it->attachments[0].file_reference);
	snprintf(ref1, sizeof ref1, "%s", it->attachments[1].file_reference);
	int64_t modseq1 = it->modseq;
	m->release(m, it);
	assert_int_equal(m->item_get(&it, m, e->alice, id1, 0), 0);
	assert_null(it->body);
	assert_null(it->attachments);
	assert_int_equal(it->attachment_count, 2);
	m->release(m, it);

	/* ranged reads */
	uint8_t buf[64];
	size_t n;
	assert_int_equal(m->item_body_read(&n, m, e->alice, id1, 0, buf, 4), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "From", 4);
	assert_int_equal(m->item_body_read(&n, m, e->alice, id1, sizeof body - 5, buf, sizeof buf), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "text", 4);
	assert_int_equal(m->item_body_read(&n, m, e->alice, id1, sizeof body + 10, buf, sizeof buf), 0);
	assert_int_equal(n, 0);
	assert_int_equal(m->item_body_read(&n, m, e->alice, id2, 0, buf, sizeof buf), 0);
	assert_int_equal(n, 0);
	assert_int_equal(m->attachment_read(&n, m, e->alice, ref0, 1, buf, 3), 0);
	assert_int_equal(n, 3);
	assert_memory_equal(buf, "PNG", 3);
	assert_int_equal(m->attachment_read(&n, m, e->alice, ref1, 0, buf, 3), 0);
	assert_int_equal(n, 0);
	eas_mstore_attachment *a;
	assert_int_equal(m->attachment_get(&a, m, e->alice, ref0), 0);
	assert_string_equal(a->name, "pic.png");
	assert_string_equal(a->file_reference, ref0);
	m->release(m, a);
	assert_int_equal(m->attachment_get(&a, m, e->alice, "nope"), EAS_E_NOTFOUND);

	/* change only some fields */
	eas_mstore_item_data ch;
	memset(&ch, 0, sizeof ch);
	ch.summary.read = 0;
	assert_int_equal(m->item_change(m, e->alice, id1, &ch, EAS_MSTORE_SET_READ, NULL), 0);
	assert_int_equal(m->item_get(&it, m, e->alice, id1, 0), 0);
	assert_int_equal(it->summary.read, 0);
	assert_int_equal(it->summary.flag_status, 2);
	assert_string_equal(it->summary.subject, "hello");
	assert_memory_equal(it->application_data, appdata, sizeof appdata);
	assert_true(it->modseq > modseq1);
	m->release(m, it);
	ch = mail("hello again", 1500);
	assert_int_equal(m->item_change(m, e->alice, id1, &ch,
					EAS_MSTORE_SET_APPDATA | EAS_MSTORE_SET_SUMMARY | EAS_MSTORE_SET_BODY, NULL), 0);
	assert_int_equal(m->item_get(&it, m, e->alice, id1, EAS_MSTORE_GET_BODY), 0);
	assert_string_equal(it->summary.subject, "hello again");
	assert_int_equal(it->application_data_len, strlen("hello again"));
	assert_int_equal(it->body_size, 0);
	assert_null(it->body);
	assert_int_equal(it->attachment_count, 2);
	m->release(m, it);
	assert_int_equal(m->item_change(m, e->alice, id1, &ch, EAS_MSTORE_SET_ATTACHMENTS, NULL), 0);
	assert_int_equal(m->attachment_get(&a, m, e->alice, ref0), EAS_E_NOTFOUND);
	assert_int_equal(m->item_change(m, e->alice, "nope:1", &ch, EAS_MSTORE_SET_READ, NULL), EAS_E_NOTFOUND);
	assert_int_equal(m->item_change(m, e->alice, id1, &ch, 0x100, NULL), EAS_E_INVALID);

	/* move: new id in the destination; attachments follow with the same reference */
	ch.attachments = att;
	ch.attachment_count = 1;
	assert_int_equal(m->item_change(m, e->alice, id2, &ch, EAS_MSTORE_SET_ATTACHMENTS, NULL), 0);
	assert_int_equal(m->item_get(&it, m, e->alice, id2, EAS_MSTORE_GET_ATTACHMENTS), 0);
	snprintf(ref0, sizeof ref0, "%s", it->attachments[0].file_reference);
	m->release(m, it);
	eas_mstore_result r;
	char moved[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_move(&r, moved, m, e->alice, id2, deleted, inbox, NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND); /* not in that source */
	assert_int_equal(m->item_move(&r, moved, m, e->alice, id2, inbox, inbox, NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_SAME_FOLDER);
	assert_int_equal(m->item_move(&r, moved, m, e->alice, id2, inbox, "424242", NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_DEST_NOT_FOUND);
	assert_int_equal(m->item_move(&r, moved, m, e->alice, id2, inbox, deleted, NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	snprintf(want, sizeof want, "%s:1", deleted);
	assert_string_equal(moved, want);
	assert_int_equal(m->item_get(&it, m, e->alice, id2, 0), EAS_E_NOTFOUND);
	assert_int_equal(m->item_get(&it, m, e->alice, moved, 0), 0);
	assert_string_equal(it->folder_id, deleted);
	m->release(m, it);
	assert_int_equal(m->attachment_read(&n, m, e->alice, ref0, 0, buf, 4), 0);
	assert_memory_equal(buf, png, 4);

	/* delete; the next id in inbox is not reused */
	assert_int_equal(m->item_delete(m, e->alice, id1, NULL), 0);
	assert_int_equal(m->item_delete(m, e->alice, id1, NULL), EAS_E_NOTFOUND);
	char id4[EAS_MSTORE_ID_SIZE];
	add_mail(e, e->alice, inbox, "third", 3000, NULL, id4);
	snprintf(want, sizeof want, "%s:3", inbox);
	assert_string_equal(id4, want);

	/* the log, all folders and inbox only */
	loglist l;
	memset(&l, 0, sizeof l);
	int64_t last;
	assert_int_equal(m->log_since(&last, m, e->alice, NULL, since, log_cb, &l), 0);
	static const int kinds[] = { EAS_MSTORE_CHANGE_ADD, EAS_MSTORE_CHANGE_ADD, EAS_MSTORE_CHANGE_ADD, /* id1 id2 id3 */
				     EAS_MSTORE_CHANGE_CHANGE, EAS_MSTORE_CHANGE_CHANGE, EAS_MSTORE_CHANGE_CHANGE, /* id1 x3 */
				     EAS_MSTORE_CHANGE_CHANGE, /* id2 attachments */
				     EAS_MSTORE_CHANGE_DELETE, EAS_MSTORE_CHANGE_ADD, /* move */
				     EAS_MSTORE_CHANGE_DELETE, EAS_MSTORE_CHANGE_ADD };
	assert_int_equal(l.n, sizeof kinds / sizeof kinds[0]);
	for (size_t i = 0; i < l.n; i++) {
		assert_int_equal(l.kinds[i], kinds[i]);
		assert_int_equal(l.is_folder[i], 0);
	}
	assert_string_equal(l.ids[0], id1);
	assert_string_equal(l.ids[2], id3);
	assert_string_equal(l.folders[2], contacts);
	assert_string_equal(l.ids[7], id2);
	assert_string_equal(l.folders[7], inbox);
	assert_string_equal(l.ids[8], moved);
	assert_string_equal(l.folders[8], deleted);
	assert_int_equal(last, l.last);
	memset(&l, 0, sizeof l);
	assert_int_equal(m->log_since(NULL, m, e->alice, inbox, since, log_cb, &l), 0);
	assert_int_equal(l.n, 9);
	memset(&l, 0, sizeof l);
	assert_int_equal(m->log_since(&last, m, e->alice, NULL, last, log_cb, &l), 0);
	assert_int_equal(l.n, 0);

	/* folder changes are in the log too */
	eas_mstore_folder f;
	assert_int_equal(m->folder_create(&r, &f, m, e->alice, "0", "New", 12, NULL), 0);
	memset(&l, 0, sizeof l);
	assert_int_equal(m->log_since(NULL, m, e->alice, NULL, last, log_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(l.is_folder[0], 1);
	assert_int_equal(l.kinds[0], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(l.ids[0], f.server_id);

	/* bad input */
	d = mail("x", 1);
	d.class_name = NULL;
	assert_int_equal(m->item_add(id1, m, e->alice, inbox, &d, NULL), EAS_E_INVALID);
	d.class_name = "AVeryLongClassNameThatIsLongerThan32";
	assert_int_equal(m->item_add(id1, m, e->alice, inbox, &d, NULL), EAS_E_INVALID);
	d.class_name = "Email,SMS";
	assert_int_equal(m->item_add(id1, m, e->alice, inbox, &d, NULL), EAS_E_INVALID);
	d.class_name = "Email";
	d.body_len = 3;
	assert_int_equal(m->item_add(id1, m, e->alice, inbox, &d, NULL), EAS_E_INVALID);
	d.body_len = 0;
	assert_int_equal(m->item_add(id1, m, e->alice, "0", &d, NULL), EAS_E_NOTFOUND);
}

typedef struct ilist {
	size_t n;
	int64_t last_date;
	char first[EAS_MSTORE_ID_SIZE];
} ilist;

static int ilist_cb(const eas_mstore_item *it, void *ud)
{
	ilist *l = ud;
	assert_null(it->application_data);
	assert_true(it->summary.date <= l->last_date);
	l->last_date = it->summary.date;
	if (!l->n)
		snprintf(l->first, sizeof l->first, "%s", it->server_id);
	l->n++;
	return 0;
}

static void test_item_list(void **state)
{
	env *e = *state;
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, e->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 25; i++) {
		char subj[16];
		snprintf(subj, sizeof subj, "m%d", i);
		add_mail(e, e->alice, inbox, subj, (i * 37) % 25, NULL, NULL);
	}
	uint64_t total;
	ilist l = { 0, INT64_MAX, "" };
	assert_int_equal(e->m->item_list(&total, e->m, e->alice, inbox, 0, 10, ilist_cb, &l), 0);
	assert_int_equal(total, 25);
	assert_int_equal(l.n, 10);
	assert_int_equal(e->m->item_list(&total, e->m, e->alice, inbox, 10, 10, ilist_cb, &l), 0);
	assert_int_equal(l.n, 20);
	assert_int_equal(e->m->item_list(&total, e->m, e->alice, inbox, 20, 10, ilist_cb, &l), 0);
	assert_int_equal(l.n, 25);
	assert_int_equal(e->m->item_list(&total, e->m, e->alice, inbox, 30, 10, ilist_cb, &l), 0);
	assert_int_equal(l.n, 25);
}

/* ---- isolation ------------------------------------------------------------------------ */

static void test_isolation(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t A = e->alice, B = e->bob;
	eas_mstore_result r;
	eas_mstore_folder af, f;
	char a_inbox[EAS_MSTORE_ID_SIZE], b_inbox[EAS_MSTORE_ID_SIZE], a_item[EAS_MSTORE_ID_SIZE];
	char b_item[EAS_MSTORE_ID_SIZE], out[EAS_MSTORE_ID_SIZE];
	folder_of(e, A, EAS_MSTORE_FOLDER_INBOX, a_inbox);
	folder_of(e, B, EAS_MSTORE_FOLDER_INBOX, b_inbox);
	assert_int_equal(m->folder_create(&r, &af, m, A, "0", "Private", 12, NULL), 0);
	static const uint8_t secret[] = "secret body";
	eas_mstore_attachment_data att = { "x.bin", NULL, NULL, NULL, 1, 0, secret, sizeof secret };
	eas_mstore_item_data d = mail("alice only", 1);
	d.body = secret;
	d.body_len = sizeof secret;
	d.body_type = 1;
	d.attachments = &att;
	d.attachment_count = 1;
	assert_int_equal(m->item_add(a_item, m, A, a_inbox, &d, NULL), 0);
	add_mail(e, B, b_inbox, "bob's", 1, NULL, b_item);
	eas_mstore_item *it;
	assert_int_equal(m->item_get(&it, m, A, a_item, EAS_MSTORE_GET_ATTACHMENTS), 0);
	char ref[EAS_MSTORE_ID_SIZE];
	snprintf(ref, sizeof ref, "%s", it->attachments[0].file_reference);
	m->release(m, it);
	assert_int_equal(m->device_touch(m, A, "a-phone", NULL), 0);
	assert_int_equal(m->device_touch(m, B, "b-phone", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, A, "a-phone", a_inbox, key, NULL, &g);
	int64_t mark;
	assert_int_equal(m->log_since(&mark, m, A, NULL, 0, NULL, NULL), 0);

	/* folders of A, addressed by B */
	assert_int_equal(m->folder_get(&f, m, B, a_inbox), EAS_E_NOTFOUND);
	assert_int_equal(m->folder_get(&f, m, B, af.server_id), EAS_E_NOTFOUND);
	assert_int_equal(m->folder_update(&r, m, B, af.server_id, "0", "Mine now", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_update(&r, m, B, a_inbox, "0", "Mine now", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_delete(&r, m, B, af.server_id, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_empty(&r, m, B, a_inbox, 1, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->folder_create(&r, &f, m, B, af.server_id, "Inside", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_PARENT_NOT_FOUND);
	eas_mstore_folder bf;
	assert_int_equal(m->folder_create(&r, &bf, m, B, "0", "Bob's", 12, NULL), 0);
	assert_int_equal(m->folder_update(&r, m, B, bf.server_id, af.server_id, "Bob's", NULL), 0);
	assert_int_equal(r, EAS_MSTORE_PARENT_NOT_FOUND);
	uint64_t count = 99;
	assert_int_equal(m->item_list(&count, m, B, a_inbox, 0, 0, NULL, NULL), EAS_E_NOTFOUND);

	/* items of A, addressed by B */
	assert_int_equal(m->item_get(&it, m, B, a_item, 0), EAS_E_NOTFOUND);
	assert_null(it);
	eas_mstore_item_data ch = mail("hijacked", 2);
	assert_int_equal(m->item_change(m, B, a_item, &ch, EAS_MSTORE_SET_ALL, NULL), EAS_E_NOTFOUND);
	assert_int_equal(m->item_delete(m, B, a_item, NULL), EAS_E_NOTFOUND);
	assert_int_equal(m->item_move(&r, out, m, B, a_item, NULL, b_inbox, NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_NOT_FOUND);
	assert_int_equal(m->item_move(&r, out, m, B, b_item, NULL, a_inbox, NULL, 0), 0);
	assert_int_equal(r, EAS_MSTORE_DEST_NOT_FOUND);
	assert_int_equal(m->item_add(out, m, B, a_inbox, &ch, NULL), EAS_E_NOTFOUND);
	uint8_t buf[32];
	size_t n = 99;
	assert_int_equal(m->item_body_read(&n, m, B, a_item, 0, buf, sizeof buf), EAS_E_NOTFOUND);
	assert_int_equal(n, 0);
	eas_mstore_attachment *a;
	assert_int_equal(m->attachment_get(&a, m, B, ref), EAS_E_NOTFOUND);
	assert_int_equal(m->attachment_read(&n, m, B, ref, 0, buf, sizeof buf), EAS_E_NOTFOUND);

	/* the log, devices, sync state and tokens of A, addressed by B */
	loglist l;
	memset(&l, 0, sizeof l);
	assert_int_equal(m->log_since(NULL, m, B, a_inbox, 0, log_cb, &l), 0);
	assert_int_equal(l.n, 0);
	eas_mstore_device *dev;
	assert_int_equal(m->device_get(&dev, m, B, "a-phone"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_set_policy(m, B, "a-phone", 1, EAS_MSTORE_POLICY_ACKNOWLEDGED, 1), EAS_E_NOTFOUND);
	assert_int_equal(m->device_wipe_request(m, B, "a-phone", EAS_MSTORE_WIPE_FULL), EAS_E_NOTFOUND);
	assert_int_equal(m->device_wipe_ack(m, B, "a-phone", EAS_MSTORE_WIPE_FULL, 1), EAS_E_NOTFOUND);
	assert_int_equal(m->device_wipe_clear(m, B, "a-phone"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_remove(m, B, "a-phone"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_cache_put(m, A, "a-phone", "ping", (const uint8_t *)"x", 1), 0);
	uint8_t *blob;
	size_t blen;
	assert_int_equal(m->device_cache_get(&blob, &blen, m, B, "a-phone", "ping"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_cache_put(m, B, "a-phone", "ping", (const uint8_t *)"y", 1), EAS_E_NOTFOUND);
	eas_mstore_sync y;
	assert_int_equal(m->sync_check(&y, m, B, "b-phone", a_inbox, key, "Sync"), EAS_E_NOTFOUND);
	assert_int_equal(m->sync_check(&y, m, B, "a-phone", a_inbox, key, "Sync"), EAS_E_NOTFOUND);
	assert_int_equal(m->sync_check(&y, m, B, "a-phone", NULL, "0", "FolderSync"), EAS_E_NOTFOUND);
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, B, "b-phone", a_inbox, NULL), EAS_E_NOTFOUND);
	assert_int_equal(m->sync_pending(&pending, m, B, "a-phone", a_inbox, NULL), EAS_E_NOTFOUND);
	char tok[EAS_MSTORE_TOKEN_SIZE];
	int64_t who;
	assert_int_equal(m->token_issue(tok, m, A, 0), 0);
	assert_int_equal(m->token_revoke(m, B, tok), EAS_E_NOTFOUND);
	assert_int_equal(m->token_revoke_all(m, B), 0);
	assert_int_equal(m->token_verify(&who, m, tok), 0);
	assert_int_equal(who, A);

	/* B's own device with the same DeviceId is a different device */
	assert_int_equal(m->device_touch(m, B, "a-phone", NULL), 0);
	assert_int_equal(m->sync_check(&y, m, B, "a-phone", b_inbox, key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->device_cache_get(&blob, &blen, m, B, "a-phone", "ping"), EAS_E_NOTFOUND);

	/* nothing of A changed */
	int64_t mark2;
	assert_int_equal(m->log_since(&mark2, m, A, NULL, 0, NULL, NULL), 0);
	assert_int_equal(mark2, mark);
	assert_int_equal(m->item_get(&it, m, A, a_item, EAS_MSTORE_GET_BODY), 0);
	assert_string_equal(it->summary.subject, "alice only");
	assert_memory_equal(it->body, secret, sizeof secret);
	m->release(m, it);
	assert_int_equal(m->folder_get(&f, m, A, af.server_id), 0);
	assert_string_equal(f.display_name, "Private");
	assert_int_equal(m->sync_check(&y, m, A, "a-phone", a_inbox, key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	assert_int_equal(m->device_get(&dev, m, A, "a-phone"), 0);
	assert_int_equal(dev->wipe_state, EAS_MSTORE_WIPE_NONE);
	assert_int_equal(dev->policy_state, EAS_MSTORE_POLICY_NONE);
	m->release(m, dev);
	assert_int_equal(m->device_cache_get(&blob, &blen, m, A, "a-phone", "ping"), 0);
	assert_int_equal(blen, 1);
	assert_int_equal(blob[0], 'x');
	m->release(m, blob);
}

/* ---- sync state ------------------------------------------------------------------------ */

static void test_sync_two_devices(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE], ids[3][EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 3; i++) {
		char subj[8];
		snprintf(subj, sizeof subj, "m%d", i);
		add_mail(e, U, inbox, subj, 100 + i, NULL, ids[i]);
	}
	eas_mstore_device_info info = { "iPhone", "Apple-iPhone/1", "iPhone 15", NULL, NULL, NULL, NULL, NULL, NULL };
	assert_int_equal(m->device_touch(m, U, "dev1", &info), 0);
	assert_int_equal(m->device_touch(m, U, "dev2", NULL), 0);
	eas_mstore_sync y;
	assert_int_equal(m->sync_check(&y, m, U, "nodev", inbox, "0", "Sync"), EAS_E_NOTFOUND);

	/* key 0: a new key and no items */
	char k1[EAS_MSTORE_ID_SIZE] = "0", k2[EAS_MSTORE_ID_SIZE] = "0";
	assert_int_equal(m->sync_check(&y, m, U, "dev1", inbox, "0", "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_INITIAL);
	assert_true(strlen(y.next_key) > 1 && strlen(y.next_key) <= EAS_MSTORE_ID_MAX);
	got g;
	got_reset(&g);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), EAS_E_STATE); /* not in a transaction */
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), EAS_E_STATE); /* key 0: no items */
	assert_int_equal(m->rollback(m), 0);
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, U, "dev1", inbox, NULL), EAS_E_NOTFOUND); /* not primed */
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(m->sync_pending(&pending, m, U, "dev1", inbox, NULL), 0);
	assert_int_equal(pending, 3);
	assert_int_equal(sync_round(e, U, "dev1", inbox, k1, NULL, &g), 0);
	assert_int_equal(g.n, 3);
	assert_int_equal(count_kind(&g, EAS_MSTORE_CHANGE_ADD), 3);
	assert_string_equal(g.ids[0], ids[2]); /* newest first */
	assert_int_equal(m->sync_pending(&pending, m, U, "dev1", inbox, NULL), 0);
	assert_int_equal(pending, 0);

	/* dev2 has its own state */
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_string_not_equal(k1, k2);
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_int_equal(g.n, 3);

	/* a change made by dev1 is not echoed to dev1, but reaches dev2 */
	eas_mstore_item_data ch;
	memset(&ch, 0, sizeof ch);
	ch.summary.read = 1;
	assert_int_equal(m->sync_check(&y, m, U, "dev1", inbox, k1, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	int64_t seen;
	assert_int_equal(m->sync_seen(&seen, m, &y, ids[0]), 0);
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->item_change(m, U, ids[0], &ch, EAS_MSTORE_SET_READ, "dev1"), 0);
	got_reset(&g);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), 0);
	assert_int_equal(g.n, 0);
	int64_t seen2;
	assert_int_equal(m->sync_seen(&seen2, m, &y, ids[0]), 0);
	assert_true(seen2 > seen);
	assert_int_equal(m->sync_commit(m, &y, (const uint8_t *)"r", 1), 0);
	assert_int_equal(m->commit(m), 0);
	memcpy(k1, y.next_key, sizeof k1);
	assert_int_equal(m->sync_pending(&pending, m, U, "dev2", inbox, NULL), 0);
	assert_int_equal(pending, 1);
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_CHANGE);
	assert_string_equal(g.ids[0], ids[0]);

	/* an add by dev2 (Sync Add) reaches only dev1; a server-side delete reaches both */
	char added[EAS_MSTORE_ID_SIZE];
	add_mail(e, U, inbox, "from dev2", 500, "dev2", added);
	assert_int_equal(m->item_delete(m, U, ids[1], NULL), 0);
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_DELETE);
	assert_string_equal(g.ids[0], ids[1]);
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_DELETE);
	assert_int_equal(g.kinds[1], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(g.ids[1], added);
	assert_string_equal(g.names[1], "from dev2");

	/* moves: MoveItems by dev1 (no echo either side), DeletesAsMoves by dev2 */
	char deleted[EAS_MSTORE_ID_SIZE], k1d[EAS_MSTORE_ID_SIZE] = "0", k2d[EAS_MSTORE_ID_SIZE] = "0";
	folder_of(e, U, EAS_MSTORE_FOLDER_DELETED, deleted);
	sync_round(e, U, "dev1", deleted, k1d, NULL, &g);
	sync_round(e, U, "dev2", deleted, k2d, NULL, &g);
	eas_mstore_result r;
	char moved[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_move(&r, moved, m, U, ids[2], inbox, deleted, "dev1",
				      EAS_MSTORE_MOVE_ORIGIN_HAS_DEST), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 0);
	sync_round(e, U, "dev1", deleted, k1d, NULL, &g);
	assert_int_equal(g.n, 0);
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_DELETE);
	assert_string_equal(g.ids[0], ids[2]);
	sync_round(e, U, "dev2", deleted, k2d, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(g.ids[0], moved);
	char moved2[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_move(&r, moved2, m, U, added, inbox, deleted, "dev2", 0), 0);
	sync_round(e, U, "dev2", inbox, k2, NULL, &g);
	assert_int_equal(g.n, 0);
	sync_round(e, U, "dev2", deleted, k2d, NULL, &g);
	assert_int_equal(g.n, 1); /* dev2 did not have it in Deleted Items */
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_ADD);

	/* an item moved out and back gets a new id: Delete old + Add new, not a Change */
	char back[EAS_MSTORE_ID_SIZE];
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 1); /* the DeletesAsMoves delete */
	assert_int_equal(m->item_move(&r, back, m, U, moved, NULL, inbox, NULL, 0), 0);
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(g.ids[0], back);
	char again[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_move(&r, again, m, U, back, NULL, deleted, NULL, 0), 0);
	assert_int_equal(m->item_move(&r, back, m, U, again, NULL, inbox, NULL, 0), 0);
	sync_round(e, U, "dev1", inbox, k1, NULL, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_DELETE);
	assert_int_equal(g.kinds[1], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(g.ids[1], back);

	/* devices: list and remove */
	eas_mstore_device *dev;
	assert_int_equal(m->device_get(&dev, m, U, "dev1"), 0);
	assert_string_equal(dev->device_id, "dev1");
	assert_string_equal(dev->info.device_type, "iPhone");
	assert_string_equal(dev->info.user_agent, "Apple-iPhone/1");
	assert_string_equal(dev->info.model, "iPhone 15");
	assert_null(dev->info.imei);
	m->release(m, dev);
	assert_int_equal(m->device_remove(m, U, "dev1"), 0);
	assert_int_equal(m->device_touch(m, U, "dev1", NULL), 0);
	assert_int_equal(m->sync_check(&y, m, U, "dev1", inbox, k1, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->sync_check(&y, m, U, "dev2", inbox, k2, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
}

static void test_sync_window_and_filter(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE], sms[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 7; i++)
		add_mail(e, U, inbox, "mail", 1000 + i * 100, NULL, NULL);
	eas_mstore_item_data sd;
	memset(&sd, 0, sizeof sd);
	sd.class_name = "SMS";
	sd.summary.date = 5000;
	assert_int_equal(m->item_add(sms, m, U, inbox, &sd, NULL), 0);
	assert_int_equal(m->device_touch(m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);

	/* WindowSize 3 over 7 emails (SMS not synced): 3 + 3 + 1 */
	eas_mstore_window w = { 3, 0, "Email" };
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 1);
	assert_int_equal(g.n, 3);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 1);
	assert_int_equal(g.n, 3);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 0);
	/* exactly a window's worth: no MoreAvailable */
	w.max_changes = 2;
	add_mail(e, U, inbox, "a", 9000, NULL, NULL);
	add_mail(e, U, inbox, "b", 9001, NULL, NULL);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 2);
	/* the window is remembered for sync_pending(NULL) */
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, NULL), 0);
	assert_int_equal(pending, 0);
	eas_mstore_window all = { 0, 0, NULL };
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, &all), 0);
	assert_int_equal(pending, 1); /* the SMS */
	w.classes = "Email,SMS";
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.ids[0], sms);

	/* the filter window moves on: items older than it are soft-deleted */
	w.max_changes = 100;
	w.filter_since = 1250;
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 3); /* dates 1000, 1100, 1200 */
	assert_int_equal(count_kind(&g, EAS_MSTORE_CHANGE_SOFT_DELETE), 3);
	/* a change to an out-of-window item is not sent; new old items are not added */
	add_mail(e, U, inbox, "old", 10, NULL, NULL);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 0);
	/* dropping SMS from the classes soft-deletes it */
	w.classes = "Email";
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_SOFT_DELETE);
	/* widening the window brings them back as adds */
	w.filter_since = 0;
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 4);
	assert_int_equal(count_kind(&g, EAS_MSTORE_CHANGE_ADD), 4);

	/* a failing callback: roll back, nothing was taken */
	eas_mstore_sync y;
	add_mail(e, U, inbox, "x1", 20000, NULL, NULL);
	add_mail(e, U, inbox, "x2", 20001, NULL, NULL);
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(m->begin(m), 0);
	got_reset(&g);
	g.fail_at = 1;
	assert_int_equal(m->sync_changes(NULL, m, &y, &w, got_cb, &g), EAS_E_CALLBACK);
	assert_int_equal(m->rollback(m), 0);
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, NULL), 0);
	assert_int_equal(pending, 2);
	assert_int_equal(sync_round(e, U, "d", inbox, key, &w, &g), 0);
	assert_int_equal(g.n, 2);
}

static void test_sync_replay(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	assert_int_equal(m->device_touch(m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);
	add_mail(e, U, inbox, "one", 1, NULL, NULL);

	/* a response with every byte value, as the handler would store it */
	uint8_t resp[3000];
	for (size_t i = 0; i < sizeof resp; i++)
		resp[i] = (uint8_t)(i * 131u + 7u);
	eas_mstore_sync y;
	char prev[EAS_MSTORE_ID_SIZE];
	memcpy(prev, key, sizeof prev);
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	uint8_t *bytes;
	size_t len;
	assert_int_equal(m->sync_replay(&bytes, &len, m, &y), EAS_E_STATE);
	assert_int_equal(m->begin(m), 0);
	got_reset(&g);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(m->sync_commit(m, &y, resp, sizeof resp), 0);
	assert_int_equal(m->sync_commit(m, &y, resp, sizeof resp), EAS_E_STATE); /* spent */
	assert_int_equal(m->commit(m), 0);
	memcpy(key, y.next_key, sizeof key);
	add_mail(e, U, inbox, "two", 2, NULL, NULL);

	/* the response was lost: the previous key replays the same bytes, twice if need be */
	for (int round = 0; round < 2; round++) {
		assert_int_equal(m->sync_check(&y, m, U, "d", inbox, prev, "Sync"), 0);
		assert_int_equal(y.match, EAS_MSTORE_KEY_PREVIOUS);
		assert_int_equal(m->sync_replay(&bytes, &len, m, &y), 0);
		assert_int_equal(len, sizeof resp);
		assert_memory_equal(bytes, resp, sizeof resp);
		m->release(m, bytes);
		assert_int_equal(m->begin(m), 0);
		assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), EAS_E_STATE);
		assert_int_equal(m->sync_commit(m, &y, resp, 1), EAS_E_STATE);
		assert_int_equal(m->rollback(m), 0);
	}
	/* ...and survives a restart */
	reopen(e);
	m = e->m;
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, prev, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_PREVIOUS);
	assert_int_equal(m->sync_replay(&bytes, &len, m, &y), 0);
	assert_int_equal(len, sizeof resp);
	assert_memory_equal(bytes, resp, sizeof resp);
	m->release(m, bytes);
	/* another tag does not get this answer */
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, prev, "GetItemEstimate"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);

	/* the current key goes on from where the replayed answer left the client */
	assert_int_equal(sync_round(e, U, "d", inbox, key, NULL, &g), 0);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.names[0], "two");
	/* now the old previous key is stale */
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, prev, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);

	/* an empty response replays as empty */
	memcpy(prev, key, sizeof prev);
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->sync_commit(m, &y, NULL, 0), 0);
	assert_int_equal(m->commit(m), 0);
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, prev, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_PREVIOUS);
	assert_int_equal(m->sync_replay(&bytes, &len, m, &y), 0);
	assert_null(bytes);
	assert_int_equal(len, 0);
}

static void test_sync_stale(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE], notes[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	folder_of(e, U, EAS_MSTORE_FOLDER_NOTES, notes);
	assert_int_equal(m->device_touch(m, U, "d1", NULL), 0);
	assert_int_equal(m->device_touch(m, U, "d2", NULL), 0);
	eas_mstore_sync y;
	/* no state yet */
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, "{abc}1", "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_string_equal(y.next_key, "");
	char k[EAS_MSTORE_ID_SIZE] = "0", k2[EAS_MSTORE_ID_SIZE] = "0", kn[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d1", inbox, k, NULL, &g);
	sync_round(e, U, "d2", inbox, k2, NULL, &g);
	sync_round(e, U, "d1", notes, kn, NULL, &g);
	static const char *const bogus[] = { "", "1", "{}1", "garbage", "00" };
	for (size_t i = 0; i < sizeof bogus / sizeof bogus[0]; i++) {
		assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, bogus[i], "Sync"), 0);
		assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	}
	/* another device's key, another collection's key */
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, k2, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, kn, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	/* keys from before a reset */
	char old[EAS_MSTORE_ID_SIZE];
	memcpy(old, k, sizeof old);
	sync_round(e, U, "d1", inbox, k, NULL, &g);
	char old2[EAS_MSTORE_ID_SIZE];
	memcpy(old2, k, sizeof old2);
	sync_round(e, U, "d1", inbox, k, NULL, &g);
	char reset[EAS_MSTORE_ID_SIZE] = "0";
	sync_round(e, U, "d1", inbox, reset, NULL, &g);
	assert_string_not_equal(reset, old);
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, old, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, old2, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, k, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	/* a too long key is a bad argument, not a stale key */
	char longkey[EAS_MSTORE_ID_MAX + 2];
	memset(longkey, '1', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = 0;
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, longkey, "Sync"), EAS_E_INVALID);

	/* two requests race with the same key: the second commit is refused */
	eas_mstore_sync y1, y2;
	assert_int_equal(m->sync_check(&y1, m, U, "d1", inbox, reset, "Sync"), 0);
	assert_int_equal(m->sync_check(&y2, m, U, "d1", inbox, reset, "Sync"), 0);
	assert_int_equal(y1.match, EAS_MSTORE_KEY_CURRENT);
	assert_int_equal(y2.match, EAS_MSTORE_KEY_CURRENT);
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->sync_commit(m, &y1, (const uint8_t *)"a", 1), 0);
	assert_int_equal(m->commit(m), 0);
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->sync_commit(m, &y2, (const uint8_t *)"b", 1), EAS_E_STATE);
	assert_int_equal(m->rollback(m), 0);
	assert_int_equal(m->sync_check(&y, m, U, "d1", inbox, y1.next_key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);

	/* a deleted folder takes its states with it */
	eas_mstore_result r;
	eas_mstore_folder f;
	char fk[EAS_MSTORE_ID_SIZE] = "0";
	assert_int_equal(m->folder_create(&r, &f, m, U, "0", "Temp", 12, NULL), 0);
	sync_round(e, U, "d1", f.server_id, fk, NULL, &g);
	assert_int_equal(m->folder_delete(&r, m, U, f.server_id, NULL), 0);
	assert_int_equal(m->sync_check(&y, m, U, "d1", f.server_id, fk, "Sync"), EAS_E_NOTFOUND);
	sqlite3 *db = raw(e);
	assert_int_equal(raw_int(db, "SELECT count(*) FROM sync_states WHERE folder_id IS NOT NULL"
				     " AND folder_id NOT IN (SELECT id FROM folders)"), 0);
	sqlite3_close(db);
}

static void test_folder_hierarchy_sync(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	assert_int_equal(m->device_touch(m, U, "d1", NULL), 0);
	assert_int_equal(m->device_touch(m, U, "d2", NULL), 0);
	eas_mstore_result r;
	eas_mstore_folder top, child;
	assert_int_equal(m->folder_create(&r, &top, m, U, "0", "Top", 12, NULL), 0);
	assert_int_equal(m->folder_create(&r, &child, m, U, top.server_id, "Child", 12, NULL), 0);
	/* make the child older than a new parent: move it under a folder created later */
	eas_mstore_folder later;
	assert_int_equal(m->folder_create(&r, &later, m, U, "0", "Later", 12, NULL), 0);
	eas_mstore_folder first;
	assert_int_equal(m->folder_create(&r, &first, m, U, "0", "First", 12, NULL), 0);
	assert_int_equal(m->folder_update(&r, m, U, later.server_id, child.server_id, "Later", NULL), 0);

	/* FolderSync 0: everything as Adds, parents first */
	char k1[EAS_MSTORE_ID_SIZE] = "0", k2[EAS_MSTORE_ID_SIZE] = "0";
	eas_mstore_sync y;
	assert_int_equal(m->sync_check(&y, m, U, "d1", NULL, "0", "FolderSync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_INITIAL);
	got g;
	got_reset(&g);
	assert_int_equal(m->begin(m), 0);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), 0);
	assert_int_equal(m->sync_commit(m, &y, (const uint8_t *)"fs", 2), 0);
	assert_int_equal(m->commit(m), 0);
	memcpy(k1, y.next_key, sizeof k1);
	assert_int_equal(g.n, 14);
	assert_int_equal(count_kind(&g, EAS_MSTORE_CHANGE_ADD), 14);
	for (size_t i = 0; i < g.n; i++) {
		if (strcmp(g.parents[i], "0") == 0)
			continue;
		int seen = 0;
		for (size_t j = 0; j < i; j++)
			seen |= strcmp(g.ids[j], g.parents[i]) == 0;
		assert_true(seen);
	}
	sync_round(e, U, "d2", NULL, k2, NULL, &g);
	assert_int_equal(g.n, 14);
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, U, "d1", NULL, NULL), 0);
	assert_int_equal(pending, 0);

	/* FolderCreate by d1: d1's next FolderSync has nothing, d2 gets the Add */
	assert_int_equal(m->sync_check(&y, m, U, "d1", NULL, k1, "FolderCreate"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	assert_int_equal(m->begin(m), 0);
	eas_mstore_folder made;
	assert_int_equal(m->folder_create(&r, &made, m, U, top.server_id, "Made on d1", 12, "d1"), 0);
	assert_int_equal(r, EAS_MSTORE_OK);
	assert_int_equal(m->sync_commit(m, &y, (const uint8_t *)"fc", 2), 0);
	assert_int_equal(m->commit(m), 0);
	char fc_prev[EAS_MSTORE_ID_SIZE];
	memcpy(fc_prev, k1, sizeof fc_prev);
	memcpy(k1, y.next_key, sizeof k1);
	/* the FolderCreate answer is replayed only to a FolderCreate */
	assert_int_equal(m->sync_check(&y, m, U, "d1", NULL, fc_prev, "FolderSync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
	assert_int_equal(m->sync_check(&y, m, U, "d1", NULL, fc_prev, "FolderCreate"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_PREVIOUS);
	sync_round(e, U, "d1", NULL, k1, NULL, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(m->sync_pending(&pending, m, U, "d2", NULL, NULL), 0);
	assert_int_equal(pending, 1);
	sync_round(e, U, "d2", NULL, k2, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_ADD);
	assert_string_equal(g.ids[0], made.server_id);
	assert_string_equal(g.parents[0], top.server_id);

	/* rename by d2 (not echoed to d2), delete of a subtree by the server */
	assert_int_equal(m->folder_update(&r, m, U, made.server_id, "0", "Renamed", "d2"), 0);
	sync_round(e, U, "d2", NULL, k2, NULL, &g);
	assert_int_equal(g.n, 0);
	sync_round(e, U, "d1", NULL, k1, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.kinds[0], EAS_MSTORE_CHANGE_CHANGE);
	assert_string_equal(g.names[0], "Renamed");
	assert_string_equal(g.parents[0], "0");
	assert_int_equal(m->folder_delete(&r, m, U, top.server_id, NULL), 0);
	sync_round(e, U, "d1", NULL, k1, NULL, &g);
	assert_int_equal(g.n, 3); /* Top, Child, Later */
	assert_int_equal(count_kind(&g, EAS_MSTORE_CHANGE_DELETE), 3);
	/* FolderSync 0 again: the full list */
	char k0[EAS_MSTORE_ID_SIZE] = "0";
	sync_round(e, U, "d1", NULL, k0, NULL, &g);
	assert_int_equal(g.n, 12);
	assert_int_equal(m->sync_check(&y, m, U, "d1", NULL, k1, "FolderSync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_STALE);
}

/* ---- notification ------------------------------------------------------------------------ */

typedef struct notes {
	size_t n;
	eas_mstore_event_kind kinds[32];
	int64_t users[32];
	char ids[32][EAS_MSTORE_ID_SIZE];
	eas_mstore *m;
	int reenter;
} notes;

static void note_cb(const eas_mstore_event *ev, void *ud)
{
	notes *n = ud;
	assert_true(n->n < 32);
	n->kinds[n->n] = ev->kind;
	n->users[n->n] = ev->user_id;
	snprintf(n->ids[n->n], EAS_MSTORE_ID_SIZE, "%s",
		 ev->folder_id ? ev->folder_id : ev->device_id ? ev->device_id : "");
	if (ev->kind == EAS_MSTORE_EVENT_FOLDER)
		assert_null(ev->device_id);
	if (ev->kind == EAS_MSTORE_EVENT_HIERARCHY)
		assert_true(!ev->folder_id && !ev->device_id);
	n->n++;
	if (n->reenter) {
		/* the transaction is over: the store may be used from the callback */
		eas_mstore_folder f;
		assert_int_equal(n->m->folder_find_default(&f, n->m, ev->user_id, EAS_MSTORE_FOLDER_INBOX), 0);
	}
}

static void test_notify(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	notes n;
	memset(&n, 0, sizeof n);
	n.m = m;
	n.reenter = 1;
	m->set_notify(m, note_cb, &n);
	char inbox[EAS_MSTORE_ID_SIZE], notesf[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	folder_of(e, U, EAS_MSTORE_FOLDER_NOTES, notesf);

	/* one call outside a transaction: one event, delivered before the call returns */
	add_mail(e, U, inbox, "a", 1, NULL, NULL);
	assert_int_equal(n.n, 1);
	assert_int_equal(n.kinds[0], EAS_MSTORE_EVENT_FOLDER);
	assert_int_equal(n.users[0], U);
	assert_string_equal(n.ids[0], inbox);

	/* a transaction: nothing until commit, then once per folder */
	n.n = 0;
	assert_int_equal(m->begin(m), 0);
	char id[EAS_MSTORE_ID_SIZE];
	for (int i = 0; i < 5; i++)
		add_mail(e, U, inbox, "b", 2, NULL, id);
	eas_mstore_item_data ch = mail("c", 3);
	assert_int_equal(m->item_change(m, U, id, &ch, EAS_MSTORE_SET_SUMMARY, NULL), 0);
	add_mail(e, U, notesf, "n", 2, NULL, NULL);
	assert_int_equal(n.n, 0);
	assert_int_equal(m->commit(m), 0);
	assert_int_equal(n.n, 2);
	assert_string_equal(n.ids[0], inbox);
	assert_string_equal(n.ids[1], notesf);

	/* rollback: nothing, ever */
	n.n = 0;
	assert_int_equal(m->begin(m), 0);
	add_mail(e, U, inbox, "gone", 2, NULL, NULL);
	assert_int_equal(m->rollback(m), 0);
	assert_int_equal(n.n, 0);
	add_mail(e, U, notesf, "later", 2, NULL, NULL);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.ids[0], notesf);

	/* nested: a rolled-back inner level drops only its own events */
	n.n = 0;
	assert_int_equal(m->begin(m), 0);
	add_mail(e, U, notesf, "outer", 2, NULL, NULL);
	assert_int_equal(m->begin(m), 0);
	add_mail(e, U, inbox, "inner", 2, NULL, NULL);
	assert_int_equal(m->rollback(m), 0);
	assert_int_equal(m->begin(m), 0);
	add_mail(e, U, notesf, "inner kept", 2, NULL, NULL);
	assert_int_equal(m->commit(m), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(m->commit(m), 0);
	assert_int_equal(n.n, 1);
	assert_string_equal(n.ids[0], notesf);
	uint64_t count;
	assert_int_equal(m->item_list(&count, m, U, inbox, 0, 0, NULL, NULL), 0);
	assert_int_equal(count, 6);

	/* moves wake both folders; hierarchy and device events */
	n.n = 0;
	eas_mstore_result r;
	char moved[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_move(&r, moved, m, U, id, NULL, notesf, NULL, 0), 0);
	assert_int_equal(n.n, 2);
	n.n = 0;
	eas_mstore_folder f;
	assert_int_equal(m->folder_create(&r, &f, m, U, "0", "New", 12, NULL), 0);
	assert_int_equal(n.n, 1);
	assert_int_equal(n.kinds[0], EAS_MSTORE_EVENT_HIERARCHY);
	/* a refused operation changes nothing and says nothing */
	n.n = 0;
	assert_int_equal(m->folder_create(&r, &f, m, U, "0", "New", 12, NULL), 0);
	assert_int_equal(r, EAS_MSTORE_EXISTS);
	assert_int_equal(n.n, 0);
	assert_int_equal(m->device_touch(m, U, "phone", NULL), 0);
	assert_int_equal(n.n, 0);
	assert_int_equal(m->device_wipe_request(m, U, "phone", EAS_MSTORE_WIPE_FULL), 0);
	assert_int_equal(n.n, 1);
	assert_int_equal(n.kinds[0], EAS_MSTORE_EVENT_DEVICE);
	assert_string_equal(n.ids[0], "phone");
	/* other users' changes carry their own id */
	n.n = 0;
	char binbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, e->bob, EAS_MSTORE_FOLDER_INBOX, binbox);
	add_mail(e, e->bob, binbox, "b", 1, NULL, NULL);
	assert_int_equal(n.n, 1);
	assert_int_equal(n.users[0], e->bob);
	/* sync state changes are not content changes */
	n.n = 0;
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "phone", inbox, key, NULL, &g);
	sync_round(e, U, "phone", inbox, key, NULL, &g);
	assert_int_equal(n.n, 0);
	/* unregistered: silence */
	m->set_notify(m, NULL, NULL);
	add_mail(e, U, inbox, "quiet", 1, NULL, NULL);
	assert_int_equal(n.n, 0);
	assert_int_equal(m->commit(m), EAS_E_STATE);
	assert_int_equal(m->rollback(m), EAS_E_STATE);
}

/* ---- devices: wipe and provisioning ------------------------------------------------------ */

static int count_devices(const eas_mstore_device *d, void *ud)
{
	assert_non_null(d->device_id);
	(*(int *)ud)++;
	return 0;
}

static void test_wipe_and_policy(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	eas_mstore_device *d;
	assert_int_equal(m->device_touch(m, U, "phone", NULL), 0);
	assert_int_equal(m->device_touch(m, U, "tablet", NULL), 0);
	assert_int_equal(m->device_touch(m, U, "bad\nid", NULL), EAS_E_INVALID);
	assert_int_equal(m->device_touch(m, 999, "phone", NULL), EAS_E_NOTFOUND);
	int nd = 0;
	assert_int_equal(m->device_list(m, U, count_devices, &nd), 0);
	assert_int_equal(nd, 2);
	nd = 0;
	assert_int_equal(m->device_list(m, e->bob, count_devices, &nd), 0);
	assert_int_equal(nd, 0);

	/* first and last seen */
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->first_seen, fake_now);
	assert_int_equal(d->last_seen, fake_now);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_NONE);
	m->release(m, d);
	fake_now += 60;
	assert_int_equal(m->device_touch(m, U, "phone", NULL), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->first_seen, fake_now - 60);
	assert_int_equal(d->last_seen, fake_now);
	m->release(m, d);

	/* provisioning */
	assert_int_equal(m->device_set_policy(m, U, "phone", 1111, EAS_MSTORE_POLICY_ISSUED, 0), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->policy_key, 1111);
	assert_int_equal(d->policy_state, EAS_MSTORE_POLICY_ISSUED);
	m->release(m, d);
	assert_int_equal(m->device_set_policy(m, U, "phone", 0xFFFFFFFFu, EAS_MSTORE_POLICY_ACKNOWLEDGED, 1), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->policy_key, 0xFFFFFFFFu);
	assert_int_equal(d->policy_state, EAS_MSTORE_POLICY_ACKNOWLEDGED);
	assert_int_equal(d->policy_status, 1);
	m->release(m, d);
	assert_int_equal(m->device_set_policy(m, U, "phone", 1, (eas_mstore_policy_state)7, 1), EAS_E_INVALID);
	assert_int_equal(m->device_set_policy(m, U, "nope", 1, EAS_MSTORE_POLICY_ISSUED, 0), EAS_E_NOTFOUND);

	/* wipe: NONE -> REQUESTED -> ACKNOWLEDGED, refusals on the way */
	assert_int_equal(m->device_wipe_ack(m, U, "phone", EAS_MSTORE_WIPE_FULL, 1), EAS_E_STATE);
	assert_int_equal(m->device_wipe_request(m, U, "nope", EAS_MSTORE_WIPE_FULL), EAS_E_NOTFOUND);
	assert_int_equal(m->device_wipe_request(m, U, "phone", (eas_mstore_wipe_kind)0), EAS_E_INVALID);
	fake_now += 10;
	assert_int_equal(m->device_wipe_request(m, U, "phone", EAS_MSTORE_WIPE_FULL), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_REQUESTED);
	assert_int_equal(d->wipe_kind, EAS_MSTORE_WIPE_FULL);
	assert_int_equal(d->wipe_requested, fake_now);
	assert_int_equal(d->wipe_acknowledged, 0);
	m->release(m, d);
	assert_int_equal(m->device_wipe_ack(m, U, "phone", EAS_MSTORE_WIPE_ACCOUNT_ONLY, 1), EAS_E_STATE);
	assert_int_equal(m->device_wipe_ack(m, U, "tablet", EAS_MSTORE_WIPE_FULL, 1), EAS_E_STATE);
	fake_now += 5;
	assert_int_equal(m->device_wipe_ack(m, U, "phone", EAS_MSTORE_WIPE_FULL, 1), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_ACKNOWLEDGED);
	assert_int_equal(d->wipe_status, 1);
	assert_int_equal(d->wipe_acknowledged, fake_now);
	assert_int_equal(d->wipe_requested, fake_now - 5);
	m->release(m, d);
	assert_int_equal(m->device_wipe_ack(m, U, "phone", EAS_MSTORE_WIPE_FULL, 1), EAS_E_STATE);
	/* a wiped device that comes back is wiped again; clear ends it */
	assert_int_equal(m->device_wipe_request(m, U, "phone", EAS_MSTORE_WIPE_FULL), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_REQUESTED);
	assert_int_equal(d->wipe_acknowledged, 0);
	m->release(m, d);
	assert_int_equal(m->device_wipe_clear(m, U, "phone"), 0);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_NONE);
	m->release(m, d);

	/* account-only wipe, failed ack; state survives a restart */
	assert_int_equal(m->device_wipe_request(m, U, "tablet", EAS_MSTORE_WIPE_ACCOUNT_ONLY), 0);
	assert_int_equal(m->device_wipe_ack(m, U, "tablet", EAS_MSTORE_WIPE_FULL, 1), EAS_E_STATE);
	assert_int_equal(m->device_wipe_ack(m, U, "tablet", EAS_MSTORE_WIPE_ACCOUNT_ONLY, 2), 0);
	reopen(e);
	m = e->m;
	assert_int_equal(m->device_get(&d, m, U, "tablet"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_ACKNOWLEDGED);
	assert_int_equal(d->wipe_kind, EAS_MSTORE_WIPE_ACCOUNT_ONLY);
	assert_int_equal(d->wipe_status, 2);
	m->release(m, d);
	assert_int_equal(m->device_get(&d, m, U, "phone"), 0);
	assert_int_equal(d->policy_key, 0xFFFFFFFFu);
	m->release(m, d);

	/* device cache */
	uint8_t *blob;
	size_t len;
	assert_int_equal(m->device_cache_get(&blob, &len, m, U, "phone", "ping"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_cache_put(m, U, "phone", "ping", (const uint8_t *)"abc", 3), 0);
	assert_int_equal(m->device_cache_put(m, U, "phone", "ping", (const uint8_t *)"abcd", 4), 0);
	assert_int_equal(m->device_cache_get(&blob, &len, m, U, "phone", "ping"), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(blob, "abcd", 4);
	m->release(m, blob);
	assert_int_equal(m->device_cache_put(m, U, "phone", "empty", NULL, 0), 0);
	assert_int_equal(m->device_cache_get(&blob, &len, m, U, "phone", "empty"), 0);
	assert_null(blob);
	assert_int_equal(len, 0);
	assert_int_equal(m->device_cache_put(m, U, "phone", "", (const uint8_t *)"x", 1), EAS_E_INVALID);
	assert_int_equal(m->device_remove(m, U, "phone"), 0);
	assert_int_equal(m->device_cache_get(&blob, &len, m, U, "phone", "ping"), EAS_E_NOTFOUND);
	assert_int_equal(m->device_get(&d, m, U, "phone"), EAS_E_NOTFOUND);
}

/* ---- transactions and persistence ----------------------------------------------------- */

static void test_rollback_no_trace(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	assert_int_equal(m->device_touch(m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);

	sqlite3 *db = raw(e);
	static const char *const tables[] = { "users", "tokens", "devices", "device_cache", "folders", "items",
					      "attachments", "changes", "sync_states", "synced" };
	int64_t before[10];
	char sql[96];
	for (int i = 0; i < 10; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
		before[i] = raw_int(db, sql);
	}
	int64_t seq;
	assert_int_equal(m->log_since(&seq, m, U, NULL, 0, NULL, NULL), 0);

	/* a handler's multi-step update, abandoned */
	assert_int_equal(m->begin(m), 0);
	int64_t carol;
	assert_int_equal(m->user_add(&carol, m, "carol", "pw"), 0);
	char tok[EAS_MSTORE_TOKEN_SIZE];
	assert_int_equal(m->token_issue(tok, m, U, 0), 0);
	assert_int_equal(m->device_touch(m, U, "d2", NULL), 0);
	assert_int_equal(m->device_cache_put(m, U, "d", "k", (const uint8_t *)"v", 1), 0);
	eas_mstore_result r;
	eas_mstore_folder f;
	assert_int_equal(m->folder_create(&r, &f, m, U, "0", "Temp", 12, "d"), 0);
	eas_mstore_attachment_data att = { "a", NULL, NULL, NULL, 1, 0, (const uint8_t *)"zz", 2 };
	eas_mstore_item_data d = mail("t", 5);
	d.attachments = &att;
	d.attachment_count = 1;
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(m->item_add(id, m, U, inbox, &d, "d"), 0);
	eas_mstore_sync y;
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(m->sync_changes(NULL, m, &y, NULL, got_cb, &g), 0);
	assert_int_equal(m->sync_commit(m, &y, (const uint8_t *)"resp", 4), 0);
	assert_int_equal(m->device_wipe_request(m, U, "d", EAS_MSTORE_WIPE_FULL), 0);
	assert_int_equal(m->rollback(m), 0);

	for (int i = 0; i < 10; i++) {
		snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", tables[i]);
		assert_int_equal(raw_int(db, sql), before[i]);
	}
	sqlite3_close(db);
	int64_t seq2;
	assert_int_equal(m->log_since(&seq2, m, U, NULL, 0, NULL, NULL), 0);
	assert_int_equal(seq2, seq);
	int64_t who;
	assert_int_equal(m->user_lookup(&who, m, "carol"), EAS_E_NOTFOUND);
	assert_int_equal(m->token_verify(&who, m, tok), EAS_E_AUTH);
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	eas_mstore_device *dev;
	assert_int_equal(m->device_get(&dev, m, U, "d"), 0);
	assert_int_equal(dev->wipe_state, EAS_MSTORE_WIPE_NONE);
	m->release(m, dev);
	/* the same steps committed would have been seen */
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, NULL), 0);
	assert_int_equal(pending, 0);
	/* a failing step inside an entry point undoes that step only */
	assert_int_equal(m->begin(m), 0);
	add_mail(e, U, inbox, "kept", 1, NULL, NULL);
	assert_int_equal(m->item_add(id, m, U, "424242", &d, NULL), EAS_E_NOTFOUND);
	assert_int_equal(m->commit(m), 0);
	uint64_t count;
	assert_int_equal(m->item_list(&count, m, U, inbox, 0, 0, NULL, NULL), 0);
	assert_int_equal(count, 1);
}

static void test_persistence(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE], id[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	eas_mstore_result r;
	eas_mstore_folder f;
	assert_int_equal(m->folder_create(&r, &f, m, U, "0", "Kept", 13, NULL), 0);
	add_mail(e, U, inbox, "persisted", 42, NULL, id);
	assert_int_equal(m->device_touch(m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0", hkey[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);
	sync_round(e, U, "d", inbox, key, NULL, &g);
	assert_int_equal(g.n, 1);
	sync_round(e, U, "d", NULL, hkey, NULL, &g);
	assert_int_equal(g.n, 11);
	add_mail(e, U, inbox, "after", 43, NULL, NULL);

	reopen(e);
	m = e->m;
	int64_t who;
	assert_int_equal(m->user_verify_password(&who, m, "alice", "alice-pw"), 0);
	assert_int_equal(who, U);
	assert_int_equal(m->folder_get(&f, m, U, f.server_id), 0);
	assert_string_equal(f.display_name, "Kept");
	assert_int_equal(f.type, 13);
	eas_mstore_item *it;
	assert_int_equal(m->item_get(&it, m, U, id, 0), 0);
	assert_string_equal(it->summary.subject, "persisted");
	m->release(m, it);
	eas_mstore_sync y;
	assert_int_equal(m->sync_check(&y, m, U, "d", inbox, key, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	assert_int_equal(sync_round(e, U, "d", inbox, key, NULL, &g), 0);
	assert_int_equal(g.n, 1); /* only what came after: the synced set survived */
	assert_string_equal(g.names[0], "after");
	assert_int_equal(m->sync_check(&y, m, U, "d", NULL, hkey, "Sync"), 0);
	assert_int_equal(y.match, EAS_MSTORE_KEY_CURRENT);
	sync_round(e, U, "d", NULL, hkey, NULL, &g);
	assert_int_equal(g.n, 0);
	/* new ids do not collide with those before the restart */
	char id2[EAS_MSTORE_ID_SIZE];
	add_mail(e, U, inbox, "third", 44, NULL, id2);
	char want[2 * EAS_MSTORE_ID_SIZE];
	snprintf(want, sizeof want, "%s:3", inbox);
	assert_string_equal(id2, want);
}

/* ---- a large folder --------------------------------------------------------------------- */

typedef struct seen_set {
	size_t n;
	int64_t last_date;
	unsigned char *hit;
	size_t max;
	char inbox[EAS_MSTORE_ID_SIZE];
} seen_set;

static int large_cb(const eas_mstore_item *it, void *ud)
{
	seen_set *s = ud;
	assert_true(it->summary.date <= s->last_date);
	s->last_date = it->summary.date;
	size_t len = strlen(s->inbox);
	assert_memory_equal(it->server_id, s->inbox, len);
	long n = atol(it->server_id + len + 1);
	assert_true(n >= 1 && (size_t)n <= s->max);
	assert_int_equal(s->hit[n], 0);
	s->hit[n] = 1;
	s->n++;
	return 0;
}

static void test_large_folder(void **state)
{
	env *e = *state;
	eas_mstore *m = e->m;
	int64_t U = e->alice;
	enum { N = 10000, PAGE = 512 };
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	notes nt;
	memset(&nt, 0, sizeof nt);
	m->set_notify(m, note_cb, &nt);
	double t0 = seconds();
	assert_int_equal(m->begin(m), 0);
	for (int i = 0; i < N; i++) {
		char subj[32];
		snprintf(subj, sizeof subj, "message %d", i);
		add_mail(e, U, inbox, subj, 1600000000 + (i * 7919) % N, NULL, NULL);
	}
	assert_int_equal(m->commit(m), 0);
	double t1 = seconds();
	assert_int_equal(nt.n, 1); /* one notification for the whole transaction */
	m->set_notify(m, NULL, NULL);
	print_message("10000 items added in one transaction in %.2f s\n", t1 - t0);

	seen_set s = { 0, INT64_MAX, calloc(N + 1, 1), N, "" };
	assert_non_null(s.hit);
	snprintf(s.inbox, sizeof s.inbox, "%s", inbox);
	uint64_t total = 0;
	for (uint64_t off = 0; off < N; off += PAGE) {
		size_t before = s.n;
		assert_int_equal(m->item_list(&total, m, U, inbox, off, PAGE, large_cb, &s), 0);
		assert_int_equal(total, N);
		assert_int_equal(s.n - before, off + PAGE <= N ? PAGE : N - off);
	}
	assert_int_equal(s.n, N);
	free(s.hit);

	/* a device syncs it in windows of 512: 20 rounds, each item once */
	assert_int_equal(m->device_touch(m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	static got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);
	eas_mstore_window w = { 512, 0, NULL };
	size_t rounds = 0, items = 0;
	int more;
	double t2 = seconds();
	do {
		more = sync_round(e, U, "d", inbox, key, &w, &g);
		items += g.n;
		rounds++;
	} while (more);
	print_message("synced in %zu windows in %.2f s\n", rounds, seconds() - t2);
	assert_int_equal(items, N);
	assert_int_equal(rounds, (N + 511) / 512);
	uint64_t pending;
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, NULL), 0);
	assert_int_equal(pending, 0);
	eas_mstore_result r;
	assert_int_equal(m->folder_empty(&r, m, U, inbox, 0, NULL), 0);
	assert_int_equal(m->sync_pending(&pending, m, U, "d", inbox, NULL), 0);
	assert_int_equal(pending, N);
}

/* ---- failing allocations ----------------------------------------------------------------- */

static void test_alloc_failures(void **state)
{
	env *e = *state;
	int64_t U = e->alice;
	char inbox[EAS_MSTORE_ID_SIZE], id[EAS_MSTORE_ID_SIZE];
	folder_of(e, U, EAS_MSTORE_FOLDER_INBOX, inbox);
	eas_mstore_attachment_data att = { "a", "text/plain", NULL, NULL, 1, 0, (const uint8_t *)"zz", 2 };
	eas_mstore_item_data d = mail("t", 5);
	d.attachments = &att;
	d.attachment_count = 1;
	d.body = (const uint8_t *)"body";
	d.body_len = 4;
	d.body_type = 1;
	assert_int_equal(e->m->item_add(id, e->m, U, inbox, &d, NULL), 0);
	assert_int_equal(e->m->device_touch(e->m, U, "d", NULL), 0);
	char key[EAS_MSTORE_ID_SIZE] = "0";
	got g;
	sync_round(e, U, "d", inbox, key, NULL, &g);

	/* every allocation of each call fails once: a clean error, no leak, then success */
	for (int which = 0; which < 4; which++) {
		int done_ok = 0;
		for (long fail = 0; fail < 50 && !done_ok; fail++) {
			e->tm.fail_at = e->tm.calls + fail;
			long blocks = e->tm.live_blocks;
			int rc;
			eas_mstore_item *it = NULL;
			eas_mstore_device *dev = NULL;
			eas_mstore_attachment *a = NULL;
			switch (which) {
			case 0:
				rc = e->m->item_get(&it, e->m, U, id, EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS);
				if (!rc) {
					assert_string_equal(it->attachments[0].content_type, "text/plain");
					assert_memory_equal(it->body, "body", 4);
				}
				e->m->release(e->m, it);
				break;
			case 1:
				rc = e->m->device_get(&dev, e->m, U, "d");
				e->m->release(e->m, dev);
				break;
			case 2:
				rc = e->m->attachment_get(&a, e->m, U, "1.1");
				if (rc == EAS_E_NOTFOUND)
					rc = 0; /* the reference format is the store's business */
				e->m->release(e->m, a);
				break;
			default: {
				eas_mstore_sync y;
				assert_int_equal(e->m->sync_check(&y, e->m, U, "d", inbox, key, "Sync"), 0);
				assert_int_equal(e->m->begin(e->m), 0);
				got_reset(&g);
				rc = e->m->sync_changes(NULL, e->m, &y, NULL, got_cb, &g);
				if (!rc)
					rc = e->m->sync_commit(e->m, &y, (const uint8_t *)"x", 1);
				if (rc) {
					assert_int_equal(e->m->rollback(e->m), 0);
				} else {
					assert_int_equal(e->m->commit(e->m), 0);
					memcpy(key, y.next_key, sizeof key);
					assert_int_equal(g.n, 1);
				}
				break;
			}
			}
			assert_true(rc == 0 || rc == EAS_E_NOMEM);
			assert_int_equal(e->tm.live_blocks, blocks);
			done_ok = rc == 0;
		}
		assert_true(done_ok);
		/* the next round must again have work */
		if (which == 3)
			break;
		eas_mstore_item_data ch = mail("t2", 6);
		e->tm.fail_at = -1;
		assert_int_equal(e->m->item_change(e->m, U, id, &ch, EAS_MSTORE_SET_SUMMARY, NULL), 0);
	}
	e->tm.fail_at = -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_helpers),
		cmocka_unit_test_setup_teardown(test_open_and_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accounts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_verify_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_default_folders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_items_and_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_item_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_isolation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_two_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_window_and_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_stale, setup, teardown),
		cmocka_unit_test_setup_teardown(test_folder_hierarchy_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notify, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wipe_and_policy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rollback_no_trace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_large_folder, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_failures, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
