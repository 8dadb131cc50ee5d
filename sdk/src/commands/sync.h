/*
 * Sync (MS-ASCMD 2.2.1.21) in both directions.
 *
 *   request   client: eas_sync_request_encode      server: eas_sync_request_decode (tree)
 *   response  client: eas_sync_parser (streaming)  server: eas_sync_writer (item by item)
 *
 * Requests are small (client Adds with bodies aside), so the server reads them
 * from an eas_tree whose byte limit is the cap.  Responses can hold thousands
 * of items and bodies of many megabytes, so the client never holds one whole:
 * the parser is fed chunks and calls back once per collection, per item and
 * per Responses entry, with each item's ApplicationData re-encoded as a small
 * standalone WBXML document (bounded by max_item); values longer than a
 * threshold (a large Body Data, a MIME blob) are passed to a "big value"
 * callback piece by piece instead.  Memory stays flat whatever the response
 * size.  Every callback may return EAS_E_PAUSED to stop between events.
 *
 * Strings in structs filled by the parser are valid only during the callback
 * that receives them; strings filled by the tree decoder point into the tree
 * (valid until eas_tree_free); strings given to the encoders are the caller's.
 */
#ifndef EAS_SRC_COMMANDS_SYNC_H
#define EAS_SRC_COMMANDS_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* Sync Status values (MS-ASCMD 2.2.3.177.17); the meanings are in eas/status.h. */
enum {
	EAS_SYNC_STATUS_OK = 1,
	EAS_SYNC_STATUS_INVALID_KEY = 3,          /* reset the collection to SyncKey 0 */
	EAS_SYNC_STATUS_PROTOCOL_ERROR = 4,
	EAS_SYNC_STATUS_SERVER_ERROR = 5,
	EAS_SYNC_STATUS_CONVERSION_ERROR = 6,     /* the client's item is invalid */
	EAS_SYNC_STATUS_CONFLICT = 7,             /* the server's version won */
	EAS_SYNC_STATUS_NOT_FOUND = 8,
	EAS_SYNC_STATUS_CANNOT_COMPLETE = 9,
	EAS_SYNC_STATUS_HIERARCHY_CHANGED = 12,   /* FolderSync, then retry */
	EAS_SYNC_STATUS_INCOMPLETE_REQUEST = 13,  /* send the full request */
	EAS_SYNC_STATUS_INVALID_INTERVAL = 14,    /* Wait/HeartbeatInterval out of range: see Limit */
	EAS_SYNC_STATUS_TOO_MANY_COLLECTIONS = 15,/* see Limit */
	EAS_SYNC_STATUS_RETRY = 16
};

/* Longest SyncKey, CollectionId, ServerId, ClientId, Class, InstanceId or Status text the parser keeps. */
#define EAS_SYNC_MAX_ID 256
/* Options per collection and BodyPreference / BodyPartPreference per Options (fixed arrays). */
#define EAS_SYNC_MAX_OPTIONS 4
#define EAS_SYNC_MAX_BODY_PREFS 8

/* 1 if name is a class a Sync collection can hold: Email, Contacts, Calendar, Tasks, Notes, SMS. */
int eas_sync_class_known(const char *name);

typedef enum eas_sync_op {
	EAS_SYNC_OP_ADD,
	EAS_SYNC_OP_CHANGE,
	EAS_SYNC_OP_DELETE,
	EAS_SYNC_OP_SOFT_DELETE, /* server -> client only: the item left the filter window */
	EAS_SYNC_OP_FETCH
} eas_sync_op;

/* "Add", "Change", "Delete", "SoftDelete", "Fetch". */
const char *eas_sync_op_name(eas_sync_op op);

/*
 * One entry of Commands (either direction) or Responses (server -> client).
 *
 * ApplicationData comes in one of three forms:
 *  - data/data_len: a standalone WBXML document whose root is
 *    AirSync:ApplicationData (the parser's output; an encoder input);
 *  - write_data: a callback that writes the CHILDREN of ApplicationData
 *    (an encoder input; e.g. eas_email_encode);
 *  - app_data: the ApplicationData node of a decoded request (server side).
 */
