/*
 * Settings (MS-ASCMD 2.2.1.18) as C structs, encoded and decoded in both
 * directions, following the command-module pattern of folder_sync.h: plain
 * structs, decoded strings point into the eas_tree (valid until
 * eas_tree_free), repeated elements are walked with iterators so decoding
 * allocates nothing, EAS_E_MALFORMED with a message naming the element.
 *
 * Covered: Oof Get/Set, DevicePassword Set, DeviceInformation Set (whose
 * encoder and decoder Provision shares for its 14.1+ settings:DeviceInformation
 * block), UserInformation Get (EmailAddresses for 12.0-14.0, Accounts for
 * 14.1+), and RightsManagementInformation Get as far as its Status (the
 * templates belong to the rm: module; the decoder hands over the Get node).
 *
 * Encoders check the rules the tag table cannot (both or neither of
 * StartTime/EndTime, BodyType with every ReplyMessage, one OofMessage per
 * audience...) and return EAS_E_INVALID; elements the encoder's protocol
 * version lacks come back as EAS_E_UNSUPPORTED from the encoder itself.
 */
#ifndef EAS_SRC_COMMANDS_SETTINGS_H
#define EAS_SRC_COMMANDS_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "eas/wbxml.h"
#include "wbxml/tree.h"

/* Settings Status values, top level and per property (MS-ASCMD 2.2.3.177.15). */
enum {
	EAS_SETTINGS_OK = 1,
	EAS_SETTINGS_PROTOCOL_ERROR = 2,
	EAS_SETTINGS_ACCESS_DENIED = 3,
	EAS_SETTINGS_SERVER_UNAVAILABLE = 4,
	EAS_SETTINGS_INVALID_ARGUMENTS = 5,
	EAS_SETTINGS_CONFLICTING_ARGUMENTS = 6,
	EAS_SETTINGS_DENIED_BY_POLICY = 7
};

/* OofState values. */
enum { EAS_OOF_DISABLED = 0, EAS_OOF_GLOBAL = 1, EAS_OOF_TIME_BASED = 2 };

/* BodyType values (exact spelling). */
#define EAS_SETTINGS_BODY_TEXT "Text"
#define EAS_SETTINGS_BODY_HTML "HTML"

/* ---- DeviceInformation (shared with Provision) ---------------------------- */

/* DeviceInformation/Set.  NULL strings are not sent; "" sends an empty element (clears the value). */
typedef struct eas_settings_device_info {
	const char *model;           /* required inside Provision (MS-ASPROV 2.2.2.53) */
	const char *imei;
	const char *friendly_name;
	const char *os;
	const char *os_language;
	const char *phone_number;
	const char *user_agent;      /* 12.1+ */
	const char *mobile_operator; /* 14.0+ */
	int has_enable_outbound_sms; /* 14.0+ */
	uint32_t enable_outbound_sms; /* 0 or 1 */
} eas_settings_device_info;

/*
 * Writes <settings:DeviceInformation><settings:Set>...</Set></DeviceInformation>.
 * EAS_E_INVALID when no field is set or EnableOutboundSMS is not 0/1.
 */
int eas_settings_device_info_encode(eas_wbxml_encoder *enc, const eas_settings_device_info *info);
/* Reads a DeviceInformation element holding Set (a request); "missing Settings:Set" otherwise. */
int eas_settings_device_info_decode(eas_settings_device_info *out, const eas_node *device_information,
				    char *err, size_t err_size);

/* ---- Oof ------------------------------------------------------------------ */

typedef enum eas_oof_audience {
	EAS_OOF_INTERNAL = 0,       /* AppliesToInternal */
	EAS_OOF_EXTERNAL_KNOWN = 1, /* AppliesToExternalKnown */
	EAS_OOF_EXTERNAL_UNKNOWN = 2 /* AppliesToExternalUnknown */
} eas_oof_audience;

typedef struct eas_oof_message {
	eas_oof_audience audience;
	int has_enabled;
	int enabled;                /* Enabled: 1 = reply to this audience */
	const char *reply_message;  /* NULL = absent */
	const char *body_type;      /* "Text"/"HTML"; required with reply_message; NULL = absent */
} eas_oof_message;

#define EAS_OOF_MAX_MESSAGES 3

