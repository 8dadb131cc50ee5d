/*
 * The MIME parser (sdk/src/classes/mime*.c): header fields, RFC 2047 words,
 * charsets, transfer encodings, multipart structure and its limits, dates,
 * address lists, the mapping to eas_email, bad input and failing
 * allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "classes/mime.h"
#include "classes/mime_email.h"
#include "classes/mime_internal.h"
#include "common/buf.h"
#include "eas/email.h"
#include "eas/wbxml.h"
#include "testmem.h"

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
	size_t k = strlen(needle);
	for (size_t i = 0; i + k <= n; i++)
		if (memcmp(hay + i, needle, k) == 0)
			return 1;
	return 0;
}

static int parse(eas_mime_message *m, const char *text, char *err, size_t err_size)
{
	return eas_mime_parse(m, (const uint8_t *)text, strlen(text), NULL, NULL, err, err_size);
}

/* Parses text, which must succeed. */
static void parse_ok(eas_mime_message *m, const char *text)
{
	char err[200] = "";
	int rc = parse(m, text, err, sizeof err);
	if (rc)
		fail_msg("parse failed: %d %s", rc, err);
}

/* ---- simple messages ----------------------------------------------------------------- */

static void test_plain_message(void **state)
{
	(void)state;
	eas_mime_message m;
	parse_ok(&m, "Return-Path: <a@example.test>\r\n"
		     "From: \"Alice Martin\" <alice@example.test>\r\n"
		     "To: bob@example.test, \"Doe, Jane\" <jane@example.test>\r\n"
		     "Cc: Carla <carla@example.test>\r\n"
		     "Subject: Lunch\r\n\ton Friday?\r\n"
		     "Date: Tue, 1 Jul 2003 10:52:37 +0200\r\n"
		     "Message-ID: <abc.123@example.test>\r\n"
		     "Importance: High\r\n"
		     "MIME-Version: 1.0\r\n"
		     "\r\n"
		     "Hello Bob,\r\nsee you.\r\n");
	assert_string_equal(m.from, "Alice Martin <alice@example.test>");
	assert_string_equal(m.to, "bob@example.test, \"Doe, Jane\" <jane@example.test>");
	assert_string_equal(m.cc, "Carla <carla@example.test>");
	assert_null(m.bcc);
	assert_string_equal(m.subject, "Lunch on Friday?"); /* a folding tab is a blank */
	assert_true(m.has_date);
	assert_int_equal(m.date, 1057049557); /* 2003-07-01T08:52:37Z */
	assert_string_equal(m.message_id, "abc.123@example.test");
	assert_true(m.has_importance);
	assert_int_equal(m.importance, 2);
	assert_string_equal(m.text, "Hello Bob,\r\nsee you.\r\n");
	assert_int_equal(m.text_len, strlen(m.text));
	assert_null(m.html);
	assert_int_equal(m.attachment_count, 0);
	assert_string_equal(m.notes, "");
	eas_mime_message_clear(&m);
	assert_null(m.from);
}

/* Bare LF line ends, an mbox "From " line on top, no body, X-Priority. */
static void test_lf_mbox_and_priorities(void **state)
{
	(void)state;
	eas_mime_message m;
	parse_ok(&m, "From alice@example.test Tue Jul  1 10:52:37 2003\nFrom: alice@example.test\nX-Priority: 5 (Lowest)\n"
		     "Subject: no body");
	assert_string_equal(m.from, "alice@example.test");
	assert_string_equal(m.subject, "no body");
	assert_true(m.has_importance);
	assert_int_equal(m.importance, 0);
	assert_string_equal(m.text, ""); /* an empty text body */
	assert_int_equal(m.text_len, 0);
	eas_mime_message_clear(&m);

	parse_ok(&m, "Subject: x\nPriority: urgent\nX-MSMail-Priority: Low\n\nbody\n");
	assert_int_equal(m.importance, 2);
	assert_string_equal(m.text, "body\n");
	eas_mime_message_clear(&m);

	/* a line that is not a field ends the header section: it is body */
	parse_ok(&m, "Subject: x\nthis is not a header\nmore\n");
	assert_string_equal(m.text, "this is not a header\nmore\n");
	eas_mime_message_clear(&m);
}

