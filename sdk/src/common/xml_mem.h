/*
 * Expat through the eas_mem hooks, and hardened: the one helper every
 * module that parses XML with expat goes through (Autodiscover, the
 * XML -> WBXML reader, the protocol 2.5 WAP provisioning policy).
 *
 * Expat's memory suite has no user-data pointer.  Every block gets a header
 * naming the eas_mem it came from, so realloc and free need no context;
 * malloc takes the hooks of the context that is calling into expat,
 * published in a thread-local variable for the duration of that call (so
 * only eas__xml_parser_new and eas__xml_parse may allocate: the setters
 * and getters of expat do not).  Every failed allocation is recorded in the
 * context: expat does not report all of them (some make it quietly lose
 * namespace bindings), so callers treat ctx->failed as EAS_E_NOMEM.
 */
#ifndef EAS_SRC_XML_MEM_H
#define EAS_SRC_XML_MEM_H

/* expat.h declares the billion-laughs limits only under XML_DTD. */
#ifndef XML_DTD
#define XML_DTD 1
#endif
#include <expat.h>
#include <stddef.h>

#include "eas/common.h"

#if !defined(XML_MAJOR_VERSION) || XML_MAJOR_VERSION < 2 || \
	(XML_MAJOR_VERSION == 2 && XML_MINOR_VERSION < 4)
#error "expat 2.4 or later is needed (billion laughs protection)"
#endif

typedef struct eas_xml_mem {
	const eas_mem *mem; /* must outlive the parser */
	int failed;         /* an allocation inside expat failed */
} eas_xml_mem;

/* The billion laughs protection eas__xml_parser_new sets. */
#define EAS_XML_MAX_AMPLIFICATION 20.0f
#define EAS_XML_AMPLIFICATION_THRESHOLD (64u * 1024u)

/*
 * Creates a parser allocating through ctx->mem (ctx->failed is reset),
 * with parameter entities off and the billion laughs protection tightened
 * (amplification EAS_XML_MAX_AMPLIFICATION, from
 * EAS_XML_AMPLIFICATION_THRESHOLD bytes).  ns_sep nonzero: namespace-aware,
 * names arrive as "URI<ns_sep>local"; '\0': no namespace processing, names
 * arrive as written.  NULL when memory ran out (any allocation failure
 * during creation counts; nothing is left allocated).  ctx must stay valid
 * until eas__xml_parser_free.
 */
XML_Parser eas__xml_parser_new(eas_xml_mem *ctx, char ns_sep);

/*
 * Changes p's billion laughs protection: at most max_amplification times
 * more output than input once threshold bytes were produced.  Does not
 * allocate; call it before the first eas__xml_parse.
 */
void eas__xml_parser_set_amplification(XML_Parser p, float max_amplification, unsigned long long threshold);

/* XML_Parse with ctx published, and lengths beyond INT_MAX split. */
enum XML_Status eas__xml_parse(eas_xml_mem *ctx, XML_Parser p, const char *data, size_t len,
			       int final);

void eas__xml_parser_free(eas_xml_mem *ctx, XML_Parser p);

#endif