/* The content of Oof/Set (request) or Oof/Get (response). */
typedef struct eas_oof_settings {
	int has_state;
	uint32_t state;             /* EAS_OOF_DISABLED / GLOBAL / TIME_BASED */
	const char *start_time;     /* datetime, e.g. "2007-05-08T17:00:00.000Z"; both or neither */
	const char *end_time;
	eas_oof_message messages[EAS_OOF_MAX_MESSAGES]; /* one per audience at most */
	size_t message_count;
} eas_oof_settings;

/* ---- request -------------------------------------------------------------- */

typedef enum eas_settings_oof_op {
	EAS_SETTINGS_OOF_NONE = 0,
	EAS_SETTINGS_OOF_GET,       /* Oof/Get/BodyType */
	EAS_SETTINGS_OOF_SET        /* Oof/Set */
} eas_settings_oof_op;

typedef struct eas_settings_request {
	eas_settings_oof_op oof;
	const char *oof_body_type;     /* OOF_GET: the BodyType wanted (required) */
	eas_oof_settings oof_set;      /* OOF_SET */
	const char *device_password;   /* DevicePassword/Set/Password; "" clears it; NULL = none */
	int has_device_info;
	eas_settings_device_info device_info;
	int user_info;                 /* UserInformation/Get */
	int rights_management;         /* RightsManagementInformation/Get (14.1+) */
} eas_settings_request;

/* ---- response ------------------------------------------------------------- */

/* One Accounts/Account (14.1+). */
typedef struct eas_settings_account {
	const char *account_id;          /* NULL when absent */
	const char *account_name;
	const char *user_display_name;
	int has_send_disabled;
	int send_disabled;               /* 1: this account cannot send */
	const char *primary_smtp_address; /* EmailAddresses/PrimarySmtpAddress */
	const eas_node *email_addresses; /* decode: EmailAddresses, for eas_settings_next_smtp_address */
	const char *const *smtp_addresses; /* encode */
	size_t smtp_address_count;         /* encode */
} eas_settings_account;

/* UserInformation/Get. */
typedef struct eas_settings_user_info {
	/* 12.0-14.0: Get/EmailAddresses/SMTPAddress+ */
	const eas_node *email_addresses;   /* decode */
	const char *const *smtp_addresses; /* encode */
	size_t smtp_address_count;         /* encode */
	const char *primary_smtp_address;  /* Get/EmailAddresses/PrimarySmtpAddress, rare */
	/* 14.1+: Get/Accounts/Account+ */
	const eas_node *accounts;          /* decode: Accounts, for eas_settings_next_account */
	const eas_settings_account *account_list; /* encode */
	size_t account_count;              /* encode */
} eas_settings_user_info;

typedef struct eas_settings_response {
	uint32_t status;                   /* Settings/Status, required */
	int has_oof;
	uint32_t oof_status;
	int has_oof_get;                   /* Oof/Get present (answer to a Get) */
	eas_oof_settings oof;
	int has_device_password;
	uint32_t device_password_status;
	int has_device_info;
	uint32_t device_info_status;
	int has_user_info;
	uint32_t user_info_status;
	int has_user_info_get;             /* UserInformation/Get present */
	eas_settings_user_info user_info;
	int has_rights_management;
	uint32_t rights_management_status;
	const eas_node *rights_management_get; /* decode: RightsManagementInformation/Get for the rm: module */
} eas_settings_response;

int eas_settings_request_encode(eas_wbxml_encoder *enc, const eas_settings_request *req);
int eas_settings_request_decode(eas_settings_request *out, const eas_node *root, char *err, size_t err_size);

int eas_settings_response_encode(eas_wbxml_encoder *enc, const eas_settings_response *resp);
int eas_settings_response_decode(eas_settings_response *out, const eas_node *root, char *err, size_t err_size);

/*
 * Iterates over the SMTPAddress children of an EmailAddresses element (NULL
 * is an empty list).  Start with *cursor = NULL; returns 1 with *out set, 0
 * at the end.
 */
int eas_settings_next_smtp_address(const eas_node *email_addresses, const eas_node **cursor, const char **out);

/*
 * Iterates over Accounts/Account of a decoded UserInformation.  Start with
 * *cursor = NULL; returns 1 with *out filled, 0 at the end, or
 * EAS_E_MALFORMED (err names the element).
 */
int eas_settings_next_account(const eas_settings_user_info *ui, const eas_node **cursor,
			      eas_settings_account *out, char *err, size_t err_size);

#endif