/* ---- RFC 2047 ----------------------------------------------------------------------------- */

static void test_encoded_words(void **state)
{
	(void)state;
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ "=?UTF-8?Q?caf=C3=A9_cr=C3=A8me?=", "caf\xc3\xa9 cr\xc3\xa8me" },
		{ "=?iso-8859-1?q?caf=E9?= au lait", "caf\xc3\xa9 au lait" },
		{ "Re: =?utf-8?B?w6k=?=", "Re: \xc3\xa9" },
		/* one character split over two base64 words: joined before conversion */
		{ "=?UTF-8?B?4oI=?= =?UTF-8?B?rA==?=", "\xe2\x82\xac" },
		/* blanks between encoded words vanish, next to plain text they stay */
		{ "=?utf-8?q?a?=   =?utf-8?q?b?= c =?utf-8?q?d?=", "ab c d" },
		{ "=?windows-1252?Q?=80_5?=", "\xe2\x82\xac 5" },
		{ "=?utf-8*en?Q?lang?=", "lang" },
		/* malformed words stay as they are */
		{ "=?utf-8?X?abc?= =?utf-8?Q?no end", "=?utf-8?X?abc?= =?utf-8?Q?no end" },
		/* raw 8-bit: UTF-8 when valid, else Windows-1252 */
		{ "caf\xc3\xa9", "caf\xc3\xa9" },
		{ "caf\xe9", "caf\xc3\xa9" },
		/* folding and control characters */
		{ "  a\r\n b\x01" "c  ", "a b c" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_buf b;
		eas_buf_init(&b, NULL, 0);
		assert_int_equal(eas__mime_decode_words(&b, cases[i].in, strlen(cases[i].in), NULL), 0);
		eas_buf_append(&b, "", 1);
		if (strcmp((const char *)b.data, cases[i].out) != 0)
			fail_msg("case %zu: '%s' -> '%s', wanted '%s'", i, cases[i].in, (const char *)b.data, cases[i].out);
		eas_buf_free(&b);
	}
	/* an unknown charset is kept and reported */
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	int kept = 0;
	assert_int_equal(eas__mime_decode_words(&b, "=?koi8-r?Q?=C1?=", 16, &kept), 0);
	assert_true(kept);
	assert_int_equal(b.len, 3); /* U+FFFD */
	eas_buf_free(&b);
}

/* ---- charsets and transfer encodings --------------------------------------------------------- */

static void test_charsets(void **state)
{
	(void)state;
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	/* Windows-1252 and ISO-8859-1 (read as Windows-1252) */
	assert_int_equal(eas__mime_to_utf8(&b, (const uint8_t *)"\x80\xe9\x9f", 3, "\"Windows-1252\"", 14),
			 EAS_MIME_CS_CONVERTED);
	assert_memory_equal(b.data, "\xe2\x82\xac\xc3\xa9\xc5\xb8", 7);
	eas_buf_reset(&b);
	assert_int_equal(eas__mime_to_utf8(&b, (const uint8_t *)"\xfc", 1, "ISO-8859-1", 10), EAS_MIME_CS_CONVERTED);
	assert_memory_equal(b.data, "\xc3\xbc", 2);
	eas_buf_reset(&b);
	/* UTF-8: invalid bytes, overlongs, surrogates and NUL become U+FFFD */
	static const uint8_t bad[] = { 'a', 0xC0, 0xAF, 0xED, 0xA0, 0x80, 0x00, 0xF4, 0x90, 0x80, 0x80, 'z' };
	assert_int_equal(eas__mime_to_utf8(&b, bad, sizeof bad, "utf-8", 5), EAS_MIME_CS_UTF8);
	assert_true(eas__mime_utf8_valid(b.data, b.len));
	assert_null(memchr(b.data, 0, b.len));
	assert_int_equal(b.data[0], 'a');
	assert_int_equal(b.data[b.len - 1], 'z');
	eas_buf_reset(&b);
	/* no charset: a guess */
	assert_int_equal(eas__mime_to_utf8(&b, (const uint8_t *)"\xe9t\xe9", 3, NULL, 0), EAS_MIME_CS_GUESSED);
	assert_memory_equal(b.data, "\xc3\xa9t\xc3\xa9", 5);
	eas_buf_reset(&b);
	/* another charset: kept */
	assert_int_equal(eas__mime_to_utf8(&b, (const uint8_t *)"abc", 3, "shift_jis", 9), EAS_MIME_CS_KEPT);
	assert_memory_equal(b.data, "abc", 3);
	eas_buf_free(&b);
}

