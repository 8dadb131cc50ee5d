/*
 * Autodiscover (MS-ASCMD 2.2.1.1, MS-OXDISCO 3.1.5) as a sans-I/O state
 * machine.  The public contract, the search order and the reasons behind
 * the choices are in eas/autodiscover.h.
 *
 * Layout: request body writer, streaming response parser (expat through
 * common/xml_mem.h), small string and URL helpers, then the machine.
 */
#include "client/autodiscover.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/base64.h"
#include "common/buf.h"
#include "common/mem.h"
#include "common/xml_mem.h"

#define NS_SEP ' '
#define DEFAULT_MAX_REDIRECTS 10u
#define MAX_MAX_REDIRECTS 100u
#define DEFAULT_MAX_RESPONSE (64u * 1024u)
#define DEFAULT_TIMEOUT_MS 30000u
#define MAX_URL 2048u
#define MAX_SRV_RECORDS 8u
#define MAX_SRV_EXAMINED 64u
#define PATH "/autodiscover/autodiscover.xml"

/* ---- small helpers ----------------------------------------------------------- */

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
	return *a == *b;
}

static int iprefix(const char *s, const char *prefix)
{
	for (; *prefix; s++, prefix++)
		if (lower((unsigned char)*s) != lower((unsigned char)*prefix))
			return 0;
	return 1;
}

static void wipe(void *p, size_t n)
{
	volatile unsigned char *v = p;
	while (n--)
		*v++ = 0;
}

static void free_secret(const eas_mem *m, char *s)
{
	if (s) {
		wipe(s, strlen(s));
		eas__free(m, s);
	}
}

/* Copies len bytes into a new NUL-terminated string. */
static char *dup_n(const eas_mem *m, const char *s, size_t len)
{
	char *d = eas__malloc(m, len + 1);
	if (d) {
		memcpy(d, s, len);
		d[len] = 0;
	}
	return d;
}

/* ---- request body ------------------------------------------------------------ */

static const char body_head[] =
	"<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
	"<Autodiscover xmlns=\"" EAS_AUTODISCOVER_NS_REQUEST "\">\n"
	"  <Request>\n"
	"    <EMailAddress>";
static const char body_tail[] =
	"</EMailAddress>\n"
	"    <AcceptableResponseSchema>" EAS_AUTODISCOVER_NS_MOBILESYNC "</AcceptableResponseSchema>\n"
	"  </Request>\n"
	"</Autodiscover>\n";

int eas__ad_request_body(char **out, size_t *len, const eas_mem *mem, const char *email)
{
	eas_buf b;
	eas_buf_init(&b, mem, 0);
	eas_buf_append(&b, body_head, sizeof body_head - 1);
	for (const char *s = email; *s; s++) {
		switch (*s) {
		case '&': eas_buf_append_str(&b, "&amp;"); break;
		case '<': eas_buf_append_str(&b, "&lt;"); break;
		case '>': eas_buf_append_str(&b, "&gt;"); break;
		case '"': eas_buf_append_str(&b, "&quot;"); break;
		case '\'': eas_buf_append_str(&b, "&apos;"); break;
		default: eas_buf_append(&b, s, 1); break;
		}
	}
	eas_buf_append(&b, body_tail, sizeof body_tail); /* with the NUL */
	if (b.result) {
		eas_buf_free(&b);
		return EAS_E_NOMEM;
	}
	size_t n;
	*out = (char *)eas_buf_steal(&b, &n);
	*len = n - 1;
	return 0;
}

/* ---- response parser --------------------------------------------------------- */

enum el {
	E_OTHER, E_AUTODISCOVER, E_RESPONSE, E_CULTURE, E_USER, E_DISPLAYNAME, E_EMAIL,
	E_ACTION, E_REDIRECT, E_SETTINGS, E_SERVER, E_TYPE, E_URL, E_NAME, E_SERVERDATA,
	E_ERROR, E_STATUS, E_MESSAGE, E_ERRORCODE, E_DEBUGDATA
};

struct eas__ad_parser {
	eas_mem mem;
	eas_xml_mem xm;
	XML_Parser xp;
	size_t max_size, fed;
	int result;
	int finished;
	char message[160];
	unsigned depth;
	unsigned char stack[EAS__AD_MAX_DEPTH];
	eas_buf text;
	char *srv_type, *srv_url, *srv_name, *srv_data; /* the Server being read */
	eas__ad_response r;
};

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void pfail(eas__ad_parser *p, int code, const char *fmt, ...)
{
	if (p->result)
		return;
	if (p->xm.failed) {
		code = EAS_E_NOMEM;
		snprintf(p->message, sizeof p->message, "out of memory while parsing XML");
	} else {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(p->message, sizeof p->message, fmt, ap);
		va_end(ap);
	}
	p->result = code;
	XML_StopParser(p->xp, XML_FALSE);
}

static int is_leaf(int id)
{
	switch (id) {
	case E_CULTURE: case E_DISPLAYNAME: case E_EMAIL: case E_REDIRECT: case E_TYPE:
	case E_URL: case E_NAME: case E_SERVERDATA: case E_STATUS: case E_MESSAGE:
	case E_ERRORCODE:
		return 1;
	default:
		return 0;
	}
}

static int classify(int parent, const char *local)
{
	switch (parent) {
	case E_AUTODISCOVER:
		return strcmp(local, "Response") == 0 ? E_RESPONSE : E_OTHER;
	case E_RESPONSE:
		if (strcmp(local, "Culture") == 0) return E_CULTURE;
		if (strcmp(local, "User") == 0) return E_USER;
		if (strcmp(local, "Action") == 0) return E_ACTION;
		if (strcmp(local, "Error") == 0) return E_ERROR;
		return E_OTHER;
	case E_USER:
		if (strcmp(local, "DisplayName") == 0) return E_DISPLAYNAME;
		if (strcmp(local, "EMailAddress") == 0) return E_EMAIL;
		return E_OTHER;
	case E_ACTION:
		if (strcmp(local, "Redirect") == 0) return E_REDIRECT;
		if (strcmp(local, "Settings") == 0) return E_SETTINGS;
		if (strcmp(local, "Error") == 0) return E_ERROR;
		return E_OTHER;
	case E_SETTINGS:
		return strcmp(local, "Server") == 0 ? E_SERVER : E_OTHER;
	case E_SERVER:
		if (strcmp(local, "Type") == 0) return E_TYPE;
		if (strcmp(local, "Url") == 0) return E_URL;
		if (strcmp(local, "Name") == 0) return E_NAME;
		if (strcmp(local, "ServerData") == 0) return E_SERVERDATA;
		return E_OTHER;
	case E_ERROR:
		if (strcmp(local, "Status") == 0) return E_STATUS;
		if (strcmp(local, "Message") == 0) return E_MESSAGE;
		if (strcmp(local, "ErrorCode") == 0) return E_ERRORCODE;
		if (strcmp(local, "DebugData") == 0) return E_DEBUGDATA;
		return E_OTHER;
	default:
		return E_OTHER;
	}
}

/* Splits expat's "URI<sep>local" (or "local" without a namespace). */
static const char *split_name(const char *name, const char **ns, size_t *ns_len)
{
	const char *sep = strrchr(name, NS_SEP);
	if (!sep) {
		*ns = "";
		*ns_len = 0;
		return name;
	}
	*ns = name;
	*ns_len = (size_t)(sep - name);
	return sep + 1;
}

