/*
 * libFuzzer target: the Provision response decoder (commands/provision.c)
 * and its protocol 2.5 MS-WAP-Provisioning-XML policy parser.
 *
 * The input is used twice:
 *   - as WBXML: eas_tree_parse, then eas_provision_response_decode.  What
 *     decodes is encoded again (eas_provision_response_encode, every
 *     version allowed), parsed and decoded again, and the key fields must
 *     agree: statuses, DeviceInformation, PolicyType, PolicyKey, the kind of
 *     Data, the WAP XML text, the wipe flags and the whole policy (present
 *     and empty bits, every scalar, both application lists).  The decode
 *     runs once more with the Nth allocation failing (N from the input):
 *     the result must be 0 or EAS_E_NOMEM, and nothing may leak.
 *   - as XML: eas_provision_wap_policy_parse.  A policy that parses is
 *     written back (eas_provision_wap_policy_write) and parsed again: every
 *     element the first parse found has the same state and value; of those
 *     it did not find only the two SecurityPolicy parms the writer always
 *     emits (4131, 4133) may appear, holding their defaults.  Also run with
 *     the Nth allocation failing.
 * Every error must come with a message.  A broken invariant aborts with the
 * line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/provision.h"
#include "common/buf.h"
#include "eas/policy.h"
#include "eas/wbxml.h"
#include "wbxml/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                             \
	do {                                                                                    \
		if (!(cond)) {                                                                  \
			fprintf(stderr, "fuzz_provision_response: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                                     \
			abort();                                                                \
		}                                                                               \
	} while (0)

/* ---- an allocator that counts live blocks and fails the Nth call ---------- */

typedef struct failmem {
	long calls;
	long fail_at; /* -1: never */
	long failed;
	long live;
} failmem;

static int fm_fail(failmem *fm)
{
	if (fm->calls++ == fm->fail_at) {
		fm->failed++;
		return 1;
	}
	return 0;
}

static void *fm_malloc(size_t size, void *ud)
{
	failmem *fm = ud;
	if (fm_fail(fm))
		return NULL;
	void *p = malloc(size ? size : 1);
	if (p)
		fm->live++;
	return p;
}

static void *fm_realloc(void *ptr, size_t size, void *ud)
{
	failmem *fm = ud;
	if (fm_fail(fm))
		return NULL;
	void *p = realloc(ptr, size ? size : 1);
	if (p && !ptr)
		fm->live++;
	return p;
}

static void fm_free(void *ptr, void *ud)
{
	failmem *fm = ud;
	if (ptr)
		fm->live--;
	free(ptr);
}

