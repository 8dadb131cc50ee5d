/*
 * MS-ASHTTP request-line query ([MS-ASHTTP] 2.2.1.1.1): plain and base64
 * forms, encoders for the client and one decoder for the server.
 */
#include "eas/http.h"

#include <stddef.h>
#include <string.h>

#include "common/base64.h"
#include "common/mem.h"
#include "common/percent.h"

/* ---- commands --------------------------------------------------------------- */

static const struct command_entry {
	eas_command command;
	const char *name;
} commands[] = {
	{ EAS_CMD_SYNC, "Sync" },
	{ EAS_CMD_SEND_MAIL, "SendMail" },
	{ EAS_CMD_SMART_FORWARD, "SmartForward" },
	{ EAS_CMD_SMART_REPLY, "SmartReply" },
	{ EAS_CMD_GET_ATTACHMENT, "GetAttachment" },
	{ EAS_CMD_FOLDER_SYNC, "FolderSync" },
	{ EAS_CMD_FOLDER_CREATE, "FolderCreate" },
	{ EAS_CMD_FOLDER_DELETE, "FolderDelete" },
	{ EAS_CMD_FOLDER_UPDATE, "FolderUpdate" },
	{ EAS_CMD_MOVE_ITEMS, "MoveItems" },
	{ EAS_CMD_GET_ITEM_ESTIMATE, "GetItemEstimate" },
	{ EAS_CMD_MEETING_RESPONSE, "MeetingResponse" },
	{ EAS_CMD_SEARCH, "Search" },
	{ EAS_CMD_SETTINGS, "Settings" },
	{ EAS_CMD_PING, "Ping" },
	{ EAS_CMD_ITEM_OPERATIONS, "ItemOperations" },
	{ EAS_CMD_PROVISION, "Provision" },
	{ EAS_CMD_RESOLVE_RECIPIENTS, "ResolveRecipients" },
	{ EAS_CMD_VALIDATE_CERT, "ValidateCert" },
	{ EAS_CMD_FIND, "Find" },
	{ EAS_CMD_GET_HIERARCHY, "GetHierarchy" },
	{ EAS_CMD_CREATE_COLLECTION, "CreateCollection" },
	{ EAS_CMD_DELETE_COLLECTION, "DeleteCollection" },
	{ EAS_CMD_MOVE_COLLECTION, "MoveCollection" },
	{ EAS_CMD_NOTIFY, "Notify" },
};
#define COMMAND_COUNT (sizeof(commands) / sizeof(commands[0]))

static unsigned char ascii_lower(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Case-insensitive compare of s[0..n) with the NUL-terminated word. */
static int ascii_ieq(const char *s, size_t n, const char *word)
{
	size_t i = 0;
	for (; i < n; i++) {
		if (word[i] == '\0')
			return 0;
		if (ascii_lower((unsigned char)s[i]) != ascii_lower((unsigned char)word[i]))
			return 0;
	}
	return word[i] == '\0';
}

static const struct command_entry *command_find_n(const char *name, size_t n)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (ascii_ieq(name, n, commands[i].name))
			return &commands[i];
	return NULL;
}

const char *eas_command_name(eas_command command)
{
	for (size_t i = 0; i < COMMAND_COUNT; i++)
		if (commands[i].command == command)
			return commands[i].name;
	return NULL;
}

int eas_command_lookup(const char *name)
{
	if (!name)
		return EAS_E_INVALID;
	const struct command_entry *e = command_find_n(name, strlen(name));
	return e ? (int)e->command : EAS_E_NOTFOUND;
}

/* ---- shared tables ------------------------------------------------------------ */

/* Protocol version byte of the base64 form: version x 10. */
static const struct {
	unsigned version;
	unsigned char byte;
} version_bytes[] = {
	{ EAS_PROTO_12_1, 121 },
	{ EAS_PROTO_14_0, 140 },
	{ EAS_PROTO_14_1, 141 },
	{ EAS_PROTO_16_0, 160 },
	{ EAS_PROTO_16_1, 161 },
};
#define VERSION_BYTE_COUNT (sizeof(version_bytes) / sizeof(version_bytes[0]))

