/*
 * Header sections of a message or body part: fields one by one (folded
 * values kept raw, pointing into the message), Content-Type /
 * Content-Disposition values and their parameters with RFC 2231
 * (see mime_internal.h).
 */
#include <string.h>

#include "classes/mime_internal.h"

/* Parameters looked at per value; more are ignored. */
#define MAX_PARAMS 64
/* RFC 2231 continuation sections of one parameter. */
#define MAX_SECTIONS 64

static int is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* End of the line at p (the '\n' or end) and where the next line starts. */
static const char *line_end(const char *p, const char *end, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	if (!nl) {
		*next = end;
		return end;
	}
	*next = nl + 1;
	return nl > p && nl[-1] == '\r' ? nl - 1 : nl;
}

int eas__mime_next_field(eas__mime_hdr_reader *r, eas__mime_field *f, size_t max_field)
{
	while (!r->done) {
		const char *p = r->p, *next;
		if (p >= r->end) {
			r->done = 1;
			break;
		}
		const char *e = line_end(p, r->end, &next);
		if (e == p) { /* the blank line: the body follows */
			r->p = next;
			r->done = 1;
			break;
		}
		if (r->count == 0 && (size_t)(e - p) >= 5 && memcmp(p, "From ", 5) == 0) {
			r->p = next; /* an mbox separator left on top */
			r->count++;
			continue;
		}
		const char *q = p;
		while (q < e && (unsigned char)*q > 32 && (unsigned char)*q < 127 && *q != ':')
			q++;
		const char *name_end = q;
		while (q < e && is_wsp(*q)) /* obsolete "Name :" */
			q++;
		if (q >= e || *q != ':' || name_end == p) {
			/* not a field: the header section ends here, this line is body */
			r->done = 1;
			break;
		}
		f->name = p;
		f->name_len = (size_t)(name_end - p);
		f->value = q + 1;
		/* continuation lines start with a blank */
		while (next < r->end && is_wsp(*next)) {
			e = line_end(next, r->end, &next);
			if ((size_t)(e - p) > max_field)
				return EAS_E_LIMIT;
		}
		if ((size_t)(e - p) > max_field)
			return EAS_E_LIMIT;
		f->value_len = (size_t)(e - f->value);
		r->p = next;
		r->count++;
		return 1;
	}
	return 0;
}

int eas__mime_field_is(const eas__mime_field *f, const char *name)
{
	return eas__mime_ieq_n(f->name, f->name_len, name);
}

/* ---- structured values ------------------------------------------------------------ */

/* Skips blanks, line breaks and (nested) comments. */
static size_t skip_cfws(const char *s, size_t i, size_t n)
{
	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
			i++;
		} else if (s[i] == '(') {
			int depth = 0;
			while (i < n) {
				if (s[i] == '\\' && i + 1 < n) {
					i += 2;
					continue;
				}
				if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0) {
					i++;
					break;
				}
				i++;
			}
		} else {
			break;
		}
	}
	return i;
}

void eas__mime_ctype_parse(eas__mime_ctype *out, const char *value, size_t len)
{
	memset(out, 0, sizeof *out);
	size_t i = skip_cfws(value, 0, len), k = 0;
	int ok = 1;
	while (i < len && value[i] != ';' && value[i] != '(' && value[i] != ' ' && value[i] != '\t' &&
	       value[i] != '\r' && value[i] != '\n') {
		unsigned char c = (unsigned char)value[i];
		if (c <= 32 || c >= 127 || c == '"' || c == ',' || c == '<' || c == '>' || c == '@')
			ok = 0;
		if (k + 1 < sizeof out->type)
			out->type[k++] = (char)eas__mime_lower(c);
		else
			ok = 0;
		i++;
	}
	out->type[k] = '\0';
	if (!ok)
		out->type[0] = '\0';
	while (i < len && value[i] != ';') {
		if (value[i] == '"') { /* a stray quoted string before the parameters: skip it whole */
			i++;
			while (i < len && value[i] != '"')
				i += value[i] == '\\' && i + 1 < len ? 2 : 1;
		}
		i++;
	}
	if (i < len) {
		out->params = value + i + 1;
		out->params_len = len - i - 1;
	}
}

