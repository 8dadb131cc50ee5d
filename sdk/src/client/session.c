/*
 * The client session: account state, request building, response handling and
 * the event queue.  Connect = OPTIONS (version and commands) then Provision
 * in two phases; any later command answered with HTTP 449 or a provisioning
 * status goes through Provision again and is then resent.  No I/O here: the
 * app (or eas_session_run) carries requests and responses.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "commands/provision.h"
#include "common/mem.h"
#include "eas/status.h"
#include "eas_config.h"
#include "http/status.h"
#include "session_internal.h"
#include "wbxml/tree.h"

#define DEFAULT_MAX_RESPONSE (16u << 20)
#define DEFAULT_TIMEOUT_MS 120000u

/* ---- events -------------------------------------------------------------- */

/*
 * Blanks a secret wherever it appears in a message (a hostile or confused
 * server may echo the password into the text we quote from its answer).
 */
static void redact_one(char *msg, size_t size, const char *secret)
{
	static const char mask[] = "[redacted]";
	size_t n = secret ? strlen(secret) : 0;
	if (n == 0 || !strstr(msg, secret))
		return;
	char out[sizeof ((eas__event_slot *)0)->message];
	size_t o = 0;
	for (const char *p = msg; *p && o + 1 < sizeof out;) {
		if (strncmp(p, secret, n) == 0) {
			for (size_t i = 0; mask[i] && o + 1 < sizeof out; i++)
				out[o++] = mask[i];
			p += n;
		} else {
			out[o++] = *p++;
		}
	}
	out[o] = '\0';
	snprintf(msg, size, "%s", out);
}

static void redact(const eas_session *s, char *msg, size_t size)
{
	redact_one(msg, size, s->password);
	redact_one(msg, size, s->token);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static eas__event_slot *push_event(eas_session *s, eas_event_type type, const char *fmt, ...)
{
	if (s->event_count == EAS__EVENT_QUEUE) {
		/* Full: the oldest event goes (the app is not reading); keep the newest. */
		eas__event_slot *old = &s->events[s->event_head];
		eas__free(&s->mem, old->url);
		old->url = NULL;
		s->event_head = (s->event_head + 1) % EAS__EVENT_QUEUE;
		s->event_count--;
	}
	eas__event_slot *slot = &s->events[(s->event_head + s->event_count) % EAS__EVENT_QUEUE];
	s->event_count++;
	memset(&slot->ev, 0, sizeof slot->ev);
	slot->ev.type = type;
	slot->message[0] = '\0';
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(slot->message, sizeof slot->message, fmt, ap);
		va_end(ap);
		redact(s, slot->message, sizeof slot->message);
	}
	slot->ev.message = slot->message;
	return slot;
}

static void log_line(eas_session *s, eas_log_level level, const char *msg)
{
	if (s->platform->log)
		s->platform->log(level, msg, s->platform->user_data);
}

/*
 * The request handed out: its line at DEBUG, each header at TRACE.  The
 * Authorization value is never written (it is the credential itself, or its
 * base64), and every line is redacted like an event message.
 */
static void log_request(eas_session *s)
{
	if (!s->platform->log)
		return;
	const eas_http_request *r = &s->request;
	char line[512];
	snprintf(line, sizeof line, "%s %s (%llu body bytes)", r->method, r->url, (unsigned long long)r->body_length);
	redact(s, line, sizeof line);
	log_line(s, EAS_LOG_DEBUG, line);
	for (size_t i = 0; i < r->header_count; i++) {
		const char *name = r->headers[i].name;
		snprintf(line, sizeof line, "  %s: %s", name,
			 eas__http_ascii_ieq(name, "Authorization") ? "[redacted]" : r->headers[i].value);
		redact(s, line, sizeof line);
		log_line(s, EAS_LOG_TRACE, line);
	}
}

/* Ends the operation with an error event. */
#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void fail_op(eas_session *s, int error, int http_status, int status, const char *fmt, ...)
{
	eas__event_slot *slot = push_event(s, EAS_EVENT_ERROR, NULL);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(slot->message, sizeof slot->message, fmt, ap);
	va_end(ap);
	redact(s, slot->message, sizeof slot->message);
	slot->ev.error = error;
	slot->ev.http_status = http_status;
	slot->ev.status = status;
	log_line(s, EAS_LOG_WARN, slot->message);
	s->step = EAS__STEP_IDLE;
	s->request_ready = 0;
	if (s->op) { /* the sync layer's operation ends with it */
		const eas__op *op = s->op;
		s->op = NULL;
		if (op->on_failure)
			op->on_failure(s, error, op->ctx);
	}
}

/* ---- creation ------------------------------------------------------------ */

static int copy_str(eas_session *s, char **out, const char *in)
{
	*out = NULL;
	if (!in)
		return 0;
	*out = eas__strdup(&s->mem, in);
	return *out ? 0 : EAS_E_NOMEM;
}

static int valid_device_id(const char *id)
{
	size_t n = id ? strlen(id) : 0;
	if (n == 0 || n > 32)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')))
			return 0;
	}
	return 1;
}

static int check_account(const eas_account *a)
{
	if (!a || a->version != EAS_ACCOUNT_VERSION || !a->url || !a->user || !a->user[0] || !a->device_type ||
	    !a->device_type[0] || !valid_device_id(a->device_id))
		return EAS_E_INVALID;
	if ((a->password != NULL) == (a->token_fn != NULL))
		return EAS_E_INVALID; /* exactly one way to authenticate */
	if (strncmp(a->url, "https://", 8) != 0 && !(a->allow_plain_http && strncmp(a->url, "http://", 7) == 0))
		return EAS_E_INVALID;
	if (strpbrk(a->url, "?#\r\n ") || (a->policy_key && strlen(a->policy_key) >= EAS__POLICY_KEY_SIZE))
		return EAS_E_INVALID;
	if (a->versions & ~EAS_PROTO_ALL)
		return EAS_E_INVALID;
	if (a->protocol_version && !eas_protocol_version_name(a->protocol_version))
		return EAS_E_INVALID;
	return 0;
}