/* Base64 parameter tags ([MS-ASHTTP] 2.2.1.1.1.1.3). */
enum {
	TAG_ATTACHMENT_NAME = 0,
	TAG_COLLECTION_ID = 1,
	TAG_LEGACY_2 = 2, /* CollectionName in 2009 drafts; unused now */
	TAG_ITEM_ID = 3,
	TAG_LONG_ID = 4,
	TAG_LEGACY_5 = 5, /* ParentId in 2009 drafts; unused now */
	TAG_OCCURRENCE = 6,
	TAG_OPTIONS = 7,
	TAG_USER = 8,
	TAG_LIMIT = 9
};

/* String parameters, in the order both encoders write them. */
static const struct string_param {
	unsigned char tag;
	const char *plain_name; /* NULL: not a plain command parameter */
	size_t offset;          /* of the const char * field in eas_http_query */
} string_params[] = {
	{ TAG_ATTACHMENT_NAME, "AttachmentName", offsetof(eas_http_query, attachment_name) },
	{ TAG_COLLECTION_ID, "CollectionId", offsetof(eas_http_query, collection_id) },
	{ TAG_ITEM_ID, "ItemId", offsetof(eas_http_query, item_id) },
	{ TAG_LONG_ID, "LongId", offsetof(eas_http_query, long_id) },
	{ TAG_OCCURRENCE, "Occurrence", offsetof(eas_http_query, occurrence) },
	{ TAG_USER, NULL, offsetof(eas_http_query, user) },
};
#define STRING_PARAM_COUNT (sizeof(string_params) / sizeof(string_params[0]))

static const char *get_string(const eas_http_query *q, const struct string_param *p)
{
	const char *const *field = (const char *const *)(const void *)((const char *)q + p->offset);
	return *field;
}

static void set_string(eas_http_query *q, const struct string_param *p, const char *value)
{
	const char **field = (const char **)(void *)((char *)q + p->offset);
	*field = value;
}

/* Largest byte sequence of the base64 form that the encoder can produce. */
#define RAW_MAX (4u + (1u + 255u) + (1u + 4u) + (1u + 255u) + \
	STRING_PARAM_COUNT * (2u + 255u) + 3u)

static int is_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alpha(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* ---- encoders ----------------------------------------------------------------- */

void eas_http_string_free(char *s, const eas_mem *mem)
{
	eas_mem m;
	eas__mem_init(&m, mem);
	eas__free(&m, s);
}

int eas_http_query_encode_base64(char **out, const eas_http_query *q, const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!q || q->version != EAS_HTTP_QUERY_VERSION || !eas_command_name(q->command))
		return EAS_E_INVALID;
	if (!EAS_COMMAND_HAS_CODE(q->command))
		return EAS_E_UNSUPPORTED;

	unsigned char version_byte = 0;
	for (size_t i = 0; i < VERSION_BYTE_COUNT; i++)
		if (version_bytes[i].version == q->protocol_version)
			version_byte = version_bytes[i].byte;
	if (!version_byte)
		return EAS_E_INVALID; /* 2.5 and 12.0 MUST use the plain form */
	if (!q->device_id || q->device_id_len == 0 || q->device_id_len > 255)
		return EAS_E_INVALID;
	size_t type_len = q->device_type ? strlen(q->device_type) : 0;
	if (type_len == 0 || type_len > 255)
		return EAS_E_INVALID;
	if (q->options > 0xFFu)
		return EAS_E_INVALID;
	for (size_t i = 0; i < STRING_PARAM_COUNT; i++) {
		const char *v = get_string(q, &string_params[i]);
		if (v && strlen(v) > 255)
			return EAS_E_INVALID;
	}

	uint8_t raw[RAW_MAX];
	size_t n = 0;
	raw[n++] = version_byte;
	raw[n++] = (uint8_t)q->command;
	raw[n++] = (uint8_t)(q->locale & 0xFFu);
	raw[n++] = (uint8_t)(q->locale >> 8);
	raw[n++] = (uint8_t)q->device_id_len;
	memcpy(raw + n, q->device_id, q->device_id_len);
	n += q->device_id_len;
	if (q->has_policy_key) {
		raw[n++] = 4;
		for (unsigned shift = 0; shift < 32; shift += 8)
			raw[n++] = (uint8_t)(q->policy_key >> shift);
	} else {
		raw[n++] = 0;
	}
	raw[n++] = (uint8_t)type_len;
	memcpy(raw + n, q->device_type, type_len);
	n += type_len;
	/* Parameters in tag order; Options (7) goes before User (8). */
	for (size_t i = 0; i < STRING_PARAM_COUNT; i++) {
		const struct string_param *p = &string_params[i];
		if (p->tag == TAG_USER && q->options) {
			raw[n++] = TAG_OPTIONS;
			raw[n++] = 1;
			raw[n++] = (uint8_t)q->options;
		}
		const char *v = get_string(q, p);
		if (!v)
			continue;
		size_t len = strlen(v);
		raw[n++] = p->tag;
		raw[n++] = (uint8_t)len;
		memcpy(raw + n, v, len);
		n += len;
	}

	eas_mem m;
	eas__mem_init(&m, mem);
	char *text = eas__malloc(&m, EAS__BASE64_ENCODED_LEN(n) + 1);
	if (!text)
		return EAS_E_NOMEM;
	eas__base64_encode(text, raw, n);
	*out = text;
	return 0;
}

