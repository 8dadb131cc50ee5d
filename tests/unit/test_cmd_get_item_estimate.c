/* GetItemEstimate: the spec's example, both forms by version, round trips, malformed input. */
#include "cmd_test_util.h"

#include "commands/get_item_estimate.h"

#define NS "<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:A=\"AirSync:\">"
#define NS_ONLY "<GetItemEstimate xmlns=\"GetItemEstimate:\">"

/* MS-ASCMD 4.9.1: estimate for folder 5, all email. */
static const char spec_request[] = NS
	"<Collections><Collection><A:SyncKey>785971245</A:SyncKey><CollectionId>5</CollectionId>"
	"<A:Options><A:FilterType>0</A:FilterType><A:Class>Email</A:Class></A:Options>"
	"</Collection></Collections></GetItemEstimate>";
/* tests/data/wbxml/getitemestimate-response.xml */
static const char spec_response[] = NS_ONLY
	"<Response><Status>1</Status><Collection><CollectionId>5</CollectionId><Estimate>12</Estimate>"
	"</Collection></Response></GetItemEstimate>";
/* The 12.1 form (GetItemEstimate.xsd's second sequence). */
static const char legacy_request[] = NS
	"<Collections><Collection><Class>Calendar</Class><CollectionId>2</CollectionId>"
	"<A:FilterType>4</A:FilterType><A:SyncKey>9</A:SyncKey></Collection></Collections></GetItemEstimate>";

static void check_spec_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_estimate_request req;
	char err[160];
	assert_int_equal(eas_get_item_estimate_request_decode(&req, root, err, sizeof err), 0);
	assert_int_equal(req.collection_count, 1);
	const eas_node *cur = NULL;
	eas_item_estimate_collection c;
	assert_int_equal(eas_get_item_estimate_next_collection(&req, &cur, &c, err, sizeof err), 1);
	assert_string_equal(c.sync_key, "785971245");
	assert_string_equal(c.collection_id, "5");
	assert_false(c.legacy);
	assert_false(c.has_conversation_mode);
	assert_int_equal(c.option_count, 1);
	assert_string_equal(c.options[0].class_name, "Email");
	assert_true(c.options[0].has_filter_type);
	assert_int_equal(c.options[0].filter_type, 0);
	assert_false(c.options[0].has_max_items);
	assert_int_equal(eas_item_estimate_form_check(&c, EAS_PROTO_14_0, err, sizeof err), 0);
	assert_int_equal(eas_item_estimate_form_check(&c, EAS_PROTO_12_1, err, sizeof err), EAS_E_MALFORMED);
	assert_int_equal(eas_get_item_estimate_next_collection(&req, &cur, &c, err, sizeof err), 0);
}

static void check_spec_response(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_estimate_response resp;
	char err[160];
	assert_int_equal(eas_get_item_estimate_response_decode(&resp, root, err, sizeof err), 0);
	assert_int_equal(resp.status, 0);
	assert_int_equal(resp.result_count, 1);
	const eas_node *cur = NULL;
	eas_item_estimate_result r;
	assert_int_equal(eas_get_item_estimate_next_result(&resp, &cur, &r, err, sizeof err), 1);
	assert_int_equal(r.status, EAS_ITEM_ESTIMATE_OK);
	assert_string_equal(r.collection_id, "5");
	assert_true(r.has_estimate);
	assert_int_equal(r.estimate, 12);
	assert_int_equal(eas_get_item_estimate_next_result(&resp, &cur, &r, err, sizeof err), 0);
}

static void check_legacy_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_item_estimate_request req;
	char err[160];
	assert_int_equal(eas_get_item_estimate_request_decode(&req, root, err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_item_estimate_collection c;
	assert_int_equal(eas_get_item_estimate_next_collection(&req, &cur, &c, err, sizeof err), 1);
	assert_true(c.legacy);
	assert_string_equal(c.sync_key, "9");
	assert_string_equal(c.collection_id, "2");
	assert_int_equal(c.option_count, 1);
	assert_string_equal(c.options[0].class_name, "Calendar");
	assert_int_equal(c.options[0].filter_type, 4);
	assert_int_equal(eas_item_estimate_form_check(&c, EAS_PROTO_12_1, err, sizeof err), 0);
	assert_int_equal(eas_item_estimate_form_check(&c, EAS_PROTO_2_5, err, sizeof err), 0);
	assert_int_equal(eas_item_estimate_form_check(&c, EAS_PROTO_14_1, err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "12.1 and earlier"));
}

static void test_spec_examples(void **state)
{
	(void)state;
	cmdt_each_split(spec_request, check_spec_request, NULL);
	cmdt_each_split(spec_response, check_spec_response, NULL);
	cmdt_each_split(legacy_request, check_legacy_request, NULL);
	cmdt_each_failing_alloc_decode(spec_request, check_spec_request, NULL);
	cmdt_each_failing_alloc_decode(spec_response, check_spec_response, NULL);
	cmdt_each_failing_alloc_decode(legacy_request, check_legacy_request, NULL);
}

static int encode_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_get_item_estimate_request_encode(enc, arg);
}

