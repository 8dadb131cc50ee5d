/*
 * Streaming WBXML decoder (WBXML 1.3 as profiled by MS-ASWBXML).
 *
 * A byte-driven state machine: every byte of every chunk moves it on, so a
 * document can be fed in any split.  Values are delivered straight from the
 * caller's buffer when they fit in it; only a value that straddles two
 * chunks is gathered in the one piece buffer, allocated with the decoder.
 * Nothing is allocated per token.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "tags.h"

enum state {
	ST_VERSION,      /* header: WBXML version byte */
	ST_PUBLIC_ID,    /* header: mb_u_int32 public id */
	ST_PUBLIC_INDEX, /* header: public id 0 is followed by a string-table index */
	ST_CHARSET,      /* header: mb_u_int32 IANA MIBenum */
	ST_STRTBL_LEN,   /* header: mb_u_int32 string table length */
	ST_STRTBL,       /* skipping the string table */
	ST_BODY,         /* expecting a token */
	ST_SWITCH_PAGE,  /* expecting the page number after SWITCH_PAGE */
	ST_STRING,       /* inside STR_I, until NUL */
	ST_OPAQUE_LEN,   /* mb_u_int32 after OPAQUE */
	ST_OPAQUE,       /* opaque bytes */
	ST_DONE,         /* root element closed */
	ST_ERROR
};

/* Global tokens (WBXML 1.3 section 7.1). */
enum {
	TOK_SWITCH_PAGE = 0x00, TOK_END = 0x01, TOK_ENTITY = 0x02, TOK_STR_I = 0x03,
	TOK_LITERAL = 0x04, TOK_EXT_I_0 = 0x40, TOK_EXT_I_2 = 0x42, TOK_PI = 0x43,
	TOK_LITERAL_C = 0x44, TOK_EXT_T_0 = 0x80, TOK_EXT_T_2 = 0x82, TOK_STR_T = 0x83,
	TOK_LITERAL_A = 0x84, TOK_EXT_0 = 0xC0, TOK_EXT_2 = 0xC2, TOK_OPAQUE = 0xC3,
	TOK_LITERAL_AC = 0xC4
};

#define UTF8_MIBENUM 106
#define STRTBL_MAX (64u * 1024u)

struct eas_wbxml_decoder {
	eas_mem mem;
	eas_wbxml_callbacks cb;
	eas_wbxml_decoder_options opt;
	void *user_data;

	enum state state;
	int result;              /* sticky error, 0 while fine */
	uint64_t offset;         /* document bytes consumed before the current chunk */
	uint64_t err_offset;

	uint32_t mb_value;       /* multi-byte integer being read */
	unsigned mb_bytes;
	uint64_t mb_start;       /* its offset, for messages */

	unsigned page;
	unsigned depth;          /* open elements with content */
	unsigned skip_depth;     /* tolerant mode: open unknown elements being skipped */
	int seen_root;

	uint64_t value_len;      /* string bytes so far, or opaque bytes left */
	uint64_t value_total;    /* opaque declared length */
	size_t buf_len;          /* bytes gathered in buf */

	uint16_t *stack;         /* open tags, max_depth entries */
	uint8_t *buf;            /* piece_size bytes */
	char message[160];
};

/* ---- errors ------------------------------------------------------------ */

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(eas_wbxml_decoder *d, int code, uint64_t at, const char *fmt, ...)
{
	if (d->result)
		return d->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(d->message, sizeof d->message, fmt, ap);
	va_end(ap);
	d->result = code;
	d->err_offset = at;
	d->state = ST_ERROR;
	return code;
}

static const char *page_label(unsigned page)
{
	const char *name = eas_codepage_name(page);
	return name ? name : "unknown";
}

/* ---- creation ---------------------------------------------------------- */

static void apply_defaults(eas_wbxml_decoder_options *o, const eas_wbxml_decoder_options *in)
{
	const eas_wbxml_decoder_options defaults = EAS_WBXML_DECODER_OPTIONS_INIT;
	*o = in ? *in : defaults;
	if (!o->max_depth)
		o->max_depth = defaults.max_depth;
	if (!o->max_string)
		o->max_string = defaults.max_string;
	if (!o->max_opaque)
		o->max_opaque = defaults.max_opaque;
	if (!o->piece_size)
		o->piece_size = defaults.piece_size;
}