/* Appends "&" (unless first) "name=" and the percent-encoded value; dst NULL = count. */
static size_t put_pair(char *dst, int first, const char *name, const char *value, size_t vlen)
{
	size_t nlen = strlen(name);
	size_t len = (first ? 0 : 1) + nlen + 1;
	if (dst) {
		char *p = dst;
		if (!first)
			*p++ = '&';
		memcpy(p, name, nlen);
		p += nlen;
		*p++ = '=';
		return len + eas__pct_encode(p, value, vlen);
	}
	return len + eas__pct_encoded_len(value, vlen);
}

/* Writes the plain query into dst (NULL = only measure); returns its length. */
static size_t plain_write(char *dst, const eas_http_query *q)
{
	size_t n = 0;
	const char *name = eas_command_name(q->command);
	n += put_pair(dst ? dst + n : NULL, 1, "Cmd", name, strlen(name));
	n += put_pair(dst ? dst + n : NULL, 0, "User", q->user, strlen(q->user));
	n += put_pair(dst ? dst + n : NULL, 0, "DeviceId", (const char *)q->device_id,
		q->device_id_len);
	n += put_pair(dst ? dst + n : NULL, 0, "DeviceType", q->device_type,
		strlen(q->device_type));
	for (size_t i = 0; i < STRING_PARAM_COUNT; i++) {
		const struct string_param *p = &string_params[i];
		const char *v = get_string(q, p);
		if (p->plain_name && v)
			n += put_pair(dst ? dst + n : NULL, 0, p->plain_name, v, strlen(v));
	}
	if (q->options & EAS_HTTP_OPTION_SAVE_IN_SENT)
		n += put_pair(dst ? dst + n : NULL, 0, "SaveInSent", "T", 1);
	if (dst)
		dst[n] = '\0';
	return n;
}

int eas_http_query_encode_plain(char **out, const eas_http_query *q, const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	*out = NULL;
	if (!q || q->version != EAS_HTTP_QUERY_VERSION || !eas_command_name(q->command))
		return EAS_E_INVALID;
	if (!q->user || !q->user[0] || !q->device_type || !q->device_type[0])
		return EAS_E_INVALID;
	if (!q->device_id || q->device_id_len == 0 ||
	    q->device_id_len > EAS_HTTP_PLAIN_DEVICE_ID_MAX)
		return EAS_E_INVALID;
	for (size_t i = 0; i < q->device_id_len; i++)
		if (!is_alnum(q->device_id[i]))
			return EAS_E_INVALID;
	for (size_t i = 0; i < STRING_PARAM_COUNT; i++) {
		const struct string_param *p = &string_params[i];
		const char *v = get_string(q, p);
		if (p->plain_name && v && !v[0])
			return EAS_E_INVALID;
	}

	eas_mem m;
	eas__mem_init(&m, mem);
	size_t len = plain_write(NULL, q);
	char *text = eas__malloc(&m, len + 1);
	if (!text)
		return EAS_E_NOMEM;
	plain_write(text, q);
	*out = text;
	return 0;
}

/* ---- decoder ------------------------------------------------------------------ */

static void query_reset(eas_http_query *q)
{
	eas_http_query init = EAS_HTTP_QUERY_INIT;
	*q = init;
}

