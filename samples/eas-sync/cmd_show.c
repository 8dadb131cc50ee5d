/*
 * eas-sync show ITEM: one stored item.  Email: its headers, attachments and
 * body text, decoded with the typed class (eas/email.h).  Other classes are
 * kept raw by this tool: their ApplicationData is shown as XML.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <eas/email.h>
#include <eas/wbxml_xml.h>

#include "app.h"

typedef struct text {
	char *data;
	size_t len, cap;
} text;

static int text_sink(const char *s, size_t len, void *ud)
{
	text *t = ud;
	if (t->len + len + 1 > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		while (cap < t->len + len + 1)
			cap *= 2;
		char *p = realloc(t->data, cap);
		if (!p)
			return -1;
		t->data = p;
		t->cap = cap;
	}
	memcpy(t->data + t->len, s, len);
	t->len += len;
	t->data[t->len] = '\0';
	return 0;
}

/* The item's ApplicationData as indented XML (opaque values as their length). */
static int to_xml(const eas_store_item *item, text *out)
{
	eas_wbxml_to_xml_options xo = EAS_WBXML_TO_XML_OPTIONS_INIT;
	xo.opaque = EAS_XML_OPAQUE_LENGTH;
	xo.declaration = 0;
	xo.doctype = 0;
	eas_wbxml_to_xml *conv = NULL;
	int rc = eas_wbxml_to_xml_new(&conv, text_sink, &xo, NULL, out);
	if (rc == 0)
		rc = eas_wbxml_to_xml_feed(conv, item->data, item->data_len);
	if (rc == 0)
		rc = eas_wbxml_to_xml_finish(conv);
	eas_wbxml_to_xml_free(conv);
	return rc;
}

static const char *body_type_name(uint32_t t)
{
	return t == 1 ? "text" : t == 2 ? "html" : t == 3 ? "rtf" : t == 4 ? "mime" : "none";
}

static void show_email_text(const eas_store_item *item, const eas_email *e, const char *fname)
{
	printf("Folder:   %s\n", fname);
	printf("Item:     %s\n", item->server_id);
	printf("From:     %s\n", e->from ? e->from : "");
	printf("To:       %s\n", e->to ? e->to : "");
	if (e->cc)
		printf("Cc:       %s\n", e->cc);
	printf("Subject:  %s\n", e->subject ? e->subject : "");
	printf("Date:     %s\n", e->date_received ? e->date_received : "");
	printf("Read:     %s\n", item->read ? "yes" : "no");
	if (e->flag.present && e->flag.has_status)
		printf("Flag:     %s\n", e->flag.status == 2 ? "active" : e->flag.status == 1 ? "complete" : "cleared");
	for (size_t i = 0; i < e->attachment_count; i++) {
		const eas_email_attachment *at = &e->attachments[i];
		printf("Attach %zu: %s (%u bytes)%s\n", i + 1, at->display_name ? at->display_name : "(no name)",
		       at->has_estimated_data_size ? at->estimated_data_size : 0, at->is_inline ? " inline" : "");
	}
	putchar('\n');
	if (e->body.present && e->body.data) {
		fwrite(e->body.data, 1, e->body.data_len, stdout);
		if (e->body.data_len && e->body.data[e->body.data_len - 1] != '\n')
			putchar('\n');
		if (e->body.truncated)
			printf("[body truncated by the server: %u bytes in all]\n", e->body.estimated_data_size);
	} else if (e->legacy.body) {
		fwrite(e->legacy.body, 1, e->legacy.body_len, stdout);
		putchar('\n');
	} else {
		printf("[no body stored]\n");
	}
}

