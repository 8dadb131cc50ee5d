/*
 * XML -> WBXML.  Expat (namespace-aware, allocating through the eas_mem
 * hooks by way of common/xml_mem) drives an eas_wbxml_encoder.  The start
 * of an element is held back until the next event tells whether it is
 * empty; its text is gathered until the end tag (whitespace-only text is
 * dropped, byte arrays are base64-decoded into OPAQUE).  Everything else
 * streams.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "common/xml_mem.h"
#include "eas/wbxml_xml.h"

#define NS_SEP ' '
#define DEPTH_CAP 64

struct eas_xml_to_wbxml {
	eas_mem mem;
	eas_xml_to_wbxml_options opt;
	XML_Parser parser;
	eas_wbxml_encoder *enc;

	int result;              /* sticky error */
	unsigned long err_line, err_col;
	char message[200];

	unsigned depth;          /* open XML elements */
	int pending;             /* the innermost element's start is not written yet */
	eas_tag pending_tag;
	int binary;              /* the innermost element is a byte array */
	int finished;
	eas_xml_mem xm;          /* expat allocates through mem; xm.failed: an allocation failed */
	uint64_t input;          /* XML bytes fed */

	char *text;              /* text of the innermost element */
	size_t text_len, text_cap;
};

/* ---- errors ----------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(eas_xml_to_wbxml *c, int code, const char *fmt, ...)
{
	if (c->result)
		return c->result;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->message, sizeof c->message, fmt, ap);
	va_end(ap);
	if (c->xm.failed) {
		code = EAS_E_NOMEM;
		snprintf(c->message, sizeof c->message, "out of memory while parsing XML");
	}
	c->result = code;
	c->err_line = XML_GetCurrentLineNumber(c->parser);
	c->err_col = XML_GetCurrentColumnNumber(c->parser) + 1;
	XML_StopParser(c->parser, XML_FALSE);
	return code;
}

static int enc_fail(eas_xml_to_wbxml *c, int rc, const char *what)
{
	if (rc == EAS_E_CALLBACK)
		return fail(c, EAS_E_IO, "the WBXML output sink failed");
	return fail(c, rc, "cannot encode %s: %s", what, eas_strerror(rc));
}

/* ---- text and elements ------------------------------------------------------ */

static int is_xml_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

static int only_space(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_xml_space(s[i]))
			return 0;
	return 1;
}

static int b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/*
 * Decodes base64 in place, skipping XML whitespace.  Padding is optional
 * but, when present, must be right.  Returns the byte count or -1.
 */
static long b64_decode_inplace(char *s, size_t n)
{
	unsigned char *out = (unsigned char *)s;
	size_t o = 0, pads = 0;
	uint32_t acc = 0;
	unsigned bits = 0, chars = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (is_xml_space((char)ch))
			continue;
		if (ch == '=') {
			pads++;
			continue;
		}
		int v = b64_value(ch);
		if (v < 0 || pads)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		chars++;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1u;
		}
	}
	if (chars % 4 == 1 || (pads && (chars + pads) % 4 != 0) || pads > 2)
		return -1;
	if (acc != 0) /* non-zero padding bits: not canonical base64 */
		return -1;
	return (long)o;
}

/* Writes the held-back start tag of the innermost element (with content). */
static int flush_pending(eas_xml_to_wbxml *c)
{
	if (!c->pending)
		return 0;
	c->pending = 0;
	int rc = eas_wbxml_encoder_start(c->enc, c->pending_tag);
	return rc ? enc_fail(c, rc, "element") : 0;
}

/* Writes the gathered text of the innermost element (if any) and forgets it. */
static int flush_text(eas_xml_to_wbxml *c)
{
	if (c->text_len == 0)
		return 0;
	size_t n = c->text_len;
	c->text_len = 0;
	if (only_space(c->text, n))
		return 0;
	int rc = flush_pending(c);
	if (rc)
		return rc;
	if (c->binary && !c->opt.binary_as_text) {
		long bytes = b64_decode_inplace(c->text, n);
		if (bytes < 0)
			return fail(c, EAS_E_MALFORMED, "%s holds binary data and must be base64",
				    eas_tag_name(EAS_TAG_PAGE(c->pending_tag), (unsigned)c->pending_tag & 0xFFu));
		rc = eas_wbxml_encoder_opaque(c->enc, (const uint8_t *)c->text, (size_t)bytes);
	} else if (c->binary) {
		rc = eas_wbxml_encoder_opaque(c->enc, (const uint8_t *)c->text, n);
	} else {
		rc = eas_wbxml_encoder_string(c->enc, c->text, n);
	}
	return rc ? enc_fail(c, rc, "text") : 0;
}

