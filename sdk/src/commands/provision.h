/*
 * Provision (MS-ASPROV) as C structs, encoded and decoded in both
 * directions: the client encodes requests and decodes responses, the
 * companion server the opposite, through the same functions.
 *
 * The flow these structs carry:
 *   initial request   Provision{ settings:DeviceInformation? (14.1+), Policies{Policy{PolicyType}} }
 *   initial response  Provision{ settings:DeviceInformation{Status}?, Status,
 *                                Policies{Policy{PolicyType, Status, PolicyKey, Data}}?,
 *                                RemoteWipe?, AccountOnlyRemoteWipe? (16.1) }
 *   acknowledgment    Provision{ Policies{Policy{PolicyType, PolicyKey, Status}} }
 *   wipe ack          Provision{ RemoteWipe{Status} } or Provision{ AccountOnlyRemoteWipe{Status} }
 *   final response    Provision{ Status, Policies{Policy{PolicyType, Status, PolicyKey}} }
 *
 * Data is an EASProvisionDoc (PolicyType MS-EAS-Provisioning-WBXML, 12.0+)
 * or, for protocol 2.5 (MS-WAP-Provisioning-XML), a WAP provisioning XML
 * document carried as a WBXML string.  Both decode into the public
 * eas_policy (eas/policy.h); the XML is data and is parsed with expat under
 * tight limits (no DTD, no entities, depth and size caps).
 *
 * Differences from the plain pattern (folder_sync.h), because the policy
 * must outlive the WBXML tree: the response decoder takes an eas_mem and
 * gives the policy one owned allocation (its application lists), released
 * by eas_provision_response_clear(); every other decoded string still
 * points into the tree.
 */
#ifndef EAS_SRC_COMMANDS_PROVISION_H
#define EAS_SRC_COMMANDS_PROVISION_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "eas/policy.h"
#include "eas/wbxml.h"
#include "settings.h"
#include "wbxml/tree.h"

#define EAS_POLICY_TYPE_WAP_XML "MS-WAP-Provisioning-XML"     /* protocol 2.5 */
#define EAS_POLICY_TYPE_EAS_WBXML "MS-EAS-Provisioning-WBXML" /* 12.0 and later */

/* Provision/Status (MS-ASPROV 2.2.2.54.2, 3.1.5.2; any common status of MS-ASCMD 2.2.2 too). */
enum {
	EAS_PROVISION_OK = 1,
	EAS_PROVISION_PROTOCOL_ERROR = 2,
	EAS_PROVISION_SERVER_ERROR = 3,
	EAS_PROVISION_DEVICE_NOT_FULLY_PROVISIONABLE = 139,
	EAS_PROVISION_LEGACY_DEVICE_ON_STRICT_POLICY = 141,
	EAS_PROVISION_EXTERNALLY_MANAGED = 145,
	EAS_PROVISION_DEVICE_INFORMATION_REQUIRED = 165,
	EAS_PROVISION_MAXIMUM_DEVICES_REACHED = 177
};

/* Policy/Status from the server (2.2.2.54.1). */
enum {
	EAS_POLICY_STATUS_OK = 1,
	EAS_POLICY_STATUS_NO_POLICY = 2,
	EAS_POLICY_STATUS_UNKNOWN_TYPE = 3,
	EAS_POLICY_STATUS_CORRUPT = 4,
	EAS_POLICY_STATUS_WRONG_KEY = 5
};

/* Policy/Status in the client's acknowledgment. */
enum {
	EAS_POLICY_ACK_APPLIED = 1,
	EAS_POLICY_ACK_PARTIAL = 2,     /* at least the PIN */
	EAS_POLICY_ACK_NOT_APPLIED = 3,
	EAS_POLICY_ACK_THIRD_PARTY = 4
};

/* RemoteWipe/Status and AccountOnlyRemoteWipe/Status in the client's acknowledgment. */
enum { EAS_WIPE_ACK_SUCCESS = 1, EAS_WIPE_ACK_FAILURE = 2 };

/* PolicyType for a protocol version (one EAS_PROTO_* bit), or NULL. */
const char *eas_provision_policy_type(unsigned version);

/* ---- request -------------------------------------------------------------- */

typedef struct eas_provision_request {
	/*
	 * Encode: one EAS_PROTO_* bit to check what the tag table cannot
	 * (DeviceInformation only and always in a 14.1+ initial request,
	 * PolicyType matching the version), or 0 to skip those checks.
	 * Decode: left 0.
	 */
	unsigned protocol_version;
	int has_device_info;
	eas_settings_device_info device_info; /* initial request, 14.1+; Model required */
	const char *policy_type;      /* Policies/Policy/PolicyType; NULL = no Policies */
	const char *policy_key;       /* acknowledgment: the temporary key; NULL in the initial request */
	uint32_t policy_status;       /* acknowledgment: EAS_POLICY_ACK_* (with policy_key) */
	uint32_t remote_wipe_status;  /* 0 = no RemoteWipe; else EAS_WIPE_ACK_* */
	uint32_t account_only_remote_wipe_status; /* 0 = none; else EAS_WIPE_ACK_* (16.1) */
} eas_provision_request;

