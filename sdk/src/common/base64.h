/*
 * Base64 (RFC 4648 section 4, standard alphabet with '=' padding), used by
 * the MS-ASHTTP query, HTTP Basic auth and anywhere else bytes must travel
 * as text.  No allocation: callers size the buffers with the helpers.
 */
#ifndef EAS_SRC_BASE64_H
#define EAS_SRC_BASE64_H

#include <stddef.h>
#include <stdint.h>

/* Characters eas__base64_encode() writes for n bytes (NUL not counted). */
#define EAS__BASE64_ENCODED_LEN(n) ((((n) + 2u) / 3u) * 4u)
/* Upper bound of the bytes eas__base64_decode() writes for n characters. */
#define EAS__BASE64_DECODED_MAX(n) (((n) / 4u) * 3u + 2u)

/* Let the decoder accept text whose final '=' padding is left out. */
#define EAS__BASE64_PAD_OPTIONAL 0x1u

/*
 * Writes the base64 text of in[0..n) and a NUL to out, which must hold
 * EAS__BASE64_ENCODED_LEN(n) + 1 bytes.  Returns the characters written
 * (without the NUL).
 */
/* Value 0-63 of one standard-alphabet character, or -1 (for the lenient and streaming decoders elsewhere). */
int eas__base64_value(unsigned char c);

size_t eas__base64_encode(char *out, const uint8_t *in, size_t n);

/*
 * Decodes len characters of in into out, which must hold
 * EAS__BASE64_DECODED_MAX(len) bytes and may be the same memory as in
 * (decoding in place).  Strict: only the standard alphabet, no whitespace,
 * '=' only as final padding, zero padding bits.  Padding is required unless
 * flags has EAS__BASE64_PAD_OPTIONAL.  Sets *out_len to the bytes written.
 * Returns 0 or EAS_E_MALFORMED (out is then garbage).
 */
int eas__base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t len,
	unsigned flags);

#endif
