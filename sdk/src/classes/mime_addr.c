/*
 * Address lists (RFC 5322 3.4 with the obsolete forms): walking the
 * mailboxes of a To/Cc/From value, and rewriting a list with its display
 * names decoded and quoted where they need it.
 */
#include <string.h>

#include "classes/mime_internal.h"

/* Raw display-name bytes gathered before decoding (longer ones are cut). */
#define PHRASE_MAX 1024

typedef struct acc {
	char s[PHRASE_MAX + 1];
	size_t n;
	int overflow;
} acc;

static void acc_put(acc *a, char c)
{
	if (a->n < PHRASE_MAX)
		a->s[a->n++] = c;
	else
		a->overflow = 1;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The decoded text of a phrase into out (size bytes). */
static void decode_phrase(char *out, size_t size, const acc *a)
{
	out[0] = '\0';
	if (!a->n)
		return;
	eas_buf b;
	eas_buf_init(&b, NULL, PHRASE_MAX * 4);
	if (eas__mime_decode_words(&b, a->s, a->n, NULL) == 0 && b.len) {
		/* cut to size without splitting a UTF-8 sequence */
		size_t n = b.len < size - 1 ? b.len : size - 1;
		if (n < b.len)
			while (n > 0 && (b.data[n] & 0xC0) == 0x80)
				n--;
		memcpy(out, b.data, n);
		out[n] = '\0';
	}
	eas_buf_free(&b);
}

/*
 * One mailbox of s[0..n) from *pos.  1 found, 0 at the end.  Group names
 * ("Team: a@x, b@y;") are dropped, their members returned.
 */
static int next_mailbox(const char *s, size_t n, size_t *pos, eas_mime_address *out)
{
	size_t i = *pos;
	while (i < n) {
		acc phrase, addr, comment;
		phrase.n = addr.n = comment.n = 0;
		phrase.overflow = addr.overflow = comment.overflow = 0;
		int in_angle = 0, got_angle = 0, pending_space = 0;
		while (i < n) {
			char c = s[i];
			if (!in_angle && (c == ',' || c == ';')) {
				i++;
				break;
			}
			if (!in_angle && c == ':') {
				/* a group name: forget it, its mailboxes follow */
				phrase.n = 0;
				comment.n = 0;
				pending_space = 0;
				i++;
				continue;
			}
			if (blank(c)) {
				pending_space = phrase.n > 0;
				i++;
				continue;
			}
			if (c == '(') {
				int depth = 0;
				size_t start = i;
				while (i < n) {
					if (s[i] == '\\' && i + 1 < n) {
						i += 2;
						continue;
					}
					if (s[i] == '(')
						depth++;
					else if (s[i] == ')' && --depth == 0)
						break;
					i++;
				}
				if (!comment.n && i > start + 1)
					for (size_t k = start + 1; k < i && k < n; k++)
						acc_put(&comment, s[k]);
				i++;
				continue;
			}
			if (c == '"') {
				acc *to = in_angle ? &addr : &phrase;
				if (pending_space && !in_angle)
					acc_put(to, ' ');
				pending_space = 0;
				if (in_angle)
					acc_put(to, '"');
				i++;
				while (i < n && s[i] != '"') {
					if (s[i] == '\\' && i + 1 < n)
						i++;
					if (s[i] != '\r' && s[i] != '\n')
						acc_put(to, s[i]);
					i++;
				}
				if (in_angle)
					acc_put(to, '"');
				i++;
				continue;
			}
			if (c == '<' && !in_angle) {
				in_angle = 1;
				addr.n = 0;
				pending_space = 0;
				i++;
				continue;
			}
			if (c == '>' && in_angle) {
				in_angle = 0;
				got_angle = 1;
				i++;
				continue;
			}
			if (in_angle) {
				acc_put(&addr, c);
			} else {
				if (pending_space)
					acc_put(&phrase, ' ');
				pending_space = 0;
				acc_put(&phrase, c);
			}
			i++;
		}
		memset(out, 0, sizeof *out);
		const acc *a = got_angle || in_angle ? &addr : &phrase;
		/* an obsolete route "@a,@b:user@x" inside <> */
		size_t from = 0;
		if (a == &addr && a->n && a->s[0] == '@') {
			const char *colon = memchr(a->s, ':', a->n);
			if (colon)
				from = (size_t)(colon - a->s) + 1;
		}
		size_t k = 0;
		int too_long = a->overflow;
		for (size_t j = from; j < a->n; j++) {
			if (blank(a->s[j]))
				continue; /* "user @ example.test" (obsolete) */
			if (k >= EAS_MIME_ADDR_MAX) {
				too_long = 1;
				break;
			}
			out->addr[k++] = a->s[j];
		}
		out->addr[k] = '\0';
		if (!k || too_long)
			continue;
		if (!eas__mime_utf8_valid((const uint8_t *)out->addr, k)) {
			/* raw 8-bit in an address: the same guess as for other header text */
			eas_buf b;
			eas_buf_init(&b, NULL, EAS_MIME_ADDR_MAX);
			int bad = eas__mime_to_utf8(&b, (const uint8_t *)out->addr, k, NULL, 0) < 0;
			if (!bad) {
				memcpy(out->addr, b.data, b.len);
				out->addr[b.len] = '\0';
			}
			eas_buf_free(&b);
			if (bad)
				continue;
		}
		if (a == &addr)
			decode_phrase(out->name, sizeof out->name, &phrase);
		else
			decode_phrase(out->name, sizeof out->name, &comment);
		*pos = i < n ? i : n; /* an unclosed quote or comment ran to the end */
		return 1;
	}
	*pos = n;
	return 0;
}

int eas_mime_address_next(const char **cursor, eas_mime_address *out)
{
	if (!cursor || !*cursor || !out)
		return 0;
	const char *s = *cursor;
	size_t n = strlen(s), pos = 0;
	int rc = next_mailbox(s, n, &pos, out);
	*cursor = s + pos;
	return rc;
}

/* 1 when a display name must be quoted to read back as one phrase. */
static int needs_quotes(const char *name)
{
	for (const char *p = name; *p; p++)
		if (strchr("()<>[]:;@\\,.\"", *p))
			return 1;
	return 0;
}

int eas__mime_address_list(eas_buf *out, const char *raw, size_t len, size_t *count)
{
	size_t pos = 0, found = 0;
	eas_mime_address a;
	while (next_mailbox(raw, len, &pos, &a)) {
		if (found && eas_buf_append_str(out, ", "))
			return out->result;
		if (a.name[0] && strcmp(a.name, a.addr) != 0) {
			if (needs_quotes(a.name)) {
				eas_buf_append(out, "\"", 1);
				for (const char *p = a.name; *p; p++) {
					if (*p == '"' || *p == '\\')
						eas_buf_append(out, "\\", 1);
					eas_buf_append(out, p, 1);
				}
				eas_buf_append(out, "\" <", 3);
			} else {
				eas_buf_append_str(out, a.name);
				eas_buf_append(out, " <", 2);
			}
			eas_buf_append_str(out, a.addr);
			eas_buf_append(out, ">", 1);
		} else {
			eas_buf_append_str(out, a.addr);
		}
		if (out->result)
			return out->result;
		found++;
	}
	if (count)
		*count = found;
	return 0;
}
