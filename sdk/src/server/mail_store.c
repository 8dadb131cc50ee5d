/* A parsed message into a mailbox, and local recipients (see mail_store.h). */
#include "server/mail_store.h"

#include <stdio.h>
#include <string.h>

#include "classes/mime_email.h"
#include "common/ascii.h"
#include "common/buf.h"
#include "common/mem.h"
#include "eas/wbxml.h"

/* ApplicationData of one email at most (the body is in it in full). */
#define MAX_APPDATA (64u << 20)

/* <ApplicationData> with e's elements, as a standalone WBXML document (what handle_sync.c sends). */
static int appdata(eas_buf *out, const eas_email *e, const eas_mem *mem)
{
	eas_buf_init(out, mem, MAX_APPDATA);
	eas_wbxml_encoder *enc;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, out, EAS_PROTO_14_1, mem);
	if (rc) {
		eas_buf_free(out);
		return rc;
	}
	rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = eas_email_encode(enc, e, EAS_PROTO_14_1);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && out->result)
		rc = out->result;
	if (rc)
		eas_buf_free(out);
	return rc;
}

/* Adds the item; its attachments get their FileReferences into ApplicationData afterwards. */
static int store_item(char *id, eas_mstore *store, int64_t user_id, const char *folder_id, eas_mime_email *me,
		      const eas_mime_message *m, const eas_srv_mail_options *o, const eas_mem *mem)
{
	eas_email *e = &me->email;
	eas_mstore_attachment_data *atts = NULL;
	if (m->attachment_count) {
		atts = eas__calloc(mem, m->attachment_count, sizeof *atts);
		if (!atts)
			return EAS_E_NOMEM;
		for (size_t i = 0; i < m->attachment_count; i++) {
			const eas_mime_attachment *a = &m->attachments[i];
			atts[i].name = a->name;
			atts[i].content_type = a->content_type;
			atts[i].content_id = a->content_id;
			atts[i].content_location = a->content_location;
			atts[i].method = a->is_message ? EAS_ATTACHMENT_EMBEDDED_MESSAGE : EAS_ATTACHMENT_NORMAL;
			atts[i].is_inline = a->is_inline;
			atts[i].data = a->data;
			atts[i].len = a->len;
		}
	}
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.summary.subject = m->subject;
	d.summary.from = m->from;
	d.summary.date = m->has_date ? m->date : o->received;
	d.summary.read = o->read;
	d.summary.size = m->size;
	d.body_type = e->body.type;
	d.body = (const uint8_t *)e->body.data;
	d.body_len = e->body.data_len;
	d.attachments = atts;
	d.attachment_count = m->attachment_count;

	/* eas_email_encode needs FileReferences, which exist once the item does: first without the list */
	e->attachment_count = 0;
	eas_buf doc;
	int rc = appdata(&doc, e, mem);
	e->attachment_count = m->attachment_count;
	if (rc == 0) {
		d.application_data = doc.data;
		d.application_data_len = doc.len;
		rc = store->item_add(id, store, user_id, folder_id, &d, o->origin_device);
		eas_buf_free(&doc);
	}
	eas__free(mem, atts);
	if (rc || !m->attachment_count)
		return rc;

	eas_mstore_item *it = NULL;
	rc = store->item_get(&it, store, user_id, id, EAS_MSTORE_GET_ATTACHMENTS);
	if (rc)
		return rc;
	if (it->attachment_count != m->attachment_count)
		rc = EAS_E_STATE;
	for (size_t i = 0; rc == 0 && i < it->attachment_count; i++)
		me->attachments[i].file_reference = it->attachments[i].file_reference;
	if (rc == 0)
		rc = appdata(&doc, e, mem);
	if (rc == 0) {
		eas_mstore_item_data d2;
		memset(&d2, 0, sizeof d2);
		d2.application_data = doc.data;
		d2.application_data_len = doc.len;
		rc = store->item_change(store, user_id, id, &d2, EAS_MSTORE_SET_APPDATA, o->origin_device);
		eas_buf_free(&doc);
	}
	for (size_t i = 0; i < m->attachment_count; i++)
		me->attachments[i].file_reference = NULL; /* they pointed into it */
	store->release(store, it);
	return rc;
}

int eas__srv_mail_store(char *out, eas_mstore *store, int64_t user_id, const char *folder_id,
			const eas_mime_message *m, const eas_srv_mail_options *o, const eas_mem *mem)
{
	if (!store || !folder_id || !m || !o)
		return EAS_E_INVALID;
	eas_mem lm;
	eas__mem_init(&lm, mem);
	eas_mime_email me;
	int rc = eas_mime_email_build(&me, m, o->received, &lm);
	if (rc)
		return rc;
	me.email.has_read = 1;
	me.email.read = o->read ? 1 : 0;
	char id[EAS_MSTORE_ID_SIZE];
	rc = store->begin(store);
	if (rc == 0) {
		rc = store_item(id, store, user_id, folder_id, &me, m, o, &lm);
		if (rc == 0)
			rc = store->commit(store);
		else
			store->rollback(store);
	}
	eas_mime_email_clear(&me);
	if (rc == 0 && out)
		snprintf(out, EAS_MSTORE_ID_SIZE, "%s", id);
	return rc;
}

int eas__srv_mail_find_user(int64_t *out, eas_mstore *store, const char *address, const char *mail_domain)
{
	if (!out || !store || !address || !*address)
		return EAS_E_INVALID;
	if (!eas_mstore_valid_text(address, EAS_MSTORE_NAME_MAX))
		return EAS_E_NOTFOUND;
	int rc = store->user_lookup(out, store, address);
	if (rc != EAS_E_NOTFOUND && rc != EAS_E_INVALID)
		return rc;
	const char *at = strrchr(address, '@');
	if (!at || at == address || !eas__ascii_ieq(at + 1, mail_domain ? mail_domain : "localhost"))
		return EAS_E_NOTFOUND;
	char local[EAS_MSTORE_NAME_SIZE];
	size_t n = (size_t)(at - address);
	if (n >= sizeof local)
		return EAS_E_NOTFOUND;
	memcpy(local, address, n);
	local[n] = '\0';
	rc = store->user_lookup(out, store, local);
	return rc == EAS_E_INVALID ? EAS_E_NOTFOUND : rc;
}

int eas__srv_mail_default_folder(char *out, eas_mstore *store, int64_t user_id, uint32_t type)
{
	eas_mstore_folder f;
	int rc = store->folder_find_default(&f, store, user_id, type);
	if (rc == 0)
		snprintf(out, EAS_MSTORE_ID_SIZE, "%s", f.server_id);
	return rc;
}