static int ns_is(const char *ns, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(ns, want, len) == 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	eas__ad_parser *p = ud;
	(void)attrs;
	if (p->result)
		return;
	if (p->depth >= EAS__AD_MAX_DEPTH) {
		pfail(p, EAS_E_LIMIT, "XML nested deeper than %d elements", EAS__AD_MAX_DEPTH);
		return;
	}
	const char *ns;
	size_t ns_len;
	const char *local = split_name(name, &ns, &ns_len);
	int ours = ns_is(ns, ns_len, EAS_AUTODISCOVER_NS_RESPONSE) ||
		   ns_is(ns, ns_len, EAS_AUTODISCOVER_NS_MOBILESYNC);
	int id;
	if (p->depth == 0) {
		if (!ours || strcmp(local, "Autodiscover") != 0) {
			pfail(p, EAS_E_PROTOCOL, "not an Autodiscover response (root element '%.60s')", local);
			return;
		}
		id = E_AUTODISCOVER;
	} else {
		id = ours ? classify(p->stack[p->depth - 1], local) : E_OTHER;
	}
	p->stack[p->depth++] = (unsigned char)id;
	if (is_leaf(id))
		eas_buf_reset(&p->text);
	switch (id) {
	case E_RESPONSE: p->r.autodiscover = 1; break;
	case E_SETTINGS: p->r.has_settings = 1; break;
	case E_ERROR: p->r.has_error = 1; break;
	case E_SERVER:
		eas__free(&p->mem, p->srv_type);
		eas__free(&p->mem, p->srv_url);
		eas__free(&p->mem, p->srv_name);
		eas__free(&p->mem, p->srv_data);
		p->srv_type = p->srv_url = p->srv_name = p->srv_data = NULL;
		break;
	default: break;
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	eas__ad_parser *p = ud;
	if (p->result || p->depth == 0 || !is_leaf(p->stack[p->depth - 1]) || len <= 0)
		return;
	int rc = eas_buf_append(&p->text, s, (size_t)len);
	if (rc == EAS_E_LIMIT)
		pfail(p, EAS_E_LIMIT, "element text longer than %d bytes", EAS__AD_MAX_TEXT);
	else if (rc)
		pfail(p, EAS_E_NOMEM, "out of memory while parsing XML");
}

static int is_ws(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* The collected text, trimmed, as a new string; NULL (and p->result) on failure. */
static char *take_text(eas__ad_parser *p)
{
	const char *s = (const char *)p->text.data;
	size_t n = p->text.len;
	while (n && is_ws((unsigned char)*s))
		s++, n--;
	while (n && is_ws((unsigned char)s[n - 1]))
		n--;
	char *d = dup_n(&p->mem, n ? s : "", n);
	if (!d)
		pfail(p, EAS_E_NOMEM, "out of memory while parsing XML");
	return d;
}

static void set_field(eas__ad_parser *p, char **field, char *v)
{
	eas__free(&p->mem, *field);
	*field = v;
}

static long parse_number(const char *s)
{
	long v = 0;
	if (!*s)
		return 0;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 99999999)
			return 0;
		v = v * 10 + (*s - '0');
	}
	return v;
}

static void end_server(eas__ad_parser *p)
{
	const char *type = p->srv_type ? p->srv_type : "";
	char **url = p->srv_url && *p->srv_url ? &p->srv_url : (p->srv_name && *p->srv_name ? &p->srv_name : NULL);
	if (ieq(type, "MobileSync")) {
		if (!p->r.mobilesync_url && url) {
			p->r.mobilesync_url = *url;
			*url = NULL;
		}
	} else if (ieq(type, "CertEnroll")) {
		if (!p->r.cert_enroll_url && p->srv_url && *p->srv_url) {
			p->r.cert_enroll_url = p->srv_url;
			p->srv_url = NULL;
			set_field(p, &p->r.cert_enroll_data, p->srv_data);
			p->srv_data = NULL;
		}
	}
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	eas__ad_parser *p = ud;
	(void)name;
	if (p->result || p->depth == 0)
		return;
	int id = p->stack[--p->depth];
	if (id == E_SERVER) {
		end_server(p);
		return;
	}
	if (!is_leaf(id))
		return;
	char *v = take_text(p);
	if (!v)
		return;
	switch (id) {
	case E_CULTURE: set_field(p, &p->r.culture, v); break;
	case E_DISPLAYNAME: set_field(p, &p->r.display_name, v); break;
	case E_EMAIL: set_field(p, &p->r.user_email, v); break;
	case E_REDIRECT: set_field(p, &p->r.redirect, v); break;
	case E_TYPE: set_field(p, &p->srv_type, v); break;
	case E_URL: set_field(p, &p->srv_url, v); break;
	case E_NAME: set_field(p, &p->srv_name, v); break;
	case E_SERVERDATA: set_field(p, &p->srv_data, v); break;
	case E_MESSAGE: set_field(p, &p->r.error_message, v); break;
	case E_ERRORCODE:
		p->r.error_code = parse_number(v);
		eas__free(&p->mem, v);
		break;
	case E_STATUS:
		p->r.status = parse_number(v);
		eas__free(&p->mem, v);
		break;
	default:
		eas__free(&p->mem, v);
		break;
	}
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
			       const XML_Char *pubid, int has_internal_subset)
{
	(void)name, (void)sysid, (void)pubid, (void)has_internal_subset;
	pfail(ud, EAS_E_MALFORMED, "document type declaration refused");
}

static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param, const XML_Char *value,
				   int value_len, const XML_Char *base, const XML_Char *sysid,
				   const XML_Char *pubid, const XML_Char *notation)
{
	(void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)sysid, (void)pubid,
		(void)notation;
	pfail(ud, EAS_E_MALFORMED, "entity declaration refused");
}

static int XMLCALL on_external_entity(XML_Parser xp, const XML_Char *context, const XML_Char *base,
				      const XML_Char *sysid, const XML_Char *pubid)
{
	(void)context, (void)base, (void)sysid, (void)pubid;
	pfail(XML_GetUserData(xp), EAS_E_MALFORMED, "external entity refused");
	return XML_STATUS_ERROR;
}

int eas__ad_parser_new(eas__ad_parser **out, const eas_mem *mem, size_t max_size)
{
	eas_mem m;
	eas__mem_init(&m, mem);
	*out = NULL;
	eas__ad_parser *p = eas__calloc(&m, 1, sizeof *p);
	if (!p)
		return EAS_E_NOMEM;
	p->mem = m;
	p->max_size = max_size;
	p->xm.mem = &p->mem;
	eas_buf_init(&p->text, &p->mem, EAS__AD_MAX_TEXT);
	p->xp = eas__xml_parser_new(&p->xm, NS_SEP);
	if (!p->xp) {
		eas__free(&m, p);
		return EAS_E_NOMEM;
	}
	XML_SetUserData(p->xp, p);
	XML_SetElementHandler(p->xp, on_start, on_end);
	XML_SetCharacterDataHandler(p->xp, on_text);
	XML_SetStartDoctypeDeclHandler(p->xp, on_doctype);
	XML_SetEntityDeclHandler(p->xp, on_entity_decl);
	XML_SetExternalEntityRefHandler(p->xp, on_external_entity);
	*out = p;
	return 0;
}

void eas__ad_parser_free(eas__ad_parser *p)
{
	if (!p)
		return;
	eas__xml_parser_free(&p->xm, p->xp);
	eas_buf_free(&p->text);
	const eas_mem *m = &p->mem;
	eas__free(m, p->srv_type);
	eas__free(m, p->srv_url);
	eas__free(m, p->srv_name);
	eas__free(m, p->srv_data);
	eas__free(m, p->r.culture);
	eas__free(m, p->r.display_name);
	eas__free(m, p->r.user_email);
	eas__free(m, p->r.redirect);
	eas__free(m, p->r.mobilesync_url);
	eas__free(m, p->r.cert_enroll_url);
	eas__free(m, p->r.cert_enroll_data);
	eas__free(m, p->r.error_message);
	eas_mem copy = p->mem;
	eas__free(&copy, p);
}

