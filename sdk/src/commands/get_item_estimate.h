/*
 * GetItemEstimate (MS-ASCMD 2.2.1.9) as C structs, encoded and decoded in
 * both directions, following folder_sync.h (decoded strings point into the
 * eas_tree; repeated elements are walked with an iterator).
 *
 * The request has two forms, chosen by protocol version (GetItemEstimate.xsd
 * is a choice of two sequences; MS-ASCMD 2.2.3.27.2, 2.2.3.29.1):
 *
 *   14.0+:  Collection{airsync:SyncKey, CollectionId, airsync:ConversationMode?,
 *                      airsync:Options{0,2}{airsync:Class?, airsync:FilterType?, airsync:MaxItems?}}
 *   <=12.1: Collection{Class?, CollectionId, airsync:FilterType, airsync:SyncKey}
 *
 * One struct describes a collection in either form: the old form's Class
 * and FilterType are options[0].  The encoder picks the form from
 * req->protocol_version (writing FilterType 0, "no filter", when the old
 * form has none); the decoder accepts either form, fills options[0] from
 * the old one and says which it saw (legacy), and
 * eas_item_estimate_form_check() tells a server whether that form belongs
 * to the version of the request.
 *
 * The response is GetItemEstimate{Status?, Response*{Status,
 * Collection?{CollectionId, Estimate?}}}: a top-level Status for a failure
 * of the whole request, otherwise one Response per collection.
 */
#ifndef EAS_SRC_COMMANDS_GET_ITEM_ESTIMATE_H
#define EAS_SRC_COMMANDS_GET_ITEM_ESTIMATE_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* GetItemEstimate Status values (MS-ASCMD 2.2.3.177.7). */
enum {
	EAS_ITEM_ESTIMATE_OK = 1,
	EAS_ITEM_ESTIMATE_INVALID_COLLECTION = 2, /* FolderSync, then retry */
	EAS_ITEM_ESTIMATE_NOT_PRIMED = 3,         /* Sync with SyncKey 0 first */
	EAS_ITEM_ESTIMATE_INVALID_KEY = 4         /* Sync, then retry; SyncKey 0 if it repeats */
};

#define EAS_ITEM_ESTIMATE_MAX_OPTIONS 2        /* airsync:Options per Collection (schema) */
#define EAS_ITEM_ESTIMATE_MAX_COLLECTIONS 300  /* Collection per Collections (MS-ASCMD 2.2.3.29.1) */
#define EAS_ITEM_ESTIMATE_MAX_ID 64u           /* CollectionId length */

typedef struct eas_item_estimate_options {
	const char *class_name; /* Class; NULL = the folder's own class */
	int has_filter_type;
	uint32_t filter_type;   /* airsync:FilterType 0-8 */
	int has_max_items;
	uint32_t max_items;     /* airsync:MaxItems (14.0+, Recipient Information Cache) */
} eas_item_estimate_options;

typedef struct eas_item_estimate_collection {
	const char *sync_key;       /* airsync:SyncKey (required) */
	const char *collection_id;  /* CollectionId (required, at most 64 characters) */
	int has_conversation_mode;  /* 14.0+ */
	int conversation_mode;
	eas_item_estimate_options options[EAS_ITEM_ESTIMATE_MAX_OPTIONS];
	size_t option_count;
	int legacy;                 /* decode: the <=12.1 form was used */
} eas_item_estimate_collection;

typedef struct eas_item_estimate_request {
	unsigned protocol_version;  /* encode: one EAS_PROTO_* bit, picks the form; decode: 0 */
	const eas_item_estimate_collection *collection_list; /* encode */
	size_t collection_count;    /* encode: entries; decode: Collection elements */
	const eas_node *collections; /* decode: the Collections element */
} eas_item_estimate_request;

/*
 * EAS_E_INVALID for no collections or more than 300, a collection without
 * sync key or id (or an id over 64 characters), more than two options,
 * an options entry with nothing in it (Options needs a child),
 * a protocol_version that is not one EAS_PROTO_* bit; and in the <=12.1
 * form for more than one options entry, MaxItems or ConversationMode.
 */
int eas_get_item_estimate_request_encode(eas_wbxml_encoder *enc, const eas_item_estimate_request *req);
/* EAS_E_MALFORMED for another root, no Collections, no Collection or more than 300. */
int eas_get_item_estimate_request_decode(eas_item_estimate_request *out, const eas_node *root,
					 char *err, size_t err_size);
/*
 * Iterates over the collections of a decoded request.  Start with *cursor
 * = NULL; returns 1 with *out filled, 0 at the end, or EAS_E_MALFORMED
 * naming the element (missing SyncKey or CollectionId, both forms mixed,
 * more than two Options, an empty Options, a bad number, the old form
 * without FilterType).
 */
int eas_get_item_estimate_next_collection(const eas_item_estimate_request *req, const eas_node **cursor,
					  eas_item_estimate_collection *out, char *err, size_t err_size);
/*
 * 0 when a decoded collection's form belongs to protocol version `version`
 * (one EAS_PROTO_* bit), else EAS_E_MALFORMED with a message.
 */
int eas_item_estimate_form_check(const eas_item_estimate_collection *c, unsigned version, char *err,
				 size_t err_size);

typedef struct eas_item_estimate_result {
	uint32_t status;           /* Response/Status */
	const char *collection_id; /* Collection/CollectionId; NULL = no Collection */
	int has_estimate;
	uint32_t estimate;         /* Collection/Estimate */
} eas_item_estimate_result;

typedef struct eas_item_estimate_response {
	uint32_t status;           /* GetItemEstimate/Status (whole-request failure); 0 = absent */
	const eas_item_estimate_result *result_list; /* encode */
	size_t result_count;       /* encode: entries; decode: Response elements */
	const eas_node *root;      /* decode */
} eas_item_estimate_response;

/* EAS_E_INVALID for a result with status 0, or an estimate without a collection id. */
int eas_get_item_estimate_response_encode(eas_wbxml_encoder *enc, const eas_item_estimate_response *resp);
int eas_get_item_estimate_response_decode(eas_item_estimate_response *out, const eas_node *root,
					  char *err, size_t err_size);
/* Iterates over the Responses of a decoded response (as the request iterator). */
int eas_get_item_estimate_next_result(const eas_item_estimate_response *resp, const eas_node **cursor,
				      eas_item_estimate_result *out, char *err, size_t err_size);

#endif
