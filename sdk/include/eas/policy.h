/*
 * libeas — the device security policy a server hands out through Provision
 * (MS-ASPROV), as one typed struct the app inspects and enforces.
 *
 * Every EASProvisionDoc element (MS-ASPROV 2.2.2.28) has a field, plus the
 * two settings of the protocol 2.5 MS-WAP-Provisioning-XML form that have no
 * EASProvisionDoc twin.  Whether the server sent an element at all, and
 * whether it sent it empty ("<MaxAttachmentSize/>": the setting is unset),
 * is kept apart from the value in two bit sets, so that absence never
 * hides behind a value:
 *
 *     if (eas_policy_state(p, EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH) == EAS_POLICY_SET)
 *             require_length(p->min_device_password_length);
 *
 * Fields the server did not set hold what MS-ASPROV tells a client to assume
 * ("not included: treat as 1" and so on; see each field), so a client may
 * also read the fields directly and get the effective policy.
 *
 * Ownership: a policy decoded by libeas is self-contained: its two
 * application lists live in ONE allocation made with the decoder's eas_mem
 * and released by eas_policy_clear() (no pointer into the WBXML tree or the
 * XML text it came from).  A policy the app fills itself (a server building
 * one to send) may point its lists at the app's own strings; then
 * eas_policy_clear() frees nothing of them.
 */
#ifndef EAS_POLICY_H
#define EAS_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One id per policy element, in EASProvisionDoc's (alphabetical) order. */
typedef enum eas_policy_id {
	EAS_POLICY_ALLOW_BLUETOOTH = 0,
	EAS_POLICY_ALLOW_BROWSER,
	EAS_POLICY_ALLOW_CAMERA,
	EAS_POLICY_ALLOW_CONSUMER_EMAIL,
	EAS_POLICY_ALLOW_DESKTOP_SYNC,
	EAS_POLICY_ALLOW_HTML_EMAIL,
	EAS_POLICY_ALLOW_INTERNET_SHARING,
	EAS_POLICY_ALLOW_IRDA,
	EAS_POLICY_ALLOW_POP_IMAP_EMAIL,
	EAS_POLICY_ALLOW_REMOTE_DESKTOP,
	EAS_POLICY_ALLOW_SIMPLE_DEVICE_PASSWORD,
	EAS_POLICY_ALLOW_SMIME_ENCRYPTION_ALGORITHM_NEGOTIATION,
	EAS_POLICY_ALLOW_SMIME_SOFT_CERTS,
	EAS_POLICY_ALLOW_STORAGE_CARD,
	EAS_POLICY_ALLOW_TEXT_MESSAGING,
	EAS_POLICY_ALLOW_UNSIGNED_APPLICATIONS,
	EAS_POLICY_ALLOW_UNSIGNED_INSTALLATION_PACKAGES,
	EAS_POLICY_ALLOW_WIFI,
	EAS_POLICY_ALPHANUMERIC_DEVICE_PASSWORD_REQUIRED,
	EAS_POLICY_APPROVED_APPLICATION_LIST,
	EAS_POLICY_ATTACHMENTS_ENABLED,
	EAS_POLICY_DEVICE_PASSWORD_ENABLED,
	EAS_POLICY_DEVICE_PASSWORD_EXPIRATION,
	EAS_POLICY_DEVICE_PASSWORD_HISTORY,
	EAS_POLICY_MAX_ATTACHMENT_SIZE,
	EAS_POLICY_MAX_CALENDAR_AGE_FILTER,
	EAS_POLICY_MAX_DEVICE_PASSWORD_FAILED_ATTEMPTS,
	EAS_POLICY_MAX_EMAIL_AGE_FILTER,
	EAS_POLICY_MAX_EMAIL_BODY_TRUNCATION_SIZE,
	EAS_POLICY_MAX_EMAIL_HTML_BODY_TRUNCATION_SIZE,
	EAS_POLICY_MAX_INACTIVITY_TIME_DEVICE_LOCK,
	EAS_POLICY_MIN_DEVICE_PASSWORD_COMPLEX_CHARACTERS,
	EAS_POLICY_MIN_DEVICE_PASSWORD_LENGTH,
	EAS_POLICY_PASSWORD_RECOVERY_ENABLED,
	EAS_POLICY_REQUIRE_DEVICE_ENCRYPTION,
	EAS_POLICY_REQUIRE_ENCRYPTED_SMIME_MESSAGES,
	EAS_POLICY_REQUIRE_ENCRYPTION_SMIME_ALGORITHM,
	EAS_POLICY_REQUIRE_MANUAL_SYNC_WHEN_ROAMING,
	EAS_POLICY_REQUIRE_SIGNED_SMIME_ALGORITHM,
	EAS_POLICY_REQUIRE_SIGNED_SMIME_MESSAGES,
	EAS_POLICY_REQUIRE_STORAGE_CARD_ENCRYPTION,
	EAS_POLICY_UNAPPROVED_IN_ROM_APPLICATION_LIST,
	/* Protocol 2.5 only (MS-WAP-Provisioning-XML); never in an EASProvisionDoc. */
	EAS_POLICY_WAP_UNLOCK_FROM_COMPUTER,   /* SecurityPolicy parm 4133 */
	EAS_POLICY_WAP_CODEWORD_FREQUENCY,     /* Registry parm CodewordFrequency */
	EAS_POLICY_ID_COUNT
} eas_policy_id;

