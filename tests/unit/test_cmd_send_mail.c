/*
 * SendMail / SmartReply / SmartForward: the corpus vectors (from the spec's
 * examples) decoded field by field, both directions round-tripped, Mime
 * streamed from a reader, version gating, empty-body success, malformed
 * input, and the pre-14.0 MIME + query form.
 */
#include "cmd_test_util.h"

#include "commands/send_mail.h"

#define MIME_B64 "RnJvbTogZGV2aWNldXNlckBleGFtcGxlLmNvbQ0KVG86IGphbmVAZXhhbXBsZS5jb20NClN1YmplY3Q6IEhlbGxvDQpNSU1F" \
	"LVZlcnNpb246IDEuMA0KQ29udGVudC1UeXBlOiB0ZXh0L3BsYWluOyBjaGFyc2V0PSJ1dGYtOCINCg0KSGkgSmFuZSwgc2VlIHlvdSBh" \
	"dCBsdW5jaC4NCg=="
static const char mime_text[] = "From: deviceuser@example.com\r\nTo: jane@example.com\r\nSubject: Hello\r\n"
				"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"utf-8\"\r\n\r\n"
				"Hi Jane, see you at lunch.\r\n";

/* tests/data/wbxml/sendmail-request.xml, smartreply-request.xml, smartforward-request.xml, sendmail-response.xml */
static const char sendmail_request[] = "<SendMail xmlns=\"ComposeMail:\"><ClientId>633916348086136194</ClientId>"
	"<SaveInSentItems/><Mime>" MIME_B64 "</Mime></SendMail>";
static const char smartreply_request[] = "<SmartReply xmlns=\"ComposeMail:\"><ClientId>633916348086136195</ClientId>"
	"<SaveInSentItems/><ReplaceMime/><Source><FolderId>5</FolderId><ItemId>5:1</ItemId></Source>"
	"<Mime>" MIME_B64 "</Mime></SmartReply>";
static const char smartforward_request[] = "<SmartForward xmlns=\"ComposeMail:\"><ClientId>633916348086136196</ClientId>"
	"<Source><LongId>RgAAAAA</LongId><InstanceId>2009-08-08T17:00:00.000Z</InstanceId></Source>"
	"<AccountId>1</AccountId><Mime>" MIME_B64 "</Mime></SmartForward>";
static const char sendmail_response[] = "<SendMail xmlns=\"ComposeMail:\"><Status>120</Status></SendMail>";

static void check_mime(const eas_compose_mail_request *r)
{
	assert_int_equal(r->mime_len, strlen(mime_text));
	assert_memory_equal(r->mime, mime_text, r->mime_len);
}

static void check_sendmail(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_compose_mail_request r;
	char err[160];
	assert_int_equal(eas_compose_mail_request_decode(&r, root, err, sizeof err), 0);
	assert_int_equal(r.kind, EAS_COMPOSE_SEND_MAIL);
	assert_string_equal(r.client_id, "633916348086136194");
	assert_true(r.save_in_sent_items);
	assert_false(r.replace_mime);
	assert_null(r.account_id);
	assert_null(r.folder_id);
	assert_null(r.long_id);
	check_mime(&r);
}

static void check_smartreply(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_compose_mail_request r;
	char err[160];
	assert_int_equal(eas_compose_mail_request_decode(&r, root, err, sizeof err), 0);
	assert_int_equal(r.kind, EAS_COMPOSE_SMART_REPLY);
	assert_string_equal(r.client_id, "633916348086136195");
	assert_true(r.save_in_sent_items);
	assert_true(r.replace_mime);
	assert_string_equal(r.folder_id, "5");
	assert_string_equal(r.item_id, "5:1");
	assert_null(r.long_id);
	assert_null(r.instance_id);
	check_mime(&r);
}

