/* The companion server test fixture (see server_fixture.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/base64.h"
#include "common/buf.h"
#include "eas/http.h"
#include "server_fixture.h"
#include "xmldoc.h"


/* ---- fake platform ---------------------------------------------------------- */

static uint64_t clock_ms(void *ud)
{
	return ((fx *)ud)->now_ms;
}

static int64_t wall_s(void *ud)
{
	return 1700000000 + (int64_t)(((fx *)ud)->now_ms / 1000u);
}

static int rnd(unsigned char *buf, size_t len, void *ud)
{
	fx *f = ud;
	for (size_t i = 0; i < len; i++) {
		f->rng ^= f->rng << 13;
		f->rng ^= f->rng >> 7;
		f->rng ^= f->rng << 17;
		buf[i] = (unsigned char)(f->rng >> 24);
	}
	return 0;
}

static void log_line(eas_log_level level, const char *msg, void *ud)
{
	(void)level;
	fx *f = ud;
	size_t n = strlen(msg);
	if (f->loglen + n + 2 < sizeof f->log) {
		memcpy(f->log + f->loglen, msg, n);
		f->loglen += n;
		f->log[f->loglen++] = '\n';
		f->log[f->loglen] = '\0';
	}
}

void on_wake(eas_server_hold *hold, void *ud)
{
	fx *f = ud;
	assert_true(f->nwoken < MAX_WOKEN);
	f->woken[f->nwoken++] = hold;
}

eas_server *make_server(fx *f, const eas_policy *policy, const eas_mem *mem)
{
	eas_server_config cfg = EAS_SERVER_CONFIG_INIT;
	cfg.store = f->store;
	cfg.platform = &f->plat;
	cfg.mem = mem;
	cfg.policy = policy;
	cfg.public_url = "https://mail.example.test:8443";
	cfg.mail_domain = "example.test";
	cfg.wake = on_wake;
	cfg.user_data = f;
	eas_server *srv = NULL;
	assert_int_equal(eas_server_new(&srv, &cfg), 0);
	return srv;
}

int fx_setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	f->rng = 0x9E3779B97F4A7C15ull;
	f->now_ms = 1000000;
	f->plat.version = EAS_PLATFORM_VERSION;
	f->plat.monotonic_ms = clock_ms;
	f->plat.wall_clock_s = wall_s;
	f->plat.random_bytes = rnd;
	f->plat.log = log_line;
	f->plat.user_data = f;
	eas_mstore_sqlite_options opt = EAS_MSTORE_SQLITE_OPTIONS_INIT;
	opt.path = ":memory:";
	opt.platform = &f->plat;
	opt.pbkdf2_iterations = 10;
	opt.allow_weak_kdf = 1;
	assert_int_equal(eas_mstore_sqlite_open(&f->store, &opt), 0);
	assert_int_equal(f->store->user_add(&f->alice, f->store, "alice", "pw-alice"), 0);
	assert_int_equal(f->store->user_add(&f->bob, f->store, "bob", "pw-bob"), 0);
	f->srv = make_server(f, NULL, NULL);
	*state = f;
	return 0;
}

int fx_teardown(void **state)
{
	fx *f = *state;
	eas_server_free(f->srv);
	f->store->destroy(f->store);
	free(f);
	return 0;
}

/* ---- requests ---------------------------------------------------------------- */

