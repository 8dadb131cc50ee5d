/*
 * ItemOperations: the corpus vectors (from the spec's examples) decoded field
 * by field, both directions round-tripped, version gating, malformed input,
 * the streaming response parser (every split, pauses, limits, failing
 * allocations, bounded memory for a large Data) and a multipart response
 * end to end.
 */
#include "cmd_test_util.h"

#include "commands/cmd_fields.h"
#include "commands/item_operations.h"
#include "commands/multipart.h"

#define NS "<ItemOperations xmlns=\"ItemOperations:\" xmlns:A=\"AirSync:\" xmlns:B=\"AirSyncBase:\" " \
	   "xmlns:D=\"DocumentLibrary:\" xmlns:S=\"Search:\" xmlns:R=\"RightsManagement:\" xmlns:E=\"Email:\">"

/* tests/data/wbxml/itemoperations-fetch-request.xml */
static const char fetch_request[] = NS
	"<Fetch><Store>Mailbox</Store><A:CollectionId>5</A:CollectionId><A:ServerId>5:1</A:ServerId>"
	"<Options><B:BodyPreference><B:Type>2</B:Type></B:BodyPreference></Options></Fetch>"
	"<Fetch><Store>Mailbox</Store><B:FileReference>5%3a1%3a0</B:FileReference></Fetch>"
	"<Fetch><Store>DocumentLibrary</Store><D:LinkId>\\\\fileserver\\share\\plan.txt</D:LinkId>"
	"<Options><Range>0-1023</Range><UserName>CONTOSO\\deviceuser</UserName><Password>secret</Password></Options>"
	"</Fetch></ItemOperations>";

/* tests/data/wbxml/itemoperations-move-empty.xml */
static const char move_empty_request[] = NS
	"<EmptyFolderContents><A:CollectionId>12</A:CollectionId><Options><DeleteSubFolders/></Options>"
	"</EmptyFolderContents>"
	"<Move><ConversationId>FS9WQEy8X0qGDZ9h0rTeHg==</ConversationId><DstFldId>12</DstFldId>"
	"<Options><MoveAlways/></Options></Move></ItemOperations>";

/* tests/data/wbxml/itemoperations-fetch-response.xml */
static const char fetch_response[] = NS
	"<Status>1</Status><Response>"
	"<Fetch><Status>1</Status><B:FileReference>5%3a1%3a0</B:FileReference>"
	"<Properties><B:ContentType>text/plain</B:ContentType><Data>SGVsbG8sIHdvcmxkIQ==</Data></Properties></Fetch>"
	"<Fetch><Status>1</Status><D:LinkId>\\\\fileserver\\share\\plan.txt</D:LinkId>"
	"<Properties><D:DisplayName>plan.txt</D:DisplayName><D:IsFolder>0</D:IsFolder>"
	"<D:CreationDate>2009-07-01T08:00:00.000Z</D:CreationDate>"
	"<D:LastModifiedDate>2009-07-02T09:30:00.000Z</D:LastModifiedDate><D:IsHidden>0</D:IsHidden>"
	"<D:ContentLength>13</D:ContentLength><D:ContentType>text/plain</D:ContentType>"
	"<Range>0-12</Range><Total>13</Total><Data>SGVsbG8sIHdvcmxkIQ==</Data></Properties></Fetch>"
	"</Response></ItemOperations>";

static const uint8_t conversation_id[] = { 0x15, 0x2f, 0x56, 0x40, 0x4c, 0xbc, 0x5f, 0x4a,
					    0x86, 0x0d, 0x9f, 0x61, 0xd2, 0xb4, 0xde, 0x1e };

static void check_fetch_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_operations_request req;
	char err[200];
	assert_int_equal(eas_item_operations_request_decode(&req, root, err, sizeof err), 0);
	assert_int_equal(req.operation_count, 3);
	const eas_node *cur = NULL;
	eas_itemops_operation op;
	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 1);
	assert_int_equal(op.kind, EAS_ITEMOPS_FETCH);
	assert_string_equal(op.fetch.store, "Mailbox");
	assert_string_equal(op.fetch.collection_id, "5");
	assert_string_equal(op.fetch.server_id, "5:1");
	assert_null(op.fetch.file_reference);
	assert_true(op.fetch.has_options);
	assert_int_equal(op.fetch.options.body_preference_count, 1);
	assert_int_equal(op.fetch.options.body_preferences[0].type, 2);
	assert_false(op.fetch.options.body_preferences[0].has_truncation_size);
	assert_false(op.fetch.options.has_schema);
	assert_null(op.fetch.options.range);

	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 1);
	assert_string_equal(op.fetch.store, "Mailbox");
	assert_string_equal(op.fetch.file_reference, "5%3a1%3a0");
	assert_null(op.fetch.server_id);
	assert_false(op.fetch.has_options);

	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 1);
	assert_string_equal(op.fetch.store, "DocumentLibrary");
	assert_string_equal(op.fetch.link_id, "\\\\fileserver\\share\\plan.txt");
	assert_string_equal(op.fetch.options.range, "0-1023");
	assert_string_equal(op.fetch.options.user_name, "CONTOSO\\deviceuser");
	assert_string_equal(op.fetch.options.password, "secret");
	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 0);
}

static void check_move_empty_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_operations_request req;
	char err[200];
	assert_int_equal(eas_item_operations_request_decode(&req, root, err, sizeof err), 0);
	assert_int_equal(req.operation_count, 2);
	const eas_node *cur = NULL;
	eas_itemops_operation op;
	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 1);
	assert_int_equal(op.kind, EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS);
	assert_string_equal(op.empty_folder.collection_id, "12");
	assert_true(op.empty_folder.delete_sub_folders);
	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 1);
	assert_int_equal(op.kind, EAS_ITEMOPS_MOVE);
	assert_int_equal(op.move.conversation_id_len, sizeof conversation_id);
	assert_memory_equal(op.move.conversation_id, conversation_id, sizeof conversation_id);
	assert_string_equal(op.move.dst_fld_id, "12");
	assert_true(op.move.move_always);
	assert_int_equal(eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err), 0);
}

static void check_fetch_response(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_operations_response resp;
	char err[200];
	assert_int_equal(eas_item_operations_response_decode(&resp, root, err, sizeof err), 0);
	assert_int_equal(resp.status, EAS_ITEMOPS_OK);
	assert_int_equal(resp.result_count, 2);
	const eas_node *cur = NULL;
	eas_itemops_result r;
	uint8_t data[64];
	size_t n;
	assert_int_equal(eas_item_operations_next_result(&resp, &cur, &r, err, sizeof err), 1);
	assert_int_equal(r.kind, EAS_ITEMOPS_FETCH);
	assert_int_equal(r.fetch.status, 1);
	assert_string_equal(r.fetch.file_reference, "5%3a1%3a0");
	assert_true(r.fetch.has_properties);
	assert_string_equal(eas_node_child_text(r.fetch.properties, EAS_TAG_AIRSYNCBASE_CONTENT_TYPE), "text/plain");
	assert_true(r.fetch.has_data);
	assert_false(r.fetch.data_opaque);
	assert_int_equal(eas_item_operations_fetch_data(&r.fetch, data, sizeof data, &n), 0);
	assert_int_equal(n, 13);
	assert_memory_equal(data, "Hello, world!", 13);
	assert_false(r.fetch.has_total);

	assert_int_equal(eas_item_operations_next_result(&resp, &cur, &r, err, sizeof err), 1);
	assert_string_equal(r.fetch.link_id, "\\\\fileserver\\share\\plan.txt");
	assert_string_equal(eas_node_child_text(r.fetch.properties, EAS_TAG_DOCUMENTLIBRARY_DISPLAY_NAME), "plan.txt");
	assert_string_equal(r.fetch.range, "0-12");
	uint32_t first, last;
	assert_int_equal(eas_item_operations_parse_range(r.fetch.range, &first, &last), 0);
	assert_int_equal(first, 0);
	assert_int_equal(last, 12);
	assert_true(r.fetch.has_total);
	assert_int_equal(r.fetch.total, 13);
	assert_int_equal(eas_item_operations_fetch_data(&r.fetch, data, sizeof data, &n), 0);
	assert_memory_equal(data, "Hello, world!", 13);
	assert_int_equal(eas_item_operations_next_result(&resp, &cur, &r, err, sizeof err), 0);
}

