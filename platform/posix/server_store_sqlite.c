/*
 * The SQLite mailbox store: eas_mstore (server/store.h) over one database.
 *
 * Layout:
 *   - every SQL statement is listed once (STMTS below) and prepared on first
 *     use with SQLITE_PREPARE_PERSISTENT, then reused; helpers bind, step and
 *     reset them so no statement stays active (and pins a WAL snapshot)
 *     between calls;
 *   - every statement on user data names user_id: isolation between users
 *     does not depend on the handler checking anything;
 *   - transactions nest: the outermost level is BEGIN IMMEDIATE, inner ones
 *     are savepoints; each mutating entry point wraps itself in one level;
 *   - notifications are collected per level (deduplicated) and fired after
 *     the outermost COMMIT; a rollback drops those of its level;
 *   - the change log (table changes) gives every mutation a store-wide seq;
 *     items and folders carry the seq of their last change (modseq);
 *   - a sync state is one row per (device, collection) with its key chain
 *     and the last response; its "synced set" (table synced) says which
 *     objects the client has and at which modseq.  Sync deltas are the
 *     difference between the synced set and the folder now, so a window
 *     (WindowSize) can stop anywhere and the rest comes next time.
 */
#include "server/store_sqlite.h"

#include <sqlite3.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"

#define MAX_DEPTH 16
#define MAX_WINDOW 512u
#define SALT_LEN 16
#define TOKEN_PREFIX "eas_"
#define TOKEN_RAW 32
#define TOKEN_LEN (sizeof TOKEN_PREFIX - 1 + 2 * TOKEN_RAW)
#define I64(x) ((int64_t)(x))

/* ---- schema ---------------------------------------------------------------------- */

static const char schema_v1[] =
	"CREATE TABLE users("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL UNIQUE COLLATE NOCASE,"
	" pw_salt BLOB NOT NULL, pw_hash BLOB NOT NULL, pw_iterations INTEGER NOT NULL,"
	" created INTEGER NOT NULL);"
	"CREATE TABLE tokens("
	" hash BLOB PRIMARY KEY,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" created INTEGER NOT NULL, expires INTEGER NOT NULL);"
	"CREATE INDEX tokens_user ON tokens(user_id);"
	"CREATE TABLE devices("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" device_id TEXT NOT NULL,"
	" device_type TEXT, user_agent TEXT, model TEXT, imei TEXT, friendly_name TEXT,"
	" os TEXT, os_language TEXT, phone_number TEXT, mobile_operator TEXT,"
	" first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,"
	" policy_key INTEGER NOT NULL DEFAULT 0, policy_state INTEGER NOT NULL DEFAULT 0,"
	" policy_status INTEGER NOT NULL DEFAULT 0,"
	" wipe_state INTEGER NOT NULL DEFAULT 0, wipe_kind INTEGER NOT NULL DEFAULT 0,"
	" wipe_requested INTEGER NOT NULL DEFAULT 0, wipe_acked INTEGER NOT NULL DEFAULT 0,"
	" wipe_status INTEGER NOT NULL DEFAULT 0,"
	" UNIQUE(user_id, device_id));"
	"CREATE TABLE device_cache("
	" device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" name TEXT NOT NULL, data BLOB,"
	" PRIMARY KEY(device, name)) WITHOUT ROWID;"
	"CREATE INDEX device_cache_user ON device_cache(user_id);"
	/* parent_id 0 = top level; otherwise a folder of the same user (checked by the code) */
	"CREATE TABLE folders("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" parent_id INTEGER NOT NULL DEFAULT 0,"
	" name TEXT NOT NULL, type INTEGER NOT NULL, is_default INTEGER NOT NULL DEFAULT 0,"
	" next_item INTEGER NOT NULL DEFAULT 1, modseq INTEGER NOT NULL DEFAULT 0,"
	" created INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX folders_name ON folders(user_id, parent_id, name COLLATE NOCASE);"
	"CREATE INDEX folders_parent ON folders(parent_id);"
	"CREATE TABLE items("
	" uid INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" folder_id INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,"
	" server_id TEXT NOT NULL, class TEXT NOT NULL, modseq INTEGER NOT NULL DEFAULT 0,"
	" subject TEXT, sender TEXT, date INTEGER NOT NULL DEFAULT 0,"
	" read INTEGER NOT NULL DEFAULT 0, flag INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0, appdata BLOB,"
	" body_type INTEGER NOT NULL DEFAULT 0, body BLOB, body_size INTEGER NOT NULL DEFAULT 0,"
	" next_att INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL,"
	" UNIQUE(user_id, server_id));"
	"CREATE INDEX items_folder_date ON items(folder_id, date DESC, uid DESC);"
	"CREATE TABLE attachments("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" item_uid INTEGER NOT NULL REFERENCES items(uid) ON DELETE CASCADE,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" idx INTEGER NOT NULL, file_ref TEXT NOT NULL,"
	" name TEXT, content_type TEXT, content_id TEXT, content_location TEXT,"
	" method INTEGER NOT NULL DEFAULT 1, is_inline INTEGER NOT NULL DEFAULT 0,"
	" size INTEGER NOT NULL DEFAULT 0, data BLOB,"
	" UNIQUE(user_id, file_ref));"
	"CREATE INDEX attachments_item ON attachments(item_uid, idx);"
	/* the change log outlives the folders and items it names: no FK on them */
	"CREATE TABLE changes("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" folder_id INTEGER NOT NULL, item_uid INTEGER,"
	" server_id TEXT NOT NULL, kind INTEGER NOT NULL, time INTEGER NOT NULL);"
	"CREATE INDEX changes_user ON changes(user_id, seq);"
	"CREATE INDEX changes_folder ON changes(user_id, folder_id, seq);"
	/* collection 0 = the folder hierarchy (folder_id NULL); else folder_id = collection */
	"CREATE TABLE sync_states("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,"
	" collection INTEGER NOT NULL,"
	" folder_id INTEGER REFERENCES folders(id) ON DELETE CASCADE,"
	" generation TEXT NOT NULL, counter INTEGER NOT NULL, cur_key TEXT NOT NULL,"
	" prev_key TEXT, prev_tag TEXT, prev_response BLOB,"
	" win_since INTEGER NOT NULL DEFAULT 0, win_classes TEXT,"
	" updated INTEGER NOT NULL,"
	" UNIQUE(device, collection));"
	"CREATE INDEX sync_states_user ON sync_states(user_id);"
	"CREATE INDEX sync_states_folder ON sync_states(folder_id);"
	"CREATE TABLE synced("
	" state_id INTEGER NOT NULL REFERENCES sync_states(id) ON DELETE CASCADE,"
	" obj_id INTEGER NOT NULL, server_id TEXT NOT NULL, modseq INTEGER NOT NULL,"
	" PRIMARY KEY(state_id, obj_id)) WITHOUT ROWID;";

/* v2: faults to answer with instead of serving ("eas-server inject"); device_id/command NULL = any */
static const char schema_v2[] =
	"CREATE TABLE faults("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,"
	" device_id TEXT, command TEXT COLLATE NOCASE,"
	" http_status INTEGER NOT NULL DEFAULT 0, retry_after INTEGER NOT NULL DEFAULT 0, location TEXT,"
	" eas_status INTEGER NOT NULL DEFAULT 0, remaining INTEGER NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX faults_user ON faults(user_id);";

/*
 * v3: where each folder state's delta work stands, so that paging through a
 * large folder costs one window per request instead of a rescan (sync_items):
 * clean_seq = the folder's last change-log seq when the synced set was last
 * found to need no Delete, SoftDelete or Change (-1 = unknown); add_seq,
 * add_date, add_uid = the Add cursor (every in-window item sorted before
 * (add_date, add_uid), newest first, is in the synced set), valid while the
 * folder's last seq is still add_seq (-1 = none).
 */
static const char schema_v3[] =
	"ALTER TABLE sync_states ADD COLUMN clean_seq INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE sync_states ADD COLUMN add_seq INTEGER NOT NULL DEFAULT -1;"
	"ALTER TABLE sync_states ADD COLUMN add_date INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE sync_states ADD COLUMN add_uid INTEGER NOT NULL DEFAULT 0;";

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = { schema_v1, schema_v2, schema_v3 };
#define MIGRATION_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

/* ---- statements ------------------------------------------------------------------ */

#define DEV_COLS "device_id, device_type, user_agent, model, imei, friendly_name, os," \
	" os_language, phone_number, mobile_operator, first_seen, last_seen, policy_key," \
	" policy_state, policy_status, wipe_state, wipe_kind, wipe_requested, wipe_acked," \
	" wipe_status"
#define FOLDER_COLS "f.id, f.parent_id, f.name, f.type, f.is_default, f.modseq, f.next_item"
#define ITEM_COLS_A "i.uid, i.server_id, i.folder_id, i.class, "
#define ITEM_COLS_B ", i.subject, i.sender, i.date, i.read, i.flag, i.size, i.modseq," \
	" i.body_type, i.body_size, (SELECT count(*) FROM attachments a WHERE a.item_uid = i.uid)"
#define ITEM_COLS ITEM_COLS_A "i.appdata" ITEM_COLS_B
#define ITEM_COLS_NODATA ITEM_COLS_A "NULL" ITEM_COLS_B
#define ATT_COLS "file_ref, name, content_type, content_id, content_location, method, is_inline, size"

/* sync deltas: ?1 state, ?2 folder, ?3 user, ?4 filter_since, ?5 ",classes,", ?6 limit */
#define IN_WINDOW "((?4 = 0 OR i.date >= ?4) AND (?5 IS NULL OR instr(?5, ',' || i.class || ',') > 0))"
#define Q_DELETES "SELECT s.obj_id, s.server_id FROM synced s LEFT JOIN items i" \
	" ON i.uid = s.obj_id AND i.folder_id = ?2 AND i.user_id = ?3" \
	" WHERE s.state_id = ?1 AND (i.uid IS NULL OR i.server_id <> s.server_id)"
#define Q_SOFT "SELECT s.obj_id, s.server_id FROM synced s JOIN items i" \
	" ON i.uid = s.obj_id AND i.folder_id = ?2 AND i.user_id = ?3 AND i.server_id = s.server_id" \
	" WHERE s.state_id = ?1 AND NOT " IN_WINDOW
#define Q_CHANGES "SELECT i.uid, i.server_id FROM synced s JOIN items i" \
	" ON i.uid = s.obj_id AND i.folder_id = ?2 AND i.user_id = ?3 AND i.server_id = s.server_id" \
	" WHERE s.state_id = ?1 AND i.modseq > s.modseq AND " IN_WINDOW
#define Q_ADDS "SELECT i.uid, i.server_id FROM items i WHERE i.folder_id = ?2 AND i.user_id = ?3" \
	" AND " IN_WINDOW " AND NOT EXISTS (SELECT 1 FROM synced s WHERE s.state_id = ?1 AND s.obj_id = i.uid)"
/* Adds after the cursor (?7 date, ?8 uid; both INT64_MAX = from the top): a range of items_folder_date */
#define Q_ADDS_AFTER " AND i.date <= ?7 AND (i.date < ?7 OR i.uid < ?8)"
/* SoftDeletes of a settled synced set whose filter moved from ?7 to ?4: only dates in between */
#define Q_SOFT_RANGE "SELECT s.obj_id, s.server_id FROM items i JOIN synced s" \
	" ON s.state_id = ?1 AND s.obj_id = i.uid AND s.server_id = i.server_id" \
	" WHERE i.folder_id = ?2 AND i.user_id = ?3 AND i.date >= ?7 AND i.date < ?4"
/* hierarchy deltas: ?1 state, ?2 user */
/* the user's folders with their depth (top level 0), user id in parameter U */
#define FOLDER_TREE(U) "WITH RECURSIVE t(id, depth) AS (" \
	"SELECT id, 0 FROM folders WHERE user_id = " U " AND parent_id = 0 UNION ALL " \
	"SELECT f.id, t.depth + 1 FROM folders f JOIN t ON f.parent_id = t.id WHERE f.user_id = " U ") "
#define Q_H_DELETES "SELECT s.obj_id, s.server_id FROM synced s LEFT JOIN folders f" \
	" ON f.id = s.obj_id AND f.user_id = ?2 WHERE s.state_id = ?1 AND f.id IS NULL"
#define Q_H_CHANGES "SELECT " FOLDER_COLS " FROM synced s JOIN folders f" \
	" ON f.id = s.obj_id AND f.user_id = ?2 WHERE s.state_id = ?1 AND f.modseq > s.modseq"
#define Q_H_ADDS FOLDER_TREE("?2") "SELECT " FOLDER_COLS " FROM t JOIN folders f ON f.id = t.id" \
	" WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.state_id = ?1 AND s.obj_id = f.id)"

