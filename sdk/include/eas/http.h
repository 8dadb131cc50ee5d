/*
 * libeas — MS-ASHTTP request-line query: the part of
 * "POST /Microsoft-Server-ActiveSync?<query>" after the '?'.
 *
 * Two wire forms exist ([MS-ASHTTP] 2.2.1.1.1):
 *
 *  - plain text, allowed in every protocol version and required for 2.5
 *    and 12.0:  Cmd=Sync&User=jdoe&DeviceId=ABC123&DeviceType=SmartPhone
 *    followed by optional "&Name=Value" command parameters.  The protocol
 *    version, policy key and AcceptMultiPart travel in HTTP headers
 *    (MS-ASProtocolVersion, X-MS-PolicyKey, MS-ASAcceptMultiPart), not in
 *    the query.
 *
 *  - base64, for 12.1, 14.0, 14.1, 16.0 and 16.1 only: the RFC 4648/2045
 *    base64 text of the byte sequence
 *        version(1) command(1) locale(2, little-endian) devid_len(1) devid
 *        policykey_len(1, 0 or 4) policykey(0|4, little-endian)
 *        devtype_len(1) devtype  { tag(1) len(1) value(len) }*
 *    Version, locale and policy key replace the headers above, which the
 *    client then SHOULD NOT send.
 *
 * One struct describes a query in either form.  The client fills it and
 * calls an encoder; the companion server calls eas_http_query_decode(),
 * which detects the form.
 *
 * Error codes used by this module:
 *   EAS_E_INVALID      a NULL or inconsistent argument (encoders: a field
 *                      that the chosen form cannot carry, see each function)
 *   EAS_E_UNSUPPORTED  base64 encoding asked for a command that has no
 *                      base64 command code (the legacy commands)
 *   EAS_E_NOMEM        an allocation through the eas_mem hooks failed
 *   EAS_E_MALFORMED    (decoder only) the query does not follow either form
 */
#ifndef EAS_HTTP_H
#define EAS_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- commands --------------------------------------------------------------- */

/*
 * ActiveSync commands.  For every command that has a base64 command code
 * ([MS-ASHTTP] 2.2.1.1.1.1.2) the enum value IS that code.  Codes 5-8 are
 * not assigned by the current specification.
 *
 * The legacy ActiveSync 1.0/2.x commands (values from 0x100 up) have no
 * base64 code; they can only appear in the plain form, and servers still
 * list some of them in the MS-ASProtocolCommands OPTIONS header.
 */
typedef enum eas_command {
	EAS_CMD_SYNC = 0,
	EAS_CMD_SEND_MAIL = 1,
	EAS_CMD_SMART_FORWARD = 2,
	EAS_CMD_SMART_REPLY = 3,
	EAS_CMD_GET_ATTACHMENT = 4,
	EAS_CMD_FOLDER_SYNC = 9,
	EAS_CMD_FOLDER_CREATE = 10,
	EAS_CMD_FOLDER_DELETE = 11,
	EAS_CMD_FOLDER_UPDATE = 12,
	EAS_CMD_MOVE_ITEMS = 13,
	EAS_CMD_GET_ITEM_ESTIMATE = 14,
	EAS_CMD_MEETING_RESPONSE = 15,
	EAS_CMD_SEARCH = 16,
	EAS_CMD_SETTINGS = 17,
	EAS_CMD_PING = 18,
	EAS_CMD_ITEM_OPERATIONS = 19,
	EAS_CMD_PROVISION = 20,
	EAS_CMD_RESOLVE_RECIPIENTS = 21,
	EAS_CMD_VALIDATE_CERT = 22,
	EAS_CMD_FIND = 23, /* 16.1 */

	/* Legacy, plain form only. */
	EAS_CMD_GET_HIERARCHY = 0x100,
	EAS_CMD_CREATE_COLLECTION = 0x101,
	EAS_CMD_DELETE_COLLECTION = 0x102,
	EAS_CMD_MOVE_COLLECTION = 0x103,
	EAS_CMD_NOTIFY = 0x104
} eas_command;

/* Non-zero when command c has a base64 command code (the enum value). */
#define EAS_COMMAND_HAS_CODE(c) ((unsigned)(c) <= 0xFFu)

/*
 * The command's name as written in the plain query and in OPTIONS
 * ("Sync", "FolderSync", ...).  Static storage; NULL for a value that is
 * not an eas_command.
 */