int eas_session_new(eas_session **out, const eas_account *a, const eas_session_options *options)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	int rc = check_account(a);
	if (rc)
		return rc;
	if (options && options->version != EAS_SESSION_OPTIONS_VERSION)
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, options ? options->mem : NULL);
	eas_session *s = eas__calloc(&m, 1, sizeof *s);
	if (!s)
		return EAS_E_NOMEM;
	s->mem = m;
	if (options)
		s->opt = *options;
	else
		s->opt = (eas_session_options)EAS_SESSION_OPTIONS_INIT;
	if (!s->opt.max_response)
		s->opt.max_response = DEFAULT_MAX_RESPONSE;
	if (!s->opt.request_timeout_ms)
		s->opt.request_timeout_ms = DEFAULT_TIMEOUT_MS;
	s->platform = s->opt.platform ? s->opt.platform : eas_platform_posix();
	eas_buf_init(&s->body, &m, 0);
	eas_buf_init(&s->response, &m, s->opt.max_response);
	eas_buf_init(&s->app_body, &m, 0);
	eas_policy_init(&s->policy);
	eas__backoff_init(&s->backoff, EAS__BACKOFF_DEFAULT_BASE_MS, EAS__BACKOFF_DEFAULT_CAP_MS,
			  EAS__BACKOFF_DEFAULT_MIN_MS, EAS__BACKOFF_DEFAULT_MAX_RETRY_AFTER_MS,
			  s->opt.max_retries ? s->opt.max_retries : EAS__BACKOFF_DEFAULT_MAX_ATTEMPTS);
	eas__redirects_init(&s->redirects, s->opt.max_redirects);

	const char *dev[7] = { a->device.model, a->device.imei, a->device.friendly_name, a->device.os,
			       a->device.os_language, a->device.phone_number, a->device.mobile_operator };
	rc = copy_str(s, &s->url, a->url);
	if (!rc) rc = copy_str(s, &s->user, a->user);
	if (!rc) rc = copy_str(s, &s->password, a->password);
	if (!rc) rc = copy_str(s, &s->device_id, a->device_id);
	if (!rc) rc = copy_str(s, &s->device_type, a->device_type);
	if (!rc) rc = copy_str(s, &s->user_agent, a->user_agent ? a->user_agent : "libeas/" EAS_VERSION_STRING);
	for (int i = 0; !rc && i < 7; i++)
		rc = copy_str(s, &s->device_strings[i], dev[i]);
	if (rc) {
		eas_session_free(s);
		return rc;
	}
	s->token_fn = a->token_fn;
	s->token_user_data = a->token_user_data;
	s->versions = a->versions ? a->versions : EAS_PROTO_ALL;
	s->version = a->protocol_version;
	s->allow_plain_http = a->allow_plain_http;
	snprintf(s->policy_key, sizeof s->policy_key, "%s", a->policy_key ? a->policy_key : "0");
	*out = s;
	return 0;
}

static void free_secret(eas_session *s, char **p)
{
	if (*p) {
		eas__http_wipe(*p, strlen(*p));
		eas__free(&s->mem, *p);
		*p = NULL;
	}
}

static void clear_request(eas_session *s)
{
	eas__free(&s->mem, s->request_url);
	s->request_url = NULL;
	eas__http_headers_free(&s->headers);
	eas__http_wipe(s->body.data, s->body.len);
	eas_buf_reset(&s->body);
	s->request_ready = 0;
	s->in_flight = 0;
}

void eas_session_free(eas_session *s)
{
	if (!s)
		return;
	if (s->sync_free)
		s->sync_free(s);
	clear_request(s);
	eas_buf_free(&s->body);
	eas_buf_free(&s->response);
	eas__http_wipe(s->app_body.data, s->app_body.len);
	eas_buf_free(&s->app_body);
	eas_policy_clear(&s->policy);
	free_secret(s, &s->password);
	eas__http_wipe(s->token, sizeof s->token);
	char **strs[] = { &s->url, &s->user, &s->device_id, &s->device_type, &s->user_agent, &s->location };
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		eas__free(&s->mem, *strs[i]);
	for (int i = 0; i < 7; i++)
		eas__free(&s->mem, s->device_strings[i]);
	for (int i = 0; i < EAS__EVENT_QUEUE; i++)
		eas__free(&s->mem, s->events[i].url);
	eas__free(&s->mem, s->popped.url);
	eas__free(&s->mem, s);
}

/* ---- building requests ---------------------------------------------------- */

typedef int (*body_writer)(eas_session *s, eas_wbxml_encoder *enc);

/* Marks the app's own body (eas_session_send): copied as it is. */
static int raw_body_marker(eas_session *s, eas_wbxml_encoder *enc)
{
	(void)s;
	(void)enc;
	return EAS_E_STATE;
}
#define RAW_BODY raw_body_marker

static int fetch_token(eas_session *s, int refresh)
{
	s->token[0] = '\0';
	int rc = s->token_fn(s->token, sizeof s->token, refresh, s->token_user_data);
	if (rc == 0 && (!s->token[0] || memchr(s->token, '\0', sizeof s->token) == NULL))
		rc = EAS_E_AUTH;
	if (rc == 0 && strpbrk(s->token, "\r\n"))
		rc = EAS_E_AUTH;
	return rc;
}

/*
 * Whether this request goes with the base64 query, filling in what only that
 * form carries.  It needs 12.1 or later and a command with a base64 code, and
 * it holds the policy key as a 32-bit number: a key that is not a decimal
 * number below 2^32 sends the request plain instead.  Ping goes without the
 * key, as with the X-MS-PolicyKey header.
 */
