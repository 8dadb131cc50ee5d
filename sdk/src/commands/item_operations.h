/*
 * ItemOperations (MS-ASCMD 2.2.1.10) as C structs, encoded and decoded in
 * both directions (the client encodes the request and decodes the
 * response, the companion server does the opposite), following
 * folder_sync.h: decoded strings point into the eas_tree (valid until
 * eas_tree_free), encoded strings and bytes are the caller's, repeated
 * elements are walked with an iterator.
 *
 *   ItemOperations{ (Fetch | EmptyFolderContents | Move)+ }
 *     Fetch{Store, airsync:CollectionId + airsync:ServerId | search:LongId |
 *           airsyncbase:FileReference | documentlibrary:LinkId,
 *           rm:RemoveRightsManagementProtection?, Options?{Schema?, Range?,
 *           UserName?, Password?, airsync:MIMESupport?, airsyncbase:BodyPreference*,
 *           airsyncbase:BodyPartPreference*, rm:RightsManagementSupport?}}
 *     EmptyFolderContents{airsync:CollectionId, Options?{DeleteSubFolders}}
 *     Move{ConversationId (bytes), DstFldId, Options?{MoveAlways}}        (14.0+)
 *   -> ItemOperations{Status, Response?{ (Fetch | EmptyFolderContents | Move)* }}
 *     Fetch{Status, ids as in the request, airsync:Class?, Properties?{...,
 *           Range?, Total?, Version?, Data? | Part?}}
 *     EmptyFolderContents{Status, airsync:CollectionId}
 *     Move{Status, ConversationId}
 *
 * Properties/Data carries the fetched content: base64 text inline (the
 * spec's form; an OPAQUE value is accepted too), or, in a multipart
 * response (MS-ASAcceptMultiPart, see multipart.h), a Part index instead.
 * Two ways to decode a response:
 *   - the tree (eas_item_operations_response_decode + next_result) for
 *     small responses; eas_item_operations_fetch_data() decodes the base64;
 *   - the streaming parser (eas_item_operations_parser_*), fed in chunks,
 *     which hands Data to a callback piece by piece, decoded, and never
 *     holds it: use it for attachments and documents.
 */
#ifndef EAS_SRC_COMMANDS_ITEM_OPERATIONS_H
#define EAS_SRC_COMMANDS_ITEM_OPERATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* ItemOperations Status values (MS-ASCMD 2.2.3.177.8), top level and per operation. */
enum {
	EAS_ITEMOPS_OK = 1,
	EAS_ITEMOPS_PROTOCOL_ERROR = 2,
	EAS_ITEMOPS_SERVER_ERROR = 3,
	EAS_ITEMOPS_BAD_URI = 4,              /* document library */
	EAS_ITEMOPS_ACCESS_DENIED = 5,        /* document library */
	EAS_ITEMOPS_NOT_FOUND = 6,            /* object not found or access denied */
	EAS_ITEMOPS_CONNECT_FAILED = 7,       /* document library */
	EAS_ITEMOPS_BAD_RANGE = 8,
	EAS_ITEMOPS_UNKNOWN_STORE = 9,
	EAS_ITEMOPS_FILE_EMPTY = 10,
	EAS_ITEMOPS_TOO_LARGE = 11,
	EAS_ITEMOPS_IO_FAILURE = 12,
	EAS_ITEMOPS_CONVERSION_FAILED = 14,
	EAS_ITEMOPS_INVALID_ATTACHMENT = 15,
	EAS_ITEMOPS_RESOURCE_DENIED = 16,
	EAS_ITEMOPS_PARTIAL_SUCCESS = 17,
	EAS_ITEMOPS_CREDENTIALS_REQUIRED = 18
};

#define EAS_ITEMOPS_MAX_STORE 256u       /* Store length (MS-ASCMD 2.2.3.178.2) */
#define EAS_ITEMOPS_MAX_PREFERENCES 4    /* BodyPreference / BodyPartPreference entries kept */

typedef enum eas_itemops_kind {
	EAS_ITEMOPS_FETCH = 1,
	EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS = 2,
	EAS_ITEMOPS_MOVE = 3
} eas_itemops_kind;