static void test_corpus_vectors(void **state)
{
	(void)state;
	cmdt_each_split(fetch_request, check_fetch_request, NULL);
	cmdt_each_split(move_empty_request, check_move_empty_request, NULL);
	cmdt_each_split(fetch_response, check_fetch_response, NULL);
	cmdt_each_failing_alloc_decode(fetch_request, check_fetch_request, NULL);
	cmdt_each_failing_alloc_decode(move_empty_request, check_move_empty_request, NULL);
	cmdt_each_failing_alloc_decode(fetch_response, check_fetch_response, NULL);
}

static int encode_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_item_operations_request_encode(enc, arg);
}

static int encode_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_item_operations_response_encode(enc, arg);
}

static const eas_tag schema[] = { EAS_TAG_EMAIL_SUBJECT, EAS_TAG_AIRSYNCBASE_BODY };

static void sample_operations(eas_itemops_operation ops[4])
{
	memset(ops, 0, 4 * sizeof ops[0]);
	ops[0].kind = EAS_ITEMOPS_FETCH;
	ops[0].fetch.store = "Mailbox";
	ops[0].fetch.collection_id = "5";
	ops[0].fetch.server_id = "5:7";
	ops[0].fetch.remove_rm_protection = 1;
	ops[0].fetch.has_options = 1;
	eas_itemops_fetch_options *o = &ops[0].fetch.options;
	o->has_schema = 1;
	o->schema = schema;
	o->schema_count = 2;
	o->has_mime_support = 1;
	o->mime_support = 2;
	o->body_preference_count = 2;
	o->body_preferences[0].type = 4;
	o->body_preferences[0].has_truncation_size = 1;
	o->body_preferences[0].truncation_size = 100000;
	o->body_preferences[0].has_all_or_none = 1;
	o->body_preferences[0].all_or_none = 1;
	o->body_preferences[1].type = 1;
	o->body_preferences[1].has_preview = 1;
	o->body_preferences[1].preview = 255;
	o->body_part_preference_count = 1;
	o->body_part_preferences[0].type = 2;
	o->has_rights_management_support = 1;
	o->rights_management_support = 1;
	ops[1].kind = EAS_ITEMOPS_FETCH;
	ops[1].fetch.store = "Mailbox";
	ops[1].fetch.long_id = "RgAAAAD";
	ops[2].kind = EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
	ops[2].empty_folder.collection_id = "3";
	ops[3].kind = EAS_ITEMOPS_MOVE;
	ops[3].move.conversation_id = conversation_id;
	ops[3].move.conversation_id_len = sizeof conversation_id;
	ops[3].move.dst_fld_id = "9";
}

static void test_request_both_directions(void **state)
{
	(void)state;
	eas_itemops_operation ops[4];
	sample_operations(ops);
	eas_item_operations_request req = { ops, 4, NULL };
	char *xml = xmldoc_encode(encode_request, &req, EAS_PROTO_16_1);
	assert_string_equal(xml, CMDT_PROLOG "<ItemOperations xmlns=\"ItemOperations:\">"
			    "<Fetch><Store>Mailbox</Store><CollectionId xmlns=\"AirSync:\">5</CollectionId>"
			    "<ServerId xmlns=\"AirSync:\">5:7</ServerId>"
			    "<RemoveRightsManagementProtection xmlns=\"RightsManagement:\"/>"
			    "<Options><Schema><Subject xmlns=\"Email:\"/><Body xmlns=\"AirSyncBase:\"/></Schema>"
			    "<MIMESupport xmlns=\"AirSync:\">2</MIMESupport>"
			    "<BodyPreference xmlns=\"AirSyncBase:\"><Type>4</Type><TruncationSize>100000</TruncationSize>"
			    "<AllOrNone>1</AllOrNone></BodyPreference>"
			    "<BodyPreference xmlns=\"AirSyncBase:\"><Type>1</Type><Preview>255</Preview></BodyPreference>"
			    "<BodyPartPreference xmlns=\"AirSyncBase:\"><Type>2</Type></BodyPartPreference>"
			    "<RightsManagementSupport xmlns=\"RightsManagement:\">1</RightsManagementSupport></Options></Fetch>"
			    "<Fetch><Store>Mailbox</Store><LongId xmlns=\"Search:\">RgAAAAD</LongId></Fetch>"
			    "<EmptyFolderContents><CollectionId xmlns=\"AirSync:\">3</CollectionId></EmptyFolderContents>"
			    "<Move><ConversationId>FS9WQEy8X0qGDZ9h0rTeHg==</ConversationId><DstFldId>9</DstFldId></Move>"
			    "</ItemOperations>");
	eas_tree *t = xmldoc_tree(xml);
	eas_item_operations_request back;
	char err[200];
	assert_int_equal(eas_item_operations_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.operation_count, 4);
	const eas_node *cur = NULL;
	eas_itemops_operation op;
	assert_int_equal(eas_item_operations_next_operation(&back, &cur, &op, err, sizeof err), 1);
	assert_true(op.fetch.remove_rm_protection);
	const eas_itemops_fetch_options *o = &op.fetch.options;
	assert_true(o->has_schema);
	assert_int_equal(eas_node_count(o->schema_node, EAS_TAG_NONE), 0);
	assert_non_null(eas_node_child(o->schema_node, EAS_TAG_EMAIL_SUBJECT));
	assert_non_null(eas_node_child(o->schema_node, EAS_TAG_AIRSYNCBASE_BODY));
	assert_int_equal(o->mime_support, 2);
	assert_int_equal(o->body_preference_count, 2);
	assert_int_equal(o->body_preferences[0].type, 4);
	assert_int_equal(o->body_preferences[0].truncation_size, 100000);
	assert_true(o->body_preferences[0].has_all_or_none);
	assert_int_equal(o->body_preferences[0].all_or_none, 1);
	assert_int_equal(o->body_preferences[1].preview, 255);
	assert_int_equal(o->body_part_preference_count, 1);
	assert_int_equal(o->body_part_preferences[0].type, 2);
	assert_true(o->has_rights_management_support);
	assert_int_equal(o->rights_management_support, 1);
	assert_int_equal(eas_item_operations_next_operation(&back, &cur, &op, err, sizeof err), 1);
	assert_string_equal(op.fetch.long_id, "RgAAAAD");
	assert_int_equal(eas_item_operations_next_operation(&back, &cur, &op, err, sizeof err), 1);
	assert_int_equal(op.kind, EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS);
	assert_false(op.empty_folder.delete_sub_folders);
	assert_int_equal(eas_item_operations_next_operation(&back, &cur, &op, err, sizeof err), 1);
	assert_int_equal(op.kind, EAS_ITEMOPS_MOVE);
	assert_memory_equal(op.move.conversation_id, conversation_id, sizeof conversation_id);
	assert_false(op.move.move_always);
	assert_int_equal(eas_item_operations_next_operation(&back, &cur, &op, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_request, &req, EAS_PROTO_16_1);

	/* Version gating by the tag table. */
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_UNSUPPORTED); /* rm: 14.1+ */
	eas_item_operations_request move_only = { &ops[3], 1, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &move_only, EAS_PROTO_14_0), 0);
	assert_int_equal(cmdt_encode_rc(encode_request, &move_only, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	eas_item_operations_request long_id = { &ops[1], 1, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &long_id, EAS_PROTO_12_0), 0);
	assert_int_equal(cmdt_encode_rc(encode_request, &long_id, EAS_PROTO_2_5), EAS_E_UNSUPPORTED);
	eas_itemops_operation doc = { .kind = EAS_ITEMOPS_FETCH };
	doc.fetch.store = "DocumentLibrary";
	doc.fetch.link_id = "\\\\server\\share\\a.doc";
	doc.fetch.has_options = 1;
	doc.fetch.options.user_name = "u";
	eas_item_operations_request docreq = { &doc, 1, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &docreq, EAS_PROTO_12_1), 0);
	assert_int_equal(cmdt_encode_rc(encode_request, &docreq, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);

	/* What the encoder refuses itself. */
	static const struct {
		int which;
	} bad[] = { { 0 }, { 1 }, { 2 }, { 3 }, { 4 }, { 5 }, { 6 }, { 7 }, { 8 } };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		eas_itemops_operation b[4];
		sample_operations(b);
		switch (bad[i].which) {
		case 0: b[0].fetch.store = NULL; break;
		case 1: b[0].fetch.long_id = "x"; break;          /* two ways */
		case 2: b[0].fetch.collection_id = NULL; break;   /* ServerId alone */
		case 3: b[1].fetch.long_id = NULL; break;         /* no way */
		case 4: b[0].fetch.options.range = "9-1"; break;
		case 5: b[0].fetch.options.body_preferences[1].type = 0; break;
		case 6: b[2].empty_folder.collection_id = ""; break;
		case 7: b[3].move.conversation_id_len = 0; break;
		case 8: b[3].kind = (eas_itemops_kind)9; break;
		}
		eas_item_operations_request r = { b, 4, NULL };
		if (cmdt_encode_rc(encode_request, &r, EAS_PROTO_16_1) != EAS_E_INVALID)
			fail_msg("bad request %zu accepted", i);
	}
	eas_item_operations_request none = { ops, 0, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &none, EAS_PROTO_16_1), EAS_E_INVALID);
}

