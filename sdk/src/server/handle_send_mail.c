/*
 * SendMail, SmartReply and SmartForward (MS-ASCMD 2.2.1.17, .20, .19), in
 * the 14.0+ ComposeMail WBXML form and the older form (the MIME message is
 * the body, the options are in the query), both read with
 * commands/send_mail.h.
 *
 * This server sends nothing to the Internet: the message goes to the Inbox
 * of every LOCAL recipient (To, Cc, Bcc and SmartForward Forwardees whose
 * address is a user of this server, see eas__srv_mail_find_user; each user
 * once), and, with SaveInSentItems / SaveInSent=T, a copy to the sender's
 * Sent Items.  Other recipients are dropped (counted in the log).  Every
 * copy is stored in one transaction with the ClientId, so either all of
 * them are there or none.  A message without From gets the user's address.
 *
 * SmartReply / SmartForward name the original by FolderId + ItemId (the
 * item must be in that folder) or LongId (taken as an item ServerId: this
 * server has no Search, whose results LongIds come from).  Without
 * ReplaceMime the original is added (smart_original.h).
 *
 * Statuses (14.0+, in <SendMail|SmartReply|SmartForward><Status>):
 *   103  the request does not fit the schema (a Source with both ItemId and
 *        LongId: 105); the command's root does not match the query's Cmd
 *   107  the MIME message cannot be parsed (or is over a cap)
 *   110  the store failed while delivering (nothing was delivered)
 *   118  this device already sent a message with this ClientId (the last
 *        32 ClientIds of each device are kept): nothing sent again
 *   119  no recipient at all (To, Cc, Bcc and Forwardees empty)
 *   150  the original item of SmartReply / SmartForward does not exist
 *   166  an AccountId (this server has only the primary account)
 * Success is HTTP 200 with an empty body.  Before 14.0 failures are HTTP
 * statuses: 400 for every request problem above, 500 for a store failure;
 * a repeated ClientId cannot happen (that form has none).
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "classes/mime.h"
#include "commands/send_mail.h"
#include "common/mem.h"
#include "server/mail_store.h"
#include "server/smart_original.h"

#define CLIENT_IDS_CACHE "sendmail-ids"
#define CLIENT_IDS_KEPT 32
#define MAX_RECIPIENTS 500

/* The request, whichever form it came in. */
typedef struct compose {
	eas_compose_kind kind;
	int legacy;                 /* before 14.0 */
	const char *client_id;      /* NULL before 14.0 */
	int save_in_sent, replace_mime;
	const char *folder_id, *item_id, *long_id;
	const uint8_t *mime;
	size_t mime_len;
	eas_compose_mail_request req; /* 14.0+: the decoded request (forwardees) */
} compose;

static eas_tag root_tag(eas_compose_kind k)
{
	return k == EAS_COMPOSE_SMART_REPLY     ? EAS_TAG_COMPOSEMAIL_SMART_REPLY
	       : k == EAS_COMPOSE_SMART_FORWARD ? EAS_TAG_COMPOSEMAIL_SMART_FORWARD
						: EAS_TAG_COMPOSEMAIL_SEND_MAIL;
}

static eas_compose_kind kind_of_command(eas_command cmd)
{
	return cmd == EAS_CMD_SMART_REPLY     ? EAS_COMPOSE_SMART_REPLY
	       : cmd == EAS_CMD_SMART_FORWARD ? EAS_COMPOSE_SMART_FORWARD
					      : EAS_COMPOSE_SEND_MAIL;
}

/* A failure: the Status from 14.0 on, an HTTP status before. */
static int refuse(eas_srv_ctx *c, const compose *p, uint32_t status, const char *why)
{
	if (why && !c->err[0])
		snprintf(c->err, sizeof c->err, "%s", why);
	if (p->legacy) {
		c->eas_status = status;
		return eas__srv_reply_text(c, status == 110 ? 500 : 400, "message not sent\n");
	}
	return eas__srv_reply_status(c, root_tag(p->kind), EAS_TAG_COMPOSEMAIL_STATUS, status);
}

