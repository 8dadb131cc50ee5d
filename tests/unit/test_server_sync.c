/*
 * Sync on the companion server (handle_sync.c): the engine driven directly
 * with WBXML bodies made from XML, a SQLite store in memory, a fake clock.
 * Initial sync, paging with MoreAvailable, client Add/Change/Delete/Fetch,
 * replay of a lost response (per collection, also mixed with collections on
 * their current key, alone, or next to a collection added since), stale
 * keys, unknown collections, two devices and two users.
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

#include "common/buf.h"
#include "eas/http.h"
#include "server/engine.h"
#include "server/store_sqlite.h"
#include "testmem.h"
#include "server_fixture.h"
#include "xmldoc.h"

/* Text of the first <tag> in the compact XML, copied into out ("" when missing). */
#define FS(key) "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>" key "</SyncKey></FolderSync>"


#define NS "xmlns=\"AirSync:\" xmlns:email=\"Email:\""

/* A stored email with a real ApplicationData fragment. */
static void add_mail(fx *f, int64_t user, const char *folder, int i, char *id_out)
{
	char xml[512];
	snprintf(xml, sizeof xml,
		 "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\"><email:Subject>mail %d</email:Subject>"
		 "<email:From>a@example.test</email:From><email:DateReceived>2023-11-14T10:00:%02d.000Z</email:DateReceived>"
		 "<email:Read>0</email:Read></ApplicationData>", i, i % 60);
	eas_buf doc;
	xmldoc_to_wbxml(&doc, xml);
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.application_data = doc.data;
	d.application_data_len = doc.len;
	char subj[32];
	snprintf(subj, sizeof subj, "mail %d", i);
	d.summary.subject = subj;
	d.summary.date = 1699956000 + i;
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(f->store->item_add(id, f->store, user, folder, &d, NULL), 0);
	if (id_out)
		strcpy(id_out, id);
	eas_buf_free(&doc);
}

typedef struct sres {
	int http;
	unsigned status;
	char key[EAS_MSTORE_ID_SIZE];
	size_t adds, changes, deletes, responses;
	int more;
	char *xml;
	uint8_t *body;
	size_t body_len;
} sres;

static void sres_free(sres *s)
{
	free(s->xml);
	free(s->body);
	memset(s, 0, sizeof *s);
}

/* Sync of one collection with extra XML inside <Collection> after CollectionId. */
static void sync1(fx *f, const char *user, const char *device, const char *folder, const char *key,
		  const char *extra, sres *out)
{
	char xml[4096];
	snprintf(xml, sizeof xml,
		 "<Sync " NS "><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s"
		 "</Collection></Collections></Sync>", key, folder, extra ? extra : "");
	reply r;
	call_wbxml(f, &(call){ .cmd = "Sync", .user = user, .device = device, .xml = xml }, &r);
	memset(out, 0, sizeof *out);
	out->http = r.r.status;
	if (r.r.body_len) {
		out->body = malloc(r.r.body_len);
		memcpy(out->body, r.r.body, r.r.body_len);
		out->body_len = r.r.body_len;
	}
	if (r.xml) {
		out->status = xml_uint(&r, "Status");
		xml_text(&r, "SyncKey", out->key, sizeof out->key);
		const char *cmds = strstr(r.xml, "<Commands>");
		const char *cmde = cmds ? strstr(cmds, "</Commands>") : NULL;
		if (cmds && cmde) {
			char *part = strndup(cmds, (size_t)(cmde - cmds));
			out->adds = count_of(part, "<Add>");
			out->changes = count_of(part, "<Change>");
			out->deletes = count_of(part, "<Delete>");
			free(part);
		}
		const char *rs = strstr(r.xml, "<Responses>");
		if (rs)
			out->responses = count_of(rs, "<Status>");
		out->more = strstr(r.xml, "<MoreAvailable") != NULL;
		out->xml = strdup(r.xml);
	}
	reply_free(&r);
}

