/*
 * eas-sync status: what the data directory knows about the account, without
 * the network: server, user, device id, protocol version, policy key and
 * policy, the last sync, and each folder's sync state and pending changes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"

static int count_change(const eas_store_change *c, void *ud)
{
	(void)c;
	(*(uint64_t *)ud)++;
	return 0;
}

int cmd_status(app *a)
{
	int rc = account_open_local(a);
	if (rc)
		return rc;
	char version[16] = "", policy_key[64] = "", last[32] = "", *policy = calloc(1, 8192);
	if (!policy)
		return fail(a, EXIT_LOCAL, 0, 0, "out of memory");
	account_value_get(a, "version", version, sizeof version);
	account_value_get(a, "policy", policy, 8192);
	account_value_get(a, "last_sync", last, sizeof last);
	a->store->value_get(a->store, "policy_key", policy_key, sizeof policy_key);
	folder_table t;
	if ((rc = folders_load(a, &t)) != 0) {
		free(policy);
		return fail(a, EXIT_LOCAL, 0, 0, "cannot read the folders: %s", eas_strerror(rc));
	}
	uint64_t pending = 0, items = 0;
	a->store->change_list(a->store, NULL, count_change, &pending);
	char when[64] = "never";
	if (last[0]) {
		time_t tt = (time_t)strtoll(last, NULL, 10);
		struct tm tm;
		localtime_r(&tt, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	}
	if (a->o.json) {
		json_begin_object();
		json_kv_string("command", "status");
		json_kv_bool("ok", 1);
		json_kv_string("data_dir", a->data_dir);
		json_key("account");
		json_begin_object();
		json_kv_string("url", a->url);
		json_kv_string("user", a->user);
		json_kv_string("email", a->email);
		json_kv_string("device_id", a->device_id);
		json_end_object();
		json_kv_string("protocol_version", version[0] ? version : NULL);
		json_kv_string("policy_key", policy_key[0] ? policy_key : NULL);
		json_kv_string("policy", policy[0] ? policy : NULL);
		json_key("last_sync");
		if (last[0])
			json_int(strtoll(last, NULL, 10));
		else
			json_null();
		json_kv_uint("pending_changes", pending);
		json_key("folders");
		json_begin_array();
	} else {
		printf("data directory   %s\n", a->data_dir);
		printf("server           %s\n", a->url[0] ? a->url : "(none yet)");
		printf("user             %s\n", a->user[0] ? a->user : "(none yet)");
		if (a->email[0])
			printf("email            %s\n", a->email);
		printf("device id        %s\n", a->device_id[0] ? a->device_id : "(none yet)");
		printf("protocol version %s\n", version[0] ? version : "(not negotiated yet)");
		printf("policy key       %s\n", policy_key[0] ? policy_key : "(not provisioned yet)");
		if (policy[0]) {
			printf("policy:\n");
			for (char *line = strtok(policy, "\n"); line; line = strtok(NULL, "\n"))
				printf("  %s\n", line);
		}
		printf("last sync        %s\n", when);
		printf("pending changes  %llu\n", (unsigned long long)pending);
		printf("folders          %zu\n", t.n);
	}
	for (size_t i = 0; i < t.n; i++) {
		const folder_rec *f = &t.f[i];
		uint64_t n = 0, p = 0;
		a->store->item_count(a->store, f->id, &n);
		a->store->change_list(a->store, f->id, count_change, &p);
		items += n;
		if (a->o.json) {
			json_begin_object();
			json_kv_string("id", f->id);
			json_kv_string("name", f->name);
			json_kv_string("class", f->cls);
			json_kv_string("sync_key", f->sync_key);
			json_kv_bool("synced", strcmp(f->sync_key, "0") != 0);
			json_kv_bool("more_available", f->more);
			json_kv_uint("items", n);
			json_kv_uint("pending_changes", p);
			json_end_object();
		} else if (f->sync_wanted || n) {
			printf("  %-24s %7llu items  key %-12s%s%s\n", f->name, (unsigned long long)n, f->sync_key,
			       f->more ? "  more to fetch" : "", p ? "  changes pending" : "");
		}
	}
	if (a->o.json) {
		json_end_array();
		json_kv_uint("items", items);
		json_end_object();
		json_newline();
	} else {
		printf("items            %llu\n", (unsigned long long)items);
	}
	folders_free(&t);
	free(policy);
	return 0;
}
