/*
 * Email class: every element decoded from ApplicationData, round trips at
 * 16.1, 14.1, 12.1 and 2.5, the client's Change subset, the server reading a
 * client Change from its request tree, malformed values, failing allocations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "classes/email_node.h"
#include "commands/sync.h"
#include "eas/email.h"
#include "testmem.h"
#include "xmldoc.h"

#define PROLOG "<?xml version=\"1.0\" encoding=\"utf-8\"?>" \
	"<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" \"http://www.microsoft.com/\">"
#define APP "<ApplicationData xmlns=\"AirSync:\" xmlns:email=\"Email:\" xmlns:airsyncbase=\"AirSyncBase:\" " \
	"xmlns:email2=\"Email2:\" xmlns:tasks=\"Tasks:\" xmlns:rm=\"RightsManagement:\" xmlns:calendar=\"Calendar:\">"

/* Every element a 16.1 server can send for an email (MS-ASEMAIL 2.2.2), in one item. */
static const char full_item[] = APP
	"<email:To>\"Device User\" &lt;deviceuser@example.com&gt;</email:To>"
	"<email:Cc>cc@example.com</email:Cc>"
	"<email:From>\"Device User 2\" &lt;deviceuser2@example.com&gt;</email:From>"
	"<email:Subject>Voice Mail from 7125550123 (3 seconds)</email:Subject>"
	"<email:ReplyTo>reply@example.com</email:ReplyTo>"
	"<email:DateReceived>2007-11-06T23:42:16.829Z</email:DateReceived>"
	"<email:DisplayTo>Device User</email:DisplayTo>"
	"<email:ThreadTopic>Voice Mail</email:ThreadTopic>"
	"<email:Importance>2</email:Importance>"
	"<email:Read>1</email:Read>"
	"<airsyncbase:Attachments>"
	"<airsyncbase:Attachment><airsyncbase:DisplayName>7125550123 (3 seconds) Voice Mail.wma</airsyncbase:DisplayName>"
	"<airsyncbase:FileReference>20%3a2%3a0</airsyncbase:FileReference><airsyncbase:Method>1</airsyncbase:Method>"
	"<airsyncbase:EstimatedDataSize>9025</airsyncbase:EstimatedDataSize>"
	"<email2:UmAttDuration>3</email2:UmAttDuration><email2:UmAttOrder>1</email2:UmAttOrder></airsyncbase:Attachment>"
	"<airsyncbase:Attachment><airsyncbase:DisplayName>logo.png</airsyncbase:DisplayName>"
	"<airsyncbase:FileReference>20%3a2%3a1</airsyncbase:FileReference><airsyncbase:Method>6</airsyncbase:Method>"
	"<airsyncbase:EstimatedDataSize>2048</airsyncbase:EstimatedDataSize>"
	"<airsyncbase:ContentId>logo@x</airsyncbase:ContentId>"
	"<airsyncbase:ContentLocation>http://x/logo.png</airsyncbase:ContentLocation>"
	"<airsyncbase:IsInline>1</airsyncbase:IsInline>"
	"<airsyncbase:ContentType>image/png</airsyncbase:ContentType></airsyncbase:Attachment>"
	"</airsyncbase:Attachments>"
	"<airsyncbase:Body><airsyncbase:Type>2</airsyncbase:Type>"
	"<airsyncbase:EstimatedDataSize>116575</airsyncbase:EstimatedDataSize>"
	"<airsyncbase:Truncated>1</airsyncbase:Truncated>"
	"<airsyncbase:Data>&lt;p&gt;Hello &amp; welcome&lt;/p&gt;</airsyncbase:Data>"
	"<airsyncbase:Preview>Hello &amp; welcome</airsyncbase:Preview></airsyncbase:Body>"
	"<airsyncbase:BodyPart><airsyncbase:Status>1</airsyncbase:Status><airsyncbase:Type>2</airsyncbase:Type>"
	"<airsyncbase:EstimatedDataSize>20</airsyncbase:EstimatedDataSize>"
	"<airsyncbase:Data>&lt;p&gt;Hello&lt;/p&gt;</airsyncbase:Data></airsyncbase:BodyPart>"
	"<email:MessageClass>IPM.Note.Microsoft.Voicemail</email:MessageClass>"
	"<email:InternetCPID>28591</email:InternetCPID>"
	"<email:Flag><email:Status>2</email:Status><email:FlagType>Flag for follow up</email:FlagType>"
	"<tasks:StartDate>2009-07-30T00:00:00.000Z</tasks:StartDate>"
	"<tasks:UtcStartDate>2009-07-30T07:00:00.000Z</tasks:UtcStartDate>"
	"<tasks:DueDate>2009-07-31T00:00:00.000Z</tasks:DueDate>"
	"<tasks:UtcDueDate>2009-07-31T07:00:00.000Z</tasks:UtcDueDate>"
	"<tasks:ReminderSet>1</tasks:ReminderSet><tasks:ReminderTime>2009-07-30T16:00:00.000Z</tasks:ReminderTime>"
	"<tasks:Subject>Call back</tasks:Subject><tasks:OrdinalDate>2009-07-30T00:00:00.000Z</tasks:OrdinalDate>"
	"<tasks:SubOrdinalDate>5</tasks:SubOrdinalDate>"
	"<email:CompleteTime>2009-08-01T10:00:00.000Z</email:CompleteTime>"
	"<tasks:DateCompleted>2009-08-01T10:00:00.000Z</tasks:DateCompleted></email:Flag>"
	"<email:ContentClass>urn:content-classes:message</email:ContentClass>"
	"<airsyncbase:NativeBodyType>3</airsyncbase:NativeBodyType>"
	"<email2:UmCallerID>7125550123</email2:UmCallerID>"
	"<email2:UmUserNotes>call me</email2:UmUserNotes>"
	"<email2:ConversationId>FS9WQEy8X0qGDZ9h0rTeHg==</email2:ConversationId>"
	"<email2:ConversationIndex>Acoej2Zr</email2:ConversationIndex>"
	"<email2:LastVerbExecuted>2</email2:LastVerbExecuted>"
	"<email2:LastVerbExecutionTime>2009-07-30T08:00:00.000Z</email2:LastVerbExecutionTime>"
	"<email2:ReceivedAsBcc>1</email2:ReceivedAsBcc>"
	"<email2:Sender>assistant@example.com</email2:Sender>"
	"<email2:AccountId>acct-2</email2:AccountId>"
	"<email2:IsDraft>0</email2:IsDraft>"
	"<email2:Bcc>hidden@example.com</email2:Bcc>"
	"<email:Categories><email:Category>Work</email:Category><email:Category>Blue</email:Category></email:Categories>"
	"<rm:RightsManagementLicense><rm:Owner>0</rm:Owner></rm:RightsManagementLicense>"
	"</ApplicationData>";