/* FolderSync 0 then Sync 0 on folder; returns the first key. */
static void start(fx *f, const char *user, const char *device, const char *folder, char *key)
{
	assert_int_equal(fx_folder_sync(f, user, device, "0", NULL, 0, NULL), 1);
	sres s;
	sync1(f, user, device, folder, "0", NULL, &s);
	assert_int_equal(s.http, 200);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.adds, 0);
	assert_true(s.key[0] && strcmp(s.key, "0") != 0);
	strcpy(key, s.key);
	sres_free(&s);
}

static void test_initial_and_paging(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 25; i++)
		add_mail(f, f->alice, inbox, i, NULL);
	start(f, "alice", "DEV1", inbox, key);
	size_t total = 0, rounds = 0;
	for (;;) {
		sres s;
		sync1(f, "alice", "DEV1", inbox, key, "<WindowSize>10</WindowSize>", &s);
		assert_int_equal(s.http, 200);
		assert_int_equal(s.status, 1);
		assert_true(s.adds <= 10);
		total += s.adds;
		rounds++;
		strcpy(key, s.key);
		if (rounds == 1)
			assert_non_null(strstr(s.xml, ">mail 24</Subject>")); /* newest first */
		int more = s.more;
		sres_free(&s);
		if (!more)
			break;
		assert_true(rounds < 10);
	}
	assert_int_equal(total, 25);
	assert_int_equal(rounds, 3);
	/* nothing new: 200 with an empty body (14.1) */
	sres s;
	sync1(f, "alice", "DEV1", inbox, key, NULL, &s);
	assert_int_equal(s.http, 200);
	assert_int_equal(s.body_len, 0);
	sres_free(&s);
	/* the key did not move: a new mail comes with the same key */
	add_mail(f, f->alice, inbox, 99, NULL);
	sync1(f, "alice", "DEV1", inbox, key, NULL, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.adds, 1);
	sres_free(&s);
}

static void test_replay_and_stale(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 3; i++)
		add_mail(f, f->alice, inbox, i, NULL);
	start(f, "alice", "DEV1", inbox, key);
	sres a, b, c;
	sync1(f, "alice", "DEV1", inbox, key, NULL, &a);
	assert_int_equal(a.adds, 3);
	add_mail(f, f->alice, inbox, 50, NULL);
	/* the response was lost: the same key again gives the same bytes */
	sync1(f, "alice", "DEV1", inbox, key, NULL, &b);
	assert_int_equal(b.body_len, a.body_len);
	assert_memory_equal(b.body, a.body, a.body_len);
	/* the new key goes on with the new mail */
	sync1(f, "alice", "DEV1", inbox, a.key, NULL, &c);
	assert_int_equal(c.status, 1);
	assert_int_equal(c.adds, 1);
	sres_free(&b);
	/* two keys back: stale */
	sync1(f, "alice", "DEV1", inbox, key, NULL, &b);
	assert_int_equal(b.status, 3);
	sres_free(&b);
	sync1(f, "alice", "DEV1", inbox, "{00000000000000000000000000000000}7", NULL, &b);
	assert_int_equal(b.status, 3);
	sres_free(&b);
	/* unknown collection */
	sync1(f, "alice", "DEV1", "999999", c.key, NULL, &b);
	assert_int_equal(b.status, 12);
	sres_free(&b);
	sres_free(&a);
	sres_free(&c);
}

