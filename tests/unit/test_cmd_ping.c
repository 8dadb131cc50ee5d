/* Ping: spec examples decoded, both directions round-tripped, bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/ping.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define NS "<Ping xmlns=\"Ping:\">"

static int enc_req(eas_wbxml_encoder *e, const void *a) { return eas_ping_request_encode(e, a); }
static int enc_resp(eas_wbxml_encoder *e, const void *a) { return eas_ping_response_encode(e, a); }

static int encode_rc(int (*fn)(eas_wbxml_encoder *, const void *), const void *arg)
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

static void test_spec_request(void **state)
{
	(void)state;
	/* MS-ASCMD 4.10.1 */
	eas_tree *t = xmldoc_tree(NS "<HeartbeatInterval>80</HeartbeatInterval><Folders>"
				  "<Folder><Id>5</Id><Class>Email</Class></Folder>"
				  "<Folder><Id>7</Id><Class>Calendar</Class></Folder></Folders></Ping>");
	eas_ping_request r;
	char err[128];
	assert_int_equal(eas_ping_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_true(r.has_heartbeat);
	assert_int_equal(r.heartbeat_interval, 80);
	assert_true(r.has_folders);
	assert_int_equal(r.folder_count, 2);
	const eas_node *cur = NULL;
	eas_ping_folder f;
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 1);
	assert_string_equal(f.id, "5");
	assert_string_equal(f.class_name, "Email");
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 1);
	assert_string_equal(f.id, "7");
	assert_string_equal(f.class_name, "Calendar");
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 0);
	eas_tree_free(t);

	/* Only an interval: folders come from the server's cache. */
	t = xmldoc_tree(NS "<HeartbeatInterval>600</HeartbeatInterval></Ping>");
	assert_int_equal(eas_ping_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
	assert_true(r.has_heartbeat);
	assert_false(r.has_folders);
	cur = NULL;
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 0);
	eas_tree_free(t);
}

