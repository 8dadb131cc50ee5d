/*
 * Ping (MS-ASCMD 2.2.1.13): wait until one of the listed folders changes.
 *
 * The request's HeartbeatInterval and folder list are cached per device
 * (the store's device cache, "ping"), so an empty Ping or one with only
 * one of the two reuses the rest.  Then:
 *   - nothing cached for what is missing        Status 3
 *   - interval outside [min, max]               Status 5 + the nearest bound
 *   - more folders than max_ping_folders        Status 6 + MaxFolders
 *   - a folder listed twice, a bad Folder       Status 4
 *   - a folder the user does not have           Status 7 (FolderSync first)
 *   - the hierarchy has news for the device     Status 7
 *   - a folder already has news for the device  Status 2 at once
 *   - otherwise the request is held (engine.c) until a change, a wipe, a
 *     newer Ping of the device or the end of the heartbeat: Status 2 with
 *     the changed folders, 7, 140 (449 before 14.0), or 1.
 */
#include "server/handler.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/ping.h"
#include "common/mem.h"

#define CACHE_NAME "ping"

typedef struct ping_params {
	int has_heartbeat;
	uint32_t heartbeat;
	int has_folders;
	size_t count;
	eas_srv_watch *folders;   /* count entries, allocated */
	char (*classes)[16];      /* count entries */
} ping_params;

static void params_free(const eas_mem *mem, ping_params *p)
{
	eas__free(mem, p->folders);
	eas__free(mem, p->classes);
	memset(p, 0, sizeof *p);
}

static int params_alloc(const eas_mem *mem, ping_params *p, size_t n)
{
	p->folders = eas__calloc(mem, n ? n : 1, sizeof *p->folders);
	p->classes = eas__calloc(mem, n ? n : 1, sizeof *p->classes);
	if (!p->folders || !p->classes)
		return EAS_E_NOMEM;
	p->count = 0;
	return 0;
}

/* Adds a folder; 1 when the id is already listed, EAS_E_MALFORMED when it does not fit. */
static int params_add(ping_params *p, const char *id, const char *class_name)
{
	if (!eas_mstore_valid_text(id, EAS_MSTORE_ID_MAX) || strlen(class_name) >= sizeof p->classes[0] ||
	    !eas_mstore_valid_text(class_name, sizeof p->classes[0] - 1))
		return EAS_E_MALFORMED;
	for (size_t i = 0; i < p->count; i++)
		if (strcmp(p->folders[i].id, id) == 0)
			return 1;
	snprintf(p->folders[p->count].id, sizeof p->folders[0].id, "%s", id);
	snprintf(p->classes[p->count], sizeof p->classes[0], "%s", class_name);
	p->count++;
	return 0;
}

/* Cache text: "<heartbeat>\n" then "<id>\t<class>\n" per folder; either part may be empty. */
static int cache_save(eas_srv_ctx *c, const ping_params *p)
{
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	char line[32];
	if (p->has_heartbeat)
		snprintf(line, sizeof line, "%lu\n", (unsigned long)p->heartbeat);
	else
		snprintf(line, sizeof line, "\n");
	eas_buf_append_str(&b, line);
	for (size_t i = 0; p->has_folders && i < p->count; i++) {
		eas_buf_append_str(&b, p->folders[i].id);
		eas_buf_append_str(&b, "\t");
		eas_buf_append_str(&b, p->classes[i]);
		eas_buf_append_str(&b, "\n");
	}
	int rc = b.result;
	if (rc == 0)
		rc = c->store->device_cache_put(c->store, c->user_id, c->device_id, CACHE_NAME, b.data, b.len);
	eas_buf_free(&b);
	return rc;
}