static void decode_xml(eas_email *e, const char *xml)
{
	eas_buf w;
	xmldoc_to_wbxml(&w, xml);
	char err[200];
	int rc = eas_email_decode(e, w.data, w.len, NULL, err, sizeof err);
	if (rc)
		fail_msg("decode: %d %s", rc, err);
	eas_buf_free(&w);
}

static void check_full(const eas_email *e)
{
	static const uint8_t conv_id[] = { 0x15, 0x2F, 0x56, 0x40, 0x4C, 0xBC, 0x5F, 0x4A,
					   0x86, 0x0D, 0x9F, 0x61, 0xD2, 0xB4, 0xDE, 0x1E };
	static const uint8_t conv_index[] = { 0x01, 0xCA, 0x1E, 0x8F, 0x66, 0x6B };
	assert_string_equal(e->to, "\"Device User\" <deviceuser@example.com>");
	assert_string_equal(e->cc, "cc@example.com");
	assert_string_equal(e->from, "\"Device User 2\" <deviceuser2@example.com>");
	assert_string_equal(e->subject, "Voice Mail from 7125550123 (3 seconds)");
	assert_string_equal(e->reply_to, "reply@example.com");
	assert_string_equal(e->date_received, "2007-11-06T23:42:16.829Z");
	assert_string_equal(e->display_to, "Device User");
	assert_string_equal(e->thread_topic, "Voice Mail");
	assert_true(e->has_importance);
	assert_int_equal(e->importance, EAS_EMAIL_IMPORTANCE_HIGH);
	assert_true(e->has_read);
	assert_int_equal(e->read, 1);
	assert_string_equal(e->message_class, "IPM.Note.Microsoft.Voicemail");
	assert_string_equal(e->internet_cpid, "28591");
	assert_string_equal(e->content_class, "urn:content-classes:message");

	assert_int_equal(e->attachment_count, 2);
	const eas_email_attachment *a = &e->attachments[0];
	assert_string_equal(a->display_name, "7125550123 (3 seconds) Voice Mail.wma");
	assert_string_equal(a->file_reference, "20%3a2%3a0");
	assert_int_equal(a->method, EAS_ATTACHMENT_NORMAL);
	assert_true(a->has_estimated_data_size);
	assert_int_equal(a->estimated_data_size, 9025);
	assert_true(a->has_um_att_duration);
	assert_int_equal(a->um_att_duration, 3);
	assert_true(a->has_um_att_order);
	assert_int_equal(a->um_att_order, 1);
	assert_null(a->content_id);
	assert_false(a->is_inline);
	a = &e->attachments[1];
	assert_string_equal(a->file_reference, "20%3a2%3a1");
	assert_int_equal(a->method, EAS_ATTACHMENT_OLE);
	assert_int_equal(a->estimated_data_size, 2048);
	assert_string_equal(a->content_id, "logo@x");
	assert_string_equal(a->content_location, "http://x/logo.png");
	assert_true(a->is_inline);
	assert_string_equal(a->content_type, "image/png");
	assert_false(a->has_um_att_duration);

	assert_true(e->body.present);
	assert_int_equal(e->body.type, EAS_BODY_TYPE_HTML);
	assert_int_equal(e->body.estimated_data_size, 116575);
	assert_true(e->body.truncated);
	assert_true(e->body.has_data);
	assert_int_equal(e->body.data_len, strlen("<p>Hello & welcome</p>"));
	assert_string_equal(e->body.data, "<p>Hello & welcome</p>");
	assert_string_equal(e->body.preview, "Hello & welcome");
	assert_false(e->body.has_status);
	assert_true(e->body_part.present);
	assert_true(e->body_part.has_status);
	assert_int_equal(e->body_part.status, 1);
	assert_string_equal(e->body_part.data, "<p>Hello</p>");
	assert_true(e->has_native_body_type);
	assert_int_equal(e->native_body_type, EAS_BODY_TYPE_RTF);

	const eas_email_flag *f = &e->flag;
	assert_true(f->present);
	assert_int_equal(f->status, EAS_EMAIL_FLAG_ACTIVE);
	assert_string_equal(f->flag_type, "Flag for follow up");
	assert_string_equal(f->start_date, "2009-07-30T00:00:00.000Z");
	assert_string_equal(f->utc_start_date, "2009-07-30T07:00:00.000Z");
	assert_string_equal(f->due_date, "2009-07-31T00:00:00.000Z");
	assert_string_equal(f->utc_due_date, "2009-07-31T07:00:00.000Z");
	assert_true(f->has_reminder_set);
	assert_int_equal(f->reminder_set, 1);
	assert_string_equal(f->reminder_time, "2009-07-30T16:00:00.000Z");
	assert_string_equal(f->subject, "Call back");
	assert_string_equal(f->ordinal_date, "2009-07-30T00:00:00.000Z");
	assert_string_equal(f->sub_ordinal_date, "5");
	assert_string_equal(f->complete_time, "2009-08-01T10:00:00.000Z");
	assert_string_equal(f->date_completed, "2009-08-01T10:00:00.000Z");

	assert_string_equal(e->um_caller_id, "7125550123");
	assert_string_equal(e->um_user_notes, "call me");
	assert_int_equal(e->conversation_id_len, sizeof conv_id);
	assert_memory_equal(e->conversation_id, conv_id, sizeof conv_id);
	assert_int_equal(e->conversation_index_len, sizeof conv_index);
	assert_memory_equal(e->conversation_index, conv_index, sizeof conv_index);
	assert_int_equal(e->last_verb_executed, EAS_EMAIL_VERB_REPLY_ALL);
	assert_string_equal(e->last_verb_execution_time, "2009-07-30T08:00:00.000Z");
	assert_true(e->has_received_as_bcc);
	assert_int_equal(e->received_as_bcc, 1);
	assert_string_equal(e->sender, "assistant@example.com");
	assert_string_equal(e->account_id, "acct-2");
	assert_true(e->has_is_draft);
	assert_int_equal(e->is_draft, 0);
	assert_string_equal(e->bcc, "hidden@example.com");
	assert_true(e->has_categories);
	assert_int_equal(e->category_count, 2);
	assert_string_equal(e->categories[0], "Work");
	assert_string_equal(e->categories[1], "Blue");
	assert_false(e->meeting_request.present);
}