int eas_wbxml_decoder_new(eas_wbxml_decoder **out, const eas_wbxml_callbacks *callbacks,
			  const eas_wbxml_decoder_options *options, const eas_mem *mem,
			  void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!callbacks || callbacks->version != EAS_WBXML_CALLBACKS_VERSION)
		return EAS_E_INVALID;
	if (options && options->version != EAS_WBXML_OPTIONS_VERSION)
		return EAS_E_INVALID;

	eas_mem m;
	eas__mem_init(&m, mem);
	eas_wbxml_decoder_options o;
	apply_defaults(&o, options);
	if (o.max_depth > 4096 || o.piece_size > (64u << 20))
		return EAS_E_INVALID;

	/* One block: the struct, the tag stack, the piece buffer. */
	size_t stack_bytes = o.max_depth * sizeof(uint16_t);
	eas_wbxml_decoder *d = eas__malloc(&m, sizeof(*d) + stack_bytes + o.piece_size);
	if (!d)
		return EAS_E_NOMEM;
	memset(d, 0, sizeof(*d));
	d->mem = m;
	d->cb = *callbacks;
	d->opt = o;
	d->user_data = user_data;
	d->stack = (uint16_t *)(d + 1);
	d->buf = (uint8_t *)d->stack + stack_bytes;
	eas_wbxml_decoder_reset(d);
	*out = d;
	return 0;
}

void eas_wbxml_decoder_free(eas_wbxml_decoder *d)
{
	if (d)
		eas__free(&d->mem, d);
}

void eas_wbxml_decoder_reset(eas_wbxml_decoder *d)
{
	if (!d)
		return;
	d->state = ST_VERSION;
	d->result = 0;
	d->offset = d->err_offset = 0;
	d->mb_value = d->mb_bytes = 0;
	d->page = d->depth = d->skip_depth = 0;
	d->seen_root = 0;
	d->value_len = d->value_total = 0;
	d->buf_len = 0;
	d->message[0] = '\0';
}

const char *eas_wbxml_decoder_error(const eas_wbxml_decoder *d, uint64_t *offset)
{
	if (!d || !d->result)
		return NULL;
	if (offset)
		*offset = d->err_offset;
	return d->message;
}

uint64_t eas_wbxml_decoder_offset(const eas_wbxml_decoder *d)
{
	return d ? d->offset : 0;
}

/* ---- callbacks --------------------------------------------------------- */

/* Maps a callback's return value to the decoder's: 0, EAS_E_PAUSED or an error. */
static int callback_result(eas_wbxml_decoder *d, int rc, uint64_t at)
{
	if (rc == 0 || rc == EAS_E_PAUSED)
		return rc;
	return fail(d, EAS_E_CALLBACK, at, "callback aborted with %d (%s)", rc, eas_strerror(rc));
}

static int emit_data(eas_wbxml_decoder *d, eas_wbxml_data_kind kind, const uint8_t *bytes,
		     size_t len, int final, uint64_t at)
{
	if (d->skip_depth || !d->cb.data)
		return 0;
	uint64_t total = kind == EAS_WBXML_OPAQUE ? d->value_total : 0;
	return callback_result(d, d->cb.data(kind, bytes, len, final, total, d->user_data), at);
}

/* ---- tokens ------------------------------------------------------------ */

/*
 * Reads one byte of a multi-byte integer.  Returns 1 when the integer is
 * complete (in d->mb_value), 0 when more bytes are needed, or an error.
 */
static int mb_byte(eas_wbxml_decoder *d, uint8_t byte, uint64_t at, const char *what)
{
	if (d->mb_bytes == 0) {
		d->mb_value = 0;
		d->mb_start = at;
	}
	/* 32 bits take at most 5 groups of 7, and the first of 5 holds 4 bits. */
	if (d->mb_bytes == 4 && (d->mb_value >> 25) != 0)
		return fail(d, EAS_E_MALFORMED, d->mb_start, "%s: multi-byte integer exceeds 32 bits", what);
	if (d->mb_bytes == 5)
		return fail(d, EAS_E_MALFORMED, d->mb_start, "%s: multi-byte integer longer than 5 bytes", what);
	d->mb_value = (d->mb_value << 7) | (byte & 0x7Fu);
	d->mb_bytes++;
	if (byte & 0x80)
		return 0;
	d->mb_bytes = 0;
	return 1;
}