/* airsyncbase:BodyPreference or BodyPartPreference (MS-ASAIRS 2.2.2.11-12). */
typedef struct eas_itemops_body_preference {
	uint32_t type;              /* Type: 1 text, 2 HTML, 3 RTF, 4 MIME (required) */
	int has_truncation_size;
	uint32_t truncation_size;
	int has_all_or_none;
	int all_or_none;
	int has_preview;            /* 14.0+ */
	uint32_t preview;
} eas_itemops_body_preference;

typedef struct eas_itemops_fetch_options {
	int has_schema;
	const eas_tag *schema;       /* encode: properties to return, written as empty elements */
	size_t schema_count;         /* encode */
	const eas_node *schema_node; /* decode: the Schema element; its children name the properties */
	const char *range;           /* "m-n" byte range (document library) */
	const char *user_name;       /* 12.1+ */
	const char *password;        /* 12.1+ */
	int has_mime_support;
	uint32_t mime_support;       /* airsync:MIMESupport 0-2 */
	eas_itemops_body_preference body_preferences[EAS_ITEMOPS_MAX_PREFERENCES];
	size_t body_preference_count;
	eas_itemops_body_preference body_part_preferences[EAS_ITEMOPS_MAX_PREFERENCES]; /* 14.1+ */
	size_t body_part_preference_count;
	int has_rights_management_support; /* rm:RightsManagementSupport, 14.1+ */
	int rights_management_support;
} eas_itemops_fetch_options;

typedef struct eas_itemops_fetch {
	const char *store;          /* "Mailbox" or "DocumentLibrary" (required) */
	/* Exactly one way to name the item: */
	const char *collection_id;  /* airsync:CollectionId, with server_id */
	const char *server_id;      /* airsync:ServerId */
	const char *long_id;        /* search:LongId (a Search result) */
	const char *file_reference; /* airsyncbase:FileReference (an attachment) */
	const char *link_id;        /* documentlibrary:LinkId (a document) */
	int remove_rm_protection;   /* rm:RemoveRightsManagementProtection, 14.1+ */
	int has_options;
	eas_itemops_fetch_options options;
} eas_itemops_fetch;

typedef struct eas_itemops_empty_folder {
	const char *collection_id;  /* airsync:CollectionId (required) */
	int delete_sub_folders;     /* Options/DeleteSubFolders */
} eas_itemops_empty_folder;

typedef struct eas_itemops_move {
	const uint8_t *conversation_id; /* ConversationId bytes (required) */
	size_t conversation_id_len;
	const char *dst_fld_id;         /* DstFldId (required) */
	int move_always;                /* Options/MoveAlways */
} eas_itemops_move;

typedef struct eas_itemops_operation {
	eas_itemops_kind kind;           /* selects the member below */
	eas_itemops_fetch fetch;
	eas_itemops_empty_folder empty_folder;
	eas_itemops_move move;
} eas_itemops_operation;

typedef struct eas_item_operations_request {
	const eas_itemops_operation *operation_list; /* encode */
	size_t operation_count;     /* encode: entries; decode: operations found */
	const eas_node *root;       /* decode */
} eas_item_operations_request;

/*
 * EAS_E_INVALID for no operations, an unknown kind, a Fetch without store
 * or with not exactly one way to name its item (server_id also needs
 * collection_id), a bad Range, a body preference without type, an
 * EmptyFolderContents without collection id or a Move without conversation
 * id or destination.  Elements the encoder's version lacks (Move before
 * 14.0, UserName before 12.1, BodyPartPreference before 14.1...) come back
 * as EAS_E_UNSUPPORTED from the encoder.
 */
int eas_item_operations_request_encode(eas_wbxml_encoder *enc, const eas_item_operations_request *req);
/* EAS_E_MALFORMED for another root or no operation. */
int eas_item_operations_request_decode(eas_item_operations_request *out, const eas_node *root, char *err,
				       size_t err_size);
/*
 * Iterates over the operations of a decoded request in document order.
 * Start with *cursor = NULL; returns 1 with *out filled, 0 at the end, or
 * EAS_E_MALFORMED naming the element.
 */
