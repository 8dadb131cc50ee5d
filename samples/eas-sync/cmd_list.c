/*
 * eas-sync list FOLDER: the items of a folder as stored locally by the last
 * sync (no network).  --limit N shows the last N.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"

typedef struct list_run {
	app *a;
	const char *fname;
	uint64_t index, skip, shown;
} list_run;

static int print_item(const eas_store_item *item, void *ud)
{
	list_run *r = ud;
	if (r->index++ < r->skip)
		return 0;
	r->shown++;
	if (r->a->o.json) {
		item_json(item, r->fname);
		return 0;
	}
	item_summary s;
	item_summarize(item, &s);
	char date[20];
	snprintf(date, sizeof date, "%.16s", s.date[0] ? s.date : "-");
	printf("%-14s %c %-16s  %-28.28s  %s%s\n", item->server_id, s.has_read ? (s.read ? ' ' : '*') : ' ', date,
	       s.from[0] ? s.from : "-", s.subject[0] ? s.subject : "(no subject)", s.attachments ? "  [att]" : "");
	return 0;
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
	uint64_t total = 0;
	a->store->item_count(a->store, id, &total);
	list_run r = { a, fname, 0, 0, 0 };
	if (a->o.limit && total > (uint64_t)a->o.limit)
		r.skip = total - (uint64_t)a->o.limit;
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "list");
		json_kv_bool("ok", 1);
		json_kv_string("folder", id);
		json_kv_string("folder_name", fname);
		json_kv_uint("total", total);
		json_key("items");
		json_begin_array();
	}
	rc = a->store->item_list(a->store, id, print_item, &r);
	if (a->o.json) {
		json_end_array();
		json_end_object();
		json_newline();
	} else if (rc == 0) {
		printf("%llu of %llu items in %s%s\n", (unsigned long long)r.shown, (unsigned long long)total, fname,
		       r.skip ? " (the last ones; --limit)" : "");
	}
	if (rc)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read the items of %s: %s", fname, eas_strerror(rc));
	return 0;
}
