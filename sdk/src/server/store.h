/*
 * The companion server's mailbox store ("mstore"): the backend the server's
 * command handlers call.  Accounts, devices and their provisioning state,
 * folders, items, the change log, per-device sync state and change
 * notification, behind one vtable so that tests can fake it and a port can
 * bring its own.  The SQLite implementation is server/store_sqlite.h.
 *
 * Implementing a store (libgit2 "sys" style, like eas_transport): put an
 * eas_mstore as the FIRST member of your own struct, fill version and every
 * function pointer, and hand a pointer to that member to the server.
 *
 * ---- Conventions every function keeps -------------------------------------
 *
 * Returns.  0 on success or a negative EAS_E_*:
 *   EAS_E_INVALID   a NULL or malformed argument (empty name, bad type, a
 *                   string longer than its EAS_MSTORE_*_MAX)
 *   EAS_E_NOTFOUND  the addressed user, device, folder, item, attachment or
 *                   token does not exist FOR THIS USER.  An object of another
 *                   user is indistinguishable from a missing one: every
 *                   user-scoped call filters by user id.
 *   EAS_E_AUTH      (password / token checks only) refused
 *   EAS_E_STATE     call not valid now (see each function)
 *   EAS_E_NOMEM     an allocation failed
 *   EAS_E_IO        the database failed (disk, lock timeout, corruption);
 *                   mstore->error() has a detail line without secrets
 *   EAS_E_CALLBACK  an enumeration callback returned non-zero
 * Outcomes that a handler turns into a protocol Status (a folder name that
 * exists, a special folder, a stale sync key...) are NOT errors: they come
 * back as data, in an eas_mstore_result or eas_mstore_sync.match, with the
 * function returning 0.
 *
 * Ids.  Users are int64 ids (> 0).  Folder and item ServerIds are strings,
 * at most EAS_MSTORE_ID_MAX characters: a folder is a decimal number unique
 * in the whole store (never reused), the root is "0"; an item is
 * "<folder>:<n>" with n counting up per folder (never reused).  Moving an
 * item gives it a new ServerId in the destination folder.  Devices are the
 * DeviceId text of the request, scoped by user (the same DeviceId under two
 * users is two devices).
 *
 * Memory.  Records handed to callbacks (and the strings in them) are valid
 * only during the callback.  Functions that hand back allocated memory say so;
 * free it with mstore->release().  Fixed-size out structs need no freeing.
 *
 * Transactions.  Every mutating call is atomic on its own.  begin()/commit()
 * group several calls into one atomic unit (a Sync with client commands, new
 * key and response); they nest (inner levels are savepoints).  sync_changes()
 * and sync_commit() must run inside begin()/commit().
 *
 * Change notification.  The server registers ONE callback (set_notify).  It
 * fires after the outermost commit succeeded, on the thread that called
 * commit() (or the mutating function, when no transaction was open), before
 * that call returns; once per (kind, user, folder/device) per commit, never
 * for a rolled-back change.  The store runs no thread and never polls.  Only
 * changes made through THIS handle are reported: a server running handlers
 * in several threads opens one handle per thread, registers the same function
 * on each, and wakes its waiters from there (its own locking).  The callback
 * may call the store again (the transaction is over).
 *
 * Threads.  One handle is used by one thread at a time.
 */
#ifndef EAS_SRC_SERVER_STORE_H
#define EAS_SRC_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#define EAS_MSTORE_VERSION 1

#define EAS_MSTORE_ID_MAX 64          /* ServerIds, CollectionIds, SyncKeys, sync tags */
#define EAS_MSTORE_ID_SIZE (EAS_MSTORE_ID_MAX + 1)
#define EAS_MSTORE_NAME_MAX 256       /* user names, folder display names (bytes, UTF-8) */
#define EAS_MSTORE_NAME_SIZE (EAS_MSTORE_NAME_MAX + 1)
#define EAS_MSTORE_DEVICE_ID_MAX 255  /* DeviceId text */
#define EAS_MSTORE_PASSWORD_MAX 1024
#define EAS_MSTORE_CLASS_MAX 32       /* "Email", "Calendar", "Contacts", "Tasks", "Notes", "SMS"... */
#define EAS_MSTORE_TOKEN_SIZE 72      /* bearer token text + NUL (68 chars today) */

/* Iterations when none are configured, and the floor outside tests. */
#define EAS_MSTORE_PBKDF2_DEFAULT_ITERATIONS 100000u

/* FolderHierarchy Type values (MS-ASCMD 2.2.3.186.3). */
enum {
	EAS_MSTORE_FOLDER_GENERIC = 1,
	EAS_MSTORE_FOLDER_INBOX = 2,
	EAS_MSTORE_FOLDER_DRAFTS = 3,
	EAS_MSTORE_FOLDER_DELETED = 4,
	EAS_MSTORE_FOLDER_SENT = 5,
	EAS_MSTORE_FOLDER_OUTBOX = 6,
	EAS_MSTORE_FOLDER_TASKS = 7,
	EAS_MSTORE_FOLDER_CALENDAR = 8,
	EAS_MSTORE_FOLDER_CONTACTS = 9,
	EAS_MSTORE_FOLDER_NOTES = 10,
	EAS_MSTORE_FOLDER_JOURNAL = 11,
	EAS_MSTORE_FOLDER_USER_MAIL = 12,
	EAS_MSTORE_FOLDER_USER_CALENDAR = 13,
	EAS_MSTORE_FOLDER_USER_CONTACTS = 14,
	EAS_MSTORE_FOLDER_USER_TASKS = 15,
	EAS_MSTORE_FOLDER_USER_JOURNAL = 16,
	EAS_MSTORE_FOLDER_USER_NOTES = 17
};