/* ---- response ------------------------------------------------------------------ */

static int write_content_type(eas_wbxml_encoder *enc, const eas_itemops_fetch_result *f, void *ud)
{
	(void)f;
	return eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNCBASE_CONTENT_TYPE, ud);
}

typedef struct reader {
	size_t size, at;
	size_t step;
} reader;

static uint8_t pattern(size_t i)
{
	return (uint8_t)(i * 131u + (i >> 8) * 7u);
}

static int read_pattern(uint8_t *buf, size_t size, size_t *got, void *ud)
{
	reader *r = ud;
	size_t n = r->size - r->at;
	if (n > size)
		n = size;
	if (n > r->step)
		n = r->step;
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(r->at + i);
	r->at += n;
	*got = n;
	return 0;
}

static void test_response_both_directions(void **state)
{
	(void)state;
	static const uint8_t bin[] = { 0, 1, 2, 0xFF, 0xFE, 'a', 0 };
	eas_itemops_result results[5];
	memset(results, 0, sizeof results);
	results[0].kind = EAS_ITEMOPS_FETCH;
	results[0].fetch.status = 1;
	results[0].fetch.file_reference = "5%3a1%3a0";
	results[0].fetch.properties_writer = write_content_type;
	results[0].fetch.properties_user_data = (void *)"image/png";
	results[0].fetch.has_data = 1;
	results[0].fetch.data = bin;
	results[0].fetch.data_len = sizeof bin;
	results[1] = results[0];
	results[1].fetch.data_form = EAS_ITEMOPS_DATA_OPAQUE;
	results[1].fetch.properties_writer = NULL;
	results[2].kind = EAS_ITEMOPS_FETCH;
	results[2].fetch.status = EAS_ITEMOPS_OK;
	results[2].fetch.link_id = "\\\\s\\d.txt";
	results[2].fetch.range = "0-99";
	results[2].fetch.has_total = 1;
	results[2].fetch.total = 5000;
	results[2].fetch.has_part = 1;
	results[2].fetch.part = 1;
	results[2].fetch.class_name = "Email";
	results[3].kind = EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
	results[3].empty_folder.status = 1;
	results[3].empty_folder.collection_id = "3";
	results[4].kind = EAS_ITEMOPS_MOVE;
	results[4].move.status = 1;
	results[4].move.conversation_id = conversation_id;
	results[4].move.conversation_id_len = sizeof conversation_id;
	eas_item_operations_response resp = { 1, results, 5, NULL };
	char *xml = xmldoc_encode(encode_response, &resp, EAS_PROTO_14_1);
	assert_string_equal(xml, CMDT_PROLOG "<ItemOperations xmlns=\"ItemOperations:\"><Status>1</Status><Response>"
			    "<Fetch><Status>1</Status><FileReference xmlns=\"AirSyncBase:\">5%3a1%3a0</FileReference>"
			    "<Properties><ContentType xmlns=\"AirSyncBase:\">image/png</ContentType>"
			    "<Data>AAEC//5hAA==</Data></Properties></Fetch>"
			    "<Fetch><Status>1</Status><FileReference xmlns=\"AirSyncBase:\">5%3a1%3a0</FileReference>"
			    "<Properties><Data>AAEC//5hAA==</Data></Properties></Fetch>"
			    "<Fetch><Status>1</Status><LinkId xmlns=\"DocumentLibrary:\">\\\\s\\d.txt</LinkId>"
			    "<Class xmlns=\"AirSync:\">Email</Class><Properties><Range>0-99</Range><Total>5000</Total>"
			    "<Part>1</Part></Properties></Fetch>"
			    "<EmptyFolderContents><Status>1</Status><CollectionId xmlns=\"AirSync:\">3</CollectionId>"
			    "</EmptyFolderContents>"
			    "<Move><Status>1</Status><ConversationId>FS9WQEy8X0qGDZ9h0rTeHg==</ConversationId></Move>"
			    "</Response></ItemOperations>");
	free(xml);

	/* Decode the WBXML itself (the OPAQUE form does not survive the XML text). */
	eas_buf wbxml;
	eas_buf_init(&wbxml, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &wbxml, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_item_operations_response_encode(enc, &resp), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	eas_tree *t;
	char err[200];
	assert_int_equal(eas_tree_parse(&t, wbxml.data, wbxml.len, 0, NULL, err, sizeof err), 0);
	eas_item_operations_response back;
	assert_int_equal(eas_item_operations_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 1);
	assert_int_equal(back.result_count, 5);
	const eas_node *cur = NULL;
	eas_itemops_result r;
	uint8_t out[32];
	size_t n;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 1);
		assert_int_equal(r.fetch.data_opaque, i == 1);
		assert_int_equal(eas_item_operations_fetch_data(&r.fetch, out, sizeof out, &n), 0);
		assert_int_equal(n, sizeof bin);
		assert_memory_equal(out, bin, sizeof bin);
	}
	assert_int_equal(eas_item_operations_fetch_data(&r.fetch, out, 3, &n), EAS_E_LIMIT);
	assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 1);
	assert_string_equal(r.fetch.class_name, "Email");
	assert_true(r.fetch.has_part);
	assert_int_equal(r.fetch.part, 1);
	assert_false(r.fetch.has_data);
	assert_int_equal(eas_item_operations_fetch_data(&r.fetch, out, sizeof out, &n), EAS_E_NOTFOUND);
	assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 1);
	assert_int_equal(r.kind, EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS);
	assert_string_equal(r.empty_folder.collection_id, "3");
	assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 1);
	assert_int_equal(r.kind, EAS_ITEMOPS_MOVE);
	assert_int_equal(r.move.conversation_id_len, sizeof conversation_id);
	assert_memory_equal(r.move.conversation_id, conversation_id, sizeof conversation_id);
	assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 0);
	eas_tree_free(t);
	eas_buf_free(&wbxml);
	cmdt_each_failing_alloc_encode(encode_response, &resp, EAS_PROTO_16_0);

	/* A whole-request failure: Status only. */
	eas_item_operations_response failed = { EAS_ITEMOPS_PROTOCOL_ERROR, NULL, 0, NULL };
	xml = xmldoc_encode(encode_response, &failed, EAS_PROTO_14_1);
	assert_string_equal(xml, CMDT_PROLOG "<ItemOperations xmlns=\"ItemOperations:\"><Status>2</Status></ItemOperations>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_item_operations_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 2);
	assert_null(back.response);
	cur = NULL;
	assert_int_equal(eas_item_operations_next_result(&back, &cur, &r, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);

	/* Refusals. */
	eas_item_operations_response zero = { 0, NULL, 0, NULL };
	assert_int_equal(cmdt_encode_rc(encode_response, &zero, EAS_PROTO_14_1), EAS_E_INVALID);
	eas_itemops_result b = results[2];
	b.fetch.has_data = 1; /* Data and Part */
	eas_item_operations_response both = { 1, &b, 1, NULL };
	assert_int_equal(cmdt_encode_rc(encode_response, &both, EAS_PROTO_14_1), EAS_E_INVALID);
	b = results[4];
	b.move.conversation_id = NULL;
	assert_int_equal(cmdt_encode_rc(encode_response, &both, EAS_PROTO_14_1), EAS_E_INVALID);
	b = results[3];
	b.empty_folder.status = 0;
	assert_int_equal(cmdt_encode_rc(encode_response, &both, EAS_PROTO_14_1), EAS_E_INVALID);
	/* A reader that stops early leaves the document broken and says so. */
	reader rd = { 100, 0, 7 };
	b = results[0];
	b.fetch.data = NULL;
	b.fetch.data_len = 0;
	b.fetch.has_data = 0;
	b.fetch.data_reader = read_pattern;
	b.fetch.data_user_data = &rd;
	b.fetch.data_total = 101;
	assert_int_equal(cmdt_encode_rc(encode_response, &both, EAS_PROTO_14_1), EAS_E_INVALID);
	rd.at = 0;
	b.fetch.data_form = EAS_ITEMOPS_DATA_OPAQUE;
	assert_int_equal(cmdt_encode_rc(encode_response, &both, EAS_PROTO_14_1), EAS_E_INVALID);
}

/* ---- streaming parser ---------------------------------------------------------- */

typedef struct collected {
	eas_buf log;      /* events as text */
	eas_buf data;     /* ItemOperations:Data bytes of all fetches */
	eas_buf body;     /* AirSyncBase:Data bytes */
	int pause;        /* pause on every callback */
	int abort_at;     /* return -5 on the nth callback */
	int calls;
	size_t max_piece;
} collected;

static int ret(collected *c)
{
	c->calls++;
	if (c->abort_at && c->calls == c->abort_at)
		return -5;
	return c->pause ? EAS_E_PAUSED : 0;
}

static void logf_(collected *c, const char *fmt, ...) CMDT_PRINTF(2, 3);
static void logf_(collected *c, const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof line);
	assert_int_equal(eas_buf_append(&c->log, line, (size_t)n), 0);
}

