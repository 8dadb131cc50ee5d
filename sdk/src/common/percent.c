/* Percent-encoding of URI components (RFC 3986 section 2.1). */
#include "percent.h"

#include "eas/common.h"

static const char hex_upper[16] = "0123456789ABCDEF";

int eas__pct_unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		c == '-' || c == '.' || c == '_' || c == '~';
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

size_t eas__pct_encoded_len(const char *in, size_t n)
{
	size_t len = 0;
	for (size_t i = 0; i < n; i++)
		len += eas__pct_unreserved((unsigned char)in[i]) ? 1 : 3;
	return len;
}

size_t eas__pct_encode(char *out, const char *in, size_t n)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (eas__pct_unreserved(c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex_upper[c >> 4];
			out[o++] = hex_upper[c & 15];
		}
	}
	out[o] = '\0';
	return o;
}

int eas__pct_decode(char *out, size_t *out_len, const char *in, size_t n, unsigned flags)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)in[i];
		if (c == '%') {
			if (n - i < 3)
				return EAS_E_MALFORMED;
			int hi = hex_value((unsigned char)in[i + 1]);
			int lo = hex_value((unsigned char)in[i + 2]);
			if (hi < 0 || lo < 0)
				return EAS_E_MALFORMED;
			out[o++] = (char)((hi << 4) | lo);
			i += 2;
		} else if (c == '+' && (flags & EAS__PCT_PLUS_SPACE)) {
			out[o++] = ' ';
		} else {
			out[o++] = (char)c;
		}
	}
	*out_len = o;
	return 0;
}
