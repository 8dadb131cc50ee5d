/*
 * libeas — synchronization on a session: FolderSync, Sync, Ping (push),
 * GetItemEstimate, SendMail and attachment fetch, over a state store.
 *
 * These run on the session of eas/session.h, through the same request /
 * response / event loop: each call below starts an operation (one at a time
 * per session, EAS_E_STATE when busy), the app ferries requests as usual, and
 * the outcome comes as session events (EAS_EVENT_FOLDERS_SYNCED,
 * EAS_EVENT_SYNC_PROGRESS, EAS_EVENT_SYNC_DONE, EAS_EVENT_PUSH,
 * EAS_EVENT_ESTIMATE, EAS_EVENT_MAIL_SENT, EAS_EVENT_FETCHED, or
 * EAS_EVENT_ERROR).  Every server change lands in the state store
 * (eas/sys/store.h) in one transaction with the SyncKey that produced it; the
 * optional callbacks below see the same changes inside that transaction.
 *
 *     eas_session_set_store(s, store);
 *     eas_session_connect(s);          ... until EAS_EVENT_READY
 *     eas_session_sync_folders(s);     ... until EAS_EVENT_FOLDERS_SYNCED
 *     eas_session_sync(s, NULL, 0);    ... until EAS_EVENT_SYNC_DONE
 *     eas_session_push(s, "wifi");     ... EAS_EVENT_PUSH as mail arrives
 *
 * Statuses are handled here, not by the app: FolderSync 9 and Sync 3 resync
 * without duplicates, Sync 12 and Ping 7 run FolderSync first, Sync 6 isolates
 * the one bad item, Sync 7 (conflict) lets the server's version win, Ping 5
 * and 6 adopt the server's bounds.  What cannot be handled ends the operation
 * with EAS_EVENT_ERROR (status = the EAS status, message names it).
 *
 * Moves, folder operations, SmartReply/SmartForward, Settings and the fetch
 * of a whole item are in eas/mail.h.
 */
#ifndef EAS_SYNC_H
#define EAS_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/session.h"
#include "eas/sys/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Optional: what the app sees of each server change, called inside the
 * store transaction that applies it (after the store call).  A non-zero
 * return rolls the whole response back and ends the operation with
 * EAS_E_CALLBACK; the next sync repeats it.  Every call is keyed by (folder,
 * ServerId) and may be repeated after a crash: make it idempotent.
 */
#define EAS_SYNC_CALLBACKS_VERSION 1
typedef struct eas_sync_callbacks {
	int version;
	int (*folder_changed)(const eas_store_folder *f, int deleted, void *user_data);
	/* An Add or Change from the server (is_change = 1 for Change). */
	int (*item_changed)(const eas_store_item *item, int is_change, void *user_data);
	/* A Delete (soft = 1: SoftDelete, the item left the filter window). */
	int (*item_deleted)(const char *folder_id, const char *server_id, int soft, void *user_data);
	void *user_data;
	/*
	 * Optional (added after user_data so older initialisers stay valid):
	 * the server accepted a queued ADD: server_id is the ServerId it gave
	 * change->client_id (item_changed follows with the stored item).
	 */
	int (*client_added)(const eas_store_change *change, const char *server_id, void *user_data);
	/*
	 * Optional: the changes seen since the last commit were rolled back (the
	 * connection broke in the middle of a response, a callback failed).  An
	 * app that applied them to its own database undoes them here, or relies
	 * on them coming again: the request is repeated with the same SyncKey.
	 */
	void (*rolled_back)(void *user_data);
} eas_sync_callbacks;

#define EAS_SYNC_SETTINGS_VERSION 1
typedef struct eas_sync_settings {
	int version;             /* EAS_SYNC_SETTINGS_VERSION */
	uint32_t window_size;    /* items per Sync response (default 100, 1-512) */
	uint32_t filter_type;    /* email FilterType 0-8 (default 0: all) */
	uint32_t body_type;      /* 1 text, 2 HTML, 4 MIME (default 1) */
	uint32_t truncation_size;/* body bytes per item, 0 = whole (default 0) */
	uint32_t heartbeat_min_s;/* Ping heartbeat bounds (default 60 .. 1680 s) */
	uint32_t heartbeat_max_s;
	uint32_t max_ping_folders; /* folders watched (default 32, the server may lower it) */
} eas_sync_settings;
#define EAS_SYNC_SETTINGS_INIT { EAS_SYNC_SETTINGS_VERSION, 0, 0, 0, 0, 0, 0, 0 }