/* Splits "URI<sep>local"; returns the code page or -1.  *local gets the name. */
static int resolve_page(const char *qname, const char **local, char *ns, size_t ns_size)
{
	const char *sep = strrchr(qname, NS_SEP);
	if (!sep) {
		*local = qname;
		ns[0] = '\0';
		return -2;
	}
	*local = sep + 1;
	size_t n = (size_t)(sep - qname);
	if (n > 0 && qname[n - 1] == ':')
		n--;
	if (n >= ns_size)
		n = ns_size - 1;
	memcpy(ns, qname, n);
	ns[n] = '\0';
	return eas_codepage_lookup(ns);
}

static void XMLCALL on_start(void *ud, const XML_Char *qname, const XML_Char **attrs)
{
	eas_xml_to_wbxml *c = ud;
	if (c->result)
		return;
	if (c->xm.failed) {
		fail(c, EAS_E_NOMEM, "out of memory while parsing XML");
		return;
	}
	if (attrs && attrs[0]) {
		fail(c, EAS_E_UNSUPPORTED, "attribute '%s': ActiveSync elements have no attributes", attrs[0]);
		return;
	}
	const char *local;
	char ns[64];
	int page = resolve_page(qname, &local, ns, sizeof ns);
	if (page == -2) {
		fail(c, EAS_E_UNSUPPORTED, "element '%s' has no namespace (declare one such as xmlns=\"AirSync:\")",
		     local);
		return;
	}
	if (page < 0) {
		fail(c, EAS_E_UNSUPPORTED, "unknown namespace '%.*s' of element '%s'",
		     (int)(strlen(qname) - strlen(local) - 1), qname, local);
		return;
	}
	eas_tag tag = eas_tag_lookup((unsigned)page, local);
	if (tag == EAS_TAG_NONE) {
		fail(c, EAS_E_UNSUPPORTED, "unknown element '%s' in namespace %s:", local, ns);
		return;
	}
	unsigned versions = eas_tag_versions((unsigned)page, (unsigned)tag & 0xFFu);
	if (c->opt.protocol_version && !(versions & c->opt.protocol_version)) {
		const char *v = eas_protocol_version_name(c->opt.protocol_version);
		fail(c, EAS_E_UNSUPPORTED, "element %s:%s is not part of protocol version %s", ns, local,
		     v ? v : "?");
		return;
	}
	if (c->depth >= c->opt.max_depth) {
		fail(c, EAS_E_LIMIT, "elements nested deeper than %u", c->opt.max_depth);
		return;
	}
	/* The parent has a child: its start goes out, with whatever text came before. */
	if (flush_text(c) || flush_pending(c))
		return;
	c->depth++;
	c->pending = 1;
	c->pending_tag = tag;
	c->binary = eas_wbxml_is_binary_element(tag);
}