static void test_client_commands(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], trash[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE], key2[EAS_MSTORE_ID_SIZE];
	char m1[EAS_MSTORE_ID_SIZE], m2[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_DELETED, trash);
	add_mail(f, f->alice, inbox, 1, m1);
	add_mail(f, f->alice, inbox, 2, m2);
	start(f, "alice", "DEV1", inbox, key);
	start(f, "alice", "DEV2", inbox, key2);
	sres s;
	sync1(f, "alice", "DEV1", inbox, key, NULL, &s);
	assert_int_equal(s.adds, 2);
	strcpy(key, s.key);
	sres_free(&s);
	sync1(f, "alice", "DEV2", inbox, key2, NULL, &s);
	assert_int_equal(s.adds, 2);
	strcpy(key2, s.key);
	sres_free(&s);

	/* DEV1: Add, Change (Read), Delete (moved to Deleted Items), Change of an unknown item, Fetch */
	char cmds[2048];
	snprintf(cmds, sizeof cmds,
		 "<Commands><Add><ClientId>c-1</ClientId><ApplicationData><email:Subject>draft</email:Subject>"
		 "<email:Read>1</email:Read></ApplicationData></Add>"
		 "<Change><ServerId>%s</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change>"
		 "<Delete><ServerId>%s</ServerId></Delete>"
		 "<Change><ServerId>%s:999</ServerId><ApplicationData><email:Read>1</email:Read></ApplicationData></Change>"
		 "<Fetch><ServerId>%s</ServerId></Fetch></Commands>",
		 m1, m2, inbox, m1);
	sync1(f, "alice", "DEV1", inbox, key, cmds, &s);
	assert_int_equal(s.http, 200);
	assert_int_equal(s.status, 1);
	assert_non_null(strstr(s.xml, "<ClientId>c-1</ClientId>"));
	assert_int_equal(s.adds, 0);     /* no echo of its own changes */
	assert_int_equal(s.deletes, 0);
	assert_int_equal(s.responses, 3); /* Add 1, Change 8, Fetch 1 */
	assert_non_null(strstr(s.xml, "<Status>8</Status>"));
	assert_non_null(strstr(s.xml, "<Fetch>"));
	strcpy(key, s.key);
	sres_free(&s);

	eas_mstore_item *item = NULL;
	assert_int_equal(f->store->item_get(&item, f->store, f->alice, m1, 0), 0);
	assert_int_equal(item->summary.read, 1);
	char *x = xmldoc_from_wbxml(item->application_data, item->application_data_len);
	assert_non_null(strstr(x, ">1</Read>"));
	assert_non_null(strstr(x, ">mail 1</Subject>"));
	free(x);
	f->store->release(f->store, item);
	assert_int_equal(f->store->item_get(&item, f->store, f->alice, m2, 0), EAS_E_NOTFOUND);

	/* DEV2 sees the three changes: the new item, the change, the delete */
	sync1(f, "alice", "DEV2", inbox, key2, NULL, &s);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.adds, 1);
	assert_int_equal(s.changes, 1);
	assert_int_equal(s.deletes, 1);
	assert_non_null(strstr(s.xml, ">draft</Subject>"));
	sres_free(&s);

	/* Deleted Items has the moved mail; a Delete there is for good */
	char tkey[EAS_MSTORE_ID_SIZE];
	sync1(f, "alice", "DEV1", trash, "0", NULL, &s);
	strcpy(tkey, s.key);
	sres_free(&s);
	sync1(f, "alice", "DEV1", trash, tkey, NULL, &s);
	assert_int_equal(s.adds, 1);
	strcpy(tkey, s.key);
	const char *sid = strstr(s.xml, "<ServerId>");
	assert_non_null(sid);
	char moved[EAS_MSTORE_ID_SIZE];
	sscanf(sid + 10, "%64[^<]", moved);
	sres_free(&s);
	snprintf(cmds, sizeof cmds, "<Commands><Delete><ServerId>%s</ServerId></Delete></Commands>", moved);
	sync1(f, "alice", "DEV1", trash, tkey, cmds, &s);
	assert_int_equal(s.status, 1);
	sres_free(&s);
	assert_int_equal(f->store->item_get(&item, f->store, f->alice, moved, 0), EAS_E_NOTFOUND);
}

