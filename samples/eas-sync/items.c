/*
 * eas-sync: what the commands show of folders and items, read from the
 * local state store.  Email items are decoded with the typed class
 * (eas/email.h); items of other classes are kept raw (their WBXML
 * ApplicationData) and summarised from a few well-known elements.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <eas/email.h>
#include <eas/wbxml.h>

#include "app.h"

const char *folder_type_name(uint32_t type)
{
	static const char *const names[] = { "?", "user folder", "Inbox", "Drafts", "Deleted Items", "Sent Items",
					     "Outbox", "Tasks", "Calendar", "Contacts", "Notes", "Journal",
					     "user mail", "user calendar", "user contacts", "user tasks",
					     "user journal", "user notes", "unknown", "recipient cache" };
	return type < sizeof names / sizeof names[0] ? names[type] : "?";
}

/* ---- summaries ---------------------------------------------------------------- */

/* A generic scan of the children of ApplicationData, by element name. */
typedef struct scan {
	unsigned depth;
	const char *name; /* the depth-1 element being read */
	char text[512];
	size_t len;
	item_summary *out;
	int have_subject_rank, have_from_rank, have_date_rank;
} scan;

/* Lower rank wins: "Subject" beats "FileAs" beats a name built from parts. */
static int rank_of(const char *name, const char *const *list)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(name, list[i]) == 0)
			return i + 1;
	return 0;
}

static const char *const subject_names[] = { "Subject", "FileAs", "DisplayName", "LastName", "FirstName", NULL };
static const char *const from_names[] = { "From", "OrganizerName", "OrganizerEmail", "Email1Address",
					  "CompanyName", NULL };
static const char *const date_names[] = { "DateReceived", "StartTime", "DueDate", "UtcDueDate",
					  "LastModifiedDate", "DtStamp", "Birthday", NULL };

static void take(char *dst, size_t size, int *have, int rank, const char *text)
{
	if (!rank || (*have && *have <= rank))
		return;
	*have = rank;
	copy_text(dst, size, text);
}

static int scan_start(eas_tag tag, int has_content, void *ud)
{
	scan *s = ud;
	if (s->depth == 1)
		s->name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	s->len = 0;
	if (has_content)
		s->depth++;
	return 0;
}

static int scan_end(eas_tag tag, void *ud)
{
	scan *s = ud;
	(void)tag;
	if (s->depth == 2 && s->name && s->len) {
		s->text[s->len] = '\0';
		take(s->out->subject, sizeof s->out->subject, &s->have_subject_rank, rank_of(s->name, subject_names),
		     s->text);
		take(s->out->from, sizeof s->out->from, &s->have_from_rank, rank_of(s->name, from_names), s->text);
		take(s->out->date, sizeof s->out->date, &s->have_date_rank, rank_of(s->name, date_names), s->text);
	}
	if (s->depth)
		s->depth--;
	s->len = 0;
	return 0;
}

static int scan_data(eas_wbxml_data_kind kind, const uint8_t *bytes, size_t len, int final, uint64_t total, void *ud)
{
	scan *s = ud;
	(void)final;
	(void)total;
	if (kind != EAS_WBXML_STRING || s->depth != 2)
		return 0;
	size_t room = sizeof s->text - 1 - s->len;
	if (len > room)
		len = room;
	memcpy(s->text + s->len, bytes, len);
	s->len += len;
	return 0;
}

static void summarize_raw(const eas_store_item *item, item_summary *out)
{
	scan s;
	memset(&s, 0, sizeof s);
	s.out = out;
	eas_wbxml_callbacks cb = EAS_WBXML_CALLBACKS_INIT;
	cb.start_tag = scan_start;
	cb.end_tag = scan_end;
	cb.data = scan_data;
	eas_wbxml_decoder_options o = EAS_WBXML_DECODER_OPTIONS_INIT;
	o.tolerant = 1;
	eas_wbxml_decoder *dec = NULL;
	if (eas_wbxml_decoder_new(&dec, &cb, &o, NULL, &s) == 0) {
		eas_wbxml_decoder_feed(dec, item->data, item->data_len, NULL);
		eas_wbxml_decoder_free(dec);
	}
}

void item_summarize(const eas_store_item *item, item_summary *out)
{
	memset(out, 0, sizeof *out);
	if (!item->data || item->data_len == 0)
		return;
	if (item->class_name && strcmp(item->class_name, "Email") == 0) {
		eas_email e;
		memset(&e, 0, sizeof e);
		if (eas_email_decode(&e, item->data, item->data_len, NULL, NULL, 0) == 0) {
			copy_text(out->subject, sizeof out->subject, e.subject ? e.subject : "");
			copy_text(out->from, sizeof out->from, e.from ? e.from : "");
			copy_text(out->date, sizeof out->date, e.date_received ? e.date_received : "");
			out->attachments = (unsigned)e.attachment_count;
			out->has_read = 1;
			out->read = item->read; /* the store applies queued local changes */
			eas_email_clear(&e);
			return;
		}
	}
	summarize_raw(item, out);
}