/*
 * EAS_E_INVALID for: a policy key without a policy type or status 1-4, a
 * status without a key, DeviceInformation in an acknowledgment, a wipe
 * status other than 0-2; with protocol_version set also for a PolicyType
 * that is not the version's, DeviceInformation before 14.1, or a 14.1+
 * initial request without it.  EAS_E_UNSUPPORTED (from the encoder) for
 * elements the encoder's version lacks (AccountOnlyRemoteWipe before 16.1...).
 */
int eas_provision_request_encode(eas_wbxml_encoder *enc, const eas_provision_request *req);
int eas_provision_request_decode(eas_provision_request *out, const eas_node *root, char *err, size_t err_size);

/* ---- response ------------------------------------------------------------- */

typedef enum eas_provision_data_kind {
	EAS_PROVISION_DATA_NONE = 0,   /* no Data (acknowledgment response, failure, unknown PolicyType) */
	EAS_PROVISION_DATA_EAS_DOC,    /* Data/EASProvisionDoc -> policy */
	EAS_PROVISION_DATA_WAP_XML     /* Data as MS-WAP-Provisioning-XML text -> wap_xml and policy */
} eas_provision_data_kind;

typedef struct eas_provision_response {
	uint32_t status;              /* Provision/Status */
	int has_device_info;          /* settings:DeviceInformation{Status} (14.1+) */
	uint32_t device_info_status;
	int has_policy;               /* Policies/Policy present */
	const char *policy_type;
	uint32_t policy_status;       /* EAS_POLICY_STATUS_* */
	const char *policy_key;       /* NULL when absent */
	eas_provision_data_kind data;
	eas_policy policy;            /* decode: owned (see eas_provision_response_clear); encode: written for EAS_DOC */
	const char *wap_xml;          /* WAP_XML: the XML text (decode: into the tree; encode: written as is) */
	size_t wap_xml_len;           /* decode only */
	int remote_wipe;              /* <RemoteWipe/>: wipe the device, then acknowledge */
	int account_only_remote_wipe; /* <AccountOnlyRemoteWipe/> (16.1): wipe this account's data */
} eas_provision_response;

/* Zeroes r and initialises its policy. */
void eas_provision_response_init(eas_provision_response *r);
/* Releases the policy's allocation; r stays valid (as after init). */
void eas_provision_response_clear(eas_provision_response *r);

/*
 * For EAS_DOC the policy's present elements are written (the encoder's
 * version gates them: a 12.1 element at 12.0 is EAS_E_UNSUPPORTED); empty
 * ones as empty elements.  For WAP_XML, wap_xml must be set.
 */
int eas_provision_response_encode(eas_wbxml_encoder *enc, const eas_provision_response *resp);

/*
 * Decodes a response.  mem (NULL = libc) makes the policy's allocation and
 * expat's; on any failure *out holds nothing owned.  Errors:
 * EAS_E_MALFORMED (err names the element: missing Status, bad numbers,
 * policy values out of range, hostile or broken WAP XML), EAS_E_LIMIT (WAP
 * XML too large or deep), EAS_E_NOMEM.  Call eas_provision_response_clear()
 * after a success.
 */
int eas_provision_response_decode(eas_provision_response *out, const eas_node *root, const eas_mem *mem,
				  char *err, size_t err_size);

/* ---- the policy on its own ---------------------------------------------------- */

/* Writes <EASProvisionDoc> with the present elements of p. */
int eas_provision_doc_encode(eas_wbxml_encoder *enc, const eas_policy *p);
/* Reads an EASProvisionDoc element into *out (initialised here; clear it after success). */
int eas_provision_doc_decode(eas_policy *out, const eas_node *doc, const eas_mem *mem, char *err, size_t err_size);

/* Limits on the 2.5 policy XML. */
#define EAS_WAP_POLICY_MAX_BYTES (64u * 1024u)
#define EAS_WAP_POLICY_MAX_DEPTH 8u

/*
 * Parses an MS-WAP-Provisioning-XML document (wap-provisioningdoc with
 * SecurityPolicy and Registry characteristics) into *out (initialised
 * here; nothing owned).  Mapping (MS-ASPROV 2.2.2.24.2):
 *   4131 0/1              -> DevicePasswordEnabled 1/0
 *   4133                  -> wap_unlock_from_computer
 *   AEFrequencyType/Value -> MaxInactivityTimeDeviceLock (minutes * 60; type 0 = empty)
 *   DeviceWipeThreshold   -> MaxDevicePasswordFailedAttempts (<= 0 = empty)
 *   CodewordFrequency     -> wap_codeword_frequency
 *   MinimumPasswordLength -> MinDevicePasswordLength
 *   PasswordComplexity    -> AlphanumericDevicePasswordRequired (0 = required)
 * Unknown characteristics and parms are skipped.  DOCTYPE, entity
 * declarations and external entities are refused (EAS_E_MALFORMED); more
 * than EAS_WAP_POLICY_MAX_BYTES or deeper than EAS_WAP_POLICY_MAX_DEPTH is
 * EAS_E_LIMIT.
 */
int eas_provision_wap_policy_parse(eas_policy *out, const char *xml, size_t len, const eas_mem *mem,
				   char *err, size_t err_size);

/* The reverse, for the companion server: appends the XML for p's present settings to out. */
int eas_provision_wap_policy_write(eas_buf *out, const eas_policy *p);

#endif
