/*
 * Email class from a decoded tree (the companion server reads client Adds
 * and Changes from its request tree).  The strings of *out point into the
 * tree, which must outlive it; the arrays (categories, attachments) are
 * allocated with mem and released by eas_email_clear().
 */
#ifndef EAS_SRC_CLASSES_EMAIL_NODE_H
#define EAS_SRC_CLASSES_EMAIL_NODE_H

#include <stddef.h>

#include "eas/email.h"
#include "wbxml/tree.h"

int eas__email_decode_node(eas_email *out, const eas_node *app_data, const eas_mem *mem, char *err,
			   size_t err_size);

#endif