static int start_tag(eas_wbxml_decoder *d, uint8_t byte, uint64_t at)
{
	unsigned token = byte & 0x3Fu;
	int has_content = (byte & 0x40) != 0;

	if (byte & 0x80)
		return fail(d, EAS_E_UNSUPPORTED, at,
			    "tag 0x%02X has attributes, which ActiveSync never uses", byte);
	if (d->seen_root && d->depth == 0)
		return fail(d, EAS_E_MALFORMED, at, "trailing data after the root element");

	int known = d->page < EAS__PAGES && eas__tag_versions[d->page][token] != 0;
	if (!known && !d->skip_depth) {
		if (!d->opt.tolerant)
			return fail(d, EAS_E_UNSUPPORTED, at, "unknown token 0x%02X on code page %u (%s)",
				    token, d->page, page_label(d->page));
		if (!d->seen_root)
			return fail(d, EAS_E_UNSUPPORTED, at, "unknown root element 0x%02X on code page %u",
				    token, d->page);
	}
	if (has_content && d->depth >= d->opt.max_depth)
		return fail(d, EAS_E_LIMIT, at, "elements nested deeper than %u", d->opt.max_depth);

	eas_tag tag = (eas_tag)((d->page << 8) | token);
	d->seen_root = 1;
	int skipping_this = d->skip_depth || !known;
	if (has_content) {
		d->stack[d->depth++] = (uint16_t)tag;
		if (skipping_this)
			d->skip_depth++;
	} else if (d->depth == 0) {
		d->state = ST_DONE; /* an empty root: the document is complete */
	}
	if (skipping_this || !d->cb.start_tag)
		return 0;
	return callback_result(d, d->cb.start_tag(tag, has_content, d->user_data), at);
}

static int end_tag(eas_wbxml_decoder *d, uint64_t at)
{
	if (d->depth == 0)
		return fail(d, EAS_E_MALFORMED, at, "END without an open element");
	eas_tag tag = (eas_tag)d->stack[--d->depth];
	if (d->depth == 0)
		d->state = ST_DONE;
	if (d->skip_depth) {
		d->skip_depth--;
		return 0;
	}
	if (!d->cb.end_tag)
		return 0;
	return callback_result(d, d->cb.end_tag(tag, d->user_data), at);
}

/* A global token or a tag in the body.  Returns 0, EAS_E_PAUSED or an error. */
static int body_byte(eas_wbxml_decoder *d, uint8_t byte, uint64_t at)
{
	switch (byte) {
	case TOK_SWITCH_PAGE:
		d->state = ST_SWITCH_PAGE;
		return 0;
	case TOK_END:
		return end_tag(d, at);
	case TOK_STR_I:
	case TOK_OPAQUE:
		if (d->depth == 0)
			return fail(d, EAS_E_MALFORMED, at, "%s outside any element",
				    byte == TOK_STR_I ? "string" : "opaque data");
		d->buf_len = 0;
		d->value_len = 0;
		d->state = byte == TOK_STR_I ? ST_STRING : ST_OPAQUE_LEN;
		return 0;
	case TOK_STR_T:
		return fail(d, EAS_E_UNSUPPORTED, at, "string table reference (STR_T), not used by ActiveSync");
	case TOK_ENTITY:
		return fail(d, EAS_E_UNSUPPORTED, at, "ENTITY token, not used by ActiveSync");
	case TOK_PI:
		return fail(d, EAS_E_UNSUPPORTED, at, "processing instruction, not used by ActiveSync");
	case TOK_LITERAL:
	case TOK_LITERAL_C:
	case TOK_LITERAL_A:
	case TOK_LITERAL_AC:
		return fail(d, EAS_E_UNSUPPORTED, at, "LITERAL tag 0x%02X (string table), not used by ActiveSync", byte);
	default:
		break;
	}
	if ((byte >= TOK_EXT_I_0 && byte <= TOK_EXT_I_2) || (byte >= TOK_EXT_T_0 && byte <= TOK_EXT_T_2) ||
	    (byte >= TOK_EXT_0 && byte <= TOK_EXT_2))
		return fail(d, EAS_E_UNSUPPORTED, at, "extension token 0x%02X, not used by ActiveSync", byte);
	return start_tag(d, byte, at);
}

/*
 * String bytes from p (avail bytes).  Gathers up to piece_size bytes per
 * event; delivers straight from the input when nothing is gathered yet.
 * *used gets the bytes consumed (including the terminating NUL).
 */
