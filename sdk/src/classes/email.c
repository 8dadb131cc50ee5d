/* The Email class (MS-ASEMAIL): ApplicationData <-> eas_email, both directions. */
#include "eas/email.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/mem.h"
#include "email_node.h"
#include "wbxml/tree.h"

/* Storage a decode hands to the eas_email: the tree (when it parsed one) and the arrays. */
typedef struct email_owner {
	eas_mem mem;
	eas_tree *tree;
} email_owner;

/* ---- decoding ----------------------------------------------------------------------- */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int bad(char *err, size_t err_size, const char *fmt, ...)
{
	if (err && err_size) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, err_size, fmt, ap);
		va_end(ap);
	}
	return EAS_E_MALFORMED;
}

static const char *label(eas_tag tag, char *buf, size_t size)
{
	const char *page = eas_codepage_name(EAS_TAG_PAGE(tag));
	const char *name = eas_tag_name(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag));
	snprintf(buf, size, "%s:%s", page ? page : "?", name ? name : "?");
	return buf;
}

static int get_u32(const eas_node *n, uint32_t *out, char *err, size_t err_size)
{
	uint64_t v = 0;
	int ok = n->text_len > 0 && n->text_len <= 10;
	for (size_t i = 0; ok && i < n->text_len; i++) {
		if (n->text[i] < '0' || n->text[i] > '9')
			ok = 0;
		else
			v = v * 10 + (uint64_t)(n->text[i] - '0');
	}
	if (!ok || v > UINT32_MAX) {
		char name[64];
		return bad(err, err_size, "%s is not a number: '%.40s'", label(n->tag, name, sizeof name),
			   n->opaque ? "(opaque)" : n->text);
	}
	*out = (uint32_t)v;
	return 0;
}

static int get_opt_u32(const eas_node *n, int *has, uint32_t *out, char *err, size_t err_size)
{
	*has = 1;
	return get_u32(n, out, err, err_size);
}

/* A boolean: "0" or "1"; an empty element counts as true (IsInline and friends). */
static int get_bool(const eas_node *n, int *has, int *out, char *err, size_t err_size)
{
	if (n->text_len == 0) {
		*out = 1;
	} else if (n->text_len == 1 && (n->text[0] == '0' || n->text[0] == '1')) {
		*out = n->text[0] == '1';
	} else {
		char name[64];
		return bad(err, err_size, "%s is not a boolean: '%.40s'", label(n->tag, name, sizeof name),
			   n->opaque ? "(opaque)" : n->text);
	}
	if (has)
		*has = 1;
	return 0;
}

