/*
 * The companion server's item commands: GetItemEstimate, ItemOperations
 * (Fetch of items and attachments, BodyPreference, Range, multipart,
 * EmptyFolderContents, conversation Move) and MoveItems, and Sync bodies
 * shaped by BodyPreference.  The engine is driven with WBXML bodies made
 * from XML, over the fixture's in-memory store.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "commands/multipart.h"
#include "common/base64.h"
#include "common/buf.h"
#include "eas/http.h"
#include "server/body.h"
#include "server/engine.h"
#include "server/store_sqlite.h"
#include "server_fixture.h"
#include "xmldoc.h"

/* ---- helpers ------------------------------------------------------------------------ */

/*
 * Text of the nth (0-based) element named `name` in compact XML (which puts
 * namespaces in xmlns attributes), into out; "" when there is none.
 */
static const char *text_of(const char *xml, const char *name, int nth, char *out, size_t size)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *p = xml; p && (p = strchr(p, '<')) != NULL; p++) {
		if (strncmp(p + 1, name, nl) != 0 || (p[1 + nl] != '>' && p[1 + nl] != ' '))
			continue;
		const char *gt = strchr(p, '>');
		if (!gt || gt[-1] == '/')
			continue; /* an empty element has no text */
		if (nth-- > 0)
			continue;
		const char *v = gt + 1;
		const char *e = strchr(v, '<');
		size_t n = e ? (size_t)(e - v) : strlen(v);
		if (n >= size)
			n = size - 1;
		memcpy(out, v, n);
		out[n] = '\0';
		return out;
	}
	return out;
}

static unsigned uint_of(const char *xml, const char *name, int nth)
{
	char t[64];
	text_of(xml ? xml : "", name, nth, t, sizeof t);
	if (!t[0])
		fail_msg("no <%s> #%d in %s", name, nth, xml ? xml : "(no body)");
	return (unsigned)strtoul(t, NULL, 10);
}

static void user_folder(fx *f, int64_t user, const char *name, uint32_t type, char *out)
{
	eas_mstore_result res;
	eas_mstore_folder folder;
	assert_int_equal(f->store->folder_create(&res, &folder, f->store, user, "0", name, type, NULL), 0);
	assert_int_equal(res, EAS_MSTORE_OK);
	strcpy(out, folder.server_id);
}

#define AD_NS "xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:airsyncbase=\"AirSyncBase:\" xmlns:email2=\"Email2:\""

/*
 * A stored email: ApplicationData with Subject and a Body of body_type
 * carrying body (NULL = no body), the body also as the store's blob, and
 * one attachment when att is given.  extra: more XML inside ApplicationData.
 */
static void add_mail(fx *f, int64_t user, const char *folder, const char *subject, uint32_t body_type,
		     const char *body, const char *att, const char *extra, char *id_out)
{
	char *xml = malloc(8192 + (body ? 5 * strlen(body) : 0));
	int n = sprintf(xml, "<ApplicationData " AD_NS "><email:Subject>%s</email:Subject>"
			     "<email:DateReceived>2023-11-14T10:00:00.000Z</email:DateReceived><email:Read>0</email:Read>",
			subject);
	if (body) {
		n += sprintf(xml + n, "<airsyncbase:Body><airsyncbase:Type>%u</airsyncbase:Type>"
				      "<airsyncbase:EstimatedDataSize>%zu</airsyncbase:EstimatedDataSize><airsyncbase:Data>",
			     body_type, strlen(body));
		for (const char *p = body; *p; p++)
			n += sprintf(xml + n, "%s", *p == '<' ? "&lt;" : *p == '&' ? "&amp;" : (char[2]){ *p, 0 });
		n += sprintf(xml + n, "</airsyncbase:Data></airsyncbase:Body>");
	}
	n += sprintf(xml + n, "%s</ApplicationData>", extra ? extra : "");
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	free(xml);
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.application_data = doc.data;
	d.application_data_len = doc.len;
	d.summary.subject = subject;
	d.summary.date = 1690000000; /* July 2023: outside a 1-day FilterType */
	if (body) {
		d.body_type = body_type;
		d.body = (const uint8_t *)body;
		d.body_len = strlen(body);
	}
	eas_mstore_attachment_data a;
	if (att) {
		memset(&a, 0, sizeof a);
		a.name = "notes.txt";
		a.content_type = "text/plain";
		a.method = 1;
		a.data = (const uint8_t *)att;
		a.len = strlen(att);
		d.attachments = &a;
		d.attachment_count = 1;
	}
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(f->store->item_add(id, f->store, user, folder, &d, NULL), 0);
	if (id_out)
		strcpy(id_out, id);
	eas_buf_free(&doc);
}

/* The FileReference of an item's first attachment. */
static void file_ref(fx *f, int64_t user, const char *id, char *out)
{
	eas_mstore_item *it = NULL;
	assert_int_equal(f->store->item_get(&it, f->store, user, id, EAS_MSTORE_GET_ATTACHMENTS), 0);
	assert_true(it->attachment_count >= 1);
	strcpy(out, it->attachments[0].file_reference);
	f->store->release(f->store, it);
}

