/*
 * What the engine (engine.c) shares with its per-command handlers
 * (handle_<command>.c): the request context and the helpers that fill a
 * response.  Internal to sdk/src/server.
 *
 * A handler returns 0 once it filled the response (any HTTP status, any EAS
 * Status), or a negative EAS_E_*: EAS_E_MALFORMED becomes 400 (c->err says
 * why, for the log), anything else 500.
 */
#ifndef EAS_SRC_SERVER_HANDLER_H
#define EAS_SRC_SERVER_HANDLER_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "eas/http.h"
#include "server/engine.h"
#include "server/store.h"
#include "wbxml/tree.h"

#define EAS_SRV_CONTENT_TYPE_WBXML "application/vnd.ms-sync.wbxml"

/*
 * The reserved device id under which mailbox-wide blobs (Oof) are kept in
 * the store's per-device cache.  Real DeviceIds cannot take this form in the
 * plain query (letters and digits only); admin listings hide it.
 */
#define EAS_SRV_MAILBOX_DEVICE "@@mailbox@@"

/* Per-request context. */
typedef struct eas_srv_ctx {
	eas_server *srv;
	eas_mstore *store;
	const eas_mem *mem;
	const eas_server_request *req;
	eas_server_response *resp;

	eas_http_query query;      /* decoded MS-ASHTTP query (POST to the EAS path) */
	eas_command command;
	unsigned version;          /* one EAS_PROTO_* bit */
	int64_t user_id;
	char user_name[EAS_MSTORE_NAME_SIZE];            /* the authenticated name */
	char device_id[2 * EAS_MSTORE_DEVICE_ID_MAX + 1]; /* text (binary base64-form ids as hex) */
	int has_policy_key;
	uint32_t policy_key;       /* X-MS-PolicyKey or the base64 query's key */

	eas_tree *tree;            /* the parsed body, or NULL for an empty body */
	const eas_node *root;

	uint32_t eas_status;       /* the command's Status, for the log (0 = none) */
	char err[160];             /* why a request was refused, for the log */
} eas_srv_ctx;

/* ---- engine services for handlers (engine.c) ---- */

const eas_server_config *eas__srv_config(const eas_server *srv);
const eas_platform *eas__srv_platform(const eas_server *srv);
/* The configured policy, or NULL. */
const eas_policy *eas__srv_policy(const eas_server *srv);
/* Always a policy: the configured one, or an empty one. */
const eas_policy *eas__srv_effective_policy(const eas_server *srv);
/* Hex SHA-256 of the configured policy text ("" without a policy), to spot a changed policy. */
const char *eas__srv_policy_hash(const eas_server *srv);
/* Commands this server implements, as EAS_COMMAND_BIT()s. */
uint64_t eas__srv_commands(void);
/* Offered protocol versions (EAS_PROTO_* bits). */
unsigned eas__srv_versions(const eas_server *srv);
/* A random 32-bit value other than 0 (policy keys). */
int eas__srv_random_u32(eas_server *srv, uint32_t *out);

/* Adds a response header; the value is copied into the response.  EAS_E_LIMIT when full. */
int eas__srv_add_header(eas_server_response *resp, const char *name, const char *value);
/* A response with status and an optional plain-text body. */
int eas__srv_reply_text(eas_srv_ctx *c, int status, const char *text);

/* An encoder writing into *buf (capped) at the request's protocol version. */
int eas__srv_encoder(eas_srv_ctx *c, eas_wbxml_encoder **enc, eas_buf *buf);
/*
 * Finishes the encoder, frees it, and makes buf the 200 WBXML body (the
 * buffer is stolen).  On failure buf is freed and the error returned.
 */
int eas__srv_reply_wbxml(eas_srv_ctx *c, eas_wbxml_encoder *enc, eas_buf *buf, int rc);
/* 200 with a body that is these exact bytes (copied): sync-key replays. */
int eas__srv_reply_bytes(eas_srv_ctx *c, const uint8_t *data, size_t len);
/* <root><status_tag>status</status_tag></root>: a command failing with one Status. */
int eas__srv_reply_status(eas_srv_ctx *c, eas_tag root, eas_tag status_tag, uint32_t status);

/*
 * The device must provision (142, 143, 144) or wipe (140) first: that
 * common Status in the command's own root element from 14.0 on, HTTP 449
 * before ([MS-ASPROV] 3.1.5.1).  why goes to the log.
 */
int eas__srv_reply_provision_needed(eas_srv_ctx *c, uint32_t status, const char *why);

/* The user's SMTP address into out: the name if it has '@', else name@mail_domain. */
void eas__srv_user_address(const eas_srv_ctx *c, char *out, size_t size);

/* ---- Ping holds (engine.c) ---- */

