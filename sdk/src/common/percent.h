/*
 * Percent-encoding (RFC 3986 section 2.1) for URI query values.  No
 * allocation: callers size buffers with eas__pct_encoded_len().
 */
#ifndef EAS_SRC_PERCENT_H
#define EAS_SRC_PERCENT_H

#include <stddef.h>

/* Non-zero for an RFC 3986 unreserved character: ALPHA DIGIT - . _ ~ */
int eas__pct_unreserved(unsigned char c);

/* Characters eas__pct_encode() writes for in[0..n) (NUL not counted). */
size_t eas__pct_encoded_len(const char *in, size_t n);

/*
 * Writes in[0..n) to out with every byte but the unreserved ones as %XX
 * (upper-case hex), then a NUL; out holds eas__pct_encoded_len() + 1
 * bytes.  Returns the characters written (without the NUL).
 */
size_t eas__pct_encode(char *out, const char *in, size_t n);

/* Decode '+' as a space (application/x-www-form-urlencoded). */
#define EAS__PCT_PLUS_SPACE 0x1u

/*
 * Decodes %XX escapes (either hex case) of in[0..n) into out, which holds
 * n bytes and may be the same memory as in.  No NUL is added; *out_len is
 * the bytes written.  Returns 0 or EAS_E_MALFORMED for a '%' not followed
 * by two hex digits.
 */
int eas__pct_decode(char *out, size_t *out_len, const char *in, size_t n, unsigned flags);

#endif