typedef struct param {
	const char *name;
	size_t name_len;
	const char *value;  /* raw value: with the quotes when quoted */
	size_t value_len;
	int quoted;
} param;

/* Splits params into name=value pairs (quotes and comments respected). */
static size_t split_params(const char *s, size_t n, param *out, size_t max)
{
	size_t count = 0, i = 0;
	while (i < n && count < max) {
		i = skip_cfws(s, i, n);
		size_t ns = i;
		while (i < n && s[i] != '=' && s[i] != ';' && s[i] != ' ' && s[i] != '\t' && s[i] != '(' && s[i] != '\r' &&
		       s[i] != '\n')
			i++;
		size_t ne = i;
		i = skip_cfws(s, i, n);
		if (i >= n || s[i] != '=') {
			while (i < n && s[i] != ';')
				i++;
			i++;
			continue;
		}
		i = skip_cfws(s, i + 1, n);
		param p;
		p.name = s + ns;
		p.name_len = ne - ns;
		p.quoted = 0;
		if (i < n && s[i] == '"') {
			size_t vs = ++i;
			while (i < n && s[i] != '"')
				i += s[i] == '\\' && i + 1 < n ? 2 : 1;
			p.value = s + vs;
			p.value_len = (i < n ? i : n) - vs;
			p.quoted = 1;
			if (i < n)
				i++;
		} else {
			size_t vs = i;
			/* a token; lenient: up to ';' with blanks inside kept (unquoted file names with spaces) */
			while (i < n && s[i] != ';' && s[i] != '(' && s[i] != '\r' && s[i] != '\n')
				i++;
			size_t ve = i;
			while (ve > vs && (s[ve - 1] == ' ' || s[ve - 1] == '\t'))
				ve--;
			p.value = s + vs;
			p.value_len = ve - vs;
		}
		if (p.name_len)
			out[count++] = p;
		while (i < n && s[i] != ';')
			i++;
		i++;
	}
	return count;
}

/* The unquoted bytes of a quoted string (backslash escapes removed). */
static int unquote(eas_buf *out, const param *p)
{
	if (!p->quoted)
		return eas_buf_append(out, p->value, p->value_len) ? out->result : 0;
	for (size_t i = 0; i < p->value_len; i++) {
		char c = p->value[i];
		if (c == '\\' && i + 1 < p->value_len)
			c = p->value[++i];
		if (eas_buf_append(out, &c, 1))
			return out->result;
	}
	return 0;
}

static int hexv(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)eas__mime_lower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* %XX decoding of an RFC 2231 value. */
static int pct_decode(eas_buf *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t b = (uint8_t)s[i];
		int h1, h2;
		if (b == '%' && i + 2 < n && (h1 = hexv(s[i + 1])) >= 0 && (h2 = hexv(s[i + 2])) >= 0) {
			b = (uint8_t)(h1 * 16 + h2);
			i += 2;
		}
		if (eas_buf_append(out, &b, 1))
			return out->result;
	}
	return 0;
}

/*
 * How a parameter name relates to the one looked for: 0 no, 1 plain,
 * 2 extended (name*), 3 + section (name*N, *ext set for name*N*).
 */
static int match_name(const param *p, const char *name, int *section, int *ext)
{
	size_t nl = strlen(name);
	if (p->name_len < nl || !eas__mime_ieq_n(p->name, nl, name))
		return 0;
	const char *rest = p->name + nl;
	size_t rn = p->name_len - nl;
	if (rn == 0)
		return 1;
	if (rest[0] != '*')
		return 0;
	if (rn == 1)
		return 2;
	int v = 0;
	size_t i = 1;
	for (; i < rn && rest[i] >= '0' && rest[i] <= '9'; i++) {
		v = v * 10 + (rest[i] - '0');
		if (v >= MAX_SECTIONS)
			return 0;
	}
	if (i == 1)
		return 0;
	if (i == rn) {
		*ext = 0;
	} else if (i + 1 == rn && rest[i] == '*') {
		*ext = 1;
	} else {
		return 0;
	}
	*section = v;
	return 3;
}

