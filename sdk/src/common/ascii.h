/*
 * Case-insensitive comparisons over ASCII letters only (HTTP header names,
 * auth schemes, folder names, mail domains): locale-independent, unlike
 * strcasecmp, and bytes >= 0x80 compare as they are.
 */
#ifndef EAS_SRC_ASCII_H
#define EAS_SRC_ASCII_H

#include <stddef.h>

/* c with A-Z lowered; every other byte unchanged. */
unsigned char eas__ascii_lower(unsigned char c);
/* 1 when the strings are equal ignoring ASCII case. */
int eas__ascii_ieq(const char *a, const char *b);
/* 1 when the first n bytes are equal ignoring ASCII case (both hold n bytes). */
int eas__ascii_ieq_n(const char *a, const char *b, size_t n);
/* 1 when s starts with prefix, ignoring ASCII case. */
int eas__ascii_iprefix(const char *s, const char *prefix);

#endif
