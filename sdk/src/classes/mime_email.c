/* A parsed MIME message as the fields of an Email item (see mime_email.h). */
#include "classes/mime_email.h"

#include <string.h>

#include "common/buf.h"
#include "common/mem.h"

const char *eas_mime_thread_topic(const char *subject)
{
	static const char *const prefixes[] = { "re", "fw", "fwd", "aw", "wg", "sv", "tr", "rif", NULL };
	if (!subject)
		return NULL;
	const char *s = subject;
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		int matched = 0;
		for (size_t i = 0; prefixes[i] && !matched; i++) {
			size_t n = strlen(prefixes[i]), k = 0;
			while (k < n && (s[k] | 0x20) == prefixes[i][k])
				k++;
			if (k < n)
				continue;
			/* "Re:", "RE[2]:" */
			if (s[k] == '[') {
				size_t j = k + 1;
				while (s[j] >= '0' && s[j] <= '9')
					j++;
				if (s[j] == ']')
					k = j + 1;
			}
			if (s[k] == ':') {
				s += k + 1;
				matched = 1;
			}
		}
		if (!matched)
			return s;
	}
}

/* The To display names (or addresses), "; "-separated, as Exchange shows them. */
static int display_to(eas_mime_email *out, const char *to)
{
	eas_buf b;
	eas_buf_init(&b, &out->mem, 0);
	const char *cur = to;
	eas_mime_address a;
	while (eas_mime_address_next(&cur, &a)) {
		if (b.len)
			eas_buf_append(&b, "; ", 2);
		eas_buf_append_str(&b, a.name[0] ? a.name : a.addr);
	}
	if (b.result || eas_buf_append(&b, "", 1)) {
		eas_buf_free(&b);
		return EAS_E_NOMEM;
	}
	size_t n;
	out->display_to = (char *)eas_buf_steal(&b, &n);
	return 0;
}

int eas_mime_email_build(eas_mime_email *out, const eas_mime_message *m, int64_t fallback_date, const eas_mem *mem)
{
	if (!out || !m)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	eas__mem_init(&out->mem, mem);
	eas_email *e = &out->email;
	e->from = m->from;
	e->to = m->to;
	e->cc = m->cc;
	e->reply_to = m->reply_to;
	e->subject = m->subject;
	eas_mime_date_format(out->date, sizeof out->date, m->has_date ? m->date : fallback_date);
	e->date_received = out->date;
	if (m->to && display_to(out, m->to) != 0)
		return EAS_E_NOMEM;
	e->display_to = out->display_to && out->display_to[0] ? out->display_to : NULL;
	const char *topic = m->thread_topic ? m->thread_topic : eas_mime_thread_topic(m->subject);
	if (topic) {
		out->thread_topic = eas__strdup(&out->mem, topic);
		if (!out->thread_topic) {
			eas_mime_email_clear(out);
			return EAS_E_NOMEM;
		}
		e->thread_topic = out->thread_topic;
	}
	e->has_importance = 1;
	e->importance = m->has_importance ? m->importance : EAS_EMAIL_IMPORTANCE_NORMAL;
	e->message_class = "IPM.Note";
	e->internet_cpid = "65001";
	e->content_class = m->content_class ? m->content_class : "urn:content-classes:message";

	e->body.present = 1;
	e->body.has_data = 1;
	e->body.has_estimated_data_size = 1;
	if (m->html) {
		/* the richer form is kept: the server derives plain text from it for clients that ask for text */
		e->body.type = EAS_BODY_TYPE_HTML;
		e->body.data = m->html;
		e->body.data_len = m->html_len;
	} else {
		e->body.type = EAS_BODY_TYPE_PLAIN;
		e->body.data = m->text ? m->text : "";
		e->body.data_len = m->text ? m->text_len : 0;
	}
	e->body.estimated_data_size = e->body.data_len > UINT32_MAX ? UINT32_MAX : (uint32_t)e->body.data_len;
	e->has_native_body_type = 1;
	e->native_body_type = m->html ? EAS_BODY_TYPE_HTML : EAS_BODY_TYPE_PLAIN;

	if (m->attachment_count) {
		out->attachments = eas__calloc(&out->mem, m->attachment_count, sizeof *out->attachments);
		if (!out->attachments) {
			eas_mime_email_clear(out);
			return EAS_E_NOMEM;
		}
		for (size_t i = 0; i < m->attachment_count; i++) {
			const eas_mime_attachment *s = &m->attachments[i];
			eas_email_attachment *a = &out->attachments[i];
			a->display_name = s->name;
			a->method = s->is_message ? EAS_ATTACHMENT_EMBEDDED_MESSAGE : EAS_ATTACHMENT_NORMAL;
			a->has_estimated_data_size = 1;
			a->estimated_data_size = s->len > UINT32_MAX ? UINT32_MAX : (uint32_t)s->len;
			a->content_id = s->content_id;
			a->content_location = s->content_location;
			a->is_inline = s->is_inline;
			a->content_type = s->content_type;
		}
		e->attachments = out->attachments;
		e->attachment_count = m->attachment_count;
	}
	return 0;
}

void eas_mime_email_clear(eas_mime_email *e)
{
	if (!e)
		return;
	eas_mem mem = e->mem;
	eas__free(&mem, e->attachments);
	eas__free(&mem, e->display_to);
	eas__free(&mem, e->thread_topic);
	memset(e, 0, sizeof *e);
	e->mem = mem;
}
