/* Helpers shared by the command modules. */
#include "codec_util.h"

#include <stdarg.h>
#include <stdio.h>

static const char *tag_label(eas_tag tag, char *buf, size_t size)
{
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, size, "%s:%s", eas_codepage_name(EAS_TAG_PAGE(tag)) ? eas_codepage_name(EAS_TAG_PAGE(tag)) : "?",
		 name ? name : "?");
	return buf;
}

int eas__cmd_malformed(char *err, size_t err_size, const char *fmt, ...)
{
	if (err && err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return EAS_E_MALFORMED;
}

int eas__cmd_expect_root(const eas_node *root, eas_tag tag, char *err, size_t err_size)
{
	char want[64], got[64];
	if (!root)
		return eas__cmd_malformed(err, err_size, "no document");
	if (root->tag != tag)
		return eas__cmd_malformed(err, err_size, "root element is %s, expected %s",
					  tag_label(root->tag, got, sizeof got), tag_label(tag, want, sizeof want));
	return 0;
}

int eas__cmd_text(const char **out, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	char name[64];
	const char *t = eas_node_child_text(n, tag);
	if (!t)
		return eas__cmd_malformed(err, err_size, "missing %s", tag_label(tag, name, sizeof name));
	*out = t;
	return 0;
}

int eas__cmd_uint(uint32_t *out, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	char name[64];
	int rc = eas_node_child_uint(n, tag, out);
	if (rc == EAS_E_NOTFOUND)
		return eas__cmd_malformed(err, err_size, "missing %s", tag_label(tag, name, sizeof name));
	if (rc)
		return eas__cmd_malformed(err, err_size, "%s is not a number: '%s'", tag_label(tag, name, sizeof name),
					  eas_node_child_text(n, tag));
	return 0;
}

int eas__cmd_opt_uint(uint32_t *out, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	if (!eas_node_child(n, tag))
		return 0;
	return eas__cmd_uint(out, n, tag, err, err_size);
}

int eas__cmd_put_uint(eas_wbxml_encoder *enc, eas_tag tag, uint32_t value)
{
	char text[16];
	snprintf(text, sizeof text, "%lu", (unsigned long)value);
	return eas_wbxml_encoder_element(enc, tag, text);
}

int eas__cmd_put_opt(eas_wbxml_encoder *enc, eas_tag tag, const char *text)
{
	return text ? eas_wbxml_encoder_element(enc, tag, text) : 0;
}
