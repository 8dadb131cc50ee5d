/*
 * libeas — the mail-app commands on a synchronizing session (eas/sync.h):
 * moving items, managing folders, replying and forwarding, out-of-office
 * and the user's addresses, and fetching a whole item.
 *
 * They run like the rest of eas/sync.h: a store must be attached, one
 * operation at a time per session (EAS_E_STATE when busy or not connected),
 * the app ferries the requests, and the outcome is a session event or
 * EAS_EVENT_ERROR (status = the EAS status, message naming it).  Strings
 * passed in are copied; nothing the app passes is kept after the call.
 *
 * Moving an item is a queued local change, not an operation: queue an
 * eas_store_change of kind EAS_STORE_CHANGE_MOVE (folder_id, server_id,
 * dest_folder_id) with eas_session_queue_change().  The next Sync of the
 * source folder sends it with MoveItems before the Sync request, in FIFO
 * order with that folder's other changes (those queued before it go in a
 * Sync first, those after it wait for it).  Per item:
 *   3  moved: the stored item goes to the destination under its new
 *      ServerId in the transaction that removes the change
 *      (EAS_EVENT_ITEM_MOVED; item_deleted then item_changed callbacks);
 *   1, 2, 4, 5  refused: the change is dropped (EAS_EVENT_CHANGE_FAILED
 *      with the status), the item stays where the server has it;
 *   7  locked: sent again after a backoff, dropped after 5 attempts.
 * A MoveItems whose answer was lost (the process died, the connection
 * broke) is sent again; the server then answers 1 for an item it already
 * moved.  The engine knows the first request went out (a marker written
 * before sending), so that 1 means "moved": the item leaves the source and
 * the destination is resynchronized (SyncKey 0) to learn its new ServerId,
 * so the item is never lost and never doubled.  Changes queued after a MOVE
 * that still name the item by its old folder and ServerId are answered 8
 * (not found) once it moved and dropped: queue them against the
 * destination after EAS_EVENT_ITEM_MOVED.  A whole-request refusal (a
 * MoveItems Status without results) ends the job with EAS_EVENT_ERROR and
 * counts one attempt of each move; a server that does not offer MoveItems
 * gets none (the moves are dropped with EAS_EVENT_CHANGE_FAILED, status 0).
 */
#ifndef EAS_MAIL_H
#define EAS_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/session.h"
#include "eas/sync.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Folders (FolderCreate / FolderUpdate / FolderDelete).  The store's
 * hierarchy and FolderSync key change in ONE transaction with the answer;
 * EAS_EVENT_FOLDER_CHANGED (folder_id: the folder; for a create its new
 * ServerId).  Status 9 (hierarchy key out of date) runs a FolderSync and
 * asks once more; 2 (exists), 3 (special folder), 4 (not found), 5 (parent
 * not found) and the others end with EAS_EVENT_ERROR naming the status.
 * parent_id "0" is the top level; type is a FolderHierarchy Type for user
 * folders (12 mail, 13 calendar, 14 contacts, 15 tasks, 17 notes, 1 generic).
 * EAS_E_INVALID for a missing or too long (EAS_STORE_ID_MAX, names
 * EAS_STORE_NAME_MAX) argument.
 */
EAS_EXTERN int eas_session_folder_create(eas_session *s, const char *parent_id, const char *name, uint32_t type);
EAS_EXTERN int eas_session_folder_update(eas_session *s, const char *folder_id, const char *parent_id,
					 const char *name);
EAS_EXTERN int eas_session_folder_delete(eas_session *s, const char *folder_id);

/* Flags of eas_session_smart_reply / _forward. */
#define EAS_COMPOSE_SAVE_IN_SENT 1u  /* keep a copy in Sent Items */
#define EAS_COMPOSE_REPLACE_MIME 2u  /* the server must not append the original (mime is the whole message) */

/*
 * SmartReply / SmartForward to the item (folder_id, server_id) with the
 * new RFC 5322 message mime (copied): the server adds the original's body
 * (forward: and attachments) unless EAS_COMPOSE_REPLACE_MIME.
 * EAS_EVENT_MAIL_SENT; a repeat after a lost answer carries the same
 * ClientId, so the server's "already sent" counts as sent.  Before 14.0
 * the legacy form (query parameters, message/rfc822 body) is used.
 */
EAS_EXTERN int eas_session_smart_reply(eas_session *s, const char *folder_id, const char *server_id,
				       const uint8_t *mime, size_t len, unsigned flags);
EAS_EXTERN int eas_session_smart_forward(eas_session *s, const char *folder_id, const char *server_id,
					 const uint8_t *mime, size_t len, unsigned flags);

/*
 * ItemOperations Fetch of one item's whole body (folder_id + server_id)
 * in body_type (1 text, 2 HTML, 4 MIME): the body's bytes go to sink piece
 * by piece (return 0 or a negative EAS_E_* to abort); EAS_EVENT_FETCHED
 * with the total at the end.  A broken connection repeats the request and
 * the sink sees each byte once.  Status 6 (not found) ends with
 * EAS_EVENT_ERROR.  12.0 and later.
 */
EAS_EXTERN int eas_session_fetch_item(eas_session *s, const char *folder_id, const char *server_id,
				      uint32_t body_type, eas_fetch_sink sink, void *user_data);

/* Out of office (Settings Oof). */
#define EAS_OOF_OFF 0u
#define EAS_OOF_ON 1u
#define EAS_OOF_TIMED 2u /* between start_time and end_time */
typedef struct eas_oof {
	uint32_t state;          /* EAS_OOF_OFF / ON / TIMED */
	const char *start_time;  /* TIMED: "2026-01-02T08:00:00.000Z"; NULL otherwise */
	const char *end_time;
	const char *message;     /* the reply text (to internal senders) or NULL */
	int external;            /* 1: reply to external senders too, with the same text */
} eas_oof;

/*
 * Settings Oof Get (text replies) / Set.  EAS_EVENT_SETTINGS; after a Get
 * eas_session_oof() has the server's settings.  A status other than 1 ends
 * with EAS_EVENT_ERROR naming it.
 */
EAS_EXTERN int eas_session_oof_get(eas_session *s);
EAS_EXTERN int eas_session_oof_set(eas_session *s, const eas_oof *oof);
/* The settings the last Oof Get answered (strings valid until the next operation), or NULL. */
EAS_EXTERN const eas_oof *eas_session_oof(const eas_session *s);

/*
 * Settings UserInformation Get: EAS_EVENT_SETTINGS; then
 * eas_session_user_address(s, i) gives the user's SMTP addresses (the
 * primary first when the server names it), NULL past the end.  Valid until
 * the next operation.
 */
EAS_EXTERN int eas_session_user_info(eas_session *s);
EAS_EXTERN const char *eas_session_user_address(const eas_session *s, size_t index);

#ifdef __cplusplus
}
#endif

#endif /* EAS_MAIL_H */
