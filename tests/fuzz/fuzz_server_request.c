/*
 * libFuzzer target: one HTTP request through the companion server's engine
 * (eas_server_handle), over an in-memory SQLite mailbox store like the unit
 * tests' fixture: users alice and bob, a few mails with bodies and
 * attachments in alice's Inbox.
 *
 * Input layout (text up to the body, so seeds are easy to write by hand):
 *   byte 0        flags: bit 0 OPTIONS instead of POST, bit 1 no automatic
 *                 "Authorization: Basic alice", bit 2 the Autodiscover path,
 *                 bit 3 the body is "too large" (the front end's cap),
 *                 bit 4 finish a held Ping at once (else cancel it)
 *   line          the query string (after '?'), up to '\n'
 *   lines         "Name: value" headers (at most 6), up to an empty line
 *   rest          the body (WBXML)
 *
 * Every request runs inside a transaction that is rolled back afterwards,
 * so inputs do not change the mailbox for the next ones (the engine's login
 * cache and clock still live on).  Checks: no crash, no leak, no sanitizer
 * report; every answer has an HTTP status and never echoes the password.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/base64.h"
#include "common/buf.h"
#include "eas/http.h"
#include "eas/wbxml.h"
#include "server/engine.h"
#include "wbxml/tree.h"
#include "server/store_sqlite.h"

#define MAX_HEADERS 6
#define PASSWORD "pw-alice-fuzz"

static eas_mstore *store;
static eas_server *srv;
static eas_platform plat;
static uint64_t clock_now = 1000000, rng = 0x9E3779B97F4A7C15ull;
static char auth_value[128];

static uint64_t clock_ms(void *ud)
{
	(void)ud;
	return clock_now;
}

static int64_t wall_s(void *ud)
{
	(void)ud;
	return 1700000000 + (int64_t)(clock_now / 1000u);
}

static int rnd(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	for (size_t i = 0; i < len; i++) {
		rng ^= rng << 13;
		rng ^= rng >> 7;
		rng ^= rng << 17;
		buf[i] = (unsigned char)(rng >> 24);
	}
	return 0;
}

/* FUZZ_SERVER_LOG=1 prints the engine's request log (to check what the seeds reach). */
static void log_line(eas_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	fprintf(stderr, "%s\n", msg);
}

static void on_wake(eas_server_hold *hold, void *ud)
{
	(void)hold;
	(void)ud;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "fuzz_server_request: %s: %s\n", what, eas_strerror(rc));
	abort();
}

static void seed_mailbox(int64_t alice)
{
	eas_mstore_folder inbox;
	int rc = store->folder_find_default(&inbox, store, alice, EAS_MSTORE_FOLDER_INBOX);
	if (rc)
		die("inbox", rc);
	static const char body[] = "<p>Hello &amp; welcome</p><p>caf\xc3\xa9 at noon</p>";
	/* ApplicationData{email:Subject, airsyncbase:Body{Type, Data}} */
	eas_buf ad;
	eas_buf_init(&ad, NULL, 0);
	eas_wbxml_encoder *enc;
	rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &ad, EAS_PROTO_ALL, NULL);
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_EMAIL_SUBJECT, "hi");
	if (rc == 0)
		rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNCBASE_BODY);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNCBASE_TYPE, "2");
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, EAS_TAG_AIRSYNCBASE_DATA, body);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc)
		die("appdata", rc);
	for (int i = 0; i < 3; i++) {
		eas_mstore_item_data d;
		memset(&d, 0, sizeof d);
		d.class_name = "Email";
		d.application_data = ad.data;
		d.application_data_len = ad.len;
		d.summary.subject = "hi";
		d.summary.date = 1700000000 - i * 86400;
		d.body_type = (uint32_t)(1 + i % 2);
		d.body = (const uint8_t *)body;
		d.body_len = sizeof body - 1;
		eas_mstore_attachment_data a;
		memset(&a, 0, sizeof a);
		a.name = "a.txt";
		a.content_type = "text/plain";
		a.method = 1;
		a.data = (const uint8_t *)"attachment bytes";
		a.len = 16;
		d.attachments = &a;
		d.attachment_count = 1;
		char id[EAS_MSTORE_ID_SIZE];
		rc = store->item_add(id, store, alice, inbox.server_id, &d, NULL);
		if (rc)
			die("item_add", rc);
	}
	eas_buf_free(&ad);
}