static int cb_status(uint32_t status, void *ud)
{
	collected *c = ud;
	logf_(c, "status %lu\n", (unsigned long)status);
	return ret(c);
}

static int cb_property(const eas_itemops_fetch_result *f, eas_tag parent, eas_tag tag, const uint8_t *value,
		       size_t len, int opaque, void *ud)
{
	collected *c = ud;
	char a[64], b[64];
	if (value)
		logf_(c, "prop %s/%s=%.*s%s (ref %s)\n", eas__cmd_tag_label(parent, a, sizeof a),
		      eas__cmd_tag_label(tag, b, sizeof b), (int)len, (const char *)value, opaque ? " opaque" : "",
		      f->file_reference ? f->file_reference : f->link_id ? f->link_id : "-");
	else
		logf_(c, "end %s/%s\n", eas__cmd_tag_label(parent, a, sizeof a), eas__cmd_tag_label(tag, b, sizeof b));
	return ret(c);
}

static int cb_data(const eas_itemops_fetch_result *f, eas_tag tag, const uint8_t *bytes, size_t len, int final,
		   void *ud)
{
	(void)f;
	collected *c = ud;
	if (len > c->max_piece)
		c->max_piece = len;
	eas_buf *to = tag == EAS_TAG_ITEMOPERATIONS_DATA ? &c->data : &c->body;
	assert_int_equal(eas_buf_append(to, bytes, len), 0);
	if (final)
		logf_(c, "data-end %s\n", tag == EAS_TAG_ITEMOPERATIONS_DATA ? "io" : "body");
	return ret(c);
}

static int cb_result(const eas_itemops_result *r, void *ud)
{
	collected *c = ud;
	if (r->kind == EAS_ITEMOPS_FETCH) {
		const eas_itemops_fetch_result *f = &r->fetch;
		logf_(c, "fetch %lu ref=%s link=%s server=%s/%s long=%s class=%s props=%d range=%s total=%d:%lu "
		      "version=%s part=%d:%lu data=%d:%zu%s\n",
		      (unsigned long)f->status, f->file_reference ? f->file_reference : "-",
		      f->link_id ? f->link_id : "-", f->collection_id ? f->collection_id : "-",
		      f->server_id ? f->server_id : "-", f->long_id ? f->long_id : "-",
		      f->class_name ? f->class_name : "-", f->has_properties, f->range ? f->range : "-", f->has_total,
		      (unsigned long)f->total, f->version ? f->version : "-", f->has_part, (unsigned long)f->part,
		      f->has_data, f->data_len, f->data_opaque ? " opaque" : "");
	} else if (r->kind == EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS) {
		logf_(c, "empty %lu %s\n", (unsigned long)r->empty_folder.status,
		      r->empty_folder.collection_id ? r->empty_folder.collection_id : "-");
	} else {
		logf_(c, "move %lu %zu\n", (unsigned long)r->move.status, r->move.conversation_id_len);
	}
	return ret(c);
}