static void test_transfer_encodings(void **state)
{
	(void)state;
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	const char *qp = "caf=C3=A9 =\r\nsoft  \r\nhard=3d=3D=\nlast=ZZ=4";
	assert_int_equal(eas__mime_qp(&b, (const uint8_t *)qp, strlen(qp), 0), 0);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "caf\xc3\xa9 soft\r\nhard==last=ZZ=4");
	eas_buf_reset(&b);
	const char *q = "a_b=5Fc";
	assert_int_equal(eas__mime_qp(&b, (const uint8_t *)q, strlen(q), 1), 0);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "a b_c");
	eas_buf_reset(&b);
	size_t bad = 0;
	const char *b64 = "SGVs\r\nbG8s IHdv*cmxk\nIQ==trailing";
	assert_int_equal(eas__mime_base64(&b, (const uint8_t *)b64, strlen(b64), &bad), 0);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "Hello, world!");
	assert_int_equal(bad, 1);
	eas_buf_free(&b);
}

/* ---- structure ----------------------------------------------------------------------------- */

static const char rich[] =
	"From: =?utf-8?q?J=C3=BCrgen?= <juergen@example.test>\r\n"
	"To: undisclosed-recipients:;\r\n"
	"Subject: =?ISO-8859-1?Q?Re:_R=E9union?=\r\n"
	"Date: 1 Jul 03 10:52 GMT\r\n"
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
	"\r\n"
	"This is the preamble.\r\n"
	"--outer\r\n"
	"Content-Type: multipart/related; boundary=rel\r\n"
	"\r\n"
	"--rel\r\n"
	"Content-Type: multipart/alternative; boundary=\"alt\"\r\n"
	"\r\n"
	"--alt\r\n"
	"Content-Type: text/plain; charset=iso-8859-1\r\n"
	"Content-Transfer-Encoding: quoted-printable\r\n"
	"\r\n"
	"R=E9union =\r\ndemain.\r\n"
	"--alt\r\n"
	"Content-Type: text/html; charset=utf-8\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"PHA+UsOpdW5pb248L3A+\r\n"
	"--alt--\r\n"
	"--rel\r\n"
	"Content-Type: image/png\r\n"
	"Content-ID: <logo@x>\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"iVBORw==\r\n"
	"--rel--\r\n"
	"--outer\r\n"
	"Content-Type: application/pdf\r\n"
	"Content-Disposition: attachment;\r\n"
	" filename*0*=utf-8''R%C3%A9;\r\n"
	" filename*1=\"sum\xc3\xa9.pdf\"\r\n"
	"Content-Transfer-Encoding: base64\r\n"
	"\r\n"
	"JVBERi0=\r\n"
	"--outer\r\n"
	"Content-Type: message/rfc822\r\n"
	"\r\n"
	"Subject: Inner one\r\n"
	"\r\n"
	"inner body\r\n"
	"--outer\r\n"
	"Content-Type: text/plain\r\n"
	"\r\n"
	"Footer text\r\n"
	"--outer\r\n"
	"Content-Type: text/plain; name=\"notes.txt\"\r\n"
	"Content-Location: http://x/notes.txt\r\n"
	"\r\n"
	"named text part\r\n"
	"--outer--\r\n"
	"epilogue\r\n";

