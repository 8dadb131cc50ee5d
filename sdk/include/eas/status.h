/*
 * libeas — ActiveSync Status values: names, English meanings and what a
 * client does about them.
 *
 * A command's response carries a Status element.  Its value is data, not an
 * error: libeas calls that return it succeed, and the session acts on it.
 * These functions turn a value into words for messages such as
 *
 *     "Sync status 3 (InvalidSyncKey): invalid synchronization key"
 *
 * and into a class of action.  Two tables are consulted:
 *
 *  - the common status codes ([MS-ASCMD] 2.2.2, values 101-184, sent by
 *    14.0 and later servers in any command's Status);
 *  - one table per command (values below 101, whose meaning depends on the
 *    command: Sync 3 is an invalid sync key, MoveItems 3 is success).  A
 *    command table may also override a common code (ItemOperations 155/156).
 *
 * All strings are static, English, ASCII, without a final period; meanings
 * start in lower case (except names such as "FolderSync") so they can follow
 * "status N: ".  Every table is const; every function here is thread-safe.
 */
#ifndef EAS_STATUS_H
#define EAS_STATUS_H

#include "eas/common.h"
#include "eas/http.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a client does about a Status value. */
typedef enum eas_status_class {
	EAS_STATUS_CLASS_UNKNOWN = 0,     /* not a known value: report it */
	EAS_STATUS_CLASS_SUCCESS,         /* success (including Ping 1 and 2) */
	EAS_STATUS_CLASS_FIX_REQUEST,     /* the request was wrong: do not resend it unchanged */
	EAS_STATUS_CLASS_RETRY_LATER,     /* transient: resend later, with backoff */
	EAS_STATUS_CLASS_SERVER_ERROR,    /* the server failed: report; no immediate retry (110) */
	EAS_STATUS_CLASS_RESEND_FULL,     /* the server lacks a cached request: send the full one */
	EAS_STATUS_CLASS_RESYNC,          /* sync state lost or key invalid: restart from key 0 */
	EAS_STATUS_CLASS_FOLDER_SYNC,     /* folder hierarchy out of date: FolderSync, then retry */
	EAS_STATUS_CLASS_PROVISION,       /* run Provision (again), then resend (141-145) */
	EAS_STATUS_CLASS_WIPE,            /* remote wipe requested: Provision to receive it (140) */
	EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED, /* resend Provision with DeviceInformation (165) */
	EAS_STATUS_CLASS_AUTH,            /* credentials missing, wrong or needed */
	EAS_STATUS_CLASS_BLOCKED,         /* user, device or account not allowed: stop, tell the user */
	EAS_STATUS_CLASS_UNSUPPORTED,     /* command, version or feature not supported */
	EAS_STATUS_CLASS_QUOTA,           /* mailbox, send or folder quota reached */
	EAS_STATUS_CLASS_ITEM,            /* this item or operation failed: report, go on */
	EAS_STATUS_CLASS_ALREADY_DONE     /* already done (a message sent before, 118): treat as success */
} eas_status_class;

/*
 * Common status codes ([MS-ASCMD] 2.2.2): the symbolic name from the
 * specification ("InvalidContent", "ServerErrorRetryLater", ...), or NULL
 * when code is not one of them (values below 101, 157-159, 180-182, above
 * 184).
 */
EAS_EXTERN const char *eas_status_name(int code);

/* Its meaning ("the request body is invalid"); "unknown status code" when unknown. Never NULL. */
EAS_EXTERN const char *eas_status_text(int code);

/* Its class; EAS_STATUS_CLASS_UNKNOWN when unknown. */
EAS_EXTERN eas_status_class eas_status_classify(int code);

/*
 * The same for a Status received in `command`'s response: the command's own
 * table first, then (for codes of 101 and above) the common table.
 * eas_command_status_name() returns NULL and eas_command_status_text()
 * "unknown status code" when neither has the value (e.g. Sync 2).  The names
 * of command-specific values are libeas's own CamelCase labels (the
 * specification gives those values no symbolic names).
 *
 * Where a command has Status in several places (Search: Search and Store;
 * ResolveRecipients: ResolveRecipients, Response, Certificates; Settings:
 * Settings and each setting; ItemOperations: the request and each
 * operation) the values do not collide and one table covers them.
 * Provision covers Provision/Status; the Policy/Status values are separate
 * (see eas_policy_status_text()).  SendMail, SmartReply and SmartForward
 * use the common codes only.
 */
EAS_EXTERN const char *eas_command_status_name(eas_command command, int status);
EAS_EXTERN const char *eas_command_status_text(eas_command command, int status);
EAS_EXTERN eas_status_class eas_command_status_classify(eas_command command, int status);

/*
 * Writes "<Command> status <N> (<Name>): <meaning>" into buf (NUL-terminated,
 * truncated to size), e.g. "Sync status 3 (InvalidSyncKey): invalid
 * synchronization key"; "(<Name>)" is left out for an unknown value.
 * Returns the length the full text has (like snprintf), or EAS_E_INVALID
 * when buf is NULL with size > 0 or command is not an eas_command.
 */
EAS_EXTERN int eas_command_status_describe(char *buf, size_t size, eas_command command,
	int status);

/*
 * Provision's Policy/Status values ([MS-ASPROV] 2.2.2.54.1) as the server
 * sends them: 1 success, 2 no policy for this client, 3 unknown PolicyType,
 * 4 policy data corrupt on the server, 5 wrong policy key acknowledged.
 * "unknown status code" for others.  Never NULL.
 */
EAS_EXTERN const char *eas_policy_status_text(int status);

/* A short English label of a class ("retry later", "run Provision", ...). Never NULL. */
EAS_EXTERN const char *eas_status_class_text(eas_status_class cls);

/*
 * The reason phrase MS-ASHTTP gives an HTTP status ("Redirect" for 451,
 * "Blocked" for 456, "Expired Password" for 457, "Retry After Provisioning"
 * for 449, the RFC 9110 phrase for the common ones), or NULL for a status
 * it does not know.
 */
EAS_EXTERN const char *eas_http_status_text(int http_status);

#ifdef __cplusplus
}
#endif

#endif /* EAS_STATUS_H */