/* Outcome of a folder or move operation (data, not an error). */
typedef enum eas_mstore_result {
	EAS_MSTORE_OK = 0,
	EAS_MSTORE_NOT_FOUND,        /* the folder / item (ServerId) does not exist for this user */
	EAS_MSTORE_PARENT_NOT_FOUND, /* the new parent folder does not exist */
	EAS_MSTORE_EXISTS,           /* a sibling folder already has that name (case-insensitive) */
	EAS_MSTORE_SPECIAL_FOLDER,   /* a default folder: cannot be renamed, moved or deleted */
	EAS_MSTORE_INVALID_PARENT,   /* moving a folder under itself or one of its descendants */
	EAS_MSTORE_DEST_NOT_FOUND,   /* item move: destination folder does not exist */
	EAS_MSTORE_SAME_FOLDER       /* item move: destination is the item's folder */
} eas_mstore_result;

/* ---- accounts, devices ------------------------------------------------------- */

typedef struct eas_mstore_user {
	int64_t id;
	const char *name;
	int64_t created;          /* Unix seconds */
	uint32_t iterations;      /* PBKDF2 iterations of the stored hash */
} eas_mstore_user;

typedef enum eas_mstore_policy_state {
	EAS_MSTORE_POLICY_NONE = 0,     /* never provisioned */
	EAS_MSTORE_POLICY_ISSUED = 1,   /* a (temporary) key was sent, ack pending */
	EAS_MSTORE_POLICY_ACKNOWLEDGED = 2 /* the device acked; policy_key is the final key */
} eas_mstore_policy_state;

typedef enum eas_mstore_wipe_state {
	EAS_MSTORE_WIPE_NONE = 0,
	EAS_MSTORE_WIPE_REQUESTED = 1,    /* admin asked; the next request gets a wipe */
	EAS_MSTORE_WIPE_ACKNOWLEDGED = 2  /* the device acked (wipe_status says 1 ok / 2 failed) */
} eas_mstore_wipe_state;

typedef enum eas_mstore_wipe_kind {
	EAS_MSTORE_WIPE_FULL = 1,         /* <RemoteWipe/> */
	EAS_MSTORE_WIPE_ACCOUNT_ONLY = 2  /* <AccountOnlyRemoteWipe/> (16.1) */
} eas_mstore_wipe_kind;

/*
 * What the device said about itself.  For device_touch() every field is
 * optional: NULL leaves the stored value unchanged.
 */
typedef struct eas_mstore_device_info {
	const char *device_type;  /* DeviceType query field */
	const char *user_agent;   /* User-Agent header */
	const char *model;        /* Settings/Provision DeviceInformation ... */
	const char *imei;
	const char *friendly_name;
	const char *os;
	const char *os_language;
	const char *phone_number;
	const char *mobile_operator;
} eas_mstore_device_info;

typedef struct eas_mstore_device {
	const char *device_id;
	eas_mstore_device_info info;   /* NULL for never-set fields */
	int64_t first_seen, last_seen; /* Unix seconds */
	uint32_t policy_key;           /* last key set with device_set_policy, 0 = none */
	eas_mstore_policy_state policy_state;
	uint32_t policy_status;        /* the device's Policy/Status in its ack, 0 = none */
	eas_mstore_wipe_state wipe_state;
	eas_mstore_wipe_kind wipe_kind;   /* when wipe_state != NONE */
	int64_t wipe_requested, wipe_acknowledged; /* Unix seconds, 0 = never */
	uint32_t wipe_status;          /* the device's ack Status (1 ok, 2 failed), 0 = none */
} eas_mstore_device;

/* ---- folders, items ---------------------------------------------------------- */

typedef struct eas_mstore_folder {
	char server_id[EAS_MSTORE_ID_SIZE];
	char parent_id[EAS_MSTORE_ID_SIZE];        /* "0" for a top-level folder */
	char display_name[EAS_MSTORE_NAME_SIZE];
	uint32_t type;                             /* EAS_MSTORE_FOLDER_* (1-19) */
	int is_default;                            /* one of the 10 default folders */
	int64_t modseq;                            /* change-log seq of its last change */
} eas_mstore_folder;

/* Flag/Status of an email (MS-ASEMAIL): 0 none, 1 complete, 2 active. */
typedef struct eas_mstore_summary {
	const char *subject;      /* NULL = none */
	const char *from;         /* NULL = none */
	int64_t date;             /* Unix seconds (email: DateReceived; calendar: end time) — FilterType uses it */
	int read;                 /* 0/1 */
	uint32_t flag_status;     /* 0 none, 1 complete, 2 active */
	uint64_t size;            /* message size (EstimatedDataSize), handler-defined */
} eas_mstore_summary;

