/*
 * Sync: the request both directions (client encodes, server decodes a tree),
 * the streaming response parser (spec examples field by field, every split,
 * byte by byte, pauses, flat memory over 10,000 items, a 5 MB body streamed,
 * malformed input, failing allocations) and the server's item-by-item writer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/sync.h"
#include "eas/email.h"
#include "testmem.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define SYNC "<Sync xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:airsyncbase=\"AirSyncBase:\" " \
	"xmlns:email2=\"Email2:\" xmlns:tasks=\"Tasks:\" xmlns:rm=\"RightsManagement:\">"

/* ---- a recorder: every callback as one line of text ---------------------------------- */

typedef struct rec {
	eas_buf log;
	int pause;              /* every callback returns EAS_E_PAUSED */
	int fail_in;            /* 1: command callback returns -42 */
	/* big values */
	uint64_t big_len;
	uint32_t big_sum;
	size_t big_pieces;
	size_t big_max_piece;
	uint64_t big_expect_offset;
	/* counts for the large tests */
	size_t commands;
	int decode_every;       /* decode one item's email out of this many (0: never) */
	const eas_mem *mem;     /* for those decodes */
	eas_sync_summary summary;
} rec;

static void rec_init(rec *r)
{
	memset(r, 0, sizeof *r);
	eas_buf_init(&r->log, NULL, 0);
}

