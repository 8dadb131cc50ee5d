/*
 * libFuzzer target: the client session (eas/session.h) answered by a server
 * whose every body is the fuzz input.
 *
 * A session (Basic auth, fixed fake platform, counting allocator) connects:
 * OPTIONS is answered 200 with fixed headers (one of four version sets,
 * picked from a hash of the input: 14.1, 2.5 alone, 16.1, 12.1), then the
 * Provision request gets the input as its 200 body, fed in pieces of 1..N
 * bytes (N and the sizes from the hash).  The session is then driven while
 * it has something to send: a policy is accepted (status 1-4 from the
 * hash), a wipe acknowledged, and once READY one FolderSync is sent; every
 * one of those requests gets the same body.  Then eas_session_free.
 * Checks:
 *   - every API call answers as documented for this order of calls (0);
 *   - requests are well-formed: method and URL set, no header value with a
 *     control character (a policy key from the server goes into
 *     X-MS-PolicyKey), the password nowhere but in the Basic credentials;
 *   - events carry what their type promises (a policy, a key, a negative
 *     error code, a message); no event message and no log line holds the
 *     password (eas/session.h: "never credentials").
 *
 * A server that echoes the password into text the session quotes must not
 * get it into an event or the log: the session redacts messages
 * (corpus/fuzz_session_response/regress-password-echoed-in-message.wbxml).
 * (Such a server may also get its password-holding PolicyKey echoed back
 * in X-MS-PolicyKey: that goes to the server that sent it, not a leak.)
 *   - the exchange ends within a bound of requests, and nothing leaks (the
 *     allocator counts live blocks; ASan's leak check runs too).
 * A broken invariant aborts with the line of the check.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eas/policy.h"
#include "eas/session.h"
#include "wbxml/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                            \
	do {                                                                                   \
		if (!(cond)) {                                                                 \
			fprintf(stderr, "fuzz_session_response: check failed at %s:%d: %s\n", \
				__FILE__, __LINE__, #cond);                                    \
			abort();                                                               \
		}                                                                              \
	} while (0)

#define PASSWORD "s3cr3t-Pa55"
#define URL "https://mail.example.com/Microsoft-Server-ActiveSync"
#define MAX_REQUESTS 64

/* ---- counting allocator ------------------------------------------------------ */

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
	if (ptr)
		live_blocks--;
	free(ptr);
}

/* ---- a fixed platform ---------------------------------------------------------- */

static uint64_t now_ms = 1000;
/* The input's own text holds the password: the server may echo it back to itself. */
static int server_sent_password;
/* ... and messages quoting it are tolerated (the known finding above). */

static uint64_t fake_monotonic(void *ud)
{
	(void)ud;
	return now_ms;
}

static int64_t fake_wall(void *ud)
{
	(void)ud;
	return 1767225600; /* 2026-01-01 */
}

static int fake_random(unsigned char *buf, size_t len, void *ud)
{
	(void)ud;
	memset(buf, 0x42, len);
	return 0;
}

static void fake_log(eas_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	CHECK(msg != NULL);
	CHECK(strstr(msg, PASSWORD) == NULL);
}

static const eas_platform fake_platform = { EAS_PLATFORM_VERSION, fake_monotonic, fake_wall, fake_random,
					    fake_log, NULL };

/* ---- helpers ------------------------------------------------------------------- */

