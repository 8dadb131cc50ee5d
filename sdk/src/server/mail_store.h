/*
 * How mail enters a mailbox of the companion server: a parsed MIME message
 * (classes/mime.h) stored as an Email item, and the local users a message
 * is addressed to.  Used by SendMail / SmartReply / SmartForward
 * (handle_send_mail.c) and by `eas-server deliver` and `eas-server import`
 * (samples/eas-server), so a message looks the same whichever way it came.
 *
 * The item: ApplicationData written by eas_email_encode (14.1 elements)
 * from the eas_mime_email mapping (classes/mime_email.h) with the Read flag
 * and the attachments' FileReferences; the body blob (HTML, else plain
 * text) and the attachment blobs kept separately for truncation and
 * ItemOperations Fetch; the summary (subject, from, date, read, size).  Bcc
 * is never written into an item (the recipients' copies must not show it;
 * the Sent Items copy does not either).  One
 * store transaction (nested in the caller's when one is open), so a Ping
 * watching the folder wakes once, after the commit.
 */
#ifndef EAS_SRC_SERVER_MAIL_STORE_H
#define EAS_SRC_SERVER_MAIL_STORE_H

#include <stdint.h>

#include "classes/mime.h"
#include "server/store.h"

typedef struct eas_srv_mail_options {
	int read;                   /* the Read flag */
	int64_t received;           /* DateReceived when the message has no Date (Unix seconds) */
	const char *origin_device;  /* the device whose action stored it (no echo to it), or NULL */
} eas_srv_mail_options;

/*
 * Stores m in folder_id of user_id; out (EAS_MSTORE_ID_SIZE bytes, may be
 * NULL) gets the new ServerId.  mem may be NULL.  0, EAS_E_NOTFOUND (no
 * such folder for this user), EAS_E_NOMEM, EAS_E_IO, or another store or
 * encoder error (the transaction is then rolled back).
 */
int eas__srv_mail_store(char *out, eas_mstore *store, int64_t user_id, const char *folder_id,
			const eas_mime_message *m, const eas_srv_mail_options *o, const eas_mem *mem);

/*
 * The local user an address belongs to: a user named exactly like the
 * address (case-insensitive, as the store compares names), or, when the
 * address's domain is mail_domain (case-insensitive; NULL = "localhost"), a
 * user named like its local part.  *out = the user id; EAS_E_NOTFOUND when
 * the address is not local.
 */
int eas__srv_mail_find_user(int64_t *out, eas_mstore *store, const char *address, const char *mail_domain);

/* The folder of a default type (EAS_MSTORE_FOLDER_INBOX...) of a user, into out (ID_SIZE). */
int eas__srv_mail_default_folder(char *out, eas_mstore *store, int64_t user_id, uint32_t type);

#endif