void eas_http_query_clear(eas_http_query *q)
{
	if (!q)
		return;
	if (q->priv_block)
		eas__free(&q->priv_mem, q->priv_block);
	query_reset(q);
}

/* Takes the one block the decoded query owns. */
static char *take_block(eas_http_query *q, const eas_mem *m, size_t size)
{
	char *block = eas__malloc(m, size);
	if (block) {
		q->priv_block = block;
		q->priv_mem = *m;
	}
	return block;
}

/* Bytes of a length-prefixed sequence being parsed. */
typedef struct cursor {
	const uint8_t *p;
	size_t n;
	size_t pos;
} cursor;

static int take_bytes(cursor *c, size_t k, const uint8_t **v)
{
	if (c->n - c->pos < k)
		return EAS_E_MALFORMED;
	*v = c->p + c->pos;
	c->pos += k;
	return 0;
}

static int take_byte(cursor *c, unsigned *v)
{
	const uint8_t *b;
	int rc = take_bytes(c, 1, &b);
	if (rc == 0)
		*v = *b;
	return rc;
}

/* Copies n bytes and a NUL to *arena, returns the copy and advances. */
static const char *arena_put(char **arena, const uint8_t *v, size_t n)
{
	char *s = *arena;
	memcpy(s, v, n);
	s[n] = '\0';
	*arena += n + 1;
	return s;
}

/* A length-prefixed string value; no NUL bytes inside. */
static int take_string(cursor *c, char **arena, size_t len, const char **out)
{
	const uint8_t *v;
	if (take_bytes(c, len, &v) != 0 || memchr(v, 0, len))
		return EAS_E_MALFORMED;
	*out = arena_put(arena, v, len);
	return 0;
}

/* The decoded byte sequence of the base64 form, into q; strings into arena. */
static int parse_raw(eas_http_query *q, const uint8_t *raw, size_t raw_len, char *arena)
{
	cursor c = { raw, raw_len, 0 };
	unsigned byte, len;
	const uint8_t *v;

	if (take_byte(&c, &byte) != 0)
		return EAS_E_MALFORMED;
	for (size_t i = 0; i < VERSION_BYTE_COUNT; i++)
		if (version_bytes[i].byte == byte)
			q->protocol_version = version_bytes[i].version;
	if (!q->protocol_version)
		return EAS_E_MALFORMED;

	if (take_byte(&c, &byte) != 0)
		return EAS_E_MALFORMED;
	if (!eas_command_name((eas_command)byte))
		return EAS_E_MALFORMED; /* 5-8 and 24+ are not assigned */
	q->command = (eas_command)byte;

	if (take_bytes(&c, 2, &v) != 0)
		return EAS_E_MALFORMED;
	q->locale = (uint16_t)(v[0] | (v[1] << 8));

	if (take_byte(&c, &len) != 0 || len == 0 || take_bytes(&c, len, &v) != 0)
		return EAS_E_MALFORMED;
	q->device_id = (const uint8_t *)arena_put(&arena, v, len);
	q->device_id_len = len;

	if (take_byte(&c, &len) != 0 || (len != 0 && len != 4))
		return EAS_E_MALFORMED;
	if (len == 4) {
		if (take_bytes(&c, 4, &v) != 0)
			return EAS_E_MALFORMED;
		q->policy_key = (uint32_t)v[0] | ((uint32_t)v[1] << 8) |
			((uint32_t)v[2] << 16) | ((uint32_t)v[3] << 24);
		q->has_policy_key = 1;
	}

	if (take_byte(&c, &len) != 0 || len == 0 || take_string(&c, &arena, len, &q->device_type) != 0)
		return EAS_E_MALFORMED;

	unsigned seen = 0;
	while (c.pos < c.n) {
		unsigned tag;
		if (take_byte(&c, &tag) != 0 || take_byte(&c, &len) != 0)
			return EAS_E_MALFORMED;
		if (tag >= TAG_LIMIT || (seen & (1u << tag)))
			return EAS_E_MALFORMED;
		seen |= 1u << tag;
		if (tag == TAG_OPTIONS) {
			if (len != 1 || take_byte(&c, &byte) != 0)
				return EAS_E_MALFORMED;
			q->options = byte;
			continue;
		}
		if (tag == TAG_LEGACY_2 || tag == TAG_LEGACY_5) {
			if (take_bytes(&c, len, &v) != 0)
				return EAS_E_MALFORMED;
			continue;
		}
		for (size_t i = 0; i < STRING_PARAM_COUNT; i++) {
			if (string_params[i].tag != tag)
				continue;
			const char *s;
			if (take_string(&c, &arena, len, &s) != 0)
				return EAS_E_MALFORMED;
			set_string(q, &string_params[i], s);
		}
	}
	return 0;
}