/* The bit of an id in eas_policy.present / .empty. */
#define EAS_POLICY_BIT(id) ((uint64_t)1 << (unsigned)(id))

/* How the server gave one element. */
typedef enum eas_policy_state {
	EAS_POLICY_ABSENT = 0, /* not in the document: the field holds the default */
	EAS_POLICY_EMPTY = 1,  /* an empty element: the setting is unset (default in the field) */
	EAS_POLICY_SET = 2     /* the field holds the server's value */
} eas_policy_state;

/* Values of the enumerated elements. */
enum {
	EAS_POLICY_BLUETOOTH_DISABLED = 0,
	EAS_POLICY_BLUETOOTH_HANDSFREE_ONLY = 1,
	EAS_POLICY_BLUETOOTH_ALLOWED = 2
};
enum {
	EAS_POLICY_SMIME_NEGOTIATE_NONE = 0,
	EAS_POLICY_SMIME_NEGOTIATE_STRONG = 1,
	EAS_POLICY_SMIME_NEGOTIATE_ANY = 2
};
enum { EAS_POLICY_SMIME_SIGN_SHA1 = 0, EAS_POLICY_SMIME_SIGN_MD5 = 1 };
enum {
	EAS_POLICY_SMIME_ENCRYPT_3DES = 0,
	EAS_POLICY_SMIME_ENCRYPT_DES = 1,
	EAS_POLICY_SMIME_ENCRYPT_RC2_128 = 2,
	EAS_POLICY_SMIME_ENCRYPT_RC2_64 = 3,
	EAS_POLICY_SMIME_ENCRYPT_RC2_40 = 4
};
/* MaxInactivityTimeDeviceLock at or above this many seconds means "unlimited". */
#define EAS_POLICY_INACTIVITY_UNLIMITED 9999u

/*
 * The policy.  Booleans are int 0/1; "(default x)" is the value a field
 * holds when the element is absent or empty.  Ranges are those MS-ASPROV
 * allows; the WBXML decoder refuses values outside them (EAS_E_MALFORMED).
 */
typedef struct eas_policy {
	uint64_t present; /* EAS_POLICY_BIT(id): the element was in the document */
	uint64_t empty;   /* EAS_POLICY_BIT(id): ... and it was empty */

	/* ---- device password ---- */
	int device_password_enabled;               /* a password/PIN is required (default 0) */
	int alphanumeric_device_password_required; /* letters and digits (default 0) */
	int allow_simple_device_password;          /* "1111", "1234" allowed (default 1) */
	int password_recovery_enabled;             /* recovery password may go to the server (default 0) */
	uint32_t min_device_password_length;       /* 1-16; 1 or 0 (default) = no minimum */
	uint32_t min_device_password_complex_characters; /* 1-4 character groups (default 1) */
	uint32_t max_device_password_failed_attempts;    /* 4-16, then wipe; 0 (default) = no limit */
	uint32_t device_password_expiration;       /* days; 0 (default) = never */
	uint32_t device_password_history;          /* old passwords kept (default 0) */
	uint32_t max_inactivity_time_device_lock;  /* seconds; >= 9999 unlimited; 0 (default) = none set */

	/* ---- device features ---- */
	uint32_t allow_bluetooth;                  /* EAS_POLICY_BLUETOOTH_* (default 2) */
	int allow_browser;                         /* (default 1) */
	int allow_camera;                          /* (default 1) */
	int allow_consumer_email;                  /* (default 1) */
	int allow_desktop_sync;                    /* (default 1) */
	int allow_internet_sharing;                /* (default 1) */
	int allow_irda;                            /* (default 1) */
	int allow_pop_imap_email;                  /* (default 1) */
	int allow_remote_desktop;                  /* (default 1) */
	int allow_storage_card;                    /* (default 1) */
	int allow_text_messaging;                  /* (default 1) */
	int allow_unsigned_applications;           /* (default 1) */
	int allow_unsigned_installation_packages;  /* (default 1) */
	int allow_wifi;                            /* (default 1) */
	int require_device_encryption;             /* (default 0) */
	int require_storage_card_encryption;       /* (default 0) */
	int require_manual_sync_when_roaming;      /* (default 0) */

	/* ---- mail ---- */
	int attachments_enabled;                   /* (default 1) */
	uint32_t max_attachment_size;              /* bytes; 0 (default) = no limit */
	int allow_html_email;                      /* (default 1) */
	uint32_t max_calendar_age_filter;          /* 0 all, 4 2 weeks, 5 1 month, 6 3 months, 7 6 months (default 0) */
	uint32_t max_email_age_filter;             /* 0 all, 1 day, 2 3 days, 3 week, 4 2 weeks, 5 month (default 0) */
	int32_t max_email_body_truncation_size;    /* -1 (default) none, 0 headers only, > 0 size */
	int32_t max_email_html_body_truncation_size; /* same */

	/* ---- S/MIME ---- */
	int require_signed_smime_messages;         /* (default 0) */
	int require_encrypted_smime_messages;      /* (default 0) */
	uint32_t require_signed_smime_algorithm;   /* EAS_POLICY_SMIME_SIGN_* (default 0) */
	uint32_t require_encryption_smime_algorithm; /* EAS_POLICY_SMIME_ENCRYPT_* (default 0) */
	uint32_t allow_smime_encryption_algorithm_negotiation; /* EAS_POLICY_SMIME_NEGOTIATE_* (default 2) */
	int allow_smime_soft_certs;                /* (default 1) */

	/* ---- applications ---- */
	/* ApprovedApplicationList/Hash: SHA-1 hashes of in-memory applications allowed to run. */
	const char *const *approved_applications;
	size_t approved_application_count;
	/* UnapprovedInROMApplicationList/ApplicationName: in-ROM applications that must not run. */
	const char *const *unapproved_in_rom_applications;
	size_t unapproved_in_rom_application_count;

	/* ---- protocol 2.5 (MS-WAP-Provisioning-XML) only ---- */
	int wap_unlock_from_computer;              /* parm 4133: 1 = a desktop may unlock the device (default 0) */
	uint32_t wap_codeword_frequency;           /* failed attempts before a "type a codeword" prompt (default 0) */

	/* private: the one allocation holding decoded lists, and its allocator */
	void *storage_;
	eas_mem storage_mem_;
} eas_policy;

