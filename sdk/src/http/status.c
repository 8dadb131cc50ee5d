/*
 * ActiveSync Status tables (eas/status.h) and the HTTP status -> action
 * mapping with its response headers (http/status.h).
 *
 * Sources: [MS-ASCMD] 2.2.2 (common codes) and 2.2.3.177.x (per command),
 * [MS-ASPROV] 2.2.2.54 and 3.1.5.2 (Provision), [MS-ASHTTP] 2.2.2.1.1 and
 * 3.1.5.2 (HTTP statuses), RFC 9110 (Retry-After, HTTP-date).
 */
#include "http/status.h"

#include <stdio.h>
#include <string.h>

#include "eas/status.h"
#include "http/headers.h"

/* ---- EAS Status tables ------------------------------------------------------------ */

struct status_entry {
	int code;
	eas_status_class cls;
	const char *name;
	const char *text;
};

#define FIX EAS_STATUS_CLASS_FIX_REQUEST
#define RETRY EAS_STATUS_CLASS_RETRY_LATER
#define SERVER EAS_STATUS_CLASS_SERVER_ERROR
#define FULL EAS_STATUS_CLASS_RESEND_FULL
#define RESYNC EAS_STATUS_CLASS_RESYNC
#define FSYNC EAS_STATUS_CLASS_FOLDER_SYNC
#define PROV EAS_STATUS_CLASS_PROVISION
#define WIPE EAS_STATUS_CLASS_WIPE
#define DEVINFO EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED
#define AUTH EAS_STATUS_CLASS_AUTH
#define BLOCKED EAS_STATUS_CLASS_BLOCKED
#define UNSUP EAS_STATUS_CLASS_UNSUPPORTED
#define QUOTA EAS_STATUS_CLASS_QUOTA
#define ITEM EAS_STATUS_CLASS_ITEM
#define DONE EAS_STATUS_CLASS_ALREADY_DONE
#define OK EAS_STATUS_CLASS_SUCCESS

/*
 * The common status codes, [MS-ASCMD] 2.2.2 (14.0 and later; 178-184 are
 * 16.0).  157-159 and 180-182 are not assigned.  Sorted by code.
 */