#define STMTS(X) \
	X(USER_EXISTS, "SELECT 1 FROM users WHERE id = ?1") \
	X(USER_BY_NAME, "SELECT id, pw_salt, pw_hash, pw_iterations FROM users WHERE name = ?1") \
	X(USER_INSERT, "INSERT INTO users(name, pw_salt, pw_hash, pw_iterations, created) VALUES(?1, ?2, ?3, ?4, ?5)") \
	X(USER_DELETE, "DELETE FROM users WHERE id = ?1") \
	X(USER_LIST, "SELECT id, name, created, pw_iterations FROM users ORDER BY id") \
	X(USER_SET_PW, "UPDATE users SET pw_salt = ?2, pw_hash = ?3, pw_iterations = ?4 WHERE id = ?1") \
	X(TOKEN_INSERT, "INSERT INTO tokens(hash, user_id, created, expires) VALUES(?1, ?2, ?3, ?4)") \
	X(TOKEN_GET, "SELECT user_id, expires, hash FROM tokens WHERE hash = ?1") \
	X(TOKEN_DELETE, "DELETE FROM tokens WHERE hash = ?1 AND user_id = ?2") \
	X(TOKEN_DELETE_USER, "DELETE FROM tokens WHERE user_id = ?1") \
	X(DEV_ROW, "SELECT id FROM devices WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_UPSERT, "INSERT INTO devices(user_id, device_id, first_seen, last_seen) VALUES(?1, ?2, ?3, ?3)" \
		" ON CONFLICT(user_id, device_id) DO UPDATE SET last_seen = excluded.last_seen") \
	X(DEV_SEEN, "SELECT last_seen FROM devices WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_INFO, "UPDATE devices SET device_type = coalesce(?3, device_type)," \
		" user_agent = coalesce(?4, user_agent), model = coalesce(?5, model), imei = coalesce(?6, imei)," \
		" friendly_name = coalesce(?7, friendly_name), os = coalesce(?8, os)," \
		" os_language = coalesce(?9, os_language), phone_number = coalesce(?10, phone_number)," \
		" mobile_operator = coalesce(?11, mobile_operator) WHERE user_id = ?1 AND device_id = ?2" \
		" AND (?3 IS NOT NULL AND ?3 IS NOT device_type OR ?4 IS NOT NULL AND ?4 IS NOT user_agent" \
		" OR ?5 IS NOT NULL AND ?5 IS NOT model OR ?6 IS NOT NULL AND ?6 IS NOT imei" \
		" OR ?7 IS NOT NULL AND ?7 IS NOT friendly_name OR ?8 IS NOT NULL AND ?8 IS NOT os" \
		" OR ?9 IS NOT NULL AND ?9 IS NOT os_language OR ?10 IS NOT NULL AND ?10 IS NOT phone_number" \
		" OR ?11 IS NOT NULL AND ?11 IS NOT mobile_operator)") \
	X(DEV_GET, "SELECT " DEV_COLS " FROM devices WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_LIST, "SELECT " DEV_COLS " FROM devices WHERE user_id = ?1 ORDER BY id") \
	X(DEV_DELETE, "DELETE FROM devices WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_POLICY, "UPDATE devices SET policy_key = ?3, policy_state = ?4, policy_status = ?5" \
		" WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_WIPE_GET, "SELECT wipe_state, wipe_kind FROM devices WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_WIPE_REQ, "UPDATE devices SET wipe_state = 1, wipe_kind = ?3, wipe_requested = ?4," \
		" wipe_acked = 0, wipe_status = 0 WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_WIPE_ACK, "UPDATE devices SET wipe_state = 2, wipe_acked = ?3, wipe_status = ?4" \
		" WHERE user_id = ?1 AND device_id = ?2") \
	X(DEV_WIPE_CLEAR, "UPDATE devices SET wipe_state = 0, wipe_kind = 0, wipe_requested = 0," \
		" wipe_acked = 0, wipe_status = 0 WHERE user_id = ?1 AND device_id = ?2") \
	X(CACHE_PUT, "INSERT INTO device_cache(device, user_id, name, data) VALUES(?1, ?2, ?3, ?4)" \
		" ON CONFLICT(device, name) DO UPDATE SET data = excluded.data") \
	X(CACHE_GET, "SELECT data FROM device_cache WHERE device = ?1 AND user_id = ?2 AND name = ?3") \
	X(FOLDER_INSERT, "INSERT INTO folders(user_id, parent_id, name, type, is_default, created)" \
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)") \
	X(FOLDER_GET, "SELECT " FOLDER_COLS " FROM folders f WHERE f.id = ?1 AND f.user_id = ?2") \
	X(FOLDER_DEFAULT, "SELECT " FOLDER_COLS " FROM folders f WHERE f.user_id = ?1 AND f.type = ?2" \
		" AND f.is_default = 1") \
	X(FOLDER_LIST, FOLDER_TREE("?1") "SELECT " FOLDER_COLS " FROM t JOIN folders f ON f.id = t.id" \
		" ORDER BY t.depth, f.id") \
	X(FOLDER_NAME_TAKEN, "SELECT id FROM folders WHERE user_id = ?1 AND parent_id = ?2" \
		" AND name = ?3 COLLATE NOCASE AND id <> ?4") \
	X(FOLDER_UPDATE, "UPDATE folders SET parent_id = ?3, name = ?4 WHERE id = ?1 AND user_id = ?2") \
	X(FOLDER_MODSEQ, "UPDATE folders SET modseq = ?3 WHERE id = ?1 AND user_id = ?2") \
	X(FOLDER_NEXT_ITEM, "UPDATE folders SET next_item = ?3 WHERE id = ?1 AND user_id = ?2") \
	X(FOLDER_SUBTREE, "WITH RECURSIVE sub(id, depth) AS (SELECT id, 0 FROM folders WHERE id = ?1" \
		" AND user_id = ?2 UNION ALL SELECT f.id, sub.depth + 1 FROM folders f JOIN sub" \
		" ON f.parent_id = sub.id WHERE f.user_id = ?2) SELECT id FROM sub ORDER BY depth DESC, id") \
	X(FOLDER_CHILDREN, "SELECT id FROM folders WHERE parent_id = ?1 AND user_id = ?2 ORDER BY id") \
	X(FOLDER_DELETE, "DELETE FROM folders WHERE id = ?1 AND user_id = ?2") \
	X(LOG_INSERT, "INSERT INTO changes(user_id, folder_id, item_uid, server_id, kind, time)" \
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)") \
	X(LOG_SINCE, "SELECT seq, time, kind, item_uid IS NULL, folder_id, server_id FROM changes" \
		" WHERE user_id = ?1 AND seq > ?2 AND (?3 = 0 OR folder_id = ?3) ORDER BY seq") \
	X(LOG_EMPTY, "INSERT INTO changes(user_id, folder_id, item_uid, server_id, kind, time)" \
		" SELECT user_id, folder_id, uid, server_id, 3, ?3 FROM items WHERE folder_id = ?1" \
		" AND user_id = ?2 ORDER BY uid") \
	X(ITEM_INSERT, "INSERT INTO items(user_id, folder_id, server_id, class, subject, sender, date," \
		" read, flag, size, appdata, body_type, body, body_size, created)" \
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)") \
	X(ITEM_ROW, "SELECT uid, folder_id, next_att, server_id FROM items WHERE user_id = ?1 AND server_id = ?2") \
	X(ITEM_MODSEQ, "UPDATE items SET modseq = ?3 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_APPDATA, "UPDATE items SET appdata = ?3 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_SUMMARY, "UPDATE items SET subject = ?3, sender = ?4, date = ?5, size = ?6" \
		" WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_READ, "UPDATE items SET read = ?3 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_FLAG, "UPDATE items SET flag = ?3 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_BODY, "UPDATE items SET body_type = ?3, body = ?4, body_size = ?5" \
		" WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_SET_NEXT_ATT, "UPDATE items SET next_att = ?3 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_DELETE, "DELETE FROM items WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_MOVE, "UPDATE items SET folder_id = ?3, server_id = ?4 WHERE uid = ?1 AND user_id = ?2") \
	X(ITEM_GET, "SELECT " ITEM_COLS " FROM items i WHERE i.user_id = ?1 AND i.server_id = ?2") \
	X(ITEM_SYNC_LOAD, "SELECT " ITEM_COLS " FROM items i WHERE i.uid = ?1 AND i.user_id = ?2") \
	X(ITEM_COUNT, "SELECT count(*) FROM items WHERE folder_id = ?1 AND user_id = ?2") \
	X(ITEM_LIST, "SELECT " ITEM_COLS_NODATA " FROM items i WHERE i.folder_id = ?1 AND i.user_id = ?2" \
		" ORDER BY i.date DESC, i.uid DESC LIMIT ?3 OFFSET ?4") \
	X(ITEM_EMPTY, "DELETE FROM items WHERE folder_id = ?1 AND user_id = ?2") \
	X(ITEM_BODY_SIZE, "SELECT uid, body_size FROM items WHERE user_id = ?1 AND server_id = ?2") \
	X(ATT_INSERT, "INSERT INTO attachments(item_uid, user_id, idx, file_ref, name, content_type," \
		" content_id, content_location, method, is_inline, size, data)" \
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)") \
	X(ATT_DELETE_ITEM, "DELETE FROM attachments WHERE item_uid = ?1 AND user_id = ?2") \
	X(ATT_LIST, "SELECT " ATT_COLS " FROM attachments WHERE item_uid = ?1 AND user_id = ?2 ORDER BY idx") \
	X(ATT_GET, "SELECT " ATT_COLS ", id FROM attachments WHERE user_id = ?1 AND file_ref = ?2") \
	X(STATE_GET, "SELECT id, generation, counter, cur_key, prev_key, prev_tag, win_since, win_classes" \
		" FROM sync_states WHERE user_id = ?1 AND device = ?2 AND collection = ?3") \
	X(STATE_INSERT, "INSERT INTO sync_states(user_id, device, collection, folder_id, generation," \
		" counter, cur_key, updated) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)") \
	X(STATE_RESET, "UPDATE sync_states SET generation = ?3, counter = ?4, cur_key = ?5," \
		" prev_key = NULL, prev_tag = NULL, prev_response = NULL, updated = ?6, clean_seq = -1, add_seq = -1" \
		" WHERE id = ?1 AND user_id = ?2") \
	X(STATE_ADVANCE, "UPDATE sync_states SET prev_key = cur_key, prev_tag = ?4, prev_response = ?5," \
		" cur_key = ?6, counter = ?7, updated = ?8 WHERE id = ?1 AND user_id = ?2 AND cur_key = ?3") \
	X(STATE_REPLAY, "SELECT prev_response FROM sync_states WHERE id = ?1 AND user_id = ?2") \
	X(STATE_DELTA_GET, "SELECT win_since, win_classes, clean_seq, add_seq, add_date, add_uid" \
		" FROM sync_states WHERE id = ?1 AND user_id = ?2") \
	X(STATE_DELTA_SET, "UPDATE sync_states SET win_since = ?3, win_classes = ?4, clean_seq = ?5," \
		" add_seq = ?6, add_date = ?7, add_uid = ?8 WHERE id = ?1 AND user_id = ?2") \
	X(LOG_FOLDER_MAX, "SELECT coalesce(max(seq), 0) FROM changes WHERE user_id = ?1 AND folder_id = ?2") \
	X(STATE_FIND, "SELECT s.id FROM sync_states s JOIN devices d ON d.id = s.device" \
		" WHERE d.user_id = ?1 AND d.device_id = ?2 AND s.collection = ?3 AND s.user_id = ?1") \
	X(SYNCED_CLEAR, "DELETE FROM synced WHERE state_id = ?1") \
	X(SYNCED_PUT, "INSERT OR REPLACE INTO synced(state_id, obj_id, server_id, modseq) VALUES(?1, ?2, ?3, ?4)") \
	X(SYNCED_TOUCH, "UPDATE synced SET modseq = ?3 WHERE state_id = ?1 AND obj_id = ?2") \
	X(SYNCED_DEL, "DELETE FROM synced WHERE state_id = ?1 AND obj_id = ?2") \
	X(SYNCED_SEEN, "SELECT s.modseq FROM synced s JOIN items i ON i.uid = s.obj_id" \
		" AND i.server_id = s.server_id WHERE s.state_id = ?1 AND i.user_id = ?2 AND i.server_id = ?3") \
	X(D_DELETES, Q_DELETES " ORDER BY s.obj_id LIMIT ?6") \
	X(D_SOFT, Q_SOFT " ORDER BY s.obj_id LIMIT ?6") \
	X(D_CHANGES, Q_CHANGES " ORDER BY i.uid LIMIT ?6") \
	X(D_SOFT_RANGE, Q_SOFT_RANGE " ORDER BY i.date DESC, i.uid DESC LIMIT ?6") \
	X(D_ADDS, Q_ADDS Q_ADDS_AFTER " ORDER BY i.date DESC, i.uid DESC LIMIT ?6") \
	X(C_DELETES, "SELECT count(*) FROM (" Q_DELETES ")") \
	X(C_SOFT, "SELECT count(*) FROM (" Q_SOFT ")") \
	X(C_CHANGES, "SELECT count(*) FROM (" Q_CHANGES ")") \
	X(C_ADDS, "SELECT count(*) FROM (" Q_ADDS ")") \
	X(H_DELETES, Q_H_DELETES " ORDER BY s.obj_id") \
	X(H_CHANGES, Q_H_CHANGES " ORDER BY f.id") \
	X(H_ADDS, Q_H_ADDS " ORDER BY t.depth, f.id") \
	X(HC_DELETES, "SELECT count(*) FROM (" Q_H_DELETES ")") \
	X(HC_CHANGES, "SELECT count(*) FROM (" Q_H_CHANGES ")") \
	X(HC_ADDS, Q_H_ADDS_COUNT) \
	X(FAULT_INSERT, "INSERT INTO faults(user_id, device_id, command, http_status, retry_after, location," \
		" eas_status, remaining, created) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)") \
	X(FAULT_CLEAR, "DELETE FROM faults WHERE user_id = ?1 AND (?2 IS NULL OR device_id = ?2)") \
	X(FAULT_FIND, "SELECT " FAULT_COLS " FROM faults WHERE user_id = ?1 AND remaining > 0" \
		" AND (device_id IS NULL OR device_id = ?2) AND (command IS NULL OR command = ?3)" \
		" ORDER BY device_id IS NULL, id LIMIT 1") \
	X(FAULT_USE, "UPDATE faults SET remaining = remaining - 1 WHERE id = ?1 AND user_id = ?2 AND remaining > 0") \
	X(FAULT_DROP, "DELETE FROM faults WHERE id = ?1 AND user_id = ?2 AND remaining <= 0") \
	X(FAULT_LIST, "SELECT " FAULT_COLS " FROM faults WHERE user_id = ?1 ORDER BY id")

#define FAULT_COLS "id, device_id, command, http_status, retry_after, location, eas_status, remaining"

#define Q_H_ADDS_COUNT FOLDER_TREE("?2") "SELECT count(*) FROM t JOIN folders f ON f.id = t.id" \
	" WHERE NOT EXISTS (SELECT 1 FROM synced s WHERE s.state_id = ?1 AND s.obj_id = f.id)"

#define X_ENUM(name, sql) ST_##name,
#define X_SQL(name, sql) sql,
enum { STMTS(X_ENUM) ST_COUNT };
static const char *const stmt_sql[ST_COUNT] = { STMTS(X_SQL) };

/* ---- the handle -------------------------------------------------------------------- */

typedef struct event {
	eas_mstore_event_kind kind;
	int64_t user_id;
	int64_t folder;                                 /* EVENT_FOLDER */
	char device[EAS_MSTORE_DEVICE_ID_MAX + 1];       /* EVENT_DEVICE */
} event;

typedef struct sq {
	eas_mstore base; /* first */
	eas_mem mem;
	eas_platform platform;
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	uint32_t iterations;
	uint8_t dummy_salt[SALT_LEN];
	int depth;                 /* open transaction levels */
	size_t marks[MAX_DEPTH];   /* event count when each level began */
	event *ev;
	size_t ev_count, ev_cap;
	eas_mstore_notify_fn notify;
	void *notify_ud;
	char err[256];
} sq;

static sq *SQ(const eas_mstore *m) { return (sq *)(uintptr_t)m; }

static int64_t now_s(sq *s) { return s->platform.wall_clock_s(s->platform.user_data); }

static void clear_err(sq *s) { s->err[0] = 0; }

/* First error wins. */
static void set_err(sq *s, const char *what, const char *detail)
{
	if (!s->err[0])
		snprintf(s->err, sizeof s->err, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
}

/* Maps an SQLite result code to EAS_E_* and records the detail. */
static int fail(sq *s, int rc, const char *what)
{
	set_err(s, what, sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_NOMEM: return EAS_E_NOMEM;
	case SQLITE_CONSTRAINT: return EAS_E_STATE;
	case SQLITE_TOOBIG: return EAS_E_LIMIT;
	default: return EAS_E_IO;
	}
}

/* ---- statement helpers ------------------------------------------------------------- */

/*
 * fmt, one letter per parameter ?1, ?2...: i = int64_t, t = const char *
 * (NULL binds NULL), b = const void *, size_t (NULL or 0 binds NULL),
 * - = leave unbound.  Parameters beyond the statement's count are skipped,
 * so variants of one query may share an argument list.
 */
static int vprep(sqlite3_stmt **out, sq *s, int id, const char *fmt, va_list ap)
{
	sqlite3_stmt *st = s->stmt[id];
	if (!st) {
		int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
		if (rc != SQLITE_OK)
			return fail(s, rc, "prepare");
		s->stmt[id] = st;
	} else {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	}
	int n = sqlite3_bind_parameter_count(st);
	int rc = SQLITE_OK;
	for (int i = 0; fmt[i] && rc == SQLITE_OK; i++) {
		int col = i + 1;
		switch (fmt[i]) {
		case 'i': {
			int64_t v = va_arg(ap, int64_t);
			if (col <= n)
				rc = sqlite3_bind_int64(st, col, v);
			break;
		}
		case 't': {
			const char *t = va_arg(ap, const char *);
			if (col <= n)
				rc = t ? sqlite3_bind_text(st, col, t, -1, SQLITE_STATIC)
				       : sqlite3_bind_null(st, col);
			break;
		}
		case 'b': {
			const void *p = va_arg(ap, const void *);
			size_t len = va_arg(ap, size_t);
			if (col <= n)
				rc = (p && len) ? sqlite3_bind_blob64(st, col, p, (sqlite3_uint64)len, SQLITE_STATIC)
						: sqlite3_bind_null(st, col);
			break;
		}
		default:
			break;
		}
	}
	if (rc != SQLITE_OK)
		return fail(s, rc, "bind");
	*out = st;
	return 0;
}

static int prep(sqlite3_stmt **out, sq *s, int id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = vprep(out, s, id, fmt, ap);
	va_end(ap);
	return rc;
}

/* 1 = a row, 0 = done (statement reset), < 0 = error (statement reset). */
static int step(sq *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		return 1;
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return 0;
	return fail(s, rc, "step");
}

static void done(sqlite3_stmt *st) { sqlite3_reset(st); }

/* Runs a statement to its end. */
static int run(sq *s, int id, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, fmt);
	int rc = vprep(&st, s, id, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1)
		;
	return rc;
}

