/*
 * The companion server's engine driven directly: hand-built HTTP requests
 * (WBXML bodies made from XML), a SQLite store in memory, a fake clock.
 * Every handler, every error path, two users' isolation, Ping holds.
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
#include "common/buf.h"
#include "eas/http.h"
#include "server/engine.h"
#include "server/handler.h"
#include "server/store_sqlite.h"
#include "testmem.h"
#include "server_fixture.h"
#include "xmldoc.h"

static const char *hdr(const reply *r, const char *name)
{
	for (size_t i = 0; i < r->r.header_count; i++)
		if (strcasecmp(r->r.headers[i].name, name) == 0)
			return r->r.headers[i].value;
	return NULL;
}

/* Text of the first <tag> in the compact XML, copied into out ("" when missing). */
#define FS(key) "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>" key "</SyncKey></FolderSync>"


static void add_item(fx *f, int64_t user, const char *folder)
{
	eas_mstore_item_data d;
	memset(&d, 0, sizeof d);
	d.class_name = "Email";
	d.summary.subject = "hello";
	d.summary.date = 1700000000;
	char id[EAS_MSTORE_ID_SIZE];
	assert_int_equal(f->store->item_add(id, f->store, user, folder, &d, NULL), 0);
}

/* ---- OPTIONS, authentication, HTTP errors ----------------------------------------- */

static void test_options(void **state)
{
	fx *f = *state;
	reply r;
	do_call(f, &(call){ .method = "OPTIONS" }, &r);
	assert_int_equal(r.r.status, 200);
	assert_string_equal(hdr(&r, "MS-ASProtocolVersions"), "2.5,12.0,12.1,14.0,14.1,16.0,16.1");
	const char *cmds = hdr(&r, "MS-ASProtocolCommands");
	assert_non_null(cmds);
	uint64_t set = 0;
	assert_int_equal(eas_http_commands_parse(&set, cmds, strlen(cmds)), 0);
	/* exactly the commands the engine dispatches, at least these */
	assert_true(set == eas__srv_commands());
	const uint64_t base = EAS_COMMAND_BIT(EAS_CMD_FOLDER_SYNC) | EAS_COMMAND_BIT(EAS_CMD_FOLDER_CREATE) |
			      EAS_COMMAND_BIT(EAS_CMD_FOLDER_DELETE) | EAS_COMMAND_BIT(EAS_CMD_FOLDER_UPDATE) |
			      EAS_COMMAND_BIT(EAS_CMD_SETTINGS) | EAS_COMMAND_BIT(EAS_CMD_PING) |
			      EAS_COMMAND_BIT(EAS_CMD_PROVISION);
	assert_true((set & base) == base);
	assert_non_null(hdr(&r, "MS-Server-ActiveSync"));
	assert_string_equal(hdr(&r, "Allow"), "OPTIONS,POST");
	reply_free(&r);
}

