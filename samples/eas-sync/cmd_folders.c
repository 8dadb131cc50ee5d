/*
 * eas-sync folders: FolderSync (unless --offline), then the folder tree from
 * the local store, with each folder's class, sync state and stored items.
 */
#include <stdio.h>
#include <string.h>

#include "app.h"

static int on_event(app *a, const eas_session_event *ev, void *ctx)
{
	(void)a;
	(void)ctx;
	return ev->type == EAS_EVENT_FOLDERS_SYNCED ? EV_DONE : EV_DEFAULT;
}

/* Children of parent, depth first, indented. */
static void print_tree(app *a, const folder_table *t, const char *parent, int depth)
{
	if (depth > 16)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const folder_rec *f = &t->f[i];
		int top = !folders_by_id(t, f->parent); /* orphans print at the top */
		if (depth == 0 ? !top : strcmp(f->parent, parent) != 0)
			continue;
		uint64_t items = 0;
		a->store->item_count(a->store, f->id, &items);
		char label[1200];
		snprintf(label, sizeof label, "%*s%s", depth * 2, "", f->name);
		printf("%-32s %-14s %-9s %7llu items  id %s%s\n", label, folder_type_name(f->type),
		       f->cls[0] ? f->cls : "-", (unsigned long long)items, f->id,
		       strcmp(f->sync_key, "0") == 0 ? "  (not synced)" : "");
		print_tree(a, t, f->id, depth + 1);
	}
}

int cmd_folders(app *a)
{
	int rc;
	if (a->o.offline) {
		rc = account_open_local(a);
	} else {
		rc = account_connect(a);
		if (rc == 0) {
			if ((rc = eas_session_sync_folders(a->session)) != 0)
				return fail(a, EXIT_FAILED, 0, 0, "cannot start FolderSync: %s", eas_strerror(rc));
			rc = drive(a, on_event, NULL, NULL, now_ms() + (uint64_t)a->o.timeout_s * 1000u);
			if (rc == -1)
				rc = fail(a, EXIT_NETWORK, 0, 0, "FolderSync did not finish within %ld s", a->o.timeout_s);
			else if (rc == -2)
				rc = fail(a, EXIT_FAILED, 0, 0, "interrupted");
		}
	}
	if (rc)
		return rc;
	folder_table t;
	if ((rc = folders_load(a, &t)) != 0)
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read the folders: %s", eas_strerror(rc));
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "folders");
		json_kv_bool("ok", 1);
		json_key("folders");
		json_begin_array();
		for (size_t i = 0; i < t.n; i++) {
			const folder_rec *f = &t.f[i];
			char path[4096];
			folders_path(&t, f, path, sizeof path);
			uint64_t items = 0;
			a->store->item_count(a->store, f->id, &items);
			json_begin_object();
			json_kv_string("id", f->id);
			json_kv_string("parent", f->parent);
			json_kv_string("name", f->name);
			json_kv_string("path", path);
			json_kv_uint("type", f->type);
			json_kv_string("type_name", folder_type_name(f->type));
			json_kv_string("class", f->cls);
			json_kv_string("sync_key", f->sync_key);
			json_kv_bool("sync_wanted", f->sync_wanted);
			json_kv_uint("items", items);
			json_end_object();
		}
		json_end_array();
		json_end_object();
		json_newline();
	} else if (t.n == 0) {
		printf("no folders yet (run eas-sync sync or eas-sync folders)\n");
	} else {
		print_tree(a, &t, "0", 0);
	}
	folders_free(&t);
	return 0;
}