void do_call(fx *f, const call *c, reply *out)
{
	memset(out, 0, sizeof *out);
	const char *user = c->user ? c->user : "alice";
	char password[64];
	snprintf(password, sizeof password, "%s", c->password ? c->password : (strcmp(user, "alice") == 0 ? "pw-alice" : "pw-bob"));
	eas_http_header headers[8];
	size_t nh = 0;
	char auth[400];
	if (c->bearer) {
		snprintf(auth, sizeof auth, "Bearer %s", c->bearer);
		headers[nh++] = (eas_http_header){ "Authorization", auth };
	} else if (!c->no_auth) {
		char plain[200], b64[300];
		snprintf(plain, sizeof plain, "%s:%s", user, password);
		eas__base64_encode(b64, (const uint8_t *)plain, strlen(plain));
		snprintf(auth, sizeof auth, "Basic %s", b64);
		headers[nh++] = (eas_http_header){ "Authorization", auth };
	}
	const char *version = c->version ? c->version : "14.1";
	if (*version)
		headers[nh++] = (eas_http_header){ "MS-ASProtocolVersion", version };
	if (c->policy_key)
		headers[nh++] = (eas_http_header){ "X-MS-PolicyKey", c->policy_key };
	headers[nh++] = (eas_http_header){ "User-Agent", "test-agent/1.0" };
	if (c->host)
		headers[nh++] = (eas_http_header){ "Host", c->host };
	if (c->content_type)
		headers[nh++] = (eas_http_header){ "Content-Type", c->content_type };
	char query[512] = "";
	if (c->raw_query)
		snprintf(query, sizeof query, "%s", c->raw_query);
	else if (c->cmd)
		snprintf(query, sizeof query, "Cmd=%s&User=%s&DeviceId=%s&DeviceType=SmartPhone", c->cmd,
			 c->query_user ? c->query_user : user, c->device ? c->device : "DEV1");
	eas_buf body;
	eas_buf_init(&body, NULL, 0);
	if (c->xml) {
		eas_buf_free(&body);
		xmldoc_to_wbxml(&body, c->xml);
	} else if (c->raw_body) {
		eas_buf_append(&body, c->raw_body, strlen(c->raw_body));
	} else if (c->body_bytes) {
		eas_buf_append(&body, c->body_bytes, c->body_len);
	}
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = c->method ? c->method : "POST";
	req.path = c->path ? c->path : EAS_SERVER_PATH;
	req.query = query[0] ? query : NULL;
	req.query_len = strlen(query);
	req.headers = headers;
	req.header_count = nh;
	req.body = body.data;
	req.body_len = body.len;
	req.body_too_large = c->too_large;
	req.remote = "127.0.0.1";
	assert_int_equal(eas_server_handle(f->srv, &req, &out->r), 0);
	eas_buf_free(&body);
}

/* Parses a WBXML body into out->tree / out->xml. */
void parse_body(reply *out)
{
	if (out->r.status != 200 || out->r.body_len == 0)
		return;
	char err[200];
	if (eas_tree_parse(&out->tree, out->r.body, out->r.body_len, 0, NULL, err, sizeof err) == 0) {
		out->root = eas_tree_root(out->tree);
		out->xml = xmldoc_from_wbxml(out->r.body, out->r.body_len);
	}
}

void call_wbxml(fx *f, const call *c, reply *out)
{
	do_call(f, c, out);
	parse_body(out);
}

void reply_free(reply *r)
{
	eas_server_response_clear(&r->r);
	eas_tree_free(r->tree);
	free(r->xml);
	memset(r, 0, sizeof *r);
}

/* ---- reading replies, common requests --------------------------------------- */

const char *xml_text(const reply *r, const char *tag, char *out, size_t size)
{
	out[0] = '\0';
	if (!r->xml)
		return out;
	char open[80];
	snprintf(open, sizeof open, "<%s>", tag);
	const char *p = strstr(r->xml, open);
	if (!p)
		return out;
	p += strlen(open);
	const char *e = strchr(p, '<');
	size_t n = e ? (size_t)(e - p) : strlen(p);
	if (n >= size)
		n = size - 1;
	memcpy(out, p, n);
	out[n] = '\0';
	return out;
}

unsigned xml_uint(const reply *r, const char *tag)
{
	char t[64];
	xml_text(r, tag, t, sizeof t);
	if (!t[0])
		fail_msg("no <%s> in %s", tag, r->xml ? r->xml : "(no body)");
	return (unsigned)strtoul(t, NULL, 10);
}

size_t count_of(const char *hay, const char *needle)
{
	size_t n = 0;
	for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

unsigned fx_folder_sync(fx *f, const char *user, const char *device, const char *key, char *new_key, size_t size,
			    size_t *adds)
{
	char xml[256];
	snprintf(xml, sizeof xml, "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>%s</SyncKey></FolderSync>", key);
	reply r;
	call_wbxml(f, &(call){ .cmd = "FolderSync", .user = user, .device = device, .xml = xml }, &r);
	assert_int_equal(r.r.status, 200);
	unsigned status = xml_uint(&r, "Status");
	if (new_key)
		xml_text(&r, "SyncKey", new_key, size);
	if (adds)
		*adds = count_of(r.xml, "<Add>");
	reply_free(&r);
	return status;
}

/* The ServerId of a default folder of a user. */
void default_folder(fx *f, int64_t user, uint32_t type, char *out)
{
	eas_mstore_folder folder;
	assert_int_equal(f->store->folder_find_default(&folder, f->store, user, type), 0);
	strcpy(out, folder.server_id);
}