static void test_request_round_trip(void **state)
{
	(void)state;
	const eas_ping_folder folders[] = { { "1", "Email" }, { "2", "Contacts" } };
	eas_ping_request req = { .has_heartbeat = 1, .heartbeat_interval = 900, .has_folders = 1, .folder_count = 2, .folder_list = folders };
	char *xml = xmldoc_encode(enc_req, &req, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<HeartbeatInterval>900</HeartbeatInterval><Folders>"
				     "<Folder><Id>1</Id><Class>Email</Class></Folder>"
				     "<Folder><Id>2</Id><Class>Contacts</Class></Folder></Folders></Ping>");
	free(xml);
	eas_ping_request only_folders = { .has_folders = 1, .folder_count = 1, .folder_list = folders };
	xml = xmldoc_encode(enc_req, &only_folders, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<Folders><Folder><Id>1</Id><Class>Email</Class></Folder></Folders></Ping>");
	free(xml);

	eas_ping_request none = { .has_heartbeat = 0 };
	assert_int_equal(encode_rc(enc_req, &none), EAS_E_INVALID);
	eas_ping_request empty = { .has_heartbeat = 1, .heartbeat_interval = 60, .has_folders = 1, .folder_list = folders };
	assert_int_equal(encode_rc(enc_req, &empty), EAS_E_INVALID);
	const eas_ping_folder bad_folder[] = { { "1", NULL } };
	eas_ping_request bad = { .has_heartbeat = 1, .heartbeat_interval = 60, .has_folders = 1, .folder_count = 1, .folder_list = bad_folder };
	assert_int_equal(encode_rc(enc_req, &bad), EAS_E_INVALID);
}

static void test_response_round_trip(void **state)
{
	(void)state;
	const char *const ids[] = { "5", "9" };
	eas_ping_response resp = { .status = EAS_PING_CHANGES, .folder_count = 2, .folder_ids = ids };
	char *xml = xmldoc_encode(enc_resp, &resp, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<Status>2</Status><Folders><Folder>5</Folder><Folder>9</Folder></Folders></Ping>");
	eas_tree *t = xmldoc_tree(xml);
	eas_ping_response back;
	char err[128];
	assert_int_equal(eas_ping_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 2);
	assert_int_equal(back.folder_count, 2);
	const eas_node *cur = NULL;
	const char *id;
	assert_int_equal(eas_ping_next_changed(&back, &cur, &id), 1);
	assert_string_equal(id, "5");
	assert_int_equal(eas_ping_next_changed(&back, &cur, &id), 1);
	assert_string_equal(id, "9");
	assert_int_equal(eas_ping_next_changed(&back, &cur, &id), 0);
	eas_tree_free(t);
	free(xml);

	eas_ping_response limit = { .status = EAS_PING_BAD_INTERVAL, .has_heartbeat = 1, .heartbeat_interval = 60 };
	xml = xmldoc_encode(enc_resp, &limit, EAS_PROTO_12_1);
	assert_string_equal(xml, PROLOG NS "<Status>5</Status><HeartbeatInterval>60</HeartbeatInterval></Ping>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_ping_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_int_equal(back.status, 5);
	assert_true(back.has_heartbeat);
	assert_int_equal(back.heartbeat_interval, 60);
	assert_false(back.has_max_folders);
	eas_tree_free(t);
	free(xml);

	eas_ping_response many = { .status = EAS_PING_TOO_MANY_FOLDERS, .has_max_folders = 1, .max_folders = 200 };
	xml = xmldoc_encode(enc_resp, &many, EAS_PROTO_12_1);
	assert_string_equal(xml, PROLOG NS "<Status>6</Status><MaxFolders>200</MaxFolders></Ping>");
	t = xmldoc_tree(xml);
	assert_int_equal(eas_ping_response_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_true(back.has_max_folders);
	assert_int_equal(back.max_folders, 200);
	eas_tree_free(t);
	free(xml);

	eas_ping_response bad = { .status = 0 };
	assert_int_equal(encode_rc(enc_resp, &bad), EAS_E_INVALID);
	bad.status = 2;
	bad.folder_count = 1;
	assert_int_equal(encode_rc(enc_resp, &bad), EAS_E_INVALID);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		int response;
		const char *xml;
		const char *message;
	} cases[] = {
		{ 0, NS "<HeartbeatInterval>soon</HeartbeatInterval></Ping>", "HeartbeatInterval is not a number" },
		{ 0, NS "<Folders></Folders></Ping>", "holds no Ping:Folder" },
		{ 0, "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>", "expected Ping:Ping" },
		{ 1, NS "<Folders><Folder>1</Folder></Folders></Ping>", "missing Ping:Status" },
		{ 1, NS "<Status>5</Status><HeartbeatInterval>-1</HeartbeatInterval></Ping>", "not a number" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		char err[160] = "";
		int rc;
		if (cases[i].response) {
			eas_ping_response r;
			rc = eas_ping_response_decode(&r, eas_tree_root(t), err, sizeof err);
		} else {
			eas_ping_request r;
			rc = eas_ping_request_decode(&r, eas_tree_root(t), err, sizeof err);
		}
		assert_int_equal(rc, EAS_E_MALFORMED);
		if (!strstr(err, cases[i].message))
			fail_msg("case %zu: '%s' lacks '%s'", i, err, cases[i].message);
		eas_tree_free(t);
	}
	/* Folder problems are found by the iterator. */
	static const char *const bad_folders[] = {
		NS "<Folders><Folder><Class>Email</Class></Folder></Folders></Ping>",
		NS "<Folders><Folder><Id>1</Id></Folder></Folders></Ping>",
		NS "<Folders><Folder><Id>01234567890123456789012345678901234567890123456789012345678901234</Id>"
		   "<Class>Email</Class></Folder></Folders></Ping>",
	};
	for (size_t i = 0; i < sizeof bad_folders / sizeof bad_folders[0]; i++) {
		eas_tree *t = xmldoc_tree(bad_folders[i]);
		eas_ping_request r;
		char err[160] = "";
		assert_int_equal(eas_ping_request_decode(&r, eas_tree_root(t), err, sizeof err), 0);
		const eas_node *cur = NULL;
		eas_ping_folder f;
		assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), EAS_E_MALFORMED);
		eas_tree_free(t);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_request),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
