/*
 * POST /autodiscover/autodiscover.xml (MS-ASCMD 2.2.1.1): the mobilesync
 * POX answer that points the client at this server's EAS URL
 * (config.public_url + EAS_SERVER_PATH, or https:// + the Host header).
 *
 * The request is XML (not WBXML), parsed with expat through the eas_mem
 * hooks, no DTD: a DOCTYPE is refused.  ErrorCode 600 for a request that is
 * not a mobilesync Autodiscover request, 601 when it asks for another
 * response schema.
 */
#include "server/handler.h"

#include <stdio.h>
#include <string.h>

#include "common/xml_mem.h"
#include "eas/autodiscover.h"

#define AD_MAX_BODY (64u * 1024u)
#define AD_TEXT_MAX 512u

typedef struct ad_parse {
	int depth;
	int in_email, in_schema;
	int requests;
	int root_ok;
	int refused;
	char email[AD_TEXT_MAX];
	size_t email_len;
	char schema[AD_TEXT_MAX];
	size_t schema_len;
	XML_Parser parser;
} ad_parse;

/* The local part of "uri|local". */
static const char *local_name(const char *name)
{
	const char *bar = strrchr(name, '|');
	return bar ? bar + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
	(void)atts;
	ad_parse *p = ud;
	const char *local = local_name(name);
	if (p->depth == 0)
		p->root_ok = strcmp(local, "Autodiscover") == 0;
	p->depth++;
	if (strcmp(local, "Request") == 0)
		p->requests++;
	p->in_email = strcmp(local, "EMailAddress") == 0;
	p->in_schema = strcmp(local, "AcceptableResponseSchema") == 0;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	(void)name;
	ad_parse *p = ud;
	p->depth--;
	p->in_email = p->in_schema = 0;
}

static void append(char *buf, size_t *len, const char *s, int n)
{
	for (int i = 0; i < n && *len + 1 < AD_TEXT_MAX; i++)
		buf[(*len)++] = s[i];
	buf[*len] = '\0';
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	ad_parse *p = ud;
	if (p->in_email)
		append(p->email, &p->email_len, s, len);
	else if (p->in_schema)
		append(p->schema, &p->schema_len, s, len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
			       int has_internal_subset)
{
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal_subset;
	ad_parse *p = ud;
	p->refused = 1;
	XML_StopParser(p->parser, XML_FALSE);
}

/* Trims ASCII white space in place. */
static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static int put_escaped(eas_buf *b, const char *s)
{
	for (; *s; s++) {
		const char *e = NULL;
		switch (*s) {
		case '&': e = "&amp;"; break;
		case '<': e = "&lt;"; break;
		case '>': e = "&gt;"; break;
		case '"': e = "&quot;"; break;
		case '\'': e = "&apos;"; break;
		default: break;
		}
		int rc = e ? eas_buf_append_str(b, e) : eas_buf_append(b, s, 1);
		if (rc)
			return rc;
	}
	return 0;
}

static int reply_xml(eas_srv_ctx *c, eas_buf *b)
{
	if (b->result) {
		int rc = b->result;
		eas_buf_free(b);
		return rc;
	}
	eas_server_response *r = c->resp;
	int rc = eas__srv_reply_text(c, 200, NULL);
	if (rc == 0) {
		r->body = eas_buf_steal(b, &r->body_len);
		rc = eas__srv_add_header(r, "Content-Type", "text/xml; charset=utf-8");
	}
	eas_buf_free(b);
	return rc;
}

static int reply_error(eas_srv_ctx *c, unsigned code, const char *message)
{
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	char text[16];
	snprintf(text, sizeof text, "%u", code);
	eas_buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\""
			       EAS_AUTODISCOVER_NS_RESPONSE "\"><Response><Error Time=\"00:00:00\" Id=\"1\">"
			       "<ErrorCode>");
	eas_buf_append_str(&b, text);
	eas_buf_append_str(&b, "</ErrorCode><Message>");
	put_escaped(&b, message);
	eas_buf_append_str(&b, "</Message><DebugData /></Error></Response></Autodiscover>");
	snprintf(c->err, sizeof c->err, "Autodiscover ErrorCode %u: %s", code, message);
	return reply_xml(c, &b);
}