static void test_multipart_tree(void **state)
{
	(void)state;
	eas_mime_message m;
	parse_ok(&m, rich);
	assert_string_equal(m.from, "J\xc3\xbcrgen <juergen@example.test>");
	assert_null(m.to); /* a group without members */
	assert_string_equal(m.subject, "Re: R\xc3\xa9union");
	assert_true(m.has_date);
	assert_int_equal(m.date, 1057056720);
	/* the plain alternative, then the inline footer of the mixed part appended */
	assert_string_equal(m.text, "R\xc3\xa9union demain.\r\nFooter text");
	assert_string_equal(m.html, "<p>R\xc3\xa9union</p>");
	assert_int_equal(m.attachment_count, 4);
	const eas_mime_attachment *a = m.attachments;
	assert_string_equal(a[0].name, "attachment-1.png");
	assert_string_equal(a[0].content_type, "image/png");
	assert_string_equal(a[0].content_id, "logo@x");
	assert_true(a[0].is_inline);
	assert_int_equal(a[0].len, 4);
	assert_memory_equal(a[0].data, "\x89PNG", 4);
	assert_string_equal(a[1].name, "R\xc3\xa9sum\xc3\xa9.pdf");
	assert_false(a[1].is_inline);
	assert_memory_equal(a[1].data, "%PDF-", 5);
	assert_string_equal(a[2].name, "Inner one.eml");
	assert_true(a[2].is_message);
	assert_string_equal(a[2].content_type, "message/rfc822");
	assert_true(contains(a[2].data, a[2].len, "inner body"));
	assert_string_equal(a[3].name, "notes.txt");
	assert_string_equal(a[3].content_location, "http://x/notes.txt");
	assert_memory_equal(a[3].data, "named text part", 15);
	assert_string_equal(m.notes, "");
	eas_mime_message_clear(&m);
}

static void test_structure_repairs(void **state)
{
	(void)state;
	eas_mime_message m;
	/* no closing delimiter; a line that only starts with the boundary is content */
	parse_ok(&m, "Content-Type: multipart/mixed; boundary=b\n\n--b\n\nfirst\n--bb not a delimiter\n--b\n\nsecond");
	assert_string_equal(m.text, "first\n--bb not a delimiter\r\nsecond");
	assert_non_null(strstr(m.notes, "missing closing boundary"));
	eas_mime_message_clear(&m);
	/* no boundary parameter: the body is kept as an attachment */
	parse_ok(&m, "Content-Type: multipart/mixed\n\nwhatever\n");
	assert_int_equal(m.attachment_count, 1);
	assert_non_null(strstr(m.notes, "boundary"));
	eas_mime_message_clear(&m);
	/* a bad Content-Type reads as text/plain; an unknown encoding is kept */
	parse_ok(&m, "Content-Type: garbage\nContent-Transfer-Encoding: x-uuencode\n\nbody");
	assert_string_equal(m.text, "body");
	assert_non_null(strstr(m.notes, "text/plain"));
	assert_non_null(strstr(m.notes, "Transfer-Encoding"));
	eas_mime_message_clear(&m);
	/* an unknown charset is kept with a note, unreadable Date noted */
	parse_ok(&m, "Content-Type: text/plain; charset=koi8-r\nDate: someday\n\nabc");
	assert_string_equal(m.text, "abc");
	assert_non_null(strstr(m.notes, "charset koi8-r kept"));
	assert_non_null(strstr(m.notes, "Date"));
	assert_false(m.has_date);
	eas_mime_message_clear(&m);
	/* multipart/digest parts default to message/rfc822 */
	parse_ok(&m, "Content-Type: multipart/digest; boundary=d\n\n--d\n\nSubject: one\n\nx\n--d--\n");
	assert_int_equal(m.attachment_count, 1);
	assert_true(m.attachments[0].is_message);
	assert_string_equal(m.attachments[0].name, "one.eml");
	eas_mime_message_clear(&m);
	/* names: directories stripped, RFC 2047 inside a quoted name */
	parse_ok(&m, "Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/x; "
		     "name=\"=?utf-8?q?C:\\\\dir\\\\f=C3=BC.bin?=\"\n\nx\n--b--\n");
	assert_int_equal(m.attachment_count, 1);
	assert_string_equal(m.attachments[0].name, "f\xc3\xbc.bin");
	eas_mime_message_clear(&m);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t len = strlen(head) + strlen(unit) * n + strlen(tail) + 1;
	char *s = malloc(len);
	assert_non_null(s);
	strcpy(s, head);
	size_t at = strlen(head);
	for (size_t i = 0; i < n; i++) {
		strcpy(s + at, unit);
		at += strlen(unit);
	}
	strcpy(s + at, tail);
	return s;
}

