/*
 * The libcurl transport: eas_transport over one curl multi handle.
 *
 * Structure:
 *   - a template easy handle carries every transport-wide option (TLS trust,
 *     limits, proxy, logging); each request is curl_easy_duphandle() of it
 *     plus the per-request options, so options are validated once, at new();
 *   - all requests share the multi handle and so its connection cache;
 *   - curl forbids adding or removing easy handles from inside its
 *     callbacks, so submit() and cancel() called from a user callback that
 *     runs inside curl only mark the request; after() finishes the job once
 *     curl has returned, before the driving function returns.
 */
#include "eas/transport_curl.h"

#include <curl/curl.h>

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/mem.h"

#define HEAD_MAX_BYTES (64u * 1024u) /* one response header block */
#define HEAD_MAX_FIELDS 256u
#define LOG_LINE_MAX 512u

typedef struct creq creq;

struct eas_curl_transport {
	eas_transport parent; /* first: the vtable handed to the engine */
	eas_mem mem;
	eas_platform platform;
	CURLM *multi;
	CURL *tmpl;
	int allow_plain_http;
	int verbose;
	uint64_t max_response;
	eas_curl_watch_socket_fn watch_socket;
	eas_curl_set_timer_fn set_timer;
	void *event_user_data;
	creq *head, *tail; /* every request whose completion is not delivered */
	size_t count;
	eas_http_request_id next_id;
	int in_curl;   /* > 0 while curl may call our callbacks */
	int in_cb;     /* > 0 while a user callback runs */
	int destroying;
	int global_init;
	char last_error[256];
};

struct creq {
	creq *next, *prev;
	eas_curl_transport *t;
	eas_http_request_id id;
	CURL *easy;
	struct curl_slist *slist;
	unsigned char *body; /* in-memory body copy */
	eas_http_body_read_fn body_read;
	eas_http_body_rewind_fn body_rewind;
	void *body_ud;
	uint64_t body_length;
	uint64_t body_sent;
	eas_http_response_handler h;
	int added;     /* easy handle is in the multi */
	int cancelled; /* cancel() asked; completes with EAS_E_CANCELLED */
	int error;     /* first error found by our callbacks */
	int head_done;
	int line_status;
	uint64_t received;
	/* response header block: "name\0value\0..." and offsets of each pair */
	char *hbuf;
	size_t hlen, hcap;
	size_t *hoff;
	size_t hcount, hoffcap;
	char errbuf[CURL_ERROR_SIZE];
};

/* ---- small helpers ------------------------------------------------------ */

static void tlog(eas_curl_transport *t, eas_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void tlog(eas_curl_transport *t, eas_log_level level, const char *fmt, ...)
{
	if (!t->platform.log)
		return;
	char line[LOG_LINE_MAX];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	t->platform.log(level, line, t->platform.user_data);
}

static void set_last_error(eas_curl_transport *t, const char *msg)
{
	snprintf(t->last_error, sizeof t->last_error, "%s", msg);
}

static int lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int prefix_ci(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (lower((unsigned char)*s) != *prefix)
			return 0;
	return 1;
}

static int streq_ci(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int is_token(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!is_tchar((unsigned char)*s))
			return 0;
	return 1;
}

static uint64_t now_ms(const eas_curl_transport *t)
{
	if (t->platform.monotonic_ms)
		return t->platform.monotonic_ms(t->platform.user_data);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static int map_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return 0;
	case CURLE_OUT_OF_MEMORY:
		return EAS_E_NOMEM;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_USE_SSL_FAILED:
#if LIBCURL_VERSION_NUM >= 0x074d00
	case CURLE_SSL_CLIENTCERT:
#endif
		return EAS_E_TLS;
	case CURLE_FILESIZE_EXCEEDED:
		return EAS_E_LIMIT;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
		return EAS_E_MALFORMED;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return EAS_E_INVALID;
	default:
		return EAS_E_IO;
	}
}

static int map_curlm(CURLMcode mc)
{
	switch (mc) {
	case CURLM_OK:
		return 0;
	case CURLM_OUT_OF_MEMORY:
		return EAS_E_NOMEM;
	case CURLM_RECURSIVE_API_CALL:
		return EAS_E_STATE;
	default:
		return EAS_E_IO;
	}
}

/* A user callback's return value as the request's error. */
static int cb_code(int rc)
{
	return rc < 0 ? rc : EAS_E_CALLBACK;
}

/* ---- logging with redaction --------------------------------------------- */

/*
 * Copies one line into out, cutting it after the first sensitive field name
 * (and its ':' or '=') and appending "[REDACTED]".  Applied to every line
 * that reaches the log, whatever its source.
 */
