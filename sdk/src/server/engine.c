/*
 * The companion server's engine: routing, authentication, the MS-ASHTTP
 * checks every command shares, dispatch to handle_<command>.c, Ping holds
 * and the request log.  See engine.h.
 */
#include "server/engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/ascii.h"
#include "common/base64.h"
#include "common/mem.h"
#include "server/handler.h"

/* Remembered Basic logins (salted SHA-256 of "user:password" -> user id). */
#define AUTH_CACHE_SLOTS 32

typedef struct auth_slot {
	uint8_t key[32];
	int64_t user_id;
	uint64_t expires_ms;
	char name[EAS_MSTORE_NAME_SIZE];
	int used;
} auth_slot;

struct eas_server_hold {
	eas_server_hold *prev, *next;
	int64_t user_id;
	char user_name[EAS_MSTORE_NAME_SIZE];
	char device_id[2 * EAS_MSTORE_DEVICE_ID_MAX + 1];
	unsigned version;
	uint64_t started_ms, deadline_ms;
	int outcome;      /* EAS_SRV_HOLD_* */
	size_t count;
	eas_srv_watch folders[]; /* count entries */
};

struct eas_server {
	eas_server_config config;
	eas_mem mem;
	const eas_platform *platform;
	eas_mstore *store;
	char *public_url;
	char *mail_domain;
	int has_policy;
	eas_policy policy;        /* configured (owned copy) or empty */
	char policy_hash[65];
	uint8_t auth_salt[16];
	auth_slot auth[AUTH_CACHE_SLOTS];
	eas_server_hold *holds;   /* doubly linked, newest first */
	size_t hold_count;
};

