/* The parsed message's storage: setters, body appends, attachments, notes, clear (see mime.h). */
#include <string.h>

#include "classes/mime.h"
#include "common/mem.h"

static void free_attachment(const eas_mem *mem, eas_mime_attachment *a)
{
	eas__free(mem, a->name);
	eas__free(mem, a->content_type);
	eas__free(mem, a->content_id);
	eas__free(mem, a->content_location);
	eas__free(mem, a->data);
	memset(a, 0, sizeof *a);
}

void eas_mime_message_clear(eas_mime_message *m)
{
	if (!m)
		return;
	eas_mem mem = m->mem;
	char **strings[] = { &m->from, &m->sender, &m->reply_to, &m->to, &m->cc, &m->bcc, &m->subject,
			     &m->message_id, &m->in_reply_to, &m->references, &m->content_class, &m->thread_topic,
			     &m->text, &m->html };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		eas__free(&mem, *strings[i]);
	for (size_t i = 0; i < m->attachment_count; i++)
		free_attachment(&mem, &m->attachments[i]);
	eas__free(&mem, m->attachments);
	memset(m, 0, sizeof *m);
	m->mem = mem;
}

static char *copy(const eas_mem *mem, const char *s, size_t n)
{
	char *d = eas__malloc(mem, n + 1);
	if (!d)
		return NULL;
	if (n)
		memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

int eas_mime_set(eas_mime_message *m, char **field, const char *value, size_t len)
{
	if (!m || !field)
		return EAS_E_INVALID;
	char *d = NULL;
	if (value) {
		if (memchr(value, '\0', len))
			return EAS_E_INVALID;
		d = copy(&m->mem, value, len);
		if (!d)
			return EAS_E_NOMEM;
	}
	eas__free(&m->mem, *field);
	*field = d;
	return 0;
}

int eas_mime_append(eas_mime_message *m, char **field, size_t *field_len, const char *s, size_t n)
{
	if (!m || !field || !field_len || (n && !s))
		return EAS_E_INVALID;
	if (n && memchr(s, '\0', n))
		return EAS_E_INVALID;
	size_t have = *field ? *field_len : 0;
	if (have > SIZE_MAX - n - 1)
		return EAS_E_LIMIT;
	char *d = eas__realloc(&m->mem, *field, have + n + 1);
	if (!d)
		return EAS_E_NOMEM;
	if (n)
		memcpy(d + have, s, n);
	d[have + n] = '\0';
	*field = d;
	*field_len = have + n;
	return 0;
}

int eas_mime_add_attachment(eas_mime_message *m, const eas_mime_attachment *a)
{
	if (!m || !a || !a->name || (a->len && !a->data))
		return EAS_E_INVALID;
	if (m->attachment_count == m->attachment_cap) {
		size_t cap = m->attachment_cap ? m->attachment_cap * 2 : 4;
		eas_mime_attachment *n = eas__realloc(&m->mem, m->attachments, cap * sizeof *n);
		if (!n)
			return EAS_E_NOMEM;
		m->attachments = n;
		m->attachment_cap = cap;
	}
	eas_mime_attachment c;
	memset(&c, 0, sizeof c);
	c.is_inline = a->is_inline;
	c.is_message = a->is_message;
	int failed = 0;
	c.name = copy(&m->mem, a->name, strlen(a->name));
	failed |= !c.name;
	c.content_type = copy(&m->mem, a->content_type ? a->content_type : "application/octet-stream",
			      strlen(a->content_type ? a->content_type : "application/octet-stream"));
	failed |= !c.content_type;
	if (a->content_id) {
		c.content_id = copy(&m->mem, a->content_id, strlen(a->content_id));
		failed |= !c.content_id;
	}
	if (a->content_location) {
		c.content_location = copy(&m->mem, a->content_location, strlen(a->content_location));
		failed |= !c.content_location;
	}
	if (a->len) {
		c.data = eas__malloc(&m->mem, a->len);
		failed |= !c.data;
		if (c.data)
			memcpy(c.data, a->data, a->len);
		c.len = a->len;
	}
	if (failed) {
		free_attachment(&m->mem, &c);
		return EAS_E_NOMEM;
	}
	m->attachments[m->attachment_count++] = c;
	return 0;
}

void eas_mime_note(eas_mime_message *m, const char *note)
{
	if (!m || !note)
		return;
	size_t used = strlen(m->notes), n = strlen(note);
	/* the same note twice says nothing new */
	if (strstr(m->notes, note))
		return;
	m->note_count++;
	if (used && used + 2 < sizeof m->notes) {
		memcpy(m->notes + used, "; ", 2);
		used += 2;
	}
	if (used + 1 >= sizeof m->notes)
		return;
	if (n > sizeof m->notes - used - 1)
		n = sizeof m->notes - used - 1;
	memcpy(m->notes + used, note, n);
	m->notes[used + n] = '\0';
}