/* An attachment given to item_add / item_change. */
typedef struct eas_mstore_attachment_data {
	const char *name;           /* DisplayName */
	const char *content_type;   /* NULL = unknown */
	const char *content_id;     /* NULL = none */
	const char *content_location;
	uint32_t method;            /* AirSyncBase Method: 1 normal, 5 embedded, 6 OLE */
	int is_inline;
	const uint8_t *data;
	size_t len;
} eas_mstore_attachment_data;

/* Fields of eas_mstore_item_data that item_change() writes (item_add writes all). */
#define EAS_MSTORE_SET_APPDATA 0x01u      /* application_data */
#define EAS_MSTORE_SET_SUMMARY 0x02u      /* subject, from, date, size (not read, flag) */
#define EAS_MSTORE_SET_READ 0x04u
#define EAS_MSTORE_SET_FLAG 0x08u
#define EAS_MSTORE_SET_BODY 0x10u         /* body_type, body */
#define EAS_MSTORE_SET_ATTACHMENTS 0x20u  /* replaces the whole attachment list */
#define EAS_MSTORE_SET_ALL 0x3Fu

/*
 * An item as the handler gives it.  application_data is opaque to the store:
 * by convention the WBXML bytes of the item's ApplicationData element as the
 * handler will send them again, so classes without a typed module
 * (contacts, calendar, tasks, notes...) round-trip byte for byte.  The
 * summary columns are an index for listing and filtering only; the store
 * never looks inside application_data.  Body and attachments are separate
 * blobs so a handler can truncate the body per BodyPreference and list
 * FileReferences; whether they ALSO appear in application_data is up to the
 * handler.
 */
typedef struct eas_mstore_item_data {
	const char *class_name;           /* required for item_add: "Email", "Calendar", ... (no ',') */
	const uint8_t *application_data;  /* may be NULL with len 0 */
	size_t application_data_len;
	eas_mstore_summary summary;
	uint32_t body_type;               /* AirSyncBase Type: 1 text, 2 HTML, 3 RTF, 4 MIME; 0 none */
	const uint8_t *body;
	size_t body_len;
	const eas_mstore_attachment_data *attachments;
	size_t attachment_count;
} eas_mstore_item_data;

/* An attachment as stored: FileReference is what ItemOperations Fetch names. */
typedef struct eas_mstore_attachment {
	const char *file_reference;  /* stable for the item's life, also across moves */
	const char *name, *content_type, *content_id, *content_location; /* NULL when unset */
	uint32_t method;
	int is_inline;
	uint64_t size;
} eas_mstore_attachment;

/* item_get() what: load the body bytes / the attachment list too. */
#define EAS_MSTORE_GET_BODY 0x1u
#define EAS_MSTORE_GET_ATTACHMENTS 0x2u

/* An item as stored. */
typedef struct eas_mstore_item {
	const char *server_id;
	const char *folder_id;
	const char *class_name;
	const uint8_t *application_data;  /* NULL when empty */
	size_t application_data_len;
	eas_mstore_summary summary;
	int64_t modseq;                   /* change-log seq of its last change */
	uint32_t body_type;               /* 0 = no body */
	uint64_t body_size;
	const uint8_t *body;              /* only with EAS_MSTORE_GET_BODY (else NULL) */
	const eas_mstore_attachment *attachments; /* only with EAS_MSTORE_GET_ATTACHMENTS */
	size_t attachment_count;          /* always set */
} eas_mstore_item;

/* ---- change log ---------------------------------------------------------------- */

typedef enum eas_mstore_change_kind {
	EAS_MSTORE_CHANGE_ADD = 1,
	EAS_MSTORE_CHANGE_CHANGE = 2,
	EAS_MSTORE_CHANGE_DELETE = 3,
	EAS_MSTORE_CHANGE_SOFT_DELETE = 4 /* sync_changes only: the item left the filter window */
} eas_mstore_change_kind;

/*
 * One change-log entry.  Item moves are logged as DELETE (old ServerId, in
 * the source folder) + ADD (new ServerId, in the destination folder).
 */
typedef struct eas_mstore_log_entry {
	int64_t seq;              /* increasing, store-wide */
	int64_t time;             /* Unix seconds */
	eas_mstore_change_kind kind;
	int is_folder;            /* 1: a hierarchy change of folder_id (server_id == folder_id) */
	const char *folder_id;
	const char *server_id;
} eas_mstore_log_entry;

/* ---- sync state ---------------------------------------------------------------- */

/* What a client's SyncKey is, for one device and collection. */
typedef enum eas_mstore_key_match {
	/*
	 * "0": (re)start this collection.  The response carries next_key; for a
	 * folder collection it carries no items (sync_changes refuses), for the
	 * hierarchy it carries every folder as an Add.  The reset happens in the
	 * handler's transaction (at sync_changes or sync_commit), so a rolled
	 * back "0" changes nothing.  A FolderSync "0" leaves the device's
	 * collection states alone (folder ServerIds are stable here); a client
	 * that restarts them sends Sync "0" itself.
	 */
	EAS_MSTORE_KEY_INITIAL = 1,
	/* The latest key: apply the client's commands, answer, sync_commit. */
	EAS_MSTORE_KEY_CURRENT = 2,
	/*
	 * The key before the latest, with the same tag: the client lost the last
	 * response.  Send sync_replay()'s bytes verbatim; apply nothing, commit
	 * nothing (the state already moved on).
	 */
	EAS_MSTORE_KEY_PREVIOUS = 3,
	/*
	 * Anything else (unknown, older, another generation, no state yet):
	 * Sync Status 3, FolderSync/FolderCreate/... Status 9,
	 * GetItemEstimate Status 4.  Nothing changes in the store.
	 */
	EAS_MSTORE_KEY_STALE = 4
} eas_mstore_key_match;