static int encode_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_get_item_estimate_response_encode(enc, arg);
}

static void test_request_forms_by_version(void **state)
{
	(void)state;
	eas_item_estimate_collection cols[2];
	memset(cols, 0, sizeof cols);
	cols[0].sync_key = "12";
	cols[0].collection_id = "5";
	cols[0].option_count = 1;
	cols[0].options[0].class_name = "Email";
	cols[0].options[0].has_filter_type = 1;
	cols[0].options[0].filter_type = 3;
	cols[1].sync_key = "7";
	cols[1].collection_id = "9";
	eas_item_estimate_request req = { EAS_PROTO_12_1, cols, 2, NULL };

	/* <= 12.1: Class, CollectionId, FilterType (0 when none), SyncKey */
	char *xml = xmldoc_encode(encode_request, &req, EAS_PROTO_12_1);
	assert_string_equal(xml, CMDT_PROLOG NS_ONLY "<Collections>"
			    "<Collection><Class>Email</Class><CollectionId>5</CollectionId>"
			    "<FilterType xmlns=\"AirSync:\">3</FilterType><SyncKey xmlns=\"AirSync:\">12</SyncKey></Collection>"
			    "<Collection><CollectionId>9</CollectionId>"
			    "<FilterType xmlns=\"AirSync:\">0</FilterType><SyncKey xmlns=\"AirSync:\">7</SyncKey></Collection>"
			    "</Collections></GetItemEstimate>");
	eas_tree *t = xmldoc_tree(xml);
	eas_item_estimate_request back;
	char err[160];
	assert_int_equal(eas_get_item_estimate_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.collection_count, 2);
	const eas_node *cur = NULL;
	eas_item_estimate_collection c;
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 1);
	assert_true(c.legacy);
	assert_string_equal(c.options[0].class_name, "Email");
	assert_int_equal(c.options[0].filter_type, 3);
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 1);
	assert_true(c.legacy);
	assert_null(c.options[0].class_name);
	assert_int_equal(c.options[0].filter_type, 0);
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);

	/* 14.0+: SyncKey, CollectionId, ConversationMode, Options{Class, FilterType, MaxItems} x2 */
	cols[0].has_conversation_mode = 1;
	cols[0].conversation_mode = 1;
	cols[0].option_count = 2;
	cols[0].options[1].class_name = "SMS";
	cols[0].options[1].has_max_items = 1;
	cols[0].options[1].max_items = 50;
	req.protocol_version = EAS_PROTO_16_1;
	xml = xmldoc_encode(encode_request, &req, EAS_PROTO_16_1);
	assert_string_equal(xml, CMDT_PROLOG NS_ONLY "<Collections>"
			    "<Collection><SyncKey xmlns=\"AirSync:\">12</SyncKey><CollectionId>5</CollectionId>"
			    "<ConversationMode xmlns=\"AirSync:\">1</ConversationMode>"
			    "<Options xmlns=\"AirSync:\"><Class>Email</Class><FilterType>3</FilterType></Options>"
			    "<Options xmlns=\"AirSync:\"><Class>SMS</Class><MaxItems>50</MaxItems></Options></Collection>"
			    "<Collection><SyncKey xmlns=\"AirSync:\">7</SyncKey><CollectionId>9</CollectionId></Collection>"
			    "</Collections></GetItemEstimate>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_get_item_estimate_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	cur = NULL;
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 1);
	assert_false(c.legacy);
	assert_true(c.has_conversation_mode);
	assert_int_equal(c.conversation_mode, 1);
	assert_int_equal(c.option_count, 2);
	assert_string_equal(c.options[1].class_name, "SMS");
	assert_false(c.options[1].has_filter_type);
	assert_true(c.options[1].has_max_items);
	assert_int_equal(c.options[1].max_items, 50);
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 1);
	assert_int_equal(c.option_count, 0);
	assert_int_equal(eas_get_item_estimate_next_collection(&back, &cur, &c, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_request, &req, EAS_PROTO_16_1);

	/* What only 14.0+ has cannot go into the old form. */
	req.protocol_version = EAS_PROTO_12_1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_12_1), EAS_E_INVALID);
	cols[0].option_count = 1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_12_1), EAS_E_INVALID); /* ConversationMode */
	cols[0].has_conversation_mode = 0;
	cols[0].options[0].has_max_items = 1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_12_1), EAS_E_INVALID); /* MaxItems */
	cols[0].options[0].has_max_items = 0;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_12_1), 0);
	/* An encoder of another version than the one the request names: the tag table refuses. */
	req.protocol_version = EAS_PROTO_14_0;
	cols[0].has_conversation_mode = 1; /* AirSync:ConversationMode is 14.0+ */
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_2_5), EAS_E_UNSUPPORTED);
	cols[0].has_conversation_mode = 0;
	req.protocol_version = EAS_PROTO_12_1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_UNSUPPORTED);
	/* Bad arguments. */
	req.protocol_version = EAS_PROTO_14_0 | EAS_PROTO_14_1;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_INVALID);
	req.protocol_version = EAS_PROTO_14_0;
	cols[1].options[0].has_filter_type = 0;
	cols[1].option_count = 1; /* an empty Options */
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_INVALID);
	cols[1].option_count = 0;
	cols[1].collection_id = NULL;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_INVALID);
	cols[1].collection_id = "9";
	req.collection_count = 0;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_INVALID);
	req.collection_count = 301;
	assert_int_equal(cmdt_encode_rc(encode_request, &req, EAS_PROTO_14_0), EAS_E_INVALID);
}