static void test_limits(void **state)
{
	(void)state;
	eas_mime_message m;
	char err[200];
	/* nesting past max_depth: the deep multipart becomes an attachment */
	char *deep = malloc(4096);
	assert_non_null(deep);
	deep[0] = '\0';
	for (int i = 0; i < 30; i++)
		snprintf(deep + strlen(deep), 4096 - strlen(deep), "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
	strcat(deep, "\nleaf\n");
	parse_ok(&m, deep);
	assert_non_null(strstr(m.notes, "too deep"));
	assert_int_equal(m.attachment_count, 1);
	eas_mime_message_clear(&m);
	eas_mime_limits lim = EAS_MIME_LIMITS_INIT;
	lim.max_depth = 3;
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)deep, strlen(deep), &lim, NULL, err, sizeof err), 0);
	assert_non_null(strstr(m.notes, "too deep"));
	eas_mime_message_clear(&m);
	free(deep);
	/* parts */
	char *parts = repeat("Content-Type: multipart/mixed; boundary=x\n\n", "--x\n\np\n", 50, "--x--\n");
	lim = (eas_mime_limits)EAS_MIME_LIMITS_INIT;
	lim.max_parts = 20;
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)parts, strlen(parts), &lim, NULL, err, sizeof err),
			 EAS_E_LIMIT);
	assert_non_null(strstr(err, "body parts"));
	assert_null(m.text);
	eas_mime_message_clear(&m);
	free(parts);
	/* header fields */
	char *many = repeat("", "X-A: b\n", 100, "\nbody");
	lim = (eas_mime_limits)EAS_MIME_LIMITS_INIT;
	lim.max_headers = 50;
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)many, strlen(many), &lim, NULL, err, sizeof err),
			 EAS_E_LIMIT);
	assert_non_null(strstr(err, "header fields"));
	eas_mime_message_clear(&m);
	free(many);
	/* one long (folded) field */
	char *longf = repeat("Subject: a", "\n bbbbbbbbbb", 100, "\n\nbody");
	lim = (eas_mime_limits)EAS_MIME_LIMITS_INIT;
	lim.max_field = 500;
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)longf, strlen(longf), &lim, NULL, err, sizeof err),
			 EAS_E_LIMIT);
	assert_non_null(strstr(err, "longer than"));
	eas_mime_message_clear(&m);
	free(longf);
	/* size */
	lim = (eas_mime_limits)EAS_MIME_LIMITS_INIT;
	lim.max_size = 10;
	assert_int_equal(eas_mime_parse(&m, (const uint8_t *)"Subject: x\n\n0123456789", 22, &lim, NULL, err, sizeof err),
			 EAS_E_LIMIT);
	assert_non_null(strstr(err, "larger"));
	eas_mime_message_clear(&m);
}