/*
 * One device's position in one collection, from sync_check().  Handlers read
 * match, key and next_key and pass the struct back; the rest is the store's.
 */
typedef struct eas_mstore_sync {
	eas_mstore_key_match match;
	char key[EAS_MSTORE_ID_SIZE];       /* the key the client sent */
	char next_key[EAS_MSTORE_ID_SIZE];  /* INITIAL/CURRENT: the key the response must carry */
	/* store-private */
	int64_t user_id, device_row, folder_row, state_id, counter;
	char tag[EAS_MSTORE_ID_SIZE];
	char generation[EAS_MSTORE_ID_SIZE];
	int prepared;
} eas_mstore_sync;

/* Which items a collection's client sees (Sync Options). */
typedef struct eas_mstore_window {
	/* WindowSize: at most this many commands per sync_changes (0 or > 512 = 512). */
	uint32_t max_changes;
	/*
	 * FilterType as an absolute time: items with summary.date earlier than
	 * this are outside the window (never added; SoftDelete when the client
	 * has them).  0 = no filter.
	 */
	int64_t filter_since;
	/*
	 * Classes the client syncs in this collection, comma-separated
	 * ("Email,SMS"); NULL or "" = every class.  Items of other classes are
	 * outside the window.
	 */
	const char *classes;
} eas_mstore_window;

/*
 * One command of a sync_changes() answer.  For a folder collection: ADD and
 * CHANGE carry item (body NOT loaded: read it with item_body_read; the
 * attachment list not loaded: item_get), DELETE and SOFT_DELETE only
 * server_id.  For the hierarchy: ADD and CHANGE (= FolderSync Update) carry
 * folder, DELETE only server_id; adds come parents first.
 */
typedef struct eas_mstore_change {
	eas_mstore_change_kind kind;
	const char *server_id;
	const eas_mstore_item *item;
	const eas_mstore_folder *folder;
} eas_mstore_change;

/* ---- notification -------------------------------------------------------------- */

typedef enum eas_mstore_event_kind {
	EAS_MSTORE_EVENT_FOLDER = 1,    /* items of folder_id changed (added, changed, deleted, moved in/out) */
	EAS_MSTORE_EVENT_HIERARCHY = 2, /* folders of the user were created, renamed, moved or deleted */
	EAS_MSTORE_EVENT_DEVICE = 3     /* device_id's wipe or policy state changed */
} eas_mstore_event_kind;

typedef struct eas_mstore_event {
	eas_mstore_event_kind kind;
	int64_t user_id;
	const char *folder_id;  /* EVENT_FOLDER, else NULL */
	const char *device_id;  /* EVENT_DEVICE, else NULL */
} eas_mstore_event;

typedef void (*eas_mstore_notify_fn)(const eas_mstore_event *event, void *user_data);

/* Enumeration callbacks: return 0 to go on, non-zero to stop (the call then returns EAS_E_CALLBACK). */
typedef int (*eas_mstore_user_fn)(const eas_mstore_user *user, void *user_data);
typedef int (*eas_mstore_device_fn)(const eas_mstore_device *device, void *user_data);
typedef int (*eas_mstore_folder_fn)(const eas_mstore_folder *folder, void *user_data);
typedef int (*eas_mstore_item_fn)(const eas_mstore_item *item, void *user_data);
typedef int (*eas_mstore_log_fn)(const eas_mstore_log_entry *entry, void *user_data);
typedef int (*eas_mstore_change_fn)(const eas_mstore_change *change, void *user_data);

/* ---- misbehaviour on demand ("eas-server inject") ------------------------------ */

#define EAS_MSTORE_FAULT_COMMAND_MAX 31   /* an EAS command name, e.g. "Sync" */
#define EAS_MSTORE_FAULT_LOCATION_MAX 1024

/*
 * A fault the server answers with instead of serving a request: an HTTP
 * status (449, 451 with X-MS-Location, 500, 503 with Retry-After...) or,
 * with http_status 0, the command's own Status element carrying eas_status
 * (Sync 3, a common status such as 110...).  It applies to the next
 * `remaining` requests of the user (of one device when device_id is set)
 * naming that command (any command when command is "").
 */
typedef struct eas_mstore_fault {
	int64_t id;                                     /* set by the store */
	char device_id[EAS_MSTORE_DEVICE_ID_MAX + 1];   /* "" = every device of the user */
	char command[EAS_MSTORE_FAULT_COMMAND_MAX + 1]; /* "" = every command */
	uint32_t http_status;                           /* 0 = answer eas_status instead */
	uint32_t retry_after;                           /* seconds; 0 = no Retry-After */
	char location[EAS_MSTORE_FAULT_LOCATION_MAX + 1]; /* X-MS-Location; "" = none */
	uint32_t eas_status;
	uint32_t remaining;                             /* requests left, >= 1 */
} eas_mstore_fault;

typedef int (*eas_mstore_fault_fn)(const eas_mstore_fault *fault, void *user_data);

typedef struct eas_mstore eas_mstore;