int eas_item_operations_next_operation(const eas_item_operations_request *req, const eas_node **cursor,
				       eas_itemops_operation *out, char *err, size_t err_size);

/* Parses a Range "m-n" (m <= n, decimal). 0 or EAS_E_MALFORMED. */
int eas_item_operations_parse_range(const char *text, uint32_t *first, uint32_t *last);

/* ---- response ------------------------------------------------------------- */

/* How the encoder writes Properties/Data. */
typedef enum eas_itemops_data_form {
	EAS_ITEMOPS_DATA_BASE64 = 0, /* base64 text (STR_I, in chunks of at most 4096 characters): the spec's form */
	EAS_ITEMOPS_DATA_OPAQUE = 1  /* the raw bytes as one OPAQUE */
} eas_itemops_data_form;

/* Reads up to size bytes of Data into buf; *got 0 only at the end.  0 or a negative error. */
typedef int (*eas_itemops_data_reader)(uint8_t *buf, size_t size, size_t *got, void *user_data);

typedef struct eas_itemops_fetch_result eas_itemops_fetch_result;
/* Writes the Properties children other than Range/Total/Version/Data/Part (class elements, Body...). */
typedef int (*eas_itemops_properties_writer)(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f,
					     void *user_data);

struct eas_itemops_fetch_result {
	uint32_t status;
	const char *collection_id, *server_id, *long_id, *file_reference, *link_id;
	const char *class_name;     /* airsync:Class */
	int has_properties;
	const char *range;          /* Properties/Range "m-n" */
	int has_total;
	uint32_t total;             /* Properties/Total: the item's full size in bytes */
	const char *version;        /* Properties/Version */
	int has_part;
	uint32_t part;              /* Properties/Part: index into the multipart body */
	int has_data;
	/*
	 * Properties/Data.  Tree decode: the value as it came (base64 text
	 * unless data_opaque; eas_item_operations_fetch_data() decodes it).
	 * Streaming decode: NULL, data_len = the decoded bytes handed to the
	 * data callback.  Encode: the raw bytes to send (or use data_reader).
	 */
	const uint8_t *data;
	size_t data_len;
	int data_opaque;
	const eas_node *properties; /* tree decode: the Properties element, for class decoders */
	/* encode only */
	eas_itemops_data_form data_form;
	eas_itemops_data_reader data_reader; /* streams data_total bytes instead of data */
	uint64_t data_total;
	void *data_user_data;
	eas_itemops_properties_writer properties_writer;
	void *properties_user_data;
};

typedef struct eas_itemops_result {
	eas_itemops_kind kind;
	eas_itemops_fetch_result fetch;
	struct {
		uint32_t status;
		const char *collection_id;
	} empty_folder;
	struct {
		uint32_t status;
		const uint8_t *conversation_id;
		size_t conversation_id_len;
	} move;
} eas_itemops_result;

typedef struct eas_item_operations_response {
	uint32_t status;            /* ItemOperations/Status (required) */
	const eas_itemops_result *result_list; /* encode; no Response element when result_count is 0 */
	size_t result_count;        /* encode: entries; decode: results found */
	const eas_node *response;   /* decode: the Response element, NULL when absent */
} eas_item_operations_response;

/*
 * EAS_E_INVALID for status 0, a result with status 0 or an unknown kind,
 * Data together with Part, a Move result without conversation id, or a
 * data_reader that delivers more or fewer than data_total bytes (detected
 * while writing: the document is then unusable).
 */
int eas_item_operations_response_encode(eas_wbxml_encoder *enc, const eas_item_operations_response *resp);
/* EAS_E_MALFORMED for another root or a missing or bad Status. */
int eas_item_operations_response_decode(eas_item_operations_response *out, const eas_node *root, char *err,
					size_t err_size);
/* Iterates over the results of a decoded response (as next_operation). */
int eas_item_operations_next_result(const eas_item_operations_response *resp, const eas_node **cursor,
				    eas_itemops_result *out, char *err, size_t err_size);

/*
 * Bytes eas_item_operations_fetch_data() may write for a Data value of n
 * bytes: decoded data is never longer than its base64 text.
 */
