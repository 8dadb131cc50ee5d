/* The bounded WBXML tree used by the small commands, and the growable buffer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/buf.h"
#include "testmem.h"
#include "wbxml/tree.h"

/* <FolderSync><Status>1</Status><SyncKey>7</SyncKey><Changes><Count>2</Count>
 *   <Add><ServerId>1</ServerId><DisplayName>Inbox</DisplayName></Add>
 *   <Add><ServerId>2</ServerId><DisplayName>Sent</DisplayName></Add></Changes></FolderSync>
 * written with the encoder, so the test reads what the library writes. */
static size_t make_doc(eas_buf *out, int adds)
{
	eas_wbxml_encoder *e;
	eas_buf_init(out, NULL, 0);
	assert_int_equal(eas_wbxml_encoder_new(&e, eas_buf_sink, out, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_FOLDERHIERARCHY_STATUS, "1"), 0);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, "7"), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_FOLDERHIERARCHY_CHANGES), 0);
	char text[32];
	snprintf(text, sizeof text, "%d", adds);
	assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_FOLDERHIERARCHY_COUNT, text), 0);
	for (int i = 0; i < adds; i++) {
		assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_FOLDERHIERARCHY_ADD), 0);
		snprintf(text, sizeof text, "%d", i + 1);
		assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_FOLDERHIERARCHY_SERVER_ID, text), 0);
		assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME,
							    i == 0 ? "Inbox" : "Sent"), 0);
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
	}
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	eas_wbxml_encoder_free(e);
	return out->len;
}

static void test_walks_a_document(void **state)
{
	(void)state;
	eas_buf doc;
	make_doc(&doc, 2);
	eas_tree *t = NULL;
	char err[128];
	assert_int_equal(eas_tree_parse(&t, doc.data, doc.len, 0, NULL, err, sizeof err), 0);
	const eas_node *root = eas_tree_root(t);
	assert_non_null(root);
	assert_int_equal(root->tag, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC);
	uint32_t v = 0;
	assert_int_equal(eas_node_child_uint(root, EAS_TAG_FOLDERHIERARCHY_STATUS, &v), 0);
	assert_int_equal(v, 1);
	assert_string_equal(eas_node_child_text(root, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY), "7");
	assert_null(eas_node_child_text(root, EAS_TAG_FOLDERHIERARCHY_COUNT)); /* not a direct child */
	assert_int_equal(eas_node_child_uint(root, EAS_TAG_FOLDERHIERARCHY_COUNT, &v), EAS_E_NOTFOUND);
	const eas_node *changes = eas_node_path(root, EAS_TAG_FOLDERHIERARCHY_CHANGES, EAS_TAG_NONE);
	assert_non_null(changes);
	assert_int_equal(eas_node_count(changes, EAS_TAG_FOLDERHIERARCHY_ADD), 2);
	const eas_node *add = eas_node_child(changes, EAS_TAG_FOLDERHIERARCHY_ADD);
	assert_string_equal(eas_node_child_text(add, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME), "Inbox");
	add = eas_node_next_same(add);
	assert_string_equal(eas_node_child_text(add, EAS_TAG_FOLDERHIERARCHY_DISPLAY_NAME), "Sent");
	assert_null(eas_node_next_same(add));
	assert_string_equal(eas_node_path(root, EAS_TAG_FOLDERHIERARCHY_CHANGES, EAS_TAG_FOLDERHIERARCHY_ADD,
					  EAS_TAG_FOLDERHIERARCHY_SERVER_ID, EAS_TAG_NONE)->text, "1");
	assert_null(eas_node_path(root, EAS_TAG_FOLDERHIERARCHY_ADD, EAS_TAG_FOLDERHIERARCHY_SERVER_ID,
				  EAS_TAG_NONE));
	eas_tree_free(t);
	eas_buf_free(&doc);
}

static void test_numbers(void **state)
{
	(void)state;
	static const char *const bad[] = { "", "-1", "1x", "4294967296", "12345678901", " 1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		eas_buf doc;
		eas_wbxml_encoder *e;
		eas_buf_init(&doc, NULL, 0);
		assert_int_equal(eas_wbxml_encoder_new(&e, eas_buf_sink, &doc, EAS_PROTO_ALL, NULL), 0);
		assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_PING_PING), 0);
		assert_int_equal(eas_wbxml_encoder_element(e, EAS_TAG_PING_STATUS, bad[i]), 0);
		assert_int_equal(eas_wbxml_encoder_end(e), 0);
		assert_int_equal(eas_wbxml_encoder_finish(e), 0);
		eas_wbxml_encoder_free(e);
		eas_tree *t;
		assert_int_equal(eas_tree_parse(&t, doc.data, doc.len, 0, NULL, NULL, 0), 0);
		uint32_t v = 0;
		assert_int_equal(eas_node_child_uint(eas_tree_root(t), EAS_TAG_PING_STATUS, &v), EAS_E_MALFORMED);
		eas_tree_free(t);
		eas_buf_free(&doc);
	}
}