static int cache_load(eas_srv_ctx *c, ping_params *p)
{
	uint8_t *data = NULL;
	size_t len = 0;
	int rc = c->store->device_cache_get(&data, &len, c->store, c->user_id, c->device_id, CACHE_NAME);
	if (rc == EAS_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	size_t lines = 0;
	for (size_t i = 0; i < len; i++)
		lines += data[i] == '\n';
	rc = params_alloc(c->mem, p, lines);
	const char *s = (const char *)data, *end = s + len;
	int first = 1;
	while (rc == 0 && s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		if (!nl)
			break;
		char line[EAS_MSTORE_ID_SIZE + 32];
		size_t n = (size_t)(nl - s);
		if (n < sizeof line) {
			memcpy(line, s, n);
			line[n] = '\0';
			if (first) {
				unsigned long hb = 0;
				char *stop = NULL;
				if (n) {
					hb = strtoul(line, &stop, 10);
					if (stop && *stop == '\0' && hb <= UINT32_MAX) {
						p->has_heartbeat = 1;
						p->heartbeat = (uint32_t)hb;
					}
				}
			} else {
				char *tab = strchr(line, '\t');
				if (tab) {
					*tab = '\0';
					if (params_add(p, line, tab + 1) == 0)
						p->has_folders = 1;
				}
			}
		}
		first = 0;
		s = nl + 1;
	}
	c->store->release(c->store, data);
	return rc;
}

static int reply(eas_srv_ctx *c, const eas_ping_response *resp)
{
	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc)
		return rc;
	c->eas_status = resp->status;
	return eas__srv_reply_wbxml(c, enc, &buf, eas_ping_response_encode(enc, resp));
}

static int reply_status(eas_srv_ctx *c, uint32_t status, const char *why)
{
	eas_ping_response resp;
	memset(&resp, 0, sizeof resp);
	resp.status = status;
	if (why)
		snprintf(c->err, sizeof c->err, "%s", why);
	return reply(c, &resp);
}

/* Status 2 with the folders marked changed. */
static int reply_changed(eas_srv_ctx *c, const eas_srv_watch *folders, size_t n)
{
	const char **ids = eas__calloc(c->mem, n ? n : 1, sizeof *ids);
	if (!ids)
		return EAS_E_NOMEM;
	eas_ping_response resp;
	memset(&resp, 0, sizeof resp);
	resp.status = EAS_PING_CHANGES;
	for (size_t i = 0; i < n; i++)
		if (folders[i].changed)
			ids[resp.folder_count++] = folders[i].id;
	resp.folder_ids = ids;
	int rc = reply(c, &resp);
	eas__free(c->mem, ids);
	return rc;
}

/* Reads the request's own values into *p; 0, or a Ping Status to answer with (4). */
static int from_request(eas_srv_ctx *c, ping_params *p, uint32_t *status)
{
	*status = 0;
	if (!c->root)
		return 0; /* an empty Ping: everything from the cache */
	eas_ping_request req;
	char derr[160];
	if (eas_ping_request_decode(&req, c->root, derr, sizeof derr) != 0) {
		*status = EAS_PING_SYNTAX_ERROR;
		return 0;
	}
	p->has_heartbeat = req.has_heartbeat;
	p->heartbeat = req.heartbeat_interval;
	if (!req.has_folders)
		return 0;
	int rc = params_alloc(c->mem, p, req.folder_count);
	if (rc)
		return rc;
	p->has_folders = 1;
	const eas_node *cur = NULL;
	eas_ping_folder f;
	while ((rc = eas_ping_next_folder(&req, &cur, &f, derr, sizeof derr)) == 1) {
		if (params_add(p, f.id, f.class_name) != 0) {
			*status = EAS_PING_SYNTAX_ERROR; /* listed twice, or an Id/Class that does not fit */
			return 0;
		}
	}
	if (rc < 0)
		*status = EAS_PING_SYNTAX_ERROR;
	return 0;
}