typedef struct eas_sync_item {
	eas_sync_op op;
	const char *server_id;   /* NULL when absent */
	const char *client_id;   /* Add: the client's temporary id */
	const char *class_name;  /* Add: Class, when present */
	const char *instance_id; /* 16.x: airsyncbase:InstanceId of a Change/Delete */
	int has_status;          /* Responses entries: Status */
	uint32_t status;
	int send;                /* 16.x drafts: email2:Send in a client Add/Change */
	int has_data;            /* an ApplicationData element is there (parser, decoder) */
	const uint8_t *data;
	size_t data_len;
	int (*write_data)(eas_wbxml_encoder *enc, void *arg);
	void *write_arg;
	const eas_node *app_data;
	unsigned streamed;       /* parser: values of this item given to big_value (left empty in data) */
} eas_sync_item;

/* ---- request ---------------------------------------------------------------- */

typedef struct eas_sync_body_pref {
	uint32_t type;           /* 1 text, 2 HTML, 3 RTF, 4 MIME */
	int has_truncation_size;
	uint32_t truncation_size;
	int has_all_or_none;
	int all_or_none;
	int has_preview;         /* 14.0+ */
	uint32_t preview;        /* 0-255 characters */
} eas_sync_body_pref;

typedef struct eas_sync_options {
	const char *class_name;  /* 14.0+: Options/Class (e.g. "SMS" next to Email in the Inbox) */
	int has_filter_type;
	uint32_t filter_type;    /* 0-8 */
	eas_sync_body_pref body_prefs[EAS_SYNC_MAX_BODY_PREFS];
	size_t body_pref_count;
	eas_sync_body_pref body_part_prefs[EAS_SYNC_MAX_BODY_PREFS]; /* 14.1+ */
	size_t body_part_pref_count;
	int has_conflict;
	uint32_t conflict;       /* 0 client wins, 1 server wins */
	int has_mime_support;
	uint32_t mime_support;   /* 0 never, 1 S/MIME only, 2 always */
	int has_mime_truncation;
	uint32_t mime_truncation;/* 0-8 */
	int has_truncation;      /* 2.5 only */
	uint32_t truncation;
	int has_max_items;       /* 14.0+ */
	uint32_t max_items;
	int rights_management_support; /* 14.1+: rm:RightsManagementSupport = 1 */
} eas_sync_options;

typedef struct eas_sync_collection_request {
	const char *class_name;  /* <= 12.1 only: Collection/Class */
	const char *sync_key;    /* required; "0" to start */
	const char *collection_id; /* required */
	int has_supported;       /* <= 14.1 ghosting: the elements the client handles */
	const eas_tag *supported;  /* encode */
	size_t supported_count;    /* encode */
	const eas_node *supported_node; /* decode */
	int has_deletes_as_moves;
	int deletes_as_moves;
	int has_get_changes;
	int get_changes;
	int has_window_size;
	uint32_t window_size;
	int has_conversation_mode; /* 14.0+ */
	int conversation_mode;
	eas_sync_options options[EAS_SYNC_MAX_OPTIONS];
	size_t option_count;
	const eas_sync_item *commands; /* encode: Add (client_id, class_name?, data), Change, Delete, Fetch */
	size_t command_count;          /* encode */
	const eas_node *commands_node; /* decode: for eas_sync_collection_next_command */
} eas_sync_collection_request;

typedef struct eas_sync_request {
	int has_wait;            /* 12.1+: minutes, 1-59 */
	uint32_t wait;
	int has_heartbeat_interval; /* 14.0+: seconds; never together with Wait */
	uint32_t heartbeat_interval;
	int has_window_size;     /* 12.1+: all collections together */
	uint32_t window_size;
	int partial;             /* 12.1+ */
	const eas_sync_collection_request *collections; /* encode */
	size_t collection_count;                        /* encode */
	const eas_node *collections_node;               /* decode */
} eas_sync_request;

/*
 * Writes a whole Sync request.  version is the one EAS_PROTO_* bit in use:
 * Collection/Class is refused from 14.0 on, Options/Class before 14.0
 * (EAS_E_UNSUPPORTED), and the encoder refuses the tags its own version does
 * not have (Wait before 12.1, ConversationMode before 14.0, ...).  Wait and
 * HeartbeatInterval together, a missing SyncKey/CollectionId, an Add without
 * ClientId or ApplicationData, a Change/Delete/Fetch without ServerId:
 * EAS_E_INVALID.
 */
int eas_sync_request_encode(eas_wbxml_encoder *enc, const eas_sync_request *req, unsigned version);