static void check_smartforward(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_compose_mail_request r;
	char err[160];
	assert_int_equal(eas_compose_mail_request_decode(&r, root, err, sizeof err), 0);
	assert_int_equal(r.kind, EAS_COMPOSE_SMART_FORWARD);
	assert_string_equal(r.client_id, "633916348086136196");
	assert_false(r.save_in_sent_items);
	assert_string_equal(r.long_id, "RgAAAAA");
	assert_string_equal(r.instance_id, "2009-08-08T17:00:00.000Z");
	assert_null(r.folder_id);
	assert_string_equal(r.account_id, "1");
	assert_int_equal(r.forwardee_count, 0);
	check_mime(&r);
}

static void check_response(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_compose_mail_response r = { EAS_COMPOSE_SEND_MAIL, 0 };
	char err[160];
	assert_int_equal(eas_compose_mail_response_decode(&r, root, err, sizeof err), 0);
	assert_int_equal(r.kind, EAS_COMPOSE_SEND_MAIL);
	assert_int_equal(r.status, 120);
	assert_true(eas_compose_mail_response_has_body(&r));
}

static void test_corpus_vectors(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		cmdt_check_fn check;
	} v[] = {
		{ sendmail_request, check_sendmail },
		{ smartreply_request, check_smartreply },
		{ smartforward_request, check_smartforward },
		{ sendmail_response, check_response },
	};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		cmdt_each_split(v[i].xml, v[i].check, NULL);
		cmdt_each_failing_alloc_decode(v[i].xml, v[i].check, NULL);
	}
	/* An empty body means the message went out. */
	eas_compose_mail_response r = { EAS_COMPOSE_SMART_REPLY, 7 };
	assert_int_equal(eas_compose_mail_response_decode(&r, NULL, NULL, 0), 0);
	assert_int_equal(r.kind, EAS_COMPOSE_SMART_REPLY);
	assert_int_equal(r.status, 0);
	assert_false(eas_compose_mail_response_has_body(&r));
}

static int encode_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_compose_mail_request_encode(enc, arg);
}

static int encode_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_compose_mail_response_encode(enc, arg);
}

