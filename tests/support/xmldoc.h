/*
 * Test helpers: XML text (as in the spec's examples) to WBXML bytes or to a
 * decoded tree, and WBXML bytes back to compact XML for comparisons.
 * They fail the current cmocka test on any error.
 */
#ifndef EAS_TESTS_XMLDOC_H
#define EAS_TESTS_XMLDOC_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "wbxml/tree.h"

/* XML -> WBXML into out (eas_buf_init'ed here; eas_buf_free it). */
void xmldoc_to_wbxml(eas_buf *out, const char *xml);
/* XML -> tree (eas_tree_free it). */
eas_tree *xmldoc_tree(const char *xml);
/* WBXML -> compact XML, NUL-terminated; free() it. */
char *xmldoc_from_wbxml(const uint8_t *wbxml, size_t len);
/* Encodes with `encode(enc, arg)` at protocol version `version` and returns compact XML (free() it). */
char *xmldoc_encode(int (*encode)(eas_wbxml_encoder *enc, const void *arg), const void *arg, unsigned version);

#endif
