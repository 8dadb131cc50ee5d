/*
 * eas-sync --verbose: every HTTP exchange on stderr, its WBXML bodies
 * decoded to XML with the public converter (eas/wbxml_xml.h).
 *
 * Credentials never appear: the Authorization header is shown as
 * "[redacted]", and every line goes through redact_secrets() (a server that
 * echoes the password into a body gets it masked too).  Opaque values (a
 * message's MIME, an attachment) are shown as their length only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <eas/http.h>
#include <eas/status.h>
#include <eas/wbxml_xml.h>

#include "app.h"

#define TRACE_BODY_MAX (4u << 20) /* bodies above this are shown by size only */

typedef struct grow {
	char *data;
	size_t len, cap;
	int overflow;
} grow;

static int grow_add(grow *g, const void *bytes, size_t len)
{
	if (g->overflow || g->len + len > TRACE_BODY_MAX) {
		g->overflow = 1;
		return 0;
	}
	if (g->len + len + 1 > g->cap) {
		size_t cap = g->cap ? g->cap : 4096;
		while (cap < g->len + len + 1)
			cap *= 2;
		char *p = realloc(g->data, cap);
		if (!p) {
			g->overflow = 1;
			return 0;
		}
		g->data = p;
		g->cap = cap;
	}
	memcpy(g->data + g->len, bytes, len);
	g->len += len;
	g->data[g->len] = '\0';
	return 0;
}

static void grow_free(grow *g)
{
	free(g->data);
	memset(g, 0, sizeof *g);
}

/* The response being received. */
static struct {
	grow body;
	char content_type[128];
	int status;
} resp;

/* Prints text with every line prefixed, secrets masked. */
static void print_block(app *a, const char *prefix, char *text)
{
	redact_secrets(a, text);
	char *line = text;
	while (*line) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		fprintf(stderr, "%s%s\n", prefix, line);
		if (!nl)
			break;
		line = nl + 1;
	}
}

static int xml_sink(const char *text, size_t len, void *ud)
{
	return grow_add(ud, text, len);
}

static int is_wbxml(const char *content_type)
{
	return content_type && strncasecmp(content_type, "application/vnd.ms-sync.wbxml", 29) == 0;
}

/* Shows a body: WBXML decoded, XML or text as is, anything else by size. */
static void show_body(app *a, const char *prefix, const unsigned char *data, size_t len, const char *content_type,
		      int overflow)
{
	char line[200];
	if (overflow) {
		snprintf(line, sizeof line, "(body of more than %u bytes, not shown)", TRACE_BODY_MAX);
		fprintf(stderr, "%s%s\n", prefix, line);
		return;
	}
	if (len == 0)
		return;
	if (is_wbxml(content_type) || (!content_type && len >= 4 && data[0] == 0x03 && data[1] == 0x01)) {
		grow xml = { NULL, 0, 0, 0 };
		eas_wbxml_to_xml_options xo = EAS_WBXML_TO_XML_OPTIONS_INIT;
		xo.opaque = EAS_XML_OPAQUE_LENGTH;
		xo.declaration = 0;
		xo.doctype = 0;
		eas_wbxml_to_xml *conv = NULL;
		int rc = eas_wbxml_to_xml_new(&conv, xml_sink, &xo, NULL, &xml);
		if (rc == 0)
			rc = eas_wbxml_to_xml_feed(conv, data, len);
		if (rc == 0)
			rc = eas_wbxml_to_xml_finish(conv);
		fprintf(stderr, "%s(%zu bytes of WBXML)\n", prefix, len);
		if (xml.data)
			print_block(a, prefix, xml.data);
		if (rc) {
			uint64_t off = 0;
			const char *why = conv ? eas_wbxml_to_xml_error(conv, &off) : NULL;
			fprintf(stderr, "%s(not decodable at byte %llu: %s)\n", prefix, (unsigned long long)off,
				why ? why : eas_strerror(rc));
		}
		eas_wbxml_to_xml_free(conv);
		grow_free(&xml);
		return;
	}
	if (content_type && (strncasecmp(content_type, "text/", 5) == 0 || strstr(content_type, "xml"))) {
		grow copy = { NULL, 0, 0, 0 };
		grow_add(&copy, data, len);
		if (copy.data) {
			fprintf(stderr, "%s(%zu bytes of %s)\n", prefix, len, content_type);
			print_block(a, prefix, copy.data);
		}
		grow_free(&copy);
		return;
	}
	fprintf(stderr, "%s(%zu bytes of %s, not shown)\n", prefix, len, content_type ? content_type : "data");
}