/* POSTs xml as cmd for user/device and returns the compact XML of a 200 WBXML answer (free() it). */
static char *post(fx *f, const char *cmd, const char *user, const char *device, const char *xml, int *http)
{
	reply r;
	call_wbxml(f, &(call){ .cmd = cmd, .user = user, .device = device, .xml = xml }, &r);
	if (http)
		*http = r.r.status;
	char *out = r.xml ? strdup(r.xml) : NULL;
	reply_free(&r);
	return out;
}

static void folder_sync0(fx *f, const char *user, const char *device)
{
	char *x = post(f, "FolderSync", user, device, "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>",
		       NULL);
	assert_non_null(x);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	free(x);
}

#define SYNC_NS "xmlns=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\""

/* Sync one collection; extra goes inside <Collection>.  Returns the XML (free() it); *key gets the new key. */
static char *sync1(fx *f, const char *user, const char *device, const char *folder, const char *key, const char *extra,
		   char *new_key)
{
	char xml[2048];
	snprintf(xml, sizeof xml,
		 "<Sync " SYNC_NS "><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s"
		 "</Collection></Collections></Sync>", key, folder, extra ? extra : "");
	int http = 0;
	char *x = post(f, "Sync", user, device, xml, &http);
	assert_int_equal(http, 200);
	/* an empty answer (nothing to say) leaves the key where it was */
	char got[EAS_MSTORE_ID_SIZE];
	if (new_key && x && text_of(x, "SyncKey", 0, got, sizeof got)[0])
		strcpy(new_key, got);
	return x;
}

/* FolderSync 0, Sync 0, Sync with the key: the device has the folder's items; *key is the current key. */
static void prime(fx *f, const char *user, const char *device, const char *folder, char *key)
{
	folder_sync0(f, user, device);
	char *x = sync1(f, user, device, folder, "0", NULL, key);
	free(x);
	x = sync1(f, user, device, folder, key, "<WindowSize>100</WindowSize>", key);
	free(x);
}

/* ---- GetItemEstimate ------------------------------------------------------------------ */

static char *estimate(fx *f, const char *user, const char *device, const char *version, const char *xml)
{
	reply r;
	call_wbxml(f, &(call){ .cmd = "GetItemEstimate", .user = user, .device = device, .version = version, .xml = xml },
		   &r);
	char *out = r.r.status == 200 && r.xml ? strdup(r.xml) : NULL;
	if (r.r.status != 200) {
		char code[16];
		snprintf(code, sizeof code, "HTTP %d", r.r.status);
		out = strdup(code);
	}
	reply_free(&r);
	return out;
}

#define GIE(key, id, opts)                                                                                           \
	"<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:airsync=\"AirSync:\"><Collections><Collection>"          \
	"<airsync:SyncKey>" key "</airsync:SyncKey><CollectionId>" id "</CollectionId>" opts                          \
	"</Collection></Collections></GetItemEstimate>"