/* First column of the first row; EAS_E_NOTFOUND without one. */
static int one_i64(int64_t *out, sq *s, int id, const char *fmt, ...)
{
	sqlite3_stmt *st;
	va_list ap;
	va_start(ap, fmt);
	int rc = vprep(&st, s, id, fmt, ap);
	va_end(ap);
	if (rc)
		return rc;
	rc = step(s, st);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return EAS_E_NOTFOUND;
	*out = sqlite3_column_int64(st, 0);
	done(st);
	return 0;
}

static int changes(sq *s) { return sqlite3_changes(s->db); }

static const char *col_text(sqlite3_stmt *st, int c)
{
	return (const char *)sqlite3_column_text(st, c);
}

static int exec_sql(sq *s, const char *sql)
{
	char *msg = NULL;
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		set_err(s, "exec", msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		switch (rc & 0xff) {
		case SQLITE_NOMEM: return EAS_E_NOMEM;
		default: return EAS_E_IO;
		}
	}
	return 0;
}

/* ---- ids ----------------------------------------------------------------------------- */

/* Parses a folder ServerId ("0" = root gives 0); -1 when not one of ours. */
static int64_t parse_folder(const char *id)
{
	if (!id || !*id || strlen(id) > 18)
		return -1;
	if (id[0] == '0')
		return id[1] ? -1 : 0;
	int64_t v = 0;
	for (const char *p = id; *p; p++) {
		if (*p < '0' || *p > '9')
			return -1;
		v = v * 10 + (*p - '0');
	}
	return v;
}

static void fmt_id(char *out, int64_t v) { snprintf(out, EAS_MSTORE_ID_SIZE, "%lld", (long long)v); }

/* ---- notifications ------------------------------------------------------------------- */

static int note(sq *s, eas_mstore_event_kind kind, int64_t user_id, int64_t folder, const char *device)
{
	for (size_t i = 0; i < s->ev_count; i++) {
		event *e = &s->ev[i];
		if (e->kind == kind && e->user_id == user_id && e->folder == folder &&
		    (!device || strcmp(e->device, device) == 0))
			return 0;
	}
	if (s->ev_count == s->ev_cap) {
		size_t cap = s->ev_cap ? s->ev_cap * 2 : 8;
		event *n = eas__realloc(&s->mem, s->ev, cap * sizeof *n);
		if (!n) {
			set_err(s, "out of memory", NULL);
			return EAS_E_NOMEM;
		}
		s->ev = n;
		s->ev_cap = cap;
	}
	event *e = &s->ev[s->ev_count++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->user_id = user_id;
	e->folder = folder;
	if (device)
		snprintf(e->device, sizeof e->device, "%s", device);
	return 0;
}

static void fire(sq *s)
{
	event *list = s->ev;
	size_t count = s->ev_count;
	s->ev = NULL;
	s->ev_count = s->ev_cap = 0;
	for (size_t i = 0; i < count && s->notify; i++) {
		char folder[EAS_MSTORE_ID_SIZE];
		eas_mstore_event ev = { list[i].kind, list[i].user_id, NULL, NULL };
		if (ev.kind == EAS_MSTORE_EVENT_FOLDER) {
			fmt_id(folder, list[i].folder);
			ev.folder_id = folder;
		} else if (ev.kind == EAS_MSTORE_EVENT_DEVICE) {
			ev.device_id = list[i].device;
		}
		s->notify(&ev, s->notify_ud);
	}
	eas__free(&s->mem, list);
}

/* ---- transactions -------------------------------------------------------------------- */

static int tx_begin(sq *s)
{
	if (s->depth >= MAX_DEPTH) {
		set_err(s, "transactions nested too deep", NULL);
		return EAS_E_LIMIT;
	}
	int rc;
	if (s->depth == 0) {
		rc = exec_sql(s, "BEGIN IMMEDIATE");
	} else {
		char sql[32];
		snprintf(sql, sizeof sql, "SAVEPOINT sp%d", s->depth);
		rc = exec_sql(s, sql);
	}
	if (rc)
		return rc;
	s->marks[s->depth++] = s->ev_count;
	return 0;
}

static int tx_rollback(sq *s)
{
	if (s->depth == 0)
		return EAS_E_STATE;
	s->depth--;
	s->ev_count = s->marks[s->depth];
	if (s->depth == 0) {
		/* a failed statement may already have ended the transaction */
		if (!sqlite3_get_autocommit(s->db))
			return exec_sql(s, "ROLLBACK");
		return 0;
	}
	char sql[64];
	snprintf(sql, sizeof sql, "ROLLBACK TO sp%d; RELEASE sp%d", s->depth, s->depth);
	return exec_sql(s, sql);
}

static int tx_commit(sq *s)
{
	if (s->depth == 0)
		return EAS_E_STATE;
	if (s->depth > 1) {
		char sql[32];
		snprintf(sql, sizeof sql, "RELEASE sp%d", s->depth - 1);
		int rc = exec_sql(s, sql);
		if (rc) {
			tx_rollback(s);
			return rc;
		}
		s->depth--;
		return 0;
	}
	int rc = exec_sql(s, "COMMIT");
	if (rc) {
		tx_rollback(s);
		return rc;
	}
	s->depth = 0;
	fire(s);
	return 0;
}

/* Ends the level a mutating entry point opened: commit on success, else roll back. */
static int tx_end(sq *s, int rc)
{
	if (rc == 0)
		return tx_commit(s);
	tx_rollback(s);
	return rc;
}

/* ---- change log ---------------------------------------------------------------------- */

/* Logs one change and returns its seq (the new modseq). */
static int log_change(int64_t *seq, sq *s, int64_t user_id, int64_t folder, int64_t item_uid,
		      const char *server_id, eas_mstore_change_kind kind)
{
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_LOG_INSERT, "ii-tii", user_id, folder, server_id, I64(kind), now_s(s));
	if (rc)
		return rc;
	if (item_uid)
		sqlite3_bind_int64(st, 3, item_uid);
	if ((rc = step(s, st)) < 0)
		return rc;
	*seq = sqlite3_last_insert_rowid(s->db);
	return 0;
}

/* The sync state of (user, device, collection), 0 when none (or no device given). */
static int find_state(int64_t *out, sq *s, int64_t user_id, const char *device, int64_t collection)
{
	*out = 0;
	if (!device)
		return 0;
	int rc = one_i64(out, s, ST_STATE_FIND, "iti", user_id, device, collection);
	if (rc == EAS_E_NOTFOUND) {
		*out = 0;
		return 0;
	}
	return rc;
}

/* ---- handle functions ---------------------------------------------------------------- */

static void m_destroy(eas_mstore *m)
{
	if (!m)
		return;
	sq *s = SQ(m);
	if (s->depth) {
		s->depth = 1;
		tx_rollback(s);
	}
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	sqlite3_close(s->db);
	eas__free(&s->mem, s->ev);
	eas_mem mem = s->mem;
	eas__free(&mem, s);
}

static const char *m_error(const eas_mstore *m) { return SQ(m)->err; }

static void m_release(eas_mstore *m, void *p)
{
	if (p)
		eas__free(&SQ(m)->mem, p);
}

static void m_set_notify(eas_mstore *m, eas_mstore_notify_fn fn, void *ud)
{
	SQ(m)->notify = fn;
	SQ(m)->notify_ud = ud;
}

static int m_begin(eas_mstore *m)
{
	clear_err(SQ(m));
	return tx_begin(SQ(m));
}

static int m_commit(eas_mstore *m)
{
	clear_err(SQ(m));
	return tx_commit(SQ(m));
}

static int m_rollback(eas_mstore *m)
{
	clear_err(SQ(m));
	return tx_rollback(SQ(m));
}

/* ---- accounts ---------------------------------------------------------------------- */

static int valid_user_name(const char *name)
{
	return eas_mstore_valid_text(name, EAS_MSTORE_NAME_MAX) && !strchr(name, ':');
}

static int valid_password(const char *pw)
{
	return pw && *pw && strlen(pw) <= EAS_MSTORE_PASSWORD_MAX;
}

static int random_bytes(sq *s, uint8_t *buf, size_t len)
{
	int rc = s->platform.random_bytes(buf, len, s->platform.user_data);
	if (rc) {
		set_err(s, "random bytes", NULL);
		return rc < 0 ? rc : EAS_E_IO;
	}
	return 0;
}

static int make_hash(sq *s, uint8_t salt[SALT_LEN], uint8_t hash[32], const char *password)
{
	int rc = random_bytes(s, salt, SALT_LEN);
	if (!rc)
		rc = eas_mstore_pbkdf2(hash, password, strlen(password), salt, SALT_LEN, s->iterations);
	return rc;
}

static int user_exists(sq *s, int64_t user_id)
{
	int64_t one;
	return one_i64(&one, s, ST_USER_EXISTS, "i", user_id);
}

/* Inserts a folder row, logs it and sets its modseq. */
static int insert_folder(int64_t *out_id, int64_t *out_seq, sq *s, int64_t user_id, int64_t parent,
			 const char *name, uint32_t type, int is_default)
{
	int rc = run(s, ST_FOLDER_INSERT, "iitiii", user_id, parent, name, I64(type), I64(is_default),
		     now_s(s));
	if (rc)
		return rc;
	int64_t id = sqlite3_last_insert_rowid(s->db), seq;
	char sid[EAS_MSTORE_ID_SIZE];
	fmt_id(sid, id);
	if ((rc = log_change(&seq, s, user_id, id, 0, sid, EAS_MSTORE_CHANGE_ADD)))
		return rc;
	if ((rc = run(s, ST_FOLDER_MODSEQ, "iii", id, user_id, seq)))
		return rc;
	*out_id = id;
	if (out_seq)
		*out_seq = seq;
	return 0;
}

static int user_add_tx(int64_t *out, sq *s, const char *name, const uint8_t *salt, const uint8_t *hash)
{
	int64_t id;
	int rc = one_i64(&id, s, ST_USER_BY_NAME, "t", name);
	if (rc == 0) {
		set_err(s, "user exists", NULL);
		return EAS_E_STATE;
	}
	if (rc != EAS_E_NOTFOUND)
		return rc;
	rc = run(s, ST_USER_INSERT, "tbbii", name, (const void *)salt, (size_t)SALT_LEN,
		 (const void *)hash, (size_t)32, I64(s->iterations), now_s(s));
	if (rc)
		return rc;
	id = sqlite3_last_insert_rowid(s->db);
	for (int i = 0; i < EAS_MSTORE_DEFAULT_FOLDER_COUNT; i++) {
		int64_t fid;
		rc = insert_folder(&fid, NULL, s, id, 0, eas_mstore_default_folders[i].name,
				   eas_mstore_default_folders[i].type, 1);
		if (rc)
			return rc;
	}
	if ((rc = note(s, EAS_MSTORE_EVENT_HIERARCHY, id, 0, NULL)))
		return rc;
	*out = id;
	return 0;
}

static int m_user_add(int64_t *out, eas_mstore *m, const char *name, const char *password)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !valid_user_name(name) || !valid_password(password))
		return EAS_E_INVALID;
	uint8_t salt[SALT_LEN], hash[32];
	int rc = make_hash(s, salt, hash, password);
	if (rc)
		return rc;
	if ((rc = tx_begin(s)))
		return rc;
	return tx_end(s, user_add_tx(out, s, name, salt, hash));
}

static int m_user_delete(eas_mstore *m, int64_t user_id)
{
	sq *s = SQ(m);
	clear_err(s);
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = run(s, ST_USER_DELETE, "i", user_id);
	if (!rc && changes(s) == 0)
		rc = EAS_E_NOTFOUND;
	if (!rc)
		rc = note(s, EAS_MSTORE_EVENT_HIERARCHY, user_id, 0, NULL);
	return tx_end(s, rc);
}

static int m_user_lookup(int64_t *out, eas_mstore *m, const char *name)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !name)
		return EAS_E_INVALID;
	return one_i64(out, s, ST_USER_BY_NAME, "t", name);
}

static int m_user_list(eas_mstore *m, eas_mstore_user_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!fn)
		return EAS_E_INVALID;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_USER_LIST, "");
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		eas_mstore_user u = { sqlite3_column_int64(st, 0), col_text(st, 1),
				      sqlite3_column_int64(st, 2), (uint32_t)sqlite3_column_int64(st, 3) };
		if (fn(&u, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

static int m_user_set_password(eas_mstore *m, int64_t user_id, const char *password)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!valid_password(password))
		return EAS_E_INVALID;
	uint8_t salt[SALT_LEN], hash[32];
	int rc = make_hash(s, salt, hash, password);
	if (rc)
		return rc;
	if ((rc = tx_begin(s)))
		return rc;
	rc = run(s, ST_USER_SET_PW, "ibbi", user_id, (const void *)salt, (size_t)SALT_LEN,
		 (const void *)hash, (size_t)32, I64(s->iterations));
	if (!rc && changes(s) == 0)
		rc = EAS_E_NOTFOUND;
	return tx_end(s, rc);
}

static int m_user_verify_password(int64_t *out, eas_mstore *m, const char *name, const char *password)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !name || !password)
		return EAS_E_INVALID;
	size_t pw_len = strlen(password);
	uint8_t salt[SALT_LEN], want[32], got[32];
	uint32_t iterations = s->iterations;
	int64_t id = 0;
	int known = 0;
	if (valid_user_name(name) && pw_len <= EAS_MSTORE_PASSWORD_MAX) {
		sqlite3_stmt *st;
		int rc = prep(&st, s, ST_USER_BY_NAME, "t", name);
		if (rc)
			return rc;
		rc = step(s, st);
		if (rc < 0)
			return rc;
		if (rc == 1 && sqlite3_column_bytes(st, 1) == SALT_LEN && sqlite3_column_bytes(st, 2) == 32 &&
		    sqlite3_column_int64(st, 3) > 0 && sqlite3_column_int64(st, 3) <= UINT32_MAX) {
			id = sqlite3_column_int64(st, 0);
			memcpy(salt, sqlite3_column_blob(st, 1), SALT_LEN);
			memcpy(want, sqlite3_column_blob(st, 2), 32);
			iterations = (uint32_t)sqlite3_column_int64(st, 3);
			known = 1;
		}
		if (rc == 1)
			done(st);
	}
	if (!known) {
		/* the same work for an unknown name: no user enumeration by timing */
		memcpy(salt, s->dummy_salt, SALT_LEN);
		memset(want, 0xA5, sizeof want);
	}
	int rc = eas_mstore_pbkdf2(got, password, pw_len > EAS_MSTORE_PASSWORD_MAX ? 0 : pw_len, salt,
				   SALT_LEN, iterations);
	if (rc)
		return rc;
	int equal = eas_mstore_equal_ct(got, want, sizeof got);
	if (!known || !equal) {
		set_err(s, "authentication failed", NULL);
		return EAS_E_AUTH;
	}
	*out = id;
	return 0;
}

static int token_hash(uint8_t hash[32], const char *token)
{
	if (!token || strlen(token) != TOKEN_LEN || strncmp(token, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1))
		return EAS_E_AUTH;
	return eas_mstore_sha256(hash, token, TOKEN_LEN);
}

