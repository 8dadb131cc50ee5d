/*
 * MIME byte-level decoding: base64 and quoted-printable as mail software
 * really writes them, and text in a few charsets to UTF-8 (see
 * mime_internal.h).  Pure functions over eas_buf; no state.
 */
#include <string.h>

#include "common/base64.h"

#include "classes/mime_internal.h"

/* ---- base64 --------------------------------------------------------------------- */

int eas__mime_base64(eas_buf *out, const uint8_t *in, size_t len, size_t *bad)
{
	uint32_t acc = 0;
	int bits = 0;
	uint8_t chunk[192];
	size_t n = 0;
	if (bad)
		*bad = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c == '=')
			break; /* padding: the rest is not data */
		int v = eas__base64_value(c);
		if (v < 0) {
			if (bad && c != ' ' && c != '\t' && c != '\r' && c != '\n')
				(*bad)++;
			continue;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			chunk[n++] = (uint8_t)(acc >> bits);
			acc &= (1u << bits) - 1u;
			if (n == sizeof chunk) {
				if (eas_buf_append(out, chunk, n))
					return out->result;
				n = 0;
			}
		}
	}
	if (n && eas_buf_append(out, chunk, n))
		return out->result;
	return 0;
}

/* ---- quoted-printable -------------------------------------------------------------- */

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

int eas__mime_qp(eas_buf *out, const uint8_t *in, size_t len, int q_mode)
{
	size_t i = 0;
	while (i < len) {
		/* a run of plain bytes up to the next special one */
		size_t start = i;
		while (i < len && in[i] != '=' && in[i] != '\r' && in[i] != '\n' && !is_blank(in[i]) &&
		       !(q_mode && in[i] == '_'))
			i++;
		if (i > start && eas_buf_append(out, in + start, i - start))
			return out->result;
		if (i >= len)
			break;
		uint8_t c = in[i];
		if (q_mode && c == '_') {
			if (eas_buf_append(out, " ", 1))
				return out->result;
			i++;
		} else if (is_blank(c)) {
			/* blanks at the end of a line were added in transport: drop them */
			size_t j = i;
			while (j < len && is_blank(in[j]))
				j++;
			int at_eol = !q_mode && (j >= len || in[j] == '\r' || in[j] == '\n');
			if (!at_eol && eas_buf_append(out, in + i, j - i))
				return out->result;
			i = j;
		} else if (c == '\r' || c == '\n') {
			/* a hard line break, kept as CRLF or LF as it came */
			size_t j = i + (c == '\r' && i + 1 < len && in[i + 1] == '\n' ? 2 : 1);
			if (eas_buf_append(out, in + i, j - i))
				return out->result;
			i = j;
		} else { /* '=' */
			int h1 = i + 1 < len ? hex_value(in[i + 1]) : -1;
			int h2 = i + 2 < len ? hex_value(in[i + 2]) : -1;
			if (h1 >= 0 && h2 >= 0) {
				uint8_t b = (uint8_t)(h1 * 16 + h2);
				if (eas_buf_append(out, &b, 1))
					return out->result;
				i += 3;
				continue;
			}
			if (!q_mode) {
				/* soft line break: '=' then optional blanks then the line end (or the end) */
				size_t j = i + 1;
				while (j < len && is_blank(in[j]))
					j++;
				if (j >= len) {
					i = j;
					continue;
				}
				if (in[j] == '\n' || in[j] == '\r') {
					j += in[j] == '\r' && j + 1 < len && in[j + 1] == '\n' ? 2 : 1;
					i = j;
					continue;
				}
			}
			/* a broken escape: keep the '=' as it is */
			if (eas_buf_append(out, "=", 1))
				return out->result;
			i++;
		}
	}
	return 0;
}

/* ---- charsets -------------------------------------------------------------------------- */

int eas__mime_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

