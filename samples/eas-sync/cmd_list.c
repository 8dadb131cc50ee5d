/*
 * eas-sync list FOLDER: the items of a folder as stored locally by the last
 * sync (no network), newest first (by the date each class has: received,
 * start, due...).  --limit N shows the first N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

/* First pass: the ids and dates, to sort (the store lists in arrival order). */
typedef struct entry {
	char id[EAS_STORE_ID_MAX + 1];
	char date[64];
	uint64_t seq;
} entry;

typedef struct collect {
	entry *e;
	size_t n, cap;
	int failed;
} collect;

static int collect_one(const eas_store_item *item, void *ud)
{
	collect *c = ud;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		void *p = realloc(c->e, cap * sizeof c->e[0]);
		if (!p) {
			c->failed = 1;
			return 1;
		}
		c->e = p;
		c->cap = cap;
	}
	entry *e = &c->e[c->n];
	item_summary s;
	item_summarize(item, &s);
	copy_text(e->id, sizeof e->id, item->server_id);
	copy_text(e->date, sizeof e->date, s.date);
	e->seq = c->n++;
	return 0;
}

/* Newest first; ISO dates compare as text; then the later arrival first. */
static int newest_first(const void *x, const void *y)
{
	const entry *a = x, *b = y;
	int c = strcmp(b->date, a->date);
	if (c)
		return c;
	return a->seq < b->seq ? 1 : a->seq > b->seq ? -1 : 0;
}

static void print_item(app *a, const eas_store_item *item, const char *fname)
{
	if (a->o.json) {
		item_json(item, fname);
		return;
	}
	item_summary s;
	item_summarize(item, &s);
	char date[20];
	snprintf(date, sizeof date, "%.16s", s.date[0] ? s.date : "-");
	printf("%-14s %c %-16s  %-28.28s  %s%s\n", item->server_id, s.has_read ? (s.read ? ' ' : '*') : ' ', date,
	       s.from[0] ? s.from : "-", s.subject[0] ? s.subject : "(no subject)", s.attachments ? "  [att]" : "");
}

int cmd_list(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	char id[EAS_STORE_ID_MAX + 1];
	rc = folder_find(a, a->o.positional[0], id, sizeof id);
	if (rc == EAS_E_INVALID)
		return fail(a, EXIT_USAGE, 0, 0, "folder '%s' is ambiguous: give its path or server id", a->o.positional[0]);
	if (rc)
		return fail(a, EXIT_NOTFOUND, 0, 0, "no folder '%s' in the local store (run eas-sync sync first)",
			    a->o.positional[0]);
	char fname[EAS_STORE_NAME_MAX + 1];
	folder_name(a, id, fname, sizeof fname);
	collect c = { NULL, 0, 0, 0 };
	rc = a->store->item_list(a->store, id, collect_one, &c);
	if (rc || c.failed) {
		free(c.e);
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read the items of %s: %s", fname,
			    eas_strerror(c.failed ? EAS_E_NOMEM : rc));
	}
	qsort(c.e, c.n, sizeof c.e[0], newest_first);
	size_t shown = a->o.limit && (size_t)a->o.limit < c.n ? (size_t)a->o.limit : c.n;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "list");
		json_kv_bool("ok", 1);
		json_kv_string("folder", id);
		json_kv_string("folder_name", fname);
		json_kv_uint("total", c.n);
		json_key("items");
		json_begin_array();
	}
	for (size_t i = 0; i < shown; i++) {
		eas_store_item item;
		if (a->store->item_get(a->store, id, c.e[i].id, &item) == 0)
			print_item(a, &item, fname);
	}
	if (a->o.json) {
		json_end_array();
		json_end_object();
		json_newline();
	} else {
		printf("%zu of %zu items in %s, newest first\n", shown, c.n, fname);
	}
	free(c.e);
	return 0;
}