static void test_decode_every_element(void **state)
{
	(void)state;
	eas_email e;
	decode_xml(&e, full_item);
	check_full(&e);
	assert_int_equal(e.unknown, 1); /* rm:RightsManagementLicense: the rights-management class reads it */
	eas_email_clear(&e);
	assert_null(e.subject);
	eas_email_clear(&e); /* twice is fine */
	eas_email_clear(NULL);
}

static int enc_email(eas_wbxml_encoder *enc, const void *arg)
{
	const struct {
		const eas_email *e;
		unsigned version;
		int change;
	} *a = arg;
	int rc = eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA);
	if (rc == 0)
		rc = a->change ? eas_email_encode_change(enc, a->e, a->version) : eas_email_encode(enc, a->e, a->version);
	if (rc == 0)
		rc = eas_wbxml_encoder_end(enc);
	return rc;
}

/* Encodes at version, returns the XML (free it) and decodes the same bytes into *back. */
static char *round_trip(const eas_email *e, unsigned version, int change, eas_email *back)
{
	struct {
		const eas_email *e;
		unsigned version;
		int change;
	} a = { e, version, change };
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, version, NULL), 0);
	assert_int_equal(enc_email(enc, &a), 0);
	assert_int_equal(eas_wbxml_encoder_finish(enc), 0);
	eas_wbxml_encoder_free(enc);
	char *xml = xmldoc_from_wbxml(out.data, out.len);
	if (back) {
		char err[200];
		assert_int_equal(eas_email_decode(back, out.data, out.len, NULL, err, sizeof err), 0);
	}
	eas_buf_free(&out);
	return xml;
}