static void test_request_both_directions(void **state)
{
	(void)state;
	eas_compose_mail_request send = { .kind = EAS_COMPOSE_SEND_MAIL, .client_id = "c1", .save_in_sent_items = 1,
					  .mime = (const uint8_t *)mime_text, .mime_len = strlen(mime_text) };
	char *xml = xmldoc_encode(encode_request, &send, EAS_PROTO_14_0);
	assert_string_equal(xml, CMDT_PROLOG "<SendMail xmlns=\"ComposeMail:\"><ClientId>c1</ClientId><SaveInSentItems/>"
			    "<Mime>" MIME_B64 "</Mime></SendMail>");
	free(xml);
	cmdt_each_failing_alloc_encode(encode_request, &send, EAS_PROTO_14_0);

	const eas_compose_forwardee fw[] = { { "Jane Doe", "jane@example.com" }, { NULL, "bob@example.com" } };
	eas_compose_mail_request fwd = { .kind = EAS_COMPOSE_SMART_FORWARD, .client_id = "c2", .account_id = "acc-2",
					 .replace_mime = 1, .folder_id = "7", .item_id = "7:3", .instance_id = "2024-01-02T03:04:05.000Z",
					 .mime = (const uint8_t *)"x", .mime_len = 1, .template_id = "tpl-1",
					 .forwardee_list = fw, .forwardee_count = 2 };
	xml = xmldoc_encode(encode_request, &fwd, EAS_PROTO_16_1);
	assert_string_equal(xml, CMDT_PROLOG "<SmartForward xmlns=\"ComposeMail:\"><ClientId>c2</ClientId>"
			    "<Source><FolderId>7</FolderId><ItemId>7:3</ItemId><InstanceId>2024-01-02T03:04:05.000Z</InstanceId>"
			    "</Source><AccountId>acc-2</AccountId><ReplaceMime/><Mime>eA==</Mime>"
			    "<TemplateID xmlns=\"RightsManagement:\">tpl-1</TemplateID>"
			    "<Forwardees><Forwardee><Name>Jane Doe</Name><Email>jane@example.com</Email></Forwardee>"
			    "<Forwardee><Email>bob@example.com</Email></Forwardee></Forwardees></SmartForward>");
	eas_tree *t = xmldoc_tree(xml);
	eas_compose_mail_request back;
	char err[160];
	assert_int_equal(eas_compose_mail_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.kind, EAS_COMPOSE_SMART_FORWARD);
	assert_string_equal(back.account_id, "acc-2");
	assert_true(back.replace_mime);
	assert_string_equal(back.instance_id, "2024-01-02T03:04:05.000Z");
	assert_string_equal(back.template_id, "tpl-1");
	assert_int_equal(back.mime_len, 1);
	assert_int_equal(back.forwardee_count, 2);
	const eas_node *cur = NULL;
	eas_compose_forwardee f;
	assert_int_equal(eas_compose_mail_next_forwardee(&back, &cur, &f, err, sizeof err), 1);
	assert_string_equal(f.name, "Jane Doe");
	assert_string_equal(f.email, "jane@example.com");
	assert_int_equal(eas_compose_mail_next_forwardee(&back, &cur, &f, err, sizeof err), 1);
	assert_null(f.name);
	assert_string_equal(f.email, "bob@example.com");
	assert_int_equal(eas_compose_mail_next_forwardee(&back, &cur, &f, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_request, &fwd, EAS_PROTO_16_0);

	/* Version gating by the tag table. */
	assert_int_equal(cmdt_encode_rc(encode_request, &fwd, EAS_PROTO_14_1), EAS_E_UNSUPPORTED); /* Forwardees */
	fwd.forwardee_count = 0;
	assert_int_equal(cmdt_encode_rc(encode_request, &fwd, EAS_PROTO_14_1), 0);
	assert_int_equal(cmdt_encode_rc(encode_request, &fwd, EAS_PROTO_14_0), EAS_E_UNSUPPORTED); /* AccountId */
	fwd.account_id = NULL;
	assert_int_equal(cmdt_encode_rc(encode_request, &fwd, EAS_PROTO_14_0), EAS_E_UNSUPPORTED); /* TemplateID */
	fwd.template_id = NULL;
	assert_int_equal(cmdt_encode_rc(encode_request, &fwd, EAS_PROTO_14_0), 0);
	assert_int_equal(cmdt_encode_rc(encode_request, &send, EAS_PROTO_12_1), EAS_E_UNSUPPORTED); /* use the MIME form */

	/* What the encoder refuses itself. */
	for (int i = 0; i < 9; i++) {
		eas_compose_mail_request b = { .kind = EAS_COMPOSE_SMART_REPLY, .client_id = "c", .long_id = "L",
					       .mime = (const uint8_t *)"m", .mime_len = 1 };
		switch (i) {
		case 0: b.client_id = NULL; break;
		case 1: b.mime = NULL; break;
		case 2: b.long_id = NULL; break;                     /* no Source */
		case 3: b.folder_id = "5"; break;                    /* LongId with FolderId */
		case 4: b.long_id = NULL; b.item_id = "5:1"; break;  /* ItemId without FolderId */
		case 5: b.forwardee_list = fw; b.forwardee_count = 1; break; /* Forwardees on SmartReply */
		case 6: b.kind = EAS_COMPOSE_SEND_MAIL; break;       /* Source on SendMail */
		case 7: b.kind = EAS_COMPOSE_SEND_MAIL; b.long_id = NULL; b.replace_mime = 1; break;
		case 8: b.kind = (eas_compose_kind)0; break;
		}
		if (cmdt_encode_rc(encode_request, &b, EAS_PROTO_16_1) != EAS_E_INVALID)
			fail_msg("bad request %d accepted", i);
	}
}

typedef struct mime_src {
	size_t size, at, step;
	int fail;
} mime_src;

static uint8_t mime_byte(size_t i)
{
	return (uint8_t)("Subject: big\r\n\r\n"[i % 16] ^ (i / 16 % 3));
}

static int read_mime(uint8_t *buf, size_t size, size_t *got, void *ud)
{
	mime_src *s = ud;
	if (s->fail)
		return -42;
	size_t n = s->size - s->at;
	if (n > size)
		n = size;
	if (n > s->step)
		n = s->step;
	for (size_t i = 0; i < n; i++)
		buf[i] = mime_byte(s->at + i);
	s->at += n;
	*got = n;
	return 0;
}

static void test_mime_streamed_from_a_reader(void **state)
{
	(void)state;
	const size_t size = 300000;
	mime_src src = { size, 0, 777, 0 };
	eas_compose_mail_request req = { .kind = EAS_COMPOSE_SEND_MAIL, .client_id = "big-1", .mime_reader = read_mime,
					 .mime_total = size, .mime_user_data = &src };
	testmem tm;
	eas_mem m = testmem_init(&tm, -1);
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, &m), 0);
	assert_int_equal(eas_compose_mail_request_encode(enc, &req), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	assert_true(tm.peak_bytes < 16384); /* the encoder never holds the message */
	assert_int_equal(src.at, size);
	eas_tree *t;
	char err[160];
	assert_int_equal(eas_tree_parse(&t, out.data, out.len, 0, NULL, err, sizeof err), 0);
	eas_compose_mail_request back;
	assert_int_equal(eas_compose_mail_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.mime_len, size);
	for (size_t i = 0; i < size; i++)
		if (back.mime[i] != mime_byte(i))
			fail_msg("byte %zu differs", i);
	eas_tree_free(t);
	eas_buf_free(&out);

	/* A reader that ends early, one that fails. */
	src.at = 0;
	req.mime_total = size + 1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_1), EAS_E_INVALID);
	src.at = 0;
	src.fail = 1;
	req.mime_total = size;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_1), -42);
}

