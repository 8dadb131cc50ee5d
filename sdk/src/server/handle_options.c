/*
 * OPTIONS /Microsoft-Server-ActiveSync ([MS-ASHTTP] 2.2.4): the protocol
 * versions and the commands this server offers.
 */
#include "server/handler.h"

#include <stdio.h>

/* Writes MS-ASProtocolVersions and MS-ASProtocolCommands into the response. */
static int add_caps(eas_srv_ctx *c)
{
	char versions[EAS_HTTP_VERSIONS_TEXT_MAX];
	char commands[EAS_HTTP_COMMANDS_TEXT_MAX];
	int rc = eas_http_versions_format(versions, sizeof versions, eas__srv_versions(c->srv));
	if (rc >= 0)
		rc = eas_http_commands_format(commands, sizeof commands, eas__srv_commands());
	if (rc < 0)
		return rc;
	rc = eas__srv_add_header(c->resp, "MS-ASProtocolVersions", versions);
	if (rc == 0)
		rc = eas__srv_add_header(c->resp, "MS-ASProtocolCommands", commands);
	return rc;
}

int eas__srv_handle_options(eas_srv_ctx *c)
{
	int rc = eas__srv_reply_text(c, 200, NULL);
	if (rc == 0)
		rc = add_caps(c);
	if (rc == 0)
		rc = eas__srv_add_header(c->resp, "Allow", "OPTIONS,POST");
	if (rc == 0)
		rc = eas__srv_add_header(c->resp, "Public", "OPTIONS,POST");
	return rc;
}

/* FolderSync with SyncKey 0 carries the same two headers ([MS-ASHTTP] 3.2.5.2, product behavior). */
int eas__srv_add_caps_headers(eas_srv_ctx *c)
{
	return add_caps(c);
}