static void XMLCALL on_end(void *ud, const XML_Char *qname)
{
	eas_xml_to_wbxml *c = ud;
	(void)qname;
	if (c->result)
		return;
	if (c->text_len && !only_space(c->text, c->text_len)) {
		if (flush_text(c))
			return;
	}
	c->text_len = 0;
	int rc;
	if (c->pending) {
		c->pending = 0;
		rc = eas_wbxml_encoder_empty(c->enc, c->pending_tag);
	} else {
		rc = eas_wbxml_encoder_end(c->enc);
	}
	if (rc) {
		enc_fail(c, rc, "element");
		return;
	}
	c->depth--;
	c->binary = 0;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	eas_xml_to_wbxml *c = ud;
	if (c->result || len <= 0)
		return;
	size_t limit = c->binary ? c->opt.max_binary : c->opt.max_text;
	size_t n = (size_t)len;
	if (n > limit || c->text_len > limit - n) {
		fail(c, EAS_E_LIMIT, "text of one element longer than %zu bytes", limit);
		return;
	}
	if (c->text_len + n > c->text_cap) {
		size_t cap = c->text_cap ? c->text_cap : 256;
		while (cap < c->text_len + n)
			cap = cap > limit / 2 ? limit : cap * 2;
		char *t = eas__realloc(&c->mem, c->text, cap);
		if (!t) {
			fail(c, EAS_E_NOMEM, "out of memory for element text");
			return;
		}
		c->text = t;
		c->text_cap = cap;
	}
	memcpy(c->text + c->text_len, s, n);
	c->text_len += n;
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	eas_xml_to_wbxml *c = ud;
	(void)sysid;
	(void)pubid;
	if (strcmp(name, "ActiveSync") != 0)
		fail(c, EAS_E_MALFORMED, "document type '%s' refused (only the ActiveSync DOCTYPE is accepted)",
		     name);
	else if (has_internal_subset)
		fail(c, EAS_E_MALFORMED, "internal DTD subset refused");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
				   int value_len, const XML_Char *base, const XML_Char *sysid,
				   const XML_Char *pubid, const XML_Char *notation)
{
	(void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid, (void)notation;
	fail(ud, EAS_E_MALFORMED, "entity declaration '%s' refused", name);
}

static int XMLCALL on_external_entity(XML_Parser p, const XML_Char *context, const XML_Char *base,
				      const XML_Char *sysid, const XML_Char *pubid)
{
	(void)context, (void)base, (void)pubid;
	eas_xml_to_wbxml *c = XML_GetUserData(p);
	fail(c, EAS_E_MALFORMED, "external entity '%s' refused", sysid ? sysid : "");
	return XML_STATUS_ERROR;
}

static void XMLCALL on_skipped_entity(void *ud, const XML_Char *name, int is_param)
{
	(void)is_param;
	fail(ud, EAS_E_MALFORMED, "undefined entity '%s'", name);
}

/* ---- public ----------------------------------------------------------------- */

int eas_xml_to_wbxml_new(eas_xml_to_wbxml **out, eas_wbxml_sink sink,
			 const eas_xml_to_wbxml_options *options, const eas_mem *mem,
			 void *user_data)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!sink)
		return EAS_E_INVALID;
	eas_xml_to_wbxml_options o = EAS_XML_TO_WBXML_OPTIONS_INIT;
	if (options) {
		if (options->version != EAS_XML_TO_WBXML_OPTIONS_VERSION)
			return EAS_E_INVALID;
		o = *options;
	}
	const eas_xml_to_wbxml_options d = EAS_XML_TO_WBXML_OPTIONS_INIT;
	if (!o.max_depth)
		o.max_depth = d.max_depth;
	if (!o.max_text)
		o.max_text = d.max_text;
	if (!o.max_binary)
		o.max_binary = d.max_binary;
	if (o.protocol_version == EAS_PROTO_ALL)
		o.protocol_version = 0;
	if (o.max_depth > DEPTH_CAP)
		return EAS_E_INVALID;
	if (o.protocol_version && !eas_protocol_version_name(o.protocol_version))
		return EAS_E_INVALID;

	eas_mem m;
	eas__mem_init(&m, mem);
	eas_xml_to_wbxml *c = eas__calloc(&m, 1, sizeof(*c));
	if (!c)
		return EAS_E_NOMEM;
	c->mem = m;
	c->opt = o;

	int rc = eas_wbxml_encoder_new(&c->enc, sink, user_data,
				       o.protocol_version ? o.protocol_version : EAS_PROTO_ALL, &c->mem);
	if (rc) {
		eas__free(&m, c);
		return rc;
	}
	/* Any allocation failure while expat sets itself up is a NULL parser. */
	c->xm.mem = &c->mem;
	c->parser = eas__xml_parser_new(&c->xm, NS_SEP);
	if (!c->parser) {
		eas_wbxml_encoder_free(c->enc);
		eas__free(&m, c);
		return EAS_E_NOMEM;
	}
	XML_SetUserData(c->parser, c);
	XML_SetElementHandler(c->parser, on_start, on_end);
	XML_SetCharacterDataHandler(c->parser, on_text);
	XML_SetStartDoctypeDeclHandler(c->parser, on_doctype);
	XML_SetEntityDeclHandler(c->parser, on_entity_decl);
	XML_SetExternalEntityRefHandler(c->parser, on_external_entity);
	XML_SetSkippedEntityHandler(c->parser, on_skipped_entity);
	/* Parameter entities off and the billion laughs limits: eas__xml_parser_new. */
	*out = c;
	return 0;
}