static void test_two_users(void **state)
{
	fx *f = *state;
	char inbox_a[EAS_MSTORE_ID_SIZE], inbox_b[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox_a);
	default_folder(f, f->bob, EAS_MSTORE_FOLDER_INBOX, inbox_b);
	add_mail(f, f->alice, inbox_a, 1, NULL);
	add_mail(f, f->bob, inbox_b, 2, NULL);
	add_mail(f, f->bob, inbox_b, 3, NULL);
	/* bob cannot sync alice's Inbox: it does not exist for him */
	assert_int_equal(fx_folder_sync(f, "bob", "DEV1", "0", NULL, 0, NULL), 1);
	sres s;
	sync1(f, "bob", "DEV1", inbox_a, "0", NULL, &s);
	assert_int_equal(s.status, 12);
	sres_free(&s);
	start(f, "bob", "DEV1", inbox_b, key);
	sync1(f, "bob", "DEV1", inbox_b, key, NULL, &s);
	assert_int_equal(s.adds, 2);
	assert_null(strstr(s.xml, "mail 1<"));
	sres_free(&s);
	/* the same DeviceId under alice is another device */
	start(f, "alice", "DEV1", inbox_a, key);
	sync1(f, "alice", "DEV1", inbox_a, key, NULL, &s);
	assert_int_equal(s.adds, 1);
	assert_non_null(strstr(s.xml, ">mail 1</Subject>"));
	sres_free(&s);
}

static void test_several_collections(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], sent[EAS_MSTORE_ID_SIZE], k1[EAS_MSTORE_ID_SIZE], k2[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_SENT, sent);
	add_mail(f, f->alice, inbox, 1, NULL);
	add_mail(f, f->alice, sent, 2, NULL);
	start(f, "alice", "DEV1", inbox, k1);
	sres s;
	sync1(f, "alice", "DEV1", sent, "0", NULL, &s);
	strcpy(k2, s.key);
	sres_free(&s);
	char xml[1024];
	snprintf(xml, sizeof xml,
		 "<Sync " NS "><Collections><Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId></Collection>"
		 "<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId></Collection></Collections></Sync>",
		 k1, inbox, k2, sent);
	reply r;
	call_wbxml(f, &(call){ .cmd = "Sync", .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(count_of(r.xml, "<Collection>"), 2);
	assert_int_equal(count_of(r.xml, "<Add>"), 2);
	reply_free(&r);
	/* an empty request: Status 13 */
	do_call(f, &(call){ .cmd = "Sync" }, &r);
	parse_body(&r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 13);
	reply_free(&r);
}

/* ---- replay per collection ---------------------------------------------------------- */

/* One collection of a multi-collection Sync: id, key, extra XML inside <Collection>. */
typedef struct mcoll {
	const char *id, *key, *extra;
} mcoll;

/* Sync of several collections for DEV1 of alice; the reply's compact XML (free()). */
static char *sync_n(fx *f, const mcoll *c, size_t n)
{
	char xml[8192];
	size_t used = (size_t)snprintf(xml, sizeof xml, "<Sync " NS "><Collections>");
	for (size_t i = 0; i < n; i++)
		used += (size_t)snprintf(xml + used, sizeof xml - used,
					 "<Collection><SyncKey>%s</SyncKey><CollectionId>%s</CollectionId>%s</Collection>",
					 c[i].key, c[i].id, c[i].extra ? c[i].extra : "");
	snprintf(xml + used, sizeof xml - used, "</Collections></Sync>");
	assert_true(used < sizeof xml - 32);
	reply r;
	call_wbxml(f, &(call){ .cmd = "Sync", .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	assert_non_null(r.xml);
	char *out = strdup(r.xml);
	reply_free(&r);
	return out;
}

/* The <Collection> element of collection id in a response's XML (free()), or NULL. */
static char *coll_of(const char *xml, const char *id)
{
	char want[96];
	snprintf(want, sizeof want, "<CollectionId>%s</CollectionId>", id);
	for (const char *p = strstr(xml, "<Collection>"); p; p = strstr(p + 1, "<Collection>")) {
		const char *e = strstr(p, "</Collection>");
		assert_non_null(e);
		e += strlen("</Collection>");
		char *part = strndup(p, (size_t)(e - p));
		if (strstr(part, want))
			return part;
		free(part);
	}
	return NULL;
}

static void coll_key(const char *part, char *out)
{
	const char *k = strstr(part, "<SyncKey>");
	assert_non_null(k);
	assert_int_equal(sscanf(k + 9, "%64[^<]", out), 1);
}

/* Items of a folder whose stored summary has this subject. */
static size_t items_with_subject(fx *f, const char *folder, const char *subject)
{
	char xml[256];
	snprintf(xml, sizeof xml, ">%s</", subject);
	size_t n = 0;
	for (int i = 1; i < 64; i++) {
		char id[EAS_MSTORE_ID_SIZE];
		snprintf(id, sizeof id, "%s:%d", folder, i);
		eas_mstore_item *item = NULL;
		if (f->store->item_get(&item, f->store, f->alice, id, 0) != 0)
			continue;
		char *x = xmldoc_from_wbxml(item->application_data, item->application_data_len);
		if (x && strstr(x, xml))
			n++;
		free(x);
		f->store->release(f->store, item);
	}
	return n;
}

typedef struct two {
	char inbox[EAS_MSTORE_ID_SIZE], sent[EAS_MSTORE_ID_SIZE], drafts[EAS_MSTORE_ID_SIZE];
	char a1[EAS_MSTORE_ID_SIZE], b1[EAS_MSTORE_ID_SIZE]; /* the keys the lost request carried */
	char *first;     /* the answer the client lost (XML) */
	char *a_part;    /* its Inbox collection */
} two;

#define ADD_DRAFT "<Commands><Add><ClientId>c-77</ClientId><ApplicationData><email:Subject>kept once</email:Subject>" \
	"</ApplicationData></Add></Commands>"

/*
 * Inbox (A) and Sent Items (B) primed; one Sync of both with a client Add in
 * A, whose answer the client is said to lose.
 */
static void lost_answer(fx *f, two *t)
{
	memset(t, 0, sizeof *t);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, t->inbox);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_SENT, t->sent);
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_DRAFTS, t->drafts);
	add_mail(f, f->alice, t->inbox, 1, NULL);
	add_mail(f, f->alice, t->sent, 2, NULL);
	start(f, "alice", "DEV1", t->inbox, t->a1);
	sres s;
	sync1(f, "alice", "DEV1", t->sent, "0", NULL, &s);
	strcpy(t->b1, s.key);
	sres_free(&s);
	mcoll c[2] = { { t->inbox, t->a1, ADD_DRAFT }, { t->sent, t->b1, NULL } };
	t->first = sync_n(f, c, 2);
	t->a_part = coll_of(t->first, t->inbox);
	assert_non_null(t->a_part);
	assert_non_null(strstr(t->a_part, "<ClientId>c-77</ClientId>"));
	assert_int_equal(count_of(t->first, "<Add>"), 3); /* mail 1, mail 2, and the Responses entry */
	assert_int_equal(items_with_subject(f, t->inbox, "kept once"), 1);
}