static void redact_line(char *out, size_t cap, const char *line, size_t len)
{
	static const char *const secret_names[] = { "authorization", "cookie" };
	size_t cut = len;
	for (size_t i = 0; i < len && cut == len; i++)
		for (size_t k = 0; k < sizeof secret_names / sizeof *secret_names; k++) {
			const char *w = secret_names[k];
			size_t wl = strlen(w);
			if (len - i < wl)
				continue;
			size_t j = 0;
			while (j < wl && lower((unsigned char)line[i + j]) == w[j])
				j++;
			if (j == wl) {
				size_t e = i + wl;
				while (e < len && (line[e] == ' ' || line[e] == '\t'))
					e++;
				if (e < len && (line[e] == ':' || line[e] == '='))
					e++;
				cut = e;
				break;
			}
		}
	size_t n = cut < cap - 1 ? cut : cap - 1;
	memcpy(out, line, n);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] < 0x20 && out[i] != '\t')
			out[i] = '?';
	if (cut < len) {
		size_t used = strlen(out);
		snprintf(out + used, cap - used, "%s[REDACTED]",
			 (used && out[used - 1] != ' ') ? " " : "");
	} else if (len > n) {
		if (cap > 4)
			memcpy(out + cap - 4, "...", 4);
	}
}

static void log_lines(eas_curl_transport *t, eas_log_level level, eas_http_request_id id,
		      const char *dir, const char *data, size_t size)
{
	size_t start = 0;
	while (start < size) {
		size_t end = start;
		while (end < size && data[end] != '\n')
			end++;
		size_t len = end - start;
		if (len && data[start + len - 1] == '\r')
			len--;
		if (len) {
			char buf[LOG_LINE_MAX - 40];
			redact_line(buf, sizeof buf, data + start, len);
			tlog(t, level, "curl #%llu %s%s", (unsigned long long)id, dir, buf);
		}
		start = end + 1;
	}
}

static int debug_cb(CURL *easy, curl_infotype type, char *data, size_t size, void *ud)
{
	eas_curl_transport *t = ud;
	char *priv = NULL;
	curl_easy_getinfo(easy, CURLINFO_PRIVATE, &priv);
	eas_http_request_id id = priv ? ((creq *)(void *)priv)->id : 0;
	switch (type) {
	case CURLINFO_TEXT:
		if (t->verbose >= EAS_CURL_VERBOSE_INFO)
			log_lines(t, EAS_LOG_DEBUG, id, "* ", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		if (t->verbose >= EAS_CURL_VERBOSE_HEADERS)
			log_lines(t, EAS_LOG_TRACE, id, "> ", data, size);
		break;
	case CURLINFO_HEADER_IN:
		if (t->verbose >= EAS_CURL_VERBOSE_HEADERS)
			log_lines(t, EAS_LOG_TRACE, id, "< ", data, size);
		break;
	case CURLINFO_DATA_OUT:
		if (t->verbose >= EAS_CURL_VERBOSE_HEADERS)
			tlog(t, EAS_LOG_TRACE, "curl #%llu > [%zu body bytes]",
			     (unsigned long long)id, size);
		break;
	case CURLINFO_DATA_IN:
		if (t->verbose >= EAS_CURL_VERBOSE_HEADERS)
			tlog(t, EAS_LOG_TRACE, "curl #%llu < [%zu body bytes]",
			     (unsigned long long)id, size);
		break;
	default: /* TLS records: never logged */
		break;
	}
	return 0;
}

/* ---- request bookkeeping ------------------------------------------------ */

static void req_free(eas_curl_transport *t, creq *r)
{
	if (r->easy)
		curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->slist);
	eas__free(&t->mem, r->body);
	eas__free(&t->mem, r->hbuf);
	eas__free(&t->mem, r->hoff);
	eas__free(&t->mem, r);
}

static void req_link(eas_curl_transport *t, creq *r)
{
	r->prev = t->tail;
	r->next = NULL;
	if (t->tail)
		t->tail->next = r;
	else
		t->head = r;
	t->tail = r;
	t->count++;
}

static void req_unlink(eas_curl_transport *t, creq *r)
{
	if (r->prev)
		r->prev->next = r->next;
	else
		t->head = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		t->tail = r->prev;
	r->next = r->prev = NULL;
	t->count--;
}

static creq *req_find(eas_curl_transport *t, eas_http_request_id id)
{
	for (creq *r = t->head; r; r = r->next)
		if (r->id == id)
			return r;
	return NULL;
}

/* Removes r from everything, delivers its completion, frees it. */
static void req_complete(creq *r, int err, const char *detail)
{
	eas_curl_transport *t = r->t;
	req_unlink(t, r);
	if (r->added) {
		curl_multi_remove_handle(t->multi, r->easy);
		r->added = 0;
	}
	if (err) {
		char msg[sizeof t->last_error];
		snprintf(msg, sizeof msg, "request #%llu: %s%s%s", (unsigned long long)r->id,
			 eas_strerror(err), detail ? ": " : "", detail ? detail : "");
		set_last_error(t, msg);
		tlog(t, err == EAS_E_CANCELLED ? EAS_LOG_DEBUG : EAS_LOG_INFO, "curl %s", msg);
	}
	t->in_cb++;
	r->h.on_complete(err, err ? detail : NULL, r->h.user_data);
	t->in_cb--;
	req_free(t, r);
}

/* ---- response header collection ----------------------------------------- */

static void head_reset(creq *r)
{
	r->hlen = 0;
	r->hcount = 0;
	r->line_status = 0;
}

static int head_reserve(eas_curl_transport *t, creq *r, size_t more)
{
	if (r->hlen + more > HEAD_MAX_BYTES)
		return EAS_E_LIMIT;
	if (r->hlen + more <= r->hcap)
		return 0;
	size_t cap = r->hcap ? r->hcap : 512;
	while (cap < r->hlen + more)
		cap *= 2;
	char *nb = eas__realloc(&t->mem, r->hbuf, cap);
	if (!nb)
		return EAS_E_NOMEM;
	r->hbuf = nb;
	r->hcap = cap;
	return 0;
}