static void test_not_a_message(void **state)
{
	(void)state;
	eas_mime_message m;
	char err[200];
	assert_int_equal(parse(&m, "", err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(parse(&m, "hello world\nno headers here\n", err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "not a message"));
	assert_int_equal(parse(&m, "\n\nbody only", err, sizeof err), EAS_E_MALFORMED);
	assert_int_equal(eas_mime_parse(NULL, (const uint8_t *)"a", 1, NULL, NULL, NULL, 0), EAS_E_INVALID);
	assert_int_equal(eas_mime_parse(&m, NULL, 3, NULL, NULL, NULL, 0), EAS_E_INVALID);
	eas_mime_message_clear(&m);
	eas_mime_message_clear(NULL);
}

/* ---- dates and addresses ------------------------------------------------------------------- */

static void test_dates(void **state)
{
	(void)state;
	static const struct {
		const char *in;
		int64_t out; /* -1 = malformed */
	} cases[] = {
		{ "Tue, 1 Jul 2003 10:52:37 +0200", 1057049557 },
		{ "1 Jul 2003 10:52:37 +0200", 1057049557 },
		{ "Tue,  1 Jul 2003 08:52:37 GMT (comment)", 1057049557 },
		{ "Tue, 01 Jul 03 04:52:37 EDT", 1057049557 },
		{ "Tue Jul  1 08:52:37 2003", 1057049557 },
		{ "Tue, 1 July 2003 08:52 Z", 1057049520 },
		{ "Thu, 1 Jan 1970 00:00:00 -0000", 0 },
		{ "29 Feb 2024 23:59:60 +0000", 1709251199 },
		{ "1 Jul 99 00:00:00 +0000", 930787200 },
		{ "Sat, 31 Dec 2050 23:00:00 -0130", 2556145800 },
		{ "1 Jul 2003 10:52:37 +0200 (CEST) extra", 1057049557 },
		{ "30 Feb 2023 10:00:00 +0000", -1 },
		{ "1 Foo 2003 10:00:00 +0000", -1 },
		{ "1 Jul 2003 25:00:00 +0000", -1 },
		{ "1 Jul 2003", -1 },
		{ "", -1 },
		{ "1 Jul 2003 10:00:00 +0000 a b c d e f g h i j k", -1 },
		{ "1 Jul 3 10:00:00", -1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int64_t t = 12345;
		int rc = eas_mime_date_parse(&t, cases[i].in, strlen(cases[i].in));
		if (cases[i].out < 0 ? rc != EAS_E_MALFORMED : (rc != 0 || t != cases[i].out))
			fail_msg("case %zu '%s': rc %d t %lld", i, cases[i].in, rc, (long long)t);
	}
	char s[32];
	eas_mime_date_format(s, sizeof s, 1057049557);
	assert_string_equal(s, "2003-07-01T08:52:37.000Z");
	eas_mime_date_format(s, sizeof s, 0);
	assert_string_equal(s, "1970-01-01T00:00:00.000Z");
	eas_mime_date_format(s, sizeof s, -1);
	assert_string_equal(s, "1969-12-31T23:59:59.000Z");
}

static void test_addresses(void **state)
{
	(void)state;
	const char *list = "\"Doe, Jane\" <jane@example.test>, bob@example.test (Bob B), Team: a@x.test, "
			   "<b@x.test>;, =?utf-8?q?Zo=C3=AB?= <zoe@example.test>, <@route,@r2:c@x.test>, "
			   "\"q\\\"uote\" <q@x.test>, user @ example.test, broken <";
	const char *cur = list;
	eas_mime_address a;
	static const char *const want[][2] = {
		{ "jane@example.test", "Doe, Jane" }, { "bob@example.test", "Bob B" }, { "a@x.test", "" },
		{ "b@x.test", "" }, { "zoe@example.test", "Zo\xc3\xab" }, { "c@x.test", "" },
		{ "q@x.test", "q\"uote" }, { "user@example.test", "" },
	};
	size_t n = 0;
	while (eas_mime_address_next(&cur, &a)) {
		assert_true(n < sizeof want / sizeof want[0]);
		assert_string_equal(a.addr, want[n][0]);
		assert_string_equal(a.name, want[n][1]);
		n++;
	}
	assert_int_equal(n, sizeof want / sizeof want[0]);
	const char *empty = "";
	assert_int_equal(eas_mime_address_next(&empty, &a), 0);
	assert_int_equal(eas_mime_address_next(NULL, &a), 0);

	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	size_t count = 0;
	const char *raw = "=?utf-8?q?Doe=2C_John?= <j@x.test>, \"Plain\" <p@x.test>, x@y.test";
	assert_int_equal(eas__mime_address_list(&b, raw, strlen(raw), &count), 0);
	assert_int_equal(count, 3);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "\"Doe, John\" <j@x.test>, Plain <p@x.test>, x@y.test");
	eas_buf_free(&b);

	/* an address over the cap is skipped */
	char *huge = repeat("", "a", 400, "@x.test, ok@x.test");
	cur = huge;
	assert_int_equal(eas_mime_address_next(&cur, &a), 1);
	assert_string_equal(a.addr, "ok@x.test");
	free(huge);
}

static void test_parameters(void **state)
{
	(void)state;
	eas__mime_ctype ct;
	const char *v = " Text/HTML (comment) ; charset = \"utf-8\"; name*=iso-8859-1'fr'caf%E9.txt; title=plain";
	eas__mime_ctype_parse(&ct, v, strlen(v));
	assert_string_equal(ct.type, "text/html");
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	assert_int_equal(eas__mime_param(&b, ct.params, ct.params_len, "CHARSET"), 1);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "utf-8");
	eas_buf_reset(&b);
	assert_int_equal(eas__mime_param(&b, ct.params, ct.params_len, "name"), 1);
	eas_buf_append(&b, "", 1);
	assert_string_equal((const char *)b.data, "caf\xc3\xa9.txt");
	eas_buf_reset(&b);
	assert_int_equal(eas__mime_param(&b, ct.params, ct.params_len, "missing"), 0);
	assert_int_equal(eas__mime_param(&b, NULL, 0, "x"), 0);
	eas_buf_free(&b);
	eas__mime_ctype_parse(&ct, "bad type\"", 9);
	assert_string_equal(ct.type, "bad");
	eas__mime_ctype_parse(&ct, "a\"b/c", 5);
	assert_string_equal(ct.type, "");
}

/* ---- eas_email ---------------------------------------------------------------------------- */

static void test_email_mapping(void **state)
{
	(void)state;
	eas_mime_message m;
	parse_ok(&m, rich);
	eas_mime_email me;
	assert_int_equal(eas_mime_email_build(&me, &m, 42, NULL), 0);
	const eas_email *e = &me.email;
	assert_string_equal(e->from, m.from);
	assert_string_equal(e->subject, "Re: R\xc3\xa9union");
	assert_string_equal(e->thread_topic, "R\xc3\xa9union");
	assert_string_equal(e->date_received, "2003-07-01T10:52:00.000Z");
	assert_int_equal(e->importance, EAS_EMAIL_IMPORTANCE_NORMAL);
	assert_string_equal(e->message_class, "IPM.Note");
	assert_string_equal(e->content_class, "urn:content-classes:message");
	assert_int_equal(e->body.type, EAS_BODY_TYPE_HTML);
	assert_int_equal(e->native_body_type, EAS_BODY_TYPE_HTML);
	assert_int_equal(e->body.estimated_data_size, m.html_len);
	assert_int_equal(e->attachment_count, 4);
	assert_int_equal(e->attachments[2].method, EAS_ATTACHMENT_EMBEDDED_MESSAGE);
	assert_int_equal(e->attachments[0].method, EAS_ATTACHMENT_NORMAL);
	assert_true(e->attachments[0].is_inline);
	assert_string_equal(e->attachments[0].content_id, "logo@x");
	assert_null(e->attachments[0].file_reference);

	/* with FileReferences it encodes, and decodes back */
	char refs[4][16];
	for (size_t i = 0; i < 4; i++) {
		snprintf(refs[i], sizeof refs[i], "1:1:%zu", i);
		me.attachments[i].file_reference = refs[i];
	}
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA), 0);
	assert_int_equal(eas_email_encode(enc, e, EAS_PROTO_14_1), 0);
	assert_int_equal(eas_wbxml_encoder_end(enc), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	eas_email back;
	char err[200];
	assert_int_equal(eas_email_decode(&back, out.data, out.len, NULL, err, sizeof err), 0);
	assert_string_equal(back.subject, e->subject);
	assert_string_equal(back.body.data, m.html);
	assert_int_equal(back.attachment_count, 4);
	assert_string_equal(back.attachments[1].display_name, "R\xc3\xa9sum\xc3\xa9.pdf");
	eas_email_clear(&back);
	eas_buf_free(&out);
	eas_mime_email_clear(&me);
	eas_mime_message_clear(&m);

	/* no Date: the fallback; only HTML; Content-Class kept; DisplayTo */
	parse_ok(&m, "To: \"A B\" <a@x.test>, c@x.test\nContent-Class: urn:content-classes:calendarmessage\n"
		     "Content-Type: text/html\n\n<b>x</b>");
	assert_int_equal(eas_mime_email_build(&me, &m, 1057049557, NULL), 0);
	assert_string_equal(me.email.date_received, "2003-07-01T08:52:37.000Z");
	assert_int_equal(me.email.body.type, EAS_BODY_TYPE_HTML);
	assert_string_equal(me.email.body.data, "<b>x</b>");
	assert_string_equal(me.email.display_to, "A B; c@x.test");
	assert_string_equal(me.email.content_class, "urn:content-classes:calendarmessage");
	assert_null(me.email.thread_topic);
	eas_mime_email_clear(&me);
	eas_mime_message_clear(&m);

	assert_string_equal(eas_mime_thread_topic("RE: Fwd:  AW[2]: hello"), "hello");
	assert_string_equal(eas_mime_thread_topic("Regarding: x"), "Regarding: x");
	assert_null(eas_mime_thread_topic(NULL));
}