static int run_parser(eas__ad_parser *p, const char *data, size_t len, int final)
{
	enum XML_Status st = eas__xml_parse(&p->xm, p->xp, data, len, final);
	if (p->xm.failed && p->result != EAS_E_NOMEM) {
		p->result = EAS_E_NOMEM;
		snprintf(p->message, sizeof p->message, "out of memory while parsing XML");
	}
	if (p->result || st == XML_STATUS_OK)
		return p->result;
	enum XML_Error e = XML_GetErrorCode(p->xp);
	if (e == XML_ERROR_NO_MEMORY) {
		p->result = EAS_E_NOMEM;
		snprintf(p->message, sizeof p->message, "out of memory while parsing XML");
	} else {
		p->result = e == XML_ERROR_AMPLIFICATION_LIMIT_BREACH ? EAS_E_LIMIT : EAS_E_MALFORMED;
		snprintf(p->message, sizeof p->message, "XML: %s (line %lu)", XML_ErrorString(e),
			 (unsigned long)XML_GetCurrentLineNumber(p->xp));
	}
	return p->result;
}

int eas__ad_parser_feed(eas__ad_parser *p, const void *data, size_t len)
{
	if (p->result)
		return p->result;
	if (p->finished)
		return EAS_E_STATE;
	if (p->max_size && (len > p->max_size || p->fed > p->max_size - len)) {
		p->result = EAS_E_LIMIT;
		snprintf(p->message, sizeof p->message, "response larger than %lu bytes",
			 (unsigned long)p->max_size);
		return p->result;
	}
	p->fed += len;
	return run_parser(p, data, len, 0);
}

int eas__ad_parser_finish(eas__ad_parser *p)
{
	if (p->result)
		return p->result;
	if (p->finished)
		return EAS_E_STATE;
	p->finished = 1;
	int rc = run_parser(p, "", 0, 1);
	if (rc)
		return rc;
	if (!p->r.autodiscover) {
		p->result = EAS_E_PROTOCOL;
		snprintf(p->message, sizeof p->message, "not an Autodiscover response (no Response element)");
	}
	return p->result;
}

eas__ad_response *eas__ad_parser_response(eas__ad_parser *p)
{
	return &p->r;
}

const char *eas__ad_parser_error(const eas__ad_parser *p)
{
	return p->result ? p->message : NULL;
}

/* ---- addresses and URLs ------------------------------------------------------ */

/* A DNS host name: labels of letters, digits and '-', 1-63 each, 253 in all. */
static int valid_host(const char *h, size_t len)
{
	if (len == 0 || len > 253)
		return 0;
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)h[i];
		if (c == '.') {
			if (label == 0 || h[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
		if (c == '-' && label == 0)
			return 0;
		if (++label > 63)
			return 0;
	}
	return label > 0 && h[len - 1] != '-';
}

/* "local@domain": returns the domain (inside addr) or NULL. */
static const char *email_domain(const char *addr)
{
	size_t len = strlen(addr);
	if (len < 3 || len > 320)
		return NULL;
	for (const char *s = addr; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return NULL;
	const char *at = strrchr(addr, '@');
	if (!at || at == addr || !valid_host(at + 1, strlen(at + 1)))
		return NULL;
	return at + 1;
}

/*
 * An absolute URL we may POST credentials to: https:// (http:// when
 * allowed), a non-empty host, no user info, visible ASCII only.
 */
static int usable_url(const char *url, int allow_http)
{
	size_t len = strlen(url);
	if (len > MAX_URL)
		return 0;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)url[i] <= 0x20 || (unsigned char)url[i] >= 0x7f)
			return 0;
	const char *rest;
	if (iprefix(url, "https://"))
		rest = url + 8;
	else if (allow_http && iprefix(url, "http://"))
		rest = url + 7;
	else
		return 0;
	size_t auth = strcspn(rest, "/?#");
	if (auth == 0 || memchr(rest, '@', auth) || rest[0] == ':')
		return 0;
	return 1;
}

/* ---- the machine ------------------------------------------------------------- */

enum pos { P_URL, P_DOMAIN, P_HOST, P_PROBE, P_SRVQ, P_SRVREC, P_END };
enum state { S_READY, S_WAIT_RESPONSE, S_WAIT_SRV, S_WAIT_CONFIRM, S_DONE, S_FAILED };
enum outcome {
	O_NONE, O_STEP_FAILED, O_AUTH, O_REDIRECT_URL, O_REDIRECT_ADDR, O_DONE, O_FINAL
};
enum redirect_kind { R_HTTP, R_PROBE, R_ACTION };

typedef struct srv_target {
	char *url;
	unsigned priority, weight;
} srv_target;

struct eas_autodiscover {
	eas_mem mem;

	/* configuration */
	char *auth_header;        /* "Basic ..." / "Bearer ..." or NULL; secret */
	char *secrets[2];         /* password / token, and the Basic blob: redacted from texts */
	char *fixed_url;
	unsigned steps, max_redirects;
	int allow_http, skip_confirm, continue_401;
	size_t max_size;
	uint32_t timeout_ms;

	/* addresses used, in order; the last is the current one */
	char **emails;
	size_t email_count;
	char *domain;             /* of the current address, lower case */
	char *body;               /* request body for the current address */
	size_t body_len;

	/* where the search is */
	enum pos pos;
	srv_target *srv;
	size_t srv_count, srv_index;
	char *srv_name;
	char *pending_url;        /* a redirect / probe / SRV target to POST to next */
	eas_autodiscover_step pending_step;
	int pending_confirm, pending_confirmed;
	int chain_confirmed;      /* the current chain started at a confirmed target */
	unsigned redirects;
	int address_changed;
	int auth_seen;            /* a 401 was skipped (continue_after_auth_failure) */

	enum state state;

	/* the request in flight */
	eas_http_header headers[2];
	size_t header_count;
	int req_get;
	eas_autodiscover_step req_step;

	/* its response */
	int have_begin;
	int status;
	enum outcome outcome;
	int out_code;
	int out_server_error;     /* Autodiscover ErrorCode / Status behind O_FINAL */
	char *out_text;           /* redirect URL / address, or failure detail */
	int body_error;           /* what body() answers once parsing stopped */
	eas__ad_parser *parser;
	char *challenge;

	/* diagnostics: the public records, and the strings they point to */
	eas_autodiscover_attempt *attempts;
	char **attempt_urls, **attempt_details;
	size_t attempt_count, attempt_cap;
	char last_failure[200];

	/* final action */
	eas_autodiscover_action final;
	eas_autodiscover_result result;
	char *final_message, *final_url, *final_challenge;
	char *res_url, *res_display, *res_user_email, *res_culture, *res_ce_url, *res_ce_data;
};

static const char nomem_message[] = "out of memory";

static void free_response(eas_autodiscover *ad)
{
	eas__ad_parser_free(ad->parser);
	ad->parser = NULL;
	eas__free(&ad->mem, ad->out_text);
	ad->out_text = NULL;
	eas__free(&ad->mem, ad->challenge);
	ad->challenge = NULL;
	ad->have_begin = 0;
	ad->status = 0;
	ad->outcome = O_NONE;
	ad->out_code = 0;
	ad->out_server_error = 0;
	ad->body_error = 0;
}

static void clear_pending(eas_autodiscover *ad)
{
	eas__free(&ad->mem, ad->pending_url);
	ad->pending_url = NULL;
	ad->pending_confirm = ad->pending_confirmed = 0;
}

static void clear_srv(eas_autodiscover *ad)
{
	for (size_t i = 0; i < ad->srv_count; i++)
		eas__free(&ad->mem, ad->srv[i].url);
	eas__free(&ad->mem, ad->srv);
	ad->srv = NULL;
	ad->srv_count = ad->srv_index = 0;
}

/*
 * Writes text into a new string with every copy of a secret replaced; if a
 * secret could still be read in the result (replacement text forming one),
 * the whole text is withheld.  NULL when memory ran out.
 */