/* "Cmd=Sync, user alice, device X" from the request line (either query form). */
static void show_query(const char *url)
{
	const char *q = strchr(url, '?');
	if (!q)
		return;
	eas_http_query query = EAS_HTTP_QUERY_INIT;
	if (eas_http_query_decode(&query, q + 1, strlen(q + 1), NULL) != 0)
		return;
	const char *name = eas_command_name(query.command);
	fprintf(stderr, "> (command %s, user %s, device type %s", name ? name : "?", query.user ? query.user : "-",
		query.device_type ? query.device_type : "-");
	if (query.protocol_version)
		fprintf(stderr, ", version %s", eas_protocol_version_name(query.protocol_version));
	if (query.has_policy_key)
		fprintf(stderr, ", policy key %lu", (unsigned long)query.policy_key);
	fputs(")\n", stderr);
	eas_http_query_clear(&query);
}

void trace_request(app *a, const eas_http_request *req)
{
	if (!a->o.verbose)
		return;
	char line[2300];
	snprintf(line, sizeof line, "%s %s", req->method ? req->method : "?", req->url ? req->url : "?");
	fputc('\n', stderr);
	print_block(a, "> ", line);
	if (req->url)
		show_query(req->url);
	const char *ct = NULL;
	for (size_t i = 0; i < req->header_count; i++) {
		const eas_http_header *h = &req->headers[i];
		int secret = strcasecmp(h->name, "Authorization") == 0 || strcasecmp(h->name, "Proxy-Authorization") == 0 ||
			     strcasecmp(h->name, "Cookie") == 0;
		snprintf(line, sizeof line, "%s: %s", h->name, secret ? "[redacted]" : h->value);
		print_block(a, "> ", line);
		if (strcasecmp(h->name, "Content-Type") == 0)
			ct = h->value;
	}
	if (req->body)
		show_body(a, "> ", req->body, (size_t)req->body_length, ct, req->body_length > TRACE_BODY_MAX);
	else if (req->body_read)
		fprintf(stderr, "> (%llu bytes streamed, not shown)\n", (unsigned long long)req->body_length);
}

void trace_response_head(app *a, int status, const eas_http_header *headers, size_t count)
{
	grow_free(&resp.body);
	resp.content_type[0] = '\0';
	resp.status = status;
	if (!a->o.verbose)
		return;
	const char *phrase = eas_http_status_text(status);
	fprintf(stderr, "< HTTP %d%s%s%s\n", status, phrase ? " (" : "", phrase ? phrase : "", phrase ? ")" : "");
	char line[1200];
	for (size_t i = 0; i < count; i++) {
		const eas_http_header *h = &headers[i];
		int secret = strcasecmp(h->name, "Set-Cookie") == 0 || strcasecmp(h->name, "Authorization") == 0;
		snprintf(line, sizeof line, "%s: %s", h->name, secret ? "[redacted]" : h->value);
		print_block(a, "< ", line);
		if (strcasecmp(h->name, "Content-Type") == 0)
			snprintf(resp.content_type, sizeof resp.content_type, "%s", h->value);
	}
}

void trace_response_body(app *a, const unsigned char *data, size_t len)
{
	if (!a->o.verbose)
		return;
	grow_add(&resp.body, data, len);
}

void trace_response_end(app *a, int error, const char *detail)
{
	if (a->o.verbose) {
		show_body(a, "< ", (const unsigned char *)resp.body.data, resp.body.len,
			  resp.content_type[0] ? resp.content_type : NULL, resp.body.overflow);
		if (error) {
			char line[600];
			snprintf(line, sizeof line, "(exchange failed: %s%s%s)", eas_strerror(error), detail ? ": " : "",
				 detail ? detail : "");
			print_block(a, "< ", line);
		}
	}
	grow_free(&resp.body);
}
