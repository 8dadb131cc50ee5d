/*
 * The client state store contract (eas/sys/store.h), run against every
 * implementation: the in-memory store always, the SQLite one when built.
 * Values, folders (replace, delete cascading to items and changes), items
 * (upsert by (folder, ServerId), so a replayed response leaves each item
 * once; order; clear; count), the change queue (FIFO, READ/FLAG applied to
 * the item, done, retry), wipe, transactions (rollback undoes everything,
 * no nesting), argument limits, callbacks, and every allocation failing in
 * turn (clear error, state unchanged, no leak).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "eas_config.h"
#include "eas/sys/store.h"
#if EAS_HAVE_SQLITE
#include <sqlite3.h>

#include "eas/store_sqlite.h"
#endif
#include "testmem.h"

/* ---- implementations under test -------------------------------------------------- */

typedef struct impl {
	const char *name;
	int persistent;
	int (*open)(eas_store **out, const char *path, const eas_mem *mem);
} impl;

static int open_memory(eas_store **out, const char *path, const eas_mem *mem)
{
	(void)path;
	return eas_store_memory_new(out, mem);
}

static const impl impl_memory = { "memory", 0, open_memory };
#if EAS_HAVE_SQLITE
static const impl impl_sqlite = { "sqlite", 1, eas_store_sqlite_open };
#endif

typedef struct env {
	const impl *impl;
	char dir[64];
	char path[128];
	testmem tm;
	eas_mem mem;
	eas_store *st;
} env;

static int setup(void **state)
{
	env *e = calloc(1, sizeof *e);
	assert_non_null(e);
	e->impl = *state;
	snprintf(e->dir, sizeof e->dir, "/tmp/eas-cstore-XXXXXX");
	assert_non_null(mkdtemp(e->dir));
	snprintf(e->path, sizeof e->path, "%s/state.db", e->dir);
	e->mem = testmem_init(&e->tm, -1);
	assert_int_equal(e->impl->open(&e->st, e->path, &e->mem), 0);
	assert_non_null(e->st);
	assert_int_equal(e->st->version, EAS_STORE_VERSION);
	*state = e;
	return 0;
}

static void remove_db(env *e)
{
	static const char *const suffix[] = { "", "-wal", "-shm", "-journal" };
	for (size_t i = 0; i < 4; i++) {
		char p[160];
		snprintf(p, sizeof p, "%s%s", e->path, suffix[i]);
		unlink(p);
	}
}

static int teardown(void **state)
{
	env *e = *state;
	if (e->st)
		e->st->close(e->st);
	assert_int_equal(e->tm.live_blocks, 0);
	remove_db(e);
	rmdir(e->dir);
	free(e);
	return 0;
}

/* ---- builders and a textual snapshot of the whole store ---------------------------- */

static eas_store_folder folder(const char *id, const char *parent, const char *name, const char *key)
{
	eas_store_folder f;
	memset(&f, 0, sizeof f);
	f.server_id = id;
	f.parent_id = parent;
	f.display_name = name;
	f.type = 2;
	f.sync_key = key;
	f.class_name = "Email";
	f.sync_wanted = 1;
	return f;
}

static eas_store_item item(const char *folder_id, const char *server_id, const char *data)
{
	eas_store_item it;
	memset(&it, 0, sizeof it);
	it.folder_id = folder_id;
	it.server_id = server_id;
	it.class_name = "Email";
	it.data = (const uint8_t *)data;
	it.data_len = data ? strlen(data) : 0;
	return it;
}

static eas_store_change change(eas_store_change_kind kind, const char *folder_id, const char *server_id, int value)
{
	eas_store_change c;
	memset(&c, 0, sizeof c);
	c.kind = kind;
	c.folder_id = folder_id;
	c.server_id = server_id;
	c.value = value;
	return c;
}

static void put_folder(eas_store *st, const char *id, const char *parent)
{
	eas_store_folder f = folder(id, parent, id, "0");
	assert_int_equal(st->folder_put(st, &f), 0);
}

static void put_item(eas_store *st, const char *folder_id, const char *server_id, const char *data)
{
	eas_store_item it = item(folder_id, server_id, data);
	assert_int_equal(st->item_put(st, &it), 0);
}

static uint64_t count(eas_store *st, const char *folder_id)
{
	uint64_t n = 99999;
	assert_int_equal(st->item_count(st, folder_id, &n), 0);
	return n;
}

typedef struct sbuf {
	char *s;
	size_t len, cap;
} sbuf;

