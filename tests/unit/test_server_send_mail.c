/*
 * SendMail, SmartReply and SmartForward through the companion server's
 * engine (tests/support/server_fixture): local delivery, Sent Items, the
 * original added to replies and forwards, every Status, the pre-14.0 form,
 * a held Ping woken by a delivery, failing allocations.  And the mail
 * intake (server/mail_store.h) on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "classes/mime.h"
#include "commands/send_mail.h"
#include "common/buf.h"
#include "eas/email.h"
#include "server/engine.h"
#include "server/mail_store.h"
#include "server_fixture.h"
#include "testmem.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static void folder_of(fx *f, int64_t user, uint32_t type, char *out)
{
	assert_int_equal(eas__srv_mail_default_folder(out, f->store, user, type), 0);
}

typedef struct listing {
	char ids[16][EAS_MSTORE_ID_SIZE];
	size_t n;
} listing;

static int list_one(const eas_mstore_item *it, void *ud)
{
	listing *l = ud;
	if (l->n < 16)
		snprintf(l->ids[l->n++], EAS_MSTORE_ID_SIZE, "%s", it->server_id);
	return 0;
}

/* The items of a folder, newest first; returns the count. */
static size_t items(fx *f, int64_t user, const char *folder, listing *l)
{
	memset(l, 0, sizeof *l);
	uint64_t n = 0;
	assert_int_equal(f->store->item_list(&n, f->store, user, folder, 0, 0, list_one, l), 0);
	return (size_t)n;
}

/* Decodes an item's ApplicationData (e owns its strings: eas_email_clear). */
static eas_mstore_item *load(fx *f, int64_t user, const char *id, eas_email *e)
{
	eas_mstore_item *it = NULL;
	assert_int_equal(f->store->item_get(&it, f->store, user, id, EAS_MSTORE_GET_BODY | EAS_MSTORE_GET_ATTACHMENTS), 0);
	char err[200];
	assert_int_equal(eas_email_decode(e, it->application_data, it->application_data_len, NULL, err, sizeof err), 0);
	return it;
}

typedef struct req {
	eas_compose_kind kind;
	const char *client_id;
	const char *mime;
	int save;
	const char *folder_id, *item_id, *long_id;
	int replace;
	const char *account_id;
} req;

/* The ComposeMail WBXML of r into out (eas_buf_free it). */
static void compose_body(eas_buf *out, const req *r, unsigned version)
{
	eas_compose_mail_request q;
	memset(&q, 0, sizeof q);
	q.kind = r->kind ? r->kind : EAS_COMPOSE_SEND_MAIL;
	q.client_id = r->client_id ? r->client_id : "c1";
	q.save_in_sent_items = r->save;
	q.replace_mime = r->replace;
	q.folder_id = r->folder_id;
	q.item_id = r->item_id;
	q.long_id = r->long_id;
	q.account_id = r->account_id;
	q.mime = (const uint8_t *)r->mime;
	q.mime_len = strlen(r->mime);
	eas_buf_init(out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, out, version, NULL), 0);
	assert_int_equal(eas_compose_mail_request_encode(enc, &q), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
}

static const char *cmd_name(eas_compose_kind k)
{
	return k == EAS_COMPOSE_SMART_REPLY ? "SmartReply" : k == EAS_COMPOSE_SMART_FORWARD ? "SmartForward" : "SendMail";
}

/* Sends r as user; returns the Status (0 = success: 200 with an empty body). */
static unsigned send(fx *f, const char *user, const req *r)
{
	eas_buf body;
	compose_body(&body, r, EAS_PROTO_14_1);
	reply out;
	call_wbxml(f, &(call){ .cmd = cmd_name(r->kind), .user = user, .body_bytes = body.data, .body_len = body.len },
		   &out);
	eas_buf_free(&body);
	assert_int_equal(out.r.status, 200);
	unsigned status = 0;
	if (out.r.body_len) {
		assert_non_null(out.root);
		uint32_t st = 0;
		assert_int_equal(eas_node_child_uint(out.root, EAS_TAG_COMPOSEMAIL_STATUS, &st), 0);
		status = st;
	}
	reply_free(&out);
	return status;
}

