/*
 * The synchronization engine's private state (eas/sync.h), shared by its
 * files, each with one job:
 *
 *   sync_engine.c       public setters, the job driver (what runs next), the
 *                       session hook (eas__op) dispatching to the phase in
 *                       flight, store transactions, status retries
 *   sync_folders.c      FolderSync
 *   sync_collections.c  Sync (requests, the streamed response into the store)
 *   sync_items.c        ApplicationData helpers (merge a Change, Read/Flag)
 *   sync_push.c         Ping with the adaptive heartbeat (heartbeat.c)
 *   sync_misc.c         GetItemEstimate, SendMail, attachment Fetch
 *   sync_move.c         queued MOVE changes sent with MoveItems (eas/mail.h)
 *   sync_mail.c         FolderCreate/Update/Delete, Settings (eas/mail.h)
 *
 * A job is what the app asked for (eas_session_sync, _push...); it runs as a
 * sequence of phases, one command in flight at a time: a Sync job may run a
 * FolderSync phase first (hierarchy never fetched, Sync status 12), a push
 * job alternates Ping and Sync phases.  Each phase ends by calling
 * eas__sync_advance(), which picks the next phase from the job and the
 * flags below, or ends the job.
 */
#ifndef EAS_SRC_CLIENT_SYNC_INTERNAL_H
#define EAS_SRC_CLIENT_SYNC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "client/heartbeat.h"
#include "client/session_internal.h"
#include "commands/item_operations.h"
#include "commands/sync.h"
#include "common/buf.h"
#include "eas/mail.h"
#include "eas/sync.h"
#include "http/backoff.h"

#define EAS__SYNC_ID_SIZE (EAS_STORE_ID_MAX + 1)
#define EAS__SYNC_CLASS_SIZE (EAS_STORE_CLASS_MAX + 1)

#define EAS__SYNC_MAX_FOLDERS 512       /* folders in one Sync/estimate job */
#define EAS__SYNC_CHANGES_PER_REQUEST 64 /* client changes per collection per request */
#define EAS__SYNC_CHANGE_ATTEMPTS 5     /* retryable answers before a change is dropped */
#define EAS__SYNC_STATUS_RETRIES 4      /* retries of one request for a retryable Status */
#define EAS__SYNC_FOLDER_SYNCS 2        /* FolderSyncs a status may force per job step */
#define EAS__SYNC_MAX_ROUNDS 100000u    /* Sync requests per job (a server paging forever) */
#define EAS__SYNC_FS_ROUNDS 32          /* FolderSync requests per phase */
#define EAS__SYNC_RESYNCS 3             /* Sync status 3 per collection per job */

typedef enum eas__job {
	EAS__JOB_NONE = 0,
	EAS__JOB_FOLDERS,
	EAS__JOB_SYNC,
	EAS__JOB_PUSH,
	EAS__JOB_ESTIMATE,
	EAS__JOB_SEND_MAIL,
	EAS__JOB_FETCH,
	EAS__JOB_FOLDER_OP,
	EAS__JOB_SETTINGS
} eas__job;

typedef enum eas__phase {
	EAS__PH_NONE = 0,
	EAS__PH_FOLDER_SYNC,
	EAS__PH_SYNC,
	EAS__PH_PING,
	EAS__PH_ESTIMATE,
	EAS__PH_SEND_MAIL,
	EAS__PH_FETCH,
	EAS__PH_MOVE,
	EAS__PH_FOLDER_OP,
	EAS__PH_SETTINGS
} eas__phase;

/* One folder of a Sync phase. */
typedef struct eas__coll {
	char id[EAS__SYNC_ID_SIZE];
	char class_name[EAS__SYNC_CLASS_SIZE];
	int done;          /* nothing left to fetch or upload in this phase */
	int in_request;    /* part of the request in flight */
	int sent_key0;     /* the request carried SyncKey 0: its answer replaces every item */
	uint32_t status;   /* the Status of the answer being applied */
	int more;          /* MoreAvailable */
	int retry;         /* a retryable status: send again after a backoff */
	unsigned resyncs;  /* Sync status 3 so far */
	int pinned;        /* part of a request sent before and never committed: send it the same */
	int64_t pin_max;   /* ... with the changes up to this id only (-1: none) */
	int64_t sent_max;  /* the highest change id in the request being built (-1: none) */
} eas__coll;