static void test_every_split_and_every_failing_allocation(void **state)
{
	(void)state;
	eas_buf doc;
	make_doc(&doc, 2);
	for (size_t cut = 0; cut <= doc.len; cut++) {
		eas_tree *t;
		assert_int_equal(eas_tree_new(&t, 0, NULL, NULL), 0);
		assert_int_equal(eas_tree_feed(t, doc.data, cut), 0);
		assert_null(eas_tree_root(t));
		assert_int_equal(eas_tree_feed(t, doc.data + cut, doc.len - cut), 0);
		assert_int_equal(eas_tree_finish(t), 0);
		assert_string_equal(eas_node_child_text(eas_tree_root(t), EAS_TAG_FOLDERHIERARCHY_SYNC_KEY), "7");
		eas_tree_free(t);
	}
	int succeeded = 0;
	for (long n = 0; !succeeded; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		eas_tree *t = NULL;
		int rc = eas_tree_parse(&t, doc.data, doc.len, 0, &m, NULL, 0);
		if (rc == 0) {
			succeeded = 1;
			eas_tree_free(t);
		} else {
			assert_int_equal(rc, EAS_E_NOMEM);
			assert_null(t);
		}
		assert_int_equal(tm.live_blocks, 0);
		assert_true(n < 50);
	}
	eas_buf_free(&doc);
}

static void test_memory_limit_and_errors(void **state)
{
	(void)state;
	eas_buf doc;
	make_doc(&doc, 3000);
	eas_tree *t = NULL;
	char err[160];
	assert_int_equal(eas_tree_parse(&t, doc.data, doc.len, 32768, NULL, err, sizeof err), EAS_E_LIMIT);
	assert_null(t);
	assert_non_null(strstr(err, "memory"));
	assert_int_equal(eas_tree_parse(&t, doc.data, doc.len, 0, NULL, err, sizeof err), 0);
	assert_int_equal(eas_node_count(eas_node_child(eas_tree_root(t), EAS_TAG_FOLDERHIERARCHY_CHANGES),
					EAS_TAG_FOLDERHIERARCHY_ADD), 3000);
	eas_tree_free(t);
	/* A malformed document's message carries the decoder's words and the offset. */
	assert_int_equal(eas_tree_parse(&t, doc.data, 20, 0, NULL, err, sizeof err), EAS_E_TRUNCATED);
	assert_non_null(strstr(err, "byte 20"));
	assert_non_null(strstr(err, "truncated"));
	eas_buf_free(&doc);
}

/* A value split over many STR_I tokens is joined once: 1 MiB in 512 tokens stays within 2 MiB of tree. */
static void test_value_in_many_tokens(void **state)
{
	(void)state;
	eas_buf doc;
	eas_wbxml_encoder *e;
	eas_buf_init(&doc, NULL, 0);
	assert_int_equal(eas_wbxml_encoder_new(&e, eas_buf_sink, &doc, EAS_PROTO_ALL, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_ITEMOPERATIONS_ITEM_OPERATIONS), 0);
	assert_int_equal(eas_wbxml_encoder_start(e, EAS_TAG_ITEMOPERATIONS_DATA), 0);
	static char chunk[2048];
	memset(chunk, 'Q', sizeof chunk);
	for (int i = 0; i < 512; i++)
		assert_int_equal(eas_wbxml_encoder_string(e, chunk, sizeof chunk), 0);
	assert_int_equal(eas_wbxml_encoder_opaque(e, (const uint8_t *)"!", 1), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_end(e), 0);
	assert_int_equal(eas_wbxml_encoder_finish(e), 0);
	eas_wbxml_encoder_free(e);
	eas_tree *t = NULL;
	char err[160];
	assert_int_equal(eas_tree_parse(&t, doc.data, doc.len, 2u << 20, NULL, err, sizeof err), 0);
	const eas_node *data = eas_node_child(eas_tree_root(t), EAS_TAG_ITEMOPERATIONS_DATA);
	assert_int_equal(data->text_len, 512 * 2048 + 1);
	assert_int_equal(data->text[0], 'Q');
	assert_int_equal(data->text[data->text_len - 1], '!');
	assert_true(data->opaque);
	eas_tree_free(t);
	eas_buf_free(&doc);
}

static void test_buffer_cap(void **state)
{
	(void)state;
	eas_buf b;
	eas_buf_init(&b, NULL, 10);
	assert_int_equal(eas_buf_append_str(&b, "hello"), 0);
	assert_int_equal(eas_buf_append_str(&b, "world"), 0);
	assert_int_equal(eas_buf_append_str(&b, "!"), EAS_E_LIMIT);
	assert_int_equal(eas_buf_append_str(&b, ""), EAS_E_LIMIT); /* sticky */
	assert_int_equal(b.len, 10);
	assert_memory_equal(b.data, "helloworld", 10);
	size_t len = 0;
	uint8_t *d = eas_buf_steal(&b, &len);
	assert_int_equal(len, 10);
	assert_null(b.data);
	free(d);
	eas_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walks_a_document),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_every_split_and_every_failing_allocation),
		cmocka_unit_test(test_memory_limit_and_errors),
		cmocka_unit_test(test_value_in_many_tokens),
		cmocka_unit_test(test_buffer_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