/* The store vtable; embed it as the first member of an implementation. */
struct eas_mstore {
	unsigned int version; /* EAS_MSTORE_VERSION */

	/* ==== handle ==== */

	/* Rolls back an open transaction, closes, frees.  NULL-safe in the caller's hands only. */
	void (*destroy)(eas_mstore *store);
	/* Detail line of the last failure of this handle ("" when none); valid until the next call. */
	const char *(*error)(const eas_mstore *store);
	/* Frees memory a function handed back (item_get, device_get, ...).  NULL is ignored. */
	void (*release)(eas_mstore *store, void *ptr);
	/*
	 * Registers the change callback (NULL = none), replacing the previous
	 * one.  See "Change notification" above for when and where it fires.
	 */
	void (*set_notify)(eas_mstore *store, eas_mstore_notify_fn fn, void *user_data);

	/* ==== transactions ==== */

	/*
	 * Opens a transaction (the outermost takes the database write lock at
	 * once, waiting up to the busy timeout: EAS_E_IO when it cannot) or a
	 * nested savepoint.
	 */
	int (*begin)(eas_mstore *store);
	/*
	 * Ends the innermost level.  The outermost commit makes everything durable
	 * and then fires the collected notifications.  EAS_E_STATE without an
	 * open transaction; EAS_E_IO when the commit failed (everything since the
	 * outermost begin is then rolled back and no notification fires).
	 */
	int (*commit)(eas_mstore *store);
	/* Undoes the innermost level and drops its notifications.  EAS_E_STATE without one. */
	int (*rollback)(eas_mstore *store);

	/* ==== accounts ==== */

	/*
	 * Adds a user, with a PBKDF2-HMAC-SHA256 hash of password under a fresh
	 * 16-byte random salt (the iteration count is the handle's), and creates
	 * the ten default folders (Inbox 2 ... Journal 11, parent "0").  name:
	 * 1..NAME_MAX bytes, no control characters, no ':' (HTTP Basic), unique
	 * ignoring ASCII case.  password: 1..PASSWORD_MAX bytes.
	 * *out = the new user id.  EAS_E_STATE when the name is taken.
	 */
	int (*user_add)(int64_t *out, eas_mstore *store, const char *name, const char *password);
	/* Deletes a user and everything of theirs (folders, items, devices, tokens, state). */
	int (*user_delete)(eas_mstore *store, int64_t user_id);
	/* The id of a user name (ASCII case-insensitive).  EAS_E_NOTFOUND. */
	int (*user_lookup)(int64_t *out, eas_mstore *store, const char *name);
	/* Every user, by id. */
	int (*user_list)(eas_mstore *store, eas_mstore_user_fn fn, void *user_data);
	/* Replaces the password hash (new salt).  Existing bearer tokens stay valid. */
	int (*user_set_password)(eas_mstore *store, int64_t user_id, const char *password);
	/*
	 * Checks a user name and password (HTTP Basic).  The derived key is
	 * compared in constant time, and an unknown name costs the same PBKDF2
	 * work as a known one.  *out = the user id.  EAS_E_AUTH for an unknown
	 * name or a wrong password (indistinguishable).  This is deliberately
	 * slow (PBKDF2): a server may cache a success briefly.
	 */
	int (*user_verify_password)(int64_t *out, eas_mstore *store, const char *name,
				    const char *password);

	/*
	 * Issues a bearer token for a user: 32 random bytes as text in out
	 * (EAS_MSTORE_TOKEN_SIZE bytes), shown once; the store keeps only its
	 * SHA-256.  lifetime_s 0 = never expires.
	 */
	int (*token_issue)(char *out, eas_mstore *store, int64_t user_id, int64_t lifetime_s);
	/* *out = the token's user.  EAS_E_AUTH when unknown, revoked, expired or malformed. */
	int (*token_verify)(int64_t *out, eas_mstore *store, const char *token);
	/* Revokes one token of user_id.  EAS_E_NOTFOUND when user_id has no such token. */
	int (*token_revoke)(eas_mstore *store, int64_t user_id, const char *token);
	/* Revokes every token of user_id (none is fine). */
	int (*token_revoke_all)(eas_mstore *store, int64_t user_id);

	/* ==== devices ==== */