EAS_EXTERN const char *eas_command_name(eas_command command);

/*
 * The command named `name` (ASCII case-insensitive, NUL-terminated), as a
 * non-negative eas_command value; EAS_E_NOTFOUND if there is none,
 * EAS_E_INVALID if name is NULL.
 */
EAS_EXTERN int eas_command_lookup(const char *name);

/* ---- the query ---------------------------------------------------------------- */

/* Bits of eas_http_query.options (base64 parameter tag 7). */
#define EAS_HTTP_OPTION_SAVE_IN_SENT 0x01u     /* SendMail, SmartForward, SmartReply */
#define EAS_HTTP_OPTION_ACCEPT_MULTIPART 0x02u /* ItemOperations */

/* Longest query, in bytes, that eas_http_query_decode() accepts. */
#define EAS_HTTP_QUERY_MAX_LEN 16384u
/* Longest DeviceId of the plain form ([MS-ASHTTP] device-id = 1*32(ALPHA / DIGIT)). */
#define EAS_HTTP_PLAIN_DEVICE_ID_MAX 32u

#define EAS_HTTP_QUERY_VERSION 1

/*
 * A request query in either form.
 *
 * Filled by the caller for the encoders: every pointer is borrowed for the
 * duration of the call only.  Start from EAS_HTTP_QUERY_INIT.  A NULL
 * optional string means "absent"; an empty one ("") is present and empty
 * (base64 form only: the plain grammar has no empty values).
 *
 * Filled by eas_http_query_decode(): every pointer then points into one
 * block owned by the struct, valid until eas_http_query_clear().
 */
typedef struct eas_http_query {
	int version; /* EAS_HTTP_QUERY_VERSION */

	eas_command command;

	/*
	 * One EAS_PROTO_* bit.  Base64 form only (12.1 or later); 0 after
	 * decoding a plain query, whose version is the MS-ASProtocolVersion
	 * header.  Ignored by the plain encoder.
	 */
	unsigned protocol_version;

	/* Windows LCID, e.g. 0x0409 for en-US.  Base64 form only. */
	uint16_t locale;

	/*
	 * Device id: bytes and length (required, non-empty).  The base64 form
	 * carries 1-255 arbitrary bytes (often a binary 16-byte GUID); the plain
	 * form only 1-32 ASCII letters and digits.  After decoding, a NUL
	 * follows the bytes (not counted in device_id_len), though the bytes
	 * may themselves contain NULs in the base64 form.
	 */
	const uint8_t *device_id;
	size_t device_id_len;

	/*
	 * Policy key, base64 form only (the plain form uses X-MS-PolicyKey).
	 * Left out when has_policy_key is 0, as on the initial Provision.
	 */
	uint32_t policy_key;
	int has_policy_key;

	/* Device type, e.g. "SmartPhone" (required, non-empty). */
	const char *device_type;

	/*
	 * User logon name, e.g. "jdoe", "DOMAIN\\jdoe" or a UPN.  Required in
	 * the plain form; optional (tag 8) in the base64 form.
	 */
	const char *user;

	/* Command parameters; NULL when absent. */
	const char *attachment_name; /* GetAttachment (tag 0) */
	const char *collection_id;   /* SmartForward, SmartReply (tag 1) */
	const char *item_id;         /* SmartForward, SmartReply (tag 3) */
	const char *long_id;         /* SmartForward, SmartReply (tag 4) */
	const char *occurrence;      /* SmartForward, SmartReply (tag 6) */

	/*
	 * EAS_HTTP_OPTION_* bits (tag 7, one byte; other bits are kept as
	 * received).  0 = tag left out.  The plain form carries only
	 * SAVE_IN_SENT (as SaveInSent=T); AcceptMultiPart is then the
	 * MS-ASAcceptMultiPart header, so the plain encoder ignores that bit.
	 */
	unsigned options;

	/* Private: the block owned after decoding and the hooks that free it. */
	void *priv_block;
	eas_mem priv_mem;
} eas_http_query;

#define EAS_HTTP_QUERY_INIT { EAS_HTTP_QUERY_VERSION, EAS_CMD_SYNC, 0, 0, NULL, 0, 0, 0, \
	NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL, { NULL, NULL, NULL, NULL } }