int eas__srv_handle_ping(eas_srv_ctx *c)
{
	const eas_server_config *cfg = eas__srv_config(c->srv);
	ping_params mine, cached;
	memset(&mine, 0, sizeof mine);
	memset(&cached, 0, sizeof cached);
	uint32_t status = 0;
	int rc = from_request(c, &mine, &status);
	if (rc == 0 && status)
		rc = reply_status(c, status, "malformed Ping request");
	if (rc || status)
		goto done;

	/* The interval and the list on their own: checked before the cache fills the gaps. */
	if (mine.has_heartbeat && (mine.heartbeat < cfg->heartbeat_min || mine.heartbeat > cfg->heartbeat_max)) {
		eas_ping_response resp;
		memset(&resp, 0, sizeof resp);
		resp.status = EAS_PING_BAD_INTERVAL;
		resp.has_heartbeat = 1;
		resp.heartbeat_interval = mine.heartbeat < cfg->heartbeat_min ? cfg->heartbeat_min : cfg->heartbeat_max;
		snprintf(c->err, sizeof c->err, "HeartbeatInterval %lu outside %lu-%lu", (unsigned long)mine.heartbeat,
			 (unsigned long)cfg->heartbeat_min, (unsigned long)cfg->heartbeat_max);
		rc = reply(c, &resp);
		goto done;
	}
	if (mine.has_folders && mine.count > cfg->max_ping_folders) {
		eas_ping_response resp;
		memset(&resp, 0, sizeof resp);
		resp.status = EAS_PING_TOO_MANY_FOLDERS;
		resp.has_max_folders = 1;
		resp.max_folders = cfg->max_ping_folders;
		snprintf(c->err, sizeof c->err, "%lu folders, at most %lu", (unsigned long)mine.count,
			 (unsigned long)cfg->max_ping_folders);
		rc = reply(c, &resp);
		goto done;
	}
	if (!mine.has_heartbeat || !mine.has_folders) {
		rc = cache_load(c, &cached);
		if (rc)
			goto done;
	}
	uint32_t heartbeat = mine.has_heartbeat ? mine.heartbeat : cached.heartbeat;
	ping_params *list = mine.has_folders ? &mine : &cached;
	if ((!mine.has_heartbeat && !cached.has_heartbeat) || !list->has_folders || list->count == 0) {
		rc = reply_status(c, EAS_PING_MISSING_PARAMS, "no cached HeartbeatInterval or folder list");
		goto done;
	}
	if (heartbeat < cfg->heartbeat_min || heartbeat > cfg->heartbeat_max || list->count > cfg->max_ping_folders) {
		/* the server's limits changed since the values were cached */
		rc = reply_status(c, EAS_PING_MISSING_PARAMS, "cached Ping values outside the limits");
		goto done;
	}
	for (size_t i = 0; i < list->count; i++) {
		eas_mstore_folder folder;
		rc = c->store->folder_get(&folder, c->store, c->user_id, list->folders[i].id);
		if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
			rc = reply_status(c, EAS_PING_FOLDER_SYNC_NEEDED, "a Ping folder does not exist");
			goto done;
		}
		if (rc)
			goto done;
	}
	if (mine.has_heartbeat || mine.has_folders) {
		ping_params merged = *list;
		merged.has_heartbeat = 1;
		merged.heartbeat = heartbeat;
		rc = cache_save(c, &merged);
		if (rc)
			goto done;
	}
	rc = eas__srv_hierarchy_changed(c->store, c->user_id, c->device_id);
	if (rc < 0)
		goto done;
	if (rc > 0) {
		rc = reply_status(c, EAS_PING_FOLDER_SYNC_NEEDED, "the folder hierarchy changed");
		goto done;
	}
	int any = 0;
	for (size_t i = 0; i < list->count; i++) {
		rc = eas__srv_folder_changed(c->store, c->user_id, c->device_id, list->folders[i].id);
		if (rc < 0)
			goto done;
		list->folders[i].changed = rc > 0;
		any |= rc > 0;
	}
	if (any)
		rc = reply_changed(c, list->folders, list->count);
	else
		rc = eas__srv_hold(c, list->folders, list->count, heartbeat);
done:
	params_free(c->mem, &mine);
	params_free(c->mem, &cached);
	return rc;
}

int eas__srv_ping_finish(eas_srv_ctx *c, const eas_srv_watch *folders, size_t n, int outcome)
{
	switch (outcome) {
	case EAS_SRV_HOLD_CHANGED:
		return reply_changed(c, folders, n);
	case EAS_SRV_HOLD_HIERARCHY:
		return reply_status(c, EAS_PING_FOLDER_SYNC_NEEDED, "the folder hierarchy changed");
	case EAS_SRV_HOLD_WIPE:
		return eas__srv_reply_provision_needed(c, 140, "remote wipe requested");
	case EAS_SRV_HOLD_SUPERSEDED:
		return reply_status(c, EAS_PING_EXPIRED, "replaced by a newer Ping of the device");
	default:
		return reply_status(c, EAS_PING_EXPIRED, NULL);
	}
}
