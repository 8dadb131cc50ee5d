/*
 * WBXML -> XML.  A decoder whose callbacks write XML text into a fixed
 * output buffer that drains into the caller's sink.  Nothing grows with the
 * document: the per-level code page stack is sized by max_depth at creation.
 */
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "eas/wbxml_xml.h"

#define OUT_BUF 4096
#define MAX_INDENT 16

/* Where the writer stands, for indentation. */
enum pos {
	POS_START,       /* nothing written yet */
	POS_OPENED,      /* just wrote <X ...> of an element with content */
	POS_TEXT,        /* wrote text inside the innermost element */
	POS_AFTER_CHILD  /* a child element was closed (line ended) */
};

struct eas_wbxml_to_xml {
	eas_mem mem;
	eas_xml_sink sink;
	void *user_data;
	eas_wbxml_to_xml_options opt;
	eas_wbxml_decoder *dec;

	int result;            /* sticky error */
	int own_error;         /* the error is ours (sink), not the decoder's */
	uint64_t err_offset;
	char message[96];

	enum pos pos;
	unsigned depth;        /* open elements with content */
	uint8_t *pages;        /* code page of each open element, max_depth entries */

	/* Partial UTF-8 sequence carried between string pieces. */
	uint8_t u8[4];
	unsigned u8_len, u8_need;
	/* Opaque bytes carried between pieces for base64 (0-2). */
	uint8_t b64[3];
	unsigned b64_len;
	int opaque_shown;      /* length mode: placeholder already written for this value */

	size_t out_len;
	char out[OUT_BUF];
};

/* ---- binary elements -------------------------------------------------------- */

static const struct {
	const char *page;
	const char *name;
} binary_elements[] = {
	{ "ComposeMail", "Mime" },
	{ "Email2", "ConversationId" },
	{ "Email2", "ConversationIndex" },
	{ "ItemOperations", "ConversationId" }, /* MS-ASCON 2.2.2.3.1 */
	{ "Search", "ConversationId" },         /* MS-ASCON 2.2.2.3.2 */
	{ "GAL", "Data" },
	{ "AirSyncBase", "Content" },
};

int eas_wbxml_is_binary_element(eas_tag tag)
{
	const char *page = eas_codepage_name(EAS_TAG_PAGE(tag));
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), (unsigned)tag & 0xFFu);
	if (!page || !name)
		return 0;
	for (size_t i = 0; i < sizeof binary_elements / sizeof binary_elements[0]; i++)
		if (strcmp(binary_elements[i].page, page) == 0 && strcmp(binary_elements[i].name, name) == 0)
			return 1;
	return 0;
}

/* ---- output ----------------------------------------------------------------- */

static int sink_failed(eas_wbxml_to_xml *c)
{
	if (!c->result) {
		c->result = EAS_E_IO;
		c->own_error = 1;
		c->err_offset = eas_wbxml_decoder_offset(c->dec);
		snprintf(c->message, sizeof c->message, "the XML output sink failed");
	}
	return c->result;
}

static int flush(eas_wbxml_to_xml *c)
{
	if (c->out_len == 0)
		return 0;
	if (c->sink(c->out, c->out_len, c->user_data) != 0)
		return sink_failed(c);
	c->out_len = 0;
	return 0;
}

static int put(eas_wbxml_to_xml *c, const char *s, size_t n)
{
	while (n > 0) {
		if (c->out_len == OUT_BUF && flush(c) != 0)
			return c->result;
		size_t take = OUT_BUF - c->out_len < n ? OUT_BUF - c->out_len : n;
		memcpy(c->out + c->out_len, s, take);
		c->out_len += take;
		s += take;
		n -= take;
	}
	return 0;
}

static int puts_(eas_wbxml_to_xml *c, const char *s)
{
	return put(c, s, strlen(s));
}