static void test_message_edits(void **state)
{
	(void)state;
	eas_mime_message m;
	parse_ok(&m, "Subject: s\n\nbody");
	assert_int_equal(eas_mime_set(&m, &m.from, "me@x.test", 9), 0);
	assert_string_equal(m.from, "me@x.test");
	assert_int_equal(eas_mime_set(&m, &m.from, NULL, 0), 0);
	assert_null(m.from);
	assert_int_equal(eas_mime_set(&m, &m.from, "a\0b", 3), EAS_E_INVALID);
	assert_int_equal(eas_mime_append(&m, &m.text, &m.text_len, " more", 5), 0);
	assert_string_equal(m.text, "body more");
	assert_int_equal(eas_mime_append(&m, &m.html, &m.html_len, "<p>", 3), 0);
	assert_string_equal(m.html, "<p>");
	eas_mime_attachment a;
	memset(&a, 0, sizeof a);
	a.name = "x.txt";
	a.data = (uint8_t *)"data";
	a.len = 4;
	for (int i = 0; i < 9; i++)
		assert_int_equal(eas_mime_add_attachment(&m, &a), 0);
	assert_int_equal(m.attachment_count, 9);
	assert_string_equal(m.attachments[8].content_type, "application/octet-stream");
	a.name = NULL;
	assert_int_equal(eas_mime_add_attachment(&m, &a), EAS_E_INVALID);
	for (int i = 0; i < 100; i++)
		eas_mime_note(&m, i % 2 ? "a repeated note" : "another note that fills the space quickly");
	assert_true(strlen(m.notes) < sizeof m.notes);
	eas_mime_message_clear(&m);
}