__attribute__((format(printf, 2, 3)))
static void sb_printf(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	assert_true(n >= 0);
	if (b->len + (size_t)n + 1 > b->cap) {
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		assert_non_null(b->s);
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static int snap_item(const eas_store_item *it, void *ud)
{
	sbuf *b = ud;
	sb_printf(b, "  item %s/%s %s r%d f%d [", it->folder_id, it->server_id, it->class_name, it->read,
		  it->flag_status);
	for (size_t i = 0; i < it->data_len; i++)
		sb_printf(b, "%c", it->data[i]);
	sb_printf(b, "]\n");
	return 0;
}

typedef struct idlist {
	char ids[64][EAS_STORE_ID_MAX + 1];
	size_t n;
} idlist;

static int snap_folder(const eas_store_folder *f, void *ud)
{
	void **p = ud;
	sbuf *b = p[0];
	idlist *ids = p[1];
	sb_printf(b, "folder %s p=%s n=%s t=%u k=%s c=%s w=%d m=%d\n", f->server_id, f->parent_id, f->display_name,
		  f->type, f->sync_key, f->class_name, f->sync_wanted, f->more_available);
	assert_true(ids->n < 64);
	snprintf(ids->ids[ids->n++], EAS_STORE_ID_MAX + 1, "%s", f->server_id);
	return 0;
}

static int snap_change(const eas_store_change *c, void *ud)
{
	sbuf *b = ud;
	sb_printf(b, "change %lld k%d %s s=%s c=%s cl=%s d=%s v=%d a=%u [", (long long)c->id, (int)c->kind, c->folder_id,
		  c->server_id ? c->server_id : "-", c->client_id ? c->client_id : "-",
		  c->class_name ? c->class_name : "-", c->dest_folder_id ? c->dest_folder_id : "-", c->value,
		  c->attempts);
	for (size_t i = 0; i < c->data_len; i++)
		sb_printf(b, "%c", c->data[i]);
	sb_printf(b, "]\n");
	return 0;
}

/*
 * Everything the store holds, as text (the caller frees it).  Allocations the
 * listing makes do not count against a testmem failure schedule.
 */
static char *snapshot(env *e)
{
	long fail_at = e->tm.fail_at, calls = e->tm.calls;
	e->tm.fail_at = -1;
	eas_store *st = e->st;
	sbuf b = { NULL, 0, 0 };
	sb_printf(&b, "store\n");
	static const char *const keys[] = { "policy_key", "folder_sync_key", "heartbeat:wifi", "k1", "k2" };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		char v[64];
		int rc = st->value_get(st, keys[i], v, sizeof v);
		assert_true(rc == 0 || rc == EAS_E_NOTFOUND);
		sb_printf(&b, "value %s=%s\n", keys[i], rc ? "(none)" : v);
	}
	idlist ids;
	ids.n = 0;
	void *p[2] = { &b, &ids };
	assert_int_equal(st->folder_list(st, snap_folder, p), 0);
	for (size_t i = 0; i < ids.n; i++) {
		sb_printf(&b, " items of %s: %llu\n", ids.ids[i], (unsigned long long)count(st, ids.ids[i]));
		assert_int_equal(st->item_list(st, ids.ids[i], snap_item, &b), 0);
	}
	assert_int_equal(st->change_list(st, NULL, snap_change, &b), 0);
	e->tm.fail_at = fail_at;
	e->tm.calls = calls;
	return b.s;
}

/* A store with some of everything, for the wipe, rollback and failure tests. */
static void populate(eas_store *st)
{
	assert_int_equal(st->value_set(st, "policy_key", "3942919513"), 0);
	assert_int_equal(st->value_set(st, "k1", "one"), 0);
	put_folder(st, "1", "0");
	put_folder(st, "2", "0");
	put_folder(st, "2a", "2");
	put_item(st, "1", "1:1", "alpha");
	put_item(st, "1", "1:2", "beta");
	put_item(st, "2", "2:1", "gamma");
	put_item(st, "2a", "2a:1", NULL);
	eas_store_change c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 1);
	assert_int_equal(st->change_add(st, &c, NULL), 0);
	c = change(EAS_STORE_CHANGE_DELETE, "2", "2:1", 0);
	assert_int_equal(st->change_add(st, &c, NULL), 0);
}

/* ---- values -------------------------------------------------------------------------- */

static void test_values(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	char buf[16];
	assert_int_equal(st->value_get(st, "policy_key", buf, sizeof buf), EAS_E_NOTFOUND);
	assert_int_equal(st->value_set(st, "policy_key", "12345"), 0);
	assert_int_equal(st->value_get(st, "policy_key", buf, sizeof buf), 0);
	assert_string_equal(buf, "12345");
	assert_int_equal(st->value_set(st, "policy_key", "678"), 0);
	assert_int_equal(st->value_get(st, "policy_key", buf, sizeof buf), 0);
	assert_string_equal(buf, "678");
	/* exactly fitting, then one byte short */
	assert_int_equal(st->value_get(st, "policy_key", buf, 4), 0);
	assert_int_equal(st->value_get(st, "policy_key", buf, 3), EAS_E_LIMIT);
	/* the empty string is a value, distinct from absent */
	assert_int_equal(st->value_set(st, "k1", ""), 0);
	assert_int_equal(st->value_get(st, "k1", buf, sizeof buf), 0);
	assert_string_equal(buf, "");
	assert_int_equal(st->value_set(st, "k1", NULL), 0);
	assert_int_equal(st->value_get(st, "k1", buf, sizeof buf), EAS_E_NOTFOUND);
	assert_int_equal(st->value_set(st, "k1", NULL), 0); /* deleting an absent key is not an error */
	assert_int_equal(st->value_get(st, "policy_key", buf, sizeof buf), 0);
	/* bad arguments */
	assert_int_equal(st->value_get(st, "policy_key", NULL, 4), EAS_E_INVALID);
	assert_int_equal(st->value_get(st, "policy_key", buf, 0), EAS_E_INVALID);
	assert_int_equal(st->value_get(st, NULL, buf, sizeof buf), EAS_E_INVALID);
	assert_int_equal(st->value_set(st, "", "x"), EAS_E_INVALID);
	assert_int_equal(st->value_set(st, NULL, "x"), EAS_E_INVALID);
}

/* ---- folders ------------------------------------------------------------------------- */

static int collect_folder_ids(const eas_store_folder *f, void *ud)
{
	sbuf *b = ud;
	sb_printf(b, "%s,", f->server_id);
	return 0;
}

