/* Field helpers shared by the command modules. */
#include "cmd_fields.h"

#include <stdio.h>
#include <string.h>

#include "codec_util.h"

const char *eas__cmd_tag_label(eas_tag tag, char *buf, size_t size)
{
	const char *page = eas_codepage_name(EAS_TAG_PAGE(tag));
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, size, "%s:%s", page ? page : "?", name ? name : "?");
	return buf;
}

static int check_len(const char *text, const eas_node *n, eas_tag tag, size_t max, int nonempty,
		     char *err, size_t err_size)
{
	char name[64];
	const eas_node *c = eas_node_child(n, tag);
	size_t len = c ? c->text_len : strlen(text);
	if (nonempty && len == 0)
		return eas__cmd_malformed(err, err_size, "%s is empty", eas__cmd_tag_label(tag, name, sizeof name));
	if (max && len > max)
		return eas__cmd_malformed(err, err_size, "%s is longer than %zu characters",
					  eas__cmd_tag_label(tag, name, sizeof name), max);
	if (c && c->opaque && memchr(text, 0, len))
		return eas__cmd_malformed(err, err_size, "%s holds a NUL byte",
					  eas__cmd_tag_label(tag, name, sizeof name));
	return 0;
}

int eas__cmd_text_max(const char **out, const eas_node *n, eas_tag tag, size_t max, int nonempty,
		      char *err, size_t err_size)
{
	const char *t;
	int rc = eas__cmd_text(&t, n, tag, err, err_size);
	if (rc == 0)
		rc = check_len(t, n, tag, max, nonempty, err, err_size);
	if (rc == 0)
		*out = t;
	return rc;
}

int eas__cmd_opt_text_max(const char **out, const eas_node *n, eas_tag tag, size_t max,
			  char *err, size_t err_size)
{
	*out = NULL;
	if (!eas_node_child(n, tag))
		return 0;
	return eas__cmd_text_max(out, n, tag, max, 0, err, err_size);
}

int eas__cmd_opt_uint_has(uint32_t *out, int *has, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	*has = 0;
	if (!eas_node_child(n, tag))
		return 0;
	int rc = eas__cmd_uint(out, n, tag, err, err_size);
	if (rc == 0)
		*has = 1;
	return rc;
}

int eas__cmd_opt_bool(int *out, int *has, const eas_node *n, eas_tag tag, char *err, size_t err_size)
{
	char name[64];
	*has = 0;
	const eas_node *c = eas_node_child(n, tag);
	if (!c)
		return 0;
	if (c->text_len != 1 || (c->text[0] != '0' && c->text[0] != '1'))
		return eas__cmd_malformed(err, err_size, "%s is not 0 or 1: '%s'",
					  eas__cmd_tag_label(tag, name, sizeof name), c->opaque ? "(opaque)" : c->text);
	*out = c->text[0] == '1';
	*has = 1;
	return 0;
}

void eas__cmd_opt_bytes(const uint8_t **out, size_t *len, const eas_node *n, eas_tag tag)
{
	const eas_node *c = eas_node_child(n, tag);
	*out = c ? (const uint8_t *)c->text : NULL;
	*len = c ? c->text_len : 0;
}

int eas__cmd_put_flag(eas_wbxml_encoder *enc, eas_tag tag, int flag)
{
	return flag ? eas_wbxml_encoder_empty(enc, tag) : 0;
}

int eas__cmd_put_opt_uint(eas_wbxml_encoder *enc, eas_tag tag, int has, uint32_t value)
{
	return has ? eas__cmd_put_uint(enc, tag, value) : 0;
}

int eas__cmd_put_opt_opaque(eas_wbxml_encoder *enc, eas_tag tag, const uint8_t *bytes, size_t len)
{
	if (!bytes)
		return 0;
	int rc = eas_wbxml_encoder_start(enc, tag);
	if (rc == 0)
		rc = eas_wbxml_encoder_opaque(enc, bytes, len);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}