/* 16.1: decode, encode, decode again: the same email. */
static void test_round_trip_16_1(void **state)
{
	(void)state;
	eas_email e, back;
	decode_xml(&e, full_item);
	char *xml = round_trip(&e, EAS_PROTO_16_1, 0, &back);
	check_full(&back);
	assert_int_equal(back.unknown, 0);
	/* The server's order follows Exchange's (MS-ASEMAIL 4.1.3.1). */
	assert_non_null(strstr(xml, "<ApplicationData xmlns=\"AirSync:\"><To xmlns=\"Email:\">"));
	assert_non_null(strstr(xml, "</Read><Attachments xmlns=\"AirSyncBase:\"><Attachment><DisplayName>"));
	free(xml);
	eas_email_clear(&back);
	eas_email_clear(&e);
}

/* Older versions: what they lack is left out, 2.5 gets email:Body and email:Attachments. */
static void test_round_trip_older_versions(void **state)
{
	(void)state;
	eas_email e, back;
	decode_xml(&e, full_item);

	char *xml = round_trip(&e, EAS_PROTO_14_1, 0, &back);
	assert_null(back.bcc);              /* 16.0+ */
	assert_false(back.has_is_draft);    /* 16.0+ */
	assert_string_equal(back.account_id, "acct-2");
	assert_int_equal(back.category_count, 2);
	assert_true(back.body_part.present);
	free(xml);
	eas_email_clear(&back);

	xml = round_trip(&e, EAS_PROTO_12_1, 0, &back);
	assert_null(back.um_caller_id);     /* Email2 is 14.0+ */
	assert_int_equal(back.conversation_id_len, 0);
	assert_false(back.has_categories);  /* 14.0+ */
	assert_false(back.body_part.present); /* 14.1+ */
	assert_null(back.body.preview);     /* 14.0+ */
	assert_true(back.body.present);
	assert_true(back.flag.present);
	assert_int_equal(back.attachment_count, 2);
	assert_false(back.attachments[0].has_um_att_duration);
	assert_string_equal(back.content_class, "urn:content-classes:message");
	free(xml);
	eas_email_clear(&back);

	xml = round_trip(&e, EAS_PROTO_2_5, 0, &back);
	assert_non_null(strstr(xml, "<Attachments xmlns=\"Email:\"><Attachment><AttMethod>1</AttMethod>"
				    "<AttSize>9025</AttSize><DisplayName>7125550123 (3 seconds) Voice Mail.wma</DisplayName>"
				    "<AttName>20%3a2%3a0</AttName></Attachment>"));
	assert_non_null(strstr(xml, "<Body xmlns=\"Email:\">&lt;p&gt;Hello &amp; welcome&lt;/p&gt;</Body>"
				    "<BodySize xmlns=\"Email:\">116575</BodySize><BodyTruncated xmlns=\"Email:\">1</BodyTruncated>"));
	assert_false(back.body.present);
	assert_string_equal(back.legacy.body, "<p>Hello & welcome</p>");
	assert_int_equal(back.legacy.body_size, 116575);
	assert_true(back.legacy.body_truncated);
	assert_int_equal(back.attachment_count, 2);
	assert_string_equal(back.attachments[1].file_reference, "20%3a2%3a1");
	assert_string_equal(back.attachments[1].content_id, "logo@x");
	assert_int_equal(back.attachments[1].method, 6);
	assert_false(back.flag.present);    /* 12.0+ */
	assert_null(back.content_class);    /* 12.0+ */
	assert_string_equal(back.subject, "Voice Mail from 7125550123 (3 seconds)");
	free(xml);
	eas_email_clear(&back);
	eas_email_clear(&e);

	/* 2.5 MIME forms. */
	eas_email m;
	memset(&m, 0, sizeof m);
	m.legacy.mime_data = "MIME-Version: 1.0\r\n\r\nhi";
	m.legacy.mime_data_len = strlen(m.legacy.mime_data);
	m.legacy.has_mime_size = 1;
	m.legacy.mime_size = 4000;
	m.legacy.mime_truncated = 1;
	xml = round_trip(&m, EAS_PROTO_2_5, 0, &back);
	assert_string_equal(back.legacy.mime_data, m.legacy.mime_data);
	assert_int_equal(back.legacy.mime_size, 4000);
	assert_true(back.legacy.mime_truncated);
	free(xml);
	eas_email_clear(&back);
}