int eas__srv_handle_autodiscover(eas_srv_ctx *c)
{
	const eas_server_request *req = c->req;
	if (req->body_len > AD_MAX_BODY) {
		snprintf(c->err, sizeof c->err, "Autodiscover body over %u bytes", AD_MAX_BODY);
		return eas__srv_reply_text(c, 413, "request body too large\n");
	}
	ad_parse p;
	memset(&p, 0, sizeof p);
	eas_xml_mem xm = { c->mem, 0 };
	XML_Parser parser = eas__xml_parser_new(&xm, '|');
	if (!parser)
		return EAS_E_NOMEM;
	p.parser = parser;
	XML_SetUserData(parser, &p);
	XML_SetElementHandler(parser, on_start, on_end);
	XML_SetCharacterDataHandler(parser, on_text);
	XML_SetStartDoctypeDeclHandler(parser, on_doctype);
	enum XML_Status st = eas__xml_parse(&xm, parser, (const char *)req->body, req->body_len, 1);
	eas__xml_parser_free(&xm, parser);
	if (xm.failed)
		return EAS_E_NOMEM;
	if (st != XML_STATUS_OK || p.refused || !p.root_ok || p.requests != 1)
		return reply_error(c, 600, "Invalid Request");
	char *email = trim(p.email), *schema = trim(p.schema);
	if (strcmp(schema, EAS_AUTODISCOVER_NS_MOBILESYNC) != 0)
		return reply_error(c, 601, "Provider is not available for the requested schema");
	char address[EAS_MSTORE_NAME_SIZE + 64];
	if (!*email) {
		eas__srv_user_address(c, address, sizeof address);
		email = address;
	}
	const eas_server_config *cfg = eas__srv_config(c->srv);
	char url[600];
	if (cfg->public_url) {
		snprintf(url, sizeof url, "%s%s", cfg->public_url, EAS_SERVER_PATH);
	} else {
		const char *host = NULL;
		for (size_t i = 0; i < req->header_count; i++)
			if (req->headers[i].name && strlen(req->headers[i].name) == 4 &&
			    (req->headers[i].name[0] | 32) == 'h' && (req->headers[i].name[1] | 32) == 'o' &&
			    (req->headers[i].name[2] | 32) == 's' && (req->headers[i].name[3] | 32) == 't')
				host = req->headers[i].value;
		if (!host || !*host || strpbrk(host, "/\\ \t\r\n\"<>&"))
			return reply_error(c, 600, "no Host header to build the server URL from");
		snprintf(url, sizeof url, "https://%s%s", host, EAS_SERVER_PATH);
	}
	eas_buf b;
	eas_buf_init(&b, c->mem, 0);
	eas_buf_append_str(&b, "<?xml version=\"1.0\" encoding=\"utf-8\"?>\r\n<Autodiscover xmlns=\""
			       EAS_AUTODISCOVER_NS_RESPONSE "\"><Response xmlns=\"" EAS_AUTODISCOVER_NS_MOBILESYNC
			       "\"><Culture>en:us</Culture><User><DisplayName>");
	put_escaped(&b, c->user_name);
	eas_buf_append_str(&b, "</DisplayName><EMailAddress>");
	put_escaped(&b, email);
	eas_buf_append_str(&b, "</EMailAddress></User><Action><Settings><Server><Type>MobileSync</Type><Url>");
	put_escaped(&b, url);
	eas_buf_append_str(&b, "</Url><Name>");
	put_escaped(&b, url);
	eas_buf_append_str(&b, "</Name></Server></Settings></Action></Response></Autodiscover>");
	return reply_xml(c, &b);
}