#define MAIL_TO_BOB                                                                                         \
	"From: Alice <alice@example.test>\r\nTo: Bob <bob@example.test>, far@elsewhere.test\r\n"              \
	"Cc: ALICE@EXAMPLE.TEST\r\nBcc: secret@example.test\r\nSubject: Hello Bob\r\n"                        \
	"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\nMIME-Version: 1.0\r\n\r\nSee you at noon.\r\n"

/* ---- SendMail ------------------------------------------------------------------------------ */

static void test_send_mail_delivers(void **state)
{
	fx *f = *state;
	char bob_inbox[EAS_MSTORE_ID_SIZE], alice_inbox[EAS_MSTORE_ID_SIZE], alice_sent[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->bob, EAS_MSTORE_FOLDER_INBOX, bob_inbox);
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, alice_inbox);
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_SENT, alice_sent);
	assert_int_equal(send(f, "alice", &(req){ .mime = MAIL_TO_BOB, .save = 1 }), 0);
	assert_non_null(strstr(f->log, "SendMail user=alice device=DEV1 version=14.1 http=200"));
	assert_non_null(strstr(f->log, "delivered to 2 local of 4 recipient(s), copy in Sent Items"));
	listing l;
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 1);
	eas_email e;
	eas_mstore_item *it = load(f, f->bob, l.ids[0], &e);
	assert_string_equal(e.subject, "Hello Bob");
	assert_string_equal(e.from, "Alice <alice@example.test>");
	assert_string_equal(e.to, "Bob <bob@example.test>, far@elsewhere.test");
	assert_string_equal(e.date_received, "2003-07-01T08:52:37.000Z");
	assert_true(e.has_read);
	assert_int_equal(e.read, 0);
	assert_null(e.bcc);
	assert_string_equal(e.body.data, "See you at noon.\r\n");
	assert_int_equal(it->body_type, EAS_BODY_TYPE_PLAIN);
	assert_int_equal(it->summary.read, 0);
	assert_string_equal(it->summary.subject, "Hello Bob");
	eas_email_clear(&e);
	f->store->release(f->store, it);
	/* alice was on Cc (upper case): her Inbox too, and her Sent Items copy is read */
	assert_int_equal(items(f, f->alice, alice_inbox, &l), 1);
	assert_int_equal(items(f, f->alice, alice_sent, &l), 1);
	it = load(f, f->alice, l.ids[0], &e);
	assert_int_equal(e.read, 1);
	assert_int_equal(it->summary.read, 1);
	eas_email_clear(&e);
	f->store->release(f->store, it);

	/* the same ClientId again: 118, nothing delivered twice */
	assert_int_equal(send(f, "alice", &(req){ .mime = MAIL_TO_BOB, .save = 1 }), 118);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 1);
	/* another device may reuse it; without SaveInSentItems no Sent copy */
	assert_int_equal(send(f, "alice", &(req){ .client_id = "c2", .mime = MAIL_TO_BOB }), 0);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 2);
	assert_int_equal(items(f, f->alice, alice_sent, &l), 1);
	/* no From: the user's address is used */
	assert_int_equal(send(f, "bob", &(req){ .client_id = "b1", .mime = "To: alice@example.test\r\nSubject: s\r\n\r\nx" }), 0);
	assert_int_equal(items(f, f->alice, alice_inbox, &l), 3);
	it = load(f, f->alice, l.ids[0], &e);
	assert_string_equal(e.from, "bob@example.test");
	eas_email_clear(&e);
	f->store->release(f->store, it);
}