/*
 * Encodes q as a base64 query.  On success *out is a new NUL-terminated
 * string allocated through mem (NULL = libc); release it with
 * eas_http_string_free() and the same mem.  On failure *out is NULL.
 *
 * The text is standard base64 (alphabet A-Z a-z 0-9 '+' '/', '=' padding)
 * and is already URL-ready: RFC 3986 allows '+', '/' and '=' unescaped in
 * a query, and servers that base64-decode the raw query string expect
 * them unescaped, so no percent-encoding is applied.  Append it after '?'.
 *
 * Returns 0, EAS_E_NOMEM, EAS_E_UNSUPPORTED (command without a base64
 * code) or EAS_E_INVALID: out or q NULL, q->version wrong, unknown
 * command, protocol_version not one of 12.1/14.0/14.1/16.0/16.1, device id
 * missing or longer than 255 bytes, device type missing, empty or longer
 * than 255 bytes, a parameter longer than 255 bytes, options > 0xFF.
 */
EAS_EXTERN int eas_http_query_encode_base64(char **out, const eas_http_query *q,
	const eas_mem *mem);

/*
 * Encodes q as a plain query:
 *   Cmd=<name>&User=<u>&DeviceId=<id>&DeviceType=<t>[&AttachmentName=..]
 *   [&CollectionId=..][&ItemId=..][&LongId=..][&Occurrence=..][&SaveInSent=T]
 * Values are percent-encoded: every byte except ALPHA, DIGIT, '-', '.',
 * '_' and '~' becomes %XX (upper-case hex), so '+' is "%2B", a space
 * "%20" and '\' "%5C".  protocol_version, locale, the policy key and the
 * AcceptMultiPart bit are not part of this form (send them as headers).
 *
 * *out and mem as for eas_http_query_encode_base64().
 * Returns 0, EAS_E_NOMEM or EAS_E_INVALID: out or q NULL, q->version
 * wrong, unknown command, user missing or empty, device id not 1-32
 * ASCII letters or digits, device type missing or empty, an empty
 * parameter string.
 */
EAS_EXTERN int eas_http_query_encode_plain(char **out, const eas_http_query *q,
	const eas_mem *mem);

/* Frees a string returned by an encoder (NULL is fine); mem as given to it. */
EAS_EXTERN void eas_http_string_free(char *s, const eas_mem *mem);

/*
 * Decodes the query (the bytes after '?'; one leading '?' is skipped),
 * `len` bytes that need not be NUL-terminated.  The form is detected: the
 * plain form contains '&' or starts with "Cmd="; anything else must be
 * base64.
 *
 * Base64 form: '+', '/' and '=' may also arrive as %2B, %2F, %3D (any hex
 * case).  Padding may be left out.  The version byte must be 121, 140, 141,
 * 160 or 161, the command code one of the assigned codes, the device id
 * non-empty, the policy key length 0 or 4, the device type non-empty, and
 * every length must fit in the remaining bytes.  Parameters may come in
 * any order, each tag at most once; tags 2 and 5 (CollectionName and
 * ParentId in 2009 drafts, unused now) are checked and skipped; any other
 * unknown tag is an error.  Options must be exactly one byte; string values
 * must not contain NUL bytes.
 *
 * Plain form: the four required parameters in any order, names matched
 * ASCII case-insensitively, each at most once; values percent-decoded
 * ('+' decodes to a space, as HTML forms and IIS do) and non-empty, with
 * no %00; DeviceId 1-32 ASCII letters or digits; SaveInSent is T or F;
 * other well-formed parameters (name = 1*ALPHA) are ignored.
 *
 * On success *out holds the query (version = EAS_HTTP_QUERY_VERSION) and
 * owns at most one block allocated through mem (NULL = libc), which
 * eas_http_query_clear() frees.  *out is overwritten without being freed,
 * so clear a previous result first.  On failure *out is cleared and owns
 * nothing.
 *
 * Returns 0, EAS_E_INVALID (out NULL, or query NULL with len > 0),
 * EAS_E_NOMEM, or EAS_E_MALFORMED for anything that breaks the rules above
 * (including an empty query and one longer than EAS_HTTP_QUERY_MAX_LEN).
 */
EAS_EXTERN int eas_http_query_decode(eas_http_query *out, const char *query, size_t len,
	const eas_mem *mem);

/*
 * Frees what eas_http_query_decode() allocated and resets *q to
 * EAS_HTTP_QUERY_INIT.  Safe on an INIT or caller-filled struct (it frees
 * nothing then) and on NULL.
 */