static void test_get_item_estimate(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], drafts[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE], xml[1024];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_DRAFTS, drafts);
	folder_sync0(f, "alice", "DEV1");
	char *x = sync1(f, "alice", "DEV1", inbox, "0", NULL, key);
	free(x);
	for (int i = 0; i < 5; i++) {
		char subj[16];
		snprintf(subj, sizeof subj, "m%d", i);
		add_mail(f, f->alice, inbox, subj, 1, "hello", NULL, NULL, NULL);
	}

	/* the current key: 5 adds waiting */
	snprintf(xml, sizeof xml, GIE("%s", "%s", ""), key, inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	assert_int_equal(uint_of(x, "Estimate", 0), 5);
	char t[64];
	assert_string_equal(text_of(x, "CollectionId", 0, t, sizeof t), inbox);
	free(x);
	/* a FilterType window that leaves the (2023) mails out */
	snprintf(xml, sizeof xml, GIE("%s", "%s", "<airsync:Options><airsync:FilterType>1</airsync:FilterType></airsync:Options>"),
		 key, inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Estimate", 0), 0);
	free(x);
	/* another class only */
	snprintf(xml, sizeof xml, GIE("%s", "%s", "<airsync:Options><airsync:Class>SMS</airsync:Class></airsync:Options>"),
		 key, inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Estimate", 0), 0);
	free(x);
	/* SyncKey 0: not primed (3); a key of nothing: 4; an unknown folder: 2; never synced: 3 */
	snprintf(xml, sizeof xml, GIE("0", "%s", ""), inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Status", 0), 3);
	assert_null(strstr(x, "</Estimate>"));
	free(x);
	snprintf(xml, sizeof xml, GIE("{0123456789abcdef0123456789abcdef}7", "%s", ""), inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Status", 0), 4);
	free(x);
	x = estimate(f, "alice", "DEV1", NULL, GIE("1", "424242", ""));
	assert_int_equal(uint_of(x, "Status", 0), 2);
	free(x);
	snprintf(xml, sizeof xml, GIE("%s", "%s", ""), key, drafts);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Status", 0), 3);
	free(x);
	/* another user cannot look at alice's folder */
	snprintf(xml, sizeof xml, GIE("%s", "%s", ""), key, inbox);
	x = estimate(f, "bob", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Status", 0), 2);
	free(x);
	/* the <=12.1 form at 12.1; the 14.0 form at 12.1 and the old one at 14.1 are refused */
	snprintf(xml, sizeof xml,
		 "<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:airsync=\"AirSync:\"><Collections><Collection>"
		 "<Class>Email</Class><CollectionId>%s</CollectionId><airsync:FilterType>0</airsync:FilterType>"
		 "<airsync:SyncKey>%s</airsync:SyncKey></Collection></Collections></GetItemEstimate>", inbox, key);
	x = estimate(f, "alice", "DEV1", "12.1", xml);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	assert_int_equal(uint_of(x, "Estimate", 0), 5);
	free(x);
	x = estimate(f, "alice", "DEV1", "14.1", xml);
	assert_string_equal(x, "HTTP 400");
	free(x);
	/* after the Sync that brings them, nothing is waiting */
	x = sync1(f, "alice", "DEV1", inbox, key, NULL, key);
	assert_int_equal(count_of(x, "<Add>"), 5);
	free(x);
	snprintf(xml, sizeof xml, GIE("%s", "%s", ""), key, inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(uint_of(x, "Estimate", 0), 0);
	free(x);
	/* several collections, one Response each, in order */
	snprintf(xml, sizeof xml,
		 "<GetItemEstimate xmlns=\"GetItemEstimate:\" xmlns:airsync=\"AirSync:\"><Collections>"
		 "<Collection><airsync:SyncKey>%s</airsync:SyncKey><CollectionId>%s</CollectionId></Collection>"
		 "<Collection><airsync:SyncKey>1</airsync:SyncKey><CollectionId>999</CollectionId></Collection>"
		 "</Collections></GetItemEstimate>", key, inbox);
	x = estimate(f, "alice", "DEV1", NULL, xml);
	assert_int_equal(count_of(x, "<Response>"), 2);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	assert_int_equal(uint_of(x, "Status", 1), 2);
	free(x);
	/* malformed: no Collections */
	x = estimate(f, "alice", "DEV1", NULL, "<GetItemEstimate xmlns=\"GetItemEstimate:\"/>");
	assert_string_equal(x, "HTTP 400");
	free(x);
}

/* ---- MoveItems --------------------------------------------------------------------------- */

static char *move(fx *f, const char *user, const char *device, const char *moves)
{
	char xml[2048];
	snprintf(xml, sizeof xml, "<MoveItems xmlns=\"Move:\">%s</MoveItems>", moves);
	int http = 0;
	char *x = post(f, "MoveItems", user, device, xml, &http);
	assert_int_equal(http, 200);
	assert_non_null(x);
	return x;
}

static void test_move_items(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], work[EAS_MSTORE_ID_SIZE], contacts[EAS_MSTORE_ID_SIZE];
	char k1[EAS_MSTORE_ID_SIZE], k2[EAS_MSTORE_ID_SIZE], w1[EAS_MSTORE_ID_SIZE], w2[EAS_MSTORE_ID_SIZE];
	char a[EAS_MSTORE_ID_SIZE], b[EAS_MSTORE_ID_SIZE], m[2048], t[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_CONTACTS, contacts);
	user_folder(f, f->alice, "Work", EAS_MSTORE_FOLDER_USER_MAIL, work);
	add_mail(f, f->alice, inbox, "first", 1, "one", NULL, NULL, a);
	add_mail(f, f->alice, inbox, "second", 1, "two", NULL, NULL, b);
	/* two devices have both folders */
	prime(f, "alice", "DEV1", inbox, k1);
	prime(f, "alice", "DEV2", inbox, k2);
	prime(f, "alice", "DEV1", work, w1);
	prime(f, "alice", "DEV2", work, w2);

	/* success (3) with the new id; then every failure in one request, in order */
	snprintf(m, sizeof m,
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>"  /* 3 */
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>"  /* 5: again */
		 "<Move><SrcMsgId>%s:99</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>" /* 1 */
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>31337</DstFldId></Move>" /* 2 */
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>"  /* 4 */
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>"  /* 5: class */
		 "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>", /* 1: wrong src */
		 a, inbox, work, a, inbox, work, inbox, inbox, work, b, inbox, b, inbox, inbox, b, inbox, contacts, b, work,
		 inbox);
	char *x = move(f, "alice", "DEV1", m);
	assert_int_equal(count_of(x, "<Response>"), 7);
	static const unsigned want[] = { 3, 5, 1, 2, 4, 5, 1 };
	for (int i = 0; i < 7; i++)
		assert_int_equal(uint_of(x, "Status", i), want[i]);
	assert_int_equal(count_of(x, "</DstMsgId>"), 1); /* the one success */
	char moved[EAS_MSTORE_ID_SIZE];
	text_of(x, "DstMsgId", 0, moved, sizeof moved);
	assert_string_equal(text_of(x, "SrcMsgId", 0, t, sizeof t), a);
	assert_true(strncmp(moved, work, strlen(work)) == 0 && moved[strlen(work)] == ':');
	free(x);
	eas_mstore_item *it = NULL;
	assert_int_equal(f->store->item_get(&it, f->store, f->alice, moved, 0), 0);
	assert_string_equal(it->folder_id, work);
	f->store->release(f->store, it);

	/* the mover gets no echo; the other device a Delete in the Inbox and an Add in Work */
	x = sync1(f, "alice", "DEV1", inbox, k1, NULL, k1);
	assert_null(x); /* 200 with an empty body: nothing new */
	x = sync1(f, "alice", "DEV1", work, w1, NULL, w1);
	assert_null(x);
	free(x);
	x = sync1(f, "alice", "DEV2", inbox, k2, NULL, k2);
	assert_int_equal(count_of(x, "<Delete>"), 1);
	assert_non_null(strstr(x, a));
	free(x);
	x = sync1(f, "alice", "DEV2", work, w2, NULL, w2);
	assert_int_equal(count_of(x, "<Add>"), 1);
	assert_non_null(strstr(x, moved));
	free(x);

	/* bob cannot move alice's items, nor into her folders */
	snprintf(m, sizeof m, "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>", b,
		 inbox, work);
	x = move(f, "bob", "DEV1", m);
	assert_int_equal(uint_of(x, "Status", 0), 2);
	free(x);
	char bob_inbox[EAS_MSTORE_ID_SIZE], bob_trash[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->bob, EAS_MSTORE_FOLDER_INBOX, bob_inbox);
	default_folder(f, f->bob, EAS_MSTORE_FOLDER_DELETED, bob_trash);
	snprintf(m, sizeof m, "<Move><SrcMsgId>%s</SrcMsgId><SrcFldId>%s</SrcFldId><DstFldId>%s</DstFldId></Move>", b,
		 inbox, bob_trash);
	x = move(f, "bob", "DEV1", m);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	free(x);
	assert_int_equal(f->store->item_get(&it, f->store, f->alice, b, 0), 0);
	assert_string_equal(it->folder_id, inbox);
	f->store->release(f->store, it);

	/* malformed: a Move without DstFldId, an id over 64 characters */
	int http = 0;
	x = post(f, "MoveItems", "alice", "DEV1", "<MoveItems xmlns=\"Move:\"><Move><SrcMsgId>1:1</SrcMsgId><SrcFldId>1</SrcFldId></Move></MoveItems>", &http);
	assert_int_equal(http, 400);
	free(x);
}

/* ---- ItemOperations ---------------------------------------------------------------------- */

#define IO_NS "xmlns=\"ItemOperations:\" xmlns:airsync=\"AirSync:\" xmlns:airsyncbase=\"AirSyncBase:\""

static char *itemops(fx *f, const char *user, const char *ops, int *http)
{
	char *xml = malloc(strlen(ops) + 256);
	sprintf(xml, "<ItemOperations " IO_NS ">%s</ItemOperations>", ops);
	char *x = post(f, "ItemOperations", user, "DEV1", xml, http);
	free(xml);
	return x;
}

static const char long_body[] = "The quarterly numbers are in. Please review them before Friday: "
				"revenue is up, costs are down, and the team did great work. \xc3\xa9t\xc3\xa9 "
				"ends here.";

static void test_item_operations_fetch(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], id[EAS_MSTORE_ID_SIZE], ref[EAS_MSTORE_ID_SIZE], ops[2048], t[512];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	add_mail(f, f->alice, inbox, "report", 1, long_body, "Hello, world!", NULL, id);
	file_ref(f, f->alice, id, ref);

	/* the item, body truncated to 20 bytes */
	snprintf(ops, sizeof ops,
		 "<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s"
		 "</airsync:ServerId><Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
		 "<airsyncbase:TruncationSize>20</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options></Fetch>",
		 inbox, id);
	int http = 0;
	char *x = itemops(f, "alice", ops, &http);
	assert_int_equal(http, 200);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	assert_int_equal(uint_of(x, "Status", 1), 1);
	assert_string_equal(text_of(x, "ServerId", 0, t, sizeof t), id);
	assert_string_equal(text_of(x, "Class", 0, t, sizeof t), "Email");
	assert_string_equal(text_of(x, "Subject", 0, t, sizeof t), "report");
	assert_int_equal(uint_of(x, "Type", 0), 1);
	assert_int_equal(uint_of(x, "EstimatedDataSize", 0), strlen(long_body));
	assert_int_equal(uint_of(x, "Truncated", 0), 1);
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "The quarterly number");
	assert_int_equal(count_of(x, "</Body>"), 1); /* one Body */
	free(x);
	/* the whole body when no truncation is asked; without a preference the stored one */
	snprintf(ops, sizeof ops,
		 "<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s"
		 "</airsync:ServerId></Fetch>", inbox, id);
	x = itemops(f, "alice", ops, &http);
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), long_body);
	assert_null(strstr(x, "</Truncated>"));
	free(x);
	/* the item is not in that collection; an unknown item: 6 each */
	snprintf(ops, sizeof ops,
		 "<Fetch><Store>Mailbox</Store><airsync:CollectionId>999</airsync:CollectionId><airsync:ServerId>%s"
		 "</airsync:ServerId></Fetch>"
		 "<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s:77"
		 "</airsync:ServerId></Fetch>", id, inbox, inbox);
	x = itemops(f, "alice", ops, &http);
	assert_int_equal(uint_of(x, "Status", 0), 1);
	assert_int_equal(uint_of(x, "Status", 1), 6);
	assert_int_equal(uint_of(x, "Status", 2), 6);
	free(x);

	/* the attachment, whole and as a Range */
	snprintf(ops, sizeof ops,
		 "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch>"
		 "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference>"
		 "<Options><Range>7-11</Range></Options></Fetch>"
		 "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference>"
		 "<Options><Range>100-200</Range></Options></Fetch>"
		 "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>nope</airsyncbase:FileReference></Fetch>",
		 ref, ref, ref);
	x = itemops(f, "alice", ops, &http);
	assert_int_equal(http, 200);
	assert_int_equal(uint_of(x, "Status", 1), 1);
	assert_string_equal(text_of(x, "FileReference", 0, t, sizeof t), ref);
	assert_string_equal(text_of(x, "ContentType", 0, t, sizeof t), "text/plain");
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "SGVsbG8sIHdvcmxkIQ==");
	assert_int_equal(uint_of(x, "Status", 2), 1);
	assert_string_equal(text_of(x, "Range", 0, t, sizeof t), "7-11");
	assert_int_equal(uint_of(x, "Total", 0), 13);
	assert_string_equal(text_of(x, "Data", 1, t, sizeof t), "d29ybGQ="); /* "world" */
	assert_int_equal(uint_of(x, "Status", 3), 8);
	assert_int_equal(uint_of(x, "Status", 4), 6);
	free(x);
	/* bob cannot fetch alice's attachment or item */
	snprintf(ops, sizeof ops,
		 "<Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s</airsyncbase:FileReference></Fetch>"
		 "<Fetch><Store>Mailbox</Store><airsync:CollectionId>%s</airsync:CollectionId><airsync:ServerId>%s"
		 "</airsync:ServerId></Fetch>", ref, inbox, id);
	x = itemops(f, "bob", ops, &http);
	assert_int_equal(uint_of(x, "Status", 1), 6);
	assert_int_equal(uint_of(x, "Status", 2), 6);
	assert_null(strstr(x, "Hello"));
	assert_null(strstr(x, "SGVsbG8"));
	free(x);
	/* another store; a search LongId */
	x = itemops(f, "alice",
		    "<Fetch><Store>DocumentLibrary</Store><documentlibrary:LinkId xmlns:documentlibrary=\"DocumentLibrary:\">"
		    "\\\\server\\share\\a.txt</documentlibrary:LinkId></Fetch>"
		    "<Fetch><Store>Mailbox</Store><search:LongId xmlns:search=\"Search:\">RgAAAA</search:LongId></Fetch>",
		    &http);
	assert_int_equal(http, 200);
	assert_int_equal(uint_of(x, "Status", 1), 9);
	assert_int_equal(uint_of(x, "Status", 2), 6);
	free(x);
	/* malformed: no operation */
	x = itemops(f, "alice", "", &http);
	assert_int_equal(http, 400);
	free(x);
}