static void rec_free(rec *r)
{
	eas_buf_free(&r->log);
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void logf_(rec *r, const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	assert_int_equal(eas_buf_append_str(&r->log, line), 0);
}

static const char *log_text(rec *r)
{
	assert_int_equal(eas_buf_append(&r->log, "", 1), 0);
	r->log.len--;
	return (const char *)r->log.data;
}

static const char *s_(const char *s)
{
	return s ? s : "-";
}

static int ret(rec *r)
{
	return r->pause ? EAS_E_PAUSED : 0;
}

static int on_begin(const eas_sync_collection *c, void *ud)
{
	rec *r = ud;
	logf_(r, "B cls=%s key=%s id=%s st=%u\n", s_(c->class_name), s_(c->sync_key), c->collection_id,
	      (unsigned)c->status);
	return ret(r);
}

/* The item's ApplicationData as compact XML without the prolog. */
static void log_item(rec *r, char kind, const eas_sync_item *it)
{
	char *xml = NULL;
	const char *body = "-";
	if (it->data) {
		xml = xmldoc_from_wbxml(it->data, it->data_len);
		body = strstr(xml, "<ApplicationData");
		assert_non_null(body);
	} else {
		assert_int_equal(it->data_len, 0);
	}
	char st[16] = "-";
	if (it->has_status)
		snprintf(st, sizeof st, "%u", (unsigned)it->status);
	logf_(r, "%c %s sid=%s cid=%s cls=%s st=%s inst=%s send=%d has=%d streamed=%u %s\n", kind,
	      eas_sync_op_name(it->op), s_(it->server_id), s_(it->client_id), s_(it->class_name), st,
	      s_(it->instance_id), it->send, it->has_data, it->streamed, body);
	free(xml);
}

static int on_command(const eas_sync_collection *c, const eas_sync_item *it, void *ud)
{
	(void)c;
	rec *r = ud;
	r->commands++;
	if (r->fail_in)
		return -42;
	if (r->decode_every) {
		if (r->commands % (size_t)r->decode_every == 0) {
			eas_email e;
			char err[128];
			assert_int_equal(eas_email_decode(&e, it->data, it->data_len, r->mem, err, sizeof err), 0);
			char want[64];
			snprintf(want, sizeof want, "Message %zu", r->commands);
			assert_string_equal(e.subject, want);
			eas_email_clear(&e);
		}
		return ret(r);
	}
	log_item(r, 'C', it);
	return ret(r);
}

static int on_response(const eas_sync_collection *c, const eas_sync_item *it, void *ud)
{
	(void)c;
	rec *r = ud;
	log_item(r, 'R', it);
	return ret(r);
}

static int on_end(const eas_sync_collection *c, void *ud)
{
	rec *r = ud;
	if (!r->decode_every)
		logf_(r, "E id=%s more=%d cmds=%zu resps=%zu\n", c->collection_id, c->more_available, c->commands,
		      c->responses);
	return ret(r);
}

static int on_big(const eas_sync_value *v, const uint8_t *bytes, size_t len, int final, void *ud)
{
	rec *r = ud;
	assert_int_equal(v->offset, r->big_expect_offset);
	r->big_expect_offset += len;
	for (size_t i = 0; i < len; i++)
		r->big_sum = r->big_sum * 31u + bytes[i];
	r->big_len += len;
	r->big_pieces++;
	if (len > r->big_max_piece)
		r->big_max_piece = len;
	if (final) {
		char t[64], pt[64];
		snprintf(t, sizeof t, "%s", eas_tag_name(EAS_TAG_PAGE(v->tag), EAS_TAG_TOKEN(v->tag)));
		snprintf(pt, sizeof pt, "%s", eas_tag_name(EAS_TAG_PAGE(v->parent), EAS_TAG_TOKEN(v->parent)));
		logf_(r, "V %s/%s sid=%s kind=%d total=%llu len=%llu sum=%08x\n", pt, t, s_(v->item->server_id),
		      (int)v->kind, (unsigned long long)v->total, (unsigned long long)r->big_len,
		      (unsigned)r->big_sum);
		r->big_len = 0;
		r->big_sum = 0;
		r->big_expect_offset = 0;
	}
	return ret(r);
}

static eas_sync_parser_callbacks all_callbacks(int with_big)
{
	eas_sync_parser_callbacks cb = EAS_SYNC_PARSER_CALLBACKS_INIT;
	cb.collection_begin = on_begin;
	cb.command = on_command;
	cb.response = on_response;
	cb.collection_end = on_end;
	if (with_big)
		cb.big_value = on_big;
	return cb;
}

/*
 * Feeds data in pieces: first `split` bytes, then the rest in chunks of
 * `chunk` (0: all at once), resuming after every pause.  Returns the first
 * error, or 0 after a complete finish.
 */
static int feed_all(eas_sync_parser *p, const uint8_t *data, size_t len, size_t split, size_t chunk)
{
	size_t off = 0;
	int rc = 0;
	while (off < len) {
		size_t n = len - off;
		if (off < split)
			n = split - off;
		else if (chunk && n > chunk)
			n = chunk;
		size_t used = 0;
		rc = eas_sync_parser_feed(p, data + off, n, &used);
		assert_true(used <= n);
		off += used;
		if (rc == EAS_E_PAUSED)
			continue;
		if (rc)
			return rc;
		assert_int_equal(used, n);
	}
	do
		rc = eas_sync_parser_finish(p);
	while (rc == EAS_E_PAUSED);
	return rc;
}

/* Parses wbxml with a recorder; returns the result code, the log is in r. */
static int parse(rec *r, const uint8_t *data, size_t len, size_t split, size_t chunk,
		 const eas_sync_parser_options *opt, const eas_mem *mem, char *err, size_t err_size)
{
	eas_sync_parser_callbacks cb = all_callbacks(opt && opt->big_value_threshold);
	eas_sync_parser *p = NULL;
	int rc = eas_sync_parser_new(&p, &cb, opt, mem, r);
	if (rc)
		return rc;
	rc = feed_all(p, data, len, split, chunk);
	r->summary = *eas_sync_parser_summary(p);
	if (err && err_size) {
		uint64_t at = 0;
		const char *msg = eas_sync_parser_error(p, &at);
		snprintf(err, err_size, "%s", msg ? msg : "");
		if (rc)
			assert_non_null(msg);
	}
	eas_sync_parser_free(p);
	return rc;
}

static int parse_xml(rec *r, const char *xml, char *err, size_t err_size)
{
	eas_buf w;
	xmldoc_to_wbxml(&w, xml);
	int rc = parse(r, w.data, w.len, 0, 0, NULL, NULL, err, err_size);
	eas_buf_free(&w);
	return rc;
}

/* ---- response: the spec's shapes, field by field ---------------------------------------- */

/*
 * MS-ASCMD 4.5 shapes in one response: the answer to an initial SyncKey 0
 * (a new key, no items), an email Add with its Body, a Change, a Delete, a
 * SoftDelete, the Responses to a client Add (ClientId -> ServerId), Change,
 * Delete and Fetch, MoreAvailable after Commands (4.5.8), and a collection
 * whose key is invalid (Status 3).
 */
static const char spec_response[] = SYNC "<Collections>"
	"<Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId><Status>1</Status></Collection>"
	"<Collection><SyncKey>2</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
	"<Commands>"
	"<Add><ServerId>5:1</ServerId><ApplicationData>"
	"<email:To>\"Device User\" &lt;deviceuser@example.com&gt;</email:To>"
	"<email:From>\"Device User 2\" &lt;deviceuser2@example.com&gt;</email:From>"
	"<email:Subject>New mail message</email:Subject>"
	"<email:DateReceived>2009-07-29T19:25:37.817Z</email:DateReceived>"
	"<email:DisplayTo>Device User</email:DisplayTo>"
	"<email:Importance>1</email:Importance><email:Read>0</email:Read>"
	"<airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>"
	"<airsyncbase:EstimatedDataSize>11</airsyncbase:EstimatedDataSize>"
	"<airsyncbase:Data>Hello world</airsyncbase:Data></airsyncbase:Body>"
	"<email:MessageClass>IPM.Note</email:MessageClass><email:InternetCPID>28591</email:InternetCPID>"
	"<email:Flag/><airsyncbase:NativeBodyType>1</airsyncbase:NativeBodyType>"
	"</ApplicationData></Add>"
	"<Change><ServerId>5:2</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change>"
	"<Delete><ServerId>5:3</ServerId></Delete>"
	"<SoftDelete><ServerId>5:4</ServerId></SoftDelete>"
	"</Commands>"
	"<Responses>"
	"<Add><ClientId>c-1</ClientId><ServerId>5:10</ServerId><Status>1</Status></Add>"
	"<Change><ServerId>5:2</ServerId><Status>7</Status></Change>"
	"<Delete><ServerId>5:8</ServerId><Status>8</Status></Delete>"
	"<Fetch><ServerId>5:5</ServerId><Status>1</Status>"
	"<ApplicationData><email:Subject>Fetched</email:Subject></ApplicationData></Fetch>"
	"</Responses>"
	"<MoreAvailable/>"
	"</Collection>"
	"<Collection><SyncKey>0</SyncKey><CollectionId>7</CollectionId><Status>3</Status></Collection>"
	"</Collections></Sync>";

static const char spec_log[] =
	"B cls=- key=1 id=1 st=1\n"
	"E id=1 more=0 cmds=0 resps=0\n"
	"B cls=- key=2 id=5 st=1\n"
	"C Add sid=5:1 cid=- cls=- st=- inst=- send=0 has=1 streamed=0 <ApplicationData xmlns=\"AirSync:\">"
	"<To xmlns=\"Email:\">\"Device User\" &lt;deviceuser@example.com&gt;</To>"
	"<From xmlns=\"Email:\">\"Device User 2\" &lt;deviceuser2@example.com&gt;</From>"
	"<Subject xmlns=\"Email:\">New mail message</Subject>"
	"<DateReceived xmlns=\"Email:\">2009-07-29T19:25:37.817Z</DateReceived>"
	"<DisplayTo xmlns=\"Email:\">Device User</DisplayTo>"
	"<Importance xmlns=\"Email:\">1</Importance><Read xmlns=\"Email:\">0</Read>"
	"<Body xmlns=\"AirSyncBase:\"><Type>1</Type><EstimatedDataSize>11</EstimatedDataSize>"
	"<Data>Hello world</Data></Body>"
	"<MessageClass xmlns=\"Email:\">IPM.Note</MessageClass><InternetCPID xmlns=\"Email:\">28591</InternetCPID>"
	"<Flag xmlns=\"Email:\"/><NativeBodyType xmlns=\"AirSyncBase:\">1</NativeBodyType></ApplicationData>\n"
	"C Change sid=5:2 cid=- cls=- st=- inst=- send=0 has=1 streamed=0 <ApplicationData xmlns=\"AirSync:\">"
	"<Read xmlns=\"Email:\">1</Read></ApplicationData>\n"
	"C Delete sid=5:3 cid=- cls=- st=- inst=- send=0 has=0 streamed=0 -\n"
	"C SoftDelete sid=5:4 cid=- cls=- st=- inst=- send=0 has=0 streamed=0 -\n"
	"R Add sid=5:10 cid=c-1 cls=- st=1 inst=- send=0 has=0 streamed=0 -\n"
	"R Change sid=5:2 cid=- cls=- st=7 inst=- send=0 has=0 streamed=0 -\n"
	"R Delete sid=5:8 cid=- cls=- st=8 inst=- send=0 has=0 streamed=0 -\n"
	"R Fetch sid=5:5 cid=- cls=- st=1 inst=- send=0 has=1 streamed=0 <ApplicationData xmlns=\"AirSync:\">"
	"<Subject xmlns=\"Email:\">Fetched</Subject></ApplicationData>\n"
	"E id=5 more=1 cmds=4 resps=4\n"
	"B cls=- key=0 id=7 st=3\n"
	"E id=7 more=0 cmds=0 resps=0\n";

static void test_spec_response_field_by_field(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	char err[200];
	assert_int_equal(parse_xml(&r, spec_response, err, sizeof err), 0);
	assert_string_equal(log_text(&r), spec_log);
	assert_int_equal(r.summary.empty, 0);
	assert_int_equal(r.summary.has_status, 0);
	assert_int_equal(r.summary.collections, 3);
	assert_int_equal(r.summary.commands, 4);
	assert_int_equal(r.summary.responses, 4);
	rec_free(&r);
}

/* The email of the Add, typed: the Sync parser's item document goes straight into eas_email_decode. */
static int grab_first_add(const eas_sync_collection *c, const eas_sync_item *it, void *ud)
{
	(void)c;
	eas_email *e = ud;
	if (it->op != EAS_SYNC_OP_ADD || e->subject)
		return 0;
	char err[128];
	assert_int_equal(eas_email_decode(e, it->data, it->data_len, NULL, err, sizeof err), 0);
	return 0;
}

static void test_spec_response_email_typed(void **state)
{
	(void)state;
	eas_buf w;
	xmldoc_to_wbxml(&w, spec_response);
	eas_email e;
	memset(&e, 0, sizeof e);
	eas_sync_parser_callbacks cb = EAS_SYNC_PARSER_CALLBACKS_INIT;
	cb.command = grab_first_add;
	eas_sync_parser *p;
	assert_int_equal(eas_sync_parser_new(&p, &cb, NULL, NULL, &e), 0);
	assert_int_equal(eas_sync_parser_feed(p, w.data, w.len, NULL), 0);
	assert_int_equal(eas_sync_parser_finish(p), 0);
	eas_sync_parser_free(p);
	eas_buf_free(&w);
	assert_string_equal(e.to, "\"Device User\" <deviceuser@example.com>");
	assert_string_equal(e.subject, "New mail message");
	assert_string_equal(e.date_received, "2009-07-29T19:25:37.817Z");
	assert_true(e.has_importance);
	assert_int_equal(e.importance, 1);
	assert_true(e.has_read);
	assert_int_equal(e.read, 0);
	assert_true(e.body.present);
	assert_int_equal(e.body.type, EAS_BODY_TYPE_PLAIN);
	assert_int_equal(e.body.estimated_data_size, 11);
	assert_int_equal(e.body.data_len, 11);
	assert_memory_equal(e.body.data, "Hello world", 11);
	assert_true(e.flag.present);
	assert_false(e.flag.has_status);
	assert_int_equal(e.native_body_type, 1);
	eas_email_clear(&e);
}

/* 12.1: Class in the Collection and in Responses/Add. */
static void test_response_12_1_class(void **state)
{
	(void)state;
	rec r;
	rec_init(&r);
	char err[200];
	assert_int_equal(parse_xml(&r, SYNC "<Collections><Collection><Class>Contacts</Class><SyncKey>k</SyncKey>"
				   "<CollectionId>2</CollectionId><Status>1</Status><Responses><Add><ClientId>9</ClientId>"
				   "<ServerId>2:1</ServerId><Status>1</Status><Class>Contacts</Class></Add></Responses>"
				   "</Collection></Collections></Sync>", err, sizeof err), 0);
	assert_string_equal(log_text(&r), "B cls=Contacts key=k id=2 st=1\n"
			    "R Add sid=2:1 cid=9 cls=Contacts st=1 inst=- send=0 has=0 streamed=0 -\n"
			    "E id=2 more=0 cmds=0 resps=1\n");
	rec_free(&r);
}

/* Whole-request failures: a top-level Status and no collections; Limit with 14 and 15. */
static void test_response_top_level_status(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		uint32_t status;
		int has_limit;
		uint32_t limit;
	} cases[] = {
		{ "<Sync xmlns=\"AirSync:\"><Status>4</Status></Sync>", 4, 0, 0 },
		{ "<Sync xmlns=\"AirSync:\"><Status>12</Status></Sync>", 12, 0, 0 },
		{ "<Sync xmlns=\"AirSync:\"><Status>13</Status></Sync>", 13, 0, 0 },
		{ "<Sync xmlns=\"AirSync:\"><Status>14</Status><Limit>59</Limit></Sync>", 14, 1, 59 },
		{ "<Sync xmlns=\"AirSync:\"><Status>15</Status><Limit>1000</Limit></Sync>", 15, 1, 1000 },
		{ "<Sync xmlns=\"AirSync:\"><Status>16</Status></Sync>", 16, 0, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		rec r;
		rec_init(&r);
		char err[200];
		assert_int_equal(parse_xml(&r, cases[i].xml, err, sizeof err), 0);
		assert_int_equal(r.log.len, 0);
		assert_false(r.summary.empty);
		assert_true(r.summary.has_status);
		assert_int_equal(r.summary.status, cases[i].status);
		assert_int_equal(r.summary.has_limit, cases[i].has_limit);
		assert_int_equal(r.summary.limit, cases[i].limit);
		assert_int_equal(r.summary.collections, 0);
		rec_free(&r);
	}
}

/* 12.1+: HTTP 200 with an empty body means nothing changed. */
static void test_response_empty_body(void **state)
{
	(void)state;
	eas_sync_parser *p;
	assert_int_equal(eas_sync_parser_new(&p, NULL, NULL, NULL, NULL), 0);
	assert_int_equal(eas_sync_parser_feed(p, NULL, 0, NULL), 0);
	assert_int_equal(eas_sync_parser_finish(p), 0);
	const eas_sync_summary *s = eas_sync_parser_summary(p);
	assert_true(s->empty);
	assert_false(s->has_status);
	assert_int_equal(s->collections, 0);
	/* A reset parser reads a real response next. */
	eas_sync_parser_reset(p);
	eas_buf w;
	xmldoc_to_wbxml(&w, "<Sync xmlns=\"AirSync:\"><Status>4</Status></Sync>");
	assert_int_equal(eas_sync_parser_feed(p, w.data, w.len, NULL), 0);
	assert_int_equal(eas_sync_parser_finish(p), 0);
	assert_false(s->empty);
	assert_int_equal(s->status, 4);
	/* A header alone is not empty: truncated. */
	eas_sync_parser_reset(p);
	assert_int_equal(eas_sync_parser_feed(p, w.data, 4, NULL), 0);
	assert_int_equal(eas_sync_parser_finish(p), EAS_E_TRUNCATED);
	eas_buf_free(&w);
	eas_sync_parser_free(p);
}

/* ---- splits, byte by byte, pauses ---------------------------------------------------------- */

static void test_every_split_and_byte_by_byte(void **state)
{
	(void)state;
	eas_buf w;
	xmldoc_to_wbxml(&w, spec_response);
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.big_value_threshold = 8; /* the 11-byte body and the long addresses stream */
	rec whole;
	rec_init(&whole);
	assert_int_equal(parse(&whole, w.data, w.len, 0, 0, &opt, NULL, NULL, 0), 0);
	const char *want = log_text(&whole);
	assert_non_null(strstr(want, "V Body/Data sid=5:1 kind=0 total=0 len=11"));
	for (size_t split = 1; split < w.len; split++) {
		for (int pause = 0; pause < 2; pause++) {
			rec r;
			rec_init(&r);
			r.pause = pause;
			assert_int_equal(parse(&r, w.data, w.len, split, 0, &opt, NULL, NULL, 0), 0);
			if (strcmp(log_text(&r), want) != 0)
				fail_msg("split at %zu (pause %d):\n%s\nwanted:\n%s", split, pause, log_text(&r), want);
			rec_free(&r);
		}
	}
	rec r;
	rec_init(&r);
	assert_int_equal(parse(&r, w.data, w.len, 0, 1, &opt, NULL, NULL, 0), 0);
	assert_string_equal(log_text(&r), want);
	rec_free(&r);
	/* Byte by byte, pausing at every callback, without big values. */
	rec_init(&r);
	r.pause = 1;
	assert_int_equal(parse(&r, w.data, w.len, 0, 1, NULL, NULL, NULL, 0), 0);
	assert_string_equal(log_text(&r), spec_log);
	rec_free(&r);
	rec_free(&whole);
	eas_buf_free(&w);
}

/* An empty <Collection/> ends in one event: its begin and end both report, across a pause. */
static void test_pause_in_empty_collection(void **state)
{
	(void)state;
	eas_buf w;
	xmldoc_to_wbxml(&w, "<Sync xmlns=\"AirSync:\"><Collections><Collection><CollectionId>3</CollectionId>"
			    "<Status>12</Status></Collection></Collections></Sync>");
	rec r;
	rec_init(&r);
	r.pause = 1;
	eas_sync_parser_callbacks cb = all_callbacks(0);
	eas_sync_parser *p;
	assert_int_equal(eas_sync_parser_new(&p, &cb, NULL, NULL, &r), 0);
	size_t used = 0;
	assert_int_equal(eas_sync_parser_feed(p, w.data, w.len, &used), EAS_E_PAUSED);
	assert_string_equal(log_text(&r), "B cls=- key=- id=3 st=12\n");
	/* The end comes first thing on the next call, which consumes nothing. */
	size_t used2 = 99;
	assert_int_equal(eas_sync_parser_feed(p, w.data + used, w.len - used, &used2), EAS_E_PAUSED);
	assert_int_equal(used2, 0);
	assert_string_equal(log_text(&r), "B cls=- key=- id=3 st=12\nE id=3 more=0 cmds=0 resps=0\n");
	assert_int_equal(eas_sync_parser_feed(p, w.data + used, w.len - used, &used2), 0);
	assert_int_equal(eas_sync_parser_finish(p), 0);
	eas_sync_parser_free(p);
	rec_free(&r);
	/* The same pending end is delivered by finish when the document ends there. */
	eas_buf_free(&w);
	xmldoc_to_wbxml(&w, "<Sync xmlns=\"AirSync:\"><Collections><Collection><CollectionId>3</CollectionId>"
			    "<Status>12</Status></Collection></Collections></Sync>");
	rec_init(&r);
	r.pause = 1;
	assert_int_equal(parse(&r, w.data, w.len, 0, 0, NULL, NULL, NULL, 0), 0);
	assert_string_equal(log_text(&r), "B cls=- key=- id=3 st=12\nE id=3 more=0 cmds=0 resps=0\n");
	rec_free(&r);
	eas_buf_free(&w);
}

/* ---- request: both directions ------------------------------------------------------------- */

static int enc_request(eas_wbxml_encoder *enc, const void *arg)
{
	const struct {
		const eas_sync_request *req;
		unsigned version;
	} *a = arg;
	return eas_sync_request_encode(enc, a->req, a->version);
}

static char *request_xml(const eas_sync_request *req, unsigned version)
{
	struct {
		const eas_sync_request *req;
		unsigned version;
	} a = { req, version };
	return xmldoc_encode(enc_request, &a, version);
}

static int request_rc(const eas_sync_request *req, unsigned version)
{
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, version, NULL), 0);
	int rc = eas_sync_request_encode(enc, req, version);
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&b);
	return rc;
}

