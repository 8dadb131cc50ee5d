/*
 * The client's state store over SQLite: eas_store (eas/sys/store.h) in one
 * database file, crash-safe (see eas/store_sqlite.h for the durability
 * settings and why).
 *
 * Layout:
 *   - every SQL statement is listed once (STMTS below), prepared on first use
 *     and kept; input strings are only ever bound as parameters;
 *   - no statement stays active between calls: gets copy the row into the
 *     handle's buffer (valid until the next call, as the contract says) and
 *     reset the statement, so no read snapshot pins the WAL while the app
 *     idles;
 *   - folders, items and changes reference folders(server_id) with ON DELETE
 *     CASCADE, so deleting a folder removes its items and queued changes in
 *     the same statement; an item or change for an unknown folder fails the
 *     foreign key and reads as EAS_E_NOTFOUND;
 *   - upserts (INSERT ... ON CONFLICT DO UPDATE) keep the row id, hence the
 *     listing order, of a replaced folder or item; changes use AUTOINCREMENT
 *     so an id is never handed out twice, even after the newest is done;
 *   - a call made of several statements runs in its own transaction, or in
 *     a savepoint inside the app's transaction, so it is all-or-nothing.
 */
#include "eas/store_sqlite.h"

#include <sqlite3.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "client/store_check.h"
#include "common/mem.h"

#define APPLICATION_ID 0x65617343 /* "easC": a libeas client state store */
#define BUSY_TIMEOUT_MS 5000
#define BUF_KEEP (256u * 1024u) /* a get buffer grown past this is released at the next call */

/* ---- schema ------------------------------------------------------------------------ */

static const char schema_v1[] =
	"CREATE TABLE kv(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE folders("
	" id INTEGER PRIMARY KEY,"
	" server_id TEXT NOT NULL UNIQUE, parent_id TEXT NOT NULL, display_name TEXT NOT NULL,"
	" type INTEGER NOT NULL, sync_key TEXT NOT NULL, class_name TEXT NOT NULL,"
	" sync_wanted INTEGER NOT NULL, more_available INTEGER NOT NULL);"
	"CREATE INDEX folders_parent ON folders(parent_id);"
	"CREATE TABLE items("
	" id INTEGER PRIMARY KEY,"
	" folder_id TEXT NOT NULL REFERENCES folders(server_id) ON DELETE CASCADE,"
	" server_id TEXT NOT NULL, class_name TEXT NOT NULL, data BLOB,"
	" read INTEGER NOT NULL, flag INTEGER NOT NULL,"
	" UNIQUE(folder_id, server_id));"
	"CREATE TABLE changes("
	" id INTEGER PRIMARY KEY AUTOINCREMENT, kind INTEGER NOT NULL,"
	" folder_id TEXT NOT NULL REFERENCES folders(server_id) ON DELETE CASCADE,"
	" server_id TEXT, client_id TEXT, class_name TEXT, dest_folder_id TEXT,"
	" value INTEGER NOT NULL, data BLOB, attempts INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX changes_folder ON changes(folder_id, id);";

/* migrations[i] takes the schema from version i to i + 1 (0 = empty file). */
static const char *const migrations[] = { schema_v1 };
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* EAS_STORE_SQLITE_SCHEMA_VERSION must name the last migration (C99 static assertion). */
typedef char schema_version_matches[SCHEMA_VERSION == EAS_STORE_SQLITE_SCHEMA_VERSION ? 1 : -1];

/* ---- statements ---------------------------------------------------------------------- */

#define FOLDER_COLS "f.server_id, f.parent_id, f.display_name, f.type, f.sync_key, f.class_name," \
	" f.sync_wanted, f.more_available"
#define ITEM_COLS "folder_id, server_id, class_name, data, read, flag"
#define CHANGE_COLS "id, kind, folder_id, server_id, client_id, class_name, dest_folder_id, value, data, attempts"
/* depth of each folder below the known roots; folders off the tree (cycles) sort last */
#define FOLDER_TREE "WITH RECURSIVE t(id, depth) AS (" \
	"SELECT f.id, 0 FROM folders f WHERE NOT EXISTS (SELECT 1 FROM folders p WHERE p.server_id = f.parent_id)" \
	" UNION ALL SELECT c.id, t.depth + 1 FROM t JOIN folders p ON p.id = t.id" \
	" JOIN folders c ON c.parent_id = p.server_id WHERE t.depth < 64) "