static const struct status_entry common_status[] = {
	{ 101, FIX, "InvalidContent", "the request body is invalid" },
	{ 102, FIX, "InvalidWBXML", "the request WBXML could not be decoded" },
	{ 103, FIX, "InvalidXML", "the request XML does not follow the protocol" },
	{ 104, FIX, "InvalidDateTime", "a date or time in the request could not be parsed" },
	{ 105, FIX, "InvalidCombinationOfIDs", "the request combines parameters that cannot go together" },
	{ 106, FIX, "InvalidIDs", "an ID in the request could not be parsed" },
	{ 107, FIX, "InvalidMIME", "the MIME message in the request could not be parsed" },
	{ 108, FIX, "DeviceIdMissingOrInvalid", "the device ID is missing or invalid" },
	{ 109, FIX, "DeviceTypeMissingOrInvalid", "the device type is missing or invalid" },
	{ 110, SERVER, "ServerError", "the server encountered an unknown error" },
	{ 111, RETRY, "ServerErrorRetryLater", "the server encountered an unknown error; retry later" },
	{ 112, SERVER, "ActiveDirectoryAccessDenied", "the server cannot access an object in the directory service" },
	{ 113, QUOTA, "MailboxQuotaExceeded", "the mailbox has reached its size quota" },
	{ 114, RETRY, "MailboxServerOffline", "the mailbox server is offline" },
	{ 115, QUOTA, "SendQuotaExceeded", "the request would exceed the send quota" },
	{ 116, ITEM, "MessageRecipientUnresolved", "a recipient could not be resolved to an email address" },
	{ 117, ITEM, "MessageReplyNotAllowed", "the server does not allow a reply to this message" },
	{ 118, DONE, "MessagePreviouslySent", "the message was already sent" },
	{ 119, ITEM, "MessageHasNoRecipient", "the message has no recipient" },
	{ 120, SERVER, "MailSubmissionFailed", "the server failed to submit the message for delivery" },
	{ 121, SERVER, "MessageReplyFailed", "the server failed to create the reply message" },
	{ 122, ITEM, "AttachmentIsTooLarge", "the attachment is too large" },
	{ 123, BLOCKED, "UserHasNoMailbox", "no mailbox was found for the user" },
	{ 124, AUTH, "UserCannotBeAnonymous", "the request was sent without credentials" },
	{ 125, AUTH, "UserPrincipalCouldNotBeFound", "the user was not found in the directory service" },
	{ 126, BLOCKED, "UserDisabledForSync", "the user is not allowed to use ActiveSync" },
	{ 127, BLOCKED, "UserOnNewMailboxCannotSync", "the server does not let this user sync (mailbox on a newer server)" },
	{ 128, BLOCKED, "UserOnLegacyMailboxCannotSync", "the server does not let this user sync (mailbox on a legacy server)" },
	{ 129, BLOCKED, "DeviceIsBlockedForThisUser", "this device is not one the user may sync" },
	{ 130, ITEM, "AccessDenied", "the user is not allowed to perform this request" },
	{ 131, BLOCKED, "AccountDisabled", "the user's account is disabled" },
	{ 132, RESYNC, "SyncStateNotFound", "the server's sync state for this device is missing" },
	{ 133, RETRY, "SyncStateLocked", "the server's sync state is locked" },
	{ 134, RESYNC, "SyncStateCorrupt", "the server's sync state is corrupt" },
	{ 135, RESYNC, "SyncStateAlreadyExists", "the server's sync state already exists" },
	{ 136, RESYNC, "SyncStateVersionInvalid", "the server's sync state version is invalid" },
	{ 137, UNSUP, "CommandNotSupported", "the command is not supported by this server" },
	{ 138, UNSUP, "VersionNotSupported", "the command is not supported in this protocol version" },
	{ 139, BLOCKED, "DeviceNotFullyProvisionable", "the device cannot apply every policy setting the server requires" },
	{ 140, WIPE, "RemoteWipeRequested", "a remote wipe was requested" },
	{ 141, PROV, "LegacyDeviceOnStrictPolicy", "a policy is in place but the device sent no policy key" },
	{ 142, PROV, "DeviceNotProvisioned", "the device is not provisioned" },
	{ 143, PROV, "PolicyRefresh", "the policy must be refreshed" },
	{ 144, PROV, "InvalidPolicyKey", "the policy key is invalid" },
	{ 145, PROV, "ExternallyManagedDevicesNotAllowed", "externally managed devices are not allowed" },
	{ 146, ITEM, "NoRecurrenceInCalendar", "the meeting has no recurrence" },
	{ 147, FIX, "UnexpectedItemClass", "the server does not know this type of item" },
	{ 148, SERVER, "RemoteServerHasNoSSL", "the server the request must be proxied to has no TLS" },
	{ 149, FULL, "InvalidStoredRequest", "the server cannot re-run the stored request" },
	{ 150, ITEM, "ItemNotFound", "the item was not found" },
	{ 151, QUOTA, "TooManyFolders", "the mailbox contains too many folders" },
	{ 152, SERVER, "NoFoldersFound", "the mailbox contains no folders" },
	{ 153, ITEM, "ItemsLostAfterMove", "some items could not be found after the move" },
	{ 154, SERVER, "FailureInMoveOperation", "the mailbox server failed to move the items" },
	{ 155, FIX, "MoveCommandDisallowedForNonPersistentMoveAction", "a conversation move needs MoveAlways" },
	{ 156, ITEM, "MoveCommandInvalidDestinationFolder", "the destination folder of the move is invalid" },
	{ 160, ITEM, "AvailabilityTooManyRecipients", "too many recipients for an availability request" },
	{ 161, ITEM, "AvailabilityDLLimitReached", "the distribution list is too large for the availability service" },
	{ 162, RETRY, "AvailabilityTransientFailure", "the availability service failed temporarily" },
	{ 163, ITEM, "AvailabilityFailure", "the availability service failed" },
	{ 164, FIX, "BodyPartPreferenceTypeNotSupported", "the BodyPartPreference type is not supported" },
	{ 165, DEVINFO, "DeviceInformationRequired", "the Provision request lacks the required DeviceInformation" },
	{ 166, FIX, "InvalidAccountId", "the AccountId is not valid" },
	{ 167, ITEM, "AccountSendDisabled", "this account cannot send email" },
	{ 168, UNSUP, "IRM_FeatureDisabled", "Information Rights Management is disabled" },
	{ 169, RETRY, "IRM_TransientError", "Information Rights Management failed temporarily" },
	{ 170, ITEM, "IRM_PermanentError", "Information Rights Management failed" },
	{ 171, ITEM, "IRM_InvalidTemplateID", "the rights management template ID is not valid" },
	{ 172, ITEM, "IRM_OperationNotPermitted", "Information Rights Management does not allow this operation" },
	{ 173, ITEM, "NoPicture", "the user has no contact photo" },
	{ 174, ITEM, "PictureTooLarge", "the contact photo is larger than MaxSize" },
	{ 175, ITEM, "PictureLimitReached", "more contact photos than MaxPictures" },
	{ 176, ITEM, "BodyPart_ConversationTooLarge", "the conversation is too large to compute body parts" },
	{ 177, BLOCKED, "MaximumDevicesReached", "the user has too many device partnerships" },
	{ 178, FIX, "InvalidMimeBodyCombination", "SmartForward combines elements that cannot go together" },
	{ 179, FIX, "InvalidSmartForwardParameters", "the SmartForward Forwardees or Body could not be parsed" },
	{ 183, ITEM, "InvalidRecipients", "the draft has no recipient or an invalid address" },
	{ 184, ITEM, "OneOrMoreExceptionsFailed", "some exceptions of the recurring item were not saved" },
};

