/*
 * What the MIME parser's files share (mime.c, mime_codec.c, mime_words.c,
 * mime_header.c, mime_addr.c, mime_date.c).  Internal to sdk/src/classes.
 */
#ifndef EAS_SRC_CLASSES_MIME_INTERNAL_H
#define EAS_SRC_CLASSES_MIME_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "classes/mime.h"
#include "common/buf.h"

/* ---- mime_codec.c: transfer encodings and charsets ---- */

/*
 * Base64 as mail software writes it: characters outside the alphabet
 * (line breaks, stray bytes) are skipped, decoding stops at '='.  Appends
 * to out; *bad (may be NULL) counts skipped characters that were not
 * whitespace.
 */
int eas__mime_base64(eas_buf *out, const uint8_t *in, size_t len, size_t *bad);
/*
 * Quoted-printable (RFC 2045 6.7): =XX (either case), soft line breaks
 * ("=" at a line end, trailing blanks allowed), trailing blanks of lines
 * dropped, a broken "=" kept as it is.  q_mode: the RFC 2047 "Q" form
 * ('_' is a space, no line structure).  Appends to out.
 */
int eas__mime_qp(eas_buf *out, const uint8_t *in, size_t len, int q_mode);

/* What eas__mime_to_utf8 did with a charset. */
enum {
	EAS_MIME_CS_UTF8 = 0,    /* UTF-8 / US-ASCII: passed (U+FFFD for invalid sequences) */
	EAS_MIME_CS_CONVERTED,   /* ISO-8859-1 / Windows-1252 converted */
	EAS_MIME_CS_GUESSED,     /* no or unknown-8bit charset: UTF-8 if valid, else Windows-1252 */
	EAS_MIME_CS_KEPT         /* another charset: bytes kept (U+FFFD for non-UTF-8) */
};
/*
 * Appends in[0..len) to out as UTF-8 without NUL bytes (NUL becomes
 * U+FFFD).  charset: the label (any case, quotes and blanks tolerated),
 * NULL or "" = none.  Returns EAS_MIME_CS_* (>= 0) or a negative error.
 */
int eas__mime_to_utf8(eas_buf *out, const uint8_t *in, size_t len, const char *charset, size_t charset_len);
/* 1 when s[0..n) is valid UTF-8 without NUL. */
int eas__mime_utf8_valid(const uint8_t *s, size_t n);

/* ---- mime_words.c: RFC 2047 ---- */

/*
 * Decodes a header value: encoded words (=?cs?B|Q?..?=, adjacent ones
 * joined with the blanks between them dropped), raw 8-bit text as
 * eas__mime_to_utf8 with no charset, folding line breaks removed.  Appends
 * to out.  *kept_charset (may be NULL) is set when a word's charset was
 * kept unconverted.
 */
int eas__mime_decode_words(eas_buf *out, const char *in, size_t len, int *kept_charset);

/* ---- mime_addr.c ---- */

/*
 * Rewrites the address list raw[0..len) as "Name" <addr>, ... (display
 * names decoded, quoted when they hold specials), appended to out.
 * *count (may be NULL) = the mailboxes written.
 */
int eas__mime_address_list(eas_buf *out, const char *raw, size_t len, size_t *count);

/* ---- mime_header.c: fields and parameters ---- */

typedef struct eas__mime_field {
	const char *name;
	size_t name_len;
	const char *value;  /* raw: after the colon, folded, up to (not including) the line end */
	size_t value_len;
} eas__mime_field;

/* Reading the header section of an entity (the whole message or one part). */
typedef struct eas__mime_hdr_reader {
	const char *p, *end;
	int done;
	size_t count;  /* fields read so far */
} eas__mime_hdr_reader;

/*
 * The next field.  1 with *f filled; 0 at the end of the header section
 * (r->p then points at the body: after the blank line, or at a line that
 * is not a field, or at the end); EAS_E_LIMIT when a field is longer than
 * max_field.  A first line "From " (mbox) is skipped.
 */
int eas__mime_next_field(eas__mime_hdr_reader *r, eas__mime_field *f, size_t max_field);

/* 1 when the field is called name (ASCII case-insensitive). */
int eas__mime_field_is(const eas__mime_field *f, const char *name);

/* A Content-Type / Content-Disposition value: the token before ';' and its parameters. */
typedef struct eas__mime_ctype {
	char type[128];     /* "text/plain" / "attachment", lower case, "" when missing or bad */
	const char *params; /* the raw text after the first ';' (or NULL) */
	size_t params_len;
} eas__mime_ctype;

void eas__mime_ctype_parse(eas__mime_ctype *out, const char *value, size_t len);

/*
 * The value of parameter `name` (ASCII case-insensitive) in params, as
 * UTF-8 appended to out: quoted strings unquoted, RFC 2231 extended values
 * (name*=charset'lang'%XX and name*0, name*1*... continuations) decoded,
 * RFC 2047 words inside a plain value decoded too (common in names).
 * Returns 1 when found, 0 when not, or a negative error.
 */
int eas__mime_param(eas_buf *out, const char *params, size_t len, const char *name);

/* ASCII helpers. */
int eas__mime_lower(int c);
int eas__mime_ieq_n(const char *a, size_t an, const char *b);

#endif