static size_t trim_len(const char **s, size_t len)
{
	while (len && (**s == ' ' || **s == '\t')) {
		(*s)++;
		len--;
	}
	while (len && ((*s)[len - 1] == ' ' || (*s)[len - 1] == '\t'))
		len--;
	return len;
}

static int head_add_field(eas_curl_transport *t, creq *r, const char *line, size_t len)
{
	if (line[0] == ' ' || line[0] == '\t') {
		/* obs-fold: continue the last value (the last thing in hbuf). */
		if (!r->hcount)
			return 0;
		len = trim_len(&line, len);
		int rc = head_reserve(t, r, len + 1);
		if (rc)
			return rc;
		r->hbuf[r->hlen - 1] = ' ';
		memcpy(r->hbuf + r->hlen, line, len);
		r->hlen += len;
		r->hbuf[r->hlen++] = '\0';
		return 0;
	}
	const char *colon = memchr(line, ':', len);
	if (!colon || colon == line)
		return 0; /* not a field: ignored (curl already vetted the syntax) */
	if (r->hcount >= HEAD_MAX_FIELDS)
		return EAS_E_LIMIT;
	const char *name = line;
	size_t nlen = (size_t)(colon - line);
	const char *value = colon + 1;
	size_t vlen = trim_len(&value, len - nlen - 1);
	nlen = trim_len(&name, nlen);
	int rc = head_reserve(t, r, nlen + vlen + 2);
	if (rc)
		return rc;
	if (r->hcount == r->hoffcap) {
		size_t ncap = r->hoffcap ? r->hoffcap * 2 : 16;
		size_t *no = eas__realloc(&t->mem, r->hoff, ncap * 2 * sizeof *no);
		if (!no)
			return EAS_E_NOMEM;
		r->hoff = no;
		r->hoffcap = ncap;
	}
	r->hoff[2 * r->hcount] = r->hlen;
	memcpy(r->hbuf + r->hlen, name, nlen);
	r->hlen += nlen;
	r->hbuf[r->hlen++] = '\0';
	r->hoff[2 * r->hcount + 1] = r->hlen;
	memcpy(r->hbuf + r->hlen, value, vlen);
	r->hlen += vlen;
	r->hbuf[r->hlen++] = '\0';
	r->hcount++;
	return 0;
}

/* Delivers on_head; returns 0 or the error to abort with. */
static int head_deliver(creq *r, int status)
{
	eas_curl_transport *t = r->t;
	r->head_done = 1;
	if (!r->h.on_head)
		return 0;
	eas_http_header *fields = NULL;
	if (r->hcount) {
		fields = eas__calloc(&t->mem, r->hcount, sizeof *fields);
		if (!fields)
			return EAS_E_NOMEM;
		for (size_t i = 0; i < r->hcount; i++) {
			fields[i].name = r->hbuf + r->hoff[2 * i];
			fields[i].value = r->hbuf + r->hoff[2 * i + 1];
		}
	}
	t->in_cb++;
	int rc = r->h.on_head(status, fields, r->hcount, r->h.user_data);
	t->in_cb--;
	eas__free(&t->mem, fields);
	return rc ? cb_code(rc) : 0;
}

static int parse_status_line(const char *line, size_t len)
{
	/* "HTTP/1.1 200 Reason" or "HTTP/2 200" */
	size_t i = 5;
	while (i < len && line[i] != ' ')
		i++;
	while (i < len && line[i] == ' ')
		i++;
	if (i + 3 > len)
		return 0;
	int st = 0;
	for (size_t k = 0; k < 3; k++) {
		char c = line[i + k];
		if (c < '0' || c > '9')
			return 0;
		st = st * 10 + (c - '0');
	}
	if (i + 3 < len && line[i + 3] != ' ')
		return 0;
	return st;
}

