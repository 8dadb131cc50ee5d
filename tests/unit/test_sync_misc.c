/*
 * GetItemEstimate, SendMail and the attachment Fetch of the sync engine
 * (sync_misc.c) through the session's sans-I/O calls.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <cmocka.h>

#include "common/base64.h"
#include "sync_harness.h"

#define EST "<GetItemEstimate xmlns=\"GetItemEstimate:\">"
#define EST_OK(id, n) "<Response><Status>1</Status><Collection><CollectionId>" id "</CollectionId><Estimate>" n \
	"</Estimate></Collection></Response>"

static harness *ready(unsigned version)
{
	harness *h = h_new(version);
	assert_int_equal(h->store->value_set(h->store, "folder_sync_key", "1"), 0);
	h_folder(h, "2", "0", "Inbox", 2, "k1");
	h_folder(h, "3", "0", "Calendar", 8, "0");
	return h;
}

/* ---- GetItemEstimate ------------------------------------------------------------------ */

static void test_estimate_primes_then_asks(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1);
	assert_int_equal(eas_session_estimate(h->s, NULL, 0), 0);
	/* The calendar was never synced: one Sync round for its key first. */
	char *x = h_expect(h, "Sync", "<SyncKey>0</SyncKey><CollectionId>3</CollectionId>", NULL);
	assert_null(strstr(x, "<CollectionId>2</CollectionId>"));
	free(x);
	h_answer(h, "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>c1</SyncKey><CollectionId>3</CollectionId>"
		 "<Status>1</Status></Collection></Collections></Sync>");
	free(h_expect(h, "GetItemEstimate", "<SyncKey xmlns=\"AirSync:\">k1</SyncKey><CollectionId>2</CollectionId>",
		      "<SyncKey xmlns=\"AirSync:\">c1</SyncKey><CollectionId>3</CollectionId>", "<FilterType>0</FilterType>",
		      NULL));
	h_answer(h, EST EST_OK("2", "42") EST_OK("3", "7") "</GetItemEstimate>");
	eas_session_event ev = h_event(h);
	assert_int_equal(ev.type, EAS_EVENT_ESTIMATE);
	assert_string_equal(ev.folder_id, "2");
	assert_int_equal(ev.estimate, 42);
	ev = h_event(h);
	assert_string_equal(ev.folder_id, "3");
	assert_int_equal(ev.estimate, 7);
	h_no_event(h); /* the priming round is not a SYNC_DONE */
	assert_int_equal(eas_session_busy(h->s), 0);
	assert_int_equal(h_count(h, "3"), 0);
	h_free(h);
}

/* 12.x: the old form, Class and FilterType in Collection. */
static void test_estimate_legacy_form(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_12_1);
	const char *ids[] = { "2" };
	assert_int_equal(eas_session_estimate(h->s, ids, 1), 0);
	free(h_expect(h, "GetItemEstimate", "<Class>Email</Class><CollectionId>2</CollectionId>",
		      "<FilterType xmlns=\"AirSync:\">0</FilterType><SyncKey xmlns=\"AirSync:\">k1</SyncKey>", NULL));
	h_answer(h, EST EST_OK("2", "5") "</GetItemEstimate>");
	assert_int_equal(h_until(h, EAS_EVENT_ESTIMATE).estimate, 5);
	h_free(h);
}

/* 2: FolderSync and once more; a repeat is an error. */
static void test_estimate_statuses(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1);
	const char *ids[] = { "2" };
	assert_int_equal(eas_session_estimate(h->s, ids, 1), 0);
	free(h_expect(h, "GetItemEstimate", NULL));
	h_answer(h, EST "<Response><Status>2</Status></Response></GetItemEstimate>");
	free(h_expect(h, "FolderSync", NULL));
	h_answer(h, "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status><SyncKey>1</SyncKey></FolderSync>");
	free(h_expect(h, "GetItemEstimate", NULL));
	h_answer(h, EST "<Response><Status>2</Status></Response></GetItemEstimate>");
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 2);

	/* 4: a Sync of the folder, then the estimate again. */
	assert_int_equal(eas_session_estimate(h->s, ids, 1), 0);
	free(h_expect(h, "GetItemEstimate", NULL));
	h_answer(h, EST "<Response><Status>4</Status><Collection><CollectionId>2</CollectionId></Collection></Response>"
		    "</GetItemEstimate>");
	free(h_expect(h, "Sync", "<SyncKey>k1</SyncKey>", NULL));
	h_answer(h, "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>k2</SyncKey><CollectionId>2</CollectionId>"
		 "<Status>1</Status></Collection></Collections></Sync>");
	free(h_expect(h, "GetItemEstimate", "k2", NULL));
	h_answer(h, EST EST_OK("2", "0") "</GetItemEstimate>");
	assert_int_equal(h_until(h, EAS_EVENT_ESTIMATE).estimate, 0);
	h_free(h);
}