/* Folders a Ping watches, copied into the hold. */
typedef struct eas_srv_watch {
	char id[EAS_MSTORE_ID_SIZE];
	int changed;
} eas_srv_watch;

/*
 * Parks the Ping of c: the response gets the hold.  folders[0..n) are
 * copied; heartbeat in seconds.  A previous hold of the same user and device
 * is woken (it then answers Status 1).  EAS_E_LIMIT when max_holds are held.
 */
int eas__srv_hold(eas_srv_ctx *c, const eas_srv_watch *folders, size_t n, uint32_t heartbeat_s);

/*
 * Whether a folder of a Ping has news for this device: 1 when the device's
 * sync state for it has pending changes, 0 when not or when it has no state
 * (never synced: nothing to compare with), or a negative EAS_E_*.
 */
int eas__srv_folder_changed(eas_mstore *store, int64_t user_id, const char *device_id, const char *folder_id);
/* The same for the folder hierarchy (a FolderSync would bring changes). */
int eas__srv_hierarchy_changed(eas_mstore *store, int64_t user_id, const char *device_id);

/*
 * The device's wipe directive to send now, if any: EAS_MSTORE_WIPE_FULL,
 * EAS_MSTORE_WIPE_ACCOUNT_ONLY (16.1 only; an account-only wipe pending for
 * an older client gives 0), or 0.  Negative on store failure.
 */
int eas__srv_pending_wipe(eas_srv_ctx *c);

/* ---- the folder-hierarchy key chain (handle_folder_sync.c) ---- */

typedef int (*eas_srv_encode_fn)(eas_wbxml_encoder *enc, const void *arg);

/*
 * Looks at the hierarchy SyncKey of FolderCreate/Update/Delete (tag names
 * the command for replays).  Returns 1 with *st CURRENT: go on; 0 when the
 * request was answered (Status 9 in <root>, or the replay of a lost
 * response); negative on failure.
 */
int eas__srv_hierarchy_key(eas_srv_ctx *c, eas_mstore_sync *st, const char *key, const char *tag, eas_tag root);
/*
 * Inside the open transaction: encodes the response with fn(arg), moves the
 * key chain on (sync_commit with those bytes), commits and answers with the
 * bytes.  When another request moved the chain meanwhile, rolls back and
 * answers Status 9 in <root>.  Rolls back on any failure.
 */
int eas__srv_commit_reply(eas_srv_ctx *c, eas_mstore_sync *st, eas_srv_encode_fn fn, const void *arg, eas_tag root,
			  eas_tag status_tag);

/*
 * The fault injected for this request, if any (inject.c): 1 when none (go
 * on), 0 when the response was made, negative on failure.
 */
int eas__srv_inject(eas_srv_ctx *c);

/* ---- handlers ---- */

int eas__srv_handle_options(eas_srv_ctx *c);
/* Adds MS-ASProtocolVersions and MS-ASProtocolCommands to the response (handle_options.c). */
int eas__srv_add_caps_headers(eas_srv_ctx *c);
int eas__srv_handle_autodiscover(eas_srv_ctx *c);
int eas__srv_handle_folder_sync(eas_srv_ctx *c);
int eas__srv_handle_folder_create(eas_srv_ctx *c);
int eas__srv_handle_folder_update(eas_srv_ctx *c);
int eas__srv_handle_folder_delete(eas_srv_ctx *c);
int eas__srv_handle_provision(eas_srv_ctx *c);
int eas__srv_handle_settings(eas_srv_ctx *c);
int eas__srv_handle_ping(eas_srv_ctx *c);
int eas__srv_handle_sync(eas_srv_ctx *c);
int eas__srv_handle_get_item_estimate(eas_srv_ctx *c);
int eas__srv_handle_item_operations(eas_srv_ctx *c);
int eas__srv_handle_move_items(eas_srv_ctx *c);
/* SendMail, SmartReply and SmartForward (handle_send_mail.c). */
int eas__srv_handle_send_mail(eas_srv_ctx *c);
/* The response of a finished Ping hold (engine.c calls it from eas_server_hold_finish). */
int eas__srv_ping_finish(eas_srv_ctx *c, const eas_srv_watch *folders, size_t n, int outcome);

/* Outcomes of a hold, for eas__srv_ping_finish. */
enum {
	EAS_SRV_HOLD_WAITING = 0,
	EAS_SRV_HOLD_CHANGED,     /* some folders[].changed */
	EAS_SRV_HOLD_HIERARCHY,   /* the folder hierarchy changed: Status 7 */
	EAS_SRV_HOLD_WIPE,        /* a wipe was requested for the device */
	EAS_SRV_HOLD_EXPIRED,     /* heartbeat over: Status 1 */
	EAS_SRV_HOLD_SUPERSEDED   /* a newer Ping of the device: Status 1 */
};

#endif
