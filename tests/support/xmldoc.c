/* XML <-> WBXML helpers for tests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "eas/wbxml_xml.h"
#include "xmldoc.h"

void xmldoc_to_wbxml(eas_buf *out, const char *xml)
{
	eas_buf_init(out, NULL, 0);
	eas_xml_to_wbxml *conv = NULL;
	assert_int_equal(eas_xml_to_wbxml_new(&conv, eas_buf_sink, NULL, NULL, out), 0);
	int rc = eas_xml_to_wbxml_feed(conv, xml, strlen(xml));
	if (rc == 0)
		rc = eas_xml_to_wbxml_finish(conv);
	if (rc) {
		unsigned long line = 0, col = 0;
		const char *msg = eas_xml_to_wbxml_error(conv, &line, &col);
		fail_msg("test XML %lu:%lu: %s", line, col, msg ? msg : "?");
	}
	eas_xml_to_wbxml_free(conv);
}

eas_tree *xmldoc_tree(const char *xml)
{
	eas_buf wbxml;
	xmldoc_to_wbxml(&wbxml, xml);
	eas_tree *t = NULL;
	char err[200];
	if (eas_tree_parse(&t, wbxml.data, wbxml.len, 0, NULL, err, sizeof err) != 0)
		fail_msg("tree: %s", err);
	eas_buf_free(&wbxml);
	return t;
}

static int to_xml_buf(const char *text, size_t len, void *ud)
{
	return eas_buf_append(ud, text, len);
}

char *xmldoc_from_wbxml(const uint8_t *wbxml, size_t len)
{
	eas_buf xml;
	eas_buf_init(&xml, NULL, 0);
	eas_wbxml_to_xml_options opt = EAS_WBXML_TO_XML_OPTIONS_INIT;
	opt.compact = 1;
	eas_wbxml_to_xml *conv = NULL;
	assert_int_equal(eas_wbxml_to_xml_new(&conv, to_xml_buf, &opt, NULL, &xml), 0);
	int rc = eas_wbxml_to_xml_feed(conv, wbxml, len);
	if (rc == 0)
		rc = eas_wbxml_to_xml_finish(conv);
	if (rc)
		fail_msg("WBXML to XML: %s", eas_strerror(rc));
	eas_wbxml_to_xml_free(conv);
	assert_int_equal(eas_buf_append(&xml, "", 1), 0);
	return (char *)eas_buf_steal(&xml, NULL);
}

char *xmldoc_encode(int (*encode)(eas_wbxml_encoder *enc, const void *arg), const void *arg, unsigned version)
{
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, version, NULL), 0);
	assert_int_equal(encode(enc, arg), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	char *xml = xmldoc_from_wbxml(out.data, out.len);
	eas_buf_free(&out);
	return xml;
}