/*
 * Reads a request tree (server side).  Wait and HeartbeatInterval both
 * present is not a decoding error: the server answers Status 4.
 * EAS_E_MALFORMED with a message for a bad number or a wrong root.
 */
int eas_sync_request_decode(eas_sync_request *out, const eas_node *root, char *err, size_t err_size);

/*
 * Walks the collections of a decoded request: start with *cursor = NULL;
 * returns 1 with *out filled, 0 at the end, or EAS_E_MALFORMED (missing
 * SyncKey/CollectionId, bad number or boolean, unknown Class, too many
 * Options or BodyPreferences).
 */
int eas_sync_request_next_collection(const eas_sync_request *req, const eas_node **cursor,
				     eas_sync_collection_request *out, char *err, size_t err_size);

/* Walks the Commands of a decoded collection like the above (item->app_data is the node). */
int eas_sync_collection_next_command(const eas_sync_collection_request *coll, const eas_node **cursor,
				     eas_sync_item *out, char *err, size_t err_size);

/* ---- response: server side, written item by item ------------------------------ */

/* A collection of a response: the writer's input, the parser's output. */
typedef struct eas_sync_collection {
	const char *class_name;  /* <= 12.1 */
	const char *sync_key;    /* required when status is 1 */
	const char *collection_id;
	uint32_t status;
	int more_available;      /* parser: known at collection_end only */
	size_t commands;         /* parser: Commands entries so far */
	size_t responses;        /* parser: Responses entries so far */
} eas_sync_collection;

typedef struct eas_sync_writer {
	eas_wbxml_encoder *enc;
	unsigned version;
	int state;               /* private */
	int done_commands;       /* private */
	int done_responses;      /* private */
} eas_sync_writer;

/* Opens <Sync>.  Nothing is buffered: each call below writes through enc. */
int eas_sync_writer_begin(eas_sync_writer *w, eas_wbxml_encoder *enc, unsigned version);
/* <Collection> with Class (if given), SyncKey, CollectionId, Status. */
int eas_sync_writer_collection_begin(eas_sync_writer *w, const eas_sync_collection *c);
/* One Commands entry (Add, Change, Delete, SoftDelete); ApplicationData from item->write_data or item->data. */
int eas_sync_writer_command(eas_sync_writer *w, const eas_sync_item *item);
/* One Responses entry (Add with ClientId/ServerId/Status, Change, Delete, Fetch with ApplicationData). */
int eas_sync_writer_response(eas_sync_writer *w, const eas_sync_item *item);
/*
 * Closes the collection, writing <MoreAvailable/> after Commands when asked
 * (as in MS-ASCMD 4.5.8).  Commands and Responses may come in either order,
 * but each only once per collection (EAS_E_STATE otherwise).
 */
int eas_sync_writer_collection_end(eas_sync_writer *w, int more_available);
/* Closes </Sync> (the caller then finishes the encoder). */
int eas_sync_writer_end(eas_sync_writer *w);

/* A whole response carrying only a top-level Status (and Limit when has_limit). */
int eas_sync_response_encode_status(eas_wbxml_encoder *enc, uint32_t status, int has_limit, uint32_t limit);

/* ---- response: client side, streaming ------------------------------------------ */

typedef struct eas_sync_parser eas_sync_parser;

/* What a big_value piece belongs to. */
typedef struct eas_sync_value {
	eas_tag tag;             /* the element holding the value, e.g. EAS_TAG_AIRSYNCBASE_DATA */
	eas_tag parent;          /* its parent, e.g. EAS_TAG_AIRSYNCBASE_BODY */
	eas_wbxml_data_kind kind;
	uint64_t total;          /* OPAQUE: the whole length; strings: 0 (not known up front) */
	uint64_t offset;         /* bytes of this value before this piece */
	const eas_sync_collection *collection;
	const eas_sync_item *item; /* op and ids seen so far (ServerId comes first in practice); no data */
	int in_responses;        /* the item is a Responses entry (a Fetch) */
} eas_sync_value;

/*
 * Callbacks; any may be NULL.  Each returns 0, EAS_E_PAUSED (feed returns
 * EAS_E_PAUSED after this event; feed the rest again) or another negative
 * value (the parse fails with EAS_E_CALLBACK).  Pointers are valid only
 * during the call.
 */