static void test_authentication(void **state)
{
	fx *f = *state;
	reply r;
	do_call(f, &(call){ .method = "OPTIONS", .no_auth = 1 }, &r);
	assert_int_equal(r.r.status, 401);
	assert_string_equal(hdr(&r, "WWW-Authenticate"), "Basic realm=\"ActiveSync\"");
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS", .password = "wrong-secret" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS", .user = "mallory", .password = "x" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	/* a POST without credentials is refused before anything else */
	do_call(f, &(call){ .cmd = "FolderSync", .no_auth = 1, .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	/* twice the right password: the second is served from the login cache */
	do_call(f, &(call){ .method = "OPTIONS" }, &r);
	assert_int_equal(r.r.status, 200);
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS" }, &r);
	assert_int_equal(r.r.status, 200);
	reply_free(&r);
	/* the cache is keyed by the password too */
	do_call(f, &(call){ .method = "OPTIONS", .password = "pw-alicE" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);

	/* Bearer tokens issued by the store */
	char token[EAS_MSTORE_TOKEN_SIZE];
	assert_int_equal(f->store->token_issue(token, f->store, f->bob, 0), 0);
	size_t adds = 0;
	call_wbxml(f, &(call){ .cmd = "FolderSync", .user = "bob", .bearer = token, .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	adds = count_of(r.xml, "<Add>");
	assert_int_equal(adds, 10);
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS", .bearer = "eas_0000" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	assert_int_equal(f->store->token_revoke(f->store, f->bob, token), 0);
	do_call(f, &(call){ .method = "OPTIONS", .bearer = token }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	/* a user deleted while the login is remembered: 401 */
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "0", NULL, 0, NULL), 1);
	assert_int_equal(f->store->user_delete(f->store, f->alice), 0);
	do_call(f, &(call){ .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	/* Garbage schemes and Basic values */
	do_call(f, &(call){ .method = "OPTIONS", .bearer = "" }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);

	/* No secret reaches the log. */
	assert_null(strstr(f->log, "pw-alice"));
	assert_null(strstr(f->log, "wrong-secret"));
	assert_null(strstr(f->log, token));
	assert_non_null(strstr(f->log, "FolderSync user=bob device=DEV1"));
}

/* A command the engine knows by name but does not serve (501), or NULL. */
static const char *unimplemented_command(void)
{
	static const eas_command candidates[] = {
		EAS_CMD_VALIDATE_CERT, EAS_CMD_RESOLVE_RECIPIENTS, EAS_CMD_MEETING_RESPONSE, EAS_CMD_SEARCH,
		EAS_CMD_GET_ITEM_ESTIMATE, EAS_CMD_MOVE_ITEMS, EAS_CMD_ITEM_OPERATIONS, EAS_CMD_SEND_MAIL,
		EAS_CMD_SMART_REPLY, EAS_CMD_SMART_FORWARD, EAS_CMD_SYNC,
	};
	for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
		if (!(eas__srv_commands() & EAS_COMMAND_BIT(candidates[i])))
			return eas_command_name(candidates[i]);
	return NULL;
}

static void test_http_errors(void **state)
{
	fx *f = *state;
	reply r;
	do_call(f, &(call){ .path = "/elsewhere", .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 404);
	reply_free(&r);
	do_call(f, &(call){ .method = "GET", .cmd = "FolderSync" }, &r);
	assert_int_equal(r.r.status, 405);
	assert_string_equal(hdr(&r, "Allow"), "OPTIONS,POST");
	reply_free(&r);
	/* 413: the front end stopped at its cap, or the body is over the engine's */
	do_call(f, &(call){ .cmd = "FolderSync", .xml = FS("0"), .too_large = 1 }, &r);
	assert_int_equal(r.r.status, 413);
	reply_free(&r);
	/* garbage WBXML: 400, no crash */
	do_call(f, &(call){ .cmd = "FolderSync", .raw_body = "this is not WBXML at all" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .raw_body = "\x03\x01\x6a\x00\x00\x07\x56\x52\x03" }, &r);
	assert_int_equal(r.r.status, 400); /* truncated */
	reply_free(&r);
	/* a well-formed document of the wrong command */
	do_call(f, &(call){ .cmd = "FolderSync", .xml = "<Ping xmlns=\"Ping:\"><HeartbeatInterval>60</HeartbeatInterval></Ping>" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	/* no body where one is needed */
	do_call(f, &(call){ .cmd = "FolderSync" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	/* unknown command: 501; a known one this server does not implement: 501 */
	do_call(f, &(call){ .cmd = "Teleport", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 501);
	reply_free(&r);
	const char *missing = unimplemented_command();
	if (missing) {
		do_call(f, &(call){ .cmd = missing, .xml = FS("0") }, &r);
		assert_int_equal(r.r.status, 501);
		reply_free(&r);
	}
	/* a base64 query with an unassigned command code: 501 (141, code 6, id "A", no key, type "T") */
	{
		const uint8_t q[] = { 141, 6, 0x09, 0x04, 1, 'A', 0, 1, 'T' };
		char b64[32];
		eas__base64_encode(b64, q, sizeof q);
		do_call(f, &(call){ .raw_query = b64, .version = "", .xml = FS("0") }, &r);
		assert_int_equal(r.r.status, 501);
		reply_free(&r);
	}
	/* malformed queries: 400 */
	do_call(f, &(call){ .raw_query = "Cmd=FolderSync&User=alice", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f, &(call){ .raw_query = "%%%", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f, &(call){ .cmd = NULL, .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	/* protocol version: missing, unknown, and a command the version lacks */
	do_call(f, &(call){ .cmd = "FolderSync", .version = "", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .version = "15.0", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "Settings", .version = "2.5",
			    .xml = "<Settings xmlns=\"Settings:\"><UserInformation><Get/></UserInformation></Settings>" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
	/* the query's User must be the authenticated user */
	do_call(f, &(call){ .cmd = "FolderSync", .query_user = "bob", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 403);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .query_user = "EXAMPLE%5Calice", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 200);
	reply_free(&r);
	/* every request is logged with its status */
	assert_non_null(strstr(f->log, "http=501"));
	assert_non_null(strstr(f->log, "http=413"));
	assert_null(strstr(f->log, "this is not WBXML"));
}

static void test_base64_query(void **state)
{
	fx *f = *state;
	const uint8_t dev[4] = { 0xDE, 0xAD, 0x00, 0x01 };
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.command = EAS_CMD_FOLDER_SYNC;
	q.protocol_version = EAS_PROTO_16_1;
	q.locale = 0x0409;
	q.device_id = dev;
	q.device_id_len = sizeof dev;
	q.device_type = "Phone";
	char *text = NULL;
	assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
	reply r;
	call_wbxml(f, &(call){ .raw_query = text, .version = "", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	eas_http_string_free(text, NULL);
	/* a DeviceId in the engine's reserved "@@" namespace is kept as hex too */
	q.device_id = (const uint8_t *)"@@mailbox@@";
	q.device_id_len = 11;
	assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
	call_wbxml(f, &(call){ .raw_query = text, .version = "", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	eas_http_string_free(text, NULL);
	eas_mstore_device *d = NULL;
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "@@mailbox@@"), EAS_E_NOTFOUND);
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "40406d61696c626f784040"), 0);
	f->store->release(f->store, d);
	/* the binary DeviceId is kept as hex */
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "dead0001"), 0);
	assert_string_equal(d->info.device_type, "Phone");
	assert_string_equal(d->info.user_agent, "test-agent/1.0");
	f->store->release(f->store, d);
}

/* ---- FolderSync and the folder commands ----------------------------------------------- */

static void test_folder_sync(void **state)
{
	fx *f = *state;
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 200);
	assert_string_equal(hdr(&r, "Content-Type"), "application/vnd.ms-sync.wbxml");
	assert_non_null(hdr(&r, "MS-ASProtocolVersions")); /* on a FolderSync 0, as Exchange does */
	assert_non_null(hdr(&r, "MS-ASProtocolCommands"));
	assert_int_equal(xml_uint(&r, "Status"), 1);
	assert_int_equal(xml_uint(&r, "Count"), 10);
	assert_int_equal(count_of(r.xml, "<Add>"), 10);
	assert_non_null(strstr(r.xml, "<DisplayName>Inbox</DisplayName>"));
	assert_non_null(strstr(r.xml, "<Type>2</Type>"));
	char k1[80];
	xml_text(&r, "SyncKey", k1, sizeof k1);
	assert_true(k1[0] && strcmp(k1, "0") != 0);
	uint8_t *first = malloc(r.r.body_len);
	size_t first_len = r.r.body_len;
	memcpy(first, r.r.body, first_len);
	reply_free(&r);

	/* the current key: no changes, a new key */
	char k2[80];
	size_t adds = 99;
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", k1, k2, sizeof k2, &adds), 1);
	assert_int_equal(adds, 0);
	assert_string_not_equal(k1, k2);
	/* the previous key again (the k1 -> k2 answer was lost): that answer replayed, key k2 */
	char xml[200];
	snprintf(xml, sizeof xml, FS("%s"), k1);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	char again[80];
	xml_text(&r, "SyncKey", again, sizeof again);
	assert_string_equal(again, k2);
	reply_free(&r);
	/* a stale or invented key: Status 9 */
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "{bogus}7", NULL, 0, NULL), 9);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1",
				     "0123456789012345678901234567890123456789012345678901234567890123456789", NULL, 0,
				     NULL), 9);
	/* key 0 starts over with every folder */
	char k3[80];
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "0", k3, sizeof k3, &adds), 1);
	assert_int_equal(adds, 10);
	free(first);

	/* Replay: sync, lose the answer, send the same key again. */
	char k4[80], k4b[80];
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", k3, k4, sizeof k4, NULL), 1);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", k3, k4b, sizeof k4b, NULL), 1);
	assert_string_equal(k4, k4b);
}

#define FC(key, parent, name, type) \
	"<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>" key "</SyncKey><ParentId>" parent "</ParentId>" \
	"<DisplayName>" name "</DisplayName><Type>" type "</Type></FolderCreate>"

static unsigned folder_create(fx *f, const char *user, const char *key, const char *parent, const char *name,
			      unsigned type, char *new_key, char *server_id)
{
	char xml[512];
	snprintf(xml, sizeof xml,
		 "<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>%s</SyncKey><ParentId>%s</ParentId>"
		 "<DisplayName>%s</DisplayName><Type>%u</Type></FolderCreate>",
		 key, parent, name, type);
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderCreate", .user = user, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	unsigned status = xml_uint(&r, "Status");
	if (new_key)
		xml_text(&r, "SyncKey", new_key, 80);
	if (server_id)
		xml_text(&r, "ServerId", server_id, EAS_MSTORE_ID_SIZE);
	reply_free(&r);
	return status;
}

static unsigned folder_update(fx *f, const char *user, const char *key, const char *id, const char *parent,
			      const char *name, char *new_key)
{
	char xml[512];
	snprintf(xml, sizeof xml,
		 "<FolderUpdate xmlns=\"FolderHierarchy:\"><SyncKey>%s</SyncKey><ServerId>%s</ServerId>"
		 "<ParentId>%s</ParentId><DisplayName>%s</DisplayName></FolderUpdate>",
		 key, id, parent, name);
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderUpdate", .user = user, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	unsigned status = xml_uint(&r, "Status");
	if (new_key)
		xml_text(&r, "SyncKey", new_key, 80);
	reply_free(&r);
	return status;
}

static unsigned folder_delete(fx *f, const char *user, const char *key, const char *id, char *new_key)
{
	char xml[512];
	snprintf(xml, sizeof xml,
		 "<FolderDelete xmlns=\"FolderHierarchy:\"><SyncKey>%s</SyncKey><ServerId>%s</ServerId></FolderDelete>",
		 key, id);
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderDelete", .user = user, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	unsigned status = xml_uint(&r, "Status");
	if (new_key)
		xml_text(&r, "SyncKey", new_key, 80);
	reply_free(&r);
	return status;
}

static void test_folder_commands(void **state)
{
	fx *f = *state;
	char key[80], next[80], id[EAS_MSTORE_ID_SIZE], sub[EAS_MSTORE_ID_SIZE], inbox[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, 2, inbox);
	/* before any FolderSync, and with key 0: Status 9 */
	assert_int_equal(folder_create(f, "alice", "0", "0", "Projects", 12, NULL, NULL), 9);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "0", key, sizeof key, NULL), 1);
	assert_int_equal(folder_create(f, "alice", "{nope}1", "0", "Projects", 12, NULL, NULL), 9);

	assert_int_equal(folder_create(f, "alice", key, "0", "Projects", 12, next, id), 1);
	assert_true(id[0] != '\0');
	strcpy(key, next);
	/* the same name again: 2; an unknown parent: 5; a type FolderCreate cannot make: 10 */
	assert_int_equal(folder_create(f, "alice", key, "0", "projects", 12, NULL, NULL), 2);
	assert_int_equal(folder_create(f, "alice", key, "9999", "Orphan", 12, NULL, NULL), 5);
	assert_int_equal(folder_create(f, "alice", key, "0", "Inbox2", 2, NULL, NULL), 10);
	/* a subfolder */
	assert_int_equal(folder_create(f, "alice", key, id, "Q3", 1, next, sub), 1);
	strcpy(key, next);
	/* the creating device does not get its own folders back; another device sees them */
	size_t adds = 9;
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", key, next, sizeof next, &adds), 1);
	assert_int_equal(adds, 0);
	strcpy(key, next);
	char k2[80];
	assert_int_equal(fx_folder_sync(f, "alice", "DEV2", "0", k2, sizeof k2, &adds), 1);
	assert_int_equal(adds, 12);

	/* FolderUpdate: rename, a special folder, an unknown folder, a missing parent, under itself */
	assert_int_equal(folder_update(f, "alice", key, id, "0", "Projects 2024", next), 1);
	strcpy(key, next);
	assert_int_equal(folder_update(f, "alice", key, inbox, "0", "Renamed Inbox", NULL), 2);
	assert_int_equal(folder_update(f, "alice", key, "424242", "0", "Ghost", NULL), 4);
	assert_int_equal(folder_update(f, "alice", key, id, "424242", "Moved", NULL), 5);
	assert_int_equal(folder_update(f, "alice", key, id, sub, "Loop", NULL), 5);
	assert_int_equal(folder_update(f, "alice", "{stale}1", id, "0", "X", NULL), 9);
	/* the other device gets the rename as an Update */
	reply r;
	char xml[200];
	snprintf(xml, sizeof xml, FS("%s"), k2);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .device = "DEV2", .xml = xml }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	assert_non_null(strstr(r.xml, "<Update>"));
	assert_non_null(strstr(r.xml, "<DisplayName>Projects 2024</DisplayName>"));
	xml_text(&r, "SyncKey", k2, sizeof k2);
	reply_free(&r);

	/* FolderDelete: a special folder, an unknown one, then the folder with its subfolder */
	assert_int_equal(folder_delete(f, "alice", key, inbox, NULL), 3);
	assert_int_equal(folder_delete(f, "alice", key, "424242", NULL), 4);
	assert_int_equal(folder_delete(f, "alice", key, id, next), 1);
	strcpy(key, next);
	assert_int_equal(folder_delete(f, "alice", key, sub, NULL), 4);
	snprintf(xml, sizeof xml, FS("%s"), k2);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .device = "DEV2", .xml = xml }, &r);
	assert_int_equal(count_of(r.xml, "<Delete>"), 2);
	reply_free(&r);

	/* a lost FolderCreate answer: the same request with the same key gets the same answer */
	char id_a[EAS_MSTORE_ID_SIZE], id_b[EAS_MSTORE_ID_SIZE], nk_a[80], nk_b[80];
	assert_int_equal(folder_create(f, "alice", key, "0", "Retry", 12, nk_a, id_a), 1);
	assert_int_equal(folder_create(f, "alice", key, "0", "Retry", 12, nk_b, id_b), 1);
	assert_string_equal(id_a, id_b);
	assert_string_equal(nk_a, nk_b);
	/* malformed requests: 400 */
	do_call(f, &(call){ .cmd = "FolderCreate", .xml = "<FolderCreate xmlns=\"FolderHierarchy:\"><SyncKey>1</SyncKey></FolderCreate>" }, &r);
	assert_int_equal(r.r.status, 400);
	reply_free(&r);
}

static void test_isolation(void **state)
{
	fx *f = *state;
	char akey[80], bkey[80], next[80], aid[EAS_MSTORE_ID_SIZE], ainbox[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, 2, ainbox);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "0", akey, sizeof akey, NULL), 1);
	assert_int_equal(folder_create(f, "alice", akey, "0", "Secret", 12, next, aid), 1);
	add_item(f, f->alice, aid);

	/* bob sees his ten folders, none of alice's */
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderSync", .user = "bob", .xml = FS("0") }, &r);
	assert_int_equal(count_of(r.xml, "<Add>"), 10);
	assert_null(strstr(r.xml, "Secret"));
	xml_text(&r, "SyncKey", bkey, sizeof bkey);
	reply_free(&r);
	/* alice's key chain means nothing for bob, even from the same DeviceId */
	assert_int_equal(fx_folder_sync(f, "bob", "DEV1", next, NULL, 0, NULL), 9);
	/* bob cannot rename, move into, create under or delete alice's folders */
	assert_int_equal(folder_update(f, "bob", bkey, aid, "0", "Mine now", NULL), 4);
	assert_int_equal(folder_update(f, "bob", bkey, ainbox, "0", "Mine now", NULL), 4);
	assert_int_equal(folder_create(f, "bob", bkey, aid, "Inside", 12, NULL, NULL), 5);
	assert_int_equal(folder_delete(f, "bob", bkey, aid, NULL), 4);
	/* nor Ping them */
	char xml[300];
	snprintf(xml, sizeof xml,
		 "<Ping xmlns=\"Ping:\"><HeartbeatInterval>300</HeartbeatInterval><Folders><Folder><Id>%s</Id>"
		 "<Class>Email</Class></Folder></Folders></Ping>",
		 aid);
	call_wbxml(f, &(call){ .cmd = "Ping", .user = "bob", .xml = xml }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 7);
	reply_free(&r);
	/* nor read their items (the store scopes every call by user) */
	uint64_t count = 0;
	assert_int_equal(f->store->item_list(&count, f->store, f->bob, aid, 0, 0, NULL, NULL), EAS_E_NOTFOUND);
	/* alice's folder is intact */
	eas_mstore_folder folder;
	assert_int_equal(f->store->folder_get(&folder, f->store, f->alice, aid), 0);
	assert_string_equal(folder.display_name, "Secret");
	assert_int_equal(f->store->item_list(&count, f->store, f->alice, aid, 0, 0, NULL, NULL), 0);
	assert_int_equal(count, 1);
}

