/*
 * libeas — the Email class (MS-ASEMAIL) as C structs: the Email and Email2
 * namespaces plus the AirSyncBase body and attachment elements and the Tasks
 * dates of a flag, as they travel inside airsync:ApplicationData of a Sync
 * response, an ItemOperations fetch or a Search result.
 *
 * Conventions:
 *  - a zeroed struct is an empty email; optional numbers and booleans come
 *    with a has_<name> flag, optional strings are NULL when absent;
 *  - dates are strings exactly as on the wire, dashed UTC dateTime
 *    ("2024-03-01T08:30:00.000Z");
 *  - decoding fills a caller's eas_email whose strings point into storage
 *    the decoder allocated: they stay valid until eas_email_clear();
 *  - encoding writes the CHILDREN of ApplicationData, so it can be passed to
 *    the Sync writer as an item's write_data; elements the protocol version
 *    lacks are left out (Categories before 14.0, Email2 before 14.0, ...),
 *    and 2.5 gets its own forms (email:Body, email:Attachments).
 *
 * Values longer than the Sync parser's threshold (a large Body Data, a MIME
 * blob) reach the application through its big_value callback; the item's
 * document then holds the element empty, so body.has_data is 1 with
 * data_len 0 and the Sync item's `streamed` count says why.
 */
#ifndef EAS_EMAIL_H
#define EAS_EMAIL_H

#include <stddef.h>
#include <stdint.h>

#include "eas/common.h"
#include "eas/wbxml.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Importance. */
#define EAS_EMAIL_IMPORTANCE_LOW 0
#define EAS_EMAIL_IMPORTANCE_NORMAL 1 /* the meaning when absent */
#define EAS_EMAIL_IMPORTANCE_HIGH 2

/* airsyncbase:Type of a body. */
#define EAS_BODY_TYPE_PLAIN 1
#define EAS_BODY_TYPE_HTML 2
#define EAS_BODY_TYPE_RTF 3
#define EAS_BODY_TYPE_MIME 4

/* Flag Status. */
#define EAS_EMAIL_FLAG_CLEARED 0
#define EAS_EMAIL_FLAG_COMPLETE 1
#define EAS_EMAIL_FLAG_ACTIVE 2

/* airsyncbase:Method of an attachment. */
#define EAS_ATTACHMENT_NORMAL 1
#define EAS_ATTACHMENT_EMBEDDED_MESSAGE 5
#define EAS_ATTACHMENT_OLE 6

/* email2:LastVerbExecuted. */
#define EAS_EMAIL_VERB_UNKNOWN 0
#define EAS_EMAIL_VERB_REPLY_TO_SENDER 1
#define EAS_EMAIL_VERB_REPLY_ALL 2
#define EAS_EMAIL_VERB_FORWARD 3

/* email2:MeetingMessageType (14.1+). */
#define EAS_MEETING_MESSAGE_SILENT 0
#define EAS_MEETING_MESSAGE_INITIAL 1
#define EAS_MEETING_MESSAGE_FULL_UPDATE 2
#define EAS_MEETING_MESSAGE_INFORMATIONAL_UPDATE 3
#define EAS_MEETING_MESSAGE_OUTDATED 4
#define EAS_MEETING_MESSAGE_DELEGATORS_COPY 5
#define EAS_MEETING_MESSAGE_DELEGATED 6

/* airsyncbase:Body, or airsyncbase:BodyPart (14.1+, which adds a Status). */
typedef struct eas_email_body {
	int present;
	uint32_t type;                /* EAS_BODY_TYPE_* */
	int has_estimated_data_size;
	uint32_t estimated_data_size; /* bytes of the whole body */
	int truncated;
	int has_data;                 /* a Data element is there */
	const char *data;             /* UTF-8 (base64 for RTF); may be empty when streamed */
	size_t data_len;
	const char *preview;          /* 14.0+: plain-text preview */
	int has_status;               /* BodyPart only: 1 ok, 176 too large */
	uint32_t status;
	/*
	 * Encoding only: writes the content of Data (e.g. a large body with
	 * eas_wbxml_encoder_opaque_begin/_write) instead of data/data_len.
	 */
	int (*write_data)(eas_wbxml_encoder *enc, void *arg);
	void *write_data_arg;
} eas_email_body;