static void test_folders(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	eas_store_folder f = folder("5", "0", "Inbox", "0"), got;
	f.type = 2;
	f.more_available = 1;
	assert_int_equal(st->folder_get(st, "5", &got), EAS_E_NOTFOUND);
	assert_int_equal(st->folder_put(st, &f), 0);
	assert_int_equal(st->folder_get(st, "5", &got), 0);
	assert_string_equal(got.server_id, "5");
	assert_string_equal(got.parent_id, "0");
	assert_string_equal(got.display_name, "Inbox");
	assert_int_equal(got.type, 2);
	assert_string_equal(got.sync_key, "0");
	assert_string_equal(got.class_name, "Email");
	assert_int_equal(got.sync_wanted, 1);
	assert_int_equal(got.more_available, 1);

	/* replace: every field, the items stay */
	put_item(st, "5", "5:1", "x");
	f.display_name = "Posteingang";
	f.sync_key = "{abc}2";
	f.sync_wanted = 0;
	f.more_available = 0;
	assert_int_equal(st->folder_put(st, &f), 0);
	assert_int_equal(st->folder_get(st, "5", &got), 0);
	assert_string_equal(got.display_name, "Posteingang");
	assert_string_equal(got.sync_key, "{abc}2");
	assert_int_equal(got.sync_wanted, 0);
	assert_int_equal(got.more_available, 0);
	assert_int_equal(count(st, "5"), 1);

	/* NULL optional fields read as their defaults */
	eas_store_folder bare;
	memset(&bare, 0, sizeof bare);
	bare.server_id = "9";
	bare.type = 1;
	assert_int_equal(st->folder_put(st, &bare), 0);
	assert_int_equal(st->folder_get(st, "9", &got), 0);
	assert_string_equal(got.parent_id, "0");
	assert_string_equal(got.display_name, "");
	assert_string_equal(got.sync_key, "0");
	assert_string_equal(got.class_name, "");

	/* parents before children, even when a child arrived first */
	put_folder(st, "c2", "c1");
	put_folder(st, "c1", "5");
	put_folder(st, "orphan", "nowhere");
	sbuf b = { NULL, 0, 0 };
	assert_int_equal(st->folder_list(st, collect_folder_ids, &b), 0);
	const char *p5 = strstr(b.s, "5,"), *pc1 = strstr(b.s, "c1,"), *pc2 = strstr(b.s, "c2,");
	assert_non_null(p5);
	assert_non_null(pc1);
	assert_non_null(pc2);
	assert_true(p5 < pc1 && pc1 < pc2);
	assert_non_null(strstr(b.s, "orphan,"));
	assert_non_null(strstr(b.s, "9,"));
	free(b.s);

	/* delete cascades to the folder's items and changes, not to others */
	put_item(st, "9", "9:1", "y");
	eas_store_change c = change(EAS_STORE_CHANGE_READ, "5", "5:1", 1);
	assert_int_equal(st->change_add(st, &c, NULL), 0);
	c = change(EAS_STORE_CHANGE_FLAG, "9", "9:1", 2);
	assert_int_equal(st->change_add(st, &c, NULL), 0);
	assert_int_equal(st->folder_delete(st, "5"), 0);
	assert_int_equal(st->folder_get(st, "5", &got), EAS_E_NOTFOUND);
	uint64_t n;
	assert_int_equal(st->item_count(st, "5", &n), EAS_E_NOTFOUND);
	eas_store_item it;
	assert_int_equal(st->item_get(st, "5", "5:1", &it), EAS_E_NOTFOUND);
	assert_int_equal(st->item_get(st, "9", "9:1", &it), 0);
	char *s = snapshot(e);
	assert_null(strstr(s, "change 1 "));
	assert_non_null(strstr(s, "change 2 k5 9 s=9:1"));
	free(s);
	assert_int_equal(st->folder_delete(st, "5"), EAS_E_NOTFOUND);
	/* a re-created folder starts empty */
	put_folder(st, "5", "0");
	assert_int_equal(count(st, "5"), 0);
	assert_int_equal(st->folder_list(st, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(st->folder_put(st, NULL), EAS_E_INVALID);
	assert_int_equal(st->folder_get(st, "5", NULL), EAS_E_INVALID);
}

/* ---- items --------------------------------------------------------------------------- */

static int collect_item_ids(const eas_store_item *it, void *ud)
{
	sbuf *b = ud;
	sb_printf(b, "%s,", it->server_id);
	return 0;
}

static void test_items(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	put_folder(st, "1", "0");
	put_folder(st, "2", "0");
	eas_store_item it = item("1", "1:1", "first"), got;
	assert_int_equal(st->item_get(st, "1", "1:1", &got), EAS_E_NOTFOUND);
	it.read = 1;
	it.flag_status = 2;
	assert_int_equal(st->item_put(st, &it), 0);
	assert_int_equal(st->item_get(st, "1", "1:1", &got), 0);
	assert_string_equal(got.folder_id, "1");
	assert_string_equal(got.server_id, "1:1");
	assert_string_equal(got.class_name, "Email");
	assert_int_equal(got.data_len, 5);
	assert_memory_equal(got.data, "first", 5);
	assert_int_equal(got.read, 1);
	assert_int_equal(got.flag_status, 2);

	/* a replayed response: the same items again leave each once, with the last data */
	for (int round = 0; round < 3; round++) {
		put_item(st, "1", "1:1", "first again");
		put_item(st, "1", "1:2", "second");
		put_item(st, "1", "1:3", "third");
	}
	assert_int_equal(count(st, "1"), 3);
	assert_int_equal(st->item_get(st, "1", "1:1", &got), 0);
	assert_int_equal(got.data_len, 11);
	assert_memory_equal(got.data, "first again", 11);
	assert_int_equal(got.read, 0);

	/* the same ServerId in another folder is another item */
	put_item(st, "2", "1:1", "other");
	assert_int_equal(count(st, "2"), 1);
	assert_int_equal(count(st, "1"), 3);

	/* insertion order; a replaced item keeps its place, a re-added one goes last */
	sbuf b = { NULL, 0, 0 };
	assert_int_equal(st->item_list(st, "1", collect_item_ids, &b), 0);
	assert_string_equal(b.s, "1:1,1:2,1:3,");
	put_item(st, "1", "1:1", "changed");
	assert_int_equal(st->item_delete(st, "1", "1:2"), 0);
	put_item(st, "1", "1:2", "back");
	b.len = 0;
	assert_int_equal(st->item_list(st, "1", collect_item_ids, &b), 0);
	assert_string_equal(b.s, "1:1,1:3,1:2,");
	free(b.s);

	/* empty data */
	put_item(st, "1", "1:4", NULL);
	assert_int_equal(st->item_get(st, "1", "1:4", &got), 0);
	assert_int_equal(got.data_len, 0);

	/* delete */
	assert_int_equal(st->item_delete(st, "1", "1:4"), 0);
	assert_int_equal(st->item_delete(st, "1", "1:4"), EAS_E_NOTFOUND);
	assert_int_equal(st->item_get(st, "1", "1:4", &got), EAS_E_NOTFOUND);

	/* clear one folder only */
	assert_int_equal(st->item_clear(st, "1"), 0);
	assert_int_equal(count(st, "1"), 0);
	assert_int_equal(count(st, "2"), 1);
	assert_int_equal(st->item_clear(st, "1"), 0);

	/* unknown folder, bad records */
	it = item("nope", "x", "d");
	assert_int_equal(st->item_put(st, &it), EAS_E_NOTFOUND);
	uint64_t n;
	assert_int_equal(st->item_count(st, "nope", &n), EAS_E_NOTFOUND);
	assert_int_equal(st->item_clear(st, "nope"), EAS_E_NOTFOUND);
	assert_int_equal(st->item_list(st, "nope", collect_item_ids, NULL), EAS_E_NOTFOUND);
	it = item("1", "x", NULL);
	it.data_len = 3;
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	it = item("1", "x", "d");
	it.flag_status = 3;
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	it = item("1", "", "d");
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	assert_int_equal(st->item_put(st, NULL), EAS_E_INVALID);
	assert_int_equal(st->item_count(st, "1", NULL), EAS_E_INVALID);
	assert_int_equal(st->item_get(st, "1", "1:1", NULL), EAS_E_INVALID);
	assert_int_equal(count(st, "1"), 0);
}

/* Many items: the hashed lookups and the count stay right past table growth. */
static void test_items_many(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	put_folder(st, "1", "0");
	put_folder(st, "2", "0");
	char id[32], data[32];
	assert_int_equal(st->begin(st), 0);
	for (int i = 0; i < 3000; i++) {
		snprintf(id, sizeof id, "1:%d", i);
		snprintf(data, sizeof data, "mail %d", i);
		put_item(st, i % 3 ? "1" : "2", id, data);
	}
	assert_int_equal(st->commit(st), 0);
	assert_int_equal(count(st, "1"), 2000);
	assert_int_equal(count(st, "2"), 1000);
	for (int i = 0; i < 3000; i += 7) {
		eas_store_item got;
		snprintf(id, sizeof id, "1:%d", i);
		snprintf(data, sizeof data, "mail %d", i);
		assert_int_equal(st->item_get(st, i % 3 ? "1" : "2", id, &got), 0);
		assert_int_equal(got.data_len, strlen(data));
		assert_memory_equal(got.data, data, got.data_len);
		assert_int_equal(st->item_get(st, i % 3 ? "2" : "1", id, &got), EAS_E_NOTFOUND);
	}
	assert_int_equal(st->folder_delete(st, "2"), 0);
	assert_int_equal(count(st, "1"), 2000);
}

/* ---- the change queue ------------------------------------------------------------------ */

typedef struct changes_seen {
	int64_t ids[16];
	int kinds[16];
	uint32_t attempts[16];
	size_t n;
	size_t stop_at;
} changes_seen;

static int see_change(const eas_store_change *c, void *ud)
{
	changes_seen *s = ud;
	if (s->n == s->stop_at)
		return 1;
	assert_true(s->n < 16);
	s->ids[s->n] = c->id;
	s->kinds[s->n] = c->kind;
	s->attempts[s->n] = c->attempts;
	s->n++;
	return 0;
}

static void test_changes(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	put_folder(st, "1", "0");
	put_folder(st, "2", "0");
	put_item(st, "1", "1:1", "mail");
	int64_t id[6];
	eas_store_change c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 1);
	assert_int_equal(st->change_add(st, &c, &id[0]), 0);
	c = change(EAS_STORE_CHANGE_ADD, "2", NULL, 0);
	c.client_id = "client-1";
	c.class_name = "Email";
	c.data = (const uint8_t *)"newdoc";
	c.data_len = 6;
	assert_int_equal(st->change_add(st, &c, &id[1]), 0);
	c = change(EAS_STORE_CHANGE_FLAG, "1", "1:1", 2);
	assert_int_equal(st->change_add(st, &c, &id[2]), 0);
	c = change(EAS_STORE_CHANGE_MOVE, "1", "1:1", 0);
	c.dest_folder_id = "2";
	assert_int_equal(st->change_add(st, &c, &id[3]), 0);
	c = change(EAS_STORE_CHANGE_CHANGE, "2", "2:9", 0);
	assert_int_equal(st->change_add(st, &c, NULL), 0); /* id_out may be NULL */
	c = change(EAS_STORE_CHANGE_DELETE, "1", "1:7", 0); /* an item the store does not hold */
	assert_int_equal(st->change_add(st, &c, &id[5]), 0);
	for (int i = 1; i < 4; i++)
		assert_true(id[i] > id[i - 1]);
	assert_true(id[5] > id[3]);

	/* READ and FLAG show in the stored item at once */
	eas_store_item got;
	assert_int_equal(st->item_get(st, "1", "1:1", &got), 0);
	assert_int_equal(got.read, 1);
	assert_int_equal(got.flag_status, 2);
	assert_memory_equal(got.data, "mail", 4);

	/* FIFO, all folders or one */
	changes_seen s;
	memset(&s, 0, sizeof s);
	s.stop_at = 99;
	assert_int_equal(st->change_list(st, NULL, see_change, &s), 0);
	assert_int_equal(s.n, 6);
	for (size_t i = 1; i < s.n; i++)
		assert_true(s.ids[i] > s.ids[i - 1]);
	assert_int_equal(s.kinds[0], EAS_STORE_CHANGE_READ);
	assert_int_equal(s.kinds[1], EAS_STORE_CHANGE_ADD);
	assert_int_equal(s.kinds[5], EAS_STORE_CHANGE_DELETE);
	memset(&s, 0, sizeof s);
	s.stop_at = 99;
	assert_int_equal(st->change_list(st, "1", see_change, &s), 0);
	assert_int_equal(s.n, 4);
	assert_int_equal(s.ids[0], id[0]);
	assert_int_equal(s.ids[1], id[2]);
	assert_int_equal(s.ids[2], id[3]);
	assert_int_equal(s.ids[3], id[5]);
	assert_int_equal(st->change_list(st, "nope", see_change, &s), EAS_E_NOTFOUND);

	/* every field comes back */
	char *snap = snapshot(e);
	assert_non_null(strstr(snap, "k1 2 s=- c=client-1 cl=Email d=- v=0 a=0 [newdoc]"));
	assert_non_null(strstr(snap, "k6 1 s=1:1 c=- cl=- d=2 v=0 a=0 []"));
	free(snap);

	/* retry counts, done removes */
	assert_int_equal(st->change_retry(st, id[1]), 0);
	assert_int_equal(st->change_retry(st, id[1]), 0);
	assert_int_equal(st->change_done(st, id[0]), 0);
	assert_int_equal(st->change_done(st, id[0]), EAS_E_NOTFOUND);
	assert_int_equal(st->change_retry(st, id[0]), EAS_E_NOTFOUND);
	assert_int_equal(st->change_done(st, 999999), EAS_E_NOTFOUND);
	memset(&s, 0, sizeof s);
	s.stop_at = 99;
	assert_int_equal(st->change_list(st, NULL, see_change, &s), 0);
	assert_int_equal(s.n, 5);
	assert_int_equal(s.ids[0], id[1]);
	assert_int_equal(s.attempts[0], 2);
	/* the retried change keeps its place in the queue */
	assert_int_equal(s.ids[1], id[2]);

	/* new ids stay above every id handed out, even after the newest is done */
	assert_int_equal(st->change_done(st, id[5]), 0);
	c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 0);
	int64_t later;
	assert_int_equal(st->change_add(st, &c, &later), 0);
	assert_true(later > id[5]);
	assert_int_equal(st->item_get(st, "1", "1:1", &got), 0);
	assert_int_equal(got.read, 0);

	/* bad changes */
	c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 2);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_FLAG, "1", "1:1", 3);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_READ, "1", NULL, 1);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_ADD, "1", NULL, 0); /* no client_id */
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_MOVE, "1", "1:1", 0); /* no destination */
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change((eas_store_change_kind)0, "1", "1:1", 0);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change((eas_store_change_kind)7, "1", "1:1", 0);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_DELETE, "nope", "1:1", 0);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_NOTFOUND);
	assert_int_equal(st->change_add(st, NULL, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_CHANGE, "1", "1:1", 0);
	c.data_len = 1;
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	assert_int_equal(st->change_list(st, NULL, NULL, NULL), EAS_E_INVALID);
}