	/*
	 * Registers a device on first sight or refreshes it: last_seen = now,
	 * non-NULL info fields overwrite.  device_id: 1..DEVICE_ID_MAX bytes,
	 * no control characters (a handler turns a binary base64-form DeviceId
	 * into text first, e.g. hex).  Call it at the start of every request.
	 */
	int (*device_touch)(eas_mstore *store, int64_t user_id, const char *device_id,
			    const eas_mstore_device_info *info);
	/* One device; *out is allocated (release()).  EAS_E_NOTFOUND. */
	int (*device_get)(eas_mstore_device **out, eas_mstore *store, int64_t user_id,
			  const char *device_id);
	/* The user's devices, by first sight. */
	int (*device_list)(eas_mstore *store, int64_t user_id, eas_mstore_device_fn fn,
			   void *user_data);
	/* Forgets a device: its provisioning, sync states and cache. */
	int (*device_remove)(eas_mstore *store, int64_t user_id, const char *device_id);
	/*
	 * Records provisioning: the key the server issued (state ISSUED) or the
	 * final key after a good ack (ACKNOWLEDGED), and the Policy/Status the
	 * device acked with (0 = none).  The handler owns the protocol; the store
	 * only keeps the values.
	 */
	int (*device_set_policy)(eas_mstore *store, int64_t user_id, const char *device_id,
				 uint32_t policy_key, eas_mstore_policy_state state,
				 uint32_t device_status);
	/*
	 * Admin "wipe USER DEVICE-ID": wipe_state := REQUESTED with kind, from
	 * any state (a wiped device that comes back is wiped again).  Fires
	 * EVENT_DEVICE so a parked Ping of that device can answer at once.
	 */
	int (*device_wipe_request)(eas_mstore *store, int64_t user_id, const char *device_id,
				   eas_mstore_wipe_kind kind);
	/*
	 * The device acked the wipe with Status status (1 ok, 2 failed):
	 * REQUESTED -> ACKNOWLEDGED.  EAS_E_STATE when no wipe of that kind is
	 * requested (acks in another state or of the other kind are refused).
	 */
	int (*device_wipe_ack)(eas_mstore *store, int64_t user_id, const char *device_id,
			       eas_mstore_wipe_kind kind, uint32_t status);
	/* Admin cancel / reset: wipe_state := NONE. */
	int (*device_wipe_clear)(eas_mstore *store, int64_t user_id, const char *device_id);
	/*
	 * A small per-device blob store for handler state that is not sync state:
	 * the cached Ping request (interval + folders), the last full Sync
	 * request for Partial / empty Sync.  name: 1..ID_MAX bytes.  put replaces;
	 * len 0 stores an empty value.  get: *out allocated (release()), NULL
	 * when empty; EAS_E_NOTFOUND when never put.
	 */
	int (*device_cache_put)(eas_mstore *store, int64_t user_id, const char *device_id,
				const char *name, const uint8_t *data, size_t len);
	int (*device_cache_get)(uint8_t **out, size_t *out_len, eas_mstore *store,
				int64_t user_id, const char *device_id, const char *name);

	/* ==== folders ==== */

	/* Every folder of the user, parents before children. */
	int (*folder_list)(eas_mstore *store, int64_t user_id, eas_mstore_folder_fn fn,
			   void *user_data);
	/* One folder by ServerId.  EAS_E_NOTFOUND (also for "0"). */
	int (*folder_get)(eas_mstore_folder *out, eas_mstore *store, int64_t user_id,
			  const char *folder_id);
	/* The default folder of a type 2..11 (Deleted Items for DeletesAsMoves...). */
	int (*folder_find_default)(eas_mstore_folder *out, eas_mstore *store, int64_t user_id,
				   uint32_t type);
	/*
	 * FolderCreate: a user folder under parent_id ("0" = top level).  type
	 * must be 1 or 12..17 (EAS_E_INVALID otherwise).  *result: OK (and *out
	 * filled), PARENT_NOT_FOUND, EXISTS.  origin_device (may be NULL): the
	 * device that asked; its hierarchy state already counts the folder, so
	 * its next FolderSync does not echo it back.
	 */
	int (*folder_create)(eas_mstore_result *result, eas_mstore_folder *out, eas_mstore *store,
			     int64_t user_id, const char *parent_id, const char *display_name,
			     uint32_t type, const char *origin_device);
	/*
	 * FolderUpdate: rename and/or move (parent_id "0" = top level).
	 * *result: OK, NOT_FOUND, PARENT_NOT_FOUND, EXISTS, SPECIAL_FOLDER,
	 * INVALID_PARENT.
	 */
	int (*folder_update)(eas_mstore_result *result, eas_mstore *store, int64_t user_id,
			     const char *folder_id, const char *parent_id,
			     const char *display_name, const char *origin_device);
	/*
	 * FolderDelete: the folder, its subfolders and all their items and sync
	 * states.  *result: OK, NOT_FOUND, SPECIAL_FOLDER.
	 */
	int (*folder_delete)(eas_mstore_result *result, eas_mstore *store, int64_t user_id,
			     const char *folder_id, const char *origin_device);
	/*
	 * ItemOperations EmptyFolderContents: deletes the folder's items (and,
	 * with delete_subfolders, its non-default subfolders).  *result: OK,
	 * NOT_FOUND.
	 */
	int (*folder_empty)(eas_mstore_result *result, eas_mstore *store, int64_t user_id,
			    const char *folder_id, int delete_subfolders,
			    const char *origin_device);

	/* ==== items ==== */