static int m_token_issue(char *out, eas_mstore *m, int64_t user_id, int64_t lifetime_s)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || lifetime_s < 0)
		return EAS_E_INVALID;
	static const char hex[] = "0123456789abcdef";
	uint8_t raw[TOKEN_RAW], hash[32];
	char tok[TOKEN_LEN + 1];
	int rc = random_bytes(s, raw, sizeof raw);
	if (rc)
		return rc;
	memcpy(tok, TOKEN_PREFIX, sizeof TOKEN_PREFIX - 1);
	for (size_t i = 0; i < TOKEN_RAW; i++) {
		tok[sizeof TOKEN_PREFIX - 1 + 2 * i] = hex[raw[i] >> 4];
		tok[sizeof TOKEN_PREFIX - 1 + 2 * i + 1] = hex[raw[i] & 15];
	}
	tok[TOKEN_LEN] = 0;
	if ((rc = eas_mstore_sha256(hash, tok, TOKEN_LEN)))
		return rc;
	if ((rc = tx_begin(s)))
		return rc;
	rc = user_exists(s, user_id);
	if (!rc) {
		int64_t t = now_s(s);
		rc = run(s, ST_TOKEN_INSERT, "biii", (const void *)hash, (size_t)32, user_id, t,
			 lifetime_s ? t + lifetime_s : I64(0));
	}
	if ((rc = tx_end(s, rc)))
		return rc;
	memcpy(out, tok, TOKEN_LEN + 1);
	return 0;
}

static int m_token_verify(int64_t *out, eas_mstore *m, const char *token)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out)
		return EAS_E_INVALID;
	uint8_t hash[32];
	int rc = token_hash(hash, token);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_TOKEN_GET, "b", (const void *)hash, (size_t)32)))
		return rc;
	rc = step(s, st);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return EAS_E_AUTH;
	int64_t user = sqlite3_column_int64(st, 0), expires = sqlite3_column_int64(st, 1);
	int ok = sqlite3_column_bytes(st, 2) == 32 && eas_mstore_equal_ct(sqlite3_column_blob(st, 2), hash, 32);
	done(st);
	if (!ok || (expires && now_s(s) >= expires))
		return EAS_E_AUTH;
	*out = user;
	return 0;
}

static int m_token_revoke(eas_mstore *m, int64_t user_id, const char *token)
{
	sq *s = SQ(m);
	clear_err(s);
	uint8_t hash[32];
	if (token_hash(hash, token))
		return EAS_E_NOTFOUND;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = run(s, ST_TOKEN_DELETE, "bi", (const void *)hash, (size_t)32, user_id);
	if (!rc && changes(s) == 0)
		rc = EAS_E_NOTFOUND;
	return tx_end(s, rc);
}

static int m_token_revoke_all(eas_mstore *m, int64_t user_id)
{
	sq *s = SQ(m);
	clear_err(s);
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, run(s, ST_TOKEN_DELETE_USER, "i", user_id));
}

/* ---- devices ------------------------------------------------------------------------- */

static int valid_device(const char *d) { return eas_mstore_valid_text(d, EAS_MSTORE_DEVICE_ID_MAX); }

static int device_row(int64_t *out, sq *s, int64_t user_id, const char *device)
{
	if (!valid_device(device))
		return EAS_E_NOTFOUND;
	return one_i64(out, s, ST_DEV_ROW, "it", user_id, device);
}

static int m_device_touch(eas_mstore *m, int64_t user_id, const char *device,
			  const eas_mstore_device_info *info)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!valid_device(device))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	/*
	 * Rows are rewritten only when a value changes (last_seen has one-second
	 * steps): a touch that changes nothing writes no page, so the commit
	 * costs no fsync on every request of a busy device.
	 */
	rc = user_exists(s, user_id);
	int64_t seen = 0, now = now_s(s);
	if (!rc) {
		rc = one_i64(&seen, s, ST_DEV_SEEN, "it", user_id, device);
		if (rc == EAS_E_NOTFOUND || (!rc && seen != now))
			rc = run(s, ST_DEV_UPSERT, "iti", user_id, device, now);
	}
	if (!rc && info)
		rc = run(s, ST_DEV_INFO, "itttttttttt", user_id, device, info->device_type,
			 info->user_agent, info->model, info->imei, info->friendly_name, info->os,
			 info->os_language, info->phone_number, info->mobile_operator);
	return tx_end(s, rc);
}

/* Fills d from a DEV_COLS row (pointers into the statement). */
static void fill_device(eas_mstore_device *d, sqlite3_stmt *st)
{
	memset(d, 0, sizeof *d);
	d->device_id = col_text(st, 0);
	d->info.device_type = col_text(st, 1);
	d->info.user_agent = col_text(st, 2);
	d->info.model = col_text(st, 3);
	d->info.imei = col_text(st, 4);
	d->info.friendly_name = col_text(st, 5);
	d->info.os = col_text(st, 6);
	d->info.os_language = col_text(st, 7);
	d->info.phone_number = col_text(st, 8);
	d->info.mobile_operator = col_text(st, 9);
	d->first_seen = sqlite3_column_int64(st, 10);
	d->last_seen = sqlite3_column_int64(st, 11);
	d->policy_key = (uint32_t)sqlite3_column_int64(st, 12);
	d->policy_state = (eas_mstore_policy_state)sqlite3_column_int(st, 13);
	d->policy_status = (uint32_t)sqlite3_column_int64(st, 14);
	d->wipe_state = (eas_mstore_wipe_state)sqlite3_column_int(st, 15);
	d->wipe_kind = (eas_mstore_wipe_kind)sqlite3_column_int(st, 16);
	d->wipe_requested = sqlite3_column_int64(st, 17);
	d->wipe_acknowledged = sqlite3_column_int64(st, 18);
	d->wipe_status = (uint32_t)sqlite3_column_int64(st, 19);
}

/*
 * Two-pass packing of a record and its strings into one allocation: the
 * first pass (base NULL) measures with worst-case padding, the second copies.
 */
typedef struct pack {
	uint8_t *base;
	size_t off, cap;
} pack;

static void *pack_put(pack *p, const void *src, size_t len, int nul)
{
	size_t need = len + (nul ? 1u : 0u);
	if (!p->base) {
		p->off += need + 7u;
		return NULL;
	}
	size_t at = (p->off + 7u) & ~(size_t)7u;
	if (at > p->cap || need > p->cap - at) {
		p->off = p->cap + 1; /* overflow: the caller sees off > cap */
		return NULL;
	}
	p->off = at + need;
	uint8_t *dst = p->base + at;
	if (len && src)
		memcpy(dst, src, len);
	if (nul)
		dst[len] = 0;
	return dst;
}

static const char *pack_str(pack *p, const char *s)
{
	return s ? pack_put(p, s, strlen(s), 1) : NULL;
}

static int pack_alloc(pack *p, sq *s)
{
	p->cap = p->off;
	p->off = 0;
	p->base = eas__calloc(&s->mem, 1, p->cap ? p->cap : 1);
	if (!p->base) {
		set_err(s, "out of memory", NULL);
		return EAS_E_NOMEM;
	}
	return 0;
}

static void pack_device(pack *p, eas_mstore_device **out, const eas_mstore_device *d)
{
	eas_mstore_device *c = pack_put(p, d, sizeof *d, 0);
	const char *dev = pack_str(p, d->device_id);
	eas_mstore_device_info in = d->info, info;
	info.device_type = pack_str(p, in.device_type);
	info.user_agent = pack_str(p, in.user_agent);
	info.model = pack_str(p, in.model);
	info.imei = pack_str(p, in.imei);
	info.friendly_name = pack_str(p, in.friendly_name);
	info.os = pack_str(p, in.os);
	info.os_language = pack_str(p, in.os_language);
	info.phone_number = pack_str(p, in.phone_number);
	info.mobile_operator = pack_str(p, in.mobile_operator);
	if (c) {
		c->device_id = dev;
		c->info = info;
		*out = c;
	}
}

static int m_device_get(eas_mstore_device **out, eas_mstore *m, int64_t user_id, const char *device)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!valid_device(device))
		return EAS_E_NOTFOUND;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_DEV_GET, "it", user_id, device);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	eas_mstore_device d;
	fill_device(&d, st);
	pack p = { NULL, 0, 0 };
	pack_device(&p, out, &d);
	if ((rc = pack_alloc(&p, s))) {
		done(st);
		return rc;
	}
	pack_device(&p, out, &d);
	done(st);
	return 0;
}

static int m_device_list(eas_mstore *m, int64_t user_id, eas_mstore_device_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!fn)
		return EAS_E_INVALID;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_DEV_LIST, "i", user_id);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		eas_mstore_device d;
		fill_device(&d, st);
		if (fn(&d, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

/* Runs a device UPDATE/DELETE in its own transaction; EAS_E_NOTFOUND when no row matched. */
static int device_write(sq *s, int id, int64_t user_id, const char *device, int64_t a, int64_t b,
			int64_t c, int notify)
{
	if (!valid_device(device))
		return EAS_E_NOTFOUND;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = run(s, id, "itiii", user_id, device, a, b, c);
	if (!rc && changes(s) == 0)
		rc = EAS_E_NOTFOUND;
	if (!rc && notify)
		rc = note(s, EAS_MSTORE_EVENT_DEVICE, user_id, 0, device);
	return tx_end(s, rc);
}

static int m_device_remove(eas_mstore *m, int64_t user_id, const char *device)
{
	clear_err(SQ(m));
	return device_write(SQ(m), ST_DEV_DELETE, user_id, device, 0, 0, 0, 1);
}

static int m_device_set_policy(eas_mstore *m, int64_t user_id, const char *device, uint32_t key,
			       eas_mstore_policy_state state, uint32_t status)
{
	clear_err(SQ(m));
	if (state != EAS_MSTORE_POLICY_NONE && state != EAS_MSTORE_POLICY_ISSUED &&
	    state != EAS_MSTORE_POLICY_ACKNOWLEDGED)
		return EAS_E_INVALID;
	return device_write(SQ(m), ST_DEV_POLICY, user_id, device, I64(key), I64(state), I64(status), 1);
}

static int valid_wipe_kind(eas_mstore_wipe_kind k)
{
	return k == EAS_MSTORE_WIPE_FULL || k == EAS_MSTORE_WIPE_ACCOUNT_ONLY;
}

static int m_device_wipe_request(eas_mstore *m, int64_t user_id, const char *device, eas_mstore_wipe_kind kind)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!valid_wipe_kind(kind))
		return EAS_E_INVALID;
	return device_write(s, ST_DEV_WIPE_REQ, user_id, device, I64(kind), now_s(s), 0, 1);
}

static int m_device_wipe_ack(eas_mstore *m, int64_t user_id, const char *device,
			     eas_mstore_wipe_kind kind, uint32_t status)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!valid_wipe_kind(kind))
		return EAS_E_INVALID;
	if (!valid_device(device))
		return EAS_E_NOTFOUND;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	rc = prep(&st, s, ST_DEV_WIPE_GET, "it", user_id, device);
	if (!rc) {
		rc = step(s, st);
		if (rc == 0) {
			rc = EAS_E_NOTFOUND;
		} else if (rc == 1) {
			int state = sqlite3_column_int(st, 0), k = sqlite3_column_int(st, 1);
			done(st);
			rc = 0;
			if (state != EAS_MSTORE_WIPE_REQUESTED || k != (int)kind) {
				set_err(s, "no such wipe requested", NULL);
				rc = EAS_E_STATE;
			}
		}
	}
	if (!rc)
		rc = run(s, ST_DEV_WIPE_ACK, "itii", user_id, device, now_s(s), I64(status));
	if (!rc)
		rc = note(s, EAS_MSTORE_EVENT_DEVICE, user_id, 0, device);
	return tx_end(s, rc);
}

static int m_device_wipe_clear(eas_mstore *m, int64_t user_id, const char *device)
{
	clear_err(SQ(m));
	return device_write(SQ(m), ST_DEV_WIPE_CLEAR, user_id, device, 0, 0, 0, 1);
}

static int m_device_cache_put(eas_mstore *m, int64_t user_id, const char *device, const char *name,
			      const uint8_t *data, size_t len)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!eas_mstore_valid_text(name, EAS_MSTORE_ID_MAX) || (!data && len))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	int64_t dev;
	rc = device_row(&dev, s, user_id, device);
	if (!rc)
		rc = run(s, ST_CACHE_PUT, "iitb", dev, user_id, name, (const void *)data, len);
	return tx_end(s, rc);
}

static int copy_blob(uint8_t **out, size_t *out_len, sq *s, sqlite3_stmt *st, int col)
{
	size_t n = (size_t)sqlite3_column_bytes(st, col);
	const void *p = sqlite3_column_blob(st, col);
	*out = NULL;
	*out_len = 0;
	if (!n || !p)
		return 0;
	uint8_t *c = eas__malloc(&s->mem, n);
	if (!c) {
		set_err(s, "out of memory", NULL);
		return EAS_E_NOMEM;
	}
	memcpy(c, p, n);
	*out = c;
	*out_len = n;
	return 0;
}

static int m_device_cache_get(uint8_t **out, size_t *out_len, eas_mstore *m, int64_t user_id,
			      const char *device, const char *name)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !out_len || !name)
		return EAS_E_INVALID;
	*out = NULL;
	*out_len = 0;
	int64_t dev;
	int rc = device_row(&dev, s, user_id, device);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_CACHE_GET, "iit", dev, user_id, name)))
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	rc = copy_blob(out, out_len, s, st, 0);
	done(st);
	return rc;
}

/* ---- folders ------------------------------------------------------------------------- */

typedef struct frow {
	int64_t id, parent, modseq, next_item;
	uint32_t type;
	int is_default;
} frow;

/* Fills a public folder and a row description from FOLDER_COLS at column c. */
static void fill_folder(eas_mstore_folder *f, frow *r, sqlite3_stmt *st, int c)
{
	frow row;
	row.id = sqlite3_column_int64(st, c);
	row.parent = sqlite3_column_int64(st, c + 1);
	row.type = (uint32_t)sqlite3_column_int64(st, c + 3);
	row.is_default = sqlite3_column_int(st, c + 4);
	row.modseq = sqlite3_column_int64(st, c + 5);
	row.next_item = sqlite3_column_int64(st, c + 6);
	if (f) {
		memset(f, 0, sizeof *f);
		fmt_id(f->server_id, row.id);
		fmt_id(f->parent_id, row.parent);
		const char *name = col_text(st, c + 2);
		snprintf(f->display_name, sizeof f->display_name, "%s", name ? name : "");
		f->type = row.type;
		f->is_default = row.is_default;
		f->modseq = row.modseq;
	}
	if (r)
		*r = row;
}

/* Looks up a folder of the user by ServerId; EAS_E_NOTFOUND (also for "0"). */
static int folder_row(frow *r, eas_mstore_folder *f, sq *s, int64_t user_id, const char *id)
{
	int64_t fid = parse_folder(id);
	if (fid <= 0)
		return EAS_E_NOTFOUND;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FOLDER_GET, "ii", fid, user_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	fill_folder(f, r, st, 0);
	done(st);
	return 0;
}

static int m_folder_list(eas_mstore *m, int64_t user_id, eas_mstore_folder_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!fn)
		return EAS_E_INVALID;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FOLDER_LIST, "i", user_id);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		eas_mstore_folder f;
		fill_folder(&f, NULL, st, 0);
		if (fn(&f, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

static int m_folder_get(eas_mstore_folder *out, eas_mstore *m, int64_t user_id, const char *id)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !id)
		return EAS_E_INVALID;
	return folder_row(NULL, out, s, user_id, id);
}

static int m_folder_find_default(eas_mstore_folder *out, eas_mstore *m, int64_t user_id, uint32_t type)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || type < EAS_MSTORE_FOLDER_INBOX || type > EAS_MSTORE_FOLDER_JOURNAL)
		return EAS_E_INVALID;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FOLDER_DEFAULT, "ii", user_id, I64(type));
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	fill_folder(out, NULL, st, 0);
	done(st);
	return 0;
}