static int use_base64(const eas_session *s, eas_command command, const char *key, eas_http_query *q)
{
	if (!s->opt.base64_query || !EAS_COMMAND_HAS_CODE(command) ||
	    !(s->version & EAS_PROTO_FROM(EAS_PROTO_12_1)))
		return 0;
	if (key && command != EAS_CMD_PING) {
		uint64_t v = 0;
		size_t n = strlen(key);
		if (n == 0 || n > 10 || strspn(key, "0123456789") != n)
			return 0;
		for (size_t i = 0; i < n; i++)
			v = v * 10 + (uint64_t)(key[i] - '0');
		if (v > UINT32_MAX)
			return 0;
		q->policy_key = (uint32_t)v;
		q->has_policy_key = 1;
	}
	q->protocol_version = s->version;
	q->locale = 0x0409; /* en-US, as in the specification's example; the body sets no locale */
	return 1;
}

/*
 * Prepares the next request: method OPTIONS (write = NULL) or POST of the
 * command with the body `write` produces.  The request waits in
 * request_ready until next_request hands it out.
 */
static int build_request(eas_session *s, eas_command command, body_writer write)
{
	clear_request(s);
	s->command = command;
	int rc = 0;
	if (write == RAW_BODY) {
		rc = eas_buf_append(&s->body, s->app_body.data, s->app_body.len);
		if (rc)
			return rc;
	} else if (write) {
		eas_wbxml_encoder *enc = NULL;
		rc = eas_wbxml_encoder_new(&enc, eas_buf_sink, &s->body, s->version ? s->version : EAS_PROTO_ALL,
					   &s->mem);
		if (rc == 0)
			rc = write(s, enc);
		if (rc == 0)
			rc = eas_wbxml_encoder_finish(enc);
		eas_wbxml_encoder_free(enc);
		if (rc)
			return rc;
	}

	/* The policy key: none on OPTIONS and phase 1, the temporary one in phase 2. */
	const char *key = write && strcmp(s->policy_key, "0") != 0 ? s->policy_key : NULL;
	if (s->step == EAS__STEP_PROVISION_ACK && s->temp_key[0])
		key = s->temp_key;
	if (s->step == EAS__STEP_PROVISION)
		key = NULL;

	/* Request line: the plain query (every version), or base64 when asked and possible. */
	char *query = NULL;
	int base64 = 0;
	if (write) {
		eas_http_query q = EAS_HTTP_QUERY_INIT;
		q.command = command;
		q.user = s->user;
		q.device_id = (const uint8_t *)s->device_id;
		q.device_id_len = strlen(s->device_id);
		q.device_type = s->device_type;
		if (s->step == EAS__STEP_COMMAND && s->op && s->op->fill_query &&
		    (rc = s->op->fill_query(&q, s->op->ctx)) != 0)
			return rc;
		base64 = use_base64(s, command, key, &q);
		rc = base64 ? eas_http_query_encode_base64(&query, &q, &s->mem)
			    : eas_http_query_encode_plain(&query, &q, &s->mem);
		if (rc)
			return rc;
	}
	size_t n = strlen(s->url) + (query ? strlen(query) + 2 : 1);
	s->request_url = eas__malloc(&s->mem, n);
	if (!s->request_url) {
		eas_http_string_free(query, &s->mem);
		return EAS_E_NOMEM;
	}
	snprintf(s->request_url, n, "%s%s%s", s->url, query ? "?" : "", query ? query : "");
	eas_http_string_free(query, &s->mem);

	if (s->token_fn && !s->token[0] && (rc = fetch_token(s, 0)) != 0)
		return rc;
	eas__http_header_params p;
	memset(&p, 0, sizeof p);
	p.options_request = write == NULL;
	p.command = command;
	p.protocol_version = s->version;
	p.base64_query = base64; /* the query then carries the version and key */
	p.policy_key = key;
	p.user_agent = s->user_agent;
	/* An empty command body (a Ping or Sync repeating the last one) has no Content-Type. */
	p.has_body = write != NULL && (write != RAW_BODY || s->body.len > 0);
	if (s->step == EAS__STEP_COMMAND && s->op)
		p.content_type = s->op->content_type;
	p.auth = s->token_fn ? EAS__HTTP_AUTH_BEARER : EAS__HTTP_AUTH_BASIC;
	p.user = s->user;
	p.password = s->password;
	p.token = s->token;
	rc = eas__http_headers_build(&s->headers, &p, &s->mem);
	if (rc)
		return rc;

	eas_http_request r = EAS_HTTP_REQUEST_INIT;
	r.method = write ? "POST" : "OPTIONS";
	r.url = s->request_url;
	r.headers = s->headers.items;
	r.header_count = s->headers.count;
	r.body = write ? s->body.data : NULL;
	r.body_length = write ? s->body.len : 0;
	if (write && !r.body)
		r.body = (const unsigned char *)""; /* an empty POST still has a body */
	r.timeout_ms = s->step == EAS__STEP_COMMAND && s->op && s->op->timeout_ms ? s->op->timeout_ms
									    : s->opt.request_timeout_ms;
	s->request = r;
	s->request_ready = 1;
	s->not_before = 0;
	return 0;
}

static const char *request_name(const eas_session *s)
{
	return s->step == EAS__STEP_OPTIONS ? "OPTIONS" : eas_command_name(s->command);
}

/* Re-sends the current command as it is (after a redirect, a token refresh or a backoff). */
static int rebuild(eas_session *s, body_writer write)
{
	int rc = build_request(s, s->command, write);
	if (rc)
		fail_op(s, rc, 0, 0, "could not build the %s request: %s", request_name(s), eas_strerror(rc));
	return rc;
}

/* ---- Provision bodies ------------------------------------------------------- */