static const char *request_header(const eas_srv_ctx *c, const char *name)
{
	for (size_t i = 0; i < c->req->header_count; i++) {
		const char *n = c->req->headers[i].name;
		if (!n || !c->req->headers[i].value)
			continue;
		size_t k = 0;
		while (n[k] && name[k] && (n[k] | 0x20) == (name[k] | 0x20))
			k++;
		if (!n[k] && !name[k])
			return c->req->headers[i].value;
	}
	return NULL;
}

/* 1 when a ComposeMail Source names the item twice (ItemId and LongId): Status 105, not 103. */
static int ids_combined(const eas_node *root)
{
	const eas_node *src = root ? eas_node_child(root, EAS_TAG_COMPOSEMAIL_SOURCE) : NULL;
	return src && eas_node_child(src, EAS_TAG_COMPOSEMAIL_LONG_ID) &&
	       (eas_node_child(src, EAS_TAG_COMPOSEMAIL_ITEM_ID) || eas_node_child(src, EAS_TAG_COMPOSEMAIL_FOLDER_ID));
}

/* Reads the request into p.  1: go on; 0: answered; negative: failure. */
static int read_request(eas_srv_ctx *c, compose *p)
{
	memset(p, 0, sizeof *p);
	p->kind = kind_of_command(c->command);
	p->legacy = (c->version & (EAS_PROTO_2_5 | EAS_PROTO_12_0 | EAS_PROTO_12_1)) != 0;
	char err[160] = "";
	if (p->legacy) {
		eas_compose_mail_legacy leg;
		int rc = eas_compose_mail_legacy_from_query(&leg, &c->query, request_header(c, "Content-Type"), err,
							    sizeof err);
		if (rc == EAS_E_MALFORMED)
			return refuse(c, p, 103, err);
		if (rc)
			return rc;
		p->save_in_sent = leg.save_in_sent;
		p->folder_id = leg.collection_id;
		p->item_id = leg.item_id;
		p->long_id = leg.long_id;
		p->mime = c->req->body;
		p->mime_len = c->req->body_len;
		return 1;
	}
	if (ids_combined(c->root))
		return refuse(c, p, 105, "Source names the item by ItemId and LongId");
	int rc = eas_compose_mail_request_decode(&p->req, c->root, err, sizeof err);
	if (rc == EAS_E_MALFORMED)
		return refuse(c, p, 103, err);
	if (rc)
		return rc;
	if (p->req.kind != p->kind)
		return refuse(c, p, 103, "the body's command is not the query's");
	if (p->req.account_id && p->req.account_id[0])
		return refuse(c, p, 166, "AccountId: only the primary account exists");
	p->client_id = p->req.client_id;
	p->save_in_sent = p->req.save_in_sent_items;
	p->replace_mime = p->req.replace_mime;
	p->folder_id = p->req.folder_id;
	p->item_id = p->req.item_id;
	p->long_id = p->req.long_id;
	p->mime = p->req.mime;
	p->mime_len = p->req.mime_len;
	return 1;
}

/* ---- ClientIds already sent (per device, in its cache) ---------------------------------- */

