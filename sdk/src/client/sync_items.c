/*
 * ApplicationData documents the engine keeps in the store: merging a
 * server's partial Change into the stored item, reading an email's Read and
 * Flag status, and building the document of a local Read/Flag change.
 * Documents are standalone WBXML with root AirSync:ApplicationData, as the
 * Sync parser hands them out.
 */
#include <string.h>

#include "client/sync_internal.h"
#include "eas/email.h"
#include "wbxml/tree.h"

#define MAX_DOC (64u << 20)

int eas__item_merge(eas_buf *out, const uint8_t *base, size_t base_len, const uint8_t *patch, size_t patch_len,
		    const eas_mem *mem)
{
	eas_tree *bt = NULL, *pt = NULL;
	int rc = eas_tree_parse(&bt, base, base_len, MAX_DOC, mem, NULL, 0);
	if (rc == 0)
		rc = eas_tree_parse(&pt, patch, patch_len, MAX_DOC, mem, NULL, 0);
	const eas_node *b = rc == 0 ? eas_tree_root(bt) : NULL;
	const eas_node *p = rc == 0 ? eas_tree_root(pt) : NULL;
	if (rc == 0 && (b->tag != EAS_TAG_AIRSYNC_APPLICATION_DATA || p->tag != EAS_TAG_AIRSYNC_APPLICATION_DATA))
		rc = EAS_E_MALFORMED;
	eas_wbxml_encoder *enc = NULL;
	if (rc == 0)
		rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, out, EAS_PROTO_ALL, mem);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	for (const eas_node *c = b ? b->first : NULL; rc == 0 && c; c = c->next)
		if (!eas_node_child(p, c->tag))
			rc = eas_node_write(enc, c, 0);
	for (const eas_node *c = p ? p->first : NULL; rc == 0 && c; c = c->next)
		rc = eas_node_write(enc, c, 0);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	eas_tree_free(bt);
	eas_tree_free(pt);
	return rc;
}

void eas__item_read_flag(const uint8_t *doc, size_t len, const eas_mem *mem, int *read, int *flag_status)
{
	eas_tree *t = NULL;
	if (!doc || !len || eas_tree_parse(&t, doc, len, MAX_DOC, mem, NULL, 0) != 0)
		return;
	const eas_node *root = eas_tree_root(t);
	uint32_t v;
	if (eas_node_child_uint(root, EAS_TAG_EMAIL_READ, &v) == 0)
		*read = v != 0;
	const eas_node *flag = eas_node_child(root, EAS_TAG_EMAIL_FLAG);
	if (flag) {
		/* An empty Flag clears it. */
		*flag_status = eas_node_child_uint(flag, EAS_TAG_EMAIL_STATUS, &v) == 0 && v <= 2 ? (int)v : 0;
	}
	eas_tree_free(t);
}

int eas__item_change_doc(eas_buf *out, eas_store_change_kind kind, int value, unsigned version, const eas_mem *mem)
{
	eas_email e;
	memset(&e, 0, sizeof e);
	if (kind == EAS_STORE_CHANGE_READ) {
		e.has_read = 1;
		e.read = value != 0;
	} else if (kind == EAS_STORE_CHANGE_FLAG) {
		e.flag.present = 1; /* alone: an empty Flag, which clears it */
		if (value == EAS_EMAIL_FLAG_COMPLETE || value == EAS_EMAIL_FLAG_ACTIVE) {
			e.flag.has_status = 1;
			e.flag.status = (uint32_t)value;
		}
		if (value == EAS_EMAIL_FLAG_ACTIVE)
			e.flag.flag_type = "Flag for follow up";
	} else {
		return EAS_E_INVALID;
	}
	eas_wbxml_encoder *enc = NULL;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, out, version, mem);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = eas_email_encode_change(enc, &e, version);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	return rc;
}