static int write_provision(eas_session *s, eas_wbxml_encoder *enc)
{
	eas_provision_request req;
	memset(&req, 0, sizeof req);
	req.protocol_version = s->version;
	switch (s->step) {
	case EAS__STEP_PROVISION:
		req.policy_type = eas_provision_policy_type(s->version);
		if (s->version & EAS_PROTO_FROM(EAS_PROTO_14_1)) {
			req.has_device_info = 1;
			eas_settings_device_info *d = &req.device_info;
			d->model = s->device_strings[0] ? s->device_strings[0] : "libeas";
			d->imei = s->device_strings[1];
			d->friendly_name = s->device_strings[2];
			d->os = s->device_strings[3];
			d->os_language = s->device_strings[4];
			d->phone_number = s->device_strings[5];
			d->mobile_operator = s->device_strings[6];
			d->user_agent = s->user_agent;
		}
		break;
	case EAS__STEP_PROVISION_ACK:
		req.policy_type = eas_provision_policy_type(s->version);
		req.policy_key = s->temp_key;
		req.policy_status = (uint32_t)s->policy_ack;
		break;
	case EAS__STEP_WIPE_ACK:
		if (s->wipe_account_only)
			req.account_only_remote_wipe_status = EAS_WIPE_ACK_SUCCESS;
		else
			req.remote_wipe_status = EAS_WIPE_ACK_SUCCESS;
		break;
	default:
		return EAS_E_STATE;
	}
	return eas_provision_request_encode(enc, &req);
}

static void start_step(eas_session *s, eas__step step)
{
	s->step = step;
	eas__backoff_reset(&s->backoff);
	eas__redirects_reset(&s->redirects);
	s->token_refreshed = 0;
	int rc;
	if (step == EAS__STEP_OPTIONS)
		rc = build_request(s, EAS_CMD_SYNC, NULL);
	else if (step == EAS__STEP_COMMAND)
		rc = build_request(s, s->app_command, RAW_BODY);
	else
		rc = build_request(s, EAS_CMD_PROVISION, write_provision);
	if (rc)
		fail_op(s, rc, 0, 0, "could not build the request: %s", eas_strerror(rc));
}

static body_writer current_writer(const eas_session *s)
{
	if (s->step == EAS__STEP_OPTIONS)
		return NULL;
	return s->step == EAS__STEP_COMMAND ? RAW_BODY : write_provision;
}

/* ---- public operations ---------------------------------------------------- */

int eas_session_connect(eas_session *s)
{
	if (!s)
		return EAS_E_INVALID;
	if (s->step != EAS__STEP_IDLE)
		return EAS_E_STATE;
	start_step(s, s->version ? EAS__STEP_PROVISION : EAS__STEP_OPTIONS);
	return 0;
}

int eas_session_accept_policy(eas_session *s, int status)
{
	if (!s)
		return EAS_E_INVALID;
	if (s->step != EAS__STEP_WAIT_POLICY)
		return EAS_E_STATE;
	if (status < EAS_POLICY_ACK_APPLIED || status > EAS_POLICY_ACK_THIRD_PARTY)
		return EAS_E_INVALID;
	s->policy_ack = status;
	start_step(s, EAS__STEP_PROVISION_ACK);
	return 0;
}

int eas_session_ack_wipe(eas_session *s)
{
	if (!s)
		return EAS_E_INVALID;
	if (s->step != EAS__STEP_WAIT_WIPE)
		return EAS_E_STATE;
	start_step(s, EAS__STEP_WIPE_ACK);
	return 0;
}

int eas_session_send(eas_session *s, eas_command command, const uint8_t *body, size_t len)
{
	if (!s || (!body && len) || !eas_command_name(command))
		return EAS_E_INVALID;
	if (s->step != EAS__STEP_IDLE)
		return EAS_E_STATE;
	if (!s->version)
		return EAS_E_STATE; /* connect first */
	if (s->have_caps && s->caps.has_commands) {
		char msg[160];
		if (eas__http_caps_check(&s->caps, s->version, command, msg, sizeof msg) != 0) {
			push_event(s, EAS_EVENT_ERROR, "%s", msg)->ev.error = EAS_E_UNSUPPORTED;
			return EAS_E_UNSUPPORTED;
		}
	}
	eas__http_wipe(s->app_body.data, s->app_body.len);
	eas_buf_reset(&s->app_body);
	if (len && eas_buf_append(&s->app_body, body, len) != 0)
		return EAS_E_NOMEM;
	s->app_command = command;
	s->resume_command = 0;
	s->reprovisioned = 0;
	s->status_retries = 0;
	s->op = NULL;
	start_step(s, EAS__STEP_COMMAND);
	return 0;
}

/* ---- for the sync layer (session_internal.h) --------------------------------- */

int eas__session_op_send(eas_session *s, const eas__op *op, eas_command command, const uint8_t *body, size_t len,
			 uint64_t delay_ms)
{
	if (!s || !op || !op->on_response || (!body && len))
		return EAS_E_INVALID;
	if (s->in_flight || (s->step != EAS__STEP_IDLE && !(s->step == EAS__STEP_COMMAND && s->op == op)))
		return EAS_E_STATE;
	if (!s->version)
		return EAS_E_STATE;
	if (s->have_caps && s->caps.has_commands) {
		char msg[160];
		if (eas__http_caps_check(&s->caps, s->version, command, msg, sizeof msg) != 0)
			return EAS_E_UNSUPPORTED;
	}
	eas__http_wipe(s->app_body.data, s->app_body.len);
	eas_buf_reset(&s->app_body);
	if (len && eas_buf_append(&s->app_body, body, len) != 0)
		return EAS_E_NOMEM;
	s->app_command = command;
	s->resume_command = 0;
	s->reprovisioned = 0;
	s->status_retries = 0;
	s->op = op;
	start_step(s, EAS__STEP_COMMAND);
	if (s->step != EAS__STEP_COMMAND)
		return EAS_E_STATE; /* building failed: fail_op ran */
	if (delay_ms)
		s->not_before = s->now + delay_ms;
	return 0;
}

void eas__session_op_end(eas_session *s)
{
	clear_request(s);
	s->op = NULL;
	s->step = EAS__STEP_IDLE;
}

void eas__session_fail(eas_session *s, int error, int http_status, int status, const char *fmt, ...)
{
	char msg[sizeof ((eas__event_slot *)0)->message];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	clear_request(s);
	fail_op(s, error, http_status, status, "%s", msg);
}