static int string_bytes(eas_wbxml_decoder *d, const uint8_t *p, size_t avail, size_t *used, uint64_t at)
{
	size_t room = d->opt.piece_size - d->buf_len;
	size_t scan = avail < room + 1 ? avail : room + 1;
	const uint8_t *nul = memchr(p, 0, scan);
	/* A full piece goes out unfinished only once a further non-NUL byte is seen. */
	int piece_full = !nul && scan > room;
	size_t take = nul ? (size_t)(nul - p) : (piece_full ? room : scan);

	/* Offsets below name bytes of the value, never the chunk edges: the
	 * same document gives the same offsets however it is split. */
	if (d->value_len + take > d->opt.max_string)
		return fail(d, EAS_E_LIMIT, at + (d->opt.max_string - d->value_len),
			    "string longer than %llu bytes", (unsigned long long)d->opt.max_string);
	d->value_len += take;
	*used = take + (nul ? 1 : 0);
	at += take; /* where the piece ends, for a callback's error */

	if (nul || piece_full) {
		int final = nul != NULL;
		if (nul)
			d->state = ST_BODY;
		if (d->buf_len == 0)
			return emit_data(d, EAS_WBXML_STRING, p, take, final, at);
		memcpy(d->buf + d->buf_len, p, take);
		size_t n = d->buf_len + take;
		d->buf_len = 0;
		return emit_data(d, EAS_WBXML_STRING, d->buf, n, final, at);
	}
	memcpy(d->buf + d->buf_len, p, take);
	d->buf_len += take;
	return 0;
}

/* Opaque bytes; d->value_len counts what is still to come. */
static int opaque_bytes(eas_wbxml_decoder *d, const uint8_t *p, size_t avail, size_t *used, uint64_t at)
{
	size_t room = d->opt.piece_size - d->buf_len;
	size_t take = avail < room ? avail : room;
	if (take > d->value_len)
		take = (size_t)d->value_len;
	d->value_len -= take;
	*used = take;
	at += take; /* where the piece ends, for a callback's error */
	int final = d->value_len == 0;
	if (final)
		d->state = ST_BODY;
	if (final || take == room) {
		if (d->buf_len == 0)
			return emit_data(d, EAS_WBXML_OPAQUE, p, take, final, at);
		memcpy(d->buf + d->buf_len, p, take);
		size_t n = d->buf_len + take;
		d->buf_len = 0;
		return emit_data(d, EAS_WBXML_OPAQUE, d->buf, n, final, at);
	}
	memcpy(d->buf + d->buf_len, p, take);
	d->buf_len += take;
	return 0;
}

/* Header fields, one byte at a time. */
static int header_byte(eas_wbxml_decoder *d, uint8_t byte, uint64_t at)
{
	int rc;
	switch (d->state) {
	case ST_VERSION:
		/* MS-ASWBXML sends 1.3 (0x03); 1.1 and 1.2 documents decode the same way. */
		if (byte < 0x01 || byte > 0x03)
			return fail(d, EAS_E_MALFORMED, at, "bad WBXML version byte 0x%02X (expected 0x03)", byte);
		d->state = ST_PUBLIC_ID;
		return 0;
	case ST_PUBLIC_ID:
		if ((rc = mb_byte(d, byte, at, "public identifier")) <= 0)
			return rc;
		d->state = d->mb_value == 0 ? ST_PUBLIC_INDEX : ST_CHARSET;
		return 0;
	case ST_PUBLIC_INDEX:
		if ((rc = mb_byte(d, byte, at, "public identifier index")) <= 0)
			return rc;
		d->state = ST_CHARSET;
		return 0;
	case ST_CHARSET:
		if ((rc = mb_byte(d, byte, at, "charset")) <= 0)
			return rc;
		if (d->mb_value != UTF8_MIBENUM)
			return fail(d, EAS_E_UNSUPPORTED, d->mb_start,
				    "charset MIBenum %u; ActiveSync uses UTF-8 (106)", (unsigned)d->mb_value);
		d->state = ST_STRTBL_LEN;
		return 0;
	case ST_STRTBL_LEN:
		if ((rc = mb_byte(d, byte, at, "string table length")) <= 0)
			return rc;
		/* EAS never uses the table; tolerate one (ignored) but bound it. */
		if (d->mb_value > STRTBL_MAX)
			return fail(d, EAS_E_LIMIT, d->mb_start, "string table of %u bytes", (unsigned)d->mb_value);
		d->value_len = d->mb_value;
		d->state = d->value_len ? ST_STRTBL : ST_BODY;
		return 0;
	default:
		return fail(d, EAS_E_STATE, at, "internal: header state %d", (int)d->state);
	}
}