/* ---- callbacks --------------------------------------------------------------------------- */

typedef struct reentry {
	eas_store *st;
	int calls;
	int rc_put, rc_del, rc_begin, rc_get, rc_list, rc_count;
} reentry;

static int nothing(const eas_store_folder *f, void *ud)
{
	(void)f;
	(void)ud;
	return 0;
}

static int mutate_inside(const eas_store_item *it, void *ud)
{
	reentry *r = ud;
	eas_store_item other = item("1", "1:9", "x"), got;
	r->calls++;
	r->rc_put = r->st->item_put(r->st, &other);
	r->rc_del = r->st->item_delete(r->st, it->folder_id, it->server_id);
	r->rc_begin = r->st->begin(r->st);
	r->rc_get = r->st->item_get(r->st, "1", "1:2", &got);
	r->rc_list = r->st->folder_list(r->st, nothing, NULL);
	uint64_t n;
	r->rc_count = r->st->item_count(r->st, "1", &n);
	/* the record handed to this callback is still intact after those calls */
	assert_string_equal(it->folder_id, "1");
	return 0;
}

static int stop_item(const eas_store_item *it, void *ud)
{
	int *n = ud;
	(void)it;
	return ++*n == 2;
}

static int stop_folder(const eas_store_folder *f, void *ud)
{
	(void)f;
	(void)ud;
	return -1;
}

