/*
 * Ping (MS-ASCMD 2.2.1.13) as C structs, encoded and decoded in both
 * directions, following the pattern of folder_sync.h: decoded strings point
 * into the eas_tree (valid until eas_tree_free), repeated elements are
 * walked with an iterator, decoding allocates nothing.
 *
 *   Ping{HeartbeatInterval?, Folders?{Folder+{Id, Class}}}   (at least one of the two)
 *   or no body at all
 *     -> Ping{Status, Folders?{Folder+}, MaxFolders?, HeartbeatInterval?}
 *
 * The empty request.  A Ping may be sent with no body: the server then
 * re-uses the HeartbeatInterval and folder list cached from the last Ping
 * (MS-ASCMD 3.1.5.8).  It is eas_ping_request.empty = 1: the client sends
 * Content-Length 0 instead of calling the encoder (which refuses it), and
 * the server passes a NULL root to eas_ping_request_decode() for an empty
 * body.  A body with a bare <Ping/> is a syntax error (status 4).
 *
 * What the response carries by status (digest §3.3, §3.5): 2 lists the
 * changed folders, 5 the nearest allowed HeartbeatInterval, 6 MaxFolders;
 * the encoder requires and the decoder checks them.  Other status values,
 * including the common 1xx codes, are data.
 */
#ifndef EAS_SRC_COMMANDS_PING_H
#define EAS_SRC_COMMANDS_PING_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* Ping Status values (MS-ASCMD 2.2.3.177.11); what the client does is in digest §3.3. */
enum {
	EAS_PING_EXPIRED = 1,            /* heartbeat expired, no changes: Ping again */
	EAS_PING_CHANGES = 2,            /* changes in the listed folders: Sync them */
	EAS_PING_MISSING_PARAMS = 3,     /* nothing cached: send HeartbeatInterval and Folders */
	EAS_PING_SYNTAX_ERROR = 4,
	EAS_PING_BAD_INTERVAL = 5,       /* retry with the HeartbeatInterval given */
	EAS_PING_TOO_MANY_FOLDERS = 6,   /* at most MaxFolders */
	EAS_PING_FOLDER_SYNC_NEEDED = 7, /* FolderSync, then Ping */
	EAS_PING_SERVER_ERROR = 8        /* retry later with backoff */
};

/* Longest folder Id (PingRequest.xsd maxLength). */
#define EAS_PING_ID_MAX 64u

typedef struct eas_ping_folder {
	const char *id;         /* the folder's ServerId, 1-64 characters */
	const char *class_name; /* "Email", "Calendar", "Contacts", "Tasks" or "Notes" */
} eas_ping_folder;

typedef struct eas_ping_request {
	int has_heartbeat;
	uint32_t heartbeat_interval;        /* seconds */
	int has_folders;
	const eas_ping_folder *folder_list; /* encode */
	size_t folder_count;                /* encode: entries; decode: Folder elements */
	const eas_node *folders;            /* decode: the Folders element */
	int empty;                          /* no body: the server's cached parameters apply */
} eas_ping_request;

typedef struct eas_ping_response {
	uint32_t status;
	int has_heartbeat;
	uint32_t heartbeat_interval;        /* status 5: the nearest allowed value */
	int has_max_folders;
	uint32_t max_folders;               /* status 6 */
	const char *const *folder_ids;      /* encode: the changed folders (status 2) */
	size_t folder_count;                /* encode: entries; decode: Folder elements */
	const eas_node *folders;            /* decode */
} eas_ping_response;

/*
 * EAS_E_INVALID for an empty request (send no body instead), one with
 * neither heartbeat nor folders, has_folders with no folder, or a folder
 * whose Id is missing, empty or over 64 characters or whose Class is not
 * one of the five.
 */
int eas_ping_request_encode(eas_wbxml_encoder *enc, const eas_ping_request *req);
/*
 * root NULL (an empty body) gives out->empty = 1.  EAS_E_MALFORMED for
 * another root, a Ping with neither HeartbeatInterval nor Folders, a bad
 * number, or a Folders without Folder.
 */
int eas_ping_request_decode(eas_ping_request *out, const eas_node *root, char *err, size_t err_size);
/*
 * Iterates over the folders of a decoded request.  Start with *cursor =
 * NULL; returns 1 with *out filled, 0 at the end, or EAS_E_MALFORMED for a
 * Folder without Id or Class, an Id empty or over 64 characters, or an
 * unknown Class.  (A folder listed twice is the server's business: status 4.)
 */
int eas_ping_next_folder(const eas_ping_request *req, const eas_node **cursor, eas_ping_folder *out,
			 char *err, size_t err_size);

/*
 * Writes Status, Folders, MaxFolders, HeartbeatInterval (PingResponse.xsd's
 * order).  EAS_E_INVALID for status 0, a NULL folder id, status 2 without
 * folders, 5 without a heartbeat or 6 without max folders.
 */
int eas_ping_response_encode(eas_wbxml_encoder *enc, const eas_ping_response *resp);
/*
 * EAS_E_MALFORMED for another root, a missing or bad Status or number,
 * status 2 without a Folder, 5 without HeartbeatInterval, 6 without
 * MaxFolders.
 */
int eas_ping_response_decode(eas_ping_response *out, const eas_node *root, char *err, size_t err_size);
/* Iterates over the changed folder ids of a decoded response (1, or 0 at the end). */
int eas_ping_next_changed(const eas_ping_response *resp, const eas_node **cursor, const char **out);

/* Non-zero when name is one of the five classes a Ping may watch. */
int eas_ping_class_valid(const char *name);

#endif
