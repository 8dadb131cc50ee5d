/*
 * GetItemEstimate (MS-ASCMD 2.2.1.9): how many commands the next Sync of
 * each collection would bring, counted by the store without marking
 * anything (sync_pending), within the request's FilterType and classes.
 *
 * Per collection:
 *   not a folder of the user          Status 2 (FolderSync first)
 *   SyncKey 0, or no sync state yet   Status 3 (Sync with SyncKey 0 first)
 *   the current or the previous key   Status 1 with the Estimate
 *   any other key                     Status 4
 * The request's form (Class/FilterType in Collection up to 12.1, in
 * airsync:Options from 14.0) must match its protocol version: else 400.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "commands/get_item_estimate.h"
#include "common/mem.h"

/* FilterType (MS-ASCMD 2.2.3.74.2) as seconds back from now; 0 = no filter. */
static int64_t filter_seconds(uint32_t f)
{
	static const int64_t days[] = { 0, 1, 3, 7, 14, 31, 92, 183 };
	return f < sizeof days / sizeof days[0] ? days[f] * 86400 : 0;
}

static int64_t now_s(eas_srv_ctx *c)
{
	const eas_platform *p = eas__srv_platform(c->srv);
	if (p && p->wall_clock_s)
		return p->wall_clock_s(p->user_data);
	return (int64_t)time(NULL);
}

/* One collection's Status and Estimate. */
static int estimate(eas_srv_ctx *c, const eas_item_estimate_collection *col, eas_item_estimate_result *out)
{
	out->collection_id = col->collection_id;
	out->status = EAS_ITEM_ESTIMATE_OK;
	eas_mstore *store = c->store;
	eas_mstore_sync st;
	int rc = store->sync_check(&st, store, c->user_id, c->device_id, col->collection_id, col->sync_key, "Sync");
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID) {
		out->status = EAS_ITEM_ESTIMATE_INVALID_COLLECTION;
		return 0;
	}
	if (rc)
		return rc;
	if (st.match == EAS_MSTORE_KEY_INITIAL) {
		out->status = EAS_ITEM_ESTIMATE_NOT_PRIMED;
		return 0;
	}
	eas_mstore_window win;
	memset(&win, 0, sizeof win);
	char classes[2 * (EAS_MSTORE_CLASS_MAX + 1)] = "";
	for (size_t i = 0; i < col->option_count; i++) {
		const eas_item_estimate_options *o = &col->options[i];
		if (o->has_filter_type && !win.filter_since) {
			int64_t back = filter_seconds(o->filter_type);
			if (back)
				win.filter_since = now_s(c) - back;
		}
		if (o->class_name && strlen(o->class_name) <= EAS_MSTORE_CLASS_MAX && !strchr(o->class_name, ',')) {
			size_t used = strlen(classes);
			snprintf(classes + used, sizeof classes - used, "%s%s", used ? "," : "", o->class_name);
		}
	}
	win.classes = classes[0] ? classes : NULL;
	uint64_t pending = 0;
	rc = store->sync_pending(&pending, store, c->user_id, c->device_id, col->collection_id, &win);
	if (rc == EAS_E_NOTFOUND) {
		/* a folder this device never synced: whatever key it sent, it must start with 0 */
		out->status = EAS_ITEM_ESTIMATE_NOT_PRIMED;
		return 0;
	}
	if (rc)
		return rc;
	if (st.match == EAS_MSTORE_KEY_STALE) {
		out->status = EAS_ITEM_ESTIMATE_INVALID_KEY;
		return 0;
	}
	out->has_estimate = 1;
	out->estimate = pending > UINT32_MAX ? UINT32_MAX : (uint32_t)pending;
	return 0;
}

int eas__srv_handle_get_item_estimate(eas_srv_ctx *c)
{
	eas_item_estimate_request req;
	int rc = eas_get_item_estimate_request_decode(&req, c->root, c->err, sizeof c->err);
	if (rc)
		return rc;
	eas_item_estimate_result *results = eas__calloc(c->mem, req.collection_count ? req.collection_count : 1,
							sizeof *results);
	if (!results)
		return EAS_E_NOMEM;
	size_t n = 0;
	const eas_node *cur = NULL;
	eas_item_estimate_collection col;
	while (n < req.collection_count &&
	       (rc = eas_get_item_estimate_next_collection(&req, &cur, &col, c->err, sizeof c->err)) == 1) {
		rc = eas_item_estimate_form_check(&col, c->version, c->err, sizeof c->err);
		if (rc == 0)
			rc = estimate(c, &col, &results[n]);
		if (rc)
			break;
		n++;
	}
	if (rc < 0) {
		eas__free(c->mem, results);
		return rc;
	}
	eas_wbxml_encoder *enc;
	eas_buf buf;
	rc = eas__srv_encoder(c, &enc, &buf);
	if (rc) {
		eas__free(c->mem, results);
		return rc;
	}
	eas_item_estimate_response resp;
	memset(&resp, 0, sizeof resp);
	resp.result_list = results;
	resp.result_count = n;
	rc = eas_get_item_estimate_response_encode(enc, &resp);
	/* the log shows the first collection's Status */
	c->eas_status = n ? results[0].status : 0;
	rc = eas__srv_reply_wbxml(c, enc, &buf, rc);
	eas__free(c->mem, results);
	return rc;
}