static void test_send_mail_statuses(void **state)
{
	fx *f = *state;
	/* 107: not a message; 119: nobody to send to; 166: an AccountId */
	assert_int_equal(send(f, "alice", &(req){ .client_id = "s1", .mime = "just text, no header\r\n" }), 107);
	assert_non_null(strstr(f->log, "invalid MIME"));
	assert_int_equal(send(f, "alice", &(req){ .client_id = "s2", .mime = "Subject: nobody\r\n\r\nx" }), 119);
	assert_int_equal(send(f, "alice", &(req){ .client_id = "s3", .mime = MAIL_TO_BOB, .account_id = "other" }), 166);
	/* 103: the body is another command than the query's */
	eas_buf body;
	compose_body(&body, &(req){ .mime = MAIL_TO_BOB }, EAS_PROTO_14_1);
	reply out;
	call_wbxml(f, &(call){ .cmd = "SmartReply", .body_bytes = body.data, .body_len = body.len }, &out);
	eas_buf_free(&body);
	assert_non_null(out.xml);
	assert_non_null(strstr(out.xml, "<SmartReply xmlns=\"ComposeMail:\"><Status>103</Status>"));
	reply_free(&out);
	/* 103: no Mime (a schema violation) */
	call_wbxml(f,
		   &(call){ .cmd = "SendMail",
			    .xml = "<SendMail xmlns=\"ComposeMail:\"><ClientId>z</ClientId><SaveInSentItems/></SendMail>" },
		   &out);
	assert_non_null(strstr(out.xml, "<Status>103</Status>"));
	reply_free(&out);
	/* 105: ItemId and LongId together (the encoder refuses that: written by hand) */
	eas_buf_init(&body, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &body, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_SMART_REPLY), 0);
	assert_int_equal(eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_CLIENT_ID, "z"), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_SOURCE), 0);
	assert_int_equal(eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_FOLDER_ID, "1"), 0);
	assert_int_equal(eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_ITEM_ID, "1:1"), 0);
	assert_int_equal(eas_wbxml_encoder_element(enc, EAS_TAG_COMPOSEMAIL_LONG_ID, "1:1"), 0);
	assert_int_equal(eas_wbxml_encoder_end(enc), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_COMPOSEMAIL_MIME), 0);
	assert_int_equal(eas_wbxml_encoder_opaque(enc, (const uint8_t *)MAIL_TO_BOB, strlen(MAIL_TO_BOB)), 0);
	assert_int_equal(eas_wbxml_encoder_end(enc), 0);
	assert_int_equal(eas_wbxml_encoder_end(enc), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	call_wbxml(f, &(call){ .cmd = "SmartReply", .body_bytes = body.data, .body_len = body.len }, &out);
	eas_buf_free(&body);
	assert_non_null(strstr(out.xml, "<SmartReply xmlns=\"ComposeMail:\"><Status>105</Status>"));
	reply_free(&out);
	/* 150: no such original, or not in that folder */
	char inbox[EAS_MSTORE_ID_SIZE], drafts[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_DRAFTS, drafts);
	assert_int_equal(send(f, "alice", &(req){ .kind = EAS_COMPOSE_SMART_REPLY, .client_id = "s4", .mime = MAIL_TO_BOB,
						   .folder_id = inbox, .item_id = "999:1" }),
			 150);
	assert_int_equal(send(f, "bob", &(req){ .client_id = "s5", .mime = MAIL_TO_BOB }), 0);
	listing l;
	assert_int_equal(items(f, f->alice, inbox, &l), 1);
	assert_int_equal(send(f, "alice", &(req){ .kind = EAS_COMPOSE_SMART_REPLY, .client_id = "s6", .mime = MAIL_TO_BOB,
						   .folder_id = drafts, .item_id = l.ids[0] }),
			 150);
	/* bob cannot reply to alice's item */
	assert_int_equal(send(f, "bob", &(req){ .kind = EAS_COMPOSE_SMART_FORWARD, .client_id = "s7", .mime = MAIL_TO_BOB,
						 .long_id = l.ids[0] }),
			 150);
	/* no ClientIds were kept for failures: s1 works now */
	assert_int_equal(send(f, "alice", &(req){ .client_id = "s1", .mime = MAIL_TO_BOB }), 0);
}

/* ---- SmartReply / SmartForward ------------------------------------------------------------- */

static const char original[] =
	"From: Bob <bob@example.test>\r\nTo: alice@example.test\r\nCc: carla@example.test\r\nSubject: Plans\r\n"
	"Date: Tue, 1 Jul 2003 10:52:37 +0200\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
	"--b\r\nContent-Type: text/html\r\n\r\n<p>Let&apos;s meet <b>Friday</b></p>\r\n"
	"--b\r\nContent-Type: text/plain; name=agenda.txt\r\n\r\n1. lunch\r\n--b--\r\n";