	/*
	 * Adds an item to a folder; out (EAS_MSTORE_ID_SIZE bytes) gets its new
	 * ServerId.  class_name: 1..CLASS_MAX bytes, required.  origin_device:
	 * the device whose Sync Add this is (its state on the folder counts the
	 * item, no echo), or NULL (mail delivery, SendMail's Sent Items copy...).
	 * EAS_E_NOTFOUND when the folder is not the user's.
	 */
	int (*item_add)(char *out, eas_mstore *store, int64_t user_id, const char *folder_id,
			const eas_mstore_item_data *data, const char *origin_device);
	/* Rewrites the fields in `fields` (EAS_MSTORE_SET_*).  EAS_E_NOTFOUND. */
	int (*item_change)(eas_mstore *store, int64_t user_id, const char *server_id,
			   const eas_mstore_item_data *data, unsigned fields,
			   const char *origin_device);
	/* Deletes an item for good.  EAS_E_NOTFOUND. */
	int (*item_delete)(eas_mstore *store, int64_t user_id, const char *server_id,
			   const char *origin_device);
/* item_move flags */
#define EAS_MSTORE_MOVE_ORIGIN_HAS_DEST 0x1u /* origin moved it locally too (MoveItems): no Add echo */
	/*
	 * Moves an item (MoveItems; Sync Delete with DeletesAsMoves); out
	 * (ID_SIZE) gets the new ServerId.  src_folder_id: when non-NULL the
	 * item must be in it.  origin_device's state on the source no longer
	 * counts the item (no Delete echo); with ORIGIN_HAS_DEST its state on
	 * the destination already counts it.  *result: OK, NOT_FOUND (item, or
	 * not in src_folder_id), DEST_NOT_FOUND, SAME_FOLDER.
	 */
	int (*item_move)(eas_mstore_result *result, char *out, eas_mstore *store, int64_t user_id,
			 const char *server_id, const char *src_folder_id, const char *dst_folder_id,
			 const char *origin_device, unsigned flags);
	/* One item; *out allocated (release()).  what: EAS_MSTORE_GET_*.  EAS_E_NOTFOUND. */
	int (*item_get)(eas_mstore_item **out, eas_mstore *store, int64_t user_id,
			const char *server_id, unsigned what);
	/*
	 * Lists a folder's items newest first (summary.date, then newest added),
	 * skipping `offset` and handing at most `limit` (0 = all) to fn, with
	 * summary fields only (application_data NULL).  *out = the folder's item
	 * count.  EAS_E_NOTFOUND for a folder not the user's.
	 */
	int (*item_list)(uint64_t *out, eas_mstore *store, int64_t user_id, const char *folder_id,
			 uint64_t offset, uint64_t limit, eas_mstore_item_fn fn, void *user_data);
	/*
	 * Reads up to len body bytes from offset into buf without loading the
	 * whole body; *out = bytes read (0 at or past the end).  EAS_E_NOTFOUND.
	 */
	int (*item_body_read)(size_t *out, eas_mstore *store, int64_t user_id,
			      const char *server_id, uint64_t offset, uint8_t *buf, size_t len);
	/* One attachment's description; *out allocated (release()).  EAS_E_NOTFOUND. */
	int (*attachment_get)(eas_mstore_attachment **out, eas_mstore *store, int64_t user_id,
			      const char *file_reference);
	/* Like item_body_read, for attachment data (ItemOperations Range). */
	int (*attachment_read)(size_t *out, eas_mstore *store, int64_t user_id,
			       const char *file_reference, uint64_t offset, uint8_t *buf, size_t len);

	/* ==== change log ==== */

	/*
	 * The user's change-log entries with seq > since_seq, oldest first; only
	 * those of folder_id (item changes in it and its own hierarchy changes)
	 * when non-NULL.  *out = the highest seq seen (since_seq when none).
	 * The log is history (audit, tests, "anything new?"); Sync deltas do not
	 * depend on it.
	 */
	int (*log_since)(int64_t *out, eas_mstore *store, int64_t user_id, const char *folder_id,
			 int64_t since_seq, eas_mstore_log_fn fn, void *user_data);

	/* ==== per-device sync state ==== */

	/*
	 * Looks at a client's SyncKey for (user, device, collection) and fills
	 * *out (see eas_mstore_key_match).  collection_id: a folder ServerId, or
	 * NULL for the folder hierarchy (FolderSync, FolderCreate/Update/Delete
	 * share that one key chain).  tag (NULL = ""; at most ID_MAX bytes): what
	 * kind of request this is ("Sync", "FolderSync", "FolderCreate"...); a
	 * previous key is replayed only for the same tag, so a FolderSync never
	 * gets a FolderCreate's answer.  Reads only.  EAS_E_NOTFOUND when the
	 * device (device_touch first) or the folder is not the user's.
	 */
	int (*sync_check)(eas_mstore_sync *out, eas_mstore *store, int64_t user_id,
			  const char *device_id, const char *collection_id, const char *client_key,
			  const char *tag);
	/*
	 * For match PREVIOUS: the exact bytes given to the sync_commit that made
	 * the current key.  *out allocated (release()), *out_len bytes.
	 * EAS_E_STATE for another match.
	 */
	int (*sync_replay)(uint8_t **out, size_t *out_len, eas_mstore *store,
			   const eas_mstore_sync *sync);
	/*
	 * Takes the next commands for the client: the changes between what this
	 * device's state says the client has (the "synced set") and the folder
	 * now, within `window` (NULL = every item, 512 at most), and hands each
	 * to fn, marking it as sent.  Order: deletes, soft deletes, changes, then
	 * adds newest first.  *out (may be NULL) = 1 when more are waiting
	 * (MoreAvailable).  For the hierarchy: every folder change, window
	 * ignored, in the order deletes, adds (parents first), changes.  Must run inside a transaction with match INITIAL (hierarchy
	 * only: the synced set is reset first) or CURRENT; EAS_E_STATE
	 * otherwise.  If fn fails, roll back: some changes were marked.  The
	 * window is remembered for sync_pending(NULL).
	 */
	int (*sync_changes)(int *out, eas_mstore *store, eas_mstore_sync *sync,
			    const eas_mstore_window *window, eas_mstore_change_fn fn,
			    void *user_data);
	/*
	 * Counts the commands sync_changes would hand out now, marking nothing
	 * (GetItemEstimate; Ping: "has this folder changed for this device?").
	 * window NULL = the one the last sync_changes used.  EAS_E_NOTFOUND when
	 * the device has no state for the collection (never synced: GetItemEstimate
	 * Status 3).
	 */
	int (*sync_pending)(uint64_t *out, eas_mstore *store, int64_t user_id,
			    const char *device_id, const char *collection_id,
			    const eas_mstore_window *window);
	/*
	 * The device's synced-set entry of an item: *out = the item's modseq
	 * when the client last got or sent it (conflict detection: the server
	 * copy changed since when item modseq > *out).  EAS_E_NOTFOUND when the
	 * client does not have the item in this collection.
	 */
	int (*sync_seen)(int64_t *out, eas_mstore *store, const eas_mstore_sync *sync,
			 const char *server_id);
	/*
	 * Moves the key chain on: current key := next_key, previous key := the
	 * client's key, and `response` (the exact bytes sent back, any length)
	 * is kept for a replay.  For INITIAL: (re)creates the state with an
	 * empty synced set.  Inside a transaction; match INITIAL or CURRENT.
	 * EAS_E_STATE otherwise, or when another request of the same device
	 * moved the chain since sync_check: roll the transaction back (the
	 * synced set was already marked) and answer the client as STALE.
	 * After a successful commit the struct is spent (EAS_E_STATE).
	 */
	int (*sync_commit)(eas_mstore *store, eas_mstore_sync *sync, const uint8_t *response,
			   size_t response_len);

