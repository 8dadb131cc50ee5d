/* Small helpers shared by the command modules. */
#ifndef EAS_SRC_COMMANDS_CODEC_UTIL_H
#define EAS_SRC_COMMANDS_CODEC_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

#if defined(__GNUC__)
#define EAS_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define EAS_PRINTF(a, b)
#endif

/* Writes the message into err (if given) and returns EAS_E_MALFORMED. */
int eas__cmd_malformed(char *err, size_t err_size, const char *fmt, ...) EAS_PRINTF(3, 4);

/* Checks the root's tag; EAS_E_MALFORMED naming both tags otherwise. */
int eas__cmd_expect_root(const eas_node *root, eas_tag tag, char *err, size_t err_size);

/* Required text child; EAS_E_MALFORMED naming it when absent. */
int eas__cmd_text(const char **out, const eas_node *n, eas_tag tag, char *err, size_t err_size);
/* Required decimal child. */
int eas__cmd_uint(uint32_t *out, const eas_node *n, eas_tag tag, char *err, size_t err_size);
/* Optional decimal child: *out untouched when absent. */
int eas__cmd_opt_uint(uint32_t *out, const eas_node *n, eas_tag tag, char *err, size_t err_size);

/* <tag>decimal</tag> */
int eas__cmd_put_uint(eas_wbxml_encoder *enc, eas_tag tag, uint32_t value);
/* <tag>text</tag> when text is not NULL. */
int eas__cmd_put_opt(eas_wbxml_encoder *enc, eas_tag tag, const char *text);

#endif
