/*
 * libFuzzer target: the MIME parser (classes/mime.h) and its mapping to the
 * Email fields (classes/mime_email.h).
 *
 * The first input byte picks small limits (depth, parts, header fields,
 * field length) so the caps are reached often; the rest is the message.
 * Checks:
 *   - the result is 0, EAS_E_MALFORMED or EAS_E_LIMIT with a message, and
 *     a failed parse leaves nothing behind;
 *   - every string of an accepted message is valid UTF-8 without NUL, the
 *     lengths match, attachments have a name and a type;
 *   - parsing the same bytes twice gives the same outcome (no hidden state);
 *   - the address walker ends on every address list, and the email mapping
 *     encodes to WBXML (with made-up FileReferences) and decodes back with
 *     the same subject and body.
 * A broken invariant aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "classes/mime.h"
#include "classes/mime_email.h"
#include "classes/mime_internal.h"
#include "common/buf.h"
#include "eas/email.h"
#include "eas/wbxml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                               \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "fuzz_mime: check failed at line %d: %s\n", __LINE__, #c); \
			abort();                                                               \
		}                                                                              \
	} while (0)

static void check_text(const char *s, size_t n)
{
	if (!s)
		return;
	CHECK(strlen(s) == n);
	CHECK(eas__mime_utf8_valid((const uint8_t *)s, n));
}

static void check_string(const char *s)
{
	if (s)
		check_text(s, strlen(s));
}

static void walk_addresses(const char *list)
{
	if (!list)
		return;
	const char *cur = list;
	eas_mime_address a;
	size_t n = 0;
	while (eas_mime_address_next(&cur, &a)) {
		CHECK(a.addr[0] != '\0');
		CHECK(strlen(a.addr) <= EAS_MIME_ADDR_MAX);
		CHECK(n++ < strlen(list));
	}
}

static void roundtrip(const eas_mime_message *m)
{
	eas_mime_email me;
	if (eas_mime_email_build(&me, m, 0, NULL) != 0)
		return;
	char refs[64][16];
	for (size_t i = 0; i < me.email.attachment_count; i++) {
		snprintf(refs[i % 64], sizeof refs[0], "1:1:%zu", i % 64);
		me.attachments[i].file_reference = refs[i % 64];
	}
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL);
	CHECK(rc == 0);
	rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = eas_email_encode(enc, &me.email, EAS_PROTO_14_1);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	CHECK(rc == 0);
	eas_email back;
	char err[200];
	rc = eas_email_decode(&back, out.data, out.len, NULL, err, sizeof err);
	CHECK(rc == 0);
	if (m->subject && m->subject[0])
		CHECK(back.subject && strcmp(back.subject, m->subject) == 0);
	CHECK(back.body.data_len == me.email.body.data_len);
	CHECK(back.attachment_count == me.email.attachment_count);
	eas_email_clear(&back);
	eas_buf_free(&out);
	eas_mime_email_clear(&me);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > (1u << 20))
		return 0;
	uint8_t knob = data[0];
	eas_mime_limits lim = EAS_MIME_LIMITS_INIT;
	if (knob & 1) {
		lim.max_depth = 1u + (knob >> 5);
		lim.max_parts = 4u + (knob >> 3 & 3u) * 8u;
		lim.max_headers = 8u + (knob >> 1 & 3u) * 16u;
		lim.max_field = 64u + (knob >> 6) * 256u;
	}
	data++;
	size--;
	eas_mime_message m;
	char err[200];
	int rc = eas_mime_parse(&m, data, size, &lim, NULL, err, sizeof err);
	eas_mime_message m2;
	int rc2 = eas_mime_parse(&m2, data, size, &lim, NULL, err, sizeof err);
	CHECK(rc == rc2);
	if (rc) {
		CHECK(rc == EAS_E_MALFORMED || rc == EAS_E_LIMIT);
		CHECK(err[0] != '\0');
		CHECK(m.from == NULL && m.text == NULL && m.attachments == NULL && m.attachment_count == 0);
		eas_mime_message_clear(&m);
		eas_mime_message_clear(&m2);
		return 0;
	}
	CHECK(m.attachment_count == m2.attachment_count);
	CHECK(m.text_len == m2.text_len && m.html_len == m2.html_len);
	eas_mime_message_clear(&m2);
	const char *strings[] = { m.from, m.sender, m.reply_to, m.to, m.cc, m.bcc, m.subject, m.message_id,
				  m.in_reply_to, m.references, m.content_class, m.thread_topic };
	for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
		check_string(strings[i]);
	check_text(m.text, m.text_len);
	check_text(m.html, m.html_len);
	CHECK(strlen(m.notes) < sizeof m.notes);
	for (size_t i = 0; i < m.attachment_count; i++) {
		const eas_mime_attachment *a = &m.attachments[i];
		CHECK(a->name && a->name[0]);
		check_string(a->name);
		CHECK(a->content_type && strchr(a->content_type, '/'));
		check_string(a->content_id);
		check_string(a->content_location);
		CHECK((a->len == 0) == (a->data == NULL));
		CHECK(a->len <= size);
	}
	walk_addresses(m.to);
	walk_addresses(m.cc);
	walk_addresses(m.from);
	roundtrip(&m);
	eas_mime_message_clear(&m);
	return 0;
}