static char *redact(eas_autodiscover *ad, const char *text)
{
	static const char mark[] = "[redacted]";
	eas_buf b;
	eas_buf_init(&b, &ad->mem, 0);
	const char *s = text;
	for (;;) {
		const char *hit = NULL;
		size_t hit_len = 0;
		for (size_t i = 0; i < 2; i++) {
			const char *sec = ad->secrets[i];
			if (!sec || !*sec)
				continue;
			const char *h = strstr(s, sec);
			if (h && (!hit || h < hit)) {
				hit = h;
				hit_len = strlen(sec);
			}
		}
		if (!hit) {
			eas_buf_append(&b, s, strlen(s) + 1);
			break;
		}
		eas_buf_append(&b, s, (size_t)(hit - s));
		eas_buf_append(&b, mark, sizeof mark - 1);
		s = hit + hit_len;
	}
	if (b.result) {
		eas_buf_free(&b);
		return NULL;
	}
	char *out = (char *)eas_buf_steal(&b, NULL);
	for (size_t i = 0; i < 2; i++)
		if (ad->secrets[i] && *ad->secrets[i] && strstr(out, ad->secrets[i])) {
			eas__free(&ad->mem, out);
			return eas__strdup(&ad->mem, "(text withheld: it contained credentials)");
		}
	return out;
}

/* Server text made printable and short, for a message. */
static void printable(char *dst, size_t size, const char *src)
{
	size_t n = 0;
	for (; src && *src && n + 1 < size; src++)
		dst[n++] = ((unsigned char)*src < 0x20 || *src == 0x7f) ? ' ' : *src;
	dst[n] = 0;
}

static void fail_nomem(eas_autodiscover *ad)
{
	free_response(ad);
	eas__free(&ad->mem, ad->final_message);
	ad->final_message = NULL;
	memset(&ad->final, 0, sizeof ad->final);
	ad->final.type = EAS_AUTODISCOVER_FAILED;
	ad->final.error = EAS_E_NOMEM;
	ad->final.message = nomem_message;
	ad->state = S_FAILED;
}

#if defined(__GNUC__)
__attribute__((format(printf, 6, 7)))
#endif
static void fail_final(eas_autodiscover *ad, int code, int http_status, int server_error,
		       const char *url, const char *fmt, ...)
{
	if (code == EAS_E_NOMEM) {
		fail_nomem(ad);
		return;
	}
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	char *msg = redact(ad, buf);
	char *u = url ? eas__strdup(&ad->mem, url) : NULL;
	char *ch = ad->challenge ? redact(ad, ad->challenge) : NULL;
	if (!msg || (url && !u) || (ad->challenge && !ch)) {
		eas__free(&ad->mem, msg);
		eas__free(&ad->mem, u);
		eas__free(&ad->mem, ch);
		fail_nomem(ad);
		return;
	}
	ad->final_message = msg;
	ad->final_url = u;
	ad->final_challenge = ch;
	memset(&ad->final, 0, sizeof ad->final);
	ad->final.type = EAS_AUTODISCOVER_FAILED;
	ad->final.error = code;
	ad->final.message = msg;
	ad->final.url = u;
	ad->final.http_status = http_status;
	ad->final.server_error = server_error;
	ad->final.auth_challenge = ch;
	free_response(ad);
	ad->state = S_FAILED;
}

static const char *current_email(const eas_autodiscover *ad)
{
	return ad->emails[ad->email_count - 1];
}

static const char *last_url(const eas_autodiscover *ad)
{
	return ad->attempt_urls[ad->attempt_count - 1];
}

/* Sets the detail text of the last attempt and the "last failure" summary. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int note(eas_autodiscover *ad, int error, const char *fmt, ...)
{
	char buf[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	size_t i = ad->attempt_count - 1;
	char *d = redact(ad, buf);
	if (!d)
		return EAS_E_NOMEM;
	eas__free(&ad->mem, ad->attempt_details[i]);
	ad->attempt_details[i] = d;
	ad->attempts[i].detail = d;
	ad->attempts[i].error = error;
	if (error)
		snprintf(ad->last_failure, sizeof ad->last_failure, "%.100s: %.90s", ad->attempt_urls[i], d);
	return 0;
}

static int add_attempt(eas_autodiscover *ad, const char *method, const char *url,
		       eas_autodiscover_step step)
{
	if (ad->attempt_count == ad->attempt_cap) {
		size_t cap = ad->attempt_cap ? ad->attempt_cap * 2 : 8;
		eas_autodiscover_attempt *a = eas__realloc(&ad->mem, ad->attempts, cap * sizeof *a);
		if (!a)
			return EAS_E_NOMEM;
		ad->attempts = a;
		char **u = eas__realloc(&ad->mem, ad->attempt_urls, cap * sizeof *u);
		if (!u)
			return EAS_E_NOMEM;
		ad->attempt_urls = u;
		char **d = eas__realloc(&ad->mem, ad->attempt_details, cap * sizeof *d);
		if (!d)
			return EAS_E_NOMEM;
		ad->attempt_details = d;
		ad->attempt_cap = cap;
	}
	char *u = eas__strdup(&ad->mem, url);
	if (!u)
		return EAS_E_NOMEM;
	size_t i = ad->attempt_count++;
	ad->attempt_urls[i] = u;
	ad->attempt_details[i] = NULL;
	eas_autodiscover_attempt *a = &ad->attempts[i];
	memset(a, 0, sizeof *a);
	a->step = step;
	a->method = method;
	a->url = u;
	a->email = current_email(ad);
	a->detail = "";
	return 0;
}

/* Was this URL already POSTed for the current address? */
static int posted(const eas_autodiscover *ad, const char *url)
{
	const char *email = current_email(ad);
	for (size_t i = 0; i < ad->attempt_count; i++) {
		const eas_autodiscover_attempt *a = &ad->attempts[i];
		if (a->method[0] == 'P' && a->email == email && strcmp(a->url, url) == 0)
			return 1;
	}
	return 0;
}

static void advance(eas_autodiscover *ad)
{
	if (ad->pos == P_SRVREC) {
		if (++ad->srv_index < ad->srv_count)
			return;
		ad->pos = P_END;
	} else if (ad->pos == P_URL) {
		ad->pos = P_END;
	} else if (ad->pos == P_SRVQ) {
		ad->srv_index = 0;
		ad->pos = ad->srv_count ? P_SRVREC : P_END;
	} else if (ad->pos != P_END) {
		ad->pos++;
	}
}

static int step_enabled(const eas_autodiscover *ad, eas_autodiscover_step s)
{
	return (ad->steps & (1u << s)) != 0;
}

static char *make_url(eas_autodiscover *ad, const char *scheme, const char *prefix, const char *host,
		      unsigned port)
{
	char portbuf[8] = "";
	if (port && port != 443)
		snprintf(portbuf, sizeof portbuf, ":%u", port);
	size_t n = strlen(scheme) + strlen(prefix) + strlen(host) + strlen(portbuf) + sizeof PATH;
	char *u = eas__malloc(&ad->mem, n);
	if (u)
		snprintf(u, n, "%s%s%s%s%s", scheme, prefix, host, portbuf, PATH);
	return u;
}

static void fill_request(eas_autodiscover *ad, eas_autodiscover_action *out, const char *url, int get)
{
	eas_http_request r = EAS_HTTP_REQUEST_INIT;
	r.url = url;
	r.timeout_ms = ad->timeout_ms;
	if (get) {
		r.method = "GET";
	} else {
		r.method = "POST";
		r.headers = ad->headers;
		r.header_count = ad->header_count;
		r.body = (const unsigned char *)ad->body;
		r.body_length = ad->body_len;
	}
	out->request = r;
}