/* airsyncbase:Attachment (12.0+), or email:Attachment (2.5: AttName, AttSize, Att0Id, AttMethod). */
typedef struct eas_email_attachment {
	const char *display_name;
	const char *file_reference;   /* for ItemOperations Fetch; 2.5: AttName */
	uint32_t method;              /* EAS_ATTACHMENT_*; 2.5: AttMethod */
	int has_estimated_data_size;
	uint32_t estimated_data_size; /* 2.5: AttSize */
	const char *content_id;       /* 2.5: Att0Id */
	const char *content_location;
	int is_inline;
	const char *content_type;
	int has_um_att_duration;      /* voice mail (email2) */
	uint32_t um_att_duration;
	int has_um_att_order;
	uint32_t um_att_order;
} eas_email_attachment;

/* Flag (12.0+); the dates are in the Tasks namespace except CompleteTime. */
typedef struct eas_email_flag {
	int present;             /* with nothing else set: an empty <Flag/>, which clears the flag */
	int has_status;
	uint32_t status;         /* EAS_EMAIL_FLAG_* */
	const char *flag_type;   /* e.g. "Flag for follow up" */
	const char *complete_time;
	const char *date_completed;
	const char *start_date, *utc_start_date;
	const char *due_date, *utc_due_date;
	int has_reminder_set;
	int reminder_set;
	const char *reminder_time;
	const char *ordinal_date, *sub_ordinal_date;
	const char *subject;
} eas_email_flag;

/* MeetingRequest/Recurrences/Recurrence. */
typedef struct eas_email_recurrence {
	uint32_t type;
	uint32_t interval;
	const char *until;
	int has_occurrences;
	uint32_t occurrences;
	int has_week_of_month;
	uint32_t week_of_month;
	int has_day_of_month;
	uint32_t day_of_month;
	int has_day_of_week;
	uint32_t day_of_week;
	int has_month_of_year;
	uint32_t month_of_year;
	int has_calendar_type;   /* email2, 14.0+ */
	uint32_t calendar_type;
	int has_is_leap_month;   /* email2, 14.0+ */
	int is_leap_month;
	int has_first_day_of_week; /* email2, 14.1+ */
	uint32_t first_day_of_week;
} eas_email_recurrence;

/* MeetingRequest: present when the message invites the user (answer with MeetingResponse). */
typedef struct eas_email_meeting_request {
	int present;
	int has_all_day_event;
	int all_day_event;
	const char *start_time, *end_time, *dt_stamp;
	int has_instance_type;
	uint32_t instance_type;  /* 0 single, 1 master, 2 instance, 3 exception, 4 orphan */
	const char *location;    /* email:Location (<= 14.1) or airsyncbase:Location/DisplayName (16.x) */
	const char *organizer;
	const char *recurrence_id;
	int has_reminder;
	uint32_t reminder;       /* seconds */
	int has_response_requested;
	int response_requested;
	int has_recurrence;      /* the first Recurrence; recurrence_count counts them all */
	eas_email_recurrence recurrence;
	size_t recurrence_count;
	int has_sensitivity;
	uint32_t sensitivity;
	int has_busy_status;
	uint32_t busy_status;
	const char *time_zone;   /* base64 TIME_ZONE_INFORMATION */
	const char *global_obj_id; /* <= 14.1 */
	const char *uid;         /* calendar:UID, 16.x */
	int has_disallow_new_time_proposal;
	int disallow_new_time_proposal;
	int has_meeting_message_type; /* email2, 14.1+ */
	uint32_t meeting_message_type;
} eas_email_meeting_request;

