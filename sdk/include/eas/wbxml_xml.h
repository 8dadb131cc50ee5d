/*
 * libeas — conversion between ActiveSync WBXML and its XML form, both ways,
 * both streaming.
 *
 * WBXML -> XML (eas_wbxml_to_xml): wraps an eas_wbxml_decoder.  Feed WBXML
 * in chunks of any size; UTF-8 XML goes to a sink callback as it is made.
 *
 * XML -> WBXML (eas_xml_to_wbxml): wraps an expat parser and an
 * eas_wbxml_encoder.  Feed XML in chunks of any size; WBXML goes to a sink.
 *
 * The XML form is the one the MS-AS* specifications use in their examples:
 * element names from the code page tables, one XML namespace per code page
 * named after the page with a trailing colon ("AirSync:", "Email2:").
 *
 * Opaque data.  WBXML OPAQUE values are written as base64 text (or, for
 * display only, as a length placeholder).  The elements whose value is an
 * MS-ASDTYPE "byte array", and so travels as OPAQUE, are:
 *     ComposeMail:Mime, Email2:ConversationId, Email2:ConversationIndex,
 *     ItemOperations:ConversationId, Search:ConversationId (MS-ASCON),
 *     GAL:Data, AirSyncBase:Content
 * eas_xml_to_wbxml() base64-decodes the text of those elements back into
 * OPAQUE (eas_wbxml_is_binary_element() tells which); every other element's
 * text becomes an inline string.  So a WBXML document round-trips through
 * XML to the same bytes as long as OPAQUE is only used for those elements
 * (an OPAQUE value elsewhere comes back as a string of base64 text).
 */
#ifndef EAS_WBXML_XML_H
#define EAS_WBXML_XML_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/wbxml.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Non-zero when elements `tag` carry a byte array (OPAQUE) by the spec. */
EAS_EXTERN int eas_wbxml_is_binary_element(eas_tag tag);

/* Receives XML text (UTF-8, not NUL-terminated); returns 0 or a negative value to abort. */
typedef int (*eas_xml_sink)(const char *text, size_t len, void *user_data);

/* ---- WBXML -> XML ----------------------------------------------------------- */

typedef struct eas_wbxml_to_xml eas_wbxml_to_xml;

/* How OPAQUE values are written. */
typedef enum eas_xml_opaque_mode {
	EAS_XML_OPAQUE_BASE64 = 0, /* base64 text (RFC 4648, no line breaks): round-trips */
	EAS_XML_OPAQUE_LENGTH = 1  /* "[opaque: N bytes]": for display, does not round-trip */
} eas_xml_opaque_mode;

#define EAS_WBXML_TO_XML_OPTIONS_VERSION 1
typedef struct eas_wbxml_to_xml_options {
	int version;               /* EAS_WBXML_TO_XML_OPTIONS_VERSION */
	int compact;               /* 0: one element per line, indented (default); 1: no whitespace */
	unsigned indent;           /* spaces per level when indented (default 2, at most 16) */
	eas_xml_opaque_mode opaque;
	int declaration;           /* write <?xml version="1.0" encoding="utf-8"?> (default 1) */
	int doctype;               /* write the ActiveSync DOCTYPE (default 1) */
	/*
	 * Limits and tolerance of the wrapped decoder.  decoder.version 0 means
	 * EAS_WBXML_DECODER_OPTIONS_INIT.
	 */
	eas_wbxml_decoder_options decoder;
} eas_wbxml_to_xml_options;
#define EAS_WBXML_TO_XML_OPTIONS_INIT { EAS_WBXML_TO_XML_OPTIONS_VERSION, 0, 2, \
	EAS_XML_OPAQUE_BASE64, 1, 1, EAS_WBXML_DECODER_OPTIONS_INIT }

/*
 * Output.  Namespaces: the root element and every element whose code page
 * differs from its parent's carry a default namespace declaration,
 * <Sync xmlns="AirSync:">, <ConversationId xmlns="Email2:">.  Text is
 * escaped (& < > always; CR as &#13; so that it survives XML parsing).
 *
 * Strings are UTF-8 by MS-ASWBXML, but a peer may send anything: every
 * invalid UTF-8 sequence (bad lead or continuation byte, overlong form,
 * surrogate, beyond U+10FFFF, cut short) and every character XML 1.0 cannot
 * hold (C0 controls other than TAB, LF and CR, U+FFFE, U+FFFF) is REPLACED
 * by U+FFFD, so the output is always well-formed XML.  The replacement is
 * not reversible; a caller that needs the exact bytes uses the decoder.
 */

/*
 * Creates a converter.  sink receives the XML; options and mem may be NULL
 * (defaults, libc); user_data goes to the sink.  Allocates everything it
 * will ever need here (two blocks).
 * Returns 0, EAS_E_NOMEM or EAS_E_INVALID (bad version, NULL out or sink,
 * bad limits).
 */
EAS_EXTERN int eas_wbxml_to_xml_new(eas_wbxml_to_xml **out, eas_xml_sink sink,
				    const eas_wbxml_to_xml_options *options,
				    const eas_mem *mem, void *user_data);
EAS_EXTERN void eas_wbxml_to_xml_free(eas_wbxml_to_xml *conv);

/*
 * Feeds the next len bytes of WBXML.  Returns 0, or an error of the wrapped
 * decoder (EAS_E_MALFORMED, EAS_E_UNSUPPORTED, EAS_E_LIMIT), or EAS_E_IO
 * when the sink returned non-zero.  After an error every call returns it.
 */