/* Runs ItemOperations with AcceptMultiPart (base64 query bit, or the header when by_header). */
static void multipart_call(fx *f, const char *xml, int by_header, eas_server_response *out)
{
	eas_buf body;
	xmldoc_to_wbxml(&body, xml);
	char b64[64], auth[128], *q = NULL;
	eas__base64_encode(b64, (const uint8_t *)"alice:pw-alice", 14);
	snprintf(auth, sizeof auth, "Basic %s", b64);
	eas_http_header headers[4];
	size_t nh = 0;
	headers[nh++] = (eas_http_header){ "Authorization", auth };
	if (by_header) {
		headers[nh++] = (eas_http_header){ "MS-ASProtocolVersion", "14.1" };
		headers[nh++] = (eas_http_header){ "MS-ASAcceptMultiPart", "T" };
		q = strdup("Cmd=ItemOperations&User=alice&DeviceId=DEV1&DeviceType=SmartPhone");
	} else {
		eas_http_query hq = EAS_HTTP_QUERY_INIT;
		hq.command = EAS_CMD_ITEM_OPERATIONS;
		hq.protocol_version = EAS_PROTO_14_1;
		hq.device_id = (const uint8_t *)"DEV1";
		hq.device_id_len = 4;
		hq.device_type = "SmartPhone";
		hq.user = "alice";
		hq.options = EAS_HTTP_OPTION_ACCEPT_MULTIPART;
		assert_int_equal(eas_http_query_encode_base64(&q, &hq, NULL), 0);
	}
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = EAS_SERVER_PATH;
	req.query = q;
	req.query_len = strlen(q);
	req.headers = headers;
	req.header_count = nh;
	req.body = body.data;
	req.body_len = body.len;
	assert_int_equal(eas_server_handle(f->srv, &req, out), 0);
	free(q);
	eas_buf_free(&body);
}