static const eas_itemops_callbacks stream_cb = { EAS_ITEMOPS_CALLBACKS_VERSION, cb_status, cb_property, cb_data,
						 cb_result };

/* Parses doc in pieces of `step` bytes (0: two pieces cut at `cut`), resuming after pauses. */
static int parse_stream(const uint8_t *doc, size_t len, size_t cut, size_t step, size_t max_value,
			const eas_wbxml_decoder_options *opt, const eas_mem *mem, collected *c, char *err,
			size_t err_size)
{
	eas_item_operations_parser *p = NULL;
	int rc = eas_item_operations_parser_new(&p, &stream_cb, max_value, opt, mem, c);
	if (rc)
		return rc;
	size_t at = 0;
	while (rc == 0 && at < len) {
		size_t n = step ? (len - at < step ? len - at : step) : (at < cut ? cut - at : len - at);
		size_t used = 0;
		rc = eas_item_operations_parser_feed(p, doc + at, n, &used);
		at += used;
		if (rc == EAS_E_PAUSED)
			rc = 0;
	}
	if (rc == 0)
		rc = eas_item_operations_parser_finish(p);
	if (err && err_size)
		snprintf(err, err_size, "%s", eas_item_operations_parser_error(p) ? eas_item_operations_parser_error(p) : "");
	if (rc)
		assert_non_null(eas_item_operations_parser_error(p));
	eas_item_operations_parser_free(p);
	return rc;
}

static const char expect_fetch_response_log[] =
	"status 1\n"
	"prop ItemOperations:Properties/AirSyncBase:ContentType=text/plain (ref 5%3a1%3a0)\n"
	"data-end io\n"
	"fetch 1 ref=5%3a1%3a0 link=- server=-/- long=- class=- props=1 range=- total=0:0 version=- part=0:0 data=1:13\n"
	"prop ItemOperations:Properties/DocumentLibrary:DisplayName=plan.txt (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:IsFolder=0 (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:CreationDate=2009-07-01T08:00:00.000Z (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:LastModifiedDate=2009-07-02T09:30:00.000Z (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:IsHidden=0 (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:ContentLength=13 (ref \\\\fileserver\\share\\plan.txt)\n"
	"prop ItemOperations:Properties/DocumentLibrary:ContentType=text/plain (ref \\\\fileserver\\share\\plan.txt)\n"
	"data-end io\n"
	"fetch 1 ref=- link=\\\\fileserver\\share\\plan.txt server=-/- long=- class=- props=1 range=0-12 total=1:13 "
	"version=- part=0:0 data=1:13\n";

static void test_streaming_vector_every_split(void **state)
{
	(void)state;
	eas_buf doc;
	xmldoc_to_wbxml(&doc, fetch_response);
	for (size_t cut = 0; cut <= doc.len; cut++) {
		for (int pause = 0; pause < 2; pause++) {
			collected c = { .pause = pause };
			eas_buf_init(&c.log, NULL, 0);
			eas_buf_init(&c.data, NULL, 0);
			eas_buf_init(&c.body, NULL, 0);
			char err[200];
			assert_int_equal(parse_stream(doc.data, doc.len, cut, 0, 0, NULL, NULL, &c, err, sizeof err), 0);
			assert_int_equal(eas_buf_append(&c.log, "", 1), 0);
			if (strcmp((const char *)c.log.data, expect_fetch_response_log) != 0)
				fail_msg("cut %zu pause %d:\n%s", cut, pause, (const char *)c.log.data);
			assert_int_equal(c.data.len, 26);
			assert_memory_equal(c.data.data, "Hello, world!Hello, world!", 26);
			eas_buf_free(&c.log);
			eas_buf_free(&c.data);
			eas_buf_free(&c.body);
		}
	}
	eas_buf_free(&doc);
}

