/*
 * libFuzzer target: the streaming Sync response parser (commands/sync.c) and,
 * through the items it delivers, the Email class decoder.
 *
 * Every input is parsed four times: whole; split in two at a position taken
 * from its first bytes; in small pseudo-random chunks with every callback
 * pausing; and one byte at a time with a tiny big-value threshold.  Checks:
 *
 *   - callbacks nest: collection_begin, then items, then collection_end;
 *     items only inside a collection; begin and end counts agree when the
 *     parse succeeds, and agree with the summary;
 *   - an item's ApplicationData, when delivered, is a complete standalone
 *     WBXML document no larger than max_item (it parses as a tree);
 *   - big values come with offsets that add up, and only over the threshold;
 *   - every error has a message; the first three runs (same threshold) agree
 *     on the result, the message and a digest of everything reported;
 *   - nothing leaks (the allocator counts live blocks).
 *
 * A broken invariant aborts with the line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands/sync.h"
#include "eas/email.h"
#include "wbxml/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                       \
	do {                                                                              \
		if (!(cond)) {                                                            \
			fprintf(stderr, "fuzz_sync_response: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                               \
			abort();                                                          \
		}                                                                         \
	} while (0)

/* ---- counting allocator ---- */

static long live_blocks;

static void *m_malloc(size_t n, void *ud)
{
	(void)ud;
	void *p = malloc(n ? n : 1);
	if (p)
		live_blocks++;
	return p;
}

static void *m_realloc(void *ptr, size_t n, void *ud)
{
	(void)ud;
	void *p = realloc(ptr, n ? n : 1);
	if (p && !ptr)
		live_blocks++;
	return p;
}

static void m_free(void *ptr, void *ud)
{
	(void)ud;
	if (ptr) {
		live_blocks--;
		free(ptr);
	}
}

static const eas_mem fuzz_mem = { m_malloc, m_realloc, m_free, NULL };

/* ---- what the callbacks saw ---- */

typedef struct run {
	int pause;
	size_t threshold;
	int in_collection;
	size_t begins, ends, commands, responses;
	size_t coll_commands;
	uint64_t digest;
	uint64_t big_offset;
	int big_open;
} run;

static void mix(run *r, const void *bytes, size_t len)
{
	const uint8_t *b = bytes;
	for (size_t i = 0; i < len; i++)
		r->digest = (r->digest ^ b[i]) * 1099511628211ull;
}

static void mix_str(run *r, const char *s)
{
	mix(r, s ? s : "\x01", s ? strlen(s) + 1 : 1);
}

static int rv(run *r)
{
	return r->pause ? EAS_E_PAUSED : 0;
}

static int cb_begin(const eas_sync_collection *c, void *ud)
{
	run *r = ud;
	CHECK(!r->in_collection);
	CHECK(c->collection_id != NULL);
	r->in_collection = 1;
	r->coll_commands = 0;
	r->begins++;
	mix_str(r, c->collection_id);
	mix_str(r, c->sync_key);
	mix(r, &c->status, sizeof c->status);
	return rv(r);
}

static void check_item(run *r, const eas_sync_item *it)
{
	CHECK(r->in_collection);
	CHECK(!r->big_open);
	mix_str(r, it->server_id);
	mix_str(r, it->client_id);
	mix(r, &it->op, sizeof it->op);
	if (it->data) {
		CHECK(it->has_data);
		CHECK(it->data_len <= 4096);
		mix(r, it->data, it->data_len);
		eas_tree *t = NULL;
		char err[128];
		CHECK(eas_tree_parse(&t, it->data, it->data_len, 0, &fuzz_mem, err, sizeof err) == 0);
		CHECK(eas_tree_root(t)->tag == EAS_TAG_AIRSYNC_APPLICATION_DATA);
		eas_tree_free(t);
		eas_email e;
		int rc = eas_email_decode(&e, it->data, it->data_len, &fuzz_mem, err, sizeof err);
		CHECK(rc == 0 || rc == EAS_E_MALFORMED);
		if (rc == 0) {
			mix_str(r, e.subject);
			for (size_t i = 0; i < e.category_count; i++)
				CHECK(e.categories[i] != NULL);
			for (size_t i = 0; i < e.attachment_count; i++)
				mix_str(r, e.attachments[i].file_reference);
		} else {
			CHECK(e.owner_ == NULL);
		}
		eas_email_clear(&e);
	}
}

static int cb_command(const eas_sync_collection *c, const eas_sync_item *it, void *ud)
{
	run *r = ud;
	(void)c;
	check_item(r, it);
	r->commands++;
	CHECK(c->commands == ++r->coll_commands);
	return rv(r);
}