static int newline_indent(eas_wbxml_to_xml *c, unsigned level)
{
	static const char spaces[MAX_INDENT * 4 + 1] =
		"                                                                ";
	if (c->opt.compact)
		return 0;
	int rc = put(c, "\n", 1);
	size_t n = (size_t)level * c->opt.indent;
	while (rc == 0 && n > 0) {
		size_t take = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
		rc = put(c, spaces, take);
		n -= take;
	}
	return rc;
}

/* ---- text ------------------------------------------------------------------- */

static const char replacement[] = "\xEF\xBF\xBD"; /* U+FFFD */

/* Writes one complete, valid UTF-8 character (1-4 bytes), escaped. */
static int put_char(eas_wbxml_to_xml *c, const uint8_t *s, size_t n)
{
	if (n == 1) {
		switch (s[0]) {
		case '&': return puts_(c, "&amp;");
		case '<': return puts_(c, "&lt;");
		case '>': return puts_(c, "&gt;");
		case '\r': return puts_(c, "&#13;");
		case '\t':
		case '\n': return put(c, (const char *)s, 1);
		default:
			if (s[0] < 0x20)
				return puts_(c, replacement);
			return put(c, (const char *)s, 1);
		}
	}
	/* U+FFFE and U+FFFF are not XML characters. */
	if (n == 3 && s[0] == 0xEF && s[1] == 0xBF && (s[2] == 0xBE || s[2] == 0xBF))
		return puts_(c, replacement);
	return put(c, (const char *)s, n);
}

/* Bytes a lead byte announces (0 = invalid lead). */
static unsigned utf8_len(uint8_t b)
{
	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF)
		return 3;
	if (b >= 0xF0 && b <= 0xF4)
		return 4;
	return 0;
}

/* Is b acceptable as continuation byte number idx (1..3) after lead? */
static int utf8_cont_ok(uint8_t lead, unsigned idx, uint8_t b)
{
	if ((b & 0xC0) != 0x80)
		return 0;
	if (idx != 1)
		return 1;
	/* Second byte ranges that exclude overlongs, surrogates, > U+10FFFF. */
	switch (lead) {
	case 0xE0: return b >= 0xA0;
	case 0xED: return b <= 0x9F;
	case 0xF0: return b >= 0x90;
	case 0xF4: return b <= 0x8F;
	default: return 1;
	}
}

/* String bytes: validated and escaped, with a sequence carried across pieces. */
static int write_string(eas_wbxml_to_xml *c, const uint8_t *p, size_t len, int final)
{
	int rc = 0;
	size_t i = 0;
	while (rc == 0 && i < len) {
		uint8_t b = p[i];
		if (c->u8_len == 0) {
			/* Fast path: a run of plain ASCII needing no escape. */
			size_t j = i;
			while (j < len && p[j] >= 0x20 && p[j] < 0x80 && p[j] != '&' && p[j] != '<' && p[j] != '>')
				j++;
			if (j > i) {
				rc = put(c, (const char *)p + i, j - i);
				i = j;
				continue;
			}
			unsigned need = utf8_len(b);
			if (need == 0) {
				rc = puts_(c, replacement);
			} else if (need == 1) {
				rc = put_char(c, &b, 1);
			} else {
				c->u8[0] = b;
				c->u8_len = 1;
				c->u8_need = need;
			}
			i++;
			continue;
		}
		if (!utf8_cont_ok(c->u8[0], c->u8_len, b)) {
			/* Broken sequence: one replacement, then look at b afresh. */
			c->u8_len = 0;
			rc = puts_(c, replacement);
			continue;
		}
		c->u8[c->u8_len++] = b;
		i++;
		if (c->u8_len == c->u8_need) {
			rc = put_char(c, c->u8, c->u8_len);
			c->u8_len = 0;
		}
	}
	if (rc == 0 && final && c->u8_len) {
		c->u8_len = 0;
		rc = puts_(c, replacement);
	}
	return rc;
}

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void b64_quad(const uint8_t *in, size_t n, char out[4])
{
	uint32_t v = (uint32_t)in[0] << 16 | (n > 1 ? (uint32_t)in[1] << 8 : 0) | (n > 2 ? in[2] : 0);
	out[0] = b64_alphabet[(v >> 18) & 63];
	out[1] = b64_alphabet[(v >> 12) & 63];
	out[2] = n > 1 ? b64_alphabet[(v >> 6) & 63] : '=';
	out[3] = n > 2 ? b64_alphabet[v & 63] : '=';
}

