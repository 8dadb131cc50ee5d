/* FolderSync: the spec's example decoded, both directions round-tripped, malformed responses refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/folder_sync.h"
#include "xmldoc.h"

#define NS "<FolderSync xmlns=\"FolderHierarchy:\">"
#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"

/* MS-ASCMD 4.5.1: FolderSync response with three folders. */
static const char spec_response[] = NS
	"<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>3</Count>"
	"<Add><ServerId>1</ServerId><ParentId>0</ParentId><DisplayName>Calendar</DisplayName><Type>8</Type></Add>"
	"<Add><ServerId>2</ServerId><ParentId>0</ParentId><DisplayName>Contacts</DisplayName><Type>9</Type></Add>"
	"<Delete><ServerId>4</ServerId></Delete>"
	"<Update><ServerId>5</ServerId><ParentId>0</ParentId><DisplayName>Inbox</DisplayName><Type>2</Type></Update>"
	"</Changes></FolderSync>";

static void test_decodes_the_spec_response(void **state)
{
	(void)state;
	eas_tree *t = xmldoc_tree(spec_response);
	eas_folder_sync_response r;
	char err[128];
	assert_int_equal(eas_folder_sync_response_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.sync_key, "1");
	assert_int_equal(r.count, 3);
	const eas_node *cur = NULL;
	eas_folder_change c;
	static const struct {
		eas_folder_change_kind kind;
		const char *id, *name;
		uint32_t type;
	} expect[] = {
		{ EAS_FOLDER_CHANGE_ADD, "1", "Calendar", 8 },
		{ EAS_FOLDER_CHANGE_ADD, "2", "Contacts", 9 },
		{ EAS_FOLDER_CHANGE_DELETE, "4", NULL, 0 },
		{ EAS_FOLDER_CHANGE_UPDATE, "5", "Inbox", 2 },
	};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(eas_folder_sync_next_change(&r, &cur, &c, err, sizeof err), 1);
		assert_int_equal(c.kind, expect[i].kind);
		assert_string_equal(c.server_id, expect[i].id);
		if (expect[i].name) {
			assert_string_equal(c.display_name, expect[i].name);
			assert_string_equal(c.parent_id, "0");
		} else {
			assert_null(c.display_name);
		}
		assert_int_equal(c.type, expect[i].type);
	}
	assert_int_equal(eas_folder_sync_next_change(&r, &cur, &c, err, sizeof err), 0);
	eas_tree_free(t);
}

static int encode_request(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_folder_sync_request_encode(enc, arg);
}

static int encode_response(eas_wbxml_encoder *enc, const void *arg)
{
	return eas_folder_sync_response_encode(enc, arg);
}

static void test_request_both_directions(void **state)
{
	(void)state;
	eas_folder_sync_request req = { "0" };
	char *xml = xmldoc_encode(encode_request, &req, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<SyncKey>0</SyncKey></FolderSync>");
	eas_tree *t = xmldoc_tree(xml);
	eas_folder_sync_request back;
	assert_int_equal(eas_folder_sync_request_decode(&back, eas_tree_root(t), NULL, 0), 0);
	assert_string_equal(back.sync_key, "0");
	eas_tree_free(t);
	free(xml);
	eas_folder_sync_request none = { NULL };
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, EAS_PROTO_ALL, NULL), 0);
	assert_int_equal(eas_folder_sync_request_encode(enc, &none), EAS_E_INVALID);
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&b);
}

static void test_response_round_trip(void **state)
{
	(void)state;
	const eas_folder_change changes[] = {
		{ EAS_FOLDER_CHANGE_ADD, "10", "0", "Inbox", 2 },
		{ EAS_FOLDER_CHANGE_ADD, "11", "10", "Sub & folder <x>", 12 },
		{ EAS_FOLDER_CHANGE_UPDATE, "12", "0", "Renamed", 1 },
		{ EAS_FOLDER_CHANGE_DELETE, "13", NULL, NULL, 0 },
	};
	eas_folder_sync_response resp = { 1, "key-2", 0, NULL, changes, 4 };
	char *xml = xmldoc_encode(encode_response, &resp, EAS_PROTO_16_1);
	eas_tree *t = xmldoc_tree(xml);
	eas_folder_sync_response back;
	char err[128];
	assert_int_equal(eas_folder_sync_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_string_equal(back.sync_key, "key-2");
	assert_int_equal(back.count, 4);
	const eas_node *cur = NULL;
	eas_folder_change c;
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(eas_folder_sync_next_change(&back, &cur, &c, err, sizeof err), 1);
		assert_int_equal(c.kind, changes[i].kind);
		assert_string_equal(c.server_id, changes[i].server_id);
		if (changes[i].display_name)
			assert_string_equal(c.display_name, changes[i].display_name);
		assert_int_equal(c.type, changes[i].type);
	}
	assert_int_equal(eas_folder_sync_next_change(&back, &cur, &c, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);

	/* A failed status carries only the status. */
	eas_folder_sync_response failed = { EAS_FOLDER_SYNC_INVALID_KEY, NULL, 0, NULL, NULL, 0 };
	xml = xmldoc_encode(encode_response, &failed, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<Status>9</Status></FolderSync>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_folder_sync_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 9);
	assert_null(back.sync_key);
	assert_int_equal(eas_folder_sync_next_change(&back, &cur, &c, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
}

static void test_malformed_responses(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<SyncKey>1</SyncKey></FolderSync>", "missing FolderHierarchy:Status" },
		{ NS "<Status>x</Status></FolderSync>", "Status is not a number" },
		{ NS "<Status>1</Status></FolderSync>", "missing FolderHierarchy:SyncKey" },
		{ NS "<Status>1</Status><SyncKey>1</SyncKey><Changes><Count>many</Count></Changes></FolderSync>",
		  "Count is not a number" },
		{ "<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>", "root element is Ping:Ping, expected FolderHierarchy:FolderSync" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_folder_sync_response r;
		char err[160] = "";
		assert_int_equal(eas_folder_sync_response_decode(&r, eas_tree_root(t), err, sizeof err), EAS_E_MALFORMED);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
	/* A change without its required fields is reported when reached. */
	eas_tree *t = xmldoc_tree(NS "<Status>1</Status><SyncKey>1</SyncKey><Changes>"
				  "<Add><ServerId>1</ServerId><ParentId>0</ParentId><Type>2</Type></Add></Changes></FolderSync>");
	eas_folder_sync_response r;
	char err[160] = "";
	assert_int_equal(eas_folder_sync_response_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_folder_change c;
	assert_int_equal(eas_folder_sync_next_change(&r, &cur, &c, err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "DisplayName"));
	eas_tree_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decodes_the_spec_response),
		cmocka_unit_test(test_request_both_directions),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_malformed_responses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