static int start_request(eas_autodiscover *ad, eas_autodiscover_action *out, const char *url,
			 eas_autodiscover_step step, int get)
{
	if (!get && !ad->body && eas__ad_request_body(&ad->body, &ad->body_len, &ad->mem, current_email(ad)))
		return EAS_E_NOMEM;
	if (add_attempt(ad, get ? "GET" : "POST", url, step))
		return EAS_E_NOMEM;
	ad->header_count = 0;
	if (!get) {
		if (ad->auth_header) {
			ad->headers[ad->header_count].name = "Authorization";
			ad->headers[ad->header_count++].value = ad->auth_header;
		}
		ad->headers[ad->header_count].name = "Content-Type";
		ad->headers[ad->header_count++].value = "text/xml";
	}
	ad->req_get = get;
	ad->req_step = step;
	free_response(ad);
	ad->state = S_WAIT_RESPONSE;
	out->type = EAS_AUTODISCOVER_SEND_REQUEST;
	out->step = step;
	fill_request(ad, out, last_url(ad), get);
	return 0;
}

static void fail_exhausted(eas_autodiscover *ad)
{
	int code = ad->auth_seen ? EAS_E_AUTH : EAS_E_NOTFOUND;
	size_t tried = ad->attempt_count;
	if (ad->last_failure[0])
		fail_final(ad, code, ad->auth_seen ? 401 : 0, 0, NULL,
			   "no Autodiscover server found for %s (%lu request%s; last: %s)%s",
			   current_email(ad), (unsigned long)tried, tried == 1 ? "" : "s", ad->last_failure,
			   ad->auth_seen ? "; credentials were refused" : "");
	else
		fail_final(ad, code, 0, 0, NULL, "no Autodiscover server found for %s (nothing to try)",
			   current_email(ad));
}

/* Decides the next action from READY. */
static int plan(eas_autodiscover *ad, eas_autodiscover_action *out)
{
	for (;;) {
		if (ad->pending_url) {
			if (ad->pending_confirm && !ad->pending_confirmed) {
				if (ad->skip_confirm) {
					ad->pending_confirmed = 1;
					ad->chain_confirmed = 1;
				} else {
					ad->state = S_WAIT_CONFIRM;
					out->type = EAS_AUTODISCOVER_CONFIRM;
					out->step = ad->pending_step;
					out->url = ad->pending_url;
					return 0;
				}
			}
			if (start_request(ad, out, ad->pending_url, ad->pending_step, 0))
				goto nomem;
			return 0;
		}
		char *url = NULL;
		switch (ad->pos) {
		case P_URL:
			if (start_request(ad, out, ad->fixed_url, EAS_AUTODISCOVER_STEP_URL, 0))
				goto nomem;
			return 0;
		case P_DOMAIN:
		case P_HOST:
		case P_PROBE: {
			eas_autodiscover_step s = ad->pos == P_DOMAIN ? EAS_AUTODISCOVER_STEP_DOMAIN :
						  ad->pos == P_HOST ? EAS_AUTODISCOVER_STEP_HOST :
						  EAS_AUTODISCOVER_STEP_PROBE;
			if (!step_enabled(ad, s)) {
				advance(ad);
				continue;
			}
			url = make_url(ad, s == EAS_AUTODISCOVER_STEP_PROBE ? "http://" : "https://",
				       s == EAS_AUTODISCOVER_STEP_DOMAIN ? "" : "autodiscover.", ad->domain, 0);
			if (!url)
				goto nomem;
			int rc = start_request(ad, out, url, s, s == EAS_AUTODISCOVER_STEP_PROBE);
			eas__free(&ad->mem, url);
			if (rc)
				goto nomem;
			return 0;
		}
		case P_SRVQ: {
			if (!step_enabled(ad, EAS_AUTODISCOVER_STEP_SRV)) {
				advance(ad);
				continue;
			}
			static const char pre[] = "_autodiscover._tcp.";
			size_t n = sizeof pre + strlen(ad->domain);
			eas__free(&ad->mem, ad->srv_name);
			ad->srv_name = eas__malloc(&ad->mem, n);
			if (!ad->srv_name)
				goto nomem;
			snprintf(ad->srv_name, n, "%s%s", pre, ad->domain);
			ad->state = S_WAIT_SRV;
			out->type = EAS_AUTODISCOVER_NEED_SRV;
			out->step = EAS_AUTODISCOVER_STEP_SRV;
			out->srv_name = ad->srv_name;
			out->domain = ad->domain;
			return 0;
		}
		case P_SRVREC: {
			const char *u = ad->srv[ad->srv_index].url;
			if (posted(ad, u)) {
				advance(ad);
				continue;
			}
			ad->pending_url = eas__strdup(&ad->mem, u);
			if (!ad->pending_url)
				goto nomem;
			ad->pending_step = EAS_AUTODISCOVER_STEP_SRV;
			ad->pending_confirm = 1;
			ad->pending_confirmed = 0;
			continue;
		}
		case P_END:
			fail_exhausted(ad);
			*out = ad->final;
			return 0;
		}
	}
nomem:
	fail_nomem(ad);
	*out = ad->final;
	return 0;
}

/* Sets the current address (taking ownership of email) and restarts the search. */
static int use_address(eas_autodiscover *ad, char *email)
{
	char **n = eas__realloc(&ad->mem, ad->emails, (ad->email_count + 1) * sizeof *n);
	if (!n) {
		eas__free(&ad->mem, email);
		return EAS_E_NOMEM;
	}
	ad->emails = n;
	const char *d = email_domain(email);
	char *dom = eas__strdup(&ad->mem, d);
	if (!dom) {
		eas__free(&ad->mem, email);
		return EAS_E_NOMEM;
	}
	for (char *c = dom; *c; c++)
		*c = (char)lower((unsigned char)*c);
	ad->emails[ad->email_count++] = email;
	eas__free(&ad->mem, ad->domain);
	ad->domain = dom;
	eas__free(&ad->mem, ad->body);
	ad->body = NULL;
	clear_pending(ad);
	clear_srv(ad);
	ad->chain_confirmed = 0;
	return 0;
}

/* Resolves a Location value against the request URL (absolute, or an absolute path). */
static char *resolve_location(eas_autodiscover *ad, const char *base, const char *loc)
{
	if (loc[0] == '/' && loc[1] != '/') {
		const char *p = strstr(base, "://");
		if (!p)
			return NULL;
		p += 3;
		size_t origin = (size_t)(p - base) + strcspn(p, "/?#");
		size_t n = origin + strlen(loc) + 1;
		char *u = eas__malloc(&ad->mem, n);
		if (u) {
			memcpy(u, base, origin);
			memcpy(u + origin, loc, strlen(loc) + 1);
		}
		return u;
	}
	return eas__strdup(&ad->mem, loc);
}

static const char *find_header(const eas_http_header *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (h[i].name && h[i].value && ieq(h[i].name, name))
			return h[i].value;
	return NULL;
}

static int set_outcome(eas_autodiscover *ad, enum outcome o, int code, const char *text)
{
	ad->outcome = o;
	ad->out_code = code;
	eas__free(&ad->mem, ad->out_text);
	ad->out_text = NULL;
	if (text && !(ad->out_text = eas__strdup(&ad->mem, text)))
		return EAS_E_NOMEM;
	return 0;
}