#define STMTS(X) \
	X(KV_GET, "SELECT value FROM kv WHERE key = ?1") \
	X(KV_SET, "INSERT INTO kv(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value") \
	X(KV_DEL, "DELETE FROM kv WHERE key = ?1") \
	X(F_PUT, "INSERT INTO folders(server_id, parent_id, display_name, type, sync_key, class_name," \
		" sync_wanted, more_available) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)" \
		" ON CONFLICT(server_id) DO UPDATE SET parent_id = excluded.parent_id," \
		" display_name = excluded.display_name, type = excluded.type, sync_key = excluded.sync_key," \
		" class_name = excluded.class_name, sync_wanted = excluded.sync_wanted," \
		" more_available = excluded.more_available") \
	X(F_DEL, "DELETE FROM folders WHERE server_id = ?1") \
	X(F_GET, "SELECT " FOLDER_COLS " FROM folders f WHERE f.server_id = ?1") \
	X(F_EXISTS, "SELECT 1 FROM folders WHERE server_id = ?1") \
	X(F_LIST, FOLDER_TREE "SELECT " FOLDER_COLS " FROM folders f" \
		" LEFT JOIN (SELECT id, min(depth) AS depth FROM t GROUP BY id) d ON d.id = f.id" \
		" ORDER BY coalesce(d.depth, 1000), f.id") \
	X(I_PUT, "INSERT INTO items(folder_id, server_id, class_name, data, read, flag) VALUES(?1, ?2, ?3, ?4, ?5, ?6)" \
		" ON CONFLICT(folder_id, server_id) DO UPDATE SET class_name = excluded.class_name," \
		" data = excluded.data, read = excluded.read, flag = excluded.flag") \
	X(I_DEL, "DELETE FROM items WHERE folder_id = ?1 AND server_id = ?2") \
	X(I_GET, "SELECT " ITEM_COLS " FROM items WHERE folder_id = ?1 AND server_id = ?2") \
	X(I_LIST, "SELECT " ITEM_COLS " FROM items WHERE folder_id = ?1 ORDER BY id") \
	X(I_CLEAR, "DELETE FROM items WHERE folder_id = ?1") \
	X(I_COUNT, "SELECT count(*) FROM items WHERE folder_id = ?1") \
	X(I_READ, "UPDATE items SET read = ?3 WHERE folder_id = ?1 AND server_id = ?2") \
	X(I_FLAG, "UPDATE items SET flag = ?3 WHERE folder_id = ?1 AND server_id = ?2") \
	X(C_ADD, "INSERT INTO changes(kind, folder_id, server_id, client_id, class_name, dest_folder_id, value, data)" \
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") \
	X(C_LIST_ALL, "SELECT " CHANGE_COLS " FROM changes ORDER BY id") \
	X(C_LIST, "SELECT " CHANGE_COLS " FROM changes WHERE folder_id = ?1 ORDER BY id") \
	X(C_DONE, "DELETE FROM changes WHERE id = ?1") \
	X(C_RETRY, "UPDATE changes SET attempts = min(attempts + 1, 4294967295) WHERE id = ?1") \
	X(W_CHANGES, "DELETE FROM changes") \
	X(W_ITEMS, "DELETE FROM items") \
	X(W_FOLDERS, "DELETE FROM folders") \
	X(W_KV, "DELETE FROM kv")

#define X_ENUM(name, sql) ST_##name,
#define X_SQL(name, sql) sql,
enum { STMTS(X_ENUM) ST_COUNT };
static const char *const stmt_sql[ST_COUNT] = { STMTS(X_SQL) };

/* ---- the handle ---------------------------------------------------------------------- */

typedef struct cs {
	eas_store base; /* first: the engine holds &base */
	eas_mem mem;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	int in_tx;       /* the app's begin() .. commit()/rollback() */
	int iterating;   /* inside an enumeration callback */
	uint8_t *buf;    /* what the last get returned points here */
	size_t buf_cap;
	char err[256];
} cs;

static cs *CS(eas_store *st)
{
	return (cs *)st;
}

static void set_err(cs *s, const char *what, const char *detail)
{
	snprintf(s->err, sizeof s->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* Maps an SQLite result code to EAS_E_* and records the detail (SQLite's messages hold no values). */
static int fail(cs *s, int rc, const char *what)
{
	if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
		return EAS_E_NOTFOUND;
	switch (rc & 0xff) {
	case SQLITE_NOMEM:
		return EAS_E_NOMEM;
	case SQLITE_TOOBIG:
		return EAS_E_LIMIT;
	default:
		set_err(s, what, sqlite3_errmsg(s->db));
		return EAS_E_IO;
	}
}

static int exec_sql(cs *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc == SQLITE_OK)
		return 0;
	set_err(s, sql, msg ? msg : sqlite3_errstr(rc));
	sqlite3_free(msg);
	return (rc & 0xff) == SQLITE_NOMEM ? EAS_E_NOMEM : EAS_E_IO;
}

/* Releases a statement: reset (ends its read) and drop the bound pointers. */
static void done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * The statement id, reset and bound.  fmt has one letter per parameter ?1,
 * ?2...: t = const char * (NULL binds NULL), i = int64_t, b = const void *,
 * size_t (empty binds NULL).  Text and blobs are bound SQLITE_STATIC: they
 * must outlive the step, which every caller's arguments do.
 */
static int prep(sqlite3_stmt **out, cs *s, int id, const char *fmt, ...)
{
	sqlite3_stmt *st = s->stmt[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return fail(s, rc, "prepare");
		s->stmt[id] = st;
	} else {
		done(st); /* normally released already; never bind to a running statement */
	}
	va_list ap;
	va_start(ap, fmt);
	int rc = SQLITE_OK;
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		if (fmt[i] == 't') {
			const char *t = va_arg(ap, const char *);
			rc = t ? sqlite3_bind_text(st, i + 1, t, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i + 1);
		} else if (fmt[i] == 'i') {
			rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		} else {
			const void *p = va_arg(ap, const void *);
			size_t len = va_arg(ap, size_t);
			rc = p && len ? sqlite3_bind_blob64(st, i + 1, p, (sqlite3_uint64)len, SQLITE_STATIC)
				      : sqlite3_bind_null(st, i + 1);
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		sqlite3_clear_bindings(st);
		return fail(s, rc, "bind");
	}
	*out = st;
	return 0;
}

/* 1 = a row (statement left active), 0 = no more (released), < 0 = error (released). */
static int step(cs *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	done(st);
	return rc == SQLITE_DONE ? 0 : fail(s, rc, "step");
}

/* Runs a statement that returns no row; *changed (may be NULL) gets the rows it touched. */
static int run(cs *s, sqlite3_stmt *st, int *changed)
{
	int rc = step(s, st);
	if (rc > 0) {
		done(st);
		rc = 0;
	}
	if (!rc && changed)
		*changed = sqlite3_changes(s->db);
	return rc;
}

/* ---- guards and the transaction of one call ----------------------------------------------- */

/*
 * May the store be modified now?  Not from an enumeration callback, and not
 * in an app transaction that SQLite already rolled back on an error (disk
 * full, I/O error): running on in autocommit would commit half of it.
 */
static int may_write(cs *s)
{
	if (s->iterating)
		return EAS_E_STATE;
	if (s->in_tx && sqlite3_get_autocommit(s->db)) {
		set_err(s, "transaction", "rolled back by an earlier error: roll back and start again");
		return EAS_E_IO;
	}
	return 0;
}

/* Several statements as one: their own transaction, or a savepoint in the app's. */
static int op_begin(cs *s)
{
	return exec_sql(s, s->in_tx ? "SAVEPOINT op" : "BEGIN IMMEDIATE");
}

static int op_end(cs *s, int rc)
{
	if (!rc) {
		rc = exec_sql(s, s->in_tx ? "RELEASE op" : "COMMIT");
		if (!rc)
			return 0;
	}
	if (s->in_tx)
		exec_sql(s, "ROLLBACK TO op; RELEASE op");
	else if (!sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK");
	return rc;
}

/* ---- the get buffer ------------------------------------------------------------------------- */

static void buf_trim(cs *s)
{
	if (s->buf_cap > BUF_KEEP) {
		eas__free(&s->mem, s->buf);
		s->buf = NULL;
		s->buf_cap = 0;
	}
}

static int buf_reserve(cs *s, size_t n)
{
	if (n <= s->buf_cap)
		return 0;
	uint8_t *b = eas__realloc(&s->mem, s->buf, n);
	if (!b)
		return EAS_E_NOMEM;
	s->buf = b;
	s->buf_cap = n;
	return 0;
}

/* Column col as a string copied at *cursor (NULL stays NULL). */
static const char *copy_text(sqlite3_stmt *st, int col, uint8_t **cursor)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	if (!t)
		return NULL;
	size_t n = (size_t)sqlite3_column_bytes(st, col) + 1;
	char *r = memcpy(*cursor, t, n);
	*cursor += n;
	return r;
}

static size_t text_size(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? 0 : (size_t)sqlite3_column_bytes(st, col) + 1;
}

/* ---- rows -> records ----------------------------------------------------------------------- */

static const char *col_text(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

/* Text columns first, then blob: sqlite3_column_blob before its bytes, as SQLite asks. */
static void row_folder(sqlite3_stmt *st, eas_store_folder *f)
{
	f->server_id = col_text(st, 0);
	f->parent_id = col_text(st, 1);
	f->display_name = col_text(st, 2);
	f->type = (uint32_t)sqlite3_column_int64(st, 3);
	f->sync_key = col_text(st, 4);
	f->class_name = col_text(st, 5);
	f->sync_wanted = sqlite3_column_int(st, 6);
	f->more_available = sqlite3_column_int(st, 7);
}

static void row_item(sqlite3_stmt *st, eas_store_item *it)
{
	it->folder_id = col_text(st, 0);
	it->server_id = col_text(st, 1);
	it->class_name = col_text(st, 2);
	it->data = sqlite3_column_blob(st, 3);
	it->data_len = it->data ? (size_t)sqlite3_column_bytes(st, 3) : 0;
	it->read = sqlite3_column_int(st, 4);
	it->flag_status = sqlite3_column_int(st, 5);
}

static void row_change(sqlite3_stmt *st, eas_store_change *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->kind = (eas_store_change_kind)sqlite3_column_int(st, 1);
	c->folder_id = col_text(st, 2);
	c->server_id = col_text(st, 3);
	c->client_id = col_text(st, 4);
	c->class_name = col_text(st, 5);
	c->dest_folder_id = col_text(st, 6);
	c->value = sqlite3_column_int(st, 7);
	c->data = sqlite3_column_blob(st, 8);
	c->data_len = c->data ? (size_t)sqlite3_column_bytes(st, 8) : 0;
	c->attempts = (uint32_t)sqlite3_column_int64(st, 9);
}

/* ---- transactions ------------------------------------------------------------------------------ */

static int s_begin(eas_store *st)
{
	cs *s = CS(st);
	if (!s)
		return EAS_E_INVALID;
	if (s->iterating || s->in_tx)
		return EAS_E_STATE;
	int rc = exec_sql(s, "BEGIN IMMEDIATE");
	if (!rc)
		s->in_tx = 1;
	return rc;
}

static int s_commit(eas_store *st)
{
	cs *s = CS(st);
	if (!s)
		return EAS_E_INVALID;
	if (s->iterating || !s->in_tx)
		return EAS_E_STATE;
	s->in_tx = 0;
	if (sqlite3_get_autocommit(s->db)) {
		set_err(s, "commit", "the transaction was rolled back by an earlier error");
		return EAS_E_IO;
	}
	int rc = exec_sql(s, "COMMIT");
	if (rc && !sqlite3_get_autocommit(s->db))
		exec_sql(s, "ROLLBACK");
	return rc;
}

static int s_rollback(eas_store *st)
{
	cs *s = CS(st);
	if (!s)
		return EAS_E_INVALID;
	if (s->iterating || !s->in_tx)
		return EAS_E_STATE;
	s->in_tx = 0;
	/* an error may already have ended it: then there is nothing left to undo */
	return sqlite3_get_autocommit(s->db) ? 0 : exec_sql(s, "ROLLBACK");
}

/* ---- values ------------------------------------------------------------------------------------- */

static int s_value_get(eas_store *st, const char *key, char *buf, size_t size)
{
	cs *s = CS(st);
	if (!s || !buf || !size || eas__store_check_str(key, EAS_STORE_NAME_MAX))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = prep(&q, s, ST_KV_GET, "t", key);
	if (rc || (rc = step(s, q)) <= 0)
		return rc ? rc : EAS_E_NOTFOUND;
	size_t n = (size_t)sqlite3_column_bytes(q, 0) + 1;
	const unsigned char *v = sqlite3_column_text(q, 0);
	rc = 0;
	if (!v)
		rc = EAS_E_NOMEM;
	else if (n > size)
		rc = EAS_E_LIMIT;
	else
		memcpy(buf, v, n);
	done(q);
	return rc;
}

static int s_value_set(eas_store *st, const char *key, const char *value)
{
	cs *s = CS(st);
	if (!s || eas__store_check_value(key, value))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = may_write(s);
	if (!rc)
		rc = value ? prep(&q, s, ST_KV_SET, "tt", key, value) : prep(&q, s, ST_KV_DEL, "t", key);
	return rc ? rc : run(s, q, NULL);
}

/* ---- folders --------------------------------------------------------------------------------------- */

static int s_folder_put(eas_store *st, const eas_store_folder *f)
{
	cs *s = CS(st);
	if (!s || eas__store_check_folder(f))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = may_write(s);
	if (!rc)
		rc = prep(&q, s, ST_F_PUT, "tttittii", f->server_id, eas__store_or(f->parent_id, "0"),
			  eas__store_or(f->display_name, ""), (int64_t)f->type, eas__store_or(f->sync_key, "0"),
			  eas__store_or(f->class_name, ""), (int64_t)f->sync_wanted, (int64_t)f->more_available);
	return rc ? rc : run(s, q, NULL);
}

static int s_folder_delete(eas_store *st, const char *server_id)
{
	cs *s = CS(st);
	if (!s || eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int changed = 0, rc = may_write(s);
	if (!rc && !(rc = prep(&q, s, ST_F_DEL, "t", server_id)))
		rc = run(s, q, &changed);
	return rc ? rc : changed ? 0 : EAS_E_NOTFOUND;
}

static int s_folder_get(eas_store *st, const char *server_id, eas_store_folder *out)
{
	cs *s = CS(st);
	if (!s || !out || eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	buf_trim(s);
	sqlite3_stmt *q = NULL;
	int rc = prep(&q, s, ST_F_GET, "t", server_id);
	if (rc || (rc = step(s, q)) <= 0)
		return rc ? rc : EAS_E_NOTFOUND;
	size_t n = text_size(q, 0) + text_size(q, 1) + text_size(q, 2) + text_size(q, 4) + text_size(q, 5);
	if (!(rc = buf_reserve(s, n))) {
		uint8_t *p = s->buf;
		row_folder(q, out);
		out->server_id = copy_text(q, 0, &p);
		out->parent_id = copy_text(q, 1, &p);
		out->display_name = copy_text(q, 2, &p);
		out->sync_key = copy_text(q, 4, &p);
		out->class_name = copy_text(q, 5, &p);
		if (!out->server_id || !out->parent_id || !out->display_name || !out->sync_key || !out->class_name)
			rc = EAS_E_NOMEM; /* SQLite could not convert the column */
	}
	done(q);
	return rc;
}

static int s_folder_list(eas_store *st, eas_store_folder_fn fn, void *user_data)
{
	cs *s = CS(st);
	if (!s || !fn)
		return EAS_E_INVALID;
	if (s->iterating)
		return EAS_E_STATE;
	sqlite3_stmt *q = NULL;
	int rc = prep(&q, s, ST_F_LIST, "");
	while (!rc && (rc = step(s, q)) > 0) {
		eas_store_folder f;
		row_folder(q, &f);
		s->iterating = 1;
		rc = fn(&f, user_data) ? EAS_E_CALLBACK : 0;
		s->iterating = 0;
	}
	if (rc == EAS_E_CALLBACK)
		done(q);
	return rc < 0 ? rc : 0;
}

/* ---- items -------------------------------------------------------------------------------------------- */

static int folder_exists(cs *s, const char *folder_id)
{
	sqlite3_stmt *q = NULL;
	int rc = prep(&q, s, ST_F_EXISTS, "t", folder_id);
	if (rc || (rc = step(s, q)) <= 0)
		return rc ? rc : EAS_E_NOTFOUND;
	done(q);
	return 0;
}

static int s_item_put(eas_store *st, const eas_store_item *item)
{
	cs *s = CS(st);
	if (!s || eas__store_check_item(item))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = may_write(s);
	if (!rc)
		rc = prep(&q, s, ST_I_PUT, "tttbii", item->folder_id, item->server_id,
			  eas__store_or(item->class_name, ""), (const void *)item->data, item->data_len,
			  (int64_t)item->read, (int64_t)item->flag_status);
	return rc ? rc : run(s, q, NULL);
}

static int s_item_delete(eas_store *st, const char *folder_id, const char *server_id)
{
	cs *s = CS(st);
	if (!s || eas__store_check_str(folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int changed = 0, rc = may_write(s);
	if (!rc && !(rc = prep(&q, s, ST_I_DEL, "tt", folder_id, server_id)))
		rc = run(s, q, &changed);
	return rc ? rc : changed ? 0 : EAS_E_NOTFOUND;
}

static int s_item_get(eas_store *st, const char *folder_id, const char *server_id, eas_store_item *out)
{
	cs *s = CS(st);
	if (!s || !out || eas__store_check_str(folder_id, EAS_STORE_ID_MAX) ||
	    eas__store_check_str(server_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	buf_trim(s);
	sqlite3_stmt *q = NULL;
	int rc = prep(&q, s, ST_I_GET, "tt", folder_id, server_id);
	if (rc || (rc = step(s, q)) <= 0)
		return rc ? rc : EAS_E_NOTFOUND;
	row_item(q, out);
	size_t n = text_size(q, 0) + text_size(q, 1) + text_size(q, 2) + out->data_len;
	if (!(rc = buf_reserve(s, n))) {
		uint8_t *p = s->buf;
		const uint8_t *data = out->data;
		out->folder_id = copy_text(q, 0, &p);
		out->server_id = copy_text(q, 1, &p);
		out->class_name = copy_text(q, 2, &p);
		out->data = data ? memcpy(p, data, out->data_len) : NULL;
		if (!out->folder_id || !out->server_id || !out->class_name)
			rc = EAS_E_NOMEM;
	}
	done(q);
	return rc;
}

static int s_item_list(eas_store *st, const char *folder_id, eas_store_item_fn fn, void *user_data)
{
	cs *s = CS(st);
	if (!s || !fn || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	if (s->iterating)
		return EAS_E_STATE;
	int rc = folder_exists(s, folder_id);
	sqlite3_stmt *q = NULL;
	if (!rc)
		rc = prep(&q, s, ST_I_LIST, "t", folder_id);
	while (!rc && (rc = step(s, q)) > 0) {
		eas_store_item it;
		row_item(q, &it);
		s->iterating = 1;
		rc = fn(&it, user_data) ? EAS_E_CALLBACK : 0;
		s->iterating = 0;
	}
	if (rc == EAS_E_CALLBACK)
		done(q);
	return rc < 0 ? rc : 0;
}

static int s_item_clear(eas_store *st, const char *folder_id)
{
	cs *s = CS(st);
	if (!s || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = may_write(s);
	if (!rc)
		rc = folder_exists(s, folder_id);
	if (!rc && !(rc = prep(&q, s, ST_I_CLEAR, "t", folder_id)))
		rc = run(s, q, NULL);
	return rc;
}

static int s_item_count(eas_store *st, const char *folder_id, uint64_t *out)
{
	cs *s = CS(st);
	if (!s || !out || eas__store_check_str(folder_id, EAS_STORE_ID_MAX))
		return EAS_E_INVALID;
	sqlite3_stmt *q = NULL;
	int rc = folder_exists(s, folder_id);
	if (!rc && !(rc = prep(&q, s, ST_I_COUNT, "t", folder_id)) && (rc = step(s, q)) > 0) {
		*out = (uint64_t)sqlite3_column_int64(q, 0);
		done(q);
		rc = 0;
	} else if (!rc) {
		rc = EAS_E_IO; /* count(*) always has a row */
	}
	return rc;
}

/* ---- local changes ---------------------------------------------------------------------------------- */

static int s_change_add(eas_store *st, const eas_store_change *c, int64_t *id_out)
{
	cs *s = CS(st);
	if (!s || eas__store_check_change(c))
		return EAS_E_INVALID;
	int rc = may_write(s);
	if (rc)
		return rc;
	int applies = c->kind == EAS_STORE_CHANGE_READ || c->kind == EAS_STORE_CHANGE_FLAG;
	if (applies && (rc = op_begin(s)))
		return rc;
	sqlite3_stmt *q = NULL;
	rc = prep(&q, s, ST_C_ADD, "ittttt" "ib", (int64_t)c->kind, c->folder_id, c->server_id, c->client_id,
		  c->class_name, c->dest_folder_id, (int64_t)c->value, (const void *)c->data, c->data_len);
	if (!rc)
		rc = run(s, q, NULL);
	int64_t id = sqlite3_last_insert_rowid(s->db);
	/* the app's view: the item shows the new read or flag state at once */
	if (!rc && applies &&
	    !(rc = prep(&q, s, c->kind == EAS_STORE_CHANGE_READ ? ST_I_READ : ST_I_FLAG, "tti", c->folder_id,
			c->server_id, (int64_t)c->value)))
		rc = run(s, q, NULL);
	if (applies)
		rc = op_end(s, rc);
	if (!rc && id_out)
		*id_out = id;
	return rc;
}

static int s_change_list(eas_store *st, const char *folder_id, eas_store_change_fn fn, void *user_data)
{
	cs *s = CS(st);
	if (!s || !fn || (folder_id && eas__store_check_str(folder_id, EAS_STORE_ID_MAX)))
		return EAS_E_INVALID;
	if (s->iterating)
		return EAS_E_STATE;
	sqlite3_stmt *q = NULL;
	int rc = folder_id ? folder_exists(s, folder_id) : 0;
	if (!rc)
		rc = folder_id ? prep(&q, s, ST_C_LIST, "t", folder_id) : prep(&q, s, ST_C_LIST_ALL, "");
	while (!rc && (rc = step(s, q)) > 0) {
		eas_store_change c;
		row_change(q, &c);
		s->iterating = 1;
		rc = fn(&c, user_data) ? EAS_E_CALLBACK : 0;
		s->iterating = 0;
	}
	if (rc == EAS_E_CALLBACK)
		done(q);
	return rc < 0 ? rc : 0;
}

static int change_by_id(cs *s, int id, int64_t change_id)
{
	sqlite3_stmt *q = NULL;
	int changed = 0, rc = may_write(s);
	if (!rc && !(rc = prep(&q, s, id, "i", change_id)))
		rc = run(s, q, &changed);
	return rc ? rc : changed ? 0 : EAS_E_NOTFOUND;
}

static int s_change_done(eas_store *st, int64_t id)
{
	return st ? change_by_id(CS(st), ST_C_DONE, id) : EAS_E_INVALID;
}

static int s_change_retry(eas_store *st, int64_t id)
{
	return st ? change_by_id(CS(st), ST_C_RETRY, id) : EAS_E_INVALID;
}

/* ---- whole store ------------------------------------------------------------------------------------------ */

static int s_wipe(eas_store *st)
{
	cs *s = CS(st);
	if (!s)
		return EAS_E_INVALID;
	int rc = may_write(s);
	if (rc || (rc = op_begin(s)))
		return rc;
	static const int order[] = { ST_W_CHANGES, ST_W_ITEMS, ST_W_FOLDERS, ST_W_KV };
	for (size_t i = 0; !rc && i < sizeof order / sizeof order[0]; i++) {
		sqlite3_stmt *q = NULL;
		if (!(rc = prep(&q, s, order[i], "")))
			rc = run(s, q, NULL);
	}
	return op_end(s, rc);
}

static const char *s_error(eas_store *st)
{
	return st ? CS(st)->err : "";
}

static void s_close(eas_store *st)
{
	cs *s = CS(st);
	if (!s)
		return;
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	if (s->db) {
		if (!sqlite3_get_autocommit(s->db))
			exec_sql(s, "ROLLBACK");
		sqlite3_close(s->db);
	}
	eas_mem mem = s->mem;
	eas__free(&mem, s->buf);
	eas__free(&mem, s);
}

/* ---- open ---------------------------------------------------------------------------------------------- */

static int pragma_int(cs *s, const char *sql, int64_t *out)
{
	sqlite3_stmt *q = NULL;
	int rc = sqlite3_prepare_v2(s->db, sql, -1, &q, NULL);
	if (rc != SQLITE_OK)
		return fail(s, rc, sql);
	rc = sqlite3_step(q);
	*out = rc == SQLITE_ROW ? sqlite3_column_int64(q, 0) : 0;
	int r = rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : fail(s, rc, sql);
	sqlite3_finalize(q);
	return r;
}

/* Brings the schema to SCHEMA_VERSION in one transaction; refuses what is not ours. */
static int migrate(cs *s)
{
	int rc = exec_sql(s, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	int64_t version = 0, app = 0, tables = 0;
	if ((rc = pragma_int(s, "PRAGMA user_version", &version)) ||
	    (rc = pragma_int(s, "PRAGMA application_id", &app)) ||
	    (rc = pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables)))
		goto out;
	if (version > SCHEMA_VERSION) {
		set_err(s, "open", "the database schema is newer than this libeas");
		rc = EAS_E_UNSUPPORTED;
	} else if (version < 0 || (app != APPLICATION_ID && (app != 0 || version != 0 || tables != 0))) {
		set_err(s, "open", "not a libeas client state store");
		rc = EAS_E_INVALID;
	}
	for (int64_t v = version; !rc && v < SCHEMA_VERSION; v++) {
		char sql[64];
		rc = exec_sql(s, migrations[v]);
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", (int)v + 1);
		if (!rc)
			rc = exec_sql(s, sql);
	}
	if (!rc && app != APPLICATION_ID) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA application_id = %d", APPLICATION_ID);
		rc = exec_sql(s, sql);
	}
out:
	if (rc) {
		if (!sqlite3_get_autocommit(s->db))
			exec_sql(s, "ROLLBACK");
		return rc;
	}
	return exec_sql(s, "COMMIT");
}

/* Creates a missing file owner-only before SQLite opens it (SQLite would use 0644). */
static int create_private(const char *path)
{
	if (!strcmp(path, ":memory:"))
		return 0;
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return EAS_E_IO;
	close(fd);
	return 0;
}

EAS_EXTERN int eas_store_sqlite_open(eas_store **out, const char *path, const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!path || !*path)
		return EAS_E_INVALID;
	eas_mem hooks;
	eas__mem_init(&hooks, mem);
	cs *s = eas__calloc(&hooks, 1, sizeof *s);
	if (!s)
		return EAS_E_NOMEM;
	s->mem = hooks;
	eas_store *b = &s->base;
	b->version = EAS_STORE_VERSION;
	b->begin = s_begin;
	b->commit = s_commit;
	b->rollback = s_rollback;
	b->value_get = s_value_get;
	b->value_set = s_value_set;
	b->folder_put = s_folder_put;
	b->folder_delete = s_folder_delete;
	b->folder_get = s_folder_get;
	b->folder_list = s_folder_list;
	b->item_put = s_item_put;
	b->item_delete = s_item_delete;
	b->item_get = s_item_get;
	b->item_list = s_item_list;
	b->item_clear = s_item_clear;
	b->item_count = s_item_count;
	b->change_add = s_change_add;
	b->change_list = s_change_list;
	b->change_done = s_change_done;
	b->change_retry = s_change_retry;
	b->wipe = s_wipe;
	b->error = s_error;
	b->close = s_close;

	int rc = create_private(path);
	if (rc)
		goto fail_out;
	int r = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK) {
		rc = r == SQLITE_NOMEM ? EAS_E_NOMEM : EAS_E_IO;
		goto fail_out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, BUSY_TIMEOUT_MS);
	/* no writable_schema tricks or other footguns from a crafted file */
	sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
	if ((rc = exec_sql(s, "PRAGMA foreign_keys = ON")) || (rc = exec_sql(s, "PRAGMA journal_mode = WAL")) ||
	    (rc = exec_sql(s, "PRAGMA synchronous = FULL")) || (rc = exec_sql(s, "PRAGMA trusted_schema = OFF")) ||
	    (rc = migrate(s)))
		goto fail_out;
	*out = b;
	return 0;
fail_out:
	s_close(b);
	return rc;
}
