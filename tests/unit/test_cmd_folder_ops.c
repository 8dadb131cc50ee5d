/* FolderCreate / FolderUpdate / FolderDelete: spec examples decoded, both directions round-tripped, bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/folder_ops.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define NS "xmlns=\"FolderHierarchy:\""

typedef int (*encode_fn)(eas_wbxml_encoder *enc, const void *arg);

static int enc_create_req(eas_wbxml_encoder *e, const void *a) { return eas_folder_create_request_encode(e, a); }
static int enc_create_resp(eas_wbxml_encoder *e, const void *a) { return eas_folder_create_response_encode(e, a); }
static int enc_update_req(eas_wbxml_encoder *e, const void *a) { return eas_folder_update_request_encode(e, a); }
static int enc_update_resp(eas_wbxml_encoder *e, const void *a) { return eas_folder_update_response_encode(e, a); }
static int enc_delete_req(eas_wbxml_encoder *e, const void *a) { return eas_folder_delete_request_encode(e, a); }
static int enc_delete_resp(eas_wbxml_encoder *e, const void *a) { return eas_folder_delete_response_encode(e, a); }

/* Runs encode on a scratch encoder and returns its result (for EAS_E_INVALID checks). */
static int encode_rc(encode_fn fn, const void *arg)
{
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, EAS_PROTO_ALL, NULL), 0);
	int rc = fn(enc, arg);
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&b);
	return rc;
}