static int is_redirect_status(int status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

int eas_autodiscover_response_begin(eas_autodiscover *ad, int status, const eas_http_header *headers,
				    size_t header_count)
{
	if (!ad)
		return EAS_E_INVALID;
	if (ad->state != S_WAIT_RESPONSE || ad->have_begin)
		return EAS_E_STATE;
	if (status < 100 || status > 999 || (!headers && header_count))
		return EAS_E_INVALID;
	ad->have_begin = 1;
	ad->status = status;
	ad->attempts[ad->attempt_count - 1].http_status = status;
	int rc = 0;
	char buf[160];
	if (is_redirect_status(status)) {
		const char *loc = find_header(headers, header_count, "Location");
		char *target = loc ? resolve_location(ad, last_url(ad), loc) : NULL;
		if (loc && !target) {
			rc = EAS_E_NOMEM;
		} else if (!target) {
			snprintf(buf, sizeof buf, "HTTP %d without a Location", status);
			rc = set_outcome(ad, O_STEP_FAILED, EAS_E_PROTOCOL, buf);
		} else if (!usable_url(target, ad->req_get ? 0 : ad->allow_http)) {
			printable(buf, 120, target);
			char msg[260];
			snprintf(msg, sizeof msg, "redirect to %s refused (%s)", buf,
				 ad->req_get ? "the probe may only lead to https" : "not an https URL");
			rc = set_outcome(ad, O_STEP_FAILED, EAS_E_PROTOCOL, msg);
		} else {
			rc = set_outcome(ad, O_REDIRECT_URL, ad->req_get ? R_PROBE : R_HTTP, target);
		}
		eas__free(&ad->mem, target);
	} else if (ad->req_get) {
		snprintf(buf, sizeof buf, "probe answered HTTP %d, not a redirect", status);
		rc = set_outcome(ad, O_STEP_FAILED, EAS_E_NOTFOUND, buf);
	} else if (status == 401) {
		const char *ch = find_header(headers, header_count, "WWW-Authenticate");
		if (ch) {
			char tmp[200];
			printable(tmp, sizeof tmp, ch);
			if (!(ad->challenge = eas__strdup(&ad->mem, tmp)))
				rc = EAS_E_NOMEM;
		}
		if (!rc)
			rc = set_outcome(ad, O_AUTH, EAS_E_AUTH, "HTTP 401: credentials refused");
	} else if (status == 200) {
		rc = eas__ad_parser_new(&ad->parser, &ad->mem, ad->max_size);
	} else {
		snprintf(buf, sizeof buf, "HTTP %d", status);
		rc = set_outcome(ad, O_STEP_FAILED, status == 404 ? EAS_E_NOTFOUND : EAS_E_PROTOCOL, buf);
	}
	if (rc) {
		ad->outcome = O_FINAL;
		ad->out_code = EAS_E_NOMEM;
		ad->body_error = EAS_E_NOMEM;
		return EAS_E_NOMEM;
	}
	return 0;
}

/* A parser error: out of memory ends the machine, anything else the step. */
static void parse_failed(eas_autodiscover *ad, int rc)
{
	ad->body_error = rc;
	if (rc == EAS_E_NOMEM) {
		ad->outcome = O_FINAL;
		ad->out_code = EAS_E_NOMEM;
		return;
	}
	if (set_outcome(ad, O_STEP_FAILED, rc, eas__ad_parser_error(ad->parser))) {
		ad->outcome = O_FINAL;
		ad->out_code = EAS_E_NOMEM;
	}
}

int eas_autodiscover_response_body(eas_autodiscover *ad, const void *data, size_t len)
{
	if (!ad)
		return EAS_E_INVALID;
	if (ad->state != S_WAIT_RESPONSE || !ad->have_begin)
		return EAS_E_STATE;
	if (!data && len)
		return EAS_E_INVALID;
	if (ad->body_error)
		return ad->body_error;
	if (!ad->parser || ad->outcome != O_NONE || len == 0)
		return 0;
	int rc = eas__ad_parser_feed(ad->parser, data, len);
	if (rc)
		parse_failed(ad, rc);
	return rc;
}

/* Judges a complete, parsed 200 response. */
static int judge(eas_autodiscover *ad)
{
	eas__ad_response *r = eas__ad_parser_response(ad->parser);
	if (r->mobilesync_url) {
		ad->outcome = O_DONE;
		return 0;
	}
	if (r->redirect) {
		if (strstr(r->redirect, "://")) {
			if (!usable_url(r->redirect, ad->allow_http)) {
				char buf[130], msg[200];
				printable(buf, sizeof buf, r->redirect);
				snprintf(msg, sizeof msg, "redirect to %s refused (not an https URL)", buf);
				return set_outcome(ad, O_FINAL, EAS_E_PROTOCOL, msg);
			}
			return set_outcome(ad, O_REDIRECT_URL, R_ACTION, r->redirect);
		}
		if (!email_domain(r->redirect)) {
			char buf[130], msg[200];
			printable(buf, sizeof buf, r->redirect);
			snprintf(msg, sizeof msg, "redirect to an unusable address '%s'", buf);
			return set_outcome(ad, O_FINAL, EAS_E_PROTOCOL, msg);
		}
		return set_outcome(ad, O_REDIRECT_ADDR, 0, r->redirect);
	}
	if (r->has_error) {
		long code = r->error_code ? r->error_code : r->status;
		char text[160], msg[260];
		printable(text, sizeof text, r->error_message ? r->error_message : "");
		snprintf(msg, sizeof msg, "the Autodiscover server returned %s %ld%s%s",
			 r->error_code ? "ErrorCode" : "error status", code, text[0] ? ": " : "", text);
		ad->out_server_error = (int)code;
		return set_outcome(ad, O_FINAL, r->error_code == 601 ? EAS_E_UNSUPPORTED : EAS_E_PROTOCOL, msg);
	}
	if (r->has_settings)
		return set_outcome(ad, O_FINAL, EAS_E_UNSUPPORTED,
				   "the Autodiscover settings name no MobileSync server "
				   "(is ActiveSync enabled for this mailbox?)");
	return set_outcome(ad, O_FINAL, EAS_E_PROTOCOL,
			   "Autodiscover response without settings, redirect or error");
}

static int finish_done(eas_autodiscover *ad)
{
	eas__ad_response *r = eas__ad_parser_response(ad->parser);
	if (!usable_url(r->mobilesync_url, ad->allow_http)) {
		char buf[130];
		printable(buf, sizeof buf, r->mobilesync_url);
		fail_final(ad, EAS_E_PROTOCOL, ad->status, 0, last_url(ad),
			   "the Autodiscover server gave an unusable ActiveSync URL '%s'", buf);
		return 0;
	}
	if (note(ad, 0, "MobileSync server found"))
		return EAS_E_NOMEM;
	/* Take the strings over from the parser. */
	ad->res_url = r->mobilesync_url, r->mobilesync_url = NULL;
	ad->res_display = r->display_name, r->display_name = NULL;
	ad->res_user_email = r->user_email, r->user_email = NULL;
	ad->res_culture = r->culture, r->culture = NULL;
	ad->res_ce_url = r->cert_enroll_url, r->cert_enroll_url = NULL;
	ad->res_ce_data = r->cert_enroll_data, r->cert_enroll_data = NULL;
	eas_autodiscover_result *res = &ad->result;
	res->url = ad->res_url;
	res->display_name = ad->res_display;
	res->user_email = ad->res_user_email;
	res->culture = ad->res_culture;
	res->cert_enroll_url = ad->res_ce_url;
	res->cert_enroll_data = ad->res_ce_url ? ad->res_ce_data : NULL;
	res->email = current_email(ad);
	res->autodiscover_url = last_url(ad);
	res->step = ad->req_step;
	res->redirects = ad->redirects;
	res->address_changed = ad->address_changed;
	res->confirmed = ad->chain_confirmed;
	memset(&ad->final, 0, sizeof ad->final);
	ad->final.type = EAS_AUTODISCOVER_DONE;
	ad->final.result = res;
	free_response(ad);
	ad->state = S_DONE;
	return 0;
}

static int redirects_left(eas_autodiscover *ad)
{
	if (ad->redirects < ad->max_redirects)
		return 1;
	fail_final(ad, EAS_E_LIMIT, ad->status, 0, last_url(ad),
		   "too many Autodiscover redirects (more than %u)", ad->max_redirects);
	return 0;
}

static void step_failed(eas_autodiscover *ad)
{
	clear_pending(ad);
	ad->chain_confirmed = 0;
	advance(ad);
	free_response(ad);
	ad->state = S_READY;
}

/* Applies the outcome of the finished exchange.  0 or EAS_E_NOMEM. */
static int apply(eas_autodiscover *ad)
{
	const char *url = last_url(ad);
	switch (ad->outcome) {
	case O_NONE:
	case O_STEP_FAILED:
		if (note(ad, ad->out_code ? ad->out_code : EAS_E_PROTOCOL, "%s",
			 ad->out_text ? ad->out_text : "no usable answer"))
			return EAS_E_NOMEM;
		step_failed(ad);
		return 0;
	case O_AUTH:
		if (note(ad, EAS_E_AUTH, "HTTP 401: credentials refused"))
			return EAS_E_NOMEM;
		if (ad->continue_401) {
			ad->auth_seen = 1;
			step_failed(ad);
			return 0;
		}
		fail_final(ad, EAS_E_AUTH, 401, 0, url, "%s refused the credentials (HTTP 401)", url);
		return 0;
	case O_DONE:
		return finish_done(ad);
	case O_FINAL:
		if (ad->out_code == EAS_E_NOMEM)
			return EAS_E_NOMEM;
		if (note(ad, ad->out_code, "%s", ad->out_text))
			return EAS_E_NOMEM;
		fail_final(ad, ad->out_code, ad->status, ad->out_server_error, url, "%s: %s", url,
			   ad->out_text);
		return 0;
	case O_REDIRECT_URL: {
		const char *target = ad->out_text;
		int kind = ad->out_code;
		if (kind == R_PROBE && posted(ad, target)) {
			if (note(ad, EAS_E_NOTFOUND, "probe led to %s, already tried", target))
				return EAS_E_NOMEM;
			step_failed(ad);
			return 0;
		}
		if (kind != R_PROBE && posted(ad, target)) {
			if (note(ad, EAS_E_PROTOCOL, "redirect loop back to %s", target))
				return EAS_E_NOMEM;
			fail_final(ad, EAS_E_PROTOCOL, ad->status, 0, url,
				   "Autodiscover redirect loop: %s redirected back to %s", url, target);
			return 0;
		}
		if (!redirects_left(ad))
			return 0;
		if (note(ad, 0, "redirected to %s", target))
			return EAS_E_NOMEM;
		char *u = eas__strdup(&ad->mem, target);
		if (!u)
			return EAS_E_NOMEM;
		ad->redirects++;
		clear_pending(ad);
		ad->pending_url = u;
		ad->pending_step = kind == R_PROBE ? EAS_AUTODISCOVER_STEP_PROBE : EAS_AUTODISCOVER_STEP_REDIRECT;
		ad->pending_confirm = kind == R_PROBE;
		free_response(ad);
		ad->state = S_READY;
		return 0;
	}
	case O_REDIRECT_ADDR: {
		const char *addr = ad->out_text;
		for (size_t i = 0; i < ad->email_count; i++)
			if (ieq(ad->emails[i], addr)) {
				if (note(ad, EAS_E_PROTOCOL, "address redirect loop back to %s", addr))
					return EAS_E_NOMEM;
				fail_final(ad, EAS_E_PROTOCOL, ad->status, 0, url,
					   "Autodiscover redirect loop: %s was already asked for", addr);
				return 0;
			}
		if (!redirects_left(ad))
			return 0;
		if (note(ad, 0, "address redirected to %s", addr))
			return EAS_E_NOMEM;
		char *e = eas__strdup(&ad->mem, addr);
		if (!e || use_address(ad, e))
			return EAS_E_NOMEM;
		ad->redirects++;
		ad->address_changed = 1;
		ad->pos = P_DOMAIN;
		free_response(ad);
		ad->state = S_READY;
		return 0;
	}
	}
	return 0;
}

int eas_autodiscover_response_end(eas_autodiscover *ad, int transport_error)
{
	if (!ad || transport_error > 0)
		return EAS_E_INVALID;
	if (ad->state != S_WAIT_RESPONSE || (!ad->have_begin && transport_error == 0))
		return EAS_E_STATE;
	if (transport_error == EAS_E_CANCELLED && !(ad->outcome == O_FINAL && ad->out_code == EAS_E_NOMEM)) {
		if (note(ad, EAS_E_CANCELLED, "cancelled"))
			fail_nomem(ad);
		else
			fail_final(ad, EAS_E_CANCELLED, 0, 0, last_url(ad), "Autodiscover cancelled");
		return 0;
	}
	if (ad->outcome == O_NONE) {
		if (transport_error) {
			char buf[120];
			snprintf(buf, sizeof buf, "%s", eas_strerror(transport_error));
			if (set_outcome(ad, O_STEP_FAILED, transport_error, buf)) {
				fail_nomem(ad);
				return 0;
			}
		} else if (ad->parser) {
			int rc = eas__ad_parser_finish(ad->parser);
			if (rc)
				parse_failed(ad, rc);
			else if (judge(ad))
				ad->outcome = O_FINAL, ad->out_code = EAS_E_NOMEM;
		}
	}
	if (apply(ad))
		fail_nomem(ad);
	return 0;
}

static int on_head_cb(int status, const eas_http_header *headers, size_t n, void *ud)
{
	return eas_autodiscover_response_begin(ud, status, headers, n);
}

static int on_body_cb(const unsigned char *data, size_t len, void *ud)
{
	return eas_autodiscover_response_body(ud, data, len);
}

static void on_complete_cb(int error, const char *detail, void *ud)
{
	(void)detail;
	eas_autodiscover_response_end(ud, error > 0 ? EAS_E_CALLBACK : error);
}

void eas_autodiscover_response_handler(eas_http_response_handler *out, eas_autodiscover *ad)
{
	if (!out)
		return;
	eas_http_response_handler h = EAS_HTTP_RESPONSE_HANDLER_INIT;
	h.on_head = on_head_cb;
	h.on_body = on_body_cb;
	h.on_complete = on_complete_cb;
	h.user_data = ad;
	*out = h;
}

int eas_autodiscover_srv_result(eas_autodiscover *ad, const eas_autodiscover_srv *records, size_t count)
{
	if (!ad || (!records && count))
		return EAS_E_INVALID;
	if (ad->state != S_WAIT_SRV)
		return EAS_E_STATE;
	if (count > MAX_SRV_EXAMINED)
		count = MAX_SRV_EXAMINED;
	clear_srv(ad);
	size_t valid = 0;
	for (size_t i = 0; i < count; i++) {
		const char *t = records[i].target;
		if (!t)
			continue;
		size_t tl = strlen(t);
		if (tl && t[tl - 1] == '.')
			tl--;
		if (valid_host(t, tl))
			valid++;
	}
	if (valid) {
		ad->srv = eas__calloc(&ad->mem, valid, sizeof *ad->srv);
		if (!ad->srv)
			goto nomem;
		for (size_t i = 0; i < count; i++) {
			const eas_autodiscover_srv *rec = &records[i];
			if (!rec->target)
				continue;
			size_t tl = strlen(rec->target);
			if (tl && rec->target[tl - 1] == '.')
				tl--;
			if (!valid_host(rec->target, tl))
				continue;
			char *host = dup_n(&ad->mem, rec->target, tl);
			if (!host)
				goto nomem;
			for (char *c = host; *c; c++)
				*c = (char)lower((unsigned char)*c);
			char *url = make_url(ad, "https://", "", host, rec->port);
			eas__free(&ad->mem, host);
			if (!url)
				goto nomem;
			/* Insertion by (priority ascending, weight descending), stable. */
			size_t j = ad->srv_count;
			while (j > 0 && (ad->srv[j - 1].priority > rec->priority ||
					 (ad->srv[j - 1].priority == rec->priority && ad->srv[j - 1].weight < rec->weight))) {
				ad->srv[j] = ad->srv[j - 1];
				j--;
			}
			ad->srv[j].url = url;
			ad->srv[j].priority = rec->priority;
			ad->srv[j].weight = rec->weight;
			ad->srv_count++;
		}
		while (ad->srv_count > MAX_SRV_RECORDS)
			eas__free(&ad->mem, ad->srv[--ad->srv_count].url);
	}
	ad->srv_index = 0;
	if (ad->srv_count) {
		ad->pos = P_SRVREC;
	} else {
		snprintf(ad->last_failure, sizeof ad->last_failure, "%.120s: no usable SRV record",
			 ad->srv_name ? ad->srv_name : "SRV");
		ad->pos = P_END;
	}
	ad->state = S_READY;
	return 0;
nomem:
	clear_srv(ad);
	fail_nomem(ad);
	return EAS_E_NOMEM;
}

int eas_autodiscover_confirm(eas_autodiscover *ad, int accept)
{
	if (!ad)
		return EAS_E_INVALID;
	if (ad->state != S_WAIT_CONFIRM)
		return EAS_E_STATE;
	if (accept) {
		ad->pending_confirmed = 1;
		ad->chain_confirmed = 1;
	} else {
		char buf[140];
		printable(buf, sizeof buf, ad->pending_url);
		snprintf(ad->last_failure, sizeof ad->last_failure, "%s: not confirmed", buf);
		clear_pending(ad);
		advance(ad);
	}
	ad->state = S_READY;
	return 0;
}

int eas_autodiscover_next(eas_autodiscover *ad, eas_autodiscover_action *out)
{
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (!ad)
		return EAS_E_INVALID;
	if (ad->state == S_DONE || ad->state == S_FAILED) {
		*out = ad->final;
		return 0;
	}
	if (ad->state != S_READY)
		return EAS_E_STATE;
	return plan(ad, out);
}

size_t eas_autodiscover_attempts(const eas_autodiscover *ad, const eas_autodiscover_attempt **out)
{
	if (out)
		*out = ad && ad->attempt_count ? ad->attempts : NULL;
	return ad ? ad->attempt_count : 0;
}

/* ---- creation ---------------------------------------------------------------- */

static int build_auth(eas_autodiscover *ad, const eas_autodiscover_options *o)
{
	if (o->auth == EAS_AUTODISCOVER_AUTH_NONE)
		return 0;
	if (o->auth == EAS_AUTODISCOVER_AUTH_BEARER) {
		const char *t = o->bearer_token;
		if (!t || !*t)
			return EAS_E_INVALID;
		for (const char *c = t; *c; c++)
			if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f)
				return EAS_E_INVALID;
		size_t n = strlen(t) + sizeof "Bearer ";
		if (!(ad->secrets[0] = eas__strdup(&ad->mem, t)) || !(ad->auth_header = eas__calloc(&ad->mem, 1, n)))
			return EAS_E_NOMEM;
		snprintf(ad->auth_header, n, "Bearer %s", t);
		return 0;
	}
	if (o->auth != EAS_AUTODISCOVER_AUTH_BASIC || !o->password)
		return EAS_E_INVALID;
	const char *user = o->username ? o->username : o->email;
	if (!*user || strchr(user, ':'))
		return EAS_E_INVALID;
	for (const char *c = user; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			return EAS_E_INVALID;
	size_t ul = strlen(user), pl = strlen(o->password);
	if (ul > 1024 || pl > 1024)
		return EAS_E_INVALID;
	size_t raw_len = ul + 1 + pl;
	char *raw = eas__malloc(&ad->mem, raw_len + 1);
	if (!raw)
		return EAS_E_NOMEM;
	memcpy(raw, user, ul);
	raw[ul] = ':';
	memcpy(raw + ul + 1, o->password, pl + 1);
	size_t enc = EAS__BASE64_ENCODED_LEN(raw_len);
	ad->secrets[0] = eas__strdup(&ad->mem, o->password);
	ad->secrets[1] = eas__calloc(&ad->mem, 1, enc + 1);
	ad->auth_header = eas__calloc(&ad->mem, 1, enc + sizeof "Basic ");
	if (!ad->secrets[0] || !ad->secrets[1] || !ad->auth_header) {
		free_secret(&ad->mem, raw);
		return EAS_E_NOMEM;
	}
	eas__base64_encode(ad->secrets[1], (const uint8_t *)raw, raw_len);
	free_secret(&ad->mem, raw);
	memcpy(ad->auth_header, "Basic ", 6);
	memcpy(ad->auth_header + 6, ad->secrets[1], enc + 1);
	return 0;
}

int eas_autodiscover_new(eas_autodiscover **out, const eas_autodiscover_options *options)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	const eas_autodiscover_options *o = options;
	if (!o || o->version != EAS_AUTODISCOVER_OPTIONS_VERSION || !o->email || !email_domain(o->email))
		return EAS_E_INVALID;
	if (o->max_redirects > MAX_MAX_REDIRECTS || (o->steps & ~EAS_AUTODISCOVER_STEPS_ALL))
		return EAS_E_INVALID;
	if (o->url && !usable_url(o->url, o->allow_plain_http))
		return EAS_E_INVALID;
	eas_mem m;
	eas__mem_init(&m, o->mem);
	eas_autodiscover *ad = eas__calloc(&m, 1, sizeof *ad);
	if (!ad)
		return EAS_E_NOMEM;
	ad->mem = m;
	ad->steps = o->steps ? o->steps : EAS_AUTODISCOVER_STEPS_ALL;
	ad->max_redirects = o->max_redirects ? o->max_redirects : DEFAULT_MAX_REDIRECTS;
	ad->allow_http = o->allow_plain_http != 0;
	ad->skip_confirm = o->skip_confirmation != 0;
	ad->continue_401 = o->continue_after_auth_failure != 0;
	ad->max_size = o->max_response_size ? o->max_response_size : DEFAULT_MAX_RESPONSE;
	ad->timeout_ms = o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int rc = build_auth(ad, o);
	if (!rc && o->url && !(ad->fixed_url = eas__strdup(&ad->mem, o->url)))
		rc = EAS_E_NOMEM;
	if (!rc) {
		char *e = eas__strdup(&ad->mem, o->email);
		rc = e ? use_address(ad, e) : EAS_E_NOMEM;
	}
	if (rc) {
		eas_autodiscover_free(ad);
		return rc;
	}
	ad->pos = ad->fixed_url ? P_URL : P_DOMAIN;
	ad->state = S_READY;
	*out = ad;
	return 0;
}