/* MS-ASCMD 4.5.1: the first Sync of a folder, with SyncKey 0. */
static void test_request_initial_key(void **state)
{
	(void)state;
	eas_sync_collection_request c;
	memset(&c, 0, sizeof c);
	c.sync_key = "0";
	c.collection_id = "1";
	eas_sync_request req;
	memset(&req, 0, sizeof req);
	req.collections = &c;
	req.collection_count = 1;
	char *xml = request_xml(&req, EAS_PROTO_14_1);
	assert_string_equal(xml, PROLOG "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>0</SyncKey>"
			    "<CollectionId>1</CollectionId></Collection></Collections></Sync>");
	eas_tree *t = xmldoc_tree(xml);
	eas_sync_request back;
	char err[160];
	assert_int_equal(eas_sync_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_sync_collection_request bc;
	assert_int_equal(eas_sync_request_next_collection(&back, &cur, &bc, err, sizeof err), 1);
	assert_string_equal(bc.sync_key, "0");
	assert_string_equal(bc.collection_id, "1");
	assert_false(bc.has_get_changes);
	assert_int_equal(bc.option_count, 0);
	assert_null(bc.commands_node);
	assert_int_equal(eas_sync_request_next_collection(&back, &cur, &bc, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
}

/* A client Add's ApplicationData written by a callback: an email draft. */
static int write_draft(eas_wbxml_encoder *enc, void *arg)
{
	return eas_email_encode(enc, arg, EAS_PROTO_16_1);
}

static void test_request_all_fields_round_trip(void **state)
{
	(void)state;
	eas_email draft;
	memset(&draft, 0, sizeof draft);
	draft.to = "a@example.com";
	draft.subject = "Draft";
	/* A Change carrying a ready-made ApplicationData document. */
	eas_buf change_doc;
	xmldoc_to_wbxml(&change_doc, "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\">"
				     "<email:Read>1</email:Read></ApplicationData>");
	eas_sync_item cmds[4];
	memset(cmds, 0, sizeof cmds);
	cmds[0].op = EAS_SYNC_OP_ADD;
	cmds[0].client_id = "c-1";
	cmds[0].write_data = write_draft;
	cmds[0].write_arg = &draft;
	cmds[0].send = 1;
	cmds[1].op = EAS_SYNC_OP_CHANGE;
	cmds[1].server_id = "5:2";
	cmds[1].data = change_doc.data;
	cmds[1].data_len = change_doc.len;
	cmds[2].op = EAS_SYNC_OP_DELETE;
	cmds[2].server_id = "5:3";
	cmds[2].instance_id = "20240301T083000Z";
	cmds[3].op = EAS_SYNC_OP_FETCH;
	cmds[3].server_id = "5:4";
	static const eas_tag supported[] = { EAS_TAG_EMAIL_READ, EAS_TAG_EMAIL_FLAG };
	eas_sync_collection_request c;
	memset(&c, 0, sizeof c);
	c.sync_key = "abc";
	c.collection_id = "5";
	c.has_supported = 1;
	c.supported = supported;
	c.supported_count = 2;
	c.has_deletes_as_moves = 1;
	c.deletes_as_moves = 0;
	c.has_get_changes = 1;
	c.get_changes = 1;
	c.has_window_size = 1;
	c.window_size = 100;
	c.has_conversation_mode = 1;
	c.conversation_mode = 1;
	c.option_count = 2;
	eas_sync_options *o = &c.options[0];
	o->class_name = "Email";
	o->has_filter_type = 1;
	o->filter_type = 3;
	o->body_pref_count = 2;
	o->body_prefs[0].type = 2;
	o->body_prefs[0].has_truncation_size = 1;
	o->body_prefs[0].truncation_size = 5120;
	o->body_prefs[0].has_all_or_none = 1;
	o->body_prefs[0].all_or_none = 0;
	o->body_prefs[0].has_preview = 1;
	o->body_prefs[0].preview = 255;
	o->body_prefs[1].type = 4;
	o->body_part_pref_count = 1;
	o->body_part_prefs[0].type = 2;
	o->body_part_prefs[0].has_truncation_size = 1;
	o->body_part_prefs[0].truncation_size = 1000;
	o->has_conflict = 1;
	o->conflict = 1;
	o->has_mime_support = 1;
	o->mime_support = 2;
	o->has_mime_truncation = 1;
	o->mime_truncation = 8;
	o->has_max_items = 1;
	o->max_items = 50;
	o->rights_management_support = 1;
	c.options[1].class_name = "SMS";
	c.options[1].has_filter_type = 1;
	c.options[1].filter_type = 1;
	c.commands = cmds;
	c.command_count = 4;
	eas_sync_request req;
	memset(&req, 0, sizeof req);
	req.collections = &c;
	req.collection_count = 1;
	req.has_heartbeat_interval = 1;
	req.heartbeat_interval = 480;
	req.has_window_size = 1;
	req.window_size = 512;
	req.partial = 1;
	char *xml = request_xml(&req, EAS_PROTO_16_1);
	assert_string_equal(xml, PROLOG "<Sync xmlns=\"AirSync:\"><Collections><Collection>"
		"<SyncKey>abc</SyncKey><CollectionId>5</CollectionId>"
		"<Supported><Read xmlns=\"Email:\"/><Flag xmlns=\"Email:\"/></Supported>"
		"<DeletesAsMoves>0</DeletesAsMoves><GetChanges>1</GetChanges><WindowSize>100</WindowSize>"
		"<ConversationMode>1</ConversationMode>"
		"<Options><Class>Email</Class><FilterType>3</FilterType>"
		"<BodyPreference xmlns=\"AirSyncBase:\"><Type>2</Type><TruncationSize>5120</TruncationSize>"
		"<AllOrNone>0</AllOrNone><Preview>255</Preview></BodyPreference>"
		"<BodyPreference xmlns=\"AirSyncBase:\"><Type>4</Type></BodyPreference>"
		"<BodyPartPreference xmlns=\"AirSyncBase:\"><Type>2</Type><TruncationSize>1000</TruncationSize>"
		"</BodyPartPreference>"
		"<Conflict>1</Conflict><MIMESupport>2</MIMESupport><MIMETruncation>8</MIMETruncation>"
		"<MaxItems>50</MaxItems><RightsManagementSupport xmlns=\"RightsManagement:\">1</RightsManagementSupport>"
		"</Options>"
		"<Options><Class>SMS</Class><FilterType>1</FilterType></Options>"
		"<Commands>"
		"<Add><ClientId>c-1</ClientId><ApplicationData><To xmlns=\"Email:\">a@example.com</To>"
		"<Subject xmlns=\"Email:\">Draft</Subject></ApplicationData><Send xmlns=\"Email2:\"/></Add>"
		"<Change><ServerId>5:2</ServerId><ApplicationData><Read xmlns=\"Email:\">1</Read></ApplicationData></Change>"
		"<Delete><ServerId>5:3</ServerId><InstanceId xmlns=\"AirSyncBase:\">20240301T083000Z</InstanceId></Delete>"
		"<Fetch><ServerId>5:4</ServerId></Fetch>"
		"</Commands></Collection></Collections>"
		"<HeartbeatInterval>480</HeartbeatInterval><WindowSize>512</WindowSize><Partial/></Sync>");

	/* The server's view of the same bytes. */
	eas_tree *t = xmldoc_tree(xml);
	eas_sync_request back;
	char err[160];
	assert_int_equal(eas_sync_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	assert_false(back.has_wait);
	assert_true(back.has_heartbeat_interval);
	assert_int_equal(back.heartbeat_interval, 480);
	assert_true(back.has_window_size);
	assert_int_equal(back.window_size, 512);
	assert_true(back.partial);
	const eas_node *cur = NULL;
	eas_sync_collection_request bc;
	assert_int_equal(eas_sync_request_next_collection(&back, &cur, &bc, err, sizeof err), 1);
	assert_string_equal(bc.sync_key, "abc");
	assert_string_equal(bc.collection_id, "5");
	assert_null(bc.class_name);
	assert_true(bc.has_supported);
	assert_int_equal(bc.supported_count, 2);
	assert_int_equal(bc.supported_node->first->tag, EAS_TAG_EMAIL_READ);
	assert_true(bc.has_deletes_as_moves);
	assert_int_equal(bc.deletes_as_moves, 0);
	assert_true(bc.has_get_changes);
	assert_int_equal(bc.get_changes, 1);
	assert_int_equal(bc.window_size, 100);
	assert_int_equal(bc.conversation_mode, 1);
	assert_int_equal(bc.option_count, 2);
	const eas_sync_options *bo = &bc.options[0];
	assert_string_equal(bo->class_name, "Email");
	assert_int_equal(bo->filter_type, 3);
	assert_int_equal(bo->body_pref_count, 2);
	assert_int_equal(bo->body_prefs[0].type, 2);
	assert_int_equal(bo->body_prefs[0].truncation_size, 5120);
	assert_true(bo->body_prefs[0].has_all_or_none);
	assert_int_equal(bo->body_prefs[0].all_or_none, 0);
	assert_int_equal(bo->body_prefs[0].preview, 255);
	assert_int_equal(bo->body_prefs[1].type, 4);
	assert_false(bo->body_prefs[1].has_truncation_size);
	assert_int_equal(bo->body_part_pref_count, 1);
	assert_int_equal(bo->body_part_prefs[0].truncation_size, 1000);
	assert_int_equal(bo->conflict, 1);
	assert_int_equal(bo->mime_support, 2);
	assert_int_equal(bo->mime_truncation, 8);
	assert_int_equal(bo->max_items, 50);
	assert_true(bo->rights_management_support);
	assert_string_equal(bc.options[1].class_name, "SMS");
	assert_int_equal(bc.options[1].filter_type, 1);

	const eas_node *cc = NULL;
	eas_sync_item it;
	assert_int_equal(eas_sync_collection_next_command(&bc, &cc, &it, err, sizeof err), 1);
	assert_int_equal(it.op, EAS_SYNC_OP_ADD);
	assert_string_equal(it.client_id, "c-1");
	assert_true(it.send);
	assert_non_null(it.app_data);
	assert_string_equal(eas_node_child_text(it.app_data, EAS_TAG_EMAIL_SUBJECT), "Draft");
	assert_int_equal(eas_sync_collection_next_command(&bc, &cc, &it, err, sizeof err), 1);
	assert_int_equal(it.op, EAS_SYNC_OP_CHANGE);
	assert_string_equal(it.server_id, "5:2");
	assert_string_equal(eas_node_child_text(it.app_data, EAS_TAG_EMAIL_READ), "1");
	assert_int_equal(eas_sync_collection_next_command(&bc, &cc, &it, err, sizeof err), 1);
	assert_int_equal(it.op, EAS_SYNC_OP_DELETE);
	assert_string_equal(it.instance_id, "20240301T083000Z");
	assert_null(it.app_data);
	assert_int_equal(eas_sync_collection_next_command(&bc, &cc, &it, err, sizeof err), 1);
	assert_int_equal(it.op, EAS_SYNC_OP_FETCH);
	assert_string_equal(it.server_id, "5:4");
	assert_int_equal(eas_sync_collection_next_command(&bc, &cc, &it, err, sizeof err), 0);
	assert_int_equal(eas_sync_request_next_collection(&back, &cur, &bc, err, sizeof err), 0);
	eas_tree_free(t);
	free(xml);
	eas_buf_free(&change_doc);
}

/* 12.1 puts the class in the Collection, 2.5 has Truncation; newer elements are refused. */
static void test_request_version_gates(void **state)
{
	(void)state;
	eas_sync_collection_request c;
	memset(&c, 0, sizeof c);
	c.class_name = "Email";
	c.sync_key = "1";
	c.collection_id = "5";
	c.option_count = 1;
	c.options[0].has_filter_type = 1;
	c.options[0].filter_type = 2;
	c.options[0].has_truncation = 1;
	c.options[0].truncation = 4;
	eas_sync_request req;
	memset(&req, 0, sizeof req);
	req.collections = &c;
	req.collection_count = 1;
	char *xml = request_xml(&req, EAS_PROTO_2_5);
	assert_string_equal(xml, PROLOG "<Sync xmlns=\"AirSync:\"><Collections><Collection><Class>Email</Class>"
			    "<SyncKey>1</SyncKey><CollectionId>5</CollectionId><Options><FilterType>2</FilterType>"
			    "<Truncation>4</Truncation></Options></Collection></Collections></Sync>");
	eas_tree *t = xmldoc_tree(xml);
	eas_sync_request back;
	char err[160];
	assert_int_equal(eas_sync_request_decode(&back, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_sync_collection_request bc;
	assert_int_equal(eas_sync_request_next_collection(&back, &cur, &bc, err, sizeof err), 1);
	assert_string_equal(bc.class_name, "Email");
	assert_int_equal(bc.options[0].truncation, 4);
	eas_tree_free(t);
	free(xml);

	/* Truncation is 2.5 only; Collection/Class stops at 12.1; Options/Class starts at 14.0. */
	assert_int_equal(request_rc(&req, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	c.options[0].has_truncation = 0;
	assert_int_equal(request_rc(&req, EAS_PROTO_12_1), 0);
	assert_int_equal(request_rc(&req, EAS_PROTO_14_0), EAS_E_UNSUPPORTED);
	c.class_name = NULL;
	c.options[0].class_name = "Email";
	assert_int_equal(request_rc(&req, EAS_PROTO_14_0), 0);
	assert_int_equal(request_rc(&req, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	c.options[0].class_name = NULL;
	/* Wait from 12.1, HeartbeatInterval and ConversationMode from 14.0, BodyPartPreference from 14.1. */
	req.has_wait = 1;
	req.wait = 10;
	assert_int_equal(request_rc(&req, EAS_PROTO_12_0), EAS_E_UNSUPPORTED);
	assert_int_equal(request_rc(&req, EAS_PROTO_12_1), 0);
	req.has_heartbeat_interval = 1;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), EAS_E_INVALID); /* never both */
	req.has_wait = 0;
	assert_int_equal(request_rc(&req, EAS_PROTO_12_1), EAS_E_UNSUPPORTED);
	assert_int_equal(request_rc(&req, EAS_PROTO_14_0), 0);
	c.has_conversation_mode = 1;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_0), 0);
	c.options[0].body_part_pref_count = 1;
	c.options[0].body_part_prefs[0].type = 2;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_0), EAS_E_UNSUPPORTED);
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), 0);
	/* Missing pieces. */
	c.sync_key = NULL;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), EAS_E_INVALID);
	c.sync_key = "1";
	eas_sync_item add;
	memset(&add, 0, sizeof add);
	add.op = EAS_SYNC_OP_ADD;
	add.client_id = "1";
	c.commands = &add;
	c.command_count = 1;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), EAS_E_INVALID); /* no ApplicationData */
	add.op = EAS_SYNC_OP_SOFT_DELETE;
	add.server_id = "1";
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), EAS_E_INVALID);
	add.op = EAS_SYNC_OP_CHANGE;
	static const uint8_t not_appdata[] = { 0x03, 0x01, 0x6A, 0x00, 0x05 }; /* <Sync/> */
	add.data = not_appdata;
	add.data_len = sizeof not_appdata;
	assert_int_equal(request_rc(&req, EAS_PROTO_14_1), EAS_E_INVALID);
	assert_int_equal(request_rc(NULL, EAS_PROTO_14_1), EAS_E_INVALID);
}