/* Sync, [MS-ASCMD] 2.2.3.177.17. */
static const struct status_entry sync_status[] = {
	{ 1, OK, "Success", "success" },
	{ 3, RESYNC, "InvalidSyncKey", "invalid synchronization key" },
	{ 4, FIX, "ProtocolError", "protocol error" },
	{ 5, RETRY, "ServerError", "server error" },
	{ 6, ITEM, "ConversionError", "error in client/server conversion" },
	{ 7, ITEM, "Conflict", "conflict matching the client and server object (the server's version wins)" },
	{ 8, ITEM, "ObjectNotFound", "object not found" },
	{ 9, QUOTA, "CannotComplete", "the Sync command cannot be completed (mailbox may be full)" },
	{ 12, FSYNC, "FolderHierarchyChanged", "the folder hierarchy has changed" },
	{ 13, FULL, "IncompleteRequest", "the Sync request is not complete" },
	{ 14, FIX, "InvalidWaitOrHeartbeatInterval", "invalid Wait or HeartbeatInterval value" },
	{ 15, FIX, "TooManyCollections", "invalid Sync request (too many collections)" },
	{ 16, RETRY, "Retry", "retry" },
};

/* FolderSync, 2.2.3.177.5 (8 is not in the current specification; older servers send it). */
static const struct status_entry folder_sync_status[] = {
	{ 1, OK, "Success", "success" },
	{ 6, RETRY, "ServerError", "an error occurred on the server" },
	{ 8, RETRY, "RequestTimedOut", "the request timed out" },
	{ 9, RESYNC, "InvalidSyncKey", "synchronization key mismatch or invalid synchronization key" },
	{ 10, FIX, "MalformedRequest", "incorrectly formatted request" },
	{ 11, RETRY, "UnknownError", "an unknown error occurred" },
	{ 12, SERVER, "CodeUnknown", "code unknown (unusual back-end issue)" },
};

/* FolderCreate, 2.2.3.177.3. */
static const struct status_entry folder_create_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, ITEM, "FolderExists", "a folder with this name already exists" },
	{ 3, ITEM, "SpecialParentFolder", "the parent folder is a special system folder" },
	{ 5, FSYNC, "ParentNotFound", "the parent folder was not found" },
	{ 6, RETRY, "ServerError", "an error occurred on the server" },
	{ 9, RESYNC, "InvalidSyncKey", "synchronization key mismatch or invalid synchronization key" },
	{ 10, FIX, "MalformedRequest", "malformed request" },
	{ 11, SERVER, "UnknownError", "an unknown error occurred" },
	{ 12, SERVER, "CodeUnknown", "code unknown (unusual back-end issue)" },
};

/* FolderUpdate, 2.2.3.177.6. */
static const struct status_entry folder_update_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, ITEM, "FolderExistsOrSpecial", "a folder with that name already exists, or the folder is a special folder" },
	{ 3, ITEM, "RecipientInformationFolder", "the folder is the Recipient information folder, which cannot be updated" },
	{ 4, FSYNC, "FolderNotFound", "the folder does not exist" },
	{ 5, FSYNC, "ParentNotFound", "the parent folder was not found" },
	{ 6, RETRY, "ServerError", "an error occurred on the server" },
	{ 9, RESYNC, "InvalidSyncKey", "synchronization key mismatch or invalid synchronization key" },
	{ 10, FIX, "MalformedRequest", "incorrectly formatted request" },
	{ 11, SERVER, "UnknownError", "an unknown error occurred" },
};

/* FolderDelete, 2.2.3.177.4. */
static const struct status_entry folder_delete_status[] = {
	{ 1, OK, "Success", "success" },
	{ 3, ITEM, "SpecialFolder", "the folder is a special system folder and cannot be deleted" },
	{ 4, FSYNC, "FolderNotFound", "the folder does not exist" },
	{ 6, RETRY, "ServerError", "an error occurred on the server" },
	{ 9, RESYNC, "InvalidSyncKey", "synchronization key mismatch or invalid synchronization key" },
	{ 10, FIX, "MalformedRequest", "incorrectly formatted request" },
	{ 11, SERVER, "UnknownError", "an unknown error occurred" },
};

/* Ping, 2.2.3.177.11. */
static const struct status_entry ping_status[] = {
	{ 1, OK, "HeartbeatExpired", "the heartbeat interval expired with no changes" },
	{ 2, OK, "ChangesFound", "changes occurred in at least one monitored folder" },
	{ 3, FULL, "MissingParameters", "the Ping request omitted required parameters" },
	{ 4, FIX, "SyntaxError", "syntax error in the Ping request" },
	{ 5, FIX, "InvalidHeartbeatInterval", "the heartbeat interval is outside the allowed range" },
	{ 6, FIX, "TooManyFolders", "more folders than the server allows to monitor" },
	{ 7, FSYNC, "FolderSyncRequired", "folder hierarchy sync required" },
	{ 8, RETRY, "ServerError", "an error occurred on the server" },
};

/* GetItemEstimate, 2.2.3.177.7. */
static const struct status_entry get_item_estimate_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FSYNC, "InvalidCollection", "a collection or collection ID was invalid" },
	{ 3, RESYNC, "SyncStateNotPrimed", "the synchronization state has not been primed" },
	{ 4, RESYNC, "InvalidSyncKey", "the synchronization key was invalid" },
};

