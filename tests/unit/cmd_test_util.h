/*
 * Shared checks for the command-module tests (header only: static inline,
 * so a test that uses a part of it does not warn about the rest).
 *
 *  - cmdt_each_split: builds the tree of a WBXML document fed in two pieces
 *    cut at every byte boundary and runs `check` on each root;
 *  - cmdt_each_failing_alloc_decode: parses with the Nth allocation failing
 *    for every N until one succeeds, then runs `check`; no block may leak;
 *  - cmdt_each_failing_alloc_encode: the same for an encoder and its
 *    output buffer; the successful output must equal the plain one.
 */
#ifndef EAS_TESTS_CMD_TEST_UTIL_H
#define EAS_TESTS_CMD_TEST_UTIL_H

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
#include "xmldoc.h"

#define CMDT_PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"

#if defined(__GNUC__)
#define CMDT_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CMDT_PRINTF(a, b)
#endif

typedef void (*cmdt_check_fn)(const eas_node *root, const void *arg);
typedef int (*cmdt_encode_fn)(eas_wbxml_encoder *enc, const void *arg);

static inline void cmdt_each_split(const char *xml, cmdt_check_fn check, const void *arg)
{
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	for (size_t cut = 0; cut <= doc.len; cut++) {
		eas_tree *t = NULL;
		assert_int_equal(eas_tree_new(&t, 0, NULL, NULL), 0);
		assert_int_equal(eas_tree_feed(t, doc.data, cut), 0);
		assert_int_equal(eas_tree_feed(t, doc.data + cut, doc.len - cut), 0);
		assert_int_equal(eas_tree_finish(t), 0);
		check(eas_tree_root(t), arg);
		eas_tree_free(t);
	}
	eas_buf_free(&doc);
}

static inline void cmdt_each_failing_alloc_decode(const char *xml, cmdt_check_fn check, const void *arg)
{
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	int done = 0;
	for (long n = 0; !done; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		eas_tree *t = NULL;
		int rc = eas_tree_parse(&t, doc.data, doc.len, 0, &m, NULL, 0);
		if (rc == 0) {
			check(eas_tree_root(t), arg);
			eas_tree_free(t);
			done = 1;
		} else {
			assert_int_equal(rc, EAS_E_NOMEM);
			assert_null(t);
		}
		assert_int_equal(tm.live_blocks, 0);
		assert_true(n < 1000);
	}
	eas_buf_free(&doc);
}

static inline void cmdt_each_failing_alloc_encode(cmdt_encode_fn encode, const void *arg, unsigned version)
{
	eas_buf plain;
	eas_buf_init(&plain, NULL, 0);
	eas_wbxml_encoder *enc = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &plain, version, NULL), 0);
	assert_int_equal(encode(enc, arg), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	int done = 0;
	for (long n = 0; !done; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		eas_buf out;
		eas_buf_init(&out, &m, 0);
		enc = NULL;
		int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, version, &m);
		if (rc == 0)
			rc = encode(enc, arg);
		if (rc == 0)
			rc = eas_wbxml_encoder_finish(enc);
		if (rc == 0) {
			assert_int_equal(out.len, plain.len);
			assert_memory_equal(out.data, plain.data, plain.len);
			done = 1;
		} else {
			/* the sink's failure surfaces as the encoder's own error code */
			assert_true(rc == EAS_E_NOMEM || rc == EAS_E_IO || rc == EAS_E_CALLBACK);
		}
		eas_wbxml_encoder_free(enc);
		eas_buf_free(&out);
		assert_int_equal(tm.live_blocks, 0);
		assert_true(n < 1000);
	}
	eas_buf_free(&plain);
}

/* Encodes at `version` and returns the encoder's result (the output is dropped). */
static inline int cmdt_encode_rc(cmdt_encode_fn encode, const void *arg, unsigned version)
{
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc = NULL;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, version, NULL), 0);
	int rc = encode(enc, arg);
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&out);
	return rc;
}

/* Expects decode(root) to fail with EAS_E_MALFORMED and a message containing `needle`. */
#define CMDT_EXPECT_MALFORMED(call, err, needle)                                                 \
	do {                                                                                     \
		(err)[0] = '\0';                                                                 \
		int cmdt_rc_ = (call);                                                           \
		if (cmdt_rc_ != EAS_E_MALFORMED)                                                 \
			fail_msg("%s: got %d, expected EAS_E_MALFORMED", #call, cmdt_rc_);       \
		if (!strstr((err), (needle)))                                                    \
			fail_msg("%s: message '%s' lacks '%s'", #call, (err), (needle));         \
	} while (0)

#endif