/* Resolves a parent ServerId: "0" = 0; -1 = not found. */
static int parent_row(int64_t *out, sq *s, int64_t user_id, const char *parent)
{
	int64_t pid = parse_folder(parent);
	if (pid == 0) {
		*out = 0;
		return 0;
	}
	frow r;
	int rc = folder_row(&r, NULL, s, user_id, parent);
	if (rc == EAS_E_NOTFOUND) {
		*out = -1;
		return 0;
	}
	if (rc)
		return rc;
	*out = r.id;
	return 0;
}

static int name_taken(int *out, sq *s, int64_t user_id, int64_t parent, const char *name, int64_t self)
{
	int64_t other;
	int rc = one_i64(&other, s, ST_FOLDER_NAME_TAKEN, "iiti", user_id, parent, name, self);
	*out = rc == 0;
	return rc == EAS_E_NOTFOUND ? 0 : rc;
}

static int folder_create_tx(eas_mstore_result *result, eas_mstore_folder *out, sq *s, int64_t user_id,
			    const char *parent_id, const char *name, uint32_t type, const char *origin)
{
	int rc = user_exists(s, user_id);
	if (rc)
		return rc;
	int64_t parent;
	if ((rc = parent_row(&parent, s, user_id, parent_id)))
		return rc;
	if (parent < 0) {
		*result = EAS_MSTORE_PARENT_NOT_FOUND;
		return 0;
	}
	int taken;
	if ((rc = name_taken(&taken, s, user_id, parent, name, 0)))
		return rc;
	if (taken) {
		*result = EAS_MSTORE_EXISTS;
		return 0;
	}
	int64_t id, seq, state;
	if ((rc = insert_folder(&id, &seq, s, user_id, parent, name, type, 0)))
		return rc;
	char sid[EAS_MSTORE_ID_SIZE];
	fmt_id(sid, id);
	if ((rc = find_state(&state, s, user_id, origin, 0)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_PUT, "iiti", state, id, sid, seq)))
		return rc;
	if ((rc = note(s, EAS_MSTORE_EVENT_HIERARCHY, user_id, 0, NULL)))
		return rc;
	if ((rc = folder_row(NULL, out, s, user_id, sid)))
		return rc;
	*result = EAS_MSTORE_OK;
	return 0;
}

static int m_folder_create(eas_mstore_result *result, eas_mstore_folder *out, eas_mstore *m,
			   int64_t user_id, const char *parent_id, const char *name, uint32_t type,
			   const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!result || !out || !parent_id || !eas_mstore_valid_text(name, EAS_MSTORE_NAME_MAX) ||
	    !eas_mstore_folder_type_creatable(type))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, folder_create_tx(result, out, s, user_id, parent_id, name, type, origin));
}

static int folder_update_tx(eas_mstore_result *result, sq *s, int64_t user_id, const char *id,
			    const char *parent_id, const char *name, const char *origin)
{
	frow f;
	int rc = folder_row(&f, NULL, s, user_id, id);
	if (rc == EAS_E_NOTFOUND) {
		*result = EAS_MSTORE_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	if (f.is_default) {
		*result = EAS_MSTORE_SPECIAL_FOLDER;
		return 0;
	}
	int64_t parent;
	if ((rc = parent_row(&parent, s, user_id, parent_id)))
		return rc;
	if (parent < 0) {
		*result = EAS_MSTORE_PARENT_NOT_FOUND;
		return 0;
	}
	/* the new parent must not be the folder or below it */
	for (int64_t p = parent, hops = 0; p != 0; hops++) {
		frow pr;
		char pid[EAS_MSTORE_ID_SIZE];
		if (p == f.id || hops > 10000) {
			*result = EAS_MSTORE_INVALID_PARENT;
			return 0;
		}
		fmt_id(pid, p);
		if ((rc = folder_row(&pr, NULL, s, user_id, pid)))
			return rc;
		p = pr.parent;
	}
	int taken;
	if ((rc = name_taken(&taken, s, user_id, parent, name, f.id)))
		return rc;
	if (taken) {
		*result = EAS_MSTORE_EXISTS;
		return 0;
	}
	if ((rc = run(s, ST_FOLDER_UPDATE, "iiit", f.id, user_id, parent, name)))
		return rc;
	int64_t seq, state;
	char sid[EAS_MSTORE_ID_SIZE];
	fmt_id(sid, f.id);
	if ((rc = log_change(&seq, s, user_id, f.id, 0, sid, EAS_MSTORE_CHANGE_CHANGE)))
		return rc;
	if ((rc = run(s, ST_FOLDER_MODSEQ, "iii", f.id, user_id, seq)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, 0)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_TOUCH, "iii", state, f.id, seq)))
		return rc;
	if ((rc = note(s, EAS_MSTORE_EVENT_HIERARCHY, user_id, 0, NULL)))
		return rc;
	*result = EAS_MSTORE_OK;
	return 0;
}

static int m_folder_update(eas_mstore_result *result, eas_mstore *m, int64_t user_id, const char *id,
			   const char *parent_id, const char *name, const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!result || !id || !parent_id || !eas_mstore_valid_text(name, EAS_MSTORE_NAME_MAX))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, folder_update_tx(result, s, user_id, id, parent_id, name, origin));
}

/* Collects the ids of a folder's subtree, deepest first. */
static int subtree(int64_t **out, size_t *count, sq *s, int64_t user_id, int64_t root)
{
	*out = NULL;
	*count = 0;
	size_t cap = 0;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FOLDER_SUBTREE, "ii", root, user_id);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		if (*count == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *n = eas__realloc(&s->mem, *out, ncap * sizeof *n);
			if (!n) {
				done(st);
				set_err(s, "out of memory", NULL);
				return EAS_E_NOMEM;
			}
			*out = n;
			cap = ncap;
		}
		(*out)[(*count)++] = sqlite3_column_int64(st, 0);
	}
	return rc;
}

/* Deletes a folder and everything below it (no default-folder check). */
static int delete_tree(sq *s, int64_t user_id, int64_t root, const char *origin)
{
	int64_t *ids, state;
	size_t count;
	int rc = subtree(&ids, &count, s, user_id, root);
	if (!rc)
		rc = find_state(&state, s, user_id, origin, 0);
	for (size_t i = 0; i < count && !rc; i++) {
		char sid[EAS_MSTORE_ID_SIZE];
		int64_t seq;
		fmt_id(sid, ids[i]);
		rc = log_change(&seq, s, user_id, ids[i], 0, sid, EAS_MSTORE_CHANGE_DELETE);
		if (!rc)
			rc = run(s, ST_FOLDER_DELETE, "ii", ids[i], user_id);
		if (!rc && state)
			rc = run(s, ST_SYNCED_DEL, "ii", state, ids[i]);
		if (!rc)
			rc = note(s, EAS_MSTORE_EVENT_FOLDER, user_id, ids[i], NULL);
	}
	if (!rc)
		rc = note(s, EAS_MSTORE_EVENT_HIERARCHY, user_id, 0, NULL);
	eas__free(&s->mem, ids);
	return rc;
}

static int folder_delete_tx(eas_mstore_result *result, sq *s, int64_t user_id, const char *id,
			    const char *origin)
{
	frow f;
	int rc = folder_row(&f, NULL, s, user_id, id);
	if (rc == EAS_E_NOTFOUND) {
		*result = EAS_MSTORE_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	if (f.is_default) {
		*result = EAS_MSTORE_SPECIAL_FOLDER;
		return 0;
	}
	if ((rc = delete_tree(s, user_id, f.id, origin)))
		return rc;
	*result = EAS_MSTORE_OK;
	return 0;
}

static int m_folder_delete(eas_mstore_result *result, eas_mstore *m, int64_t user_id, const char *id,
			   const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!result || !id)
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, folder_delete_tx(result, s, user_id, id, origin));
}

static int folder_empty_tx(eas_mstore_result *result, sq *s, int64_t user_id, const char *id,
			   int delete_subfolders, const char *origin)
{
	frow f;
	int rc = folder_row(&f, NULL, s, user_id, id);
	if (rc == EAS_E_NOTFOUND) {
		*result = EAS_MSTORE_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	int64_t state;
	if ((rc = run(s, ST_LOG_EMPTY, "iii", f.id, user_id, now_s(s))))
		return rc;
	if ((rc = run(s, ST_ITEM_EMPTY, "ii", f.id, user_id)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, f.id)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_CLEAR, "i", state)))
		return rc;
	if ((rc = note(s, EAS_MSTORE_EVENT_FOLDER, user_id, f.id, NULL)))
		return rc;
	if (delete_subfolders) {
		int64_t *kids = NULL;
		size_t count = 0, cap = 0;
		sqlite3_stmt *st;
		if ((rc = prep(&st, s, ST_FOLDER_CHILDREN, "ii", f.id, user_id)))
			return rc;
		while ((rc = step(s, st)) == 1) {
			if (count == cap) {
				size_t ncap = cap ? cap * 2 : 8;
				int64_t *n = eas__realloc(&s->mem, kids, ncap * sizeof *n);
				if (!n) {
					done(st);
					eas__free(&s->mem, kids);
					set_err(s, "out of memory", NULL);
					return EAS_E_NOMEM;
				}
				kids = n;
				cap = ncap;
			}
			kids[count++] = sqlite3_column_int64(st, 0);
		}
		for (size_t i = 0; i < count && !rc; i++)
			rc = delete_tree(s, user_id, kids[i], origin);
		eas__free(&s->mem, kids);
		if (rc)
			return rc;
	}
	*result = EAS_MSTORE_OK;
	return 0;
}

static int m_folder_empty(eas_mstore_result *result, eas_mstore *m, int64_t user_id, const char *id,
			  int delete_subfolders, const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!result || !id)
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, folder_empty_tx(result, s, user_id, id, delete_subfolders, origin));
}

/* ---- items --------------------------------------------------------------------------- */

static int valid_item_data(const eas_mstore_item_data *d, unsigned fields)
{
	if (!d)
		return 0;
	if ((fields & EAS_MSTORE_SET_APPDATA) && !d->application_data && d->application_data_len)
		return 0;
	if ((fields & EAS_MSTORE_SET_BODY) && !d->body && d->body_len)
		return 0;
	if ((fields & EAS_MSTORE_SET_ATTACHMENTS) && !d->attachments && d->attachment_count)
		return 0;
	if (fields & EAS_MSTORE_SET_ATTACHMENTS)
		for (size_t i = 0; i < d->attachment_count; i++)
			if (!d->attachments[i].data && d->attachments[i].len)
				return 0;
	return 1;
}

typedef struct irow {
	int64_t uid, folder, next_att;
	char server_id[EAS_MSTORE_ID_SIZE];
} irow;

static int item_row(irow *r, sq *s, int64_t user_id, const char *server_id)
{
	if (!server_id || !*server_id || strlen(server_id) > EAS_MSTORE_ID_MAX)
		return EAS_E_NOTFOUND;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ITEM_ROW, "it", user_id, server_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	r->uid = sqlite3_column_int64(st, 0);
	r->folder = sqlite3_column_int64(st, 1);
	r->next_att = sqlite3_column_int64(st, 2);
	snprintf(r->server_id, sizeof r->server_id, "%s", col_text(st, 3));
	done(st);
	return 0;
}

/* Appends the attachments of d to item uid, numbering from *next. */
static int add_attachments(sq *s, int64_t user_id, int64_t uid, int64_t *next, const eas_mstore_item_data *d)
{
	for (size_t i = 0; i < d->attachment_count; i++) {
		const eas_mstore_attachment_data *a = &d->attachments[i];
		char ref[EAS_MSTORE_ID_SIZE];
		int64_t idx = (*next)++;
		snprintf(ref, sizeof ref, "%lld.%lld", (long long)uid, (long long)idx);
		int rc = run(s, ST_ATT_INSERT, "iiitttttiiib", uid, user_id, idx, ref, a->name,
			     a->content_type, a->content_id, a->content_location,
			     I64(a->method ? a->method : 1), I64(a->is_inline ? 1 : 0), I64(a->len),
			     (const void *)a->data, a->len);
		if (rc)
			return rc;
	}
	return run(s, ST_ITEM_SET_NEXT_ATT, "iii", uid, user_id, *next);
}

static int item_add_tx(char *out, sq *s, int64_t user_id, const char *folder_id,
		       const eas_mstore_item_data *d, const char *origin)
{
	frow f;
	int rc = folder_row(&f, NULL, s, user_id, folder_id);
	if (rc)
		return rc;
	char sid[EAS_MSTORE_ID_SIZE];
	snprintf(sid, sizeof sid, "%lld:%lld", (long long)f.id, (long long)f.next_item);
	if ((rc = run(s, ST_FOLDER_NEXT_ITEM, "iii", f.id, user_id, f.next_item + 1)))
		return rc;
	const eas_mstore_summary *sm = &d->summary;
	rc = run(s, ST_ITEM_INSERT, "iitttti" "iiib" "ibii", user_id, f.id, sid, d->class_name,
		 sm->subject, sm->from, sm->date, I64(sm->read ? 1 : 0), I64(sm->flag_status),
		 I64(sm->size), (const void *)d->application_data, d->application_data_len,
		 I64(d->body_type), (const void *)d->body, d->body_len, I64(d->body_len), now_s(s));
	if (rc)
		return rc;
	int64_t uid = sqlite3_last_insert_rowid(s->db), seq, state, next = 1;
	if (d->attachment_count && (rc = add_attachments(s, user_id, uid, &next, d)))
		return rc;
	if ((rc = log_change(&seq, s, user_id, f.id, uid, sid, EAS_MSTORE_CHANGE_ADD)))
		return rc;
	if ((rc = run(s, ST_ITEM_MODSEQ, "iii", uid, user_id, seq)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, f.id)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_PUT, "iiti", state, uid, sid, seq)))
		return rc;
	if ((rc = note(s, EAS_MSTORE_EVENT_FOLDER, user_id, f.id, NULL)))
		return rc;
	memcpy(out, sid, sizeof sid);
	return 0;
}

static int m_item_add(char *out, eas_mstore *m, int64_t user_id, const char *folder_id,
		      const eas_mstore_item_data *d, const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !folder_id || !valid_item_data(d, EAS_MSTORE_SET_ALL) ||
	    !eas_mstore_valid_text(d->class_name, EAS_MSTORE_CLASS_MAX) || strchr(d->class_name, ','))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, item_add_tx(out, s, user_id, folder_id, d, origin));
}

static int item_change_tx(sq *s, int64_t user_id, const char *server_id, const eas_mstore_item_data *d,
			  unsigned fields, const char *origin)
{
	irow r;
	int rc = item_row(&r, s, user_id, server_id);
	if (rc)
		return rc;
	const eas_mstore_summary *sm = &d->summary;
	if ((fields & EAS_MSTORE_SET_APPDATA) &&
	    (rc = run(s, ST_ITEM_SET_APPDATA, "iib", r.uid, user_id, (const void *)d->application_data,
		      d->application_data_len)))
		return rc;
	if ((fields & EAS_MSTORE_SET_SUMMARY) &&
	    (rc = run(s, ST_ITEM_SET_SUMMARY, "iittii", r.uid, user_id, sm->subject, sm->from, sm->date,
		      I64(sm->size))))
		return rc;
	if ((fields & EAS_MSTORE_SET_READ) &&
	    (rc = run(s, ST_ITEM_SET_READ, "iii", r.uid, user_id, I64(sm->read ? 1 : 0))))
		return rc;
	if ((fields & EAS_MSTORE_SET_FLAG) &&
	    (rc = run(s, ST_ITEM_SET_FLAG, "iii", r.uid, user_id, I64(sm->flag_status))))
		return rc;
	if ((fields & EAS_MSTORE_SET_BODY) &&
	    (rc = run(s, ST_ITEM_SET_BODY, "iiibi", r.uid, user_id, I64(d->body_type), (const void *)d->body,
		      d->body_len, I64(d->body_len))))
		return rc;
	if (fields & EAS_MSTORE_SET_ATTACHMENTS) {
		if ((rc = run(s, ST_ATT_DELETE_ITEM, "ii", r.uid, user_id)))
			return rc;
		if ((rc = add_attachments(s, user_id, r.uid, &r.next_att, d)))
			return rc;
	}
	int64_t seq, state;
	if ((rc = log_change(&seq, s, user_id, r.folder, r.uid, r.server_id, EAS_MSTORE_CHANGE_CHANGE)))
		return rc;
	if ((rc = run(s, ST_ITEM_MODSEQ, "iii", r.uid, user_id, seq)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, r.folder)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_TOUCH, "iii", state, r.uid, seq)))
		return rc;
	return note(s, EAS_MSTORE_EVENT_FOLDER, user_id, r.folder, NULL);
}