/* Every allocation failing in turn: a clean error, nothing leaked. */
static void test_failing_allocations(void **state)
{
	(void)state;
	long n = 0;
	for (;; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		eas_mime_message m;
		char err[200];
		int rc = eas_mime_parse(&m, (const uint8_t *)rich, strlen(rich), NULL, &mem, err, sizeof err);
		if (rc == 0) {
			eas_mime_email me;
			rc = eas_mime_email_build(&me, &m, 0, &mem);
			if (rc == 0)
				eas_mime_email_clear(&me);
		}
		eas_mime_message_clear(&m);
		assert_int_equal(tm.live_blocks, 0);
		if (rc == 0)
			break;
		assert_int_equal(rc, EAS_E_NOMEM);
	}
	assert_true(n > 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_message),
		cmocka_unit_test(test_lf_mbox_and_priorities),
		cmocka_unit_test(test_encoded_words),
		cmocka_unit_test(test_charsets),
		cmocka_unit_test(test_transfer_encodings),
		cmocka_unit_test(test_multipart_tree),
		cmocka_unit_test(test_structure_repairs),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_not_a_message),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_parameters),
		cmocka_unit_test(test_email_mapping),
		cmocka_unit_test(test_message_edits),
		cmocka_unit_test(test_failing_allocations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