static int write_opaque(eas_wbxml_to_xml *c, const uint8_t *p, size_t len, int final, uint64_t total)
{
	int rc = 0;
	if (c->opt.opaque == EAS_XML_OPAQUE_LENGTH) {
		if (!c->opaque_shown) {
			char tmp[48];
			snprintf(tmp, sizeof tmp, "[opaque: %llu bytes]", (unsigned long long)total);
			rc = puts_(c, tmp);
			c->opaque_shown = 1;
		}
		if (final)
			c->opaque_shown = 0;
		return rc;
	}
	char quad[4];
	size_t i = 0;
	while (c->b64_len && c->b64_len < 3 && i < len)
		c->b64[c->b64_len++] = p[i++];
	if (c->b64_len == 3) {
		b64_quad(c->b64, 3, quad);
		rc = put(c, quad, 4);
		c->b64_len = 0;
	}
	for (; rc == 0 && len - i >= 3; i += 3) {
		b64_quad(p + i, 3, quad);
		rc = put(c, quad, 4);
	}
	while (i < len)
		c->b64[c->b64_len++] = p[i++];
	if (rc == 0 && final && c->b64_len) {
		b64_quad(c->b64, c->b64_len, quad);
		rc = put(c, quad, 4);
		c->b64_len = 0;
	}
	return rc;
}

/* ---- decoder callbacks ------------------------------------------------------ */

/* Returns the converter's error for the decoder (it then stops with EAS_E_CALLBACK). */
static int cb_status(eas_wbxml_to_xml *c)
{
	return c->result ? c->result : 0;
}

static int cb_start(eas_tag tag, int has_content, void *ud)
{
	eas_wbxml_to_xml *c = ud;
	unsigned page = EAS_TAG_PAGE(tag);
	const char *name = eas_tag_name(page, (unsigned)tag & 0xFFu);
	if (!name)
		return EAS_E_UNSUPPORTED; /* the decoder only reports known tags */

	/* Never next to text: indentation would change mixed content. */
	if (c->pos == POS_OPENED || c->pos == POS_AFTER_CHILD)
		newline_indent(c, c->depth);
	put(c, "<", 1);
	puts_(c, name);
	if (c->depth == 0 || c->pages[c->depth - 1] != page) {
		puts_(c, " xmlns=\"");
		puts_(c, eas_codepage_name(page));
		puts_(c, ":\"");
	}
	if (has_content) {
		put(c, ">", 1);
		c->pages[c->depth++] = (uint8_t)page;
		c->pos = POS_OPENED;
	} else {
		put(c, "/>", 2);
		c->pos = POS_AFTER_CHILD;
	}
	return cb_status(c);
}

static int cb_end(eas_tag tag, void *ud)
{
	eas_wbxml_to_xml *c = ud;
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), (unsigned)tag & 0xFFu);
	c->depth--;
	if (c->pos == POS_AFTER_CHILD)
		newline_indent(c, c->depth);
	put(c, "</", 2);
	puts_(c, name ? name : "");
	put(c, ">", 1);
	c->pos = POS_AFTER_CHILD;
	return cb_status(c);
}

static int cb_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final,
		   uint64_t total, void *ud)
{
	eas_wbxml_to_xml *c = ud;
	c->pos = POS_TEXT;
	if (kind == EAS_WBXML_STRING)
		write_string(c, bytes, len, final);
	else
		write_opaque(c, bytes, len, final, total);
	return cb_status(c);
}

/* ---- public ----------------------------------------------------------------- */