int eas_wbxml_decoder_feed(eas_wbxml_decoder *d, const uint8_t *data, size_t len, size_t *consumed)
{
	if (consumed)
		*consumed = 0;
	if (!d || (!data && len))
		return EAS_E_INVALID;
	if (d->result)
		return d->result;
	if (len == 0)
		return 0; /* also spares NULL + 0 arithmetic */

	size_t allowed = len;
	if (d->opt.max_total && d->offset + len > d->opt.max_total)
		allowed = d->offset >= d->opt.max_total ? 0 : (size_t)(d->opt.max_total - d->offset);

	const uint8_t *p = data, *end = data + allowed;
	int rc = 0;
	while (p < end && rc == 0) {
		uint64_t at = d->offset + (uint64_t)(p - data);
		size_t used = 1;
		switch (d->state) {
		case ST_BODY:
			rc = body_byte(d, *p, at);
			break;
		case ST_SWITCH_PAGE:
			if (*p >= EAS__PAGES && !d->opt.tolerant) {
				rc = fail(d, EAS_E_UNSUPPORTED, at, "unknown code page %u", *p);
				break;
			}
			d->page = *p;
			d->state = ST_BODY;
			break;
		case ST_STRING:
			rc = string_bytes(d, p, (size_t)(end - p), &used, at);
			break;
		case ST_OPAQUE_LEN:
			rc = mb_byte(d, *p, at, "opaque length");
			if (rc == 1) {
				rc = 0;
				if (d->mb_value > d->opt.max_opaque) {
					rc = fail(d, EAS_E_LIMIT, d->mb_start, "opaque data of %u bytes exceeds the limit of %llu",
						  (unsigned)d->mb_value, (unsigned long long)d->opt.max_opaque);
					break;
				}
				d->value_total = d->value_len = d->mb_value;
				d->state = ST_OPAQUE;
				if (d->value_len == 0) {
					d->state = ST_BODY;
					rc = emit_data(d, EAS_WBXML_OPAQUE, p, 0, 1, at);
				}
			}
			break;
		case ST_OPAQUE:
			rc = opaque_bytes(d, p, (size_t)(end - p), &used, at);
			break;
		case ST_STRTBL:
			used = (size_t)(end - p) < d->value_len ? (size_t)(end - p) : (size_t)d->value_len;
			d->value_len -= used;
			if (d->value_len == 0)
				d->state = ST_BODY;
			break;
		case ST_DONE:
			rc = fail(d, EAS_E_MALFORMED, at, "trailing data after the root element");
			break;
		case ST_ERROR:
			rc = d->result;
			break;
		default:
			rc = header_byte(d, *p, at);
			break;
		}
		if (rc == 0 || rc == EAS_E_PAUSED)
			p += used;
	}
	d->offset += (uint64_t)(p - data);
	if (consumed)
		*consumed = (size_t)(p - data);
	if (rc == 0 && allowed < len)
		rc = fail(d, EAS_E_LIMIT, d->offset, "document larger than %llu bytes",
			  (unsigned long long)d->opt.max_total);
	return rc;
}

int eas_wbxml_decoder_finish(eas_wbxml_decoder *d)
{
	if (!d)
		return EAS_E_INVALID;
	if (d->result)
		return d->result;
	const char *what = NULL;
	switch (d->state) {
	case ST_DONE:
		return 0;
	case ST_VERSION:
		what = d->offset ? "header" : "empty document";
		break;
	case ST_PUBLIC_ID:
	case ST_PUBLIC_INDEX:
	case ST_CHARSET:
	case ST_STRTBL_LEN:
		what = d->mb_bytes ? "multi-byte integer in the header" : "header";
		break;
	case ST_STRTBL:
		what = "string table";
		break;
	case ST_BODY:
		what = d->seen_root ? "element not closed" : "no root element";
		break;
	case ST_SWITCH_PAGE:
		what = "SWITCH_PAGE without page number";
		break;
	case ST_STRING:
		what = "string without terminating NUL";
		break;
	case ST_OPAQUE_LEN:
		what = "multi-byte opaque length";
		break;
	case ST_OPAQUE:
		what = "opaque data";
		break;
	default:
		what = "document";
		break;
	}
	if (d->state == ST_BODY && d->seen_root) {
		unsigned tag = d->stack[d->depth - 1];
		const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
		return fail(d, EAS_E_TRUNCATED, d->offset,
			    "truncated: %u element(s) still open, innermost %s:%s", d->depth,
			    page_label(EAS_TAG_PAGE(tag)), name ? name : "(unknown)");
	}
	return fail(d, EAS_E_TRUNCATED, d->offset, "truncated: %s", what);
}