static void test_request_decode_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		const char *message;
	} cases[] = {
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><CollectionId>1</CollectionId></Collection>"
		  "</Collections></Sync>", "missing AirSync:SyncKey" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey></Collection>"
		  "</Collections></Sync>", "missing AirSync:CollectionId" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<WindowSize>lots</WindowSize></Collection></Collections></Sync>", "WindowSize is not a number: 'lots'" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><Class>Posts</Class><SyncKey>1</SyncKey>"
		  "<CollectionId>1</CollectionId></Collection></Collections></Sync>", "unknown Class 'Posts'" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<GetChanges>yes</GetChanges></Collection></Collections></Sync>", "GetChanges is not a boolean" },
		{ "<Sync xmlns=\"AirSync:\" xmlns:b=\"AirSyncBase:\"><Collections><Collection><SyncKey>1</SyncKey>"
		  "<CollectionId>1</CollectionId><Options><b:BodyPreference/></Options></Collection></Collections></Sync>",
		  "missing AirSyncBase:Type" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<Options/><Options/><Options/><Options/><Options/></Collection></Collections></Sync>",
		  "more than 4 Options" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<Commands><Add><ApplicationData/></Add></Commands></Collection></Collections></Sync>",
		  "Add without ClientId" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<Commands><Change><ServerId>1:1</ServerId></Change></Commands></Collection></Collections></Sync>",
		  "Change 1:1 without ApplicationData" },
		{ "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1</SyncKey><CollectionId>1</CollectionId>"
		  "<Commands><Delete/></Commands></Collection></Collections></Sync>", "Delete without ServerId" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		eas_tree *t = xmldoc_tree(cases[i].xml);
		eas_sync_request req;
		char err[160] = "";
		int rc = eas_sync_request_decode(&req, eas_tree_root(t), err, sizeof err);
		const eas_node *cur = NULL;
		eas_sync_collection_request c;
		if (rc == 0)
			rc = eas_sync_request_next_collection(&req, &cur, &c, err, sizeof err);
		if (rc == 1) {
			const eas_node *cc = NULL;
			eas_sync_item it;
			rc = eas_sync_collection_next_command(&c, &cc, &it, err, sizeof err);
		}
		if (rc != EAS_E_MALFORMED || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d '%s' lacks '%s'", i, rc, err, cases[i].message);
		eas_tree_free(t);
	}
	eas_tree *t = xmldoc_tree("<Ping xmlns=\"Ping:\"><Status>1</Status></Ping>");
	eas_sync_request req;
	char err[160];
	assert_int_equal(eas_sync_request_decode(&req, eas_tree_root(t), err, sizeof err), EAS_E_MALFORMED);
	assert_non_null(strstr(err, "expected AirSync:Sync"));
	eas_tree_free(t);
	/* Wait and HeartbeatInterval together decode: the server answers Status 4. */
	t = xmldoc_tree("<Sync xmlns=\"AirSync:\"><Wait>5</Wait><HeartbeatInterval>300</HeartbeatInterval></Sync>");
	assert_int_equal(eas_sync_request_decode(&req, eas_tree_root(t), err, sizeof err), 0);
	assert_true(req.has_wait && req.has_heartbeat_interval);
	assert_null(req.collections_node);
	eas_tree_free(t);
}

/* ---- response: the server's writer, and back through the parser -------------------------- */

typedef struct email_arg {
	const eas_email *email;
	unsigned version;
} email_arg;

static int write_email(eas_wbxml_encoder *enc, void *arg)
{
	email_arg *a = arg;
	return eas_email_encode(enc, a->email, a->version);
}

static void test_writer_round_trip(void **state)
{
	(void)state;
	eas_email mail;
	memset(&mail, 0, sizeof mail);
	mail.from = "x@example.com";
	mail.subject = "Hi";
	mail.has_read = 1;
	mail.body.present = 1;
	mail.body.type = EAS_BODY_TYPE_PLAIN;
	mail.body.has_data = 1;
	mail.body.data = "text";
	mail.body.data_len = 4;
	email_arg ea = { &mail, EAS_PROTO_14_1 };
	eas_buf fetched;
	xmldoc_to_wbxml(&fetched, "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\">"
				  "<email:Subject>F</email:Subject></ApplicationData>");

	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL), 0);
	eas_sync_writer w;
	assert_int_equal(eas_sync_writer_begin(&w, enc, EAS_PROTO_14_1), 0);
	eas_sync_collection c1 = { NULL, "k2", "5", 1, 0, 0, 0 };
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c1), 0);
	eas_sync_item r1;
	memset(&r1, 0, sizeof r1);
	r1.op = EAS_SYNC_OP_ADD;
	r1.client_id = "c-1";
	r1.server_id = "5:10";
	r1.has_status = 1;
	r1.status = 1;
	assert_int_equal(eas_sync_writer_response(&w, &r1), 0);
	eas_sync_item r2;
	memset(&r2, 0, sizeof r2);
	r2.op = EAS_SYNC_OP_FETCH;
	r2.server_id = "5:5";
	r2.has_status = 1;
	r2.status = 1;
	r2.data = fetched.data;
	r2.data_len = fetched.len;
	assert_int_equal(eas_sync_writer_response(&w, &r2), 0);
	eas_sync_item a;
	memset(&a, 0, sizeof a);
	a.op = EAS_SYNC_OP_ADD;
	a.server_id = "5:1";
	a.write_data = write_email;
	a.write_arg = &ea;
	assert_int_equal(eas_sync_writer_command(&w, &a), 0);
	eas_sync_item d;
	memset(&d, 0, sizeof d);
	d.op = EAS_SYNC_OP_SOFT_DELETE;
	d.server_id = "5:3";
	assert_int_equal(eas_sync_writer_command(&w, &d), 0);
	/* Responses were closed when Commands opened: once per collection. */
	assert_int_equal(eas_sync_writer_response(&w, &r1), EAS_E_STATE);
	assert_int_equal(eas_sync_writer_collection_end(&w, 1), 0);
	eas_sync_collection c2 = { NULL, NULL, "7", 3, 0, 0, 0 };
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c2), 0);
	assert_int_equal(eas_sync_writer_collection_end(&w, 0), 0);
	assert_int_equal(eas_sync_writer_command(&w, &d), EAS_E_STATE);
	assert_int_equal(eas_sync_writer_end(&w), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);

	char *xml = xmldoc_from_wbxml(out.data, out.len);
	assert_string_equal(xml, PROLOG "<Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>k2</SyncKey>"
		"<CollectionId>5</CollectionId><Status>1</Status><Responses>"
		"<Add><ClientId>c-1</ClientId><ServerId>5:10</ServerId><Status>1</Status></Add>"
		"<Fetch><ServerId>5:5</ServerId><Status>1</Status><ApplicationData><Subject xmlns=\"Email:\">F</Subject>"
		"</ApplicationData></Fetch></Responses>"
		"<Commands><Add><ServerId>5:1</ServerId><ApplicationData><From xmlns=\"Email:\">x@example.com</From>"
		"<Subject xmlns=\"Email:\">Hi</Subject><Read xmlns=\"Email:\">0</Read><Body xmlns=\"AirSyncBase:\">"
		"<Type>1</Type><Data>text</Data></Body></ApplicationData></Add>"
		"<SoftDelete><ServerId>5:3</ServerId></SoftDelete></Commands><MoreAvailable/></Collection>"
		"<Collection><CollectionId>7</CollectionId><Status>3</Status></Collection></Collections></Sync>");
	free(xml);

	rec r;
	rec_init(&r);
	assert_int_equal(parse(&r, out.data, out.len, 0, 0, NULL, NULL, NULL, 0), 0);
	assert_string_equal(log_text(&r),
		"B cls=- key=k2 id=5 st=1\n"
		"R Add sid=5:10 cid=c-1 cls=- st=1 inst=- send=0 has=0 streamed=0 -\n"
		"R Fetch sid=5:5 cid=- cls=- st=1 inst=- send=0 has=1 streamed=0 <ApplicationData xmlns=\"AirSync:\">"
		"<Subject xmlns=\"Email:\">F</Subject></ApplicationData>\n"
		"C Add sid=5:1 cid=- cls=- st=- inst=- send=0 has=1 streamed=0 <ApplicationData xmlns=\"AirSync:\">"
		"<From xmlns=\"Email:\">x@example.com</From><Subject xmlns=\"Email:\">Hi</Subject>"
		"<Read xmlns=\"Email:\">0</Read><Body xmlns=\"AirSyncBase:\"><Type>1</Type><Data>text</Data></Body>"
		"</ApplicationData>\n"
		"C SoftDelete sid=5:3 cid=- cls=- st=- inst=- send=0 has=0 streamed=0 -\n"
		"E id=5 more=1 cmds=2 resps=2\n"
		"B cls=- key=- id=7 st=3\n"
		"E id=7 more=0 cmds=0 resps=0\n");
	rec_free(&r);
	eas_buf_free(&out);
	eas_buf_free(&fetched);

	/* A status-only response, and the writer's argument checks. */
	xml = NULL;
	eas_buf_init(&out, NULL, 0);
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_sync_response_encode_status(enc, 14, 1, 59), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	xml = xmldoc_from_wbxml(out.data, out.len);
	assert_string_equal(xml, PROLOG "<Sync xmlns=\"AirSync:\"><Status>14</Status><Limit>59</Limit></Sync>");
	free(xml);
	eas_buf_reset(&out);
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL), 0);
	assert_int_equal(eas_sync_writer_begin(&w, enc, EAS_PROTO_14_1), 0);
	assert_int_equal(eas_sync_writer_command(&w, &d), EAS_E_STATE); /* no collection open */
	eas_sync_collection bad = { NULL, NULL, "5", 1, 0, 0, 0 };
	assert_int_equal(eas_sync_writer_collection_begin(&w, &bad), EAS_E_INVALID); /* status 1 needs a key */
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c1), 0);
	r1.has_status = 0;
	assert_int_equal(eas_sync_writer_response(&w, &r1), EAS_E_INVALID);
	a.write_data = NULL;
	assert_int_equal(eas_sync_writer_command(&w, &a), EAS_E_INVALID);
	d.op = EAS_SYNC_OP_FETCH;
	assert_int_equal(eas_sync_writer_command(&w, &d), EAS_E_INVALID);
	assert_int_equal(eas_sync_writer_end(&w), EAS_E_STATE); /* collection still open */
	eas_wbxml_encoder_free(enc);
	eas_buf_free(&out);
}