/* ---- SendMail -------------------------------------------------------------------------- */

static const char message[] = "From: alice@example.com\r\nTo: bob@example.com\r\nSubject: hi\r\n\r\nHello Bob\r\n";

static void test_send_mail_wbxml(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1);
	assert_int_equal(eas_session_send_mail(h->s, (const uint8_t *)message, sizeof message - 1, 1), 0);
	char *first = h_expect(h, "SendMail", "<SendMail xmlns=\"ComposeMail:\"><ClientId>", "<SaveInSentItems/><Mime>", NULL);
	/* A lost answer: the same ClientId again (the server recognises a resend). */
	h_answer_error(h, EAS_E_IO);
	h_wait_backoff(h);
	char *second = h_expect(h, "SendMail", NULL);
	assert_string_equal(first, second);
	free(first);
	free(second);
	h_answer(h, NULL);
	eas_session_event ev = h_until(h, EAS_EVENT_MAIL_SENT);
	assert_int_equal(ev.bytes, sizeof message - 1);
	assert_int_equal(eas_session_busy(h->s), 0);

	/* 118: sent already, as good as sent. */
	assert_int_equal(eas_session_send_mail(h->s, (const uint8_t *)message, sizeof message - 1, 0), 0);
	char *x = h_expect(h, "SendMail", NULL);
	assert_null(strstr(x, "SaveInSentItems"));
	free(x);
	h_answer(h, "<SendMail xmlns=\"ComposeMail:\"><Status>118</Status></SendMail>");
	h_until(h, EAS_EVENT_MAIL_SENT);

	/* Another status: an error naming it. */
	assert_int_equal(eas_session_send_mail(h->s, (const uint8_t *)message, sizeof message - 1, 0), 0);
	h_take(h);
	h_answer(h, "<SendMail xmlns=\"ComposeMail:\"><Status>120</Status></SendMail>");
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 120);
	assert_int_equal(eas_session_send_mail(h->s, NULL, 0, 0), EAS_E_INVALID);
	h_free(h);
}

/* Before 14.0: the message itself, message/rfc822, SaveInSent=T in the query. */
static void test_send_mail_legacy(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_12_1);
	assert_int_equal(eas_session_send_mail(h->s, (const uint8_t *)message, sizeof message - 1, 1), 0);
	const eas_http_request *r = h_take(h);
	assert_non_null(strstr(r->url, "Cmd=SendMail&"));
	assert_non_null(strstr(r->url, "SaveInSent=T"));
	const char *ct = NULL;
	for (size_t i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, "Content-Type") == 0)
			ct = r->headers[i].value;
	assert_non_null(ct);
	assert_string_equal(ct, "message/rfc822");
	assert_int_equal(r->body_length, sizeof message - 1);
	assert_memory_equal(r->body, message, sizeof message - 1);
	h_answer(h, NULL);
	h_until(h, EAS_EVENT_MAIL_SENT);
	/* The next command is WBXML again. */
	const char *ids[] = { "2" };
	assert_int_equal(eas_session_sync(h->s, ids, 1), 0);
	r = h_take(h);
	assert_null(strstr(r->url, "SaveInSent"));
	for (size_t i = 0; i < r->header_count; i++)
		if (strcasecmp(r->headers[i].name, "Content-Type") == 0)
			assert_string_equal(r->headers[i].value, "application/vnd.ms-sync.wbxml");
	eas_session_cancel(h->s);
	h_free(h);
}

/* ---- Fetch ------------------------------------------------------------------------------ */

typedef struct sink {
	uint8_t data[65536];
	size_t len;
	unsigned calls;
	int fail_after; /* calls before failing (0 = never) */
} sink;

static int sink_fn(const uint8_t *bytes, size_t len, void *ud)
{
	sink *k = ud;
	if (k->fail_after && k->calls >= (unsigned)k->fail_after)
		return EAS_E_IO;
	assert_true(k->len + len <= sizeof k->data);
	memcpy(k->data + k->len, bytes, len);
	k->len += len;
	k->calls++;
	return 0;
}

