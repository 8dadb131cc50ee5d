/*
 * Expat through the eas_mem hooks, and hardened: a small helper for every
 * module that parses XML with expat (Autodiscover; the XML -> WBXML reader
 * has its own copy of the same bridge and can move to this one).
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

/*
 * Creates a namespace-aware parser (names arrive as "URI<sep>local")
 * allocating through ctx->mem, with parameter entities off and the billion
 * laughs protection tightened (amplification 20, from 64 KiB).  NULL when
 * memory ran out (nothing is left allocated).
 */
XML_Parser eas__xml_parser_new(eas_xml_mem *ctx, char ns_sep);

/* XML_Parse with ctx published, and lengths beyond INT_MAX split. */
enum XML_Status eas__xml_parse(eas_xml_mem *ctx, XML_Parser p, const char *data, size_t len,
			       int final);

void eas__xml_parser_free(eas_xml_mem *ctx, XML_Parser p);

#endif
