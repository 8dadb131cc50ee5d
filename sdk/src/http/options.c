/*
 * OPTIONS: MS-ASProtocolVersions / MS-ASProtocolCommands parsing and
 * formatting, version negotiation, local command checks.  See options.h and
 * the OPTIONS section of eas/http.h.
 */
#include "http/options.h"

#include <stdio.h>
#include <string.h>

#include "http/headers.h"

/* Versions, lowest first. */
static const unsigned all_versions[] = {
	EAS_PROTO_2_5, EAS_PROTO_12_0, EAS_PROTO_12_1, EAS_PROTO_14_0,
	EAS_PROTO_14_1, EAS_PROTO_16_0, EAS_PROTO_16_1,
};
#define VERSION_COUNT (sizeof(all_versions) / sizeof(all_versions[0]))

/*
 * Every command, in the order Exchange lists them in MS-ASProtocolCommands,
 * with the versions it exists in ([MS-ASCMD] 2.2.1.x "Protocol version N
 * supports this command").
 */
static const struct {
	eas_command command;
	unsigned versions;
} command_table[] = {
	{ EAS_CMD_SYNC, EAS_PROTO_ALL },
	{ EAS_CMD_SEND_MAIL, EAS_PROTO_ALL },
	{ EAS_CMD_SMART_FORWARD, EAS_PROTO_ALL },
	{ EAS_CMD_SMART_REPLY, EAS_PROTO_ALL },
	/* Not supported from 14.0 on (2.2.1.7). */
	{ EAS_CMD_GET_ATTACHMENT, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
	/* Legacy: GetHierarchy is 12.1 at most (2.2.1.8); the others are older still. */
	{ EAS_CMD_GET_HIERARCHY, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
	{ EAS_CMD_CREATE_COLLECTION, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
	{ EAS_CMD_DELETE_COLLECTION, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
	{ EAS_CMD_MOVE_COLLECTION, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
	{ EAS_CMD_FOLDER_SYNC, EAS_PROTO_ALL },
	{ EAS_CMD_FOLDER_CREATE, EAS_PROTO_ALL },
	{ EAS_CMD_FOLDER_DELETE, EAS_PROTO_ALL },
	{ EAS_CMD_FOLDER_UPDATE, EAS_PROTO_ALL },
	{ EAS_CMD_MOVE_ITEMS, EAS_PROTO_ALL },
	{ EAS_CMD_GET_ITEM_ESTIMATE, EAS_PROTO_ALL },
	{ EAS_CMD_MEETING_RESPONSE, EAS_PROTO_ALL },
	{ EAS_CMD_SEARCH, EAS_PROTO_ALL },
	/* ItemOperations and Settings arrived with 12.0. */
	{ EAS_CMD_SETTINGS, EAS_PROTO_FROM(EAS_PROTO_12_0) },
	{ EAS_CMD_PING, EAS_PROTO_ALL },
	{ EAS_CMD_ITEM_OPERATIONS, EAS_PROTO_FROM(EAS_PROTO_12_0) },
	{ EAS_CMD_PROVISION, EAS_PROTO_ALL },
	{ EAS_CMD_RESOLVE_RECIPIENTS, EAS_PROTO_ALL },
	{ EAS_CMD_VALIDATE_CERT, EAS_PROTO_ALL },
	{ EAS_CMD_FIND, EAS_PROTO_16_1 },
	{ EAS_CMD_NOTIFY, EAS_PROTO_UPTO(EAS_PROTO_12_1) },
};
#define COMMAND_TABLE_COUNT (sizeof(command_table) / sizeof(command_table[0]))

/* ---- list walking ---------------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Calls fn(item, item_len, ctx) for every non-empty, trimmed item of the
 * comma list; returns how many items fn rejected.
 */
typedef int (*item_fn)(const char *item, size_t len, void *ctx);

static int walk_list(const char *text, size_t len, item_fn fn, void *ctx)
{
	int rejected = 0;
	size_t i = 0;
	while (i < len) {
		size_t start = i;
		while (i < len && text[i] != ',')
			i++;
		size_t end = i;
		while (start < end && is_space(text[start]))
			start++;
		while (end > start && is_space(text[end - 1]))
			end--;
		if (end > start && !fn(text + start, end - start, ctx))
			rejected++;
		i++; /* skip the ',' (or step past the end) */
	}
	return rejected;
}

/* Copies an item into a NUL-terminated buffer; 0 if it does not fit or holds a NUL. */
static int copy_item(char *buf, size_t size, const char *item, size_t len)
{
	if (len >= size || memchr(item, '\0', len))
		return 0;
	memcpy(buf, item, len);
	buf[len] = '\0';
	return 1;
}

static int version_item(const char *item, size_t len, void *ctx)
{
	char buf[8];
	unsigned v;
	if (!copy_item(buf, sizeof(buf), item, len) || eas_protocol_version_parse(&v, buf) != 0)
		return 0;
	*(unsigned *)ctx |= v;
	return 1;
}

static int command_item(const char *item, size_t len, void *ctx)
{
	char buf[32];
	if (!copy_item(buf, sizeof(buf), item, len))
		return 0;
	int c = eas_command_lookup(buf);
	if (c < 0)
		return 0;
	*(uint64_t *)ctx |= EAS_COMMAND_BIT(c);
	return 1;
}

int eas_http_versions_parse(unsigned *out, const char *text, size_t len)
{
	if (!out || (!text && len > 0))
		return EAS_E_INVALID;
	*out = 0;
	return text ? walk_list(text, len, version_item, out) : 0;
}

int eas_http_commands_parse(uint64_t *out, const char *text, size_t len)
{
	if (!out || (!text && len > 0))
		return EAS_E_INVALID;
	*out = 0;
	return text ? walk_list(text, len, command_item, out) : 0;
}

/* ---- negotiation ------------------------------------------------------------------ */

unsigned eas_http_pick_version(unsigned server_set, unsigned client_set, unsigned preferred_max)
{
	unsigned common = server_set & (client_set ? client_set : EAS_PROTO_ALL) & EAS_PROTO_ALL;
	if (preferred_max)
		common &= EAS_PROTO_UPTO(preferred_max & EAS_PROTO_ALL);
	for (size_t i = VERSION_COUNT; i-- > 0;)
		if (common & all_versions[i])
			return all_versions[i];
	return 0;
}

unsigned eas_command_versions(eas_command command)
{
	for (size_t i = 0; i < COMMAND_TABLE_COUNT; i++)
		if (command_table[i].command == command)
			return command_table[i].versions;
	return 0;
}

static int is_one_version(unsigned v)
{
	return v != 0 && (v & (v - 1)) == 0 && (v & ~EAS_PROTO_ALL) == 0;
}

int eas_http_command_supported(uint64_t server_commands, unsigned version, eas_command command)
{
	unsigned versions = eas_command_versions(command);
	if (!versions)
		return 0;
	if (version && (!is_one_version(version) || !(versions & version)))
		return 0;
	if (server_commands && !(server_commands & EAS_COMMAND_BIT(command)))
		return 0;
	return 1;
}

/* ---- formatting --------------------------------------------------------------------- */

static int append(char *buf, size_t size, size_t *pos, const char *s)
{
	size_t len = strlen(s);
	size_t sep = *pos > 0 ? 1 : 0;
	if (*pos + sep + len + 1 > size)
		return 0;
	if (sep)
		buf[(*pos)++] = ',';
	memcpy(buf + *pos, s, len + 1);
	*pos += len;
	return 1;
}

int eas_http_versions_format(char *buf, size_t size, unsigned set)
{
	if (!buf)
		return EAS_E_INVALID;
	size_t pos = 0;
	if (size == 0)
		return EAS_E_LIMIT;
	buf[0] = '\0';
	for (size_t i = 0; i < VERSION_COUNT; i++) {
		if (!(set & all_versions[i]))
			continue;
		if (!append(buf, size, &pos, eas_protocol_version_name(all_versions[i]))) {
			buf[0] = '\0';
			return EAS_E_LIMIT;
		}
	}
	return (int)pos;
}

int eas_http_commands_format(char *buf, size_t size, uint64_t set)
{
	if (!buf)
		return EAS_E_INVALID;
	size_t pos = 0;
	if (size == 0)
		return EAS_E_LIMIT;
	buf[0] = '\0';
	for (size_t i = 0; i < COMMAND_TABLE_COUNT; i++) {
		if (!(set & EAS_COMMAND_BIT(command_table[i].command)))
			continue;
		if (!append(buf, size, &pos, eas_command_name(command_table[i].command))) {
			buf[0] = '\0';
			return EAS_E_LIMIT;
		}
	}
	return (int)pos;
}

/* ---- the header list ------------------------------------------------------------------ */

int eas__http_caps_parse(eas__http_caps *out, const eas_http_header *headers, size_t count)
{
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof(*out));
	if (!headers && count > 0)
		return EAS_E_INVALID;
	for (size_t i = 0; i < count; i++) {
		const char *name = headers[i].name, *value = headers[i].value;
		if (!name || !value)
			continue;
		if (eas__http_ascii_ieq(name, "MS-ASProtocolVersions")) {
			unsigned v;
			int skipped = eas_http_versions_parse(&v, value, strlen(value));
			out->versions |= v;
			out->unknown_versions += (unsigned)skipped;
			out->has_versions = 1;
		} else if (eas__http_ascii_ieq(name, "MS-ASProtocolCommands")) {
			uint64_t c;
			int skipped = eas_http_commands_parse(&c, value, strlen(value));
			out->commands |= c;
			out->unknown_commands += (unsigned)skipped;
			out->has_commands = 1;
		}
	}
	return out->versions ? 0 : EAS_E_PROTOCOL;
}

/* "16.1", or "2.5 to 12.1" for a run of versions. */
static void describe_versions(char *buf, size_t size, unsigned set)
{
	const char *lo = NULL, *hi = NULL;
	for (size_t i = 0; i < VERSION_COUNT; i++) {
		if (set & all_versions[i]) {
			if (!lo)
				lo = eas_protocol_version_name(all_versions[i]);
			hi = eas_protocol_version_name(all_versions[i]);
		}
	}
	if (!lo)
		snprintf(buf, size, "none");
	else if (lo == hi)
		snprintf(buf, size, "%s", lo);
	else
		snprintf(buf, size, "%s to %s", lo, hi);
}

int eas__http_caps_check(const eas__http_caps *caps, unsigned version, eas_command command,
	char *msg, size_t msg_size)
{
	const char *name = eas_command_name(command);
	unsigned versions = eas_command_versions(command);
	if (!caps || !name || !versions)
		return EAS_E_INVALID;
	if (msg && msg_size > 0)
		msg[0] = '\0';

	if (version && (!is_one_version(version) || !(versions & version))) {
		if (msg && msg_size > 0) {
			char range[24];
			const char *vname = eas_protocol_version_name(version);
			describe_versions(range, sizeof(range), versions);
			snprintf(msg, msg_size, "%s is not available in protocol version %s (only %s)",
				 name, vname ? vname : "?", range);
		}
		return EAS_E_UNSUPPORTED;
	}
	if (caps->has_commands && !(caps->commands & EAS_COMMAND_BIT(command))) {
		if (msg && msg_size > 0)
			snprintf(msg, msg_size,
				 "the server does not offer the %s command (MS-ASProtocolCommands)",
				 name);
		return EAS_E_UNSUPPORTED;
	}
	return 0;
}