eas_session_event *eas__session_event(eas_session *s, eas_event_type type, const char *folder_id, int coalesce,
				      const char *fmt, ...)
{
	eas__event_slot *slot = NULL;
	if (coalesce && s->event_count) {
		eas__event_slot *last = &s->events[(s->event_head + s->event_count - 1) % EAS__EVENT_QUEUE];
		if (last->ev.type == type) {
			slot = last; /* progress: only the newest counts */
			memset(&slot->ev, 0, sizeof slot->ev);
			slot->ev.type = type;
		}
	}
	if (!slot)
		slot = push_event(s, type, NULL);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(slot->message, sizeof slot->message, fmt, ap);
	va_end(ap);
	redact(s, slot->message, sizeof slot->message);
	slot->ev.message = slot->message;
	slot->folder_id[0] = '\0';
	if (folder_id) {
		snprintf(slot->folder_id, sizeof slot->folder_id, "%s", folder_id);
		slot->ev.folder_id = slot->folder_id;
	}
	return &slot->ev;
}

void eas__session_log(eas_session *s, eas_log_level level, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	redact(s, msg, sizeof msg);
	log_line(s, level, msg);
}

const uint8_t *eas_session_response_data(const eas_session *s, size_t *len)
{
	if (len)
		*len = s ? s->response.len : 0;
	return s ? s->response.data : NULL;
}

void eas_session_cancel(eas_session *s)
{
	if (!s || s->step == EAS__STEP_IDLE)
		return;
	clear_request(s);
	fail_op(s, EAS_E_CANCELLED, 0, 0, "cancelled");
}

int eas_session_next_request(eas_session *s, const eas_http_request **out, uint64_t now_ms)
{
	if (!s || !out)
		return EAS_E_INVALID;
	*out = NULL;
	s->now = now_ms;
	if (!s->request_ready || s->in_flight || now_ms < s->not_before)
		return 0;
	s->request_ready = 0;
	s->in_flight = 1;
	s->op_stream = 0;
	s->op_interrupt = 0;
	s->status = 0;
	s->response_failed = 0;
	s->has_retry_after = 0;
	eas_buf_reset(&s->response);
	eas__free(&s->mem, s->location);
	s->location = NULL;
	*out = &s->request;
	log_request(s);
	return 0;
}

int eas_session_next_event(eas_session *s, eas_session_event *out)
{
	if (!s || !out)
		return EAS_E_INVALID;
	if (s->event_count == 0)
		return 0;
	eas__event_slot *slot = &s->events[s->event_head];
	s->event_head = (s->event_head + 1) % EAS__EVENT_QUEUE;
	s->event_count--;
	/* Move the slot's storage aside so its strings outlive later pushes. */
	eas__free(&s->mem, s->popped.url);
	s->popped = *slot;
	slot->url = NULL;
	*out = s->popped.ev;
	out->message = s->popped.message;
	if (out->url)
		out->url = s->popped.url;
	if (out->policy_key)
		out->policy_key = s->popped.policy_key;
	if (out->folder_id)
		out->folder_id = s->popped.folder_id;
	if (out->server_id)
		out->server_id = s->popped.server_id;
	return 1;
}

uint64_t eas_session_next_timeout(const eas_session *s, uint64_t now_ms)
{
	if (!s || !s->request_ready || s->in_flight)
		return UINT64_MAX;
	return s->not_before > now_ms ? s->not_before - now_ms : 0;
}

unsigned eas_session_protocol_version(const eas_session *s)
{
	return s ? s->version : 0;
}

const char *eas_session_policy_key(const eas_session *s)
{
	return s ? s->policy_key : NULL;
}

int eas_session_busy(const eas_session *s)
{
	return s && s->step != EAS__STEP_IDLE && s->step != EAS__STEP_WAIT_POLICY && s->step != EAS__STEP_WAIT_WIPE;
}

/* ---- responses ------------------------------------------------------------ */

int eas_session_response_head(eas_session *s, int status, const eas_http_header *headers, size_t count)
{
	if (!s || (!headers && count))
		return EAS_E_INVALID;
	if (!s->in_flight)
		return EAS_E_STATE;
	s->status = status;
	s->op_stream = s->step == EAS__STEP_COMMAND && s->op && s->op->on_body_chunk && status == 200;
	if (s->step == EAS__STEP_OPTIONS && status == 200) {
		if (eas__http_caps_parse(&s->caps, headers, count) == 0)
			s->have_caps = 1;
	}
	eas__http_verdict v;
	s->action = EAS__HTTP_OTHER;
	if (eas__http_classify(&v, status, headers, count, s->platform->wall_clock_s(s->platform->user_data)) == 0) {
		s->action = v.action;
		s->has_retry_after = v.has_retry_after;
		s->retry_after_s = v.retry_after_s;
		if (v.location) {
			eas__free(&s->mem, s->location);
			s->location = eas__strdup(&s->mem, v.location);
		}
	}
	return 0;
}

int eas_session_response_body(eas_session *s, const uint8_t *data, size_t len)
{
	if (!s || (!data && len))
		return EAS_E_INVALID;
	if (!s->in_flight)
		return EAS_E_STATE;
	int rc;
	if (s->op_stream)
		rc = s->response_failed || !len ? 0 : s->op->on_body_chunk(s, data, len, s->op->ctx);
	else
		rc = s->response_failed ? 0 : eas_buf_append(&s->response, data, len);
	if (rc) {
		s->response_failed = rc;
		return rc; /* the transport may abort; response_end reports it */
	}
	return 0;
}

/* Schedules a resend after a backoff; fails the operation when retries are spent. */
static void retry_later(eas_session *s, const char *why)
{
	uint32_t rnd = 0;
	s->platform->random_bytes((unsigned char *)&rnd, sizeof rnd, s->platform->user_data);
	uint64_t delay = 0;
	if (eas__backoff_next(&delay, &s->backoff, rnd, s->has_retry_after, s->retry_after_s) != 0) {
		fail_op(s, EAS_E_IO, s->status, 0, "%s; giving up after %u retries", why, s->backoff.attempts);
		return;
	}
	body_writer w = current_writer(s);
	if (rebuild(s, w) == 0)
		s->not_before = s->now + delay;
}

