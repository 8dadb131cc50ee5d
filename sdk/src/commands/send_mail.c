/* SendMail, SmartReply, SmartForward: both directions, 14.0+ WBXML and the older MIME + query form. */
#include "send_mail.h"

#include <string.h>

#include "cmd_fields.h"
#include "codec_util.h"

static eas_tag root_tag(eas_compose_kind kind)
{
	switch (kind) {
	case EAS_COMPOSE_SEND_MAIL:
		return EAS_TAG_COMPOSEMAIL_SEND_MAIL;
	case EAS_COMPOSE_SMART_REPLY:
		return EAS_TAG_COMPOSEMAIL_SMART_REPLY;
	case EAS_COMPOSE_SMART_FORWARD:
		return EAS_TAG_COMPOSEMAIL_SMART_FORWARD;
	}
	return EAS_TAG_NONE;
}

static eas_compose_kind kind_of(eas_tag tag)
{
	return tag == EAS_TAG_COMPOSEMAIL_SEND_MAIL	   ? EAS_COMPOSE_SEND_MAIL
	       : tag == EAS_TAG_COMPOSEMAIL_SMART_REPLY	   ? EAS_COMPOSE_SMART_REPLY
	       : tag == EAS_TAG_COMPOSEMAIL_SMART_FORWARD ? EAS_COMPOSE_SMART_FORWARD
							   : (eas_compose_kind)0;
}

/* Source rule: FolderId + ItemId, or LongId alone.  1 when it holds. */
static int source_ok(const char *folder_id, const char *item_id, const char *long_id)
{
	if (long_id)
		return !folder_id && !item_id && long_id[0];
	return folder_id && item_id && folder_id[0] && item_id[0];
}

/* ---- request ------------------------------------------------------------------- */

static int request_ok(const eas_compose_mail_request *r)
{
	if (root_tag(r->kind) == EAS_TAG_NONE || !r->client_id || !r->client_id[0])
		return 0;
	if (!r->mime_reader && !r->mime)
		return 0;
	int has_source = r->folder_id || r->item_id || r->long_id || r->instance_id;
	if (r->kind == EAS_COMPOSE_SEND_MAIL)
		return !has_source && !r->replace_mime && r->forwardee_count == 0;
	if (!source_ok(r->folder_id, r->item_id, r->long_id))
		return 0;
	if (r->forwardee_count && (r->kind != EAS_COMPOSE_SMART_FORWARD || !r->forwardee_list))
		return 0;
	for (size_t i = 0; i < r->forwardee_count; i++)
		if (!r->forwardee_list[i].email || !r->forwardee_list[i].email[0])
			return 0;
	return 1;
}

static int put_mime(eas_wbxml_encoder *enc, const eas_compose_mail_request *r)
{
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_MIME);
	if (rc == 0 && !r->mime_reader) {
		rc = eas_wbxml_encoder_opaque(enc, r->mime, r->mime_len);
	} else if (rc == 0) {
		rc = eas_wbxml_encoder_opaque_begin(enc, r->mime_total);
		uint64_t left = r->mime_total;
		uint8_t buf[2048];
		while (rc == 0 && left) {
			size_t want = left < sizeof buf ? (size_t)left : sizeof buf, got = 0;
			rc = r->mime_reader(buf, want, &got, r->mime_user_data);
			if (rc > 0)
				rc = EAS_E_INVALID;
			if (rc == 0 && (got == 0 || got > want))
				rc = EAS_E_INVALID; /* the message is shorter than mime_total, or the reader overran */
			if (rc == 0)
				rc = eas_wbxml_encoder_opaque_write(enc, buf, got);
			left -= rc == 0 ? got : 0;
		}
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_compose_mail_request_encode(eas_wbxml_encoder *enc, const eas_compose_mail_request *req)
{
	if (!enc || !req || !request_ok(req))
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, root_tag(req->kind));
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_CLIENT_ID, req->client_id);
	if (rc == 0 && req->kind != EAS_COMPOSE_SEND_MAIL) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_SOURCE);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_FOLDER_ID, req->folder_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_ITEM_ID, req->item_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_LONG_ID, req->long_id);
		if (rc == 0)
			rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_INSTANCE_ID, req->instance_id);
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_ACCOUNT_ID, req->account_id);
	if (rc == 0)
		rc = eas__cmd_put_flag(enc, EAS_TAG_COMPOSEMAIL_SAVE_IN_SENT_ITEMS, req->save_in_sent_items);
	if (rc == 0)
		rc = eas__cmd_put_flag(enc, EAS_TAG_COMPOSEMAIL_REPLACE_MIME, req->replace_mime);
	if (rc == 0)
		rc = put_mime(enc, req);
	if (rc == 0)
		rc = eas__cmd_put_opt(enc, EAS_TAG_RIGHTSMANAGEMENT_TEMPLATE_ID, req->template_id);
	if (rc == 0 && req->forwardee_count) {
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_FORWARDEES);
		for (size_t i = 0; rc == 0 && i < req->forwardee_count; i++) {
			rc = eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_FORWARDEE);
			if (rc == 0)
				rc = eas__cmd_put_opt(enc, EAS_TAG_COMPOSEMAIL_NAME, req->forwardee_list[i].name);
			if (rc == 0)
				rc = eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_EMAIL, req->forwardee_list[i].email);
			if (rc == 0)
				rc = eas_wbxml_encoder_end(enc);
		}
		if (rc == 0)
			rc = eas_wbxml_encoder_end(enc);
	}
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