static void test_callbacks(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	put_folder(st, "1", "0");
	put_item(st, "1", "1:1", "a");
	put_item(st, "1", "1:2", "b");
	put_item(st, "1", "1:3", "c");
	int n = 0;
	assert_int_equal(st->item_list(st, "1", stop_item, &n), EAS_E_CALLBACK);
	assert_int_equal(n, 2);
	assert_int_equal(st->folder_list(st, stop_folder, NULL), EAS_E_CALLBACK);
	changes_seen s;
	memset(&s, 0, sizeof s);
	eas_store_change c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 1);
	assert_int_equal(st->change_add(st, &c, NULL), 0);
	s.stop_at = 0;
	assert_int_equal(st->change_list(st, NULL, see_change, &s), EAS_E_CALLBACK);

	/* reading inside a callback works; modifying the store does not */
	reentry r = { st, 0, 1, 1, 1, 1, 1, 1 };
	assert_int_equal(st->item_list(st, "1", mutate_inside, &r), 0);
	assert_int_equal(r.calls, 3);
	assert_int_equal(r.rc_put, EAS_E_STATE);
	assert_int_equal(r.rc_del, EAS_E_STATE);
	assert_int_equal(r.rc_begin, EAS_E_STATE);
	assert_int_equal(r.rc_get, 0);
	assert_int_equal(r.rc_list, EAS_E_STATE);
	assert_int_equal(r.rc_count, 0);
	assert_int_equal(count(st, "1"), 3);
	/* and the store works again afterwards */
	put_item(st, "1", "1:4", "d");
	assert_int_equal(count(st, "1"), 4);
}

/* ---- wipe and transactions ---------------------------------------------------------------- */

static void test_wipe(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	populate(st);
	assert_int_equal(st->wipe(st), 0);
	char *s = snapshot(e);
	assert_string_equal(s, "store\nvalue policy_key=(none)\nvalue folder_sync_key=(none)\n"
			       "value heartbeat:wifi=(none)\nvalue k1=(none)\nvalue k2=(none)\n");
	free(s);
	/* usable afterwards */
	populate(st);
	assert_int_equal(count(st, "1"), 2);
	assert_int_equal(st->wipe(st), 0);
	assert_int_equal(st->wipe(st), 0);
}

