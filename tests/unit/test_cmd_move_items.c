/* MoveItems: the spec's example decoded, both directions round-tripped, malformed input refused. */
#include "cmd_test_util.h"

#include "commands/move_items.h"

#define NS "<MoveItems xmlns=\"Move:\">"

/* MS-ASCMD 4.15.1 / 4.15.2: move item 5:1 from folder 5 to folder 14. */
static const char spec_request[] = NS
	"<Move><SrcMsgId>5:1</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>14</DstFldId></Move></MoveItems>";
static const char spec_response[] = NS
	"<Response><SrcMsgId>5:1</SrcMsgId><Status>3</Status><DstMsgId>14:1</DstMsgId></Response></MoveItems>";

static void check_spec_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_move_items_request req;
	char err[128];
	assert_int_equal(eas_move_items_request_decode(&req, root, err, sizeof err), 0);
	assert_int_equal(req.move_count, 1);
	const eas_node *cur = NULL;
	eas_move_item m;
	assert_int_equal(eas_move_items_next_move(&req, &cur, &m, err, sizeof err), 1);
	assert_string_equal(m.src_msg_id, "5:1");
	assert_string_equal(m.src_fld_id, "5");
	assert_string_equal(m.dst_fld_id, "14");
	assert_int_equal(eas_move_items_next_move(&req, &cur, &m, err, sizeof err), 0);
}

static void check_spec_response(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_move_items_response resp;
	char err[128];
	assert_int_equal(eas_move_items_response_decode(&resp, root, err, sizeof err), 0);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.result_count, 1);
	const eas_node *cur = NULL;
	eas_move_result r;
	assert_int_equal(eas_move_items_next_result(&resp, &cur, &r, err, sizeof err), 1);
	assert_string_equal(r.src_msg_id, "5:1");
	assert_int_equal(r.status, EAS_MOVE_ITEMS_SUCCESS);
	assert_string_equal(r.dst_msg_id, "14:1");
	assert_int_equal(eas_move_items_next_result(&resp, &cur, &r, err, sizeof err), 0);
}

static void test_spec_examples(void **state)
{
	(void)state;
	eas_tree *t = xmldoc_tree(spec_request);
	check_spec_request(eas_tree_root(t), NULL);
	eas_tree_free(t);
	t = xmldoc_tree(spec_response);
	check_spec_response(eas_tree_root(t), NULL);
	eas_tree_free(t);
	/* the corpus vector under tests/data says the same with other ids */
	cmdt_each_split(spec_request, check_spec_request, NULL);
	cmdt_each_split(spec_response, check_spec_response, NULL);
	cmdt_each_failing_alloc_decode(spec_request, check_spec_request, NULL);
	cmdt_each_failing_alloc_decode(spec_response, check_spec_response, NULL);
}

static int encode_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_move_items_request_encode(enc, arg);
}

static int encode_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_move_items_response_encode(enc, arg);
}

static const eas_move_item moves[] = {
	{ "5:1", "5", "14" },
	{ "5:2", "5", "14" },
	{ "7:19 <&>", "7", "8" },
};

static void test_request_both_directions(void **state)
{
	(void)state;
	eas_move_items_request req = { moves, 3, NULL };
	char *xml = xmldoc_encode(encode_request, &req, EAS_PROTO_2_5);
	assert_string_equal(xml, CMDT_PROLOG NS
			    "<Move><SrcMsgId>5:1</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>14</DstFldId></Move>"
			    "<Move><SrcMsgId>5:2</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>14</DstFldId></Move>"
			    "<Move><SrcMsgId>7:19 &lt;&amp;&gt;</SrcMsgId><SrcFldId>7</SrcFldId><DstFldId>8</DstFldId></Move>"
			    "</MoveItems>");
	eas_tree *t = xmldoc_tree(xml);
	eas_move_items_request back;
	char err[128];
	assert_int_equal(eas_move_items_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.move_count, 3);
	const eas_node *cur = NULL;
	eas_move_item m;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(eas_move_items_next_move(&back, &cur, &m, err, sizeof err), 1);
		assert_string_equal(m.src_msg_id, moves[i].src_msg_id);
		assert_string_equal(m.src_fld_id, moves[i].src_fld_id);
		assert_string_equal(m.dst_fld_id, moves[i].dst_fld_id);
	}
	assert_int_equal(eas_move_items_next_move(&back, &cur, &m, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_request, &req, EAS_PROTO_16_1);

	/* The encoder refuses what the schema does not allow. */
	char long_id[66];
	memset(long_id, 'x', 65);
	long_id[65] = '\0';
	const eas_move_item bad[] = { { NULL, "5", "6" }, { "1", "", "6" }, { "1", "5", long_id } };
	for (size_t i = 0; i < 3; i++) {
		eas_move_items_request r = { &bad[i], 1, NULL };
		assert_int_equal(cmdt_encode_rc(encode_request, &r, EAS_PROTO_14_1), EAS_E_INVALID);
	}
	eas_move_items_request none = { moves, 0, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &none, EAS_PROTO_14_1), EAS_E_INVALID);
	long_id[64] = '\0'; /* exactly 64 is allowed */
	const eas_move_item edge = { long_id, "5", "6" };
	eas_move_items_request ok = { &edge, 1, NULL };
	assert_int_equal(cmdt_encode_rc(encode_request, &ok, EAS_PROTO_14_1), 0);
}