static const char meeting_14[] = APP
	"<email:Subject>Team lunch</email:Subject>"
	"<email:MessageClass>IPM.Schedule.Meeting.Request</email:MessageClass>"
	"<email:MeetingRequest><email:AllDayEvent>0</email:AllDayEvent>"
	"<email:StartTime>2009-08-01T17:00:00.000Z</email:StartTime>"
	"<email:DtStamp>2009-07-30T19:00:44.000Z</email:DtStamp>"
	"<email:EndTime>2009-08-01T18:00:00.000Z</email:EndTime>"
	"<email:InstanceType>1</email:InstanceType><email:Location>Cafeteria</email:Location>"
	"<email:Organizer>\"Device User 2\" &lt;deviceuser2@example.com&gt;</email:Organizer>"
	"<email:RecurrenceId>2009-08-08T17:00:00.000Z</email:RecurrenceId>"
	"<email:Reminder>900</email:Reminder><email:ResponseRequested>1</email:ResponseRequested>"
	"<email:Recurrences><email:Recurrence><email:Type>1</email:Type><email:Interval>1</email:Interval>"
	"<email:Until>2009-10-01T00:00:00.000Z</email:Until><email:Occurrences>10</email:Occurrences>"
	"<email:WeekOfMonth>2</email:WeekOfMonth><email:DayOfMonth>8</email:DayOfMonth>"
	"<email:DayOfWeek>16</email:DayOfWeek><email:MonthOfYear>8</email:MonthOfYear>"
	"<email2:CalendarType>1</email2:CalendarType><email2:IsLeapMonth>0</email2:IsLeapMonth>"
	"<email2:FirstDayOfWeek>1</email2:FirstDayOfWeek></email:Recurrence>"
	"<email:Recurrence><email:Type>0</email:Type><email:Interval>2</email:Interval></email:Recurrence>"
	"</email:Recurrences>"
	"<email:Sensitivity>0</email:Sensitivity><email:BusyStatus>2</email:BusyStatus>"
	"<email:TimeZone>4AEAAFAAYQBjAGkAZgBpAGMA</email:TimeZone>"
	"<email:GlobalObjId>BAAAAIIA4AB0xbcQGoLgCAAAAAA=</email:GlobalObjId>"
	"<email:DisallowNewTimeProposal>1</email:DisallowNewTimeProposal>"
	"<email2:MeetingMessageType>1</email2:MeetingMessageType>"
	"</email:MeetingRequest></ApplicationData>";

static void check_meeting(const eas_email_meeting_request *m, int v16)
{
	assert_true(m->present);
	assert_true(m->has_all_day_event);
	assert_int_equal(m->all_day_event, 0);
	assert_string_equal(m->start_time, "2009-08-01T17:00:00.000Z");
	assert_string_equal(m->end_time, "2009-08-01T18:00:00.000Z");
	assert_string_equal(m->dt_stamp, "2009-07-30T19:00:44.000Z");
	assert_int_equal(m->instance_type, 1);
	assert_string_equal(m->location, "Cafeteria");
	assert_string_equal(m->organizer, "\"Device User 2\" <deviceuser2@example.com>");
	assert_string_equal(m->recurrence_id, "2009-08-08T17:00:00.000Z");
	assert_true(m->has_reminder);
	assert_int_equal(m->reminder, 900);
	assert_int_equal(m->response_requested, 1);
	assert_true(m->has_recurrence);
	const eas_email_recurrence *r = &m->recurrence;
	assert_int_equal(r->type, 1);
	assert_int_equal(r->interval, 1);
	assert_string_equal(r->until, "2009-10-01T00:00:00.000Z");
	assert_int_equal(r->occurrences, 10);
	assert_int_equal(r->week_of_month, 2);
	assert_int_equal(r->day_of_month, 8);
	assert_int_equal(r->day_of_week, 16);
	assert_int_equal(r->month_of_year, 8);
	assert_true(r->has_calendar_type);
	assert_int_equal(r->calendar_type, 1);
	assert_true(r->has_is_leap_month);
	assert_int_equal(r->is_leap_month, 0);
	assert_int_equal(r->first_day_of_week, 1);
	assert_int_equal(m->sensitivity, 0);
	assert_true(m->has_sensitivity);
	assert_int_equal(m->busy_status, 2);
	assert_string_equal(m->time_zone, "4AEAAFAAYQBjAGkAZgBpAGMA");
	if (v16) {
		assert_null(m->global_obj_id);
		assert_string_equal(m->uid, "040000008200E00074C5B7101A82E008");
	} else {
		assert_string_equal(m->global_obj_id, "BAAAAIIA4AB0xbcQGoLgCAAAAAA=");
		assert_null(m->uid);
	}
	assert_int_equal(m->disallow_new_time_proposal, 1);
	assert_int_equal(m->meeting_message_type, EAS_MEETING_MESSAGE_INITIAL);
}