/* ---- small helpers -------------------------------------------------------- */

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static const char *header_get(const eas_server_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (req->headers[i].name && req->headers[i].value && eas__ascii_ieq(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

static uint64_t now_ms(const eas_server *srv)
{
	return srv->platform->monotonic_ms(srv->platform->user_data);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void srv_log(const eas_server *srv, eas_log_level level, const char *fmt, ...);

static void srv_log(const eas_server *srv, eas_log_level level, const char *fmt, ...)
{
	if (!srv->platform->log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	srv->platform->log(level, line, srv->platform->user_data);
}

static void hex(char *out, const uint8_t *in, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

/* ---- services for handlers --------------------------------------------------- */

const eas_server_config *eas__srv_config(const eas_server *srv)
{
	return &srv->config;
}

const eas_platform *eas__srv_platform(const eas_server *srv)
{
	return srv->platform;
}

const eas_policy *eas__srv_policy(const eas_server *srv)
{
	return srv->has_policy ? &srv->policy : NULL;
}

const eas_policy *eas__srv_effective_policy(const eas_server *srv)
{
	return &srv->policy;
}

const char *eas__srv_policy_hash(const eas_server *srv)
{
	return srv->policy_hash;
}

uint64_t eas__srv_commands(void)
{
	return EAS_COMMAND_BIT(EAS_CMD_FOLDER_SYNC) | EAS_COMMAND_BIT(EAS_CMD_FOLDER_CREATE) |
	       EAS_COMMAND_BIT(EAS_CMD_FOLDER_DELETE) | EAS_COMMAND_BIT(EAS_CMD_FOLDER_UPDATE) |
	       EAS_COMMAND_BIT(EAS_CMD_SETTINGS) | EAS_COMMAND_BIT(EAS_CMD_PING) |
	       EAS_COMMAND_BIT(EAS_CMD_PROVISION) |
	       EAS_COMMAND_BIT(EAS_CMD_SYNC) |
	       EAS_COMMAND_BIT(EAS_CMD_GET_ITEM_ESTIMATE) | EAS_COMMAND_BIT(EAS_CMD_ITEM_OPERATIONS) |
	       EAS_COMMAND_BIT(EAS_CMD_MOVE_ITEMS) |
	       EAS_COMMAND_BIT(EAS_CMD_SEND_MAIL) | EAS_COMMAND_BIT(EAS_CMD_SMART_REPLY) |
	       EAS_COMMAND_BIT(EAS_CMD_SMART_FORWARD);
}

unsigned eas__srv_versions(const eas_server *srv)
{
	return srv->config.versions;
}

int eas__srv_random_u32(eas_server *srv, uint32_t *out)
{
	for (int tries = 0; tries < 8; tries++) {
		uint8_t b[4];
		int rc = srv->platform->random_bytes(b, sizeof b, srv->platform->user_data);
		if (rc)
			return rc < 0 ? rc : EAS_E_IO;
		uint32_t v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
		if (v) {
			*out = v;
			return 0;
		}
	}
	return EAS_E_IO;
}

int eas__srv_add_header(eas_server_response *resp, const char *name, const char *value)
{
	size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
	if (resp->header_count >= EAS_SERVER_MAX_HEADERS || resp->strings_used + nl + vl > sizeof resp->strings)
		return EAS_E_LIMIT;
	char *n = resp->strings + resp->strings_used;
	memcpy(n, name, nl);
	char *v = n + nl;
	memcpy(v, value, vl);
	resp->strings_used += nl + vl;
	resp->headers[resp->header_count].name = n;
	resp->headers[resp->header_count].value = v;
	resp->header_count++;
	return 0;
}

static void drop_body(eas_server_response *resp)
{
	if (resp->body)
		eas__free(&resp->mem, resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

int eas__srv_reply_text(eas_srv_ctx *c, int status, const char *text)
{
	eas_server_response *r = c->resp;
	drop_body(r);
	r->status = status;
	if (text && *text) {
		size_t n = strlen(text);
		r->body = eas__malloc(&r->mem, n);
		if (!r->body)
			return EAS_E_NOMEM;
		memcpy(r->body, text, n);
		r->body_len = n;
		return eas__srv_add_header(r, "Content-Type", "text/plain; charset=utf-8");
	}
	return 0;
}

int eas__srv_encoder(eas_srv_ctx *c, eas_wbxml_encoder **enc, eas_buf *buf)
{
	eas_buf_init(buf, c->mem, 16u << 20);
	int rc = eas_wbxml_encoder_new(enc, eas_buf_sink, buf, c->version ? c->version : EAS_PROTO_ALL, c->mem);
	if (rc)
		eas_buf_free(buf);
	return rc;
}

int eas__srv_reply_wbxml(eas_srv_ctx *c, eas_wbxml_encoder *enc, eas_buf *buf, int rc)
{
	if (rc == 0)
		rc = eas_wbxml_encoder_finish(enc);
	eas_wbxml_encoder_free(enc);
	if (rc == 0 && buf->result)
		rc = buf->result;
	if (rc) {
		eas_buf_free(buf);
		return rc;
	}
	eas_server_response *r = c->resp;
	drop_body(r);
	r->status = 200;
	r->body = eas_buf_steal(buf, &r->body_len);
	return eas__srv_add_header(r, "Content-Type", EAS_SRV_CONTENT_TYPE_WBXML);
}

int eas__srv_reply_bytes(eas_srv_ctx *c, const uint8_t *data, size_t len)
{
	eas_server_response *r = c->resp;
	drop_body(r);
	r->status = 200;
	if (len) {
		r->body = eas__malloc(&r->mem, len);
		if (!r->body)
			return EAS_E_NOMEM;
		memcpy(r->body, data, len);
		r->body_len = len;
	}
	return eas__srv_add_header(r, "Content-Type", EAS_SRV_CONTENT_TYPE_WBXML);
}

int eas__srv_reply_status(eas_srv_ctx *c, eas_tag root, eas_tag status_tag, uint32_t status)
{
	eas_wbxml_encoder *enc;
	eas_buf buf;
	int rc = eas__srv_encoder(c, &enc, &buf);
	if (rc)
		return rc;
	char text[16];
	snprintf(text, sizeof text, "%lu", (unsigned long)status);
	rc = eas_wbxml_encoder_start(enc, root);
	if (rc == 0)
		rc = eas_wbxml_encoder_element(enc, status_tag, text);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	c->eas_status = status;
	return eas__srv_reply_wbxml(c, enc, &buf, rc);
}

void eas__srv_user_address(const eas_srv_ctx *c, char *out, size_t size)
{
	if (strchr(c->user_name, '@'))
		snprintf(out, size, "%s", c->user_name);
	else
		snprintf(out, size, "%s@%s", c->user_name, c->srv->mail_domain);
}

int eas__srv_pending_wipe(eas_srv_ctx *c)
{
	eas_mstore_device *dev = NULL;
	int rc = c->store->device_get(&dev, c->store, c->user_id, c->device_id);
	if (rc == EAS_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	int kind = 0;
	if (dev->wipe_state == EAS_MSTORE_WIPE_REQUESTED) {
		if (dev->wipe_kind == EAS_MSTORE_WIPE_FULL)
			kind = EAS_MSTORE_WIPE_FULL;
		else if (dev->wipe_kind == EAS_MSTORE_WIPE_ACCOUNT_ONLY && c->version == EAS_PROTO_16_1)
			kind = EAS_MSTORE_WIPE_ACCOUNT_ONLY;
	}
	c->store->release(c->store, dev);
	return kind;
}

int eas__srv_folder_changed(eas_mstore *store, int64_t user_id, const char *device_id, const char *folder_id)
{
	uint64_t pending = 0;
	int rc = store->sync_pending(&pending, store, user_id, device_id, folder_id, NULL);
	if (rc == EAS_E_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	return pending > 0;
}

int eas__srv_hierarchy_changed(eas_mstore *store, int64_t user_id, const char *device_id)
{
	return eas__srv_folder_changed(store, user_id, device_id, NULL);
}

/* ---- holds ------------------------------------------------------------------- */

static void hold_unlink(eas_server *srv, eas_server_hold *h)
{
	if (h->prev)
		h->prev->next = h->next;
	else
		srv->holds = h->next;
	if (h->next)
		h->next->prev = h->prev;
	h->prev = h->next = NULL;
	srv->hold_count--;
}

static void hold_wake(eas_server *srv, eas_server_hold *h, int outcome)
{
	if (h->outcome != EAS_SRV_HOLD_WAITING)
		return;
	h->outcome = outcome;
	if (srv->config.wake)
		srv->config.wake(h, srv->config.user_data);
}

int eas__srv_hold(eas_srv_ctx *c, const eas_srv_watch *folders, size_t n, uint32_t heartbeat_s)
{
	eas_server *srv = c->srv;
	/* A newer Ping of the same device replaces the one that is waiting. */
	for (eas_server_hold *h = srv->holds; h; h = h->next)
		if (h->user_id == c->user_id && strcmp(h->device_id, c->device_id) == 0)
			hold_wake(srv, h, EAS_SRV_HOLD_SUPERSEDED);
	if (srv->hold_count >= srv->config.max_holds)
		return EAS_E_LIMIT;
	eas_server_hold *h = eas__calloc(c->mem, 1, sizeof *h + n * sizeof h->folders[0]);
	if (!h)
		return EAS_E_NOMEM;
	h->user_id = c->user_id;
	snprintf(h->user_name, sizeof h->user_name, "%s", c->user_name);
	snprintf(h->device_id, sizeof h->device_id, "%s", c->device_id);
	h->version = c->version;
	h->started_ms = now_ms(srv);
	h->deadline_ms = h->started_ms + (uint64_t)heartbeat_s * 1000u;
	h->outcome = EAS_SRV_HOLD_WAITING;
	h->count = n;
	if (n)
		memcpy(h->folders, folders, n * sizeof folders[0]);
	h->next = srv->holds;
	if (srv->holds)
		srv->holds->prev = h;
	srv->holds = h;
	srv->hold_count++;
	c->resp->hold = h;
	c->resp->status = 0;
	return 0;
}

static void on_notify(const eas_mstore_event *ev, void *user_data)
{
	eas_server *srv = user_data;
	for (eas_server_hold *h = srv->holds; h; h = h->next) {
		if (h->user_id != ev->user_id)
			continue;
		if (ev->kind == EAS_MSTORE_EVENT_FOLDER && ev->folder_id) {
			int hit = 0;
			for (size_t i = 0; i < h->count; i++) {
				if (strcmp(h->folders[i].id, ev->folder_id) != 0)
					continue;
				/*
				 * Changes this device already has (its own Sync) do not
				 * count; a folder it never synced: any change is news.
				 */
				uint64_t pending = 0;
				int rc = srv->store->sync_pending(&pending, srv->store, h->user_id, h->device_id,
								  ev->folder_id, NULL);
				if (rc == 0)
					rc = pending > 0;
				if (rc != 0) {
					h->folders[i].changed = 1;
					hit = 1;
				}
			}
			if (hit && h->outcome == EAS_SRV_HOLD_WAITING)
				hold_wake(srv, h, EAS_SRV_HOLD_CHANGED);
		} else if (ev->kind == EAS_MSTORE_EVENT_HIERARCHY) {
			if (eas__srv_hierarchy_changed(srv->store, h->user_id, h->device_id) != 0)
				hold_wake(srv, h, EAS_SRV_HOLD_HIERARCHY);
		} else if (ev->kind == EAS_MSTORE_EVENT_DEVICE && ev->device_id &&
			   strcmp(ev->device_id, h->device_id) == 0) {
			eas_mstore_device *dev = NULL;
			if (srv->store->device_get(&dev, srv->store, h->user_id, h->device_id) == 0) {
				int wipe_now = dev->wipe_state == EAS_MSTORE_WIPE_REQUESTED &&
					       (dev->wipe_kind == EAS_MSTORE_WIPE_FULL || h->version == EAS_PROTO_16_1);
				srv->store->release(srv->store, dev);
				if (wipe_now)
					hold_wake(srv, h, EAS_SRV_HOLD_WIPE);
			}
		}
	}
}

void eas_server_store_changed(eas_server *srv, const eas_mstore_event *event)
{
	if (srv && event)
		on_notify(event, srv);
}

int eas_server_hold_ready(const eas_server_hold *hold)
{
	return hold && hold->outcome != EAS_SRV_HOLD_WAITING;
}

size_t eas_server_hold_count(const eas_server *srv)
{
	return srv ? srv->hold_count : 0;
}

uint64_t eas_server_next_timeout(const eas_server *srv)
{
	uint64_t best = UINT64_MAX;
	if (!srv)
		return best;
	uint64_t now = now_ms(srv);
	for (const eas_server_hold *h = srv->holds; h; h = h->next) {
		if (h->outcome != EAS_SRV_HOLD_WAITING)
			continue;
		uint64_t left = h->deadline_ms > now ? h->deadline_ms - now : 0;
		if (left < best)
			best = left;
	}
	return best;
}

void eas_server_tick(eas_server *srv)
{
	if (!srv)
		return;
	uint64_t now = now_ms(srv);
	for (eas_server_hold *h = srv->holds; h; h = h->next)
		if (h->outcome == EAS_SRV_HOLD_WAITING && h->deadline_ms <= now)
			hold_wake(srv, h, EAS_SRV_HOLD_EXPIRED);
}

void eas_server_hold_cancel(eas_server *srv, eas_server_hold *hold)
{
	if (!srv || !hold)
		return;
	hold_unlink(srv, hold);
	srv_log(srv, EAS_LOG_INFO, "eas-server: Ping user=%s device=%s cancelled (connection closed) %llums",
		hold->user_name, hold->device_id, (unsigned long long)(now_ms(srv) - hold->started_ms));
	eas__free(&srv->mem, hold);
}

/* ---- authentication ------------------------------------------------------------ */

typedef struct name_lookup {
	int64_t id;
	char *out;
	size_t size;
	int found;
} name_lookup;

static int find_name(const eas_mstore_user *u, void *user_data)
{
	name_lookup *l = user_data;
	if (u->id != l->id)
		return 0;
	snprintf(l->out, l->size, "%s", u->name);
	l->found = 1;
	return 1; /* stop */
}

static int auth_cache_key(eas_server *srv, uint8_t key[32], const char *user, const char *password)
{
	size_t ul = strlen(user), pl = strlen(password);
	size_t n = sizeof srv->auth_salt + ul + 1 + pl;
	uint8_t *b = eas__malloc(&srv->mem, n);
	if (!b)
		return EAS_E_NOMEM;
	memcpy(b, srv->auth_salt, sizeof srv->auth_salt);
	memcpy(b + sizeof srv->auth_salt, user, ul);
	b[sizeof srv->auth_salt + ul] = ':';
	memcpy(b + sizeof srv->auth_salt + ul + 1, password, pl);
	int rc = eas_mstore_sha256(key, b, n);
	wipe(b, n);
	eas__free(&srv->mem, b);
	return rc;
}

/* Drops the remembered logins of a user. */
static void forget_login(eas_server *srv, int64_t user_id)
{
	for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++)
		if (srv->auth[i].used && srv->auth[i].user_id == user_id)
			wipe(&srv->auth[i], sizeof srv->auth[i]);
}

/* 0 with c->user_id / c->user_name set, EAS_E_AUTH, or another error. */
static int authenticate(eas_srv_ctx *c)
{
	eas_server *srv = c->srv;
	const char *h = header_get(c->req, "Authorization");
	if (!h)
		return EAS_E_AUTH;
	while (*h == ' ')
		h++;
	if (eas__ascii_iprefix(h, "Bearer ")) {
		const char *tok = h + 7;
		while (*tok == ' ')
			tok++;
		int64_t id;
		int rc = c->store->token_verify(&id, c->store, tok);
		if (rc)
			return rc == EAS_E_AUTH || rc == EAS_E_INVALID || rc == EAS_E_NOTFOUND ? EAS_E_AUTH : rc;
		name_lookup l = { id, c->user_name, sizeof c->user_name, 0 };
		rc = c->store->user_list(c->store, find_name, &l);
		if (rc && rc != EAS_E_CALLBACK)
			return rc;
		if (!l.found)
			return EAS_E_AUTH;
		c->user_id = id;
		return 0;
	}
	if (!eas__ascii_iprefix(h, "Basic "))
		return EAS_E_AUTH;
	const char *b64 = h + 6;
	while (*b64 == ' ')
		b64++;
	size_t len = strlen(b64);
	while (len && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
		len--;
	if (len == 0 || len > 4 * (EAS_MSTORE_NAME_MAX + EAS_MSTORE_PASSWORD_MAX))
		return EAS_E_AUTH;
	size_t cap = EAS__BASE64_DECODED_MAX(len) + 1;
	char *plain = eas__malloc(c->mem, cap);
	if (!plain)
		return EAS_E_NOMEM;
	size_t n = 0;
	int rc = eas__base64_decode((uint8_t *)plain, &n, b64, len, EAS__BASE64_PAD_OPTIONAL);
	char *colon = rc == 0 ? memchr(plain, ':', n) : NULL;
	if (!colon || memchr(plain, '\0', n)) {
		wipe(plain, cap);
		eas__free(c->mem, plain);
		return EAS_E_AUTH;
	}
	plain[n] = '\0';
	*colon = '\0';
	const char *user = plain, *password = colon + 1;
	uint8_t key[32];
	int cache = srv->config.auth_cache_s != UINT32_MAX;
	uint64_t now = now_ms(srv);
	rc = cache ? auth_cache_key(srv, key, user, password) : 0;
	if (rc == 0 && cache) {
		for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
			auth_slot *s = &srv->auth[i];
			if (s->used && s->expires_ms > now && eas_mstore_equal_ct(s->key, key, sizeof key)) {
				c->user_id = s->user_id;
				snprintf(c->user_name, sizeof c->user_name, "%s", s->name);
				wipe(plain, cap);
				eas__free(c->mem, plain);
				return 0;
			}
		}
	}
	int64_t id = 0;
	if (rc == 0)
		rc = c->store->user_verify_password(&id, c->store, user, password);
	if (rc == EAS_E_INVALID || rc == EAS_E_NOTFOUND)
		rc = EAS_E_AUTH;
	if (rc == 0) {
		c->user_id = id;
		snprintf(c->user_name, sizeof c->user_name, "%s", user);
		if (cache) {
			auth_slot *victim = &srv->auth[0];
			for (size_t i = 0; i < AUTH_CACHE_SLOTS; i++) {
				auth_slot *s = &srv->auth[i];
				if (!s->used || s->expires_ms <= now) {
					victim = s;
					break;
				}
				if (s->expires_ms < victim->expires_ms)
					victim = s;
			}
			memcpy(victim->key, key, sizeof key);
			victim->user_id = id;
			snprintf(victim->name, sizeof victim->name, "%s", user);
			victim->expires_ms = now + (uint64_t)srv->config.auth_cache_s * 1000u;
			victim->used = 1;
		}
	}
	wipe(key, sizeof key);
	wipe(plain, cap);
	eas__free(c->mem, plain);
	return rc;
}

/* ---- the MS-ASHTTP part of a POST ------------------------------------------------ */

/* 1 when a query that failed to decode names a command this server does not know (-> 501). */
static int names_unknown_command(const char *q, size_t len)
{
	if (len && q[0] == '?') {
		q++;
		len--;
	}
	if (memchr(q, '&', len) || (len >= 4 && eas__ascii_iprefix(q, "Cmd="))) {
		/* plain: find Cmd= */
		size_t i = 0;
		while (i < len) {
			size_t end = i;
			while (end < len && q[end] != '&')
				end++;
			if (end - i >= 4 && eas__ascii_iprefix(q + i, "Cmd=")) {
				char name[40];
				size_t n = end - i - 4;
				if (n == 0 || n >= sizeof name)
					return n > 0;
				memcpy(name, q + i + 4, n);
				name[n] = '\0';
				return eas_command_lookup(name) < 0;
			}
			i = end + 1;
		}
		return 0;
	}
	/* base64: the second byte is the command code */
	char head[8];
	size_t n = len < 4 ? len : 4;
	if (n < 4)
		return 0;
	memcpy(head, q, 4);
	uint8_t bytes[EAS__BASE64_DECODED_MAX(4)];
	size_t got = 0;
	if (eas__base64_decode(bytes, &got, head, 4, EAS__BASE64_PAD_OPTIONAL) != 0 || got < 2)
		return 0;
	static const uint8_t versions[] = { 121, 140, 141, 160, 161 };
	int version_ok = 0;
	for (size_t i = 0; i < sizeof versions; i++)
		version_ok |= bytes[0] == versions[i];
	return version_ok && (bytes[1] > EAS_CMD_FIND || (bytes[1] >= 5 && bytes[1] <= 8));
}

static int parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10u + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

/* DeviceId as text: the plain form's letters and digits as they are, other bytes as hex. */
static void device_id_text(eas_srv_ctx *c)
{
	const uint8_t *id = c->query.device_id;
	size_t n = c->query.device_id_len;
	int printable = n > 0;
	for (size_t i = 0; i < n; i++)
		if (id[i] <= 0x20 || id[i] >= 0x7F)
			printable = 0;
	/* "@@..." is the engine's own pseudo-device namespace (EAS_SRV_MAILBOX_DEVICE) */
	if (n >= 2 && id[0] == '@' && id[1] == '@')
		printable = 0;
	if (printable && n <= EAS_MSTORE_DEVICE_ID_MAX) {
		memcpy(c->device_id, id, n);
		c->device_id[n] = '\0';
	} else {
		if (n > EAS_MSTORE_DEVICE_ID_MAX / 2)
			n = EAS_MSTORE_DEVICE_ID_MAX / 2;
		hex(c->device_id, id, n);
	}
}

static int user_matches(const char *query_user, const char *name)
{
	if (!query_user || !*query_user)
		return 1; /* the base64 form may leave it out */
	if (eas__ascii_ieq(query_user, name))
		return 1;
	const char *bs = strrchr(query_user, '\\');
	return bs && eas__ascii_ieq(bs + 1, name);
}

typedef struct command_root {
	eas_command command;
	eas_tag root, status;
} command_root;

static const command_root command_roots[] = {
	{ EAS_CMD_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_FOLDER_SYNC, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_CREATE, EAS_TAG_FOLDERHIERARCHY_FOLDER_CREATE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_UPDATE, EAS_TAG_FOLDERHIERARCHY_FOLDER_UPDATE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_FOLDER_DELETE, EAS_TAG_FOLDERHIERARCHY_FOLDER_DELETE, EAS_TAG_FOLDERHIERARCHY_STATUS },
	{ EAS_CMD_SETTINGS, EAS_TAG_SETTINGS_SETTINGS, EAS_TAG_SETTINGS_STATUS },
	{ EAS_CMD_PING, EAS_TAG_PING_PING, EAS_TAG_PING_STATUS },
	{ EAS_CMD_PROVISION, EAS_TAG_PROVISION_PROVISION, EAS_TAG_PROVISION_STATUS },
};

/*
 * The device must (re)provision or wipe: a common Status from 14.0 on, HTTP
 * 449 before ([MS-ASPROV] 3.1.5.1, [MS-OXPROTO] 2.5.14.5).
 */
int eas__srv_reply_provision_needed(eas_srv_ctx *c, uint32_t status, const char *why)
{
	snprintf(c->err, sizeof c->err, "%s", why);
	if (c->version < EAS_PROTO_14_0)
		return eas__srv_reply_text(c, 449, NULL);
	for (size_t i = 0; i < sizeof command_roots / sizeof command_roots[0]; i++)
		if (command_roots[i].command == c->command)
			return eas__srv_reply_status(c, command_roots[i].root, command_roots[i].status, status);
	return eas__srv_reply_text(c, 449, NULL);
}

/* 1 when the request may go on, 0 when a response was made, negative on failure. */
static int check_policy(eas_srv_ctx *c)
{
	const eas_policy *policy = eas__srv_policy(c->srv);
	if (!policy || c->command == EAS_CMD_PROVISION)
		return 1;
	eas_mstore_device *dev = NULL;
	int rc = c->store->device_get(&dev, c->store, c->user_id, c->device_id);
	if (rc)
		return rc;
	int acked = dev->policy_state == EAS_MSTORE_POLICY_ACKNOWLEDGED;
	uint32_t key = dev->policy_key;
	c->store->release(c->store, dev);
	if (!acked)
		return eas__srv_reply_provision_needed(c, 142, "device not provisioned");
	/* Ping carries no policy key ([MS-ASPROV] 3.2.5.1). */
	if (c->command != EAS_CMD_PING) {
		if (!c->has_policy_key || c->policy_key == 0)
			return eas__srv_reply_provision_needed(c, 142, "no policy key");
		if (c->policy_key != key)
			return eas__srv_reply_provision_needed(c, 144, "stale policy key");
	}
	uint8_t *hash = NULL;
	size_t hash_len = 0;
	rc = c->store->device_cache_get(&hash, &hash_len, c->store, c->user_id, c->device_id, "policy-hash");
	if (rc && rc != EAS_E_NOTFOUND)
		return rc;
	const char *want = eas__srv_policy_hash(c->srv);
	int same = rc == 0 && hash && hash_len == strlen(want) && memcmp(hash, want, hash_len) == 0;
	c->store->release(c->store, hash);
	if (!same)
		return eas__srv_reply_provision_needed(c, 143, "policy changed");
	return 1;
}

static int dispatch_command(eas_srv_ctx *c)
{
	switch (c->command) {
	case EAS_CMD_FOLDER_SYNC:
		return eas__srv_handle_folder_sync(c);
	case EAS_CMD_FOLDER_CREATE:
		return eas__srv_handle_folder_create(c);
	case EAS_CMD_FOLDER_UPDATE:
		return eas__srv_handle_folder_update(c);
	case EAS_CMD_FOLDER_DELETE:
		return eas__srv_handle_folder_delete(c);
	case EAS_CMD_PROVISION:
		return eas__srv_handle_provision(c);
	case EAS_CMD_SETTINGS:
		return eas__srv_handle_settings(c);
	case EAS_CMD_PING:
		return eas__srv_handle_ping(c);
	case EAS_CMD_SYNC:
		return eas__srv_handle_sync(c);
	case EAS_CMD_GET_ITEM_ESTIMATE:
		return eas__srv_handle_get_item_estimate(c);
	case EAS_CMD_ITEM_OPERATIONS:
		return eas__srv_handle_item_operations(c);
	case EAS_CMD_MOVE_ITEMS:
		return eas__srv_handle_move_items(c);
	case EAS_CMD_SEND_MAIL:
	case EAS_CMD_SMART_REPLY:
	case EAS_CMD_SMART_FORWARD:
		return eas__srv_handle_send_mail(c);
	default:
		return eas__srv_reply_text(c, 501, "command not implemented\n");
	}
}

static int serve_post(eas_srv_ctx *c)
{
	const eas_server_request *req = c->req;
	eas_server *srv = c->srv;
	if (!req->query || req->query_len == 0) {
		snprintf(c->err, sizeof c->err, "no query");
		return eas__srv_reply_text(c, 400, "missing query\n");
	}
	int rc = eas_http_query_decode(&c->query, req->query, req->query_len, c->mem);
	if (rc == EAS_E_NOMEM)
		return rc;
	if (rc) {
		if (names_unknown_command(req->query, req->query_len)) {
			snprintf(c->err, sizeof c->err, "unknown command");
			return eas__srv_reply_text(c, 501, "command not implemented\n");
		}
		snprintf(c->err, sizeof c->err, "malformed query");
		return eas__srv_reply_text(c, 400, "malformed query\n");
	}
	c->command = c->query.command;
	if (!(eas__srv_commands() & EAS_COMMAND_BIT(c->command))) {
		snprintf(c->err, sizeof c->err, "command not implemented");
		return eas__srv_reply_text(c, 501, "command not implemented\n");
	}
	if (c->query.protocol_version) {
		c->version = c->query.protocol_version;
		c->has_policy_key = c->query.has_policy_key;
		c->policy_key = c->query.policy_key;
	} else {
		const char *v = header_get(req, "MS-ASProtocolVersion");
		if (!v || eas_protocol_version_parse(&c->version, v) != 0) {
			snprintf(c->err, sizeof c->err, "missing or bad MS-ASProtocolVersion");
			return eas__srv_reply_text(c, 400, "missing or bad MS-ASProtocolVersion\n");
		}
		const char *pk = header_get(req, "X-MS-PolicyKey");
		if (pk) {
			c->has_policy_key = 1;
			if (parse_u32(pk, &c->policy_key) != 0)
				c->policy_key = UINT32_MAX; /* not one we issue: counts as stale */
		}
	}
	if (!(c->version & eas__srv_versions(srv))) {
		snprintf(c->err, sizeof c->err, "protocol version not offered");
		return eas__srv_reply_text(c, 400, "protocol version not supported\n");
	}
	if (!(eas_command_versions(c->command) & c->version)) {
		snprintf(c->err, sizeof c->err, "command not in this protocol version");
		return eas__srv_reply_text(c, 400, "command not available in this protocol version\n");
	}
	if (!user_matches(c->query.user, c->user_name)) {
		snprintf(c->err, sizeof c->err, "query User is not the authenticated user");
		return eas__srv_reply_text(c, 403, "user mismatch\n");
	}
	device_id_text(c);
	eas_mstore_device_info info;
	memset(&info, 0, sizeof info);
	info.device_type = c->query.device_type;
	const char *ua = header_get(req, "User-Agent");
	if (ua && eas_mstore_valid_text(ua, EAS_MSTORE_NAME_MAX))
		info.user_agent = ua;
	rc = c->store->device_touch(c->store, c->user_id, c->device_id, &info);
	if (rc == EAS_E_NOTFOUND) {
		/* the user was deleted since the login was remembered */
		snprintf(c->err, sizeof c->err, "user no longer exists");
		forget_login(c->srv, c->user_id);
		rc = eas__srv_reply_text(c, 401, "authentication required\n");
		if (rc == 0)
			rc = eas__srv_add_header(c->resp, "WWW-Authenticate", "Basic realm=\"ActiveSync\"");
		return rc;
	}
	if (rc == EAS_E_INVALID) {
		snprintf(c->err, sizeof c->err, "bad DeviceId or DeviceType");
		return eas__srv_reply_text(c, 400, "bad DeviceId or DeviceType\n");
	}
	if (rc)
		return rc;
	/* misbehaviour on demand (inject.c): a fault answers before anything else */
	rc = eas__srv_inject(c);
	if (rc <= 0)
		return rc;

	/* Before 14.0 SendMail, SmartReply and SmartForward carry the MIME message itself, not WBXML. */
	int mime_body = (c->command == EAS_CMD_SEND_MAIL || c->command == EAS_CMD_SMART_REPLY ||
			 c->command == EAS_CMD_SMART_FORWARD) &&
			(c->version & (EAS_PROTO_2_5 | EAS_PROTO_12_0 | EAS_PROTO_12_1));
	if (req->body_len && !mime_body) {
		char terr[120];
		rc = eas_tree_parse(&c->tree, req->body, req->body_len, 0, c->mem, terr, sizeof terr);
		if (rc == EAS_E_NOMEM)
			return rc;
		if (rc) {
			snprintf(c->err, sizeof c->err, "malformed WBXML: %s", terr);
			return eas__srv_reply_text(c, 400, "malformed WBXML\n");
		}
		c->root = eas_tree_root(c->tree);
	} else if (!req->body_len && c->command != EAS_CMD_PING && c->command != EAS_CMD_SYNC) {
		snprintf(c->err, sizeof c->err, "empty body");
		return eas__srv_reply_text(c, 400, "empty body\n");
	}

	if (c->command != EAS_CMD_PROVISION) {
		rc = eas__srv_pending_wipe(c);
		if (rc < 0)
			return rc;
		if (rc > 0)
			return eas__srv_reply_provision_needed(c, 140, "remote wipe requested");
		rc = check_policy(c);
		if (rc <= 0)
			return rc;
	}
	return dispatch_command(c);
}

static int dispatch(eas_srv_ctx *c)
{
	const eas_server_request *req = c->req;
	const char *path = req->path ? req->path : "";
	int eas_path = eas__ascii_ieq(path, EAS_SERVER_PATH);
	int autodiscover = eas__ascii_ieq(path, EAS_SERVER_AUTODISCOVER_PATH);
	if (!eas_path && !autodiscover) {
		snprintf(c->err, sizeof c->err, "unknown path");
		return eas__srv_reply_text(c, 404, "not found\n");
	}
	const char *method = req->method ? req->method : "";
	int is_post = strcmp(method, "POST") == 0, is_options = strcmp(method, "OPTIONS") == 0;
	if (!(is_post || (eas_path && is_options))) {
		snprintf(c->err, sizeof c->err, "method not allowed");
		int rc = eas__srv_reply_text(c, 405, "method not allowed\n");
		if (rc == 0)
			rc = eas__srv_add_header(c->resp, "Allow", eas_path ? "OPTIONS,POST" : "POST");
		return rc;
	}
	int rc = authenticate(c);
	if (rc == EAS_E_AUTH) {
		snprintf(c->err, sizeof c->err, "authentication required or refused");
		rc = eas__srv_reply_text(c, 401, "authentication required\n");
		if (rc == 0)
			rc = eas__srv_add_header(c->resp, "WWW-Authenticate", "Basic realm=\"ActiveSync\"");
		return rc;
	}
	if (rc)
		return rc;
	if (req->body_too_large || req->body_len > c->srv->config.max_body) {
		snprintf(c->err, sizeof c->err, "body over the cap");
		return eas__srv_reply_text(c, 413, "request body too large\n");
	}
	if (autodiscover)
		return eas__srv_handle_autodiscover(c);
	if (is_options)
		return eas__srv_handle_options(c);
	return serve_post(c);
}

static const char *command_label(const eas_srv_ctx *c)
{
	if (c->command != (eas_command)-1) {
		const char *n = eas_command_name(c->command);
		if (n)
			return n;
	}
	const char *path = c->req && c->req->path ? c->req->path : "";
	return eas__ascii_ieq(path, EAS_SERVER_AUTODISCOVER_PATH) ? "Autodiscover" : "-";
}

static void log_request(eas_srv_ctx *c, uint64_t started)
{
	eas_server *srv = c->srv;
	char status[16] = "-";
	if (c->eas_status)
		snprintf(status, sizeof status, "%lu", (unsigned long)c->eas_status);
	char http[16] = "held";
	if (!c->resp->hold)
		snprintf(http, sizeof http, "%d", c->resp->status);
	srv_log(srv, c->resp->status >= 500 ? EAS_LOG_WARN : EAS_LOG_INFO,
		"eas-server: %s %s user=%s device=%s version=%s http=%s status=%s %llums%s%s%s%s%s",
		c->req && c->req->method ? c->req->method : "-", command_label(c),
		c->user_name[0] ? c->user_name : "-", c->device_id[0] ? c->device_id : "-",
		c->version ? eas_protocol_version_name(c->version) : "-", http, status,
		(unsigned long long)(now_ms(srv) - started), c->req && c->req->remote ? " from " : "",
		c->req && c->req->remote ? c->req->remote : "", c->err[0] ? " (" : "", c->err, c->err[0] ? ")" : "");
}

static void ctx_init(eas_srv_ctx *c, eas_server *srv, const eas_server_request *req, eas_server_response *out)
{
	memset(c, 0, sizeof *c);
	c->srv = srv;
	c->store = srv->store;
	c->mem = &srv->mem;
	c->req = req;
	c->resp = out;
	c->command = (eas_command)-1;
	eas_http_query q = EAS_HTTP_QUERY_INIT;
	c->query = q;
}

static void ctx_done(eas_srv_ctx *c)
{
	eas_http_query_clear(&c->query);
	eas_tree_free(c->tree);
	c->tree = NULL;
}

static void response_init(eas_server *srv, eas_server_response *out)
{
	memset(out, 0, sizeof *out);
	out->mem = srv->mem;
}

/* A failed handler: 400 for malformed input, 503 when too many are held, 500 otherwise. */
static void fail_response(eas_srv_ctx *c, int rc)
{
	eas_server_response *r = c->resp;
	eas_server *srv = c->srv;
	drop_body(r);
	r->header_count = 0;
	r->strings_used = 0;
	r->hold = NULL;
	if (rc == EAS_E_MALFORMED) {
		if (!c->err[0])
			snprintf(c->err, sizeof c->err, "malformed %s request", command_label(c));
		eas__srv_reply_text(c, 400, "malformed request\n");
	} else if (rc == EAS_E_LIMIT && c->command == EAS_CMD_PING) {
		snprintf(c->err, sizeof c->err, "too many held requests");
		eas__srv_reply_text(c, 503, "busy\n");
		eas__srv_add_header(r, "Retry-After", "30");
	} else {
		snprintf(c->err, sizeof c->err, "%s%s%s", eas_strerror(rc), rc == EAS_E_IO ? ": " : "",
			 rc == EAS_E_IO ? srv->store->error(srv->store) : "");
		eas__srv_reply_text(c, 500, "internal server error\n");
	}
	if (r->status == 0)
		r->status = 500;
}

int eas_server_handle(eas_server *srv, const eas_server_request *req, eas_server_response *out)
{
	if (!srv || !req || !out)
		return EAS_E_INVALID;
	response_init(srv, out);
	uint64_t started = now_ms(srv);
	eas_srv_ctx c;
	ctx_init(&c, srv, req, out);
	int rc = dispatch(&c);
	if (rc)
		fail_response(&c, rc);
	if (!out->hold && out->status != 401) {
		/* Every answer names the server, as Exchange does. */
		eas__srv_add_header(out, "MS-Server-ActiveSync", EAS_SERVER_VERSION_STRING);
	}
	log_request(&c, started);
	ctx_done(&c);
	return 0;
}

int eas_server_hold_finish(eas_server *srv, eas_server_hold *hold, eas_server_response *out)
{
	if (!srv || !hold || !out)
		return EAS_E_INVALID;
	response_init(srv, out);
	hold_unlink(srv, hold);
	eas_server_request req;
	memset(&req, 0, sizeof req);
	req.method = "POST";
	req.path = EAS_SERVER_PATH;
	eas_srv_ctx c;
	ctx_init(&c, srv, &req, out);
	c.command = EAS_CMD_PING;
	c.version = hold->version;
	c.user_id = hold->user_id;
	snprintf(c.user_name, sizeof c.user_name, "%s", hold->user_name);
	snprintf(c.device_id, sizeof c.device_id, "%s", hold->device_id);
	int outcome = hold->outcome == EAS_SRV_HOLD_WAITING ? EAS_SRV_HOLD_EXPIRED : hold->outcome;
	int rc = eas__srv_ping_finish(&c, hold->folders, hold->count, outcome);
	if (rc)
		fail_response(&c, rc);
	eas__srv_add_header(out, "MS-Server-ActiveSync", EAS_SERVER_VERSION_STRING);
	log_request(&c, hold->started_ms);
	ctx_done(&c);
	eas__free(&srv->mem, hold);
	return 0;
}

void eas_server_response_clear(eas_server_response *resp)
{
	if (!resp)
		return;
	drop_body(resp);
	eas_mem mem = resp->mem;
	memset(resp, 0, sizeof *resp);
	resp->mem = mem;
}

/* ---- life cycle ------------------------------------------------------------------- */

static char *dup_opt(const eas_mem *mem, const char *s, const char *fallback, int *failed)
{
	const char *src = s ? s : fallback;
	if (!src)
		return NULL;
	char *d = eas__strdup(mem, src);
	if (!d)
		*failed = 1;
	return d;
}

int eas_server_new(eas_server **out, const eas_server_config *config)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!config || config->version != EAS_SERVER_CONFIG_VERSION || !config->store ||
	    config->store->version != EAS_MSTORE_VERSION)
		return EAS_E_INVALID;
	eas_mem mem;
	eas__mem_init(&mem, config->mem);
	eas_server *srv = eas__calloc(&mem, 1, sizeof *srv);
	if (!srv)
		return EAS_E_NOMEM;
	srv->mem = mem;
	srv->config = *config;
	srv->config.mem = &srv->mem;
	srv->platform = config->platform ? config->platform : eas_platform_posix();
	srv->config.platform = srv->platform;
	srv->store = config->store;
	if (!srv->config.versions)
		srv->config.versions = EAS_PROTO_ALL;
	srv->config.versions &= EAS_PROTO_ALL;
	if (!srv->config.max_body)
		srv->config.max_body = EAS_SERVER_DEFAULT_MAX_BODY;
	if (!srv->config.heartbeat_min)
		srv->config.heartbeat_min = EAS_SERVER_DEFAULT_HEARTBEAT_MIN;
	if (!srv->config.heartbeat_max)
		srv->config.heartbeat_max = EAS_SERVER_DEFAULT_HEARTBEAT_MAX;
	if (!srv->config.max_ping_folders)
		srv->config.max_ping_folders = EAS_SERVER_DEFAULT_MAX_PING_FOLDERS;
	if (!srv->config.max_holds)
		srv->config.max_holds = EAS_SERVER_DEFAULT_MAX_HOLDS;
	if (!srv->config.auth_cache_s)
		srv->config.auth_cache_s = EAS_SERVER_DEFAULT_AUTH_CACHE_S;
	int failed = 0;
	srv->public_url = dup_opt(&mem, config->public_url, NULL, &failed);
	srv->mail_domain = dup_opt(&mem, config->mail_domain, "localhost", &failed);
	srv->config.public_url = srv->public_url;
	srv->config.mail_domain = srv->mail_domain;
	srv->config.policy = NULL;
	eas_policy_init(&srv->policy);
	int rc = failed ? EAS_E_NOMEM : 0;
	if (rc == 0 && config->policy) {
		rc = eas_policy_copy(&srv->policy, config->policy, &mem);
		srv->has_policy = rc == 0;
	}
	if (rc == 0 && srv->has_policy) {
		size_t need = eas_policy_describe(&srv->policy, NULL, 0);
		char *text = eas__malloc(&mem, need + 1);
		uint8_t digest[32];
		if (!text)
			rc = EAS_E_NOMEM;
		if (rc == 0) {
			eas_policy_describe(&srv->policy, text, need + 1);
			rc = eas_mstore_sha256(digest, text, need);
			eas__free(&mem, text);
		}
		if (rc == 0)
			hex(srv->policy_hash, digest, sizeof digest);
	}
	if (rc == 0) {
		rc = srv->platform->random_bytes(srv->auth_salt, sizeof srv->auth_salt, srv->platform->user_data);
		if (rc > 0)
			rc = EAS_E_IO;
	}
	if (rc) {
		eas_server_free(srv);
		return rc;
	}
	srv->store->set_notify(srv->store, on_notify, srv);
	*out = srv;
	return 0;
}

void eas_server_free(eas_server *srv)
{
	if (!srv)
		return;
	if (srv->store)
		srv->store->set_notify(srv->store, NULL, NULL);
	while (srv->holds) {
		eas_server_hold *h = srv->holds;
		hold_unlink(srv, h);
		eas__free(&srv->mem, h);
	}
	eas_policy_clear(&srv->policy);
	wipe(srv->auth, sizeof srv->auth);
	eas_mem mem = srv->mem;
	eas__free(&mem, srv->public_url);
	eas__free(&mem, srv->mail_domain);
	eas__free(&mem, srv);
}