static void show_email_json(const eas_store_item *item, const eas_email *e, const char *fname)
{
	json_kv_string("server_id", item->server_id);
	json_kv_string("folder", item->folder_id);
	json_kv_string("folder_name", fname);
	json_kv_string("class", item->class_name ? item->class_name : "Email");
	json_kv_string("subject", e->subject ? e->subject : "");
	json_kv_string("from", e->from ? e->from : "");
	json_kv_string("to", e->to ? e->to : "");
	json_kv_string("cc", e->cc ? e->cc : "");
	json_kv_string("date", e->date_received ? e->date_received : "");
	json_kv_bool("read", item->read);
	json_kv_uint("flag", item->flag_status < 0 ? 0 : (uint64_t)item->flag_status);
	json_kv_string("body_type", body_type_name(e->body.present ? e->body.type : 0));
	json_key("body");
	if (e->body.present && e->body.data)
		json_string_len(e->body.data, e->body.data_len);
	else if (e->legacy.body)
		json_string_len(e->legacy.body, e->legacy.body_len);
	else
		json_null();
	json_kv_bool("body_truncated", e->body.truncated);
	json_key("attachments");
	json_begin_array();
	for (size_t i = 0; i < e->attachment_count; i++) {
		const eas_email_attachment *at = &e->attachments[i];
		json_begin_object();
		json_kv_uint("index", i + 1);
		json_kv_string("name", at->display_name ? at->display_name : "");
		json_kv_uint("size", at->has_estimated_data_size ? at->estimated_data_size : 0);
		json_kv_string("content_type", at->content_type ? at->content_type : "");
		json_kv_string("file_reference", at->file_reference ? at->file_reference : "");
		json_kv_bool("inline", at->is_inline);
		json_end_object();
	}
	json_end_array();
}

int cmd_show(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	char fid[EAS_STORE_ID_MAX + 1];
	const char *sid = a->o.positional[0];
	rc = item_find(a, a->o.folder, sid, fid, sizeof fid);
	if (rc == EAS_E_INVALID)
		return fail(a, EXIT_USAGE, 0, 0, "folder '%s' is ambiguous", a->o.folder);
	if (rc)
		return fail(a, EXIT_NOTFOUND, 0, 0, "no item '%s'%s%s in the local store (see eas-sync list FOLDER)", sid,
			    a->o.folder ? " in " : "", a->o.folder ? a->o.folder : "");
	char fname[EAS_STORE_NAME_MAX + 1];
	folder_name(a, fid, fname, sizeof fname);
	eas_store_item item;
	if ((rc = a->store->item_get(a->store, fid, sid, &item)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read item %s: %s", sid, eas_strerror(rc));
	/* the record is valid until the next store call: keep a copy */
	uint8_t *data = malloc(item.data_len ? item.data_len : 1);
	char cls[EAS_STORE_CLASS_MAX + 1], server_id[EAS_STORE_ID_MAX + 1];
	if (!data)
		return fail(a, EXIT_LOCAL, 0, 0, "out of memory");
	memcpy(data, item.data, item.data_len);
	snprintf(cls, sizeof cls, "%s", item.class_name ? item.class_name : "");
	snprintf(server_id, sizeof server_id, "%s", item.server_id);
	item.data = data;
	item.class_name = cls;
	item.server_id = server_id;
	item.folder_id = fid;

	eas_email e;
	memset(&e, 0, sizeof e);
	char err[200] = "";
	int is_email = strcmp(cls, "Email") == 0 && eas_email_decode(&e, data, item.data_len, NULL, err, sizeof err) == 0;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "show");
		json_kv_bool("ok", 1);
		json_key("item");
		json_begin_object();
	}
	if (is_email) {
		if (a->o.json)
			show_email_json(&item, &e, fname);
		else
			show_email_text(&item, &e, fname);
		eas_email_clear(&e);
	} else {
		text xml = { NULL, 0, 0 };
		int xrc = to_xml(&item, &xml);
		item_summary s;
		item_summarize(&item, &s);
		if (a->o.json) {
			json_kv_string("server_id", item.server_id);
			json_kv_string("folder", fid);
			json_kv_string("folder_name", fname);
			json_kv_string("class", cls);
			json_kv_string("subject", s.subject);
			json_kv_string("from", s.from);
			json_kv_string("date", s.date);
			json_kv_string("xml", xml.data ? xml.data : "");
		} else {
			printf("Folder:   %s\nItem:     %s\nClass:    %s\n\n%s", fname, item.server_id, cls[0] ? cls : "?",
			       xml.data ? xml.data : "");
			if (xrc)
				printf("[stored data not decodable: %s]\n", eas_strerror(xrc));
		}
		free(xml.data);
	}
	if (a->o.json) {
		json_end_object();
		json_end_object();
		json_newline();
	}
	free(data);
	return 0;
}
