/*
 * MoveItems (MS-ASCMD 2.2.1.12): each Move is one store item_move, atomic on
 * its own, answered in request order:
 *
 *   3  moved; DstMsgId is the item's new ServerId
 *   1  the source item is not in the source folder (unknown, another user's,
 *      or already moved)
 *   2  the destination folder is unknown
 *   4  source and destination folder are the same
 *   5  the destination folder holds another class of items (an email into
 *      Contacts...), or the same item named twice in one request
 *   7  the store was busy (locked): try again
 *
 * The change log records a move as Delete (source) + Add (destination), so
 * every other device sees both on its next Sync of either folder; the
 * moving device already has the result, so its own states are updated and
 * it gets neither back.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "commands/move_items.h"
#include "common/mem.h"

#define MAX_MOVES 1000

/* Items and folders live in MoveItems ids as strings of at most 64 characters. */
typedef struct move_out {
	char src[EAS_MSTORE_ID_SIZE];
	char dst[EAS_MSTORE_ID_SIZE];
} move_out;

/* The kind of items a folder type holds (NULL = any). */
static const char *folder_holds(uint32_t type)
{
	switch (type) {
	case EAS_MSTORE_FOLDER_JOURNAL:
	case EAS_MSTORE_FOLDER_USER_JOURNAL:
		return "Journal";
	case EAS_MSTORE_FOLDER_DELETED:
	case EAS_MSTORE_FOLDER_GENERIC:
		return NULL;
	default:
		return eas_mstore_folder_class(type);
	}
}

static int class_fits(const char *cls, uint32_t folder_type)
{
	const char *want = folder_holds(folder_type);
	if (!want)
		return 1;
	if (strcmp(want, "Email") == 0)
		return strcmp(cls, "Email") == 0 || strcmp(cls, "SMS") == 0 || strcmp(cls, "MMS") == 0;
	return strcmp(cls, want) == 0;
}

static uint32_t move_one(eas_srv_ctx *c, const eas_move_item *mv, move_out *o, int *failed)
{
	eas_mstore *store = c->store;
	eas_mstore_folder dst;
	int rc = store->folder_get(&dst, store, c->user_id, mv->dst_fld_id);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID)
		return EAS_MOVE_ITEMS_INVALID_DESTINATION;
	if (rc == 0) {
		eas_mstore_item *item = NULL;
		rc = store->item_get(&item, store, c->user_id, mv->src_msg_id, 0);
		if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID)
			return EAS_MOVE_ITEMS_INVALID_SOURCE;
		if (rc == 0) {
			int in_src = strcmp(item->folder_id, mv->src_fld_id) == 0;
			int fits = class_fits(item->class_name, dst.type);
			store->release(store, item);
			if (!in_src)
				return EAS_MOVE_ITEMS_INVALID_SOURCE;
			if (strcmp(mv->src_fld_id, mv->dst_fld_id) == 0)
				return EAS_MOVE_ITEMS_SAME_FOLDER;
			if (!fits)
				return EAS_MOVE_ITEMS_FAILED;
		}
	}
	eas_mstore_result res = EAS_MSTORE_OK;
	if (rc == 0)
		rc = store->item_move(&res, o->dst, store, c->user_id, mv->src_msg_id, mv->src_fld_id, mv->dst_fld_id,
				      c->device_id, EAS_MSTORE_MOVE_ORIGIN_HAS_DEST);
	if (rc == EAS_E_IO) {
		/* a lock timeout or a failing disk: the client may retry this one */
		snprintf(c->err, sizeof c->err, "move of %s: %s", mv->src_msg_id, store->error(store));
		return EAS_MOVE_ITEMS_LOCKED;
	}
	if (rc) {
		*failed = rc;
		return 0;
	}
	switch (res) {
	case EAS_MSTORE_OK:
		return EAS_MOVE_ITEMS_SUCCESS;
	case EAS_MSTORE_DEST_NOT_FOUND:
		return EAS_MOVE_ITEMS_INVALID_DESTINATION;
	case EAS_MSTORE_SAME_FOLDER:
		return EAS_MOVE_ITEMS_SAME_FOLDER;
	default:
		return EAS_MOVE_ITEMS_INVALID_SOURCE;
	}
}

int eas__srv_handle_move_items(eas_srv_ctx *c)
{
	eas_move_items_request req;
	int rc = eas_move_items_request_decode(&req, c->root, c->err, sizeof c->err);
	if (rc)
		return rc;
	if (req.move_count > MAX_MOVES) {
		snprintf(c->err, sizeof c->err, "%zu moves (at most %d)", req.move_count, MAX_MOVES);
		return EAS_E_MALFORMED;
	}
	eas_move_result *results = eas__calloc(c->mem, req.move_count, sizeof *results);
	move_out *outs = eas__calloc(c->mem, req.move_count, sizeof *outs);
	if (!results || !outs) {
		eas__free(c->mem, results);
		eas__free(c->mem, outs);
		return EAS_E_NOMEM;
	}
	size_t n = 0;
	const eas_node *cur = NULL;
	eas_move_item mv;
	int failed = 0;
	while (n < req.move_count && (rc = eas_move_items_next_move(&req, &cur, &mv, c->err, sizeof c->err)) == 1) {
		eas_move_result *r = &results[n];
		move_out *o = &outs[n];
		snprintf(o->src, sizeof o->src, "%s", mv.src_msg_id);
		r->src_msg_id = o->src;
		/* the same item twice: the first move wins, the second cannot follow it */
		int repeat = 0;
		for (size_t i = 0; i < n; i++)
			if (strcmp(outs[i].src, o->src) == 0 && results[i].status == EAS_MOVE_ITEMS_SUCCESS)
				repeat = 1;
		r->status = repeat ? EAS_MOVE_ITEMS_FAILED : move_one(c, &mv, o, &failed);
		if (failed)
			break;
		if (r->status == EAS_MOVE_ITEMS_SUCCESS)
			r->dst_msg_id = o->dst;
		n++;
	}
	if (failed)
		rc = failed;
	if (rc < 0) {
		eas__free(c->mem, results);
		eas__free(c->mem, outs);
		return rc;
	}
	eas_wbxml_encoder *enc;
	eas_buf buf;
	rc = eas__srv_encoder(c, &enc, &buf);
	if (rc == 0) {
		eas_move_items_response resp;
		memset(&resp, 0, sizeof resp);
		resp.result_list = results;
		resp.result_count = n;
		rc = eas_move_items_response_encode(enc, &resp);
		c->eas_status = n ? results[0].status : 0;
		rc = eas__srv_reply_wbxml(c, enc, &buf, rc);
	}
	eas__free(c->mem, results);
	eas__free(c->mem, outs);
	return rc;
}
