/*
 * libFuzzer target: WBXML -> XML (eas_wbxml_to_xml).
 *
 * The input is a WBXML document, converted with options derived from its
 * first bytes (layout, indent, opaque mode, declaration, DOCTYPE, tolerant
 * decoder, piece size), whole and split in two.  Checks:
 *   - the result and, on success, the XML never depend on the split;
 *   - every error has a message and an offset <= the input length;
 *   - the XML is always well-formed, namespace-aware XML (expat parses it),
 *     whatever bytes the strings held: the converter promises U+FFFD for
 *     invalid UTF-8 and for characters XML cannot carry.
 * A broken invariant aborts with the line of the check.
 */
#include <expat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/wbxml.h"
#include "eas/wbxml_xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                   \
	do {                                                                          \
		if (!(cond)) {                                                        \
			fprintf(stderr, "fuzz_wbxml_to_xml: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                           \
			abort();                                                      \
		}                                                                     \
	} while (0)

#define OUTPUT_CAP (64u << 20)

typedef struct out {
	char *data;
	size_t len, cap;
} out;

static int xml_sink(const char *text, size_t len, void *ud)
{
	out *o = ud;
	if (len > OUTPUT_CAP - o->len)
		return -1;
	if (o->len + len > o->cap) {
		size_t cap = o->cap ? o->cap : 1024;
		while (cap < o->len + len)
			cap *= 2;
		char *p = realloc(o->data, cap);
		if (!p)
			return -1;
		o->data = p;
		o->cap = cap;
	}
	memcpy(o->data + o->len, text, len);
	o->len += len;
	return 0;
}

static int convert(const eas_wbxml_to_xml_options *opt, const uint8_t *data, size_t size,
		   size_t split, out *x)
{
	eas_wbxml_to_xml *c = NULL;
	x->len = 0;
	CHECK(eas_wbxml_to_xml_new(&c, xml_sink, opt, NULL, x) == 0);
	int rc;
	if (split < size) {
		rc = eas_wbxml_to_xml_feed(c, data, split);
		if (rc == 0)
			rc = eas_wbxml_to_xml_feed(c, data + split, size - split);
	} else {
		rc = eas_wbxml_to_xml_feed(c, data, size);
	}
	if (rc == 0)
		rc = eas_wbxml_to_xml_finish(c);
	uint64_t off = UINT64_MAX;
	const char *msg = eas_wbxml_to_xml_error(c, &off);
	if (rc == 0) {
		CHECK(msg == NULL);
	} else {
		CHECK(rc < 0);
		CHECK(msg != NULL && msg[0] != '\0');
		CHECK(off <= size);
		CHECK(eas_wbxml_to_xml_feed(c, (const uint8_t *)"\x01", 1) == rc);
		CHECK(eas_wbxml_to_xml_finish(c) == rc);
	}
	eas_wbxml_to_xml_free(c);
	return rc;
}

/* Well-formed, namespace-aware XML? */
static int well_formed(const out *x)
{
	XML_Parser p = XML_ParserCreateNS(NULL, ' ');
	CHECK(p != NULL);
	int ok = XML_Parse(p, x->data, (int)x->len, 1) == XML_STATUS_OK;
	if (!ok)
		fprintf(stderr, "fuzz_wbxml_to_xml: expat: %s at line %lu column %lu\n",
			XML_ErrorString(XML_GetErrorCode(p)), (unsigned long)XML_GetCurrentLineNumber(p),
			(unsigned long)XML_GetCurrentColumnNumber(p));
	XML_ParserFree(p);
	return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < size && i < 8; i++) {
		h ^= data[i];
		h *= 0x100000001b3ull;
	}
	h ^= (uint64_t)size * 0x9E3779B97F4A7C15ull;
	size_t split = size ? (size_t)(h % (size + 1)) : 0;

	eas_wbxml_to_xml_options opt = EAS_WBXML_TO_XML_OPTIONS_INIT;
	opt.compact = (int)(h >> 8 & 1);
	opt.indent = (unsigned)(h >> 9 & 15);
	opt.opaque = (h >> 13 & 3) == 0 ? EAS_XML_OPAQUE_LENGTH : EAS_XML_OPAQUE_BASE64;
	opt.declaration = (int)(h >> 15 & 1);
	opt.doctype = (int)(h >> 16 & 1);
	opt.decoder.tolerant = (int)(h >> 17 & 1);
	if (h >> 18 & 1)
		opt.decoder.piece_size = 1 + (size_t)(h >> 19 & 15);

	out a = { 0 }, b = { 0 };
	int rc = convert(&opt, data, size, size, &a);
	int rc_split = convert(&opt, data, size, split, &b);
	CHECK(rc == rc_split);
	if (rc == 0) {
		CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
		CHECK(a.len <= (size_t)0x7fffffff);
		int ok = well_formed(&a);
		if (!ok)
			fprintf(stderr, "%.*s\n", (int)(a.len < 4000 ? a.len : 4000), a.data);
		CHECK(ok);
	}
	free(a.data);
	free(b.data);
	return 0;
}
