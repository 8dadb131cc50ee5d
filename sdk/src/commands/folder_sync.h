/*
 * FolderSync (MS-ASCMD 2.2.1.5) as C structs, encoded and decoded in both
 * directions: the client encodes the request and decodes the response, the
 * companion server does the opposite, through the same functions.
 *
 * The pattern every command module follows:
 *  - plain structs; decoded strings point into the eas_tree they came from
 *    (valid until eas_tree_free), encoded strings are the caller's;
 *  - *_encode(enc, struct) writes one whole document with the encoder;
 *  - *_decode(out, root) reads the tree's root; EAS_E_MALFORMED with a message
 *    in err for a missing required element or a bad number;
 *  - repeated elements are walked with an iterator over the tree, so decoding
 *    allocates nothing.
 */
#ifndef EAS_SRC_COMMANDS_FOLDER_SYNC_H
#define EAS_SRC_COMMANDS_FOLDER_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* FolderSync Status values (MS-ASCMD 2.2.3.177.5). */
enum {
	EAS_FOLDER_SYNC_OK = 1,
	EAS_FOLDER_SYNC_SERVER_ERROR = 6,
	EAS_FOLDER_SYNC_TIMEOUT = 8,
	EAS_FOLDER_SYNC_INVALID_KEY = 9,
	EAS_FOLDER_SYNC_BAD_REQUEST = 10,
	EAS_FOLDER_SYNC_UNKNOWN_ERROR = 11,
	EAS_FOLDER_SYNC_CODE_UNKNOWN = 12
};

typedef struct eas_folder_sync_request {
	const char *sync_key; /* "0" for the first sync */
} eas_folder_sync_request;

typedef enum eas_folder_change_kind {
	EAS_FOLDER_CHANGE_ADD,
	EAS_FOLDER_CHANGE_UPDATE,
	EAS_FOLDER_CHANGE_DELETE
} eas_folder_change_kind;

typedef struct eas_folder_change {
	eas_folder_change_kind kind;
	const char *server_id;
	const char *parent_id;    /* Add/Update; "0" for the root */
	const char *display_name; /* Add/Update */
	uint32_t type;            /* Add/Update: folder type 1-19 */
} eas_folder_change;

typedef struct eas_folder_sync_response {
	uint32_t status;
	const char *sync_key;       /* present when status is 1 */
	uint32_t count;             /* Changes/Count, 0 when absent */
	const eas_node *changes;    /* decode: the Changes element, for the iterator */
	const eas_folder_change *change_list; /* encode: the changes to write */
	size_t change_count;                  /* encode */
} eas_folder_sync_response;

int eas_folder_sync_request_encode(eas_wbxml_encoder *enc, const eas_folder_sync_request *req);
int eas_folder_sync_request_decode(eas_folder_sync_request *out, const eas_node *root, char *err, size_t err_size);

int eas_folder_sync_response_encode(eas_wbxml_encoder *enc, const eas_folder_sync_response *resp);
int eas_folder_sync_response_decode(eas_folder_sync_response *out, const eas_node *root, char *err, size_t err_size);

/*
 * Iterates over the changes of a decoded response, in document order.
 * Start with *cursor = NULL; returns 1 with *out filled, 0 at the end, or
 * EAS_E_MALFORMED (err says which change lacks what).
 */
int eas_folder_sync_next_change(const eas_folder_sync_response *resp, const eas_node **cursor,
				eas_folder_change *out, char *err, size_t err_size);

#endif