/*
 * Attaches the state store (not owned: it must outlive the session or be
 * detached with NULL).  Reads the saved protocol version and policy key from
 * it when the account did not give them, and saves them as they change.
 */
EAS_EXTERN int eas_session_set_store(eas_session *s, eas_store *store);
/* callbacks and settings are copied; either may be NULL (defaults). */
EAS_EXTERN int eas_session_set_sync_callbacks(eas_session *s, const eas_sync_callbacks *cb);
EAS_EXTERN int eas_session_set_sync_settings(eas_session *s, const eas_sync_settings *settings);

/* FolderSync until the server has nothing more; EAS_EVENT_FOLDERS_SYNCED. */
EAS_EXTERN int eas_session_sync_folders(eas_session *s);

/*
 * Sync of the given folders (NULL, 0: every folder with sync_wanted), all
 * together where the version allows several collections per request, paging
 * through MoreAvailable, uploading the queued local changes of those folders.
 * EAS_EVENT_SYNC_PROGRESS as responses are applied, EAS_EVENT_SYNC_DONE at
 * the end.  Runs FolderSync first when the hierarchy was never fetched.
 */
EAS_EXTERN int eas_session_sync(eas_session *s, const char *const *folder_ids, size_t count);

/*
 * Push: Ping the folders with sync_wanted (up to the server's limit), Sync
 * the ones that changed (EAS_EVENT_PUSH, then the usual sync events), and
 * Ping again, until eas_session_cancel().  network names the network the
 * heartbeat is learnt for ("wifi", "cell"...; NULL = "default"): it climbs
 * toward heartbeat_max_s while Pings survive and drops after one is lost.
 * A local change queued during push interrupts the Ping at once.
 */
EAS_EXTERN int eas_session_push(eas_session *s, const char *network);

/*
 * Queues a local change in the store (durable on return) and wakes push.
 * EAS_E_STATE without a store or from inside a sync callback (the change
 * would join the response's transaction).  During push the Ping in flight
 * is to be cancelled at once: eas_session_run() does it; an app that
 * carries requests itself checks eas_session_interrupt_pending().
 */
EAS_EXTERN int eas_session_queue_change(eas_session *s, const eas_store_change *change, int64_t *id_out);

/*
 * 1 when the request in flight (a Ping) should be cancelled now because the
 * engine has better to do: cancel it in the transport and end it with
 * eas_session_response_end(s, EAS_E_CANCELLED); push then goes on (it Syncs
 * the local changes and Pings again) instead of failing.
 */
EAS_EXTERN int eas_session_interrupt_pending(const eas_session *s);

/* GetItemEstimate for folders: one EAS_EVENT_ESTIMATE per folder (folder_id, estimate). */
EAS_EXTERN int eas_session_estimate(eas_session *s, const char *const *folder_ids, size_t count);

/* SendMail with a whole RFC 5322 message; EAS_EVENT_MAIL_SENT. */
EAS_EXTERN int eas_session_send_mail(eas_session *s, const uint8_t *mime, size_t len, int save_in_sent);

/*
 * ItemOperations Fetch of an attachment (FileReference from the item's
 * Attachments): the decoded bytes go to sink piece by piece (return 0 or a
 * negative EAS_E_* to abort); EAS_EVENT_FETCHED with the total at the end.
 */
typedef int (*eas_fetch_sink)(const uint8_t *bytes, size_t len, void *user_data);
EAS_EXTERN int eas_session_fetch_attachment(eas_session *s, const char *file_reference, eas_fetch_sink sink,
					    void *user_data);

#ifdef __cplusplus
}
#endif

#endif /* EAS_SYNC_H */