static int decode_body(const eas_node *n, eas_email_body *b, char *err, size_t err_size)
{
	b->present = 1;
	int rc = 0;
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		switch (c->tag) {
		case EAS_TAG_AIRSYNCBASE_TYPE:
			rc = get_u32(c, &b->type, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_ESTIMATED_DATA_SIZE:
			rc = get_opt_u32(c, &b->has_estimated_data_size, &b->estimated_data_size, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_TRUNCATED:
			rc = get_bool(c, NULL, &b->truncated, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_DATA:
			b->has_data = 1;
			b->data = c->text;
			b->data_len = c->text_len;
			break;
		case EAS_TAG_AIRSYNCBASE_PREVIEW:
			b->preview = c->text;
			break;
		case EAS_TAG_AIRSYNCBASE_STATUS:
			rc = get_opt_u32(c, &b->has_status, &b->status, err, err_size);
			break;
		default:
			break;
		}
	}
	return rc;
}

static int decode_attachment(const eas_node *n, eas_email_attachment *a, char *err, size_t err_size)
{
	int rc = 0;
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		switch (c->tag) {
		case EAS_TAG_AIRSYNCBASE_DISPLAY_NAME:
		case EAS_TAG_EMAIL_DISPLAY_NAME:
			a->display_name = c->text;
			break;
		case EAS_TAG_AIRSYNCBASE_FILE_REFERENCE:
		case EAS_TAG_EMAIL_ATT_NAME:
			a->file_reference = c->text;
			break;
		case EAS_TAG_AIRSYNCBASE_METHOD:
		case EAS_TAG_EMAIL_ATT_METHOD:
			rc = get_u32(c, &a->method, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_ESTIMATED_DATA_SIZE:
		case EAS_TAG_EMAIL_ATT_SIZE:
			rc = get_opt_u32(c, &a->has_estimated_data_size, &a->estimated_data_size, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_CONTENT_ID:
		case EAS_TAG_EMAIL_ATT0_ID:
			a->content_id = c->text;
			break;
		case EAS_TAG_AIRSYNCBASE_CONTENT_LOCATION:
			a->content_location = c->text;
			break;
		case EAS_TAG_AIRSYNCBASE_IS_INLINE:
			rc = get_bool(c, NULL, &a->is_inline, err, err_size);
			break;
		case EAS_TAG_AIRSYNCBASE_CONTENT_TYPE:
			a->content_type = c->text;
			break;
		case EAS_TAG_EMAIL2_UM_ATT_DURATION:
			rc = get_opt_u32(c, &a->has_um_att_duration, &a->um_att_duration, err, err_size);
			break;
		case EAS_TAG_EMAIL2_UM_ATT_ORDER:
			rc = get_opt_u32(c, &a->has_um_att_order, &a->um_att_order, err, err_size);
			break;
		default:
			break;
		}
	}
	return rc;
}

static int decode_flag(const eas_node *n, eas_email_flag *f, char *err, size_t err_size)
{
	f->present = 1;
	int rc = 0;
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		switch (c->tag) {
		case EAS_TAG_EMAIL_STATUS:
			rc = get_opt_u32(c, &f->has_status, &f->status, err, err_size);
			break;
		case EAS_TAG_EMAIL_FLAG_TYPE: f->flag_type = c->text; break;
		case EAS_TAG_EMAIL_COMPLETE_TIME: f->complete_time = c->text; break;
		case EAS_TAG_TASKS_DATE_COMPLETED: f->date_completed = c->text; break;
		case EAS_TAG_TASKS_START_DATE: f->start_date = c->text; break;
		case EAS_TAG_TASKS_UTC_START_DATE: f->utc_start_date = c->text; break;
		case EAS_TAG_TASKS_DUE_DATE: f->due_date = c->text; break;
		case EAS_TAG_TASKS_UTC_DUE_DATE: f->utc_due_date = c->text; break;
		case EAS_TAG_TASKS_REMINDER_SET:
			rc = get_bool(c, &f->has_reminder_set, &f->reminder_set, err, err_size);
			break;
		case EAS_TAG_TASKS_REMINDER_TIME: f->reminder_time = c->text; break;
		case EAS_TAG_TASKS_ORDINAL_DATE: f->ordinal_date = c->text; break;
		case EAS_TAG_TASKS_SUB_ORDINAL_DATE: f->sub_ordinal_date = c->text; break;
		case EAS_TAG_TASKS_SUBJECT: f->subject = c->text; break;
		default: break;
		}
	}
	return rc;
}

static int decode_recurrence(const eas_node *n, eas_email_recurrence *r, char *err, size_t err_size)
{
	int rc = 0;
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		switch (c->tag) {
		case EAS_TAG_EMAIL_TYPE: rc = get_u32(c, &r->type, err, err_size); break;
		case EAS_TAG_EMAIL_INTERVAL: rc = get_u32(c, &r->interval, err, err_size); break;
		case EAS_TAG_EMAIL_UNTIL: r->until = c->text; break;
		case EAS_TAG_EMAIL_OCCURRENCES:
			rc = get_opt_u32(c, &r->has_occurrences, &r->occurrences, err, err_size);
			break;
		case EAS_TAG_EMAIL_WEEK_OF_MONTH:
			rc = get_opt_u32(c, &r->has_week_of_month, &r->week_of_month, err, err_size);
			break;
		case EAS_TAG_EMAIL_DAY_OF_MONTH:
			rc = get_opt_u32(c, &r->has_day_of_month, &r->day_of_month, err, err_size);
			break;
		case EAS_TAG_EMAIL_DAY_OF_WEEK:
			rc = get_opt_u32(c, &r->has_day_of_week, &r->day_of_week, err, err_size);
			break;
		case EAS_TAG_EMAIL_MONTH_OF_YEAR:
			rc = get_opt_u32(c, &r->has_month_of_year, &r->month_of_year, err, err_size);
			break;
		case EAS_TAG_EMAIL2_CALENDAR_TYPE:
			rc = get_opt_u32(c, &r->has_calendar_type, &r->calendar_type, err, err_size);
			break;
		case EAS_TAG_EMAIL2_IS_LEAP_MONTH:
			rc = get_bool(c, &r->has_is_leap_month, &r->is_leap_month, err, err_size);
			break;
		case EAS_TAG_EMAIL2_FIRST_DAY_OF_WEEK:
			rc = get_opt_u32(c, &r->has_first_day_of_week, &r->first_day_of_week, err, err_size);
			break;
		default: break;
		}
	}
	return rc;
}

static int decode_meeting(const eas_node *n, eas_email_meeting_request *m, char *err, size_t err_size)
{
	m->present = 1;
	int rc = 0;
	for (const eas_node *c = n->first; rc == 0 && c; c = c->next) {
		switch (c->tag) {
		case EAS_TAG_EMAIL_ALL_DAY_EVENT:
			rc = get_bool(c, &m->has_all_day_event, &m->all_day_event, err, err_size);
			break;
		case EAS_TAG_EMAIL_START_TIME: m->start_time = c->text; break;
		case EAS_TAG_EMAIL_END_TIME: m->end_time = c->text; break;
		case EAS_TAG_EMAIL_DT_STAMP: m->dt_stamp = c->text; break;
		case EAS_TAG_EMAIL_INSTANCE_TYPE:
			rc = get_opt_u32(c, &m->has_instance_type, &m->instance_type, err, err_size);
			break;
		case EAS_TAG_EMAIL_LOCATION: m->location = c->text; break;
		case EAS_TAG_AIRSYNCBASE_LOCATION:
			m->location = eas_node_child_text(c, EAS_TAG_AIRSYNCBASE_DISPLAY_NAME);
			break;
		case EAS_TAG_EMAIL_ORGANIZER: m->organizer = c->text; break;
		case EAS_TAG_EMAIL_RECURRENCE_ID: m->recurrence_id = c->text; break;
		case EAS_TAG_EMAIL_REMINDER:
			rc = get_opt_u32(c, &m->has_reminder, &m->reminder, err, err_size);
			break;
		case EAS_TAG_EMAIL_RESPONSE_REQUESTED:
			rc = get_bool(c, &m->has_response_requested, &m->response_requested, err, err_size);
			break;
		case EAS_TAG_EMAIL_RECURRENCES:
			for (const eas_node *r = c->first; rc == 0 && r; r = r->next) {
				if (r->tag != EAS_TAG_EMAIL_RECURRENCE)
					continue;
				if (m->recurrence_count++ == 0) {
					m->has_recurrence = 1;
					rc = decode_recurrence(r, &m->recurrence, err, err_size);
				}
			}
			break;
		case EAS_TAG_EMAIL_SENSITIVITY:
			rc = get_opt_u32(c, &m->has_sensitivity, &m->sensitivity, err, err_size);
			break;
		case EAS_TAG_EMAIL_BUSY_STATUS:
			rc = get_opt_u32(c, &m->has_busy_status, &m->busy_status, err, err_size);
			break;
		case EAS_TAG_EMAIL_TIME_ZONE: m->time_zone = c->text; break;
		case EAS_TAG_EMAIL_GLOBAL_OBJ_ID: m->global_obj_id = c->text; break;
		case EAS_TAG_CALENDAR_UID: m->uid = c->text; break;
		case EAS_TAG_EMAIL_DISALLOW_NEW_TIME_PROPOSAL:
			rc = get_bool(c, &m->has_disallow_new_time_proposal, &m->disallow_new_time_proposal, err,
				      err_size);
			break;
		case EAS_TAG_EMAIL2_MEETING_MESSAGE_TYPE:
			rc = get_opt_u32(c, &m->has_meeting_message_type, &m->meeting_message_type, err, err_size);
			break;
		default: break;
		}
	}
	return rc;
}

static int is_attachment(eas_tag tag)
{
	return tag == EAS_TAG_AIRSYNCBASE_ATTACHMENT || tag == EAS_TAG_EMAIL_ATTACHMENT;
}

/* One child of ApplicationData; arrays are filled by the caller. */
static int decode_child(eas_email *e, const eas_node *c, char *err, size_t err_size)
{
	switch (c->tag) {
	case EAS_TAG_EMAIL_TO: e->to = c->text; return 0;
	case EAS_TAG_EMAIL_CC: e->cc = c->text; return 0;
	case EAS_TAG_EMAIL_FROM: e->from = c->text; return 0;
	case EAS_TAG_EMAIL_REPLY_TO: e->reply_to = c->text; return 0;
	case EAS_TAG_EMAIL_SUBJECT: e->subject = c->text; return 0;
	case EAS_TAG_EMAIL_DATE_RECEIVED: e->date_received = c->text; return 0;
	case EAS_TAG_EMAIL_DISPLAY_TO: e->display_to = c->text; return 0;
	case EAS_TAG_EMAIL_THREAD_TOPIC: e->thread_topic = c->text; return 0;
	case EAS_TAG_EMAIL_IMPORTANCE: return get_opt_u32(c, &e->has_importance, &e->importance, err, err_size);
	case EAS_TAG_EMAIL_READ: return get_bool(c, &e->has_read, &e->read, err, err_size);
	case EAS_TAG_EMAIL_MESSAGE_CLASS: e->message_class = c->text; return 0;
	case EAS_TAG_EMAIL_INTERNET_CPID: e->internet_cpid = c->text; return 0;
	case EAS_TAG_EMAIL_CONTENT_CLASS: e->content_class = c->text; return 0;
	case EAS_TAG_EMAIL_CATEGORIES: e->has_categories = 1; return 0;
	case EAS_TAG_EMAIL_FLAG: return decode_flag(c, &e->flag, err, err_size);
	case EAS_TAG_EMAIL_MEETING_REQUEST: return decode_meeting(c, &e->meeting_request, err, err_size);
	case EAS_TAG_EMAIL2_UM_CALLER_ID: e->um_caller_id = c->text; return 0;
	case EAS_TAG_EMAIL2_UM_USER_NOTES: e->um_user_notes = c->text; return 0;
	case EAS_TAG_EMAIL2_CONVERSATION_ID:
		e->conversation_id = (const uint8_t *)c->text;
		e->conversation_id_len = c->text_len;
		return 0;
	case EAS_TAG_EMAIL2_CONVERSATION_INDEX:
		e->conversation_index = (const uint8_t *)c->text;
		e->conversation_index_len = c->text_len;
		return 0;
	case EAS_TAG_EMAIL2_LAST_VERB_EXECUTED:
		return get_opt_u32(c, &e->has_last_verb_executed, &e->last_verb_executed, err, err_size);
	case EAS_TAG_EMAIL2_LAST_VERB_EXECUTION_TIME: e->last_verb_execution_time = c->text; return 0;
	case EAS_TAG_EMAIL2_RECEIVED_AS_BCC: return get_bool(c, &e->has_received_as_bcc, &e->received_as_bcc, err, err_size);
	case EAS_TAG_EMAIL2_SENDER: e->sender = c->text; return 0;
	case EAS_TAG_EMAIL2_ACCOUNT_ID: e->account_id = c->text; return 0;
	case EAS_TAG_EMAIL2_IS_DRAFT: return get_bool(c, &e->has_is_draft, &e->is_draft, err, err_size);
	case EAS_TAG_EMAIL2_BCC: e->bcc = c->text; return 0;
	case EAS_TAG_AIRSYNCBASE_BODY: return decode_body(c, &e->body, err, err_size);
	case EAS_TAG_AIRSYNCBASE_BODY_PART: return decode_body(c, &e->body_part, err, err_size);
	case EAS_TAG_AIRSYNCBASE_NATIVE_BODY_TYPE:
		return get_opt_u32(c, &e->has_native_body_type, &e->native_body_type, err, err_size);
	case EAS_TAG_AIRSYNCBASE_ATTACHMENTS:
	case EAS_TAG_EMAIL_ATTACHMENTS:
		return 0;
	case EAS_TAG_EMAIL_BODY:
		e->legacy.body = c->text;
		e->legacy.body_len = c->text_len;
		return 0;
	case EAS_TAG_EMAIL_BODY_SIZE:
		return get_opt_u32(c, &e->legacy.has_body_size, &e->legacy.body_size, err, err_size);
	case EAS_TAG_EMAIL_BODY_TRUNCATED: return get_bool(c, NULL, &e->legacy.body_truncated, err, err_size);
	case EAS_TAG_EMAIL_MIME_DATA:
		e->legacy.mime_data = c->text;
		e->legacy.mime_data_len = c->text_len;
		return 0;
	case EAS_TAG_EMAIL_MIME_SIZE:
		return get_opt_u32(c, &e->legacy.has_mime_size, &e->legacy.mime_size, err, err_size);
	case EAS_TAG_EMAIL_MIME_TRUNCATED: return get_bool(c, NULL, &e->legacy.mime_truncated, err, err_size);
	default:
		e->unknown++; /* RightsManagementLicense, newer elements: left in the item's document */
		return 0;
	}
}

static int decode_into(eas_email *out, const eas_node *root, const eas_mem *mem, eas_tree *tree, char *err,
		       size_t err_size)
{
	size_t ncat = 0, natt = 0;
	for (const eas_node *c = root->first; c; c = c->next) {
		if (c->tag == EAS_TAG_EMAIL_CATEGORIES)
			ncat += eas_node_count(c, EAS_TAG_EMAIL_CATEGORY);
		else if (c->tag == EAS_TAG_AIRSYNCBASE_ATTACHMENTS || c->tag == EAS_TAG_EMAIL_ATTACHMENTS)
			for (const eas_node *a = c->first; a; a = a->next)
				natt += is_attachment(a->tag);
	}
	eas_mem m;
	eas__mem_init(&m, mem);
	size_t head = (sizeof(email_owner) + sizeof(void *) - 1) / sizeof(void *) * sizeof(void *);
	size_t cat_bytes = ncat * sizeof(const char *);
	size_t att_off = (head + cat_bytes + 15) & ~(size_t)15;
	if (natt > ((size_t)-1 - att_off) / sizeof(eas_email_attachment)) {
		eas_tree_free(tree);
		return EAS_E_LIMIT;
	}
	email_owner *own = eas__calloc(&m, 1, att_off + natt * sizeof(eas_email_attachment));
	if (!own) {
		eas_tree_free(tree);
		if (err && err_size)
			snprintf(err, err_size, "out of memory");
		return EAS_E_NOMEM;
	}
	own->mem = m;
	own->tree = tree;
	out->owner_ = own;
	const char **cats = (const char **)(void *)((char *)own + head);
	eas_email_attachment *atts = (eas_email_attachment *)(void *)((char *)own + att_off);
	out->categories = ncat ? cats : NULL;
	out->attachments = natt ? atts : NULL;

	int rc = 0;
	for (const eas_node *c = root->first; rc == 0 && c; c = c->next) {
		rc = decode_child(out, c, err, err_size);
		if (c->tag == EAS_TAG_EMAIL_CATEGORIES) {
			for (const eas_node *k = c->first; k; k = k->next)
				if (k->tag == EAS_TAG_EMAIL_CATEGORY)
					cats[out->category_count++] = k->text;
		} else if (rc == 0 && (c->tag == EAS_TAG_AIRSYNCBASE_ATTACHMENTS || c->tag == EAS_TAG_EMAIL_ATTACHMENTS)) {
			for (const eas_node *a = c->first; rc == 0 && a; a = a->next)
				if (is_attachment(a->tag))
					rc = decode_attachment(a, &atts[out->attachment_count++], err, err_size);
		}
	}
	if (rc)
		eas_email_clear(out);
	return rc;
}

int eas__email_decode_node(eas_email *out, const eas_node *app_data, const eas_mem *mem, char *err,
			   size_t err_size)
{
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (!app_data)
		return EAS_E_INVALID;
	return decode_into(out, app_data, mem, NULL, err, err_size);
}

int eas_email_decode(eas_email *out, const uint8_t *wbxml, size_t len, const eas_mem *mem, char *err,
		     size_t err_size)
{
	if (!out)
		return EAS_E_INVALID;
	memset(out, 0, sizeof *out);
	if (!wbxml && len)
		return EAS_E_INVALID;
	/* Nodes cost more than their bytes: allow a generous multiple, with a floor. */
	size_t max = len < ((size_t)64 << 20) ? ((size_t)1 << 20) + 8 * len : (size_t)512 << 20;
	eas_tree *tree = NULL;
	int rc = eas_tree_parse(&tree, wbxml, len, max, mem, err, err_size);
	if (rc)
		return rc;
	const eas_node *root = eas_tree_root(tree);
	if (root->tag != EAS_TAG_AIRSYNC_APPLICATION_DATA) {
		char name[64];
		if (err && err_size)
			snprintf(err, err_size, "root element is %s, expected AirSync:ApplicationData",
				 label(root->tag, name, sizeof name));
		eas_tree_free(tree);
		return EAS_E_INVALID;
	}
	return decode_into(out, root, mem, tree, err, err_size);
}

void eas_email_clear(eas_email *e)
{
	if (!e)
		return;
	email_owner *own = e->owner_;
	if (own) {
		eas_mem m = own->mem;
		eas_tree_free(own->tree);
		eas__free(&m, own);
	}
	memset(e, 0, sizeof *e);
}

/* ---- encoding ----------------------------------------------------------------------- */

typedef struct writer {
	eas_wbxml_encoder *enc;
	unsigned version;
	int rc;              /* sticky */
} writer;

static int allowed(const writer *w, eas_tag tag)
{
	return (eas_tag_versions(EAS_TAG_PAGE(tag), EAS_TAG_TOKEN(tag)) & w->version) != 0;
}

static void set_rc(writer *w, int rc)
{
	if (!w->rc)
		w->rc = rc;
}

/* Opens tag when the version has it; 1 if opened. */
static int w_start(writer *w, eas_tag tag)
{
	if (w->rc || !allowed(w, tag))
		return 0;
	set_rc(w, eas_wbxml_encoder_start(w->enc, tag));
	return w->rc == 0;
}

static void w_end(writer *w)
{
	if (!w->rc)
		set_rc(w, eas_wbxml_encoder_end(w->enc));
}

static void w_empty(writer *w, eas_tag tag)
{
	if (!w->rc && allowed(w, tag))
		set_rc(w, eas_wbxml_encoder_empty(w->enc, tag));
}

static void w_text(writer *w, eas_tag tag, const char *text, size_t len)
{
	if (w_start(w, tag)) {
		set_rc(w, eas_wbxml_encoder_string(w->enc, text, len));
		w_end(w);
	}
}

static void w_str(writer *w, eas_tag tag, const char *text)
{
	if (text)
		w_text(w, tag, text, strlen(text));
}

static void w_opaque(writer *w, eas_tag tag, const uint8_t *bytes, size_t len)
{
	if (bytes && w_start(w, tag)) {
		set_rc(w, eas_wbxml_encoder_opaque(w->enc, bytes, len));
		w_end(w);
	}
}

static void w_u32(writer *w, eas_tag tag, int has, uint32_t value)
{
	if (!has)
		return;
	char text[16];
	snprintf(text, sizeof text, "%lu", (unsigned long)value);
	w_str(w, tag, text);
}

static void w_bool(writer *w, eas_tag tag, int has, int value)
{
	if (has)
		w_str(w, tag, value ? "1" : "0");
}

static void w_body(writer *w, eas_tag tag, const eas_email_body *b)
{
	if (!b->present || !w_start(w, tag))
		return;
	if (tag == EAS_TAG_AIRSYNCBASE_BODY_PART)
		w_u32(w, EAS_TAG_AIRSYNCBASE_STATUS, b->has_status, b->status);
	w_u32(w, EAS_TAG_AIRSYNCBASE_TYPE, 1, b->type);
	w_u32(w, EAS_TAG_AIRSYNCBASE_ESTIMATED_DATA_SIZE, b->has_estimated_data_size, b->estimated_data_size);
	if (b->truncated)
		w_bool(w, EAS_TAG_AIRSYNCBASE_TRUNCATED, 1, 1);
	if (b->write_data) {
		if (w_start(w, EAS_TAG_AIRSYNCBASE_DATA)) {
			set_rc(w, b->write_data(w->enc, b->write_data_arg));
			w_end(w);
		}
	} else if (b->has_data || b->data) {
		w_text(w, EAS_TAG_AIRSYNCBASE_DATA, b->data ? b->data : "", b->data ? b->data_len : 0);
	}
	w_str(w, EAS_TAG_AIRSYNCBASE_PREVIEW, b->preview);
	w_end(w);
}

static void w_legacy_body(writer *w, const eas_email *e)
{
	const eas_email_legacy *l = &e->legacy;
	if (l->body) {
		w_text(w, EAS_TAG_EMAIL_BODY, l->body, l->body_len);
		w_u32(w, EAS_TAG_EMAIL_BODY_SIZE, l->has_body_size, l->body_size);
		if (l->body_truncated)
			w_bool(w, EAS_TAG_EMAIL_BODY_TRUNCATED, 1, 1);
	} else if (e->body.present && e->body.data && e->body.type != EAS_BODY_TYPE_MIME) {
		/* 2.5 has no Body container: the text goes in email:Body. */
		w_text(w, EAS_TAG_EMAIL_BODY, e->body.data, e->body.data_len);
		w_u32(w, EAS_TAG_EMAIL_BODY_SIZE, e->body.has_estimated_data_size, e->body.estimated_data_size);
		if (e->body.truncated)
			w_bool(w, EAS_TAG_EMAIL_BODY_TRUNCATED, 1, 1);
	}
	if (l->mime_data) {
		w_text(w, EAS_TAG_EMAIL_MIME_DATA, l->mime_data, l->mime_data_len);
		w_u32(w, EAS_TAG_EMAIL_MIME_SIZE, l->has_mime_size, l->mime_size);
		if (l->mime_truncated)
			w_bool(w, EAS_TAG_EMAIL_MIME_TRUNCATED, 1, 1);
	}
}

static void w_attachments(writer *w, const eas_email *e)
{
	if (!e->attachment_count || w->rc)
		return;
	if (!e->attachments) {
		set_rc(w, EAS_E_INVALID);
		return;
	}
	int v25 = w->version == EAS_PROTO_2_5;
	if (!w_start(w, v25 ? EAS_TAG_EMAIL_ATTACHMENTS : EAS_TAG_AIRSYNCBASE_ATTACHMENTS))
		return;
	for (size_t i = 0; i < e->attachment_count && !w->rc; i++) {
		const eas_email_attachment *a = &e->attachments[i];
		if (!a->file_reference) {
			set_rc(w, EAS_E_INVALID);
			break;
		}
		if (v25) {
			w_start(w, EAS_TAG_EMAIL_ATTACHMENT);
			w_u32(w, EAS_TAG_EMAIL_ATT_METHOD, 1, a->method);
			w_u32(w, EAS_TAG_EMAIL_ATT_SIZE, a->has_estimated_data_size, a->estimated_data_size);
			w_str(w, EAS_TAG_EMAIL_DISPLAY_NAME, a->display_name);
			w_str(w, EAS_TAG_EMAIL_ATT_NAME, a->file_reference);
			w_str(w, EAS_TAG_EMAIL_ATT0_ID, a->content_id);
			w_end(w);
			continue;
		}
		w_start(w, EAS_TAG_AIRSYNCBASE_ATTACHMENT);
		w_str(w, EAS_TAG_AIRSYNCBASE_DISPLAY_NAME, a->display_name);
		w_str(w, EAS_TAG_AIRSYNCBASE_FILE_REFERENCE, a->file_reference);
		w_u32(w, EAS_TAG_AIRSYNCBASE_METHOD, 1, a->method);
		w_u32(w, EAS_TAG_AIRSYNCBASE_ESTIMATED_DATA_SIZE, a->has_estimated_data_size, a->estimated_data_size);
		w_str(w, EAS_TAG_AIRSYNCBASE_CONTENT_ID, a->content_id);
		w_str(w, EAS_TAG_AIRSYNCBASE_CONTENT_LOCATION, a->content_location);
		if (a->is_inline)
			w_bool(w, EAS_TAG_AIRSYNCBASE_IS_INLINE, 1, 1);
		w_str(w, EAS_TAG_AIRSYNCBASE_CONTENT_TYPE, a->content_type);
		w_u32(w, EAS_TAG_EMAIL2_UM_ATT_DURATION, a->has_um_att_duration, a->um_att_duration);
		w_u32(w, EAS_TAG_EMAIL2_UM_ATT_ORDER, a->has_um_att_order, a->um_att_order);
		w_end(w);
	}
	w_end(w);
}

static void w_flag(writer *w, const eas_email_flag *f)
{
	if (!f->present)
		return;
	int any = f->has_status || f->flag_type || f->complete_time || f->date_completed || f->start_date ||
		  f->utc_start_date || f->due_date || f->utc_due_date || f->has_reminder_set || f->reminder_time ||
		  f->ordinal_date || f->sub_ordinal_date || f->subject;
	if (!any) {
		w_empty(w, EAS_TAG_EMAIL_FLAG); /* clears the flag */
		return;
	}
	if (!w_start(w, EAS_TAG_EMAIL_FLAG))
		return;
	w_u32(w, EAS_TAG_EMAIL_STATUS, f->has_status, f->status);
	w_str(w, EAS_TAG_EMAIL_FLAG_TYPE, f->flag_type);
	w_str(w, EAS_TAG_TASKS_START_DATE, f->start_date);
	w_str(w, EAS_TAG_TASKS_UTC_START_DATE, f->utc_start_date);
	w_str(w, EAS_TAG_TASKS_DUE_DATE, f->due_date);
	w_str(w, EAS_TAG_TASKS_UTC_DUE_DATE, f->utc_due_date);
	w_bool(w, EAS_TAG_TASKS_REMINDER_SET, f->has_reminder_set, f->reminder_set);
	w_str(w, EAS_TAG_TASKS_REMINDER_TIME, f->reminder_time);
	w_str(w, EAS_TAG_TASKS_SUBJECT, f->subject);
	w_str(w, EAS_TAG_TASKS_ORDINAL_DATE, f->ordinal_date);
	w_str(w, EAS_TAG_TASKS_SUB_ORDINAL_DATE, f->sub_ordinal_date);
	w_str(w, EAS_TAG_EMAIL_COMPLETE_TIME, f->complete_time);
	w_str(w, EAS_TAG_TASKS_DATE_COMPLETED, f->date_completed);
	w_end(w);
}

static void w_categories(writer *w, const eas_email *e)
{
	if (!e->has_categories || w->rc)
		return;
	if (e->category_count && !e->categories) {
		set_rc(w, EAS_E_INVALID);
		return;
	}
	if (e->category_count == 0) {
		w_empty(w, EAS_TAG_EMAIL_CATEGORIES); /* no categories (a Change clears them) */
		return;
	}
	if (!w_start(w, EAS_TAG_EMAIL_CATEGORIES))
		return;
	for (size_t i = 0; i < e->category_count && !w->rc; i++) {
		if (!e->categories[i])
			set_rc(w, EAS_E_INVALID);
		else
			w_str(w, EAS_TAG_EMAIL_CATEGORY, e->categories[i]);
	}
	w_end(w);
}

static void w_recurrence(writer *w, const eas_email_recurrence *r)
{
	if (!w_start(w, EAS_TAG_EMAIL_RECURRENCES))
		return;
	w_start(w, EAS_TAG_EMAIL_RECURRENCE);
	w_u32(w, EAS_TAG_EMAIL_TYPE, 1, r->type);
	w_u32(w, EAS_TAG_EMAIL_INTERVAL, 1, r->interval);
	w_str(w, EAS_TAG_EMAIL_UNTIL, r->until);
	w_u32(w, EAS_TAG_EMAIL_OCCURRENCES, r->has_occurrences, r->occurrences);
	w_u32(w, EAS_TAG_EMAIL_WEEK_OF_MONTH, r->has_week_of_month, r->week_of_month);
	w_u32(w, EAS_TAG_EMAIL_DAY_OF_MONTH, r->has_day_of_month, r->day_of_month);
	w_u32(w, EAS_TAG_EMAIL_DAY_OF_WEEK, r->has_day_of_week, r->day_of_week);
	w_u32(w, EAS_TAG_EMAIL_MONTH_OF_YEAR, r->has_month_of_year, r->month_of_year);
	w_u32(w, EAS_TAG_EMAIL2_CALENDAR_TYPE, r->has_calendar_type, r->calendar_type);
	w_bool(w, EAS_TAG_EMAIL2_IS_LEAP_MONTH, r->has_is_leap_month, r->is_leap_month);
	w_u32(w, EAS_TAG_EMAIL2_FIRST_DAY_OF_WEEK, r->has_first_day_of_week, r->first_day_of_week);
	w_end(w);
	w_end(w);
}

static void w_meeting(writer *w, const eas_email_meeting_request *m)
{
	if (!m->present || !w_start(w, EAS_TAG_EMAIL_MEETING_REQUEST))
		return;
	w_bool(w, EAS_TAG_EMAIL_ALL_DAY_EVENT, m->has_all_day_event, m->all_day_event);
	w_str(w, EAS_TAG_EMAIL_START_TIME, m->start_time);
	w_str(w, EAS_TAG_EMAIL_DT_STAMP, m->dt_stamp);
	w_str(w, EAS_TAG_EMAIL_END_TIME, m->end_time);
	w_u32(w, EAS_TAG_EMAIL_INSTANCE_TYPE, m->has_instance_type, m->instance_type);
	if (m->location) {
		if (allowed(w, EAS_TAG_EMAIL_LOCATION)) {
			w_str(w, EAS_TAG_EMAIL_LOCATION, m->location);
		} else if (w_start(w, EAS_TAG_AIRSYNCBASE_LOCATION)) { /* 16.x */
			w_str(w, EAS_TAG_AIRSYNCBASE_DISPLAY_NAME, m->location);
			w_end(w);
		}
	}
	w_str(w, EAS_TAG_EMAIL_ORGANIZER, m->organizer);
	w_str(w, EAS_TAG_EMAIL_RECURRENCE_ID, m->recurrence_id);
	w_u32(w, EAS_TAG_EMAIL_REMINDER, m->has_reminder, m->reminder);
	w_bool(w, EAS_TAG_EMAIL_RESPONSE_REQUESTED, m->has_response_requested, m->response_requested);
	if (m->has_recurrence)
		w_recurrence(w, &m->recurrence);
	w_u32(w, EAS_TAG_EMAIL_SENSITIVITY, m->has_sensitivity, m->sensitivity);
	w_u32(w, EAS_TAG_EMAIL_BUSY_STATUS, m->has_busy_status, m->busy_status);
	w_str(w, EAS_TAG_EMAIL_TIME_ZONE, m->time_zone);
	w_str(w, EAS_TAG_EMAIL_GLOBAL_OBJ_ID, m->global_obj_id);
	if (!allowed(w, EAS_TAG_EMAIL_GLOBAL_OBJ_ID))
		w_str(w, EAS_TAG_CALENDAR_UID, m->uid);
	w_bool(w, EAS_TAG_EMAIL_DISALLOW_NEW_TIME_PROPOSAL, m->has_disallow_new_time_proposal,
	       m->disallow_new_time_proposal);
	w_u32(w, EAS_TAG_EMAIL2_MEETING_MESSAGE_TYPE, m->has_meeting_message_type, m->meeting_message_type);
	w_end(w);
}

static int check_args(eas_wbxml_encoder *enc, const eas_email *e, unsigned version)
{
	if (!enc || !e || version == 0 || (version & ~EAS_PROTO_ALL))
		return EAS_E_INVALID;
	return 0;
}

int eas_email_encode(eas_wbxml_encoder *enc, const eas_email *e, unsigned version)
{
	int rc = check_args(enc, e, version);
	if (rc)
		return rc;
	writer w = { enc, version, 0 };
	w_str(&w, EAS_TAG_EMAIL_TO, e->to);
	w_str(&w, EAS_TAG_EMAIL_CC, e->cc);
	w_str(&w, EAS_TAG_EMAIL_FROM, e->from);
	w_str(&w, EAS_TAG_EMAIL_SUBJECT, e->subject);
	w_str(&w, EAS_TAG_EMAIL_REPLY_TO, e->reply_to);
	w_str(&w, EAS_TAG_EMAIL_DATE_RECEIVED, e->date_received);
	w_str(&w, EAS_TAG_EMAIL_DISPLAY_TO, e->display_to);
	w_str(&w, EAS_TAG_EMAIL_THREAD_TOPIC, e->thread_topic);
	w_u32(&w, EAS_TAG_EMAIL_IMPORTANCE, e->has_importance, e->importance);
	w_bool(&w, EAS_TAG_EMAIL_READ, e->has_read, e->read);
	w_attachments(&w, e);
	if (version == EAS_PROTO_2_5)
		w_legacy_body(&w, e);
	else
		w_body(&w, EAS_TAG_AIRSYNCBASE_BODY, &e->body);
	w_body(&w, EAS_TAG_AIRSYNCBASE_BODY_PART, &e->body_part);
	w_str(&w, EAS_TAG_EMAIL_MESSAGE_CLASS, e->message_class);
	w_meeting(&w, &e->meeting_request);
	w_str(&w, EAS_TAG_EMAIL_INTERNET_CPID, e->internet_cpid);
	w_flag(&w, &e->flag);
	w_str(&w, EAS_TAG_EMAIL_CONTENT_CLASS, e->content_class);
	w_u32(&w, EAS_TAG_AIRSYNCBASE_NATIVE_BODY_TYPE, e->has_native_body_type, e->native_body_type);
	w_str(&w, EAS_TAG_EMAIL2_UM_CALLER_ID, e->um_caller_id);
	w_str(&w, EAS_TAG_EMAIL2_UM_USER_NOTES, e->um_user_notes);
	w_opaque(&w, EAS_TAG_EMAIL2_CONVERSATION_ID, e->conversation_id, e->conversation_id_len);
	w_opaque(&w, EAS_TAG_EMAIL2_CONVERSATION_INDEX, e->conversation_index, e->conversation_index_len);
	w_u32(&w, EAS_TAG_EMAIL2_LAST_VERB_EXECUTED, e->has_last_verb_executed, e->last_verb_executed);
	w_str(&w, EAS_TAG_EMAIL2_LAST_VERB_EXECUTION_TIME, e->last_verb_execution_time);
	w_bool(&w, EAS_TAG_EMAIL2_RECEIVED_AS_BCC, e->has_received_as_bcc, e->received_as_bcc);
	w_str(&w, EAS_TAG_EMAIL2_SENDER, e->sender);
	w_str(&w, EAS_TAG_EMAIL2_ACCOUNT_ID, e->account_id);
	w_bool(&w, EAS_TAG_EMAIL2_IS_DRAFT, e->has_is_draft, e->is_draft);
	w_str(&w, EAS_TAG_EMAIL2_BCC, e->bcc);
	w_categories(&w, e);
	return w.rc;
}

int eas_email_encode_change(eas_wbxml_encoder *enc, const eas_email *e, unsigned version)
{
	int rc = check_args(enc, e, version);
	if (rc)
		return rc;
	writer w = { enc, version, 0 };
	w_bool(&w, EAS_TAG_EMAIL_READ, e->has_read, e->read);
	w_flag(&w, &e->flag);
	w_categories(&w, e);
	return w.rc;
}