static const char *resp_header(const eas_server_response *r, const char *name)
{
	for (size_t i = 0; i < r->header_count; i++)
		if (strcmp(r->headers[i].name, name) == 0)
			return r->headers[i].value;
	return NULL;
}

static void test_item_operations_multipart(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], id[EAS_MSTORE_ID_SIZE], ref[EAS_MSTORE_ID_SIZE], xml[2048], t[128];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	add_mail(f, f->alice, inbox, "report", 1, long_body, "Hello, world!", NULL, id);
	file_ref(f, f->alice, id, ref);
	snprintf(xml, sizeof xml,
		 "<ItemOperations " IO_NS "><Fetch><Store>Mailbox</Store><airsyncbase:FileReference>%s"
		 "</airsyncbase:FileReference></Fetch><Fetch><Store>Mailbox</Store><airsync:CollectionId>%s"
		 "</airsync:CollectionId><airsync:ServerId>%s</airsync:ServerId><Options><airsyncbase:BodyPreference>"
		 "<airsyncbase:Type>1</airsyncbase:Type></airsyncbase:BodyPreference></Options></Fetch></ItemOperations>",
		 ref, inbox, id);
	for (int by_header = 0; by_header < 2; by_header++) {
		eas_server_response r;
		multipart_call(f, xml, by_header, &r);
		assert_int_equal(r.status, 200);
		assert_string_equal(resp_header(&r, "Content-Type"), EAS_MULTIPART_CONTENT_TYPE);
		eas_multipart_view v;
		char err[120];
		assert_int_equal(eas_multipart_parse(&v, r.body, r.body_len, 0, err, sizeof err), 0);
		assert_int_equal(v.count, 3);
		const uint8_t *p0, *p;
		size_t l0, l;
		assert_int_equal(eas_multipart_part(&v, 0, &p0, &l0), 0);
		char *x = xmldoc_from_wbxml(p0, l0);
		assert_null(strstr(x, "</Data>"));
		unsigned att_part = uint_of(x, "Part", 0), body_part = uint_of(x, "Part", 1);
		assert_int_equal(eas_multipart_part(&v, att_part, &p, &l), 0);
		assert_int_equal(l, 13);
		assert_memory_equal(p, "Hello, world!", 13);
		assert_int_equal(eas_multipart_part(&v, body_part, &p, &l), 0);
		assert_int_equal(l, strlen(long_body));
		assert_memory_equal(p, long_body, l);
		assert_int_equal(uint_of(x, "EstimatedDataSize", 0), strlen(long_body));
		assert_string_equal(text_of(x, "Subject", 0, t, sizeof t), "report");
		free(x);
		eas_server_response_clear(&r);
	}
}