void eas_xml_to_wbxml_free(eas_xml_to_wbxml *c)
{
	if (!c)
		return;
	eas__xml_parser_free(&c->xm, c->parser);
	eas_wbxml_encoder_free(c->enc);
	eas__free(&c->mem, c->text);
	eas__free(&c->mem, c);
}

/* Runs expat on one chunk (final = 1 for the end of input). */
static int parse(eas_xml_to_wbxml *c, const char *xml, size_t len, int final)
{
	/* expat allocates through c->xm; lengths beyond INT_MAX go in pieces. */
	enum XML_Status st = eas__xml_parse(&c->xm, c->parser, xml, len, final);
	if (c->xm.failed && c->result != EAS_E_NOMEM) {
		/* Whatever expat or a handler made of it, memory ran out. */
		c->result = EAS_E_NOMEM;
		c->err_line = XML_GetCurrentLineNumber(c->parser);
		c->err_col = XML_GetCurrentColumnNumber(c->parser) + 1;
		snprintf(c->message, sizeof c->message, "out of memory while parsing XML");
		return c->result;
	}
	if (st == XML_STATUS_OK)
		return c->result;
	if (c->result) /* one of our handlers stopped the parser */
		return c->result;
	enum XML_Error e = XML_GetErrorCode(c->parser);
	c->err_line = XML_GetCurrentLineNumber(c->parser);
	c->err_col = XML_GetCurrentColumnNumber(c->parser) + 1;
	if (e == XML_ERROR_NO_MEMORY) {
		c->result = EAS_E_NOMEM;
		snprintf(c->message, sizeof c->message, "out of memory while parsing XML");
	} else {
		c->result = e == XML_ERROR_AMPLIFICATION_LIMIT_BREACH ? EAS_E_LIMIT : EAS_E_MALFORMED;
		snprintf(c->message, sizeof c->message, "XML: %s", XML_ErrorString(e));
	}
	return c->result;
}

int eas_xml_to_wbxml_feed(eas_xml_to_wbxml *c, const char *xml, size_t len)
{
	if (!c || (!xml && len))
		return EAS_E_INVALID;
	if (c->result)
		return c->result;
	if (c->finished)
		return EAS_E_STATE;
	if (c->opt.max_input && (c->input + len > c->opt.max_input)) {
		c->result = EAS_E_LIMIT;
		c->err_line = XML_GetCurrentLineNumber(c->parser);
		c->err_col = XML_GetCurrentColumnNumber(c->parser) + 1;
		snprintf(c->message, sizeof c->message, "XML document larger than %llu bytes",
			 (unsigned long long)c->opt.max_input);
		return c->result;
	}
	c->input += len;
	return parse(c, xml, len, 0);
}

int eas_xml_to_wbxml_finish(eas_xml_to_wbxml *c)
{
	if (!c)
		return EAS_E_INVALID;
	if (c->result)
		return c->result;
	if (c->finished)
		return EAS_E_STATE;
	c->finished = 1;
	int rc = parse(c, "", 0, 1);
	if (rc)
		return rc;
	rc = eas_wbxml_encoder_finish(c->enc);
	if (rc) {
		c->result = rc == EAS_E_CALLBACK ? EAS_E_IO : rc;
		snprintf(c->message, sizeof c->message, "%s",
			 rc == EAS_E_CALLBACK ? "the WBXML output sink failed" : "incomplete document");
	}
	return c->result;
}

const char *eas_xml_to_wbxml_error(const eas_xml_to_wbxml *c, unsigned long *line,
				   unsigned long *column)
{
	if (!c || !c->result)
		return NULL;
	if (line)
		*line = c->err_line;
	if (column)
		*column = c->err_col;
	return c->message;
}