int eas_wbxml_to_xml_new(eas_wbxml_to_xml **out, eas_xml_sink sink,
			 const eas_wbxml_to_xml_options *options, const eas_mem *mem,
			 void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!sink)
		return EAS_E_INVALID;
	eas_wbxml_to_xml_options o = EAS_WBXML_TO_XML_OPTIONS_INIT;
	if (options) {
		if (options->version != EAS_WBXML_TO_XML_OPTIONS_VERSION)
			return EAS_E_INVALID;
		o = *options;
		if (o.decoder.version == 0) {
			const eas_wbxml_decoder_options d = EAS_WBXML_DECODER_OPTIONS_INIT;
			o.decoder = d;
		}
	}
	if (o.indent > MAX_INDENT || (o.opaque != EAS_XML_OPAQUE_BASE64 && o.opaque != EAS_XML_OPAQUE_LENGTH))
		return EAS_E_INVALID;
	if (o.decoder.version != EAS_WBXML_OPTIONS_VERSION)
		return EAS_E_INVALID;
	unsigned depth = o.decoder.max_depth ? o.decoder.max_depth : 32;
	if (depth > 4096)
		return EAS_E_INVALID;

	eas_mem m;
	eas__mem_init(&m, mem);
	eas_wbxml_to_xml *c = eas__malloc(&m, sizeof(*c) + depth);
	if (!c)
		return EAS_E_NOMEM;
	memset(c, 0, offsetof(eas_wbxml_to_xml, out));
	c->mem = m;
	c->sink = sink;
	c->user_data = user_data;
	c->opt = o;
	c->pages = (uint8_t *)(c + 1);
	c->pos = POS_START;

	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	cb.start_tag = cb_start;
	cb.end_tag = cb_end;
	cb.data = cb_data;
	int rc = eas_wbxml_decoder_new(&c->dec, &cb, &o.decoder, &m, c);
	if (rc != 0) {
		eas__free(&m, c);
		return rc;
	}
	if (o.declaration)
		puts_(c, "<?xml version=\"1.0\" encoding=\"utf-8\"?>");
	if (o.doctype) {
		if (o.declaration && !o.compact)
			put(c, "\n", 1);
		puts_(c, "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "
			 "\"http://www.microsoft.com/\">");
	}
	if ((o.declaration || o.doctype) && !o.compact)
		put(c, "\n", 1);
	*out = c;
	return 0;
}

void eas_wbxml_to_xml_free(eas_wbxml_to_xml *c)
{
	if (!c)
		return;
	eas_wbxml_decoder_free(c->dec);
	eas__free(&c->mem, c);
}

static int settle(eas_wbxml_to_xml *c, int rc)
{
	if (rc == 0 || c->own_error || c->result)
		return c->result ? c->result : rc;
	c->result = rc;
	return rc;
}

int eas_wbxml_to_xml_feed(eas_wbxml_to_xml *c, const uint8_t *data, size_t len)
{
	if (!c || (!data && len))
		return EAS_E_INVALID;
	if (c->result)
		return c->result;
	int rc = eas_wbxml_decoder_feed(c->dec, data, len, NULL);
	if (rc == EAS_E_PAUSED) /* our callbacks never pause */
		rc = EAS_E_STATE;
	return settle(c, rc);
}

int eas_wbxml_to_xml_finish(eas_wbxml_to_xml *c)
{
	if (!c)
		return EAS_E_INVALID;
	if (c->result)
		return c->result;
	int rc = eas_wbxml_decoder_finish(c->dec);
	if (rc == 0 && !c->opt.compact)
		rc = put(c, "\n", 1);
	if (rc == 0)
		rc = flush(c);
	return settle(c, rc);
}

const char *eas_wbxml_to_xml_error(const eas_wbxml_to_xml *c, uint64_t *offset)
{
	if (!c || !c->result)
		return NULL;
	if (c->own_error) {
		if (offset)
			*offset = c->err_offset;
		return c->message;
	}
	return eas_wbxml_decoder_error(c->dec, offset);
}