static int decode_base64(eas_http_query *q, const char *query, size_t len, const eas_mem *m)
{
	/*
	 * One block: [strings of the result: raw_max][scratch: len].  Each
	 * stored value takes its length + 1 (NUL), never more than it takes in
	 * the raw bytes (length + 1 or 2 for the length and tag bytes), so
	 * raw_max bytes hold them all.
	 */
	size_t raw_max = EAS__BASE64_DECODED_MAX(len);
	char *block = take_block(q, m, raw_max + len);
	if (!block)
		return EAS_E_NOMEM;
	char *scratch = block + raw_max;

	/* Undo the escapes a proxy or client may have put on '+', '/', '='. */
	size_t text_len = 0;
	for (size_t i = 0; i < len; i++) {
		char ch = query[i];
		if (ch == '%') {
			if (len - i < 3 || (query[i + 1] != '2' && query[i + 1] != '3'))
				return EAS_E_MALFORMED;
			char lo = (char)ascii_lower((unsigned char)query[i + 2]);
			if (query[i + 1] == '2' && lo == 'b')
				ch = '+';
			else if (query[i + 1] == '2' && lo == 'f')
				ch = '/';
			else if (query[i + 1] == '3' && lo == 'd')
				ch = '=';
			else
				return EAS_E_MALFORMED;
			i += 2;
		}
		scratch[text_len++] = ch;
	}

	size_t raw_len;
	if (eas__base64_decode((uint8_t *)scratch, &raw_len, scratch, text_len,
		EAS__BASE64_PAD_OPTIONAL) != 0)
		return EAS_E_MALFORMED;
	return parse_raw(q, (const uint8_t *)scratch, raw_len, block);
}

/* Plain-form parameters the decoder knows; bit i of the "seen" mask. */
enum {
	PLAIN_CMD,
	PLAIN_USER,
	PLAIN_DEVICE_ID,
	PLAIN_DEVICE_TYPE,
	PLAIN_SAVE_IN_SENT,
	PLAIN_STRING_PARAM /* + index into string_params */
};

static int plain_param_index(const char *name, size_t n)
{
	static const char *const fixed[] = { "Cmd", "User", "DeviceId", "DeviceType", "SaveInSent" };
	for (int i = 0; i < (int)(sizeof(fixed) / sizeof(fixed[0])); i++)
		if (ascii_ieq(name, n, fixed[i]))
			return i;
	for (size_t i = 0; i < STRING_PARAM_COUNT; i++)
		if (string_params[i].plain_name && ascii_ieq(name, n, string_params[i].plain_name))
			return PLAIN_STRING_PARAM + (int)i;
	return -1;
}

/* Percent-decodes a value into *arena (NUL added); no NUL bytes allowed. */
static int plain_value(char **arena, const char *v, size_t vlen, const char **out, size_t *out_len)
{
	size_t n;
	char *s = *arena;
	if (eas__pct_decode(s, &n, v, vlen, EAS__PCT_PLUS_SPACE) != 0 || n == 0 || memchr(s, 0, n))
		return EAS_E_MALFORMED;
	s[n] = '\0';
	*arena += n + 1;
	*out = s;
	if (out_len)
		*out_len = n;
	return 0;
}