static void handle_options(eas_session *s)
{
	if (!s->have_caps || !s->caps.has_versions) {
		fail_op(s, EAS_E_PROTOCOL, s->status, 0, "OPTIONS answered without MS-ASProtocolVersions");
		return;
	}
	unsigned v = eas_http_pick_version(s->caps.versions, s->versions, 0);
	if (!v) {
		fail_op(s, EAS_E_UNSUPPORTED, s->status, 0, "no protocol version in common with the server");
		return;
	}
	s->version = v;
	eas__event_slot *slot = push_event(s, EAS_EVENT_VERSION_NEGOTIATED, "protocol version %s",
					   eas_protocol_version_name(v));
	slot->ev.version = v;
	/*
	 * Provision even when MS-ASProtocolCommands leaves it out: some servers
	 * (SOGo) omit it yet answer it ("no policy").  A 501 then means there is
	 * nothing to provision.
	 */
	start_step(s, EAS__STEP_PROVISION);
}

static void finish_provisioning(eas_session *s, const char *key)
{
	snprintf(s->policy_key, sizeof s->policy_key, "%s", key ? key : "0");
	s->temp_key[0] = '\0';
	eas__event_slot *slot = push_event(s, EAS_EVENT_PROVISIONED, "provisioned");
	snprintf(slot->policy_key, sizeof slot->policy_key, "%s", s->policy_key);
	slot->ev.policy_key = slot->policy_key;
	s->step = EAS__STEP_IDLE;
	if (s->resume_command) {
		s->resume_command = 0;
		start_step(s, EAS__STEP_COMMAND); /* the command that found us unprovisioned */
		return;
	}
	push_event(s, EAS_EVENT_READY, "ready");
}

static void handle_provision(eas_session *s, const eas_node *root)
{
	eas_provision_response r;
	eas_provision_response_init(&r);
	char err[160];
	int rc = eas_provision_response_decode(&r, root, &s->mem, err, sizeof err);
	if (rc) {
		fail_op(s, rc, s->status, 0, "bad Provision response: %s", err);
		eas_provision_response_clear(&r);
		return;
	}
	eas__step step = s->step;
	if (r.remote_wipe || r.account_only_remote_wipe) {
		if (step == EAS__STEP_WIPE_ACK) {
			/* The server repeats the wipe flag in its answer to our acknowledgment. */
			s->step = EAS__STEP_IDLE;
		} else {
			s->wipe_account_only = !r.remote_wipe;
			s->step = EAS__STEP_WAIT_WIPE;
			eas__event_slot *slot = push_event(s, EAS_EVENT_WIPE, "%s requested by the server",
							   s->wipe_account_only ? "account-only remote wipe" : "remote wipe");
			slot->ev.account_only = s->wipe_account_only;
		}
		eas_provision_response_clear(&r);
		return;
	}
	if (step == EAS__STEP_WIPE_ACK) {
		s->step = EAS__STEP_IDLE;
		snprintf(s->policy_key, sizeof s->policy_key, "0");
		eas_provision_response_clear(&r);
		return;
	}
	if (r.status != EAS_PROVISION_OK) {
		char text[160];
		eas_command_status_describe(text, sizeof text, EAS_CMD_PROVISION, (int)r.status);
		fail_op(s, EAS_E_PROTOCOL, s->status, (int)r.status, "%s", text);
		eas_provision_response_clear(&r);
		return;
	}
	if (!r.has_policy || r.policy_status == EAS_POLICY_STATUS_NO_POLICY) {
		/* No policy for this device (SOGo answers so): provisioned without a key. */
		finish_provisioning(s, r.has_policy && r.policy_key ? r.policy_key : NULL);
		eas_provision_response_clear(&r);
		return;
	}
	if (r.policy_status != EAS_POLICY_STATUS_OK || !r.policy_key) {
		fail_op(s, EAS_E_PROTOCOL, s->status, (int)r.policy_status, "Provision policy status %u: %s",
			(unsigned)r.policy_status, eas_policy_status_text((int)r.policy_status));
		eas_provision_response_clear(&r);
		return;
	}
	if (strlen(r.policy_key) >= EAS__POLICY_KEY_SIZE) {
		fail_op(s, EAS_E_PROTOCOL, s->status, 0, "policy key longer than 64 characters");
		eas_provision_response_clear(&r);
		return;
	}
	if (step == EAS__STEP_PROVISION) {
		snprintf(s->temp_key, sizeof s->temp_key, "%s", r.policy_key);
		eas_policy_clear(&s->policy);
		s->policy = r.policy; /* take ownership */
		eas_policy_init(&r.policy);
		s->step = EAS__STEP_WAIT_POLICY;
		eas__event_slot *slot = push_event(s, EAS_EVENT_POLICY, "security policy received");
		slot->ev.policy = &s->policy;
	} else {
		finish_provisioning(s, r.policy_key);
	}
	eas_provision_response_clear(&r);
}

/* The 200 body of the step in flight. */
/* Provisioning again, then the app command once more (once per command). */
static void reprovision_then_resend(eas_session *s)
{
	if (s->reprovisioned) {
		fail_op(s, EAS_E_PROTOCOL, s->status, 0, "%s still asks for provisioning after provisioning",
			request_name(s));
		return;
	}
	s->reprovisioned = 1;
	s->resume_command = 1;
	snprintf(s->policy_key, sizeof s->policy_key, "0");
	start_step(s, EAS__STEP_PROVISION);
}

void eas__session_reprovision(eas_session *s, int wipe)
{
	if (wipe) {
		s->resume_command = 0;
		start_step(s, EAS__STEP_PROVISION); /* the Provision answer carries the wipe */
		return;
	}
	reprovision_then_resend(s);
}