static void test_response_both_directions(void **state)
{
	(void)state;
	const eas_item_estimate_result results[] = {
		{ EAS_ITEM_ESTIMATE_OK, "5", 1, 12 },
		{ EAS_ITEM_ESTIMATE_NOT_PRIMED, "6", 0, 0 },
		{ EAS_ITEM_ESTIMATE_INVALID_COLLECTION, NULL, 0, 0 },
	};
	eas_item_estimate_response resp = { 0, results, 3, NULL };
	char *xml = xmldoc_encode(encode_response, &resp, EAS_PROTO_14_1);
	assert_string_equal(xml, CMDT_PROLOG NS_ONLY
			    "<Response><Status>1</Status><Collection><CollectionId>5</CollectionId><Estimate>12</Estimate>"
			    "</Collection></Response>"
			    "<Response><Status>3</Status><Collection><CollectionId>6</CollectionId></Collection></Response>"
			    "<Response><Status>2</Status></Response></GetItemEstimate>");
	eas_tree *t = xmldoc_tree(xml);
	eas_item_estimate_response back;
	char err[160];
	assert_int_equal(eas_get_item_estimate_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.result_count, 3);
	const eas_node *cur = NULL;
	eas_item_estimate_result r;
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(eas_get_item_estimate_next_result(&back, &cur, &r, err, sizeof err), 1);
		assert_int_equal(r.status, results[i].status);
		if (results[i].collection_id)
			assert_string_equal(r.collection_id, results[i].collection_id);
		else
			assert_null(r.collection_id);
		assert_int_equal(r.has_estimate, results[i].has_estimate);
		assert_int_equal(r.estimate, results[i].estimate);
	}
	assert_int_equal(eas_get_item_estimate_next_result(&back, &cur, &r, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	cmdt_each_failing_alloc_encode(encode_response, &resp, EAS_PROTO_2_5);

	eas_item_estimate_response global = { EAS_ITEM_ESTIMATE_INVALID_KEY, NULL, 0, NULL };
	xml = xmldoc_encode(encode_response, &global, EAS_PROTO_14_1);
	assert_string_equal(xml, CMDT_PROLOG NS_ONLY "<Status>4</Status></GetItemEstimate>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_get_item_estimate_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 4);
	assert_int_equal(back.result_count, 0);
	eas_tree_free(t);
	free(xml);

	const eas_item_estimate_result bad[] = { { 0, "5", 0, 0 }, { 1, NULL, 1, 3 } };
	for (size_t i = 0; i < 2; i++) {
		eas_item_estimate_response b = { 0, &bad[i], 1, NULL };
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
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", 0, "expected GetItemEstimate:GetItemEstimate" },
		{ NS "</GetItemEstimate>", 0, "missing GetItemEstimate:Collections" },
		{ NS "<Collections/></GetItemEstimate>", 0, "holds no GetItemEstimate:Collection" },
		{ NS "<Collections><Collection><CollectionId>5</CollectionId></Collection></Collections></GetItemEstimate>",
		  0, "missing AirSync:SyncKey" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey></Collection></Collections></GetItemEstimate>",
		  0, "missing GetItemEstimate:CollectionId" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId>5</CollectionId>"
		     "<A:FilterType>2</A:FilterType><A:Options><A:Class>Email</A:Class></A:Options>"
		     "</Collection></Collections></GetItemEstimate>", 0, "mixes the 12.1 form" },
		{ NS "<Collections><Collection><Class>Email</Class><CollectionId>5</CollectionId><A:SyncKey>1</A:SyncKey>"
		     "</Collection></Collections></GetItemEstimate>", 0, "missing AirSync:FilterType" },
		{ NS "<Collections><Collection><CollectionId>5</CollectionId><A:FilterType>x</A:FilterType>"
		     "<A:SyncKey>1</A:SyncKey></Collection></Collections></GetItemEstimate>", 0,
		  "AirSync:FilterType is not a number" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId>5</CollectionId>"
		     "<A:Options><A:Class>Email</A:Class></A:Options><A:Options><A:Class>SMS</A:Class></A:Options>"
		     "<A:Options><A:Class>Tasks</A:Class></A:Options></Collection></Collections></GetItemEstimate>", 0,
		  "3 AirSync:Options, at most 2" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId>5</CollectionId>"
		     "<A:Options/></Collection></Collections></GetItemEstimate>", 0, "AirSync:Options is empty" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId>5</CollectionId>"
		     "<A:ConversationMode>yes</A:ConversationMode></Collection></Collections></GetItemEstimate>", 0,
		  "AirSync:ConversationMode is not 0 or 1" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId>5</CollectionId>"
		     "<A:Options><A:MaxItems>-1</A:MaxItems></A:Options></Collection></Collections></GetItemEstimate>", 0,
		  "AirSync:MaxItems is not a number" },
		{ NS "<Collections><Collection><A:SyncKey>1</A:SyncKey><CollectionId/>"
		     "</Collection></Collections></GetItemEstimate>", 0, "GetItemEstimate:CollectionId is empty" },
		{ NS_ONLY "<Status>one</Status></GetItemEstimate>", 1, "GetItemEstimate:Status is not a number" },
		{ NS_ONLY "<Response><Collection><CollectionId>5</CollectionId></Collection></Response></GetItemEstimate>", 1,
		  "missing GetItemEstimate:Status" },
		{ NS_ONLY "<Response><Status>1</Status><Collection><Estimate>5</Estimate></Collection></Response>"
			  "</GetItemEstimate>", 1, "missing GetItemEstimate:CollectionId" },
		{ NS_ONLY "<Response><Status>1</Status><Collection><CollectionId>5</CollectionId><Estimate>99999999999"
			  "</Estimate></Collection></Response></GetItemEstimate>", 1,
		  "GetItemEstimate:Estimate is not a number" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		const eas_node *root = eas_tree_root(t);
		char err[200] = "";
		int rc;
		const eas_node *cur = NULL;
		if (!cases[i].response) {
			eas_item_estimate_request req;
			eas_item_estimate_collection c;
			rc = eas_get_item_estimate_request_decode(&req, root, err, sizeof err);
			while (rc == 0 && (rc = eas_get_item_estimate_next_collection(&req, &cur, &c, err, sizeof err)) == 1)
				;
		} else {
			eas_item_estimate_response resp;
			eas_item_estimate_result r;
			rc = eas_get_item_estimate_response_decode(&resp, root, err, sizeof err);
			while (rc == 0 && (rc = eas_get_item_estimate_next_result(&resp, &cur, &r, err, sizeof err)) == 1)
				;
		}
		if (rc != EAS_E_MALFORMED || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d, '%s' lacks '%s'", i, rc, err, cases[i].message);
		eas_tree_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_examples),
		cmocka_unit_test(test_request_forms_by_version),
		cmocka_unit_test(test_response_both_directions),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