static void test_empty_folder_and_conversation_move(void **state)
{
	fx *f = *state;
	char trash[EAS_MSTORE_ID_SIZE], inbox[EAS_MSTORE_ID_SIZE], contacts[EAS_MSTORE_ID_SIZE];
	char sub[EAS_MSTORE_ID_SIZE], archive[EAS_MSTORE_ID_SIZE], ops[1024], a[EAS_MSTORE_ID_SIZE], k[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_DELETED, trash);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_CONTACTS, contacts);
	add_mail(f, f->alice, trash, "old 1", 1, "x", NULL, NULL, NULL);
	add_mail(f, f->alice, trash, "old 2", 1, "y", NULL, NULL, NULL);
	eas_mstore_result res;
	eas_mstore_folder fo;
	assert_int_equal(f->store->folder_create(&res, &fo, f->store, f->alice, trash, "Sub", 12, NULL), 0);
	strcpy(sub, fo.server_id);
	prime(f, "alice", "DEV1", trash, k);

	snprintf(ops, sizeof ops,
		 "<EmptyFolderContents><airsync:CollectionId>%s</airsync:CollectionId><Options><DeleteSubFolders/>"
		 "</Options></EmptyFolderContents><EmptyFolderContents><airsync:CollectionId>4040</airsync:CollectionId>"
		 "</EmptyFolderContents>", trash);
	int http = 0;
	char *x = itemops(f, "alice", ops, &http);
	assert_int_equal(http, 200);
	assert_int_equal(uint_of(x, "Status", 1), 1);
	assert_int_equal(uint_of(x, "Status", 2), 6);
	char t[64];
	assert_string_equal(text_of(x, "CollectionId", 0, t, sizeof t), trash);
	free(x);
	uint64_t n = 9;
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, trash, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(f->store->folder_get(&fo, f->store, f->alice, sub), EAS_E_NOTFOUND);
	/* the asking device learns the deletes from its next Sync */
	x = sync1(f, "alice", "DEV1", trash, k, NULL, k);
	assert_int_equal(count_of(x, "<Delete>"), 2);
	free(x);

	/* conversation Move: the mails with that email2:ConversationId */
	user_folder(f, f->alice, "Archive", EAS_MSTORE_FOLDER_USER_MAIL, archive);
	const char *conv = "<email2:ConversationId>AAECAwQFBgcICQoLDA0ODw==</email2:ConversationId>";
	/* the XML converter writes email2:ConversationId as opaque from base64 */
	add_mail(f, f->alice, inbox, "thread 1", 1, "a", NULL, conv, a);
	add_mail(f, f->alice, inbox, "thread 2", 1, "b", NULL, conv, NULL);
	add_mail(f, f->alice, inbox, "other", 1, "c", NULL, NULL, NULL);
	snprintf(ops, sizeof ops,
		 "<Move><ConversationId>AAECAwQFBgcICQoLDA0ODw==</ConversationId><DstFldId>%s</DstFldId></Move>"
		 "<Move><ConversationId>/////w==</ConversationId><DstFldId>%s</DstFldId></Move>"
		 "<Move><ConversationId>AAECAwQFBgcICQoLDA0ODw==</ConversationId><DstFldId>%s</DstFldId></Move>",
		 archive, archive, contacts);
	x = itemops(f, "alice", ops, &http);
	assert_int_equal(http, 200);
	assert_int_equal(uint_of(x, "Status", 1), 1);
	assert_int_equal(uint_of(x, "Status", 2), 6);
	assert_int_equal(uint_of(x, "Status", 3), 156);
	free(x);
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, archive, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 2);
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, inbox, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 1);
}

/* ---- Sync bodies ---------------------------------------------------------------------------- */

