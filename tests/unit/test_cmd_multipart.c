/* MS-ASAcceptMultiPart framing: writer, whole-body and streaming parsers (every split, pause, failures). */
#include "cmd_test_util.h"

#include "commands/multipart.h"

/* Events of the streaming parser, written as text: "H3 B0:5 D0:WBXML E0 ..." */
typedef struct events {
	eas_buf log;
	int pause_every; /* return EAS_E_PAUSED from every callback when set */
	int fail_on;     /* return -1 from the nth callback (1-based) when > 0 */
	int calls;
} events;

static int note(events *ev, const char *text, size_t len)
{
	assert_int_equal(eas_buf_append(&ev->log, text, len), 0);
	ev->calls++;
	if (ev->fail_on && ev->calls == ev->fail_on)
		return -1;
	return ev->pause_every ? EAS_E_PAUSED : 0;
}

static int on_header(uint32_t count, void *ud)
{
	char t[32];
	int n = snprintf(t, sizeof t, "H%lu ", (unsigned long)count);
	return note(ud, t, (size_t)n);
}

static int on_begin(uint32_t index, uint32_t length, void *ud)
{
	char t[40];
	int n = snprintf(t, sizeof t, "B%lu:%lu ", (unsigned long)index, (unsigned long)length);
	return note(ud, t, (size_t)n);
}

static int on_data(uint32_t index, const uint8_t *bytes, size_t len, void *ud)
{
	events *ev = ud;
	char t[24];
	int n = snprintf(t, sizeof t, "D%lu:", (unsigned long)index);
	assert_int_equal(eas_buf_append(&ev->log, t, (size_t)n), 0);
	assert_int_equal(eas_buf_append(&ev->log, bytes, len), 0);
	return note(ev, " ", 1);
}

static int on_end(uint32_t index, void *ud)
{
	char t[24];
	int n = snprintf(t, sizeof t, "E%lu ", (unsigned long)index);
	return note(ud, t, (size_t)n);
}

static const eas_multipart_callbacks callbacks = { EAS_MULTIPART_CALLBACKS_VERSION, on_header, on_begin, on_data,
						   on_end };

/* Joins consecutive data events of one part so that logs of different splits compare equal. */
static char *normalise(const eas_buf *log)
{
	char *out = malloc(log->len + 1);
	assert_non_null(out);
	size_t o = 0;
	const char *s = (const char *)log->data;
	size_t i = 0;
	char cur[24] = "";
	while (i < log->len) {
		if (s[i] == 'D') {
			size_t colon = i;
			while (s[colon] != ':')
				colon++;
			char tag[24];
			snprintf(tag, sizeof tag, "%.*s", (int)(colon - i), s + i);
			size_t end = colon + 1;
			/* data runs to the " " that note() appended; bytes themselves may hold spaces, so
			 * the test parts avoid them */
			while (end < log->len && s[end] != ' ')
				end++;
			if (strcmp(tag, cur) != 0) {
				memcpy(out + o, s + i, colon + 1 - i);
				o += colon + 1 - i;
				snprintf(cur, sizeof cur, "%s", tag);
			} else if (o && out[o - 1] == ' ') {
				o--; /* continue the previous run */
			}
			memcpy(out + o, s + colon + 1, end - colon - 1);
			o += end - colon - 1;
			out[o++] = ' ';
			i = end + 1;
		} else {
			cur[0] = '\0';
			while (i < log->len && s[i] != ' ')
				out[o++] = s[i++];
			out[o++] = ' ';
			i++;
		}
	}
	out[o] = '\0';
	return out;
}