static void prime(void);

static void setup(void)
{
	plat.version = EAS_PLATFORM_VERSION;
	plat.monotonic_ms = clock_ms;
	plat.wall_clock_s = wall_s;
	plat.random_bytes = rnd;
	if (getenv("FUZZ_SERVER_LOG"))
		plat.log = log_line;
	eas_mstore_sqlite_options opt = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	opt.path = ":memory:";
	opt.platform = &plat;
	opt.pbkdf2_iterations = 1;
	opt.allow_weak_kdf = 1;
	int rc = eas_mstore_sqlite_open(&store, &opt);
	if (rc)
		die("store", rc);
	int64_t alice, bob;
	if ((rc = store->user_add(&alice, store, "alice", PASSWORD)) || (rc = store->user_add(&bob, store, "bob", "pw-bob")))
		die("users", rc);
	seed_mailbox(alice);
	eas_server_config cfg = EAS_SERVER_CONFIG_INIT;
	cfg.store = store;
	cfg.platform = &plat;
	cfg.public_url = "https://mail.example.test";
	cfg.wake = on_wake;
	rc = eas_server_new(&srv, &cfg);
	if (rc)
		die("server", rc);
	char b64[64];
	eas__base64_encode(b64, (const uint8_t *)"alice:" PASSWORD, strlen("alice:" PASSWORD));
	snprintf(auth_value, sizeof auth_value, "Basic %s", b64);
	prime();
}

/* Runs one prepared request of device FUZZ1 outside the per-input rollback. */
static void prime_call(const char *cmd, const eas_tag *tags, size_t n, const char *const *values)
{
	eas_buf b;
	eas_buf_init(&b, NULL, 0);
	eas_wbxml_encoder *enc;
	int rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &b, EAS_PROTO_ALL, NULL);
	/* tags[i] with values[i] NULL opens a container; EAS_TAG_NONE closes one */
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = tags[i] == EAS_TAG_NONE ? eas_wbxml_encoder_end(enc)
		     : values[i]	     ? eas_wbxml_encoder_element(enc, tags[i], values[i])
					     : eas_wbxml_encoder_start(enc, tags[i]);
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc)
		die("prime request", rc);
	char query[128];
	snprintf(query, sizeof query, "Cmd=%s&User=alice&DeviceId=FUZZ1&DeviceType=SmartPhone", cmd);
	eas_http_header h[2] = { { "Authorization", auth_value }, { "MS-ASProtocolVersion", "14.1" } };
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = EAS_SERVER_PATH;
	req.query = query;
	req.query_len = strlen(query);
	req.headers = h;
	req.header_count = 2;
	req.body = b.data;
	req.body_len = b.len;
	eas_server_response resp;
	if (eas_server_handle(srv, &req, &resp) != 0 || resp.status != 200)
		die("prime", EAS_E_STATE);
	if (getenv("FUZZ_SERVER_LOG")) {
		eas_tree *t = NULL;
		char err[80];
		if (eas_tree_parse(&t, resp.body, resp.body_len, 0, NULL, err, sizeof err) == 0) {
			const eas_node *k = eas_tree_root(t);
			while (k && k->tag != EAS_TAG_AIRSYNC_SYNC_KEY && k->tag != EAS_TAG_FOLDERHIERARCHY_SYNC_KEY)
				k = k->first ? k->first : k->next ? k->next : k->parent ? k->parent->next : NULL;
			fprintf(stderr, "prime %s: SyncKey %s\n", cmd, k ? k->text : "?");
		}
		eas_tree_free(t);
	}
	eas_server_response_clear(&resp);
	eas_buf_free(&b);
}