static void test_create_request(void **state)
{
	(void)state;
	/* MS-ASCMD 4.3.1 */
	eas_tree *t = xmldoc_tree("<FolderCreate " NS "><SyncKey>1</SyncKey><ParentId>5</ParentId>"
				  "<DisplayName>NewFolder</DisplayName><Type>12</Type></FolderCreate>");
	eas_folder_create_request r;
	char err[128];
	assert_int_equal(eas_folder_create_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(r.sync_key, "1");
	assert_string_equal(r.parent_id, "5");
	assert_string_equal(r.display_name, "NewFolder");
	assert_int_equal(r.type, 12);
	eas_tree_free(t);

	eas_folder_create_request req = { "{abc}3", "0", "Sub & <folder>", 1 };
	char *xml = xmldoc_encode(enc_create_req, &req, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG "<FolderCreate " NS "><SyncKey>{abc}3</SyncKey><ParentId>0</ParentId>"
				     "<DisplayName>Sub &amp; &lt;folder&gt;</DisplayName><Type>1</Type></FolderCreate>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_folder_create_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(r.display_name, "Sub & <folder>");
	eas_tree_free(t);
	free(xml);

	eas_folder_create_request bad = req;
	bad.type = 0;
	assert_int_equal(encode_rc(enc_create_req, &bad), EAS_E_INVALID);
	bad = req;
	bad.parent_id = NULL;
	assert_int_equal(encode_rc(enc_create_req, &bad), EAS_E_INVALID);
	assert_int_equal(eas_folder_create_request_encode(NULL, &req), EAS_E_INVALID);
}

static void test_create_response(void **state)
{
	(void)state;
	eas_folder_create_response resp = { 1, "{k}2", "42" };
	char *xml = xmldoc_encode(enc_create_resp, &resp, EAS_PROTO_16_1);
	assert_string_equal(xml, PROLOG "<FolderCreate " NS "><Status>1</Status><SyncKey>{k}2</SyncKey>"
				     "<ServerId>42</ServerId></FolderCreate>");
	eas_tree *t = xmldoc_tree(xml);
	eas_folder_create_response back;
	char err[128];
	assert_int_equal(eas_folder_create_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 1);
	assert_string_equal(back.sync_key, "{k}2");
	assert_string_equal(back.server_id, "42");
	eas_tree_free(t);
	free(xml);

	/* A failure carries only the status, even when the struct has more. */
	eas_folder_create_response failed = { EAS_FOLDER_OP_EXISTS, "ignored", "ignored" };
	xml = xmldoc_encode(enc_create_resp, &failed, EAS_PROTO_12_0);
	assert_string_equal(xml, PROLOG "<FolderCreate " NS "><Status>2</Status></FolderCreate>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_folder_create_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 2);
	assert_null(back.sync_key);
	assert_null(back.server_id);
	eas_tree_free(t);
	free(xml);

	eas_folder_create_response bad = { 1, "k", NULL };
	assert_int_equal(encode_rc(enc_create_resp, &bad), EAS_E_INVALID);
	bad.status = 0;
	assert_int_equal(encode_rc(enc_create_resp, &bad), EAS_E_INVALID);
}

static void test_update_both_directions(void **state)
{
	(void)state;
	eas_folder_update_request req = { "7", "12", "0", "Renamed" };
	char *xml = xmldoc_encode(enc_update_req, &req, EAS_PROTO_14_0);
	assert_string_equal(xml, PROLOG "<FolderUpdate " NS "><SyncKey>7</SyncKey><ServerId>12</ServerId>"
				     "<ParentId>0</ParentId><DisplayName>Renamed</DisplayName></FolderUpdate>");
	eas_tree *t = xmldoc_tree(xml);
	eas_folder_update_request r;
	char err[128];
	assert_int_equal(eas_folder_update_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(r.sync_key, "7");
	assert_string_equal(r.server_id, "12");
	assert_string_equal(r.parent_id, "0");
	assert_string_equal(r.display_name, "Renamed");
	eas_tree_free(t);
	free(xml);

	eas_folder_update_response resp = { 1, "8" };
	xml = xmldoc_encode(enc_update_resp, &resp, EAS_PROTO_14_0);
	assert_string_equal(xml, PROLOG "<FolderUpdate " NS "><Status>1</Status><SyncKey>8</SyncKey></FolderUpdate>");
	t = xmldoc_tree(xml);
	eas_folder_update_response back;
	assert_int_equal(eas_folder_update_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 1);
	assert_string_equal(back.sync_key, "8");
	eas_tree_free(t);
	free(xml);

	eas_folder_update_response nf = { EAS_FOLDER_OP_NOT_FOUND, NULL };
	xml = xmldoc_encode(enc_update_resp, &nf, EAS_PROTO_14_0);
	assert_string_equal(xml, PROLOG "<FolderUpdate " NS "><Status>4</Status></FolderUpdate>");
	free(xml);

	eas_folder_update_request bad = req;
	bad.display_name = NULL;
	assert_int_equal(encode_rc(enc_update_req, &bad), EAS_E_INVALID);
	eas_folder_update_response badr = { 1, NULL };
	assert_int_equal(encode_rc(enc_update_resp, &badr), EAS_E_INVALID);
}

static void test_delete_both_directions(void **state)
{
	(void)state;
	eas_folder_delete_request req = { "3", "9" };
	char *xml = xmldoc_encode(enc_delete_req, &req, EAS_PROTO_2_5);
	assert_string_equal(xml, PROLOG "<FolderDelete " NS "><SyncKey>3</SyncKey><ServerId>9</ServerId></FolderDelete>");
	eas_tree *t = xmldoc_tree(xml);
	eas_folder_delete_request r;
	char err[128];
	assert_int_equal(eas_folder_delete_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(r.sync_key, "3");
	assert_string_equal(r.server_id, "9");
	eas_tree_free(t);
	free(xml);

	eas_folder_delete_response resp = { 1, "4" };
	xml = xmldoc_encode(enc_delete_resp, &resp, EAS_PROTO_2_5);
	assert_string_equal(xml, PROLOG "<FolderDelete " NS "><Status>1</Status><SyncKey>4</SyncKey></FolderDelete>");
	t = xmldoc_tree(xml);
	eas_folder_delete_response back;
	assert_int_equal(eas_folder_delete_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(back.sync_key, "4");
	eas_tree_free(t);
	free(xml);

	eas_folder_delete_response special = { EAS_FOLDER_OP_SPECIAL, NULL };
	xml = xmldoc_encode(enc_delete_resp, &special, EAS_PROTO_2_5);
	assert_string_equal(xml, PROLOG "<FolderDelete " NS "><Status>3</Status></FolderDelete>");
	free(xml);

	eas_folder_delete_request bad = { NULL, "9" };
	assert_int_equal(encode_rc(enc_delete_req, &bad), EAS_E_INVALID);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		int which; /* 0 create req, 1 update req, 2 delete req, 3 create resp, 4 update resp, 5 delete resp */
		const char *xml;
		const char *message;
	} cases[] = {
		{ 0, "<FolderCreate " NS "><ParentId>0</ParentId><DisplayName>x</DisplayName><Type>1</Type></FolderCreate>",
		  "missing FolderHierarchy:SyncKey" },
		{ 0, "<FolderCreate " NS "><SyncKey>1</SyncKey><DisplayName>x</DisplayName><Type>1</Type></FolderCreate>",
		  "missing FolderHierarchy:ParentId" },
		{ 0, "<FolderCreate " NS "><SyncKey>1</SyncKey><ParentId>0</ParentId><Type>1</Type></FolderCreate>",
		  "missing FolderHierarchy:DisplayName" },
		{ 0, "<FolderCreate " NS "><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName></FolderCreate>",
		  "missing FolderHierarchy:Type" },
		{ 0, "<FolderCreate " NS "><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName>"
		     "<Type>mail</Type></FolderCreate>", "Type is not a number" },
		{ 0, "<FolderDelete " NS "><SyncKey>1</SyncKey><ServerId>2</ServerId></FolderDelete>",
		  "root element is FolderHierarchy:FolderDelete, expected FolderHierarchy:FolderCreate" },
		{ 1, "<FolderUpdate " NS "><SyncKey>1</SyncKey><ParentId>0</ParentId><DisplayName>x</DisplayName></FolderUpdate>",
		  "missing FolderHierarchy:ServerId" },
		{ 1, "<FolderUpdate " NS "><SyncKey>1</SyncKey><ServerId>3</ServerId><DisplayName>x</DisplayName></FolderUpdate>",
		  "missing FolderHierarchy:ParentId" },
		{ 2, "<FolderDelete " NS "><SyncKey>1</SyncKey></FolderDelete>", "missing FolderHierarchy:ServerId" },
		{ 3, "<FolderCreate " NS "><Status>1</Status><SyncKey>2</SyncKey></FolderCreate>",
		  "missing FolderHierarchy:ServerId" },
		{ 3, "<FolderCreate " NS "><SyncKey>2</SyncKey></FolderCreate>", "missing FolderHierarchy:Status" },
		{ 4, "<FolderUpdate " NS "><Status>1</Status></FolderUpdate>", "missing FolderHierarchy:SyncKey" },
		{ 5, "<FolderDelete " NS "><Status>x</Status></FolderDelete>", "Status is not a number" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		const eas_node *root = eas_tree_root(t);
		char err[160] = "";
		int rc;
		switch (cases[i].which) {
		case 0: { eas_folder_create_request r; rc = eas_folder_create_request_decode(&r, root, err, sizeof err); break; }
		case 1: { eas_folder_update_request r; rc = eas_folder_update_request_decode(&r, root, err, sizeof err); break; }
		case 2: { eas_folder_delete_request r; rc = eas_folder_delete_request_decode(&r, root, err, sizeof err); break; }
		case 3: { eas_folder_create_response r; rc = eas_folder_create_response_decode(&r, root, err, sizeof err); break; }
		case 4: { eas_folder_update_response r; rc = eas_folder_update_response_decode(&r, root, err, sizeof err); break; }
		default: { eas_folder_delete_response r; rc = eas_folder_delete_response_decode(&r, root, err, sizeof err); break; }
		}
		assert_int_equal(rc, EAS_E_MALFORMED);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
	eas_folder_create_request r;
	assert_int_equal(eas_folder_create_request_decode(&r, NULL, NULL, 0), EAS_E_MALFORMED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_request),
		cmocka_unit_test(test_create_response),
		cmocka_unit_test(test_update_both_directions),
		cmocka_unit_test(test_delete_both_directions),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
