/*
 * The OPTIONS answer ([MS-ASHTTP] 2.2.3; headers 2.2.2.1.2.7-8): which
 * protocol versions and commands the server offers, read from the response
 * headers, and the local refusal of a command the server or the negotiated
 * version does not have.  The value parsers and the version pick are public
 * (eas/http.h); this is the header-list side the session uses.
 *
 * MS-ASProtocolVersions and MS-ASProtocolCommands also come back on a
 * FolderSync POST with SyncKey 0 and with X-MS-RP; the same parser reads them.
 */
#ifndef EAS_SRC_HTTP_OPTIONS_H
#define EAS_SRC_HTTP_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/http.h"
#include "eas/sys/transport.h"

typedef struct eas__http_caps {
	unsigned versions;         /* EAS_PROTO_* bits offered */
	uint64_t commands;         /* EAS_COMMAND_BIT() of every known command offered */
	int has_versions;          /* an MS-ASProtocolVersions header was present */
	int has_commands;          /* an MS-ASProtocolCommands header was present */
	unsigned unknown_versions; /* items skipped (not one of the seven versions) */
	unsigned unknown_commands; /* items skipped (unknown command names) */
} eas__http_caps;

/*
 * Reads MS-ASProtocolVersions and MS-ASProtocolCommands from headers[0..count)
 * (names ASCII case-insensitive; a header repeated is read as one list, as
 * HTTP allows for comma lists) into *out, which is always filled.
 *
 * Returns 0; EAS_E_PROTOCOL when there is no MS-ASProtocolVersions header or
 * it names no known version (nothing can be negotiated; a missing
 * MS-ASProtocolCommands is tolerated: has_commands = 0 and no command is
 * refused on that ground); EAS_E_INVALID when out is NULL, or headers is
 * NULL with count > 0.
 */
int eas__http_caps_parse(eas__http_caps *out, const eas_http_header *headers, size_t count);

/*
 * Whether `command` may be sent to this server at `version` (one EAS_PROTO_*
 * bit, 0 = do not check the version).  Returns 0 when it may; otherwise
 * EAS_E_UNSUPPORTED and, when msg is not NULL and msg_size > 0, a short
 * English reason in msg, e.g.
 *   "the server does not offer the Find command (MS-ASProtocolCommands)"
 *   "GetAttachment is not available in protocol version 14.1 (only 2.5 to 12.1)"
 * EAS_E_INVALID for a NULL caps or a value that is not an eas_command.
 */
int eas__http_caps_check(const eas__http_caps *caps, unsigned version, eas_command command,
	char *msg, size_t msg_size);

#endif