static uint64_t fnv(const uint8_t *data, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= data[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

/* ---- comparisons ------------------------------------------------------------ */

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int is_list(eas_policy_id id)
{
	return id == EAS_POLICY_APPROVED_APPLICATION_LIST || id == EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST;
}

static void check_same_list(const char *const *a, size_t na, const char *const *b, size_t nb)
{
	CHECK(na == nb);
	for (size_t i = 0; i < na; i++) {
		CHECK(a[i] && b[i]);
		CHECK(strcmp(a[i], b[i]) == 0);
	}
}

static void check_same_policy(const eas_policy *a, const eas_policy *b)
{
	CHECK(a->present == b->present);
	CHECK(a->empty == b->empty);
	for (int id = 0; id < EAS_POLICY_ID_COUNT; id++) {
		if (is_list((eas_policy_id)id))
			continue;
		int64_t va = 0, vb = 0;
		CHECK(eas_policy_get(a, (eas_policy_id)id, &va) == 0);
		CHECK(eas_policy_get(b, (eas_policy_id)id, &vb) == 0);
		CHECK(va == vb);
	}
	check_same_list(a->approved_applications, a->approved_application_count, b->approved_applications,
			b->approved_application_count);
	check_same_list(a->unapproved_in_rom_applications, a->unapproved_in_rom_application_count,
			b->unapproved_in_rom_applications, b->unapproved_in_rom_application_count);
}

static void check_same_response(const eas_provision_response *a, const eas_provision_response *b)
{
	CHECK(a->status == b->status);
	CHECK(a->has_device_info == b->has_device_info);
	if (a->has_device_info)
		CHECK(a->device_info_status == b->device_info_status);
	CHECK(a->has_policy == b->has_policy);
	if (a->has_policy) {
		CHECK(same_str(a->policy_type, b->policy_type));
		CHECK(a->policy_status == b->policy_status);
		CHECK(same_str(a->policy_key, b->policy_key));
	}
	CHECK(a->data == b->data);
	if (a->data == EAS_PROVISION_DATA_WAP_XML) {
		CHECK(a->wap_xml && b->wap_xml);
		CHECK(a->wap_xml_len == b->wap_xml_len);
		CHECK(memcmp(a->wap_xml, b->wap_xml, a->wap_xml_len) == 0);
	}
	check_same_policy(&a->policy, &b->policy);
	CHECK(!a->remote_wipe == !b->remote_wipe);
	CHECK(!a->account_only_remote_wipe == !b->account_only_remote_wipe);
}

/* ---- WBXML: the response decoder -------------------------------------------- */

/* Tree + decode of a WBXML document; *tree must be freed after clearing *r. */
static int decode(eas_tree **tree, eas_provision_response *r, const uint8_t *data, size_t size,
		  const eas_mem *mem, char *err, size_t err_size)
{
	eas_provision_response_init(r);
	err[0] = '\0';
	int rc = eas_tree_parse(tree, data, size, 0, mem, err, err_size);
	if (rc != 0) {
		CHECK(*tree == NULL);
		CHECK(rc < 0);
		CHECK(err[0] != '\0' || rc == EAS_E_NOMEM);
		return rc;
	}
	CHECK(*tree != NULL);
	const eas_node *root = eas_tree_root(*tree);
	CHECK(root != NULL);
	rc = eas_provision_response_decode(r, root, mem, err, err_size);
	if (rc != 0) {
		CHECK(rc < 0);
		CHECK(err[0] != '\0' || rc == EAS_E_NOMEM);
		/* Nothing owned is left behind on failure. */
		CHECK(r->policy.storage_ == NULL);
	}
	return rc;
}

static void fuzz_response(const uint8_t *data, size_t size, uint64_t h)
{
	char err[256];
	eas_tree *tree = NULL;
	eas_provision_response r;
	failmem counting = { 0, -1, 0, 0 };
	eas_mem cm = { fm_malloc, fm_realloc, fm_free, &counting };
	int rc = decode(&tree, &r, data, size, &cm, err, sizeof err);
	long calls = counting.calls;
	if (rc == 0) {
		/* Encode again, then decode that. */
		eas_buf wb;
		eas_buf_init(&wb, NULL, 0);
		eas_wbxml_encoder *enc = NULL;
		CHECK(eas_wbxml_encoder_new(&enc, eas_buf_sink, &wb, EAS_PROTO_ALL, NULL) == 0);
		int erc = eas_provision_response_encode(enc, &r);
		if (erc == 0)
			erc = eas_wbxml_encoder_finish(enc);
		eas_wbxml_encoder_free(enc);
		if (erc != 0)
			fprintf(stderr, "fuzz_provision_response: a decoded response does not encode: %s\n",
				eas_strerror(erc));
		CHECK(erc == 0);
		eas_tree *tree2 = NULL;
		eas_provision_response r2;
		char err2[256];
		int rc2 = decode(&tree2, &r2, wb.data, wb.len, NULL, err2, sizeof err2);
		if (rc2 != 0)
			fprintf(stderr, "fuzz_provision_response: re-encoded response does not decode: %s\n", err2);
		CHECK(rc2 == 0);
		check_same_response(&r, &r2);
		eas_provision_response_clear(&r2);
		eas_tree_free(tree2);
		eas_buf_free(&wb);
		eas_provision_response_clear(&r);
	}
	eas_tree_free(tree);
	CHECK(counting.live == 0);

	/* The same with one allocation failing. */
	failmem fm = { 0, calls ? (long)(h % (uint64_t)calls) : -1, 0, 0 };
	eas_mem m = { fm_malloc, fm_realloc, fm_free, &fm };
	tree = NULL;
	int frc = decode(&tree, &r, data, size, &m, err, sizeof err);
	if (fm.failed) {
		CHECK(frc == EAS_E_NOMEM || frc == rc);
	} else {
		CHECK(frc == rc);
	}
	if (frc == 0)
		eas_provision_response_clear(&r);
	eas_tree_free(tree);
	CHECK(fm.live == 0);
}

/* ---- XML: the protocol 2.5 policy ------------------------------------------- */

static void fuzz_wap(const uint8_t *data, size_t size, uint64_t h)
{
	char err[256] = "";
	eas_policy p1;
	failmem counting = { 0, -1, 0, 0 };
	eas_mem cm = { fm_malloc, fm_realloc, fm_free, &counting };
	int rc = eas_provision_wap_policy_parse(&p1, (const char *)data, size, &cm, err, sizeof err);
	CHECK(counting.live == 0);
	long calls = counting.calls;
	if (rc != 0) {
		CHECK(rc < 0);
		CHECK(err[0] != '\0');
		CHECK(p1.present == 0);
	} else {
		/* Write it back and read that. */
		eas_buf xb;
		eas_buf_init(&xb, NULL, 0);
		CHECK(eas_provision_wap_policy_write(&xb, &p1) == 0);
		eas_policy p2;
		char err2[256] = "";
		int rc2 = eas_provision_wap_policy_parse(&p2, (const char *)xb.data, xb.len, NULL, err2, sizeof err2);
		if (rc2 != 0)
			fprintf(stderr, "fuzz_provision_response: written WAP policy does not parse: %s\n", err2);
		CHECK(rc2 == 0);
		eas_policy defaults;
		eas_policy_init(&defaults);
		for (int id = 0; id < EAS_POLICY_ID_COUNT; id++) {
			if (is_list((eas_policy_id)id))
				continue;
			eas_policy_state s1 = eas_policy_state_of(&p1, (eas_policy_id)id);
			eas_policy_state s2 = eas_policy_state_of(&p2, (eas_policy_id)id);
			int64_t v1 = 0, v2 = 0;
			CHECK(eas_policy_get(&p1, (eas_policy_id)id, &v1) == 0);
			CHECK(eas_policy_get(&p2, (eas_policy_id)id, &v2) == 0);
			if (s1 != EAS_POLICY_ABSENT || (id != EAS_POLICY_DEVICE_PASSWORD_ENABLED &&
							id != EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER)) {
				CHECK(s1 == s2);
				CHECK(v1 == v2);
			} else {
				int64_t d = 0;
				CHECK(eas_policy_get(&defaults, (eas_policy_id)id, &d) == 0);
				CHECK(v2 == d);
			}
		}
		eas_buf_free(&xb);
	}

	/* One allocation failing: out of memory, or the same answer. */
	failmem fm = { 0, calls ? (long)((h >> 17) % (uint64_t)calls) : -1, 0, 0 };
	eas_mem m = { fm_malloc, fm_realloc, fm_free, &fm };
	eas_policy p3;
	int frc = eas_provision_wap_policy_parse(&p3, (const char *)data, size, &m, err, sizeof err);
	CHECK(fm.live == 0);
	if (fm.failed)
		CHECK(frc == EAS_E_NOMEM || frc == rc);
	else
		CHECK(frc == rc);
	if (frc == 0 && rc == 0)
		check_same_policy(&p1, &p3);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fnv(data, size);
	fuzz_response(data, size, h);
	fuzz_wap(data, size, h);
	return 0;
}