static size_t header_cb(char *buf, size_t size, size_t n, void *ud)
{
	creq *r = ud;
	size_t total = size * n;
	if (r->cancelled || r->error)
		return 0;
	if (r->head_done)
		return total; /* trailers: not reported */
	size_t len = total;
	while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	int rc = 0;
	if (len >= 5 && memcmp(buf, "HTTP/", 5) == 0 && !r->line_status) {
		head_reset(r);
		r->line_status = parse_status_line(buf, len);
		if (!r->line_status)
			rc = EAS_E_MALFORMED;
	} else if (len == 0) {
		int status = r->line_status;
		if (!status) {
			long code = 0;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
			status = (int)code;
		}
		if (status >= 100 && status < 200) {
			head_reset(r); /* interim response: not reported */
			return total;
		}
		rc = head_deliver(r, status);
	} else {
		rc = head_add_field(r->t, r, buf, len);
	}
	if (rc) {
		r->error = rc;
		return 0;
	}
	return r->cancelled ? 0 : total;
}

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
	creq *r = ud;
	eas_curl_transport *t = r->t;
	size_t len = size * n;
	if (r->cancelled || r->error)
		return 0;
	if (!r->head_done) {
		long code = 0;
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
		int rc = head_deliver(r, (int)code);
		if (rc) {
			r->error = rc;
			return 0;
		}
		if (r->cancelled)
			return 0;
	}
	r->received += len;
	if (t->max_response && r->received > t->max_response) {
		r->error = EAS_E_LIMIT;
		return 0;
	}
	if (r->h.on_body && len) {
		t->in_cb++;
		int rc = r->h.on_body((const unsigned char *)data, len, r->h.user_data);
		t->in_cb--;
		if (rc) {
			r->error = cb_code(rc);
			return 0;
		}
	}
	return r->cancelled ? 0 : len;
}

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
	creq *r = ud;
	eas_curl_transport *t = r->t;
	if (r->cancelled || r->error)
		return CURL_READFUNC_ABORT;
	uint64_t left = r->body_length - r->body_sent;
	if (left == 0)
		return 0;
	size_t want = size * n;
	if ((uint64_t)want > left)
		want = (size_t)left;
	size_t got = 0;
	t->in_cb++;
	int rc = r->body_read(&got, (unsigned char *)buf, want, r->body_ud);
	t->in_cb--;
	if (rc) {
		r->error = cb_code(rc);
		return CURL_READFUNC_ABORT;
	}
	if (r->cancelled)
		return CURL_READFUNC_ABORT;
	if (got == 0) {
		r->error = EAS_E_TRUNCATED;
		return CURL_READFUNC_ABORT;
	}
	if (got > want) {
		r->error = EAS_E_CALLBACK;
		return CURL_READFUNC_ABORT;
	}
	r->body_sent += got;
	return got;
}

static int seek_cb(void *ud, curl_off_t offset, int origin)
{
	creq *r = ud;
	if (origin != SEEK_SET || offset != 0 || !r->body_rewind || r->cancelled)
		return CURL_SEEKFUNC_CANTSEEK;
	r->t->in_cb++;
	int rc = r->body_rewind(r->body_ud);
	r->t->in_cb--;
	if (rc)
		return CURL_SEEKFUNC_FAIL;
	r->body_sent = 0;
	return CURL_SEEKFUNC_OK;
}

/* ---- driving -------------------------------------------------------------- */

static void finish_done(creq *r, CURLcode rc)
{
	int err;
	const char *detail = NULL;
	if (r->cancelled) {
		err = EAS_E_CANCELLED;
	} else if (r->error) {
		err = r->error;
		if (err == EAS_E_LIMIT)
			detail = "response larger than the configured limit";
	} else {
		err = map_curl(rc);
		if (err)
			detail = r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
		else if (!r->head_done) {
			long code = 0;
			curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
			err = head_deliver(r, (int)code);
		}
	}
	req_complete(r, err, detail);
}

/*
 * After every call into curl: deliver finished transfers, then carry out
 * what was deferred while curl was running (adds, cancels).  Completions may
 * submit or cancel more; loop until nothing is left to do.
 */
static void after(eas_curl_transport *t)
{
	for (;;) {
		int progress = 0;
		CURLMsg *m;
		int queued;
		while ((m = curl_multi_info_read(t->multi, &queued)) != NULL) {
			if (m->msg != CURLMSG_DONE)
				continue;
			char *priv = NULL;
			CURLcode rc = m->data.result;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, &priv);
			if (!priv)
				continue;
			finish_done((creq *)(void *)priv, rc);
			progress = 1;
		}
		for (creq *r = t->head; r; r = r->next) {
			if (r->cancelled) {
				req_complete(r, EAS_E_CANCELLED, NULL);
				progress = 1;
				break; /* the list changed: rescan */
			}
			if (!r->added) {
				CURLMcode mc = curl_multi_add_handle(t->multi, r->easy);
				if (mc != CURLM_OK) {
					req_complete(r, map_curlm(mc), curl_multi_strerror(mc));
					progress = 1;
					break;
				}
				r->added = 1;
			}
		}
		if (!progress)
			break;
	}
}

static int drive(eas_curl_transport *t, curl_socket_t fd, int ev_bitmask)
{
	if (t->in_curl || t->in_cb || t->destroying)
		return EAS_E_STATE;
	int running = 0;
	t->in_curl++;
	CURLMcode mc = curl_multi_socket_action(t->multi, fd, ev_bitmask, &running);
	t->in_curl--;
	after(t);
	if (mc != CURLM_OK && mc != CURLM_BAD_SOCKET)
		return map_curlm(mc);
	return t->count > INT_MAX ? INT_MAX : (int)t->count;
}

int eas_curl_transport_socket_action(eas_curl_transport *t, int fd, unsigned int events)
{
	if (!t || fd < 0)
		return EAS_E_INVALID;
	int ev = 0;
	if (events & EAS_CURL_POLL_IN)
		ev |= CURL_CSELECT_IN;
	if (events & EAS_CURL_POLL_OUT)
		ev |= CURL_CSELECT_OUT;
	if (events & EAS_CURL_POLL_ERR)
		ev |= CURL_CSELECT_ERR;
	return drive(t, (curl_socket_t)fd, ev);
}

int eas_curl_transport_timeout(eas_curl_transport *t)
{
	if (!t)
		return EAS_E_INVALID;
	return drive(t, CURL_SOCKET_TIMEOUT, 0);
}