/* MoveItems, 2.2.3.177.10: success is 3. */
static const struct status_entry move_items_status[] = {
	{ 1, FSYNC, "InvalidSource", "invalid source collection ID or item ID" },
	{ 2, FSYNC, "InvalidDestination", "invalid destination collection ID" },
	{ 3, OK, "Success", "success" },
	{ 4, ITEM, "SameSourceAndDestination", "source and destination collection IDs are the same" },
	{ 5, ITEM, "MoveFailed", "the item cannot be moved to more than one place at a time, or the source or destination item was locked" },
	{ 7, RETRY, "Locked", "the source or destination item was locked" },
};

/* ItemOperations, 2.2.3.177.8 (13 unused; 155 and 156 refine common codes). */
static const struct status_entry item_operations_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "ProtocolError", "protocol error" },
	{ 3, RETRY, "ServerError", "server error" },
	{ 4, ITEM, "DocumentLibraryBadUri", "document library: the URI is bad" },
	{ 5, ITEM, "DocumentLibraryAccessDenied", "document library: access denied" },
	{ 6, ITEM, "ObjectNotFound", "the object was not found or access was denied" },
	{ 7, ITEM, "DocumentLibraryConnectFailed", "document library: failed to connect to the server" },
	{ 8, FIX, "InvalidByteRange", "the byte range is invalid or too large" },
	{ 9, FIX, "UnknownStore", "the store is unknown or unsupported" },
	{ 10, ITEM, "EmptyFile", "the file is empty" },
	{ 11, ITEM, "DataTooLarge", "the requested data is too large" },
	{ 12, ITEM, "DownloadIoFailure", "the file download failed (I/O failure)" },
	{ 14, ITEM, "ConversionFailed", "the item failed conversion" },
	{ 15, ITEM, "InvalidAttachment", "the attachment or attachment ID is invalid" },
	{ 16, ITEM, "ResourceAccessDenied", "access to the resource is denied" },
	{ 17, ITEM, "PartialSuccess", "partial success: the operation completed partially" },
	{ 18, AUTH, "CredentialsRequired", "credentials required" },
	{ 155, FIX, "MoveAlwaysMissing", "protocol error: the conversation move lacks Options/MoveAlways" },
	{ 156, ITEM, "ActionNotSupported", "action not supported: the destination folder must be an email folder" },
};

/* Settings, 2.2.3.177.15 (top level and each setting). */
static const struct status_entry settings_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "ProtocolError", "protocol error" },
	{ 3, ITEM, "AccessDenied", "access denied" },
	{ 4, RETRY, "ServerUnavailable", "server unavailable" },
	{ 5, FIX, "InvalidArguments", "invalid arguments" },
	{ 6, FIX, "ConflictingArguments", "conflicting arguments" },
	{ 7, ITEM, "DeniedByPolicy", "denied by policy" },
};

/* Provision/Status, [MS-ASPROV] 2.2.2.54.2 and 3.1.5.2 (139, 141, 145 are common codes). */
static const struct status_entry provision_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "ProtocolError", "protocol error" },
	{ 3, RETRY, "ServerError", "general server error" },
};

/* Search, 2.2.3.177.13 (Search/Status 1 and 3; Store/Status 1-14 without 9). */
static const struct status_entry search_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "InvalidRequest", "the request was invalid" },
	{ 3, RETRY, "ServerError", "an error occurred on the server" },
	{ 4, ITEM, "BadLink", "bad link" },
	{ 5, ITEM, "AccessDenied", "access denied" },
	{ 6, ITEM, "NotFound", "not found" },
	{ 7, RETRY, "ConnectionFailed", "connection failed" },
	{ 8, ITEM, "TooComplex", "the query is too complex" },
	{ 10, RETRY, "TimedOut", "the search timed out" },
	{ 11, FSYNC, "FolderSyncRequired", "FolderSync required" },
	{ 12, ITEM, "EndOfRange", "end of the retrievable range" },
	{ 13, ITEM, "AccessBlocked", "access blocked" },
	{ 14, AUTH, "CredentialsRequired", "credentials required" },
};

/* MeetingResponse, 2.2.3.177.9. */
static const struct status_entry meeting_response_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, ITEM, "InvalidMeetingRequest", "invalid meeting request" },
	{ 3, RETRY, "MailboxError", "an error occurred on the server mailbox" },
	{ 4, RETRY, "ServerError", "an error occurred on the server" },
};

/*
 * ResolveRecipients, 2.2.3.177.12: ResolveRecipients/Status 1, 5, 6;
 * Response/Status 1-4; Certificates/Status 1, 7, 8 (Availability and
 * Picture use common codes).
 */
static const struct status_entry resolve_recipients_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, ITEM, "Ambiguous", "the recipient is ambiguous (suggestions returned)" },
	{ 3, ITEM, "AmbiguousPartial", "the recipient is ambiguous (partial list of suggestions)" },
	{ 4, ITEM, "NotResolved", "the recipient did not resolve to any contact or GAL entry" },
	{ 5, FIX, "ProtocolError", "protocol error" },
	{ 6, RETRY, "ServerError", "an error occurred on the server" },
	{ 7, ITEM, "NoValidCertificate", "the recipient has no valid S/MIME certificate" },
	{ 8, ITEM, "CertificateLimitReached", "the certificate limit was reached" },
};