static int m_item_change(eas_mstore *m, int64_t user_id, const char *server_id,
			 const eas_mstore_item_data *d, unsigned fields, const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!server_id || (fields & ~EAS_MSTORE_SET_ALL) || !valid_item_data(d, fields))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, item_change_tx(s, user_id, server_id, d, fields, origin));
}

static int item_delete_tx(sq *s, int64_t user_id, const char *server_id, const char *origin)
{
	irow r;
	int rc = item_row(&r, s, user_id, server_id);
	if (rc)
		return rc;
	int64_t seq, state;
	if ((rc = log_change(&seq, s, user_id, r.folder, r.uid, r.server_id, EAS_MSTORE_CHANGE_DELETE)))
		return rc;
	if ((rc = run(s, ST_ITEM_DELETE, "ii", r.uid, user_id)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, r.folder)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_DEL, "ii", state, r.uid)))
		return rc;
	return note(s, EAS_MSTORE_EVENT_FOLDER, user_id, r.folder, NULL);
}

static int m_item_delete(eas_mstore *m, int64_t user_id, const char *server_id, const char *origin)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!server_id)
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, item_delete_tx(s, user_id, server_id, origin));
}

static int item_move_tx(eas_mstore_result *result, char *out, sq *s, int64_t user_id,
			const char *server_id, const char *src, const char *dst, const char *origin,
			unsigned flags)
{
	irow r;
	int rc = item_row(&r, s, user_id, server_id);
	if (rc == EAS_E_NOTFOUND || (!rc && src && parse_folder(src) != r.folder)) {
		*result = EAS_MSTORE_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	frow f;
	rc = folder_row(&f, NULL, s, user_id, dst);
	if (rc == EAS_E_NOTFOUND) {
		*result = EAS_MSTORE_DEST_NOT_FOUND;
		return 0;
	}
	if (rc)
		return rc;
	if (f.id == r.folder) {
		*result = EAS_MSTORE_SAME_FOLDER;
		return 0;
	}
	char sid[EAS_MSTORE_ID_SIZE];
	snprintf(sid, sizeof sid, "%lld:%lld", (long long)f.id, (long long)f.next_item);
	if ((rc = run(s, ST_FOLDER_NEXT_ITEM, "iii", f.id, user_id, f.next_item + 1)))
		return rc;
	if ((rc = run(s, ST_ITEM_MOVE, "iiit", r.uid, user_id, f.id, sid)))
		return rc;
	int64_t seq, state;
	if ((rc = log_change(&seq, s, user_id, r.folder, r.uid, r.server_id, EAS_MSTORE_CHANGE_DELETE)))
		return rc;
	if ((rc = log_change(&seq, s, user_id, f.id, r.uid, sid, EAS_MSTORE_CHANGE_ADD)))
		return rc;
	if ((rc = run(s, ST_ITEM_MODSEQ, "iii", r.uid, user_id, seq)))
		return rc;
	if ((rc = find_state(&state, s, user_id, origin, r.folder)))
		return rc;
	if (state && (rc = run(s, ST_SYNCED_DEL, "ii", state, r.uid)))
		return rc;
	if (flags & EAS_MSTORE_MOVE_ORIGIN_HAS_DEST) {
		if ((rc = find_state(&state, s, user_id, origin, f.id)))
			return rc;
		if (state && (rc = run(s, ST_SYNCED_PUT, "iiti", state, r.uid, sid, seq)))
			return rc;
	}
	if ((rc = note(s, EAS_MSTORE_EVENT_FOLDER, user_id, r.folder, NULL)) ||
	    (rc = note(s, EAS_MSTORE_EVENT_FOLDER, user_id, f.id, NULL)))
		return rc;
	memcpy(out, sid, sizeof sid);
	*result = EAS_MSTORE_OK;
	return 0;
}

static int m_item_move(eas_mstore_result *result, char *out, eas_mstore *m, int64_t user_id,
		       const char *server_id, const char *src, const char *dst, const char *origin,
		       unsigned flags)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!result || !out || !server_id || !dst || (flags & ~EAS_MSTORE_MOVE_ORIGIN_HAS_DEST))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	return tx_end(s, item_move_tx(result, out, s, user_id, server_id, src, dst, origin, flags));
}

/* Fills an item from ITEM_COLS (pointers into the statement); folder_buf holds folder_id. */
static void fill_item(eas_mstore_item *it, char *folder_buf, sqlite3_stmt *st)
{
	memset(it, 0, sizeof *it);
	it->server_id = col_text(st, 1);
	fmt_id(folder_buf, sqlite3_column_int64(st, 2));
	it->folder_id = folder_buf;
	it->class_name = col_text(st, 3);
	it->application_data = sqlite3_column_blob(st, 4);
	it->application_data_len = (size_t)sqlite3_column_bytes(st, 4);
	if (!it->application_data_len)
		it->application_data = NULL;
	it->summary.subject = col_text(st, 5);
	it->summary.from = col_text(st, 6);
	it->summary.date = sqlite3_column_int64(st, 7);
	it->summary.read = sqlite3_column_int(st, 8);
	it->summary.flag_status = (uint32_t)sqlite3_column_int64(st, 9);
	it->summary.size = (uint64_t)sqlite3_column_int64(st, 10);
	it->modseq = sqlite3_column_int64(st, 11);
	it->body_type = (uint32_t)sqlite3_column_int64(st, 12);
	it->body_size = (uint64_t)sqlite3_column_int64(st, 13);
	it->attachment_count = (size_t)sqlite3_column_int64(st, 14);
}

static void fill_attachment(eas_mstore_attachment *a, sqlite3_stmt *st)
{
	a->file_reference = col_text(st, 0);
	a->name = col_text(st, 1);
	a->content_type = col_text(st, 2);
	a->content_id = col_text(st, 3);
	a->content_location = col_text(st, 4);
	a->method = (uint32_t)sqlite3_column_int64(st, 5);
	a->is_inline = sqlite3_column_int(st, 6);
	a->size = (uint64_t)sqlite3_column_int64(st, 7);
}

static void pack_attachment(pack *p, eas_mstore_attachment *dst, const eas_mstore_attachment *a)
{
	eas_mstore_attachment c = *a;
	c.file_reference = pack_str(p, a->file_reference);
	c.name = pack_str(p, a->name);
	c.content_type = pack_str(p, a->content_type);
	c.content_id = pack_str(p, a->content_id);
	c.content_location = pack_str(p, a->content_location);
	if (dst)
		*dst = c;
}

static int blob_range(size_t *out, sq *s, const char *table, const char *column, int64_t rowid,
		      uint64_t size, uint64_t offset, uint8_t *buf, size_t len);

/*
 * One packing pass over the item row (st) and, with GET_ATTACHMENTS, its
 * attachment list.  The measuring pass sets *att_count; the copying pass
 * takes that many.  Both run in one read transaction, so they agree.
 */
static int pack_item(pack *p, eas_mstore_item **out, sq *s, sqlite3_stmt *st, int64_t user_id,
		     unsigned what, size_t *att_count)
{
	char folder[EAS_MSTORE_ID_SIZE];
	eas_mstore_item it;
	fill_item(&it, folder, st);
	int64_t uid = sqlite3_column_int64(st, 0);
	eas_mstore_item *c = pack_put(p, NULL, sizeof it, 0);
	const char *sid = pack_str(p, it.server_id), *fid = pack_str(p, it.folder_id);
	const char *cls = pack_str(p, it.class_name);
	const char *subj = pack_str(p, it.summary.subject), *from = pack_str(p, it.summary.from);
	const uint8_t *ad = it.application_data ?
		pack_put(p, it.application_data, it.application_data_len, 0) : NULL;
	const uint8_t *body = NULL;
	if ((what & EAS_MSTORE_GET_BODY) && it.body_size) {
		if (it.body_size > INT_MAX) {
			set_err(s, "body too large to load; use item_body_read", NULL);
			return EAS_E_LIMIT;
		}
		uint8_t *dst = pack_put(p, NULL, (size_t)it.body_size, 0);
		if (dst) {
			size_t got;
			int rc = blob_range(&got, s, "items", "body", uid, it.body_size, 0, dst,
					    (size_t)it.body_size);
			if (rc)
				return rc;
			body = dst;
		}
	}
	eas_mstore_attachment *atts = NULL;
	size_t n = 0;
	if (what & EAS_MSTORE_GET_ATTACHMENTS) {
		if (p->base)
			atts = pack_put(p, NULL, *att_count * sizeof *atts, 0);
		sqlite3_stmt *as;
		int rc = prep(&as, s, ST_ATT_LIST, "ii", uid, user_id);
		if (rc)
			return rc;
		while ((rc = step(s, as)) == 1) {
			eas_mstore_attachment a;
			fill_attachment(&a, as);
			if (!p->base) {
				pack_put(p, NULL, sizeof a, 0);
				pack_attachment(p, NULL, &a);
				n++;
			} else if (n < *att_count) {
				pack_attachment(p, atts ? &atts[n] : NULL, &a);
				n++;
			}
		}
		if (rc < 0)
			return rc;
		if (!p->base)
			*att_count = n;
	}
	if (c) {
		*c = it;
		c->server_id = sid;
		c->folder_id = fid;
		c->class_name = cls;
		c->summary.subject = subj;
		c->summary.from = from;
		c->application_data = ad;
		c->body = body;
		if (what & EAS_MSTORE_GET_ATTACHMENTS) {
			c->attachments = n ? atts : NULL;
			c->attachment_count = n;
		}
		*out = c;
	}
	return 0;
}

static int item_get_read(eas_mstore_item **out, sq *s, int64_t user_id, const char *server_id, unsigned what)
{
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ITEM_GET, "it", user_id, server_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	pack p = { NULL, 0, 0 };
	size_t atts = 0;
	rc = pack_item(&p, out, s, st, user_id, what, &atts);
	if (!rc)
		rc = pack_alloc(&p, s);
	if (!rc)
		rc = pack_item(&p, out, s, st, user_id, what, &atts);
	done(st);
	if (!rc && p.off > p.cap) {
		set_err(s, "item record overflow", NULL);
		rc = EAS_E_IO;
	}
	if (rc) {
		eas__free(&s->mem, p.base);
		*out = NULL;
	}
	return rc;
}

static int m_item_get(eas_mstore_item **out, eas_mstore *m, int64_t user_id, const char *server_id, unsigned what)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !server_id || (what & ~(EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS)))
		return EAS_E_INVALID;
	*out = NULL;
	if (!*server_id || strlen(server_id) > EAS_MSTORE_ID_MAX)
		return EAS_E_NOTFOUND;
	/* one read transaction: the row, its body and its attachments from one snapshot */
	int rc = exec_sql(s, "SAVEPOINT rd");
	if (rc)
		return rc;
	rc = item_get_read(out, s, user_id, server_id, what);
	exec_sql(s, "RELEASE rd");
	return rc;
}

static int m_item_list(uint64_t *out, eas_mstore *m, int64_t user_id, const char *folder_id,
		       uint64_t offset, uint64_t limit, eas_mstore_item_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!folder_id || offset > INT64_MAX || limit > INT64_MAX)
		return EAS_E_INVALID;
	frow f;
	int rc = folder_row(&f, NULL, s, user_id, folder_id);
	if (rc)
		return rc;
	int64_t count;
	if ((rc = one_i64(&count, s, ST_ITEM_COUNT, "ii", f.id, user_id)))
		return rc;
	if (out)
		*out = (uint64_t)count;
	if (!fn)
		return 0;
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_ITEM_LIST, "iiii", f.id, user_id, limit ? I64(limit) : I64(-1), I64(offset))))
		return rc;
	while ((rc = step(s, st)) == 1) {
		char folder[EAS_MSTORE_ID_SIZE];
		eas_mstore_item it;
		fill_item(&it, folder, st);
		if (fn(&it, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

/* Reads a blob range through the incremental blob API. */
static int blob_range(size_t *out, sq *s, const char *table, const char *column, int64_t rowid,
		      uint64_t size, uint64_t offset, uint8_t *buf, size_t len)
{
	*out = 0;
	if (offset >= size || !len)
		return 0;
	uint64_t n = size - offset;
	if (n > len)
		n = len;
	if (n > INT_MAX)
		n = INT_MAX;
	sqlite3_blob *b = NULL;
	int rc = sqlite3_blob_open(s->db, "main", table, column, rowid, 0, &b);
	if (rc == SQLITE_OK) {
		if ((uint64_t)sqlite3_blob_bytes(b) < offset + n)
			rc = SQLITE_CORRUPT;
		else
			rc = sqlite3_blob_read(b, buf, (int)n, (int)offset);
	}
	sqlite3_blob_close(b);
	if (rc != SQLITE_OK)
		return fail(s, rc, "blob read");
	*out = (size_t)n;
	return 0;
}

static int m_item_body_read(size_t *out, eas_mstore *m, int64_t user_id, const char *server_id,
			    uint64_t offset, uint8_t *buf, size_t len)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || (!buf && len) || !server_id || offset > INT_MAX)
		return EAS_E_INVALID;
	*out = 0;
	if (!*server_id || strlen(server_id) > EAS_MSTORE_ID_MAX)
		return EAS_E_NOTFOUND;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ITEM_BODY_SIZE, "it", user_id, server_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	int64_t uid = sqlite3_column_int64(st, 0), size = sqlite3_column_int64(st, 1);
	done(st);
	return blob_range(out, s, "items", "body", uid, (uint64_t)size, offset, buf, len);
}

static int m_attachment_get(eas_mstore_attachment **out, eas_mstore *m, int64_t user_id, const char *ref)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !ref)
		return EAS_E_INVALID;
	*out = NULL;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ATT_GET, "it", user_id, ref);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	eas_mstore_attachment a;
	fill_attachment(&a, st);
	pack p = { NULL, 0, 0 };
	pack_put(&p, NULL, sizeof a, 0);
	pack_attachment(&p, NULL, &a);
	if ((rc = pack_alloc(&p, s))) {
		done(st);
		return rc;
	}
	eas_mstore_attachment *c = pack_put(&p, NULL, sizeof a, 0);
	pack_attachment(&p, c, &a);
	done(st);
	*out = c;
	return 0;
}

static int m_attachment_read(size_t *out, eas_mstore *m, int64_t user_id, const char *ref,
			     uint64_t offset, uint8_t *buf, size_t len)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || (!buf && len) || !ref || offset > INT_MAX)
		return EAS_E_INVALID;
	*out = 0;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ATT_GET, "it", user_id, ref);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	int64_t size = sqlite3_column_int64(st, 7), id = sqlite3_column_int64(st, 8);
	done(st);
	return blob_range(out, s, "attachments", "data", id, (uint64_t)size, offset, buf, len);
}

/* ---- change log ---------------------------------------------------------------------- */