/* One client change in the request in flight (copied from the store's queue). */
typedef struct eas__sent {
	int64_t id;
	eas_store_change_kind kind;
	size_t coll;       /* index into colls */
	char *server_id;   /* CHANGE, DELETE, READ, FLAG */
	char *client_id;   /* ADD */
	char *class_name;  /* ADD */
	uint8_t *data;     /* the ApplicationData document sent (ADD, CHANGE, READ, FLAG) */
	size_t data_len;
	int value;
	uint32_t attempts; /* retryable answers before this request */
	int answered;
} eas__sent;

/* One queued MOVE in the MoveItems request in flight. */
typedef struct eas__mv {
	int64_t id;
	char *folder_id;
	char *server_id;
	char *dest_id;
	uint32_t attempts;
	int answered;
} eas__mv;

/* A pending local Read/Flag the server's version must not hide (the app's view wins until sent). */
typedef struct eas__local {
	char *server_id;
	int has_read, read;
	int has_flag, flag;
} eas__local;

struct eas__sync {
	eas_session *s;
	eas_mem mem;
	eas_store *store;
	eas_sync_callbacks cb;
	eas_sync_settings set;     /* defaults filled in */
	eas__op op;
	eas__job job;
	eas__phase phase;
	int in_txn;                /* a store transaction is open */
	eas__backoff backoff;      /* retries for a retryable Status */
	unsigned status_retries;
	int need_folder_sync;      /* run a FolderSync phase before going on */
	unsigned folder_syncs;     /* forced by statuses since the last progress */
	eas_buf req;               /* the request body being built */
	char saved_version[80];    /* what the store holds, to save only changes */
	char saved_policy_key[80];

	/* FolderSync */
	struct {
		char key[EAS__SYNC_ID_SIZE];
		int resync;            /* after status 9: the folders not seen again go */
		unsigned rounds;
		uint64_t changed;
		char **seen;
		size_t nseen, capseen;
	} fs;

	/* Sync */
	struct {
		eas__coll *colls;
		size_t ncolls;
		int pending;           /* the job still has a Sync phase to run */
		int prime_only;        /* stop once every key is past 0 (GetItemEstimate) */
		int all;               /* the folders are every wanted one, listed when the phase starts */
		size_t limit;          /* collections per request (status 15 lowers it) */
		eas__sent *sent;
		size_t nsent;
		eas_sync_parser *parser;
		int started;           /* a response body began */
		int parse_rc;          /* sticky error of the response */
		int apply_rc;          /* why applying it failed (store, callback) */
		void *req_ctx;         /* the request being encoded */
		char parse_err[200];
		eas__coll *cur;        /* the collection being applied */
		eas__local *local;
		size_t nlocal;
		int fatal_status;      /* a collection status that ends the job after this response */
		uint64_t added, changed, deleted, bytes;
		unsigned rounds;
	} sy;

	/* Ping */
	struct {
		char net[64];
		eas__heartbeat hb;
		int hb_loaded;
		uint32_t max_folders;
		int full_needed;       /* the next Ping carries its parameters (status 3, first Ping) */
		uint64_t sig;          /* the parameters of the last full Ping */
		int sig_valid;
		uint32_t interval;     /* of the Ping in flight */
		uint64_t started_ms;
		int interrupted;       /* eas_session_queue_change cancelled the Ping */
		unsigned quick_failures;
	} ps;

	/* GetItemEstimate */
	struct {
		char **ids;
		size_t nids;
		int all;               /* every wanted folder, listed when the estimate starts */
		int pending;           /* the estimate is still to be asked */
		int retried;
	} es;