/* ValidateCert, 2.2.3.177.18. */
static const struct status_entry validate_cert_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "ProtocolError", "protocol error" },
	{ 3, ITEM, "InvalidSignature", "the signature in the digital ID cannot be validated" },
	{ 4, ITEM, "UntrustedSource", "the digital ID was issued by an untrusted source" },
	{ 5, ITEM, "InvalidChain", "the certificate chain was not created correctly" },
	{ 6, ITEM, "NotForEmail", "the digital ID is not valid for signing email" },
	{ 7, ITEM, "Expired", "the digital ID has expired or is not yet valid" },
	{ 8, ITEM, "InconsistentTimes", "the validity periods in the certificate chain are not consistent" },
	{ 9, ITEM, "BadUse", "a digital ID in the chain is used incorrectly" },
	{ 10, ITEM, "MissingInformation", "information in the digital ID is missing or incorrect" },
	{ 11, ITEM, "BadChainUse", "a digital ID in the chain is used incorrectly (end entity as CA)" },
	{ 12, ITEM, "AddressMismatch", "the digital ID does not match the email address" },
	{ 13, ITEM, "Revoked", "the digital ID has been revoked" },
	{ 14, RETRY, "RevocationServerOffline", "the revocation server cannot be contacted" },
	{ 15, ITEM, "ChainRevoked", "a digital ID in the chain has been revoked" },
	{ 16, ITEM, "RevocationUnknown", "the revocation status cannot be determined" },
	{ 17, SERVER, "UnknownServerError", "an unknown server error occurred" },
};

/* Find (16.1), 2.2.3.177.2. */
static const struct status_entry find_status[] = {
	{ 1, OK, "Success", "success" },
	{ 2, FIX, "InvalidRequest", "the request was invalid" },
	{ 3, FSYNC, "FolderSyncRequired", "FolderSync required" },
	{ 4, FIX, "StartWithRangeZero", "the requested range does not begin with 0" },
};

#define TABLE(c, t) { c, t, sizeof(t) / sizeof(t[0]) }
static const struct command_table {
	eas_command command;
	const struct status_entry *entries;
	size_t count;
} command_tables[] = {
	TABLE(EAS_CMD_SYNC, sync_status),
	TABLE(EAS_CMD_FOLDER_SYNC, folder_sync_status),
	TABLE(EAS_CMD_FOLDER_CREATE, folder_create_status),
	TABLE(EAS_CMD_FOLDER_UPDATE, folder_update_status),
	TABLE(EAS_CMD_FOLDER_DELETE, folder_delete_status),
	TABLE(EAS_CMD_PING, ping_status),
	TABLE(EAS_CMD_GET_ITEM_ESTIMATE, get_item_estimate_status),
	TABLE(EAS_CMD_MOVE_ITEMS, move_items_status),
	TABLE(EAS_CMD_ITEM_OPERATIONS, item_operations_status),
	TABLE(EAS_CMD_SETTINGS, settings_status),
	TABLE(EAS_CMD_PROVISION, provision_status),
	TABLE(EAS_CMD_SEARCH, search_status),
	TABLE(EAS_CMD_MEETING_RESPONSE, meeting_response_status),
	TABLE(EAS_CMD_RESOLVE_RECIPIENTS, resolve_recipients_status),
	TABLE(EAS_CMD_VALIDATE_CERT, validate_cert_status),
	TABLE(EAS_CMD_FIND, find_status),
};
#undef TABLE

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const char unknown_text[] = "unknown status code";

static const struct status_entry *find_entry(const struct status_entry *t, size_t n, int code)
{
	for (size_t i = 0; i < n; i++)
		if (t[i].code == code)
			return &t[i];
	return NULL;
}

static const struct status_entry *common_entry(int code)
{
	if (code < 101)
		return NULL;
	return find_entry(common_status, COUNT(common_status), code);
}

static const struct status_entry *command_entry(eas_command command, int status)
{
	for (size_t i = 0; i < COUNT(command_tables); i++) {
		if (command_tables[i].command == command) {
			const struct status_entry *e =
				find_entry(command_tables[i].entries, command_tables[i].count, status);
			if (e)
				return e;
			break;
		}
	}
	return common_entry(status);
}

const char *eas_status_name(int code)
{
	const struct status_entry *e = common_entry(code);
	return e ? e->name : NULL;
}

const char *eas_status_text(int code)
{
	const struct status_entry *e = common_entry(code);
	return e ? e->text : unknown_text;
}

eas_status_class eas_status_classify(int code)
{
	const struct status_entry *e = common_entry(code);
	return e ? e->cls : EAS_STATUS_CLASS_UNKNOWN;
}

const char *eas_command_status_name(eas_command command, int status)
{
	const struct status_entry *e = command_entry(command, status);
	return e ? e->name : NULL;
}