static void two_free(two *t)
{
	free(t->first);
	free(t->a_part);
}

/* A on its previous key (the same request again for A), B already moved on. */
static void test_replay_one_collection_other_current(void **state)
{
	fx *f = *state;
	two t;
	lost_answer(f, &t);
	char *b_part = coll_of(t.first, t.sent), b2[EAS_MSTORE_ID_SIZE], a2[EAS_MSTORE_ID_SIZE];
	coll_key(b_part, b2);
	coll_key(t.a_part, a2);
	free(b_part);
	add_mail(f, f->alice, t.sent, 3, NULL);
	mcoll c[2] = { { t.inbox, t.a1, ADD_DRAFT }, { t.sent, b2, NULL } };
	char *again = sync_n(f, c, 2);
	char *a = coll_of(again, t.inbox), *b = coll_of(again, t.sent);
	assert_non_null(a);
	assert_non_null(b);
	/* A: the lost answer again, its Add not applied a second time */
	assert_string_equal(a, t.a_part);
	assert_int_equal(items_with_subject(f, t.inbox, "kept once"), 1);
	/* B: answered normally, the new mail and a new key */
	assert_non_null(strstr(b, "<Status>1</Status>"));
	assert_non_null(strstr(b, ">mail 3</Subject>"));
	char b3[EAS_MSTORE_ID_SIZE];
	coll_key(b, b3);
	assert_string_not_equal(b3, b2);
	free(a);
	free(b);
	free(again);
	/* A goes on from the key of the replayed answer */
	sres s;
	sync1(f, "alice", "DEV1", t.inbox, a2, NULL, &s);
	assert_int_equal(s.http, 200);
	assert_int_equal(s.body_len, 0); /* nothing new */
	sres_free(&s);
	two_free(&t);
}