	/* SendMail, SmartReply, SmartForward */
	struct {
		uint8_t *mime;
		size_t len;
		int save_in_sent;
		char client_id[40];
		int kind;              /* eas_compose_kind (0: SendMail) */
		int replace_mime;
		char *folder_id;       /* SmartReply/SmartForward: the original */
		char *item_id;
	} sm;

	/* MoveItems */
	struct {
		eas__mv *list;
		size_t n;
		uint64_t delay_ms;     /* before the next MoveItems (after status 7) */
	} mv;

	/* FolderCreate / FolderUpdate / FolderDelete */
	struct {
		int kind;              /* EAS_CMD_FOLDER_CREATE... */
		char *folder_id, *parent_id, *name;
		uint32_t type;
		int retried;           /* status 9: one FolderSync, then once more */
	} fo;

	/* Settings */
	struct {
		int oof_get, oof_set, user_info;
		eas_oof in;            /* what oof_set sends (strings owned) */
	} st;
	/* Settings results, kept until the next operation. */
	struct {
		int have_oof;
		eas_oof oof;           /* strings owned */
		char **addrs;
		size_t naddrs;
	} res;

	/* Fetch */
	struct {
		char *file_reference;
		char *collection_id;   /* an item fetch: collection_id + server_id */
		char *server_id;
		uint32_t body_type;
		eas_fetch_sink sink;
		void *sink_data;
		eas_item_operations_parser *parser;
		uint64_t delivered;    /* bytes the sink has (kept across a resend) */
		uint64_t seen;         /* bytes of this response so far */
		uint32_t status;       /* ItemOperations/Status */
		uint32_t fetch_status; /* Fetch/Status */
		int have_fetch;
		int sink_rc;
		int parse_rc;
	} fe;
};

typedef struct eas__sync eas__sync;

/* ---- sync_engine.c ---- */

#define eas__sync_log(y, ...) eas__session_log((y)->s, __VA_ARGS__)

/* The engine of a session, created on first use; NULL on EAS_E_NOMEM. */
eas__sync *eas__sync_get(eas_session *s);
/* A Sync phase ended: EAS_EVENT_SYNC_DONE with its totals (Sync and push jobs). */
void eas__sync_done_event(eas__sync *y);
/* The phase finished: start the next one or end the job. */
void eas__sync_advance(eas__sync *y);
/* Encodes a body with write(enc, arg) at the session's version and sends command after delay_ms. */
int eas__sync_send(eas__sync *y, eas_command command, int (*write)(eas_wbxml_encoder *enc, void *arg), void *arg,
		   uint64_t delay_ms);
/* Sends a ready body (NULL/0: none). */
int eas__sync_send_raw(eas__sync *y, eas_command command, const uint8_t *body, size_t len, uint64_t delay_ms);
/* Rolls back what is open and ends the job with EAS_EVENT_ERROR. */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
void eas__sync_fail(eas__sync *y, int error, int status, const char *fmt, ...);
/* Ends the job with EAS_EVENT_ERROR naming a command's Status. */
void eas__sync_fail_status(eas__sync *y, eas_command command, int status);
/* The delay before retrying after a retryable Status, or UINT64_MAX when the retries are spent. */
uint64_t eas__sync_retry_delay(eas__sync *y);
/* Progress was made: the retry and FolderSync counts start again. */
void eas__sync_progress(eas__sync *y);
/* Store transactions (at most one open). */
int eas__sync_begin(eas__sync *y);
int eas__sync_commit(eas__sync *y);
void eas__sync_rollback(eas__sync *y);
/* 1 when the folder hierarchy was fetched at least once. */
int eas__sync_have_hierarchy(eas__sync *y);
/* The class and default sync_wanted of a FolderHierarchy Type. */
const char *eas__sync_type_class(uint32_t type);
int eas__sync_type_wanted(uint32_t type);
char *eas__sync_strdup(eas__sync *y, const char *s);