static int m_log_since(int64_t *out, eas_mstore *m, int64_t user_id, const char *folder_id,
		       int64_t since, eas_mstore_log_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	int64_t folder = 0;
	if (folder_id) {
		folder = parse_folder(folder_id);
		if (folder <= 0)
			return EAS_E_NOTFOUND;
	}
	if (out)
		*out = since;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_LOG_SINCE, "iii", user_id, since, folder);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		char fid[EAS_MSTORE_ID_SIZE];
		fmt_id(fid, sqlite3_column_int64(st, 4));
		eas_mstore_log_entry e = { sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
					   (eas_mstore_change_kind)sqlite3_column_int(st, 2),
					   sqlite3_column_int(st, 3), fid, col_text(st, 5) };
		if (out)
			*out = e.seq;
		if (fn && fn(&e, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

/* ---- sync state ---------------------------------------------------------------------- */

static int valid_key_text(const char *k)
{
	return k && strlen(k) <= EAS_MSTORE_ID_MAX;
}

/* Resolves (device, collection) of a user: *folder 0 = hierarchy. */
static int resolve_collection(int64_t *device, int64_t *folder, sq *s, int64_t user_id,
			      const char *device_id, const char *collection_id)
{
	int rc = device_row(device, s, user_id, device_id);
	if (rc)
		return rc;
	*folder = 0;
	if (collection_id) {
		frow f;
		if ((rc = folder_row(&f, NULL, s, user_id, collection_id)))
			return rc;
		*folder = f.id;
	}
	return 0;
}

static int m_sync_check(eas_mstore_sync *out, eas_mstore *m, int64_t user_id, const char *device_id,
			const char *collection_id, const char *client_key, const char *tag)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !valid_key_text(client_key) || (tag && !valid_key_text(tag)))
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	int64_t device, folder;
	int rc = resolve_collection(&device, &folder, s, user_id, device_id, collection_id);
	if (rc)
		return rc;
	out->user_id = user_id;
	out->device_row = device;
	out->folder_row = folder;
	snprintf(out->key, sizeof out->key, "%s", client_key);
	snprintf(out->tag, sizeof out->tag, "%s", tag ? tag : "");
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_STATE_GET, "iii", user_id, device, folder)))
		return rc;
	if ((rc = step(s, st)) < 0)
		return rc;
	if (rc == 1) {
		out->state_id = sqlite3_column_int64(st, 0);
		snprintf(out->generation, sizeof out->generation, "%s", col_text(st, 1));
		out->counter = sqlite3_column_int64(st, 2);
		const char *cur = col_text(st, 3), *prev = col_text(st, 4), *ptag = col_text(st, 5);
		if (strcmp(client_key, "0") == 0)
			out->match = EAS_MSTORE_KEY_INITIAL;
		else if (cur && strcmp(client_key, cur) == 0)
			out->match = EAS_MSTORE_KEY_CURRENT;
		else if (prev && strcmp(client_key, prev) == 0 && strcmp(ptag ? ptag : "", out->tag) == 0)
			out->match = EAS_MSTORE_KEY_PREVIOUS;
		else
			out->match = EAS_MSTORE_KEY_STALE;
		done(st);
	} else {
		out->match = strcmp(client_key, "0") == 0 ? EAS_MSTORE_KEY_INITIAL : EAS_MSTORE_KEY_STALE;
	}
	if (out->match == EAS_MSTORE_KEY_INITIAL) {
		uint8_t r[16];
		if ((rc = random_bytes(s, r, sizeof r)))
			return rc;
		eas_mstore_key_generation(out->generation, r);
		out->counter = 0;
	}
	if (out->match == EAS_MSTORE_KEY_INITIAL || out->match == EAS_MSTORE_KEY_CURRENT)
		eas_mstore_key_format(out->next_key, out->generation, out->counter + 1);
	return 0;
}

static int m_sync_replay(uint8_t **out, size_t *out_len, eas_mstore *m, const eas_mstore_sync *sync)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !out_len || !sync)
		return EAS_E_INVALID;
	*out = NULL;
	*out_len = 0;
	if (sync->match != EAS_MSTORE_KEY_PREVIOUS || !sync->state_id)
		return EAS_E_STATE;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_STATE_REPLAY, "ii", sync->state_id, sync->user_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	rc = copy_blob(out, out_len, s, st, 0);
	done(st);
	return rc;
}

/* For INITIAL: creates or resets the state row (new generation, empty synced set) once. */
static int sync_prepare(sq *s, eas_mstore_sync *y)
{
	if (y->match != EAS_MSTORE_KEY_INITIAL || y->prepared)
		return 0;
	int rc;
	if (y->state_id) {
		if ((rc = run(s, ST_SYNCED_CLEAR, "i", y->state_id)))
			return rc;
		rc = run(s, ST_STATE_RESET, "iititi", y->state_id, y->user_id, y->generation, I64(1),
			 y->next_key, now_s(s));
	} else {
		sqlite3_stmt *st;
		if ((rc = prep(&st, s, ST_STATE_INSERT, "iii-titi", y->user_id, y->device_row, y->folder_row,
			       y->generation, I64(1), y->next_key, now_s(s))))
			return rc;
		if (y->folder_row)
			sqlite3_bind_int64(st, 4, y->folder_row);
		if ((rc = step(s, st)) < 0)
			return rc;
		y->state_id = sqlite3_last_insert_rowid(s->db);
	}
	if (!rc)
		y->prepared = 1;
	return rc;
}

typedef struct pending {
	int64_t obj;
	char server_id[EAS_MSTORE_ID_SIZE];
} pending;

/*
 * Collects up to max rows (obj_id, server_id) of a delta query; *more = a row
 * beyond max exists.  p7, p8: the range parameters of D_SOFT_RANGE / D_ADDS.
 */
static int collect(pending **list, size_t *count, int *more, sq *s, int id, const eas_mstore_sync *y,
		   int64_t since, const char *classes, size_t max, int64_t p7, int64_t p8)
{
	*count = 0;
	*more = 0;
	sqlite3_stmt *st;
	int rc = prep(&st, s, id, "iiiitiii", y->state_id, y->folder_row, y->user_id, since, classes,
		      I64(max + 1), p7, p8);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		if (*count == max) {
			*more = 1;
			done(st);
			rc = 0;
			break;
		}
		(*list)[*count].obj = sqlite3_column_int64(st, 0);
		snprintf((*list)[*count].server_id, EAS_MSTORE_ID_SIZE, "%s", col_text(st, 1));
		(*count)++;
	}
	return rc;
}

/* Loads one item by uid and hands it to fn as `kind`; *modseq, *date: the item's. */
static int emit_item(int64_t *modseq, int64_t *date, sq *s, const eas_mstore_sync *y, int64_t uid,
		     eas_mstore_change_kind kind, eas_mstore_change_fn fn, void *ud)
{
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_ITEM_SYNC_LOAD, "ii", uid, y->user_id);
	if (rc)
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	char folder[EAS_MSTORE_ID_SIZE];
	eas_mstore_item it;
	fill_item(&it, folder, st);
	*modseq = it.modseq;
	*date = it.summary.date;
	eas_mstore_change c = { kind, it.server_id, &it, NULL };
	rc = fn(&c, ud) ? EAS_E_CALLBACK : 0;
	done(st);
	return rc;
}

static char *classes_param(char *buf, size_t size, const char *classes)
{
	if (!classes || !*classes)
		return NULL;
	snprintf(buf, size, ",%s,", classes);
	return buf;
}

/*
 * Where the previous sync_items of a folder state left off (schema v3).  Both
 * shortcuts hold only while the folder's change log has not moved (every
 * change to an item, and every synced-set edit outside sync_items, logs a
 * change in its folder) and the window did not widen (same classes, a
 * filter start not earlier: a narrower window only drops items, which the
 * SoftDelete range below catches).
 */
typedef struct delta {
	int64_t folder_seq;  /* the folder's last change-log seq now */
	int64_t prev_since;  /* the filter start of the previous call */
	int clean;           /* the synced set needs no Delete / Change; SoftDelete only in [prev_since, since) */
	int cursor;          /* add_date / add_uid are a valid Add cursor */
	int64_t add_date, add_uid;
} delta;

static int delta_load(delta *d, sq *s, const eas_mstore_sync *y, int64_t since, const char *cls)
{
	memset(d, 0, sizeof *d);
	int rc = one_i64(&d->folder_seq, s, ST_LOG_FOLDER_MAX, "ii", y->user_id, y->folder_row);
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_STATE_DELTA_GET, "ii", y->state_id, y->user_id)))
		return rc;
	if ((rc = step(s, st)) <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	d->prev_since = sqlite3_column_int64(st, 0);
	const char *prev_cls = col_text(st, 1);
	int same = (prev_cls == NULL) == (cls == NULL) && (!cls || strcmp(prev_cls, cls) == 0) &&
		   since >= d->prev_since;
	d->clean = same && sqlite3_column_int64(st, 2) == d->folder_seq;
	d->cursor = same && sqlite3_column_int64(st, 3) == d->folder_seq;
	d->add_date = sqlite3_column_int64(st, 4);
	d->add_uid = sqlite3_column_int64(st, 5);
	done(st);
	return 0;
}

static int sync_items(int *more_out, sq *s, eas_mstore_sync *y, const eas_mstore_window *w,
		      eas_mstore_change_fn fn, void *ud)
{
	size_t budget = w && w->max_changes && w->max_changes < MAX_WINDOW ? w->max_changes : MAX_WINDOW;
	int64_t since = w ? w->filter_since : 0;
	char cls_buf[EAS_MSTORE_NAME_SIZE + 2];
	if (w && w->classes && strlen(w->classes) > EAS_MSTORE_NAME_MAX)
		return EAS_E_INVALID;
	const char *cls = classes_param(cls_buf, sizeof cls_buf, w ? w->classes : NULL);
	delta d;
	int rc = delta_load(&d, s, y, since, cls);
	if (rc)
		return rc;
	pending *list = eas__malloc(&s->mem, (MAX_WINDOW + 1) * sizeof *list);
	if (!list) {
		set_err(s, "out of memory", NULL);
		return EAS_E_NOMEM;
	}
	static const int phases[] = { ST_D_DELETES, ST_D_SOFT, ST_D_CHANGES, ST_D_ADDS };
	static const eas_mstore_change_kind kinds[] = { EAS_MSTORE_CHANGE_DELETE, EAS_MSTORE_CHANGE_SOFT_DELETE,
							EAS_MSTORE_CHANGE_CHANGE, EAS_MSTORE_CHANGE_ADD };
	int more = 0, settled = 0;
	for (int ph = 0; ph < 4 && !rc && !more; ph++) {
		int id = phases[ph];
		int64_t p7 = 0, p8 = 0;
		if (ph == 1 && d.clean) {
			/* only what the moving filter start left behind since the last call */
			id = ST_D_SOFT_RANGE;
			p7 = d.prev_since;
		} else if (ph == 3) {
			p7 = d.cursor ? d.add_date : INT64_MAX;
			p8 = d.cursor ? d.add_uid : INT64_MAX;
		}
		size_t count = 0;
		if (!(d.clean && (ph == 0 || ph == 2)) && !(id == ST_D_SOFT_RANGE && since <= p7))
			rc = collect(&list, &count, &more, s, id, y, since, cls, budget, p7, p8);
		for (size_t i = 0; i < count && !rc; i++) {
			pending *p = &list[i];
			if (kinds[ph] == EAS_MSTORE_CHANGE_DELETE || kinds[ph] == EAS_MSTORE_CHANGE_SOFT_DELETE) {
				eas_mstore_change c = { kinds[ph], p->server_id, NULL, NULL };
				rc = fn(&c, ud) ? EAS_E_CALLBACK : 0;
				if (!rc)
					rc = run(s, ST_SYNCED_DEL, "ii", y->state_id, p->obj);
			} else {
				int64_t modseq, date;
				rc = emit_item(&modseq, &date, s, y, p->obj, kinds[ph], fn, ud);
				if (!rc)
					rc = run(s, ST_SYNCED_PUT, "iiti", y->state_id, p->obj, p->server_id, modseq);
				if (!rc && ph == 3) {
					/* newest first: the last one sent is where the next window goes on */
					d.cursor = 1;
					d.add_date = date;
					d.add_uid = p->obj;
				}
			}
		}
		if (ph == 2 && !more)
			settled = 1;
		if (ph == 3 && !rc && !more && count == 0) {
			/* every in-window item is in the synced set: nothing after the end */
			d.cursor = 1;
			d.add_date = INT64_MIN;
			d.add_uid = INT64_MIN;
		}
		budget -= count;
	}
	eas__free(&s->mem, list);
	if (!rc)
		rc = run(s, ST_STATE_DELTA_SET, "iiitiiii", y->state_id, y->user_id, since, cls,
			 settled ? d.folder_seq : I64(-1), d.cursor ? d.folder_seq : I64(-1), d.add_date, d.add_uid);
	if (!rc && more_out)
		*more_out = more;
	return rc;
}

/* Hierarchy: collect folders of one query (they are few), then emit and mark. */
static int sync_hierarchy(sq *s, eas_mstore_sync *y, eas_mstore_change_fn fn, void *ud)
{
	/* deletes */
	size_t cap = 0, count = 0;
	pending *dl = NULL;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_H_DELETES, "ii", y->state_id, y->user_id);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		if (count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			pending *n = eas__realloc(&s->mem, dl, ncap * sizeof *n);
			if (!n) {
				done(st);
				rc = EAS_E_NOMEM;
				set_err(s, "out of memory", NULL);
				break;
			}
			dl = n;
			cap = ncap;
		}
		dl[count].obj = sqlite3_column_int64(st, 0);
		snprintf(dl[count].server_id, EAS_MSTORE_ID_SIZE, "%s", col_text(st, 1));
		count++;
	}
	for (size_t i = 0; i < count && !rc; i++) {
		eas_mstore_change c = { EAS_MSTORE_CHANGE_DELETE, dl[i].server_id, NULL, NULL };
		rc = fn(&c, ud) ? EAS_E_CALLBACK : 0;
		if (!rc)
			rc = run(s, ST_SYNCED_DEL, "ii", y->state_id, dl[i].obj);
	}
	eas__free(&s->mem, dl);
	if (rc)
		return rc;
	/* adds (parents first), then updates */
	static const int phases[] = { ST_H_ADDS, ST_H_CHANGES };
	for (int ph = 0; ph < 2 && !rc; ph++) {
		eas_mstore_folder *fl = NULL;
		cap = count = 0;
		if ((rc = prep(&st, s, phases[ph], "ii", y->state_id, y->user_id)))
			return rc;
		while ((rc = step(s, st)) == 1) {
			if (count == cap) {
				size_t ncap = cap ? cap * 2 : 16;
				eas_mstore_folder *n = eas__realloc(&s->mem, fl, ncap * sizeof *n);
				if (!n) {
					done(st);
					rc = EAS_E_NOMEM;
					set_err(s, "out of memory", NULL);
					break;
				}
				fl = n;
				cap = ncap;
			}
			fill_folder(&fl[count++], NULL, st, 0);
		}
		for (size_t i = 0; i < count && !rc; i++) {
			eas_mstore_change c = { ph == 0 ? EAS_MSTORE_CHANGE_ADD : EAS_MSTORE_CHANGE_CHANGE,
						fl[i].server_id, NULL, &fl[i] };
			rc = fn(&c, ud) ? EAS_E_CALLBACK : 0;
			if (!rc)
				rc = run(s, ST_SYNCED_PUT, "iiti", y->state_id, parse_folder(fl[i].server_id),
					 fl[i].server_id, fl[i].modseq);
		}
		eas__free(&s->mem, fl);
	}
	return rc;
}

