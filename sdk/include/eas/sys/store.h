/*
 * libeas — the client's state store, for implementers (eas/sys/ style, like
 * eas_transport).  Everything the synchronizer must not lose lives here: the
 * account values (protocol version, policy key, FolderSync key, heartbeat per
 * network), the folder hierarchy with one SyncKey per folder, the items as the
 * server last sent them, the ClientId <-> ServerId mapping of client Adds, and
 * the queue of local changes not yet acknowledged by the server.
 *
 * The SQLite implementation is eas_store_sqlite_open() (eas/store_sqlite.h);
 * eas_store_memory_new() is a volatile one for tests and for apps that keep
 * their own copy.  A port brings its own by filling an eas_store as the FIRST
 * member of its struct and handing a pointer to that member to the engine.
 *
 * ---- Crash safety: the contract the synchronizer builds on ----------------
 *
 * The synchronizer applies one server response inside ONE transaction:
 *
 *     begin();  item_put / item_delete / folder_put / change_done ... ;
 *               folder_put(new SyncKey);  commit();
 *
 * commit() returns only once the transaction is durable; a crash at any
 * instant leaves the state before begin() or after commit(), never a mix.
 * A response is therefore applied exactly once: if the process dies before
 * commit, the old SyncKey is still stored, the request is repeated with it,
 * and the server answers it again (MS-ASCMD requires it for a repeated key).
 * item_put is an upsert keyed by (folder, ServerId), so even a replay of
 * items already stored leaves each item once.
 *
 * Local changes are queued with change_add() in their own transaction (the
 * app's write is durable when change_add returns), sent with the next Sync,
 * and removed with change_done() in the transaction that stores the server's
 * answer.  A crash after the server applied a change but before commit sends
 * the change again with the old SyncKey; the server replays its answer for
 * that key instead of applying it twice.
 *
 * Apps that keep their own database join the transaction through the
 * synchronizer's item callbacks (called between begin and commit), or rely on
 * the idempotence above: every callback is keyed by (folder, ServerId) and
 * may be replayed after a crash.
 *
 * ---- Conventions -----------------------------------------------------------
 *
 * Returns 0 or a negative EAS_E_*: EAS_E_INVALID (NULL or malformed argument,
 * a string longer than its EAS_STORE_*_MAX), EAS_E_NOTFOUND (no such value,
 * folder, item or change), EAS_E_STATE (commit/rollback without begin, a
 * mutation outside a transaction where one is required), EAS_E_NOMEM, EAS_E_IO
 * (the database failed; error() has a detail line without secrets),
 * EAS_E_CALLBACK (an enumeration callback returned non-zero).
 *
 * Every mutating call outside begin()/commit() is atomic on its own; a call
 * that fails inside a transaction changes nothing (the transaction's earlier
 * work stays, to commit or roll back).  Transactions do not nest (a second
 * begin() is EAS_E_STATE).  Records and strings handed to callbacks, and the
 * data a get fills, stay valid only during the callback or until the next
 * call on the store.  An enumeration callback may call the gets (value_get,
 * folder_get, item_get, item_count) but nothing else: mutations, listings,
 * begin, commit and rollback from inside one are EAS_E_STATE (collect, then
 * act after the listing).  Items
 * and changes belong to a folder that must exist (EAS_E_NOTFOUND otherwise).
 * Empty data (data_len 0) reads back as data NULL.  One handle is used by
 * one thread at a time.
 */
#ifndef EAS_SYS_STORE_H
#define EAS_SYS_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EAS_STORE_VERSION 1

#define EAS_STORE_ID_MAX 256    /* ServerIds, ClientIds, SyncKeys, folder ids */
#define EAS_STORE_NAME_MAX 1024 /* folder display names, value keys (bytes, UTF-8) */
#define EAS_STORE_CLASS_MAX 32  /* "Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS" */

/* One folder of the hierarchy (FolderSync), with its Sync state. */
typedef struct eas_store_folder {
	const char *server_id;
	const char *parent_id;   /* "0" for the root */
	const char *display_name;
	uint32_t type;           /* FolderHierarchy Type (1-19) */
	const char *sync_key;    /* "0" until the first Sync of this folder */
	const char *class_name;  /* the class its items have ("Email"...), "" when unknown */
	int sync_wanted;         /* the app wants this folder synchronized (default 1 for mail/pim types) */
	int more_available;      /* the last Sync said MoreAvailable: more to fetch */
} eas_store_folder;

/* One item as the server last sent it. */
typedef struct eas_store_item {
	const char *folder_id;
	const char *server_id;
	const char *class_name;
	/* Its ApplicationData as a standalone WBXML document (root AirSync:ApplicationData). */
	const uint8_t *data;
	size_t data_len;
	int read;                /* Email: the read flag as the app sees it (local changes applied) */
	int flag_status;         /* Email: 0 none, 1 complete, 2 active */
} eas_store_item;