/* ---- sync_folders.c ---- */
void eas__sync_folders_start(eas__sync *y);
void eas__sync_folders_response(eas__sync *y);
void eas__sync_folders_free(eas__sync *y);

/* ---- sync_collections.c ---- */
/* The folders of the next Sync phase (NULL, 0: every folder with sync_wanted and a class). */
int eas__sync_collections_set(eas__sync *y, const char *const *ids, size_t count);
/* Sends the next request of the phase, or ends the phase (advance) when nothing is left. */
void eas__sync_collections_start(eas__sync *y, uint64_t delay_ms);
int eas__sync_collections_chunk(eas__sync *y, const uint8_t *data, size_t len);
void eas__sync_collections_response(eas__sync *y);
/* The response broke: roll back what streamed in (the request goes again with the same keys). */
void eas__sync_collections_broken(eas__sync *y);
void eas__sync_collections_free(eas__sync *y);
/* 1 when folder_id has local changes a Sync would upload. */
int eas__sync_has_changes(eas__sync *y, const char *folder_id);

/* ---- sync_items.c ---- */
/*
 * Writes into out a standalone ApplicationData document: the children of
 * base whose tag patch does not have, then every child of patch (a server
 * Change of an email carries only what changed).
 */
int eas__item_merge(eas_buf *out, const uint8_t *base, size_t base_len, const uint8_t *patch, size_t patch_len,
		    const eas_mem *mem);
/* email:Read and email:Flag/email:Status of a document (each left alone when absent). */
void eas__item_read_flag(const uint8_t *doc, size_t len, const eas_mem *mem, int *read, int *flag_status);
/* The ApplicationData document of a Read (kind READ) or Flag (kind FLAG) change. */
int eas__item_change_doc(eas_buf *out, eas_store_change_kind kind, int value, unsigned version, const eas_mem *mem);

/* ---- sync_push.c ---- */
int eas__sync_push_begin(eas__sync *y, const char *network);
void eas__sync_push_start(eas__sync *y, uint64_t delay_ms);
void eas__sync_push_response(eas__sync *y);
int eas__sync_push_broken(eas__sync *y, int error);
/* A local change was queued: wake the push job (cancel the Ping in flight). */
void eas__sync_push_wake(eas__sync *y);

/* ---- sync_misc.c ---- */
int eas__sync_estimate_set(eas__sync *y, const char *const *ids, size_t count);
void eas__sync_estimate_start(eas__sync *y);
void eas__sync_estimate_response(eas__sync *y);
int eas__sync_estimate_pending(eas__sync *y);
void eas__sync_send_mail_start(eas__sync *y);
void eas__sync_send_mail_response(eas__sync *y);
void eas__sync_fetch_start(eas__sync *y);
int eas__sync_fetch_chunk(eas__sync *y, const uint8_t *data, size_t len);
void eas__sync_fetch_response(eas__sync *y);
void eas__sync_fetch_broken(eas__sync *y);
void eas__sync_misc_free(eas__sync *y);

/* ---- sync_move.c ---- */
/* 1 when a collection of the Sync phase has a MOVE at the head of its queue (MoveItems goes first). */
int eas__sync_moves_due(eas__sync *y);
void eas__sync_move_start(eas__sync *y, uint64_t delay_ms);
void eas__sync_move_response(eas__sync *y);
/* The connection broke: the repeat may find the items moved already. */
void eas__sync_move_broken(eas__sync *y);
void eas__sync_move_free(eas__sync *y);
/* Sets ev->server_id (copied into the event's slot). */
void eas__sync_event_server_id(eas_session_event *ev, const char *server_id);

/* ---- sync_mail.c ---- */
void eas__sync_folder_op_start(eas__sync *y);
void eas__sync_folder_op_response(eas__sync *y);
void eas__sync_settings_start(eas__sync *y);
void eas__sync_settings_response(eas__sync *y);
void eas__sync_mail_free(eas__sync *y);
/* The results of the last Settings operation go (a new operation starts, the session ends). */
void eas__sync_results_free(eas__sync *y);

#endif