static void test_smart_reply_and_forward(void **state)
{
	fx *f = *state;
	char alice_inbox[EAS_MSTORE_ID_SIZE], bob_inbox[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, alice_inbox);
	folder_of(f, f->bob, EAS_MSTORE_FOLDER_INBOX, bob_inbox);
	assert_int_equal(send(f, "bob", &(req){ .client_id = "o1", .mime = original }), 0);
	listing l;
	assert_int_equal(items(f, f->alice, alice_inbox, &l), 1);
	char orig[EAS_MSTORE_ID_SIZE];
	snprintf(orig, sizeof orig, "%s", l.ids[0]);

	/* a text reply gets the original as text under a header block */
	assert_int_equal(send(f, "alice", &(req){ .kind = EAS_COMPOSE_SMART_REPLY, .client_id = "r1",
						   .mime = "To: bob@example.test\r\nSubject: Re: Plans\r\n\r\nYes!",
						   .folder_id = alice_inbox, .item_id = orig }),
			 0);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 1);
	eas_email e;
	eas_mstore_item *it = load(f, f->bob, l.ids[0], &e);
	const char *b = e.body.data;
	assert_non_null(b);
	assert_true(strncmp(b, "Yes!\r\n\r\n-----Original Message-----\r\nFrom: Bob <bob@example.test>\r\n", 65) == 0);
	assert_non_null(strstr(b, "Sent: 2003-07-01 08:52 UTC\r\n"));
	assert_non_null(strstr(b, "Cc: carla@example.test\r\n"));
	assert_non_null(strstr(b, "Subject: Plans\r\n\r\nLet's meet Friday"));
	assert_int_equal(it->attachment_count, 0); /* a reply does not carry the attachments */
	eas_email_clear(&e);
	f->store->release(f->store, it);

	/* an HTML forward by LongId: the block before </body>, the original attachment along */
	assert_int_equal(send(f, "alice", &(req){ .kind = EAS_COMPOSE_SMART_FORWARD, .client_id = "r2",
						   .mime = "To: bob@example.test\r\nSubject: Fwd: Plans\r\n"
							   "Content-Type: text/html\r\n\r\n<html><body>FYI</body></html>",
						   .long_id = orig }),
			 0);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 2);
	it = load(f, f->bob, l.ids[0], &e);
	assert_int_equal(e.body.type, EAS_BODY_TYPE_HTML);
	b = e.body.data;
	assert_true(strncmp(b, "<html><body>FYI\r\n<hr>", 21) == 0);
	assert_non_null(strstr(b, "<b>From:</b> Bob &lt;bob@example.test&gt;<br>"));
	assert_non_null(strstr(b, "<p>Let&apos;s meet <b>Friday</b></p></body></html>"));
	assert_int_equal(it->attachment_count, 1);
	assert_string_equal(it->attachments[0].name, "agenda.txt");
	assert_int_equal(e.attachment_count, 1);
	assert_non_null(e.attachments[0].file_reference);
	eas_email_clear(&e);
	f->store->release(f->store, it);

	/* ReplaceMime: the client's message as it is */
	assert_int_equal(send(f, "alice", &(req){ .kind = EAS_COMPOSE_SMART_FORWARD, .client_id = "r3",
						   .mime = "To: bob@example.test\r\nSubject: whole\r\n\r\nmine only",
						   .folder_id = alice_inbox, .item_id = orig, .replace = 1 }),
			 0);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 3);
	it = load(f, f->bob, l.ids[0], &e);
	assert_string_equal(e.body.data, "mine only");
	assert_int_equal(it->attachment_count, 0);
	eas_email_clear(&e);
	f->store->release(f->store, it);
}

/* ---- before 14.0 ------------------------------------------------------------------------------ */