#define EAS_SYNC_PARSER_CALLBACKS_VERSION 1
typedef struct eas_sync_parser_callbacks {
	int version;
	/* Class, SyncKey, CollectionId and Status are known (before the first item). */
	int (*collection_begin)(const eas_sync_collection *c, void *user_data);
	/* A server change: Add, Change, Delete, SoftDelete (item->data: its ApplicationData). */
	int (*command)(const eas_sync_collection *c, const eas_sync_item *item, void *user_data);
	/* An answer to a client change or Fetch: Add (ClientId -> ServerId), Change, Delete, Fetch. */
	int (*response)(const eas_sync_collection *c, const eas_sync_item *item, void *user_data);
	/* The collection is complete; c->more_available is final. */
	int (*collection_end)(const eas_sync_collection *c, void *user_data);
	/*
	 * A piece of a value inside ApplicationData longer than
	 * big_value_threshold; the last piece has final = 1.  Without this
	 * callback every value stays in the item's data (up to max_item).
	 */
	int (*big_value)(const eas_sync_value *v, const uint8_t *bytes, size_t len, int final, void *user_data);
} eas_sync_parser_callbacks;
#define EAS_SYNC_PARSER_CALLBACKS_INIT { EAS_SYNC_PARSER_CALLBACKS_VERSION, NULL, NULL, NULL, NULL, NULL }

#define EAS_SYNC_PARSER_OPTIONS_VERSION 1
typedef struct eas_sync_parser_options {
	int version;
	size_t max_item;            /* bytes of one item's ApplicationData document (default 1 MiB) */
	size_t big_value_threshold; /* values longer than this go to big_value (default 32 KiB) */
	uint64_t max_value;         /* longest single value, streamed or not (default 64 MiB) */
	uint64_t max_total;         /* document size (0 = no limit, the default) */
	unsigned max_depth;         /* nesting (default 32, at most 64) */
} eas_sync_parser_options;
#define EAS_SYNC_PARSER_OPTIONS_INIT { EAS_SYNC_PARSER_OPTIONS_VERSION, 1u << 20, 32u << 10, 64u << 20, 0, 32 }

/* After finish: what the response said as a whole. */
typedef struct eas_sync_summary {
	int empty;               /* HTTP 200 with an empty body: nothing changed (12.1+) */
	int has_status;          /* a top-level Sync/Status (4, 5, 12-16... whole-request failures) */
	uint32_t status;
	int has_limit;           /* with 14 or 15: the allowed interval or collection count */
	uint32_t limit;
	size_t collections;
	size_t commands;
	size_t responses;
} eas_sync_summary;

/* callbacks are copied; options and mem may be NULL.  0, EAS_E_NOMEM or EAS_E_INVALID. */
int eas_sync_parser_new(eas_sync_parser **out, const eas_sync_parser_callbacks *callbacks,
			const eas_sync_parser_options *options, const eas_mem *mem, void *user_data);
void eas_sync_parser_free(eas_sync_parser *p);
/* Ready for a new response, same callbacks and options. */
void eas_sync_parser_reset(eas_sync_parser *p);

/*
 * Feeds the next bytes of the body.  0 when all were consumed, EAS_E_PAUSED
 * (*consumed says how many; feed the rest again), or an error, sticky:
 * EAS_E_MALFORMED (not a Sync response, missing SyncKey/CollectionId/Status/
 * ServerId/ClientId, bad number, unknown Class), EAS_E_UNSUPPORTED, EAS_E_LIMIT
 * (max_item, max_value, an id longer than EAS_SYNC_MAX_ID...), EAS_E_NOMEM,
 * EAS_E_CALLBACK.  consumed may be NULL.
 */
int eas_sync_parser_feed(eas_sync_parser *p, const uint8_t *data, size_t len, size_t *consumed);

/*
 * End of the body: 0 when the response is complete (or was empty: see
 * summary.empty), EAS_E_TRUNCATED, EAS_E_PAUSED (a callback paused while
 * delivering what was pending: call finish again), or the earlier error.
 */
int eas_sync_parser_finish(eas_sync_parser *p);

/* Counts so far; complete after a successful finish.  Valid until reset or free. */
const eas_sync_summary *eas_sync_parser_summary(const eas_sync_parser *p);

/* The first error's description and its byte offset, or NULL. */
const char *eas_sync_parser_error(const eas_sync_parser *p, uint64_t *offset);

#endif