void item_json(const eas_store_item *item, const char *folder_name)
{
	item_summary s;
	item_summarize(item, &s);
	json_begin_object();
	json_kv_string("server_id", item->server_id);
	json_kv_string("folder", item->folder_id);
	json_kv_string("folder_name", folder_name ? folder_name : "");
	json_kv_string("class", item->class_name ? item->class_name : "");
	json_kv_string("subject", s.subject);
	json_kv_string("from", s.from);
	json_kv_string("date", s.date);
	json_key("read");
	if (s.has_read)
		json_bool(s.read);
	else
		json_null();
	json_kv_uint("attachments", s.attachments);
	json_kv_uint("size", item->data_len);
	json_end_object();
}

/* ---- folders ---------------------------------------------------------------- */

/*
 * The folders are copied out of the store first: records handed to a
 * store callback are only valid during it, and lookups (parents, paths)
 * must not call the store from inside its own enumeration.
 */
static int load_one(const eas_store_folder *f, void *ud)
{
	folder_table *t = ud;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		if (cap > 100000)
			return 1;
		void *p = realloc(t->f, cap * sizeof t->f[0]);
		if (!p)
			return 1;
		t->f = p;
		t->cap = cap;
	}
	folder_rec *r = &t->f[t->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->id, sizeof r->id, "%s", f->server_id ? f->server_id : "");
	snprintf(r->parent, sizeof r->parent, "%s", f->parent_id ? f->parent_id : "0");
	snprintf(r->name, sizeof r->name, "%s", f->display_name ? f->display_name : "");
	snprintf(r->cls, sizeof r->cls, "%s", f->class_name ? f->class_name : "");
	snprintf(r->sync_key, sizeof r->sync_key, "%s", f->sync_key ? f->sync_key : "0");
	r->type = f->type;
	r->sync_wanted = f->sync_wanted;
	r->more = f->more_available;
	return 0;
}

int folders_load(app *a, folder_table *t)
{
	memset(t, 0, sizeof *t);
	int rc = a->store->folder_list(a->store, load_one, t);
	return rc == EAS_E_CALLBACK ? EAS_E_NOMEM : rc;
}

void folders_free(folder_table *t)
{
	free(t->f);
	memset(t, 0, sizeof *t);
}

const folder_rec *folders_by_id(const folder_table *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->f[i].id, id) == 0)
			return &t->f[i];
	return NULL;
}

void folders_path(const folder_table *t, const folder_rec *f, char *out, size_t size)
{
	const folder_rec *chain[16];
	int n = 0;
	while (f && n < 16) {
		chain[n++] = f;
		if (strcmp(f->parent, "0") == 0 || !f->parent[0])
			break;
		f = folders_by_id(t, f->parent);
	}
	size_t len = 0;
	out[0] = '\0';
	for (int i = n - 1; i >= 0 && len < size; i--)
		len += (size_t)snprintf(out + len, size - len, "%s%s", chain[i]->name, i ? "/" : "");
}

int folder_find(app *a, const char *name, char *id_out, size_t size)
{
	folder_table t;
	int rc = folders_load(a, &t);
	if (rc)
		return rc;
	const folder_rec *hit = folders_by_id(&t, name);
	int matches = hit ? 1 : 0;
	for (size_t i = 0; !hit && i < t.n; i++) {
		char path[4096];
		folders_path(&t, &t.f[i], path, sizeof path);
		if (strcasecmp(t.f[i].name, name) == 0 || strcasecmp(path, name) == 0 ||
		    (t.f[i].type == 2 && strcasecmp(name, "inbox") == 0)) {
			if (matches == 0 || strcmp(id_out, t.f[i].id) != 0)
				matches++;
			snprintf(id_out, size, "%s", t.f[i].id);
		}
	}
	if (hit)
		snprintf(id_out, size, "%s", hit->id);
	folders_free(&t);
	return matches == 0 ? EAS_E_NOTFOUND : matches > 1 ? EAS_E_INVALID : 0;
}

void folder_name(app *a, const char *id, char *out, size_t size)
{
	eas_store_folder f;
	out[0] = '\0';
	if (a->store->folder_get(a->store, id, &f) == 0 && f.display_name)
		snprintf(out, size, "%s", f.display_name);
}

/* ---- items ---------------------------------------------------------------- */

int item_find(app *a, const char *folder, const char *server_id, char *folder_out, size_t size)
{
	eas_store_item it;
	if (folder) {
		char fid[EAS_STORE_ID_MAX + 1];
		int rc = folder_find(a, folder, fid, sizeof fid);
		if (rc)
			return rc;
		rc = a->store->item_get(a->store, fid, server_id, &it);
		if (rc == 0)
			snprintf(folder_out, size, "%s", fid);
		return rc;
	}
	folder_table t;
	int rc = folders_load(a, &t);
	if (rc)
		return rc;
	rc = EAS_E_NOTFOUND;
	for (size_t i = 0; i < t.n && rc == EAS_E_NOTFOUND; i++) {
		if (a->store->item_get(a->store, t.f[i].id, server_id, &it) == 0) {
			snprintf(folder_out, size, "%s", t.f[i].id);
			rc = 0;
		}
	}
	folders_free(&t);
	return rc;
}