static void test_sync_body_preference(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE], t[512];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	add_mail(f, f->alice, inbox, "plain", 1, long_body, NULL, NULL, NULL);
	folder_sync0(f, "alice", "DEV1");
	/* the preference comes with SyncKey 0 only, and is remembered */
	char *x = sync1(f, "alice", "DEV1", inbox, "0",
			"<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
			"<airsyncbase:TruncationSize>11</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options>",
			key);
	free(x);
	x = sync1(f, "alice", "DEV1", inbox, key, NULL, key);
	assert_int_equal(count_of(x, "<Add>"), 1);
	assert_int_equal(uint_of(x, "Truncated", 0), 1);
	assert_int_equal(uint_of(x, "EstimatedDataSize", 0), strlen(long_body));
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "The quarter");
	free(x);
	/* a cut inside a two-byte character keeps the character out */
	const char *accent = "caf\xc3\xa9 au lait";
	add_mail(f, f->alice, inbox, "accent", 1, accent, NULL, NULL, NULL);
	x = sync1(f, "alice", "DEV1", inbox, key,
		  "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
		  "<airsyncbase:TruncationSize>4</airsyncbase:TruncationSize></airsyncbase:BodyPreference></Options>",
		  key);
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "caf");
	free(x);
	/* AllOrNone: a body that does not fit comes without Data */
	add_mail(f, f->alice, inbox, "big", 1, long_body, NULL, NULL, NULL);
	x = sync1(f, "alice", "DEV1", inbox, key,
		  "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
		  "<airsyncbase:TruncationSize>11</airsyncbase:TruncationSize><airsyncbase:AllOrNone>1</airsyncbase:AllOrNone>"
		  "</airsyncbase:BodyPreference></Options>",
		  key);
	assert_int_equal(uint_of(x, "Truncated", 0), 1);
	assert_null(strstr(x, "</Data>"));
	free(x);
	/* HTML stored, text asked for: converted; Preview asked for with HTML kept */
	add_mail(f, f->alice, inbox, "html", 2, "<p>Hi &amp; bye</p><p>Second paragraph</p>", NULL, NULL, NULL);
	x = sync1(f, "alice", "DEV1", inbox, key,
		  "<Options><airsyncbase:BodyPreference><airsyncbase:Type>1</airsyncbase:Type>"
		  "</airsyncbase:BodyPreference></Options>",
		  key);
	assert_int_equal(uint_of(x, "Type", 0), 1);
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "Hi &amp; bye\nSecond paragraph\n");
	assert_null(strstr(x, "</Truncated>"));
	free(x);
	add_mail(f, f->alice, inbox, "html 2", 2, "<p>Hi &amp; bye</p><p>Second paragraph</p>", NULL, NULL, NULL);
	x = sync1(f, "alice", "DEV1", inbox, key,
		  "<Options><airsyncbase:BodyPreference><airsyncbase:Type>2</airsyncbase:Type>"
		  "<airsyncbase:TruncationSize>5</airsyncbase:TruncationSize><airsyncbase:Preview>6</airsyncbase:Preview>"
		  "</airsyncbase:BodyPreference></Options>",
		  key);
	assert_int_equal(uint_of(x, "Type", 0), 2);
	assert_int_equal(uint_of(x, "Truncated", 0), 1);
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "&lt;p&gt;Hi");
	assert_string_equal(text_of(x, "Preview", 0, t, sizeof t), "Hi &amp; b");
	free(x);
	/* Fetch in Sync shapes the body as well */
	char id[EAS_MSTORE_ID_SIZE], fetch[256];
	add_mail(f, f->alice, inbox, "fetched", 1, long_body, NULL, NULL, id);
	x = sync1(f, "alice", "DEV1", inbox, key, NULL, key);
	free(x);
	snprintf(fetch, sizeof fetch, "<Commands><Fetch><ServerId>%s</ServerId></Fetch></Commands>", id);
	x = sync1(f, "alice", "DEV1", inbox, key, fetch, key);
	assert_non_null(strstr(x, "<Fetch>"));
	assert_string_equal(text_of(x, "Data", 0, t, sizeof t), "The q");
	free(x);
}

/* ---- spec vectors (tests/data/server) -------------------------------------------------------- */

static void data_path(char *out, size_t size, const char *name)
{
	const char *env = getenv("EAS_TEST_DATA_DIR");
	if (env && *env) {
		snprintf(out, size, "%s/server/%s", env, name);
		return;
	}
	/* __FILE__ is .../tests/unit/test_server_items.c */
	const char *file = __FILE__;
	const char *cut = strstr(file, "unit/test_server_items.c");
	assert_non_null(cut);
	snprintf(out, size, "%.*sdata/server/%s", (int)(cut - file), file, name);
}

static uint8_t *read_all(const char *name, size_t *len)
{
	char path[1024];
	data_path(path, sizeof path, name);
	FILE *fp = fopen(path, "rb");
	if (!fp)
		fail_msg("cannot open %s", path);
	uint8_t *b = NULL;
	size_t n = 0, cap = 0, got;
	uint8_t tmp[4096];
	while ((got = fread(tmp, 1, sizeof tmp, fp)) > 0) {
		if (n + got + 1 > cap) {
			cap = (n + got + 1) * 2;
			b = realloc(b, cap);
			assert_non_null(b);
		}
		memcpy(b + n, tmp, got);
		n += got;
	}
	fclose(fp);
	if (!b)
		b = calloc(1, 1);
	b[n] = 0;
	*len = n;
	return b;
}