/* ---- 10,000 items with flat memory ----------------------------------------------------------- */

/* The server writes straight into the client's parser: no side holds the response. */
typedef struct pipe_ {
	eas_sync_parser *parser;
	int rc;
	uint64_t bytes;
} pipe_;

static int pipe_sink(const uint8_t *bytes, size_t len, void *ud)
{
	pipe_ *p = ud;
	p->bytes += len;
	int rc = eas_sync_parser_feed(p->parser, bytes, len, NULL);
	if (rc && !p->rc)
		p->rc = rc;
	return rc;
}

typedef struct gen_email {
	eas_email e;
	char subject[32];
	char body[160];
} gen_email;

static int write_gen(eas_wbxml_encoder *enc, void *arg)
{
	return eas_email_encode(enc, &((gen_email *)arg)->e, EAS_PROTO_14_1);
}

/*
 * Streams a response of n email Adds from the writer into the parser; returns
 * the parser's peak heap.  *server_peak gets the writer side's.
 */
static size_t stream_items(size_t n, size_t *server_peak, uint64_t *bytes)
{
	testmem ptm, stm;
	eas_mem pmem = testmem_init(&ptm, -1), smem = testmem_init(&stm, -1);
	rec r;
	rec_init(&r);
	r.decode_every = 97; /* with libc: the figures below are the parser's alone */
	eas_sync_parser_callbacks cb = all_callbacks(1);
	eas_sync_parser *parser;
	assert_int_equal(eas_sync_parser_new(&parser, &cb, NULL, &pmem, &r), 0);
	pipe_ pp = { parser, 0, 0 };
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, pipe_sink, &pp, EAS_PROTO_14_1, &smem), 0);
	eas_sync_writer w;
	assert_int_equal(eas_sync_writer_begin(&w, enc, EAS_PROTO_14_1), 0);
	eas_sync_collection c = { NULL, "2", "5", 1, 0, 0, 0 };
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c), 0);
	gen_email g;
	for (size_t i = 1; i <= n; i++) {
		memset(&g, 0, sizeof g);
		snprintf(g.subject, sizeof g.subject, "Message %zu", i);
		snprintf(g.body, sizeof g.body, "Body of message %zu: lorem ipsum dolor sit amet, consectetur "
			 "adipiscing elit, sed do eiusmod tempor.", i);
		g.e.to = "\"Device User\" <deviceuser@example.com>";
		g.e.from = "\"Sender\" <sender@example.com>";
		g.e.subject = g.subject;
		g.e.date_received = "2024-03-01T08:30:00.000Z";
		g.e.has_importance = 1;
		g.e.importance = 1;
		g.e.has_read = 1;
		g.e.message_class = "IPM.Note";
		g.e.internet_cpid = "65001";
		g.e.body.present = 1;
		g.e.body.type = EAS_BODY_TYPE_PLAIN;
		g.e.body.has_estimated_data_size = 1;
		g.e.body.estimated_data_size = (uint32_t)strlen(g.body);
		g.e.body.data = g.body;
		g.e.body.data_len = strlen(g.body);
		char sid[32];
		snprintf(sid, sizeof sid, "5:%zu", i);
		eas_sync_item it;
		memset(&it, 0, sizeof it);
		it.op = EAS_SYNC_OP_ADD;
		it.server_id = sid;
		it.write_data = write_gen;
		it.write_arg = &g;
		assert_int_equal(eas_sync_writer_command(&w, &it), 0);
	}
	assert_int_equal(eas_sync_writer_collection_end(&w, 1), 0);
	assert_int_equal(eas_sync_writer_end(&w), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	assert_int_equal(pp.rc, 0);
	assert_int_equal(eas_sync_parser_finish(parser), 0);
	const eas_sync_summary *s = eas_sync_parser_summary(parser);
	assert_int_equal(s->commands, n);
	assert_int_equal(s->collections, 1);
	assert_int_equal(r.commands, n);
	eas_sync_parser_free(parser);
	assert_int_equal(ptm.live_blocks, 0);
	assert_int_equal(stm.live_blocks, 0);
	rec_free(&r);
	*server_peak = stm.peak_bytes;
	*bytes = pp.bytes;
	return ptm.peak_bytes;
}