void eas_autodiscover_free(eas_autodiscover *ad)
{
	if (!ad)
		return;
	const eas_mem *m = &ad->mem;
	free_response(ad);
	free_secret(m, ad->auth_header);
	free_secret(m, ad->secrets[0]);
	free_secret(m, ad->secrets[1]);
	eas__free(m, ad->fixed_url);
	for (size_t i = 0; i < ad->email_count; i++)
		eas__free(m, ad->emails[i]);
	eas__free(m, ad->emails);
	eas__free(m, ad->domain);
	eas__free(m, ad->body);
	clear_srv(ad);
	eas__free(m, ad->srv_name);
	clear_pending(ad);
	for (size_t i = 0; i < ad->attempt_count; i++) {
		eas__free(m, ad->attempt_urls[i]);
		eas__free(m, ad->attempt_details[i]);
	}
	eas__free(m, ad->attempts);
	eas__free(m, ad->attempt_urls);
	eas__free(m, ad->attempt_details);
	eas__free(m, ad->final_message);
	eas__free(m, ad->final_url);
	eas__free(m, ad->final_challenge);
	eas__free(m, ad->res_url);
	eas__free(m, ad->res_display);
	eas__free(m, ad->res_user_email);
	eas__free(m, ad->res_culture);
	eas__free(m, ad->res_ce_url);
	eas__free(m, ad->res_ce_data);
	eas_mem copy = ad->mem;
	eas__free(&copy, ad);
}