/* A response with a large Data (as base64 text, and as OPAQUE) and an email body. */
static void big_response(eas_buf *out, size_t size, eas_itemops_data_form form, reader *rd)
{
	eas_itemops_result results[2];
	memset(results, 0, sizeof results);
	results[0].kind = EAS_ITEMOPS_FETCH;
	results[0].fetch.status = 1;
	results[0].fetch.file_reference = "att-1";
	results[0].fetch.data_form = form;
	results[0].fetch.data_reader = read_pattern;
	results[0].fetch.data_user_data = rd;
	results[0].fetch.data_total = size;
	results[0].fetch.properties_writer = write_content_type;
	results[0].fetch.properties_user_data = (void *)"application/octet-stream";
	results[1].kind = EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS;
	results[1].empty_folder.status = 1;
	results[1].empty_folder.collection_id = "3";
	eas_item_operations_response resp = { 1, results, 2, NULL };
	eas_buf_init(out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, out, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_item_operations_response_encode(enc, &resp), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
}

static void test_streaming_large_data_bounded_memory(void **state)
{
	(void)state;
	const size_t size = 1u << 20; /* 1 MiB */
	for (int form = 0; form < 2; form++) {
		reader rd = { size, 0, 1000 };
		eas_buf doc;
		big_response(&doc, size, (eas_itemops_data_form)form, &rd);
		testmem tm;
		eas_mem m = testmem_init(&tm, -1);
		collected c = { 0 };
		eas_buf_init(&c.log, NULL, 0);
		eas_buf_init(&c.data, NULL, 0);
		eas_buf_init(&c.body, NULL, 0);
		char err[200];
		assert_int_equal(parse_stream(doc.data, doc.len, 0, 65536, 0, NULL, &m, &c, err, sizeof err), 0);
		assert_int_equal(c.data.len, size);
		for (size_t i = 0; i < size; i++)
			if (c.data.data[i] != pattern(i))
				fail_msg("form %d: byte %zu differs", form, i);
		assert_true(c.max_piece <= 4096);
		/* the parser's own memory stays small whatever the Data size */
		if (tm.peak_bytes > 64u * 1024u)
			fail_msg("form %d: parser peak %zu bytes", form, tm.peak_bytes);
		assert_int_equal(tm.live_blocks, 0);
		assert_int_equal(eas_buf_append(&c.log, "", 1), 0);
		char expect[512];
		snprintf(expect, sizeof expect,
			 "status 1\n"
			 "prop ItemOperations:Properties/AirSyncBase:ContentType=application/octet-stream (ref att-1)\n"
			 "data-end io\n"
			 "fetch 1 ref=att-1 link=- server=-/- long=- class=- props=1 range=- total=0:0 version=- "
			 "part=0:0 data=1:%zu%s\n"
			 "empty 1 3\n",
			 size, form ? " opaque" : "");
		assert_string_equal((const char *)c.log.data, expect);
		/*
		 * The tree path sees the same bytes (on a smaller document: the
		 * tree re-copies a value for each of its STR_I pieces).
		 */
		rd.size = 20000;
		rd.at = 0;
		eas_buf small;
		big_response(&small, rd.size, (eas_itemops_data_form)form, &rd);
		eas_tree *t;
		assert_int_equal(eas_tree_parse(&t, small.data, small.len, 0, NULL, err, sizeof err), 0);
		eas_item_operations_response resp;
		assert_int_equal(eas_item_operations_response_decode(&resp, eas_tree_root(t), err, sizeof err), 0);
		const eas_node *cur = NULL;
		eas_itemops_result r;
		assert_int_equal(eas_item_operations_next_result(&resp, &cur, &r, err, sizeof err), 1);
		size_t cap = EAS_ITEMOPS_DATA_DECODED_MAX(r.fetch.data_len), n;
		uint8_t *bytes = malloc(cap);
		assert_non_null(bytes);
		assert_int_equal(eas_item_operations_fetch_data(&r.fetch, bytes, cap, &n), 0);
		assert_int_equal(n, rd.size);
		assert_memory_equal(bytes, c.data.data, rd.size);
		free(bytes);
		eas_tree_free(t);
		eas_buf_free(&small);
		eas_buf_free(&c.log);
		eas_buf_free(&c.data);
		eas_buf_free(&c.body);
		eas_buf_free(&doc);
	}
}

static void test_streaming_body_and_containers(void **state)
{
	(void)state;
	static const char xml[] = NS "<Status>1</Status><Response><Fetch><Status>1</Status><A:CollectionId>5</A:CollectionId>"
		"<A:ServerId>5:1</A:ServerId><A:Class>Email</A:Class><Properties><E:Subject>Hi</E:Subject>"
		"<B:Body><B:Type>1</B:Type><B:EstimatedDataSize>11</B:EstimatedDataSize><B:Data>hello world</B:Data>"
		"</B:Body><B:Attachments><B:Attachment><B:DisplayName>a.txt</B:DisplayName>"
		"<B:FileReference>5:1:0</B:FileReference></B:Attachment><B:Attachment><B:DisplayName>b.txt"
		"</B:DisplayName><B:IsInline/></B:Attachment></B:Attachments><Version>2009-07-01T08:00:00.000Z</Version>"
		"</Properties></Fetch><Move><Status>1</Status><ConversationId>FS9WQEy8X0qGDZ9h0rTeHg==</ConversationId>"
		"</Move></Response></ItemOperations>";
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	for (size_t cut = 0; cut <= doc.len; cut++) {
		collected c = { .pause = (int)(cut & 1) };
		eas_buf_init(&c.log, NULL, 0);
		eas_buf_init(&c.data, NULL, 0);
		eas_buf_init(&c.body, NULL, 0);
		char err[200];
		assert_int_equal(parse_stream(doc.data, doc.len, cut, 0, 0, NULL, NULL, &c, err, sizeof err), 0);
		assert_int_equal(eas_buf_append(&c.log, "", 1), 0);
		assert_string_equal((const char *)c.log.data,
				    "status 1\n"
				    "prop ItemOperations:Properties/Email:Subject=Hi (ref -)\n"
				    "prop AirSyncBase:Body/AirSyncBase:Type=1 (ref -)\n"
				    "prop AirSyncBase:Body/AirSyncBase:EstimatedDataSize=11 (ref -)\n"
				    "data-end body\n"
				    "end ItemOperations:Properties/AirSyncBase:Body\n"
				    "prop AirSyncBase:Attachment/AirSyncBase:DisplayName=a.txt (ref -)\n"
				    "prop AirSyncBase:Attachment/AirSyncBase:FileReference=5:1:0 (ref -)\n"
				    "end AirSyncBase:Attachments/AirSyncBase:Attachment\n"
				    "prop AirSyncBase:Attachment/AirSyncBase:DisplayName=b.txt (ref -)\n"
				    "prop AirSyncBase:Attachment/AirSyncBase:IsInline= (ref -)\n"
				    "end AirSyncBase:Attachments/AirSyncBase:Attachment\n"
				    "end ItemOperations:Properties/AirSyncBase:Attachments\n"
				    "fetch 1 ref=- link=- server=5/5:1 long=- class=Email props=1 range=- total=0:0 "
				    "version=2009-07-01T08:00:00.000Z part=0:0 data=0:0\n"
				    "move 1 16\n");
		assert_int_equal(c.body.len, 11);
		assert_memory_equal(c.body.data, "hello world", 11);
		eas_buf_free(&c.log);
		eas_buf_free(&c.data);
		eas_buf_free(&c.body);
	}
	eas_buf_free(&doc);
}

static void test_streaming_malformed_and_limits(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int rc;
		const char *message;
	} cases[] = {
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", EAS_E_MALFORMED,
		  "root element is Ping:Ping, expected ItemOperations:ItemOperations" },
		{ NS "<Response/></ItemOperations>", EAS_E_MALFORMED, "missing ItemOperations:Status" },
		{ NS "<Status>x</Status></ItemOperations>", EAS_E_MALFORMED, "ItemOperations:Status is not a number" },
		{ NS "<Status>1</Status><Response><Fetch><B:FileReference>1</B:FileReference></Fetch></Response>"
		     "</ItemOperations>", EAS_E_MALFORMED, "missing ItemOperations:Status in ItemOperations:Fetch" },
		{ NS "<Status>1</Status><Response><Move/></Response></ItemOperations>", EAS_E_MALFORMED,
		  "missing ItemOperations:Status in ItemOperations:Move" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Data>!!!!</Data></Properties>"
		     "</Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "Data is not base64" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Data>QUJD=</Data></Properties>"
		     "</Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "Data is not base64" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Data>Q</Data></Properties>"
		     "</Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "ends inside a quantum" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Data>QQ==</Data><Part>1</Part>"
		     "</Properties></Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "both Data and Part" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Total>-3</Total></Properties>"
		     "</Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "ItemOperations:Total is not a number" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Range>5</Range></Properties>"
		     "</Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "Range is not m-n" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Part><Status>1</Status></Part>"
		     "</Properties></Fetch></Response></ItemOperations>", EAS_E_MALFORMED, "ItemOperations:Part holds elements" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><E:Subject>"
		     "0123456789012345678901234567890123456789</E:Subject></Properties></Fetch></Response></ItemOperations>",
		  EAS_E_LIMIT, "larger than 32 bytes" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><B:FileReference>"
		     "0123456789012345678901234567890123456789</B:FileReference></Fetch></Response></ItemOperations>",
		  EAS_E_LIMIT, "larger than 32 bytes" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_buf doc;
		xmldoc_to_wbxml(&doc, cases[i].xml);
		for (size_t cut = 0; cut <= doc.len; cut++) {
			collected c = { 0 };
			eas_buf_init(&c.log, NULL, 0);
			eas_buf_init(&c.data, NULL, 0);
			eas_buf_init(&c.body, NULL, 0);
			char err[200] = "";
			int rc = parse_stream(doc.data, doc.len, cut, 0, 32, NULL, NULL, &c, err, sizeof err);
			if (rc != cases[i].rc || !strstr(err, cases[i].message))
				fail_msg("case %zu cut %zu: rc %d '%s'", i, cut, rc, err);
			eas_buf_free(&c.log);
			eas_buf_free(&c.data);
			eas_buf_free(&c.body);
		}
		eas_buf_free(&doc);
	}
	/* A truncated document and a callback that aborts. */
	eas_buf doc;
	xmldoc_to_wbxml(&doc, fetch_response);
	collected c = { 0 };
	eas_buf_init(&c.log, NULL, 0);
	eas_buf_init(&c.data, NULL, 0);
	eas_buf_init(&c.body, NULL, 0);
	assert_int_equal(parse_stream(doc.data, doc.len - 3, 0, 0, 0, NULL, NULL, &c, NULL, 0), EAS_E_TRUNCATED);
	for (int n = 1; n <= 14; n++) {
		collected a = { .abort_at = n };
		eas_buf_init(&a.log, NULL, 0);
		eas_buf_init(&a.data, NULL, 0);
		eas_buf_init(&a.body, NULL, 0);
		char err[200];
		assert_int_equal(parse_stream(doc.data, doc.len, 0, 5, 0, NULL, NULL, &a, err, sizeof err),
				 EAS_E_CALLBACK);
		assert_non_null(strstr(err, "returned -5"));
		eas_buf_free(&a.log);
		eas_buf_free(&a.data);
		eas_buf_free(&a.body);
	}
	eas_buf_free(&c.log);
	eas_buf_free(&c.data);
	eas_buf_free(&c.body);
	/* Bad arguments. */
	eas_item_operations_parser *p = NULL;
	eas_itemops_callbacks old = stream_cb;
	old.version = 0;
	assert_int_equal(eas_item_operations_parser_new(&p, &old, 0, NULL, NULL, NULL), EAS_E_INVALID);
	assert_null(p);
	eas_buf_free(&doc);
}