int eas_curl_transport_run(eas_curl_transport *t, long timeout_ms)
{
	if (!t)
		return EAS_E_INVALID;
	if (t->in_curl || t->in_cb || t->destroying)
		return EAS_E_STATE;
	uint64_t start = now_ms(t);
	for (;;) {
		int running = 0;
		t->in_curl++;
		CURLMcode mc = curl_multi_perform(t->multi, &running);
		t->in_curl--;
		after(t);
		if (mc != CURLM_OK)
			return map_curlm(mc);
		if (t->count == 0)
			return 0;
		long wait = 1000;
		if (timeout_ms >= 0) {
			uint64_t spent = now_ms(t) - start;
			if (spent >= (uint64_t)timeout_ms)
				break;
			if ((uint64_t)timeout_ms - spent < (uint64_t)wait)
				wait = (long)((uint64_t)timeout_ms - spent);
		}
		mc = curl_multi_poll(t->multi, NULL, 0, (int)wait, NULL);
		if (mc != CURLM_OK)
			return map_curlm(mc);
	}
	return t->count > INT_MAX ? INT_MAX : (int)t->count;
}

size_t eas_curl_transport_pending(const eas_curl_transport *t)
{
	return t ? t->count : 0;
}

const char *eas_curl_transport_last_error(const eas_curl_transport *t)
{
	return t ? t->last_error : "";
}

/* ---- submit / cancel / destroy -------------------------------------------- */

static int refuse(eas_curl_transport *t, int err, const char *msg)
{
	set_last_error(t, msg);
	tlog(t, EAS_LOG_ERROR, "curl transport: %s", msg);
	return err;
}

static int check_url(eas_curl_transport *t, const char *url)
{
	const char *rest;
	if (prefix_ci(url, "https://")) {
		rest = url + 8;
	} else if (prefix_ci(url, "http://")) {
		if (!t->allow_plain_http)
			return refuse(t, EAS_E_INVALID,
				      "refusing plain http:// URL: credentials would be sent "
				      "unencrypted (set allow_plain_http to permit it)");
		rest = url + 7;
	} else {
		return refuse(t, EAS_E_INVALID, "unsupported URL scheme (only https:// is accepted)");
	}
	size_t auth_len = strcspn(rest, "/?#");
	if (auth_len == 0)
		return refuse(t, EAS_E_INVALID, "URL has no host");
	if (memchr(rest, '@', auth_len))
		return refuse(t, EAS_E_INVALID,
			      "URL carries user information; send credentials in a header");
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || *p == 0x7f)
			return refuse(t, EAS_E_INVALID, "URL contains spaces or control characters");
	return 0;
}

static int add_header(eas_curl_transport *t, creq *r, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value);
	char *line = eas__malloc(&t->mem, nl + vl + 3);
	if (!line)
		return EAS_E_NOMEM;
	memcpy(line, name, nl);
	if (vl) {
		memcpy(line + nl, ": ", 2);
		memcpy(line + nl + 2, value, vl + 1);
	} else {
		/* "Name;" is curl's spelling of "send Name with an empty value" */
		memcpy(line + nl, ";", 2);
	}
	struct curl_slist *s = curl_slist_append(r->slist, line);
	eas__free(&t->mem, line);
	if (!s)
		return EAS_E_NOMEM;
	r->slist = s;
	return 0;
}

/* "Name:" removes a header curl would add on its own. */
static int suppress_header(creq *r, const char *line)
{
	struct curl_slist *s = curl_slist_append(r->slist, line);
	if (!s)
		return EAS_E_NOMEM;
	r->slist = s;
	return 0;
}

static int has_header(const eas_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->header_count; i++)
		if (streq_ci(req->headers[i].name, name))
			return 1;
	return 0;
}

#define SETOPT(easy, opt, val)                                          \
	do {                                                            \
		if (curl_easy_setopt((easy), (opt), (val)) != CURLE_OK) \
			goto setopt_failed;                             \
	} while (0)