/* A alone on its previous key, without the collection it came with. */
static void test_replay_collection_alone(void **state)
{
	fx *f = *state;
	two t;
	lost_answer(f, &t);
	mcoll c[1] = { { t.inbox, t.a1, ADD_DRAFT } };
	char *again = sync_n(f, c, 1);
	char *a = coll_of(again, t.inbox);
	assert_non_null(a);
	assert_string_equal(a, t.a_part);
	assert_null(coll_of(again, t.sent));
	assert_int_equal(items_with_subject(f, t.inbox, "kept once"), 1);
	free(a);
	free(again);
	/* and once more: still the same answer (the chain did not move) */
	again = sync_n(f, c, 1);
	a = coll_of(again, t.inbox);
	assert_non_null(a);
	assert_string_equal(a, t.a_part);
	free(a);
	free(again);
	/* B, also on its previous key, on its own: its own answer */
	char *b_old = coll_of(t.first, t.sent);
	mcoll cb[1] = { { t.sent, t.b1, NULL } };
	again = sync_n(f, cb, 1);
	char *b = coll_of(again, t.sent);
	assert_non_null(b);
	assert_string_equal(b, b_old);
	free(b);
	free(b_old);
	free(again);
	two_free(&t);
}

/* A on its previous key together with a collection C that was not in the lost request. */
static void test_replay_with_added_collection(void **state)
{
	fx *f = *state;
	two t;
	lost_answer(f, &t);
	add_mail(f, f->alice, t.drafts, 4, NULL);
	char c1[EAS_MSTORE_ID_SIZE];
	sres s;
	sync1(f, "alice", "DEV1", t.drafts, "0", NULL, &s);
	strcpy(c1, s.key);
	sres_free(&s);
	mcoll c[2] = { { t.inbox, t.a1, ADD_DRAFT }, { t.drafts, c1, NULL } };
	char *again = sync_n(f, c, 2);
	char *a = coll_of(again, t.inbox), *d = coll_of(again, t.drafts);
	assert_non_null(a);
	assert_non_null(d);
	assert_string_equal(a, t.a_part);
	assert_non_null(strstr(d, ">mail 4</Subject>"));
	assert_non_null(strstr(d, "<Status>1</Status>"));
	assert_int_equal(items_with_subject(f, t.inbox, "kept once"), 1);
	/* the response is in the order of the request */
	assert_true(strstr(again, t.inbox) < strstr(again, t.drafts));
	free(a);
	free(d);
	free(again);
	/* a stale key next to a replay: Status 3 for that one only */
	mcoll c3[2] = { { t.inbox, t.a1, ADD_DRAFT }, { t.sent, "{00000000000000000000000000000000}9", NULL } };
	again = sync_n(f, c3, 2);
	a = coll_of(again, t.inbox);
	d = coll_of(again, t.sent);
	assert_string_equal(a, t.a_part);
	assert_non_null(strstr(d, "<Status>3</Status>"));
	free(a);
	free(d);
	free(again);
	two_free(&t);
}

/* ---- paging shortcuts of the store (where the last window stopped) ------------------------ */

typedef struct totals {
	size_t adds, changes, deletes, soft, rounds;
	char subjects[1024]; /* the Subjects added, "|"-separated */
} totals;