/* Protocol 2.5 body forms. */
typedef struct eas_email_legacy {
	const char *body;        /* email:Body */
	size_t body_len;
	int has_body_size;
	uint32_t body_size;
	int body_truncated;
	const char *mime_data;   /* email:MIMEData */
	size_t mime_data_len;
	int has_mime_size;
	uint32_t mime_size;
	int mime_truncated;
} eas_email_legacy;

typedef struct eas_email {
	/* Email */
	const char *to, *cc, *from, *reply_to; /* RFC 822 address lists */
	const char *subject;
	const char *date_received;
	const char *display_to;
	const char *thread_topic;
	int has_importance;
	uint32_t importance;     /* EAS_EMAIL_IMPORTANCE_* */
	int has_read;
	int read;
	const char *message_class; /* "IPM.Note", "IPM.Schedule.Meeting.Request"... */
	const char *internet_cpid; /* e.g. "65001" */
	const char *content_class; /* "urn:content-classes:message" */
	int has_categories;      /* 14.0+; an empty Categories clears them in a Change */
	const char *const *categories;
	size_t category_count;
	eas_email_flag flag;
	eas_email_meeting_request meeting_request;

	/* Email2 (14.0+) */
	const char *um_caller_id;
	const char *um_user_notes;
	const uint8_t *conversation_id; /* opaque bytes */
	size_t conversation_id_len;
	const uint8_t *conversation_index;
	size_t conversation_index_len;
	int has_last_verb_executed;
	uint32_t last_verb_executed; /* EAS_EMAIL_VERB_* */
	const char *last_verb_execution_time;
	int has_received_as_bcc;
	int received_as_bcc;
	const char *sender;
	const char *account_id;  /* 14.1+; absent for the primary account */
	int has_is_draft;        /* 16.0+, server -> client only */
	int is_draft;
	const char *bcc;         /* 16.0+ drafts */

	/* AirSyncBase (12.0+) */
	eas_email_body body;
	int has_native_body_type;
	uint32_t native_body_type;
	eas_email_body body_part; /* 14.1+ */
	const eas_email_attachment *attachments; /* also the 2.5 email:Attachments */
	size_t attachment_count;

	/* 2.5 */
	eas_email_legacy legacy;

	size_t unknown;          /* decoding: children of ApplicationData not understood (left aside) */
	void *owner_;            /* decoding: private storage released by eas_email_clear */
} eas_email;

/*
 * Decodes a standalone WBXML document whose root is AirSync:ApplicationData
 * (eas_sync_item.data from the Sync parser) into *out.  mem may be NULL.
 * Returns 0; EAS_E_MALFORMED (a bad number or boolean: err says which),
 * EAS_E_INVALID (another root), a WBXML decoding error, EAS_E_LIMIT or
 * EAS_E_NOMEM.  On failure *out is empty and owns nothing.  Unknown elements
 * are counted in out->unknown and otherwise ignored.
 */
EAS_EXTERN int eas_email_decode(eas_email *out, const uint8_t *wbxml, size_t len, const eas_mem *mem,
				char *err, size_t err_size);

/* Releases what a decode allocated and zeroes *e.  NULL and zeroed structs are fine. */
EAS_EXTERN void eas_email_clear(eas_email *e);

/*
 * Writes the children of ApplicationData for the version in use (one
 * EAS_PROTO_* bit).  EAS_E_INVALID for a NUL inside data, a Category that is
 * NULL, or attachments without a FileReference; the encoder's error otherwise.
 */
EAS_EXTERN int eas_email_encode(eas_wbxml_encoder *enc, const eas_email *e, unsigned version);

/*
 * Writes only what a client may change on an email it received: Read, Flag
 * and Categories (those with has_read / flag.present / has_categories).
 */
EAS_EXTERN int eas_email_encode_change(eas_wbxml_encoder *enc, const eas_email *e, unsigned version);

#ifdef __cplusplus
}
#endif

#endif /* EAS_EMAIL_H */