static int req_setup(eas_curl_transport *t, creq *r, const eas_http_request *req)
{
	int rc;
	int has_body = req->body != NULL || req->body_read != NULL;
	int is_post = strcmp(req->method, "POST") == 0;
	CURL *e = r->easy;

	for (size_t i = 0; i < req->header_count; i++)
		if ((rc = add_header(t, r, req->headers[i].name, req->headers[i].value)) != 0)
			return rc;
	if (!has_header(req, "Expect") && (rc = suppress_header(r, "Expect:")) != 0)
		return rc;
	if (!has_header(req, "Accept") && (rc = suppress_header(r, "Accept:")) != 0)
		return rc;

	SETOPT(e, CURLOPT_PRIVATE, (void *)r);
	SETOPT(e, CURLOPT_ERRORBUFFER, r->errbuf);
	SETOPT(e, CURLOPT_URL, req->url);
	SETOPT(e, CURLOPT_HEADERFUNCTION, header_cb);
	SETOPT(e, CURLOPT_HEADERDATA, (void *)r);
	SETOPT(e, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(e, CURLOPT_WRITEDATA, (void *)r);
	SETOPT(e, CURLOPT_TIMEOUT_MS,
	       (long)(req->timeout_ms > (uint32_t)LONG_MAX ? LONG_MAX : (long)req->timeout_ms));

	if (is_post || has_body) {
		if (!has_header(req, "Content-Type") &&
		    (rc = suppress_header(r, "Content-Type:")) != 0)
			return rc;
		if (req->body_read) {
			SETOPT(e, CURLOPT_POST, 1L);
			SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_length);
			SETOPT(e, CURLOPT_READFUNCTION, read_cb);
			SETOPT(e, CURLOPT_READDATA, (void *)r);
			SETOPT(e, CURLOPT_SEEKFUNCTION, seek_cb);
			SETOPT(e, CURLOPT_SEEKDATA, (void *)r);
		} else {
			SETOPT(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_length);
			SETOPT(e, CURLOPT_POSTFIELDS, r->body ? (char *)r->body : "");
		}
		if (!is_post)
			SETOPT(e, CURLOPT_CUSTOMREQUEST, req->method);
	} else if (strcmp(req->method, "GET") == 0) {
		SETOPT(e, CURLOPT_HTTPGET, 1L);
	} else if (strcmp(req->method, "HEAD") == 0) {
		SETOPT(e, CURLOPT_NOBODY, 1L);
	} else {
		SETOPT(e, CURLOPT_CUSTOMREQUEST, req->method);
	}
	SETOPT(e, CURLOPT_HTTPHEADER, r->slist);
	return 0;
setopt_failed:
	return EAS_E_NOMEM;
}

static int validate_request(eas_curl_transport *t, const eas_http_request *req,
			    const eas_http_response_handler *h)
{
	if (req->version != EAS_HTTP_REQUEST_VERSION)
		return refuse(t, EAS_E_INVALID, "unknown eas_http_request version");
	if (h->version != EAS_HTTP_RESPONSE_HANDLER_VERSION)
		return refuse(t, EAS_E_INVALID, "unknown eas_http_response_handler version");
	if (!h->on_complete)
		return refuse(t, EAS_E_INVALID, "handler has no on_complete");
	if (!req->method || !req->url)
		return refuse(t, EAS_E_INVALID, "request without method or URL");
	for (const char *p = req->method; *p; p++)
		if (*p < 'A' || *p > 'Z')
			return refuse(t, EAS_E_INVALID, "method is not an upper-case token");
	if (!*req->method)
		return refuse(t, EAS_E_INVALID, "empty method");
	if (req->header_count && !req->headers)
		return refuse(t, EAS_E_INVALID, "header_count without headers");
	for (size_t i = 0; i < req->header_count; i++) {
		const eas_http_header *hd = &req->headers[i];
		if (!is_token(hd->name) || !hd->value)
			return refuse(t, EAS_E_INVALID, "header name is not an HTTP token");
		if (strpbrk(hd->value, "\r\n"))
			return refuse(t, EAS_E_INVALID, "header value contains CR or LF");
	}
	if (req->body && req->body_read)
		return refuse(t, EAS_E_INVALID, "both an in-memory and a streaming body");
	if (!req->body && !req->body_read && req->body_length)
		return refuse(t, EAS_E_INVALID, "body_length without a body");
	if (req->body && req->body_length > (uint64_t)SIZE_MAX)
		return refuse(t, EAS_E_INVALID, "in-memory body too large");
	if (req->body_rewind && !req->body_read)
		return refuse(t, EAS_E_INVALID, "body_rewind without body_read");
	if (req->body_length > (uint64_t)INT64_MAX)
		return refuse(t, EAS_E_INVALID, "body too large");
	return check_url(t, req->url);
}

static int curl_submit(eas_http_request_id *out, eas_transport *base,
		       const eas_http_request *req, const eas_http_response_handler *h)
{
	eas_curl_transport *t = (eas_curl_transport *)base;
	if (!out || !t || !req || !h)
		return EAS_E_INVALID;
	if (t->destroying)
		return EAS_E_STATE;
	int rc = validate_request(t, req, h);
	if (rc)
		return rc;

	creq *r = eas__calloc(&t->mem, 1, sizeof *r);
	if (!r)
		return EAS_E_NOMEM;
	r->t = t;
	r->h = *h;
	r->body_read = req->body_read;
	r->body_rewind = req->body_rewind;
	r->body_ud = req->body_user_data;
	r->body_length = req->body_length;
	if (req->body && req->body_length) {
		r->body = eas__malloc(&t->mem, (size_t)req->body_length);
		if (!r->body) {
			req_free(t, r);
			return EAS_E_NOMEM;
		}
		memcpy(r->body, req->body, (size_t)req->body_length);
	}
	r->easy = curl_easy_duphandle(t->tmpl);
	if (!r->easy) {
		req_free(t, r);
		return EAS_E_NOMEM;
	}
	rc = req_setup(t, r, req);
	if (rc) {
		req_free(t, r);
		return rc;
	}
	r->id = t->next_id++;
	if (!t->in_curl) {
		CURLMcode mc = curl_multi_add_handle(t->multi, r->easy);
		if (mc != CURLM_OK) {
			req_free(t, r);
			return mc == CURLM_OUT_OF_MEMORY ? EAS_E_NOMEM : EAS_E_IO;
		}
		r->added = 1;
	} /* else: after() adds it once curl has returned */
	req_link(t, r);
	*out = r->id;
	return 0;
}