/* charset'language'value: the charset and where the value starts (1), or 0 when the form is wrong. */
static int split_ext(const char *v, size_t n, const char **cs, size_t *cs_len, size_t *value_at)
{
	const char *q1 = memchr(v, '\'', n);
	if (!q1)
		return 0;
	const char *q2 = memchr(q1 + 1, '\'', (size_t)(v + n - q1 - 1));
	if (!q2)
		return 0;
	*cs = v;
	*cs_len = (size_t)(q1 - v);
	*value_at = (size_t)(q2 + 1 - v);
	return 1;
}

int eas__mime_param(eas_buf *out, const char *params, size_t len, const char *name)
{
	if (!params || !len)
		return 0;
	param ps[MAX_PARAMS];
	size_t n = split_params(params, len, ps, MAX_PARAMS);
	const param *plain = NULL, *ext = NULL;
	const param *sections[MAX_SECTIONS];
	int section_ext[MAX_SECTIONS];
	int have_sections = 0;
	memset(sections, 0, sizeof sections);
	for (size_t i = 0; i < n; i++) {
		int sec = 0, is_ext = 0;
		int m = match_name(&ps[i], name, &sec, &is_ext);
		if (m == 1 && !plain)
			plain = &ps[i];
		else if (m == 2 && !ext)
			ext = &ps[i];
		else if (m == 3 && !sections[sec]) {
			sections[sec] = &ps[i];
			section_ext[sec] = is_ext;
			have_sections = 1;
		}
	}
	eas_buf raw;
	eas_buf_init(&raw, &out->mem, 0);
	int rc = 0;
	if (ext) {
		const char *cs;
		size_t cs_len, at;
		if (split_ext(ext->value, ext->value_len, &cs, &cs_len, &at)) {
			rc = pct_decode(&raw, ext->value + at, ext->value_len - at);
			if (rc == 0) {
				rc = eas__mime_to_utf8(out, raw.data, raw.len, cs, cs_len);
				rc = rc < 0 ? rc : 0;
			}
			eas_buf_free(&raw);
			return rc ? rc : 1;
		}
	}
	if (have_sections && sections[0]) {
		const char *cs = NULL;
		size_t cs_len = 0;
		int encoded = section_ext[0];
		for (int s = 0; rc == 0 && s < MAX_SECTIONS && sections[s]; s++) {
			const param *p = sections[s];
			if (section_ext[s]) {
				size_t at = 0;
				if (s == 0 && !split_ext(p->value, p->value_len, &cs, &cs_len, &at)) {
					encoded = 0;
					rc = unquote(&raw, p);
					continue;
				}
				rc = pct_decode(&raw, p->value + at, p->value_len - at);
			} else {
				rc = unquote(&raw, p);
			}
		}
		if (rc == 0) {
			if (encoded)
				rc = eas__mime_to_utf8(out, raw.data, raw.len, cs, cs_len);
			else
				rc = eas__mime_decode_words(out, (const char *)raw.data, raw.len, NULL);
			rc = rc < 0 ? rc : 0;
		}
		eas_buf_free(&raw);
		return rc ? rc : 1;
	}
	if (plain) {
		rc = unquote(&raw, plain);
		if (rc == 0)
			rc = eas__mime_decode_words(out, raw.data ? (const char *)raw.data : "", raw.len, NULL);
		eas_buf_free(&raw);
		return rc ? rc : 1;
	}
	eas_buf_free(&raw);
	return 0;
}