static void test_legacy_form(void **state)
{
	fx *f = *state;
	char bob_inbox[EAS_MSTORE_ID_SIZE], alice_sent[EAS_MSTORE_ID_SIZE], alice_inbox[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->bob, EAS_MSTORE_FOLDER_INBOX, bob_inbox);
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_SENT, alice_sent);
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, alice_inbox);
	const char *mime = "To: bob@example.test\r\nSubject: old style\r\n\r\nbody";
	reply r;
	do_call(f,
		&(call){ .raw_query = "Cmd=SendMail&User=alice&DeviceId=OLD1&DeviceType=PocketPC&SaveInSent=T",
			 .version = "12.1", .raw_body = mime, .content_type = "message/rfc822" },
		&r);
	if (r.r.status != 200)
		fail_msg("%s", f->log);
	assert_int_equal(r.r.body_len, 0);
	reply_free(&r);
	listing l;
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 1);
	assert_int_equal(items(f, f->alice, alice_sent, &l), 1);
	/* the wrong content type, a broken message, a missing original: 400 */
	do_call(f,
		&(call){ .raw_query = "Cmd=SendMail&User=alice&DeviceId=OLD1&DeviceType=PocketPC", .version = "12.1",
			 .raw_body = mime, .content_type = "application/vnd.ms-sync.wbxml" },
		&r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f,
		&(call){ .raw_query = "Cmd=SendMail&User=alice&DeviceId=OLD1&DeviceType=PocketPC", .version = "2.5",
			 .raw_body = "not mime", .content_type = "message/rfc822" },
		&r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	char q[256];
	snprintf(q, sizeof q, "Cmd=SmartReply&User=alice&DeviceId=OLD1&DeviceType=PocketPC&CollectionId=%s&ItemId=%s",
		 alice_inbox, "77:7");
	do_call(f, &(call){ .raw_query = q, .version = "12.0", .raw_body = mime, .content_type = "message/rfc822" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	/* a SmartReply to a real item works */
	assert_int_equal(send(f, "bob", &(req){ .client_id = "l1", .mime = "To: alice@example.test\r\nSubject: q\r\n\r\nquestion" }),
			 0);
	assert_int_equal(items(f, f->alice, alice_inbox, &l), 1);
	snprintf(q, sizeof q, "Cmd=SmartReply&User=alice&DeviceId=OLD1&DeviceType=PocketPC&CollectionId=%s&ItemId=%s",
		 alice_inbox, l.ids[0]);
	do_call(f, &(call){ .raw_query = q, .version = "12.1", .raw_body = mime, .content_type = "message/rfc822; x=y" },
		&r);
	assert_int_equal(r.r.status, 200);
	reply_free(&r);
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 2);
	eas_email e;
	eas_mstore_item *it = load(f, f->bob, l.ids[0], &e);
	assert_non_null(strstr(e.body.data, "question"));
	eas_email_clear(&e);
	f->store->release(f->store, it);
}

/* ---- Ping, OPTIONS ---------------------------------------------------------------------------- */

static void test_delivery_wakes_ping(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], xml[512];
	folder_of(f, f->bob, EAS_MSTORE_FOLDER_INBOX, inbox);
	snprintf(xml, sizeof xml,
		 "<Ping xmlns=\"Ping:\"><HeartbeatInterval>300</HeartbeatInterval><Folders><Folder><Id>%s</Id>"
		 "<Class>Email</Class></Folder></Folders></Ping>",
		 inbox);
	reply r;
	do_call(f, &(call){ .cmd = "Ping", .user = "bob", .device = "PHONE", .xml = xml }, &r);
	eas_server_hold *h = r.r.hold;
	assert_non_null(h);
	reply_free(&r);
	assert_int_equal(f->nwoken, 0);
	/* mail to someone else does not wake bob */
	assert_int_equal(send(f, "alice", &(req){ .client_id = "w0", .mime = "To: far@x.test\r\n\r\nx", .save = 1 }), 0);
	assert_int_equal(f->nwoken, 0);
	assert_int_equal(send(f, "alice", &(req){ .client_id = "w1", .mime = MAIL_TO_BOB }), 0);
	assert_int_equal(f->nwoken, 1);
	assert_ptr_equal(f->woken[0], h);
	memset(&r, 0, sizeof r);
	assert_int_equal(eas_server_hold_finish(f->srv, h, &r.r), 0);
	parse_body(&r);
	assert_non_null(r.xml);
	assert_non_null(strstr(r.xml, "<Status>2</Status>"));
	assert_non_null(strstr(r.xml, inbox));
	reply_free(&r);

	reply o;
	do_call(f, &(call){ .method = "OPTIONS" }, &o);
	const char *cmds = NULL;
	for (size_t i = 0; i < o.r.header_count; i++)
		if (strcasecmp(o.r.headers[i].name, "MS-ASProtocolCommands") == 0)
			cmds = o.r.headers[i].value;
	assert_non_null(cmds);
	assert_non_null(strstr(cmds, "SendMail"));
	assert_non_null(strstr(cmds, "SmartReply"));
	assert_non_null(strstr(cmds, "SmartForward"));
	reply_free(&o);
}

/* ---- mail intake on its own -------------------------------------------------------------------- */