static int sync_usable(sq *s, const eas_mstore_sync *y)
{
	if (!y || y->prepared > 1 ||
	    (y->match != EAS_MSTORE_KEY_INITIAL && y->match != EAS_MSTORE_KEY_CURRENT)) {
		set_err(s, "sync state not usable (match, or already committed)", NULL);
		return 0;
	}
	if (s->depth == 0) {
		set_err(s, "needs a transaction", NULL);
		return 0;
	}
	return 1;
}

static int m_sync_changes(int *out, eas_mstore *m, eas_mstore_sync *y, const eas_mstore_window *w,
			  eas_mstore_change_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (out)
		*out = 0;
	if (!fn || !y)
		return EAS_E_INVALID;
	if (!sync_usable(s, y))
		return EAS_E_STATE;
	if (y->folder_row && y->match == EAS_MSTORE_KEY_INITIAL) {
		set_err(s, "a SyncKey 0 response carries no items", NULL);
		return EAS_E_STATE;
	}
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = sync_prepare(s, y);
	if (!rc)
		rc = y->folder_row ? sync_items(out, s, y, w, fn, ud) : sync_hierarchy(s, y, fn, ud);
	return tx_end(s, rc);
}

static int count_query(uint64_t *total, sq *s, int id, int64_t state, int64_t folder, int64_t user,
		       int64_t since, const char *cls)
{
	int64_t n;
	int rc = one_i64(&n, s, id, "iiiit", state, folder, user, since, cls);
	if (!rc)
		*total += (uint64_t)n;
	return rc;
}

static int m_sync_pending(uint64_t *out, eas_mstore *m, int64_t user_id, const char *device_id,
			  const char *collection_id, const eas_mstore_window *w)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out)
		return EAS_E_INVALID;
	*out = 0;
	int64_t device, folder;
	int rc = resolve_collection(&device, &folder, s, user_id, device_id, collection_id);
	if (rc)
		return rc;
	rc = exec_sql(s, "SAVEPOINT rd");
	if (rc)
		return rc;
	sqlite3_stmt *st;
	if ((rc = prep(&st, s, ST_STATE_GET, "iii", user_id, device, folder)))
		goto out;
	if ((rc = step(s, st)) <= 0) {
		rc = rc < 0 ? rc : EAS_E_NOTFOUND;
		goto out;
	}
	rc = 0;
	int64_t state = sqlite3_column_int64(st, 0), since;
	char cls_buf[EAS_MSTORE_NAME_SIZE + 2];
	const char *cls;
	if (w) {
		since = w->filter_since;
		if (w->classes && strlen(w->classes) > EAS_MSTORE_NAME_MAX) {
			done(st);
			rc = EAS_E_INVALID;
			goto out;
		}
		cls = classes_param(cls_buf, sizeof cls_buf, w->classes);
	} else {
		since = sqlite3_column_int64(st, 6);
		const char *stored = col_text(st, 7);
		snprintf(cls_buf, sizeof cls_buf, "%s", stored ? stored : "");
		cls = stored ? cls_buf : NULL;
	}
	done(st);
	uint64_t total = 0;
	if (folder) {
		static const int q[] = { ST_C_DELETES, ST_C_SOFT, ST_C_CHANGES, ST_C_ADDS };
		for (int i = 0; i < 4 && !rc; i++)
			rc = count_query(&total, s, q[i], state, folder, user_id, since, cls);
	} else {
		static const int q[] = { ST_HC_DELETES, ST_HC_CHANGES, ST_HC_ADDS };
		for (int i = 0; i < 3 && !rc; i++) {
			int64_t n;
			rc = one_i64(&n, s, q[i], "ii", state, user_id);
			if (!rc)
				total += (uint64_t)n;
		}
	}
	if (!rc)
		*out = total;
out:
	exec_sql(s, "RELEASE rd");
	return rc;
}

static int m_sync_seen(int64_t *out, eas_mstore *m, const eas_mstore_sync *y, const char *server_id)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out || !y || !server_id)
		return EAS_E_INVALID;
	if (!y->state_id || !y->folder_row)
		return EAS_E_NOTFOUND;
	return one_i64(out, s, ST_SYNCED_SEEN, "iit", y->state_id, y->user_id, server_id);
}

static int m_sync_commit(eas_mstore *m, eas_mstore_sync *y, const uint8_t *response, size_t len)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!y || (!response && len))
		return EAS_E_INVALID;
	if (!sync_usable(s, y))
		return EAS_E_STATE;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	if (y->match == EAS_MSTORE_KEY_INITIAL) {
		rc = sync_prepare(s, y);
	} else {
		rc = run(s, ST_STATE_ADVANCE, "iittbtii", y->state_id, y->user_id, y->key, y->tag,
			 (const void *)response, len, y->next_key, y->counter + 1, now_s(s));
		if (!rc && changes(s) == 0) {
			set_err(s, "the sync key moved on since sync_check", NULL);
			rc = EAS_E_STATE;
		}
	}
	rc = tx_end(s, rc);
	if (!rc)
		y->prepared = 2;
	return rc;
}

/* ---- faults (misbehaviour on demand) --------------------------------------------------- */

static void fill_fault(eas_mstore_fault *f, sqlite3_stmt *st)
{
	memset(f, 0, sizeof *f);
	f->id = sqlite3_column_int64(st, 0);
	const char *t = col_text(st, 1);
	snprintf(f->device_id, sizeof f->device_id, "%s", t ? t : "");
	t = col_text(st, 2);
	snprintf(f->command, sizeof f->command, "%s", t ? t : "");
	f->http_status = (uint32_t)sqlite3_column_int64(st, 3);
	f->retry_after = (uint32_t)sqlite3_column_int64(st, 4);
	t = col_text(st, 5);
	snprintf(f->location, sizeof f->location, "%s", t ? t : "");
	f->eas_status = (uint32_t)sqlite3_column_int64(st, 6);
	f->remaining = (uint32_t)sqlite3_column_int64(st, 7);
}

static int m_fault_add(eas_mstore *m, int64_t user_id, const eas_mstore_fault *f)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!f || f->remaining == 0 || (f->http_status && (f->http_status < 400 || f->http_status > 599)) ||
	    (!f->http_status && !f->eas_status) || (f->device_id[0] && !valid_device(f->device_id)) ||
	    (f->command[0] && !eas_mstore_valid_text(f->command, EAS_MSTORE_FAULT_COMMAND_MAX)) ||
	    (f->location[0] && !eas_mstore_valid_text(f->location, EAS_MSTORE_FAULT_LOCATION_MAX)) ||
	    !memchr(f->device_id, 0, sizeof f->device_id) || !memchr(f->command, 0, sizeof f->command) ||
	    !memchr(f->location, 0, sizeof f->location))
		return EAS_E_INVALID;
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = user_exists(s, user_id);
	if (!rc)
		rc = run(s, ST_FAULT_INSERT, "ittiitiii", user_id, f->device_id[0] ? f->device_id : NULL,
			 f->command[0] ? f->command : NULL, (int64_t)f->http_status, (int64_t)f->retry_after,
			 f->location[0] ? f->location : NULL, (int64_t)f->eas_status, (int64_t)f->remaining, now_s(s));
	return tx_end(s, rc);
}

static int m_fault_clear(eas_mstore *m, int64_t user_id, const char *device_id)
{
	sq *s = SQ(m);
	clear_err(s);
	int rc = tx_begin(s);
	if (rc)
		return rc;
	rc = run(s, ST_FAULT_CLEAR, "it", user_id, device_id);
	return tx_end(s, rc);
}

/* The first applicable fault, read only: 1 found, 0 none, < 0 error. */
static int fault_find(eas_mstore_fault *out, sq *s, int64_t user_id, const char *device_id, const char *command)
{
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FAULT_FIND, "itt", user_id, device_id ? device_id : "", command ? command : "");
	if (rc)
		return rc;
	rc = step(s, st);
	if (rc == 1) {
		fill_fault(out, st);
		done(st);
	}
	return rc;
}

static int m_fault_take(eas_mstore_fault *out, eas_mstore *m, int64_t user_id, const char *device_id,
			const char *command)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!out)
		return EAS_E_INVALID;
	/* the common case, nothing to inject, costs one indexed read and no write lock */
	int rc = fault_find(out, s, user_id, device_id, command);
	if (rc <= 0)
		return rc < 0 ? rc : EAS_E_NOTFOUND;
	rc = tx_begin(s);
	if (rc)
		return rc;
	/* look again under the write lock: another process may have used it up meanwhile */
	rc = fault_find(out, s, user_id, device_id, command);
	if (rc == 0)
		rc = EAS_E_NOTFOUND;
	else if (rc == 1)
		rc = run(s, ST_FAULT_USE, "ii", out->id, user_id);
	if (!rc)
		rc = run(s, ST_FAULT_DROP, "ii", out->id, user_id);
	return tx_end(s, rc);
}

static int m_fault_list(eas_mstore *m, int64_t user_id, eas_mstore_fault_fn fn, void *ud)
{
	sq *s = SQ(m);
	clear_err(s);
	if (!fn)
		return EAS_E_INVALID;
	sqlite3_stmt *st;
	int rc = prep(&st, s, ST_FAULT_LIST, "i", user_id);
	if (rc)
		return rc;
	while ((rc = step(s, st)) == 1) {
		eas_mstore_fault f;
		fill_fault(&f, st);
		if (fn(&f, ud)) {
			done(st);
			return EAS_E_CALLBACK;
		}
	}
	return rc;
}

/* ---- open ---------------------------------------------------------------------------- */

static int migrate(sq *s, const eas_mstore_sqlite_options *o)
{
	int rc = exec_sql(s, "BEGIN IMMEDIATE");
	if (rc)
		return rc;
	rc = exec_sql(s, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER NOT NULL)");
	int version = 0, have_row = 0;
	if (!rc) {
		sqlite3_stmt *st;
		int r = sqlite3_prepare_v2(s->db, "SELECT version FROM schema_version", -1, &st, NULL);
		if (r != SQLITE_OK) {
			rc = fail(s, r, "schema version");
		} else {
			if ((r = sqlite3_step(st)) == SQLITE_ROW) {
				version = sqlite3_column_int(st, 0);
				have_row = 1;
			} else if (r != SQLITE_DONE) {
				rc = fail(s, r, "schema version");
			}
			sqlite3_finalize(st);
		}
	}
	if (!rc && !have_row)
		rc = exec_sql(s, "INSERT INTO schema_version(version) VALUES(0)");
	if (!rc && (version < 0 || version > MIGRATION_COUNT)) {
		set_err(s, "database schema is newer than this code", NULL);
		rc = EAS_E_UNSUPPORTED;
	}
	for (int v = version; !rc && v < MIGRATION_COUNT; v++) {
		char sql[64];
		rc = exec_sql(s, migrations[v]);
		if (!rc) {
			snprintf(sql, sizeof sql, "UPDATE schema_version SET version = %d", v + 1);
			rc = exec_sql(s, sql);
		}
		if (!rc && o->on_migrate && o->on_migrate(v, v + 1, o->user_data)) {
			set_err(s, "migration refused by on_migrate", NULL);
			rc = EAS_E_CALLBACK;
		}
	}
	if (rc) {
		if (!sqlite3_get_autocommit(s->db))
			exec_sql(s, "ROLLBACK");
		return rc;
	}
	return exec_sql(s, "COMMIT");
}

int eas_mstore_sqlite_open(eas_mstore **out, const eas_mstore_sqlite_options *o)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!o || o->version != EAS_MSTORE_SQLITE_OPTIONS_VERSION || !o->path)
		return EAS_E_INVALID;
	uint32_t iterations = o->pbkdf2_iterations ? o->pbkdf2_iterations : EAS_MSTORE_PBKDF2_DEFAULT_ITERATIONS;
	if (iterations < EAS_MSTORE_PBKDF2_DEFAULT_ITERATIONS && !o->allow_weak_kdf)
		return EAS_E_INVALID;
	const eas_platform *pf = o->platform ? o->platform : eas_platform_posix();
	if (!pf->wall_clock_s || !pf->random_bytes)
		return EAS_E_INVALID;
	eas_mem mem;
	eas__mem_init(&mem, o->mem);
	sq *s = eas__calloc(&mem, 1, sizeof *s);
	if (!s)
		return EAS_E_NOMEM;
	s->mem = mem;
	s->platform = *pf;
	s->iterations = iterations;
	eas_mstore *b = &s->base;
	b->version = EAS_MSTORE_VERSION;
	b->destroy = m_destroy;
	b->error = m_error;
	b->release = m_release;
	b->set_notify = m_set_notify;
	b->begin = m_begin;
	b->commit = m_commit;
	b->rollback = m_rollback;
	b->user_add = m_user_add;
	b->user_delete = m_user_delete;
	b->user_lookup = m_user_lookup;
	b->user_list = m_user_list;
	b->user_set_password = m_user_set_password;
	b->user_verify_password = m_user_verify_password;
	b->token_issue = m_token_issue;
	b->token_verify = m_token_verify;
	b->token_revoke = m_token_revoke;
	b->token_revoke_all = m_token_revoke_all;
	b->device_touch = m_device_touch;
	b->device_get = m_device_get;
	b->device_list = m_device_list;
	b->device_remove = m_device_remove;
	b->device_set_policy = m_device_set_policy;
	b->device_wipe_request = m_device_wipe_request;
	b->device_wipe_ack = m_device_wipe_ack;
	b->device_wipe_clear = m_device_wipe_clear;
	b->device_cache_put = m_device_cache_put;
	b->device_cache_get = m_device_cache_get;
	b->folder_list = m_folder_list;
	b->folder_get = m_folder_get;
	b->folder_find_default = m_folder_find_default;
	b->folder_create = m_folder_create;
	b->folder_update = m_folder_update;
	b->folder_delete = m_folder_delete;
	b->folder_empty = m_folder_empty;
	b->item_add = m_item_add;
	b->item_change = m_item_change;
	b->item_delete = m_item_delete;
	b->item_move = m_item_move;
	b->item_get = m_item_get;
	b->item_list = m_item_list;
	b->item_body_read = m_item_body_read;
	b->attachment_get = m_attachment_get;
	b->attachment_read = m_attachment_read;
	b->log_since = m_log_since;
	b->sync_check = m_sync_check;
	b->sync_replay = m_sync_replay;
	b->sync_changes = m_sync_changes;
	b->sync_pending = m_sync_pending;
	b->sync_seen = m_sync_seen;
	b->sync_commit = m_sync_commit;
	b->fault_add = m_fault_add;
	b->fault_clear = m_fault_clear;
	b->fault_take = m_fault_take;
	b->fault_list = m_fault_list;

	int rc = random_bytes(s, s->dummy_salt, sizeof s->dummy_salt);
	if (rc)
		goto fail_out;
	int r = sqlite3_open_v2(o->path, &s->db,
				SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK) {
		rc = r == SQLITE_NOMEM ? EAS_E_NOMEM : EAS_E_IO;
		goto fail_out;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_timeout(s->db, o->busy_timeout_ms < 0 ? 0 : o->busy_timeout_ms ? o->busy_timeout_ms : 5000);
	if ((rc = exec_sql(s, "PRAGMA foreign_keys = ON")) ||
	    (rc = exec_sql(s, "PRAGMA journal_mode = WAL")) ||
	    (rc = exec_sql(s, "PRAGMA synchronous = FULL")) ||
	    /* statement journals of large updates (a Sync response kept for replay) stay off disk */
	    (rc = exec_sql(s, "PRAGMA temp_store = MEMORY")) ||
	    /* a Sync window reads a few hundred item pages: keep them in our cache (16 MiB) */
	    (rc = exec_sql(s, "PRAGMA cache_size = -16384")) ||
	    (rc = exec_sql(s, "PRAGMA mmap_size = 268435456")) ||
	    (rc = migrate(s, o)))
		goto fail_out;
	*out = b;
	return 0;
fail_out:
	m_destroy(b);
	return rc;
}