static int curl_cancel(eas_transport *base, eas_http_request_id id)
{
	eas_curl_transport *t = (eas_curl_transport *)base;
	if (!t)
		return EAS_E_INVALID;
	creq *r = req_find(t, id);
	if (!r || r->cancelled)
		return EAS_E_NOTFOUND;
	r->cancelled = 1;
	if (!t->in_curl)
		req_complete(r, EAS_E_CANCELLED, NULL);
	/* else: our callbacks now abort it, after() completes it */
	return 0;
}

void eas_curl_transport_free(eas_curl_transport *t)
{
	if (!t)
		return;
	t->destroying = 1;
	while (t->head) {
		t->head->cancelled = 1;
		req_complete(t->head, EAS_E_CANCELLED, NULL);
	}
	if (t->multi)
		curl_multi_cleanup(t->multi);
	if (t->tmpl)
		curl_easy_cleanup(t->tmpl);
	if (t->global_init)
		curl_global_cleanup();
	eas_mem mem = t->mem;
	eas__free(&mem, t);
}

static void curl_destroy(eas_transport *base)
{
	eas_curl_transport_free((eas_curl_transport *)base);
}

eas_transport *eas_curl_transport_base(eas_curl_transport *t)
{
	return t ? &t->parent : NULL;
}

/* ---- creation ------------------------------------------------------------- */

static int sock_cb(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
	(void)easy;
	(void)socketp;
	eas_curl_transport *t = userp;
	unsigned int ev = 0;
	switch (what) {
	case CURL_POLL_IN:
		ev = EAS_CURL_POLL_IN;
		break;
	case CURL_POLL_OUT:
		ev = EAS_CURL_POLL_OUT;
		break;
	case CURL_POLL_INOUT:
		ev = EAS_CURL_POLL_IN | EAS_CURL_POLL_OUT;
		break;
	default: /* CURL_POLL_REMOVE */
		ev = 0;
		break;
	}
	return t->watch_socket((int)s, ev, t->event_user_data) < 0 ? -1 : 0;
}

static int timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	eas_curl_transport *t = userp;
	return t->set_timer(timeout_ms, t->event_user_data) < 0 ? -1 : 0;
}

static int readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static int new_fail(eas_curl_transport *t, int err, const char *msg)
{
	tlog(t, EAS_LOG_ERROR, "curl transport: %s", msg);
	eas_curl_transport_free(t);
	return err;
}

static int tmpl_opt_failed(eas_curl_transport *t, CURLcode rc, const char *what)
{
	char msg[200];
	snprintf(msg, sizeof msg, "libcurl rejected %s: %s", what, curl_easy_strerror(rc));
	return new_fail(t, rc == CURLE_OUT_OF_MEMORY ? EAS_E_NOMEM : EAS_E_UNSUPPORTED, msg);
}

#define TSET(opt, val, what)                                              \
	do {                                                              \
		CURLcode trc_ = curl_easy_setopt(t->tmpl, (opt), (val));  \
		if (trc_ != CURLE_OK)                                     \
			return tmpl_opt_failed(t, trc_, (what));          \
	} while (0)

int eas_curl_transport_new(eas_curl_transport **out, const eas_curl_transport_options *options)
{
	static const eas_curl_transport_options defaults = EAS_CURL_TRANSPORT_OPTIONS_INIT;
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	const eas_curl_transport_options *o = options ? options : &defaults;
	if (o->version != EAS_CURL_TRANSPORT_OPTIONS_VERSION)
		return EAS_E_INVALID;
	if ((o->watch_socket == NULL) != (o->set_timer == NULL))
		return EAS_E_INVALID;
	if (o->connect_timeout_ms < 0 || o->low_speed_limit < 0 || o->low_speed_time_s < 0)
		return EAS_E_INVALID;
	if (o->ca_pem && !o->ca_pem_len)
		return EAS_E_INVALID;

	eas_mem mem;
	eas__mem_init(&mem, o->mem);
	eas_curl_transport *t = eas__calloc(&mem, 1, sizeof *t);
	if (!t)
		return EAS_E_NOMEM;
	t->mem = mem;
	t->platform = o->platform ? *o->platform : *eas_platform_posix();
	t->parent.version = EAS_TRANSPORT_VERSION;
	t->parent.submit = curl_submit;
	t->parent.cancel = curl_cancel;
	t->parent.destroy = curl_destroy;
	t->allow_plain_http = o->allow_plain_http != 0;
	t->verbose = o->verbose;
	t->max_response = o->max_response_size;
	t->watch_socket = o->watch_socket;
	t->set_timer = o->set_timer;
	t->event_user_data = o->event_user_data;
	t->next_id = 1;

	if (o->ca_file && !readable(o->ca_file))
		return new_fail(t, EAS_E_INVALID, "ca_file is not readable");
	if (o->ca_path && !readable(o->ca_path))
		return new_fail(t, EAS_E_INVALID, "ca_path is not readable");
	if (o->client_cert_file && !readable(o->client_cert_file))
		return new_fail(t, EAS_E_INVALID, "client_cert_file is not readable");
	if (o->client_key_file && !readable(o->client_key_file))
		return new_fail(t, EAS_E_INVALID, "client_key_file is not readable");
	if ((o->client_key_file || o->client_key_password) && !o->client_cert_file)
		return new_fail(t, EAS_E_INVALID, "client key without client_cert_file");

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return new_fail(t, EAS_E_IO, "curl_global_init failed");
	t->global_init = 1;
	curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);
	if (!vi || !(vi->features & CURL_VERSION_SSL))
		return new_fail(t, EAS_E_UNSUPPORTED, "libcurl was built without TLS");

	t->multi = curl_multi_init();
	t->tmpl = curl_easy_init();
	if (!t->multi || !t->tmpl)
		return new_fail(t, EAS_E_NOMEM, "libcurl handles could not be created");

	if (t->watch_socket) {
		if (curl_multi_setopt(t->multi, CURLMOPT_SOCKETFUNCTION, sock_cb) != CURLM_OK ||
		    curl_multi_setopt(t->multi, CURLMOPT_SOCKETDATA, (void *)t) != CURLM_OK ||
		    curl_multi_setopt(t->multi, CURLMOPT_TIMERFUNCTION, timer_cb) != CURLM_OK ||
		    curl_multi_setopt(t->multi, CURLMOPT_TIMERDATA, (void *)t) != CURLM_OK)
			return new_fail(t, EAS_E_IO, "libcurl rejected the event callbacks");
	}

	TSET(CURLOPT_NOSIGNAL, 1L, "NOSIGNAL");
	TSET(CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1, "HTTP/1.1");
