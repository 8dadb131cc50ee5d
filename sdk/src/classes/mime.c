/*
 * The message walker (see mime.h): the top header section into the
 * message's fields, then the body part tree: multipart split on its
 * boundary, leaves decoded and sorted into the text body, the HTML body
 * and attachments.
 */
#include "classes/mime.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "classes/mime_internal.h"
#include "common/mem.h"

/* Longest attachment name, Content-ID or Content-Location kept (bytes). */
#define NAME_MAX_BYTES 255

/* What kind of multipart a part sits in. */
enum { PARENT_NONE = 0, PARENT_MIXED, PARENT_ALTERNATIVE, PARENT_RELATED, PARENT_DIGEST };

typedef struct parser {
	eas_mime_message *m;
	eas_mime_limits lim;
	size_t headers, parts;
	char *err;
	size_t err_size;
} parser;

/* The header fields one body part needs. */
typedef struct part_hdrs {
	const eas__mime_field *ctype, *cte, *cdisp, *cid, *cloc;
	eas__mime_field f[5];
} part_hdrs;

/* The top-level fields, first occurrence of each. */
enum { T_FROM, T_SENDER, T_REPLY_TO, T_TO, T_CC, T_BCC, T_SUBJECT, T_DATE, T_MESSAGE_ID, T_IN_REPLY_TO,
       T_REFERENCES, T_IMPORTANCE, T_X_PRIORITY, T_PRIORITY, T_X_MSMAIL_PRIORITY, T_CONTENT_CLASS,
       T_THREAD_TOPIC, T_COUNT };