/* Fills p with the defaults above; nothing present, nothing owned. */
EAS_EXTERN void eas_policy_init(eas_policy *p);

/* Frees what p owns (the decoded lists) and re-initialises it.  NULL is fine. */
EAS_EXTERN void eas_policy_clear(eas_policy *p);

/*
 * Deep copy: *out gets every field of *in and its own copy of both lists,
 * in one allocation made with mem (NULL = libc), to release with
 * eas_policy_clear(out).  Returns 0, EAS_E_NOMEM (out left initialised) or
 * EAS_E_INVALID.  out must not hold an owned allocation (clear it first).
 */
EAS_EXTERN int eas_policy_copy(eas_policy *out, const eas_policy *in, const eas_mem *mem);

/* How the element was given; EAS_POLICY_ABSENT for an id out of range. */
EAS_EXTERN eas_policy_state eas_policy_state_of(const eas_policy *p, eas_policy_id id);

/*
 * Numeric view of a scalar element (booleans as 0/1, the truncation sizes
 * as signed): *out gets the field's value, set or default.  EAS_E_INVALID
 * for the two list ids or an id out of range.
 */
EAS_EXTERN int eas_policy_get(const eas_policy *p, eas_policy_id id, int64_t *out);

/*
 * Sets a scalar element to a value and marks it present (not empty):
 * EAS_E_INVALID when the value is outside the element's range (booleans
 * 0/1, AllowBluetooth 0-2, MinDevicePasswordLength 1-16, ...) or the id is
 * a list.  For a server building a policy from configuration.
 */
EAS_EXTERN int eas_policy_set(eas_policy *p, eas_policy_id id, int64_t value);

/*
 * Marks an element present and empty (the setting is unset); the field gets
 * its default, a list no items (an owned allocation stays until clear).
 */
EAS_EXTERN int eas_policy_set_empty(eas_policy *p, eas_policy_id id);

/* Element name ("MaxAttachmentSize"; the 2.5 ones "4133", "CodewordFrequency"), or NULL. */
EAS_EXTERN const char *eas_policy_name(eas_policy_id id);

/* Id of an element name (exact, case-sensitive), or -1. */
EAS_EXTERN int eas_policy_lookup(const char *name);

/*
 * Writes one "Name=value" line per present element ("Name=" for an empty
 * one, lists as "Name=a,b") into buf, NUL-terminated and truncated to
 * size like snprintf.  Returns the length the whole text needs (excluding
 * the NUL).  For logs and the sample client; contains no secrets.
 */
EAS_EXTERN size_t eas_policy_describe(const eas_policy *p, char *buf, size_t size);

#ifdef __cplusplus
}
#endif

#endif /* EAS_POLICY_H */