/*
 * Device FUZZ1 has the hierarchy and an Inbox sync state, so inputs with its
 * current keys (deterministic: the same setup every run, printed with
 * FUZZ_SERVER_LOG) reach the paths behind a valid SyncKey.
 */
static void prime(void)
{
	static const eas_tag fs[] = { EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_SYNC_KEY, EAS_TAG_NONE };
	static const char *const fsv[] = { NULL, "0", NULL };
	prime_call("FolderSync", fs, 3, fsv);
	static const eas_tag sy[] = { EAS_TAG_AIRSYNC_SYNC, EAS_TAG_AIRSYNC_COLLECTIONS, EAS_TAG_AIRSYNC_COLLECTION,
				      EAS_TAG_AIRSYNC_SYNC_KEY, EAS_TAG_AIRSYNC_COLLECTION_ID, EAS_TAG_NONE, EAS_TAG_NONE,
				      EAS_TAG_NONE };
	static const char *const syv[] = { NULL, NULL, NULL, "0", "1", NULL, NULL, NULL };
	prime_call("Sync", sy, 8, syv);
}

/* The next line of [*p, end) (without '\n') into a NUL-terminated copy; NULL at the end. */
static char *next_line(const uint8_t **p, const uint8_t *end)
{
	if (*p >= end)
		return NULL;
	const uint8_t *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n = nl ? (size_t)(nl - *p) : (size_t)(end - *p);
	char *s = malloc(n + 1);
	if (!s)
		abort();
	memcpy(s, *p, n);
	s[n] = '\0';
	*p += n + (nl ? 1 : 0);
	return s;
}

static int contains(const uint8_t *hay, size_t len, const char *needle)
{
	size_t n = strlen(needle);
	for (size_t i = 0; i + n <= len; i++)
		if (memcmp(hay + i, needle, n) == 0)
			return 1;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv)
		setup();
	if (size == 0)
		return 0;
	unsigned flags = data[0];
	const uint8_t *p = data + 1, *end = data + size;
	char *query = next_line(&p, end);
	char *lines[MAX_HEADERS];
	eas_http_header headers[MAX_HEADERS + 1];
	size_t nh = 0, nl = 0;
	if (!(flags & 2))
		headers[nh++] = (eas_http_header){ "Authorization", auth_value };
	while (nl < MAX_HEADERS) {
		char *line = next_line(&p, end);
		if (!line)
			break;
		if (!line[0]) {
			free(line);
			break;
		}
		lines[nl++] = line;
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		const char *v = colon + 1;
		while (*v == ' ')
			v++;
		headers[nh++] = (eas_http_header){ line, v };
	}
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = (flags & 1) ? "OPTIONS" : "POST";
	req.path = (flags & 4) ? EAS_SERVER_AUTODISCOVER_PATH : EAS_SERVER_PATH;
	req.query = query && query[0] ? query : NULL;
	req.query_len = req.query ? strlen(query) : 0;
	req.headers = headers;
	req.header_count = nh;
	req.body = p < end ? p : NULL;
	req.body_len = (size_t)(end - p);
	req.body_too_large = (flags & 8) != 0;
	req.remote = "127.0.0.1";

	if (store->begin(store) != 0)
		abort();
	eas_server_response resp;
	if (eas_server_handle(srv, &req, &resp) != 0)
		abort();
	if (resp.hold) {
		if (flags & 16) {
			eas_server_response done;
			if (eas_server_hold_finish(srv, resp.hold, &done) != 0 || done.status != 200)
				abort();
			eas_server_response_clear(&done);
		} else {
			eas_server_hold_cancel(srv, resp.hold);
		}
	} else {
		if (resp.status < 200 || resp.status > 599)
			abort();
		/* the password never comes back (unless the input itself carries it: ids are echoed) */
		if (resp.body_len >= strlen(PASSWORD) && !contains(data, size, PASSWORD)) {
			if (contains(resp.body, resp.body_len, PASSWORD))
				abort();
		}
	}
	eas_server_response_clear(&resp);
	store->rollback(store);
	clock_now += 1000;
	for (size_t i = 0; i < nl; i++)
		free(lines[i]);
	free(query);
	return 0;
}