/* Streams body in pieces of `step` bytes (0: two pieces cut at `cut`); returns feed/finish's result. */
static int stream(const uint8_t *body, size_t len, size_t cut, size_t step, uint32_t max_parts, events *ev)
{
	eas_multipart_parser *p = NULL;
	assert_int_equal(eas_multipart_parser_new(&p, &callbacks, max_parts, NULL, ev), 0);
	int rc = 0;
	size_t at = 0;
	while (rc == 0 && at < len) {
		size_t n = step ? (len - at < step ? len - at : step) : (at < cut ? cut - at : len - at);
		size_t used = 0;
		rc = eas_multipart_parser_feed(p, body + at, n, &used);
		at += used;
		if (rc == EAS_E_PAUSED) /* resume with the rest of the window */
			rc = 0;
	}
	if (rc == 0) {
		rc = eas_multipart_parser_finish(p);
		while (rc == EAS_E_PAUSED)
			rc = eas_multipart_parser_finish(p);
	}
	if (rc)
		assert_non_null(eas_multipart_parser_error(p));
	eas_multipart_parser_free(p);
	return rc;
}

static void build(eas_buf *out, const char *const *parts, uint32_t count)
{
	uint64_t lengths[8];
	uint8_t header[4 + 8 * 8];
	for (uint32_t i = 0; i < count; i++)
		lengths[i] = strlen(parts[i]);
	assert_int_equal(eas_multipart_header_encode(header, sizeof header, lengths, count), 0);
	eas_buf_init(out, NULL, 0);
	assert_int_equal(eas_buf_append(out, header, (size_t)EAS_MULTIPART_HEADER_SIZE(count)), 0);
	for (uint32_t i = 0; i < count; i++)
		assert_int_equal(eas_buf_append_str(out, parts[i]), 0);
}

static void test_writer_and_whole_parser(void **state)
{
	(void)state;
	static const char *const parts[] = { "<wbxml>", "Hello,world!", "", "attachment-2" };
	eas_buf body;
	build(&body, parts, 4);
	assert_int_equal(body.len, 4 + 32 + 7 + 12 + 0 + 12);
	/* count, then (offset, length) little-endian */
	static const uint8_t head[] = { 4, 0, 0, 0, 36, 0, 0, 0, 7, 0, 0, 0, 43, 0, 0, 0, 12, 0, 0, 0,
					55, 0, 0, 0, 0, 0, 0, 0, 55, 0, 0, 0, 12, 0, 0, 0 };
	assert_memory_equal(body.data, head, sizeof head);
	eas_multipart_view v;
	char err[160];
	assert_int_equal(eas_multipart_parse(&v, body.data, body.len, 0, err, sizeof err), 0);
	assert_int_equal(v.count, 4);
	for (uint32_t i = 0; i < 4; i++) {
		const uint8_t *b;
		size_t n;
		assert_int_equal(eas_multipart_part(&v, i, &b, &n), 0);
		assert_int_equal(n, strlen(parts[i]));
		assert_memory_equal(b, parts[i], n);
	}
	const uint8_t *b;
	size_t n;
	assert_int_equal(eas_multipart_part(&v, 4, &b, &n), EAS_E_NOTFOUND);

	/* Writer refusals. */
	uint64_t lengths[2] = { 1, 2 };
	uint8_t small[8];
	assert_int_equal(eas_multipart_header_encode(small, sizeof small, lengths, 2), EAS_E_INVALID);
	assert_int_equal(eas_multipart_header_encode(small, sizeof small, lengths, 0), EAS_E_INVALID);
	uint8_t big[20];
	lengths[1] = 0xFFFFFFF0u; /* the body would pass 4 GiB */
	assert_int_equal(eas_multipart_header_encode(big, sizeof big, lengths, 2), EAS_E_LIMIT);
	eas_buf_free(&body);
}