static void test_transactions(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	assert_int_equal(st->commit(st), EAS_E_STATE);
	assert_int_equal(st->rollback(st), EAS_E_STATE);
	populate(st);
	char *before = snapshot(e);

	/* a transaction touching everything, rolled back */
	assert_int_equal(st->begin(st), 0);
	assert_int_equal(st->begin(st), EAS_E_STATE);
	assert_int_equal(st->value_set(st, "policy_key", "0"), 0);
	assert_int_equal(st->value_set(st, "k1", NULL), 0);
	assert_int_equal(st->value_set(st, "k2", "two"), 0);
	eas_store_folder f = folder("1", "0", "renamed", "{k}5");
	assert_int_equal(st->folder_put(st, &f), 0);
	put_folder(st, "3", "0");
	put_item(st, "3", "3:1", "new");
	put_item(st, "1", "1:1", "replaced");
	put_item(st, "1", "1:3", "added");
	assert_int_equal(st->item_delete(st, "1", "1:2"), 0);
	put_item(st, "1", "1:2", "re-added");
	eas_store_change c = change(EAS_STORE_CHANGE_FLAG, "1", "1:1", 1);
	int64_t cid;
	assert_int_equal(st->change_add(st, &c, &cid), 0);
	assert_int_equal(st->change_retry(st, cid), 0);
	assert_int_equal(st->change_done(st, 1), 0);
	assert_int_equal(st->folder_delete(st, "2"), 0);
	assert_int_equal(st->item_clear(st, "2a"), 0);
	assert_int_equal(count(st, "1"), 3);
	assert_int_equal(st->wipe(st), 0);
	populate(st);
	put_item(st, "2a", "x", "y");
	char *inside = snapshot(e);
	assert_string_not_equal(inside, before);
	free(inside);
	assert_int_equal(st->rollback(st), 0);
	char *after = snapshot(e);
	assert_string_equal(after, before);
	free(after);

	/* a change id handed out in a rolled back transaction is not a queued change */
	assert_int_equal(st->change_done(st, cid), EAS_E_NOTFOUND);

	/* committed: stays */
	assert_int_equal(st->begin(st), 0);
	put_item(st, "1", "1:3", "kept");
	f = folder("1", "0", "1", "{k}6");
	assert_int_equal(st->folder_put(st, &f), 0);
	assert_int_equal(st->commit(st), 0);
	assert_int_equal(st->commit(st), EAS_E_STATE);
	eas_store_folder got;
	assert_int_equal(st->folder_get(st, "1", &got), 0);
	assert_string_equal(got.sync_key, "{k}6");
	assert_int_equal(count(st, "1"), 3);

	/* a failing call inside a transaction leaves the transaction's earlier work */
	assert_int_equal(st->begin(st), 0);
	put_item(st, "1", "1:4", "four");
	eas_store_item bad = item("nope", "x", "y");
	assert_int_equal(st->item_put(st, &bad), EAS_E_NOTFOUND);
	assert_int_equal(st->commit(st), 0);
	assert_int_equal(count(st, "1"), 4);
	free(before);
}

/* ---- limits --------------------------------------------------------------------------------- */

static void test_limits(void **state)
{
	env *e = *state;
	eas_store *st = e->st;
	char id_max[EAS_STORE_ID_MAX + 1], id_long[EAS_STORE_ID_MAX + 2];
	char name_long[EAS_STORE_NAME_MAX + 2], class_long[EAS_STORE_CLASS_MAX + 2];
	memset(id_max, 'i', EAS_STORE_ID_MAX);
	id_max[EAS_STORE_ID_MAX] = 0;
	memset(id_long, 'i', EAS_STORE_ID_MAX + 1);
	id_long[EAS_STORE_ID_MAX + 1] = 0;
	memset(name_long, 'n', EAS_STORE_NAME_MAX + 1);
	name_long[EAS_STORE_NAME_MAX + 1] = 0;
	memset(class_long, 'c', EAS_STORE_CLASS_MAX + 1);
	class_long[EAS_STORE_CLASS_MAX + 1] = 0;

	/* the maximum itself is fine */
	eas_store_folder f = folder(id_max, "0", "x", id_max);
	assert_int_equal(st->folder_put(st, &f), 0);
	put_item(st, id_max, id_max, "d");
	eas_store_item got;
	assert_int_equal(st->item_get(st, id_max, id_max, &got), 0);
	assert_int_equal(strlen(got.server_id), EAS_STORE_ID_MAX);

	/* one more byte is not */
	f = folder(id_long, "0", "x", "0");
	assert_int_equal(st->folder_put(st, &f), EAS_E_INVALID);
	f = folder("1", id_long, "x", "0");
	assert_int_equal(st->folder_put(st, &f), EAS_E_INVALID);
	f = folder("1", "0", name_long, "0");
	assert_int_equal(st->folder_put(st, &f), EAS_E_INVALID);
	f = folder("1", "0", "x", id_long);
	assert_int_equal(st->folder_put(st, &f), EAS_E_INVALID);
	f = folder("1", "0", "x", "0");
	f.class_name = class_long;
	assert_int_equal(st->folder_put(st, &f), EAS_E_INVALID);
	eas_store_folder fg;
	assert_int_equal(st->folder_get(st, id_long, &fg), EAS_E_INVALID);
	assert_int_equal(st->folder_delete(st, id_long), EAS_E_INVALID);

	eas_store_item it = item(id_max, id_long, "d");
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	it = item(id_long, "x", "d");
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	it = item(id_max, "x", "d");
	it.class_name = class_long;
	assert_int_equal(st->item_put(st, &it), EAS_E_INVALID);
	assert_int_equal(st->item_get(st, id_max, id_long, &got), EAS_E_INVALID);
	assert_int_equal(st->item_delete(st, id_long, "x"), EAS_E_INVALID);
	assert_int_equal(st->item_clear(st, id_long), EAS_E_INVALID);
	uint64_t n;
	assert_int_equal(st->item_count(st, id_long, &n), EAS_E_INVALID);
	assert_int_equal(st->item_list(st, id_long, collect_item_ids, NULL), EAS_E_INVALID);

	eas_store_change c = change(EAS_STORE_CHANGE_READ, id_max, id_long, 1);
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_ADD, id_max, NULL, 0);
	c.client_id = id_long;
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	c = change(EAS_STORE_CHANGE_MOVE, id_max, "x", 0);
	c.dest_folder_id = id_long;
	assert_int_equal(st->change_add(st, &c, NULL), EAS_E_INVALID);
	assert_int_equal(st->change_list(st, id_long, see_change, NULL), EAS_E_INVALID);

	char buf[8];
	assert_int_equal(st->value_set(st, name_long, "v"), EAS_E_INVALID);
	assert_int_equal(st->value_set(st, "k", name_long), EAS_E_INVALID);
	assert_int_equal(st->value_get(st, name_long, buf, sizeof buf), EAS_E_INVALID);

	/* nothing of the refused calls was stored */
	char *s = snapshot(e);
	assert_null(strstr(s, "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii"
			      "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii"
			      "iiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiiii/"));
	free(s);
	assert_int_equal(count(st, id_max), 1);
}

/* ---- allocation failures ----------------------------------------------------------------------- */

