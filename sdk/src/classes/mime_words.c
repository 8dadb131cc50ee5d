/*
 * RFC 2047 encoded words in header values ("=?utf-8?Q?caf=C3=A9?="), see
 * mime_internal.h.  Adjacent encoded words of one charset are joined
 * before conversion, so a character split across two words (common with
 * base64 words of UTF-8) comes out whole.
 */
#include <string.h>

#include "classes/mime_internal.h"

/* Longest encoded word accepted (RFC 2047 says 75; real mail is longer). */
#define MAX_WORD 4096

typedef struct segment {
	eas_buf bytes;       /* pending bytes of one kind */
	int encoded;         /* 1: decoded encoded words in `charset`; 0: raw header text */
	char charset[64];
	size_t charset_len;
	int kept;
} segment;

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int flush(segment *s, eas_buf *out)
{
	if (s->bytes.len == 0)
		return 0;
	int rc = s->encoded ? eas__mime_to_utf8(out, s->bytes.data, s->bytes.len, s->charset, s->charset_len)
			    : eas__mime_to_utf8(out, s->bytes.data, s->bytes.len, NULL, 0);
	eas_buf_reset(&s->bytes);
	if (rc < 0)
		return rc;
	if (rc == EAS_MIME_CS_KEPT)
		s->kept = 1;
	return 0;
}

/*
 * An encoded word at in[0..len): 1 with its parts when well formed
 * (charset, 'B' or 'Q', text without blanks or '?', "?=" at the end).
 */
static int parse_word(const char *in, size_t len, const char **cs, size_t *cs_len, char *enc, const char **text,
		      size_t *text_len, size_t *total)
{
	if (len < 8 || in[0] != '=' || in[1] != '?')
		return 0;
	size_t limit = len < MAX_WORD ? len : MAX_WORD;
	size_t i = 2;
	while (i < limit && in[i] != '?' && !is_space(in[i]))
		i++;
	if (i >= limit || in[i] != '?' || i == 2 || i - 2 >= 64)
		return 0;
	*cs = in + 2;
	*cs_len = i - 2;
	if (i + 2 >= limit || in[i + 2] != '?')
		return 0;
	char e = (char)eas__mime_lower((unsigned char)in[i + 1]);
	if (e != 'b' && e != 'q')
		return 0;
	*enc = e;
	size_t t = i + 3, j = t;
	while (j + 1 < limit && !(in[j] == '?' && in[j + 1] == '=')) {
		if (is_space(in[j]) || in[j] == '?')
			return 0;
		j++;
	}
	if (j + 1 >= limit)
		return 0;
	*text = in + t;
	*text_len = j - t;
	*total = j + 2;
	return 1;
}

int eas__mime_decode_words(eas_buf *out, const char *in, size_t len, int *kept_charset)
{
	segment s;
	memset(&s, 0, sizeof s);
	eas_buf_init(&s.bytes, &out->mem, 0);
	size_t start = out->len;
	size_t i = 0, blank_start = 0;
	int blanks = 0;        /* a run of blanks is pending at blank_start..i */
	int rc = 0;
	while (rc == 0 && i < len) {
		if (is_space(in[i])) {
			if (!blanks) {
				blanks = 1;
				blank_start = i;
			}
			i++;
			continue;
		}
		const char *cs, *text;
		size_t cs_len, text_len, total;
		char enc;
		if (in[i] == '=' && parse_word(in + i, len - i, &cs, &cs_len, &enc, &text, &text_len, &total)) {
			int same = s.encoded && s.charset_len == cs_len;
			for (size_t k = 0; same && k < cs_len; k++)
				same = eas__mime_lower((unsigned char)s.charset[k]) == eas__mime_lower((unsigned char)cs[k]);
			if (!s.encoded || !same) {
				/* blanks between two encoded words vanish; before the first they stay */
				if (blanks && !s.encoded && eas_buf_append(&s.bytes, in + blank_start, i - blank_start))
					rc = s.bytes.result;
				if (rc == 0)
					rc = flush(&s, out);
				s.encoded = 1;
				memcpy(s.charset, cs, cs_len);
				s.charset_len = cs_len;
			}
			blanks = 0;
			if (rc == 0) {
				size_t bad;
				rc = enc == 'b' ? eas__mime_base64(&s.bytes, (const uint8_t *)text, text_len, &bad)
						: eas__mime_qp(&s.bytes, (const uint8_t *)text, text_len, 1);
			}
			i += total;
			continue;
		}
		/* plain text up to the next blank */
		if (s.encoded) {
			rc = flush(&s, out);
			s.encoded = 0;
		}
		if (rc == 0 && blanks && eas_buf_append(&s.bytes, in + blank_start, i - blank_start))
			rc = s.bytes.result;
		blanks = 0;
		size_t j = i + 1;
		while (j < len && !is_space(in[j]) && !(in[j] == '=' && j + 1 < len && in[j + 1] == '?'))
			j++;
		if (rc == 0 && eas_buf_append(&s.bytes, in + i, j - i))
			rc = s.bytes.result;
		i = j;
	}
	if (rc == 0 && blanks && !s.encoded && eas_buf_append(&s.bytes, in + blank_start, len - blank_start))
		rc = s.bytes.result;
	if (rc == 0)
		rc = flush(&s, out);
	eas_buf_free(&s.bytes);
	if (rc)
		return rc;
	/* Unfolded: line breaks go, other control characters become blanks. */
	size_t w = start;
	for (size_t r = start; r < out->len; r++) {
		uint8_t c = out->data[r];
		if (c == '\r' || c == '\n')
			continue;
		out->data[w++] = c < 0x20 || c == 0x7F ? ' ' : c;
	}
	out->len = w;
	/* no blanks at either end */
	size_t lead = start;
	while (lead < out->len && out->data[lead] == ' ')
		lead++;
	if (lead > start) {
		memmove(out->data + start, out->data + lead, out->len - lead);
		out->len -= lead - start;
	}
	while (out->len > start && out->data[out->len - 1] == ' ')
		out->len--;
	if (kept_charset && s.kept)
		*kept_charset = 1;
	return 0;
}
