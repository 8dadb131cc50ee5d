/* Ping: spec examples decoded, both directions round-tripped, bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "cmd_test_util.h"
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

/* ---- the empty request, schema rules, status-dependent fields -------------------- */

static void check_vector_request(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_ping_request r;
	char err[160];
	assert_int_equal(eas_ping_request_decode(&r, root, err, sizeof err), 0);
	assert_false(r.empty);
	assert_true(r.has_heartbeat);
	assert_int_equal(r.heartbeat_interval, 480);
	assert_int_equal(r.folder_count, 2);
	const eas_node *cur = NULL;
	eas_ping_folder f;
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 1);
	assert_string_equal(f.id, "5");
	assert_string_equal(f.class_name, "Email");
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 1);
	assert_string_equal(f.id, "1");
	assert_string_equal(f.class_name, "Calendar");
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 0);
}

static void check_vector_response(const eas_node *root, const void *arg)
{
	(void)arg;
	eas_ping_response r;
	char err[160];
	assert_int_equal(eas_ping_response_decode(&r, root, err, sizeof err), 0);
	assert_int_equal(r.status, EAS_PING_CHANGES);
	assert_int_equal(r.folder_count, 1);
	const eas_node *cur = NULL;
	const char *id;
	assert_int_equal(eas_ping_next_changed(&r, &cur, &id), 1);
	assert_string_equal(id, "5");
	assert_int_equal(eas_ping_next_changed(&r, &cur, &id), 0);
}

static void test_vectors_every_split_and_failing_allocation(void **state)
{
	(void)state;
	/* tests/data/wbxml/ping-request.xml and ping-response.xml */
	static const char req[] = NS "<HeartbeatInterval>480</HeartbeatInterval><Folders>"
		"<Folder><Id>5</Id><Class>Email</Class></Folder><Folder><Id>1</Id><Class>Calendar</Class></Folder>"
		"</Folders></Ping>";
	static const char resp[] = NS "<Status>2</Status><Folders><Folder>5</Folder></Folders></Ping>";
	cmdt_each_split(req, check_vector_request, NULL);
	cmdt_each_split(resp, check_vector_response, NULL);
	cmdt_each_failing_alloc_decode(req, check_vector_request, NULL);
	cmdt_each_failing_alloc_decode(resp, check_vector_response, NULL);
	const eas_ping_folder folders[] = { { "5", "Email" }, { "1", "Calendar" } };
	eas_ping_request r = { .has_heartbeat = 1, .heartbeat_interval = 480, .has_folders = 1, .folder_count = 2,
			       .folder_list = folders };
	cmdt_each_failing_alloc_encode(enc_req, &r, EAS_PROTO_2_5);
	const char *const ids[] = { "5" };
	eas_ping_response p = { .status = 2, .folder_count = 1, .folder_ids = ids };
	cmdt_each_failing_alloc_encode(enc_resp, &p, EAS_PROTO_16_1);
}

static void test_empty_request(void **state)
{
	(void)state;
	/* No body: the server's cached interval and folders apply. */
	eas_ping_request r;
	char err[160];
	assert_int_equal(eas_ping_request_decode(&r, NULL, err, sizeof err), 0);
	assert_true(r.empty);
	assert_false(r.has_heartbeat);
	assert_false(r.has_folders);
	const eas_node *cur = NULL;
	eas_ping_folder f;
	assert_int_equal(eas_ping_next_folder(&r, &cur, &f, err, sizeof err), 0);
	/* The client sends it without the encoder. */
	eas_ping_request empty = { .empty = 1 };
	assert_int_equal(encode_rc(enc_req, &empty), EAS_E_INVALID);
	empty.has_heartbeat = 1;
	empty.heartbeat_interval = 60;
	assert_int_equal(encode_rc(enc_req, &empty), EAS_E_INVALID);
	/* A bare <Ping/> is not the empty request: MS-ASCMD 2.2.1.13 wants one of the two. */
	eas_tree *t = xmldoc_tree(NS "</Ping>");
	CMDT_EXPECT_MALFORMED(eas_ping_request_decode(&r, eas_tree_root(t), err, sizeof err), err,
			      "holds neither Ping:HeartbeatInterval nor Ping:Folders");
	eas_tree_free(t);
}