/* 1 when client_id is among the kept ones (the list, NUL-terminated lines, goes to *list). */
static int client_id_seen(eas_srv_ctx *c, const char *client_id, uint8_t **list, size_t *len)
{
	*list = NULL;
	*len = 0;
	int rc = c->store->device_cache_get(list, len, c->store, c->user_id, c->device_id, CLIENT_IDS_CACHE);
	if (rc == EAS_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	size_t n = strlen(client_id);
	for (size_t i = 0; *list && i < *len;) {
		const uint8_t *nl = memchr(*list + i, '\n', *len - i);
		size_t end = nl ? (size_t)(nl - *list) : *len;
		if (end - i == n && memcmp(*list + i, client_id, n) == 0)
			return 1;
		i = end + 1;
	}
	return 0;
}

/* Appends client_id to the kept list (dropping the oldest beyond CLIENT_IDS_KEPT). */
static int client_id_keep(eas_srv_ctx *c, const char *client_id, const uint8_t *list, size_t len)
{
	size_t lines = 0, start = 0;
	for (size_t i = 0; i < len; i++)
		lines += list[i] == '\n';
	while (lines >= CLIENT_IDS_KEPT && start < len) {
		const uint8_t *nl = memchr(list + start, '\n', len - start);
		start = nl ? (size_t)(nl - list) + 1 : len;
		lines--;
	}
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	if (len > start)
		eas_buf_append(&b, list + start, len - start);
	eas_buf_append_str(&b, client_id);
	eas_buf_append(&b, "\n", 1);
	int rc = b.result;
	if (rc == 0)
		rc = c->store->device_cache_put(c->store, c->user_id, c->device_id, CLIENT_IDS_CACHE, b.data, b.len);
	eas_buf_free(&b);
	return rc;
}

/* ---- recipients -------------------------------------------------------------------------- */

typedef struct recipients {
	int64_t users[MAX_RECIPIENTS];
	size_t local, total;
} recipients;

static int add_address(eas_srv_ctx *c, recipients *r, const char *addr)
{
	if (r->total >= MAX_RECIPIENTS)
		return 0;
	r->total++;
	const eas_server_config *cfg = eas__srv_config(c->srv);
	int64_t id;
	int rc = eas__srv_mail_find_user(&id, c->store, addr, cfg->mail_domain);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID)
		return 0;
	if (rc)
		return rc;
	for (size_t i = 0; i < r->local; i++)
		if (r->users[i] == id)
			return 0;
	r->users[r->local++] = id;
	return 0;
}

static int add_list(eas_srv_ctx *c, recipients *r, const char *list)
{
	if (!list)
		return 0;
	const char *cur = list;
	eas_mime_address a;
	int rc = 0;
	while (rc == 0 && eas_mime_address_next(&cur, &a))
		rc = add_address(c, r, a.addr);
	return rc;
}

static int collect(eas_srv_ctx *c, const compose *p, const eas_mime_message *m, recipients *r)
{
	int rc = add_list(c, r, m->to);
	if (rc == 0)
		rc = add_list(c, r, m->cc);
	if (rc == 0)
		rc = add_list(c, r, m->bcc);
	if (rc == 0 && p->req.forwardees) {
		const eas_node *cursor = NULL;
		eas_compose_forwardee f;
		char err[120];
		int more;
		while (rc == 0 && (more = eas_compose_mail_next_forwardee(&p->req, &cursor, &f, err, sizeof err)) == 1)
			rc = add_address(c, r, f.email);
		if (rc == 0 && more < 0 && more != EAS_E_MALFORMED)
			rc = more;
	}
	return rc;
}

/* ---- the command ---------------------------------------------------------------------------- */

/* SmartReply / SmartForward: the original, into m unless ReplaceMime.  1 go on, 0 answered. */
static int with_original(eas_srv_ctx *c, const compose *p, eas_mime_message *m)
{
	const char *id = p->long_id ? p->long_id : p->item_id;
	if (!id || !eas_mstore_valid_text(id, EAS_MSTORE_ID_MAX))
		return refuse(c, p, 150, "no such original item");
	eas_mstore_item *orig = NULL;
	int rc = c->store->item_get(&orig, c->store, c->user_id, id, EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS);
	if (rc == EAS_E_NOTFOUND || rc == EAS_E_INVALID)
		return refuse(c, p, 150, "no such original item");
	if (rc)
		return rc;
	if (!p->long_id && p->folder_id && strcmp(orig->folder_id, p->folder_id) != 0) {
		c->store->release(c->store, orig);
		return refuse(c, p, 150, "the original item is not in that folder");
	}
	rc = p->replace_mime ? 0 : eas__srv_add_original(c, m, orig, p->kind == EAS_COMPOSE_SMART_FORWARD);
	c->store->release(c->store, orig);
	return rc ? rc : 1;
}

static int64_t now_s(eas_srv_ctx *c)
{
	const eas_platform *pl = eas__srv_platform(c->srv);
	return pl && pl->wall_clock_s ? pl->wall_clock_s(pl->user_data) : 0;
}