static void test_streaming_every_split_and_pause(void **state)
{
	(void)state;
	static const char *const parts[] = { "<wbxml>", "Hello,world!", "", "attachment-2" };
	eas_buf body;
	build(&body, parts, 4);
	const char *expect = "H4 B0:7 D0:<wbxml> E0 B1:12 D1:Hello,world! E1 B2:0 E2 B3:12 D3:attachment-2 E3 ";
	for (size_t cut = 0; cut <= body.len; cut++) {
		for (int pause = 0; pause < 2; pause++) {
			events ev = { .pause_every = pause };
			eas_buf_init(&ev.log, NULL, 0);
			assert_int_equal(stream(body.data, body.len, cut, 0, 0, &ev), 0);
			char *got = normalise(&ev.log);
			assert_string_equal(got, expect);
			free(got);
			eas_buf_free(&ev.log);
		}
	}
	events ev = { 0 };
	eas_buf_init(&ev.log, NULL, 0);
	assert_int_equal(stream(body.data, body.len, 0, 1, 0, &ev), 0); /* byte by byte */
	char *got = normalise(&ev.log);
	assert_string_equal(got, expect);
	free(got);
	eas_buf_free(&ev.log);
	eas_buf_free(&body);
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

/* A hand-made body: count, then (offset, length) pairs, then bytes from offset 4 + 8n on. */
static size_t handmade(uint8_t *out, const uint32_t *pairs, uint32_t count, const char *tail)
{
	put32(out, count);
	for (uint32_t i = 0; i < 2 * count; i++)
		put32(out + 4 + 4 * i, pairs[i]);
	size_t n = 4 + 8 * (size_t)count;
	memcpy(out + n, tail, strlen(tail));
	return n + strlen(tail);
}

static void test_any_layout(void **state)
{
	(void)state;
	/* Part 1 first, a gap, part 0, trailing bytes: offsets 20.. */
	uint8_t body[64];
	const uint32_t pairs[] = { 26, 3, 20, 4 };
	size_t len = handmade(body, pairs, 2, "ABCD..xyz--trailing");
	eas_multipart_view v;
	assert_int_equal(eas_multipart_parse(&v, body, len, 0, NULL, 0), 0);
	const uint8_t *b;
	size_t n;
	assert_int_equal(eas_multipart_part(&v, 0, &b, &n), 0);
	assert_memory_equal(b, "xyz", 3);
	assert_int_equal(eas_multipart_part(&v, 1, &b, &n), 0);
	assert_memory_equal(b, "ABCD", 4);
	for (size_t cut = 0; cut <= len; cut++) {
		events ev = { 0 };
		eas_buf_init(&ev.log, NULL, 0);
		assert_int_equal(stream(body, len, cut, 0, 0, &ev), 0);
		char *got = normalise(&ev.log);
		assert_string_equal(got, "H2 B1:4 D1:ABCD E1 B0:3 D0:xyz E0 ");
		free(got);
		eas_buf_free(&ev.log);
	}
}

static void test_bad_bodies_agree(void **state)
{
	(void)state;
	static const struct {
		uint32_t count;
		uint32_t pairs[6];
		const char *tail;
		size_t cut; /* bytes of the body kept (0 = all) */
		int rc;
		const char *message;
	} cases[] = {
		{ 0, { 0 }, "", 0, EAS_E_MALFORMED, "no parts" },
		{ 5, { 0 }, "", 0, EAS_E_LIMIT, "5 parts, more than 4" },
		{ 1, { 8, 1 }, "x", 0, EAS_E_MALFORMED, "inside the 12-byte header" },
		{ 2, { 20, 4, 22, 2 }, "abcdef", 0, EAS_E_MALFORMED, "part 1 overlaps part 0" },
		{ 2, { 20, 0, 18, 4 }, "abcdef", 0, EAS_E_MALFORMED, "inside the 20-byte header" },
		{ 2, { 21, 0, 20, 4 }, "abcdef", 0, EAS_E_MALFORMED, "part 0 overlaps part 1" },
		{ 1, { 12, 5 }, "abc", 0, EAS_E_TRUNCATED, "ends inside a part" },
		{ 2, { 20, 1, 21, 1 }, "ab", 15, EAS_E_TRUNCATED, "ends inside the part table" },
		{ 1, { 12, 1 }, "a", 2, EAS_E_TRUNCATED, "ends inside PartsCount" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t body[64];
		size_t len = handmade(body, cases[i].pairs, cases[i].count, cases[i].tail);
		if (cases[i].count == 5)
			len = 4;
		if (cases[i].cut)
			len = cases[i].cut;
		eas_multipart_view v;
		char err[160] = "";
		int rc = eas_multipart_parse(&v, body, len, 4, err, sizeof err);
		if (rc != cases[i].rc || !strstr(err, cases[i].message))
			fail_msg("case %zu whole: rc %d '%s', expected %d '%s'", i, rc, err, cases[i].rc, cases[i].message);
		for (size_t cut = 0; cut <= len; cut++) {
			events ev = { 0 };
			eas_buf_init(&ev.log, NULL, 0);
			eas_multipart_parser *p = NULL;
			assert_int_equal(eas_multipart_parser_new(&p, &callbacks, 4, NULL, &ev), 0);
			rc = eas_multipart_parser_feed(p, body, cut, NULL);
			if (rc == 0)
				rc = eas_multipart_parser_feed(p, body + cut, len - cut, NULL);
			if (rc == 0)
				rc = eas_multipart_parser_finish(p);
			if (rc != cases[i].rc || !strstr(eas_multipart_parser_error(p), cases[i].message))
				fail_msg("case %zu cut %zu: rc %d '%s'", i, cut, rc, eas_multipart_parser_error(p));
			/* errors are sticky */
			assert_int_equal(eas_multipart_parser_feed(p, body, 1, NULL), rc);
			eas_multipart_parser_free(p);
			eas_buf_free(&ev.log);
		}
	}
}

static void test_callback_abort_and_failing_allocations(void **state)
{
	(void)state;
	static const char *const parts[] = { "w", "data" };
	eas_buf body;
	build(&body, parts, 2);
	for (int n = 1; n <= 8; n++) {
		events ev = { .fail_on = n };
		eas_buf_init(&ev.log, NULL, 0);
		assert_int_equal(stream(body.data, body.len, 0, 3, 0, &ev), EAS_E_CALLBACK);
		eas_buf_free(&ev.log);
	}
	int done = 0;
	for (long n = 0; !done; n++) {
		testmem tm;
		eas_mem m = testmem_init(&tm, n);
		events ev = { 0 };
		eas_buf_init(&ev.log, NULL, 0);
		eas_multipart_parser *p = NULL;
		int rc = eas_multipart_parser_new(&p, &callbacks, 0, &m, &ev);
		if (rc == 0)
			rc = eas_multipart_parser_feed(p, body.data, body.len, NULL);
		if (rc == 0)
			rc = eas_multipart_parser_finish(p);
		if (rc == 0)
			done = 1;
		else
			assert_int_equal(rc, EAS_E_NOMEM);
		eas_multipart_parser_free(p);
		eas_buf_free(&ev.log);
		assert_int_equal(tm.live_blocks, 0);
		assert_true(n < 10);
	}
	/* Bad arguments. */
	eas_multipart_parser *p = NULL;
	eas_multipart_callbacks old = callbacks;
	old.version = 99;
	assert_int_equal(eas_multipart_parser_new(&p, &old, 0, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_multipart_parser_new(&p, NULL, 0, NULL, NULL), EAS_E_INVALID);
	eas_multipart_view v;
	assert_int_equal(eas_multipart_parse(&v, NULL, 3, 0, NULL, 0), EAS_E_INVALID);
	eas_buf_free(&body);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_writer_and_whole_parser),
		cmocka_unit_test(test_streaming_every_split_and_pause),
		cmocka_unit_test(test_any_layout),
		cmocka_unit_test(test_bad_bodies_agree),
		cmocka_unit_test(test_callback_abort_and_failing_allocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