	/* ==== misbehaviour on demand ==== */

	/*
	 * Adds a fault for user_id (id ignored; remaining >= 1; either
	 * http_status 400..599 or eas_status >= 1).  Kept in the store so that
	 * an admin process adds it while the server runs.  EAS_E_INVALID for a
	 * bad field, EAS_E_NOTFOUND for an unknown user.
	 */
	int (*fault_add)(eas_mstore *store, int64_t user_id, const eas_mstore_fault *fault);
	/* Drops the user's faults (only those of device_id when non-NULL); none is fine. */
	int (*fault_clear)(eas_mstore *store, int64_t user_id, const char *device_id);
	/*
	 * The fault that applies to a request of (user, device, command) now,
	 * counted as used: remaining goes down by one atomically (also against
	 * another process), and the fault is gone after its last use.  A
	 * device's own faults come before the user-wide ones, older before
	 * newer.  *out gets the fault as it was before this use.
	 * EAS_E_NOTFOUND when none applies (the common case: one read, no write).
	 */
	int (*fault_take)(eas_mstore_fault *out, eas_mstore *store, int64_t user_id, const char *device_id,
			  const char *command);
	/* The user's faults, oldest first. */
	int (*fault_list)(eas_mstore *store, int64_t user_id, eas_mstore_fault_fn fn, void *user_data);
};

/* ---- helpers shared by implementations (store.c) --------------------------------- */

/* Derives the 32-byte PBKDF2-HMAC-SHA256 key.  0 or EAS_E_INVALID / EAS_E_NOMEM. */
int eas_mstore_pbkdf2(uint8_t out[32], const char *password, size_t password_len,
		      const uint8_t *salt, size_t salt_len, uint32_t iterations);

/*
 * 1 when a[0..n) equals b[0..n), else 0, in time that depends only on n
 * (no early exit, no data-dependent branch).
 */
int eas_mstore_equal_ct(const void *a, const void *b, size_t n);

/* SHA-256 of data. */
int eas_mstore_sha256(uint8_t out[32], const void *data, size_t len);

/* The ten default folders in creation order (Inbox ... Journal). */
typedef struct eas_mstore_default_folder {
	uint32_t type;
	const char *name;
} eas_mstore_default_folder;
#define EAS_MSTORE_DEFAULT_FOLDER_COUNT 10
extern const eas_mstore_default_folder eas_mstore_default_folders[EAS_MSTORE_DEFAULT_FOLDER_COUNT];

/* 1 when FolderCreate may make a folder of this type (1, 12..17). */
int eas_mstore_folder_type_creatable(uint32_t type);
/* The class a folder of this type syncs: "Tasks", "Calendar", "Contacts", "Notes", else "Email". */
const char *eas_mstore_folder_class(uint32_t type);

/*
 * Sync keys: "{" generation "}" counter, where generation is 32 hex digits
 * from 16 random bytes (a new one at every reset, so keys of an older chain
 * never match).  eas_mstore_key_generation writes the 32 digits and a NUL.
 */
void eas_mstore_key_generation(char out[33], const uint8_t random16[16]);
/* Writes "{gen}n" into out (EAS_MSTORE_ID_SIZE bytes). */
void eas_mstore_key_format(char *out, const char *generation, int64_t counter);

/* Short names for logs and test messages. */
const char *eas_mstore_result_name(eas_mstore_result r);
const char *eas_mstore_key_match_name(eas_mstore_key_match m);

/* Text checks used by implementations: 1 when acceptable. */
int eas_mstore_valid_text(const char *s, size_t max); /* 1..max bytes, no control chars */

#endif