/* Syncs folder until nothing more waits, adding up what came; key follows. */
static void drain(fx *f, const char *folder, char *key, const char *extra, totals *t)
{
	memset(t, 0, sizeof *t);
	for (;;) {
		sres s;
		sync1(f, "alice", "DEV1", folder, key, extra, &s);
		assert_int_equal(s.http, 200);
		if (!s.xml) { /* nothing to say */
			sres_free(&s);
			return;
		}
		assert_int_equal(s.status, 1);
		t->rounds++;
		t->adds += s.adds;
		t->changes += s.changes;
		t->deletes += s.deletes;
		t->soft += count_of(s.xml, "<SoftDelete>");
		static const char open[] = "<Subject xmlns=\"Email:\">";
		for (const char *p = strstr(s.xml, open); p; p = strstr(p + 1, open)) {
			char subj[64];
			assert_int_equal(sscanf(p + strlen(open), "%63[^<]", subj), 1);
			char bar[80];
			snprintf(bar, sizeof bar, "|%s|", subj);
			assert_null(strstr(t->subjects, bar)); /* never twice */
			size_t used = strlen(t->subjects);
			snprintf(t->subjects + used, sizeof t->subjects - used, "%s|", used ? subj : bar);
		}
		strcpy(key, s.key);
		int more = s.more;
		sres_free(&s);
		if (!more)
			return;
		assert_true(t->rounds < 50);
	}
}

#define WIN5_DAY "<WindowSize>5</WindowSize><Options><FilterType>1</FilterType></Options>"
#define WIN5_ALL "<WindowSize>5</WindowSize><Options><FilterType>0</FilterType></Options>"

static void test_paging_shortcuts(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], key[EAS_MSTORE_ID_SIZE], first[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, EAS_MSTORE_FOLDER_INBOX, inbox);
	for (int i = 0; i < 12; i++)
		add_mail(f, f->alice, inbox, i + 10, i == 0 ? first : NULL);
	start(f, "alice", "DEV1", inbox, key);
	sres s;
	sync1(f, "alice", "DEV1", inbox, key, WIN5_DAY, &s);
	assert_int_equal(s.adds, 5);
	assert_true(s.more);
	strcpy(key, s.key);
	sres_free(&s);
	/* mid-way: a mail older than everything sent so far, and a newer one */
	add_mail(f, f->alice, inbox, 5, NULL);
	add_mail(f, f->alice, inbox, 40, NULL);
	totals t;
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.adds, 9); /* 7 left of the 12, and the two new ones */
	assert_non_null(strstr(t.subjects, "|mail 5|"));
	assert_non_null(strstr(t.subjects, "|mail 40|"));
	assert_int_equal(t.changes + t.deletes + t.soft, 0);
	/* settled: nothing to say, then a change and a delete by the server */
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.rounds, 0);
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.summary.read = 1;
	assert_int_equal(f->store->item_change(f->store, f->alice, first, &d, EAS_MSTORE_SET_READ, NULL), 0);
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.changes, 1);
	assert_int_equal(t.adds + t.deletes + t.soft, 0);
	assert_int_equal(f->store->item_delete(f->store, f->alice, first, NULL), 0);
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.deletes, 1);
	assert_int_equal(t.adds + t.changes + t.soft, 0);
	/* time passes: the one-day window leaves mails 5, 11 and 12 behind (mail 10 is gone) */
	f->now_ms = (uint64_t)(1699956000 + 13 - 1700000000 + 86400) * 1000u;
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.soft, 3);
	assert_int_equal(t.adds + t.changes + t.deletes, 0);
	drain(f, inbox, key, WIN5_DAY, &t);
	assert_int_equal(t.rounds, 0);
	/* a wider window brings them back */
	drain(f, inbox, key, WIN5_ALL, &t);
	assert_int_equal(t.adds, 3);
	assert_non_null(strstr(t.subjects, "|mail 11|"));
	assert_int_equal(t.changes + t.deletes + t.soft, 0);
	drain(f, inbox, key, WIN5_ALL, &t);
	assert_int_equal(t.rounds, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_initial_and_paging, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_and_stale, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_client_commands, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_two_users, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_several_collections, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_one_collection_other_current, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_collection_alone, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_replay_with_added_collection, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_paging_shortcuts, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