static void test_streaming_failing_allocations(void **state)
{
	(void)state;
	eas_buf doc;
	xmldoc_to_wbxml(&doc, fetch_response);
	int done = 0;
	for (long n = 0; !done; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		collected c = { 0 };
		eas_buf_init(&c.log, NULL, 0);
		eas_buf_init(&c.data, NULL, 0);
		eas_buf_init(&c.body, NULL, 0);
		int rc = parse_stream(doc.data, doc.len, 0, 7, 0, NULL, &m, &c, NULL, 0);
		if (rc == 0) {
			assert_int_equal(eas_buf_append(&c.log, "", 1), 0);
			assert_string_equal((const char *)c.log.data, expect_fetch_response_log);
			done = 1;
		} else {
			assert_int_equal(rc, EAS_E_NOMEM);
		}
		assert_int_equal(tm.live_blocks, 0);
		assert_true(n < 100);
		eas_buf_free(&c.log);
		eas_buf_free(&c.data);
		eas_buf_free(&c.body);
	}
	eas_buf_free(&doc);
}

/* ---- multipart, end to end ----------------------------------------------------- */

typedef struct mp_client {
	eas_item_operations_parser *io;
	collected c;
	eas_buf parts[3];
	int rc;
} mp_client;

static int mp_data(uint32_t index, const uint8_t *bytes, size_t len, void *ud)
{
	mp_client *m = ud;
	if (index == 0) { /* the WBXML goes to the ItemOperations parser as it comes */
		size_t used = 0;
		int rc = eas_item_operations_parser_feed(m->io, bytes, len, &used);
		assert_int_equal(rc, 0);
		assert_int_equal(used, len);
		return 0;
	}
	assert_true(index < 3);
	assert_int_equal(eas_buf_append(&m->parts[index], bytes, len), 0);
	return 0;
}

static int mp_end(uint32_t index, void *ud)
{
	mp_client *m = ud;
	if (index == 0)
		m->rc = eas_item_operations_parser_finish(m->io);
	return 0;
}