static void test_classes_and_ids(void **state)
{
	(void)state;
	static const char *const good[] = { "Email", "Calendar", "Contacts", "Tasks", "Notes" };
	for (size_t i = 0; i < 5; i++)
		assert_true(eas_ping_class_valid(good[i]));
	assert_false(eas_ping_class_valid("SMS"));
	assert_false(eas_ping_class_valid("email"));
	assert_false(eas_ping_class_valid(NULL));
	const eas_ping_folder sms[] = { { "3", "SMS" } };
	eas_ping_request r = { .has_folders = 1, .folder_count = 1, .folder_list = sms };
	assert_int_equal(encode_rc(enc_req, &r), EAS_E_INVALID);
	char long_id[66];
	memset(long_id, '7', 65);
	long_id[65] = '\0';
	const eas_ping_folder longer[] = { { long_id, "Email" } };
	r.folder_list = longer;
	assert_int_equal(encode_rc(enc_req, &r), EAS_E_INVALID);
	long_id[64] = '\0';
	assert_int_equal(encode_rc(enc_req, &r), 0);
	const eas_ping_folder blank[] = { { "", "Email" } };
	r.folder_list = blank;
	assert_int_equal(encode_rc(enc_req, &r), EAS_E_INVALID);

	eas_tree *t = xmldoc_tree(NS "<Folders><Folder><Id>3</Id><Class>SMS</Class></Folder></Folders></Ping>");
	eas_ping_request back;
	char err[160];
	assert_int_equal(eas_ping_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_ping_folder f;
	CMDT_EXPECT_MALFORMED(eas_ping_next_folder(&back, &cur, &f, err, sizeof err), err,
			      "Ping:Class 'SMS' is not Email, Calendar, Contacts, Tasks or Notes");
	eas_tree_free(t);
}

static void test_status_dependent_fields(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ NS "<Status>2</Status></Ping>", "Ping Status 2 without a Ping:Folder" },
		{ NS "<Status>2</Status><Folders/></Ping>", "Ping Status 2 without a Ping:Folder" },
		{ NS "<Status>5</Status></Ping>", "Ping Status 5 without Ping:HeartbeatInterval" },
		{ NS "<Status>6</Status><HeartbeatInterval>60</HeartbeatInterval></Ping>", "Ping Status 6 without Ping:MaxFolders" },
		{ NS "<Status>x</Status></Ping>", "Ping:Status is not a number" },
		{ NS "<Status>6</Status><MaxFolders>many</MaxFolders></Ping>", "Ping:MaxFolders is not a number" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_ping_response r;
		char err[160];
		CMDT_EXPECT_MALFORMED(eas_ping_response_decode(&r, eas_tree_root(t), err, sizeof err), err, cases[i].message);
		eas_tree_free(t);
	}
	/* Other statuses carry nothing, and the common 1xx codes are data. */
	static const char *const plain[] = { NS "<Status>1</Status></Ping>", NS "<Status>3</Status></Ping>",
					     NS "<Status>8</Status></Ping>", NS "<Status>142</Status></Ping>" };
	for (size_t i = 0; i < 4; i++) {
		eas_tree *t = xmldoc_tree(plain[i]);
		eas_ping_response r;
		assert_int_equal(eas_ping_response_decode(&r, eas_tree_root(t), NULL, 0), 0);
		eas_tree_free(t);
	}
	/* The encoder wants the same, and writes MaxFolders before HeartbeatInterval. */
	eas_ping_response r = { .status = EAS_PING_BAD_INTERVAL };
	assert_int_equal(encode_rc(enc_resp, &r), EAS_E_INVALID);
	r.status = EAS_PING_TOO_MANY_FOLDERS;
	assert_int_equal(encode_rc(enc_resp, &r), EAS_E_INVALID);
	r.status = EAS_PING_CHANGES;
	assert_int_equal(encode_rc(enc_resp, &r), EAS_E_INVALID);
	eas_ping_response both = { .status = EAS_PING_TOO_MANY_FOLDERS, .has_max_folders = 1, .max_folders = 25,
				   .has_heartbeat = 1, .heartbeat_interval = 900 };
	char *xml = xmldoc_encode(enc_resp, &both, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG NS "<Status>6</Status><MaxFolders>25</MaxFolders>"
				     "<HeartbeatInterval>900</HeartbeatInterval></Ping>");
	free(xml);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_request),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_vectors_every_split_and_failing_allocation),
		cmocka_unit_test(test_empty_request),
		cmocka_unit_test(test_classes_and_ids),
		cmocka_unit_test(test_status_dependent_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
