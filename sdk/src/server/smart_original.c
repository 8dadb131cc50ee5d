/* The original message under a reply or forward (see smart_original.h). */
#include "server/smart_original.h"

#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/mem.h"
#include "eas/email.h"
#include "server/body.h"

/* The original's header fields, from its stored ApplicationData (To, Cc) and summary. */
typedef struct original {
	const char *from, *to, *cc, *subject;
	char sent[40];
	const char *body;      /* text or HTML (body_type), NULL when none or too large */
	size_t body_len;
	int body_is_html;
	int body_left_out;
} original;

static void sent_text(char *out, size_t size, int64_t t)
{
	char iso[32];
	eas_mime_date_format(iso, sizeof iso, t);
	/* "2024-03-01T08:30:00.000Z" -> "2024-03-01 08:30 UTC" */
	snprintf(out, size, "%.10s %.5s UTC", iso, iso + 11);
}

static int append_html_escaped(eas_buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *r = s[i] == '<' ? "&lt;" : s[i] == '>' ? "&gt;" : s[i] == '&' ? "&amp;" : s[i] == '"' ? "&quot;" : NULL;
		if (r)
			eas_buf_append_str(b, r);
		else
			eas_buf_append(b, s + i, 1);
	}
	return b->result;
}

static void field_line(eas_buf *b, const char *name, const char *value, int html)
{
	if (!value || !*value)
		return;
	if (html) {
		eas_buf_append_str(b, "<b>");
		eas_buf_append_str(b, name);
		eas_buf_append_str(b, ":</b> ");
		append_html_escaped(b, value, strlen(value));
		eas_buf_append_str(b, "<br>\r\n");
	} else {
		eas_buf_append_str(b, name);
		eas_buf_append_str(b, ": ");
		eas_buf_append_str(b, value);
		eas_buf_append_str(b, "\r\n");
	}
}

/* The quoted block in text form. */
static int text_block(eas_srv_ctx *c, eas_mime_message *m, const original *o)
{
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	eas_buf_append_str(&b, "\r\n\r\n-----Original Message-----\r\n");
	field_line(&b, "From", o->from, 0);
	field_line(&b, "Sent", o->sent, 0);
	field_line(&b, "To", o->to, 0);
	field_line(&b, "Cc", o->cc, 0);
	field_line(&b, "Subject", o->subject, 0);
	eas_buf_append_str(&b, "\r\n");
	if (o->body && o->body_is_html) {
		size_t cap = o->body_len + 1;
		char *t = eas__malloc(c->mem, cap);
		if (!t) {
			eas_buf_free(&b);
			return EAS_E_NOMEM;
		}
		size_t n = eas__srv_html_to_text(t, cap, o->body, o->body_len);
		eas_buf_append(&b, t, n);
		eas__free(c->mem, t);
	} else if (o->body) {
		eas_buf_append(&b, o->body, o->body_len);
	} else if (o->body_left_out) {
		eas_buf_append_str(&b, "(the original text is too large to include)\r\n");
	}
	int rc = b.result;
	if (rc == 0)
		rc = eas_mime_append(m, &m->text, &m->text_len, b.data ? (const char *)b.data : "", b.len);
	eas_buf_free(&b);
	return rc;
}

/* Where the block goes in HTML: before the last </body>, else at the end. */
static size_t html_insert_at(const char *html, size_t len)
{
	for (size_t i = len; i >= 7; i--) {
		const char *p = html + i - 7;
		if (p[0] == '<' && p[1] == '/' && (p[2] | 0x20) == 'b' && (p[3] | 0x20) == 'o' && (p[4] | 0x20) == 'd' &&
		    (p[5] | 0x20) == 'y' && p[6] == '>')
			return i - 7;
	}
	return len;
}