/* A Fetch response whose Data is `len` bytes of a pattern; out gets the bytes (caller frees both). */
static char *fetch_response(size_t len, uint8_t **bytes_out, int fetch_status)
{
	uint8_t *bytes = malloc(len);
	for (size_t i = 0; i < len; i++)
		bytes[i] = (uint8_t)(i * 7 + 3);
	char *b64 = malloc(len * 2 + 8);
	eas__base64_encode(b64, bytes, len);
	char *x = malloc(len * 2 + 1024);
	sprintf(x, "<ItemOperations xmlns=\"ItemOperations:\" xmlns:airsyncbase=\"AirSyncBase:\"><Status>1</Status>"
		   "<Response><Fetch><Status>%d</Status><airsyncbase:FileReference>att%%201</airsyncbase:FileReference>"
		   "<Properties><Total>%zu</Total><Data>%s</Data></Properties></Fetch></Response></ItemOperations>",
		fetch_status, len, b64);
	free(b64);
	*bytes_out = bytes;
	return x;
}

static void test_fetch_streams_to_sink(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1);
	sink k;
	memset(&k, 0, sizeof k);
	assert_int_equal(eas_session_fetch_attachment(h->s, "att%201", sink_fn, &k), 0);
	free(h_expect(h, "ItemOperations", "<Fetch><Store>Mailbox</Store><FileReference xmlns=\"AirSyncBase:\">att%201"
		      "</FileReference></Fetch>", NULL));
	uint8_t *bytes;
	char *x = fetch_response(12000, &bytes, 1); /* the decoder hands out pieces of 4 KiB */
	/* Broken twice in the middle of Data: each byte still reaches the sink once. */
	h_answer_cut(h, x, h_wbxml_len(x) / 3);
	size_t after_first = k.len;
	h_wait_backoff(h);
	h_take(h);
	h_answer_cut(h, x, h_wbxml_len(x) * 2 / 3);
	assert_true(k.len >= after_first);
	h_wait_backoff(h);
	h_take(h);
	h_answer_chunked(h, x, 333);
	eas_session_event ev = h_until(h, EAS_EVENT_FETCHED);
	assert_int_equal(ev.bytes, 12000);
	assert_int_equal(k.len, 12000);
	assert_memory_equal(k.data, bytes, 12000);
	assert_true(after_first > 0); /* data did stream before the end */
	free(x);
	free(bytes);
	h_free(h);
}

static void test_fetch_failures(void **state)
{
	(void)state;
	harness *h = ready(EAS_PROTO_14_1);
	sink k;
	memset(&k, 0, sizeof k);
	uint8_t *bytes;
	char *x = fetch_response(100, &bytes, 6);
	assert_int_equal(eas_session_fetch_attachment(h->s, "att1", sink_fn, &k), 0);
	h_take(h);
	h_answer(h, x);
	free(x);
	free(bytes);
	eas_session_event ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 6);

	/* The sink refuses: the fetch stops with its error. */
	memset(&k, 0, sizeof k);
	k.fail_after = 1;
	x = fetch_response(9000, &bytes, 1);
	assert_int_equal(eas_session_fetch_attachment(h->s, "att1", sink_fn, &k), 0);
	h_take(h);
	h_answer_chunked(h, x, 100);
	free(x);
	free(bytes);
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.error, EAS_E_IO);

	/* A top-level failure. */
	assert_int_equal(eas_session_fetch_attachment(h->s, "att1", sink_fn, &k), 0);
	h_take(h);
	h_answer(h, "<ItemOperations xmlns=\"ItemOperations:\"><Status>3</Status></ItemOperations>");
	ev = h_until(h, EAS_EVENT_ERROR);
	assert_int_equal(ev.status, 3);
	assert_int_equal(eas_session_fetch_attachment(h->s, "", sink_fn, &k), EAS_E_INVALID);
	assert_int_equal(eas_session_fetch_attachment(h->s, "a", NULL, &k), EAS_E_INVALID);
	h_free(h);

	h = ready(EAS_PROTO_2_5);
	assert_int_equal(eas_session_fetch_attachment(h->s, "a", sink_fn, &k), EAS_E_UNSUPPORTED);
	h_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_estimate_primes_then_asks),
		cmocka_unit_test(test_estimate_legacy_form),
		cmocka_unit_test(test_estimate_statuses),
		cmocka_unit_test(test_send_mail_wbxml),
		cmocka_unit_test(test_send_mail_legacy),
		cmocka_unit_test(test_fetch_streams_to_sink),
		cmocka_unit_test(test_fetch_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