static int expect_compose_root(const eas_node *root, char *err, size_t err_size)
{
	char got[64];
	if (!root)
		return eas__cmd_malformed(err, err_size, "no document");
	if (!kind_of(root->tag))
		return eas__cmd_malformed(err, err_size, "root element is %s, expected ComposeMail:SendMail, "
					  "SmartReply or SmartForward", eas__cmd_tag_label(root->tag, got, sizeof got));
	return 0;
}

int eas_compose_mail_request_decode(eas_compose_mail_request *out, const eas_node *root, char *err,
				    size_t err_size)
{
	memset(out, 0, sizeof *out);
	int rc = expect_compose_root(root, err, err_size);
	if (rc)
		return rc;
	out->kind = kind_of(root->tag);
	rc = eas__cmd_text_max(&out->client_id, root, EAS_TAG_COMPOSEMAIL_CLIENT_ID, 0, 1, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&out->account_id, root, EAS_TAG_COMPOSEMAIL_ACCOUNT_ID, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_opt_text_max(&out->template_id, root, EAS_TAG_RIGHTSMANAGEMENT_TEMPLATE_ID, 0, err, err_size);
	if (rc)
		return rc;
	out->save_in_sent_items = eas_node_child(root, EAS_TAG_COMPOSEMAIL_SAVE_IN_SENT_ITEMS) != NULL;
	out->replace_mime = eas_node_child(root, EAS_TAG_COMPOSEMAIL_REPLACE_MIME) != NULL;
	eas__cmd_opt_bytes(&out->mime, &out->mime_len, root, EAS_TAG_COMPOSEMAIL_MIME);
	if (!out->mime)
		return eas__cmd_malformed(err, err_size, "missing ComposeMail:Mime");
	const eas_node *source = eas_node_child(root, EAS_TAG_COMPOSEMAIL_SOURCE);
	if (out->kind == EAS_COMPOSE_SEND_MAIL) {
		if (source)
			return eas__cmd_malformed(err, err_size, "ComposeMail:SendMail holds a ComposeMail:Source");
		if (out->replace_mime)
			return eas__cmd_malformed(err, err_size, "ComposeMail:SendMail holds ComposeMail:ReplaceMime");
	} else {
		if (!source)
			return eas__cmd_malformed(err, err_size, "missing ComposeMail:Source");
		rc = eas__cmd_opt_text_max(&out->folder_id, source, EAS_TAG_COMPOSEMAIL_FOLDER_ID, 0, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_text_max(&out->item_id, source, EAS_TAG_COMPOSEMAIL_ITEM_ID, 0, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_text_max(&out->long_id, source, EAS_TAG_COMPOSEMAIL_LONG_ID, 0, err, err_size);
		if (rc == 0)
			rc = eas__cmd_opt_text_max(&out->instance_id, source, EAS_TAG_COMPOSEMAIL_INSTANCE_ID, 0, err,
						   err_size);
		if (rc)
			return rc;
		if (!source_ok(out->folder_id, out->item_id, out->long_id))
			return eas__cmd_malformed(err, err_size, "ComposeMail:Source needs FolderId and ItemId, or LongId "
						  "alone");
	}
	out->forwardees = eas_node_child(root, EAS_TAG_COMPOSEMAIL_FORWARDEES);
	if (out->forwardees) {
		if (out->kind != EAS_COMPOSE_SMART_FORWARD)
			return eas__cmd_malformed(err, err_size, "ComposeMail:Forwardees outside SmartForward");
		out->forwardee_count = eas_node_count(out->forwardees, EAS_TAG_COMPOSEMAIL_FORWARDEE);
		if (out->forwardee_count == 0)
			return eas__cmd_malformed(err, err_size, "ComposeMail:Forwardees holds no ComposeMail:Forwardee");
	}
	return 0;
}

int eas_compose_mail_next_forwardee(const eas_compose_mail_request *req, const eas_node **cursor,
				    eas_compose_forwardee *out, char *err, size_t err_size)
{
	const eas_node *n = *cursor ? eas_node_next_same(*cursor)
				    : eas_node_child(req->forwardees, EAS_TAG_COMPOSEMAIL_FORWARDEE);
	*cursor = n;
	if (!n)
		return 0;
	memset(out, 0, sizeof *out);
	int rc = eas__cmd_opt_text_max(&out->name, n, EAS_TAG_COMPOSEMAIL_NAME, 0, err, err_size);
	if (rc == 0)
		rc = eas__cmd_text_max(&out->email, n, EAS_TAG_COMPOSEMAIL_EMAIL, 0, 1, err, err_size);
	return rc ? rc : 1;
}

/* ---- response ------------------------------------------------------------------ */

int eas_compose_mail_response_has_body(const eas_compose_mail_response *resp)
{
	return resp && resp->status != 0;
}

int eas_compose_mail_response_encode(eas_wbxml_encoder *enc, const eas_compose_mail_response *resp)
{
	if (!enc || !resp || resp->status == 0 || root_tag(resp->kind) == EAS_TAG_NONE)
		return EAS_E_INVALID;
	int rc = eas_wbxml_encoder_start(enc, root_tag(resp->kind));
	if (rc == 0)
		rc = eas__cmd_put_uint(enc, EAS_TAG_COMPOSEMAIL_STATUS, resp->status);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

int eas_compose_mail_response_decode(eas_compose_mail_response *out, const eas_node *root, char *err,
				     size_t err_size)
{
	out->status = 0;
	if (!root)
		return 0; /* empty body: sent */
	int rc = expect_compose_root(root, err, err_size);
	if (rc)
		return rc;
	out->kind = kind_of(root->tag);
	rc = eas__cmd_uint(&out->status, root, EAS_TAG_COMPOSEMAIL_STATUS, err, err_size);
	if (rc == 0 && out->status == 0)
		rc = eas__cmd_malformed(err, err_size, "ComposeMail:Status is 0");
	return rc;
}

/* ---- before 14.0 --------------------------------------------------------------- */

static eas_command legacy_command(eas_compose_kind kind)
{
	return kind == EAS_COMPOSE_SEND_MAIL ? EAS_CMD_SEND_MAIL
	       : kind == EAS_COMPOSE_SMART_REPLY ? EAS_CMD_SMART_REPLY
						 : EAS_CMD_SMART_FORWARD;
}

static int legacy_ok(const eas_compose_mail_legacy *m)
{
	if (m->kind != EAS_COMPOSE_SEND_MAIL && m->kind != EAS_COMPOSE_SMART_REPLY &&
	    m->kind != EAS_COMPOSE_SMART_FORWARD)
		return 0;
	if (m->kind == EAS_COMPOSE_SEND_MAIL)
		return !m->collection_id && !m->item_id && !m->long_id && !m->occurrence;
	return source_ok(m->collection_id, m->item_id, m->long_id);
}

int eas_compose_mail_legacy_query(eas_http_query *q, const eas_compose_mail_legacy *m)
{
	if (!q || !m || !legacy_ok(m))
		return EAS_E_INVALID;
	q->command = legacy_command(m->kind);
	q->collection_id = m->collection_id;
	q->item_id = m->item_id;
	q->long_id = m->long_id;
	q->occurrence = m->occurrence;
	if (m->save_in_sent)
		q->options |= EAS_HTTP_OPTION_SAVE_IN_SENT;
	else
		q->options &= ~EAS_HTTP_OPTION_SAVE_IN_SENT;
	return 0;
}

/* "message/rfc822", any case, optionally followed by parameters. */
static int is_rfc822(const char *ct)
{
	static const char want[] = EAS_COMPOSE_LEGACY_CONTENT_TYPE;
	if (!ct)
		return 0;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	for (size_t i = 0; i < sizeof want - 1; i++) {
		char c = ct[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != want[i])
			return 0;
	}
	ct += sizeof want - 1;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

int eas_compose_mail_legacy_from_query(eas_compose_mail_legacy *out, const eas_http_query *q,
				       const char *content_type, char *err, size_t err_size)
{
	if (!out || !q)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	switch (q->command) {
	case EAS_CMD_SEND_MAIL:
		out->kind = EAS_COMPOSE_SEND_MAIL;
		break;
	case EAS_CMD_SMART_REPLY:
		out->kind = EAS_COMPOSE_SMART_REPLY;
		break;
	case EAS_CMD_SMART_FORWARD:
		out->kind = EAS_COMPOSE_SMART_FORWARD;
		break;
	default:
		return eas__cmd_malformed(err, err_size, "command %s is not SendMail, SmartReply or SmartForward",
					  eas_command_name(q->command) ? eas_command_name(q->command) : "?");
	}
	if (!is_rfc822(content_type))
		return eas__cmd_malformed(err, err_size, "Content-Type '%s' is not %s", content_type ? content_type : "",
					  EAS_COMPOSE_LEGACY_CONTENT_TYPE);
	out->save_in_sent = (q->options & EAS_HTTP_OPTION_SAVE_IN_SENT) != 0;
	out->collection_id = q->collection_id;
	out->item_id = q->item_id;
	out->long_id = q->long_id;
	out->occurrence = q->occurrence;
	if (out->kind != EAS_COMPOSE_SEND_MAIL && !source_ok(q->collection_id, q->item_id, q->long_id))
		return eas__cmd_malformed(err, err_size, "%s needs CollectionId and ItemId, or LongId alone",
					  eas_command_name(q->command));
	return 0;
}