static void test_meeting_request(void **state)
{
	(void)state;
	eas_email e, back;
	decode_xml(&e, meeting_14);
	assert_string_equal(e.message_class, "IPM.Schedule.Meeting.Request");
	check_meeting(&e.meeting_request, 0);
	assert_int_equal(e.meeting_request.recurrence_count, 2);

	char *xml = round_trip(&e, EAS_PROTO_14_1, 0, &back);
	check_meeting(&back.meeting_request, 0);
	assert_int_equal(back.meeting_request.recurrence_count, 1); /* the summary keeps the first */
	free(xml);
	eas_email_clear(&back);

	/* 16.x: airsyncbase:Location and calendar:UID replace email:Location and GlobalObjId. */
	e.meeting_request.global_obj_id = NULL;
	e.meeting_request.uid = "040000008200E00074C5B7101A82E008";
	xml = round_trip(&e, EAS_PROTO_16_1, 0, &back);
	assert_non_null(strstr(xml, "<InstanceType>1</InstanceType><Location xmlns=\"AirSyncBase:\"><DisplayName>"
				    "Cafeteria</DisplayName></Location><Organizer>"));
	assert_non_null(strstr(xml, "<UID xmlns=\"Calendar:\">040000008200E00074C5B7101A82E008</UID>"));
	assert_null(strstr(xml, "GlobalObjId"));
	check_meeting(&back.meeting_request, 1);
	free(xml);
	eas_email_clear(&back);
	eas_email_clear(&e);
}

/* What a client sends back: Read, Flag, Categories, and nothing else. */
static void test_change_subset(void **state)
{
	(void)state;
	eas_email e;
	decode_xml(&e, full_item);
	char *xml = round_trip(&e, EAS_PROTO_14_1, 1, NULL);
	assert_string_equal(xml, PROLOG "<ApplicationData xmlns=\"AirSync:\"><Read xmlns=\"Email:\">1</Read>"
		"<Flag xmlns=\"Email:\"><Status>2</Status><FlagType>Flag for follow up</FlagType>"
		"<StartDate xmlns=\"Tasks:\">2009-07-30T00:00:00.000Z</StartDate>"
		"<UtcStartDate xmlns=\"Tasks:\">2009-07-30T07:00:00.000Z</UtcStartDate>"
		"<DueDate xmlns=\"Tasks:\">2009-07-31T00:00:00.000Z</DueDate>"
		"<UtcDueDate xmlns=\"Tasks:\">2009-07-31T07:00:00.000Z</UtcDueDate>"
		"<ReminderSet xmlns=\"Tasks:\">1</ReminderSet>"
		"<ReminderTime xmlns=\"Tasks:\">2009-07-30T16:00:00.000Z</ReminderTime>"
		"<Subject xmlns=\"Tasks:\">Call back</Subject>"
		"<OrdinalDate xmlns=\"Tasks:\">2009-07-30T00:00:00.000Z</OrdinalDate>"
		"<SubOrdinalDate xmlns=\"Tasks:\">5</SubOrdinalDate>"
		"<CompleteTime>2009-08-01T10:00:00.000Z</CompleteTime>"
		"<DateCompleted xmlns=\"Tasks:\">2009-08-01T10:00:00.000Z</DateCompleted></Flag>"
		"<Categories xmlns=\"Email:\"><Category>Work</Category><Category>Blue</Category></Categories>"
		"</ApplicationData>");
	free(xml);
	eas_email_clear(&e);

	/* Mark read, clear the flag, clear the categories. */
	eas_email c;
	memset(&c, 0, sizeof c);
	c.has_read = 1;
	c.read = 1;
	c.flag.present = 1;
	c.has_categories = 1;
	c.subject = "not sent in a Change";
	xml = round_trip(&c, EAS_PROTO_16_1, 1, NULL);
	assert_string_equal(xml, PROLOG "<ApplicationData xmlns=\"AirSync:\"><Read xmlns=\"Email:\">1</Read>"
			    "<Flag xmlns=\"Email:\"/><Categories xmlns=\"Email:\"/></ApplicationData>");
	free(xml);
	/* 12.1 has no Categories. */
	xml = round_trip(&c, EAS_PROTO_12_1, 1, NULL);
	assert_string_equal(xml, PROLOG "<ApplicationData xmlns=\"AirSync:\"><Read xmlns=\"Email:\">1</Read>"
			    "<Flag xmlns=\"Email:\"/></ApplicationData>");
	free(xml);
}