static void test_response_both_directions(void **state)
{
	(void)state;
	static const struct {
		eas_compose_kind kind;
		const char *xml;
	} cases[] = {
		{ EAS_COMPOSE_SEND_MAIL, "<SendMail xmlns=\"ComposeMail:\"><Status>120</Status></SendMail>" },
		{ EAS_COMPOSE_SMART_REPLY, "<SmartReply xmlns=\"ComposeMail:\"><Status>150</Status></SmartReply>" },
		{ EAS_COMPOSE_SMART_FORWARD, "<SmartForward xmlns=\"ComposeMail:\"><Status>104</Status></SmartForward>" },
	};
	static const uint32_t status[] = { 120, 150, 104 };
	for (size_t i = 0; i < 3; i++) {
		eas_compose_mail_response r = { cases[i].kind, status[i] };
		assert_true(eas_compose_mail_response_has_body(&r));
		char *xml = xmldoc_encode(encode_response, &r, EAS_PROTO_16_0);
		char expect[256];
		snprintf(expect, sizeof expect, "%s%s", CMDT_PROLOG, cases[i].xml);
		assert_string_equal(xml, expect);
		eas_tree *t = xmldoc_tree(xml);
		eas_compose_mail_response back = { EAS_COMPOSE_SEND_MAIL, 0 };
		assert_int_equal(eas_compose_mail_response_decode(&back, eas_tree_root(t), NULL, 0), 0);
		assert_int_equal(back.kind, cases[i].kind);
		assert_int_equal(back.status, status[i]);
		eas_tree_free(t);
		free(xml);
		cmdt_each_failing_alloc_encode(encode_response, &r, EAS_PROTO_14_0);
	}
	eas_compose_mail_response ok = { EAS_COMPOSE_SEND_MAIL, 0 };
	assert_false(eas_compose_mail_response_has_body(&ok));
	assert_int_equal(cmdt_encode_rc(encode_response, &ok, EAS_PROTO_14_1), EAS_E_INVALID);
	eas_compose_mail_response old = { EAS_COMPOSE_SEND_MAIL, 120 };
	assert_int_equal(cmdt_encode_rc(encode_response, &old, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int response;
		const char *message;
	} cases[] = {
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", 0, "expected ComposeMail:SendMail, SmartReply or SmartForward" },
		{ "<SendMail xmlns=\"ComposeMail:\"><Mime>AA==</Mime></SendMail>", 0, "missing ComposeMail:ClientId" },
		{ "<SendMail xmlns=\"ComposeMail:\"><ClientId/><Mime>AA==</Mime></SendMail>", 0, "ComposeMail:ClientId is empty" },
		{ "<SendMail xmlns=\"ComposeMail:\"><ClientId>1</ClientId></SendMail>", 0, "missing ComposeMail:Mime" },
		{ "<SendMail xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><LongId>1</LongId></Source><Mime>AA==</Mime>"
		  "</SendMail>", 0, "SendMail holds a ComposeMail:Source" },
		{ "<SendMail xmlns=\"ComposeMail:\"><ClientId>1</ClientId><ReplaceMime/><Mime>AA==</Mime></SendMail>", 0,
		  "SendMail holds ComposeMail:ReplaceMime" },
		{ "<SmartReply xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Mime>AA==</Mime></SmartReply>", 0,
		  "missing ComposeMail:Source" },
		{ "<SmartReply xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><ItemId>5:1</ItemId></Source>"
		  "<Mime>AA==</Mime></SmartReply>", 0, "Source needs FolderId and ItemId, or LongId alone" },
		{ "<SmartReply xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><FolderId>5</FolderId><ItemId>5:1</ItemId>"
		  "<LongId>L</LongId></Source><Mime>AA==</Mime></SmartReply>", 0, "Source needs FolderId and ItemId" },
		{ "<SmartReply xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><LongId>L</LongId></Source>"
		  "<Mime>AA==</Mime><Forwardees><Forwardee><Email>a@b</Email></Forwardee></Forwardees></SmartReply>", 0,
		  "Forwardees outside SmartForward" },
		{ "<SmartForward xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><LongId>L</LongId></Source>"
		  "<Mime>AA==</Mime><Forwardees/></SmartForward>", 0, "Forwardees holds no ComposeMail:Forwardee" },
		{ "<SmartForward xmlns=\"ComposeMail:\"><ClientId>1</ClientId><Source><LongId>L</LongId></Source>"
		  "<Mime>AA==</Mime><Forwardees><Forwardee><Name>x</Name></Forwardee></Forwardees></SmartForward>", 0,
		  "missing ComposeMail:Email" },
		{ "<SendMail xmlns=\"ComposeMail:\"></SendMail>", 1, "missing ComposeMail:Status" },
		{ "<SendMail xmlns=\"ComposeMail:\"><Status>x</Status></SendMail>", 1, "ComposeMail:Status is not a number" },
		{ "<SendMail xmlns=\"ComposeMail:\"><Status>0</Status></SendMail>", 1, "ComposeMail:Status is 0" },
		{ "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderSync>", 1, "expected ComposeMail:SendMail" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		const eas_node *root = eas_tree_root(t);
		char err[200] = "";
		int rc;
		if (!cases[i].response) {
			eas_compose_mail_request r;
			eas_compose_forwardee f;
			const eas_node *cur = NULL;
			rc = eas_compose_mail_request_decode(&r, root, err, sizeof err);
			while (rc == 0 && (rc = eas_compose_mail_next_forwardee(&r, &cur, &f, err, sizeof err)) == 1)
				;
		} else {
			eas_compose_mail_response r = { EAS_COMPOSE_SEND_MAIL, 0 };
			rc = eas_compose_mail_response_decode(&r, root, err, sizeof err);
		}
		if (rc != EAS_E_MALFORMED || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err, cases[i].message);
		eas_tree_free(t);
	}
}

static void test_legacy_form(void **state)
{
	(void)state;
	/* SmartReply in the 12.1 form: MIME body, ItemId/CollectionId and SaveInSent in the query. */
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.device_id = (const uint8_t *)"dev1";
	q.device_id_len = 4;
	q.device_type = "SmartPhone";
	q.user = "jdoe";
	eas_compose_mail_legacy m = { EAS_COMPOSE_SMART_REPLY, 1, "5", "5:1", NULL, NULL };
	assert_int_equal(eas_compose_mail_legacy_query(&q, &m), 0);
	assert_int_equal(q.command, EAS_CMD_SMART_REPLY);
	assert_true(q.options & EAS_HTTP_OPTION_SAVE_IN_SENT);
	char *text = NULL;
	assert_int_equal(eas_http_query_encode_plain(&text, &q, NULL), 0);
	assert_string_equal(text, "Cmd=SmartReply&User=jdoe&DeviceId=dev1&DeviceType=SmartPhone&CollectionId=5"
				  "&ItemId=5%3A1&SaveInSent=T");
	/* The server reads it back. */
	eas_http_query back = EAS_HTTP_QUERY_INIT;
	assert_int_equal(eas_http_query_decode(&back, text, strlen(text), NULL), 0);
	eas_compose_mail_legacy got;
	char err[160];
	assert_int_equal(eas_compose_mail_legacy_from_query(&got, &back, "message/RFC822; charset=utf-8", err, sizeof err),
			 0);
	assert_int_equal(got.kind, EAS_COMPOSE_SMART_REPLY);
	assert_true(got.save_in_sent);
	assert_string_equal(got.collection_id, "5");
	assert_string_equal(got.item_id, "5:1");
	assert_null(got.long_id);
	assert_int_equal(eas_compose_mail_legacy_from_query(&got, &back, "application/vnd.ms-sync.wbxml", err, sizeof err),
			 EAS_E_MALFORMED);
	assert_non_null(strstr(err, "is not message/rfc822"));
	eas_http_query_clear(&back);
	eas_http_string_free(text, NULL);

	/* SendMail: no source, SaveInSent cleared. */
	eas_compose_mail_legacy s = { EAS_COMPOSE_SEND_MAIL, 0, NULL, NULL, NULL, NULL };
	q.options = EAS_HTTP_OPTION_SAVE_IN_SENT;
	q.collection_id = q.item_id = NULL;
	assert_int_equal(eas_compose_mail_legacy_query(&q, &s), 0);
	assert_int_equal(q.command, EAS_CMD_SEND_MAIL);
	assert_false(q.options & EAS_HTTP_OPTION_SAVE_IN_SENT);
	assert_int_equal(eas_compose_mail_legacy_from_query(&got, &q, EAS_COMPOSE_LEGACY_CONTENT_TYPE, err, sizeof err), 0);
	assert_int_equal(got.kind, EAS_COMPOSE_SEND_MAIL);
	assert_false(got.save_in_sent);

	/* Refusals both ways. */
	eas_compose_mail_legacy bad = { EAS_COMPOSE_SMART_FORWARD, 0, "5", NULL, NULL, NULL };
	assert_int_equal(eas_compose_mail_legacy_query(&q, &bad), EAS_E_INVALID);
	bad.kind = EAS_COMPOSE_SEND_MAIL;
	assert_int_equal(eas_compose_mail_legacy_query(&q, &bad), EAS_E_INVALID);
	q.command = EAS_CMD_SMART_FORWARD;
	q.long_id = NULL;
	assert_int_equal(eas_compose_mail_legacy_from_query(&got, &q, "message/rfc822", err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "SmartForward needs CollectionId and ItemId, or LongId alone"));
	q.command = EAS_CMD_SYNC;
	assert_int_equal(eas_compose_mail_legacy_from_query(&got, &q, "message/rfc822", err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "command Sync is not SendMail"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_vectors),
		cmocka_unit_test(test_request_both_directions),
		cmocka_unit_test(test_mime_streamed_from_a_reader),
		cmocka_unit_test(test_response_both_directions),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_legacy_form),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
