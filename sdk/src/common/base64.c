/* Base64 per RFC 4648 section 4: encode and strict decode. */
#include "base64.h"

#include "eas/common.h"

static const char alphabet[64] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int eas__base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

size_t eas__base64_encode(char *out, const uint8_t *in, size_t n)
{
	size_t o = 0;
	size_t i = 0;
	for (; n - i >= 3; i += 3) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8) | in[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = alphabet[v & 63];
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)in[i] << 16;
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = '=';
		out[o++] = '=';
	} else if (n - i == 2) {
		uint32_t v = ((uint32_t)in[i] << 16) | ((uint32_t)in[i + 1] << 8);
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = alphabet[(v >> 6) & 63];
		out[o++] = '=';
	}
	out[o] = '\0';
	return o;
}

int eas__base64_decode(uint8_t *out, size_t *out_len, const char *in, size_t len,
	unsigned flags)
{
	/* Split off the padding, then the final partial group. */
	size_t pad = 0;
	while (pad < 2 && len > pad && in[len - 1 - pad] == '=')
		pad++;
	size_t body = len - pad;
	if (pad) {
		if (len % 4 != 0)
			return EAS_E_MALFORMED;
	} else if (!(flags & EAS__BASE64_PAD_OPTIONAL) && len % 4 != 0) {
		return EAS_E_MALFORMED;
	}
	/* Characters in the final partial group: 2 or 3 (with padding: 4 - pad). */
	size_t tail = body % 4;
	if (tail == 1)
		return EAS_E_MALFORMED;

	size_t o = 0;
	size_t i = 0;
	for (; i + 4 <= body; i += 4) {
		int a = eas__base64_value((unsigned char)in[i]), b = eas__base64_value((unsigned char)in[i + 1]);
		int c = eas__base64_value((unsigned char)in[i + 2]), d = eas__base64_value((unsigned char)in[i + 3]);
		if ((a | b | c | d) < 0)
			return EAS_E_MALFORMED;
		uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6) | (uint32_t)d;
		/* All four characters are read before out (maybe == in) is written. */
		out[o++] = (uint8_t)(v >> 16);
		out[o++] = (uint8_t)(v >> 8);
		out[o++] = (uint8_t)v;
	}
	if (tail) {
		int a = eas__base64_value((unsigned char)in[i]), b = eas__base64_value((unsigned char)in[i + 1]);
		int c = tail == 3 ? eas__base64_value((unsigned char)in[i + 2]) : 0;
		if ((a | b | c) < 0)
			return EAS_E_MALFORMED;
		uint32_t v = ((uint32_t)a << 18) | ((uint32_t)b << 12) | ((uint32_t)c << 6);
		/* Bits below the last whole byte must be zero (RFC 4648 3.5). */
		if ((tail == 2 && (v & 0xFFFFu)) || (tail == 3 && (v & 0xFFu)))
			return EAS_E_MALFORMED;
		out[o++] = (uint8_t)(v >> 16);
		if (tail == 3)
			out[o++] = (uint8_t)(v >> 8);
	}
	*out_len = o;
	return 0;
}