static void test_ten_thousand_items_flat_memory(void **state)
{
	(void)state;
	size_t speak_small, speak_big;
	uint64_t bytes_small, bytes_big;
	size_t small = stream_items(100, &speak_small, &bytes_small);
	size_t big = stream_items(10000, &speak_big, &bytes_big);
	print_message("Sync response of 100 items (%llu bytes): parser peak heap %zu bytes, writer %zu bytes\n",
		      (unsigned long long)bytes_small, small, speak_small);
	print_message("Sync response of 10000 items (%llu bytes): parser peak heap %zu bytes, writer %zu bytes\n",
		      (unsigned long long)bytes_big, big, speak_big);
	assert_true(bytes_big > 90 * bytes_small);
	assert_int_equal(big, small);       /* flat: not one byte more for 100 times the items */
	assert_int_equal(speak_big, speak_small);
	assert_true(big < 64 * 1024);
}

/* ---- a 5 MB body, streamed in pieces -------------------------------------------------------- */

#define BIG_BODY (5u << 20)

static uint8_t big_byte(size_t i)
{
	return (uint8_t)('a' + (i * 7 + i / 1000) % 26);
}

static uint32_t big_sum(size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = s * 31u + big_byte(i);
	return s;
}

/* The body as OPAQUE, written 64 KiB at a time from nowhere: the server never holds it either. */
static int write_big_opaque(eas_wbxml_encoder *enc, void *arg)
{
	(void)arg;
	uint8_t piece[65536];
	int rc = eas_wbxml_encoder_opaque_begin(enc, BIG_BODY);
	for (size_t off = 0; rc == 0 && off < BIG_BODY; off += sizeof piece) {
		for (size_t i = 0; i < sizeof piece; i++)
			piece[i] = big_byte(off + i);
		rc = eas_wbxml_encoder_opaque_write(enc, piece, sizeof piece);
	}
	return rc;
}