/* The companion server reads a client's Change from its request tree. */
static void test_server_reads_client_change(void **state)
{
	(void)state;
	eas_tree *t = xmldoc_tree("<Sync xmlns=\"AirSync:\" xmlns:email=\"Email:\"><Collections><Collection>"
				  "<SyncKey>4</SyncKey><CollectionId>5</CollectionId><Commands>"
				  "<Change><ServerId>5:1</ServerId><ApplicationData><email:Read>1</email:Read>"
				  "<email:Flag><email:Status>1</email:Status></email:Flag>"
				  "<email:Categories><email:Category>Done</email:Category></email:Categories>"
				  "</ApplicationData></Change></Commands></Collection></Collections></Sync>");
	eas_sync_request req;
	char err[160];
	assert_int_equal(eas_sync_request_decode(&req, eas_tree_root(t), err, sizeof err), 0);
	const eas_node *cur = NULL;
	eas_sync_collection_request c;
	assert_int_equal(eas_sync_request_next_collection(&req, &cur, &c, err, sizeof err), 1);
	const eas_node *cc = NULL;
	eas_sync_item it;
	assert_int_equal(eas_sync_collection_next_command(&c, &cc, &it, err, sizeof err), 1);
	testmem tm;
	eas_mem mem = testmem_init(&tm, -1);
	eas_email e;
	assert_int_equal(eas__email_decode_node(&e, it.app_data, &mem, err, sizeof err), 0);
	assert_true(e.has_read);
	assert_int_equal(e.read, 1);
	assert_true(e.flag.present);
	assert_int_equal(e.flag.status, EAS_EMAIL_FLAG_COMPLETE);
	assert_int_equal(e.category_count, 1);
	assert_string_equal(e.categories[0], "Done");
	assert_null(e.subject);
	eas_email_clear(&e);
	assert_int_equal(tm.live_blocks, 0);
	assert_int_equal(eas__email_decode_node(&e, NULL, &mem, err, sizeof err), EAS_E_INVALID);
	eas_tree_free(t);
}

/* A body the Sync parser streamed away: the element is there, empty. */
static void test_streamed_body_and_unknowns(void **state)
{
	(void)state;
	eas_email e;
	decode_xml(&e, APP "<email:Subject>Big</email:Subject><airsyncbase:Body><airsyncbase:Type>1</airsyncbase:Type>"
			   "<airsyncbase:EstimatedDataSize>5242880</airsyncbase:EstimatedDataSize><airsyncbase:Data/>"
			   "<airsyncbase:ContentType>text/plain</airsyncbase:ContentType></airsyncbase:Body>"
			   "<email:Location>ignored outside MeetingRequest</email:Location></ApplicationData>");
	assert_true(e.body.present);
	assert_true(e.body.has_data);
	assert_int_equal(e.body.data_len, 0);
	assert_string_equal(e.body.data, "");
	assert_int_equal(e.body.estimated_data_size, 5242880);
	assert_int_equal(e.unknown, 1);
	eas_email_clear(&e);
	/* An empty ApplicationData is an empty email. */
	decode_xml(&e, "<ApplicationData xmlns=\"AirSync:\"/>");
	assert_null(e.subject);
	assert_int_equal(e.unknown, 0);
	eas_email_clear(&e);
}

static int write_body_opaque(eas_wbxml_encoder *enc, void *arg)
{
	(void)arg;
	static const uint8_t bytes[] = "streamed body";
	return eas_wbxml_encoder_opaque(enc, bytes, sizeof bytes - 1);
}

static void test_encode_arguments(void **state)
{
	(void)state;
	eas_buf out;
	eas_buf_init(&out, NULL, 0);
	eas_wbxml_encoder *enc;
	eas_email e;
	memset(&e, 0, sizeof e);
	/* A NUL inside a string. */
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_16_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA), 0);
	e.body.present = 1;
	e.body.type = 1;
	e.body.data = "a\0b";
	e.body.data_len = 3;
	assert_int_equal(eas_email_encode(enc, &e, EAS_PROTO_16_1), EAS_E_INVALID);
	eas_wbxml_encoder_free(enc);
	/* A NULL category, an attachment without FileReference, no attachments array. */
	memset(&e, 0, sizeof e);
	const char *cats[] = { "a", NULL };
	e.has_categories = 1;
	e.categories = cats;
	e.category_count = 2;
	eas_buf_reset(&out);
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_16_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA), 0);
	assert_int_equal(eas_email_encode_change(enc, &e, EAS_PROTO_16_1), EAS_E_INVALID);
	eas_wbxml_encoder_free(enc);
	memset(&e, 0, sizeof e);
	eas_email_attachment att;
	memset(&att, 0, sizeof att);
	e.attachments = &att;
	e.attachment_count = 1;
	eas_buf_reset(&out);
	assert_int_equal(eas_wbxml_encoder_new(&enc, eas_buf_sink, &out, EAS_PROTO_16_1, NULL), 0);
	assert_int_equal(eas_wbxml_encoder_start(enc, EAS_TAG_AIRSYNC_APPLICATION_DATA), 0);
	assert_int_equal(eas_email_encode(enc, &e, EAS_PROTO_16_1), EAS_E_INVALID);
	eas_wbxml_encoder_free(enc);
	e.attachments = NULL;
	assert_int_equal(eas_email_encode(NULL, &e, EAS_PROTO_16_1), EAS_E_INVALID);
	assert_int_equal(eas_email_encode((eas_wbxml_encoder *)&out, &e, 0), EAS_E_INVALID);
	eas_buf_free(&out);

	/* Body Data written by a callback (a large body from storage), as OPAQUE. */
	memset(&e, 0, sizeof e);
	e.body.present = 1;
	e.body.type = EAS_BODY_TYPE_PLAIN;
	e.body.write_data = write_body_opaque;
	eas_email back;
	char *xml = round_trip(&e, EAS_PROTO_14_1, 0, &back);
	assert_int_equal(back.body.data_len, 13);
	assert_memory_equal(back.body.data, "streamed body", 13);
	free(xml);
	eas_email_clear(&back);
}

