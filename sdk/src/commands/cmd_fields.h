/*
 * Field helpers for the command modules beyond codec_util.h: bounded text,
 * flags (empty elements), optional numbers and opaque values.  Decoders
 * report EAS_E_MALFORMED with a message naming the element ("Move:SrcMsgId
 * is longer than 64 characters"); encoders return the encoder's error.
 */
#ifndef EAS_SRC_COMMANDS_CMD_FIELDS_H
#define EAS_SRC_COMMANDS_CMD_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* "Page:Name" of a tag into buf (for messages). */
const char *eas__cmd_tag_label(eas_tag tag, char *buf, size_t size);

/*
 * Required text child of at most max bytes (0 = no bound) that is not
 * empty when nonempty is set; EAS_E_MALFORMED naming it otherwise.
 */
int eas__cmd_text_max(const char **out, const eas_node *n, eas_tag tag, size_t max, int nonempty,
		      char *err, size_t err_size);
/* Optional text child (*out NULL when absent) of at most max bytes (0 = no bound). */
int eas__cmd_opt_text_max(const char **out, const eas_node *n, eas_tag tag, size_t max,
			  char *err, size_t err_size);
/* Optional decimal child: *has set to 1 and *out filled when present. */
int eas__cmd_opt_uint_has(uint32_t *out, int *has, const eas_node *n, eas_tag tag, char *err, size_t err_size);
/* Optional boolean child ("0" or "1"); *has set when present. */
int eas__cmd_opt_bool(int *out, int *has, const eas_node *n, eas_tag tag, char *err, size_t err_size);
/* Optional bytes child (STR_I or OPAQUE): *out NULL and *len 0 when absent. */
void eas__cmd_opt_bytes(const uint8_t **out, size_t *len, const eas_node *n, eas_tag tag);

/* <tag/> when flag is set. */
int eas__cmd_put_flag(eas_wbxml_encoder *enc, eas_tag tag, int flag);
/* <tag>decimal</tag> when has is set. */
int eas__cmd_put_opt_uint(eas_wbxml_encoder *enc, eas_tag tag, int has, uint32_t value);
/* <tag>OPAQUE</tag> when bytes is not NULL. */
int eas__cmd_put_opt_opaque(eas_wbxml_encoder *enc, eas_tag tag, const uint8_t *bytes, size_t len);

#endif
