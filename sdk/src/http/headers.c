/* MS-ASHTTP request headers ([MS-ASHTTP] 2.2.1.1.2); see headers.h. */
#include "http/headers.h"

#include <stdint.h>
#include <string.h>

#include "common/base64.h"
#include "common/mem.h"

void eas__http_wipe(void *p, size_t n)
{
	volatile unsigned char *v = (volatile unsigned char *)p;
	while (n--)
		*v++ = 0;
}

static unsigned char lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

int eas__http_ascii_ieq(const char *a, const char *b)
{
	for (;; a++, b++) {
		if (lower((unsigned char)*a) != lower((unsigned char)*b))
			return 0;
		if (*a == '\0')
			return 1;
	}
}

const char *eas__http_header_get(const eas_http_header *headers, size_t count,
	const char *name)
{
	if (!headers || !name)
		return NULL;
	for (size_t i = 0; i < count; i++)
		if (headers[i].name && headers[i].value && eas__http_ascii_ieq(headers[i].name, name))
			return headers[i].value;
	return NULL;
}

/* ---- value checks --------------------------------------------------------------- */

/* Field value: no control characters except HTAB (RFC 9110 field-vchar / SP / HTAB). */
static int is_field_value(const char *s)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if ((*u < 0x20 && *u != '\t') || *u == 0x7F)
			return 0;
	return 1;
}

/* Non-empty field value without leading or trailing whitespace. */
static int is_nonempty_value(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || !is_field_value(s))
		return 0;
	return s[0] != ' ' && s[0] != '\t' && s[n - 1] != ' ' && s[n - 1] != '\t';
}

/* 1*(0x21-0x7E). */
static int is_visible(const char *s)
{
	if (!*s)
		return 0;
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u < 0x21 || *u > 0x7E)
			return 0;
	return 1;
}

/* RFC 7617: user-id and password carry no CTL; the user-id no ':'. */
static int is_basic_part(const char *s, int is_user)
{
	for (const unsigned char *u = (const unsigned char *)s; *u; u++) {
		if (*u < 0x20 || *u == 0x7F)
			return 0;
		if (is_user && *u == ':')
			return 0;
	}
	return 1;
}

/* ---- building -------------------------------------------------------------------- */

struct pending {
	const char *name;
	const char *value;     /* copied as is (NULL for Authorization) */
	size_t len;            /* bytes of the value, NUL excluded */
};

static int add(struct pending *list, size_t *n, const char *name, const char *value)
{
	if (*n >= EAS__HTTP_HEADERS_MAX)
		return EAS_E_INVALID; /* cannot happen: one slot per header kind */
	list[*n].name = name;
	list[*n].value = value;
	list[*n].len = value ? strlen(value) : 0;
	(*n)++;
	return 0;
}

static void clear_out(eas__http_headers *out, const eas_mem *mem)
{
	memset(out, 0, sizeof(*out));
	eas__mem_init(&out->mem, mem);
}