typedef enum step_kind { S_VALUE, S_FOLDER, S_ITEM, S_CHANGE, S_DONE, S_RETRY, S_DEL_ITEM, S_CLEAR,
			 S_DEL_FOLDER, S_WIPE, S_BEGIN, S_COMMIT, S_LIST, S_GET } step_kind;

typedef struct step {
	step_kind kind;
	const char *a, *b;
	int v;
} step;

static const step scenario[] = {
	{ S_VALUE, "policy_key", "1234", 0 },
	{ S_FOLDER, "1", "0", 0 },
	{ S_FOLDER, "2", "1", 0 },
	{ S_ITEM, "1", "1:1", 0 },
	{ S_ITEM, "1", "1:2", 0 },
	{ S_ITEM, "1", "1:1", 0 }, /* replace */
	{ S_CHANGE, "1", "1:1", EAS_STORE_CHANGE_READ },
	{ S_CHANGE, "2", "2:1", EAS_STORE_CHANGE_DELETE },
	{ S_RETRY, NULL, NULL, 2 },
	{ S_LIST, "1", NULL, 0 },
	{ S_GET, "1", "1:1", 0 },
	{ S_BEGIN, NULL, NULL, 0 },
	{ S_ITEM, "2", "2:1", 0 },
	{ S_ITEM, "2", "2:2", 0 },
	{ S_DONE, NULL, NULL, 1 },
	{ S_FOLDER, "1", "0", 0 },
	{ S_COMMIT, NULL, NULL, 0 },
	{ S_DEL_ITEM, "1", "1:2", 0 },
	{ S_CLEAR, "2", NULL, 0 },
	{ S_VALUE, "policy_key", NULL, 0 },
	{ S_DEL_FOLDER, "1", NULL, 0 },
	{ S_WIPE, NULL, NULL, 0 },
};

static int count_cb(const eas_store_item *it, void *ud)
{
	(void)it;
	(*(int *)ud)++;
	return 0;
}

static int run_step(eas_store *st, const step *s)
{
	switch (s->kind) {
	case S_VALUE:
		return st->value_set(st, s->a, s->b);
	case S_FOLDER: {
		eas_store_folder f = folder(s->a, s->b, "name", "{key}");
		return st->folder_put(st, &f);
	}
	case S_ITEM: {
		eas_store_item it = item(s->a, s->b, "application data");
		return st->item_put(st, &it);
	}
	case S_CHANGE: {
		eas_store_change c = change((eas_store_change_kind)s->v, s->a, s->b, 1);
		return st->change_add(st, &c, NULL);
	}
	case S_DONE:
		return st->change_done(st, s->v);
	case S_RETRY:
		return st->change_retry(st, s->v);
	case S_DEL_ITEM:
		return st->item_delete(st, s->a, s->b);
	case S_CLEAR:
		return st->item_clear(st, s->a);
	case S_DEL_FOLDER:
		return st->folder_delete(st, s->a);
	case S_WIPE:
		return st->wipe(st);
	case S_BEGIN:
		return st->begin(st);
	case S_COMMIT:
		return st->commit(st);
	case S_GET: {
		eas_store_item it;
		int rc = st->item_get(st, s->a, s->b, &it);
		if (!rc && (it.data_len != 16 || memcmp(it.data, "application data", 16) || it.read != 1))
			return -1000;
		return rc;
	}
	case S_LIST: {
		int n = 0;
		int rc = st->item_list(st, s->a, count_cb, &n);
		if (!rc && n != 2)
			return -1000;
		return rc;
	}
	}
	return -1000;
}

/*
 * Allocation N fails, for N = 0, 1, ... until the scenario runs through: the
 * failing call says EAS_E_NOMEM and changes nothing (a failure inside the
 * transaction is rolled back to the state before begin), nothing leaks.
 */
static void test_alloc_failures(void **state)
{
	env *e = *state;
	const impl *im = e->impl;
	e->st->close(e->st);
	e->st = NULL;
	int completed = 0, failures = 0;
	for (long n = 0; !completed; n++) {
		remove_db(e);
		e->mem = testmem_init(&e->tm, n);
		int rc = im->open(&e->st, e->path, &e->mem);
		if (rc) {
			failures++;
			assert_int_equal(rc, EAS_E_NOMEM);
			assert_null(e->st);
			assert_int_equal(e->tm.live_blocks, 0);
			continue;
		}
		char *before = NULL, *before_tx = NULL;
		size_t i;
		for (i = 0; i < sizeof scenario / sizeof scenario[0]; i++) {
			if (scenario[i].kind == S_BEGIN) {
				free(before_tx);
				before_tx = snapshot(e);
			}
			free(before);
			before = snapshot(e);
			rc = run_step(e->st, &scenario[i]);
			if (rc)
				break;
			if (scenario[i].kind == S_COMMIT) {
				free(before_tx);
				before_tx = NULL;
			}
		}
		if (i == sizeof scenario / sizeof scenario[0]) {
			completed = 1;
			char *s = snapshot(e);
			assert_string_equal(s, "store\nvalue policy_key=(none)\nvalue folder_sync_key=(none)\n"
					       "value heartbeat:wifi=(none)\nvalue k1=(none)\nvalue k2=(none)\n");
			free(s);
		} else {
			failures++;
			if (rc != EAS_E_NOMEM)
				fail_msg("%s: allocation %ld, step %zu: %d instead of EAS_E_NOMEM", im->name, n, i, rc);
			/* the failing call changed nothing */
			char *s = snapshot(e);
			assert_string_equal(s, before);
			free(s);
			if (before_tx) {
				assert_int_equal(e->st->rollback(e->st), 0);
				s = snapshot(e);
				assert_string_equal(s, before_tx);
				free(s);
			}
		}
		free(before);
		free(before_tx);
		e->st->close(e->st);
		e->st = NULL;
		assert_int_equal(e->tm.live_blocks, 0);
		assert_true(n < 100000);
	}
	/* the scenario allocates: some runs must have met the failure (SQLite allocates
	 * through its own allocator: only open and the get buffer use the hooks) */
	assert_true(failures >= (im->persistent ? 2 : 10));
}

static void test_null_args(void **state)
{
	(void)state;
	assert_int_equal(eas_store_memory_new(NULL, NULL), EAS_E_INVALID);
	eas_store *st = NULL;
	assert_int_equal(eas_store_memory_new(&st, NULL), 0); /* NULL hooks: libc */
	assert_string_equal(st->error(st), "");
	st->close(st);
}