/* What a queued local change does. */
typedef enum eas_store_change_kind {
	EAS_STORE_CHANGE_ADD = 1,     /* a new item: client_id, data */
	EAS_STORE_CHANGE_CHANGE = 2,  /* server_id, data (the changed elements) */
	EAS_STORE_CHANGE_DELETE = 3,  /* server_id */
	EAS_STORE_CHANGE_READ = 4,    /* Email: server_id, value = 0/1 */
	EAS_STORE_CHANGE_FLAG = 5,    /* Email: server_id, value = 0 clear, 1 complete, 2 active */
	EAS_STORE_CHANGE_MOVE = 6     /* MoveItems: server_id, dest_folder_id */
} eas_store_change_kind;

/* One queued local change. */
typedef struct eas_store_change {
	int64_t id;              /* assigned by change_add, increasing; FIFO order */
	eas_store_change_kind kind;
	const char *folder_id;
	const char *server_id;   /* NULL for an ADD */
	const char *client_id;   /* ADD: the ClientId sent to the server */
	const char *class_name;  /* ADD */
	const char *dest_folder_id; /* MOVE */
	int value;               /* READ, FLAG */
	const uint8_t *data;     /* ADD, CHANGE: ApplicationData document, or NULL */
	size_t data_len;
	uint32_t attempts;       /* times sent and answered with a retryable status */
} eas_store_change;

typedef struct eas_store eas_store;

/* Enumeration callbacks: return 0 to go on, non-zero to stop (EAS_E_CALLBACK). */
typedef int (*eas_store_folder_fn)(const eas_store_folder *f, void *user_data);
typedef int (*eas_store_item_fn)(const eas_store_item *item, void *user_data);
typedef int (*eas_store_change_fn)(const eas_store_change *c, void *user_data);

struct eas_store {
	int version; /* EAS_STORE_VERSION */

	/* ---- transactions ---- */
	int (*begin)(eas_store *st);
	/* Durable when it returns 0; on failure the transaction is rolled back. */
	int (*commit)(eas_store *st);
	int (*rollback)(eas_store *st);

	/* ---- account values: small strings by key ("policy_key", "folder_sync_key", "heartbeat:<net>") ---- */
	/* Copies the value (NUL-terminated) into buf; EAS_E_NOTFOUND, EAS_E_LIMIT if it does not fit. */
	int (*value_get)(eas_store *st, const char *key, char *buf, size_t size);
	/* value NULL deletes the key (absent: still 0).  Keys and values up to EAS_STORE_NAME_MAX bytes. */
	int (*value_set)(eas_store *st, const char *key, const char *value);

	/* ---- folders ---- */
	/* Insert or replace by server_id (all fields; NULL parent_id and sync_key read as "0",
	 * NULL display_name and class_name as "").  The items of a replaced folder stay. */
	int (*folder_put)(eas_store *st, const eas_store_folder *f);
	/* Removes the folder, its items and its queued changes. */
	int (*folder_delete)(eas_store *st, const char *server_id);
	int (*folder_get)(eas_store *st, const char *server_id, eas_store_folder *out);
	/* Every folder, parents before children where the store knows them. */
	int (*folder_list)(eas_store *st, eas_store_folder_fn fn, void *user_data);

	/* ---- items ---- */
	/* Insert or replace by (folder_id, server_id); EAS_E_NOTFOUND if the folder is unknown.
	 * A replaced item keeps its place in the listing order. */
	int (*item_put)(eas_store *st, const eas_store_item *item);
	/* EAS_E_NOTFOUND when absent (callers replaying a response ignore it). */
	int (*item_delete)(eas_store *st, const char *folder_id, const char *server_id);
	int (*item_get)(eas_store *st, const char *folder_id, const char *server_id, eas_store_item *out);
	/* Items of a folder in ServerId insertion order. */
	int (*item_list)(eas_store *st, const char *folder_id, eas_store_item_fn fn, void *user_data);
	/* Deletes every item of a folder (a resync after Sync status 3). */
	int (*item_clear)(eas_store *st, const char *folder_id);
	/* Number of items in a folder. */
	int (*item_count)(eas_store *st, const char *folder_id, uint64_t *out);

	/* ---- local change queue ---- */
	/* Queues a change; *id_out (may be NULL) gets its id.  Also applies READ/FLAG to the stored item
	 * (when the store holds it).  Required fields per kind as listed with eas_store_change_kind;
	 * READ value 0-1, FLAG 0-2, else EAS_E_INVALID.  attempts starts at 0 whatever c says. */
	int (*change_add)(eas_store *st, const eas_store_change *c, int64_t *id_out);
	/* Changes of one folder (folder_id NULL: all), oldest first. */
	int (*change_list)(eas_store *st, const char *folder_id, eas_store_change_fn fn, void *user_data);
	/* The server answered the change: remove it. */
	int (*change_done)(eas_store *st, int64_t id);
	/* A retryable answer: count one more attempt. */
	int (*change_retry)(eas_store *st, int64_t id);

	/* Erases everything (remote wipe, account removed); the store stays usable. */
	int (*wipe)(eas_store *st);

	/* A one-line description of the last EAS_E_IO, or "". */
	const char *(*error)(eas_store *st);
	void (*close)(eas_store *st);
};

/* A volatile in-memory store (tests, apps with their own persistence).  0 or EAS_E_NOMEM. */
EAS_EXTERN int eas_store_memory_new(eas_store **out, const eas_mem *mem);

#ifdef __cplusplus
}
#endif

#endif /* EAS_SYS_STORE_H */