static void test_malformed(void **state)
{
	(void)state;
	static const struct {
		const char *xml;
		int rc;
		const char *message;
	} cases[] = {
		{ APP "<email:Importance>high</email:Importance></ApplicationData>", EAS_E_MALFORMED,
		  "Email:Importance is not a number: 'high'" },
		{ APP "<email:Read>yes</email:Read></ApplicationData>", EAS_E_MALFORMED, "Email:Read is not a boolean: 'yes'" },
		{ APP "<airsyncbase:Attachments><airsyncbase:Attachment><airsyncbase:Method>x</airsyncbase:Method>"
		  "</airsyncbase:Attachment></airsyncbase:Attachments></ApplicationData>", EAS_E_MALFORMED,
		  "AirSyncBase:Method is not a number" },
		{ APP "<airsyncbase:BodyPart><airsyncbase:Status>4294967296</airsyncbase:Status></airsyncbase:BodyPart>"
		  "</ApplicationData>", EAS_E_MALFORMED, "AirSyncBase:Status is not a number" },
		{ APP "<email:Flag><tasks:ReminderSet>2</tasks:ReminderSet></email:Flag></ApplicationData>",
		  EAS_E_MALFORMED, "Tasks:ReminderSet is not a boolean" },
		{ APP "<email:MeetingRequest><email:Recurrences><email:Recurrence><email:Interval></email:Interval>"
		  "</email:Recurrence></email:Recurrences></email:MeetingRequest></ApplicationData>", EAS_E_MALFORMED,
		  "Email:Interval is not a number: ''" },
		{ "<Sync xmlns=\"AirSync:\"/>", EAS_E_INVALID, "root element is AirSync:Sync, expected AirSync:ApplicationData" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, -1);
		eas_buf w;
		xmldoc_to_wbxml(&w, cases[i].xml);
		eas_email e;
		char err[200] = "";
		int rc = eas_email_decode(&e, w.data, w.len, &mem, err, sizeof err);
		if (rc != cases[i].rc || !strstr(err, cases[i].message))
			fail_msg("case %zu: rc %d '%s', wanted %d '%s'", i, rc, err, cases[i].rc, cases[i].message);
		assert_null(e.owner_);
		eas_email_clear(&e);
		assert_int_equal(tm.live_blocks, 0);
		eas_buf_free(&w);
	}
	/* Not WBXML at all, truncated, and arguments. */
	static const uint8_t junk[] = { 0x03, 0x01, 0x6A, 0x00, 0x5D, 0x01, 0x01 };
	eas_email e;
	char err[200];
	assert_int_equal(eas_email_decode(&e, junk, sizeof junk, NULL, err, sizeof err), EAS_E_MALFORMED);
	assert_int_equal(eas_email_decode(&e, junk, 5, NULL, err, sizeof err), EAS_E_TRUNCATED);
	assert_non_null(strstr(err, "truncated"));
	assert_int_equal(eas_email_decode(NULL, junk, 5, NULL, NULL, 0), EAS_E_INVALID);
	assert_int_equal(eas_email_decode(&e, NULL, 5, NULL, NULL, 0), EAS_E_INVALID);
}

static void test_every_allocation_failing(void **state)
{
	(void)state;
	eas_buf w;
	xmldoc_to_wbxml(&w, full_item);
	long failures = 0;
	for (long n = 0; n < 1000; n++) {
		testmem tm;
		eas_mem mem = testmem_init(&tm, n);
		eas_email e;
		char err[200] = "";
		int rc = eas_email_decode(&e, w.data, w.len, &mem, err, sizeof err);
		if (rc == 0) {
			check_full(&e);
			eas_email_clear(&e);
			assert_int_equal(tm.live_blocks, 0);
			if (tm.calls <= n)
				break;
			continue;
		}
		assert_int_equal(rc, EAS_E_NOMEM);
		assert_null(e.owner_);
		assert_int_equal(tm.live_blocks, 0);
		failures++;
	}
	assert_true(failures >= 3);
	eas_buf_free(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decode_every_element),
		cmocka_unit_test(test_round_trip_16_1),
		cmocka_unit_test(test_round_trip_older_versions),
		cmocka_unit_test(test_meeting_request),
		cmocka_unit_test(test_change_subset),
		cmocka_unit_test(test_server_reads_client_change),
		cmocka_unit_test(test_streamed_body_and_unknowns),
		cmocka_unit_test(test_encode_arguments),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_every_allocation_failing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
