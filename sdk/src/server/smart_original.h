/*
 * SmartReply and SmartForward without ReplaceMime (MS-ASCMD 2.2.1.19,
 * 2.2.1.20): the server adds the original message to what the client
 * composed.  Internal to sdk/src/server (handle_send_mail.c).
 *
 *   text body   "-----Original Message-----", From / Sent / To / Cc /
 *               Subject of the original, a blank line and its body (plain
 *               text; an HTML original is turned into text)
 *   HTML body   the same block as HTML (a rule, the fields, the original
 *               HTML, or its text in <pre>), before </body> when there is one
 *   forward     also every attachment of the original (up to a total cap;
 *               a note in the log beyond it)
 *
 * With ReplaceMime the client's MIME is the whole message and none of this
 * happens.
 */
#ifndef EAS_SRC_SERVER_SMART_ORIGINAL_H
#define EAS_SRC_SERVER_SMART_ORIGINAL_H

#include "classes/mime.h"
#include "server/handler.h"

/* Attachment bytes a forward copies from the original at most. */
#define EAS_SRV_FORWARD_ATTACH_MAX (32u << 20)
/* Original bodies larger than this are left out (with a line saying so). */
#define EAS_SRV_ORIGINAL_BODY_MAX (16u << 20)

/*
 * Adds the original item orig (loaded with EAS_MSTORE_GET_BODY and
 * EAS_MSTORE_GET_ATTACHMENTS) to m.  forward: SmartForward (attachments
 * too).  0, EAS_E_NOMEM, or a store error.
 */
int eas__srv_add_original(eas_srv_ctx *c, eas_mime_message *m, const eas_mstore_item *orig, int forward);

#endif
