/*
 * A parsed MIME message (classes/mime.h) as an eas_email (eas/email.h):
 * the fields of an Email item as the companion server stores it.
 *
 *   From, To, Cc, Reply-To, Subject       as parsed (address lists rewritten)
 *   DateReceived                          Date, else the fallback time given
 *   DisplayTo                             the To display names (or addresses), "; "-separated
 *   ThreadTopic                           Thread-Topic, else Subject without Re:/Fwd: prefixes
 *   Importance                            as parsed, else normal
 *   MessageClass IPM.Note, InternetCPID 65001 (every text is UTF-8 now)
 *   ContentClass                          Content-Class, else urn:content-classes:message
 *   Body                                  the HTML body (Type 2), else the text/plain one (Type 1)
 *   NativeBodyType                        2 when there is an HTML body, else 1
 *   Attachments                           name, size, Content-ID, Content-Location, inline,
 *                                         type; Method 5 for embedded messages.  FileReference
 *                                         is left NULL: the store assigns it (set it before
 *                                         eas_email_encode, which requires it).
 *
 * Read, Flag and the rest stay unset: the caller decides them.
 */
#ifndef EAS_SRC_CLASSES_MIME_EMAIL_H
#define EAS_SRC_CLASSES_MIME_EMAIL_H

#include <stdint.h>

#include "classes/mime.h"
#include "eas/email.h"

typedef struct eas_mime_email {
	eas_email email;                   /* points into the message and into this struct */
	eas_email_attachment *attachments; /* attachment_count entries (email.attachments) */
	char date[32];
	char *display_to;
	char *thread_topic;
	eas_mem mem;
} eas_mime_email;

/*
 * Fills *out from m (which must outlive it).  fallback_date: Unix seconds
 * for DateReceived when m has no Date.  mem may be NULL.  0 or EAS_E_NOMEM
 * (then *out owns nothing).
 */
int eas_mime_email_build(eas_mime_email *out, const eas_mime_message *m, int64_t fallback_date, const eas_mem *mem);
/* Frees what a build allocated. */
void eas_mime_email_clear(eas_mime_email *e);

/* Subject without its reply / forward prefixes ("Re: Fwd: x" -> "x"): a pointer into subject. */
const char *eas_mime_thread_topic(const char *subject);

#endif
