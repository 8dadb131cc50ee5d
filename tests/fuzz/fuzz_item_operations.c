/*
 * libFuzzer target: the streaming ItemOperations response parser
 * (commands/item_operations.h), the client's path for attachments.
 *
 * The input is a WBXML document.  It is parsed whole, split in two at a
 * position taken from its bytes, and in small chunks with every callback
 * pausing.  Checks:
 *   - how the input is split or paused never changes the events, the
 *     result or the error message;
 *   - every Data value ends with exactly one final piece, pieces never
 *     exceed the decoder's piece size, and a result's data_len is the sum
 *     of its Data pieces;
 *   - an error comes with a message and is sticky;
 *   - with the Nth allocation failing the parser fails cleanly (no leak:
 *     LeakSanitizer) or gives the same events.
 * A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/item_operations.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c)) {                                                                        \
			fprintf(stderr, "fuzz_item_operations: check failed at line %d: %s\n", __LINE__, #c); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#define PIECE 64u

/* A running hash of the events, and the Data bookkeeping. */
typedef struct run {
	uint64_t hash;
	int pause;
	int in_data;        /* a Data value is open (no final piece yet) */
	uint64_t data_sum;  /* bytes of the current ItemOperations:Data */
	uint64_t last_io;   /* bytes of the last finished ItemOperations:Data */
	unsigned events;
} run;

static void mix(run *r, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	for (size_t i = 0; i < len; i++)
		r->hash = (r->hash ^ b[i]) * 0x100000001B3ull;
}

static void mix_str(run *r, const char *s)
{
	mix(r, s ? s : "\x01", s ? strlen(s) + 1 : 1);
}

static int answer(run *r)
{
	r->events++;
	return r->pause ? EAS_E_PAUSED : 0;
}

static int on_status(uint32_t status, void *ud)
{
	run *r = ud;
	mix(r, "S", 1);
	mix(r, &status, sizeof status);
	return answer(r);
}

static int on_property(const eas_itemops_fetch_result *f, eas_tag parent, eas_tag tag, const uint8_t *value, size_t len,
		       int opaque, void *ud)
{
	run *r = ud;
	(void)f;
	CHECK(!r->in_data);
	mix(r, "P", 1);
	mix(r, &parent, sizeof parent);
	mix(r, &tag, sizeof tag);
	mix(r, &opaque, sizeof opaque);
	if (value)
		mix(r, value, len);
	else
		CHECK(len == 0);
	return answer(r);
}

static int on_data(const eas_itemops_fetch_result *f, eas_tag tag, const uint8_t *bytes, size_t len, int final,
		   void *ud)
{
	run *r = ud;
	(void)f;
	CHECK(tag == EAS_TAG_ITEMOPERATIONS_DATA || tag == EAS_TAG_AIRSYNCBASE_DATA);
	CHECK(len <= PIECE);
	CHECK(final || len > 0);
	if (!r->in_data)
		r->data_sum = 0;
	r->in_data = !final;
	r->data_sum += len;
	/* the hash sees the bytes, not how they were cut */
	mix(r, bytes, len);
	if (final) {
		mix(r, "D", 1);
		mix(r, &tag, sizeof tag);
		if (tag == EAS_TAG_ITEMOPERATIONS_DATA)
			r->last_io = r->data_sum;
	}
	return answer(r);
}

static int on_result(const eas_itemops_result *res, void *ud)
{
	run *r = ud;
	CHECK(!r->in_data);
	mix(r, "R", 1);
	mix(r, &res->kind, sizeof res->kind);
	if (res->kind == EAS_ITEMOPS_FETCH) {
		const eas_itemops_fetch_result *f = &res->fetch;
		CHECK(f->status != 0);
		CHECK(f->data == NULL);
		if (f->has_data)
			CHECK(f->data_len == r->last_io);
		mix(r, &f->status, sizeof f->status);
		mix_str(r, f->collection_id);
		mix_str(r, f->server_id);
		mix_str(r, f->long_id);
		mix_str(r, f->file_reference);
		mix_str(r, f->link_id);
		mix_str(r, f->class_name);
		mix_str(r, f->range);
		mix_str(r, f->version);
		uint32_t nums[] = { (uint32_t)f->has_total, f->total, (uint32_t)f->has_part, f->part,
				    (uint32_t)f->has_data, (uint32_t)f->data_len, (uint32_t)f->data_opaque,
				    (uint32_t)f->has_properties };
		mix(r, nums, sizeof nums);
	} else if (res->kind == EAS_ITEMOPS_EMPTY_FOLDER_CONTENTS) {
		mix(r, &res->empty_folder.status, sizeof res->empty_folder.status);
		mix_str(r, res->empty_folder.collection_id);
	} else {
		CHECK(res->kind == EAS_ITEMOPS_MOVE);
		mix(r, &res->move.status, sizeof res->move.status);
		if (res->move.conversation_id)
			mix(r, res->move.conversation_id, res->move.conversation_id_len);
	}
	return answer(r);
}