static void test_mail_store_and_users(void **state)
{
	fx *f = *state;
	int64_t id = 0;
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "bob@example.test", "example.test"), 0);
	assert_int_equal(id, f->bob);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "BOB@Example.Test", "example.test"), 0);
	assert_int_equal(id, f->bob);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "bob", "example.test"), 0);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "bob@other.test", "example.test"), EAS_E_NOTFOUND);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "bob@localhost", NULL), 0);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "nobody@example.test", "example.test"), EAS_E_NOTFOUND);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "@example.test", "example.test"), EAS_E_NOTFOUND);
	assert_int_equal(eas__srv_mail_find_user(&id, f->store, "", "example.test"), EAS_E_INVALID);

	/* attachments get FileReferences in ApplicationData; a folder of another user is refused */
	eas_mime_message m;
	char err[200];
	static const char msg[] = "Subject: att\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n\r\nhi\r\n"
				  "--x\r\nContent-Type: image/png\r\nContent-ID: <i1>\r\nContent-Disposition: inline\r\n"
				  "Content-Transfer-Encoding: base64\r\n\r\niVBORw==\r\n--x--\r\n";
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)msg, strlen(msg), NULL, NULL, err, sizeof err), 0);
	char inbox[EAS_MSTORE_ID_SIZE], bob_inbox[EAS_MSTORE_ID_SIZE], item[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	folder_of(f, f->bob, EAS_MSTORE_FOLDER_INBOX, bob_inbox);
	eas_srv_mail_options o = { 1, 1700000000, NULL };
	assert_int_equal(eas__srv_mail_store(item, f->store, f->alice, inbox, &m, &o, NULL), 0);
	assert_int_equal(eas__srv_mail_store(NULL, f->store, f->alice, bob_inbox, &m, &o, NULL), EAS_E_NOTFOUND);
	eas_email e;
	eas_mstore_item *it = load(f, f->alice, item, &e);
	assert_int_equal(e.attachment_count, 1);
	assert_string_equal(e.attachments[0].file_reference, it->attachments[0].file_reference);
	assert_string_equal(e.attachments[0].content_id, "i1");
	assert_true(e.attachments[0].is_inline);
	assert_int_equal(it->attachments[0].size, 4);
	assert_int_equal(it->summary.date, 1700000000); /* no Date: the fallback */
	assert_string_equal(e.date_received, "2023-11-14T22:13:20.000Z");
	assert_int_equal(e.read, 1);
	eas_email_clear(&e);
	f->store->release(f->store, it);
	listing l;
	assert_int_equal(items(f, f->bob, bob_inbox, &l), 0);
	eas_mime_message_clear(&m);
}

/* Every allocation of a SendMail failing in turn: an answer (200 or 500), nothing leaked, nothing half-delivered. */
static void test_failing_allocations(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE];
	folder_of(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	eas_server_free(f->srv);
	f->srv = NULL;
	size_t delivered = 0;
	long n = 0;
	for (;; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, -1);
		eas_server *srv = make_server(f, NULL, &mem);
		f->srv = srv;
		tm.fail_at = tm.calls + n;
		char cid[32];
		snprintf(cid, sizeof cid, "fa%ld", n);
		eas_buf body;
		compose_body(&body, &(req){ .client_id = cid, .mime = original, .save = 1 }, EAS_PROTO_14_1);
		reply r;
		do_call(f, &(call){ .cmd = "SendMail", .user = "bob", .body_bytes = body.data, .body_len = body.len }, &r);
		eas_buf_free(&body);
		int status = r.r.status;
		size_t len = r.r.body_len;
		reply_free(&r);
		eas_server_free(srv);
		f->srv = NULL;
		assert_int_equal(tm.live_blocks, 0);
		listing l;
		size_t now = items(f, f->alice, inbox, &l);
		if (status == 200 && len == 0) {
			if (now != delivered + 1)
				fail_msg("n=%ld now %zu %s", n, now, f->log + (f->loglen > 600 ? f->loglen - 600 : 0));
			delivered = now;
			if (tm.calls <= tm.fail_at)
				break; /* nothing failed: done */
		} else {
			assert_true(status == 500 || status == 400 || status == 200);
			assert_int_equal(now, delivered);
		}
	}
	assert_true(n > 10);
	f->srv = make_server(f, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_send_mail_delivers, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_send_mail_statuses, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_smart_reply_and_forward, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_legacy_form, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_delivery_wakes_ping, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_mail_store_and_users, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_failing_allocations, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