const char *eas_command_status_text(eas_command command, int status)
{
	const struct status_entry *e = command_entry(command, status);
	return e ? e->text : unknown_text;
}

eas_status_class eas_command_status_classify(eas_command command, int status)
{
	const struct status_entry *e = command_entry(command, status);
	return e ? e->cls : EAS_STATUS_CLASS_UNKNOWN;
}

int eas_command_status_describe(char *buf, size_t size, eas_command command, int status)
{
	const char *cmd = eas_command_name(command);
	if ((!buf && size > 0) || !cmd)
		return EAS_E_INVALID;
	const struct status_entry *e = command_entry(command, status);
	int n;
	if (e)
		n = snprintf(buf, size, "%s status %d (%s): %s", cmd, status, e->name, e->text);
	else
		n = snprintf(buf, size, "%s status %d: %s", cmd, status, unknown_text);
	return n < 0 ? EAS_E_INVALID : n;
}

const char *eas_policy_status_text(int status)
{
	switch (status) {
	case 1: return "success";
	case 2: return "there is no policy for this client";
	case 3: return "unknown PolicyType value";
	case 4: return "the policy data on the server is corrupted";
	case 5: return "the client acknowledged the wrong policy key";
	default: return unknown_text;
	}
}

const char *eas_status_class_text(eas_status_class cls)
{
	switch (cls) {
	case EAS_STATUS_CLASS_SUCCESS: return "success";
	case EAS_STATUS_CLASS_FIX_REQUEST: return "fix the request";
	case EAS_STATUS_CLASS_RETRY_LATER: return "retry later";
	case EAS_STATUS_CLASS_SERVER_ERROR: return "server error";
	case EAS_STATUS_CLASS_RESEND_FULL: return "send the full request";
	case EAS_STATUS_CLASS_RESYNC: return "restart synchronization from key 0";
	case EAS_STATUS_CLASS_FOLDER_SYNC: return "run FolderSync";
	case EAS_STATUS_CLASS_PROVISION: return "run Provision";
	case EAS_STATUS_CLASS_WIPE: return "remote wipe";
	case EAS_STATUS_CLASS_DEVICE_INFO_REQUIRED: return "send device information";
	case EAS_STATUS_CLASS_AUTH: return "check credentials";
	case EAS_STATUS_CLASS_BLOCKED: return "blocked: contact the administrator";
	case EAS_STATUS_CLASS_UNSUPPORTED: return "not supported";
	case EAS_STATUS_CLASS_QUOTA: return "quota reached";
	case EAS_STATUS_CLASS_ITEM: return "item failed";
	case EAS_STATUS_CLASS_ALREADY_DONE: return "already done";
	case EAS_STATUS_CLASS_UNKNOWN:
	default: return "unknown status";
	}
}

#undef FIX
#undef RETRY
#undef SERVER
#undef FULL
#undef RESYNC
#undef FSYNC
#undef PROV
#undef WIPE
#undef DEVINFO
#undef AUTH
#undef BLOCKED
#undef UNSUP
#undef QUOTA
#undef ITEM
#undef DONE
#undef OK

/* ---- HTTP status ---------------------------------------------------------------------- */

static const struct http_entry {
	int status;
	eas__http_action action;
	int autodiscover;
	const char *text;
} http_table[] = {
	{ 200, EAS__HTTP_OK, 0, "OK" },
	{ 400, EAS__HTTP_BAD_REQUEST, 0, "Bad Request" },
	{ 401, EAS__HTTP_REAUTH, 1, "Unauthorized" },
	{ 403, EAS__HTTP_FORBIDDEN, 1, "Forbidden" },
	{ 404, EAS__HTTP_NOT_FOUND, 0, "Not Found" },
	{ 429, EAS__HTTP_BACKOFF_RETRY, 0, "Too Many Requests" },
	{ 449, EAS__HTTP_PROVISION, 0, "Retry After Provisioning" },
	{ 451, EAS__HTTP_REDIRECT, 0, "Redirect" },
	{ 456, EAS__HTTP_BLOCKED, 0, "Blocked" },
	{ 457, EAS__HTTP_PASSWORD_EXPIRED, 0, "Expired Password" },
	{ 500, EAS__HTTP_BACKOFF_RETRY, 1, "Internal Server Error" },
	{ 501, EAS__HTTP_NOT_IMPLEMENTED, 0, "Not Implemented" },
	{ 502, EAS__HTTP_BACKOFF_RETRY, 0, "Proxy Error" },
	{ 503, EAS__HTTP_BACKOFF_RETRY, 0, "Service Unavailable" },
	{ 504, EAS__HTTP_BACKOFF_RETRY, 0, "Gateway Timeout" },
	{ 507, EAS__HTTP_MAILBOX_FULL, 0, "Insufficient Disk Space" },
};

static const struct http_entry *http_entry(int status)
{
	for (size_t i = 0; i < COUNT(http_table); i++)
		if (http_table[i].status == status)
			return &http_table[i];
	return NULL;
}

const char *eas_http_status_text(int http_status)
{
	const struct http_entry *e = http_entry(http_status);
	return e ? e->text : NULL;
}

