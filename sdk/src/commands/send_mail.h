/*
 * SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17, 2.2.1.20,
 * 2.2.1.19) as C structs, both directions, following folder_sync.h.
 *
 * 14.0 and later: a WBXML body in the ComposeMail namespace.
 *
 *   SendMail{ClientId, AccountId? (14.1+), SaveInSentItems?, Mime, rm:TemplateID? (14.1+)}
 *   SmartReply / SmartForward{ClientId, Source{FolderId?, ItemId?, LongId?, InstanceId?},
 *       AccountId? (14.1+), SaveInSentItems?, ReplaceMime?, Mime, rm:TemplateID? (14.1+),
 *       Forwardees?{Forwardee+{Name?, Email}} (SmartForward, 16.0+)}
 *   -> an empty body on success, or <SendMail|SmartReply|SmartForward>{Status}
 *
 * Mime is the RFC 5322 message as OPAQUE bytes.  The encoder takes it at
 * hand (mime/mime_len) or pulls it from a reader in pieces
 * (eas_wbxml_encoder_opaque_begin/_write), so a message with big
 * attachments never sits in memory twice.
 *
 * Before 14.0 the request body is the raw MIME message itself
 * (Content-Type: message/rfc822) and the options travel in the query
 * (SaveInSent=T, CollectionId/ItemId/LongId/Occurrence for SmartReply and
 * SmartForward); there is no body in the response: failures are HTTP
 * statuses.  eas_compose_mail_legacy_query() fills an eas_http_query for
 * that form and eas_compose_mail_legacy_from_query() reads it back on the
 * server.
 */
#ifndef EAS_SRC_COMMANDS_SEND_MAIL_H
#define EAS_SRC_COMMANDS_SEND_MAIL_H

#include <stddef.h>
#include <stdint.h>

#include "eas/http.h"
#include "eas/wbxml.h"
#include "wbxml/tree.h"

typedef enum eas_compose_kind {
	EAS_COMPOSE_SEND_MAIL = 1,
	EAS_COMPOSE_SMART_REPLY = 2,
	EAS_COMPOSE_SMART_FORWARD = 3
} eas_compose_kind;

/* Content-Type of the <= 12.1 request body. */
#define EAS_COMPOSE_LEGACY_CONTENT_TYPE "message/rfc822"

/* Reads up to size bytes of the MIME message into buf; *got 0 only at its end.  0 or a negative error. */
typedef int (*eas_compose_mime_reader)(uint8_t *buf, size_t size, size_t *got, void *user_data);

typedef struct eas_compose_forwardee {
	const char *name;  /* Name (optional) */
	const char *email; /* Email (required) */
} eas_compose_forwardee;

typedef struct eas_compose_mail_request {
	eas_compose_kind kind;
	const char *client_id;     /* ClientId: the client's unique message id (required) */
	const char *account_id;    /* AccountId (14.1+); NULL = the primary account */
	int save_in_sent_items;    /* <SaveInSentItems/> */
	int replace_mime;          /* <ReplaceMime/>: SmartReply/SmartForward only */
	/* Source (SmartReply/SmartForward, required there): FolderId + ItemId, or LongId; InstanceId optional. */
	const char *folder_id, *item_id, *long_id, *instance_id;
	/*
	 * Mime.  Encode: the bytes at hand, or mime_reader with mime_total
	 * bytes.  Decode: the bytes in the tree (mime_len of them).
	 */
	const uint8_t *mime;
	size_t mime_len;
	eas_compose_mime_reader mime_reader;
	uint64_t mime_total;
	void *mime_user_data;
	const char *template_id;   /* rm:TemplateID (14.1+) */
	/* Forwardees (SmartForward, 16.0+): encode list; decode count + node for the iterator. */
	const eas_compose_forwardee *forwardee_list;
	size_t forwardee_count;
	const eas_node *forwardees;
} eas_compose_mail_request;

/*
 * EAS_E_INVALID for an unknown kind, no client id, no Mime (neither bytes
 * nor reader), a Source on SendMail or none on SmartReply/SmartForward
 * (FolderId and ItemId go together; either them or LongId), ReplaceMime
 * or Forwardees where they do not belong, a forwardee without Email, or a
 * reader that delivers fewer bytes than mime_total (found while writing;
 * the document is then unusable).  The encoder's version gate refuses
 * everything before 14.0, AccountId and TemplateID before 14.1 and
 * Forwardees before 16.0 (EAS_E_UNSUPPORTED).
 */
int eas_compose_mail_request_encode(eas_wbxml_encoder *enc, const eas_compose_mail_request *req);
/*
 * The root says which command it is.  EAS_E_MALFORMED (naming the
 * element) for another root, a missing ClientId or Mime, a Source that
 * breaks the rules above, a forwardee without Email.
 */
int eas_compose_mail_request_decode(eas_compose_mail_request *out, const eas_node *root, char *err,
				    size_t err_size);
/* Iterates over the forwardees of a decoded request (start with *cursor NULL; 1, 0 at the end, or EAS_E_MALFORMED). */
int eas_compose_mail_next_forwardee(const eas_compose_mail_request *req, const eas_node **cursor,
				    eas_compose_forwardee *out, char *err, size_t err_size);

typedef struct eas_compose_mail_response {
	eas_compose_kind kind;
	uint32_t status; /* 0: the body was empty, the message went out */
} eas_compose_mail_response;

/* Non-zero when the response needs a body (a failure); success is sent as an empty body. */
int eas_compose_mail_response_has_body(const eas_compose_mail_response *resp);
/* EAS_E_INVALID for status 0 (send no body) or an unknown kind. */
int eas_compose_mail_response_encode(eas_wbxml_encoder *enc, const eas_compose_mail_response *resp);
/*
 * root NULL (an empty body) is success: kind left as given in out->kind
 * (set it to the command sent), status 0.  Otherwise the root names the
 * command and Status is required: EAS_E_MALFORMED when it is missing, not
 * a number, or 0.
 */
int eas_compose_mail_response_decode(eas_compose_mail_response *out, const eas_node *root, char *err,
				     size_t err_size);

/* ---- before 14.0: MIME body plus query ------------------------------------------ */

typedef struct eas_compose_mail_legacy {
	eas_compose_kind kind;
	int save_in_sent;          /* SaveInSent=T */
	/* SmartReply/SmartForward: CollectionId + ItemId, or LongId (12.0+); Occurrence optional. */
	const char *collection_id, *item_id, *long_id, *occurrence;
} eas_compose_mail_legacy;

/*
 * Fills the command and its parameters into q (the caller sets the device,
 * user and version fields; the strings are borrowed).  The body is then
 * the MIME message with Content-Type EAS_COMPOSE_LEGACY_CONTENT_TYPE.
 * EAS_E_INVALID for an unknown kind or SmartReply/SmartForward without
 * CollectionId + ItemId or LongId (or SendMail with them).
 */
int eas_compose_mail_legacy_query(eas_http_query *q, const eas_compose_mail_legacy *m);
/*
 * Server side: reads the legacy form back from a decoded query and the
 * request's Content-Type (parameters allowed, case-insensitive).  The
 * strings point into q.  EAS_E_MALFORMED for another command, another
 * content type, or a SmartReply/SmartForward without its source.
 */
int eas_compose_mail_legacy_from_query(eas_compose_mail_legacy *out, const eas_http_query *q,
				       const char *content_type, char *err, size_t err_size);

#endif