/* Compact XML of an XML file, through our XML -> WBXML -> XML (free() it). */
static char *canonical_xml(const char *name)
{
	size_t len;
	char *text = (char *)read_all(name, &len);
	eas_buf w;
	xmldoc_to_wbxml(&w, text);
	char *x = xmldoc_from_wbxml(w.data, w.len);
	eas_buf_free(&w);
	free(text);
	return x;
}

static void post_bytes(fx *f, const char *cmd, const uint8_t *body, size_t len, eas_server_response *out)
{
	char b64[64], auth[128], query[160];
	eas__base64_encode(b64, (const uint8_t *)"alice:pw-alice", 14);
	snprintf(auth, sizeof auth, "Basic %s", b64);
	snprintf(query, sizeof query, "Cmd=%s&User=alice&DeviceId=VEC1&DeviceType=SmartPhone", cmd);
	eas_http_header headers[2] = { { "Authorization", auth }, { "MS-ASProtocolVersion", "14.1" } };
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = EAS_SERVER_PATH;
	req.query = query;
	req.query_len = strlen(query);
	req.headers = headers;
	req.header_count = 2;
	req.body = body;
	req.body_len = len;
	assert_int_equal(eas_server_handle(f->srv, &req, out), 0);
}

static void test_spec_vectors(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], id[EAS_MSTORE_ID_SIZE], ref[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	assert_string_equal(inbox, "1"); /* the ids the vectors name (README.md there) */
	add_mail(f, f->alice, inbox, "Quarterly report", 1, "Hello, world!", "Hello, world!", NULL, id);
	assert_string_equal(id, "1:1");
	file_ref(f, f->alice, id, ref);
	assert_string_equal(ref, "1.1");
	add_mail(f, f->alice, inbox, "Second", 1, "Second mail", NULL, NULL, id);
	assert_string_equal(id, "1:2");
	static const struct {
		const char *name, *cmd;
	} vectors[] = {
		/* in this order: the fetch before the move, the move before emptying Deleted Items */
		{ "getitemestimate", "GetItemEstimate" },
		{ "itemoperations-fetch", "ItemOperations" },
		{ "moveitems", "MoveItems" },
		{ "itemoperations-empty", "ItemOperations" },
	};
	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		char name[128];
		size_t len;
		snprintf(name, sizeof name, "%s-request.wbxml", vectors[i].name);
		uint8_t *wbxml = read_all(name, &len);
		/* the independent encoding says what the XML says */
		snprintf(name, sizeof name, "%s-request.xml", vectors[i].name);
		char *want_req = canonical_xml(name);
		char *got_req = xmldoc_from_wbxml(wbxml, len);
		assert_string_equal(got_req, want_req);
		free(want_req);
		free(got_req);

		eas_server_response r;
		post_bytes(f, vectors[i].cmd, wbxml, len, &r);
		assert_int_equal(r.status, 200);
		char *got = xmldoc_from_wbxml(r.body, r.body_len);
		snprintf(name, sizeof name, "%s-response.xml", vectors[i].name);
		char *want = canonical_xml(name);
		if (strcmp(got, want) != 0)
			fail_msg("%s:\n got  %s\n want %s", vectors[i].name, got, want);
		free(got);
		free(want);
		eas_server_response_clear(&r);
		free(wbxml);
	}
	/* what the vectors did happened in the store */
	uint64_t n = 9;
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, "3", 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 0);
	assert_int_equal(f->store->item_list(&n, f->store, f->alice, inbox, 0, 0, NULL, NULL), 0);
	assert_int_equal(n, 1);
}

/* ---- pieces of body.c ------------------------------------------------------------------------- */

static void test_body_helpers(void **state)
{
	(void)state;
	assert_int_equal(eas__srv_utf8_cut("abc", 3), 3);
	assert_int_equal(eas__srv_utf8_cut("caf\xc3\xa9", 4), 3);
	assert_int_equal(eas__srv_utf8_cut("caf\xc3\xa9", 5), 5);
	assert_int_equal(eas__srv_utf8_cut("\xe2\x82\xac", 2), 0);
	assert_int_equal(eas__srv_utf8_cut("\xe2\x82\xac", 3), 3);
	assert_int_equal(eas__srv_utf8_cut("\xf0\x9f\x98\x80x", 4), 4);
	char out[64];
	const char *html = "<html><style>p{}</style><p>Hi &amp; bye</p><br/>next&nbsp;line<script>x()</script>";
	assert_int_equal(eas__srv_html_to_text(out, sizeof out, html, strlen(html)), strlen("Hi & bye\n\nnext line"));
	assert_string_equal(out, "Hi & bye\n\nnext line");
	/* a tag that never closes ends the text; a tiny buffer is respected */
	assert_int_equal(eas__srv_html_to_text(out, sizeof out, "ab<p", 4), 2);
	assert_int_equal(eas__srv_html_to_text(out, 3, "abcdef", 6), 2);
	assert_string_equal(out, "ab");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_get_item_estimate, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_move_items, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_item_operations_fetch, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_item_operations_multipart, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_empty_folder_and_conversation_move, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_sync_body_preference, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_spec_vectors, fx_setup, fx_teardown),
		cmocka_unit_test(test_body_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