static int decode_plain(eas_http_query *q, const char *query, size_t len, const eas_mem *m)
{
	/* Every byte must be a VCHAR: spaces, controls and raw non-ASCII are escaped. */
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)query[i] < 0x21 || (unsigned char)query[i] > 0x7E)
			return EAS_E_MALFORMED;

	/*
	 * Stored values decode to at most their encoded length; at most
	 * 3 + STRING_PARAM_COUNT of them, each with a NUL.
	 */
	char *arena = take_block(q, m, len + 4 + STRING_PARAM_COUNT);
	if (!arena)
		return EAS_E_NOMEM;

	unsigned seen = 0;
	size_t pos = 0;
	for (;;) {
		const char *seg = query + pos;
		const char *amp = memchr(seg, '&', len - pos);
		size_t seg_len = amp ? (size_t)(amp - seg) : len - pos;
		const char *eq = memchr(seg, '=', seg_len);
		if (!eq)
			return EAS_E_MALFORMED;
		size_t name_len = (size_t)(eq - seg);
		const char *v = eq + 1;
		size_t vlen = seg_len - name_len - 1;
		if (name_len == 0 || vlen == 0)
			return EAS_E_MALFORMED;
		for (size_t i = 0; i < name_len; i++)
			if (!is_alpha((unsigned char)seg[i]))
				return EAS_E_MALFORMED;

		int idx = plain_param_index(seg, name_len);
		if (idx >= 0) {
			if (seen & (1u << idx))
				return EAS_E_MALFORMED;
			seen |= 1u << idx;
		}
		char small[24];
		size_t n;
		const char *s;
		switch (idx) {
		case -1:
			break; /* another parameter: ignored */
		case PLAIN_CMD: {
			if (vlen > sizeof(small) ||
			    eas__pct_decode(small, &n, v, vlen, EAS__PCT_PLUS_SPACE) != 0)
				return EAS_E_MALFORMED;
			const struct command_entry *e = command_find_n(small, n);
			if (!e || memchr(small, 0, n))
				return EAS_E_MALFORMED;
			q->command = e->command;
			break;
		}
		case PLAIN_USER:
			if (plain_value(&arena, v, vlen, &q->user, NULL) != 0)
				return EAS_E_MALFORMED;
			break;
		case PLAIN_DEVICE_ID:
			if (plain_value(&arena, v, vlen, &s, &n) != 0 || n > EAS_HTTP_PLAIN_DEVICE_ID_MAX)
				return EAS_E_MALFORMED;
			for (size_t i = 0; i < n; i++)
				if (!is_alnum((unsigned char)s[i]))
					return EAS_E_MALFORMED;
			q->device_id = (const uint8_t *)s;
			q->device_id_len = n;
			break;
		case PLAIN_DEVICE_TYPE:
			if (plain_value(&arena, v, vlen, &q->device_type, NULL) != 0)
				return EAS_E_MALFORMED;
			break;
		case PLAIN_SAVE_IN_SENT:
			if (vlen > sizeof(small) ||
			    eas__pct_decode(small, &n, v, vlen, EAS__PCT_PLUS_SPACE) != 0 || n != 1)
				return EAS_E_MALFORMED;
			if (small[0] == 'T')
				q->options |= EAS_HTTP_OPTION_SAVE_IN_SENT;
			else if (small[0] != 'F')
				return EAS_E_MALFORMED;
			break;
		default:
			if (plain_value(&arena, v, vlen, &s, NULL) != 0)
				return EAS_E_MALFORMED;
			set_string(q, &string_params[idx - PLAIN_STRING_PARAM], s);
			break;
		}

		if (!amp)
			break;
		pos += seg_len + 1;
		if (pos == len)
			return EAS_E_MALFORMED; /* trailing '&' */
	}

	const unsigned required = (1u << PLAIN_CMD) | (1u << PLAIN_USER) |
		(1u << PLAIN_DEVICE_ID) | (1u << PLAIN_DEVICE_TYPE);
	if ((seen & required) != required)
		return EAS_E_MALFORMED;
	return 0;
}

static int is_plain_form(const char *query, size_t len)
{
	return memchr(query, '&', len) != NULL || (len >= 4 && ascii_ieq(query, 4, "Cmd="));
}

int eas_http_query_decode(eas_http_query *out, const char *query, size_t len,
	const eas_mem *mem)
{
	if (!out)
		return EAS_E_INVALID;
	query_reset(out);
	if (!query && len)
		return EAS_E_INVALID;
	if (len && query[0] == '?') {
		query++;
		len--;
	}
	if (len == 0 || len > EAS_HTTP_QUERY_MAX_LEN)
		return EAS_E_MALFORMED;

	eas_mem m;
	eas__mem_init(&m, mem);
	int rc = is_plain_form(query, len) ? decode_plain(out, query, len, &m)
	                                   : decode_base64(out, query, len, &m);
	if (rc != 0) {
		eas_http_query_clear(out);
		return rc;
	}
	return 0;
}