static int cb_response(const eas_sync_collection *c, const eas_sync_item *it, void *ud)
{
	run *r = ud;
	(void)c;
	check_item(r, it);
	CHECK(it->has_status);
	r->responses++;
	return rv(r);
}

static int cb_end(const eas_sync_collection *c, void *ud)
{
	run *r = ud;
	CHECK(r->in_collection);
	r->in_collection = 0;
	r->ends++;
	mix(r, &c->more_available, sizeof c->more_available);
	return rv(r);
}

static int cb_big(const eas_sync_value *v, const uint8_t *bytes, size_t len, int final, void *ud)
{
	run *r = ud;
	CHECK(r->in_collection);
	CHECK(v->offset == r->big_offset);
	if (v->kind == EAS_WBXML_OPAQUE)
		CHECK(v->total > r->threshold && v->offset + len <= v->total);
	else
		CHECK(v->offset > 0 || len > r->threshold);
	r->big_offset += len;
	r->big_open = !final;
	if (final)
		r->big_offset = 0;
	mix(r, bytes, len);
	return rv(r);
}

/* Parses the input; returns the result and fills the message. */
static int parse(run *r, const uint8_t *data, size_t size, size_t split, unsigned chunk_seed, int bytewise,
		 char *msg, size_t msg_size)
{
	eas_sync_parser_callbacks cb = { EAS_SYNC_PARSER_CALLBACKS_VERSION, cb_begin, cb_command, cb_response,
					 cb_end, cb_big };
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.max_item = 4096;
	opt.big_value_threshold = r->threshold;
	opt.max_value = 1u << 20;
	eas_sync_parser *p = NULL;
	int rc = eas_sync_parser_new(&p, &cb, &opt, &fuzz_mem, r);
	CHECK(rc == 0);
	size_t off = 0;
	unsigned seed = chunk_seed;
	while (off < size) {
		size_t n = size - off;
		if (bytewise)
			n = 1;
		else if (off < split)
			n = split - off;
		else if (chunk_seed) {
			seed = seed * 1103515245u + 12345u;
			size_t c = 1 + (seed >> 16) % 13;
			if (n > c)
				n = c;
		}
		size_t used = 0;
		rc = eas_sync_parser_feed(p, data + off, n, &used);
		CHECK(used <= n);
		off += used;
		if (rc == EAS_E_PAUSED)
			continue;
		if (rc)
			break;
		CHECK(used == n);
	}
	if (rc == 0 || rc == EAS_E_PAUSED) /* the last feed may have paused with everything consumed */
		do
			rc = eas_sync_parser_finish(p);
		while (rc == EAS_E_PAUSED);
	const char *m = eas_sync_parser_error(p, NULL);
	if (rc) {
		CHECK(m != NULL && *m);
		snprintf(msg, msg_size, "%s", m);
		CHECK(eas_sync_parser_feed(p, data, size, NULL) == rc); /* sticky */
	} else {
		const eas_sync_summary *s = eas_sync_parser_summary(p);
		CHECK(!r->in_collection);
		CHECK(r->begins == r->ends);
		CHECK(s->collections == r->ends);
		CHECK(s->commands == r->commands);
		CHECK(s->responses == r->responses);
		CHECK(s->empty == (size == 0));
		msg[0] = '\0';
	}
	eas_sync_parser_free(p);
	CHECK(live_blocks == 0);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t split = size > 1 ? (size_t)((size > 0 ? data[0] : 0) | (size > 1 ? data[1] << 8 : 0)) % size : 0;
	char m1[256], m2[256], m3[256], m4[256];
	run a, b, c, d;
	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	memset(&c, 0, sizeof c);
	memset(&d, 0, sizeof d);
	a.threshold = b.threshold = c.threshold = 64;
	c.pause = 1;
	d.threshold = 3;
	d.pause = 1;
	int r1 = parse(&a, data, size, 0, 0, 0, m1, sizeof m1);
	int r2 = parse(&b, data, size, split, 0, 0, m2, sizeof m2);
	int r3 = parse(&c, data, size, 0, (unsigned)size * 2654435761u + 1u, 0, m3, sizeof m3);
	int r4 = parse(&d, data, size, 0, 0, 1, m4, sizeof m4);
	CHECK(r1 == r2 && r1 == r3);
	CHECK(strcmp(m1, m2) == 0 && strcmp(m1, m3) == 0);
	CHECK(a.digest == b.digest && a.digest == c.digest);
	CHECK(a.begins == c.begins && a.commands == c.commands && a.responses == c.responses);
	/* The tiny threshold streams more, so items may differ, but not what is accepted. */
	CHECK((r4 == 0) == (r1 == 0) || r4 == EAS_E_LIMIT || r1 == EAS_E_LIMIT);
	return 0;
}