EAS_EXTERN int eas_wbxml_to_xml_feed(eas_wbxml_to_xml *conv, const uint8_t *data, size_t len);

/*
 * Declares the end of the WBXML, writes the final newline and flushes the
 * sink.  0, EAS_E_TRUNCATED, EAS_E_IO or the earlier error.
 */
EAS_EXTERN int eas_wbxml_to_xml_finish(eas_wbxml_to_xml *conv);

/*
 * Describes the first error (NULL if none); *offset, if not NULL, gets the
 * byte offset in the WBXML where it was found.  Valid until free.
 */
EAS_EXTERN const char *eas_wbxml_to_xml_error(const eas_wbxml_to_xml *conv, uint64_t *offset);

/* ---- XML -> WBXML ----------------------------------------------------------- */

typedef struct eas_xml_to_wbxml eas_xml_to_wbxml;

#define EAS_XML_TO_WBXML_OPTIONS_VERSION 1
typedef struct eas_xml_to_wbxml_options {
	int version;               /* EAS_XML_TO_WBXML_OPTIONS_VERSION */
	/*
	 * One EAS_PROTO_* bit: elements the version does not allow are refused
	 * (EAS_E_UNSUPPORTED).  0 or EAS_PROTO_ALL: every known element.
	 */
	unsigned protocol_version;
	unsigned max_depth;        /* element nesting (default 32, at most 64) */
	size_t max_text;           /* text of one element, bytes (default 1 MiB) */
	size_t max_binary;         /* base64 text of one byte-array element (default 16 MiB) */
	uint64_t max_input;        /* XML document bytes (0 = no limit, default) */
	/*
	 * 0 (default): the text of a byte-array element must be base64
	 * (whitespace inside is skipped).  1: its text is taken as the bytes
	 * themselves (e.g. a MIME message written as plain text).
	 */
	int binary_as_text;
} eas_xml_to_wbxml_options;
#define EAS_XML_TO_WBXML_OPTIONS_INIT { EAS_XML_TO_WBXML_OPTIONS_VERSION, 0, 32, \
	1u << 20, 16u << 20, 0, 0 }

/*
 * Input rules.
 *  - Namespace-aware: an element's namespace names its code page, with or
 *    without the trailing colon ("AirSync:" or "AirSync"); prefixes are free
 *    (<airsyncbase:Body xmlns:airsyncbase="AirSyncBase:">).  An element
 *    with no namespace, an unknown namespace or an unknown element name is
 *    an error (EAS_E_UNSUPPORTED), as is an attribute.
 *  - The ActiveSync DOCTYPE
 *      <!DOCTYPE ActiveSync PUBLIC "-//MICROSOFT//DTD ActiveSync//EN"
 *        "http://www.microsoft.com/">
 *    is accepted (and ignored); any other document type, an internal DTD
 *    subset, an entity declaration, an external or undefined entity
 *    reference is refused (EAS_E_MALFORMED).  Expat's billion-laughs
 *    amplification limits are on as well.
 *  - Text that is only whitespace (space, TAB, CR, LF) is ignored, so an
 *    element holding only whitespace is encoded as an empty element.  Any
 *    other text is kept exactly, whitespace included.
 *  - An element with neither children nor text becomes a WBXML empty tag.
 *
 * Memory: the parser allocates through mem (expat via XML_ParserCreate_MM);
 * the text of the element being read is held until its end tag, up to
 * max_text (max_binary for byte arrays), nothing else grows with the input.
 */

/*
 * Creates a converter.  sink receives the WBXML (header first); options and
 * mem may be NULL.  Returns 0, EAS_E_NOMEM or EAS_E_INVALID.
 */
EAS_EXTERN int eas_xml_to_wbxml_new(eas_xml_to_wbxml **out, eas_wbxml_sink sink,
				    const eas_xml_to_wbxml_options *options,
				    const eas_mem *mem, void *user_data);
EAS_EXTERN void eas_xml_to_wbxml_free(eas_xml_to_wbxml *conv);

/*
 * Feeds the next len bytes of XML (any encoding expat knows: UTF-8, UTF-16,
 * ISO-8859-1, US-ASCII).  Returns 0 or an error: EAS_E_MALFORMED (not
 * well-formed, or refused DTD/entity), EAS_E_UNSUPPORTED (unknown
 * namespace or element, element not in the protocol version, attribute),
 * EAS_E_LIMIT, EAS_E_NOMEM, EAS_E_IO (the sink returned non-zero).  After
 * an error every call returns it.
 */
EAS_EXTERN int eas_xml_to_wbxml_feed(eas_xml_to_wbxml *conv, const char *xml, size_t len);

/* Declares the end of the XML and flushes the WBXML.  0 or an error as above. */
EAS_EXTERN int eas_xml_to_wbxml_finish(eas_xml_to_wbxml *conv);

/*
 * Describes the first error (NULL if none), e.g. "unknown element 'Foo' in
 * namespace AirSync:".  *line and *column (1-based, either may be NULL) get
 * where in the XML it was found (0 when it is not tied to a place).  Valid
 * until free.
 */
EAS_EXTERN const char *eas_xml_to_wbxml_error(const eas_xml_to_wbxml *conv,
					      unsigned long *line, unsigned long *column);

#ifdef __cplusplus
}
#endif

#endif /* EAS_WBXML_XML_H */