/* The answer to an app command: common statuses first, then the app. */
static void handle_command(eas_session *s)
{
	uint32_t status = 0;
	if (s->response.len) {
		eas_tree *tree = NULL;
		char err[200];
		int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &s->mem, err,
					sizeof err);
		if (rc) {
			fail_op(s, rc, s->status, 0, "bad %s response (%s)", request_name(s), err);
			return;
		}
		const eas_node *root = eas_tree_root(tree);
		/* The command-level Status: a direct child of the root named Status. */
		for (const eas_node *c = root->first; c; c = c->next) {
			const char *cn = eas_tag_name(EAS_TAG_PAGE(c->tag), EAS_TAG_TOKEN(c->tag));
			if (cn && strcmp(cn, "Status") == 0) {
				rc = eas_node_child_uint(root, c->tag, &status);
				break;
			}
		}
		eas_tree_free(tree);
		if (rc) {
			fail_op(s, EAS_E_MALFORMED, s->status, 0, "bad %s response (its Status is not a number)",
				request_name(s));
			return;
		}
	}
	switch (eas_command_status_classify(s->app_command, (int)status)) {
	case EAS_STATUS_CLASS_PROVISION:
	case EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED: /* 165: Provision again, with DeviceInformation */
		reprovision_then_resend(s);
		return;
	case EAS_STATUS_CLASS_RETRY_LATER: {
		/*
		 * Transient (111, 114, 133...): resend after a backoff, as for HTTP
		 * 503.  The 200 reset the HTTP retry count, so these retries are
		 * counted apart, within the same max_retries.
		 */
		char text[200];
		eas_command_status_describe(text, sizeof text, s->app_command, (int)status);
		s->backoff.attempts = s->status_retries++;
		retry_later(s, text);
		if (s->step == EAS__STEP_IDLE) /* gave up: the error names the Status */
			s->events[(s->event_head + s->event_count - 1) % EAS__EVENT_QUEUE].ev.status = (int)status;
		return;
	}
	case EAS_STATUS_CLASS_WIPE:
		s->resume_command = 0;
		start_step(s, EAS__STEP_PROVISION); /* the Provision answer carries the wipe */
		return;
	default:
		break;
	}
	s->step = EAS__STEP_IDLE;
	if (s->op) { /* a sync-layer command: its op acts on the answer */
		const eas__op *op = s->op;
		op->on_response(s, op->ctx);
		if (s->step == EAS__STEP_IDLE && s->op == op)
			s->op = NULL; /* it neither went on nor ended: done */
		return;
	}
	eas__event_slot *slot = push_event(s, EAS_EVENT_RESPONSE, "%s answered", eas_command_name(s->app_command));
	slot->ev.status = (int)status;
	slot->ev.http_status = s->status;
	if (status >= 2) {
		char text[200];
		eas_command_status_describe(text, sizeof text, s->app_command, (int)status);
		snprintf(slot->message, sizeof slot->message, "%s", text);
		redact(s, slot->message, sizeof slot->message);
	}
}

static void handle_ok(eas_session *s)
{
	if (s->step == EAS__STEP_OPTIONS) {
		handle_options(s);
		return;
	}
	if (s->step == EAS__STEP_COMMAND) {
		handle_command(s);
		return;
	}
	eas_tree *tree = NULL;
	char err[200];
	int rc = eas_tree_parse(&tree, s->response.data, s->response.len, s->opt.max_response, &s->mem, err, sizeof err);
	if (rc) {
		fail_op(s, rc, s->status, 0, "bad %s response (%s)", request_name(s),
			s->response.len ? err : "empty body");
		return;
	}
	handle_provision(s, eas_tree_root(tree));
	eas_tree_free(tree);
}

