/*
 * Argument checks shared by every state store implementation (memory,
 * SQLite): the same record is accepted or refused with the same error,
 * whichever store the app picked.
 */
#ifndef EAS_SRC_CLIENT_STORE_CHECK_H
#define EAS_SRC_CLIENT_STORE_CHECK_H

#include <stddef.h>

#include "eas/sys/store.h"

/* A non-empty string of at most max bytes: 0, else EAS_E_INVALID. */
int eas__store_check_str(const char *s, size_t max);
/* Like eas__store_check_str, but NULL is allowed (an optional field). */
int eas__store_check_opt(const char *s, size_t max);

/* Optional fields left NULL read as their defaults ("0" parent and key, "" name and class). */
const char *eas__store_or(const char *s, const char *dflt);

int eas__store_check_value(const char *key, const char *value);
int eas__store_check_folder(const eas_store_folder *f);
int eas__store_check_item(const eas_store_item *item);
int eas__store_check_change(const eas_store_change *c);

#endif