static void test_response_both_directions(void **state)
{
	(void)state;
	const eas_move_result results[] = {
		{ "5:1", EAS_MOVE_ITEMS_SUCCESS, "14:1" },
		{ "5:2", EAS_MOVE_ITEMS_INVALID_SOURCE, NULL },
		{ "5:3", EAS_MOVE_ITEMS_LOCKED, NULL },
	};
	eas_move_items_response resp = { 0, results, 3, NULL };
	char *xml = xmldoc_encode(encode_response, &resp, EAS_PROTO_14_0);
	assert_string_equal(xml, CMDT_PROLOG NS
			    "<Response><SrcMsgId>5:1</SrcMsgId><Status>3</Status><DstMsgId>14:1</DstMsgId></Response>"
			    "<Response><SrcMsgId>5:2</SrcMsgId><Status>1</Status></Response>"
			    "<Response><SrcMsgId>5:3</SrcMsgId><Status>7</Status></Response></MoveItems>");
	eas_tree *t = xmldoc_tree(xml);
	eas_move_items_response back;
	char err[128];
	assert_int_equal(eas_move_items_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.result_count, 3);
	const eas_node *cur = NULL;
	eas_move_result r;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(eas_move_items_next_result(&back, &cur, &r, err, sizeof err), 1);
		assert_string_equal(r.src_msg_id, results[i].src_msg_id);
		assert_int_equal(r.status, results[i].status);
		if (results[i].dst_msg_id)
			assert_string_equal(r.dst_msg_id, results[i].dst_msg_id);
		else
			assert_null(r.dst_msg_id);
	}
	assert_int_equal(eas_move_items_next_result(&back, &cur, &r, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_response, &resp, EAS_PROTO_14_0);

	/* A whole-request failure: MoveItems/Status and no Response. */
	eas_move_items_response global = { 111, NULL, 0, NULL };
	xml = xmldoc_encode(encode_response, &global, EAS_PROTO_14_1);
	assert_string_equal(xml, CMDT_PROLOG NS "<Status>111</Status></MoveItems>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_move_items_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 111);
	assert_int_equal(back.result_count, 0);
	cur = NULL;
	assert_int_equal(eas_move_items_next_result(&back, &cur, &r, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);

	const eas_move_result bad[] = { { NULL, 3, NULL }, { "1", 0, NULL }, { "1", 3, "" } };
	for (size_t i = 0; i < 3; i++) {
		eas_move_items_response b = { 0, &bad[i], 1, NULL };
		assert_int_equal(cmdt_encode_rc(encode_response, &b, EAS_PROTO_14_1), EAS_E_INVALID);
	}
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int response;
		const char *message;
	} cases[] = {
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", 0, "root element is Ping:Ping, expected Move:MoveItems" },
		{ NS "</MoveItems>", 0, "Move:MoveItems holds no Move:Move" },
		{ NS "<Move><SrcFldId>5</SrcFldId><DstFldId>6</DstFldId></Move></MoveItems>", 0, "missing Move:SrcMsgId" },
		{ NS "<Move><SrcMsgId>1</SrcMsgId><DstFldId>6</DstFldId></Move></MoveItems>", 0, "missing Move:SrcFldId" },
		{ NS "<Move><SrcMsgId>1</SrcMsgId><SrcFldId>5</SrcFldId></Move></MoveItems>", 0, "missing Move:DstFldId" },
		{ NS "<Move><SrcMsgId/><SrcFldId>5</SrcFldId><DstFldId>6</DstFldId></Move></MoveItems>", 0,
		  "Move:SrcMsgId is empty" },
		{ NS "<Move><SrcMsgId>1</SrcMsgId><SrcFldId>5</SrcFldId><DstFldId>"
		     "0123456789012345678901234567890123456789012345678901234567890123456789</DstFldId></Move></MoveItems>",
		  0, "Move:DstFldId is longer than 64 characters" },
		{ NS "<Status>many</Status></MoveItems>", 1, "Move:Status is not a number" },
		{ NS "<Response><Status>3</Status></Response></MoveItems>", 1, "missing Move:SrcMsgId" },
		{ NS "<Response><SrcMsgId>1</SrcMsgId></Response></MoveItems>", 1, "missing Move:Status" },
		{ NS "<Response><SrcMsgId>1</SrcMsgId><Status>three</Status></Response></MoveItems>", 1,
		  "Move:Status is not a number" },
		{ NS "<Response><SrcMsgId>1</SrcMsgId><Status>3</Status><DstMsgId>"
		     "0123456789012345678901234567890123456789012345678901234567890123456789</DstMsgId></Response></MoveItems>",
		  1, "Move:DstMsgId is longer than 64 characters" },
		{ "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderSync>", 1,
		  "expected Move:MoveItems" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		const eas_node *root = eas_tree_root(t);
		char err[160] = "";
		int rc;
		const eas_node *cur = NULL;
		if (!cases[i].response) {
			eas_move_items_request req;
			eas_move_item m;
			rc = eas_move_items_request_decode(&req, root, err, sizeof err);
			while (rc == 0 && (rc = eas_move_items_next_move(&req, &cur, &m, err, sizeof err)) == 1)
				;
		} else {
			eas_move_items_response resp;
			eas_move_result r;
			rc = eas_move_items_response_decode(&resp, root, err, sizeof err);
			while (rc == 0 && (rc = eas_move_items_next_result(&resp, &cur, &r, err, sizeof err)) == 1)
				;
		}
		if (rc != EAS_E_MALFORMED || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err, cases[i].message);
		eas_tree_free(t);
	}
	/* no document at all */
	eas_move_items_request req;
	char err[160];
	CMDT_EXPECT_MALFORMED(eas_move_items_request_decode(&req, NULL, err, sizeof err), err, "no document");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_request_both_directions),
		cmocka_unit_test(test_response_both_directions),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