EAS_EXTERN void eas_http_query_clear(eas_http_query *q);

/* ---- OPTIONS: what the server offers ([MS-ASHTTP] 2.2.3, 2.2.2.1.2.7-8) ---------- */

/*
 * A set of commands is a uint64_t with one bit per command: bit c for the
 * commands with a base64 code (0-23), bit 32 + (c - 0x100) for the legacy
 * ones.  EAS_COMMAND_BIT() is 0 for a value outside both ranges.
 */
#define EAS_COMMAND_BIT(c)                                                          \
	((unsigned)(c) < 32u ? (UINT64_C(1) << ((unsigned)(c) & 63u))                \
	 : ((unsigned)(c) >= 0x100u && (unsigned)(c) < 0x120u)                        \
	       ? (UINT64_C(1) << ((32u + (unsigned)(c) - 0x100u) & 63u))              \
	       : UINT64_C(0))

/* Buffer sizes (NUL included) that always fit the formatters' output. */
#define EAS_HTTP_VERSIONS_TEXT_MAX 40u
#define EAS_HTTP_COMMANDS_TEXT_MAX 400u

/*
 * Parses an MS-ASProtocolVersions value ("2.5,12.0,12.1,14.0,14.1,16.0,16.1";
 * len bytes, no NUL needed) into *out, a set of EAS_PROTO_* bits.  Items are
 * separated by ','; spaces and tabs around an item are ignored, empty items
 * and duplicates are fine, and an item that is not one of the seven versions
 * (e.g. "1.0", "16.2", "abc") is skipped.
 *
 * Returns the number of non-empty items that were skipped (0 or more), or
 * EAS_E_INVALID when out is NULL or text is NULL with len > 0.
 */
EAS_EXTERN int eas_http_versions_parse(unsigned *out, const char *text, size_t len);

/*
 * Parses an MS-ASProtocolCommands value ("Sync,SendMail,...") into *out, a
 * set of EAS_COMMAND_BIT()s.  Same tolerance as eas_http_versions_parse();
 * names match ASCII case-insensitively, legacy names (GetHierarchy...) are
 * recognised, unknown names are skipped.  Same return values.
 */
EAS_EXTERN int eas_http_commands_parse(uint64_t *out, const char *text, size_t len);

/*
 * The version to speak: the highest version in server_set & client_set that
 * is not above preferred_max.  client_set 0 means every version;
 * preferred_max is one EAS_PROTO_* bit, or 0 for no cap.  Returns one
 * EAS_PROTO_* bit, or 0 when the sets share no version at or below the cap.
 */
EAS_EXTERN unsigned eas_http_pick_version(unsigned server_set, unsigned client_set,
	unsigned preferred_max);

/*
 * The protocol versions in which a command exists ([MS-ASCMD] 2.2.1.x):
 * EAS_PROTO_ALL for most, 12.0+ for ItemOperations and Settings, 16.1 for
 * Find, 2.5-12.1 for GetAttachment and the legacy commands.  0 for a value
 * that is not an eas_command.
 */
EAS_EXTERN unsigned eas_command_versions(eas_command command);

/*
 * 1 when the command may be sent: it is a known command, it exists in
 * `version` (one EAS_PROTO_* bit; 0 = not checked) and the server lists it
 * in server_commands (0 = the server sent no MS-ASProtocolCommands: not
 * checked).  0 otherwise.
 */
EAS_EXTERN int eas_http_command_supported(uint64_t server_commands, unsigned version,
	eas_command command);

/*
 * Writes the MS-ASProtocolVersions value for `set` ("2.5,12.0,...", lowest
 * first, no spaces; "" for an empty set; bits outside EAS_PROTO_ALL are
 * ignored) as a NUL-terminated string into buf.  The companion server uses it.
 * Returns the length written (NUL excluded), EAS_E_LIMIT when size is too
 * small (buf then holds "" if size > 0), EAS_E_INVALID when buf is NULL.
 */
EAS_EXTERN int eas_http_versions_format(char *buf, size_t size, unsigned set);

/*
 * Writes the MS-ASProtocolCommands value for `set` (names in the order
 * Exchange lists them, ',' between them, no spaces).  Unknown bits are
 * ignored.  Same return values as eas_http_versions_format().
 */
EAS_EXTERN int eas_http_commands_format(char *buf, size_t size, uint64_t set);

#ifdef __cplusplus
}
#endif

#endif /* EAS_HTTP_H */