/* ---- Provision ---------------------------------------------------------------------- */

#define DEVINFO "<DeviceInformation xmlns=\"Settings:\"><Set><Model>Pixel 9</Model><IMEI>3545</IMEI>" \
	"<FriendlyName>Work phone</FriendlyName><OS>Android 15</OS><OSLanguage>en</OSLanguage>" \
	"<PhoneNumber>+15551234</PhoneNumber><MobileOperator>Op</MobileOperator></Set></DeviceInformation>"
#define PROV_INITIAL(type) "<Provision xmlns=\"Provision:\">" DEVINFO "<Policies><Policy><PolicyType>" type \
	"</PolicyType></Policy></Policies></Provision>"

/* Runs both phases; the final key in final_key. */
static void provision(fx *f, const char *user, const char *device, const char *version, char *final_key)
{
	int wbxml_type = strcmp(version, "2.5") != 0;
	int with_info = strcmp(version, "14.1") >= 0 && strcmp(version, "2.5") != 0;
	char xml[1024];
	snprintf(xml, sizeof xml, "<Provision xmlns=\"Provision:\">%s<Policies><Policy><PolicyType>%s</PolicyType>"
		 "</Policy></Policies></Provision>", with_info ? DEVINFO : "",
		 wbxml_type ? "MS-EAS-Provisioning-WBXML" : "MS-WAP-Provisioning-XML");
	reply r;
	call_wbxml(f, &(call){ .cmd = "Provision", .user = user, .device = device, .version = version, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	char temp[32];
	xml_text(&r, "PolicyKey", temp, sizeof temp);
	assert_true(temp[0]);
	reply_free(&r);
	snprintf(xml, sizeof xml, "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>%s</PolicyType>"
		 "<PolicyKey>%s</PolicyKey><Status>1</Status></Policy></Policies></Provision>",
		 wbxml_type ? "MS-EAS-Provisioning-WBXML" : "MS-WAP-Provisioning-XML", temp);
	call_wbxml(f, &(call){ .cmd = "Provision", .user = user, .device = device, .version = version, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	xml_text(&r, "PolicyKey", final_key, 32);
	assert_true(final_key[0]);
	assert_string_not_equal(final_key, temp);
	reply_free(&r);
}

static void test_provision_without_policy(void **state)
{
	fx *f = *state;
	reply r;
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = PROV_INITIAL("MS-EAS-Provisioning-WBXML") }, &r);
	assert_int_equal(r.r.status, 200);
	assert_non_null(strstr(r.xml, "<EASProvisionDoc"));
	char temp[32];
	xml_text(&r, "PolicyKey", temp, sizeof temp);
	reply_free(&r);
	/* the device's information is kept */
	eas_mstore_device *d = NULL;
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "DEV1"), 0);
	assert_string_equal(d->info.model, "Pixel 9");
	assert_string_equal(d->info.friendly_name, "Work phone");
	assert_string_equal(d->info.phone_number, "+15551234");
	assert_int_equal(d->policy_state, EAS_MSTORE_POLICY_ISSUED);
	assert_int_equal(d->policy_key, strtoul(temp, NULL, 10));
	f->store->release(f->store, d);

	/* acknowledging another key: Policy Status 5, nothing changes */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"><Policies><Policy>"
					"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType><PolicyKey>12345</PolicyKey>"
					"<Status>1</Status></Policy></Policies></Provision>" }, &r);
	assert_non_null(strstr(r.xml, "<Status>5</Status>"));
	reply_free(&r);
	char final_key[32];
	provision(f, "alice", "DEV1", "14.1", final_key);
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "DEV1"), 0);
	assert_int_equal(d->policy_state, EAS_MSTORE_POLICY_ACKNOWLEDGED);
	assert_int_equal(d->policy_key, strtoul(final_key, NULL, 10));
	assert_int_equal(d->policy_status, 1);
	f->store->release(f->store, d);

	/* 14.1+ without DeviceInformation: 165 */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"><Policies><Policy>"
					"<PolicyType>MS-EAS-Provisioning-WBXML</PolicyType></Policy></Policies></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 165);
	reply_free(&r);
	/* the wrong PolicyType for the version: Policy Status 3 */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = PROV_INITIAL("MS-WAP-Provisioning-XML") }, &r);
	assert_non_null(strstr(r.xml, "<Status>3</Status>"));
	reply_free(&r);
	/* no Policies: Status 2; a broken Provision: Status 2 */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"><Policies></Policies></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	reply_free(&r);
	/* older versions: no DeviceInformation needed; 2.5 gets WAP XML */
	provision(f, "alice", "OLD121", "12.1", final_key);
	provision(f, "alice", "OLD25", "2.5", final_key);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "OLD25b", .version = "2.5",
			       .xml = "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>MS-WAP-Provisioning-XML"
				      "</PolicyType></Policy></Policies></Provision>" }, &r);
	assert_non_null(strstr(r.xml, "wap-provisioningdoc"));
	reply_free(&r);
	/* without a policy, commands need no key */
	assert_int_equal(fx_folder_sync(f, "alice", "NOKEY", "0", NULL, 0, NULL), 1);
}

