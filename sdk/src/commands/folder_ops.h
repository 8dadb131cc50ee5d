/*
 * FolderCreate, FolderDelete and FolderUpdate (MS-ASCMD 2.2.1.3, 2.2.1.4, 2.2.1.6)
 * as C structs, encoded and decoded in both directions, following the
 * pattern of folder_sync.h: plain structs, decoded strings point into the
 * eas_tree (valid until eas_tree_free), encoded strings are the caller's,
 * EAS_E_MALFORMED with a message naming the element for a missing required
 * element or a bad number, EAS_E_INVALID from an encoder for a struct that
 * breaks the schema.
 *
 * The three commands share the folder-hierarchy SyncKey chain with
 * FolderSync: every request carries the current hierarchy key and every
 * successful response the next one.
 *
 *   FolderCreate{SyncKey, ParentId, DisplayName, Type} -> FolderCreate{Status, SyncKey?, ServerId?}
 *   FolderUpdate{SyncKey, ServerId, ParentId, DisplayName} -> FolderUpdate{Status, SyncKey?}
 *   FolderDelete{SyncKey, ServerId}                       -> FolderDelete{Status, SyncKey?}
 *
 * SyncKey (and ServerId for FolderCreate) are in a response only when its
 * Status is 1; a failed status carries nothing else.
 */
#ifndef EAS_SRC_COMMANDS_FOLDER_OPS_H
#define EAS_SRC_COMMANDS_FOLDER_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/*
 * Status values of the three commands (MS-ASCMD 2.2.3.177.3, .4, .6).  Not
 * every value is used by every command: EXISTS (2) by Create and Update
 * (Update: also "a special folder cannot be renamed"), SPECIAL (3) by Create
 * (the parent is a special folder) and Delete (the folder is a default
 * one), NOT_FOUND (4) by Update and Delete, PARENT_NOT_FOUND (5) by Create
 * and Update.
 */
enum {
	EAS_FOLDER_OP_OK = 1,
	EAS_FOLDER_OP_EXISTS = 2,
	EAS_FOLDER_OP_SPECIAL = 3,
	EAS_FOLDER_OP_NOT_FOUND = 4,
	EAS_FOLDER_OP_PARENT_NOT_FOUND = 5,
	EAS_FOLDER_OP_SERVER_ERROR = 6,
	EAS_FOLDER_OP_INVALID_KEY = 9,
	EAS_FOLDER_OP_BAD_REQUEST = 10,
	EAS_FOLDER_OP_UNKNOWN_ERROR = 11
};

/* ---- FolderCreate ---------------------------------------------------------- */

typedef struct eas_folder_create_request {
	const char *sync_key;     /* current hierarchy key */
	const char *parent_id;    /* "0" for the top level */
	const char *display_name;
	uint32_t type;            /* 1 or 12-17 (user-created folder types) */
} eas_folder_create_request;

typedef struct eas_folder_create_response {
	uint32_t status;
	const char *sync_key;     /* status 1: the next hierarchy key */
	const char *server_id;    /* status 1: the new folder */
} eas_folder_create_response;

/* EAS_E_INVALID for a missing string or type 0. */
int eas_folder_create_request_encode(eas_wbxml_encoder *enc, const eas_folder_create_request *req);
int eas_folder_create_request_decode(eas_folder_create_request *out, const eas_node *root, char *err,
				     size_t err_size);
/* EAS_E_INVALID for status 0, or status 1 without sync_key and server_id. */
int eas_folder_create_response_encode(eas_wbxml_encoder *enc, const eas_folder_create_response *resp);
int eas_folder_create_response_decode(eas_folder_create_response *out, const eas_node *root, char *err,
				      size_t err_size);

/* ---- FolderUpdate ---------------------------------------------------------- */

typedef struct eas_folder_update_request {
	const char *sync_key;
	const char *server_id;    /* the folder to rename and/or move */
	const char *parent_id;    /* its (new) parent; "0" for the top level */
	const char *display_name; /* its (new) name */
} eas_folder_update_request;

typedef struct eas_folder_update_response {
	uint32_t status;
	const char *sync_key;     /* status 1 */
} eas_folder_update_response;

int eas_folder_update_request_encode(eas_wbxml_encoder *enc, const eas_folder_update_request *req);
int eas_folder_update_request_decode(eas_folder_update_request *out, const eas_node *root, char *err,
				     size_t err_size);
int eas_folder_update_response_encode(eas_wbxml_encoder *enc, const eas_folder_update_response *resp);
int eas_folder_update_response_decode(eas_folder_update_response *out, const eas_node *root, char *err,
				      size_t err_size);

/* ---- FolderDelete ---------------------------------------------------------- */

typedef struct eas_folder_delete_request {
	const char *sync_key;
	const char *server_id;
} eas_folder_delete_request;

typedef struct eas_folder_delete_response {
	uint32_t status;
	const char *sync_key;     /* status 1 */
} eas_folder_delete_response;

int eas_folder_delete_request_encode(eas_wbxml_encoder *enc, const eas_folder_delete_request *req);
int eas_folder_delete_request_decode(eas_folder_delete_request *out, const eas_node *root, char *err,
				     size_t err_size);
int eas_folder_delete_response_encode(eas_wbxml_encoder *enc, const eas_folder_delete_response *resp);
int eas_folder_delete_response_decode(eas_folder_delete_response *out, const eas_node *root, char *err,
				      size_t err_size);

#endif