static const char *const top_names[T_COUNT] = {
	"From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Subject", "Date", "Message-ID", "In-Reply-To",
	"References", "Importance", "X-Priority", "Priority", "X-MSMail-Priority", "Content-Class", "Thread-Topic",
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(parser *p, int rc, const char *fmt, ...)
{
	if (p->err && p->err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->err, p->err_size, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* Hands b's bytes to *out as a NUL-terminated string (NULL when empty and !keep_empty). */
static int take(eas_buf *b, char **out, size_t *out_len, int keep_empty)
{
	if (!b->len && !keep_empty) {
		eas_buf_free(b);
		return 0;
	}
	if (eas_buf_append(b, "", 1)) {
		int rc = b->result;
		eas_buf_free(b);
		return rc;
	}
	size_t n;
	*out = (char *)eas_buf_steal(b, &n);
	if (out_len)
		*out_len = n - 1;
	return 0;
}

/* ---- header sections ------------------------------------------------------------- */

static int read_headers(parser *p, const char *start, const char *end, part_hdrs *h,
			eas__mime_field *top, const char **body, size_t *fields)
{
	static const char *const part_names[5] = { "Content-Type", "Content-Transfer-Encoding",
						   "Content-Disposition", "Content-ID", "Content-Location" };
	memset(h, 0, sizeof *h);
	eas__mime_hdr_reader r = { start, end, 0, 0 };
	eas__mime_field f;
	int rc;
	size_t n = 0;
	while ((rc = eas__mime_next_field(&r, &f, p->lim.max_field)) == 1) {
		n++;
		if (++p->headers > p->lim.max_headers)
			return fail(p, EAS_E_LIMIT, "more than %zu header fields", p->lim.max_headers);
		for (int i = 0; i < 5; i++) {
			if (eas__mime_field_is(&f, part_names[i]) && !h->f[i].name) {
				h->f[i] = f;
				break;
			}
		}
		if (top) {
			for (int i = 0; i < T_COUNT; i++) {
				if (!top[i].name && eas__mime_field_is(&f, top_names[i])) {
					top[i] = f;
					break;
				}
			}
		}
	}
	if (rc < 0)
		return fail(p, rc, "a header field is longer than %zu bytes", p->lim.max_field);
	h->ctype = h->f[0].name ? &h->f[0] : NULL;
	h->cte = h->f[1].name ? &h->f[1] : NULL;
	h->cdisp = h->f[2].name ? &h->f[2] : NULL;
	h->cid = h->f[3].name ? &h->f[3] : NULL;
	h->cloc = h->f[4].name ? &h->f[4] : NULL;
	*body = r.p;
	if (fields)
		*fields = n;
	return 0;
}

static int decoded_text(parser *p, const eas__mime_field *f, char **out)
{
	eas_buf b;
	eas_buf_init(&b, &p->m->mem, 0);
	int kept = 0;
	int rc = eas__mime_decode_words(&b, f->value, f->value_len, &kept);
	if (kept)
		eas_mime_note(p->m, "a header charset was not converted");
	if (rc) {
		eas_buf_free(&b);
		return rc;
	}
	return take(&b, out, NULL, 0);
}

static int address_list(parser *p, const eas__mime_field *f, char **out)
{
	eas_buf b;
	eas_buf_init(&b, &p->m->mem, 0);
	int rc = eas__mime_address_list(&b, f->value, f->value_len, NULL);
	if (rc) {
		eas_buf_free(&b);
		return rc;
	}
	return take(&b, out, NULL, 0);
}

/* The id inside <...> (or the trimmed value), without blanks. */
static int msg_id(parser *p, const eas__mime_field *f, char **out)
{
	const char *s = f->value, *e = f->value + f->value_len;
	const char *lt = memchr(s, '<', f->value_len);
	if (lt) {
		const char *gt = memchr(lt, '>', (size_t)(e - lt));
		s = lt + 1;
		e = gt ? gt : e;
	}
	eas_buf b;
	eas_buf_init(&b, &p->m->mem, 0);
	for (const char *c = s; c < e && b.len < 998; c++)
		if ((unsigned char)*c > 32 && (unsigned char)*c < 127 && *c != '<' && *c != '>')
			eas_buf_append(&b, c, 1);
	if (b.result) {
		int rc = b.result;
		eas_buf_free(&b);
		return rc;
	}
	return take(&b, out, NULL, 0);
}

/* Importance from the four headers that carry it (first one that says something). */
static void importance(eas_mime_message *m, const eas__mime_field *top)
{
	for (int which = 0; which < 4 && !m->has_importance; which++) {
		const eas__mime_field *f = &top[which == 0 ? T_IMPORTANCE : which == 1 ? T_X_PRIORITY
								  : which == 2 ? T_PRIORITY : T_X_MSMAIL_PRIORITY];
		if (!f->name)
			continue;
		const char *s = f->value, *e = f->value + f->value_len;
		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		size_t n = 0;
		while (s + n < e && ((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= 'A' && s[n] <= 'Z') || s[n] == '-' ||
				     (s[n] >= '0' && s[n] <= '9')))
			n++;
		int v = -1;
		if (which == 1) {
			if (n && s[0] >= '1' && s[0] <= '5')
				v = s[0] <= '2' ? 2 : s[0] == '3' ? 1 : 0;
		} else if (eas__mime_ieq_n(s, n, "high") || eas__mime_ieq_n(s, n, "urgent")) {
			v = 2;
		} else if (eas__mime_ieq_n(s, n, "normal")) {
			v = 1;
		} else if (eas__mime_ieq_n(s, n, "low") || eas__mime_ieq_n(s, n, "non-urgent")) {
			v = 0;
		}
		if (v >= 0) {
			m->has_importance = 1;
			m->importance = (uint32_t)v;
		}
	}
}

static int top_fields(parser *p, const eas__mime_field *top)
{
	eas_mime_message *m = p->m;
	struct {
		int field;
		char **out;
	} addrs[] = { { T_FROM, &m->from }, { T_SENDER, &m->sender }, { T_REPLY_TO, &m->reply_to },
		      { T_TO, &m->to }, { T_CC, &m->cc }, { T_BCC, &m->bcc } };
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < sizeof addrs / sizeof addrs[0]; i++)
		if (top[addrs[i].field].name)
			rc = address_list(p, &top[addrs[i].field], addrs[i].out);
	if (rc == 0 && top[T_SUBJECT].name)
		rc = decoded_text(p, &top[T_SUBJECT], &m->subject);
	if (rc == 0 && top[T_CONTENT_CLASS].name)
		rc = decoded_text(p, &top[T_CONTENT_CLASS], &m->content_class);
	if (rc == 0 && top[T_THREAD_TOPIC].name)
		rc = decoded_text(p, &top[T_THREAD_TOPIC], &m->thread_topic);
	if (rc == 0 && top[T_IN_REPLY_TO].name)
		rc = decoded_text(p, &top[T_IN_REPLY_TO], &m->in_reply_to);
	if (rc == 0 && top[T_REFERENCES].name)
		rc = decoded_text(p, &top[T_REFERENCES], &m->references);
	if (rc == 0 && top[T_MESSAGE_ID].name)
		rc = msg_id(p, &top[T_MESSAGE_ID], &m->message_id);
	if (rc)
		return rc;
	if (top[T_DATE].name) {
		if (eas_mime_date_parse(&m->date, top[T_DATE].value, top[T_DATE].value_len) == 0)
			m->has_date = 1;
		else
			eas_mime_note(m, "unreadable Date");
	}
	importance(m, top);
	return 0;
}

/* ---- leaves ------------------------------------------------------------------------------ */

/* Decodes the Content-Transfer-Encoding of body[0..len) into out. */
static int transfer_decode(parser *p, const part_hdrs *h, const char *body, size_t len, eas_buf *out)
{
	eas__mime_ctype cte;
	if (h->cte)
		eas__mime_ctype_parse(&cte, h->cte->value, h->cte->value_len);
	else
		cte.type[0] = '\0';
	const uint8_t *b = (const uint8_t *)body;
	if (strcmp(cte.type, "base64") == 0) {
		size_t bad = 0;
		int rc = eas__mime_base64(out, b, len, &bad);
		if (bad)
			eas_mime_note(p->m, "stray characters in base64 skipped");
		return rc;
	}
	if (strcmp(cte.type, "quoted-printable") == 0)
		return eas__mime_qp(out, b, len, 0);
	if (cte.type[0] && strcmp(cte.type, "7bit") && strcmp(cte.type, "8bit") && strcmp(cte.type, "binary"))
		eas_mime_note(p->m, "unknown Content-Transfer-Encoding kept as it is");
	return eas_buf_append(out, b, len) ? out->result : 0;
}

static int param(parser *p, const eas__mime_ctype *ct, const char *name, char **out)
{
	eas_buf b;
	eas_buf_init(&b, &p->m->mem, 0);
	int rc = eas__mime_param(&b, ct->params, ct->params_len, name);
	if (rc <= 0) {
		eas_buf_free(&b);
		*out = NULL;
		return rc;
	}
	return take(&b, out, NULL, 0);
}

/* Cuts s at max bytes without splitting a UTF-8 sequence. */
static void cut_utf8(char *s, size_t max)
{
	size_t n = strlen(s);
	if (n <= max)
		return;
	while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	s[max] = '\0';
}

/* A file name as shown: no directories, no leading blanks or dots, capped. */
static void clean_name(char *s)
{
	char *base = s;
	for (char *c = s; *c; c++)
		if (*c == '/' || *c == '\\')
			base = c + 1;
	while (*base == ' ' || *base == '.')
		base++;
	memmove(s, base, strlen(base) + 1);
	cut_utf8(s, NAME_MAX_BYTES);
}

static const char *extension(const char *type)
{
	static const struct {
		const char *type, *ext;
	} map[] = { { "text/plain", ".txt" }, { "text/html", ".html" }, { "text/calendar", ".ics" },
		    { "message/rfc822", ".eml" }, { "image/png", ".png" }, { "image/jpeg", ".jpg" },
		    { "image/gif", ".gif" }, { "application/pdf", ".pdf" } };
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(type, map[i].type) == 0)
			return map[i].ext;
	return ".bin";
}

/* The Subject of an embedded message, for its attachment name. */
static int embedded_subject(parser *p, const uint8_t *data, size_t len, char **out)
{
	*out = NULL;
	if (!len)
		return 0;
	eas__mime_hdr_reader r = { (const char *)data, (const char *)data + len, 0, 0 };
	eas__mime_field f;
	int rc;
	while ((rc = eas__mime_next_field(&r, &f, p->lim.max_field)) == 1 && r.count <= 200)
		if (eas__mime_field_is(&f, "Subject"))
			return decoded_text(p, &f, out);
	(void)rc; /* an unreadable inner header only costs the name */
	return 0;
}

static int adopt(eas_mime_message *m, eas_mime_attachment *a)
{
	if (m->attachment_count == m->attachment_cap) {
		size_t cap = m->attachment_cap ? m->attachment_cap * 2 : 4;
		eas_mime_attachment *n = eas__realloc(&m->mem, m->attachments, cap * sizeof *n);
		if (!n)
			return EAS_E_NOMEM;
		m->attachments = n;
		m->attachment_cap = cap;
	}
	m->attachments[m->attachment_count++] = *a;
	memset(a, 0, sizeof *a);
	return 0;
}

static void drop(eas_mime_message *m, eas_mime_attachment *a)
{
	eas__free(&m->mem, a->name);
	eas__free(&m->mem, a->content_type);
	eas__free(&m->mem, a->content_id);
	eas__free(&m->mem, a->content_location);
	eas__free(&m->mem, a->data);
	memset(a, 0, sizeof *a);
}

static int attachment(parser *p, const part_hdrs *h, const char *type, const eas__mime_ctype *ct,
		      const eas__mime_ctype *disp, eas_buf *data, int parent)
{
	eas_mime_message *m = p->m;
	eas_mime_attachment a;
	memset(&a, 0, sizeof a);
	int rc = param(p, disp, "filename", &a.name);
	if (rc == 0 && !a.name)
		rc = param(p, ct, "name", &a.name);
	if (rc == 0 && h->cid) {
		rc = msg_id(p, h->cid, &a.content_id);
		if (a.content_id)
			cut_utf8(a.content_id, NAME_MAX_BYTES);
	}
	if (rc == 0 && h->cloc) {
		rc = decoded_text(p, h->cloc, &a.content_location);
		if (a.content_location)
			cut_utf8(a.content_location, NAME_MAX_BYTES);
	}
	a.is_message = strcmp(type, "message/rfc822") == 0;
	if (rc == 0 && !a.name && a.is_message) {
		char *subject = NULL;
		rc = embedded_subject(p, data->data, data->len, &subject);
		if (rc == 0 && subject) {
			cut_utf8(subject, NAME_MAX_BYTES - 4);
			eas_buf b;
			eas_buf_init(&b, &m->mem, 0);
			eas_buf_append_str(&b, subject);
			eas_buf_append_str(&b, ".eml");
			rc = take(&b, &a.name, NULL, 0);
		}
		eas__free(&m->mem, subject);
	}
	if (rc == 0 && a.name) {
		clean_name(a.name);
		if (!a.name[0]) {
			eas__free(&m->mem, a.name);
			a.name = NULL;
		}
	}
	if (rc == 0 && !a.name) {
		char made[64];
		snprintf(made, sizeof made, "attachment-%zu%s", m->attachment_count + 1, extension(type));
		a.name = eas__strdup(&m->mem, made);
		if (!a.name)
			rc = EAS_E_NOMEM;
	}
	if (rc == 0) {
		a.content_type = eas__strdup(&m->mem, type);
		if (!a.content_type)
			rc = EAS_E_NOMEM;
	}
	a.is_inline = strcmp(disp->type, "inline") == 0 || (parent == PARENT_RELATED && a.content_id && !disp->type[0]);
	if (rc == 0 && data->len) {
		a.data = eas_buf_steal(data, &a.len);
		if (!a.data)
			rc = EAS_E_NOMEM;
	}
	if (rc == 0)
		rc = adopt(m, &a);
	if (rc)
		drop(m, &a);
	return rc;
}

/* A text part: converted to UTF-8 and made (or appended to) a body; 1 when it was not taken. */
static int text_body(parser *p, int html, const eas__mime_ctype *ct, const eas_buf *raw, int parent)
{
	eas_mime_message *m = p->m;
	char **field = html ? &m->html : &m->text;
	size_t *len = html ? &m->html_len : &m->text_len;
	if (*field && (parent == PARENT_ALTERNATIVE || html))
		return 1; /* a second alternative (ignored) or a second HTML part (an attachment) */
	eas_buf cs, out;
	eas_buf_init(&cs, &m->mem, 0);
	eas_buf_init(&out, &m->mem, 0);
	int rc = eas__mime_param(&cs, ct->params, ct->params_len, "charset");
	if (rc >= 0)
		rc = eas__mime_to_utf8(&out, raw->data, raw->len, (const char *)cs.data, cs.len);
	if (rc == EAS_MIME_CS_KEPT) {
		char note[96];
		int shown = cs.len > 40 ? 40 : (int)cs.len; /* the parameter text is not NUL-terminated */
		snprintf(note, sizeof note, "charset %.*s kept as it is", shown ? shown : 1, shown ? (const char *)cs.data : "?");
		for (char *c = note; *c; c++)
			if ((unsigned char)*c < 32 || *c == ';')
				*c = ' ';
		eas_mime_note(m, note);
	}
	eas_buf_free(&cs);
	if (rc < 0) {
		eas_buf_free(&out);
		return rc;
	}
	if (!*field) {
		rc = take(&out, field, len, 1);
		return rc;
	}
	/* a further inline text part of a mixed message: appended */
	rc = eas_mime_append(m, field, len, "\r\n", 2);
	if (rc == 0 && out.len)
		rc = eas_mime_append(m, field, len, (const char *)out.data, out.len);
	eas_buf_free(&out);
	return rc;
}

/* ---- structure ---------------------------------------------------------------------------- */

static int walk(parser *p, const char *start, const char *end, unsigned depth, int parent, eas__mime_field *top);

/* Splits a multipart body on "--boundary" lines and walks each part. */
static int split(parser *p, const char *b, const char *e, const char *boundary, size_t blen, unsigned depth,
		 int kind)
{
	const char *line = b, *part = NULL;
	int found = 0;
	while (line < e) {
		const char *nl = memchr(line, '\n', (size_t)(e - line));
		const char *next = nl ? nl + 1 : e;
		if ((size_t)(e - line) >= 2 + blen && line[0] == '-' && line[1] == '-' &&
		    memcmp(line + 2, boundary, blen) == 0) {
			const char *a = line + 2 + blen;
			int close = a + 2 <= e && a[0] == '-' && a[1] == '-';
			if (close)
				a += 2;
			while (a < e && (*a == ' ' || *a == '\t' || *a == '\r'))
				a++;
			if (a == e || *a == '\n') {
				found = 1;
				if (part) {
					/* the line break before the delimiter belongs to it */
					const char *pe = line;
					if (pe > part && pe[-1] == '\n')
						pe--;
					if (pe > part && pe[-1] == '\r')
						pe--;
					int rc = walk(p, part, pe, depth + 1, kind, NULL);
					if (rc)
						return rc;
				}
				if (close)
					return 0; /* the epilogue is not content */
				part = next;
			}
		}
		line = next;
	}
	if (part) {
		eas_mime_note(p->m, "missing closing boundary");
		return walk(p, part, e, depth + 1, kind, NULL);
	}
	if (!found)
		eas_mime_note(p->m, "multipart without parts");
	return 0;
}

static int walk(parser *p, const char *start, const char *end, unsigned depth, int parent, eas__mime_field *top)
{
	if (++p->parts > p->lim.max_parts)
		return fail(p, EAS_E_LIMIT, "more than %zu body parts", p->lim.max_parts);
	part_hdrs h;
	const char *body = start;
	size_t fields = 0;
	int rc = read_headers(p, start, end, &h, top, &body, &fields);
	if (rc)
		return rc;
	if (top) {
		if (!fields)
			return fail(p, EAS_E_MALFORMED, "no header fields: not a message");
		rc = top_fields(p, top);
		if (rc)
			return rc;
	}
	eas__mime_ctype ct, disp;
	if (h.ctype)
		eas__mime_ctype_parse(&ct, h.ctype->value, h.ctype->value_len);
	else
		memset(&ct, 0, sizeof ct);
	if (!strchr(ct.type, '/')) {
		if (ct.type[0] || h.ctype)
			eas_mime_note(p->m, "bad Content-Type read as text/plain");
		snprintf(ct.type, sizeof ct.type, "%s", parent == PARENT_DIGEST ? "message/rfc822" : "text/plain");
	}
	if (h.cdisp)
		eas__mime_ctype_parse(&disp, h.cdisp->value, h.cdisp->value_len);
	else
		memset(&disp, 0, sizeof disp);
	size_t blen = (size_t)(end - body);

	if (strncmp(ct.type, "multipart/", 10) == 0) {
		eas_buf bnd;
		eas_buf_init(&bnd, &p->m->mem, 0);
		rc = eas__mime_param(&bnd, ct.params, ct.params_len, "boundary");
		if (rc < 0) {
			eas_buf_free(&bnd);
			return rc;
		}
		if (rc == 1 && bnd.len && bnd.len <= 200 && depth < p->lim.max_depth) {
			const char *sub = ct.type + 10;
			int kind = strcmp(sub, "alternative") == 0 ? PARENT_ALTERNATIVE
				   : strcmp(sub, "related") == 0   ? PARENT_RELATED
				   : strcmp(sub, "digest") == 0	   ? PARENT_DIGEST
								   : PARENT_MIXED;
			rc = split(p, body, end, (const char *)bnd.data, bnd.len, depth, kind);
			eas_buf_free(&bnd);
			return rc;
		}
		eas_buf_free(&bnd);
		if (depth >= p->lim.max_depth)
			eas_mime_note(p->m, "multipart nested too deep: kept as an attachment");
		else
			eas_mime_note(p->m, "multipart without a usable boundary: kept as an attachment");
		eas_buf raw;
		eas_buf_init(&raw, &p->m->mem, 0);
		if (eas_buf_append(&raw, body, blen)) {
			rc = raw.result;
			eas_buf_free(&raw);
			return rc;
		}
		rc = attachment(p, &h, ct.type, &ct, &disp, &raw, parent);
		eas_buf_free(&raw);
		return rc;
	}

	eas_buf data;
	eas_buf_init(&data, &p->m->mem, 0);
	rc = transfer_decode(p, &h, body, blen, &data);
	if (rc == 0) {
		int is_plain = strcmp(ct.type, "text/plain") == 0, is_html = strcmp(ct.type, "text/html") == 0;
		int named = 0;
		if ((is_plain || is_html) && strcmp(disp.type, "attachment") != 0) {
			eas_buf name;
			eas_buf_init(&name, &p->m->mem, 0);
			named = eas__mime_param(&name, disp.params, disp.params_len, "filename") == 1 ||
				eas__mime_param(&name, ct.params, ct.params_len, "name") == 1;
			eas_buf_free(&name);
		}
		int taken = 0;
		if ((is_plain || is_html) && strcmp(disp.type, "attachment") != 0 && !named) {
			rc = text_body(p, is_html, &ct, &data, parent);
			taken = rc == 0;
			if (rc == 1)
				rc = 0;
		}
		if (rc == 0 && !taken)
			rc = attachment(p, &h, ct.type, &ct, &disp, &data, parent);
	}
	eas_buf_free(&data);
	return rc;
}

int eas_mime_parse(eas_mime_message *out, const uint8_t *data, size_t len, const eas_mime_limits *limits,
		   const eas_mem *mem, char *err, size_t err_size)
{
	if (err && err_size)
		err[0] = '\0';
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	eas__mem_init(&out->mem, mem);
	if (!data && len)
		return EAS_E_INVALID;
	parser p;
	memset(&p, 0, sizeof p);
	p.m = out;
	p.err = err;
	p.err_size = err_size;
	if (limits)
		p.lim = *limits;
	if (!p.lim.max_size)
		p.lim.max_size = EAS_MIME_DEFAULT_MAX_SIZE;
	if (!p.lim.max_headers)
		p.lim.max_headers = EAS_MIME_DEFAULT_MAX_HEADERS;
	if (!p.lim.max_field)
		p.lim.max_field = EAS_MIME_DEFAULT_MAX_FIELD;
	if (!p.lim.max_depth)
		p.lim.max_depth = EAS_MIME_DEFAULT_MAX_DEPTH;
	if (!p.lim.max_parts)
		p.lim.max_parts = EAS_MIME_DEFAULT_MAX_PARTS;
	if (len == 0)
		return fail(&p, EAS_E_MALFORMED, "empty message");
	if (len > p.lim.max_size)
		return fail(&p, EAS_E_LIMIT, "message larger than %zu bytes", p.lim.max_size);
	out->size = len;
	eas__mime_field top[T_COUNT];
	memset(top, 0, sizeof top);
	int rc = walk(&p, (const char *)data, (const char *)data + len, 0, PARENT_NONE, top);
	if (rc == EAS_E_NOMEM && err && err_size && !err[0])
		snprintf(err, err_size, "out of memory");
	if (rc) {
		eas_mem keep = out->mem;
		eas_mime_message_clear(out);
		out->mem = keep;
	}
	return rc;
}