static int html_block(eas_srv_ctx *c, eas_mime_message *m, const original *o)
{
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	size_t at = html_insert_at(m->html, m->html_len);
	eas_buf_append(&b, m->html, at);
	eas_buf_append_str(&b, "\r\n<hr>\r\n<div>\r\n");
	field_line(&b, "From", o->from, 1);
	field_line(&b, "Sent", o->sent, 1);
	field_line(&b, "To", o->to, 1);
	field_line(&b, "Cc", o->cc, 1);
	field_line(&b, "Subject", o->subject, 1);
	eas_buf_append_str(&b, "</div>\r\n");
	if (o->body && o->body_is_html) {
		eas_buf_append(&b, o->body, o->body_len);
	} else if (o->body) {
		eas_buf_append_str(&b, "<pre>");
		append_html_escaped(&b, o->body, o->body_len);
		eas_buf_append_str(&b, "</pre>");
	} else if (o->body_left_out) {
		eas_buf_append_str(&b, "<p>(the original text is too large to include)</p>");
	}
	eas_buf_append(&b, m->html + at, m->html_len - at);
	int rc = b.result;
	if (rc == 0 && memchr(b.data, '\0', b.len))
		rc = EAS_E_MALFORMED;
	if (rc == 0)
		rc = eas_mime_set(m, &m->html, (const char *)b.data, b.len);
	if (rc == 0)
		m->html_len = b.len;
	eas_buf_free(&b);
	return rc;
}

/* A forward carries the original's attachments along. */
static int copy_attachments(eas_srv_ctx *c, eas_mime_message *m, const eas_mstore_item *orig)
{
	uint64_t total = 0;
	for (size_t i = 0; i < orig->attachment_count; i++) {
		const eas_mstore_attachment *s = &orig->attachments[i];
		if (total + s->size > EAS_SRV_FORWARD_ATTACH_MAX) {
			snprintf(c->err, sizeof c->err, "forward: original attachments over %u bytes left out",
				 (unsigned)EAS_SRV_FORWARD_ATTACH_MAX);
			break;
		}
		uint8_t *data = s->size ? eas__malloc(c->mem, (size_t)s->size) : NULL;
		if (s->size && !data)
			return EAS_E_NOMEM;
		size_t got = 0;
		int rc = 0;
		while (rc == 0 && got < s->size) {
			size_t n = 0;
			rc = c->store->attachment_read(&n, c->store, c->user_id, s->file_reference, got, data + got,
						       (size_t)s->size - got);
			if (rc == 0 && n == 0)
				break;
			got += n;
		}
		if (rc == 0) {
			eas_mime_attachment a;
			memset(&a, 0, sizeof a);
			a.name = (char *)(s->name && *s->name ? s->name : "attachment");
			a.content_type = (char *)s->content_type;
			a.content_id = (char *)s->content_id;
			a.content_location = (char *)s->content_location;
			a.is_inline = s->is_inline;
			a.is_message = s->method == EAS_ATTACHMENT_EMBEDDED_MESSAGE;
			a.data = data;
			a.len = got;
			rc = eas_mime_add_attachment(m, &a);
		}
		eas__free(c->mem, data);
		if (rc)
			return rc;
		total += got;
	}
	return 0;
}

int eas__srv_add_original(eas_srv_ctx *c, eas_mime_message *m, const eas_mstore_item *orig, int forward)
{
	original o;
	memset(&o, 0, sizeof o);
	o.from = orig->summary.from;
	o.subject = orig->summary.subject;
	sent_text(o.sent, sizeof o.sent, orig->summary.date);
	eas_email e;
	memset(&e, 0, sizeof e);
	char err[120];
	if (orig->application_data &&
	    eas_email_decode(&e, orig->application_data, orig->application_data_len, c->mem, err, sizeof err) == 0) {
		o.to = e.to;
		o.cc = e.cc;
	}
	if (orig->body_type == EAS_BODY_TYPE_PLAIN || orig->body_type == EAS_BODY_TYPE_HTML) {
		if (orig->body_size > EAS_SRV_ORIGINAL_BODY_MAX) {
			o.body_left_out = 1;
		} else if (orig->body) {
			o.body = (const char *)orig->body;
			o.body_len = (size_t)orig->body_size;
			if (memchr(o.body, '\0', o.body_len))
				o.body_len = strlen(o.body);
			o.body_is_html = orig->body_type == EAS_BODY_TYPE_HTML;
		}
	}
	int rc = 0;
	if (m->html)
		rc = html_block(c, m, &o);
	if (rc == 0 && (m->text || !m->html))
		rc = text_block(c, m, &o);
	if (rc == 0 && forward)
		rc = copy_attachments(c, m, orig);
	eas_email_clear(&e);
	return rc;
}