int eas__mime_ieq_n(const char *a, size_t an, const char *b)
{
	size_t bn = strlen(b);
	if (an != bn)
		return 0;
	for (size_t i = 0; i < an; i++)
		if (eas__mime_lower((unsigned char)a[i]) != eas__mime_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

/* Windows-1252 0x80..0x9F (the five unassigned bytes map to the C1 controls, as WHATWG does). */
static const uint16_t cp1252_high[32] = {
	0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
	0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
	0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
};

static int put_cp(eas_buf *out, uint32_t cp)
{
	uint8_t b[4];
	size_t n;
	if (cp < 0x80) {
		b[0] = (uint8_t)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (uint8_t)(0xC0 | (cp >> 6));
		b[1] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (uint8_t)(0xE0 | (cp >> 12));
		b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 3;
	} else {
		b[0] = (uint8_t)(0xF0 | (cp >> 18));
		b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (uint8_t)(0x80 | (cp & 0x3F));
		n = 4;
	}
	return eas_buf_append(out, b, n) ? out->result : 0;
}

#define REPLACEMENT 0xFFFDu

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 when invalid (RFC 3629: no overlongs or surrogates). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	if (c < 0x80)
		return c ? 1 : 0;
	size_t need;
	uint32_t min, cp;
	if (c >= 0xC2 && c <= 0xDF) {
		need = 2;
		cp = c & 0x1Fu;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 3;
		cp = c & 0x0Fu;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 4;
		cp = c & 0x07u;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3Fu);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

int eas__mime_utf8_valid(const uint8_t *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		size_t k = utf8_seq(s + i, n - i);
		if (!k)
			return 0;
		i += k;
	}
	return 1;
}

/* UTF-8 with every invalid byte (and NUL) as U+FFFD. */
static int pass_utf8(eas_buf *out, const uint8_t *in, size_t len)
{
	size_t i = 0, run = 0;
	while (i < len) {
		size_t k = utf8_seq(in + i, len - i);
		if (k) {
			i += k;
			continue;
		}
		if (i > run && eas_buf_append(out, in + run, i - run))
			return out->result;
		int rc = put_cp(out, REPLACEMENT);
		if (rc)
			return rc;
		i++;
		run = i;
	}
	if (i > run && eas_buf_append(out, in + run, i - run))
		return out->result;
	return 0;
}

static int from_cp1252(eas_buf *out, const uint8_t *in, size_t len)
{
	size_t run = 0;
	for (size_t i = 0; i < len; i++) {
		uint8_t c = in[i];
		if (c != 0 && c < 0x80)
			continue;
		if (i > run && eas_buf_append(out, in + run, i - run))
			return out->result;
		uint32_t cp = c == 0 ? REPLACEMENT : c < 0xA0 ? cp1252_high[c - 0x80] : c;
		int rc = put_cp(out, cp);
		if (rc)
			return rc;
		run = i + 1;
	}
	if (len > run && eas_buf_append(out, in + run, len - run))
		return out->result;
	return 0;
}

/* The charset label without quotes, blanks and an RFC 2231 language ("utf-8*en"). */
static void trim_label(const char **s, size_t *n)
{
	const char *p = *s;
	size_t len = *n;
	while (len && (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'')) {
		p++;
		len--;
	}
	while (len && (p[len - 1] == ' ' || p[len - 1] == '\t' || p[len - 1] == '"' || p[len - 1] == '\''))
		len--;
	for (size_t i = 0; i < len; i++)
		if (p[i] == '*') {
			len = i;
			break;
		}
	*s = p;
	*n = len;
}

static int label_in(const char *s, size_t n, const char *const *names)
{
	for (; *names; names++)
		if (eas__mime_ieq_n(s, n, *names))
			return 1;
	return 0;
}

int eas__mime_to_utf8(eas_buf *out, const uint8_t *in, size_t len, const char *charset, size_t charset_len)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us",
					     "us", "646", "cp367", "ibm367", NULL };
	static const char *const latin[] = { "iso-8859-1", "iso8859-1", "iso_8859-1", "iso_8859-1:1987", "latin1",
					     "latin-1", "l1", "cp819", "ibm819", "iso-ir-100", "csisolatin1",
					     "windows-1252", "cp1252", "x-cp1252", "win-1252", "cp-1252", NULL };
	static const char *const unknown[] = { "unknown-8bit", "x-unknown", "unknown", "default", NULL };
	const char *cs = charset ? charset : "";
	size_t cn = charset ? charset_len : 0;
	trim_label(&cs, &cn);
	int rc;
	if (cn && label_in(cs, cn, utf8)) {
		rc = pass_utf8(out, in, len);
		return rc ? rc : EAS_MIME_CS_UTF8;
	}
	if (cn && label_in(cs, cn, latin)) {
		rc = from_cp1252(out, in, len);
		return rc ? rc : EAS_MIME_CS_CONVERTED;
	}
	if (cn == 0 || label_in(cs, cn, unknown)) {
		rc = eas__mime_utf8_valid(in, len) ? pass_utf8(out, in, len) : from_cp1252(out, in, len);
		return rc ? rc : EAS_MIME_CS_GUESSED;
	}
	rc = pass_utf8(out, in, len);
	return rc ? rc : EAS_MIME_CS_KEPT;
}