/* Stores every copy and the ClientId in one transaction. */
static int deliver(eas_srv_ctx *c, const compose *p, const eas_mime_message *m, const recipients *r,
		   const uint8_t *ids, size_t ids_len)
{
	int rc = c->store->begin(c->store);
	if (rc)
		return rc;
	eas_srv_mail_options o;
	memset(&o, 0, sizeof o);
	o.received = now_s(c);
	for (size_t i = 0; rc == 0 && i < r->local; i++) {
		char inbox[EAS_MSTORE_ID_SIZE];
		rc = eas__srv_mail_default_folder(inbox, c->store, r->users[i], EAS_MSTORE_FOLDER_INBOX);
		if (rc == 0)
			rc = eas__srv_mail_store(NULL, c->store, r->users[i], inbox, m, &o, c->mem);
	}
	if (rc == 0 && p->save_in_sent) {
		char sent[EAS_MSTORE_ID_SIZE];
		o.read = 1;
		rc = eas__srv_mail_default_folder(sent, c->store, c->user_id, EAS_MSTORE_FOLDER_SENT);
		if (rc == 0)
			rc = eas__srv_mail_store(NULL, c->store, c->user_id, sent, m, &o, c->mem);
	}
	if (rc == 0 && p->client_id)
		rc = client_id_keep(c, p->client_id, ids, ids_len);
	if (rc == 0)
		rc = c->store->commit(c->store);
	else
		c->store->rollback(c->store);
	return rc;
}

static int send_parsed(eas_srv_ctx *c, const compose *p, eas_mime_message *m, const uint8_t *ids, size_t ids_len)
{
	if (!m->from) {
		char addr[EAS_MSTORE_NAME_SIZE + 64];
		eas__srv_user_address(c, addr, sizeof addr);
		int rc = eas_mime_set(m, &m->from, addr, strlen(addr));
		if (rc)
			return rc;
	}
	if (p->kind != EAS_COMPOSE_SEND_MAIL) {
		int rc = with_original(c, p, m);
		if (rc <= 0)
			return rc;
	}
	recipients *r = eas__calloc(c->mem, 1, sizeof *r);
	if (!r)
		return EAS_E_NOMEM;
	int rc = collect(c, p, m, r);
	if (rc == 0 && r->total == 0)
		rc = refuse(c, p, 119, "no recipients");
	else if (rc == 0) {
		rc = deliver(c, p, m, r, ids, ids_len);
		if (rc == EAS_E_IO) {
			rc = refuse(c, p, 110, "the store failed while delivering");
		} else if (rc == 0) {
			snprintf(c->err, sizeof c->err, "delivered to %zu local of %zu recipient(s)%s", r->local, r->total,
				 p->save_in_sent ? ", copy in Sent Items" : "");
			rc = eas__srv_reply_text(c, 200, NULL);
		}
	}
	eas__free(c->mem, r);
	return rc;
}

int eas__srv_handle_send_mail(eas_srv_ctx *c)
{
	compose p;
	int rc = read_request(c, &p);
	if (rc <= 0)
		return rc;
	uint8_t *ids = NULL;
	size_t ids_len = 0;
	if (p.client_id) {
		rc = client_id_seen(c, p.client_id, &ids, &ids_len);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			c->store->release(c->store, ids);
			return refuse(c, &p, 118, "ClientId already sent");
		}
	}
	eas_mime_limits lim = EAS_MIME_LIMITS_INIT;
	eas_mime_message m;
	char err[160];
	rc = eas_mime_parse(&m, p.mime, p.mime_len, &lim, c->mem, err, sizeof err);
	if (rc == EAS_E_MALFORMED || rc == EAS_E_LIMIT) {
		char why[200];
		snprintf(why, sizeof why, "invalid MIME: %s", err);
		rc = refuse(c, &p, 107, why);
	} else if (rc == 0) {
		rc = send_parsed(c, &p, &m, ids, ids_len);
	}
	eas_mime_message_clear(&m);
	c->store->release(c->store, ids);
	return rc;
}