const char *eas__http_action_name(eas__http_action action)
{
	switch (action) {
	case EAS__HTTP_OK: return "ok";
	case EAS__HTTP_REAUTH: return "reauth";
	case EAS__HTTP_FORBIDDEN: return "forbidden";
	case EAS__HTTP_NOT_FOUND: return "not_found";
	case EAS__HTTP_BAD_REQUEST: return "bad_request";
	case EAS__HTTP_PROVISION: return "provision_then_retry";
	case EAS__HTTP_REDIRECT: return "redirect";
	case EAS__HTTP_AUTODISCOVER: return "autodiscover";
	case EAS__HTTP_BLOCKED: return "blocked";
	case EAS__HTTP_PASSWORD_EXPIRED: return "password_expired";
	case EAS__HTTP_BACKOFF_RETRY: return "backoff_retry";
	case EAS__HTTP_NOT_IMPLEMENTED: return "not_implemented";
	case EAS__HTTP_MAILBOX_FULL: return "mailbox_full";
	case EAS__HTTP_OTHER: return "other";
	}
	return "?";
}

/* ---- dates and numbers ------------------------------------------------------------------ */

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Exactly n digits at s; value in *out. */
static int digits(const char *s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int match_ci(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (size_t i = 0; i < n; i++) {
		char a = s[i], b = word[i];
		if (a >= 'A' && a <= 'Z')
			a = (char)(a - 'A' + 'a');
		if (b >= 'A' && b <= 'Z')
			b = (char)(b - 'A' + 'a');
		if (a != b)
			return 0;
	}
	return 1;
}

static const char *const day_short[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
static const char *const day_long[] = { "Monday", "Tuesday", "Wednesday", "Thursday",
					"Friday", "Saturday", "Sunday" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* Month 1-12 from three letters at s, or 0. */
static int month_at(const char *s)
{
	for (int i = 0; i < 12; i++)
		if (match_ci(s, months[i]))
			return i + 1;
	return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The year of a day count since 1970-01-01. */
static int64_t year_from_days(int64_t z)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	return yoe + era * 400 + (m <= 2);
}

/* Whole days since 1970-01-01 of a Unix time (rounded down). */
static int64_t days_of(int64_t s)
{
	return s >= 0 ? s / 86400 : -((-(s + 1)) / 86400) - 1;
}

static int is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int valid_date(int64_t y, int m, int d, int hh, int mm, int ss)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	if (m < 1 || m > 12 || d < 1 || hh > 23 || mm > 59 || ss > 60)
		return 0;
	int dim = mdays[m - 1] + (m == 2 && is_leap(y));
	return d <= dim;
}

/* "HH:MM:SS" at s. */
static int time_at(const char *s, int *hh, int *mm, int *ss)
{
	return digits(s, 2, hh) && s[2] == ':' && digits(s + 3, 2, mm) && s[5] == ':' &&
	       digits(s + 6, 2, ss);
}

int eas__http_date_parse(int64_t *out, const char *v, int64_t now_s)
{
	if (!out || !v)
		return EAS_E_INVALID;
	size_t n = strlen(v);
	int64_t year;
	int mon, day, hh, mm, ss, y;

	if (n == 29 && v[3] == ',') {
		/* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
		int dn = 0;
		for (int i = 0; i < 7; i++)
			dn |= match_ci(v, day_short[i]);
		if (!dn || v[4] != ' ' || !digits(v + 5, 2, &day) || v[7] != ' ' ||
		    !(mon = month_at(v + 8)) || v[11] != ' ' || !digits(v + 12, 4, &y) ||
		    v[16] != ' ' || !time_at(v + 17, &hh, &mm, &ss) || v[25] != ' ' ||
		    !match_ci(v + 26, "GMT"))
			return EAS_E_MALFORMED;
		year = y;
	} else if (n == 24 && v[3] == ' ') {
		/* asctime: "Sun Nov  6 08:49:37 1994" */
		int dn = 0;
		for (int i = 0; i < 7; i++)
			dn |= match_ci(v, day_short[i]);
		if (!dn || !(mon = month_at(v + 4)) || v[7] != ' ')
			return EAS_E_MALFORMED;
		if (v[8] == ' ') {
			if (!digits(v + 9, 1, &day))
				return EAS_E_MALFORMED;
		} else if (!digits(v + 8, 2, &day)) {
			return EAS_E_MALFORMED;
		}
		if (v[10] != ' ' || !time_at(v + 11, &hh, &mm, &ss) || v[19] != ' ' ||
		    !digits(v + 20, 4, &y))
			return EAS_E_MALFORMED;
		year = y;
	} else {
		/* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
		const char *p = NULL;
		for (int i = 0; i < 7 && !p; i++) {
			size_t dl = strlen(day_long[i]);
			if (n > dl && match_ci(v, day_long[i]) && v[dl] == ',')
				p = v + dl + 1;
		}
		if (!p || strlen(p) != 23 || p[0] != ' ' || !digits(p + 1, 2, &day) || p[3] != '-' ||
		    !(mon = month_at(p + 4)) || p[7] != '-' || !digits(p + 8, 2, &y) ||
		    p[10] != ' ' || !time_at(p + 11, &hh, &mm, &ss) || p[19] != ' ' ||
		    !match_ci(p + 20, "GMT"))
			return EAS_E_MALFORMED;
		/* RFC 9110 5.6.7: a year more than 50 years ahead is in the past century. */
		int64_t now_year = year_from_days(days_of(now_s));
		int64_t century = now_year - (now_year % 100 + 100) % 100;
		year = century + y;
		if (year > now_year + 50)
			year -= 100;
	}
	if (!valid_date(year, mon, day, hh, mm, ss))
		return EAS_E_MALFORMED;
	*out = days_from_civil(year, mon, day) * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
}

int eas__http_retry_after_parse(uint32_t *out_s, const char *value, int64_t now_s)
{
	if (!out_s || !value)
		return EAS_E_INVALID;
	size_t start = 0, end = strlen(value);
	while (start < end && (value[start] == ' ' || value[start] == '\t'))
		start++;
	while (end > start && (value[end - 1] == ' ' || value[end - 1] == '\t'))
		end--;
	if (start == end)
		return EAS_E_MALFORMED;

	if (is_digit(value[start])) {
		uint64_t v = 0;
		for (size_t i = start; i < end; i++) {
			if (!is_digit(value[i]))
				return EAS_E_MALFORMED;
			if (v <= EAS__HTTP_RETRY_AFTER_MAX)
				v = v * 10 + (uint64_t)(value[i] - '0');
		}
		*out_s = v > EAS__HTTP_RETRY_AFTER_MAX ? EAS__HTTP_RETRY_AFTER_MAX : (uint32_t)v;
		return 0;
	}

	char buf[40];
	size_t n = end - start;
	if (n >= sizeof(buf))
		return EAS_E_MALFORMED;
	memcpy(buf, value + start, n);
	buf[n] = '\0';
	int64_t when;
	int rc = eas__http_date_parse(&when, buf, now_s);
	if (rc != 0)
		return rc;
	if (when <= now_s)
		*out_s = 0;
	else if (when - now_s > (int64_t)EAS__HTTP_RETRY_AFTER_MAX)
		*out_s = EAS__HTTP_RETRY_AFTER_MAX;
	else
		*out_s = (uint32_t)(when - now_s);
	return 0;
}

/* Absolute http(s) URL with a host and no whitespace or control characters. */
static int is_abs_url(const char *s)
{
	size_t skip;
	if (match_ci(s, "https://") && strlen(s) >= 8)
		skip = 8;
	else if (match_ci(s, "http://") && strlen(s) >= 7)
		skip = 7;
	else
		return 0;
	if (s[skip] == '\0' || s[skip] == '/' || s[skip] == '?' || s[skip] == '#')
		return 0;
	for (const unsigned char *u = (const unsigned char *)s; *u; u++)
		if (*u <= 0x20 || *u == 0x7F)
			return 0;
	return 1;
}

/* 1*9DIGIT with optional surrounding spaces; -1 otherwise. */
static int parse_days(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	int v = 0, n = 0;
	while (is_digit(*s)) {
		if (++n > 9)
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	while (*s == ' ' || *s == '\t')
		s++;
	return (n == 0 || *s) ? -1 : v;
}

int eas__http_classify(eas__http_verdict *out, int status, const eas_http_header *headers,
	size_t count, int64_t now_s)
{
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof(*out));
	out->credentials_expire_days = -1;
	out->status = status;
	if (!headers && count > 0) {
		out->action = EAS__HTTP_OTHER;
		return EAS_E_INVALID;
	}

	const struct http_entry *e = http_entry(status);
	if (e) {
		out->action = e->action;
		out->autodiscover = e->autodiscover;
	} else if (status >= 200 && status <= 299) {
		out->action = EAS__HTTP_OK; /* [MS-ASHTTP] 3.1.5.1: 200-299 is success */
	} else {
		out->action = EAS__HTTP_OTHER;
	}

	const char *ra = eas__http_header_get(headers, count, "Retry-After");
	if (ra) {
		if (eas__http_retry_after_parse(&out->retry_after_s, ra, now_s) == 0)
			out->has_retry_after = 1;
		else
			out->retry_after_malformed = 1;
	}
	const char *expire = eas__http_header_get(headers, count, "X-MS-Credentials-Expire");
	if (expire)
		out->credentials_expire_days = parse_days(expire);
	out->resync_required = eas__http_header_get(headers, count, "X-MS-RP") != NULL;
	const char *cred = eas__http_header_get(headers, count, "X-MS-Credential-Service-Url");
	if (cred && is_abs_url(cred))
		out->credential_url = cred;

	if (status == 451) {
		const char *loc = eas__http_header_get(headers, count, "X-MS-Location");
		if (loc && is_abs_url(loc)) {
			out->location = loc;
		} else {
			out->location_rejected = loc != NULL;
			out->action = EAS__HTTP_AUTODISCOVER;
			out->autodiscover = 1;
		}
	}
	return 0;
}
