/*
 * A careful parser for Internet messages (RFC 5322 with MIME: RFC 2045-2047,
 * 2183, 2231), for the companion server's delivery, import and SendMail:
 * one message in memory in, the fields an Email item needs out.
 *
 *   - headers: unfolded; RFC 2047 encoded words decoded (adjacent words
 *     joined); raw 8-bit text taken as UTF-8 when it is valid UTF-8, else as
 *     Windows-1252; address lists rewritten as "Name" <addr>, ... with the
 *     display names decoded;
 *   - Date (RFC 5322, obsolete zones and two-digit years too) as Unix time;
 *   - bodies: base64 and quoted-printable decoded; charsets: UTF-8 and
 *     US-ASCII pass through (invalid sequences become U+FFFD),
 *     ISO-8859-1 and Windows-1252 are converted (ISO-8859-1 read as
 *     Windows-1252, as the WHATWG Encoding standard does), any other charset
 *     is kept as it is (with U+FFFD for what is not UTF-8) and a note says so;
 *   - structure: multipart parts split on its boundary, nested up to
 *     max_depth (a deeper multipart becomes an attachment); the first
 *     text/plain and text/html that are not attachments are the bodies
 *     (further inline text/plain parts outside multipart/alternative are
 *     appended to the text), everything else is an attachment with its
 *     name (RFC 2231 / RFC 2047 decoded), type, Content-ID, Content-Location
 *     and inline flag; message/rfc822 parts are kept whole as embedded
 *     messages.
 *
 * Bad input is tolerated where mail software usually tolerates it (a
 * missing closing boundary, a bad base64 character, an unknown transfer
 * encoding: each leaves a note); EAS_E_MALFORMED only when the text is not
 * a message at all (empty, or its first line is not a header field).  Every
 * size is capped (eas_mime_limits): past a cap the parse fails with
 * EAS_E_LIMIT.  Text never contains a NUL byte.
 */
#ifndef EAS_SRC_CLASSES_MIME_H
#define EAS_SRC_CLASSES_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#define EAS_MIME_DEFAULT_MAX_SIZE (32u << 20)   /* bytes of the whole message */
#define EAS_MIME_DEFAULT_MAX_HEADERS 2000u      /* header fields, all parts together */
#define EAS_MIME_DEFAULT_MAX_FIELD (64u << 10)  /* bytes of one (folded) header field */
#define EAS_MIME_DEFAULT_MAX_DEPTH 16u          /* multipart nesting */
#define EAS_MIME_DEFAULT_MAX_PARTS 1000u        /* body parts, all levels together */

/* Caps; 0 = the default. */
typedef struct eas_mime_limits {
	size_t max_size;
	size_t max_headers;
	size_t max_field;
	unsigned max_depth;
	size_t max_parts;
} eas_mime_limits;

#define EAS_MIME_LIMITS_INIT { 0, 0, 0, 0, 0 }

typedef struct eas_mime_attachment {
	char *name;              /* UTF-8, never NULL (a name is made up when the part has none) */
	char *content_type;      /* "type/subtype", lower case */
	char *content_id;        /* without the <>, or NULL */
	char *content_location;  /* or NULL */
	int is_inline;           /* Content-Disposition inline, or a Content-ID part of multipart/related */
	int is_message;          /* message/rfc822 kept whole (an embedded message) */
	uint8_t *data;           /* decoded bytes (NULL when len is 0) */
	size_t len;
} eas_mime_attachment;

/* Room for the parser's notes (one per line, truncated when full). */
#define EAS_MIME_NOTES_SIZE 512

/*
 * A parsed message.  Every string is UTF-8 without NUL bytes, allocated with
 * mem, or NULL when the message has no such field.  Callers may replace a
 * field with eas_mime_set() and add attachments with
 * eas_mime_add_attachment(); eas_mime_message_clear() frees everything.
 */
typedef struct eas_mime_message {
	char *from, *sender, *reply_to;  /* address lists, "Name" <addr>, ... */
	char *to, *cc, *bcc;
	char *subject;
	char *message_id;                /* without the <> */
	char *in_reply_to, *references;  /* as they came (unfolded) */
	char *content_class;             /* Content-Class */
	char *thread_topic;              /* Thread-Topic */
	int has_date;
	int64_t date;                    /* Date as Unix seconds */
	int has_importance;
	uint32_t importance;             /* 0 low, 1 normal, 2 high (Importance, X-Priority, Priority) */
	char *text;                      /* text/plain body */
	size_t text_len;
	char *html;                      /* text/html body */
	size_t html_len;
	eas_mime_attachment *attachments;
	size_t attachment_count;
	size_t size;                     /* bytes of the message as parsed */
	size_t note_count;
	char notes[EAS_MIME_NOTES_SIZE]; /* "; "-separated remarks (charsets kept, repairs made) */
	eas_mem mem;
	size_t attachment_cap;           /* private */
} eas_mime_message;

/*
 * Parses data[0..len) into *out (initialised here; clear it with
 * eas_mime_message_clear() whatever the result).  limits and mem may be
 * NULL.  Returns 0, EAS_E_MALFORMED (not a message; err says why),
 * EAS_E_LIMIT (a cap; err says which), EAS_E_NOMEM or EAS_E_INVALID.
 */
int eas_mime_parse(eas_mime_message *out, const uint8_t *data, size_t len, const eas_mime_limits *limits,
		   const eas_mem *mem, char *err, size_t err_size);

/* Frees what the message owns and zeroes it (its mem is kept). */
void eas_mime_message_clear(eas_mime_message *m);

/* Replaces *field (one of m's strings) with a copy of value[0..len) (NULL: clears it). */
int eas_mime_set(eas_mime_message *m, char **field, const char *value, size_t len);
/* Appends s[0..n) to a body (m->text / m->html with its length). */
int eas_mime_append(eas_mime_message *m, char **field, size_t *field_len, const char *s, size_t n);
/* Adds a copy of a (name required; the strings and data are copied). */
int eas_mime_add_attachment(eas_mime_message *m, const eas_mime_attachment *a);
/* Adds a note (truncated when the notes are full). */
void eas_mime_note(eas_mime_message *m, const char *note);

/* ---- addresses (mime_addr.c) --------------------------------------------------- */

#define EAS_MIME_ADDR_MAX 320
#define EAS_MIME_NAME_MAX 256

typedef struct eas_mime_address {
	char addr[EAS_MIME_ADDR_MAX + 1];  /* addr-spec, e.g. "bob@example.test" (may lack '@') */
	char name[EAS_MIME_NAME_MAX + 1];  /* display name, "" when none (truncated when longer) */
} eas_mime_address;

/*
 * Walks an address list (a header value: mailboxes, "Name" <addr>, groups,
 * comments).  Start with *cursor = list; returns 1 with *out filled, 0 at
 * the end.  Entries with an empty address are skipped; an address longer
 * than EAS_MIME_ADDR_MAX is skipped too.
 */
int eas_mime_address_next(const char **cursor, eas_mime_address *out);

/* ---- dates (mime_date.c) --------------------------------------------------------- */

/* An RFC 5322 date-time into Unix seconds.  0, or EAS_E_MALFORMED. */
int eas_mime_date_parse(int64_t *out, const char *text, size_t len);
/* Unix seconds as an EAS date, "2024-03-01T08:30:00.000Z" (out: at least 25 bytes). */
void eas_mime_date_format(char *out, size_t size, int64_t t);

#endif