static void test_multipart_end_to_end(void **state)
{
	(void)state;
	/* The server: WBXML with Part references, then the parts. */
	eas_itemops_result results[2];
	memset(results, 0, sizeof results);
	for (int i = 0; i < 2; i++) {
		results[i].kind = EAS_ITEMOPS_FETCH;
		results[i].fetch.status = 1;
		results[i].fetch.has_part = 1;
		results[i].fetch.part = (uint32_t)i + 1;
		results[i].fetch.has_total = 1;
	}
	results[0].fetch.file_reference = "5:1:0";
	results[0].fetch.total = 5;
	results[1].fetch.link_id = "\\\\s\\doc.txt";
	results[1].fetch.total = 3000;
	eas_item_operations_response resp = { 1, results, 2, NULL };
	eas_buf wbxml;
	eas_buf_init(&wbxml, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &wbxml, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_item_operations_response_encode(enc, &resp), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	uint8_t doc[3000];
	for (size_t i = 0; i < sizeof doc; i++)
		doc[i] = pattern(i);
	uint64_t lengths[3] = { wbxml.len, 5, sizeof doc };
	uint8_t header[4 + 3 * 8];
	assert_int_equal(eas_multipart_header_encode(header, sizeof header, lengths, 3), 0);
	eas_buf body;
	eas_buf_init(&body, NULL, 0);
	assert_int_equal(eas_buf_append(&body, header, sizeof header), 0);
	assert_int_equal(eas_buf_append(&body, wbxml.data, wbxml.len), 0);
	assert_int_equal(eas_buf_append(&body, "HELLO", 5), 0);
	assert_int_equal(eas_buf_append(&body, doc, sizeof doc), 0);

	/* The client, fed in chunks of 100 bytes. */
	mp_client m;
	memset(&m, 0, sizeof m);
	eas_buf_init(&m.c.log, NULL, 0);
	eas_buf_init(&m.c.data, NULL, 0);
	eas_buf_init(&m.c.body, NULL, 0);
	for (int i = 0; i < 3; i++)
		eas_buf_init(&m.parts[i], NULL, 0);
	m.rc = -100;
	assert_int_equal(eas_item_operations_parser_new(&m.io, &stream_cb, 0, NULL, NULL, &m.c), 0);
	eas_multipart_callbacks mcb = { EAS_MULTIPART_CALLBACKS_VERSION, NULL, NULL, mp_data, mp_end };
	eas_multipart_parser *mp;
	assert_int_equal(eas_multipart_parser_new(&mp, &mcb, 0, NULL, &m), 0);
	for (size_t at = 0; at < body.len; at += 100)
		assert_int_equal(eas_multipart_parser_feed(mp, body.data + at, body.len - at < 100 ? body.len - at : 100,
							   NULL), 0);
	assert_int_equal(eas_multipart_parser_finish(mp), 0);
	eas_multipart_parser_free(mp);
	assert_int_equal(m.rc, 0);
	assert_int_equal(eas_buf_append(&m.c.log, "", 1), 0);
	assert_string_equal((const char *)m.c.log.data,
			    "status 1\n"
			    "fetch 1 ref=5:1:0 link=- server=-/- long=- class=- props=1 range=- total=1:5 version=- "
			    "part=1:1 data=0:0\n"
			    "fetch 1 ref=- link=\\\\s\\doc.txt server=-/- long=- class=- props=1 range=- total=1:3000 "
			    "version=- part=1:2 data=0:0\n");
	assert_int_equal(m.parts[1].len, 5);
	assert_memory_equal(m.parts[1].data, "HELLO", 5);
	assert_int_equal(m.parts[2].len, sizeof doc);
	assert_memory_equal(m.parts[2].data, doc, sizeof doc);
	eas_item_operations_parser_free(m.io);
	for (int i = 0; i < 3; i++)
		eas_buf_free(&m.parts[i]);
	eas_buf_free(&m.c.log);
	eas_buf_free(&m.c.data);
	eas_buf_free(&m.c.body);
	eas_buf_free(&body);
	eas_buf_free(&wbxml);
}

/* ---- tree-path malformed input -------------------------------------------------- */

static void test_malformed_tree(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int response;
		const char *message;
	} cases[] = {
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", 0, "expected ItemOperations:ItemOperations" },
		{ NS "</ItemOperations>", 0, "holds no Fetch, EmptyFolderContents or Move" },
		{ NS "<Fetch><A:ServerId>1</A:ServerId><A:CollectionId>1</A:CollectionId></Fetch></ItemOperations>", 0,
		  "missing ItemOperations:Store" },
		{ NS "<Fetch><Store>Mailbox</Store></Fetch></ItemOperations>", 0, "ItemOperations:Fetch names no item" },
		{ NS "<Fetch><Store>Mailbox</Store><S:LongId>1</S:LongId><B:FileReference>2</B:FileReference></Fetch>"
		     "</ItemOperations>", 0, "names its item 2 ways" },
		{ NS "<Fetch><Store>Mailbox</Store><A:ServerId>1</A:ServerId></Fetch></ItemOperations>", 0,
		  "missing AirSync:CollectionId" },
		{ NS "<Fetch><Store>Mailbox</Store><S:LongId>1</S:LongId><Options><Range>a-b</Range></Options></Fetch>"
		     "</ItemOperations>", 0, "ItemOperations:Range is not m-n" },
		{ NS "<Fetch><Store>Mailbox</Store><S:LongId>1</S:LongId><Options><B:BodyPreference>"
		     "<B:TruncationSize>5</B:TruncationSize></B:BodyPreference></Options></Fetch></ItemOperations>", 0,
		  "missing AirSyncBase:Type" },
		{ NS "<Fetch><Store>Mailbox</Store><S:LongId>1</S:LongId><Options>"
		     "<B:BodyPreference><B:Type>1</B:Type></B:BodyPreference><B:BodyPreference><B:Type>2</B:Type></B:BodyPreference>"
		     "<B:BodyPreference><B:Type>3</B:Type></B:BodyPreference><B:BodyPreference><B:Type>4</B:Type></B:BodyPreference>"
		     "<B:BodyPreference><B:Type>1</B:Type></B:BodyPreference></Options></Fetch></ItemOperations>", 0,
		  "more than 4 AirSyncBase:BodyPreference" },
		{ NS "<Fetch><Store>Mailbox</Store><S:LongId>1</S:LongId><Options><A:MIMESupport>all</A:MIMESupport>"
		     "</Options></Fetch></ItemOperations>", 0, "AirSync:MIMESupport is not a number" },
		{ NS "<EmptyFolderContents><Options><DeleteSubFolders/></Options></EmptyFolderContents></ItemOperations>", 0,
		  "missing AirSync:CollectionId" },
		{ NS "<Move><DstFldId>1</DstFldId></Move></ItemOperations>", 0, "missing ItemOperations:ConversationId" },
		{ NS "<Move><ConversationId>AAAA</ConversationId></Move></ItemOperations>", 0,
		  "missing ItemOperations:DstFldId" },
		{ NS "<Response/></ItemOperations>", 1, "missing ItemOperations:Status" },
		{ NS "<Status>1</Status><Response><Fetch><S:LongId>1</S:LongId></Fetch></Response></ItemOperations>", 1,
		  "missing ItemOperations:Status" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Total>x</Total></Properties>"
		     "</Fetch></Response></ItemOperations>", 1, "ItemOperations:Total is not a number" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Range>3-1</Range></Properties>"
		     "</Fetch></Response></ItemOperations>", 1, "ItemOperations:Range is not m-n" },
		{ NS "<Status>1</Status><Response><Fetch><Status>1</Status><Properties><Part>1</Part><Data>AA==</Data>"
		     "</Properties></Fetch></Response></ItemOperations>", 1, "both Data and Part" },
		{ NS "<Status>1</Status><Response><EmptyFolderContents/></Response></ItemOperations>", 1,
		  "missing ItemOperations:Status" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		const eas_node *root = eas_tree_root(t);
		char err[200] = "";
		int rc;
		const eas_node *cur = NULL;
		if (!cases[i].response) {
			eas_item_operations_request req;
			eas_itemops_operation op;
			rc = eas_item_operations_request_decode(&req, root, err, sizeof err);
			while (rc == 0 && (rc = eas_item_operations_next_operation(&req, &cur, &op, err, sizeof err)) == 1)
				;
		} else {
			eas_item_operations_response resp;
			eas_itemops_result r;
			rc = eas_item_operations_response_decode(&resp, root, err, sizeof err);
			while (rc == 0 && (rc = eas_item_operations_next_result(&resp, &cur, &r, err, sizeof err)) == 1)
				;
		}
		if (rc != EAS_E_MALFORMED || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err, cases[i].message);
		eas_tree_free(t);
	}
	/* Base64 rules of the tree helper. */
	static const struct {
		const char *text;
		int rc;
		const char *bytes;
	} b64[] = {
		{ "SGk=", 0, "Hi" }, { "SGk", 0, "Hi" }, { " S G\r\nk = ", 0, "Hi" }, { "SGk=SGk=", EAS_E_MALFORMED, NULL },
		{ "S", EAS_E_MALFORMED, NULL }, { "SG=k", EAS_E_MALFORMED, NULL }, { "S===", EAS_E_MALFORMED, NULL },
		{ "SGk*", EAS_E_MALFORMED, NULL }, { "", 0, "" }, { "SGVsbG8=", 0, "Hello" },
	};
	for (size_t i = 0; i < sizeof b64 / sizeof b64[0]; i++) {
		eas_itemops_fetch_result f;
		memset(&f, 0, sizeof f);
		f.has_data = 1;
		f.data = (const uint8_t *)b64[i].text;
		f.data_len = strlen(b64[i].text);
		uint8_t out[16];
		size_t n;
		int rc = eas_item_operations_fetch_data(&f, out, f.data_len, &n);
		if (rc != b64[i].rc)
			fail_msg("base64 '%s': %d", b64[i].text, rc);
		if (rc == 0 && (n != strlen(b64[i].bytes) || memcmp(out, b64[i].bytes, n) != 0))
			fail_msg("base64 '%s': wrong bytes", b64[i].text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_corpus_vectors),
		cmocka_unit_test(test_request_both_directions),
		cmocka_unit_test(test_response_both_directions),
		cmocka_unit_test(test_streaming_vector_every_split),
		cmocka_unit_test(test_streaming_large_data_bounded_memory),
		cmocka_unit_test(test_streaming_body_and_containers),
		cmocka_unit_test(test_streaming_malformed_and_limits),
		cmocka_unit_test(test_streaming_failing_allocations),
		cmocka_unit_test(test_multipart_end_to_end),
		cmocka_unit_test(test_malformed_tree),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