int eas_session_response_end(eas_session *s, int transport_error)
{
	if (!s)
		return EAS_E_INVALID;
	if (!s->in_flight)
		return EAS_E_STATE;
	s->in_flight = 0;
	if (s->op && s->step == EAS__STEP_COMMAND && (transport_error || s->response_failed) && s->op->on_broken &&
	    s->op->on_broken(s, transport_error ? transport_error : s->response_failed, s->op->ctx)) {
		s->transport_detail[0] = '\0';
		return 0;
	}
	if (transport_error && transport_error != s->response_failed) {
		/* Only a network failure is worth another try; TLS and the rest would fail again. */
		const char *detail = s->transport_detail;
		if (transport_error == EAS_E_IO)
			retry_later(s, detail[0] ? detail : "network failure");
		else
			fail_op(s, transport_error, s->status, 0, "%s request failed: %s%s%s%s", request_name(s),
				eas_strerror(transport_error), detail[0] ? " (" : "", detail, detail[0] ? ")" : "");
		s->transport_detail[0] = '\0';
		return 0;
	}
	s->transport_detail[0] = '\0';
	if (s->response_failed == EAS_E_LIMIT) {
		fail_op(s, EAS_E_LIMIT, s->status, 0, "response larger than %zu bytes", s->opt.max_response);
		return 0;
	}
	if (s->response_failed) {
		fail_op(s, s->response_failed, s->status, 0, "%s response lost: %s", request_name(s),
			eas_strerror(s->response_failed));
		return 0;
	}
	body_writer w = current_writer(s);
	switch ((eas__http_action)s->action) {
	case EAS__HTTP_OK:
		eas__backoff_reset(&s->backoff);
		handle_ok(s);
		break;
	case EAS__HTTP_REAUTH:
		if (s->token_fn && !s->token_refreshed) {
			s->token_refreshed = 1;
			int rc = fetch_token(s, 1);
			if (rc == 0) {
				rebuild(s, w);
				break;
			}
		}
		/* AUTH_FAILED tells the app to ask for credentials; the ERROR ends the operation. */
		push_event(s, EAS_EVENT_AUTH_FAILED, "the server refused the credentials (HTTP 401)")->ev.http_status =
			s->status;
		fail_op(s, EAS_E_AUTH, s->status, 0, "authentication failed (HTTP %d)", s->status);
		break;
	case EAS__HTTP_NOT_IMPLEMENTED:
		if (s->step == EAS__STEP_PROVISION) {
			finish_provisioning(s, NULL); /* no Provision at all: nothing to enforce */
			break;
		}
		fail_op(s, EAS_E_UNSUPPORTED, s->status, 0, "the server does not implement %s (HTTP 501)",
			request_name(s));
		break;
	case EAS__HTTP_PROVISION:
		/* 449 on Provision itself would loop. */
		if (s->step != EAS__STEP_COMMAND)
			fail_op(s, EAS_E_PROTOCOL, s->status, 0, "HTTP 449 in answer to %s", request_name(s));
		else
			reprovision_then_resend(s);
		break;
	case EAS__HTTP_REDIRECT: {
		if (!s->location || eas__redirects_follow(&s->redirects, s->url, s->location) != 0) {
			fail_op(s, EAS_E_PROTOCOL, s->status, 0,
				s->location ? "too many redirects (HTTP 451)" : "HTTP 451 without X-MS-Location");
			break;
		}
		/* Keep the new URL without its query: the session adds its own. */
		char *q = strpbrk(s->location, "?#");
		if (q)
			*q = '\0';
		if (strncmp(s->location, "https://", 8) != 0 &&
		    !(s->allow_plain_http && strncmp(s->location, "http://", 7) == 0)) {
			fail_op(s, EAS_E_PROTOCOL, s->status, 0, "HTTP 451 to a plain http:// URL refused");
			break;
		}
		eas__free(&s->mem, s->url);
		s->url = s->location;
		s->location = NULL;
		eas__event_slot *slot = push_event(s, EAS_EVENT_REDIRECT, "the server moved the mailbox (HTTP 451)");
		slot->url = eas__strdup(&s->mem, s->url);
		slot->ev.url = slot->url;
		rebuild(s, w);
		break;
	}
	case EAS__HTTP_BACKOFF_RETRY: {
		char why[64];
		snprintf(why, sizeof why, "HTTP %d", s->status);
		retry_later(s, why);
		break;
	}
	default: {
		static const struct {
			eas__http_action action;
			int error;
			const char *text;
		} map[] = {
			{ EAS__HTTP_FORBIDDEN, EAS_E_AUTH, "the user or device may not use ActiveSync (HTTP 403)" },
			{ EAS__HTTP_NOT_FOUND, EAS_E_PROTOCOL, "no ActiveSync endpoint at this URL (HTTP 404)" },
			{ EAS__HTTP_BAD_REQUEST, EAS_E_PROTOCOL, "the server rejected the request (HTTP 400)" },
			{ EAS__HTTP_BLOCKED, EAS_E_AUTH, "the user or device is blocked (HTTP 456)" },
			{ EAS__HTTP_PASSWORD_EXPIRED, EAS_E_AUTH, "the password has expired (HTTP 457)" },
			{ EAS__HTTP_MAILBOX_FULL, EAS_E_PROTOCOL, "the mailbox is full (HTTP 507)" },
			{ EAS__HTTP_AUTODISCOVER, EAS_E_PROTOCOL, "the server wants Autodiscover run again" },
		};
		for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
			if (map[i].action == (eas__http_action)s->action) {
				fail_op(s, map[i].error, s->status, 0, "%s", map[i].text);
				return 0;
			}
		fail_op(s, EAS_E_PROTOCOL, s->status, 0, "unexpected HTTP status %d", s->status);
		break;
	}
	}
	return 0;
}

/* ---- driving a transport -------------------------------------------------- */

typedef struct run_ctx {
	eas_session *s;
	int done;
} run_ctx;

static int run_on_head(int status, const eas_http_header *headers, size_t count, void *ud)
{
	return eas_session_response_head(((run_ctx *)ud)->s, status, headers, count);
}

static int run_on_body(const unsigned char *data, size_t len, void *ud)
{
	return eas_session_response_body(((run_ctx *)ud)->s, data, len);
}

static void run_on_complete(int error, const char *detail, void *ud)
{
	run_ctx *c = ud;
	/* Kept for the error message (never credentials, per the transport contract). */
	snprintf(c->s->transport_detail, sizeof c->s->transport_detail, "%s", error && detail ? detail : "");
	eas_session_response_end(c->s, error);
	c->done = 1;
}

int eas_session_run(eas_session *s, eas_transport *t, int (*pump)(void *pump_ctx, uint32_t timeout_ms),
		    void *pump_ctx, uint32_t timeout_ms)
{
	if (!s || !t || !pump)
		return EAS_E_INVALID;
	const eas_platform *p = s->platform;
	uint64_t start = p->monotonic_ms(p->user_data);
	for (;;) {
		uint64_t now = p->monotonic_ms(p->user_data);
		if (now - start >= timeout_ms)
			return EAS_E_IO;
		if (!s->request_ready && !s->in_flight)
			return 0; /* idle, or waiting for the app */
		const eas_http_request *req = NULL;
		eas_session_next_request(s, &req, now);
		if (!req) {
			uint64_t wait = eas_session_next_timeout(s, now);
			uint64_t left = timeout_ms - (now - start);
			pump(pump_ctx, (uint32_t)(wait < left ? wait : left));
			continue;
		}
		run_ctx ctx = { s, 0 };
		eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
		h.on_head = run_on_head;
		h.on_body = run_on_body;
		h.on_complete = run_on_complete;
		h.user_data = &ctx;
		eas_http_request_id id = 0;
		int rc = t->submit(&id, t, req, &h);
		if (rc) {
			eas_session_response_end(s, rc);
			continue;
		}
		while (!ctx.done) {
			if (s->op_interrupt) { /* the sync layer has better to do than wait (a Ping) */
				s->op_interrupt = 0;
				t->cancel(t, id);
				continue;
			}
			now = p->monotonic_ms(p->user_data);
			if (now - start >= timeout_ms) {
				t->cancel(t, id);
				return EAS_E_IO;
			}
			pump(pump_ctx, (uint32_t)(timeout_ms - (now - start)));
		}
	}
}