int eas__http_headers_build(eas__http_headers *out, const eas__http_header_params *p,
	const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	clear_out(out, mem);
	if (!p)
		return EAS_E_INVALID;

	struct pending list[EAS__HTTP_HEADERS_MAX];
	size_t n = 0;
	int rc;
	int post = !p->options_request;

	/* MS-ASProtocolVersion: required with the plain query, not with base64. */
	if (post && !p->base64_query) {
		const char *v = eas_protocol_version_name(p->protocol_version);
		if (!v)
			return EAS_E_INVALID;
		if ((rc = add(list, &n, "MS-ASProtocolVersion", v)) != 0)
			return rc;
	}

	/* X-MS-PolicyKey: a known key, plain query, not for Ping. */
	if (p->policy_key) {
		if (!is_visible(p->policy_key) || strlen(p->policy_key) > EAS__HTTP_POLICY_KEY_MAX)
			return EAS_E_INVALID;
		if (post && !p->base64_query && p->command != EAS_CMD_PING &&
		    (rc = add(list, &n, "X-MS-PolicyKey", p->policy_key)) != 0)
			return rc;
	}

	if (p->user_agent) {
		if (!is_nonempty_value(p->user_agent))
			return EAS_E_INVALID;
		if ((rc = add(list, &n, "User-Agent", p->user_agent)) != 0)
			return rc;
	}

	if (p->content_type && !is_nonempty_value(p->content_type))
		return EAS_E_INVALID;
	if (post && p->has_body) {
		const char *ct = p->content_type ? p->content_type : EAS__HTTP_CONTENT_TYPE_WBXML;
		if ((rc = add(list, &n, "Content-Type", ct)) != 0)
			return rc;
	}

	if (p->accept_multipart && post) {
		if (p->command != EAS_CMD_ITEM_OPERATIONS)
			return EAS_E_INVALID;
		if (!p->base64_query && (rc = add(list, &n, "MS-ASAcceptMultiPart", "T")) != 0)
			return rc;
	}

	if (p->accept_language) {
		if (!is_nonempty_value(p->accept_language))
			return EAS_E_INVALID;
		if ((rc = add(list, &n, "Accept-Language", p->accept_language)) != 0)
			return rc;
	}

	if (p->cookie) {
		if (!is_nonempty_value(p->cookie))
			return EAS_E_INVALID;
		if ((rc = add(list, &n, "Cookie", p->cookie)) != 0)
			return rc;
	}

	/* Authorization: its value is computed into the block below. */
	size_t user_len = 0, pass_len = 0, raw_len = 0, auth_len = 0;
	switch (p->auth) {
	case EAS__HTTP_AUTH_NONE:
		break;
	case EAS__HTTP_AUTH_BASIC:
		if (!p->user || !p->user[0] || !p->password || !is_basic_part(p->user, 1) ||
		    !is_basic_part(p->password, 0))
			return EAS_E_INVALID;
		user_len = strlen(p->user);
		pass_len = strlen(p->password);
		if (user_len > SIZE_MAX / 4 - 8 || pass_len > SIZE_MAX / 4 - 8 - user_len)
			return EAS_E_INVALID;
		raw_len = user_len + 1 + pass_len;
		auth_len = 6 + EAS__BASE64_ENCODED_LEN(raw_len); /* "Basic " */
		break;
	case EAS__HTTP_AUTH_BEARER:
		if (!p->token || !is_visible(p->token))
			return EAS_E_INVALID;
		auth_len = 7 + strlen(p->token); /* "Bearer " */
		break;
	default:
		return EAS_E_INVALID;
	}

	/* One block: every value with its NUL, then Authorization, then scratch. */
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += list[i].len + 1;
	if (p->auth != EAS__HTTP_AUTH_NONE)
		total += auth_len + 1;
	total += raw_len;
	if (total == 0)
		return 0;

	char *block = eas__malloc(&out->mem, total);
	if (!block)
		return EAS_E_NOMEM;
	char *w = block;
	for (size_t i = 0; i < n; i++) {
		memcpy(w, list[i].value, list[i].len + 1);
		out->items[i].name = list[i].name;
		out->items[i].value = w;
		w += list[i].len + 1;
	}
	out->count = n;

	if (p->auth == EAS__HTTP_AUTH_BASIC) {
		char *raw = w + auth_len + 1;
		memcpy(raw, p->user, user_len);
		raw[user_len] = ':';
		memcpy(raw + user_len + 1, p->password, pass_len);
		memcpy(w, "Basic ", 6);
		eas__base64_encode(w + 6, (const uint8_t *)raw, raw_len);
		eas__http_wipe(raw, raw_len);
	} else if (p->auth == EAS__HTTP_AUTH_BEARER) {
		memcpy(w, "Bearer ", 7);
		memcpy(w + 7, p->token, auth_len - 7 + 1);
	}
	if (p->auth != EAS__HTTP_AUTH_NONE) {
		out->items[out->count].name = "Authorization";
		out->items[out->count].value = w;
		out->count++;
	}
	out->block = block;
	out->block_size = total;
	return 0;
}

void eas__http_headers_free(eas__http_headers *h)
{
	if (!h)
		return;
	if (h->block) {
		eas__http_wipe(h->block, h->block_size);
		eas__free(&h->mem, h->block);
	}
	eas_mem mem = h->mem;
	memset(h, 0, sizeof(*h));
	h->mem = mem;
}