static eas_policy *strict_policy(void)
{
	static eas_policy p;
	eas_policy_init(&p);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_DEVICE_PASSWORD_ENABLED, 1), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, 6), 0);
	assert_int_equal(eas_policy_set(&p, EAS_POLICY_ALLOW_CAMERA, 0), 0);       /* 12.1+ */
	assert_int_equal(eas_policy_set_empty(&p, EAS_POLICY_MAX_ATTACHMENT_SIZE), 0);
	return &p;
}

static void use_policy(fx *f, const eas_policy *p)
{
	eas_server_free(f->srv);
	f->srv = make_server(f, p, NULL);
}

static void test_provision_with_policy(void **state)
{
	fx *f = *state;
	use_policy(f, strict_policy());
	reply r;
	/* not provisioned: 142 in the body from 14.0 on, HTTP 449 before */
	call_wbxml(f, &(call){ .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 142);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .version = "12.1", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 449);
	reply_free(&r);
	/* the policy goes out, filtered to the version (AllowCamera is 12.1+) */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = PROV_INITIAL("MS-EAS-Provisioning-WBXML") }, &r);
	assert_non_null(strstr(r.xml, "<DevicePasswordEnabled>1</DevicePasswordEnabled>"));
	assert_non_null(strstr(r.xml, "<MinDevicePasswordLength>6</MinDevicePasswordLength>"));
	assert_non_null(strstr(r.xml, "<AllowCamera>0</AllowCamera>"));
	assert_non_null(strstr(r.xml, "<MaxAttachmentSize/>"));
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "V120", .version = "12.0",
			       .xml = "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML"
				      "</PolicyType></Policy></Policies></Provision>" }, &r);
	assert_int_equal(r.r.status, 200);
	assert_non_null(strstr(r.xml, "<MinDevicePasswordLength>6</MinDevicePasswordLength>"));
	assert_null(strstr(r.xml, "AllowCamera"));
	reply_free(&r);

	char key[32];
	provision(f, "alice", "DEV1", "14.1", key);
	/* with the key: served; without, or with another one: 142 / 144 */
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = key, .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 142);
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = "0", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 142);
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = "777", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 144);
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = "not-a-number", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 144);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .version = "12.1", .policy_key = "777", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 449);
	reply_free(&r);
	/* Ping carries no key: served once provisioned */
	char inbox[EAS_MSTORE_ID_SIZE], xml[300];
	default_folder(f, f->alice, 2, inbox);
	snprintf(xml, sizeof xml, "<Ping xmlns=\"Ping:\"><HeartbeatInterval>100</HeartbeatInterval><Folders><Folder>"
		 "<Id>%s</Id><Class>Email</Class></Folder></Folders></Ping>", inbox);
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	assert_non_null(r.r.hold);
	eas_server_hold_cancel(f->srv, r.r.hold);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "Ping", .device = "UNPROV", .xml = xml }, &r);
	assert_null(r.r.hold);
	parse_body(&r);
	assert_int_equal(xml_uint(&r, "Status"), 142);
	reply_free(&r);

	/* a changed policy: 143 until the device provisions again */
	eas_policy changed = *strict_policy();
	assert_int_equal(eas_policy_set(&changed, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH, 8), 0);
	use_policy(f, &changed);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = key, .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 143);
	reply_free(&r);
	provision(f, "alice", "DEV1", "14.1", key);
	call_wbxml(f, &(call){ .cmd = "FolderSync", .policy_key = key, .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);

	/* a device that does not apply the policy: 139, no key */
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "WEAK", .xml = PROV_INITIAL("MS-EAS-Provisioning-WBXML") }, &r);
	char temp[32];
	xml_text(&r, "PolicyKey", temp, sizeof temp);
	reply_free(&r);
	snprintf(xml, sizeof xml, "<Provision xmlns=\"Provision:\"><Policies><Policy><PolicyType>MS-EAS-Provisioning-WBXML"
		 "</PolicyType><PolicyKey>%s</PolicyKey><Status>2</Status></Policy></Policies></Provision>", temp);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "WEAK", .xml = xml }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 139);
	assert_null(strstr(r.xml, "PolicyKey"));
	reply_free(&r);
	/* keys in the base64 query count like the header */
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	q.command = EAS_CMD_FOLDER_SYNC;
	q.protocol_version = EAS_PROTO_14_1;
	q.device_id = (const uint8_t *)"DEV1";
	q.device_id_len = 4;
	q.device_type = "SmartPhone";
	q.has_policy_key = 1;
	q.policy_key = (uint32_t)strtoul(key, NULL, 10);
	char *text = NULL;
	assert_int_equal(eas_http_query_encode_base64(&text, &q, NULL), 0);
	call_wbxml(f, &(call){ .raw_query = text, .version = "", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	eas_http_string_free(text, NULL);
}

static void test_remote_wipe(void **state)
{
	fx *f = *state;
	char key[32];
	provision(f, "alice", "DEV1", "14.1", key);
	assert_int_equal(f->store->device_wipe_request(f->store, f->alice, "DEV1", EAS_MSTORE_WIPE_FULL), 0);
	reply r;
	/* any command: 140 (449 before 14.0) */
	call_wbxml(f, &(call){ .cmd = "FolderSync", .xml = FS("0") }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 140);
	reply_free(&r);
	do_call(f, &(call){ .cmd = "FolderSync", .version = "12.1", .xml = FS("0") }, &r);
	assert_int_equal(r.r.status, 449);
	reply_free(&r);
	/* the (bare) Provision carries the directive */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"/>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	assert_non_null(strstr(r.xml, "<RemoteWipe/>"));
	assert_null(strstr(r.xml, "Policies"));
	reply_free(&r);
	/* a failed wipe: Status 2 and the directive again */
	call_wbxml(f, &(call){ .cmd = "Provision", .xml = "<Provision xmlns=\"Provision:\"><RemoteWipe><Status>2</Status></RemoteWipe></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	assert_non_null(strstr(r.xml, "<RemoteWipe/>"));
	reply_free(&r);
	eas_mstore_device *d = NULL;
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "DEV1"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_ACKNOWLEDGED);
	assert_int_equal(d->wipe_status, 2);
	f->store->release(f->store, d);
	/* an ack nobody asked for: Status 2 */
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "DEV9", .xml = "<Provision xmlns=\"Provision:\"><RemoteWipe><Status>1</Status></RemoteWipe></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	reply_free(&r);

	/* account-only wipe: sent to 16.1 clients */
	do_call(f, &(call){ .cmd = "FolderSync", .device = "NEW161", .version = "16.1", .xml = FS("0") }, &r);
	reply_free(&r);
	assert_int_equal(f->store->device_wipe_request(f->store, f->alice, "NEW161", EAS_MSTORE_WIPE_ACCOUNT_ONLY), 0);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "NEW161", .version = "16.1",
			       .xml = PROV_INITIAL("MS-EAS-Provisioning-WBXML") }, &r);
	assert_non_null(strstr(r.xml, "<AccountOnlyRemoteWipe/>"));
	assert_null(strstr(r.xml, "<RemoteWipe/>"));
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "NEW161", .version = "16.1",
			       .xml = "<Provision xmlns=\"Provision:\"><AccountOnlyRemoteWipe><Status>1</Status>"
				      "</AccountOnlyRemoteWipe></Provision>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "NEW161"), 0);
	assert_int_equal(d->wipe_state, EAS_MSTORE_WIPE_ACKNOWLEDGED);
	assert_int_equal(d->wipe_kind, EAS_MSTORE_WIPE_ACCOUNT_ONLY);
	assert_int_equal(d->wipe_status, 1);
	f->store->release(f->store, d);
	/* an account-only wipe is never turned into a full wipe for an older client */
	do_call(f, &(call){ .cmd = "FolderSync", .device = "OLD141", .xml = FS("0") }, &r);
	reply_free(&r);
	assert_int_equal(f->store->device_wipe_request(f->store, f->alice, "OLD141", EAS_MSTORE_WIPE_ACCOUNT_ONLY), 0);
	call_wbxml(f, &(call){ .cmd = "Provision", .device = "OLD141", .xml = PROV_INITIAL("MS-EAS-Provisioning-WBXML") }, &r);
	assert_null(strstr(r.xml, "RemoteWipe"));
	assert_non_null(strstr(r.xml, "<PolicyKey>"));
	reply_free(&r);
}