static const eas_itemops_callbacks callbacks = { EAS_ITEMOPS_CALLBACKS_VERSION, on_status, on_property, on_data,
						 on_result };

typedef struct outcome {
	int rc;
	uint64_t hash;
	char message[200];
} outcome;

/* Feeds data in pieces of `step` bytes (0: two pieces cut at `cut`). */
static void parse(const uint8_t *data, size_t size, size_t cut, size_t step, int pause, const eas_mem *mem,
		  outcome *out)
{
	run r;
	memset(&r, 0, sizeof r);
	r.hash = 0xcbf29ce484222325ull;
	r.pause = pause;
	eas_wbxml_decoder_options opt = EAS_WBXML_DECODER_OPTIONS_INIT;
	opt.piece_size = PIECE;
	opt.max_total = 1u << 20;
	eas_item_operations_parser *p = NULL;
	int rc = eas_item_operations_parser_new(&p, &callbacks, 256, &opt, mem, &r);
	if (rc) {
		CHECK(rc == EAS_E_NOMEM && mem);
		out->rc = rc;
		return;
	}
	size_t at = 0;
	unsigned guard = 0;
	while (rc == 0 && at < size) {
		size_t n = step ? (size - at < step ? size - at : step) : (at < cut ? cut - at : size - at);
		size_t used = 0;
		rc = eas_item_operations_parser_feed(p, data + at, n, &used);
		CHECK(used <= n);
		at += used;
		if (rc == EAS_E_PAUSED)
			rc = 0;
		CHECK(++guard < 4 * size + 64);
	}
	if (rc == 0)
		rc = eas_item_operations_parser_finish(p);
	out->rc = rc;
	out->hash = r.hash;
	out->message[0] = '\0';
	if (rc) {
		const char *m = eas_item_operations_parser_error(p);
		CHECK(m != NULL && m[0]);
		snprintf(out->message, sizeof out->message, "%s", m);
		CHECK(eas_item_operations_parser_feed(p, data, size, NULL) == rc);
		CHECK(eas_item_operations_parser_finish(p) == rc);
	} else {
		CHECK(!r.in_data);
	}
	eas_item_operations_parser_free(p);
}

typedef struct failmem {
	long fail_at, calls;
} failmem;

static void *fm_malloc(size_t size, void *ud)
{
	failmem *m = ud;
	return m->calls++ == m->fail_at ? NULL : malloc(size);
}

static void *fm_realloc(void *ptr, size_t size, void *ud)
{
	failmem *m = ud;
	return m->calls++ == m->fail_at ? NULL : realloc(ptr, size);
}

static void fm_free(void *ptr, void *ud)
{
	(void)ud;
	free(ptr);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65536)
		return 0;
	outcome whole, split, chunked;
	parse(data, size, 0, 0, 0, NULL, &whole);
	size_t cut = size ? (size_t)(data[0] | (size > 1 ? data[1] << 8 : 0)) % (size + 1) : 0;
	parse(data, size, cut, 0, 0, NULL, &split);
	parse(data, size, 0, 1 + (size ? data[size - 1] % 13 : 0), 1, NULL, &chunked);
	CHECK(whole.rc == split.rc && whole.rc == chunked.rc);
	CHECK(whole.hash == split.hash && whole.hash == chunked.hash);
	CHECK(strcmp(whole.message, split.message) == 0 && strcmp(whole.message, chunked.message) == 0);
	/* One failing allocation somewhere in the run: a clean NOMEM, or the same outcome. */
	failmem fm = { (long)(size % 7), 0 };
	eas_mem mem = { fm_malloc, fm_realloc, fm_free, &fm };
	outcome failing;
	parse(data, size, 0, 0, 0, &mem, &failing);
	CHECK(failing.rc == EAS_E_NOMEM || (failing.rc == whole.rc && failing.hash == whole.hash));
	return 0;
}
