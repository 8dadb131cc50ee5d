/*
 * MoveItems (MS-ASCMD 2.2.1.12) as C structs, encoded and decoded in both
 * directions (the client encodes the request and decodes the response, the
 * companion server does the opposite), following folder_sync.h: decoded
 * strings point into the eas_tree (valid until eas_tree_free), encoded
 * strings are the caller's, repeated elements are walked with an iterator.
 *
 *   MoveItems{Move+{SrcMsgId, SrcFldId, DstFldId}}
 *     -> MoveItems{Status?, Response*{SrcMsgId, Status, DstMsgId?}}
 *
 * Every id is a string of at most 64 characters (MS-ASCMD 2.2.3.52,
 * 2.2.3.164-166).  Note that success is Status 3, not 1.
 */
#ifndef EAS_SRC_COMMANDS_MOVE_ITEMS_H
#define EAS_SRC_COMMANDS_MOVE_ITEMS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* MoveItems Status values (MS-ASCMD 2.2.3.177.10). */
enum {
	EAS_MOVE_ITEMS_INVALID_SOURCE = 1,      /* source folder or item id invalid (often already moved) */
	EAS_MOVE_ITEMS_INVALID_DESTINATION = 2, /* destination folder id invalid */
	EAS_MOVE_ITEMS_SUCCESS = 3,
	EAS_MOVE_ITEMS_SAME_FOLDER = 4,         /* source and destination are the same */
	EAS_MOVE_ITEMS_FAILED = 5,              /* e.g. several destinations, or transient */
	EAS_MOVE_ITEMS_LOCKED = 7               /* source or destination locked: retry */
};

/* Longest id the schema allows. */
#define EAS_MOVE_ITEMS_MAX_ID 64u

typedef struct eas_move_item {
	const char *src_msg_id; /* the item's ServerId */
	const char *src_fld_id; /* its folder's ServerId */
	const char *dst_fld_id; /* the destination folder's ServerId */
} eas_move_item;

typedef struct eas_move_items_request {
	const eas_move_item *move_list; /* encode */
	size_t move_count;              /* encode: entries of move_list; decode: Move elements */
	const eas_node *root;           /* decode: the MoveItems element, for the iterator */
} eas_move_items_request;

/* EAS_E_INVALID for no moves or a move lacking an id or with one over 64 characters. */
int eas_move_items_request_encode(eas_wbxml_encoder *enc, const eas_move_items_request *req);
/* EAS_E_MALFORMED for another root or no Move; each Move is checked by the iterator. */
int eas_move_items_request_decode(eas_move_items_request *out, const eas_node *root, char *err, size_t err_size);
/*
 * Iterates over the moves of a decoded request in document order.  Start
 * with *cursor = NULL; returns 1 with *out filled, 0 at the end, or
 * EAS_E_MALFORMED naming the missing, empty or too long element.
 */
int eas_move_items_next_move(const eas_move_items_request *req, const eas_node **cursor, eas_move_item *out,
			     char *err, size_t err_size);

typedef struct eas_move_result {
	const char *src_msg_id;
	uint32_t status;        /* EAS_MOVE_ITEMS_* or a common 1xx code */
	const char *dst_msg_id; /* the new ServerId; NULL when absent */
} eas_move_result;

typedef struct eas_move_items_response {
	uint32_t status;                    /* MoveItems/Status for a whole-request failure; 0 = absent */
	const eas_move_result *result_list; /* encode */
	size_t result_count;                /* encode: entries of result_list; decode: Response elements */
	const eas_node *root;               /* decode */
} eas_move_items_response;

/* EAS_E_INVALID for a result without SrcMsgId or status, or an id over 64 characters. */
int eas_move_items_response_encode(eas_wbxml_encoder *enc, const eas_move_items_response *resp);
int eas_move_items_response_decode(eas_move_items_response *out, const eas_node *root, char *err, size_t err_size);
/* Iterates over the results of a decoded response, as eas_move_items_next_move. */
int eas_move_items_next_result(const eas_move_items_response *resp, const eas_node **cursor, eas_move_result *out,
			       char *err, size_t err_size);

#endif