/* ---- Settings ------------------------------------------------------------------------- */

static void test_settings(void **state)
{
	fx *f = *state;
	reply r;
	call_wbxml(f, &(call){ .cmd = "Settings", .version = "14.0",
			       .xml = "<Settings xmlns=\"Settings:\"><DeviceInformation><Set><Model>Phone X</Model>"
				      "<OS>Tiny OS 2</OS><UserAgent>tiny/2</UserAgent></Set></DeviceInformation>"
				      "<UserInformation><Get/></UserInformation></Settings>" }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	assert_non_null(strstr(r.xml, "<SMTPAddress>alice@example.test</SMTPAddress>"));
	assert_null(strstr(r.xml, "Accounts"));
	reply_free(&r);
	eas_mstore_device *d = NULL;
	assert_int_equal(f->store->device_get(&d, f->store, f->alice, "DEV1"), 0);
	assert_string_equal(d->info.model, "Phone X");
	assert_string_equal(d->info.os, "Tiny OS 2");
	f->store->release(f->store, d);
	/* 14.1: Accounts */
	call_wbxml(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><UserInformation><Get/></UserInformation></Settings>" }, &r);
	assert_non_null(strstr(r.xml, "<Accounts>"));
	assert_non_null(strstr(r.xml, "<PrimarySmtpAddress>alice@example.test</PrimarySmtpAddress>"));
	reply_free(&r);
	/* Oof: nothing set yet */
	call_wbxml(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>" }, &r);
	assert_non_null(strstr(r.xml, "<OofState>0</OofState>"));
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Settings",
			       .xml = "<Settings xmlns=\"Settings:\"><Oof><Set><OofState>2</OofState>"
				      "<StartTime>2030-01-01T00:00:00.000Z</StartTime><EndTime>2030-01-15T00:00:00.000Z</EndTime>"
				      "<OofMessage><AppliesToInternal/><Enabled>1</Enabled><ReplyMessage>Away &amp; back soon"
				      "</ReplyMessage><BodyType>Text</BodyType></OofMessage></Set></Oof></Settings>" }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	assert_int_equal(count_of(r.xml, "<Status>1</Status>"), 2);
	reply_free(&r);
	/* mailbox-wide: another device reads it back */
	call_wbxml(f, &(call){ .cmd = "Settings", .device = "DEV2",
			       .xml = "<Settings xmlns=\"Settings:\"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>" }, &r);
	assert_non_null(strstr(r.xml, "<OofState>2</OofState>"));
	assert_non_null(strstr(r.xml, "<ReplyMessage>Away &amp; back soon</ReplyMessage>"));
	assert_non_null(strstr(r.xml, "<StartTime>2030-01-01T00:00:00.000Z</StartTime>"));
	reply_free(&r);
	/* ... but not bob */
	call_wbxml(f, &(call){ .cmd = "Settings", .user = "bob",
			       .xml = "<Settings xmlns=\"Settings:\"><Oof><Get><BodyType>Text</BodyType></Get></Oof></Settings>" }, &r);
	assert_non_null(strstr(r.xml, "<OofState>0</OofState>"));
	reply_free(&r);
	/* DevicePassword is refused (7); a malformed Settings gets Status 2 */
	call_wbxml(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><DevicePassword><Set><Password>1234</Password></Set></DevicePassword></Settings>" }, &r);
	assert_non_null(strstr(r.xml, "<Status>7</Status>"));
	reply_free(&r);
	call_wbxml(f, &(call){ .cmd = "Settings", .xml = "<Settings xmlns=\"Settings:\"><Oof><Set><OofState>9</OofState></Set></Oof></Settings>" }, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	reply_free(&r);
	assert_null(strstr(f->log, "1234"));
}

/* ---- Ping ------------------------------------------------------------------------------- */

static void ping_xml(char *out, size_t size, unsigned hb, const char *const *ids, size_t n)
{
	size_t len = (size_t)snprintf(out, size, "<Ping xmlns=\"Ping:\">");
	if (hb)
		len += (size_t)snprintf(out + len, size - len, "<HeartbeatInterval>%u</HeartbeatInterval>", hb);
	if (n) {
		len += (size_t)snprintf(out + len, size - len, "<Folders>");
		for (size_t i = 0; i < n; i++)
			len += (size_t)snprintf(out + len, size - len, "<Folder><Id>%s</Id><Class>Email</Class></Folder>",
						ids[i]);
		len += (size_t)snprintf(out + len, size - len, "</Folders>");
	}
	snprintf(out + len, size - len, "</Ping>");
}

static unsigned ping_status(fx *f, const char *user, const char *xml, reply *keep)
{
	reply r;
	call_wbxml(f, &(call){ .cmd = "Ping", .user = user, .xml = xml }, &r);
	assert_null(r.r.hold);
	assert_int_equal(r.r.status, 200);
	unsigned s = xml_uint(&r, "Status");
	if (keep)
		*keep = r;
	else
		reply_free(&r);
	return s;
}

static void finish(fx *f, eas_server_hold *h, reply *out)
{
	memset(out, 0, sizeof *out);
	assert_int_equal(eas_server_hold_finish(f->srv, h, &out->r), 0);
	parse_body(out);
}

static void test_ping_errors(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], cal[EAS_MSTORE_ID_SIZE], xml[4096];
	default_folder(f, f->alice, 2, inbox);
	default_folder(f, f->alice, 8, cal);
	const char *one[] = { inbox };
	reply r;
	/* nothing cached: an empty Ping, or one lacking a part, is Status 3 */
	do_call(f, &(call){ .cmd = "Ping" }, &r);
	parse_body(&r);
	assert_int_equal(xml_uint(&r, "Status"), 3);
	reply_free(&r);
	ping_xml(xml, sizeof xml, 300, NULL, 0);
	assert_int_equal(ping_status(f, "alice", xml, NULL), 3);
	ping_xml(xml, sizeof xml, 0, one, 1);
	assert_int_equal(ping_status(f, "alice", xml, NULL), 3);
	/* heartbeat out of range: 5 with the bound */
	ping_xml(xml, sizeof xml, 10, one, 1);
	assert_int_equal(ping_status(f, "alice", xml, &r), 5);
	assert_int_equal(xml_uint(&r, "HeartbeatInterval"), 60);
	reply_free(&r);
	ping_xml(xml, sizeof xml, 4000, one, 1);
	assert_int_equal(ping_status(f, "alice", xml, &r), 5);
	assert_int_equal(xml_uint(&r, "HeartbeatInterval"), 3540);
	reply_free(&r);
	/* too many folders: 6 with MaxFolders */
	static char ids[201][8];
	const char *many[201];
	for (size_t i = 0; i < 201; i++) {
		snprintf(ids[i], sizeof ids[i], "%zu", 1000 + i);
		many[i] = ids[i];
	}
	static char big[32768];
	ping_xml(big, sizeof big, 300, many, 201);
	assert_int_equal(ping_status(f, "alice", big, &r), 6);
	assert_int_equal(xml_uint(&r, "MaxFolders"), 200);
	reply_free(&r);
	/* a folder twice: 4; an unknown folder: 7; a broken request: 4 */
	const char *twice[] = { inbox, inbox };
	ping_xml(xml, sizeof xml, 300, twice, 2);
	assert_int_equal(ping_status(f, "alice", xml, NULL), 4);
	const char *ghost[] = { inbox, "987654" };
	ping_xml(xml, sizeof xml, 300, ghost, 2);
	assert_int_equal(ping_status(f, "alice", xml, NULL), 7);
	assert_int_equal(ping_status(f, "alice", "<Ping xmlns=\"Ping:\"><HeartbeatInterval>x</HeartbeatInterval></Ping>", NULL), 4);
	assert_int_equal(ping_status(f, "alice", "<Ping xmlns=\"Ping:\"><Folders><Folder><Id>1</Id></Folder></Folders></Ping>", NULL), 4);
	assert_int_equal(eas_server_hold_count(f->srv), 0);
	(void)cal;
}

static void test_ping_hold_wake_timeout(void **state)
{
	fx *f = *state;
	char inbox[EAS_MSTORE_ID_SIZE], cal[EAS_MSTORE_ID_SIZE], xml[1024];
	default_folder(f, f->alice, 2, inbox);
	default_folder(f, f->alice, 8, cal);
	const char *two[] = { inbox, cal };
	ping_xml(xml, sizeof xml, 120, two, 2);
	reply r;
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	eas_server_hold *h = r.r.hold;
	assert_non_null(h);
	assert_int_equal(r.r.status, 0);
	reply_free(&r);
	assert_int_equal(eas_server_hold_count(f->srv), 1);
	assert_false(eas_server_hold_ready(h));
	assert_int_equal(eas_server_next_timeout(f->srv), 120000);
	/* bob's mail does not wake alice */
	char binbox[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->bob, 2, binbox);
	add_item(f, f->bob, binbox);
	assert_int_equal(f->nwoken, 0);
	/* nor does a folder she does not watch */
	char drafts[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->alice, 3, drafts);
	add_item(f, f->alice, drafts);
	assert_int_equal(f->nwoken, 0);
	/* mail in her calendar does: woken once, Status 2 naming it */
	f->now_ms += 5000;
	add_item(f, f->alice, cal);
	assert_int_equal(f->nwoken, 1);
	assert_ptr_equal(f->woken[0], h);
	assert_true(eas_server_hold_ready(h));
	add_item(f, f->alice, cal);
	assert_int_equal(f->nwoken, 1);
	finish(f, h, &r);
	assert_int_equal(r.r.status, 200);
	assert_int_equal(xml_uint(&r, "Status"), 2);
	assert_non_null(strstr(r.xml, cal));
	char needle[120];
	snprintf(needle, sizeof needle, "<Folder>%s</Folder>", inbox);
	assert_null(strstr(r.xml, needle));
	reply_free(&r);
	assert_int_equal(eas_server_hold_count(f->srv), 0);
	assert_int_equal(eas_server_next_timeout(f->srv), UINT64_MAX);
	assert_non_null(strstr(f->log, "Ping user=alice device=DEV1 version=14.1 http=held"));
	assert_non_null(strstr(f->log, "http=200 status=2 5000ms"));

	/* an empty Ping reuses the cached interval and folders; the heartbeat ends it with Status 1 */
	f->nwoken = 0;
	do_call(f, &(call){ .cmd = "Ping" }, &r);
	h = r.r.hold;
	assert_non_null(h);
	reply_free(&r);
	f->now_ms += 119999;
	eas_server_tick(f->srv);
	assert_int_equal(f->nwoken, 0);
	assert_int_equal(eas_server_next_timeout(f->srv), 1);
	f->now_ms += 1;
	assert_int_equal(eas_server_next_timeout(f->srv), 0);
	eas_server_tick(f->srv);
	assert_int_equal(f->nwoken, 1);
	finish(f, h, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);

	/* a new Ping of the same device ends the waiting one with Status 1 */
	f->nwoken = 0;
	do_call(f, &(call){ .cmd = "Ping" }, &r);
	eas_server_hold *old = r.r.hold;
	reply_free(&r);
	ping_xml(xml, sizeof xml, 600, two, 1);
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	eas_server_hold *newer = r.r.hold;
	assert_non_null(newer);
	reply_free(&r);
	assert_int_equal(f->nwoken, 1);
	assert_ptr_equal(f->woken[0], old);
	finish(f, old, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	/* another device of alice is held separately */
	do_call(f, &(call){ .cmd = "Ping", .device = "DEV2", .xml = xml }, &r);
	eas_server_hold *other = r.r.hold;
	assert_non_null(other);
	reply_free(&r);
	assert_int_equal(eas_server_hold_count(f->srv), 2);
	/* a wipe request wakes only the device it is for: 140 */
	assert_int_equal(f->store->device_wipe_request(f->store, f->alice, "DEV1", EAS_MSTORE_WIPE_FULL), 0);
	assert_int_equal(f->nwoken, 2);
	assert_ptr_equal(f->woken[1], newer);
	finish(f, newer, &r);
	assert_int_equal(xml_uint(&r, "Status"), 140);
	reply_free(&r);
	/* a closed connection: cancel */
	eas_server_hold_cancel(f->srv, other);
	assert_int_equal(eas_server_hold_count(f->srv), 0);
	/* finishing a hold that was never woken: Status 1 */
	do_call(f, &(call){ .cmd = "Ping", .device = "DEV3", .xml = xml }, &r);
	h = r.r.hold;
	reply_free(&r);
	finish(f, h, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
}

static void test_ping_sync_state(void **state)
{
	fx *f = *state;
	/* a device that synced the hierarchy gets Status 7 when another device changes it */
	char key[80], key2[80], next[80], inbox[EAS_MSTORE_ID_SIZE], xml[512];
	default_folder(f, f->alice, 2, inbox);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", "0", key, sizeof key, NULL), 1);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV2", "0", key2, sizeof key2, NULL), 1);
	const char *one[] = { inbox };
	ping_xml(xml, sizeof xml, 300, one, 1);
	reply r;
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	eas_server_hold *h = r.r.hold;
	assert_non_null(h);
	reply_free(&r);
	/* its own FolderCreate (from another connection) is not news to it */
	assert_int_equal(folder_create(f, "alice", key, "0", "Mine", 12, next, NULL), 1);
	assert_int_equal(f->nwoken, 0);
	/* another device's is */
	char xml2[512];
	snprintf(xml2, sizeof xml2, FC("%s", "0", "Theirs", "12"), key2);
	call_wbxml(f, &(call){ .cmd = "FolderCreate", .device = "DEV2", .xml = xml2 }, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
	assert_int_equal(f->nwoken, 1);
	finish(f, h, &r);
	assert_int_equal(xml_uint(&r, "Status"), 7);
	reply_free(&r);
	/* and a new Ping answers 7 at once until it syncs the hierarchy */
	assert_int_equal(ping_status(f, "alice", xml, NULL), 7);
	assert_int_equal(fx_folder_sync(f, "alice", "DEV1", next, NULL, 0, NULL), 1);
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	assert_non_null(r.r.hold);
	eas_server_hold_cancel(f->srv, r.r.hold);
	reply_free(&r);
}

static void test_ping_limits(void **state)
{
	fx *f = *state;
	eas_server_free(f->srv);
	eas_server_config cfg = EAS_SERVER_CONFIG_INIT;
	cfg.store = f->store;
	cfg.platform = &f->plat;
	cfg.heartbeat_min = 1;
	cfg.heartbeat_max = 30;
	cfg.max_ping_folders = 1;
	cfg.max_holds = 1;
	cfg.wake = on_wake;
	cfg.user_data = f;
	assert_int_equal(eas_server_new(&f->srv, &cfg), 0);
	char inbox[EAS_MSTORE_ID_SIZE], cal[EAS_MSTORE_ID_SIZE], xml[512];
	default_folder(f, f->alice, 2, inbox);
	default_folder(f, f->alice, 8, cal);
	const char *two[] = { inbox, cal };
	reply r;
	ping_xml(xml, sizeof xml, 31, two, 1);
	assert_int_equal(ping_status(f, "alice", xml, &r), 5);
	assert_int_equal(xml_uint(&r, "HeartbeatInterval"), 30);
	reply_free(&r);
	ping_xml(xml, sizeof xml, 30, two, 2);
	assert_int_equal(ping_status(f, "alice", xml, &r), 6);
	assert_int_equal(xml_uint(&r, "MaxFolders"), 1);
	reply_free(&r);
	ping_xml(xml, sizeof xml, 1, two, 1);
	do_call(f, &(call){ .cmd = "Ping", .xml = xml }, &r);
	eas_server_hold *h = r.r.hold;
	assert_non_null(h);
	reply_free(&r);
	/* the second concurrent hold is over the limit: 503 */
	do_call(f, &(call){ .cmd = "Ping", .user = "bob", .xml = "<Ping xmlns=\"Ping:\"><HeartbeatInterval>5</HeartbeatInterval></Ping>" }, &r);
	reply_free(&r);
	char binbox[EAS_MSTORE_ID_SIZE];
	default_folder(f, f->bob, 2, binbox);
	const char *bone[] = { binbox };
	ping_xml(xml, sizeof xml, 5, bone, 1);
	do_call(f, &(call){ .cmd = "Ping", .user = "bob", .xml = xml }, &r);
	assert_int_equal(r.r.status, 503);
	assert_non_null(hdr(&r, "Retry-After"));
	reply_free(&r);
	f->now_ms += 1000;
	eas_server_tick(f->srv);
	assert_true(eas_server_hold_ready(h));
	finish(f, h, &r);
	assert_int_equal(xml_uint(&r, "Status"), 1);
	reply_free(&r);
}

/* ---- Autodiscover ------------------------------------------------------------------------ */

#define AD_REQUEST(schema) "<?xml version=\"1.0\" encoding=\"utf-8\"?><Autodiscover xmlns=\"" \
	"http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006\"><Request>" \
	"<EMailAddress>alice@example.test</EMailAddress><AcceptableResponseSchema>" schema \
	"</AcceptableResponseSchema></Request></Autodiscover>"
#define MOBILESYNC "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006"

static void test_autodiscover(void **state)
{
	fx *f = *state;
	reply r;
	do_call(f, &(call){ .path = "/Autodiscover/Autodiscover.xml", .raw_body = AD_REQUEST(MOBILESYNC) }, &r);
	assert_int_equal(r.r.status, 200);
	assert_string_equal(hdr(&r, "Content-Type"), "text/xml; charset=utf-8");
	char *body = strndup((const char *)r.r.body, r.r.body_len);
	assert_non_null(strstr(body, "<Url>https://mail.example.test:8443/Microsoft-Server-ActiveSync</Url>"));
	assert_non_null(strstr(body, "<Type>MobileSync</Type>"));
	assert_non_null(strstr(body, "<EMailAddress>alice@example.test</EMailAddress>"));
	free(body);
	reply_free(&r);
	do_call(f, &(call){ .path = EAS_SERVER_AUTODISCOVER_PATH, .raw_body = AD_REQUEST("urn:other") }, &r);
	body = strndup((const char *)r.r.body, r.r.body_len);
	assert_non_null(strstr(body, "<ErrorCode>601</ErrorCode>"));
	free(body);
	reply_free(&r);
	do_call(f, &(call){ .path = EAS_SERVER_AUTODISCOVER_PATH, .raw_body = "<Autodiscover><Request>" }, &r);
	body = strndup((const char *)r.r.body, r.r.body_len);
	assert_non_null(strstr(body, "<ErrorCode>600</ErrorCode>"));
	free(body);
	reply_free(&r);
	do_call(f, &(call){ .path = EAS_SERVER_AUTODISCOVER_PATH,
			    .raw_body = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><Autodiscover/>" }, &r);
	body = strndup((const char *)r.r.body, r.r.body_len);
	assert_non_null(strstr(body, "<ErrorCode>600</ErrorCode>"));
	free(body);
	reply_free(&r);
	do_call(f, &(call){ .path = EAS_SERVER_AUTODISCOVER_PATH, .no_auth = 1, .raw_body = AD_REQUEST(MOBILESYNC) }, &r);
	assert_int_equal(r.r.status, 401);
	reply_free(&r);
	do_call(f, &(call){ .method = "OPTIONS", .path = EAS_SERVER_AUTODISCOVER_PATH }, &r);
	assert_int_equal(r.r.status, 405);
	reply_free(&r);
	/* without a public URL: the Host header */
	eas_server_free(f->srv);
	eas_server_config cfg = EAS_SERVER_CONFIG_INIT;
	cfg.store = f->store;
	cfg.platform = &f->plat;
	assert_int_equal(eas_server_new(&f->srv, &cfg), 0);
	do_call(f, &(call){ .path = EAS_SERVER_AUTODISCOVER_PATH, .host = "eas.local:9000", .raw_body = AD_REQUEST(MOBILESYNC) }, &r);
	body = strndup((const char *)r.r.body, r.r.body_len);
	assert_non_null(strstr(body, "<Url>https://eas.local:9000/Microsoft-Server-ActiveSync</Url>"));
	free(body);
	reply_free(&r);
}

/* ---- policy file, allocation failures --------------------------------------------------- */

static void test_policy_file(void **state)
{
	(void)state;
	static const char text[] = "# strict\nDevicePasswordEnabled=1\n  MinDevicePasswordLength = 6 \r\n\n"
				   "MaxAttachmentSize=\nApprovedApplicationList=aa11, bb22\n";
	eas_policy p;
	char err[160];
	assert_int_equal(eas_server_policy_parse(&p, text, strlen(text), NULL, err, sizeof err), 0);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_DEVICE_PASSWORD_ENABLED), EAS_POLICY_SET);
	assert_int_equal(p.min_device_password_length, 6);
	assert_int_equal(eas_policy_state_of(&p, EAS_POLICY_MAX_ATTACHMENT_SIZE), EAS_POLICY_EMPTY);
	assert_int_equal(p.approved_application_count, 2);
	assert_string_equal(p.approved_applications[1], "bb22");
	eas_policy_clear(&p);
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "NoSuchThing=1\n", "line 1: unknown policy element 'NoSuchThing'" },
		{ "\nMinDevicePasswordLength=99\n", "line 2: value of MinDevicePasswordLength out of range" },
		{ "AllowCamera=yes\n", "not a number" },
		{ "AllowCamera\n", "expected Name=value" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		assert_int_equal(eas_server_policy_parse(&p, bad[i].text, strlen(bad[i].text), NULL, err, sizeof err),
				 EAS_E_MALFORMED);
		if (!strstr(err, bad[i].msg))
			fail_msg("'%s' lacks '%s'", err, bad[i].msg);
	}
}

static void test_allocation_failures(void **state)
{
	fx *f = *state;
	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	eas_server_free(f->srv);
	f->srv = make_server(f, strict_policy(), &mem);
	char key[32];
	provision(f, "alice", "DEV1", "14.1", key);
	/* every allocation of the engine fails once, in turn: never a crash, 200 or 500 */
	for (long n = 0; n < 200; n++) {
		tm.fail_at = tm.calls + n;
		reply r;
		do_call(f, &(call){ .cmd = "FolderSync", .policy_key = key, .xml = FS("0") }, &r);
		assert_true(r.r.status == 200 || r.r.status == 500);
		int done = tm.fail_at >= tm.calls; /* the failure point was never reached */
		reply_free(&r);
		if (done)
			break;
	}
	tm.fail_at = -1;
	eas_server_free(f->srv);
	f->srv = NULL;
	assert_int_equal(tm.live_blocks, 0);
	f->srv = make_server(f, NULL, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_options, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_authentication, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_http_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_base64_query, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_folder_sync, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_folder_commands, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_isolation, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_provision_without_policy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_provision_with_policy, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_remote_wipe, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_settings, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_errors, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_hold_wake_timeout, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_sync_state, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_ping_limits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_autodiscover, fx_setup, fx_teardown),
		cmocka_unit_test(test_policy_file),
		cmocka_unit_test_setup_teardown(test_allocation_failures, fx_setup, fx_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