#define EAS_ITEMOPS_DATA_DECODED_MAX(n) (n)
/*
 * Decodes a tree-decoded fetch's Data (base64, whitespace allowed, padding
 * optional; an OPAQUE value is copied) into out, which must hold
 * EAS_ITEMOPS_DATA_DECODED_MAX(f->data_len) bytes.  EAS_E_NOTFOUND without
 * Data, EAS_E_MALFORMED for bad base64, EAS_E_LIMIT for a too small out.
 */
int eas_item_operations_fetch_data(const eas_itemops_fetch_result *f, uint8_t *out, size_t out_size,
				   size_t *out_len);

/* ---- streaming response parser ------------------------------------------- */

/*
 * Callbacks return 0 to go on, EAS_E_PAUSED to stop the parser after this
 * event (feed returns EAS_E_PAUSED with *consumed; feed the rest again), or
 * another negative value to abort (EAS_E_CALLBACK).  Every pointer they get
 * is valid only during the call.  Each may be NULL.  The fetch passed to
 * property and data holds what was seen so far (the ids usually come before
 * Properties; Status may not).
 */
#define EAS_ITEMOPS_CALLBACKS_VERSION 1
typedef struct eas_itemops_callbacks {
	int version; /* EAS_ITEMOPS_CALLBACKS_VERSION */
	/* ItemOperations/Status. */
	int (*status)(uint32_t status, void *user_data);
	/*
	 * An element inside a Fetch's Properties, other than the direct
	 * children Range, Total, Version, Part and Data and other than any
	 * airsyncbase:Data: a leaf comes at its end with its value (value NULL
	 * never; "" for an empty element), a container comes at its end with
	 * value NULL (after its children), so attachments and bodies can be
	 * grouped.  parent is the enclosing element's tag.
	 */
	int (*property)(const eas_itemops_fetch_result *fetch, eas_tag parent, eas_tag tag, const uint8_t *value,
			size_t len, int opaque, void *user_data);
	/*
	 * Content in pieces: tag EAS_TAG_ITEMOPERATIONS_DATA for Properties/Data
	 * (the bytes decoded from base64, or raw when it came as OPAQUE) or
	 * EAS_TAG_AIRSYNCBASE_DATA for a body's Data inside Properties (as it
	 * came).  The last call of a value has final = 1 (possibly len 0).
	 */
	int (*data)(const eas_itemops_fetch_result *fetch, eas_tag tag, const uint8_t *bytes, size_t len, int final,
		    void *user_data);
	/* One Response child is complete (a Fetch's data is NULL: it was streamed). */
	int (*result)(const eas_itemops_result *result, void *user_data);
} eas_itemops_callbacks;

typedef struct eas_item_operations_parser eas_item_operations_parser;

/*
 * max_value bounds every value the parser holds (ids, property values):
 * 0 means 64 KiB; EAS_E_LIMIT beyond.  options may be NULL (decoder
 * defaults); mem NULL = libc.  Returns 0, EAS_E_NOMEM or EAS_E_INVALID.
 */
int eas_item_operations_parser_new(eas_item_operations_parser **out, const eas_itemops_callbacks *cb,
				   size_t max_value, const eas_wbxml_decoder_options *options, const eas_mem *mem,
				   void *user_data);
void eas_item_operations_parser_free(eas_item_operations_parser *p);
/*
 * Feeds the next bytes of the WBXML (any split).  Returns 0, EAS_E_PAUSED,
 * or a sticky error: the decoder's (EAS_E_MALFORMED...), EAS_E_MALFORMED
 * for a response that breaks the schema (message names the element),
 * EAS_E_LIMIT, EAS_E_NOMEM, EAS_E_CALLBACK.  consumed may be NULL.
 */
int eas_item_operations_parser_feed(eas_item_operations_parser *p, const uint8_t *data, size_t len,
				    size_t *consumed);
/* End of the document: 0 when complete, EAS_E_TRUNCATED, or the earlier error. */
int eas_item_operations_parser_finish(eas_item_operations_parser *p);
/* The first error's message, or NULL. */
const char *eas_item_operations_parser_error(const eas_item_operations_parser *p);

#endif