static uint64_t fnv(const uint8_t *data, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < n; i++) {
		h ^= data[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64* */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1Dull;
}

static int holds_password(const char *s, size_t len)
{
	size_t n = strlen(PASSWORD);
	for (size_t i = 0; len >= n && i <= len - n; i++)
		if (memcmp(s + i, PASSWORD, n) == 0)
			return 1;
	return 0;
}

static int tree_holds_password(const eas_node *n)
{
	for (; n; n = n->next)
		if (holds_password(n->text, n->text_len) || tree_holds_password(n->first))
			return 1;
	return 0;
}

/* Does the server's text (raw, or decoded from WBXML) hold the password? */
static int input_holds_password(const uint8_t *data, size_t size)
{
	if (holds_password((const char *)data, size))
		return 1;
	eas_tree *t = NULL;
	if (eas_tree_parse(&t, data, size, 0, NULL, NULL, 0) != 0)
		return 0;
	int found = tree_holds_password(eas_tree_root(t));
	eas_tree_free(t);
	return found;
}

static void check_request(const eas_http_request *r)
{
	CHECK(r->method && r->url);
	CHECK(strncmp(r->url, URL, strlen(URL)) == 0);
	CHECK(server_sent_password || strstr(r->url, PASSWORD) == NULL);
	for (size_t i = 0; i < r->header_count; i++) {
		const char *v = r->headers[i].value;
		CHECK(r->headers[i].name && v);
		for (const char *c = v; *c; c++)
			CHECK((unsigned char)*c >= 0x20 && *c != 0x7F);
		/* A server may echo anything back to itself (a PolicyKey holding the password). */
		CHECK(server_sent_password || strstr(v, PASSWORD) == NULL);
	}
}

static const char commands[] = "Sync,SendMail,SmartForward,SmartReply,GetAttachment,FolderSync,FolderCreate,"
			       "FolderDelete,FolderUpdate,MoveItems,GetItemEstimate,MeetingResponse,Search,"
			       "Settings,Ping,ItemOperations,Provision,ResolveRecipients,ValidateCert";

static const char *const version_sets[] = { "2.5,12.0,12.1,14.0,14.1", "2.5", "14.1,16.0,16.1", "12.0,12.1" };

/* <FolderSync xmlns="FolderHierarchy:"><SyncKey>0</SyncKey></FolderSync> */
static const uint8_t folder_sync[] = { 0x03, 0x01, 0x6A, 0x00, 0x00, 0x07, 0x56, 0x52, 0x03, 0x30, 0x00, 0x01, 0x01 };

typedef struct drive {
	eas_session *s;
	uint64_t rnd;
	size_t max_piece;
	int policy_status;
	int sent_command;
} drive;

/* The body in pieces of 1..max_piece bytes. */
static void feed(drive *d, const uint8_t *data, size_t size)
{
	static const eas_http_header h[] = { { "Content-Type", "application/vnd.ms-sync.wbxml" } };
	CHECK(eas_session_response_head(d->s, 200, h, 1) == 0);
	for (size_t off = 0; off < size;) {
		size_t piece = 1 + (size_t)(next_rand(&d->rnd) % d->max_piece);
		if (piece > size - off)
			piece = size - off;
		CHECK(eas_session_response_body(d->s, data + off, piece) == 0);
		off += piece;
	}
	CHECK(eas_session_response_end(d->s, 0) == 0);
}

/* Pops every event and answers those that want an answer. */
static void events(drive *d)
{
	eas_session_event ev;
	while (eas_session_next_event(d->s, &ev) == 1) {
		CHECK(ev.message != NULL);
		CHECK(strstr(ev.message, PASSWORD) == NULL);
		switch (ev.type) {
		case EAS_EVENT_VERSION_NEGOTIATED:
			CHECK(ev.version != 0 && (ev.version & (ev.version - 1)) == 0);
			break;
		case EAS_EVENT_POLICY: {
			CHECK(ev.policy != NULL);
			char text[2048];
			eas_policy_describe(ev.policy, text, sizeof text);
			CHECK(eas_session_accept_policy(d->s, d->policy_status) == 0);
			break;
		}
		case EAS_EVENT_PROVISIONED:
			CHECK(ev.policy_key != NULL);
			CHECK(strcmp(ev.policy_key, eas_session_policy_key(d->s)) == 0);
			break;
		case EAS_EVENT_WIPE:
			CHECK(eas_session_ack_wipe(d->s) == 0);
			break;
		case EAS_EVENT_READY:
			if (!d->sent_command) {
				d->sent_command = 1;
				CHECK(eas_session_send(d->s, EAS_CMD_FOLDER_SYNC, folder_sync, sizeof folder_sync) == 0);
			}
			break;
		case EAS_EVENT_ERROR:
			CHECK(ev.error < 0);
			break;
		case EAS_EVENT_RESPONSE: {
			size_t len = 0;
			const uint8_t *body = eas_session_response_data(d->s, &len);
			CHECK(len == 0 || body != NULL);
			break;
		}
		default:
			/* REDIRECT, AUTH_FAILED: not from a 200. */
			CHECK(0);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint64_t h = fnv(data, size);
	live_blocks = 0;
	now_ms = 1000;
	server_sent_password = input_holds_password(data, size);

	eas_mem mem = { m_malloc, m_realloc, m_free, NULL };
	eas_account a = EAS_ACCOUNT_INIT;
	a.url = URL;
	a.user = "alice";
	a.password = PASSWORD;
	a.device_id = "DEV0123456789";
	a.device_type = "SmartPhone";
	a.user_agent = "libeas-fuzz/1.0";
	a.device.model = "FuzzPhone";
	eas_session_options o = EAS_SESSION_OPTIONS_INIT;
	o.platform = &fake_platform;
	o.mem = &mem;
	drive d = { NULL, h | 1, 1 + (size_t)(h % 64), 1 + (int)((h >> 8) % 4), 0 };
	CHECK(eas_session_new(&d.s, &a, &o) == 0);

	/* OPTIONS with fixed headers. */
	CHECK(eas_session_connect(d.s) == 0);
	const eas_http_request *r = NULL;
	CHECK(eas_session_next_request(d.s, &r, now_ms) == 0);
	CHECK(r != NULL && strcmp(r->method, "OPTIONS") == 0);
	check_request(r);
	eas_http_header oh[] = { { "MS-ASProtocolVersions", version_sets[(h >> 16) % 4] },
				 { "MS-ASProtocolCommands", commands } };
	CHECK(eas_session_response_head(d.s, 200, oh, 2) == 0);
	CHECK(eas_session_response_end(d.s, 0) == 0);
	events(&d);

	/* Provision, and whatever follows, answered with the input. */
	int requests = 0;
	for (int turns = 0;; turns++) {
		CHECK(turns < 4 * MAX_REQUESTS);
		r = NULL;
		CHECK(eas_session_next_request(d.s, &r, now_ms) == 0);
		if (!r) {
			uint64_t wait = eas_session_next_timeout(d.s, now_ms);
			if (wait == UINT64_MAX)
				break;
			now_ms += wait;
			continue;
		}
		CHECK(++requests <= MAX_REQUESTS);
		CHECK(strcmp(r->method, "POST") == 0);
		check_request(r);
		feed(&d, data, size);
		events(&d);
	}
	CHECK(requests >= 1);
	eas_session_free(d.s);
	CHECK(live_blocks == 0);
	return 0;
}