#if LIBCURL_VERSION_NUM >= 0x075500
	TSET(CURLOPT_PROTOCOLS_STR, t->allow_plain_http ? "http,https" : "https", "protocols");
#else
	TSET(CURLOPT_PROTOCOLS,
	     (long)(t->allow_plain_http ? (CURLPROTO_HTTP | CURLPROTO_HTTPS) : CURLPROTO_HTTPS),
	     "protocols");
#endif
	TSET(CURLOPT_FOLLOWLOCATION, 0L, "FOLLOWLOCATION");
	TSET(CURLOPT_SSL_VERIFYPEER, 1L, "VERIFYPEER");
	TSET(CURLOPT_SSL_VERIFYHOST, 2L, "VERIFYHOST");
	TSET(CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2, "TLS 1.2 minimum");
	TSET(CURLOPT_SUPPRESS_CONNECT_HEADERS, 1L, "SUPPRESS_CONNECT_HEADERS");
	TSET(CURLOPT_TCP_KEEPALIVE, 1L, "TCP_KEEPALIVE");
	TSET(CURLOPT_CONNECTTIMEOUT_MS, o->connect_timeout_ms ? o->connect_timeout_ms : 30000L,
	     "connect timeout");
	if (o->low_speed_limit && o->low_speed_time_s) {
		TSET(CURLOPT_LOW_SPEED_LIMIT, o->low_speed_limit, "low-speed limit");
		TSET(CURLOPT_LOW_SPEED_TIME, o->low_speed_time_s, "low-speed time");
	}
	if (o->max_response_size)
		TSET(CURLOPT_MAXFILESIZE_LARGE,
		     (curl_off_t)(o->max_response_size > (uint64_t)INT64_MAX ? INT64_MAX
									: o->max_response_size),
		     "max response size");
	if (o->ca_file)
		TSET(CURLOPT_CAINFO, o->ca_file, "ca_file");
	if (o->ca_path)
		TSET(CURLOPT_CAPATH, o->ca_path, "ca_path");
	if (o->ca_pem) {
#if LIBCURL_VERSION_NUM >= 0x074d00
		struct curl_blob blob;
		blob.data = (void *)(uintptr_t)o->ca_pem;
		blob.len = o->ca_pem_len;
		blob.flags = CURL_BLOB_COPY;
		TSET(CURLOPT_CAINFO_BLOB, &blob, "ca_pem");
#else
		return new_fail(t, EAS_E_UNSUPPORTED, "ca_pem needs libcurl 7.77 or later");
#endif
	}
	if (o->pinned_public_key)
		TSET(CURLOPT_PINNEDPUBLICKEY, o->pinned_public_key, "pinned_public_key");
	if (o->client_cert_file)
		TSET(CURLOPT_SSLCERT, o->client_cert_file, "client_cert_file");
	if (o->client_key_file)
		TSET(CURLOPT_SSLKEY, o->client_key_file, "client_key_file");
	if (o->client_key_password)
		TSET(CURLOPT_KEYPASSWD, o->client_key_password, "client_key_password");
	if (o->user_agent)
		TSET(CURLOPT_USERAGENT, o->user_agent, "user_agent");
	if (o->proxy)
		TSET(CURLOPT_PROXY, o->proxy, "proxy");
	if (t->verbose > EAS_CURL_VERBOSE_OFF) {
		TSET(CURLOPT_DEBUGFUNCTION, debug_cb, "DEBUGFUNCTION");
		TSET(CURLOPT_DEBUGDATA, (void *)t, "DEBUGDATA");
		TSET(CURLOPT_VERBOSE, 1L, "VERBOSE");
	}
	if (t->allow_plain_http)
		tlog(t, EAS_LOG_WARN, "curl transport: plain http:// allowed; credentials and "
				      "mail may travel unencrypted");
	*out = t;
	return 0;
}