static int write_big_email(eas_wbxml_encoder *enc, void *arg)
{
	return eas_email_encode(enc, arg, EAS_PROTO_14_1);
}

static void test_five_megabyte_body_streamed(void **state)
{
	(void)state;
	char expect[160];
	/* 1. A STR_I body of 5 MB fed in 64 KiB chunks. */
	char *text = malloc(BIG_BODY + 1);
	assert_non_null(text);
	for (size_t i = 0; i < BIG_BODY; i++)
		text[i] = (char)big_byte(i);
	text[BIG_BODY] = '\0';
	eas_email mail;
	memset(&mail, 0, sizeof mail);
	mail.subject = "Big";
	mail.body.present = 1;
	mail.body.type = EAS_BODY_TYPE_PLAIN;
	mail.body.has_estimated_data_size = 1;
	mail.body.estimated_data_size = BIG_BODY;
	mail.body.data = text;
	mail.body.data_len = BIG_BODY;
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_14_1, NULL), 0);
	eas_sync_writer w;
	assert_int_equal(eas_sync_writer_begin(&w, enc, EAS_PROTO_14_1), 0);
	eas_sync_collection c = { NULL, "3", "5", 1, 0, 0, 0 };
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c), 0);
	eas_sync_item it;
	memset(&it, 0, sizeof it);
	it.op = EAS_SYNC_OP_ADD;
	it.server_id = "5:1";
	it.write_data = write_big_email;
	it.write_arg = &mail;
	assert_int_equal(eas_sync_writer_command(&w, &it), 0);
	assert_int_equal(eas_sync_writer_collection_end(&w, 0), 0);
	assert_int_equal(eas_sync_writer_end(&w), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	free(text);

	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT; /* threshold 32 KiB */
	rec r;
	rec_init(&r);
	assert_int_equal(parse(&r, out.data, out.len, 0, 65536, &opt, &mem, NULL, 0), 0);
	snprintf(expect, sizeof expect, "V Body/Data sid=5:1 kind=0 total=0 len=%u sum=%08x\n", BIG_BODY,
		 (unsigned)big_sum(BIG_BODY));
	assert_non_null(strstr(log_text(&r), expect));
	/* The item's document keeps the element, empty; everything else is there. */
	assert_non_null(strstr(log_text(&r), "C Add sid=5:1 cid=- cls=- st=- inst=- send=0 has=1 streamed=1 "
				"<ApplicationData xmlns=\"AirSync:\"><Subject xmlns=\"Email:\">Big</Subject>"
				"<Body xmlns=\"AirSyncBase:\"><Type>1</Type><EstimatedDataSize>5242880</EstimatedDataSize>"
				"<Data/></Body></ApplicationData>\n"));
	print_message("5 MB STR_I body: %zu pieces of at most %zu bytes, parser peak heap %zu bytes\n", r.big_pieces,
		      r.big_max_piece, tm.peak_bytes);
	assert_true(tm.peak_bytes < 128 * 1024);
	assert_true(r.big_max_piece <= opt.big_value_threshold + 4096);
	assert_int_equal(tm.live_blocks, 0);
	rec_free(&r);
	eas_buf_free(&out);

	/* 2. An OPAQUE body written piecewise by the server straight into the parser. */
	testmem ptm;
	eas_mem pmem = testmem_init(&ptm, -1);
	rec_init(&r);
	eas_sync_parser_callbacks cb = all_callbacks(1);
	eas_sync_parser *parser;
	assert_int_equal(eas_sync_parser_new(&parser, &cb, NULL, &pmem, &r), 0);
	pipe_ pp = { parser, 0, 0 };
	assert_int_equal(eas_wbxml_encoder_new(&enc, pipe_sink, &pp, EAS_PROTO_14_1, NULL), 0);
	mail.body.data = NULL;
	mail.body.data_len = 0;
	mail.body.write_data = write_big_opaque;
	assert_int_equal(eas_sync_writer_begin(&w, enc, EAS_PROTO_14_1), 0);
	assert_int_equal(eas_sync_writer_collection_begin(&w, &c), 0);
	assert_int_equal(eas_sync_writer_command(&w, &it), 0);
	assert_int_equal(eas_sync_writer_collection_end(&w, 0), 0);
	assert_int_equal(eas_sync_writer_end(&w), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	assert_int_equal(pp.rc, 0);
	assert_int_equal(eas_sync_parser_finish(parser), 0);
	eas_sync_parser_free(parser);
	snprintf(expect, sizeof expect, "V Body/Data sid=5:1 kind=1 total=%u len=%u sum=%08x\n", BIG_BODY, BIG_BODY,
		 (unsigned)big_sum(BIG_BODY));
	assert_non_null(strstr(log_text(&r), expect));
	print_message("5 MB OPAQUE body, server to client: %zu pieces, parser peak heap %zu bytes\n", r.big_pieces,
		      ptm.peak_bytes);
	assert_true(ptm.peak_bytes < 64 * 1024);
	assert_int_equal(ptm.live_blocks, 0);
	rec_free(&r);
}

/* Without a big_value callback, a value stays in the item up to max_item, then fails clearly. */
static void test_item_limit(void **state)
{
	(void)state;
	char xml[4096];
	char body[3000];
	memset(body, 'x', sizeof body - 1);
	body[sizeof body - 1] = '\0';
	snprintf(xml, sizeof xml, SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId>"
		 "<Status>1</Status><Commands><Add><ServerId>5:1</ServerId><ApplicationData><airsyncbase:Body>"
		 "<airsyncbase:Type>1</airsyncbase:Type><airsyncbase:Data>%s</airsyncbase:Data></airsyncbase:Body>"
		 "</ApplicationData></Add></Commands></Collection></Collections></Sync>", body);
	eas_buf w;
	xmldoc_to_wbxml(&w, xml);
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.max_item = 1024;
	opt.big_value_threshold = 0; /* default; no big_value callback below */
	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	rec r;
	rec_init(&r);
	char err[200];
	assert_int_equal(parse(&r, w.data, w.len, 0, 0, &opt, &mem, err, sizeof err), EAS_E_LIMIT);
	assert_non_null(strstr(err, "larger than 1024 bytes (max_item)"));
	assert_int_equal(tm.live_blocks, 0);
	rec_free(&r);
	/* Under the cap it passes whole. */
	opt.max_item = 8192;
	rec_init(&r);
	assert_int_equal(parse(&r, w.data, w.len, 0, 0, &opt, &mem, err, sizeof err), 0);
	assert_non_null(strstr(log_text(&r), "<Data>xxxx"));
	rec_free(&r);
	eas_buf_free(&w);
}

/* ---- malformed responses -------------------------------------------------------------------- */

#define K10 "0123456789"
#define K100 K10 K10 K10 K10 K10 K10 K10 K10 K10 K10

static void test_malformed_responses(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int rc;
		const char *message;
	} cases[] = {
		{ SYNC "<Collections><Collection><CollectionId>5</CollectionId><Status>1</Status><Commands/>"
		  "</Collection></Collections></Sync>", EAS_E_MALFORMED, "collection 5: missing SyncKey" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId></Collection>"
		  "</Collections></Sync>", EAS_E_MALFORMED, "collection 5: missing Status" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><Status>1</Status></Collection></Collections></Sync>",
		  EAS_E_MALFORMED, "Collection without CollectionId" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>one</Status>"
		  "</Collection></Collections></Sync>", EAS_E_MALFORMED, "AirSync:Status is not a number: 'one'" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId>"
		  "<Status>99999999999</Status></Collection></Collections></Sync>", EAS_E_MALFORMED, "is not a number" },
		{ SYNC "<Status>-4</Status></Sync>", EAS_E_MALFORMED, "Sync: AirSync:Status is not a number: '-4'" },
		{ SYNC "<Status>14</Status><Limit>x</Limit></Sync>", EAS_E_MALFORMED, "AirSync:Limit is not a number" },
		{ SYNC "<Collections><Collection><Class>Posts</Class><SyncKey>1</SyncKey><CollectionId>5</CollectionId>"
		  "<Status>1</Status></Collection></Collections></Sync>", EAS_E_MALFORMED, "unknown Class 'Posts'" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Responses><Add><ClientId>1</ClientId><Status>1</Status><Class>Blog</Class></Add></Responses>"
		  "</Collection></Collections></Sync>", EAS_E_MALFORMED, "Responses Add: unknown Class 'Blog'" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Commands><Add><ApplicationData/></Add></Commands></Collection></Collections></Sync>",
		  EAS_E_MALFORMED, "collection 5: Commands Add without ServerId" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Commands><Add><ServerId>5:1</ServerId></Add></Commands></Collection></Collections></Sync>",
		  EAS_E_MALFORMED, "Commands Add 5:1 without ApplicationData" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Responses><Add><ServerId>5:1</ServerId><Status>1</Status></Add></Responses></Collection>"
		  "</Collections></Sync>", EAS_E_MALFORMED, "Responses Add without ClientId" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Responses><Change><ServerId>5:1</ServerId></Change></Responses></Collection></Collections></Sync>",
		  EAS_E_MALFORMED, "Responses Change without Status" },
		{ SYNC "<Collections><Collection><SyncKey>1</SyncKey><CollectionId>5</CollectionId><Status>1</Status>"
		  "<Responses><Change><ServerId>5:1</ServerId><Status>7x</Status></Change></Responses></Collection>"
		  "</Collections></Sync>", EAS_E_MALFORMED, "item: AirSync:Status is not a number: '7x'" },
		{ "<FolderSync xmlns=\"FolderHierarchy:\"><Status>1</Status></FolderSync>", EAS_E_MALFORMED,
		  "root element is FolderHierarchy:FolderSync, expected AirSync:Sync" },
		{ SYNC "<Collections><Collection><SyncKey>" K100 K100 K100 "</SyncKey></Collection></Collections></Sync>",
		  EAS_E_LIMIT, "AirSync:SyncKey longer than 256 bytes" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, -1);
		eas_buf w;
		xmldoc_to_wbxml(&w, cases[i].xml);
		rec r;
		rec_init(&r);
		char err[200] = "";
		int rc = parse(&r, w.data, w.len, 0, 0, NULL, &mem, err, sizeof err);
		if (rc != cases[i].rc || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d '%s', wanted %d '%s'", i, rc, err, cases[i].rc, cases[i].message);
		assert_int_equal(tm.live_blocks, 0);
		/* The same with the input split in the middle. */
		rec_free(&r);
		rec_init(&r);
		char err2[200] = "";
		assert_int_equal(parse(&r, w.data, w.len, w.len / 2, 0, NULL, &mem, err2, sizeof err2), cases[i].rc);
		assert_string_equal(err2, err);
		rec_free(&r);
		eas_buf_free(&w);
	}

	/* Truncated, an unknown token inside ApplicationData, garbage, an aborting callback. */
	eas_buf w;
	xmldoc_to_wbxml(&w, spec_response);
	rec r;
	rec_init(&r);
	char err[200];
	assert_int_equal(parse(&r, w.data, w.len - 3, 0, 0, NULL, NULL, err, sizeof err), EAS_E_TRUNCATED);
	assert_non_null(strstr(err, "truncated"));
	rec_free(&r);
	uint8_t *bad = malloc(w.len);
	memcpy(bad, w.data, w.len);
	size_t pos = 0;
	for (size_t i = 0; i + 11 < w.len; i++)
		if (memcmp(bad + i, "Hello world", 11) == 0)
			pos = i;
	assert_true(pos > 0);
	assert_int_equal(bad[pos - 2], 0x4B); /* Data with content, then STR_I */
	bad[pos - 2] = 0x7E; /* an unassigned AirSyncBase token */
	rec_init(&r);
	assert_int_equal(parse(&r, bad, w.len, 0, 0, NULL, NULL, err, sizeof err), EAS_E_UNSUPPORTED);
	assert_non_null(strstr(err, "unknown token"));
	rec_free(&r);
	free(bad);
	rec_init(&r);
	r.fail_in = 1;
	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	assert_int_equal(parse(&r, w.data, w.len, 0, 0, NULL, &mem, err, sizeof err), EAS_E_CALLBACK);
	assert_non_null(strstr(err, "command callback returned -42"));
	assert_int_equal(tm.live_blocks, 0);
	rec_free(&r);
	static const uint8_t junk[] = { 0x03, 0x01, 0x6A, 0x00, 0x45, 0x01, 0x01 };
	rec_init(&r);
	assert_int_equal(parse(&r, junk, sizeof junk, 0, 0, NULL, NULL, err, sizeof err), EAS_E_MALFORMED);
	rec_free(&r);
	eas_buf_free(&w);
	/* Arguments. */
	eas_sync_parser *p;
	eas_sync_parser_callbacks cb = EAS_SYNC_PARSER_CALLBACKS_INIT;
	cb.version = 99;
	assert_int_equal(eas_sync_parser_new(&p, &cb, NULL, NULL, NULL), EAS_E_INVALID);
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.max_depth = 65;
	assert_int_equal(eas_sync_parser_new(&p, NULL, &opt, NULL, NULL), EAS_E_INVALID);
	assert_int_equal(eas_sync_parser_feed(NULL, NULL, 0, NULL), EAS_E_INVALID);
	assert_int_equal(eas_sync_parser_finish(NULL), EAS_E_INVALID);
	assert_null(eas_sync_parser_error(NULL, NULL));
}

/* ---- every allocation failing ------------------------------------------------------------------ */

static void test_every_allocation_failing(void **state)
{
	(void)state;
	eas_buf w;
	xmldoc_to_wbxml(&w, spec_response);
	eas_sync_parser_options opt = EAS_SYNC_PARSER_OPTIONS_INIT;
	opt.big_value_threshold = 8;
	rec base;
	rec_init(&base);
	assert_int_equal(parse(&base, w.data, w.len, 0, 0, &opt, NULL, NULL, 0), 0);
	long n;
	long failures = 0;
	for (n = 0; n < 10000; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		rec r;
		rec_init(&r);
		char err[200] = "";
		int rc = parse(&r, w.data, w.len, 0, 7, &opt, &mem, err, sizeof err);
		assert_int_equal(tm.live_blocks, 0);
		if (rc == 0) {
			assert_string_equal(log_text(&r), log_text(&base));
			rec_free(&r);
			if (tm.calls <= n)
				break; /* nothing failed: every allocation has been tried */
			continue;
		}
		failures++;
		if (rc != EAS_E_NOMEM)
			fail_msg("allocation %ld: rc %d (%s)", n, rc, err);
		rec_free(&r);
	}
	assert_true(failures > 0);
	print_message("%ld allocation points, each failing once, all EAS_E_NOMEM without leaks\n", failures);
	rec_free(&base);
	eas_buf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_response_field_by_field),
		cmocka_unit_test(test_spec_response_email_typed),
		cmocka_unit_test(test_response_12_1_class),
		cmocka_unit_test(test_response_top_level_status),
		cmocka_unit_test(test_response_empty_body),
		cmocka_unit_test(test_every_split_and_byte_by_byte),
		cmocka_unit_test(test_pause_in_empty_collection),
		cmocka_unit_test(test_request_initial_key),
		cmocka_unit_test(test_request_all_fields_round_trip),
		cmocka_unit_test(test_request_version_gates),
		cmocka_unit_test(test_request_decode_malformed),
		cmocka_unit_test(test_writer_round_trip),
		cmocka_unit_test(test_ten_thousand_items_flat_memory),
		cmocka_unit_test(test_five_megabyte_body_streamed),
		cmocka_unit_test(test_item_limit),
		cmocka_unit_test(test_malformed_responses),
		cmocka_unit_test(test_every_allocation_failing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