/* ---- SQLite only: persistence, file, schema ----------------------------------------------------- */

#if EAS_HAVE_SQLITE
#include <sys/stat.h>

static void exec_raw(const char *path, const char *sql)
{
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static void test_sqlite_reopen(void **state)
{
	env *e = *state;
	populate(e->st);
	assert_int_equal(e->st->change_retry(e->st, 2), 0);
	char *before = snapshot(e);
	e->st->close(e->st);
	e->st = NULL;
	assert_int_equal(eas_store_sqlite_open(&e->st, e->path, &e->mem), 0);
	char *after = snapshot(e);
	assert_string_equal(after, before);
	free(after);
	/* an open transaction is rolled back by close */
	assert_int_equal(e->st->begin(e->st), 0);
	put_item(e->st, "1", "1:9", "lost");
	assert_int_equal(e->st->value_set(e->st, "k2", "lost"), 0);
	e->st->close(e->st);
	e->st = NULL;
	assert_int_equal(eas_store_sqlite_open(&e->st, e->path, &e->mem), 0);
	after = snapshot(e);
	assert_string_equal(after, before);
	free(after);
	free(before);
	/* ids stay unique across sessions */
	eas_store_change c = change(EAS_STORE_CHANGE_READ, "1", "1:1", 0);
	int64_t id;
	assert_int_equal(e->st->change_add(e->st, &c, &id), 0);
	assert_int_equal(id, 3);
}

static void test_sqlite_file(void **state)
{
	env *e = *state;
	struct stat sb;
	assert_int_equal(stat(e->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	put_folder(e->st, "1", "0"); /* the WAL file exists once something was written */
	char wal[160];
	snprintf(wal, sizeof wal, "%s-wal", e->path);
	assert_int_equal(stat(wal, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	/* WAL mode is a property of the file: a second connection sees it */
	sqlite3 *db;
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_open(e->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
	sqlite3_finalize(q);
	/* what a transaction wrote is invisible to others until commit */
	assert_int_equal(e->st->begin(e->st), 0);
	put_folder(e->st, "2", "0");
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM folders", -1, &q, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 1);
	sqlite3_reset(q);
	assert_int_equal(e->st->commit(e->st), 0);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(q, 0), 2);
	sqlite3_finalize(q);
	sqlite3_close(db);
	/* an existing file keeps its mode */
	e->st->close(e->st);
	e->st = NULL;
	assert_int_equal(chmod(e->path, 0640), 0);
	assert_int_equal(eas_store_sqlite_open(&e->st, e->path, &e->mem), 0);
	assert_int_equal(stat(e->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0640);
}

static void test_sqlite_refuses(void **state)
{
	env *e = *state;
	e->st->close(e->st);
	e->st = NULL;
	eas_store *st = (eas_store *)&st;
	assert_int_equal(eas_store_sqlite_open(NULL, e->path, NULL), EAS_E_INVALID);
	assert_int_equal(eas_store_sqlite_open(&st, NULL, NULL), EAS_E_INVALID);
	assert_null(st);
	assert_int_equal(eas_store_sqlite_open(&st, "", NULL), EAS_E_INVALID);
	/* a newer schema: refused, and left as it was */
	exec_raw(e->path, "PRAGMA user_version = 2");
	assert_int_equal(eas_store_sqlite_open(&st, e->path, &e->mem), EAS_E_UNSUPPORTED);
	assert_null(st);
	exec_raw(e->path, "PRAGMA user_version = 1");
	assert_int_equal(eas_store_sqlite_open(&st, e->path, &e->mem), 0);
	st->close(st);
	/* someone else's database */
	remove_db(e);
	exec_raw(e->path, "CREATE TABLE mail(x)");
	assert_int_equal(eas_store_sqlite_open(&st, e->path, &e->mem), EAS_E_INVALID);
	remove_db(e);
	exec_raw(e->path, "PRAGMA application_id = 1234");
	assert_int_equal(eas_store_sqlite_open(&st, e->path, &e->mem), EAS_E_INVALID);
	/* not a database at all */
	remove_db(e);
	FILE *f = fopen(e->path, "wb");
	assert_non_null(f);
	for (int i = 0; i < 200; i++)
		fputs("this is not an SQLite database, just text. ", f);
	fclose(f);
	assert_int_equal(eas_store_sqlite_open(&st, e->path, &e->mem), EAS_E_IO);
	/* a directory that does not exist */
	char path[200];
	snprintf(path, sizeof path, "%s/missing/state.db", e->dir);
	assert_int_equal(eas_store_sqlite_open(&st, path, &e->mem), EAS_E_IO);
	assert_null(st);
	/* :memory: works */
	assert_int_equal(eas_store_sqlite_open(&st, ":memory:", &e->mem), 0);
	put_folder(st, "1", "0");
	st->close(st);
	assert_int_equal(e->tm.live_blocks, 0);
}
#endif

/* ---- groups ----------------------------------------------------------------------------------- */

#define CONTRACT_TESTS(IMPL)                                                              \
	cmocka_unit_test_prestate_setup_teardown(test_values, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_folders, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_items, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_items_many, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_changes, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_callbacks, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_wipe, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_transactions, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_limits, setup, teardown, (void *)&IMPL), \
	cmocka_unit_test_prestate_setup_teardown(test_alloc_failures, setup, teardown, (void *)&IMPL)

int main(void)
{
	const struct CMUnitTest memory_tests[] = {
		CONTRACT_TESTS(impl_memory),
		cmocka_unit_test(test_null_args),
	};
	int failed = cmocka_run_group_tests_name("memory store", memory_tests, NULL, NULL);
#if EAS_HAVE_SQLITE
	const struct CMUnitTest sqlite_tests[] = {
		CONTRACT_TESTS(impl_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_sqlite_reopen, setup, teardown, (void *)&impl_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_sqlite_file, setup, teardown, (void *)&impl_sqlite),
		cmocka_unit_test_prestate_setup_teardown(test_sqlite_refuses, setup, teardown, (void *)&impl_sqlite),
	};
	failed += cmocka_run_group_tests_name("sqlite store", sqlite_tests, NULL, NULL);
#endif
	return failed;
}
